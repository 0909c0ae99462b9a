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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abr::fixture::Fixture;

    #[test]
    fn reservoir_cushion_and_top() {
        let mut fixture = Fixture::pensieve(10);
        fixture.last_level = Some(2);
        let mut bb = BufferBased::default();
        let cases = [
            (0.0, 0),
            (4.99, 0),
            (5.0, 0),
            (7.0, 1),
            (9.0, 2),
            (12.9, 3),
            (14.99, 4),
            (15.0, 5),
            (60.0, 5),
        ];
        for (buffer, expected) in cases {
            fixture.buffer_s = buffer;
            assert_eq!(bb.choose(&fixture.ctx()).level, expected, "buffer {buffer}");
        }
        fixture.buffer_s = 2.0;
        assert_eq!(bb.choose(&fixture.ctx()).reason, SwitchReason::BufferLow);
        fixture.buffer_s = 40.0;
        assert_eq!(bb.choose(&fixture.ctx()).reason, SwitchReason::BufferHigh);
        fixture.max_allowed_level = 3;
        assert_eq!(bb.choose(&fixture.ctx()).level, 3, "the cap is respected");
    }
}
