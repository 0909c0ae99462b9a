//! Adaptive bitrate: which level to fetch the next segment at.
//!
//! Every algorithm implements [`Abr`] and sees the same [`AbrContext`]: the ladder, the
//! buffer, the next segments' sizes (exact from byte ranges, or estimated from the declared
//! bitrate), the completed downloads and the shared [`BandwidthEstimator`]. Each returns a
//! [`Decision`] that carries its [`SwitchReason`], which reaches the JS API and telemetry.
//!
//! Algorithms, chosen by name ([`AbrKind`]):
//! * `throughput`: EWMA throughput rule in the manner of hls.js.
//! * `bola`: BOLA-E as in dash.js (buffer-based utility maximisation with placeholder buffer).
//! * `bb`: BBA with a 5 s reservoir and 10 s cushion (as in Pensieve's `bb.py`).
//! * `robust-mpc`: Yin et al. 2015, five-segment horizon, discounted harmonic-mean throughput.
//! * `default`: ours; see [`default`](crate::abr::default) for what it does and why.
//!
//! Nothing here does I/O or reads a clock: the engine passes `now` in the context.

mod bb;
mod bola;
pub mod default;
mod estimator;
#[cfg(test)]
pub(crate) mod fixture;
mod kind;
mod mpc;
mod throughput;

pub use bb::BufferBased;
pub use bola::Bola;
pub use default::DefaultAbr;
pub use estimator::{BandwidthEstimator, EstimatorConfig};
pub use kind::{AbrKind, UnknownAbr};
pub use mpc::RobustMpc;
pub use protocol::SwitchReason;
pub use throughput::ThroughputRule;

/// One rung of the ladder as the ABR sees it. Levels are sorted by ascending bitrate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelInfo {
    /// Nominal bitrate in bits per second (`AVERAGE-BANDWIDTH` when declared, else `BANDWIDTH`).
    pub bitrate_bps: f64,
}

/// The next segments, from the one about to be fetched onwards: durations and sizes per level.
#[derive(Debug, Clone, Copy)]
pub struct Upcoming<'a> {
    /// Media duration of each upcoming segment, in seconds.
    pub durations_s: &'a [f64],
    /// Sizes in bytes, row-major: `sizes_bytes[segment * levels + level]`.
    pub sizes_bytes: &'a [f64],
    /// Number of levels per row of `sizes_bytes`.
    pub levels: usize,
    /// Whether the sizes are exact (byte ranges) rather than estimated from bitrates.
    pub sizes_exact: bool,
}

impl<'a> Upcoming<'a> {
    /// No upcoming segment is known.
    pub const EMPTY: Upcoming<'static> = Upcoming {
        durations_s: &[],
        sizes_bytes: &[],
        levels: 0,
        sizes_exact: false,
    };

    /// How many upcoming segments are described.
    pub fn len(&self) -> usize {
        self.sizes_bytes
            .len()
            .checked_div(self.levels)
            .map_or(0, |rows| self.durations_s.len().min(rows))
    }

    /// Whether no upcoming segment is described.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size in bytes of upcoming segment `ahead` (0 = next) at `level`.
    pub fn size(&self, ahead: usize, level: usize) -> f64 {
        self.sizes_bytes[ahead * self.levels + level]
    }

    /// Media duration of upcoming segment `ahead`.
    pub fn duration(&self, ahead: usize) -> f64 {
        self.durations_s[ahead]
    }
}

/// A completed (or abandoned) segment download, as the engine measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DownloadRecord {
    /// Level the segment was fetched at.
    pub level: usize,
    /// Bytes received.
    pub bytes: f64,
    /// Media duration of the segment, in seconds.
    pub media_duration_s: f64,
    /// When the request was issued.
    pub requested_at: f64,
    /// When the response headers and first byte arrived.
    pub first_byte_at: f64,
    /// When the last byte arrived (or the request was abandoned).
    pub finished_at: f64,
    /// Whether the download was abandoned before completing.
    pub abandoned: bool,
    /// Throughput of the final stretch of the transfer (from fetch progress, see
    /// [`final_stretch_bps`]), in bits per second, when progress was reported.
    pub final_bps: Option<f64>,
}

/// Shortest final stretch of a transfer whose rate is reported (seconds).
pub const FINAL_STRETCH_S: f64 = 0.5;

/// Throughput over the end of a transfer: from the last progress report at least
/// [`FINAL_STRETCH_S`] before the end to the end. `progress` holds (time, bytes so far)
/// reports in order. `None` without such a report (short transfers: the whole transfer's
/// rate is the best there is).
pub fn final_stretch_bps(finished_at: f64, bytes: f64, progress: &[(f64, f64)]) -> Option<f64> {
    let (at, loaded) = progress
        .iter()
        .rev()
        .find(|(at, loaded)| finished_at - at >= FINAL_STRETCH_S && *loaded < bytes)?;
    let seconds = finished_at - at;
    (seconds > 0.0).then(|| (bytes - loaded) * 8.0 / seconds)
}

impl DownloadRecord {
    /// Throughput over the whole request, latency included, in bits per second.
    pub fn throughput_with_latency_bps(&self) -> f64 {
        let elapsed = (self.finished_at - self.requested_at).max(1e-6);
        self.bytes * 8.0 / elapsed
    }

    /// Throughput of the transfer alone (time to first byte excluded), in bits per second.
    pub fn transfer_throughput_bps(&self) -> f64 {
        let elapsed = (self.finished_at - self.first_byte_at).max(1e-6);
        self.bytes * 8.0 / elapsed
    }

    /// Time to first byte, in seconds.
    pub fn ttfb_s(&self) -> f64 {
        (self.first_byte_at - self.requested_at).max(0.0)
    }
}

/// Everything an algorithm may use to choose the next level.
#[derive(Debug, Clone, Copy)]
pub struct AbrContext<'a> {
    /// Current time in seconds (engine clock).
    pub now: f64,
    /// The ladder, ascending bitrate.
    pub levels: &'a [LevelInfo],
    /// Highest level the algorithm may choose (player-size cap, options).
    pub max_allowed_level: usize,
    /// Level of the previous segment, if any.
    pub last_level: Option<usize>,
    /// Seconds of media buffered ahead of the playhead.
    pub buffer_s: f64,
    /// The engine stops fetching above this buffer level.
    pub max_buffer_s: f64,
    /// The next segments, starting with the one being decided.
    pub upcoming: Upcoming<'a>,
    /// Segments left to fetch including the next one; `None` for live streams.
    pub segments_remaining: Option<usize>,
    /// Completed segment downloads, oldest first.
    pub history: &'a [DownloadRecord],
    /// The shared bandwidth estimate.
    pub estimator: &'a BandwidthEstimator,
    /// Playback has started (first frame shown).
    pub playback_started: bool,
}

impl AbrContext<'_> {
    /// Highest level index that may be chosen.
    pub fn top(&self) -> usize {
        self.max_allowed_level
            .min(self.levels.len().saturating_sub(1))
    }

    /// Bitrate of `level` in Mbit/s.
    pub fn mbps(&self, level: usize) -> f64 {
        self.levels[level].bitrate_bps / 1e6
    }

    /// Size in bytes of the upcoming segment `ahead` at `level`: exact when known,
    /// otherwise bitrate × duration.
    pub fn segment_bytes(&self, ahead: usize, level: usize) -> f64 {
        if ahead < self.upcoming.len() && level < self.upcoming.levels {
            self.upcoming.size(ahead, level)
        } else {
            self.levels[level].bitrate_bps / 8.0 * self.segment_duration(ahead)
        }
    }

    /// Duration of the upcoming segment `ahead`: from the playlist when known, otherwise
    /// the last known duration (or 4 s when nothing is known).
    pub fn segment_duration(&self, ahead: usize) -> f64 {
        let durations = self.upcoming.durations_s;
        durations
            .get(ahead)
            .or_else(|| durations.last())
            .copied()
            .unwrap_or(4.0)
    }

    /// Highest level whose bitrate is at most `bps` (level 0 when none is).
    pub fn level_for_bitrate(&self, bps: f64) -> usize {
        (0..=self.top())
            .rev()
            .find(|&level| self.levels[level].bitrate_bps <= bps)
            .unwrap_or(0)
    }
}

/// The level chosen for the next segment, and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub level: usize,
    pub reason: SwitchReason,
    /// Seconds to wait before fetching (BOLA pauses rather than overfill at low quality).
    pub delay_s: f64,
}

impl Decision {
    /// A decision to fetch `level` now.
    pub fn now(level: usize, reason: SwitchReason) -> Self {
        Decision {
            level,
            reason,
            delay_s: 0.0,
        }
    }
}

/// An adaptive-bitrate algorithm.
///
/// Not `Debug` as a supertrait: that would put every algorithm's `Debug` (and the float
/// formatting it needs) into the browser package through the trait object's vtable.
pub trait Abr {
    /// The algorithm's name, as accepted by [`AbrKind`].
    fn name(&self) -> &'static str;

    /// Chooses the level of the next segment.
    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision;

    /// Forgets everything learnt from a session (new load).
    fn reset(&mut self);
}

impl std::fmt::Debug for dyn Abr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Chooses the reason for moving from `last` to `level` when an algorithm's rule is
/// throughput-driven.
pub(crate) fn throughput_reason(last: Option<usize>, level: usize) -> SwitchReason {
    match last {
        None => SwitchReason::Startup,
        Some(last) if level > last => SwitchReason::ThroughputUp,
        Some(last) if level < last => SwitchReason::ThroughputDown,
        Some(_) => SwitchReason::Hold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_stretch_is_measured_from_the_last_report_far_enough_from_the_end() {
        // 1 MB over 4 s: 2 Mbit/s for 2 s, then 6 Mbit/s for the last 1⅓ s or so.
        let progress = [(1.0, 250_000.0), (2.0, 500_000.0), (2.9, 950_000.0)];
        // The report 0.1 s before the end is too close: measured from t = 2.0.
        let rate = final_stretch_bps(3.0, 1_000_000.0, &progress).unwrap();
        assert!((rate - 4e6).abs() < 1e-6, "{rate}");
        assert_eq!(final_stretch_bps(3.0, 1_000_000.0, &[(2.8, 10.0)]), None);
        assert_eq!(final_stretch_bps(3.0, 1_000_000.0, &[]), None);
    }

    #[test]
    fn download_rates_with_and_without_latency() {
        let record = DownloadRecord {
            level: 0,
            bytes: 500_000.0,
            media_duration_s: 4.0,
            requested_at: 10.0,
            first_byte_at: 10.5,
            finished_at: 12.5,
            abandoned: false,
            final_bps: None,
        };
        assert_eq!(record.ttfb_s(), 0.5);
        assert!((record.transfer_throughput_bps() - 2e6).abs() < 1e-6);
        assert!((record.throughput_with_latency_bps() - 1.6e6).abs() < 1e-6);
    }
}
