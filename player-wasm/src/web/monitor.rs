//! `Monitor.attach(video, options)`: our analytics for a `<video>` element that another
//! player drives — the browser's own HLS (`video.src = "….m3u8"`), hls.js, anything —
//! like mux-embed. Startup, rebuffering, seeks, pauses and the end come from the
//! element's events and state, by the same definitions as our player's own
//! (`qoe::tracker`); with `hls: hlsInstance`, the levels on screen (`hlsLevelSwitched`),
//! the bandwidth estimate and fatal errors (`hlsError`) come from hls.js.
//!
//! One view per attachment: it starts at `attach` and ends at `detach()` (or `destroy()`)
//! or when the page goes away.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use protocol::EventKind;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::HtmlVideoElement;

use super::options;
use super::telemetry::{Reporter, call, get, random_id};
use crate::qoe::beacons::PLAYER_VERSION;
use crate::qoe::tracker::{ElementState, ElementTracker};

/// The element events a `Monitor` follows.
const WATCHED: &[&str] = &[
    "play",
    "playing",
    "waiting",
    "seeking",
    "seeked",
    "pause",
    "ended",
    "error",
    "timeupdate",
    "canplay",
    "loadeddata",
];

type Callback = Closure<dyn FnMut()>;
/// An hls.js event listener: `(event, data)`.
type HlsCallback = Closure<dyn FnMut(JsValue, JsValue)>;

/// How often the element is looked at between its events (ms).
const LOOK_MS: i32 = 250;

/// Analytics for a `<video>` element driven by any player.
#[wasm_bindgen]
pub struct Monitor {
    inner: Rc<RefCell<Watch>>,
}

struct Watch {
    video: HtmlVideoElement,
    hls: Option<JsValue>,
    tracker: ElementTracker,
    reporter: Option<Reporter>,
    element_listeners: Vec<(&'static str, Callback)>,
    hls_listeners: Vec<(&'static str, HlsCallback)>,
    timer: Option<i32>,
    timer_callback: Option<Callback>,
    view_id: String,
}

#[wasm_bindgen]
impl Monitor {
    /// Starts reporting a view of `video`. Throws a `TypeError` naming the option when
    /// `options` has an unknown key or a bad value.
    pub fn attach(
        video: HtmlVideoElement,
        #[wasm_bindgen(unchecked_param_type = "MonitorOptions | undefined")] options: JsValue,
    ) -> Result<Monitor, JsValue> {
        let analytics = options::analytics(&options, "", options::MONITOR_NAMES)?;
        let text = |key: &str| -> Result<Option<String>, JsValue> {
            if !options.is_object() {
                return Ok(None);
            }
            let value = get(&options, key);
            if value.is_undefined() {
                return Ok(None);
            }
            value
                .as_string()
                .filter(|s| !s.is_empty())
                .map(Some)
                .ok_or_else(|| options::bad_option(key, "expected a string"))
        };
        let hls = Some(options.clone())
            .filter(JsValue::is_object)
            .map(|options| get(&options, "hls"))
            .filter(|hls| !hls.is_undefined());
        if hls.as_ref().is_some_and(|hls| !hls.is_object()) {
            return Err(options::bad_option("hls", "expected an hls.js instance"));
        }
        let player = text("playerName")?
            .unwrap_or_else(|| if hls.is_some() { "hls.js" } else { "native" }.into());
        let version = text("playerVersion")?
            .or_else(|| {
                let version = get(&get(hls.as_ref()?, "constructor"), "version").as_string()?;
                Some(version).filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| PLAYER_VERSION.into());
        let reporter = Reporter::new(&analytics, &player, &version);
        let view_id = random_id();
        reporter.start_view(view_id.clone(), video.current_time());
        let inner = Rc::new(RefCell::new(Watch {
            video,
            hls,
            tracker: ElementTracker::default(),
            reporter: Some(reporter),
            element_listeners: Vec::new(),
            hls_listeners: Vec::new(),
            timer: None,
            timer_callback: None,
            view_id,
        }));
        listen(&inner);
        look(&Rc::downgrade(&inner), "");
        Ok(Monitor { inner })
    }

    /// The id of the view this monitor reports (as the dashboard and
    /// `/api/v1/views/{id}` know it).
    #[wasm_bindgen(getter, js_name = viewId)]
    pub fn view_id(&self) -> String {
        self.inner.borrow().view_id.clone()
    }

    /// Ends the view (its last events leave with `navigator.sendBeacon`) and stops
    /// listening to the element and to hls.js.
    pub fn detach(&self) {
        let Ok(mut watch) = self.inner.try_borrow_mut() else {
            return;
        };
        if let Some(reporter) = watch.reporter.take() {
            reporter.close(Some(watch.video.current_time()));
        }
        for (name, callback) in std::mem::take(&mut watch.element_listeners) {
            let _ = watch
                .video
                .remove_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        }
        if let Some(hls) = watch.hls.clone() {
            for (event, callback) in std::mem::take(&mut watch.hls_listeners) {
                call(&hls, "off", &JsValue::from_str(event), callback.as_ref());
            }
        }
        if let (Some(window), Some(timer)) = (web_sys::window(), watch.timer.take()) {
            window.clear_timeout_with_handle(timer);
        }
        watch.timer_callback = None;
    }

    /// The same as `detach()`.
    pub fn destroy(&self) {
        self.detach();
    }
}

fn listen(inner: &Rc<RefCell<Watch>>) {
    let mut watch = inner.borrow_mut();
    for &name in WATCHED {
        let weak = Rc::downgrade(inner);
        let callback = Closure::<dyn FnMut()>::new(move || look(&weak, name));
        let _ = watch
            .video
            .add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        watch.element_listeners.push((name, callback));
    }
    if let Some(hls) = watch.hls.clone() {
        let weak = Rc::downgrade(inner);
        let switched = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_, data| {
            on_level_switched(&weak, &data);
        });
        let weak = Rc::downgrade(inner);
        let error = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_, data| {
            on_hls_error(&weak, &data);
        });
        for (event, callback) in [("hlsLevelSwitched", switched), ("hlsError", error)] {
            call(&hls, "on", &JsValue::from_str(event), callback.as_ref());
            watch.hls_listeners.push((event, callback));
        }
    }
    let weak = Rc::downgrade(inner);
    watch.timer_callback = Some(Closure::<dyn FnMut()>::new(move || {
        look(&weak, "");
        if let Some(inner) = weak.upgrade()
            && let Ok(mut watch) = inner.try_borrow_mut()
        {
            schedule(&mut watch);
        }
    }));
    schedule(&mut watch);
}

/// The next periodic look (a timeout rather than an interval: the player's shell uses
/// timeouts already, so this needs no other binding).
fn schedule(watch: &mut Watch) {
    if let (Some(window), Some(callback)) = (web_sys::window(), &watch.timer_callback) {
        watch.timer = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                LOOK_MS,
            )
            .ok();
    }
}

/// The element fired `name` (`""`: a periodic look): report what it means.
#[inline(never)]
fn look(weak: &Weak<RefCell<Watch>>, name: &str) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let Ok(mut watch) = inner.try_borrow_mut() else {
        return;
    };
    let Some(reporter) = watch.reporter.clone() else {
        return;
    };
    let video = &watch.video;
    let state = ElementState {
        current_time: video.current_time(),
        paused: video.paused(),
        seeking: video.seeking(),
        ended: video.ended(),
        ready_state: video.ready_state() as u8,
    };
    let mut out = Vec::new();
    if name == "error" {
        let (code, message) = video
            .error()
            .map_or((0, String::new()), |e| (e.code(), e.message()));
        let code = match code {
            1 => "media-aborted",
            2 => "media-network",
            3 => "media-decode",
            4 => "media-src-not-supported",
            _ => "media",
        };
        out.push(EventKind::Error {
            code: code.into(),
            message,
            fatal: true,
        });
    }
    watch
        .tracker
        .observe(super::telemetry::now_ms(), name, &state, &mut out);
    for kind in out {
        reporter.record(state.current_time, kind);
    }
    let watch = &*watch;
    reporter.tick(state.current_time, || heartbeat(watch));
}

fn heartbeat(watch: &Watch) -> EventKind {
    let video = &watch.video;
    let position = video.current_time();
    let buffered = video.buffered();
    let buffer_s = (0..buffered.length()).find_map(|i| {
        let (start, end) = (buffered.start(i).ok()?, buffered.end(i).ok()?);
        (start <= position + 0.1 && position < end).then_some(end - position)
    });
    let quality = video.get_video_playback_quality();
    EventKind::Heartbeat {
        bitrate: watch.tracker.bitrate(),
        buffer_s: Some(buffer_s.unwrap_or(0.0)),
        bandwidth_bps: watch
            .hls
            .as_ref()
            .and_then(|hls| get(hls, "bandwidthEstimate").as_f64()),
        dropped_frames: quality.dropped_video_frames() as u64,
        total_frames: quality.total_video_frames() as u64,
    }
}

/// hls.js `LEVEL_SWITCHED` (`{ level }`): the level on screen changed.
fn on_level_switched(weak: &Weak<RefCell<Watch>>, data: &JsValue) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let Ok(mut watch) = inner.try_borrow_mut() else {
        return;
    };
    let (Some(hls), Some(level)) = (watch.hls.clone(), get(data, "level").as_f64()) else {
        return;
    };
    let levels: js_sys::Array = get(&hls, "levels").unchecked_into();
    let entry = if levels.is_object() {
        levels.get(level as u32)
    } else {
        JsValue::UNDEFINED
    };
    let bitrate = get(&entry, "bitrate").as_f64().unwrap_or(0.0).max(0.0) as u64;
    let height = get(&entry, "height")
        .as_f64()
        .filter(|h| *h > 0.0)
        .map(|h| h as u32);
    let manual = get(&hls, "autoLevelEnabled").as_bool() == Some(false);
    let kind = watch
        .tracker
        .level_switched(level as u32, bitrate, height, manual);
    if let (Some(reporter), Some(kind)) = (watch.reporter.clone(), kind) {
        reporter.record(watch.video.current_time(), kind);
    }
}

/// hls.js `ERROR` (`{ type, details, fatal, error }`): fatal ones are reported (hls.js
/// reports stalls and recoverable trouble as non-fatal errors; mux-embed leaves them out
/// too).
fn on_hls_error(weak: &Weak<RefCell<Watch>>, data: &JsValue) {
    if get(data, "fatal").as_bool() != Some(true) {
        return;
    }
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let Ok(watch) = inner.try_borrow() else {
        return;
    };
    let details = get(data, "details").as_string().unwrap_or_default();
    let mut message = get(data, "type").as_string().unwrap_or_default();
    if let Some(error) = get(&get(data, "error"), "message").as_string() {
        message = message + ": " + &error;
    }
    if let Some(reporter) = &watch.reporter {
        reporter.record(
            watch.video.current_time(),
            EventKind::Error {
                code: details,
                message,
                fatal: true,
            },
        );
    }
}
