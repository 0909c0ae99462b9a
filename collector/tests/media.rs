//! `/media/`: a real `collector serve` on 127.0.0.1 answers like a CDN edge: content
//! types, HEAD, ranges, validators and conditional requests, caching headers, CORS,
//! compressed playlists, no way out of the media root, CMCD in the access log, and a
//! clean exit on SIGTERM.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use support::{MediaTree, Server, raw_get, segment_bytes};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().build().unwrap()
}

fn text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .unwrap_or_else(|| panic!("missing {name}"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn segments_playlists_and_init_have_the_right_headers() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let client = client();

    let segment = client
        .get(server.url("/media/ladder/v0/seg_001.m4s"))
        .header(header::ORIGIN, "http://example.test")
        .send()
        .await
        .unwrap();
    assert_eq!(segment.status(), StatusCode::OK);
    let headers = segment.headers().clone();
    assert_eq!(text(&headers, header::CONTENT_TYPE), "video/iso.segment");
    assert_eq!(text(&headers, header::CONTENT_LENGTH), "200000");
    assert_eq!(text(&headers, header::ACCEPT_RANGES), "bytes");
    assert_eq!(
        text(&headers, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert!(text(&headers, header::ETAG).starts_with('"'));
    httpdate::parse_http_date(text(&headers, header::LAST_MODIFIED)).unwrap();
    assert_eq!(text(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    let exposed = text(&headers, header::ACCESS_CONTROL_EXPOSE_HEADERS);
    for name in ["content-length", "content-range", "etag", "last-modified"] {
        assert!(exposed.contains(name), "{name} not exposed: {exposed}");
    }
    assert_eq!(
        segment.bytes().await.unwrap().as_ref(),
        segment_bytes(1, 200_000)
    );

    let playlist = client
        .get(server.url("/media/ladder/v0/index.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        text(playlist.headers(), header::CONTENT_TYPE),
        "application/vnd.apple.mpegurl"
    );
    assert_eq!(text(playlist.headers(), header::CACHE_CONTROL), "no-cache");
    assert!(playlist.text().await.unwrap().contains("#EXT-X-ENDLIST"));

    let init = client
        .get(server.url("/media/ladder/v0/init.mp4"))
        .send()
        .await
        .unwrap();
    assert_eq!(text(init.headers(), header::CONTENT_TYPE), "video/mp4");

    let head = client
        .head(server.url("/media/ladder/v0/seg_002.m4s"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(text(head.headers(), header::CONTENT_LENGTH), "200000");
    assert_eq!(
        text(head.headers(), header::ETAG),
        text(
            client
                .get(server.url("/media/ladder/v0/seg_002.m4s"))
                .send()
                .await
                .unwrap()
                .headers(),
            header::ETAG
        )
    );
    assert!(head.bytes().await.unwrap().is_empty());

    let missing = client
        .get(server.url("/media/ladder/v0/seg_999.m4s"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("seg_999.m4s"));
}

#[tokio::test]
async fn byte_ranges() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let client = client();
    let url = server.url("/media/ladder/v0/seg_000.m4s");
    let whole = segment_bytes(0, 200_000);
    let get = |range: &'static str| client.get(&url).header(header::RANGE, range).send();

    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=199900-", 199_900, 199_999),
        ("bytes=-10", 199_990, 199_999),
        ("bytes=100-999999", 100, 199_999),
    ] {
        let response = get(range).await.unwrap();
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            text(response.headers(), header::CONTENT_RANGE),
            format!("bytes {start}-{end}/200000")
        );
        assert_eq!(
            text(response.headers(), header::CONTENT_LENGTH),
            (end - start + 1).to_string()
        );
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            &whole[start..=end]
        );
    }

    let unsatisfiable = get("bytes=200000-").await.unwrap();
    assert_eq!(unsatisfiable.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        text(unsatisfiable.headers(), header::CONTENT_RANGE),
        "bytes */200000"
    );

    // Several ranges, or nonsense: the whole body.
    for range in ["bytes=0-1,5-6", "bytes=5-1", "pages=1-2"] {
        let response = get(range).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{range}");
        assert_eq!(response.bytes().await.unwrap().len(), 200_000);
    }

    // If-Range: a stale validator means the whole (new) body.
    let etag = text(get("bytes=0-0").await.unwrap().headers(), header::ETAG).to_string();
    let fresh = client
        .get(&url)
        .header(header::RANGE, "bytes=0-9")
        .header(header::IF_RANGE, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::PARTIAL_CONTENT);
    let stale = client
        .get(&url)
        .header(header::RANGE, "bytes=0-9")
        .header(header::IF_RANGE, "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn conditional_requests_and_changes_on_disk() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let client = client();
    let url = server.url("/media/ladder/v0/index.m3u8");
    let first = client.get(&url).send().await.unwrap();
    let etag = text(first.headers(), header::ETAG).to_string();
    let modified = text(first.headers(), header::LAST_MODIFIED).to_string();

    let with = |name: header::HeaderName, value: &str| {
        client
            .get(&url)
            .header(name, HeaderValue::from_str(value).unwrap())
            .send()
    };
    let not_modified = with(header::IF_NONE_MATCH, &etag).await.unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(text(not_modified.headers(), header::ETAG), etag);
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let weak = with(header::IF_NONE_MATCH, &format!("\"x\", W/{etag}"))
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        with(header::IF_NONE_MATCH, "\"other\"")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        with(header::IF_MODIFIED_SINCE, &modified)
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        with(header::IF_MODIFIED_SINCE, "Thu, 01 Jan 1970 00:00:00 GMT")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        with(header::IF_MATCH, "\"other\"").await.unwrap().status(),
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        with(header::IF_MODIFIED_SINCE, "not a date")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Rewriting the file changes its validator and its bytes at once.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let path = tree.root().join("ladder/v0/index.m3u8");
    std::fs::write(&path, "#EXTM3U\n#EXT-X-VERSION:7\n# changed\n").unwrap();
    let changed = with(header::IF_NONE_MATCH, &etag).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(text(changed.headers(), header::ETAG), etag);
    assert!(changed.text().await.unwrap().contains("# changed"));
}

#[tokio::test]
async fn playlists_are_compressed_segments_never() {
    let tree = MediaTree::new();
    let long: String = std::iter::once("#EXTM3U\n#EXT-X-TARGETDURATION:2\n".to_string())
        .chain((0..200).map(|i| format!("#EXTINF:2.000,\nseg_{i:03}.m4s\n")))
        .collect();
    std::fs::write(tree.root().join("ladder/long.m3u8"), &long).unwrap();
    let server = Server::start(&tree.root(), &[]);
    let client = client();
    let gzip = |path: &str| {
        client
            .get(server.url(path))
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
    };
    let playlist = gzip("/media/ladder/long.m3u8").await.unwrap();
    assert_eq!(
        text(playlist.headers(), header::CONTENT_ENCODING),
        "gzip",
        "playlists go compressed"
    );
    let compressed = playlist.bytes().await.unwrap();
    assert!(compressed.len() < long.len() / 4);
    assert_eq!(gunzip(&compressed), long);

    let segment = gzip("/media/ladder/v0/seg_000.m4s").await.unwrap();
    assert!(segment.headers().get(header::CONTENT_ENCODING).is_none());
    let ranged = client
        .get(server.url("/media/ladder/long.m3u8"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::RANGE, "bytes=0-6")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert!(ranged.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(ranged.text().await.unwrap(), "#EXTM3U");

    // A client that decompresses sees the original text.
    let decoding = reqwest::Client::new();
    let text = decoding
        .get(server.url("/media/ladder/long.m3u8"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, long);
}

/// Decompresses with `gzip -d` (on every Debian machine), independent of our stack.
fn gunzip(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "gzip -d failed");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn no_escape_from_the_media_root() {
    let tree = MediaTree::new();
    std::os::unix::fs::symlink(
        tree.dir.path().join("secret.txt"),
        tree.root().join("ladder/escape.m3u8"),
    )
    .unwrap();
    std::os::unix::fs::symlink(tree.dir.path(), tree.root().join("up")).unwrap();
    let server = Server::start(&tree.root(), &[]);
    for target in [
        "/media/../secret.txt",
        "/media/ladder/../../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/%2E%2E%2Fsecret.txt",
        "/media/ladder/%2e%2e/%2e%2e/secret.txt",
        "/media/%252e%252e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/..%5csecret.txt",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        "/media/ladder/escape.m3u8",
        "/media/up/secret.txt",
        "/media/ladder%00/v0/index.m3u8",
        "/media/./ladder/v0/index.m3u8",
    ] {
        let response = raw_get(&server.addr, target);
        assert!(
            [400, 403, 404].contains(&response.status),
            "{target}: {}",
            response.status
        );
        let body = String::from_utf8_lossy(&response.body);
        assert!(!body.contains("outside the root"), "{target} leaked");
        assert!(!body.contains("root:"), "{target} leaked /etc/passwd");
    }
    // A symlink that stays inside the root is followed.
    std::os::unix::fs::symlink(
        tree.root().join("ladder/v0/init.mp4"),
        tree.root().join("ladder/alias.mp4"),
    )
    .unwrap();
    assert_eq!(raw_get(&server.addr, "/media/ladder/alias.mp4").status, 200);
    assert_eq!(raw_get(&server.addr, "/media/ladder/v0").status, 404);
}

#[tokio::test]
async fn cors_preflight_allows_ranges_and_cmcd_headers() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let response = client()
        .request(
            reqwest::Method::OPTIONS,
            server.url("/media/ladder/v0/seg_000.m4s"),
        )
        .header(header::ORIGIN, "http://player.test")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "range,cmcd-object,cmcd-request,cmcd-session,cmcd-status",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        text(response.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "*"
    );
    let allowed = text(response.headers(), header::ACCESS_CONTROL_ALLOW_HEADERS).to_lowercase();
    for name in ["range", "cmcd-object", "cmcd-session"] {
        assert!(allowed.contains(name), "{name} not allowed: {allowed}");
    }
}

#[test]
fn cmcd_is_logged_with_each_request_and_sigterm_exits_cleanly() {
    let tree = MediaTree::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--log",
            "info",
            "--log-json",
        ])
        .arg("--media")
        .arg(tree.root())
        .arg("--db")
        .arg(format!(
            "sqlite://{}",
            tree.root().join("analytics.db").display()
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit('/').next().unwrap().to_string();

    let query =
        "/media/ladder/v0/seg_000.m4s?CMCD=br%3D700%2Cbl%3D4200%2Cot%3Dv%2Csid%3D%22view-1%22%2Csu";
    assert_eq!(raw_get(&addr, query).status, 200);
    let bad = "/media/ladder/v0/seg_001.m4s?CMCD=br%3Dfast";
    assert_eq!(
        raw_get(&addr, bad).status,
        200,
        "bad CMCD never fails a request"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "SIGTERM exits with success");
    let log = String::from_utf8(output.stderr).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["target"] == "collector::access")
        .collect();
    let with_cmcd = events
        .iter()
        .find(|e| e["fields"]["path"] == "/media/ladder/v0/seg_000.m4s")
        .expect("request logged");
    assert_eq!(with_cmcd["fields"]["cmcd.br"], 700);
    assert_eq!(with_cmcd["fields"]["cmcd.bl"], 4200);
    assert_eq!(with_cmcd["fields"]["cmcd.sid"], "view-1");
    assert_eq!(with_cmcd["fields"]["cmcd.ot"], "v");
    assert_eq!(with_cmcd["fields"]["cmcd.su"], true);
    assert_eq!(with_cmcd["fields"]["status"], 200);
    let with_error = events
        .iter()
        .find(|e| e["fields"]["path"] == "/media/ladder/v0/seg_001.m4s")
        .expect("request logged");
    assert!(
        with_error["fields"]["cmcd_error"]
            .as_str()
            .unwrap()
            .contains("br")
    );
}

#[test]
fn bad_arguments_are_clear_errors() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_collector"))
            .args(args)
            .output()
            .unwrap()
    };
    let missing = run(&[
        "serve",
        "--media",
        "/nonexistent/media",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/media"));
    let bad_addr = run(&["serve", "--media", "/tmp", "--addr", "nowhere"]);
    assert!(!bad_addr.status.success());
    assert!(String::from_utf8_lossy(&bad_addr.stderr).contains("--addr"));
    let bad_window = run(&["serve", "--media", "/tmp", "--live-window", "0"]);
    assert!(!bad_window.status.success());
}

#[test]
fn demo_pages_and_the_player_package() {
    let tree = MediaTree::new();
    let pages = tree.dir.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    std::fs::write(
        pages.join("index.html"),
        "<!doctype html><title>demo</title>",
    )
    .unwrap();
    let package = tree.dir.path().join("no-package-yet");
    let server = Server::start(
        &tree.root(),
        &[
            "--demo",
            pages.to_str().unwrap(),
            "--pkg",
            package.to_str().unwrap(),
        ],
    );
    for target in ["/demo/", "/demo/?src=/media/x.m3u8", "/demo/index.html"] {
        let page = raw_get(&server.addr, target);
        assert_eq!(page.status, 200, "{target}");
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(String::from_utf8_lossy(&page.body).contains("<title>demo</title>"));
    }
    assert_eq!(raw_get(&server.addr, "/demo").status, 308);
    let missing = raw_get(&server.addr, "/demo/pkg/player_wasm.js");
    assert_eq!(missing.status, 404);
    assert!(String::from_utf8_lossy(&missing.body).contains("make wasm"));
    assert_eq!(raw_get(&server.addr, "/demo/../secret.txt").status, 403);
}

#[test]
fn demo_vendor_serves_only_the_named_library_files() {
    let tree = MediaTree::new();
    let pages = tree.dir.path().join("pages");
    let modules = pages.join("node_modules");
    for (dir, file, text) in [
        ("hls.js/dist", "hls.min.js", "var Hls = 1;"),
        ("hls.js/dist", "hls.js", "var Hls = 2;"),
        ("uplot/dist", "uPlot.iife.min.js", "var uPlot = 1;"),
        ("uplot/dist", "uPlot.min.css", ".uplot {}"),
    ] {
        std::fs::create_dir_all(modules.join(dir)).unwrap();
        std::fs::write(modules.join(dir).join(file), text).unwrap();
    }
    std::fs::write(pages.join("index.html"), "<!doctype html>").unwrap();
    let server = Server::start(&tree.root(), &["--demo", pages.to_str().unwrap()]);
    for (target, body, content_type) in [
        ("/demo/vendor/hls.min.js", "var Hls = 1;", "text/javascript"),
        (
            "/demo/vendor/uPlot.iife.min.js",
            "var uPlot = 1;",
            "text/javascript",
        ),
        ("/demo/vendor/uPlot.min.css", ".uplot {}", "text/css"),
    ] {
        let reply = raw_get(&server.addr, target);
        assert_eq!(reply.status, 200, "{target}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with(content_type),
            "{target}"
        );
        assert_eq!(String::from_utf8_lossy(&reply.body), body, "{target}");
    }
    // Nothing else of node_modules, by any path.
    for target in [
        "/demo/vendor/hls.js",
        "/demo/vendor/hls.js/dist/hls.js",
        "/demo/node_modules/hls.js/dist/hls.js",
        "/demo/node_modules/uplot/dist/uPlot.min.css",
        "/demo/node_modules",
    ] {
        let reply = raw_get(&server.addr, target);
        assert_eq!(reply.status, 404, "{target}");
        assert!(
            String::from_utf8_lossy(&reply.body).contains("/demo/vendor/"),
            "{target}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    // A package that is not installed says how to install it.
    std::fs::remove_file(modules.join("hls.js/dist/hls.min.js")).unwrap();
    let missing = raw_get(&server.addr, "/demo/vendor/hls.min.js");
    assert_eq!(missing.status, 404);
    assert!(String::from_utf8_lossy(&missing.body).contains("make deps"));
}
