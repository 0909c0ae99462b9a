//! How long the engine takes to decide the next segment.
//!
//! The measured step is the engine handling "segment loaded" mid-session (6 levels, 48
//! segments of 4 s with exact sizes from byte ranges, 20 segments downloaded) up to the
//! request for the next segment: bookkeeping, the append, the ABR context (sizes of the
//! next 48 segments at every level) and the ABR's choice, for every algorithm.

// criterion is a native-only dev-dependency; on wasm32 this bench is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use player_wasm::abr::AbrKind;
use player_wasm::engine::{Action, Engine, EngineConfig, Input, RequestKind};
use player_wasm::sim::{ConstantNetwork, MapOrigin, VirtualPlayer};
use std::hint::black_box;

const BASE: &str = "https://bench.invalid/";
const LADDER_KBPS: [u64; 6] = [300, 750, 1200, 1850, 2850, 4300];

fn origin() -> MapOrigin {
    let mut origin = MapOrigin::new();
    let mut master = String::from("#EXTM3U\n");
    for (level, kbps) in LADDER_KBPS.iter().enumerate() {
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={}\nl{level}.m3u8\n",
            kbps * 1000
        ));
        let mut playlist =
            String::from("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n");
        let mut offset = 0;
        for chunk in 0..48u64 {
            let size = kbps * 1000 / 8 * 4 * (90 + (chunk * 7 + level as u64) % 20) / 100;
            playlist.push_str(&format!(
                "#EXTINF:4.0,\n#EXT-X-BYTERANGE:{size}@{offset}\nl{level}.mp4\n"
            ));
            offset += size;
        }
        playlist.push_str("#EXT-X-ENDLIST\n");
        origin.text(&format!("{BASE}l{level}.m3u8"), &playlist);
        origin.bytes(&format!("{BASE}l{level}.mp4"), offset);
    }
    origin.text(&format!("{BASE}master.m3u8"), &master);
    origin
}

/// A session 20 segments in, with the 21st about to finish downloading.
fn mid_session(abr: AbrKind) -> (VirtualPlayer<MapOrigin, ConstantNetwork>, Input, f64) {
    let config = EngineConfig {
        abr,
        max_buffer_s: 60.0,
        abandon_slow_downloads: false,
        ..EngineConfig::default()
    };
    let mut player = VirtualPlayer::new(
        Engine::new(config).unwrap(),
        origin(),
        ConstantNetwork::new(2.5e6, 0.05),
    );
    player.load(&format!("{BASE}master.m3u8"));
    while player.engine.downloads().len() < 20 {
        assert!(player.step(), "session ended early");
    }
    // The 21st segment's request is the last one made.
    let (_, request) = player
        .fetches
        .iter()
        .rev()
        .find(|(_, request)| matches!(request.kind, RequestKind::Segment { .. }))
        .cloned()
        .unwrap();
    let bytes = request.range.map_or(1_000_000, |range| range.length);
    let now = player.now() + 1.0;
    (
        player,
        Input::SegmentLoaded {
            request: request.id,
            bytes,
        },
        now,
    )
}

fn decide_next_segment(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_next_segment_decision");
    for abr in AbrKind::ALL {
        group.bench_function(abr.name(), |b| {
            b.iter_batched(
                || mid_session(abr),
                |(mut player, input, now)| {
                    player.engine.handle(now, input);
                    let mut fetched = false;
                    while let Some(action) = player.engine.poll_action() {
                        fetched |= matches!(action, Action::Fetch(_));
                        black_box(&action);
                    }
                    assert!(fetched, "the step must end with the next request");
                    player
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, decide_next_segment);
criterion_main!(benches);
