//! Audio elementary streams (AAC in ADTS, MPEG audio) into MP4 samples: frames found and
//! checked, timed from the PES timestamps, and the track's configuration.
//!
//! A frame may be cut between two PES: its start waits for the rest. The first frame
//! that starts in a PES takes the PES timestamp; the following ones are counted from it
//! in samples.

use crate::adts::{self, AdtsHeader};
use crate::error::{Track, Warning, Warnings};
use crate::mpa::{self, MpaHeader, Version};
use crate::timestamp::{CLOCK, rescale};

/// The framing of an audio elementary stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    /// AAC in ADTS frames (the headers are removed from the samples).
    Adts,
    /// MPEG-1/2 audio frames (kept whole: the MP4 sample is the frame).
    Mpeg,
}

/// The codec of an audio track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// AAC, with the fields of its `AudioSpecificConfig`.
    Aac {
        /// Audio object type (2 = LC).
        object_type: u8,
        /// Sampling frequency index.
        rate_index: u8,
        /// Channel configuration.
        channel_config: u8,
    },
    /// MPEG audio.
    Mpeg {
        /// MPEG-1, or MPEG-2/2.5 (lower sampling frequencies).
        version: Version,
        /// Layer 1, 2 or 3.
        layer: u8,
    },
}

/// An audio track's configuration: what goes into `mp4a` and `esds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioConfig {
    /// The codec.
    pub codec: AudioCodec,
    /// Sampling frequency in Hz (also the track's timescale).
    pub sample_rate: u32,
    /// Channels (for AAC with channel configuration 0, 2 is announced).
    pub channels: u8,
}

impl AudioConfig {
    fn of_adts(header: &AdtsHeader) -> AudioConfig {
        AudioConfig {
            codec: AudioCodec::Aac {
                object_type: header.object_type,
                rate_index: header.rate_index,
                channel_config: header.channels,
            },
            sample_rate: header.sample_rate(),
            channels: match header.channels {
                0 => 2,
                7 => 8,
                n => n,
            },
        }
    }

    fn of_mpa(header: &MpaHeader) -> AudioConfig {
        AudioConfig {
            codec: AudioCodec::Mpeg {
                version: header.version,
                layer: header.layer,
            },
            sample_rate: header.sample_rate,
            channels: header.channels,
        }
    }

    /// The RFC 6381 codec string: `mp4a.40.2` (AAC LC), `mp4a.6B` (MPEG-1 audio),
    /// `mp4a.69` (MPEG-2 audio).
    pub fn codec(&self) -> String {
        match self.codec {
            AudioCodec::Aac { object_type, .. } => {
                let mut codec = String::from("mp4a.40.");
                if object_type >= 10 {
                    codec.push(char::from(b'0' + object_type / 10 % 10));
                }
                codec.push(char::from(b'0' + object_type % 10));
                codec
            }
            AudioCodec::Mpeg { .. } => match self.object_type_indication() {
                0x6b => "mp4a.6B".into(),
                _ => "mp4a.69".into(),
            },
        }
    }

    /// The `objectTypeIndication` of the `esds` decoder configuration.
    pub fn object_type_indication(&self) -> u8 {
        match self.codec {
            AudioCodec::Aac { .. } => 0x40,
            AudioCodec::Mpeg {
                version: Version::Mpeg1,
                ..
            } => 0x6b,
            AudioCodec::Mpeg { .. } => 0x69,
        }
    }

    /// The decoder specific info (`AudioSpecificConfig` for AAC; none for MPEG audio).
    pub fn decoder_specific_info(&self) -> Option<[u8; 2]> {
        match self.codec {
            AudioCodec::Aac {
                object_type,
                rate_index,
                channel_config,
            } => Some([
                (object_type << 3) | (rate_index >> 1),
                ((rate_index & 1) << 7) | (channel_config << 3),
            ]),
            AudioCodec::Mpeg { .. } => None,
        }
    }
}

/// An audio sample (one frame) of the segment being transmuxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSample {
    /// Presentation time, 90 kHz on the continuous timeline.
    pub pts: i64,
    /// Offset of its bytes in the stream's data.
    pub offset: usize,
    /// Bytes.
    pub size: usize,
    /// Samples per channel (its duration in the track's timescale).
    pub duration: u32,
}

/// One frame found in the data.
enum Frame {
    Adts(AdtsHeader),
    Mpeg(MpaHeader),
}

impl Frame {
    fn length(&self) -> usize {
        match self {
            Frame::Adts(h) => h.frame_length,
            Frame::Mpeg(h) => h.frame_length,
        }
    }
}

/// Turns one segment's audio units into samples.
#[derive(Debug)]
pub(crate) struct AudioStream {
    format: AudioFormat,
    /// The segment's frames, back to back (ADTS headers removed).
    pub(crate) data: Vec<u8>,
    pub(crate) samples: Vec<AudioSample>,
    /// The configuration of the segment's first frame.
    pub(crate) config: Option<AudioConfig>,
    /// The start of a frame cut at the end of the last unit.
    leftover: Vec<u8>,
    /// Where the next frame's time is counted from: a PES timestamp and the samples
    /// since it.
    anchor: Option<(i64, u64)>,
    warned_missing: bool,
}

impl AudioStream {
    pub(crate) fn new(format: AudioFormat) -> Self {
        AudioStream {
            format,
            data: Vec::new(),
            samples: Vec::new(),
            config: None,
            leftover: Vec::new(),
            anchor: None,
            warned_missing: false,
        }
    }

    pub(crate) fn format(&self) -> AudioFormat {
        self.format
    }

    /// Starts a new segment (the buffers keep their capacity).
    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.samples.clear();
        self.config = None;
        self.leftover.clear();
        self.anchor = None;
        self.warned_missing = false;
    }

    /// Adds a unit of audio frames whose first new frame is presented at `pts`.
    pub(crate) fn push(&mut self, pts: Option<i64>, data: &[u8], warnings: &mut Warnings) {
        if self.leftover.is_empty() {
            if let Some(pts) = pts {
                self.anchor = Some((pts, 0));
            }
            let rest = self.frames(data, warnings);
            self.leftover.extend_from_slice(rest);
            return;
        }
        // Rare: a frame was cut at the end of the last unit. It keeps the old timeline;
        // frames starting in the new data take the new timestamp.
        let mut joined = core::mem::take(&mut self.leftover);
        let boundary = joined.len();
        joined.extend_from_slice(data);
        let start = match self.frame_at(&joined, 0) {
            Some(frame) if frame.length() > joined.len() => {
                self.leftover = joined; // still incomplete
                return;
            }
            Some(frame) => {
                let length = frame.length();
                if let Some(bytes) = joined.get(..length) {
                    self.add(&frame, bytes, warnings);
                }
                length.max(boundary)
            }
            None => boundary,
        };
        if let Some(pts) = pts {
            self.anchor = Some((pts, 0));
        }
        let rest = self.frames(joined.get(start..).unwrap_or(&[]), warnings);
        self.leftover.extend_from_slice(rest);
    }

    /// The frame header at `pos`, if it is a valid one of this stream's format.
    fn frame_at(&self, data: &[u8], pos: usize) -> Option<Frame> {
        let bytes = data.get(pos..)?;
        match self.format {
            AudioFormat::Adts => adts::parse_header(bytes).map(Frame::Adts),
            AudioFormat::Mpeg => mpa::parse_header(bytes).map(Frame::Mpeg),
        }
    }

    /// Whether a frame at `pos` is complete and confirmed: the data ends with it, or
    /// another header follows where its length says (or an ID3 tag, or the start of a
    /// header cut by the end of the data).
    fn confirmed(&self, data: &[u8], pos: usize, frame: &Frame) -> bool {
        let next = pos + frame.length();
        let Some(rest) = data.get(next..) else {
            return false;
        };
        rest.is_empty()
            || self.frame_at(rest, 0).is_some()
            || rest.starts_with(b"ID3")
            || (rest.len() < 9 && rest.first() == Some(&0xff))
    }

    /// The first position after `pos` where a confirmed frame starts.
    fn next_confirmed(&self, data: &[u8], pos: usize) -> Option<usize> {
        (pos + 1..data.len()).find(|&at| {
            self.frame_at(data, at)
                .is_some_and(|frame| self.confirmed(data, at, &frame))
        })
    }

    /// Takes every complete frame of `data`; returns the cut frame at the end, if any.
    fn frames<'d>(&mut self, data: &'d [u8], warnings: &mut Warnings) -> &'d [u8] {
        let (pos, cut) = self.scan(data, false, warnings);
        if cut {
            data.get(pos..).unwrap_or(&[])
        } else {
            &[]
        }
    }

    /// Takes the complete frames of `data` up to its end or (with `stop_at_id3`) an ID3
    /// tag; returns where it stopped and whether what is left there is a cut frame.
    /// A header counts only when confirmed (see [`Self::confirmed`]); one that runs
    /// past the end is a cut frame unless a confirmed frame follows it (then it was a
    /// false sync in damaged data).
    fn scan(&mut self, data: &[u8], stop_at_id3: bool, warnings: &mut Warnings) -> (usize, bool) {
        let mut pos = 0;
        let mut skipped = 0;
        let mut cut = false;
        // The last answer of `next_confirmed` and where it was asked from: it stays true
        // for later positions before it (so damaged data is scanned once, not once per
        // byte).
        let mut known: Option<(usize, Option<usize>)> = None;
        while pos < data.len() {
            let frame = self.frame_at(data, pos);
            let accept = match &frame {
                Some(frame) if self.confirmed(data, pos, frame) => true,
                Some(frame) if pos + frame.length() > data.len() => {
                    let next = match known {
                        Some((_, Some(next))) if next > pos => Some(next),
                        Some((from, None)) if from <= pos => None,
                        _ => self.next_confirmed(data, pos),
                    };
                    known = Some((pos, next));
                    if next.is_none() {
                        cut = true;
                        break;
                    }
                    false
                }
                Some(_) => false,
                None => {
                    let rest = data.get(pos..).unwrap_or(&[]);
                    if stop_at_id3 && crate::id3::tag_length(rest).is_some() {
                        break;
                    }
                    // Perhaps the start of a header cut by the unit's end.
                    if rest.len() < 9
                        && rest.first() == Some(&0xff)
                        && (rest.len() == 1 || adts::is_sync(rest) || mpa::is_sync(rest))
                    {
                        cut = true;
                        break;
                    }
                    false
                }
            };
            let (Some(frame), true) = (frame, accept) else {
                pos += 1;
                skipped += 1;
                continue;
            };
            if skipped > 0 {
                warnings.push(Warning::BadFrames {
                    track: Track::Audio,
                    bytes: skipped,
                });
                skipped = 0;
            }
            let length = frame.length();
            if let Some(bytes) = data.get(pos..pos + length) {
                self.add(&frame, bytes, warnings);
            }
            pos += length;
        }
        if skipped > 0 {
            warnings.push(Warning::BadFrames {
                track: Track::Audio,
                bytes: skipped,
            });
        }
        (pos, cut)
    }

    /// Packed audio: takes the frames of `data` up to an ID3 tag or the end, the first
    /// presented at `pts` (else following the previous frames); returns the bytes
    /// consumed (a frame cut at the end counts as consumed and is reported at
    /// [`Self::finish`]).
    pub(crate) fn push_packed(
        &mut self,
        pts: Option<i64>,
        data: &[u8],
        warnings: &mut Warnings,
    ) -> usize {
        if let Some(pts) = pts {
            self.anchor = Some((pts, 0));
        }
        let (pos, cut) = self.scan(data, true, warnings);
        if cut {
            self.leftover.clear();
            self.leftover
                .extend_from_slice(data.get(pos..).unwrap_or(&[]));
            return data.len();
        }
        pos
    }

    /// Continues the timeline of packed audio without a timestamp from `pts` when
    /// nothing placed it yet.
    pub(crate) fn ensure_anchor(&mut self, pts: i64) {
        if self.anchor.is_none() {
            self.anchor = Some((pts, 0));
        }
    }

    fn add(&mut self, frame: &Frame, bytes: &[u8], warnings: &mut Warnings) {
        let (config, payload, duration) = match frame {
            Frame::Adts(header) => (
                AudioConfig::of_adts(header),
                bytes.get(header.header_length..).unwrap_or(&[]),
                header.samples(),
            ),
            Frame::Mpeg(header) => (AudioConfig::of_mpa(header), bytes, header.samples),
        };
        let Some((anchor, since)) = self.anchor else {
            if !self.warned_missing {
                self.warned_missing = true;
                warnings.push(Warning::MissingTimestamp {
                    track: Track::Audio,
                });
            }
            return;
        };
        let config = *self.config.get_or_insert(config);
        let pts = anchor + rescale(since as i64, config.sample_rate, CLOCK as u32);
        self.anchor = Some((anchor, since + u64::from(duration)));
        self.samples.push(AudioSample {
            pts,
            offset: self.data.len(),
            size: payload.len(),
            duration,
        });
        self.data.extend_from_slice(payload);
    }

    /// Ends the segment: a frame still cut is dropped.
    pub(crate) fn finish(&mut self, warnings: &mut Warnings) {
        if !self.leftover.is_empty() {
            warnings.push(Warning::TruncatedFrame {
                bytes: self.leftover.len(),
            });
            self.leftover.clear();
        }
    }

    /// The time just after the last frame, 90 kHz (for packed audio without a
    /// timestamp of its own).
    pub(crate) fn end(&self) -> Option<i64> {
        let (anchor, since) = self.anchor?;
        let rate = self.config?.sample_rate;
        Some(anchor + rescale(since as i64, rate, CLOCK as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::adts_frame;

    #[test]
    fn adts_frames_timed_and_stripped() {
        let mut stream = AudioStream::new(AudioFormat::Adts);
        let mut warnings = Warnings::default();
        let mut unit = adts_frame(2, 3, 2, &[1; 100]);
        unit.extend(adts_frame(2, 3, 2, &[2; 50]));
        stream.push(Some(90_000), &unit, &mut warnings);
        stream.finish(&mut warnings);
        assert!(warnings.finish().is_empty());
        assert_eq!(stream.samples.len(), 2);
        assert_eq!(
            stream.samples[0],
            AudioSample {
                pts: 90_000,
                offset: 0,
                size: 100,
                duration: 1024
            }
        );
        // 1024 samples at 48 kHz = 1920 ticks of 90 kHz.
        assert_eq!(
            stream.samples[1],
            AudioSample {
                pts: 91_920,
                offset: 100,
                size: 50,
                duration: 1024
            }
        );
        let config = stream.config.unwrap();
        assert_eq!(config.codec(), "mp4a.40.2");
        assert_eq!(config.decoder_specific_info(), Some([0x11, 0x90]));
        assert_eq!((config.sample_rate, config.channels), (48_000, 2));
        assert_eq!(stream.end(), Some(93_840));
    }

    #[test]
    fn frame_cut_between_units() {
        let frames: Vec<Vec<u8>> = (0..3).map(|i| adts_frame(2, 4, 2, &[i; 200])).collect();
        let all = frames.concat();
        let mut stream = AudioStream::new(AudioFormat::Adts);
        let mut warnings = Warnings::default();
        stream.push(Some(0), &all[..300], &mut warnings);
        stream.push(Some(5_000), &all[300..], &mut warnings);
        stream.finish(&mut warnings);
        assert!(warnings.finish().is_empty());
        let pts: Vec<i64> = stream.samples.iter().map(|s| s.pts).collect();
        // The second frame started in the first unit: counted from it; the third takes
        // the second unit's timestamp.
        assert_eq!(pts, vec![0, 2090, 5_000]);
        assert_eq!(stream.data.len(), 600);
    }

    #[test]
    fn garbage_skipped_and_truncated_end_dropped() {
        let mut unit = vec![0xff, 0x00, 0x12];
        unit.extend(adts_frame(2, 4, 2, &[1; 30]));
        unit.extend([0xff, 0xf1, 0x50]);
        unit.extend(adts_frame(2, 4, 2, &[2; 30]));
        unit.extend(&adts_frame(2, 4, 2, &[3; 30])[..20]);
        let mut stream = AudioStream::new(AudioFormat::Adts);
        let mut warnings = Warnings::default();
        stream.push(Some(0), &unit, &mut warnings);
        stream.finish(&mut warnings);
        assert_eq!(stream.samples.len(), 2);
        assert_eq!(
            warnings.finish(),
            vec![
                Warning::BadFrames {
                    track: Track::Audio,
                    bytes: 3
                },
                Warning::BadFrames {
                    track: Track::Audio,
                    bytes: 3
                },
                Warning::TruncatedFrame { bytes: 20 },
            ]
        );
    }

    #[test]
    fn mpeg_audio_frames_kept_whole() {
        let mut frame = vec![0xff, 0xfb, 0x90, 0x64];
        frame.resize(417, 0x55);
        let unit = [frame.clone(), frame.clone()].concat();
        let mut stream = AudioStream::new(AudioFormat::Mpeg);
        let mut warnings = Warnings::default();
        stream.push(Some(0), &unit, &mut warnings);
        stream.finish(&mut warnings);
        assert_eq!(stream.samples.len(), 2);
        assert_eq!(stream.samples[1].pts, 2351); // 1152 / 44100 s
        assert_eq!(stream.data, unit);
        let config = stream.config.unwrap();
        assert_eq!(config.codec(), "mp4a.6B");
        assert_eq!(config.decoder_specific_info(), None);
    }

    #[test]
    fn frames_without_timestamp_dropped() {
        let mut stream = AudioStream::new(AudioFormat::Adts);
        let mut warnings = Warnings::default();
        stream.push(None, &adts_frame(2, 4, 2, &[0; 10]), &mut warnings);
        assert!(stream.samples.is_empty());
        assert_eq!(
            warnings.finish(),
            vec![Warning::MissingTimestamp {
                track: Track::Audio
            }]
        );
    }
}
