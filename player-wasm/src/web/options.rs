//! The JS options object of `new Player(video, options)` turned into the engine's
//! [`EngineConfig`]. Unknown keys and values of the wrong type are refused with a
//! `TypeError` naming the option, as is any value the engine's own validation refuses.

use js_sys::{Object, Reflect, TypeError};
use wasm_bindgen::{JsCast, JsValue};

use crate::abr::AbrKind;
use crate::engine::{EngineConfig, RetryPolicy};

/// The options the API accepts, as JS spells them.
pub const OPTION_NAMES: &[&str] = &[
    "abr",
    "startLevel",
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
];

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
        .ok_or_else(|| type_error(format!("option {option}: expected a number")))
}

fn boolean(option: &str, value: &JsValue) -> Result<bool, JsValue> {
    value
        .as_bool()
        .ok_or_else(|| type_error(format!("option {option}: expected true or false")))
}

fn check_keys(object: &JsValue, option: &str, known: &[&str]) -> Result<(), JsValue> {
    let Some(object) = object.dyn_ref::<Object>() else {
        return Err(type_error(format!("{option}: expected an object")));
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
        return Err(type_error(format!("option {option}: expected an object")));
    }
    check_keys(value, &format!("option {option}"), RETRY_NAMES)?;
    // Checked here rather than left to the engine's validation, whose errors name the
    // engine's policy (`playlistRetry`, `segmentRetry`) but not the field.
    let whole = |name: &str, v: &JsValue| -> Result<f64, JsValue> {
        let n = number(&format!("{option}.{name}"), v)?;
        if n.fract() != 0.0 || !(0.0..=100.0).contains(&n) {
            return Err(type_error(format!(
                "option {option}.{name}: expected a whole number from 0 to 100"
            )));
        }
        Ok(n)
    };
    let seconds = |name: &str, v: &JsValue| -> Result<f64, JsValue> {
        let n = number(&format!("{option}.{name}"), v)?;
        if !(n.is_finite() && n > 0.0) {
            return Err(type_error(format!(
                "option {option}.{name}: expected a positive number of seconds, got {n}"
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
            policy.max_delay_s, policy.initial_delay_s
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
                "option liveSyncDurationCount: expected a positive number of target durations, got {count}"
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
