//! MPEG timestamps: 33 bits of a 90 kHz clock, which wrap every 26.5 hours. [`Unwrapper`]
//! turns them into one continuous 64-bit timeline across segments.

/// Ticks per second of PTS, DTS and the PCR base.
pub const CLOCK: i64 = 90_000;
/// The period of a 33-bit timestamp.
const WRAP: i64 = 1 << 33;

/// Places 33-bit timestamps on a continuous timeline: each is taken as the value
/// congruent to it (modulo 2³³) nearest to the previous one, so a stream crossing the
/// wrap keeps increasing. The first timestamp is taken as it is; a value that would
/// fall before zero is moved one period later.
#[derive(Debug, Default, Clone)]
pub(crate) struct Unwrapper {
    reference: Option<i64>,
}

impl Unwrapper {
    /// The continuous value of `ts` (33 bits; higher bits are ignored).
    pub(crate) fn unwrap(&mut self, ts: u64) -> i64 {
        let ts = (ts & (WRAP as u64 - 1)) as i64;
        let value = match self.reference {
            None => ts,
            Some(reference) => {
                let mut value = ts + reference.div_euclid(WRAP) * WRAP;
                let delta = value - reference;
                if delta > WRAP / 2 {
                    value -= WRAP;
                } else if delta < -WRAP / 2 {
                    value += WRAP;
                }
                if value < 0 { value + WRAP } else { value }
            }
        };
        self.reference = Some(value);
        value
    }

    /// Forgets the timeline (a discontinuity: the next timestamp starts afresh).
    pub(crate) fn reset(&mut self) {
        self.reference = None;
    }
}

/// Converts `ticks` of a `from` Hz clock to the nearest tick of a `to` Hz clock.
pub(crate) fn rescale(ticks: i64, from: u32, to: u32) -> i64 {
    if from == to || from == 0 {
        return ticks;
    }
    let (from, to) = (i64::from(from), i64::from(to));
    // Whole seconds and the rest apart, so the products stay far from overflow (and
    // 64-bit division suffices: 128-bit division costs a kilobyte of wasm).
    let seconds = ticks.div_euclid(from);
    let rest = ticks.rem_euclid(from);
    seconds
        .saturating_mul(to)
        .saturating_add((rest * to + from / 2).div_euclid(from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_the_wrap_keeps_increasing() {
        let mut clock = Unwrapper::default();
        assert_eq!(clock.unwrap(WRAP as u64 - 90_000), WRAP - 90_000);
        assert_eq!(clock.unwrap(WRAP as u64 - 3_000), WRAP - 3_000);
        assert_eq!(clock.unwrap(0), WRAP);
        assert_eq!(clock.unwrap(90_000), WRAP + 90_000);
        // A stream slightly behind (audio before video) stays behind, not a period ahead.
        assert_eq!(clock.unwrap(WRAP as u64 - 1_000), WRAP - 1_000);
        // And the next period.
        let mut value = 0;
        for step in 0..5u64 {
            value = clock.unwrap(step * (WRAP as u64 / 4));
        }
        assert_eq!(value, 2 * WRAP);
    }

    #[test]
    fn first_value_as_is_and_no_negative_values() {
        let mut clock = Unwrapper::default();
        assert_eq!(clock.unwrap(1_000), 1_000);
        assert_eq!(clock.unwrap(WRAP as u64 - 500), WRAP - 500);
        clock.reset();
        assert_eq!(clock.unwrap(12_345 | (1 << 40)), 12_345);
    }

    #[test]
    fn rescaling_rounds_to_nearest() {
        assert_eq!(rescale(90_000, 90_000, 44_100), 44_100);
        assert_eq!(rescale(2_090, 90_000, 44_100), 1_024);
        assert_eq!(rescale(1_024, 48_000, 90_000), 1_920);
        assert_eq!(rescale(-90_000, 90_000, 1_000), -1_000);
        assert_eq!(rescale(5, 0, 1), 5);
        assert_eq!(
            rescale(1 << 40, 90_000, 48_000),
            ((1i64 << 40) * 48_000 + 45_000) / 90_000
        );
        assert_eq!(rescale(i64::MAX, 1, 2), i64::MAX);
    }
}
