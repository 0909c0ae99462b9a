//! How long one ABR decision takes, for every algorithm.
//!
//! The context is a realistic mid-session one: 6 levels (Pensieve's ladder), 48 upcoming
//! segments of 4 s with exact, varying sizes, 20 completed downloads at varying
//! throughputs, 60 s buffer cap. Each iteration times one `choose` on an instance that
//! has already decided with the first 19 downloads (set-up excluded), so stateful
//! algorithms do exactly the work of a new segment, as in a session.

// criterion is a native-only dev-dependency; on wasm32 this bench is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use player_wasm::abr::{
    AbrContext, AbrKind, BandwidthEstimator, DownloadRecord, LevelInfo, Upcoming,
};
use std::hint::black_box;

const LADDER_KBPS: [f64; 6] = [300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0];
const SEGMENTS: usize = 48;
const SEGMENT_S: f64 = 4.0;

struct Fixture {
    levels: Vec<LevelInfo>,
    sizes: Vec<f64>,
    durations: Vec<f64>,
    history: Vec<DownloadRecord>,
    estimator: BandwidthEstimator,
}

fn fixture() -> Fixture {
    let levels = LADDER_KBPS
        .iter()
        .map(|kbps| LevelInfo {
            bitrate_bps: kbps * 1000.0,
        })
        .collect();
    let mut sizes = Vec::with_capacity(SEGMENTS * LADDER_KBPS.len());
    for segment in 0..SEGMENTS {
        for (level, kbps) in LADDER_KBPS.iter().enumerate() {
            let wobble = 0.9 + ((segment * 7 + level) % 20) as f64 / 100.0;
            sizes.push(kbps * 1000.0 / 8.0 * SEGMENT_S * wobble);
        }
    }
    let mut history = Vec::new();
    let mut estimator = BandwidthEstimator::default();
    let mut now = 0.0;
    for segment in 0..20 {
        let level = [1, 2, 3, 3, 4][segment % 5];
        let bytes = LADDER_KBPS[level] * 1000.0 / 8.0 * SEGMENT_S;
        let bps = 2.0e6 + 1.5e6 * ((segment as f64) * 1.3).sin();
        let transfer = bytes * 8.0 / bps;
        history.push(DownloadRecord {
            level,
            bytes,
            media_duration_s: SEGMENT_S,
            requested_at: now,
            first_byte_at: now + 0.08,
            finished_at: now + 0.08 + transfer,
            abandoned: false,
            final_bps: None,
        });
        estimator.sample(bytes, transfer);
        estimator.sample_ttfb(0.08);
        now += 0.08 + transfer + 1.0;
    }
    Fixture {
        levels,
        sizes,
        durations: vec![SEGMENT_S; SEGMENTS],
        history,
        estimator,
    }
}

fn bench_decisions(c: &mut Criterion) {
    let fixture = fixture();
    let ctx = |downloads: usize| AbrContext {
        now: fixture.history[downloads - 1].finished_at,
        levels: &fixture.levels,
        max_allowed_level: LADDER_KBPS.len() - 1,
        last_level: Some(3),
        buffer_s: 18.0,
        max_buffer_s: 60.0,
        upcoming: Upcoming {
            durations_s: &fixture.durations,
            sizes_bytes: &fixture.sizes,
            levels: LADDER_KBPS.len(),
            sizes_exact: true,
        },
        segments_remaining: Some(SEGMENTS),
        history: &fixture.history[..downloads],
        estimator: &fixture.estimator,
        playback_started: true,
    };
    let mut group = c.benchmark_group("abr_decision");
    for kind in AbrKind::ALL {
        group.bench_function(kind.name(), |b| {
            let previous = ctx(19);
            let current = ctx(20);
            b.iter_batched_ref(
                || {
                    let mut abr = kind.build();
                    abr.choose(&previous);
                    abr
                },
                |abr| black_box(abr.choose(black_box(&current))),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_decisions);
criterion_main!(benches);
