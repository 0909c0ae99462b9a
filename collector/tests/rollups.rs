//! The hourly and daily rollups against the per-minute ones, on SQLite and on a real
//! PostgreSQL: views go in through the store (some of them moved to an earlier minute by
//! a late batch, across hour and day boundaries), then for ragged periods, filters and
//! groupings the API's sums (read from days, hours and the minutes at the ends) must equal
//! the sums of the minutes, the startup histograms must count the views' startup times,
//! the titles must match, and migration 2's backfill must rebuild exactly what ingest
//! wrote. Past the exact-percentile limit, the API's percentiles are the histograms'.

mod support;

use std::collections::HashMap;

use collector::api::kpi::{
    EXACT_PERCENTILE_LIMIT, Kpis, Percentiles, Sums, columns_sql, rollup_sums_sql,
};
use collector::api::params::Scope;
use collector::api::query::{self, GroupBy};
use collector::store::rollup::{BACKFILL_SQL, BINS, HISTOGRAM, HOUR_MS, MINUTE_MS, startup_bin};
use collector::store::{Incoming, Outcome, Store, Value, now_ms};
use protocol::{Batch, Event, EventKind, View};
use support::Server;
use support::beacons;
use support::postgres::PgServer;

/// 2025-11-24T00:00:00Z.
const DAY0: i64 = 1_763_942_400_000;
const DAY_MS: i64 = 86_400_000;

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn event(t: i64, kind: EventKind) -> Event {
    Event {
        t: t as f64,
        pt: None,
        kind,
    }
}

fn batch(id: usize, seq: u64, sample_rate: f64, dims: [String; 4], events: Vec<Event>) -> Batch {
    let [video, player, browser, os] = dims;
    Batch {
        v: protocol::PROTOCOL_VERSION,
        key: "demo".into(),
        batch: format!("b-{id}-{seq}"),
        seq,
        dropped: 0,
        view: View {
            id: format!("view-{id}"),
            session: format!("s-{id}"),
            player,
            player_version: "1.0.0".into(),
            video_title: Some(format!("Title of {video}")),
            video_id: Some(video),
            browser: Some(browser),
            os: Some(os),
            page: None,
            custom: Default::default(),
            sample_rate,
        },
        events,
    }
}

async fn submit(store: &Store, batch: Batch) {
    let outcome = store
        .submit(Incoming {
            property: "demo".into(),
            batch,
            received_ms: now_ms(),
        })
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Stored { .. }), "{outcome:?}");
}

/// `views` views over three days, in batches, a fifth of them with a late batch of
/// earlier events; submitted `at_once` at a time.
async fn load(store: &Store, views: usize, at_once: usize) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let pick = |rng: &mut Rng, prefix: &str, n: u64| format!("{prefix}{}", rng.below(n));
    let mut firsts = Vec::new();
    let mut lates = Vec::new();
    for id in 0..views {
        let start = DAY0 + rng.below(3 * DAY_MS as u64) as i64;
        let dims = [
            pick(&mut rng, "video-", 5),
            pick(&mut rng, "player-", 3),
            pick(&mut rng, "browser-", 3),
            pick(&mut rng, "os-", 2),
        ];
        let sample_rate = if rng.below(4) == 0 { 0.5 } else { 1.0 };
        let startup = match rng.below(10) {
            0 => 20 + rng.below(40) as i64,
            1 => 65_000 + rng.below(10_000) as i64,
            _ => 100 + rng.below(8_000) as i64,
        };
        let mut events = vec![
            event(start, EventKind::Viewstart),
            event(start + 10, EventKind::Playrequest),
        ];
        if rng.below(8) != 0 {
            events.push(event(start + 10 + startup, EventKind::Firstframe));
            events.push(event(
                start + 20 + startup + rng.below(120_000) as i64,
                EventKind::Viewend,
            ));
        }
        firsts.push(batch(id, 0, sample_rate, dims.clone(), events));
        if id % 5 == 0 {
            // Earlier events arrive late: the view moves to an earlier minute (up to 2 h).
            let earlier = start - 60_000 - rng.below(2 * HOUR_MS as u64) as i64;
            let late = vec![event(earlier, EventKind::Viewstart)];
            lates.push(batch(id, 1, sample_rate, dims, late));
        }
    }
    for batches in [firsts, lates] {
        for chunk in batches.chunks(at_once) {
            let mut tasks = tokio::task::JoinSet::new();
            for b in chunk {
                let (store, b) = (store.clone(), b.clone());
                tasks.spawn(async move { submit(&store, b).await });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        }
    }
}

fn nonzero(groups: Vec<(String, Sums)>) -> HashMap<String, Sums> {
    groups
        .into_iter()
        .filter(|(_, s)| *s != Sums::default())
        .collect()
}

/// The reference: the same sums from `rollup_minute` alone.
async fn from_minutes(
    store: &Store,
    scope: &Scope,
    group: Option<GroupBy>,
) -> HashMap<String, Sums> {
    let mut params = Vec::new();
    let condition = scope.condition("", &mut params);
    let key = group.map_or("''".to_string(), |g| g.sql("minute_ms"));
    let group_by = group.map_or(String::new(), |_| format!(" GROUP BY {key}"));
    let sql = format!(
        "SELECT {key} AS k, {} FROM rollup_minute WHERE {condition}{group_by}",
        rollup_sums_sql()
    );
    let rows = store.query(&sql, &params).await.unwrap();
    nonzero(
        rows.rows
            .iter()
            .map(|r| (query::key_text(&r[0]), Sums::from_rollup_row(&r[1..])))
            .collect(),
    )
}

/// The startup histogram of the scope's views, from their own startup times.
async fn histogram_of_views(store: &Store, scope: &Scope) -> Vec<i64> {
    let mut params = Vec::new();
    let condition = scope.condition("", &mut params);
    let rows = store
        .query(
            &format!("SELECT startup_ms FROM views WHERE {condition} AND startup_count = 1"),
            &params,
        )
        .await
        .unwrap();
    let mut counts = vec![0; BINS];
    for row in &rows.rows {
        counts[startup_bin(row[0].as_i64().unwrap())] += 1;
    }
    counts
}

fn scope(from: i64, to: i64, filters: &[(&'static str, &'static str, &str)]) -> Scope {
    Scope {
        property: "demo".into(),
        from,
        to,
        filters: filters
            .iter()
            .map(|(p, c, v)| (*p, *c, v.to_string()))
            .collect(),
    }
}

async fn compare(store: &Store) {
    let mut rng = Rng(42);
    let filters: [&[(&'static str, &'static str, &str)]; 7] = [
        &[],
        &[("video", "video_id", "video-1")],
        &[("player", "player", "player-2")],
        &[("os", "os", "os-0"), ("browser", "browser", "browser-1")],
        &[("video", "video_id", "video-3"), ("os", "os", "os-1")],
        &[
            ("video", "video_id", "video-0"),
            ("player", "player", "player-0"),
        ],
        // No coarse set holds three dimensions: minutes only.
        &[
            ("video", "video_id", "video-2"),
            ("player", "player", "player-1"),
            ("os", "os", "os-0"),
        ],
    ];
    let groups = [
        None,
        Some(GroupBy::Column("video_id")),
        Some(GroupBy::Column("player")),
        Some(GroupBy::Column("browser")),
        Some(GroupBy::Column("os")),
        Some(GroupBy::Bucket(MINUTE_MS)),
        Some(GroupBy::Bucket(15 * MINUTE_MS)),
        Some(GroupBy::Bucket(HOUR_MS)),
        Some(GroupBy::Bucket(2 * HOUR_MS)),
        Some(GroupBy::Bucket(DAY_MS)),
    ];
    let mut periods = vec![
        (DAY0 - DAY_MS, DAY0 + 4 * DAY_MS),
        (DAY0 + DAY_MS, DAY0 + 2 * DAY_MS),
        (DAY0 + 7 * MINUTE_MS, DAY0 + 8 * MINUTE_MS),
    ];
    for _ in 0..12 {
        let a = DAY0 - HOUR_MS + (rng.below(3 * 1440 + 120) as i64) * MINUTE_MS;
        let b = DAY0 - HOUR_MS + (rng.below(3 * 1440 + 120) as i64) * MINUTE_MS;
        if a != b {
            periods.push((a.min(b), a.max(b)));
        }
    }
    let mut nonempty = 0;
    for (from, to) in periods {
        for f in filters {
            let scope = scope(from, to, f);
            for group in groups {
                let coarse = nonzero(query::rollup_sums(store, &scope, group).await.unwrap());
                let minutes = from_minutes(store, &scope, group).await;
                assert_eq!(coarse, minutes, "{from}..{to} {f:?} by {group:?}");
                nonempty += usize::from(!coarse.is_empty());
            }
            let total = query::total(store, &scope).await.unwrap();
            assert_eq!(
                total.histogram.to_vec(),
                histogram_of_views(store, &scope).await,
                "{from}..{to} {f:?}"
            );
            assert_eq!(total.histogram.iter().sum::<i64>(), total.startups());
            let titles = query::video_titles(store, &scope).await.unwrap();
            for (video, title) in &titles {
                assert_eq!(*title, format!("Title of {video}"));
            }
            let videos = from_minutes(store, &scope, Some(GroupBy::Column("video_id"))).await;
            for video in videos.keys() {
                assert!(titles.contains_key(video), "{video}");
            }
        }
    }
    assert!(nonempty > 500, "the checks saw data: {nonempty}");
}

/// Every row of the coarse tables and of the minutes, in order (titles of rows whose
/// views all moved elsewhere are left out: ingest keeps them, the backfill cannot know
/// them).
async fn snapshot(store: &Store) -> Vec<Vec<Value>> {
    let metrics = format!("{}, {}", columns_sql(""), HISTOGRAM.join(", "));
    let title = "CASE WHEN views = 0 THEN '' ELSE video_title END";
    let coarse = "property, dims, bucket_ms, video_id, player, browser, os";
    let minute = "minute_ms, property, video_id, player, browser, os";
    let mut all = Vec::new();
    for (table, key) in [
        ("rollup_hour", coarse),
        ("rollup_day", coarse),
        ("rollup_minute", minute),
    ] {
        let rows = store
            .query(
                &format!("SELECT {key}, {title}, {metrics} FROM {table} ORDER BY {key}"),
                &[],
            )
            .await
            .unwrap();
        assert!(!rows.rows.is_empty(), "{table}");
        all.extend(rows.rows);
    }
    all
}

fn same_rows(a: &[Vec<Value>], b: &[Vec<Value>]) {
    assert_eq!(a.len(), b.len(), "rows");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x, y);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coarse_rollups_equal_the_minutes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollups.db");
    let store = beacons::open(&format!("sqlite://{}", path.display())).await;
    load(&store, 400, 1).await;
    compare(&store).await;
    // The migration's backfill rebuilds what ingest wrote.
    let written = snapshot(&store).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; UPDATE rollup_minute SET video_title = '', startup_h05 = 0; \
         {BACKFILL_SQL}; COMMIT"
    ))
    .unwrap();
    drop(conn);
    same_rows(&snapshot(&store).await, &written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coarse_rollups_equal_the_minutes_on_postgres() {
    let pg = PgServer::start();
    let db = pg.database("rollups");
    let store = beacons::open(&db).await;
    load(&store, 400, 1).await;
    compare(&store).await;
    let written = snapshot(&store).await;
    let (client, connection) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "BEGIN; UPDATE rollup_minute SET video_title = '', startup_h05 = 0; \
             {BACKFILL_SQL}; COMMIT"
        ))
        .await
        .unwrap();
    drop(client);
    let _ = task.await;
    same_rows(&snapshot(&store).await, &written);
}

/// Past the exact-percentile limit, the API's percentiles come from the histograms: the
/// overview's and every breakdown row's (read for the rows shown only, or for all when
/// sorted by a percentile) are those of the rollups' summed histograms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histogram_percentiles_through_the_api_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.db");
    let db = format!("sqlite://{}", path.display());
    let store = beacons::open(&db).await;
    load(&store, 3_000, 100).await;
    let (from, to) = (DAY0 + 7 * MINUTE_MS, DAY0 + 3 * DAY_MS - 5 * MINUTE_MS);
    let scope = scope(from, to, &[]);
    let total = query::total(&store, &scope).await.unwrap();
    assert!(
        total.startups() > EXACT_PERCENTILE_LIMIT,
        "{}",
        total.startups()
    );
    let by_video = query::grouped(&store, &scope, GroupBy::Column("video_id"))
        .await
        .unwrap();
    drop(store);

    std::fs::create_dir(dir.path().join("media")).unwrap();
    let server = Server::start(&dir.path().join("media"), &["--db", &db]);
    let client = reqwest::Client::new();
    let get = |query: String| {
        let request = client
            .get(server.url(&format!("/api/v1/{query}&from={from}&to={to}")))
            .bearer_auth("demo");
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            serde_json::from_str::<serde_json::Value>(&response.text().await.unwrap()).unwrap()
        }
    };
    let expected = |sums: &Sums| {
        let kpis = Kpis::of(sums, Percentiles::histogram(sums));
        (kpis.get("startup_p50_ms"), kpis.get("startup_p95_ms"))
    };
    let got = |json: &serde_json::Value| {
        (
            json["startup_p50_ms"].as_f64(),
            json["startup_p95_ms"].as_f64(),
        )
    };
    let overview = get("overview?format=json".into()).await;
    assert_eq!(overview["percentiles"], "histogram");
    assert_eq!(got(&overview["current"]), expected(&total));
    for sort in ["views", "startup_p50_ms"] {
        let answer = get(format!("breakdown?by=video&sort={sort}&limit=3")).await;
        assert_eq!(answer["percentiles"], "histogram");
        assert_eq!(got(&answer["totals"]), expected(&total));
        let rows = answer["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        for row in rows {
            let video = row["value"].as_str().unwrap();
            let (_, sums) = by_video.iter().find(|(k, _)| k == video).unwrap();
            assert_eq!(got(row), expected(sums), "{sort}: {video}");
            assert_eq!(row["label"], format!("Title of {video}"));
        }
    }
}
