//! `GET /api/v1/breakdown?by=video|player|browser|os|rendition|custom.NAME`: the KPIs per
//! value of a dimension, with how much of the period's trouble each value accounts for.
//!
//! Shares, in percent of the whole scope (what the rows add up to):
//!
//! - `rebuffer_share_pct`: of all rebuffering time;
//! - `failure_share_pct`: of all failed views (exits before start, start failures and
//!   playback failures);
//! - `score_loss_share_pct`: of all experience score points lost (Σ 100 − score over
//!   scored views), which weighs every kind of trouble and how many views had it;
//! - `playing_share_pct`: of all playing time (how much the value is watched).
//!
//! `impact_pct` is one of the first three, chosen by `impact=score|rebuffer|failures`
//! (default `score`; `rebuffer`, the only one defined, by rendition). Rows are sorted by
//! `sort` (`impact` by default, `value`, or any metric or share name) in `order`
//! (`desc` by default, `asc` for `value`), undefined values last; `limit` rows (100 by
//! default, at most 1000), `total_rows` says how many there are.
//!
//! Where the rows come from:
//!
//! - `video`, `player`, `browser`, `os`: the rollups (fast at any size); a video's
//!   `label` is its title;
//! - `custom.NAME`: the `views` rows (each view's custom dimensions), at most
//!   [`MAX_VIEWS_READ`] views in scope; views without the dimension form the row `""`;
//! - `rendition`: the raw events of the views in scope ([`super::timeline`]), at most
//!   [`MAX_VIEWS_WALKED`] views. A rendition's row counts the views that showed it, its
//!   playing and rebuffering time (watch time there is the two together, so
//!   `rebuffer_pct` is the share of its time spent stalled), rebuffers begun on it,
//!   `switches_per_min` into it per minute played on it, and the startup times of the
//!   views that started on it; per-view outcomes (EBVS, failures, score) are null.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use protocol::Event;
use serde_json::{Value as Json, json};

use super::csv::{Cell, Table};
use super::error::ApiError;
use super::kpi::{
    DEFINITIONS, Kpis, Percentiles, SUMS_WIDTH, Sums, columns_sql, metric_names, number, round,
};
use super::params::{Format, Scope, custom_name};
use super::query::{self, GroupBy, PercentileMode, Reads, key_text};
use super::timeline::{self, Rendition};
use super::{Api, Request, json_response};
use crate::store::{Store, Value};

/// Most views a custom-dimension breakdown reads.
pub const MAX_VIEWS_READ: i64 = 200_000;
/// Most views whose events a rendition breakdown reads.
pub const MAX_VIEWS_WALKED: i64 = 10_000;

/// The share columns of every row, in order.
pub const SHARES: [&str; 4] = [
    "rebuffer_share_pct",
    "failure_share_pct",
    "score_loss_share_pct",
    "playing_share_pct",
];

/// What to break down by.
#[derive(Debug, Clone, PartialEq)]
pub enum By {
    /// A rollup column.
    Column(&'static str),
    Rendition,
    Custom(String),
}

impl By {
    pub fn parse(text: Option<&str>) -> Result<By, ApiError> {
        let text = text.ok_or_else(|| {
            ApiError::bad(
                "by",
                "required: video, player, browser, os, rendition or custom.NAME",
            )
        })?;
        match text {
            "video" => Ok(By::Column("video_id")),
            "player" => Ok(By::Column("player")),
            "browser" => Ok(By::Column("browser")),
            "os" => Ok(By::Column("os")),
            "rendition" => Ok(By::Rendition),
            _ => match text.strip_prefix("custom.") {
                Some(name) => Ok(By::Custom(custom_name("by", name)?)),
                None => Err(ApiError::bad(
                    "by",
                    format!(
                        "{text:?} is not one of: video, player, browser, os, rendition, custom.NAME"
                    ),
                )),
            },
        }
    }
}

/// One row before sorting.
#[derive(Debug, Clone)]
pub struct Row {
    pub value: String,
    pub label: Option<String>,
    pub sums: Sums,
    pub kpis: Kpis,
}

/// The rows of a breakdown with the scope's totals.
struct Rows {
    rows: Vec<Row>,
    totals: Sums,
    total_kpis: Kpis,
    mode: PercentileMode,
    /// The rows' percentiles are still to be read from the rollups' histograms (only for
    /// the rows shown, unless they are sorted by a percentile).
    pending: bool,
}

fn share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| round(100.0 * part / whole))
}

fn shares(row: &Sums, totals: &Sums) -> [Option<f64>; 4] {
    let c = |s: &Sums, n: &str| s.get(n) as f64;
    [
        share(c(row, "rebuffer_ms"), c(totals, "rebuffer_ms")),
        share(row.failed_views() as f64, totals.failed_views() as f64),
        share(row.score_loss(), totals.score_loss()),
        share(c(row, "playing_ms"), c(totals, "playing_ms")),
    ]
}

pub async fn handle(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let request = Request::new(&api, &headers, query.as_deref())?;
    let args = &request.args;
    args.only(true, &["by", "sort", "order", "impact", "limit"])?;
    let by = By::parse(args.get("by"))?;
    let scope = args.scope(&request.property, request.now_ms)?;
    let impact = match by {
        By::Rendition => args.choice("impact", "rebuffer", &["rebuffer"])?,
        _ => args.choice("impact", "score", &["score", "rebuffer", "failures"])?,
    };
    let mut sortable = vec!["impact", "value"];
    sortable.extend(SHARES);
    sortable.extend(metric_names());
    let sort = args.choice("sort", "impact", &sortable)?;
    let default_order = if sort == "value" { "asc" } else { "desc" };
    let order = args.choice("order", default_order, &["asc", "desc"])?;
    let limit = args.integer("limit", 100, 1, 1000)?;

    let result = match &by {
        By::Column(column) => by_column(&api.store, &scope, column).await?,
        By::Custom(name) => by_custom(&api.store, &scope, name).await?,
        By::Rendition => by_rendition(&api.store, &scope).await?,
    };
    let impact_index = match impact {
        "rebuffer" => 0,
        "failures" => 1,
        _ => 2,
    };
    let pending = match &by {
        By::Column(column) if result.pending => Some(*column),
        _ => None,
    };
    let mut result_rows = result.rows;
    let by_percentile = matches!(sort, "startup_p50_ms" | "startup_p95_ms");
    if let Some(column) = pending.filter(|_| by_percentile) {
        fill_percentiles(&api.store, &scope, column, &mut result_rows).await?;
    }
    let mut rows: Vec<(Row, [Option<f64>; 4])> = result_rows
        .into_iter()
        .map(|row| {
            let s = shares(&row.sums, &result.totals);
            (row, s)
        })
        .collect();
    let key = |(row, s): &(Row, [Option<f64>; 4])| -> Option<f64> {
        match sort {
            "impact" => s[impact_index],
            name => match SHARES.iter().position(|n| *n == name) {
                Some(i) => s[i],
                None => row.kpis.get(name),
            },
        }
    };
    rows.sort_by(|a, b| {
        let ordering = if sort == "value" {
            a.0.value.cmp(&b.0.value)
        } else {
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => return std::cmp::Ordering::Less,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        };
        let ordering = if order == "desc" {
            ordering.reverse()
        } else {
            ordering
        };
        ordering.then_with(|| a.0.value.cmp(&b.0.value))
    });
    let total_rows = rows.len();
    rows.truncate(limit as usize);
    if let Some(column) = pending.filter(|_| !by_percentile) {
        let mut shown: Vec<Row> = rows.iter().map(|(row, _)| row.clone()).collect();
        fill_percentiles(&api.store, &scope, column, &mut shown).await?;
        for ((row, _), filled) in rows.iter_mut().zip(shown) {
            *row = filled;
        }
    }

    if request.format == Format::Csv {
        let mut header = vec!["value", "label", "impact_pct"];
        header.extend(SHARES);
        header.extend(DEFINITIONS.iter().map(|d| d.name));
        let mut table = Table::new(header);
        for (row, s) in &rows {
            let mut cells = vec![
                Cell::from(row.value.as_str()),
                Cell::from(row.label.clone().unwrap_or_default()),
                Cell::from(s[impact_index]),
            ];
            cells.extend(s.iter().map(|v| Cell::from(*v)));
            cells.extend(row.kpis.values.iter().map(|v| Cell::from(*v)));
            table.rows.push(cells);
        }
        return Ok(table.into_response("breakdown"));
    }
    let json_rows: Vec<Json> = rows
        .iter()
        .map(|(row, s)| {
            let mut object = row.kpis.to_json();
            object.insert("value".into(), Json::from(row.value.as_str()));
            object.insert(
                "label".into(),
                row.label.as_deref().map_or(Json::Null, Json::from),
            );
            object.insert("impact_pct".into(), number(s[impact_index]));
            for (name, v) in SHARES.iter().zip(s) {
                object.insert(name.to_string(), number(*v));
            }
            Json::Object(object)
        })
        .collect();
    let by_name = match &by {
        By::Column("video_id") => "video".to_string(),
        By::Column(c) => c.to_string(),
        By::Rendition => "rendition".to_string(),
        By::Custom(name) => format!("custom.{name}"),
    };
    Ok(json_response(json!({
        "property": request.property,
        "period": scope.period_json(),
        "filters": scope.filters_json(),
        "by": by_name,
        "impact": impact,
        "sort": sort,
        "order": order,
        "percentiles": result.mode.name(),
        "total_rows": total_rows,
        "totals": result.total_kpis.to_json(),
        "rows": json_rows,
    })))
}

/// Rows from the rollups, grouped by `column`. Their startup percentiles are exact when
/// the scope holds few startups; otherwise they are left to [`fill_percentiles`] (the
/// histograms are most of a rollup row: they are read for the rows shown only).
async fn by_column(store: &Store, scope: &Scope, column: &'static str) -> Result<Rows, ApiError> {
    let group = GroupBy::Column(column);
    let reads = Reads {
        histogram: false,
        title: column == "video_id",
        all_counters: false,
    };
    let groups = query::read_rollups(store, scope, Some(group), None, reads).await?;
    let mut totals = Sums::default();
    for grouped in groups.values() {
        totals.add(&grouped.sums);
    }
    let mode = PercentileMode::for_startups(totals.startups());
    let (percentiles, total_percentiles) = match mode {
        PercentileMode::Exact if totals.startups() > 0 => {
            let per_group =
                query::exact_percentiles(store, scope, Some(&group.views_sql())).await?;
            let total = query::exact_percentiles(store, scope, None)
                .await?
                .remove("")
                .unwrap_or_default();
            (per_group, total)
        }
        PercentileMode::Exact => (HashMap::new(), Percentiles::default()),
        PercentileMode::Histogram => {
            let total = query::total(store, scope).await?;
            totals.histogram = total.histogram;
            (HashMap::new(), Percentiles::histogram(&totals))
        }
    };
    let rows = groups
        .into_iter()
        .map(|(value, grouped)| {
            let p = percentiles.get(&value).copied().unwrap_or_default();
            Row {
                label: Some(grouped.title).filter(|t| !t.is_empty()),
                kpis: Kpis::of(&grouped.sums, p),
                value,
                sums: grouped.sums,
            }
        })
        .collect();
    Ok(Rows {
        rows,
        total_kpis: Kpis::of(&totals, total_percentiles),
        totals,
        mode,
        pending: mode == PercentileMode::Histogram,
    })
}

/// Reads the startup histograms of `rows` (grouped by `column`) and sets their
/// percentiles from them.
async fn fill_percentiles(
    store: &Store,
    scope: &Scope,
    column: &'static str,
    rows: &mut [Row],
) -> Result<(), ApiError> {
    let keys: Vec<String> = rows.iter().map(|r| r.value.clone()).collect();
    let reads = Reads {
        histogram: true,
        title: false,
        all_counters: false,
    };
    let read = query::read_rollups(
        store,
        scope,
        Some(GroupBy::Column(column)),
        Some(&keys),
        reads,
    )
    .await?;
    for row in rows {
        if let Some(grouped) = read.get(&row.value) {
            row.sums.histogram = grouped.sums.histogram;
        }
        row.kpis = Kpis::of(&row.sums, Percentiles::histogram(&row.sums));
    }
    Ok(())
}

/// Refuses a scope holding more than `max` views for a breakdown that reads each one.
async fn check_views(store: &Store, scope: &Scope, max: i64, what: &str) -> Result<(), ApiError> {
    let views = query::total(store, scope).await?.get("views");
    if views > max {
        return Err(ApiError::bad(
            "by",
            format!(
                "{what} breakdowns read every view: the period holds {views} views, at most \
                 {max}; shorten from/to or add filters"
            ),
        ));
    }
    Ok(())
}

/// Groups of views (their sums and startup times) built in Rust.
#[derive(Default)]
struct Groups {
    groups: BTreeMap<String, (Sums, Vec<(f64, f64)>)>,
    totals: Sums,
    startups: Vec<(f64, f64)>,
}

impl Groups {
    fn rows(self, label: impl Fn(&str) -> Option<String>) -> Rows {
        let mut all = self.startups;
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let rows = self
            .groups
            .into_iter()
            .map(|(value, (sums, mut startups))| {
                startups.sort_by(|a, b| a.0.total_cmp(&b.0));
                Row {
                    label: label(&value),
                    kpis: Kpis::of(&sums, Percentiles::exact(&startups)),
                    value,
                    sums,
                }
            })
            .collect();
        Rows {
            rows,
            total_kpis: Kpis::of(&self.totals, Percentiles::exact(&all)),
            totals: self.totals,
            mode: PercentileMode::Exact,
            pending: false,
        }
    }
}

/// Rows from the views' custom dimension `name`.
async fn by_custom(store: &Store, scope: &Scope, name: &str) -> Result<Rows, ApiError> {
    check_views(store, scope, MAX_VIEWS_READ, "custom-dimension").await?;
    let mut params = Vec::new();
    let condition = scope.condition("", &mut params);
    let sql = format!(
        "SELECT custom, startup_count, startup_ms, {} FROM views WHERE {condition}",
        columns_sql("")
    );
    let rows = store.query(&sql, &params).await?;
    let mut groups = Groups::default();
    for row in rows.rows.iter().filter(|r| r.len() == SUMS_WIDTH + 3) {
        let value = row[0]
            .as_str()
            .and_then(|text| serde_json::from_str::<BTreeMap<String, String>>(text).ok())
            .and_then(|mut custom| custom.remove(name))
            .unwrap_or_default();
        let sums = Sums::from_row(&row[3..]);
        let startup = (row[1].as_i64() == Some(1))
            .then(|| row[2].as_f64())
            .flatten()
            .map(|ms| (ms, if sums.weight > 0.0 { sums.weight } else { 1.0 }));
        let group = groups.groups.entry(value).or_default();
        group.0.add(&sums);
        groups.totals.add(&sums);
        if let Some(s) = startup {
            group.1.push(s);
            groups.startups.push(s);
        }
    }
    Ok(groups.rows(|_| None))
}

/// Rows per rendition, from the raw events of the views in scope.
async fn by_rendition(store: &Store, scope: &Scope) -> Result<Rows, ApiError> {
    check_views(store, scope, MAX_VIEWS_WALKED, "rendition").await?;
    let mut params = Vec::new();
    let condition = scope.condition("", &mut params);
    let views = store
        .query(
            &format!(
                "SELECT view_id, startup_count, startup_ms, weight FROM views WHERE {condition}"
            ),
            &params,
        )
        .await?;
    let mut params = Vec::new();
    let condition = scope.condition("v.", &mut params);
    let events = store
        .query(
            &format!(
                "SELECT e.view_id, e.payload FROM events e JOIN views v \
                 ON v.property = e.property AND v.view_id = e.view_id WHERE {condition} \
                 ORDER BY e.seq, e.idx"
            ),
            &params,
        )
        .await?;
    let mut by_view: HashMap<String, Vec<Event>> = HashMap::new();
    for row in &events.rows {
        let (Some(view), Some(payload)) = (
            row.first().and_then(Value::as_str),
            row.get(1).and_then(Value::as_str),
        ) else {
            continue;
        };
        if let Ok(event) = serde_json::from_str::<Event>(payload) {
            by_view.entry(view.to_string()).or_default().push(event);
        }
    }
    let mut per: BTreeMap<Rendition, (Sums, Vec<(f64, f64)>)> = BTreeMap::new();
    let mut groups = Groups::default();
    for row in &views.rows {
        let Some(view) = row.first().map(key_text) else {
            continue;
        };
        let weight = row
            .get(3)
            .and_then(Value::as_f64)
            .filter(|w| *w > 0.0)
            .unwrap_or(1.0);
        let startup = (row.get(1).and_then(Value::as_i64) == Some(1))
            .then(|| row.get(2).and_then(Value::as_f64))
            .flatten();
        let walk = timeline::walk(by_view.get(&view).map_or(&[][..], Vec::as_slice));
        let mut view_sums = Sums::default();
        for (rendition, on) in &walk.renditions {
            let entry = per.entry(*rendition).or_default();
            let mut sums = Sums {
                weight,
                ..Sums::default()
            };
            set(&mut sums, "playing_ms", on.playing_ms.round() as i64);
            set(&mut sums, "bitrate_ms", on.playing_ms.round() as i64);
            set(
                &mut sums,
                "played_bits",
                (rendition.bitrate as f64 * on.playing_ms / 1000.0).round() as i64,
            );
            set(&mut sums, "rebuffer_ms", on.rebuffer_ms.round() as i64);
            set(
                &mut sums,
                "watch_ms",
                (on.playing_ms + on.rebuffer_ms).round() as i64,
            );
            set(&mut sums, "rebuffer_count", i64::from(on.rebuffers));
            set(&mut sums, "switches", i64::from(on.switches_to));
            if let (Some(ms), Some(first)) = (startup, walk.first)
                && first == *rendition
            {
                set(&mut sums, "startup_count", 1);
                set(&mut sums, "startup_ms", ms.round() as i64);
                entry.1.push((ms, weight));
            }
            entry.0.add(&sums);
            sums.weight = 0.0;
            view_sums.add(&sums);
        }
        view_sums.weight = weight;
        groups.totals.add(&view_sums);
        if let Some(ms) = startup {
            groups.startups.push((ms, weight));
        }
    }
    for (rendition, (sums, startups)) in per {
        let group = groups.groups.entry(rendition.label()).or_default();
        group.0.add(&sums);
        group.1.extend(startups);
    }
    Ok(groups.rows(|_| None))
}

fn set(sums: &mut Sums, name: &str, value: i64) {
    if let Some(i) = crate::store::summary::COUNTERS
        .iter()
        .position(|c| *c == name)
    {
        sums.counters[i] = value;
    }
}
