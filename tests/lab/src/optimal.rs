//! The offline optimum: the best QoE any algorithm could reach on a trace, knowing all of
//! it in advance, under exactly the lab's simulator.
//!
//! # Method
//!
//! A search over every level sequence that keeps, after each chunk, only the states no
//! other state *dominates*. A state after chunk k is the link position `T` (monotone
//! trace time), the buffer, the last level, the rebuffering so far `r` and the
//! reward-so-far split as `U` (bitrate minus switching, an integer in kbit/s) and
//! `R = U − 4.3 r`. Write `E = T + buffer`; each chunk moves `E` by `duration − RTT + stall`,
//! so `E` differs between two states exactly by their difference in `r`.
//!
//! **Dominance.** State A (same chunk, same last level) dominates B when `T_A ≤ T_B`,
//! `U_A ≥ U_B` and `R_A ≥ R_B`. Proof sketch, in a model where the client may also wait
//! (stalling if it waits past its buffer, charged 4.3/s) and drop buffered media:
//! A waits until `T_B` and drops the media it has beyond `E_B`; if it then has less media
//! than B, the shortfall is at most `r_B − r_A` seconds, paid for by `U_A ≥ U_B`. From equal
//! positions, A replays B's choices: downloads start together and end together, A stalls
//! at most its shortfall more than B, and the shortfall never grows. So A's final reward is
//! at least B's. Pensieve's client cannot wait or drop media, and its sleep at the 60 s cap
//! is rounded up to 500 ms steps; in the model with free waiting, sleeping exactly down to
//! the cap (no rounding) is the best wait, so:
//!
//! * [`solve`] with [`SleepRule::Continuous`] returns the exact optimum of the relaxed
//!   model: an **upper bound** on the true optimum (the relaxation only adds options);
//! * [`solve`] with [`SleepRule::Pensieve`] applies the same pruning to the real model and
//!   returns a level sequence that is then replayed through the real simulator: its QoE is
//!   achievable, a **lower bound**.
//!
//! The true optimum lies between the two; [`Bounds`] reports both, and their gap is the
//! largest error the reported optimum can have.

use crate::link::{LINK_RTT_S, Link};
use crate::pensieve::{ClientRules, sleep_for};
use crate::trace::Trace;
use crate::video::Video;
use player_wasm::qoe::REBUFFER_PENALTY_PER_S;
use std::collections::BTreeMap;

/// How the simulated client sleeps when its buffer exceeds the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SleepRule {
    /// Pensieve's rule: whole 500 ms steps until under the cap.
    Pensieve,
    /// Exactly down to the cap (the relaxation).
    Continuous,
}

#[derive(Debug, Clone, Copy)]
struct State<'t> {
    link: Link<'t>,
    buffer: f64,
    rebuffer: f64,
    /// Bitrate minus switching so far, in kbit/s (exact integer arithmetic).
    utility_kbps: i64,
    /// Index of the parent in the previous step's arena (usize::MAX for the root).
    parent: usize,
    level: usize,
}

impl<'t> State<'t> {
    /// The state after the first chunk (fixed level, unscored) and any sleep.
    fn after_first_chunk(
        trace: &'t Trace,
        video: &Video,
        level: usize,
        rules: &ClientRules,
        sleep: SleepRule,
    ) -> Self {
        let mut link = Link::new(trace);
        link.download(video.sizes[level][0] as f64);
        let mut state = State {
            link,
            buffer: video.chunk_s,
            rebuffer: 0.0,
            utility_kbps: 0,
            parent: usize::MAX,
            level,
        };
        settle(&mut state, rules, sleep);
        state
    }

    /// Downloads `chunk` at `level` and scores it (before any sleep at the cap).
    fn fetch(&mut self, video: &Video, kbps: &[i64], chunk: usize, level: usize) {
        let delay = self.link.download(video.sizes[level][chunk] as f64) + LINK_RTT_S;
        self.rebuffer += (delay - self.buffer).max(0.0);
        self.buffer = (self.buffer - delay).max(0.0) + video.chunk_s;
        self.utility_kbps += kbps[level] - (kbps[level] - kbps[self.level]).abs();
        self.level = level;
    }

    fn reward(&self) -> f64 {
        self.utility_kbps as f64 / 1000.0 - REBUFFER_PENALTY_PER_S * self.rebuffer
    }
}

/// The optimum found by one [`solve`] run.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Sum of QoE_lin over the scored chunks (2..N).
    pub qoe_sum: f64,
    /// Level of every chunk, the first included.
    pub levels: Vec<usize>,
    /// Largest number of states kept after any chunk.
    pub peak_states: usize,
}

/// Lower and upper bounds on the optimum of one trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    /// Achievable: the best sequence found, replayed through the real simulator.
    pub achieved: Solution,
    /// Exact optimum of the relaxed model, at least the true optimum.
    pub upper_bound: f64,
}

/// Options of one [`solve`] run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveOptions {
    /// How the client sleeps at the buffer cap.
    pub sleep: SleepRule,
    /// A QoE sum known to be achievable: states that cannot reach it are dropped.
    pub lower_bound: f64,
    /// Keep at most this many states per step (best reward first): a heuristic beam
    /// search. `None` keeps every non-dominated state (exact).
    pub beam: Option<usize>,
}

/// Drops every state another dominates, across levels: A dominates B when
/// `T_A ≤ T_B`, `U_A − d ≥ U_B` and `R_A − d ≥ R_B`, with `d = |bitrate_A − bitrate_B|`
/// (the most a different last level can change future switching costs).
fn prune<'t>(mut candidates: Vec<State<'t>>, kbps: &[i64]) -> Vec<State<'t>> {
    candidates.sort_by(|a, b| {
        a.link
            .position()
            .total_cmp(&b.link.position())
            .then(b.reward().total_cmp(&a.reward()))
            .then(b.utility_kbps.cmp(&a.utility_kbps))
    });
    // Per level, a staircase: utility → best reward among kept states with at least
    // that utility (rewards fall as utilities rise).
    let mut staircases: Vec<BTreeMap<i64, f64>> = vec![BTreeMap::new(); kbps.len()];
    let mut kept = Vec::new();
    for state in candidates {
        let reward = state.reward();
        let dominated = staircases.iter().enumerate().any(|(level, staircase)| {
            let distance = (kbps[level] - kbps[state.level]).abs();
            staircase
                .range(state.utility_kbps + distance..)
                .next()
                .is_some_and(|(_, &best)| best >= reward + distance as f64 / 1000.0)
        });
        if dominated {
            continue;
        }
        let staircase = &mut staircases[state.level];
        let redundant: Vec<i64> = staircase
            .range(..=state.utility_kbps)
            .rev()
            .take_while(|(_, best)| **best <= reward)
            .map(|(utility, _)| *utility)
            .collect();
        for utility in redundant {
            staircase.remove(&utility);
        }
        staircase.insert(state.utility_kbps, reward);
        kept.push(state);
    }
    kept
}

/// Searches the best level sequence for `trace`.
pub fn solve(trace: &Trace, video: &Video, rules: &ClientRules, options: SolveOptions) -> Solution {
    let levels = video.levels();
    let kbps = ladder_kbps(video);
    let top_mbps = kbps.iter().copied().max().unwrap_or(0) as f64 / 1000.0;
    // Chunk 1 is fixed and unscored: its state is the root.
    let root = State::after_first_chunk(trace, video, rules.start_level, rules, options.sleep);
    let mut arenas: Vec<Vec<State>> = vec![vec![root]];
    let mut peak_states = 1;
    for chunk in 1..video.chunks {
        let previous = arenas.last().expect("root arena");
        let remaining_after = (video.chunks - 1 - chunk) as f64;
        let mut candidates = Vec::with_capacity(previous.len() * levels);
        for (parent, state) in previous.iter().enumerate() {
            for level in 0..levels {
                let mut next = *state;
                next.fetch(video, &kbps, chunk, level);
                next.parent = parent;
                // Best conceivable rest: every later chunk at the top level, one switch.
                let level_mbps = kbps[level] as f64 / 1000.0;
                let optimistic_rest = if remaining_after > 0.0 {
                    remaining_after * top_mbps - (top_mbps - level_mbps)
                } else {
                    0.0
                };
                if next.reward() + optimistic_rest < options.lower_bound - 1e-9 {
                    continue;
                }
                settle(&mut next, rules, options.sleep);
                candidates.push(next);
            }
        }
        let mut arena = if chunk + 1 == video.chunks {
            // Only the reward matters at the end.
            candidates
                .into_iter()
                .max_by(|a, b| a.reward().total_cmp(&b.reward()))
                .into_iter()
                .collect()
        } else {
            prune(candidates, &kbps)
        };
        if let Some(beam) = options.beam
            && arena.len() > beam
        {
            arena.sort_by(|a, b| b.reward().total_cmp(&a.reward()));
            arena.truncate(beam);
        }
        if arena.is_empty() {
            // Nothing can reach the lower bound: only possible if the bound was wrong.
            break;
        }
        peak_states = peak_states.max(arena.len());
        arenas.push(arena);
    }
    let Some(best) = arenas
        .last()
        .filter(|_| arenas.len() == video.chunks)
        .and_then(|arena| arena.first())
        .copied()
    else {
        return Solution {
            qoe_sum: f64::NEG_INFINITY,
            levels: Vec::new(),
            peak_states,
        };
    };
    let mut levels_rev = vec![best.level];
    let mut parent = best.parent;
    for arena in arenas.iter().rev().skip(1) {
        let state = arena[parent];
        levels_rev.push(state.level);
        parent = state.parent;
    }
    levels_rev.reverse();
    Solution {
        qoe_sum: best.reward(),
        levels: levels_rev,
        peak_states,
    }
}

/// QoE sum (chunks 2..N) of a fixed level sequence under `sleep`, simulated the way
/// [`solve`] simulates: a brute-force check of the search.
pub fn evaluate(
    trace: &Trace,
    video: &Video,
    levels: &[usize],
    rules: &ClientRules,
    sleep: SleepRule,
) -> f64 {
    let first = levels.first().copied().unwrap_or(rules.start_level);
    let mut state = State::after_first_chunk(trace, video, first, rules, sleep);
    let kbps = ladder_kbps(video);
    for (chunk, &level) in levels.iter().enumerate().skip(1) {
        state.fetch(video, &kbps, chunk, level);
        settle(&mut state, rules, sleep);
    }
    state.reward()
}

/// The ladder in whole kbit/s (utilities are summed exactly as integers).
fn ladder_kbps(video: &Video) -> Vec<i64> {
    video
        .bitrates_kbps
        .iter()
        .map(|kbps| kbps.round() as i64)
        .collect()
}

/// Applies the sleep at the buffer cap.
fn settle(state: &mut State<'_>, rules: &ClientRules, sleep: SleepRule) {
    let pause = match sleep {
        SleepRule::Pensieve => sleep_for(state.buffer, rules),
        SleepRule::Continuous => (state.buffer - rules.buffer_cap_s).max(0.0),
    };
    if pause > 0.0 {
        state.buffer -= pause;
        state.link.idle(pause);
    }
}

/// Both bounds for one trace. `achieved` is the best sequence found, replayed through the
/// real simulator; `upper_bound` the exact optimum of the relaxed model.
pub fn bounds(trace: &Trace, video: &Video, rules: &ClientRules) -> Bounds {
    let replay = |levels: &[usize]| crate::pensieve::replay(trace, video, levels, rules).qoe_sum();
    // 1. A beam search gives a good achievable sequence quickly.
    let beam = solve(
        trace,
        video,
        rules,
        SolveOptions {
            sleep: SleepRule::Pensieve,
            lower_bound: f64::NEG_INFINITY,
            beam: Some(BEAM_WIDTH),
        },
    );
    let mut achieved = Solution {
        qoe_sum: replay(&beam.levels),
        ..beam
    };
    // 2. The exact optimum of the relaxation, pruned by what is already achievable.
    let relaxed = solve(
        trace,
        video,
        rules,
        SolveOptions {
            sleep: SleepRule::Continuous,
            lower_bound: achieved.qoe_sum,
            beam: None,
        },
    );
    let upper_bound = relaxed.qoe_sum.max(achieved.qoe_sum);
    if !relaxed.levels.is_empty() {
        let replayed = replay(&relaxed.levels);
        if replayed > achieved.qoe_sum {
            achieved = Solution {
                qoe_sum: replayed,
                ..relaxed
            };
        }
    }
    // 3. Only when the bounds still differ, the same search on the real model.
    if achieved.qoe_sum < upper_bound - 1e-9 {
        let exact = solve(
            trace,
            video,
            rules,
            SolveOptions {
                sleep: SleepRule::Pensieve,
                lower_bound: achieved.qoe_sum,
                beam: None,
            },
        );
        if !exact.levels.is_empty() {
            let replayed = replay(&exact.levels);
            if replayed > achieved.qoe_sum {
                achieved = Solution {
                    qoe_sum: replayed,
                    ..exact
                };
            }
        }
    }
    Bounds {
        achieved,
        upper_bound,
    }
}

/// States kept per step by the beam search that seeds the lower bound.
const BEAM_WIDTH: usize = 256;
