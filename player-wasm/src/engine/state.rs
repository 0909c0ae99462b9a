//! The engine's bookkeeping: levels, tracks, requests in flight.

use super::io::{RequestId, RequestKind, TimeRange, TrackId};
use crate::abr::Decision;
use crate::hls::{ByteRange, MediaPlaylist, Variant};
use crate::url::Url;

/// An initialisation section, identified by where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitKey {
    pub url: Url,
    pub range: Option<ByteRange>,
}

/// A segment the engine fetched or is fetching.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRef {
    pub level: usize,
    /// Why this segment's level was chosen.
    pub reason: protocol::SwitchReason,
    pub sequence: u64,
    pub start: f64,
    pub duration: f64,
}

impl SegmentRef {
    pub fn end(&self) -> f64 {
        self.start + self.duration
    }
}

/// One rung of the ladder.
#[derive(Debug, Clone)]
pub struct Level {
    pub variant: Variant,
    /// Bitrate the ABR and the QoE use (`AVERAGE-BANDWIDTH` when declared).
    pub bitrate_bps: f64,
    pub playlist: Option<MediaPlaylist>,
    pub loading: Option<RequestId>,
    /// Live: when to reload the playlist.
    pub reload_at: Option<f64>,
    /// Retries exhausted on this level: the ABR may not choose it.
    pub failed: bool,
}

/// A request in flight.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub kind: RequestKind,
    pub url: Url,
    pub range: Option<ByteRange>,
    pub issued_at: f64,
    pub first_byte_at: Option<f64>,
    /// When the request was issued or last received bytes (for the stall timeout).
    pub last_activity_at: f64,
    pub loaded: u64,
    pub total: Option<u64>,
    /// Recent progress reports: (time, bytes so far), oldest first.
    pub progress: Vec<(f64, f64)>,
    /// 0 for the first try.
    pub attempt: u32,
    /// For segments: which one.
    pub segment: Option<SegmentRef>,
    /// For init segments: which one.
    pub init: Option<InitKey>,
}

/// An append or eviction sent to the shell and not yet confirmed by a `Buffered` input.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingOp {
    Append {
        request: RequestId,
        range: TimeRange,
    },
    Evict,
}

/// A segment appended to a track, for level-switch detection and eviction.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub level: usize,
    pub reason: protocol::SwitchReason,
    pub start: f64,
    pub end: f64,
}

/// A retry waiting for its time.
#[derive(Debug, Clone)]
pub struct PendingRetry {
    pub at: f64,
    pub kind: RequestKind,
    pub url: Url,
    pub range: Option<ByteRange>,
    pub attempt: u32,
    pub segment: Option<SegmentRef>,
    pub init: Option<InitKey>,
}

/// One media track and its download cursor.
#[derive(Debug, Clone)]
pub struct Track {
    pub id: TrackId,
    pub created: bool,
    /// Buffered ranges as the shell last reported them.
    pub buffered: Vec<TimeRange>,
    /// Appends and evictions not yet confirmed.
    pub pending: Vec<PendingOp>,
    /// Segments appended, in append order.
    pub appended: Vec<Appended>,
    pub in_flight: Option<RequestId>,
    /// Where the next segment starts on the playlist timeline.
    pub cursor: f64,
    /// The last segment fetched (continuity by sequence within a level).
    pub last: Option<SegmentRef>,
    pub init_appended: Option<InitKey>,
    /// Wait until this time before the next fetch (full buffer, ABR pause).
    pub wait_until: Option<f64>,
    /// A decision taken with a delay, to apply when the wait is over.
    pub delayed: Option<Decision>,
    pub retry: Option<PendingRetry>,
    /// Every segment up to the end of a VOD playlist was fetched.
    pub complete: bool,
    /// A decode error was recovered from once already.
    pub recovered_decode_error: bool,
    /// An append refused for lack of room, to retry once room is made.
    pub quota_retry: Option<(RequestId, TimeRange)>,
}

impl Track {
    pub fn new(id: TrackId) -> Self {
        Track {
            id,
            created: false,
            buffered: Vec::new(),
            pending: Vec::new(),
            appended: Vec::new(),
            in_flight: None,
            cursor: 0.0,
            last: None,
            init_appended: None,
            wait_until: None,
            delayed: None,
            retry: None,
            complete: false,
            recovered_decode_error: false,
            quota_retry: None,
        }
    }

    /// Buffered ranges including appends not yet confirmed.
    pub fn effective_buffered(&self) -> Vec<TimeRange> {
        let mut ranges = self.buffered.clone();
        for op in &self.pending {
            if let PendingOp::Append { range, .. } = op {
                ranges.push(*range);
            }
        }
        super::ranges::normalize(&ranges)
    }

    /// Forgets the download position (after a seek outside the buffer, a flush).
    pub fn reset_cursor(&mut self, cursor: f64) {
        self.cursor = cursor;
        self.last = None;
        self.complete = false;
        self.wait_until = None;
        self.delayed = None;
        self.retry = None;
    }
}

/// The alternate audio rendition being played, if any.
#[derive(Debug, Clone)]
pub struct AudioRendition {
    pub url: Url,
    pub group_id: String,
    pub name: String,
    pub codecs: Vec<String>,
    pub playlist: Option<MediaPlaylist>,
    pub loading: Option<RequestId>,
    pub reload_at: Option<f64>,
}
