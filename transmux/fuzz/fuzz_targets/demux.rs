//! Fuzz target `demux`: arbitrary bytes through the transmuxer, as one to four segments
//! pushed in turn to one `Transmuxer` (the input is cut at each `-seg-`; the first byte
//! chooses which pushes signal a discontinuity and whether a program is requested).
//! Nothing may panic, and whatever comes out must be well-formed MP4: boxes whose sizes
//! add up exactly, init segments that are `ftyp` + `moov`, media segments that are
//! `moof` + `mdat` pairs whose `trun` data offset points into their `mdat`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use transmux::{Options, Transmuxer};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let program = (flags & 0x80 != 0).then_some(u16::from(flags & 0x0f));
    let mut transmuxer = Transmuxer::new(Options { program });
    for (index, segment) in split(rest).into_iter().take(4).enumerate() {
        let Ok(output) = transmuxer.push(segment, flags & (1 << index) != 0) else {
            continue;
        };
        if let Some(init) = &output.init {
            for bytes in [Some(&init.combined), init.video.as_ref(), init.audio.as_ref()].into_iter().flatten() {
                assert_eq!(kinds(bytes), vec![*b"ftyp", *b"moov"]);
            }
        }
        for media in [&output.video, &output.audio].into_iter().flatten() {
            check_media(media);
        }
        if let (Some(start), Some(end)) = (output.start(), output.end()) {
            assert!(start.is_finite() && end.is_finite() && start <= end, "{start} {end}");
        }
        assert!(output.warnings.len() <= 65);
    }
});

/// The input cut at each `-seg-`.
fn split(data: &[u8]) -> Vec<&[u8]> {
    let marker = b"-seg-";
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + marker.len() <= data.len() {
        if &data[i..i + marker.len()] == marker {
            out.push(&data[start..i]);
            i += marker.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&data[start..]);
    out
}

/// The top-level box types; panics when sizes do not add up.
fn kinds(data: &[u8]) -> Vec<[u8; 4]> {
    boxes(data).into_iter().map(|(kind, _)| kind).collect()
}

fn boxes(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let header = &data[pos..pos + 8];
        let size = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
        assert!(size >= 8 && pos + size <= data.len(), "box size {size} at {pos} of {}", data.len());
        out.push((header[4..8].try_into().unwrap(), &data[pos + 8..pos + size]));
        pos += size;
    }
    out
}

fn check_media(media: &[u8]) {
    let top = boxes(media);
    assert!(!top.is_empty() && top.len() % 2 == 0);
    for pair in top.chunks(2) {
        assert_eq!(&pair[0].0, b"moof");
        assert_eq!(&pair[1].0, b"mdat");
        let moof = pair[0].1;
        let traf = boxes(moof).into_iter().find(|(k, _)| k == b"traf").expect("traf").1;
        let trun = boxes(traf).into_iter().find(|(k, _)| k == b"trun").expect("trun").1;
        let count = u32::from_be_bytes(trun[4..8].try_into().unwrap()) as usize;
        assert!(count > 0);
        let offset = u32::from_be_bytes(trun[8..12].try_into().unwrap()) as usize;
        assert_eq!(offset, moof.len() + 8 + 8, "data offset: just past the mdat header");
        let per_sample = if trun[2] & 0x08 != 0 { 16 } else { 8 }; // flag 0x800: composition offsets
        assert_eq!(trun.len(), 12 + count * per_sample);
        // Sample sizes add up to the mdat.
        let total: usize = (0..count)
            .map(|i| u32::from_be_bytes(trun[12 + i * per_sample + 4..12 + i * per_sample + 8].try_into().unwrap()) as usize)
            .sum();
        assert_eq!(total, pair[1].1.len());
    }
}
