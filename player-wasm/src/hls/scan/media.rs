//! The scan of a media playlist: every segment's `EXTINF`, gap flag, program date time and
//! the lines of its URI, byte range, map and key, in segment order; the playlist-level tags
//! checked (with conflicting repeats refused).

use super::{Body, LineScan, OnceTags, expect_no_value, expect_value, playlist_wide_tag, scalar};
use crate::hls::attributes::{Attributes, TagAt};
use crate::hls::error::PlaylistError;
use crate::hls::values;

/// A media playlist after the scan.
#[derive(Debug)]
pub(crate) struct ScannedMedia {
    /// The text for `m3u8-rs`.
    pub m3u8_text: String,
    /// `EXT-X-TARGETDURATION` (a decimal number is tolerated).
    pub target_duration: Option<f64>,
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
    pub uri_line: usize,
    pub extinf_line: usize,
    /// `EXTINF` duration, exactly as written (`m3u8-rs` keeps an `f32`).
    pub duration: f64,
    pub title: Option<String>,
    pub gap: bool,
    /// `EXT-X-PROGRAM-DATE-TIME` given on this segment.
    pub program_date_time_ms: Option<f64>,
    pub byte_range_line: Option<usize>,
    /// The line of an `EXT-X-MAP` that takes effect at this segment.
    pub map_line: Option<usize>,
    /// The last `EXT-X-KEY` before this segment, if any since the previous one.
    pub key_change: Option<KeyChange>,
}

/// An `EXT-X-KEY` tag between two segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyChange {
    /// `METHOD=NONE`: the following segments are not encrypted. (Such tags are not passed
    /// to `m3u8-rs`, which refuses `METHOD=NONE` without `IV`.)
    Cleared,
    /// A key with a method, on this line.
    Set { line: usize },
}

/// Tags that apply to the next segment, gathered until its URI line.
#[derive(Debug, Default)]
struct PendingSegment {
    extinf: Option<(usize, f64, Option<String>)>,
    gap: bool,
    program_date_time_ms: Option<f64>,
    byte_range_line: Option<usize>,
    map_line: Option<usize>,
    key_change: Option<KeyChange>,
}

/// Scans a media playlist.
pub(super) fn scan_media(body: &Body<'_>) -> Result<ScannedMedia, PlaylistError> {
    let mut scan = MediaScan::default();
    let m3u8_text = body.rewrite(&mut scan)?;
    Ok(ScannedMedia {
        m3u8_text,
        target_duration: scan.target_duration,
        skipped_segments: scan.skipped_segments,
        media_sequence_line: scan.media_sequence_line,
        segments: scan.segments,
    })
}

#[derive(Debug, Default)]
struct MediaScan {
    once: OnceTags,
    target_duration: Option<f64>,
    skipped_segments: u64,
    media_sequence_line: Option<usize>,
    segments: Vec<SegmentFacts>,
    pending: PendingSegment,
}

impl LineScan for MediaScan {
    /// A URI line: the segment is complete.
    fn uri_line(&mut self, line: usize, uri: &str) -> Result<String, PlaylistError> {
        let pending = std::mem::take(&mut self.pending);
        let (extinf_line, duration, title) = pending
            .extinf
            .ok_or(PlaylistError::SegmentWithoutDuration { line })?;
        self.segments.push(SegmentFacts {
            uri_line: line,
            extinf_line,
            duration,
            title,
            gap: pending.gap,
            program_date_time_ms: pending.program_date_time_ms,
            byte_range_line: pending.byte_range_line,
            map_line: pending.map_line,
            key_change: pending.key_change,
        });
        Ok(uri.to_owned())
    }

    /// A tag line: checks it and returns its line for `m3u8-rs` (`None`: blank).
    fn tag_line(
        &mut self,
        tag: TagAt<'_>,
        value: Option<&str>,
    ) -> Result<Option<String>, PlaylistError> {
        match tag.name {
            "EXTINF" => self.extinf(tag, value).map(|()| None),
            "EXT-X-BYTERANGE" => self.byte_range(tag, value).map(Some),
            "EXT-X-DISCONTINUITY" => exact(tag, value).map(Some),
            "EXT-X-GAP" => {
                expect_no_value(tag, value)?;
                self.pending.gap = true;
                Ok(None)
            }
            "EXT-X-PROGRAM-DATE-TIME" => {
                let ms = scalar(tag, value, values::date_time_ms)?;
                self.pending.program_date_time_ms = Some(ms);
                Ok(None)
            }
            "EXT-X-KEY" => self.key(tag, value),
            "EXT-X-MAP" => self.map(tag, value).map(Some),
            "EXT-X-TARGETDURATION" => {
                let seconds = scalar(tag, value, values::decimal_float)?;
                self.once.record(tag, &seconds.to_string())?;
                self.target_duration = Some(seconds);
                Ok(None)
            }
            "EXT-X-MEDIA-SEQUENCE" => {
                self.media_sequence_line = Some(tag.line);
                self.sequence_number(tag, value).map(Some)
            }
            "EXT-X-DISCONTINUITY-SEQUENCE" => self.sequence_number(tag, value).map(Some),
            "EXT-X-PLAYLIST-TYPE" => {
                let kind = expect_value(tag, value)?;
                if kind != "VOD" && kind != "EVENT" {
                    return Err(tag.invalid("value", kind, "expected VOD or EVENT"));
                }
                self.once.record(tag, kind)?;
                Ok(Some(format!("#{}:{kind}", tag.name)))
            }
            "EXT-X-ENDLIST" | "EXT-X-I-FRAMES-ONLY" => exact(tag, value).map(Some),
            "EXT-X-DATERANGE" => {
                let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
                attributes.required_quoted("ID")?;
                Ok(None)
            }
            "EXT-X-SKIP" => self.skip(tag, value).map(|()| None),
            _ => playlist_wide_tag(tag, value, &mut self.once),
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

    /// `EXT-X-BYTERANGE:<length>[@<offset>]`.
    fn byte_range(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<String, PlaylistError> {
        let range = scalar(tag, value, values::byte_range)?;
        self.pending.byte_range_line = Some(tag.line);
        Ok(match range {
            (length, Some(offset)) => format!("#{}:{length}@{offset}", tag.name),
            (length, None) => format!("#{}:{length}", tag.name),
        })
    }

    /// `EXT-X-KEY`: `METHOD=NONE` is recorded here; other methods go to `m3u8-rs`.
    fn key(
        &mut self,
        tag: TagAt<'_>,
        value: Option<&str>,
    ) -> Result<Option<String>, PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let method = attributes.required_unquoted("METHOD")?;
        if method == "NONE" {
            self.pending.key_change = Some(KeyChange::Cleared);
            return Ok(None);
        }
        attributes.required_quoted("URI")?;
        attributes.parsed("IV", values::hexadecimal_sequence)?;
        attributes.quoted("KEYFORMAT")?;
        attributes.quoted("KEYFORMATVERSIONS")?;
        self.pending.key_change = Some(KeyChange::Set { line: tag.line });
        Ok(Some(attributes.canonical_line(&[
            "METHOD",
            "URI",
            "IV",
            "KEYFORMAT",
            "KEYFORMATVERSIONS",
        ])))
    }

    /// `EXT-X-MAP:URI="…"[,BYTERANGE="<length>[@<offset>]"]`.
    fn map(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<String, PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        attributes.required_quoted("URI")?;
        if let Some(range) = attributes.quoted("BYTERANGE")? {
            values::byte_range(range).map_err(|reason| tag.invalid("BYTERANGE", range, reason))?;
        }
        self.pending.map_line = Some(tag.line);
        Ok(attributes.canonical_line(&["URI", "BYTERANGE"]))
    }

    /// `EXT-X-MEDIA-SEQUENCE` and `EXT-X-DISCONTINUITY-SEQUENCE`: before the first segment.
    fn sequence_number(
        &mut self,
        tag: TagAt<'_>,
        value: Option<&str>,
    ) -> Result<String, PlaylistError> {
        let number = scalar(tag, value, values::decimal_integer)?;
        self.before_first_segment(tag)?;
        self.once.record(tag, &number.to_string())?;
        Ok(format!("#{}:{number}", tag.name))
    }

    /// `EXT-X-SKIP:SKIPPED-SEGMENTS=<n>` (a delta update) before the first listed segment.
    fn skip(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let skipped = attributes.required_parsed("SKIPPED-SEGMENTS", values::decimal_integer)?;
        self.before_first_segment(tag)?;
        self.once.record(tag, &skipped.to_string())?;
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

/// A tag without value, written back exactly (no prefix match for `m3u8-rs`).
fn exact(tag: TagAt<'_>, value: Option<&str>) -> Result<String, PlaylistError> {
    expect_no_value(tag, value)?;
    Ok(format!("#{}", tag.name))
}
