//! MPEG-TS and packed audio for browsers whose `MediaSource` does not take them (or when
//! the `transmux` option says `always`): the segment's bytes go to a Web Worker running
//! the `transmux` crate's wasm module, which answers with fMP4 (an init segment and
//! the media), appended like any fMP4 segment.
//!
//! The worker and its wasm module are files of their own in the npm package
//! (`transmux/transmux-worker.js`, `transmux/transmux_bg.wasm`), created only when a
//! stream needs them: fMP4 playback never fetches them. `build-npm.sh` appends
//! `__wasmHlsTransmuxWorker` to `player_wasm.js`, where `new URL(…, import.meta.url)`
//! finds the worker next to the package for bundlers and plain ES modules alike.
//!
//! Messages (one `Transmuxer` per track in the worker):
//! - to the worker: `{track, epoch, request, start, bytes, discontinuity, videoOnly}`
//!   (the bytes' buffer transferred), or `{reset: true}` (a new stream: forget every
//!   track);
//! - back: `{track, epoch, request, start, init, changed, mime, media}` (`init`: the
//!   track's current init segment, `changed` when it is new), `{…, request, error}`, or
//!   `{error}` when the worker itself failed. Bytes that are already fMP4 (a segment
//!   handed back by `QuotaExceededError` and appended again) come back as they are.

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::MediaSource;

/// When segments are transmuxed (`options.transmux`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// MPEG-TS and packed audio when the browser does not take their MIME type.
    #[default]
    Auto,
    /// Every MPEG-TS and packed-audio track (for tests where the browser takes TS).
    Always,
    /// Never: such a track is appended as it is, or refused as unsupported.
    Never,
}

#[wasm_bindgen]
extern "C" {
    /// The worker (`player_wasm.js` as packaged; see the module documentation).
    pub type Worker;

    #[wasm_bindgen(catch, js_name = __wasmHlsTransmuxWorker)]
    fn create_worker(on_message: &Function) -> Result<Worker, JsValue>;

    #[wasm_bindgen(method, catch, js_name = postMessage)]
    fn post(this: &Worker, message: &JsValue, transfer: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(method)]
    pub fn terminate(this: &Worker);
}

/// Whether `mime`'s container is one the transmuxer reads.
fn transmuxable(mime: &str) -> bool {
    matches!(
        mime.split(';').next().unwrap_or(mime).trim(),
        "video/mp2t" | "audio/aac" | "audio/mpeg"
    )
}

impl Mode {
    /// Whether a track of type `mime` is transmuxed.
    pub fn applies(self, mime: &str) -> bool {
        transmuxable(mime)
            && match self {
                Mode::Always => true,
                Mode::Never => false,
                Mode::Auto => !MediaSource::is_type_supported(mime),
            }
    }

    /// Whether the browser can play `mime`, directly or transmuxed (TS codecs in fMP4).
    pub fn can_play(self, mime: &str) -> bool {
        MediaSource::is_type_supported(mime)
            || (self != Mode::Never
                && transmuxable(mime)
                && mime.strip_prefix("video/mp2t;").is_none_or(|codecs| {
                    MediaSource::is_type_supported(&["video/mp4;", codecs].concat())
                }))
    }
}

/// A track whose segments are transmuxed.
#[derive(Default)]
pub struct Track {
    /// (level, sequence, discontinuity sequence) of the last segment sent.
    pub last: Option<(usize, u64, Option<u64>)>,
    /// Whether the track's `SourceBuffer` was created (from the worker's MIME type).
    pub created: bool,
    /// Whether the current init segment was appended.
    pub init_appended: bool,
    /// The main track of a stream with alternate audio: its video alone.
    pub video_only: bool,
}

impl Track {
    /// Whether the segment at `key` starts a new timeline for the transmuxer: the
    /// track's first, another level, not the next sequence number (a seek), another
    /// discontinuity sequence (`EXT-X-DISCONTINUITY`).
    pub fn discontinuity(&mut self, key: Option<(usize, u64, Option<u64>)>) -> bool {
        let Some(key) = key else {
            return false;
        };
        let new = self.last.is_none_or(|(level, sequence, disc)| {
            level != key.0 || sequence + 1 != key.1 || disc != key.2
        });
        self.last = Some(key);
        new
    }
}

/// Starts the worker; its messages go to `on_message`.
pub fn start(on_message: &Function) -> Result<Worker, JsValue> {
    create_worker(on_message)
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

/// Sends a segment (its buffer is transferred: `bytes` is unusable afterwards), with
/// `[track, epoch, discontinuity, videoOnly]` and the request and start (`NaN`: an init
/// section) the answer echoes. False when it could not be sent.
pub fn push(
    worker: &Worker,
    flags: [u32; 4],
    request: u64,
    start: f64,
    bytes: &Uint8Array,
) -> bool {
    let message = Object::new();
    for (key, value) in ["track", "epoch", "discontinuity", "videoOnly"]
        .iter()
        .zip(flags)
    {
        set(&message, key, &JsValue::from(value));
    }
    set(&message, "request", &JsValue::from(request as f64));
    set(&message, "start", &JsValue::from(start));
    set(&message, "bytes", bytes);
    worker
        .post(&message, &js_sys::Array::of1(&bytes.buffer()))
        .is_ok()
}

/// Tells the worker a new stream begins.
pub fn reset(worker: &Worker) {
    let message = Object::new();
    set(&message, "reset", &JsValue::TRUE);
    let _ = worker.post(&message, &js_sys::Array::new());
}

/// A field of a worker's message.
pub fn get(message: &JsValue, key: &str) -> JsValue {
    Reflect::get(message, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}
