//! Evaluating algorithms (and the optimum) over a set of traces, in parallel.

use crate::optimal::bounds;
use crate::pensieve::{self, ClientRules};
use crate::score::{AlgoSummary, SessionOutcome};
use crate::session::{self, SessionError};
use crate::trace::Trace;
use crate::video::Video;
use player_wasm::abr::AbrKind;
use serde::Serialize;

/// How sessions are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// The real engine in the virtual browser (the lab's default).
    Engine,
    /// Pensieve's client loop calling the ABR directly (for cross-checks).
    Direct,
}

/// The optimum over a set, with its proof.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimalSummary {
    #[serde(flatten)]
    pub figures: AlgoSummary,
    /// Mean over traces of the relaxation's exact optimum: nothing can score above it.
    pub upper_bound_qoe_per_segment: f64,
    /// Largest per-trace difference between upper bound and achieved QoE sums.
    pub max_trace_gap: f64,
}

/// Runs `work` over `items` on `jobs` threads, keeping the order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let jobs = jobs.clamp(1, items.len().max(1));
    let chunk = items.len().div_ceil(jobs).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("a lab worker panicked"))
            .collect()
    })
}

/// Plays every trace with `algo`.
pub fn run_algorithm(
    traces: &[Trace],
    video: &Video,
    algo: AbrKind,
    driver: Driver,
    rules: &ClientRules,
    jobs: usize,
) -> Result<Vec<SessionOutcome>, SessionError> {
    parallel_map(traces, jobs, |trace| match driver {
        Driver::Engine => session::run(trace, video, algo, rules),
        Driver::Direct => {
            let mut abr = algo.build();
            Ok(pensieve::run(trace, video, abr.as_mut(), rules))
        }
    })
    .into_iter()
    .collect()
}

/// The optimum of every trace, with bounds.
pub fn run_optimal(
    traces: &[Trace],
    video: &Video,
    rules: &ClientRules,
    jobs: usize,
) -> OptimalSummary {
    let results = parallel_map(traces, jobs, |trace| {
        let bounds = bounds(trace, video, rules);
        let session = pensieve::replay(trace, video, &bounds.achieved.levels, rules);
        (session, bounds.upper_bound, bounds.achieved.qoe_sum)
    });
    let scored = video.chunks.saturating_sub(1).max(1) as f64;
    let sessions: Vec<SessionOutcome> = results
        .iter()
        .map(|(session, _, _)| session.clone())
        .collect();
    let upper = results
        .iter()
        .map(|(_, upper, _)| upper / scored)
        .sum::<f64>()
        / results.len().max(1) as f64;
    let max_trace_gap = results
        .iter()
        .map(|(_, upper, achieved)| upper - achieved)
        .fold(0.0, f64::max);
    OptimalSummary {
        figures: AlgoSummary::from_sessions("optimal", &sessions),
        upper_bound_qoe_per_segment: upper,
        max_trace_gap,
    }
}

/// Share of the robust-mpc → optimum gap an algorithm closes.
pub fn gap_closed(algo: f64, robust_mpc: f64, optimal: f64) -> Option<f64> {
    let gap = optimal - robust_mpc;
    (gap.abs() > 1e-12).then(|| (algo - robust_mpc) / gap)
}
