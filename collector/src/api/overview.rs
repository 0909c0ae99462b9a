//! `GET /api/v1/overview`: the KPIs of a period and of the period of the same length just
//! before it, with the relative change of each, so the dashboard's tiles can say whether
//! things got better.
//!
//! ```json
//! {"property":"demo","period":{"from":…,"to":…,"from_iso":…,"to_iso":…},
//!  "previous_period":{…},"filters":{"video":"movie"},"percentiles":"exact",
//!  "current":{"views":3,"startup_p50_ms":500,…},"previous":{…},
//!  "change_pct":{"views":50,"startup_p50_ms":-12.5,…}}
//! ```
//!
//! CSV: one row per metric: `metric,unit,current,previous,change_pct`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::csv::{Cell, Table};
use super::error::ApiError;
use super::kpi::{DEFINITIONS, Kpis, change_pct, number};
use super::params::{Format, Scope};
use super::query::{self, PercentileMode};
use super::{Api, Request, json_response};
use crate::store::Store;

/// The KPIs of a scope and how its percentiles were obtained.
pub async fn kpis(store: &Store, scope: &Scope) -> Result<(Kpis, PercentileMode), ApiError> {
    let sums = query::total(store, scope).await?;
    let groups = [(String::new(), sums)];
    let (percentiles, mode) = query::percentiles_for(store, scope, None, &groups).await?;
    let percentiles = percentiles.get("").copied().unwrap_or_default();
    Ok((Kpis::of(&groups[0].1, percentiles), mode))
}

pub async fn handle(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request = Request::new(&api, &headers, query.as_deref())?;
    request.args.only(true, &[])?;
    let scope = request.args.scope(&request.property, request.now_ms)?;
    let previous_scope = scope.previous();
    let (current, previous) =
        tokio::try_join!(kpis(&api.store, &scope), kpis(&api.store, &previous_scope))?;
    let ((current, mode), (previous, previous_mode)) = (current, previous);
    let changes: Vec<Option<f64>> = DEFINITIONS
        .iter()
        .map(|d| change_pct(current.get(d.name), previous.get(d.name)))
        .collect();
    if request.format == Format::Csv {
        let mut table = Table::new(["metric", "unit", "current", "previous", "change_pct"]);
        for (i, d) in DEFINITIONS.iter().enumerate() {
            table.rows.push(vec![
                Cell::from(d.name),
                Cell::from(d.unit),
                Cell::from(current.get(d.name)),
                Cell::from(previous.get(d.name)),
                Cell::from(changes[i]),
            ]);
        }
        return Ok(table.into_response("overview"));
    }
    let change: serde_json::Map<String, serde_json::Value> = DEFINITIONS
        .iter()
        .zip(&changes)
        .map(|(d, c)| (d.name.to_string(), number(*c)))
        .collect();
    let mode = if mode == PercentileMode::Histogram || previous_mode == PercentileMode::Histogram {
        PercentileMode::Histogram
    } else {
        PercentileMode::Exact
    };
    Ok(json_response(json!({
        "property": request.property,
        "period": scope.period_json(),
        "previous_period": previous_scope.period_json(),
        "filters": scope.filters_json(),
        "percentiles": mode.name(),
        "current": current.to_json(),
        "previous": previous.to_json(),
        "change_pct": change,
    })))
}
