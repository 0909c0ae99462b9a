//! What goes into the engine ([`Input`]) and what comes out of it ([`Action`]).
//!
//! The shell (browser, lab, tests) turns the outside world into inputs and carries out
//! the actions. Request bodies stay in the shell: the engine sees request ids and sizes,
//! and reads text only for playlists.

use super::events::Event;
use crate::hls::ByteRange;
use serde::Serialize;

/// Identifies one request the engine asked the shell to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RequestId(pub u64);

/// A media track: one `SourceBuffer` in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackId {
    /// Video, or audio and video muxed together.
    Main,
    /// Audio of an alternate rendition (`EXT-X-MEDIA TYPE=AUDIO` with a URI).
    Audio,
}

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RequestKind {
    /// The playlist given to `load` (master or media).
    Manifest,
    /// The media playlist of a level.
    LevelPlaylist { level: usize },
    /// The media playlist of the alternate audio rendition.
    AudioPlaylist,
    /// An initialisation section (`EXT-X-MAP`).
    InitSegment { track: TrackId, level: usize },
    /// A media segment.
    Segment {
        track: TrackId,
        level: usize,
        sequence: u64,
    },
}

impl RequestKind {
    /// Whether the response is a playlist (its text must be passed back).
    pub fn is_playlist(&self) -> bool {
        matches!(
            self,
            RequestKind::Manifest | RequestKind::LevelPlaylist { .. } | RequestKind::AudioPlaylist
        )
    }
}

/// A request for the shell to make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FetchRequest {
    pub id: RequestId,
    pub url: String,
    /// Only these bytes (`Range` header).
    pub range: Option<ByteRange>,
    pub kind: RequestKind,
}

/// A buffered time range `[start, end)` in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeRange {
    pub start: f64,
    pub end: f64,
}

impl TimeRange {
    /// A range, with the bounds swapped if given backwards.
    pub fn new(start: f64, end: f64) -> Self {
        if end < start {
            TimeRange {
                start: end,
                end: start,
            }
        } else {
            TimeRange { start, end }
        }
    }

    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// State of the media element, sent on its events and periodically.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MediaSnapshot {
    /// `currentTime`, in seconds.
    pub current_time: f64,
    pub paused: bool,
    pub seeking: bool,
    /// Playback is blocked waiting for data (`waiting` fired and no `playing` since).
    pub waiting: bool,
    pub ended: bool,
    /// `readyState` (0 to 4).
    pub ready_state: u8,
    pub playback_rate: f64,
    /// `getVideoPlaybackQuality()`: frames dropped and decoded so far.
    pub dropped_frames: u64,
    pub total_frames: u64,
    /// Size of the element on screen in device pixels (0 when unknown).
    pub width: u32,
    pub height: u32,
}

impl Default for MediaSnapshot {
    fn default() -> Self {
        MediaSnapshot {
            current_time: 0.0,
            paused: true,
            seeking: false,
            waiting: false,
            ended: false,
            ready_state: 0,
            playback_rate: 1.0,
            dropped_frames: 0,
            total_frames: 0,
            width: 0,
            height: 0,
        }
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FetchFailure {
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// What the shell saw (network error text, status text).
    pub message: String,
}

impl FetchFailure {
    /// Whether retrying the same URL can help: network errors, timeouts, 408, 429, 5xx.
    /// A 4xx other than those means the resource is not there for us.
    pub fn is_retriable(&self) -> bool {
        match self.status {
            None => true,
            Some(status) => status == 408 || status == 429 || !(400..500).contains(&status),
        }
    }
}

/// Why the shell could not append a request's bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AppendFailure {
    /// The `SourceBuffer` is full (`QuotaExceededError`).
    QuotaExceeded,
    /// The decoder rejected the media.
    Decode { message: String },
}

/// An input to the engine. Every input comes with the current time (see
/// [`Engine::handle`](super::Engine::handle)).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Play the stream at `url` (a master or a media playlist).
    Load { url: String },
    /// Response headers and the first byte arrived.
    ResponseStarted {
        request: RequestId,
        /// `Content-Length` (or range length), when known.
        total_bytes: Option<u64>,
    },
    /// Bytes arrived: `loaded` is the total received so far.
    Progress { request: RequestId, loaded: u64 },
    /// A playlist request completed; `url` is the final URL after redirects, if it changed.
    PlaylistLoaded {
        request: RequestId,
        text: String,
        url: Option<String>,
    },
    /// A segment (or init segment) request completed with `bytes` bytes.
    SegmentLoaded { request: RequestId, bytes: u64 },
    /// A request failed.
    RequestFailed {
        request: RequestId,
        failure: FetchFailure,
    },
    /// A track's buffered ranges after an append or an eviction completed.
    Buffered {
        track: TrackId,
        ranges: Vec<TimeRange>,
    },
    /// Appending a request's bytes failed.
    AppendFailed {
        track: TrackId,
        request: RequestId,
        failure: AppendFailure,
    },
    /// The media element's state.
    Media(MediaSnapshot),
    /// The user asked to play.
    Play,
    /// The user asked to pause.
    Pause,
    /// The user asked to seek to a position in seconds.
    Seek { position: f64 },
    /// Pin a level (`Some`) or return to automatic selection (`None`).
    SetLevel { level: Option<usize> },
    /// Replace the options (an invalid set is refused with a non-fatal error event; use
    /// [`Engine::configure`](super::Engine::configure) to get the error directly).
    SetOptions(Box<super::EngineConfig>),
    /// A deadline the engine asked for has passed (or any wake-up: it is harmless).
    Timer,
}

/// An action for the shell to carry out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Action {
    /// Start a request.
    Fetch(FetchRequest),
    /// Cancel a request; no further input should be sent for it.
    Abort { request: RequestId },
    /// Create the track (a `SourceBuffer` of this MIME type with codecs).
    CreateTrack { track: TrackId, mime: String },
    /// Append the bytes of a completed request to the track.
    Append {
        track: TrackId,
        request: RequestId,
        /// Where the media belongs on the playlist timeline, in seconds.
        start: f64,
        duration: f64,
    },
    /// Remove `[start, end)` from the track.
    Evict {
        track: TrackId,
        start: f64,
        end: f64,
    },
    /// Set the media duration (`MediaSource.duration`).
    SetDuration { seconds: f64 },
    /// Every segment has been appended (`MediaSource.endOfStream()`).
    EndOfStream,
    /// Move the playhead (`currentTime`).
    SeekMedia { position: f64 },
    /// Start or resume playback (`play()`).
    PlayMedia,
    /// Pause playback (`pause()`).
    PauseMedia,
    /// Something the API and the telemetry report.
    Emit(Event),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_a_retry_can_fix_are_retriable() {
        let failure = |status| FetchFailure {
            status,
            message: String::new(),
        };
        for status in [None, Some(408), Some(429), Some(500), Some(503), Some(599)] {
            assert!(failure(status).is_retriable(), "{status:?}");
        }
        for status in [Some(400), Some(403), Some(404), Some(410), Some(416)] {
            assert!(!failure(status).is_retriable(), "{status:?}");
        }
    }

    #[test]
    fn ranges_built_backwards_are_put_right() {
        assert_eq!(
            TimeRange::new(5.0, 2.0),
            TimeRange {
                start: 2.0,
                end: 5.0
            }
        );
        assert_eq!(TimeRange::new(1.0, 3.5).duration(), 2.5);
    }

    #[test]
    fn actions_serialise_with_a_type_tag() {
        let json = serde_json::to_string(&Action::Evict {
            track: TrackId::Audio,
            start: 0.0,
            end: 4.0,
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"type":"evict","track":"audio","start":0.0,"end":4.0}"#
        );
    }
}
