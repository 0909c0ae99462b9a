//! The store through its library API, the same checks on SQLite and on a real PostgreSQL:
//! idempotence (stored, duplicate, conflict), batches out of order, views and rollups
//! agreeing with the metric definitions, and retention (raw events deleted, rollups kept).

mod support;

use collector::store::summary::ViewSummary;
use collector::store::{Incoming, Outcome, Retention, Store, Value, now_ms, prune_once};
use protocol::Batch;
use support::beacons::{self, EVENTS_PER_BATCH, batch_json};
use support::postgres::PgServer;

fn batch(view: &str, seq: u64) -> Batch {
    protocol::decode_batch(batch_json("demo", view, seq).as_bytes()).unwrap()
}

async fn submit(store: &Store, batch: Batch) -> Outcome {
    store
        .submit(Incoming {
            property: "demo".into(),
            batch,
            received_ms: now_ms(),
        })
        .await
        .unwrap()
}

async fn one(store: &Store, sql: &str) -> Value {
    let rows = store.query(sql, &[Value::from("demo")]).await.unwrap();
    rows.rows[0][0].clone()
}

async fn exercise(db: &str) {
    let store = beacons::open(db).await;
    let stored = Outcome::Stored {
        events: EVENTS_PER_BATCH,
    };
    assert_eq!(submit(&store, batch("v", 0)).await, stored);
    assert_eq!(submit(&store, batch("v", 0)).await, Outcome::Duplicate);
    let mut other = batch("v", 0);
    other.batch = "another-id".into();
    assert_eq!(submit(&store, other).await, Outcome::Conflict);
    // Out of order, and concurrently.
    let (late, early) = tokio::join!(submit(&store, batch("v", 2)), async {
        tokio::task::yield_now().await;
        submit(&store, batch("v", 1)).await
    });
    assert_eq!((late, early), (stored, stored));

    // The view's row holds the definitions' figures for all its events.
    let events: Vec<_> = (0..3).flat_map(|seq| batch("v", seq).events).collect();
    let expected = ViewSummary::of(&events).unwrap();
    let row = store
        .query(
            "SELECT events, playing_ms, watch_ms, startup_ms, started, minute_ms FROM views \
             WHERE property = $1 AND view_id = $2",
            &[Value::from("demo"), Value::from("v")],
        )
        .await
        .unwrap();
    assert_eq!(
        row.rows[0],
        vec![
            Value::Int(expected.events),
            Value::Int(expected.playing_ms),
            Value::Int(expected.watch_ms),
            Value::Int(expected.startup_ms.unwrap()),
            Value::Int(1),
            Value::Int(expected.minute_ms()),
        ]
    );
    assert_eq!(row.get(0, "playing_ms"), &Value::Int(expected.playing_ms));
    let acked = (0..3).map(|seq| ("v".to_string(), seq)).collect();
    assert_eq!(beacons::check_exactly_once(&store, &acked).await, 3);

    // Retention: a view last seen "two days ago" loses its raw events, not its figures.
    let rollup_playing = "SELECT SUM(playing_ms) FROM rollup_minute WHERE property = $1";
    let before = one(&store, rollup_playing).await;
    let daily_playing = "SELECT SUM(playing_ms) FROM rollup_day WHERE property = $1 AND dims = 0";
    assert_eq!(one(&store, daily_playing).await, before);
    let later = now_ms() + 2 * 86_400_000;
    let keep_rollups = Retention {
        raw_days: 1,
        rollup_days: 0,
    };
    prune_once(&store, keep_rollups, later).await;
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE property = $1");
    assert_eq!(one(&store, &count("events")).await, Value::Int(0));
    assert_eq!(one(&store, &count("batches")).await, Value::Int(0));
    assert_eq!(
        one(&store, "SELECT SUM(pruned) FROM views WHERE property = $1").await,
        Value::Int(1)
    );
    assert_eq!(one(&store, rollup_playing).await, before);
    assert_eq!(one(&store, daily_playing).await, before);
    // A late batch of a pruned view is kept raw; the view's figures stay as they were.
    assert_eq!(submit(&store, batch("v", 3)).await, stored);
    assert_eq!(one(&store, rollup_playing).await, before);
    // Rollups go too once they are older than their own retention.
    let all = Retention {
        raw_days: 1,
        rollup_days: 1,
    };
    prune_once(&store, all, later + 86_400_000 * 365 * 50).await;
    for table in ["rollup_minute", "rollup_hour", "rollup_day"] {
        assert_eq!(one(&store, &count(table)).await, Value::Int(0), "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    exercise(&format!(
        "sqlite://{}",
        dir.path().join("store.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_on_postgres() {
    let pg = PgServer::start();
    exercise(&pg.database("store")).await;
}
