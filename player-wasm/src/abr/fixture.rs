//! Hand-built ABR contexts for unit tests.

use super::{AbrContext, BandwidthEstimator, DownloadRecord, LevelInfo, Upcoming};

/// Owns everything an [`AbrContext`] borrows.
pub(crate) struct Fixture {
    pub levels: Vec<LevelInfo>,
    pub sizes: Vec<f64>,
    pub durations: Vec<f64>,
    pub history: Vec<DownloadRecord>,
    pub estimator: BandwidthEstimator,
    pub buffer_s: f64,
    pub last_level: Option<usize>,
    pub now: f64,
    pub remaining: Option<usize>,
    pub max_allowed_level: usize,
}

impl Fixture {
    /// Pensieve's ladder, `segments` segments of 4 s sized exactly bitrate × duration.
    pub fn pensieve(segments: usize) -> Fixture {
        let kbps = [300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0];
        let levels: Vec<LevelInfo> = kbps
            .iter()
            .map(|k| LevelInfo {
                bitrate_bps: k * 1000.0,
            })
            .collect();
        let sizes = (0..segments)
            .flat_map(|_| kbps.iter().map(|k| k * 1000.0 / 8.0 * 4.0))
            .collect();
        Fixture {
            levels,
            sizes,
            durations: vec![4.0; segments],
            history: Vec::new(),
            estimator: BandwidthEstimator::default(),
            buffer_s: 0.0,
            last_level: None,
            now: 0.0,
            remaining: Some(segments),
            max_allowed_level: kbps.len() - 1,
        }
    }

    /// Records a completed download of a 4 s segment at `level` that ran at `bps` with a
    /// 50 ms time to first byte, ending now; advances the clock past it.
    pub fn downloaded(&mut self, level: usize, bps: f64) -> &mut Self {
        let bytes = self.levels[level].bitrate_bps / 8.0 * 4.0;
        let transfer = bytes * 8.0 / bps;
        let requested_at = self.now;
        self.now += 0.05 + transfer;
        self.history.push(DownloadRecord {
            level,
            bytes,
            media_duration_s: 4.0,
            requested_at,
            first_byte_at: requested_at + 0.05,
            finished_at: self.now,
            abandoned: false,
            final_bps: None,
        });
        self.estimator.sample(bytes, transfer);
        self.last_level = Some(level);
        self
    }

    /// The context as the engine would pass it.
    pub fn ctx(&self) -> AbrContext<'_> {
        AbrContext {
            now: self.now,
            levels: &self.levels,
            max_allowed_level: self.max_allowed_level,
            last_level: self.last_level,
            buffer_s: self.buffer_s,
            max_buffer_s: 60.0,
            upcoming: Upcoming {
                durations_s: &self.durations,
                sizes_bytes: &self.sizes,
                levels: self.levels.len(),
                sizes_exact: true,
            },
            segments_remaining: self.remaining,
            history: &self.history,
            estimator: &self.estimator,
            playback_started: !self.history.is_empty(),
        }
    }
}
