//! The query API, `/api/v1/…`: what analysts and the dashboard read.
//!
//! Every data endpoint needs a property's read token (`Authorization: Bearer TOKEN` or
//! `?token=TOKEN`; missing or unknown: 401), which also selects the property. Answers are
//! JSON, or CSV with `format=csv` or `Accept: text/csv`. Parameters are validated, and a
//! bad or unknown one is refused with a 400 naming it ([`ApiError`]).
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /api/v1/overview` | the KPIs of a period and of the period before it ([`overview`]) |
//! | `GET /api/v1/timeseries` | KPIs per minute, hour or day ([`timeseries`]) |
//! | `GET /api/v1/breakdown` | KPIs per video, player, browser, OS, rendition or custom dimension, with impact ([`breakdown`]) |
//! | `GET /api/v1/views` | recent views, `GET /api/v1/views/{view_id}`: one view and its timeline ([`views`]) |
//! | `GET /api/v1/definitions` | what every figure means ([`kpi::DEFINITIONS`]) |
//! | `GET /api/v1/openapi.json` | the OpenAPI 3.1 description of all of these ([`openapi`]) |
//!
//! Figures mean what [`player_wasm::qoe::metrics`] defines; [`kpi`] says how they are
//! computed from the store's sums, and when startup percentiles are exact or estimated.
//! It is not a write path: nothing here changes the store.

pub mod breakdown;
pub mod csv;
mod error;
pub mod kpi;
pub mod openapi;
pub mod overview;
pub mod params;
pub mod query;
pub mod time;
pub mod timeline;
pub mod timeseries;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use serde_json::{Value as Json, json};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

pub use error::ApiError;
use params::{Args, Format};

use crate::ingest::properties::Properties;
use crate::store::{Store, now_ms};

/// The API's shared state: the properties (read tokens) and the store.
#[derive(Debug)]
pub struct Api {
    properties: Arc<Properties>,
    store: Store,
}

impl Api {
    pub fn new(properties: Arc<Properties>, store: Store) -> Arc<Api> {
        Arc::new(Api { properties, store })
    }
}

/// What every data request starts with: its property, parameters, format and time.
#[derive(Debug)]
pub struct Request {
    pub property: String,
    pub args: Args,
    pub format: Format,
    pub now_ms: i64,
}

impl Request {
    /// Checks the read token (first: an unauthorised request learns nothing else), then
    /// parses the parameters and the format.
    pub fn new(api: &Api, headers: &HeaderMap, query: Option<&str>) -> Result<Request, ApiError> {
        let args = Args::parse(query);
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim().to_string())
            });
        // Read apart from the other parameters, so that a bad one is a 400 only for
        // requests that may know it.
        let token = match bearer {
            Some(token) => token,
            None => url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .find(|(name, _)| name == "token")
                .map(|(_, value)| value.into_owned())
                .ok_or(ApiError::MissingToken)?,
        };
        let property = api
            .properties
            .by_read_token(&token)
            .filter(|_| !token.is_empty())
            .ok_or(ApiError::UnknownToken)?
            .key
            .clone();
        let args = args?;
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
        let format = args.format(accept)?;
        Ok(Request {
            property,
            args,
            format,
            now_ms: now_ms(),
        })
    }
}

/// A JSON answer that no cache keeps (the data moves; the request carried a token).
pub fn json_response(body: Json) -> Response {
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn endpoint<H, T>(handler: H) -> MethodRouter<Arc<Api>>
where
    H: axum::handler::Handler<T, Arc<Api>>,
    T: 'static,
{
    get(handler).fallback(|| async { ApiError::Method.into_response() })
}

/// `/api/v1/…`.
pub fn router(api: Arc<Api>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([header::AUTHORIZATION, header::ACCEPT]);
    Router::new()
        .route("/api/v1", endpoint(index))
        .route("/api/v1/", endpoint(index))
        .route("/api/v1/overview", endpoint(overview::handle))
        .route("/api/v1/timeseries", endpoint(timeseries::handle))
        .route("/api/v1/breakdown", endpoint(breakdown::handle))
        .route("/api/v1/views", endpoint(views::list))
        .route("/api/v1/views/{view_id}", endpoint(views::one))
        .route("/api/v1/definitions", endpoint(definitions))
        .route("/api/v1/openapi.json", endpoint(openapi::handle))
        .route(
            "/api/v1/{*rest}",
            any(|request: axum::extract::Request| async move {
                ApiError::NoEndpoint(request.uri().path().to_string()).into_response()
            }),
        )
        .layer(CompressionLayer::new())
        .layer(cors)
        .with_state(api)
}

/// `GET /api/v1`: where things are (no token needed).
async fn index() -> Response {
    json_response(json!({
        "openapi": "/api/v1/openapi.json",
        "definitions": "/api/v1/definitions",
        "endpoints": [
            "/api/v1/overview",
            "/api/v1/timeseries",
            "/api/v1/breakdown",
            "/api/v1/views",
            "/api/v1/views/{view_id}",
        ],
        "auth": "Authorization: Bearer TOKEN, or ?token=TOKEN (a property's read_token)",
    }))
}

/// `GET /api/v1/definitions`: every figure's name, title, unit, better direction and
/// definition (no token needed).
async fn definitions(State(_api): State<Arc<Api>>, RawQuery(query): RawQuery) -> Response {
    let result = Args::parse(query.as_deref()).and_then(|args| {
        args.only(false, &[])?;
        args.format(None)
    });
    match result {
        Ok(Format::Csv) => {
            let mut table = csv::Table::new(["name", "title", "unit", "better", "definition"]);
            for d in kpi::DEFINITIONS {
                let better = match d.better {
                    kpi::Better::Higher => "higher",
                    kpi::Better::Lower => "lower",
                    kpi::Better::Neutral => "neutral",
                };
                table.rows.push(vec![
                    d.name.into(),
                    d.title.into(),
                    d.unit.into(),
                    better.into(),
                    d.definition.into(),
                ]);
            }
            table.into_response("definitions")
        }
        Ok(Format::Json) => json_response(json!({ "metrics": kpi::DEFINITIONS })),
        Err(e) => e.into_response(),
    }
}
