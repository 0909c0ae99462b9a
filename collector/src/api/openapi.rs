//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the API, built here with
//! `serde_json` from the same lists the endpoints use (metric names, sort keys, limits),
//! so it cannot drift from them. A test requests every path it documents.

use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::breakdown::{MAX_VIEWS_READ, MAX_VIEWS_WALKED, SHARES};
use super::json_response;
use super::kpi::{DEFINITIONS, EXACT_PERCENTILE_LIMIT};
use super::params::Args;
use super::timeseries::MAX_POINTS;

/// The paths documented (OpenAPI templates).
pub const PATHS: [&str; 7] = [
    "/api/v1/overview",
    "/api/v1/timeseries",
    "/api/v1/breakdown",
    "/api/v1/views",
    "/api/v1/views/{view_id}",
    "/api/v1/definitions",
    "/api/v1/openapi.json",
];

fn parameter(name: &str) -> Json {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn common() -> Vec<Json> {
    ["from", "to", "video", "player", "browser", "os", "format"]
        .iter()
        .map(|n| parameter(n))
        .collect()
}

fn query(name: &str, description: &str, schema: Json) -> Json {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn responses(schema: &str, csv: bool) -> Json {
    let mut content = json!({
        "application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}
    });
    if csv {
        content["text/csv"] = json!({"schema": {"type": "string"}});
    }
    json!({
        "200": {"description": "OK", "content": content},
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
    })
}

/// Kpis: one property per metric, with its unit and definition.
fn kpis_schema() -> Json {
    let properties: serde_json::Map<String, Json> = DEFINITIONS
        .iter()
        .map(|d| {
            (
                d.name.to_string(),
                json!({
                    "type": ["number", "null"],
                    "description": format!("{} ({}; {} is better). {}", d.title, d.unit,
                        match d.better {
                            super::kpi::Better::Higher => "higher",
                            super::kpi::Better::Lower => "lower",
                            super::kpi::Better::Neutral => "neither",
                        }, d.definition),
                }),
            )
        })
        .collect();
    json!({
        "type": "object",
        "description": "Figures of a set of views; null where undefined (no attempts, no watch time, no startups).",
        "properties": properties,
        "required": DEFINITIONS.iter().map(|d| d.name).collect::<Vec<_>>(),
    })
}

/// The whole document.
pub fn document() -> Json {
    let metric_names: Vec<&str> = DEFINITIONS.iter().map(|d| d.name).collect();
    let mut sorts = vec!["impact", "value"];
    sorts.extend(SHARES);
    sorts.extend(metric_names.iter().copied());
    let mut row_schema = kpis_schema();
    if let Some(properties) = row_schema["properties"].as_object_mut() {
        properties.insert("value".into(), json!({"type": "string", "description": "The dimension's value (\"\" when views did not carry it)."}));
        properties.insert("label".into(), json!({"type": ["string", "null"], "description": "A name for people (a video's title)."}));
        properties.insert(
            "impact_pct".into(),
            json!({"type": ["number", "null"], "description": "The share chosen by `impact`."}),
        );
        for share in SHARES {
            properties.insert(share.into(), json!({"type": ["number", "null"], "description": "Percent of the scope's total this row accounts for."}));
        }
    }
    let period = json!({"$ref": "#/components/schemas/Period"});
    let filters = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let paths = json!({
            "/api/v1/overview": {"get": {
                "summary": "KPIs of a period and of the period of the same length before it",
                "operationId": "overview",
                "parameters": common(),
                "responses": responses("Overview", true),
            }},
            "/api/v1/timeseries": {"get": {
                "summary": "KPIs per time bucket (UTC), every bucket of the period present",
                "operationId": "timeseries",
                "parameters": common().into_iter().chain([
                    query("metric", "Comma-separated metric names, or all.", json!({"type": "string", "default": "all", "examples": ["views,rebuffer_pct"]})),
                    query("interval", &format!("Bucket size; auto: minutes up to 6 h, hours up to 7 days, else days. At most {MAX_POINTS} buckets."), json!({"type": "string", "enum": ["auto", "minute", "hour", "day"], "default": "auto"})),
                ]).collect::<Vec<_>>(),
                "responses": responses("Timeseries", true),
            }},
            "/api/v1/breakdown": {"get": {
                "summary": "KPIs per value of a dimension, with impact shares, sorted",
                "operationId": "breakdown",
                "parameters": common().into_iter().chain([
                    json!({"name": "by", "in": "query", "required": true,
                        "description": format!("video, player, browser and os come from the per-minute rollups; custom.NAME reads each view (at most {MAX_VIEWS_READ}); rendition reads each view's raw events (at most {MAX_VIEWS_WALKED})."),
                        "schema": {"type": "string", "pattern": "^(video|player|browser|os|rendition|custom\\.[!-~]{1,128})$"}}),
                    query("impact", "Which share impact_pct is: lost score points, rebuffer time or failed views (rendition: rebuffer only).", json!({"type": "string", "enum": ["score", "rebuffer", "failures"], "default": "score"})),
                    query("sort", "Sort key; undefined values sort last.", json!({"type": "string", "enum": sorts, "default": "impact"})),
                    query("order", "Sort direction (default desc; asc for value).", json!({"type": "string", "enum": ["asc", "desc"]})),
                    query("limit", "Rows returned.", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100})),
                ]).collect::<Vec<_>>(),
                "responses": responses("Breakdown", true),
            }},
            "/api/v1/views": {"get": {
                "summary": "Views of the period with dimensions and headline figures",
                "operationId": "listViews",
                "parameters": common().into_iter().chain([
                    query("limit", "Views returned.", json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 50})),
                    query("offset", "Views skipped.", json!({"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0})),
                    query("sort", "Sort key; undefined values sort last.", json!({"type": "string", "enum": ["start", "startup_ms", "rebuffer_ms", "rebuffer_pct", "score", "watch_time_s"], "default": "start"})),
                    query("order", "Sort direction.", json!({"type": "string", "enum": ["asc", "desc"], "default": "desc"})),
                    query("outcome", "Only views with this outcome.", json!({"type": "string", "enum": ["started", "exit_before_start", "start_failure", "playback_failure", "rebuffered"]})),
                ]).collect::<Vec<_>>(),
                "responses": responses("ViewList", true),
            }},
            "/api/v1/views/{view_id}": {"get": {
                "summary": "One view: dimensions, metrics and timeline (CSV: its raw events)",
                "operationId": "getView",
                "parameters": [
                    {"name": "view_id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 128}},
                    parameter("format"),
                ],
                "responses": {
                    "200": {"description": "OK", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ViewDetail"}},
                        "text/csv": {"schema": {"type": "string"}},
                    }},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": {"description": "No such view in the token's property", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }},
            "/api/v1/definitions": {"get": {
                "summary": "What every figure means: name, title, unit, which direction is better, definition",
                "operationId": "definitions",
                "security": [],
                "parameters": [parameter("format")],
                "responses": {"200": {"description": "OK", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Definitions"}},
                    "text/csv": {"schema": {"type": "string"}},
                }}, "400": {"$ref": "#/components/responses/BadRequest"}},
            }},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
    });
    let schemas = json!({
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string", "enum": ["unauthorized", "bad_request", "not_found", "method_not_allowed", "unavailable", "store"]},
                    "parameter": {"type": "string"},
                    "message": {"type": "string"},
                }},
                "Period": {"type": "object", "required": ["from", "to", "from_iso", "to_iso"], "properties": {
                    "from": {"type": "integer"}, "to": {"type": "integer"},
                    "from_iso": {"type": "string", "format": "date-time"}, "to_iso": {"type": "string", "format": "date-time"},
                }},
                "Percentiles": {"type": "string", "enum": ["exact", "histogram"], "description": "How startup percentiles were obtained."},
                "Kpis": kpis_schema(),
                "Overview": {"type": "object", "required": ["period", "previous_period", "current", "previous", "change_pct", "percentiles"], "properties": {
                    "property": {"type": "string"},
                    "period": period, "previous_period": period, "filters": filters,
                    "percentiles": {"$ref": "#/components/schemas/Percentiles"},
                    "current": {"$ref": "#/components/schemas/Kpis"},
                    "previous": {"$ref": "#/components/schemas/Kpis"},
                    "change_pct": {"type": "object", "description": "Relative change of each figure from previous to current, percent; null without both or from 0.", "additionalProperties": {"type": ["number", "null"]}},
                }},
                "Timeseries": {"type": "object", "required": ["interval", "interval_ms", "metrics", "t", "series"], "properties": {
                    "property": {"type": "string"}, "period": period, "filters": filters,
                    "interval": {"type": "string", "enum": ["minute", "hour", "day"]},
                    "interval_ms": {"type": "integer"},
                    "percentiles": {"$ref": "#/components/schemas/Percentiles"},
                    "metrics": {"type": "array", "items": {"type": "string", "enum": metric_names}},
                    "t": {"type": "array", "items": {"type": "integer"}, "description": "Bucket starts, ms since the epoch."},
                    "series": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": ["number", "null"]}}},
                }},
                "BreakdownRow": row_schema,
                "Breakdown": {"type": "object", "required": ["by", "rows", "totals", "total_rows"], "properties": {
                    "property": {"type": "string"}, "period": period, "filters": filters,
                    "by": {"type": "string"}, "impact": {"type": "string"}, "sort": {"type": "string"}, "order": {"type": "string"},
                    "percentiles": {"$ref": "#/components/schemas/Percentiles"},
                    "total_rows": {"type": "integer"},
                    "totals": {"$ref": "#/components/schemas/Kpis"},
                    "rows": {"type": "array", "items": {"$ref": "#/components/schemas/BreakdownRow"}},
                }},
                "ViewSummary": {"type": "object", "required": ["view_id", "outcome"], "properties": {
                    "view_id": {"type": "string"}, "session_id": {"type": "string"}, "video_id": {"type": "string"},
                    "video_title": {"type": "string"}, "player": {"type": "string"}, "player_version": {"type": "string"},
                    "browser": {"type": "string"}, "os": {"type": "string"}, "page": {"type": "string"},
                    "start_ms": {"type": ["integer", "null"]}, "start_iso": {"type": ["string", "null"]}, "end_ms": {"type": ["integer", "null"]},
                    "outcome": {"type": "string", "enum": ["started", "exit_before_start", "start_failure", "playback_failure", "starting", "no_attempt"]},
                    "events": {"type": "integer"}, "weight": {"type": "number"},
                    "startup_ms": {"type": ["number", "null"]}, "watch_time_s": {"type": "number"}, "playing_time_s": {"type": "number"},
                    "rebuffer_count": {"type": "number"}, "rebuffer_s": {"type": "number"}, "rebuffer_pct": {"type": ["number", "null"]},
                    "avg_bitrate_bps": {"type": ["number", "null"]}, "switches": {"type": "number"}, "errors": {"type": "number"},
                    "score": {"type": ["number", "null"]},
                }},
                "ViewList": {"type": "object", "required": ["total", "views"], "properties": {
                    "property": {"type": "string"}, "period": period, "filters": filters,
                    "sort": {"type": "string"}, "order": {"type": "string"}, "outcome": {"type": ["string", "null"]},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"}, "total": {"type": "integer"},
                    "views": {"type": "array", "items": {"$ref": "#/components/schemas/ViewSummary"}},
                }},
                "ViewDetail": {"type": "object", "required": ["view", "metrics", "timeline"], "properties": {
                    "property": {"type": "string"},
                    "view": {"allOf": [{"$ref": "#/components/schemas/ViewSummary"}], "description": "Plus custom, sample_rate, first_seen_ms, last_seen_ms, client_dropped, seeks, raw_events_kept."},
                    "metrics": {"type": ["object", "null"], "description": "player_wasm::qoe::ViewMetrics from the raw events (null once retention removed them)."},
                    "timeline": {"type": "object", "properties": {
                        "start_ms": {"type": ["number", "null"]}, "end_ms": {"type": ["number", "null"]},
                        "events": {"type": "array", "items": {"type": "object", "description": "A beacon event as sent, plus offset_ms from the first one."}},
                        "spans": {"type": "array", "items": {"type": "object", "properties": {
                            "state": {"type": "string", "enum": ["starting", "playing", "rebuffering", "paused"]},
                            "from": {"type": "number"}, "to": {"type": "number"}}}},
                        "bitrate": {"type": "array", "items": {"type": "object", "properties": {
                            "t": {"type": "number"}, "bitrate": {"type": "integer"}, "level": {"type": ["integer", "null"]},
                            "height": {"type": ["integer", "null"]}, "reason": {"type": ["string", "null"]}}}},
                    }},
                }},
                "Definitions": {"type": "object", "properties": {"metrics": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "title": {"type": "string"}, "unit": {"type": "string"},
                    "better": {"type": "string", "enum": ["higher", "lower", "neutral"]}, "definition": {"type": "string"}}}}}},
    });
    let components = json!({
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A property's read_token; it selects the property."},
                "token": {"type": "apiKey", "in": "query", "name": "token", "description": "The read token as a query parameter (links, the dashboard)."},
            },
            "parameters": {
                "from": {"name": "from", "in": "query", "required": false,
                    "description": "Start of the period, rounded down to the minute: ms since the epoch, ISO 8601 (UTC unless an offset is given) or relative (-6h, now-7d). Default: to - 24 h.",
                    "schema": {"type": "string", "examples": ["1764000000000", "2025-11-24T16:00:00Z", "-24h"]}},
                "to": {"name": "to", "in": "query", "required": false,
                    "description": "End of the period (exclusive), rounded up to the minute; same forms as from. Default: now.",
                    "schema": {"type": "string"}},
                "video": {"name": "video", "in": "query", "required": false, "description": "Only views of this video id (exact).", "schema": {"type": "string", "maxLength": 2048}},
                "player": {"name": "player", "in": "query", "required": false, "description": "Only views of this player name (exact).", "schema": {"type": "string", "maxLength": 2048}},
                "browser": {"name": "browser", "in": "query", "required": false, "description": "Only views from this browser (exact, e.g. \"Chromium 156\").", "schema": {"type": "string", "maxLength": 2048}},
                "os": {"name": "os", "in": "query", "required": false, "description": "Only views from this OS (exact).", "schema": {"type": "string", "maxLength": 2048}},
                "format": {"name": "format", "in": "query", "required": false, "description": "json (default) or csv; Accept: text/csv also selects CSV.", "schema": {"type": "string", "enum": ["json", "csv"]}},
            },
            "responses": {
                "BadRequest": {"description": "A parameter is malformed, out of range or unknown: `parameter` names it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "Unauthorized": {"description": "No read token, or not one of this collector's.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        "schemas": schemas,
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Collector query API",
            "version": "1",
            "description": format!(
                "QoE aggregates of the views a property's players reported. A view counts in the minute it started in; periods are whole minutes, [from, to). \
                 Figures follow player_wasm::qoe::metrics: ratios of totals (total rebuffering over total watch time), failure rates per play attempt, \
                 nearest-rank startup percentiles (exact over views when a scope holds at most {EXACT_PERCENTILE_LIMIT} views with a startup time, else estimated from a histogram: see `percentiles`). \
                 Every answer is JSON, or CSV with format=csv or Accept: text/csv. Bad or unknown parameters: 400 naming the parameter."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"token": []}],
        "paths": paths,
        "components": components,
    })
}

/// `GET /api/v1/openapi.json` (no token needed).
pub async fn handle(RawQuery(query): RawQuery) -> Response {
    match Args::parse(query.as_deref()).and_then(|args| args.only(false, &[])) {
        Ok(()) => json_response(document()),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_every_path_and_resolves_every_reference() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), PATHS.len());
        for path in PATHS {
            assert!(paths.contains_key(path), "{path}");
        }
        // Every $ref points at something that exists.
        fn refs(value: &Json, out: &mut Vec<String>) {
            match value {
                Json::Object(map) => {
                    for (k, v) in map {
                        if k == "$ref" {
                            out.push(v.as_str().unwrap().to_string());
                        } else {
                            refs(v, out);
                        }
                    }
                }
                Json::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for reference in all {
            let pointer = reference.trim_start_matches('#');
            assert!(
                doc.pointer(pointer).is_some(),
                "{reference} resolves to nothing"
            );
        }
    }
}
