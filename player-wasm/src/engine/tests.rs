//! Engine behaviour, driven through the virtual browser in virtual time.

use super::*;
use crate::sim::{ConstantNetwork, MapOrigin, Origin, Resource, VirtualPlayer};
use protocol::SwitchReason;

const BASE: &str = "https://cdn.test/vod/";

/// A 3-level fMP4 VOD ladder of `segments` × 4 s segments.
fn vod_origin(segments: usize) -> MapOrigin {
    let mut origin = MapOrigin::new();
    let ladder = [
        (400_000u64, "320x180"),
        (1_200_000, "640x360"),
        (3_000_000, "1280x720"),
    ];
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (index, (bandwidth, resolution)) in ladder.iter().enumerate() {
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={resolution},CODECS=\"avc1.64001f,mp4a.40.2\"\nlevel{index}/index.m3u8\n"
        ));
        let mut media = String::from(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n",
        );
        for segment in 0..segments {
            media.push_str(&format!("#EXTINF:4.0,\nseg{segment}.m4s\n"));
            origin.bytes(
                &format!("{BASE}level{index}/seg{segment}.m4s"),
                bandwidth / 8 * 4,
            );
        }
        media.push_str("#EXT-X-ENDLIST\n");
        origin.text(&format!("{BASE}level{index}/index.m3u8"), &media);
        origin.bytes(&format!("{BASE}level{index}/init.mp4"), 800);
    }
    origin.text(&format!("{BASE}master.m3u8"), &master);
    origin
}

fn player<O: Origin>(
    origin: O,
    bps: f64,
    config: EngineConfig,
) -> VirtualPlayer<O, ConstantNetwork> {
    VirtualPlayer::new(
        Engine::new(config).unwrap(),
        origin,
        ConstantNetwork::new(bps, 0.05),
    )
}

/// A player that has just loaded the 3-level VOD ladder's master playlist.
fn loaded<O: Origin>(
    origin: O,
    bps: f64,
    config: EngineConfig,
) -> VirtualPlayer<O, ConstantNetwork> {
    let mut player = player(origin, bps, config);
    player.load(&format!("{BASE}master.m3u8"));
    player
}

fn segment_fetches<O: Origin, N: crate::sim::Network>(
    player: &VirtualPlayer<O, N>,
) -> Vec<(usize, u64)> {
    player
        .fetches
        .iter()
        .filter_map(|(_, request)| match request.kind {
            RequestKind::Segment {
                level, sequence, ..
            } => Some((level, sequence)),
            _ => None,
        })
        .collect()
}

fn has_event<O: Origin, N: crate::sim::Network>(
    player: &VirtualPlayer<O, N>,
    test: impl Fn(&Event) -> bool,
) -> bool {
    player.events.iter().any(|(_, event)| test(event))
}

fn assert_clean<O: Origin, N: crate::sim::Network>(player: &VirtualPlayer<O, N>) {
    assert!(
        player.violations.is_empty(),
        "violations: {:?}",
        player.violations
    );
    assert_eq!(
        player.accounting_mismatches, 0,
        "buffer accounting diverged"
    );
}

#[test]
fn vod_plays_to_the_end_in_order() {
    let mut player = loaded(vod_origin(10), 8e6, EngineConfig::default());
    player.run_to_end(600.0);
    assert!(player.media.ended, "playback should end");
    assert_clean(&player);
    let fetched = segment_fetches(&player);
    let sequences: Vec<u64> = fetched.iter().map(|(_, sequence)| *sequence).collect();
    assert_eq!(sequences, (0..10).collect::<Vec<_>>());
    assert!(has_event(&player, |event| matches!(
        event,
        Event::FirstFrame { .. }
    )));
    assert!(has_event(&player, |event| matches!(event, Event::Ended)));
    assert!(has_event(
        &player,
        |event| matches!(event, Event::ManifestLoaded { levels, live: false } if levels.len() == 3)
    ));
    // Appends on the main track move forward in time.
    let starts: Vec<f64> = player
        .appends
        .iter()
        .filter(|a| a.duration > 0.0)
        .map(|a| a.start)
        .collect();
    assert!(
        starts.windows(2).all(|pair| pair[0] < pair[1]),
        "{starts:?}"
    );
    // An init section precedes the first segment.
    assert_eq!(player.appends[0].duration, 0.0);
    assert_eq!(player.media.duration, Some(40.0));
    let stats = player.engine.stats();
    assert_eq!(stats.qoe.segments, 10);
    assert_eq!(stats.qoe.rebuffer_count, 0);
    assert!(stats.qoe.startup_time_s.unwrap() > 0.0);
}

#[test]
fn fast_network_climbs_to_the_top_and_slow_one_stays_low() {
    let mut fast = loaded(vod_origin(30), 20e6, EngineConfig::default());
    fast.run_to_end(600.0);
    let levels: Vec<usize> = segment_fetches(&fast)
        .iter()
        .map(|(level, _)| *level)
        .collect();
    assert_eq!(*levels.last().unwrap(), 2, "{levels:?}");
    let mut slow = loaded(vod_origin(30), 600_000.0, EngineConfig::default());
    slow.run_to_end(2_000.0);
    assert!(slow.media.ended);
    let levels: Vec<usize> = segment_fetches(&slow)
        .iter()
        .map(|(level, _)| *level)
        .collect();
    let lowest = levels.iter().filter(|level| **level == 0).count();
    assert!(
        lowest * 3 >= levels.len() * 2,
        "mostly the lowest level: {levels:?}"
    );
    assert!(!levels.contains(&2), "{levels:?}");
    assert_eq!(slow.engine.stats().qoe.rebuffer_count, 0);
    assert_clean(&slow);
}

#[test]
fn every_algorithm_plays_through() {
    for abr in crate::abr::AbrKind::ALL {
        let config = EngineConfig {
            abr,
            ..EngineConfig::default()
        };
        let mut player = loaded(vod_origin(12), 3e6, config);
        player.run_to_end(1_000.0);
        assert!(player.media.ended, "{abr} did not finish");
        assert_clean(&player);
    }
}

#[test]
fn start_level_and_manual_level() {
    let config = EngineConfig {
        start_level: Some(2),
        ..EngineConfig::default()
    };
    // Long enough that segments remain to fetch after 30 s with a full buffer.
    let mut player = loaded(vod_origin(40), 20e6, config);
    player.run_until(1.0);
    assert_eq!(segment_fetches(&player)[0].0, 2);
    player.input(Input::SetLevel { level: Some(0) });
    player.run_until(30.0);
    let fetched = segment_fetches(&player);
    assert!(fetched.len() > 3);
    assert!(
        fetched.iter().skip(2).all(|(level, _)| *level == 0),
        "{fetched:?}"
    );
    assert!(!player.engine.auto_level());
    assert!(has_event(&player, |event| matches!(
        event,
        Event::LevelSwitching {
            to: 0,
            reason: SwitchReason::Manual,
            ..
        }
    )));
    player.input(Input::SetLevel { level: None });
    player.run_to_end(600.0);
    assert!(player.engine.auto_level());
    assert_eq!(segment_fetches(&player).last().unwrap().0, 2);
    // An out-of-range level is reported, not obeyed.
    player.input(Input::SetLevel { level: Some(9) });
    assert!(has_event(&player, |event| matches!(
        event,
        Event::Error { fatal: false, .. }
    )));
    assert!(player.engine.auto_level());
}

#[test]
fn failed_segments_are_retried_with_exponential_backoff() {
    let mut origin = vod_origin(6);
    origin.fail_next(&format!("{BASE}level0/seg2.m4s"), Some(503), 2);
    let config = EngineConfig {
        start_level: Some(0),
        abr: crate::abr::AbrKind::Bb,
        ..EngineConfig::default()
    };
    let mut player = loaded(origin, 2e6, config);
    player.run_to_end(600.0);
    assert!(player.media.ended);
    let attempts: Vec<f64> = player
        .fetches
        .iter()
        .filter(|(_, request)| request.url.ends_with("level0/seg2.m4s"))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(attempts.len(), 3, "two failures then success");
    // Failures arrive after the 50 ms latency; retries wait 0.5 s then 1 s.
    assert!(
        (attempts[1] - attempts[0] - 0.55).abs() < 1e-6,
        "{attempts:?}"
    );
    assert!(
        (attempts[2] - attempts[1] - 1.05).abs() < 1e-6,
        "{attempts:?}"
    );
    let retries = player
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::RetryScheduled { .. }))
        .count();
    assert_eq!(retries, 2);
    assert_clean(&player);
}

#[test]
fn a_missing_segment_falls_back_to_another_level() {
    let mut origin = vod_origin(6);
    origin.fail_next(&format!("{BASE}level2/seg3.m4s"), Some(404), 10);
    let config = EngineConfig {
        start_level: Some(2),
        abr: crate::abr::AbrKind::Bb,
        ..EngineConfig::default()
    };
    let mut player = loaded(origin, 50e6, config);
    player.input(Input::SetLevel { level: Some(2) });
    player.run_to_end(600.0);
    assert!(player.media.ended, "playback continues on another level");
    assert!(has_event(&player, |event| matches!(
        event,
        Event::Error {
            kind: ErrorKind::SegmentLoad,
            fatal: false,
            ..
        }
    )));
    let fetched = segment_fetches(&player);
    assert!(fetched.contains(&(1, 3)), "{fetched:?}");
    assert!(
        !fetched
            .iter()
            .any(|(level, sequence)| *level == 2 && *sequence > 3)
    );
    assert_clean(&player);
}

#[test]
fn when_every_level_fails_the_error_is_fatal() {
    let mut origin = vod_origin(4);
    for level in 0..3 {
        origin.fail_next(&format!("{BASE}level{level}/seg1.m4s"), Some(500), 100);
    }
    let mut player = loaded(origin, 10e6, EngineConfig::default());
    player.run_to_end(600.0);
    assert!(player.failed());
    assert!(has_event(&player, |event| matches!(
        event,
        Event::Error {
            kind: ErrorKind::NoPlayableLevel,
            fatal: true,
            ..
        }
    )));
    assert!(
        player.engine.next_deadline().is_none(),
        "a failed engine asks for nothing"
    );
}

#[test]
fn manifest_errors_are_fatal_and_say_what_was_wrong() {
    let mut origin = MapOrigin::new();
    origin.text(&format!("{BASE}bad.m3u8"), "not a playlist");
    let mut missing = player(origin.clone(), 1e6, EngineConfig::default());
    missing.load(&format!("{BASE}nothing.m3u8"));
    missing.run_to_end(60.0);
    assert!(has_event(&missing, |event| matches!(
        event,
        Event::Error { kind: ErrorKind::ManifestLoad, fatal: true, details } if details.contains("404")
    )));
    let mut bad = player(origin.clone(), 1e6, EngineConfig::default());
    bad.load(&format!("{BASE}bad.m3u8"));
    bad.run_to_end(60.0);
    assert!(has_event(&bad, |event| matches!(
        event,
        Event::Error {
            kind: ErrorKind::ManifestParse,
            fatal: true,
            ..
        }
    )));
    let mut invalid = player(origin, 1e6, EngineConfig::default());
    invalid.load("not a url");
    assert!(invalid.failed());
}

#[test]
fn seeking_outside_the_buffer_cancels_flushes_and_resumes_there() {
    let mut player = loaded(
        vod_origin(30),
        3e6,
        EngineConfig {
            start_level: Some(0),
            ..EngineConfig::default()
        },
    );
    player.run_until(6.0);
    let before = player.fetches.len();
    player.input(Input::Seek { position: 81.0 });
    player.run_until(12.0);
    let after: Vec<(usize, u64)> = segment_fetches(&player);
    let first_after_seek = player.fetches[before..]
        .iter()
        .find_map(|(_, request)| match request.kind {
            RequestKind::Segment { sequence, .. } => Some(sequence),
            _ => None,
        })
        .unwrap();
    assert_eq!(first_after_seek, 20, "81 s is in segment 20 ({after:?})");
    assert!(has_event(
        &player,
        |event| matches!(event, Event::Seeked { position, .. } if (*position - 81.0).abs() < 1e-9)
    ));
    assert!(player.media.position >= 81.0);
    assert!(
        !ranges::contains(&player.engine.buffered(TrackId::Main), 2.0),
        "flushed"
    );
    player.run_to_end(600.0);
    assert!(player.media.ended);
    assert_clean(&player);
}

#[test]
fn seeking_inside_the_buffer_keeps_it() {
    let mut player = loaded(vod_origin(30), 20e6, EngineConfig::default());
    player.run_until(10.0);
    let buffered_before = player.engine.buffered(TrackId::Main);
    let last_before = *segment_fetches(&player).last().unwrap();
    let fetches_before = player.fetches.len();
    player.input(Input::Seek { position: 12.0 });
    player.run_until(11.0);
    // Nothing was flushed and downloading carries on where it was.
    assert_eq!(
        player.engine.buffered(TrackId::Main)[0].start,
        buffered_before[0].start
    );
    let next = player.fetches[fetches_before..]
        .iter()
        .find_map(|(_, request)| match request.kind {
            RequestKind::Segment { sequence, .. } => Some(sequence),
            _ => None,
        });
    assert!(
        next.is_none_or(|sequence| sequence == last_before.1 + 1),
        "{next:?} after {last_before:?}"
    );
    assert!(has_event(&player, |event| matches!(
        event,
        Event::Seeked { .. }
    )));
    player.run_to_end(600.0);
    assert!(player.media.ended);
    assert_clean(&player);
}

#[test]
fn playback_starts_where_the_option_or_ext_x_start_says() {
    let first_fetch = |origin: MapOrigin, start: Option<f64>| {
        let config = EngineConfig {
            start_position_s: start,
            ..EngineConfig::default()
        };
        let mut player = loaded(origin, 20e6, config);
        player.run_to_end(600.0);
        assert!(player.media.ended);
        assert_clean(&player);
        segment_fetches(&player)[0].1
    };
    assert_eq!(first_fetch(vod_origin(10), None), 0);
    assert_eq!(first_fetch(vod_origin(10), Some(21.0)), 5);
    // Negative: from the end (40 s − 8 s).
    assert_eq!(first_fetch(vod_origin(10), Some(-8.0)), 8);
    // Beyond either end: clamped to the playlist.
    assert_eq!(first_fetch(vod_origin(10), Some(-1000.0)), 0);
    // EXT-X-START in the media playlist, and the option over it.
    let with_start_tag = || {
        let mut origin = vod_origin(10);
        for level in 0..3 {
            let url = format!("{BASE}level{level}/index.m3u8");
            let text = origin.text_of(&url).unwrap().to_owned().replace(
                "#EXT-X-TARGETDURATION:4\n",
                "#EXT-X-TARGETDURATION:4\n#EXT-X-START:TIME-OFFSET=12.5\n",
            );
            origin.text(&url, &text);
        }
        origin
    };
    assert_eq!(first_fetch(with_start_tag(), None), 3);
    assert_eq!(first_fetch(with_start_tag(), Some(0.0)), 0);
    let bad = EngineConfig {
        start_position_s: Some(f64::NAN),
        ..EngineConfig::default()
    };
    assert_eq!(Engine::new(bad).unwrap_err().option, "startPosition");
}

#[test]
fn back_buffer_is_evicted() {
    let config = EngineConfig {
        back_buffer_s: Some(10.0),
        ..EngineConfig::default()
    };
    // Still downloading at 100 s, so the engine keeps getting inputs.
    let mut player = loaded(vod_origin(60), 20e6, config);
    player.run_until(100.0);
    let buffered = player.engine.buffered(TrackId::Main);
    let position = player.media.position;
    // Eviction runs on the next input once the cut is 2 s past the first buffered
    // time; with a full buffer the virtual browser's inputs come once per 4 s segment.
    assert!(
        buffered[0].start >= position - 10.0 - 2.0 - 4.0 - 0.5,
        "{buffered:?} at {position}"
    );
    assert!(player.events.is_empty() || player.appends.len() > 10);
    assert_clean(&player);
}

#[test]
fn the_buffer_stops_at_its_limit_and_the_fetches_pace_playback() {
    let config = EngineConfig {
        max_buffer_s: 12.0,
        ..EngineConfig::default()
    };
    let mut player = loaded(vod_origin(40), 50e6, config);
    player.run_until(60.0);
    assert!(player.engine.buffer_ahead() <= 12.0 + 4.0 + 1e-9);
    player.input(Input::Pause);
    player.run_until(120.0);
    let fetched_while_paused = player.fetches.iter().filter(|(at, _)| *at > 61.0).count();
    assert_eq!(
        fetched_while_paused, 0,
        "a full buffer does not grow while paused"
    );
    assert_eq!(player.engine.stats().qoe.rebuffer_count, 0);
}

#[test]
fn gap_segments_are_taken_from_another_level_or_jumped() {
    // Segment 2 is a gap in level 0 only; segment 4 is a gap everywhere.
    let mut origin = MapOrigin::new();
    let mut master = String::from("#EXTM3U\n");
    for level in 0..2 {
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={}\nl{level}.m3u8\n",
            (level + 1) * 500_000
        ));
        let mut media = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:4\n");
        for segment in 0..8 {
            let gap = segment == 4 || (segment == 2 && level == 0);
            if gap {
                media.push_str("#EXT-X-GAP\n");
            } else {
                origin.bytes(&format!("{BASE}l{level}s{segment}.ts"), 100_000);
            }
            media.push_str(&format!("#EXTINF:4,\nl{level}s{segment}.ts\n"));
        }
        media.push_str("#EXT-X-ENDLIST\n");
        origin.text(&format!("{BASE}l{level}.m3u8"), &media);
    }
    origin.text(&format!("{BASE}gaps.m3u8"), &master);
    let config = EngineConfig {
        start_level: Some(0),
        abr: crate::abr::AbrKind::Bb,
        ..EngineConfig::default()
    };
    let mut player = player(origin, 1e6, config);
    player.load(&format!("{BASE}gaps.m3u8"));
    player.run_to_end(300.0);
    assert!(player.media.ended, "playback jumps the hole and ends");
    let fetched = segment_fetches(&player);
    assert!(
        fetched.contains(&(1, 2)),
        "segment 2 from level 1: {fetched:?}"
    );
    assert!(
        !fetched.iter().any(|(_, sequence)| *sequence == 4),
        "{fetched:?}"
    );
    assert!(has_event(
        &player,
        |event| matches!(event, Event::GapJumped { to, .. } if (*to - 20.0).abs() < 1e-9)
    ));
    assert!(
        player
            .origin
            .requested
            .iter()
            .all(|url| !url.contains("l0s2") && !url.contains("s4.ts"))
    );
    assert_clean(&player);
}

#[test]
fn byte_ranges_are_requested_and_give_the_abr_exact_sizes() {
    let mut origin = MapOrigin::new();
    let mut master = String::from("#EXTM3U\n");
    for level in 0..2 {
        master.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={}\nr{level}.m3u8\n",
            (level + 1) * 1_000_000
        ));
        let mut media = String::from(
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"all.mp4\",BYTERANGE=\"700@0\"\n",
        );
        for segment in 0..5 {
            let length = 100_000 * (level + 1) + segment;
            // The first range needs its offset (the init section is not a media segment).
            let offset = if segment == 0 { "@700" } else { "" };
            media.push_str(&format!(
                "#EXTINF:4,\n#EXT-X-BYTERANGE:{length}{offset}\nall.mp4\n"
            ));
        }
        media.push_str("#EXT-X-ENDLIST\n");
        origin.text(&format!("{BASE}r{level}.m3u8"), &media);
        origin.bytes(&format!("{BASE}all.mp4"), 10_000_000);
    }
    origin.text(&format!("{BASE}ranges.m3u8"), &master);
    let mut player = player(
        origin,
        5e6,
        EngineConfig {
            start_level: Some(0),
            ..EngineConfig::default()
        },
    );
    player.load(&format!("{BASE}ranges.m3u8"));
    player.input(Input::SetLevel { level: Some(0) });
    player.run_to_end(300.0);
    assert!(player.media.ended);
    let ranges: Vec<crate::hls::ByteRange> = player
        .fetches
        .iter()
        .filter(|(_, request)| matches!(request.kind, RequestKind::Segment { level: 0, .. }))
        .filter_map(|(_, request)| request.range)
        .collect();
    assert_eq!(
        ranges[0],
        crate::hls::ByteRange {
            offset: 700,
            length: 100_000
        }
    );
    assert_eq!(
        ranges[1],
        crate::hls::ByteRange {
            offset: 100_700,
            length: 100_001
        }
    );
    assert_clean(&player);
}

/// A VOD stream of one video level with an alternate audio rendition, `segments` × 4 s.
fn alternate_audio_origin(segments: usize, video_bytes: u64) -> MapOrigin {
    let mut origin = MapOrigin::new();
    let master = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",DEFAULT=YES,AUTOSELECT=YES,LANGUAGE=\"en\",URI=\"audio.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.4d401f,mp4a.40.2\",AUDIO=\"aud\"\nvideo.m3u8\n";
    let mut video =
        String::from("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"v-init.mp4\"\n");
    let mut audio =
        String::from("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"a-init.mp4\"\n");
    for segment in 0..segments {
        video.push_str(&format!("#EXTINF:4,\nv{segment}.m4s\n"));
        audio.push_str(&format!("#EXTINF:4,\na{segment}.m4s\n"));
        origin.bytes(&format!("{BASE}v{segment}.m4s"), video_bytes);
        origin.bytes(&format!("{BASE}a{segment}.m4s"), 64_000);
    }
    video.push_str("#EXT-X-ENDLIST\n");
    audio.push_str("#EXT-X-ENDLIST\n");
    origin
        .text(&format!("{BASE}av.m3u8"), master)
        .text(&format!("{BASE}video.m3u8"), &video)
        .text(&format!("{BASE}audio.m3u8"), &audio)
        .bytes(&format!("{BASE}v-init.mp4"), 900)
        .bytes(&format!("{BASE}a-init.mp4"), 600);
    origin
}

#[test]
fn alternate_audio_gets_its_own_track() {
    let origin = alternate_audio_origin(6, 400_000);
    let mut player = player(origin, 5e6, EngineConfig::default());
    player.load(&format!("{BASE}av.m3u8"));
    player.run_to_end(300.0);
    assert!(player.media.ended);
    let mimes: Vec<&String> = player.media.tracks.values().map(|(mime, _)| mime).collect();
    assert_eq!(
        mimes,
        vec![
            "video/mp4; codecs=\"avc1.4d401f\"",
            "audio/mp4; codecs=\"mp4a.40.2\""
        ]
    );
    let audio_segments = player
        .fetches
        .iter()
        .filter(|(_, request)| {
            matches!(
                request.kind,
                RequestKind::Segment {
                    track: TrackId::Audio,
                    ..
                }
            )
        })
        .count();
    assert_eq!(audio_segments, 6);
    // Both media playlists are requested together, right after the master playlist.
    let playlist_at = |name: &str| {
        player
            .fetches
            .iter()
            .find(|(_, request)| request.url.ends_with(name))
            .map(|(at, _)| *at)
            .unwrap()
    };
    assert_eq!(playlist_at("/video.m3u8"), playlist_at("/audio.m3u8"));
    assert_eq!(player.engine.audio_rendition(), Some(("aud", "English")));
    assert_clean(&player);
}

#[test]
fn alternate_audio_stays_within_a_segment_of_the_video() {
    // 1 Mbit/s against 3.2 s of download per 4 s video segment: without a limit the
    // small audio segments would all be fetched first, taking the link from the video.
    let mut player = player(
        alternate_audio_origin(12, 400_000),
        1e6,
        EngineConfig::default(),
    );
    player.load(&format!("{BASE}av.m3u8"));
    player.run_to_end(600.0);
    assert!(player.media.ended);
    let mut audio_fetches = 0;
    for (at, request) in &player.fetches {
        let RequestKind::Segment {
            track: TrackId::Audio,
            sequence,
            ..
        } = request.kind
        else {
            continue;
        };
        audio_fetches += 1;
        let video_end = player
            .appends
            .iter()
            .filter(|append| append.track == TrackId::Main && append.at <= *at)
            .map(|append| append.start + append.duration)
            .fold(0.0, f64::max);
        let audio_start = sequence as f64 * 4.0;
        assert!(
            audio_start < video_end + 4.0,
            "audio segment at {audio_start} s fetched at {at:.2} s with video only to {video_end} s"
        );
    }
    assert_eq!(audio_fetches, 12);
    assert_clean(&player);
}

/// A live origin: a 6-segment window over an endless stream of 2 s segments, sliding
/// with the clock from `started_at`.
#[derive(Debug, Clone)]
struct LiveOrigin {
    window: u64,
    segment_s: f64,
    bytes: u64,
    playlist_fetches: Vec<f64>,
}

impl LiveOrigin {
    fn new() -> Self {
        LiveOrigin {
            window: 6,
            segment_s: 2.0,
            bytes: 50_000,
            playlist_fetches: Vec::new(),
        }
    }

    fn playlist(&self, now: f64) -> String {
        // 20 segments exist at t = 0; one more every segment duration.
        let produced = 20 + (now / self.segment_s).floor() as u64;
        let first = produced - self.window;
        let mut text = format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n");
        for sequence in first..produced {
            text.push_str(&format!("#EXTINF:2.0,\nlive{sequence}.ts\n"));
        }
        text
    }
}

impl Origin for LiveOrigin {
    fn get(&mut self, now: f64, url: &str, _range: Option<crate::hls::ByteRange>) -> Resource {
        if url.ends_with(".m3u8") {
            self.playlist_fetches.push(now);
            Resource::Text(self.playlist(now))
        } else {
            Resource::Bytes(self.bytes)
        }
    }
}

#[test]
fn live_starts_behind_the_edge_reloads_and_keeps_up() {
    let mut player = player(LiveOrigin::new(), 5e6, EngineConfig::default());
    player.load(&format!("{BASE}live.m3u8"));
    player.run_until(60.0);
    assert!(player.engine.is_live());
    // Window at t=0: sequences 14..20 (12 s); start 3 × 2 s behind the edge = 6 s → segment 17.
    let first = segment_fetches(&player)[0].1;
    assert_eq!(first, 17);
    assert!(has_event(&player, |event| matches!(
        event,
        Event::ManifestLoaded { live: true, .. }
    )));
    // Reloads roughly every target duration.
    let reloads = &player.origin.playlist_fetches;
    assert!(reloads.len() >= 25, "{} reloads", reloads.len());
    let intervals: Vec<f64> = reloads.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(
        intervals.iter().skip(1).all(|interval| *interval <= 2.2),
        "{intervals:?}"
    );
    // Playback keeps going without stalls and stays near the edge.
    assert_eq!(player.engine.stats().qoe.rebuffer_count, 0);
    let sequences: Vec<u64> = segment_fetches(&player).iter().map(|(_, s)| *s).collect();
    assert!(
        sequences.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "{sequences:?}"
    );
    assert!(player.media.position > 60.0 * 0.9);
    assert!(player.engine.next_deadline().is_some());
    assert_clean(&player);
}

#[test]
fn live_falls_back_into_the_window_when_it_slides_past() {
    // A buffer cap shorter than the pause, so downloading stops while paused.
    let config = EngineConfig {
        max_buffer_s: 30.0,
        ..EngineConfig::default()
    };
    let mut player = player(LiveOrigin::new(), 5e6, config);
    player.load(&format!("{BASE}live.m3u8"));
    player.run_until(10.0);
    player.input(Input::Pause);
    player.run_until(60.0);
    player.input(Input::Play);
    player.run_until(120.0);
    // After 50 s paused the window (12 s) left the buffer behind; the engine jumps forward.
    assert!(has_event(&player, |event| matches!(
        event,
        Event::GapJumped { .. }
    )));
    assert!(player.media.position > 100.0);
    assert_clean(&player);
}

#[test]
fn a_download_that_would_stall_is_abandoned_for_a_lower_level() {
    #[derive(Debug)]
    struct CollapsingNetwork;
    impl crate::sim::Network for CollapsingNetwork {
        fn transfer(
            &mut self,
            now: f64,
            bytes: u64,
            kind: &RequestKind,
        ) -> crate::sim::TransferPlan {
            // Fast until 20 s, then 200 kbit/s.
            let rate = if now < 20.0 { 20e6 } else { 200e3 } / 8.0;
            let first_byte_at = now + 0.05;
            if kind.is_playlist() {
                return crate::sim::TransferPlan {
                    first_byte_at,
                    progress: vec![],
                    finished_at: first_byte_at,
                };
            }
            let duration = bytes as f64 / rate;
            let progress = (1..)
                .map(|step| step as f64 * 0.25)
                .take_while(|t| *t < duration)
                .map(|t| (first_byte_at + t, (t * rate) as u64))
                .collect();
            crate::sim::TransferPlan {
                first_byte_at,
                progress,
                finished_at: first_byte_at + duration,
            }
        }
    }
    let engine = Engine::new(EngineConfig {
        max_buffer_s: 12.0,
        ..EngineConfig::default()
    })
    .unwrap();
    let mut player = VirtualPlayer::new(engine, vod_origin(30), CollapsingNetwork);
    player.load(&format!("{BASE}master.m3u8"));
    player.run_until(60.0);
    assert!(
        has_event(&player, |event| matches!(
            event,
            Event::FragAbandoned { .. }
        )),
        "{:?}",
        segment_fetches(&player)
    );
    assert!(has_event(&player, |event| matches!(
        event,
        Event::LevelSwitching {
            reason: SwitchReason::Abandon,
            ..
        }
    )));
    assert_clean(&player);
}

#[test]
fn requests_without_an_answer_time_out_and_are_retried() {
    #[derive(Debug)]
    struct BlackHoleOnce {
        swallowed: bool,
    }
    impl crate::sim::Network for BlackHoleOnce {
        fn transfer(
            &mut self,
            now: f64,
            _bytes: u64,
            _kind: &RequestKind,
        ) -> crate::sim::TransferPlan {
            if !self.swallowed {
                self.swallowed = true;
                return crate::sim::TransferPlan {
                    first_byte_at: now + 1e9,
                    progress: vec![],
                    finished_at: now + 1e9,
                };
            }
            crate::sim::TransferPlan {
                first_byte_at: now + 0.05,
                progress: vec![],
                finished_at: now + 0.1,
            }
        }
    }
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let mut player = VirtualPlayer::new(engine, vod_origin(3), BlackHoleOnce { swallowed: false });
    player.load(&format!("{BASE}master.m3u8"));
    player.run_to_end(600.0);
    assert!(player.media.ended);
    let manifest_fetches: Vec<f64> = player
        .fetches
        .iter()
        .filter(|(_, r)| r.kind == RequestKind::Manifest)
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(manifest_fetches.len(), 2);
    assert!(
        (manifest_fetches[1] - 20.5).abs() < 1e-6,
        "timeout 20 s then 0.5 s backoff: {manifest_fetches:?}"
    );
}

#[test]
fn quota_exceeded_evicts_and_appends_again() {
    let mut player = loaded(vod_origin(40), 20e6, EngineConfig::default());
    player.run_until(29.0);
    player.fail_next_append = Some(AppendFailure::QuotaExceeded);
    let appends_before = player.appends.len();
    player.run_until(40.0);
    let buffered = player.engine.buffered(TrackId::Main);
    assert!(
        buffered[0].start > 20.0,
        "back buffer dropped: {buffered:?}"
    );
    let refused = player
        .fetches
        .iter()
        .filter(|(at, r)| *at > 29.0 && matches!(r.kind, RequestKind::Segment { .. }))
        .map(|(_, r)| r.id)
        .next()
        .unwrap();
    assert_eq!(
        player.appends[appends_before..]
            .iter()
            .filter(|a| a.request == refused)
            .count(),
        1,
        "appended again after the eviction"
    );
    player.run_to_end(600.0);
    assert!(player.media.ended);
    assert_clean(&player);
}

#[test]
fn one_decode_error_is_recovered_and_a_second_is_fatal() {
    let mut player = loaded(vod_origin(20), 20e6, EngineConfig::default());
    player.run_until(10.0);
    player.fail_next_append = Some(AppendFailure::Decode {
        message: "bad NAL".into(),
    });
    player.run_until(15.0);
    assert!(!player.failed());
    assert!(has_event(&player, |event| matches!(
        event,
        Event::Error {
            kind: ErrorKind::Media,
            fatal: false,
            ..
        }
    )));
    assert!(player.media.tracks.len() == 1);
    player.run_until(20.0);
    player.fail_next_append = Some(AppendFailure::Decode {
        message: "bad NAL again".into(),
    });
    player.run_until(30.0);
    assert!(player.failed());
}

#[test]
fn stalls_are_reported_and_counted() {
    #[derive(Debug)]
    struct Outage;
    impl crate::sim::Network for Outage {
        fn transfer(
            &mut self,
            now: f64,
            bytes: u64,
            kind: &RequestKind,
        ) -> crate::sim::TransferPlan {
            let first_byte_at = now + 0.05;
            if kind.is_playlist() {
                return crate::sim::TransferPlan {
                    first_byte_at,
                    progress: vec![],
                    finished_at: first_byte_at,
                };
            }
            // Nothing gets through between 10 s and 40 s.
            let start = if (10.0..40.0).contains(&first_byte_at) {
                40.0
            } else {
                first_byte_at
            };
            crate::sim::TransferPlan {
                first_byte_at,
                progress: vec![],
                finished_at: start + bytes as f64 * 8.0 / 4e6,
            }
        }
    }
    let engine = Engine::new(EngineConfig {
        abandon_slow_downloads: false,
        ..EngineConfig::default()
    })
    .unwrap();
    let mut player = VirtualPlayer::new(engine, vod_origin(20), Outage);
    player.load(&format!("{BASE}master.m3u8"));
    player.run_to_end(600.0);
    assert!(player.media.ended);
    let qoe = player.engine.stats().qoe;
    assert_eq!(qoe.rebuffer_count, 1);
    assert!(
        (qoe.rebuffer_s - player.media.stalled_s).abs() < 1e-6,
        "{} vs {}",
        qoe.rebuffer_s,
        player.media.stalled_s
    );
    assert!(has_event(&player, |event| matches!(
        event,
        Event::BufferStalled { .. }
    )));
    assert!(has_event(&player, |event| matches!(
        event,
        Event::BufferStallEnded { .. }
    )));
}

#[test]
fn a_media_playlist_url_plays_as_a_single_level() {
    let origin = vod_origin(3);
    let mut player = player(origin, 5e6, EngineConfig::default());
    player.load(&format!("{BASE}level1/index.m3u8"));
    player.run_to_end(100.0);
    assert!(player.media.ended);
    assert_eq!(player.engine.levels().len(), 1);
}

#[test]
fn options_can_change_mid_session_and_bad_ones_are_refused() {
    let mut player = loaded(vod_origin(40), 20e6, EngineConfig::default());
    player.run_until(10.0);
    let config = EngineConfig {
        abr: crate::abr::AbrKind::Bb,
        max_buffer_s: 8.0,
        ..EngineConfig::default()
    };
    player.input(Input::SetOptions(Box::new(config)));
    assert_eq!(player.engine.abr_name(), "bb");
    // What was buffered under the old cap plays out first.
    player.run_until(90.0);
    assert!(player.engine.buffer_ahead() <= 8.0 + 4.0 + 1e-9);
    let bad = EngineConfig {
        max_buffer_s: -1.0,
        ..EngineConfig::default()
    };
    player.input(Input::SetOptions(Box::new(bad.clone())));
    assert!(has_event(&player, |event| matches!(
        event,
        Event::Error { kind: ErrorKind::Options, fatal: false, details } if details.contains("maxBufferSeconds")
    )));
    assert_eq!(
        player.engine.config().max_buffer_s,
        8.0,
        "refused options change nothing"
    );
    assert!(player.engine.configure(bad).is_err());
    player.run_to_end(600.0);
    assert!(player.media.ended);
}

#[test]
fn time_going_backwards_and_unknown_requests_are_harmless() {
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    engine.handle(
        5.0,
        Input::Load {
            url: format!("{BASE}master.m3u8"),
        },
    );
    engine.handle(
        1.0,
        Input::SegmentLoaded {
            request: RequestId(999),
            bytes: 5,
        },
    );
    engine.handle(
        f64::NAN,
        Input::Progress {
            request: RequestId(1),
            loaded: 10,
        },
    );
    engine.handle(
        2.0,
        Input::Buffered {
            track: TrackId::Audio,
            ranges: vec![],
        },
    );
    engine.handle(2.0, Input::Seek { position: f64::NAN });
    while engine.poll_action().is_some() {}
    // The manifest request is still watched for a stall.
    assert!(engine.next_deadline().unwrap() > 5.0);
}

#[test]
fn variants_the_platform_cannot_play_are_dropped_and_none_left_is_fatal() {
    let origin = vod_origin(3);
    let mut avc = player(origin, 10e6, EngineConfig::default());
    avc.engine.set_codec_support(Box::new(|mime| {
        mime.starts_with("video/mp4; codecs=\"avc1")
    }));
    avc.load(&format!("{BASE}master.m3u8"));
    avc.run_to_end(120.0);
    assert_eq!(avc.engine.levels().len(), 3, "avc1 plays");
    assert_clean(&avc);

    let mut hevc_origin = MapOrigin::new();
    hevc_origin.text(
        &format!("{BASE}master.m3u8"),
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS=\"hvc1.1.6.L93.B0\"\nhevc/index.m3u8\n\
         #EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS=\"hvc1.1.6.L120.B0,mp4a.40.2\"\nhevc2/index.m3u8\n",
    );
    let mut player = player(hevc_origin, 10e6, EngineConfig::default());
    player
        .engine
        .set_codec_support(Box::new(|mime| !mime.contains("hvc1")));
    player.load(&format!("{BASE}master.m3u8"));
    player.run_to_end(10.0);
    assert!(player.failed());
    assert!(has_event(&player, |event| matches!(
        event,
        Event::Error { kind: ErrorKind::ManifestParse, fatal: true, details }
            if details.contains("no variant has codecs this browser can play")
                && details.contains("hvc1.1.6.L93.B0")
    )));
}

#[test]
fn a_seek_completes_only_once_the_element_has_shown_it() {
    let mut player = loaded(vod_origin(6), 10e6, EngineConfig::default());
    player.run_until(8.0);
    let seeked = |player: &VirtualPlayer<MapOrigin, ConstantNetwork>| {
        player
            .events
            .iter()
            .filter(|(_, event)| matches!(event, Event::Seeked { .. }))
            .count()
    };
    let before = seeked(&player);
    let engine = &mut player.engine;
    engine.handle(8.0, Input::Seek { position: 16.0 });
    // The element has not seen the seek yet: its snapshot still shows the old position.
    let stale = MediaSnapshot {
        current_time: 7.9,
        paused: false,
        ready_state: 4,
        ..MediaSnapshot::default()
    };
    engine.handle(8.01, Input::Media(stale));
    let mut events = Vec::new();
    while let Some(action) = engine.poll_action() {
        if let Action::Emit(event) = action {
            events.push(event);
        }
    }
    assert!(
        !events.iter().any(|e| matches!(e, Event::Seeked { .. })),
        "a snapshot from before the seek does not complete it: {events:?}"
    );
    let seeking = MediaSnapshot {
        current_time: 16.0,
        seeking: true,
        ready_state: 1,
        ..stale
    };
    engine.handle(8.02, Input::Media(seeking));
    let landed = MediaSnapshot {
        seeking: false,
        ready_state: 4,
        ..seeking
    };
    engine.handle(8.3, Input::Media(landed));
    let mut latency = None;
    while let Some(action) = engine.poll_action() {
        if let Action::Emit(Event::Seeked { latency: l, .. }) = action {
            latency = Some(l);
        }
    }
    assert!((latency.expect("seek completed") - 0.3).abs() < 1e-9);
    assert_eq!(seeked(&player), before);
}

#[test]
fn level_switches_say_why_and_never_hold() {
    for abr in crate::abr::AbrKind::ALL {
        level_switches_say_why(abr);
    }
}

fn level_switches_say_why(abr: crate::abr::AbrKind) {
    let config = EngineConfig {
        abr,
        ..EngineConfig::default()
    };
    let mut player = loaded(vod_origin(60), 20e6, config);
    player.run_until(40.0);
    player.network.bits_per_second = 500_000.0;
    player.run_until(120.0);
    player.network.bits_per_second = 20e6;
    player.run_to_end(1_000.0);
    let switches: Vec<(usize, Option<usize>, SwitchReason)> = player
        .events
        .iter()
        .filter_map(|(_, event)| match event {
            Event::LevelSwitched { from, to, reason }
            | Event::LevelSwitching { from, to, reason } => Some((*to, *from, *reason)),
            _ => None,
        })
        .collect();
    assert!(
        switches
            .iter()
            .any(|(to, from, _)| from.is_some_and(|from| *to < from))
            && switches
                .iter()
                .any(|(to, from, _)| from.is_some_and(|from| *to > from)),
        "{abr}: down and up: {switches:?}"
    );
    for (to, from, reason) in &switches {
        assert_ne!(*reason, SwitchReason::Hold, "{abr}: {switches:?}");
        if let Some(from) = from {
            let down = matches!(
                reason,
                SwitchReason::ThroughputDown
                    | SwitchReason::BufferLow
                    | SwitchReason::Abandon
                    | SwitchReason::Capped
                    | SwitchReason::Failover
                    | SwitchReason::Plan
            );
            let up = matches!(
                reason,
                SwitchReason::ThroughputUp
                    | SwitchReason::BufferHigh
                    | SwitchReason::Capped
                    | SwitchReason::Plan
            );
            assert!(
                if to < from { down } else { up },
                "{from} -> {to}: {reason:?}"
            );
        }
    }
}

#[test]
fn waiting_for_data_after_a_seek_is_seek_latency_not_rebuffering() {
    let mut player = loaded(vod_origin(30), 10e6, EngineConfig::default());
    player.run_until(8.0);
    let engine = &mut player.engine;
    engine.handle(8.0, Input::Seek { position: 40.0 });
    let seeking = MediaSnapshot {
        current_time: 40.0,
        seeking: true,
        paused: false,
        ready_state: 1,
        ..MediaSnapshot::default()
    };
    engine.handle(8.01, Input::Media(seeking));
    // `seeked` fired, but the element waits for data at the target.
    let waiting = MediaSnapshot {
        seeking: false,
        waiting: true,
        ready_state: 2,
        ..seeking
    };
    engine.handle(8.1, Input::Media(waiting));
    engine.handle(9.5, Input::Media(waiting));
    let playing = MediaSnapshot {
        waiting: false,
        ready_state: 4,
        current_time: 40.2,
        ..waiting
    };
    engine.handle(9.7, Input::Media(playing));
    let mut latency = None;
    let mut stalled = false;
    while let Some(action) = engine.poll_action() {
        match action {
            Action::Emit(Event::Seeked { latency: l, .. }) => latency = Some(l),
            Action::Emit(Event::BufferStalled { .. }) => stalled = true,
            _ => {}
        }
    }
    assert!(!stalled, "waiting after seeked is not a stall");
    assert!((latency.expect("seek completed") - 1.7).abs() < 1e-9);
    assert_eq!(engine.stats().qoe.rebuffer_count, 0);
}

/// An origin that ignores the `CMCD` query argument (always the last one).
struct IgnoringCmcd<O>(O);

impl<O: Origin> Origin for IgnoringCmcd<O> {
    fn get(&mut self, now: f64, url: &str, range: Option<crate::hls::ByteRange>) -> Resource {
        let clean = url.find("CMCD=").map_or(url, |at| &url[..at - 1]);
        self.0.get(now, clean, range)
    }
}

/// The CMCD data of a request URL, read back by the protocol's strict parser.
fn cmcd_of(url: &str) -> Option<protocol::Cmcd> {
    let value = crate::url::Url::parse(url).ok()?.query_parameter("CMCD")?;
    Some(protocol::Cmcd::parse(&value).expect("the CMCD payload parses"))
}

fn with_cmcd_session() -> EngineConfig {
    EngineConfig {
        cmcd: Some(CmcdSession {
            sid: "view-1".into(),
            cid: Some("movie".into()),
        }),
        ..EngineConfig::default()
    }
}

#[test]
fn cmcd_rides_on_every_request_with_what_the_engine_knows() {
    use protocol::cmcd::{ObjectType, StreamType, StreamingFormat};
    let mut player = player(IgnoringCmcd(vod_origin(6)), 8e6, with_cmcd_session());
    player.load(&format!("{BASE}master.m3u8"));
    player.run_to_end(600.0);
    assert!(player.media.ended, "CMCD must not disturb playback");
    assert_clean(&player);
    let mut segments = 0;
    for (index, (_, request)) in player.fetches.iter().enumerate() {
        let cmcd = cmcd_of(&request.url).unwrap_or_else(|| panic!("no CMCD on {}", request.url));
        assert_eq!(cmcd.sid.as_deref(), Some("view-1"), "{}", request.url);
        assert_eq!(cmcd.cid.as_deref(), Some("movie"));
        assert_eq!(cmcd.sf, Some(StreamingFormat::Hls));
        assert_eq!(cmcd.v, None, "version 1 is implicit");
        let bitrate = |level: usize| [400, 1200, 3000][level];
        match request.kind {
            RequestKind::Manifest => {
                assert_eq!(cmcd.ot, Some(ObjectType::Manifest));
                assert!(cmcd.su, "startup");
                assert_eq!(
                    (cmcd.st, cmcd.br, cmcd.bl, cmcd.d),
                    (None, None, None, None)
                );
            }
            RequestKind::LevelPlaylist { .. } => assert_eq!(cmcd.ot, Some(ObjectType::Manifest)),
            RequestKind::InitSegment { level, .. } => {
                assert_eq!(cmcd.ot, Some(ObjectType::Init));
                assert_eq!(cmcd.br, Some(bitrate(level)));
                assert_eq!(cmcd.tb, Some(3000));
                // The segment this init section precedes.
                let next = player.fetches[index + 1..]
                    .iter()
                    .find_map(|(_, r)| match r.kind {
                        RequestKind::Segment { sequence, .. } => Some(format!("seg{sequence}.m4s")),
                        _ => None,
                    });
                assert_eq!(cmcd.nor, next);
                assert_eq!(cmcd.st, Some(StreamType::Vod));
                assert!(cmcd.bl.is_some() && cmcd.d.is_none());
            }
            RequestKind::Segment {
                level, sequence, ..
            } => {
                segments += 1;
                assert_eq!(cmcd.ot, Some(ObjectType::Muxed), "audio and video in one");
                assert_eq!(cmcd.br, Some(bitrate(level)));
                assert_eq!(cmcd.tb, Some(3000));
                assert_eq!(cmcd.d, Some(4000));
                assert_eq!(cmcd.st, Some(StreamType::Vod));
                let next = format!("seg{}.m4s", sequence + 1);
                assert_eq!(
                    cmcd.nor.as_deref(),
                    (sequence < 5).then_some(next.as_str()),
                    "the next segment, relative"
                );
                let bl = cmcd.bl.expect("buffer length");
                assert_eq!(bl % 100, 0, "rounded to 100 ms");
                if sequence == 0 {
                    assert!(cmcd.su && cmcd.mtp.is_none() && bl == 0, "{cmcd:?}");
                } else {
                    let mtp = cmcd.mtp.expect("throughput measured");
                    assert_eq!(mtp % 100, 0);
                    assert!((6_000..=10_000).contains(&mtp), "8 Mbit/s link: {mtp}");
                }
                if sequence >= 3 {
                    assert!(!cmcd.su, "playing by now: {cmcd:?}");
                    assert!(bl > 0);
                }
                assert!(!cmcd.bs);
            }
            RequestKind::AudioPlaylist => unreachable!(),
        }
    }
    assert_eq!(segments, 6);
}

#[test]
fn cmcd_says_vod_on_an_audio_segment_requested_before_any_level_playlist() {
    use protocol::cmcd::StreamType;
    let mut origin = alternate_audio_origin(6, 400_000);
    // The video playlist fails three times and is retried with backoff: the audio's first
    // segment goes out before any level's playlist has arrived.
    origin.fail_next(&format!("{BASE}video.m3u8"), Some(503), 3);
    let mut player = player(IgnoringCmcd(origin), 2e6, with_cmcd_session());
    player.load(&format!("{BASE}av.m3u8"));
    player.run_to_end(600.0);
    assert!(player.media.ended);
    let first_audio = player
        .fetches
        .iter()
        .position(|(_, r)| {
            matches!(
                r.kind,
                RequestKind::Segment {
                    track: TrackId::Audio,
                    ..
                }
            )
        })
        .unwrap();
    let video_playlist_loaded = player
        .events
        .iter()
        .find(|(_, event)| matches!(event, Event::LevelLoaded { .. }))
        .map(|(at, _)| *at)
        .unwrap();
    assert!(
        player.fetches[first_audio].0 < video_playlist_loaded,
        "the scenario needs the audio segment first"
    );
    for (_, request) in &player.fetches {
        if matches!(request.kind, RequestKind::Segment { .. }) {
            let cmcd = cmcd_of(&request.url).unwrap();
            assert_eq!(cmcd.st, Some(StreamType::Vod), "{}", request.url);
        }
    }
}

#[test]
fn cmcd_reports_a_starved_buffer_once_and_is_off_by_default() {
    // The first segment arrives only at 3 s; playback starts on it and stalls until the
    // second one, which takes as long.
    #[derive(Debug)]
    struct Slow;
    impl crate::sim::Network for Slow {
        fn transfer(
            &mut self,
            now: f64,
            bytes: u64,
            _kind: &RequestKind,
        ) -> crate::sim::TransferPlan {
            let first_byte_at = now + 0.05;
            crate::sim::TransferPlan {
                first_byte_at,
                progress: vec![],
                finished_at: first_byte_at + bytes as f64 * 8.0 / 300_000.0,
            }
        }
    }
    let config = EngineConfig {
        abandon_slow_downloads: false,
        start_level: Some(2),
        ..with_cmcd_session()
    };
    let mut player = VirtualPlayer::new(
        Engine::new(config).unwrap(),
        IgnoringCmcd(vod_origin(4)),
        Slow,
    );
    player.load(&format!("{BASE}master.m3u8"));
    player.run_to_end(2_000.0);
    let stalls = player.engine.stats().qoe.rebuffer_count as usize;
    assert!(stalls >= 1);
    let flags: Vec<(bool, bool)> = player
        .fetches
        .iter()
        .map(|(_, request)| {
            let cmcd = cmcd_of(&request.url).unwrap();
            (cmcd.bs, cmcd.su)
        })
        .collect();
    let starved = flags.iter().filter(|(bs, _)| *bs).count();
    assert!(starved >= 1, "{flags:?}");
    assert!(
        flags.iter().all(|(bs, su)| !bs || *su),
        "a request after a stall is for recovery: {flags:?}"
    );
    assert!(starved <= stalls, "bs once per stall at most: {flags:?}");

    let mut plain = loaded(vod_origin(3), 8e6, EngineConfig::default());
    plain.run_to_end(600.0);
    assert!(
        plain.fetches.iter().all(|(_, r)| !r.url.contains("CMCD")),
        "no CMCD unless configured"
    );
}

#[test]
fn a_seek_the_element_made_on_its_own_is_a_seek_too() {
    // The page (or the element's controls) sets `currentTime`: no `Input::Seek`.
    let mut player = loaded(vod_origin(30), 10e6, EngineConfig::default());
    player.run_until(8.0);
    let engine = &mut player.engine;
    let playing = MediaSnapshot {
        current_time: 6.0,
        paused: false,
        ready_state: 4,
        ..MediaSnapshot::default()
    };
    engine.handle(8.0, Input::Media(playing));
    // A stall first: the seek ends it.
    let stalled = MediaSnapshot {
        waiting: true,
        ready_state: 2,
        ..playing
    };
    engine.handle(8.2, Input::Media(stalled));
    let seeking = MediaSnapshot {
        current_time: 20.0,
        seeking: true,
        ready_state: 1,
        ..playing
    };
    engine.handle(8.5, Input::Media(seeking));
    let waiting = MediaSnapshot {
        seeking: false,
        waiting: true,
        ready_state: 2,
        ..seeking
    };
    engine.handle(8.7, Input::Media(waiting));
    engine.handle(9.5, Input::Media(waiting));
    let resumed = MediaSnapshot {
        waiting: false,
        ready_state: 4,
        current_time: 20.1,
        ..waiting
    };
    engine.handle(9.9, Input::Media(resumed));
    let mut seeked = Vec::new();
    let mut stalls = (0, 0);
    while let Some(action) = engine.poll_action() {
        match action {
            Action::Emit(Event::Seeked { position, latency }) => seeked.push((position, latency)),
            Action::Emit(Event::BufferStalled { .. }) => stalls.0 += 1,
            Action::Emit(Event::BufferStallEnded { .. }) => stalls.1 += 1,
            _ => {}
        }
    }
    assert_eq!(seeked.len(), 1, "{seeked:?}");
    assert_eq!(seeked[0].0, 20.0);
    assert!((seeked[0].1 - 1.4).abs() < 1e-9, "{seeked:?}");
    assert_eq!(
        stalls,
        (1, 1),
        "the stall before the seek, ended by it; none after"
    );
    assert_eq!(engine.stats().qoe.rebuffer_count, 1);
}

#[test]
fn segment_requests_carry_their_discontinuity_sequence() {
    let mut origin = MapOrigin::new();
    origin.text(
        &format!("{BASE}ts.m3u8"),
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-PLAYLIST-TYPE:VOD\n\
         #EXTINF:4.0,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:4.0,\nb.ts\n#EXT-X-ENDLIST\n",
    );
    origin.bytes(&format!("{BASE}a.ts"), 188 * 100);
    origin.bytes(&format!("{BASE}b.ts"), 188 * 100);
    let mut player = player(origin, 5e6, EngineConfig::default());
    player.load(&format!("{BASE}ts.m3u8"));
    player.run_until(20.0);
    let sequences: Vec<(u64, Option<u64>)> = player
        .fetches
        .iter()
        .filter_map(|(_, request)| match request.kind {
            RequestKind::Segment { sequence, .. } => Some((
                sequence,
                player.engine.discontinuity_sequence(&request.kind),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(sequences, vec![(10, Some(0)), (11, Some(1))]);
    assert_eq!(
        player.engine.discontinuity_sequence(&RequestKind::Manifest),
        None
    );
}
