//! Network throughput traces in the two-column Pensieve format.
//!
//! One sample per line: `time_s throughput_Mbps`, separated by whitespace. Blank lines are
//! skipped; anything else that is not two finite numbers, times that go backwards,
//! negative throughput, a file with fewer than two samples or with no throughput at all
//! is an error that names the file and the line.

use std::path::{Path, PathBuf};

/// A throughput trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// File name, used in reports.
    pub name: String,
    /// Sample times in seconds, non-decreasing.
    pub times_s: Vec<f64>,
    /// Throughput of each sample in Mbit/s.
    pub mbps: Vec<f64>,
}

/// What was wrong with a trace file.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected two columns `time_s throughput_Mbps`, found {found}")]
    Columns {
        path: PathBuf,
        line: usize,
        found: usize,
    },
    #[error("{path}:{line}: {column} is not a finite number: {text:?}")]
    NotANumber {
        path: PathBuf,
        line: usize,
        column: &'static str,
        text: String,
    },
    #[error("{path}:{line}: time {time} is before the previous sample's {previous}")]
    TimeGoesBack {
        path: PathBuf,
        line: usize,
        time: f64,
        previous: f64,
    },
    #[error("{path}:{line}: negative throughput {mbps}")]
    NegativeThroughput {
        path: PathBuf,
        line: usize,
        mbps: f64,
    },
    #[error("{path}: needs at least two samples, found {found}")]
    TooShort { path: PathBuf, found: usize },
    #[error(
        "{path}: every sample after the first has zero throughput or zero duration; nothing could ever be downloaded"
    )]
    NoCapacity { path: PathBuf },
    #[error("{path}: no trace files in this directory")]
    EmptyDirectory { path: PathBuf },
}

impl Trace {
    /// Parses trace text; `path` only labels errors.
    pub fn parse(path: &Path, text: &str) -> Result<Trace, TraceError> {
        let mut times_s = Vec::new();
        let mut mbps = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            if fields.len() != 2 {
                return Err(TraceError::Columns {
                    path: path.to_owned(),
                    line: line_number,
                    found: fields.len(),
                });
            }
            let number = |column: &'static str, text: &str| {
                text.parse::<f64>()
                    .ok()
                    .filter(|value| value.is_finite())
                    .ok_or_else(|| TraceError::NotANumber {
                        path: path.to_owned(),
                        line: line_number,
                        column,
                        text: text.to_owned(),
                    })
            };
            let time = number("time", fields[0])?;
            let rate = number("throughput", fields[1])?;
            if let Some(&previous) = times_s.last()
                && time < previous
            {
                return Err(TraceError::TimeGoesBack {
                    path: path.to_owned(),
                    line: line_number,
                    time,
                    previous,
                });
            }
            if rate < 0.0 {
                return Err(TraceError::NegativeThroughput {
                    path: path.to_owned(),
                    line: line_number,
                    mbps: rate,
                });
            }
            times_s.push(time);
            mbps.push(rate);
        }
        if times_s.len() < 2 {
            return Err(TraceError::TooShort {
                path: path.to_owned(),
                found: times_s.len(),
            });
        }
        let has_capacity = (1..times_s.len()).any(|i| mbps[i] > 0.0 && times_s[i] > times_s[i - 1])
            || (mbps[1] > 0.0 && times_s[1] > 0.0);
        if !has_capacity {
            return Err(TraceError::NoCapacity {
                path: path.to_owned(),
            });
        }
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Trace {
            name,
            times_s,
            mbps,
        })
    }

    /// Reads and parses one trace file.
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let bytes = std::fs::read(path).map_err(|source| TraceError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        Trace::parse(path, &text)
    }

    /// Loads every regular file of a directory (sorted by name; hidden files and
    /// `README*` are skipped).
    pub fn load_dir(dir: &Path) -> Result<Vec<Trace>, TraceError> {
        let read_error = |source| TraceError::Read {
            path: dir.to_owned(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read_error)?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .filter(|path| {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                !name.starts_with('.') && !name.starts_with("README")
            })
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(TraceError::EmptyDirectory {
                path: dir.to_owned(),
            });
        }
        paths.iter().map(|path| Trace::load(path)).collect()
    }

    /// Mean throughput over the trace's duration, in Mbit/s.
    pub fn mean_mbps(&self) -> f64 {
        let mut bits = 0.0;
        for i in 1..self.times_s.len() {
            bits += self.mbps[i] * (self.times_s[i] - self.times_s[i - 1]);
        }
        let span = self.times_s[self.times_s.len() - 1] - self.times_s[0];
        if span > 0.0 { bits / span } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Trace, TraceError> {
        Trace::parse(Path::new("t.txt"), text)
    }

    #[test]
    fn parses_two_columns_with_tabs_spaces_and_blank_lines() {
        let trace = parse("0\t1.5\n\n1 2.0\r\n2.5   0\n").unwrap();
        assert_eq!(trace.times_s, vec![0.0, 1.0, 2.5]);
        assert_eq!(trace.mbps, vec![1.5, 2.0, 0.0]);
        assert_eq!(trace.name, "t.txt");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases = [
            ("0 1\n1 2 3\n", "t.txt:2", "two columns"),
            (
                "0 1\n1 fast\n",
                "t.txt:2",
                "throughput is not a finite number",
            ),
            ("0 1\nNaN 1\n", "t.txt:2", "time is not"),
            ("0 1\n2 1\n1 1\n", "t.txt:3", "before the previous"),
            ("0 1\n1 -3\n", "t.txt:2", "negative"),
            ("", "t.txt", "at least two samples"),
            ("0 1\n", "t.txt", "at least two samples"),
            (
                "0 0\n1 0\n2 0\n",
                "t.txt",
                "nothing could ever be downloaded",
            ),
            ("0 1\n1 inf\n", "t.txt:2", "finite"),
        ];
        for (text, place, message) in cases {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(place), "{error:?} should name {place}");
            assert!(error.contains(message), "{error:?} should say {message}");
        }
    }

    #[test]
    fn mean_is_time_weighted() {
        let trace = parse("0 9\n1 1\n4 5\n").unwrap();
        // 1 s at 1 Mbit/s then 3 s at 5 Mbit/s.
        assert!((trace.mean_mbps() - 4.0).abs() < 1e-12);
    }

    #[test]
    fn directory_errors_are_reported() {
        let dir = std::env::temp_dir().join(format!("sim-trace-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(matches!(
            Trace::load_dir(&dir),
            Err(TraceError::EmptyDirectory { .. })
        ));
        std::fs::write(dir.join("b"), "0 1\n1 1\n").unwrap();
        std::fs::write(dir.join("a"), "0 1\n1 x\n").unwrap();
        let error = Trace::load_dir(&dir).unwrap_err().to_string();
        assert!(error.contains("/a:2"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
