//! The query API (`/api/v1/…`) over real HTTP against a real `collector serve`: beacons
//! for views with known figures go in through `/v1/beacons`, and every endpoint must give
//! back what `player_wasm::qoe` computes from the same events (overview and previous
//! period, time series, breakdowns with impact, the views list, one view's timeline),
//! as JSON and CSV; the 401, 400 and 404 paths; every path of the OpenAPI document; and
//! on PostgreSQL the very same answers as on SQLite.

mod support;

use std::collections::BTreeMap;

use player_wasm::qoe::{AggregateMetrics, ViewMetrics, aggregate, view_metrics};
use protocol::{Batch, Event, EventKind, SwitchReason, View};
use reqwest::header;
use serde_json::{Value as Json, json};
use support::Server;
use support::postgres::PgServer;

/// 2025-11-24T16:00:00Z, a whole minute.
const T0: f64 = 1_764_000_000_000.0;
const MINUTE: f64 = 60_000.0;

const PROPERTIES: &str = r#"
[[property]]
key = "demo"
name = "Demo"
origins = ["*"]
read_token = "demo"

[[property]]
key = "site"
name = "Another site"
origins = ["*"]
read_token = "secret"
"#;

/// One test view: its dimensions and its events.
#[derive(Clone)]
struct TestView {
    id: &'static str,
    video: &'static str,
    title: &'static str,
    player: &'static str,
    browser: &'static str,
    os: &'static str,
    custom: &'static [(&'static str, &'static str)],
    events: Vec<Event>,
}

fn at(start: f64, ms: f64, kind: EventKind) -> Event {
    Event {
        t: start + ms,
        pt: None,
        kind,
    }
}

fn level(from: Option<u32>, to: u32, bitrate: u64, height: u32) -> EventKind {
    EventKind::Levelswitch {
        from,
        to,
        bitrate,
        height: Some(height),
        reason: SwitchReason::Startup,
    }
}

/// The views of the period [T0, T0 + 1 h), and one in the hour before.
fn views() -> Vec<TestView> {
    use EventKind::*;
    let a = T0;
    let b = T0 + MINUTE;
    let c = T0 + 2.0 * MINUTE;
    let d = T0 + 30.0 * MINUTE;
    let e = T0 - 30.0 * MINUTE;
    vec![
        // Startup 500 ms, a 2 s stall on 360p, then 40 s at 720p.
        TestView {
            id: "view-a",
            video: "movie",
            title: "Movie",
            player: "wasm-hls-player",
            browser: "Chromium 156",
            os: "Linux",
            custom: &[("plan", "free")],
            events: vec![
                at(a, 0.0, Viewstart),
                at(a, 100.0, Playrequest),
                at(a, 200.0, level(None, 1, 1_000_000, 360)),
                at(a, 600.0, Firstframe),
                at(a, 10_600.0, Rebufferstart),
                at(a, 12_600.0, Rebufferend),
                at(a, 20_600.0, level(Some(1), 2, 2_500_000, 720)),
                at(
                    a,
                    30_600.0,
                    Seek {
                        from: 30.0,
                        to: 50.0,
                        latency_ms: 300.0,
                    },
                ),
                at(
                    a,
                    40_600.0,
                    Error {
                        code: "decode".into(),
                        message: "one bad frame".into(),
                        fatal: false,
                    },
                ),
                at(a, 60_600.0, Viewend),
            ],
        },
        // Another player: startup 1.5 s, 30 s clean at 240p.
        TestView {
            id: "view-b",
            video: "movie",
            title: "Movie",
            player: "hls.js",
            browser: "Firefox 140",
            os: "Windows",
            custom: &[("plan", "pro")],
            events: vec![
                at(b, 0.0, Viewstart),
                at(b, 0.0, Playrequest),
                at(b, 0.0, level(None, 0, 800_000, 240)),
                at(b, 1_500.0, Firstframe),
                at(b, 31_500.0, Viewend),
            ],
        },
        // A start failure.
        TestView {
            id: "view-c",
            video: "trailer",
            title: "Trailer",
            player: "wasm-hls-player",
            browser: "Chromium 156",
            os: "Linux",
            custom: &[],
            events: vec![
                at(c, 0.0, Playrequest),
                at(
                    c,
                    3_000.0,
                    Error {
                        code: "network".into(),
                        message: "HTTP 500".into(),
                        fatal: true,
                    },
                ),
                at(c, 3_500.0, Viewend),
            ],
        },
        // An exit before video start, half an hour later.
        TestView {
            id: "view-d",
            video: "trailer",
            title: "Trailer",
            player: "wasm-hls-player",
            browser: "Chromium 156",
            os: "Linux",
            custom: &[("plan", "free")],
            events: vec![at(d, 0.0, Playrequest), at(d, 2_000.0, Viewend)],
        },
        // The previous period: one quick clean view.
        TestView {
            id: "view-e",
            video: "movie",
            title: "Movie",
            player: "wasm-hls-player",
            browser: "Chromium 156",
            os: "Linux",
            custom: &[],
            events: vec![
                at(e, 0.0, Playrequest),
                at(e, 250.0, Firstframe),
                at(e, 10_250.0, Viewend),
            ],
        },
    ]
}

fn batch(key: &str, view: &TestView) -> String {
    let batch = Batch {
        v: protocol::PROTOCOL_VERSION,
        key: key.to_string(),
        batch: format!("b-{}", view.id),
        seq: 0,
        dropped: 0,
        view: View {
            id: view.id.to_string(),
            session: format!("s-{}", view.id),
            player: view.player.to_string(),
            player_version: "1.0.0".to_string(),
            video_id: Some(view.video.to_string()),
            video_title: Some(view.title.to_string()),
            browser: Some(view.browser.to_string()),
            os: Some(view.os.to_string()),
            page: Some("https://www.example.com/watch".to_string()),
            custom: view
                .custom
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            sample_rate: 1.0,
        },
        events: view.events.clone(),
    };
    serde_json::to_string(&batch).unwrap()
}

async fn post_views(client: &reqwest::Client, base: &str, key: &str, views: &[TestView]) {
    for view in views {
        let response = client
            .post(format!("{base}/v1/beacons"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(batch(key, view))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
}

/// A collector with the two properties, on `db` (a fresh SQLite file when `None`).
struct Setup {
    _dir: tempfile::TempDir,
    server: Server,
    client: reqwest::Client,
}

impl Setup {
    fn start(db: Option<&str>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("media")).unwrap();
        let properties = dir.path().join("properties.toml");
        std::fs::write(&properties, PROPERTIES).unwrap();
        let sqlite = format!("sqlite://{}", dir.path().join("api.db").display());
        let db = db.map_or(sqlite, str::to_string);
        let properties = properties.display().to_string();
        let server = Server::start(
            &dir.path().join("media"),
            &[
                "--db",
                &db,
                "--properties",
                &properties,
                "--rate-limit",
                "0",
            ],
        );
        Setup {
            _dir: dir,
            server,
            client: reqwest::Client::new(),
        }
    }

    async fn load(&self) {
        post_views(&self.client, &self.server.base, "demo", &views()).await;
        // The other property's view must never show in demo's answers.
        let mut other = views()[0].clone();
        other.id = "other-site-view";
        other.video = "movie";
        post_views(&self.client, &self.server.base, "site", &[other]).await;
    }

    /// GET with the demo token; (status, headers, body text).
    async fn get_raw(&self, path_and_query: &str) -> (u16, header::HeaderMap, String) {
        let response = self
            .client
            .get(self.server.url(path_and_query))
            .header(header::AUTHORIZATION, "Bearer demo")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    async fn get(&self, path_and_query: &str) -> Json {
        let (status, _, text) = self.get_raw(path_and_query).await;
        assert_eq!(status, 200, "{path_and_query}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// The period of the test views.
const PERIOD: &str = "from=1764000000000&to=2025-11-24T17:00:00Z";

fn metrics_of(views: &[&TestView]) -> AggregateMetrics {
    let metrics: Vec<ViewMetrics> = views.iter().map(|v| view_metrics(&v.events)).collect();
    aggregate(&metrics)
}

fn close(json: &Json, name: &str, want: Option<f64>) {
    let got = json[name].as_f64();
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-3, "{name}: {g} against {w} in {json}"),
        (None, None) => {}
        _ => panic!("{name}: {got:?} against {want:?} in {json}"),
    }
}

/// `a` and `b` are the same JSON, numbers equal to 1e-12 relative (serde_json's parser
/// may land one unit in the last place away from the printed shortest form).
fn same_json(a: &Json, b: &Json, at: &str) {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{at}: {x} against {y}"
            );
        }
        (Json::Object(x), Json::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, v) in x {
                same_json(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Json::Array(x), Json::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                same_json(v, w, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// The KPIs of an API answer against `player_wasm::qoe::aggregate` of the same views.
fn check_kpis(json: &Json, views: &[&TestView]) {
    let m = metrics_of(views);
    let some_if = |v: f64| (m.attempts > 0.0).then_some(v);
    close(json, "views", Some(m.views));
    close(json, "attempts", Some(m.attempts));
    close(json, "startup_p50_ms", m.startup_time_p50_ms);
    close(json, "startup_p95_ms", m.startup_time_p95_ms);
    close(json, "ebvs_pct", some_if(m.exits_before_start_percentage));
    close(json, "vsf_pct", some_if(m.video_start_failure_percentage));
    close(
        json,
        "playback_failure_pct",
        some_if(m.playback_failure_percentage),
    );
    close(
        json,
        "rebuffer_pct",
        (m.watch_time_s > 0.0).then_some(m.rebuffer_percentage),
    );
    close(
        json,
        "rebuffer_per_min",
        (m.watch_time_s > 0.0).then_some(m.rebuffer_frequency),
    );
    close(json, "watch_time_s", Some(m.watch_time_s));
    close(json, "playing_time_s", Some(m.playing_time_s));
    close(json, "avg_bitrate_bps", m.average_bitrate_bps);
    close(
        json,
        "switches_per_min",
        (m.playing_time_s > 0.0).then_some(m.switches_per_minute),
    );
    close(json, "score", m.score);
}

/// Every check of the API's figures against one loaded collector.
async fn check_figures(setup: &Setup) {
    let all = views();
    let current: Vec<&TestView> = all[..4].iter().collect();
    let by_id =
        |ids: &[&str]| -> Vec<&TestView> { all.iter().filter(|v| ids.contains(&v.id)).collect() };

    // Overview: this hour against the hour before.
    let overview = setup.get(&format!("/api/v1/overview?{PERIOD}")).await;
    assert_eq!(overview["property"], "demo");
    assert_eq!(overview["percentiles"], "exact");
    assert_eq!(overview["period"]["from_iso"], "2025-11-24T16:00:00Z");
    assert_eq!(
        overview["previous_period"]["from_iso"],
        "2025-11-24T15:00:00Z"
    );
    check_kpis(&overview["current"], &current);
    check_kpis(&overview["previous"], &by_id(&["view-e"]));
    // Known by hand: startups 500 and 1500 ms; one exit, one start failure in four.
    assert_eq!(overview["current"]["views"], 4);
    assert_eq!(overview["current"]["startup_p50_ms"], 500);
    assert_eq!(overview["current"]["startup_p95_ms"], 1500);
    assert_eq!(overview["current"]["ebvs_pct"], 25);
    assert_eq!(overview["current"]["vsf_pct"], 25);
    assert_eq!(overview["current"]["playback_failure_pct"], 0);
    assert_eq!(overview["current"]["rebuffer_count"], 1);
    assert_eq!(overview["current"]["rebuffer_s"], 2);
    assert_eq!(overview["current"]["errors"], 2);
    assert_eq!(overview["current"]["seek_latency_ms"], 300);
    assert_eq!(overview["previous"]["views"], 1);
    assert_eq!(overview["change_pct"]["views"], 300);
    assert_eq!(overview["change_pct"]["startup_p50_ms"], 100);

    // Filters.
    let filtered = setup
        .get(&format!("/api/v1/overview?{PERIOD}&video=trailer"))
        .await;
    check_kpis(&filtered["current"], &by_id(&["view-c", "view-d"]));
    assert_eq!(filtered["filters"], json!({"video": "trailer"}));
    let filtered = setup
        .get(&format!(
            "/api/v1/overview?{PERIOD}&player=wasm-hls-player&browser=Chromium%20156&os=Linux"
        ))
        .await;
    check_kpis(
        &filtered["current"],
        &by_id(&["view-a", "view-c", "view-d"]),
    );

    // Time series by minute: the four views in their minutes, empty minutes present.
    let series = setup
        .get(&format!("/api/v1/timeseries?{PERIOD}&interval=minute"))
        .await;
    assert_eq!(series["interval"], "minute");
    let t = series["t"].as_array().unwrap();
    assert_eq!(t.len(), 60);
    assert_eq!(t[0], json!(T0 as i64));
    let views_per_minute: Vec<i64> = series["series"]["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let mut expected = vec![0; 60];
    expected[0] = 1;
    expected[1] = 1;
    expected[2] = 1;
    expected[30] = 1;
    assert_eq!(views_per_minute, expected);
    let rebuffer = &series["series"]["rebuffer_pct"];
    close(
        &json!({"x": rebuffer[0]}),
        "x",
        Some(view_metrics(&all[0].events).rebuffer_percentage),
    );
    assert_eq!(
        rebuffer[5],
        Json::Null,
        "a minute without views has no ratio"
    );
    assert_eq!(series["series"]["startup_p50_ms"][1], 1500);
    // By hour, two metrics only: one bucket with everything.
    let hourly = setup
        .get(&format!(
            "/api/v1/timeseries?{PERIOD}&interval=hour&metric=views,score"
        ))
        .await;
    assert_eq!(hourly["t"], json!([T0 as i64]));
    assert_eq!(hourly["metrics"], json!(["views", "score"]));
    assert_eq!(
        hourly["series"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["score", "views"]
    );
    close(
        &json!({"score": hourly["series"]["score"][0]}),
        "score",
        metrics_of(&current).score,
    );
    // By day (buckets aligned to UTC days): the whole day, one point.
    let daily = setup
        .get(&format!(
            "/api/v1/timeseries?{PERIOD}&interval=day&metric=views"
        ))
        .await;
    assert_eq!(daily["series"]["views"], json!([4]));
    assert_eq!(daily["t"], json!([1_763_942_400_000i64]));

    // Breakdown by video, sorted by impact (lost score points) by default.
    let by_video = setup
        .get(&format!("/api/v1/breakdown?{PERIOD}&by=video"))
        .await;
    assert_eq!(by_video["by"], "video");
    assert_eq!(by_video["impact"], "score");
    assert_eq!(by_video["total_rows"], 2);
    check_kpis(&by_video["totals"], &current);
    let rows = by_video["rows"].as_array().unwrap();
    let movie = rows.iter().find(|r| r["value"] == "movie").unwrap();
    let trailer = rows.iter().find(|r| r["value"] == "trailer").unwrap();
    check_kpis(movie, &by_id(&["view-a", "view-b"]));
    check_kpis(trailer, &by_id(&["view-c", "view-d"]));
    assert_eq!(movie["label"], "Movie");
    assert_eq!(movie["rebuffer_share_pct"], 100);
    assert_eq!(movie["failure_share_pct"], 0);
    assert_eq!(trailer["failure_share_pct"], 100);
    let shares: f64 = rows
        .iter()
        .map(|r| r["score_loss_share_pct"].as_f64().unwrap())
        .sum();
    assert!((shares - 100.0).abs() < 0.01, "{shares}");
    // Trailer lost the most points (a failure scores 0, an exit 50): first by impact.
    assert_eq!(rows[0]["value"], "trailer");
    assert_eq!(rows[0]["impact_pct"], rows[0]["score_loss_share_pct"]);
    let sorted = setup
        .get(&format!(
            "/api/v1/breakdown?{PERIOD}&by=video&impact=rebuffer&limit=1"
        ))
        .await;
    assert_eq!(sorted["rows"].as_array().unwrap().len(), 1);
    assert_eq!(sorted["rows"][0]["value"], "movie");
    assert_eq!(sorted["rows"][0]["impact_pct"], 100);
    let by_value = setup
        .get(&format!("/api/v1/breakdown?{PERIOD}&by=video&sort=value"))
        .await;
    assert_eq!(by_value["rows"][0]["value"], "movie");

    for (by, value, ids) in [
        ("player", "hls.js", &["view-b"][..]),
        (
            "player",
            "wasm-hls-player",
            &["view-a", "view-c", "view-d"][..],
        ),
        ("browser", "Firefox 140", &["view-b"][..]),
        ("os", "Linux", &["view-a", "view-c", "view-d"][..]),
        ("custom.plan", "free", &["view-a", "view-d"][..]),
        ("custom.plan", "pro", &["view-b"][..]),
        ("custom.plan", "", &["view-c"][..]),
    ] {
        let answer = setup
            .get(&format!("/api/v1/breakdown?{PERIOD}&by={by}"))
            .await;
        let row = answer["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["value"] == value)
            .unwrap_or_else(|| panic!("no {by}={value} in {answer}"));
        check_kpis(row, &by_id(ids));
        check_kpis(&answer["totals"], &current);
    }

    // By rendition, from the raw events: time on each, the stall on 360p.
    let by_rendition = setup
        .get(&format!(
            "/api/v1/breakdown?{PERIOD}&by=rendition&sort=value"
        ))
        .await;
    assert_eq!(by_rendition["impact"], "rebuffer");
    let renditions: BTreeMap<String, &Json> = by_rendition["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["value"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(
        renditions.keys().collect::<Vec<_>>(),
        vec!["240p · 800 kbps", "360p · 1000 kbps", "720p · 2500 kbps"]
    );
    let low = renditions["360p · 1000 kbps"];
    assert_eq!(low["playing_time_s"], 18);
    assert_eq!(low["rebuffer_s"], 2);
    assert_eq!(low["rebuffer_count"], 1);
    assert_eq!(low["rebuffer_share_pct"], 100);
    assert_eq!(low["impact_pct"], 100);
    assert_eq!(low["startup_p50_ms"], 500);
    assert_eq!(low["avg_bitrate_bps"], 1_000_000);
    let high = renditions["720p · 2500 kbps"];
    // 40 s from the switch to the end, less the 300 ms seek.
    assert_eq!(high["playing_time_s"], 39.7);
    assert_eq!(high["rebuffer_share_pct"], 0);
    assert_eq!(renditions["240p · 800 kbps"]["playing_time_s"], 30);
    let playing: f64 = renditions
        .values()
        .map(|r| r["playing_time_s"].as_f64().unwrap())
        .sum();
    close(
        &json!({"p": playing}),
        "p",
        Some(metrics_of(&current).playing_time_s),
    );

    // The views list: newest first, paged, filtered by outcome.
    let list = setup.get(&format!("/api/v1/views?{PERIOD}")).await;
    assert_eq!(list["total"], 4);
    let ids: Vec<&str> = list["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["view_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["view-d", "view-c", "view-b", "view-a"]);
    let first = &list["views"][3];
    assert_eq!(first["outcome"], "started");
    assert_eq!(first["startup_ms"], 500);
    assert_eq!(first["rebuffer_count"], 1);
    assert_eq!(first["video_title"], "Movie");
    assert_eq!(first["start_iso"], "2025-11-24T16:00:00Z");
    close(
        first,
        "score",
        view_metrics(&all[0].events).score.map(|s| s.overall),
    );
    assert_eq!(list["views"][0]["outcome"], "exit_before_start");
    assert_eq!(list["views"][1]["outcome"], "start_failure");
    assert_eq!(list["views"][1]["startup_ms"], Json::Null);
    let page = setup
        .get(&format!("/api/v1/views?{PERIOD}&limit=2&offset=1"))
        .await;
    let ids: Vec<&str> = page["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["view_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["view-c", "view-b"]);
    let failed = setup
        .get(&format!("/api/v1/views?{PERIOD}&outcome=start_failure"))
        .await;
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["views"][0]["view_id"], "view-c");
    let slow = setup
        .get(&format!("/api/v1/views?{PERIOD}&sort=startup_ms"))
        .await;
    assert_eq!(slow["views"][0]["view_id"], "view-b");
    assert_eq!(slow["views"][1]["view_id"], "view-a");
    assert_eq!(slow["views"][2]["startup_ms"], Json::Null);

    // One view: its metrics are player_wasm's, its timeline the events in order.
    let one = setup.get("/api/v1/views/view-a").await;
    same_json(
        &one["metrics"],
        &serde_json::to_value(view_metrics(&all[0].events)).unwrap(),
        "metrics",
    );
    assert_eq!(one["view"]["custom"], json!({"plan": "free"}));
    assert_eq!(one["view"]["raw_events_kept"], true);
    let events = one["timeline"]["events"].as_array().unwrap();
    assert_eq!(events.len(), all[0].events.len());
    assert_eq!(events[0]["type"], "viewstart");
    assert_eq!(events[0]["offset_ms"], 0);
    assert_eq!(events[9]["type"], "viewend");
    assert_eq!(events[9]["offset_ms"], 60_600);
    let spans: Vec<(String, f64, f64)> = one["timeline"]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["state"].as_str().unwrap().to_string(),
                s["from"].as_f64().unwrap() - T0,
                s["to"].as_f64().unwrap() - T0,
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            ("starting".to_string(), 100.0, 600.0),
            ("playing".to_string(), 600.0, 10_600.0),
            ("rebuffering".to_string(), 10_600.0, 12_600.0),
            ("playing".to_string(), 12_600.0, 60_600.0),
        ]
    );
    let steps = one["timeline"]["bitrate"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1]["bitrate"], 2_500_000);
    assert_eq!(steps[1]["height"], 720);
}

/// CSV versions of the answers.
async fn check_csv(setup: &Setup) {
    let (status, headers, text) = setup
        .get_raw(&format!("/api/v1/overview?{PERIOD}&format=csv"))
        .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "metric,unit,current,previous,change_pct");
    assert_eq!(lines[1], "views,views,4,1,300");
    assert!(lines.contains(&"startup_p50_ms,ms,500,250,100"), "{text}");

    // Accept: text/csv works too.
    let response = setup
        .client
        .get(
            setup
                .server
                .url(&format!("/api/v1/breakdown?{PERIOD}&by=video&sort=value")),
        )
        .header(header::AUTHORIZATION, "Bearer demo")
        .header(header::ACCEPT, "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(
            "value,label,impact_pct,rebuffer_share_pct,failure_share_pct,score_loss_share_pct,playing_share_pct,views,"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("movie,Movie,"), "{}", lines[1]);

    let (_, _, text) = setup
        .get_raw(&format!(
            "/api/v1/timeseries?{PERIOD}&interval=hour&metric=views,startup_p50_ms&format=csv"
        ))
        .await;
    assert_eq!(
        text,
        "time,t_ms,views,startup_p50_ms\r\n2025-11-24T16:00:00Z,1764000000000,4,500\r\n"
    );
    let (_, _, text) = setup
        .get_raw(&format!("/api/v1/views?{PERIOD}&format=csv&limit=1"))
        .await;
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("view_id,session_id,video_id"),
        "{text}"
    );
    assert!(lines[1].starts_with("view-d,s-view-d,trailer"), "{text}");
    let (status, headers, text) = setup.get_raw("/api/v1/views/view-c?format=csv").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"view-view-c.csv\""
    );
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines[0], "time,t_ms,offset_ms,type,pt,details");
    assert_eq!(lines.len(), 4);
    assert!(lines[2].contains(",3000,error,,"), "{}", lines[2]);
    assert!(lines[2].contains("HTTP 500"), "{}", lines[2]);
}

/// 401, 400 and 404, each with a JSON body naming what was wrong.
async fn check_refusals(setup: &Setup) {
    let client = &setup.client;
    let url = |p: &str| setup.server.url(p);
    let reply = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let www = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_string());
        let json: Json = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        (status, json, www)
    };
    // No token; an unknown one (header or query).
    let (status, json, www) =
        reply(client.get(url("/api/v1/overview")).send().await.unwrap()).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (401, Some("unauthorized"))
    );
    assert!(json["message"].as_str().unwrap().contains("Bearer"));
    assert!(www.is_some());
    let (status, json, _) = reply(
        client
            .get(url("/api/v1/views"))
            .header(header::AUTHORIZATION, "Bearer nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _, _) = reply(
        client
            .get(url("/api/v1/breakdown?by=video&token=nope"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    // The token chooses the property: `secret` sees only its own view.
    let other: Json = client
        .get(url(&format!("/api/v1/overview?{PERIOD}&token=secret")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str::<Json>(&text).unwrap())
        .unwrap();
    assert_eq!(other["property"], "site");
    assert_eq!(other["current"]["views"], 1);
    let (status, _, _) = reply(
        client
            .get(url("/api/v1/views/other-site-view?token=demo"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "another property's view is not found");

    // 400 naming the parameter.
    for (path, parameter) in [
        ("/api/v1/overview?from=yesterday", "from"),
        ("/api/v1/overview?to=2025-02-30", "to"),
        ("/api/v1/overview?from=2025-11-25&to=2025-11-24", "from"),
        ("/api/v1/overview?vidoe=movie", "vidoe"),
        ("/api/v1/overview?video=a&video=b", "video"),
        ("/api/v1/overview?format=xml", "format"),
        ("/api/v1/timeseries?metric=views,nope", "metric"),
        ("/api/v1/timeseries?interval=week", "interval"),
        (
            "/api/v1/timeseries?interval=minute&from=2025-01-01&to=2025-03-01",
            "interval",
        ),
        ("/api/v1/breakdown", "by"),
        ("/api/v1/breakdown?by=country", "by"),
        ("/api/v1/breakdown?by=custom.", "by"),
        ("/api/v1/breakdown?by=video&sort=colour", "sort"),
        ("/api/v1/breakdown?by=video&order=up", "order"),
        ("/api/v1/breakdown?by=video&impact=joy", "impact"),
        ("/api/v1/breakdown?by=rendition&impact=score", "impact"),
        ("/api/v1/breakdown?by=video&limit=0", "limit"),
        ("/api/v1/views?limit=501", "limit"),
        ("/api/v1/views?offset=-1", "offset"),
        ("/api/v1/views?sort=title", "sort"),
        ("/api/v1/views?outcome=happy", "outcome"),
        ("/api/v1/views/view-a?from=-1h", "from"),
    ] {
        let (status, _, text) = setup.get_raw(path).await;
        let json: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(status, 400, "{path}: {text}");
        assert_eq!(json["error"], "bad_request", "{path}: {text}");
        assert_eq!(json["parameter"], parameter, "{path}: {text}");
        assert!(
            json["message"].as_str().unwrap().starts_with(parameter),
            "{path}: {text}"
        );
    }
    // 404s and 405.
    let (status, _, text) = setup.get_raw("/api/v1/views/no-such-view").await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("no-such-view"));
    let (status, _, text) = setup.get_raw("/api/v1/nothing").await;
    assert_eq!(status, 404, "{text}");
    let response = client
        .post(url("/api/v1/overview?token=demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

/// Every path the OpenAPI document lists answers (with a real view id).
async fn check_openapi(setup: &Setup) {
    let doc: Json = setup
        .client
        .get(setup.server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| serde_json::from_str::<Json>(&text).unwrap())
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 7);
    for (path, item) in paths {
        let mut query = String::from(PERIOD);
        // Required parameters get a valid value.
        for parameter in item["get"]["parameters"].as_array().into_iter().flatten() {
            if parameter["required"] == true && parameter["in"] == "query" {
                query.push_str(&format!("&{}=video", parameter["name"].as_str().unwrap()));
            }
        }
        let concrete = path.replace("{view_id}", "view-a");
        let query = if concrete.starts_with("/api/v1/views/")
            || concrete.ends_with("openapi.json")
            || concrete.ends_with("definitions")
        {
            String::new()
        } else {
            query
        };
        let (status, headers, text) = setup.get_raw(&format!("{concrete}?{query}")).await;
        assert_eq!(status, 200, "{path}: {text}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        // Each answer carries the required fields of its documented schema.
        let schema = &item["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        if let Some(reference) = schema["$ref"].as_str() {
            let pointer = reference.trim_start_matches('#');
            let body: Json = serde_json::from_str(&text).unwrap();
            for field in doc
                .pointer(pointer)
                .and_then(|s| s["required"].as_array())
                .into_iter()
                .flatten()
            {
                let field = field.as_str().unwrap();
                assert!(body.get(field).is_some(), "{path}: no {field} in {text}");
            }
        }
    }
    let definitions = setup.get("/api/v1/definitions").await;
    assert!(
        definitions["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "rebuffer_pct" && m["better"] == "lower")
    );
}

#[tokio::test]
async fn api_figures_csv_refusals_and_openapi_on_sqlite() {
    let setup = Setup::start(None);
    setup.load().await;
    check_figures(&setup).await;
    check_csv(&setup).await;
    check_refusals(&setup).await;
    check_openapi(&setup).await;

    // Without from/to: the last 24 hours, so a view of an hour ago counts and the test
    // views of 2025 do not.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let mut recent = views()[1].clone();
    recent.id = "view-recent";
    for event in &mut recent.events {
        event.t = event.t - T0 - MINUTE + now - 3_600_000.0;
    }
    post_views(&setup.client, &setup.server.base, "demo", &[recent]).await;
    let overview = setup.get("/api/v1/overview").await;
    assert_eq!(overview["current"]["views"], 1);
    assert_eq!(overview["current"]["startup_p50_ms"], 1500);
    let series = setup.get("/api/v1/timeseries?metric=views").await;
    assert_eq!(series["interval"], "hour");
    // 24 hours of whole minutes cover 25 UTC hours unless they start on the hour.
    let hours = series["t"].as_array().unwrap().len();
    assert!(hours == 24 || hours == 25, "{hours}");
    let total: i64 = series["series"]["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_gives_the_same_answers_on_postgres() {
    let pg = PgServer::start();
    let db = pg.database("api");
    let postgres = Setup::start(Some(&db));
    postgres.load().await;
    check_figures(&postgres).await;
    check_csv(&postgres).await;
    check_openapi(&postgres).await;

    // Answer for answer, the same JSON as SQLite's.
    let sqlite = Setup::start(None);
    sqlite.load().await;
    for path in [
        format!("/api/v1/overview?{PERIOD}"),
        format!("/api/v1/timeseries?{PERIOD}&interval=minute"),
        format!("/api/v1/breakdown?{PERIOD}&by=video"),
        format!("/api/v1/breakdown?{PERIOD}&by=os&sort=views"),
        format!("/api/v1/breakdown?{PERIOD}&by=custom.plan"),
        format!("/api/v1/breakdown?{PERIOD}&by=rendition"),
        format!("/api/v1/views?{PERIOD}&sort=score&order=asc"),
        format!("/api/v1/views?{PERIOD}&sort=rebuffer_pct"),
        "/api/v1/views/view-a".to_string(),
        "/api/v1/views/view-b?format=csv".to_string(),
    ] {
        let (a, _, a_text) = postgres.get_raw(&path).await;
        let (b, _, b_text) = sqlite.get_raw(&path).await;
        assert_eq!((a, b), (200, 200), "{path}: {a_text} / {b_text}");
        if path.contains("format=csv") {
            assert_eq!(a_text, b_text, "{path}: PostgreSQL and SQLite differ");
            continue;
        }
        // Alike but for when each collector received the beacons.
        let received = |text: &str| {
            let mut json: Json = serde_json::from_str(text).unwrap();
            if let Some(view) = json.get_mut("view").and_then(Json::as_object_mut) {
                view.remove("first_seen_ms");
                view.remove("last_seen_ms");
            }
            json
        };
        assert_eq!(
            received(&a_text),
            received(&b_text),
            "{path}: PostgreSQL and SQLite differ"
        );
    }
}
