//! `/shaped/{trace}/{session}/{path}` against a real `collector serve`: downloads follow
//! the trace's rate (constant and stepped), a session's requests share it, sessions are
//! independent and expire, latency comes from `rtt=` or the session, and the HTTP
//! semantics of `/media/` (ranges, HEAD, validators, path checks) hold through the shaper.
//!
//! Timing checks compare a measured duration or rate with the one the trace implies, with
//! a relative tolerance (5 % where the issue asks for it, 10 % for rates over windows of
//! about a second); every expected value is long enough that scheduler noise on a busy
//! machine stays well inside it.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{MediaTree, Server, raw_get, segment_bytes};

/// Bytes per second in one Mbit/s.
const MBIT: f64 = 1e6 / 8.0;
/// The server's default latency (`--rtt-ms` default).
const DEFAULT_RTT_S: f64 = 0.080;

/// A directory of trace files.
fn traces(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// A media tree with extra files of known bytes.
fn media(extra: &[(&str, u64, usize)]) -> MediaTree {
    let tree = MediaTree::new();
    for (path, seed, len) in extra {
        std::fs::write(tree.root().join(path), segment_bytes(*seed, *len)).unwrap();
    }
    tree
}

fn start(tree: &MediaTree, traces: &Path, extra: &[&str]) -> Server {
    let dir = traces.to_str().unwrap();
    let mut args = vec!["--traces", dir];
    args.extend_from_slice(extra);
    Server::start(&tree.root(), &args)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A response read chunk by chunk, with when each chunk arrived.
struct Timed {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    /// Time from sending the request to the end of the body.
    elapsed: Duration,
    /// (time since sending, bytes received so far) at each chunk.
    arrivals: Vec<(f64, usize)>,
}

impl Timed {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Bytes received by `t` seconds, interpolated between chunk arrivals.
    fn received_by(&self, t: f64) -> f64 {
        let mut previous = (0.0, 0usize);
        for &(at, bytes) in &self.arrivals {
            if at >= t {
                let span = at - previous.0;
                let share = if span > 0.0 {
                    (t - previous.0) / span
                } else {
                    1.0
                };
                return previous.1 as f64 + share * (bytes - previous.1) as f64;
            }
            previous = (at, bytes);
        }
        previous.1 as f64
    }

    /// Mean rate between `from` and `to` seconds, bytes per second.
    fn rate(&self, from: f64, to: f64) -> f64 {
        (self.received_by(to) - self.received_by(from)) / (to - from)
    }
}

async fn timed(request: reqwest::RequestBuilder) -> Timed {
    let sent = Instant::now();
    let mut response = request.send().await.expect("response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    let mut arrivals = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("body") {
        body.extend_from_slice(&chunk);
        arrivals.push((sent.elapsed().as_secs_f64(), body.len()));
    }
    Timed {
        status,
        headers,
        body,
        elapsed: sent.elapsed(),
        arrivals,
    }
}

async fn get(url: String) -> Timed {
    timed(client().get(url)).await
}

/// `actual` within `tolerance` (relative) of `expected`, with both in the message.
fn assert_near(what: &str, actual: f64, expected: f64, tolerance: f64) {
    let error = (actual - expected) / expected;
    eprintln!(
        "{what}: {actual:.4} vs expected {expected:.4} ({:+.2} %)",
        error * 100.0
    );
    assert!(
        error.abs() <= tolerance,
        "{what}: {actual:.4}, expected {expected:.4} ± {:.0} % (off by {:+.2} %)",
        tolerance * 100.0,
        error * 100.0
    );
}

#[tokio::test]
async fn constant_trace_download_takes_size_over_rate_plus_latency() {
    let size = 500_000;
    let tree = media(&[("ladder/v0/big.m4s", 7, size)]);
    let dir = traces(&[("const2.txt", "0 2\n600 2\n")]);
    let server = start(&tree, dir.path(), &[]);
    let response = get(server.url("/shaped/const2/s1/ladder/v0/big.m4s")).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body,
        segment_bytes(7, size),
        "the same bytes as /media/"
    );
    let expected = size as f64 / (2.0 * MBIT) + DEFAULT_RTT_S;
    assert_near(
        "500 kB over 2 Mbit/s + 80 ms, seconds",
        response.elapsed.as_secs_f64(),
        expected,
        0.05,
    );
    // The session saw one request and sent every byte; the trace is looked up by either
    // name.
    let stats = get(server.url("/shaped-stats/const2.txt/s1")).await;
    assert_eq!(stats.status, 200);
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    assert_eq!(stats["trace"], "const2.txt");
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["in_flight"], 0);
    assert_eq!(stats["bytes_sent"], size as u64);
    assert_eq!(stats["rtt_ms"], 80.0);
    let missing = get(server.url("/shaped-stats/const2/nobody")).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn delivered_rate_follows_a_step_trace() {
    // (0, 1.5] at 4 Mbit/s, (1.5, 3] at 1, then 4 again.
    let size = 1_600_000;
    let tree = media(&[("ladder/v0/long.m4s", 3, size)]);
    let dir = traces(&[("step", "0 4\n1.5 4\n3 1\n600 4\n")]);
    let server = start(&tree, dir.path(), &[]);
    let response = get(server.url("/shaped/step/s/ladder/v0/long.m4s")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, segment_bytes(3, size));
    // Windows inside each step, clear of the chunks that straddle a step.
    for (from, to, mbps) in [(0.25, 1.35, 4.0), (1.65, 2.85, 1.0), (3.15, 4.1, 4.0)] {
        assert_near(
            &format!("rate over {from}-{to} s, Mbit/s"),
            response.rate(from, to) / MBIT,
            mbps,
            0.10,
        );
    }
    // The whole download: the trace runs from the request's arrival, so the link idles
    // through the latency; then 750 kB - 40 kB + 187.5 kB by 3 s, the rest at 4 Mbit/s.
    let by_3s = 4.0 * MBIT * (1.5 - DEFAULT_RTT_S) + 1.0 * MBIT * 1.5;
    let expected = 3.0 + (size as f64 - by_3s) / (4.0 * MBIT);
    assert_near(
        "1.6 MB over the steps, seconds",
        response.elapsed.as_secs_f64(),
        expected,
        0.05,
    );
}

#[tokio::test]
async fn a_sessions_requests_share_its_link_and_sessions_are_independent() {
    let tree = MediaTree::new();
    let dir = traces(&[("c4", "0 4\n600 4\n")]);
    let server = start(&tree, dir.path(), &[]);
    let segment = 200_000.0;
    let alone = segment / (4.0 * MBIT) + DEFAULT_RTT_S;

    // One session, two segments at once: each gets half, both end when 400 kB could have
    // crossed the link.
    let (a, b) = tokio::join!(
        get(server.url("/shaped/c4/shared/ladder/v0/seg_000.m4s")),
        get(server.url("/shaped/c4/shared/ladder/v0/seg_001.m4s")),
    );
    assert_eq!(a.body, segment_bytes(0, 200_000));
    assert_eq!(b.body, segment_bytes(1, 200_000));
    let shared = 2.0 * segment / (4.0 * MBIT) + DEFAULT_RTT_S;
    for (name, response) in [("first", &a), ("second", &b)] {
        // Halfway, each has half of what the link carried.
        let half_time = alone;
        assert_near(
            &format!("{name} of two sharing a session, kB by {half_time:.2} s"),
            response.received_by(half_time) / 1000.0,
            (half_time - DEFAULT_RTT_S) * 2.0 * MBIT / 1000.0,
            0.10,
        );
        assert_near(
            &format!("{name} of two sharing a session, seconds"),
            response.elapsed.as_secs_f64(),
            shared,
            0.10,
        );
    }

    // Two sessions at once: each has the whole trace.
    let (x, y) = tokio::join!(
        get(server.url("/shaped/c4/x/ladder/v0/seg_000.m4s")),
        get(server.url("/shaped/c4/y/ladder/v0/seg_001.m4s")),
    );
    for (name, response) in [("session x", &x), ("session y", &y)] {
        assert_eq!(response.status, 200);
        assert_near(
            &format!("{name} beside another session, seconds"),
            response.elapsed.as_secs_f64(),
            alone,
            0.10,
        );
    }
}

#[tokio::test]
async fn latency_comes_from_the_request_or_the_session() {
    let tree = MediaTree::new();
    let dir = traces(&[("fast", "0 400\n600 400\n")]);
    let server = start(&tree, dir.path(), &[]);
    let head = |path: &str| timed(client().head(server.url(path)));

    // The request that creates a session sets its latency...
    let master = get(server.url("/shaped/fast/slow/ladder/master.m3u8?rtt=400")).await;
    assert_eq!(master.status, 200);
    let inherited = head("/shaped/fast/slow/ladder/v0/seg_000.m4s").await;
    // ...a request may override it for itself...
    let own = head("/shaped/fast/slow/ladder/v0/seg_001.m4s?rtt=150").await;
    // ...and other sessions keep the server's default.
    let default = head("/shaped/fast/other/ladder/v0/seg_000.m4s").await;
    for (what, response, rtt) in [
        ("master with rtt=400", &master, 0.400),
        ("segment in the rtt=400 session", &inherited, 0.400),
        ("segment with its own rtt=150", &own, 0.150),
        ("segment in a default session", &default, DEFAULT_RTT_S),
    ] {
        let elapsed = response.elapsed.as_secs_f64();
        eprintln!("{what}: {elapsed:.4} s for a latency of {rtt} s");
        // Never early; late by less than the next latency tested is distinguishable.
        assert!(elapsed >= rtt - 0.002, "{what}: {elapsed} s < {rtt} s");
        assert!(elapsed < rtt + 0.060, "{what}: {elapsed} s ≫ {rtt} s");
    }

    let bad = get(server.url("/shaped/fast/s/ladder/master.m3u8?rtt=soon")).await;
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("rtt=\"soon\""));
    let too_long = get(server.url("/shaped/fast/s/ladder/master.m3u8?rtt=90000")).await;
    assert_eq!(too_long.status, 400);
}

#[tokio::test]
async fn http_semantics_and_path_checks_hold_through_the_shaper() {
    let tree = MediaTree::new();
    let dir = traces(&[("fast.txt", "0 400\n600 400\n"), ("fast.log", "0 1\n9 1\n")]);
    let server = start(&tree, dir.path(), &["--rtt-ms", "0"]);
    let seg = segment_bytes(1, 200_000);
    let url = server.url("/shaped/fast.txt/h/ladder/v0/seg_001.m4s");

    let head = timed(client().head(&url)).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("200000"));
    assert!(head.body.is_empty());
    let etag = head.header("etag").unwrap().to_string();

    let range = timed(client().get(&url).header("range", "bytes=1000-1999")).await;
    assert_eq!(range.status, 206);
    assert_eq!(
        range.header("content-range"),
        Some("bytes 1000-1999/200000")
    );
    assert_eq!(range.body, &seg[1000..2000]);

    let suffix = timed(client().get(&url).header("range", "bytes=-10")).await;
    assert_eq!(suffix.body, &seg[seg.len() - 10..]);
    let beyond = timed(client().get(&url).header("range", "bytes=300000-")).await;
    assert_eq!(beyond.status, 416);

    let cached = timed(client().get(&url).header("if-none-match", &etag)).await;
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());

    // Same validators as /media/ for files served unchanged; never compressed.
    let plain = timed(client().get(server.url("/media/ladder/v0/seg_001.m4s"))).await;
    assert_eq!(plain.header("etag"), Some(etag.as_str()));
    let playlist = timed(
        client()
            .get(server.url("/shaped/fast.txt/h/ladder/v0/index.m3u8"))
            .header("accept-encoding", "gzip"),
    )
    .await;
    assert_eq!(playlist.header("content-encoding"), None);
    assert_eq!(
        playlist.body,
        std::fs::read(tree.root().join("ladder/v0/index.m3u8")).unwrap()
    );

    // Unknown traces, ambiguous short names, bad names, bad session ids.
    let unknown = raw_get(&server.addr, "/shaped/nope/s/ladder/master.m3u8");
    assert_eq!(unknown.status, 404);
    assert!(String::from_utf8_lossy(&unknown.body).contains("\"nope\""));
    assert_eq!(
        raw_get(&server.addr, "/shaped/fast/s/ladder/master.m3u8").status,
        404
    );
    for target in [
        "/shaped/../s/ladder/master.m3u8",
        "/shaped/%2E%2E/s/ladder/master.m3u8",
        "/shaped/a%2Fb/s/ladder/master.m3u8",
        "/shaped/fast.txt/a%20b/ladder/master.m3u8",
        "/shaped/fast.txt/../ladder/master.m3u8",
    ] {
        assert_eq!(raw_get(&server.addr, target).status, 400, "{target}");
    }
    // Traversal in the path is refused exactly as /media/ refuses it.
    for rest in [
        "../secret.txt",
        "ladder/../../secret.txt",
        "%2E%2E/secret.txt",
    ] {
        let media = raw_get(&server.addr, &format!("/media/{rest}"));
        let shaped = raw_get(&server.addr, &format!("/shaped/fast.txt/t/{rest}"));
        assert_eq!(shaped.status, media.status, "{rest}");
        assert!(
            shaped.status == 403 || shaped.status == 404,
            "{rest}: {}",
            shaped.status
        );
        assert!(!String::from_utf8_lossy(&shaped.body).contains("outside the root\n"));
    }
    let missing = raw_get(&server.addr, "/shaped/fast.txt/t/ladder/none.m4s");
    assert_eq!(missing.status, 404);

    // Without --traces every trace is unknown.
    let bare = Server::start(&tree.root(), &[]);
    assert_eq!(
        raw_get(&bare.addr, "/shaped/fast.txt/s/ladder/master.m3u8").status,
        404
    );
}

#[tokio::test]
async fn root_relative_media_uris_in_playlists_stay_shaped() {
    let tree = MediaTree::new();
    let playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"/media/ladder/v0/init.mp4\"\n\
                    #EXTINF:2.000,\n/media/ladder/v0/seg_000.m4s\n#EXTINF:2.000,\nseg_001.m4s\n\
                    #EXT-X-ENDLIST\n";
    std::fs::write(tree.root().join("ladder/v0/rooted.m3u8"), playlist).unwrap();
    let dir = traces(&[("fast", "0 400\n600 400\n")]);
    let server = start(&tree, dir.path(), &["--rtt-ms", "0"]);

    let shaped = get(server.url("/shaped/fast/p1/ladder/v0/rooted.m3u8")).await;
    assert_eq!(shaped.status, 200);
    let text = String::from_utf8(shaped.body.clone()).unwrap();
    assert_eq!(
        text,
        playlist
            .replace("\"/media/", "\"/shaped/fast/p1/")
            .replace("\n/media/", "\n/shaped/fast/p1/")
    );
    assert_eq!(
        shaped.header("content-length"),
        Some(text.len().to_string().as_str())
    );
    // /media/ keeps the file as it is, with another validator than the rewrite.
    let plain = get(server.url("/media/ladder/v0/rooted.m3u8")).await;
    assert_eq!(plain.body, playlist.as_bytes());
    assert_ne!(plain.header("etag"), shaped.header("etag"));
    // Ranges apply to the rewritten bytes, and the rewritten URIs resolve.
    let range = timed(
        client()
            .get(server.url("/shaped/fast/p1/ladder/v0/rooted.m3u8"))
            .header("range", "bytes=0-19"),
    )
    .await;
    assert_eq!(range.body, &text.as_bytes()[..20]);
    let segment = get(server.url("/shaped/fast/p1/ladder/v0/seg_000.m4s")).await;
    assert_eq!(segment.body, segment_bytes(0, 200_000));
}

#[tokio::test]
async fn an_idle_session_expires_and_its_trace_starts_over() {
    // 8 Mbit/s for a second, then 0.8 Mbit/s: a 200 kB segment takes 0.2 s on a fresh
    // session and 2 s on one that is past its first second.
    let tree = MediaTree::new();
    let dir = traces(&[("drop", "0 8\n1 8\n600 0.8\n")]);
    let expiring = start(
        &tree,
        dir.path(),
        &["--session-idle-s", "1", "--rtt-ms", "0"],
    );
    let keeping = start(&tree, dir.path(), &["--rtt-ms", "0"]);

    let replay = |server: &Server| {
        let init = server.url("/shaped/drop/e/ladder/v0/init.mp4");
        let stats = server.url("/shaped-stats/drop/e");
        let segment = server.url("/shaped/drop/e/ladder/v0/seg_000.m4s");
        async move {
            assert_eq!(get(init).await.status, 200);
            assert_eq!(get(stats.clone()).await.status, 200);
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let live = get(stats).await.status;
            (live, get(segment).await)
        }
    };
    let ((expired_stats, fresh), (kept_stats, late)) =
        tokio::join!(replay(&expiring), replay(&keeping));
    assert_eq!(expired_stats, 404, "expired sessions are forgotten");
    assert_eq!(kept_stats, 200);
    assert_eq!(fresh.body, segment_bytes(0, 200_000));
    assert_near(
        "segment on a session restarted after expiry, seconds",
        fresh.elapsed.as_secs_f64(),
        0.2,
        0.25,
    );
    assert_near(
        "segment on a session still alive at 2.5 s, seconds",
        late.elapsed.as_secs_f64(),
        2.0,
        0.10,
    );
}

#[tokio::test]
async fn large_files_streamed_from_disk_come_through_intact() {
    // Above the 8 MiB in-memory limit: read from disk while shaped.
    let size = 9 << 20;
    let tree = media(&[("ladder/v0/huge.m4s", 11, size)]);
    let dir = traces(&[("c80", "0 80\n600 80\n")]);
    let server = start(&tree, dir.path(), &["--rtt-ms", "0"]);
    let response = get(server.url("/shaped/c80/d/ladder/v0/huge.m4s")).await;
    assert_eq!(response.status, 200);
    assert!(response.body == segment_bytes(11, size));
    assert_near(
        "9 MiB over 80 Mbit/s, seconds",
        response.elapsed.as_secs_f64(),
        size as f64 / (80.0 * MBIT),
        0.10,
    );
}

#[tokio::test]
async fn the_traces_are_listed_and_their_samples_served() {
    let tree = media(&[]);
    let dir = traces(&[("step.txt", "0 4\n10 1\n20 4\n"), ("flat", "0 2\n30 2\n")]);
    let server = start(&tree, dir.path(), &[]);
    let set = dir.path().file_name().unwrap().to_str().unwrap();
    let client = client();
    let list: serde_json::Value = client
        .get(server.url("/shaped/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap();
    assert_eq!(
        list,
        serde_json::json!({"traces": [
            {"name": "flat", "set": set, "duration_s": 30.0, "mean_mbps": 2.0},
            {"name": "step.txt", "set": set, "duration_s": 20.0, "mean_mbps": 2.5},
        ]})
    );
    let samples: serde_json::Value = client
        .get(server.url("/shaped-trace/step"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap();
    assert_eq!(
        samples,
        serde_json::json!({"name": "step.txt", "times_s": [0.0, 10.0, 20.0], "mbps": [4.0, 1.0, 4.0]})
    );
    let missing = client
        .get(server.url("/shaped-trace/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
