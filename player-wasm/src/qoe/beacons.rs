//! Telemetry's sans-IO half: the view being reported, its bounded event queue, the
//! batches it becomes, their retries, and sampling. The browser shell
//! (`web::telemetry`) only sends what [`Beacons::poll_send`], [`Beacons::flush_all`] and
//! [`Beacons::end_view`] hand it, and says what became of each POST
//! ([`Beacons::delivered`]); time comes in as an argument (milliseconds since the Unix
//! epoch, the beacons' clock).
//!
//! * **Views.** [`Beacons::start_view`] opens one (a random id from the caller, a
//!   `viewstart` event), [`Beacons::end_view`] closes it (a `viewend`, and every batch
//!   still unsent, for `navigator.sendBeacon`). Whether a view is reported is decided
//!   once, from its id ([`in_sample`]), so a view is always whole or absent.
//! * **Batches.** Events wait in a queue of at most `max_queue` (the oldest go first
//!   when it is full, counted in the batch's `dropped`) and leave in batches of at most
//!   [`BATCH_MAX_EVENTS`] every `flush_interval_ms`, at once after an `error`, `ended` or
//!   `viewend`, or when a full batch is waiting. One batch is in flight at a time, so
//!   they arrive in order.
//! * **Retries.** A batch that got no answer, a 408, a 429 or a 5xx is sent again, the
//!   same body (so the same batch id and sequence number: the collector stores it once
//!   however often it arrives), after [`backoff_ms`]: 1 s, 2 s, 4 s… up to a minute.
//!   Any other refusal (400, 401, 413…) drops it; its events count as dropped.
//! * **Heartbeats.** [`Beacons::heartbeat_due`] says when the caller should record one:
//!   every [`HEARTBEAT_MS`] while playing (from the first frame or a resume, until a
//!   pause, the end or a fatal error).
//!
//! Bodies are JSON in the form of `protocol::Batch`, written by hand (no JSON library
//! and no float formatting in the browser package): times in whole milliseconds, media
//! times to the millisecond. The tests read them back with serde into `protocol::Batch`.

use protocol::beacon::{MAX_ID_LEN, MAX_TEXT_LEN};
use protocol::{EventKind, PROTOCOL_VERSION};

/// `view.player` of our player.
pub const PLAYER_NAME: &str = "wasm-hls-player";
/// `view.player_version` of our player (and of `Monitor`).
pub const PLAYER_VERSION: &str = env!("CARGO_PKG_VERSION");
/// A heartbeat this often while playing (ms).
pub const HEARTBEAT_MS: f64 = 10_000.0;
/// Most events in one POST (a few kilobytes: well within `fetch` keepalive's and
/// `sendBeacon`'s 64 KB).
pub const BATCH_MAX_EVENTS: usize = 100;
/// First retry delay (ms); doubles on each further retry.
pub const RETRY_FIRST_MS: f64 = 1_000.0;
/// Longest retry delay (ms).
pub const RETRY_MAX_MS: f64 = 60_000.0;
/// Largest media time written (one year, the protocol's bound); beyond, `pt` is left out.
const MAX_MEDIA_S: f64 = 31_536_000.0;

/// How a property reports: the analytics options.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The property's ingest key.
    pub key: String,
    /// Fraction of views reported, above 0 and at most 1.
    pub sample_rate: f64,
    /// A batch at least this often while events wait (ms).
    pub flush_interval_ms: f64,
    /// Most events waiting; the oldest are dropped beyond.
    pub max_queue: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            key: "demo".into(),
            sample_rate: 1.0,
            flush_interval_ms: 10_000.0,
            max_queue: 1_000,
        }
    }
}

/// The dimensions of every view (`protocol::View` without its id and sample rate).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dimensions {
    pub session: String,
    pub player: String,
    pub player_version: String,
    pub video_id: Option<String>,
    pub video_title: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub page: Option<String>,
    pub custom: Vec<(String, String)>,
}

/// What became of a POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored (2xx).
    Stored,
    /// Send it again later: no answer, 408, 429 or 5xx.
    Retry,
    /// Refused for good.
    Rejected,
}

impl Delivery {
    /// What an HTTP status means for a batch; `None` when no answer came.
    pub fn of_status(status: Option<u16>) -> Delivery {
        match status {
            Some(200..=299) => Delivery::Stored,
            None | Some(408) | Some(429) | Some(500..) => Delivery::Retry,
            Some(_) => Delivery::Rejected,
        }
    }
}

/// A batch to POST: its body, and the sequence number to report its fate under.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub seq: u64,
    pub body: String,
}

/// Delay before retry number `attempt` (1 for the first retry), ms.
pub fn backoff_ms(attempt: u32) -> f64 {
    let doublings = attempt.saturating_sub(1).min(16);
    (RETRY_FIRST_MS * (1u64 << doublings) as f64).min(RETRY_MAX_MS)
}

/// Whether the view `view_id` is reported at `rate`: a hash of the id against the rate,
/// so the decision is made once and is the same wherever it is made.
pub fn in_sample(view_id: &str, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in view_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    ((hash >> 11) as f64 / (1u64 << 53) as f64) < rate
}

/// An id of 16 hex digits per word.
pub fn hex_id(words: &[u64]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(words.len() * 16);
    for word in words {
        for shift in (0..16).rev() {
            out.push(char::from(HEX[((word >> (shift * 4)) & 15) as usize]));
        }
    }
    out
}

/// Browser (name and major version) and operating system, from a user agent string
/// (Chromium's reduced one still names both).
pub fn browser_and_os(user_agent: &str) -> (Option<String>, Option<String>) {
    let has = |token: &str| crate::small_str::contains(user_agent, token);
    let os = if has("Windows") {
        Some("Windows")
    } else if has("Android") {
        Some("Android")
    } else if has("iPhone") || has("iPad") || has("iPod") {
        Some("iOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Macintosh") || has("Mac OS X") {
        Some("macOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    let browser = [
        ("Edg/", "Edge "),
        ("OPR/", "Opera "),
        ("Firefox/", "Firefox "),
        ("FxiOS/", "Firefox "),
        ("CriOS/", "Chrome "),
        ("Chrome/", "Chrome "),
        ("Version/", "Safari "),
    ]
    .iter()
    .find_map(|(token, name)| {
        let at = crate::small_str::find(user_agent, token)? + token.len();
        let major: String = user_agent[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some([name, major.as_str()].concat().trim_end().to_string())
    });
    (browser, os.map(str::to_string))
}

/// `text` without control characters, cut to at most `max` bytes.
pub fn clean_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// Whether `text` is a valid protocol identifier: 1 to 128 printable ASCII characters.
pub fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ID_LEN
        && text.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// The beacons of a player or `Monitor`: see the module documentation.
#[derive(Debug)]
pub struct Beacons {
    settings: Settings,
    dimensions: Dimensions,
    rng: u64,
    view: Option<View>,
    /// The latest playhead position recorded (for a `viewend` the page forces).
    position: Option<f64>,
}

#[derive(Debug)]
struct View {
    id: String,
    sampled: bool,
    /// The `"view"` object, written once.
    json: String,
    /// Events waiting, as JSON objects.
    queue: Vec<String>,
    dropped: u64,
    /// Sequence number of the next batch.
    seq: u64,
    pending: Option<Pending>,
    next_flush_at: f64,
    /// An `error`, `ended` or `viewend` waits: send without waiting for the interval.
    urgent: bool,
    playing: bool,
    /// Last heartbeat, or when playing (re)started.
    beat_at: f64,
}

/// The batch sent and not yet stored.
#[derive(Debug)]
struct Pending {
    seq: u64,
    body: String,
    events: u64,
    attempt: u32,
    in_flight: bool,
    retry_at: f64,
}

impl Beacons {
    /// Beacons for `settings` (checked by the caller) and `dimensions`; `seed` seeds the
    /// batch ids.
    pub fn new(settings: Settings, dimensions: Dimensions, seed: u64) -> Beacons {
        Beacons {
            settings,
            dimensions,
            rng: seed | 1,
            view: None,
            position: None,
        }
    }

    /// The open view's id.
    pub fn view_id(&self) -> Option<&str> {
        self.view.as_ref().map(|view| view.id.as_str())
    }

    /// Whether the open view is reported (in the sample).
    pub fn sampled(&self) -> bool {
        self.view.as_ref().is_some_and(|view| view.sampled)
    }

    /// The playhead at the latest event recorded or [`Self::set_position`].
    pub fn position(&self) -> Option<f64> {
        self.position
    }

    /// Notes where the playhead is (for a `viewend` the page forces).
    pub fn set_position(&mut self, pt: f64) {
        self.position = Some(pt);
    }

    fn random(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Opens view `id` with a `viewstart` (a view still open is forgotten: end it first).
    pub fn start_view(&mut self, now_ms: f64, id: String) {
        let sampled = in_sample(&id, self.settings.sample_rate);
        let json = view_json(&id, &self.dimensions, self.settings.sample_rate);
        self.view = Some(View {
            id,
            sampled,
            json,
            queue: Vec::new(),
            dropped: 0,
            seq: 0,
            pending: None,
            next_flush_at: now_ms + self.settings.flush_interval_ms,
            urgent: false,
            playing: false,
            beat_at: now_ms,
        });
        self.position = None;
        self.record(now_ms, None, EventKind::Viewstart);
    }

    /// Records an event of the open view (nothing without one, or outside the sample).
    pub fn record(&mut self, now_ms: f64, pt: Option<f64>, kind: EventKind) {
        if pt.is_some() {
            self.position = pt;
        }
        let max_queue = self.settings.max_queue.max(1);
        let Some(view) = self.view.as_mut().filter(|view| view.sampled) else {
            return;
        };
        match &kind {
            EventKind::Firstframe | EventKind::Play | EventKind::Rebufferend if !view.playing => {
                view.playing = true;
                view.beat_at = now_ms;
            }
            EventKind::Pause | EventKind::Ended | EventKind::Viewend => view.playing = false,
            EventKind::Error { fatal, .. } => view.playing &= !fatal,
            EventKind::Heartbeat { .. } => view.beat_at = now_ms,
            _ => {}
        }
        if matches!(
            kind,
            EventKind::Error { .. } | EventKind::Ended | EventKind::Viewend
        ) {
            view.urgent = true;
        }
        if view.queue.len() >= max_queue {
            let excess = view.queue.len() + 1 - max_queue;
            view.queue.drain(..excess);
            view.dropped += excess as u64;
        }
        view.queue.push(event_json(now_ms, pt, &kind));
    }

    /// Whether a heartbeat is due: playing, and [`HEARTBEAT_MS`] since the last one.
    pub fn heartbeat_due(&self, now_ms: f64) -> bool {
        self.view.as_ref().is_some_and(|view| {
            view.sampled && view.playing && now_ms - view.beat_at >= HEARTBEAT_MS
        })
    }

    /// The next batch to POST now, if one is due (a retry, or new events); it is in
    /// flight until [`Self::delivered`].
    pub fn poll_send(&mut self, now_ms: f64) -> Option<Outgoing> {
        let interval = self.settings.flush_interval_ms;
        let view = self.view.as_mut()?;
        if let Some(pending) = view.pending.as_mut() {
            if pending.in_flight || now_ms < pending.retry_at {
                return None;
            }
            pending.in_flight = true;
            return Some(Outgoing {
                seq: pending.seq,
                body: pending.body.clone(),
            });
        }
        if now_ms >= view.next_flush_at && view.queue.is_empty() {
            view.next_flush_at = now_ms + interval;
        }
        let due =
            view.urgent || view.queue.len() >= BATCH_MAX_EVENTS || now_ms >= view.next_flush_at;
        if view.queue.is_empty() || !due {
            return None;
        }
        view.next_flush_at = now_ms + interval;
        let seq = view.seq;
        let (body, events) = self.next_batch()?;
        let view = self.view.as_mut()?;
        view.pending = Some(Pending {
            seq,
            body: body.clone(),
            events,
            attempt: 0,
            in_flight: true,
            retry_at: now_ms,
        });
        Some(Outgoing { seq, body })
    }

    /// What became of batch `seq` of the open view.
    pub fn delivered(&mut self, now_ms: f64, seq: u64, delivery: Delivery) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let Some(pending) = view
            .pending
            .as_mut()
            .filter(|p| p.seq == seq && p.in_flight)
        else {
            return;
        };
        match delivery {
            Delivery::Stored => view.pending = None,
            Delivery::Rejected => {
                view.dropped += pending.events;
                view.pending = None;
            }
            Delivery::Retry => {
                pending.in_flight = false;
                pending.attempt += 1;
                pending.retry_at = now_ms + backoff_ms(pending.attempt);
            }
        }
    }

    /// Every batch not yet stored (the one in flight or waiting to be retried, then
    /// everything queued), for `navigator.sendBeacon` when the page is hidden: they are
    /// no longer retried.
    pub fn flush_all(&mut self) -> Vec<String> {
        let mut bodies = Vec::new();
        let Some(view) = self.view.as_mut() else {
            return bodies;
        };
        if let Some(pending) = view.pending.take() {
            bodies.push(pending.body);
        }
        view.urgent = false;
        while let Some((body, _)) = self.next_batch() {
            bodies.push(body);
        }
        bodies
    }

    /// Ends the open view with a `viewend` at `pt` (the latest position known when
    /// `None`); returns every batch not yet stored, to send at once.
    pub fn end_view(&mut self, now_ms: f64, pt: Option<f64>) -> Vec<String> {
        if self.view.is_none() {
            return Vec::new();
        }
        let pt = pt.or(self.position);
        self.record(now_ms, pt, EventKind::Viewend);
        let bodies = self.flush_all();
        self.view = None;
        bodies
    }

    /// The next batch of queued events as a body, with its event count.
    fn next_batch(&mut self) -> Option<(String, u64)> {
        let batch_id = {
            let words = [self.random()];
            hex_id(&words)
        };
        let key = &self.settings.key;
        let view = self.view.as_mut()?;
        if view.queue.is_empty() {
            return None;
        }
        let mut body = String::with_capacity(512);
        body.push_str("{\"v\":");
        push_u64(&mut body, u64::from(PROTOCOL_VERSION));
        body.push_str(",\"key\":");
        push_json_str(&mut body, key);
        body.push_str(",\"batch\":");
        push_json_str(&mut body, &batch_id);
        body.push_str(",\"seq\":");
        push_u64(&mut body, view.seq);
        body.push_str(",\"dropped\":");
        push_u64(&mut body, view.dropped);
        body.push_str(",\"view\":");
        body.push_str(&view.json);
        body.push_str(",\"events\":[");
        let count = view.queue.len().min(BATCH_MAX_EVENTS);
        for (index, event) in view.queue.drain(..count).enumerate() {
            if index > 0 {
                body.push(',');
            }
            body.push_str(&event);
        }
        body.push_str("]}");
        view.seq += 1;
        Some((body, count as u64))
    }
}

/// The `"view"` object of view `id`.
fn view_json(id: &str, d: &Dimensions, sample_rate: f64) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"id\":");
    push_json_str(&mut out, id);
    for (name, value) in [
        ("session", Some(&d.session)),
        ("player", Some(&d.player)),
        ("player_version", Some(&d.player_version)),
        ("video_id", d.video_id.as_ref()),
        ("video_title", d.video_title.as_ref()),
        ("browser", d.browser.as_ref()),
        ("os", d.os.as_ref()),
        ("page", d.page.as_ref()),
    ] {
        if let Some(value) = value {
            push_key(&mut out, name);
            push_json_str(&mut out, &clean_text(value, MAX_TEXT_LEN));
        }
    }
    if !d.custom.is_empty() {
        out.push_str(",\"custom\":{");
        for (index, (name, value)) in d.custom.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            push_json_str(&mut out, name);
            out.push(':');
            push_json_str(&mut out, &clean_text(value, MAX_TEXT_LEN));
        }
        out.push('}');
    }
    push_key(&mut out, "sample_rate");
    push_decimal(&mut out, sample_rate, 6);
    out.push('}');
    out
}

/// One event as a JSON object.
fn event_json(t_ms: f64, pt: Option<f64>, kind: &EventKind) -> String {
    let mut out = String::with_capacity(64);
    out.push_str("{\"t\":");
    push_decimal(&mut out, t_ms, 0);
    out.push_str(",\"type\":\"");
    out.push_str(kind.name());
    out.push('"');
    if let Some(pt) = pt.filter(|pt| (0.0..=MAX_MEDIA_S).contains(pt)) {
        push_key(&mut out, "pt");
        push_decimal(&mut out, pt, 3);
    }
    let seconds = |x: f64| x.clamp(0.0, MAX_MEDIA_S);
    match kind {
        EventKind::Levelswitch {
            from,
            to,
            bitrate,
            height,
            reason,
        } => {
            if let Some(from) = from.filter(|from| from != to) {
                push_key(&mut out, "from");
                push_u64(&mut out, u64::from(from));
            }
            push_key(&mut out, "to");
            push_u64(&mut out, u64::from(*to));
            push_key(&mut out, "bitrate");
            push_u64(&mut out, *bitrate);
            if let Some(height) = height {
                push_key(&mut out, "height");
                push_u64(&mut out, u64::from(*height));
            }
            push_key(&mut out, "reason");
            push_json_str(&mut out, reason.as_str());
        }
        EventKind::Seek {
            from,
            to,
            latency_ms,
        } => {
            push_key(&mut out, "from");
            push_decimal(&mut out, seconds(*from), 3);
            push_key(&mut out, "to");
            push_decimal(&mut out, seconds(*to), 3);
            push_key(&mut out, "latency_ms");
            push_decimal(&mut out, *latency_ms, 0);
        }
        EventKind::Error {
            code,
            message,
            fatal,
        } => {
            push_key(&mut out, "code");
            let code: String = code
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(MAX_ID_LEN)
                .collect();
            push_json_str(&mut out, if code.is_empty() { "unknown" } else { &code });
            push_key(&mut out, "message");
            push_json_str(&mut out, &clean_text(message, MAX_TEXT_LEN));
            push_key(&mut out, "fatal");
            out.push_str(if *fatal { "true" } else { "false" });
        }
        EventKind::Heartbeat {
            bitrate,
            buffer_s,
            bandwidth_bps,
            dropped_frames,
            total_frames,
        } => {
            if let Some(bitrate) = bitrate {
                push_key(&mut out, "bitrate");
                push_u64(&mut out, *bitrate);
            }
            if let Some(buffer) = buffer_s.filter(|b| (0.0..=MAX_MEDIA_S).contains(b)) {
                push_key(&mut out, "buffer_s");
                push_decimal(&mut out, buffer, 3);
            }
            if let Some(bandwidth) = bandwidth_bps.filter(|b| b.is_finite() && *b >= 0.0) {
                push_key(&mut out, "bandwidth_bps");
                push_decimal(&mut out, bandwidth, 0);
            }
            push_key(&mut out, "dropped_frames");
            push_u64(&mut out, (*dropped_frames).min(*total_frames));
            push_key(&mut out, "total_frames");
            push_u64(&mut out, *total_frames);
        }
        _ => {}
    }
    out.push('}');
    out
}

fn push_key(out: &mut String, name: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
}

fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// A number of at least 0 (negative or not finite: 0) to `places` decimals, trailing
/// zeros dropped.
fn push_decimal(out: &mut String, value: f64, places: u32) {
    let scale = 10u64.pow(places);
    let value = if value.is_finite() {
        value.max(0.0)
    } else {
        0.0
    };
    let scaled = (value * scale as f64).round().min(9e18) as u64;
    push_u64(out, scaled / scale);
    let mut fraction = scaled % scale;
    if fraction == 0 {
        return;
    }
    let mut places = places;
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        places -= 1;
    }
    out.push('.');
    let mut divisor = 10u64.pow(places - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (fraction / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// A JSON string, quoted and escaped.
fn push_json_str(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(char::from(HEX[(c as usize) >> 4]));
                out.push(char::from(HEX[(c as usize) & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Batch, Event, SwitchReason, View as WireView};
    use std::collections::BTreeMap;

    const T0: f64 = 1_764_000_000_000.0;

    fn dimensions() -> Dimensions {
        Dimensions {
            session: "s-1".into(),
            player: PLAYER_NAME.into(),
            player_version: PLAYER_VERSION.into(),
            video_id: Some("ladder".into()),
            video_title: Some("Test \"pattern\"\n\u{e9}t\u{e9}".into()),
            browser: Some("Chromium 120".into()),
            os: Some("Linux".into()),
            page: Some("http://127.0.0.1:8080/demo/?a=b".into()),
            custom: vec![("plan".into(), "free".into()), ("ab".into(), "x\\y".into())],
        }
    }

    fn beacons(settings: Settings) -> Beacons {
        Beacons::new(settings, dimensions(), 42)
    }

    fn parse(body: &str) -> Batch {
        let batch: Batch = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        batch.validate().unwrap_or_else(|e| panic!("{e}: {body}"));
        batch
    }

    fn every_kind() -> Vec<(Option<f64>, EventKind)> {
        vec![
            (Some(0.0), EventKind::Playrequest),
            (Some(0.0), EventKind::Firstframe),
            (
                Some(3.5),
                EventKind::Levelswitch {
                    from: Some(0),
                    to: 2,
                    bitrate: 2_500_000,
                    height: Some(720),
                    reason: SwitchReason::ThroughputUp,
                },
            ),
            (
                Some(3.5),
                EventKind::Levelswitch {
                    from: None,
                    to: 1,
                    bitrate: 1,
                    height: None,
                    reason: SwitchReason::Startup,
                },
            ),
            (Some(4.25), EventKind::Rebufferstart),
            (Some(4.25), EventKind::Rebufferend),
            (
                Some(20.125),
                EventKind::Seek {
                    from: 4.5,
                    to: 20.125,
                    latency_ms: 312.0,
                },
            ),
            (
                Some(21.0),
                EventKind::Error {
                    code: "segment-load".into(),
                    message: "HTTP 500 \"x\"\n\u{1}done".into(),
                    fatal: false,
                },
            ),
            (Some(22.0), EventKind::Pause),
            (Some(22.0), EventKind::Play),
            (
                Some(30.001),
                EventKind::Heartbeat {
                    bitrate: Some(2_500_000),
                    buffer_s: Some(12.5),
                    bandwidth_bps: Some(8_123_456.7),
                    dropped_frames: 3,
                    total_frames: 900,
                },
            ),
            (
                Some(31.0),
                EventKind::Heartbeat {
                    bitrate: None,
                    buffer_s: None,
                    bandwidth_bps: None,
                    dropped_frames: 0,
                    total_frames: 0,
                },
            ),
            (Some(40.0), EventKind::Ended),
        ]
    }

    #[test]
    fn a_batch_is_the_protocol_s_json() {
        let mut b = beacons(Settings {
            sample_rate: 1.0,
            ..Settings::default()
        });
        b.start_view(T0, "view-1".into());
        let kinds = every_kind();
        for (i, (pt, kind)) in kinds.iter().enumerate() {
            b.record(T0 + 100.0 * (i + 1) as f64, *pt, kind.clone());
        }
        // `ended` is urgent: the batch leaves at once.
        let out = b.poll_send(T0 + 5_000.0).expect("an urgent batch");
        assert_eq!(out.seq, 0);
        let batch = parse(&out.body);
        let mut custom = BTreeMap::new();
        custom.insert("plan".to_string(), "free".to_string());
        custom.insert("ab".to_string(), "x\\y".to_string());
        assert_eq!(
            batch.view,
            WireView {
                id: "view-1".into(),
                session: "s-1".into(),
                player: "wasm-hls-player".into(),
                player_version: PLAYER_VERSION.into(),
                video_id: Some("ladder".into()),
                video_title: Some("Test \"pattern\" \u{e9}t\u{e9}".into()),
                browser: Some("Chromium 120".into()),
                os: Some("Linux".into()),
                page: Some("http://127.0.0.1:8080/demo/?a=b".into()),
                custom,
                sample_rate: 1.0,
            }
        );
        assert_eq!(
            (batch.v, batch.key.as_str(), batch.seq, batch.dropped),
            (1, "demo", 0, 0)
        );
        assert_eq!(batch.batch.len(), 16);
        let mut expected = vec![Event {
            t: T0,
            pt: None,
            kind: EventKind::Viewstart,
        }];
        for (i, (pt, kind)) in kinds.into_iter().enumerate() {
            let kind = match kind {
                EventKind::Error { code, fatal, .. } => EventKind::Error {
                    code,
                    message: "HTTP 500 \"x\"  done".into(),
                    fatal,
                },
                EventKind::Heartbeat {
                    bitrate,
                    buffer_s,
                    dropped_frames,
                    total_frames,
                    ..
                } if bitrate.is_some() => EventKind::Heartbeat {
                    bitrate,
                    buffer_s,
                    bandwidth_bps: Some(8_123_457.0),
                    dropped_frames,
                    total_frames,
                },
                kind => kind,
            };
            expected.push(Event {
                t: T0 + 100.0 * (i + 1) as f64,
                pt,
                kind,
            });
        }
        assert_eq!(batch.events, expected);
        // Delivered: nothing more to send.
        b.delivered(T0 + 5_100.0, 0, Delivery::Stored);
        assert_eq!(b.poll_send(T0 + 60_000.0), None);
    }

    #[test]
    fn numbers_are_written_without_float_formatting() {
        let text = |value: f64, places: u32| {
            let mut out = String::new();
            push_decimal(&mut out, value, places);
            out
        };
        assert_eq!(text(0.0, 3), "0");
        assert_eq!(text(12.5, 3), "12.5");
        assert_eq!(text(0.0005, 3), "0.001");
        assert_eq!(text(3.1004, 3), "3.1");
        assert_eq!(text(7.0301, 3), "7.03");
        assert_eq!(text(0.05, 6), "0.05");
        assert_eq!(text(1e-6, 6), "0.000001");
        assert_eq!(text(1_764_000_000_123.4, 0), "1764000000123");
        assert_eq!(text(-3.0, 3), "0");
        assert_eq!(text(f64::NAN, 3), "0");
        let mut out = String::new();
        push_u64(&mut out, u64::MAX);
        assert_eq!(out, u64::MAX.to_string());
    }

    #[test]
    fn batches_leave_on_the_interval_or_when_full() {
        let mut b = beacons(Settings::default());
        b.start_view(T0, "v".into());
        b.record(T0 + 10.0, Some(0.0), EventKind::Playrequest);
        assert_eq!(b.poll_send(T0 + 9_999.0), None, "not before the interval");
        let first = b.poll_send(T0 + 10_000.0).expect("on the interval");
        assert_eq!(parse(&first.body).events.len(), 2);
        // One batch in flight at a time.
        for _ in 0..(BATCH_MAX_EVENTS + 5) {
            b.record(T0 + 10_001.0, Some(1.0), EventKind::Pause);
        }
        assert_eq!(b.poll_send(T0 + 10_002.0), None);
        b.delivered(T0 + 10_003.0, first.seq, Delivery::Stored);
        // A full batch does not wait for the interval; the rest does.
        let full = b.poll_send(T0 + 10_004.0).expect("a full batch");
        let batch = parse(&full.body);
        assert_eq!((batch.seq, batch.events.len()), (1, BATCH_MAX_EVENTS));
        b.delivered(T0 + 10_005.0, full.seq, Delivery::Stored);
        assert_eq!(b.poll_send(T0 + 10_006.0), None);
        let rest = b
            .poll_send(T0 + 20_004.0)
            .expect("the rest on the interval");
        assert_eq!(
            (parse(&rest.body).seq, parse(&rest.body).events.len()),
            (2, 5)
        );
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_them() {
        let mut b = beacons(Settings {
            max_queue: 10,
            ..Settings::default()
        });
        b.start_view(T0, "v".into());
        for i in 0..25 {
            b.record(T0 + f64::from(i), Some(f64::from(i)), EventKind::Pause);
        }
        let out = b.poll_send(T0 + 20_000.0).unwrap();
        let batch = parse(&out.body);
        assert_eq!(batch.dropped, 16, "the viewstart and the 15 oldest pauses");
        assert_eq!(batch.events.len(), 10);
        assert_eq!(batch.events[0].pt, Some(15.0), "the newest are kept");
        // The count carries over to later batches of the view.
        b.delivered(T0 + 20_001.0, out.seq, Delivery::Stored);
        b.record(T0 + 20_002.0, None, EventKind::Ended);
        assert_eq!(parse(&b.poll_send(T0 + 20_003.0).unwrap().body).dropped, 16);
    }

    #[test]
    fn failed_batches_are_retried_unchanged_with_backoff() {
        assert_eq!(
            (1..=9).map(backoff_ms).collect::<Vec<_>>(),
            [1e3, 2e3, 4e3, 8e3, 16e3, 32e3, 60e3, 60e3, 60e3]
        );
        assert_eq!(backoff_ms(u32::MAX), RETRY_MAX_MS);
        for (status, delivery) in [
            (Some(200), Delivery::Stored),
            (Some(204), Delivery::Stored),
            (None, Delivery::Retry),
            (Some(408), Delivery::Retry),
            (Some(429), Delivery::Retry),
            (Some(503), Delivery::Retry),
            (Some(400), Delivery::Rejected),
            (Some(401), Delivery::Rejected),
            (Some(413), Delivery::Rejected),
        ] {
            assert_eq!(Delivery::of_status(status), delivery, "{status:?}");
        }

        let mut b = beacons(Settings::default());
        b.start_view(T0, "v".into());
        b.record(T0, Some(0.0), EventKind::Ended);
        let first = b.poll_send(T0).unwrap();
        b.record(T0 + 1.0, Some(0.0), EventKind::Play);
        b.delivered(T0 + 100.0, first.seq, Delivery::Retry);
        assert_eq!(b.poll_send(T0 + 1_099.0), None, "1 s after the failure");
        let again = b.poll_send(T0 + 1_100.0).unwrap();
        assert_eq!(again, first, "the same body: same batch id and sequence");
        b.delivered(T0 + 1_200.0, again.seq, Delivery::Retry);
        assert_eq!(b.poll_send(T0 + 3_199.0), None, "then 2 s");
        let third = b.poll_send(T0 + 3_200.0).unwrap();
        assert_eq!(third, first);
        // A late answer for another batch changes nothing.
        b.delivered(T0 + 3_300.0, 7, Delivery::Stored);
        assert_eq!(b.poll_send(T0 + 3_301.0), None);
        b.delivered(T0 + 3_400.0, third.seq, Delivery::Stored);
        let next = b.poll_send(T0 + 20_000.0).unwrap();
        assert_eq!(parse(&next.body).seq, 1);
        assert_ne!(parse(&next.body).batch, parse(&first.body).batch);
        // Refused for good: dropped and counted.
        b.delivered(T0 + 20_001.0, next.seq, Delivery::Rejected);
        b.record(T0 + 20_002.0, None, EventKind::Ended);
        let after = parse(&b.poll_send(T0 + 20_003.0).unwrap().body);
        assert_eq!((after.seq, after.dropped), (2, 1));
    }

    #[test]
    fn ending_a_view_hands_over_everything_unsent() {
        let mut b = beacons(Settings::default());
        b.start_view(T0, "v".into());
        b.record(T0 + 1.0, Some(0.0), EventKind::Playrequest);
        let in_flight = b.poll_send(T0 + 10_000.0).unwrap();
        for i in 0..150 {
            b.record(T0 + 10_001.0 + f64::from(i), Some(2.0), EventKind::Pause);
        }
        let bodies = b.end_view(T0 + 11_000.0, None);
        assert_eq!(
            bodies.len(),
            3,
            "the batch in flight, then 151 events in two"
        );
        assert_eq!(bodies[0], in_flight.body);
        let tail = parse(&bodies[2]);
        assert_eq!(tail.seq, 2);
        let last = tail.events.last().unwrap();
        assert_eq!((last.kind.name(), last.pt), ("viewend", Some(2.0)));
        assert_eq!(b.view_id(), None);
        b.record(T0 + 12_000.0, None, EventKind::Play);
        assert_eq!(b.poll_send(T0 + 60_000.0), None, "nothing after the view");
        assert!(b.end_view(T0 + 60_000.0, None).is_empty());
        // The batch in flight answered late: ignored.
        b.delivered(T0 + 61_000.0, in_flight.seq, Delivery::Retry);
        assert_eq!(b.poll_send(T0 + 120_000.0), None);
    }

    #[test]
    fn heartbeats_are_due_every_ten_seconds_of_playing() {
        let mut b = beacons(Settings::default());
        b.start_view(T0, "v".into());
        assert!(
            !b.heartbeat_due(T0 + 60_000.0),
            "not before the first frame"
        );
        b.record(T0 + 1_000.0, Some(0.0), EventKind::Firstframe);
        assert!(!b.heartbeat_due(T0 + 10_999.0));
        assert!(b.heartbeat_due(T0 + 11_000.0));
        let beat = EventKind::Heartbeat {
            bitrate: None,
            buffer_s: None,
            bandwidth_bps: None,
            dropped_frames: 0,
            total_frames: 0,
        };
        b.record(T0 + 11_000.0, Some(10.0), beat.clone());
        assert!(!b.heartbeat_due(T0 + 20_999.0));
        b.record(T0 + 15_000.0, Some(14.0), EventKind::Pause);
        assert!(!b.heartbeat_due(T0 + 40_000.0), "paused");
        b.record(T0 + 40_000.0, Some(14.0), EventKind::Play);
        assert!(!b.heartbeat_due(T0 + 49_999.0));
        assert!(b.heartbeat_due(T0 + 50_000.0));
        b.record(
            T0 + 50_000.0,
            Some(24.0),
            EventKind::Error {
                code: "media".into(),
                message: String::new(),
                fatal: true,
            },
        );
        assert!(
            !b.heartbeat_due(T0 + 90_000.0),
            "a fatal error ends playback"
        );
    }

    #[test]
    fn sampling_is_decided_once_per_view_from_its_id() {
        let ids: Vec<String> = (0..20_000u64)
            .map(|i| hex_id(&[i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i]))
            .collect();
        for rate in [0.1, 0.5, 0.9] {
            let inside = ids.iter().filter(|id| in_sample(id, rate)).count() as f64;
            let share = inside / ids.len() as f64;
            assert!((share - rate).abs() < 0.02, "rate {rate}: {share}");
            // The same id, the same answer; a lower rate keeps a subset.
            assert!(
                ids.iter()
                    .all(|id| in_sample(id, rate) == in_sample(id, rate))
            );
            assert!(
                ids.iter()
                    .all(|id| !in_sample(id, rate * 0.5) || in_sample(id, rate))
            );
        }
        assert!(ids.iter().all(|id| in_sample(id, 1.0)));

        let mut b = beacons(Settings {
            sample_rate: 0.5,
            ..Settings::default()
        });
        let out_id = ids.iter().find(|id| !in_sample(id, 0.5)).unwrap().clone();
        b.start_view(T0, out_id.clone());
        assert!(!b.sampled());
        assert_eq!(
            b.view_id(),
            Some(out_id.as_str()),
            "the id still names the view (CMCD sid)"
        );
        b.record(T0 + 1.0, Some(0.0), EventKind::Firstframe);
        b.record(T0 + 2.0, Some(0.0), EventKind::Ended);
        assert_eq!(b.poll_send(T0 + 60_000.0), None);
        assert!(b.end_view(T0 + 60_001.0, None).is_empty());
        let in_id = ids.iter().find(|id| in_sample(id, 0.5)).unwrap().clone();
        b.start_view(T0, in_id);
        b.record(T0 + 2.0, Some(0.0), EventKind::Ended);
        let batch = parse(&b.poll_send(T0 + 3.0).unwrap().body);
        assert_eq!(batch.view.sample_rate, 0.5);
    }

    #[test]
    fn browsers_and_systems_from_the_user_agent() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.224 Safari/537.36",
                (Some("Chrome 120"), Some("Linux")),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                (Some("Edge 131"), Some("Windows")),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                (Some("Safari 17"), Some("macOS")),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                (Some("Safari 17"), Some("iOS")),
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                (Some("Firefox 128"), Some("Linux")),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
                (Some("Chrome 124"), Some("Android")),
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0",
                (Some("Opera 110"), Some("ChromeOS")),
            ),
            ("Chrome/", (Some("Chrome"), None)),
            ("curl/8.0", (None, None)),
        ];
        for (agent, (browser, os)) in cases {
            let got = browser_and_os(agent);
            assert_eq!(
                (got.0.as_deref(), got.1.as_deref()),
                (browser, os),
                "{agent}"
            );
        }
    }

    #[test]
    fn texts_and_identifiers() {
        assert_eq!(clean_text("a\u{7}b\n", 10), "a b ");
        assert_eq!(
            clean_text("\u{e9}\u{e9}\u{e9}", 5),
            "\u{e9}\u{e9}",
            "cut on a character"
        );
        assert!(is_identifier("video-1 a"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("caf\u{e9}"));
        assert!(!is_identifier(&"x".repeat(129)));
        assert_eq!(hex_id(&[0x0123_4567_89ab_cdef]), "0123456789abcdef");
    }
}
