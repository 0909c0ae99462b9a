//! The write path, written once for both backends: a group of batches applied in one
//! transaction, and the pruning of old raw events.
//!
//! For each batch: its idempotence row (a retry of an acknowledged batch finds it and
//! changes nothing), its events, then its view's row is locked (upsert), the view's
//! metrics recomputed from all its events so far ([`ViewSummary`]), and the difference
//! with what the view contributed before goes to the rollups (its minute's row, and its
//! hour's and day's rows in each dimension set of [`super::rollup`]). So a view is
//! counted once in each rollup table however its batches arrive, and concurrent
//! collectors on one PostgreSQL agree.
//!
//! The writer keeps the events of recently active views ([`ViewCache`]) so that most
//! recomputations read nothing back: a cached list is used only when its length equals
//! the event count the view's locked row holds (every committed recomputation sets it),
//! which stays exact with several collectors on one database.
//!
//! Locks are taken in one global order — idempotence rows sorted by (property, view id,
//! sequence number), then view rows sorted the same way, then rollup rows sorted by key —
//! so concurrent transactions (several writers, several collectors) never deadlock.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use protocol::{Batch, Event};

use super::StoreError;
use super::rollup::{ALL, BINS, DIMENSIONS, Grain, HISTOGRAM, SETS, startup_bin};
use super::summary::{COUNTERS, ViewSummary};
use super::value::Value;

/// What the writer needs from a connection: statements inside a transaction it controls.
pub(crate) trait Tx {
    async fn begin(&mut self) -> Result<(), StoreError>;
    async fn commit(&mut self) -> Result<(), StoreError>;
    async fn rollback(&mut self);
    /// Runs a statement; the number of rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs one statement once per parameter row (PostgreSQL pipelines them); the rows
    /// each run returned.
    async fn query_many(
        &mut self,
        sql: &str,
        params: &[Vec<Value>],
    ) -> Result<Vec<Vec<Vec<Value>>>, StoreError>;
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError>;
}

/// A validated batch of a property, as received.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub property: String,
    pub batch: Batch,
    /// When the collector received it (ms since the epoch).
    pub received_ms: i64,
}

/// What became of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now, with this many events.
    Stored { events: usize },
    /// The same batch (same id) was stored before: nothing changed.
    Duplicate,
    /// Another batch (another id) already holds this view's sequence number.
    Conflict,
}

const INSERT_BATCH: &str = "INSERT INTO batches (property, view_id, seq, batch_id, events, received_ms) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (property, view_id, seq) DO NOTHING RETURNING seq";
const SELECT_BATCH: &str =
    "SELECT batch_id FROM batches WHERE property = $1 AND view_id = $2 AND seq = $3";
const INSERT_EVENT: &str = "INSERT INTO events (property, view_id, seq, idx, t_ms, type, payload, received_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const SELECT_EVENTS: &str =
    "SELECT payload FROM events WHERE property = $1 AND view_id = $2 ORDER BY seq, idx";

/// Where `events` is among [`COUNTERS`].
const EVENTS_COUNTER: usize = 1;

/// Creates the view or, if it exists, locks its row; returns what it contributed so far.
static UPSERT_VIEW: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO views (property, view_id, session_id, video_id, video_title, player, \
         player_version, browser, os, page, custom, sample_rate, first_seen_ms, last_seen_ms, \
         client_dropped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) \
         ON CONFLICT (property, view_id) DO UPDATE SET \
         last_seen_ms = CASE WHEN excluded.last_seen_ms > views.last_seen_ms \
           THEN excluded.last_seen_ms ELSE views.last_seen_ms END, \
         client_dropped = CASE WHEN excluded.client_dropped > views.client_dropped \
           THEN excluded.client_dropped ELSE views.client_dropped END \
         RETURNING pruned, minute_ms, video_id, player, browser, os, sample_rate, weight, {}, \
         video_title",
        COUNTERS.join(", ")
    )
});

static UPDATE_VIEW: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = COUNTERS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 7))
        .collect();
    format!(
        "UPDATE views SET start_ms = $3, end_ms = $4, minute_ms = $5, weight = $6, {} \
         WHERE property = $1 AND view_id = $2",
        sets.join(", ")
    )
});

/// The rollup upsert of each table: adds a delta to a row (creating it), keeps the
/// greatest title.
static UPSERT_ROLLUP: LazyLock<[String; 3]> = LazyLock::new(|| Grain::ALL.map(upsert_rollup));

fn upsert_rollup(grain: Grain) -> String {
    let table = grain.table();
    let keys: Vec<&str> = match grain {
        Grain::Minute => vec![
            "minute_ms",
            "property",
            "video_id",
            "player",
            "browser",
            "os",
        ],
        Grain::Hour | Grain::Day => vec![
            "bucket_ms",
            "property",
            "dims",
            "video_id",
            "player",
            "browser",
            "os",
        ],
    };
    let metrics: Vec<&str> = std::iter::once("weight")
        .chain(COUNTERS)
        .chain(HISTOGRAM.iter().map(String::as_str))
        .collect();
    let columns: Vec<&str> = keys
        .iter()
        .copied()
        .chain(std::iter::once("video_title"))
        .chain(metrics.iter().copied())
        .collect();
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let sets: Vec<String> = std::iter::once(format!(
        "video_title = CASE WHEN excluded.video_title > {table}.video_title \
         THEN excluded.video_title ELSE {table}.video_title END"
    ))
    .chain(
        metrics
            .iter()
            .map(|c| format!("{c} = {table}.{c} + excluded.{c}")),
    )
    .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
        columns.join(", "),
        placeholders.join(", "),
        keys.join(", "),
        sets.join(", ")
    )
}

/// A batch ready for the writer: its events already serialised (by the request's task,
/// not the writer's).
#[derive(Debug)]
pub(crate) struct Prepared {
    pub incoming: Incoming,
    pub payloads: Vec<String>,
}

impl Prepared {
    pub(crate) fn new(incoming: Incoming) -> Result<Prepared, StoreError> {
        let payloads = incoming
            .batch
            .events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        Ok(Prepared { incoming, payloads })
    }
}

/// Views cached at most; past it the cache starts over.
const CACHED_VIEWS: usize = 4096;

type ViewKey = (String, String);

/// The events of recently written views, as committed. Entries taken by a transaction
/// come back (updated) only when it commits.
#[derive(Debug, Default)]
pub(crate) struct ViewCache {
    committed: HashMap<ViewKey, Vec<Event>>,
    pending: Vec<(ViewKey, Vec<Event>)>,
}

impl ViewCache {
    fn take(&mut self, key: &ViewKey) -> Option<Vec<Event>> {
        self.committed.remove(key)
    }

    fn stage(&mut self, key: ViewKey, events: Vec<Event>) {
        self.pending.push((key, events));
    }

    /// The transaction committed: what it staged is now true.
    pub(crate) fn commit(&mut self) {
        if self.committed.len() + self.pending.len() > CACHED_VIEWS {
            self.committed.clear();
        }
        self.committed.extend(self.pending.drain(..));
    }

    /// The transaction rolled back: forget what it staged.
    pub(crate) fn rollback(&mut self) {
        self.pending.clear();
    }
}

/// A rollup row's key: table, bucket, property, dimension set, video, player, browser, OS
/// (dimensions outside the set are ''; the minute table's set is [`ALL`]).
type RollupKey = (Grain, i64, String, u32, String, String, String, String);

#[derive(Debug, Clone, Default)]
struct Delta {
    weight: f64,
    counters: Vec<i64>,
    histogram: Vec<i64>,
    title: String,
}

impl Delta {
    fn add(&mut self, sign: i64, weight: f64, counters: &[i64], bin: Option<usize>, title: &str) {
        if self.counters.is_empty() {
            self.counters = vec![0; COUNTERS.len()];
            self.histogram = vec![0; BINS];
        }
        self.weight += sign as f64 * weight;
        for (sum, value) in self.counters.iter_mut().zip(counters) {
            *sum += sign * value;
        }
        if let Some(bin) = bin {
            self.histogram[bin] += sign;
        }
        if title > self.title.as_str() {
            self.title = title.to_string();
        }
    }

    fn is_zero(&self) -> bool {
        self.weight == 0.0
            && self.counters.iter().all(|&c| c == 0)
            && self.histogram.iter().all(|&c| c == 0)
    }
}

/// Where `startup_count` and `startup_ms` are among [`COUNTERS`].
static STARTUP_COUNT: LazyLock<usize> = LazyLock::new(|| counter("startup_count"));
static STARTUP_MS: LazyLock<usize> = LazyLock::new(|| counter("startup_ms"));

fn counter(name: &str) -> usize {
    COUNTERS.iter().position(|c| *c == name).unwrap_or(0)
}

/// One view's contribution (`sign` 1) or its removal (-1), at `minute`, to every rollup
/// row it counts in: its minute's, and its hour's and day's in each dimension set.
struct Contribution<'a> {
    property: &'a str,
    /// video, player, browser, OS.
    dims: [&'a str; 4],
    title: &'a str,
    minute: i64,
    weight: f64,
    counters: &'a [i64],
}

impl Contribution<'_> {
    fn add_to(&self, sign: i64, deltas: &mut BTreeMap<RollupKey, Delta>) {
        let bin = (self.counters.get(*STARTUP_COUNT) == Some(&1))
            .then(|| startup_bin(self.counters.get(*STARTUP_MS).copied().unwrap_or(0)));
        let mut add = |grain: Grain, set: u32| {
            let dim = |i: usize| {
                if set & DIMENSIONS[i].1 != 0 {
                    self.dims[i].to_string()
                } else {
                    String::new()
                }
            };
            let title = if set & 1 != 0 { self.title } else { "" };
            let key = (
                grain,
                grain.bucket(self.minute),
                self.property.to_string(),
                set,
                dim(0),
                dim(1),
                dim(2),
                dim(3),
            );
            deltas
                .entry(key)
                .or_default()
                .add(sign, self.weight, self.counters, bin, title);
        };
        add(Grain::Minute, ALL);
        for grain in [Grain::Hour, Grain::Day] {
            for set in SETS {
                add(grain, set);
            }
        }
    }
}

/// Applies a group of batches inside the caller's transaction; one outcome per batch,
/// in the order given.
///
/// In phases, each one statement run for many rows (PostgreSQL pipelines them, so a
/// phase costs one round trip): idempotence rows, then the batch ids of those already
/// there, events, views (locked), the events of views not cached, views' metrics, and
/// the rollups.
pub(crate) async fn apply_group<T: Tx>(
    tx: &mut T,
    cache: &mut ViewCache,
    jobs: &[&Prepared],
) -> Result<Vec<Outcome>, StoreError> {
    let key = |i: usize| {
        let job = &jobs[i].incoming;
        (&job.property, &job.batch.view.id, job.batch.seq)
    };
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| key(a).cmp(&key(b)));
    let mut outcomes = vec![Outcome::Duplicate; jobs.len()];

    // 1. Idempotence rows: a row comes back only for a batch not stored before.
    let params: Vec<Vec<Value>> = order
        .iter()
        .map(|&i| batch_row(&jobs[i].incoming))
        .collect();
    let inserted = tx.query_many(INSERT_BATCH, &params).await?;
    let (mut stored, mut seen) = (Vec::new(), Vec::new());
    for (&i, rows) in order.iter().zip(&inserted) {
        if rows.is_empty() {
            seen.push(i);
        } else {
            outcomes[i] = Outcome::Stored {
                events: jobs[i].incoming.batch.events.len(),
            };
            stored.push(i);
        }
    }

    // 2. Already there: a retry (same batch id) or another batch under the same number.
    let heads: Vec<Vec<Value>> = seen
        .iter()
        .map(|&i| batch_row(&jobs[i].incoming)[..3].to_vec())
        .collect();
    let ids = tx.query_many(SELECT_BATCH, &heads).await?;
    for (&i, rows) in seen.iter().zip(&ids) {
        let id = rows.first().and_then(|r| r.first()).and_then(Value::as_str);
        if id != Some(jobs[i].incoming.batch.batch.as_str()) {
            outcomes[i] = Outcome::Conflict;
        }
    }

    // 3. The events of the stored batches.
    let events: Vec<Vec<Value>> = stored.iter().flat_map(|&i| event_rows(jobs[i])).collect();
    tx.query_many(INSERT_EVENT, &events).await?;

    // 4. The views of the stored batches, locked in order, with what they counted so far.
    let mut views: Vec<Vec<&Incoming>> = Vec::new();
    for &i in &stored {
        let job = &jobs[i].incoming;
        match views.last_mut() {
            Some(last)
                if last[0].property == job.property
                    && last[0].batch.view.id == job.batch.view.id =>
            {
                last.push(job);
            }
            _ => views.push(vec![job]),
        }
    }
    let params = views
        .iter()
        .map(|v| view_row(v))
        .collect::<Result<Vec<_>, _>>()?;
    let locked = tx.query_many(&UPSERT_VIEW, &params).await?;

    // 5. Each view's events: cached, none before, or read back.
    let mut plans = Vec::with_capacity(views.len());
    for (batches, rows) in views.iter().zip(&locked) {
        let row = rows
            .first()
            .filter(|row| row.len() == 9 + COUNTERS.len())
            .ok_or_else(|| StoreError::Encode("the view upsert returned no row".into()))?;
        if row[0].as_i64() == Some(1) {
            // Its raw events are gone (retention): its contribution stays as it was.
            continue;
        }
        let first = batches[0];
        let key: ViewKey = (first.property.clone(), first.batch.view.id.clone());
        let known = row[8 + EVENTS_COUNTER].as_i64().unwrap_or(-1);
        let before = cache
            .take(&key)
            .filter(|events| events.len() as i64 == known)
            .or_else(|| (known == 0 && row[1].is_null()).then(Vec::new));
        let events = before.map(|mut events| {
            events.extend(batches.iter().flat_map(|j| j.batch.events.iter().cloned()));
            events
        });
        plans.push((key, row, events));
    }
    let misses: Vec<Vec<Value>> = plans
        .iter()
        .filter(|(_, _, events)| events.is_none())
        .map(|((property, view), _, _)| {
            vec![Value::from(property.as_str()), Value::from(view.as_str())]
        })
        .collect();
    let mut read = tx.query_many(SELECT_EVENTS, &misses).await?.into_iter();

    // 6. Recompute each view; its rollup contribution moves from what it was to what it is.
    let mut deltas: BTreeMap<RollupKey, Delta> = BTreeMap::new();
    let mut updates = Vec::with_capacity(plans.len());
    for (key, row, events) in plans {
        let events: Vec<Event> = match events {
            Some(events) => events,
            None => read
                .next()
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.first().and_then(Value::as_str))
                .filter_map(|payload| serde_json::from_str(payload).ok())
                .collect(),
        };
        let Some(summary) = ViewSummary::of(&events) else {
            continue;
        };
        let dims = |i: usize| row[i].as_str().unwrap_or_default();
        let title = row[8 + COUNTERS.len()].as_str().unwrap_or_default();
        let contribution = |minute: i64, weight: f64, counters| Contribution {
            property: &key.0,
            dims: [dims(2), dims(3), dims(4), dims(5)],
            title,
            minute,
            weight,
            counters,
        };
        let old: Vec<i64> = row[8..8 + COUNTERS.len()]
            .iter()
            .map(|v| v.as_i64().unwrap_or(0))
            .collect();
        if let Some(minute) = row[1].as_i64() {
            let weight = row[7].as_f64().unwrap_or(0.0);
            contribution(minute, weight, &old).add_to(-1, &mut deltas);
        }
        let sample_rate = row[6].as_f64().filter(|r| *r > 0.0).unwrap_or(1.0);
        let weight = 1.0 / sample_rate;
        let counters = summary.counters();
        contribution(summary.minute_ms(), weight, &counters).add_to(1, &mut deltas);
        let mut update = vec![
            Value::from(key.0.as_str()),
            Value::from(key.1.as_str()),
            Value::Int(summary.start_ms),
            Value::Int(summary.end_ms),
            Value::Int(summary.minute_ms()),
            Value::Real(weight),
        ];
        update.extend(counters.iter().map(|&c| Value::Int(c)));
        updates.push(update);
        cache.stage(key, events);
    }
    tx.query_many(&UPDATE_VIEW, &updates).await?;

    // 7. The rollups, in key order (minutes, hours, days).
    let mut rollups: [Vec<Vec<Value>>; 3] = Default::default();
    for ((grain, bucket, property, set, video, player, browser, os), delta) in deltas {
        if delta.is_zero() {
            continue;
        }
        let mut row: Vec<Value> = vec![bucket.into(), property.into()];
        if grain != Grain::Minute {
            row.push(Value::Int(i64::from(set)));
        }
        row.extend([
            video.into(),
            player.into(),
            browser.into(),
            os.into(),
            delta.title.into(),
            delta.weight.into(),
        ]);
        row.extend(delta.counters.iter().map(|&c| Value::Int(c)));
        row.extend(delta.histogram.iter().map(|&c| Value::Int(c)));
        rollups[grain as usize].push(row);
    }
    for (sql, rows) in UPSERT_ROLLUP.iter().zip(&rollups) {
        tx.query_many(sql, rows).await?;
    }
    Ok(outcomes)
}

/// `INSERT_BATCH`'s parameters (the first three name the batch).
fn batch_row(job: &Incoming) -> Vec<Value> {
    let batch = &job.batch;
    vec![
        Value::from(job.property.as_str()),
        Value::from(batch.view.id.as_str()),
        Value::Int(batch.seq as i64),
        Value::from(batch.batch.as_str()),
        Value::Int(batch.events.len() as i64),
        Value::Int(job.received_ms),
    ]
}

/// `INSERT_EVENT`'s parameters, one row per event of a batch.
fn event_rows(prepared: &Prepared) -> Vec<Vec<Value>> {
    let job = &prepared.incoming;
    let batch = &job.batch;
    batch
        .events
        .iter()
        .zip(&prepared.payloads)
        .enumerate()
        .map(|(idx, (event, payload))| {
            vec![
                Value::from(job.property.as_str()),
                Value::from(batch.view.id.as_str()),
                Value::Int(batch.seq as i64),
                Value::Int(idx as i64),
                Value::Real(event.t),
                Value::from(event.kind.name()),
                Value::Text(payload.clone()),
                Value::Int(job.received_ms),
            ]
        })
        .collect()
}

fn text(value: Option<&String>) -> Value {
    Value::Text(value.cloned().unwrap_or_default())
}

/// `UPSERT_VIEW`'s parameters for the stored batches of one view (dimensions from the
/// first; a view's dimensions are those of its first batch stored).
fn view_row(stored: &[&Incoming]) -> Result<Vec<Value>, StoreError> {
    let first = stored[0];
    let view = &first.batch.view;
    let received = stored.iter().map(|j| j.received_ms).max().unwrap_or(0);
    let dropped = stored.iter().map(|j| j.batch.dropped).max().unwrap_or(0);
    let custom =
        serde_json::to_string(&view.custom).map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(vec![
        Value::from(first.property.as_str()),
        Value::from(view.id.as_str()),
        Value::from(view.session.as_str()),
        text(view.video_id.as_ref()),
        text(view.video_title.as_ref()),
        Value::from(view.player.as_str()),
        Value::from(view.player_version.as_str()),
        text(view.browser.as_ref()),
        text(view.os.as_ref()),
        text(view.page.as_ref()),
        Value::Text(custom),
        Value::Real(view.sample_rate),
        Value::Int(received),
        Value::Int(dropped.min(i64::MAX as u64) as i64),
    ])
}

/// Prunes up to `limit` views whose last batch came before `before_ms`: deletes their raw
/// events and idempotence rows and freezes their contribution. Returns how many.
pub(crate) async fn prune_views<T: Tx>(
    tx: &mut T,
    before_ms: i64,
    limit: i64,
) -> Result<usize, StoreError> {
    let views = tx
        .query(
            "SELECT property, view_id FROM views WHERE pruned = 0 AND last_seen_ms < $1 \
             ORDER BY property, view_id LIMIT $2",
            &[Value::Int(before_ms), Value::Int(limit)],
        )
        .await?;
    for view in &views {
        let key = [view[0].clone(), view[1].clone()];
        tx.execute(
            "UPDATE views SET pruned = 1 WHERE property = $1 AND view_id = $2",
            &key,
        )
        .await?;
        tx.execute(
            "DELETE FROM events WHERE property = $1 AND view_id = $2",
            &key,
        )
        .await?;
        tx.execute(
            "DELETE FROM batches WHERE property = $1 AND view_id = $2",
            &key,
        )
        .await?;
    }
    Ok(views.len())
}

/// Deletes rollup rows of minutes before `before_ms`, and hourly and daily rows of
/// hours and days that ended by then (a bucket goes once all its minutes are gone).
pub(crate) async fn prune_rollups<T: Tx>(tx: &mut T, before_ms: i64) -> Result<u64, StoreError> {
    let mut deleted = tx
        .execute(
            "DELETE FROM rollup_minute WHERE minute_ms < $1",
            &[Value::Int(before_ms)],
        )
        .await?;
    for grain in [Grain::Hour, Grain::Day] {
        deleted += tx
            .execute(
                &format!("DELETE FROM {} WHERE bucket_ms <= $1", grain.table()),
                &[Value::Int(before_ms.saturating_sub(grain.size_ms()))],
            )
            .await?;
    }
    Ok(deleted)
}
