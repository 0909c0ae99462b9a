//! The simulated link of Pensieve's `sim/fixed_env.py`, reproduced exactly.
//!
//! A trace gives a throughput for each interval `(t[i-1], t[i]]`. A download consumes
//! the trace from the current position: whole intervals while the chunk is not complete,
//! then the fraction of the last one it needs. Only 95 % of the capacity carries payload.
//! The link position starts at the second sample (`ptr = 1`, from `t[0]`) and, at the end
//! of the trace, wraps to the second sample again with the clock reset to 0. The 80 ms
//! round trip is charged to the request, not to the trace: the trace does not advance
//! during it.

use crate::trace::Trace;

/// Share of the link's capacity that carries payload.
pub const PACKET_PAYLOAD_PORTION: f64 = 0.95;
/// Round-trip time charged to every request, in seconds.
pub const LINK_RTT_S: f64 = 0.08;

/// A position on a trace, advanced by downloads and idle time.
#[derive(Debug, Clone, Copy)]
pub struct Link<'t> {
    trace: &'t Trace,
    ptr: usize,
    last_time: f64,
    wraps: u64,
}

impl<'t> Link<'t> {
    /// A link at the start of `trace` (which must have at least two samples).
    pub fn new(trace: &'t Trace) -> Self {
        Link {
            trace,
            ptr: 1,
            last_time: trace.times_s[0],
            wraps: 0,
        }
    }

    /// The trace this link follows.
    pub fn trace(&self) -> &'t Trace {
        self.trace
    }

    /// Position on the unrolled trace (each wrap adds the trace's last timestamp), in
    /// seconds. Monotone: a later position never sees more capacity before it.
    pub fn position(&self) -> f64 {
        self.wraps as f64 * self.trace.times_s[self.trace.times_s.len() - 1] + self.last_time
    }

    fn advance_pointer(&mut self) {
        self.last_time = self.trace.times_s[self.ptr];
        self.ptr += 1;
        if self.ptr >= self.trace.mbps.len() {
            self.ptr = 1;
            self.last_time = 0.0;
            self.wraps += 1;
        }
    }

    /// Downloads `bytes`, returning the transfer time in seconds (round trip excluded).
    /// `progress(elapsed_s, bytes_so_far)` is called at every trace interval boundary
    /// crossed.
    pub fn download_with_progress(
        &mut self,
        bytes: f64,
        mut progress: impl FnMut(f64, f64),
    ) -> f64 {
        let mut elapsed = 0.0;
        let mut sent = 0.0;
        loop {
            let throughput = self.trace.mbps[self.ptr] * 1e6 / 8.0;
            let duration = self.trace.times_s[self.ptr] - self.last_time;
            let payload = throughput * duration * PACKET_PAYLOAD_PORTION;
            if sent + payload > bytes {
                let fraction = (bytes - sent) / throughput / PACKET_PAYLOAD_PORTION;
                elapsed += fraction;
                self.last_time += fraction;
                return elapsed;
            }
            sent += payload;
            elapsed += duration;
            self.advance_pointer();
            if payload > 0.0 {
                progress(elapsed, sent);
            }
        }
    }

    /// Downloads `bytes`, returning the transfer time in seconds (round trip excluded).
    pub fn download(&mut self, bytes: f64) -> f64 {
        self.download_with_progress(bytes, |_, _| {})
    }

    /// Lets `seconds` of trace pass without downloading (the player sleeps).
    pub fn idle(&mut self, seconds: f64) {
        let mut remaining = seconds;
        loop {
            let duration = self.trace.times_s[self.ptr] - self.last_time;
            if duration > remaining {
                self.last_time += remaining;
                return;
            }
            remaining -= duration;
            self.advance_pointer();
        }
    }

    /// Bytes a transfer starting here would have received after `seconds`, without
    /// moving the link.
    pub fn bytes_within(&self, seconds: f64) -> f64 {
        let mut probe = *self;
        let mut remaining = seconds;
        let mut bytes = 0.0;
        loop {
            let throughput = probe.trace.mbps[probe.ptr] * 1e6 / 8.0 * PACKET_PAYLOAD_PORTION;
            let duration = probe.trace.times_s[probe.ptr] - probe.last_time;
            if duration > remaining {
                return bytes + throughput * remaining;
            }
            bytes += throughput * duration;
            remaining -= duration;
            probe.advance_pointer();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn trace(text: &str) -> Trace {
        Trace::parse(Path::new("t"), text).unwrap()
    }

    #[test]
    fn constant_rate_download_time_is_size_over_payload_rate() {
        let trace = trace("0 8\n1 8\n2 8\n3 8\n");
        let mut link = Link::new(&trace);
        // 8 Mbit/s carries 0.95 MB/s of payload.
        let seconds = link.download(475_000.0);
        assert!((seconds - 0.5).abs() < 1e-12);
        assert!((link.position() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn first_interval_uses_the_second_samples_rate() {
        // The rate of sample 0 is never used: interval (t0, t1] runs at mbps[1].
        let trace = trace("0 800\n1 8\n2 8\n");
        let mut link = Link::new(&trace);
        let seconds = link.download(950_000.0);
        assert!((seconds - 1.0).abs() < 1e-12, "{seconds}");
    }

    #[test]
    fn wraps_to_the_second_sample_with_the_clock_at_zero() {
        // Oboe-style trace starting at 0.5 s: after the wrap the first interval is (0, 1].
        let trace = trace("0.5 8\n1 8\n2 16\n");
        let mut link = Link::new(&trace);
        link.idle(1.5); // to t = 2.0, the end: wraps
        assert!((link.position() - 2.0).abs() < 1e-12);
        // Now interval (0, 1] at 8 Mbit/s: 0.95 MB in one second.
        let seconds = link.download(950_000.0);
        assert!((seconds - 1.0).abs() < 1e-12, "{seconds}");
        assert!((link.position() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn zero_rate_intervals_are_waited_out() {
        let trace = trace("0 8\n1 0\n2 0\n3 8\n4 8\n");
        let mut link = Link::new(&trace);
        let mut steps = Vec::new();
        let seconds =
            link.download_with_progress(950_000.0, |elapsed, bytes| steps.push((elapsed, bytes)));
        assert!((seconds - 3.0).abs() < 1e-12, "{seconds}");
        // Zero-rate intervals deliver nothing, so they report no progress.
        assert_eq!(steps, vec![(3.0, 950_000.0)]);
    }

    #[test]
    fn bytes_within_matches_download() {
        let trace = trace("0 3\n1.3 7\n2.9 1\n4 12\n");
        let link = Link::new(&trace);
        for bytes in [1.0, 1e5, 7e5, 1.5e6, 4e6] {
            let mut probe = link;
            let seconds = probe.download(bytes);
            let back = link.bytes_within(seconds);
            assert!(
                (back - bytes).abs() < 1e-6 * bytes.max(1.0),
                "{bytes} vs {back}"
            );
        }
    }
}
