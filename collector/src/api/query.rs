//! The SQL behind the endpoints, one text for SQLite and PostgreSQL: sums of the metric
//! columns from `rollup_minute` (whole, or grouped by a dimension or a time bucket) and
//! startup percentiles from `views`.
//!
//! Group keys are SQL expressions chosen from fixed lists (a dimension column, or
//! `(minute_ms / N) * N` for a bucket of `N` ms), never text from a request; values from
//! requests are always parameters.

use std::collections::HashMap;

use super::error::ApiError;
use super::kpi::{EXACT_PERCENTILE_LIMIT, Percentiles, SUMS_WIDTH, Sums, sums_sql};
use super::params::Scope;
use crate::store::{Store, Value};

/// A group's key as text (dimension values) or integer (time buckets), as one string.
pub fn key_text(value: &Value) -> String {
    match value {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        Value::Real(r) => (*r as i64).to_string(),
        Value::Null => String::new(),
    }
}

/// Sums over the scope from the rollups.
pub async fn total(store: &Store, scope: &Scope) -> Result<Sums, ApiError> {
    let mut params = Vec::new();
    let condition = scope.condition("", &mut params);
    let sql = format!(
        "SELECT {} FROM rollup_minute WHERE {condition}",
        sums_sql("")
    );
    let rows = store.query(&sql, &params).await?;
    Ok(rows
        .rows
        .first()
        .map(|row| Sums::from_row(row))
        .unwrap_or_default())
}

/// Sums over the scope from the rollups, grouped by `key` (an SQL expression over
/// `rollup_minute`'s columns); groups in no particular order.
pub async fn grouped(
    store: &Store,
    scope: &Scope,
    key: &str,
) -> Result<Vec<(String, Sums)>, ApiError> {
    let mut params = Vec::new();
    let condition = scope.condition("", &mut params);
    let sql = format!(
        "SELECT {key} AS k, {} FROM rollup_minute WHERE {condition} GROUP BY {key}",
        sums_sql("")
    );
    let rows = store.query(&sql, &params).await?;
    Ok(rows
        .rows
        .iter()
        .filter(|row| row.len() == SUMS_WIDTH + 1)
        .map(|row| (key_text(&row[0]), Sums::from_row(&row[1..])))
        .collect())
}

/// How percentiles were obtained, as responses say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentileMode {
    Exact,
    Histogram,
}

impl PercentileMode {
    pub fn name(self) -> &'static str {
        match self {
            PercentileMode::Exact => "exact",
            PercentileMode::Histogram => "histogram",
        }
    }

    /// Exact when the scope's views with a startup time are few enough.
    pub fn for_startups(startups: i64) -> PercentileMode {
        if startups <= EXACT_PERCENTILE_LIMIT {
            PercentileMode::Exact
        } else {
            PercentileMode::Histogram
        }
    }
}

/// Exact startup percentiles per group (`key` over `views`' columns; `None` for one
/// group keyed ""), from each view's startup time, weighted by its sample weight.
pub async fn exact_percentiles(
    store: &Store,
    scope: &Scope,
    key: Option<&str>,
) -> Result<HashMap<String, Percentiles>, ApiError> {
    let mut params = Vec::new();
    let condition = scope.condition("", &mut params);
    let key = key.unwrap_or("''");
    let sql = format!(
        "SELECT {key} AS k, startup_ms, weight FROM views \
         WHERE {condition} AND startup_count = 1 ORDER BY startup_ms"
    );
    let rows = store.query(&sql, &params).await?;
    let mut groups: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    for row in &rows.rows {
        let (Some(ms), Some(weight)) = (
            row.get(1).and_then(Value::as_f64),
            row.get(2).and_then(Value::as_f64),
        ) else {
            continue;
        };
        let weight = if weight > 0.0 { weight } else { 1.0 };
        groups
            .entry(row.first().map(key_text).unwrap_or_default())
            .or_default()
            .push((ms, weight));
    }
    Ok(groups
        .into_iter()
        .map(|(k, sorted)| (k, Percentiles::exact(&sorted)))
        .collect())
}

/// Percentiles for each group of `groups` (keyed as `key` groups `views`), exact or from
/// the histograms depending on how many startups the whole scope holds.
pub async fn percentiles_for(
    store: &Store,
    scope: &Scope,
    key: Option<&str>,
    groups: &[(String, Sums)],
) -> Result<(HashMap<String, Percentiles>, PercentileMode), ApiError> {
    let startups: i64 = groups.iter().map(|(_, s)| s.startups()).sum();
    let mode = PercentileMode::for_startups(startups);
    let map = match mode {
        PercentileMode::Exact if startups == 0 => HashMap::new(),
        PercentileMode::Exact => exact_percentiles(store, scope, key).await?,
        PercentileMode::Histogram => groups
            .iter()
            .map(|(k, sums)| (k.clone(), Percentiles::histogram(sums)))
            .collect(),
    };
    Ok((map, mode))
}
