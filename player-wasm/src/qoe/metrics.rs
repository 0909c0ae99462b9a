//! Metric definitions: what one view's beacon events mean, in the figures video analysts
//! already know, and how many views add up.
//!
//! [`view_metrics`] reads the [`Event`]s of one view (as sent to `/v1/beacons`) into a
//! [`ViewMetrics`]; [`aggregate`] and [`aggregate_sampled`] combine views into an
//! [`AggregateMetrics`]. The player's telemetry, `Monitor` and the collector all call these,
//! so a figure means the same wherever it is shown. Pure functions: no clock, no I/O, no
//! maps and no string formatting (this module ships in the browser package).
//!
//! # Reading the events
//!
//! Events are put in time order (a stable sort on `t`, so events of the same millisecond
//! keep the order they were sent in); exact copies at the same `t` (a batch delivered
//! twice) count once; events with a non-finite `t`, and everything after the first
//! `viewend` or the first fatal `error`, are ignored. Missing pieces are tolerated: a
//! `rebufferstart` without its end is closed at the last event, a `play` before anything
//! else stands for the missing `playrequest`, a heartbeat's bitrate stands in for level
//! switches that never came.
//!
//! Between two consecutive events the player is in one state, which decides where the
//! time goes:
//!
//! | state | entered by | time counts as |
//! |---|---|---|
//! | idle | (the view's start) | nothing |
//! | starting | `playrequest` | startup (watch time) |
//! | playing | `firstframe`, `play`, `rebufferend` | playing (watch time) |
//! | rebuffering | `rebufferstart` while playing | rebuffering (watch time) |
//! | paused | `pause`, `ended` | nothing |
//!
//! A `seek` completes a seek that took `latency_ms`: when it happened while playing, that
//! much of the time just counted as playing is moved to seeking (still watch time, never
//! rebuffering: the player was waiting because the viewer asked to jump, not because the
//! network fell behind).
//!
//! # Definitions (one view)
//!
//! Following Mux Data's published metric definitions unless stated otherwise:
//!
//! * **Video startup time**: play request to first frame (Mux "Video Startup Time", also
//!   called time to first frame). Unknown without a play request before the first frame.
//! * **Exit before video start** (EBVS): playback was requested, the view ended (`viewend`)
//!   with no first frame and no fatal error (Mux and Conviva "Exits Before Video Start").
//!   A view still open is not an exit yet.
//! * **Video start failure** (VSF): a fatal error before the first frame (Mux "Video
//!   Startup Failure", Conviva "Video Start Failure").
//! * **Playback failure**: a fatal error after the first frame (Conviva "Video Playback
//!   Failure"). Mux's "Playback Failure Percentage" counts fatal errors at any point, that
//!   is VSF plus this.
//! * **Watch time**: the time the viewer spent watching or trying to watch, from the play
//!   request to the end of the view: startup, playing, seeking and rebuffering; paused time,
//!   time after `ended` and time after a fatal error are left out (Mux "Watch Time").
//! * **Playing time**: watch time less startup, rebuffering and seeking: the time frames
//!   were actually moving (Mux "Playing Time").
//! * **Rebuffer count and duration**: stalls for lack of data after the first frame, and
//!   their total length; a pause during a stall ends it (Mux "Rebuffer Count", "Rebuffer
//!   Duration").
//! * **Rebuffer percentage**: rebuffer duration over watch time, 0–100 (Mux "Rebuffer
//!   Percentage").
//! * **Rebuffer frequency**: rebuffers per minute of watch time (Mux "Rebuffer Frequency").
//! * **Average bitrate**: the bitrate on screen weighted by the playing time spent at each
//!   (Conviva "Average Bitrate"). The level on screen comes from `levelswitch` events (a
//!   heartbeat's bitrate when there are none); playing time before the first known level is
//!   credited to it.
//! * **Switches**: changes of the level on screen after the first frame (the levels picked
//!   during startup are not switches), per minute of playing time; their size is
//!   |Δbitrate| in Mbit/s.
//! * **Dropped frames**: the counters of the last heartbeat; the percentage is dropped over
//!   decoded frames, 0–100.
//! * **Seeks**: completed seeks and their mean latency (request to playback resuming).
//! * **QoE_lin** (Pensieve, Yin et al.'s MPC): the literature's per-segment score applied
//!   to a view cut into one-second segments: `Σ bitrate_Mbps × playing_s − 4.3 ×
//!   rebuffer_s − Σ |Δbitrate_Mbps|` over switches. [`ViewMetrics::qoe_lin_per_s`]
//!   divides it by the playing seconds, so that a view without stalls or switches scores its
//!   average bitrate in Mbit/s whatever its length. Startup is not charged, as in
//!   [`super::session`].
//! * **Viewer experience score**: see [`ExperienceScore`].

use protocol::{Event, EventKind};
use serde::Serialize;

use super::linear::REBUFFER_PENALTY_PER_S;

/// Average bitrate that earns the full bitrate part of the quality score (bits per
/// second): 1080p at 4.5 Mbit/s, the top rung of the collector's default ladder.
pub const REFERENCE_BITRATE_BPS: f64 = 4_500_000.0;

/// Share of the bitrate part of the quality score lost per halving of the average bitrate
/// below [`REFERENCE_BITRATE_BPS`] (0.2: 20 points).
pub const QUALITY_LOSS_PER_HALVING: f64 = 0.2;

/// Switches per minute of playing time that halve the switching part of the quality score.
pub const SWITCHES_PER_MINUTE_HALVING: f64 = 20.0;

/// Startup seconds that halve the startup score (Mux's curve).
pub const STARTUP_HALVING_S: f64 = 8.0;

/// An exit before video start after less waiting than this (seconds) is taken as an
/// accidental or programmatic play and gets no score (Mux does the same).
pub const MIN_SCORED_EXIT_S: f64 = 1.0;

/// Lowest sample rate honoured when weighting views (a weight of at most one million).
pub const MIN_SAMPLE_RATE: f64 = 1e-6;

/// What one view's viewer experienced. Times in seconds unless named `_ms`; percentages
/// 0–100. `None` where a figure is undefined for the view (never zero in disguise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ViewMetrics {
    /// Playback was attempted: a play request, a first frame or a fatal error.
    pub attempted: bool,
    /// The first frame was shown.
    pub started: bool,
    /// Play request to first frame, milliseconds.
    pub startup_time_ms: Option<f64>,
    /// Requested, then the view ended with no first frame and no fatal error.
    pub exited_before_start: bool,
    /// A fatal error before the first frame.
    pub video_start_failure: bool,
    /// A fatal error after the first frame.
    pub playback_failure: bool,
    /// Startup + playing + seeking + rebuffering.
    pub watch_time_s: f64,
    /// Time frames were moving.
    pub playing_time_s: f64,
    /// Time spent completing seeks made while playing.
    pub seeking_time_s: f64,
    pub rebuffer_count: u32,
    pub rebuffer_duration_s: f64,
    /// Rebuffer duration over watch time.
    pub rebuffer_percentage: f64,
    /// Rebuffers per minute of watch time.
    pub rebuffer_frequency: f64,
    pub seek_count: u32,
    pub mean_seek_latency_ms: Option<f64>,
    /// Bitrate on screen weighted by playing time, bits per second.
    pub average_bitrate_bps: Option<f64>,
    pub switch_count: u32,
    /// Switches per minute of playing time.
    pub switches_per_minute: f64,
    /// Σ |Δbitrate| over switches, Mbit/s.
    pub switch_magnitude_mbps: f64,
    pub dropped_frames: u64,
    pub total_frames: u64,
    /// Dropped over decoded frames.
    pub dropped_frame_percentage: f64,
    /// QoE_lin of the view in one-second segments.
    pub qoe_lin: f64,
    /// [`Self::qoe_lin`] per second of playing time.
    pub qoe_lin_per_s: f64,
    /// `None` when nothing was attempted, when the outcome is not known yet (requested,
    /// not started, still open), or for an exit after less than [`MIN_SCORED_EXIT_S`].
    pub score: Option<ExperienceScore>,
}

/// The viewer experience score of one view, 0–100, and the four parts it is made of
/// (after Mux Data's Viewer Experience Scores; each part 0–100, 100 when not measured).
///
/// `overall = playback_success × startup × smoothness × quality / 100³`: a product, so
/// that one bad part cannot be made up for by the others, and a failure scores 0.
///
/// * `playback_success`: 100 when the video played without a fatal error, 50 for an exit
///   before video start (some exits are the viewer changing their mind), 0 for a start or
///   playback failure (Mux's Playback Success Score).
/// * `startup`: `100 × 8 / (8 + startup_s)`: 95 at 0.4 s, 80 at 2 s, 50 at 8 s (Mux's
///   Startup Time Score).
/// * `smoothness`: the mean of `100 / √(1 + (rebuffer_count / 2)²)` and
///   `100 × e^(−10 × rebuffer_fraction)`: one short stall costs little, several cost much,
///   and time spent stalled weighs by its share of watch time (Mux's Smoothness Score).
/// * `quality`: `100 × b × s` with `b = clamp(1 + 0.2 × log2(average_bitrate /
///   4.5 Mbit/s), 0, 1)`, 20 points per halving of the bitrate below the reference (0 at
///   1/32 of it), and `s = 20 / (20 + switches_per_minute)`. Mux scores quality by
///   upscaling, which the beacons cannot see; bitrate on a log scale is the ABR
///   literature's utility (BOLA, MPC).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExperienceScore {
    pub overall: f64,
    pub playback_success: f64,
    pub startup: f64,
    pub smoothness: f64,
    pub quality: f64,
}

/// Figures over many views. Each view counts `1 / sample_rate` times; ratios are ratios
/// of totals (total rebuffering over total watch time), not means of per-view ratios, so
/// that a long view weighs by its length as in Mux's aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AggregateMetrics {
    /// Views, weighted.
    pub views: f64,
    /// Views that attempted playback (the denominator of the failure and exit rates:
    /// Mux only creates a view on a play attempt).
    pub attempts: f64,
    /// Nearest-rank percentiles of startup time over views with one: the smallest startup
    /// time such that views weighing at least p % of the total have it or less.
    pub startup_time_p50_ms: Option<f64>,
    pub startup_time_p95_ms: Option<f64>,
    /// Of attempts, 0–100.
    pub exits_before_start_percentage: f64,
    pub video_start_failure_percentage: f64,
    pub playback_failure_percentage: f64,
    pub watch_time_s: f64,
    pub playing_time_s: f64,
    /// Total rebuffering over total watch time, 0–100.
    pub rebuffer_percentage: f64,
    /// Total rebuffers per minute of total watch time.
    pub rebuffer_frequency: f64,
    /// Weighted by playing time, over views with a known bitrate.
    pub average_bitrate_bps: Option<f64>,
    /// Total switches per minute of total playing time.
    pub switches_per_minute: f64,
    /// Mean overall experience score of the views that have one.
    pub score: Option<f64>,
}

/// The metrics of one view from its events, in any order, possibly duplicated.
pub fn view_metrics(events: &[Event]) -> ViewMetrics {
    let mut view = Tally::default();
    let mut previous: Option<f64> = None;
    for event in ordered(events) {
        if let Some(previous) = previous {
            view.elapse(event.t - previous);
        }
        previous = Some(event.t);
        if !view.apply(event) {
            break;
        }
    }
    view.finish()
}

/// Aggregates views that were all reported (sample rate 1).
pub fn aggregate(views: &[ViewMetrics]) -> AggregateMetrics {
    aggregate_sampled(views.iter().map(|view| (view, 1.0)))
}

/// Aggregates views paired with the sample rate they were reported at (`View.sample_rate`):
/// each counts `1 / rate` times. Rates above 1, not above 0 or not a number count as 1;
/// rates below [`MIN_SAMPLE_RATE`] count as it.
pub fn aggregate_sampled<'a>(
    views: impl IntoIterator<Item = (&'a ViewMetrics, f64)>,
) -> AggregateMetrics {
    let mut total = AggregateMetrics {
        views: 0.0,
        attempts: 0.0,
        startup_time_p50_ms: None,
        startup_time_p95_ms: None,
        exits_before_start_percentage: 0.0,
        video_start_failure_percentage: 0.0,
        playback_failure_percentage: 0.0,
        watch_time_s: 0.0,
        playing_time_s: 0.0,
        rebuffer_percentage: 0.0,
        rebuffer_frequency: 0.0,
        average_bitrate_bps: None,
        switches_per_minute: 0.0,
        score: None,
    };
    let (mut exits, mut start_failures, mut playback_failures) = (0.0, 0.0, 0.0);
    let (mut rebuffer_s, mut rebuffers, mut switches) = (0.0, 0.0, 0.0);
    let (mut bitrate_s, mut bitrate_playing_s) = (0.0, 0.0);
    let (mut score_sum, mut scored) = (0.0, 0.0);
    let mut startups: Vec<(f64, f64)> = Vec::new();
    for (view, rate) in views {
        let weight = if rate > 0.0 {
            1.0 / rate.clamp(MIN_SAMPLE_RATE, 1.0)
        } else {
            1.0
        };
        let count = |flag: bool| if flag { weight } else { 0.0 };
        total.views += weight;
        total.attempts += count(view.attempted);
        exits += count(view.exited_before_start);
        start_failures += count(view.video_start_failure);
        playback_failures += count(view.playback_failure);
        total.watch_time_s += weight * view.watch_time_s;
        total.playing_time_s += weight * view.playing_time_s;
        rebuffer_s += weight * view.rebuffer_duration_s;
        rebuffers += weight * f64::from(view.rebuffer_count);
        switches += weight * f64::from(view.switch_count);
        if let Some(bitrate) = view.average_bitrate_bps {
            bitrate_s += weight * bitrate * view.playing_time_s;
            bitrate_playing_s += weight * view.playing_time_s;
        }
        if let Some(startup) = view.startup_time_ms {
            startups.push((startup, weight));
        }
        if let Some(score) = view.score {
            score_sum += weight * score.overall;
            scored += weight;
        }
    }
    startups.sort_by(|a, b| a.0.total_cmp(&b.0));
    let startup_weight: f64 = startups.iter().map(|&(_, weight)| weight).sum();
    total.startup_time_p50_ms = percentile(&startups, startup_weight, 50.0);
    total.startup_time_p95_ms = percentile(&startups, startup_weight, 95.0);
    total.exits_before_start_percentage = percent(exits, total.attempts);
    total.video_start_failure_percentage = percent(start_failures, total.attempts);
    total.playback_failure_percentage = percent(playback_failures, total.attempts);
    total.rebuffer_percentage = percent(rebuffer_s, total.watch_time_s);
    total.rebuffer_frequency = ratio(rebuffers, total.watch_time_s / 60.0);
    total.average_bitrate_bps = (bitrate_playing_s > 0.0).then(|| bitrate_s / bitrate_playing_s);
    total.switches_per_minute = ratio(switches, total.playing_time_s / 60.0);
    // A weighted mean of values in 0..=100; rounding must not take it past either end.
    total.score = (scored > 0.0).then(|| (score_sum / scored).clamp(0.0, 100.0));
    total
}

/// Nearest-rank percentile `p` (0–100) of `(value, weight)` pairs sorted by value whose
/// weights add up to `total`: the first value at which the running weight reaches
/// `p / 100 × total`. With unit weights, the value of rank `⌈p / 100 × n⌉`.
fn percentile(sorted: &[(f64, f64)], total: f64, p: f64) -> Option<f64> {
    let mut running = 0.0;
    for &(value, weight) in sorted {
        running += weight;
        if running * 100.0 >= p * total {
            return Some(value);
        }
    }
    sorted.last().map(|&(value, _)| value)
}

/// `part / whole` as a percentage, 0 when `whole` is 0.
fn percent(part: f64, whole: f64) -> f64 {
    100.0 * ratio(part, whole)
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// The events in time order (stable), copies and non-finite times left out.
fn ordered(events: &[Event]) -> Vec<&Event> {
    let mut sorted: Vec<&Event> = events.iter().filter(|event| event.t.is_finite()).collect();
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

/// Where the time between two events goes (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Idle,
    Starting,
    Playing,
    Rebuffering,
    Paused,
}

/// A view being read, event by event. Durations in milliseconds (exact sums of the
/// integral millisecond times clients send), converted once at the end.
#[derive(Debug, Default)]
struct Tally {
    state: State,
    requested_at: Option<f64>,
    first_frame_at: Option<f64>,
    failed: bool,
    closed: bool,
    starting_ms: f64,
    playing_ms: f64,
    seeking_ms: f64,
    rebuffer_ms: f64,
    rebuffer_count: u32,
    seek_count: u32,
    seek_latency_ms: f64,
    /// The level on screen, from `levelswitch` events.
    level: Option<u32>,
    /// The bitrate on screen, from `levelswitch` or, failing those, heartbeats.
    bitrate: Option<f64>,
    /// Σ bitrate × playing ms at a known bitrate.
    bitrate_ms: f64,
    /// Playing ms before any bitrate was known.
    unknown_bitrate_ms: f64,
    /// Since when the player has been playing at the current bitrate, uninterrupted.
    stretch_start: f64,
    switch_count: u32,
    switch_mbps: f64,
    dropped_frames: u64,
    total_frames: u64,
}

impl Tally {
    fn elapse(&mut self, ms: f64) {
        match self.state {
            State::Starting => self.starting_ms += ms,
            State::Playing => {
                self.playing_ms += ms;
                match self.bitrate {
                    Some(bitrate) => self.bitrate_ms += bitrate * ms,
                    None => self.unknown_bitrate_ms += ms,
                }
            }
            State::Rebuffering => self.rebuffer_ms += ms,
            State::Idle | State::Paused => {}
        }
    }

    /// Applies one event at its time; false once the view is over.
    fn apply(&mut self, event: &Event) -> bool {
        let t = event.t;
        match &event.kind {
            EventKind::Playrequest | EventKind::Play => match self.state {
                State::Idle => {
                    self.requested_at = Some(t);
                    self.state = State::Starting;
                }
                State::Paused => self.play(t),
                _ => {}
            },
            EventKind::Firstframe => {
                if matches!(self.state, State::Idle | State::Starting) {
                    self.first_frame_at = Some(t);
                    self.play(t);
                }
            }
            EventKind::Pause | EventKind::Ended => {
                if matches!(self.state, State::Playing | State::Rebuffering) {
                    self.state = State::Paused;
                }
            }
            EventKind::Rebufferstart => {
                if self.state == State::Playing {
                    self.state = State::Rebuffering;
                    self.rebuffer_count += 1;
                }
            }
            EventKind::Rebufferend => {
                if self.state == State::Rebuffering {
                    self.play(t);
                }
            }
            EventKind::Levelswitch { to, bitrate, .. } => {
                let bitrate = *bitrate as f64;
                if self.first_frame_at.is_some() && self.level.is_some_and(|level| level != *to) {
                    self.switch_count += 1;
                    self.switch_mbps += (bitrate - self.bitrate.unwrap_or(bitrate)).abs() / 1e6;
                }
                self.level = Some(*to);
                self.set_bitrate(t, bitrate);
            }
            EventKind::Heartbeat {
                bitrate,
                dropped_frames,
                total_frames,
                ..
            } => {
                if let (None, Some(bitrate)) = (self.level, bitrate) {
                    self.set_bitrate(t, *bitrate as f64);
                }
                self.dropped_frames = *dropped_frames;
                self.total_frames = *total_frames;
            }
            EventKind::Seek { latency_ms, .. } => {
                let latency = if *latency_ms > 0.0 && latency_ms.is_finite() {
                    *latency_ms
                } else {
                    0.0
                };
                self.seek_count += 1;
                self.seek_latency_ms += latency;
                if self.state == State::Playing {
                    // The seek's wait was counted as playing: move it to seeking.
                    let moved = latency.min(t - self.stretch_start);
                    self.playing_ms -= moved;
                    self.seeking_ms += moved;
                    match self.bitrate {
                        Some(bitrate) => self.bitrate_ms -= bitrate * moved,
                        None => self.unknown_bitrate_ms -= moved,
                    }
                    self.stretch_start = t;
                }
            }
            EventKind::Error { fatal: true, .. } => {
                self.failed = true;
                return false;
            }
            EventKind::Viewend => {
                self.closed = true;
                return false;
            }
            EventKind::Error { fatal: false, .. } | EventKind::Viewstart => {}
        }
        true
    }

    fn play(&mut self, t: f64) {
        self.state = State::Playing;
        self.stretch_start = t;
    }

    fn set_bitrate(&mut self, t: f64, bitrate: f64) {
        if self.bitrate.is_none() {
            // Playing time before the first known level is credited to it.
            self.bitrate_ms += bitrate * self.unknown_bitrate_ms;
            self.unknown_bitrate_ms = 0.0;
        }
        if self.bitrate != Some(bitrate) {
            self.bitrate = Some(bitrate);
            self.stretch_start = t;
        }
    }

    fn finish(self) -> ViewMetrics {
        let started = self.first_frame_at.is_some();
        let playing_ms = self.playing_ms.max(0.0);
        let watch_ms = self.starting_ms + playing_ms + self.seeking_ms + self.rebuffer_ms;
        let average_bitrate_bps = match self.bitrate {
            Some(_) if playing_ms > 0.0 => Some((self.bitrate_ms / playing_ms).max(0.0)),
            _ => None,
        };
        let qoe_lin = self.bitrate_ms.max(0.0) / 1e9
            - REBUFFER_PENALTY_PER_S * self.rebuffer_ms / 1e3
            - self.switch_mbps;
        let mut view = ViewMetrics {
            attempted: self.requested_at.is_some() || started || self.failed,
            started,
            startup_time_ms: self
                .requested_at
                .zip(self.first_frame_at)
                .map(|(r, f)| f - r),
            exited_before_start: self.requested_at.is_some()
                && !started
                && !self.failed
                && self.closed,
            video_start_failure: self.failed && !started,
            playback_failure: self.failed && started,
            watch_time_s: watch_ms / 1e3,
            playing_time_s: playing_ms / 1e3,
            seeking_time_s: self.seeking_ms / 1e3,
            rebuffer_count: self.rebuffer_count,
            rebuffer_duration_s: self.rebuffer_ms / 1e3,
            rebuffer_percentage: percent(self.rebuffer_ms, watch_ms),
            rebuffer_frequency: ratio(f64::from(self.rebuffer_count), watch_ms / 60e3),
            seek_count: self.seek_count,
            mean_seek_latency_ms: (self.seek_count > 0)
                .then(|| self.seek_latency_ms / f64::from(self.seek_count)),
            average_bitrate_bps,
            switch_count: self.switch_count,
            switches_per_minute: ratio(f64::from(self.switch_count), playing_ms / 60e3),
            switch_magnitude_mbps: self.switch_mbps,
            dropped_frames: self.dropped_frames,
            total_frames: self.total_frames,
            dropped_frame_percentage: percent(
                self.dropped_frames.min(self.total_frames) as f64,
                self.total_frames as f64,
            ),
            qoe_lin,
            qoe_lin_per_s: ratio(qoe_lin, playing_ms / 1e3),
            score: None,
        };
        view.score = experience_score(&view);
        view
    }
}

/// The [`ExperienceScore`] of a view, `None` when it has none.
fn experience_score(view: &ViewMetrics) -> Option<ExperienceScore> {
    let playback_success = if view.video_start_failure || view.playback_failure {
        0.0
    } else if view.started {
        100.0
    } else if view.exited_before_start && view.watch_time_s >= MIN_SCORED_EXIT_S {
        50.0
    } else {
        return None;
    };
    let startup = view.startup_time_ms.map_or(100.0, |ms| {
        100.0 * STARTUP_HALVING_S / (STARTUP_HALVING_S + ms / 1e3)
    });
    let stalls = f64::from(view.rebuffer_count) / 2.0;
    let smoothness = 50.0 / (1.0 + stalls * stalls).sqrt()
        + 50.0 * (-10.0 * view.rebuffer_percentage / 100.0).exp();
    let bitrate = view.average_bitrate_bps.map_or(1.0, |bps| {
        (1.0 + QUALITY_LOSS_PER_HALVING * (bps / REFERENCE_BITRATE_BPS).log2()).clamp(0.0, 1.0)
    });
    let steadiness =
        SWITCHES_PER_MINUTE_HALVING / (SWITCHES_PER_MINUTE_HALVING + view.switches_per_minute);
    let quality = 100.0 * bitrate * steadiness;
    Some(ExperienceScore {
        overall: playback_success * startup * smoothness * quality / 1e6,
        playback_success,
        startup,
        smoothness,
        quality,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::SwitchReason;

    /// A realistic epoch time (ms) for the start of every hand-built view.
    const T0: f64 = 1_764_000_000_000.0;

    fn at(ms: f64, kind: EventKind) -> Event {
        Event {
            t: T0 + ms,
            pt: None,
            kind,
        }
    }

    fn level(from: Option<u32>, to: u32, bitrate: u64) -> EventKind {
        EventKind::Levelswitch {
            from,
            to,
            bitrate,
            height: None,
            reason: SwitchReason::Startup,
        }
    }

    fn heartbeat(bitrate: Option<u64>, dropped_frames: u64, total_frames: u64) -> EventKind {
        EventKind::Heartbeat {
            bitrate,
            buffer_s: None,
            bandwidth_bps: None,
            dropped_frames,
            total_frames,
        }
    }

    fn error(fatal: bool) -> EventKind {
        EventKind::Error {
            code: "network".into(),
            message: "HTTP 500".into(),
            fatal,
        }
    }

    fn seek(latency_ms: f64) -> EventKind {
        EventKind::Seek {
            from: 9.0,
            to: 120.0,
            latency_ms,
        }
    }

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    fn smoothness(count: f64, rebuffer_fraction: f64) -> f64 {
        50.0 / (1.0 + (count / 2.0).powi(2)).sqrt() + 50.0 * (-10.0 * rebuffer_fraction).exp()
    }

    fn bitrate_part(bps: f64) -> f64 {
        1.0 + 0.2 * (bps / 4.5e6).log2()
    }

    /// 0.5 s startup, one minute at 2.5 Mbit/s to the end, closed 0.4 s later.
    fn clean_view() -> Vec<Event> {
        use EventKind::*;
        vec![
            at(0.0, Viewstart),
            at(100.0, Playrequest),
            at(150.0, level(None, 2, 2_500_000)),
            at(600.0, Firstframe),
            at(10_600.0, heartbeat(Some(2_500_000), 3, 300)),
            at(60_600.0, Ended),
            at(61_000.0, Viewend),
        ]
    }

    /// 1 s startup at 1 Mbit/s, stalls of 2 s and 1 s, 57 s of playing.
    fn two_rebuffers() -> Vec<Event> {
        use EventKind::*;
        vec![
            at(0.0, Playrequest),
            at(0.0, level(None, 0, 1_000_000)),
            at(1_000.0, Firstframe),
            at(11_000.0, Rebufferstart),
            at(13_000.0, Rebufferend),
            at(31_000.0, Rebufferstart),
            at(32_000.0, Rebufferend),
            at(61_000.0, Viewend),
        ]
    }

    #[test]
    fn a_clean_view() {
        let m = view_metrics(&clean_view());
        assert!(m.attempted && m.started);
        assert!(!m.exited_before_start && !m.video_start_failure && !m.playback_failure);
        assert_eq!(m.startup_time_ms, Some(500.0));
        assert_eq!(m.playing_time_s, 60.0);
        assert_eq!(
            m.watch_time_s, 60.5,
            "startup counts, time after `ended` does not"
        );
        assert_eq!(m.seeking_time_s, 0.0);
        assert_eq!((m.rebuffer_count, m.rebuffer_duration_s), (0, 0.0));
        assert_eq!((m.rebuffer_percentage, m.rebuffer_frequency), (0.0, 0.0));
        assert_eq!(m.average_bitrate_bps, Some(2_500_000.0));
        assert_eq!((m.switch_count, m.switches_per_minute), (0, 0.0));
        assert_eq!((m.dropped_frames, m.total_frames), (3, 300));
        assert_eq!(m.dropped_frame_percentage, 1.0);
        assert_eq!((m.seek_count, m.mean_seek_latency_ms), (0, None));
        assert_eq!(m.qoe_lin, 150.0);
        assert_eq!(m.qoe_lin_per_s, 2.5);
        let score = m.score.unwrap();
        assert_eq!(score.playback_success, 100.0);
        close(score.startup, 100.0 * 8.0 / 8.5);
        assert_eq!(score.smoothness, 100.0);
        close(score.quality, 100.0 * bitrate_part(2.5e6));
        close(score.overall, 100.0 * (8.0 / 8.5) * bitrate_part(2.5e6));
    }

    #[test]
    fn a_view_with_two_rebuffers() {
        let m = view_metrics(&two_rebuffers());
        assert_eq!(m.startup_time_ms, Some(1_000.0));
        assert_eq!(m.rebuffer_count, 2);
        assert_eq!(m.rebuffer_duration_s, 3.0);
        assert_eq!(m.playing_time_s, 57.0);
        assert_eq!(m.watch_time_s, 61.0);
        close(m.rebuffer_percentage, 300.0 / 61.0);
        close(m.rebuffer_frequency, 120.0 / 61.0);
        assert_eq!(m.average_bitrate_bps, Some(1_000_000.0));
        close(m.qoe_lin, 57.0 - 4.3 * 3.0);
        close(m.qoe_lin_per_s, (57.0 - 12.9) / 57.0);
        let score = m.score.unwrap();
        close(score.smoothness, smoothness(2.0, 3.0 / 61.0));
        close(score.startup, 100.0 * 8.0 / 9.0);
        close(
            score.overall,
            (8.0 / 9.0) * smoothness(2.0, 3.0 / 61.0) * bitrate_part(1e6),
        );
    }

    #[test]
    fn pauses_are_neither_rebuffering_nor_playing() {
        use EventKind::*;
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(500.0, Firstframe),
            at(10_500.0, Pause),
            at(40_500.0, Play),
            at(50_500.0, Viewend),
        ]);
        assert_eq!(m.playing_time_s, 20.0);
        assert_eq!(m.watch_time_s, 20.5);
        assert_eq!((m.rebuffer_count, m.rebuffer_duration_s), (0, 0.0));

        // A pause during a stall ends the stall; a stall cannot start while paused.
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(0.0, Firstframe),
            at(10_000.0, Rebufferstart),
            at(11_000.0, Pause),
            at(20_000.0, Rebufferstart),
            at(30_000.0, Play),
            at(40_000.0, Viewend),
        ]);
        assert_eq!((m.rebuffer_count, m.rebuffer_duration_s), (1, 1.0));
        assert_eq!(m.playing_time_s, 20.0);
        assert_eq!(m.watch_time_s, 21.0);
    }

    #[test]
    fn a_seek_that_waited_for_data_is_not_a_rebuffer() {
        use EventKind::*;
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(0.0, level(None, 1, 2_000_000)),
            at(1_000.0, Firstframe),
            at(11_000.0, seek(1_500.0)),
            at(21_000.0, Viewend),
        ]);
        assert_eq!((m.rebuffer_count, m.rebuffer_duration_s), (0, 0.0));
        assert_eq!(m.seek_count, 1);
        assert_eq!(m.mean_seek_latency_ms, Some(1_500.0));
        assert_eq!(m.seeking_time_s, 1.5);
        assert_eq!(m.playing_time_s, 18.5);
        assert_eq!(m.watch_time_s, 21.0, "seeking is watch time");
        assert_eq!(m.average_bitrate_bps, Some(2_000_000.0));
        assert_eq!(m.score.unwrap().smoothness, 100.0);

        // A seek while paused leaves playing time alone.
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(0.0, Firstframe),
            at(10_000.0, Pause),
            at(12_000.0, seek(800.0)),
            at(13_000.0, Play),
            at(23_000.0, seek(500.0)),
            at(23_000.0, Viewend),
        ]);
        assert_eq!(m.playing_time_s, 19.5);
        assert_eq!(m.seeking_time_s, 0.5);
        assert_eq!(m.watch_time_s, 20.0);
        assert_eq!(m.mean_seek_latency_ms, Some(650.0));
    }

    #[test]
    fn an_exit_before_video_start() {
        use EventKind::*;
        let m = view_metrics(&[
            at(0.0, Viewstart),
            at(0.0, Playrequest),
            at(200.0, level(None, 0, 800_000)),
            at(1_000.0, error(false)),
            at(4_000.0, Viewend),
        ]);
        assert!(m.attempted && !m.started);
        assert!(m.exited_before_start, "a non-fatal error is not a failure");
        assert!(!m.video_start_failure && !m.playback_failure);
        assert_eq!(m.startup_time_ms, None);
        assert_eq!(m.watch_time_s, 4.0);
        assert_eq!(m.playing_time_s, 0.0);
        assert_eq!(m.average_bitrate_bps, None);
        let score = m.score.unwrap();
        assert_eq!(score.playback_success, 50.0);
        assert_eq!(score.overall, 50.0);

        // Under a second of waiting: an exit, but no score.
        let m = view_metrics(&[at(0.0, Playrequest), at(500.0, Viewend)]);
        assert!(m.exited_before_start);
        assert_eq!(m.score, None);

        // Still open: not an exit (yet), no score.
        let m = view_metrics(&[at(0.0, Playrequest), at(9_000.0, heartbeat(None, 0, 0))]);
        assert!(!m.exited_before_start);
        assert_eq!(m.watch_time_s, 9.0);
        assert_eq!(m.score, None);
    }

    #[test]
    fn a_video_start_failure() {
        use EventKind::*;
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(3_000.0, error(true)),
            at(3_500.0, Viewend),
        ]);
        assert!(m.video_start_failure);
        assert!(!m.exited_before_start && !m.playback_failure && !m.started);
        assert_eq!(m.watch_time_s, 3.0);
        let score = m.score.unwrap();
        assert_eq!((score.playback_success, score.overall), (0.0, 0.0));
    }

    #[test]
    fn a_playback_failure() {
        use EventKind::*;
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(500.0, Firstframe),
            at(18_500.0, Rebufferstart),
            at(20_500.0, error(true)),
            at(20_600.0, Play),
            at(21_000.0, Viewend),
        ]);
        assert!(m.playback_failure && m.started);
        assert!(!m.video_start_failure && !m.exited_before_start);
        assert_eq!(m.playing_time_s, 18.0);
        assert_eq!(
            m.rebuffer_duration_s, 2.0,
            "the stall ends with the failure"
        );
        assert_eq!(m.watch_time_s, 20.5);
        assert_eq!(m.score.unwrap().overall, 0.0);
    }

    #[test]
    fn order_and_copies_do_not_matter() {
        use EventKind::*;
        let in_order = view_metrics(&two_rebuffers());
        let mut shuffled = two_rebuffers();
        shuffled.reverse();
        shuffled.extend(two_rebuffers().into_iter().step_by(2)); // a batch delivered twice
        shuffled.push(at(70_000.0, Rebufferstart)); // after viewend: ignored
        shuffled.swap(0, 5);
        assert_eq!(view_metrics(&shuffled), in_order);

        // Non-finite times are ignored.
        let mut odd = two_rebuffers();
        odd.push(Event {
            t: f64::NAN,
            pt: None,
            kind: Rebufferstart,
        });
        assert_eq!(view_metrics(&odd), in_order);
    }

    #[test]
    fn no_events() {
        let m = view_metrics(&[]);
        assert!(!m.attempted && !m.started && !m.exited_before_start);
        assert_eq!(m.startup_time_ms, None);
        assert_eq!(
            (m.watch_time_s, m.playing_time_s, m.qoe_lin),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(
            (m.rebuffer_percentage, m.dropped_frame_percentage),
            (0.0, 0.0)
        );
        assert_eq!(m.average_bitrate_bps, None);
        assert_eq!(m.score, None);

        // Loaded, never played.
        let m = view_metrics(&[
            at(0.0, EventKind::Viewstart),
            at(5_000.0, EventKind::Viewend),
        ]);
        assert!(!m.attempted && !m.exited_before_start);
        assert_eq!((m.watch_time_s, m.score), (0.0, None));
    }

    #[test]
    fn an_unfinished_rebuffer_is_closed_at_the_last_event() {
        use EventKind::*;
        let open = [
            at(0.0, Play), // stands for the missing play request
            at(0.0, Firstframe),
            at(10_000.0, Rebufferstart),
            at(15_000.0, heartbeat(None, 0, 0)),
        ];
        let m = view_metrics(&open);
        assert_eq!(m.startup_time_ms, Some(0.0));
        assert_eq!((m.rebuffer_count, m.rebuffer_duration_s), (1, 5.0));
        assert_eq!((m.playing_time_s, m.watch_time_s), (10.0, 15.0));

        let mut closed = open.to_vec();
        closed.push(at(17_000.0, Viewend));
        closed.push(at(18_000.0, Rebufferend));
        let m = view_metrics(&closed);
        assert_eq!((m.rebuffer_count, m.rebuffer_duration_s), (1, 7.0));
        assert_eq!(m.watch_time_s, 17.0);
    }

    #[test]
    fn level_switches_weight_the_bitrate_by_playing_time() {
        use EventKind::*;
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(0.0, level(None, 0, 1_000_000)),
            at(200.0, level(Some(0), 1, 2_000_000)), // still starting: not a switch
            at(1_000.0, Firstframe),
            at(11_000.0, level(Some(1), 2, 4_000_000)),
            at(21_000.0, level(Some(2), 0, 1_000_000)),
            at(26_000.0, Pause),
            at(36_000.0, Play),
            at(41_000.0, Viewend),
        ]);
        assert_eq!(m.playing_time_s, 30.0);
        close(m.average_bitrate_bps.unwrap(), 70e6 / 30.0);
        assert_eq!(m.switch_count, 2);
        assert_eq!(m.switches_per_minute, 4.0);
        assert_eq!(m.switch_magnitude_mbps, 5.0);
        close(m.qoe_lin, 20.0 + 40.0 + 10.0 - 5.0);
        close(m.qoe_lin_per_s, 65.0 / 30.0);
        let quality = m.score.unwrap().quality;
        close(quality, 100.0 * bitrate_part(70e6 / 30.0) * 20.0 / 24.0);

        // Without level switches, a heartbeat's bitrate counts from the first frame.
        let m = view_metrics(&[
            at(0.0, Playrequest),
            at(0.0, Firstframe),
            at(10_000.0, heartbeat(Some(3_000_000), 0, 0)),
            at(20_000.0, Viewend),
        ]);
        assert_eq!(m.average_bitrate_bps, Some(3_000_000.0));
        assert_eq!(m.switch_count, 0);
        assert_eq!(m.qoe_lin, 60.0);
    }

    fn startup_view(startup_ms: f64) -> ViewMetrics {
        view_metrics(&[
            at(0.0, EventKind::Playrequest),
            at(startup_ms, EventKind::Firstframe),
            at(startup_ms + 10_000.0, EventKind::Viewend),
        ])
    }

    #[test]
    fn startup_percentiles_are_nearest_rank() {
        let twenty: Vec<ViewMetrics> = (1..=20).map(|i| startup_view(100.0 * i as f64)).collect();
        let all = aggregate(&twenty);
        assert_eq!(all.startup_time_p50_ms, Some(1_000.0));
        assert_eq!(all.startup_time_p95_ms, Some(1_900.0));
        let ten = aggregate(&twenty[..10]);
        assert_eq!(ten.startup_time_p50_ms, Some(500.0));
        assert_eq!(ten.startup_time_p95_ms, Some(1_000.0));
        let one = aggregate(&twenty[3..4]);
        assert_eq!(one.startup_time_p50_ms, Some(400.0));
        assert_eq!(one.startup_time_p95_ms, Some(400.0));
        assert_eq!(aggregate(&[]).startup_time_p50_ms, None);

        // A view sampled at 1 in 4 stands for four.
        let (fast, slow) = (startup_view(100.0), startup_view(200.0));
        let sampled = aggregate_sampled([(&fast, 1.0), (&slow, 0.25)]);
        assert_eq!(sampled.views, 5.0);
        assert_eq!(sampled.startup_time_p50_ms, Some(200.0));
        let sampled = aggregate_sampled([(&fast, 0.25), (&slow, 1.0)]);
        assert_eq!(sampled.startup_time_p50_ms, Some(100.0));
        assert_eq!(sampled.startup_time_p95_ms, Some(200.0));
    }

    #[test]
    fn aggregates_are_ratios_of_weighted_totals() {
        use EventKind::*;
        let clean = view_metrics(&clean_view());
        let stalled = view_metrics(&two_rebuffers());
        let exit = view_metrics(&[at(0.0, Playrequest), at(4_000.0, Viewend)]);
        let failure = view_metrics(&[at(0.0, Playrequest), at(3_000.0, error(true))]);
        let idle = view_metrics(&[at(0.0, Viewstart), at(1_000.0, Viewend)]);
        let a = aggregate_sampled([
            (&clean, 1.0),
            (&stalled, 0.5),
            (&exit, 1.0),
            (&failure, 1.0),
            (&idle, f64::NAN),
        ]);
        assert_eq!(a.views, 6.0);
        assert_eq!(a.attempts, 5.0);
        assert_eq!(a.exits_before_start_percentage, 20.0);
        assert_eq!(a.video_start_failure_percentage, 20.0);
        assert_eq!(a.playback_failure_percentage, 0.0);
        let watch = 60.5 + 2.0 * 61.0 + 4.0 + 3.0;
        close(a.watch_time_s, watch);
        assert_eq!(a.playing_time_s, 60.0 + 2.0 * 57.0);
        close(a.rebuffer_percentage, 100.0 * 6.0 / watch);
        close(a.rebuffer_frequency, 4.0 / (watch / 60.0));
        close(
            a.average_bitrate_bps.unwrap(),
            (2.5e6 * 60.0 + 2.0 * 1e6 * 57.0) / 174.0,
        );
        assert_eq!(a.switches_per_minute, 0.0);
        let scores = [clean, stalled, exit, failure].map(|m| m.score.unwrap().overall);
        close(
            a.score.unwrap(),
            (scores[0] + 2.0 * scores[1] + scores[2] + scores[3]) / 5.0,
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))] // proptest is a native-only dev-dependency
mod props {
    use super::*;
    use proptest::prelude::*;
    use protocol::SwitchReason;

    fn kind() -> impl Strategy<Value = EventKind> {
        prop_oneof![
            Just(EventKind::Viewstart),
            Just(EventKind::Playrequest),
            Just(EventKind::Firstframe),
            Just(EventKind::Pause),
            Just(EventKind::Play),
            Just(EventKind::Rebufferstart),
            Just(EventKind::Rebufferend),
            Just(EventKind::Ended),
            Just(EventKind::Viewend),
            (proptest::option::of(0u32..6), 0u32..6, any::<u64>()).prop_map(
                |(from, to, bitrate)| EventKind::Levelswitch {
                    from,
                    to,
                    bitrate,
                    height: None,
                    reason: SwitchReason::Hold,
                }
            ),
            (any::<f64>(), any::<f64>(), any::<f64>()).prop_map(|(from, to, latency_ms)| {
                EventKind::Seek {
                    from,
                    to,
                    latency_ms,
                }
            }),
            any::<bool>().prop_map(|fatal| EventKind::Error {
                code: "e".into(),
                message: String::new(),
                fatal,
            }),
            (
                proptest::option::of(any::<u64>()),
                any::<u64>(),
                any::<u64>()
            )
                .prop_map(|(bitrate, dropped_frames, total_frames)| {
                    EventKind::Heartbeat {
                        bitrate,
                        buffer_s: None,
                        bandwidth_bps: None,
                        dropped_frames,
                        total_frames,
                    }
                }),
        ]
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        proptest::collection::vec((0u32..100_000, kind()), 0..60).prop_map(|events| {
            events
                .into_iter()
                .map(|(offset, kind)| Event {
                    t: protocol::beacon::MIN_TIME_MS + f64::from(offset) * 7.5,
                    pt: None,
                    kind,
                })
                .collect()
        })
    }

    fn non_negative(value: f64) -> bool {
        value.is_finite() && value >= 0.0
    }

    fn percentage(value: f64) -> bool {
        non_negative(value) && value <= 100.0
    }

    fn check_view(m: &ViewMetrics) {
        for value in [
            m.watch_time_s,
            m.playing_time_s,
            m.seeking_time_s,
            m.rebuffer_duration_s,
            m.rebuffer_frequency,
            m.switches_per_minute,
            m.switch_magnitude_mbps,
            m.startup_time_ms.unwrap_or(0.0),
            m.mean_seek_latency_ms.unwrap_or(0.0),
            m.average_bitrate_bps.unwrap_or(0.0),
        ] {
            assert!(non_negative(value), "{m:?}");
        }
        assert!(
            m.qoe_lin.is_finite() && m.qoe_lin_per_s.is_finite(),
            "{m:?}"
        );
        assert!(percentage(m.rebuffer_percentage), "{m:?}");
        assert!(percentage(m.dropped_frame_percentage), "{m:?}");
        assert!(m.rebuffer_duration_s <= m.watch_time_s, "{m:?}");
        if let Some(s) = m.score {
            for value in [
                s.overall,
                s.playback_success,
                s.startup,
                s.smoothness,
                s.quality,
            ] {
                assert!(percentage(value), "{m:?}");
            }
        }
        let outcomes = [
            m.exited_before_start,
            m.video_start_failure,
            m.playback_failure,
        ];
        assert!(outcomes.iter().filter(|&&o| o).count() <= 1, "{m:?}");
    }

    proptest! {
        #[test]
        fn random_views_give_sane_figures(
            views in proptest::collection::vec((events(), any::<f64>()), 0..6),
        ) {
            let metrics: Vec<(ViewMetrics, f64)> = views
                .iter()
                .map(|(events, rate)| (view_metrics(events), *rate))
                .collect();
            for (m, _) in &metrics {
                check_view(m);
            }
            let a = aggregate_sampled(metrics.iter().map(|(m, rate)| (m, *rate)));
            for value in [
                a.views,
                a.attempts,
                a.watch_time_s,
                a.playing_time_s,
                a.rebuffer_frequency,
                a.switches_per_minute,
                a.startup_time_p50_ms.unwrap_or(0.0),
                a.startup_time_p95_ms.unwrap_or(0.0),
                a.average_bitrate_bps.unwrap_or(0.0),
            ] {
                prop_assert!(non_negative(value), "{a:?}");
            }
            for value in [
                a.exits_before_start_percentage,
                a.video_start_failure_percentage,
                a.playback_failure_percentage,
                a.rebuffer_percentage,
                a.score.unwrap_or(0.0),
            ] {
                prop_assert!(percentage(value), "{a:?}");
            }
            prop_assert!(a.startup_time_p50_ms <= a.startup_time_p95_ms);
        }

        #[test]
        fn order_never_matters(events in events(), seed in any::<u64>()) {
            let mut shuffled = events.clone();
            // A deterministic shuffle from the seed (no rand dependency).
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            // Same-millisecond events keep their relative order only when sent in order,
            // so compare sequences whose times are distinct.
            let mut times: Vec<f64> = events.iter().map(|e| e.t).collect();
            times.sort_by(f64::total_cmp);
            times.dedup();
            prop_assume!(times.len() == events.len());
            prop_assert_eq!(view_metrics(&shuffled), view_metrics(&events));
        }
    }
}
