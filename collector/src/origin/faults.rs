//! `/faults/{spec}/{path}`: the same bytes as `/media/` with injected failures.

use std::sync::Arc;

use axum::Router;

use super::Origin;

/// Per-spec request counters that make injection deterministic.
#[derive(Default)]
pub struct Faults {}

/// The `/faults/` routes (not routed yet).
pub fn routes() -> Router<Arc<Origin>> {
    Router::new()
}
