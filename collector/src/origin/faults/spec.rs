//! The fault spec of `/faults/{spec}/{path}`: comma-separated options, parsed strictly.
//!
//! | option | value | effect |
//! |---|---|---|
//! | `status=CODE` | 400–599 | answer with that status and a short text body instead of the file |
//! | `delay=DURATION` | `500ms`, `2s`, `1.5s` (≤ 300 s) | wait that long before sending the headers |
//! | `stall=DURATION` | as `delay` | pause the body for that long, after `at` of it |
//! | `at=FRACTION` | 0 ≤ x < 1, default 0 | where the stall happens (0: before the first body byte); needs `stall` |
//! | `truncate=FRACTION` | 0 ≤ x < 1 | send only that fraction of the body, then abort the connection |
//! | `reset` | none | drop the connection without a response |
//! | `p=PROBABILITY` | 0 ≤ x ≤ 1, default 1 | chance that a request is affected |
//! | `match=TEXT` | any text without `,` | only paths containing `TEXT` are affected |
//! | `seed=N` | unsigned 64-bit integer | makes the `p` draws reproducible |
//!
//! Offsets are `floor(fraction × body length)` of the body actually sent (the range for a
//! range request, the short text for `status`); a stall placed after the cut never happens.
//! At least one effect (`status`, `delay`, `stall`, `truncate`, `reset`) is required;
//! `reset` combines only with `delay`, `p`, `match` and `seed`. Numbers are plain decimals
//! (no sign, exponent, `inf` or `nan`). Unknown options, repeats, bad or out-of-range values
//! are refused with a [`SpecError`] that names the option.

use std::fmt;
use std::time::Duration;

/// Longest spec accepted, in bytes (after percent-decoding).
pub const MAX_SPEC_LEN: usize = 512;

/// Longest `delay` or `stall`.
pub const MAX_DURATION: Duration = Duration::from_secs(300);

/// The options known, for error messages.
const KNOWN: &str = "status, p, match, stall, at, truncate, reset, delay, seed";

/// A parsed fault spec.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// `status=`: the status answered instead of the file.
    pub status: Option<u16>,
    /// `p=`: probability that a request is affected.
    pub p: f64,
    /// `match=`: only paths containing this are affected.
    pub matches: Option<String>,
    /// `stall=`: pause of the body.
    pub stall: Option<Duration>,
    /// `at=`: fraction of the body sent before the stall.
    pub at: f64,
    /// `truncate=`: fraction of the body sent before the connection is aborted.
    pub truncate: Option<f64>,
    /// `reset`: no response at all.
    pub reset: bool,
    /// `delay=`: wait before the headers.
    pub delay: Option<Duration>,
    /// `seed=`: seed of the `p` draws.
    pub seed: Option<u64>,
}

/// Why a fault spec was refused. Every variant about an option names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("the fault spec is empty (try `status=500` or `stall=2s,at=0.5`)")]
    Empty,
    #[error("the fault spec is longer than {MAX_SPEC_LEN} bytes")]
    TooLong,
    #[error("the fault spec is not UTF-8 once percent-decoded")]
    NotUtf8,
    #[error("the fault spec has an empty option (two commas in a row, or one at an end)")]
    EmptyOption,
    #[error("option `{0}` is unknown (known: {KNOWN})")]
    Unknown(String),
    #[error("option `{0}` is given twice")]
    Repeated(&'static str),
    #[error("option `{0}` needs a value (`{0}=…`)")]
    MissingValue(&'static str),
    #[error("option `{0}` takes no value")]
    UnexpectedValue(&'static str),
    #[error("option `{option}`: {value:?} is not {expected}")]
    BadValue {
        option: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("option `{0}` only applies together with `{1}`")]
    Requires(&'static str, &'static str),
    #[error("options `{0}` and `{1}` cannot be combined")]
    Conflict(&'static str, &'static str),
    #[error("no fault to inject: give status, delay, stall, truncate or reset")]
    NoEffect,
}

/// A prefix of user text short enough to quote in an error.
fn quoted_part(text: &str) -> String {
    const MAX: usize = 40;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl FaultSpec {
    /// Parses a (percent-decoded) spec.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        if text.is_empty() {
            return Err(SpecError::Empty);
        }
        if text.len() > MAX_SPEC_LEN {
            return Err(SpecError::TooLong);
        }
        let mut spec = FaultSpec {
            status: None,
            p: 1.0,
            matches: None,
            stall: None,
            at: 0.0,
            truncate: None,
            reset: false,
            delay: None,
            seed: None,
        };
        let mut seen: Vec<&'static str> = Vec::new();
        for item in text.split(',') {
            if item.is_empty() {
                return Err(SpecError::EmptyOption);
            }
            let (key, value) = match item.split_once('=') {
                Some((key, value)) => (key, Some(value)),
                None => (item, None),
            };
            let option = canonical_key(key)?;
            if seen.contains(&option) {
                return Err(SpecError::Repeated(option));
            }
            seen.push(option);
            if option == "reset" {
                if value.is_some() {
                    return Err(SpecError::UnexpectedValue(option));
                }
                spec.reset = true;
                continue;
            }
            let value = value.ok_or(SpecError::MissingValue(option))?;
            match option {
                "status" => spec.status = Some(status(value)?),
                "p" => spec.p = fraction(option, value, true)?,
                "match" if value.is_empty() => {
                    return Err(bad(option, value, "a non-empty text"));
                }
                "match" => spec.matches = Some(value.to_string()),
                "stall" => spec.stall = Some(duration(option, value)?),
                "at" => spec.at = fraction(option, value, false)?,
                "truncate" => spec.truncate = Some(fraction(option, value, false)?),
                "delay" => spec.delay = Some(duration(option, value)?),
                _ => spec.seed = Some(seed(value)?),
            }
        }
        if seen.contains(&"at") && spec.stall.is_none() {
            return Err(SpecError::Requires("at", "stall"));
        }
        if spec.reset {
            for other in ["status", "stall", "truncate"] {
                if seen.contains(&other) {
                    return Err(SpecError::Conflict("reset", other));
                }
            }
        }
        if !spec.has_effect() {
            return Err(SpecError::NoEffect);
        }
        Ok(spec)
    }

    fn has_effect(&self) -> bool {
        self.status.is_some()
            || self.stall.is_some()
            || self.truncate.is_some()
            || self.reset
            || self.delay.is_some()
    }

    /// Whether requests for `path` may be affected (the `match` filter).
    pub fn applies_to(&self, path: &str) -> bool {
        self.matches
            .as_deref()
            .is_none_or(|needle| path.contains(needle))
    }
}

/// The spec in one fixed order, so that equivalent specs share their draws.
impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(status) = self.status {
            parts.push(format!("status={status}"));
        }
        if self.p != 1.0 {
            parts.push(format!("p={}", self.p));
        }
        if let Some(needle) = &self.matches {
            parts.push(format!("match={needle}"));
        }
        if let Some(stall) = self.stall {
            parts.push(format!("stall={}s", stall.as_secs_f64()));
            if self.at != 0.0 {
                parts.push(format!("at={}", self.at));
            }
        }
        if let Some(truncate) = self.truncate {
            parts.push(format!("truncate={truncate}"));
        }
        if self.reset {
            parts.push("reset".to_string());
        }
        if let Some(delay) = self.delay {
            parts.push(format!("delay={}s", delay.as_secs_f64()));
        }
        if let Some(seed) = self.seed {
            parts.push(format!("seed={seed}"));
        }
        f.write_str(&parts.join(","))
    }
}

fn canonical_key(key: &str) -> Result<&'static str, SpecError> {
    Ok(match key {
        "status" => "status",
        "p" => "p",
        "match" => "match",
        "stall" => "stall",
        "at" => "at",
        "truncate" => "truncate",
        "reset" => "reset",
        "delay" => "delay",
        "seed" => "seed",
        other => {
            return Err(SpecError::Unknown(
                quoted_part(other).escape_debug().to_string(),
            ));
        }
    })
}

fn bad(option: &'static str, value: &str, expected: &'static str) -> SpecError {
    SpecError::BadValue {
        option,
        value: quoted_part(value),
        expected,
    }
}

/// Digits, optionally a `.` and more digits (at least one digit in all).
fn is_plain_decimal(text: &str) -> bool {
    let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
    text.len() <= 24
        && !(whole.is_empty() && decimals.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && decimals.bytes().all(|b| b.is_ascii_digit())
}

fn status(value: &str) -> Result<u16, SpecError> {
    const EXPECTED: &str = "an HTTP error status from 400 to 599";
    if value.is_empty() || value.len() > 3 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("status", value, EXPECTED));
    }
    value
        .parse::<u16>()
        .ok()
        .filter(|code| (400..=599).contains(code))
        .ok_or_else(|| bad("status", value, EXPECTED))
}

/// A number in `[0, 1]` (`inclusive_one`) or `[0, 1)`.
fn fraction(option: &'static str, value: &str, inclusive_one: bool) -> Result<f64, SpecError> {
    let expected = if inclusive_one {
        "a number from 0 to 1"
    } else {
        "a number from 0 up to (not including) 1"
    };
    if !is_plain_decimal(value) {
        return Err(bad(option, value, expected));
    }
    value
        .parse::<f64>()
        .ok()
        .filter(|x| *x >= 0.0 && (*x < 1.0 || (inclusive_one && *x == 1.0)))
        .ok_or_else(|| bad(option, value, expected))
}

fn duration(option: &'static str, value: &str) -> Result<Duration, SpecError> {
    const EXPECTED: &str = "a duration such as 500ms or 2s (at most 300s)";
    let (number, unit_seconds) = if let Some(number) = value.strip_suffix("ms") {
        (number, 0.001)
    } else if let Some(number) = value.strip_suffix('s') {
        (number, 1.0)
    } else {
        return Err(bad(option, value, EXPECTED));
    };
    if !is_plain_decimal(number) {
        return Err(bad(option, value, EXPECTED));
    }
    number
        .parse::<f64>()
        .ok()
        .map(|n| n * unit_seconds)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s <= MAX_DURATION.as_secs_f64())
        .map(Duration::from_secs_f64)
        .ok_or_else(|| bad(option, value, EXPECTED))
}

fn seed(value: &str) -> Result<u64, SpecError> {
    const EXPECTED: &str = "an unsigned 64-bit integer";
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("seed", value, EXPECTED));
    }
    value.parse().map_err(|_| bad("seed", value, EXPECTED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_combine() {
        let spec = FaultSpec::parse("stall=2s,truncate=0.5,at=0.25").unwrap();
        assert_eq!(spec.stall, Some(Duration::from_secs(2)));
        assert_eq!(spec.truncate, Some(0.5));
        assert_eq!(spec.at, 0.25);
        assert_eq!(spec.p, 1.0);
        let spec = FaultSpec::parse("status=503,p=0.2,match=seg_003,seed=42,delay=500ms").unwrap();
        assert_eq!(spec.status, Some(503));
        assert_eq!(spec.p, 0.2);
        assert_eq!(spec.seed, Some(42));
        assert_eq!(spec.delay, Some(Duration::from_millis(500)));
        assert!(spec.applies_to("ladder/v0/seg_003.m4s"));
        assert!(!spec.applies_to("ladder/v0/seg_004.m4s"));
        assert!(FaultSpec::parse("reset").unwrap().reset);
        assert!(FaultSpec::parse("reset,p=0.5,seed=1,delay=1.5s").is_ok());
        assert_eq!(
            FaultSpec::parse("stall=.5s").unwrap().stall,
            Some(Duration::from_millis(500))
        );
        assert!(FaultSpec::parse("match=a=b,status=500").is_ok());
    }

    #[test]
    fn equivalent_specs_print_the_same() {
        let a = FaultSpec::parse("seed=7,p=0.20,status=500").unwrap();
        let b = FaultSpec::parse("status=500,p=0.2,seed=7").unwrap();
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(a.to_string(), "status=500,p=0.2,seed=7");
    }

    #[test]
    fn errors_name_the_option() {
        let cases: &[(&str, &str)] = &[
            ("status=99", "`status`"),
            ("status=600", "`status`"),
            ("status=5000", "`status`"),
            ("status=", "`status`"),
            ("status", "`status`"),
            ("p=2", "`p`"),
            ("p=-0.1,status=500", "`p`"),
            ("p=nan,status=500", "`p`"),
            ("p=1e-3,status=500", "`p`"),
            ("stall=xs", "`stall`"),
            ("stall=5", "`stall`"),
            ("stall=301s", "`stall`"),
            ("stall=99999999999999999999999s", "`stall`"),
            ("delay=infs", "`delay`"),
            ("truncate=1", "`truncate`"),
            ("truncate=0.5.5", "`truncate`"),
            ("at=0.5", "`at`"),
            ("stall=1s,at=1", "`at`"),
            ("unknown=1", "`unknown`"),
            ("reset=1", "`reset`"),
            ("reset,status=500", "`reset`"),
            ("status=500,status=501", "`status`"),
            ("seed=18446744073709551616,status=500", "`seed`"),
            ("seed=-1,status=500", "`seed`"),
            ("match=,status=500", "`match`"),
        ];
        for (text, needle) in cases {
            let error = FaultSpec::parse(text).expect_err(text).to_string();
            assert!(error.contains(needle), "{text}: {error}");
        }
        assert_eq!(FaultSpec::parse(""), Err(SpecError::Empty));
        assert_eq!(FaultSpec::parse("status=500,"), Err(SpecError::EmptyOption));
        assert_eq!(FaultSpec::parse("p=0.5,seed=1"), Err(SpecError::NoEffect));
        assert_eq!(FaultSpec::parse(&"x".repeat(600)), Err(SpecError::TooLong));
        let long_key = format!("{}=1", "k".repeat(100));
        assert!(FaultSpec::parse(&long_key).unwrap_err().to_string().len() < 200);
        assert!(FaultSpec::parse("\u{0}\u{ff}é=\u{7f}").is_err());
    }
}
