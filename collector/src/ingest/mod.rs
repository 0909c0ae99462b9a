//! `POST /v1/beacons`: QoE beacons in, durable before they are acknowledged.
//!
//! A request is checked in this order, each failure with its own status and a JSON body
//! naming what was wrong ([`IngestError`]): the client's rate (429 with `Retry-After`),
//! the media type (415: `application/json`, or `text/plain` as `navigator.sendBeacon`
//! sends a string; `application/cmcd` for [CMCD v2 reports](cmcd)), the size (413 above
//! [`MAX_BODY_BYTES`]), the JSON (400 naming the field), the ingest key (`batch.key` or
//! `?key=`; 401 if unknown), the page's origin (403 unless the property allows it), and
//! [`Batch::validate`] (400 naming the field). The batch is then stored; the answer, 200,
//! comes only once it is committed: `{"ok":true,"stored":N,"duplicate":false}`, or
//! `"duplicate":true` for a retry of a batch stored before (same view, sequence number
//! and batch id), which is not stored twice. A full write queue or a failing store
//! answers 503 with `Retry-After`.
//!
//! CORS: preflights (`OPTIONS`) are answered for origins a property allows (the one
//! named by `?key=`, or any); responses carry `Access-Control-Allow-Origin` only for an
//! allowed origin.

pub mod cmcd;
mod error;
pub mod limit;
pub mod properties;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use protocol::Batch;
use protocol::beacon::MAX_BODY_BYTES;
use serde_json::json;

pub use error::IngestError;
use limit::RateLimiter;
use properties::{Properties, Property};

use crate::metrics::Metrics;
use crate::store::{Incoming, Outcome, Store, now_ms};

/// How ingest is configured.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Requests per second per client address; 0 disables the limit.
    pub rate_limit: f64,
    /// Requests a client may send at once above the rate.
    pub rate_burst: f64,
    /// Take the client's address from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            rate_limit: 50.0,
            rate_burst: 100.0,
            trust_forwarded_for: false,
        }
    }
}

/// The ingest service's shared state.
#[derive(Debug)]
pub struct Ingest {
    properties: Arc<Properties>,
    store: Store,
    limiter: RateLimiter,
    metrics: Arc<Metrics>,
    trust_forwarded_for: bool,
}

impl Ingest {
    pub fn new(
        properties: Arc<Properties>,
        store: Store,
        metrics: Arc<Metrics>,
        config: &IngestConfig,
    ) -> Arc<Ingest> {
        Arc::new(Ingest {
            properties,
            store,
            limiter: RateLimiter::new(config.rate_limit, config.rate_burst),
            metrics,
            trust_forwarded_for: config.trust_forwarded_for,
        })
    }
}

/// The routes of ingest: `/v1/beacons`.
pub fn router(ingest: Arc<Ingest>) -> Router {
    Router::new()
        .route(
            "/v1/beacons",
            post(receive)
                .options(preflight)
                .fallback(|| async { IngestError::Method.into_response() }),
        )
        .with_state(ingest)
}

/// What the request's body is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Json,
    Cmcd,
}

impl Format {
    fn of(headers: &HeaderMap) -> Result<Format, IngestError> {
        let Some(value) = headers.get(header::CONTENT_TYPE) else {
            return Ok(Format::Json);
        };
        let text = value.to_str().unwrap_or_default();
        let essence = text
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" | "text/plain" => Ok(Format::Json),
            "application/cmcd" => Ok(Format::Cmcd),
            _ => Err(IngestError::UnsupportedMediaType(text.to_string())),
        }
    }
}

/// The value of query argument `name`, percent-decoded.
fn query_arg(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            percent_encoding::percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.is_empty() && *o != "null")
        .map(str::to_string)
}

/// Allows `origin` to read the response.
fn allow_origin(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

async fn preflight(State(ingest): State<Arc<Ingest>>, request: Request) -> Response {
    let headers = request.headers();
    let Some(origin) = origin_of(headers) else {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        return response;
    };
    let allowed = match query_arg(request.uri().query(), "key") {
        Some(key) => ingest
            .properties
            .get(&key)
            .is_some_and(|p| p.allows(&origin)),
        None => ingest.properties.any_allows(&origin),
    };
    if !allowed {
        let error = IngestError::OriginDenied(origin);
        ingest
            .metrics
            .reject(error.reason(), error.status().as_u16());
        tracing::debug!(status = 403, reason = "origin", "beacon preflight refused");
        return error.into_response();
    }
    let requested = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static("content-type"));
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    allow_origin(out, &origin);
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

async fn receive(State(ingest): State<Arc<Ingest>>, request: Request) -> Response {
    let origin = origin_of(request.headers());
    let client = ingest.client(&request);
    let mut property: Option<Property> = None;
    let result = ingest.accept(request, client, &mut property).await;
    let mut response = match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(error) => {
            let status = error.status().as_u16();
            ingest.metrics.reject(error.reason(), status);
            if status == 503 {
                tracing::warn!(%client, %error, "beacon refused");
            } else {
                tracing::debug!(%client, status, reason = error.reason(), %error, "beacon refused");
            }
            error.into_response()
        }
    };
    if let Some(origin) = origin {
        let allowed = match &property {
            Some(property) => property.allows(&origin),
            None => ingest.properties.any_allows(&origin),
        };
        if allowed {
            allow_origin(response.headers_mut(), &origin);
        }
    }
    response
}

impl Ingest {
    /// The client's address: the peer's, or the first `X-Forwarded-For` when trusted.
    fn client(&self, request: &Request) -> IpAddr {
        if self.trust_forwarded_for {
            let forwarded = request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|ip| ip.trim().parse().ok());
            if let Some(ip) = forwarded {
                return ip;
            }
        }
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip())
    }

    fn property(&self, key: &str) -> Result<Property, IngestError> {
        self.properties
            .get(key)
            .cloned()
            .ok_or_else(|| IngestError::Unauthorized(format!("unknown ingest key {key:?}")))
    }

    async fn accept(
        &self,
        request: Request,
        client: IpAddr,
        property: &mut Option<Property>,
    ) -> Result<serde_json::Value, IngestError> {
        self.limiter
            .check(client, Instant::now())
            .map_err(IngestError::RateLimited)?;
        let (parts, body) = request.into_parts();
        let format = Format::of(&parts.headers)?;
        let query_key = query_arg(parts.uri.query(), "key");
        if let Some(key) = &query_key {
            *property = Some(self.property(key)?);
        }
        let bytes = read_body(&parts.headers, body).await?;
        let received_ms = now_ms();
        let batches = match format {
            Format::Json => {
                let batch = protocol::decode_batch(&bytes)?;
                if query_key.as_ref().is_some_and(|key| *key != batch.key) {
                    return Err(IngestError::Invalid {
                        field: "key".into(),
                        message: "differs from the ?key= of the URL".into(),
                    });
                }
                if property.is_none() {
                    *property = Some(self.property(&batch.key)?);
                }
                vec![batch]
            }
            Format::Cmcd => {
                let Some(key) = &query_key else {
                    return Err(IngestError::Unauthorized(
                        "CMCD reports carry no key: add ?key= to the report URL".into(),
                    ));
                };
                cmcd::batches(&bytes, key, received_ms)?
            }
        };
        let Some(property) = property.as_ref() else {
            return Err(IngestError::Unauthorized("no ingest key".into()));
        };
        if let Some(origin) = origin_of(&parts.headers).filter(|o| !property.allows(o)) {
            return Err(IngestError::OriginDenied(origin));
        }
        for batch in &batches {
            batch.validate()?;
        }
        self.store(&property.key, batches, received_ms, format)
            .await
    }

    async fn store(
        &self,
        key: &str,
        batches: Vec<Batch>,
        received_ms: i64,
        format: Format,
    ) -> Result<serde_json::Value, IngestError> {
        let count = batches.len();
        let first = batches
            .first()
            .map(|b| (b.view.id.clone(), b.seq))
            .unwrap_or_default();
        let outcomes = futures_util::stream::iter(batches)
            .map(|batch| {
                self.store.submit(Incoming {
                    property: key.to_string(),
                    batch,
                    received_ms,
                })
            })
            .buffered(protocol::beacon::MAX_EVENTS)
            .collect::<Vec<_>>()
            .await;
        let (mut stored, mut duplicates) = (0, 0);
        for outcome in outcomes {
            match outcome.map_err(IngestError::Unavailable)? {
                Outcome::Stored { events } => {
                    stored += events;
                    self.metrics.batches_stored.fetch_add(1, Ordering::Relaxed);
                    self.metrics
                        .events_stored
                        .fetch_add(events as u64, Ordering::Relaxed);
                }
                Outcome::Duplicate => {
                    duplicates += 1;
                    self.metrics
                        .batches_duplicate
                        .fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Conflict if format == Format::Json => {
                    return Err(IngestError::Conflict {
                        view: first.0,
                        seq: first.1,
                    });
                }
                Outcome::Conflict => duplicates += 1,
            }
        }
        tracing::debug!(property = key, view = %first.0, seq = first.1, stored, duplicates, "beacon stored");
        Ok(match format {
            Format::Json => json!({"ok": true, "stored": stored, "duplicate": duplicates > 0}),
            Format::Cmcd => json!({
                "ok": true, "reports": count, "stored": stored, "duplicates": duplicates
            }),
        })
    }
}

/// Bodies above the limit are still read (and dropped) up to this size before the 413,
/// so the client, still sending, gets the answer rather than a reset connection.
const DRAIN_BYTES: usize = 1 << 20;

/// Reads the body, refusing more than [`MAX_BODY_BYTES`] (at once when the declared
/// length says so).
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, IngestError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut stream = body.into_data_stream();
    let mut bytes =
        Vec::with_capacity(declared.unwrap_or(4096).min(MAX_BODY_BYTES as u64) as usize);
    let mut seen = 0usize;
    let mut too_large = declared.is_some_and(|len| len > MAX_BODY_BYTES as u64);
    if !(too_large && declared.is_some_and(|len| len > DRAIN_BYTES as u64)) {
        let read = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| IngestError::Body(e.to_string()))?;
                seen += chunk.len();
                if seen > MAX_BODY_BYTES {
                    too_large = true;
                    if seen > DRAIN_BYTES {
                        break;
                    }
                } else {
                    bytes.extend_from_slice(&chunk);
                }
            }
            Ok::<_, IngestError>(())
        };
        match tokio::time::timeout(std::time::Duration::from_secs(30), read).await {
            Ok(result) => result?,
            Err(_) => return Err(IngestError::Body("timed out reading the body".into())),
        }
    }
    if too_large {
        return Err(IngestError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_and_query_arguments() {
        let mut headers = HeaderMap::new();
        assert_eq!(Format::of(&headers).unwrap(), Format::Json);
        for (value, format) in [
            ("application/json", Format::Json),
            ("text/plain;charset=UTF-8", Format::Json),
            ("Application/CMCD", Format::Cmcd),
        ] {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(Format::of(&headers).unwrap(), format, "{value}");
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        assert!(Format::of(&headers).is_err());
        assert_eq!(
            query_arg(Some("a=1&key=my%20key"), "key").as_deref(),
            Some("my key")
        );
        assert_eq!(query_arg(Some("a=1"), "key"), None);
    }
}
