//! Query parameters: parsed once, each checked, and any parameter an endpoint does not
//! know refused (a typo must not silently widen a query).
//!
//! Common to the data endpoints: `from`, `to` ([`super::time::parse_time`]; default the
//! last 24 hours), `video`, `player`, `browser`, `os` (exact matches), `token` and
//! `format` (`json` or `csv`).
//!
//! A view belongs to the minute it started in, so a period is a whole number of minutes:
//! `from` is rounded down and `to` up to the minute, and the period is `[from, to)`.

use std::collections::HashSet;

use serde_json::{Value as Json, json};

use super::error::ApiError;
use super::time::{self, DAY_MS, MINUTE_MS};
use crate::store::Value;

/// The default period: the last 24 hours.
pub const DEFAULT_SPAN_MS: i64 = DAY_MS;
/// The longest period a query may cover.
pub const MAX_SPAN_MS: i64 = 3_660 * DAY_MS;
/// Longest dimension value accepted in a filter (the beacons' own limit).
pub const MAX_VALUE_LEN: usize = protocol::beacon::MAX_TEXT_LEN;

/// Parameters every data endpoint accepts.
pub const COMMON: [&str; 8] = [
    "token", "format", "from", "to", "video", "player", "browser", "os",
];

/// The parsed query string.
#[derive(Debug, Default)]
pub struct Args {
    pairs: Vec<(String, String)>,
}

impl Args {
    /// Parses `a=1&b=2` (percent- and `+`-decoded); a parameter given twice is refused.
    pub fn parse(query: Option<&str>) -> Result<Args, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if name.is_empty() {
                continue;
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(ApiError::bad(name, "given more than once"));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Args { pairs })
    }

    /// Refuses any parameter outside `known` (and [`COMMON`] when `common`).
    pub fn only(&self, common: bool, known: &[&str]) -> Result<(), ApiError> {
        for (name, _) in &self.pairs {
            let allowed = known.contains(&name.as_str())
                || (common && COMMON.contains(&name.as_str()))
                || name == "token"
                || name == "format";
            if !allowed {
                let mut all: Vec<&str> = known.to_vec();
                if common {
                    all.extend(COMMON);
                } else {
                    all.extend(["token", "format"]);
                }
                return Err(ApiError::bad(
                    name.as_str(),
                    format!(
                        "unknown parameter for this endpoint (known: {})",
                        all.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A whole number in `min..=max`, `default` when absent.
    pub fn integer(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        let value: i64 = text
            .trim()
            .parse()
            .map_err(|_| ApiError::bad(name, format!("expected a whole number, got {text:?}")))?;
        if !(min..=max).contains(&value) {
            return Err(ApiError::bad(
                name,
                format!("must be from {min} to {max}, got {value}"),
            ));
        }
        Ok(value)
    }

    /// One of `choices`, `default` when absent.
    pub fn choice<'a>(
        &self,
        name: &str,
        default: &'a str,
        choices: &[&'a str],
    ) -> Result<&'a str, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        choices.iter().copied().find(|c| *c == text).ok_or_else(|| {
            ApiError::bad(
                name,
                format!("{text:?} is not one of: {}", choices.join(", ")),
            )
        })
    }

    /// The output format: `format=csv|json`, else CSV when `Accept` asks for `text/csv`.
    pub fn format(&self, accept: Option<&str>) -> Result<Format, ApiError> {
        match self.get("format") {
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(ApiError::bad(
                "format",
                format!("{other:?} is not one of: json, csv"),
            )),
            None if accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/csv")) => {
                Ok(Format::Csv)
            }
            None => Ok(Format::Json),
        }
    }

    /// The period and filters (`from`, `to`, `video`, `player`, `browser`, `os`).
    pub fn scope(&self, property: &str, now_ms: i64) -> Result<Scope, ApiError> {
        let time = |name: &str| -> Result<Option<i64>, ApiError> {
            self.get(name)
                .map(|text| time::parse_time(text, now_ms).map_err(|m| ApiError::bad(name, m)))
                .transpose()
        };
        let to = time("to")?.unwrap_or(now_ms);
        let to = (to + MINUTE_MS - 1).div_euclid(MINUTE_MS) * MINUTE_MS;
        let from = time("from")?.unwrap_or(to - DEFAULT_SPAN_MS);
        let from = from.div_euclid(MINUTE_MS) * MINUTE_MS;
        if from >= to {
            return Err(ApiError::bad(
                "from",
                format!(
                    "the period is empty: from ({}) must be before to ({})",
                    time::iso(from),
                    time::iso(to)
                ),
            ));
        }
        if to - from > MAX_SPAN_MS {
            return Err(ApiError::bad(
                "from",
                format!("the period is longer than {} days", MAX_SPAN_MS / DAY_MS),
            ));
        }
        let mut filters = Vec::new();
        for (name, column) in FILTERS {
            if let Some(value) = self.get(name) {
                if value.len() > MAX_VALUE_LEN {
                    return Err(ApiError::bad(
                        name,
                        format!("longer than {MAX_VALUE_LEN} bytes"),
                    ));
                }
                filters.push((name, column, value.to_string()));
            }
        }
        Ok(Scope {
            property: property.to_string(),
            from,
            to,
            filters,
        })
    }
}

/// Filter parameters and the column each matches (in `views` and `rollup_minute`).
pub const FILTERS: [(&str, &str); 4] = [
    ("video", "video_id"),
    ("player", "player"),
    ("browser", "browser"),
    ("os", "os"),
];

/// JSON (the default) or CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Which views a query covers: one property, a period of whole minutes, exact filters.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub property: String,
    /// `[from, to)`, ms since the epoch, whole minutes.
    pub from: i64,
    pub to: i64,
    /// (parameter, column, value)
    pub filters: Vec<(&'static str, &'static str, String)>,
}

impl Scope {
    /// The period of the same length just before this one, same filters.
    pub fn previous(&self) -> Scope {
        let span = self.to - self.from;
        Scope {
            from: self.from - span,
            to: self.from,
            ..self.clone()
        }
    }

    /// The SQL condition for this scope over a table with `property`, `minute_ms` and the
    /// dimension columns (`prefix` names the table, e.g. `v.`), appending its parameters
    /// to `params` (placeholders continue their numbering).
    pub fn condition(&self, prefix: &str, params: &mut Vec<Value>) -> String {
        let mut next = |value: Value| {
            params.push(value);
            format!("${}", params.len())
        };
        let mut sql = format!(
            "{prefix}property = {} AND {prefix}minute_ms >= {} AND {prefix}minute_ms < {}",
            next(Value::from(self.property.as_str())),
            next(Value::Int(self.from)),
            next(Value::Int(self.to)),
        );
        for (_, column, value) in &self.filters {
            sql.push_str(&format!(
                " AND {prefix}{column} = {}",
                next(Value::from(value.as_str()))
            ));
        }
        sql
    }

    /// The period as JSON: `{"from":…,"to":…,"from_iso":…,"to_iso":…}`.
    pub fn period_json(&self) -> Json {
        json!({
            "from": self.from,
            "to": self.to,
            "from_iso": time::iso(self.from),
            "to_iso": time::iso(self.to),
        })
    }

    /// The filters as JSON: `{"video":"movie"}`.
    pub fn filters_json(&self) -> Json {
        let map: serde_json::Map<String, Json> = self
            .filters
            .iter()
            .map(|(name, _, value)| (name.to_string(), Json::from(value.as_str())))
            .collect();
        Json::Object(map)
    }
}

/// A custom dimension name (`custom.NAME`): the beacons' identifier rules.
pub fn custom_name(parameter: &str, name: &str) -> Result<String, ApiError> {
    if name.is_empty()
        || name.len() > protocol::beacon::MAX_ID_LEN
        || !name.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::bad(
            parameter,
            format!("custom dimension name {name:?} must be 1 to 128 printable ASCII characters"),
        ));
    }
    Ok(name.to_string())
}

/// Names from a comma-separated list, each one of `known`, without repeats; `all` (or
/// nothing) for every one.
pub fn names<'a>(
    parameter: &str,
    text: Option<&str>,
    known: &[&'a str],
) -> Result<Vec<&'a str>, ApiError> {
    let text = text.unwrap_or("all").trim();
    if text == "all" || text.is_empty() {
        return Ok(known.to_vec());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim) {
        let found = known.iter().copied().find(|k| *k == name).ok_or_else(|| {
            ApiError::bad(
                parameter,
                format!("{name:?} is not one of: all, {}", known.join(", ")),
            )
        })?;
        if seen.insert(found) {
            out.push(found);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_030_000; // 16:00:30

    fn args(query: &str) -> Args {
        Args::parse(Some(query)).unwrap()
    }

    #[test]
    fn default_period_is_the_last_day_in_whole_minutes() {
        let scope = args("").scope("demo", NOW).unwrap();
        assert_eq!(scope.to, 1_764_000_060_000);
        assert_eq!(scope.to - scope.from, DAY_MS);
        let previous = scope.previous();
        assert_eq!(
            (previous.from, previous.to),
            (scope.from - DAY_MS, scope.from)
        );
    }

    #[test]
    fn conditions_number_their_placeholders() {
        let scope = args("from=2025-11-24T15:00:10Z&to=-0m&video=movie&os=Linux")
            .scope("demo", NOW)
            .unwrap();
        assert_eq!(scope.from, 1_764_000_000_000 - 3_600_000);
        let mut params = vec![Value::Int(7)];
        let sql = scope.condition("v.", &mut params);
        assert_eq!(
            sql,
            "v.property = $2 AND v.minute_ms >= $3 AND v.minute_ms < $4 \
             AND v.video_id = $5 AND v.os = $6"
        );
        assert_eq!(params.len(), 6);
        assert_eq!(params[4], Value::from("movie"));
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            ("from=yesterday", "from"),
            ("to=2025-13-01", "to"),
            ("from=2025-11-25&to=2025-11-24", "from"),
            ("from=2000-01-01&to=2025-01-01", "from"),
        ];
        for (query, parameter) in cases {
            match args(query).scope("demo", NOW) {
                Err(ApiError::BadParameter { parameter: p, .. }) => assert_eq!(p, parameter),
                other => panic!("{query}: {other:?}"),
            }
        }
        assert!(matches!(
            Args::parse(Some("video=a&video=b")),
            Err(ApiError::BadParameter { parameter, .. }) if parameter == "video"
        ));
        assert!(matches!(
            args("vidoe=a").only(true, &[]),
            Err(ApiError::BadParameter { parameter, .. }) if parameter == "vidoe"
        ));
        assert!(
            args("video=a&token=t&format=csv&limit=3")
                .only(true, &["limit"])
                .is_ok()
        );
        assert!(args("limit=0").integer("limit", 50, 1, 100).is_err());
        assert!(args("limit=x").integer("limit", 50, 1, 100).is_err());
        assert_eq!(args("").integer("limit", 50, 1, 100).unwrap(), 50);
        assert!(args("format=xml").format(None).is_err());
        assert_eq!(args("").format(Some("text/csv")).unwrap(), Format::Csv);
        assert_eq!(
            names(
                "metric",
                Some("views, score,views"),
                &["views", "score", "x"]
            )
            .unwrap(),
            vec!["views", "score"]
        );
        assert!(names("metric", Some("nope"), &["views"]).is_err());
        assert!(custom_name("by", "plan").is_ok());
        assert!(custom_name("by", "").is_err());
    }
}
