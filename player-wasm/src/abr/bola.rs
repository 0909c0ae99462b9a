//! BOLA-E as dash.js runs it (Spiteri et al., "From theory to practice", MMSys 2018).
//!
//! Each level has a utility `ln(bitrate / lowest bitrate) + 1`. In steady state the level
//! maximises `(V·(utility + γ) − buffer) / bitrate`, with V and γ set so the top level is
//! reached at a buffer of `max(12 s, 10 s + 2 s per level)`. BOLA-E additions:
//! * start-up picks by throughput and fills a *placeholder buffer* so BOLA does not
//!   fall to the lowest level just because the real buffer is empty;
//! * the placeholder grows with time spent not downloading, shrinks instead of pausing,
//!   and is dropped on a stall;
//! * BOLA-O: never climb above both the last level and what throughput sustains;
//! * above the buffer where the chosen level stops being optimal, ask to pause rather
//!   than overfill the buffer with low-quality segments;
//! * dash.js's insufficient-buffer rule caps the choice at what half the measured
//!   throughput can deliver in the time the buffer (minus one segment) lasts.

use super::{Abr, AbrContext, Decision, SwitchReason};

/// BOLA stops short of pausing below this buffer (seconds).
const MINIMUM_BUFFER_S: f64 = 10.0;
/// Extra target buffer per level (seconds).
const MINIMUM_BUFFER_PER_LEVEL_S: f64 = 2.0;
/// Target buffer of the stable regime (dash.js `stableBufferTime`).
const STABLE_BUFFER_S: f64 = 12.0;
/// Share of the throughput estimate the throughput rule may use.
const THROUGHPUT_SAFETY: f64 = 0.9;
/// Share of the throughput the insufficient-buffer rule may use.
const INSUFFICIENT_BUFFER_SAFETY: f64 = 0.5;

/// BOLA-E.
#[derive(Debug, Clone, Default)]
pub struct Bola {
    placeholder_s: f64,
    last_level: Option<usize>,
    last_decision_at: Option<f64>,
    /// Buffer seen at the last decision: if more time than this passed, playback stalled.
    last_buffer_s: f64,
    downloads_seen: usize,
}

struct Parameters {
    utilities: Vec<f64>,
    gp: f64,
    vp: f64,
}

impl Parameters {
    fn new(ctx: &AbrContext<'_>) -> Option<Self> {
        let lowest = ctx.levels.first()?.bitrate_bps.max(1.0);
        let utilities: Vec<f64> = ctx
            .levels
            .iter()
            .map(|level| (level.bitrate_bps.max(1.0) / lowest).ln() + 1.0)
            .collect();
        let highest = utilities.iter().copied().fold(f64::MIN, f64::max);
        if highest <= 1.0 {
            return None;
        }
        let buffer_target = STABLE_BUFFER_S
            .max(MINIMUM_BUFFER_S + MINIMUM_BUFFER_PER_LEVEL_S * ctx.levels.len() as f64);
        let gp = (highest - 1.0) / (buffer_target / MINIMUM_BUFFER_S - 1.0);
        let vp = MINIMUM_BUFFER_S / gp;
        Some(Parameters { utilities, gp, vp })
    }

    fn level_for_buffer(&self, ctx: &AbrContext<'_>, buffer: f64) -> usize {
        let mut best = 0;
        let mut best_score = f64::NEG_INFINITY;
        for level in 0..=ctx.top() {
            let score = (self.vp * (self.utilities[level] + self.gp) - buffer)
                / ctx.levels[level].bitrate_bps;
            if score >= best_score {
                best_score = score;
                best = level;
            }
        }
        best
    }

    /// Buffer below which `level` is never chosen over a lower one.
    fn min_buffer_for(&self, ctx: &AbrContext<'_>, level: usize) -> f64 {
        let rate = ctx.levels[level].bitrate_bps;
        let utility = self.utilities[level];
        (0..level)
            .filter(|&lower| self.utilities[lower] < utility)
            .map(|lower| {
                let lower_rate = ctx.levels[lower].bitrate_bps;
                let lower_utility = self.utilities[lower];
                self.vp
                    * (self.gp
                        + (rate * lower_utility - lower_rate * utility) / (rate - lower_rate))
            })
            .fold(0.0, f64::max)
    }

    /// Buffer above which `level` stops being BOLA's choice.
    fn max_buffer_for(&self, level: usize) -> f64 {
        self.vp * (self.utilities[level] + self.gp)
    }
}

impl Bola {
    fn throughput_level(ctx: &AbrContext<'_>) -> usize {
        ctx.level_for_bitrate(ctx.estimator.estimate_bps() * THROUGHPUT_SAFETY)
    }

    /// dash.js's insufficient-buffer rule: the highest level half the throughput can
    /// fetch while the buffer, less one segment, lasts.
    fn insufficient_buffer_level(ctx: &AbrContext<'_>) -> usize {
        let duration = ctx.segment_duration(0).max(0.1);
        let usable = (ctx.buffer_s - duration).max(0.0);
        let bitrate = ctx.estimator.estimate_bps() * INSUFFICIENT_BUFFER_SAFETY * usable / duration;
        ctx.level_for_bitrate(bitrate)
    }

    /// Grows the placeholder by the time since the last decision not spent downloading.
    fn grow_placeholder(&mut self, ctx: &AbrContext<'_>) {
        if let Some(previous) = self.last_decision_at {
            let downloading: f64 = ctx.history[self.downloads_seen.min(ctx.history.len())..]
                .iter()
                .map(|record| record.finished_at - record.requested_at.max(previous))
                .filter(|seconds| *seconds > 0.0)
                .sum();
            let idle = (ctx.now - previous - downloading).max(0.0);
            self.placeholder_s += idle;
        }
        self.downloads_seen = ctx.history.len();
        self.last_decision_at = Some(ctx.now);
    }
}

impl Abr for Bola {
    fn name(&self) -> &'static str {
        "bola"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let Some(parameters) = Parameters::new(ctx) else {
            return Decision::now(0, SwitchReason::Hold);
        };
        let startup = self.last_level.is_none() || !ctx.estimator.has_samples();
        if startup {
            let level = Self::throughput_level(ctx);
            self.placeholder_s = (parameters.min_buffer_for(ctx, level) - ctx.buffer_s).max(0.0);
            self.last_level = Some(level);
            self.last_decision_at = Some(ctx.now);
            self.last_buffer_s = ctx.buffer_s;
            self.downloads_seen = ctx.history.len();
            return Decision::now(level, SwitchReason::Startup);
        }
        let stalled = self
            .last_decision_at
            .is_some_and(|at| ctx.now - at > self.last_buffer_s + 1e-6);
        self.grow_placeholder(ctx);
        if stalled || ctx.buffer_s <= 0.0 {
            // A stall: the placeholder was too optimistic.
            self.placeholder_s = 0.0;
        }
        self.last_buffer_s = ctx.buffer_s;
        let last = self.last_level.unwrap_or(0).min(ctx.top());
        let effective = ctx.buffer_s + self.placeholder_s;
        let mut level = parameters.level_for_buffer(ctx, effective);
        let mut reason = if level > last {
            SwitchReason::BufferHigh
        } else if level < last {
            SwitchReason::BufferLow
        } else {
            SwitchReason::Hold
        };
        let sustainable = Self::throughput_level(ctx);
        if level > last && level > sustainable {
            level = sustainable.max(last);
            reason = if level > last {
                SwitchReason::ThroughputUp
            } else {
                SwitchReason::Hold
            };
        }
        let insufficient = Self::insufficient_buffer_level(ctx);
        if level > insufficient {
            level = insufficient;
            reason = SwitchReason::BufferLow;
        }
        let mut delay = (effective - parameters.max_buffer_for(level)).max(0.0);
        if delay <= self.placeholder_s {
            self.placeholder_s -= delay;
            delay = 0.0;
        } else {
            delay -= self.placeholder_s;
            self.placeholder_s = 0.0;
            if level >= ctx.top() {
                delay = 0.0;
            }
        }
        self.last_level = Some(level);
        Decision {
            level,
            reason,
            delay_s: delay,
        }
    }

    fn reset(&mut self) {
        *self = Bola::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abr::fixture::Fixture;

    #[test]
    fn level_grows_with_the_buffer_in_steady_state() {
        let mut fixture = Fixture::pensieve(40);
        fixture.downloaded(0, 20e6).downloaded(0, 20e6);
        let mut bola = Bola::default();
        fixture.buffer_s = 4.0;
        bola.choose(&fixture.ctx());
        let mut previous = 0;
        for buffer in [6.0, 10.0, 14.0, 18.0, 22.0, 26.0] {
            fixture.now += 4.0;
            fixture.buffer_s = buffer;
            let level = bola.choose(&fixture.ctx()).level;
            assert!(level >= previous, "buffer {buffer}: {level} < {previous}");
            previous = level;
        }
        assert!(
            previous >= 4,
            "a full buffer reaches the top levels: {previous}"
        );
    }

    #[test]
    fn an_empty_buffer_caps_the_choice_and_a_stall_drops_the_placeholder() {
        let mut fixture = Fixture::pensieve(40);
        fixture.downloaded(3, 20e6).downloaded(3, 20e6);
        let mut bola = Bola::default();
        fixture.buffer_s = 20.0;
        bola.choose(&fixture.ctx());
        // Much more time passes than the buffer lasted: a stall.
        fixture.now += 60.0;
        fixture.buffer_s = 4.0;
        let decision = bola.choose(&fixture.ctx());
        assert_eq!(
            decision.level, 0,
            "with 4 s buffered nothing but the lowest fits"
        );
        assert_eq!(bola.placeholder_s, 0.0);
    }

    #[test]
    fn a_single_level_ladder_always_gets_level_zero() {
        let mut fixture = Fixture::pensieve(4);
        fixture.levels.truncate(1);
        fixture.sizes = vec![150_000.0; 4];
        fixture.max_allowed_level = 0;
        assert_eq!(Bola::default().choose(&fixture.ctx()).level, 0);
    }
}
