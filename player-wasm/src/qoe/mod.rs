//! Quality-of-experience accounting.
//!
//! * [`beacons`]: telemetry's sans-IO half: views, the bounded event queue, batches as
//!   JSON, retries with backoff, sampling (the browser shell only sends).
//! * [`tracker`]: what a player does as beacon events: our engine's events, or any
//!   `<video>` element's (`Monitor`), by the same definitions.
//! * [`linear`]: QoE_lin, the per-segment score of the ABR literature.
//! * [`metrics`]: the industry's metric definitions (startup time, exits before video
//!   start, failures, rebuffering, bitrate, switches, viewer experience score) computed
//!   from a view's beacon events, and their aggregation over views.
//! * [`session`]: a session's startup, rebuffering, bitrate, switches, segment scores and
//!   dropped frames, accumulated as they happen.

pub mod beacons;
pub mod linear;
pub mod metrics;
pub mod session;
pub mod tracker;

pub use linear::{REBUFFER_PENALTY_PER_S, segment_qoe_lin};
pub use metrics::{
    AggregateMetrics, ExperienceScore, ViewMetrics, aggregate, aggregate_sampled, view_metrics,
};
pub use session::{QoeSummary, SegmentQoe, SessionQoe};
