//! Reads the timing of fragmented MP4 (CMAF) media: each track's timescale from an
//! initialisation segment (`moov/trak`: `tkhd` track id, `mdia/mdhd` timescale) and the
//! base media decode time of a media segment (`moof/traf`: `tfhd` track id, `tfdt`).
//!
//! The browser shell needs these to place media on the playlist timeline
//! (`SourceBuffer.timestampOffset`) when a stream's media time does not start where its
//! playlist does (live streams, looped content, discontinuities). Only a segment's first
//! bytes are read. Truncated or malformed boxes give `None`, never a panic.
//!
//! [`codecs`] reads the RFC 6381 codec strings of an initialisation segment's tracks
//! (`stsd` sample entries), for streams whose playlists do not declare `CODECS`: a
//! `SourceBuffer` cannot be created without them.

/// One box: its type and the bytes of its payload.
struct Mp4Box<'a> {
    kind: [u8; 4],
    payload: &'a [u8],
}

/// The boxes of `bytes` in order; stops at the first malformed or truncated header. A
/// box whose declared size runs past the end is returned with what is there (so a
/// prefix of a segment still yields its leading boxes).
fn boxes(bytes: &[u8]) -> impl Iterator<Item = Mp4Box<'_>> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.len() < 8 {
            return None;
        }
        let size32 = u32::from_be_bytes(rest[0..4].try_into().ok()?) as u64;
        let kind: [u8; 4] = rest[4..8].try_into().ok()?;
        let (header, size) = match size32 {
            0 => (8, rest.len() as u64),
            1 => {
                let large = u64::from_be_bytes(rest.get(8..16)?.try_into().ok()?);
                (16, large)
            }
            size => (8, size),
        };
        if size < header as u64 {
            rest = &[];
            return None;
        }
        let end = usize::try_from(size).unwrap_or(usize::MAX).min(rest.len());
        let payload = &rest[header.min(end)..end];
        rest = &rest[end..];
        Some(Mp4Box { kind, payload })
    })
}

fn child<'a>(bytes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(bytes).find(|b| &b.kind == kind).map(|b| b.payload)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Track ids and timescales of an initialisation segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitTiming {
    /// `(track_id, timescale)` per track, in file order.
    pub tracks: Vec<(u32, u32)>,
}

impl InitTiming {
    /// Reads `moov/trak/{tkhd, mdia/mdhd}`; `None` when there is no usable track.
    pub fn parse(init: &[u8]) -> Option<InitTiming> {
        let moov = child(init, b"moov")?;
        let tracks: Vec<(u32, u32)> = boxes(moov)
            .filter(|b| &b.kind == b"trak")
            .filter_map(|trak| {
                let tkhd = child(trak.payload, b"tkhd")?;
                // version 1: 8-byte creation and modification times; version 0: 4-byte.
                let track_id = if *tkhd.first()? == 1 {
                    u32_at(tkhd, 20)?
                } else {
                    u32_at(tkhd, 12)?
                };
                let mdhd = child(child(trak.payload, b"mdia")?, b"mdhd")?;
                let timescale = if *mdhd.first()? == 1 {
                    u32_at(mdhd, 20)?
                } else {
                    u32_at(mdhd, 12)?
                };
                (timescale > 0).then_some((track_id, timescale))
            })
            .collect();
        (!tracks.is_empty()).then_some(InitTiming { tracks })
    }

    fn timescale(&self, track_id: u32) -> Option<u32> {
        self.tracks
            .iter()
            .find(|(id, _)| *id == track_id)
            .or(self.tracks.first())
            .map(|(_, scale)| *scale)
    }

    /// Base media decode time, in seconds, of the first track fragment of a media
    /// segment (or of its first bytes: boxes before `moof` such as `styp`, `sidx`,
    /// `prft` or `emsg` are skipped).
    pub fn segment_start(&self, segment: &[u8]) -> Option<f64> {
        let moof = boxes(segment).find(|b| &b.kind == b"moof")?.payload;
        let traf = child(moof, b"traf")?;
        let track_id = u32_at(child(traf, b"tfhd")?, 4)?;
        let tfdt = child(traf, b"tfdt")?;
        let decode_time = if *tfdt.first()? == 1 {
            u64_at(tfdt, 4)?
        } else {
            u64::from(u32_at(tfdt, 4)?)
        };
        Some(decode_time as f64 / f64::from(self.timescale(track_id)?))
    }
}

/// The RFC 6381 codec strings (`avc1.64001f`, `mp4a.40.2`, …) of the audio and video
/// tracks an initialisation segment declares (`moov/trak/mdia/minf/stbl/stsd`), in file
/// order; `None` when it declares none. A sample entry whose configuration box is
/// missing or unknown gives its four-character code (the browser then refuses it).
pub fn codecs(init: &[u8]) -> Option<Vec<String>> {
    let moov = child(init, b"moov")?;
    let codecs: Vec<String> = boxes(moov)
        .filter(|b| &b.kind == b"trak")
        .filter_map(|trak| {
            let mdia = child(trak.payload, b"mdia")?;
            let handler: [u8; 4] = child(mdia, b"hdlr")?.get(8..12)?.try_into().ok()?;
            let offset = match &handler {
                b"vide" => VISUAL_ENTRY_BYTES,
                b"soun" => AUDIO_ENTRY_BYTES,
                _ => return None,
            };
            let stsd = child(child(child(mdia, b"minf")?, b"stbl")?, b"stsd")?;
            let entry = boxes(stsd.get(8..)?).next()?;
            sample_entry_codec(entry.kind, entry.payload, offset)
        })
        .collect();
    (!codecs.is_empty()).then_some(codecs)
}

/// Bytes of a visual sample entry before its child boxes (ISO/IEC 14496-12 12.1.3).
const VISUAL_ENTRY_BYTES: usize = 78;
/// Bytes of an audio sample entry before its child boxes (ISO/IEC 14496-12 12.2.3).
const AUDIO_ENTRY_BYTES: usize = 28;

fn sample_entry_codec(kind: [u8; 4], entry: &[u8], mut offset: usize) -> Option<String> {
    if offset == AUDIO_ENTRY_BYTES {
        // QuickTime sound sample descriptions: version 1 adds 16 bytes, version 2 adds 36.
        match entry.get(8..10) {
            Some([0, 1]) => offset += 16,
            Some([0, 2]) => offset += 36,
            _ => {}
        }
    }
    let children = entry.get(offset..).unwrap_or_default();
    // Encrypted entries name their original format in sinf/frma.
    let kind = match &kind {
        b"encv" | b"enca" => child(child(children, b"sinf")?, b"frma")?
            .get(0..4)?
            .try_into()
            .ok()?,
        _ => kind,
    };
    let fourcc = crate::small_str::from_utf8_lossy(&kind);
    let codec = match &kind {
        b"avc1" | b"avc2" | b"avc3" | b"avc4" => child(children, b"avcC")
            .and_then(|c| c.get(1..4))
            .map(|p| format!("{fourcc}.{:02x}{:02x}{:02x}", p[0], p[1], p[2])),
        b"hvc1" | b"hev1" => child(children, b"hvcC").and_then(|c| hevc_codec(&fourcc, c)),
        b"av01" => child(children, b"av1C").and_then(av1_codec),
        b"vp09" => child(children, b"vpcC")
            .and_then(|c| c.get(4..7))
            .map(|c| format!("vp09.{:02}.{:02}.{:02}", c[0], c[1], c[2] >> 4)),
        b"vp08" => Some("vp8".to_owned()),
        // An AAC entry without a usable esds: AAC-LC, the common case.
        b"mp4a" => Some(
            child(children, b"esds")
                .and_then(mp4a_codec)
                .unwrap_or_else(|| "mp4a.40.2".to_owned()),
        ),
        b"ac-3" | b"ec-3" | b"ac-4" => Some(fourcc.clone()),
        b"Opus" => Some("opus".to_owned()),
        b"fLaC" => Some("flac".to_owned()),
        b".mp3" => Some("mp3".to_owned()),
        _ => None,
    };
    Some(codec.unwrap_or(fourcc))
}

/// `hvc1.<space><profile>.<compatibility>.<tier><level>[.<constraints>]` from `hvcC`
/// (ISO/IEC 14496-15 E.3).
fn hevc_codec(fourcc: &str, hvcc: &[u8]) -> Option<String> {
    let first = *hvcc.get(1)?;
    let space = ["", "A", "B", "C"][usize::from(first >> 6)];
    let tier = if first & 0x20 != 0 { 'H' } else { 'L' };
    let profile = first & 0x1f;
    let compatibility = u32_at(hvcc, 2)?.reverse_bits();
    let constraints = hvcc.get(6..12)?;
    let level = *hvcc.get(12)?;
    let mut codec = format!("{fourcc}.{space}{profile}.{compatibility:X}.{tier}{level}");
    let used = constraints
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| i + 1);
    for byte in &constraints[..used] {
        codec.push_str(&format!(".{byte:X}"));
    }
    Some(codec)
}

/// `av01.<profile>.<level><tier>.<bit depth>` from `av1C` (AV1 codec ISO media file format
/// binding, codecs parameter string).
fn av1_codec(av1c: &[u8]) -> Option<String> {
    let (a, b) = (*av1c.get(1)?, *av1c.get(2)?);
    let depth = match (b & 0x40 != 0, b & 0x20 != 0) {
        (true, true) => 12,
        (true, false) => 10,
        _ => 8,
    };
    let tier = if b & 0x80 != 0 { 'H' } else { 'M' };
    Some(format!("av01.{}.{:02}{tier}.{depth:02}", a >> 5, a & 0x1f))
}

/// `mp4a.40.<audio object type>` (or `mp4a.<object type>` for MPEG audio) from the
/// descriptors of `esds` (ISO/IEC 14496-1 7.2.6).
fn mp4a_codec(esds: &[u8]) -> Option<String> {
    /// A descriptor's tag and body (its size is 1 to 4 bytes of 7 bits each).
    fn descriptor(bytes: &[u8]) -> Option<(u8, &[u8])> {
        let tag = *bytes.first()?;
        let mut size = 0usize;
        let mut at = 1;
        loop {
            let byte = *bytes.get(at)?;
            size = (size << 7) | usize::from(byte & 0x7f);
            at += 1;
            if byte & 0x80 == 0 || at == 5 {
                break;
            }
        }
        let end = (at + size).min(bytes.len());
        Some((tag, &bytes[at..end]))
    }
    let (tag, es) = descriptor(esds.get(4..)?)?;
    if tag != 0x03 {
        return None;
    }
    let flags = *es.get(2)?;
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2;
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(*es.get(at)?);
    }
    if flags & 0x20 != 0 {
        at += 2;
    }
    let (tag, config) = descriptor(es.get(at..)?)?;
    if tag != 0x04 {
        return None;
    }
    let object_type = *config.first()?;
    if object_type != 0x40 {
        return Some(format!("mp4a.{object_type:02X}"));
    }
    let audio_object_type = config
        .get(13..)
        .and_then(descriptor)
        .filter(|(tag, _)| *tag == 0x05)
        .and_then(|(_, info)| {
            let aot = info.first()? >> 3;
            if aot == 31 {
                let extended =
                    ((u16::from(info[0] & 0x07) << 3) | u16::from(*info.get(1)? >> 5)) + 32;
                Some(extended)
            } else {
                Some(u16::from(aot))
            }
        })
        .unwrap_or(2);
    Some(format!("mp4a.40.{audio_object_type}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    fn full(version: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![version, 0, 0, 0];
        out.extend_from_slice(body);
        out
    }

    fn trak(track_id: u32, timescale: u32, version: u8) -> Vec<u8> {
        let times = if version == 1 { 16 } else { 8 };
        let mut tkhd = vec![0u8; times];
        tkhd.extend_from_slice(&track_id.to_be_bytes());
        tkhd.extend_from_slice(&[0u8; 60]);
        let mut mdhd = vec![0u8; times];
        mdhd.extend_from_slice(&timescale.to_be_bytes());
        mdhd.extend_from_slice(&[0u8; 12]);
        let mdia = mp4_box(b"mdia", &mp4_box(b"mdhd", &full(version, &mdhd)));
        mp4_box(
            b"trak",
            &[mp4_box(b"tkhd", &full(version, &tkhd)), mdia].concat(),
        )
    }

    fn segment(track_id: u32, decode_time: u64, version: u8) -> Vec<u8> {
        let tfhd = mp4_box(b"tfhd", &full(0, &track_id.to_be_bytes()));
        let tfdt_body = if version == 1 {
            decode_time.to_be_bytes().to_vec()
        } else {
            (decode_time as u32).to_be_bytes().to_vec()
        };
        let tfdt = mp4_box(b"tfdt", &full(version, &tfdt_body));
        let traf = mp4_box(b"traf", &[tfhd, tfdt].concat());
        let moof = mp4_box(b"moof", &[mp4_box(b"mfhd", &[0; 8]), traf].concat());
        [
            mp4_box(b"styp", b"msdhcmfs"),
            moof,
            mp4_box(b"mdat", &[1; 32]),
        ]
        .concat()
    }

    #[test]
    fn timescales_and_decode_times() {
        let init = [
            mp4_box(b"ftyp", b"isomiso6"),
            mp4_box(b"moov", &[trak(1, 90_000, 0), trak(2, 48_000, 1)].concat()),
        ]
        .concat();
        let timing = InitTiming::parse(&init).unwrap();
        assert_eq!(timing.tracks, vec![(1, 90_000), (2, 48_000)]);
        assert_eq!(timing.segment_start(&segment(1, 900_000, 0)), Some(10.0));
        assert_eq!(timing.segment_start(&segment(2, 96_000, 1)), Some(2.0));
        // A prefix that still holds the moof is enough.
        let whole = segment(2, 1u64 << 40, 1);
        let moof_end = whole.len() - 40;
        assert_eq!(
            timing.segment_start(&whole[..moof_end]),
            Some((1u64 << 40) as f64 / 48_000.0)
        );
    }

    #[test]
    fn malformed_input_is_none_not_a_panic() {
        assert_eq!(InitTiming::parse(&[]), None);
        assert_eq!(InitTiming::parse(&mp4_box(b"moov", &[])), None);
        let timing = InitTiming {
            tracks: vec![(1, 1000)],
        };
        for bytes in [
            vec![],
            vec![0, 0, 0, 1, b'm', b'o', b'o', b'f'],
            vec![0, 0, 0, 4, b'm', b'o', b'o', b'f'],
            vec![0xff; 64],
            mp4_box(b"moof", &mp4_box(b"traf", &[0, 0, 0, 9])),
            segment(1, 5, 0)[..30].to_vec(),
        ] {
            let _ = timing.segment_start(&bytes);
            let _ = InitTiming::parse(&bytes);
        }
        // Every prefix of real-shaped input is safe.
        let seg = segment(1, 123_456, 1);
        for end in 0..seg.len() {
            let _ = timing.segment_start(&seg[..end]);
        }
    }
    /// A track of an init segment: `hdlr` handler and one `stsd` sample entry.
    fn codec_trak(
        handler: &[u8; 4],
        entry_kind: &[u8; 4],
        entry_head: usize,
        config: &[u8],
    ) -> Vec<u8> {
        let mut hdlr = vec![0u8; 4];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 13]);
        let entry = mp4_box(
            entry_kind,
            &[vec![0u8; entry_head], config.to_vec()].concat(),
        );
        let stsd = mp4_box(b"stsd", &[full(0, &1u32.to_be_bytes()), entry].concat());
        let stbl = mp4_box(b"stbl", &stsd);
        let minf = mp4_box(b"minf", &[mp4_box(b"vmhd", &[0; 12]), stbl].concat());
        let mdia = mp4_box(
            b"mdia",
            &[
                mp4_box(b"mdhd", &full(0, &[0; 20])),
                mp4_box(b"hdlr", &full(0, &hdlr)),
                minf,
            ]
            .concat(),
        );
        mp4_box(
            b"trak",
            &[mp4_box(b"tkhd", &full(0, &[0; 80])), mdia].concat(),
        )
    }

    fn init_with(traks: &[Vec<u8>]) -> Vec<u8> {
        [
            mp4_box(b"ftyp", b"iso5iso6"),
            mp4_box(b"moov", &traks.concat()),
        ]
        .concat()
    }

    /// `esds` of membrane-http-adaptive-stream's audio init segment (AAC-LC, 44.1 kHz
    /// mono, 4-byte descriptor sizes).
    const ESDS_AAC_LC: [u8; 47] = [
        0, 0, 0, 0, 0x03, 0x80, 0x80, 0x80, 0x22, 0x00, 0x01, 0x00, 0x04, 0x80, 0x80, 0x80, 0x14,
        0x40, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x80,
        0x80, 0x80, 0x02, 0x12, 0x08, 0x06, 0x80, 0x80, 0x80, 0x01, 0x02, 0, 0, 0, 0,
    ];

    #[test]
    fn codec_strings_of_init_segments() {
        let avc = codec_trak(
            b"vide",
            b"avc1",
            VISUAL_ENTRY_BYTES,
            &mp4_box(b"avcC", &[1, 0x64, 0x00, 0x1f, 0xff, 0xe1]),
        );
        let aac = codec_trak(
            b"soun",
            b"mp4a",
            AUDIO_ENTRY_BYTES,
            &mp4_box(b"esds", &ESDS_AAC_LC),
        );
        // Muxed, in file order; audio alone.
        assert_eq!(
            codecs(&init_with(&[avc.clone(), aac.clone()])),
            Some(vec!["avc1.64001f".to_owned(), "mp4a.40.2".to_owned()])
        );
        assert_eq!(
            codecs(&init_with(&[aac])),
            Some(vec!["mp4a.40.2".to_owned()])
        );
        // HE-AAC (object type 5) with 1-byte descriptor sizes.
        let he_aac = [
            0, 0, 0, 0, 0x03, 0x19, 0x00, 0x01, 0x00, 0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0x05, 0x02, 0x2b, 0x92,
        ];
        let he = codec_trak(
            b"soun",
            b"mp4a",
            AUDIO_ENTRY_BYTES,
            &mp4_box(b"esds", &he_aac),
        );
        assert_eq!(
            codecs(&init_with(&[he])),
            Some(vec!["mp4a.40.5".to_owned()])
        );
        // HEVC Main, level 3.1 (Apple's example string), AV1 main profile 8 bit, VP9.
        let mut hvcc = vec![1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93];
        hvcc.extend_from_slice(&[0; 10]);
        let hevc = codec_trak(
            b"vide",
            b"hvc1",
            VISUAL_ENTRY_BYTES,
            &mp4_box(b"hvcC", &hvcc),
        );
        let av1 = codec_trak(
            b"vide",
            b"av01",
            VISUAL_ENTRY_BYTES,
            &mp4_box(b"av1C", &[0x81, 0x04, 0x0c, 0]),
        );
        let vp9 = codec_trak(
            b"vide",
            b"vp09",
            VISUAL_ENTRY_BYTES,
            &mp4_box(b"vpcC", &full(1, &[0, 10, 0x80, 0])),
        );
        let ac3 = codec_trak(
            b"soun",
            b"ec-3",
            AUDIO_ENTRY_BYTES,
            &mp4_box(b"dec3", &[0; 5]),
        );
        assert_eq!(
            codecs(&init_with(&[hevc, av1, vp9, ac3])),
            Some(vec![
                "hvc1.1.6.L93.B0".to_owned(),
                "av01.0.04M.08".to_owned(),
                "vp09.00.10.08".to_owned(),
                "ec-3".to_owned(),
            ])
        );
        // Text tracks are not SourceBuffer codecs; no audio or video track at all is None.
        let text = codec_trak(b"text", b"wvtt", 8, &[]);
        assert_eq!(codecs(&init_with(&[text])), None);
        assert_eq!(codecs(&mp4_box(b"ftyp", b"iso5")), None);
    }

    #[test]
    fn codecs_of_malformed_input_are_safe() {
        let avc = codec_trak(
            b"vide",
            b"avc1",
            VISUAL_ENTRY_BYTES,
            &mp4_box(b"avcC", &[1, 0x42]),
        );
        let init = init_with(&[avc]);
        // A truncated avcC still names the entry; every prefix is safe.
        assert_eq!(codecs(&init), Some(vec!["avc1".to_owned()]));
        for end in 0..init.len() {
            let _ = codecs(&init[..end]);
        }
        let aac = codec_trak(
            b"soun",
            b"mp4a",
            AUDIO_ENTRY_BYTES,
            &mp4_box(b"esds", &ESDS_AAC_LC),
        );
        let init = init_with(&[aac]);
        for end in 0..init.len() {
            let _ = codecs(&init[..end]);
        }
    }
}
