//! Every MPEG-TS and packed-audio stream of the shared fixtures (`../shared/fixtures`,
//! or `$SHARED/fixtures`), found by sniffing the segments their media playlists name,
//! transmuxed segment by segment with `ts2mp4`, then checked with ffmpeg: the whole
//! output and each segment alone decode without a single error message, the streams are
//! the source's (codec, picture size, sample rate, channels), every frame is there, the
//! duration is the playlist's, audio and video start together. Then every single TS or
//! packed-audio file of `fixtures/mux.js` transmuxes without an error.
//!
//! Skipped, with a message, when the fixtures or ffmpeg are absent.

mod common;
#[path = "../src/bin/ts2mp4/playlist.rs"]
#[allow(dead_code)]
mod playlist;

use std::path::{Path, PathBuf};

use common::*;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn first_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path)
        .map(|mut b| {
            b.truncate(4096);
            b
        })
        .unwrap_or_default()
}

/// A media playlist whose every present segment is TS or packed audio.
struct Stream {
    playlist: PathBuf,
    segments: Vec<playlist::Segment>,
    /// Playlist seconds from the first present segment's start to the last one's end.
    span: f64,
}

fn transport_stream_playlists(fixtures: &Path) -> Vec<Stream> {
    let mut files = Vec::new();
    walk(fixtures, &mut files);
    let mut out = Vec::new();
    for path in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "m3u8"))
    {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Some(segments) = playlist::segments(&path, &text) else {
            continue;
        };
        if segments.iter().any(|s| s.byte_range) {
            continue;
        }
        let present: Vec<&playlist::Segment> = segments
            .iter()
            .filter(|s| !s.gap && s.path.is_file())
            .collect();
        if present.is_empty()
            || !present.iter().all(|s| {
                let bytes = first_bytes(&s.path);
                is_ts(&bytes) || is_packed_audio(&bytes)
            })
        {
            continue;
        }
        let mut start = 0.0;
        let (mut first, mut last) = (None, 0.0);
        for segment in &segments {
            if !segment.gap && segment.path.is_file() {
                first.get_or_insert(start);
                last = start + segment.duration;
            }
            start += segment.duration;
        }
        out.push(Stream {
            playlist: path,
            span: last - first.unwrap_or(0.0),
            segments: present.into_iter().cloned().collect(),
        });
    }
    out
}

/// Video and audio packet counts of the source segments.
fn source_counts(segments: &[PathBuf]) -> (usize, usize) {
    let mut counts = (0, 0);
    for segment in segments {
        let file = segment.to_str().unwrap();
        counts.0 += packets_of(file, "video").len();
        counts.1 += packets_of(file, "audio").len();
    }
    counts
}

/// The source's streams worth carrying: video with a size, audio with a rate.
fn source_streams(segment: &Path) -> Vec<Stream2> {
    streams(segment.to_str().unwrap())
        .into_iter()
        .filter(|s| (s.kind == "video" && s.width > 0) || (s.kind == "audio" && s.sample_rate > 0))
        .map(Stream2::from)
        .collect()
}

/// A stream's identity for comparison (codec and format, not the index).
#[derive(Debug, PartialEq, PartialOrd)]
struct Stream2 {
    kind: String,
    codec: String,
    width: u64,
    height: u64,
    sample_rate: u64,
    channels: u64,
}

impl From<common::Stream> for Stream2 {
    fn from(s: common::Stream) -> Self {
        Stream2 {
            kind: s.kind,
            codec: s.codec,
            width: s.width,
            height: s.height,
            sample_rate: s.sample_rate,
            channels: s.channels,
        }
    }
}

#[test]
fn every_fixture_stream_transmuxes_and_decodes() {
    let Some(shared) = shared_dir() else {
        eprintln!("skipped: no ../shared/fixtures (set SHARED)");
        return;
    };
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg/ffprobe not installed");
        return;
    }
    let streams = transport_stream_playlists(&shared.join("fixtures"));
    assert!(
        !streams.is_empty(),
        "no TS or packed audio stream found in the fixtures"
    );
    let mut report = Vec::new();
    for stream in &streams {
        let name = stream
            .playlist
            .strip_prefix(shared.join("fixtures"))
            .unwrap_or(&stream.playlist)
            .display()
            .to_string();
        let out = scratch(&name.replace(['/', '.'], "_"));
        let lines = ts2mp4(&[
            "--place",
            "--out",
            out.to_str().unwrap(),
            "--playlist",
            stream.playlist.to_str().unwrap(),
        ]);
        assert_eq!(
            lines.len(),
            stream.segments.len(),
            "{name}: one line per segment"
        );
        let warnings: Vec<String> = lines
            .iter()
            .flat_map(|l| l["warnings"].as_array().cloned().unwrap_or_default())
            .map(|w| w.as_str().unwrap_or("").to_string())
            .collect();

        let all = out.join("all.mp4");
        let errors = decode_errors(&all);
        assert!(
            errors.is_empty(),
            "{name}: ffmpeg reports errors decoding all.mp4:\n{errors}"
        );
        for index in 0..stream.segments.len() {
            let alone = out.join(format!("seg-{index:05}.mp4"));
            let errors = decode_errors(&alone);
            assert!(
                errors.is_empty(),
                "{name}: segment {index} alone:\n{errors}"
            );
        }

        let all = all.to_str().unwrap();
        let mut ours: Vec<Stream2> = common::streams(all)
            .into_iter()
            .map(Stream2::from)
            .collect();
        let mut theirs = source_streams(&stream.segments[0].path);
        ours.sort_by(|a, b| a.partial_cmp(b).unwrap());
        theirs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(ours, theirs, "{name}: streams");

        let paths: Vec<PathBuf> = stream.segments.iter().map(|s| s.path.clone()).collect();
        let (source_video, source_audio) = source_counts(&paths);
        let video = packets_of(all, "video");
        let audio = packets_of(all, "audio");
        assert_eq!(video.len(), source_video, "{name}: video frames");
        assert_eq!(audio.len(), source_audio, "{name}: audio frames");

        let mut spans = Vec::new();
        for (kind, packets) in [("video", &video), ("audio", &audio)] {
            if let Some((start, end)) = span(packets) {
                let duration = end - start;
                let tolerance = (0.02 * stream.span).max(0.25);
                assert!(
                    (duration - stream.span).abs() <= tolerance,
                    "{name}: {kind} lasts {duration:.3} s, the playlist {:.3} s",
                    stream.span
                );
                spans.push((kind, start, end));
            }
        }
        if let [(_, video_start, _), (_, audio_start, _)] = spans[..] {
            assert!(
                (video_start - audio_start).abs() <= 0.1,
                "{name}: video starts at {video_start:.3} s, audio at {audio_start:.3} s"
            );
        }
        report.push(format!(
            "{name}: {} segments, {} video + {} audio frames, {}, warnings: {warnings:?}",
            stream.segments.len(),
            video.len(),
            audio.len(),
            spans
                .iter()
                .map(|(kind, start, end)| format!("{kind} {start:.3}–{end:.3} s"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for line in &report {
        eprintln!("{line}");
    }
    // The six Shaka streams are all found (hls-multivideo has one playlist per
    // rendition).
    for dir in [
        "hls-ts-muxed-aac-h264",
        "hls-multivideo",
        "hls-text-no-discontinuity",
        "hls-raw-aac",
        "lcevc-sei-ts",
        "hls-gap",
    ] {
        assert!(
            report.iter().any(|line| line.contains(dir)),
            "{dir} not found"
        );
    }
}

#[test]
fn every_mux_js_segment_transmuxes() {
    let Some(shared) = shared_dir() else {
        eprintln!("skipped: no ../shared/fixtures (set SHARED)");
        return;
    };
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg/ffprobe not installed");
        return;
    }
    let mut files = Vec::new();
    walk(&shared.join("fixtures/mux.js"), &mut files);
    let segments: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| {
            let bytes = first_bytes(p);
            is_ts(&bytes) || is_packed_audio(&bytes)
        })
        .collect();
    assert!(segments.len() >= 7, "mux.js segments: {segments:?}");
    for segment in &segments {
        let name = segment.file_name().unwrap().to_string_lossy().to_string();
        let out = scratch(&format!("mux.js_{}", name.replace('.', "_")));
        let lines = ts2mp4(&["--out", out.to_str().unwrap(), segment.to_str().unwrap()]);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].get("error").is_none(), "{name}: {}", lines[0]);
        let all = out.join("all.mp4");
        let (source_video, source_audio) = source_counts(std::slice::from_ref(segment));
        if std::fs::metadata(&all).map_or(0, |m| m.len()) == 0 {
            // Nothing to carry (a lone packet of stuffing): a warning says why.
            assert_eq!(source_video + source_audio, 0, "{name}: frames lost");
            assert!(
                !lines[0]["warnings"].as_array().unwrap().is_empty(),
                "{name}"
            );
            eprintln!("{name}: no media, warnings {}", lines[0]["warnings"]);
            continue;
        }
        let errors = decode_errors(&all);
        assert!(
            errors.is_empty(),
            "{name}: ffmpeg reports errors:\n{errors}"
        );
        let all = all.to_str().unwrap();
        let video = packets_of(all, "video");
        let audio = packets_of(all, "audio");
        assert_eq!(video.len(), source_video, "{name}: video frames");
        assert_eq!(audio.len(), source_audio, "{name}: audio frames");
        // Audio and video keep the source's relative start.
        let source = segment.to_str().unwrap();
        if let (Some(v), Some(a), Some(sv), Some(sa)) = (
            span(&video),
            span(&audio),
            span(&packets_of(source, "video")),
            span(&packets_of(source, "audio")),
        ) {
            let drift = (v.0 - a.0) - (sv.0 - sa.0);
            assert!(
                drift.abs() <= 0.1,
                "{name}: A/V start moved by {drift:.3} s"
            );
        }
        eprintln!(
            "{name}: {} video + {} audio frames, warnings {}",
            video.len(),
            audio.len(),
            lines[0]["warnings"]
        );
    }
}
