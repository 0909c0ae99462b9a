//! Values that cross into and out of SQL, the same for SQLite and PostgreSQL.
//!
//! Parameters and result columns are [`Value`]s so one query text runs on both backends:
//! integers, reals, text and NULL, converted to and from each driver's own types (an
//! integer parameter fits an `INTEGER`, `BIGINT` or `DOUBLE PRECISION` column alike;
//! PostgreSQL's `NUMERIC`, what `SUM(bigint)` returns, reads as a real).

use std::sync::Arc;

/// One SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    /// The value as an integer (reals are truncated), `None` for NULL and text.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Real(r) => Some(*r as i64),
            _ => None,
        }
    }

    /// The value as a real, `None` for NULL and text.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// The value as text, `None` unless it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The rows of a query, with their column names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Arc<[String]>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Row `row`'s value of column `name` (`Null` if either is missing).
    pub fn get(&self, row: usize, name: &str) -> &Value {
        self.column(name)
            .and_then(|c| self.rows.get(row).and_then(|r| r.get(c)))
            .unwrap_or(&Value::Null)
    }
}

/// Rewrites PostgreSQL's `$1` placeholders into SQLite's `?1`, outside quoted text.
pub fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_quotes() {
        assert_eq!(
            sqlite_placeholders("SELECT '$1', a FROM t WHERE b = $2 AND c = $10 AND \"$3\" = 1"),
            "SELECT '$1', a FROM t WHERE b = ?2 AND c = ?10 AND \"$3\" = 1"
        );
    }
}
