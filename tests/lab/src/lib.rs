//! The ABR lab: the real engine driven through simulated links in virtual time, the
//! offline optimum, and the playlist inspector's helpers.
//!
//! * [`trace`] and [`video`]: inputs (throughput traces, chunk sizes).
//! * [`link`]: Pensieve's simulated link, exactly.
//! * [`pensieve`]: Pensieve's client loop calling an ABR directly (the reference the
//!   engine-driven run is checked against).
//! * [`score`]: QoE_lin per chunk and the per-algorithm summaries.

pub mod evaluate;
pub mod link;
pub mod optimal;
pub mod pensieve;
pub mod score;
pub mod session;
pub mod video;

/// Trace files are read by `player_wasm::sim::trace`, shared with the collector's shaper.
pub use player_wasm::sim::trace;
