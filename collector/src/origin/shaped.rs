//! `/shaped/{trace}/{session}/{path}`: the same bytes as `/media/`, throttled so that
//! all requests of one session together follow a network trace.

use std::sync::Arc;

use axum::Router;

use super::{Origin, OriginConfig};

/// Sessions and the traces they follow.
pub struct Shaper {}

impl Shaper {
    /// Loads the traces of `config.traces`.
    pub fn new(_config: &OriginConfig) -> anyhow::Result<Self> {
        Ok(Self {})
    }
}

/// The `/shaped/` routes (not routed yet).
pub fn routes() -> Router<Arc<Origin>> {
    Router::new()
}
