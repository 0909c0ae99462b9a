//! `/shaped/{trace}/{session}/{path}`: the same bytes as `/media/{path}`, throttled so
//! that all requests of one session together follow a network trace from the session's
//! first request on, each after a per-request latency.
//!
//! * [`traces`]: the traces of `--traces`, by file name.
//! * [`link`]: a trace as cumulative capacity over time (looped as Pensieve loops it).
//! * [`session`]: one FIFO link per session shared by its requests; idle sessions expire.
//! * [`body`]: a body released chunk by chunk as the link carries it.
//! * [`playlist`]: root-relative `/media/` references rewritten to stay shaped.
//!
//! Latency: a request's response headers leave `rtt` after it arrived — `?rtt=MS` on the
//! request, else the session's (set by `?rtt=` on the request that created it, else the
//! server's `--rtt-ms`). The body's bytes then follow the link; the trace runs during the
//! latency too. Shaped responses are never compressed: their bytes are the experiment.
//! `GET /shaped-stats/{trace}/{session}` reports a live session as JSON.

pub mod body;
pub mod link;
pub mod session;
pub mod traces;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::time::Instant;

use super::respond::{CachePolicy, Reply};
use super::{Origin, OriginConfig, OriginError, playlist};
use session::Sessions;
use traces::TraceSet;

/// Largest latency a request may ask for, in milliseconds.
const MAX_RTT_MS: f64 = 60_000.0;

/// Sessions and the traces they follow.
pub struct Shaper {
    pub traces: TraceSet,
    pub sessions: Sessions,
    default_rtt: Duration,
}

impl Shaper {
    /// Loads the traces of `config.traces` (every file must parse; the error names the
    /// file and line that does not).
    pub fn new(config: &OriginConfig) -> anyhow::Result<Self> {
        let traces =
            TraceSet::load(&config.traces).map_err(|e| anyhow::anyhow!("--traces: {e}"))?;
        Ok(Self {
            traces,
            sessions: Sessions::new(config.session_idle),
            default_rtt: config.default_rtt,
        })
    }
}

/// The `/shaped/` routes: `/shaped/` lists the traces, `/shaped-trace/{trace}` gives one
/// trace's samples (for pages that draw it), `/shaped-stats/{trace}/{session}` a
/// session's delivery so far.
pub fn routes() -> Router<Arc<Origin>> {
    Router::new()
        .route("/shaped/", get(list))
        .route("/shaped-trace/{trace}", get(samples))
        .route("/shaped/{trace}/{session}/{*path}", get(shaped))
        .route("/shaped-stats/{trace}/{session}", get(stats))
}

/// `GET /shaped/`: `{"traces": [{"name", "duration_s", "mean_mbps"}, …]}`.
async fn list(State(origin): State<Arc<Origin>>) -> Response {
    Json(serde_json::json!({ "traces": origin.shaper.traces.summaries() })).into_response()
}

/// `GET /shaped-trace/{trace}`: `{"name", "times_s": […], "mbps": […]}`.
async fn samples(
    State(origin): State<Arc<Origin>>,
    Path(trace): Path<String>,
) -> Result<Response, OriginError> {
    let named = origin.shaper.traces.get(&trace)?;
    Ok(Json(serde_json::json!({
        "name": named.name,
        "times_s": named.samples.times_s,
        "mbps": named.samples.mbps,
    }))
    .into_response())
}

/// The `rtt` query argument, in milliseconds, if present.
fn requested_rtt(query: Option<&str>) -> Result<Option<Duration>, OriginError> {
    let Some(query) = query else {
        return Ok(None);
    };
    let mut rtt = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key != "rtt" {
            continue;
        }
        let ms = value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|ms| (0.0..=MAX_RTT_MS).contains(ms))
            .ok_or_else(|| {
                OriginError::BadRequest(format!(
                    "rtt={value:?}: expected a latency in milliseconds from 0 to {MAX_RTT_MS}"
                ))
            })?;
        rtt = Some(Duration::from_secs_f64(ms / 1000.0));
    }
    Ok(rtt)
}

async fn shaped(
    State(origin): State<Arc<Origin>>,
    method: Method,
    headers: HeaderMap,
    Path((trace, session, path)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, OriginError> {
    let arrived = Instant::now();
    let shaper = &origin.shaper;
    let named = shaper.traces.get(&trace)?;
    traces::check_session_id(&session)?;
    let rtt = requested_rtt(query.as_deref())?;
    let flight =
        shaper
            .sessions
            .begin(&named, &session, rtt.unwrap_or(shaper.default_rtt), arrived);
    let rtt = rtt.unwrap_or(flight.session().rtt);
    let reply = decide(
        &origin,
        &method,
        &headers,
        &path,
        &playlist::route_prefix(&["shaped", &trace, &session]),
    )
    .await;
    let due = arrived + rtt;
    tokio::time::sleep_until(due).await;
    let reply = reply?;
    Ok(reply.into_response_with(|source| Body::from_stream(body::throttled(source, flight, due))))
}

/// The reply `/media/{path}` would give, with the playlist's `/media/` references
/// rewritten under `prefix`.
async fn decide(
    origin: &Origin,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    prefix: &str,
) -> Result<Reply, OriginError> {
    let file = origin.store.open(path).await?;
    let policy = CachePolicy::for_kind(file.kind);
    playlist::reply_under_prefix(&file, method, headers, prefix, policy).await
}

async fn stats(
    State(origin): State<Arc<Origin>>,
    Path((trace, session)): Path<(String, String)>,
) -> Result<Response, OriginError> {
    let named = origin.shaper.traces.get(&trace)?;
    traces::check_session_id(&session)?;
    let now = Instant::now();
    let live = origin
        .shaper
        .sessions
        .get(&named.name, &session, now)
        .ok_or_else(|| {
            OriginError::NotFound(format!("no live session {session:?} on trace {trace:?}"))
        })?;
    Ok(Json(live.stats(now)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_argument() {
        assert_eq!(requested_rtt(None).unwrap(), None);
        assert_eq!(requested_rtt(Some("a=1")).unwrap(), None);
        assert_eq!(
            requested_rtt(Some("CMCD=x&rtt=40")).unwrap(),
            Some(Duration::from_millis(40))
        );
        assert_eq!(
            requested_rtt(Some("rtt=2.5")).unwrap(),
            Some(Duration::from_micros(2500))
        );
        assert_eq!(requested_rtt(Some("rtt=0")).unwrap(), Some(Duration::ZERO));
        for bad in [
            "rtt=",
            "rtt=-1",
            "rtt=fast",
            "rtt=NaN",
            "rtt=inf",
            "rtt=60001",
        ] {
            let error = requested_rtt(Some(bad)).unwrap_err().to_string();
            assert!(error.contains("rtt="), "{error}");
        }
    }
}
