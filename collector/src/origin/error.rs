//! The one error type of the origin's handlers: each variant is a status code and a
//! plain-text message saying exactly what was wrong with the request.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a request to the origin failed.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("no trace named {0:?} (start the collector with --traces DIR)")]
    UnknownTrace(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

impl OriginError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) | Self::UnknownTrace(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Io(_, e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                StatusCode::FORBIDDEN
            }
            Self::Io(..) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for OriginError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "origin error");
        }
        (status, format!("{self}\n")).into_response()
    }
}
