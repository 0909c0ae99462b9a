//! Program specific information: the program association table (PAT, PID 0) and the
//! program map table (PMT), reassembled from packets into sections (a section may span
//! packets, and a packet may end one section and start another), CRC-checked, parsed.

use crate::error::{Warning, Warnings};

/// `stream_type` of H.264 video (ITU-T H.264 | ISO/IEC 14496-10).
pub const STREAM_H264: u8 = 0x1b;
/// `stream_type` of AAC in ADTS (ISO/IEC 13818-7).
pub const STREAM_AAC_ADTS: u8 = 0x0f;
/// `stream_type` of MPEG-1 audio (layers I–III: MP3).
pub const STREAM_MPEG1_AUDIO: u8 = 0x03;
/// `stream_type` of MPEG-2 audio (lower sampling frequencies).
pub const STREAM_MPEG2_AUDIO: u8 = 0x04;
/// `stream_type` of metadata carried in PES packets (HLS timed ID3).
pub const STREAM_METADATA_PES: u8 = 0x15;

/// One program of the PAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramEntry {
    /// `program_number` (never 0: that entry names the network PID and is skipped).
    pub number: u16,
    /// PID of its PMT.
    pub pmt_pid: u16,
}

/// One elementary stream of a PMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEntry {
    /// `stream_type`.
    pub stream_type: u8,
    /// `elementary_PID`.
    pub pid: u16,
}

/// A parsed PMT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pmt {
    /// The program it describes.
    pub program: u16,
    /// The PID carrying its PCR.
    pub pcr_pid: u16,
    /// Its elementary streams in table order.
    pub streams: Vec<StreamEntry>,
}

/// CRC-32/MPEG-2 (polynomial 0x04C11DB7, no reflection, initial value all ones) as PSI
/// sections carry it; a whole section including its CRC yields 0.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Bytes of the longest section (`section_length` has 12 bits).
const MAX_SECTION: usize = 3 + 4095;

/// Reassembles the sections of one PID.
#[derive(Debug, Default)]
pub(crate) struct SectionBuffer {
    buf: Vec<u8>,
    /// Whether `buf` holds the start of a section still incomplete.
    open: bool,
}

impl SectionBuffer {
    /// Feeds one packet's payload; calls `section` with every section it completes.
    pub(crate) fn feed(
        &mut self,
        payload: &[u8],
        unit_start: bool,
        mut section: impl FnMut(&[u8]),
    ) {
        let mut rest = payload;
        if unit_start {
            let Some((&pointer, after)) = rest.split_first() else {
                return;
            };
            let pointer = usize::from(pointer);
            let Some(tail) = after.get(..pointer) else {
                self.reset();
                return;
            };
            if self.open {
                self.buf.extend_from_slice(tail);
                self.drain(&mut section);
            }
            self.reset();
            rest = after.get(pointer..).unwrap_or(&[]);
            self.open = true;
        } else if !self.open {
            return;
        }
        self.buf.extend_from_slice(rest);
        self.drain(&mut section);
    }

    /// Hands out every complete section at the front of `buf`; stops at stuffing (0xFF),
    /// which ends what the packet carries.
    fn drain(&mut self, section: &mut impl FnMut(&[u8])) {
        let mut start = 0;
        let mut stuffing = false;
        loop {
            match self.buf.get(start) {
                None => break,
                Some(0xff) => {
                    stuffing = true;
                    break;
                }
                Some(_) => {}
            }
            let Some(length) = self.buf.get(start + 1..start + 3) else {
                break;
            };
            let total = 3 + ((usize::from(length[0] & 0x0f) << 8) | usize::from(length[1]));
            match self.buf.get(start..start + total) {
                Some(bytes) => {
                    section(bytes);
                    start += total;
                }
                None => break,
            }
        }
        if stuffing || self.buf.len() > MAX_SECTION {
            self.reset();
        } else {
            self.buf.drain(..start.min(self.buf.len()));
            self.open = !self.buf.is_empty();
        }
    }

    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.open = false;
    }
}

/// The checked body of a long-form section (after the 8-byte header, before the CRC),
/// when `table_id` matches, the CRC holds and `current_next_indicator` is set.
fn section_body<'a>(
    section: &'a [u8],
    table_id: u8,
    table: &'static str,
    warnings: &mut Warnings,
) -> Option<(&'a [u8], &'a [u8])> {
    if section.first() != Some(&table_id) {
        return None;
    }
    if section.len() < 12 || crc32_mpeg2(section) != 0 {
        warnings.push(Warning::BadSection { table });
        return None;
    }
    let header = section.get(..8)?;
    if header.get(5)? & 0x01 == 0 {
        return None; // not yet applicable
    }
    Some((header, section.get(8..section.len() - 4)?))
}

/// The programs of a PAT section (`None` when it is not a valid, current PAT).
pub(crate) fn parse_pat(section: &[u8], warnings: &mut Warnings) -> Option<Vec<ProgramEntry>> {
    let (_, body) = section_body(section, 0x00, "PAT", warnings)?;
    Some(
        body.chunks_exact(4)
            .map(|entry| ProgramEntry {
                number: u16::from_be_bytes([entry[0], entry[1]]),
                pmt_pid: u16::from_be_bytes([entry[2] & 0x1f, entry[3]]),
            })
            .filter(|entry| entry.number != 0)
            .collect(),
    )
}

/// A PMT section (`None` when it is not a valid, current PMT).
pub(crate) fn parse_pmt(section: &[u8], warnings: &mut Warnings) -> Option<Pmt> {
    let (header, body) = section_body(section, 0x02, "PMT", warnings)?;
    let program = u16::from_be_bytes([*header.get(3)?, *header.get(4)?]);
    let Some(fixed) = body.get(..4) else {
        warnings.push(Warning::BadSection { table: "PMT" });
        return None;
    };
    let pcr_pid = u16::from_be_bytes([fixed[0] & 0x1f, fixed[1]]);
    let info_length = usize::from(u16::from_be_bytes([fixed[2] & 0x0f, fixed[3]]));
    let mut rest = body.get(4 + info_length..).unwrap_or(&[]);
    let mut streams = Vec::new();
    while let Some(entry) = rest.get(..5) {
        let es_info_length = usize::from(u16::from_be_bytes([entry[3] & 0x0f, entry[4]]));
        streams.push(StreamEntry {
            stream_type: entry[0],
            pid: u16::from_be_bytes([entry[1] & 0x1f, entry[2]]),
        });
        rest = rest.get(5 + es_info_length..).unwrap_or(&[]);
    }
    Some(Pmt {
        program,
        pcr_pid,
        streams,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{pat_section, pmt_section};

    #[test]
    fn crc_of_a_known_section() {
        // A PAT from ffmpeg's mpegts muxer: program 1 on PMT PID 0x1000.
        let pat = [
            0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1,
            0x04, 0xb2,
        ];
        assert_eq!(crc32_mpeg2(&pat), 0);
        let mut warnings = Warnings::default();
        assert_eq!(
            parse_pat(&pat, &mut warnings),
            Some(vec![ProgramEntry {
                number: 1,
                pmt_pid: 0x1000
            }])
        );
    }

    #[test]
    fn pat_and_pmt_round_trip() {
        let mut warnings = Warnings::default();
        let pat = pat_section(&[(0, 0x10), (1, 0x100), (2, 0x200)]);
        assert_eq!(
            parse_pat(&pat, &mut warnings).unwrap(),
            vec![
                ProgramEntry {
                    number: 1,
                    pmt_pid: 0x100
                },
                ProgramEntry {
                    number: 2,
                    pmt_pid: 0x200
                }
            ]
        );
        let pmt = pmt_section(
            1,
            0x101,
            &[
                (STREAM_H264, 0x101),
                (STREAM_AAC_ADTS, 0x102),
                (0x15, 0x103),
            ],
        );
        let parsed = parse_pmt(&pmt, &mut warnings).unwrap();
        assert_eq!(parsed.program, 1);
        assert_eq!(parsed.pcr_pid, 0x101);
        assert_eq!(
            parsed
                .streams
                .iter()
                .map(|s| (s.stream_type, s.pid))
                .collect::<Vec<_>>(),
            vec![(0x1b, 0x101), (0x0f, 0x102), (0x15, 0x103)]
        );
        assert!(warnings.finish().is_empty());
    }

    #[test]
    fn bad_crc_and_wrong_table_rejected() {
        let mut warnings = Warnings::default();
        let mut pmt = pmt_section(1, 0x101, &[(STREAM_H264, 0x101)]);
        assert_eq!(parse_pat(&pmt, &mut warnings), None, "a PMT is not a PAT");
        let last = pmt.len() - 1;
        pmt[last] ^= 1;
        assert_eq!(parse_pmt(&pmt, &mut warnings), None);
        assert_eq!(
            warnings.finish(),
            vec![Warning::BadSection { table: "PMT" }]
        );
        let mut warnings = Warnings::default();
        assert_eq!(parse_pmt(&[0x02, 0xb0], &mut warnings), None);
    }

    #[test]
    fn sections_across_packets_and_pointer_field() {
        let pmt = pmt_section(1, 0x101, &[(STREAM_H264, 0x101), (STREAM_AAC_ADTS, 0x102)]);
        let mut buffer = SectionBuffer::default();
        let mut seen = Vec::new();
        // First packet: pointer 0, the first 10 bytes.
        let mut first = vec![0u8];
        first.extend_from_slice(&pmt[..10]);
        buffer.feed(&first, true, |s| seen.push(s.to_vec()));
        assert!(seen.is_empty());
        // Continuation: the rest, then stuffing.
        let mut second = pmt[10..].to_vec();
        second.extend_from_slice(&[0xff; 8]);
        buffer.feed(&second, false, |s| seen.push(s.to_vec()));
        assert_eq!(seen, vec![pmt.clone()]);

        // A packet whose pointer field finishes one section and starts the next.
        seen.clear();
        let mut buffer = SectionBuffer::default();
        let mut start = vec![0u8];
        start.extend_from_slice(&pmt[..7]);
        buffer.feed(&start, true, |s| seen.push(s.to_vec()));
        let mut next = vec![(pmt.len() - 7) as u8];
        next.extend_from_slice(&pmt[7..]);
        next.extend_from_slice(&pmt);
        next.push(0xff);
        buffer.feed(&next, true, |s| seen.push(s.to_vec()));
        assert_eq!(seen, vec![pmt.clone(), pmt.clone()]);

        // A continuation with nothing open is ignored; a pointer past the end resets.
        seen.clear();
        let mut buffer = SectionBuffer::default();
        buffer.feed(&pmt, false, |s| seen.push(s.to_vec()));
        buffer.feed(&[200, 1, 2], true, |s| seen.push(s.to_vec()));
        buffer.feed(&[], true, |s| seen.push(s.to_vec()));
        assert!(seen.is_empty());
    }
}
