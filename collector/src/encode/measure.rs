//! Measuring a rendition on disk: its codec (from the init section's boxes), and per
//! segment its size, start, duration and whether it starts with a keyframe (from
//! ffprobe's packets of init + segments read as one stream); then the HLS bitrates
//! (peak segment bit rate and average segment bit rate, RFC 8216bis §4.4.6.2 / §7).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::mp4::{self, Mp4Error, TrackKind};
use super::probe::{self, Packet, ProbeError, Rational};

/// What went wrong measuring a rendition.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The init section could not be understood.
    #[error("{path}: {source}")]
    Init {
        /// The init section.
        path: PathBuf,
        /// What was wrong.
        source: Mp4Error,
    },
    /// ffprobe failed.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// The media does not look like the playlist says.
    #[error("{rendition}: {detail}")]
    Invalid {
        /// Rendition directory or playlist.
        rendition: String,
        /// What was wrong.
        detail: String,
    },
}

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A video track.
    Video,
    /// An audio track.
    Audio,
}

/// One measured segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeasure {
    /// URI relative to its playlist.
    pub uri: String,
    /// File size in bytes.
    pub bytes: u64,
    /// Earliest presentation time of its samples, seconds.
    pub start_s: f64,
    /// Sum of its samples' durations, seconds.
    pub duration_s: f64,
    /// Whether its first sample (in decode order) is a keyframe.
    pub starts_with_keyframe: bool,
}

/// A measured rendition.
#[derive(Debug, Clone, PartialEq)]
pub struct RenditionMeasure {
    /// Audio or video.
    pub kind: MediaKind,
    /// RFC 6381 codec string read from the init section.
    pub codec: String,
    /// Picture size of a video track.
    pub size: Option<(u32, u32)>,
    /// Frames per second of a video track (frames over duration).
    pub frame_rate: Option<f64>,
    /// Init section size in bytes.
    pub init_bytes: u64,
    /// The segments, in playlist order.
    pub segments: Vec<SegmentMeasure>,
    /// Presentation times of every keyframe, seconds.
    pub keyframes_s: Vec<f64>,
}

/// Measures the rendition in `dir` made of `init` and `segments` (URIs relative to `dir`).
pub fn measure(
    ffprobe: &Path,
    dir: &Path,
    init: &str,
    segments: &[String],
) -> Result<RenditionMeasure, MeasureError> {
    let rendition = dir.display().to_string();
    let invalid = |detail: String| MeasureError::Invalid {
        rendition: rendition.clone(),
        detail,
    };
    if segments.is_empty() {
        return Err(invalid("no segments".into()));
    }
    let init_path = dir.join(init);
    let init_bytes = std::fs::read(&init_path).map_err(|source| MeasureError::Read {
        path: init_path.clone(),
        source,
    })?;
    let tracks = mp4::track_codecs(&init_bytes).map_err(|source| MeasureError::Init {
        path: init_path.clone(),
        source,
    })?;
    let [track] = tracks.as_slice() else {
        return Err(invalid(format!(
            "{init} holds {} tracks; a CMAF track file holds one",
            tracks.len()
        )));
    };
    let kind = match track.kind {
        TrackKind::Video => MediaKind::Video,
        TrackKind::Audio => MediaKind::Audio,
        TrackKind::Other(h) => return Err(invalid(format!("{init} holds a `{h}` track"))),
    };
    let mut files = vec![init_path];
    let mut sizes = Vec::with_capacity(segments.len());
    for uri in segments {
        let path = dir.join(uri);
        let len = std::fs::metadata(&path)
            .map_err(|source| MeasureError::Read {
                path: path.clone(),
                source,
            })?
            .len();
        sizes.push(len);
        files.push(path);
    }
    let (stream, packets) = probe::probe_track(ffprobe, &files)?;
    let time_base = stream
        .time_base
        .as_deref()
        .and_then(Rational::parse)
        .ok_or_else(|| invalid(format!("no usable time base ({:?})", stream.time_base)))?;
    let size = match kind {
        MediaKind::Video => match (stream.width, stream.height) {
            (Some(w), Some(h)) => Some((
                u32::try_from(w).map_err(|_| invalid(format!("width {w}")))?,
                u32::try_from(h).map_err(|_| invalid(format!("height {h}")))?,
            )),
            _ => return Err(invalid("the video track has no picture size".into())),
        },
        MediaKind::Audio => None,
    };
    let split =
        split_segments(init_bytes.len() as u64, &sizes, &packets, time_base).map_err(invalid)?;
    let segments: Vec<SegmentMeasure> = segments
        .iter()
        .zip(&sizes)
        .zip(split.segments)
        .map(|((uri, &bytes), s)| SegmentMeasure {
            uri: uri.clone(),
            bytes,
            start_s: s.start_s,
            duration_s: s.duration_s,
            starts_with_keyframe: s.starts_with_keyframe,
        })
        .collect();
    let total: f64 = segments.iter().map(|s| s.duration_s).sum();
    let frame_rate =
        (kind == MediaKind::Video && total > 0.0).then(|| packets.len() as f64 / total);
    Ok(RenditionMeasure {
        kind,
        codec: track.codec.clone(),
        size,
        frame_rate,
        init_bytes: init_bytes.len() as u64,
        segments,
        keyframes_s: split.keyframes_s,
    })
}

/// Per-segment timing derived from packets.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentTiming {
    /// Earliest presentation time, seconds.
    pub start_s: f64,
    /// Sum of sample durations, seconds.
    pub duration_s: f64,
    /// First sample in decode order is a keyframe.
    pub starts_with_keyframe: bool,
}

/// Packets assigned to segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// One entry per segment.
    pub segments: Vec<SegmentTiming>,
    /// Every keyframe's presentation time, seconds.
    pub keyframes_s: Vec<f64>,
}

/// Assigns packets to segments by byte position: the stream is the init section
/// (`init_len` bytes) followed by segments of `sizes` bytes.
pub fn split_segments(
    init_len: u64,
    sizes: &[u64],
    packets: &[Packet],
    time_base: Rational,
) -> Result<Split, String> {
    let tb = time_base.as_f64();
    let mut starts = Vec::with_capacity(sizes.len());
    let mut offset = init_len;
    for &s in sizes {
        starts.push(offset);
        offset += s;
    }
    let end = offset;
    let durations = packet_durations(packets);
    let mut acc: Vec<Option<(i64, i64, bool)>> = vec![None; sizes.len()];
    let mut keyframes_s = Vec::new();
    for (n, p) in packets.iter().enumerate() {
        let pos = p
            .pos
            .ok_or_else(|| format!("packet {n} has no byte position"))?;
        let pts = p
            .pts
            .or(p.dts)
            .ok_or_else(|| format!("packet {n} has no timestamp"))?;
        let duration = durations[n].ok_or_else(|| format!("packet {n} has no duration"))?;
        if pos < init_len || pos >= end {
            return Err(format!(
                "packet {n} at byte {pos} lies outside the segments (bytes {init_len}..{end})"
            ));
        }
        let index = starts.partition_point(|&s| s <= pos) - 1;
        let key = p.is_keyframe();
        if key {
            keyframes_s.push(pts as f64 * tb);
        }
        acc[index] = Some(match acc[index] {
            None => (pts, duration, key),
            Some((start, total, first_key)) => (start.min(pts), total + duration, first_key),
        });
    }
    let segments = acc
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let (start, total, first_key) =
                a.ok_or_else(|| format!("segment {i} holds no samples"))?;
            Ok(SegmentTiming {
                start_s: start as f64 * tb,
                duration_s: total as f64 * tb,
                starts_with_keyframe: first_key,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Split {
        segments,
        keyframes_s,
    })
}

/// Each packet's duration: as ffprobe gives it, else the gap to the next packet's decode
/// time, else the previous packet's duration (ffprobe leaves out the duration of an audio
/// packet partly trimmed by an edit list, such as the encoder-delay packet of AAC).
fn packet_durations(packets: &[Packet]) -> Vec<Option<i64>> {
    let mut out: Vec<Option<i64>> = Vec::with_capacity(packets.len());
    for (i, p) in packets.iter().enumerate() {
        let given = p.duration.filter(|d| *d > 0);
        let gap = || {
            let this = p.dts.or(p.pts)?;
            let next = packets.get(i + 1)?;
            let next = next.dts.or(next.pts)?;
            (next > this).then(|| next - this)
        };
        let previous = || out.last().copied().flatten();
        out.push(given.or_else(gap).or_else(previous));
    }
    out
}

/// `EXT-X-TARGETDURATION` for these segment durations: the largest duration rounded to the
/// nearest integer, at least 1.
pub fn target_duration(durations: impl IntoIterator<Item = f64>) -> u64 {
    durations
        .into_iter()
        .map(|d| d.round().max(1.0) as u64)
        .max()
        .unwrap_or(1)
}

/// The peak segment bit rate (bit/s) of segments given as `(bytes, seconds)`: the largest
/// bit rate of any contiguous run of segments lasting between 0.5 and 1.5 times the target
/// duration. If no run qualifies (e.g. one very short segment), the largest single-segment
/// bit rate.
pub fn peak_bitrate(segments: &[(u64, f64)], target_duration_s: f64) -> f64 {
    let low = 0.5 * target_duration_s;
    let high = 1.5 * target_duration_s;
    let mut peak: Option<f64> = None;
    for i in 0..segments.len() {
        let (mut bytes, mut seconds) = (0u64, 0.0f64);
        for &(b, d) in &segments[i..] {
            bytes += b;
            seconds += d;
            if seconds > high {
                break;
            }
            if seconds >= low && seconds > 0.0 {
                let rate = bytes as f64 * 8.0 / seconds;
                peak = Some(peak.map_or(rate, |p: f64| p.max(rate)));
            }
        }
    }
    peak.unwrap_or_else(|| {
        segments
            .iter()
            .filter(|(_, d)| *d > 0.0)
            .map(|&(b, d)| b as f64 * 8.0 / d)
            .fold(0.0, f64::max)
    })
}

/// The average segment bit rate (bit/s): all segment bytes over the total duration.
pub fn average_bitrate(segments: &[(u64, f64)]) -> f64 {
    let bytes: u64 = segments.iter().map(|s| s.0).sum();
    let seconds: f64 = segments.iter().map(|s| s.1).sum();
    if seconds > 0.0 {
        bytes as f64 * 8.0 / seconds
    } else {
        0.0
    }
}

impl RenditionMeasure {
    /// `(bytes, seconds)` per segment.
    pub fn sizes(&self) -> Vec<(u64, f64)> {
        self.segments
            .iter()
            .map(|s| (s.bytes, s.duration_s))
            .collect()
    }

    /// Target duration of these segments.
    pub fn target_duration(&self) -> u64 {
        target_duration(self.segments.iter().map(|s| s.duration_s))
    }

    /// Peak segment bit rate against `target_duration_s`.
    pub fn peak_bitrate(&self, target_duration_s: f64) -> f64 {
        peak_bitrate(&self.sizes(), target_duration_s)
    }

    /// Average segment bit rate.
    pub fn average_bitrate(&self) -> f64 {
        average_bitrate(&self.sizes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pts: i64, duration: i64, pos: u64, key: bool) -> Packet {
        Packet {
            pts: Some(pts),
            dts: Some(pts),
            duration: Some(duration),
            size: Some(10),
            pos: Some(pos),
            flags: Some(if key { "K_" } else { "__" }.into()),
        }
    }

    #[test]
    fn peak_follows_the_hls_definition() {
        // Target 2 s: single 2 s segments qualify (1..=3 s), pairs of 2 s do not.
        let segs = [(250_000, 2.0), (500_000, 2.0), (250_000, 2.0)];
        assert_eq!(peak_bitrate(&segs, 2.0), 2_000_000.0);
        assert_eq!(average_bitrate(&segs), 4_000_000.0 / 3.0 * 1.0);
        // A short, dense last segment alone lasts less than half the target, so it only
        // counts together with its neighbour.
        let segs = [(250_000, 2.0), (100_000, 0.2)];
        let peak = peak_bitrate(&segs, 2.0);
        assert!((peak - 350_000.0 * 8.0 / 2.2).abs() < 1e-6, "{peak}");
        // Half-length segments pair up: 1 s segments at target 2 s → runs of 1 to 3.
        let segs = [(100_000, 1.0), (300_000, 1.0), (100_000, 1.0)];
        assert_eq!(peak_bitrate(&segs, 2.0), 2_400_000.0);
        // Nothing qualifies: fall back to the densest segment.
        assert_eq!(peak_bitrate(&[(1000, 0.1)], 4.0), 80_000.0);
        assert_eq!(peak_bitrate(&[], 2.0), 0.0);
        assert_eq!(average_bitrate(&[]), 0.0);
    }

    #[test]
    fn target_duration_rounds_to_nearest() {
        assert_eq!(target_duration([2.0, 2.002, 1.4]), 2);
        assert_eq!(target_duration([2.5]), 3);
        assert_eq!(target_duration([0.2]), 1);
        assert_eq!(target_duration(std::iter::empty()), 1);
    }

    #[test]
    fn packets_split_by_position() {
        // Init 100 bytes, segments of 50 and 40 bytes; time base 1/1000.
        let tb = Rational { num: 1, den: 1000 };
        let packets = [
            packet(66, 33, 120, true),
            packet(132, 33, 130, false),
            packet(99, 34, 140, false),
            packet(166, 33, 160, true),
            packet(199, 33, 170, false),
        ];
        let split = split_segments(100, &[50, 40], &packets, tb).unwrap();
        assert_eq!(split.segments.len(), 2);
        assert!((split.segments[0].start_s - 0.066).abs() < 1e-9);
        assert!((split.segments[0].duration_s - 0.100).abs() < 1e-9);
        assert!(split.segments[0].starts_with_keyframe);
        assert!((split.segments[1].start_s - 0.166).abs() < 1e-9);
        assert_eq!(split.keyframes_s.len(), 2);

        // A segment starting on a non-keyframe is reported as such.
        let mut shifted = packets.clone();
        shifted[3].flags = Some("__".into());
        let split = split_segments(100, &[50, 40], &shifted, tb).unwrap();
        assert!(!split.segments[1].starts_with_keyframe);

        // Hostile inputs are errors, not panics.
        let err = split_segments(100, &[50, 40], &packets[..2], tb).unwrap_err();
        assert_eq!(err, "segment 1 holds no samples");
        let mut outside = packets.clone();
        outside[0].pos = Some(5);
        assert!(
            split_segments(100, &[50, 40], &outside, tb)
                .unwrap_err()
                .contains("outside")
        );
        outside[0].pos = Some(10_000);
        assert!(
            split_segments(100, &[50, 40], &outside, tb)
                .unwrap_err()
                .contains("outside")
        );
        let mut untimed = packets.clone();
        untimed[0].duration = None;
        untimed[4].duration = None;
        let split = split_segments(100, &[50, 40], &untimed, tb).unwrap();
        // The first takes the gap to the next decode time (66), the last its predecessor's.
        assert!((split.segments[0].duration_s - 0.133).abs() < 1e-9);
        assert!((split.segments[1].duration_s - 0.066).abs() < 1e-9);
        let lone = [untimed[0].clone()];
        assert!(
            split_segments(100, &[50], &lone, tb)
                .unwrap_err()
                .contains("duration")
        );
        outside[0].pos = None;
        assert!(
            split_segments(100, &[50, 40], &outside, tb)
                .unwrap_err()
                .contains("position")
        );
        assert!(split_segments(100, &[], &packets, tb).is_err());
    }
}
