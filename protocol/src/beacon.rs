//! QoE beacons: what the SDK (our player's telemetry, or `Monitor` on any `<video>`) sends
//! to the collector's `POST /v1/beacons`.
//!
//! A [`Batch`] carries the events of one view since the previous batch, with the view's
//! dimensions repeated (a batch stands alone: the collector never has to join it to an
//! earlier one to know what it is about). JSON, field names as below:
//!
//! ```json
//! {"v":1,"key":"demo","batch":"k3J9x0aQ","seq":0,"dropped":0,
//!  "view":{"id":"…","session":"…","player":"wasm-hls-player","player_version":"0.1.0",
//!          "video_id":"ladder","video_title":"Test pattern","browser":"Chromium 156",
//!          "os":"Linux","page":"http://127.0.0.1:8080/demo/","custom":{"plan":"free"},
//!          "sample_rate":1.0},
//!  "events":[{"t":1764000000000,"type":"viewstart"},
//!            {"t":1764000000120,"type":"playrequest","pt":0},
//!            {"t":1764000000480,"type":"firstframe","pt":0},
//!            {"t":1764000004000,"type":"levelswitch","pt":3.5,"from":0,"to":2,
//!             "bitrate":2500000,"reason":"throughput-up"}]}
//! ```
//!
//! Idempotence: `(view.id, seq)` names a batch; `batch` is its random id, the same on
//! every retry, so a batch delivered twice is stored once.
//!
//! [`Batch::validate`] checks every field against the limits below and names the first
//! bad one (`events[3].bitrate`), which the collector returns with its 400.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{PROTOCOL_VERSION, SwitchReason};

/// Largest request body the collector accepts (bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most events in one batch.
pub const MAX_EVENTS: usize = 500;
/// Most custom dimensions of a view.
pub const MAX_CUSTOM_DIMENSIONS: usize = 10;
/// Longest identifier (key, batch id, view id, session id, video id, error code).
pub const MAX_ID_LEN: usize = 128;
/// Longest free text (title, page URL, error message, custom dimension value).
pub const MAX_TEXT_LEN: usize = 2048;
/// Earliest and latest event time accepted (ms since the Unix epoch: 2001 to 2286).
pub const MIN_TIME_MS: f64 = 1e12;
pub const MAX_TIME_MS: f64 = 1e13;

/// One request body: a view's events since the previous batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Wire format version ([`PROTOCOL_VERSION`]).
    pub v: u32,
    /// The property's ingest key (in the body because `sendBeacon` cannot set headers).
    pub key: String,
    /// Random id of this batch, the same on every retry of it.
    pub batch: String,
    /// Number of this batch within the view, from 0.
    pub seq: u64,
    /// Events the client's bounded queue dropped so far in this view (oldest first).
    #[serde(default)]
    pub dropped: u64,
    pub view: View,
    pub events: Vec<Event>,
}

/// Who watched what, where: the dimensions every metric can be broken down by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Random id of the view (one load of one video in one player).
    pub id: String,
    /// Random id of the viewer's session (kept per browser tab).
    pub session: String,
    /// `wasm-hls-player`, `hls.js`, `native`, …
    pub player: String,
    pub player_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_title: Option<String>,
    /// Browser name and major version (`Chromium 156`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The page's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Application-defined dimensions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
    /// The fraction of views this client reports (0 < rate ≤ 1); aggregates weight each
    /// view by its inverse.
    #[serde(default = "full_sample")]
    pub sample_rate: f64,
}

fn full_sample() -> f64 {
    1.0
}

/// One thing that happened in a view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When, in milliseconds since the Unix epoch (the client's clock).
    pub t: f64,
    /// The playhead position then, in seconds, when the player has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pt: Option<f64>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EventKind {
    /// The view began (the player was given a source).
    Viewstart,
    /// The viewer (or autoplay) asked for playback.
    Playrequest,
    /// The first frame was shown: startup is over.
    Firstframe,
    /// Playback paused by the viewer.
    Pause,
    /// Playback resumed after a pause.
    Play,
    /// Playback stopped for lack of data (not for a seek, not before the first frame).
    Rebufferstart,
    /// Playback resumed after a rebuffer.
    Rebufferend,
    /// The rendition on screen changed.
    Levelswitch {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<u32>,
        to: u32,
        /// The new rendition's bitrate (bits per second).
        bitrate: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        height: Option<u32>,
        reason: SwitchReason,
    },
    /// A seek completed.
    Seek {
        from: f64,
        to: f64,
        /// From the seek request until playback resumed (or the frame showed, paused).
        latency_ms: f64,
    },
    /// An error; `fatal` ends playback.
    Error {
        code: String,
        message: String,
        fatal: bool,
    },
    /// Every 10 s while the view is open: counters so far.
    Heartbeat {
        /// Bitrate on screen (bits per second).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bitrate: Option<u64>,
        /// Seconds of media buffered ahead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        buffer_s: Option<f64>,
        /// The player's bandwidth estimate (bits per second).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bandwidth_bps: Option<f64>,
        /// Frames dropped and decoded so far in the view.
        #[serde(default)]
        dropped_frames: u64,
        #[serde(default)]
        total_frames: u64,
    },
    /// Playback reached the end of the video.
    Ended,
    /// The view is over (page hidden or closed, source changed, player destroyed).
    Viewend,
}

impl EventKind {
    /// The wire name (`"levelswitch"`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Viewstart => "viewstart",
            Self::Playrequest => "playrequest",
            Self::Firstframe => "firstframe",
            Self::Pause => "pause",
            Self::Play => "play",
            Self::Rebufferstart => "rebufferstart",
            Self::Rebufferend => "rebufferend",
            Self::Levelswitch { .. } => "levelswitch",
            Self::Seek { .. } => "seek",
            Self::Error { .. } => "error",
            Self::Heartbeat { .. } => "heartbeat",
            Self::Ended => "ended",
            Self::Viewend => "viewend",
        }
    }
}

/// A field that breaks the rules, named by its path in the JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct BeaconError {
    /// `view.id`, `events[3].bitrate`, …
    pub field: String,
    pub problem: String,
}

impl BeaconError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        BeaconError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl Batch {
    /// Checks every field; the error names the first one that breaks the rules.
    pub fn validate(&self) -> Result<(), BeaconError> {
        if self.v != PROTOCOL_VERSION {
            return Err(BeaconError::new(
                "v",
                format!(
                    "unsupported version {} (this collector speaks {PROTOCOL_VERSION})",
                    self.v
                ),
            ));
        }
        identifier("key", &self.key)?;
        identifier("batch", &self.batch)?;
        self.view.validate()?;
        if self.events.is_empty() {
            return Err(BeaconError::new("events", "must hold at least one event"));
        }
        if self.events.len() > MAX_EVENTS {
            return Err(BeaconError::new(
                "events",
                format!("at most {MAX_EVENTS} events per batch"),
            ));
        }
        for (index, event) in self.events.iter().enumerate() {
            event.validate(&format!("events[{index}]"))?;
        }
        Ok(())
    }
}

impl View {
    fn validate(&self) -> Result<(), BeaconError> {
        identifier("view.id", &self.id)?;
        identifier("view.session", &self.session)?;
        identifier("view.player", &self.player)?;
        identifier("view.player_version", &self.player_version)?;
        optional_identifier("view.video_id", self.video_id.as_deref())?;
        for (field, value) in [
            ("view.video_title", &self.video_title),
            ("view.browser", &self.browser),
            ("view.os", &self.os),
            ("view.page", &self.page),
        ] {
            if let Some(value) = value {
                text(field, value)?;
            }
        }
        if self.custom.len() > MAX_CUSTOM_DIMENSIONS {
            return Err(BeaconError::new(
                "view.custom",
                format!("at most {MAX_CUSTOM_DIMENSIONS} custom dimensions"),
            ));
        }
        for (name, value) in &self.custom {
            identifier("view.custom", name)?;
            text(&format!("view.custom.{name}"), value)?;
        }
        if !(self.sample_rate > 0.0 && self.sample_rate <= 1.0) {
            return Err(BeaconError::new(
                "view.sample_rate",
                "must be above 0 and at most 1",
            ));
        }
        Ok(())
    }
}

impl Event {
    fn validate(&self, at: &str) -> Result<(), BeaconError> {
        if !(self.t.is_finite() && (MIN_TIME_MS..=MAX_TIME_MS).contains(&self.t)) {
            return Err(BeaconError::new(
                format!("{at}.t"),
                "must be a time in milliseconds since the Unix epoch",
            ));
        }
        if let Some(pt) = self.pt {
            seconds(&format!("{at}.pt"), pt)?;
        }
        match &self.kind {
            EventKind::Levelswitch { from, to, .. } if *from == Some(*to) => {
                return Err(BeaconError::new(format!("{at}.to"), "equals from"));
            }
            EventKind::Seek {
                from,
                to,
                latency_ms,
            } => {
                seconds(&format!("{at}.from"), *from)?;
                seconds(&format!("{at}.to"), *to)?;
                non_negative(&format!("{at}.latency_ms"), *latency_ms)?;
            }
            EventKind::Error { code, message, .. } => {
                identifier(&format!("{at}.code"), code)?;
                text(&format!("{at}.message"), message)?;
            }
            EventKind::Heartbeat {
                buffer_s,
                bandwidth_bps,
                dropped_frames,
                total_frames,
                ..
            } => {
                if let Some(buffer) = buffer_s {
                    seconds(&format!("{at}.buffer_s"), *buffer)?;
                }
                if let Some(bandwidth) = bandwidth_bps {
                    non_negative(&format!("{at}.bandwidth_bps"), *bandwidth)?;
                }
                if dropped_frames > total_frames {
                    return Err(BeaconError::new(
                        format!("{at}.dropped_frames"),
                        "exceeds total_frames",
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// An id: 1 to [`MAX_ID_LEN`] printable ASCII characters.
fn identifier(field: &str, value: &str) -> Result<(), BeaconError> {
    if value.is_empty() {
        return Err(BeaconError::new(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(BeaconError::new(
            field,
            format!("longer than {MAX_ID_LEN} characters"),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(BeaconError::new(
            field,
            "only printable ASCII characters are allowed",
        ));
    }
    Ok(())
}

fn optional_identifier(field: &str, value: Option<&str>) -> Result<(), BeaconError> {
    value.map_or(Ok(()), |value| identifier(field, value))
}

/// Free text: at most [`MAX_TEXT_LEN`] bytes, no control characters.
fn text(field: &str, value: &str) -> Result<(), BeaconError> {
    if value.len() > MAX_TEXT_LEN {
        return Err(BeaconError::new(
            field,
            format!("longer than {MAX_TEXT_LEN} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(BeaconError::new(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(())
}

/// A media time or duration in seconds: finite, not negative, under a year.
fn seconds(field: &str, value: f64) -> Result<(), BeaconError> {
    if value.is_finite() && (0.0..=31_536_000.0).contains(&value) {
        Ok(())
    } else {
        Err(BeaconError::new(
            field,
            "must be a number of seconds from 0 to one year",
        ))
    }
}

fn non_negative(field: &str, value: f64) -> Result<(), BeaconError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(BeaconError::new(
            field,
            "must be a finite number, 0 or more",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Batch {
        serde_json::from_str(
            r#"{"v":1,"key":"demo","batch":"k3J9x0aQ","seq":0,
                "view":{"id":"v1","session":"s1","player":"wasm-hls-player",
                        "player_version":"0.1.0","custom":{"plan":"free"}},
                "events":[{"t":1764000000000,"type":"viewstart"},
                          {"t":1764000000120,"type":"playrequest","pt":0},
                          {"t":1764000000480,"type":"firstframe","pt":0},
                          {"t":1764000004000,"type":"levelswitch","pt":3.5,"from":0,"to":2,
                           "bitrate":2500000,"reason":"throughput-up"},
                          {"t":1764000005000,"type":"seek","from":4,"to":20,"latency_ms":300},
                          {"t":1764000006000,"type":"error","code":"network","message":"HTTP 500","fatal":false},
                          {"t":1764000010000,"type":"heartbeat","bitrate":2500000,"dropped_frames":1,"total_frames":240},
                          {"t":1764000011000,"type":"viewend"}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_documented_batch_reads_and_validates() {
        let batch = batch();
        assert_eq!(batch.validate(), Ok(()));
        assert_eq!(batch.view.sample_rate, 1.0);
        assert_eq!(batch.dropped, 0);
        assert_eq!(batch.events[3].kind.name(), "levelswitch");
        assert!(matches!(
            batch.events[3].kind,
            EventKind::Levelswitch {
                to: 2,
                reason: SwitchReason::ThroughputUp,
                ..
            }
        ));
    }

    #[test]
    fn it_round_trips_through_json() {
        let batch = batch();
        let text = serde_json::to_string(&batch).unwrap();
        assert_eq!(serde_json::from_str::<Batch>(&text).unwrap(), batch);
    }

    #[test]
    fn each_broken_field_is_named() {
        type Break = Box<dyn Fn(&mut Batch)>;
        let cases: Vec<(Break, &str)> = vec![
            (Box::new(|b| b.v = 2), "v"),
            (Box::new(|b| b.key.clear()), "key"),
            (Box::new(|b| b.batch = "x".repeat(200)), "batch"),
            (Box::new(|b| b.view.id = "bad\u{1}".into()), "view.id"),
            (Box::new(|b| b.view.page = Some("a\nb".into())), "view.page"),
            (Box::new(|b| b.view.sample_rate = 0.0), "view.sample_rate"),
            (
                Box::new(|b| {
                    for i in 0..11 {
                        b.view.custom.insert(format!("d{i}"), "x".into());
                    }
                }),
                "view.custom",
            ),
            (Box::new(|b| b.events.clear()), "events"),
            (Box::new(|b| b.events[1].t = f64::NAN), "events[1].t"),
            (Box::new(|b| b.events[1].t = 5.0), "events[1].t"),
            (Box::new(|b| b.events[2].pt = Some(-1.0)), "events[2].pt"),
            (
                Box::new(|b| {
                    b.events[3].kind = EventKind::Levelswitch {
                        from: Some(1),
                        to: 1,
                        bitrate: 1,
                        height: None,
                        reason: SwitchReason::Manual,
                    }
                }),
                "events[3].to",
            ),
            (
                Box::new(|b| {
                    b.events[4].kind = EventKind::Seek {
                        from: 0.0,
                        to: 1.0,
                        latency_ms: f64::INFINITY,
                    }
                }),
                "events[4].latency_ms",
            ),
            (
                Box::new(|b| {
                    b.events[6].kind = EventKind::Heartbeat {
                        bitrate: None,
                        buffer_s: None,
                        bandwidth_bps: None,
                        dropped_frames: 5,
                        total_frames: 4,
                    }
                }),
                "events[6].dropped_frames",
            ),
        ];
        for (break_it, field) in cases {
            let mut batch = batch();
            break_it(&mut batch);
            let error = batch.validate().expect_err(field);
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn unknown_event_types_and_bad_reasons_do_not_parse() {
        for body in [
            r#"{"t":1764000000000,"type":"teleport"}"#,
            r#"{"t":1764000000000,"type":"levelswitch","to":1,"bitrate":1,"reason":"whim"}"#,
            r#"{"t":1764000000000}"#,
        ] {
            assert!(serde_json::from_str::<Event>(body).is_err(), "{body}");
        }
    }
}
