//! The HLS model: master and media playlists parsed into types the engine can play from
//! (URIs resolved, byte ranges explicit, segments on a timeline), and live reloads merged
//! by media sequence.
//!
//! Not here: fetching (the shell does it) and deciding what to fetch (the engine).
//!
//! * [`parse_playlist`]: text and URL to [`Playlist`], or a [`PlaylistError`] naming the
//!   line and tag at fault.
//! * [`merge_reload`]: a reloaded live media playlist placed on the previous one's timeline.

mod attributes;
mod error;
mod lines;
mod live;
mod media;
mod model;
mod parse;
mod scan;
mod values;
mod variables;

pub use error::{LiveMergeError, PlaylistError};
pub use live::{Reload, merge_reload};
pub use model::*;
pub use parse::parse_playlist;
