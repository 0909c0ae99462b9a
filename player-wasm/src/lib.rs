//! `player-wasm`: an HLS player whose decisions live in a sans-IO engine.
//!
//! * [`hls`]: the HLS model (master and media playlists), tested against `m3u8-rs`.
//! * [`abr`]: adaptive-bitrate algorithms behind one trait, and the shared bandwidth estimator.
//! * [`qoe`]: quality-of-experience accounting (startup, rebuffering, bitrate, switches, QoE_lin).
//! * [`mp4`]: timing of fragmented MP4 segments (timescales, base decode times) and their codecs.
//! * [`ts`]: timing of MPEG-TS segments (the first PES timestamp).
//! * [`url`]: absolute URLs and reference resolution (WHATWG rules for what streams use).
//! * [`small_map`], [`small_sort`]: a sorted-vector map and a small stable sort, which cost
//!   the browser package far less than the standard collections and sort.
//! * [`engine`]: the deterministic state machine that owns every playback decision. It
//!   never touches the network, the clock or the DOM: inputs come in with `now`, actions
//!   are polled out.
//!
//! None of these modules depends on a browser; they build and test natively. The browser
//! shell (wasm32 only) drives the same engine.

pub mod abr;
pub mod engine;
pub mod hls;
pub mod mp4;
pub mod qoe;
pub mod sim;
pub mod small_map;
pub mod small_sort;
pub mod ts;
pub mod url;
#[cfg(target_arch = "wasm32")]
pub mod web;
