//! `/faults/{spec}/{path}` against a real `collector serve`: every kind of fault, their
//! combinations, reproducible draws, and malformed specs refused with the option named.
//! Timing checks are ratios with generous margins (shared 2-core machines are noisy).

mod support;

use std::time::{Duration, Instant};

use support::{MediaTree, Server, raw_exchange, raw_get, segment_bytes};

const SEGMENT: &str = "ladder/v0/seg_000.m4s";
const SEGMENT_LEN: usize = 200_000;

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// Statuses of `count` requests for `path` under `spec`.
async fn statuses(server: &Server, spec: &str, path: &str, count: usize) -> Vec<u16> {
    let client = client();
    let mut statuses = Vec::with_capacity(count);
    for _ in 0..count {
        let response = client
            .get(server.url(&format!("/faults/{spec}/{path}")))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        response.bytes().await.unwrap();
    }
    statuses
}

#[tokio::test]
async fn status_replaces_the_file() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let response = client()
        .get(server.url(&format!("/faults/status=503/{SEGMENT}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-fault"], "status=503");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = response.text().await.unwrap();
    assert!(body.contains("503"), "{body}");

    // A missing file is still a 404, a path leading out of the root still refused.
    assert_eq!(
        raw_get(&server.addr, "/faults/status=503/ladder/v0/missing.m4s").status,
        404
    );
    assert_eq!(
        raw_get(&server.addr, "/faults/status=503/../secret.txt").status,
        403
    );
}

#[tokio::test]
async fn seeded_draws_repeat_across_runs() {
    let tree = MediaTree::new();
    let path = "ladder/v0/init.mp4";
    let spec = "status=500,p=0.2,seed=42";
    let first_run = {
        let server = Server::start(&tree.root(), &[]);
        statuses(&server, spec, path, 200).await
    };
    let hits = first_run.iter().filter(|&&s| s == 500).count();
    assert!((20..=60).contains(&hits), "{hits} of 200 with p=0.2");
    assert!(first_run.iter().all(|&s| s == 500 || s == 200));

    let server = Server::start(&tree.root(), &[]);
    // The same spec written in another order is the same spec: it continues the count.
    let mut second_run = statuses(&server, spec, path, 100).await;
    second_run.extend(statuses(&server, "seed=42,p=0.20,status=500", path, 100).await);
    assert_eq!(first_run, second_run);

    let other_seed = statuses(&server, "status=500,p=0.2,seed=43", path, 200).await;
    assert_ne!(first_run, other_seed);
    // p=1 always, p=0 never.
    assert!(
        statuses(&server, "status=500,p=1", path, 10)
            .await
            .iter()
            .all(|&s| s == 500)
    );
    assert!(
        statuses(&server, "status=500,p=0", path, 10)
            .await
            .iter()
            .all(|&s| s == 200)
    );
}

#[tokio::test]
async fn match_limits_the_paths() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let client = client();
    let spec = "status=404,match=seg_001";
    let hit = client
        .get(server.url(&format!("/faults/{spec}/ladder/v0/seg_001.m4s")))
        .send()
        .await
        .unwrap();
    assert_eq!(hit.status(), 404);
    assert_eq!(hit.headers()["x-fault"], "status=404");
    let missed = client
        .get(server.url(&format!("/faults/{spec}/{SEGMENT}")))
        .send()
        .await
        .unwrap();
    assert_eq!(missed.status(), 200);
    assert!(missed.headers().get("x-fault").is_none());
    assert_eq!(missed.headers()["cache-control"], "no-store");
    assert_eq!(
        missed.bytes().await.unwrap().to_vec(),
        segment_bytes(0, SEGMENT_LEN)
    );
    // A match containing `/` is written percent-encoded.
    let slashed = statuses(
        &server,
        "status=410,match=v0%2Fseg_002",
        "ladder/v0/seg_002.m4s",
        1,
    );
    assert_eq!(slashed.await, vec![410]);
}

#[tokio::test]
async fn stall_sends_headers_then_pauses_the_body() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let stall = Duration::from_millis(1500);

    let started = Instant::now();
    let mut response = client()
        .get(server.url(&format!("/faults/stall=1500ms/{SEGMENT}")))
        .send()
        .await
        .unwrap();
    let headers_after = started.elapsed();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-fault"], "stall=1.5s at byte 0");
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    let body_after = started.elapsed();
    assert_eq!(body, segment_bytes(0, SEGMENT_LEN));
    assert!(headers_after < stall / 2, "headers after {headers_after:?}");
    assert!(body_after >= stall, "body after {body_after:?}");

    // at=0.5: exactly half the body arrives before the pause.
    let mut response = client()
        .get(server.url(&format!("/faults/stall=1500ms,at=0.5/{SEGMENT}")))
        .send()
        .await
        .unwrap();
    let mut received = 0;
    let mut last = Instant::now();
    let mut longest_gap = (Duration::ZERO, 0);
    while let Some(chunk) = response.chunk().await.unwrap() {
        let gap = last.elapsed();
        if gap > longest_gap.0 {
            longest_gap = (gap, received);
        }
        received += chunk.len();
        last = Instant::now();
    }
    assert_eq!(received, SEGMENT_LEN);
    assert!(longest_gap.0 >= stall * 9 / 10, "{longest_gap:?}");
    assert_eq!(longest_gap.1, SEGMENT_LEN / 2, "bytes before the pause");
}

#[tokio::test]
async fn truncate_sends_part_of_the_body_then_aborts() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let exchange = raw_exchange(
        &server.addr,
        "GET",
        &format!("/faults/truncate=0.5/{SEGMENT}"),
    );
    let response = exchange.response().expect("a response head");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-length"), Some("200000"));
    assert_eq!(
        response.header("x-fault"),
        Some("truncate at byte 100000 of 200000")
    );
    assert_eq!(response.body, segment_bytes(0, SEGMENT_LEN)[..100_000]);

    // A client sees an incomplete body as an error.
    let response = client()
        .get(server.url(&format!("/faults/truncate=0.25/{SEGMENT}")))
        .send()
        .await
        .unwrap();
    assert!(response.bytes().await.is_err());

    // truncate=0: the head and nothing else.
    let exchange = raw_exchange(
        &server.addr,
        "GET",
        &format!("/faults/truncate=0/{SEGMENT}"),
    );
    let response = exchange.response().expect("a response head");
    assert_eq!(response.header("content-length"), Some("200000"));
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn reset_closes_without_a_response() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let exchange = raw_exchange(&server.addr, "GET", &format!("/faults/reset/{SEGMENT}"));
    assert!(
        exchange.bytes.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&exchange.bytes)
    );
    let error = client()
        .get(server.url(&format!("/faults/reset/{SEGMENT}")))
        .send()
        .await
        .expect_err("no response");
    assert!(!error.is_status(), "{error}");
    // HEAD has no body to break: the head goes out, and the connection closes.
    let head = raw_exchange(&server.addr, "HEAD", &format!("/faults/reset/{SEGMENT}"));
    let response = head.response().expect("a head");
    assert_eq!(response.header("x-fault"), Some("reset"));
    assert_eq!(response.header("connection"), Some("close"));
    // With p=0 nothing happens.
    let exchange = raw_exchange(&server.addr, "GET", &format!("/faults/reset,p=0/{SEGMENT}"));
    assert_eq!(exchange.response().unwrap().body.len(), SEGMENT_LEN);
}

#[tokio::test]
async fn faults_combine() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let exchange = raw_exchange(
        &server.addr,
        "GET",
        &format!("/faults/stall=1s,at=0.25,truncate=0.5/{SEGMENT}"),
    );
    let response = exchange.response().expect("a response head");
    assert_eq!(
        response.header("x-fault"),
        Some("stall=1s at byte 50000, truncate at byte 100000 of 200000")
    );
    assert_eq!(response.body.len(), 100_000);
    assert!(exchange.first_byte.unwrap() < Duration::from_millis(750));
    assert!(exchange.finished >= Duration::from_secs(1));

    let exchange = raw_exchange(
        &server.addr,
        "GET",
        &format!("/faults/delay=800ms,status=502/{SEGMENT}"),
    );
    let response = exchange.response().expect("a response head");
    assert_eq!(response.status, 502);
    assert_eq!(response.header("x-fault"), Some("delay=0.8s, status=502"));
    assert!(exchange.first_byte.unwrap() >= Duration::from_millis(800));

    let exchange = raw_exchange(
        &server.addr,
        "GET",
        &format!("/faults/delay=300ms,reset/{SEGMENT}"),
    );
    assert!(exchange.bytes.is_empty());
    assert!(exchange.finished >= Duration::from_millis(300));
}

#[tokio::test]
async fn malformed_specs_are_refused_naming_the_option() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &[]);
    let cases = [
        ("status=99", "`status`"),
        ("status=99999999999999999999", "`status`"),
        ("p=2,status=500", "`p`"),
        ("p=0.5", "no fault"),
        ("stall=xs", "`stall`"),
        ("stall=1e400s", "`stall`"),
        ("delay=100000000000000000000000s", "`delay`"),
        ("unknown=1", "`unknown`"),
        ("seed=99999999999999999999999,reset", "`seed`"),
        ("at=0.5,status=500", "`at`"),
        ("reset,truncate=0.5", "`reset`"),
        ("status=500,,p=1", "empty option"),
        ("", "empty"),
        ("%FF%FE", "UTF-8"),
        ("status%3D500%00", "`status`"),
        ("%00", "`\\0`"),
    ];
    for (spec, needle) in cases {
        let response = raw_get(&server.addr, &format!("/faults/{spec}/{SEGMENT}"));
        let body = String::from_utf8_lossy(&response.body);
        assert_eq!(response.status, 400, "{spec}: {body}");
        assert!(body.contains(needle), "{spec}: {body}");
    }
    let long = format!("/faults/{}/{SEGMENT}", "status=500,".repeat(200));
    assert_eq!(raw_get(&server.addr, &long).status, 400);
    assert_eq!(raw_get(&server.addr, "/faults/status=500").status, 404);
}

#[tokio::test]
async fn playlists_keep_the_prefix() {
    let tree = MediaTree::new();
    std::fs::write(
        tree.root().join("ladder/v0/rooted.m3u8"),
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
         #EXT-X-MAP:URI=\"/media/ladder/v0/init.mp4\"\n\
         #EXTINF:2.000,\n/media/ladder/v0/seg_000.m4s\n#EXTINF:2.000,\nseg_001.m4s\n\
         #EXT-X-ENDLIST\n",
    )
    .unwrap();
    let server = Server::start(&tree.root(), &[]);
    let client = client();
    let spec = "status=500,match=seg_001";
    let playlist_url = server.url(&format!("/faults/{spec}/ladder/v0/rooted.m3u8"));
    let text = client
        .get(&playlist_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!("URI=\"/faults/{spec}/ladder/v0/init.mp4\"")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\n/faults/{spec}/ladder/v0/seg_000.m4s\n")),
        "{text}"
    );
    let base = player_wasm::url::Url::parse(&playlist_url).unwrap();
    let expected = [
        (200, "init.mp4"),
        (200, "seg_000.m4s"),
        (500, "seg_001.m4s"),
    ];
    let playlist = player_wasm::hls::parse_playlist(&text, &base).unwrap();
    let media = playlist.as_media().unwrap();
    let mut uris = vec![media.segments[0].init.as_ref().unwrap().uri.clone()];
    uris.extend(media.segments.iter().map(|s| s.uri.clone()));
    for ((status, name), uri) in expected.into_iter().zip(uris) {
        assert!(uri.path().starts_with(&format!("/faults/{spec}/")), "{uri}");
        assert!(uri.path().ends_with(name), "{uri}");
        assert_eq!(
            client.get(uri.as_str()).send().await.unwrap().status(),
            status,
            "{uri}"
        );
    }
}
