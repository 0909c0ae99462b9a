//! `/metrics`: counters, gauges and histograms for operators, in Prometheus' text format.
//!
//! What is exported: beacon batches and events accepted (stored or duplicate), rejected
//! requests by reason and status, the store's write queue depth, its commit latency and
//! group size (how many batches share one commit, so one fsync), and failed commits.
//! No external crate: a handful of atomics and locks rendered by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;

use crate::store::Store;

/// A histogram with fixed upper bounds (`le`), as Prometheus reads it.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    state: Mutex<HistogramState>,
}

#[derive(Debug, Default)]
struct HistogramState {
    /// Non-cumulative counts per bound, then the `+Inf` bucket.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            state: Mutex::new(HistogramState {
                counts: vec![0; bounds.len() + 1],
                ..HistogramState::default()
            }),
        }
    }

    pub fn observe(&self, value: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&bound| value <= bound)
            .unwrap_or(self.bounds.len());
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.counts[bucket] += 1;
        state.sum += value;
        state.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&state.counts) {
            cumulative += count;
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", state.count);
        let _ = writeln!(out, "{name}_sum {}", state.sum);
        let _ = writeln!(out, "{name}_count {}", state.count);
    }
}

const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const GROUP_SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Everything the collector counts for `/metrics`.
#[derive(Debug)]
pub struct Metrics {
    pub batches_stored: AtomicU64,
    pub batches_duplicate: AtomicU64,
    pub events_stored: AtomicU64,
    rejects: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub commit_seconds: Histogram,
    pub group_batches: Histogram,
    pub commit_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            batches_stored: AtomicU64::new(0),
            batches_duplicate: AtomicU64::new(0),
            events_stored: AtomicU64::new(0),
            rejects: Mutex::new(BTreeMap::new()),
            commit_seconds: Histogram::new(SECONDS),
            group_batches: Histogram::new(GROUP_SIZES),
            commit_failures: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts a rejected request.
    pub fn reject(&self, reason: &'static str, status: u16) {
        let mut rejects = self.rejects.lock().unwrap_or_else(|e| e.into_inner());
        *rejects.entry((reason, status)).or_default() += 1;
    }

    /// Counts one commit of `batches` batches that took `elapsed`.
    pub fn commit(&self, batches: usize, elapsed: Duration) {
        self.commit_seconds.observe(elapsed.as_secs_f64());
        self.group_batches.observe(batches as f64);
    }

    /// The Prometheus text exposition, with the store's current queue depth.
    pub fn render(&self, queue_depth: usize, queue_capacity: usize) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let _ = writeln!(
            out,
            "# HELP collector_beacon_batches_total Beacon batches acknowledged, by outcome.\n\
             # TYPE collector_beacon_batches_total counter\n\
             collector_beacon_batches_total{{outcome=\"stored\"}} {}\n\
             collector_beacon_batches_total{{outcome=\"duplicate\"}} {}",
            self.batches_stored.load(Ordering::Relaxed),
            self.batches_duplicate.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "collector_beacon_events_total",
            "Beacon events stored (duplicates not counted).",
            self.events_stored.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP collector_beacon_rejects_total Beacon requests refused, by reason and status.\n\
             # TYPE collector_beacon_rejects_total counter"
        );
        for ((reason, status), count) in self
            .rejects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "collector_beacon_rejects_total{{reason=\"{reason}\",status=\"{status}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP collector_store_queue_depth Batches waiting for the store's writer.\n\
             # TYPE collector_store_queue_depth gauge\ncollector_store_queue_depth {queue_depth}\n\
             # HELP collector_store_queue_capacity Most batches that may wait (then 503).\n\
             # TYPE collector_store_queue_capacity gauge\n\
             collector_store_queue_capacity {queue_capacity}"
        );
        self.commit_seconds.render(
            &mut out,
            "collector_store_commit_seconds",
            "Time to apply and commit one group of batches (durable when it ends).",
        );
        self.group_batches.render(
            &mut out,
            "collector_store_commit_batches",
            "Batches committed together in one transaction.",
        );
        counter(
            &mut out,
            "collector_store_commit_failures_total",
            "Groups of batches the store failed to commit (answered 503).",
            self.commit_failures.load(Ordering::Relaxed),
        );
        out
    }
}

/// `GET /metrics`.
pub fn router(metrics: Arc<Metrics>, store: Store) -> Router {
    Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let text = metrics.render(store.queue_depth(), store.queue_capacity());
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    text,
                )
                    .into_response()
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_and_labels() {
        let metrics = Metrics::default();
        metrics.commit(3, Duration::from_millis(2));
        metrics.commit(1, Duration::from_millis(30));
        metrics.reject("unauthorized", 401);
        metrics.reject("unauthorized", 401);
        let text = metrics.render(5, 100);
        assert!(text.contains("collector_store_commit_seconds_bucket{le=\"0.0025\"} 1\n"));
        assert!(text.contains("collector_store_commit_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("collector_store_commit_seconds_count 2\n"));
        assert!(text.contains(
            "collector_beacon_rejects_total{reason=\"unauthorized\",status=\"401\"} 2\n"
        ));
        assert!(text.contains("collector_store_queue_depth 5\n"));
    }
}
