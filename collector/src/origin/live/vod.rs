//! A VOD media playlist taken apart for looping: its header tags, and each segment with
//! the tags it carries and the state (keys, map, bitrate) in effect for it.
//!
//! The project's parser (`player_wasm::hls::parse_playlist`) checks the playlist and gives
//! the facts that need interpreting (durations, discontinuities, byte ranges with their
//! implicit offsets made explicit). A line walk keeps the text of everything else so that
//! the live playlist repeats it as written. What happens to each tag:
//!
//! | tags | in the live playlist |
//! |---|---|
//! | `EXT-X-VERSION`, `-TARGETDURATION`, `-INDEPENDENT-SEGMENTS`, `-START`, `-DEFINE`, `-I-FRAMES-ONLY`, `-ALLOW-CACHE` | header, as written |
//! | `EXT-X-MEDIA-SEQUENCE`, `-DISCONTINUITY-SEQUENCE` | computed for the window |
//! | `EXT-X-PLAYLIST-TYPE`, `-ENDLIST` | dropped: the stream never ends |
//! | `EXT-X-PROGRAM-DATE-TIME` | computed from the live timeline |
//! | `EXT-X-DISCONTINUITY` | where the VOD has one, and at every loop start |
//! | `EXT-X-BYTERANGE` | always with an explicit offset (the window may start anywhere) |
//! | `EXT-X-KEY`, `-MAP`, `-BITRATE` | state: stated at the window start, again when it changes (and the map after each discontinuity) |
//! | `EXT-X-DATERANGE` | dropped: its dates belong to the VOD, not to the loop |
//! | low-latency tags (`-PART`, `-PART-INF`, `-SERVER-CONTROL`, `-PRELOAD-HINT`, `-RENDITION-REPORT`, `-SKIP`) | dropped: the live stream has no parts |
//! | `EXTINF`, `EXT-X-GAP`, any other tag | kept on its segment, as written |
//! | comments, blank lines | dropped |

use std::sync::LazyLock;

use player_wasm::hls::{Playlist, PlaylistError, parse_playlist};
use player_wasm::url::Url;

use super::super::playlist::attribute;
use super::window::{TimelineError, Timing};

/// Why a playlist cannot be looped as live.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VodError {
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("invalid playlist: {0}")]
    Playlist(#[from] PlaylistError),
    #[error("segment {index} has a duration that is negative or not finite")]
    BadDuration { index: usize },
    #[error("the parser found {parsed} segments where the line walk found {walked}")]
    Disagree { parsed: usize, walked: usize },
    #[error("{0}")]
    Timeline(#[from] TimelineError),
}

/// A master playlist (served as it is) or a media playlist ready to loop.
#[derive(Debug)]
pub enum Parsed {
    /// A master playlist, with the URIs of the media playlists it lists (as written,
    /// relative to the master, query and fragment dropped).
    Master(Vec<String>),
    Media(Vod),
}

/// A media playlist ready to loop.
#[derive(Debug, Clone)]
pub struct Vod {
    /// Header tag lines kept as written, in order (without `#EXTM3U`).
    pub header: Vec<String>,
    /// `EXT-X-TARGETDURATION`, seconds.
    pub target_duration: f64,
    pub segments: Vec<VodSegment>,
    pub timing: Timing,
}

/// One segment of the VOD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VodSegment {
    /// `EXT-X-KEY` lines in effect (one per key format; empty when not encrypted).
    pub keys: Vec<String>,
    /// `EXT-X-MAP` line in effect.
    pub map: Option<String>,
    /// `EXT-X-BITRATE` line in effect.
    pub bitrate: Option<String>,
    /// Its own tag lines, as written (`EXTINF` included).
    pub lines: Vec<String>,
    /// `EXT-X-BYTERANGE` as `(length, offset)`.
    pub byte_range: Option<(u64, u64)>,
    /// The URI line.
    pub uri: String,
}

/// Tags of the playlist header, kept as written.
const HEADER_KEPT: &[&str] = &[
    "EXT-X-VERSION",
    "EXT-X-TARGETDURATION",
    "EXT-X-INDEPENDENT-SEGMENTS",
    "EXT-X-START",
    "EXT-X-DEFINE",
    "EXT-X-I-FRAMES-ONLY",
    "EXT-X-ALLOW-CACHE",
];

/// Tags dropped (computed again, or meaningless once looped).
const DROPPED: &[&str] = &[
    "EXTM3U",
    "EXT-X-MEDIA-SEQUENCE",
    "EXT-X-DISCONTINUITY-SEQUENCE",
    "EXT-X-PLAYLIST-TYPE",
    "EXT-X-ENDLIST",
    "EXT-X-PROGRAM-DATE-TIME",
    "EXT-X-DISCONTINUITY",
    "EXT-X-BYTERANGE",
    "EXT-X-DATERANGE",
    "EXT-X-PART",
    "EXT-X-PART-INF",
    "EXT-X-SERVER-CONTROL",
    "EXT-X-PRELOAD-HINT",
    "EXT-X-RENDITION-REPORT",
    "EXT-X-SKIP",
];

/// Any URL will do: the resolved URIs are not used, only the facts the parser derives.
static BASE: LazyLock<Url> = LazyLock::new(|| {
    Url::parse("http://live.invalid/vod/playlist.m3u8").unwrap_or_else(|_| unreachable!())
});

/// State tags in effect while walking.
#[derive(Default)]
struct Walk {
    header: Vec<String>,
    keys: Vec<String>,
    map: Option<String>,
    bitrate: Option<String>,
    lines: Vec<String>,
    segments: Vec<VodSegment>,
}

impl Walk {
    fn tag(&mut self, line: &str) {
        let (name, value) = match line[1..].split_once(':') {
            Some((name, value)) => (name, value),
            None => (&line[1..], ""),
        };
        if HEADER_KEPT.contains(&name) {
            if !self.header.iter().any(|kept| kept == line) {
                self.header.push(line.to_string());
            }
        } else if DROPPED.contains(&name) {
        } else if name == "EXT-X-KEY" {
            if attribute(value, "METHOD") == Some("NONE") {
                self.keys.clear();
            } else {
                let format = |list: &str| {
                    attribute(list, "KEYFORMAT")
                        .unwrap_or("identity")
                        .to_string()
                };
                let this_format = format(value);
                self.keys.retain(|kept| {
                    let kept_value = kept.split_once(':').map_or("", |(_, v)| v);
                    format(kept_value) != this_format
                });
                self.keys.push(line.to_string());
            }
        } else if name == "EXT-X-MAP" {
            self.map = Some(line.to_string());
        } else if name == "EXT-X-BITRATE" {
            self.bitrate = Some(line.to_string());
        } else {
            self.lines.push(line.to_string());
        }
    }

    fn uri(&mut self, line: &str) {
        self.segments.push(VodSegment {
            keys: self.keys.clone(),
            map: self.map.clone(),
            bitrate: self.bitrate.clone(),
            lines: std::mem::take(&mut self.lines),
            byte_range: None,
            uri: line.to_string(),
        });
    }
}

/// Parses playlist bytes.
pub fn parse(bytes: &[u8]) -> Result<Parsed, VodError> {
    let text = std::str::from_utf8(bytes).map_err(|_| VodError::NotUtf8)?;
    let media = match parse_playlist(text, &BASE)? {
        Playlist::Master(master) => {
            let prefix = BASE.as_str().rsplit_once('/').map_or("", |(dir, _)| dir);
            let uris = master
                .variants
                .iter()
                .map(|variant| &variant.uri)
                .chain(master.renditions.iter().filter_map(|r| r.uri.as_ref()))
                .filter_map(|uri| {
                    uri.without_query()
                        .strip_prefix(prefix)?
                        .strip_prefix('/')
                        .map(str::to_string)
                })
                .collect();
            return Ok(Parsed::Master(uris));
        }
        Playlist::Media(media) => media,
    };
    let mut walk = Walk::default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for line in text.split(['\n', '\r']).map(str::trim) {
        if line.starts_with("#EXT") {
            walk.tag(line);
        } else if !line.is_empty() && !line.starts_with('#') {
            walk.uri(line);
        }
    }
    if walk.segments.len() != media.segments.len() {
        return Err(VodError::Disagree {
            parsed: media.segments.len(),
            walked: walk.segments.len(),
        });
    }
    let mut timing = Vec::with_capacity(media.segments.len());
    for (index, (segment, parsed)) in walk.segments.iter_mut().zip(&media.segments).enumerate() {
        if !(parsed.duration.is_finite() && parsed.duration >= 0.0) {
            return Err(VodError::BadDuration { index });
        }
        // Saturates for absurd durations; the timeline then refuses the total.
        let duration_us = (parsed.duration * 1e6).round() as u64;
        timing.push((duration_us, parsed.discontinuity));
        segment.byte_range = parsed.byte_range.map(|range| (range.length, range.offset));
    }
    Ok(Parsed::Media(Vod {
        header: walk.header,
        target_duration: media.target_duration,
        segments: walk.segments,
        timing: Timing::new(&timing)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOD: &str = "\u{feff}#EXTM3U\r\n#EXT-X-VERSION:7\r\n#EXT-X-TARGETDURATION:4\r\n\
        #EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n\
        # a comment\n\
        #EXT-X-KEY:METHOD=AES-128,URI=\"k1.key\"\n\
        #EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://x\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n\
        #EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-PROGRAM-DATE-TIME:2020-01-01T00:00:00Z\n\
        #EXT-X-BITRATE:800\n#EXTINF:4.000,first\n#EXT-X-BYTERANGE:1000@0\nmain.mp4\n\
        #EXT-X-CUE-OUT:DURATION=2\n#EXTINF:2.5,\n#EXT-X-BYTERANGE:500\nmain.mp4\n\
        #EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=AES-128,URI=\"k2.key\"\n#EXT-X-GAP\n\
        #EXTINF:3.25,\n#EXT-X-DATERANGE:ID=\"a\",START-DATE=\"2020-01-01T00:00:00Z\"\nother.mp4\n\
        #EXT-X-KEY:METHOD=NONE\n#EXTINF:0.25,\nlast.m4s\n#EXT-X-ENDLIST\n";

    #[test]
    fn a_vod_is_taken_apart() {
        let Parsed::Media(vod) = parse(VOD.as_bytes()).unwrap() else {
            panic!("a media playlist");
        };
        assert_eq!(
            vod.header,
            vec![
                "#EXT-X-VERSION:7",
                "#EXT-X-TARGETDURATION:4",
                "#EXT-X-INDEPENDENT-SEGMENTS"
            ]
        );
        assert_eq!(vod.target_duration, 4.0);
        assert_eq!(vod.segments.len(), 4);
        assert_eq!(vod.timing.loop_us(), 10_000_000);
        let [first, second, third, last] = &vod.segments[..] else {
            panic!("four segments");
        };
        assert_eq!(first.keys.len(), 2);
        assert_eq!(first.map.as_deref(), Some("#EXT-X-MAP:URI=\"init.mp4\""));
        assert_eq!(first.bitrate.as_deref(), Some("#EXT-X-BITRATE:800"));
        assert_eq!(first.lines, vec!["#EXTINF:4.000,first"]);
        assert_eq!(first.byte_range, Some((1000, 0)));
        assert_eq!(second.byte_range, Some((500, 1000)));
        assert_eq!(
            second.lines,
            vec!["#EXT-X-CUE-OUT:DURATION=2", "#EXTINF:2.5,"]
        );
        // The new identity key replaces the old one; the FairPlay key stays.
        assert_eq!(third.keys.len(), 2);
        assert!(third.keys.iter().any(|k| k.contains("k2.key")));
        assert!(!third.keys.iter().any(|k| k.contains("k1.key")));
        assert_eq!(third.lines, vec!["#EXT-X-GAP", "#EXTINF:3.25,"]);
        assert!(vod.timing.has_discontinuity(2));
        assert!(!vod.timing.has_discontinuity(1));
        assert!(last.keys.is_empty());
        assert_eq!(last.uri, "last.m4s");
    }

    #[test]
    fn masters_and_bad_playlists() {
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n";
        assert!(matches!(parse(master.as_bytes()), Ok(Parsed::Master(_))));
        for bad in [
            &b"\xff\xfe"[..],
            b"",
            b"not a playlist",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:0,\na.ts\n",
            b"#EXTM3U\n#EXTINF:2,\na.ts\n",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\na.ts\n",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1e400,\na.ts\n",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
