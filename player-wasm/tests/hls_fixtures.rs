//! Every playlist of the shared fixture set (`../shared/fixtures`, or `$HLS_FIXTURES`) goes
//! through the parser: none may panic, every well-formed one must parse, and the malformed
//! ones must fail for the reason listed here. Skipped when the fixtures are not there (a
//! clone without `../shared`).

#![cfg(not(target_arch = "wasm32"))] // files on disk (`Url::from_file_path`): native only

use std::path::{Path, PathBuf};

use player_wasm::hls::{Playlist, PlaylistError, merge_reload, parse_playlist};
use player_wasm::url::Url;

/// The fixtures that are malformed per RFC 8216 / 8216bis, with the error variant each gets.
const MALFORMED: &[(&str, &str)] = &[
    // A byte range without offset whose previous segment is another resource.
    (
        "carlanton-m3u8-parser/media/iframe.m3u8",
        "ByteRangeWithoutPredecessor",
    ),
    (
        "videojs-m3u8-parser/byteRange.m3u8",
        "ByteRangeWithoutPredecessor",
    ),
    // A stray line (curl output; a URI after EXT-X-MEDIA) where only variant URIs may be.
    (
        "eyevinn-hls-vodtolive/hls_noaudioonly/master.m3u8",
        "UriWithoutStreamInf",
    ),
    ("m3u8-rs/masterplaylist.m3u8", "UriWithoutStreamInf"),
    // Master playlist tags and media playlist tags in one file.
    ("globocom-m3u8/relative-playlist.m3u8", "MixedPlaylist"),
    (
        "videojs-m3u8-parser/emptyTargetDuration.m3u8",
        "MixedPlaylist",
    ),
    // The first line is not #EXTM3U (a comment comes first, or there is no header at all).
    ("grafov-m3u8/master-with-hlsv7.m3u8", "NotAPlaylist"),
    (
        "grafov-m3u8/media-playlist-with-discontinuity.m3u8",
        "NotAPlaylist",
    ),
    ("videojs-http-streaming/main-captions.m3u8", "NotAPlaylist"),
    ("videojs-http-streaming/main.m3u8", "NotAPlaylist"),
    (
        "videojs-http-streaming/manifestNoExtM3u.m3u8",
        "NotAPlaylist",
    ),
    ("videojs-http-streaming/one-rendition.m3u8", "NotAPlaylist"),
    ("videojs-http-streaming/two-renditions.m3u8", "NotAPlaylist"),
    ("videojs-m3u8-parser/empty.m3u8", "NotAPlaylist"),
    ("videojs-m3u8-parser/manifestNoExtM3u.m3u8", "NotAPlaylist"),
    ("videojs-m3u8-parser/master.m3u8", "NotAPlaylist"),
    ("videojs-m3u8-parser/start.m3u8", "NotAPlaylist"),
    // A tag split over several lines.
    ("sethdeckard-m3u8/date_range_scte35.m3u8", "Syntax"),
    // Invalid values.
    (
        "videojs-http-streaming/invalidPlaylistType.m3u8",
        "InvalidValue",
    ),
    (
        "videojs-m3u8-parser/invalidPlaylistType.m3u8",
        "InvalidValue",
    ),
    (
        "videojs-http-streaming/manifestExtTTargetdurationNegative.m3u8",
        "InvalidValue",
    ),
    (
        "videojs-m3u8-parser/manifestExtTTargetdurationNegative.m3u8",
        "InvalidValue",
    ),
    ("videojs-m3u8-parser/extinf.m3u8", "InvalidValue"),
    ("videojs-m3u8-parser/emptyMediaSequence.m3u8", "Syntax"),
    // Templates (handlebars), not playlists.
    (
        "videojs-http-streaming/playlist_byte_range_template.m3u8",
        "InvalidValue",
    ),
    (
        "videojs-http-streaming/playlist_media_sequence_template.m3u8",
        "SegmentWithoutDuration",
    ),
    (
        "videojs-http-streaming/playlist_type_template.m3u8",
        "SegmentWithoutDuration",
    ),
    // Segments without EXTINF.
    (
        "videojs-m3u8-parser/liveMissingSegmentDuration.m3u8",
        "SegmentWithoutDuration",
    ),
    (
        "videojs-m3u8-parser/missingExtinf.m3u8",
        "SegmentWithoutDuration",
    ),
    (
        "videojs-m3u8-parser/missingSegmentDuration.m3u8",
        "SegmentWithoutDuration",
    ),
    // Two different EXT-X-MEDIA-SEQUENCE values.
    (
        "videojs-m3u8-parser/twoMediaSequences.m3u8",
        "ConflictingTag",
    ),
];

fn fixtures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HLS_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}

/// Every `*.m3u8` file, and every other file starting with `#EXTM3U`.
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

fn variant_name(error: &PlaylistError) -> String {
    let debug = format!("{error:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn every_fixture_playlist_is_handled() {
    let Some(dir) = fixtures_dir() else {
        eprintln!("no fixtures directory: skipped");
        return;
    };
    let mut files = Vec::new();
    playlist_files(&dir, &mut files);
    files.sort();
    assert!(
        files.len() > 100,
        "only {} playlists under {}",
        files.len(),
        dir.display()
    );
    let mut surprises = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        let url = Url::from_file_path(file.canonicalize().unwrap()).unwrap();
        let expected = MALFORMED
            .iter()
            .find(|(name, _)| *name == relative)
            .map(|(_, v)| *v);
        match (parse_playlist(&text, &url), expected) {
            (Ok(Playlist::Media(media)), None) => {
                let _ = merge_reload(&media, media.clone());
            }
            (Ok(Playlist::Master(_)), None) => {}
            (Err(error), Some(variant)) if variant_name(&error) == variant => {}
            (Ok(_), Some(variant)) => {
                surprises.push(format!("{relative}: parsed, expected {variant}"))
            }
            (Err(error), _) => surprises.push(format!("{relative}: {error} ({error:?})")),
        }
    }
    assert!(
        surprises.is_empty(),
        "unexpected outcomes:\n{}",
        surprises.join("\n")
    );
}
