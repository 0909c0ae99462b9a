//! The access log: every request with its status, size, time to response headers and
//! the CMCD data the player sent with it (query `CMCD=` or `CMCD-*` headers), as
//! structured `tracing` events (target `collector::access`).

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use protocol::{Cmcd, CmcdError};

/// The CMCD data of a request: the `CMCD` query argument if present, else the headers.
pub fn request_cmcd(query: Option<&str>, headers: &HeaderMap) -> Result<Cmcd, CmcdError> {
    if let Some(query) = query {
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if key == "CMCD" {
                return Cmcd::parse(&value);
            }
        }
    }
    Cmcd::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
}

/// Middleware that logs each request once its response headers are ready.
pub async fn log_request(request: Request, next: Next) -> Response {
    if !tracing::enabled!(target: "collector::access", tracing::Level::INFO) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cmcd = request_cmcd(request.uri().query(), request.headers());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let bytes = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let headers_ms = started.elapsed().as_secs_f64() * 1000.0;
    match cmcd {
        Ok(cmcd) if cmcd.is_empty() => tracing::info!(
            target: "collector::access",
            %method, path, status, bytes, range, headers_ms,
        ),
        Ok(cmcd) => tracing::info!(
            target: "collector::access",
            %method, path, status, bytes, range, headers_ms,
            cmcd.sid = cmcd.sid.as_deref(),
            cmcd.cid = cmcd.cid.as_deref(),
            cmcd.br = cmcd.br,
            cmcd.bl = cmcd.bl,
            cmcd.mtp = cmcd.mtp,
            cmcd.ot = cmcd.ot.map(|t| t.token()),
            cmcd.su = cmcd.su,
            cmcd.bs = cmcd.bs,
            cmcd = %cmcd,
        ),
        Err(error) => tracing::info!(
            target: "collector::access",
            %method, path, status, bytes, range, headers_ms,
            cmcd_error = %error,
        ),
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn query_wins_and_headers_work() {
        let mut headers = HeaderMap::new();
        headers.insert("cmcd-object", HeaderValue::from_static("br=700,ot=v"));
        headers.insert("cmcd-session", HeaderValue::from_static("sid=\"s1\""));
        let from_headers = request_cmcd(None, &headers).unwrap();
        assert_eq!(from_headers.br, Some(700));
        assert_eq!(from_headers.sid.as_deref(), Some("s1"));
        let from_query =
            request_cmcd(Some("a=1&CMCD=br%3D3200%2Csid%3D%22x%2Cy%22"), &headers).unwrap();
        assert_eq!(from_query.br, Some(3200));
        assert_eq!(from_query.sid.as_deref(), Some("x,y"));
        assert!(request_cmcd(Some("CMCD=br%3Dx"), &headers).is_err());
    }
}
