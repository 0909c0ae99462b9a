//! `GET /api/v1/views`: the views of a period, newest first, with their dimensions and
//! headline figures; `GET /api/v1/views/{view_id}`: one view, its metrics and its
//! timeline (raw events in time order, playback-state spans, bitrate steps).
//!
//! A view's `outcome` is one of `started`, `exit_before_start`, `start_failure`,
//! `playback_failure`, `starting` (requested, no first frame yet, still open) and
//! `no_attempt`. The list takes `limit` (50 by default, at most 500), `offset`, `sort`
//! (`start`, `startup_ms`, `rebuffer_ms`, `rebuffer_pct`, `score`, `watch_time_s`),
//! `order` and `outcome` (`started`, `exit_before_start`, `start_failure`,
//! `playback_failure`, `rebuffered`); `total` says how many views match.
//!
//! One view's `metrics` are [`player_wasm::qoe::ViewMetrics`] computed afresh from its raw
//! events (null once retention removed them; the headline figures stay).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use protocol::{Event, EventKind};
use serde_json::{Value as Json, json};

use super::csv::{Cell, Table};
use super::error::ApiError;
use super::kpi::{number, round};
use super::params::Format;
use super::time;
use super::timeline;
use super::{Api, Request, json_response};
use crate::store::{Rows, Value};

/// The columns a view row is read with, in the order [`ViewRow::read`] expects.
const VIEW_COLUMNS: &str = "view_id, session_id, video_id, video_title, player, player_version, \
     browser, os, page, custom, sample_rate, weight, first_seen_ms, last_seen_ms, client_dropped, \
     pruned, start_ms, end_ms, events, attempts, started, startup_count, startup_ms, \
     rebuffer_count, rebuffer_ms, playing_ms, watch_ms, played_bits, bitrate_ms, switches, \
     errors, failures, vsf, ebvs, ended, exited, seeks, scored_views, score_sum";

/// Sort keys of the list and their SQL.
const SORTS: [(&str, &str); 6] = [
    ("start", "start_ms"),
    (
        "startup_ms",
        "CASE WHEN startup_count = 1 THEN startup_ms ELSE NULL END",
    ),
    ("rebuffer_ms", "rebuffer_ms"),
    (
        "rebuffer_pct",
        "CASE WHEN watch_ms > 0 THEN 1.0 * rebuffer_ms / watch_ms ELSE NULL END",
    ),
    (
        "score",
        "CASE WHEN scored_views > 0 THEN score_sum ELSE NULL END",
    ),
    ("watch_time_s", "watch_ms"),
];

/// Outcome filters of the list and their SQL.
const OUTCOMES: [(&str, &str); 5] = [
    ("started", "started = 1 AND failures = 0"),
    ("exit_before_start", "ebvs = 1"),
    ("start_failure", "vsf = 1"),
    ("playback_failure", "failures = 1"),
    ("rebuffered", "rebuffer_count > 0"),
];

/// One row of `views`, read by column name.
struct ViewRow<'a> {
    rows: &'a Rows,
    index: usize,
}

impl ViewRow<'_> {
    fn text(&self, name: &str) -> String {
        self.rows
            .get(self.index, name)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn int(&self, name: &str) -> i64 {
        self.rows.get(self.index, name).as_i64().unwrap_or(0)
    }

    fn real(&self, name: &str) -> f64 {
        self.rows.get(self.index, name).as_f64().unwrap_or(0.0)
    }

    fn outcome(&self) -> &'static str {
        if self.int("vsf") == 1 {
            "start_failure"
        } else if self.int("failures") == 1 {
            "playback_failure"
        } else if self.int("ebvs") == 1 {
            "exit_before_start"
        } else if self.int("started") == 1 {
            "started"
        } else if self.int("attempts") == 1 {
            "starting"
        } else {
            "no_attempt"
        }
    }

    /// The headline figures, in the order of [`HEADLINE`].
    fn headline(&self) -> Vec<Option<f64>> {
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| round(a / b));
        let watch = self.int("watch_ms") as f64;
        vec![
            (self.int("startup_count") == 1).then(|| self.int("startup_ms") as f64),
            Some(watch / 1000.0),
            Some(self.int("playing_ms") as f64 / 1000.0),
            Some(self.int("rebuffer_count") as f64),
            Some(self.int("rebuffer_ms") as f64 / 1000.0),
            ratio(100.0 * self.int("rebuffer_ms") as f64, watch),
            ratio(
                self.int("played_bits") as f64,
                self.int("bitrate_ms") as f64 / 1000.0,
            ),
            Some(self.int("switches") as f64),
            Some(self.int("errors") as f64),
            ratio(
                self.int("score_sum") as f64 / 1000.0,
                self.int("scored_views") as f64,
            ),
        ]
    }

    fn json(&self) -> serde_json::Map<String, Json> {
        let mut object = serde_json::Map::new();
        for name in [
            "view_id",
            "session_id",
            "video_id",
            "video_title",
            "player",
            "player_version",
            "browser",
            "os",
            "page",
        ] {
            object.insert(name.into(), Json::from(self.text(name)));
        }
        let start = self.rows.get(self.index, "start_ms").as_i64();
        object.insert("start_ms".into(), start.map_or(Json::Null, Json::from));
        object.insert(
            "start_iso".into(),
            start.map_or(Json::Null, |t| Json::from(time::iso(t))),
        );
        object.insert(
            "end_ms".into(),
            self.rows
                .get(self.index, "end_ms")
                .as_i64()
                .map_or(Json::Null, Json::from),
        );
        object.insert("outcome".into(), Json::from(self.outcome()));
        object.insert("events".into(), Json::from(self.int("events")));
        object.insert("weight".into(), number(Some(self.real("weight"))));
        for (name, value) in HEADLINE.iter().zip(self.headline()) {
            object.insert(name.to_string(), number(value));
        }
        object
    }
}

/// The headline figures of a view row.
const HEADLINE: [&str; 10] = [
    "startup_ms",
    "watch_time_s",
    "playing_time_s",
    "rebuffer_count",
    "rebuffer_s",
    "rebuffer_pct",
    "avg_bitrate_bps",
    "switches",
    "errors",
    "score",
];

/// Dimension columns of the list's CSV.
const LIST_TEXT: [&str; 8] = [
    "view_id",
    "session_id",
    "video_id",
    "video_title",
    "player",
    "player_version",
    "browser",
    "os",
];

pub async fn list(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request = Request::new(&api, &headers, query.as_deref())?;
    let args = &request.args;
    args.only(true, &["limit", "offset", "sort", "order", "outcome"])?;
    let scope = args.scope(&request.property, request.now_ms)?;
    let limit = args.integer("limit", 50, 1, 500)?;
    let offset = args.integer("offset", 0, 0, 10_000_000)?;
    let sort_names: Vec<&str> = SORTS.iter().map(|(n, _)| *n).collect();
    let sort = args.choice("sort", "start", &sort_names)?;
    let order = args.choice("order", "desc", &["asc", "desc"])?;
    let outcome_names: Vec<&str> = OUTCOMES.iter().map(|(n, _)| *n).collect();
    let outcome = args
        .get("outcome")
        .map(|_| args.choice("outcome", "", &outcome_names))
        .transpose()?;

    let mut params = Vec::new();
    let mut condition = scope.condition("", &mut params);
    if let Some(outcome) = outcome {
        let sql = OUTCOMES
            .iter()
            .find(|(n, _)| *n == outcome)
            .map_or("1 = 1", |(_, sql)| sql);
        condition.push_str(&format!(" AND {sql}"));
    }
    let sort_sql = SORTS
        .iter()
        .find(|(n, _)| *n == sort)
        .map_or("start_ms", |(_, sql)| sql);
    let direction = if order == "asc" { "ASC" } else { "DESC" };
    let count_sql = format!("SELECT COUNT(*) FROM views WHERE {condition}");
    let mut page_params = params.clone();
    page_params.push(Value::Int(limit));
    page_params.push(Value::Int(offset));
    let order_sql = if sort == "start" {
        // Every view in scope has a start, and `minute_ms` is its start's minute: the same
        // order, which the index on (property, minute_ms) serves, so a page of the newest
        // views reads those views only instead of sorting the whole period.
        format!("minute_ms {direction}, start_ms {direction}, view_id {direction}")
    } else {
        format!("({sort_sql}) IS NULL, {sort_sql} {direction}, view_id {direction}")
    };
    let page_sql = format!(
        "SELECT {VIEW_COLUMNS} FROM views WHERE {condition} ORDER BY {order_sql} \
         LIMIT ${} OFFSET ${}",
        page_params.len() - 1,
        page_params.len()
    );
    let (count, rows) = tokio::try_join!(
        api.store.query(&count_sql, &params),
        api.store.query(&page_sql, &page_params)
    )?;
    let total = count
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let views: Vec<ViewRow> = (0..rows.rows.len())
        .map(|index| ViewRow { rows: &rows, index })
        .collect();

    if request.format == Format::Csv {
        let mut header: Vec<&str> = LIST_TEXT.to_vec();
        header.extend(["start", "start_ms", "outcome"]);
        header.extend(HEADLINE);
        let mut table = Table::new(header);
        for view in &views {
            let mut cells: Vec<Cell> = LIST_TEXT.iter().map(|n| Cell::from(view.text(n))).collect();
            let start = view.int("start_ms");
            cells.push(Cell::from(time::iso(start)));
            cells.push(Cell::from(start));
            cells.push(Cell::from(view.outcome()));
            cells.extend(view.headline().into_iter().map(Cell::from));
            table.rows.push(cells);
        }
        return Ok(table.into_response("views"));
    }
    let list: Vec<Json> = views.iter().map(|v| Json::Object(v.json())).collect();
    Ok(json_response(json!({
        "property": request.property,
        "period": scope.period_json(),
        "filters": scope.filters_json(),
        "sort": sort,
        "order": order,
        "outcome": outcome,
        "limit": limit,
        "offset": offset,
        "total": total,
        "views": list,
    })))
}

/// The bitrate on screen over time: level switches, or heartbeats' bitrate without any.
fn bitrate_steps(events: &[&Event]) -> Vec<Json> {
    let switches: Vec<Json> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Levelswitch {
                to,
                bitrate,
                height,
                reason,
                ..
            } => Some(json!({
                "t": e.t, "level": to, "bitrate": bitrate, "height": height,
                "reason": reason,
            })),
            _ => None,
        })
        .collect();
    if !switches.is_empty() {
        return switches;
    }
    let mut steps = Vec::new();
    let mut last = None;
    for e in events {
        if let EventKind::Heartbeat {
            bitrate: Some(b), ..
        } = &e.kind
            && last != Some(*b)
        {
            last = Some(*b);
            steps.push(
                json!({"t": e.t, "level": null, "bitrate": b, "height": null, "reason": null}),
            );
        }
    }
    steps
}

pub async fn one(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(view_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request = Request::new(&api, &headers, query.as_deref())?;
    request.args.only(false, &[])?;
    if view_id.is_empty()
        || view_id.len() > protocol::beacon::MAX_ID_LEN
        || view_id.chars().any(char::is_control)
    {
        return Err(ApiError::bad(
            "view_id",
            "must be 1 to 128 characters, none of them control characters",
        ));
    }
    let key = [
        Value::from(request.property.as_str()),
        Value::from(view_id.as_str()),
    ];
    let view_sql = format!("SELECT {VIEW_COLUMNS} FROM views WHERE property = $1 AND view_id = $2");
    let (rows, stored) = tokio::try_join!(
        api.store.query(&view_sql, &key),
        api.store.query(
            "SELECT seq, idx, t_ms, payload FROM events WHERE property = $1 AND view_id = $2 \
             ORDER BY t_ms, seq, idx",
            &key,
        )
    )?;
    if rows.rows.is_empty() {
        return Err(ApiError::ViewNotFound(view_id));
    }
    let view = ViewRow {
        rows: &rows,
        index: 0,
    };
    let mut events: Vec<Event> = Vec::with_capacity(stored.rows.len());
    let mut raw: Vec<Json> = Vec::with_capacity(stored.rows.len());
    for row in &stored.rows {
        let Some(payload) = row.get(3).and_then(Value::as_str) else {
            continue;
        };
        if let (Ok(event), Ok(json)) = (
            serde_json::from_str::<Event>(payload),
            serde_json::from_str::<Json>(payload),
        ) {
            events.push(event);
            raw.push(json);
        }
    }
    let start = events.iter().map(|e| e.t).fold(f64::INFINITY, f64::min);
    let end = events.iter().map(|e| e.t).fold(f64::NEG_INFINITY, f64::max);
    if request.format == Format::Csv {
        let mut table = Table::new(["time", "t_ms", "offset_ms", "type", "pt", "details"]);
        for (event, json) in events.iter().zip(&raw) {
            let mut details = json.as_object().cloned().unwrap_or_default();
            for field in ["t", "pt", "type"] {
                details.remove(field);
            }
            table.rows.push(vec![
                Cell::from(time::iso(event.t.round() as i64)),
                Cell::from(event.t),
                Cell::from(event.t - start),
                Cell::from(event.kind.name()),
                Cell::from(event.pt),
                Cell::from(if details.is_empty() {
                    String::new()
                } else {
                    Json::Object(details).to_string()
                }),
            ]);
        }
        return Ok(table.into_response(&format!("view-{}", safe_name(&view_id))));
    }
    let mut summary = view.json();
    let custom: BTreeMap<String, String> =
        serde_json::from_str(&view.text("custom")).unwrap_or_default();
    summary.insert("custom".into(), json!(custom));
    summary.insert("sample_rate".into(), number(Some(view.real("sample_rate"))));
    summary.insert("first_seen_ms".into(), json!(view.int("first_seen_ms")));
    summary.insert("last_seen_ms".into(), json!(view.int("last_seen_ms")));
    summary.insert("client_dropped".into(), json!(view.int("client_dropped")));
    summary.insert("seeks".into(), json!(view.int("seeks")));
    let kept = view.int("pruned") == 0;
    summary.insert("raw_events_kept".into(), json!(kept));
    let ordered = timeline::ordered(&events);
    let walk = timeline::walk(&events);
    let timeline_events: Vec<Json> = events
        .iter()
        .zip(raw)
        .map(|(event, mut json)| {
            if let Some(object) = json.as_object_mut() {
                object.insert("offset_ms".into(), number(Some(event.t - start)));
            }
            json
        })
        .collect();
    let metrics = (!events.is_empty()).then(|| player_wasm::qoe::view_metrics(&events));
    Ok(json_response(json!({
        "property": request.property,
        "view": summary,
        "metrics": metrics,
        "timeline": {
            "start_ms": if events.is_empty() { Json::Null } else { number(Some(start)) },
            "end_ms": if events.is_empty() { Json::Null } else { number(Some(end)) },
            "events": timeline_events,
            "spans": walk.spans,
            "bitrate": bitrate_steps(&ordered),
        },
    })))
}

/// A view id reduced to characters safe in a file name.
fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
