//! [`Transmuxer`]: segments in, fMP4 out, with the state that carries from one segment to
//! the next (tables, timelines, track configurations).

use crate::audio::{AudioConfig, AudioFormat, AudioStream};
use crate::demux::{Demuxer, Sink, StreamKind};
use crate::error::{Error, Warning, Warnings};
use crate::h264::{AvcConfig, VideoStream};
use crate::mp4::{self, TrackConfig};
use crate::packed;
use crate::pes::Unit;
use crate::remux::{AudioTimeline, TimeRange, VideoTimeline};
use crate::timestamp::{CLOCK, Unwrapper};
use crate::ts;

/// Options of a [`Transmuxer`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The MPEG-TS program to take (`program_number` in the PAT); `None` takes the
    /// first.
    pub program: Option<u16>,
}

/// The container of a pushed segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// MPEG-2 transport stream.
    TransportStream,
    /// Packed audio: raw ADTS or MPEG audio frames with ID3 tags.
    PackedAudio,
}

/// Initialization segments: for one `SourceBuffer` per track (`video`, `audio`), or
/// for one `SourceBuffer` with both tracks (`combined`). The track IDs are the same in
/// all of them (video 1, audio 2), so the media segments suit either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitSegment {
    /// Both tracks (or the only one) in one `moov`.
    pub combined: Vec<u8>,
    /// The video track alone.
    pub video: Option<Vec<u8>>,
    /// The audio track alone.
    pub audio: Option<Vec<u8>>,
}

/// RFC 6381 codec strings of the tracks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Codecs {
    /// e.g. `avc1.64001f`.
    pub video: Option<String>,
    /// e.g. `mp4a.40.2`.
    pub audio: Option<String>,
}

impl Codecs {
    /// The MIME type of a `SourceBuffer` holding every track, e.g.
    /// `video/mp4; codecs="avc1.64001f,mp4a.40.2"` (`audio/mp4` without video).
    pub fn mime_type(&self) -> String {
        let mut mime = String::from(if self.video.is_some() {
            "video/mp4; codecs=\""
        } else {
            "audio/mp4; codecs=\""
        });
        let mut first = true;
        for codec in [&self.video, &self.audio].into_iter().flatten() {
            if !first {
                mime.push(',');
            }
            mime.push_str(codec);
            first = false;
        }
        mime.push('"');
        mime
    }
}

/// The video track's properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    /// Width in pixels (after cropping).
    pub width: u32,
    /// Height in pixels (after cropping).
    pub height: u32,
}

/// The audio track's properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioInfo {
    /// Sampling frequency in Hz (the track's timescale).
    pub sample_rate: u32,
    /// Channels.
    pub channels: u8,
}

/// An ID3 tag of the stream (timed metadata), to be shown at `pts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEvent {
    /// Presentation time on the continuous 90 kHz timeline (the same as the media's
    /// decode times: divide by 90 000 for seconds).
    pub pts: i64,
    /// The ID3 tag(s), untouched.
    pub data: Vec<u8>,
}

impl MetadataEvent {
    /// The presentation time in seconds.
    pub fn seconds(&self) -> f64 {
        self.pts as f64 / CLOCK as f64
    }
}

/// What one pushed segment became.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    /// New initialization segments: on the first segment, and whenever a track
    /// appears or its configuration (SPS/PPS, audio format) changes. Append before the
    /// media segments.
    pub init: Option<InitSegment>,
    /// The video media segment (`moof` + `mdat`), if the segment had video.
    pub video: Option<Vec<u8>>,
    /// The audio media segment(s) (one `moof` + `mdat` per contiguous run), if any.
    pub audio: Option<Vec<u8>>,
    /// The tracks' codecs (all tracks known so far).
    pub codecs: Codecs,
    /// The video track, when there is one.
    pub video_info: Option<VideoInfo>,
    /// The audio track, when there is one.
    pub audio_info: Option<AudioInfo>,
    /// Presentation interval of the video written, in seconds.
    pub video_range: Option<TimeRange>,
    /// Presentation interval of the audio written, in seconds.
    pub audio_range: Option<TimeRange>,
    /// ID3 timed metadata, in stream order.
    pub metadata: Vec<MetadataEvent>,
    /// Damage skipped in this segment.
    pub warnings: Vec<Warning>,
    /// The segment's container.
    pub format: Option<InputFormat>,
    /// The first program clock reference of the segment, seconds of the 27 MHz clock
    /// as carried (33-bit base, not unwrapped).
    pub pcr: Option<f64>,
}

impl Output {
    /// Earliest presentation time of the media written, in seconds.
    pub fn start(&self) -> Option<f64> {
        [self.video_range, self.audio_range]
            .into_iter()
            .flatten()
            .map(|r| r.start)
            .reduce(f64::min)
    }

    /// Latest presentation end of the media written, in seconds.
    pub fn end(&self) -> Option<f64> {
        [self.video_range, self.audio_range]
            .into_iter()
            .flatten()
            .map(|r| r.end)
            .reduce(f64::max)
    }

    /// The media segments of both tracks one after the other (video first), for a
    /// `SourceBuffer` holding both.
    pub fn media(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.video.as_ref().map_or(0, Vec::len) + self.audio.as_ref().map_or(0, Vec::len),
        );
        for part in [&self.video, &self.audio].into_iter().flatten() {
            out.extend_from_slice(part);
        }
        out
    }
}

/// Transmuxes HLS segments (MPEG-TS or packed audio) into fragmented MP4, one segment
/// per [`Transmuxer::push`], keeping timelines continuous from one segment to the next.
///
/// ```
/// # fn main() -> Result<(), transmux::Error> {
/// let mut transmuxer = transmux::Transmuxer::new(transmux::Options::default());
/// # let segment: Vec<u8> = Vec::new();
/// # if !segment.is_empty() {
/// let output = transmuxer.push(&segment, false)?;
/// if let Some(init) = &output.init {
///     // append init.combined (or init.video / init.audio to separate SourceBuffers)
/// }
/// // then output.video and output.audio
/// # }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Transmuxer {
    options: Options,
    demuxer: Demuxer,
    clock: Unwrapper,
    video: VideoStream,
    audio: Option<AudioStream>,
    video_config: Option<AvcConfig>,
    audio_config: Option<AudioConfig>,
    /// Whether the init segments of the current configurations were handed out.
    init_sent: bool,
    video_timeline: VideoTimeline,
    audio_timeline: AudioTimeline,
    /// Where the last segment's audio ended (90 kHz), for packed audio without a
    /// timestamp.
    audio_end: Option<i64>,
    /// `mfhd` sequence number of the next fragment.
    sequence: u32,
}

impl Default for Transmuxer {
    fn default() -> Self {
        Transmuxer::new(Options::default())
    }
}

impl Transmuxer {
    /// A transmuxer for a new stream.
    pub fn new(options: Options) -> Self {
        Transmuxer {
            demuxer: Demuxer::new(options.program),
            options,
            clock: Unwrapper::default(),
            video: VideoStream::default(),
            audio: None,
            video_config: None,
            audio_config: None,
            init_sent: false,
            video_timeline: VideoTimeline::default(),
            audio_timeline: AudioTimeline::default(),
            audio_end: None,
            sequence: 1,
        }
    }

    /// Forgets everything: the next segment starts a new stream (new init segments).
    pub fn reset(&mut self) {
        *self = Transmuxer::new(self.options.clone());
    }

    /// A discontinuity: the next segment's timestamps start a new timeline (an
    /// `EXT-X-DISCONTINUITY`, or a seek to a segment that does not follow the last one).
    /// Track configurations and tables are kept; video resumes at a keyframe.
    pub fn discontinuity(&mut self) {
        self.clock.reset();
        self.video_timeline.reset();
        self.audio_timeline.reset();
        self.audio_end = None;
        self.demuxer.reset_continuity();
    }

    /// Transmuxes one whole segment. `discontinuity` calls [`Self::discontinuity`]
    /// first. Damage is skipped and reported in [`Output::warnings`]; an error means
    /// the bytes are not a segment this crate reads (or are too large for MP4).
    pub fn push(&mut self, segment: &[u8], discontinuity: bool) -> Result<Output, Error> {
        if discontinuity {
            self.discontinuity();
        }
        let mut warnings = Warnings::default();
        let mut metadata: Vec<(Option<i64>, Vec<u8>)> = Vec::new();
        let mut pcr = None;
        self.video.clear();
        if let Some(audio) = &mut self.audio {
            audio.clear();
        }

        let format = if ts::looks_like_ts(segment) {
            let mut sink = SegmentSink {
                clock: &mut self.clock,
                video: &mut self.video,
                audio: &mut self.audio,
                metadata: &mut metadata,
                pcr: &mut pcr,
            };
            self.demuxer.demux(segment, &mut sink, &mut warnings);
            if !self.demuxer.has_program() {
                warnings.push(Warning::NoProgram);
            }
            InputFormat::TransportStream
        } else if let Some(audio_format) = packed::sniff(segment) {
            let audio = audio_stream(&mut self.audio, audio_format);
            let tags = packed::demux(
                segment,
                &mut self.clock,
                audio,
                self.audio_end,
                &mut warnings,
            );
            metadata.extend(tags.into_iter().map(|tag| (tag.pts, tag.data.to_vec())));
            InputFormat::PackedAudio
        } else {
            return Err(Error::Unrecognized {
                first: segment.iter().take(4).copied().collect(),
            });
        };
        self.video.finish();
        if let Some(audio) = &mut self.audio {
            audio.finish(&mut warnings);
        }
        self.output(format, metadata, pcr, warnings)
    }

    /// Builds the output from the segment's samples.
    fn output(
        &mut self,
        format: InputFormat,
        metadata: Vec<(Option<i64>, Vec<u8>)>,
        pcr: Option<u64>,
        mut warnings: Warnings,
    ) -> Result<Output, Error> {
        // Track configurations: this segment's, else the last ones.
        if let Some(config) = self.video.config(&mut warnings)
            && self.video_config.as_ref() != Some(&config)
        {
            self.video_config = Some(config);
            self.init_sent = false;
        }
        let audio = self.audio.as_ref().filter(|a| !a.samples.is_empty());
        if let Some(config) = audio.and_then(|a| a.config)
            && self.audio_config != Some(config)
        {
            self.audio_config = Some(config);
            self.init_sent = false;
        }
        let mut output = Output {
            format: Some(format),
            pcr: pcr.map(|ticks| ticks as f64 / 27_000_000.0),
            ..Output::default()
        };
        if (self.video_config.is_some() || self.audio_config.is_some()) && !self.init_sent {
            output.init = Some(self.init_segments()?);
            self.init_sent = true;
        }

        if self.video_config.is_some() {
            let mut fragment = Vec::new();
            output.video_range = self.video_timeline.remux(
                &self.video.samples,
                &self.video.data,
                self.sequence,
                &mut fragment,
                &mut warnings,
            )?;
            if output.video_range.is_some() {
                self.sequence = self.sequence.wrapping_add(1);
                output.video = Some(fragment);
            }
        } else if !self.video.samples.is_empty() {
            warnings.push(Warning::MissingParameterSets {
                frames: self.video.samples.len(),
            });
        }
        if let (Some(config), Some(audio)) = (self.audio_config, &self.audio)
            && !audio.samples.is_empty()
        {
            let mut fragments = Vec::new();
            output.audio_range = self.audio_timeline.remux(
                &audio.samples,
                &audio.data,
                &config,
                &mut self.sequence,
                &mut fragments,
                &mut warnings,
            )?;
            if output.audio_range.is_some() {
                output.audio = Some(fragments);
            }
            self.audio_end = audio.end();
        }

        if let Some(config) = &self.video_config {
            output.codecs.video = Some(config.codec());
            output.video_info = Some(VideoInfo {
                width: config.info.width,
                height: config.info.height,
            });
        }
        if let Some(config) = &self.audio_config {
            output.codecs.audio = Some(config.codec());
            output.audio_info = Some(AudioInfo {
                sample_rate: config.sample_rate,
                channels: config.channels,
            });
        }
        let fallback = output
            .start()
            .map_or(0, |s| (s * CLOCK as f64).round() as i64);
        output.metadata = metadata
            .into_iter()
            .map(|(pts, data)| MetadataEvent {
                pts: pts.unwrap_or(fallback),
                data,
            })
            .collect();
        output.warnings = warnings.finish();
        Ok(output)
    }

    fn init_segments(&self) -> Result<InitSegment, Error> {
        let video = self.video_config.as_ref().map(TrackConfig::Video);
        let audio = self.audio_config.as_ref().map(TrackConfig::Audio);
        let tracks: Vec<TrackConfig<'_>> = [video, audio].into_iter().flatten().collect();
        Ok(InitSegment {
            combined: mp4::init_segment(&tracks)?,
            video: video.map(|t| mp4::init_segment(&[t])).transpose()?,
            audio: audio.map(|t| mp4::init_segment(&[t])).transpose()?,
        })
    }
}

/// The audio stream of `format`, made anew when the format changed.
fn audio_stream(slot: &mut Option<AudioStream>, format: AudioFormat) -> &mut AudioStream {
    if slot.as_ref().is_none_or(|a| a.format() != format) {
        *slot = Some(AudioStream::new(format));
    }
    slot.get_or_insert_with(|| AudioStream::new(format))
}

/// Routes the demuxer's units to the stream readers, timestamps unwrapped.
struct SegmentSink<'a> {
    clock: &'a mut Unwrapper,
    video: &'a mut VideoStream,
    audio: &'a mut Option<AudioStream>,
    metadata: &'a mut Vec<(Option<i64>, Vec<u8>)>,
    pcr: &'a mut Option<u64>,
}

impl Sink for SegmentSink<'_> {
    fn unit(&mut self, kind: StreamKind, unit: Unit<'_>, warnings: &mut Warnings) {
        let pts = unit.pts.map(|t| self.clock.unwrap(t));
        let dts = unit.dts.map(|t| self.clock.unwrap(t));
        match kind {
            StreamKind::H264 => self.video.push(pts, dts, unit.data, warnings),
            StreamKind::Adts => {
                audio_stream(self.audio, AudioFormat::Adts).push(pts, unit.data, warnings)
            }
            StreamKind::MpegAudio => {
                audio_stream(self.audio, AudioFormat::Mpeg).push(pts, unit.data, warnings)
            }
            StreamKind::Id3 => {
                if self.metadata.len() < 256 {
                    self.metadata.push((pts, unit.data.to_vec()));
                }
            }
        }
    }

    fn pcr(&mut self, pcr: u64) {
        if self.pcr.is_none() {
            *self.pcr = Some(pcr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id3::{build_tag, timestamp_priv};
    use crate::mp4::{children, find};
    use crate::testutil::*;

    /// A segment of `frames` video frames (25 fps, the first an IDR with SPS/PPS for
    /// `width` × 720) from `start` (90 kHz, 33-bit) and twice as many AAC frames (48 kHz)
    /// from the same time.
    fn segment(start: u64, frames: u64, width: u32, id3: bool) -> Vec<u8> {
        segment_av(start, start, frames, width, id3)
    }

    fn segment_av(start: u64, audio_start: u64, frames: u64, width: u32, id3: bool) -> Vec<u8> {
        let sps = sps(width, 720, true);
        let mut builder = SegmentBuilder::default();
        builder.tables(&[(0x1b, VIDEO_PID), (0x0f, AUDIO_PID), (0x15, ID3_PID)]);
        for n in 0..frames {
            let time = (start + n * 3600) & ((1 << 33) - 1);
            let data = if n == 0 {
                annex_b(&[&[0x09, 0xf0], &sps, &PPS, &[0x65, 0x88, n as u8]])
            } else {
                annex_b(&[&[0x09, 0xf0], &[0x41, 0x9a, n as u8]])
            };
            builder.pes(VIDEO_PID, 0xe0, Some(time), None, &data);
            // 1024 samples at 48 kHz = 1920 ticks; two frames per PES.
            let audio_time = (audio_start + n * 3840) & ((1 << 33) - 1);
            let audio = [
                adts_frame(2, 3, 2, &[n as u8; 20]),
                adts_frame(2, 3, 2, &[n as u8; 21]),
            ]
            .concat();
            builder.pes(AUDIO_PID, 0xc0, Some(audio_time), None, &audio);
        }
        if id3 {
            let tag = build_tag(4, &[(b"TXXX", b"\x03key\x00value")]);
            builder.pes(ID3_PID, 0xbd, Some(start), None, &tag);
        }
        builder.bytes()
    }

    fn tfdt(fragment: &[u8]) -> u64 {
        let moof = children(fragment)[0].1;
        let tfdt = find(moof, &[b"traf", b"tfdt"]).unwrap();
        u64::from_be_bytes(tfdt[4..12].try_into().unwrap())
    }

    fn sample_count(fragment: &[u8]) -> u32 {
        let moof = children(fragment)[0].1;
        let trun = find(moof, &[b"traf", b"trun"]).unwrap();
        u32::from_be_bytes(trun[4..8].try_into().unwrap())
    }

    #[test]
    fn muxed_segments_to_init_and_fragments() {
        let mut transmuxer = Transmuxer::default();
        let first = transmuxer
            .push(&segment(900_000, 10, 1280, true), false)
            .unwrap();
        assert_eq!(first.warnings, vec![]);
        assert_eq!(first.format, Some(InputFormat::TransportStream));
        let init = first.init.as_ref().unwrap();
        let moov = find(&init.combined, &[b"moov"]).unwrap();
        assert_eq!(children(moov).iter().filter(|c| &c.0 == b"trak").count(), 2);
        assert!(init.video.is_some() && init.audio.is_some());
        assert_eq!(first.codecs.video.as_deref(), Some("avc1.64001f"));
        assert_eq!(first.codecs.audio.as_deref(), Some("mp4a.40.2"));
        assert_eq!(
            first.codecs.mime_type(),
            "video/mp4; codecs=\"avc1.64001f,mp4a.40.2\""
        );
        assert_eq!(
            first.video_info,
            Some(VideoInfo {
                width: 1280,
                height: 720
            })
        );
        assert_eq!(
            first.audio_info,
            Some(AudioInfo {
                sample_rate: 48_000,
                channels: 2
            })
        );
        let video = first.video.as_ref().unwrap();
        assert_eq!((tfdt(video), sample_count(video)), (900_000, 10));
        let audio = first.audio.as_ref().unwrap();
        assert_eq!((tfdt(audio), sample_count(audio)), (480_000, 20));
        assert_eq!(first.video_range.unwrap().start, 10.0);
        assert_eq!(first.start(), Some(10.0));
        assert_eq!(first.metadata.len(), 1);
        assert_eq!(first.metadata[0].pts, 900_000);
        assert_eq!(first.metadata[0].seconds(), 10.0);
        assert!(first.metadata[0].data.starts_with(b"ID3"));
        assert!(first.pcr.is_none(), "no PCR in these packets");
        assert_eq!(first.media().len(), video.len() + audio.len());

        // The next segment continues: no init, decode times where the first ended.
        let second = transmuxer
            .push(&segment_av(936_000, 938_400, 10, 1280, false), false)
            .unwrap();
        assert_eq!(second.warnings, vec![]);
        assert!(second.init.is_none());
        assert_eq!(tfdt(second.video.as_ref().unwrap()), 936_000);
        assert_eq!(tfdt(second.audio.as_ref().unwrap()), 480_000 + 20 * 1024);
        // A new picture size: a new init segment.
        let third = transmuxer
            .push(&segment(900_000 + 72_000, 2, 640, false), false)
            .unwrap();
        assert_eq!(
            third.video_info,
            Some(VideoInfo {
                width: 640,
                height: 720
            })
        );
        assert!(third.init.is_some());
    }

    #[test]
    fn timestamps_continue_across_the_33_bit_wrap() {
        let mut transmuxer = Transmuxer::default();
        let start = (1u64 << 33) - 36_000; // 0.4 s before the wrap
        let first = transmuxer
            .push(&segment(start, 10, 1280, false), false)
            .unwrap();
        assert_eq!(tfdt(first.video.as_ref().unwrap()), start);
        let second = transmuxer
            .push(&segment(start + 36_000, 10, 1280, false), false)
            .unwrap();
        assert_eq!(second.warnings, vec![]);
        assert_eq!(tfdt(second.video.as_ref().unwrap()), 1 << 33);
        assert!(second.video_range.unwrap().start > 95_443.0);
    }

    #[test]
    fn discontinuity_restarts_the_timeline() {
        let mut transmuxer = Transmuxer::default();
        transmuxer
            .push(&segment(900_000, 10, 1280, false), false)
            .unwrap();
        // A new timeline, told: taken as it is, no warning.
        let next = transmuxer
            .push(&segment(90_000, 10, 1280, false), true)
            .unwrap();
        assert_eq!(next.warnings, vec![]);
        assert_eq!(tfdt(next.video.as_ref().unwrap()), 90_000);
        // Not told: kept where it is, with a warning.
        let jump = transmuxer
            .push(&segment(9_000_000, 10, 1280, false), false)
            .unwrap();
        assert_eq!(tfdt(jump.video.as_ref().unwrap()), 9_000_000);
        assert!(jump.warnings.iter().any(|w| matches!(
            w,
            Warning::TimestampJump {
                track: crate::Track::Video,
                ..
            }
        )));
    }

    #[test]
    fn packed_audio_segments() {
        let mut transmuxer = Transmuxer::default();
        let mut data = build_tag(4, &[(b"PRIV", &timestamp_priv(180_000))]);
        for n in 0..5 {
            data.extend(adts_frame(2, 4, 1, &[n; 30]));
        }
        let output = transmuxer.push(&data, false).unwrap();
        assert_eq!(output.format, Some(InputFormat::PackedAudio));
        assert_eq!(
            output.codecs,
            Codecs {
                video: None,
                audio: Some("mp4a.40.2".into())
            }
        );
        assert_eq!(output.codecs.mime_type(), "audio/mp4; codecs=\"mp4a.40.2\"");
        let init = output.init.unwrap();
        assert!(init.video.is_none());
        assert_eq!(init.audio.as_ref(), Some(&init.combined));
        let audio = output.audio.unwrap();
        assert_eq!((tfdt(&audio), sample_count(&audio)), (88_200, 5));
        assert_eq!(output.metadata.len(), 1);
        assert_eq!(output.metadata[0].pts, 180_000);
        // Without a timestamp: continues.
        let more: Vec<u8> = (0..2).flat_map(|n| adts_frame(2, 4, 1, &[n; 30])).collect();
        let next = transmuxer.push(&more, false).unwrap();
        assert_eq!(tfdt(next.audio.as_ref().unwrap()), 88_200 + 5 * 1024);
    }

    #[test]
    fn not_a_segment() {
        let mut transmuxer = Transmuxer::default();
        assert_eq!(
            transmuxer.push(b"<html>", false),
            Err(Error::Unrecognized {
                first: b"<htm".to_vec()
            })
        );
        assert!(transmuxer.push(&[], false).is_err());
        // A transport stream without tables: nothing, and a warning.
        let mut builder = SegmentBuilder::default();
        builder.pes(VIDEO_PID, 0xe0, Some(0), None, &[0, 0, 1, 0x65]);
        let output = transmuxer.push(&builder.bytes(), false).unwrap();
        assert_eq!(output.warnings, vec![Warning::NoProgram]);
        assert!(output.init.is_none() && output.video.is_none());
    }

    #[test]
    fn damaged_segments_never_panic() {
        let good = segment(900_000, 6, 1280, true);
        // Every truncation (every 7th byte, to keep the test fast).
        for cut in (0..good.len()).step_by(7) {
            let _ = Transmuxer::default().push(&good[..cut], false);
        }
        // Bit flips and byte insertions from a fixed pseudo-random sequence.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut transmuxer = Transmuxer::default();
        for round in 0..300 {
            let mut bad = good.clone();
            for _ in 0..(1 + round % 20) {
                let at = (next() as usize) % bad.len();
                match next() % 3 {
                    0 => bad[at] ^= 1 << (next() % 8),
                    1 => bad.insert(at, next() as u8),
                    _ => {
                        bad.remove(at);
                    }
                }
            }
            if let Ok(output) = transmuxer.push(&bad, round % 7 == 0) {
                assert!(output.warnings.len() <= Warnings::LIMIT + 1);
            }
        }
    }
}
