//! Origins: what a URL returns.

use crate::engine::FetchFailure;
use crate::hls::ByteRange;
use std::collections::HashMap;

/// A response body (or failure) for a URL.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// A playlist.
    Text(String),
    /// Media of this many bytes (the bytes themselves do not matter to the engine).
    Bytes(u64),
    /// The request fails.
    Fail(FetchFailure),
}

/// Answers requests.
pub trait Origin {
    /// The response for `url` at virtual time `now`, restricted to `range` if given.
    fn get(&mut self, now: f64, url: &str, range: Option<ByteRange>) -> Resource;
}

/// An origin from a map of URLs, with failures that can be injected.
#[derive(Debug, Clone, Default)]
pub struct MapOrigin {
    resources: HashMap<String, Resource>,
    /// URL → failures still to return before answering normally.
    failures: HashMap<String, Vec<FetchFailure>>,
    /// Every URL asked for, in order.
    pub requested: Vec<String>,
}

impl MapOrigin {
    /// An empty origin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `text` at `url`.
    pub fn text(&mut self, url: &str, text: &str) -> &mut Self {
        self.resources
            .insert(url.to_owned(), Resource::Text(text.to_owned()));
        self
    }

    /// The playlist text served at `url`, if any.
    pub fn text_of(&self, url: &str) -> Option<&str> {
        match self.resources.get(url) {
            Some(Resource::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// Serves `bytes` bytes of media at `url`.
    pub fn bytes(&mut self, url: &str, bytes: u64) -> &mut Self {
        self.resources
            .insert(url.to_owned(), Resource::Bytes(bytes));
        self
    }

    /// The next `count` requests for `url` fail with `status`.
    pub fn fail_next(&mut self, url: &str, status: Option<u16>, count: usize) -> &mut Self {
        let failure = FetchFailure {
            status,
            message: "injected failure".into(),
        };
        self.failures
            .entry(url.to_owned())
            .or_default()
            .extend(std::iter::repeat_n(failure, count));
        self
    }
}

impl Origin for MapOrigin {
    fn get(&mut self, _now: f64, url: &str, range: Option<ByteRange>) -> Resource {
        self.requested.push(url.to_owned());
        if let Some(queue) = self.failures.get_mut(url)
            && !queue.is_empty()
        {
            return Resource::Fail(queue.remove(0));
        }
        match (self.resources.get(url), range) {
            (None, _) => Resource::Fail(FetchFailure {
                status: Some(404),
                message: "Not Found".into(),
            }),
            (Some(Resource::Bytes(size)), Some(range)) => {
                if range.offset >= *size {
                    Resource::Fail(FetchFailure {
                        status: Some(416),
                        message: "Range Not Satisfiable".into(),
                    })
                } else {
                    Resource::Bytes(range.length.min(size - range.offset))
                }
            }
            (Some(resource), _) => resource.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_ranges_injected_failures_and_404() {
        let mut origin = MapOrigin::new();
        origin
            .bytes("https://o/a.mp4", 1000)
            .fail_next("https://o/a.mp4", Some(503), 1);
        assert!(matches!(
            origin.get(0.0, "https://o/a.mp4", None),
            Resource::Fail(FetchFailure {
                status: Some(503),
                ..
            })
        ));
        let range = ByteRange {
            offset: 900,
            length: 500,
        };
        assert_eq!(
            origin.get(0.0, "https://o/a.mp4", Some(range)),
            Resource::Bytes(100)
        );
        let beyond = ByteRange {
            offset: 1000,
            length: 1,
        };
        assert!(matches!(
            origin.get(0.0, "https://o/a.mp4", Some(beyond)),
            Resource::Fail(FetchFailure {
                status: Some(416),
                ..
            })
        ));
        assert!(matches!(
            origin.get(0.0, "https://o/missing", None),
            Resource::Fail(FetchFailure {
                status: Some(404),
                ..
            })
        ));
        assert_eq!(origin.requested.len(), 4);
    }
}
