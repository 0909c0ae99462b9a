//! Properties: the sites or apps that send beacons. Each has an ingest key (in every
//! batch), the web origins allowed to send from a browser, and a read token for the API.
//!
//! From `--properties FILE`, JSON or TOML (by extension, else whichever parses):
//!
//! ```toml
//! [[property]]
//! key = "k3y-of-my-site"
//! name = "My site"
//! origins = ["https://www.example.com", "http://localhost:5173"]   # or ["*"]
//! read_token = "a-long-secret"
//! ```
//!
//! JSON: `{"property": [{"key": …, "name": …, "origins": […], "read_token": …}]}` or just
//! the array. Without a file there is one property, `demo` (key `demo`, any origin, read
//! token `demo`), so `collector serve` works out of the box.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

/// One property.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    /// The ingest key beacons carry (`batch.key`, or `?key=`).
    pub key: String,
    /// A name for people.
    #[serde(default)]
    pub name: String,
    /// Origins (`https://host[:port]`) whose pages may send beacons; `*` for any.
    #[serde(default)]
    pub origins: Vec<String>,
    /// The token that reads this property's data through the API.
    #[serde(default)]
    pub read_token: Option<String>,
}

impl Property {
    /// Whether a page of `origin` (the request's `Origin` header) may send beacons.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        self.origins
            .iter()
            .any(|o| o == "*" || o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum File {
    List(Vec<Property>),
    Table {
        #[serde(alias = "properties")]
        property: Vec<Property>,
    },
}

/// A `--properties` file that cannot be used.
#[derive(Debug, Error)]
pub enum PropertiesError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: property {index}: {message}")]
    Invalid {
        path: String,
        index: usize,
        message: String,
    },
}

/// All properties, by ingest key.
#[derive(Debug, Clone)]
pub struct Properties {
    by_key: HashMap<String, Property>,
}

impl Default for Properties {
    /// The built-in `demo` property.
    fn default() -> Self {
        Properties::new(vec![Property {
            key: "demo".into(),
            name: "Demo".into(),
            origins: vec!["*".into()],
            read_token: Some("demo".into()),
        }])
    }
}

impl Properties {
    fn new(list: Vec<Property>) -> Self {
        Properties {
            by_key: list.into_iter().map(|p| (p.key.clone(), p)).collect(),
        }
    }

    /// Reads a JSON or TOML properties file.
    pub fn load(path: &Path) -> Result<Properties, PropertiesError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PropertiesError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// Parses the text of a properties file (`path` is for messages and the format).
    pub fn parse(text: &str, path: &str) -> Result<Properties, PropertiesError> {
        let parse_error = |message: String| PropertiesError::Parse {
            path: path.to_string(),
            message,
        };
        let file: File = if path.ends_with(".toml") {
            toml::from_str(text).map_err(|e| parse_error(e.to_string()))?
        } else if path.ends_with(".json") {
            serde_json::from_str(text).map_err(|e| parse_error(e.to_string()))?
        } else {
            serde_json::from_str(text)
                .or_else(|_| toml::from_str(text))
                .map_err(|e| parse_error(format!("neither JSON nor TOML: {e}")))?
        };
        let list = match file {
            File::List(list) | File::Table { property: list } => list,
        };
        let invalid = |index: usize, message: String| PropertiesError::Invalid {
            path: path.to_string(),
            index,
            message,
        };
        let mut seen = std::collections::HashSet::new();
        for (index, property) in list.iter().enumerate() {
            let key = &property.key;
            if key.is_empty()
                || key.len() > protocol::beacon::MAX_ID_LEN
                || !key.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(invalid(
                    index,
                    format!("key {key:?} must be 1 to 128 printable ASCII characters"),
                ));
            }
            if !seen.insert(key.clone()) {
                return Err(invalid(index, format!("key {key:?} is used twice")));
            }
            for origin in &property.origins {
                if origin != "*"
                    && !(origin.starts_with("http://") || origin.starts_with("https://"))
                {
                    return Err(invalid(
                        index,
                        format!(
                            "origin {origin:?} must be \"*\" or start with http:// or https://"
                        ),
                    ));
                }
            }
        }
        if list.is_empty() {
            return Err(parse_error("no property defined".into()));
        }
        Ok(Properties::new(list))
    }

    /// The property with ingest key `key`.
    pub fn get(&self, key: &str) -> Option<&Property> {
        self.by_key.get(key)
    }

    /// The property whose read token is `token`.
    pub fn by_read_token(&self, token: &str) -> Option<&Property> {
        self.by_key
            .values()
            .find(|p| p.read_token.as_deref() == Some(token))
    }

    /// Whether any property allows `origin` (answers preflights that name no key).
    pub fn any_allows(&self, origin: &str) -> bool {
        self.by_key.values().any(|p| p.allows(origin))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Property> {
        self.by_key.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_files() {
        let toml = r#"
            [[property]]
            key = "site"
            name = "Site"
            origins = ["https://www.example.com/"]
            read_token = "t"
        "#;
        let properties = Properties::parse(toml, "p.toml").unwrap();
        let site = properties.get("site").unwrap();
        assert!(site.allows("https://www.example.com"));
        assert!(site.allows("HTTPS://WWW.EXAMPLE.COM"));
        assert!(!site.allows("https://evil.example"));
        assert_eq!(properties.by_read_token("t").unwrap().key, "site");

        let json = r#"[{"key":"a","origins":["*"]},{"key":"b"}]"#;
        let properties = Properties::parse(json, "p").unwrap();
        assert!(properties.get("a").unwrap().allows("https://anything"));
        assert!(!properties.get("b").unwrap().allows("https://anything"));
        assert!(properties.any_allows("https://anything"));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        for (text, expected) in [
            (r#"[{"key":"a"},{"key":"a"}]"#, "used twice"),
            (r#"[{"key":""}]"#, "printable"),
            (r#"[{"key":"a","origins":["example.com"]}]"#, "http://"),
            (r#"[{"key":"a","colour":"red"}]"#, "neither JSON nor TOML"),
            ("[]", "no property"),
        ] {
            let error = Properties::parse(text, "p").unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        assert!(Properties::default().get("demo").is_some());
    }
}
