//! Picture quality of renditions against their source: PSNR and SSIM from ffmpeg's
//! `psnr` and `ssim` filters, each rendition scaled back to the source size, over the
//! first seconds of the source. One ffmpeg run decodes the source once for every
//! rendition; per-frame statistics are read from the filters' stats files.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::probe::SourceInfo;
use super::source::Source;
use super::tools::{ToolError, Tools, run_captured};

/// PSNR reported for frames identical to the source (whose PSNR is infinite).
pub const PSNR_CAP_DB: f64 = 100.0;

/// What went wrong measuring quality.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// ffmpeg failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// Temporary files could not be written or read.
    #[error("quality check scratch files: {0}")]
    Io(#[from] std::io::Error),
    /// A stats file did not hold what the filter writes.
    #[error("{file}: {detail}")]
    Stats {
        /// The stats file.
        file: String,
        /// What was wrong.
        detail: String,
    },
}

/// Quality of one rendition against the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Frames compared.
    pub frames: usize,
    /// PSNR over all frames and planes (from the mean squared error), dB.
    pub psnr_db: f64,
    /// Lowest per-frame PSNR, dB.
    pub psnr_min_db: f64,
    /// Mean SSIM over all planes.
    pub ssim: f64,
    /// Lowest per-frame SSIM.
    pub ssim_min: f64,
}

/// A rendition to compare: the files of its first segments (init first).
#[derive(Debug, Clone)]
pub struct QualityInput {
    /// Init section followed by media segments.
    pub files: Vec<PathBuf>,
}

/// Results of a quality run: one [`Quality`] per input, and ffmpeg's complaints
/// (decode errors) if it had any.
#[derive(Debug, Clone)]
pub struct QualityRun {
    /// Per input, in order.
    pub results: Vec<Quality>,
    /// ffmpeg's stderr at `-loglevel error`.
    pub errors: Vec<String>,
}

/// Compares every input with the first `seconds` of `source`.
pub fn measure(
    tools: &Tools,
    source: &Source,
    info: &SourceInfo,
    inputs: &[QualityInput],
    seconds: f64,
) -> Result<QualityRun, QualityError> {
    let scratch = tempfile::Builder::new().prefix("collector-qc-").tempdir()?;
    let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-nostats"]
        .map(OsString::from)
        .to_vec();
    args.extend(source.input_args(Some(seconds), true));
    for (i, input) in inputs.iter().enumerate() {
        let joined = scratch.path().join(format!("rendition_{i}.mp4"));
        let mut out = File::create(&joined)?;
        for f in &input.files {
            std::io::copy(&mut File::open(f)?, &mut out)?;
        }
        args.extend(["-t".into(), format!("{seconds:.3}").into(), "-i".into()]);
        args.push(joined.into_os_string());
    }
    args.push("-filter_complex".into());
    args.push(filter_graph(source, info, inputs.len()).into());
    for i in 0..inputs.len() {
        args.extend([
            "-map".into(),
            format!("[p{i}]").into(),
            "-map".into(),
            format!("[q{i}]").into(),
        ]);
    }
    args.extend(["-f", "null", "-"].map(OsString::from));
    let mut command = Command::new(&tools.ffmpeg);
    command.args(&args).current_dir(scratch.path());
    let (_, stderr) = run_captured("ffmpeg", command, "measuring PSNR and SSIM")?;
    let mut results = Vec::with_capacity(inputs.len());
    for i in 0..inputs.len() {
        let psnr = read_stats(scratch.path(), &format!("psnr_{i}.log"))?;
        let ssim = read_stats(scratch.path(), &format!("ssim_{i}.log"))?;
        results.push(
            summarise(&psnr, &ssim).map_err(|detail| QualityError::Stats {
                file: format!("psnr_{i}.log / ssim_{i}.log"),
                detail,
            })?,
        );
    }
    Ok(QualityRun {
        results,
        errors: stderr.all,
    })
}

/// Source (input 0) prepared as the encoder saw it and scaled to its display size, split
/// two ways per rendition; each rendition (inputs 1…) scaled back to that size; a `psnr`
/// and an `ssim` per rendition, writing `psnr_N.log` and `ssim_N.log`.
fn filter_graph(source: &Source, info: &SourceInfo, renditions: usize) -> String {
    let prepare = format!(
        "scale={}:{}:flags=bicubic,setsar=1,format=yuv420p,setpts=PTS-STARTPTS,settb=AVTB",
        info.width, info.height
    );
    let mut graph = format!(
        "{},{prepare},split={}",
        source.video_prelude(info),
        2 * renditions
    );
    for i in 0..2 * renditions {
        graph.push_str(&format!("[r{i}]"));
    }
    for i in 0..renditions {
        graph.push_str(&format!(
            ";[{}:v:0]{prepare},split[da{i}][db{i}]\
             ;[da{i}][r{}]psnr=stats_file=psnr_{i}.log:shortest=1[p{i}]\
             ;[db{i}][r{}]ssim=stats_file=ssim_{i}.log:shortest=1[q{i}]",
            i + 1,
            2 * i,
            2 * i + 1
        ));
    }
    graph
}

fn read_stats(dir: &Path, name: &str) -> Result<String, QualityError> {
    std::fs::read_to_string(dir.join(name)).map_err(|e| QualityError::Stats {
        file: name.to_owned(),
        detail: format!("not written by ffmpeg ({e})"),
    })
}

/// The value of `key:` on a stats line (`n:1 mse_avg:0.60 … psnr_avg:50.34`).
fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace().find_map(|part| {
        let value = part.strip_prefix(key)?.strip_prefix(':')?;
        if value == "inf" {
            Some(f64::INFINITY)
        } else {
            value.parse().ok()
        }
    })
}

/// Summarises `psnr` and `ssim` stats files.
pub fn summarise(psnr: &str, ssim: &str) -> Result<Quality, String> {
    let mut mse_sum = 0.0;
    let mut psnr_min = f64::INFINITY;
    let mut frames = 0usize;
    for line in psnr.lines().filter(|l| !l.trim().is_empty()) {
        let mse = field(line, "mse_avg").ok_or_else(|| format!("no mse_avg in `{line}`"))?;
        let p = field(line, "psnr_avg").ok_or_else(|| format!("no psnr_avg in `{line}`"))?;
        mse_sum += mse;
        psnr_min = psnr_min.min(p);
        frames += 1;
    }
    let mut ssim_sum = 0.0;
    let mut ssim_min = f64::INFINITY;
    let mut ssim_frames = 0usize;
    for line in ssim.lines().filter(|l| !l.trim().is_empty()) {
        let all = field(line, "All").ok_or_else(|| format!("no All in `{line}`"))?;
        ssim_sum += all;
        ssim_min = ssim_min.min(all);
        ssim_frames += 1;
    }
    if frames == 0 || ssim_frames == 0 {
        return Err("no frames were compared".into());
    }
    let mse = mse_sum / frames as f64;
    let psnr_db = if mse > 0.0 {
        (10.0 * (255.0f64 * 255.0 / mse).log10()).min(PSNR_CAP_DB)
    } else {
        PSNR_CAP_DB
    };
    Ok(Quality {
        frames,
        psnr_db,
        psnr_min_db: psnr_min.min(PSNR_CAP_DB),
        ssim: ssim_sum / ssim_frames as f64,
        ssim_min,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::source::PatternSize;

    #[test]
    fn stats_files_are_summarised() {
        let psnr = "n:1 mse_avg:0.60 mse_y:0.58 mse_u:0.69 mse_v:0.61 psnr_avg:50.34 psnr_y:50.51 \n\
                    n:2 mse_avg:6.00 mse_y:5.8 mse_u:6.9 mse_v:6.1 psnr_avg:40.35 psnr_y:40.5 \n";
        let ssim = "n:1 Y:0.998892 U:0.998869 V:0.998944 All:0.998897 (29.573247)\n\
                    n:2 Y:0.98 U:0.98 V:0.98 All:0.980000 (16.9)\n";
        let q = summarise(psnr, ssim).unwrap();
        assert_eq!(q.frames, 2);
        // PSNR from the mean MSE (3.3), not the mean of per-frame PSNRs.
        assert!(
            (q.psnr_db - 10.0 * (65025.0f64 / 3.3).log10()).abs() < 1e-9,
            "{q:?}"
        );
        assert_eq!(q.psnr_min_db, 40.35);
        assert!((q.ssim - 0.9894485).abs() < 1e-9);
        assert_eq!(q.ssim_min, 0.98);

        let identical = summarise(
            "n:1 mse_avg:0.00 psnr_avg:inf\n",
            "n:1 All:1.000000 (inf)\n",
        );
        assert_eq!(identical.unwrap().psnr_db, PSNR_CAP_DB);
        assert!(summarise("", "").unwrap_err().contains("no frames"));
        assert!(
            summarise("garbage\n", "n:1 All:1\n")
                .unwrap_err()
                .contains("mse_avg")
        );
    }

    #[test]
    fn graph_compares_every_rendition_at_source_size() {
        let source = Source::TestPattern {
            seconds: 4.0,
            size: PatternSize {
                width: 640,
                height: 360,
            },
        };
        let info = SourceInfo {
            width: 640,
            height: 360,
            frame_rate: crate::encode::probe::Rational { num: 30, den: 1 },
            duration_s: Some(4.0),
            has_audio: true,
            language: None,
        };
        let g = filter_graph(&source, &info, 2);
        assert!(g.contains("split=4[r0][r1][r2][r3]"), "{g}");
        assert!(g.contains("[2:v:0]scale=640:360"), "{g}");
        assert!(
            g.contains("[da1][r2]psnr=stats_file=psnr_1.log:shortest=1[p1]"),
            "{g}"
        );
        assert!(
            g.contains("[db1][r3]ssim=stats_file=ssim_1.log:shortest=1[q1]"),
            "{g}"
        );
    }
}
