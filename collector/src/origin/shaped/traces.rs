//! The traces of `--traces DIR` (repeatable), loaded once at startup and named by file
//! name; a name found in two directories is an error naming both.
//!
//! Every regular file of the directory is a trace (hidden files and `README*` aside, as
//! the lab reads them); one malformed file stops the server with an error naming the file
//! and line, so an experiment never runs on fewer traces than its author thinks. A trace is
//! requested by its file name, or by the name without its last extension when no other
//! file claims that shorter name.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use player_wasm::sim::trace::{Trace, TraceError};

use super::link::Capacity;
use crate::origin::OriginError;

/// Why the traces could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TraceLoadError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("trace {name:?} is in both {first} and {second}", first = first.display(), second = second.display())]
    SameName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// A loaded trace, ready to shape sessions.
#[derive(Debug)]
pub struct NamedTrace {
    /// File name in `--traces`.
    pub name: String,
    pub capacity: Capacity,
    /// The samples as read (seconds, Mbit/s), for pages that draw the trace.
    pub samples: Trace,
    /// The directory's name.
    pub set: String,
}

/// What `GET /shaped/` lists about a trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TraceSummary {
    pub name: String,
    /// The name of the directory it came from (a trace set: `oboe`, `fcc-test-windows`…).
    pub set: String,
    pub duration_s: f64,
    pub mean_mbps: f64,
}

/// The traces sessions may follow.
#[derive(Debug, Default)]
pub struct TraceSet {
    by_name: HashMap<String, Arc<NamedTrace>>,
    /// Every trace once, by name.
    listed: Vec<Arc<NamedTrace>>,
}

impl TraceSet {
    /// Loads every trace of every directory of `dirs`; none, no traces.
    pub fn load(dirs: &[PathBuf]) -> Result<TraceSet, TraceLoadError> {
        let mut traces: Vec<NamedTrace> = Vec::new();
        let mut origin: HashMap<String, PathBuf> = HashMap::new();
        for dir in dirs {
            let set = dir
                .file_name()
                .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
            for trace in Trace::load_dir(dir)? {
                let capacity = Capacity::new(&trace).ok_or_else(|| TraceError::NoCapacity {
                    path: dir.join(&trace.name),
                })?;
                if let Some(first) = origin.insert(trace.name.clone(), dir.clone()) {
                    return Err(TraceLoadError::SameName {
                        name: trace.name,
                        first,
                        second: dir.clone(),
                    });
                }
                traces.push(NamedTrace {
                    name: trace.name.clone(),
                    capacity,
                    samples: trace,
                    set: set.clone(),
                });
            }
        }
        Ok(TraceSet::from_traces(traces))
    }

    /// A set of already loaded traces (names must be distinct).
    pub fn from_traces(traces: Vec<NamedTrace>) -> TraceSet {
        let mut listed: Vec<Arc<NamedTrace>> = traces.into_iter().map(Arc::new).collect();
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        let mut by_name: HashMap<String, Arc<NamedTrace>> = listed
            .iter()
            .map(|trace| (trace.name.clone(), trace.clone()))
            .collect();
        let mut stems: HashMap<String, Vec<Arc<NamedTrace>>> = HashMap::new();
        for trace in by_name.values() {
            if let Some((stem, _)) = trace.name.rsplit_once('.')
                && !stem.is_empty()
            {
                stems
                    .entry(stem.to_string())
                    .or_default()
                    .push(trace.clone());
            }
        }
        for (stem, mut claimants) in stems {
            if claimants.len() == 1 && !by_name.contains_key(&stem) {
                by_name.insert(stem, claimants.remove(0));
            }
        }
        TraceSet { by_name, listed }
    }

    /// Number of trace files loaded.
    pub fn len(&self) -> usize {
        self.listed.len()
    }

    /// True when no trace is loaded.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// Every trace, by name: its length and mean rate.
    pub fn summaries(&self) -> Vec<TraceSummary> {
        self.listed
            .iter()
            .map(|trace| TraceSummary {
                name: trace.name.clone(),
                set: trace.set.clone(),
                duration_s: trace.samples.times_s.last().copied().unwrap_or(0.0),
                mean_mbps: trace.samples.mean_mbps(),
            })
            .collect()
    }

    /// The trace a URL names.
    pub fn get(&self, requested: &str) -> Result<Arc<NamedTrace>, OriginError> {
        check_name("trace name", requested)?;
        self.by_name
            .get(requested)
            .cloned()
            .ok_or_else(|| OriginError::UnknownTrace(requested.to_string()))
    }
}

/// A path segment naming a file: not empty, `.` or `..`, and no separators or NUL.
fn check_name(what: &str, name: &str) -> Result<(), OriginError> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(OriginError::BadRequest(format!(
            "{what} {name:?} must be a file name (no `/`, `\\`, NUL, `.` or `..`)"
        )));
    }
    Ok(())
}

/// Longest session id accepted.
const MAX_SESSION_LEN: usize = 128;

/// A session id: 1 to 128 of `A-Z a-z 0-9 - _ . ~` (URL-safe as it is), not `.` or `..`.
pub fn check_session_id(id: &str) -> Result<(), OriginError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
    if id.is_empty()
        || id.len() > MAX_SESSION_LEN
        || id == "."
        || id == ".."
        || !id.chars().all(allowed)
    {
        return Err(OriginError::BadRequest(format!(
            "session id {id:?} must be 1 to {MAX_SESSION_LEN} of A-Z a-z 0-9 - _ . ~ (not `.` or `..`)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> NamedTrace {
        let trace = Trace::parse(std::path::Path::new(name), "0 1\n1 1\n").unwrap();
        NamedTrace {
            name: name.to_string(),
            capacity: Capacity::new(&trace).unwrap(),
            samples: trace,
            set: "s".into(),
        }
    }

    #[test]
    fn every_trace_is_listed_once_with_its_length_and_mean() {
        let set = TraceSet::from_traces(vec![named("b.txt"), named("a")]);
        let names: Vec<String> = set.summaries().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["a", "b.txt"]);
        let first = &set.summaries()[0];
        assert_eq!((first.duration_s, first.mean_mbps), (1.0, 1.0));
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn names_with_and_without_extension() {
        let set = TraceSet::from_traces(vec![
            named("const.txt"),
            named("dup.a"),
            named("dup.b"),
            named("plain"),
            named("plain.log"),
            named("trace+Xy=_3"),
        ]);
        assert_eq!(set.len(), 6);
        assert_eq!(set.get("const.txt").unwrap().name, "const.txt");
        assert_eq!(set.get("const").unwrap().name, "const.txt");
        assert!(matches!(set.get("dup"), Err(OriginError::UnknownTrace(_))));
        assert_eq!(set.get("plain").unwrap().name, "plain");
        assert_eq!(set.get("trace+Xy=_3").unwrap().name, "trace+Xy=_3");
        for bad in ["", ".", "..", "a/b", "..\\x", "a\0"] {
            assert!(
                matches!(set.get(bad), Err(OriginError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn session_ids() {
        for good in ["s1", "0f8c-44.a_b~", &"x".repeat(128)] {
            assert!(check_session_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(129), "a%2F"] {
            assert!(check_session_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loading_reports_the_bad_file() {
        let dir = tempfile_dir("load");
        std::fs::write(dir.join("good.txt"), "0 2\n10 2\n").unwrap();
        let set = TraceSet::load(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(
            set.summaries()[0].set,
            dir.file_name().unwrap().to_str().unwrap()
        );
        std::fs::write(dir.join("bad.txt"), "0 2\n1 x\n").unwrap();
        let error = TraceSet::load(std::slice::from_ref(&dir))
            .unwrap_err()
            .to_string();
        assert!(error.contains("bad.txt:2"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(TraceSet::load(&[]).unwrap().is_empty());
    }

    #[test]
    fn several_directories_load_and_a_name_in_two_is_refused() {
        let first = tempfile_dir("first");
        let second = tempfile_dir("second");
        std::fs::write(first.join("a.txt"), "0 2\n10 2\n").unwrap();
        std::fs::write(second.join("b.txt"), "0 3\n10 3\n").unwrap();
        let dirs = [first.clone(), second.clone()];
        let set = TraceSet::load(&dirs).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.get("b").is_ok());
        std::fs::write(second.join("a.txt"), "0 1\n10 1\n").unwrap();
        let error = TraceSet::load(&dirs).unwrap_err().to_string();
        assert!(error.contains("\"a.txt\" is in both"), "{error}");
        std::fs::remove_dir_all(&first).unwrap();
        std::fs::remove_dir_all(&second).unwrap();
    }

    fn tempfile_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("shaped-traces-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
