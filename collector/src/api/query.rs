//! The SQL behind the endpoints, one text for SQLite and PostgreSQL: sums of the metric
//! columns from the rollups (whole, or grouped by a dimension or a time bucket) and
//! startup percentiles from `views`.
//!
//! A period is read from the coarsest rollup tables that cover it
//! ([`crate::store::rollup::split`]: whole days from `rollup_day`, whole hours from
//! `rollup_hour`, the minutes at the ends from `rollup_minute`), in the smallest
//! dimension set holding the filters and the grouping, one `SELECT … GROUP BY` per piece
//! joined with `UNION ALL` in one statement; the pieces' groups are added up here. The
//! sums are those of the minutes (integers; weights are sums of `1 / sample_rate`).
//!
//! Group keys are SQL expressions chosen from fixed lists (a dimension column, or
//! `(bucket / N) * N` for a bucket of `N` ms), never text from a request; values from
//! requests are always parameters.

use std::collections::HashMap;

use super::error::ApiError;
use super::kpi::{
    EXACT_PERCENTILE_LIMIT, FIGURES_WIDTH, Percentiles, SUMS_WIDTH, Sums, figures_sql, sums_sql,
};
use super::params::Scope;
use crate::store::rollup::{self, BINS, Grain, HISTOGRAM, Piece};
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

/// What rollup sums are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// A dimension column (`video_id`, `player`, `browser`, `os`).
    Column(&'static str),
    /// UTC-aligned time buckets of this many ms (a whole number of minutes).
    Bucket(i64),
}

impl GroupBy {
    /// The key's SQL over a table whose bucket start is `time_column`.
    pub fn sql(self, time_column: &str) -> String {
        match self {
            GroupBy::Column(column) => column.to_string(),
            GroupBy::Bucket(size) if size == rollup::MINUTE_MS => time_column.to_string(),
            GroupBy::Bucket(size) => format!("({time_column} / {size}) * {size}"),
        }
    }

    /// The key's SQL over `views`.
    pub fn views_sql(self) -> String {
        self.sql("minute_ms")
    }

    fn dimensions(self) -> u32 {
        match self {
            GroupBy::Column(column) => rollup::dimension_bit(column),
            GroupBy::Bucket(_) => 0,
        }
    }

    /// Whether rows of `grain` fall wholly in one group.
    fn fits(self, grain: Grain) -> bool {
        match self {
            GroupBy::Column(_) => true,
            GroupBy::Bucket(size) => size % grain.size_ms() == 0,
        }
    }
}

/// The condition selecting a piece of the scope in its table (parameters appended).
fn piece_condition(scope: &Scope, piece: Piece, set: u32, params: &mut Vec<Value>) -> String {
    let mut next = |value: Value| {
        params.push(value);
        format!("${}", params.len())
    };
    let time = piece.grain.time_column();
    let mut sql = format!(
        "property = {} AND {time} >= {} AND {time} < {}",
        next(Value::from(scope.property.as_str())),
        next(Value::Int(piece.from)),
        next(Value::Int(piece.to)),
    );
    if piece.grain != Grain::Minute {
        sql.push_str(&format!(" AND dims = {set}"));
    }
    for (_, column, value) in &scope.filters {
        sql.push_str(&format!(
            " AND {column} = {}",
            next(Value::from(value.as_str()))
        ));
    }
    sql
}

/// The pieces a scope is read from (and the dimension set of the coarse ones).
fn plan(scope: &Scope, group: Option<GroupBy>) -> (Vec<Piece>, u32) {
    let needed = scope
        .filters
        .iter()
        .map(|(_, column, _)| rollup::dimension_bit(column))
        .fold(group.map_or(0, GroupBy::dimensions), |a, b| a | b);
    let Some(set) = rollup::set_for(needed) else {
        return (
            rollup::split(scope.from, scope.to, &[Grain::Minute]),
            rollup::ALL,
        );
    };
    let grains: Vec<Grain> = Grain::ALL
        .into_iter()
        .filter(|g| group.is_none_or(|group| group.fits(*g)))
        .collect();
    (rollup::split(scope.from, scope.to, &grains), set)
}

/// What a rollup query reads besides the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reads {
    /// The startup histogram's 82 columns (the costly part of a wide read).
    pub histogram: bool,
    /// The greatest video title of each group.
    pub title: bool,
    /// Every counter, not only the [`super::kpi::FIGURE_COUNTERS`].
    pub all_counters: bool,
}

/// One group of a rollup query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grouped {
    pub sums: Sums,
    /// The greatest video title (when read; '' otherwise).
    pub title: String,
}

/// Sums over the scope from the rollups, grouped by `group` (one group keyed "" for
/// `None`), only groups among `keys` when given (for a column group); groups in no
/// particular order.
pub async fn read_rollups(
    store: &Store,
    scope: &Scope,
    group: Option<GroupBy>,
    keys: Option<&[String]>,
    reads: Reads,
) -> Result<HashMap<String, Grouped>, ApiError> {
    let (pieces, set) = plan(scope, group);
    let mut params = Vec::new();
    let mut select = if reads.all_counters {
        sums_sql("")
    } else {
        figures_sql()
    };
    let counters_width = if reads.all_counters {
        SUMS_WIDTH
    } else {
        FIGURES_WIDTH
    };
    if reads.histogram {
        for column in HISTOGRAM.iter() {
            select.push_str(&format!(", COALESCE(SUM({column}), 0) AS {column}"));
        }
    }
    if reads.title {
        select.push_str(", MAX(video_title) AS title");
    }
    let arms: Vec<String> = pieces
        .iter()
        .map(|piece| {
            let mut condition = piece_condition(scope, *piece, set, &mut params);
            if let (Some(GroupBy::Column(column)), Some(keys)) = (group, keys) {
                let mut list = Vec::with_capacity(keys.len());
                for key in keys {
                    params.push(Value::from(key.as_str()));
                    list.push(format!("${}", params.len()));
                }
                if list.is_empty() {
                    list.push("NULL".into());
                }
                condition.push_str(&format!(" AND {column} IN ({})", list.join(", ")));
            }
            let table = piece.grain.table();
            match group {
                Some(group) => {
                    let key = group.sql(piece.grain.time_column());
                    format!(
                        "SELECT {key} AS k, {select} FROM {table} WHERE {condition} GROUP BY {key}"
                    )
                }
                None => format!("SELECT '' AS k, {select} FROM {table} WHERE {condition}"),
            }
        })
        .collect();
    let width =
        1 + counters_width + if reads.histogram { BINS } else { 0 } + usize::from(reads.title);
    let rows = store.query(&arms.join(" UNION ALL "), &params).await?;
    let mut groups: HashMap<String, Grouped> = HashMap::new();
    for row in rows.rows.iter().filter(|row| row.len() == width) {
        let mut sums = if reads.all_counters {
            Sums::from_row(&row[1..])
        } else {
            Sums::from_figures_row(&row[1..])
        };
        if reads.histogram {
            for (slot, value) in sums.histogram.iter_mut().zip(&row[1 + counters_width..]) {
                *slot = value.as_i64().unwrap_or(0);
            }
        }
        let entry = groups.entry(key_text(&row[0])).or_default();
        entry.sums.add(&sums);
        if reads.title
            && let Some(title) = row.last().and_then(Value::as_str)
            && title > entry.title.as_str()
        {
            entry.title = title.to_string();
        }
    }
    Ok(groups)
}

/// Sums over the scope from the rollups with their histograms, grouped by `group` (one
/// group keyed "" for `None`); groups in no particular order.
pub async fn rollup_sums(
    store: &Store,
    scope: &Scope,
    group: Option<GroupBy>,
) -> Result<Vec<(String, Sums)>, ApiError> {
    let reads = Reads {
        histogram: true,
        title: false,
        all_counters: true,
    };
    Ok(read_rollups(store, scope, group, None, reads)
        .await?
        .into_iter()
        .map(|(k, g)| (k, g.sums))
        .collect())
}

/// The greatest video title of each video in the scope, from the rollups' titles (those
/// of the views counted in each row).
pub async fn video_titles(
    store: &Store,
    scope: &Scope,
) -> Result<HashMap<String, String>, ApiError> {
    let reads = Reads {
        histogram: false,
        title: true,
        all_counters: false,
    };
    Ok(
        read_rollups(store, scope, Some(GroupBy::Column("video_id")), None, reads)
            .await?
            .into_iter()
            .map(|(k, g)| (k, g.title))
            .collect(),
    )
}

/// Sums over the scope from the rollups.
pub async fn total(store: &Store, scope: &Scope) -> Result<Sums, ApiError> {
    let mut total = Sums::default();
    for (_, sums) in rollup_sums(store, scope, None).await? {
        total.add(&sums);
    }
    Ok(total)
}

/// Sums over the scope from the rollups, grouped by `group`; groups in no particular
/// order, only those with rows.
pub async fn grouped(
    store: &Store,
    scope: &Scope,
    group: GroupBy,
) -> Result<Vec<(String, Sums)>, ApiError> {
    rollup_sums(store, scope, Some(group)).await
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

/// Percentiles for each group of `groups` (grouped by `group`), exact or from the
/// histograms depending on how many startups the whole scope holds.
pub async fn percentiles_for(
    store: &Store,
    scope: &Scope,
    group: Option<GroupBy>,
    groups: &[(String, Sums)],
) -> Result<(HashMap<String, Percentiles>, PercentileMode), ApiError> {
    let startups: i64 = groups.iter().map(|(_, s)| s.startups()).sum();
    let mode = PercentileMode::for_startups(startups);
    let key = group.map(GroupBy::views_sql);
    let map = match mode {
        PercentileMode::Exact if startups == 0 => HashMap::new(),
        PercentileMode::Exact => exact_percentiles(store, scope, key.as_deref()).await?,
        PercentileMode::Histogram => groups
            .iter()
            .map(|(k, sums)| (k.clone(), Percentiles::histogram(sums)))
            .collect(),
    };
    Ok((map, mode))
}
