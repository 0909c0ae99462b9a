//! Property tests of the HLS model: tag soup never panics (parse and merge), generated valid
//! media playlists come back with their segment count, durations, byte range offsets and
//! timeline, and merging a later window keeps the timeline of the shared segments.

#![cfg(not(target_arch = "wasm32"))] // proptest is a native-only dev-dependency

use player_wasm::hls::{ByteRange, MediaPlaylist, Playlist, merge_reload, parse_playlist};
use player_wasm::url::Url;
use proptest::prelude::*;

fn base() -> Url {
    Url::parse("https://props.test/a/b/index.m3u8?x=1").unwrap()
}

const TAG_NAMES: &[&str] = &[
    "EXTM3U",
    "EXTINF",
    "EXT-X-TARGETDURATION",
    "EXT-X-MEDIA-SEQUENCE",
    "EXT-X-DISCONTINUITY-SEQUENCE",
    "EXT-X-DISCONTINUITY",
    "EXT-X-BYTERANGE",
    "EXT-X-MAP",
    "EXT-X-KEY",
    "EXT-X-GAP",
    "EXT-X-PROGRAM-DATE-TIME",
    "EXT-X-ENDLIST",
    "EXT-X-PLAYLIST-TYPE",
    "EXT-X-I-FRAMES-ONLY",
    "EXT-X-START",
    "EXT-X-SKIP",
    "EXT-X-DEFINE",
    "EXT-X-DATERANGE",
    "EXT-X-STREAM-INF",
    "EXT-X-I-FRAME-STREAM-INF",
    "EXT-X-MEDIA",
    "EXT-X-SESSION-DATA",
    "EXT-X-VERSION",
    "EXT-X-INDEPENDENT-SEGMENTS",
    "EXT-X-PART",
    "EXT-X-UNKNOWN",
];

const ATTRIBUTE_NAMES: &[&str] = &[
    "URI",
    "BANDWIDTH",
    "METHOD",
    "BYTERANGE",
    "TYPE",
    "GROUP-ID",
    "NAME",
    "TIME-OFFSET",
    "SKIPPED-SEGMENTS",
    "VALUE",
    "QUERYPARAM",
    "IMPORT",
    "ID",
    "INSTREAM-ID",
    "IV",
    "RESOLUTION",
    "FRAME-RATE",
    "CODECS",
    "DEFAULT",
    "FORCED",
];

/// Scalar-ish values: numbers of every shape, dates, byte ranges, enums, junk.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        (0u32..100_000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
        (1u64..10_000, proptest::option::of(any::<u64>()))
            .prop_map(|(n, o)| o.map_or(n.to_string(), |o| format!("{n}@{o}"))),
        Just("2024-02-29T23:59:59.999+01:00".to_owned()),
        Just("VOD".to_owned()),
        Just("NONE".to_owned()),
        Just("YES".to_owned()),
        Just("AUDIO".to_owned()),
        Just("CC1".to_owned()),
        Just("0x0123456789abcdef".to_owned()),
        Just("1280x720".to_owned()),
        Just("{$v}".to_owned()),
        ".{0,12}",
    ]
}

fn attribute() -> impl Strategy<Value = String> {
    (
        prop::sample::select(ATTRIBUTE_NAMES),
        value(),
        any::<bool>(),
    )
        .prop_map(|(name, value, quoted)| {
            if quoted {
                format!("{name}=\"{value}\"")
            } else {
                format!("{name}={value}")
            }
        })
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        (prop::sample::select(TAG_NAMES), value())
            .prop_map(|(tag, value)| format!("#{tag}:{value}")),
        prop::sample::select(TAG_NAMES).prop_map(|tag| format!("#{tag}")),
        (
            prop::sample::select(TAG_NAMES),
            prop::collection::vec(attribute(), 0..5)
        )
            .prop_map(|(tag, attributes)| format!("#{tag}:{}", attributes.join(","))),
        "[a-z0-9/._:?=&{}$\\[\\] -]{0,20}",
        Just(String::new()),
        ".{0,30}",
    ]
}

fn soup() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec(line(), 0..40),
        prop::sample::select(&["\n", "\r\n", "\r"][..]),
    )
        .prop_map(|(header, lines, ending)| {
            let mut text = if header {
                format!("#EXTM3U{ending}")
            } else {
                String::new()
            };
            text.push_str(&lines.join(ending));
            text
        })
}

/// The media playlist in `text`, if it is one.
fn parse_media(text: &str) -> Option<MediaPlaylist> {
    match parse_playlist(text, &base()) {
        Ok(Playlist::Media(media)) => Some(media),
        _ => None,
    }
}

/// One segment of a generated valid playlist.
#[derive(Debug, Clone)]
struct GeneratedSegment {
    duration_ms: u32,
    /// Length and, if given, offset of a range in `shared.ts`.
    range: Option<(u64, Option<u64>)>,
    gap: bool,
    discontinuity: bool,
}

fn generated_segment() -> impl Strategy<Value = GeneratedSegment> {
    (
        0u32..20_000,
        proptest::option::of((1u64..1_000_000, proptest::option::of(0u64..1_000_000_000))),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(duration_ms, range, gap, discontinuity)| GeneratedSegment {
                duration_ms,
                range,
                gap,
                discontinuity,
            },
        )
}

/// The text of a valid media playlist of `segments`, and the byte ranges it must give.
fn render(media_sequence: u64, segments: &[GeneratedSegment]) -> (String, Vec<Option<ByteRange>>) {
    let mut text =
        format!("#EXTM3U\n#EXT-X-TARGETDURATION:20\n#EXT-X-MEDIA-SEQUENCE:{media_sequence}\n");
    let mut expected = Vec::new();
    let mut shared_end: Option<u64> = None;
    for (index, segment) in segments.iter().enumerate() {
        if segment.discontinuity {
            text.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if segment.gap {
            text.push_str("#EXT-X-GAP\n");
        }
        text.push_str(&format!(
            "#EXTINF:{}.{:03},\n",
            segment.duration_ms / 1000,
            segment.duration_ms % 1000
        ));
        match segment.range {
            Some((length, offset)) => {
                // Without an earlier range of shared.ts, the offset must be written.
                let offset = offset.or(if shared_end.is_some() { None } else { Some(0) });
                let explicit = offset.unwrap_or_else(|| shared_end.unwrap());
                match offset {
                    Some(offset) => text.push_str(&format!("#EXT-X-BYTERANGE:{length}@{offset}\n")),
                    None => text.push_str(&format!("#EXT-X-BYTERANGE:{length}\n")),
                }
                shared_end = Some(explicit + length);
                expected.push(Some(ByteRange {
                    offset: explicit,
                    length,
                }));
                text.push_str("shared.ts\n");
            }
            None => {
                expected.push(None);
                text.push_str(&format!("seg{index}.ts\n"));
            }
        }
    }
    text.push_str("#EXT-X-ENDLIST\n");
    (text, expected)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn tag_soup_never_panics(first in soup(), second in soup()) {
        let previous = parse_media(&first);
        let reloaded = parse_media(&second);
        if let (Some(previous), Some(reloaded)) = (previous, reloaded) {
            let _ = merge_reload(&previous, reloaded);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = parse_media(&text);
        let _ = parse_media(&format!("#EXTM3U\n{text}"));
    }
}

proptest! {
    #[test]
    fn valid_media_playlists_round_trip(
        media_sequence in 0u64..1_000_000,
        segments in prop::collection::vec(generated_segment(), 0..60),
    ) {
        let (text, expected_ranges) = render(media_sequence, &segments);
        let media = parse_media(&text).expect("a valid playlist parses");
        prop_assert_eq!(media.segments.len(), segments.len());
        let mut start = 0.0;
        let mut discontinuity_sequence = 0;
        for (index, (parsed, generated)) in media.segments.iter().zip(&segments).enumerate() {
            let duration = f64::from(generated.duration_ms) / 1000.0;
            prop_assert!((parsed.duration - duration).abs() < 1e-9);
            prop_assert_eq!(parsed.start, start);
            start += parsed.duration;
            prop_assert_eq!(parsed.sequence, media_sequence + index as u64);
            prop_assert_eq!(parsed.byte_range, expected_ranges[index]);
            prop_assert_eq!(parsed.gap, generated.gap);
            discontinuity_sequence += u64::from(generated.discontinuity);
            prop_assert_eq!(parsed.discontinuity_sequence, discontinuity_sequence);
        }
        prop_assert_eq!(media.end(), start);
    }

    #[test]
    fn merging_a_later_window_keeps_the_shared_timeline(
        durations in prop::collection::vec(1u32..12_000, 2..40),
        first_window in (0usize..20, 1usize..20),
        advance in 0usize..25,
        second_length in 1usize..20,
    ) {
        let window = |start: usize, length: usize| {
            let end = (start + length).min(durations.len());
            let mut text = format!("#EXTM3U\n#EXT-X-TARGETDURATION:12\n#EXT-X-MEDIA-SEQUENCE:{start}\n");
            for (offset, ms) in durations[start.min(end)..end].iter().enumerate() {
                text.push_str(&format!("#EXTINF:{}.{:03},\ns{}.ts\n", ms / 1000, ms % 1000, start + offset));
            }
            parse_media(&text).unwrap()
        };
        let (first_start, first_length) = first_window;
        let previous = window(first_start, first_length);
        let reloaded = window(first_start + advance, second_length);
        let reload = merge_reload(&previous, reloaded).unwrap();
        if !reload.stale {
            for segment in &reload.playlist.segments {
                if let Some(before) = previous.segment_by_sequence(segment.sequence) {
                    prop_assert_eq!(segment.start, before.start);
                }
            }
            for pair in reload.playlist.segments.windows(2) {
                prop_assert_eq!(pair[1].start, pair[0].end());
            }
            if let (true, Some(first), Some(last)) =
                (reload.aligned, reload.playlist.segments.first(), previous.segments.last())
            {
                prop_assert!(first.start <= last.end());
            }
        }
    }
}
