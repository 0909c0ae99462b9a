//! The segments of an HLS media playlist, as far as `ts2mp4` needs them: each URI line
//! resolved against the playlist's directory, with its `EXTINF` duration and whether an
//! `EXT-X-DISCONTINUITY` or `EXT-X-GAP` precedes it. Local files only.

use std::path::{Path, PathBuf};

/// A segment of a media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The file.
    pub path: PathBuf,
    /// `EXTINF` seconds.
    pub duration: f64,
    /// Preceded by `EXT-X-DISCONTINUITY`.
    pub discontinuity: bool,
    /// Tagged `EXT-X-GAP` (the file is absent on purpose).
    pub gap: bool,
    /// Has an `EXT-X-BYTERANGE` (not supported by `ts2mp4`).
    pub byte_range: bool,
}

/// The segments of the media playlist `text` found at `path`; `None` for a master
/// playlist or an I-frame playlist.
pub fn segments(path: &Path, text: &str) -> Option<Vec<Segment>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let mut duration = None;
    let (mut discontinuity, mut gap, mut byte_range) = (false, false, false);
    for line in text.lines().map(str::trim) {
        if line.starts_with("#EXT-X-STREAM-INF") || line.starts_with("#EXT-X-I-FRAMES-ONLY") {
            return None;
        }
        if let Some(value) = line.strip_prefix("#EXTINF:") {
            let number = value.split(',').next().unwrap_or("").trim();
            duration = number.parse::<f64>().ok();
        } else if line.starts_with("#EXT-X-DISCONTINUITY")
            && !line.starts_with("#EXT-X-DISCONTINUITY-SEQUENCE")
        {
            discontinuity = true;
        } else if line.starts_with("#EXT-X-GAP") {
            gap = true;
        } else if line.starts_with("#EXT-X-BYTERANGE") {
            byte_range = true;
        } else if !line.is_empty() && !line.starts_with('#') {
            out.push(Segment {
                path: base.join(line),
                duration: duration.take()?,
                discontinuity,
                gap,
                byte_range,
            });
            (discontinuity, gap, byte_range) = (false, false, false);
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_with_gaps_discontinuities_and_byte_ranges() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.004,\na.ts\n#EXT-X-GAP\n#EXTINF:4,\nb.ts\n\
                    #EXT-X-DISCONTINUITY\n#EXT-X-BYTERANGE:100@0\n#EXTINF:2.5,\nsub/c.ts\n#EXT-X-ENDLIST\n";
        let segments = segments(Path::new("/media/index.m3u8"), text).unwrap();
        assert_eq!(segments.len(), 3);
        assert_eq!(segments[0].path, Path::new("/media/a.ts"));
        assert_eq!(segments[0].duration, 4.004);
        assert!(segments[1].gap && !segments[1].discontinuity);
        assert!(segments[2].discontinuity && segments[2].byte_range && !segments[2].gap);
        assert_eq!(segments[2].path, Path::new("/media/sub/c.ts"));
    }

    #[test]
    fn master_and_i_frame_playlists_are_not_media() {
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n";
        assert_eq!(segments(Path::new("m.m3u8"), master), None);
        let iframes = "#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n#EXTINF:2,\n#EXT-X-BYTERANGE:1@0\na.ts\n";
        assert_eq!(segments(Path::new("i.m3u8"), iframes), None);
        assert_eq!(segments(Path::new("e.m3u8"), "#EXTM3U\n"), None);
    }
}
