//! `GET /api/v1/timeseries?metric=…&interval=minute|hour|day`: KPIs per time bucket,
//! from the rollups (a view counts in the bucket of the minute it started in; hours and
//! days are read from the hourly and daily rollups where they are whole).
//!
//! `metric` is a comma-separated list of [`super::kpi::DEFINITIONS`] names, or `all`
//! (the default). `interval` defaults to `auto`: minutes up to 6 hours, hours up to 7
//! days, days beyond. Buckets are aligned to UTC and every bucket of the period is
//! present (a bucket without views has `views` 0 and null ratios), at most
//! [`MAX_POINTS`] of them. The answer is columnar, ready for a chart:
//!
//! ```json
//! {"interval":"hour","interval_ms":3600000,"percentiles":"exact",
//!  "metrics":["views","rebuffer_pct"],"t":[1764000000000,1764003600000],
//!  "series":{"views":[3,0],"rebuffer_pct":[1.5,null]}, "period":{…}, "filters":{…}}
//! ```
//!
//! CSV: `time,t_ms,<metric>…`, one row per bucket.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::csv::{Cell, Table};
use super::error::ApiError;
use super::kpi::{Kpis, Percentiles, Sums, metric_names, number};
use super::params::{Format, Scope, names};
use super::query::{self, GroupBy};
use super::time::{self, DAY_MS, HOUR_MS, MINUTE_MS};
use super::{Api, Request, json_response};

/// Most buckets one answer holds.
pub const MAX_POINTS: i64 = 10_000;

/// The bucket size for `interval` over `scope`.
pub fn interval_ms(interval: &str, scope: &Scope) -> (&'static str, i64) {
    match interval {
        "minute" => ("minute", MINUTE_MS),
        "hour" => ("hour", HOUR_MS),
        "day" => ("day", DAY_MS),
        _ => {
            let span = scope.to - scope.from;
            if span <= 6 * HOUR_MS {
                ("minute", MINUTE_MS)
            } else if span <= 7 * DAY_MS {
                ("hour", HOUR_MS)
            } else {
                ("day", DAY_MS)
            }
        }
    }
}

pub async fn handle(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request = Request::new(&api, &headers, query.as_deref())?;
    let args = &request.args;
    args.only(true, &["metric", "interval"])?;
    let scope = args.scope(&request.property, request.now_ms)?;
    let all = metric_names();
    let metrics = names("metric", args.get("metric"), &all)?;
    let interval = args.choice("interval", "auto", &["auto", "minute", "hour", "day"])?;
    let (interval_name, size) = interval_ms(interval, &scope);
    let first = scope.from.div_euclid(size) * size;
    let points = (scope.to - first + size - 1) / size;
    if points > MAX_POINTS {
        return Err(ApiError::bad(
            "interval",
            format!(
                "{points} {interval_name}s in the period; at most {MAX_POINTS} points: use a \
                 longer interval or a shorter period"
            ),
        ));
    }
    let key = GroupBy::Bucket(size);
    let groups = query::grouped(&api.store, &scope, key).await?;
    let (percentiles, mode) =
        query::percentiles_for(&api.store, &scope, Some(key), &groups).await?;
    let by_bucket: HashMap<String, Sums> = groups.into_iter().collect();
    let times: Vec<i64> = (0..points).map(|i| first + i * size).collect();
    let kpis: Vec<Kpis> = times
        .iter()
        .map(|t| {
            let key = t.to_string();
            let sums = by_bucket.get(&key).cloned().unwrap_or_default();
            let p = percentiles
                .get(&key)
                .copied()
                .unwrap_or(Percentiles::default());
            Kpis::of(&sums, p)
        })
        .collect();
    if request.format == Format::Csv {
        let mut table = Table::new(
            ["time", "t_ms"]
                .into_iter()
                .chain(metrics.iter().copied())
                .map(str::to_string),
        );
        for (t, k) in times.iter().zip(&kpis) {
            let mut row = vec![Cell::from(time::iso(*t)), Cell::from(*t)];
            row.extend(metrics.iter().map(|m| Cell::from(k.get(m))));
            table.rows.push(row);
        }
        return Ok(table.into_response("timeseries"));
    }
    let series: serde_json::Map<String, serde_json::Value> = metrics
        .iter()
        .map(|m| {
            let values: Vec<serde_json::Value> = kpis.iter().map(|k| number(k.get(m))).collect();
            (m.to_string(), serde_json::Value::from(values))
        })
        .collect();
    Ok(json_response(json!({
        "property": request.property,
        "period": scope.period_json(),
        "filters": scope.filters_json(),
        "interval": interval_name,
        "interval_ms": size,
        "percentiles": mode.name(),
        "metrics": metrics,
        "t": times,
        "series": series,
    })))
}
