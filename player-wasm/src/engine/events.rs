//! Events the engine reports: the vocabulary of the JS API (hls.js names) and of telemetry.

use super::io::{RequestId, TrackId};
use protocol::SwitchReason;
use serde::Serialize;

/// One rung of the ladder as the API describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelSummary {
    /// Index in the ladder (ascending bitrate), the index `setLevel` takes.
    pub index: usize,
    /// `BANDWIDTH`, bits per second.
    pub bitrate: u64,
    /// `AVERAGE-BANDWIDTH`, when declared.
    pub average_bitrate: Option<u64>,
    pub width: Option<u64>,
    pub height: Option<u64>,
    pub frame_rate: Option<f64>,
    pub codecs: Vec<String>,
    /// The variant's media playlist.
    pub url: String,
}

/// What kind of failure an [`Event::Error`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The manifest could not be loaded.
    ManifestLoad,
    /// The manifest was loaded but is not a usable playlist.
    ManifestParse,
    /// A media playlist could not be loaded or parsed.
    LevelLoad,
    /// A segment could not be loaded.
    SegmentLoad,
    /// The media could not be appended or decoded.
    Media,
    /// A live playlist restarted or lost its end.
    LiveDiscontinuity,
    /// Every level failed.
    NoPlayableLevel,
    /// Options were refused.
    Options,
}

impl ErrorKind {
    /// The name the API and the beacons use (`"segment-load"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ManifestLoad => "manifest-load",
            ErrorKind::ManifestParse => "manifest-parse",
            ErrorKind::LevelLoad => "level-load",
            ErrorKind::SegmentLoad => "segment-load",
            ErrorKind::Media => "media",
            ErrorKind::LiveDiscontinuity => "live-discontinuity",
            ErrorKind::NoPlayableLevel => "no-playable-level",
            ErrorKind::Options => "options",
        }
    }
}

/// Something worth telling the application or the analytics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// The manifest was parsed: the ladder.
    #[serde(rename_all = "camelCase")]
    ManifestLoaded {
        levels: Vec<LevelSummary>,
        live: bool,
    },
    /// A level's media playlist was (re)loaded.
    #[serde(rename_all = "camelCase")]
    LevelLoaded {
        level: usize,
        live: bool,
        duration: f64,
        target_duration: f64,
        segments: usize,
    },
    /// The ABR (or a manual choice) picked the level of the next segment.
    #[serde(rename_all = "camelCase")]
    LevelSwitching {
        from: Option<usize>,
        to: usize,
        reason: SwitchReason,
    },
    /// Playback entered a segment of a different level.
    #[serde(rename_all = "camelCase")]
    LevelSwitched {
        from: Option<usize>,
        to: usize,
        reason: SwitchReason,
    },
    /// A segment finished downloading.
    #[serde(rename_all = "camelCase")]
    FragLoaded {
        track: TrackId,
        level: usize,
        sequence: u64,
        bytes: u64,
        duration: f64,
        /// Seconds from request to first byte.
        ttfb: f64,
        /// Seconds from request to last byte.
        load_time: f64,
    },
    /// A download was abandoned and will be refetched lower.
    #[serde(rename_all = "camelCase")]
    FragAbandoned {
        request: RequestId,
        level: usize,
        sequence: u64,
        to_level: usize,
    },
    /// Playback started: the first frame is showing.
    #[serde(rename_all = "camelCase")]
    FirstFrame { startup_time: f64 },
    /// Playback stalled for lack of data.
    #[serde(rename_all = "camelCase")]
    BufferStalled { position: f64 },
    /// Playback resumed after a stall.
    #[serde(rename_all = "camelCase")]
    BufferStallEnded { position: f64, duration: f64 },
    /// The playhead jumped over a hole in the buffer.
    #[serde(rename_all = "camelCase")]
    GapJumped { from: f64, to: f64 },
    /// A seek completed.
    #[serde(rename_all = "camelCase")]
    Seeked { position: f64, latency: f64 },
    /// A request failed and will be retried.
    #[serde(rename_all = "camelCase")]
    RetryScheduled {
        request: RequestId,
        attempt: u32,
        delay: f64,
    },
    /// Something failed. `fatal`: playback cannot go on.
    #[serde(rename_all = "camelCase")]
    Error {
        kind: ErrorKind,
        fatal: bool,
        details: String,
    },
    /// Playback reached the end.
    Ended,
}
