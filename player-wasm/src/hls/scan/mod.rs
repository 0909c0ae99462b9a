//! The line scan: it decides whether the text is a master or a media playlist, checks
//! every tag it knows against its grammar (with the line number), and records the values
//! the model is built from, with the lines they were written on.
//!
//! Tags are matched by their whole name (`#EXT-X-DISCONTINUITYX` is unknown, not a
//! discontinuity), an attribute list never runs across lines, and a title may hold commas.
//! Unknown tags and comments are skipped.

mod master;
mod media;

pub(crate) use media::{KeyChange, ScannedMedia, SegmentFacts, WrittenRange};

use super::attributes::{Attributes, TagAt};
use super::error::PlaylistError;
use super::lines::{LineKind, classify, header_index};
use super::model::{MasterPlaylist, StartOffset};
use super::values;
use crate::small_map::SmallMap;
use crate::url::Url;

/// A playlist after the scan.
#[derive(Debug)]
pub(crate) enum Scanned {
    /// A master playlist is complete after the scan.
    Master(MasterPlaylist),
    /// A media playlist still needs its segments placed on the timeline (`media`).
    Media(ScannedMedia),
}

/// Tags that only a master playlist may hold.
const MASTER_TAGS: &[&str] = &[
    "EXT-X-STREAM-INF",
    "EXT-X-I-FRAME-STREAM-INF",
    "EXT-X-MEDIA",
    "EXT-X-SESSION-DATA",
    "EXT-X-SESSION-KEY",
    "EXT-X-CONTENT-STEERING",
];

/// Tags that only a media playlist may hold.
const MEDIA_TAGS: &[&str] = &[
    "EXTINF",
    "EXT-X-TARGETDURATION",
    "EXT-X-MEDIA-SEQUENCE",
    "EXT-X-DISCONTINUITY-SEQUENCE",
    "EXT-X-ENDLIST",
    "EXT-X-PLAYLIST-TYPE",
    "EXT-X-I-FRAMES-ONLY",
    "EXT-X-BYTERANGE",
    "EXT-X-DISCONTINUITY",
    "EXT-X-KEY",
    "EXT-X-MAP",
    "EXT-X-PROGRAM-DATE-TIME",
    "EXT-X-DATERANGE",
    "EXT-X-GAP",
    "EXT-X-SKIP",
    "EXT-X-PART",
    "EXT-X-PART-INF",
    "EXT-X-SERVER-CONTROL",
    "EXT-X-PRELOAD-HINT",
    "EXT-X-RENDITION-REPORT",
    "EXT-X-BITRATE",
];

/// Scans the (variable-substituted) lines of a playlist loaded from `url`.
pub(crate) fn scan(lines: &[String], url: &Url) -> Result<Scanned, PlaylistError> {
    let header = header_index(lines).ok_or(PlaylistError::NotAPlaylist)?;
    let body = Body { lines, header };
    match playlist_kind(&body)? {
        Kind::Master => master::scan_master(&body, url).map(Scanned::Master),
        Kind::Media => media::scan_media(&body).map(Scanned::Media),
    }
}

/// The lines of a playlist and where its `#EXTM3U` is.
struct Body<'a> {
    lines: &'a [String],
    header: usize,
}

/// What a master or a media scan does with each line after the header.
trait LineScan {
    /// A URI line.
    fn uri_line(&mut self, line: usize, uri: &str) -> Result<(), PlaylistError>;

    /// A tag line.
    fn tag_line(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError>;
}

impl Body<'_> {
    /// Feeds every line after the header to `scan`.
    fn walk(&self, scan: &mut impl LineScan) -> Result<(), PlaylistError> {
        for (number, line) in self.after_header() {
            match line {
                LineKind::Blank | LineKind::Comment => {}
                LineKind::Uri(uri) => scan.uri_line(number, uri)?,
                LineKind::Tag { name, value } => {
                    scan.tag_line(TagAt { line: number, name }, value)?;
                }
            }
        }
        Ok(())
    }

    /// The lines after the header: 1-based number and classification.
    fn after_header(&self) -> impl Iterator<Item = (usize, LineKind<'_>)> {
        self.lines
            .iter()
            .enumerate()
            .skip(self.header + 1)
            .map(|(index, line)| (index + 1, classify(line)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Master,
    Media,
}

/// Master if a master tag appears, media if a media tag or a URI does; both is an error.
fn playlist_kind(body: &Body<'_>) -> Result<Kind, PlaylistError> {
    let mut first_master = None;
    let mut first_media = None;
    let mut first_uri = None;
    for (number, line) in body.after_header() {
        match line {
            LineKind::Tag { name, .. } if first_master.is_none() && MASTER_TAGS.contains(&name) => {
                first_master = Some((number, name));
            }
            LineKind::Tag { name, .. } if first_media.is_none() && MEDIA_TAGS.contains(&name) => {
                first_media = Some((number, name));
            }
            LineKind::Uri(_) if first_uri.is_none() => first_uri = Some(number),
            _ => {}
        }
    }
    match (first_master, first_media) {
        (Some((master_line, master_tag)), Some((media_line, media_tag))) => {
            Err(PlaylistError::MixedPlaylist {
                master_line,
                master_tag: master_tag.to_owned(),
                media_line,
                media_tag: media_tag.to_owned(),
            })
        }
        (Some(_), None) => Ok(Kind::Master),
        (None, Some(_)) => Ok(Kind::Media),
        (None, None) if first_uri.is_some() => Ok(Kind::Media),
        (None, None) => Err(PlaylistError::EmptyPlaylist),
    }
}

/// What both kinds of playlist may say (`EXT-X-INDEPENDENT-SEGMENTS`, `EXT-X-START`), and
/// the tags that may appear once, to refuse a different second value.
#[derive(Debug, Default)]
pub(crate) struct PlaylistWide {
    pub independent_segments: bool,
    pub start: Option<StartOffset>,
    once: OnceTags,
}

/// Tags that may appear once: the first value of each, to refuse a different second one.
#[derive(Debug, Default)]
struct OnceTags {
    seen: SmallMap<String, (usize, String)>,
}

impl OnceTags {
    fn record(&mut self, tag: TagAt<'_>, value: &str) -> Result<(), PlaylistError> {
        match self.seen.get(tag.name) {
            Some((first_line, first_value)) if first_value != value => {
                Err(PlaylistError::ConflictingTag {
                    line: tag.line,
                    first_line: *first_line,
                    tag: tag.name.to_owned(),
                })
            }
            Some(_) => Ok(()),
            None => {
                self.seen
                    .insert(tag.name.to_owned(), (tag.line, value.to_owned()));
                Ok(())
            }
        }
    }
}

/// A tag that takes no value (`#EXT-X-ENDLIST`); an empty one after `:` is tolerated.
fn expect_no_value(tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
    match value.map(str::trim) {
        None | Some("") => Ok(()),
        Some(_) => Err(tag.syntax("this tag takes no value")),
    }
}

/// The value of a tag that needs one, trimmed.
fn expect_value<'a>(tag: TagAt<'_>, value: Option<&'a str>) -> Result<&'a str, PlaylistError> {
    match value.map(str::trim) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(tag.syntax("this tag needs a value")),
    }
}

/// A tag value read with one of the value grammars.
fn scalar<T>(
    tag: TagAt<'_>,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, values::Reason>,
) -> Result<T, PlaylistError> {
    let text = expect_value(tag, value)?;
    parse(text).map_err(|reason| tag.invalid("value", text, reason))
}

/// Tags both kinds of playlist may hold (`EXT-X-VERSION`, `EXT-X-INDEPENDENT-SEGMENTS`,
/// `EXT-X-START`) are checked and recorded; any other tag reaching here is unknown or
/// unused and skipped.
fn playlist_wide_tag(
    tag: TagAt<'_>,
    value: Option<&str>,
    wide: &mut PlaylistWide,
) -> Result<(), PlaylistError> {
    match tag.name {
        "EXT-X-VERSION" => {
            let version = scalar(tag, value, values::decimal_integer)?;
            wide.once.record(tag, &version.to_string())
        }
        "EXT-X-INDEPENDENT-SEGMENTS" => {
            expect_no_value(tag, value)?;
            wide.independent_segments = true;
            Ok(())
        }
        "EXT-X-START" => {
            wide.start = Some(start_tag(tag, value, &mut wide.once)?);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `EXT-X-START:TIME-OFFSET=<signed float>[,PRECISE=YES|NO]`.
fn start_tag(
    tag: TagAt<'_>,
    value: Option<&str>,
    once: &mut OnceTags,
) -> Result<StartOffset, PlaylistError> {
    let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
    let time_offset = attributes.required_parsed("TIME-OFFSET", values::signed_decimal_float)?;
    let precise = attributes.yes_no("PRECISE")?;
    once.record(tag, &format!("{}/{precise}", time_offset.to_bits()))?;
    Ok(StartOffset {
        time_offset,
        precise,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::lines::split_lines;

    fn kind(text: &str) -> Result<Kind, PlaylistError> {
        let lines = split_lines(text);
        let header = header_index(&lines).ok_or(PlaylistError::NotAPlaylist)?;
        playlist_kind(&Body {
            lines: &lines,
            header,
        })
    }

    #[test]
    fn the_kind_comes_from_the_tags() {
        assert_eq!(
            kind("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n"),
            Ok(Kind::Master)
        );
        assert_eq!(kind("#EXTM3U\n#EXT-X-TARGETDURATION:4\n"), Ok(Kind::Media));
        assert_eq!(kind("#EXTM3U\na.ts\n"), Ok(Kind::Media));
        assert_eq!(
            kind("#EXTM3U\n#EXT-X-VERSION:3\n# hi\n"),
            Err(PlaylistError::EmptyPlaylist)
        );
        assert_eq!(kind("no header\n"), Err(PlaylistError::NotAPlaylist));
    }

    #[test]
    fn master_and_media_tags_together_are_refused() {
        assert_eq!(
            kind("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXTINF:4,\n"),
            Err(PlaylistError::MixedPlaylist {
                master_line: 2,
                master_tag: "EXT-X-STREAM-INF".into(),
                media_line: 4,
                media_tag: "EXTINF".into()
            })
        );
    }
}
