//! Live reloads: [`merge_reload`] places a freshly parsed live media playlist on the
//! timeline of the previous one, so that `Segment::start` stays continuous across reloads
//! while the window slides, and says what changed (new segments, stale reload, end of the
//! stream).
//!
//! Alignment uses the media sequence numbers both playlists share. Without a shared
//! segment, the reload is placed after the previous window: exactly when it continues it,
//! by estimate (program date times, else target durations for the missed segments) when
//! segments were missed.

use super::error::LiveMergeError;
use super::model::{MediaPlaylist, Segment};

/// The outcome of a reload.
#[derive(Debug, Clone, PartialEq)]
pub struct Reload {
    /// The reloaded playlist on the previous timeline (the previous playlist itself when
    /// the reload is stale).
    pub playlist: MediaPlaylist,
    /// Segments whose sequence number is past the previous playlist's last one.
    pub new_segments: usize,
    /// Nothing new: no new segment and no `EXT-X-ENDLIST` appeared. The engine should
    /// reload sooner (RFC 8216: after half the target duration).
    pub stale: bool,
    /// The timeline is exact: a segment is shared with the previous playlist, or the
    /// reload starts right after it. `false` when segments were missed and their duration
    /// had to be estimated.
    pub aligned: bool,
    /// `EXT-X-ENDLIST` is in the reload and was not in the previous playlist.
    pub endlist_appeared: bool,
}

/// Merges `reloaded` onto `previous` (see the module documentation).
///
/// Errors when the media sequence goes backwards (the stream restarted: the engine should
/// start over from the new playlist) or when `EXT-X-ENDLIST` disappears.
pub fn merge_reload(
    previous: &MediaPlaylist,
    mut reloaded: MediaPlaylist,
) -> Result<Reload, LiveMergeError> {
    if previous.ended && !reloaded.ended {
        return Err(LiveMergeError::EndListDisappeared);
    }
    let previous_first = first_sequence(previous);
    let reloaded_first = first_sequence(&reloaded);
    if reloaded_first < previous_first {
        return Err(LiveMergeError::MediaSequenceWentBackwards {
            previous: previous_first,
            reloaded: reloaded_first,
        });
    }
    let endlist_appeared = reloaded.ended && !previous.ended;
    let new_segments = count_new_segments(previous, &reloaded);
    if new_segments == 0 && !endlist_appeared {
        return Ok(Reload {
            playlist: previous.clone(),
            new_segments,
            stale: true,
            aligned: true,
            endlist_appeared,
        });
    }
    let aligned = align(previous, &mut reloaded)?;
    Ok(Reload {
        playlist: reloaded,
        new_segments,
        stale: false,
        aligned,
        endlist_appeared,
    })
}

/// The sequence number of the first segment (the media sequence of an empty playlist).
fn first_sequence(playlist: &MediaPlaylist) -> u64 {
    playlist
        .segments
        .first()
        .map_or(playlist.media_sequence, |segment| segment.sequence)
}

/// Segments of `reloaded` past the last segment of `previous`.
fn count_new_segments(previous: &MediaPlaylist, reloaded: &MediaPlaylist) -> usize {
    match previous.segments.last() {
        None => reloaded.segments.len(),
        Some(last) => reloaded
            .segments
            .iter()
            .filter(|segment| segment.sequence > last.sequence)
            .count(),
    }
}

/// Moves `reloaded` onto the previous timeline; returns whether that placement is exact.
fn align(previous: &MediaPlaylist, reloaded: &mut MediaPlaylist) -> Result<bool, LiveMergeError> {
    let Some(first) = reloaded.segments.first() else {
        return Ok(true);
    };
    if let Some(shared) = previous.index_of_sequence(first.sequence) {
        let anchor = &previous.segments[shared];
        place_timeline(reloaded, anchor.start)?;
        renumber_discontinuities(reloaded, anchor.discontinuity_sequence);
        inherit_program_date_times(previous, reloaded);
        return Ok(true);
    }
    let (start, exact) = start_after_window(previous, first);
    place_timeline(reloaded, start)?;
    Ok(exact)
}

/// Where a reload that shares no segment with `previous` starts, and whether that is exact.
fn start_after_window(previous: &MediaPlaylist, first: &Segment) -> (f64, bool) {
    let Some(last) = previous.segments.last() else {
        return (first.start, true);
    };
    let end = last.end();
    let missed = first
        .sequence
        .saturating_sub(last.sequence)
        .saturating_sub(1);
    if missed == 0 {
        return (end, true);
    }
    let by_date = match (last.program_date_time_ms, first.program_date_time_ms) {
        (Some(last_ms), Some(first_ms)) if !first.discontinuity => {
            Some(last.start + (first_ms - last_ms) / 1000.0).filter(|start| *start >= end)
        }
        _ => None,
    };
    let by_target_duration = end + missed as f64 * previous.target_duration;
    (by_date.unwrap_or(by_target_duration), false)
}

/// Lays the segments end to end from `start` (recomputed rather than shifted, so that each
/// start is exactly the previous segment's end).
fn place_timeline(playlist: &mut MediaPlaylist, start: f64) -> Result<(), LiveMergeError> {
    let mut next_start = start;
    for segment in &mut playlist.segments {
        segment.start = next_start;
        next_start = segment.end();
        if !next_start.is_finite() {
            return Err(LiveMergeError::TimelineOverflow);
        }
    }
    Ok(())
}

/// Keeps discontinuity sequence numbers continuous with the previous playlist when the
/// server's numbering disagrees at the shared segment (a common server bug).
fn renumber_discontinuities(reloaded: &mut MediaPlaylist, at_shared_segment: u64) {
    let Some(first) = reloaded.segments.first() else {
        return;
    };
    let server_number = first.discontinuity_sequence;
    if server_number == at_shared_segment {
        return;
    }
    for segment in &mut reloaded.segments {
        let since_first = segment.discontinuity_sequence.saturating_sub(server_number);
        segment.discontinuity_sequence = at_shared_segment.saturating_add(since_first);
    }
    reloaded.discontinuity_sequence = at_shared_segment;
}

/// Shared segments without a program date time take the previous playlist's, and carry it
/// forward to the following segments (not across a discontinuity).
fn inherit_program_date_times(previous: &MediaPlaylist, reloaded: &mut MediaPlaylist) {
    let mut carried_end_ms: Option<f64> = None;
    for segment in &mut reloaded.segments {
        if segment.program_date_time_ms.is_none() {
            segment.program_date_time_ms = previous
                .index_of_sequence(segment.sequence)
                .and_then(|index| previous.segments[index].program_date_time_ms)
                .or(carried_end_ms.filter(|_| !segment.discontinuity));
        }
        carried_end_ms = segment
            .program_date_time_ms
            .map(|ms| ms + segment.duration * 1000.0)
            .filter(|ms| ms.is_finite());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::{Playlist, parse_playlist};
    use crate::url::Url;

    fn playlist(first: u64, durations: &[f64], extra: &str) -> MediaPlaylist {
        let mut text =
            format!("#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:{first}\n{extra}");
        for duration in durations {
            text.push_str(&format!("#EXTINF:{duration},\ns.ts\n"));
        }
        let url = Url::parse("https://l.test/p.m3u8").unwrap();
        match parse_playlist(&text, &url) {
            Ok(Playlist::Media(media)) => media,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_start_after_the_window_is_exact_only_when_nothing_was_missed() {
        let previous = playlist(10, &[4.0, 4.0], "");
        let next = playlist(12, &[4.0], "");
        assert_eq!(
            start_after_window(&previous, &next.segments[0]),
            (8.0, true)
        );
        let later = playlist(15, &[4.0], "");
        assert_eq!(
            start_after_window(&previous, &later.segments[0]),
            (8.0 + 3.0 * 5.0, false)
        );
        let empty = playlist(10, &[], "");
        assert_eq!(start_after_window(&empty, &next.segments[0]), (0.0, true));
    }

    #[test]
    fn dates_that_would_move_the_reload_backwards_are_ignored() {
        let previous = playlist(
            10,
            &[4.0, 4.0],
            "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:01:00Z\n",
        );
        let later = playlist(
            15,
            &[4.0],
            "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n",
        );
        assert_eq!(
            start_after_window(&previous, &later.segments[0]),
            (23.0, false)
        );
    }

    #[test]
    fn renumbering_follows_the_shared_segment() {
        let mut reloaded = playlist(3, &[1.0, 1.0], "#EXT-X-DISCONTINUITY-SEQUENCE:2\n");
        reloaded.segments[1].discontinuity_sequence = 3;
        renumber_discontinuities(&mut reloaded, 10);
        let numbers: Vec<u64> = reloaded
            .segments
            .iter()
            .map(|s| s.discontinuity_sequence)
            .collect();
        assert_eq!(numbers, [10, 11]);
    }

    #[test]
    fn an_absurd_timeline_is_refused_rather_than_made_infinite() {
        let previous = playlist(0, &[f64::MAX / 2.0, f64::MAX / 4.0], "");
        let reloaded = playlist(1, &[f64::MAX / 4.0, f64::MAX / 2.0], "");
        assert_eq!(
            merge_reload(&previous, reloaded),
            Err(LiveMergeError::TimelineOverflow)
        );
    }
}
