//! MPEG transport stream packets (ISO/IEC 13818-1 §2.4.3): 188 bytes, a 4-byte header,
//! an optional adaptation field (with the PCR) and a payload. [`Packets`] walks a buffer
//! packet by packet and finds the sync byte again when it is lost.

use crate::error::{Warning, Warnings};

/// Bytes of a transport packet.
pub const PACKET_SIZE: usize = 188;
/// The byte every packet starts with.
pub const SYNC: u8 = 0x47;
/// The null packet's PID (stuffing).
pub const NULL_PID: u16 = 0x1fff;

/// A parsed transport packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The packet identifier.
    pub pid: u16,
    /// `payload_unit_start_indicator`: a PES or PSI section starts in this packet.
    pub unit_start: bool,
    /// `transport_error_indicator`.
    pub error: bool,
    /// `transport_scrambling_control` (0 = clear).
    pub scrambling: u8,
    /// The 4-bit continuity counter.
    pub continuity: u8,
    /// Whether the header says a payload follows (counters only count such packets).
    pub has_payload: bool,
    /// The adaptation field's flags and PCR, when there is one.
    pub adaptation: Option<Adaptation>,
    /// The payload (empty when there is none).
    pub payload: &'a [u8],
}

/// What this demuxer reads from an adaptation field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Adaptation {
    /// `discontinuity_indicator`: the continuity counter (and the PCR) may restart.
    pub discontinuity: bool,
    /// `random_access_indicator`.
    pub random_access: bool,
    /// The program clock reference, in 27 MHz ticks (base × 300 + extension).
    pub pcr: Option<u64>,
}

/// Why a packet was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// It does not start with [`SYNC`] or is not [`PACKET_SIZE`] bytes.
    NotAPacket,
    /// The adaptation field claims more bytes than the packet has.
    BadAdaptation {
        /// The packet's PID.
        pid: u16,
    },
}

/// Parses one 188-byte packet.
pub fn parse_packet(bytes: &[u8]) -> Result<Packet<'_>, PacketError> {
    if bytes.len() != PACKET_SIZE || bytes.first() != Some(&SYNC) {
        return Err(PacketError::NotAPacket);
    }
    let (b1, b2, b3) = match (bytes.get(1), bytes.get(2), bytes.get(3)) {
        (Some(&b1), Some(&b2), Some(&b3)) => (b1, b2, b3),
        _ => return Err(PacketError::NotAPacket),
    };
    let pid = (u16::from(b1 & 0x1f) << 8) | u16::from(b2);
    let control = (b3 >> 4) & 0x3;
    let has_adaptation = control & 0x2 != 0;
    let has_payload = control & 0x1 != 0;
    let mut offset = 4;
    let mut adaptation = None;
    if has_adaptation {
        let length = usize::from(*bytes.get(4).ok_or(PacketError::BadAdaptation { pid })?);
        let field = bytes
            .get(5..5 + length)
            .ok_or(PacketError::BadAdaptation { pid })?;
        adaptation = Some(parse_adaptation(field));
        offset = 5 + length;
    }
    let payload = if has_payload {
        bytes.get(offset..).unwrap_or(&[])
    } else {
        &[]
    };
    Ok(Packet {
        pid,
        unit_start: b1 & 0x40 != 0,
        error: b1 & 0x80 != 0,
        scrambling: b3 >> 6,
        continuity: b3 & 0x0f,
        has_payload,
        adaptation,
        payload,
    })
}

/// The adaptation field after its length byte.
fn parse_adaptation(field: &[u8]) -> Adaptation {
    let Some(&flags) = field.first() else {
        return Adaptation::default();
    };
    let pcr = if flags & 0x10 != 0 {
        field.get(1..7).map(|b| {
            let base = (u64::from(b[0]) << 25)
                | (u64::from(b[1]) << 17)
                | (u64::from(b[2]) << 9)
                | (u64::from(b[3]) << 1)
                | (u64::from(b[4]) >> 7);
            let extension = (u64::from(b[4] & 1) << 8) | u64::from(b[5]);
            base * 300 + extension
        })
    } else {
        None
    };
    Adaptation {
        discontinuity: flags & 0x80 != 0,
        random_access: flags & 0x40 != 0,
        pcr,
    }
}

/// Whether `data` looks like a transport stream: a sync byte repeated at 188-byte
/// intervals (three times, or as often as the data allows), starting within the first
/// packets (some segments begin with a few bytes of junk).
pub fn looks_like_ts(data: &[u8]) -> bool {
    find_sync(data, 0, PACKET_SIZE * 2).is_some()
}

/// The first offset at or after `from` (and at most `from + window`) where a whole packet
/// starts with a sync byte followed by sync bytes one and two packets later (or the data
/// ends).
fn find_sync(data: &[u8], from: usize, window: usize) -> Option<usize> {
    let end = data
        .len()
        .min(from.saturating_add(window).saturating_add(1));
    (from..end).find(|&start| {
        data.get(start) == Some(&SYNC)
            && (1..3).all(|n| {
                data.get(start + n * PACKET_SIZE)
                    .is_none_or(|&byte| byte == SYNC)
            })
            // A whole packet must follow.
            && data.len() - start >= PACKET_SIZE
    })
}

/// Iterates over the packets of a buffer, skipping to the next sync byte (with a
/// [`Warning::LostSync`]) when a packet does not start with one, and warning about a
/// truncated last packet.
pub(crate) struct Packets<'a> {
    data: &'a [u8],
    pos: usize,
    /// The last resynchronisation search: from where, and what it found (so damaged
    /// data is searched once, not once per packet).
    searched: Option<(usize, Option<usize>)>,
}

impl<'a> Packets<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Packets {
            data,
            pos: 0,
            searched: None,
        }
    }

    /// The next sync position after the current one.
    fn resync(&mut self) -> Option<usize> {
        let from = self.pos + 1;
        let found = match self.searched {
            Some((_, Some(found))) if found >= from => Some(found),
            Some((start, None)) if start <= from => None,
            _ => find_sync(self.data, from, usize::MAX),
        };
        self.searched = Some((from, found));
        found
    }

    /// The next complete packet's bytes.
    pub(crate) fn next_packet(&mut self, warnings: &mut Warnings) -> Option<&'a [u8]> {
        loop {
            let rest = self.data.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            if rest.first() != Some(&SYNC) || rest.get(PACKET_SIZE).is_some_and(|&b| b != SYNC) {
                // Either this is not a packet start, or the next one is not where it
                // should be: find a position where the sync pattern holds again.
                match self.resync() {
                    Some(next) if rest.first() != Some(&SYNC) => {
                        warnings.push(Warning::LostSync {
                            bytes: next - self.pos,
                        });
                        self.pos = next;
                        continue;
                    }
                    Some(next) if next < self.pos + PACKET_SIZE => {
                        // A sync byte here but the packet is cut short by the next one.
                        warnings.push(Warning::LostSync {
                            bytes: next - self.pos,
                        });
                        self.pos = next;
                        continue;
                    }
                    Some(_) => {} // This packet is whole; the damage is after it.
                    None if rest.first() != Some(&SYNC) => {
                        warnings.push(Warning::LostSync { bytes: rest.len() });
                        self.pos = self.data.len();
                        return None;
                    }
                    None => {}
                }
            }
            match rest.get(..PACKET_SIZE) {
                Some(packet) => {
                    self.pos += PACKET_SIZE;
                    return Some(packet);
                }
                None => {
                    warnings.push(Warning::TruncatedPacket { bytes: rest.len() });
                    self.pos = self.data.len();
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{packet, packet_with_pcr};

    #[test]
    fn header_fields() {
        let bytes = packet(0x101, true, 7, &[1, 2, 3]);
        let parsed = parse_packet(&bytes).unwrap();
        assert_eq!(parsed.pid, 0x101);
        assert!(parsed.unit_start);
        assert!(!parsed.error);
        assert_eq!(parsed.continuity, 7);
        assert!(parsed.has_payload);
        // Stuffing goes into an adaptation field, so the payload is exactly the data.
        assert_eq!(parsed.payload, &[1, 2, 3]);
        assert!(parsed.adaptation.is_some());
    }

    #[test]
    fn adaptation_field_with_pcr() {
        let pcr_base = 0x1_2345_6789u64; // 33 bits
        let bytes = packet_with_pcr(0x100, 3, pcr_base, 123, &[9; 10]);
        let parsed = parse_packet(&bytes).unwrap();
        let adaptation = parsed.adaptation.unwrap();
        assert_eq!(adaptation.pcr, Some(pcr_base * 300 + 123));
        assert!(adaptation.random_access);
        assert_eq!(parsed.payload, &[9; 10]);
    }

    #[test]
    fn adaptation_only_and_bad_adaptation() {
        let mut bytes = vec![SYNC, 0x01, 0x00, 0x20, 183, 0x00];
        bytes.resize(PACKET_SIZE, 0xff);
        let parsed = parse_packet(&bytes).unwrap();
        assert!(!parsed.has_payload);
        assert!(parsed.payload.is_empty());
        bytes[4] = 184; // one more than the packet holds
        assert_eq!(
            parse_packet(&bytes),
            Err(PacketError::BadAdaptation { pid: 0x100 })
        );
        assert_eq!(parse_packet(&bytes[..100]), Err(PacketError::NotAPacket));
    }

    #[test]
    fn resyncs_after_garbage_and_reports_truncation() {
        let mut data = packet(0x100, true, 0, &[1]);
        data.extend_from_slice(&[0x00, 0x47, 0x12]); // junk, including a false sync byte
        data.extend(packet(0x100, false, 1, &[2]));
        data.extend(packet(0x100, false, 2, &[3]));
        data.extend_from_slice(&packet(0x100, false, 3, &[4])[..50]);
        let mut warnings = Warnings::default();
        let mut packets = Packets::new(&data);
        let mut seen = Vec::new();
        while let Some(bytes) = packets.next_packet(&mut warnings) {
            seen.push(parse_packet(bytes).unwrap().continuity);
        }
        assert_eq!(seen, vec![0, 1, 2]);
        assert_eq!(
            warnings.finish(),
            vec![
                Warning::LostSync { bytes: 3 },
                Warning::TruncatedPacket { bytes: 50 }
            ]
        );
    }

    #[test]
    fn sniffing() {
        let mut data = packet(0, true, 0, &[0]);
        data.extend(packet(0, false, 1, &[0]));
        assert!(looks_like_ts(&data));
        assert!(looks_like_ts(&data[..PACKET_SIZE]));
        let mut shifted = vec![0u8; 5];
        shifted.extend_from_slice(&data);
        assert!(looks_like_ts(&shifted));
        assert!(!looks_like_ts(b"ID3\x04\0\0\0\0\0\0"));
        assert!(!looks_like_ts(&[SYNC]));
        assert!(!looks_like_ts(&[]));
    }
}
