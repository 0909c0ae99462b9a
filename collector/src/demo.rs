//! `/demo/`: the pages of `web-demo/` and, under `/demo/pkg/`, the player's npm package
//! as `make wasm` built it (`player-wasm/pkg/`), so one server gives a person a page that
//! plays. Both are plain static files with the origin's HTTP semantics (validators,
//! ranges), always revalidated. The analysts' dashboard of the same directory
//! (`web-demo/dashboard/`) is served at `/dashboard` ([`crate::dashboard`]).
//!
//! The pages' third-party scripts come from the npm packages `make deps` installs into
//! `web-demo/node_modules/` (`npm ci` of `web-demo/package-lock.json`): `/demo/vendor/`
//! serves exactly the files of [`VENDOR_FILES`] from there (hls.js for the comparison
//! page, uPlot for the charts), and nothing else of `node_modules/` is reachable.

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

/// The files `/demo/vendor/{name}` serves: name, and path under `web-demo/node_modules/`.
pub const VENDOR_FILES: [(&str, &str); 3] = [
    ("hls.min.js", "hls.js/dist/hls.min.js"),
    ("uPlot.iife.min.js", "uplot/dist/uPlot.iife.min.js"),
    ("uPlot.min.css", "uplot/dist/uPlot.min.css"),
];

/// The demo pages, their vendored libraries and the player package, each optional.
pub struct Pages {
    pages: Option<MediaStore>,
    vendor: Option<MediaStore>,
    package: Option<MediaStore>,
    vendor_dir: PathBuf,
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
        let vendor_dir = pages.join("node_modules");
        Pages {
            pages: MediaStore::new(pages, limits).ok(),
            vendor: MediaStore::new(&vendor_dir, limits).ok(),
            package: MediaStore::new(package, limits).ok(),
            vendor_dir,
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
    if let Some(name) = path.strip_prefix("vendor/") {
        return vendor(&pages, &method, &headers, name).await;
    }
    if path == "node_modules" || path.starts_with("node_modules/") {
        return Err(OriginError::NotFound(format!(
            "/demo/{path}: the pages' libraries are served as /demo/vendor/{{{}}}",
            vendor_names().join(",")
        )));
    }
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

fn vendor_names() -> Vec<&'static str> {
    VENDOR_FILES.iter().map(|(name, _)| *name).collect()
}

/// `/demo/vendor/{name}`: one of [`VENDOR_FILES`] from `web-demo/node_modules/`.
async fn vendor(
    pages: &Pages,
    method: &Method,
    headers: &HeaderMap,
    name: &str,
) -> Result<Response, OriginError> {
    let Some((_, path)) = VENDOR_FILES.iter().find(|(known, _)| *known == name) else {
        return Err(OriginError::NotFound(format!(
            "/demo/vendor/{name} (only {})",
            vendor_names().join(", ")
        )));
    };
    let missing = || {
        OriginError::NotFound(format!(
            "{} is not installed: run `make deps` (npm ci in web-demo)",
            pages.vendor_dir.join(path).display()
        ))
    };
    let store = pages.vendor.as_ref().ok_or_else(missing)?;
    let file = store.open(path).await.map_err(|error| match error {
        OriginError::NotFound(_) => missing(),
        other => other,
    })?;
    Ok(respond::reply(method, headers, (&*file).into(), CachePolicy::Revalidate).into_response())
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
