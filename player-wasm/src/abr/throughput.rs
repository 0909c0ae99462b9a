//! Throughput rule in the manner of hls.js.
//!
//! Takes the shared EWMA estimate (minimum of a 3 s and a 9 s half-life average, time to
//! first byte excluded) and picks the highest level that fits it, scaled by 0.95 for the
//! current level and below and by 0.7 for levels above it, provided its segment would
//! arrive before the buffer runs dry. When no level can, it allows up to 4 s of
//! starvation; when none fits even then, the lowest level.

use super::{Abr, AbrContext, Decision, throughput_reason};

/// EWMA throughput rule.
#[derive(Debug, Clone)]
pub struct ThroughputRule {
    /// Share of the estimate usable for the current level and below.
    pub factor_down: f64,
    /// Share of the estimate usable for levels above the current one.
    pub factor_up: f64,
    /// Starvation tolerated (seconds) when no level fits the buffer.
    pub max_starvation_s: f64,
}

impl Default for ThroughputRule {
    fn default() -> Self {
        ThroughputRule {
            factor_down: 0.95,
            factor_up: 0.7,
            max_starvation_s: 4.0,
        }
    }
}

impl ThroughputRule {
    fn find(&self, ctx: &AbrContext<'_>, estimate: f64, max_fetch_s: f64) -> Option<usize> {
        let base = ctx.last_level.unwrap_or(0);
        let ttfb = ctx.estimator.ttfb_estimate_s();
        (0..=ctx.top()).rev().find(|&level| {
            let factor = if level <= base {
                self.factor_down
            } else {
                self.factor_up
            };
            let usable = estimate * factor;
            let fetch_s = ttfb + ctx.segment_bytes(0, level) * 8.0 / usable;
            ctx.levels[level].bitrate_bps < usable && fetch_s < max_fetch_s
        })
    }
}

impl Abr for ThroughputRule {
    fn name(&self) -> &'static str {
        "throughput"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let estimate = ctx.estimator.estimate_bps();
        let buffer = ctx.buffer_s.max(0.0);
        let level = self
            .find(ctx, estimate, buffer)
            .or_else(|| self.find(ctx, estimate, buffer + self.max_starvation_s))
            .unwrap_or(0);
        Decision::now(level, throughput_reason(ctx.last_level, level))
    }

    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abr::SwitchReason;
    use crate::abr::fixture::Fixture;

    #[test]
    fn picks_what_the_estimate_sustains_with_headroom_to_climb() {
        let mut fixture = Fixture::pensieve(10);
        let mut rule = ThroughputRule::default();
        // No sample: the 500 kbit/s default allows only the lowest level.
        assert_eq!(rule.choose(&fixture.ctx()).level, 0);
        fixture.downloaded(0, 2.5e6).downloaded(0, 2.5e6);
        fixture.buffer_s = 8.0;
        // Climbing may use 70 % of 2.5 Mbit/s = 1.75: level 2 (1.2).
        let decision = rule.choose(&fixture.ctx());
        assert_eq!(
            (decision.level, decision.reason),
            (2, SwitchReason::ThroughputUp)
        );
        // Holding may use 95 % = 2.375: level 3 (1.85) holds, level 4 (2.85) does not.
        fixture.last_level = Some(3);
        assert_eq!(rule.choose(&fixture.ctx()).reason, SwitchReason::Hold);
        fixture.last_level = Some(4);
        let decision = rule.choose(&fixture.ctx());
        assert_eq!(
            (decision.level, decision.reason),
            (3, SwitchReason::ThroughputDown)
        );
    }

    #[test]
    fn an_empty_buffer_tolerates_some_starvation_then_falls_to_the_lowest() {
        let mut fixture = Fixture::pensieve(10);
        fixture.downloaded(2, 2e6);
        fixture.buffer_s = 0.0;
        // Up to 4 s of starvation: level 2 takes 2.5 s at 1.9 Mbit/s, level 3 (3.9 s)
        // would need more than the 70 % allowed for going up.
        assert_eq!(ThroughputRule::default().choose(&fixture.ctx()).level, 2);
        fixture.downloaded(0, 50e3).downloaded(0, 50e3);
        assert_eq!(ThroughputRule::default().choose(&fixture.ctx()).level, 0);
    }
}
