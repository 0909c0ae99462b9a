//! What is being encoded: a file, or a generated test pattern (testsrc2 with a tone and a
//! burned-in media clock and frame counter). Both the encode and the quality check build
//! their ffmpeg inputs and first filters here, so the check compares against exactly the
//! pictures the encoder was given.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::probe::{self, ProbeError, Rational, SourceInfo};
use super::tools::Tools;

/// Frame rate of the generated test pattern.
pub const PATTERN_FPS: u32 = 30;
/// Longest test pattern accepted, in seconds (three hours).
pub const MAX_PATTERN_SECONDS: f64 = 3.0 * 3600.0;
/// Sample rate of the test tone (and of every encoded audio rendition).
pub const AUDIO_RATE: u32 = 48_000;

/// A picture size such as `1920x1080`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Default for PatternSize {
    fn default() -> Self {
        Self {
            width: 1920,
            height: 1080,
        }
    }
}

impl FromStr for PatternSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (w, h) = s
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT, e.g. 1280x720"))?;
        let parse = |t: &str, what: &str| -> Result<u32, String> {
            let v: u32 = t
                .parse()
                .map_err(|_| format!("{what} `{t}` is not a whole number"))?;
            if !(64..=3840).contains(&v) || !v.is_multiple_of(2) {
                return Err(format!("{what} {v} must be even and within 64..=3840"));
            }
            Ok(v)
        };
        Ok(Self {
            width: parse(w, "width")?,
            height: parse(h, "height")?,
        })
    }
}

impl fmt::Display for PatternSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// Checks a `--test-pattern` length: finite, positive, at most [`MAX_PATTERN_SECONDS`].
pub fn parse_pattern_seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!(
            "{text} seconds: the length must be a positive number"
        ));
    }
    if seconds > MAX_PATTERN_SECONDS {
        return Err(format!(
            "{text} seconds is longer than the {MAX_PATTERN_SECONDS} s maximum"
        ));
    }
    if seconds * f64::from(PATTERN_FPS) < 1.0 {
        return Err(format!("{text} seconds is shorter than one frame"));
    }
    Ok(seconds)
}

/// What to encode.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A media file.
    File(PathBuf),
    /// A generated moving pattern with a tone.
    TestPattern {
        /// Length in seconds.
        seconds: f64,
        /// Picture size.
        size: PatternSize,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::TestPattern { seconds, size } => {
                write!(f, "test pattern {size} {PATTERN_FPS} fps, {seconds} s")
            }
        }
    }
}

impl Source {
    /// The source's picture size, frame rate, duration and audio, probing a file.
    pub fn info(&self, tools: &Tools) -> Result<SourceInfo, ProbeError> {
        match self {
            Self::File(path) => probe::probe_source(&tools.ffprobe, path),
            Self::TestPattern { seconds, size } => Ok(SourceInfo {
                width: size.width,
                height: size.height,
                frame_rate: Rational {
                    num: PATTERN_FPS,
                    den: 1,
                },
                duration_s: Some(*seconds),
                has_audio: true,
                language: None,
            }),
        }
    }

    /// ffmpeg input arguments: video is input 0; a test pattern's tone is input 1 unless
    /// `video_only`. With `limit_s`, inputs stop after that many seconds.
    pub fn input_args(&self, limit_s: Option<f64>, video_only: bool) -> Vec<OsString> {
        let limit: Vec<OsString> = limit_s
            .map(|s| vec!["-t".into(), format!("{s:.3}").into()])
            .unwrap_or_default();
        let mut args: Vec<OsString> = Vec::new();
        match self {
            Self::File(path) => {
                args.extend(limit);
                args.push("-i".into());
                args.push(probe::file_url(path));
            }
            Self::TestPattern { seconds, size } => {
                args.extend(["-f".into(), "lavfi".into()]);
                args.extend(limit.iter().cloned());
                args.push("-i".into());
                args.push(
                    format!("testsrc2=size={size}:rate={PATTERN_FPS}:duration={seconds:.3}").into(),
                );
                if video_only {
                    return args;
                }
                args.extend(["-f".into(), "lavfi".into()]);
                args.extend(limit);
                args.push("-i".into());
                args.push(
                    format!(
                        "sine=frequency=440:beep_factor=4:sample_rate={AUDIO_RATE}:duration={seconds:.3}"
                    )
                    .into(),
                );
            }
        }
        args
    }

    /// The stream specifier of the audio to encode, if any.
    pub fn audio_map(&self, info: &SourceInfo) -> Option<&'static str> {
        match self {
            Self::File(_) => info.has_audio.then_some("0:a:0"),
            Self::TestPattern { .. } => Some("1:a:0"),
        }
    }

    /// The filter chain (without output label) that turns input 0's video into the
    /// pictures every rung is scaled from: the frame rate fixed for files (so GOPs of a
    /// fixed frame count are a fixed duration), the clock and counter drawn on a pattern.
    pub fn video_prelude(&self, info: &SourceInfo) -> String {
        match self {
            Self::File(_) => format!("[0:v:0]fps={}", info.frame_rate),
            Self::TestPattern { size, .. } => {
                let font_size = (size.height / 14).max(12);
                let border = (font_size / 5).max(2);
                format!(
                    "[0:v:0]drawtext=font=Sans:fontsize={font_size}:fontcolor=white:box=1:\
                     boxcolor=black@0.65:boxborderw={border}:x=(w-tw)/2:y=h/12:\
                     text='%{{pts\\:hms}}  frame %{{frame_num}}'"
                )
            }
        }
    }
}

/// Whether ffmpeg's stderr says drawtext found no font.
pub fn is_font_failure(stderr: &super::tools::StderrTail) -> bool {
    stderr.all.iter().any(|l| {
        l.contains("Parsed_drawtext")
            && (l.contains("font") || l.contains("Font"))
            && (l.contains("Cannot") || l.contains("Could not") || l.contains("not find"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_seconds_are_validated() {
        assert_eq!(parse_pattern_seconds("4").unwrap(), 4.0);
        assert_eq!(parse_pattern_seconds("0.5").unwrap(), 0.5);
        for bad in ["-1", "0", "nan", "inf", "1e9", "x", "", "0.01"] {
            assert!(parse_pattern_seconds(bad).is_err(), "{bad} accepted");
        }
        assert!(
            parse_pattern_seconds("-1")
                .unwrap_err()
                .contains("positive")
        );
    }

    #[test]
    fn pattern_sizes_are_validated() {
        assert_eq!(
            "640x360".parse::<PatternSize>().unwrap(),
            PatternSize {
                width: 640,
                height: 360
            }
        );
        for bad in ["640", "641x360", "32x32", "9000x360", "axb"] {
            assert!(bad.parse::<PatternSize>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn pattern_inputs_and_prelude() {
        let source = Source::TestPattern {
            seconds: 4.0,
            size: PatternSize::default(),
        };
        let args: Vec<String> = source
            .input_args(Some(2.0), false)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "-f",
                "lavfi",
                "-t",
                "2.000",
                "-i",
                "testsrc2=size=1920x1080:rate=30:duration=4.000",
                "-f",
                "lavfi",
                "-t",
                "2.000",
                "-i",
                "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=4.000"
            ]
        );
        assert_eq!(source.input_args(None, true).len(), 4);
        let info = source.info(&Tools {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        });
        let prelude = source.video_prelude(&info.unwrap());
        assert!(prelude.contains("font=Sans"), "{prelude}");
        assert!(prelude.contains("%{pts\\:hms}"), "{prelude}");
        assert!(!prelude.contains("fontfile"), "{prelude}");
    }
}
