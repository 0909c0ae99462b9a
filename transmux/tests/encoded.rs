//! A TS stream made here with ffmpeg — 1080p x264 with three B-frames and AAC, cut into
//! HLS segments — transmuxed with `ts2mp4`, then compared with ffprobe frame by frame
//! against the source: the same video frames in the same decode order with the same
//! presentation times (so the B-frame reordering is intact), keyframes where they
//! were, decode times and audio continuous across segment boundaries, every frame
//! decodable.
//!
//! Skipped, with a message, when ffmpeg is absent.

mod common;

use common::*;

const FPS: f64 = 25.0;
const SECONDS: u32 = 6;

#[test]
fn ffmpeg_encoded_b_frames_survive_frame_for_frame() {
    if !have_ffmpeg() {
        eprintln!("skipped: ffmpeg/ffprobe not installed");
        return;
    }
    let dir = scratch("encoded");
    let source = dir.join("source");
    std::fs::create_dir_all(&source).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc2=size=1920x1080:rate={FPS}:duration={SECONDS}"
        ))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=48000:duration={SECONDS}"
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-bf",
            "3",
            "-g",
            "50",
            "-keyint_min",
            "50",
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-f",
            "hls",
            "-hls_time",
            "2",
            "-hls_segment_type",
            "mpegts",
            "-hls_playlist_type",
            "vod",
            "-hls_segment_filename",
        ])
        .arg(source.join("seg%03d.ts"))
        .arg(source.join("index.m3u8"))
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg could not encode the test stream");
    let mut segments: Vec<String> = std::fs::read_dir(&source)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    segments.sort();
    assert!(segments.len() >= 3, "segments: {segments:?}");

    let out = dir.join("out");
    let lines = ts2mp4(&[
        "--out",
        out.to_str().unwrap(),
        "--playlist",
        source.join("index.m3u8").to_str().unwrap(),
    ]);
    for line in &lines {
        assert!(line["warnings"].as_array().unwrap().is_empty(), "{line}");
        assert_eq!(line["codecs"][0], "avc1.640028");
        assert_eq!(line["codecs"][1], "mp4a.40.2");
    }
    let all = out.join("all.mp4");
    let errors = decode_errors(&all);
    assert!(errors.is_empty(), "ffmpeg reports errors:\n{errors}");
    let all = all.to_str().unwrap();
    let concat = format!("concat:{}", segments.join("|"));

    // Video: frame for frame.
    let theirs = packets_of(&concat, "video");
    let ours = packets_of(all, "video");
    assert_eq!(ours.len(), theirs.len(), "video frames");
    assert_eq!(ours.len(), (FPS as usize) * SECONDS as usize);
    let frame = 1.0 / FPS;
    let mut reordered = 0;
    for (index, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert!(
            (a.pts - b.pts).abs() < 1e-4,
            "frame {index}: pts {} against {}",
            a.pts,
            b.pts
        );
        assert_eq!(a.key, b.key, "frame {index}: keyframe flag");
        if index > 0 {
            let previous = ours[index - 1];
            // Decode times continuous, across segment boundaries too.
            assert!(
                (a.dts - previous.dts - frame).abs() < 1e-4,
                "frame {index}: dts {} after {}",
                a.dts,
                previous.dts
            );
            if a.pts < previous.pts {
                reordered += 1;
            }
        }
    }
    assert!(
        reordered > ours.len() / 4,
        "B-frames present: {reordered} reordered frames"
    );
    assert_eq!(decoded_frames(all, "v"), decoded_frames(&concat, "v"));

    // Audio: every frame, back to back.
    let theirs = packets_of(&concat, "audio");
    let ours = packets_of(all, "audio");
    assert_eq!(ours.len(), theirs.len(), "audio frames");
    for pair in ours.windows(2) {
        assert!(
            (pair[1].pts - pair[0].pts - 1024.0 / 48_000.0).abs() < 1e-6,
            "audio not contiguous: {pair:?}"
        );
    }
    assert!(
        (ours[0].pts - theirs[0].pts).abs() < 1e-3,
        "audio start {} against {}",
        ours[0].pts,
        theirs[0].pts
    );
    // Audio starts with video, as in the source.
    let video_start = span(&packets_of(all, "video")).unwrap().0;
    let source_video_start = span(&packets_of(&concat, "video")).unwrap().0;
    assert!((video_start - source_video_start).abs() < 1e-4);
    assert!(
        (video_start - ours[0].pts).abs() <= 0.1,
        "A/V start {video_start} / {}",
        ours[0].pts
    );
    eprintln!(
        "{} segments: {} video frames ({reordered} presented before an earlier-decoded one), {} audio frames",
        segments.len(),
        packets_of(all, "video").len(),
        ours.len()
    );
}
