//! Builds the model's [`MediaPlaylist`] from what `m3u8-rs` parsed and what the line scan
//! recorded: segments placed on the timeline, sequence and discontinuity sequence numbers
//! assigned, `EXT-X-MAP` and `EXT-X-KEY` carried to every segment they apply to, implicit
//! byte range offsets made explicit, program date times carried forward.

use std::collections::HashMap;

use url::Url;

use super::error::PlaylistError;
use super::master::start_offset;
use super::model::{ByteRange, InitSegment, MediaPlaylist, PlaylistType, Segment, SegmentKey};
use super::parse::{resolve_uri, same_count};
use super::scan::{KeyChange, ScannedMedia, SegmentFacts};

/// The model of a media playlist.
pub(crate) fn build_media(
    parsed: m3u8_rs::MediaPlaylist,
    scanned: &ScannedMedia,
    url: &Url,
) -> Result<MediaPlaylist, PlaylistError> {
    let target_duration = scanned
        .target_duration
        .ok_or(PlaylistError::MissingTargetDuration)?;
    same_count(parsed.segments.len(), scanned.segments.len(), "segments")?;
    let media_sequence = parsed
        .media_sequence
        .checked_add(scanned.skipped_segments)
        .ok_or_else(|| PlaylistError::Overflow {
            line: scanned.media_sequence_line.unwrap_or(1),
            what: "EXT-X-MEDIA-SEQUENCE + EXT-X-SKIP:SKIPPED-SEGMENTS".to_owned(),
        })?;
    let mut timeline = Timeline::new(url, media_sequence, parsed.discontinuity_sequence);
    let segments = parsed
        .segments
        .into_iter()
        .zip(&scanned.segments)
        .enumerate()
        .map(|(index, (segment, facts))| timeline.place(index, segment, facts))
        .collect::<Result<_, _>>()?;
    Ok(MediaPlaylist {
        url: url.clone(),
        target_duration,
        media_sequence,
        discontinuity_sequence: parsed.discontinuity_sequence,
        playlist_type: parsed.playlist_type.map(playlist_type).transpose()?,
        ended: parsed.end_list,
        iframes_only: parsed.i_frames_only,
        independent_segments: parsed.independent_segments,
        start: parsed.start.map(start_offset),
        segments,
    })
}

fn playlist_type(kind: m3u8_rs::MediaPlaylistType) -> Result<PlaylistType, PlaylistError> {
    match kind {
        m3u8_rs::MediaPlaylistType::Vod => Ok(PlaylistType::Vod),
        m3u8_rs::MediaPlaylistType::Event => Ok(PlaylistType::Event),
        m3u8_rs::MediaPlaylistType::Other(other) => Err(PlaylistError::Rejected {
            message: format!("it read EXT-X-PLAYLIST-TYPE:{other}"),
        }),
    }
}

/// What carries from one segment to the next while the playlist is walked in order.
struct Timeline<'a> {
    url: &'a Url,
    media_sequence: u64,
    next_start: f64,
    discontinuity_sequence: u64,
    init: Option<InitSegment>,
    key: Option<SegmentKey>,
    /// End of the last byte range of each resource, for ranges without an offset.
    range_ends: HashMap<Url, u64>,
    /// Program date time at the end of the previous segment.
    previous_end_ms: Option<f64>,
}

impl<'a> Timeline<'a> {
    fn new(url: &'a Url, media_sequence: u64, discontinuity_sequence: u64) -> Self {
        Self {
            url,
            media_sequence,
            next_start: 0.0,
            discontinuity_sequence,
            init: None,
            key: None,
            range_ends: HashMap::new(),
            previous_end_ms: None,
        }
    }

    /// The model of segment `index`.
    fn place(
        &mut self,
        index: usize,
        segment: m3u8_rs::MediaSegment,
        facts: &SegmentFacts,
    ) -> Result<Segment, PlaylistError> {
        let overflow = |what: &str| PlaylistError::Overflow {
            line: facts.uri_line,
            what: what.to_owned(),
        };
        let sequence = u64::try_from(index)
            .ok()
            .and_then(|index| self.media_sequence.checked_add(index))
            .ok_or_else(|| overflow("the media sequence number"))?;
        if segment.discontinuity {
            self.discontinuity_sequence = self
                .discontinuity_sequence
                .checked_add(1)
                .ok_or_else(|| overflow("the discontinuity sequence number"))?;
        }
        let uri = resolve_uri(self.url, &segment.uri, facts.uri_line)?;
        if let Some(map) = segment.map {
            self.init = Some(self.init_segment(map, facts)?);
        }
        self.apply_key_change(segment.key, facts)?;
        let byte_range = segment
            .byte_range
            .map(|range| self.explicit_range(&uri, range, facts))
            .transpose()?;
        let start = self.advance(facts)?;
        Ok(Segment {
            sequence,
            uri,
            duration: facts.duration,
            start,
            byte_range,
            init: self.init.clone(),
            discontinuity: segment.discontinuity,
            discontinuity_sequence: self.discontinuity_sequence,
            gap: facts.gap,
            program_date_time_ms: self.program_date_time(segment.discontinuity, facts),
            key: self.key.clone(),
            title: facts.title.clone(),
        })
    }

    /// The segment's start; moves the timeline past it.
    fn advance(&mut self, facts: &SegmentFacts) -> Result<f64, PlaylistError> {
        let start = self.next_start;
        self.next_start = start + facts.duration;
        if self.next_start.is_finite() {
            Ok(start)
        } else {
            Err(PlaylistError::Overflow {
                line: facts.extinf_line,
                what: "the playlist duration".to_owned(),
            })
        }
    }

    fn init_segment(
        &self,
        map: m3u8_rs::Map,
        facts: &SegmentFacts,
    ) -> Result<InitSegment, PlaylistError> {
        let line = facts.map_line.unwrap_or(facts.uri_line);
        Ok(InitSegment {
            uri: resolve_uri(self.url, &map.uri, line)?,
            // The scan checked that offset + length fits; a missing offset means 0.
            byte_range: map.byte_range.map(|range| ByteRange {
                offset: range.offset.unwrap_or(0),
                length: range.length,
            }),
        })
    }

    fn apply_key_change(
        &mut self,
        key: Option<m3u8_rs::Key>,
        facts: &SegmentFacts,
    ) -> Result<(), PlaylistError> {
        match (facts.key_change, key) {
            (None, _) => {}
            (Some(KeyChange::Cleared), _) => self.key = None,
            (Some(KeyChange::Set { line }), Some(key)) => {
                self.key = Some(SegmentKey {
                    method: key.method.to_string(),
                    uri: key
                        .uri
                        .map(|uri| resolve_uri(self.url, &uri, line))
                        .transpose()?,
                    iv: key.iv,
                    key_format: key.keyformat,
                });
            }
            (Some(KeyChange::Set { line }), None) => {
                return Err(PlaylistError::Rejected {
                    message: format!("it dropped the EXT-X-KEY on line {line}"),
                });
            }
        }
        Ok(())
    }

    /// The range with its offset: given, or right after the previous range of `uri`.
    fn explicit_range(
        &mut self,
        uri: &Url,
        range: m3u8_rs::ByteRange,
        facts: &SegmentFacts,
    ) -> Result<ByteRange, PlaylistError> {
        let line = facts.byte_range_line.unwrap_or(facts.uri_line);
        let offset = match range.offset {
            Some(offset) => offset,
            None => *self
                .range_ends
                .get(uri)
                .ok_or(PlaylistError::ByteRangeWithoutPredecessor { line })?,
        };
        let end = offset
            .checked_add(range.length)
            .ok_or_else(|| PlaylistError::Overflow {
                line,
                what: "byte range offset + length".to_owned(),
            })?;
        self.range_ends.insert(uri.clone(), end);
        Ok(ByteRange {
            offset,
            length: range.length,
        })
    }

    /// The segment's own program date time, or the previous one's end carried forward
    /// (not across a discontinuity).
    fn program_date_time(&mut self, discontinuity: bool, facts: &SegmentFacts) -> Option<f64> {
        let carried = (!discontinuity).then_some(self.previous_end_ms).flatten();
        let date_ms = facts.program_date_time_ms.or(carried);
        self.previous_end_ms = date_ms
            .map(|ms| ms + facts.duration * 1000.0)
            .filter(|ms| ms.is_finite());
        date_ms
    }
}
