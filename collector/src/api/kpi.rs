//! The figures the API reports, from sums of the store's metric columns.
//!
//! The meanings are those of [`player_wasm::qoe::metrics`] (Mux Data's definitions where
//! there is one): ratios are ratios of totals over the views in scope — total rebuffering
//! over total watch time, not a mean of per-view percentages — and rates are per attempt.
//! [`DEFINITIONS`] lists every figure with its unit, which direction is better and a
//! one-line definition (served at `/api/v1/definitions`, shown under the dashboard's tiles).
//!
//! Sampling: `views` counts each view `1 / sample_rate` times (the `weight` column) and
//! exact percentiles weigh views the same way, as [`player_wasm::qoe::aggregate_sampled`]
//! does. The other figures are ratios of the received views' sums, which equal the
//! weighted ones whenever the views in scope share one sample rate (the rollups keep no
//! weighted sums per column).
//!
//! Startup percentiles are nearest-rank ([`percentile`]) over the views' startup times
//! when a scope holds at most [`EXACT_PERCENTILE_LIMIT`] views with one; beyond, they are
//! estimated from the rollups' fine startup-time histogram ([`histogram_percentile`]:
//! the bin holding the nearest rank, linear within it), without reading the views.
//! Responses say which (`"percentiles": "exact" | "histogram"`).
//!
//! The estimate's error: the bins are log-spaced, eight per doubling
//! ([`crate::store::rollup::STARTUP_BINS_MS`]), and the nearest-rank value lies in the
//! bin the estimate is taken from, so between 64 ms and 65,536 ms the estimate is within
//! one bin width of it, at most 9.7 % of the value (2^(1/8) − 1 = 9.05 %, a little more
//! where bounds are rounded to whole milliseconds); below 64 ms within 64 ms; above
//! 65,536 ms the estimate is 65,536 ("at least"). The histogram counts views unweighted,
//! like the other sums (see sampling above).

use serde::Serialize;

use crate::store::Value;
use crate::store::rollup::{BINS, HISTOGRAM, bin_bounds};
use crate::store::summary::{COUNTERS, STARTUP_BUCKETS_MS};

/// Most views with a startup time for which percentiles are computed exactly (reading
/// each view's startup time); beyond, from the rollups' histogram.
pub const EXACT_PERCENTILE_LIMIT: i64 = 2_000;

/// Which direction of a figure is good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
    /// Neither (volume figures).
    Neutral,
}

/// One reported figure.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Definition {
    pub name: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub definition: &'static str,
}

const fn def(
    name: &'static str,
    title: &'static str,
    unit: &'static str,
    better: Better,
    definition: &'static str,
) -> Definition {
    Definition {
        name,
        title,
        unit,
        better,
        definition,
    }
}

/// Every figure of [`Kpis::values`], in that order.
pub const DEFINITIONS: [Definition; 20] = [
    def(
        "views",
        "Views",
        "views",
        Better::Neutral,
        "Views that started in the period (one load of one video in one player), each counted 1/sample rate times.",
    ),
    def(
        "attempts",
        "Play attempts",
        "views",
        Better::Neutral,
        "Views where playback was requested (a play request, a first frame or a fatal error): the denominator of EBVS, VSF and playback failures.",
    ),
    def(
        "startup_p50_ms",
        "Startup time (median)",
        "ms",
        Better::Lower,
        "Play request to first frame: half of the views that started waited this long or less.",
    ),
    def(
        "startup_p95_ms",
        "Startup time (95th percentile)",
        "ms",
        Better::Lower,
        "Play request to first frame: 95 % of the views that started waited this long or less.",
    ),
    def(
        "startup_mean_ms",
        "Startup time (mean)",
        "ms",
        Better::Lower,
        "Play request to first frame, averaged over the views that started.",
    ),
    def(
        "ebvs_pct",
        "Exits before video start",
        "%",
        Better::Lower,
        "Of play attempts: the viewer left before the first frame, with no error (EBVS).",
    ),
    def(
        "vsf_pct",
        "Video start failures",
        "%",
        Better::Lower,
        "Of play attempts: a fatal error before the first frame (VSF).",
    ),
    def(
        "playback_failure_pct",
        "Playback failures",
        "%",
        Better::Lower,
        "Of play attempts: a fatal error after the first frame.",
    ),
    def(
        "rebuffer_pct",
        "Rebuffering",
        "%",
        Better::Lower,
        "Time stalled for lack of data over watch time (startup, playing, seeking and stalls; not paused).",
    ),
    def(
        "rebuffer_per_min",
        "Rebuffer frequency",
        "per min",
        Better::Lower,
        "Stalls per minute of watch time.",
    ),
    def(
        "rebuffer_count",
        "Rebuffers",
        "stalls",
        Better::Lower,
        "Stalls for lack of data after the first frame.",
    ),
    def(
        "rebuffer_s",
        "Rebuffer time",
        "s",
        Better::Lower,
        "Total time stalled for lack of data.",
    ),
    def(
        "watch_time_s",
        "Watch time",
        "s",
        Better::Neutral,
        "Time spent watching or trying to watch: startup, playing, seeking and stalls.",
    ),
    def(
        "playing_time_s",
        "Playing time",
        "s",
        Better::Neutral,
        "Time frames were moving.",
    ),
    def(
        "avg_bitrate_bps",
        "Average bitrate",
        "bit/s",
        Better::Higher,
        "Bitrate on screen weighted by the playing time spent at it.",
    ),
    def(
        "switches_per_min",
        "Rendition switches",
        "per min",
        Better::Lower,
        "Changes of the rendition on screen after the first frame, per minute of playing time.",
    ),
    def(
        "score",
        "Viewer experience score",
        "0-100",
        Better::Higher,
        "Mean of the views' 0-100 scores (playback success x startup x smoothness x quality).",
    ),
    def(
        "dropped_frames_pct",
        "Dropped frames",
        "%",
        Better::Lower,
        "Frames dropped over frames decoded, over views that report frames.",
    ),
    def(
        "seek_latency_ms",
        "Seek latency",
        "ms",
        Better::Lower,
        "Mean time from a seek to playback resuming.",
    ),
    def(
        "errors",
        "Errors",
        "errors",
        Better::Lower,
        "Error events reported, fatal or not.",
    ),
];

/// The names of [`DEFINITIONS`].
pub fn metric_names() -> Vec<&'static str> {
    DEFINITIONS.iter().map(|d| d.name).collect()
}

/// Sums of the metric columns over some views: `weight`, each of [`COUNTERS`] and, from
/// the rollups, the startup-time histogram ([`HISTOGRAM`]; zero when summed from views).
#[derive(Debug, Clone, PartialEq)]
pub struct Sums {
    pub weight: f64,
    pub counters: [i64; COUNTERS.len()],
    pub histogram: [i64; BINS],
}

impl Default for Sums {
    fn default() -> Self {
        Sums {
            weight: 0.0,
            counters: [0; COUNTERS.len()],
            histogram: [0; BINS],
        }
    }
}

/// [`sums_sql`] followed by the histogram's sums: what [`Sums::from_rollup_row`] reads.
pub fn rollup_sums_sql() -> String {
    let histogram: Vec<String> = HISTOGRAM
        .iter()
        .map(|c| format!("COALESCE(SUM({c}), 0) AS {c}"))
        .collect();
    format!("{}, {}", sums_sql(""), histogram.join(", "))
}

/// Columns [`rollup_sums_sql`] selects.
pub const ROLLUP_WIDTH: usize = SUMS_WIDTH + BINS;

/// `COALESCE(SUM(weight), 0) AS weight, COALESCE(SUM(views), 0) AS views, …` for a
/// SELECT list, in the order [`Sums::from_row`] reads.
pub fn sums_sql(prefix: &str) -> String {
    std::iter::once("weight")
        .chain(COUNTERS)
        .map(|c| format!("COALESCE(SUM({prefix}{c}), 0) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The counters the reported figures and the breakdown's shares are computed from: what
/// a wide rollup read needs ([`figures_sql`]); the others are only summed for the store.
pub const FIGURE_COUNTERS: [&str; 21] = [
    "views",
    "attempts",
    "startup_count",
    "startup_ms",
    "ebvs",
    "vsf",
    "failures",
    "rebuffer_ms",
    "rebuffer_count",
    "watch_ms",
    "playing_ms",
    "played_bits",
    "bitrate_ms",
    "switches",
    "score_sum",
    "scored_views",
    "dropped_frames",
    "total_frames",
    "seek_ms",
    "seeks",
    "errors",
];

/// Like [`sums_sql`] for `weight` and [`FIGURE_COUNTERS`] only, in the order
/// [`Sums::from_figures_row`] reads.
pub fn figures_sql() -> String {
    std::iter::once("weight")
        .chain(FIGURE_COUNTERS)
        .map(|c| format!("COALESCE(SUM({c}), 0) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns [`figures_sql`] selects.
pub const FIGURES_WIDTH: usize = FIGURE_COUNTERS.len() + 1;

/// The plain column list `weight, views, …` (one view's values), same order.
pub fn columns_sql(prefix: &str) -> String {
    std::iter::once("weight")
        .chain(COUNTERS)
        .map(|c| format!("{prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns [`sums_sql`] and [`columns_sql`] select.
pub const SUMS_WIDTH: usize = COUNTERS.len() + 1;

impl Sums {
    /// Reads [`SUMS_WIDTH`] values (weight, then the counters) from `values`.
    pub fn from_row(values: &[Value]) -> Sums {
        let mut sums = Sums {
            weight: values.first().and_then(Value::as_f64).unwrap_or(0.0),
            ..Sums::default()
        };
        for (slot, value) in sums.counters.iter_mut().zip(values.iter().skip(1)) {
            *slot = value.as_i64().unwrap_or(0);
        }
        sums
    }

    /// The sum of counter `name` (0 for a name that is not a counter).
    pub fn get(&self, name: &str) -> i64 {
        COUNTERS
            .iter()
            .position(|c| *c == name)
            .map_or(0, |i| self.counters[i])
    }

    /// Reads [`FIGURES_WIDTH`] values (weight, then [`FIGURE_COUNTERS`]); the other
    /// counters stay 0.
    pub fn from_figures_row(values: &[Value]) -> Sums {
        let mut sums = Sums {
            weight: values.first().and_then(Value::as_f64).unwrap_or(0.0),
            ..Sums::default()
        };
        for (name, value) in FIGURE_COUNTERS.iter().zip(values.iter().skip(1)) {
            if let Some(i) = COUNTERS.iter().position(|c| c == name) {
                sums.counters[i] = value.as_i64().unwrap_or(0);
            }
        }
        sums
    }

    /// Reads [`ROLLUP_WIDTH`] values: [`Sums::from_row`]'s, then the histogram.
    pub fn from_rollup_row(values: &[Value]) -> Sums {
        let mut sums = Sums::from_row(values);
        for (slot, value) in sums
            .histogram
            .iter_mut()
            .zip(values.iter().skip(SUMS_WIDTH))
        {
            *slot = value.as_i64().unwrap_or(0);
        }
        sums
    }

    pub fn add(&mut self, other: &Sums) {
        self.weight += other.weight;
        for (a, b) in self.counters.iter_mut().zip(other.counters) {
            *a += b;
        }
        for (a, b) in self.histogram.iter_mut().zip(other.histogram) {
            *a += b;
        }
    }

    /// Views with a startup time.
    pub fn startups(&self) -> i64 {
        self.get("startup_count")
    }

    /// The coarse startup-time histogram: counts of [`STARTUP_BUCKETS_MS`] and the
    /// overflow (the fine one is [`Sums::histogram`]).
    pub fn startup_histogram(&self) -> Vec<i64> {
        STARTUP_BUCKETS_MS
            .iter()
            .map(|b| self.get(&format!("startup_upto_{b}ms")))
            .chain(std::iter::once(self.get("startup_over_20000ms")))
            .collect()
    }

    /// Lost score points: Σ (100 − score) over scored views.
    pub fn score_loss(&self) -> f64 {
        100.0 * self.get("scored_views") as f64 - self.get("score_sum") as f64 / 1000.0
    }

    /// Views that failed to start or failed playing: EBVS + VSF + playback failures.
    pub fn failed_views(&self) -> i64 {
        self.get("ebvs") + self.get("vsf") + self.get("failures")
    }
}

/// Startup percentiles of some views, and how they were obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

impl Percentiles {
    /// Exact nearest-rank percentiles of `(startup_ms, weight)` pairs sorted by time.
    pub fn exact(sorted: &[(f64, f64)]) -> Percentiles {
        let total: f64 = sorted.iter().map(|&(_, w)| w).sum();
        Percentiles {
            p50_ms: percentile(sorted, total, 50.0),
            p95_ms: percentile(sorted, total, 95.0),
        }
    }

    /// Estimates from the fine startup-time histogram of `sums`.
    pub fn histogram(sums: &Sums) -> Percentiles {
        let counts = &sums.histogram[..];
        Percentiles {
            p50_ms: histogram_percentile(counts, 50.0),
            p95_ms: histogram_percentile(counts, 95.0),
        }
    }
}

/// Nearest-rank percentile `p` of `(value, weight)` pairs sorted by value whose weights
/// add up to `total`: the first value at which the running weight reaches `p % of
/// total` (the definition of [`player_wasm::qoe::aggregate_sampled`]).
pub fn percentile(sorted: &[(f64, f64)], total: f64, p: f64) -> Option<f64> {
    let mut running = 0.0;
    for &(value, weight) in sorted {
        running += weight;
        if running * 100.0 >= p * total {
            return Some(value);
        }
    }
    sorted.last().map(|&(value, _)| value)
}

/// Percentile `p` estimated from the fine histogram's counts (bins of
/// [`crate::store::rollup::STARTUP_BINS_MS`] and the overflow): the bin holding nearest
/// rank `⌈p % × n⌉`, interpolated linearly inside it; in the overflow bin, its lower
/// bound (65,536 ms: "at least"). See the module's doc for the error bound.
pub fn histogram_percentile(counts: &[i64], p: f64) -> Option<f64> {
    let total: i64 = counts.iter().sum();
    if total <= 0 {
        return None;
    }
    let rank = ((p / 100.0) * total as f64).ceil().max(1.0);
    let mut before = 0.0;
    let mut last = None;
    for (k, &count) in counts.iter().enumerate() {
        let count = count as f64;
        let (lower, upper) = bin_bounds(k);
        if count > 0.0 && before + count >= rank {
            let Some(upper) = upper else {
                return Some(lower as f64);
            };
            let fraction = (rank - before) / count;
            return Some(lower as f64 + fraction * (upper - lower) as f64);
        }
        if count > 0.0 {
            last = Some(upper.unwrap_or(lower) as f64);
        }
        before += count;
    }
    last
}

/// The reported figures of some views.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kpis {
    /// In the order of [`DEFINITIONS`]; `None` where undefined (no attempts, no watch
    /// time, no startups…).
    pub values: Vec<Option<f64>>,
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

/// Rounds a reported figure to a thousandth (its last digits are noise).
pub fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

impl Kpis {
    /// The figures of views with these sums and startup percentiles.
    pub fn of(sums: &Sums, percentiles: Percentiles) -> Kpis {
        let c = |name: &str| sums.get(name) as f64;
        let attempts = c("attempts");
        let watch_ms = c("watch_ms");
        let playing_ms = c("playing_ms");
        let values = DEFINITIONS
            .iter()
            .map(|d| match d.name {
                "views" => Some(sums.weight),
                "attempts" => Some(attempts),
                "startup_p50_ms" => percentiles.p50_ms,
                "startup_p95_ms" => percentiles.p95_ms,
                "startup_mean_ms" => ratio(c("startup_ms"), c("startup_count")),
                "ebvs_pct" => ratio(100.0 * c("ebvs"), attempts),
                "vsf_pct" => ratio(100.0 * c("vsf"), attempts),
                "playback_failure_pct" => ratio(100.0 * c("failures"), attempts),
                "rebuffer_pct" => ratio(100.0 * c("rebuffer_ms"), watch_ms),
                "rebuffer_per_min" => ratio(c("rebuffer_count"), watch_ms / 60_000.0),
                "rebuffer_count" => Some(c("rebuffer_count")),
                "rebuffer_s" => Some(c("rebuffer_ms") / 1000.0),
                "watch_time_s" => Some(watch_ms / 1000.0),
                "playing_time_s" => Some(playing_ms / 1000.0),
                "avg_bitrate_bps" => ratio(c("played_bits"), c("bitrate_ms") / 1000.0),
                "switches_per_min" => ratio(c("switches"), playing_ms / 60_000.0),
                "score" => ratio(c("score_sum") / 1000.0, c("scored_views")),
                "dropped_frames_pct" => ratio(100.0 * c("dropped_frames"), c("total_frames")),
                "seek_latency_ms" => ratio(c("seek_ms"), c("seeks")),
                "errors" => Some(c("errors")),
                _ => None,
            })
            .map(|v| v.filter(|v| v.is_finite()).map(round))
            .collect();
        Kpis { values }
    }

    /// Figure `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        DEFINITIONS
            .iter()
            .position(|d| d.name == name)
            .and_then(|i| self.values.get(i).copied().flatten())
    }

    /// As a JSON object `{"views": 3, "startup_p50_ms": 500, …}` (null where undefined).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        DEFINITIONS
            .iter()
            .zip(&self.values)
            .map(|(d, v)| (d.name.to_string(), number(*v)))
            .collect()
    }
}

/// A figure as JSON: an integer when it is whole, null when undefined.
pub fn number(value: Option<f64>) -> serde_json::Value {
    match value {
        Some(v) if v.fract() == 0.0 && v.abs() < 9e15 => serde_json::Value::from(v as i64),
        Some(v) => serde_json::Value::from(v),
        None => serde_json::Value::Null,
    }
}

/// Relative change from `previous` to `current`, in percent (None without both, or
/// from zero).
pub fn change_pct(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    match (current, previous) {
        (Some(c), Some(p)) if p != 0.0 => Some(round(100.0 * (c - p) / p.abs())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use player_wasm::qoe::{aggregate, view_metrics};
    use protocol::{Event, EventKind, SwitchReason};

    use crate::store::summary::ViewSummary;

    const T0: f64 = 1_764_000_000_000.0;

    fn at(ms: f64, kind: EventKind) -> Event {
        Event {
            t: T0 + ms,
            pt: None,
            kind,
        }
    }

    fn sums_of(views: &[Vec<Event>]) -> Sums {
        let mut sums = Sums::default();
        for events in views {
            let summary = ViewSummary::of(events).unwrap();
            sums.weight += 1.0;
            for (slot, v) in sums.counters.iter_mut().zip(summary.counters()) {
                *slot += v;
            }
        }
        sums
    }

    #[test]
    fn the_figures_mean_what_the_player_means() {
        let switch = |from, to, bitrate| EventKind::Levelswitch {
            from,
            to,
            bitrate,
            height: None,
            reason: SwitchReason::Startup,
        };
        let views = vec![
            vec![
                at(0.0, EventKind::Playrequest),
                at(0.0, switch(None, 1, 1_000_000)),
                at(400.0, EventKind::Firstframe),
                at(10_400.0, EventKind::Rebufferstart),
                at(12_400.0, EventKind::Rebufferend),
                at(20_400.0, switch(Some(1), 2, 3_000_000)),
                at(30_400.0, EventKind::Viewend),
            ],
            vec![
                at(0.0, EventKind::Playrequest),
                at(1_000.0, EventKind::Firstframe),
                at(61_000.0, EventKind::Viewend),
            ],
            vec![
                at(0.0, EventKind::Playrequest),
                at(2_000.0, EventKind::Viewend),
            ],
            vec![
                at(0.0, EventKind::Playrequest),
                at(
                    500.0,
                    EventKind::Error {
                        code: "x".into(),
                        message: String::new(),
                        fatal: true,
                    },
                ),
            ],
        ];
        let sums = sums_of(&views);
        let metrics: Vec<_> = views.iter().map(|v| view_metrics(v)).collect();
        let expected = aggregate(&metrics);
        let startups: Vec<(f64, f64)> = {
            let mut s: Vec<f64> = metrics.iter().filter_map(|m| m.startup_time_ms).collect();
            s.sort_by(f64::total_cmp);
            s.into_iter().map(|v| (v, 1.0)).collect()
        };
        let kpis = Kpis::of(&sums, Percentiles::exact(&startups));
        let close = |name: &str, want: f64| {
            let got = kpis.get(name).unwrap_or(f64::NAN);
            assert!((got - want).abs() < 1e-3, "{name}: {got} against {want}");
        };
        close("views", expected.views);
        close("attempts", expected.attempts);
        close("startup_p50_ms", expected.startup_time_p50_ms.unwrap());
        close("startup_p95_ms", expected.startup_time_p95_ms.unwrap());
        close("ebvs_pct", expected.exits_before_start_percentage);
        close("vsf_pct", expected.video_start_failure_percentage);
        close("playback_failure_pct", expected.playback_failure_percentage);
        close("rebuffer_pct", expected.rebuffer_percentage);
        close("rebuffer_per_min", expected.rebuffer_frequency);
        close("avg_bitrate_bps", expected.average_bitrate_bps.unwrap());
        close("switches_per_min", expected.switches_per_minute);
        close("score", expected.score.unwrap());
        close("watch_time_s", expected.watch_time_s);
        close("playing_time_s", expected.playing_time_s);
        assert_eq!(kpis.get("seek_latency_ms"), None);
        assert_eq!(
            Kpis::of(&Sums::default(), Percentiles::default()).get("ebvs_pct"),
            None
        );
    }

    #[test]
    fn histogram_percentiles_interpolate_within_the_bin() {
        use crate::store::rollup::{STARTUP_BINS_MS, startup_bin};
        // 10 views in (64, 70] ms, 10 in (70, 76].
        let mut counts = vec![0; BINS];
        counts[1] = 10;
        counts[2] = 10;
        assert_eq!(histogram_percentile(&counts, 50.0), Some(70.0));
        assert_eq!(histogram_percentile(&counts, 95.0), Some(70.0 + 0.9 * 6.0));
        counts[BINS - 1] = 100;
        assert_eq!(histogram_percentile(&counts, 95.0), Some(65_536.0));
        assert_eq!(histogram_percentile(&[0; BINS], 50.0), None);

        // Against exact nearest rank over spread-out startup times: within the bound.
        let mut times: Vec<i64> = (0..5_000).map(|i| 80 + (i * i) % 20_000).collect();
        times.sort();
        let mut counts = vec![0; BINS];
        for &t in &times {
            counts[startup_bin(t)] += 1;
        }
        let sorted: Vec<(f64, f64)> = times.iter().map(|&t| (t as f64, 1.0)).collect();
        for p in [1.0, 10.0, 50.0, 90.0, 95.0, 99.0] {
            let exact = percentile(&sorted, sorted.len() as f64, p).unwrap();
            let estimate = histogram_percentile(&counts, p).unwrap();
            assert!(
                (estimate - exact).abs() <= 0.097 * exact,
                "p{p}: {estimate} against {exact}"
            );
        }
        assert_eq!(STARTUP_BINS_MS.len() + 1, BINS);
    }

    #[test]
    fn weighted_nearest_rank() {
        let sorted = [(100.0, 1.0), (200.0, 4.0)];
        assert_eq!(Percentiles::exact(&sorted).p50_ms, Some(200.0));
        assert_eq!(Percentiles::exact(&[]).p50_ms, None);
    }

    #[test]
    fn every_counter_named_here_exists() {
        for name in FIGURE_COUNTERS {
            assert!(COUNTERS.contains(&name), "{name}");
        }
        for name in [
            "startup_count",
            "startup_ms",
            "attempts",
            "ebvs",
            "vsf",
            "failures",
            "rebuffer_ms",
            "rebuffer_count",
            "watch_ms",
            "playing_ms",
            "played_bits",
            "bitrate_ms",
            "switches",
            "score_sum",
            "scored_views",
            "dropped_frames",
            "total_frames",
            "seek_ms",
            "seeks",
            "errors",
            "startup_over_20000ms",
        ] {
            assert!(COUNTERS.contains(&name), "{name}");
        }
        for b in STARTUP_BUCKETS_MS {
            assert!(COUNTERS.contains(&format!("startup_upto_{b}ms").as_str()));
        }
        assert_eq!(number(Some(3.0)), serde_json::json!(3));
        assert_eq!(change_pct(Some(150.0), Some(100.0)), Some(50.0));
        assert_eq!(change_pct(Some(1.0), Some(0.0)), None);
    }
}
