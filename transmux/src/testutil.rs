//! Builders of hand-made transport streams for the unit tests: packets, PES, PAT/PMT,
//! ADTS frames, H.264 parameter sets and whole segments.

use crate::bits::BitWriter;
use crate::psi::crc32_mpeg2;
use crate::ts::{PACKET_SIZE, SYNC};
use std::collections::HashMap;

/// A packet of `pid` carrying `payload` (at most 184 bytes) at its end, padded with an
/// adaptation field of stuffing.
pub(crate) fn packet(pid: u16, unit_start: bool, continuity: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 184);
    let mut out = vec![
        SYNC,
        ((pid >> 8) as u8 & 0x1f) | if unit_start { 0x40 } else { 0 },
        pid as u8,
        continuity & 0x0f,
    ];
    if payload.len() < 184 {
        out[3] |= 0x30;
        let length = 183 - payload.len();
        out.push(length as u8);
        if length > 0 {
            out.push(0x00);
            out.resize(5 + length, 0xff);
        }
    } else {
        out[3] |= 0x10;
    }
    out.extend_from_slice(payload);
    assert_eq!(out.len(), PACKET_SIZE);
    out
}

/// A packet with a PCR (and the random access flag) in its adaptation field.
pub(crate) fn packet_with_pcr(
    pid: u16,
    continuity: u8,
    base: u64,
    extension: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = vec![
        SYNC,
        (pid >> 8) as u8 & 0x1f,
        pid as u8,
        0x30 | (continuity & 0x0f),
    ];
    let length = 183 - payload.len();
    out.push(length as u8);
    out.push(0x50);
    out.extend_from_slice(&[
        (base >> 25) as u8,
        (base >> 17) as u8,
        (base >> 9) as u8,
        (base >> 1) as u8,
        ((base as u8 & 1) << 7) | 0x7e | ((extension >> 8) as u8 & 1),
        extension as u8,
    ]);
    out.resize(5 + length, 0xff);
    out.extend_from_slice(payload);
    assert_eq!(out.len(), PACKET_SIZE);
    out
}

/// The five bytes of a PES timestamp with its 4-bit prefix.
pub(crate) fn encode_timestamp(prefix: u8, ticks: u64) -> [u8; 5] {
    [
        (prefix << 4) | ((ticks >> 29) as u8 & 0x0e) | 1,
        (ticks >> 22) as u8,
        ((ticks >> 14) as u8 & 0xfe) | 1,
        (ticks >> 7) as u8,
        ((ticks << 1) as u8 & 0xfe) | 1,
    ]
}

/// A whole PES: header with the timestamps given, then `payload`; `bounded` sets
/// `PES_packet_length` (else 0, unbounded, as for video).
pub(crate) fn pes_bytes(
    stream_id: u8,
    pts: Option<u64>,
    dts: Option<u64>,
    payload: &[u8],
    bounded: bool,
) -> Vec<u8> {
    let mut fields = Vec::new();
    let flags = match (pts, dts) {
        (Some(pts), Some(dts)) => {
            fields.extend_from_slice(&encode_timestamp(3, pts));
            fields.extend_from_slice(&encode_timestamp(1, dts));
            0xc0
        }
        (Some(pts), None) => {
            fields.extend_from_slice(&encode_timestamp(2, pts));
            0x80
        }
        _ => 0x00,
    };
    let length = if bounded {
        3 + fields.len() + payload.len()
    } else {
        0
    };
    let mut out = vec![
        0,
        0,
        1,
        stream_id,
        (length >> 8) as u8,
        length as u8,
        0x80,
        flags,
        fields.len() as u8,
    ];
    out.extend_from_slice(&fields);
    out.extend_from_slice(payload);
    out
}

/// A PES cut into packets of `pid`, counters from `continuity`.
pub(crate) fn pes_packets(
    pid: u16,
    stream_id: u8,
    pts: Option<u64>,
    dts: Option<u64>,
    payload: &[u8],
    bounded: bool,
    continuity: u8,
) -> Vec<Vec<u8>> {
    let pes = pes_bytes(stream_id, pts, dts, payload, bounded);
    pes.chunks(184)
        .enumerate()
        .map(|(index, chunk)| packet(pid, index == 0, continuity.wrapping_add(index as u8), chunk))
        .collect()
}

/// A long-form PSI section with its CRC.
fn section(table_id: u8, id: u16, body: &[u8]) -> Vec<u8> {
    let length = 5 + body.len() + 4;
    let mut out = vec![
        table_id,
        0xb0 | ((length >> 8) as u8 & 0x0f),
        length as u8,
        (id >> 8) as u8,
        id as u8,
        0xc1,
        0x00,
        0x00,
    ];
    out.extend_from_slice(body);
    let crc = crc32_mpeg2(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A PAT listing `(program_number, pmt_pid)`.
pub(crate) fn pat_section(programs: &[(u16, u16)]) -> Vec<u8> {
    let mut body = Vec::new();
    for &(number, pid) in programs {
        body.extend_from_slice(&number.to_be_bytes());
        body.extend_from_slice(&(0xe000 | pid).to_be_bytes());
    }
    section(0x00, 1, &body)
}

/// A PMT of `program` with `(stream_type, pid)` streams (each with a 2-byte dummy
/// descriptor, to exercise skipping).
pub(crate) fn pmt_section(program: u16, pcr_pid: u16, streams: &[(u8, u16)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(0xe000 | pcr_pid).to_be_bytes());
    body.extend_from_slice(&[0xf0, 0x03, 0x05, 0x01, 0x00]); // program info: one descriptor
    for &(stream_type, pid) in streams {
        body.push(stream_type);
        body.extend_from_slice(&(0xe000 | pid).to_be_bytes());
        body.extend_from_slice(&[0xf0, 0x02, 0x0a, 0x00]);
    }
    section(0x02, program, &body)
}

/// A packet carrying a PSI section (pointer field 0).
pub(crate) fn psi_packet(pid: u16, section: &[u8], continuity: u8) -> Vec<u8> {
    let mut payload = vec![0u8];
    payload.extend_from_slice(section);
    payload.resize(184, 0xff);
    packet(pid, true, continuity, &payload)
}

/// An ADTS frame (no CRC) around `payload`.
pub(crate) fn adts_frame(object_type: u8, rate_index: u8, channels: u8, payload: &[u8]) -> Vec<u8> {
    let length = 7 + payload.len();
    let mut out = vec![
        0xff,
        0xf1,
        ((object_type - 1) << 6) | (rate_index << 2) | (channels >> 2),
        ((channels & 3) << 6) | ((length >> 11) as u8 & 0x03),
        (length >> 3) as u8,
        ((length as u8 & 0x07) << 5) | 0x1f,
        0xfc,
    ];
    out.extend_from_slice(payload);
    out
}

/// An H.264 SPS NAL unit (High profile for `high`, else Constrained Baseline) for a
/// picture of `width` × `height` (multiples of 2), with cropping when they are not
/// multiples of 16.
pub(crate) fn sps(width: u32, height: u32, high: bool) -> Vec<u8> {
    let mut w = BitWriter::default();
    let profile = if high { 100 } else { 66 };
    w.put(8, profile);
    w.put(8, if high { 0 } else { 0xc0 });
    w.put(8, 31); // level 3.1
    w.ue(0); // seq_parameter_set_id
    if high {
        w.ue(1); // chroma_format_idc 4:2:0
        w.ue(0); // bit_depth_luma_minus8
        w.ue(0); // bit_depth_chroma_minus8
        w.put(1, 0); // qpprime_y_zero_transform_bypass_flag
        w.put(1, 1); // seq_scaling_matrix_present_flag
        for list in 0..8 {
            w.put(1, u32::from(list == 0)); // the first list present, the rest not
            if list == 0 {
                for _ in 0..16 {
                    w.se(1); // delta_scale
                }
            }
        }
    }
    w.ue(0); // log2_max_frame_num_minus4
    w.ue(1); // pic_order_cnt_type 1, with its cycle
    w.put(1, 0);
    w.se(-2);
    w.se(1);
    w.ue(2);
    w.se(3);
    w.se(-3);
    w.ue(4); // max_num_ref_frames
    w.put(1, 0); // gaps_in_frame_num_value_allowed_flag
    let mbs_w = width.div_ceil(16);
    let mbs_h = height.div_ceil(16);
    w.ue(mbs_w - 1);
    w.ue(mbs_h - 1);
    w.put(1, 1); // frame_mbs_only_flag
    w.put(1, 1); // direct_8x8_inference_flag
    let crop_right = (mbs_w * 16 - width) / 2;
    let crop_bottom = (mbs_h * 16 - height) / 2;
    if crop_right > 0 || crop_bottom > 0 {
        w.put(1, 1);
        w.ue(0);
        w.ue(crop_right);
        w.ue(0);
        w.ue(crop_bottom);
    } else {
        w.put(1, 0);
    }
    w.put(1, 0); // vui_parameters_present_flag
    let mut nal = vec![0x67];
    nal.extend(escape(&w.finish()));
    nal
}

/// Inserts emulation prevention bytes.
pub(crate) fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut zeros = 0;
    for &byte in rbsp {
        if zeros >= 2 && byte <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

/// A PPS NAL unit (content irrelevant to the transmuxer).
pub(crate) const PPS: [u8; 4] = [0x68, 0xce, 0x3c, 0x80];

/// NAL units joined with 4-byte start codes.
pub(crate) fn annex_b(nals: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    out
}

/// PID of the PMT in built segments.
pub(crate) const PMT_PID: u16 = 0x1000;
/// PID of the video stream in built segments.
pub(crate) const VIDEO_PID: u16 = 0x100;
/// PID of the audio stream in built segments.
pub(crate) const AUDIO_PID: u16 = 0x101;
/// PID of the ID3 stream in built segments.
pub(crate) const ID3_PID: u16 = 0x102;

/// Builds a transport stream packet by packet, keeping the continuity counters.
#[derive(Default)]
pub(crate) struct SegmentBuilder {
    out: Vec<u8>,
    counters: HashMap<u16, u8>,
}

impl SegmentBuilder {
    fn next_counter(&mut self, pid: u16) -> u8 {
        let counter = self.counters.entry(pid).or_insert(0);
        let value = *counter;
        *counter = (value + 1) & 0x0f;
        value
    }

    /// PAT (program 1) and PMT with the given `(stream_type, pid)` streams.
    pub(crate) fn tables(&mut self, streams: &[(u8, u16)]) -> &mut Self {
        let counter = self.next_counter(0);
        self.out
            .extend(psi_packet(0, &pat_section(&[(1, PMT_PID)]), counter));
        let counter = self.next_counter(PMT_PID);
        let pcr = streams.first().map_or(0x1fff, |s| s.1);
        self.out
            .extend(psi_packet(PMT_PID, &pmt_section(1, pcr, streams), counter));
        self
    }

    /// A PES on `pid`.
    pub(crate) fn pes(
        &mut self,
        pid: u16,
        stream_id: u8,
        pts: Option<u64>,
        dts: Option<u64>,
        payload: &[u8],
    ) -> &mut Self {
        let bounded = stream_id != 0xe0;
        let start = *self.counters.get(&pid).unwrap_or(&0);
        let packets = pes_packets(pid, stream_id, pts, dts, payload, bounded, start);
        self.counters
            .insert(pid, start.wrapping_add(packets.len() as u8) & 0x0f);
        for packet in packets {
            self.out.extend(packet);
        }
        self
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}
