//! The JavaScript binding (wasm32 only), for a Web Worker:
//!
//! ```js
//! import init, { Transmuxer } from './transmux.js';
//! await init();
//! const transmuxer = new Transmuxer();          // or new Transmuxer(programNumber)
//! const out = transmuxer.push(segmentBytes, false);
//! // out.init?.combined | out.init?.video | out.init?.audio, out.video, out.audio:
//! // fresh Uint8Arrays (their buffers can be transferred); out.codecs, out.mimeType,
//! // out.videoRange / out.audioRange {start, end} in seconds, out.metadata
//! // [{pts (seconds), data}], out.warnings [string].
//! transmuxer.free();                            // when done
//! ```
//!
//! A segment that is not TS or packed audio throws an `Error` naming why.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::{InputFormat, Options, Output, TimeRange};

/// A transmuxer for one stream.
#[wasm_bindgen(js_name = Transmuxer)]
pub struct JsTransmuxer {
    inner: crate::Transmuxer,
}

#[wasm_bindgen(js_class = Transmuxer)]
impl JsTransmuxer {
    /// A transmuxer taking the given MPEG-TS program (default: the first).
    #[wasm_bindgen(constructor)]
    pub fn new(program: Option<u16>) -> JsTransmuxer {
        JsTransmuxer {
            inner: crate::Transmuxer::new(Options { program }),
        }
    }

    /// Transmuxes one whole segment (see the module documentation for the result).
    pub fn push(&mut self, segment: &[u8], discontinuity: bool) -> Result<Object, JsError> {
        let output = self.inner.push(segment, discontinuity)?;
        Ok(to_js(&output))
    }

    /// The next segment starts a new timeline.
    pub fn discontinuity(&mut self) {
        self.inner.discontinuity();
    }

    /// Forgets everything: the next segment starts a new stream.
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

fn set(target: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &value.into());
}

fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

fn range(range: Option<TimeRange>) -> JsValue {
    match range {
        Some(range) => {
            let object = Object::new();
            set(&object, "start", range.start);
            set(&object, "end", range.end);
            object.into()
        }
        None => JsValue::UNDEFINED,
    }
}

fn optional_bytes(data: &Option<Vec<u8>>) -> JsValue {
    data.as_deref().map_or(JsValue::UNDEFINED, bytes)
}

fn optional_string(text: &Option<String>) -> JsValue {
    text.as_deref()
        .map_or(JsValue::UNDEFINED, JsValue::from_str)
}

fn to_js(output: &Output) -> Object {
    let object = Object::new();
    if let Some(init) = &output.init {
        let segments = Object::new();
        set(&segments, "combined", bytes(&init.combined));
        set(&segments, "video", optional_bytes(&init.video));
        set(&segments, "audio", optional_bytes(&init.audio));
        set(&object, "init", segments);
    }
    set(&object, "video", optional_bytes(&output.video));
    set(&object, "audio", optional_bytes(&output.audio));
    let codecs = Object::new();
    set(&codecs, "video", optional_string(&output.codecs.video));
    set(&codecs, "audio", optional_string(&output.codecs.audio));
    set(&object, "codecs", codecs);
    if output.codecs.video.is_some() || output.codecs.audio.is_some() {
        set(&object, "mimeType", output.codecs.mime_type());
    }
    if let Some(info) = &output.video_info {
        let video = Object::new();
        set(&video, "width", info.width);
        set(&video, "height", info.height);
        set(&object, "videoInfo", video);
    }
    if let Some(info) = &output.audio_info {
        let audio = Object::new();
        set(&audio, "sampleRate", info.sample_rate);
        set(&audio, "channels", info.channels);
        set(&object, "audioInfo", audio);
    }
    set(&object, "videoRange", range(output.video_range));
    set(&object, "audioRange", range(output.audio_range));
    set(
        &object,
        "start",
        output.start().map_or(JsValue::UNDEFINED, JsValue::from),
    );
    set(
        &object,
        "end",
        output.end().map_or(JsValue::UNDEFINED, JsValue::from),
    );
    let metadata = Array::new();
    for event in &output.metadata {
        let item = Object::new();
        set(&item, "pts", event.seconds());
        set(&item, "data", bytes(&event.data));
        metadata.push(&item);
    }
    set(&object, "metadata", metadata);
    let warnings = Array::new();
    for warning in &output.warnings {
        warnings.push(&JsValue::from_str(&warning.to_string()));
    }
    set(&object, "warnings", warnings);
    set(
        &object,
        "format",
        match output.format {
            Some(InputFormat::TransportStream) => "ts",
            Some(InputFormat::PackedAudio) => "packed-audio",
            None => "unknown",
        },
    );
    object
}
