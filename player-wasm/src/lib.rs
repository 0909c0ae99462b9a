//! `player-wasm`: an HLS player whose decisions live in a sans-IO engine.
//!
//! * [`hls`]: the HLS model (master and media playlists), tested against `m3u8-rs`.
//! * [`abr`]: adaptive-bitrate algorithms behind one trait, and the shared bandwidth estimator.
//! * [`qoe`]: quality-of-experience accounting (startup, rebuffering, bitrate, switches, QoE_lin).
//! * [`mp4`]: timing of fragmented MP4 segments (timescales, base decode times) and their codecs.
//! * [`ts`]: timing of MPEG-TS segments (the first PES timestamp).
//! * [`url`]: absolute URLs and reference resolution (WHATWG rules for what streams use).
//! * [`small_map`], [`small_sort`], [`small_str`]: a sorted-vector map, a small stable sort
//!   and a substring search, which cost the browser package far less than the standard
//!   collections, sort and string search.
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
pub mod small_str;
pub mod ts;
pub mod url;
#[cfg(target_arch = "wasm32")]
pub mod web;

/// The browser build's allocator: talc, a few kilobytes smaller than the default dlmalloc
/// (in-place reallocation off: a `Vec` that grows is copied, as it often is anyway).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
