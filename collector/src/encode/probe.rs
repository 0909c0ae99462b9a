//! ffprobe, read through its JSON output: what a source file holds (streams, size, frame
//! rate, duration) and the packets of an encoded track (timestamps, sizes, byte
//! positions, keyframe flags).
//!
//! ffprobe prints some numbers as JSON numbers and others as strings (`"size": "7259"`,
//! `"duration": "30.000000"`), and `N/A` where it has none; the types here accept both.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Deserializer};

use super::tools::{StderrTail, ToolError, join_tail, run_captured};

/// What went wrong probing.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// ffprobe could not run or rejected the input.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// ffprobe's output was not the JSON expected.
    #[error("could not read ffprobe's JSON for {what}: {source}")]
    Json {
        /// What was probed.
        what: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A file to feed ffprobe could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input holds no video stream.
    #[error("{0} has no video stream")]
    NoVideo(String),
    /// A stream property needed is missing or impossible.
    #[error("{what}: {detail}")]
    Invalid {
        /// What was probed.
        what: String,
        /// What was wrong.
        detail: String,
    },
}

/// ffprobe's top-level JSON object (only the parts used here).
#[derive(Debug, Default, Deserialize)]
pub struct ProbeOutput {
    /// `-show_streams`.
    #[serde(default)]
    pub streams: Vec<Stream>,
    /// `-show_packets`.
    #[serde(default)]
    pub packets: Vec<Packet>,
    /// `-show_format`.
    #[serde(default)]
    pub format: Option<Format>,
}

/// One stream.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Stream {
    /// Stream index in the container.
    #[serde(default, deserialize_with = "lenient")]
    pub index: Option<u64>,
    /// `video`, `audio`, …
    #[serde(default)]
    pub codec_type: Option<String>,
    /// e.g. `h264`.
    #[serde(default)]
    pub codec_name: Option<String>,
    /// Coded width.
    #[serde(default, deserialize_with = "lenient")]
    pub width: Option<u64>,
    /// Coded height.
    #[serde(default, deserialize_with = "lenient")]
    pub height: Option<u64>,
    /// e.g. `1:1`.
    #[serde(default)]
    pub sample_aspect_ratio: Option<String>,
    /// e.g. `30000/1001`.
    #[serde(default)]
    pub avg_frame_rate: Option<String>,
    /// e.g. `30/1`.
    #[serde(default)]
    pub r_frame_rate: Option<String>,
    /// e.g. `1/15360`.
    #[serde(default)]
    pub time_base: Option<String>,
    /// Stream tags (`language`, `rotate`).
    #[serde(default)]
    pub tags: HashMap<String, String>,
    /// Side data (display matrix rotation).
    #[serde(default)]
    pub side_data_list: Vec<SideData>,
}

/// One side-data entry of a stream.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SideData {
    /// Rotation in degrees of a display matrix.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub rotation: Option<f64>,
}

/// The container.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Format {
    /// Duration in seconds.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub duration: Option<f64>,
}

/// One packet (sample) in stream time base units.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Packet {
    /// Presentation timestamp.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub pts: Option<i64>,
    /// Decode timestamp.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub dts: Option<i64>,
    /// Duration.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub duration: Option<i64>,
    /// Size in bytes.
    #[serde(default, deserialize_with = "lenient")]
    pub size: Option<u64>,
    /// Byte position in the input.
    #[serde(default, deserialize_with = "lenient")]
    pub pos: Option<u64>,
    /// `K_` for a keyframe, `__` otherwise, `D` for discard.
    #[serde(default)]
    pub flags: Option<String>,
}

impl Packet {
    /// Whether ffprobe flags the packet as a keyframe.
    pub fn is_keyframe(&self) -> bool {
        self.flags.as_deref().is_some_and(|f| f.starts_with('K'))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Int(i64),
    Float(f64),
    Text(String),
}

impl NumberOrText {
    fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(i) => Some(*i as f64),
            Self::Float(f) => Some(*f),
            Self::Text(t) => t.trim().parse().ok(),
        }
        .filter(|v: &f64| v.is_finite())
    }

    fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            Self::Float(_) => None,
            Self::Text(t) => t.trim().parse().ok(),
        }
    }
}

fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<NumberOrText>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_i64())
        .and_then(|i| u64::try_from(i).ok()))
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<NumberOrText>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_i64()))
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<NumberOrText>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_f64()))
}

/// A positive rational number such as a frame rate or a time base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rational {
    /// Numerator.
    pub num: u32,
    /// Denominator (never zero).
    pub den: u32,
}

impl Rational {
    /// Parses `30000/1001`, `30/1`, `30:1` or `25`; `None` for zero, negative or `0/0`.
    pub fn parse(text: &str) -> Option<Self> {
        let (n, d) = text.split_once(['/', ':']).unwrap_or((text, "1"));
        let num: u32 = n.trim().parse().ok()?;
        let den: u32 = d.trim().parse().ok()?;
        (num > 0 && den > 0).then_some(Self { num, den })
    }

    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

impl std::fmt::Display for Rational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// What `collector encode` needs to know about a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// Display width in square pixels (after sample aspect ratio and rotation).
    pub width: u32,
    /// Display height (after rotation).
    pub height: u32,
    /// Frame rate the ladder is encoded at.
    pub frame_rate: Rational,
    /// Duration in seconds, when the container says.
    pub duration_s: Option<f64>,
    /// Whether there is an audio stream to encode.
    pub has_audio: bool,
    /// The audio stream's language tag, when it is a plausible BCP 47 primary tag.
    pub language: Option<String>,
}

/// Highest source frame rate accepted.
pub const MAX_FRAME_RATE: f64 = 240.0;

/// Probes a source file's first video and audio streams.
pub fn probe_source(ffprobe: &Path, input: &Path) -> Result<SourceInfo, ProbeError> {
    let what = input.display().to_string();
    let mut command = Command::new(ffprobe);
    command
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(file_url(input));
    let (stdout, _) = run_captured("ffprobe", command, &format!("reading {what}"))?;
    let output: ProbeOutput =
        serde_json::from_slice(&stdout).map_err(|source| ProbeError::Json {
            what: what.clone(),
            source,
        })?;
    source_info(&what, &output)
}

/// Interprets a source's probe output (separate from running ffprobe so it can be tested).
pub fn source_info(what: &str, output: &ProbeOutput) -> Result<SourceInfo, ProbeError> {
    let invalid = |detail: String| ProbeError::Invalid {
        what: what.to_owned(),
        detail,
    };
    let video = output
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && !is_cover_art(s))
        .ok_or_else(|| ProbeError::NoVideo(what.to_owned()))?;
    let (Some(w), Some(h)) = (video.width, video.height) else {
        return Err(invalid("the video stream has no picture size".into()));
    };
    let (w, h) = (
        u32::try_from(w).map_err(|_| invalid(format!("width {w} is too large")))?,
        u32::try_from(h).map_err(|_| invalid(format!("height {h} is too large")))?,
    );
    if w == 0 || h == 0 {
        return Err(invalid(format!("picture size {w}x{h}")));
    }
    let sar = video
        .sample_aspect_ratio
        .as_deref()
        .and_then(Rational::parse)
        .map_or(1.0, Rational::as_f64);
    let mut display_w = ((f64::from(w) * sar / 2.0).round() as u32 * 2).max(2);
    let mut display_h = h;
    if is_quarter_turn(video) {
        std::mem::swap(&mut display_w, &mut display_h);
    }
    let frame_rate = [&video.avg_frame_rate, &video.r_frame_rate]
        .into_iter()
        .filter_map(|r| r.as_deref().and_then(Rational::parse))
        .find(|r| r.as_f64() <= MAX_FRAME_RATE)
        .ok_or_else(|| {
            invalid(format!(
                "no usable frame rate (avg {:?}, r {:?}; at most {MAX_FRAME_RATE} fps)",
                video.avg_frame_rate, video.r_frame_rate
            ))
        })?;
    let audio = output
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"));
    let language = audio
        .and_then(|a| a.tags.get("language"))
        .map(|l| l.to_ascii_lowercase())
        .filter(|l| {
            (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()) && l != "und"
        });
    Ok(SourceInfo {
        width: display_w,
        height: display_h,
        frame_rate,
        duration_s: output
            .format
            .as_ref()
            .and_then(|f| f.duration)
            .filter(|d| *d > 0.0),
        has_audio: audio.is_some(),
        language,
    })
}

/// Attached pictures (cover art in music files) show up as one-frame video streams.
fn is_cover_art(stream: &Stream) -> bool {
    matches!(stream.codec_name.as_deref(), Some("mjpeg" | "png"))
        && stream.avg_frame_rate.as_deref() == Some("0/0")
}

fn is_quarter_turn(stream: &Stream) -> bool {
    let rotation = stream
        .side_data_list
        .iter()
        .find_map(|s| s.rotation)
        .or_else(|| stream.tags.get("rotate").and_then(|r| r.parse().ok()))
        .unwrap_or(0.0);
    let quarter = (rotation / 90.0).round() as i64;
    quarter.rem_euclid(2) == 1
}

/// A path as an ffmpeg `file:` URL, so names starting with `-` or holding `:` are read as
/// files and nothing else.
pub fn file_url(path: &Path) -> std::ffi::OsString {
    let mut url = std::ffi::OsString::from("file:");
    url.push(path.as_os_str());
    url
}

/// The packets of the first stream of `files` concatenated (an init segment followed by
/// media segments), with that stream's description. Positions are offsets into the
/// concatenation.
pub fn probe_track(ffprobe: &Path, files: &[PathBuf]) -> Result<(Stream, Vec<Packet>), ProbeError> {
    let what = files
        .first()
        .map(|f| f.display().to_string())
        .unwrap_or_default();
    let mut child = Command::new(ffprobe)
        .args([
            "-v",
            "error",
            "-select_streams",
            "0",
            "-show_entries",
            "stream=index,codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate,time_base\
             :packet=pts,dts,duration,size,pos,flags",
            "-of",
            "json",
            "-i",
            "pipe:0",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ToolError::Spawn {
            program: "ffprobe",
            path: ffprobe.to_owned(),
            source,
        })?;
    let stdin = child.stdin.take();
    let files_owned = files.to_vec();
    // Feed the files from a thread while this one drains stdout, so neither side blocks.
    let feeder = std::thread::spawn(move || -> Result<(), ProbeError> {
        let Some(mut stdin) = stdin else {
            return Ok(());
        };
        for path in files_owned {
            let mut file = File::open(&path).map_err(|source| ProbeError::Read {
                path: path.clone(),
                source,
            })?;
            if std::io::copy(&mut file, &mut stdin).is_err() {
                // ffprobe stopped reading; its exit status and stderr say why.
                return Ok(());
            }
        }
        stdin.flush().ok();
        Ok(())
    });
    let stderr = child
        .stderr
        .take()
        .map(|s| std::thread::spawn(move || StderrTail::collect(s)));
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        std::io::Read::read_to_end(&mut out, &mut stdout).map_err(|source| ToolError::Pipe {
            program: "ffprobe",
            source,
        })?;
    }
    let status = child.wait().map_err(|source| ToolError::Pipe {
        program: "ffprobe",
        source,
    })?;
    let fed = feeder.join().unwrap_or_else(|_| {
        Err(ProbeError::Invalid {
            what: what.clone(),
            detail: "the thread feeding ffprobe panicked".into(),
        })
    });
    let tail = join_tail("ffprobe", stderr)?;
    fed?;
    if !status.success() {
        return Err(ToolError::Failed {
            program: "ffprobe",
            doing: format!("reading {what} and its segments"),
            status,
            tail: tail.render(),
        }
        .into());
    }
    let output: ProbeOutput =
        serde_json::from_slice(&stdout).map_err(|source| ProbeError::Json {
            what: what.clone(),
            source,
        })?;
    let stream = output
        .streams
        .into_iter()
        .next()
        .ok_or_else(|| ProbeError::Invalid {
            what,
            detail: "ffprobe found no stream".into(),
        })?;
    Ok((stream, output.packets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ProbeOutput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_numbers_written_as_text_or_numbers() {
        let out = parse(
            r#"{"packets":[{"pts":1014,"dts":-10,"duration":512,"size":"7259","pos":"1514","flags":"K_"},
                           {"pts":"N/A","size":12,"pos":"N/A","flags":"__"}]}"#,
        );
        let p = &out.packets[0];
        assert_eq!(
            (p.pts, p.dts, p.duration),
            (Some(1014), Some(-10), Some(512))
        );
        assert_eq!((p.size, p.pos), (Some(7259), Some(1514)));
        assert!(p.is_keyframe());
        let q = &out.packets[1];
        assert_eq!((q.pts, q.size, q.pos), (None, Some(12), None));
        assert!(!q.is_keyframe());
    }

    #[test]
    fn source_info_applies_aspect_rotation_and_picks_streams() {
        let out = parse(
            r#"{"streams":[
                {"index":0,"codec_type":"video","codec_name":"mjpeg","width":600,"height":600,"avg_frame_rate":"0/0","r_frame_rate":"90000/1"},
                {"index":1,"codec_type":"video","codec_name":"h264","width":1440,"height":1080,
                 "sample_aspect_ratio":"4:3","avg_frame_rate":"30000/1001","r_frame_rate":"60000/1001"},
                {"index":2,"codec_type":"audio","codec_name":"aac","tags":{"language":"ENG"}}],
               "format":{"duration":"12.500000"}}"#,
        );
        let info = source_info("clip.mp4", &out).unwrap();
        assert_eq!((info.width, info.height), (1920, 1080));
        assert_eq!(
            info.frame_rate,
            Rational {
                num: 30000,
                den: 1001
            }
        );
        assert_eq!(info.duration_s, Some(12.5));
        assert!(info.has_audio);
        assert_eq!(info.language.as_deref(), Some("eng"));

        let rotated = parse(
            r#"{"streams":[{"codec_type":"video","width":1920,"height":1080,"avg_frame_rate":"30/1",
                 "side_data_list":[{"rotation":-90}]}]}"#,
        );
        let info = source_info("phone.mp4", &rotated).unwrap();
        assert_eq!((info.width, info.height), (1080, 1920));
        assert!(!info.has_audio);
        assert_eq!(info.duration_s, None);
    }

    #[test]
    fn source_info_errors_name_the_problem() {
        let audio_only = parse(r#"{"streams":[{"codec_type":"audio"}]}"#);
        assert_eq!(
            source_info("song.m4a", &audio_only)
                .unwrap_err()
                .to_string(),
            "song.m4a has no video stream"
        );
        let no_rate = parse(
            r#"{"streams":[{"codec_type":"video","width":64,"height":64,"avg_frame_rate":"0/0","r_frame_rate":"1000/1"}]}"#,
        );
        let err = source_info("x.mkv", &no_rate).unwrap_err().to_string();
        assert!(err.contains("no usable frame rate"), "{err}");
        let no_size = parse(r#"{"streams":[{"codec_type":"video","avg_frame_rate":"25/1"}]}"#);
        assert!(
            source_info("y", &no_size)
                .unwrap_err()
                .to_string()
                .contains("picture size")
        );
    }

    #[test]
    fn rationals() {
        assert_eq!(
            Rational::parse("30000/1001").unwrap().to_string(),
            "30000/1001"
        );
        assert_eq!(Rational::parse("25"), Some(Rational { num: 25, den: 1 }));
        assert_eq!(Rational::parse("0/0"), None);
        assert_eq!(Rational::parse("-1/2"), None);
        assert_eq!(Rational::parse("x"), None);
    }
}
