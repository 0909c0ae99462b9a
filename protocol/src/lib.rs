//! The wire format the player and the collector share.
//!
//! One definition of everything that crosses the network between the SDK and the
//! collector, so both sides agree by construction. This crate holds serde types and
//! their validation only: no I/O, no clocks.
//!
//! What lives here: the version of the format, QoE beacons (batches of view events), the
//! reasons an adaptive bitrate decision can carry (they reach the JS API and telemetry)
//! and CMCD, the data a player attaches to each request.

pub mod beacon;
pub mod cmcd;
#[cfg(feature = "json")]
pub mod decode;
mod reason;

pub use beacon::{Batch, BeaconError, Event, EventKind, View};
pub use cmcd::{Cmcd, CmcdError};
#[cfg(feature = "json")]
pub use decode::{DecodeError, decode_batch};
pub use reason::{ParseReasonError, SwitchReason};

/// Version of the beacon wire format. Bumped on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;
