//! A virtual browser for the engine: a simulated origin, network and media element in
//! virtual time.
//!
//! [`VirtualPlayer`] carries out the engine's actions the way the browser shell does —
//! fetches go through a [`Network`] model and an [`Origin`], appends land in simulated
//! source buffers, the playhead advances while media is buffered and stalls when it is
//! not — and feeds the results back as inputs, jumping from one event to the next. It is
//! how the engine is tested natively and how the ABR lab runs it over recorded networks.
//! [`trace`] reads the recorded networks (the collector's shaped origin replays them too).
//! Nothing here is used by the browser build.

mod media;
mod network;
mod origin;
mod player;
pub mod trace;

pub use media::SimulatedMedia;
pub use network::{ConstantNetwork, Network, TransferPlan};
pub use origin::{MapOrigin, Origin, Resource};
pub use player::{Appended, VirtualPlayer};
