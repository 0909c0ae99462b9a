//! RobustMPC (Yin et al., SIGCOMM 2015), as evaluated in Pensieve.
//!
//! Throughput of each past segment is its size over the whole request time (latency
//! included). The prediction is the harmonic mean of the last five, divided by one plus
//! the largest relative prediction error of the last five decisions. The plan maximises
//! `Σ bitrate − 4.3 × rebuffer − Σ |Δbitrate|` (Mbit/s, seconds) over the next five
//! segments by exhaustive search, with the buffer growing by each segment's duration and
//! shrinking by its predicted download time; the first level of the best plan is fetched.
//! Ties go to the first plan in lexicographic order.

use super::{Abr, AbrContext, Decision, throughput_reason};

pub(crate) use crate::qoe::REBUFFER_PENALTY_PER_S as REBUFFER_PENALTY;

/// Robust model-predictive control.
#[derive(Debug, Clone)]
pub struct RobustMpc {
    /// Segments planned ahead.
    pub horizon: usize,
    /// Past throughput samples and errors considered.
    pub window: usize,
    past_estimates_bps: Vec<f64>,
    past_errors: Vec<f64>,
    samples_seen: usize,
}

impl Default for RobustMpc {
    fn default() -> Self {
        RobustMpc {
            horizon: 5,
            window: 5,
            past_estimates_bps: Vec::new(),
            past_errors: Vec::new(),
            samples_seen: 0,
        }
    }
}

impl RobustMpc {
    /// Folds new downloads into the error history and returns the discounted prediction.
    fn predict_bps(&mut self, ctx: &AbrContext<'_>) -> f64 {
        let completed: Vec<f64> = ctx
            .history
            .iter()
            .filter(|record| !record.abandoned)
            .map(|record| record.throughput_with_latency_bps())
            .collect();
        if completed.is_empty() {
            return ctx.estimator.estimate_bps();
        }
        if completed.len() > self.samples_seen {
            let latest = completed[completed.len() - 1];
            let error = match self.past_estimates_bps.last() {
                Some(estimate) => (estimate - latest).abs() / latest,
                None => 0.0,
            };
            self.past_errors.push(error);
            let recent = &completed[completed.len().saturating_sub(self.window)..];
            let harmonic = recent.len() as f64 / recent.iter().map(|bps| 1.0 / bps).sum::<f64>();
            self.past_estimates_bps.push(harmonic);
            self.samples_seen = completed.len();
        }
        let harmonic = *self.past_estimates_bps.last().unwrap_or(&0.0);
        let errors = &self.past_errors[self.past_errors.len().saturating_sub(self.window)..];
        let max_error = errors.iter().copied().fold(0.0, f64::max);
        harmonic / (1.0 + max_error)
    }
}

/// Exhaustive plan search shared by the MPC variants: the first level of the best plan
/// over `horizon` segments with throughput `bps`, buffer `buffer_s`, and previous level
/// `last`. Ties keep the earliest plan in lexicographic order.
pub(crate) fn best_first_level(
    ctx: &AbrContext<'_>,
    horizon: usize,
    bps: f64,
    last: usize,
    penalty: f64,
) -> (usize, f64) {
    struct Search<'c, 'a> {
        ctx: &'c AbrContext<'a>,
        horizon: usize,
        bps: f64,
        penalty: f64,
        top: usize,
        best_reward: f64,
        best_first: usize,
    }
    impl Search<'_, '_> {
        fn visit(&mut self, position: usize, buffer: f64, last: usize, reward: f64, first: usize) {
            if position == self.horizon {
                if reward > self.best_reward {
                    self.best_reward = reward;
                    self.best_first = first;
                }
                return;
            }
            let remaining = (self.horizon - position) as f64;
            if reward + remaining * self.ctx.mbps(self.top) <= self.best_reward {
                return;
            }
            for level in 0..=self.top {
                let download = self.ctx.segment_bytes(position, level) * 8.0 / self.bps;
                let rebuffer = (download - buffer).max(0.0);
                let next_buffer =
                    (buffer - download).max(0.0) + self.ctx.segment_duration(position);
                let gain = self.ctx.mbps(level)
                    - self.penalty * rebuffer
                    - (self.ctx.mbps(level) - self.ctx.mbps(last)).abs();
                let first = if position == 0 { level } else { first };
                self.visit(position + 1, next_buffer, level, reward + gain, first);
            }
        }
    }
    let mut search = Search {
        ctx,
        horizon,
        bps: bps.max(1.0),
        penalty,
        top: ctx.top(),
        best_reward: f64::NEG_INFINITY,
        best_first: 0,
    };
    search.visit(0, ctx.buffer_s, last.min(ctx.top()), 0.0, 0);
    (search.best_first, search.best_reward)
}

impl Abr for RobustMpc {
    fn name(&self) -> &'static str {
        "robust-mpc"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let bps = self.predict_bps(ctx);
        let horizon = match ctx.segments_remaining {
            Some(remaining) => self.horizon.min(remaining).max(1),
            None => self.horizon,
        };
        let last = ctx.last_level.unwrap_or(0);
        let (level, _) = best_first_level(ctx, horizon, bps, last, REBUFFER_PENALTY);
        Decision::now(level, throughput_reason(ctx.last_level, level))
    }

    fn reset(&mut self) {
        self.past_estimates_bps.clear();
        self.past_errors.clear();
        self.samples_seen = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abr::fixture::Fixture;

    #[test]
    fn plans_with_the_discounted_harmonic_mean() {
        let mut fixture = Fixture::pensieve(20);
        let mut mpc = RobustMpc::default();
        for _ in 0..5 {
            fixture.downloaded(2, 4e6);
        }
        fixture.buffer_s = 10.0;
        let steady = mpc.choose(&fixture.ctx()).level;
        assert!(
            steady >= 3,
            "4 Mbit/s steadily supports level 3 or more: {steady}"
        );
        // A throughput collapse: the prediction error blows up, the plan drops.
        fixture.downloaded(steady, 300e3);
        fixture.buffer_s = 3.0;
        let after = mpc.choose(&fixture.ctx()).level;
        assert!(after < steady, "{after} < {steady}");
        assert!(mpc.past_errors.last().copied().unwrap() > 1.0);
    }

    #[test]
    fn errors_are_folded_once_per_download() {
        let mut fixture = Fixture::pensieve(20);
        let mut mpc = RobustMpc::default();
        fixture.downloaded(1, 2e6);
        mpc.choose(&fixture.ctx());
        mpc.choose(&fixture.ctx());
        assert_eq!(mpc.past_errors.len(), 1);
        mpc.reset();
        assert!(mpc.past_errors.is_empty());
    }

    #[test]
    fn the_horizon_stops_at_the_last_segment() {
        let mut fixture = Fixture::pensieve(2);
        fixture.remaining = Some(1);
        fixture.downloaded(5, 50e6);
        fixture.buffer_s = 30.0;
        assert_eq!(RobustMpc::default().choose(&fixture.ctx()).level, 5);
    }

    #[test]
    fn ties_go_to_the_first_plan() {
        // Every level the same bitrate and size: all plans tie, the first (all lowest) wins.
        let mut fixture = Fixture::pensieve(10);
        for level in &mut fixture.levels {
            level.bitrate_bps = 1e6;
        }
        fixture.sizes = vec![500_000.0; 60];
        fixture.downloaded(0, 5e6);
        fixture.buffer_s = 10.0;
        assert_eq!(RobustMpc::default().choose(&fixture.ctx()).level, 0);
    }
}
