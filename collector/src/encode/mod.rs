//! `collector encode`: a source into a CMAF (fMP4) HLS ladder with ffmpeg, then
//! quality control.
//!
//! | module | what |
//! |---|---|
//! | [`ladder`] | `--ladder` specs, the default ladder, fitting it to the source |
//! | [`source`] | a file or a generated test pattern, as ffmpeg inputs and first filters |
//! | [`probe`] | ffprobe's JSON: source properties, packets of a track |
//! | [`ffmpeg`] | the encode command line, run with a progress bar |
//! | [`mp4`] | an MP4 box reader for the codec strings of init sections |
//! | [`measure`] | segment sizes, durations, keyframes; peak and average bitrates |
//! | [`playlist`] | writing master and media playlists, reading them back |
//! | [`quality`] | PSNR and SSIM against the source |
//! | [`qc`] | quality control of a ladder directory ([`qc::check`]) |
//! | [`output`] | the partial directory renamed into place when complete |
//! | [`tail`] | a sliver of a last segment joined onto the one before |
//! | [`tools`] | finding and running ffmpeg and ffprobe |
//!
//! The layout written: `DIR/master.m3u8`, `DIR/<rung>/index.m3u8` with `init.mp4` and
//! `seg_000.m4s`, `seg_001.m4s`, … per rung (e.g. `720p`), the same under `DIR/audio/`
//! when the source has sound, and `DIR/qc.json`.

pub mod ffmpeg;
pub mod ladder;
pub mod measure;
pub mod mp4;
pub mod output;
pub mod playlist;
pub mod probe;
pub mod qc;
pub mod quality;
pub mod source;
pub mod tail;
pub mod tools;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ffmpeg::{AUDIO_DIR, Codec, EncodeJob, INIT_NAME, SCRATCH_PLAYLIST};
use ladder::{LadderError, LadderPlan, LadderSpec};
use measure::{MeasureError, RenditionMeasure};
use output::{OutputError, Staging};
use playlist::{AudioEntry, MEDIA_PLAYLIST, SegmentLine, VariantEntry};
use probe::{ProbeError, SourceInfo};
use qc::{QcError, QcReport, Reference};
use source::{PatternSize, Source};
use tools::{ToolError, Tools};

/// Name of the quality control report in the ladder directory.
pub const QC_REPORT: &str = "qc.json";

/// Command-line arguments of `collector encode`.
#[derive(Debug, clap::Args)]
pub struct EncodeArgs {
    /// Source video file.
    #[arg(
        long,
        conflicts_with = "test_pattern",
        required_unless_present = "test_pattern"
    )]
    pub input: Option<PathBuf>,
    /// Generate a moving test pattern with a tone of this many seconds instead of reading a file.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = source::parse_pattern_seconds)]
    pub test_pattern: Option<f64>,
    /// Output directory (written to a temporary sibling and renamed into place at the end).
    #[arg(long)]
    pub out: PathBuf,
    /// Rungs as `HEIGHTp:BITRATE` or `WIDTHxHEIGHT:BITRATE`, comma-separated
    /// [default: 1080p:4500k,720p:2500k,480p:1200k,360p:700k,240p:300k]
    #[arg(long, value_name = "SPEC", value_parser = parse_ladder_arg)]
    pub ladder: Option<LadderSpec>,
    /// Segment (and GOP) length in seconds: 2, 4 or 6.
    #[arg(long, value_name = "SECONDS", default_value_t = 2, value_parser = parse_segment_seconds)]
    pub segment_seconds: u32,
    /// Video codec.
    #[arg(long, value_enum, default_value_t = Codec::H264)]
    pub codec: Codec,
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub force: bool,
    /// Seconds from the start of the source over which PSNR and SSIM are measured
    /// (0 skips them).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_qc_seconds)]
    pub qc_seconds: f64,
    /// Picture size of the test pattern.
    #[arg(
        long,
        value_name = "WxH",
        default_value = "1920x1080",
        requires = "test_pattern"
    )]
    pub pattern_size: PatternSize,
}

fn parse_ladder_arg(text: &str) -> Result<LadderSpec, LadderError> {
    text.parse()
}

fn parse_segment_seconds(text: &str) -> Result<u32, String> {
    match text.trim() {
        "2" => Ok(2),
        "4" => Ok(4),
        "6" => Ok(6),
        other => Err(format!("`{other}` is not one of 2, 4 or 6")),
    }
}

fn parse_qc_seconds(text: &str) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(0.0..=source::MAX_PATTERN_SECONDS).contains(&v) {
        return Err(format!(
            "{text}: must be between 0 and {}",
            source::MAX_PATTERN_SECONDS
        ));
    }
    Ok(v)
}

/// Everything an encode needs, validated.
#[derive(Debug, Clone)]
pub struct EncodeOptions {
    /// What to encode.
    pub source: Source,
    /// Where the ladder goes.
    pub out: PathBuf,
    /// The ladder asked for.
    pub ladder: LadderSpec,
    /// Segment length, seconds.
    pub segment_seconds: u32,
    /// Video codec.
    pub codec: Codec,
    /// Replace `out` if it exists.
    pub force: bool,
    /// Seconds of PSNR/SSIM (0: none).
    pub qc_seconds: f64,
}

impl EncodeOptions {
    /// Options from the command line (clap has validated each value).
    pub fn from_args(args: EncodeArgs) -> Result<Self, EncodeError> {
        let source = match (args.input, args.test_pattern) {
            (Some(path), None) => Source::File(path),
            (None, Some(seconds)) => Source::TestPattern {
                seconds,
                size: args.pattern_size,
            },
            _ => {
                return Err(EncodeError::Usage(
                    "give exactly one of --input and --test-pattern",
                ));
            }
        };
        Ok(Self {
            source,
            out: args.out,
            ladder: args.ladder.unwrap_or_default(),
            segment_seconds: args.segment_seconds,
            codec: args.codec,
            force: args.force,
            qc_seconds: args.qc_seconds,
        })
    }
}

/// What went wrong in an encode.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The options contradict each other.
    #[error("{0}")]
    Usage(&'static str),
    /// The input file cannot be opened.
    #[error("--input {path}: {source}")]
    Input {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be used.
        source: std::io::Error,
    },
    /// ffmpeg or ffprobe missing or failing outside the encode.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The output directory.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The source could not be read.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// The ladder does not fit the source.
    #[error(transparent)]
    Ladder(#[from] LadderError),
    /// The encode failed.
    #[error(transparent)]
    Ffmpeg(#[from] ffmpeg::FfmpegError),
    /// The encoded media could not be measured.
    #[error(transparent)]
    Measure(#[from] MeasureError),
    /// Quality control could not run.
    #[error("quality control: {0}")]
    Qc(#[from] QcError),
    /// A too-short last segment could not be joined to the previous one.
    #[error(transparent)]
    Tail(#[from] tail::TailError),
    /// Writing a playlist or the report failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Quality control ran and failed; the ladder was kept aside, not put at `--out`.
    #[error(
        "quality control failed; the ladder was not moved to --out and is kept at {kept} for inspection"
    )]
    QcFailed {
        /// The report.
        report: Box<QcReport>,
        /// Where the ladder is.
        kept: PathBuf,
    },
}

/// A finished encode.
#[derive(Debug, Clone)]
pub struct EncodeOutcome {
    /// The ladder directory.
    pub out: PathBuf,
    /// The rungs encoded and those dropped.
    pub plan: LadderPlan,
    /// Quality control.
    pub report: QcReport,
    /// ffmpeg's warnings, if it had any.
    pub ffmpeg_warnings: Vec<String>,
    /// Time spent in ffmpeg's encode.
    pub encode_time: Duration,
    /// Time spent measuring, writing playlists and in quality control.
    pub qc_time: Duration,
}

fn status(message: &str) {
    eprintln!("collector encode: {message}");
}

/// Encodes `options.source` into a ladder at `options.out`, checks it, and moves it into
/// place only if quality control passes.
pub fn encode(options: &EncodeOptions) -> Result<EncodeOutcome, EncodeError> {
    let tools = Tools::locate()?;
    output::check_target(&options.out, options.force)?;
    // ffmpeg runs inside the output and scratch directories: give it an absolute path.
    let source = match &options.source {
        Source::File(path) => {
            let absolute = std::fs::canonicalize(path).map_err(|source| EncodeError::Input {
                path: path.clone(),
                source,
            })?;
            if !absolute.is_file() {
                return Err(EncodeError::Input {
                    path: path.clone(),
                    source: std::io::Error::other("not a regular file"),
                });
            }
            Source::File(absolute)
        }
        pattern => pattern.clone(),
    };
    let options = &EncodeOptions {
        source,
        ..options.clone()
    };
    let info = options.source.info(&tools)?;
    let plan = ladder::fit(&options.ladder, info.width, info.height)?;
    if !plan.dropped.is_empty() {
        status(&format!(
            "source is {}x{}: leaving out {} (no upscaling)",
            info.width,
            info.height,
            plan.dropped.join(", ")
        ));
    }
    let staging = Staging::create(&options.out, options.force)?;
    let job = EncodeJob {
        source: &options.source,
        info: &info,
        rungs: &plan.rungs,
        codec: options.codec,
        segment_seconds: options.segment_seconds,
    };
    let mut dirs: Vec<&str> = plan.rungs.iter().map(|r| r.name.as_str()).collect();
    if job.has_audio() {
        dirs.push(AUDIO_DIR);
    }
    for d in &dirs {
        let path = staging.path().join(d);
        std::fs::create_dir(&path).map_err(|source| EncodeError::Write { path, source })?;
    }
    status(&format!(
        "encoding {} ({} rendition{}{}, {} s segments, {:?})",
        options.source,
        plan.rungs.len(),
        if plan.rungs.len() == 1 { "" } else { "s" },
        if job.has_audio() { " + audio" } else { "" },
        options.segment_seconds,
        options.codec
    ));
    let started = Instant::now();
    let stderr = ffmpeg::run(&tools, &job, staging.path())?;
    let encode_time = started.elapsed();

    let started = Instant::now();
    status("measuring segments and writing playlists");
    write_playlists(
        &tools,
        staging.path(),
        &plan,
        &info,
        job.has_audio(),
        options.segment_seconds,
    )?;
    let quality_seconds = match info.duration_s {
        Some(d) => options.qc_seconds.min(d),
        None => options.qc_seconds,
    };
    let reference = Reference {
        source: &options.source,
        info: &info,
        seconds: quality_seconds,
    };
    status(&if quality_seconds > 0.0 {
        format!("quality control (PSNR/SSIM over the first {quality_seconds:.1} s)")
    } else {
        "quality control".to_owned()
    });
    let report = qc::check_with(
        &tools,
        staging.path(),
        (quality_seconds > 0.0).then_some(&reference),
    )?;
    let report_path = staging.path().join(QC_REPORT);
    let json = serde_json::to_vec_pretty(&report).map_err(|e| EncodeError::Write {
        path: report_path.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(&report_path, json).map_err(|source| EncodeError::Write {
        path: report_path,
        source,
    })?;
    let qc_time = started.elapsed();
    if !report.passed {
        let kept = staging.keep();
        return Err(EncodeError::QcFailed {
            report: Box::new(report),
            kept,
        });
    }
    let out = staging.commit(options.force)?;
    Ok(EncodeOutcome {
        out,
        plan,
        report,
        ffmpeg_warnings: stderr.all,
        encode_time,
        qc_time,
    })
}

/// The `seg_NNN.m4s` files of a rendition directory, in segment order.
fn segment_files(dir: &Path) -> Result<Vec<String>, EncodeError> {
    let read = std::fs::read_dir(dir).map_err(|source| MeasureError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut numbered: Vec<(u64, String)> = Vec::new();
    for entry in read {
        let entry = entry.map_err(|source| MeasureError::Read {
            path: dir.to_owned(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let number = name
            .strip_prefix("seg_")
            .and_then(|n| n.strip_suffix(".m4s"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(n) = number {
            numbered.push((n, name));
        }
    }
    numbered.sort();
    if let Some((i, (n, name))) = numbered
        .iter()
        .enumerate()
        .find(|(i, (n, _))| *n != *i as u64)
    {
        return Err(MeasureError::Invalid {
            rendition: dir.display().to_string(),
            detail: format!("segment {name} is number {n} but is at position {i}"),
        }
        .into());
    }
    Ok(numbered.into_iter().map(|(_, name)| name).collect())
}

/// Measures a rendition ffmpeg wrote (joining a sliver of a last segment onto the one
/// before), removes ffmpeg's playlist and writes ours.
fn write_media(
    tools: &Tools,
    dir: &Path,
    segment_seconds: u32,
) -> Result<RenditionMeasure, EncodeError> {
    let mut segments = segment_files(dir)?;
    let mut measured = measure::measure(&tools.ffprobe, dir, INIT_NAME, &segments)?;
    if let [.., previous, last] = measured.segments.as_slice()
        && tail::should_join(previous.duration_s, last.duration_s, segment_seconds)
        && tail::join(dir, &previous.uri, &last.uri)?
    {
        segments = segment_files(dir)?;
        measured = measure::measure(&tools.ffprobe, dir, INIT_NAME, &segments)?;
    }
    let lines: Vec<SegmentLine> = measured
        .segments
        .iter()
        .map(|s| SegmentLine {
            uri: s.uri.clone(),
            duration_s: s.duration_s,
        })
        .collect();
    let path = dir.join(MEDIA_PLAYLIST);
    std::fs::write(&path, playlist::media_playlist(INIT_NAME, &lines))
        .map_err(|source| EncodeError::Write { path, source })?;
    let scratch = dir.join(SCRATCH_PLAYLIST);
    std::fs::remove_file(&scratch).map_err(|source| EncodeError::Write {
        path: scratch,
        source,
    })?;
    Ok(measured)
}

/// Writes every media playlist and the master, from measured figures.
fn write_playlists(
    tools: &Tools,
    dir: &Path,
    plan: &LadderPlan,
    info: &SourceInfo,
    has_audio: bool,
    segment_seconds: u32,
) -> Result<(), EncodeError> {
    let audio = if has_audio {
        Some(write_media(tools, &dir.join(AUDIO_DIR), segment_seconds)?)
    } else {
        None
    };
    let (audio_peak, audio_average) = audio.as_ref().map_or((0.0, 0.0), |a| {
        (
            a.peak_bitrate(a.target_duration() as f64),
            a.average_bitrate(),
        )
    });
    let mut variants = Vec::with_capacity(plan.rungs.len());
    for rung in &plan.rungs {
        let m = write_media(tools, &dir.join(&rung.name), segment_seconds)?;
        let (width, height) = m.size.unwrap_or((rung.width, rung.height));
        let mut codecs = vec![m.codec.clone()];
        if let Some(a) = &audio {
            codecs.push(a.codec.clone());
        }
        variants.push(VariantEntry {
            uri: format!("{}/{MEDIA_PLAYLIST}", rung.name),
            bandwidth: (m.peak_bitrate(m.target_duration() as f64) + audio_peak).ceil() as u64,
            average_bandwidth: (m.average_bitrate() + audio_average).ceil() as u64,
            codecs,
            width,
            height,
            frame_rate: m.frame_rate.unwrap_or(info.frame_rate.as_f64()),
        });
    }
    let audio_entry = audio.as_ref().map(|_| AudioEntry {
        uri: format!("{AUDIO_DIR}/{MEDIA_PLAYLIST}"),
        name: "main".into(),
        language: info.language.clone(),
        channels: 2,
    });
    let path = dir.join(playlist::MASTER_PLAYLIST);
    std::fs::write(
        &path,
        playlist::master_playlist(audio_entry.as_ref(), &variants),
    )
    .map_err(|source| EncodeError::Write { path, source })
}

/// Runs an encode from the command line: prints the quality control table, and fails
/// (non-zero exit) when the encode or quality control does.
pub fn run(args: EncodeArgs) -> anyhow::Result<()> {
    let options = EncodeOptions::from_args(args)?;
    match encode(&options) {
        Ok(outcome) => {
            if !outcome.ffmpeg_warnings.is_empty() {
                status("ffmpeg warned:");
                for w in &outcome.ffmpeg_warnings {
                    eprintln!("  {w}");
                }
            }
            println!("{}", outcome.report);
            println!(
                "wrote {} ({} renditions; encode {:.1} s, measurement and QC {:.1} s)",
                outcome.out.display(),
                outcome.report.renditions.len(),
                outcome.encode_time.as_secs_f64(),
                outcome.qc_time.as_secs_f64()
            );
            Ok(())
        }
        Err(EncodeError::QcFailed { report, kept }) => {
            println!("{report}");
            anyhow::bail!(
                "quality control failed: {}\nthe ladder was not moved to {}; it is kept at {} \
                 for inspection",
                report.failures.join("; "),
                options.out.display(),
                kept.display()
            )
        }
        // Every message already carries its cause; a cause chain would repeat it.
        Err(e) => Err(anyhow::anyhow!("collector encode failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_seconds_and_qc_seconds_are_validated() {
        assert_eq!(parse_segment_seconds("6"), Ok(6));
        assert!(
            parse_segment_seconds("5")
                .unwrap_err()
                .contains("2, 4 or 6")
        );
        assert!(parse_segment_seconds("").is_err());
        assert_eq!(parse_qc_seconds("0"), Ok(0.0));
        assert!(parse_qc_seconds("-1").is_err());
        assert!(parse_qc_seconds("nan").is_err());
    }

    #[test]
    fn segment_files_are_ordered_and_contiguous() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["seg_010.m4s", "seg_002.m4s", "init.mp4", "ffmpeg.m3u8"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let err = segment_files(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("seg_002.m4s is number 2 but is at position 0"),
            "{err}"
        );
        for i in 0..10 {
            std::fs::write(dir.path().join(format!("seg_{i:03}.m4s")), "").unwrap();
        }
        std::fs::write(dir.path().join("seg_1000.m4s"), "").unwrap();
        let err = segment_files(dir.path()).unwrap_err().to_string();
        assert!(err.contains("seg_1000.m4s is number 1000"), "{err}");
        std::fs::remove_file(dir.path().join("seg_1000.m4s")).unwrap();
        let files = segment_files(dir.path()).unwrap();
        assert_eq!(files.len(), 11);
        assert_eq!(files[10], "seg_010.m4s");
    }
}
