//! A view's metrics from its events: what it contributes to the per-minute rollups.
//!
//! The definitions are the player's own ([`player_wasm::qoe::view_metrics`]: startup
//! time, exits before video start, start and playback failures, watch, playing and
//! rebuffering time, time-weighted bitrate, switches, the experience score), so a figure
//! means the same in the SDK, in `Monitor` and in the dashboard. This module turns them
//! into the integer columns the store sums (milliseconds, bits, counts, flags), plus what
//! only the store needs (event count, first and last event, errors, ends, exits).
//!
//! Pure: the same events in any arrival order give the same summary, which is what lets
//! the store recompute a view whenever one of its batches arrives, late or out of order,
//! and replace its earlier contribution.

use player_wasm::qoe::view_metrics;
use protocol::{Event, EventKind};

/// Upper bounds (ms) of the startup-time histogram's buckets; a last bucket holds the rest.
pub const STARTUP_BUCKETS_MS: [i64; 12] = [
    250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 20000,
];

/// The integer metric columns of `views` and `rollup_minute`, in the order of
/// [`ViewSummary::counters`]. (`weight`, a real, is apart.)
pub const COUNTERS: [&str; 40] = [
    "views",
    "events",
    "attempts",
    "started",
    "startup_count",
    "startup_ms",
    "startup_upto_250ms",
    "startup_upto_500ms",
    "startup_upto_750ms",
    "startup_upto_1000ms",
    "startup_upto_1500ms",
    "startup_upto_2000ms",
    "startup_upto_3000ms",
    "startup_upto_4000ms",
    "startup_upto_6000ms",
    "startup_upto_8000ms",
    "startup_upto_12000ms",
    "startup_upto_20000ms",
    "startup_over_20000ms",
    "rebuffer_views",
    "rebuffer_count",
    "rebuffer_ms",
    "playing_ms",
    "watch_ms",
    "played_bits",
    "bitrate_ms",
    "switches",
    "errors",
    "failures",
    "vsf",
    "ebvs",
    "ended",
    "exited",
    "seeks",
    "seek_ms",
    "dropped_frames",
    "total_frames",
    "views_with_frames",
    "scored_views",
    "score_sum",
];

/// One view's metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewSummary {
    /// Time of the earliest and latest event (ms since the epoch).
    pub start_ms: i64,
    pub end_ms: i64,
    pub events: i64,
    pub attempted: bool,
    pub started: bool,
    /// Play request to first frame.
    pub startup_ms: Option<i64>,
    pub rebuffer_count: i64,
    pub rebuffer_ms: i64,
    pub playing_ms: i64,
    /// Startup, playing, seeking and rebuffering time.
    pub watch_ms: i64,
    /// Σ bitrate × playing time with that bitrate (bits).
    pub played_bits: i64,
    /// Playing time with a known bitrate.
    pub bitrate_ms: i64,
    pub switches: i64,
    pub errors: i64,
    /// A fatal error after the first frame.
    pub failed: bool,
    /// A fatal error before it.
    pub vsf: bool,
    pub ebvs: bool,
    pub ended: bool,
    pub exited: bool,
    pub seeks: i64,
    pub seek_ms: i64,
    pub dropped_frames: i64,
    pub total_frames: i64,
    /// The viewer experience score, 0–100, when the view has one.
    pub score: Option<f64>,
}

fn ms(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

impl ViewSummary {
    /// Summarises a view's events (in any order). `None` for no events.
    pub fn of(events: &[Event]) -> Option<ViewSummary> {
        let times = events.iter().map(|e| e.t).filter(|t| t.is_finite());
        let first = times.clone().reduce(f64::min)?;
        let last = times.reduce(f64::max)?;
        let count = |pick: fn(&EventKind) -> bool| events.iter().filter(|e| pick(&e.kind)).count();
        let m = view_metrics(events);
        let played_bits = m
            .average_bitrate_bps
            .map_or(0, |bps| (bps * m.playing_time_s).round() as i64);
        Some(ViewSummary {
            start_ms: first.floor() as i64,
            end_ms: last.ceil() as i64,
            events: events.len() as i64,
            attempted: m.attempted,
            started: m.started,
            startup_ms: m.startup_time_ms.map(|t| t.round() as i64),
            rebuffer_count: i64::from(m.rebuffer_count),
            rebuffer_ms: ms(m.rebuffer_duration_s),
            playing_ms: ms(m.playing_time_s),
            watch_ms: ms(m.watch_time_s),
            played_bits,
            bitrate_ms: if m.average_bitrate_bps.is_some() {
                ms(m.playing_time_s)
            } else {
                0
            },
            switches: i64::from(m.switch_count),
            errors: count(|k| matches!(k, EventKind::Error { .. })) as i64,
            failed: m.playback_failure,
            vsf: m.video_start_failure,
            ebvs: m.exited_before_start,
            ended: count(|k| matches!(k, EventKind::Ended)) > 0,
            exited: count(|k| matches!(k, EventKind::Viewend)) > 0,
            seeks: i64::from(m.seek_count),
            seek_ms: m
                .mean_seek_latency_ms
                .map_or(0, |mean| (mean * f64::from(m.seek_count)).round() as i64),
            dropped_frames: m.dropped_frames.min(i64::MAX as u64) as i64,
            total_frames: m.total_frames.min(i64::MAX as u64) as i64,
            score: m.score.map(|s| s.overall),
        })
    }

    /// The minute (ms since the epoch) the view is counted in: the one it started in.
    pub fn minute_ms(&self) -> i64 {
        self.start_ms.div_euclid(60_000) * 60_000
    }

    /// The values of [`COUNTERS`] for this view.
    pub fn counters(&self) -> [i64; COUNTERS.len()] {
        let flag = i64::from;
        let mut buckets = [0i64; STARTUP_BUCKETS_MS.len() + 1];
        if let Some(ms) = self.startup_ms {
            let bucket = STARTUP_BUCKETS_MS
                .iter()
                .position(|&bound| ms <= bound)
                .unwrap_or(STARTUP_BUCKETS_MS.len());
            buckets[bucket] = 1;
        }
        let [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12] = buckets;
        [
            1,
            self.events,
            flag(self.attempted),
            flag(self.started),
            flag(self.startup_ms.is_some()),
            self.startup_ms.unwrap_or(0),
            b0,
            b1,
            b2,
            b3,
            b4,
            b5,
            b6,
            b7,
            b8,
            b9,
            b10,
            b11,
            b12,
            flag(self.rebuffer_count > 0),
            self.rebuffer_count,
            self.rebuffer_ms,
            self.playing_ms,
            self.watch_ms,
            self.played_bits,
            self.bitrate_ms,
            self.switches,
            self.errors,
            flag(self.failed),
            flag(self.vsf),
            flag(self.ebvs),
            flag(self.ended),
            flag(self.exited),
            self.seeks,
            self.seek_ms,
            self.dropped_frames,
            self.total_frames,
            flag(self.total_frames > 0),
            flag(self.score.is_some()),
            self.score.map_or(0, |s| (s * 1000.0).round() as i64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::SwitchReason;

    const T0: f64 = 1_764_000_000_000.0;

    fn at(ms: f64, kind: EventKind) -> Event {
        Event {
            t: T0 + ms,
            pt: None,
            kind,
        }
    }

    fn switch(from: Option<u32>, to: u32, bitrate: u64) -> EventKind {
        EventKind::Levelswitch {
            from,
            to,
            bitrate,
            height: None,
            reason: SwitchReason::Startup,
        }
    }

    fn fatal() -> EventKind {
        EventKind::Error {
            code: "x".into(),
            message: "y".into(),
            fatal: true,
        }
    }

    #[test]
    fn a_view_with_a_rebuffer_and_a_pause() {
        let events = vec![
            at(0.0, EventKind::Viewstart),
            at(100.0, EventKind::Playrequest),
            at(200.0, switch(None, 1, 1_000_000)),
            at(600.0, EventKind::Firstframe),
            at(2_600.0, EventKind::Rebufferstart),
            at(3_100.0, EventKind::Rebufferend),
            at(4_100.0, switch(Some(1), 2, 2_000_000)),
            at(5_100.0, EventKind::Pause),
            at(9_100.0, EventKind::Play),
            at(10_100.0, EventKind::Viewend),
        ];
        let s = ViewSummary::of(&events).unwrap();
        assert_eq!(s.startup_ms, Some(500));
        assert!(s.started && s.attempted && s.exited && !s.ebvs && !s.failed);
        assert_eq!((s.rebuffer_count, s.rebuffer_ms), (1, 500));
        // 600→2600, 3100→5100, 9100→10100
        assert_eq!(s.playing_ms, 2_000 + 2_000 + 1_000);
        assert_eq!(s.played_bits, 2_000_000 + 1_000_000 + 2_000_000 + 2_000_000);
        assert_eq!(s.bitrate_ms, s.playing_ms);
        assert_eq!(s.switches, 1);
        // Startup, playing and rebuffering; not the pause.
        assert_eq!(s.watch_ms, 500 + 5_000 + 500);
        assert_eq!(
            s.counters()[COUNTERS
                .iter()
                .position(|c| *c == "startup_upto_500ms")
                .unwrap()],
            1
        );
    }

    #[test]
    fn order_of_arrival_does_not_matter() {
        let mut events = vec![
            at(0.0, EventKind::Viewstart),
            at(10.0, EventKind::Playrequest),
            at(900.0, EventKind::Firstframe),
            at(1_900.0, EventKind::Rebufferstart),
            at(2_900.0, EventKind::Viewend),
        ];
        let forward = ViewSummary::of(&events).unwrap();
        events.reverse();
        assert_eq!(ViewSummary::of(&events).unwrap(), forward);
        // A rebuffer still open when the viewer left counts until the last event.
        assert_eq!(forward.rebuffer_ms, 1_000);
    }

    #[test]
    fn start_failures_and_exits_before_start() {
        let vsf = ViewSummary::of(&[at(0.0, EventKind::Playrequest), at(50.0, fatal())]).unwrap();
        assert!(vsf.vsf && !vsf.failed && !vsf.ebvs);
        let ebvs = ViewSummary::of(&[
            at(0.0, EventKind::Playrequest),
            at(50.0, EventKind::Viewend),
        ])
        .unwrap();
        assert!(ebvs.ebvs && !ebvs.vsf && ebvs.startup_ms.is_none());
        let no_attempt =
            ViewSummary::of(&[at(0.0, EventKind::Viewstart), at(9.0, EventKind::Viewend)]).unwrap();
        assert!(!no_attempt.ebvs && !no_attempt.attempted);
        let late = ViewSummary::of(&[
            at(0.0, EventKind::Playrequest),
            at(10.0, EventKind::Firstframe),
            at(20.0, fatal()),
        ])
        .unwrap();
        assert!(late.failed && !late.vsf);
        assert_eq!(ViewSummary::of(&[]), None);
    }

    #[test]
    fn the_counters_match_the_schema() {
        let schema = include_str!("migrations/0001_init.sql");
        let table = &schema[schema.find("CREATE TABLE rollup_minute").unwrap()..];
        for column in COUNTERS {
            assert!(
                table.contains(&format!("\n    {column} ")),
                "{column} is not a column of rollup_minute"
            );
        }
    }
}
