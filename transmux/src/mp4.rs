//! Fragmented MP4 (ISO/IEC 14496-12, 14496-14, 14496-15) as Media Source Extensions
//! take it: an initialization segment (`ftyp` + `moov` with empty sample tables and
//! `mvex`) and media segments (`moof` + `mdat`).
//!
//! Boxes are written front to back into one buffer; a box's size is patched in when it
//! is closed.

use crate::audio::AudioConfig;
use crate::error::Error;
use crate::h264::AvcConfig;

/// Track ID of the video track in every segment this crate writes.
pub const VIDEO_TRACK_ID: u32 = 1;
/// Track ID of the audio track in every segment this crate writes.
pub const AUDIO_TRACK_ID: u32 = 2;
/// Timescale of the video track: the 90 kHz MPEG clock, so timestamps carry over exactly.
pub const VIDEO_TIMESCALE: u32 = 90_000;

/// Sample flags of a sync sample (depends on no other).
pub const FLAGS_SYNC: u32 = 0x0200_0000;
/// Sample flags of a non-sync sample (depends on others, `sample_is_non_sync_sample`).
pub const FLAGS_NON_SYNC: u32 = 0x0101_0000;

/// Opens a box: writes a size placeholder and the type; returns where it starts.
fn open(out: &mut Vec<u8>, kind: &[u8; 4]) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(kind);
    start
}

/// Opens a full box (with version and flags).
fn open_full(out: &mut Vec<u8>, kind: &[u8; 4], version: u8, flags: u32) -> usize {
    let start = open(out, kind);
    out.extend_from_slice(&((u32::from(version) << 24) | (flags & 0x00ff_ffff)).to_be_bytes());
    start
}

/// Closes the box opened at `start`: patches its size.
fn close(out: &mut [u8], start: usize) -> Result<(), Error> {
    let bytes = out.len() - start;
    let size = u32::try_from(bytes).map_err(|_| Error::TooLarge { bytes })?;
    if let Some(field) = out.get_mut(start..start + 4) {
        field.copy_from_slice(&size.to_be_bytes());
    }
    Ok(())
}

fn u16be(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn u32be(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// The unity transformation matrix of `mvhd` and `tkhd`.
const MATRIX: [u8; 36] = [
    0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, //
    0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0,
];

/// `dinf` with a `dref` of one self-contained `url ` entry: the media is in the file.
const DINF: [u8; 36] = [
    0, 0, 0, 36, b'd', b'i', b'n', b'f', //
    0, 0, 0, 28, b'd', b'r', b'e', b'f', 0, 0, 0, 0, 0, 0, 0, 1, //
    0, 0, 0, 12, b'u', b'r', b'l', b' ', 0, 0, 0, 1,
];

/// The empty sample tables of a fragmented track: `stts`, `stsc`, `stco`, `stsz`.
const EMPTY_TABLES: [u8; 68] = [
    0, 0, 0, 16, b's', b't', b't', b's', 0, 0, 0, 0, 0, 0, 0, 0, //
    0, 0, 0, 16, b's', b't', b's', b'c', 0, 0, 0, 0, 0, 0, 0, 0, //
    0, 0, 0, 16, b's', b't', b'c', b'o', 0, 0, 0, 0, 0, 0, 0, 0, //
    0, 0, 0, 20, b's', b't', b's', b'z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// A track of an initialization segment.
#[derive(Debug, Clone, Copy)]
pub enum TrackConfig<'a> {
    /// H.264 video.
    Video(&'a AvcConfig),
    /// AAC or MPEG audio.
    Audio(&'a AudioConfig),
}

impl TrackConfig<'_> {
    fn id(&self) -> u32 {
        match self {
            TrackConfig::Video(_) => VIDEO_TRACK_ID,
            TrackConfig::Audio(_) => AUDIO_TRACK_ID,
        }
    }

    fn timescale(&self) -> u32 {
        match self {
            TrackConfig::Video(_) => VIDEO_TIMESCALE,
            TrackConfig::Audio(config) => config.sample_rate.max(1),
        }
    }
}

/// An initialization segment for `tracks` (one, or video and audio together).
pub fn init_segment(tracks: &[TrackConfig<'_>]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(1024);
    let ftyp = open(&mut out, b"ftyp");
    out.extend_from_slice(b"isom\0\0\x02\0isomiso6mp41"); // minor version 0x200
    if tracks.iter().any(|t| matches!(t, TrackConfig::Video(_))) {
        out.extend_from_slice(b"avc1");
    }
    close(&mut out, ftyp)?;

    let moov = open(&mut out, b"moov");
    let mvhd = open_full(&mut out, b"mvhd", 0, 0);
    // Creation and modification times 0, timescale 1000, duration 0 (fragmented),
    // rate 1.0, volume 1.0, reserved.
    out.extend_from_slice(&[
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0,
    ]);
    out.extend_from_slice(&[0; 10]);
    out.extend_from_slice(&MATRIX);
    out.extend_from_slice(&[0; 24]); // pre_defined
    u32be(
        &mut out,
        tracks.iter().map(|t| t.id()).max().unwrap_or(0) + 1,
    );
    close(&mut out, mvhd)?;
    for track in tracks {
        trak(&mut out, track)?;
    }
    let mvex = open(&mut out, b"mvex");
    for track in tracks {
        // trex: the track, sample description 1, no defaults.
        out.extend_from_slice(&[0, 0, 0, 32, b't', b'r', b'e', b'x', 0, 0, 0, 0]);
        u32be(&mut out, track.id());
        out.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    close(&mut out, mvex)?;
    close(&mut out, moov)?;
    Ok(out)
}

fn trak(out: &mut Vec<u8>, track: &TrackConfig<'_>) -> Result<(), Error> {
    let trak = open(out, b"trak");
    let tkhd = open_full(out, b"tkhd", 0, 0x3); // enabled, in movie
    out.extend_from_slice(&[0; 8]); // creation, modification
    u32be(out, track.id());
    out.extend_from_slice(&[0; 20]); // reserved, duration, reserved, layer, group
    let (volume, width, height) = match track {
        TrackConfig::Video(config) => (0, config.info.width, config.info.height),
        TrackConfig::Audio(_) => (0x0100, 0, 0),
    };
    u16be(out, volume);
    u16be(out, 0);
    out.extend_from_slice(&MATRIX);
    u32be(out, (width & 0xffff) << 16);
    u32be(out, (height & 0xffff) << 16);
    close(out, tkhd)?;

    let mdia = open(out, b"mdia");
    let mdhd = open_full(out, b"mdhd", 0, 0);
    out.extend_from_slice(&[0; 8]);
    u32be(out, track.timescale());
    out.extend_from_slice(&[0, 0, 0, 0, 0x55, 0xc4, 0, 0]); // duration, "und"
    close(out, mdhd)?;
    let hdlr = open_full(out, b"hdlr", 0, 0);
    out.extend_from_slice(&[0; 4]); // pre_defined
    out.extend_from_slice(match track {
        TrackConfig::Video(_) => b"vide\0\0\0\0\0\0\0\0\0\0\0\0VideoHandler\0",
        TrackConfig::Audio(_) => b"soun\0\0\0\0\0\0\0\0\0\0\0\0SoundHandler\0",
    });
    close(out, hdlr)?;

    let minf = open(out, b"minf");
    out.extend_from_slice(match track {
        // vmhd (flags 1; graphics mode and colour 0) or smhd (balance 0).
        TrackConfig::Video(_) => &[
            0, 0, 0, 20, b'v', b'm', b'h', b'd', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        ][..],
        TrackConfig::Audio(_) => &[0, 0, 0, 16, b's', b'm', b'h', b'd', 0, 0, 0, 0, 0, 0, 0, 0][..],
    });
    out.extend_from_slice(&DINF);
    let stbl = open(out, b"stbl");
    let stsd = open_full(out, b"stsd", 0, 0);
    u32be(out, 1);
    match track {
        TrackConfig::Video(config) => avc1(out, config)?,
        TrackConfig::Audio(config) => mp4a(out, config)?,
    }
    close(out, stsd)?;
    out.extend_from_slice(&EMPTY_TABLES);
    close(out, stbl)?;
    close(out, minf)?;
    close(out, mdia)?;
    close(out, trak)
}

fn avc1(out: &mut Vec<u8>, config: &AvcConfig) -> Result<(), Error> {
    let avc1 = open(out, b"avc1");
    // Reserved, data_reference_index 1, pre_defined and reserved.
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
    out.extend_from_slice(&[0; 16]);
    u16be(out, config.info.width.min(0xffff) as u16);
    u16be(out, config.info.height.min(0xffff) as u16);
    // 72 dpi both ways, reserved, frame_count 1.
    out.extend_from_slice(&[0, 0x48, 0, 0, 0, 0x48, 0, 0, 0, 0, 0, 0, 0, 1]);
    out.extend_from_slice(&[0; 32]); // compressorname
    out.extend_from_slice(&[0, 0x18, 0xff, 0xff]); // depth 24, pre_defined -1
    let avcc = open(out, b"avcC");
    out.extend_from_slice(&config.record());
    close(out, avcc)?;
    close(out, avc1)
}

fn mp4a(out: &mut Vec<u8>, config: &AudioConfig) -> Result<(), Error> {
    let mp4a = open(out, b"mp4a");
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]); // reserved, data_reference_index 1
    out.extend_from_slice(&[0; 8]);
    u16be(out, u16::from(config.channels));
    u16be(out, 16); // samplesize
    u32be(out, 0); // pre_defined, reserved
    u32be(out, config.sample_rate.min(0xffff) << 16);

    let esds = open_full(out, b"esds", 0, 0);
    let specific = config.decoder_specific_info();
    let specific_length = specific.map_or(0, |s| 2 + s.len());
    let decoder_config_length = 13 + specific_length;
    // ES_Descriptor
    out.push(0x03);
    out.push((3 + 2 + decoder_config_length + 3) as u8);
    u16be(out, AUDIO_TRACK_ID as u16); // ES_ID
    out.push(0); // no dependencies, URL or OCR stream
    // DecoderConfigDescriptor
    out.push(0x04);
    out.push(decoder_config_length as u8);
    out.push(config.object_type_indication());
    out.push(0x15); // streamType audio (5) << 2 | 1
    out.extend_from_slice(&[0, 0, 0]); // bufferSizeDB
    u32be(out, 0); // maxBitrate
    u32be(out, 0); // avgBitrate
    if let Some(specific) = specific {
        out.push(0x05); // DecoderSpecificInfo
        out.push(specific.len() as u8);
        out.extend_from_slice(&specific);
    }
    // SLConfigDescriptor
    out.extend_from_slice(&[0x06, 0x01, 0x02]);
    close(out, esds)?;
    close(out, mp4a)
}

/// One sample's entry in a `trun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrunSample {
    /// Duration in the track's timescale.
    pub duration: u32,
    /// Bytes.
    pub size: u32,
    /// Sample flags ([`FLAGS_SYNC`], [`FLAGS_NON_SYNC`]).
    pub flags: u32,
    /// Composition offset (PTS − DTS).
    pub composition_offset: u32,
}

/// What a fragment's `trun` records per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Durations, sizes, flags and composition offsets.
    Video,
    /// Durations and sizes (flags from `tfhd`: every sample a sync sample).
    Audio,
}

/// Appends a media segment (`moof` + `mdat`) of one track to `out`.
pub fn fragment(
    out: &mut Vec<u8>,
    sequence: u32,
    track_id: u32,
    kind: Kind,
    base_decode_time: u64,
    samples: &[TrunSample],
    payload: &[u8],
) -> Result<(), Error> {
    let per_sample = match kind {
        Kind::Video => 16,
        Kind::Audio => 8,
    };
    out.reserve(120 + samples.len() * per_sample + payload.len());
    let moof = open(out, b"moof");
    let mfhd = open_full(out, b"mfhd", 0, 0);
    u32be(out, sequence);
    close(out, mfhd)?;
    let traf = open(out, b"traf");
    let tfhd_flags = match kind {
        Kind::Video => 0x02_0000,        // default-base-is-moof
        Kind::Audio => 0x02_0000 | 0x20, // and default-sample-flags
    };
    let tfhd = open_full(out, b"tfhd", 0, tfhd_flags);
    u32be(out, track_id);
    if kind == Kind::Audio {
        u32be(out, FLAGS_SYNC);
    }
    close(out, tfhd)?;
    let tfdt = open_full(out, b"tfdt", 1, 0);
    out.extend_from_slice(&base_decode_time.to_be_bytes());
    close(out, tfdt)?;
    let trun_flags = match kind {
        Kind::Video => 0x001 | 0x100 | 0x200 | 0x400 | 0x800,
        Kind::Audio => 0x001 | 0x100 | 0x200,
    };
    let trun = open_full(out, b"trun", 0, trun_flags);
    let count = u32::try_from(samples.len()).map_err(|_| Error::TooLarge {
        bytes: samples.len(),
    })?;
    u32be(out, count);
    let data_offset_at = out.len();
    u32be(out, 0); // data_offset, patched below
    for sample in samples {
        u32be(out, sample.duration);
        u32be(out, sample.size);
        if kind == Kind::Video {
            u32be(out, sample.flags);
            u32be(out, sample.composition_offset);
        }
    }
    close(out, trun)?;
    close(out, traf)?;
    close(out, moof)?;
    let moof_size = out.len() - moof;
    let data_offset =
        u32::try_from(moof_size + 8).map_err(|_| Error::TooLarge { bytes: moof_size })?;
    if let Some(field) = out.get_mut(data_offset_at..data_offset_at + 4) {
        field.copy_from_slice(&data_offset.to_be_bytes());
    }
    let mdat = open(out, b"mdat");
    out.extend_from_slice(payload);
    close(out, mdat)
}

/// Reads boxes back, for tests: the children of a box body.
#[cfg(test)]
pub(crate) fn children(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= data.len() {
        let size = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        assert!(
            size >= 8 && pos + size <= data.len(),
            "box size {size} at {pos}"
        );
        out.push((
            data[pos + 4..pos + 8].try_into().unwrap(),
            &data[pos + 8..pos + size],
        ));
        pos += size;
    }
    assert_eq!(pos, data.len(), "trailing bytes");
    out
}

/// The body of the box at `path` (each step the first child of that type), for tests.
#[cfg(test)]
pub(crate) fn find<'a>(data: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    let (first, rest) = path.split_first()?;
    let (_, body) = children(data)
        .into_iter()
        .find(|(kind, _)| kind == *first)?;
    if rest.is_empty() {
        Some(body)
    } else {
        find(body, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::AudioCodec;
    use crate::h264::parse_sps;
    use crate::testutil::{PPS, sps};

    fn video_config() -> AvcConfig {
        let sps = sps(1280, 720, true);
        AvcConfig {
            info: parse_sps(&sps).unwrap(),
            sps,
            pps: vec![PPS.to_vec()],
        }
    }

    fn audio_config() -> AudioConfig {
        AudioConfig {
            codec: AudioCodec::Aac {
                object_type: 2,
                rate_index: 4,
                channel_config: 2,
            },
            sample_rate: 44_100,
            channels: 2,
        }
    }

    #[test]
    fn init_segment_structure() {
        let video = video_config();
        let audio = audio_config();
        let init = init_segment(&[TrackConfig::Video(&video), TrackConfig::Audio(&audio)]).unwrap();
        let top: Vec<[u8; 4]> = children(&init).iter().map(|c| c.0).collect();
        assert_eq!(top, vec![*b"ftyp", *b"moov"]);
        let moov = find(&init, &[b"moov"]).unwrap();
        let kinds: Vec<[u8; 4]> = children(moov).iter().map(|c| c.0).collect();
        assert_eq!(kinds, vec![*b"mvhd", *b"trak", *b"trak", *b"mvex"]);
        let tkhd = find(moov, &[b"trak", b"tkhd"]).unwrap();
        assert_eq!(&tkhd[12..16], &1u32.to_be_bytes(), "video track ID");
        assert_eq!(&tkhd[76..80], &(1280u32 << 16).to_be_bytes());
        assert_eq!(&tkhd[80..84], &(720u32 << 16).to_be_bytes());
        let stsd = find(moov, &[b"trak", b"mdia", b"minf", b"stbl", b"stsd"]).unwrap();
        let avc1 = &stsd[8..];
        let (kind, body) = children(avc1)[0];
        assert_eq!(&kind, b"avc1");
        assert_eq!(&body[24..28], &[0x05, 0x00, 0x02, 0xd0], "1280 x 720");
        let avcc = find(&body[78..], &[b"avcC"]).unwrap();
        assert_eq!(avcc, video.record().as_slice());
        let mdhd = find(moov, &[b"trak", b"mdia", b"mdhd"]).unwrap();
        assert_eq!(&mdhd[12..16], &90_000u32.to_be_bytes());

        let traks: Vec<&[u8]> = children(moov)
            .into_iter()
            .filter(|c| &c.0 == b"trak")
            .map(|c| c.1)
            .collect();
        let audio_stsd = find(traks[1], &[b"mdia", b"minf", b"stbl", b"stsd"]).unwrap();
        let (kind, mp4a) = children(&audio_stsd[8..])[0];
        assert_eq!(&kind, b"mp4a");
        assert_eq!(&mp4a[16..18], &2u16.to_be_bytes(), "channels");
        assert_eq!(&mp4a[24..28], &(44_100u32 << 16).to_be_bytes());
        let esds = find(&mp4a[28..], &[b"esds"]).unwrap();
        assert_eq!(
            &esds[4..],
            &[
                0x03, 25, 0, 2, 0, 0x04, 17, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 2,
                0x12, 0x10, 0x06, 1, 2
            ]
        );
        let audio_mdhd = find(traks[1], &[b"mdia", b"mdhd"]).unwrap();
        assert_eq!(&audio_mdhd[12..16], &44_100u32.to_be_bytes());
        let mvex = find(moov, &[b"mvex"]).unwrap();
        assert_eq!(children(mvex).len(), 2);

        let audio_only = init_segment(&[TrackConfig::Audio(&audio)]).unwrap();
        let ftyp = find(&audio_only, &[b"ftyp"]).unwrap();
        assert_eq!(ftyp, b"isom\0\0\x02\0isomiso6mp41");
    }

    #[test]
    fn fragment_structure_and_data_offset() {
        let samples = [
            TrunSample {
                duration: 3000,
                size: 5,
                flags: FLAGS_SYNC,
                composition_offset: 6000,
            },
            TrunSample {
                duration: 3000,
                size: 3,
                flags: FLAGS_NON_SYNC,
                composition_offset: 0,
            },
        ];
        let payload = [1, 2, 3, 4, 5, 6, 7, 8];
        let mut out = vec![0xee; 3]; // appends after what is there
        fragment(
            &mut out,
            7,
            VIDEO_TRACK_ID,
            Kind::Video,
            1 << 40,
            &samples,
            &payload,
        )
        .unwrap();
        let segment = &out[3..];
        let top = children(segment);
        assert_eq!(
            top.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![*b"moof", *b"mdat"]
        );
        assert_eq!(top[1].1, &payload);
        let moof = top[0].1;
        assert_eq!(find(moof, &[b"mfhd"]).unwrap(), &[0, 0, 0, 0, 0, 0, 0, 7]);
        let tfhd = find(moof, &[b"traf", b"tfhd"]).unwrap();
        assert_eq!(tfhd, &[0, 2, 0, 0, 0, 0, 0, 1]);
        let tfdt = find(moof, &[b"traf", b"tfdt"]).unwrap();
        assert_eq!(tfdt[0], 1, "version 1: 64-bit time");
        assert_eq!(&tfdt[4..], &(1u64 << 40).to_be_bytes());
        let trun = find(moof, &[b"traf", b"trun"]).unwrap();
        assert_eq!(&trun[..4], &[0, 0, 0x0f, 0x01]);
        assert_eq!(&trun[4..8], &2u32.to_be_bytes());
        let data_offset = u32::from_be_bytes(trun[8..12].try_into().unwrap()) as usize;
        assert_eq!(&segment[data_offset..data_offset + 8], &payload);
        assert_eq!(
            &trun[12..28],
            &[0, 0, 0x0b, 0xb8, 0, 0, 0, 5, 2, 0, 0, 0, 0, 0, 0x17, 0x70]
        );

        let mut audio = Vec::new();
        let samples = [TrunSample {
            duration: 1024,
            size: 2,
            flags: 0,
            composition_offset: 0,
        }];
        fragment(
            &mut audio,
            1,
            AUDIO_TRACK_ID,
            Kind::Audio,
            0,
            &samples,
            &[9, 9],
        )
        .unwrap();
        let moof = children(&audio)[0].1;
        let tfhd = find(moof, &[b"traf", b"tfhd"]).unwrap();
        assert_eq!(tfhd, &[0, 2, 0, 0x20, 0, 0, 0, 2, 2, 0, 0, 0]);
        let trun = find(moof, &[b"traf", b"trun"]).unwrap();
        assert_eq!(&trun[..4], &[0, 0, 0x03, 0x01]);
        assert_eq!(trun.len(), 12 + 8);
    }
}
