//! `collector encode`: the real binary with the real ffmpeg makes a CMAF HLS ladder that
//! passes its own quality control and independent checks (ffprobe on every segment,
//! clean decodes of init + segments, CODECS matching what ffprobe reports, BANDWIDTH at
//! least the densest segment); failures exit non-zero with a clear message and leave no
//! output directory behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use m3u8_rs::{MasterPlaylist, MediaPlaylist, Playlist};
use serde_json::Value;

fn collector(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run collector")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "collector failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

fn assert_fails_with(out: &Output, needle: &str) {
    assert!(!out.status.success(), "expected a failure, got success");
    let err = stderr(out);
    assert!(err.contains(needle), "stderr lacks `{needle}`:\n{err}");
}

/// Nothing named `name` or `name.partial-*` in `parent`.
fn assert_no_output(parent: &Path, name: &str) {
    let leftovers: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n == name || n.starts_with(&format!("{name}.")))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

fn master(dir: &Path) -> MasterPlaylist {
    match m3u8_rs::parse_playlist_res(&std::fs::read(dir.join("master.m3u8")).unwrap()) {
        Ok(Playlist::MasterPlaylist(m)) => m,
        other => panic!("master.m3u8 is not a master playlist: {other:?}"),
    }
}

fn media(path: &Path) -> MediaPlaylist {
    m3u8_rs::parse_media_playlist_res(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// Writes `init` followed by `segments` of `dir` into one file.
fn concat(dir: &Path, segments: &[String], to: &Path) {
    let mut bytes = std::fs::read(dir.join("init.mp4")).unwrap();
    for s in segments {
        bytes.extend(std::fs::read(dir.join(s)).unwrap());
    }
    std::fs::write(to, bytes).unwrap();
}

fn ffprobe_json(args: &[&str], file: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Decodes a whole file; ffmpeg must say nothing at `-v error`.
fn assert_decodes_cleanly(file: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(file)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{} does not decode cleanly: {}",
        file.display(),
        stderr(&out)
    );
}

/// The codec string ffprobe's own view of a stream implies.
fn expected_codec(stream: &Value) -> String {
    match stream["codec_name"].as_str().unwrap() {
        "h264" => {
            assert_eq!(stream["profile"], "High", "{stream}");
            format!("avc1.6400{:02x}", stream["level"].as_u64().unwrap())
        }
        "aac" => {
            assert_eq!(stream["profile"], "LC", "{stream}");
            "mp4a.40.2".into()
        }
        "av1" => {
            assert_eq!(stream["profile"], "Main", "{stream}");
            format!("av01.0.{:02}M.08", stream["level"].as_u64().unwrap())
        }
        other => panic!("unexpected codec {other}"),
    }
}

struct Rendition {
    dir: PathBuf,
    segments: Vec<String>,
    durations: Vec<f64>,
    codec: String,
    width: Option<u64>,
    height: Option<u64>,
}

/// Reads a rendition's playlist, checks its tags, probes it independently.
fn rendition(ladder: &Path, uri: &str, scratch: &Path) -> Rendition {
    let path = ladder.join(uri);
    let text = std::fs::read_to_string(&path).unwrap();
    for tag in [
        "#EXT-X-VERSION:7",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-MAP:URI=\"init.mp4\"",
        "#EXT-X-ENDLIST",
    ] {
        assert!(text.contains(tag), "{uri} lacks {tag}:\n{text}");
    }
    let playlist = media(&path);
    let dir = path.parent().unwrap().to_owned();
    let segments: Vec<String> = playlist.segments.iter().map(|s| s.uri.clone()).collect();
    for (i, s) in segments.iter().enumerate() {
        assert_eq!(s, &format!("seg_{i:03}.m4s"));
    }
    for s in &playlist.segments {
        assert!(
            f64::from(s.duration).round() as u64 <= playlist.target_duration,
            "{uri}: segment longer than the target duration"
        );
    }
    let whole = scratch.join(uri.replace('/', "_") + ".mp4");
    concat(&dir, &segments, &whole);
    assert_decodes_cleanly(&whole);
    let probe = ffprobe_json(&["-show_streams"], &whole);
    let streams = probe["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "{uri}: a CMAF track holds one stream");
    Rendition {
        dir,
        durations: playlist
            .segments
            .iter()
            .map(|s| f64::from(s.duration))
            .collect(),
        segments,
        codec: expected_codec(&streams[0]),
        width: streams[0]["width"].as_u64(),
        height: streams[0]["height"].as_u64(),
    }
}

/// The densest single segment of at least half the target duration, bit/s: a lower bound
/// of the HLS peak segment bit rate.
fn densest_segment(r: &Rendition, target: f64) -> f64 {
    r.segments
        .iter()
        .zip(&r.durations)
        .filter(|(_, d)| **d >= target / 2.0)
        .map(|(s, d)| std::fs::metadata(r.dir.join(s)).unwrap().len() as f64 * 8.0 / d)
        .fold(0.0, f64::max)
}

/// Every segment, read after the init section alone, starts with a keyframe; returns the
/// segments' first presentation times.
fn keyframe_starts(r: &Rendition, scratch: &Path) -> Vec<f64> {
    let mut starts = Vec::new();
    for s in &r.segments {
        let one = scratch.join(format!(
            "{}_{s}.mp4",
            r.dir.file_name().unwrap().to_string_lossy()
        ));
        concat(&r.dir, std::slice::from_ref(s), &one);
        let probe = ffprobe_json(
            &[
                "-select_streams",
                "v:0",
                "-show_entries",
                "packet=pts_time,flags",
            ],
            &one,
        );
        let first = &probe["packets"][0];
        assert!(
            first["flags"].as_str().unwrap().starts_with('K'),
            "{}/{s} starts with {first}",
            r.dir.display()
        );
        starts.push(first["pts_time"].as_str().unwrap().parse::<f64>().unwrap());
    }
    starts
}

#[test]
fn test_pattern_ladder_is_valid_cmaf_and_passes_qc() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("ladder");
    let scratch = root.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let run = collector(&[
        "encode",
        "--test-pattern",
        "4",
        "--pattern-size",
        "640x360",
        "--segment-seconds",
        "2",
        "--ladder",
        "240p:300k,360p:700k",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_ok(&run);
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(table.contains("QC passed"), "{table}");
    assert!(table.contains("PSNR dB"), "{table}");

    // Layout: exactly these files, nothing partial beside the ladder.
    let mut files: Vec<String> = Vec::new();
    for sub in ["", "360p", "240p", "audio"] {
        for e in std::fs::read_dir(out.join(sub)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                files.push(format!("{sub}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    files.sort();
    for expected in [
        "/master.m3u8",
        "/qc.json",
        "360p/index.m3u8",
        "360p/init.mp4",
        "360p/seg_000.m4s",
        "360p/seg_001.m4s",
        "240p/index.m3u8",
        "240p/init.mp4",
        "240p/seg_001.m4s",
        "audio/index.m3u8",
        "audio/init.mp4",
        "audio/seg_000.m4s",
    ] {
        assert!(
            files.contains(&expected.to_owned()),
            "{expected} missing from {files:?}"
        );
    }
    assert!(
        files
            .iter()
            .all(|f| !f.contains("ffmpeg") && !f.ends_with(".tmp")),
        "{files:?}"
    );
    let siblings: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings.len(), 2, "{siblings:?}");

    // Master: tallest first, relative URIs, attributes from the streams.
    let text = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    assert!(!text.contains("://") && !text.contains("\n/"), "{text}");
    assert!(text.contains(
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"main\",DEFAULT=YES,AUTOSELECT=YES"
    ));
    let m = master(&out);
    let uris: Vec<&str> = m.variants.iter().map(|v| v.uri.as_str()).collect();
    assert_eq!(uris, ["360p/index.m3u8", "240p/index.m3u8"]);
    let audio = rendition(&out, "audio/index.m3u8", &scratch);
    assert_eq!(audio.codec, "mp4a.40.2");
    // No sliver of a last segment (AAC runs a frame or two past the video).
    assert!(
        audio.durations.iter().all(|d| *d > 1.0),
        "audio segments {:?}",
        audio.durations
    );
    let audio_target = media(&out.join("audio/index.m3u8")).target_duration as f64;
    let audio_peak = densest_segment(&audio, audio_target);
    let mut starts = Vec::new();
    for (v, size) in m.variants.iter().zip([(640, 360), (426, 240)]) {
        let r = rendition(&out, &v.uri, &scratch);
        assert_eq!((r.width, r.height), (Some(size.0), Some(size.1)));
        let res = v.resolution.unwrap();
        assert_eq!((res.width, res.height), size);
        assert_eq!(
            v.codecs.as_deref(),
            Some(format!("{},mp4a.40.2", r.codec).as_str()),
            "{}",
            v.uri
        );
        assert_eq!(v.frame_rate, Some(30.0));
        assert!(text.contains("FRAME-RATE=30.000"), "{text}");
        assert_eq!(v.audio.as_deref(), Some("audio"));
        let target = media(&out.join(&v.uri)).target_duration as f64;
        assert_eq!(target, 2.0);
        let floor = densest_segment(&r, target) + audio_peak;
        assert!(
            v.bandwidth as f64 >= floor && (v.bandwidth as f64) < 1.5 * floor,
            "{}: BANDWIDTH {} against densest segments {floor}",
            v.uri,
            v.bandwidth
        );
        let average = v.average_bandwidth.unwrap();
        assert!(
            average <= v.bandwidth && average > v.bandwidth / 2,
            "{average}"
        );
        assert_eq!(r.durations, [2.0, 2.0]);
        starts.push(keyframe_starts(&r, &scratch));
    }
    // Keyframes at the same times in both renditions, one per segment.
    assert_eq!(starts[0].len(), 2);
    assert_eq!(starts[0], starts[1]);

    // qc.json agrees, and the library check reproduces it on the finished directory.
    let qc: Value = serde_json::from_slice(&std::fs::read(out.join("qc.json")).unwrap()).unwrap();
    assert_eq!(qc["passed"], true, "{qc}");
    assert_eq!(qc["keyframes"]["aligned"], true, "{qc}");
    let q = &qc["renditions"][0]["quality"];
    assert!(q["psnr_db"].as_f64().unwrap() > 30.0, "{qc}");
    assert!(q["ssim"].as_f64().unwrap() > 0.9, "{qc}");
    assert_eq!(q["frames"], 120, "{qc}");
    let report = collector::encode::qc::check(&out).unwrap();
    assert!(report.passed, "{report}");
    assert_eq!(report.renditions.len(), 3);
    assert_eq!(
        serde_json::to_value(report.renditions[0].declared_bandwidth).unwrap(),
        qc["renditions"][0]["declared_bandwidth"]
    );

    // An understated BANDWIDTH fails the check, naming the rendition and the figures.
    let understated = text.replacen(
        &format!("BANDWIDTH={},", m.variants[1].bandwidth),
        "BANDWIDTH=1000,",
        1,
    );
    std::fs::write(out.join("master.m3u8"), understated).unwrap();
    let report = collector::encode::qc::check(&out).unwrap();
    assert!(!report.passed);
    assert!(
        report.failures[0].starts_with("240p: declared BANDWIDTH 1000 is below the measured peak"),
        "{:?}",
        report.failures
    );

    // The directory exists: refused without --force, replaced with it.
    let again = [
        "encode",
        "--test-pattern",
        "1",
        "--pattern-size",
        "320x180",
        "--ladder",
        "180p:200k",
        "--segment-seconds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    assert_fails_with(&collector(&again), "already exists; pass --force");
    assert!(out.join("360p").is_dir());
    let mut forced = again.to_vec();
    forced.push("--force");
    assert_ok(&collector(&forced));
    assert!(out.join("180p/seg_000.m4s").is_file() && !out.join("360p").exists());
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 2);
}

#[test]
fn av1_ladder_declares_codecs_from_av1c() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("av1");
    let run = collector(&[
        "encode",
        "--test-pattern",
        "2",
        "--pattern-size",
        "640x360",
        "--segment-seconds",
        "2",
        "--ladder",
        "240p:300k",
        "--codec",
        "av1",
        "--qc-seconds",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_ok(&run);
    let m = master(&out);
    let r = rendition(&out, &m.variants[0].uri, root.path());
    assert!(r.codec.starts_with("av01.0."), "{}", r.codec);
    assert_eq!(
        m.variants[0].codecs.as_deref(),
        Some(format!("{},mp4a.40.2", r.codec).as_str())
    );
    keyframe_starts(&r, root.path());
}

#[test]
fn file_source_without_audio_is_never_upscaled() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("small source.mp4");
    // 29.97 fps, 320x200, silent: smaller than every default rung.
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x200:rate=30000/1001:duration=3")
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&source)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let out = root.path().join("ladder");
    let run = collector(&[
        "encode",
        "--input",
        source.to_str().unwrap(),
        "--segment-seconds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_ok(&run);
    assert!(stderr(&run).contains("leaving out 1080p, 720p, 480p, 360p, 240p"));
    let text = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    assert!(
        !text.contains("EXT-X-MEDIA") && !text.contains("AUDIO="),
        "{text}"
    );
    assert!(!out.join("audio").exists());
    let m = master(&out);
    assert_eq!(m.variants.len(), 1);
    assert_eq!(m.variants[0].uri, "200p/index.m3u8");
    assert!(
        text.contains("RESOLUTION=320x200,FRAME-RATE=29.970"),
        "{text}"
    );
    let r = rendition(&out, "200p/index.m3u8", root.path());
    assert_eq!(m.variants[0].codecs.as_deref(), Some(r.codec.as_str()));
    // 60 frames at 30000/1001 per GOP: 2.002 s segments.
    assert!((r.durations[0] - 2.002).abs() < 1e-3, "{:?}", r.durations);
}

#[test]
fn failed_encodes_exit_non_zero_and_leave_nothing() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("ladder");
    let out_arg = out.to_str().unwrap();

    let missing = root.path().join("no such file.mp4");
    let run = collector(&[
        "encode",
        "--input",
        missing.to_str().unwrap(),
        "--out",
        out_arg,
    ]);
    assert_fails_with(&run, "no such file.mp4");
    assert_no_output(root.path(), "ladder");

    let garbage = root.path().join("garbage.mp4");
    std::fs::write(
        &garbage,
        b"\x00\x00\x00\x18ftypisom this is not a video at all",
    )
    .unwrap();
    let run = collector(&[
        "encode",
        "--input",
        garbage.to_str().unwrap(),
        "--out",
        out_arg,
    ]);
    assert_fails_with(&run, "`ffprobe` failed");
    assert_fails_with(&run, "garbage.mp4");
    assert_no_output(root.path(), "ladder");

    // ffmpeg itself failing mid-way (no font for the clock) removes the partial ladder.
    let fonts = root.path().join("fonts");
    std::fs::create_dir(&fonts).unwrap();
    let conf = root.path().join("fonts.conf");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?><fontconfig><dir>{}</dir><cachedir>{}</cachedir></fontconfig>",
            fonts.display(),
            fonts.display()
        ),
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args([
            "encode",
            "--test-pattern",
            "1",
            "--pattern-size",
            "320x180",
            "--out",
            out_arg,
        ])
        .env("FONTCONFIG_FILE", &conf)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert_fails_with(&run, "fontconfig found no font for the family `Sans`");
    assert_no_output(root.path(), "ladder");

    let empty = root.path().join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["encode", "--test-pattern", "2", "--out", out_arg])
        .env("PATH", &empty)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert_fails_with(&run, "`ffmpeg` was not found on PATH");
    assert_no_output(root.path(), "ladder");
}

#[test]
fn bad_command_lines_are_refused_clearly() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("ladder");
    let out_arg = out.to_str().unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["--test-pattern", "-1"], "positive"),
        (&["--test-pattern", "nan"], "positive"),
        (&["--test-pattern", "99999999"], "maximum"),
        (
            &["--test-pattern", "2", "--segment-seconds", "5"],
            "not one of 2, 4 or 6",
        ),
        (
            &["--test-pattern", "2", "--ladder", "720p:0k"],
            "bitrate is zero",
        ),
        (
            &["--test-pattern", "2", "--ladder", "garbage"],
            "rung `garbage`",
        ),
        (
            &["--test-pattern", "2", "--ladder", "720p:1M,720p:2M"],
            "duplicate rung 720p",
        ),
        (&["--test-pattern", "2", "--codec", "vp9"], "vp9"),
        (
            &["--test-pattern", "2", "--input", "x.mp4"],
            "cannot be used with",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["encode"];
        all.extend_from_slice(args);
        all.extend(["--out", out_arg]);
        let run = collector(&all);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", stderr(&run));
        assert_fails_with(&run, needle);
    }
    assert_no_output(root.path(), "ladder");
}
