//! Fills a collector store with generated views, for the dashboard-query benchmark
//! (`tests/bench/overview.sh`, BENCHMARKS.md "Dashboard queries"):
//!
//! ```sh
//! cargo run --release -p collector --example seed_views -- \
//!     --db sqlite://FILE --views 1000000 --days 30
//! ```
//!
//! The store is opened (created and migrated) through [`Store::open`], so the schema and
//! its indexes are the collector's own. Each view is a realistic event sequence (viewstart,
//! play request, startup level switch, first frame, heartbeats every 10 s with bitrate,
//! buffer, bandwidth and frames, level switches, rebuffers, seeks, pauses, errors, ended,
//! viewend; exits before start, start failures and playback failures in plausible
//! shares), summarised by the store's own [`ViewSummary`] exactly as ingest does, so its
//! `views` row holds the metric columns ingest would write and `rollup_minute` holds their
//! sums by minute, video, player, browser and OS, consistent with the views. The minutes'
//! startup histograms and titles and the hourly and daily rollups are then filled from
//! those by the collector's own backfill ([`BACKFILL_SQL`], part of migration 2), which
//! gives the rows ingest would have written.
//!
//! Dimensions: 300 videos with a skewed popularity, four players (our player, hls.js,
//! Safari's native HLS, Shaka), browser and OS pairs in plausible shares, a custom
//! dimension `plan`. Start times follow a daily cycle over the last `--days` days (the
//! views of each minute are generated together; minutes get their share of `--views`).
//!
//! Raw events and idempotence rows are written only with `--events` (tens of millions of
//! rows for a million views, which the dashboard's queries never read); without it the
//! views are marked `pruned`, as retention leaves views whose raw events are gone.
//!
//! The fastest correct way: bulk inserts in large transactions (SQLite: prepared
//! statements, `synchronous = OFF` for this connection only; PostgreSQL: binary `COPY`,
//! then `VACUUM ANALYZE`, which autovacuum would do after such a load).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use collector::metrics::Metrics;
use collector::store::rollup::BACKFILL_SQL;
use collector::store::summary::{COUNTERS, ViewSummary};
use collector::store::{Location, Store, StoreOptions};
use protocol::{Event, EventKind, SwitchReason};

#[derive(Debug, Parser)]
#[command(about = "Fills a collector store with generated views (benchmarks)")]
struct Args {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DATABASE`, as `collector serve --db`.
    #[arg(long)]
    db: String,
    /// Views to generate.
    #[arg(long, default_value_t = 1_000_000)]
    views: u64,
    /// Days the views are spread over, ending now (or at --end-ms).
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// End of the period, ms since the epoch (default: now).
    #[arg(long)]
    end_ms: Option<i64>,
    /// The property (ingest key) the views belong to.
    #[arg(long, default_value = "demo")]
    property: String,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write every view's raw events and batches (as ingest does before retention).
    #[arg(long)]
    events: bool,
}

const MINUTE_MS: i64 = 60_000;
const VIDEOS: usize = 300;
/// Renditions: (bitrate bit/s, height).
const LADDER: [(u64, u32); 6] = [
    (300_000, 240),
    (700_000, 360),
    (1_200_000, 480),
    (2_500_000, 720),
    (4_500_000, 1080),
    (7_800_000, 1440),
];
/// (player, version, share %).
const PLAYERS: [(&str, &str, u32); 4] = [
    ("wasm-hls-player", "0.1.0", 45),
    ("hls.js", "1.6.13", 30),
    ("native", "26.1", 15),
    ("shaka-player", "4.16.2", 10),
];
/// (browser, OS, share %).
const CLIENTS: [(&str, &str, u32); 12] = [
    ("Chrome 142", "Windows", 26),
    ("Chrome 142", "Android", 18),
    ("Safari 26", "iOS", 14),
    ("Chrome 142", "macOS", 8),
    ("Safari 26", "macOS", 7),
    ("Edge 142", "Windows", 8),
    ("Firefox 145", "Windows", 5),
    ("Samsung Internet 28", "Android", 4),
    ("Chrome 142", "ChromeOS", 3),
    ("Firefox 145", "Linux", 2),
    ("Chromium 156", "Linux", 2),
    ("Firefox 145", "macOS", 3),
];
const PLANS: [(&str, u32); 3] = [("free", 70), ("premium", 25), ("trial", 5)];

/// SplitMix64: small, fast, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }

    /// Log-normal with this median and shape.
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        let (u1, u2) = (self.f().max(1e-12), self.f());
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * normal).exp()
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f()).ln()
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut x = (self.next() % u64::from(total)) as u32;
        for &(item, w) in items {
            if x < w {
                return item;
            }
            x -= w;
        }
        items[items.len() - 1].0
    }

    fn hex(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes * 2);
        while s.len() < bytes * 2 {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(bytes * 2);
        s
    }
}

/// One generated view: its dimensions and events.
struct GenView {
    view_id: String,
    session_id: String,
    video: usize,
    player: (&'static str, &'static str),
    client: (&'static str, &'static str),
    plan: &'static str,
    events: Vec<Event>,
}

fn event(t: f64, pt: Option<f64>, kind: EventKind) -> Event {
    Event { t, pt, kind }
}

/// A view starting at `start` (ms): what a player would report over its life.
fn generate(rng: &mut Rng, start: f64, session: &mut (String, u32)) -> GenView {
    // Popularity: a few videos take most views.
    let video = ((rng.f().powf(2.5)) * VIDEOS as f64) as usize;
    let client = rng.weighted(&CLIENTS.map(|(b, o, w)| ((b, o), w)));
    let player = if client.0.starts_with("Safari") && rng.chance(0.5) {
        ("native", "26.1")
    } else {
        rng.weighted(
            &PLAYERS[..]
                .iter()
                .map(|&(p, v, w)| ((p, v), w))
                .collect::<Vec<_>>(),
        )
    };
    let plan = rng.weighted(&PLANS);
    if session.1 == 0 || rng.chance(0.6) {
        *session = (rng.hex(12), 0);
    }
    session.1 += 1;
    let view_id = rng.hex(16);
    // Per-view conditions: a device/network class drives startup, stalls, quality.
    let network = rng.f(); // 0 good … 1 bad
    let top = if network < 0.5 {
        LADDER.len() - 1 - (rng.next() % 2) as usize
    } else if network < 0.85 {
        3 - (rng.next() % 2) as usize
    } else {
        1 + (rng.next() % 2) as usize
    };
    let video_length_s = 120.0 + (video % 40) as f64 * 60.0;

    let mut ev = Vec::with_capacity(64);
    let mut t = start;
    ev.push(event(t, None, EventKind::Viewstart));
    let outcome = rng.f();
    if outcome < 0.03 {
        // Never asked to play (autoplay blocked, scrolled away): a view, not an attempt.
        t += rng.range(2_000.0, 60_000.0);
        ev.push(event(t, None, EventKind::Viewend));
        return GenView::new(view_id, session, video, player, client, plan, ev);
    }
    t += rng.range(20.0, 800.0);
    ev.push(event(t, Some(0.0), EventKind::Playrequest));
    let startup = rng
        .lognormal(700.0 + 900.0 * network, 0.55)
        .clamp(120.0, 40_000.0);
    let mut level = if network < 0.5 { 2 } else { 1 };
    ev.push(event(
        t + 25.0,
        Some(0.0),
        EventKind::Levelswitch {
            from: None,
            to: level as u32,
            bitrate: LADDER[level].0,
            height: Some(LADDER[level].1),
            reason: SwitchReason::Startup,
        },
    ));
    if outcome < 0.055 {
        // Exit before video start: left while waiting.
        t += rng.range(0.3, 0.95) * startup.max(1_500.0);
        ev.push(event(t, Some(0.0), EventKind::Viewend));
        return GenView::new(view_id, session, video, player, client, plan, ev);
    }
    if outcome < 0.065 {
        // Video start failure.
        t += rng.range(200.0, 8_000.0);
        let (code, message) = if rng.chance(0.5) {
            ("manifestLoadError", "playlist request failed: HTTP 404")
        } else {
            (
                "MEDIA_ERR_SRC_NOT_SUPPORTED",
                "no supported source was found",
            )
        };
        ev.push(event(
            t,
            Some(0.0),
            EventKind::Error {
                code: code.into(),
                message: message.into(),
                fatal: true,
            },
        ));
        ev.push(event(t + 50.0, Some(0.0), EventKind::Viewend));
        return GenView::new(view_id, session, video, player, client, plan, ev);
    }
    t += startup;
    ev.push(event(t, Some(0.0), EventKind::Firstframe));

    // Playing: heartbeats every 10 s, the ABR moving, stalls, seeks, pauses.
    let watch_s = rng
        .exponential(240.0 + 360.0 * (1.0 - network))
        .clamp(4.0, 3.0 * 3600.0);
    let stall_rate_per_s = if rng.chance(0.72 - 0.5 * network) {
        0.0
    } else {
        (0.1 + 1.2 * network) / 60.0
    };
    let fails = rng.chance(0.006);
    let fail_at = rng.range(0.05, 0.95) * watch_s;
    let seeks = if rng.chance(0.2) {
        1 + rng.next() % 3
    } else {
        0
    };
    let seek_every = watch_s / (seeks + 1) as f64;
    let pause = rng.chance(0.12).then(|| rng.range(0.1, 0.9) * watch_s);
    let drop_ratio = if rng.chance(0.1) {
        rng.range(0.01, 0.05)
    } else {
        rng.range(0.0, 0.004)
    };
    let fps = if rng.chance(0.3) { 60.0 } else { 30.0 };
    let (mut pt, mut played, mut frames, mut dropped) = (0.0f64, 0.0f64, 0u64, 0u64);
    let mut next_seek = seek_every;
    let step = 1.0; // s of simulated time per tick
    let mut since_heartbeat = 0.0;
    while played < watch_s {
        t += step * 1000.0;
        pt += step;
        played += step;
        since_heartbeat += step;
        let new_frames = (fps * step) as u64;
        frames += new_frames;
        dropped += (new_frames as f64 * drop_ratio).round() as u64;
        if pt >= video_length_s {
            ev.push(event(t, Some(video_length_s), EventKind::Ended));
            break;
        }
        if fails && played >= fail_at {
            ev.push(event(
                t,
                Some(pt),
                EventKind::Error {
                    code: "bufferAppendError".into(),
                    message: "SourceBuffer append failed: decode error".into(),
                    fatal: true,
                },
            ));
            break;
        }
        if stall_rate_per_s > 0.0 && rng.chance(stall_rate_per_s * step) {
            ev.push(event(t, Some(pt), EventKind::Rebufferstart));
            t += rng
                .lognormal(900.0 + 2_000.0 * network, 0.8)
                .clamp(100.0, 30_000.0);
            ev.push(event(t, Some(pt), EventKind::Rebufferend));
            if level > 0 && rng.chance(0.7) {
                ev.push(switch(t + 5.0, pt, &mut level, -1, SwitchReason::BufferLow));
            }
        }
        if seeks > 0 && played >= next_seek {
            next_seek += seek_every;
            let to = rng.range(0.0, video_length_s - 1.0);
            let latency = rng
                .lognormal(350.0 + 600.0 * network, 0.6)
                .clamp(30.0, 10_000.0);
            t += latency;
            ev.push(event(
                t,
                Some(to),
                EventKind::Seek {
                    from: pt,
                    to,
                    latency_ms: latency.round(),
                },
            ));
            pt = to;
        }
        if pause.is_some_and(|at| played >= at && played < at + step) {
            ev.push(event(t, Some(pt), EventKind::Pause));
            t += rng.range(3_000.0, 120_000.0);
            ev.push(event(t, Some(pt), EventKind::Play));
        }
        if since_heartbeat >= 10.0 {
            since_heartbeat = 0.0;
            if level < top && rng.chance(0.25) {
                ev.push(switch(t, pt, &mut level, 1, SwitchReason::ThroughputUp));
            } else if level > 0 && rng.chance(0.03 + 0.1 * network) {
                ev.push(switch(t, pt, &mut level, -1, SwitchReason::ThroughputDown));
            }
            let bitrate = LADDER[level].0;
            ev.push(event(
                t,
                Some(pt),
                EventKind::Heartbeat {
                    bitrate: Some(bitrate),
                    buffer_s: Some((rng.range(4.0, 30.0) * 10.0).round() / 10.0),
                    bandwidth_bps: Some((bitrate as f64 * rng.range(1.2, 4.0)).round()),
                    dropped_frames: dropped,
                    total_frames: frames,
                },
            ));
        }
    }
    ev.push(event(
        t + rng.range(50.0, 3_000.0),
        Some(pt),
        EventKind::Viewend,
    ));
    GenView::new(view_id, session, video, player, client, plan, ev)
}

/// A level switch one rung up (`step` 1) or down (-1) from `level`, which it updates.
fn switch(t: f64, pt: f64, level: &mut usize, step: isize, reason: SwitchReason) -> Event {
    let from = *level;
    let to = from.saturating_add_signed(step).min(LADDER.len() - 1);
    *level = to;
    event(
        t,
        Some(pt),
        EventKind::Levelswitch {
            from: Some(from as u32),
            to: to as u32,
            bitrate: LADDER[to].0,
            height: Some(LADDER[to].1),
            reason,
        },
    )
}

impl GenView {
    fn new(
        view_id: String,
        session: &(String, u32),
        video: usize,
        player: (&'static str, &'static str),
        client: (&'static str, &'static str),
        plan: &'static str,
        events: Vec<Event>,
    ) -> GenView {
        GenView {
            view_id,
            session_id: session.0.clone(),
            video,
            player,
            client,
            plan,
            events,
        }
    }
}

/// A value for either database.
#[derive(Debug, Clone)]
enum V {
    I(i64),
    R(f64),
    T(String),
}

impl rusqlite::ToSql for V {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            V::I(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            V::R(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            V::T(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// Rows for the three tables, as ingest would have written them.
#[derive(Default)]
struct Rows {
    views: Vec<Vec<V>>,
    rollups: Vec<Vec<V>>,
    batches: Vec<Vec<V>>,
    events: Vec<Vec<V>>,
}

fn view_columns() -> Vec<&'static str> {
    let mut c = vec![
        "property",
        "view_id",
        "session_id",
        "video_id",
        "video_title",
        "player",
        "player_version",
        "browser",
        "os",
        "page",
        "custom",
        "sample_rate",
        "first_seen_ms",
        "last_seen_ms",
        "client_dropped",
        "pruned",
        "start_ms",
        "end_ms",
        "minute_ms",
        "weight",
    ];
    c.extend(COUNTERS);
    c
}

fn rollup_columns() -> Vec<&'static str> {
    let mut c = vec![
        "minute_ms",
        "property",
        "video_id",
        "player",
        "browser",
        "os",
        "weight",
    ];
    c.extend(COUNTERS);
    c
}

const BATCH_COLUMNS: [&str; 6] = [
    "property",
    "view_id",
    "seq",
    "batch_id",
    "events",
    "received_ms",
];
const EVENT_COLUMNS: [&str; 8] = [
    "property",
    "view_id",
    "seq",
    "idx",
    "t_ms",
    "type",
    "payload",
    "received_ms",
];

/// Events per batch when raw events are written (a 10 s flush of a playing view holds a
/// heartbeat and a few more).
const EVENTS_PER_BATCH: usize = 8;

/// The views of one minute: their rows and the minute's rollup rows.
fn minute_rows(
    rng: &mut Rng,
    args: &Args,
    minute: i64,
    count: u64,
    session: &mut (String, u32),
    out: &mut Rows,
) -> anyhow::Result<()> {
    type Key = (usize, &'static str, &'static str, &'static str);
    let mut rollups: BTreeMap<Key, (f64, [i64; COUNTERS.len()])> = BTreeMap::new();
    for _ in 0..count {
        let start = minute as f64 + rng.range(0.0, MINUTE_MS as f64 - 1.0).floor();
        let view = generate(rng, start, session);
        let summary = ViewSummary::of(&view.events).context("a view without events")?;
        if summary.minute_ms() != minute {
            bail!("a view's minute moved: {} != {minute}", summary.minute_ms());
        }
        let counters = summary.counters();
        let weight = 1.0;
        let entry = rollups
            .entry((view.video, view.player.0, view.client.0, view.client.1))
            .or_insert((0.0, [0; COUNTERS.len()]));
        entry.0 += weight;
        for (sum, c) in entry.1.iter_mut().zip(counters) {
            *sum += c;
        }
        // Batches are flushed about every 10 s; the server's clock is near the client's.
        let received = |t: f64| t.ceil() as i64 + 40;
        let first_seen = received((summary.start_ms + 10_000).min(summary.end_ms) as f64);
        let last_seen = received(summary.end_ms as f64);
        let video_id = format!("video-{:03}", view.video);
        let mut row = vec![
            V::T(args.property.clone()),
            V::T(view.view_id.clone()),
            V::T(view.session_id.clone()),
            V::T(video_id.clone()),
            V::T(format!("Video {}", view.video)),
            V::T(view.player.0.into()),
            V::T(view.player.1.into()),
            V::T(view.client.0.into()),
            V::T(view.client.1.into()),
            V::T(format!("https://www.example.com/watch/{video_id}")),
            V::T(format!("{{\"plan\":\"{}\"}}", view.plan)),
            V::R(1.0),
            V::I(first_seen),
            V::I(last_seen),
            V::I(0),
            V::I(i64::from(!args.events)),
            V::I(summary.start_ms),
            V::I(summary.end_ms),
            V::I(minute),
            V::R(weight),
        ];
        row.extend(counters.iter().map(|&c| V::I(c)));
        out.views.push(row);
        if args.events {
            for (seq, chunk) in view.events.chunks(EVENTS_PER_BATCH).enumerate() {
                let at = received(chunk.iter().map(|e| e.t).fold(f64::MIN, f64::max));
                out.batches.push(vec![
                    V::T(args.property.clone()),
                    V::T(view.view_id.clone()),
                    V::I(seq as i64),
                    V::T(rng.hex(8)),
                    V::I(chunk.len() as i64),
                    V::I(at),
                ]);
                for (idx, e) in chunk.iter().enumerate() {
                    out.events.push(vec![
                        V::T(args.property.clone()),
                        V::T(view.view_id.clone()),
                        V::I(seq as i64),
                        V::I(idx as i64),
                        V::R(e.t),
                        V::T(e.kind.name().into()),
                        V::T(serde_json::to_string(e)?),
                        V::I(at),
                    ]);
                }
            }
        }
    }
    for ((video, player, browser, os), (weight, sums)) in rollups {
        let mut row = vec![
            V::I(minute),
            V::T(args.property.clone()),
            V::T(format!("video-{video:03}")),
            V::T(player.into()),
            V::T(browser.into()),
            V::T(os.into()),
            V::R(weight),
        ];
        row.extend(sums.iter().map(|&c| V::I(c)));
        out.rollups.push(row);
    }
    Ok(())
}

/// Views per minute: `total` spread over the minutes with a daily cycle (busiest in the
/// evening UTC), exact in sum.
fn per_minute(total: u64, first: i64, minutes: i64) -> Vec<u64> {
    let weight = |m: i64| {
        let hour = ((first + m * MINUTE_MS).rem_euclid(86_400_000)) as f64 / 3_600_000.0;
        1.0 + 0.6 * ((hour - 14.0) / 24.0 * 2.0 * std::f64::consts::PI).cos()
    };
    let weights: Vec<f64> = (0..minutes).map(weight).collect();
    let sum: f64 = weights.iter().sum();
    let (mut cumulative, mut given) = (0.0, 0u64);
    let mut counts: Vec<u64> = weights
        .iter()
        .map(|w| {
            cumulative += w;
            let target = ((total as f64 * cumulative / sum).round() as u64).min(total);
            let n = target.saturating_sub(given);
            given += n;
            n
        })
        .collect();
    if let Some(last) = counts.last_mut() {
        *last += total - given;
    }
    counts
}

trait Sink {
    async fn write(&mut self, rows: Rows) -> anyhow::Result<()>;
    async fn finish(&mut self) -> anyhow::Result<()>;
}

struct Sqlite {
    conn: rusqlite::Connection,
}

fn insert_sql(table: &str, columns: &[&str]) -> String {
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        placeholders.join(", ")
    )
}

impl Sink for Sqlite {
    async fn write(&mut self, rows: Rows) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        for (table, columns, rows) in [
            ("views", view_columns(), &rows.views),
            ("rollup_minute", rollup_columns(), &rows.rollups),
            ("batches", BATCH_COLUMNS.to_vec(), &rows.batches),
            ("events", EVENT_COLUMNS.to_vec(), &rows.events),
        ] {
            let mut statement = tx.prepare_cached(&insert_sql(table, &columns))?;
            for row in rows {
                statement.execute(rusqlite::params_from_iter(row))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    async fn finish(&mut self) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(BACKFILL_SQL)?;
        tx.commit()?;
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

struct Postgres {
    client: tokio_postgres::Client,
}

impl Postgres {
    async fn copy(&mut self, table: &str, columns: &[&str], rows: &[Vec<V>]) -> anyhow::Result<()> {
        use tokio_postgres::binary_copy::BinaryCopyInWriter;
        use tokio_postgres::types::{ToSql, Type};
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let types: Vec<Type> = first
            .iter()
            .map(|v| match v {
                V::I(_) => Type::INT8,
                V::R(_) => Type::FLOAT8,
                V::T(_) => Type::TEXT,
            })
            .collect();
        let sink = self
            .client
            .copy_in(&format!(
                "COPY {table} ({}) FROM STDIN (FORMAT binary)",
                columns.join(", ")
            ))
            .await?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        let mut writer = std::pin::pin!(writer);
        for row in rows {
            let values: Vec<&(dyn ToSql + Sync)> = row
                .iter()
                .map(|v| match v {
                    V::I(i) => i as &(dyn ToSql + Sync),
                    V::R(r) => r as &(dyn ToSql + Sync),
                    V::T(s) => s as &(dyn ToSql + Sync),
                })
                .collect();
            writer.as_mut().write(&values).await?;
        }
        writer.finish().await?;
        Ok(())
    }
}

impl Sink for Postgres {
    async fn write(&mut self, rows: Rows) -> anyhow::Result<()> {
        self.client.batch_execute("BEGIN").await?;
        self.copy("views", &view_columns(), &rows.views).await?;
        self.copy("rollup_minute", &rollup_columns(), &rows.rollups)
            .await?;
        self.copy("batches", &BATCH_COLUMNS, &rows.batches).await?;
        self.copy("events", &EVENT_COLUMNS, &rows.events).await?;
        self.client.batch_execute("COMMIT").await?;
        Ok(())
    }

    async fn finish(&mut self) -> anyhow::Result<()> {
        self.client
            .batch_execute(&format!("BEGIN; {BACKFILL_SQL}; COMMIT"))
            .await?;
        // One statement each: several in one string would run as one transaction.
        for table in [
            "views",
            "rollup_minute",
            "rollup_hour",
            "rollup_day",
            "batches",
            "events",
        ] {
            self.client
                .batch_execute(&format!("VACUUM ANALYZE {table}"))
                .await?;
        }
        Ok(())
    }
}

async fn seed<S: Sink>(sink: &mut S, args: &Args) -> anyhow::Result<(u64, u64)> {
    let end = args.end_ms.unwrap_or_else(collector::store::now_ms);
    let last_minute = end.div_euclid(MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    let minutes = (args.days as i64 * 1440).max(1);
    let first_minute = last_minute - (minutes - 1) * MINUTE_MS;
    let counts = per_minute(args.views, first_minute, minutes);
    let mut rng = Rng(args.seed);
    let mut session = (String::new(), 0);
    let (mut views, mut rollups) = (0u64, 0u64);
    let mut rows = Rows::default();
    let started = Instant::now();
    for (i, &count) in counts.iter().enumerate() {
        let minute = first_minute + i as i64 * MINUTE_MS;
        minute_rows(&mut rng, args, minute, count, &mut session, &mut rows)?;
        if rows.views.len() + rows.events.len() / 16 >= 25_000 || i + 1 == counts.len() {
            views += rows.views.len() as u64;
            rollups += rows.rollups.len() as u64;
            sink.write(std::mem::take(&mut rows)).await?;
            eprint!(
                "\rseed_views: {views} views, {rollups} rollup rows, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!();
    sink.finish().await?;
    Ok((views, rollups))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let location = Location::parse(&args.db)?;
    // Creates and migrates the schema exactly as the collector does.
    let store = Store::open(
        &location,
        StoreOptions::default(),
        Arc::new(Metrics::default()),
    )
    .await
    .with_context(|| format!("cannot open {}", args.db))?;
    let existing = store
        .query(
            "SELECT COUNT(*) FROM views WHERE property = $1",
            &[args.property.as_str().into()],
        )
        .await?;
    let existing = existing.rows[0][0].as_i64().unwrap_or(0);
    if existing > 0 {
        bail!(
            "{} already holds {existing} views of {}",
            args.db,
            args.property
        );
    }
    drop(store);
    let started = Instant::now();
    let (views, rollups) = match &location {
        Location::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
            )?;
            seed(&mut Sqlite { conn }, &args).await?
        }
        Location::Postgres(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    eprintln!("seed_views: PostgreSQL connection: {e}");
                }
            });
            seed(&mut Postgres { client }, &args).await?
        }
    };
    println!(
        "seed_views: {views} views over {} days, {rollups} rollup_minute rows{} into {} in {:.1} s",
        args.days,
        if args.events { ", with raw events" } else { "" },
        args.db,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
