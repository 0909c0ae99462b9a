//! The HLS model the engine plays from: master and media playlists with every URI
//! resolved, every byte range made explicit and every segment placed on the timeline.
//!
//! These types are what the rest of the player relies on; the parser (`parse`) fills
//! them from playlist text and the live merger (`live`) keeps them current across reloads.

use crate::url::Url;
use serde::Serialize;

/// A parsed playlist: either a master (multivariant) playlist or a media playlist.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Playlist {
    Master(MasterPlaylist),
    Media(MediaPlaylist),
}

/// A master (multivariant) playlist: the ladder of variants and their alternate renditions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MasterPlaylist {
    /// Where the playlist was loaded from; every URI inside is resolved against it.
    pub url: Url,
    /// `EXT-X-STREAM-INF` entries, in playlist order.
    pub variants: Vec<Variant>,
    /// `EXT-X-I-FRAME-STREAM-INF` entries, in playlist order.
    pub iframe_variants: Vec<Variant>,
    /// `EXT-X-MEDIA` entries (audio, video, subtitle and closed-caption renditions).
    pub renditions: Vec<Rendition>,
    /// `EXT-X-START`, if present.
    pub start: Option<StartOffset>,
    /// `EXT-X-INDEPENDENT-SEGMENTS` is present.
    pub independent_segments: bool,
}

impl Playlist {
    /// Where the playlist was loaded from.
    pub fn url(&self) -> &Url {
        match self {
            Self::Master(master) => &master.url,
            Self::Media(media) => &media.url,
        }
    }

    /// The master playlist, if this is one.
    pub fn as_master(&self) -> Option<&MasterPlaylist> {
        match self {
            Self::Master(master) => Some(master),
            Self::Media(_) => None,
        }
    }

    /// The media playlist, if this is one.
    pub fn as_media(&self) -> Option<&MediaPlaylist> {
        match self {
            Self::Master(_) => None,
            Self::Media(media) => Some(media),
        }
    }
}

impl MasterPlaylist {
    /// The renditions of one kind in one group, in playlist order.
    pub fn renditions_in<'a>(
        &'a self,
        kind: RenditionKind,
        group_id: &str,
    ) -> impl Iterator<Item = &'a Rendition> {
        self.renditions
            .iter()
            .filter(move |rendition| rendition.kind == kind && rendition.group_id == group_id)
    }

    /// The audio renditions of an `AUDIO` group.
    pub fn audio_renditions<'a>(&'a self, group_id: &str) -> impl Iterator<Item = &'a Rendition> {
        self.renditions_in(RenditionKind::Audio, group_id)
    }

    /// The subtitle renditions of a `SUBTITLES` group.
    pub fn subtitle_renditions<'a>(
        &'a self,
        group_id: &str,
    ) -> impl Iterator<Item = &'a Rendition> {
        self.renditions_in(RenditionKind::Subtitles, group_id)
    }

    /// The rendition to pick without a user preference: the group's `DEFAULT=YES` one,
    /// else its first.
    pub fn default_rendition(&self, kind: RenditionKind, group_id: &str) -> Option<&Rendition> {
        self.renditions_in(kind, group_id)
            .find(|rendition| rendition.default)
            .or_else(|| self.renditions_in(kind, group_id).next())
    }

    /// Indices of `variants` from the lowest to the highest `BANDWIDTH` (stable for ties).
    pub fn variants_by_bandwidth(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.variants.len()).collect();
        crate::small_sort::sort_by_key(&mut order, |&index| self.variants[index].bandwidth);
        order
    }
}

/// One entry of the bitrate ladder (`EXT-X-STREAM-INF` or `EXT-X-I-FRAME-STREAM-INF`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// The media playlist of this variant, resolved.
    pub uri: Url,
    /// `BANDWIDTH`: peak bits per second.
    pub bandwidth: u64,
    /// `AVERAGE-BANDWIDTH`: average bits per second.
    pub average_bandwidth: Option<u64>,
    /// `CODECS`, split on commas and trimmed (e.g. `["avc1.64001f", "mp4a.40.2"]`).
    pub codecs: Vec<String>,
    /// `RESOLUTION`.
    pub resolution: Option<Resolution>,
    /// `FRAME-RATE`.
    pub frame_rate: Option<f64>,
    /// `AUDIO` group id.
    pub audio_group: Option<String>,
    /// `VIDEO` group id.
    pub video_group: Option<String>,
    /// `SUBTITLES` group id.
    pub subtitles_group: Option<String>,
    /// `CLOSED-CAPTIONS` group id (`None` also when the value is `NONE`).
    pub closed_captions_group: Option<String>,
}

/// Width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub width: u64,
    pub height: u64,
}

/// `TYPE` of an `EXT-X-MEDIA` rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RenditionKind {
    Audio,
    Video,
    Subtitles,
    ClosedCaptions,
}

/// An alternate rendition (`EXT-X-MEDIA`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendition {
    pub kind: RenditionKind,
    pub group_id: String,
    pub name: String,
    /// The rendition's media playlist, resolved. `None` when the media is in the variant itself.
    pub uri: Option<Url>,
    pub language: Option<String>,
    pub assoc_language: Option<String>,
    pub default: bool,
    pub autoselect: bool,
    pub forced: bool,
    /// `INSTREAM-ID` (closed captions).
    pub instream_id: Option<String>,
    /// `CHANNELS` (audio), e.g. `"2"` or `"16/JOC"`.
    pub channels: Option<String>,
    pub characteristics: Option<String>,
}

/// `EXT-X-START`: where playback should begin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StartOffset {
    /// `TIME-OFFSET` in seconds; negative values count from the end of the playlist.
    pub time_offset: f64,
    /// `PRECISE=YES`.
    pub precise: bool,
}

/// `EXT-X-PLAYLIST-TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaylistType {
    Vod,
    Event,
}

/// A media playlist: the segments of one rendition, placed on a timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaPlaylist {
    /// Where the playlist was loaded from; every URI inside is resolved against it.
    pub url: Url,
    /// `EXT-X-TARGETDURATION` in seconds.
    pub target_duration: f64,
    /// `EXT-X-MEDIA-SEQUENCE`: the sequence number of the first segment.
    pub media_sequence: u64,
    /// `EXT-X-DISCONTINUITY-SEQUENCE`: the discontinuity sequence of the first segment.
    pub discontinuity_sequence: u64,
    /// `EXT-X-PLAYLIST-TYPE`.
    pub playlist_type: Option<PlaylistType>,
    /// `EXT-X-ENDLIST` is present: no segment will be added.
    pub ended: bool,
    /// `EXT-X-I-FRAMES-ONLY` is present.
    pub iframes_only: bool,
    /// `EXT-X-INDEPENDENT-SEGMENTS` is present.
    pub independent_segments: bool,
    /// `EXT-X-START`, if present.
    pub start: Option<StartOffset>,
    /// The segments in playlist order. `segments[i].sequence == media_sequence + i`.
    pub segments: Vec<Segment>,
}

impl MediaPlaylist {
    /// No `EXT-X-ENDLIST`: segments may still be added, the playlist must be reloaded.
    pub fn is_live(&self) -> bool {
        !self.ended
    }

    /// The sum of the segment durations.
    pub fn duration(&self) -> f64 {
        self.segments
            .iter()
            .fold(0.0, |total, segment| total + segment.duration)
    }

    /// Start of the first segment on the timeline (0 unless a live merge moved it).
    pub fn timeline_start(&self) -> f64 {
        self.segments.first().map_or(0.0, |segment| segment.start)
    }

    /// End of the last segment on the timeline (0 for a playlist without segments).
    pub fn end(&self) -> f64 {
        self.segments.last().map_or(0.0, Segment::end)
    }

    /// Index of the segment containing playlist time `time` (`start <= time < end`).
    /// `None` before the first segment, at or after the end, and for NaN.
    pub fn segment_index_at(&self, time: f64) -> Option<usize> {
        let after = self
            .segments
            .partition_point(|segment| segment.start <= time);
        let index = after.checked_sub(1)?;
        (time < self.segments[index].end()).then_some(index)
    }

    /// Index of the segment with media sequence number `sequence`.
    pub fn index_of_sequence(&self, sequence: u64) -> Option<usize> {
        let first = self.segments.first()?.sequence;
        let index = usize::try_from(sequence.checked_sub(first)?).ok()?;
        (index < self.segments.len()).then_some(index)
    }

    /// The segment with media sequence number `sequence`.
    pub fn segment_by_sequence(&self, sequence: u64) -> Option<&Segment> {
        self.index_of_sequence(sequence)
            .map(|index| &self.segments[index])
    }

    /// Media sequence number of the last segment.
    pub fn last_sequence(&self) -> Option<u64> {
        self.segments.last().map(|segment| segment.sequence)
    }
}

/// One media segment with everything needed to fetch and place it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Media sequence number.
    pub sequence: u64,
    /// The resource holding the segment, resolved.
    pub uri: Url,
    /// `EXTINF` duration in seconds.
    pub duration: f64,
    /// Start on the playlist timeline in seconds: the sum of the durations before it
    /// (for live playlists, kept continuous across reloads by the merger).
    pub start: f64,
    /// `EXT-X-BYTERANGE`, with implicit offsets made explicit.
    pub byte_range: Option<ByteRange>,
    /// The `EXT-X-MAP` in effect for this segment.
    pub init: Option<InitSegment>,
    /// `EXT-X-DISCONTINUITY` precedes this segment.
    pub discontinuity: bool,
    /// Discontinuity sequence number of this segment.
    pub discontinuity_sequence: u64,
    /// `EXT-X-GAP`: the segment is absent on purpose and must not be fetched.
    pub gap: bool,
    /// `EXT-X-PROGRAM-DATE-TIME` of this segment in milliseconds since the Unix epoch,
    /// either given by a tag on it or carried forward from an earlier one.
    pub program_date_time_ms: Option<f64>,
    /// `EXT-X-KEY` in effect, if the segment is encrypted (`METHOD` other than `NONE`).
    pub key: Option<SegmentKey>,
    /// The `EXTINF` title, if any.
    pub title: Option<String>,
}

impl Segment {
    /// End of the segment on the playlist timeline.
    pub fn end(&self) -> f64 {
        self.start + self.duration
    }
}

/// A byte range `[offset, offset + length)` within a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByteRange {
    pub offset: u64,
    pub length: u64,
}

impl ByteRange {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.length)
    }

    /// The HTTP `Range` header value: `bytes=first-last` (inclusive).
    pub fn http_header(&self) -> String {
        format!(
            "bytes={}-{}",
            self.offset,
            self.end().saturating_sub(1).max(self.offset)
        )
    }
}

/// An initialisation section (`EXT-X-MAP`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitSegment {
    pub uri: Url,
    pub byte_range: Option<ByteRange>,
}

/// An `EXT-X-KEY` that encrypts a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentKey {
    /// `METHOD`, e.g. `AES-128` or `SAMPLE-AES`.
    pub method: String,
    pub uri: Option<Url>,
    pub iv: Option<String>,
    pub key_format: Option<String>,
}
