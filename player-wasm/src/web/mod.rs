//! The browser shell (wasm32 only): drives the engine with Media Source Extensions,
//! `fetch` and the `<video>` element, and exposes the JavaScript API.
//!
//! - [`api`]: the `Player` class JavaScript sees, and its TypeScript types.
//! - `shell`: the loop between the page's events and the engine.
//! - `fetch`: requests with streamed bodies and progress.
//! - `sink`: the `MediaSource`, its `SourceBuffer`s and their operation queues.
//! - `options`: the JS options object to the engine's configuration.

pub mod api;
mod fetch;
mod options;
mod shell;
mod sink;

pub use api::Player;
