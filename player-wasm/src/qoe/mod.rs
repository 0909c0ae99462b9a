//! Quality-of-experience accounting.
//!
//! [`linear`] holds the per-segment QoE of the ABR literature; the session accounting
//! (startup, rebuffering, bitrate, switches, dropped frames) builds on it.

pub mod linear;

pub use linear::{REBUFFER_PENALTY_PER_S, segment_qoe_lin};
