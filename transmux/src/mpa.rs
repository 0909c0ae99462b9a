//! MPEG-1/2/2.5 audio frames (ISO/IEC 11172-3, 13818-3): layer III (MP3), and layers
//! I and II, which the same stream types carry. Free-format bit rates are not supported.

/// The MPEG audio version of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// MPEG-1 (32, 44.1, 48 kHz).
    Mpeg1,
    /// MPEG-2 lower sampling frequencies (16, 22.05, 24 kHz).
    Mpeg2,
    /// MPEG-2.5 (8, 11.025, 12 kHz).
    Mpeg25,
}

/// An MPEG audio frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpaHeader {
    /// The version.
    pub version: Version,
    /// The layer: 1, 2 or 3.
    pub layer: u8,
    /// Sampling frequency in Hz.
    pub sample_rate: u32,
    /// 1 (mono) or 2.
    pub channels: u8,
    /// Bytes of the whole frame, header included.
    pub frame_length: usize,
    /// Samples per channel in the frame.
    pub samples: u32,
}

/// Bit rates in kbit/s by index (1–14) for: MPEG-1 layers I, II, III; MPEG-2/2.5 layer
/// I; MPEG-2/2.5 layers II and III.
const BIT_RATES: [[u16; 14]; 5] = [
    [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/// Whether `data` starts with an MPEG audio sync word and a valid layer (not ADTS).
pub fn is_sync(data: &[u8]) -> bool {
    matches!(data, [0xff, second, ..] if second & 0xe0 == 0xe0 && second & 0x06 != 0)
}

/// Parses the MPEG audio header at the start of `data`.
pub fn parse_header(data: &[u8]) -> Option<MpaHeader> {
    let h = data.get(..4)?;
    if !is_sync(h) {
        return None;
    }
    let version = match (h[1] >> 3) & 0x03 {
        0 => Version::Mpeg25,
        2 => Version::Mpeg2,
        3 => Version::Mpeg1,
        _ => return None,
    };
    let layer = 4 - ((h[1] >> 1) & 0x03); // 1 → III, 2 → II, 3 → I
    let rate_index = usize::from(h[2] >> 4);
    let frequency_index = usize::from((h[2] >> 2) & 0x03);
    if rate_index == 0 || rate_index == 15 || frequency_index == 3 {
        return None;
    }
    let table = match (version, layer) {
        (Version::Mpeg1, layer) => usize::from(layer - 1),
        (_, 1) => 3,
        _ => 4,
    };
    let bit_rate = u32::from(*BIT_RATES.get(table)?.get(rate_index - 1)?) * 1000;
    let base_rate = [44_100, 48_000, 32_000][frequency_index];
    let sample_rate = match version {
        Version::Mpeg1 => base_rate,
        Version::Mpeg2 => base_rate / 2,
        Version::Mpeg25 => base_rate / 4,
    };
    let padding = u32::from((h[2] >> 1) & 1);
    let (frame_length, samples) = match (layer, version) {
        (1, _) => ((12 * bit_rate / sample_rate + padding) * 4, 384),
        (2, _) | (3, Version::Mpeg1) => (144 * bit_rate / sample_rate + padding, 1152),
        _ => (72 * bit_rate / sample_rate + padding, 576),
    };
    Some(MpaHeader {
        version,
        layer,
        sample_rate,
        channels: if h[3] >> 6 == 3 { 1 } else { 2 },
        frame_length: usize::try_from(frame_length).ok().filter(|l| *l > 4)?,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_headers() {
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, joint stereo: 417 bytes (+1 padded).
        let header = parse_header(&[0xff, 0xfb, 0x90, 0x64]).unwrap();
        assert_eq!(header.version, Version::Mpeg1);
        assert_eq!(
            (header.layer, header.sample_rate, header.channels),
            (3, 44_100, 2)
        );
        assert_eq!((header.frame_length, header.samples), (417, 1152));
        assert_eq!(
            parse_header(&[0xff, 0xfb, 0x92, 0x64])
                .unwrap()
                .frame_length,
            418
        );
        // MPEG-2 layer III, 64 kbit/s, 22.05 kHz, mono: 72 × 64000 / 22050 = 208.
        let header = parse_header(&[0xff, 0xf3, 0x80, 0xc4]).unwrap();
        assert_eq!(
            (header.version, header.sample_rate, header.channels),
            (Version::Mpeg2, 22_050, 1)
        );
        assert_eq!((header.frame_length, header.samples), (208, 576));
        // MPEG-1 layer II, 192 kbit/s, 48 kHz: 576 bytes.
        let header = parse_header(&[0xff, 0xfd, 0xa4, 0x00]).unwrap();
        assert_eq!(
            (header.layer, header.frame_length, header.samples),
            (2, 576, 1152)
        );
    }

    #[test]
    fn invalid_headers() {
        assert_eq!(parse_header(&[0xff, 0xfb, 0x00, 0x64]), None, "free format");
        assert_eq!(
            parse_header(&[0xff, 0xfb, 0xf0, 0x64]),
            None,
            "bad bit rate"
        );
        assert_eq!(
            parse_header(&[0xff, 0xfb, 0x9c, 0x64]),
            None,
            "bad frequency"
        );
        assert_eq!(
            parse_header(&[0xff, 0xeb, 0x90, 0x64]),
            None,
            "reserved version"
        );
        assert_eq!(
            parse_header(&[0xff, 0xf1, 0x50, 0x80]),
            None,
            "ADTS, layer 0"
        );
        assert_eq!(parse_header(&[0xff, 0xfb]), None);
    }
}
