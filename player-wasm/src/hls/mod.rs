//! The HLS model: master and media playlists parsed with `m3u8-rs` into types the
//! engine can play from (URIs resolved, byte ranges explicit, segments on a timeline),
//! and live reloads merged by media sequence.
//!
//! Not here: fetching (the shell does it) and deciding what to fetch (the engine).

mod model;

pub use model::*;
