//! `/demo/`: the pages of `web-demo/` and, under `/demo/pkg/`, the player's npm package
//! as `make wasm` built it (`player-wasm/pkg/`), so one server gives a person a page that
//! plays. Both are plain static files with the origin's HTTP semantics (validators,
//! ranges), always revalidated. The analysts' dashboard of the same directory
//! (`web-demo/dashboard/`) is served at `/dashboard` ([`crate::dashboard`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method};
use axum::response::{Redirect, Response};
use axum::routing::get;

use crate::dashboard::Dashboard;
use crate::origin::OriginError;
use crate::origin::respond::{self, CachePolicy};
use crate::origin::store::{CacheLimits, MediaStore};

/// The demo pages and the player package, each optional.
pub struct Pages {
    pages: Option<MediaStore>,
    package: Option<MediaStore>,
    package_dir: PathBuf,
    dashboard: Arc<Dashboard>,
}

impl Pages {
    /// Serves `pages` and `package` when they exist (a missing one answers 404 saying how
    /// to make it).
    pub fn new(pages: &Path, package: &Path) -> Pages {
        let limits = CacheLimits {
            total_bytes: 8 << 20,
            max_file_bytes: 4 << 20,
        };
        Pages {
            pages: MediaStore::new(pages, limits).ok(),
            package: MediaStore::new(package, limits).ok(),
            package_dir: package.to_path_buf(),
            dashboard: Arc::new(Dashboard::new(pages)),
        }
    }
}

async fn page(
    State(pages): State<Arc<Pages>>,
    method: Method,
    headers: HeaderMap,
    UrlPath(path): UrlPath<String>,
) -> Result<Response, OriginError> {
    let (store, path) = match path.strip_prefix("pkg/") {
        Some(rest) => {
            let store = pages.package.as_ref().ok_or_else(|| {
                OriginError::NotFound(format!(
                    "the player package ({}): build it with `make wasm`",
                    pages.package_dir.display()
                ))
            })?;
            (store, rest.to_string())
        }
        None => {
            let store = pages
                .pages
                .as_ref()
                .ok_or_else(|| OriginError::NotFound("no demo pages (--demo DIR)".into()))?;
            let path = if path.is_empty() || path.ends_with('/') {
                format!("{path}index.html")
            } else {
                path
            };
            (store, path)
        }
    };
    let file = store.open(&path).await?;
    Ok(respond::reply(&method, &headers, (&*file).into(), CachePolicy::Revalidate).into_response())
}

/// The `/demo/` routes, and the dashboard's (`/dashboard`).
pub fn routes(pages: Arc<Pages>) -> Router {
    let dashboard = crate::dashboard::routes(Arc::clone(&pages.dashboard));
    Router::new()
        .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
        .route(
            "/demo/",
            get(|state, method, headers| page(state, method, headers, UrlPath(String::new()))),
        )
        .route("/demo/{*path}", get(page))
        .with_state(pages)
        .merge(dashboard)
}
