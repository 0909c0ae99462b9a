//! Quality-of-experience accounting.
//!
//! * [`linear`]: QoE_lin, the per-segment score of the ABR literature.
//! * [`session`]: a session's startup, rebuffering, bitrate, switches, segment scores and
//!   dropped frames, accumulated as they happen.

pub mod linear;
pub mod session;

pub use linear::{REBUFFER_PENALTY_PER_S, segment_qoe_lin};
pub use session::{QoeSummary, SegmentQoe, SessionQoe};
