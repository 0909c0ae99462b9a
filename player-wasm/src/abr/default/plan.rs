//! The planner: stochastic dynamic programming over (buffer, last level, throughput
//! regime) from the end of the horizon back to the next segment.
//!
//! State after a download: the buffer (a grid from 0 to the buffer cap), the level just
//! fetched (switching costs depend on it) and, for the first `regime_steps` segments, the
//! regime it was fetched in (the next download stays in it with the model's
//! persistence); later downloads are independent draws from the model's distribution.
//! Reward per segment: QoE_lin, `Mbit/s − 4.3 × stall_s − |ΔMbit/s|`; nothing after the
//! horizon. Segments past the first `fine_steps` are planned in blocks that double in
//! length every `double_every` blocks (one level and one regime per block), which keeps
//! the cost logarithmic in the horizon while the near future, where the decision is
//! made, stays exact.
//!
//! Value arrays are laid out `[level][regime][buffer]` so every inner loop runs over a
//! contiguous row: a download shifts the buffer by a constant, so the value after it at
//! every grid point is an interpolation with one fractional offset (vectorisable), plus
//! a stall region below a threshold and a cap region above; the switching cost is folded
//! in with one suffix and one prefix maximum over levels, O(levels) rather than
//! O(levels²).

use super::DefaultConfig;
use super::model::ThroughputModel;
use crate::abr::AbrContext;
use crate::abr::mpc::REBUFFER_PENALTY;

/// Precision of the value arrays: single precision halves the memory traffic and doubles
/// the SIMD width; values are QoE sums of at most a few hundred, decided on differences
/// of hundredths, far above single precision's resolution at that scale.
type V = f32;

/// Most regimes the planner handles (the model's bins plus the current one).
pub(super) const MAX_REGIMES: usize = 16;

/// Buffer grid points (the grid step is the buffer cap / (POINTS − 1)).
#[cfg(test)]
pub(super) const POINTS: usize = 61;

/// The planner's scratch space, kept between decisions to avoid allocations.
#[derive(Debug, Clone, Default)]
pub(super) struct Planner {
    next: Vec<V>,
    x: Vec<V>,
    g: Vec<V>,
    mean: Vec<V>,
    suffix: Vec<V>,
    prefix: Vec<V>,
    base: Vec<V>,
    weights: Vec<V>,
    blocks: Vec<(usize, usize)>,
    mbps: Vec<f64>,
    bits: Vec<f64>,
    /// Value of each level for the next segment (after the last decision).
    pub q: Vec<f64>,
}

/// Splits segments `1..horizon` into `fine` single segments, then blocks of 2, 2, 4, 4,
/// 8, 8, … segments.
fn plan_blocks(blocks: &mut Vec<(usize, usize)>, horizon: usize, fine: usize, every: usize) {
    blocks.clear();
    let (mut start, mut n) = (1, 0);
    while start < horizon {
        let size = if n < fine {
            1
        } else {
            1usize << ((n - fine) / every.max(1) + 1).min(20)
        };
        let size = size.min(horizon - start);
        blocks.push((start, size));
        start += size;
        n += 1;
    }
}

/// Maximum without NaN handling (the values are finite), which vectorises.
#[inline(always)]
fn fmax(a: V, b: V) -> V {
    if a > b { a } else { b }
}

/// `f64::floor` without a libm call (baseline x86-64 has no rounding instruction); exact
/// for the magnitudes used here.
#[inline(always)]
fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x { t - 1.0 } else { t }
}

/// Linear interpolation of `row` at fractional index `x` (clamped to the row).
fn interp(row: &[V], x: f64) -> f64 {
    let last = row.len() - 1;
    let x = x.max(0.0).min(last as f64);
    let i = (x as usize).min(last - 1);
    let f = x - i as f64;
    f64::from(row[i]) * (1.0 - f) + f64::from(row[i + 1]) * f
}

/// For every grid point `i` (buffer `i × step`): the value after a download that stalls
/// below `threshold` grid units (by `threshold − i`, leaving `threshold + shift`) and
/// otherwise leaves `i + shift`, capped at the top of the grid; a stall of one grid unit
/// costs `stall_cost`. Everything is in grid units so the setup has no division.
fn block_values(src: &[V], out: &mut [V], threshold: f64, shift: f64, stall_cost: f64) {
    let n = src.len();
    let last = n - 1;
    // First grid point at or above the threshold (threshold ≥ 0: a download takes time).
    let stall_end = {
        let t = threshold.max(0.0);
        let c = t as usize;
        (if (c as f64) < t { c + 1 } else { c }).min(n)
    };
    let after_stall = interp(src, threshold + shift);
    // value − cost × (threshold − i), as an affine function of i.
    let intercept = (after_stall - stall_cost * threshold) as V;
    let slope = stall_cost as V;
    for (i, o) in out[..stall_end].iter_mut().enumerate() {
        *o = intercept + slope * i as V;
    }
    let whole = floor(shift);
    let f = (shift - whole) as V;
    let whole = whole as isize;
    // Interior: 0 ≤ i + shift < last, so both neighbours i + ⌊shift⌋ and the next exist;
    // from `capped` on, i + shift ≥ last and the buffer is at the cap.
    let lo = (stall_end as isize).max(-whole).min(n as isize) as usize;
    let capped = ((last as isize - whole).max(lo as isize) as usize).min(n);
    if capped > lo {
        let base = (lo as isize + whole) as usize;
        let len = capped - lo;
        let a = &src[base..base + len];
        let b = &src[base + 1..base + 1 + len];
        for ((o, &va), &vb) in out[lo..capped].iter_mut().zip(a).zip(b) {
            *o = va + (vb - va) * f;
        }
    }
    // Between the stall region and the interior, i + shift < 0 (only through float
    // error: past the threshold the buffer left is at least a segment), then the cap.
    out[stall_end..lo].fill(src[0]);
    out[capped..].fill(src[last]);
}

impl Planner {
    /// Plans from the context and the model; returns the best level for the next
    /// segment (every level's value is left in `q`).
    pub fn plan(
        &mut self,
        ctx: &AbrContext<'_>,
        model: &ThroughputModel,
        config: &DefaultConfig,
    ) -> usize {
        let top = ctx.top();
        let levels = top + 1;
        let regimes = model.values.len();
        let cap = ctx.max_buffer_s.max(ctx.segment_duration(0)).max(1e-3);
        let row = config.grid_points.max(3);
        let step = cap / (row - 1) as f64;
        let inv_step = 1.0 / step;
        let stall_cost = REBUFFER_PENALTY * step;
        let p = model.persistence;
        let ttfb = ttfb_estimate(ctx, config.window);
        let mut mbps = std::mem::take(&mut self.mbps);
        mbps.clear();
        mbps.extend((0..levels).map(|l| ctx.mbps(l)));
        let duration = ctx.segment_duration(0).max(1e-3);
        let horizon_segments = ((config.horizon_s / duration).ceil() as usize).max(1);
        let horizon = match ctx.segments_remaining {
            Some(remaining) => remaining.max(1).min(horizon_segments),
            None => horizon_segments,
        };
        plan_blocks(
            &mut self.blocks,
            horizon,
            config.fine_steps,
            config.double_every,
        );
        let size = levels * regimes * row;
        // Value after the last step: nothing (the stream ends, or the horizon does).
        self.next.clear();
        self.next.resize(levels * row, 0.0);
        self.x.resize(size, 0.0);
        self.g.resize(regimes * row, 0.0);
        self.mean.resize(row, 0.0);
        self.suffix.resize(regimes * row, 0.0);
        self.prefix.resize(regimes * row, 0.0);
        self.base.resize(row, 0.0);
        self.bits.resize(levels, 0.0);
        self.weights.clear();
        self.weights.extend(model.weights.iter().map(|&w| w as V));
        // Regimes carried by the value function after the step being computed (1: none).
        let mut next_regimes = 1;
        for &(first, count) in self.blocks.iter().rev() {
            let countf = count as f64;
            let media: f64 = (first..first + count)
                .map(|t| ctx.segment_duration(t))
                .sum();
            // Steps close to now keep track of the regime (it persists); later ones
            // treat every download as a fresh draw.
            let tracked = first <= config.regime_steps;
            let cur_regimes = if tracked { regimes } else { 1 };
            let stay = if tracked { p.powi(count as i32) } else { 0.0 } as V;
            for (a, bits) in self.bits.iter_mut().enumerate() {
                *bits = (first..first + count)
                    .map(|t| ctx.segment_bytes(t, a) * 8.0)
                    .sum();
            }
            for (a, &level_mbps) in mbps.iter().enumerate() {
                for s in 0..regimes {
                    if !tracked && model.weights[s] <= 0.0 {
                        continue;
                    }
                    let download = countf * ttfb + self.bits[a] / model.values[s];
                    // Stalls start when the buffer is below one segment's download
                    // time, or below the block's total drain (downloads beyond media).
                    let threshold = (download / countf).max(download - media + media / countf);
                    let from = if next_regimes == 1 {
                        a
                    } else {
                        a * regimes + s
                    };
                    block_values(
                        &self.next[from * row..][..row],
                        &mut self.g[s * row..][..row],
                        threshold * inv_step,
                        (media - download) * inv_step,
                        stall_cost,
                    );
                }
                expectation(&self.g, &self.weights, &mut self.mean);
                let reward = (countf * level_mbps) as V;
                for (b, &m) in self.base.iter_mut().zip(&self.mean) {
                    *b = reward + (1.0 - stay) * m;
                }
                if tracked {
                    for s in 0..regimes {
                        let g = &self.g[s * row..][..row];
                        let x = &mut self.x[(a * regimes + s) * row..][..row];
                        for ((x, &g), &b) in x.iter_mut().zip(g).zip(&self.base) {
                            *x = b + stay * g;
                        }
                    }
                } else {
                    self.x[a * row..][..row].copy_from_slice(&self.base);
                }
            }
            // Fold the switching cost in: next[l][s] = max_a x[a][s] − |u_a − u_l|.
            // For a ≥ l that is (x_a − u_a) + u_l; for a < l, (x_a + u_a) − u_l. Rows of
            // one level are contiguous over (regime, buffer), so each pass is one loop.
            let plane = cur_regimes * row;
            self.next.resize(levels * plane, 0.0);
            let suffix = &mut self.suffix[..plane];
            for l in (0..levels).rev() {
                let u = mbps[l] as V;
                let x = &self.x[l * plane..][..plane];
                if l == levels - 1 {
                    for (m, &v) in suffix.iter_mut().zip(x) {
                        *m = v - u;
                    }
                } else {
                    for (m, &v) in suffix.iter_mut().zip(x) {
                        *m = fmax(*m, v - u);
                    }
                }
                let dst = &mut self.next[l * plane..][..plane];
                for (d, &m) in dst.iter_mut().zip(suffix.iter()) {
                    *d = m + u;
                }
            }
            let prefix = &mut self.prefix[..plane];
            for l in 1..levels {
                let below = mbps[l - 1] as V;
                let u = mbps[l] as V;
                let x = &self.x[(l - 1) * plane..][..plane];
                if l == 1 {
                    for (m, &v) in prefix.iter_mut().zip(x) {
                        *m = v + below;
                    }
                } else {
                    for (m, &v) in prefix.iter_mut().zip(x) {
                        *m = fmax(*m, v + below);
                    }
                }
                let dst = &mut self.next[l * plane..][..plane];
                for (d, &m) in dst.iter_mut().zip(prefix.iter()) {
                    *d = fmax(*d, m - u);
                }
            }
            next_regimes = cur_regimes;
        }
        // The next segment, from the exact buffer.
        let buffer = ctx.buffer_s.max(0.0).min(cap);
        let last_mbps = ctx
            .last_level
            .filter(|&l| l < ctx.levels.len())
            .map(|l| ctx.mbps(l));
        let current = model.current();
        self.q.clear();
        let mut best = (f64::NEG_INFINITY, 0);
        let mut values = [0.0f64; MAX_REGIMES];
        for (a, &level_mbps) in mbps.iter().enumerate() {
            let bits = ctx.segment_bytes(0, a) * 8.0;
            let values = &mut values[..regimes];
            let mut mean = 0.0;
            for (s, v) in values.iter_mut().enumerate() {
                let download = ttfb + bits / model.values[s];
                let stall = (download - buffer).max(0.0);
                let after = ((buffer - download).max(0.0) + duration).min(cap);
                let from = if next_regimes == 1 {
                    a
                } else {
                    a * regimes + s
                };
                *v = interp(&self.next[from * row..][..row], after * inv_step)
                    - REBUFFER_PENALTY * stall;
                mean += model.weights[s] * *v;
            }
            let switch = last_mbps.map_or(0.0, |m| (level_mbps - m).abs());
            let q = level_mbps - switch + p * values[current] + (1.0 - p) * mean;
            self.q.push(q);
            if q > best.0 + 1e-9 {
                best = (q, a);
            }
        }
        self.mbps = mbps;
        best.1
    }
}

/// Expectation over a fresh regime draw, per buffer point.
fn expectation(g: &[V], weights: &[V], mean: &mut [V]) {
    let row = mean.len();
    mean.fill(0.0);
    for (s, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            for (m, &v) in mean.iter_mut().zip(&g[s * row..][..row]) {
                *m += w * v;
            }
        }
    }
}

/// Mean time to first byte of the last `window` downloads (the shared estimator's when
/// there are none).
fn ttfb_estimate(ctx: &AbrContext<'_>, window: usize) -> f64 {
    let recent = &ctx.history[ctx.history.len().saturating_sub(window)..];
    if recent.is_empty() {
        ctx.estimator.ttfb_estimate_s()
    } else {
        recent.iter().map(|r| r.ttfb_s()).sum::<f64>() / recent.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: the same quantity computed point by point.
    fn naive(src: &[V], step: f64, threshold: f64, shift: f64) -> Vec<f64> {
        let cap = (src.len() - 1) as f64 * step;
        (0..src.len())
            .map(|i| {
                let b = i as f64 * step;
                let stall = (threshold - b).max(0.0);
                let after = (b.max(threshold) + shift).min(cap);
                interp(src, after / step) - REBUFFER_PENALTY * stall
            })
            .collect()
    }

    #[test]
    fn block_values_match_the_pointwise_definition() {
        let src: Vec<V> = (0..POINTS)
            .map(|i| ((i * 37 % 11) as V).sqrt() + i as V * 0.3)
            .collect();
        let mut out = vec![0.0; POINTS];
        for &(threshold, shift) in &[
            (3.7, 2.1),
            (0.5, -0.4),
            (12.0, -8.3),
            (80.0, 5.0),
            (0.0, 70.0),
            (2.0, 0.0),
            (7.25, 1.75),
            (0.01, -0.0099),
        ] {
            block_values(&src, &mut out, threshold, shift, REBUFFER_PENALTY);
            let expected = naive(&src, 1.0, threshold, shift);
            for (i, (a, b)) in out.iter().zip(&expected).enumerate() {
                assert!(
                    (f64::from(*a) - b).abs() < 1e-3,
                    "threshold {threshold} shift {shift} at {i}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn blocks_cover_the_horizon_once() {
        let mut blocks = Vec::new();
        for horizon in [1, 2, 5, 48, 1000] {
            plan_blocks(&mut blocks, horizon, 4, 2);
            let mut next = 1;
            for &(first, count) in &blocks {
                assert_eq!(first, next);
                assert!(count >= 1);
                next += count;
            }
            assert_eq!(next.max(1), horizon.max(1));
        }
        plan_blocks(&mut blocks, 48, 4, 2);
        assert!(blocks.len() <= 12, "{blocks:?}");
    }
}
