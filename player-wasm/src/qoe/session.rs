//! Session QoE accounting: what one viewer experienced, accumulated as it happens.
//!
//! The engine feeds it the moments that matter (play request, first frame, stalls, time
//! played at each bitrate, level switches, segments arriving, frame counters) and reads a
//! [`QoeSummary`] whenever asked. Definitions:
//!
//! * **startup time**: play request (or load, with autoplay) to first frame;
//! * **rebuffering**: stalls after the first frame, seeks excluded; count and seconds;
//! * **rebuffer ratio**: stalled seconds over (played + stalled) seconds;
//! * **average bitrate**: bitrate of the level on screen, weighted by time played;
//! * **switches**: changes of the level on screen, count and summed magnitude;
//! * **QoE_lin per segment**: each arriving segment scores its bitrate, minus 4.3 × the
//!   stall time since the previous segment arrived, minus the bitrate change from the
//!   previous segment (the ABR literature's definition, scored in download order).

use super::linear::segment_qoe_lin;
use serde::Serialize;

/// QoE of one arrived segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentQoe {
    pub level: usize,
    pub bitrate_mbps: f64,
    pub rebuffer_s: f64,
    pub qoe: f64,
}

/// The QoE of a session so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QoeSummary {
    /// Seconds from play request to first frame; `None` before the first frame.
    pub startup_time_s: Option<f64>,
    pub rebuffer_count: u32,
    pub rebuffer_s: f64,
    /// Stalled over (played + stalled) time.
    pub rebuffer_ratio: f64,
    pub playing_time_s: f64,
    /// Time-weighted bitrate on screen, bits per second.
    pub average_bitrate_bps: f64,
    pub switch_count: u32,
    /// Sum of |Δbitrate| over switches, Mbit/s.
    pub switch_magnitude_mbps: f64,
    pub segments: usize,
    /// Mean QoE_lin per arrived segment.
    pub qoe_lin_per_segment: f64,
    pub qoe_lin_total: f64,
    pub dropped_frames: u64,
    pub total_frames: u64,
}

/// Accumulates a session's QoE.
#[derive(Debug, Clone, Default)]
pub struct SessionQoe {
    play_requested_at: Option<f64>,
    first_frame_at: Option<f64>,
    /// Start of the ongoing stall.
    stall_started_at: Option<f64>,
    /// Start of the part of the ongoing stall not yet added to `rebuffer_s`.
    stall_uncounted_from: Option<f64>,
    rebuffer_count: u32,
    rebuffer_s: f64,
    stall_since_segment_s: f64,
    playing_s: f64,
    bitrate_seconds: f64,
    switch_count: u32,
    switch_magnitude_mbps: f64,
    segments: Vec<SegmentQoe>,
    dropped_frames: u64,
    total_frames: u64,
}

impl SessionQoe {
    /// A fresh session.
    pub fn new() -> Self {
        Self::default()
    }

    /// The viewer asked to play (the first request counts).
    pub fn play_requested(&mut self, now: f64) {
        if self.play_requested_at.is_none() {
            self.play_requested_at = Some(now);
        }
    }

    /// The first frame is on screen. Returns the startup time the first time.
    pub fn first_frame(&mut self, now: f64) -> Option<f64> {
        if self.first_frame_at.is_some() {
            return None;
        }
        self.first_frame_at = Some(now);
        let requested = self.play_requested_at.unwrap_or(now);
        Some((now - requested).max(0.0))
    }

    /// Whether the first frame was shown.
    pub fn started(&self) -> bool {
        self.first_frame_at.is_some()
    }

    /// Playback stalled for lack of data (ignored before the first frame or while stalled).
    pub fn stall_started(&mut self, now: f64) -> bool {
        if self.first_frame_at.is_none() || self.stall_started_at.is_some() {
            return false;
        }
        self.stall_started_at = Some(now);
        self.stall_uncounted_from = Some(now);
        self.rebuffer_count += 1;
        true
    }

    /// Playback resumed; returns the stall's length when one was ongoing.
    pub fn stall_ended(&mut self, now: f64) -> Option<f64> {
        let started = self.stall_started_at.take()?;
        let uncounted_from = self.stall_uncounted_from.take().unwrap_or(started);
        let uncounted = (now - uncounted_from).max(0.0);
        self.rebuffer_s += uncounted;
        self.stall_since_segment_s += uncounted;
        Some((now - started).max(0.0))
    }

    /// Whether a stall is ongoing.
    pub fn stalled(&self) -> bool {
        self.stall_started_at.is_some()
    }

    /// `seconds` were played at `bitrate_bps`.
    pub fn played(&mut self, seconds: f64, bitrate_bps: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            self.playing_s += seconds;
            self.bitrate_seconds += seconds * bitrate_bps.max(0.0);
        }
    }

    /// The level on screen changed.
    pub fn switched(&mut self, from_bps: f64, to_bps: f64) {
        self.switch_count += 1;
        self.switch_magnitude_mbps += (to_bps - from_bps).abs() / 1e6;
    }

    /// A segment arrived at `level`; scores it with the stall time since the previous one
    /// (an ongoing stall counts up to `now`).
    pub fn segment_arrived(&mut self, now: f64, level: usize, bitrate_bps: f64) -> SegmentQoe {
        let ongoing = self
            .stall_uncounted_from
            .map_or(0.0, |from| (now - from).max(0.0));
        let rebuffer = self.stall_since_segment_s + ongoing;
        if let Some(from) = self.stall_uncounted_from.as_mut() {
            // The part of the ongoing stall charged here is not charged again.
            self.rebuffer_s += (now - *from).max(0.0);
            *from = now;
        }
        self.stall_since_segment_s = 0.0;
        let bitrate_mbps = bitrate_bps / 1e6;
        let previous = self
            .segments
            .last()
            .map_or(bitrate_mbps, |segment| segment.bitrate_mbps);
        let segment = SegmentQoe {
            level,
            bitrate_mbps,
            rebuffer_s: rebuffer,
            qoe: segment_qoe_lin(bitrate_mbps, rebuffer, previous),
        };
        self.segments.push(segment);
        segment
    }

    /// Frame counters from the media element (cumulative).
    pub fn frames(&mut self, dropped: u64, total: u64) {
        self.dropped_frames = self.dropped_frames.max(dropped);
        self.total_frames = self.total_frames.max(total);
    }

    /// Every scored segment so far.
    pub fn segments(&self) -> &[SegmentQoe] {
        &self.segments
    }

    /// The figures so far; an ongoing stall counts up to `now`.
    pub fn summary(&self, now: f64) -> QoeSummary {
        let ongoing = self
            .stall_uncounted_from
            .map_or(0.0, |from| (now - from).max(0.0));
        let rebuffer_s = self.rebuffer_s + ongoing;
        let watched = self.playing_s + rebuffer_s;
        let qoe_total: f64 = self.segments.iter().map(|segment| segment.qoe).sum();
        QoeSummary {
            startup_time_s: self
                .first_frame_at
                .map(|at| (at - self.play_requested_at.unwrap_or(at)).max(0.0)),
            rebuffer_count: self.rebuffer_count,
            rebuffer_s,
            rebuffer_ratio: if watched > 0.0 {
                rebuffer_s / watched
            } else {
                0.0
            },
            playing_time_s: self.playing_s,
            average_bitrate_bps: if self.playing_s > 0.0 {
                self.bitrate_seconds / self.playing_s
            } else {
                0.0
            },
            switch_count: self.switch_count,
            switch_magnitude_mbps: self.switch_magnitude_mbps,
            segments: self.segments.len(),
            qoe_lin_per_segment: if self.segments.is_empty() {
                0.0
            } else {
                qoe_total / self.segments.len() as f64
            },
            qoe_lin_total: qoe_total,
            dropped_frames: self.dropped_frames,
            total_frames: self.total_frames,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_is_play_request_to_first_frame() {
        let mut qoe = SessionQoe::new();
        qoe.play_requested(1.0);
        qoe.play_requested(2.0);
        assert_eq!(qoe.first_frame(3.5), Some(2.5));
        assert_eq!(qoe.first_frame(4.0), None);
        assert_eq!(qoe.summary(5.0).startup_time_s, Some(2.5));
    }

    #[test]
    fn stalls_before_first_frame_are_not_rebuffering() {
        let mut qoe = SessionQoe::new();
        assert!(!qoe.stall_started(1.0));
        assert_eq!(qoe.stall_ended(2.0), None);
        assert_eq!(qoe.summary(3.0).rebuffer_count, 0);
    }

    #[test]
    fn rebuffering_counts_and_ratio() {
        let mut qoe = SessionQoe::new();
        qoe.play_requested(0.0);
        qoe.first_frame(1.0);
        qoe.played(9.0, 2e6);
        assert!(qoe.stall_started(10.0));
        assert!(!qoe.stall_started(10.5), "already stalled");
        assert_eq!(qoe.stall_ended(11.0), Some(1.0));
        let summary = qoe.summary(11.0);
        assert_eq!(summary.rebuffer_count, 1);
        assert!((summary.rebuffer_ratio - 0.1).abs() < 1e-12);
        assert!(qoe.stall_started(20.0));
        assert!(
            (qoe.summary(22.0).rebuffer_s - 3.0).abs() < 1e-12,
            "ongoing stall counts"
        );
    }

    #[test]
    fn time_weighted_bitrate_and_switches() {
        let mut qoe = SessionQoe::new();
        qoe.played(3.0, 1e6);
        qoe.played(1.0, 5e6);
        qoe.switched(1e6, 5e6);
        let summary = qoe.summary(4.0);
        assert!((summary.average_bitrate_bps - 2e6).abs() < 1e-6);
        assert_eq!(summary.switch_count, 1);
        assert!((summary.switch_magnitude_mbps - 4.0).abs() < 1e-12);
    }

    #[test]
    fn segments_are_charged_the_stall_since_the_previous_one() {
        let mut qoe = SessionQoe::new();
        qoe.play_requested(0.0);
        let first = qoe.segment_arrived(1.0, 1, 750_000.0);
        assert_eq!(first.rebuffer_s, 0.0);
        assert_eq!(first.qoe, 0.75);
        qoe.first_frame(1.0);
        qoe.stall_started(5.0);
        let second = qoe.segment_arrived(6.5, 2, 1_200_000.0);
        assert!((second.rebuffer_s - 1.5).abs() < 1e-12);
        assert!((second.qoe - (1.2 - 4.3 * 1.5 - 0.45)).abs() < 1e-12);
        assert_eq!(
            qoe.stall_ended(6.5),
            Some(1.5),
            "the whole stall is reported"
        );
        let third = qoe.segment_arrived(9.0, 2, 1_200_000.0);
        assert_eq!(third.rebuffer_s, 0.0, "the stall was charged once");
        let summary = qoe.summary(9.0);
        assert!((summary.rebuffer_s - 1.5).abs() < 1e-12);
        assert_eq!(summary.segments, 3);
    }

    #[test]
    fn frame_counters_never_go_backwards() {
        let mut qoe = SessionQoe::new();
        qoe.frames(3, 100);
        qoe.frames(1, 50);
        let summary = qoe.summary(0.0);
        assert_eq!((summary.dropped_frames, summary.total_frames), (3, 100));
    }
}
