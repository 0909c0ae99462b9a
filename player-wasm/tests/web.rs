//! Browser tests of the shell (`src/web`) in headless Chromium: `make wasm-test`.
//!
//! Real browser behaviour, no mocks: options are real JS objects, requests are real
//! `fetch`es of `blob:` URLs made here (and of a missing path on the test runner's own
//! server, for an HTTP error), and media goes through a real `MediaSource` attached to a
//! real `<video>` element: a 2 s, 64x64 H.264 fMP4 in two 1 s segments (tests/data/, see
//! its README).

#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Reflect, TypeError, Uint8Array};
use player_wasm::abr::AbrKind;
use player_wasm::engine::{
    Engine, EngineConfig, FetchRequest, Input, RequestId, RequestKind, RetryPolicy, TimeRange,
    TrackId,
};
use player_wasm::hls::ByteRange;
use player_wasm::qoe::beacons::Settings;
use player_wasm::web::shell::{Note, Shell, deliver};
use player_wasm::web::sink::{Finished, Op, Sink, StartError, describe};
use player_wasm::web::telemetry::Analytics;
use player_wasm::web::{Monitor, Player};
use player_wasm::web::{fetch, options};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{AbortController, HtmlMediaElement, HtmlVideoElement};

wasm_bindgen_test_configure!(run_in_browser);

const INIT: &[u8] = include_bytes!("data/init.mp4");
/// Decode time 0 s, 1 s long.
const SEG0: &[u8] = include_bytes!("data/seg0.m4s");
/// Decode time 1 s (`tfdt` 10240 at the timescale 10240), 1 s long.
const SEG1: &[u8] = include_bytes!("data/seg1.m4s");
const CODECS: &str = "avc1.42C00A";
const MIME: &str = "video/mp4; codecs=\"avc1.42C00A\"";
/// A box 4 bytes long: less than its own header, which no MP4 parser accepts.
const JUNK: &[u8] = b"\x00\x00\x00\x04junk";

#[wasm_bindgen(inline_js = r#"
export function blob_url(bytes, type) {
    return URL.createObjectURL(new Blob([bytes], { type }));
}
export function revoke_url(url) { URL.revokeObjectURL(url); }
export function js(source) { return new Function("return (" + source + ");")(); }
export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
export function new_video() {
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    document.body.appendChild(video);
    return video;
}
export function remove_element(element) { element.remove(); }
export function src_attribute(element) { return element.getAttribute("src"); }
export function error_code(element) { return element.error ? element.error.code : 0; }
export function counting_bytes(length) {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = i % 251;
    return bytes;
}
export function zero_bytes(length) { return new Uint8Array(length); }
export function count_page_errors() {
    const count = { n: 0 };
    window.addEventListener("error", () => { count.n += 1; });
    return count;
}
export function throwing_listener() { return () => { throw new Error("listener boom"); }; }
"#)]
extern "C" {
    fn blob_url(bytes: &Uint8Array, mime: &str) -> String;
    fn revoke_url(url: &str);
    fn js(source: &str) -> JsValue;
    fn sleep(ms: u32) -> js_sys::Promise;
    fn new_video() -> HtmlVideoElement;
    fn remove_element(element: &HtmlVideoElement);
    fn src_attribute(element: &HtmlVideoElement) -> Option<String>;
    fn error_code(element: &HtmlVideoElement) -> u16;
    fn counting_bytes(length: u32) -> Uint8Array;
    fn zero_bytes(length: u32) -> Uint8Array;
    fn throwing_listener() -> Function;
    /// An object whose `n` counts the page's uncaught errors from now on.
    fn count_page_errors() -> JsValue;
}

async fn pause_ms(ms: u32) {
    JsFuture::from(sleep(ms)).await.unwrap();
}

/// Polls `done` every 10 ms for at most `timeout_ms`; whether it became true.
async fn wait_until(timeout_ms: u32, done: impl Fn() -> bool) -> bool {
    let mut waited = 0;
    while !done() {
        if waited >= timeout_ms {
            return false;
        }
        pause_ms(10).await;
        waited += 10;
    }
    true
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.05
}

fn ranges_close(got: &[TimeRange], want: &[(f64, f64)]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| close(g.start, w.0) && close(g.end, w.1))
}

fn element_ranges(video: &HtmlVideoElement) -> Vec<TimeRange> {
    let ranges = video.buffered();
    (0..ranges.length())
        .map(|i| TimeRange::new(ranges.start(i).unwrap(), ranges.end(i).unwrap()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

/// `new Player(video, options)`, destroyed again when it succeeded.
fn construct(options: &JsValue) -> Result<(), JsValue> {
    let video = new_video();
    let result = Player::new(video.clone(), options.clone()).map(|player| player.destroy());
    remove_element(&video);
    result
}

#[wasm_bindgen_test]
fn bad_options_throw_a_type_error_naming_the_option() {
    let cases: &[(&str, &str)] = &[
        ("5", "options"),
        ("'abr=bola'", "options"),
        ("{ startlevel: 0 }", "startlevel"),
        ("{ abr: 42 }", "abr"),
        ("{ abr: 'fastest' }", "abr"),
        ("{ startLevel: 1.5 }", "startLevel"),
        ("{ startLevel: '0' }", "startLevel"),
        ("{ startLevel: -2 }", "startLevel"),
        ("{ maxBufferSeconds: '30' }", "maxBufferSeconds"),
        ("{ maxBufferSeconds: 0 }", "maxBufferSeconds"),
        ("{ maxBufferSeconds: NaN }", "maxBufferSeconds"),
        ("{ maxBufferSeconds: Infinity }", "maxBufferSeconds"),
        ("{ backBufferSeconds: -1 }", "backBufferSeconds"),
        ("{ backBufferSeconds: 'all' }", "backBufferSeconds"),
        ("{ capLevelToPlayerSize: 1 }", "capLevelToPlayerSize"),
        ("{ autoplay: 'yes' }", "autoplay"),
        ("{ abandonSlowDownloads: null }", "abandonSlowDownloads"),
        ("{ preloadPlaylists: 0 }", "preloadPlaylists"),
        ("{ maxGapJumpSeconds: -0.5 }", "maxGapJumpSeconds"),
        ("{ maxGapJumpSeconds: '2' }", "maxGapJumpSeconds"),
        ("{ liveSyncDurationCount: 0 }", "liveSyncDurationCount"),
        ("{ liveSyncDurationCount: '3' }", "liveSyncDurationCount"),
        ("{ retry: 3 }", "retry"),
        ("{ retry: null }", "retry"),
        ("{ retry: { backoff: 2 } }", "backoff"),
        ("{ retry: { maxRetries: -1 } }", "retry.maxRetries"),
        ("{ retry: { maxRetries: 2.5 } }", "retry.maxRetries"),
        ("{ retry: { maxRetries: 500 } }", "retry.maxRetries"),
        (
            "{ retry: { initialDelaySeconds: 0 } }",
            "retry.initialDelaySeconds",
        ),
        (
            "{ retry: { timeoutSeconds: '20' } }",
            "retry.timeoutSeconds",
        ),
        (
            "{ playlistRetry: { maxDelaySeconds: -1 } }",
            "playlistRetry.maxDelaySeconds",
        ),
        (
            "{ segmentRetry: { initialDelaySeconds: 10, maxDelaySeconds: 5 } }",
            "segmentRetry.maxDelaySeconds",
        ),
        ("{ segmentRetry: 'fast' }", "segmentRetry"),
    ];
    for (source, option) in cases {
        let error = match construct(&js(source)) {
            Ok(()) => panic!("new Player(video, {source}) was accepted"),
            Err(error) => error,
        };
        assert!(
            error.is_instance_of::<TypeError>(),
            "{source}: threw {error:?}, not a TypeError"
        );
        let message = String::from(error.unchecked_ref::<js_sys::Error>().message());
        assert!(
            message.contains(option),
            "{source}: the message {message:?} does not name {option}"
        );
    }
}

#[wasm_bindgen_test]
fn good_options_are_accepted_and_read() {
    let defaults = EngineConfig::default();
    for source in ["undefined", "null", "{}", "{ abr: undefined }"] {
        assert_eq!(
            options::parse(&js(source), defaults.clone()).unwrap(),
            defaults,
            "{source}"
        );
        construct(&js(source)).unwrap();
    }
    for (name, kind) in [
        ("default", AbrKind::Default),
        ("throughput", AbrKind::Throughput),
        ("bola", AbrKind::Bola),
        ("bb", AbrKind::Bb),
        ("robust-mpc", AbrKind::RobustMpc),
    ] {
        let config = options::parse(&js(&format!("{{ abr: '{name}' }}")), defaults.clone());
        assert_eq!(config.unwrap().abr, kind, "{name}");
    }
    let every = js("{
        abr: 'bola', startLevel: 2, maxBufferSeconds: 12, backBufferSeconds: Infinity,
        capLevelToPlayerSize: true, autoplay: false, abandonSlowDownloads: false,
        maxGapJumpSeconds: 0.5, liveSyncDurationCount: 4, preloadPlaylists: false,
        retry: { maxRetries: 5, initialDelaySeconds: 1, maxDelaySeconds: 4, timeoutSeconds: 10 },
        segmentRetry: { maxRetries: 1 },
    }");
    construct(&every).unwrap();
    let config = options::parse(&every, defaults.clone()).unwrap();
    let retry = RetryPolicy {
        max_retries: 5,
        initial_delay_s: 1.0,
        max_delay_s: 4.0,
        timeout_s: 10.0,
    };
    assert_eq!(
        config,
        EngineConfig {
            abr: AbrKind::Bola,
            start_level: Some(2),
            max_buffer_s: 12.0,
            back_buffer_s: None,
            cap_level_to_player_size: true,
            autoplay: false,
            abandon_slow_downloads: false,
            max_gap_jump_s: 0.5,
            live_sync_target_durations: 4.0,
            preload_playlists: false,
            playlist_retry: retry,
            segment_retry: RetryPolicy {
                max_retries: 1,
                ..retry
            },
            ..defaults.clone()
        }
    );
    let config = options::parse(
        &js("{ startLevel: -1, backBufferSeconds: null }"),
        defaults.clone(),
    )
    .unwrap();
    assert_eq!((config.start_level, config.back_buffer_s), (None, None));
    let config = options::parse(&js("{ backBufferSeconds: 0 }"), defaults.clone()).unwrap();
    assert_eq!(config.back_buffer_s, Some(0.0));
}

// ---------------------------------------------------------------------------------------
// fetch: streamed bodies, progress, ranges, failures, cancellation
// ---------------------------------------------------------------------------------------

/// What a fetch task told its inbox, in order.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Started(Option<u64>),
    Progress(u64),
    Playlist(String, Option<String>),
    Body(Vec<u8>),
    Loaded(u64),
    Failed(Option<u16>, String),
}

impl Seen {
    fn is_last(&self) -> bool {
        matches!(
            self,
            Seen::Playlist(..) | Seen::Loaded(_) | Seen::Failed(..)
        )
    }
}

fn seen(id: RequestId, note: Note) -> Seen {
    let (note_id, seen) = match note {
        Note::Fetched(note_id, input) => (
            note_id,
            match input {
                Input::ResponseStarted {
                    request,
                    total_bytes,
                } => {
                    assert_eq!(request, id);
                    Seen::Started(total_bytes)
                }
                Input::Progress { request, loaded } => {
                    assert_eq!(request, id);
                    Seen::Progress(loaded)
                }
                Input::PlaylistLoaded { request, text, url } => {
                    assert_eq!(request, id);
                    Seen::Playlist(text, url)
                }
                Input::SegmentLoaded { request, bytes } => {
                    assert_eq!(request, id);
                    Seen::Loaded(bytes)
                }
                Input::RequestFailed { request, failure } => {
                    assert_eq!(request, id);
                    Seen::Failed(failure.status, failure.message)
                }
                other => panic!("unexpected input {other:?}"),
            },
        ),
        Note::Body(note_id, bytes) => (note_id, Seen::Body(bytes.to_vec())),
        _ => panic!("a fetch task sent a note that is not about its request"),
    };
    assert_eq!(note_id, id);
    seen
}

/// A request made through `fetch::start`; `wanted` answers each note (the shell's
/// "is this request still wanted").
struct Fetching {
    log: Rc<RefCell<Vec<Seen>>>,
    controller: AbortController,
}

fn start_fetch(request: FetchRequest, wanted: impl Fn(&Seen) -> bool + 'static) -> Fetching {
    let log: Rc<RefCell<Vec<Seen>>> = Rc::default();
    let inbox = log.clone();
    let id = request.id;
    let controller = fetch::start(
        move |note| {
            let seen = seen(id, note);
            let answer = wanted(&seen);
            inbox.borrow_mut().push(seen);
            answer
        },
        request,
    )
    .unwrap();
    Fetching { log, controller }
}

impl Fetching {
    async fn finish(&self) -> Vec<Seen> {
        let done = wait_until(5000, || self.log.borrow().iter().any(Seen::is_last)).await;
        assert!(done, "no end: {:?}", self.log.borrow());
        self.log.borrow().clone()
    }
}

fn segment(id: u64, url: &str, range: Option<ByteRange>) -> FetchRequest {
    FetchRequest {
        id: RequestId(id),
        url: url.to_string(),
        range,
        kind: RequestKind::Segment {
            track: TrackId::Main,
            level: 0,
            sequence: id,
        },
    }
}

#[wasm_bindgen_test]
async fn fetch_streams_a_body_with_progress() {
    // 4 MiB: Chromium streams a blob in 2 MiB chunks.
    let length = 4 << 20;
    let data = counting_bytes(length);
    let url = blob_url(&data, "video/iso.segment");
    let fetching = start_fetch(segment(7, &url, None), |_| true);
    let log = fetching.finish().await;
    revoke_url(&url);

    assert_eq!(log[0], Seen::Started(Some(u64::from(length))));
    let progress: Vec<u64> = log
        .iter()
        .filter_map(|s| match s {
            Seen::Progress(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 2, "one chunk only: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&u64::from(length)));
    // The body (joined from its chunks), then the end, last.
    let n = log.len();
    assert_eq!(log[n - 1], Seen::Loaded(u64::from(length)));
    let Seen::Body(body) = &log[n - 2] else {
        panic!("no body before the end: {:?}", &log[n - 2..]);
    };
    assert!(*body == data.to_vec(), "the body differs from the blob");
    assert_eq!(n, progress.len() + 3);
}

#[wasm_bindgen_test]
async fn fetch_asks_for_a_byte_range() {
    let url = blob_url(&Uint8Array::from(SEG0), "video/iso.segment");
    let range = ByteRange {
        offset: 24,
        length: 52,
    };
    let log = start_fetch(segment(1, &url, Some(range)), |_| true)
        .finish()
        .await;
    revoke_url(&url);
    // The sidx box: bytes 24..76 of the segment.
    assert_eq!(
        log,
        vec![
            Seen::Started(Some(52)),
            Seen::Progress(52),
            Seen::Body(SEG0[24..76].to_vec()),
            Seen::Loaded(52),
        ]
    );
}

#[wasm_bindgen_test]
async fn fetch_returns_playlist_text() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\na.m4s\n#EXT-X-ENDLIST\n";
    let url = blob_url(
        &Uint8Array::from(text.as_bytes()),
        "application/vnd.apple.mpegurl",
    );
    let request = FetchRequest {
        id: RequestId(3),
        url: url.clone(),
        range: None,
        kind: RequestKind::Manifest,
    };
    let log = start_fetch(request, |_| true).finish().await;
    revoke_url(&url);
    assert_eq!(
        log,
        vec![
            Seen::Started(Some(text.len() as u64)),
            Seen::Playlist(text.into(), None),
        ]
    );
}

#[wasm_bindgen_test]
async fn fetch_reports_failures() {
    // The test runner's server answers a missing file with 404.
    let log = start_fetch(segment(4, "/no-such-segment.m4s", None), |_| true)
        .finish()
        .await;
    assert_eq!(
        log,
        vec![Seen::Failed(Some(404), "HTTP 404 Not Found".into())]
    );

    // A revoked blob: a network error, no status.
    let url = blob_url(&Uint8Array::from(SEG0), "video/iso.segment");
    revoke_url(&url);
    let log = start_fetch(segment(5, &url, None), |_| true).finish().await;
    assert!(
        matches!(log.as_slice(), [Seen::Failed(None, message)] if !message.is_empty()),
        "{log:?}"
    );
}

#[wasm_bindgen_test]
async fn fetch_is_cancelled_by_its_abort_controller() {
    // Before the response.
    let url = blob_url(&counting_bytes(1 << 20), "video/iso.segment");
    let fetching = start_fetch(segment(8, &url, None), |_| true);
    fetching.controller.abort();
    let log = fetching.finish().await;
    assert!(
        matches!(log.as_slice(), [Seen::Failed(None, m)] if m.starts_with("AbortError")),
        "{log:?}"
    );
    revoke_url(&url);

    // While the body streams: aborted at the first progress, the read fails.
    let length = 8 << 20;
    let url = blob_url(&counting_bytes(length), "video/iso.segment");
    let controller: Rc<RefCell<Option<AbortController>>> = Rc::default();
    let abort = controller.clone();
    let fetching = start_fetch(segment(9, &url, None), move |seen| {
        if matches!(seen, Seen::Progress(_))
            && let Some(controller) = abort.borrow_mut().take()
        {
            controller.abort();
        }
        true
    });
    *controller.borrow_mut() = Some(fetching.controller.clone());
    let log = fetching.finish().await;
    revoke_url(&url);
    assert_eq!(log[0], Seen::Started(Some(u64::from(length))));
    assert!(
        matches!(log.last(), Some(Seen::Failed(None, m)) if m.starts_with("AbortError")),
        "{log:?}"
    );
    assert!(
        !log.iter()
            .any(|s| matches!(s, Seen::Body(_) | Seen::Loaded(_))),
        "{log:?}"
    );
    assert!(
        !log.contains(&Seen::Progress(u64::from(length))),
        "read to the end: {log:?}"
    );
}

#[wasm_bindgen_test]
async fn fetch_stops_when_the_request_is_no_longer_wanted() {
    let length = 8 << 20;
    let url = blob_url(&counting_bytes(length), "video/iso.segment");
    let fetching = start_fetch(segment(10, &url, None), |seen| {
        !matches!(seen, Seen::Progress(_))
    });
    assert!(wait_until(5000, || fetching.log.borrow().len() >= 2).await);
    // Give a task that would go on reading the time to do so.
    pause_ms(300).await;
    revoke_url(&url);
    let log = fetching.log.borrow();
    assert!(
        matches!(log.as_slice(), [Seen::Started(Some(n)), Seen::Progress(p)]
            if *n == u64::from(length) && *p < *n),
        "{log:?}"
    );
}

// ---------------------------------------------------------------------------------------
// sink: MediaSource, SourceBuffer queues
// ---------------------------------------------------------------------------------------

/// A sink on a new `<video>` element, open, with the main track added.
struct Media {
    video: HtmlVideoElement,
    sink: Sink,
    update_ends: Rc<Cell<usize>>,
    errors: Rc<Cell<usize>>,
}

impl Media {
    async fn open() -> Media {
        let video = new_video();
        let opened = Rc::new(Cell::new(0));
        let on_open = opened.clone();
        let sink = Sink::attach(
            video.unchecked_ref::<HtmlMediaElement>(),
            Closure::new(move || on_open.set(on_open.get() + 1)),
        )
        .unwrap();
        // The MediaSource's object URL.
        assert!(video.src().starts_with("blob:"), "{}", video.src());
        assert!(!sink.is_open(), "open before sourceopen");
        assert!(
            wait_until(5000, || opened.get() == 1).await,
            "no sourceopen"
        );
        assert!(sink.is_open());
        let mut media = Media {
            video,
            sink,
            update_ends: Rc::default(),
            errors: Rc::default(),
        };
        let (ends, errors) = (media.update_ends.clone(), media.errors.clone());
        media
            .sink
            .add_track(
                TrackId::Main,
                MIME,
                Closure::new(move || ends.set(ends.get() + 1)),
                Closure::new(move || errors.set(errors.get() + 1)),
            )
            .unwrap();
        assert!(media.sink.has_track(TrackId::Main));
        assert!(!media.sink.has_track(TrackId::Audio));
        media
    }

    fn track(&mut self) -> &mut player_wasm::web::sink::TrackBuffer {
        self.sink.track(TrackId::Main).unwrap()
    }

    fn append(&mut self, request: u64, bytes: &[u8], start: Option<f64>) {
        self.track().push(Op::Append {
            request: RequestId(request),
            bytes: Uint8Array::from(bytes),
            start,
        });
    }

    /// Services the sink as the shell does, until `count` operations have finished;
    /// what finished, in order (`None`: a removal).
    async fn run(&mut self, count: usize) -> Vec<Option<u64>> {
        let mut finished = Vec::new();
        while finished.len() < count {
            let ends = self.update_ends.get();
            // The shell services the sink after every note: many times per operation.
            for _ in 0..3 {
                let failures = self.sink.service(1);
                assert!(failures.is_empty(), "an operation could not start");
            }
            let ended = wait_until(5000, || self.update_ends.get() > ends).await;
            assert!(ended, "no updateend after {finished:?}");
            assert_eq!(self.update_ends.get(), ends + 1, "two operations at once");
            finished.push(match self.track().finish() {
                Some(Finished::Appended(request)) => Some(request.0),
                Some(Finished::Removed) => None,
                None => panic!("updateend with nothing running"),
            });
            assert!(self.track().finish().is_none());
        }
        finished
    }

    fn buffered(&mut self) -> Vec<TimeRange> {
        self.track().buffered()
    }

    fn close(mut self) {
        self.sink.detach(self.video.unchecked_ref());
        remove_element(&self.video);
    }
}

#[wasm_bindgen_test]
async fn sink_appends_in_order_one_at_a_time() {
    let mut media = Media::open().await;
    assert!(media.buffered().is_empty());
    media.append(1, INIT, None);
    media.append(2, SEG0, Some(0.0));
    media.append(3, SEG1, Some(1.0));
    // Three appends queued at once: had a second started while the first was updating,
    // the SourceBuffer would have thrown (InvalidStateError), a failure here.
    assert_eq!(media.run(3).await, vec![Some(1), Some(2), Some(3)]);
    assert!(
        ranges_close(&media.buffered(), &[(0.0, 2.0)]),
        "{:?}",
        media.buffered()
    );
    assert_eq!(media.track().last_request, Some(RequestId(3)));
    // The element sees the same media.
    assert!(ranges_close(&element_ranges(&media.video), &[(0.0, 2.0)]));
    // Nothing queued: servicing starts nothing.
    assert!(media.sink.service(1).is_empty());
    pause_ms(50).await;
    assert_eq!(media.update_ends.get(), 3);
    assert_eq!(media.errors.get(), 0);
    media.close();
}

#[wasm_bindgen_test]
async fn sink_waits_for_every_expected_track() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    // Audio is expected but has no SourceBuffer yet: nothing may be appended.
    assert!(media.sink.service(2).is_empty());
    pause_ms(100).await;
    assert_eq!(media.update_ends.get(), 0);
    assert_eq!(media.run(1).await, vec![Some(1)]);
    media.close();
}

#[wasm_bindgen_test]
async fn sink_places_segments_by_their_decode_time() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    // Decode time 1 s where the playlist says 10 s: timestampOffset 9.
    media.append(2, SEG1, Some(10.0));
    // Decode time 0 s where the playlist says 9.3 s: within the tolerance (1 s) of
    // where the current offset puts it (9 s), so the offset stays: 9..10 s.
    media.append(3, SEG0, Some(9.3));
    media.run(3).await;
    assert!(
        ranges_close(&media.buffered(), &[(9.0, 11.0)]),
        "{:?}",
        media.buffered()
    );
    // Decode time 1 s at 0.5 s: an offset of -0.5 s, 9.5 s from the current one: moved.
    media.append(4, SEG1, Some(0.5));
    media.run(1).await;
    assert!(
        ranges_close(&media.buffered(), &[(0.5, 1.5), (9.0, 11.0)]),
        "{:?}",
        media.buffered()
    );
    media.close();
}

#[wasm_bindgen_test]
async fn sink_survives_a_truncated_segment() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    // Half a segment: the buffer's parser is left in the middle of it, where the
    // browser refuses a new timestampOffset (InvalidStateError).
    media.append(2, &SEG0[..SEG0.len() / 2], Some(0.0));
    // Decode time 1 s at 10 s: asks for a new offset. Either the sink ends the half
    // segment first (SourceBuffer.abort) and the segment lands at 10..11 s, or it is
    // appended as it is, the parser takes its bytes for the rest of the first segment,
    // and reports an error as for any bad media; never an exception.
    media.append(3, SEG1, Some(10.0));
    assert_eq!(media.run(3).await, vec![Some(1), Some(2), Some(3)]);
    let buffered = media.buffered();
    let landed = buffered
        .last()
        .is_some_and(|range| close(range.start, 10.0) && close(range.end, 11.0));
    assert!(
        landed || media.errors.get() == 1,
        "{buffered:?}, {} errors",
        media.errors.get()
    );
    media.close();
}

#[wasm_bindgen_test]
async fn sink_removes_back_buffer() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    media.append(2, SEG0, Some(0.0));
    media.append(3, SEG1, Some(1.0));
    // Removals wait their turn behind appends; one the browser refuses (an empty range:
    // TypeError) is skipped.
    media.track().push(Op::Remove {
        start: 0.0,
        end: 1.0,
    });
    media.track().push(Op::Remove {
        start: 1.0,
        end: 1.0,
    });
    media.append(4, SEG0, Some(0.0));
    assert_eq!(media.run(4).await, vec![Some(1), Some(2), Some(3), None]);
    assert!(
        ranges_close(&media.buffered(), &[(1.0, 2.0)]),
        "{:?}",
        media.buffered()
    );
    assert_eq!(media.run(1).await, vec![Some(4)]);
    assert!(ranges_close(&media.buffered(), &[(0.0, 2.0)]));
    // Up to the end (an infinite end: everything after `start`).
    media.track().push(Op::Remove {
        start: 1.0,
        end: f64::INFINITY,
    });
    assert_eq!(media.run(1).await, vec![None]);
    assert!(
        ranges_close(&media.buffered(), &[(0.0, 1.0)]),
        "{:?}",
        media.buffered()
    );
    media.close();
}

#[wasm_bindgen_test]
async fn sink_sets_duration_and_ends_the_stream() {
    let mut media = Media::open().await;
    media.sink.set_duration(5.0);
    media.append(1, INIT, None);
    media.append(2, SEG0, Some(0.0));
    media.append(3, SEG1, Some(1.0));
    media.sink.end_of_stream();
    // The duration is set before the appends start.
    media.run(1).await;
    assert!(
        close(media.video.duration(), 5.0),
        "{}",
        media.video.duration()
    );
    media.run(2).await;
    assert!(
        close(media.video.duration(), 5.0),
        "{}",
        media.video.duration()
    );
    // End of stream once every queue is empty: the duration shrinks to the media, and
    // playback can end there.
    assert!(media.sink.service(1).is_empty());
    assert!(
        close(media.video.duration(), 2.0),
        "{}",
        media.video.duration()
    );
    assert!(media.sink.is_open(), "ended is not closed");
    media.video.set_current_time(1.8);
    let _ = media.video.play().unwrap();
    assert!(
        wait_until(5000, || media.video.ended()).await,
        "never ended"
    );
    media.close();
}

#[wasm_bindgen_test]
async fn sink_duration_below_the_buffered_media_does_not_throw() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    media.append(2, SEG0, Some(0.0));
    media.append(3, SEG1, Some(1.0));
    media.run(3).await;
    let before = media.video.duration();
    // The browser refuses a duration below the end of buffered media (InvalidStateError);
    // the sink must not let that escape into the shell's loop.
    media.sink.set_duration(1.5);
    assert!(media.sink.service(1).is_empty());
    assert_eq!(media.video.duration(), before);
    media.sink.set_duration(4.0);
    media.sink.service(1);
    assert!(
        close(media.video.duration(), 4.0),
        "{}",
        media.video.duration()
    );
    media.close();
}

#[wasm_bindgen_test]
async fn sink_hands_back_bytes_the_buffer_has_no_room_for() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    media.append(2, SEG0, Some(0.0));
    media.run(2).await;
    // More than Chromium's 150 MB budget of a video SourceBuffer: refused at once, once
    // anything is buffered (into an empty buffer it is parsed, and fails as media).
    let huge = zero_bytes(200 << 20);
    media.track().push(Op::Append {
        request: RequestId(3),
        bytes: huge.clone(),
        start: Some(1.0),
    });
    media.append(4, SEG1, Some(1.0));
    let failures = media.sink.service(1);
    match failures.as_slice() {
        [(TrackId::Main, StartError::Quota(request, bytes))] => {
            assert_eq!(*request, RequestId(3));
            assert!(JsValue::from(bytes) == JsValue::from(&huge), "other bytes");
        }
        [(_, StartError::Other(_, message))] => panic!("not a quota error: {message}"),
        _ => panic!("{} failures", failures.len()),
    }
    // The queue goes on.
    assert_eq!(media.run(1).await, vec![Some(4)]);
    assert!(ranges_close(&media.buffered(), &[(0.0, 2.0)]));
    assert_eq!(media.errors.get(), 0);
    media.close();
}

#[wasm_bindgen_test]
async fn sink_reports_media_the_browser_cannot_parse() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    media.append(2, JUNK, Some(0.0));
    media.append(3, SEG0, Some(0.0));
    media.run(1).await;
    let ends = media.update_ends.get();
    assert!(media.sink.service(1).is_empty());
    // The buffer reports the error, and ends the append (updateend); the element fails
    // too.
    assert!(wait_until(5000, || media.errors.get() == 1).await);
    assert!(wait_until(5000, || media.update_ends.get() == ends + 1).await);
    assert!(matches!(
        media.track().finish(),
        Some(Finished::Appended(RequestId(2)))
    ));
    assert!(wait_until(5000, || error_code(&media.video) != 0).await);
    media.close();
}

#[wasm_bindgen_test]
async fn sink_detach_releases_the_element() {
    let mut media = Media::open().await;
    media.append(1, INIT, None);
    media.append(2, SEG0, Some(0.0));
    media.run(2).await;
    // Detached in the middle of an append: it is aborted, and its events no longer
    // reach the (dropped) handlers.
    media.append(3, SEG1, Some(1.0));
    assert!(media.sink.service(1).is_empty());
    let video = media.video.clone();
    let page_errors = count_page_errors();
    media.sink.detach(video.unchecked_ref());
    assert!(media.sink.tracks.is_empty());
    assert_eq!(src_attribute(&video), None);
    assert!(wait_until(5000, || !media.sink.is_open()).await);
    assert_eq!(video.ready_state(), 0, "HAVE_NOTHING");
    assert!(element_ranges(&video).is_empty());
    pause_ms(200).await;
    assert_eq!((media.update_ends.get(), media.errors.get()), (2, 0));
    // Nor do they reach the dropped closures (which would throw).
    assert_eq!(get(&page_errors, "n").as_f64(), Some(0.0));
    // (The object URL was revoked too, which Chromium does not let a page observe: it
    // never lets a MediaSource be attached again, revoked or not.)
    remove_element(&video);
}

#[wasm_bindgen_test]
fn describe_names_what_was_thrown() {
    let error = js("new DOMException('too full', 'QuotaExceededError')");
    assert_eq!(describe(&error), "QuotaExceededError: too full");
    assert_eq!(describe(&js("new TypeError('bad')")), "bad");
    assert_eq!(describe(&JsValue::from_str("text")), "text");
    assert_eq!(describe(&JsValue::from_f64(3.0)), "unknown error");
}

// ---------------------------------------------------------------------------------------
// The shell and the Player API, on a stream of blob: URLs
// ---------------------------------------------------------------------------------------

/// A master playlist, its media playlist and their segments, as blob: URLs.
struct Stream {
    master: String,
    urls: Vec<String>,
}

impl Stream {
    /// `segments`: (bytes, discontinuity before) in playlist order, 1 s each.
    fn new(segments: &[(&[u8], bool)]) -> Stream {
        let mut urls = Vec::new();
        let mut url = |bytes: &[u8], mime: &str| {
            let url = blob_url(&Uint8Array::from(bytes), mime);
            urls.push(url.clone());
            url
        };
        let init = url(INIT, "video/mp4");
        let mut media = format!(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"{init}\"\n"
        );
        for (bytes, discontinuity) in segments {
            if *discontinuity {
                media.push_str("#EXT-X-DISCONTINUITY\n");
            }
            media.push_str(&format!(
                "#EXTINF:1.0,\n{}\n",
                url(bytes, "video/iso.segment")
            ));
        }
        media.push_str("#EXT-X-ENDLIST\n");
        let media = url(media.as_bytes(), "application/vnd.apple.mpegurl");
        let master = url(
            format!(
                "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000,RESOLUTION=64x64,CODECS=\"{CODECS}\"\n{media}\n"
            )
            .as_bytes(),
            "application/vnd.apple.mpegurl",
        );
        Stream { master, urls }
    }

    fn two_seconds() -> Stream {
        Stream::new(&[(SEG0, false), (SEG1, false)])
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        for url in &self.urls {
            revoke_url(url);
        }
    }
}

type Events = Rc<RefCell<Vec<JsValue>>>;

fn listener(f: impl FnMut(JsValue) + 'static) -> Function {
    Closure::<dyn FnMut(JsValue)>::new(f)
        .into_js_value()
        .unchecked_into()
}

/// Records every event of `player`.
fn record(player: &Player) -> Events {
    let events: Events = Rc::default();
    let sink = events.clone();
    player.on(
        "*".into(),
        listener(move |event| sink.borrow_mut().push(event)),
    );
    events
}

fn names(events: &Events) -> Vec<String> {
    events
        .borrow()
        .iter()
        .map(|e| get(e, "type").as_string().unwrap())
        .collect()
}

fn of_type(events: &Events, name: &str) -> Vec<JsValue> {
    events
        .borrow()
        .iter()
        .filter(|e| get(e, "type").as_string().as_deref() == Some(name))
        .cloned()
        .collect()
}

async fn wait_for_event(events: &Events, name: &str, timeout_ms: u32) {
    let name = name.to_string();
    let seen = wait_until(timeout_ms, || names(events).contains(&name)).await;
    assert!(seen, "no {name} event; events: {:?}", names(events));
}

#[wasm_bindgen_test]
fn player_is_supported_in_chromium() {
    assert!(Player::is_supported());
}

#[wasm_bindgen_test]
async fn player_plays_a_stream_and_destroy_releases_the_element() {
    let stream = Stream::two_seconds();
    let video = new_video();
    for round in 0..2 {
        // The second round: a new Player on the element the first one released.
        let player = Player::new(video.clone(), JsValue::UNDEFINED).unwrap();
        let events = record(&player);
        player.load(&stream.master);
        wait_for_event(&events, "ended", 10_000).await;
        let names = names(&events);
        assert_eq!(names.first().map(String::as_str), Some("manifestLoaded"));
        for name in ["levelLoaded", "firstFrame"] {
            assert!(names.iter().any(|n| n == name), "round {round}: {names:?}");
        }
        assert!(
            !names.iter().any(|n| n == "error"),
            "round {round}: {names:?}"
        );
        // Both segments through fetch and the SourceBuffer, with their sizes.
        let mut sizes: Vec<(f64, f64)> = of_type(&events, "fragLoaded")
            .iter()
            .map(|e| {
                (
                    get(e, "sequence").as_f64().unwrap(),
                    get(e, "bytes").as_f64().unwrap(),
                )
            })
            .collect();
        sizes.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(
            sizes,
            vec![(0.0, SEG0.len() as f64), (1.0, SEG1.len() as f64)]
        );
        assert!(close(video.duration(), 2.0), "{}", video.duration());
        assert!(close(video.current_time(), 2.0), "{}", video.current_time());
        assert!(ranges_close(&element_ranges(&video), &[(0.0, 2.0)]));
        assert!(video.ended());
        let stats = player.stats();
        assert_eq!(get(&get(&stats, "qoe"), "segments").as_f64(), Some(2.0));
        assert_eq!(player.current_level(), 0);
        assert_eq!(
            js_sys::Array::from(&player.levels()).length(),
            1,
            "round {round}"
        );

        player.destroy();
        assert_eq!(src_attribute(&video), None);
        assert_eq!(video.src(), "");
        assert_eq!(video.ready_state(), 0, "HAVE_NOTHING");
        assert!(element_ranges(&video).is_empty());
        let before = events.borrow().len();
        // A destroyed player does nothing and tells nothing.
        player.play();
        player.seek(1.0);
        player.load(&stream.master);
        pause_ms(300).await;
        assert_eq!(events.borrow().len(), before);
        assert_eq!(src_attribute(&video), None);
    }
    remove_element(&video);
}

#[wasm_bindgen_test]
async fn player_places_segments_after_a_discontinuity_by_decode_time() {
    // seg0, seg1, then seg0 again (decode time 0) at 2 s: only timestampOffset from its
    // tfdt puts it at 2..3 s; without, it would overwrite 0..1 s and the stream end at 2.
    let stream = Stream::new(&[(SEG0, false), (SEG1, false), (SEG0, true)]);
    let video = new_video();
    let player = Player::new(video.clone(), JsValue::UNDEFINED).unwrap();
    let events = record(&player);
    player.load(&stream.master);
    wait_for_event(&events, "ended", 10_000).await;
    assert!(
        ranges_close(&element_ranges(&video), &[(0.0, 3.0)]),
        "{:?}",
        element_ranges(&video)
    );
    assert!(close(video.current_time(), 3.0), "{}", video.current_time());
    player.destroy();
    remove_element(&video);
}

#[wasm_bindgen_test]
async fn player_without_autoplay_waits_for_play_and_keeps_an_early_seek() {
    let stream = Stream::two_seconds();
    let video = new_video();
    let player = Rc::new(Player::new(video.clone(), js("{ autoplay: false }")).unwrap());
    let events = record(&player);
    // A seek once the playlist is known but before the element has metadata (its
    // readyState is 0, where the element would drop a new currentTime): the shell keeps
    // the position until the element can take it.
    let ready_state_at_seek = Rc::new(Cell::new(u16::MAX));
    let (me, element, at_seek) = (player.clone(), video.clone(), ready_state_at_seek.clone());
    player.on(
        "levelLoaded".into(),
        listener(move |_| {
            at_seek.set(element.ready_state());
            me.seek(1.5);
        }),
    );
    player.load(&stream.master);
    assert!(wait_until(5_000, || video.ready_state() >= 2).await);
    assert_eq!(ready_state_at_seek.get(), 0);
    let at = wait_until(2_000, || close(video.current_time(), 1.5)).await;
    assert!(at, "at {}", video.current_time());
    pause_ms(300).await;
    assert!(video.paused(), "playing without autoplay");
    assert!(close(video.current_time(), 1.5), "{}", video.current_time());
    player.play();
    wait_for_event(&events, "ended", 5_000).await;
    let played = video.played();
    assert!(played.length() >= 1);
    let from = played.start(0).unwrap();
    assert!(from >= 1.45, "played from {from}");
    player.destroy();
    remove_element(&video);
}

#[wasm_bindgen_test]
async fn player_listeners_may_call_back_into_the_player() {
    let stream = Stream::two_seconds();
    let video = new_video();
    let player = Rc::new(Player::new(video.clone(), JsValue::UNDEFINED).unwrap());
    // A listener that throws is reported on the console and the others still run.
    player.on("*".into(), throwing_listener());
    let events = record(&player);
    let inside: Rc<RefCell<Vec<String>>> = Rc::default();
    let (me, log) = (player.clone(), inside.clone());
    player.on(
        "*".into(),
        listener(move |event| {
            // Everything is settled while listeners run: getters answer, commands work.
            let stats = me.stats();
            let name = get(&event, "type").as_string().unwrap();
            log.borrow_mut()
                .push(format!("{name}:{}", stats.is_object()));
            let _ = (me.levels(), me.current_level(), me.auto_level_enabled());
            if name == "levelLoaded" {
                me.set_level(0);
                me.set_level(-1);
                me.play();
            }
        }),
    );
    // Removed listeners are not called.
    let removed_calls = Rc::new(Cell::new(0));
    let calls = removed_calls.clone();
    let removed = listener(move |_| calls.set(calls.get() + 1));
    player.on("fragLoaded".into(), removed.clone());
    player.off("fragLoaded".into(), removed);

    player.load(&stream.master);
    wait_for_event(&events, "ended", 10_000).await;
    let inside = inside.borrow().clone();
    assert_eq!(inside.len(), events.borrow().len());
    assert!(inside.iter().all(|e| e.ends_with(":true")), "{inside:?}");
    assert_eq!(removed_calls.get(), 0);
    assert!(!names(&events).iter().any(|n| n == "error"));
    player.destroy();
    remove_element(&video);
}

#[wasm_bindgen_test]
async fn player_destroyed_by_its_own_listener_goes_quiet() {
    let stream = Stream::two_seconds();
    let video = new_video();
    let player = Rc::new(Player::new(video.clone(), JsValue::UNDEFINED).unwrap());
    let events = record(&player);
    let me = player.clone();
    player.on("fragLoaded".into(), listener(move |_| me.destroy()));
    player.load(&stream.master);
    wait_for_event(&events, "fragLoaded", 5_000).await;
    let count = events.borrow().len();
    assert_eq!(
        names(&events).last().map(String::as_str),
        Some("fragLoaded")
    );
    assert_eq!(src_attribute(&video), None);
    pause_ms(2_500).await;
    assert_eq!(events.borrow().len(), count, "{:?}", names(&events));
    assert!(!video.ended());
    remove_element(&video);
}

#[wasm_bindgen_test]
async fn player_recovers_once_from_a_decode_error_then_fails() {
    let stream = Stream::new(&[(SEG0, false), (JUNK, false)]);
    let video = new_video();
    let player = Player::new(video.clone(), JsValue::UNDEFINED).unwrap();
    let events = record(&player);
    player.load(&stream.master);
    let fatal = || {
        of_type(&events, "error")
            .iter()
            .any(|e| get(e, "fatal").as_bool() == Some(true))
    };
    assert!(wait_until(10_000, fatal).await, "{:?}", names(&events));
    let errors: Vec<(bool, String)> = of_type(&events, "error")
        .iter()
        .map(|e| {
            (
                get(e, "fatal").as_bool().unwrap(),
                get(e, "details").as_string().unwrap(),
            )
        })
        .collect();
    // The SourceBuffer's error and the element's are one failure: one recovery (a new
    // MediaSource, the segment fetched again), then the fatal error.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        !errors[0].0 && errors[0].1.contains("recreating"),
        "{errors:?}"
    );
    assert!(
        errors[1].0 && errors[1].1.contains("after one recovery"),
        "{errors:?}"
    );
    let bad_fetches = of_type(&events, "fragLoaded")
        .iter()
        .filter(|e| get(e, "sequence").as_f64() == Some(1.0))
        .count();
    assert_eq!(bad_fetches, 2, "{:?}", names(&events));
    player.destroy();
    remove_element(&video);
}

// ---------------------------------------------------------------------------------------
// The shell's inbox
// ---------------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn inbox_drops_news_of_requests_not_wanted() {
    let video = new_video();
    let shared = Shell::create(video.clone(), Engine::new(EngineConfig::default()).unwrap());
    let weak = Rc::downgrade(&shared);
    // News of a request never asked for is refused.
    let progress = Input::Progress {
        request: RequestId(42),
        loaded: 10,
    };
    assert!(!deliver(&weak, Note::Fetched(RequestId(42), progress)));
    assert!(!deliver(
        &weak,
        Note::Body(RequestId(42), Uint8Array::new_with_length(1))
    ));
    // Other notes are taken.
    assert!(deliver(&weak, Note::Timer));
    // A load attaches a MediaSource to the element.
    let stream = Stream::two_seconds();
    assert!(deliver(
        &weak,
        Note::Input(Input::Load {
            url: stream.master.clone()
        })
    ));
    assert!(video.src().starts_with("blob:"), "{}", video.src());
    // The shell fetched the playlists and the init segment and appended it.
    assert!(wait_until(5_000, || video.ready_state() >= 1).await);
    assert!(shared.with(|shell| shell.engine.levels().len()) == Some(1));
    shared.destroy();
    assert_eq!(src_attribute(&video), None);
    // After destroy, news of any request is refused.
    for id in 0..10 {
        let progress = Input::Progress {
            request: RequestId(id),
            loaded: 1,
        };
        assert!(!deliver(&weak, Note::Fetched(RequestId(id), progress)));
    }
    // Once the player is gone, everything is refused.
    drop(shared);
    assert!(!deliver(&weak, Note::Timer));
    remove_element(&video);
}

// ---------------------------------------------------------------------------------------
// Analytics: options, the sender (fetch keepalive, retries, sendBeacon), Monitor
// ---------------------------------------------------------------------------------------

#[wasm_bindgen(inline_js = r#"
// Beacons to URLs containing a capture's marker are recorded instead of sent: `fetch`
// answers with the next status queued (200 when none; 0 for a network error), and
// `navigator.sendBeacon` accepts. Every other request goes to the real network.
export function capture_beacons(marker) {
    if (!window.__captures) {
        window.__captures = [];
        const find = (url) => window.__captures.find((c) => String(url).includes(c.marker));
        const realFetch = window.fetch.bind(window);
        window.fetch = (input, init) => {
            const url = typeof input === "string" ? input : input.url;
            const c = find(url);
            if (!c) return realFetch(input, init);
            c.posts.push({ url, body: init.body, keepalive: init.keepalive === true, method: init.method });
            const status = c.statuses.length ? c.statuses.shift() : 200;
            if (status === 0) return Promise.reject(new TypeError("Failed to fetch"));
            return Promise.resolve(new Response('{"ok":true}', { status }));
        };
        const realBeacon = navigator.sendBeacon.bind(navigator);
        navigator.sendBeacon = (url, data) => {
            const c = find(url);
            if (!c) return realBeacon(url, data);
            c.beacons.push({ url: String(url), body: data });
            return true;
        };
    }
    const capture = { marker, posts: [], beacons: [], statuses: [] };
    window.__captures.push(capture);
    return capture;
}
export function queue_status(capture, status) { capture.statuses.push(status); }
export function bodies(capture, which) { return capture[which].map((p) => p.body); }
export function all_keepalive_posts(capture) {
    return capture.posts.every((p) => p.keepalive && p.method === "POST" && typeof p.body === "string");
}
export function page_origin() { return location.origin; }
"#)]
extern "C" {
    fn capture_beacons(marker: &str) -> JsValue;
    fn queue_status(capture: &JsValue, status: u16);
    fn bodies(capture: &JsValue, which: &str) -> Vec<String>;
    fn all_keepalive_posts(capture: &JsValue) -> bool;
    fn page_origin() -> String;
}

fn batches(capture: &JsValue, which: &str) -> Vec<protocol::Batch> {
    bodies(capture, which)
        .iter()
        .map(|body| {
            let batch: protocol::Batch =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
            batch.validate().unwrap_or_else(|e| panic!("{e}: {body}"));
            batch
        })
        .collect()
}

/// The events of `batches`, each batch once (by sequence number), in order.
fn view_events(batches: &[protocol::Batch]) -> Vec<protocol::Event> {
    let mut seen = Vec::new();
    let mut events = Vec::new();
    for batch in batches {
        if !seen.contains(&batch.seq) {
            seen.push(batch.seq);
            events.extend(batch.events.iter().cloned());
        }
    }
    events
}

fn kinds(events: &[protocol::Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.name()).collect()
}

fn expect_type_error(result: Result<(), JsValue>, source: &str, option: &str) {
    let error = match result {
        Ok(()) => panic!("{source} was accepted"),
        Err(error) => error,
    };
    assert!(
        error.is_instance_of::<TypeError>(),
        "{source}: threw {error:?}, not a TypeError"
    );
    let message = String::from(error.unchecked_ref::<js_sys::Error>().message());
    assert!(
        message.contains(option),
        "{source}: the message {message:?} does not name {option}"
    );
}

#[wasm_bindgen_test]
fn bad_analytics_options_throw_a_type_error_naming_the_option() {
    let player_cases: &[(&str, &str)] = &[
        ("{ analytics: 5 }", "analytics"),
        ("{ analytics: { endpoints: '/x' } }", "endpoints"),
        ("{ analytics: { endpoint: 42 } }", "analytics.endpoint"),
        (
            "{ analytics: { endpoint: 'http://[' } }",
            "analytics.endpoint",
        ),
        ("{ analytics: { key: '' } }", "analytics.key"),
        ("{ analytics: { key: 'caf\u{e9}' } }", "analytics.key"),
        ("{ analytics: { videoId: 7 } }", "analytics.videoId"),
        (
            "{ analytics: { videoTitle: null } }",
            "analytics.videoTitle",
        ),
        ("{ analytics: { custom: 'plan' } }", "analytics.custom"),
        (
            "{ analytics: { custom: { plan: 1 } } }",
            "analytics.custom.plan",
        ),
        (
            "{ analytics: { custom: { a:'1',b:'1',c:'1',d:'1',e:'1',f:'1',g:'1',h:'1',i:'1',j:'1',k:'1' } } }",
            "analytics.custom",
        ),
        ("{ analytics: { sampleRate: 0 } }", "analytics.sampleRate"),
        ("{ analytics: { sampleRate: 1.5 } }", "analytics.sampleRate"),
        ("{ analytics: { sampleRate: '1' } }", "analytics.sampleRate"),
        (
            "{ analytics: { flushIntervalMs: 10 } }",
            "analytics.flushIntervalMs",
        ),
        ("{ analytics: { maxQueue: 2.5 } }", "analytics.maxQueue"),
        ("{ analytics: { maxQueue: 0 } }", "analytics.maxQueue"),
        ("{ cmcd: 'off' }", "cmcd"),
    ];
    for (source, option) in player_cases {
        expect_type_error(construct(&js(source)), source, option);
    }
    let monitor_cases: &[(&str, &str)] = &[
        ("'x'", "options"),
        ("{ analytics: {} }", "analytics"),
        ("{ sampleRate: 0 }", "sampleRate"),
        ("{ hls: 5 }", "hls"),
        ("{ playerName: 3 }", "playerName"),
        ("{ playerVersion: '' }", "playerVersion"),
    ];
    for (source, option) in monitor_cases {
        let video = new_video();
        let result = Monitor::attach(video.clone(), js(source)).map(|monitor| monitor.detach());
        remove_element(&video);
        expect_type_error(result, source, option);
    }
}

#[wasm_bindgen_test]
fn analytics_options_are_read() {
    let origin = page_origin();
    assert_eq!(options::player_analytics(&js("{}")).unwrap(), None);
    assert_eq!(
        options::player_analytics(&js("{ analytics: false }")).unwrap(),
        None
    );
    let defaults = options::player_analytics(&js("{ analytics: true }"))
        .unwrap()
        .unwrap();
    assert_eq!(
        defaults,
        Analytics {
            endpoint: format!("{origin}/v1/beacons"),
            settings: Settings::default(),
            video_id: None,
            video_title: None,
            custom: vec![],
        }
    );
    assert_eq!(defaults.settings.key, "demo");
    let every = options::player_analytics(&js("{ analytics: {
        endpoint: '/collect', key: 'prop-1', videoId: 'movie', videoTitle: 'A \"movie\"',
        custom: { plan: 'free', cohort: 'b' }, sampleRate: 0.25, flushIntervalMs: 5000,
        maxQueue: 50 } }"))
    .unwrap()
    .unwrap();
    assert_eq!(
        every,
        Analytics {
            endpoint: format!("{origin}/collect"),
            settings: Settings {
                key: "prop-1".into(),
                sample_rate: 0.25,
                flush_interval_ms: 5000.0,
                max_queue: 50,
            },
            video_id: Some("movie".into()),
            video_title: Some("A \"movie\"".into()),
            custom: vec![
                ("plan".into(), "free".into()),
                ("cohort".into(), "b".into())
            ],
        }
    );
    assert!(options::cmcd(&js("{}")).unwrap());
    assert!(options::cmcd(&JsValue::UNDEFINED).unwrap());
    assert!(!options::cmcd(&js("{ cmcd: false }")).unwrap());
    construct(&js("{ analytics: { endpoint: '/nowhere' }, cmcd: false }")).unwrap();
}

#[wasm_bindgen_test]
async fn player_analytics_batches_retries_and_ends_the_view_with_a_beacon() {
    let capture = capture_beacons("/beacons-player");
    // The first POST fails (503), then a network error: the same batch twice more.
    queue_status(&capture, 503);
    queue_status(&capture, 0);
    let stream = Stream::two_seconds();
    let video = new_video();
    let options = js(
        "{ analytics: { endpoint: '/beacons-player', key: 'test-key',
        videoId: 'two-seconds', custom: { suite: 'web' }, flushIntervalMs: 200 } }",
    );
    let player = Player::new(video.clone(), options).unwrap();
    let events = record(&player);
    player.load(&stream.master);
    wait_for_event(&events, "ended", 10_000).await;
    // `ended` leaves at once, once the batch before it is stored (retries: 1 s, 2 s).
    let ended_posted = || {
        view_events(&batches(&capture, "posts"))
            .iter()
            .any(|e| e.kind.name() == "ended")
    };
    assert!(
        wait_until(10_000, ended_posted).await,
        "{:?}",
        bodies(&capture, "posts")
    );
    assert!(all_keepalive_posts(&capture));
    let posts = batches(&capture, "posts");
    assert!(posts.len() >= 4, "{posts:?}");
    assert_eq!(posts[0], posts[1], "a retry is the same batch");
    assert_eq!(posts[1], posts[2]);
    assert_eq!(posts[0].seq, 0);
    assert!(posts[3].seq == 1 && posts[3].batch != posts[0].batch);
    player.destroy();
    // The view ends with a beacon.
    let beacons = batches(&capture, "beacons");
    assert_eq!(beacons.len(), 1, "{beacons:?}");
    let last = beacons[0].events.last().unwrap();
    assert_eq!(last.kind.name(), "viewend");

    let all: Vec<protocol::Batch> = posts.iter().chain(&beacons).cloned().collect();
    for batch in &all {
        assert_eq!(batch.key, "test-key");
        assert_eq!(batch.view, all[0].view, "every batch names the same view");
        assert_eq!(batch.dropped, 0);
    }
    let view = &all[0].view;
    assert_eq!(view.player, "wasm-hls-player");
    assert_eq!(view.video_id.as_deref(), Some("two-seconds"));
    assert_eq!(view.custom.get("suite").map(String::as_str), Some("web"));
    assert!(
        view.browser.as_deref().unwrap_or("").starts_with("Chrom"),
        "{view:?}"
    );
    assert!(view.os.is_some() && view.page.is_some() && !view.session.is_empty());
    let events = view_events(&all);
    let kinds = kinds(&events);
    for kind in [
        "viewstart",
        "playrequest",
        "firstframe",
        "levelswitch",
        "ended",
    ] {
        assert!(kinds.contains(&kind), "no {kind}: {kinds:?}");
    }
    assert_eq!(kinds[0], "viewstart");
    assert_eq!(kinds.last(), Some(&"viewend"));
    let metrics = player_wasm::qoe::view_metrics(&events);
    assert!(
        metrics.started && metrics.startup_time_ms.is_some(),
        "{metrics:?}"
    );
    assert_eq!(metrics.average_bitrate_bps, Some(100_000.0));
    remove_element(&video);

    // A second view of the same tab keeps its session, not its view id.
    let video = new_video();
    let options = js("{ analytics: { endpoint: '/second-view-beacons', flushIntervalMs: 200 } }");
    let capture = capture_beacons("/second-view-beacons");
    let player = Player::new(video.clone(), options).unwrap();
    player.load(&stream.master);
    pause_ms(300).await;
    player.destroy();
    let second = batches(&capture, "posts")
        .into_iter()
        .chain(batches(&capture, "beacons"))
        .next()
        .expect("a batch of the second view");
    assert_eq!(second.view.session, view.session);
    assert_ne!(second.view.id, view.id);
    remove_element(&video);
}

#[wasm_bindgen_test]
async fn monitor_reports_an_element_another_player_drives() {
    let capture = capture_beacons("/beacons-monitor");
    let stream = Stream::two_seconds();
    let video = new_video();
    let monitor = Monitor::attach(
        video.clone(),
        js("{ endpoint: '/beacons-monitor', videoId: 'two-seconds', flushIntervalMs: 200 }"),
    )
    .unwrap();
    // Our player without analytics drives the element; the Monitor sees only the element.
    let player = Player::new(video.clone(), JsValue::UNDEFINED).unwrap();
    let events = record(&player);
    player.load(&stream.master);
    wait_for_event(&events, "ended", 10_000).await;
    pause_ms(400).await;
    monitor.detach();
    player.destroy();
    let all: Vec<protocol::Batch> = batches(&capture, "posts")
        .into_iter()
        .chain(batches(&capture, "beacons"))
        .collect();
    assert!(!all.is_empty());
    assert_eq!(all[0].view.player, "native");
    let events = view_events(&all);
    let kinds = kinds(&events);
    for kind in ["viewstart", "playrequest", "firstframe", "ended", "viewend"] {
        assert!(kinds.contains(&kind), "no {kind}: {kinds:?}");
    }
    assert!(!kinds.contains(&"rebufferstart"), "{kinds:?}");
    let metrics = player_wasm::qoe::view_metrics(&events);
    assert!(metrics.started, "{metrics:?}");
    // Detached: the element's events are no longer reported.
    let count = bodies(&capture, "posts").len() + bodies(&capture, "beacons").len();
    video.set_current_time(0.5);
    pause_ms(500).await;
    assert_eq!(
        bodies(&capture, "posts").len() + bodies(&capture, "beacons").len(),
        count
    );
    remove_element(&video);
}
