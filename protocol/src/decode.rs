//! JSON request bodies to a [`Batch`] (feature `json`), with the failing field named.
//!
//! [`decode_batch`] reads a body as the collector receives it and, when it does not
//! describe a batch, says which field is at fault as a path into the body
//! (`view.sample_rate`, `events[3].bitrate`) next to serde's message. It does not check
//! the limits of [`Batch::validate`]: call that next.
//!
//! serde loses the path inside an event (its type is a flattened, internally tagged
//! enum), so a bad event is examined once more on its own, field by field.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::beacon::{Batch, Event};

/// Why a body is not a batch.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct DecodeError {
    /// `body` when the body is not JSON at all, else the path of the field at fault.
    pub field: String,
    pub message: String,
}

impl DecodeError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reads a JSON body into a [`Batch`].
pub fn decode_batch(body: &[u8]) -> Result<Batch, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let error = match serde_path_to_error::deserialize::<_, Batch>(&mut deserializer) {
        Ok(batch) => {
            return match deserializer.end() {
                Ok(()) => Ok(batch),
                Err(e) => Err(DecodeError::new("body", format!("not JSON: {e}"))),
            };
        }
        Err(error) => error,
    };
    let inner = error.inner();
    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
        return Err(DecodeError::new("body", format!("not JSON: {inner}")));
    }
    let path = error.path().to_string();
    if path.starts_with('[') {
        return Err(DecodeError::new("body", "must be a JSON object"));
    }
    let message = without_position(&inner.to_string());
    if let Some(index) = event_index(&path) {
        return Err(event_error(body, index, message));
    }
    let top = path.is_empty() || path == ".";
    let field = match (missing_field(&message), top) {
        (Some(name), true) => name.to_string(),
        (Some(name), false) => format!("{path}.{name}"),
        (None, true) => "body".to_string(),
        (None, false) => path,
    };
    Err(DecodeError::new(field, message))
}

/// `3` for `events[3]` and anything below it.
fn event_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("events[")?;
    let end = rest.find(']')?;
    rest[..end].parse().ok()
}

/// `x` from serde's "missing field `x`".
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// `x` from serde's "unknown variant `x`, expected …".
fn unknown_variant(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown variant `")?;
    rest.split('`').next()
}

/// serde_json appends " at line L column C"; the field's name says more.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Names the field of event `index` that does not fit its type.
fn event_error(body: &[u8], index: usize, message: String) -> DecodeError {
    let at = format!("events[{index}]");
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return DecodeError::new(at, message);
    };
    let Some(event) = value.get("events").and_then(|e| e.get(index)) else {
        return DecodeError::new(at, message);
    };
    let Some(object) = event.as_object() else {
        return DecodeError::new(at, "must be an object");
    };
    if let Some(name) = missing_field(&message) {
        let field = format!("{at}.{name}");
        return DecodeError::new(field, message);
    }
    match object.get("type") {
        None => return DecodeError::new(format!("{at}.type"), "missing field `type`"),
        Some(kind) if !kind.is_string() || unknown_variant(&message) == kind.as_str() => {
            return DecodeError::new(format!("{at}.type"), message);
        }
        Some(_) => {}
    }
    // The culprit is the field whose removal makes the event read, or be missing.
    for name in object.keys().filter(|name| *name != "type") {
        let mut without: Map<String, Value> = object.clone();
        without.remove(name);
        match serde_json::from_value::<Event>(Value::Object(without)) {
            Ok(_) => return DecodeError::new(format!("{at}.{name}"), message),
            Err(e) if missing_field(&e.to_string()) == Some(name.as_str()) => {
                return DecodeError::new(format!("{at}.{name}"), message);
            }
            Err(_) => {}
        }
    }
    DecodeError::new(at, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"v":1,"key":"demo","batch":"b1","seq":0,
        "view":{"id":"v1","session":"s1","player":"p","player_version":"1"},
        "events":[{"t":1764000000000,"type":"viewstart"},
                  {"t":1764000000100,"type":"levelswitch","to":1,"bitrate":1000,"reason":"startup"}]}"#;

    fn field_of(body: &str) -> String {
        decode_batch(body.as_bytes()).expect_err(body).field
    }

    #[test]
    fn a_good_body_decodes() {
        let batch = decode_batch(GOOD.as_bytes()).unwrap();
        assert_eq!(batch.events.len(), 2);
        assert_eq!(batch.validate(), Ok(()));
    }

    #[test]
    fn the_field_at_fault_is_named() {
        let cases = [
            (
                GOOD.replace(r#""bitrate":1000"#, r#""bitrate":"x""#),
                "events[1].bitrate",
            ),
            (GOOD.replace(r#""bitrate":1000,"#, ""), "events[1].bitrate"),
            (
                GOOD.replace(r#""reason":"startup""#, r#""reason":"whim""#),
                "events[1].reason",
            ),
            (
                GOOD.replace(r#""type":"viewstart""#, r#""type":"teleport""#),
                "events[0].type",
            ),
            (GOOD.replace(r#","type":"viewstart""#, ""), "events[0].type"),
            (
                GOOD.replace(r#""t":1764000000000,"#, r#""t":"now","#),
                "events[0].t",
            ),
            (GOOD.replace(r#""seq":0"#, r#""seq":-1"#), "seq"),
            (GOOD.replace(r#""id":"v1","#, r#""id":5,"#), "view.id"),
            (GOOD.replace(r#""session":"s1","#, ""), "view.session"),
            (GOOD.replace(r#""key":"demo","#, ""), "key"),
            (
                GOOD.replace(
                    r#""player_version":"1""#,
                    r#""player_version":"1","sample_rate":"all""#,
                ),
                "view.sample_rate",
            ),
            (
                GOOD.replace(r#"{"t":1764000000000,"type":"viewstart"}"#, "7"),
                "events[0]",
            ),
            ("[1,2]".to_string(), "body"),
            ("{\"v\":1".to_string(), "body"),
            ("not json".to_string(), "body"),
            (format!("{GOOD} trailing"), "body"),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(&body), field, "{body}");
        }
    }
}
