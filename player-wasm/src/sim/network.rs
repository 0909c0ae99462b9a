//! Network models: when a transfer's first byte and last byte arrive.

use crate::engine::RequestKind;

/// The timing of one transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferPlan {
    /// When the response headers and first byte arrive.
    pub first_byte_at: f64,
    /// Cumulative bytes received at given times (increasing; may be empty).
    pub progress: Vec<(f64, u64)>,
    /// When the last byte arrives.
    pub finished_at: f64,
}

/// How long transfers take.
pub trait Network {
    /// A transfer of `bytes` requested at `now`.
    fn transfer(&mut self, now: f64, bytes: u64, kind: &RequestKind) -> TransferPlan;

    /// The transfer planned by `plan` was aborted at `now`.
    fn abort(&mut self, _now: f64, _plan: &TransferPlan) {}
}

/// A fixed rate and latency; transfers do not share the link. Playlists take only the
/// latency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConstantNetwork {
    pub bits_per_second: f64,
    pub latency_s: f64,
    /// Progress is reported this often.
    pub progress_interval_s: f64,
}

impl ConstantNetwork {
    /// A network of `bits_per_second` with `latency_s` to the first byte.
    pub fn new(bits_per_second: f64, latency_s: f64) -> Self {
        ConstantNetwork {
            bits_per_second,
            latency_s,
            progress_interval_s: 0.1,
        }
    }
}

impl Network for ConstantNetwork {
    fn transfer(&mut self, now: f64, bytes: u64, kind: &RequestKind) -> TransferPlan {
        let first_byte_at = now + self.latency_s;
        if kind.is_playlist() {
            return TransferPlan {
                first_byte_at,
                progress: Vec::new(),
                finished_at: first_byte_at,
            };
        }
        let rate = self.bits_per_second.max(1.0) / 8.0;
        let duration = bytes as f64 / rate;
        let progress = (1..10_000u32)
            .map(|step| f64::from(step) * self.progress_interval_s)
            .take_while(|elapsed| *elapsed < duration - 1e-9)
            .map(|elapsed| (first_byte_at + elapsed, (elapsed * rate) as u64))
            .collect();
        TransferPlan {
            first_byte_at,
            progress,
            finished_at: first_byte_at + duration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{RequestKind, TrackId};

    #[test]
    fn constant_network_timing() {
        let mut network = ConstantNetwork::new(8e6, 0.1);
        let segment = RequestKind::Segment {
            track: TrackId::Main,
            level: 0,
            sequence: 0,
        };
        let plan = network.transfer(2.0, 1_000_000, &segment);
        assert!((plan.first_byte_at - 2.1).abs() < 1e-12);
        assert!((plan.finished_at - 3.1).abs() < 1e-12);
        assert_eq!(plan.progress.len(), 9);
        assert!(plan.progress.windows(2).all(|pair| pair[0].1 < pair[1].1));
        let playlist = network.transfer(0.0, 5_000, &RequestKind::Manifest);
        assert_eq!(playlist.finished_at, playlist.first_byte_at);
    }
}
