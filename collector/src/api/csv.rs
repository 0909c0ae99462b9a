//! CSV output (RFC 4180): a header row, then one row per record, `\r\n` line ends.
//! Fields holding a comma, a quote or a line break are quoted; text that a spreadsheet
//! would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with
//! `'` — dimension values come from beacons, which anyone can send.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// One field.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number; empty when undefined.
    Number(Option<f64>),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        Cell::Number(v)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Number(Some(v))
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Number(Some(v as f64))
    }
}

/// A table to write as CSV.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(header: impl IntoIterator<Item = impl Into<String>>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// The CSV text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let header: Vec<Cell> = self.header.iter().map(|h| Cell::Text(h.clone())).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let fields: Vec<String> = row.iter().map(field).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// A `text/csv` response, offered as a download named `name.csv`.
    pub fn into_response(self, name: &str) -> Response {
        let mut response = self.render().into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

fn field(cell: &Cell) -> String {
    match cell {
        Cell::Number(None) => String::new(),
        Cell::Number(Some(v)) if v.fract() == 0.0 && v.abs() < 9e15 => (*v as i64).to_string(),
        Cell::Number(Some(v)) => v.to_string(),
        Cell::Text(text) => {
            let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{text}")
            } else {
                text.clone()
            };
            if guarded.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", guarded.replace('"', "\"\""))
            } else {
                guarded
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_formulas() {
        let mut table = Table::new(["a", "b", "c"]);
        table.rows.push(vec![
            Cell::from("x,y"),
            Cell::from("say \"hi\""),
            Cell::from(Some(1.5)),
        ]);
        table.rows.push(vec![
            Cell::from("=HYPERLINK(1)"),
            Cell::from(-3i64),
            Cell::Number(None),
        ]);
        assert_eq!(
            table.render(),
            "a,b,c\r\n\"x,y\",\"say \"\"hi\"\"\",1.5\r\n'=HYPERLINK(1),-3,\r\n"
        );
    }
}
