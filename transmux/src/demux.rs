//! The transport stream demuxer: packets → PAT → the selected program's PMT → its
//! elementary streams, reassembled into units for the stream readers.
//!
//! It keeps the tables and continuity counters across segments (a segment without
//! tables continues with the last ones) and selects one H.264 stream, one audio stream
//! (AAC in ADTS, or MPEG audio) and every ID3 timed metadata stream of one program;
//! other streams are ignored with one warning each.

use crate::error::{Warning, Warnings};
use crate::pes::{PesAssembler, Unit};
use crate::psi::{self, SectionBuffer};
use crate::ts::{self, NULL_PID, Packets, parse_packet};

/// What kind of elementary stream a unit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// H.264 in Annex B.
    H264,
    /// AAC in ADTS frames.
    Adts,
    /// MPEG-1/2 audio frames (MP3 and layers I, II).
    MpegAudio,
    /// ID3 tags (HLS timed metadata).
    Id3,
}

impl StreamKind {
    fn of(stream_type: u8) -> Option<StreamKind> {
        match stream_type {
            psi::STREAM_H264 => Some(StreamKind::H264),
            psi::STREAM_AAC_ADTS => Some(StreamKind::Adts),
            psi::STREAM_MPEG1_AUDIO | psi::STREAM_MPEG2_AUDIO => Some(StreamKind::MpegAudio),
            psi::STREAM_METADATA_PES => Some(StreamKind::Id3),
            _ => None,
        }
    }
}

/// Receives what the demuxer extracts.
pub(crate) trait Sink {
    /// A complete unit of a selected stream.
    fn unit(&mut self, kind: StreamKind, unit: Unit<'_>, warnings: &mut Warnings);
    /// A program clock reference of the program (27 MHz ticks).
    fn pcr(&mut self, _pcr: u64) {}
}

/// A selected elementary stream.
#[derive(Debug)]
struct Stream {
    kind: StreamKind,
    stream_type: u8,
    assembler: PesAssembler,
}

/// The demuxer's state, kept across segments.
#[derive(Debug, Default)]
pub(crate) struct Demuxer {
    /// The program to select (`None`: the first in the PAT).
    wanted_program: Option<u16>,
    pat: SectionBuffer,
    pmt: SectionBuffer,
    /// PID of the selected program's PMT.
    pmt_pid: Option<u16>,
    pcr_pid: Option<u16>,
    video: Option<(u16, Stream)>,
    audio: Option<(u16, Stream)>,
    metadata: Vec<(u16, Stream)>,
    /// PIDs already warned about (unsupported streams), so each is reported once.
    warned: Vec<u16>,
    /// Whether a PMT was ever parsed.
    has_program: bool,
}

impl Demuxer {
    pub(crate) fn new(program: Option<u16>) -> Self {
        Demuxer {
            wanted_program: program,
            ..Demuxer::default()
        }
    }

    /// Whether a program map is known.
    pub(crate) fn has_program(&self) -> bool {
        self.has_program
    }

    /// Demuxes a whole segment: every unit it completes (the last ones included, as a
    /// segment ends on a unit boundary) goes to `sink`.
    ///
    /// Continuity counters are checked within the segment only: consecutive segments
    /// need not continue each other's counters (a switch of rendition, a seek).
    pub(crate) fn demux(&mut self, data: &[u8], sink: &mut impl Sink, warnings: &mut Warnings) {
        for (_, stream) in self.streams() {
            stream.assembler.reset();
        }
        if !self.has_program {
            self.find_program(data, warnings);
        }
        let mut packets = Packets::new(data);
        while let Some(bytes) = packets.next_packet(warnings) {
            self.packet(bytes, sink, warnings);
        }
        self.finish(sink, warnings);
    }

    /// Reads only the tables of `data` until the program map is known, so packets that
    /// come before the tables in the stream's first segment are not lost.
    fn find_program(&mut self, data: &[u8], warnings: &mut Warnings) {
        let mut ignored = Warnings::default();
        let mut packets = Packets::new(data);
        while let Some(bytes) = packets.next_packet(&mut ignored) {
            if let Ok(packet) = parse_packet(bytes)
                && !packet.error
                && (packet.pid == 0 || Some(packet.pid) == self.pmt_pid)
            {
                self.table(&packet, warnings);
                if self.has_program {
                    break;
                }
            }
        }
        self.pat.reset();
        self.pmt.reset();
    }

    /// Feeds a packet of the PAT or the selected PMT.
    fn table(&mut self, packet: &crate::ts::Packet<'_>, warnings: &mut Warnings) {
        if packet.pid == 0 {
            let mut pat = core::mem::take(&mut self.pat);
            pat.feed(packet.payload, packet.unit_start, |section| {
                self.on_pat(section, warnings);
            });
            self.pat = pat;
        } else {
            let mut pmt = core::mem::take(&mut self.pmt);
            pmt.feed(packet.payload, packet.unit_start, |section| {
                self.on_pmt(section, warnings);
            });
            self.pmt = pmt;
        }
    }

    fn packet(&mut self, bytes: &[u8], sink: &mut impl Sink, warnings: &mut Warnings) {
        let packet = match parse_packet(bytes) {
            Ok(packet) => packet,
            Err(ts::PacketError::BadAdaptation { pid }) => {
                warnings.push(Warning::BadAdaptationField { pid });
                return;
            }
            Err(ts::PacketError::NotAPacket) => return,
        };
        let pid = packet.pid;
        if pid == NULL_PID {
            return;
        }
        if packet.error {
            warnings.push(Warning::TransportError { pid });
            return;
        }
        if Some(pid) == self.pcr_pid
            && let Some(pcr) = packet.adaptation.and_then(|a| a.pcr)
        {
            sink.pcr(pcr);
        }
        if pid == 0 || Some(pid) == self.pmt_pid {
            self.table(&packet, warnings);
            return;
        }
        let Some(stream) = self.stream(pid) else {
            return;
        };
        if packet.scrambling != 0 {
            warnings.push(Warning::Scrambled { pid });
            return;
        }
        let kind = stream.kind;
        stream.assembler.push(&packet, warnings, |unit, warnings| {
            sink.unit(kind, unit, warnings)
        });
    }

    /// The selected stream on `pid`, if any.
    fn stream(&mut self, pid: u16) -> Option<&mut Stream> {
        match (&mut self.video, &mut self.audio) {
            (Some((video, stream)), _) if *video == pid => Some(stream),
            (_, Some((audio, stream))) if *audio == pid => Some(stream),
            _ => self
                .metadata
                .iter_mut()
                .find(|(id, _)| *id == pid)
                .map(|(_, stream)| stream),
        }
    }

    fn on_pat(&mut self, section: &[u8], warnings: &mut Warnings) {
        let Some(programs) = psi::parse_pat(section, warnings) else {
            return;
        };
        let chosen = match self.wanted_program {
            Some(wanted) => match programs.iter().find(|p| p.number == wanted) {
                Some(program) => Some(*program),
                None => {
                    if let Some(first) = programs.first()
                        && self.pmt_pid != Some(first.pmt_pid)
                    {
                        warnings.push(Warning::ProgramNotFound {
                            requested: wanted,
                            taken: first.number,
                        });
                    }
                    programs.first().copied()
                }
            },
            None => programs.first().copied(),
        };
        if let Some(program) = chosen
            && self.pmt_pid != Some(program.pmt_pid)
        {
            self.pmt_pid = Some(program.pmt_pid);
            self.pmt.reset();
        }
    }

    fn on_pmt(&mut self, section: &[u8], warnings: &mut Warnings) {
        let Some(pmt) = psi::parse_pmt(section, warnings) else {
            return;
        };
        self.has_program = true;
        self.pcr_pid = Some(pmt.pcr_pid);
        let mut video = None;
        let mut audio = None;
        let mut metadata = Vec::new();
        for entry in &pmt.streams {
            match StreamKind::of(entry.stream_type) {
                Some(StreamKind::H264) => {
                    if video.is_none() {
                        video = Some(*entry);
                    }
                }
                Some(StreamKind::Adts | StreamKind::MpegAudio) => {
                    if audio.is_none() {
                        audio = Some(*entry);
                    }
                }
                Some(StreamKind::Id3) => metadata.push(*entry),
                None => {
                    if !self.warned.contains(&entry.pid) && self.warned.len() < 64 {
                        self.warned.push(entry.pid);
                        warnings.push(Warning::UnsupportedStream {
                            pid: entry.pid,
                            stream_type: entry.stream_type,
                        });
                    }
                }
            }
        }
        // Keep the assemblers (and their counters) of streams that did not change: a
        // PMT repeated mid-segment must not break the PES in progress.
        let keep = |slot: &mut Option<(u16, Stream)>, entry: Option<psi::StreamEntry>| {
            let same = match (&*slot, entry) {
                (Some((pid, stream)), Some(entry)) => {
                    *pid == entry.pid && stream.stream_type == entry.stream_type
                }
                (None, None) => true,
                _ => false,
            };
            if !same {
                *slot = entry.and_then(new_stream);
            }
        };
        keep(&mut self.video, video);
        keep(&mut self.audio, audio);
        let same_metadata = self.metadata.len() == metadata.len()
            && self
                .metadata
                .iter()
                .zip(&metadata)
                .all(|((pid, _), entry)| *pid == entry.pid);
        if !same_metadata {
            self.metadata = metadata
                .into_iter()
                .take(8)
                .filter_map(new_stream)
                .collect();
        }
    }

    /// The selected streams.
    fn streams(&mut self) -> impl Iterator<Item = &mut (u16, Stream)> {
        self.video
            .iter_mut()
            .chain(self.audio.iter_mut())
            .chain(self.metadata.iter_mut())
    }

    /// Ends the input: hands out the last units.
    fn finish(&mut self, sink: &mut impl Sink, warnings: &mut Warnings) {
        for (_, stream) in self.streams() {
            let kind = stream.kind;
            stream
                .assembler
                .finish(warnings, |unit, warnings| sink.unit(kind, unit, warnings));
        }
    }

    /// Forgets continuity counters and partial units (a discontinuity); the tables
    /// stay.
    pub(crate) fn reset_continuity(&mut self) {
        for (_, stream) in self.streams() {
            stream.assembler.reset();
        }
        self.pat.reset();
        self.pmt.reset();
    }
}

fn new_stream(entry: psi::StreamEntry) -> Option<(u16, Stream)> {
    let kind = StreamKind::of(entry.stream_type)?;
    Some((
        entry.pid,
        Stream {
            kind,
            stream_type: entry.stream_type,
            assembler: PesAssembler::new(entry.pid),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    #[derive(Default)]
    struct Collect {
        units: Vec<(StreamKind, u16, Option<u64>, Vec<u8>)>,
        pcrs: Vec<u64>,
    }

    impl Sink for Collect {
        fn unit(&mut self, kind: StreamKind, unit: Unit<'_>, _: &mut Warnings) {
            self.units
                .push((kind, unit.pid, unit.pts, unit.data.to_vec()));
        }
        fn pcr(&mut self, pcr: u64) {
            self.pcrs.push(pcr);
        }
    }

    #[test]
    fn selects_streams_from_the_pmt() {
        let mut segment = SegmentBuilder::default();
        segment
            .tables(&[
                (0x1b, VIDEO_PID),
                (0x0f, AUDIO_PID),
                (0x15, ID3_PID),
                (0x24, 0x200), // HEVC: ignored
                (0x0f, 0x201), // a second audio stream: ignored silently
            ])
            .pes(VIDEO_PID, 0xe0, Some(100), None, &[0, 0, 1, 9, 0xf0])
            .pes(AUDIO_PID, 0xc0, Some(200), None, &[1, 2])
            .pes(ID3_PID, 0xbd, Some(300), None, b"ID3")
            .pes(0x200, 0xe0, Some(400), None, &[5])
            .pes(VIDEO_PID, 0xe0, Some(500), None, &[0, 0, 1, 9, 0xf0]);
        let mut demuxer = Demuxer::new(None);
        let mut sink = Collect::default();
        let mut warnings = Warnings::default();
        demuxer.demux(&segment.bytes(), &mut sink, &mut warnings);
        let seen: Vec<_> = sink.units.iter().map(|u| (u.0, u.1, u.2)).collect();
        assert_eq!(
            seen,
            vec![
                (StreamKind::H264, VIDEO_PID, Some(100)),
                // The rest come out at the end of the segment, video first.
                (StreamKind::H264, VIDEO_PID, Some(500)),
                (StreamKind::Adts, AUDIO_PID, Some(200)),
                (StreamKind::Id3, ID3_PID, Some(300)),
            ]
        );
        assert_eq!(
            warnings.finish(),
            vec![Warning::UnsupportedStream {
                pid: 0x200,
                stream_type: 0x24
            }]
        );
    }

    #[test]
    fn no_tables_no_streams_and_tables_kept_across_segments() {
        let mut segment = SegmentBuilder::default();
        segment.pes(VIDEO_PID, 0xe0, Some(100), None, &[1]);
        let mut demuxer = Demuxer::new(None);
        let mut sink = Collect::default();
        let mut warnings = Warnings::default();
        demuxer.demux(&segment.bytes(), &mut sink, &mut warnings);
        assert!(!demuxer.has_program());
        assert!(sink.units.is_empty());

        let mut first = SegmentBuilder::default();
        first
            .tables(&[(0x1b, VIDEO_PID)])
            .pes(VIDEO_PID, 0xe0, Some(1), None, &[1]);
        demuxer.demux(&first.bytes(), &mut sink, &mut warnings);
        let mut second = SegmentBuilder::default();
        second.pes(VIDEO_PID, 0xe0, Some(2), None, &[2]);
        demuxer.demux(&second.bytes(), &mut sink, &mut warnings);
        assert_eq!(
            sink.units.iter().map(|u| u.2).collect::<Vec<_>>(),
            vec![Some(1), Some(2)]
        );
    }

    #[test]
    fn tables_after_the_first_packets() {
        let mut media = SegmentBuilder::default();
        media.pes(VIDEO_PID, 0xe0, Some(1), None, &[1; 300]);
        let mut tables = SegmentBuilder::default();
        tables.tables(&[(0x1b, VIDEO_PID)]);
        let mut more = SegmentBuilder::default();
        more.pes(VIDEO_PID, 0xe0, Some(2), None, &[2; 10]);
        let mut data = media.bytes();
        data.extend(tables.bytes());
        // Counters continue: the builder for `more` starts at 0, the media had 2.
        let mut rest = more.bytes();
        rest[3] = (rest[3] & 0xf0) | 2;
        data.extend(rest);
        let mut demuxer = Demuxer::new(None);
        let mut sink = Collect::default();
        let mut warnings = Warnings::default();
        demuxer.demux(&data, &mut sink, &mut warnings);
        assert_eq!(
            sink.units
                .iter()
                .map(|u| (u.2, u.3.len()))
                .collect::<Vec<_>>(),
            vec![(Some(1), 300), (Some(2), 10)]
        );
        assert!(warnings.finish().is_empty());
    }

    #[test]
    fn program_selection_and_pcr() {
        let mut out = Vec::new();
        out.extend(psi_packet(0, &pat_section(&[(1, 0x1000), (7, 0x1700)]), 0));
        out.extend(psi_packet(
            0x1000,
            &pmt_section(1, 0x100, &[(0x1b, 0x100)]),
            0,
        ));
        out.extend(psi_packet(
            0x1700,
            &pmt_section(7, 0x700, &[(0x1b, 0x700)]),
            0,
        ));
        out.extend(packet_with_pcr(0x700, 0, 1000, 5, &[]));
        for packet in pes_packets(0x100, 0xe0, Some(1), None, &[1], false, 0) {
            out.extend(packet);
        }
        for packet in pes_packets(0x700, 0xe0, Some(7), None, &[7], false, 1) {
            out.extend(packet);
        }
        let mut demuxer = Demuxer::new(Some(7));
        let mut sink = Collect::default();
        let mut warnings = Warnings::default();
        demuxer.demux(&out, &mut sink, &mut warnings);
        assert_eq!(
            sink.units.iter().map(|u| u.1).collect::<Vec<_>>(),
            vec![0x700]
        );
        assert_eq!(sink.pcrs, vec![1000 * 300 + 5]);

        let mut demuxer = Demuxer::new(Some(9));
        let mut sink = Collect::default();
        demuxer.demux(&out, &mut sink, &mut warnings);
        assert_eq!(
            sink.units.iter().map(|u| u.1).collect::<Vec<_>>(),
            vec![0x100]
        );
        assert_eq!(
            warnings.finish(),
            vec![Warning::ProgramNotFound {
                requested: 9,
                taken: 1
            }]
        );
    }

    #[test]
    fn pmt_repeated_mid_pes_keeps_the_unit() {
        let payload = vec![0xab; 600];
        let mut packets = pes_packets(VIDEO_PID, 0xe0, Some(10), None, &payload, false, 0);
        let pmt = psi_packet(PMT_PID, &pmt_section(1, VIDEO_PID, &[(0x1b, VIDEO_PID)]), 1);
        packets.insert(2, pmt);
        let mut out = Vec::new();
        out.extend(psi_packet(0, &pat_section(&[(1, PMT_PID)]), 0));
        out.extend(psi_packet(
            PMT_PID,
            &pmt_section(1, VIDEO_PID, &[(0x1b, VIDEO_PID)]),
            0,
        ));
        for packet in packets {
            out.extend(packet);
        }
        let mut demuxer = Demuxer::new(None);
        let mut sink = Collect::default();
        let mut warnings = Warnings::default();
        demuxer.demux(&out, &mut sink, &mut warnings);
        assert_eq!(sink.units.len(), 1);
        assert_eq!(sink.units[0].3, payload);
        assert!(warnings.finish().is_empty());
    }

    #[test]
    fn scrambled_and_errored_packets_skipped() {
        let mut segment = SegmentBuilder::default();
        segment.tables(&[(0x1b, VIDEO_PID)]);
        let mut out = segment.bytes();
        let mut scrambled = packet(VIDEO_PID, true, 0, &[0, 0, 1, 0xe0, 0, 0]);
        scrambled[3] |= 0x80;
        out.extend(scrambled);
        let mut errored = packet(VIDEO_PID, true, 1, &[0, 0, 1, 0xe0, 0, 0]);
        errored[1] |= 0x80;
        out.extend(errored);
        let mut demuxer = Demuxer::new(None);
        let mut sink = Collect::default();
        let mut warnings = Warnings::default();
        demuxer.demux(&out, &mut sink, &mut warnings);
        assert!(sink.units.is_empty());
        assert_eq!(
            warnings.finish(),
            vec![
                Warning::Scrambled { pid: VIDEO_PID },
                Warning::TransportError { pid: VIDEO_PID }
            ]
        );
    }
}
