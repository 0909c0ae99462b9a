//! Helpers of the integration tests: where the shared fixtures are, running `ts2mp4`,
//! ffmpeg and ffprobe, and reading what ffprobe says about packets and streams.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `../shared` next to the repository (or `$SHARED`), when present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    dir.join("fixtures").is_dir().then_some(dir)
}

/// Whether ffmpeg and ffprobe can be run.
pub fn have_ffmpeg() -> bool {
    ["ffmpeg", "ffprobe"].iter().all(|tool| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// A fresh directory for a test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("transmux")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `ts2mp4` with `args`; returns its JSON lines (one per segment). Panics with its
/// stderr when it fails.
pub fn ts2mp4(args: &[&str]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_ts2mp4"))
        .args(args)
        .output()
        .expect("run ts2mp4");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ts2mp4 {args:?} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// What `ffmpeg -v error -i FILE -f null -` prints (empty when it decodes cleanly).
pub fn decode_errors(file: &Path) -> String {
    let output = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(file)
        .args(["-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() && text.is_empty() {
        text = format!("ffmpeg exited with {}", output.status);
    }
    text
}

/// ffprobe's JSON about `file`; `null` when ffprobe cannot read it (not a media file).
fn ffprobe_json(args: &[&str], file: &str) -> Value {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(file)
        .output()
        .expect("run ffprobe");
    if !output.status.success() {
        return Value::Null;
    }
    serde_json::from_slice(&output.stdout).expect("ffprobe JSON")
}

/// A stream as ffprobe sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub index: u64,
    pub kind: String,
    pub codec: String,
    pub width: u64,
    pub height: u64,
    pub sample_rate: u64,
    pub channels: u64,
}

/// The streams of `file` (a path, or an ffmpeg `concat:` URL).
pub fn streams(file: &str) -> Vec<Stream> {
    let json = ffprobe_json(&["-show_streams"], file);
    let number = |v: &Value, key: &str| -> u64 {
        match &v[key] {
            Value::Number(n) => n.as_u64().unwrap_or(0),
            Value::String(s) => s.parse().unwrap_or(0),
            _ => 0,
        }
    };
    json["streams"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|s| Stream {
                    index: number(s, "index"),
                    kind: s["codec_type"].as_str().unwrap_or("").to_string(),
                    codec: s["codec_name"].as_str().unwrap_or("").to_string(),
                    width: number(s, "width"),
                    height: number(s, "height"),
                    sample_rate: number(s, "sample_rate"),
                    channels: number(s, "channels"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A packet as ffprobe sees it (seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Packet {
    pub stream: u64,
    pub pts: f64,
    pub dts: f64,
    pub duration: f64,
    pub key: bool,
}

/// The packets of `file`, in file order.
pub fn packets(file: &str) -> Vec<Packet> {
    let json = ffprobe_json(
        &[
            "-show_entries",
            "packet=stream_index,pts_time,dts_time,duration_time,flags",
        ],
        file,
    );
    let seconds = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    json["packets"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| Packet {
                    stream: p["stream_index"].as_u64().unwrap_or(0),
                    pts: seconds(&p["pts_time"]),
                    dts: seconds(&p["dts_time"]),
                    duration: seconds(&p["duration_time"]),
                    key: p["flags"].as_str().is_some_and(|f| f.starts_with('K')),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Decoded frames of the first stream of `kind` ("v" or "a").
pub fn decoded_frames(file: &str, kind: &str) -> u64 {
    let json = ffprobe_json(
        &[
            "-count_frames",
            "-select_streams",
            kind,
            "-show_entries",
            "stream=nb_read_frames",
        ],
        file,
    );
    json["streams"][0]["nb_read_frames"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The packets of the stream of `kind` in `file`.
pub fn packets_of(file: &str, kind: &str) -> Vec<Packet> {
    let Some(stream) = streams(file).into_iter().find(|s| s.kind == kind) else {
        return Vec::new();
    };
    packets(file)
        .into_iter()
        .filter(|p| p.stream == stream.index)
        .collect()
}

/// Earliest presentation time and latest presentation end of `packets`.
pub fn span(packets: &[Packet]) -> Option<(f64, f64)> {
    let start = packets.iter().map(|p| p.pts).fold(f64::INFINITY, f64::min);
    let end = packets
        .iter()
        .map(|p| p.pts + if p.duration.is_nan() { 0.0 } else { p.duration })
        .fold(f64::NEG_INFINITY, f64::max);
    (start.is_finite() && end.is_finite()).then_some((start, end))
}

/// Whether `bytes` start like a transport stream (sync bytes 188 apart).
pub fn is_ts(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x47) && bytes.get(188).is_none_or(|&b| b == 0x47)
}

/// Whether `bytes` start like packed audio: an ID3 tag, an ADTS or MPEG audio header.
pub fn is_packed_audio(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ID3") || matches!(bytes, [0xff, b, ..] if b & 0xe0 == 0xe0)
}
