//! Quality control of a ladder directory: reads `master.m3u8` and every playlist it names,
//! measures every rendition on disk, and checks what the playlists declare against what
//! the media holds — codecs, resolution, frame rate, segment durations, peak and average
//! bitrates — and that keyframes start every segment at the same times in every video
//! rendition. With a reference source, it adds PSNR and SSIM per rendition.
//!
//! [`check`] works on any ladder directory; `collector encode` runs [`check_with`] on
//! every ladder it makes and fails when the report does.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::measure::{self, MeasureError, MediaKind, RenditionMeasure};
use super::playlist::{self, PlaylistError};
use super::probe::SourceInfo;
use super::quality::{self, Quality, QualityError, QualityInput};
use super::source::Source;
use super::tools::{ToolError, Tools};

/// Tolerance when comparing segment start times across renditions, seconds.
pub const ALIGN_TOLERANCE_S: f64 = 0.001;
/// Largest accepted gap between a segment's `EXTINF` and its measured duration, seconds.
pub const EXTINF_TOLERANCE_S: f64 = 0.1;
/// Relative gap between declared and measured `AVERAGE-BANDWIDTH` that earns a warning.
pub const AVERAGE_TOLERANCE: f64 = 0.10;

/// Why quality control could not run (as opposed to running and finding faults, which is
/// a [`QcReport`] with `passed: false`).
#[derive(Debug, thiserror::Error)]
pub enum QcError {
    /// ffprobe or ffmpeg is missing or failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// A playlist could not be read.
    #[error(transparent)]
    Playlist(#[from] PlaylistError),
    /// A rendition could not be measured.
    #[error(transparent)]
    Measure(#[from] MeasureError),
    /// PSNR/SSIM could not be measured.
    #[error(transparent)]
    Quality(#[from] QualityError),
    /// The playlists do not describe a ladder that can be checked.
    #[error("{0}")]
    Unusable(String),
}

/// The source a ladder was made from, for PSNR and SSIM.
#[derive(Debug, Clone)]
pub struct Reference<'a> {
    /// The source.
    pub source: &'a Source,
    /// Its properties.
    pub info: &'a SourceInfo,
    /// Compare only the first this many seconds.
    pub seconds: f64,
}

/// Minimum, maximum and mean of a set of figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
}

impl Spread {
    fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let (mut min, mut max, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for v in values {
            min = min.min(v);
            max = max.max(v);
            sum += v;
            n += 1;
        }
        if n == 0 {
            return Self {
                min: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        Self {
            min,
            max,
            mean: sum / n as f64,
        }
    }
}

/// The checks of one rendition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenditionQc {
    /// Directory name, e.g. `720p` or `audio`.
    pub name: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// Its media playlist, relative to the ladder directory.
    pub playlist: String,
    /// Codec string read from its init section.
    pub codec: String,
    /// Picture width.
    pub width: Option<u32>,
    /// Picture height.
    pub height: Option<u32>,
    /// Measured frame rate.
    pub frame_rate: Option<f64>,
    /// Number of segments.
    pub segments: usize,
    /// `EXT-X-TARGETDURATION` of its playlist.
    pub target_duration_s: u64,
    /// Measured segment durations.
    pub segment_duration_s: Spread,
    /// Number of keyframes.
    pub keyframes: usize,
    /// Whether every segment starts with a keyframe.
    pub segments_start_with_keyframe: bool,
    /// Measured peak segment bit rate of this rendition alone.
    pub peak_bps: u64,
    /// Measured average segment bit rate of this rendition alone.
    pub average_bps: u64,
    /// Video variants: measured peak of video plus the audio it plays with.
    pub variant_peak_bps: Option<u64>,
    /// Video variants: measured average of video plus its audio.
    pub variant_average_bps: Option<u64>,
    /// Video variants: the `BANDWIDTH` the master declares.
    pub declared_bandwidth: Option<u64>,
    /// Video variants: the `AVERAGE-BANDWIDTH` the master declares.
    pub declared_average_bandwidth: Option<u64>,
    /// Video variants: the `CODECS` the master declares.
    pub declared_codecs: Option<String>,
    /// PSNR and SSIM against the source, when a reference was given.
    pub quality: Option<Quality>,
}

/// Keyframe alignment across the video renditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyframeQc {
    /// Every video segment starts with a keyframe, at the same time in every rendition.
    pub aligned: bool,
    /// Segment boundaries compared.
    pub boundaries: usize,
    /// Start times of the segments in the first video rendition, seconds.
    pub segment_starts_s: Vec<f64>,
}

/// The result of quality control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QcReport {
    /// No failures.
    pub passed: bool,
    /// What failed, each naming the rendition and the figures.
    pub failures: Vec<String>,
    /// Oddities that do not fail the ladder.
    pub warnings: Vec<String>,
    /// Video variants in master order, then audio renditions.
    pub renditions: Vec<RenditionQc>,
    /// Keyframe alignment.
    pub keyframes: KeyframeQc,
    /// Seconds of source PSNR and SSIM covered, when measured.
    pub quality_seconds: Option<f64>,
}

/// Checks the ladder in `dir` without a reference (no PSNR/SSIM), finding ffprobe on PATH.
pub fn check(dir: &Path) -> Result<QcReport, QcError> {
    let tools = Tools::locate()?;
    check_with(&tools, dir, None)
}

struct Measured {
    name: String,
    playlist: String,
    target_duration: u64,
    media: RenditionMeasure,
}

/// Checks the ladder in `dir`; with `reference`, also measures PSNR and SSIM.
pub fn check_with(
    tools: &Tools,
    dir: &Path,
    reference: Option<&Reference<'_>>,
) -> Result<QcReport, QcError> {
    let master_path = dir.join(playlist::MASTER_PLAYLIST);
    let master = playlist::read_master(&master_path)?;
    let mut failures = Vec::new();
    let mut warnings = Vec::new();

    // Audio renditions, by group.
    let mut audio_groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut audio: Vec<Measured> = Vec::new();
    for alt in &master.alternatives {
        if alt.media_type != m3u8_rs::AlternativeMediaType::Audio {
            continue;
        }
        let Some(uri) = &alt.uri else {
            warnings.push(format!(
                "audio rendition `{}` has no URI (muxed audio is not measured)",
                alt.name
            ));
            continue;
        };
        let m = measure_playlist(tools, dir, uri, &mut failures)?;
        audio_groups
            .entry(alt.group_id.clone())
            .or_default()
            .push(audio.len());
        audio.push(m);
    }

    let variants: Vec<_> = master.variants.iter().filter(|v| !v.is_i_frame).collect();
    if variants.is_empty() {
        return Err(QcError::Unusable(format!(
            "{} lists no variant streams",
            master_path.display()
        )));
    }
    let mut renditions = Vec::new();
    let mut video: Vec<Measured> = Vec::new();
    for v in &variants {
        let m = measure_playlist(tools, dir, &v.uri, &mut failures)?;
        if m.media.kind != MediaKind::Video {
            failures.push(format!(
                "{}: the variant's track is audio, expected video",
                m.name
            ));
        }
        let group: Vec<&Measured> = v
            .audio
            .as_ref()
            .and_then(|g| audio_groups.get(g))
            .map(|ix| ix.iter().map(|&i| &audio[i]).collect())
            .unwrap_or_default();
        if let Some(g) = &v.audio
            && group.is_empty()
        {
            failures.push(format!(
                "{}: AUDIO=\"{g}\" names no audio rendition with a URI",
                m.name
            ));
        }
        let peak = m.media.peak_bitrate(m.target_duration as f64);
        let average = m.media.average_bitrate();
        let audio_peak = group
            .iter()
            .map(|a| a.media.peak_bitrate(a.target_duration as f64))
            .fold(0.0, f64::max);
        let audio_average = group
            .iter()
            .map(|a| a.media.average_bitrate())
            .fold(0.0, f64::max);
        let variant_peak = (peak + audio_peak).ceil() as u64;
        let variant_average = (average + audio_average).ceil() as u64;
        if v.bandwidth < variant_peak {
            failures.push(format!(
                "{}: declared BANDWIDTH {} is below the measured peak {} bit/s \
                 (video {:.0} + audio {:.0})",
                m.name, v.bandwidth, variant_peak, peak, audio_peak
            ));
        }
        match v.average_bandwidth {
            Some(declared) => {
                let gap = (declared as f64 - variant_average as f64).abs();
                if gap > AVERAGE_TOLERANCE * variant_average as f64 {
                    warnings.push(format!(
                        "{}: declared AVERAGE-BANDWIDTH {declared} is more than {:.0}% away \
                         from the measured {variant_average} bit/s",
                        m.name,
                        AVERAGE_TOLERANCE * 100.0
                    ));
                }
            }
            None => warnings.push(format!("{}: no AVERAGE-BANDWIDTH", m.name)),
        }
        // CODECS must name exactly the codecs of the streams it plays.
        let mut measured_codecs: Vec<String> = vec![m.media.codec.clone()];
        for a in &group {
            if !measured_codecs.contains(&a.media.codec) {
                measured_codecs.push(a.media.codec.clone());
            }
        }
        match &v.codecs {
            Some(declared) => {
                let mut d: Vec<&str> = declared.split(',').map(str::trim).collect();
                let mut e: Vec<&str> = measured_codecs.iter().map(String::as_str).collect();
                d.sort_unstable();
                e.sort_unstable();
                if d != e {
                    failures.push(format!(
                        "{}: CODECS=\"{declared}\" but the streams are {}",
                        m.name,
                        measured_codecs.join(",")
                    ));
                }
            }
            None => failures.push(format!("{}: no CODECS attribute", m.name)),
        }
        if let Some((w, h)) = m.media.size {
            match &v.resolution {
                Some(r) if (r.width, r.height) == (u64::from(w), u64::from(h)) => {}
                Some(r) => failures.push(format!(
                    "{}: RESOLUTION={}x{} but the stream is {w}x{h}",
                    m.name, r.width, r.height
                )),
                None => warnings.push(format!("{}: no RESOLUTION", m.name)),
            }
        }
        if let (Some(declared), Some(measured)) = (v.frame_rate, m.media.frame_rate)
            && (declared - measured).abs() > 0.01
        {
            failures.push(format!(
                "{}: FRAME-RATE={declared:.3} but the stream runs at {measured:.3}",
                m.name
            ));
        }
        renditions.push(rendition_qc(
            &m,
            Some(Declared {
                bandwidth: v.bandwidth,
                average_bandwidth: v.average_bandwidth,
                codecs: v.codecs.clone(),
                variant_peak,
                variant_average,
            }),
        ));
        video.push(m);
    }
    for a in &audio {
        renditions.push(rendition_qc(a, None));
    }

    let keyframes = check_keyframes(&video, &mut failures);

    let mut quality_seconds = None;
    if let Some(reference) = reference {
        let video_rows: Vec<usize> = renditions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == MediaKind::Video)
            .map(|(i, _)| i)
            .collect();
        let inputs: Vec<QualityInput> = video
            .iter()
            .map(|m| quality_input(dir, m, reference.seconds))
            .collect::<Result<_, _>>()?;
        let run = quality::measure(
            tools,
            reference.source,
            reference.info,
            &inputs,
            reference.seconds,
        )?;
        if !run.errors.is_empty() {
            failures.push(format!(
                "ffmpeg reported errors while decoding the renditions: {}",
                run.errors
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
        for (row, q) in video_rows.into_iter().zip(run.results) {
            renditions[row].quality = Some(q);
        }
        quality_seconds = Some(reference.seconds);
    }

    Ok(QcReport {
        passed: failures.is_empty(),
        failures,
        warnings,
        renditions,
        keyframes,
        quality_seconds,
    })
}

struct Declared {
    bandwidth: u64,
    average_bandwidth: Option<u64>,
    codecs: Option<String>,
    variant_peak: u64,
    variant_average: u64,
}

fn rendition_qc(m: &Measured, declared: Option<Declared>) -> RenditionQc {
    let media = &m.media;
    RenditionQc {
        name: m.name.clone(),
        kind: media.kind,
        playlist: m.playlist.clone(),
        codec: media.codec.clone(),
        width: media.size.map(|s| s.0),
        height: media.size.map(|s| s.1),
        frame_rate: media.frame_rate,
        segments: media.segments.len(),
        target_duration_s: m.target_duration,
        segment_duration_s: Spread::of(media.segments.iter().map(|s| s.duration_s)),
        keyframes: media.keyframes_s.len(),
        segments_start_with_keyframe: media.segments.iter().all(|s| s.starts_with_keyframe),
        peak_bps: media.peak_bitrate(m.target_duration as f64).ceil() as u64,
        average_bps: media.average_bitrate().ceil() as u64,
        variant_peak_bps: declared.as_ref().map(|d| d.variant_peak),
        variant_average_bps: declared.as_ref().map(|d| d.variant_average),
        declared_bandwidth: declared.as_ref().map(|d| d.bandwidth),
        declared_average_bandwidth: declared.as_ref().and_then(|d| d.average_bandwidth),
        declared_codecs: declared.and_then(|d| d.codecs),
        quality: None,
    }
}

/// Reads a media playlist at `uri` (relative to `dir`), measures its media and checks its
/// own declarations (end list, init section, durations).
fn measure_playlist(
    tools: &Tools,
    dir: &Path,
    uri: &str,
    failures: &mut Vec<String>,
) -> Result<Measured, QcError> {
    let path = playlist::local_path(dir, uri).map_err(QcError::Unusable)?;
    let name = Path::new(uri)
        .parent()
        .and_then(|p| p.file_name())
        .map_or_else(|| uri.to_owned(), |n| n.to_string_lossy().into_owned());
    let media = playlist::read_media(&path)?;
    let base = path.parent().unwrap_or(dir);
    if !media.end_list {
        failures.push(format!("{name}: no EXT-X-ENDLIST (a VOD ladder must end)"));
    }
    let Some(first) = media.segments.first() else {
        return Err(QcError::Unusable(format!("{uri} lists no segments")));
    };
    let Some(map) = &first.map else {
        return Err(QcError::Unusable(format!(
            "{uri} has no EXT-X-MAP before its first segment (fMP4 needs an init section)"
        )));
    };
    if media.segments.iter().skip(1).any(|s| s.map.is_some()) || map.byte_range.is_some() {
        return Err(QcError::Unusable(format!(
            "{uri}: several or byte-range init sections are not supported"
        )));
    }
    if media.segments.iter().any(|s| s.byte_range.is_some()) {
        return Err(QcError::Unusable(format!(
            "{uri}: byte-range segments are not supported"
        )));
    }
    for s in std::iter::once(&map.uri).chain(media.segments.iter().map(|s| &s.uri)) {
        playlist::local_path(base, s).map_err(|e| QcError::Unusable(format!("{uri}: {e}")))?;
    }
    let segment_uris: Vec<String> = media.segments.iter().map(|s| s.uri.clone()).collect();
    let measured = measure::measure(&tools.ffprobe, base, &map.uri, &segment_uris)?;
    for (declared, m) in media.segments.iter().zip(&measured.segments) {
        let extinf = f64::from(declared.duration);
        if (extinf - m.duration_s).abs() > EXTINF_TOLERANCE_S {
            failures.push(format!(
                "{name}: {} is listed as {extinf:.3} s but lasts {:.3} s",
                m.uri, m.duration_s
            ));
        }
        if m.duration_s.round() as u64 > media.target_duration {
            failures.push(format!(
                "{name}: {} lasts {:.3} s, above EXT-X-TARGETDURATION {}",
                m.uri, m.duration_s, media.target_duration
            ));
        }
    }
    Ok(Measured {
        name,
        playlist: uri.to_owned(),
        target_duration: media.target_duration,
        media: measured,
    })
}

/// Every video segment starts with a keyframe; all video renditions have as many
/// segments, starting at the same times.
fn check_keyframes(video: &[Measured], failures: &mut Vec<String>) -> KeyframeQc {
    let before = failures.len();
    for m in video {
        if let Some(s) = m.media.segments.iter().find(|s| !s.starts_with_keyframe) {
            failures.push(format!(
                "{}: {} does not start with a keyframe",
                m.name, s.uri
            ));
        }
    }
    let Some(first) = video.first() else {
        return KeyframeQc {
            aligned: false,
            boundaries: 0,
            segment_starts_s: Vec::new(),
        };
    };
    let starts: Vec<f64> = first.media.segments.iter().map(|s| s.start_s).collect();
    for m in &video[1..] {
        if m.media.segments.len() != starts.len() {
            failures.push(format!(
                "keyframes not aligned: {} has {} segments, {} has {}",
                m.name,
                m.media.segments.len(),
                first.name,
                starts.len()
            ));
            continue;
        }
        if let Some((i, (s, t))) = m
            .media
            .segments
            .iter()
            .zip(&starts)
            .enumerate()
            .find(|(_, (s, t))| (s.start_s - **t).abs() > ALIGN_TOLERANCE_S)
        {
            failures.push(format!(
                "keyframes not aligned: segment {i} starts at {:.3} s in {} but at {t:.3} s in {}",
                s.start_s, m.name, first.name
            ));
        }
    }
    KeyframeQc {
        aligned: failures.len() == before,
        boundaries: starts.len(),
        segment_starts_s: starts,
    }
}

/// The init section and enough leading segments to cover `seconds`.
fn quality_input(dir: &Path, m: &Measured, seconds: f64) -> Result<QualityInput, QcError> {
    let path = playlist::local_path(dir, &m.playlist).map_err(QcError::Unusable)?;
    let base = path.parent().unwrap_or(dir);
    let media = playlist::read_media(&path)?;
    let map = media
        .segments
        .first()
        .and_then(|s| s.map.as_ref())
        .ok_or_else(|| QcError::Unusable(format!("{} has no EXT-X-MAP", m.playlist)))?;
    let mut files = vec![base.join(&map.uri)];
    let mut covered = 0.0;
    for s in &m.media.segments {
        if covered >= seconds {
            break;
        }
        files.push(base.join(&s.uri));
        covered += s.duration_s;
    }
    Ok(QualityInput { files })
}

fn kbps(bps: u64) -> String {
    format!("{}", (bps as f64 / 1000.0).round() as u64)
}

impl fmt::Display for QcReport {
    /// The report as a table, then the verdict with every failure and warning.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<9} {:>9} {:<14} {:>4} {:>20} {:>7} {:>7} {:>8} {:>9} {:>7} {:>6} {:>4}",
            "rendition",
            "size",
            "codec",
            "segs",
            "seg s min/mean/max",
            "peak",
            "avg",
            "+audio",
            "BANDWIDTH",
            "PSNR dB",
            "SSIM",
            "keys"
        )?;
        for r in &self.renditions {
            let size = match (r.width, r.height) {
                (Some(w), Some(h)) => format!("{w}x{h}"),
                _ => "-".into(),
            };
            let d = r.segment_duration_s;
            let spread = format!("{:.3}/{:.3}/{:.3}", d.min, d.mean, d.max);
            let (psnr, ssim) = match &r.quality {
                Some(q) => (format!("{:.2}", q.psnr_db), format!("{:.4}", q.ssim)),
                None => ("-".into(), "-".into()),
            };
            let keys = match r.kind {
                MediaKind::Video if r.segments_start_with_keyframe => "ok",
                MediaKind::Video => "BAD",
                MediaKind::Audio => "-",
            };
            writeln!(
                f,
                "{:<9} {:>9} {:<14} {:>4} {:>20} {:>7} {:>7} {:>8} {:>9} {:>7} {:>6} {:>4}",
                r.name,
                size,
                r.codec,
                r.segments,
                spread,
                kbps(r.peak_bps),
                kbps(r.average_bps),
                r.variant_peak_bps.map_or("-".into(), kbps),
                r.declared_bandwidth.map_or("-".into(), kbps),
                psnr,
                ssim,
                keys
            )?;
        }
        writeln!(
            f,
            "(bitrates in kbit/s; peak = HLS peak segment bit rate; +audio = with the audio it plays with{})",
            match self.quality_seconds {
                Some(s) => format!("; PSNR/SSIM over the first {s} s"),
                None => String::new(),
            }
        )?;
        writeln!(
            f,
            "keyframes: {} at {} segment boundaries",
            if self.keyframes.aligned {
                "aligned"
            } else {
                "NOT aligned"
            },
            self.keyframes.boundaries
        )?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        if self.passed {
            write!(f, "QC passed")
        } else {
            writeln!(f, "QC FAILED:")?;
            for (i, failure) in self.failures.iter().enumerate() {
                if i > 0 {
                    writeln!(f)?;
                }
                write!(f, "  - {failure}")?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::measure::SegmentMeasure;

    fn rendition(name: &str, starts: &[f64], keys: &[bool]) -> Measured {
        Measured {
            name: name.into(),
            playlist: format!("{name}/index.m3u8"),
            target_duration: 2,
            media: RenditionMeasure {
                kind: MediaKind::Video,
                codec: "avc1.640028".into(),
                size: Some((640, 360)),
                frame_rate: Some(30.0),
                init_bytes: 800,
                segments: starts
                    .iter()
                    .zip(keys)
                    .enumerate()
                    .map(|(i, (&s, &k))| SegmentMeasure {
                        uri: format!("seg_{i:03}.m4s"),
                        bytes: 1000,
                        start_s: s,
                        duration_s: 2.0,
                        starts_with_keyframe: k,
                    })
                    .collect(),
                keyframes_s: starts.to_vec(),
            },
        }
    }

    #[test]
    fn keyframe_alignment_failures_name_renditions_and_times() {
        let a = rendition("720p", &[0.066, 2.066, 4.066], &[true, true, true]);
        let b = rendition("360p", &[0.066, 2.066, 4.066], &[true, true, true]);
        let mut failures = Vec::new();
        let k = check_keyframes(&[a, b], &mut failures);
        assert!(k.aligned && failures.is_empty(), "{failures:?}");
        assert_eq!(k.boundaries, 3);

        let a = rendition("720p", &[0.066, 2.066, 4.066], &[true, true, true]);
        let b = rendition("360p", &[0.066, 2.1, 4.066], &[true, false, true]);
        let c = rendition("240p", &[0.066, 2.066], &[true, true]);
        let mut failures = Vec::new();
        let k = check_keyframes(&[a, b, c], &mut failures);
        assert!(!k.aligned);
        assert_eq!(
            failures,
            [
                "360p: seg_001.m4s does not start with a keyframe",
                "keyframes not aligned: segment 1 starts at 2.100 s in 360p but at 2.066 s in 720p",
                "keyframes not aligned: 240p has 2 segments, 720p has 3",
            ]
        );
    }

    #[test]
    fn report_table_and_verdict() {
        let m = rendition("720p", &[0.0, 2.0], &[true, true]);
        let mut row = rendition_qc(
            &m,
            Some(Declared {
                bandwidth: 9000,
                average_bandwidth: Some(8000),
                codecs: Some("avc1.640028,mp4a.40.2".into()),
                variant_peak: 8500,
                variant_average: 8100,
            }),
        );
        assert_eq!(row.peak_bps, 4000);
        assert_eq!(row.segment_duration_s.mean, 2.0);
        row.quality = Some(Quality {
            frames: 60,
            psnr_db: 41.234,
            psnr_min_db: 39.0,
            ssim: 0.98765,
            ssim_min: 0.97,
        });
        let report = QcReport {
            passed: false,
            failures: vec!["720p: declared BANDWIDTH 9000 is below the measured peak 9500".into()],
            warnings: vec![],
            renditions: vec![row],
            keyframes: KeyframeQc {
                aligned: true,
                boundaries: 2,
                segment_starts_s: vec![0.0, 2.0],
            },
            quality_seconds: Some(4.0),
        };
        let text = report.to_string();
        assert!(text.contains("720p"), "{text}");
        assert!(text.contains("41.23"), "{text}");
        assert!(text.contains("0.9877"), "{text}");
        assert!(text.contains("2.000/2.000/2.000"), "{text}");
        assert!(
            text.contains("QC FAILED:\n  - 720p: declared BANDWIDTH"),
            "{text}"
        );
        let json = serde_json::to_string(&report).unwrap();
        let back: QcReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
}
