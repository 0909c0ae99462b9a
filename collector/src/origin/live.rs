//! `/live/{path}`: a VOD ladder exposed as a live stream with a sliding window.

use std::sync::Arc;

use axum::Router;

use super::{Origin, OriginConfig};

/// Live simulation settings.
pub struct Live {}

impl Live {
    /// Settings from the origin's configuration.
    pub fn new(_config: &OriginConfig) -> Self {
        Self {}
    }
}

/// The `/live/` routes (not routed yet).
pub fn routes() -> Router<Arc<Origin>> {
    Router::new()
}
