//! Scratch: time per `choose` of every algorithm on the bench's context (quick check
//! without criterion; `perf record` friendly). `-- NAME N` loops one algorithm N times.

use player_wasm::abr::{
    Abr, AbrContext, AbrKind, BandwidthEstimator, DownloadRecord, LevelInfo, Upcoming,
};
use std::hint::black_box;

#[path = "abr_tune.rs"]
#[allow(dead_code)]
mod tune;

const LADDER_KBPS: [f64; 6] = [300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0];

fn main() {
    let levels: Vec<LevelInfo> = LADDER_KBPS
        .iter()
        .map(|k| LevelInfo {
            bitrate_bps: k * 1000.0,
        })
        .collect();
    let mut sizes = Vec::new();
    for segment in 0..48 {
        for (level, kbps) in LADDER_KBPS.iter().enumerate() {
            sizes.push(
                kbps * 1000.0 / 8.0 * 4.0 * (0.9 + ((segment * 7 + level) % 20) as f64 / 100.0),
            );
        }
    }
    let durations = vec![4.0; 48];
    let mut history = Vec::new();
    let mut estimator = BandwidthEstimator::default();
    let mut now = 0.0;
    for segment in 0..20 {
        let level = [1, 2, 3, 3, 4][segment % 5];
        let bytes = LADDER_KBPS[level] * 1000.0 / 8.0 * 4.0;
        let bps = 2.0e6 + 1.5e6 * ((segment as f64) * 1.3).sin();
        let transfer = bytes * 8.0 / bps;
        history.push(DownloadRecord {
            level,
            bytes,
            media_duration_s: 4.0,
            requested_at: now,
            first_byte_at: now + 0.08,
            finished_at: now + 0.08 + transfer,
            abandoned: false,
        });
        estimator.sample(bytes, transfer);
        now += 1.08 + transfer;
    }
    let ctx = |n: usize| AbrContext {
        now,
        levels: &levels,
        max_allowed_level: 5,
        last_level: Some(3),
        buffer_s: 18.0,
        max_buffer_s: 60.0,
        upcoming: Upcoming {
            durations_s: &durations,
            sizes_bytes: &sizes,
            levels: 6,
            sizes_exact: true,
        },
        segments_remaining: Some(48),
        history: &history[..n],
        estimator: &estimator,
        playback_started: true,
    };
    let mut args = std::env::args().skip(1);
    let only: Option<AbrKind> = args.next().map(|a| a.parse().unwrap());
    let n: usize = args.next().map_or(20_000, |a| a.parse().unwrap());
    let spec = args.next();
    for kind in AbrKind::ALL {
        if only.is_some_and(|o| o != kind) {
            continue;
        }
        let mut abr: Box<dyn Abr> = match (&spec, kind) {
            (Some(spec), AbrKind::Default) => {
                Box::new(player_wasm::abr::DefaultAbr::with_config(tune::parse(spec)))
            }
            _ => kind.build(),
        };
        abr.choose(&ctx(19));
        let mut best = f64::INFINITY;
        for _ in 0..10 {
            let t = std::time::Instant::now();
            for _ in 0..n / 10 {
                black_box(abr.choose(black_box(&ctx(20))));
            }
            best = best.min(t.elapsed().as_secs_f64() / (n / 10) as f64 * 1e6);
        }
        println!(
            "{:11} {best:8.2} µs per choose (repeated, warm; best of 10 rounds)",
            kind.name()
        );
    }
}
