//! A simulated media element with its source buffers.

use crate::engine::{MediaSnapshot, TimeRange, TrackId, ranges};
use std::collections::BTreeMap;

/// The playhead and source buffers of a simulated `<video>`.
///
/// Playback runs at rate 1 whenever it is not paused, not seeking, and media is
/// buffered at the playhead on every track; it stalls (`waiting`) at the end of the
/// buffered media and resumes as soon as more arrives. It ends at the duration once
/// end of stream was signalled.
#[derive(Debug, Clone)]
pub struct SimulatedMedia {
    pub position: f64,
    pub paused: bool,
    pub seeking: bool,
    pub waiting: bool,
    pub ended: bool,
    /// The first frame was shown.
    pub started: bool,
    pub duration: Option<f64>,
    pub end_of_stream: bool,
    /// Source buffers by track, with the MIME type they were created with.
    pub tracks: BTreeMap<TrackId, (String, Vec<TimeRange>)>,
    /// Seconds spent stalled after the first frame (seeks excluded).
    pub stalled_s: f64,
    /// Number of stalls after the first frame.
    pub stalls: u32,
    /// Element size reported to the engine.
    pub width: u32,
    pub height: u32,
}

impl Default for SimulatedMedia {
    fn default() -> Self {
        SimulatedMedia {
            position: 0.0,
            paused: true,
            seeking: false,
            waiting: false,
            ended: false,
            started: false,
            duration: None,
            end_of_stream: false,
            tracks: BTreeMap::new(),
            stalled_s: 0.0,
            stalls: 0,
            width: 0,
            height: 0,
        }
    }
}

impl SimulatedMedia {
    /// What every track has buffered.
    pub fn playable(&self) -> Vec<TimeRange> {
        self.tracks
            .values()
            .map(|(_, ranges)| ranges.clone())
            .reduce(|a, b| ranges::intersect(&a, &b))
            .unwrap_or_default()
    }

    /// Seconds playable ahead of the playhead.
    pub fn ahead(&self) -> f64 {
        ranges::ahead(&self.playable(), self.position)
    }

    /// Whether the playhead is moving.
    pub fn advancing(&self) -> bool {
        !self.paused && !self.seeking && !self.waiting && !self.ended
    }

    /// Seconds until the playhead reaches the end of the playable media, while moving.
    pub fn time_to_next_event(&self) -> Option<f64> {
        self.advancing().then(|| self.ahead())
    }

    /// Lets `seconds` pass.
    pub fn advance(&mut self, seconds: f64) {
        if seconds <= 0.0 {
            return;
        }
        if self.advancing() {
            let ahead = self.ahead();
            self.position += seconds.min(ahead);
        } else if self.waiting && self.started && !self.paused && !self.seeking {
            self.stalled_s += seconds;
        }
    }

    /// Recomputes waiting / seeking / ended from the buffers; true when any changed.
    pub fn refresh(&mut self) -> bool {
        let before = (self.waiting, self.seeking, self.ended, self.started);
        let ahead = self.ahead();
        let at_end = self.end_of_stream
            && self
                .duration
                .is_some_and(|duration| self.position >= duration - 1e-6);
        // A seek completes once media is there, or at the very end of a finished stream.
        if self.seeking && (ahead > 0.0 || at_end) {
            self.seeking = false;
        }
        if at_end && !self.seeking {
            self.ended = true;
            self.waiting = false;
        } else if !self.paused && !self.seeking {
            self.ended = false;
            if ahead > 1e-9 {
                if self.waiting || !self.started {
                    self.started = true;
                }
                self.waiting = false;
            } else {
                if !self.waiting && self.started {
                    self.stalls += 1;
                }
                self.waiting = true;
            }
        }
        before != (self.waiting, self.seeking, self.ended, self.started)
    }

    /// The snapshot the engine receives.
    pub fn snapshot(&self) -> MediaSnapshot {
        let ahead = self.ahead();
        MediaSnapshot {
            current_time: self.position,
            paused: self.paused,
            seeking: self.seeking,
            waiting: self.waiting,
            ended: self.ended,
            ready_state: if ahead > 0.0 {
                4
            } else if self.tracks.is_empty() {
                0
            } else {
                1
            },
            playback_rate: 1.0,
            dropped_frames: 0,
            total_frames: (self.position * 30.0) as u64,
            width: self.width,
            height: self.height,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_while_buffered_stalls_at_the_end_and_ends_at_the_duration() {
        let mut media = SimulatedMedia::default();
        media.tracks.insert(
            TrackId::Main,
            ("video/mp4".into(), vec![TimeRange::new(0.0, 4.0)]),
        );
        media.paused = false;
        assert!(media.refresh());
        assert!(media.started && !media.waiting);
        assert_eq!(media.time_to_next_event(), Some(4.0));
        media.advance(5.0);
        assert_eq!(media.position, 4.0, "never past the buffered media");
        media.refresh();
        assert!(media.waiting);
        media.advance(2.0);
        assert_eq!((media.stalled_s, media.stalls), (2.0, 1));
        media.duration = Some(4.0);
        media.end_of_stream = true;
        media.refresh();
        assert!(media.ended && !media.waiting);
    }

    #[test]
    fn a_seek_completes_when_media_is_there() {
        let mut media = SimulatedMedia::default();
        media
            .tracks
            .insert(TrackId::Main, ("video/mp4".into(), vec![]));
        media.paused = false;
        media.seeking = true;
        media.position = 10.0;
        media.refresh();
        assert!(media.seeking);
        media.tracks.get_mut(&TrackId::Main).unwrap().1 = vec![TimeRange::new(8.0, 12.0)];
        media.refresh();
        assert!(!media.seeking && !media.waiting);
        assert_eq!(media.snapshot().ready_state, 4);
    }
}
