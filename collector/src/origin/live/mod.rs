//! `/live/{path}`: a VOD ladder exposed as a live stream with a sliding window.
//!
//! Each media playlist becomes a window of the last `--live-window` segments of the VOD
//! looped forever from the Unix epoch ([`window`] has the formula), with
//! `EXT-X-MEDIA-SEQUENCE`, `EXT-X-DISCONTINUITY-SEQUENCE` and `EXT-X-PROGRAM-DATE-TIME`
//! computed, a discontinuity at each loop start and no `EXT-X-ENDLIST` ([`vod`] lists what
//! happens to each tag). Because the timeline is anchored at the epoch, every request,
//! every restart and every rendition of a ladder agree on it.
//!
//! Master playlists are served as they are (their relative URIs resolve under `/live/`),
//! root-relative `/media/…` URIs in any playlist are moved to `/live/…`, and every other
//! file is served exactly as under `/media/`.
//!
//! Live playlists are `Cache-Control: public, max-age=<max(1, target duration / 2)>`, with
//! a weak ETag that changes when the window moves and `Last-Modified` = when it last moved.
//! For reproducible debugging, `?at=UNIX_SECONDS` (decimals allowed, up to year 9999)
//! renders the window at that time instead of now. A playlist that cannot loop (invalid,
//! no segments, zero duration) is a 422 saying why.

pub mod clock;
pub mod render;
pub mod vod;
pub mod window;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

use super::faults::draw::fingerprint;
use super::playlist::{self, MEDIA_PREFIX};
use super::respond::{self, CachePolicy, Representation};
use super::store::{Content, MediaFile};
use super::{Origin, OriginConfig, OriginError};
use vod::{Parsed, VodError};
use window::TimelineError;

/// The prefix root-relative `/media/` URIs move to.
const LIVE_PREFIX: &str = "/live/";

/// Playlists larger than this are not looped.
const MAX_PLAYLIST_BYTES: u64 = 16 << 20;

/// Parsed playlists remembered (more are dropped all at once: they are cheap to redo).
const MAX_CACHED: usize = 1024;

/// The latest `at=` accepted: 9999-12-31T23:59:59Z.
const MAX_AT_SECONDS: u64 = 253_402_300_799;

/// Why a `/live/` request failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Origin(#[from] OriginError),
    #[error("query `at`: {0:?} is not a time in Unix seconds from 0 to {MAX_AT_SECONDS}")]
    BadAt(String),
    #[error("{path}: cannot be served live: {reason}")]
    Unloopable { path: String, reason: String },
}

impl IntoResponse for LiveError {
    fn into_response(self) -> Response {
        match self {
            Self::Origin(error) => error.into_response(),
            Self::BadAt(_) => (StatusCode::BAD_REQUEST, format!("{self}\n")).into_response(),
            Self::Unloopable { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, format!("{self}\n")).into_response()
            }
        }
    }
}

/// Live simulation settings and the parsed playlists.
pub struct Live {
    window: usize,
    /// Path → (ETag of the file parsed, the result).
    parsed: Mutex<HashMap<String, (String, Arc<Parsed>)>>,
}

impl Live {
    /// Settings from the origin's configuration.
    pub fn new(config: &OriginConfig) -> Self {
        Self {
            window: config.live_window.max(1),
            parsed: Mutex::new(HashMap::new()),
        }
    }

    /// Segments in a window.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The playlist `file` parsed for looping, from the cache while its ETag holds.
    async fn parsed(&self, file: &MediaFile) -> Result<Arc<Parsed>, LiveError> {
        let unloopable = |reason: String| LiveError::Unloopable {
            path: file.rel_path.clone(),
            reason,
        };
        {
            let cache = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((etag, parsed)) = cache.get(&file.rel_path)
                && *etag == file.etag
            {
                return Ok(parsed.clone());
            }
        }
        if file.len > MAX_PLAYLIST_BYTES {
            return Err(unloopable(format!(
                "{} bytes is more than the {MAX_PLAYLIST_BYTES} a playlist may have",
                file.len
            )));
        }
        let bytes = playlist::file_bytes(file).await?;
        let parsed = Arc::new(vod::parse(&bytes).map_err(|e: VodError| unloopable(e.to_string()))?);
        let mut cache = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(file.rel_path.clone(), (file.etag.clone(), parsed.clone()));
        Ok(parsed)
    }
}

/// The `/live/` routes.
pub fn routes() -> Router<Arc<Origin>> {
    Router::new().route("/live/{*path}", get(live))
}

/// `?at=` as microseconds since the epoch, if given.
fn requested_time(query: Option<&str>) -> Result<Option<u64>, LiveError> {
    let Some(query) = query else {
        return Ok(None);
    };
    let Some((_, value)) = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "at")
    else {
        return Ok(None);
    };
    let bad = || LiveError::BadAt(value.chars().take(40).collect());
    let (whole, decimals) = value.split_once('.').unwrap_or((&value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || !digits(whole) || !digits(decimals) {
        return Err(bad());
    }
    let seconds: u64 = whole.parse().map_err(|_| bad())?;
    if seconds > MAX_AT_SECONDS {
        return Err(bad());
    }
    let micros: u64 = format!("{:0<6}", &decimals[..decimals.len().min(6)])
        .parse()
        .map_err(|_| bad())?;
    Ok(Some(seconds * 1_000_000 + micros))
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

async fn live(
    State(origin): State<Arc<Origin>>,
    method: Method,
    headers: HeaderMap,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, LiveError> {
    let file = origin.store.open(&path).await?;
    if !playlist::is_hls_playlist(&file) {
        let reply = respond::reply(
            &method,
            &headers,
            (&*file).into(),
            CachePolicy::for_kind(file.kind),
        );
        return Ok(reply.into_response());
    }
    let at = requested_time(query.as_deref())?;
    let parsed = origin.live.parsed(&file).await?;
    let Parsed::Media(vod) = &*parsed else {
        return master(&file, &method, &headers).await;
    };
    let timeline = |e: TimelineError| LiveError::Unloopable {
        path: path.clone(),
        reason: e.to_string(),
    };
    let period = ladder_period(&origin, &path, vod.timing.duration_us()).await;
    let looped;
    let vod = if period == vod.timing.duration_us() {
        vod
    } else {
        looped = vod::Vod {
            timing: vod.timing.looping_every(period),
            ..vod.clone()
        };
        &looped
    };
    let window = vod
        .timing
        .window(origin.live.window, at.unwrap_or_else(now_us))
        .map_err(timeline)?;
    let text = render::render(vod, &window).map_err(timeline)?;
    let text = playlist::reprefix(&text, MEDIA_PREFIX, LIVE_PREFIX).unwrap_or(text);
    let etag = format!(
        "W/\"{:x}-{}\"",
        fingerprint(&[file.etag.as_bytes(), &origin.live.window.to_le_bytes()]),
        window.end
    );
    let max_age = ((vod.target_duration / 2.0).floor() as u64).max(1);
    let body = Bytes::from(text);
    let reply = respond::reply(
        &method,
        &headers,
        Representation {
            etag: &etag,
            modified: SystemTime::UNIX_EPOCH + Duration::from_micros(window.moved_at_us),
            content_type: file.content_type,
            len: body.len() as u64,
            content: Content::Memory(body),
        },
        CachePolicy::MaxAge(Duration::from_secs(max_age)),
    );
    Ok(reply.into_response())
}

/// The loop period of the ladder `path` belongs to, µs: the longest duration among the
/// media playlists of any master playlist (in `path`'s directory or the one above) that
/// lists `path`, so that every rendition loops at the same instants and stays in step
/// with the others. `own` when no master lists it.
async fn ladder_period(origin: &Origin, path: &str, own: u64) -> u64 {
    let mut period = own;
    let mut dirs = Vec::new();
    let mut dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    for _ in 0..2 {
        dirs.push(dir.to_string());
        if dir.is_empty() {
            break;
        }
        dir = dir.rsplit_once('/').map_or("", |(up, _)| up);
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(origin.store.root().join(&dir)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".m3u8") && !name.starts_with('.'))
            .collect();
        names.sort();
        for name in names.into_iter().take(MAX_MASTERS_SCANNED) {
            let master_path = join_relative(&dir, &name);
            let Some(uris) = master_uris(origin, master_path.as_deref()).await else {
                continue;
            };
            let listed: Vec<String> = uris
                .iter()
                .filter_map(|uri| join_relative(&dir, uri))
                .collect();
            if !listed.iter().any(|listed| listed == path) {
                continue;
            }
            for media in listed {
                let Ok(file) = origin.store.open(&media).await else {
                    continue;
                };
                if let Ok(parsed) = origin.live.parsed(&file).await
                    && let Parsed::Media(vod) = &*parsed
                {
                    period = period.max(vod.timing.duration_us());
                }
            }
            return period;
        }
    }
    period
}

/// Masters looked at per directory when finding a playlist's ladder.
const MAX_MASTERS_SCANNED: usize = 16;

async fn master_uris(origin: &Origin, path: Option<&str>) -> Option<Vec<String>> {
    let file = origin.store.open(path?).await.ok()?;
    match &*origin.live.parsed(&file).await.ok()? {
        Parsed::Master(uris) => Some(uris.clone()),
        Parsed::Media(_) => None,
    }
}

/// `uri` (relative, as written in a playlist in `dir`) as a path from the media root;
/// `None` for absolute URLs or paths that climb out of the root.
fn join_relative(dir: &str, uri: &str) -> Option<String> {
    if uri.contains("://") || uri.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in uri.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// A master playlist: as it is, root-relative `/media/` URIs moved to `/live/`.
async fn master(
    file: &MediaFile,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, LiveError> {
    let bytes = playlist::file_bytes(file).await?;
    let rewritten = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| playlist::reprefix(text, MEDIA_PREFIX, LIVE_PREFIX));
    let cache = CachePolicy::for_kind(file.kind);
    let reply = match rewritten {
        None => respond::reply(method, headers, file.into(), cache),
        Some(text) => {
            let etag = format!("\"{}-live\"", file.etag.trim_matches('"'));
            let body = Bytes::from(text);
            respond::reply(
                method,
                headers,
                Representation {
                    etag: &etag,
                    modified: file.modified,
                    content_type: file.content_type,
                    len: body.len() as u64,
                    content: Content::Memory(body),
                },
                cache,
            )
        }
    };
    Ok(reply.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_uris_join_within_the_root() {
        assert_eq!(
            join_relative("l", "720p/index.m3u8").as_deref(),
            Some("l/720p/index.m3u8")
        );
        assert_eq!(
            join_relative("l/a", "../b/x.m3u8").as_deref(),
            Some("l/b/x.m3u8")
        );
        assert_eq!(join_relative("", "./x.m3u8").as_deref(), Some("x.m3u8"));
        assert_eq!(join_relative("l", "../../x.m3u8"), None);
        assert_eq!(join_relative("l", "http://h/x.m3u8"), None);
        assert_eq!(join_relative("l", "/media/x.m3u8"), None);
    }

    #[test]
    fn at_is_unix_seconds() {
        assert_eq!(requested_time(None).unwrap(), None);
        assert_eq!(requested_time(Some("CMCD=br%3D1")).unwrap(), None);
        assert_eq!(requested_time(Some("at=100")).unwrap(), Some(100_000_000));
        assert_eq!(requested_time(Some("x=1&at=1.5")).unwrap(), Some(1_500_000));
        assert_eq!(
            requested_time(Some("at=1.1234567")).unwrap(),
            Some(1_123_456)
        );
        assert_eq!(
            requested_time(Some("at=253402300799")).unwrap(),
            Some(253_402_300_799_000_000)
        );
        for bad in [
            "at=",
            "at=-1",
            "at=1e9",
            "at=.5",
            "at=253402300800",
            "at=99999999999999999999",
            "at=%FF",
            "at=1.2.3",
            "at=nan",
            "at=1%20",
        ] {
            assert!(
                matches!(requested_time(Some(bad)), Err(LiveError::BadAt(_))),
                "{bad}"
            );
        }
    }
}
