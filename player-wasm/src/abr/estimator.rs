//! The bandwidth estimate every algorithm shares.
//!
//! Two exponentially weighted moving averages of transfer throughput, a fast and a slow
//! one, each weighted by how long a sample took to download (a 4 s download counts four
//! times a 1 s one), with the initial-bias correction of an EWMA that starts at zero.
//! The estimate is the minimum of the two: quick to fall, slow to rise (the hls.js
//! estimator's behaviour). Time to first byte is excluded from throughput samples and
//! tracked separately.

/// Tuning of the [`BandwidthEstimator`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EstimatorConfig {
    /// Half-life of the fast average, in seconds of download time.
    pub fast_half_life_s: f64,
    /// Half-life of the slow average, in seconds of download time.
    pub slow_half_life_s: f64,
    /// Estimate used before any sample, in bits per second.
    pub default_bps: f64,
    /// Samples shorter than this are stretched to it (timer resolution, cached responses).
    pub min_sample_s: f64,
}

impl Default for EstimatorConfig {
    fn default() -> Self {
        EstimatorConfig {
            fast_half_life_s: 3.0,
            slow_half_life_s: 9.0,
            default_bps: 500_000.0,
            min_sample_s: 0.05,
        }
    }
}

/// One exponentially weighted moving average with time-based weights.
#[derive(Debug, Clone, Copy)]
struct Ewma {
    alpha: f64,
    estimate: f64,
    total_weight: f64,
}

impl Ewma {
    fn new(half_life: f64) -> Self {
        let alpha = if half_life > 0.0 {
            (0.5f64.ln() / half_life).exp()
        } else {
            0.0
        };
        Ewma {
            alpha,
            estimate: 0.0,
            total_weight: 0.0,
        }
    }

    fn sample(&mut self, weight: f64, value: f64) {
        let adjusted = self.alpha.powf(weight);
        self.estimate = value * (1.0 - adjusted) + adjusted * self.estimate;
        self.total_weight += weight;
    }

    /// The average with the bias of starting at zero removed.
    fn value(&self) -> Option<f64> {
        if self.total_weight <= 0.0 {
            return None;
        }
        let zero_factor = 1.0 - self.alpha.powf(self.total_weight);
        (zero_factor > 0.0).then(|| self.estimate / zero_factor)
    }
}

/// Shared throughput and latency estimate.
#[derive(Debug, Clone)]
pub struct BandwidthEstimator {
    config: EstimatorConfig,
    fast: Ewma,
    slow: Ewma,
    ttfb: Ewma,
    samples: u64,
}

impl Default for BandwidthEstimator {
    fn default() -> Self {
        Self::new(EstimatorConfig::default())
    }
}

impl BandwidthEstimator {
    /// An estimator with no samples.
    pub fn new(config: EstimatorConfig) -> Self {
        BandwidthEstimator {
            config,
            fast: Ewma::new(config.fast_half_life_s),
            slow: Ewma::new(config.slow_half_life_s),
            ttfb: Ewma::new(config.fast_half_life_s),
            samples: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> EstimatorConfig {
        self.config
    }

    /// Records a transfer of `bytes` that took `transfer_s` seconds after the first byte.
    /// Non-finite or non-positive inputs are ignored.
    pub fn sample(&mut self, bytes: f64, transfer_s: f64) {
        if !(bytes.is_finite() && bytes > 0.0 && transfer_s.is_finite() && transfer_s >= 0.0) {
            return;
        }
        let duration = transfer_s.max(self.config.min_sample_s);
        let bps = bytes * 8.0 / duration;
        self.fast.sample(duration, bps);
        self.slow.sample(duration, bps);
        self.samples += 1;
    }

    /// Records a time to first byte, in seconds.
    pub fn sample_ttfb(&mut self, ttfb_s: f64) {
        if ttfb_s.is_finite() && ttfb_s >= 0.0 {
            self.ttfb.sample(1.0, ttfb_s);
        }
    }

    /// Whether at least one throughput sample was recorded.
    pub fn has_samples(&self) -> bool {
        self.samples > 0
    }

    /// Number of throughput samples recorded.
    pub fn sample_count(&self) -> u64 {
        self.samples
    }

    /// Estimated throughput in bits per second (the configured default before any sample).
    pub fn estimate_bps(&self) -> f64 {
        match (self.fast.value(), self.slow.value()) {
            (Some(fast), Some(slow)) => fast.min(slow),
            _ => self.config.default_bps,
        }
    }

    /// Estimated time to first byte in seconds (0 before any sample).
    pub fn ttfb_estimate_s(&self) -> f64 {
        self.ttfb.value().unwrap_or(0.0)
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_estimate_before_samples() {
        let estimator = BandwidthEstimator::default();
        assert_eq!(estimator.estimate_bps(), 500_000.0);
        assert!(!estimator.has_samples());
    }

    #[test]
    fn a_steady_rate_is_estimated_exactly_thanks_to_bias_correction() {
        let mut estimator = BandwidthEstimator::default();
        estimator.sample(1_000_000.0, 2.0); // 4 Mbit/s
        assert!((estimator.estimate_bps() - 4e6).abs() < 1.0);
        estimator.sample(500_000.0, 1.0);
        assert!((estimator.estimate_bps() - 4e6).abs() < 1.0);
    }

    #[test]
    fn falls_fast_and_rises_slowly() {
        let mut estimator = BandwidthEstimator::default();
        for _ in 0..10 {
            estimator.sample(1_000_000.0, 2.0); // 4 Mbit/s
        }
        estimator.sample(250_000.0, 2.0); // 1 Mbit/s for 2 s
        let after_drop = estimator.estimate_bps();
        assert!(
            after_drop < 3.2e6,
            "fast average pulls the minimum down: {after_drop}"
        );
        let mut rising = BandwidthEstimator::default();
        for _ in 0..10 {
            rising.sample(250_000.0, 2.0);
        }
        rising.sample(1_000_000.0, 2.0);
        let after_rise = rising.estimate_bps();
        assert!(
            after_rise < 2.0e6,
            "slow average holds the minimum down: {after_rise}"
        );
    }

    #[test]
    fn longer_downloads_weigh_more() {
        let mut long_last = BandwidthEstimator::default();
        long_last.sample(125_000.0, 1.0); // 1 Mbit/s for 1 s
        long_last.sample(2_500_000.0, 5.0); // 4 Mbit/s for 5 s
        let mut short_last = BandwidthEstimator::default();
        short_last.sample(625_000.0, 5.0); // 1 Mbit/s for 5 s
        short_last.sample(500_000.0, 1.0); // 4 Mbit/s for 1 s
        assert!(long_last.estimate_bps() > short_last.estimate_bps());
    }

    #[test]
    fn garbage_samples_are_ignored() {
        let mut estimator = BandwidthEstimator::default();
        estimator.sample(f64::NAN, 1.0);
        estimator.sample(100.0, f64::INFINITY);
        estimator.sample(-5.0, 1.0);
        estimator.sample_ttfb(f64::NAN);
        assert!(!estimator.has_samples());
        assert_eq!(estimator.ttfb_estimate_s(), 0.0);
    }

    #[test]
    fn tiny_samples_are_stretched_to_the_minimum_duration() {
        let mut estimator = BandwidthEstimator::default();
        estimator.sample(1000.0, 0.0);
        assert!((estimator.estimate_bps() - 1000.0 * 8.0 / 0.05).abs() < 1e-6);
    }
}
