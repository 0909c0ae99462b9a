//! `POST /v1/beacons` over real HTTP against a real `collector serve` on SQLite: every
//! reject path with its status and message, CORS for allowed and denied origins, retries
//! stored once, CMCD v2 event reports, `/metrics`, and nothing lost when the collector
//! is killed with SIGKILL under load.

mod support;

use collector::store::Value;
use reqwest::header::{self, HeaderMap};
use support::Server;
use support::beacons::{self, EVENTS_PER_BATCH, batch_json};

const PROPERTIES: &str = r#"
[[property]]
key = "demo"
name = "Demo"
origins = ["*"]

[[property]]
key = "site"
name = "A site"
origins = ["https://good.example"]
read_token = "secret"
"#;

/// A collector with the two properties above and its database in a temporary directory.
struct Setup {
    dir: tempfile::TempDir,
    server: Server,
}

impl Setup {
    fn start(extra: &[&str]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("media")).unwrap();
        std::fs::write(dir.path().join("properties.toml"), PROPERTIES).unwrap();
        let server = Self::serve(&dir, extra);
        Setup { dir, server }
    }

    fn serve(dir: &tempfile::TempDir, extra: &[&str]) -> Server {
        let db = format!("sqlite://{}", dir.path().join("beacons.db").display());
        let properties = dir.path().join("properties.toml").display().to_string();
        let mut args = vec!["--db", &db, "--properties", &properties];
        args.extend(extra);
        Server::start(&dir.path().join("media"), &args)
    }

    fn db(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("beacons.db").display())
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    json: serde_json::Value,
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("a response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Reply {
        status,
        headers,
        json,
    }
}

fn post(
    client: &reqwest::Client,
    url: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
}

/// Asserts a refusal: status, `error` code, and `field` when one is named.
fn refused(reply: &Reply, status: u16, error: &str, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["error"], error, "{}", reply.json);
    assert!(
        reply.json["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.json
    );
    match field {
        Some(field) => assert_eq!(reply.json["field"], field, "{}", reply.json),
        None => assert!(reply.json.get("field").is_none(), "{}", reply.json),
    }
}

#[tokio::test]
async fn every_reject_path_has_its_status_and_message() {
    let setup = Setup::start(&["--rate-limit", "0"]);
    let client = reqwest::Client::new();
    let beacons = setup.url("/v1/beacons");
    let good = batch_json("demo", "view-a", 0);

    // sendBeacon's text/plain is JSON too.
    let ok = send(
        client
            .post(&beacons)
            .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
            .body(good.clone()),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["stored"], EVENTS_PER_BATCH);
    assert_eq!(ok.json["duplicate"], false);

    // 401: an unknown key, in the body or in the URL.
    let reply = send(post(&client, &beacons, batch_json("nope", "v", 0))).await;
    refused(&reply, 401, "unauthorized", Some("key"));
    assert!(reply.json["message"].as_str().unwrap().contains("nope"));
    let reply = send(post(&client, &format!("{beacons}?key=nope"), good.clone())).await;
    refused(&reply, 401, "unauthorized", Some("key"));
    // A URL key that differs from the body's.
    let reply = send(post(&client, &format!("{beacons}?key=site"), good.clone())).await;
    refused(&reply, 400, "invalid", Some("key"));

    // 413: above 64 KiB, declared or streamed without a length.
    let huge = format!("{}{}", good, " ".repeat(64 * 1024));
    refused(
        &send(post(&client, &beacons, huge)).await,
        413,
        "too_large",
        Some("body"),
    );
    let chunks = (0..70).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024]));
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    refused(
        &send(post(&client, &beacons, streamed)).await,
        413,
        "too_large",
        Some("body"),
    );

    // 400 naming the field: not JSON, a wrong type, a broken rule.
    let cases = [
        ("{\"v\":1,".to_string(), "body"),
        (
            good.replacen(
                "\"bitrate\":2500000,\"reason\"",
                "\"bitrate\":\"fast\",\"reason\"",
                1,
            ),
            "events[2].bitrate",
        ),
        (
            good.replacen("\"type\":\"playrequest\"", "\"type\":\"teleport\"", 1),
            "events[1].type",
        ),
        (
            good.replacen("\"t\":1764000000000,", "\"t\":5,", 1),
            "events[0].t",
        ),
        (
            good.replacen("\"os\":\"Linux\"", "\"os\":\"Linux\",\"sample_rate\":0", 1),
            "view.sample_rate",
        ),
        (good.replacen("\"v\":1", "\"v\":9", 1), "v"),
        (
            good.replacen("\"session\":\"s-view-a\",", "", 1),
            "view.session",
        ),
    ];
    for (body, field) in cases {
        let reply = send(post(&client, &beacons, body)).await;
        refused(&reply, 400, "invalid", Some(field));
    }

    // 415 and 405.
    let reply = send(
        client
            .post(&beacons)
            .header(header::CONTENT_TYPE, "application/xml")
            .body(good.clone()),
    )
    .await;
    refused(&reply, 415, "unsupported_media_type", None);
    let reply = send(client.get(&beacons)).await;
    refused(&reply, 405, "method", None);
    assert_eq!(reply.headers[header::ALLOW], "POST, OPTIONS");
    let reply = send(client.put(&beacons).body(good.clone())).await;
    refused(&reply, 405, "method", None);

    // CORS: an origin the property allows gets the header; another is refused.
    let site = |view: &str| batch_json("site", view, 0);
    let reply =
        send(post(&client, &beacons, site("s1")).header(header::ORIGIN, "https://good.example"))
            .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://good.example"
    );
    let reply =
        send(post(&client, &beacons, site("s2")).header(header::ORIGIN, "https://evil.example"))
            .await;
    refused(&reply, 403, "origin", None);
    assert!(
        reply
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    let reply = send(
        post(&client, &beacons, batch_json("demo", "d2", 0))
            .header(header::ORIGIN, "https://any.example"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://any.example"
    );
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, format!("{beacons}?key=site"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
    };
    let reply = send(preflight("https://good.example")).await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://good.example"
    );
    assert!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "content-type"
    );
    let reply = send(preflight("https://evil.example")).await;
    refused(&reply, 403, "origin", None);
    assert!(
        reply
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    // 409: the view's sequence number already holds another batch.
    let other = good.replace("\"batch\":\"b-view-a-0\"", "\"batch\":\"another\"");
    refused(
        &send(post(&client, &beacons, other)).await,
        409,
        "conflict",
        Some("seq"),
    );

    // Every refusal is counted by reason and status.
    let metrics = client
        .get(setup.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "collector_beacon_rejects_total{reason=\"unauthorized\",status=\"401\"} 2",
        "collector_beacon_rejects_total{reason=\"too_large\",status=\"413\"} 2",
        "collector_beacon_rejects_total{reason=\"invalid\",status=\"400\"} 8",
        "collector_beacon_rejects_total{reason=\"origin\",status=\"403\"} 2",
        "collector_beacon_rejects_total{reason=\"conflict\",status=\"409\"} 1",
        "collector_beacon_rejects_total{reason=\"unsupported_media_type\",status=\"415\"} 1",
        "collector_beacon_batches_total{outcome=\"stored\"} 3",
        "collector_beacon_events_total 60",
        "collector_store_commit_seconds_count",
        "collector_store_queue_depth 0",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let setup = Setup::start(&["--rate-limit", "0.5", "--rate-burst", "2"]);
    let client = reqwest::Client::new();
    let beacons = setup.url("/v1/beacons");
    for seq in 0..2 {
        let reply = send(post(&client, &beacons, batch_json("demo", "v", seq))).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
    }
    let reply = send(post(&client, &beacons, batch_json("demo", "v", 2))).await;
    refused(&reply, 429, "rate_limited", None);
    let wait: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
}

#[tokio::test]
async fn a_retried_batch_is_acknowledged_but_stored_once() {
    let setup = Setup::start(&[]);
    let client = reqwest::Client::new();
    let beacons = setup.url("/v1/beacons");
    let body = batch_json("demo", "retried", 0);
    let mut duplicates = Vec::new();
    for _ in 0..3 {
        let reply = send(post(&client, &beacons, body.clone())).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        duplicates.push(reply.json["duplicate"].as_bool().unwrap());
    }
    assert_eq!(duplicates, [false, true, true]);
    // Retries racing each other are stored once too.
    let racing = futures_util::future::join_all(
        (0..8).map(|_| send(post(&client, &beacons, batch_json("demo", "retried", 1)))),
    )
    .await;
    let fresh = racing
        .iter()
        .filter(|r| r.json["duplicate"] == false)
        .count();
    assert!(racing.iter().all(|r| r.status == 200));
    assert_eq!(fresh, 1);

    let store = beacons::open(&setup.db()).await;
    let acked = [("retried".to_string(), 0), ("retried".to_string(), 1)].into();
    assert_eq!(beacons::check_exactly_once(&store, &acked).await, 2);
    let metrics = client
        .get(setup.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("collector_beacon_batches_total{outcome=\"duplicate\"} 9"),
        "{metrics}"
    );
}

#[tokio::test]
async fn cmcd_v2_event_reports_become_a_view() {
    let setup = Setup::start(&[]);
    let client = reqwest::Client::new();
    let body = "e=ps,sta=s,ts=1764000000000,sid=\"cmcd-session\",cid=\"movie\",v=2,sn=0\n\
                e=ps,sta=p,ts=1764000000750,sid=\"cmcd-session\",v=2,sn=1\n\
                e=t,ts=1764000010750,sid=\"cmcd-session\",br=(2500),bl=(9000),v=2,sn=2\n\
                e=ps,sta=r,ts=1764000011000,sid=\"cmcd-session\",v=2,sn=3\n\
                e=ps,sta=p,ts=1764000011400,sid=\"cmcd-session\",v=2,sn=4\n\
                e=m,ts=1764000011500,sid=\"cmcd-session\",v=2,sn=5\n";
    let request = |key: &str| {
        client
            .post(setup.url(&format!("/v1/beacons?key={key}")))
            .header(header::CONTENT_TYPE, "application/cmcd")
            .body(body)
    };
    let reply = send(request("demo")).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    // Each "playing" report stands for three events (see ingest::cmcd).
    assert_eq!(reply.json["stored"], 9, "{}", reply.json);
    let again = send(request("demo")).await;
    assert_eq!(
        (
            again.json["stored"].clone(),
            again.json["duplicates"].clone()
        ),
        (0.into(), 5.into())
    );
    refused(
        &send(request("nope")).await,
        401,
        "unauthorized",
        Some("key"),
    );
    let bad = send(
        client
            .post(setup.url("/v1/beacons?key=demo"))
            .header(header::CONTENT_TYPE, "application/cmcd")
            .body("e=ps,sta=p,ts=1764000000000,sid=\"a\"\ne=ps,sta=,sid=\"a\"\n"),
    )
    .await;
    refused(&bad, 400, "invalid", Some("line 2"));

    let store = beacons::open(&setup.db()).await;
    let view = store
        .query(
            "SELECT player, video_id, startup_ms, rebuffer_count, rebuffer_ms, events \
             FROM views WHERE view_id = $1",
            &[Value::from("cmcd-session")],
        )
        .await
        .unwrap();
    assert_eq!(
        view.rows,
        vec![vec![
            Value::from("cmcd"),
            Value::from("movie"),
            Value::Int(750),
            Value::Int(1),
            Value::Int(400),
            Value::Int(9),
        ]]
    );
}

/// Posts under load from several clients, kills the collector with SIGKILL mid-way,
/// restarts it on the same database and checks every acknowledged event is there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_acknowledged_is_lost_when_sqlite_collector_is_killed() {
    let Setup { dir, server } = Setup::start(&["--rate-limit", "0"]);
    let db = format!("sqlite://{}", dir.path().join("beacons.db").display());
    beacons::nothing_lost(server, &db, || Setup::serve(&dir, &["--rate-limit", "0"])).await;
}
