//! A view's events read as a timeline: the spans of its playback states and, per
//! rendition, the playing and rebuffering time spent on it.
//!
//! The reading follows [`player_wasm::qoe::metrics`] exactly (same ordering and
//! de-duplication, same states, the view ends at `viewend` or a fatal error, seek waits
//! moved out of playing, playing time before the first known rendition credited to it),
//! so a view's rendition times add up to its playing and rebuffer time. The per-view page
//! draws the spans; the rendition breakdown sums the per-rendition figures.

use protocol::{Event, EventKind};
use serde::Serialize;

/// Where the time between two events goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Idle,
    Starting,
    Playing,
    Rebuffering,
    Paused,
}

/// One span of one state, ms since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub state: State,
    pub from: f64,
    pub to: f64,
}

/// A rendition, as the beacons name it: its bitrate and, when known, its height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rendition {
    pub bitrate: u64,
    pub height: Option<u32>,
}

impl Rendition {
    /// `720p · 2500 kbps`, or `2500 kbps` without a height: unique per rendition.
    pub fn label(&self) -> String {
        let kbps = (self.bitrate as f64 / 1000.0).round() as u64;
        match self.height {
            Some(h) => format!("{h}p · {kbps} kbps"),
            None => format!("{kbps} kbps"),
        }
    }
}

/// Time on one rendition in one view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnRendition {
    pub playing_ms: f64,
    pub rebuffer_ms: f64,
    pub rebuffers: u32,
    /// Switches to it after the first frame.
    pub switches_to: u32,
}

/// A view read as a timeline.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    pub spans: Vec<Span>,
    /// In order of first appearance.
    pub renditions: Vec<(Rendition, OnRendition)>,
    /// The rendition on screen at the first frame (or the first one known).
    pub first: Option<Rendition>,
}

#[derive(Default)]
struct Walker {
    walk: Walk,
    state: Option<State>,
    since: f64,
    current: Option<usize>,
    level: Option<u32>,
    first_frame: bool,
    /// Playing and rebuffering before any rendition was known, and stalls begun then.
    unknown: OnRendition,
    stretch_start: f64,
}

impl Walker {
    fn slot(&mut self) -> &mut OnRendition {
        match self.current {
            Some(i) => &mut self.walk.renditions[i].1,
            None => &mut self.unknown,
        }
    }

    fn elapse(&mut self, ms: f64) {
        match self.state {
            Some(State::Playing) => self.slot().playing_ms += ms,
            Some(State::Rebuffering) => self.slot().rebuffer_ms += ms,
            _ => {}
        }
    }

    fn enter(&mut self, state: State, t: f64) {
        let previous = self.state.unwrap_or(State::Idle);
        if previous == state {
            return;
        }
        if previous != State::Idle && t > self.since {
            self.walk.spans.push(Span {
                state: previous,
                from: self.since,
                to: t,
            });
        }
        self.state = Some(state);
        self.since = t;
        if state == State::Playing {
            self.stretch_start = t;
        }
    }

    fn set_rendition(&mut self, t: f64, rendition: Rendition) {
        let index = match self
            .walk
            .renditions
            .iter()
            .position(|(r, _)| *r == rendition)
        {
            Some(i) => i,
            None => {
                self.walk
                    .renditions
                    .push((rendition, OnRendition::default()));
                self.walk.renditions.len() - 1
            }
        };
        if self.current.is_none() {
            let unknown = std::mem::take(&mut self.unknown);
            let slot = &mut self.walk.renditions[index].1;
            slot.playing_ms += unknown.playing_ms;
            slot.rebuffer_ms += unknown.rebuffer_ms;
            slot.rebuffers += unknown.rebuffers;
            self.walk.first.get_or_insert(rendition);
        }
        let changed = self
            .current
            .is_none_or(|i| self.walk.renditions[i].0.bitrate != rendition.bitrate);
        self.current = Some(index);
        if changed {
            self.stretch_start = t;
        }
    }

    /// Applies one event; false once the view is over.
    fn apply(&mut self, event: &Event) -> bool {
        let t = event.t;
        let state = self.state.unwrap_or(State::Idle);
        match &event.kind {
            EventKind::Playrequest | EventKind::Play => match state {
                State::Idle => self.enter(State::Starting, t),
                State::Paused => self.enter(State::Playing, t),
                _ => {}
            },
            EventKind::Firstframe => {
                if matches!(state, State::Idle | State::Starting) {
                    self.first_frame = true;
                    if let Some(i) = self.current {
                        self.walk.first = Some(self.walk.renditions[i].0);
                    }
                    self.enter(State::Playing, t);
                }
            }
            EventKind::Pause | EventKind::Ended => {
                if matches!(state, State::Playing | State::Rebuffering) {
                    self.enter(State::Paused, t);
                }
            }
            EventKind::Rebufferstart if state == State::Playing => {
                self.slot().rebuffers += 1;
                self.enter(State::Rebuffering, t);
            }
            EventKind::Rebufferend if state == State::Rebuffering => {
                self.enter(State::Playing, t);
            }
            EventKind::Levelswitch {
                to,
                bitrate,
                height,
                ..
            } => {
                let switched = self.first_frame && self.level.is_some_and(|l| l != *to);
                self.level = Some(*to);
                self.set_rendition(
                    t,
                    Rendition {
                        bitrate: *bitrate,
                        height: *height,
                    },
                );
                if switched {
                    self.slot().switches_to += 1;
                }
            }
            EventKind::Heartbeat {
                bitrate: Some(bitrate),
                ..
            } if self.level.is_none() => {
                let height = self.current.and_then(|i| self.walk.renditions[i].0.height);
                self.set_rendition(
                    t,
                    Rendition {
                        bitrate: *bitrate,
                        height,
                    },
                );
            }
            EventKind::Seek { latency_ms, .. } if state == State::Playing => {
                // The seek's wait was counted as playing: it is not.
                let latency = if latency_ms.is_finite() && *latency_ms > 0.0 {
                    *latency_ms
                } else {
                    0.0
                };
                let moved = latency.min(t - self.stretch_start);
                self.slot().playing_ms -= moved;
                self.stretch_start = t;
            }
            EventKind::Error { fatal: true, .. } | EventKind::Viewend => return false,
            _ => {}
        }
        true
    }
}

/// The events in time order (stable), exact copies and non-finite times left out: the
/// order [`player_wasm::qoe::view_metrics`] reads them in.
pub fn ordered(events: &[Event]) -> Vec<&Event> {
    let mut sorted: Vec<&Event> = events.iter().filter(|e| e.t.is_finite()).collect();
    sorted.sort_by(|a, b| a.t.total_cmp(&b.t));
    let mut unique: Vec<&Event> = Vec::with_capacity(sorted.len());
    for event in sorted {
        let copy = unique
            .iter()
            .rev()
            .take_while(|kept| kept.t == event.t)
            .any(|kept| *kept == event);
        if !copy {
            unique.push(event);
        }
    }
    unique
}

/// Reads a view's events (any order).
pub fn walk(events: &[Event]) -> Walk {
    let mut walker = Walker::default();
    let mut previous: Option<f64> = None;
    let mut last = None;
    for event in ordered(events) {
        if let Some(previous) = previous {
            walker.elapse(event.t - previous);
        }
        previous = Some(event.t);
        last = Some(event.t);
        if !walker.apply(event) {
            break;
        }
    }
    if let Some(t) = last {
        walker.enter(State::Idle, t);
    }
    for (_, on) in &mut walker.walk.renditions {
        on.playing_ms = on.playing_ms.max(0.0);
    }
    walker.walk
}

#[cfg(test)]
mod tests {
    use super::*;
    use player_wasm::qoe::view_metrics;
    use protocol::SwitchReason;

    const T0: f64 = 1_764_000_000_000.0;

    fn at(ms: f64, kind: EventKind) -> Event {
        Event {
            t: T0 + ms,
            pt: None,
            kind,
        }
    }

    fn switch(from: Option<u32>, to: u32, bitrate: u64, height: u32) -> EventKind {
        EventKind::Levelswitch {
            from,
            to,
            bitrate,
            height: Some(height),
            reason: SwitchReason::Startup,
        }
    }

    #[test]
    fn rendition_times_add_up_to_the_view_metrics() {
        let events = vec![
            at(0.0, EventKind::Viewstart),
            at(100.0, EventKind::Playrequest),
            at(600.0, EventKind::Firstframe),
            at(1_000.0, switch(None, 1, 1_000_000, 360)),
            at(5_600.0, EventKind::Rebufferstart),
            at(6_600.0, EventKind::Rebufferend),
            at(10_600.0, switch(Some(1), 2, 2_500_000, 720)),
            at(
                15_600.0,
                EventKind::Seek {
                    from: 10.0,
                    to: 40.0,
                    latency_ms: 400.0,
                },
            ),
            at(20_600.0, EventKind::Pause),
            at(25_600.0, EventKind::Play),
            at(27_600.0, EventKind::Rebufferstart),
            at(28_100.0, EventKind::Viewend),
            at(29_000.0, EventKind::Rebufferend),
        ];
        let m = view_metrics(&events);
        let w = walk(&events);
        let playing: f64 = w.renditions.iter().map(|(_, o)| o.playing_ms).sum();
        let rebuffer: f64 = w.renditions.iter().map(|(_, o)| o.rebuffer_ms).sum();
        let rebuffers: u32 = w.renditions.iter().map(|(_, o)| o.rebuffers).sum();
        let switches: u32 = w.renditions.iter().map(|(_, o)| o.switches_to).sum();
        assert_eq!(playing, m.playing_time_s * 1000.0);
        assert_eq!(rebuffer, m.rebuffer_duration_s * 1000.0);
        assert_eq!(rebuffers, m.rebuffer_count);
        assert_eq!(switches, m.switch_count);
        // 600→1000 unknown, credited to 360p; 1000→5600 + 6600→10600 at 360p.
        let low = &w.renditions[0];
        assert_eq!(low.0.label(), "360p · 1000 kbps");
        assert_eq!(
            (low.1.playing_ms, low.1.rebuffer_ms),
            (400.0 + 4_600.0 + 4_000.0, 1_000.0)
        );
        assert_eq!(w.first, Some(low.0));
        let states: Vec<(State, f64, f64)> = w
            .spans
            .iter()
            .map(|s| (s.state, s.from - T0, s.to - T0))
            .collect();
        assert_eq!(
            states,
            vec![
                (State::Starting, 100.0, 600.0),
                (State::Playing, 600.0, 5_600.0),
                (State::Rebuffering, 5_600.0, 6_600.0),
                (State::Playing, 6_600.0, 20_600.0),
                (State::Paused, 20_600.0, 25_600.0),
                (State::Playing, 25_600.0, 27_600.0),
                (State::Rebuffering, 27_600.0, 28_100.0),
            ]
        );
    }

    #[test]
    fn heartbeats_stand_in_for_missing_level_switches() {
        let events = vec![
            at(0.0, EventKind::Playrequest),
            at(500.0, EventKind::Firstframe),
            at(
                10_500.0,
                EventKind::Heartbeat {
                    bitrate: Some(800_000),
                    buffer_s: None,
                    bandwidth_bps: None,
                    dropped_frames: 0,
                    total_frames: 0,
                },
            ),
            at(20_500.0, EventKind::Viewend),
        ];
        let w = walk(&events);
        assert_eq!(w.renditions.len(), 1);
        assert_eq!(w.renditions[0].1.playing_ms, 20_000.0);
        assert_eq!(w.renditions[0].0.label(), "800 kbps");
        assert!(walk(&[]).spans.is_empty());
    }
}
