//! Quality-of-experience accounting.
//!
//! * [`linear`]: QoE_lin, the per-segment score of the ABR literature.
//! * [`metrics`]: the industry's metric definitions (startup time, exits before video
//!   start, failures, rebuffering, bitrate, switches, viewer experience score) computed
//!   from a view's beacon events, and their aggregation over views.
//! * [`session`]: a session's startup, rebuffering, bitrate, switches, segment scores and
//!   dropped frames, accumulated as they happen.

pub mod linear;
pub mod metrics;
pub mod session;

pub use linear::{REBUFFER_PENALTY_PER_S, segment_qoe_lin};
pub use metrics::{
    AggregateMetrics, ExperienceScore, ViewMetrics, aggregate, aggregate_sampled, view_metrics,
};
pub use session::{QoeSummary, SegmentQoe, SessionQoe};
