//! Storage of QoE beacons: SQLite by default (one file, WAL), PostgreSQL past one machine.
//!
//! One schema for both (`migrations/`, versioned, applied at start), the same SQL text
//! for both (written with PostgreSQL's `$1` placeholders; [`Value`] carries parameters
//! and results). Three levels of data:
//!
//! - `batches` and `events`: every acknowledged batch and its raw events, one row each,
//!   kept for `--retention-days` after the view's last batch;
//! - `views`: one row per view, its dimensions and its metrics so far ([`summary`]);
//! - `rollup_minute`: the views' metrics summed by minute and dimension (property, video,
//!   player, browser, OS), maintained on ingest, kept longer; `rollup_hour` and
//!   `rollup_day` the same by hour and by day for a few dimension sets, written in the
//!   same transaction, so queries over long periods read few rows ([`rollup`]).
//!
//! Writes go through a queue to one writer per store, which commits every batch waiting
//! in one transaction ([`writer`]'s group commit); [`Store::submit`] returns once the
//! batch's transaction is committed, i.e. durable. Reads ([`Store::query`]) use their own
//! connections. It is not a query API: that lives with the HTTP API.

mod apply;
mod postgres;
mod retention;
pub mod rollup;
mod sqlite;
pub mod summary;
pub mod value;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;

use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

pub use apply::{Incoming, Outcome};
pub use retention::{Retention, prune_once, spawn_retention};
pub use value::{Rows, Value};
use writer::Job;

use crate::metrics::Metrics;

/// The schema's versions: (version, name, SQL), applied in order.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (
        2,
        "coarse_rollups",
        concat!(
            include_str!("migrations/0002_coarse_rollups.sql"),
            include_str!("migrations/rollups_backfill.sql")
        ),
    ),
];

const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)";

/// What went wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("--db {0}: expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE")]
    Url(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL pool: {0}")]
    Pool(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("cannot encode a value: {0}")]
    Encode(String),
    #[error("the write queue is full")]
    Overloaded,
    #[error("the store is shut down")]
    Closed,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Whether trying the same transaction again may succeed (PostgreSQL aborted it under
    /// contention, or the connection dropped).
    pub fn is_transient(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            StoreError::Postgres(e) => {
                e.is_closed()
                    || e.code().is_some_and(|code| {
                        [
                            SqlState::T_R_DEADLOCK_DETECTED,
                            SqlState::T_R_SERIALIZATION_FAILURE,
                        ]
                        .contains(code)
                    })
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
            }
            _ => false,
        }
    }
}

/// Which database a store runs on (for the few queries that must differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Where the data lives, from `--db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `sqlite://PATH` (relative to the working directory; `sqlite:///abs/path`), a bare
    /// path, or `postgres://…` / `postgresql://…` (libpq's URL form).
    pub fn parse(url: &str) -> Result<Location, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(StoreError::Url(url.to_string()));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }
}

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most batches waiting for the writer; beyond, [`Store::submit`] fails at once.
    pub queue_capacity: usize,
    /// Connections for queries.
    pub readers: usize,
    /// Writer connections for PostgreSQL (SQLite has one writer, whatever this says).
    pub writers: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            queue_capacity: 20_000,
            readers: 4,
            writers: 2,
        }
    }
}

enum Readers {
    Sqlite(Arc<sqlite::Readers>),
    Postgres(postgres::Readers),
}

struct Inner {
    queue: mpsc::Sender<Job>,
    readers: Readers,
    kind: Kind,
}

/// A handle on the store; clones share it.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.inner.kind)
            .finish()
    }
}

impl Store {
    /// Opens (creating and migrating as needed) the store at `location` and starts its
    /// writer. Must run inside a Tokio runtime.
    pub async fn open(
        location: &Location,
        options: StoreOptions,
        metrics: Arc<Metrics>,
    ) -> Result<Store, StoreError> {
        let (queue, jobs) = mpsc::channel(options.queue_capacity.max(1));
        let (readers, kind) = match location {
            Location::Sqlite(path) => {
                let path = path.clone();
                let readers = options.readers;
                let started = tokio::task::spawn_blocking(move || {
                    sqlite::start(&path, jobs, metrics, readers)
                })
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
                (Readers::Sqlite(started), Kind::Sqlite)
            }
            Location::Postgres(url) => (
                Readers::Postgres(
                    postgres::start(url, jobs, metrics, options.readers, options.writers).await?,
                ),
                Kind::Postgres,
            ),
        };
        Ok(Store {
            inner: Arc::new(Inner {
                queue,
                readers,
                kind,
            }),
        })
    }

    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// Stores a validated batch; returns once it is committed (or found stored before).
    pub async fn submit(&self, incoming: Incoming) -> Result<Outcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Batch {
            prepared: Box::new(apply::Prepared::new(incoming)?),
            reply,
        };
        self.inner.queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs a read query (`$1`-style placeholders) on a reader connection.
    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, StoreError> {
        match &self.inner.readers {
            Readers::Sqlite(readers) => readers.query(sql, params).await,
            Readers::Postgres(readers) => readers.query(sql, params).await,
        }
    }

    /// One step of retention through the writer: prunes up to `limit` views last seen
    /// before `events_before_ms` and rollups before `rollups_before_ms`; returns how many
    /// views it pruned.
    pub async fn prune(
        &self,
        events_before_ms: i64,
        rollups_before_ms: i64,
        limit: i64,
    ) -> Result<usize, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .queue
            .send(Job::Prune {
                events_before_ms,
                rollups_before_ms,
                limit,
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Batches waiting for the writer.
    pub fn queue_depth(&self) -> usize {
        self.inner.queue.max_capacity() - self.inner.queue.capacity()
    }

    pub fn queue_capacity(&self) -> usize {
        self.inner.queue.max_capacity()
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("sqlite://collector.db").unwrap(),
            Location::Sqlite("collector.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/c.db").unwrap(),
            Location::Sqlite("/var/lib/c.db".into())
        );
        assert_eq!(
            Location::parse("data/c.db").unwrap(),
            Location::Sqlite("data/c.db".into())
        );
        assert!(matches!(
            Location::parse("postgres://u@h:5432/db").unwrap(),
            Location::Postgres(_)
        ));
        assert!(Location::parse("mysql://x").is_err());
        assert!(Location::parse("sqlite://").is_err());
    }
}
