//! [`Url`]: absolute URLs and the resolution of the references playlists hold, as the
//! WHATWG URL Standard does it for what HLS streams use (`http`, `https`, `file`, `blob`,
//! `data`), in a few kilobytes of the browser package instead of the `url` crate's forty.
//!
//! What it does: scheme and host lowercased, default ports dropped, `.` and `..` segments
//! removed, backslashes read as slashes in special schemes, characters outside the allowed
//! sets percent-encoded (UTF-8), references resolved against a base (RFC 3986 section 5 as
//! refined by WHATWG). What it refuses, with a [`UrlError`]: non-ASCII host names (IDNA is
//! left to the browser, which hands the engine resolved URLs), forbidden host characters,
//! bad ports, unclosed IPv6 literals, relative references without a usable base.
//!
//! `tests/url_oracle.rs` checks it against the `url` crate on every URI of the fixture
//! playlists and on hand-picked edge cases.

use std::fmt;

use thiserror::Error;

/// Why a URL or a reference could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    #[error("relative URL without a base")]
    RelativeWithoutBase,
    #[error("cannot resolve a relative reference against a {scheme}: URL")]
    CannotBeABase { scheme: String },
    #[error("empty host")]
    EmptyHost,
    #[error("invalid port number")]
    InvalidPort,
    #[error("invalid IPv6 address")]
    InvalidIpv6,
    #[error("non-ASCII host names are not supported")]
    NonAsciiHost,
    #[error("invalid character {0:?} in host name")]
    InvalidHostCharacter(char),
}

/// An absolute URL, kept in its serialized (normalized) form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Url {
    serialization: String,
    /// Byte offsets into `serialization`: the `:` after the scheme, the start of the path,
    /// the `?` of the query and the `#` of the fragment (each `len` when absent).
    scheme_end: usize,
    path_start: usize,
    query_start: usize,
    fragment_start: usize,
}

/// Schemes with hosts and hierarchical paths in which `\` means `/`.
fn is_special(scheme: &str) -> bool {
    matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp" | "file")
}

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        "ftp" => Some("21"),
        _ => None,
    }
}

impl Url {
    /// Parses an absolute URL.
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        let input = clean(input);
        let (scheme, rest) = split_scheme(&input).ok_or(UrlError::RelativeWithoutBase)?;
        let scheme = scheme.to_ascii_lowercase();
        let special = is_special(&scheme);
        let mut out = String::with_capacity(input.len() + 1);
        out.push_str(&scheme);
        out.push(':');
        let scheme_end = scheme.len();
        let is_slash = |c: char| c == '/' || (special && c == '\\');
        let has_authority = if special {
            true
        } else {
            rest.starts_with("//")
        };
        let rest = if has_authority {
            let after_slashes = if scheme == "file" {
                // `file:///path`: exactly two slashes before the (usually empty) host.
                let mut rest = rest;
                for _ in 0..2 {
                    rest = rest.strip_prefix(is_slash).unwrap_or(rest);
                }
                rest
            } else {
                rest.trim_start_matches(is_slash)
            };
            let authority_len = after_slashes
                .find(|c: char| is_slash(c) || c == '?' || c == '#')
                .unwrap_or(after_slashes.len());
            let (authority, after) = after_slashes.split_at(authority_len);
            out.push_str("//");
            write_authority(&mut out, &scheme, authority)?;
            after
        } else {
            rest
        };
        let path_start = out.len();
        let (path, query, fragment) = split_path_query_fragment(rest);
        if has_authority {
            let path = if special {
                path.replace('\\', "/")
            } else {
                path.to_owned()
            };
            // A non-special URL with a host keeps an empty path (`skd://asset`).
            if special || !path.is_empty() {
                write_path(&mut out, &path);
            }
        } else {
            // An opaque path (`data:`, `blob:`, `mailto:`): kept as written, encoded.
            encode_into(&mut out, path, is_c0_control);
        }
        let query_start = out.len();
        if let Some(query) = query {
            out.push('?');
            let special_query = |c: char| is_query_encoded(c) || (special && c == '\'');
            encode_into(&mut out, query, special_query);
        }
        let fragment_start = out.len();
        if let Some(fragment) = fragment {
            out.push('#');
            encode_into(&mut out, fragment, is_fragment_encoded);
        }
        Ok(Url {
            serialization: out,
            scheme_end,
            path_start,
            query_start,
            fragment_start,
        })
    }

    /// Resolves `reference` (a URI as written in a playlist) against this URL.
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        let reference = clean(reference);
        let special = is_special(self.scheme());
        if let Some((scheme, rest)) = split_scheme(&reference) {
            // `http:path` against an http base is relative in the WHATWG standard.
            let same_special = special && scheme.eq_ignore_ascii_case(self.scheme());
            if !same_special || rest.starts_with("//") || rest.starts_with("\\\\") {
                return Url::parse(&reference);
            }
            return self.join(rest);
        }
        let is_slash = |c: char| c == '/' || (special && c == '\\');
        let opaque = !self.serialization[self.scheme_end + 1..].starts_with("//");
        if opaque {
            return match reference.strip_prefix('#') {
                Some(_) => Url::parse(&format!(
                    "{}{}",
                    &self.serialization[..self.fragment_start],
                    reference
                )),
                None => Err(UrlError::CannotBeABase {
                    scheme: self.scheme().to_owned(),
                }),
            };
        }
        let mut chars = reference.chars();
        let first = chars.next();
        let second = chars.next();
        let absolute = match (first, second) {
            (Some(a), Some(b)) if is_slash(a) && is_slash(b) => {
                format!("{}:{}", self.scheme(), reference)
            }
            (Some(a), _) if is_slash(a) => {
                format!("{}{}", &self.serialization[..self.path_start], reference)
            }
            (Some('?'), _) => format!("{}{}", &self.serialization[..self.query_start], reference),
            (Some('#'), _) => {
                format!(
                    "{}{}",
                    &self.serialization[..self.fragment_start],
                    reference
                )
            }
            (None, _) => self.serialization[..self.fragment_start].to_owned(),
            _ => {
                let path = self.path();
                let directory = &path[..path.rfind('/').map_or(0, |slash| slash + 1)];
                format!(
                    "{}{}{}",
                    &self.serialization[..self.path_start],
                    if directory.is_empty() { "/" } else { directory },
                    reference
                )
            }
        };
        Url::parse(&absolute)
    }

    /// The URL of a local file (an absolute path).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_file_path(path: impl AsRef<std::path::Path>) -> Result<Url, UrlError> {
        let path = path.as_ref();
        match path.to_str() {
            Some(text) if path.is_absolute() => {
                Url::parse(&format!("file://{}", text.replace('%', "%25")))
            }
            _ => Err(UrlError::RelativeWithoutBase),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.serialization
    }

    /// The scheme, lowercase, without `:`.
    pub fn scheme(&self) -> &str {
        &self.serialization[..self.scheme_end]
    }

    /// The path (percent-encoded), `/` at least for URLs with a host.
    pub fn path(&self) -> &str {
        &self.serialization[self.path_start..self.query_start]
    }

    /// The query without `?`, if there is one.
    pub fn query(&self) -> Option<&str> {
        (self.query_start < self.fragment_start)
            .then(|| &self.serialization[self.query_start + 1..self.fragment_start])
    }

    /// The URL without its query and fragment.
    pub fn without_query(&self) -> &str {
        &self.serialization[..self.query_start]
    }

    /// The host (and port) part, if the URL has one.
    pub fn authority(&self) -> Option<&str> {
        self.serialization[self.scheme_end + 1..self.path_start].strip_prefix("//")
    }

    /// The decoded value of the first query parameter `name` (`application/x-www-form-
    /// urlencoded`: `+` is a space), if present.
    pub fn query_parameter(&self, name: &str) -> Option<String> {
        self.query()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(key) == name).then(|| form_decode(value))
        })
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialization)
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({:?})", self.serialization)
    }
}

impl std::str::FromStr for Url {
    type Err = UrlError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Url::parse(text)
    }
}

impl From<Url> for String {
    fn from(url: Url) -> String {
        url.serialization
    }
}

impl AsRef<str> for Url {
    fn as_ref(&self) -> &str {
        &self.serialization
    }
}

impl serde::Serialize for Url {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.serialization)
    }
}

/// Leading and trailing C0 controls and spaces removed, tabs and newlines inside removed.
fn clean(input: &str) -> String {
    input
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|&c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// `scheme:rest` when `input` starts with a valid scheme.
fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let colon = input.find(':')?;
    let scheme = &input[..colon];
    let mut bytes = scheme.bytes();
    let valid = bytes.next()?.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then(|| (scheme, &input[colon + 1..]))
}

fn split_path_query_fragment(rest: &str) -> (&str, Option<&str>, Option<&str>) {
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (rest, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    (path, query, fragment)
}

/// `[userinfo@]host[:port]`, checked and normalized.
fn write_authority(out: &mut String, scheme: &str, authority: &str) -> Result<(), UrlError> {
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo.filter(|info| !info.is_empty()) {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        encode_into(out, user, is_userinfo_encoded);
        if let Some(password) = password.filter(|password| !password.is_empty()) {
            out.push(':');
            encode_into(out, password, is_userinfo_encoded);
        }
        out.push('@');
    }
    let (host, port) = if host_port.starts_with('[') {
        let close = host_port.find(']').ok_or(UrlError::InvalidIpv6)?;
        let literal = &host_port[1..close];
        if literal.is_empty()
            || !literal.contains(':')
            || !literal
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(UrlError::InvalidIpv6);
        }
        let port = match &host_port[close + 1..] {
            "" => None,
            rest => Some(rest.strip_prefix(':').ok_or(UrlError::InvalidIpv6)?),
        };
        (&host_port[..=close], port)
    } else {
        match host_port.rfind(':') {
            Some(colon) => (&host_port[..colon], Some(&host_port[colon + 1..])),
            None => (host_port, None),
        }
    };
    let decoded_host;
    let host = if host.contains('%') && !host.starts_with('[') {
        decoded_host = percent_decode(host);
        decoded_host.as_str()
    } else {
        host
    };
    if host.is_empty() {
        if scheme == "file" && port.is_none() {
            return Ok(());
        }
        return Err(UrlError::EmptyHost);
    }
    for c in host.chars() {
        if !c.is_ascii() {
            return Err(UrlError::NonAsciiHost);
        }
        if host.starts_with('[') {
            continue;
        }
        if c <= ' '
            || matches!(
                c,
                '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|'
            )
            || c == '\u{7f}'
        {
            return Err(UrlError::InvalidHostCharacter(c));
        }
    }
    out.push_str(&host.to_ascii_lowercase());
    if scheme == "file" && port.is_some() {
        return Err(UrlError::InvalidPort);
    }
    if let Some(port) = port.filter(|port| !port.is_empty()) {
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UrlError::InvalidPort);
        }
        let digits = port.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        if digits.len() > 5 || digits.parse::<u32>().map_or(true, |n| n > 65_535) {
            return Err(UrlError::InvalidPort);
        }
        if default_port(scheme) != Some(digits) {
            out.push(':');
            out.push_str(digits);
        }
    }
    Ok(())
}

/// A hierarchical path: starts with `/`, dot segments removed, characters encoded.
fn write_path(out: &mut String, path: &str) {
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path
        .split('/')
        .skip(usize::from(path.starts_with('/')))
        .collect();
    let last = parts.len().saturating_sub(1);
    for (index, part) in parts.iter().enumerate() {
        let lower = part.to_ascii_lowercase();
        let single = matches!(lower.as_str(), "." | "%2e");
        let double = matches!(lower.as_str(), ".." | ".%2e" | "%2e." | "%2e%2e");
        if double {
            segments.pop();
            if index == last {
                segments.push("");
            }
        } else if single {
            if index == last {
                segments.push("");
            }
        } else {
            segments.push(part);
        }
    }
    if segments.is_empty() {
        out.push('/');
    }
    for segment in segments {
        out.push('/');
        encode_into(out, segment, is_path_encoded);
    }
}

fn is_c0_control(c: char) -> bool {
    c < ' ' || c == '\u{7f}'
}

fn is_fragment_encoded(c: char) -> bool {
    is_c0_control(c) || matches!(c, ' ' | '"' | '<' | '>' | '`')
}

fn is_query_encoded(c: char) -> bool {
    is_c0_control(c) || matches!(c, ' ' | '"' | '#' | '<' | '>')
}

fn is_path_encoded(c: char) -> bool {
    is_query_encoded(c) || matches!(c, '?' | '^' | '`' | '{' | '}')
}

fn is_userinfo_encoded(c: char) -> bool {
    is_path_encoded(c) || matches!(c, '/' | ':' | ';' | '=' | '@' | '[' | '\\' | ']' | '|')
}

/// Appends `text`, percent-encoding non-ASCII characters (as UTF-8) and those `encoded`
/// selects. Existing `%XX` escapes are kept.
fn encode_into(out: &mut String, text: &str, encoded: impl Fn(char) -> bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for c in text.chars() {
        if c.is_ascii() && !encoded(c) {
            out.push(c);
        } else {
            let mut buffer = [0u8; 4];
            for &byte in c.encode_utf8(&mut buffer).as_bytes() {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
}

/// `%XX` escapes decoded (invalid UTF-8 replaced).
fn percent_decode(text: &str) -> String {
    decode(text, false)
}

/// `application/x-www-form-urlencoded` decoding of one name or value.
fn form_decode(text: &str) -> String {
    decode(text, true)
}

/// `%XX` escapes decoded, and `+` as a space when `plus_is_space`.
fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let hex = |offset: usize| {
            bytes
                .get(index + offset)
                .and_then(|&b| char::from(b).to_digit(16))
        };
        match (byte, hex(1), hex(2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
            (b'+', _, _) if plus_is_space => decoded.push(b' '),
            _ => decoded.push(byte),
        }
        index += 1;
    }
    crate::small_str::from_utf8_lossy(&decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(base: &str, reference: &str) -> String {
        Url::parse(base)
            .unwrap()
            .join(reference)
            .unwrap()
            .to_string()
    }

    #[test]
    fn absolute_urls_are_normalized() {
        let url = Url::parse("HTTPS://CDN.Example:443/a/./b/../c.m3u8?x=1#t").unwrap();
        assert_eq!(url.as_str(), "https://cdn.example/a/c.m3u8?x=1#t");
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.path(), "/a/c.m3u8");
        assert_eq!(url.query(), Some("x=1"));
        assert_eq!(url.authority(), Some("cdn.example"));
        assert_eq!(url.without_query(), "https://cdn.example/a/c.m3u8");
        assert_eq!(
            Url::parse("http://h:8080").unwrap().as_str(),
            "http://h:8080/"
        );
        assert_eq!(
            Url::parse("http://h/a b\"c").unwrap().as_str(),
            "http://h/a%20b%22c"
        );
        assert_eq!(
            Url::parse("http://h/é?q=é").unwrap().as_str(),
            "http://h/%C3%A9?q=%C3%A9"
        );
        assert_eq!(
            Url::parse("file:///tmp/x.m3u8").unwrap().as_str(),
            "file:///tmp/x.m3u8"
        );
        assert_eq!(
            Url::parse("blob:https://a.test/1234").unwrap().as_str(),
            "blob:https://a.test/1234"
        );
    }

    #[test]
    fn references_resolve_like_rfc_3986() {
        let base = "http://a/b/c/d;p?q";
        for (reference, expected) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("g#s", "http://a/b/c/g#s"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            ("..g", "http://a/b/c/..g"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("https://other/x", "https://other/x"),
            ("http:g", "http://a/b/c/g"),
            ("\\g", "http://a/g"),
        ] {
            assert_eq!(join(base, reference), expected, "{reference}");
        }
    }

    #[test]
    fn bad_input_gets_an_error() {
        assert_eq!(Url::parse("a.ts"), Err(UrlError::RelativeWithoutBase));
        assert_eq!(Url::parse("https://[::1/"), Err(UrlError::InvalidIpv6));
        assert_eq!(Url::parse("http://h:99999/"), Err(UrlError::InvalidPort));
        assert_eq!(Url::parse("http://h:x/"), Err(UrlError::InvalidPort));
        assert_eq!(Url::parse("http://:80/x"), Err(UrlError::EmptyHost));
        // Extra slashes before the host are skipped in special schemes (WHATWG).
        assert_eq!(Url::parse("http:///x").unwrap().as_str(), "http://x/");
        assert_eq!(Url::parse("http://bücher.de/"), Err(UrlError::NonAsciiHost));
        assert_eq!(
            Url::parse("http://a b/"),
            Err(UrlError::InvalidHostCharacter(' '))
        );
        let data = Url::parse("data:text/plain,hi").unwrap();
        assert!(matches!(
            data.join("x.ts"),
            Err(UrlError::CannotBeABase { .. })
        ));
        assert_eq!(
            Url::parse("http://[::1]:8080/x").unwrap().as_str(),
            "http://[::1]:8080/x"
        );
    }

    #[test]
    fn query_parameters_are_decoded() {
        let url = Url::parse("https://h/p.m3u8?token=a%20b&x=1+2&token=second").unwrap();
        assert_eq!(url.query_parameter("token").as_deref(), Some("a b"));
        assert_eq!(url.query_parameter("x").as_deref(), Some("1 2"));
        assert_eq!(url.query_parameter("y"), None);
    }
}
