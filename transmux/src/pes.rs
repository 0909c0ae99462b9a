//! Packetized elementary streams (ISO/IEC 13818-1 §2.4.3.6): the PES header (stream id,
//! length, PTS, DTS) and [`PesAssembler`], which joins a PID's packet payloads into whole
//! units, checking continuity counters.
//!
//! A unit is a PES with a PTS together with any following PES without one: an encoder
//! that splits a large access unit over several length-bounded PES stamps only the first,
//! so the pieces belong together (and an Annex B start code may be cut between them).

use crate::error::{Warning, Warnings};

/// What the demuxer needs from a PES header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesHeader {
    /// `stream_id`.
    pub stream_id: u8,
    /// Bytes after the length field (`PES_packet_length`), 0 when unbounded.
    pub packet_length: usize,
    /// Presentation timestamp, 33 bits of 90 kHz.
    pub pts: Option<u64>,
    /// Decode timestamp, 33 bits of 90 kHz.
    pub dts: Option<u64>,
    /// Offset of the elementary stream data from the start of the PES.
    pub payload_offset: usize,
}

/// Why a PES header could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PesError {
    /// More bytes are needed (the header continues in the next packet).
    Incomplete,
    /// Not a PES header.
    Invalid,
}

/// Parses the PES header at the start of `data`.
pub fn parse_pes_header(data: &[u8]) -> Result<PesHeader, PesError> {
    let fixed = data.get(..6).ok_or(PesError::Incomplete)?;
    if fixed[..3] != [0, 0, 1] {
        return Err(PesError::Invalid);
    }
    let stream_id = fixed[3];
    let packet_length = usize::from(u16::from_be_bytes([fixed[4], fixed[5]]));
    // Streams without the optional header: program stream map, padding, private 2,
    // ECM, EMM, DSMCC, H.222.1 type E, program stream directory.
    if matches!(
        stream_id,
        0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff
    ) {
        return Ok(PesHeader {
            stream_id,
            packet_length,
            pts: None,
            dts: None,
            payload_offset: 6,
        });
    }
    let optional = data.get(6..9).ok_or(PesError::Incomplete)?;
    if optional[0] & 0xc0 != 0x80 {
        return Err(PesError::Invalid);
    }
    let header_length = usize::from(optional[2]);
    let payload_offset = 9 + header_length;
    let fields = data.get(9..payload_offset).ok_or(PesError::Incomplete)?;
    if packet_length != 0 && packet_length < 3 + header_length {
        return Err(PesError::Invalid);
    }
    let (pts, dts) = match optional[1] >> 6 {
        0b10 => (
            Some(timestamp(fields.get(..5).ok_or(PesError::Invalid)?)),
            None,
        ),
        0b11 => (
            Some(timestamp(fields.get(..5).ok_or(PesError::Invalid)?)),
            Some(timestamp(fields.get(5..10).ok_or(PesError::Invalid)?)),
        ),
        _ => (None, None),
    };
    Ok(PesHeader {
        stream_id,
        packet_length,
        pts,
        dts,
        payload_offset,
    })
}

/// A 33-bit timestamp from its five bytes (marker bits ignored).
fn timestamp(b: &[u8]) -> u64 {
    let byte = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
    ((byte(0) >> 1) & 0x7) << 30
        | byte(1) << 22
        | (byte(2) >> 1) << 15
        | byte(3) << 7
        | (byte(4) >> 1)
}

/// A complete unit handed to the elementary stream readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit<'a> {
    /// The PID it came on.
    pub pid: u16,
    /// PTS of its first PES, 33 bits.
    pub pts: Option<u64>,
    /// DTS of its first PES, 33 bits.
    pub dts: Option<u64>,
    /// The elementary stream bytes.
    pub data: &'a [u8],
}

/// Joins one PID's payloads into units.
#[derive(Debug, Default)]
pub(crate) struct PesAssembler {
    pid: u16,
    /// Elementary stream bytes of the unit so far.
    data: Vec<u8>,
    /// Timestamps of the unit's first PES.
    pts: Option<u64>,
    dts: Option<u64>,
    /// A PES header split over packets, waiting for the rest.
    header: Vec<u8>,
    /// Whether a PES is open (bytes are being added to `data` or `header`).
    open: bool,
    /// Declared and received bytes of the current PES (after its length field).
    declared: usize,
    received: usize,
    /// The last continuity counter, for the gap check.
    continuity: Option<u8>,
}

/// Longest unit accepted (a 1080p keyframe is well under 2 MB); longer data is dropped
/// as broken rather than grown without end.
const MAX_UNIT: usize = 16 << 20;

impl PesAssembler {
    pub(crate) fn new(pid: u16) -> Self {
        PesAssembler {
            pid,
            ..PesAssembler::default()
        }
    }

    /// Feeds one packet of this PID; calls `unit` with a unit it completes. `restart`
    /// means the adaptation field signalled a discontinuity (the counter may jump).
    pub(crate) fn push(
        &mut self,
        packet: &crate::ts::Packet<'_>,
        warnings: &mut Warnings,
        mut unit: impl FnMut(Unit<'_>, &mut Warnings),
    ) {
        if !packet.has_payload {
            return; // Counters do not advance on packets without payload.
        }
        let restart = packet.adaptation.is_some_and(|a| a.discontinuity);
        if let Some(last) = self.continuity {
            let expected = (last + 1) & 0x0f;
            if packet.continuity == last && !restart {
                return; // A duplicate packet, sent once more: ignore it.
            }
            if packet.continuity != expected && !restart {
                warnings.push(Warning::ContinuityGap {
                    pid: self.pid,
                    expected,
                    found: packet.continuity,
                });
                self.drop_unit();
            }
        }
        self.continuity = Some(packet.continuity);

        if packet.unit_start {
            self.end_pes(warnings);
            self.header.clear();
            self.header.extend_from_slice(packet.payload);
            self.open = true;
            self.start_pes(warnings, &mut unit);
        } else if !self.open {
            // The middle of a PES whose start we lost (or never saw): skip to the next.
        } else if !self.header.is_empty() {
            self.header.extend_from_slice(packet.payload);
            self.start_pes(warnings, &mut unit);
        } else {
            self.add(packet.payload, warnings);
        }
    }

    /// Parses the header collected in `header`: starts a new unit, or continues the
    /// current one when this PES has no PTS.
    fn start_pes(
        &mut self,
        warnings: &mut Warnings,
        unit: &mut impl FnMut(Unit<'_>, &mut Warnings),
    ) {
        let header = match parse_pes_header(&self.header) {
            Ok(header) => header,
            Err(PesError::Incomplete) if self.header.len() < 9 + 255 => return,
            Err(_) => {
                warnings.push(Warning::BadPesHeader { pid: self.pid });
                self.drop_unit();
                self.header.clear();
                return;
            }
        };
        let header_bytes = core::mem::take(&mut self.header);
        if header.pts.is_some() || self.data.is_empty() {
            self.flush(warnings, unit);
            self.pts = header.pts;
            self.dts = header.dts.or(header.pts);
        }
        self.declared = header
            .packet_length
            .saturating_sub(header.payload_offset - 6);
        self.received = 0;
        if header.packet_length == 0 {
            self.declared = 0;
        }
        self.add(
            header_bytes.get(header.payload_offset..).unwrap_or(&[]),
            warnings,
        );
        self.header = header_bytes;
        self.header.clear();
    }

    /// Appends elementary stream bytes of the current PES, cut at its declared length.
    fn add(&mut self, bytes: &[u8], warnings: &mut Warnings) {
        let take = if self.declared > 0 {
            bytes.len().min(self.declared.saturating_sub(self.received))
        } else {
            bytes.len()
        };
        self.received += bytes.len();
        if self.data.len() + take > MAX_UNIT {
            warnings.push(Warning::BadPesHeader { pid: self.pid });
            self.drop_unit();
            return;
        }
        self.data
            .extend_from_slice(bytes.get(..take).unwrap_or(&[]));
    }

    /// The current PES ends (another starts, or the input ends): a bounded PES that got
    /// fewer bytes than declared is dropped with its unit.
    fn end_pes(&mut self, warnings: &mut Warnings) {
        if self.open && self.header.is_empty() && self.declared > 0 && self.received < self.declared
        {
            warnings.push(Warning::TruncatedPes {
                pid: self.pid,
                expected: self.declared,
                got: self.received,
            });
            self.drop_unit();
        } else if self.open && !self.header.is_empty() {
            warnings.push(Warning::BadPesHeader { pid: self.pid });
            self.drop_unit();
        }
    }

    /// Hands out the unit collected so far, if any, and empties it.
    fn flush(&mut self, warnings: &mut Warnings, unit: &mut impl FnMut(Unit<'_>, &mut Warnings)) {
        if !self.data.is_empty() {
            unit(
                Unit {
                    pid: self.pid,
                    pts: self.pts,
                    dts: self.dts,
                    data: &self.data,
                },
                warnings,
            );
        }
        self.data.clear();
        self.pts = None;
        self.dts = None;
    }

    /// Ends the input: the last unit is complete (a segment's last PES ends with it).
    pub(crate) fn finish(
        &mut self,
        warnings: &mut Warnings,
        mut unit: impl FnMut(Unit<'_>, &mut Warnings),
    ) {
        self.end_pes(warnings);
        self.flush(warnings, &mut unit);
        self.open = false;
        self.header.clear();
    }

    /// Drops the unit being assembled and waits for the next PES start.
    fn drop_unit(&mut self) {
        self.data.clear();
        self.header.clear();
        self.pts = None;
        self.dts = None;
        self.open = false;
        self.declared = 0;
        self.received = 0;
    }

    /// Forgets everything, counters included (a discontinuity).
    pub(crate) fn reset(&mut self) {
        self.drop_unit();
        self.continuity = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{encode_timestamp, pes_bytes, pes_packets};
    use crate::ts::parse_packet;

    fn collect(
        assembler: &mut PesAssembler,
        packets: &[Vec<u8>],
        warnings: &mut Warnings,
    ) -> Vec<(Option<u64>, Option<u64>, Vec<u8>)> {
        let mut units = Vec::new();
        for bytes in packets {
            let packet = parse_packet(bytes).unwrap();
            assembler.push(&packet, warnings, |unit, _| {
                units.push((unit.pts, unit.dts, unit.data.to_vec()));
            });
        }
        assembler.finish(warnings, |unit, _| {
            units.push((unit.pts, unit.dts, unit.data.to_vec()))
        });
        units
    }

    #[test]
    fn header_with_pts_and_dts() {
        let pes = pes_bytes(
            0xe0,
            Some(0x1_ffff_fffe),
            Some(0x1_0000_0001),
            &[1, 2, 3],
            true,
        );
        let header = parse_pes_header(&pes).unwrap();
        assert_eq!(header.stream_id, 0xe0);
        assert_eq!(header.pts, Some(0x1_ffff_fffe));
        assert_eq!(header.dts, Some(0x1_0000_0001));
        assert_eq!(&pes[header.payload_offset..], &[1, 2, 3]);
        assert_eq!(header.packet_length, pes.len() - 6);
        assert_eq!(parse_pes_header(&pes[..8]), Err(PesError::Incomplete));
        assert_eq!(
            parse_pes_header(&[0, 0, 2, 0xe0, 0, 0]),
            Err(PesError::Invalid)
        );
        let padding = parse_pes_header(&[0, 0, 1, 0xbe, 0, 2, 0xff, 0xff]).unwrap();
        assert_eq!((padding.pts, padding.payload_offset), (None, 6));
        assert_eq!(encode_timestamp(2, 0).len(), 5);
    }

    #[test]
    fn pes_across_packets() {
        let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut packets = pes_packets(0x100, 0xe0, Some(900), None, &payload, false, 0);
        packets.extend(pes_packets(
            0x100,
            0xe0,
            Some(4500),
            Some(900),
            &[7; 300],
            true,
            packets.len() as u8,
        ));
        assert!(packets.len() > 6);
        let mut warnings = Warnings::default();
        let units = collect(&mut PesAssembler::new(0x100), &packets, &mut warnings);
        assert_eq!(units.len(), 2);
        assert_eq!(units[0], (Some(900), Some(900), payload));
        assert_eq!(units[1], (Some(4500), Some(900), vec![7; 300]));
        assert!(warnings.finish().is_empty());
    }

    #[test]
    fn continuity_gap_drops_the_broken_pes() {
        let mut packets = pes_packets(0x100, 0xc0, Some(0), None, &[1; 500], false, 0);
        let next = packets.len() as u8;
        packets.extend(pes_packets(
            0x100,
            0xc0,
            Some(1000),
            None,
            &[2; 500],
            false,
            next,
        ));
        let next = packets.len() as u8;
        packets.extend(pes_packets(
            0x100,
            0xc0,
            Some(2000),
            None,
            &[3; 100],
            false,
            next,
        ));
        packets.remove(4); // the second PES's second packet
        let mut warnings = Warnings::default();
        let units = collect(&mut PesAssembler::new(0x100), &packets, &mut warnings);
        assert_eq!(
            units.iter().map(|u| u.0).collect::<Vec<_>>(),
            vec![Some(0), Some(2000)]
        );
        assert_eq!(
            warnings.finish(),
            vec![Warning::ContinuityGap {
                pid: 0x100,
                expected: 4,
                found: 5
            }]
        );
    }

    #[test]
    fn duplicates_ignored_and_discontinuity_indicator_honoured() {
        let mut packets = pes_packets(0x100, 0xc0, Some(0), None, &[1; 400], false, 0);
        packets.insert(1, packets[1].clone()); // the same packet twice: allowed once
        let mut warnings = Warnings::default();
        let units = collect(&mut PesAssembler::new(0x100), &packets, &mut warnings);
        assert_eq!(units[0].2, vec![1; 400]);
        assert!(warnings.finish().is_empty());

        // A counter jump flagged by the adaptation field's discontinuity indicator.
        let mut packets = pes_packets(0x100, 0xc0, Some(0), None, &[1; 100], false, 0);
        let mut second = pes_packets(0x100, 0xc0, Some(9000), None, &[2; 100], false, 9);
        assert_eq!(second[0][3] & 0x20, 0x20, "has an adaptation field");
        second[0][5] |= 0x80;
        packets.extend(second);
        let mut warnings = Warnings::default();
        let units = collect(&mut PesAssembler::new(0x100), &packets, &mut warnings);
        assert_eq!(units.len(), 2);
        assert!(warnings.finish().is_empty());
    }

    #[test]
    fn truncated_bounded_pes_dropped_and_pes_without_pts_joined() {
        // A bounded PES missing its last packet (the counters still follow on).
        let mut packets = pes_packets(0x100, 0xe0, Some(0), None, &[1; 600], true, 0);
        packets.pop();
        let next = packets.len() as u8;
        packets.extend(pes_packets(
            0x100,
            0xe0,
            Some(3000),
            None,
            &[2; 200],
            true,
            next,
        ));
        // A PES without a PTS continues the unit before it.
        let next = packets.len() as u8;
        packets.extend(pes_packets(0x100, 0xe0, None, None, &[3; 50], true, next));
        let mut warnings = Warnings::default();
        let units = collect(&mut PesAssembler::new(0x100), &packets, &mut warnings);
        let mut joined = vec![2; 200];
        joined.extend([3; 50]);
        assert_eq!(units, vec![(Some(3000), Some(3000), joined)]);
        assert!(matches!(
            warnings.finish().as_slice(),
            [Warning::TruncatedPes { pid: 0x100, .. }]
        ));
    }

    #[test]
    fn garbage_instead_of_a_header() {
        let mut packets = pes_packets(0x100, 0xe0, Some(0), None, &[1; 100], false, 0);
        let at = 4 + packets[0][4] as usize + 1 + 2;
        packets[0][at] = 9; // break the start code prefix
        let mut warnings = Warnings::default();
        let units = collect(&mut PesAssembler::new(0x100), &packets, &mut warnings);
        assert!(units.is_empty());
        assert_eq!(
            warnings.finish(),
            vec![Warning::BadPesHeader { pid: 0x100 }]
        );
    }
}
