//! Playlist text to model: [`parse_playlist`].
//!
//! The stages, each in its own module:
//! 1. `lines`: split into numbered, trimmed lines (BOM, CRLF and stray whitespace absorbed);
//! 2. `variables`: `EXT-X-DEFINE` substitution;
//! 3. `scan`: master or media, every known tag checked with its line number, and the text
//!    handed to `m3u8-rs` rewritten so that it reads exactly what was checked;
//! 4. `m3u8-rs` parses that text into its types;
//! 5. `master` / `media`: the model built from the `m3u8-rs` types and what the scan
//!    recorded (URIs resolved, byte ranges made explicit, segments placed on the timeline).
//!
//! No input makes any stage panic; every refusal is a [`PlaylistError`].

use url::Url;

use super::error::PlaylistError;
use super::lines::{header_index, split_lines};
use super::master::build_master;
use super::media::build_media;
use super::model::Playlist;
use super::scan::{Scanned, scan};
use super::variables::substitute_variables;

/// Parses a master or media playlist loaded from `url` (the base of every relative URI).
///
/// Harmless quirks are accepted: a byte order mark, CRLF line endings, whitespace around
/// lines, blank lines, comments, unknown tags, `EXTINF` without a comma, `EXTINF` longer
/// than the target duration, a decimal target duration, repeated tags with the same value.
pub fn parse_playlist(text: &str, url: &Url) -> Result<Playlist, PlaylistError> {
    let mut lines = split_lines(text);
    if header_index(&lines).is_none() {
        return Err(PlaylistError::NotAPlaylist);
    }
    substitute_variables(&mut lines, url)?;
    match scan(&lines)? {
        Scanned::Master(scanned) => {
            let parsed = run_m3u8_rs(&scanned.m3u8_text, m3u8_rs::parse_master_playlist)?;
            build_master(parsed, &scanned, url).map(Playlist::Master)
        }
        Scanned::Media(scanned) => {
            let parsed = run_m3u8_rs(&scanned.m3u8_text, m3u8_rs::parse_media_playlist)?;
            build_media(parsed, &scanned, url).map(Playlist::Media)
        }
    }
}

/// Runs one of the `m3u8-rs` parsers and insists that it consumed the whole text.
fn run_m3u8_rs<'a, T, E>(
    text: &'a str,
    parser: impl Fn(&'a [u8]) -> Result<(&'a [u8], T), E>,
) -> Result<T, PlaylistError> {
    match parser(text.as_bytes()) {
        Ok(([], parsed)) => Ok(parsed),
        Ok((rest, _)) => {
            let consumed = &text.as_bytes()[..text.len().saturating_sub(rest.len())];
            let line = consumed.iter().filter(|&&b| b == b'\n').count() + 1;
            Err(PlaylistError::Rejected {
                message: format!("it stopped reading at line {line}"),
            })
        }
        Err(_) => Err(PlaylistError::Rejected {
            message: "its grammar did not match".to_owned(),
        }),
    }
}

/// Resolves a URI written on `line` against the playlist URL.
pub(crate) fn resolve_uri(base: &Url, uri: &str, line: usize) -> Result<Url, PlaylistError> {
    base.join(uri).map_err(|error| PlaylistError::BadUri {
        line,
        uri: uri.to_owned(),
        reason: error.to_string(),
    })
}

/// Checks that `m3u8-rs` found as many items as the scan did (it drops tags it cannot read).
pub(crate) fn same_count(
    found_by_m3u8_rs: usize,
    found_by_scan: usize,
    what: &str,
) -> Result<(), PlaylistError> {
    if found_by_m3u8_rs == found_by_scan {
        Ok(())
    } else {
        Err(PlaylistError::Rejected {
            message: format!(
                "it found {found_by_m3u8_rs} {what} where the line scan found {found_by_scan}"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_left_unread_by_m3u8_rs_is_reported_with_its_line() {
        let stops_after_two_lines =
            |input: &'static [u8]| -> Result<(&'static [u8], ()), ()> { Ok((&input[8..], ())) };
        assert_eq!(
            run_m3u8_rs("#EXTM3U\na\nb\n", stops_after_two_lines),
            Err(PlaylistError::Rejected {
                message: "it stopped reading at line 2".into()
            })
        );
        let fails = |_: &'static [u8]| -> Result<(&'static [u8], ()), ()> { Err(()) };
        assert!(matches!(
            run_m3u8_rs("#EXTM3U\n", fails),
            Err(PlaylistError::Rejected { .. })
        ));
    }

    #[test]
    fn counts_that_disagree_are_rejected() {
        assert_eq!(same_count(2, 2, "segments"), Ok(()));
        assert!(matches!(
            same_count(1, 2, "segments"),
            Err(PlaylistError::Rejected { message }) if message.contains("1 segments")
        ));
    }

    #[test]
    fn uris_resolve_against_the_playlist_url() {
        let base = Url::parse("https://a.test/x/y/p.m3u8?q=1").unwrap();
        assert_eq!(
            resolve_uri(&base, "../z.ts", 3).unwrap().as_str(),
            "https://a.test/x/z.ts"
        );
        assert_eq!(
            resolve_uri(&base, "//b.test/s.ts", 3).unwrap().as_str(),
            "https://b.test/s.ts"
        );
        assert!(matches!(
            resolve_uri(&base, "https://[::1/", 9),
            Err(PlaylistError::BadUri { line: 9, .. })
        ));
    }
}
