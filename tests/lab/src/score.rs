//! Scoring sessions the way Pensieve's evaluation does.
//!
//! Every chunk gets QoE_lin; the first chunk (fixed start level, start-up delay) is not
//! scored, so a 48-chunk session scores chunks 2..48. Per-trace figures are averaged over
//! traces with equal weight.

use player_wasm::qoe::segment_qoe_lin;
use serde::Serialize;

/// What happened to one chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChunkOutcome {
    pub level: usize,
    pub mbps: f64,
    pub previous_mbps: f64,
    /// Stall charged to this chunk (time the player waited for it with an empty buffer).
    pub rebuffer_s: f64,
    /// Buffer after the chunk arrived (and after any sleep).
    pub buffer_after_s: f64,
}

impl ChunkOutcome {
    /// QoE_lin of the chunk.
    pub fn qoe(&self) -> f64 {
        segment_qoe_lin(self.mbps, self.rebuffer_s, self.previous_mbps)
    }
}

/// One session over one trace.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionOutcome {
    pub trace: String,
    pub chunks: Vec<ChunkOutcome>,
}

impl SessionOutcome {
    /// The scored chunks (all but the first).
    pub fn scored(&self) -> &[ChunkOutcome] {
        self.chunks.get(1..).unwrap_or(&[])
    }

    /// Sum of QoE_lin over scored chunks.
    pub fn qoe_sum(&self) -> f64 {
        self.scored().iter().map(ChunkOutcome::qoe).sum()
    }

    fn mean_of(&self, value: impl Fn(&ChunkOutcome) -> f64) -> f64 {
        let scored = self.scored();
        if scored.is_empty() {
            return 0.0;
        }
        scored.iter().map(value).sum::<f64>() / scored.len() as f64
    }

    /// Mean QoE_lin per scored chunk.
    pub fn qoe_per_segment(&self) -> f64 {
        self.mean_of(ChunkOutcome::qoe)
    }

    /// Mean bitrate of the scored chunks.
    pub fn bitrate_mbps(&self) -> f64 {
        self.mean_of(|chunk| chunk.mbps)
    }

    /// Total stall over the scored chunks.
    pub fn rebuffer_s(&self) -> f64 {
        self.scored().iter().map(|chunk| chunk.rebuffer_s).sum()
    }

    /// Mean switch magnitude per scored chunk.
    pub fn switch_mbps_per_segment(&self) -> f64 {
        self.mean_of(|chunk| (chunk.mbps - chunk.previous_mbps).abs())
    }

    /// Levels of every chunk.
    pub fn levels(&self) -> Vec<usize> {
        self.chunks.iter().map(|chunk| chunk.level).collect()
    }
}

/// An algorithm's figures over a set of traces (the `--json` result entries).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlgoSummary {
    pub algo: String,
    pub qoe_per_segment: f64,
    pub bitrate_mbps: f64,
    pub rebuffer_s_per_trace: f64,
    pub switch_mbps_per_segment: f64,
}

impl AlgoSummary {
    /// Averages per-trace figures over `sessions`.
    pub fn from_sessions(algo: &str, sessions: &[SessionOutcome]) -> AlgoSummary {
        let mean = |value: &dyn Fn(&SessionOutcome) -> f64| {
            if sessions.is_empty() {
                0.0
            } else {
                sessions.iter().map(value).sum::<f64>() / sessions.len() as f64
            }
        };
        AlgoSummary {
            algo: algo.to_owned(),
            qoe_per_segment: mean(&SessionOutcome::qoe_per_segment),
            bitrate_mbps: mean(&SessionOutcome::bitrate_mbps),
            rebuffer_s_per_trace: mean(&SessionOutcome::rebuffer_s),
            switch_mbps_per_segment: mean(&SessionOutcome::switch_mbps_per_segment),
        }
    }
}
