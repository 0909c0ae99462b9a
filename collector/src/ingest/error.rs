//! Why a beacon request was refused: one type whose response says exactly what was wrong,
//! as JSON: `{"error":"invalid","field":"events[3].bitrate","message":"…"}`.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;

use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("too many requests from this client: retry in {} s", retry_secs(.0))]
    RateLimited(Duration),
    #[error(
        "Content-Type {0:?} is not accepted: send application/json, text/plain (JSON) or application/cmcd"
    )]
    UnsupportedMediaType(String),
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("cannot read the body: {0}")]
    Body(String),
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("origin {0:?} may not send beacons to this property")]
    OriginDenied(String),
    #[error("sequence number {seq} of view {view:?} already holds another batch")]
    Conflict { view: String, seq: u64 },
    #[error("the store cannot take this batch now ({0}); retry")]
    Unavailable(StoreError),
    #[error("use POST to send beacons (OPTIONS for CORS preflights)")]
    Method,
}

fn retry_secs(wait: &Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    message: String,
}

impl IngestError {
    pub fn status(&self) -> StatusCode {
        match self {
            IngestError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            IngestError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::Body(_) | IngestError::Invalid { .. } => StatusCode::BAD_REQUEST,
            IngestError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            IngestError::OriginDenied(_) => StatusCode::FORBIDDEN,
            IngestError::Conflict { .. } => StatusCode::CONFLICT,
            IngestError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            IngestError::Method => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The `error` code of the body and the `reason` label of `/metrics`.
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::RateLimited(_) => "rate_limited",
            IngestError::UnsupportedMediaType(_) => "unsupported_media_type",
            IngestError::TooLarge { .. } => "too_large",
            IngestError::Body(_) | IngestError::Invalid { .. } => "invalid",
            IngestError::Unauthorized(_) => "unauthorized",
            IngestError::OriginDenied(_) => "origin",
            IngestError::Conflict { .. } => "conflict",
            IngestError::Unavailable(_) => "unavailable",
            IngestError::Method => "method",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            IngestError::Invalid { field, .. } => Some(field),
            IngestError::Unauthorized(_) => Some("key"),
            IngestError::Conflict { .. } => Some("seq"),
            IngestError::Body(_) | IngestError::TooLarge { .. } => Some("body"),
            _ => None,
        }
    }
}

impl From<protocol::DecodeError> for IngestError {
    fn from(e: protocol::DecodeError) -> Self {
        IngestError::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<protocol::BeaconError> for IngestError {
    fn from(e: protocol::BeaconError) -> Self {
        IngestError::Invalid {
            field: e.field,
            message: e.problem,
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.reason(),
            field: self.field(),
            message: self.to_string(),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            IngestError::RateLimited(wait) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_secs(wait)));
            }
            IngestError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            IngestError::Method => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
            }
            _ => {}
        }
        response
    }
}
