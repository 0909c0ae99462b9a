//! The JS options object of `new Player(video, options)` turned into the engine's
//! [`EngineConfig`]. Unknown keys and values of the wrong type are refused with a
//! `TypeError` naming the option, as is any value the engine's own validation refuses.
//! The `analytics` and `cmcd` options (and `Monitor.attach`'s) are read here too.

use js_sys::{Object, Reflect, TypeError};
use wasm_bindgen::{JsCast, JsValue};

use super::telemetry::{Analytics, absolute, default_endpoint};
use crate::abr::AbrKind;
use crate::engine::{EngineConfig, RetryPolicy, number_text};
use crate::qoe::beacons::{Settings, is_identifier};
use protocol::beacon::{MAX_CUSTOM_DIMENSIONS, MAX_TEXT_LEN};

// The analytics messages below spell these limits out.
const _: () = assert!(MAX_CUSTOM_DIMENSIONS == 10 && MAX_TEXT_LEN == 2048);

/// The options the API accepts, as JS spells them.
pub const OPTION_NAMES: &[&str] = &[
    "abr",
    "startLevel",
    "startPosition",
    "maxBufferSeconds",
    "backBufferSeconds",
    "capLevelToPlayerSize",
    "autoplay",
    "abandonSlowDownloads",
    "maxGapJumpSeconds",
    "liveSyncDurationCount",
    "retry",
    "playlistRetry",
    "segmentRetry",
    "preloadPlaylists",
    "analytics",
    "cmcd",
    "transmux",
];

/// The keys of `options.analytics` (and of `Monitor.attach`'s options).
pub const ANALYTICS_NAMES: &[&str] = &[
    "endpoint",
    "key",
    "videoId",
    "videoTitle",
    "custom",
    "sampleRate",
    "flushIntervalMs",
    "maxQueue",
];

/// The keys of `Monitor.attach`'s options beyond the analytics ones.
pub const MONITOR_NAMES: &[&str] = &["hls", "playerName", "playerVersion"];

const RETRY_NAMES: &[&str] = &[
    "maxRetries",
    "initialDelaySeconds",
    "maxDelaySeconds",
    "timeoutSeconds",
];

fn type_error(message: String) -> JsValue {
    TypeError::new(&message).into()
}

fn field(object: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    let value = Reflect::get(object, &JsValue::from_str(name))?;
    Ok((!value.is_undefined()).then_some(value))
}

fn number(option: &str, value: &JsValue) -> Result<f64, JsValue> {
    value
        .as_f64()
        .ok_or_else(|| bad_option(option, "expected a number"))
}

fn boolean(option: &str, value: &JsValue) -> Result<bool, JsValue> {
    value
        .as_bool()
        .ok_or_else(|| bad_option(option, "expected true or false"))
}

fn check_keys(object: &JsValue, option: &str, known: &[&str]) -> Result<(), JsValue> {
    let Some(object) = object.dyn_ref::<Object>() else {
        return Err(type_error([option, ": expected an object"].concat()));
    };
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(type_error(format!(
                "{option}: unknown option {key:?} (known: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

fn retry(option: &str, value: &JsValue, mut policy: RetryPolicy) -> Result<RetryPolicy, JsValue> {
    if value.is_null() || !value.is_object() {
        return Err(bad_option(option, "expected an object"));
    }
    check_keys(value, &["option ", option].concat(), RETRY_NAMES)?;
    // Checked here rather than left to the engine's validation, whose errors name the
    // engine's policy (`playlistRetry`, `segmentRetry`) but not the field.
    let whole = |name: &str, v: &JsValue| -> Result<f64, JsValue> {
        let field = [option, ".", name].concat();
        let n = number(&field, v)?;
        if n.fract() != 0.0 || !(0.0..=100.0).contains(&n) {
            return Err(bad_option(&field, "expected a whole number from 0 to 100"));
        }
        Ok(n)
    };
    let seconds = |name: &str, v: &JsValue| -> Result<f64, JsValue> {
        let n = number(&[option, ".", name].concat(), v)?;
        if !(n.is_finite() && n > 0.0) {
            return Err(type_error(format!(
                "option {option}.{name}: expected a positive number of seconds, got {}",
                number_text(n)
            )));
        }
        Ok(n)
    };
    if let Some(v) = field(value, "maxRetries")? {
        policy.max_retries = whole("maxRetries", &v)? as u32;
    }
    if let Some(v) = field(value, "initialDelaySeconds")? {
        policy.initial_delay_s = seconds("initialDelaySeconds", &v)?;
    }
    if let Some(v) = field(value, "maxDelaySeconds")? {
        policy.max_delay_s = seconds("maxDelaySeconds", &v)?;
    }
    if let Some(v) = field(value, "timeoutSeconds")? {
        policy.timeout_s = seconds("timeoutSeconds", &v)?;
    }
    if policy.max_delay_s < policy.initial_delay_s {
        return Err(type_error(format!(
            "option {option}.maxDelaySeconds: must not be below initialDelaySeconds ({} < {})",
            number_text(policy.max_delay_s),
            number_text(policy.initial_delay_s)
        )));
    }
    Ok(policy)
}

/// Reads `options` (`undefined` or `null` for the defaults) on top of `base`.
pub fn parse(options: &JsValue, base: EngineConfig) -> Result<EngineConfig, JsValue> {
    let mut config = base;
    if options.is_undefined() || options.is_null() {
        return Ok(config);
    }
    if !options.is_object() {
        return Err(type_error("options: expected an object".into()));
    }
    check_keys(options, "options", OPTION_NAMES)?;
    if let Some(v) = field(options, "abr")? {
        let name = v
            .as_string()
            .ok_or_else(|| type_error("option abr: expected a string".into()))?;
        config.abr = name.parse::<AbrKind>().map_err(|_| {
            type_error(format!(
                "option abr: unknown algorithm {name:?} (known: default, throughput, bola, bb, robust-mpc)"
            ))
        })?;
    }
    if let Some(v) = field(options, "startLevel")? {
        let level = number("startLevel", &v)?;
        config.start_level = if level == -1.0 {
            None
        } else if level.fract() == 0.0 && (0.0..1e6).contains(&level) {
            Some(level as usize)
        } else {
            return Err(type_error(
                "option startLevel: expected a level index or -1 (automatic)".into(),
            ));
        };
    }
    if let Some(v) = field(options, "startPosition")? {
        let seconds = number("startPosition", &v)?;
        config.start_position_s = if seconds == -1.0 {
            None
        } else if seconds >= 0.0 && seconds.is_finite() {
            Some(seconds)
        } else {
            return Err(type_error(
                "option startPosition: expected seconds from the start, or -1 (automatic)".into(),
            ));
        };
    }
    if let Some(v) = field(options, "maxBufferSeconds")? {
        config.max_buffer_s = number("maxBufferSeconds", &v)?;
    }
    if let Some(v) = field(options, "backBufferSeconds")? {
        config.back_buffer_s = if v.is_null() {
            None
        } else {
            let seconds = number("backBufferSeconds", &v)?;
            (seconds != f64::INFINITY).then_some(seconds)
        };
    }
    if let Some(v) = field(options, "capLevelToPlayerSize")? {
        config.cap_level_to_player_size = boolean("capLevelToPlayerSize", &v)?;
    }
    if let Some(v) = field(options, "autoplay")? {
        config.autoplay = boolean("autoplay", &v)?;
    }
    if let Some(v) = field(options, "abandonSlowDownloads")? {
        config.abandon_slow_downloads = boolean("abandonSlowDownloads", &v)?;
    }
    if let Some(v) = field(options, "preloadPlaylists")? {
        config.preload_playlists = boolean("preloadPlaylists", &v)?;
    }
    if let Some(v) = field(options, "maxGapJumpSeconds")? {
        config.max_gap_jump_s = number("maxGapJumpSeconds", &v)?;
    }
    if let Some(v) = field(options, "liveSyncDurationCount")? {
        let count = number("liveSyncDurationCount", &v)?;
        // The engine's own check names its field, `liveSyncTargetDurations`.
        if !(count.is_finite() && count > 0.0) {
            return Err(type_error(format!(
                "option liveSyncDurationCount: expected a positive number of target durations, got {}",
                number_text(count)
            )));
        }
        config.live_sync_target_durations = count;
    }
    if let Some(v) = field(options, "retry")? {
        config.playlist_retry = retry("retry", &v, config.playlist_retry)?;
        config.segment_retry = retry("retry", &v, config.segment_retry)?;
    }
    if let Some(v) = field(options, "playlistRetry")? {
        config.playlist_retry = retry("playlistRetry", &v, config.playlist_retry)?;
    }
    if let Some(v) = field(options, "segmentRetry")? {
        config.segment_retry = retry("segmentRetry", &v, config.segment_retry)?;
    }
    config
        .validate()
        .map_err(|error| type_error(error.to_string()))?;
    Ok(config)
}

/// `options.cmcd`: whether requests carry CMCD (default true).
pub fn cmcd(options: &JsValue) -> Result<bool, JsValue> {
    if !options.is_object() {
        return Ok(true);
    }
    field(options, "cmcd")?.map_or(Ok(true), |v| boolean("cmcd", &v))
}

/// `options.transmux`: `"auto"` (default), `"always"` or `"never"`.
pub fn transmux(options: &JsValue) -> Result<super::transmux::Mode, JsValue> {
    use super::transmux::Mode;
    if !options.is_object() {
        return Ok(Mode::Auto);
    }
    let Some(value) = field(options, "transmux")? else {
        return Ok(Mode::Auto);
    };
    [Mode::Auto, Mode::Always, Mode::Never]
        .into_iter()
        .zip(["auto", "always", "never"])
        .find(|(_, name)| value.as_string().as_deref() == Some(*name))
        .map(|(mode, _)| mode)
        .ok_or_else(|| bad_option("transmux", "expected \"auto\", \"always\" or \"never\""))
}

/// `options.analytics` of a `Player`: `None` (off) when absent, `null` or `false`;
/// `true` for the defaults; else the options object.
pub fn player_analytics(options: &JsValue) -> Result<Option<Analytics>, JsValue> {
    if !options.is_object() {
        return Ok(None);
    }
    match field(options, "analytics")? {
        None => Ok(None),
        Some(v) if v.is_null() || v.as_bool() == Some(false) => Ok(None),
        Some(v) if v.as_bool() == Some(true) => {
            analytics(&JsValue::UNDEFINED, "analytics.", &[]).map(Some)
        }
        Some(v) => analytics(&v, "analytics.", &[]).map(Some),
    }
}

/// A `TypeError`: `option {option}: {problem}` (without `format!`'s machinery).
pub fn bad_option(option: &str, problem: &str) -> JsValue {
    type_error(["option ", option, ": ", problem].concat())
}

fn string(option: &str, value: &JsValue) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| bad_option(option, "expected a string"))
}

fn identifier(option: &str, value: &JsValue) -> Result<String, JsValue> {
    let text = string(option, value)?;
    if !is_identifier(&text) {
        return Err(bad_option(
            option,
            "expected 1 to 128 printable ASCII characters",
        ));
    }
    Ok(text)
}

/// A number of `option` within `[min, max]` (whole when `whole`).
fn bounded(
    option: &str,
    value: &JsValue,
    min: f64,
    max: f64,
    whole: bool,
    expected: &str,
) -> Result<f64, JsValue> {
    let n = number(option, value)?;
    if n >= min && n <= max && (!whole || n.fract() == 0.0) {
        Ok(n)
    } else {
        Err(bad_option(option, expected))
    }
}

/// Analytics options from `value` (`undefined`: the defaults), whose keys are named
/// `{prefix}key` in errors; `extra` keys are allowed and left to the caller.
pub fn analytics(value: &JsValue, prefix: &str, extra: &[&str]) -> Result<Analytics, JsValue> {
    let mut analytics = Analytics {
        endpoint: default_endpoint(),
        settings: Settings::default(),
        video_id: None,
        video_title: None,
        custom: Vec::new(),
    };
    if value.is_undefined() || value.is_null() {
        return Ok(analytics);
    }
    let what = if prefix.is_empty() {
        "options".to_string()
    } else {
        ["option ", prefix.trim_end_matches('.')].concat()
    };
    if !value.is_object() {
        return Err(type_error(what + ": expected an object"));
    }
    let known: Vec<&str> = ANALYTICS_NAMES.iter().chain(extra).copied().collect();
    check_keys(value, &what, &known)?;
    for key in ANALYTICS_NAMES {
        let Some(v) = field(value, key)? else {
            continue;
        };
        let option = &[prefix, key].concat();
        let settings = &mut analytics.settings;
        match *key {
            "endpoint" => {
                let text = string(option, &v)?;
                analytics.endpoint =
                    absolute(&text).ok_or_else(|| bad_option(option, "not a URL"))?;
            }
            "key" => settings.key = identifier(option, &v)?,
            "videoId" => analytics.video_id = Some(identifier(option, &v)?),
            "videoTitle" => analytics.video_title = Some(string(option, &v)?),
            "custom" => {
                let Some(object) = v.dyn_ref::<Object>().filter(|_| !v.is_function()) else {
                    return Err(bad_option(option, "expected an object"));
                };
                let names = Object::keys(object);
                if names.length() as usize > MAX_CUSTOM_DIMENSIONS {
                    return Err(bad_option(option, "at most 10 dimensions"));
                }
                for name in names.iter() {
                    let dimension_value = Reflect::get(&v, &name)?;
                    let name = name.as_string().unwrap_or_default();
                    let dimension = &[option, ".", &name].concat();
                    if !is_identifier(&name) {
                        return Err(bad_option(
                            dimension,
                            "names are 1 to 128 printable ASCII characters",
                        ));
                    }
                    let text = string(dimension, &dimension_value)?;
                    if text.len() > MAX_TEXT_LEN {
                        return Err(bad_option(dimension, "longer than 2048 bytes"));
                    }
                    analytics.custom.push((name, text));
                }
            }
            "sampleRate" => {
                settings.sample_rate = bounded(
                    option,
                    &v,
                    1e-9,
                    1.0,
                    false,
                    "expected a number above 0 and at most 1",
                )?;
            }
            "flushIntervalMs" => {
                settings.flush_interval_ms = bounded(
                    option,
                    &v,
                    100.0,
                    1e9,
                    false,
                    "expected a number of milliseconds from 100",
                )?;
            }
            _ => {
                settings.max_queue = bounded(
                    option,
                    &v,
                    1.0,
                    1e5,
                    true,
                    "expected a whole number from 1 to 100000",
                )? as usize;
            }
        }
    }
    Ok(analytics)
}
