//! Playlist text to model: [`parse_playlist`].
//!
//! The stages, each in its own module:
//! 1. `lines`: split into numbered, trimmed lines (BOM, CRLF and stray whitespace absorbed);
//! 2. `variables`: `EXT-X-DEFINE` substitution;
//! 3. `scan`: master or media, every known tag checked with its line number and read; a
//!    master playlist comes out as the model (URIs resolved);
//! 4. `media`: a media playlist's segments placed on the timeline (sequence numbers, byte
//!    ranges made explicit, maps and keys carried to the segments they apply to).
//!
//! `m3u8-rs` is the reference this parser is tested against (`tests/hls_oracle.rs`): the
//! browser package does without it and its parser-combinator and date dependencies, a
//! quarter of the package's size.
//!
//! No input makes any stage panic; every refusal is a [`PlaylistError`].

use crate::url::Url;

use super::error::PlaylistError;
use super::lines::{header_index, split_lines};
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
    match scan(&lines, url)? {
        Scanned::Master(master) => Ok(Playlist::Master(master)),
        Scanned::Media(scanned) => build_media(scanned, url).map(Playlist::Media),
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

#[cfg(test)]
mod tests {
    use super::*;

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
