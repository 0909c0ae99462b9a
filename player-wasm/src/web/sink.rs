//! Media Source Extensions: one `MediaSource` attached to the `<video>` element, one
//! `SourceBuffer` per track, and per track a queue of operations (append, remove) run one
//! at a time, each started when the previous one's `updateend` arrives. Duration changes
//! and end of stream wait until no buffer is updating.
//!
//! Appended bytes are JS `Uint8Array`s straight from `fetch`; they never pass through the
//! wasm heap. Only the first bytes of a media segment are copied in, to read its decode
//! time (fMP4 `tfdt`, MPEG-TS PES timestamps) and place it on the playlist timeline
//! (`timestampOffset`).

use std::collections::VecDeque;

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlMediaElement, MediaSource, MediaSourceReadyState, SourceBuffer, Url};

use crate::engine::{RequestId, TimeRange, TrackId};
use crate::mp4::InitTiming;

/// Bytes of a media segment read to find its decode time.
const TIMING_PREFIX_BYTES: u32 = 16 * 1024;
/// A segment whose media time is further than this from where the playlist puts it
/// moves the track's `timestampOffset` (a discontinuity, a loop, a live start). Below
/// it, offsets are kept, so small differences between tracks never shift A/V sync.
const OFFSET_TOLERANCE_S: f64 = 1.0;

/// The request of a transmuxer's init segment: its append is no segment of the engine's
/// (its end reports no buffered ranges, and decode errors go to the media that follows).
pub const TRANSMUX_INIT: RequestId = RequestId(u64::MAX);

/// One queued operation on a track.
pub enum Op {
    Append {
        request: RequestId,
        bytes: Uint8Array,
        /// Where the playlist puts the media (seconds); `None` for init segments.
        start: Option<f64>,
    },
    Remove {
        start: f64,
        end: f64,
    },
}

/// What finished when a buffer's update ended.
pub enum Finished {
    Appended(RequestId),
    Removed,
}

/// A track's `SourceBuffer` and its queue.
pub struct TrackBuffer {
    pub id: TrackId,
    buffer: SourceBuffer,
    queue: VecDeque<Op>,
    running: Option<Finished>,
    timing: Option<InitTiming>,
    offset: f64,
    /// The last request appended, for decode errors reported by the element.
    pub last_request: Option<RequestId>,
    _update_end: Closure<dyn FnMut()>,
    _error: Closure<dyn FnMut()>,
}

/// Why an operation could not start.
pub enum StartError {
    /// `QuotaExceededError`: the bytes are handed back for a retry.
    Quota(RequestId, Uint8Array),
    /// Anything else the browser threw.
    Other(RequestId, String),
}

/// The `MediaSource` and its tracks.
pub struct Sink {
    media_source: MediaSource,
    object_url: Option<String>,
    pub tracks: Vec<TrackBuffer>,
    duration: Option<f64>,
    end_of_stream: bool,
    _source_open: Closure<dyn FnMut()>,
}

impl Sink {
    /// A new `MediaSource` attached to `element`; `on_open` runs on `sourceopen`.
    pub fn attach(
        element: &HtmlMediaElement,
        on_open: Closure<dyn FnMut()>,
    ) -> Result<Sink, JsValue> {
        let media_source = MediaSource::new()?;
        media_source.set_onsourceopen(Some(on_open.as_ref().unchecked_ref()));
        let object_url = Url::create_object_url_with_source(&media_source)?;
        element.set_src(&object_url);
        Ok(Sink {
            media_source,
            object_url: Some(object_url),
            tracks: Vec::new(),
            duration: None,
            end_of_stream: false,
            _source_open: on_open,
        })
    }

    /// Whether `sourceopen` has fired (and the source has not been closed).
    pub fn is_open(&self) -> bool {
        self.media_source.ready_state() != MediaSourceReadyState::Closed
    }

    /// Revokes the object URL (the element keeps its attachment).
    pub fn revoke_url(&mut self) {
        if let Some(url) = self.object_url.take() {
            let _ = Url::revoke_object_url(&url);
        }
    }

    /// Adds the track's `SourceBuffer`; `on_update_end` and `on_error` are its events.
    pub fn add_track(
        &mut self,
        id: TrackId,
        mime: &str,
        on_update_end: Closure<dyn FnMut()>,
        on_error: Closure<dyn FnMut()>,
    ) -> Result<(), JsValue> {
        let buffer = self.media_source.add_source_buffer(mime)?;
        buffer.set_onupdateend(Some(on_update_end.as_ref().unchecked_ref()));
        buffer.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.tracks.push(TrackBuffer {
            id,
            buffer,
            queue: VecDeque::new(),
            running: None,
            timing: None,
            offset: 0.0,
            last_request: None,
            _update_end: on_update_end,
            _error: on_error,
        });
        Ok(())
    }

    pub fn track(&mut self, id: TrackId) -> Option<&mut TrackBuffer> {
        self.tracks.iter_mut().find(|track| track.id == id)
    }

    pub fn has_track(&self, id: TrackId) -> bool {
        self.tracks.iter().any(|track| track.id == id)
    }

    fn any_updating(&self) -> bool {
        self.tracks
            .iter()
            .any(|track| track.running.is_some() || track.buffer.updating())
    }

    /// Asks for a duration change; done when no buffer is updating.
    pub fn set_duration(&mut self, seconds: f64) {
        self.duration = Some(seconds);
    }

    /// Asks for end of stream; done once every queue is empty.
    pub fn end_of_stream(&mut self) {
        self.end_of_stream = true;
    }

    /// Starts whatever can start now, once `expected_tracks` exist (browsers refuse new
    /// `SourceBuffer`s once media is flowing, so nothing is appended before every track
    /// is there). Returns failures to report.
    pub fn service(&mut self, expected_tracks: usize) -> Vec<(TrackId, StartError)> {
        let mut failures = Vec::new();
        if !self.is_open() || self.tracks.len() < expected_tracks {
            return failures;
        }
        if !self.any_updating()
            && let Some(seconds) = self.duration
            && self.media_source.ready_state() == MediaSourceReadyState::Open
        {
            self.duration = None;
            if (self.media_source.duration() - seconds).abs() > 1e-3
                || self.media_source.duration().is_nan()
            {
                // Through `Reflect` to catch what the setter throws: a duration below the
                // end of buffered media is refused (`InvalidStateError`), and the media's
                // end stands. Uncaught, the exception would unwind through the shell's
                // loop and leave its state borrowed for good.
                let _ = js_sys::Reflect::set(
                    &self.media_source,
                    &JsValue::from_str("duration"),
                    &JsValue::from_f64(seconds),
                );
            }
        }
        for track in &mut self.tracks {
            if let Some(failure) = track.start_next() {
                failures.push((track.id, failure));
            }
        }
        if self.end_of_stream
            && self.tracks.iter().all(|t| t.queue.is_empty())
            && !self.any_updating()
            && self.media_source.ready_state() == MediaSourceReadyState::Open
        {
            self.end_of_stream = false;
            let _ = self.media_source.end_of_stream();
        }
        failures
    }

    /// Detaches from the element: releases every buffer and the object URL.
    pub fn detach(&mut self, element: &HtmlMediaElement) {
        self.media_source.set_onsourceopen(None);
        for track in &self.tracks {
            track.buffer.set_onupdateend(None);
            track.buffer.set_onerror(None);
            if self.media_source.ready_state() == MediaSourceReadyState::Open {
                let _ = track.buffer.abort();
            }
        }
        self.tracks.clear();
        self.revoke_url();
        element.remove_attribute("src").ok();
        element.load();
    }
}

impl TrackBuffer {
    /// Queues an operation.
    pub fn push(&mut self, op: Op) {
        self.queue.push_back(op);
    }

    /// Buffered ranges now.
    pub fn buffered(&self) -> Vec<TimeRange> {
        let Ok(ranges) = self.buffer.buffered() else {
            return Vec::new();
        };
        (0..ranges.length())
            .filter_map(|i| Some(TimeRange::new(ranges.start(i).ok()?, ranges.end(i).ok()?)))
            .collect()
    }

    /// Takes the running operation once `updateend` fired.
    pub fn finish(&mut self) -> Option<Finished> {
        self.running.take()
    }

    fn start_next(&mut self) -> Option<StartError> {
        if self.running.is_some() || self.buffer.updating() {
            return None;
        }
        let op = self.queue.pop_front()?;
        match op {
            Op::Remove { start, end } => {
                let end = if end.is_finite() { end } else { f64::MAX };
                match self.buffer.remove(start.max(0.0), end) {
                    Ok(()) => self.running = Some(Finished::Removed),
                    Err(_) => return self.start_next(),
                }
                None
            }
            Op::Append {
                request,
                bytes,
                start,
            } => {
                match start {
                    None => {
                        let length = bytes.length().min(64 * 1024);
                        self.timing = InitTiming::parse(&bytes.subarray(0, length).to_vec());
                    }
                    Some(start) => self.place(&bytes, start),
                }
                match self.buffer.append_buffer_with_array_buffer_view(&bytes) {
                    Ok(()) => {
                        self.running = Some(Finished::Appended(request));
                        if request != TRANSMUX_INIT {
                            self.last_request = Some(request);
                        }
                        None
                    }
                    Err(error) => {
                        let name = error
                            .dyn_ref::<web_sys::DomException>()
                            .map(|e| e.name())
                            .unwrap_or_default();
                        if name == "QuotaExceededError" {
                            Some(StartError::Quota(request, bytes))
                        } else {
                            Some(StartError::Other(request, describe(&error)))
                        }
                    }
                }
            }
        }
    }

    /// Sets `timestampOffset` so the segment lands where the playlist puts it (fMP4 by
    /// the init segment's timescales; MPEG-TS, which has none, by its first PES timestamp).
    fn place(&mut self, bytes: &Uint8Array, start: f64) {
        let prefix = bytes
            .subarray(0, bytes.length().min(TIMING_PREFIX_BYTES))
            .to_vec();
        let media_start = match &self.timing {
            Some(timing) => timing.segment_start(&prefix),
            None => crate::ts::segment_start(&prefix),
        };
        let Some(media_start) = media_start else {
            return;
        };
        let needed = start - media_start;
        if (needed - self.offset).abs() <= OFFSET_TOLERANCE_S {
            return;
        }
        // The media's timestamps jump: end the parser's current segment first. An MPEG-TS
        // parser holds a stream's last frames until that stream's next packet, and would
        // hand them over with the new segment's, out of decode order (Chromium:
        // "Parsed buffers not in DTS sequence").
        let _ = self.buffer.abort();
        // Through `Reflect` to catch what the setter may throw (`InvalidStateError`):
        // the segment is then appended where it is.
        if js_sys::Reflect::set(
            &self.buffer,
            &JsValue::from_str("timestampOffset"),
            &JsValue::from_f64(needed),
        )
        .is_ok_and(|set| set)
        {
            self.offset = needed;
        }
    }
}

/// A thrown JS value as text.
pub fn describe(error: &JsValue) -> String {
    if let Some(exception) = error.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", exception.name(), exception.message());
    }
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error.as_string().unwrap_or_else(|| "unknown error".into())
}
