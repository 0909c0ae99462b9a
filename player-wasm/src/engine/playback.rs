//! The playhead's side: media element state, first frame, stalls, seeks, gap jumping,
//! back-buffer eviction, end of stream, and which level is on screen.

use super::events::Event;
use super::io::{Action, MediaSnapshot, TimeRange, TrackId};
use super::state::PendingOp;
use super::{Engine, MAIN, SeekInProgress, ranges};
use protocol::SwitchReason;

/// A stall with at least this much buffered ahead is a decoder hiccup: nudge the playhead.
const NUDGE_MIN_BUFFER_S: f64 = 0.5;
/// How long a stall with data lasts before the nudge (seconds).
const NUDGE_AFTER_S: f64 = 1.0;
/// How far a nudge moves the playhead (seconds).
const NUDGE_STEP_S: f64 = 0.1;
/// Evict only when this much more than the back-buffer limit is behind the playhead.
const EVICTION_HYSTERESIS_S: f64 = 2.0;

impl Engine {
    pub(super) fn on_media(&mut self, snapshot: MediaSnapshot) {
        if let Some(seek) = self.seek.as_mut()
            && (snapshot.seeking || (snapshot.current_time - seek.target).abs() < 0.5)
        {
            seek.seen = true;
        }
        // A seek nobody asked the engine for (the element's own controls, the page
        // setting `currentTime`, a gap jump): it lasts until playback resumes too, as
        // analytics count seeks, and it ends any stall.
        if snapshot.seeking && !self.media.seeking && self.seek.is_none() {
            self.seek = Some(SeekInProgress {
                target: snapshot.current_time,
                started_at: self.now,
                seen: true,
            });
            if let Some(duration) = self.qoe.stall_ended(self.now) {
                self.emit(Event::BufferStallEnded {
                    position: self.media.current_time,
                    duration,
                });
            }
        }
        let snapshot = MediaSnapshot {
            current_time: if snapshot.current_time.is_finite() {
                snapshot.current_time.max(0.0)
            } else {
                self.media.current_time
            },
            playback_rate: if snapshot.playback_rate.is_finite() {
                snapshot.playback_rate
            } else {
                1.0
            },
            ..snapshot
        };
        // Time played since the last snapshot, at the level on screen.
        if self.media_advancing() {
            let played = snapshot.current_time - self.media.current_time;
            let wall = (self.now - self.media_at) * self.media.playback_rate.abs().max(1.0) + 0.5;
            if played > 0.0 && played <= wall {
                let bitrate = self
                    .level_at(self.media.current_time)
                    .map_or(0.0, |level| self.levels[level].bitrate_bps);
                self.qoe.played(played, bitrate);
            }
        }
        self.media = snapshot;
        self.media_at = self.now;
        self.qoe
            .frames(snapshot.dropped_frames, snapshot.total_frames);
    }

    pub(super) fn on_play(&mut self) {
        self.qoe.play_requested(self.now);
        self.push(Action::PlayMedia);
    }

    pub(super) fn on_set_level(&mut self, level: Option<usize>) {
        match level {
            Some(level) if level >= self.levels.len() && !self.levels.is_empty() => {
                self.emit(Event::Error {
                    kind: super::events::ErrorKind::LevelLoad,
                    fatal: false,
                    details: format!(
                        "no level {level}: the ladder has {} levels",
                        self.levels.len()
                    ),
                });
            }
            _ => {
                self.manual_level = level;
                // A pending delayed choice was the ABR's: decide again.
                self.tracks[MAIN].delayed = None;
                if self.tracks[MAIN].wait_until.is_some() && level.is_some() {
                    self.tracks[MAIN].wait_until = None;
                }
            }
        }
    }

    pub(super) fn on_seek(&mut self, position: f64) {
        if !position.is_finite() {
            return;
        }
        let (first, last) = self.seekable_range();
        let target = position.max(first).min(last.max(first));
        let buffered_everywhere = self
            .tracks
            .iter()
            .all(|track| ranges::contains(&track.effective_buffered(), target));
        // A seek ends any stall (seeking is not rebuffering).
        if let Some(duration) = self.qoe.stall_ended(self.now) {
            self.emit(Event::BufferStallEnded {
                position: self.position(),
                duration,
            });
        }
        if !buffered_everywhere {
            // Cancel downloads, flush, and resume at the segment containing the target.
            for index in 0..self.tracks.len() {
                if let Some(request) = self.tracks[index].in_flight.take() {
                    self.requests.remove(&request);
                    self.push(Action::Abort { request });
                }
                let track = &mut self.tracks[index];
                track.reset_cursor(target);
                track.quota_retry = None;
                let flush_end = track
                    .effective_buffered()
                    .last()
                    .map_or(0.0, |range| range.end);
                let id = track.id;
                if flush_end > 0.0 {
                    track.pending.push(PendingOp::Evict);
                    track.appended.clear();
                    self.push(Action::Evict {
                        track: id,
                        start: 0.0,
                        end: flush_end + 1.0,
                    });
                }
            }
            self.end_of_stream_sent = false;
            self.ended_emitted = false;
            self.last_gap_jump = None;
        }
        self.seek = Some(SeekInProgress {
            target,
            started_at: self.now,
            seen: false,
        });
        self.media.current_time = target;
        self.media_at = self.now;
        self.push(Action::SeekMedia { position: target });
    }

    /// The range a seek may target: the playlist (live: the window up to the edge).
    fn seekable_range(&self) -> (f64, f64) {
        let Some(level) = self.loading_level.or_else(|| {
            self.levels
                .iter()
                .position(|level| level.playlist.is_some())
        }) else {
            return (0.0, 0.0);
        };
        match &self.levels[level].playlist {
            Some(playlist) if playlist.is_live() => (
                playlist.timeline_start(),
                (playlist.end() - playlist.target_duration).max(playlist.timeline_start()),
            ),
            Some(playlist) => (playlist.timeline_start(), playlist.end()),
            None => (0.0, 0.0),
        }
    }

    pub(super) fn on_buffered(&mut self, track: TrackId, reported: &[TimeRange]) {
        let Some(index) = self.track_index(track) else {
            return;
        };
        let entry = &mut self.tracks[index];
        entry.buffered = ranges::normalize(reported);
        if !entry.pending.is_empty() {
            entry.pending.remove(0);
        }
        if let Some((request, range)) = entry.quota_retry
            && entry.pending.is_empty()
        {
            // Room was made: try the refused append again.
            entry.quota_retry = None;
            entry.pending.push(PendingOp::Append { request, range });
            self.push(Action::Append {
                track,
                request,
                start: range.start,
                duration: range.duration(),
            });
        }
    }

    /// First frame, stalls, seeks completing, gaps, the level on screen, the end.
    pub(super) fn check_playback(&mut self) {
        let media = self.media;
        let position = self.position();
        if !self.qoe.started()
            && !media.paused
            && !media.seeking
            && !media.waiting
            && media.ready_state >= 3
            && let Some(startup_time) = self.qoe.first_frame(self.now)
        {
            self.emit(Event::FirstFrame { startup_time });
        }
        // A seek lasts until the picture is back: paused, the frame at the target is shown;
        // playing, playback goes on (waiting for data after `seeked` is part of the seek,
        // not rebuffering, as analytics count it).
        let resumed = if media.paused {
            media.ready_state >= 2
        } else {
            media.ready_state >= 3 && !media.waiting
        };
        if let Some(seek) = self.seek
            && seek.seen
            && !media.seeking
            && resumed
        {
            self.seek = None;
            self.emit(Event::Seeked {
                position: seek.target,
                latency: self.now - seek.started_at,
            });
        }
        let stalled = self.qoe.started()
            && media.waiting
            && !media.paused
            && !media.seeking
            && self.seek.is_none();
        if stalled && self.qoe.stall_started(self.now) {
            self.nudged_at = None;
            self.cmcd_starved = true;
            self.emit(Event::BufferStalled { position });
        }
        if !stalled && let Some(duration) = self.qoe.stall_ended(self.now) {
            self.emit(Event::BufferStallEnded { position, duration });
        }
        if media.waiting && !media.paused && !media.seeking {
            self.jump_gap(position);
        } else {
            self.stalled_with_data_since = None;
        }
        self.track_level_on_screen(position);
        if media.ended && !self.ended_emitted {
            self.ended_emitted = true;
            self.emit(Event::Ended);
        }
    }

    /// Stalled at a hole: jump it when it is small or a known `EXT-X-GAP`; stalled with
    /// data ahead: nudge the playhead.
    fn jump_gap(&mut self, position: f64) {
        let buffered: Vec<TimeRange> = self
            .tracks
            .iter()
            .map(|track| track.buffered.clone())
            .reduce(|a, b| ranges::intersect(&a, &b))
            .unwrap_or_default();
        let ahead = ranges::ahead(&buffered, position);
        if ahead >= NUDGE_MIN_BUFFER_S {
            // Data arriving ends a stall on its own: nudge only if the element still
            // waits a while after the data is there.
            let since = *self.stalled_with_data_since.get_or_insert(self.now);
            if self.now - since >= NUDGE_AFTER_S && self.nudged_at.is_none() {
                self.nudged_at = Some(self.now);
                let to = position + NUDGE_STEP_S;
                self.push(Action::SeekMedia { position: to });
                self.emit(Event::GapJumped { from: position, to });
            }
            return;
        }
        self.stalled_with_data_since = None;
        let Some(next) = ranges::next_start_after(&buffered, position) else {
            // Nothing more will come (every remaining segment was a gap): go to the end.
            if self.end_of_stream_sent
                && let Some(duration) = self.duration_sent
                && position < duration
                && self.last_gap_jump != Some(duration)
            {
                self.last_gap_jump = Some(duration);
                self.push(Action::SeekMedia { position: duration });
                self.emit(Event::GapJumped {
                    from: position,
                    to: duration,
                });
            }
            return;
        };
        let known_hole = self
            .known_holes
            .iter()
            .any(|hole| hole.start - 0.25 <= position && next <= hole.end + 0.25);
        if (next - position <= self.config.max_gap_jump_s || known_hole)
            && self.last_gap_jump != Some(next)
        {
            self.last_gap_jump = Some(next);
            self.push(Action::SeekMedia { position: next });
            self.emit(Event::GapJumped {
                from: position,
                to: next,
            });
            self.media.current_time = next;
            self.media_at = self.now;
        }
    }

    /// Deadline for the nudge of a stall with data buffered.
    pub(super) fn stall_nudge_deadline(&self) -> Option<f64> {
        let since = self.stalled_with_data_since?;
        self.nudged_at.is_none().then_some(since + NUDGE_AFTER_S)
    }

    /// `LevelSwitched` when playback enters a segment of another level.
    fn track_level_on_screen(&mut self, position: f64) {
        if !self.qoe.started() {
            return;
        }
        let Some((level, segment_reason)) = self
            .appended_at(position)
            .map(|segment| (segment.level, segment.reason))
        else {
            return;
        };
        if self.playing_level == Some(level) {
            return;
        }
        let from = self.playing_level;
        if let Some(previous) = from {
            self.qoe.switched(
                self.levels[previous].bitrate_bps,
                self.levels[level].bitrate_bps,
            );
        }
        self.playing_level = Some(level);
        let reason = if from.is_none() {
            SwitchReason::Startup
        } else {
            segment_reason
        };
        self.emit(Event::LevelSwitched {
            from,
            to: level,
            reason,
        });
    }

    /// Removes media further behind the playhead than the back-buffer limit.
    pub(super) fn evict_back_buffer(&mut self) {
        let Some(keep) = self.config.back_buffer_s else {
            return;
        };
        let position = self.position();
        let cut = position - keep;
        for index in 0..self.tracks.len() {
            let track = &self.tracks[index];
            if track.pending.contains(&PendingOp::Evict) {
                continue;
            }
            let Some(first) = track.buffered.first().map(|range| range.start) else {
                continue;
            };
            if cut - first < EVICTION_HYSTERESIS_S {
                continue;
            }
            let id = track.id;
            let track = &mut self.tracks[index];
            track.pending.push(PendingOp::Evict);
            track.appended.retain(|segment| segment.end > cut);
            self.push(Action::Evict {
                track: id,
                start: first,
                end: cut,
            });
        }
    }

    /// `EndOfStream` once every track has appended its last segment; true when sent now.
    pub(super) fn check_end_of_stream(&mut self) -> bool {
        if self.end_of_stream_sent || self.live {
            return false;
        }
        let done = self.tracks.iter().all(|track| {
            track.complete
                && track.in_flight.is_none()
                && track.pending.is_empty()
                && track.quota_retry.is_none()
        });
        if done {
            self.end_of_stream_sent = true;
            self.push(Action::EndOfStream);
        }
        done
    }
}
