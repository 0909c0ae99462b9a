//! Beacon traffic for the ingest tests: batches of a fixed size, concurrent clients that
//! remember which batches were acknowledged, and the checks that find every acknowledged
//! event exactly once in the store (raw events and rollups alike).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Server;
use collector::metrics::Metrics;
use collector::store::{Location, Store, StoreOptions, Value};

/// Events in every generated batch.
pub const EVENTS_PER_BATCH: usize = 20;
/// Batches per generated view.
pub const BATCHES_PER_VIEW: u64 = 5;
const T0: f64 = 1_764_000_000_000.0;

/// A batch's identity: (view id, sequence number).
pub type BatchId = (String, u64);

/// The JSON of batch `seq` of view `view`, with [`EVENTS_PER_BATCH`] events.
pub fn batch_json(key: &str, view: &str, seq: u64) -> String {
    let base = T0 + seq as f64 * 20_000.0;
    let mut events = Vec::with_capacity(EVENTS_PER_BATCH);
    for i in 0..EVENTS_PER_BATCH {
        let t = base + i as f64 * 1000.0;
        let event = match (seq, i) {
            (0, 0) => format!(r#"{{"t":{t},"type":"viewstart"}}"#),
            (0, 1) => format!(r#"{{"t":{t},"type":"playrequest","pt":0}}"#),
            (0, 2) => format!(
                r#"{{"t":{t},"type":"levelswitch","to":2,"bitrate":2500000,"reason":"startup"}}"#
            ),
            (0, 3) => format!(r#"{{"t":{t},"type":"firstframe","pt":0}}"#),
            (s, i) if s == BATCHES_PER_VIEW - 1 && i == EVENTS_PER_BATCH - 1 => {
                format!(r#"{{"t":{t},"type":"viewend"}}"#)
            }
            _ => format!(
                r#"{{"t":{t},"type":"heartbeat","bitrate":2500000,"buffer_s":12.5,"dropped_frames":1,"total_frames":{}}}"#,
                100 + i
            ),
        };
        events.push(event);
    }
    format!(
        r#"{{"v":1,"key":"{key}","batch":"b-{view}-{seq}","seq":{seq},"view":{{"id":"{view}","session":"s-{view}","player":"wasm-hls-player","player_version":"0.1.0","video_id":"movie","browser":"Chromium 156","os":"Linux"}},"events":[{}]}}"#,
        events.join(",")
    )
}

/// How a POST ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 200, with its `duplicate` flag.
    Acked { duplicate: bool },
    /// Another status.
    Refused(u16),
    /// No response (connection refused or reset).
    Lost,
}

/// POSTs a body to `/v1/beacons` of `base`.
pub async fn post(client: &reqwest::Client, base: &str, body: String) -> Answer {
    let response = client
        .post(format!("{base}/v1/beacons"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let Ok(response) = response else {
        return Answer::Lost;
    };
    let status = response.status().as_u16();
    let Ok(bytes) = response.bytes().await else {
        return Answer::Lost;
    };
    if status != 200 {
        return Answer::Refused(status);
    }
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON answer");
    Answer::Acked {
        duplicate: json["duplicate"] == serde_json::Value::Bool(true),
    }
}

/// What a run of clients sent and which of it was acknowledged.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Every batch sent at least once.
    pub sent: BTreeSet<BatchId>,
    /// Batches answered 200 (by any collector).
    pub acked: BTreeSet<BatchId>,
    /// 200s that said `duplicate`.
    pub duplicates: usize,
    /// Other statuses seen.
    pub refused: BTreeMap<u16, usize>,
}

/// Runs `clients` concurrent clients, each posting `views` views of
/// [`BATCHES_PER_VIEW`] batches in order, to `targets` in turn (batch `n` of a client to
/// `targets[n % len]`; with `both_every`, every that many batches go to all targets at
/// once, like a retry that reached another collector). A client stops at its first lost
/// request or when `stop` is set.
pub async fn run_clients(
    targets: Vec<String>,
    clients: usize,
    views: usize,
    both_every: Option<usize>,
    stop: Arc<AtomicBool>,
) -> Traffic {
    let traffic = Arc::new(Mutex::new(Traffic::default()));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (targets, traffic, http, stop) = (
            targets.clone(),
            Arc::clone(&traffic),
            http.clone(),
            Arc::clone(&stop),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            'views: for v in 0..views {
                let view = format!("c{c}-v{v}");
                for seq in 0..BATCHES_PER_VIEW {
                    if stop.load(Ordering::Relaxed) {
                        break 'views;
                    }
                    let body = batch_json("demo", &view, seq);
                    let id = (view.clone(), seq);
                    traffic.lock().unwrap().sent.insert(id.clone());
                    let chosen: Vec<&String> = match both_every {
                        Some(every) if n % every == every - 1 => targets.iter().collect(),
                        _ => vec![&targets[n % targets.len()]],
                    };
                    n += 1;
                    let answers = futures_util::future::join_all(
                        chosen.iter().map(|base| post(&http, base, body.clone())),
                    )
                    .await;
                    let mut traffic = traffic.lock().unwrap();
                    for answer in answers {
                        match answer {
                            Answer::Acked { duplicate } => {
                                traffic.acked.insert(id.clone());
                                traffic.duplicates += usize::from(duplicate);
                            }
                            Answer::Refused(status) => {
                                *traffic.refused.entry(status).or_default() += 1
                            }
                            Answer::Lost => break 'views,
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(traffic).unwrap().into_inner().unwrap()
}

/// Opens the store at `db` (as the API would) for checks.
pub async fn open(db: &str) -> Store {
    Store::open(
        &Location::parse(db).unwrap(),
        StoreOptions::default(),
        Arc::new(Metrics::default()),
    )
    .await
    .expect("the store opens")
}

fn int(value: &Value) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("not a number: {value:?}"))
}

/// Events stored per batch of property `demo`.
pub async fn stored_batches(store: &Store) -> BTreeMap<BatchId, i64> {
    let rows = store
        .query(
            "SELECT view_id, seq, COUNT(*) AS n FROM events WHERE property = $1 \
             GROUP BY view_id, seq",
            &[Value::from("demo")],
        )
        .await
        .unwrap();
    rows.rows
        .iter()
        .map(|r| {
            (
                (r[0].as_str().unwrap().to_string(), int(&r[1]) as u64),
                int(&r[2]),
            )
        })
        .collect()
}

/// Checks that every acknowledged batch is stored with all its events, and that the
/// rollups and the views count every stored event and view exactly once. Returns the
/// number of batches stored.
pub async fn check_exactly_once(store: &Store, acked: &BTreeSet<BatchId>) -> usize {
    let stored = stored_batches(store).await;
    for id in acked {
        assert_eq!(
            stored.get(id).copied(),
            Some(EVENTS_PER_BATCH as i64),
            "acknowledged batch {id:?} is not stored exactly once"
        );
    }
    for (id, events) in &stored {
        assert_eq!(
            *events, EVENTS_PER_BATCH as i64,
            "batch {id:?} is partly stored"
        );
    }
    let batches = store
        .query(
            "SELECT COUNT(*) FROM batches WHERE property = $1",
            &[Value::from("demo")],
        )
        .await
        .unwrap();
    assert_eq!(
        int(&batches.rows[0][0]) as usize,
        stored.len(),
        "batch rows"
    );
    let views: BTreeSet<&String> = stored.keys().map(|(view, _)| view).collect();
    let totals = store
        .query(
            "SELECT SUM(events) AS events, SUM(views) AS views, SUM(started) AS started \
             FROM rollup_minute WHERE property = $1",
            &[Value::from("demo")],
        )
        .await
        .unwrap();
    let row = &totals.rows[0];
    assert_eq!(
        int(&row[0]) as usize,
        stored.len() * EVENTS_PER_BATCH,
        "rollup events"
    );
    assert_eq!(int(&row[1]) as usize, views.len(), "rollup views");
    let by_view = store
        .query(
            "SELECT SUM(events) FROM views WHERE property = $1",
            &[Value::from("demo")],
        )
        .await
        .unwrap();
    assert_eq!(
        int(&by_view.rows[0][0]) as usize,
        stored.len() * EVENTS_PER_BATCH,
        "views' events"
    );
    // Each view's metrics were computed from all its events, and the rollups are their sums.
    let views = store
        .query(
            "SELECT v.view_id, v.events, (SELECT COUNT(*) FROM events e \
             WHERE e.property = v.property AND e.view_id = v.view_id) FROM views v \
             WHERE v.property = $1",
            &[Value::from("demo")],
        )
        .await
        .unwrap();
    for row in &views.rows {
        assert_eq!(
            int(&row[1]),
            int(&row[2]),
            "view {:?} counted its events wrong",
            row[0]
        );
    }
    for column in [
        "playing_ms",
        "watch_ms",
        "rebuffer_ms",
        "started",
        "switches",
        "score_sum",
    ] {
        let sums = store
            .query(
                &format!(
                    "SELECT (SELECT SUM({column}) FROM views WHERE property = $1), \
                     (SELECT SUM({column}) FROM rollup_minute WHERE property = $1)"
                ),
                &[Value::from("demo")],
            )
            .await
            .unwrap();
        assert_eq!(
            sums.rows[0][0], sums.rows[0][1],
            "{column}: views against rollups"
        );
    }
    stored.len()
}

/// The shared body of the kill tests (SQLite here, PostgreSQL in `ingest_postgres`).
pub async fn nothing_lost(server: Server, db: &str, restart: impl FnOnce() -> Server) {
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(run_clients(
        vec![server.base.clone()],
        8,
        1000,
        None,
        Arc::clone(&stop),
    ));
    // Let some batches through, then kill it while requests are in flight.
    let http = reqwest::Client::new();
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let text = http
            .get(server.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let stored = text
            .lines()
            .find_map(|l| l.strip_prefix("collector_beacon_batches_total{outcome=\"stored\"} "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if stored >= 400 {
            break;
        }
    }
    server.kill();
    let traffic = load.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    eprintln!(
        "killed under load: {} batches sent, {} acknowledged, refused {:?}",
        traffic.sent.len(),
        traffic.acked.len(),
        traffic.refused
    );
    assert!(
        traffic.acked.len() >= 400,
        "only {} acknowledged",
        traffic.acked.len()
    );

    let server = restart();
    let store = open(db).await;
    let stored = check_exactly_once(&store, &traffic.acked).await;
    eprintln!("after restart: {stored} batches stored, every acknowledged one exactly once");
    assert!(stored >= traffic.acked.len());

    // Everything sent, sent again: acknowledged batches are duplicates, none counted twice.
    let client = reqwest::Client::new();
    for (view, seq) in &traffic.sent {
        let answer = post(&client, &server.base, batch_json("demo", view, *seq)).await;
        if traffic.acked.contains(&(view.clone(), *seq)) {
            assert_eq!(answer, Answer::Acked { duplicate: true }, "{view} {seq}");
        } else {
            assert!(matches!(answer, Answer::Acked { .. }), "{answer:?}");
        }
    }
    assert_eq!(
        check_exactly_once(&store, &traffic.sent).await,
        traffic.sent.len()
    );
}
