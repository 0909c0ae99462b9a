//! Ingest into a real PostgreSQL server (started by the test in a temporary directory):
//! nothing acknowledged is lost when a collector is killed with SIGKILL under load, and
//! two collectors writing into one database at once count every event exactly once.

mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use collector::store::Value;
use support::Server;
use support::beacons::{self, BATCHES_PER_VIEW, EVENTS_PER_BATCH};
use support::postgres::PgServer;

fn media() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("media")).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_acknowledged_is_lost_when_postgres_collector_is_killed() {
    let pg = PgServer::start();
    let db = pg.database("killed");
    let dir = media();
    let start = || {
        Server::start(
            &dir.path().join("media"),
            &["--db", &db, "--rate-limit", "0"],
        )
    };
    beacons::nothing_lost(start(), &db, start).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_collectors_on_one_postgres_count_every_event_once() {
    let pg = PgServer::start();
    let db = pg.database("scaled");
    let dir = media();
    let start = || {
        Server::start(
            &dir.path().join("media"),
            &["--db", &db, "--rate-limit", "0"],
        )
    };
    // Both start (and migrate) at once.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(start);
        let b = s.spawn(start);
        (a.join().unwrap(), b.join().unwrap())
    });
    let clients = 6;
    let views = 8;
    let traffic = beacons::run_clients(
        vec![a.base.clone(), b.base.clone()],
        clients,
        views,
        Some(4),
        Arc::new(AtomicBool::new(false)),
    )
    .await;
    let expected = clients * views * BATCHES_PER_VIEW as usize;
    assert_eq!(traffic.sent.len(), expected);
    assert_eq!(
        traffic.acked, traffic.sent,
        "refused: {:?}",
        traffic.refused
    );
    assert!(traffic.duplicates > 0, "no batch reached both collectors");

    let store = beacons::open(&db).await;
    assert_eq!(
        beacons::check_exactly_once(&store, &traffic.acked).await,
        expected
    );
    let totals = store
        .query(
            "SELECT SUM(views), SUM(events), SUM(started), SUM(exited), SUM(startup_count) \
             FROM rollup_minute WHERE property = $1",
            &[Value::from("demo")],
        )
        .await
        .unwrap();
    let views_total = (clients * views) as i64;
    assert_eq!(
        totals.rows[0],
        vec![
            Value::Int(views_total),
            Value::Int(expected as i64 * EVENTS_PER_BATCH as i64),
            Value::Int(views_total),
            Value::Int(views_total),
            Value::Int(views_total),
        ]
    );
}
