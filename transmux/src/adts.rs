//! AAC in ADTS (ISO/IEC 13818-7 / 14496-3 §1.A.2): frame headers, and the
//! `AudioSpecificConfig` an MP4 `esds` carries in their place.

/// Sampling frequencies by `sampling_frequency_index`.
pub const SAMPLE_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// PCM samples per channel in one raw data block.
pub const SAMPLES_PER_BLOCK: u32 = 1024;

/// An ADTS frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// Audio object type (profile + 1): 2 = AAC LC.
    pub object_type: u8,
    /// `sampling_frequency_index`.
    pub rate_index: u8,
    /// `channel_configuration` (0: defined in the stream).
    pub channels: u8,
    /// Bytes of the header: 7, or 9 with a CRC.
    pub header_length: usize,
    /// Bytes of the whole frame, header included.
    pub frame_length: usize,
    /// Raw data blocks in the frame (1 to 4), 1024 samples each.
    pub blocks: u8,
}

impl AdtsHeader {
    /// The sampling frequency in Hz.
    pub fn sample_rate(&self) -> u32 {
        SAMPLE_RATES
            .get(usize::from(self.rate_index))
            .copied()
            .unwrap_or(0)
    }

    /// Samples per channel in the frame.
    pub fn samples(&self) -> u32 {
        SAMPLES_PER_BLOCK * u32::from(self.blocks)
    }

    /// The two-byte `AudioSpecificConfig`: object type, frequency index, channels.
    pub fn audio_specific_config(&self) -> [u8; 2] {
        [
            (self.object_type << 3) | (self.rate_index >> 1),
            ((self.rate_index & 1) << 7) | (self.channels << 3),
        ]
    }
}

/// Whether `data` starts with something that may be an ADTS header (the 12-bit sync and
/// layer 0); see [`parse_header`] for a full check.
pub fn is_sync(data: &[u8]) -> bool {
    matches!(data, [0xff, second, ..] if second & 0xf6 == 0xf0)
}

/// Parses the ADTS header at the start of `data`; `None` when it is not a valid one.
pub fn parse_header(data: &[u8]) -> Option<AdtsHeader> {
    let h = data.get(..7)?;
    if !is_sync(h) {
        return None;
    }
    let protection_absent = h[1] & 0x01 != 0;
    let profile = h[2] >> 6;
    let rate_index = (h[2] >> 2) & 0x0f;
    if usize::from(rate_index) >= SAMPLE_RATES.len() {
        return None;
    }
    let channels = ((h[2] & 0x01) << 2) | (h[3] >> 6);
    let frame_length =
        (usize::from(h[3] & 0x03) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let header_length = if protection_absent { 7 } else { 9 };
    if frame_length <= header_length {
        return None;
    }
    Some(AdtsHeader {
        object_type: profile + 1,
        rate_index,
        channels,
        header_length,
        frame_length,
        blocks: (h[6] & 0x03) + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::adts_frame;

    #[test]
    fn header_fields() {
        let frame = adts_frame(2, 3, 2, &[0xaa; 100]);
        let header = parse_header(&frame).unwrap();
        assert_eq!(header.object_type, 2);
        assert_eq!(header.sample_rate(), 48_000);
        assert_eq!(header.channels, 2);
        assert_eq!((header.header_length, header.frame_length), (7, 107));
        assert_eq!(header.samples(), 1024);
        // AAC LC, 48 kHz, stereo: 0x1190.
        assert_eq!(header.audio_specific_config(), [0x11, 0x90]);
        // AAC LC, 44.1 kHz, stereo: 0x1210; AAC Main, 44.1 kHz, mono: 0x0a08.
        let lc = parse_header(&adts_frame(2, 4, 2, &[0; 10])).unwrap();
        assert_eq!(lc.audio_specific_config(), [0x12, 0x10]);
        let main = parse_header(&adts_frame(1, 4, 1, &[0; 10])).unwrap();
        assert_eq!(main.audio_specific_config(), [0x0a, 0x08]);
    }

    #[test]
    fn with_crc_and_invalid_headers() {
        let mut frame = adts_frame(2, 4, 2, &[0; 20]);
        frame[1] = 0xf0; // protection_absent = 0: two CRC bytes follow the header
        assert_eq!(parse_header(&frame).unwrap().header_length, 9);
        let mut bad_rate = adts_frame(2, 4, 2, &[0; 20]);
        bad_rate[2] |= 0x0f << 2;
        assert_eq!(parse_header(&bad_rate), None);
        let mut layer = adts_frame(2, 4, 2, &[0; 20]);
        layer[1] = 0xf3; // layer 1: MPEG audio, not ADTS
        assert_eq!(parse_header(&layer), None);
        assert!(!is_sync(&layer));
        let mut short = adts_frame(2, 4, 2, &[]);
        short[4] = 0;
        short[5] &= 0x1f; // frame length 0
        assert_eq!(parse_header(&short), None);
        assert_eq!(parse_header(&[0xff, 0xf1]), None);
    }
}
