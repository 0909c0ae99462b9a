//! Property tests: the engine driven by random streams, networks, failures and user
//! actions keeps its promises.
//!
//! * every URL it fetches is the loaded one or comes from a playlist it was served;
//! * on each track, segment appends move forward in time between seeks;
//! * its view of every track's buffer is what the shell last reported;
//! * nothing the browser would reject (append before the track exists, …);
//! * without injected failures or user actions, a VOD stream plays to its end;
//! * it never panics, whatever arrives, in whatever order.

#![cfg(not(target_arch = "wasm32"))] // proptest is a native-only dev-dependency

use player_wasm::engine::{
    AppendFailure, Engine, EngineConfig, FetchFailure, Input, MediaSnapshot, RequestId, TimeRange,
    TrackId, ranges,
};
use player_wasm::hls::{Playlist, parse_playlist};
use player_wasm::sim::{ConstantNetwork, MapOrigin, VirtualPlayer};
use player_wasm::url::Url;
use proptest::prelude::*;
use std::collections::BTreeSet;

const BASE: &str = "https://origin.test/s/";

#[derive(Debug, Clone)]
struct StreamShape {
    levels: Vec<u64>,
    durations: Vec<f64>,
    byte_ranges: bool,
    init: bool,
    gaps: Vec<bool>,
    audio: bool,
}

#[derive(Debug, Clone)]
enum UserAction {
    Seek(f64),
    Pause,
    Play,
    SetLevel(Option<usize>),
}

fn stream_shape() -> impl Strategy<Value = StreamShape> {
    (
        prop::collection::vec(100_000u64..6_000_000, 1..5),
        prop::collection::vec(0.5f64..10.0, 1..25),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(levels, durations, byte_ranges, init, audio)| {
            let count = durations.len();
            (
                Just(levels),
                Just(durations),
                Just(byte_ranges),
                Just(init),
                prop::collection::vec(prop::bool::weighted(0.08), count),
                Just(audio),
            )
        })
        .prop_map(
            |(levels, durations, byte_ranges, init, gaps, audio)| StreamShape {
                levels,
                durations,
                byte_ranges,
                init,
                gaps,
                audio,
            },
        )
}

fn user_action() -> impl Strategy<Value = UserAction> {
    prop_oneof![
        (-5.0f64..300.0).prop_map(UserAction::Seek),
        Just(UserAction::Pause),
        Just(UserAction::Play),
        proptest::option::of(0usize..6).prop_map(UserAction::SetLevel),
    ]
}

/// Builds the origin for a stream shape; returns it with the master URL.
fn build_origin(shape: &StreamShape) -> MapOrigin {
    let mut origin = MapOrigin::new();
    let mut master = String::from("#EXTM3U\n");
    if shape.audio {
        master.push_str(
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"main\",DEFAULT=YES,URI=\"audio.m3u8\"\n",
        );
    }
    let media = |prefix: &str, bandwidth: u64, origin: &mut MapOrigin| {
        let target = shape.durations.iter().fold(1.0f64, |a, b| a.max(*b)).ceil();
        let mut text = format!("#EXTM3U\n#EXT-X-TARGETDURATION:{target}\n");
        if shape.init {
            text.push_str(&format!("#EXT-X-MAP:URI=\"{prefix}init.mp4\"\n"));
            origin.bytes(&format!("{BASE}{prefix}init.mp4"), 700);
        }
        let mut offset = 0u64;
        for (index, duration) in shape.durations.iter().enumerate() {
            let size = (bandwidth as f64 / 8.0 * duration) as u64 + 1;
            if shape.gaps[index] {
                text.push_str("#EXT-X-GAP\n");
            }
            if shape.byte_ranges {
                text.push_str(&format!(
                    "#EXTINF:{duration:.3},\n#EXT-X-BYTERANGE:{size}@{offset}\n{prefix}all.mp4\n"
                ));
                offset += size;
            } else {
                text.push_str(&format!("#EXTINF:{duration:.3},\n{prefix}{index}.m4s\n"));
                if !shape.gaps[index] {
                    origin.bytes(&format!("{BASE}{prefix}{index}.m4s"), size);
                }
            }
        }
        if shape.byte_ranges {
            origin.bytes(&format!("{BASE}{prefix}all.mp4"), offset);
        }
        text.push_str("#EXT-X-ENDLIST\n");
        origin.text(&format!("{BASE}{prefix}.m3u8"), &text);
    };
    for (index, bandwidth) in shape.levels.iter().enumerate() {
        let group = if shape.audio { ",AUDIO=\"a\"" } else { "" };
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth}{group}\nl{index}.m3u8\n"
        ));
        media(&format!("l{index}"), *bandwidth, &mut origin);
    }
    if shape.audio {
        media("audio", 128_000, &mut origin);
    }
    origin.text(&format!("{BASE}master.m3u8"), &master);
    origin
}

/// Every URL a playlist served by `origin` names, plus the playlists themselves.
fn allowed_urls(origin: &MapOrigin, playlists: &[String]) -> BTreeSet<String> {
    let mut allowed: BTreeSet<String> = playlists.iter().cloned().collect();
    let mut origin = origin.clone();
    for url in playlists {
        use player_wasm::sim::Origin;
        let player_wasm::sim::Resource::Text(text) = origin.get(0.0, url, None) else {
            continue;
        };
        match parse_playlist(&text, &Url::parse(url).unwrap()) {
            Ok(Playlist::Master(master)) => {
                allowed.extend(master.variants.iter().map(|v| v.uri.to_string()));
                allowed.extend(
                    master
                        .renditions
                        .iter()
                        .filter_map(|r| r.uri.as_ref().map(Url::to_string)),
                );
            }
            Ok(Playlist::Media(media)) => {
                for segment in &media.segments {
                    allowed.insert(segment.uri.to_string());
                    if let Some(init) = &segment.init {
                        allowed.insert(init.uri.to_string());
                    }
                }
            }
            Err(_) => {}
        }
    }
    allowed
}

fn playlist_urls(shape: &StreamShape) -> Vec<String> {
    let mut urls = vec![format!("{BASE}master.m3u8")];
    urls.extend((0..shape.levels.len()).map(|index| format!("{BASE}l{index}.m3u8")));
    if shape.audio {
        urls.push(format!("{BASE}audio.m3u8"));
    }
    urls
}

fn check_appends_move_forward(
    player: &VirtualPlayer<MapOrigin, ConstantNetwork>,
    seeks: &[f64],
) -> Result<(), TestCaseError> {
    for track in [TrackId::Main, TrackId::Audio] {
        let mut last: Option<f64> = None;
        let mut seek_index = 0;
        for append in player
            .appends
            .iter()
            .filter(|a| a.track == track && a.duration > 0.0)
        {
            while seek_index < seeks.len() && seeks[seek_index] <= append.at {
                last = None;
                seek_index += 1;
            }
            if let Some(previous) = last {
                prop_assert!(
                    append.start > previous,
                    "{track:?}: append at {} after {}",
                    append.start,
                    previous
                );
            }
            last = Some(append.start);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_keeps_its_invariants(
        shape in stream_shape(),
        bps in 150_000f64..30_000_000.0,
        latency in 0.0f64..0.5,
        failures in prop::collection::vec((0usize..40, prop::sample::select(vec![404u16, 500, 503, 403])), 0..4),
        actions in prop::collection::vec((0.0f64..120.0, user_action()), 0..6),
        abr in prop::sample::select(player_wasm::abr::AbrKind::ALL.to_vec()),
    ) {
        let mut origin = build_origin(&shape);
        let playlists = playlist_urls(&shape);
        let allowed = allowed_urls(&origin, &playlists);
        let allowed_list: Vec<&String> = allowed.iter().collect();
        for (pick, status) in &failures {
            let url = allowed_list[pick % allowed_list.len()].clone();
            origin.fail_next(&url, Some(*status), 2);
        }
        let config = EngineConfig { abr, max_buffer_s: 20.0, ..EngineConfig::default() };
        let mut player = VirtualPlayer::new(Engine::new(config).unwrap(), origin, ConstantNetwork::new(bps, latency));
        player.load(&format!("{BASE}master.m3u8"));
        let mut actions = actions;
        actions.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut seeks = Vec::new();
        for (at, action) in &actions {
            player.run_until(*at);
            match action {
                UserAction::Seek(position) => {
                    seeks.push(player.now());
                    player.input(Input::Seek { position: *position });
                }
                UserAction::Pause => player.input(Input::Pause),
                UserAction::Play => player.input(Input::Play),
                UserAction::SetLevel(level) => player.input(Input::SetLevel { level: *level }),
            }
        }
        if actions.iter().any(|(_, action)| matches!(action, UserAction::Pause)) {
            player.input(Input::Play);
        }
        let total: f64 = shape.durations.iter().sum();
        player.run_to_end(2_000.0 + total * 20.0);
        prop_assert!(player.violations.is_empty(), "{:?}", player.violations);
        prop_assert_eq!(player.accounting_mismatches, 0);
        for (_, request) in &player.fetches {
            prop_assert!(allowed.contains(&request.url), "fetched {} which no playlist names", request.url);
        }
        check_appends_move_forward(&player, &seeks)?;
        if failures.is_empty() && actions.is_empty() {
            prop_assert!(player.media.ended, "a clean VOD must play to the end (position {}, {:?})", player.media.position, player.events.last());
        } else {
            prop_assert!(player.media.ended || player.failed() || player.media.paused || !seeks.is_empty() || !failures.is_empty(),
                "stuck at {} without an error", player.media.position);
        }
    }

    #[test]
    fn raw_inputs_in_any_order_never_panic_and_buffer_is_what_was_told(
        inputs in prop::collection::vec(raw_input(), 0..60),
    ) {
        let mut engine = Engine::new(EngineConfig::default()).unwrap();
        let mut told: std::collections::HashMap<TrackId, Vec<TimeRange>> = Default::default();
        let mut now = 0.0;
        for (advance, input) in inputs {
            now += advance;
            if let Input::Buffered { track, ranges: reported } = &input {
                told.insert(*track, ranges::normalize(reported));
            }
            if matches!(input, Input::Load { .. }) {
                // A new session starts from empty source buffers.
                told.clear();
            }
            engine.handle(now, input);
            while engine.poll_action().is_some() {}
            let _ = engine.next_deadline();
            let _ = engine.stats();
            prop_assert_eq!(engine.buffered(TrackId::Main), told.get(&TrackId::Main).cloned().unwrap_or_default());
        }
    }
}

fn raw_input() -> impl Strategy<Value = (f64, Input)> {
    let request = (0u64..8).prop_map(RequestId);
    let range = (-10.0f64..100.0, 0.0f64..30.0)
        .prop_map(|(start, length)| TimeRange::new(start, start + length));
    let input = prop_oneof![
        Just(Input::Load { url: format!("{BASE}master.m3u8") }),
        "[ -~]{0,20}".prop_map(|url| Input::Load { url }),
        (request.clone(), proptest::option::of(0u64..10_000_000)).prop_map(|(request, total_bytes)| Input::ResponseStarted { request, total_bytes }),
        (request.clone(), any::<u64>()).prop_map(|(request, loaded)| Input::Progress { request, loaded }),
        (request.clone(), "#EXTM3U\n(#EXT-X-STREAM-INF:BANDWIDTH=[0-9]{1,7}\nv[0-9].m3u8\n|#EXT-X-TARGETDURATION:[0-9]\n|#EXTINF:[0-9.]{1,4},\ns[0-9].ts\n|#EXT-X-ENDLIST\n){0,8}")
            .prop_map(|(request, text)| Input::PlaylistLoaded { request, text, url: None }),
        (request.clone(), any::<u64>()).prop_map(|(request, bytes)| Input::SegmentLoaded { request, bytes }),
        (request.clone(), proptest::option::of(100u16..600)).prop_map(|(request, status)| Input::RequestFailed {
            request,
            failure: FetchFailure { status, message: String::new() },
        }),
        (prop::sample::select(vec![TrackId::Main, TrackId::Audio]), prop::collection::vec(range, 0..4))
            .prop_map(|(track, ranges)| Input::Buffered { track, ranges }),
        (request.clone(), any::<bool>()).prop_map(|(request, quota)| Input::AppendFailed {
            track: TrackId::Main,
            request,
            failure: if quota { AppendFailure::QuotaExceeded } else { AppendFailure::Decode { message: "x".into() } },
        }),
        (any::<f64>(), any::<bool>(), any::<bool>(), any::<bool>(), 0u8..5).prop_map(|(current_time, paused, waiting, seeking, ready_state)| {
            Input::Media(MediaSnapshot { current_time, paused, waiting, seeking, ready_state, ..MediaSnapshot::default() })
        }),
        Just(Input::Play),
        Just(Input::Pause),
        any::<f64>().prop_map(|position| Input::Seek { position }),
        proptest::option::of(0usize..10).prop_map(|level| Input::SetLevel { level }),
        Just(Input::Timer),
        (-5.0f64..120.0, prop::option::of(0usize..8), prop::sample::select(player_wasm::abr::AbrKind::ALL.to_vec()))
            .prop_map(|(max_buffer_s, start_level, abr)| Input::SetOptions(Box::new(EngineConfig {
                max_buffer_s,
                start_level,
                abr,
                ..EngineConfig::default()
            }))),
    ];
    (0.0f64..5.0, input)
}
