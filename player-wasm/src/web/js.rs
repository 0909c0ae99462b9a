//! The engine's events, levels and stats as plain JS objects, built by hand with
//! `Reflect.set` (serde and `serde-wasm-bindgen` cost the package kilobytes for these
//! few shapes). The objects are what `serde-wasm-bindgen`'s JSON-compatible serializer
//! made of the engine's `Serialize` types, key for key and in the same order: camelCase
//! keys, `type` first in events, `null` for `None`, kebab-case enum names, and a value
//! refused (`None` here) when an integer is beyond JS's safe integers.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use super::shell::event_name;
use crate::engine::{Event, LevelSummary, Stats, TrackId};

/// 2^53 - 1, the largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A plain object under construction.
struct Obj(Object);

impl Obj {
    fn new() -> Obj {
        Obj(Object::new())
    }

    fn set(&self, key: &str, value: &JsValue) {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), value);
    }

    fn num(&self, key: &str, value: f64) {
        self.set(key, &JsValue::from_f64(value));
    }

    fn str(&self, key: &str, value: &str) {
        self.set(key, &JsValue::from_str(value));
    }

    fn bool(&self, key: &str, value: bool) {
        self.set(key, &JsValue::from_bool(value));
    }

    /// A number, or `null` for `None`.
    fn opt(&self, key: &str, value: Option<f64>) {
        self.set(key, &value.map_or(JsValue::NULL, JsValue::from_f64));
    }

    /// An integer of up to 64 bits; `None` when JS cannot hold it exactly.
    fn int(&self, key: &str, value: u64) -> Option<()> {
        self.num(key, safe(value)?);
        Some(())
    }

    /// An optional integer of up to 64 bits (`null` for `None`).
    fn opt_int(&self, key: &str, value: Option<u64>) -> Option<()> {
        let value = match value {
            Some(value) => Some(safe(value)?),
            None => None,
        };
        self.opt(key, value);
        Some(())
    }

    fn done(self) -> JsValue {
        self.0.into()
    }
}

fn safe(value: u64) -> Option<f64> {
    (value <= MAX_SAFE_INTEGER).then_some(value as f64)
}

fn level_index(value: Option<usize>) -> Option<f64> {
    value.map(|v| v as f64)
}

/// A [`LevelSummary`] as the API's `Level`.
pub fn level(level: &LevelSummary) -> Option<JsValue> {
    let o = Obj::new();
    o.num("index", level.index as f64);
    o.int("bitrate", level.bitrate)?;
    o.opt_int("averageBitrate", level.average_bitrate)?;
    o.opt_int("width", level.width)?;
    o.opt_int("height", level.height)?;
    o.opt("frameRate", level.frame_rate);
    let codecs = Array::new();
    for codec in &level.codecs {
        codecs.push(&JsValue::from_str(codec));
    }
    o.set("codecs", &codecs);
    o.str("url", &level.url);
    Some(o.done())
}

/// The ladder as the API's `Level[]`.
pub fn levels(levels: &[LevelSummary]) -> Option<JsValue> {
    let array = Array::new();
    for entry in levels {
        array.push(&level(entry)?);
    }
    Some(array.into())
}

/// [`Stats`] as the API's `PlayerStats`.
pub fn stats(stats: &Stats) -> Option<JsValue> {
    let o = Obj::new();
    o.num("bandwidthEstimateBps", stats.bandwidth_estimate_bps);
    o.num("bufferAheadS", stats.buffer_ahead_s);
    o.num("positionS", stats.position_s);
    o.opt("loadingLevel", level_index(stats.loading_level));
    o.opt("playingLevel", level_index(stats.playing_level));
    o.bool("autoLevel", stats.auto_level);
    o.bool("live", stats.live);
    let qoe = &stats.qoe;
    let q = Obj::new();
    q.opt("startupTimeS", qoe.startup_time_s);
    q.num("rebufferCount", f64::from(qoe.rebuffer_count));
    q.num("rebufferS", qoe.rebuffer_s);
    q.num("rebufferRatio", qoe.rebuffer_ratio);
    q.num("playingTimeS", qoe.playing_time_s);
    q.num("averageBitrateBps", qoe.average_bitrate_bps);
    q.num("switchCount", f64::from(qoe.switch_count));
    q.num("switchMagnitudeMbps", qoe.switch_magnitude_mbps);
    q.num("segments", qoe.segments as f64);
    q.num("qoeLinPerSegment", qoe.qoe_lin_per_segment);
    q.num("qoeLinTotal", qoe.qoe_lin_total);
    q.int("droppedFrames", qoe.dropped_frames)?;
    q.int("totalFrames", qoe.total_frames)?;
    o.set("qoe", &q.done());
    Some(o.done())
}

/// An [`Event`] as the API's `PlayerEvent` (`type` first).
pub fn event(event: &Event) -> Option<JsValue> {
    let o = Obj::new();
    o.str("type", event_name(event));
    match event {
        Event::ManifestLoaded {
            levels: ladder,
            live,
        } => {
            o.set("levels", &levels(ladder)?);
            o.bool("live", *live);
        }
        Event::LevelLoaded {
            level,
            live,
            duration,
            target_duration,
            segments,
        } => {
            o.num("level", *level as f64);
            o.bool("live", *live);
            o.num("duration", *duration);
            o.num("targetDuration", *target_duration);
            o.num("segments", *segments as f64);
        }
        Event::LevelSwitching { from, to, reason } | Event::LevelSwitched { from, to, reason } => {
            o.opt("from", level_index(*from));
            o.num("to", *to as f64);
            o.str("reason", reason.as_str());
        }
        Event::FragLoaded {
            track,
            level,
            sequence,
            bytes,
            duration,
            ttfb,
            load_time,
        } => {
            let track = match track {
                TrackId::Main => "main",
                TrackId::Audio => "audio",
            };
            o.str("track", track);
            o.num("level", *level as f64);
            o.int("sequence", *sequence)?;
            o.int("bytes", *bytes)?;
            o.num("duration", *duration);
            o.num("ttfb", *ttfb);
            o.num("loadTime", *load_time);
        }
        Event::FragAbandoned {
            request,
            level,
            sequence,
            to_level,
        } => {
            o.int("request", request.0)?;
            o.num("level", *level as f64);
            o.int("sequence", *sequence)?;
            o.num("toLevel", *to_level as f64);
        }
        Event::FirstFrame { startup_time } => o.num("startupTime", *startup_time),
        Event::BufferStalled { position } => o.num("position", *position),
        Event::BufferStallEnded { position, duration } => {
            o.num("position", *position);
            o.num("duration", *duration);
        }
        Event::GapJumped { from, to } => {
            o.num("from", *from);
            o.num("to", *to);
        }
        Event::Seeked { position, latency } => {
            o.num("position", *position);
            o.num("latency", *latency);
        }
        Event::RetryScheduled {
            request,
            attempt,
            delay,
        } => {
            o.int("request", request.0)?;
            o.num("attempt", f64::from(*attempt));
            o.num("delay", *delay);
        }
        Event::Error {
            kind,
            fatal,
            details,
        } => {
            o.str("kind", kind.as_str());
            o.bool("fatal", *fatal);
            o.str("details", details);
        }
        Event::Ended => {}
    }
    Some(o.done())
}

/// A `metadata` event: one ID3 tag from a transmuxed segment, at `time` on the element's
/// timeline (`pts`: the stream's own timestamp, seconds).
pub fn metadata(track: TrackId, time: f64, pts: f64, data: &JsValue) -> JsValue {
    let object = Obj::new();
    object.str("type", "metadata");
    object.str(
        "track",
        match track {
            TrackId::Main => "main",
            TrackId::Audio => "audio",
        },
    );
    object.num("time", time);
    object.num("pts", pts);
    object.set("data", data);
    object.done()
}
