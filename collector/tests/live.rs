//! `/live/{path}` against a real `collector serve`: the VOD of the test tree (three 2 s
//! segments, so one loop is 6 s) as a sliding window of 4, at fixed times (`?at=`) for
//! exact numbers and on the real clock for a window that moves.

mod support;

use std::time::{Duration, SystemTime};

use player_wasm::hls::{MediaPlaylist, Playlist, merge_reload, parse_playlist};
use player_wasm::url::Url;
use support::{MediaTree, Server, raw_get, segment_bytes};

const PLAYLIST: &str = "/live/ladder/v0/index.m3u8";

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

async fn fetch_media(server: &Server, target: &str) -> (String, MediaPlaylist) {
    let url = server.url(target);
    let text = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let playlist =
        parse_playlist(&text, &Url::parse(&url).unwrap()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    match playlist {
        Playlist::Media(media) => (text, media),
        Playlist::Master(_) => panic!("a media playlist"),
    }
}

/// Start of global segment k of the test VOD, ms since the epoch.
fn start_ms(k: u64) -> f64 {
    ((k / 3) * 6000 + (k % 3) * 2000) as f64
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64
}

#[tokio::test]
async fn window_at_a_fixed_time() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &["--live-window", "4"]);
    // t = 100 s: 50 segments have ended; the window is 46..50; loop starts 3, 6, …, 45
    // have slid out.
    let (text, media) = fetch_media(&server, &format!("{PLAYLIST}?at=100")).await;
    assert_eq!(
        text,
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
         #EXT-X-MEDIA-SEQUENCE:46\n#EXT-X-DISCONTINUITY-SEQUENCE:15\n\
         #EXT-X-MAP:URI=\"init.mp4\"\n\
         #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:32.000Z\n#EXTINF:2.000,\nseg_001.m4s\n\
         #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:34.000Z\n#EXTINF:2.000,\nseg_002.m4s\n\
         #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"\n\
         #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:36.000Z\n#EXTINF:2.000,\nseg_000.m4s\n\
         #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:38.000Z\n#EXTINF:2.000,\nseg_001.m4s\n"
    );
    assert!(media.is_live());
    assert_eq!(media.playlist_type, None);
    assert_eq!(media.media_sequence, 46);
    assert_eq!(media.discontinuity_sequence, 15);
    assert_eq!(media.segments.len(), 4);
    for segment in &media.segments {
        assert_eq!(
            segment.program_date_time_ms,
            Some(start_ms(segment.sequence))
        );
    }
    assert_eq!(
        media
            .segments
            .iter()
            .map(|s| s.discontinuity_sequence)
            .collect::<Vec<_>>(),
        vec![15, 15, 16, 16]
    );

    // Across several loops: the media sequence never goes back, and a segment keeps its
    // discontinuity sequence number and its program date time from one window to the next.
    let mut previous = media;
    for at in (101..=130).step_by(3) {
        let (_, media) = fetch_media(&server, &format!("{PLAYLIST}?at={at}")).await;
        assert!(media.media_sequence >= previous.media_sequence);
        assert_eq!(media.segments.len(), 4);
        for segment in &media.segments {
            assert_eq!(
                segment.program_date_time_ms,
                Some(start_ms(segment.sequence))
            );
            if let Some(same) = previous.segment_by_sequence(segment.sequence) {
                assert_eq!(same.discontinuity_sequence, segment.discontinuity_sequence);
                assert_eq!(same.uri, segment.uri);
            }
        }
        previous = media;
    }
    assert_eq!(previous.media_sequence, 60); // at 128 s: 64 segments have ended
}

#[tokio::test]
async fn the_window_moves_with_the_clock() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &["--live-window", "4"]);
    let before = now_ms();
    let (text, first) = fetch_media(&server, PLAYLIST).await;
    let after = now_ms();
    assert!(
        !text.contains("ENDLIST") && !text.contains("PLAYLIST-TYPE"),
        "{text}"
    );
    assert_eq!(first.segments.len(), 4);
    // The last segment has ended, the one after it has not.
    let last = first.segments.last().unwrap();
    let last_end = last.program_date_time_ms.unwrap() + 2000.0;
    assert!(last_end <= after, "{last_end} > {after}");
    assert!(
        last_end + 2000.0 > before,
        "{last_end} is stale at {before}"
    );
    for segment in &first.segments {
        assert_eq!(
            segment.program_date_time_ms,
            Some(start_ms(segment.sequence))
        );
    }

    // Wait until the next segment has ended: the window moves on.
    let wait = (last_end + 2000.0 - now_ms()).max(0.0) as u64 + 250;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let (_, second) = fetch_media(&server, PLAYLIST).await;
    assert!(second.media_sequence > first.media_sequence);
    let reload = merge_reload(&first, second).expect("a reload players accept");
    assert!(reload.new_segments >= 1 && reload.aligned && !reload.stale);
}

#[tokio::test]
async fn caching_headers_follow_the_window() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &["--live-window", "4"]);
    let client = client();
    let at_100 = client
        .get(server.url(&format!("{PLAYLIST}?at=100")))
        .send()
        .await
        .unwrap();
    let headers = at_100.headers().clone();
    assert_eq!(headers["cache-control"], "public, max-age=1");
    assert_eq!(headers["last-modified"], "Thu, 01 Jan 1970 00:01:40 GMT");
    assert_eq!(headers["content-type"], "application/vnd.apple.mpegurl");
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    // Same window (no segment ended since 100 s): same validator, 304.
    let revalidated = client
        .get(server.url(&format!("{PLAYLIST}?at=101.5")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    // The window moved: a new validator and a full response.
    let moved = client
        .get(server.url(&format!("{PLAYLIST}?at=102")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    assert_ne!(moved.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(
        moved.headers()["last-modified"],
        "Thu, 01 Jan 1970 00:01:42 GMT"
    );
    let head = client
        .head(server.url(&format!("{PLAYLIST}?at=100")))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn masters_pass_through_and_segments_are_served() {
    let tree = MediaTree::new();
    let server = Server::start(&tree.root(), &["--live-window", "4"]);
    let client = client();
    let live_master = raw_get(&server.addr, "/live/ladder/master.m3u8");
    let vod_master = raw_get(&server.addr, "/media/ladder/master.m3u8");
    assert_eq!(live_master.status, 200);
    assert_eq!(live_master.body, vod_master.body);
    let master_url = Url::parse(&server.url("/live/ladder/master.m3u8")).unwrap();
    let master = parse_playlist(&String::from_utf8_lossy(&live_master.body), &master_url).unwrap();
    let variant = &master.as_master().unwrap().variants[0].uri;
    assert_eq!(variant.path(), PLAYLIST);

    let (_, media) = fetch_media(
        &server,
        variant.as_str().strip_prefix(&server.base).unwrap(),
    )
    .await;
    let init = media.segments[0].init.as_ref().unwrap();
    assert_eq!(init.uri.path(), "/live/ladder/v0/init.mp4");
    let init_bytes = client.get(init.uri.as_str()).send().await.unwrap();
    assert_eq!(
        init_bytes.bytes().await.unwrap().to_vec(),
        segment_bytes(9, 700)
    );
    for segment in &media.segments {
        let response = client.get(segment.uri.as_str()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let name = segment.uri.path().trim_end_matches(".m4s");
        let index: u64 = name.rsplit('_').next().unwrap().parse().unwrap();
        assert_eq!(
            response.bytes().await.unwrap().to_vec(),
            segment_bytes(index, 200_000)
        );
    }
}

#[tokio::test]
async fn bad_requests_and_unloopable_playlists() {
    let tree = MediaTree::new();
    let root = tree.root();
    std::fs::write(
        root.join("ladder/v0/broken.m3u8"),
        "#EXTM3U\n#EXTINF:2,\na.m4s\n",
    )
    .unwrap();
    std::fs::write(
        root.join("ladder/v0/instant.m3u8"),
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0,\na.m4s\n",
    )
    .unwrap();
    std::fs::write(root.join("ladder/v0/binary.m3u8"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::write(
        root.join("ladder/v0/rooted.m3u8"),
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"/media/ladder/v0/init.mp4\"\n\
         #EXTINF:4,\n/media/ladder/v0/seg_000.m4s\n#EXT-X-ENDLIST\n",
    )
    .unwrap();
    let server = Server::start(&root, &[]);
    for bad in [
        "at=",
        "at=-5",
        "at=1e9",
        "at=99999999999999999999",
        "at=%FF",
        "at=1.2.3",
    ] {
        let response = raw_get(&server.addr, &format!("{PLAYLIST}?{bad}"));
        let body = String::from_utf8_lossy(&response.body);
        assert_eq!(response.status, 400, "{bad}: {body}");
        assert!(body.contains("`at`"), "{bad}: {body}");
    }
    // Other query arguments (CMCD) are ignored.
    assert_eq!(
        raw_get(&server.addr, &format!("{PLAYLIST}?CMCD=br%3D800")).status,
        200
    );
    for unloopable in ["broken", "instant", "binary"] {
        let response = raw_get(&server.addr, &format!("/live/ladder/v0/{unloopable}.m3u8"));
        let body = String::from_utf8_lossy(&response.body);
        assert_eq!(response.status, 422, "{unloopable}: {body}");
        assert!(body.contains("cannot be served live"), "{body}");
    }
    assert_eq!(
        raw_get(&server.addr, "/live/ladder/v0/missing.m3u8").status,
        404
    );
    assert_eq!(
        raw_get(&server.addr, "/live/ladder/../secret.txt").status,
        403
    );

    let rooted = raw_get(&server.addr, "/live/ladder/v0/rooted.m3u8?at=1000");
    let text = String::from_utf8_lossy(&rooted.body);
    assert!(text.contains("URI=\"/live/ladder/v0/init.mp4\""), "{text}");
    assert!(text.contains("\n/live/ladder/v0/seg_000.m4s\n"), "{text}");
    assert_eq!(rooted.header("cache-control"), Some("public, max-age=2"));
    // The default window is 6 segments.
    assert_eq!(text.matches("#EXTINF").count(), 6);
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 6);
}

/// Renditions of one ladder whose durations differ by an audio frame still loop at the
/// same instants: at any time, equal program date-times play equal VOD positions.
#[tokio::test]
async fn renditions_of_a_ladder_loop_together() {
    let tree = MediaTree::new();
    let audio_dir = tree.root().join("ladder/audio");
    std::fs::create_dir_all(&audio_dir).unwrap();
    let mut audio = String::from(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n\
         #EXT-X-MAP:URI=\"init.mp4\"\n",
    );
    for (i, duration) in ["2.005", "2.005", "2.011"].iter().enumerate() {
        audio.push_str(&format!("#EXTINF:{duration},\nseg_{i:03}.m4s\n"));
    }
    audio.push_str("#EXT-X-ENDLIST\n");
    std::fs::write(audio_dir.join("index.m3u8"), audio).unwrap();
    std::fs::write(
        tree.root().join("ladder/master.m3u8"),
        "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"main\",URI=\"audio/index.m3u8\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO=\"a\"\nv0/index.m3u8\n",
    )
    .unwrap();
    let server = Server::start(&tree.root(), &["--live-window", "3"]);
    // Far from the epoch, where a per-rendition period (6.000 s against 6.021 s) would
    // have drifted the two apart by many loops.
    for at in ["1800000000", "1800000004.5", "1999999999"] {
        let (_, video) = fetch_media(&server, &format!("{PLAYLIST}?at={at}")).await;
        let (_, audio) =
            fetch_media(&server, &format!("/live/ladder/audio/index.m3u8?at={at}")).await;
        assert_eq!(video.media_sequence, audio.media_sequence, "at {at}");
        assert_eq!(
            video.discontinuity_sequence, audio.discontinuity_sequence,
            "at {at}"
        );
        for (v, a) in video.segments.iter().zip(&audio.segments) {
            // Equal up to the audio segments' own few milliseconds of drift in a loop.
            let gap = (v.program_date_time_ms.unwrap() - a.program_date_time_ms.unwrap()).abs();
            assert!(gap <= 25.0, "at {at}: {gap} ms apart");
            assert_eq!(
                v.uri.path().rsplit('/').next(),
                a.uri.path().rsplit('/').next()
            );
        }
    }
}
