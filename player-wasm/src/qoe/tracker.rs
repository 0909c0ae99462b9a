//! What a player does, as beacon events: [`PlayerTracker`] for our player (the engine's
//! events, and the element's `play` and `pause`), [`ElementTracker`] for any other
//! player's `<video>` (`Monitor`: the element's events and state alone, with hls.js's
//! level switches when it has them).
//!
//! Both follow the engine's definitions (`engine::playback`), so that the same playback
//! gives the same metrics whoever reports it:
//!
//! * **play request**: the element's first `play` event (with autoplay, right after the
//!   source was given; a blocked autoplay requests nothing); later `play` events after a
//!   `pause` (or the end) are resumes;
//! * **first frame**: the element is not paused, not seeking, not waiting for data, and
//!   has future data (`readyState` ≥ 3);
//! * **rebuffering**: after the first frame, the element waits for data (`waiting`, until
//!   `playing`, `pause`, `seeking` or `ended`) while not paused, not seeking and with no
//!   seek in progress; a seek ends a rebuffer;
//! * **seek**: from the request (the element's `seeking`) until the picture is back:
//!   paused, the frame at the target shows (`readyState` ≥ 2); playing, playback goes on
//!   (`readyState` ≥ 3 and not waiting). Waiting for data after `seeked` is part of the
//!   seek, not a rebuffer;
//! * **pause**: the element's `pause`, except the one that comes with the end.

use protocol::{EventKind, SwitchReason};

use crate::engine::Event;

/// Beacon events of our player, from its engine's events.
#[derive(Debug, Default)]
pub struct PlayerTracker {
    /// The ladder: (`BANDWIDTH`, height) per level.
    levels: Vec<(u64, Option<u32>)>,
    /// Level on screen.
    level: Option<usize>,
    requested: bool,
    paused: bool,
    /// Where the playhead was when the seek in progress was asked for.
    seek_from: Option<f64>,
}

impl PlayerTracker {
    /// The beacon event an engine event stands for, if any.
    pub fn engine_event(&mut self, event: &Event) -> Option<EventKind> {
        Some(match event {
            Event::ManifestLoaded { levels, .. } => {
                self.levels = levels
                    .iter()
                    .map(|level| (level.bitrate, level.height.map(|h| h as u32)))
                    .collect();
                return None;
            }
            Event::LevelSwitched { from, to, reason } => {
                self.level = Some(*to);
                let (bitrate, height) = self.levels.get(*to).copied().unwrap_or_default();
                EventKind::Levelswitch {
                    from: from.map(|from| from as u32),
                    to: *to as u32,
                    bitrate,
                    height,
                    reason: *reason,
                }
            }
            Event::FirstFrame { .. } => EventKind::Firstframe,
            Event::BufferStalled { .. } => EventKind::Rebufferstart,
            Event::BufferStallEnded { .. } => EventKind::Rebufferend,
            Event::Seeked { position, latency } => EventKind::Seek {
                from: self.seek_from.take().unwrap_or(*position),
                to: *position,
                latency_ms: latency * 1000.0,
            },
            Event::Error {
                kind,
                fatal,
                details,
            } => EventKind::Error {
                code: kind.as_str().into(),
                message: details.clone(),
                fatal: *fatal,
            },
            Event::Ended => {
                self.paused = true;
                EventKind::Ended
            }
            _ => return None,
        })
    }

    /// The element fired `play`.
    pub fn play(&mut self) -> Option<EventKind> {
        play(&mut self.requested, &mut self.paused)
    }

    /// The element fired `pause`; `ended`: it has ended.
    pub fn pause(&mut self, ended: bool) -> Option<EventKind> {
        pause(self.requested, &mut self.paused, ended)
    }

    /// A seek from `from` (seconds) was asked for.
    pub fn seek(&mut self, from: f64) {
        self.seek_from.get_or_insert(from);
    }

    /// Bitrate of the level on screen (`BANDWIDTH`).
    pub fn bitrate(&self) -> Option<u64> {
        self.levels.get(self.level?).map(|level| level.0)
    }
}

fn play(requested: &mut bool, paused: &mut bool) -> Option<EventKind> {
    if !*requested {
        *requested = true;
        *paused = false;
        Some(EventKind::Playrequest)
    } else if *paused {
        *paused = false;
        Some(EventKind::Play)
    } else {
        None
    }
}

fn pause(requested: bool, paused: &mut bool, ended: bool) -> Option<EventKind> {
    if !requested || *paused || ended {
        return None;
    }
    *paused = true;
    Some(EventKind::Pause)
}

/// The state of a media element when something happened.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ElementState {
    /// `currentTime`, seconds.
    pub current_time: f64,
    pub paused: bool,
    pub seeking: bool,
    pub ended: bool,
    /// `readyState` (0 to 4).
    pub ready_state: u8,
}

/// A seek in progress on an element.
#[derive(Debug, Clone, Copy)]
struct ElementSeek {
    from: f64,
    to: f64,
    at_ms: f64,
}

/// Beacon events of any player, from its `<video>` element (see the module
/// documentation for the definitions).
#[derive(Debug, Default)]
pub struct ElementTracker {
    /// `waiting` fired, and no `playing`, `pause`, `seeking` or `ended` since.
    waiting: bool,
    requested: bool,
    paused: bool,
    started: bool,
    stalled: bool,
    ended: bool,
    seek: Option<ElementSeek>,
    /// Playhead before the seek in progress.
    position: f64,
    /// Level on screen and its bitrate.
    level: Option<(u32, u64)>,
}

impl ElementTracker {
    /// The element fired `name` (`""`: a periodic look) and is in `state`; what that
    /// means goes to `out`. Element errors are the caller's (they need the element's
    /// `MediaError`).
    pub fn observe(
        &mut self,
        now_ms: f64,
        name: &str,
        state: &ElementState,
        out: &mut Vec<EventKind>,
    ) {
        match name {
            "waiting" => self.waiting = true,
            "playing" | "ended" => self.waiting = false,
            "play" => out.extend(play(&mut self.requested, &mut self.paused)),
            "pause" => {
                self.waiting = false;
                out.extend(pause(self.requested, &mut self.paused, state.ended));
            }
            "seeking" => {
                self.waiting = false;
                if self.stalled {
                    self.stalled = false;
                    out.push(EventKind::Rebufferend);
                }
                let from = self.seek.map_or(self.position, |seek| seek.from);
                let at_ms = self.seek.map_or(now_ms, |seek| seek.at_ms);
                self.seek = Some(ElementSeek {
                    from,
                    to: state.current_time,
                    at_ms,
                });
            }
            _ => {}
        }
        if !self.started
            && !state.paused
            && !state.seeking
            && !self.waiting
            && state.ready_state >= 3
        {
            self.started = true;
            out.push(EventKind::Firstframe);
        }
        let resumed = if state.paused {
            state.ready_state >= 2
        } else {
            state.ready_state >= 3 && !self.waiting
        };
        if let Some(seek) = self.seek
            && !state.seeking
            && resumed
        {
            self.seek = None;
            out.push(EventKind::Seek {
                from: seek.from,
                to: seek.to,
                latency_ms: (now_ms - seek.at_ms).max(0.0),
            });
        }
        let stalled =
            self.started && self.waiting && !state.paused && !state.seeking && self.seek.is_none();
        if stalled != self.stalled {
            self.stalled = stalled;
            out.push(if stalled {
                EventKind::Rebufferstart
            } else {
                EventKind::Rebufferend
            });
        }
        if state.ended && !self.ended {
            self.paused = true;
            out.push(EventKind::Ended);
        }
        self.ended = state.ended;
        if !state.seeking && self.seek.is_none() {
            self.position = state.current_time;
        }
    }

    /// Level `to` (bitrate, height) is on screen, as hls.js's `LEVEL_SWITCHED` says;
    /// `manual`: the application pinned it. hls.js gives no reason, so one is inferred:
    /// `startup` for the first, `manual`, else `throughput-up` or `throughput-down` by
    /// the bitrate (hls.js's ABR follows throughput).
    pub fn level_switched(
        &mut self,
        to: u32,
        bitrate: u64,
        height: Option<u32>,
        manual: bool,
    ) -> Option<EventKind> {
        let from = self.level;
        if from.is_some_and(|(level, _)| level == to) {
            return None;
        }
        self.level = Some((to, bitrate));
        let reason = match from {
            None => SwitchReason::Startup,
            _ if manual => SwitchReason::Manual,
            Some((_, previous)) if bitrate > previous => SwitchReason::ThroughputUp,
            Some(_) => SwitchReason::ThroughputDown,
        };
        Some(EventKind::Levelswitch {
            from: from.map(|(level, _)| level),
            to,
            bitrate,
            height,
            reason,
        })
    }

    /// Bitrate of the level on screen, when known.
    pub fn bitrate(&self) -> Option<u64> {
        self.level.map(|(_, bitrate)| bitrate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ErrorKind, LevelSummary};
    use crate::qoe::view_metrics;
    use protocol::Event as Beacon;

    const T0: f64 = 1_764_000_000_000.0;

    fn level(index: usize, bitrate: u64, height: u64) -> LevelSummary {
        LevelSummary {
            index,
            bitrate,
            average_bitrate: None,
            width: None,
            height: Some(height),
            frame_rate: None,
            codecs: vec![],
            url: String::new(),
        }
    }

    /// A state; `rs` the ready state.
    fn st(t: f64, paused: bool, seeking: bool, ended: bool, rs: u8) -> ElementState {
        ElementState {
            current_time: t,
            paused,
            seeking,
            ended,
            ready_state: rs,
        }
    }

    #[test]
    fn engine_events_map_to_beacon_events() {
        let mut tracker = PlayerTracker::default();
        assert_eq!(
            tracker.engine_event(&Event::ManifestLoaded {
                levels: vec![level(0, 300_000, 240), level(1, 1_600_000, 360)],
                live: false,
            }),
            None
        );
        assert_eq!(tracker.play(), Some(EventKind::Playrequest));
        assert_eq!(tracker.play(), None, "already playing");
        assert_eq!(
            tracker.engine_event(&Event::FirstFrame { startup_time: 0.4 }),
            Some(EventKind::Firstframe)
        );
        assert_eq!(
            tracker.engine_event(&Event::LevelSwitched {
                from: None,
                to: 0,
                reason: SwitchReason::Startup
            }),
            Some(EventKind::Levelswitch {
                from: None,
                to: 0,
                bitrate: 300_000,
                height: Some(240),
                reason: SwitchReason::Startup
            })
        );
        assert_eq!(tracker.bitrate(), Some(300_000));
        assert_eq!(
            tracker.engine_event(&Event::LevelSwitched {
                from: Some(0),
                to: 1,
                reason: SwitchReason::ThroughputUp
            }),
            Some(EventKind::Levelswitch {
                from: Some(0),
                to: 1,
                bitrate: 1_600_000,
                height: Some(360),
                reason: SwitchReason::ThroughputUp
            })
        );
        assert_eq!(
            tracker.engine_event(&Event::BufferStalled { position: 3.0 }),
            Some(EventKind::Rebufferstart)
        );
        assert_eq!(
            tracker.engine_event(&Event::BufferStallEnded {
                position: 3.0,
                duration: 1.0
            }),
            Some(EventKind::Rebufferend)
        );
        tracker.seek(4.0);
        assert_eq!(
            tracker.engine_event(&Event::Seeked {
                position: 12.0,
                latency: 0.25
            }),
            Some(EventKind::Seek {
                from: 4.0,
                to: 12.0,
                latency_ms: 250.0
            })
        );
        assert_eq!(tracker.pause(false), Some(EventKind::Pause));
        assert_eq!(tracker.pause(false), None);
        assert_eq!(tracker.play(), Some(EventKind::Play));
        assert_eq!(
            tracker.engine_event(&Event::Error {
                kind: ErrorKind::SegmentLoad,
                fatal: false,
                details: "HTTP 500".into()
            }),
            Some(EventKind::Error {
                code: "segment-load".into(),
                message: "HTTP 500".into(),
                fatal: false
            })
        );
        assert_eq!(
            tracker.pause(true),
            None,
            "the pause that comes with the end"
        );
        assert_eq!(tracker.engine_event(&Event::Ended), Some(EventKind::Ended));
        assert_eq!(
            tracker.play(),
            Some(EventKind::Play),
            "replay after the end"
        );
        assert_eq!(
            tracker.engine_event(&Event::GapJumped { from: 1.0, to: 1.2 }),
            None
        );
    }

    /// Feeds `steps` (ms after T0, event name, state) to a tracker; returns the beacons.
    fn run(steps: &[(f64, &str, ElementState)]) -> Vec<Beacon> {
        let mut tracker = ElementTracker::default();
        let mut beacons = vec![Beacon {
            t: T0,
            pt: None,
            kind: EventKind::Viewstart,
        }];
        for (t, name, state) in steps {
            let mut out = Vec::new();
            tracker.observe(T0 + t, name, state, &mut out);
            beacons.extend(out.into_iter().map(|kind| Beacon {
                t: T0 + t,
                pt: Some(state.current_time),
                kind,
            }));
        }
        beacons
    }

    fn names(beacons: &[Beacon]) -> Vec<&'static str> {
        beacons.iter().map(|b| b.kind.name()).collect()
    }

    #[test]
    fn an_element_s_startup_rebuffer_and_end() {
        let beacons = run(&[
            (0.0, "loadstart", st(0.0, true, false, false, 0)),
            (5.0, "play", st(0.0, false, false, false, 0)),
            (6.0, "waiting", st(0.0, false, false, false, 0)),
            (300.0, "canplay", st(0.0, false, false, false, 3)),
            (480.0, "playing", st(0.0, false, false, false, 3)),
            (4_000.0, "timeupdate", st(3.5, false, false, false, 4)),
            (4_100.0, "waiting", st(3.6, false, false, false, 2)),
            (4_350.0, "", st(3.6, false, false, false, 2)),
            (5_100.0, "playing", st(3.6, false, false, false, 3)),
            (9_000.0, "pause", st(7.5, true, false, false, 4)),
            (10_000.0, "play", st(7.5, false, false, false, 4)),
            (12_600.0, "pause", st(10.0, true, false, true, 4)),
            (12_600.0, "ended", st(10.0, true, false, true, 4)),
        ]);
        assert_eq!(
            names(&beacons),
            [
                "viewstart",
                "playrequest",
                "firstframe",
                "rebufferstart",
                "rebufferend",
                "pause",
                "play",
                "ended"
            ]
        );
        let metrics = view_metrics(&beacons);
        assert_eq!(metrics.startup_time_ms, Some(475.0));
        assert_eq!(metrics.rebuffer_count, 1);
        assert_eq!(metrics.rebuffer_duration_s, 1.0);
    }

    #[test]
    fn waiting_during_a_seek_is_seek_latency_not_rebuffering() {
        let beacons = run(&[
            (0.0, "play", st(0.0, false, false, false, 0)),
            (400.0, "playing", st(0.0, false, false, false, 4)),
            (5_000.0, "timeupdate", st(4.6, false, false, false, 4)),
            (5_200.0, "seeking", st(40.0, false, true, false, 1)),
            (5_210.0, "waiting", st(40.0, false, true, false, 1)),
            (5_900.0, "seeked", st(40.0, false, false, false, 2)),
            (6_000.0, "", st(40.0, false, false, false, 2)),
            (6_500.0, "playing", st(40.0, false, false, false, 3)),
            (7_000.0, "timeupdate", st(40.5, false, false, false, 4)),
        ]);
        assert_eq!(
            names(&beacons),
            ["viewstart", "playrequest", "firstframe", "seek"]
        );
        assert_eq!(
            beacons[3].kind,
            EventKind::Seek {
                from: 4.6,
                to: 40.0,
                latency_ms: 1_300.0
            }
        );
        let metrics = view_metrics(&beacons);
        assert_eq!(metrics.rebuffer_count, 0);
        assert_eq!(metrics.seek_count, 1);
    }

    #[test]
    fn a_seek_ends_a_rebuffer_and_a_paused_seek_ends_on_its_frame() {
        let beacons = run(&[
            (0.0, "play", st(0.0, false, false, false, 0)),
            (400.0, "playing", st(0.0, false, false, false, 4)),
            (2_000.0, "waiting", st(1.6, false, false, false, 2)),
            (3_000.0, "seeking", st(8.0, false, true, false, 1)),
            (3_100.0, "seeked", st(8.0, false, false, false, 4)),
            (4_000.0, "pause", st(8.9, true, false, false, 4)),
            (4_100.0, "seeking", st(2.0, true, true, false, 1)),
            (4_300.0, "seeked", st(2.0, true, false, false, 2)),
        ]);
        assert_eq!(
            names(&beacons),
            [
                "viewstart",
                "playrequest",
                "firstframe",
                "rebufferstart",
                "rebufferend",
                "seek",
                "pause",
                "seek"
            ]
        );
        assert!(
            matches!(beacons[7].kind, EventKind::Seek { latency_ms, .. } if latency_ms == 200.0)
        );
        assert!(matches!(beacons[5].kind, EventKind::Seek { from, .. } if from == 1.6));
    }

    #[test]
    fn error_codes_are_the_api_s_error_kinds() {
        for kind in [
            ErrorKind::ManifestLoad,
            ErrorKind::ManifestParse,
            ErrorKind::LevelLoad,
            ErrorKind::SegmentLoad,
            ErrorKind::Media,
            ErrorKind::LiveDiscontinuity,
            ErrorKind::NoPlayableLevel,
            ErrorKind::Options,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn hls_js_level_switches_get_inferred_reasons() {
        let mut tracker = ElementTracker::default();
        assert_eq!(
            tracker.level_switched(1, 1_600_000, Some(360), false),
            Some(EventKind::Levelswitch {
                from: None,
                to: 1,
                bitrate: 1_600_000,
                height: Some(360),
                reason: SwitchReason::Startup
            })
        );
        assert_eq!(tracker.level_switched(1, 1_600_000, Some(360), false), None);
        let reason = |kind: Option<EventKind>| match kind {
            Some(EventKind::Levelswitch { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reason(tracker.level_switched(0, 300_000, None, false)),
            SwitchReason::ThroughputDown
        );
        assert_eq!(
            reason(tracker.level_switched(2, 4_000_000, None, false)),
            SwitchReason::ThroughputUp
        );
        assert_eq!(
            reason(tracker.level_switched(0, 300_000, None, true)),
            SwitchReason::Manual
        );
        assert_eq!(tracker.bitrate(), Some(300_000));
    }
}
