//! Reads the timing of fragmented MP4 (CMAF) media: each track's timescale from an
//! initialisation segment (`moov/trak`: `tkhd` track id, `mdia/mdhd` timescale) and the
//! base media decode time of a media segment (`moof/traf`: `tfhd` track id, `tfdt`).
//!
//! The browser shell needs these to place media on the playlist timeline
//! (`SourceBuffer.timestampOffset`) when a stream's media time does not start where its
//! playlist does (live streams, looped content, discontinuities). Only a segment's first
//! bytes are read. Truncated or malformed boxes give `None`, never a panic.

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
}
