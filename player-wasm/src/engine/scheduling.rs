//! What to fetch next on each track: the level (ABR, manual or fallback), the segment
//! that continues the buffer, its init section first when needed, and when to wait.

use super::events::Event;
use super::io::{Action, RequestKind, TrackId};
use super::state::{InitKey, SegmentRef};
use super::{Engine, MAIN, ranges};
use crate::abr::{AbrContext, Decision, Upcoming};
use crate::hls::{MediaPlaylist, Segment};
use protocol::SwitchReason;

/// Segments that start within this of the cursor continue it (seconds).
const CURSOR_TOLERANCE_S: f64 = 0.05;

/// Alternate audio may run at least this far (seconds) past the main track's download
/// position; one audio target duration when that is longer.
const MIN_AUDIO_LEAD_S: f64 = 2.0;

/// Where a track's segments come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Level(usize),
    Audio,
}

impl Engine {
    /// Index of the track with this id.
    pub(super) fn track_index(&self, id: TrackId) -> Option<usize> {
        self.tracks.iter().position(|track| track.id == id)
    }

    pub(super) fn schedule_tracks(&mut self) {
        self.schedule_main();
        if let Some(audio) = self.track_index(TrackId::Audio) {
            self.schedule_audio(audio);
        }
    }

    /// Whether a track may fetch now; sets a wait when the buffer is full.
    fn ready_to_fetch(&mut self, index: usize) -> bool {
        let now = self.now;
        let track = &mut self.tracks[index];
        if track.in_flight.is_some()
            || track.complete
            || track.retry.is_some()
            || track.quota_retry.is_some()
        {
            return false;
        }
        if let Some(until) = track.wait_until {
            if now < until - 1e-9 {
                return false;
            }
            track.wait_until = None;
        }
        let position = self.position();
        let buffered = self.tracks[index].effective_buffered();
        let ahead = ranges::ahead(&buffered, position);
        let limit = self.config.max_buffer_s;
        if ahead > limit + 1e-9 {
            if self.media_advancing() {
                let step = self.config.buffer_full_step_s;
                let steps = ((ahead - limit) / step - 1e-9).ceil().max(1.0);
                self.tracks[index].wait_until = Some(now + steps * step);
            }
            return false;
        }
        true
    }

    fn schedule_main(&mut self) {
        if self.levels.is_empty() || !self.ready_to_fetch(MAIN) {
            return;
        }
        let decision = match self.tracks[MAIN].delayed.take() {
            Some(decision) => decision,
            None => {
                let decision = self.decide_level();
                if decision.delay_s > 0.0 {
                    let track = &mut self.tracks[MAIN];
                    track.wait_until = Some(self.now + decision.delay_s);
                    track.delayed = Some(Decision {
                        delay_s: 0.0,
                        ..decision
                    });
                    return;
                }
                decision
            }
        };
        let Some(level) = self.usable_level(decision.level) else {
            self.fail(
                super::events::ErrorKind::NoPlayableLevel,
                "every level failed".into(),
            );
            return;
        };
        let decision = if level == decision.level {
            decision
        } else {
            Decision::now(level, SwitchReason::Failover)
        };
        // The audio rendition follows the level's group; choosing it before the level's
        // playlist arrives lets both playlists load at once.
        if self.tracks.len() == 1 || self.audio.is_none() {
            self.select_audio(level);
        }
        if self.levels[level].playlist.is_none() {
            self.tracks[MAIN].delayed = Some(decision);
            self.load_level_playlist(level);
            return;
        }
        self.fetch_next_segment(MAIN, Source::Level(level), Some(decision), 0);
    }

    fn schedule_audio(&mut self, index: usize) {
        if self.audio.is_none() || !self.ready_to_fetch(index) {
            return;
        }
        if self
            .audio
            .as_ref()
            .is_some_and(|audio| audio.playlist.is_none())
        {
            self.load_audio_playlist();
            return;
        }
        if self.audio_too_far_ahead(index) {
            // Woken again by the main track's next download (every input reschedules).
            return;
        }
        self.fetch_next_segment(index, Source::Audio, None, 0);
    }

    /// Whether the alternate audio's next segment would start more than one audio
    /// segment past the main track's download position. Audio segments are cheap, but
    /// fetched far ahead they take the link while the picture starves, and browsers keep
    /// playing audio over frozen video: audio follows the main track instead.
    fn audio_too_far_ahead(&self, index: usize) -> bool {
        let main = &self.tracks[MAIN];
        if main.complete || self.levels.is_empty() {
            return false;
        }
        let lead = self
            .audio
            .as_ref()
            .and_then(|audio| audio.playlist.as_ref())
            .map_or(0.0, |playlist| playlist.target_duration)
            .max(MIN_AUDIO_LEAD_S);
        let main_end = main.cursor.max(self.position());
        self.tracks[index].cursor >= main_end + lead - CURSOR_TOLERANCE_S
    }

    fn source_playlist(&self, source: Source) -> Option<&MediaPlaylist> {
        match source {
            Source::Level(level) => self.levels[level].playlist.as_ref(),
            Source::Audio => self
                .audio
                .as_ref()
                .and_then(|audio| audio.playlist.as_ref()),
        }
    }

    /// Index of the segment that continues `track` in `playlist`.
    fn continuing_index(
        &self,
        index: usize,
        source: Source,
        playlist: &MediaPlaylist,
    ) -> Option<usize> {
        let track = &self.tracks[index];
        if let Some(last) = &track.last {
            let same_source = match source {
                Source::Level(level) => track.id == TrackId::Main && last.level == level,
                Source::Audio => true,
            };
            if same_source && let Some(found) = playlist.index_of_sequence(last.sequence + 1) {
                return Some(found);
            }
        }
        let probe = track.cursor + CURSOR_TOLERANCE_S;
        if let Some(found) = playlist.segment_index_at(probe) {
            return Some(found);
        }
        // The cursor is on a boundary the playlist skips (a hole) or before a VOD
        // playlist's first segment: continue with the first segment after it. Before a
        // live window, there is nothing to continue: the caller falls back into it.
        let first_start = playlist.segments.first()?.start;
        if playlist.is_live() && track.cursor + CURSOR_TOLERANCE_S < first_start {
            return None;
        }
        playlist
            .segments
            .iter()
            .position(|segment| segment.start + CURSOR_TOLERANCE_S >= track.cursor)
    }

    /// Fetches the next segment of `track` from `source` (its init section first if needed).
    fn fetch_next_segment(
        &mut self,
        index: usize,
        source: Source,
        decision: Option<Decision>,
        depth: usize,
    ) {
        let Some(playlist) = self.source_playlist(source) else {
            return;
        };
        let live = playlist.is_live();
        let window_start = playlist.timeline_start();
        let window_end = playlist.end();
        let found = self.continuing_index(index, source, playlist);
        let Some(segment_index) = found else {
            if self.tracks[index].cursor + CURSOR_TOLERANCE_S >= window_end {
                if !live {
                    self.tracks[index].complete = true;
                }
                // Live: at the edge; the next reload brings more.
                if let Some(decision) = decision {
                    self.tracks[index].delayed = Some(decision);
                }
            } else if live && self.tracks[index].cursor < window_start {
                self.fall_back_into_window(playlist.clone());
            }
            return;
        };
        let segment = playlist.segments[segment_index].clone();
        let segment_ref = SegmentRef {
            level: match source {
                Source::Level(level) => level,
                Source::Audio => 0,
            },
            reason: self.segment_reason(source, decision),
            sequence: segment.sequence,
            start: segment.start,
            duration: segment.duration,
        };
        if segment.gap {
            if let Source::Level(level) = source
                && let Some(alternative) = self.level_without_gap(level, &segment)
                && depth < 2
            {
                let decision = decision.map(|decision| Decision {
                    level: alternative,
                    ..decision
                });
                if self.levels[alternative].playlist.is_some() {
                    self.fetch_next_segment(index, Source::Level(alternative), decision, depth + 1);
                } else {
                    self.tracks[index].delayed = decision;
                    self.load_level_playlist(alternative);
                }
                return;
            }
            // Nobody has it: leave a hole that playback jumps over.
            // Adjacent gap segments make one hole.
            ranges::insert(
                &mut self.known_holes,
                super::io::TimeRange::new(segment.start, segment.end()),
            );
            let segment_count = self.source_playlist(source).map_or(0, |p| p.segments.len());
            let track = &mut self.tracks[index];
            track.cursor = segment.end();
            track.last = Some(segment_ref);
            if !live && segment_index + 1 == segment_count {
                track.complete = true;
            }
            if depth < 64 {
                self.fetch_next_segment(index, source, decision, depth + 1);
            }
            return;
        }
        if let (Source::Level(level), Some(decision)) = (source, decision) {
            if self.loading_level != Some(level) {
                let reason = self.segment_reason(source, Some(decision));
                self.loading_reason = reason;
                self.emit(Event::LevelSwitching {
                    from: self.loading_level,
                    to: level,
                    reason,
                });
            }
            self.loading_level = Some(level);
        }
        self.ensure_track_created(index, source, &segment);
        if let Some(init) = &segment.init {
            let key = InitKey {
                url: init.uri.clone(),
                range: init.byte_range,
            };
            if self.tracks[index].init_appended.as_ref() != Some(&key) {
                self.tracks[index].delayed = decision;
                let track = self.tracks[index].id;
                self.fetch(
                    RequestKind::InitSegment {
                        track,
                        level: segment_ref.level,
                    },
                    key.url.clone(),
                    key.range,
                    0,
                    Some(segment_ref),
                    Some(key),
                );
                return;
            }
        }
        let track = self.tracks[index].id;
        self.fetch(
            RequestKind::Segment {
                track,
                level: segment_ref.level,
                sequence: segment.sequence,
            },
            segment.uri.clone(),
            segment.byte_range,
            0,
            Some(segment_ref),
            None,
        );
    }

    /// Live: the window slid past the download position; continue from the live sync
    /// point and move the playhead there if it is behind.
    fn fall_back_into_window(&mut self, playlist: MediaPlaylist) {
        let target = (playlist.end()
            - self.config.live_sync_target_durations * playlist.target_duration)
            .max(playlist.timeline_start());
        let position = self.position();
        for track in &mut self.tracks {
            track.reset_cursor(target);
        }
        if position < target {
            self.push(Action::SeekMedia { position: target });
            self.emit(Event::GapJumped {
                from: position,
                to: target,
            });
            self.media.current_time = target;
            self.media_at = self.now;
        }
    }

    /// A level other than `level` whose segment at the same time is not a gap, nearest first
    /// (lower levels preferred).
    fn level_without_gap(&self, level: usize, segment: &Segment) -> Option<usize> {
        let probe = segment.start + CURSOR_TOLERANCE_S;
        let mut candidates: Vec<usize> = (0..self.levels.len())
            .filter(|other| *other != level)
            .collect();
        crate::small_sort::sort_by_key(&mut candidates, |other| {
            (other.abs_diff(level), *other > level)
        });
        candidates.into_iter().find(|other| {
            let entry = &self.levels[*other];
            if entry.failed {
                return false;
            }
            match &entry.playlist {
                Some(playlist) => playlist
                    .segment_index_at(probe)
                    .is_some_and(|found| !playlist.segments[found].gap),
                // Unknown until loaded: worth a try.
                None => true,
            }
        })
    }

    /// Emits `CreateTrack` before a track's first fetch.
    fn ensure_track_created(&mut self, index: usize, source: Source, segment: &Segment) {
        if self.tracks[index].created {
            return;
        }
        let track = self.tracks[index].id;
        let codecs: Vec<String> = match source {
            Source::Level(level) => {
                let codecs = &self.levels[level].variant.codecs;
                if self.audio.is_some() {
                    codecs
                        .iter()
                        .filter(|codec| !super::loading::is_audio_codec(codec))
                        .cloned()
                        .collect()
                } else {
                    codecs.clone()
                }
            }
            Source::Audio => self
                .audio
                .as_ref()
                .map(|audio| audio.codecs.clone())
                .unwrap_or_default(),
        };
        let url = segment.init.as_ref().map_or(&segment.uri, |init| &init.uri);
        let mime = super::loading::track_mime(track, &codecs, url);
        self.tracks[index].created = true;
        self.push(Action::CreateTrack { track, mime });
    }

    /// `level` if usable, else the nearest usable level below it, else above it.
    pub(super) fn usable_level(&self, level: usize) -> Option<usize> {
        let level = level.min(self.levels.len().checked_sub(1)?);
        let usable = |index: usize| !self.levels[index].failed;
        if usable(level) {
            return Some(level);
        }
        (0..level)
            .rev()
            .find(|&index| usable(index))
            .or_else(|| (level + 1..self.levels.len()).find(|&index| usable(index)))
    }

    /// Highest level allowed by the player-size cap.
    fn max_allowed_level(&self) -> usize {
        let top = self.levels.len().saturating_sub(1);
        if !self.config.cap_level_to_player_size || self.media.width == 0 || self.media.height == 0
        {
            return top;
        }
        let (width, height) = (u64::from(self.media.width), u64::from(self.media.height));
        self.levels
            .iter()
            .position(|level| {
                level.variant.resolution.is_some_and(|resolution| {
                    resolution.width >= width && resolution.height >= height
                })
            })
            .unwrap_or(top)
    }

    /// The level of the next main segment, and why.
    fn decide_level(&mut self) -> Decision {
        let top = self.levels.len().saturating_sub(1);
        if let Some(level) = self.manual_level {
            return Decision::now(level.min(top), SwitchReason::Manual);
        }
        if self.tracks[MAIN].last.is_none()
            && self.history.is_empty()
            && let Some(start) = self.config.start_level
        {
            return Decision::now(start.min(top), SwitchReason::Startup);
        }
        let cap = self.max_allowed_level();
        self.fill_upcoming();
        let segments_remaining = self.segments_remaining();
        let ctx = AbrContext {
            now: self.now,
            levels: &self.level_infos,
            max_allowed_level: cap,
            last_level: self.tracks[MAIN]
                .last
                .as_ref()
                .map(|last| last.level)
                .or(self.loading_level),
            buffer_s: self.buffer_ahead(),
            max_buffer_s: self.config.max_buffer_s,
            upcoming: Upcoming {
                durations_s: &self.upcoming_durations,
                sizes_bytes: &self.upcoming_sizes,
                levels: self.level_infos.len(),
                sizes_exact: self.upcoming_exact,
            },
            segments_remaining,
            history: &self.history,
            estimator: &self.estimator,
            playback_started: self.qoe.started(),
        };
        let mut decision = self.abr.choose(&ctx);
        if decision.level > cap {
            decision.level = cap;
            decision.reason = SwitchReason::Capped;
        }
        decision.level = decision.level.min(top);
        decision
    }

    /// Why a segment of `source` is at its level: the reason of the switch that brought
    /// the loading level there, so that every segment of a level (and the `LevelSwitched`
    /// when the first of them plays) says why that level was chosen, never `hold`.
    fn segment_reason(&self, source: Source, decision: Option<Decision>) -> SwitchReason {
        let Source::Level(level) = source else {
            return SwitchReason::Hold;
        };
        match (self.loading_level, decision) {
            (Some(loading), _) if loading == level => self.loading_reason,
            (_, Some(decision)) if decision.reason != SwitchReason::Hold => decision.reason,
            (Some(loading), _) if level > loading => SwitchReason::ThroughputUp,
            (Some(_), _) => SwitchReason::ThroughputDown,
            (None, _) => SwitchReason::Startup,
        }
    }

    /// The playlist whose segments drive the ABR's view: the loading level's, else any.
    fn reference_level(&self) -> Option<usize> {
        self.loading_level
            .filter(|level| self.levels[*level].playlist.is_some())
            .or_else(|| {
                self.levels
                    .iter()
                    .position(|level| level.playlist.is_some())
            })
    }

    fn segments_remaining(&self) -> Option<usize> {
        let level = self.reference_level()?;
        let playlist = self.levels[level].playlist.as_ref()?;
        if playlist.is_live() {
            return None;
        }
        let first = self.continuing_index(MAIN, Source::Level(level), playlist)?;
        Some(playlist.segments.len() - first)
    }

    /// Fills the ABR's view of the next segments: durations from the reference playlist,
    /// sizes from byte ranges where known, else bitrate × duration.
    fn fill_upcoming(&mut self) {
        self.upcoming_sizes.clear();
        self.upcoming_durations.clear();
        self.upcoming_exact = false;
        let Some(reference) = self.reference_level() else {
            return;
        };
        let playlist = self.levels[reference]
            .playlist
            .as_ref()
            .expect("reference has a playlist");
        let Some(first) = self.continuing_index(MAIN, Source::Level(reference), playlist) else {
            return;
        };
        let count = (playlist.segments.len() - first).min(self.config.abr_lookahead_segments);
        let first_start = playlist.segments[first].start;
        // Per level, the index of the segment aligned with the reference's first.
        let offsets: Vec<Option<usize>> = self
            .levels
            .iter()
            .map(|level| {
                level
                    .playlist
                    .as_ref()
                    .and_then(|other| other.segment_index_at(first_start + CURSOR_TOLERANCE_S))
            })
            .collect();
        let mut exact_everywhere = count > 0;
        for ahead in 0..count {
            let segment = &playlist.segments[first + ahead];
            self.upcoming_durations.push(segment.duration);
            for (level, entry) in self.levels.iter().enumerate() {
                let exact = offsets[level].and_then(|offset| {
                    entry
                        .playlist
                        .as_ref()
                        .and_then(|other| other.segments.get(offset + ahead))
                        .and_then(|other| other.byte_range)
                        .map(|range| range.length as f64)
                });
                exact_everywhere &= exact.is_some();
                let estimate = entry.bitrate_bps / 8.0 * segment.duration;
                self.upcoming_sizes.push(exact.unwrap_or(estimate));
            }
        }
        self.upcoming_exact = exact_everywhere;
    }
}
