//! Arithmetic on buffered time ranges.
//!
//! Media Source buffers are lists of disjoint `[start, end)` ranges. Two ranges separated
//! by less than [`CONTIGUITY_TOLERANCE_S`] count as one for "how much is buffered ahead",
//! as in hls.js (encoders leave tiny holes between segments).

use super::io::TimeRange;

/// Holes shorter than this do not interrupt the buffer (seconds).
pub const CONTIGUITY_TOLERANCE_S: f64 = 0.1;

/// Sorts, drops empty or non-finite ranges, and merges overlapping or touching ones.
pub fn normalize(ranges: &[TimeRange]) -> Vec<TimeRange> {
    let mut sorted: Vec<TimeRange> = ranges
        .iter()
        .filter(|range| range.start.is_finite() && range.end.is_finite() && range.end > range.start)
        .copied()
        .collect();
    crate::small_sort::sort_by(&mut sorted, |a, b| a.start < b.start);
    let mut merged: Vec<TimeRange> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Adds `range` to a normalized list, keeping it normalized.
pub fn insert(ranges: &mut Vec<TimeRange>, range: TimeRange) {
    ranges.push(range);
    *ranges = normalize(ranges);
}

/// Removes `[start, end)` from a normalized list.
pub fn remove(ranges: &mut Vec<TimeRange>, start: f64, end: f64) {
    let mut kept = Vec::with_capacity(ranges.len() + 1);
    for range in ranges.iter() {
        if range.end <= start || range.start >= end {
            kept.push(*range);
            continue;
        }
        if range.start < start {
            kept.push(TimeRange::new(range.start, start));
        }
        if range.end > end {
            kept.push(TimeRange::new(end, range.end));
        }
    }
    *ranges = kept;
}

/// End of the buffer that plays continuously from `position` (holes under the tolerance
/// bridged), or `None` when `position` is not buffered.
pub fn contiguous_end(ranges: &[TimeRange], position: f64) -> Option<f64> {
    let mut end: Option<f64> = None;
    for range in ranges {
        match end {
            None => {
                if range.start - CONTIGUITY_TOLERANCE_S <= position && position < range.end {
                    end = Some(range.end);
                }
            }
            Some(current) => {
                if range.start - current <= CONTIGUITY_TOLERANCE_S {
                    end = Some(current.max(range.end));
                } else {
                    break;
                }
            }
        }
    }
    end
}

/// Seconds buffered ahead of `position` (0 when `position` is not buffered).
pub fn ahead(ranges: &[TimeRange], position: f64) -> f64 {
    contiguous_end(ranges, position).map_or(0.0, |end| (end - position).max(0.0))
}

/// The first range that starts after `position` (for gap jumping).
pub fn next_start_after(ranges: &[TimeRange], position: f64) -> Option<f64> {
    ranges
        .iter()
        .map(|range| range.start)
        .find(|start| *start > position)
}

/// Whether `position` lies in a buffered range (with the tolerance).
pub fn contains(ranges: &[TimeRange], position: f64) -> bool {
    contiguous_end(ranges, position).is_some()
}

/// Intersection of two normalized lists: what every track has buffered.
pub fn intersect(a: &[TimeRange], b: &[TimeRange]) -> Vec<TimeRange> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let start = x.start.max(y.start);
            let end = x.end.min(y.end);
            if end > start {
                out.push(TimeRange::new(start, end));
            }
        }
    }
    normalize(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: f64, end: f64) -> TimeRange {
        TimeRange::new(start, end)
    }

    #[test]
    fn normalize_merges_sorts_and_drops_garbage() {
        let ranges = normalize(&[
            r(4.0, 8.0),
            r(0.0, 4.0),
            r(10.0, 12.0),
            r(11.0, 11.5),
            r(f64::NAN, 3.0),
            r(5.0, 5.0),
        ]);
        assert_eq!(ranges, vec![r(0.0, 8.0), r(10.0, 12.0)]);
    }

    #[test]
    fn ahead_bridges_tiny_holes_only() {
        let ranges = normalize(&[r(0.0, 4.0), r(4.05, 8.0), r(9.0, 12.0)]);
        assert!((ahead(&ranges, 1.0) - 7.0).abs() < 1e-12);
        assert_eq!(ahead(&ranges, 8.5), 0.0);
        assert!(
            (ahead(&ranges, 8.95) - 3.05).abs() < 1e-12,
            "just before a range counts"
        );
        assert_eq!(next_start_after(&ranges, 8.5), Some(9.0));
    }

    #[test]
    fn remove_splits_ranges() {
        let mut ranges = vec![r(0.0, 10.0), r(12.0, 20.0)];
        remove(&mut ranges, 2.0, 14.0);
        assert_eq!(ranges, vec![r(0.0, 2.0), r(14.0, 20.0)]);
        remove(&mut ranges, 0.0, 100.0);
        assert!(ranges.is_empty());
    }

    #[test]
    fn intersect_keeps_common_parts() {
        let video = vec![r(0.0, 10.0), r(20.0, 30.0)];
        let audio = vec![r(2.0, 25.0)];
        assert_eq!(intersect(&video, &audio), vec![r(2.0, 10.0), r(20.0, 25.0)]);
    }
}
