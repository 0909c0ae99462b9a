//! Reads the timing of MPEG-TS media segments: the decode time (else the presentation
//! time) of the first PES packet in a segment's first bytes.
//!
//! The browser shell places TS segments on the playlist timeline with it, as it does
//! fMP4 segments with [`crate::mp4`]: a stream whose timestamps do not start where its
//! playlist does (an encoder's offset of 10 s, a capture of a long-running channel, a
//! segment repeated without a discontinuity) would otherwise land elsewhere, or on top
//! of media already buffered. Truncated or malformed packets give `None`, never a panic.

/// Bytes of a transport stream packet.
const PACKET_BYTES: usize = 188;
/// The sync byte every packet starts with.
const SYNC: u8 = 0x47;
/// Ticks of the PES clock per second.
const CLOCK_HZ: f64 = 90_000.0;

/// Seconds of the first PES timestamp (DTS when present, else PTS) among the packets of
/// `segment` (or of its first bytes); `None` when they are not a transport stream or
/// carry no timestamp.
pub fn segment_start(segment: &[u8]) -> Option<f64> {
    let looks_like_ts = segment.first() == Some(&SYNC)
        && segment.get(PACKET_BYTES).is_none_or(|byte| *byte == SYNC);
    if !looks_like_ts {
        return None;
    }
    segment
        .chunks_exact(PACKET_BYTES)
        .take_while(|packet| packet[0] == SYNC)
        .find_map(pes_timestamp)
        .map(|ticks| ticks as f64 / CLOCK_HZ)
}

/// The timestamp of the PES header that starts in `packet`, if one does.
fn pes_timestamp(packet: &[u8]) -> Option<u64> {
    let payload_start = packet[1] & 0x40 != 0;
    let pid = (u16::from(packet[1] & 0x1f) << 8) | u16::from(packet[2]);
    let control = (packet[3] >> 4) & 0x3;
    if !payload_start || pid == 0 || pid == 0x1fff || control & 0x1 == 0 {
        return None;
    }
    let payload = if control & 0x2 != 0 {
        packet.get(5 + usize::from(packet[4])..)?
    } else {
        &packet[4..]
    };
    if payload.get(0..3)? != [0, 0, 1] {
        return None;
    }
    // Only elementary streams with the optional PES header: audio, video, private 1.
    let stream_id = *payload.get(3)?;
    if !matches!(stream_id, 0xbd | 0xc0..=0xef) {
        return None;
    }
    match payload.get(7)? >> 6 {
        0b11 => timestamp(payload.get(14..19)?),
        0b10 => timestamp(payload.get(9..14)?),
        _ => None,
    }
}

/// A 33-bit PES timestamp from its five bytes.
fn timestamp(bytes: &[u8]) -> Option<u64> {
    let b: [u8; 5] = bytes.try_into().ok()?;
    Some(
        (u64::from(b[0] >> 1) & 0x7) << 30
            | u64::from(b[1]) << 22
            | u64::from(b[2] >> 1) << 15
            | u64::from(b[3]) << 7
            | u64::from(b[4] >> 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(prefix: u8, ticks: u64) -> [u8; 5] {
        [
            prefix << 4 | ((ticks >> 29) as u8 & 0x0e) | 1,
            (ticks >> 22) as u8,
            ((ticks >> 14) as u8 & 0xfe) | 1,
            (ticks >> 7) as u8,
            ((ticks << 1) as u8 & 0xfe) | 1,
        ]
    }

    /// A packet of `pid`; with `pes`, a PES header of `stream_id` with a PTS and maybe a
    /// DTS starts in it (after an adaptation field when `adaptation` bytes are given).
    fn packet(pid: u16, pes: Option<(u8, u64, Option<u64>)>, adaptation: usize) -> Vec<u8> {
        let mut out = vec![SYNC, (pid >> 8) as u8, pid as u8, 0x10];
        if pes.is_some() {
            out[1] |= 0x40;
        }
        if adaptation > 0 {
            out[3] |= 0x20;
            out.push(adaptation as u8);
            out.extend(std::iter::repeat_n(0xff, adaptation));
        }
        if let Some((stream_id, pts, dts)) = pes {
            out.extend_from_slice(&[0, 0, 1, stream_id, 0, 0, 0x80]);
            match dts {
                Some(dts) => {
                    out.extend_from_slice(&[0xc0, 10]);
                    out.extend_from_slice(&encode(0b0011, pts));
                    out.extend_from_slice(&encode(0b0001, dts));
                }
                None => {
                    out.extend_from_slice(&[0x80, 5]);
                    out.extend_from_slice(&encode(0b0010, pts));
                }
            }
        }
        out.resize(PACKET_BYTES, 0xff);
        out
    }

    #[test]
    fn first_pes_timestamp_after_tables() {
        // PAT, PMT, then audio with a PTS: the audio's.
        let segment = [
            packet(0, None, 0),
            packet(4096, None, 0),
            packet(257, Some((0xc0, 131_280, None)), 0),
            packet(256, Some((0xe0, 133_200, Some(126_000))), 0),
        ]
        .concat();
        assert_eq!(segment_start(&segment), Some(131_280.0 / 90_000.0));
        // Video first, behind an adaptation field (PCR): its DTS.
        let segment = [
            packet(0, None, 0),
            packet(256, Some((0xe0, 133_200, Some(126_000))), 7),
            packet(257, Some((0xc0, 131_280, None)), 0),
        ]
        .concat();
        assert_eq!(segment_start(&segment), Some(1.4));
        // The whole 33-bit range, e.g. a capture of a long-running channel.
        let late = (1u64 << 33) - 90_000;
        let segment = packet(256, Some((0xe0, late, None)), 0);
        assert_eq!(segment_start(&segment), Some(late as f64 / 90_000.0));
    }

    #[test]
    fn other_bytes_are_none_not_a_panic() {
        assert_eq!(segment_start(&[]), None);
        // Packed audio (ID3, ADTS) and MP4 are not transport streams.
        assert_eq!(segment_start(b"ID3\x04\x00\x00\x00\x00\x00\x3f"), None);
        assert_eq!(segment_start(&[0xff, 0xf1, 0x5c, 0x80]), None);
        assert_eq!(segment_start(b"\x00\x00\x00\x18stypmsdh"), None);
        // No timestamp anywhere.
        assert_eq!(
            segment_start(&[packet(0, None, 0), packet(4096, None, 0)].concat()),
            None
        );
        // Every prefix and a huge adaptation field are safe.
        let segment = [
            packet(0, None, 0),
            packet(256, Some((0xe0, 900_000, None)), 0),
        ]
        .concat();
        for end in 0..segment.len() {
            let _ = segment_start(&segment[..end]);
        }
        let mut bad = packet(256, Some((0xe0, 1, None)), 0);
        bad[3] |= 0x20;
        bad[4] = 0xff;
        assert_eq!(segment_start(&bad), None);
    }
}
