//! Packed audio (HLS, RFC 8216 §3.4): a segment of raw ADTS or MPEG audio frames, with
//! ID3 tags at the start (and possibly between frames). The `PRIV` frame
//! `com.apple.streaming.transportStreamTimestamp` of a tag gives the 90 kHz time of the
//! frames after it; without one the segment continues the previous one.

use crate::adts;
use crate::audio::{AudioFormat, AudioStream};
use crate::error::{Warning, Warnings};
use crate::id3;
use crate::mpa;
use crate::timestamp::Unwrapper;

/// The audio format of a packed audio segment, when `data` is one: ID3 tags, then an
/// ADTS or MPEG audio frame header.
pub(crate) fn sniff(data: &[u8]) -> Option<AudioFormat> {
    let mut pos = 0;
    while let Some(length) = data.get(pos..).and_then(id3::tag_length) {
        pos += length;
    }
    let rest = data.get(pos..)?;
    if adts::parse_header(rest).is_some() {
        Some(AudioFormat::Adts)
    } else if mpa::parse_header(rest).is_some() {
        Some(AudioFormat::Mpeg)
    } else if pos > 0 && rest.is_empty() {
        Some(AudioFormat::Adts) // tags only
    } else {
        None
    }
}

/// A tag found in the segment, with the 90 kHz time it applies at (`None`: the start
/// of the segment, when nothing else places it).
pub(crate) struct Tag<'a> {
    pub(crate) pts: Option<i64>,
    pub(crate) data: &'a [u8],
}

/// Reads a packed audio segment into `audio`; returns its ID3 tags. `previous_end` is
/// where the previous segment's audio ended, for a segment without a timestamp.
pub(crate) fn demux<'a>(
    data: &'a [u8],
    clock: &mut Unwrapper,
    audio: &mut AudioStream,
    previous_end: Option<i64>,
    warnings: &mut Warnings,
) -> Vec<Tag<'a>> {
    let mut tags = Vec::new();
    let mut pos = 0;
    let mut pts = None;
    while let Some(rest) = data.get(pos..).filter(|rest| !rest.is_empty()) {
        if let Some(length) = id3::tag_length(rest) {
            let Some(tag) = rest.get(..length) else {
                warnings.push(Warning::BadId3);
                break;
            };
            if let Some(timestamp) = id3::transport_stream_timestamp(tag) {
                pts = Some(clock.unwrap(timestamp));
            }
            tags.push(Tag {
                pts: pts.or_else(|| audio.end()),
                data: tag,
            });
            pos += length;
            continue;
        }
        if pts.is_none() {
            audio.ensure_anchor(previous_end.unwrap_or(0));
        }
        let consumed = audio.push_packed(pts.take(), rest, warnings);
        if consumed == 0 {
            break; // cannot happen: a tag would have been read above
        }
        pos += consumed;
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id3::{build_tag, timestamp_priv};
    use crate::testutil::adts_frame;

    #[test]
    fn timestamp_tag_then_frames() {
        let mut data = build_tag(4, &[(b"PRIV", &timestamp_priv(900_000))]);
        let tag_length = data.len();
        for i in 0..3 {
            data.extend(adts_frame(2, 7, 2, &[i; 50])); // 22.05 kHz
        }
        data.extend(build_tag(3, &[(b"TXXX", b"\x00a\x00b")]));
        data.extend(adts_frame(2, 7, 2, &[9; 50]));
        assert_eq!(sniff(&data), Some(AudioFormat::Adts));
        let mut audio = AudioStream::new(AudioFormat::Adts);
        let mut warnings = Warnings::default();
        let tags = demux(
            &data,
            &mut Unwrapper::default(),
            &mut audio,
            None,
            &mut warnings,
        );
        audio.finish(&mut warnings);
        assert!(warnings.finish().is_empty());
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].pts, Some(900_000));
        assert_eq!(tags[0].data.len(), tag_length);
        let pts: Vec<i64> = audio.samples.iter().map(|s| s.pts).collect();
        // 1024 samples at 22.05 kHz = 4179.6 ticks.
        assert_eq!(pts, vec![900_000, 904_180, 908_359, 912_539]);
        assert_eq!(tags[1].pts, Some(912_539));
    }

    #[test]
    fn no_timestamp_continues_and_sniffing() {
        let data = [adts_frame(2, 4, 2, &[1; 20]), adts_frame(2, 4, 2, &[2; 20])].concat();
        let mut audio = AudioStream::new(AudioFormat::Adts);
        let mut warnings = Warnings::default();
        demux(
            &data,
            &mut Unwrapper::default(),
            &mut audio,
            Some(12_345),
            &mut warnings,
        );
        assert_eq!(audio.samples.first().map(|s| s.pts), Some(12_345));
        let mut mp3 = vec![0xff, 0xfb, 0x90, 0x64];
        mp3.resize(417, 0);
        assert_eq!(sniff(&mp3), Some(AudioFormat::Mpeg));
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(sniff(&[]), None);
        let tag = build_tag(4, &[]);
        assert_eq!(sniff(&tag), Some(AudioFormat::Adts));
        // A tag cut short.
        let mut warnings = Warnings::default();
        demux(
            &tag[..12],
            &mut Unwrapper::default(),
            &mut audio,
            None,
            &mut warnings,
        );
        assert_eq!(warnings.finish(), vec![Warning::BadId3]);
    }
}
