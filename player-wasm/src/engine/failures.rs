//! Requests coming back: responses, progress, completion, failures with retries and
//! level fallback, timeouts, append failures, and abandoning downloads that would stall.

use super::config::RetryPolicy;
use super::events::{ErrorKind, Event};
use super::io::{Action, AppendFailure, FetchFailure, RequestId, RequestKind, TimeRange, TrackId};
use super::state::{Appended, InFlight, PendingOp, PendingRetry, SegmentRef};
use super::{Engine, MAIN, Phase};
use crate::abr::{Decision, DownloadRecord, final_stretch_bps};
use protocol::SwitchReason;

/// Abandonment is not considered before this share of the segment's duration has passed
/// since the request (a slow first byte is not yet a slow download).
const ABANDON_MIN_ELAPSED_SHARE: f64 = 0.5;
/// Progress reports kept per request (for the rate of a transfer's final stretch).
const MAX_PROGRESS_REPORTS: usize = 32;
/// While a download could be abandoned, look at it this often (seconds).
const ABANDON_CHECK_INTERVAL_S: f64 = 0.25;

impl Engine {
    pub(super) fn retry_policy(&self, kind: &RequestKind) -> RetryPolicy {
        if kind.is_playlist() {
            self.config.playlist_retry
        } else {
            self.config.segment_retry
        }
    }

    pub(super) fn on_response_started(&mut self, request: RequestId, total: Option<u64>) {
        if let Some(in_flight) = self.requests.get_mut(&request)
            && in_flight.first_byte_at.is_none()
        {
            in_flight.first_byte_at = Some(self.now);
            in_flight.last_activity_at = self.now;
            in_flight.total = total;
        }
    }

    pub(super) fn on_progress(&mut self, request: RequestId, loaded: u64) {
        if let Some(in_flight) = self.requests.get_mut(&request) {
            if in_flight.first_byte_at.is_none() {
                in_flight.first_byte_at = Some(self.now);
            }
            if loaded > in_flight.loaded {
                in_flight.last_activity_at = self.now;
                if in_flight.progress.len() == MAX_PROGRESS_REPORTS {
                    in_flight.progress.remove(0);
                }
                in_flight.progress.push((self.now, loaded as f64));
            }
            in_flight.loaded = in_flight.loaded.max(loaded);
        }
    }

    pub(super) fn on_segment_loaded(&mut self, request: RequestId, bytes: u64) {
        let Some(in_flight) = self.requests.remove(&request) else {
            return;
        };
        let (track_id, level, sequence) = match in_flight.kind {
            RequestKind::InitSegment { track, .. } => {
                let Some(index) = self.track_index(track) else {
                    return;
                };
                let start = in_flight
                    .segment
                    .as_ref()
                    .map_or(0.0, |segment| segment.start);
                let entry = &mut self.tracks[index];
                entry.in_flight = None;
                entry.init_appended = in_flight.init.clone();
                entry.pending.push(PendingOp::Append {
                    request,
                    range: TimeRange::new(start, start),
                });
                self.push(Action::Append {
                    track,
                    request,
                    start,
                    duration: 0.0,
                });
                return;
            }
            RequestKind::Segment {
                track,
                level,
                sequence,
            } => (track, level, sequence),
            _ => {
                // A playlist answered as bytes: the shell could not read it as text.
                self.requests.insert(request, in_flight);
                self.on_request_failed(
                    request,
                    FetchFailure {
                        status: None,
                        message: "playlist response was not text".into(),
                    },
                );
                return;
            }
        };
        let Some(index) = self.track_index(track_id) else {
            return;
        };
        let Some(segment) = in_flight.segment.clone() else {
            return;
        };
        let first_byte_at = in_flight.first_byte_at.unwrap_or(in_flight.issued_at);
        let record = DownloadRecord {
            level,
            bytes: bytes as f64,
            media_duration_s: segment.duration,
            requested_at: in_flight.issued_at,
            first_byte_at,
            finished_at: self.now,
            abandoned: false,
            final_bps: final_stretch_bps(self.now, bytes as f64, &in_flight.progress),
        };
        if track_id == TrackId::Main {
            self.history.push(record);
        }
        self.estimator
            .sample(bytes as f64, self.now - first_byte_at);
        self.estimator
            .sample_ttfb(first_byte_at - in_flight.issued_at);
        self.emit(Event::FragLoaded {
            track: track_id,
            level,
            sequence,
            bytes,
            duration: segment.duration,
            ttfb: first_byte_at - in_flight.issued_at,
            load_time: self.now - in_flight.issued_at,
        });
        let range = TimeRange::new(segment.start, segment.end());
        let is_last = match track_id {
            TrackId::Main => self.levels[level].playlist.as_ref(),
            TrackId::Audio => self
                .audio
                .as_ref()
                .and_then(|audio| audio.playlist.as_ref()),
        }
        .is_some_and(|playlist| !playlist.is_live() && playlist.last_sequence() == Some(sequence));
        let track = &mut self.tracks[index];
        track.in_flight = None;
        track.pending.push(PendingOp::Append { request, range });
        track.appended.push(Appended {
            level,
            reason: segment.reason,
            start: segment.start,
            end: segment.end(),
        });
        track.cursor = segment.end();
        track.last = Some(segment.clone());
        track.retry = None;
        if is_last {
            track.complete = true;
        }
        self.push(Action::Append {
            track: track_id,
            request,
            start: segment.start,
            duration: segment.duration,
        });
        if track_id == TrackId::Main {
            let bitrate = self.levels[level].bitrate_bps;
            self.qoe.segment_arrived(self.now, level, bitrate);
        }
    }

    pub(super) fn on_request_failed(&mut self, request: RequestId, failure: FetchFailure) {
        let Some(in_flight) = self.requests.remove(&request) else {
            return;
        };
        self.clear_request_markers(&in_flight.kind, request);
        let policy = self.retry_policy(&in_flight.kind);
        if failure.is_retriable()
            && in_flight.attempt < policy.max_retries
            && self.phase != Phase::Failed
        {
            let attempt = in_flight.attempt + 1;
            let delay = policy.delay_s(attempt);
            let retry = PendingRetry {
                at: self.now + delay,
                kind: in_flight.kind,
                url: in_flight.url,
                range: in_flight.range,
                attempt,
                segment: in_flight.segment,
                init: in_flight.init,
            };
            match in_flight.kind {
                RequestKind::InitSegment { track, .. } | RequestKind::Segment { track, .. } => {
                    if let Some(index) = self.track_index(track) {
                        self.tracks[index].retry = Some(retry);
                    }
                }
                _ => self.retries.push(retry),
            }
            self.emit(Event::RetryScheduled {
                request,
                attempt,
                delay,
            });
            return;
        }
        let describe = |what: &str| {
            let status = failure
                .status
                .map(|status| format!("HTTP {status}: "))
                .unwrap_or_default();
            format!("{what} {}: {status}{}", in_flight.url, failure.message)
        };
        match in_flight.kind {
            RequestKind::Manifest => self.fail(ErrorKind::ManifestLoad, describe("manifest")),
            RequestKind::LevelPlaylist { level } => {
                self.level_failed(level, ErrorKind::LevelLoad, describe("level playlist"))
            }
            RequestKind::AudioPlaylist => {
                self.fail(ErrorKind::LevelLoad, describe("audio playlist"))
            }
            RequestKind::InitSegment { track, level }
            | RequestKind::Segment { track, level, .. } => {
                if track == TrackId::Main {
                    self.level_failed(level, ErrorKind::SegmentLoad, describe("segment"));
                } else {
                    self.fail(ErrorKind::SegmentLoad, describe("audio segment"));
                }
            }
        }
    }

    /// Forgets that a request is in flight wherever it was recorded.
    fn clear_request_markers(&mut self, kind: &RequestKind, request: RequestId) {
        match *kind {
            RequestKind::LevelPlaylist { level } => {
                if let Some(entry) = self.levels.get_mut(level)
                    && entry.loading == Some(request)
                {
                    entry.loading = None;
                }
            }
            RequestKind::AudioPlaylist => {
                if let Some(audio) = self.audio.as_mut() {
                    audio.loading = None;
                }
            }
            RequestKind::InitSegment { track, .. } | RequestKind::Segment { track, .. } => {
                if let Some(index) = self.track_index(track)
                    && self.tracks[index].in_flight == Some(request)
                {
                    self.tracks[index].in_flight = None;
                }
            }
            RequestKind::Manifest => {}
        }
    }

    /// Retries exhausted on a level: exclude it and fall back to another, or fail.
    pub(super) fn level_failed(&mut self, level: usize, kind: ErrorKind, details: String) {
        if level >= self.levels.len() {
            return;
        }
        self.levels[level].failed = true;
        self.levels[level].loading = None;
        let Some(fallback) = self.usable_level(level) else {
            self.fail(
                ErrorKind::NoPlayableLevel,
                format!("{details}; no other level is left"),
            );
            return;
        };
        self.emit(Event::Error {
            kind,
            fatal: false,
            details: format!("{details}; switching to level {fallback}"),
        });
        let main = &mut self.tracks[MAIN];
        main.delayed = Some(Decision::now(fallback, SwitchReason::Failover));
        main.retry = None;
        if self.manual_level == Some(level) {
            self.manual_level = None;
        }
    }

    /// Re-issues requests whose retry time has come.
    pub(super) fn fire_retries(&mut self) {
        let now = self.now;
        let mut due = Vec::new();
        self.retries.retain(|retry| {
            if retry.at <= now {
                due.push(retry.clone());
                false
            } else {
                true
            }
        });
        for index in 0..self.tracks.len() {
            if self.tracks[index]
                .retry
                .as_ref()
                .is_some_and(|retry| retry.at <= now)
                && let Some(retry) = self.tracks[index].retry.take()
            {
                due.push(retry);
            }
        }
        for retry in due {
            if let RequestKind::LevelPlaylist { level } = retry.kind
                && self.levels.get(level).is_none_or(|entry| entry.failed)
            {
                continue;
            }
            self.fetch(
                retry.kind,
                retry.url,
                retry.range,
                retry.attempt,
                retry.segment,
                retry.init,
            );
        }
    }

    /// Requests that received nothing (headers or bytes) for the policy's timeout fail.
    pub(super) fn check_timeouts(&mut self) {
        let now = self.now;
        let expired: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, request)| {
                now >= request.last_activity_at + self.retry_policy(&request.kind).timeout_s
            })
            .map(|(id, _)| *id)
            .collect();
        for request in expired {
            self.push(Action::Abort { request });
            self.on_request_failed(
                request,
                FetchFailure {
                    status: None,
                    message: "timed out: nothing received".into(),
                },
            );
        }
    }

    pub(super) fn on_append_failed(
        &mut self,
        track: TrackId,
        request: RequestId,
        failure: AppendFailure,
    ) {
        let Some(index) = self.track_index(track) else {
            return;
        };
        let range = self.tracks[index].pending.iter().find_map(|op| match op {
            PendingOp::Append {
                request: pending,
                range,
            } if *pending == request => Some(*range),
            _ => None,
        });
        self.tracks[index].pending.retain(
            |op| !matches!(op, PendingOp::Append { request: pending, .. } if *pending == request),
        );
        match failure {
            AppendFailure::QuotaExceeded => {
                let Some(range) = range else {
                    return;
                };
                let position = self.position();
                let first = self.tracks[index].buffered.first().map(|range| range.start);
                let cut = position - 1.0;
                match first {
                    Some(first) if cut > first => {
                        let entry = &mut self.tracks[index];
                        entry.pending.push(PendingOp::Evict);
                        entry.appended.retain(|segment| segment.end > cut);
                        entry.quota_retry = Some((request, range));
                        self.push(Action::Evict {
                            track,
                            start: first,
                            end: cut,
                        });
                    }
                    _ => {
                        // Nothing behind the playhead to drop: wait for playback to make room.
                        self.tracks[index].quota_retry = Some((request, range));
                        self.config.max_buffer_s = (self.buffer_ahead() * 0.8)
                            .max(range.duration())
                            .min(self.config.max_buffer_s);
                    }
                }
            }
            AppendFailure::Decode { message } => {
                if self.tracks[index].recovered_decode_error {
                    self.fail(
                        ErrorKind::Media,
                        format!("{track:?} track: {message} (after one recovery)"),
                    );
                    return;
                }
                self.emit(Event::Error {
                    kind: ErrorKind::Media,
                    fatal: false,
                    details: format!("{track:?} track: {message}; recreating the track"),
                });
                let position = self.position();
                for entry in &mut self.tracks {
                    if let Some(request) = entry.in_flight.take() {
                        self.requests.remove(&request);
                        self.actions.push_back(Action::Abort { request });
                    }
                    entry.recovered_decode_error = true;
                    entry.created = false;
                    entry.init_appended = None;
                    // The shell recreates the track on the next `CreateTrack` and reports
                    // its (empty) buffer then.
                    entry.pending.clear();
                    entry.appended.clear();
                    entry.quota_retry = None;
                    entry.reset_cursor(position);
                }
            }
        }
    }

    /// The main track's segment download, if abandoning it is allowed at all (the option
    /// is on, no level is pinned, and a lower level exists).
    fn abandonable(&self) -> Option<(RequestId, &InFlight, &SegmentRef)> {
        if !self.config.abandon_slow_downloads || self.manual_level.is_some() {
            return None;
        }
        let request = self.tracks[MAIN].in_flight?;
        let in_flight = self.requests.get(&request)?;
        let segment = in_flight.segment.as_ref()?;
        (matches!(in_flight.kind, RequestKind::Segment { .. }) && segment.level > 0)
            .then_some((request, in_flight, segment))
    }

    /// When to look again at a download that might need abandoning.
    pub(super) fn abandon_check_deadline(&self) -> Option<f64> {
        let (_, in_flight, segment) = self.abandonable()?;
        let earliest = in_flight.issued_at + ABANDON_MIN_ELAPSED_SHARE * segment.duration;
        Some(earliest.max(self.now + ABANDON_CHECK_INTERVAL_S))
    }

    /// Abandons the main download when it will not arrive before the buffer runs dry and a
    /// lower level would.
    pub(super) fn check_abandon(&mut self) {
        let Some((request, in_flight, segment)) = self.abandonable() else {
            return;
        };
        let segment = segment.clone();
        let elapsed = self.now - in_flight.issued_at;
        if elapsed < ABANDON_MIN_ELAPSED_SHARE * segment.duration {
            return;
        }
        let level = segment.level;
        let expected = in_flight
            .total
            .map(|total| total as f64)
            .unwrap_or(self.levels[level].bitrate_bps / 8.0 * segment.duration);
        let loaded = in_flight.loaded as f64;
        let transfer_elapsed = in_flight.first_byte_at.map_or(0.0, |at| self.now - at);
        let rate_bps = if loaded > 0.0 && transfer_elapsed > 0.0 {
            loaded * 8.0 / transfer_elapsed
        } else {
            // Nothing arrived yet: the rate is at most what would have shown by now.
            (self.estimator.estimate_bps()).min(expected * 8.0 / elapsed.max(1e-3))
        };
        let remaining_s = (expected - loaded).max(0.0) * 8.0 / rate_bps.max(1.0);
        let buffer = self.buffer_ahead();
        if remaining_s <= buffer {
            return;
        }
        let ttfb = self.estimator.ttfb_estimate_s();
        let lower = (0..level).rev().find(|&candidate| {
            let bytes = self.levels[candidate].bitrate_bps / 8.0 * segment.duration;
            !self.levels[candidate].failed && ttfb + bytes * 8.0 / rate_bps.max(1.0) < buffer
        });
        let lower = match lower {
            Some(found) => found,
            None => {
                let bytes = self.levels[0].bitrate_bps / 8.0 * segment.duration;
                if ttfb + bytes * 8.0 / rate_bps.max(1.0) >= remaining_s || self.levels[0].failed {
                    return;
                }
                0
            }
        };
        self.requests.remove(&request);
        self.tracks[MAIN].in_flight = None;
        self.push(Action::Abort { request });
        self.history.push(DownloadRecord {
            level,
            bytes: loaded,
            media_duration_s: segment.duration,
            requested_at: self.now - elapsed,
            first_byte_at: self.now - transfer_elapsed,
            finished_at: self.now,
            abandoned: true,
            final_bps: None,
        });
        if loaded > 0.0 && transfer_elapsed > 0.0 {
            self.estimator.sample(loaded, transfer_elapsed);
        }
        self.emit(Event::FragAbandoned {
            request,
            level,
            sequence: segment.sequence,
            to_level: lower,
        });
        self.tracks[MAIN].delayed = Some(Decision::now(lower, SwitchReason::Abandon));
    }
}
