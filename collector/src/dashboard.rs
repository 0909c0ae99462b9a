//! `/dashboard`: the analysts' dashboard, static files from `web-demo/dashboard/` (plain
//! ES modules, no build step) that read `/api/v1/…` with the read token of the page's
//! `?token=` (default `demo`).
//!
//! Its one third-party piece, uPlot, comes from the npm package `make deps` installs
//! into `web-demo/node_modules/` (`npm ci` of `web-demo/package-lock.json`), served as
//! `/dashboard/vendor/uPlot.iife.min.js` and `/dashboard/vendor/uPlot.min.css`: no CDN,
//! nothing fetched from the internet. Only those two files of the package are reachable.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::origin::OriginError;
use crate::origin::respond::{self, CachePolicy};
use crate::origin::store::{CacheLimits, MediaStore};

/// The files of uPlot's `dist/` the dashboard uses.
pub const VENDOR_FILES: [&str; 2] = ["uPlot.iife.min.js", "uPlot.min.css"];

/// The dashboard's pages and its vendored chart library, each optional.
pub struct Dashboard {
    pages: Option<MediaStore>,
    vendor: Option<MediaStore>,
    pages_dir: PathBuf,
    vendor_dir: PathBuf,
}

impl Dashboard {
    /// The dashboard of the web-demo directory `web_demo` (its `dashboard/` and
    /// `node_modules/uplot/dist/`); a missing part answers 404 saying how to get it.
    pub fn new(web_demo: &Path) -> Dashboard {
        let limits = CacheLimits {
            total_bytes: 4 << 20,
            max_file_bytes: 1 << 20,
        };
        let pages_dir = web_demo.join("dashboard");
        let vendor_dir = web_demo.join("node_modules/uplot/dist");
        Dashboard {
            pages: MediaStore::new(&pages_dir, limits).ok(),
            vendor: MediaStore::new(&vendor_dir, limits).ok(),
            pages_dir,
            vendor_dir,
        }
    }
}

async fn file(
    State(dashboard): State<Arc<Dashboard>>,
    method: Method,
    headers: HeaderMap,
    UrlPath(path): UrlPath<String>,
) -> Result<Response, OriginError> {
    let (store, path) = match path.strip_prefix("vendor/") {
        Some(name) => {
            if !VENDOR_FILES.contains(&name) {
                return Err(OriginError::NotFound(format!(
                    "/dashboard/vendor/{name} (only {})",
                    VENDOR_FILES.join(", ")
                )));
            }
            let store = dashboard.vendor.as_ref().ok_or_else(|| {
                OriginError::NotFound(format!(
                    "uPlot is not installed ({}): run `make deps` (npm ci in web-demo)",
                    dashboard.vendor_dir.display()
                ))
            })?;
            (store, name.to_string())
        }
        None => {
            let store = dashboard.pages.as_ref().ok_or_else(|| {
                OriginError::NotFound(format!(
                    "no dashboard pages in {} (--demo DIR)",
                    dashboard.pages_dir.display()
                ))
            })?;
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

/// The `/dashboard` routes. `/dashboard` redirects to `/dashboard/`, keeping its query
/// (the token).
pub fn routes(dashboard: Arc<Dashboard>) -> Router {
    Router::new()
        .route(
            "/dashboard",
            get(|RawQuery(query): RawQuery| async move {
                let target = match query {
                    Some(q) if !q.is_empty() => format!("/dashboard/?{q}"),
                    _ => "/dashboard/".to_string(),
                };
                Redirect::temporary(&target).into_response()
            }),
        )
        .route(
            "/dashboard/",
            get(|state, method, headers| file(state, method, headers, UrlPath(String::new()))),
        )
        .route("/dashboard/{*path}", get(file))
        .with_state(dashboard)
}
