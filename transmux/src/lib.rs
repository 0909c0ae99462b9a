//! # transmux
//!
//! Turns HLS media segments that browsers' Media Source Extensions do not take — MPEG-2
//! transport streams (H.264, AAC, MP3, ID3 timed metadata) and packed audio (raw ADTS
//! or MP3 with ID3 timestamps) — into fragmented MP4 that they do take.
//!
//! **What it is for:** the player's TS path, in a Web Worker, as its own wasm module
//! fetched only when a stream needs it (`src/wasm.rs`, built by `transmux/build.sh`);
//! and native checks of the output with ffmpeg (`ts2mp4`).
//!
//! **What it is not:** a general demuxer. One program, one H.264 stream and one audio
//! stream are carried; HEVC, AC-3, captions and encrypted (SAMPLE-AES) streams are
//! ignored with a warning. It does no I/O, reads no clock and never panics on bad
//! input: damage is skipped with a [`Warning`], and only bytes that are not a segment at
//! all give an [`Error`].
//!
//! ```text
//! bytes ─ ts (packets, resync) ─ psi (PAT, PMT) ─ pes (units, continuity) ─┬ h264 ─┐
//!                                                                          ├ audio ┼ remux ─ mp4
//! bytes ─ packed (ID3 + ADTS/MP3) ─────────────────────────────────────────┘  id3 ─┘  (timelines)
//! ```
//!
//! One [`Transmuxer`] per stream (per rendition, when audio and video come in separate
//! streams) keeps what carries from one segment to the next: the tables, the 33-bit
//! timestamp rollover, each track's timeline (decode times continue exactly across
//! segments), and the track configurations (a new init segment when they change).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adts;
pub mod audio;
mod bits;
mod demux;
pub mod error;
pub mod h264;
pub mod id3;
pub mod mp4;
pub mod mpa;
mod packed;
pub mod pes;
pub mod psi;
mod remux;
mod timestamp;
mod transmuxer;
pub mod ts;

#[cfg(test)]
mod testutil;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Error, Track, Warning};
pub use remux::TimeRange;
pub use transmuxer::{
    AudioInfo, Codecs, InitSegment, InputFormat, MetadataEvent, Options, Output, Transmuxer,
    VideoInfo,
};
