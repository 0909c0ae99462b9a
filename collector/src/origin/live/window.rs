//! The live timeline of a looped VOD, and the window of it visible at a given time: pure
//! functions of (segment durations, discontinuities, window size, now).
//!
//! The VOD (n segments, total duration L) loops forever from the Unix epoch, so every
//! request, every server and every rendition of a ladder (equal segment durations) agree:
//!
//! * global segment k is VOD segment `k mod n` and starts at `(k div n)·L + offset(k mod n)`
//!   (µs since the epoch), where `offset(i)` is the sum of the durations before segment i;
//! * at time t the segments whose end is ≤ t are available; the window is the last
//!   `size` of them, and `EXT-X-MEDIA-SEQUENCE` is the first k in it;
//! * a discontinuity precedes every loop start (k mod n = 0, k > 0: timestamps jump back)
//!   and every segment that has one in the VOD (other than its first);
//! * `EXT-X-DISCONTINUITY-SEQUENCE` counts the discontinuities before the window's first
//!   segment (those that have slid out), so segments keep their discontinuity sequence
//!   number from one reload to the next.

/// Why a VOD has no live timeline, or a time is off it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    #[error("the playlist has no segment")]
    NoSegments,
    #[error("the segments last 0 s in all")]
    ZeroDuration,
    #[error("the total duration overflows")]
    TooLong,
    #[error("segment numbers at this time do not fit in 64 bits")]
    OutOfRange,
}

/// Durations and discontinuities of the VOD, prepared for the window computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// `ends[i]`: end of VOD segment i from the VOD's start, µs.
    ends: Vec<u64>,
    /// `before[i]`: VOD-internal discontinuities (segments 1..n that carry one) before i.
    before: Vec<u64>,
    /// VOD segment i carries a discontinuity (i ≥ 1 only).
    internal: Vec<bool>,
    /// Time between loop starts, µs: the VOD's duration, or longer when the renditions
    /// of a ladder last slightly different times (AAC frames do not end where video
    /// frames do) and must loop together.
    period: u64,
}

/// The segments of the live playlist at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Global index of the first segment: `EXT-X-MEDIA-SEQUENCE`.
    pub first: u64,
    /// One past the global index of the last segment (= segments available so far).
    pub end: u64,
    /// `EXT-X-DISCONTINUITY-SEQUENCE`.
    pub discontinuity_sequence: u64,
    /// When the window last moved: end of its last segment, µs since the epoch (0 when
    /// nothing is available yet).
    pub moved_at_us: u64,
}

impl Window {
    /// Global indices of the window's segments.
    pub fn indices(&self) -> std::ops::Range<u64> {
        self.first..self.end
    }
}

impl Timing {
    /// From each VOD segment's duration (µs) and whether it carries a discontinuity.
    pub fn new(segments: &[(u64, bool)]) -> Result<Self, TimelineError> {
        if segments.is_empty() {
            return Err(TimelineError::NoSegments);
        }
        let mut ends = Vec::with_capacity(segments.len());
        let mut before = Vec::with_capacity(segments.len() + 1);
        let mut internal = Vec::with_capacity(segments.len());
        let (mut end, mut count) = (0u64, 0u64);
        for (i, &(duration, discontinuity)) in segments.iter().enumerate() {
            end = end.checked_add(duration).ok_or(TimelineError::TooLong)?;
            ends.push(end);
            before.push(count);
            let inside = i > 0 && discontinuity;
            internal.push(inside);
            count += u64::from(inside);
        }
        before.push(count);
        if end == 0 {
            return Err(TimelineError::ZeroDuration);
        }
        Ok(Self {
            ends,
            before,
            internal,
            period: end,
        })
    }

    /// Segments in the VOD.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Always false: a timing has segments.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The VOD's own duration, µs.
    pub fn duration_us(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Time between loop starts, µs.
    pub fn loop_us(&self) -> u64 {
        self.period
    }

    /// The same timeline looping every `period_us` (never less than its own duration:
    /// the rest of a longer period is a gap before the next loop).
    pub fn looping_every(&self, period_us: u64) -> Timing {
        Timing {
            period: period_us.max(self.duration_us()),
            ..self.clone()
        }
    }

    /// `(k div n, k mod n)`.
    fn split(&self, k: u64) -> (u64, usize) {
        let n = self.ends.len() as u64;
        (k / n, (k % n) as usize)
    }

    /// Start of global segment k, µs since the epoch.
    pub fn start_us(&self, k: u64) -> Result<u64, TimelineError> {
        let (lap, i) = self.split(k);
        let offset = if i == 0 { 0 } else { self.ends[i - 1] };
        let start = u128::from(lap) * u128::from(self.loop_us()) + u128::from(offset);
        u64::try_from(start).map_err(|_| TimelineError::OutOfRange)
    }

    /// End of global segment k, µs since the epoch.
    pub fn end_us(&self, k: u64) -> Result<u64, TimelineError> {
        let (lap, i) = self.split(k);
        let end = u128::from(lap) * u128::from(self.loop_us()) + u128::from(self.ends[i]);
        u64::try_from(end).map_err(|_| TimelineError::OutOfRange)
    }

    /// The VOD segment global segment k plays.
    pub fn vod_index(&self, k: u64) -> usize {
        self.split(k).1
    }

    /// Whether an `EXT-X-DISCONTINUITY` precedes global segment k.
    pub fn has_discontinuity(&self, k: u64) -> bool {
        let (_, i) = self.split(k);
        k > 0 && (i == 0 || self.internal[i])
    }

    /// Discontinuities on global segments before k.
    pub fn discontinuities_before(&self, k: u64) -> Result<u64, TimelineError> {
        if k == 0 {
            return Ok(0);
        }
        let n = self.ends.len() as u64;
        let (lap, i) = self.split(k);
        let loop_starts = u128::from((k - 1) / n);
        let per_loop = u128::from(self.before[self.ends.len()]);
        let total = loop_starts + u128::from(lap) * per_loop + u128::from(self.before[i]);
        u64::try_from(total).map_err(|_| TimelineError::OutOfRange)
    }

    /// Segments whose end is ≤ `now_us`.
    pub fn available(&self, now_us: u64) -> Result<u64, TimelineError> {
        let loop_us = self.loop_us();
        let (laps, into) = (now_us / loop_us, now_us % loop_us);
        let in_lap = self.ends.partition_point(|&end| end <= into) as u128;
        let total = u128::from(laps) * self.ends.len() as u128 + in_lap;
        u64::try_from(total).map_err(|_| TimelineError::OutOfRange)
    }

    /// The window of the last `size` available segments at `now_us`.
    pub fn window(&self, size: usize, now_us: u64) -> Result<Window, TimelineError> {
        let end = self.available(now_us)?;
        let first = end.saturating_sub(size as u64);
        let moved_at_us = match end.checked_sub(1) {
            Some(last) => self.end_us(last)?,
            None => 0,
        };
        Ok(Window {
            first,
            end,
            discontinuity_sequence: self.discontinuities_before(first)?,
            moved_at_us,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    /// Three 2 s segments: one loop is 6 s.
    fn three_by_two() -> Timing {
        Timing::new(&[(2 * S, false), (2 * S, false), (2 * S, false)]).unwrap()
    }

    #[test]
    fn window_at_a_given_time() {
        let timing = three_by_two();
        // t = 100 s: 16 loops (96 s) + 4 s, so segments 0..50 have ended.
        let window = timing.window(3, 100 * S).unwrap();
        assert_eq!(
            window,
            Window {
                first: 47,
                end: 50,
                discontinuity_sequence: 15,
                moved_at_us: 100 * S,
            }
        );
        assert_eq!(timing.start_us(47).unwrap(), 94 * S);
        assert_eq!(timing.start_us(48).unwrap(), 96 * S);
        assert_eq!(timing.start_us(49).unwrap(), 98 * S);
        assert!(!timing.has_discontinuity(47));
        assert!(timing.has_discontinuity(48));
        // Just before segment 49 ends, it is not available yet.
        let earlier = timing.window(3, 100 * S - 1).unwrap();
        assert_eq!((earlier.first, earlier.end), (46, 49));
        assert_eq!(earlier.moved_at_us, 98 * S);
    }

    #[test]
    fn sequences_across_several_loops() {
        let timing = three_by_two();
        let mut previous: Option<Window> = None;
        // Every second for 30 s (five loops): the media sequence never goes back, and the
        // discontinuity sequence counts exactly the loop starts that slid out.
        for second in 6..36 {
            let window = timing.window(4, second * S).unwrap();
            let loop_starts_before = (1..window.first).filter(|k| k % 3 == 0).count() as u64;
            assert_eq!(
                window.discontinuity_sequence, loop_starts_before,
                "t={second}"
            );
            assert_eq!(window.end - window.first, 4.min(window.end));
            if let Some(previous) = previous {
                assert!(window.first >= previous.first);
                // A segment in both windows has the same discontinuity sequence number.
                for k in window.first.max(previous.first)..previous.end.min(window.end) {
                    let dsn = |w: &Window| {
                        w.discontinuity_sequence
                            + (w.first..=k)
                                .filter(|&j| timing.has_discontinuity(j))
                                .count() as u64
                    };
                    assert_eq!(dsn(&window), dsn(&previous), "k={k} t={second}");
                }
            }
            previous = Some(window);
        }
        let at_30 = timing.window(4, 30 * S).unwrap();
        assert_eq!((at_30.first, at_30.end), (11, 15));
        assert_eq!(at_30.discontinuity_sequence, 3); // loop starts 3, 6, 9
    }

    #[test]
    fn vod_discontinuities_count_in_every_loop() {
        // 4 s, 2 s (discontinuity), 3 s, 1 s (discontinuity): loop 10 s.
        let timing =
            Timing::new(&[(4 * S, true), (2 * S, true), (3 * S, false), (S, true)]).unwrap();
        assert_eq!(timing.loop_us(), 10 * S);
        let tagged: Vec<u64> = (0..12).filter(|&k| timing.has_discontinuity(k)).collect();
        assert_eq!(tagged, vec![1, 3, 4, 5, 7, 8, 9, 11]);
        for k in 0..40 {
            let expected = (0..k).filter(|&j| timing.has_discontinuity(j)).count() as u64;
            assert_eq!(timing.discontinuities_before(k).unwrap(), expected, "k={k}");
        }
        assert_eq!(timing.start_us(6).unwrap(), 16 * S);
        assert_eq!(timing.end_us(7).unwrap(), 20 * S);
        // t = 25.5 s: segments 0..9 have ended (segment 8 at 24 s; segment 9 ends at 26 s).
        let window = timing.window(6, 25 * S + S / 2).unwrap();
        assert_eq!((window.first, window.end), (3, 9));
        assert_eq!(window.discontinuity_sequence, 1);
        assert_eq!(window.moved_at_us, 24 * S);
    }

    #[test]
    fn the_real_clock_and_the_extremes() {
        let timing = three_by_two();
        // 2026-01-01T00:00:00Z = 1767225600 s, a multiple of 6.
        let now = 1_767_225_600 * S;
        let window = timing.window(6, now).unwrap();
        assert_eq!(window.end, 1_767_225_600 / 2);
        assert_eq!(timing.end_us(window.end - 1).unwrap(), now);
        assert_eq!(timing.start_us(window.first).unwrap(), now - 12 * S);
        // Before anything ends: an empty window.
        let start = timing.window(6, S).unwrap();
        assert_eq!((start.first, start.end, start.moved_at_us), (0, 0, 0));
        assert_eq!(timing.window(6, 2 * S).unwrap().end, 1);
        // Time runs out of 64-bit segment numbers only for absurd VODs.
        let tiny = Timing::new(&[(0, false), (0, false), (1, false)]).unwrap();
        assert!(tiny.window(6, u64::MAX).is_err());
        assert!(three_by_two().window(6, u64::MAX).is_ok());
        assert_eq!(Timing::new(&[]), Err(TimelineError::NoSegments));
        assert_eq!(Timing::new(&[(0, false)]), Err(TimelineError::ZeroDuration));
        assert_eq!(
            Timing::new(&[(u64::MAX, false), (1, false)]),
            Err(TimelineError::TooLong)
        );
    }
}
