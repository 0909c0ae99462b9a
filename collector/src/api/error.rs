//! Why an API request failed: one type whose JSON body says exactly what was wrong,
//! `{"error":"bad_request","parameter":"from","message":"from: expected …"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use thiserror::Error;

use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error(
        "a read token is required: send `Authorization: Bearer TOKEN` or `?token=TOKEN` \
         (the property's read_token)"
    )]
    MissingToken,
    #[error("the read token is not one of this collector's properties")]
    UnknownToken,
    #[error("{parameter}: {message}")]
    BadParameter { parameter: String, message: String },
    #[error("no view {0:?} in this property")]
    ViewNotFound(String),
    #[error("no such API endpoint: {0} (see /api/v1/openapi.json)")]
    NoEndpoint(String),
    #[error("use GET")]
    Method,
    #[error("the store cannot answer now ({0}); retry")]
    Unavailable(StoreError),
    #[error("the store failed: {0}")]
    Store(StoreError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_transient() || matches!(e, StoreError::Overloaded | StoreError::Closed) {
            ApiError::Unavailable(e)
        } else {
            ApiError::Store(e)
        }
    }
}

impl ApiError {
    /// A parameter that is not acceptable, and why.
    pub fn bad(parameter: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter {
            parameter: parameter.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingToken | ApiError::UnknownToken => StatusCode::UNAUTHORIZED,
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::ViewNotFound(_) | ApiError::NoEndpoint(_) => StatusCode::NOT_FOUND,
            ApiError::Method => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `error` code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingToken | ApiError::UnknownToken => "unauthorized",
            ApiError::BadParameter { .. } => "bad_request",
            ApiError::ViewNotFound(_) | ApiError::NoEndpoint(_) => "not_found",
            ApiError::Method => "method_not_allowed",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Store(_) => "store",
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'a str>,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, ApiError::Store(_)) {
            tracing::error!(error = %self, "API query failed");
        }
        let parameter = match &self {
            ApiError::BadParameter { parameter, .. } => Some(parameter.as_str()),
            ApiError::MissingToken | ApiError::UnknownToken => Some("token"),
            _ => None,
        };
        let body = Body {
            error: self.code(),
            parameter,
            message: self.to_string(),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::MissingToken | ApiError::UnknownToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"collector\""),
                );
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Method => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            }
            _ => {}
        }
        response
    }
}
