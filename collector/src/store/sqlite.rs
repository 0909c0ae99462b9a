//! SQLite: one file in WAL mode, one writer thread doing group commits, and a few
//! read-only connections for queries.
//!
//! Durability: `synchronous = FULL`. In WAL mode `NORMAL` would survive a crash of the
//! collector (the WAL is in the OS's page cache) but not of the machine: its commits
//! are not fsynced. A 2xx promises the batch is durable, so every commit is fsynced;
//! group commit makes that one fsync per group rather than per request, which is why the
//! stronger setting costs little under load.
//!
//! Checkpoints (copying the WAL into the database file, with its own fsync) run on a
//! thread of their own every second, never in the writer: SQLite's automatic checkpoint
//! would run inside whichever commit crosses its threshold, and every batch waiting on
//! that commit would wait for the checkpoint too (the tail of the ingest latency).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Semaphore, mpsc};

use super::apply::Tx;
use super::apply::ViewCache;
use super::value::{Rows, Value, sqlite_placeholders};
use super::writer::{self, Job};
use super::{MIGRATIONS, StoreError};
use crate::metrics::Metrics;

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn read_value(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;")?;
    if !flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY) {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Migration(format!(
                "{} cannot use WAL (journal mode {mode})",
                path.display()
            )));
        }
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
    }
    Ok(conn)
}

fn query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Rows, StoreError> {
    let mut statement = conn.prepare_cached(&sqlite_placeholders(sql))?;
    let columns: Arc<[String]> = statement.column_names().map(str::to_string).collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = statement.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = cursor.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(read_value(row.get_ref(i)?));
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

/// The writer's connection.
struct Writer {
    conn: Connection,
}

impl Tx for Writer {
    async fn begin(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    async fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut statement = self.conn.prepare_cached(&sqlite_placeholders(sql))?;
        Ok(statement.execute(rusqlite::params_from_iter(params))? as u64)
    }

    async fn query_many(
        &mut self,
        sql: &str,
        params: &[Vec<Value>],
    ) -> Result<Vec<Vec<Vec<Value>>>, StoreError> {
        if params.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(&sqlite_placeholders(sql))?;
        let width = statement.column_count();
        let mut all = Vec::with_capacity(params.len());
        for values in params {
            let mut rows = Vec::new();
            let mut cursor = statement.query(rusqlite::params_from_iter(values))?;
            while let Some(row) = cursor.next()? {
                let mut out = Vec::with_capacity(width);
                for i in 0..width {
                    out.push(read_value(row.get_ref(i)?));
                }
                rows.push(out);
            }
            all.push(rows);
        }
        Ok(all)
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        Ok(query(&self.conn, sql, params)?.rows)
    }
}

/// Read-only connections for queries.
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    path: PathBuf,
}

impl Readers {
    pub(crate) async fn query(
        self: &Arc<Self>,
        sql: &str,
        params: &[Value],
    ) -> Result<Rows, StoreError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let readers = Arc::clone(self);
        let (sql, params) = (sql.to_string(), params.to_vec());
        tokio::task::spawn_blocking(move || {
            let conn = match readers.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
                Some(conn) => conn,
                None => open(&readers.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?,
            };
            let result = query(&conn, &sql, &params);
            readers
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

/// Opens (creating it if needed) the database file, applies migrations, starts the
/// writer thread; returns the readers.
pub(crate) fn start(
    path: &Path,
    queue: mpsc::Receiver<Job>,
    metrics: Arc<Metrics>,
    readers: usize,
) -> Result<Arc<Readers>, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let conn = open(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )?;
    migrate(&conn)?;
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
    let checkpointer = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || write_loop(Writer { conn }, queue, metrics))?;
    let readers = Arc::new(Readers {
        idle: Mutex::new(Vec::new()),
        permits: Semaphore::new(readers.max(1)),
        path: path.to_path_buf(),
    });
    let weak = Arc::downgrade(&readers);
    std::thread::Builder::new()
        .name("store-checkpoint".into())
        .spawn(move || checkpoint_loop(&checkpointer, &weak))?;
    Ok(readers)
}

/// How often the checkpoint thread copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints every [`CHECKPOINT_EVERY`] while the store is open (its readers alive),
/// and once more when it closes. `PASSIVE`: never waits for the writer or readers; what
/// it cannot copy now it copies next time.
fn checkpoint_loop(conn: &Connection, store: &std::sync::Weak<Readers>) {
    let checkpoint = || {
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(%error, "WAL checkpoint failed");
        }
    };
    while store.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        checkpoint();
    }
    checkpoint();
}

fn write_loop(mut writer: Writer, mut queue: mpsc::Receiver<Job>, metrics: Arc<Metrics>) {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "the store's writer cannot start");
            return;
        }
    };
    let mut cache = ViewCache::default();
    while let Some(first) = queue.blocking_recv() {
        let jobs = writer::drain(first, &mut queue);
        runtime.block_on(writer::run_group(&mut writer, &mut cache, jobs, &metrics));
    }
    tracing::debug!("store writer: queue closed");
}

/// Applies the migrations not applied yet, in one transaction.
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        conn.execute_batch(super::CREATE_MIGRATIONS_TABLE)?;
        for (version, name, sql) in MIGRATIONS {
            let applied: i64 = conn.query_row(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = ?1",
                [version],
                |row| row.get(0),
            )?;
            if applied == 0 {
                tracing::info!(version, name, "applying migration");
                conn.execute_batch(sql)?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?1, ?2, ?3)",
                    rusqlite::params![version, name, super::now_ms()],
                )?;
            }
        }
        conn.execute_batch("COMMIT")
    })();
    if let Err(error) = result {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(StoreError::Migration(error.to_string()));
    }
    Ok(())
}
