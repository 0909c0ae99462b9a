//! The scan of a media playlist: every segment's URI, `EXTINF`, discontinuity, gap flag,
//! program date time, byte range, map and key, with their lines, in segment order; the
//! playlist-level tags read (with conflicting repeats refused).

use super::{
    Body, LineScan, PlaylistWide, expect_no_value, expect_value, playlist_wide_tag, scalar,
};
use crate::hls::attributes::{Attributes, TagAt};
use crate::hls::error::PlaylistError;
use crate::hls::model::PlaylistType;
use crate::hls::values;

/// A media playlist after the scan.
#[derive(Debug)]
pub(crate) struct ScannedMedia {
    /// `EXT-X-TARGETDURATION` (a decimal number is tolerated).
    pub target_duration: Option<f64>,
    /// `EXT-X-MEDIA-SEQUENCE` (0 when absent).
    pub media_sequence: u64,
    /// `EXT-X-DISCONTINUITY-SEQUENCE` (0 when absent).
    pub discontinuity_sequence: u64,
    pub playlist_type: Option<PlaylistType>,
    /// `EXT-X-ENDLIST`.
    pub ended: bool,
    /// `EXT-X-I-FRAMES-ONLY`.
    pub iframes_only: bool,
    /// `EXT-X-INDEPENDENT-SEGMENTS` and `EXT-X-START`.
    pub wide: PlaylistWide,
    /// `EXT-X-SKIP:SKIPPED-SEGMENTS` of a playlist delta update.
    pub skipped_segments: u64,
    /// The line of `EXT-X-MEDIA-SEQUENCE`, if present.
    pub media_sequence_line: Option<usize>,
    /// One entry per segment, in playlist order.
    pub segments: Vec<SegmentFacts>,
}

/// What the scan knows about one segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SegmentFacts {
    /// The URI as written (after variable substitution).
    pub uri: String,
    pub uri_line: usize,
    pub extinf_line: usize,
    /// `EXTINF` duration, exactly as written.
    pub duration: f64,
    pub title: Option<String>,
    /// `EXT-X-DISCONTINUITY` before this segment.
    pub discontinuity: bool,
    pub gap: bool,
    /// `EXT-X-PROGRAM-DATE-TIME` given on this segment.
    pub program_date_time_ms: Option<f64>,
    /// `EXT-X-BYTERANGE`: length, offset if written, and the line.
    pub byte_range: Option<WrittenRange>,
    /// An `EXT-X-MAP` that takes effect at this segment.
    pub map: Option<WrittenMap>,
    /// The last `EXT-X-KEY` before this segment, if any since the previous one.
    pub key_change: Option<KeyChange>,
}

/// A byte range as written: `<length>[@<offset>]` on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WrittenRange {
    pub length: u64,
    pub offset: Option<u64>,
    pub line: usize,
}

/// `EXT-X-MAP` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WrittenMap {
    pub uri: String,
    pub byte_range: Option<WrittenRange>,
    pub line: usize,
}

/// An `EXT-X-KEY` tag between two segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyChange {
    /// `METHOD=NONE`: the following segments are not encrypted.
    Cleared,
    /// A key with a method.
    Set(WrittenKey),
}

/// `EXT-X-KEY` with a method other than `NONE`, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WrittenKey {
    pub method: String,
    pub uri: String,
    pub iv: Option<String>,
    pub key_format: Option<String>,
    pub line: usize,
}

/// Tags that apply to the next segment, gathered until its URI line.
#[derive(Debug, Default)]
struct PendingSegment {
    extinf: Option<(usize, f64, Option<String>)>,
    discontinuity: bool,
    gap: bool,
    program_date_time_ms: Option<f64>,
    byte_range: Option<WrittenRange>,
    map: Option<WrittenMap>,
    key_change: Option<KeyChange>,
}

/// Scans a media playlist.
pub(super) fn scan_media(body: &Body<'_>) -> Result<ScannedMedia, PlaylistError> {
    let mut scan = MediaScan::default();
    body.walk(&mut scan)?;
    Ok(ScannedMedia {
        target_duration: scan.target_duration,
        media_sequence: scan.media_sequence,
        discontinuity_sequence: scan.discontinuity_sequence,
        playlist_type: scan.playlist_type,
        ended: scan.ended,
        iframes_only: scan.iframes_only,
        wide: scan.wide,
        skipped_segments: scan.skipped_segments,
        media_sequence_line: scan.media_sequence_line,
        segments: scan.segments,
    })
}

#[derive(Debug, Default)]
struct MediaScan {
    wide: PlaylistWide,
    target_duration: Option<f64>,
    media_sequence: u64,
    discontinuity_sequence: u64,
    playlist_type: Option<PlaylistType>,
    ended: bool,
    iframes_only: bool,
    skipped_segments: u64,
    media_sequence_line: Option<usize>,
    segments: Vec<SegmentFacts>,
    pending: PendingSegment,
}

impl LineScan for MediaScan {
    /// A URI line: the segment is complete.
    fn uri_line(&mut self, line: usize, uri: &str) -> Result<(), PlaylistError> {
        let pending = std::mem::take(&mut self.pending);
        let (extinf_line, duration, title) = pending
            .extinf
            .ok_or(PlaylistError::SegmentWithoutDuration { line })?;
        self.segments.push(SegmentFacts {
            uri: uri.to_owned(),
            uri_line: line,
            extinf_line,
            duration,
            title,
            discontinuity: pending.discontinuity,
            gap: pending.gap,
            program_date_time_ms: pending.program_date_time_ms,
            byte_range: pending.byte_range,
            map: pending.map,
            key_change: pending.key_change,
        });
        Ok(())
    }

    fn tag_line(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        match tag.name {
            "EXTINF" => self.extinf(tag, value),
            "EXT-X-BYTERANGE" => {
                let (length, offset) = scalar(tag, value, values::byte_range)?;
                self.pending.byte_range = Some(WrittenRange {
                    length,
                    offset,
                    line: tag.line,
                });
                Ok(())
            }
            "EXT-X-DISCONTINUITY" => {
                expect_no_value(tag, value)?;
                self.pending.discontinuity = true;
                Ok(())
            }
            "EXT-X-GAP" => {
                expect_no_value(tag, value)?;
                self.pending.gap = true;
                Ok(())
            }
            "EXT-X-PROGRAM-DATE-TIME" => {
                let ms = scalar(tag, value, values::date_time_ms)?;
                self.pending.program_date_time_ms = Some(ms);
                Ok(())
            }
            "EXT-X-KEY" => self.key(tag, value),
            "EXT-X-MAP" => self.map(tag, value),
            "EXT-X-TARGETDURATION" => {
                let seconds = scalar(tag, value, values::decimal_float)?;
                self.wide.once.record(tag, &seconds.to_bits().to_string())?;
                self.target_duration = Some(seconds);
                Ok(())
            }
            "EXT-X-MEDIA-SEQUENCE" => {
                self.media_sequence_line = Some(tag.line);
                self.media_sequence = self.sequence_number(tag, value)?;
                Ok(())
            }
            "EXT-X-DISCONTINUITY-SEQUENCE" => {
                self.discontinuity_sequence = self.sequence_number(tag, value)?;
                Ok(())
            }
            "EXT-X-PLAYLIST-TYPE" => {
                let kind = expect_value(tag, value)?;
                let playlist_type = match kind {
                    "VOD" => PlaylistType::Vod,
                    "EVENT" => PlaylistType::Event,
                    _ => return Err(tag.invalid("value", kind, "expected VOD or EVENT")),
                };
                self.wide.once.record(tag, kind)?;
                self.playlist_type = Some(playlist_type);
                Ok(())
            }
            "EXT-X-ENDLIST" => {
                expect_no_value(tag, value)?;
                self.ended = true;
                Ok(())
            }
            "EXT-X-I-FRAMES-ONLY" => {
                expect_no_value(tag, value)?;
                self.iframes_only = true;
                Ok(())
            }
            "EXT-X-DATERANGE" => {
                let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
                attributes.required_quoted("ID")?;
                Ok(())
            }
            "EXT-X-SKIP" => self.skip(tag, value),
            _ => playlist_wide_tag(tag, value, &mut self.wide),
        }
    }
}

impl MediaScan {
    /// `EXTINF:<duration>,[<title>]` (the comma is tolerated missing).
    fn extinf(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        let value = expect_value(tag, value)?;
        let (duration, title) = match value.split_once(',') {
            Some((duration, title)) => (duration.trim(), title.trim()),
            None => (value, ""),
        };
        let duration = values::decimal_float(duration)
            .map_err(|reason| tag.invalid("duration", duration, reason))?;
        let title = (!title.is_empty()).then(|| title.to_owned());
        self.pending.extinf = Some((tag.line, duration, title));
        Ok(())
    }

    /// `EXT-X-KEY`: `METHOD=NONE` clears the key; another method needs a `URI`.
    fn key(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let method = attributes.required_unquoted("METHOD")?;
        if method == "NONE" {
            self.pending.key_change = Some(KeyChange::Cleared);
            return Ok(());
        }
        let uri = attributes.required_quoted("URI")?;
        let iv = attributes.unquoted("IV")?;
        if let Some(iv) = iv {
            values::hexadecimal_sequence(iv).map_err(|reason| tag.invalid("IV", iv, reason))?;
        }
        let key_format = attributes.quoted("KEYFORMAT")?;
        attributes.quoted("KEYFORMATVERSIONS")?;
        self.pending.key_change = Some(KeyChange::Set(WrittenKey {
            method: method.to_owned(),
            uri: uri.to_owned(),
            iv: iv.map(str::to_owned),
            key_format: key_format.filter(|f| !f.is_empty()).map(str::to_owned),
            line: tag.line,
        }));
        Ok(())
    }

    /// `EXT-X-MAP:URI="…"[,BYTERANGE="<length>[@<offset>]"]`.
    fn map(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let uri = attributes.required_quoted("URI")?;
        let byte_range = match attributes.quoted("BYTERANGE")? {
            Some(range) => {
                let (length, offset) = values::byte_range(range)
                    .map_err(|reason| tag.invalid("BYTERANGE", range, reason))?;
                Some(WrittenRange {
                    length,
                    offset,
                    line: tag.line,
                })
            }
            None => None,
        };
        self.pending.map = Some(WrittenMap {
            uri: uri.to_owned(),
            byte_range,
            line: tag.line,
        });
        Ok(())
    }

    /// `EXT-X-MEDIA-SEQUENCE` and `EXT-X-DISCONTINUITY-SEQUENCE`: before the first segment.
    fn sequence_number(
        &mut self,
        tag: TagAt<'_>,
        value: Option<&str>,
    ) -> Result<u64, PlaylistError> {
        let number = scalar(tag, value, values::decimal_integer)?;
        self.before_first_segment(tag)?;
        self.wide.once.record(tag, &number.to_string())?;
        Ok(number)
    }

    /// `EXT-X-SKIP:SKIPPED-SEGMENTS=<n>` (a delta update) before the first listed segment.
    fn skip(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let skipped = attributes.required_parsed("SKIPPED-SEGMENTS", values::decimal_integer)?;
        self.before_first_segment(tag)?;
        self.wide.once.record(tag, &skipped.to_string())?;
        self.skipped_segments = skipped;
        Ok(())
    }

    fn before_first_segment(&self, tag: TagAt<'_>) -> Result<(), PlaylistError> {
        if self.segments.is_empty() {
            Ok(())
        } else {
            Err(PlaylistError::TagAfterFirstSegment {
                line: tag.line,
                tag: tag.name.to_owned(),
            })
        }
    }
}
