//! The encode itself: the ffmpeg command line that turns a source into every rung of a
//! CMAF ladder in one pass (decode once, scale per rung, fixed closed GOPs that start
//! every segment), and running it with a progress bar fed by `-progress pipe:1`.
//!
//! ffmpeg's hls muxer cuts the segments and writes the init sections; the playlists it
//! writes are scratch files, replaced by ours ([`super::playlist`]) once the segments
//! have been measured.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::ladder::Rung;
use super::probe::SourceInfo;
use super::source::{self, AUDIO_RATE, Source};
use super::tools::{StderrTail, ToolError, Tools, join_tail, spawn_piped};

/// Directory of the audio rendition.
pub const AUDIO_DIR: &str = "audio";
/// Name of each rendition's init section.
pub const INIT_NAME: &str = "init.mp4";
/// ffmpeg's pattern for segment names: `seg_000.m4s`, `seg_001.m4s`, …
pub const SEGMENT_PATTERN: &str = "seg_%03d.m4s";
/// The playlist ffmpeg writes in each rendition directory; removed after the encode.
pub const SCRATCH_PLAYLIST: &str = "ffmpeg.m3u8";
/// Audio bitrate of the audio rendition, bit/s.
pub const AUDIO_BITRATE: u64 = 128_000;

/// The video codec of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// H.264 High profile (libx264).
    #[default]
    H264,
    /// AV1 main profile (libsvtav1).
    Av1,
}

/// What went wrong running the encode.
#[derive(Debug, thiserror::Error)]
pub enum FfmpegError {
    /// ffmpeg could not run, or failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// drawtext found no font through fontconfig.
    #[error(
        "the test pattern's clock could not be drawn: fontconfig found no font for the family \
         `Sans`; install one (e.g. `apt-get install fonts-dejavu-core`). ffmpeg said:\n{tail}"
    )]
    NoFont {
        /// ffmpeg's last stderr lines.
        tail: String,
    },
}

/// One encode: a source, its ladder, and how to cut it.
#[derive(Debug, Clone)]
pub struct EncodeJob<'a> {
    /// What to encode.
    pub source: &'a Source,
    /// Its probed (or generated) properties.
    pub info: &'a SourceInfo,
    /// The rungs, tallest first.
    pub rungs: &'a [Rung],
    /// Video codec.
    pub codec: Codec,
    /// Segment length in seconds.
    pub segment_seconds: u32,
}

impl EncodeJob<'_> {
    /// Frames per GOP (and per segment): the segment length at the source frame rate.
    pub fn gop_frames(&self) -> u32 {
        let frames = f64::from(self.segment_seconds) * self.info.frame_rate.as_f64();
        (frames.round() as u32).max(1)
    }

    /// The hls muxer's `hls_time` for video: half a frame short of a GOP, so the muxer
    /// cuts at every keyframe (each one GOP later) and nowhere else.
    fn video_hls_time(&self) -> f64 {
        (f64::from(self.gop_frames()) - 0.5) / self.info.frame_rate.as_f64()
    }

    /// Whether an audio rendition is made.
    pub fn has_audio(&self) -> bool {
        self.source.audio_map(self.info).is_some()
    }

    /// The whole ffmpeg argument list; paths are relative to the output directory, which
    /// must be ffmpeg's working directory and hold one empty directory per rendition.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "warning",
            "-nostats",
            "-progress",
            "pipe:1",
            "-y",
        ]
        .map(OsString::from)
        .to_vec();
        args.extend(self.source.input_args(None, false));
        args.push("-filter_complex".into());
        args.push(self.filter_graph().into());
        for (i, rung) in self.rungs.iter().enumerate() {
            args.extend(["-map".to_owned(), format!("[v{i}]")].map(OsString::from));
            args.extend(self.video_codec_args(rung).into_iter().map(OsString::from));
            args.extend(
                hls_output_args(&rung.name, self.video_hls_time())
                    .into_iter()
                    .map(OsString::from),
            );
        }
        if let Some(map) = self.source.audio_map(self.info) {
            let audio = [
                "-map".to_owned(),
                map.to_owned(),
                "-c:a".into(),
                "aac".into(),
                "-profile:a".into(),
                "aac_low".into(),
                "-b:a".into(),
                AUDIO_BITRATE.to_string(),
                "-ac".into(),
                "2".into(),
                "-ar".into(),
                AUDIO_RATE.to_string(),
            ];
            args.extend(audio.map(OsString::from));
            args.extend(
                hls_output_args(AUDIO_DIR, f64::from(self.segment_seconds))
                    .into_iter()
                    .map(OsString::from),
            );
        }
        args
    }

    /// Decode once, then one scaler per rung: `[v0]`, `[v1]`, …
    fn filter_graph(&self) -> String {
        let n = self.rungs.len();
        let mut graph = self.source.video_prelude(self.info);
        graph.push_str(&format!(",split={n}"));
        for i in 0..n {
            graph.push_str(&format!("[s{i}]"));
        }
        for (i, rung) in self.rungs.iter().enumerate() {
            graph.push_str(&format!(
                ";[s{i}]scale={}:{}:flags=bicubic,setsar=1,format=yuv420p[v{i}]",
                rung.width, rung.height
            ));
        }
        graph
    }

    fn video_codec_args(&self, rung: &Rung) -> Vec<String> {
        let g = self.gop_frames().to_string();
        let force = format!("expr:eq(mod(n,{g}),0)");
        let mut a: Vec<String> = Vec::new();
        match self.codec {
            Codec::H264 => {
                a.extend(
                    [
                        "-c:v",
                        "libx264",
                        "-preset",
                        "veryfast",
                        "-profile:v",
                        "high",
                    ]
                    .map(String::from),
                );
                a.extend([
                    "-b:v".into(),
                    rung.bitrate.to_string(),
                    "-maxrate".into(),
                    (rung.bitrate * 11 / 10).to_string(),
                    "-bufsize".into(),
                    (rung.bitrate * 2).to_string(),
                ]);
                a.extend([
                    "-g".into(),
                    g.clone(),
                    "-keyint_min".into(),
                    g,
                    "-sc_threshold".into(),
                    "0".into(),
                    "-flags".into(),
                    "+cgop".into(),
                ]);
            }
            Codec::Av1 => {
                a.extend(["-c:v", "libsvtav1", "-preset", "10"].map(String::from));
                a.extend([
                    "-b:v".into(),
                    rung.bitrate.to_string(),
                    "-g".into(),
                    g,
                    // Closed GOPs: key frames (not forward keyframes) start every GOP;
                    // no scene-change keyframes in between.
                    "-svtav1-params".into(),
                    "irefresh-type=2:scd=0".into(),
                ]);
            }
        }
        a.extend(["-force_key_frames".into(), force]);
        a
    }
}

/// The hls muxer options of one rendition writing into directory `dir`.
///
/// Timestamps are not shifted to start at zero: each rendition is its own output, and
/// ffmpeg would shift each by its own encoder delay (two frames of B-frame reordering for
/// video, one AAC priming frame for audio), putting audio and video out of step. Unshifted,
/// the mp4 muxer writes an edit list that skips exactly those delays, so the first picture
/// and the first real audio sample both present at zero.
fn hls_output_args(dir: &str, hls_time: f64) -> Vec<String> {
    vec![
        "-avoid_negative_ts".into(),
        "disabled".into(),
        "-f".into(),
        "hls".into(),
        "-hls_time".into(),
        format!("{hls_time:.6}"),
        "-hls_playlist_type".into(),
        "vod".into(),
        "-hls_list_size".into(),
        "0".into(),
        "-hls_segment_type".into(),
        "fmp4".into(),
        "-hls_fmp4_init_filename".into(),
        INIT_NAME.into(),
        "-hls_flags".into(),
        "independent_segments".into(),
        "-hls_segment_filename".into(),
        format!("{dir}/{SEGMENT_PATTERN}"),
        format!("{dir}/{SCRATCH_PLAYLIST}"),
    ]
}

/// Runs the encode in `out_dir` (which must already hold the rendition directories),
/// showing a progress bar on a terminal. Returns ffmpeg's stderr (warnings).
pub fn run(tools: &Tools, job: &EncodeJob<'_>, out_dir: &Path) -> Result<StderrTail, FfmpegError> {
    let mut command = Command::new(&tools.ffmpeg);
    command
        .args(job.args())
        .current_dir(out_dir)
        // SVT-AV1 prints its banner straight to stderr; keep only its warnings and errors.
        .env("SVT_LOG", "2");
    tracing::debug!(command = ?command, "running ffmpeg");
    let (mut child, stderr) = spawn_piped("ffmpeg", &mut command)?;
    let bar = progress_bar(job.info.duration_s);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(seconds) = progress_seconds(&line) {
                bar.set_position((seconds * 1000.0) as u64);
            } else if let Some(speed) = line.strip_prefix("speed=") {
                bar.set_message(format!("{} ", speed.trim()));
            }
        }
    }
    let status = child.wait().map_err(|source| ToolError::Pipe {
        program: "ffmpeg",
        source,
    })?;
    bar.finish_and_clear();
    let tail = join_tail("ffmpeg", stderr)?;
    if !status.success() {
        if matches!(job.source, Source::TestPattern { .. }) && source::is_font_failure(&tail) {
            return Err(FfmpegError::NoFont {
                tail: tail.render(),
            });
        }
        return Err(ToolError::Failed {
            program: "ffmpeg",
            doing: format!("encoding {}", job.source),
            status,
            tail: tail.render(),
        }
        .into());
    }
    Ok(tail)
}

/// `out_time_us=…` of ffmpeg's progress output, in seconds.
fn progress_seconds(line: &str) -> Option<f64> {
    let us: i64 = line.strip_prefix("out_time_us=")?.trim().parse().ok()?;
    (us >= 0).then(|| us as f64 / 1e6)
}

fn progress_bar(duration_s: Option<f64>) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = match duration_s {
        Some(d) => {
            let bar = ProgressBar::with_draw_target(Some((d * 1000.0) as u64), target);
            if let Ok(style) =
                ProgressStyle::with_template("encoding [{bar:40}] {percent:>3}% {msg}eta {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        }
        None => {
            let bar = ProgressBar::with_draw_target(None, target);
            if let Ok(style) = ProgressStyle::with_template("encoding {spinner} {msg}{elapsed}") {
                bar.set_style(style);
            }
            bar
        }
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::probe::Rational;
    use crate::encode::source::PatternSize;

    fn rung(name: &str, width: u32, height: u32, kbps: u64) -> Rung {
        Rung {
            name: name.into(),
            width,
            height,
            bitrate: kbps * 1000,
        }
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn h264_command_aligns_keyframes_and_segments() {
        let source = Source::TestPattern {
            seconds: 4.0,
            size: PatternSize {
                width: 640,
                height: 360,
            },
        };
        let info = source
            .info(&Tools {
                ffmpeg: "ffmpeg".into(),
                ffprobe: "ffprobe".into(),
            })
            .unwrap();
        let rungs = [rung("360p", 640, 360, 700), rung("240p", 426, 240, 300)];
        let job = EncodeJob {
            source: &source,
            info: &info,
            rungs: &rungs,
            codec: Codec::H264,
            segment_seconds: 2,
        };
        assert_eq!(job.gop_frames(), 60);
        let args = strings(job.args()).join(" ");
        assert!(args.contains(",split=2[s0][s1];[s0]scale=640:360:flags=bicubic,setsar=1,format=yuv420p[v0];[s1]scale=426:240"), "{args}");
        assert!(args.contains("-map [v1] -c:v libx264 -preset veryfast -profile:v high -b:v 300000 -maxrate 330000 -bufsize 600000 -g 60 -keyint_min 60 -sc_threshold 0 -flags +cgop -force_key_frames expr:eq(mod(n,60),0) -avoid_negative_ts disabled -f hls -hls_time 1.983333"), "{args}");
        assert!(
            args.contains("-hls_segment_filename 240p/seg_%03d.m4s 240p/ffmpeg.m3u8"),
            "{args}"
        );
        assert!(args.contains("-map 1:a:0 -c:a aac -profile:a aac_low -b:a 128000 -ac 2 -ar 48000 -avoid_negative_ts disabled -f hls -hls_time 2.000000"), "{args}");
        assert!(
            args.ends_with("audio/seg_%03d.m4s audio/ffmpeg.m3u8"),
            "{args}"
        );
    }

    #[test]
    fn file_sources_fix_the_frame_rate_and_may_have_no_audio() {
        let source = Source::File("/media/in put.mov".into());
        let info = SourceInfo {
            width: 1920,
            height: 1080,
            frame_rate: Rational {
                num: 30000,
                den: 1001,
            },
            duration_s: Some(10.0),
            has_audio: false,
            language: None,
        };
        let rungs = [rung("720p", 1280, 720, 2500)];
        let job = EncodeJob {
            source: &source,
            info: &info,
            rungs: &rungs,
            codec: Codec::Av1,
            segment_seconds: 4,
        };
        assert_eq!(job.gop_frames(), 120);
        assert!(!job.has_audio());
        let args = strings(job.args());
        assert!(args.contains(&"file:/media/in put.mov".to_owned()));
        let joined = args.join(" ");
        assert!(
            joined.contains("[0:v:0]fps=30000/1001,split=1[s0]"),
            "{joined}"
        );
        assert!(joined.contains("-c:v libsvtav1"), "{joined}");
        assert!(joined.contains("irefresh-type=2"), "{joined}");
        assert!(!joined.contains("-c:a"), "{joined}");
    }

    #[test]
    fn progress_lines() {
        assert_eq!(progress_seconds("out_time_us=6016000"), Some(6.016));
        assert_eq!(progress_seconds("out_time_us=N/A"), None);
        assert_eq!(progress_seconds("out_time_us=-5"), None);
        assert_eq!(progress_seconds("frame=10"), None);
    }
}
