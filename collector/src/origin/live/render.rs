//! The text of a live media playlist: a [`Vod`] seen through a [`Window`].

use std::fmt::Write;

use super::clock::iso8601_ms;
use super::vod::{Vod, VodSegment};
use super::window::{TimelineError, Window};

/// The live playlist of `vod` for `window` (no `EXT-X-ENDLIST`, no `EXT-X-PLAYLIST-TYPE`).
pub fn render(vod: &Vod, window: &Window) -> Result<String, TimelineError> {
    let mut out = String::with_capacity(256 + 160 * (window.end - window.first) as usize);
    out.push_str("#EXTM3U\n");
    for line in &vod.header {
        out.push_str(line);
        out.push('\n');
    }
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{}", window.first);
    let _ = writeln!(
        out,
        "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
        window.discontinuity_sequence
    );
    let mut previous: Option<&VodSegment> = None;
    for k in window.indices() {
        let segment = &vod.segments[vod.timing.vod_index(k)];
        let discontinuity = vod.timing.has_discontinuity(k);
        if discontinuity {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        state_changes(&mut out, previous, segment, discontinuity);
        let _ = writeln!(
            out,
            "#EXT-X-PROGRAM-DATE-TIME:{}",
            iso8601_ms(vod.timing.start_us(k)?)
        );
        for line in &segment.lines {
            out.push_str(line);
            out.push('\n');
        }
        if let Some((length, offset)) = segment.byte_range {
            let _ = writeln!(out, "#EXT-X-BYTERANGE:{length}@{offset}");
        }
        out.push_str(&segment.uri);
        out.push('\n');
        previous = Some(segment);
    }
    Ok(out)
}

/// Keys, map and bitrate: all of them at the window start, then what changed (the map
/// again after every discontinuity).
fn state_changes(
    out: &mut String,
    previous: Option<&VodSegment>,
    segment: &VodSegment,
    discontinuity: bool,
) {
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    match previous {
        Some(previous) if previous.keys == segment.keys => {}
        Some(previous) => {
            if !previous.keys.is_empty() {
                line("#EXT-X-KEY:METHOD=NONE");
            }
            segment.keys.iter().for_each(|key| line(key));
        }
        None => segment.keys.iter().for_each(|key| line(key)),
    }
    if let Some(map) = &segment.map
        && (discontinuity || previous.is_none_or(|p| p.map.as_ref() != Some(map)))
    {
        line(map);
    }
    if let Some(bitrate) = &segment.bitrate
        && previous.is_none_or(|p| p.bitrate.as_ref() != Some(bitrate))
    {
        line(bitrate);
    }
}

#[cfg(test)]
mod tests {
    use super::super::vod::{Parsed, parse};
    use super::*;

    fn vod(text: &str) -> Vod {
        match parse(text.as_bytes()).unwrap() {
            Parsed::Media(vod) => vod,
            Parsed::Master(_) => panic!("a media playlist"),
        }
    }

    const S: u64 = 1_000_000;

    #[test]
    fn a_window_across_a_loop_boundary() {
        let vod = vod("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXTINF:2.000,\ns0.m4s\n#EXTINF:2.000,\ns1.m4s\n#EXTINF:2.000,\ns2.m4s\n\
             #EXT-X-ENDLIST\n");
        let window = vod.timing.window(3, 100 * S).unwrap();
        assert_eq!(
            render(&vod, &window).unwrap(),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-MEDIA-SEQUENCE:47\n#EXT-X-DISCONTINUITY-SEQUENCE:15\n\
             #EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:34.000Z\n#EXTINF:2.000,\ns2.m4s\n\
             #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:36.000Z\n#EXTINF:2.000,\ns0.m4s\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:38.000Z\n#EXTINF:2.000,\ns1.m4s\n"
        );
    }

    #[test]
    fn state_is_stated_at_the_start_and_on_change() {
        let vod = vod("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-BITRATE:100\n#EXTINF:1,\n#EXT-X-BYTERANGE:10@0\nall.ts\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"k.key\"\n#EXTINF:1,\n#EXT-X-BYTERANGE:10\nall.ts\n\
             #EXT-X-BITRATE:200\n#EXTINF:1,\n#EXT-X-BYTERANGE:10\nall.ts\n");
        // Window of 3 starting at the second segment (k = 4, 5, 6 at t = 7 s).
        let window = vod.timing.window(3, 7 * S).unwrap();
        assert_eq!((window.first, window.end), (4, 7));
        let text = render(&vod, &window).unwrap();
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"k.key\"\n#EXT-X-BITRATE:100\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:04.000Z\n#EXTINF:1,\n\
             #EXT-X-BYTERANGE:10@10\nall.ts\n\
             #EXT-X-BITRATE:200\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:05.000Z\n#EXTINF:1,\n\
             #EXT-X-BYTERANGE:10@20\nall.ts\n\
             #EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-BITRATE:100\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:06.000Z\n#EXTINF:1,\n\
             #EXT-X-BYTERANGE:10@0\nall.ts\n"
        );
        let empty = vod.timing.window(3, 0).unwrap();
        assert!(!render(&vod, &empty).unwrap().contains("#EXTINF"));
    }
}
