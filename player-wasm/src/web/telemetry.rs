//! Sending QoE beacons from a page: the I/O around [`Beacons`] (`qoe::beacons`, which
//! decides what to send and when).
//!
//! Batches go out with `fetch(…, { method: "POST", keepalive: true })` and a string body
//! (`text/plain`: a CORS simple request, no preflight; the key travels in the body); the
//! answer's status tells `Beacons` whether to retry. When a view ends (`destroy()`, a new
//! `load()`, the page's `pagehide`) and when the page is hidden (`visibilitychange`),
//! everything unsent leaves with `navigator.sendBeacon`, which the browser delivers even
//! as the page goes away (or, if it refuses, a keepalive `fetch`).
//!
//! The view's dimensions come from here: a session id kept per tab in
//! `sessionStorage`, browser and OS from `navigator.userAgentData` / `userAgent`, the
//! page's URL.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Reflect};
use protocol::EventKind;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventTarget, Response};

use crate::qoe::beacons::{
    Beacons, Delivery, Dimensions, Outgoing, Settings, browser_and_os, hex_id, is_identifier,
};

// Page properties are read with `Reflect` rather than typed bindings: each binding
// costs the package an import and JS glue.

/// The analytics options, checked (`options::analytics`).
#[derive(Debug, Clone, PartialEq)]
pub struct Analytics {
    /// Absolute URL of the collector's `/v1/beacons`.
    pub endpoint: String,
    pub settings: Settings,
    pub video_id: Option<String>,
    pub video_title: Option<String>,
    pub custom: Vec<(String, String)>,
}

/// Milliseconds since the Unix epoch (the beacons' clock).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn random_u64() -> u64 {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (half() << 32) | half()
}

/// A random id of 32 hex digits (view and session ids).
pub fn random_id() -> String {
    hex_id(&[random_u64(), random_u64()])
}

const SESSION_KEY: &str = "wasm-hls-player:session";

/// `object[key]` (`undefined` when absent or when reading it throws).
pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[method](a, b)`, if it is a function (`undefined` otherwise or if it throws).
pub fn call(object: &JsValue, method: &str, a: &JsValue, b: &JsValue) -> JsValue {
    let f = get(object, method);
    if !f.is_function() {
        return JsValue::UNDEFINED;
    }
    f.unchecked_into::<Function>()
        .call2(object, a, b)
        .unwrap_or(JsValue::UNDEFINED)
}

fn global(name: &str) -> JsValue {
    get(&js_sys::global(), name)
}

/// This tab's session id: kept in `sessionStorage` (a new one where storage is refused).
fn session_id() -> String {
    let storage = global("sessionStorage");
    let key = JsValue::from_str(SESSION_KEY);
    if let Some(id) = call(&storage, "getItem", &key, &JsValue::UNDEFINED).as_string()
        && is_identifier(&id)
    {
        return id;
    }
    let id = random_id();
    call(&storage, "setItem", &key, &JsValue::from_str(&id));
    id
}

/// `location.href` or `location.origin`.
fn location(part: &str) -> Option<String> {
    get(&global("location"), part).as_string()
}

/// The page's own `/v1/beacons` (the default endpoint).
pub fn default_endpoint() -> String {
    location("origin").unwrap_or_default() + "/v1/beacons"
}

/// `url` resolved against the page's base URL.
pub fn absolute(url: &str) -> Option<String> {
    let base = web_sys::window()?.document()?.base_uri().ok()??;
    Some(web_sys::Url::new_with_base(url, &base).ok()?.href())
}

/// Reports views to the collector. Cheap to clone; [`Reporter::close`] removes its page
/// listeners.
#[derive(Clone)]
pub struct Reporter(Rc<Inner>);

/// A page listener: where, which event, the callback.
type Listener = (EventTarget, &'static str, Closure<dyn FnMut()>);

struct Inner {
    beacons: RefCell<Beacons>,
    endpoint: String,
    listeners: RefCell<Vec<Listener>>,
}

impl Reporter {
    /// A reporter for `analytics`, naming the player `player` `version`.
    pub fn new(analytics: &Analytics, player: &str, version: &str) -> Reporter {
        let agent = get(&global("navigator"), "userAgent").as_string();
        let (browser, os) = browser_and_os(&agent.unwrap_or_default());
        let window = web_sys::window();
        let dimensions = Dimensions {
            session: session_id(),
            player: player.into(),
            player_version: version.into(),
            video_id: analytics.video_id.clone(),
            video_title: analytics.video_title.clone(),
            browser,
            os,
            page: location("href"),
            custom: analytics.custom.clone(),
        };
        let beacons = Beacons::new(analytics.settings.clone(), dimensions, random_u64());
        let inner = Rc::new(Inner {
            beacons: RefCell::new(beacons),
            endpoint: analytics.endpoint.clone(),
            listeners: RefCell::new(Vec::new()),
        });
        if let Some(window) = window {
            let weak = Rc::downgrade(&inner);
            listen(&inner, window.clone().into(), "pagehide", move || {
                if let Some(inner) = weak.upgrade() {
                    end_view(&inner, None);
                }
            });
            if let Some(document) = window.document() {
                let weak = Rc::downgrade(&inner);
                let page = document.clone();
                listen(&inner, document.into(), "visibilitychange", move || {
                    if get(&page, "visibilityState").as_string().as_deref() == Some("hidden")
                        && let Some(inner) = weak.upgrade()
                    {
                        let bodies = inner.beacons.borrow_mut().flush_all();
                        send_now(&inner.endpoint, bodies);
                    }
                });
            }
        }
        Reporter(inner)
    }

    /// Opens view `id` (ending the open one first).
    pub fn start_view(&self, id: String, pt: f64) {
        end_view(&self.0, Some(pt));
        self.0.beacons.borrow_mut().start_view(now_ms(), id);
        pump(&self.0);
    }

    /// Ends the open view (`viewend` at `pt`) and sends everything unsent.
    pub fn end_view(&self, pt: Option<f64>) {
        end_view(&self.0, pt);
    }

    /// Records an event of the open view at playhead `pt`.
    pub fn record(&self, pt: f64, kind: EventKind) {
        self.0.beacons.borrow_mut().record(now_ms(), Some(pt), kind);
        pump(&self.0);
    }

    /// Periodic work: the heartbeat when one is due (`heartbeat` makes it), retries and
    /// batches whose time has come.
    pub fn tick(&self, pt: f64, heartbeat: impl FnOnce() -> EventKind) {
        {
            let mut beacons = self.0.beacons.borrow_mut();
            let now = now_ms();
            beacons.set_position(pt);
            if beacons.heartbeat_due(now) {
                beacons.record(now, Some(pt), heartbeat());
            }
        }
        pump(&self.0);
    }

    /// Ends the open view and removes the page listeners.
    pub fn close(&self, pt: Option<f64>) {
        end_view(&self.0, pt);
        for (target, name, callback) in self.0.listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        }
    }
}

fn listen(inner: &Inner, target: EventTarget, name: &'static str, f: impl FnMut() + 'static) {
    let callback = Closure::<dyn FnMut()>::new(f);
    let _ = target.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
    inner.listeners.borrow_mut().push((target, name, callback));
}

fn end_view(inner: &Inner, pt: Option<f64>) {
    let bodies = inner.beacons.borrow_mut().end_view(now_ms(), pt);
    send_now(&inner.endpoint, bodies);
}

/// POSTs every batch that is due.
fn pump(inner: &Rc<Inner>) {
    loop {
        let Some(outgoing) = inner.beacons.borrow_mut().poll_send(now_ms()) else {
            return;
        };
        post(inner, outgoing);
    }
}

/// `fetch` with keepalive and a string body.
fn send(endpoint: &str, body: &str) -> Option<js_sys::Promise> {
    let init = js_sys::Object::new();
    for (key, value) in [
        ("method", JsValue::from_str("POST")),
        ("body", JsValue::from_str(body)),
        ("keepalive", JsValue::TRUE),
    ] {
        let _ = Reflect::set(&init, &JsValue::from_str(key), &value);
    }
    Some(web_sys::window()?.fetch_with_str_and_init(endpoint, init.unchecked_ref()))
}

fn post(inner: &Rc<Inner>, outgoing: Outgoing) {
    let weak: Weak<Inner> = Rc::downgrade(inner);
    let request = send(&inner.endpoint, &outgoing.body);
    wasm_bindgen_futures::spawn_local(async move {
        let status = match request {
            Some(request) => JsFuture::from(request)
                .await
                .ok()
                .map(|response| response.unchecked_into::<Response>().status()),
            None => None,
        };
        if let Some(inner) = weak.upgrade() {
            inner.beacons.borrow_mut().delivered(
                now_ms(),
                outgoing.seq,
                Delivery::of_status(status),
            );
            pump(&inner);
        }
    });
}

/// Sends `bodies` with `navigator.sendBeacon` (a keepalive `fetch` where it refuses).
fn send_now(endpoint: &str, bodies: Vec<String>) {
    let navigator = global("navigator");
    let url = JsValue::from_str(endpoint);
    for body in bodies {
        if call(&navigator, "sendBeacon", &url, &JsValue::from_str(&body)).is_truthy() {
            continue;
        }
        if let Some(request) = send(endpoint, &body) {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(request).await;
            });
        }
    }
}
