//! HTTP semantics of serving one file: conditional requests (`If-None-Match`,
//! `If-Modified-Since`, `If-Match`, `If-Unmodified-Since`, `If-Range`), byte ranges
//! (206, 416), validators and caching headers. The body is left as a [`BodySource`] so
//! routes can reshape its delivery (throttle, truncate, stall) without copying it.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::content_type::FileKind;
use super::store::{Content, MediaFile};

/// A stream of body chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// The bytes a response will carry, not yet turned into a body.
#[derive(Debug, Clone)]
pub enum BodySource {
    Empty,
    Memory(Bytes),
    /// `len` bytes of a file from `offset`.
    Disk {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
}

/// Largest chunk read from disk at once.
const DISK_CHUNK: usize = 256 * 1024;

impl BodySource {
    /// Bytes the body will carry.
    pub fn len(&self) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Memory(b) => b.len() as u64,
            Self::Disk { len, .. } => *len,
        }
    }

    /// True when the body carries nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The body as a stream of chunks of at most `max_chunk` bytes.
    pub fn into_stream(self, max_chunk: usize) -> ByteStream {
        let max_chunk = max_chunk.max(1);
        match self {
            Self::Empty => Box::pin(stream::empty()),
            Self::Memory(bytes) => {
                let chunks = (0..bytes.len())
                    .step_by(max_chunk)
                    .map(move |start| Ok(bytes.slice(start..(start + max_chunk).min(bytes.len()))));
                Box::pin(stream::iter(chunks.collect::<Vec<_>>()))
            }
            Self::Disk { path, offset, len } => {
                let chunk = max_chunk.min(DISK_CHUNK);
                let opened = async move {
                    let mut file = tokio::fs::File::open(&path).await?;
                    file.seek(io::SeekFrom::Start(offset)).await?;
                    Ok::<_, io::Error>(file.take(len))
                };
                Box::pin(
                    stream::once(opened)
                        .map(move |file| match file {
                            Ok(file) => {
                                tokio_util::io::ReaderStream::with_capacity(file, chunk).boxed()
                            }
                            Err(e) => stream::once(async move { Err(e) }).boxed(),
                        })
                        .flatten(),
                )
            }
        }
    }

    /// The body as it is, with no reshaping.
    pub fn into_body(self) -> Body {
        match self {
            Self::Empty => Body::empty(),
            Self::Memory(bytes) => Body::from(bytes),
            disk @ Self::Disk { .. } => Body::from_stream(disk.into_stream(DISK_CHUNK)),
        }
    }
}

/// How long clients and caches may keep a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// Segments and init segments: never change.
    Immutable,
    /// Revalidate every time (cheap with the ETag).
    Revalidate,
    /// Live playlists: fresh for this long.
    MaxAge(Duration),
}

impl CachePolicy {
    /// The default policy of a file of this kind in a VOD ladder.
    pub fn for_kind(kind: FileKind) -> Self {
        match kind {
            FileKind::Media => Self::Immutable,
            FileKind::Playlist | FileKind::Other => Self::Revalidate,
        }
    }

    fn header(self) -> HeaderValue {
        match self {
            Self::Immutable => HeaderValue::from_static("public, max-age=31536000, immutable"),
            Self::Revalidate => HeaderValue::from_static("no-cache"),
            Self::MaxAge(age) => {
                HeaderValue::from_str(&format!("public, max-age={}", age.as_secs()))
                    .unwrap_or(HeaderValue::from_static("no-cache"))
            }
        }
    }
}

/// A response decided but not yet sent: status, headers and the body's bytes.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: BodySource,
}

impl Reply {
    /// Sends the body as it is.
    pub fn into_response(self) -> Response {
        self.into_response_with(|body| body.into_body())
    }

    /// Sends the body through `shape`, which turns its bytes into the body actually sent
    /// (for throttling or fault injection). `Content-Length` stays the full length.
    pub fn into_response_with(self, shape: impl FnOnce(BodySource) -> Body) -> Response {
        let mut response = shape(self.body).into_response();
        *response.status_mut() = self.status;
        response.headers_mut().extend(self.headers);
        response
    }
}

/// Identity of a file for conditional requests and its bytes.
pub struct Representation<'a> {
    pub etag: &'a str,
    pub modified: SystemTime,
    pub content_type: &'static str,
    pub len: u64,
    pub content: Content,
}

impl<'a> From<&'a MediaFile> for Representation<'a> {
    fn from(file: &'a MediaFile) -> Self {
        Self {
            etag: &file.etag,
            modified: file.modified,
            content_type: file.content_type,
            len: file.len,
            content: file.content.clone(),
        }
    }
}

/// Decides the response to `method` with `request` headers for a representation.
pub fn reply(
    method: &Method,
    request: &HeaderMap,
    file: Representation<'_>,
    cache: CachePolicy,
) -> Reply {
    let mut headers = HeaderMap::new();
    let etag = HeaderValue::from_str(file.etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let last_modified = HeaderValue::from_str(&httpdate::fmt_http_date(file.modified))
        .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"));
    headers.insert(header::ETAG, etag);
    headers.insert(header::LAST_MODIFIED, last_modified);
    headers.insert(header::CACHE_CONTROL, cache.header());
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));

    let no_body = |status, headers| Reply {
        status,
        headers,
        body: BodySource::Empty,
    };
    match precondition(method, request, file.etag, file.modified) {
        Precondition::Failed => return no_body(StatusCode::PRECONDITION_FAILED, headers),
        Precondition::NotModified => return no_body(StatusCode::NOT_MODIFIED, headers),
        Precondition::Proceed => {}
    }

    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    let range = if *method == Method::GET && if_range_holds(request, file.etag, file.modified) {
        request
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(|v| parse_range(v, file.len))
    } else {
        None
    };
    let (status, start, len) = match range {
        Some(RangeOutcome::Satisfiable { start, end }) => {
            let value = format!("bytes {start}-{end}/{}", file.len);
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::CONTENT_RANGE, value);
            }
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(RangeOutcome::Unsatisfiable) => {
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", file.len)) {
                headers.insert(header::CONTENT_RANGE, value);
            }
            headers.remove(header::CONTENT_TYPE);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            return no_body(StatusCode::RANGE_NOT_SATISFIABLE, headers);
        }
        Some(RangeOutcome::Ignore) | None => (StatusCode::OK, 0, file.len),
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = if *method == Method::HEAD {
        BodySource::Empty
    } else {
        match file.content {
            Content::Memory(bytes) => {
                BodySource::Memory(bytes.slice(start as usize..(start + len) as usize))
            }
            Content::Disk(path) => BodySource::Disk {
                path,
                offset: start,
                len,
            },
        }
    };
    Reply {
        status,
        headers,
        body,
    }
}

enum Precondition {
    Proceed,
    NotModified,
    Failed,
}

/// RFC 9110 §13.2.2: the order in which preconditions are evaluated.
fn precondition(
    method: &Method,
    request: &HeaderMap,
    etag: &str,
    modified: SystemTime,
) -> Precondition {
    let text = |name| {
        request
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let modified_s = seconds(modified);
    if let Some(if_match) = text(header::IF_MATCH) {
        if !etag_list_matches(if_match, etag, true) {
            return Precondition::Failed;
        }
    } else if let Some(since) = text(header::IF_UNMODIFIED_SINCE).and_then(parse_date)
        && modified_s > since
    {
        return Precondition::Failed;
    }
    let safe = *method == Method::GET || *method == Method::HEAD;
    if let Some(if_none_match) = text(header::IF_NONE_MATCH) {
        if etag_list_matches(if_none_match, etag, false) {
            return if safe {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if safe
        && let Some(since) = text(header::IF_MODIFIED_SINCE).and_then(parse_date)
        && modified_s <= since
    {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

fn if_range_holds(request: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    let Some(value) = request.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let value = value.trim();
    if value.starts_with('"') {
        value == etag
    } else {
        parse_date(value) == Some(seconds(modified))
    }
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn parse_date(text: &str) -> Option<u64> {
    httpdate::parse_http_date(text.trim()).ok().map(seconds)
}

/// Whether `etag` is in a comma-separated entity-tag list (or the list is `*`).
/// Strong comparison for `If-Match`, weak for `If-None-Match`.
fn etag_list_matches(list: &str, etag: &str, strong: bool) -> bool {
    if list.trim() == "*" {
        return true;
    }
    list.split(',').map(str::trim).any(|candidate| {
        if strong {
            candidate == etag
        } else {
            candidate.trim_start_matches("W/") == etag.trim_start_matches("W/")
        }
    })
}

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeOutcome {
    /// One range, inclusive ends.
    Satisfiable { start: u64, end: u64 },
    /// No requested range overlaps the body: 416.
    Unsatisfiable,
    /// Malformed, not bytes, or several ranges: served whole (RFC 9110 allows ignoring).
    Ignore,
}

/// Parses a `Range` header value against a body of `len` bytes.
pub fn parse_range(value: &str, len: u64) -> RangeOutcome {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeOutcome::Ignore;
    };
    if spec.contains(',') {
        return RangeOutcome::Ignore;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeOutcome::Ignore;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(suffix)) => {
            if suffix == 0 || len == 0 {
                RangeOutcome::Unsatisfiable
            } else {
                RangeOutcome::Satisfiable {
                    start: len.saturating_sub(suffix),
                    end: len - 1,
                }
            }
        }
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if end.is_some_and(|end| end < start) {
                return RangeOutcome::Ignore;
            }
            if start >= len {
                return RangeOutcome::Unsatisfiable;
            }
            RangeOutcome::Satisfiable {
                start,
                end: end.map_or(len - 1, |end| end.min(len - 1)),
            }
        }
        _ => RangeOutcome::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeOutcome::*;
        assert_eq!(
            parse_range("bytes=0-99", 1000),
            Satisfiable { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=900-", 1000),
            Satisfiable {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            parse_range("bytes=-100", 1000),
            Satisfiable {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            parse_range("bytes=-5000", 1000),
            Satisfiable { start: 0, end: 999 }
        );
        assert_eq!(
            parse_range("bytes=990-5000", 1000),
            Satisfiable {
                start: 990,
                end: 999
            }
        );
        assert_eq!(parse_range("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        for ignored in [
            "bytes=5-1",
            "items=0-1",
            "bytes=a-b",
            "bytes=0-1,5-6",
            "bytes=",
            "bytes=-",
            "bytes=+1-2",
            "bytes=1-2-3",
        ] {
            assert_eq!(parse_range(ignored, 1000), Ignore, "{ignored}");
        }
        assert_eq!(parse_range("bytes=99999999999999999999999-", 10), Ignore);
    }

    #[test]
    fn etag_lists() {
        assert!(etag_list_matches("\"a\", \"b\"", "\"b\"", true));
        assert!(etag_list_matches("W/\"b\"", "\"b\"", false));
        assert!(!etag_list_matches("W/\"b\"", "\"b\"", true));
        assert!(etag_list_matches("*", "\"x\"", true));
        assert!(!etag_list_matches("\"c\"", "\"b\"", false));
    }
}
