//! BBA (Huang et al., SIGCOMM 2014): the level follows the buffer alone.
//!
//! Below the reservoir (5 s) fetch the lowest level; above reservoir + cushion (15 s) the
//! highest; in between, the level index grows linearly with the buffer and is rounded
//! down. This is the mapping of Pensieve's `bb.py`, so lab figures compare with the
//! published ones.

use super::{Abr, AbrContext, Decision, SwitchReason};

/// Buffer-based rate adaptation.
#[derive(Debug, Clone)]
pub struct BufferBased {
    /// Below this buffer (seconds) the lowest level is chosen.
    pub reservoir_s: f64,
    /// Width (seconds) of the linear region above the reservoir.
    pub cushion_s: f64,
}

impl Default for BufferBased {
    fn default() -> Self {
        BufferBased {
            reservoir_s: 5.0,
            cushion_s: 10.0,
        }
    }
}

impl Abr for BufferBased {
    fn name(&self) -> &'static str {
        "bb"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let top = ctx.levels.len().saturating_sub(1);
        let buffer = ctx.buffer_s;
        let level = if buffer < self.reservoir_s {
            0
        } else if buffer >= self.reservoir_s + self.cushion_s {
            top
        } else {
            ((top as f64) * (buffer - self.reservoir_s) / self.cushion_s) as usize
        };
        let level = level.min(ctx.top());
        let reason = match ctx.last_level {
            None => SwitchReason::Startup,
            Some(last) if level < last => SwitchReason::BufferLow,
            Some(last) if level > last => SwitchReason::BufferHigh,
            Some(_) if level == 0 => SwitchReason::BufferLow,
            Some(_) => SwitchReason::Hold,
        };
        Decision::now(level, reason)
    }

    fn reset(&mut self) {}
}
