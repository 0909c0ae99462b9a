//! H.264 (ISO/IEC 14496-10) from Annex B byte streams to MP4 samples: NAL units split at
//! start codes, access units into length-prefixed (AVCC) samples, SPS and PPS into the
//! `avcC` configuration, the picture size from the SPS, keyframes from IDR slices.

use crate::bits::{BitReader, unescape};
use crate::error::{Warning, Warnings};

/// NAL unit types this module acts on.
mod nal {
    pub const IDR: u8 = 5;
    pub const SPS: u8 = 7;
    pub const PPS: u8 = 8;
    pub const AUD: u8 = 9;
    pub const FILLER: u8 = 12;
}

/// Most distinct PPS kept for one configuration.
const MAX_PPS: usize = 16;

/// The offset of the next three-byte start code prefix (`00 00 01`) at or after `from`.
///
/// Every start code begins with a zero byte, and slice data has few: eight bytes at a
/// time are skipped while they hold none (the zero-byte test of "Bit Twiddling Hacks"),
/// then bytes are checked one by one past the zero found.
pub(crate) fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    loop {
        while let Some(chunk) = data.get(i..i.checked_add(8)?) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let word = u64::from_le_bytes(bytes);
            if word.wrapping_sub(ONES) & !word & HIGHS != 0 {
                break; // a zero byte in this word
            }
            i += 8;
        }
        // At most eight single steps reach the zero byte (or the end) and pass it.
        for _ in 0..8 {
            match data.get(i..i.checked_add(3)?)? {
                [0, 0, 1] => return Some(i),
                _ => i += 1,
            }
        }
    }
}

/// Calls `each` with every NAL unit of an Annex B buffer (start codes and trailing zero
/// bytes removed, empty units skipped); returns how many bytes preceded the first start
/// code when they are not just zeros (0 for a well-formed buffer).
#[cfg(test)]
pub(crate) fn split_nal_units(data: &[u8], each: impl FnMut(&[u8])) -> usize {
    let Some(first) = find_start_code(data, 0) else {
        return if data.iter().all(|&b| b == 0) {
            0
        } else {
            data.len()
        };
    };
    let leading = data.get(..first).unwrap_or(&[]);
    nal_units_from(data, first + 3, each);
    if leading.iter().all(|&b| b == 0) {
        0
    } else {
        first
    }
}

/// Calls `each` with the NAL units of `data`, the first starting at `start`.
fn nal_units_from(data: &[u8], mut start: usize, mut each: impl FnMut(&[u8])) {
    loop {
        let next = find_start_code(data, start);
        let end = next.unwrap_or(data.len());
        if let Some(unit) = data.get(start..end) {
            let trimmed = trim_trailing_zeros(unit);
            if !trimmed.is_empty() {
                each(trimmed);
            }
        }
        match next {
            Some(position) => start = position + 3,
            None => break,
        }
    }
}

fn trim_trailing_zeros(unit: &[u8]) -> &[u8] {
    let length = unit
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    unit.get(..length).unwrap_or(&[])
}

/// What the transmuxer reads from a sequence parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`.
    pub profile: u8,
    /// The constraint flags byte.
    pub constraints: u8,
    /// `level_idc`.
    pub level: u8,
    /// `chroma_format_idc` (1 = 4:2:0).
    pub chroma_format: u8,
    /// Luma bit depth.
    pub bit_depth_luma: u8,
    /// Chroma bit depth.
    pub bit_depth_chroma: u8,
    /// Picture width after cropping, in pixels.
    pub width: u32,
    /// Picture height after cropping, in pixels.
    pub height: u32,
}

/// Profiles whose SPS carries chroma format, bit depths and scaling matrices.
fn has_chroma_info(profile: u32) -> bool {
    matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

/// Parses an SPS NAL unit (its header byte included).
pub fn parse_sps(nal_unit: &[u8]) -> Option<Sps> {
    if nal_unit.first()? & 0x1f != nal::SPS {
        return None;
    }
    let rbsp = unescape(nal_unit.get(1..)?);
    let mut r = BitReader::new(&rbsp);
    let profile = r.bits(8)?;
    let constraints = r.bits(8)?;
    let level = r.bits(8)?;
    if r.ue()? > 31 {
        return None; // seq_parameter_set_id
    }
    let (mut chroma_format, mut separate_planes) = (1, false);
    let (mut depth_luma, mut depth_chroma) = (8, 8);
    if has_chroma_info(profile) {
        chroma_format = r.ue()?;
        if chroma_format > 3 {
            return None;
        }
        if chroma_format == 3 {
            separate_planes = r.flag()?;
        }
        depth_luma = r.ue()?.checked_add(8).filter(|d| *d <= 14)?;
        depth_chroma = r.ue()?.checked_add(8).filter(|d| *d <= 14)?;
        r.skip(1)?; // qpprime_y_zero_transform_bypass_flag
        if r.flag()? {
            let lists = if chroma_format == 3 { 12 } else { 8 };
            for list in 0..lists {
                if r.flag()? {
                    skip_scaling_list(&mut r, if list < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.skip(1)?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    r.ue()?; // max_num_ref_frames
    r.skip(1)?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_map_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = r.flag()?;
    if !frame_mbs_only {
        r.skip(1)?; // mb_adaptive_frame_field_flag
    }
    r.skip(1)?; // direct_8x8_inference_flag
    let (left, right, top, bottom) = if r.flag()? {
        (
            u64::from(r.ue()?),
            u64::from(r.ue()?),
            u64::from(r.ue()?),
            u64::from(r.ue()?),
        )
    } else {
        (0, 0, 0, 0)
    };
    let chroma_array_type = if separate_planes { 0 } else { chroma_format };
    let (crop_x, crop_y) = match chroma_array_type {
        1 => (2, 2),
        2 => (2, 1),
        _ => (1, 1),
    };
    let field_factor = if frame_mbs_only { 1 } else { 2 };
    let width = (width_mbs * 16).checked_sub(crop_x * (left + right))?;
    let height = (field_factor * height_map_units * 16)
        .checked_sub(crop_y * field_factor * (top + bottom))?;
    let in_range = |v: u64| u32::try_from(v).ok().filter(|v| (1..=16_384).contains(v));
    Some(Sps {
        profile: u8::try_from(profile).ok()?,
        constraints: u8::try_from(constraints).ok()?,
        level: u8::try_from(level).ok()?,
        chroma_format: u8::try_from(chroma_format).ok()?,
        bit_depth_luma: u8::try_from(depth_luma).ok()?,
        bit_depth_chroma: u8::try_from(depth_chroma).ok()?,
        width: in_range(width)?,
        height: in_range(height)?,
    })
}

fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = i64::from(r.se()?);
            next = (last + delta + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// An H.264 decoder configuration: what goes into `avcC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// The SPS NAL unit.
    pub sps: Vec<u8>,
    /// The PPS NAL units (distinct, in the order seen).
    pub pps: Vec<Vec<u8>>,
    /// What the SPS says.
    pub info: Sps,
}

impl AvcConfig {
    /// The RFC 6381 codec string, e.g. `avc1.64001f`.
    pub fn codec(&self) -> String {
        let hex = |b: u8| {
            let digits = b"0123456789abcdef";
            [
                digits[usize::from(b >> 4)] as char,
                digits[usize::from(b & 15)] as char,
            ]
        };
        let mut codec = String::from("avc1.");
        for byte in [self.info.profile, self.info.constraints, self.info.level] {
            codec.extend(hex(byte));
        }
        codec
    }

    /// The `AVCDecoderConfigurationRecord` (the body of `avcC`).
    pub fn record(&self) -> Vec<u8> {
        let mut out = vec![
            1,
            self.info.profile,
            self.info.constraints,
            self.info.level,
            0xff, // lengthSizeMinusOne = 3
            0xe1, // one SPS
        ];
        out.extend_from_slice(&(self.sps.len().min(0xffff) as u16).to_be_bytes());
        out.extend_from_slice(self.sps.get(..0xffff.min(self.sps.len())).unwrap_or(&[]));
        out.push(self.pps.len().min(MAX_PPS) as u8);
        for pps in self.pps.iter().take(MAX_PPS) {
            out.extend_from_slice(&(pps.len().min(0xffff) as u16).to_be_bytes());
            out.extend_from_slice(pps.get(..0xffff.min(pps.len())).unwrap_or(&[]));
        }
        if matches!(self.info.profile, 100 | 110 | 122 | 144) {
            out.push(0xfc | (self.info.chroma_format & 3));
            out.push(0xf8 | (self.info.bit_depth_luma.saturating_sub(8) & 7));
            out.push(0xf8 | (self.info.bit_depth_chroma.saturating_sub(8) & 7));
            out.push(0); // no SPS extensions
        }
        out
    }
}

/// A video sample of the segment being transmuxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSample {
    /// Presentation time, 90 kHz on the continuous timeline.
    pub pts: i64,
    /// Decode time, 90 kHz on the continuous timeline.
    pub dts: i64,
    /// Offset of its AVCC bytes in [`VideoStream::data`].
    pub offset: usize,
    /// Size of its AVCC bytes.
    pub size: usize,
    /// Whether it holds an IDR slice.
    pub key: bool,
}

/// The access unit being assembled.
#[derive(Debug, Clone, Copy)]
struct Open {
    pts: i64,
    dts: i64,
    offset: usize,
    key: bool,
    /// Whether it has a slice yet (a unit of SEI or parameter sets alone is not a
    /// frame: its bytes join the next one).
    slice: bool,
}

/// Turns one segment's H.264 units into AVCC samples.
///
/// Access units begin at access unit delimiters when the stream has them (a PES
/// timestamp then belongs to the first one that begins in the PES, as ISO/IEC 13818-1
/// says), else at each PES with a timestamp. Bytes before the first start code of a PES
/// continue the last NAL unit of the previous one (muxers that cut PES anywhere).
#[derive(Debug, Default)]
pub(crate) struct VideoStream {
    /// The AVCC bytes of the segment's samples, back to back.
    pub(crate) data: Vec<u8>,
    /// The segment's samples in decode order.
    pub(crate) samples: Vec<VideoSample>,
    open: Option<Open>,
    /// Where the length prefix of the open access unit's last NAL unit is in `data`.
    last_nal: Option<usize>,
    /// Zero bytes at the end of the last unit (perhaps the start of a start code cut
    /// between PES, perhaps data of a NAL unit cut between them).
    tail_zeros: usize,
    /// Whether the stream delimits access units (kept across segments).
    uses_aud: bool,
    /// The first SPS of the segment, and the PPS seen.
    pub(crate) sps: Option<Vec<u8>>,
    pub(crate) pps: Vec<Vec<u8>>,
    warned_sps: bool,
    warned_estimate: bool,
    warned_missing: bool,
}

impl VideoStream {
    /// Starts a new segment (the buffers keep their capacity).
    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.samples.clear();
        self.open = None;
        self.last_nal = None;
        self.tail_zeros = 0;
        self.sps = None;
        self.pps.clear();
        self.warned_sps = false;
        self.warned_estimate = false;
        self.warned_missing = false;
    }

    /// Adds a unit (one or more PES) of Annex B data with its timestamps on the
    /// continuous timeline.
    pub(crate) fn push(
        &mut self,
        pts: Option<i64>,
        dts: Option<i64>,
        data: &[u8],
        warnings: &mut Warnings,
    ) {
        let mut pending = pts.map(|pts| (pts, dts.unwrap_or(pts)));
        let tail = core::mem::take(&mut self.tail_zeros);
        // A start code cut between the two units: the rest of it opens this one.
        let straddle = match data {
            [1, ..] if tail >= 2 => 1,
            [0, 1, ..] if tail >= 1 => 2,
            _ => 0,
        };
        let (leading, first_nal) = if straddle > 0 {
            (&[][..], Some(straddle))
        } else {
            match find_start_code(data, 0) {
                // A zero byte before the prefix is part of a 4-byte start code.
                Some(first) => (
                    trim_trailing_zeros(data.get(..first).unwrap_or(&[])),
                    Some(first + 3),
                ),
                None => (data, None),
            }
        };
        if !leading.is_empty() {
            self.continue_last_nal(tail, leading, warnings);
        }
        if !self.uses_aud
            && let Some(time) = pending.take()
        {
            self.start_unit(Some(time), warnings);
        }
        if let Some(first) = first_nal {
            nal_units_from(data, first, |unit| {
                self.nal_unit(unit, &mut pending, warnings)
            });
        }
        self.tail_zeros = data.iter().rev().take(3).take_while(|&&b| b == 0).count();
    }

    /// Appends bytes to the open access unit's last NAL unit (with the zero bytes that
    /// were trimmed from its end).
    fn continue_last_nal(&mut self, zeros: usize, bytes: &[u8], warnings: &mut Warnings) {
        let Some(at) = self.last_nal.filter(|_| self.open.is_some()) else {
            warnings.push(Warning::NoStartCode { bytes: bytes.len() });
            return;
        };
        self.data.extend(core::iter::repeat_n(0, zeros));
        self.data.extend_from_slice(bytes);
        let length = self.data.len() - at - 4;
        if let Some(field) = self.data.get_mut(at..at + 4) {
            field.copy_from_slice(&(length as u32).to_be_bytes());
        }
    }

    /// Begins an access unit at `time` (estimated from the previous one when `None`).
    fn start_unit(&mut self, time: Option<(i64, i64)>, warnings: &mut Warnings) {
        match self.open {
            Some(open) if !open.slice => {
                // Parameter sets or SEI alone: they lead into this frame.
                if let Some((pts, dts)) = time {
                    self.open = Some(Open { pts, dts, ..open });
                }
            }
            Some(open) => {
                self.close();
                let (pts, dts) = time.unwrap_or_else(|| {
                    // A second access unit in one PES: its time follows the previous.
                    if !self.warned_estimate {
                        self.warned_estimate = true;
                        warnings.push(Warning::EstimatedTimestamp);
                    }
                    let step = self.frame_step();
                    (open.pts + step, open.dts + step)
                });
                self.open_unit(pts, dts);
            }
            None => {
                if let Some((pts, dts)) = time {
                    self.open_unit(pts, dts);
                }
            }
        }
    }

    fn open_unit(&mut self, pts: i64, dts: i64) {
        self.open = Some(Open {
            pts,
            dts,
            offset: self.data.len(),
            key: false,
            slice: false,
        });
        self.last_nal = None;
    }

    fn nal_unit(&mut self, unit: &[u8], pending: &mut Option<(i64, i64)>, warnings: &mut Warnings) {
        let Some(&header) = unit.first() else {
            return;
        };
        match header & 0x1f {
            nal::AUD => {
                self.uses_aud = true;
                self.start_unit(pending.take(), warnings);
            }
            nal::SPS => match &self.sps {
                None => self.sps = Some(unit.to_vec()),
                Some(sps) if sps.as_slice() != unit && !self.warned_sps => {
                    self.warned_sps = true;
                    warnings.push(Warning::SpsChanged);
                }
                Some(_) => {}
            },
            nal::PPS => {
                if self.pps.len() < MAX_PPS && !self.pps.iter().any(|p| p.as_slice() == unit) {
                    self.pps.push(unit.to_vec());
                }
            }
            nal::FILLER => {}
            kind => {
                // A timestamp still pending belongs to an access unit that has no
                // slice yet (or is the first).
                if let Some((pts, dts)) = *pending {
                    match self.open.as_mut() {
                        None => {
                            self.open_unit(pts, dts);
                            *pending = None;
                        }
                        Some(open) if !open.slice => {
                            (open.pts, open.dts) = (pts, dts);
                            *pending = None;
                        }
                        Some(_) => {}
                    }
                }
                let Some(open) = self.open.as_mut() else {
                    if !self.warned_missing {
                        self.warned_missing = true;
                        warnings.push(Warning::MissingTimestamp {
                            track: crate::error::Track::Video,
                        });
                    }
                    return;
                };
                if (1..=5).contains(&kind) {
                    open.slice = true;
                }
                if kind == nal::IDR {
                    open.key = true;
                }
                self.last_nal = Some(self.data.len());
                self.data
                    .extend_from_slice(&(unit.len() as u32).to_be_bytes());
                self.data.extend_from_slice(unit);
            }
        }
    }

    /// The decode time step between the last two samples (3000 = 30 fps when unknown).
    fn frame_step(&self) -> i64 {
        match self.samples.as_slice() {
            [.., a, b] if b.dts > a.dts => b.dts - a.dts,
            _ => 3000,
        }
    }

    /// Ends the access unit being assembled: a frame when it has a slice.
    fn close(&mut self) {
        self.last_nal = None;
        if let Some(open) = self.open.take() {
            if open.slice {
                self.samples.push(VideoSample {
                    pts: open.pts,
                    dts: open.dts,
                    offset: open.offset,
                    size: self.data.len() - open.offset,
                    key: open.key,
                });
            } else {
                self.data.truncate(open.offset);
            }
        }
    }

    /// Ends the segment.
    pub(crate) fn finish(&mut self) {
        self.close();
    }

    /// The configuration from this segment's parameter sets, if it has any.
    pub(crate) fn config(&self, warnings: &mut Warnings) -> Option<AvcConfig> {
        let sps = self.sps.as_ref()?;
        let Some(info) = parse_sps(sps) else {
            warnings.push(Warning::BadSps);
            return None;
        };
        if self.pps.is_empty() {
            return None;
        }
        Some(AvcConfig {
            sps: sps.clone(),
            pps: self.pps.clone(),
            info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{PPS, annex_b, sps};

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn start_codes_and_nal_units() {
        let data = [
            9, 9, 0, 0, 1, 0x65, 1, 2, 0, 0, 0, 1, 0x41, 0, 0, 3, 0, 0, 0, 0, 1, 0x06, 5, 0, 0, 1,
        ];
        let mut units = Vec::new();
        let skipped = split_nal_units(&data, |u| units.push(u.to_vec()));
        assert_eq!(skipped, 2);
        assert_eq!(
            units,
            vec![vec![0x65, 1, 2], vec![0x41, 0, 0, 3], vec![0x06, 5]]
        );
        assert_eq!(split_nal_units(&[1, 2, 3], |_| panic!()), 3);
        assert_eq!(find_start_code(&[0, 0], 0), None);
        assert_eq!(find_start_code(&[0, 0, 1], 0), Some(0));
        assert_eq!(find_start_code(&[0, 0, 1], 1), None);
        assert_eq!(find_start_code(&[7, 0, 0, 0, 1, 0, 0, 1], 2), Some(2));
        assert_eq!(find_start_code(&[0, 0, 1], usize::MAX), None);
        // Against the plain definition, at every offset of buffers with start codes
        // around the eight-byte steps.
        let mut data = vec![0x55u8; 64];
        for (at, value) in [
            (3, 0),
            (4, 0),
            (5, 1),
            (15, 0),
            (16, 0),
            (17, 0),
            (18, 1),
            (31, 0),
            (32, 0),
            (33, 1),
            (40, 0),
            (62, 0),
            (63, 0),
        ] {
            data[at] = value;
        }
        for from in 0..=data.len() {
            let expected =
                (from..data.len().saturating_sub(2)).find(|&i| data[i..i + 3] == [0, 0, 1]);
            assert_eq!(find_start_code(&data, from), expected, "from {from}");
        }
    }

    #[test]
    fn sps_of_real_encoders() {
        // x264, Constrained Baseline 388x300 (cropped from 400x304), mux.js test segment.
        let sps = parse_sps(&hex(
            "6742c015ab40c84fcf7ff80768075880000003008000000f078b175000",
        ))
        .unwrap();
        assert_eq!((sps.profile, sps.constraints, sps.level), (66, 0xc0, 21));
        assert_eq!((sps.width, sps.height), (388, 300));
        // x264 High, 960x540 (1088 rows cropped to 1080 / 2, scaling), Shaka's LCEVC sample.
        let sps = parse_sps(&hex(
            "6764001facd9c0f0117ef0110000030001000003003c8f18319e00",
        ))
        .unwrap();
        assert_eq!(
            (sps.profile, sps.level, sps.width, sps.height),
            (100, 31, 960, 540)
        );
        // x264 High 4:4:4 Predictive, 1920x1080.
        let sps = parse_sps(&hex(
            "67f40028919b280f0044fc4e0220000003002000000641e30632c000",
        ))
        .unwrap();
        assert_eq!((sps.profile, sps.chroma_format), (244, 3));
        assert_eq!((sps.width, sps.height), (1920, 1080));
        // Sintel: 400x170.
        let sps = parse_sps(&hex("6742c00dda0645fe4c0440000003004000000c23c50aa800")).unwrap();
        assert_eq!((sps.width, sps.height), (400, 170));
    }

    #[test]
    fn sps_built_with_cropping_and_scaling_lists() {
        for (width, height, high) in [
            (1920, 1080, true),
            (1280, 720, false),
            (854, 480, true),
            (2, 2, false),
        ] {
            let parsed = parse_sps(&sps(width, height, high)).unwrap();
            assert_eq!((parsed.width, parsed.height), (width, height));
            assert_eq!(parsed.profile, if high { 100 } else { 66 });
        }
        let full = sps(1280, 720, true);
        for cut in 0..full.len() {
            let _ = parse_sps(&full[..cut]); // never panics
        }
        assert_eq!(parse_sps(&PPS), None);
        assert_eq!(parse_sps(&[]), None);
    }

    #[test]
    fn avcc_record_and_codec() {
        let sps = sps(640, 360, true);
        let config = AvcConfig {
            info: parse_sps(&sps).unwrap(),
            sps: sps.clone(),
            pps: vec![PPS.to_vec()],
        };
        assert_eq!(config.codec(), "avc1.64001f");
        let record = config.record();
        assert_eq!(&record[..6], &[1, 100, 0, 31, 0xff, 0xe1]);
        assert_eq!(
            usize::from(u16::from_be_bytes([record[6], record[7]])),
            sps.len()
        );
        let after = 8 + sps.len();
        assert_eq!(record[after], 1);
        assert_eq!(&record[after + 3..after + 7], &PPS);
        assert_eq!(&record[after + 7..], &[0xfd, 0xf8, 0xf8, 0]);
    }

    #[test]
    fn access_units_from_pes_and_aud() {
        let sps = sps(320, 180, false);
        let idr = [0x65, 0x88, 0x84];
        let slice = [0x41, 0x9a, 0x02];
        let mut stream = VideoStream::default();
        let mut warnings = Warnings::default();
        // Parameter sets in a unit of their own lead into the keyframe.
        stream.push(
            Some(0),
            Some(0),
            &annex_b(&[&[0x09, 0xf0], &sps, &PPS]),
            &mut warnings,
        );
        stream.push(
            Some(6000),
            Some(3000),
            &annex_b(&[&[0x06, 1, 2], &idr]),
            &mut warnings,
        );
        // Two access units in one PES, split by the second AUD.
        stream.push(
            Some(3000),
            Some(6000),
            &annex_b(&[&[0x09, 0xf0], &slice, &[0x09, 0xf0], &slice, &[0x0c, 0xff]]),
            &mut warnings,
        );
        stream.finish();
        let samples = &stream.samples;
        assert_eq!(samples.len(), 3);
        assert_eq!(
            (samples[0].pts, samples[0].dts, samples[0].key),
            (6000, 3000, true)
        );
        assert_eq!(
            samples[0].size,
            4 + 3 + 4 + 3,
            "SEI and IDR, without AUD, SPS and PPS"
        );
        assert_eq!(
            (samples[1].pts, samples[1].dts, samples[1].key),
            (3000, 6000, false)
        );
        assert_eq!(
            (samples[2].dts, samples[2].size),
            (9000, 7),
            "estimated, filler dropped"
        );
        assert_eq!(&stream.data[..7], &[0, 0, 0, 3, 0x06, 1, 2]);
        assert_eq!(warnings.finish(), vec![Warning::EstimatedTimestamp]);
        let config = stream.config(&mut Warnings::default()).unwrap();
        assert_eq!((config.info.width, config.info.height), (320, 180));
        assert_eq!(config.pps, vec![PPS.to_vec()]);
    }

    #[test]
    fn pes_cut_inside_access_units() {
        // The sintel muxer: each PES (with the next frame's PTS) starts with the end of
        // the previous frame, then that frame's AUD. One start code is cut in two.
        let sps = sps(320, 180, false);
        let frame = |n: u8| annex_b(&[&[0x09, 0xf0], &[0x41, n, n, 0, 0, 3, n, n, n]]);
        let mut stream_bytes = annex_b(&[&[0x09, 0xf0], &sps, &PPS, &[0x65, 9, 9, 9, 9]]);
        for n in 1..4 {
            stream_bytes.extend(frame(n));
        }
        let first_aud = |from: usize| {
            (from..)
                .find(|&i| stream_bytes[i..].starts_with(&[0, 0, 0, 1, 9]))
                .unwrap()
        };
        let cut1 = first_aud(5) + 3; // inside frame 0's last NAL
        let cut1 = cut1 - 5;
        let cut2 = first_aud(cut1 + 6) + 2; // inside the next start code: "00 00 | 01 09"
        let cut3 = first_aud(cut2 + 6); // a clean cut
        let mut stream = VideoStream::default();
        let mut warnings = Warnings::default();
        stream.push(Some(0), None, &stream_bytes[..cut1], &mut warnings);
        stream.push(Some(3000), None, &stream_bytes[cut1..cut2], &mut warnings);
        stream.push(Some(6000), None, &stream_bytes[cut2..cut3], &mut warnings);
        stream.push(Some(9000), None, &stream_bytes[cut3..], &mut warnings);
        stream.finish();
        assert!(warnings.finish().is_empty(), "no bytes lost");
        let times: Vec<i64> = stream.samples.iter().map(|s| s.pts).collect();
        assert_eq!(times, vec![0, 3000, 6000, 9000]);
        assert_eq!(stream.samples[0].size, 4 + 5, "the IDR, joined again");
        assert_eq!(&stream.data[..9], &[0, 0, 0, 5, 0x65, 9, 9, 9, 9]);
        for sample in &stream.samples[1..] {
            assert_eq!(sample.size, 4 + 9);
        }
    }

    #[test]
    fn data_without_timestamp_or_start_code() {
        let mut stream = VideoStream::default();
        let mut warnings = Warnings::default();
        stream.push(None, None, &annex_b(&[&[0x41, 1]]), &mut warnings);
        stream.push(Some(0), None, &[1, 2, 3, 0, 0, 1, 0x41, 1], &mut warnings);
        stream.finish();
        assert_eq!(stream.samples.len(), 1);
        assert_eq!(
            warnings.finish(),
            vec![
                Warning::MissingTimestamp {
                    track: crate::error::Track::Video
                },
                Warning::NoStartCode { bytes: 3 }
            ]
        );
        assert!(stream.config(&mut Warnings::default()).is_none());
    }
}
