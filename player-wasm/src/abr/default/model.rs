//! The throughput model the planner reasons with: a Markov-modulated regime model fitted
//! to the session's own downloads.
//!
//! Each download sees one throughput *regime*. After a download, the next one sees the
//! same regime with probability `persistence`, or a fresh regime drawn from the recent
//! empirical distribution. That distribution is the last `window` transfer throughputs,
//! each weighted by how long it took (a stall-length download during an outage counts
//! for the time it lasted), widened by a few prior pseudo-samples spread log-normally
//! around its harmonic mean (throughput the session has not shown yet), and summarised
//! by `regimes` equal-probability bins, each represented by the harmonic mean of the
//! throughput it covers (download times go as 1 / throughput, so that keeps the mean
//! download time of every bin exact). The current regime is the throughput of the last
//! download's final stretch (`DownloadRecord::final_bps`), or of the whole download
//! when no progress was reported.
//!
//! The persistence is fitted online by maximum likelihood over the whole session: each
//! sample is scored as "same regime as the previous sample" (a Gaussian kernel around it
//! in log space) or "fresh draw" (a kernel density over the window before it), and the
//! posterior mean of the persistence on a grid, under a weak prior, is used. Smooth
//! sessions (stable links) get a persistent model that keeps the current rate; jumpy ones
//! a quickly mixing model that hedges with the whole distribution.

use super::DefaultConfig;
use crate::abr::{AbrContext, DownloadRecord};

/// Persistence values the likelihood is evaluated at.
const GRID: usize = 19;
/// Downloads at most replayed when the history has to be re-read from scratch.
const MAX_REPLAY: usize = 64;
/// Quartile midpoints of the standard normal: where the prior pseudo-samples sit.
const PRIOR_Z: [f64; 4] = [
    -1.150_349_380_376_008,
    -0.318_639_363_964_375,
    0.318_639_363_964_375,
    1.150_349_380_376_008,
];
/// Slowest throughput a sample is taken to have (bit/s), so that an outage is a very
/// slow regime rather than a division by zero.
const MIN_BPS: f64 = 1_000.0;

fn grid_value(g: usize) -> f64 {
    (g + 1) as f64 / (GRID + 1) as f64
}

/// A throughput sample from one download: transfer rate (bit/s) and transfer time (s).
fn sample(record: &DownloadRecord) -> Option<(f64, f64)> {
    let transfer_s = record.finished_at - record.first_byte_at;
    (record.bytes > 0.0 && transfer_s.is_finite() && transfer_s > 0.0 && record.bytes.is_finite())
        .then(|| {
            (
                (record.bytes * 8.0 / transfer_s).max(MIN_BPS),
                transfer_s.max(0.05),
            )
        })
}

/// Incremental maximum-likelihood fit of the persistence.
#[derive(Debug, Clone, Default)]
struct PersistenceFit {
    /// Log-likelihood of every grid value, over the samples folded in so far.
    log_likelihood: [f64; GRID],
    /// Log-throughput of every sample folded in.
    logs: Vec<f64>,
    /// History records consumed, and the last one, to detect a history that changed.
    consumed: usize,
    last: Option<(f64, f64)>,
}

impl PersistenceFit {
    fn clear(&mut self) {
        self.log_likelihood = [0.0; GRID];
        self.logs.clear();
        self.consumed = 0;
        self.last = None;
    }

    /// Folds in the downloads of `history` not seen yet (re-reading it when it is not
    /// the history seen before plus new downloads).
    fn update(&mut self, history: &[DownloadRecord], config: &DefaultConfig) {
        let key = |r: &DownloadRecord| (r.finished_at, r.bytes);
        let consistent = self.consumed <= history.len()
            && (self.consumed == 0 || Some(key(&history[self.consumed - 1])) == self.last);
        if !consistent {
            self.clear();
            self.consumed = history.len().saturating_sub(MAX_REPLAY);
        }
        let width = config.kernel_width.max(1e-3);
        let two_h2 = 2.0 * width * width;
        let kernel = |d: f64| (-d * d / two_h2).exp();
        for record in &history[self.consumed..] {
            let Some((bps, _)) = sample(record) else {
                continue;
            };
            let y = bps.ln();
            let t = self.logs.len();
            if t >= 2 {
                let stay = kernel(y - self.logs[t - 1]);
                let from = t.saturating_sub(config.window.max(1));
                let redraw = self.logs[from..]
                    .iter()
                    .map(|&x| kernel(y - x))
                    .sum::<f64>()
                    / (t - from) as f64;
                for (g, ll) in self.log_likelihood.iter_mut().enumerate() {
                    let p = grid_value(g);
                    *ll += (p * stay + (1.0 - p) * redraw).max(1e-300).ln();
                }
            }
            self.logs.push(y);
        }
        self.consumed = history.len();
        self.last = history.last().map(key);
    }

    /// Posterior mean of the persistence under a Beta-like prior centred on
    /// `config.persistence` with `config.persistence_prior` pseudo-observations.
    fn estimate(&self, config: &DefaultConfig) -> f64 {
        let p0 = config.persistence;
        let strength = config.persistence_prior;
        let mut log_post = [0.0; GRID];
        let mut max = f64::NEG_INFINITY;
        for (g, lp) in log_post.iter_mut().enumerate() {
            let p = grid_value(g);
            *lp = self.log_likelihood[g] + strength * (p0 * p.ln() + (1.0 - p0) * (1.0 - p).ln());
            max = max.max(*lp);
        }
        let (mut num, mut den) = (0.0, 0.0);
        for (g, lp) in log_post.iter().enumerate() {
            let w = (lp - max).exp();
            num += w * grid_value(g);
            den += w;
        }
        if den > 0.0 && num.is_finite() {
            num / den
        } else {
            p0
        }
    }
}

/// The regimes the planner uses, rebuilt at every decision.
#[derive(Debug, Clone, Default)]
pub(super) struct ThroughputModel {
    /// Regime throughputs in bit/s; the last one is the current regime.
    pub values: Vec<f64>,
    /// Probability of each regime on a fresh draw (zero for the current regime).
    pub weights: Vec<f64>,
    /// Probability that the next download stays in the current regime.
    pub persistence: f64,
    fit: PersistenceFit,
    pairs: Vec<(f64, f64)>,
}

impl ThroughputModel {
    /// Forgets the session.
    pub fn reset(&mut self) {
        self.values.clear();
        self.weights.clear();
        self.fit.clear();
    }

    /// Index of the current regime in `values`.
    pub fn current(&self) -> usize {
        self.values.len() - 1
    }

    /// Rebuilds the regimes from the context.
    pub fn update(&mut self, ctx: &AbrContext<'_>, config: &DefaultConfig) {
        self.fit.update(ctx.history, config);
        self.persistence = self.fit.estimate(config).clamp(0.0, 1.0);
        self.pairs.clear();
        let mut last = None;
        for record in ctx.history.iter().rev() {
            if self.pairs.len() == config.window {
                break;
            }
            if let Some((bps, weight)) = sample(record) {
                // The next download starts where this one ended: its final stretch is the
                // freshest measure of the regime it will see.
                last.get_or_insert(if config.final_stretch {
                    record.final_bps.unwrap_or(bps).max(MIN_BPS)
                } else {
                    bps
                });
                let age = self.pairs.len() as i32;
                self.pairs.push((bps, weight * config.recency.powi(age)));
            }
        }
        if self.pairs.is_empty() {
            let estimate = ctx.estimator.estimate_bps();
            let estimate = if estimate.is_finite() {
                estimate.max(MIN_BPS)
            } else {
                500_000.0
            };
            self.pairs.push((estimate, 1.0));
            last = Some(estimate);
        }
        let current = last.unwrap_or(self.pairs[0].0);
        // Prior pseudo-samples around the weighted harmonic mean.
        let total: f64 = self.pairs.iter().map(|p| p.1).sum();
        let harmonic = total / self.pairs.iter().map(|(bps, w)| w / bps).sum::<f64>();
        let pseudo_weight =
            total / self.pairs.len() as f64 * config.prior_samples / PRIOR_Z.len() as f64;
        let spread = config.prior_spread;
        if pseudo_weight > 0.0 {
            for z in PRIOR_Z {
                self.pairs
                    .push(((harmonic * (spread * z).exp()).max(MIN_BPS), pseudo_weight));
            }
        }
        self.bin(config.regimes.clamp(1, super::plan::MAX_REGIMES - 1));
        self.values.push(current);
        self.weights.push(0.0);
    }

    /// Summarises `pairs` (throughput, weight) by `bins` equal-weight bins into `values`
    /// and `weights`, each bin represented by the harmonic mean of the mass it covers.
    fn bin(&mut self, bins: usize) {
        self.values.clear();
        self.weights.clear();
        crate::small_sort::sort_by(&mut self.pairs, |a, b| a.0.total_cmp(&b.0).is_lt());
        let total: f64 = self.pairs.iter().map(|p| p.1).sum();
        let per_bin = total / bins as f64;
        let (mut mass, mut inverse) = (0.0, 0.0);
        for &(bps, weight) in &self.pairs {
            let mut left = weight;
            while left > per_bin * 1e-12 {
                let take = left.min(per_bin - mass);
                inverse += take / bps;
                mass += take;
                left -= take;
                if mass >= per_bin * (1.0 - 1e-9) && self.values.len() + 1 < bins {
                    self.values.push(mass / inverse);
                    self.weights.push(1.0 / bins as f64);
                    mass = 0.0;
                    inverse = 0.0;
                }
            }
        }
        if mass > 0.0 {
            self.values.push(mass / inverse);
            self.weights.push(mass / total);
        }
        let sum: f64 = self.weights.iter().sum();
        for w in &mut self.weights {
            *w /= sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize, bps: f64) -> DownloadRecord {
        let bytes = 500_000.0;
        let start = i as f64 * 10.0;
        DownloadRecord {
            level: 0,
            bytes,
            media_duration_s: 4.0,
            requested_at: start,
            first_byte_at: start + 0.1,
            finished_at: start + 0.1 + bytes * 8.0 / bps,
            abandoned: false,
            final_bps: None,
        }
    }

    #[test]
    fn bins_keep_the_mean_download_time() {
        let mut model = ThroughputModel {
            pairs: vec![(1e6, 1.0), (2e6, 1.0), (4e6, 2.0), (8e6, 1.0), (3e6, 1.0)],
            ..Default::default()
        };
        let expected: f64 = model.pairs.iter().map(|(b, w)| w / b).sum::<f64>() / 6.0;
        model.bin(4);
        assert_eq!(model.values.len(), 4);
        let got: f64 = model
            .values
            .iter()
            .zip(&model.weights)
            .map(|(b, w)| w / b)
            .sum();
        assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
        assert!(model.values.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn persistence_is_high_on_long_regimes_and_low_on_a_jumpy_session() {
        let config = DefaultConfig::default();
        // Regimes of six downloads alternating between 1 and 4 Mbit/s, with a little noise.
        let smooth: Vec<_> = (0..40)
            .map(|i| {
                record(
                    i,
                    if (i / 6) % 2 == 0 { 1e6 } else { 4e6 } * (1.0 + 0.02 * (i as f64).sin()),
                )
            })
            .collect();
        let jumpy: Vec<_> = (0..40)
            .map(|i| record(i, [1e6, 4e6, 2e6, 6e6, 0.5e6][i * 7 % 5]))
            .collect();
        let mut a = PersistenceFit::default();
        a.update(&smooth, &config);
        let mut b = PersistenceFit::default();
        b.update(&jumpy, &config);
        assert!(a.estimate(&config) > 0.6, "{}", a.estimate(&config));
        assert!(b.estimate(&config) < 0.3, "{}", b.estimate(&config));
    }

    #[test]
    fn incremental_fit_matches_a_fresh_one_and_survives_a_rewritten_history() {
        let config = DefaultConfig::default();
        let history: Vec<_> = (0..30)
            .map(|i| record(i, 1e6 + 1e5 * (i % 7) as f64))
            .collect();
        let mut incremental = PersistenceFit::default();
        for n in 1..=history.len() {
            incremental.update(&history[..n], &config);
        }
        let mut fresh = PersistenceFit::default();
        fresh.update(&history, &config);
        assert!((incremental.estimate(&config) - fresh.estimate(&config)).abs() < 1e-12);
        // A different history of the same length is re-read, not appended to.
        let other: Vec<_> = (0..30).map(|i| record(i, 5e6)).collect();
        incremental.update(&other, &config);
        let mut fresh_other = PersistenceFit::default();
        fresh_other.update(&other, &config);
        assert!((incremental.estimate(&config) - fresh_other.estimate(&config)).abs() < 1e-12);
    }
}
