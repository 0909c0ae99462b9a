//! The rollup tables and how a period is cut across them.
//!
//! A view's metrics are summed three times over, in the same transaction (so a view is
//! counted once in each): by minute (`rollup_minute`, every dimension), by hour
//! (`rollup_hour`) and by day (`rollup_day`, both UTC), the last two for a few
//! dimension sets ([`SETS`]: a row keeps the dimensions of its set, the others are `''`).
//! A query reads, for each part of its period, the coarsest table that covers it: whole
//! days from `rollup_day`, whole hours from `rollup_hour`, the ragged minutes at the ends
//! from `rollup_minute` ([`split`]), with the smallest dimension set that holds its
//! filters and grouping ([`set_for`]). Sums are sums of integers (and of the sample
//! weights), so the answer is the one summing the minutes gives.
//!
//! Every rollup row also holds a startup-time histogram with fine log-spaced bins
//! ([`STARTUP_BINS_MS`], columns [`HISTOGRAM`]), from which percentiles are estimated
//! without reading the views (see `api::kpi`), and the greatest video title of its views.

use std::sync::LazyLock;

/// Upper bounds (ms, inclusive) of the startup histogram's bins: `round(64 × 2^(k/8))`,
/// eight bins per doubling from 64 ms to 65,536 ms. Bin 0 is `[0, 64]`, bin `k` is
/// `(bound[k-1], bound[k]]`, and one more bin holds everything above 65,536 ms.
pub const STARTUP_BINS_MS: [i64; 81] = [
    64, 70, 76, 83, 91, 99, 108, 117, 128, 140, 152, 166, 181, 197, 215, 235, 256, 279, 304, 332,
    362, 395, 431, 470, 512, 558, 609, 664, 724, 790, 861, 939, 1024, 1117, 1218, 1328, 1448, 1579,
    1722, 1878, 2048, 2233, 2435, 2656, 2896, 3158, 3444, 3756, 4096, 4467, 4871, 5312, 5793, 6317,
    6889, 7512, 8192, 8933, 9742, 10624, 11585, 12634, 13777, 15024, 16384, 17867, 19484, 21247,
    23170, 25268, 27554, 30048, 32768, 35734, 38968, 42495, 46341, 50535, 55109, 60097, 65536,
];

/// Bins of the startup histogram (the bounded ones and the overflow).
pub const BINS: usize = STARTUP_BINS_MS.len() + 1;

/// The histogram's columns, `startup_h00` … `startup_h81`, in bin order.
pub static HISTOGRAM: LazyLock<Vec<String>> =
    LazyLock::new(|| (0..BINS).map(|k| format!("startup_h{k:02}")).collect());

/// The bin of a startup time.
pub fn startup_bin(ms: i64) -> usize {
    STARTUP_BINS_MS.partition_point(|&upper| upper < ms)
}

/// The bounds `(lower, upper)` of bin `k` (`upper` is `None` for the overflow bin).
pub fn bin_bounds(k: usize) -> (i64, Option<i64>) {
    let lower = if k == 0 { 0 } else { STARTUP_BINS_MS[k - 1] };
    (lower, STARTUP_BINS_MS.get(k).copied())
}

/// The dimension columns, each with its bit in a set's mask.
pub const DIMENSIONS: [(&str, u32); 4] =
    [("video_id", 1), ("player", 2), ("browser", 4), ("os", 8)];

/// Every dimension: the per-minute table's rows.
pub const ALL: u32 = 15;

/// The dimension sets of `rollup_hour` and `rollup_day` (column `dims`), smallest first:
/// none, player × browser × OS (a few dozen combinations), video, and video with each
/// other dimension. A query involving more dimensions than any of them reads minutes.
pub const SETS: [u32; 6] = [0, 2 | 4 | 8, 1, 1 | 2, 1 | 4, 1 | 8];

/// The mask of a dimension column.
pub fn dimension_bit(column: &str) -> u32 {
    DIMENSIONS
        .iter()
        .find(|(c, _)| *c == column)
        .map_or(0, |(_, bit)| *bit)
}

/// The smallest set holding every dimension of `needed`, if the coarse tables have one.
pub fn set_for(needed: u32) -> Option<u32> {
    SETS.iter().copied().find(|set| set & needed == needed)
}

/// A rollup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Minute,
    Hour,
    Day,
}

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

impl Grain {
    pub const ALL: [Grain; 3] = [Grain::Minute, Grain::Hour, Grain::Day];

    pub fn table(self) -> &'static str {
        match self {
            Grain::Minute => "rollup_minute",
            Grain::Hour => "rollup_hour",
            Grain::Day => "rollup_day",
        }
    }

    /// The column holding the start of a row's bucket.
    pub fn time_column(self) -> &'static str {
        match self {
            Grain::Minute => "minute_ms",
            Grain::Hour | Grain::Day => "bucket_ms",
        }
    }

    pub fn size_ms(self) -> i64 {
        match self {
            Grain::Minute => MINUTE_MS,
            Grain::Hour => HOUR_MS,
            Grain::Day => DAY_MS,
        }
    }

    /// The start of the bucket holding `ms`.
    pub fn bucket(self, ms: i64) -> i64 {
        ms.div_euclid(self.size_ms()) * self.size_ms()
    }
}

/// One part of a period and the table it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub grain: Grain,
    /// `[from, to)`, whole buckets of `grain`.
    pub from: i64,
    pub to: i64,
}

/// Cuts `[from, to)` (whole minutes) into pieces, each read from the coarsest of `grains`
/// whose whole buckets it is: the middle from the coarsest, the ends from finer ones.
/// `grains` must hold [`Grain::Minute`]; pieces come in time order.
pub fn split(from: i64, to: i64, grains: &[Grain]) -> Vec<Piece> {
    let mut sorted: Vec<Grain> = grains.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut pieces = Vec::new();
    cut(from, to, &sorted, &mut pieces);
    pieces
}

fn cut(from: i64, to: i64, grains: &[Grain], out: &mut Vec<Piece>) {
    if from >= to {
        return;
    }
    let Some((&grain, finer)) = grains.split_last() else {
        return;
    };
    let size = grain.size_ms();
    let start = (from + size - 1).div_euclid(size) * size;
    let end = to.div_euclid(size) * size;
    if finer.is_empty() || start >= end {
        if finer.is_empty() {
            out.push(Piece { grain, from, to });
        } else {
            cut(from, to, finer, out);
        }
        return;
    }
    cut(from, start, finer, out);
    out.push(Piece {
        grain,
        from: start,
        to: end,
    });
    cut(end, to, finer, out);
}

/// Fills `rollup_minute`'s histogram and titles from `views` and rebuilds `rollup_hour`
/// and `rollup_day` from `rollup_minute` (part of migration 2; bulk loaders run it after
/// writing views and minutes).
pub const BACKFILL_SQL: &str = include_str!("migrations/rollups_backfill.sql");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_log_spaced_and_fine() {
        for (k, bound) in STARTUP_BINS_MS.iter().enumerate() {
            let exact = 64.0 * 2f64.powf(k as f64 / 8.0);
            assert_eq!(*bound, exact.round() as i64);
        }
        let widest = STARTUP_BINS_MS
            .windows(2)
            .map(|w| (w[1] - w[0]) as f64 / w[0] as f64)
            .fold(0.0, f64::max);
        assert!(widest < 0.097, "{widest}");
        assert_eq!(startup_bin(0), 0);
        assert_eq!(startup_bin(64), 0);
        assert_eq!(startup_bin(65), 1);
        assert_eq!(startup_bin(70), 1);
        assert_eq!(startup_bin(65_536), 80);
        assert_eq!(startup_bin(65_537), 81);
        assert_eq!(bin_bounds(1), (64, Some(70)));
        assert_eq!(bin_bounds(81), (65_536, None));
        assert_eq!(HISTOGRAM.len(), BINS);
    }

    #[test]
    fn periods_are_cut_coarsest_first() {
        let all = Grain::ALL;
        let day = 20_000 * DAY_MS;
        // 22:59 on day 0 to 01:02 on day 3.
        let from = day + 22 * HOUR_MS + 59 * MINUTE_MS;
        let to = day + 3 * DAY_MS + HOUR_MS + 2 * MINUTE_MS;
        let pieces = split(from, to, &all);
        let expected = [
            (Grain::Minute, from, day + 23 * HOUR_MS),
            (Grain::Hour, day + 23 * HOUR_MS, day + DAY_MS),
            (Grain::Day, day + DAY_MS, day + 3 * DAY_MS),
            (Grain::Hour, day + 3 * DAY_MS, day + 3 * DAY_MS + HOUR_MS),
            (Grain::Minute, day + 3 * DAY_MS + HOUR_MS, to),
        ];
        let got: Vec<_> = pieces.iter().map(|p| (p.grain, p.from, p.to)).collect();
        assert_eq!(got, expected);
        // Contiguous and complete, whatever the grains allowed.
        for grains in [&all[..], &[Grain::Minute, Grain::Day], &[Grain::Minute]] {
            let pieces = split(from, to, grains);
            assert_eq!(pieces.first().unwrap().from, from);
            assert_eq!(pieces.last().unwrap().to, to);
            for w in pieces.windows(2) {
                assert_eq!(w[0].to, w[1].from);
            }
            for p in &pieces {
                assert!(grains.contains(&p.grain));
                assert_eq!(p.from % p.grain.size_ms(), 0);
                assert_eq!(p.to % p.grain.size_ms(), 0);
            }
        }
        // Inside one hour: minutes only.
        let short = split(day, day + 30 * MINUTE_MS, &all);
        assert_eq!(short.len(), 1);
        assert_eq!(short[0].grain, Grain::Minute);
    }

    #[test]
    fn sets_cover_what_queries_need() {
        assert_eq!(set_for(0), Some(0));
        assert_eq!(set_for(dimension_bit("player")), Some(14));
        assert_eq!(set_for(2 | 8), Some(14));
        assert_eq!(set_for(1), Some(1));
        assert_eq!(set_for(1 | 8), Some(9));
        assert_eq!(set_for(1 | 2 | 4), None);
    }

    #[test]
    fn the_migration_and_backfill_know_every_column() {
        let ddl = include_str!("migrations/0002_coarse_rollups.sql");
        for column in HISTOGRAM.iter() {
            assert!(
                ddl.contains(&format!("ADD COLUMN {column} BIGINT")),
                "{column}"
            );
            assert!(
                BACKFILL_SQL.contains(&format!("{column} = s.{column}")),
                "{column}"
            );
        }
        for (k, upper) in STARTUP_BINS_MS.iter().enumerate() {
            assert!(
                BACKFILL_SQL.contains(&format!(
                    "startup_ms <= {upper} THEN 1 ELSE 0 END) AS startup_h{k:02}"
                )),
                "bin {k}"
            );
        }
        for set in SETS {
            assert!(
                BACKFILL_SQL.contains(&format!("property, {set}, ")),
                "set {set}"
            );
        }
    }
}
