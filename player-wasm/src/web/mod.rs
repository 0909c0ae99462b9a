//! The browser shell (wasm32 only): drives the engine with Media Source Extensions,
//! `fetch` and the `<video>` element, and exposes the JavaScript API.
//!
//! - [`api`]: the `Player` class JavaScript sees, and its TypeScript types.
//! - `shell`: the loop between the page's events and the engine.
//! - `fetch`: requests with streamed bodies and progress.
//! - `sink`: the `MediaSource`, its `SourceBuffer`s and their operation queues.
//! - `js`: the engine's events, levels and stats as JS objects.
//! - `options`: the JS options object to the engine's configuration (and analytics).
//! - `transmux`: MPEG-TS and packed audio to fMP4 in a Web Worker, when needed.
//! - `telemetry`: sending QoE beacons (`fetch` keepalive, `sendBeacon`, page lifecycle).
//! - [`monitor`]: `Monitor`, the same analytics for a `<video>` any other player drives.

pub mod api;
pub mod monitor;
// Public for the browser tests (tests/web.rs) only; not part of the API.
#[doc(hidden)]
pub mod fetch;
#[doc(hidden)]
pub mod js;
#[doc(hidden)]
pub mod options;
#[doc(hidden)]
pub mod shell;
#[doc(hidden)]
pub mod sink;
#[doc(hidden)]
pub mod telemetry;
#[doc(hidden)]
pub mod transmux;

pub use api::Player;
pub use monitor::Monitor;
