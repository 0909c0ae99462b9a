//! The ladder's playlists: writing the master and the media playlists from measured
//! figures, and reading them back (with `m3u8-rs`) for quality control.
//!
//! Every URI written is relative, so a ladder can be served from any prefix.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use m3u8_rs::{MasterPlaylist, MediaPlaylist, Playlist};

/// Protocol version the playlists declare (fMP4 segments with `EXT-X-MAP` need 6; the
/// ladder declares 7, which nothing here conflicts with).
pub const VERSION: u32 = 7;
/// Name of every playlist file, master excluded.
pub const MEDIA_PLAYLIST: &str = "index.m3u8";
/// Name of the master playlist.
pub const MASTER_PLAYLIST: &str = "master.m3u8";
/// `GROUP-ID` of the audio rendition group.
pub const AUDIO_GROUP: &str = "audio";

/// What went wrong reading a playlist.
#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The playlist.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a playlist of the expected kind.
    #[error("{path}: {detail}")]
    Parse {
        /// The playlist.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
}

/// One segment line of a media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentLine {
    /// Relative URI.
    pub uri: String,
    /// Duration in seconds.
    pub duration_s: f64,
}

/// A VOD media playlist of fMP4 segments: target duration from the measured durations,
/// `EXT-X-MAP` for the init section, `EXT-X-ENDLIST`.
pub fn media_playlist(init_uri: &str, segments: &[SegmentLine]) -> String {
    let target = super::measure::target_duration(segments.iter().map(|s| s.duration_s));
    let mut out = String::new();
    let _ = writeln!(out, "#EXTM3U");
    let _ = writeln!(out, "#EXT-X-VERSION:{VERSION}");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:0");
    let _ = writeln!(out, "#EXT-X-PLAYLIST-TYPE:VOD");
    let _ = writeln!(out, "#EXT-X-INDEPENDENT-SEGMENTS");
    let _ = writeln!(out, "#EXT-X-MAP:URI=\"{init_uri}\"");
    for s in segments {
        let _ = writeln!(out, "#EXTINF:{:.6},", s.duration_s);
        let _ = writeln!(out, "{}", s.uri);
    }
    let _ = writeln!(out, "#EXT-X-ENDLIST");
    out
}

/// The audio rendition every variant plays with.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioEntry {
    /// URI of its media playlist.
    pub uri: String,
    /// `NAME`.
    pub name: String,
    /// `LANGUAGE`, if known.
    pub language: Option<String>,
    /// `CHANNELS`.
    pub channels: u32,
}

/// One `EXT-X-STREAM-INF` variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantEntry {
    /// URI of its media playlist.
    pub uri: String,
    /// `BANDWIDTH`, bit/s.
    pub bandwidth: u64,
    /// `AVERAGE-BANDWIDTH`, bit/s.
    pub average_bandwidth: u64,
    /// Codec strings of the video and the audio it plays with.
    pub codecs: Vec<String>,
    /// `RESOLUTION`.
    pub width: u32,
    /// `RESOLUTION`.
    pub height: u32,
    /// `FRAME-RATE`, written with three decimals.
    pub frame_rate: f64,
}

/// The master playlist: the audio group (if any) and the variants in the order given.
pub fn master_playlist(audio: Option<&AudioEntry>, variants: &[VariantEntry]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "#EXTM3U");
    let _ = writeln!(out, "#EXT-X-VERSION:{VERSION}");
    let _ = writeln!(out, "#EXT-X-INDEPENDENT-SEGMENTS");
    if let Some(a) = audio {
        let _ = write!(
            out,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AUDIO_GROUP}\",NAME=\"{}\"",
            a.name
        );
        if let Some(lang) = &a.language {
            let _ = write!(out, ",LANGUAGE=\"{lang}\"");
        }
        let _ = writeln!(
            out,
            ",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"{}\",URI=\"{}\"",
            a.channels, a.uri
        );
    }
    for v in variants {
        let _ = write!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\",RESOLUTION={}x{},FRAME-RATE={:.3}",
            v.bandwidth,
            v.average_bandwidth,
            v.codecs.join(","),
            v.width,
            v.height,
            v.frame_rate
        );
        if audio.is_some() {
            let _ = write!(out, ",AUDIO=\"{AUDIO_GROUP}\"");
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", v.uri);
    }
    out
}

fn read(path: &Path) -> Result<Vec<u8>, PlaylistError> {
    std::fs::read(path).map_err(|source| PlaylistError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads a master playlist.
pub fn read_master(path: &Path) -> Result<MasterPlaylist, PlaylistError> {
    let bytes = read(path)?;
    match m3u8_rs::parse_playlist_res(&bytes) {
        Ok(Playlist::MasterPlaylist(m)) => Ok(m),
        Ok(Playlist::MediaPlaylist(_)) => Err(PlaylistError::Parse {
            path: path.to_owned(),
            detail: "a media playlist where a master playlist was expected".into(),
        }),
        Err(e) => Err(PlaylistError::Parse {
            path: path.to_owned(),
            detail: format!("not an HLS playlist ({})", short_error(&e)),
        }),
    }
}

/// Reads a media playlist.
pub fn read_media(path: &Path) -> Result<MediaPlaylist, PlaylistError> {
    let bytes = read(path)?;
    match m3u8_rs::parse_media_playlist_res(&bytes) {
        Ok(m) => Ok(m),
        Err(e) => Err(PlaylistError::Parse {
            path: path.to_owned(),
            detail: format!("not a media playlist ({})", short_error(&e)),
        }),
    }
}

fn short_error(e: &impl std::fmt::Debug) -> String {
    let text = format!("{e:?}");
    text.chars().take(120).collect()
}

/// Checks that `uri` is a relative path without a scheme, query or parent steps, and
/// returns it as a path under `base`.
pub fn local_path(base: &Path, uri: &str) -> Result<PathBuf, String> {
    if uri.contains("://") || uri.starts_with('/') || uri.contains(['?', '#', '\\']) {
        return Err(format!("URI `{uri}` is not a plain relative path"));
    }
    if uri.split('/').any(|part| part == ".." || part.is_empty()) {
        return Err(format!(
            "URI `{uri}` leaves its directory or has empty steps"
        ));
    }
    Ok(base.join(uri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_text_is_exact() {
        let audio = AudioEntry {
            uri: "audio/index.m3u8".into(),
            name: "Main".into(),
            language: Some("en".into()),
            channels: 2,
        };
        let variants = [
            VariantEntry {
                uri: "360p/index.m3u8".into(),
                bandwidth: 912_345,
                average_bandwidth: 801_000,
                codecs: vec!["avc1.64001e".into(), "mp4a.40.2".into()],
                width: 640,
                height: 360,
                frame_rate: 30000.0 / 1001.0,
            },
            VariantEntry {
                uri: "240p/index.m3u8".into(),
                bandwidth: 455_000,
                average_bandwidth: 400_000,
                codecs: vec!["avc1.640015".into(), "mp4a.40.2".into()],
                width: 426,
                height: 240,
                frame_rate: 30.0,
            },
        ];
        let text = master_playlist(Some(&audio), &variants);
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"Main\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/index.m3u8\"\n\
             #EXT-X-STREAM-INF:BANDWIDTH=912345,AVERAGE-BANDWIDTH=801000,CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=29.970,AUDIO=\"audio\"\n\
             360p/index.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=455000,AVERAGE-BANDWIDTH=400000,CODECS=\"avc1.640015,mp4a.40.2\",RESOLUTION=426x240,FRAME-RATE=30.000,AUDIO=\"audio\"\n\
             240p/index.m3u8\n"
        );
        // It reads back with the values written.
        let parsed = match m3u8_rs::parse_playlist_res(text.as_bytes()).unwrap() {
            Playlist::MasterPlaylist(m) => m,
            Playlist::MediaPlaylist(_) => panic!("read back as media"),
        };
        assert_eq!(parsed.variants.len(), 2);
        assert_eq!(parsed.variants[0].bandwidth, 912_345);
        assert_eq!(parsed.variants[0].audio.as_deref(), Some("audio"));
        assert_eq!(
            parsed.alternatives[0].uri.as_deref(),
            Some("audio/index.m3u8")
        );

        let silent = master_playlist(None, &variants[1..]);
        assert!(!silent.contains("EXT-X-MEDIA"), "{silent}");
        assert!(!silent.contains("AUDIO="), "{silent}");
        assert!(
            silent.contains("CODECS=\"avc1.640015,mp4a.40.2\""),
            "{silent}"
        );
    }

    #[test]
    fn media_text_is_exact() {
        let segments = [
            SegmentLine {
                uri: "seg_000.m4s".into(),
                duration_s: 2.002,
            },
            SegmentLine {
                uri: "seg_001.m4s".into(),
                duration_s: 0.5,
            },
        ];
        assert_eq!(
            media_playlist("init.mp4", &segments),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXTINF:2.002000,\nseg_000.m4s\n#EXTINF:0.500000,\nseg_001.m4s\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn only_plain_relative_uris_are_local() {
        let base = Path::new("/ladder");
        assert_eq!(
            local_path(base, "720p/index.m3u8").unwrap(),
            Path::new("/ladder/720p/index.m3u8")
        );
        for bad in [
            "http://x/y.m3u8",
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a//b",
            "a?b",
        ] {
            assert!(local_path(base, bad).is_err(), "{bad}");
        }
    }
}
