//! The origin: serves encoded ladders over HTTP the way a CDN edge does.
//!
//! | route | module |
//! |---|---|
//! | `/media/{path}` | here, over [`store`] and [`respond`] |
//! | `/shaped/{trace}/{session}/{path}` | [`shaped`]: throttled to a network trace |
//! | `/faults/{spec}/{path}` | [`faults`]: injected failures |
//! | `/live/{path}` | [`live`]: a VOD ladder as a sliding-window live stream |
//!
//! Every route logs each request with its CMCD data ([`access`]), allows any origin
//! (CORS, exposing the headers players read), and compresses playlists where the bytes on
//! the wire are not part of the experiment.

pub mod access;
pub mod content_type;
pub mod error;
pub mod faults;
pub mod live;
pub mod playlist;
pub mod respond;
pub mod shaped;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::Predicate;
use tower_http::cors::{Any, CorsLayer};

pub use error::OriginError;
use respond::{CachePolicy, Reply};
use store::{CacheLimits, MediaFile, MediaStore};

/// How the origin is set up.
#[derive(Debug, Clone)]
pub struct OriginConfig {
    /// Directory served under `/media/`.
    pub media: PathBuf,
    /// Directories of network traces (two-column text files) for `/shaped/`.
    pub traces: Vec<PathBuf>,
    /// In-memory file cache limits.
    pub cache: CacheLimits,
    /// Latency added to each shaped request unless the request says `rtt=`.
    pub default_rtt: Duration,
    /// A shaped session unused for this long is forgotten.
    pub session_idle: Duration,
    /// Segments in a `/live/` playlist window.
    pub live_window: usize,
}

impl OriginConfig {
    /// Defaults for serving `media`.
    pub fn new(media: PathBuf) -> Self {
        Self {
            media,
            traces: Vec::new(),
            cache: CacheLimits::default(),
            default_rtt: Duration::from_millis(80),
            session_idle: Duration::from_secs(300),
            live_window: 6,
        }
    }
}

/// The origin's shared state.
pub struct Origin {
    pub config: OriginConfig,
    pub store: MediaStore,
    pub shaper: shaped::Shaper,
    pub faults: faults::Faults,
    pub live: live::Live,
}

impl Origin {
    /// Opens the media root and loads the traces.
    pub fn new(config: OriginConfig) -> anyhow::Result<Arc<Self>> {
        let store = MediaStore::new(&config.media, config.cache)
            .map_err(|e| anyhow::anyhow!("--media {}: {e}", config.media.display()))?;
        let shaper = shaped::Shaper::new(&config)?;
        Ok(Arc::new(Self {
            store,
            shaper,
            faults: faults::Faults::default(),
            live: live::Live::new(&config),
            config,
        }))
    }

    /// Opens `path` and decides the plain (unshaped) reply to a request for it.
    pub async fn plain_reply(
        &self,
        method: &Method,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<(Arc<MediaFile>, Reply), OriginError> {
        let file = self.store.open(path).await?;
        let reply = respond::reply(
            method,
            headers,
            (&*file).into(),
            CachePolicy::for_kind(file.kind),
        );
        Ok((file, reply))
    }
}

async fn media(
    State(origin): State<Arc<Origin>>,
    method: Method,
    headers: HeaderMap,
    Path(path): Path<String>,
) -> Result<Response, OriginError> {
    let (_, reply) = origin.plain_reply(&method, &headers, &path).await?;
    Ok(reply.into_response())
}

/// Compress text bodies sent whole (never ranges, media or errors).
fn compressible(status: StatusCode, headers: &HeaderMap) -> bool {
    status == StatusCode::OK
        && !headers.contains_key(header::CONTENT_RANGE)
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(content_type::is_compressible)
        && headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_none_or(|len| len >= 256)
}

#[derive(Clone, Copy)]
struct CompressText;

impl Predicate for CompressText {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        compressible(response.status(), response.headers())
    }
}

/// CORS for browser players on any page: simple reads, ranges, conditionals and CMCD
/// headers allowed; the headers players read exposed.
pub fn cors() -> CorsLayer {
    let cmcd =
        ["cmcd-object", "cmcd-request", "cmcd-session", "cmcd-status"].map(HeaderName::from_static);
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(
            [
                header::RANGE,
                header::IF_NONE_MATCH,
                header::IF_MODIFIED_SINCE,
                header::IF_RANGE,
                header::CONTENT_TYPE,
            ]
            .into_iter()
            .chain(cmcd)
            .collect::<Vec<_>>(),
        )
        .expose_headers([
            header::CONTENT_LENGTH,
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            header::ETAG,
            header::LAST_MODIFIED,
            header::DATE,
            header::AGE,
            HeaderName::from_static("server-timing"),
            faults::X_FAULT,
        ])
        .max_age(Duration::from_secs(86_400))
}

/// The origin's routes, with CORS and the access log.
pub fn router(origin: Arc<Origin>) -> Router {
    let compressed = Router::new()
        .route("/media/{*path}", get(media))
        .merge(live::routes())
        .layer(CompressionLayer::new().compress_when(CompressText));
    Router::new()
        .merge(compressed)
        .merge(shaped::routes())
        .merge(faults::routes())
        .with_state(origin)
        .layer(cors())
        .layer(axum::middleware::from_fn(access::log_request))
}
