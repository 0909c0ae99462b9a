//! `m3u8-rs` as the reference for the playlist parser: every playlist the parser accepts
//! (the shared fixture set, `../shared/fixtures` or `$HLS_FIXTURES`, and generated ones)
//! is also read by `m3u8-rs`, and the two must agree on what a player plays from: variants,
//! renditions, segments, their URIs, durations, byte ranges, discontinuities, keys and maps,
//! and the playlist-level values.
//!
//! The parser is our own so that the browser package does without `m3u8-rs` and its
//! dependencies (`nom`, `chrono`); this test is what keeps the two readings the same.

#![cfg(not(target_arch = "wasm32"))] // the references are native-only dev-dependencies

use std::path::{Path, PathBuf};

use player_wasm::hls::{MasterPlaylist, MediaPlaylist, Playlist, RenditionKind, parse_playlist};
use player_wasm::url::Url;

fn fixtures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HLS_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}

fn playlist_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|entry| entry.path()) {
        if path.is_dir() {
            playlist_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "m3u8")
            || std::fs::read(&path).is_ok_and(|bytes| bytes.starts_with(b"#EXTM3U"))
        {
            found.push(path);
        }
    }
}

/// Inputs `m3u8-rs` 6 is known to misread, each with what it does wrong (found by this
/// test; our reading of each is checked by hand in `hls_parse.rs` / `hls_fixtures.rs`).
fn m3u8_rs_misreads(text: &str) -> Option<&'static str> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if lines.iter().any(|line| line.starts_with("#EXT-X-SKIP")) {
        return Some("ignores EXT-X-SKIP:SKIPPED-SEGMENTS in the media sequence");
    }
    if lines.iter().any(|line| {
        line.strip_prefix("#EXTINF:")
            .and_then(|value| value.split_once(','))
            .is_some_and(|(_, title)| title.contains(','))
    }) {
        return Some("reads the text after a comma in an EXTINF title as a segment URI");
    }
    let last_uri = lines
        .iter()
        .rposition(|line| !line.is_empty() && !line.starts_with('#'));
    if last_uri.is_some_and(|last| {
        lines[last + 1..].iter().any(|line| {
            line.starts_with("#EXT")
                && !matches!(*line, "#EXT-X-ENDLIST" | "#EXT-X-DISCONTINUITY")
                && !line.starts_with("#EXT-X-MEDIA:")
                && !line.starts_with("#EXT-X-I-FRAME-STREAM-INF")
        })
    }) && lines.iter().any(|line| line.starts_with("#EXTINF"))
    {
        return Some("makes a segment of a tag after the last segment");
    }
    if lines.iter().any(|line| {
        line.starts_with("#EXT-X-MEDIA:")
            && (line.contains("=\"YES\"")
                || line.contains("=\"NO\"")
                || (line.contains("FORCED=") && !line.contains("TYPE=SUBTITLES")))
    }) {
        return Some("drops an EXT-X-MEDIA with a quoted flag or FORCED outside subtitles");
    }
    let mut keys_since_uri = 0;
    for line in &lines {
        if line.starts_with("#EXT-X-KEY") {
            keys_since_uri += 1;
            if keys_since_uri > 1 {
                return Some("keeps the first of several EXT-X-KEY before one segment");
            }
        } else if !line.is_empty() && !line.starts_with('#') {
            keys_since_uri = 0;
        }
    }
    None
}

/// The differences between our model and `m3u8-rs`'s reading of `text` (empty: agreement).
fn differences(text: &str, ours: &Playlist, base: &Url) -> Vec<String> {
    let mut found = Vec::new();
    let mut differ = |what: String| found.push(what);
    match (ours, m3u8_rs::parse_playlist_res(text.as_bytes())) {
        (Playlist::Master(ours), Ok(m3u8_rs::Playlist::MasterPlaylist(theirs))) => {
            compare_master(ours, &theirs, base, &mut differ);
        }
        (Playlist::Media(ours), Ok(m3u8_rs::Playlist::MediaPlaylist(theirs))) => {
            compare_media(ours, &theirs, base, &mut differ);
        }
        (_, Ok(_)) => differ("m3u8-rs read the other kind of playlist".into()),
        (_, Err(error)) => differ(format!("m3u8-rs refused it: {error:?}")),
    }
    found
}

fn resolve(base: &Url, uri: &str) -> String {
    base.join(uri)
        .map_or_else(|_| format!("<bad {uri}>"), String::from)
}

fn compare_master(
    ours: &MasterPlaylist,
    theirs: &m3u8_rs::MasterPlaylist,
    base: &Url,
    differ: &mut impl FnMut(String),
) {
    let (iframes, streams): (Vec<_>, Vec<_>) = theirs
        .variants
        .iter()
        .partition(|variant| variant.is_i_frame);
    for (name, ours, theirs) in [
        ("variants", &ours.variants, streams),
        ("I-frame variants", &ours.iframe_variants, iframes),
    ] {
        if ours.len() != theirs.len() {
            differ(format!("{} {name} against {}", ours.len(), theirs.len()));
            continue;
        }
        for (index, (ours, theirs)) in ours.iter().zip(theirs).enumerate() {
            let theirs_codecs: Vec<String> = theirs
                .codecs
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|codec| !codec.is_empty())
                .map(str::to_owned)
                .collect();
            let checks = [
                ("URI", ours.uri.to_string(), resolve(base, &theirs.uri)),
                (
                    "BANDWIDTH",
                    ours.bandwidth.to_string(),
                    theirs.bandwidth.to_string(),
                ),
                (
                    "AVERAGE-BANDWIDTH",
                    format!("{:?}", ours.average_bandwidth),
                    format!("{:?}", theirs.average_bandwidth),
                ),
                (
                    "CODECS",
                    format!("{:?}", ours.codecs),
                    format!("{theirs_codecs:?}"),
                ),
                (
                    "RESOLUTION",
                    format!("{:?}", ours.resolution.map(|r| (r.width, r.height))),
                    format!("{:?}", theirs.resolution.map(|r| (r.width, r.height))),
                ),
                (
                    "AUDIO",
                    format!("{:?}", ours.audio_group),
                    format!(
                        "{:?}",
                        theirs.audio.as_ref().filter(|group| !group.is_empty())
                    ),
                ),
            ];
            for (field, ours, theirs) in checks {
                if ours != theirs {
                    differ(format!("{name}[{index}] {field}: {ours} against {theirs}"));
                }
            }
        }
    }
    if ours.renditions.len() != theirs.alternatives.len() {
        differ(format!(
            "{} renditions against {}",
            ours.renditions.len(),
            theirs.alternatives.len()
        ));
        return;
    }
    for (index, (ours, theirs)) in ours.renditions.iter().zip(&theirs.alternatives).enumerate() {
        let kind = match theirs.media_type {
            m3u8_rs::AlternativeMediaType::Audio => Some(RenditionKind::Audio),
            m3u8_rs::AlternativeMediaType::Video => Some(RenditionKind::Video),
            m3u8_rs::AlternativeMediaType::Subtitles => Some(RenditionKind::Subtitles),
            m3u8_rs::AlternativeMediaType::ClosedCaptions => Some(RenditionKind::ClosedCaptions),
            m3u8_rs::AlternativeMediaType::Other(_) => None,
        };
        let theirs_uri = theirs
            .uri
            .as_deref()
            .filter(|uri| !uri.is_empty() && kind != Some(RenditionKind::ClosedCaptions))
            .map(|uri| resolve(base, uri));
        let checks = [
            (
                "TYPE",
                format!("{:?}", Some(ours.kind)),
                format!("{kind:?}"),
            ),
            ("GROUP-ID", ours.group_id.clone(), theirs.group_id.clone()),
            ("NAME", ours.name.clone(), theirs.name.clone()),
            (
                "URI",
                format!("{:?}", ours.uri.as_ref().map(Url::to_string)),
                format!("{theirs_uri:?}"),
            ),
            (
                "DEFAULT",
                ours.default.to_string(),
                theirs.default.to_string(),
            ),
        ];
        for (field, ours, theirs) in checks {
            if ours != theirs {
                differ(format!(
                    "rendition[{index}] {field}: {ours} against {theirs}"
                ));
            }
        }
    }
}

fn compare_media(
    ours: &MediaPlaylist,
    theirs: &m3u8_rs::MediaPlaylist,
    base: &Url,
    differ: &mut impl FnMut(String),
) {
    let playlist_checks = [
        (
            "EXT-X-MEDIA-SEQUENCE",
            ours.media_sequence.to_string(),
            theirs.media_sequence.to_string(),
        ),
        (
            "EXT-X-DISCONTINUITY-SEQUENCE",
            ours.discontinuity_sequence.to_string(),
            theirs.discontinuity_sequence.to_string(),
        ),
        (
            "EXT-X-ENDLIST",
            ours.ended.to_string(),
            theirs.end_list.to_string(),
        ),
        (
            "EXT-X-TARGETDURATION",
            (ours.target_duration as u64).to_string(),
            theirs.target_duration.to_string(),
        ),
        (
            "EXT-X-PLAYLIST-TYPE",
            format!(
                "{:?}",
                ours.playlist_type
                    .map(|kind| format!("{kind:?}").to_uppercase())
            ),
            format!(
                "{:?}",
                theirs.playlist_type.as_ref().map(ToString::to_string)
            ),
        ),
        (
            "EXT-X-I-FRAMES-ONLY",
            ours.iframes_only.to_string(),
            theirs.i_frames_only.to_string(),
        ),
    ];
    for (field, ours, theirs) in playlist_checks {
        if ours != theirs {
            differ(format!("{field}: {ours} against {theirs}"));
        }
    }
    if ours.segments.len() != theirs.segments.len() {
        differ(format!(
            "{} segments against {}",
            ours.segments.len(),
            theirs.segments.len()
        ));
        return;
    }
    let mut previous_range_end: Option<u64> = None;
    for (index, (ours, theirs)) in ours.segments.iter().zip(&theirs.segments).enumerate() {
        // m3u8-rs keeps an f32 duration.
        if (ours.duration - f64::from(theirs.duration)).abs() > 1e-3 * ours.duration.max(1.0) {
            differ(format!(
                "segment[{index}] duration {} against {}",
                ours.duration, theirs.duration
            ));
        }
        if ours.uri.as_str() != resolve(base, &theirs.uri) {
            differ(format!(
                "segment[{index}] URI {} against {}",
                ours.uri, theirs.uri
            ));
        }
        if ours.discontinuity != theirs.discontinuity {
            differ(format!("segment[{index}] discontinuity"));
        }
        if let Some(range) = &theirs.byte_range {
            let offset = range.offset.or(previous_range_end);
            previous_range_end = offset.map(|offset| offset + range.length);
            let theirs = offset.map(|offset| (offset, range.length));
            let ours = ours.byte_range.map(|range| (range.offset, range.length));
            if ours != theirs {
                differ(format!(
                    "segment[{index}] byte range {ours:?} against {theirs:?}"
                ));
            }
        } else if ours.byte_range.is_some() {
            differ(format!("segment[{index}] byte range only in ours"));
        }
        if let Some(map) = &theirs.map {
            let ours = ours.init.as_ref().map(|init| init.uri.to_string());
            if ours.as_deref() != Some(resolve(base, &map.uri).as_str()) {
                differ(format!("segment[{index}] map {ours:?} against {}", map.uri));
            }
        }
        if let Some(key) = &theirs.key
            && key.method != m3u8_rs::KeyMethod::None
        {
            let ours = ours.key.as_ref().map(|key| key.method.clone());
            if ours != Some(key.method.to_string()) {
                differ(format!(
                    "segment[{index}] key {ours:?} against {}",
                    key.method
                ));
            }
        }
    }
}

#[test]
fn the_parser_agrees_with_m3u8_rs_on_every_fixture_it_accepts() {
    let Some(dir) = fixtures_dir() else {
        eprintln!("skipped: no fixtures (set HLS_FIXTURES or clone ../shared)");
        return;
    };
    let mut files = Vec::new();
    playlist_files(&dir, &mut files);
    files.sort();
    let base = Url::parse("https://cdn.test/path/playlist.m3u8").unwrap();
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(ours) = parse_playlist(&text, &base) else {
            continue;
        };
        // EXT-X-DEFINE substitution is ours alone: m3u8-rs reads `{$name}` literally.
        if text.contains("EXT-X-DEFINE") {
            continue;
        }
        if let Some(flaw) = m3u8_rs_misreads(&text) {
            let name = file.strip_prefix(&dir).unwrap_or(file).display();
            eprintln!("not compared: {name}: m3u8-rs {flaw}");
            continue;
        }
        compared += 1;
        let found = differences(&text, &ours, &base);
        if !found.is_empty() {
            let name = file.strip_prefix(&dir).unwrap_or(file).display();
            disagreements.push(format!("{name}: {}", found.join("; ")));
        }
    }
    assert!(
        compared >= 100,
        "only {compared} fixture playlists compared"
    );
    assert!(
        disagreements.is_empty(),
        "{} of {compared} playlists read differently:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn the_parser_agrees_with_m3u8_rs_on_hand_written_playlists() {
    let base = Url::parse("https://cdn.test/v/index.m3u8").unwrap();
    let playlists = [
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"audio/en.m3u8\"\n\
         #EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\",INSTREAM-ID=\"CC1\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2200000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO=\"aud\",CLOSED-CAPTIONS=\"cc\"\n\
         720p/index.m3u8\n\
         #EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CLOSED-CAPTIONS=NONE\n\
         https://other.test/360p.m3u8?token=a\n\
         #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI=\"iframes.m3u8\"\n",
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:17\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\n\
         #EXTINF:5.005,first\n#EXT-X-BYTERANGE:1000@720\nmedia.mp4\n\
         #EXTINF:5.005,\n#EXT-X-BYTERANGE:2000\nmedia.mp4\n\
         #EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin\",IV=0x0123456789abcdef0123456789abcdef\n\
         #EXTINF:4,\n../other/seg.ts\n#EXT-X-ENDLIST\n",
    ];
    for text in playlists {
        assert_eq!(m3u8_rs_misreads(text), None);
        let ours = parse_playlist(text, &base).expect("valid");
        let found = differences(text, &ours, &base);
        assert!(found.is_empty(), "{found:?} for\n{text}");
    }
}
