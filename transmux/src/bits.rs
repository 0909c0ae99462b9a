//! Bit-level reading for H.264 parameter sets: fixed-width fields and exp-Golomb codes
//! over an RBSP (a NAL unit with its emulation prevention bytes removed).
//!
//! Every read returns `None` past the end, so a truncated or hostile SPS ends the parse
//! instead of panicking.

/// Reads bits most significant first.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// One bit.
    pub(crate) fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Some(u32::from(bit))
    }

    /// One bit as a flag.
    pub(crate) fn flag(&mut self) -> Option<bool> {
        Some(self.bit()? == 1)
    }

    /// `count` bits (at most 32), as an unsigned number: `u(n)` in the H.264 syntax.
    pub(crate) fn bits(&mut self, count: u32) -> Option<u32> {
        debug_assert!(count <= 32);
        let mut value: u64 = 0;
        for _ in 0..count {
            value = (value << 1) | u64::from(self.bit()?);
        }
        u32::try_from(value).ok()
    }

    /// Skips `count` bits.
    pub(crate) fn skip(&mut self, count: usize) -> Option<()> {
        let end = self.pos.checked_add(count)?;
        if end > self.data.len() * 8 {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// An unsigned exp-Golomb code: `ue(v)`. Codes longer than 32 bits are rejected.
    pub(crate) fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        let value = (1u64 << zeros) - 1 + u64::from(rest);
        u32::try_from(value).ok()
    }

    /// A signed exp-Golomb code: `se(v)`.
    pub(crate) fn se(&mut self) -> Option<i32> {
        let code = i64::from(self.ue()?);
        let value = if code % 2 == 1 {
            (code + 1) / 2
        } else {
            -(code / 2)
        };
        i32::try_from(value).ok()
    }
}

/// The RBSP of a NAL unit: every `0x03` that follows two zero bytes (an emulation
/// prevention byte) removed.
pub(crate) fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &byte in nal {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

/// Writes bits, for building parameter sets in tests.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

#[cfg(test)]
impl BitWriter {
    pub(crate) fn put(&mut self, count: u32, value: u32) {
        for index in (0..count).rev() {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = ((value >> index) & 1) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= bit << (7 - (self.bits % 8));
            }
            self.bits += 1;
        }
    }

    pub(crate) fn ue(&mut self, value: u32) {
        let code = u64::from(value) + 1;
        let length = 64 - code.leading_zeros();
        self.put(length - 1, 0);
        for index in (0..length).rev() {
            self.put(1, ((code >> index) & 1) as u32);
        }
    }

    pub(crate) fn se(&mut self, value: i32) {
        let code = if value > 0 {
            (value as u32) * 2 - 1
        } else {
            value.unsigned_abs() * 2
        };
        self.ue(code);
    }

    /// The bytes, with the RBSP trailing bits (a 1 then zeros to the byte boundary).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.put(1, 1);
        while !self.bits.is_multiple_of(8) {
            self.put(1, 0);
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_round_trip() {
        let mut writer = BitWriter::default();
        for value in [0, 1, 2, 3, 7, 8, 255, 65_535, 1 << 20] {
            writer.ue(value);
        }
        for value in [0, 1, -1, 2, -2, 1000, -1000] {
            writer.se(value);
        }
        writer.put(5, 0b10110);
        let bytes = writer.finish();
        let mut reader = BitReader::new(&bytes);
        for value in [0, 1, 2, 3, 7, 8, 255, 65_535, 1 << 20] {
            assert_eq!(reader.ue(), Some(value));
        }
        for value in [0, 1, -1, 2, -2, 1000, -1000] {
            assert_eq!(reader.se(), Some(value));
        }
        assert_eq!(reader.bits(5), Some(0b10110));
        assert_eq!(reader.flag(), Some(true));
    }

    #[test]
    fn reads_past_the_end_are_none() {
        let mut reader = BitReader::new(&[0x00]);
        assert_eq!(reader.ue(), None);
        let mut reader = BitReader::new(&[0x00, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(reader.ue(), None, "more than 31 leading zeros");
        let mut reader = BitReader::new(&[0xff]);
        assert_eq!(reader.skip(9), None);
        assert_eq!(reader.bits(8), Some(0xff));
        assert_eq!(reader.bit(), None);
    }

    #[test]
    fn emulation_prevention_removed() {
        assert_eq!(
            unescape(&[0x67, 0, 0, 3, 1, 0, 0, 3, 0, 3]),
            vec![0x67, 0, 0, 1, 0, 0, 0, 3]
        );
        assert_eq!(unescape(&[0, 3, 0, 0, 3]), vec![0, 3, 0, 0]);
    }
}
