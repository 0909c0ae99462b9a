//! What can go wrong: [`Error`] when a segment cannot be transmuxed at all, [`Warning`]
//! for damage that was skipped (the rest of the segment is still transmuxed).
//!
//! Corrupt input never panics: every reader checks its bounds and either skips what is
//! broken with a warning or returns an error.

use thiserror::Error;

/// Why a segment could not be transmuxed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// The bytes are neither an MPEG transport stream nor packed audio (ADTS or MPEG audio
    /// frames, optionally after ID3 tags).
    #[error("not an MPEG transport stream or packed audio (first bytes {first:02x?})")]
    Unrecognized {
        /// Up to the first four bytes of the input.
        first: Vec<u8>,
    },
    /// The output would not fit the 32-bit box sizes of MP4.
    #[error("segment too large for a 32-bit MP4 box ({bytes} bytes)")]
    TooLarge {
        /// Size of the box that overflowed.
        bytes: usize,
    },
}

/// The elementary stream a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// The H.264 video track.
    Video,
    /// The AAC or MPEG audio track.
    Audio,
}

impl core::fmt::Display for Track {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Track::Video => "video",
            Track::Audio => "audio",
        })
    }
}

/// Damage found and skipped while transmuxing a segment.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Warning {
    /// Bytes between packets that did not start with the sync byte 0x47 were skipped.
    #[error("lost sync: skipped {bytes} bytes to the next 0x47 packet")]
    LostSync {
        /// Bytes skipped.
        bytes: usize,
    },
    /// The segment ended inside a transport packet; the partial packet was ignored.
    #[error("truncated transport packet at the end ({bytes} of 188 bytes)")]
    TruncatedPacket {
        /// Bytes of the partial packet.
        bytes: usize,
    },
    /// A packet with the transport error indicator set was skipped.
    #[error("transport error indicator set on PID {pid:#x}: packet skipped")]
    TransportError {
        /// PID of the packet.
        pid: u16,
    },
    /// A packet of a selected stream was scrambled (conditional access); skipped.
    #[error("scrambled packet on PID {pid:#x}: skipped")]
    Scrambled {
        /// PID of the packet.
        pid: u16,
    },
    /// A packet's adaptation field was longer than the packet.
    #[error("malformed adaptation field on PID {pid:#x}: packet skipped")]
    BadAdaptationField {
        /// PID of the packet.
        pid: u16,
    },
    /// A continuity counter skipped: packets were lost, the PES being assembled was
    /// dropped.
    #[error("continuity gap on PID {pid:#x} (expected {expected}, found {found}): PES dropped")]
    ContinuityGap {
        /// PID of the stream.
        pid: u16,
        /// The counter expected.
        expected: u8,
        /// The counter found.
        found: u8,
    },
    /// A PES ended before the length its header declared; dropped.
    #[error("truncated PES on PID {pid:#x} ({got} of {expected} bytes): dropped")]
    TruncatedPes {
        /// PID of the stream.
        pid: u16,
        /// Bytes declared by the PES header (after the length field).
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// Data that does not start with a valid PES header; dropped until the next one.
    #[error("malformed PES header on PID {pid:#x}: dropped")]
    BadPesHeader {
        /// PID of the stream.
        pid: u16,
    },
    /// A PSI section (PAT or PMT) was malformed or failed its CRC; ignored.
    #[error("malformed {table} section: ignored")]
    BadSection {
        /// Which table.
        table: &'static str,
    },
    /// The program map lists a stream this transmuxer does not carry.
    #[error("stream type {stream_type:#04x} on PID {pid:#x} is not supported: ignored")]
    UnsupportedStream {
        /// PID of the stream.
        pid: u16,
        /// Its `stream_type` in the PMT.
        stream_type: u8,
    },
    /// The segment had no program association and map (PAT, PMT), and none was known
    /// from earlier segments: nothing could be transmuxed.
    #[error("no PAT/PMT found: nothing to transmux")]
    NoProgram,
    /// The requested program is not in the PAT; the first one was taken.
    #[error("program {requested} is not in the PAT: took program {taken}")]
    ProgramNotFound {
        /// The program number asked for in the options.
        requested: u16,
        /// The program used instead.
        taken: u16,
    },
    /// Elementary stream data had no timestamp to place it; dropped.
    #[error("{track} data without a timestamp: dropped")]
    MissingTimestamp {
        /// The track.
        track: Track,
    },
    /// An access unit without its own PES timestamp (split by an access unit
    /// delimiter): its time was estimated from the previous frame.
    #[error("video access unit without a timestamp: time estimated")]
    EstimatedTimestamp,
    /// Video frames came without a usable sequence or picture parameter set; dropped.
    #[error("{frames} video frames without SPS/PPS: dropped")]
    MissingParameterSets {
        /// Frames dropped.
        frames: usize,
    },
    /// A sequence parameter set could not be parsed; ignored.
    #[error("malformed H.264 SPS: ignored")]
    BadSps,
    /// The sequence parameter set changed in the middle of a segment; the segment's
    /// first one describes the whole segment.
    #[error("H.264 SPS changed within a segment: kept the first")]
    SpsChanged,
    /// Frames before the first keyframe (after the start or a discontinuity) cannot be
    /// decoded: dropped.
    #[error("{frames} video frames before the first keyframe: dropped")]
    LeadingNonKeyframes {
        /// Frames dropped.
        frames: usize,
    },
    /// Decode timestamps did not increase; they were made to.
    #[error("video decode timestamps not increasing: adjusted")]
    NonMonotonicDts,
    /// A frame was presented before it was decoded (PTS < DTS): its composition offset
    /// was set to 0.
    #[error("video PTS before DTS: composition offset clamped to 0")]
    PtsBeforeDts,
    /// Bytes between audio frames were not a valid frame header; skipped to the next
    /// frame.
    #[error("{track} stream: skipped {bytes} bytes of invalid frame data")]
    BadFrames {
        /// The track.
        track: Track,
        /// Bytes skipped.
        bytes: usize,
    },
    /// The last audio frame was cut off at the end of the segment; dropped.
    #[error("truncated audio frame at the end of the segment ({bytes} bytes): dropped")]
    TruncatedFrame {
        /// Bytes of the partial frame.
        bytes: usize,
    },
    /// Leading bytes of a video PES were not an Annex B NAL unit; skipped.
    #[error("video PES without a start code: skipped {bytes} bytes")]
    NoStartCode {
        /// Bytes skipped.
        bytes: usize,
    },
    /// Audio frames were not contiguous (a gap or an overlap inside the stream): a new
    /// fragment starts at the frame's own time.
    #[error("audio not contiguous at {at_ms} ms ({delta_ms:+} ms): new fragment")]
    AudioGap {
        /// Milliseconds (of the track's timeline) of the frame where it broke.
        at_ms: i64,
        /// How far the frame is from where the previous one ended.
        delta_ms: i64,
    },
    /// A track's timestamps jumped between segments without a discontinuity being
    /// signalled; its timeline restarted at the new time.
    #[error("{track} timestamps jumped by {delta_ms:+} ms: treated as a discontinuity")]
    TimestampJump {
        /// The track.
        track: Track,
        /// Milliseconds from where the previous segment ended.
        delta_ms: i64,
    },
    /// A malformed ID3 tag was skipped.
    #[error("malformed ID3 tag: skipped")]
    BadId3,
    /// More warnings than are kept for one segment.
    #[error("{count} more warnings not listed")]
    More {
        /// Warnings not listed.
        count: usize,
    },
}

/// The warnings of one segment, at most [`Warnings::LIMIT`] of them listed (a stream of
/// garbage would otherwise produce one per packet).
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<Warning>,
    more: usize,
}

impl Warnings {
    /// Warnings listed per segment; the rest are counted.
    pub(crate) const LIMIT: usize = 64;

    pub(crate) fn push(&mut self, warning: Warning) {
        if self.list.len() < Self::LIMIT {
            self.list.push(warning);
        } else {
            self.more += 1;
        }
    }

    /// The list, with a [`Warning::More`] at the end when some were not kept.
    pub(crate) fn finish(mut self) -> Vec<Warning> {
        if self.more > 0 {
            self.list.push(Warning::More { count: self.more });
        }
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_capped() {
        let mut warnings = Warnings::default();
        for _ in 0..Warnings::LIMIT + 5 {
            warnings.push(Warning::BadId3);
        }
        let list = warnings.finish();
        assert_eq!(list.len(), Warnings::LIMIT + 1);
        assert_eq!(list.last(), Some(&Warning::More { count: 5 }));
        assert_eq!(list[0].to_string(), "malformed ID3 tag: skipped");
    }
}
