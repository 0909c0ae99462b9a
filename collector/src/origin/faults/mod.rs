//! `/faults/{spec}/{path}`: the same bytes as `/media/{path}` with injected failures, for
//! players' reliability tests.
//!
//! `spec` is a percent-decoded path segment of comma-separated options (grammar in
//! [`spec`]), e.g. `status=503,p=0.2,seed=7`, `status=404,match=seg_003`, `stall=5s`,
//! `stall=2s,at=0.25,truncate=0.5`, `reset`, `delay=800ms`. A bad spec is a 400 that
//! names the option.
//!
//! Each request is first checked against `match=`; a matching one is affected with
//! probability `p`, drawn deterministically per (spec, path) and request index ([`draw`]).
//! Requests refused before the draw (bad spec, missing file) are not counted.
//! An affected request then gets, in this order: `delay` before the headers; `reset`
//! (no response: the connection closes before the head is written, see [`body`]; a HEAD
//! request, whose body is never read, gets the head with `Connection: close`); or the
//! file's normal reply (or the `status` reply instead) whose body is paused by `stall`
//! after `at` of it and cut by `truncate` (the connection is then aborted, so clients see
//! fewer bytes than `Content-Length`). Affected responses carry `x-fault`, saying what was
//! injected. Every file served under `/faults/`, affected or not, is
//! `Cache-Control: no-store`, so that each request reaches the origin and draws.
//!
//! Playlists keep the prefix: relative URIs by URL resolution, root-relative `/media/…`
//! ones are rewritten to `/faults/{spec}/…` ([`super::playlist`]), the spec written back
//! percent-decoded with only what a URI cannot hold escaped (`/`, `%`, `"`, spaces…).

pub mod body;
pub mod draw;
pub mod spec;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use percent_encoding::percent_decode_str;

use super::respond::{BodySource, CachePolicy, Reply};
use super::{Origin, OriginError, playlist};
use body::Plan;
use draw::Draws;
use spec::{FaultSpec, SpecError};

/// The response header that says what was injected.
pub const X_FAULT: HeaderName = HeaderName::from_static("x-fault");

/// Per-(spec, path) request counters that make injection deterministic.
#[derive(Default)]
pub struct Faults {
    draws: Draws,
}

impl Faults {
    /// Whether this request for `path` is affected by `spec` (counts it when `match` allows).
    pub fn affects(&self, spec: &FaultSpec, path: &str) -> bool {
        if !spec.applies_to(path) {
            return false;
        }
        let canonical = spec.to_string();
        let k = self.draws.next_index(&canonical, path);
        let seed = spec.seed.unwrap_or_else(|| self.draws.process_seed());
        draw::uniform(seed, &canonical, path, k) < spec.p
    }
}

/// The `/faults/` routes.
pub fn routes() -> Router<Arc<Origin>> {
    Router::new().route("/faults/{*rest}", get(faults))
}

fn spec_error(error: SpecError) -> OriginError {
    OriginError::BadRequest(format!("fault spec: {error}"))
}

async fn faults(
    State(origin): State<Arc<Origin>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, OriginError> {
    let rest = uri.path().strip_prefix("/faults/").unwrap_or_default();
    let Some((raw_spec, raw_path)) = rest.split_once('/') else {
        return Err(OriginError::NotFound(
            "expected /faults/{spec}/{path}".to_string(),
        ));
    };
    if raw_spec.len() > 3 * spec::MAX_SPEC_LEN {
        return Err(spec_error(SpecError::TooLong));
    }
    let spec_text = percent_decode_str(raw_spec)
        .decode_utf8()
        .map_err(|_| spec_error(SpecError::NotUtf8))?;
    let spec = FaultSpec::parse(&spec_text).map_err(spec_error)?;
    let path = percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| OriginError::BadRequest("path: not UTF-8 once percent-decoded".into()))?;

    let file = origin.store.open(&path).await?;
    let prefix = playlist::route_prefix(&["faults", &spec_text]);
    let policy = CachePolicy::for_kind(file.kind);
    let reply = playlist::reply_under_prefix(&file, &method, &headers, &prefix, policy).await?;
    if !origin.faults.affects(&spec, &path) {
        return Ok(no_store(reply).into_response());
    }
    Ok(inject(&spec, reply, &method, &path).await)
}

fn no_store(mut reply: Reply) -> Reply {
    reply
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}

/// The affected response.
async fn inject(spec: &FaultSpec, reply: Reply, method: &Method, path: &str) -> Response {
    let mut notes = Vec::new();
    if let Some(delay) = spec.delay {
        tokio::time::sleep(delay).await;
        notes.push(format!("delay={}", seconds(delay)));
    }
    if spec.reset {
        notes.push("reset".to_string());
        tracing::info!(target: "collector::faults", path, injected = %notes.join(", "));
        let mut response = body::reset().into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if *method == Method::HEAD {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Ok(value) = HeaderValue::from_str(&notes.join(", ")) {
            headers.insert(X_FAULT, value);
        }
        return response;
    }
    let mut reply = no_store(reply);
    if let Some(code) = spec.status {
        reply = status_reply(code, method);
        notes.push(format!("status={code}"));
    }
    let len = reply.body.len();
    let mut plan = Plan::default();
    if let Some(stall) = spec.stall {
        let at = (spec.at * len as f64).floor() as u64;
        plan.stall = Some((at, stall));
        notes.push(format!("stall={} at byte {at}", seconds(stall)));
    }
    if let Some(truncate) = spec.truncate {
        let cut = (truncate * len as f64).floor() as u64;
        plan.cut = Some(cut);
        notes.push(format!("truncate at byte {cut} of {len}"));
    }
    let note = notes.join(", ");
    tracing::info!(target: "collector::faults", path, injected = %note);
    if let Ok(value) = HeaderValue::from_str(&note) {
        reply.headers.insert(X_FAULT, value);
    }
    reply.into_response_with(|source| body::shaped(source, plan))
}

/// The reply of a `status=` fault: that status and a short text body.
fn status_reply(code: u16, method: &Method) -> Reply {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = Bytes::from(format!("fault injected: status {code}\n"));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let body = if *method == Method::HEAD {
        BodySource::Empty
    } else {
        BodySource::Memory(text)
    };
    Reply {
        status,
        headers,
        body,
    }
}
