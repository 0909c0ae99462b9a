//! Builds the model's [`MediaPlaylist`] from what the line scan recorded: segments placed on the timeline, sequence and discontinuity sequence numbers
//! assigned, `EXT-X-MAP` and `EXT-X-KEY` carried to every segment they apply to, implicit
//! byte range offsets made explicit, program date times carried forward.

use crate::url::Url;

use super::error::PlaylistError;
use super::model::{ByteRange, InitSegment, MediaPlaylist, Segment, SegmentKey};
use super::parse::resolve_uri;
use super::scan::{KeyChange, ScannedMedia, SegmentFacts, WrittenRange};
use crate::small_map::SmallMap;

/// The model of a media playlist.
pub(crate) fn build_media(
    scanned: ScannedMedia,
    url: &Url,
) -> Result<MediaPlaylist, PlaylistError> {
    let target_duration = scanned
        .target_duration
        .ok_or(PlaylistError::MissingTargetDuration)?;
    let media_sequence = scanned
        .media_sequence
        .checked_add(scanned.skipped_segments)
        .ok_or_else(|| PlaylistError::Overflow {
            line: scanned.media_sequence_line.unwrap_or(1),
            what: "EXT-X-MEDIA-SEQUENCE + EXT-X-SKIP:SKIPPED-SEGMENTS".to_owned(),
        })?;
    let mut timeline = Timeline::new(url, media_sequence, scanned.discontinuity_sequence);
    let segments = scanned
        .segments
        .iter()
        .enumerate()
        .map(|(index, facts)| timeline.place(index, facts))
        .collect::<Result<_, _>>()?;
    Ok(MediaPlaylist {
        url: url.clone(),
        target_duration,
        media_sequence,
        discontinuity_sequence: scanned.discontinuity_sequence,
        playlist_type: scanned.playlist_type,
        ended: scanned.ended,
        iframes_only: scanned.iframes_only,
        independent_segments: scanned.wide.independent_segments,
        start: scanned.wide.start,
        segments,
    })
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
    range_ends: SmallMap<Url, u64>,
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
            range_ends: SmallMap::new(),
            previous_end_ms: None,
        }
    }

    /// The model of segment `index`.
    fn place(&mut self, index: usize, facts: &SegmentFacts) -> Result<Segment, PlaylistError> {
        let overflow = |what: &str| PlaylistError::Overflow {
            line: facts.uri_line,
            what: what.to_owned(),
        };
        let sequence = u64::try_from(index)
            .ok()
            .and_then(|index| self.media_sequence.checked_add(index))
            .ok_or_else(|| overflow("the media sequence number"))?;
        if facts.discontinuity {
            self.discontinuity_sequence = self
                .discontinuity_sequence
                .checked_add(1)
                .ok_or_else(|| overflow("the discontinuity sequence number"))?;
        }
        let uri = resolve_uri(self.url, &facts.uri, facts.uri_line)?;
        if let Some(map) = &facts.map {
            self.init = Some(InitSegment {
                uri: resolve_uri(self.url, &map.uri, map.line)?,
                // The scan checked that offset + length fits; a missing offset means 0.
                byte_range: map.byte_range.map(|range| ByteRange {
                    offset: range.offset.unwrap_or(0),
                    length: range.length,
                }),
            });
        }
        self.apply_key_change(facts)?;
        let byte_range = facts
            .byte_range
            .map(|range| self.explicit_range(&uri, range))
            .transpose()?;
        let start = self.advance(facts)?;
        Ok(Segment {
            sequence,
            uri,
            duration: facts.duration,
            start,
            byte_range,
            init: self.init.clone(),
            discontinuity: facts.discontinuity,
            discontinuity_sequence: self.discontinuity_sequence,
            gap: facts.gap,
            program_date_time_ms: self.program_date_time(facts),
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

    fn apply_key_change(&mut self, facts: &SegmentFacts) -> Result<(), PlaylistError> {
        match &facts.key_change {
            None => {}
            Some(KeyChange::Cleared) => self.key = None,
            Some(KeyChange::Set(key)) => {
                self.key = Some(SegmentKey {
                    method: key.method.clone(),
                    uri: Some(resolve_uri(self.url, &key.uri, key.line)?),
                    iv: key.iv.clone(),
                    key_format: key.key_format.clone(),
                });
            }
        }
        Ok(())
    }

    /// The range with its offset: given, or right after the previous range of `uri`.
    fn explicit_range(
        &mut self,
        uri: &Url,
        range: WrittenRange,
    ) -> Result<ByteRange, PlaylistError> {
        let line = range.line;
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
    fn program_date_time(&mut self, facts: &SegmentFacts) -> Option<f64> {
        let carried = (!facts.discontinuity)
            .then_some(self.previous_end_ms)
            .flatten();
        let date_ms = facts.program_date_time_ms.or(carried);
        self.previous_end_ms = date_ms
            .map(|ms| ms + facts.duration * 1000.0)
            .filter(|ms| ms.is_finite());
        date_ms
    }
}
