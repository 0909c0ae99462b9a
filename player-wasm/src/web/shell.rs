//! The loop that drives the engine in a page: everything the browser reports (fetch
//! progress, `updateend`, the `<video>` element's events, timers, API calls) arrives as a
//! [`Note`] in an inbox; the shell turns notes into engine inputs, carries out the
//! engine's actions (fetch, abort, append, evict, seek, play…), and hands the engine's
//! events to the page's listeners once its own state is consistent again.
//!
//! Re-entrancy: a listener may call back into the player (`setLevel` inside
//! `levelSwitched`). Notes are queued, never handled inside another handler, and
//! listeners run with nothing borrowed.

use std::cell::RefCell;
use std::collections::VecDeque;

use crate::small_map::SmallMap;
use std::rc::{Rc, Weak};

use js_sys::{Function, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, HtmlVideoElement, MediaSource};

use super::fetch;
use super::sink::{Finished, Op, Sink, StartError, TRANSMUX_INIT, describe};
use super::telemetry::{Reporter, random_id};
use super::transmux;
use crate::engine::{
    Action, AppendFailure, CmcdSession, Engine, ErrorKind, Event, Input, MediaSnapshot, RequestId,
    RequestKind, TrackId,
};
use crate::qoe::tracker::PlayerTracker;
use protocol::EventKind;

/// Longest wait between two looks at the media element (seconds), whatever the engine's
/// next deadline: stalls and the playhead are noticed within it.
const MAX_TIMER_S: f64 = 0.25;

/// Bytes of a track's first segment searched for its codecs when the playlist declares
/// none (the `moov` of an init segment, or of a self-initialising first segment).
const CODEC_PROBE_BYTES: u32 = 1 << 20;

/// The `<video>` events the shell listens to.
const ELEMENT_EVENTS: &[&str] = &[
    "waiting",
    "playing",
    "play",
    "pause",
    "seeking",
    "seeked",
    "ended",
    "error",
    "ratechange",
    "resize",
    "timeupdate",
    "loadedmetadata",
    "canplay",
];

/// Something that happened in the page.
pub enum Note {
    /// An API call.
    Input(Input),
    /// A fetch task's news about its request (dropped once the request is not wanted).
    Fetched(RequestId, Input),
    /// A segment request's complete body.
    Body(RequestId, Uint8Array),
    SourceOpen,
    UpdateEnd(TrackId),
    BufferError(TrackId),
    Element(&'static str),
    Timer,
    /// A message from the transmuxer's worker.
    Transmuxed(JsValue),
}

/// State shared by the player, its closures and its fetch tasks.
pub struct Shared {
    shell: RefCell<Shell>,
    inbox: RefCell<VecDeque<Note>>,
    /// Requests whose news is still wanted.
    active: RefCell<SmallMap<RequestId, ()>>,
    listeners: RefCell<Vec<(String, Function)>>,
}

/// Queues `note` and handles the inbox unless it is being handled already. For fetch
/// news, returns whether the request is still wanted.
pub fn deliver(shared: &Weak<Shared>, note: Note) -> bool {
    let Some(shared) = shared.upgrade() else {
        return false;
    };
    let request = match &note {
        Note::Fetched(id, _) | Note::Body(id, _) => Some(*id),
        _ => None,
    };
    if let Some(id) = request
        && !shared.active.borrow().contains_key(&id)
    {
        return false;
    }
    shared.inbox.borrow_mut().push_back(note);
    pump(&shared);
    request.is_none_or(|id| shared.active.borrow().contains_key(&id))
}

/// Handles every queued note, then tells the listeners what happened.
fn pump(shared: &Rc<Shared>) {
    loop {
        let events = {
            let Ok(mut shell) = shared.shell.try_borrow_mut() else {
                return;
            };
            if shell.destroyed {
                shared.inbox.borrow_mut().clear();
                return;
            }
            shell.snapshot_media();
            loop {
                let next = shared.inbox.borrow_mut().pop_front();
                let Some(note) = next else { break };
                shell.handle(shared, note);
            }
            shell.settle(shared);
            shell.schedule_timer();
            let events = std::mem::take(&mut shell.events);
            shell.report(&events);
            (events, std::mem::take(&mut shell.page_events))
        };
        let (events, page_events) = events;
        if events.is_empty() && page_events.is_empty() {
            if shared.inbox.borrow().is_empty() {
                return;
            }
            continue;
        }
        for event in &events {
            dispatch(shared, event_name(event), || super::js::event(event));
        }
        for (name, value) in page_events {
            dispatch(shared, name, || Some(value));
        }
    }
}

/// Calls the listeners of event `name` (and of `*`) with the event `make` builds, if
/// anyone listens.
fn dispatch(shared: &Rc<Shared>, name: &str, make: impl FnOnce() -> Option<JsValue>) {
    let listeners: Vec<Function> = shared
        .listeners
        .borrow()
        .iter()
        .filter(|(wanted, _)| wanted == name || wanted == "*")
        .map(|(_, f)| f.clone())
        .collect();
    if listeners.is_empty() {
        return;
    }
    let Some(value) = make() else {
        return;
    };
    for listener in listeners {
        if let Err(error) = listener.call1(&JsValue::NULL, &value) {
            web_sys::console::error_2(&"player listener threw".into(), &error);
        }
    }
}

/// The API name of an event (its serialised `type`).
pub fn event_name(event: &Event) -> &'static str {
    match event {
        Event::ManifestLoaded { .. } => "manifestLoaded",
        Event::LevelLoaded { .. } => "levelLoaded",
        Event::LevelSwitching { .. } => "levelSwitching",
        Event::LevelSwitched { .. } => "levelSwitched",
        Event::FragLoaded { .. } => "fragLoaded",
        Event::FragAbandoned { .. } => "fragAbandoned",
        Event::FirstFrame { .. } => "firstFrame",
        Event::BufferStalled { .. } => "bufferStalled",
        Event::BufferStallEnded { .. } => "bufferStallEnded",
        Event::GapJumped { .. } => "gapJumped",
        Event::Seeked { .. } => "seeked",
        Event::RetryScheduled { .. } => "retryScheduled",
        Event::Error { .. } => "error",
        Event::Ended => "ended",
    }
}

/// A JS callback with no arguments, kept alive while it is registered.
type Callback = Closure<dyn FnMut()>;

/// A JS callback taking a message (the transmuxer worker's).
type MessageCallback = Closure<dyn FnMut(JsValue)>;

/// The engine in a page.
pub struct Shell {
    pub engine: Engine,
    video: HtmlVideoElement,
    weak: Weak<Shared>,
    sink: Option<Sink>,
    /// Tracks asked for before `sourceopen`.
    pending_tracks: Vec<(TrackId, String)>,
    /// fMP4 tracks whose MIME type names no codecs (no `CODECS` in the playlist), with
    /// their container: created once their first bytes (the init segment) tell the codecs.
    codecs_unknown: Vec<(TrackId, String)>,
    /// MIME types read from init segments, per track, for a rebuilt `MediaSource`.
    read_mimes: SmallMap<TrackId, String>,
    /// Operations for tracks that do not exist yet.
    early_ops: Vec<(TrackId, Op)>,
    fetches: SmallMap<RequestId, AbortController>,
    kinds: SmallMap<RequestId, RequestKind>,
    bodies: SmallMap<RequestId, Uint8Array>,
    waiting: bool,
    /// Where to put the playhead once the element has metadata (a seek asked for
    /// before, or the position to resume at after a rebuilt `MediaSource`).
    restore_position: Option<f64>,
    /// The request a decode error was last reported for (the buffer and the element both
    /// report one failure).
    decode_reported: Option<RequestId>,
    events: Vec<Event>,
    timer: Option<i32>,
    timer_callback: Option<Closure<dyn FnMut()>>,
    element_listeners: Vec<(&'static str, Callback)>,
    destroyed: bool,
    /// Analytics, when on.
    reporter: Option<Reporter>,
    /// The engine's events as beacon events.
    tracker: PlayerTracker,
    /// CMCD on requests (`Some`, with the content id), or off.
    cmcd: Option<Option<String>>,
    /// The playhead at the last look while not seeking (where a seek started from).
    position: f64,
    /// When MPEG-TS and packed audio are transmuxed.
    transmux: transmux::Mode,
    /// The transmuxer's worker, once a track needed it, and its message callback.
    worker: Option<(transmux::Worker, MessageCallback)>,
    /// Per track (`TrackId as usize`), when its segments are transmuxed.
    transmuxed: [Option<transmux::Track>; 2],
    /// Replies of the worker for another epoch (before a new source or `MediaSource`)
    /// are dropped.
    epoch: u32,
    /// The current view's id (the analytics view and the CMCD session), once a source
    /// was loaded.
    pub view_id: Option<String>,
    /// Events of the page only (not the engine's), with their API name: ID3 `metadata`.
    page_events: Vec<(&'static str, JsValue)>,
}

/// Seconds on the page's monotonic clock.
pub fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now() / 1000.0)
}

impl Shell {
    /// A shell for `video`, listening to its events.
    pub fn create(video: HtmlVideoElement, mut engine: Engine) -> Rc<Shared> {
        engine.set_codec_support(Box::new(MediaSource::is_type_supported));
        let shared = Rc::new_cyclic(|weak: &Weak<Shared>| Shared {
            shell: RefCell::new(Shell {
                engine,
                video,
                weak: weak.clone(),
                sink: None,
                pending_tracks: Vec::new(),
                codecs_unknown: Vec::new(),
                read_mimes: SmallMap::new(),
                early_ops: Vec::new(),
                fetches: SmallMap::new(),
                kinds: SmallMap::new(),
                bodies: SmallMap::new(),
                waiting: false,
                restore_position: None,
                decode_reported: None,
                events: Vec::new(),
                timer: None,
                timer_callback: None,
                element_listeners: Vec::new(),
                destroyed: false,
                reporter: None,
                tracker: PlayerTracker::default(),
                cmcd: None,
                position: 0.0,
                transmux: transmux::Mode::Auto,
                worker: None,
                transmuxed: [None, None],
                epoch: 0,
                view_id: None,
                page_events: Vec::new(),
            }),
            inbox: RefCell::new(VecDeque::new()),
            active: RefCell::new(SmallMap::new()),
            listeners: RefCell::new(Vec::new()),
        });
        shared.shell.borrow_mut().listen_to_element();
        shared
    }

    fn listen_to_element(&mut self) {
        for &name in ELEMENT_EVENTS {
            let weak = self.weak.clone();
            let callback = Closure::<dyn FnMut()>::new(move || {
                deliver(&weak, Note::Element(name));
            });
            let _ = self
                .video
                .add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
            self.element_listeners.push((name, callback));
        }
        let weak = self.weak.clone();
        self.timer_callback = Some(Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade()
                && let Ok(mut shell) = shared.shell.try_borrow_mut()
            {
                shell.timer = None;
            }
            deliver(&weak, Note::Timer);
        }));
    }

    /// Turns analytics (`reporter`) and CMCD (`cmcd`: `Some(content id)`) on.
    pub fn set_telemetry(&mut self, reporter: Option<Reporter>, cmcd: Option<Option<String>>) {
        self.reporter = reporter;
        self.cmcd = cmcd;
    }

    /// Sets when MPEG-TS and packed audio are transmuxed; levels are playable when
    /// their segments are, directly or transmuxed.
    pub fn set_transmux(&mut self, mode: transmux::Mode) {
        self.transmux = mode;
        self.engine
            .set_codec_support(Box::new(move |mime| mode.can_play(mime)));
    }

    /// A new view for a new source: a new id (the CMCD session id too), the previous
    /// view ended.
    fn begin_view(&mut self) {
        let id = random_id();
        self.view_id = Some(id.clone());
        if let Some(cid) = &self.cmcd {
            self.engine.set_cmcd(Some(CmcdSession {
                sid: id.clone(),
                cid: cid.clone(),
            }));
        }
        self.tracker = PlayerTracker::default();
        if let Some(reporter) = &self.reporter {
            reporter.start_view(id, self.video.current_time());
        }
    }

    /// Records what `events` mean for the view, and a heartbeat when one is due.
    fn report(&mut self, events: &[Event]) {
        let Some(reporter) = &self.reporter else {
            return;
        };
        let pt = self.video.current_time();
        for event in events {
            if let Some(kind) = self.tracker.engine_event(event) {
                reporter.record(pt, kind);
            }
        }
        reporter.tick(pt, || {
            let stats = self.engine.stats();
            let quality = self.video.get_video_playback_quality();
            EventKind::Heartbeat {
                bitrate: self.tracker.bitrate(),
                buffer_s: Some(stats.buffer_ahead_s),
                bandwidth_bps: Some(stats.bandwidth_estimate_bps),
                dropped_frames: quality.dropped_video_frames() as u64,
                total_frames: quality.total_video_frames() as u64,
            }
        });
    }

    fn feed(&mut self, input: Input) {
        self.engine.handle(now(), input);
    }

    /// Tells the engine what the element looks like now.
    fn snapshot_media(&mut self) {
        let video = &self.video;
        let quality = video.get_video_playback_quality();
        let (dropped, total) = (
            quality.dropped_video_frames() as u64,
            quality.total_video_frames() as u64,
        );
        let scale = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        if !video.seeking() {
            self.position = video.current_time();
        }
        let snapshot = MediaSnapshot {
            current_time: video.current_time(),
            paused: video.paused(),
            seeking: video.seeking(),
            waiting: self.waiting,
            ended: video.ended(),
            ready_state: video.ready_state() as u8,
            playback_rate: video.playback_rate(),
            dropped_frames: dropped,
            total_frames: total,
            width: (f64::from(video.client_width()) * scale) as u32,
            height: (f64::from(video.client_height()) * scale) as u32,
        };
        self.feed(Input::Media(snapshot));
    }

    fn handle(&mut self, shared: &Rc<Shared>, note: Note) {
        match note {
            Note::Input(Input::Load { url }) => {
                self.begin_view();
                self.reset_media();
                self.read_mimes.clear();
                self.transmuxed = [None, None];
                if let Some((worker, _)) = &self.worker {
                    transmux::reset(worker);
                }
                self.attach_sink();
                self.feed(Input::Load { url });
            }
            Note::Input(Input::Seek { position }) => {
                self.tracker.seek(self.video.current_time());
                self.feed(Input::Seek { position });
            }
            Note::Input(input) => self.feed(input),
            Note::Fetched(id, input) => {
                if !self.fetches.contains_key(&id) {
                    return;
                }
                if matches!(
                    input,
                    Input::PlaylistLoaded { .. }
                        | Input::SegmentLoaded { .. }
                        | Input::RequestFailed { .. }
                ) {
                    self.fetches.remove(&id);
                    shared.active.borrow_mut().remove(&id);
                }
                self.feed(input);
            }
            Note::Body(id, bytes) => {
                if self.fetches.contains_key(&id) {
                    self.bodies.insert(id, bytes);
                }
            }
            Note::SourceOpen => self.on_source_open(),
            Note::UpdateEnd(track) => {
                let Some(buffer) = self.sink.as_mut().and_then(|s| s.track(track)) else {
                    return;
                };
                let finished = buffer.finish();
                if finished.is_some()
                    && !matches!(finished, Some(Finished::Appended(TRANSMUX_INIT)))
                {
                    let ranges = buffer.buffered();
                    self.feed(Input::Buffered { track, ranges });
                    self.try_restore_position();
                }
            }
            Note::BufferError(track) => {
                let running = self
                    .sink
                    .as_mut()
                    .and_then(|s| s.track(track))
                    .and_then(|b| b.finish());
                if let Some(Finished::Appended(request)) = running {
                    self.report_decode_error(track, request);
                }
            }
            Note::Element(name) => {
                self.on_element_event(name);
                // The engine sees the change now, not at the next look (stall and seek
                // times to the event, as analytics measure them).
                if !matches!(name, "timeupdate" | "resize" | "ratechange") {
                    self.snapshot_media();
                }
            }
            Note::Timer => self.feed(Input::Timer),
            Note::Transmuxed(message) => self.on_transmuxed(&message),
        }
    }

    /// Sends a transmuxed track's segment to the worker (started on first need).
    fn send_to_worker(
        &mut self,
        track: TrackId,
        request: RequestId,
        bytes: Uint8Array,
        start: f64,
    ) {
        let kind = self.kinds.get(&request).copied();
        let (key, start) = match kind {
            Some(RequestKind::Segment {
                level, sequence, ..
            }) => (
                Some((
                    level,
                    sequence,
                    kind.and_then(|k| self.engine.discontinuity_sequence(&k)),
                )),
                start,
            ),
            // An init section (`EXT-X-MAP`): tables only, nothing to place.
            _ => (None, f64::NAN),
        };
        let Some(entry) = &mut self.transmuxed[track as usize] else {
            return;
        };
        let discontinuity = entry.discontinuity(key);
        let video_only = entry.video_only;
        if self.worker.is_none() {
            let weak = self.weak.clone();
            let callback = Closure::<dyn FnMut(JsValue)>::new(move |message| {
                deliver(&weak, Note::Transmuxed(message));
            });
            if let Ok(worker) = transmux::start(callback.as_ref().unchecked_ref()) {
                self.worker = Some((worker, callback));
            }
        }
        let sent = self.worker.as_ref().is_some_and(|(worker, _)| {
            transmux::push(
                worker,
                [
                    track as u32,
                    self.epoch,
                    u32::from(discontinuity),
                    u32::from(video_only),
                ],
                request.0,
                start,
                &bytes,
            )
        });
        if !sent {
            self.fatal("unsupported container: cannot start the transmuxer".into());
        }
    }

    /// The worker's answer: creates the track from its MIME type, appends the init
    /// segment when it is new, then the media.
    fn on_transmuxed(&mut self, message: &JsValue) {
        let field = |key| transmux::get(message, key);
        let error = field("error").as_string();
        let Some(request) = field("request").as_f64() else {
            self.fatal(error.unwrap_or_default());
            return;
        };
        if field("epoch").as_f64() != Some(f64::from(self.epoch)) {
            return;
        }
        let request = RequestId(request as u64);
        let track = if field("track").is_truthy() {
            TrackId::Audio
        } else {
            TrackId::Main
        };
        if let Some(message) = error {
            self.feed(Input::AppendFailed {
                track,
                request,
                failure: AppendFailure::Decode { message },
            });
            return;
        }
        let Some(entry) = &mut self.transmuxed[track as usize] else {
            return;
        };
        let created = std::mem::replace(&mut entry.created, true);
        if !created && !self.create_track(track, field("mime").as_string().unwrap_or_default()) {
            return;
        }
        if let (Some(entry), Ok(init)) = (
            &mut self.transmuxed[track as usize],
            field("init").dyn_into::<Uint8Array>(),
        ) && (field("changed").is_truthy() || !entry.init_appended)
        {
            entry.init_appended = true;
            self.push_op(
                track,
                Op::Append {
                    request: TRANSMUX_INIT,
                    bytes: init,
                    start: None,
                },
            );
        }
        let start = field("start").as_f64().filter(|start| !start.is_nan());
        if let Some(start) = start {
            self.timed_metadata(track, start, message);
        }
        if let Ok(bytes) = field("media").dyn_into::<Uint8Array>() {
            self.push_op(
                track,
                Op::Append {
                    request,
                    bytes,
                    start,
                },
            );
        }
    }

    /// The ID3 tags of a transmuxed segment as `metadata` events: each at the playlist's
    /// position of the segment plus its distance from the segment's first media sample
    /// (as the segment itself is placed).
    fn timed_metadata(&mut self, track: TrackId, start: f64, message: &JsValue) {
        let tags = transmux::get(message, "metadata");
        if !js_sys::Array::is_array(&tags) {
            return;
        }
        let range_start = |key| transmux::get(&transmux::get(message, key), "start").as_f64();
        let media_start = match track {
            TrackId::Main => range_start("videoRange").or_else(|| range_start("audioRange")),
            TrackId::Audio => range_start("audioRange"),
        };
        for tag in js_sys::Array::from(&tags).iter() {
            let Some(pts) = transmux::get(&tag, "pts")
                .as_f64()
                .filter(|pts| pts.is_finite())
            else {
                continue;
            };
            let time = media_start.map_or(start, |media| start + (pts - media));
            let data = transmux::get(&tag, "data");
            self.page_events
                .push(("metadata", super::js::metadata(track, time, pts, &data)));
        }
    }

    fn on_element_event(&mut self, name: &str) {
        let kind = match name {
            "play" => self.tracker.play(),
            "pause" => self.tracker.pause(self.video.ended()),
            "seeking" => {
                self.tracker.seek(self.position);
                None
            }
            _ => None,
        };
        if let (Some(reporter), Some(kind)) = (&self.reporter, kind) {
            reporter.record(self.video.current_time(), kind);
        }
        match name {
            "waiting" => self.waiting = true,
            "playing" | "pause" | "ended" | "seeking" => self.waiting = false,
            "loadedmetadata" => self.try_restore_position(),
            "error" => {
                let code = self.video.error().map_or(0, |e| e.code());
                // 3: MEDIA_ERR_DECODE, 4: MEDIA_ERR_SRC_NOT_SUPPORTED.
                if code == 3 || code == 4 {
                    let request = self
                        .sink
                        .as_ref()
                        .and_then(|s| s.tracks.iter().find(|t| t.id == TrackId::Main))
                        .and_then(|t| t.last_request);
                    if let Some(request) = request {
                        self.report_decode_error(TrackId::Main, request);
                    }
                }
            }
            _ => {}
        }
    }

    /// Moves the playhead where it was asked to go before the element could seek: it
    /// can once it has metadata and, for live streams (infinite duration, seekable only
    /// where buffered), once media is buffered there.
    fn try_restore_position(&mut self) {
        let Some(position) = self.restore_position else {
            return;
        };
        if self.video.ready_state() == 0 {
            return;
        }
        self.video.set_current_time(position);
        if self.video.seeking() || (self.video.current_time() - position).abs() < 0.5 {
            self.restore_position = None;
        }
    }

    fn report_decode_error(&mut self, track: TrackId, request: RequestId) {
        if self.decode_reported == Some(request) {
            return;
        }
        self.decode_reported = Some(request);
        let message = self
            .video
            .error()
            .map(|e| {
                let text = e.message();
                if text.is_empty() {
                    format!("media error {}", e.code())
                } else {
                    text
                }
            })
            .unwrap_or_else(|| "the SourceBuffer reported an error".into());
        self.feed(Input::AppendFailed {
            track,
            request,
            failure: AppendFailure::Decode { message },
        });
    }

    /// A new `MediaSource` on the element (at load, or to recover from a decode error).
    fn attach_sink(&mut self) {
        let weak = self.weak.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            deliver(&weak, Note::SourceOpen);
        });
        match Sink::attach(&self.video, on_open) {
            Ok(sink) => self.sink = Some(sink),
            Err(error) => self.fatal(format!("cannot create a MediaSource: {}", describe(&error))),
        }
    }

    fn reset_media(&mut self) {
        if let Some(mut sink) = self.sink.take() {
            sink.detach(&self.video);
        }
        self.pending_tracks.clear();
        self.codecs_unknown.clear();
        self.early_ops.clear();
        self.bodies.clear();
        self.epoch += 1;
        for entry in self.transmuxed.iter_mut().flatten() {
            *entry = transmux::Track {
                video_only: entry.video_only,
                ..transmux::Track::default()
            };
        }
        self.waiting = false;
        self.decode_reported = None;
    }

    fn on_source_open(&mut self) {
        if let Some(sink) = self.sink.as_mut() {
            sink.revoke_url();
        }
        for (track, mime) in std::mem::take(&mut self.pending_tracks) {
            self.add_track(track, &mime);
        }
    }

    fn add_track(&mut self, track: TrackId, mime: &str) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        let weak = self.weak.clone();
        let on_update_end = Closure::<dyn FnMut()>::new(move || {
            deliver(&weak, Note::UpdateEnd(track));
        });
        let weak = self.weak.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            deliver(&weak, Note::BufferError(track));
        });
        if let Err(error) = sink.add_track(track, mime, on_update_end, on_error) {
            // Browsers may accept a type in isTypeSupported and still refuse it here
            // (Chromium: `video/mp2t` without codecs).
            let refused = error
                .dyn_ref::<web_sys::DomException>()
                .is_some_and(|e| e.name() == "NotSupportedError");
            self.fatal(format!(
                "{}cannot add a SourceBuffer for {mime}: {}",
                if refused {
                    "unsupported container or codecs: "
                } else {
                    ""
                },
                describe(&error)
            ));
            return;
        }
        let early = std::mem::take(&mut self.early_ops);
        for (id, op) in early {
            match self.sink.as_mut().and_then(|s| s.track(id)) {
                Some(buffer) => buffer.push(op),
                None => self.early_ops.push((id, op)),
            }
        }
        // A transmuxed track is created after its first append was asked for: the engine
        // counts each `Buffered` as one append done, so it hears of the track's ranges
        // only when that append is.
        if self.transmuxed[track as usize].is_none() {
            self.feed(Input::Buffered {
                track,
                ranges: Vec::new(),
            });
        }
    }

    /// Carries out the engine's actions and starts what the buffers can take, until
    /// nothing more happens.
    fn settle(&mut self, shared: &Rc<Shared>) {
        loop {
            let mut acted = false;
            while let Some(action) = self.engine.poll_action() {
                acted = true;
                self.execute(shared, action);
                if self.destroyed {
                    return;
                }
            }
            let expected = 1 + usize::from(self.engine.audio_rendition().is_some());
            let failures = self
                .sink
                .as_mut()
                .map(|s| s.service(expected))
                .unwrap_or_default();
            for (track, failure) in failures {
                acted = true;
                match failure {
                    StartError::Quota(TRANSMUX_INIT, _) | StartError::Other(TRANSMUX_INIT, _) => {
                        self.fatal("cannot append the transmuxer's init segment".into());
                    }
                    StartError::Quota(request, bytes) => {
                        self.bodies.insert(request, bytes);
                        self.feed(Input::AppendFailed {
                            track,
                            request,
                            failure: AppendFailure::QuotaExceeded,
                        });
                    }
                    StartError::Other(request, message) => self.feed(Input::AppendFailed {
                        track,
                        request,
                        failure: AppendFailure::Decode { message },
                    }),
                }
            }
            if !acted {
                return;
            }
        }
    }

    fn execute(&mut self, shared: &Rc<Shared>, action: Action) {
        match action {
            Action::Fetch(request) => {
                let id = request.id;
                self.kinds.insert(id, request.kind);
                shared.active.borrow_mut().insert(id, ());
                let weak = self.weak.clone();
                match fetch::start(move |note| deliver(&weak, note), request) {
                    Ok(controller) => {
                        self.fetches.insert(id, controller);
                    }
                    Err(error) => {
                        shared.active.borrow_mut().remove(&id);
                        self.feed(Input::RequestFailed {
                            request: id,
                            failure: crate::engine::FetchFailure {
                                status: None,
                                message: describe(&error),
                            },
                        });
                    }
                }
            }
            Action::Abort { request } => {
                if let Some(controller) = self.fetches.remove(&request) {
                    controller.abort();
                }
                shared.active.borrow_mut().remove(&request);
                self.bodies.remove(&request);
            }
            Action::CreateTrack { track, mime } => {
                if self.transmux.applies(&mime) {
                    let entry = transmux::Track {
                        video_only: track == TrackId::Main
                            && self.engine.audio_rendition().is_some(),
                        ..transmux::Track::default()
                    };
                    let recreate = self.transmuxed[track as usize].replace(entry).is_some()
                        && self.sink.as_ref().is_some_and(|s| s.has_track(track));
                    if recreate {
                        // A decode error: rebuild the MediaSource at the current position.
                        self.restore_position = Some(self.video.current_time());
                        self.reset_media();
                        self.attach_sink();
                    }
                    return;
                }
                if let Some(mime) = self.with_codecs(track, mime) {
                    self.create_track(track, mime);
                }
            }
            Action::Append {
                track,
                request,
                start,
                duration: _,
            } => {
                let Some(bytes) = self.bodies.remove(&request) else {
                    self.feed(Input::AppendFailed {
                        track,
                        request,
                        failure: AppendFailure::Decode {
                            message: "no bytes for this request".into(),
                        },
                    });
                    return;
                };
                if self.transmuxed[track as usize].is_some() {
                    self.send_to_worker(track, request, bytes, start);
                    return;
                }
                if let Some(at) = self.codecs_unknown.iter().position(|(t, _)| *t == track) {
                    let (_, container) = self.codecs_unknown.remove(at);
                    let probe = bytes.subarray(0, bytes.length().min(CODEC_PROBE_BYTES));
                    let Some(codecs) = crate::mp4::codecs(&probe.to_vec()) else {
                        self.fatal(format!(
                            "unsupported container or codecs: the playlist declares no CODECS \
                             and the first {container} segment names no audio or video codec"
                        ));
                        return;
                    };
                    let mime = format!("{container}; codecs=\"{}\"", codecs.join(","));
                    self.read_mimes.insert(track, mime.clone());
                    if !self.create_track(track, mime) {
                        return;
                    }
                }
                let is_init = matches!(
                    self.kinds.get(&request),
                    Some(RequestKind::InitSegment { .. })
                );
                let op = Op::Append {
                    request,
                    bytes,
                    start: (!is_init).then_some(start),
                };
                self.push_op(track, op);
            }
            Action::Evict { track, start, end } => self.push_op(track, Op::Remove { start, end }),
            Action::SetDuration { seconds } => {
                if let Some(sink) = self.sink.as_mut() {
                    sink.set_duration(seconds);
                }
            }
            Action::EndOfStream => {
                if let Some(sink) = self.sink.as_mut() {
                    sink.end_of_stream();
                }
            }
            Action::SeekMedia { position } => {
                // Before metadata, the element's load algorithm would forget the position.
                if self.video.ready_state() == 0 {
                    self.restore_position = Some(position);
                } else {
                    self.video.set_current_time(position);
                }
            }
            Action::PlayMedia => {
                if let Ok(promise) = self.video.play() {
                    // A refused autoplay is the page's business; keep it off the console.
                    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
                    let _ = promise.catch(&ignore);
                    ignore.forget();
                }
            }
            Action::PauseMedia => {
                let _ = self.video.pause();
            }
            Action::Emit(event) => self.events.push(event),
        }
    }

    /// `mime` when it names codecs or its container needs none; else the type read from
    /// this track's init segment before, or `None` after noting that the track waits for
    /// its first bytes (fMP4 from a playlist without `CODECS`: browsers refuse
    /// `SourceBuffer`s of `video/mp4` or `audio/mp4` without codecs).
    fn with_codecs(&mut self, track: TrackId, mime: String) -> Option<String> {
        let container = mime.split(';').next().unwrap_or(&mime).trim();
        if crate::small_str::contains(&mime, "codecs=")
            || !matches!(container, "video/mp4" | "audio/mp4")
        {
            return Some(mime);
        }
        if let Some(read) = self.read_mimes.get(&track) {
            return Some(read.clone());
        }
        let container = container.to_owned();
        self.codecs_unknown.retain(|(t, _)| *t != track);
        self.codecs_unknown.push((track, container));
        None
    }

    /// Creates (or, after a decode error, recreates) a track's `SourceBuffer`; false
    /// when the browser cannot play `mime` (a fatal error).
    fn create_track(&mut self, track: TrackId, mime: String) -> bool {
        if !MediaSource::is_type_supported(&mime) {
            let container = mime.split(';').next().unwrap_or(&mime).trim().to_string();
            self.fatal(format!(
                "unsupported container or codecs: this browser cannot play {mime} \
                 ({container} segments need a transmuxer or another codec)"
            ));
            return false;
        }
        if self.sink.as_ref().is_some_and(|s| s.has_track(track)) {
            // A decode error: rebuild the MediaSource at the current position.
            self.restore_position = Some(self.video.current_time());
            self.reset_media();
            self.attach_sink();
        }
        if self.sink.as_ref().is_some_and(Sink::is_open) {
            self.add_track(track, &mime);
        } else {
            self.pending_tracks.push((track, mime));
        }
        true
    }

    fn push_op(&mut self, track: TrackId, op: Op) {
        match self.sink.as_mut().and_then(|s| s.track(track)) {
            Some(buffer) => buffer.push(op),
            None => self.early_ops.push((track, op)),
        }
    }

    /// Stops playback for good with an error the page sees.
    fn fatal(&mut self, details: String) {
        self.engine.stop();
        self.events.push(Event::Error {
            kind: ErrorKind::Media,
            fatal: true,
            details,
        });
    }

    fn schedule_timer(&mut self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(timer) = self.timer.take() {
            window.clear_timeout_with_handle(timer);
        }
        if self.destroyed {
            return;
        }
        let wait = self.engine.next_deadline().map_or(MAX_TIMER_S, |deadline| {
            (deadline - now()).clamp(0.0, MAX_TIMER_S)
        });
        if let Some(callback) = &self.timer_callback {
            self.timer = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    callback.as_ref().unchecked_ref(),
                    (wait * 1000.0).ceil() as i32,
                )
                .ok();
        }
    }

    /// Releases everything: requests, timers, listeners, the `MediaSource`.
    pub fn destroy(&mut self, shared: &Shared) {
        if self.destroyed {
            return;
        }
        self.destroyed = true;
        if let Some(reporter) = self.reporter.take() {
            reporter.close(Some(self.video.current_time()));
        }
        self.engine.stop();
        for (_, controller) in self.fetches.drain() {
            controller.abort();
        }
        shared.active.borrow_mut().clear();
        if let (Some(window), Some(timer)) = (web_sys::window(), self.timer.take()) {
            window.clear_timeout_with_handle(timer);
        }
        for (name, callback) in self.element_listeners.drain(..) {
            let _ = self
                .video
                .remove_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        }
        self.reset_media();
        if let Some((worker, _)) = self.worker.take() {
            worker.terminate();
        }
        self.kinds.clear();
        self.events.clear();
        shared.listeners.borrow_mut().clear();
    }
}

impl Shared {
    /// Runs `f` on the shell (for the API's getters and commands).
    pub fn with<R>(&self, f: impl FnOnce(&mut Shell) -> R) -> Option<R> {
        self.shell
            .try_borrow_mut()
            .ok()
            .map(|mut shell| f(&mut shell))
    }

    pub fn add_listener(&self, name: String, callback: Function) {
        self.listeners.borrow_mut().push((name, callback));
    }

    pub fn remove_listener(&self, name: &str, callback: &Function) {
        self.listeners
            .borrow_mut()
            .retain(|(n, f)| !(n == name && f == callback));
    }

    /// Releases everything.
    pub fn destroy(&self) {
        if let Ok(mut shell) = self.shell.try_borrow_mut() {
            shell.destroy(self);
        }
        self.inbox.borrow_mut().clear();
    }
}
