//! Joining a too-short last segment onto the one before it.
//!
//! ffmpeg's hls muxer cuts a new segment at the first packet past each boundary, so media
//! that runs a few milliseconds past the last boundary (AAC's encoder delay and last
//! padded frame always do) ends in a segment of one or two frames. Players stumble on such
//! slivers (hls.js cannot measure a 21 ms audio fragment and stalls at the end), so the
//! sliver's fragments (`moof` + `mdat`) are appended to the previous segment, which then
//! holds two fragments — still one CMAF segment.

use std::path::Path;

use super::mp4::{self, Mp4Error};

/// `tfhd` flag: data offsets are relative to the `moof` (so fragments can move).
const DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
/// `tfhd` flag: an absolute base data offset is present (so fragments cannot move).
const BASE_DATA_OFFSET_PRESENT: u32 = 0x00_0001;

/// What went wrong joining segments.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// A segment could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A segment's boxes could not be read.
    #[error("{path}: {source}")]
    Mp4 {
        /// The file.
        path: String,
        /// What was wrong.
        source: Mp4Error,
    },
}

/// Whether a last segment of `last_s` after one of `previous_s` should be joined to it:
/// it is under half a segment long and the joined segment still rounds to at most the
/// nominal segment length (so the target duration does not grow).
pub fn should_join(previous_s: f64, last_s: f64, segment_seconds: u32) -> bool {
    let nominal = f64::from(segment_seconds);
    last_s < 0.5 * nominal && (previous_s + last_s).round() <= nominal
}

/// The fragments of a segment (its `moof` and `mdat` boxes, in order), or `None` when a
/// fragment addresses its data other than relative to its own `moof`.
fn movable_fragments(bytes: &[u8]) -> Result<Option<Vec<u8>>, Mp4Error> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut offset = 0usize;
    for b in mp4::boxes(bytes) {
        let b = b?;
        let whole = bytes
            .get(offset..offset + b.payload.len() + header_len(bytes, offset))
            .ok_or(Mp4Error::Missing("box bytes"))?;
        offset += whole.len();
        match &b.kind.0 {
            b"moof" => {
                for traf in mp4::boxes(b.payload) {
                    let traf = traf?;
                    if &traf.kind.0 != b"traf" {
                        continue;
                    }
                    let tfhd =
                        mp4::find(traf.payload, b"tfhd")?.ok_or(Mp4Error::Missing("tfhd"))?;
                    let flags = tfhd
                        .payload
                        .get(..4)
                        .map(|v| u32::from_be_bytes([0, v[1], v[2], v[3]]))
                        .ok_or(Mp4Error::Missing("tfhd flags"))?;
                    if flags & DEFAULT_BASE_IS_MOOF == 0 || flags & BASE_DATA_OFFSET_PRESENT != 0 {
                        return Ok(None);
                    }
                }
                out.extend_from_slice(whole);
            }
            b"mdat" => out.extend_from_slice(whole),
            _ => {}
        }
    }
    Ok(Some(out))
}

/// Bytes of the header of the box at `offset` (8, or 16 with a 64-bit size).
fn header_len(bytes: &[u8], offset: usize) -> usize {
    match bytes.get(offset..offset + 4) {
        Some([0, 0, 0, 1]) => 16,
        _ => 8,
    }
}

/// Appends the fragments of `dir/last` to `dir/previous` (dropping the `sidx` of
/// `previous`, which would describe only its first fragment) and removes `last`.
/// Returns `false`, changing nothing, when the fragments cannot be moved.
pub fn join(dir: &Path, previous: &str, last: &str) -> Result<bool, TailError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| TailError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    let mp4_err = |name: &str| {
        let path = dir.join(name).display().to_string();
        move |source| TailError::Mp4 { path, source }
    };
    let first = read(previous)?;
    let second = read(last)?;
    let Some(tail) = movable_fragments(&second).map_err(mp4_err(last))? else {
        return Ok(false);
    };
    if movable_fragments(&first)
        .map_err(mp4_err(previous))?
        .is_none()
    {
        return Ok(false);
    }
    let mut joined = Vec::with_capacity(first.len() + tail.len());
    let mut offset = 0usize;
    for b in mp4::boxes(&first) {
        let b = b.map_err(mp4_err(previous))?;
        let len = b.payload.len() + header_len(&first, offset);
        if &b.kind.0 != b"sidx" {
            joined.extend_from_slice(&first[offset..offset + len]);
        }
        offset += len;
    }
    joined.extend_from_slice(&tail);
    let staged = dir.join(format!("{previous}.joining"));
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| TailError::Io { path, source }
    };
    std::fs::write(&staged, &joined).map_err(io(&staged))?;
    std::fs::rename(&staged, dir.join(previous)).map_err(io(&dir.join(previous)))?;
    std::fs::remove_file(dir.join(last)).map_err(io(&dir.join(last)))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkbox(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    fn segment(tfhd_flags: u32, data: &[u8]) -> Vec<u8> {
        let mut tfhd = tfhd_flags.to_be_bytes().to_vec();
        tfhd.extend_from_slice(&1u32.to_be_bytes());
        let traf = mkbox(b"traf", &mkbox(b"tfhd", &tfhd));
        let mut out = mkbox(b"styp", b"msdh\0\0\0\0msdh");
        out.extend(mkbox(b"sidx", &[0u8; 24]));
        out.extend(mkbox(b"moof", &traf));
        out.extend(mkbox(b"mdat", data));
        out
    }

    #[test]
    fn joins_only_slivers_that_keep_the_target_duration() {
        assert!(should_join(2.005, 0.021, 2));
        assert!(should_join(2.0, 0.4, 2));
        assert!(!should_join(2.0, 0.6, 2));
        assert!(!should_join(4.0, 1.9, 4));
        assert!(should_join(6.0, 0.033, 6));
    }

    #[test]
    fn appends_fragments_and_drops_the_stale_index() {
        let dir = tempfile::tempdir().unwrap();
        let a = segment(DEFAULT_BASE_IS_MOOF, b"first");
        let b = segment(DEFAULT_BASE_IS_MOOF, b"second");
        std::fs::write(dir.path().join("seg_000.m4s"), &a).unwrap();
        std::fs::write(dir.path().join("seg_001.m4s"), &b).unwrap();
        assert!(join(dir.path(), "seg_000.m4s", "seg_001.m4s").unwrap());
        assert!(!dir.path().join("seg_001.m4s").exists());
        let joined = std::fs::read(dir.path().join("seg_000.m4s")).unwrap();
        let kinds: Vec<String> = mp4::boxes(&joined)
            .map(|b| b.unwrap().kind.to_string())
            .collect();
        assert_eq!(kinds, ["styp", "moof", "mdat", "moof", "mdat"]);
        assert!(joined.ends_with(b"second"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn leaves_fragments_with_absolute_offsets_alone() {
        let dir = tempfile::tempdir().unwrap();
        let a = segment(DEFAULT_BASE_IS_MOOF, b"first");
        let b = segment(BASE_DATA_OFFSET_PRESENT, b"second");
        std::fs::write(dir.path().join("a"), &a).unwrap();
        std::fs::write(dir.path().join("b"), &b).unwrap();
        assert!(!join(dir.path(), "a", "b").unwrap());
        assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), a);
        std::fs::write(dir.path().join("b"), b"\0\0\0\x30moofgarbage").unwrap();
        assert!(join(dir.path(), "a", "b").is_err());
        assert!(dir.path().join("b").exists());
    }
}
