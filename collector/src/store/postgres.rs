//! PostgreSQL: the path past one machine. Each collector has one writer connection doing
//! group commits (any number of collectors may write to one server at once: see
//! [`super::apply`] for why they agree) and a small pool for queries.
//!
//! Statements are prepared once per connection; a batch's event rows are pipelined.
//! Durability is the server's: a COMMIT returns once its WAL is flushed
//! (`synchronous_commit = on`, PostgreSQL's default). No TLS: connect over a private
//! network or a Unix socket.

use std::collections::HashMap;
use std::error::Error;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::try_join_all;
use tokio::sync::{Mutex, mpsc};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Statement};

use super::apply::Tx;
use super::apply::ViewCache;
use super::value::{Rows, Value};
use super::writer::{self, Job};
use super::{MIGRATIONS, StoreError};
use crate::metrics::Metrics;

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT4) => (*i as f32).to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Real(r), &Type::FLOAT8) => r.to_sql(ty, out),
            (Value::Real(r), &Type::FLOAT4) => (*r as f32).to_sql(ty, out),
            (Value::Real(r), &Type::INT8) if r.fract() == 0.0 => (*r as i64).to_sql(ty, out),
            (Value::Text(t), &Type::INT8 | &Type::INT4 | &Type::INT2) => {
                Value::Int(t.trim().parse()?).to_sql(ty, out)
            }
            (Value::Text(t), &Type::FLOAT8 | &Type::FLOAT4) => {
                Value::Real(t.trim().parse()?).to_sql(ty, out)
            }
            (Value::Int(i), _) => i.to_string().as_str().to_sql(&Type::TEXT, out),
            (Value::Real(r), _) => r.to_string().as_str().to_sql(&Type::TEXT, out),
            (Value::Text(s), _) => s.as_str().to_sql(&Type::TEXT, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::NUMERIC => numeric(raw)?,
            Type::JSONB => {
                Value::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into_owned())
            }
            _ => Value::Text(String::from_utf8_lossy(raw).into_owned()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// PostgreSQL's binary NUMERIC: digit count, weight, sign, scale, then base-10000 digits.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        let bytes = raw.get(2 * i..2 * i + 2).ok_or("short NUMERIC")?;
        Ok(i16::from_be_bytes([bytes[0], bytes[1]]))
    };
    let (digits, weight, sign) = (word(0)?, word(1)?, word(2)? as u16);
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut value = 0.0;
    for i in 0..digits.max(0) as usize {
        value += f64::from(word(4 + i)?) * 10_000f64.powi(i32::from(weight) - i as i32);
    }
    if sign == 0x4000 {
        value = -value;
    }
    // Whole numbers (sums of integers) stay integers.
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Ok(Value::Int(value as i64))
    } else {
        Ok(Value::Real(value))
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

fn rows(rows: Vec<tokio_postgres::Row>, statement: &Statement) -> Result<Rows, StoreError> {
    let columns: Arc<[String]> = statement
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(row.try_get::<_, Value>(i)?);
        }
        out.push(values);
    }
    Ok(Rows { columns, rows: out })
}

/// The writer's connection, with its prepared statements.
struct Writer {
    config: Config,
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl Writer {
    async fn client(&mut self) -> Result<&Client, StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.statements.clear();
            self.client = Some(connect(&self.config).await?);
        }
        self.client.as_ref().ok_or(StoreError::Closed)
    }

    async fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client().await?.prepare(sql).await?;
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

impl Tx for Writer {
    async fn begin(&mut self) -> Result<(), StoreError> {
        Ok(self.client().await?.batch_execute("BEGIN").await?)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        Ok(self.client().await?.batch_execute("COMMIT").await?)
    }

    async fn rollback(&mut self) {
        if let Some(client) = self.client.as_ref().filter(|c| !c.is_closed()) {
            let _ = client.batch_execute("ROLLBACK").await;
        }
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let statement = self.statement(sql).await?;
        Ok(self
            .client()
            .await?
            .execute(&statement, &params(values))
            .await?)
    }

    async fn query_many(
        &mut self,
        sql: &str,
        values: &[Vec<Value>],
    ) -> Result<Vec<Vec<Vec<Value>>>, StoreError> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let statement = self.statement(sql).await?;
        let client = self.client().await?;
        let all = values.iter().map(|values| {
            let statement = &statement;
            async move { client.query(statement, &params(values)).await }
        });
        try_join_all(all)
            .await?
            .into_iter()
            .map(|found| rows(found, &statement).map(|r| r.rows))
            .collect()
    }

    async fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        let statement = self.statement(sql).await?;
        let found = self
            .client()
            .await?
            .query(&statement, &params(values))
            .await?;
        Ok(rows(found, &statement)?.rows)
    }
}

async fn connect(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// The query pool.
pub(crate) struct Readers {
    pool: Pool,
}

impl Readers {
    pub(crate) async fn query(&self, sql: &str, values: &[Value]) -> Result<Rows, StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let statement = client.prepare_cached(sql).await?;
        let found = client.query(&statement, &params(values)).await?;
        rows(found, &statement)
    }
}

/// Connects, applies migrations (one collector at a time), starts `writers` writer tasks
/// (each its own connection and transactions, taking groups from one queue in turn).
pub(crate) async fn start(
    url: &str,
    queue: mpsc::Receiver<Job>,
    metrics: Arc<Metrics>,
    readers: usize,
    writers: usize,
) -> Result<Readers, StoreError> {
    let mut config = Config::from_str(url).map_err(|e| StoreError::Url(e.to_string()))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("collector");
    }
    let client = connect(&config).await?;
    migrate(&client).await?;
    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(readers.max(1))
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))?;
    let queue = Arc::new(Mutex::new(queue));
    let mut client = Some(client);
    for _ in 0..writers.max(1) {
        let writer = Writer {
            config: config.clone(),
            // The first writer keeps the migration's connection; the others connect lazily.
            client: client.take(),
            statements: HashMap::new(),
        };
        tokio::spawn(write_loop(writer, Arc::clone(&queue), Arc::clone(&metrics)));
    }
    Ok(Readers { pool })
}

async fn write_loop(
    mut writer: Writer,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    metrics: Arc<Metrics>,
) {
    let mut cache = ViewCache::default();
    loop {
        let jobs = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                break;
            };
            writer::drain(first, &mut queue)
        };
        writer::run_group(&mut writer, &mut cache, jobs, &metrics).await;
    }
    tracing::debug!("store writer: queue closed");
}

/// Applies the migrations not applied yet, in one transaction under an advisory lock, so
/// collectors starting together take turns.
async fn migrate(client: &Client) -> Result<(), StoreError> {
    client
        .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7405226103)")
        .await?;
    let result = async {
        client.batch_execute(super::CREATE_MIGRATIONS_TABLE).await?;
        for (version, name, sql) in MIGRATIONS {
            let applied: i64 = client
                .query_one(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .await?
                .get(0);
            if applied == 0 {
                tracing::info!(version, name, "applying migration");
                client.batch_execute(sql).await?;
                client
                    .execute(
                        "INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
                        &[version, name, &super::now_ms()],
                    )
                    .await?;
            }
        }
        client.batch_execute("COMMIT").await
    }
    .await;
    if let Err(error) = result {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(StoreError::Migration(error.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(digits: &[i16], weight: i16, sign: u16, scale: u16) -> Vec<u8> {
        let mut raw = Vec::new();
        for word in [digits.len() as i16, weight, sign as i16, scale as i16]
            .into_iter()
            .chain(digits.iter().copied())
        {
            raw.extend(word.to_be_bytes());
        }
        raw
    }

    #[test]
    fn numerics_read_as_numbers() {
        assert_eq!(numeric(&encode(&[2], 1, 0, 0)).unwrap(), Value::Int(20_000));
        assert_eq!(
            numeric(&encode(&[1, 2345, 6780], 1, 0, 3)).unwrap(),
            Value::Real(12_345.678)
        );
        assert_eq!(
            numeric(&encode(&[7], 0, 0x4000, 0)).unwrap(),
            Value::Int(-7)
        );
        assert_eq!(numeric(&encode(&[], 0, 0, 0)).unwrap(), Value::Int(0));
        assert!(numeric(&[0, 1]).is_err());
    }
}
