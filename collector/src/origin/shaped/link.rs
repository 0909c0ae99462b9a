//! A trace as a link: the bytes it can carry from a session's start (cumulative
//! capacity), the earliest time a given number of bytes has crossed it (the inverse), and
//! the rate at that moment. Pure arithmetic, so it is tested without a clock.
//!
//! The trace is read the way Pensieve's simulator reads it: sample `i ≥ 1` gives the rate
//! of the interval `(t[i-1], t[i]]`; the first pass starts at `t[0]`; at the end the trace
//! loops to the second sample with the clock at 0 (so a trace starting at 0.5 s replays
//! `(0, t[1]]` at `mbps[1]` on later passes). Unlike the lab's link, every bit of capacity
//! carries payload: the shaper delivers body bytes at exactly the trace's rate.

use player_wasm::sim::trace::Trace;

/// Bytes per second in one Mbit/s.
const BYTES_PER_MBIT: f64 = 1e6 / 8.0;

/// One pass over a trace's intervals, timed from the start of the pass.
#[derive(Debug, Clone, PartialEq)]
struct Pass {
    /// End of each interval, seconds from the start of the pass (non-decreasing).
    ends: Vec<f64>,
    /// Rate of each interval, bytes per second (non-negative, finite).
    rates: Vec<f64>,
    /// Bytes carried by the end of each interval (non-decreasing).
    carried: Vec<f64>,
}

impl Pass {
    /// The intervals ending at `times` with rates `mbps`, the first starting at `start`.
    fn new(start: f64, times: &[f64], mbps: &[f64]) -> Pass {
        let mut pass = Pass {
            ends: Vec::with_capacity(times.len()),
            rates: Vec::with_capacity(times.len()),
            carried: Vec::with_capacity(times.len()),
        };
        let (mut previous, mut end, mut carried) = (start, 0.0, 0.0);
        for (&time, &rate) in times.iter().zip(mbps) {
            let duration = (time - previous).max(0.0);
            previous = time;
            let rate = if rate.is_finite() {
                rate.max(0.0) * BYTES_PER_MBIT
            } else {
                0.0
            };
            end += duration;
            carried += rate * duration;
            pass.ends.push(end);
            pass.rates.push(rate);
            pass.carried.push(carried);
        }
        pass
    }

    fn duration(&self) -> f64 {
        self.ends.last().copied().unwrap_or(0.0)
    }

    fn total(&self) -> f64 {
        self.carried.last().copied().unwrap_or(0.0)
    }

    /// Start time and bytes carried before interval `i`.
    fn before(&self, i: usize) -> (f64, f64) {
        match i.checked_sub(1) {
            Some(previous) => (self.ends[previous], self.carried[previous]),
            None => (0.0, 0.0),
        }
    }

    /// Bytes carried by `t` seconds into the pass (`t` within the pass).
    fn carried_by(&self, t: f64) -> f64 {
        let i = self.ends.partition_point(|&end| end < t);
        if i >= self.ends.len() {
            return self.total();
        }
        let (start, before) = self.before(i);
        before + self.rates[i] * (t - start).max(0.0)
    }

    /// The earliest time by which `bytes` (in `(0, total]`) have been carried, and the
    /// rate of the interval that carries the last of them.
    fn delivery(&self, bytes: f64) -> (f64, f64) {
        let last = self.ends.len().saturating_sub(1);
        let i = self.carried.partition_point(|&c| c < bytes).min(last);
        let (start, before) = self.before(i);
        let rate = self.rates.get(i).copied().unwrap_or(0.0);
        if rate > 0.0 {
            (start + (bytes - before).max(0.0) / rate, rate)
        } else {
            (start, rate)
        }
    }
}

/// The capacity of a trace over time, looped forever.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// The first pass, from `t[0]`.
    first: Pass,
    /// Every later pass, from 0.
    repeat: Pass,
}

impl Capacity {
    /// The capacity of `trace`; `None` when a pass over it carries nothing (waiting would
    /// never end).
    pub fn new(trace: &Trace) -> Option<Capacity> {
        let (Some(&start), Some(times), Some(mbps)) = (
            trace.times_s.first(),
            trace.times_s.get(1..),
            trace.mbps.get(1..),
        ) else {
            return None;
        };
        let capacity = Capacity {
            first: Pass::new(start, times, mbps),
            repeat: Pass::new(0.0, times, mbps),
        };
        let usable = |total: f64| total.is_finite() && total > 0.0;
        (usable(capacity.repeat.total()) && capacity.first.total().is_finite()).then_some(capacity)
    }

    /// Bytes the link can have carried `t` seconds after the session started.
    pub fn carried_by(&self, t: f64) -> f64 {
        let t = if t.is_finite() { t.max(0.0) } else { 0.0 };
        let first = self.first.duration();
        if t <= first {
            return self.first.carried_by(t);
        }
        let period = self.repeat.duration();
        let passes = ((t - first) / period).floor();
        let within = (t - first - passes * period).clamp(0.0, period);
        self.first.total() + passes * self.repeat.total() + self.repeat.carried_by(within)
    }

    /// The earliest time (seconds from the session start) by which the link can have
    /// carried `bytes`, and its rate then (bytes per second).
    pub fn delivery(&self, bytes: f64) -> (f64, f64) {
        if bytes.is_nan() || bytes <= 0.0 {
            return (0.0, self.repeat.rates.first().copied().unwrap_or(0.0));
        }
        if bytes <= self.first.total() {
            return self.first.delivery(bytes);
        }
        let per_pass = self.repeat.total();
        let rest = bytes - self.first.total();
        let mut passes = (rest / per_pass).floor();
        let mut within = rest - passes * per_pass;
        if within <= 0.0 {
            // Exactly at the end of a pass: the earliest time is inside that pass, before
            // any zero-rate tail.
            passes -= 1.0;
            within += per_pass;
        }
        let (time, rate) = self.repeat.delivery(within.min(per_pass));
        (
            self.first.duration() + passes.max(0.0) * self.repeat.duration() + time,
            rate,
        )
    }

    /// Seconds the link needs from the session start to carry `bytes`.
    pub fn time_for(&self, bytes: f64) -> f64 {
        self.delivery(bytes).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn capacity(text: &str) -> Capacity {
        Capacity::new(&Trace::parse(Path::new("t"), text).unwrap()).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn constant_rate_is_linear() {
        let link = capacity("0 8\n10 8\n");
        assert!(close(link.carried_by(0.0), 0.0));
        assert!(close(link.carried_by(1.0), 1e6));
        assert!(close(link.time_for(500_000.0), 0.5));
        assert_eq!(link.delivery(500_000.0).1, 1e6);
        // Past the end it loops at the same rate.
        assert!(close(link.carried_by(25.0), 25e6));
        assert!(close(link.time_for(25e6), 25.0));
    }

    #[test]
    fn steps_follow_the_samples_rate_for_the_interval_before_them() {
        // (0, 2] at 4 Mbit/s, (2, 4] at 1, (4, 6] at 4.
        let link = capacity("0 9\n2 4\n4 1\n6 4\n");
        assert!(close(link.carried_by(2.0), 1e6));
        assert!(close(link.carried_by(3.0), 1e6 + 125_000.0));
        assert!(close(link.carried_by(6.0), 2.25e6));
        assert!(close(link.time_for(1e6 + 62_500.0), 2.5));
        assert_eq!(link.delivery(1e6 + 62_500.0).1, 125_000.0);
        assert_eq!(link.delivery(1.0).1, 500_000.0);
    }

    #[test]
    fn loops_like_pensieve_from_the_second_sample_at_zero() {
        // First pass (0.5, 1] at 8, (1, 2] at 16: 0.5 MB + 2 MB. Later passes (0, 1] at 8.
        let link = capacity("0.5 99\n1 8\n2 16\n");
        assert!(close(link.carried_by(1.5), 2.5e6));
        assert!(close(link.carried_by(2.5), 3.5e6));
        assert!(close(link.carried_by(3.5), 5.5e6));
        assert!(close(link.time_for(3.0e6), 2.0));
        assert!(close(
            link.time_for(2.5e6 + 3.0e6 * 2.0 + 1.0e6),
            1.5 + 4.0 + 1.0
        ));
    }

    #[test]
    fn zero_rate_periods_are_waited_out() {
        let link = capacity("0 8\n1 8\n3 0\n4 8\n");
        assert!(close(link.carried_by(2.0), 1e6));
        assert!(close(link.carried_by(3.0), 1e6));
        // The last byte before the gap is delivered before it, the next one after it.
        assert!(close(link.time_for(1e6), 1.0));
        assert!(close(link.time_for(1e6 + 1.0), 3.0 + 1e-6));
        // A pass ending in a gap: its last byte is delivered before the gap too.
        let tail = capacity("0 8\n1 8\n2 0\n");
        assert!(close(tail.time_for(1e6), 1.0));
        assert!(close(tail.time_for(2e6), 3.0));
        assert!(close(tail.time_for(2e6 + 500_000.0), 4.5));
    }

    #[test]
    fn inverse_round_trips_everywhere() {
        let link = capacity("0.3 2\n1.3 5\n1.3 7\n2.9 0\n4 12\n4.5 0.5\n");
        for step in 0..2000 {
            let t = step as f64 * 0.0137;
            let bytes = link.carried_by(t);
            if bytes > 0.0 {
                let back = link.time_for(bytes);
                assert!(back <= t + 1e-9, "{t}: {back}");
                assert!(close(link.carried_by(back), bytes), "{t}");
            }
        }
        let mut last = 0.0;
        for step in 1..500 {
            let bytes = step as f64 * 7_919.0;
            let t = link.time_for(bytes);
            assert!(t >= last, "monotone");
            last = t;
        }
    }

    #[test]
    fn no_capacity_no_link() {
        let trace = Trace {
            name: "z".into(),
            times_s: vec![0.0, 1.0],
            mbps: vec![5.0, 0.0],
        };
        assert_eq!(Capacity::new(&trace), None);
        let empty = Trace {
            name: "e".into(),
            times_s: vec![],
            mbps: vec![],
        };
        assert_eq!(Capacity::new(&empty), None);
    }

    #[test]
    fn bad_inputs_do_not_panic() {
        let link = capacity("0 8\n1 8\n");
        for t in [f64::NAN, f64::INFINITY, -1.0, 1e300] {
            let _ = link.carried_by(t);
        }
        for b in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e300] {
            let _ = link.delivery(b);
        }
    }
}
