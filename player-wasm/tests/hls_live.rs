//! Live reloads merged onto the previous timeline: sliding windows, stale reloads, reloads
//! that share no segment, restarts, the end of the stream.

use player_wasm::hls::{
    LiveMergeError, MediaPlaylist, Playlist, Reload, merge_reload, parse_playlist,
};
use player_wasm::url::Url;

/// A live playlist of `durations.len()` segments from media sequence `first`.
fn window(first: u64, durations: &[f64]) -> MediaPlaylist {
    window_with(first, durations, "")
}

/// Like [`window`], with `extra` inserted before the first segment and an optional end.
fn window_with(first: u64, durations: &[f64], extra: &str) -> MediaPlaylist {
    let mut text =
        format!("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:{first}\n{extra}");
    for (index, duration) in durations.iter().enumerate() {
        text.push_str(&format!(
            "#EXTINF:{duration},\nseg{}.ts\n",
            first + index as u64
        ));
    }
    parse(&text)
}

fn ended(mut playlist: MediaPlaylist) -> MediaPlaylist {
    playlist.ended = true;
    playlist
}

fn parse(text: &str) -> MediaPlaylist {
    let url = Url::parse("https://live.test/channel/index.m3u8").unwrap();
    match parse_playlist(text, &url) {
        Ok(Playlist::Media(media)) => media,
        other => panic!("{other:?}"),
    }
}

fn starts(playlist: &MediaPlaylist) -> Vec<f64> {
    playlist.segments.iter().map(|s| s.start).collect()
}

fn merge(previous: &MediaPlaylist, reloaded: MediaPlaylist) -> Reload {
    merge_reload(previous, reloaded).expect("merge")
}

#[test]
fn a_sliding_window_keeps_segment_starts_continuous() {
    let first = window(100, &[6.0, 6.0, 5.0]);
    let second = merge(&first, window(101, &[6.0, 5.0, 6.0, 4.0]));
    assert!(second.aligned && !second.stale && !second.endlist_appeared);
    assert_eq!(second.new_segments, 2);
    assert_eq!(starts(&second.playlist), [6.0, 12.0, 17.0, 23.0]);
    let third = merge(&second.playlist, window(104, &[4.0, 6.0]));
    assert_eq!(third.new_segments, 1);
    assert_eq!(starts(&third.playlist), [23.0, 27.0]);
    let sequence_at = |time| {
        let playlist = &third.playlist;
        playlist
            .segment_index_at(time)
            .map(|i| playlist.segments[i].sequence)
    };
    assert_eq!(sequence_at(26.0), Some(104));
    assert_eq!(sequence_at(27.0), Some(105));
    assert_eq!(sequence_at(33.0), None);
}

#[test]
fn a_reload_without_new_segments_is_stale_and_keeps_the_previous_playlist() {
    let first = window(100, &[6.0, 6.0, 6.0]);
    let same = merge(&first, window(100, &[6.0, 6.0, 6.0]));
    assert!(same.stale);
    assert_eq!(same.new_segments, 0);
    assert_eq!(same.playlist, first);
    let older_copy = merge(&first, window(100, &[6.0, 6.0]));
    assert!(older_copy.stale);
    assert_eq!(older_copy.playlist.segments.len(), 3);
    let slid_without_growing = merge(&first, window(101, &[6.0, 6.0]));
    assert!(slid_without_growing.stale);
}

#[test]
fn a_reload_right_after_the_window_continues_it_exactly() {
    let first = window(100, &[6.0, 6.0]);
    let next = merge(&first, window(102, &[5.0, 6.0]));
    assert!(next.aligned);
    assert_eq!(next.new_segments, 2);
    assert_eq!(starts(&next.playlist), [12.0, 17.0]);
}

#[test]
fn missed_segments_are_estimated_with_the_target_duration() {
    let first = window(100, &[6.0, 6.0]);
    let later = merge(&first, window(105, &[6.0, 6.0]));
    assert!(!later.aligned, "three segments were missed");
    assert_eq!(later.new_segments, 2);
    assert_eq!(starts(&later.playlist), [12.0 + 3.0 * 6.0, 36.0]);
}

#[test]
fn missed_segments_are_estimated_with_program_date_times_when_present() {
    let first = window_with(
        100,
        &[4.0, 4.0],
        "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n",
    );
    let later = window_with(
        110,
        &[4.0],
        "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:40Z\n",
    );
    let merged = merge(&first, later);
    assert!(!merged.aligned);
    assert_eq!(starts(&merged.playlist), [40.0]);
}

#[test]
fn program_date_times_are_carried_into_a_reload_that_lost_its_tag() {
    let first = window_with(
        100,
        &[4.0, 4.0],
        "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n",
    );
    let merged = merge(&first, window(101, &[4.0, 4.0]));
    let dates: Vec<Option<f64>> = merged
        .playlist
        .segments
        .iter()
        .map(|s| s.program_date_time_ms)
        .collect();
    let midnight = 1_704_067_200_000.0;
    assert_eq!(dates, [Some(midnight + 4000.0), Some(midnight + 8000.0)]);
}

#[test]
fn discontinuity_numbers_stay_continuous_when_the_server_forgets_them() {
    let first = window_with(100, &[4.0], "#EXT-X-DISCONTINUITY-SEQUENCE:3\n");
    let without_number = window(100, &[4.0, 4.0]);
    let merged = merge(&first, without_number);
    let numbers: Vec<u64> = merged
        .playlist
        .segments
        .iter()
        .map(|s| s.discontinuity_sequence)
        .collect();
    assert_eq!(numbers, [3, 3]);
    assert_eq!(merged.playlist.discontinuity_sequence, 3);
}

#[test]
fn a_media_sequence_going_backwards_is_a_restart() {
    let first = window(100, &[6.0, 6.0]);
    assert_eq!(
        merge_reload(&first, window(0, &[6.0, 6.0, 6.0])),
        Err(LiveMergeError::MediaSequenceWentBackwards {
            previous: 100,
            reloaded: 0
        })
    );
}

#[test]
fn the_end_of_the_stream_is_reported() {
    let first = window(100, &[6.0, 6.0]);
    let with_end = merge(&first, ended(window(100, &[6.0, 6.0, 3.0])));
    assert!(with_end.endlist_appeared && !with_end.stale);
    assert_eq!(with_end.new_segments, 1);
    assert!(!with_end.playlist.is_live());
    let end_only = merge(&first, ended(window(100, &[6.0, 6.0])));
    assert!(end_only.endlist_appeared && !end_only.stale);
    assert_eq!(end_only.new_segments, 0);
    assert_eq!(
        merge_reload(&end_only.playlist, window(100, &[6.0, 6.0])),
        Err(LiveMergeError::EndListDisappeared)
    );
}

#[test]
fn an_empty_previous_window_takes_the_reload_as_it_is() {
    let empty = parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n");
    let merged = merge(&empty, window(7, &[6.0]));
    assert!(merged.aligned);
    assert_eq!(merged.new_segments, 1);
    assert_eq!(starts(&merged.playlist), [0.0]);
    let still_empty = merge(
        &empty,
        parse("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n"),
    );
    assert!(still_empty.stale);
}
