//! Fuzz target `playlist`: arbitrary bytes through the HLS model. The input is split in two
//! at the first `0xFF` byte (never part of UTF-8 text); each half, read as lossy UTF-8, is
//! parsed as a playlist, and when both are media playlists the second is merged onto the
//! first as a live reload (and each onto itself). Nothing may panic; every model invariant
//! checked below must hold for whatever parses; and `m3u8-rs` must never disagree with the
//! line scan (`PlaylistError::Rejected` means a gap in the scan's checks).

#![no_main]

use libfuzzer_sys::fuzz_target;
use player_wasm::hls::{MediaPlaylist, Playlist, PlaylistError, merge_reload, parse_playlist};
use player_wasm::url::Url;

fuzz_target!(|data: &[u8]| {
    let base = Url::parse("https://cdn.example/live/path/index.m3u8?token=abc").unwrap();
    let (first, second) = match data.iter().position(|&byte| byte == 0xFF) {
        Some(split) => (&data[..split], &data[split + 1..]),
        None => (data, &[][..]),
    };
    let previous = parse(first, &base);
    let reloaded = parse(second, &base);
    if let Some(previous) = &previous {
        check_media(previous);
        let _ = merge_reload(previous, previous.clone());
    }
    if let (Some(previous), Some(reloaded)) = (previous, reloaded) {
        if let Ok(reload) = merge_reload(&previous, reloaded) {
            assert!(reload.new_segments <= reload.playlist.segments.len());
            check_timeline(&reload.playlist);
        }
    }
});

fn parse(bytes: &[u8], base: &Url) -> Option<MediaPlaylist> {
    let text = String::from_utf8_lossy(bytes);
    match parse_playlist(&text, base) {
        Ok(Playlist::Media(media)) => Some(media),
        Err(error @ PlaylistError::Rejected { .. }) => panic!("{error}"),
        Ok(Playlist::Master(_)) | Err(_) => None,
    }
}

/// The invariants the model documents.
fn check_media(media: &MediaPlaylist) {
    for (index, segment) in media.segments.iter().enumerate() {
        assert_eq!(segment.sequence, media.media_sequence + index as u64);
        assert!(segment.duration.is_finite() && segment.duration >= 0.0);
        if let Some(range) = segment.byte_range {
            assert!(range.offset.checked_add(range.length).is_some());
            let _ = range.http_header();
        }
        assert_eq!(media.index_of_sequence(segment.sequence), Some(index));
        let _ = media.segment_index_at(segment.start);
    }
    check_timeline(media);
    let _ = media.segment_index_at(media.end());
    let _ = media.duration();
}

fn check_timeline(media: &MediaPlaylist) {
    let mut previous_end = None;
    for segment in &media.segments {
        assert!(segment.start.is_finite() && segment.end().is_finite());
        if let Some(end) = previous_end {
            assert_eq!(segment.start, end);
        }
        previous_end = Some(segment.end());
    }
}
