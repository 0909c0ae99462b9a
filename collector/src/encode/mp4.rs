//! A small ISO BMFF (MP4) box reader: just enough to read the codec configuration boxes
//! (`avcC`, `av1C`, `esds`) of an init segment and turn them into the RFC 6381 `CODECS`
//! strings a master playlist declares.
//!
//! It reads bytes it did not write, so every length is checked: a truncated or garbage
//! file gives an [`Mp4Error`], never a panic. It is not a demuxer: samples, fragments and
//! timing are ffprobe's job.

use std::fmt;

/// What was wrong with an MP4 file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Mp4Error {
    /// A box header declares more bytes than are left in its parent.
    #[error("box `{kind}` at byte {offset} declares {declared} bytes but only {available} remain")]
    Truncated {
        /// Four-character type of the box.
        kind: FourCc,
        /// Offset of the box inside its parent.
        offset: usize,
        /// Size its header declares.
        declared: u64,
        /// Bytes left in the parent.
        available: usize,
    },
    /// A box header itself is cut short or declares an impossible size.
    #[error("bad box header at byte {offset}: {detail}")]
    BadHeader {
        /// Offset of the header inside its parent.
        offset: usize,
        /// What was wrong.
        detail: &'static str,
    },
    /// A box needed to find the codec is absent.
    #[error("no `{0}` box found")]
    Missing(&'static str),
    /// A box is too short for the fields it must hold, or holds impossible values.
    #[error("malformed `{kind}` box: {detail}")]
    Malformed {
        /// Four-character type of the box.
        kind: FourCc,
        /// What was wrong.
        detail: String,
    },
    /// A sample entry whose codec string this reader does not derive.
    #[error("unsupported sample entry `{0}` (supported: avc1, avc3, av01, mp4a)")]
    UnsupportedSampleEntry(FourCc),
}

/// A four-character box or handler type, printed as text where it is printable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({self})")
    }
}

/// One box: its type and its payload (the bytes after the header).
#[derive(Debug, Clone, Copy)]
pub struct Mp4Box<'a> {
    /// Four-character type.
    pub kind: FourCc,
    /// Bytes after the header.
    pub payload: &'a [u8],
}

/// Iterates over the boxes laid end to end in `data`.
pub fn boxes(data: &[u8]) -> BoxIter<'_> {
    BoxIter { data, offset: 0 }
}

/// Iterator returned by [`boxes`]; stops after the first error.
#[derive(Debug)]
pub struct BoxIter<'a> {
    data: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for BoxIter<'a> {
    type Item = Result<Mp4Box<'a>, Mp4Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.data.len() {
            return None;
        }
        let result = read_box(self.data, self.offset);
        match &result {
            Ok((_, end)) => self.offset = *end,
            Err(_) => self.offset = self.data.len(),
        }
        Some(result.map(|(b, _)| b))
    }
}

/// Reads the box starting at `offset`; returns it and the offset just past it.
fn read_box(data: &[u8], offset: usize) -> Result<(Mp4Box<'_>, usize), Mp4Error> {
    let rest = &data[offset..];
    let header = rest.get(..8).ok_or(Mp4Error::BadHeader {
        offset,
        detail: "fewer than 8 bytes left",
    })?;
    let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let kind = FourCc([header[4], header[5], header[6], header[7]]);
    let (declared, header_len): (u64, usize) = match size32 {
        0 => (rest.len() as u64, 8),
        1 => {
            let large = rest.get(8..16).ok_or(Mp4Error::BadHeader {
                offset,
                detail: "64-bit size cut short",
            })?;
            let mut b = [0u8; 8];
            b.copy_from_slice(large);
            (u64::from_be_bytes(b), 16)
        }
        n => (u64::from(n), 8),
    };
    if declared < header_len as u64 {
        return Err(Mp4Error::BadHeader {
            offset,
            detail: "declared size smaller than its own header",
        });
    }
    if declared > rest.len() as u64 {
        return Err(Mp4Error::Truncated {
            kind,
            offset,
            declared,
            available: rest.len(),
        });
    }
    // `declared <= rest.len()`, so it fits in usize.
    let size = declared as usize;
    Ok((
        Mp4Box {
            kind,
            payload: &rest[header_len..size],
        },
        offset + size,
    ))
}

/// The first child of `data` of type `kind`, if any.
pub fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Result<Option<Mp4Box<'a>>, Mp4Error> {
    for b in boxes(data) {
        let b = b?;
        if &b.kind.0 == kind {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// Follows a path of box types from `data` down, e.g. `[b"moov", b"mvhd"]`.
fn descend<'a>(data: &'a [u8], path: &[&'static [u8; 4]]) -> Result<Mp4Box<'a>, Mp4Error> {
    let mut current = Mp4Box {
        kind: FourCc(*b"root"),
        payload: data,
    };
    for kind in path {
        current = find(current.payload, kind)?.ok_or(Mp4Error::Missing(fourcc_name(kind)))?;
    }
    Ok(current)
}

fn fourcc_name(kind: &'static [u8; 4]) -> &'static str {
    std::str::from_utf8(kind).unwrap_or("????")
}

/// The kind of media a track carries, from its `hdlr` box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    /// `vide`
    Video,
    /// `soun`
    Audio,
    /// Any other handler (subtitles, metadata…).
    Other(FourCc),
}

/// One track of an init segment and its RFC 6381 codec string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackCodec {
    /// What the track carries.
    pub kind: TrackKind,
    /// e.g. `avc1.640028`, `av01.0.08M.08`, `mp4a.40.2`.
    pub codec: String,
}

/// Reads every track of an init segment (`ftyp` + `moov`) and derives its codec string
/// from the codec configuration box of its first sample entry.
pub fn track_codecs(init: &[u8]) -> Result<Vec<TrackCodec>, Mp4Error> {
    let moov = descend(init, &[b"moov"])?;
    let mut tracks = Vec::new();
    for b in boxes(moov.payload) {
        let trak = b?;
        if &trak.kind.0 != b"trak" {
            continue;
        }
        let mdia = descend(trak.payload, &[b"mdia"])?;
        let hdlr = descend(mdia.payload, &[b"hdlr"])?;
        let handler = hdlr.payload.get(8..12).ok_or_else(|| Mp4Error::Malformed {
            kind: hdlr.kind,
            detail: format!("{} bytes, handler type needs 12", hdlr.payload.len()),
        })?;
        let kind = match handler {
            b"vide" => TrackKind::Video,
            b"soun" => TrackKind::Audio,
            other => TrackKind::Other(FourCc([other[0], other[1], other[2], other[3]])),
        };
        if let TrackKind::Other(_) = kind {
            continue;
        }
        let stsd = descend(mdia.payload, &[b"minf", b"stbl", b"stsd"])?;
        let entry = first_sample_entry(stsd)?;
        tracks.push(TrackCodec {
            kind,
            codec: sample_entry_codec(entry)?,
        });
    }
    if tracks.is_empty() {
        return Err(Mp4Error::Missing("trak (audio or video)"));
    }
    Ok(tracks)
}

/// The first entry of an `stsd` box (full box, entry count, then entries as boxes).
fn first_sample_entry(stsd: Mp4Box<'_>) -> Result<Mp4Box<'_>, Mp4Error> {
    let entries = stsd.payload.get(8..).ok_or_else(|| Mp4Error::Malformed {
        kind: stsd.kind,
        detail: "shorter than its version, flags and entry count".into(),
    })?;
    let count = u32::from_be_bytes([
        stsd.payload[4],
        stsd.payload[5],
        stsd.payload[6],
        stsd.payload[7],
    ]);
    if count == 0 {
        return Err(Mp4Error::Malformed {
            kind: stsd.kind,
            detail: "no sample entry".into(),
        });
    }
    boxes(entries)
        .next()
        .ok_or(Mp4Error::Missing("sample entry"))?
}

/// Bytes of a visual sample entry before its child boxes (ISO/IEC 14496-12 §12.1.3).
const VISUAL_ENTRY_FIELDS: usize = 78;
/// Bytes of a version-0 audio sample entry before its child boxes (§12.2.3).
const AUDIO_ENTRY_FIELDS: usize = 28;

/// The codec string of one sample entry, from its configuration box.
pub fn sample_entry_codec(entry: Mp4Box<'_>) -> Result<String, Mp4Error> {
    match &entry.kind.0 {
        b"avc1" | b"avc3" => {
            let children = skip_fields(entry, VISUAL_ENTRY_FIELDS)?;
            let avcc = find(children, b"avcC")?.ok_or(Mp4Error::Missing("avcC"))?;
            avc_codec(entry.kind, avcc.payload)
        }
        b"av01" => {
            let children = skip_fields(entry, VISUAL_ENTRY_FIELDS)?;
            let av1c = find(children, b"av1C")?.ok_or(Mp4Error::Missing("av1C"))?;
            av1_codec(av1c.payload)
        }
        b"mp4a" => {
            let children = skip_fields(entry, audio_entry_fields(entry)?)?;
            let esds = find(children, b"esds")?.ok_or(Mp4Error::Missing("esds"))?;
            esds_codec(esds.payload)
        }
        _ => Err(Mp4Error::UnsupportedSampleEntry(entry.kind)),
    }
}

/// An audio sample entry's fixed fields grow with the QuickTime sound description version.
fn audio_entry_fields(entry: Mp4Box<'_>) -> Result<usize, Mp4Error> {
    let version = entry
        .payload
        .get(8..10)
        .map(|v| u16::from_be_bytes([v[0], v[1]]))
        .ok_or_else(|| Mp4Error::Malformed {
            kind: entry.kind,
            detail: "too short for an audio sample entry".into(),
        })?;
    match version {
        0 => Ok(AUDIO_ENTRY_FIELDS),
        1 => Ok(AUDIO_ENTRY_FIELDS + 16),
        2 => Ok(AUDIO_ENTRY_FIELDS + 36),
        v => Err(Mp4Error::Malformed {
            kind: entry.kind,
            detail: format!("unknown sound sample description version {v}"),
        }),
    }
}

fn skip_fields(entry: Mp4Box<'_>, fields: usize) -> Result<&[u8], Mp4Error> {
    entry
        .payload
        .get(fields..)
        .ok_or_else(|| Mp4Error::Malformed {
            kind: entry.kind,
            detail: format!(
                "{} bytes, its fixed fields alone take {fields}",
                entry.payload.len()
            ),
        })
}

/// `avc1.PPCCLL` from an `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §5.3.3).
pub fn avc_codec(entry: FourCc, avcc: &[u8]) -> Result<String, Mp4Error> {
    let kind = FourCc(*b"avcC");
    let fields = avcc.get(..4).ok_or_else(|| Mp4Error::Malformed {
        kind,
        detail: format!("{} bytes, needs at least 4", avcc.len()),
    })?;
    if fields[0] != 1 {
        return Err(Mp4Error::Malformed {
            kind,
            detail: format!("configurationVersion {} (expected 1)", fields[0]),
        });
    }
    Ok(format!(
        "{entry}.{:02x}{:02x}{:02x}",
        fields[1], fields[2], fields[3]
    ))
}

/// `av01.P.LLT.DD` from an `AV1CodecConfigurationRecord` (AV1 ISOBMFF binding §2.3).
pub fn av1_codec(av1c: &[u8]) -> Result<String, Mp4Error> {
    let kind = FourCc(*b"av1C");
    let fields = av1c.get(..3).ok_or_else(|| Mp4Error::Malformed {
        kind,
        detail: format!("{} bytes, needs at least 3", av1c.len()),
    })?;
    if fields[0] != 0x81 {
        return Err(Mp4Error::Malformed {
            kind,
            detail: format!("marker/version byte {:#04x} (expected 0x81)", fields[0]),
        });
    }
    let profile = fields[1] >> 5;
    let level = fields[1] & 0x1f;
    let tier = if fields[2] & 0x80 != 0 { 'H' } else { 'M' };
    let high_bitdepth = fields[2] & 0x40 != 0;
    let twelve_bit = fields[2] & 0x20 != 0;
    let depth = match (high_bitdepth, twelve_bit, profile) {
        (true, true, 2) => 12,
        (true, _, _) => 10,
        (false, _, _) => 8,
    };
    Ok(format!("av01.{profile}.{level:02}{tier}.{depth:02}"))
}

/// `mp4a.OO[.A]` from an `esds` box: the object type of the decoder configuration and,
/// for MPEG-4 audio (0x40), the audio object type of its `AudioSpecificConfig`.
pub fn esds_codec(esds: &[u8]) -> Result<String, Mp4Error> {
    let kind = FourCc(*b"esds");
    let bad = |detail: &str| Mp4Error::Malformed {
        kind,
        detail: detail.to_owned(),
    };
    let body = esds
        .get(4..)
        .ok_or_else(|| bad("shorter than its version and flags"))?;
    let mut es = Descriptors::new(body);
    let (tag, es_body) = es.next_descriptor()?.ok_or_else(|| bad("empty"))?;
    if tag != 0x03 {
        return Err(bad(&format!(
            "first descriptor has tag {tag:#04x}, expected ES_Descriptor (0x03)"
        )));
    }
    // ES_ID (2 bytes), then flags saying which optional fields follow.
    let flags = *es_body
        .get(2)
        .ok_or_else(|| bad("ES_Descriptor cut short"))?;
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        let url_len = *es_body.get(at).ok_or_else(|| bad("URL length cut short"))?;
        at += 1 + usize::from(url_len);
    }
    if flags & 0x20 != 0 {
        at += 2; // OCR_ES_Id
    }
    let rest = es_body
        .get(at..)
        .ok_or_else(|| bad("ES_Descriptor cut short"))?;
    let mut inner = Descriptors::new(rest);
    while let Some((tag, config)) = inner.next_descriptor()? {
        if tag != 0x04 {
            continue;
        }
        let object_type = *config
            .first()
            .ok_or_else(|| bad("DecoderConfigDescriptor is empty"))?;
        if object_type != 0x40 {
            return Ok(format!("mp4a.{object_type:02x}"));
        }
        // objectTypeIndication, streamType, bufferSizeDB (3), maxBitrate (4), avgBitrate (4).
        let specific = config
            .get(13..)
            .ok_or_else(|| bad("DecoderConfigDescriptor cut short"))?;
        let mut specific = Descriptors::new(specific);
        while let Some((tag, asc)) = specific.next_descriptor()? {
            if tag == 0x05 {
                return Ok(format!("mp4a.40.{}", audio_object_type(asc)?));
            }
        }
        return Err(Mp4Error::Missing(
            "DecoderSpecificInfo (AudioSpecificConfig)",
        ));
    }
    Err(Mp4Error::Missing("DecoderConfigDescriptor"))
}

/// The audio object type at the start of an `AudioSpecificConfig` (ISO/IEC 14496-3
/// §1.6.2.1): five bits, or 32 plus the next six when the five read 31.
fn audio_object_type(asc: &[u8]) -> Result<u8, Mp4Error> {
    let bad = || Mp4Error::Malformed {
        kind: FourCc(*b"esds"),
        detail: "AudioSpecificConfig cut short".into(),
    };
    let first = *asc.first().ok_or_else(bad)?;
    let aot = first >> 3;
    if aot != 31 {
        return Ok(aot);
    }
    let second = *asc.get(1).ok_or_else(bad)?;
    Ok(32 + (((first & 0x07) << 3) | (second >> 5)))
}

/// MPEG-4 descriptors (tag, variable-length size, body) laid end to end.
struct Descriptors<'a> {
    data: &'a [u8],
}

impl<'a> Descriptors<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn next_descriptor(&mut self) -> Result<Option<(u8, &'a [u8])>, Mp4Error> {
        let bad = |detail: &str| Mp4Error::Malformed {
            kind: FourCc(*b"esds"),
            detail: detail.to_owned(),
        };
        let Some((&tag, mut rest)) = self.data.split_first() else {
            return Ok(None);
        };
        let mut len: usize = 0;
        // Up to four size bytes, seven bits each, high bit set when another follows.
        for i in 0..4 {
            let (&b, after) = rest
                .split_first()
                .ok_or_else(|| bad("descriptor size cut short"))?;
            rest = after;
            len = (len << 7) | usize::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
            if i == 3 {
                return Err(bad("descriptor size longer than four bytes"));
            }
        }
        let body = rest.get(..len).ok_or_else(|| {
            bad(&format!(
                "descriptor {tag:#04x} declares {len} bytes, {} remain",
                rest.len()
            ))
        })?;
        self.data = &rest[len..];
        Ok(Some((tag, body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wraps `payload` in a box header of type `kind`.
    fn mkbox(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        out.extend_from_slice(&((payload.len() + 8) as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    fn full(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0, 0];
        out.extend_from_slice(payload);
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
            .collect()
    }

    /// The `avcC` payload x264 (libx264 via ffmpeg 5.1) wrote for 1920x1080 30 fps,
    /// High profile, level 4.0: SPS and PPS included.
    const AVCC_HIGH_40: &str = "01640028ffe1001b67640028acd940780227e5c044000003000400000300\
        f03c60c65801000468eaef2cfdf8f800";

    /// The `esds` payload ffmpeg's native AAC encoder wrote for AAC-LC 48 kHz stereo.
    const ESDS_AAC_LC: &str = "000000000380808025000100048080801740150000000001f4000001f4\
        000580808005119056e500068080800102";

    /// The `av1C` payload SVT-AV1 1.4 (via ffmpeg 5.1) wrote for 426x240 30 fps: main
    /// profile, level 2.0, main tier, 8 bits, with its sequence header OBU.
    const AV1C_MAIN: &str = "81000c000a0b000000043ea7bc02f80040";

    fn sample_entry(kind: &[u8; 4], fields: usize, config: &[u8]) -> Vec<u8> {
        let mut payload = vec![0u8; fields];
        payload.extend_from_slice(config);
        mkbox(kind, &payload)
    }

    fn init_with(handler: &[u8; 4], entry: Vec<u8>) -> Vec<u8> {
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend_from_slice(&entry);
        let stbl = mkbox(b"stbl", &mkbox(b"stsd", &stsd));
        let minf = mkbox(b"minf", &stbl);
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 13]);
        let mut mdia = mkbox(b"mdhd", &[0u8; 24]);
        mdia.extend(mkbox(b"hdlr", &hdlr));
        mdia.extend(minf);
        let trak = mkbox(b"trak", &mkbox(b"mdia", &mdia));
        let mut file = mkbox(b"ftyp", b"iso5\0\0\x02\0iso6mp41");
        file.extend(mkbox(b"moov", &trak));
        file
    }

    #[test]
    fn avcc_of_high_level_40_gives_avc1_640028() {
        let avcc = hex(AVCC_HIGH_40);
        assert_eq!(avc_codec(FourCc(*b"avc1"), &avcc).unwrap(), "avc1.640028");
        let entry = sample_entry(b"avc1", VISUAL_ENTRY_FIELDS, &mkbox(b"avcC", &avcc));
        let tracks = track_codecs(&init_with(b"vide", entry)).unwrap();
        assert_eq!(
            tracks,
            vec![TrackCodec {
                kind: TrackKind::Video,
                codec: "avc1.640028".into()
            }]
        );
    }

    #[test]
    fn esds_of_aac_lc_gives_mp4a_40_2() {
        let esds = hex(ESDS_AAC_LC);
        assert_eq!(esds_codec(&esds).unwrap(), "mp4a.40.2");
        let mut config = vec![0u8; 0];
        config.extend(mkbox(b"esds", &esds));
        let entry = sample_entry(b"mp4a", AUDIO_ENTRY_FIELDS, &config);
        let tracks = track_codecs(&init_with(b"soun", entry)).unwrap();
        assert_eq!(tracks[0].codec, "mp4a.40.2");
        assert_eq!(tracks[0].kind, TrackKind::Audio);
    }

    #[test]
    fn av1c_gives_short_av01_string() {
        assert_eq!(av1_codec(&hex(AV1C_MAIN)).unwrap(), "av01.0.00M.08");
        // Profile 2, level 13 (5.1), high tier, 12 bits.
        assert_eq!(av1_codec(&[0x81, 0x4d, 0xe0]).unwrap(), "av01.2.13H.12");
        // Main profile, 10 bits.
        assert_eq!(av1_codec(&[0x81, 0x08, 0x40]).unwrap(), "av01.0.08M.10");
    }

    #[test]
    fn escaped_audio_object_type_and_other_object_types() {
        // AOT 31 escape: 32 + 6 bits (here 10 → AOT 42, USAC).
        assert_eq!(audio_object_type(&[0xf9, 0x40]).unwrap(), 42);
        // An MP3 decoder configuration (object type 0x6b) has no AudioSpecificConfig.
        let esds = full(&[
            0x03, 0x13, 0x00, 0x01, 0x00, 0x04, 0x0d, 0x6b, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0,
        ]);
        assert_eq!(esds_codec(&esds).unwrap(), "mp4a.6b");
    }

    #[test]
    fn unsupported_and_missing_boxes_are_errors() {
        let entry = sample_entry(b"hvc1", VISUAL_ENTRY_FIELDS, &[]);
        let err = track_codecs(&init_with(b"vide", entry)).unwrap_err();
        assert_eq!(err, Mp4Error::UnsupportedSampleEntry(FourCc(*b"hvc1")));
        assert!(err.to_string().contains("hvc1"));
        let entry = sample_entry(b"avc1", VISUAL_ENTRY_FIELDS, &mkbox(b"btrt", &[0; 12]));
        assert_eq!(
            track_codecs(&init_with(b"vide", entry)).unwrap_err(),
            Mp4Error::Missing("avcC")
        );
        assert_eq!(
            track_codecs(&mkbox(b"ftyp", b"iso5")).unwrap_err(),
            Mp4Error::Missing("moov")
        );
    }

    #[test]
    fn truncated_inputs_are_errors_at_every_length() {
        let entry = sample_entry(
            b"avc1",
            VISUAL_ENTRY_FIELDS,
            &mkbox(b"avcC", &hex(AVCC_HIGH_40)),
        );
        let file = init_with(b"vide", entry);
        assert!(track_codecs(&file).is_ok());
        for len in 0..file.len() {
            assert!(
                track_codecs(&file[..len]).is_err(),
                "a file cut at {len} of {} bytes was accepted",
                file.len()
            );
        }
        let esds = hex(ESDS_AAC_LC);
        for len in 0..esds.len() - 1 {
            // Cutting the trailing SLConfigDescriptor still leaves the codec readable;
            // anything shorter must be an error, never a panic.
            let _ = esds_codec(&esds[..len]);
        }
        assert!(esds_codec(&esds[..20]).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        // A deterministic pseudo-random walk over byte strings, with box-like prefixes so
        // the reader gets past the first header often.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..5000 {
            let len = (round % 300) + 1;
            let mut bytes = Vec::with_capacity(len + 8);
            if round % 2 == 0 {
                bytes.extend_from_slice(&((len + 8) as u32).to_be_bytes());
                bytes.extend_from_slice(b"moov");
            }
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push((state >> 24) as u8);
            }
            let _ = track_codecs(&bytes);
            let _ = esds_codec(&bytes);
            let _ = av1_codec(&bytes);
            for b in boxes(&bytes) {
                let _ = b;
            }
        }
    }

    #[test]
    fn box_headers_are_checked() {
        // Size smaller than the header.
        assert!(matches!(
            boxes(&[0, 0, 0, 4, b'f', b'r', b'e', b'e']).next(),
            Some(Err(Mp4Error::BadHeader { .. }))
        ));
        // Declares more than there is.
        let err = boxes(&[0, 0, 0, 20, b'm', b'o', b'o', b'v', 0])
            .next()
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("moov"), "{err}");
        // Size 0 runs to the end; size 1 reads a 64-bit size.
        let b = boxes(&[0, 0, 0, 0, b'm', b'd', b'a', b't', 7, 7])
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(b.payload, &[7, 7]);
        let mut large = vec![
            0, 0, 0, 1, b'f', b'r', b'e', b'e', 0, 0, 0, 0, 0, 0, 0, 17, 9,
        ];
        assert_eq!(boxes(&large).next().unwrap().unwrap().payload, &[9]);
        large.truncate(12);
        assert!(boxes(&large).next().unwrap().is_err());
    }
}
