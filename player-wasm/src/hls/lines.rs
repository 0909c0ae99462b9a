//! Playlist text as numbered lines, each classified as blank, comment, tag or URI.
//!
//! This is where the harmless quirks of real playlists are absorbed once for every later
//! stage: a UTF-8 byte order mark, CRLF or lone CR line endings, and whitespace around
//! lines. Line numbers stay those of the original text (1-based).

/// The lines of a playlist: a byte order mark dropped, split on LF, CRLF or CR, each trimmed.
/// `lines[i]` is line `i + 1` of the text.
pub(crate) fn split_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find(['\r', '\n']) {
        lines.push(rest[..end].trim().to_owned());
        let ending_len = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + ending_len..];
    }
    lines.push(rest.trim().to_owned());
    lines
}

/// What one (trimmed) line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind<'a> {
    Blank,
    /// A line starting with `#` that is not a tag.
    Comment,
    /// `#EXT…`: `name` without the `#`, `value` after the first `:` (if there is a `:`).
    Tag {
        name: &'a str,
        value: Option<&'a str>,
    },
    /// Any other line: a URI.
    Uri(&'a str),
}

/// Classifies a trimmed line.
pub(crate) fn classify(line: &str) -> LineKind<'_> {
    if line.is_empty() {
        return LineKind::Blank;
    }
    let Some(after_hash) = line.strip_prefix('#') else {
        return LineKind::Uri(line);
    };
    if !after_hash.starts_with("EXT") {
        return LineKind::Comment;
    }
    match after_hash.split_once(':') {
        Some((name, value)) => LineKind::Tag {
            name,
            value: Some(value),
        },
        None => LineKind::Tag {
            name: after_hash,
            value: None,
        },
    }
}

/// The header line every playlist starts with.
pub(crate) const HEADER: &str = "#EXTM3U";

/// Index of the `#EXTM3U` line if it is the first non-blank line, exactly.
pub(crate) fn header_index(lines: &[String]) -> Option<usize> {
    let first = lines.iter().position(|line| !line.is_empty())?;
    (lines[first] == HEADER).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_bom_and_whitespace_are_absorbed() {
        let text = "\u{feff}#EXTM3U \r\n\t#EXTINF:4,\rseg.ts\n\nlast";
        assert_eq!(
            split_lines(text),
            vec!["#EXTM3U", "#EXTINF:4,", "seg.ts", "", "last"]
        );
    }

    #[test]
    fn a_trailing_newline_gives_a_final_blank_line() {
        assert_eq!(split_lines("a\nb\n"), vec!["a", "b", ""]);
        assert_eq!(split_lines("a\r\nb\r\n"), vec!["a", "b", ""]);
    }

    #[test]
    fn lines_are_classified() {
        assert_eq!(classify(""), LineKind::Blank);
        assert_eq!(classify("# a comment"), LineKind::Comment);
        assert_eq!(
            classify("#EXTINF:4,title"),
            LineKind::Tag {
                name: "EXTINF",
                value: Some("4,title")
            }
        );
        assert_eq!(
            classify("#EXT-X-ENDLIST"),
            LineKind::Tag {
                name: "EXT-X-ENDLIST",
                value: None
            }
        );
        assert_eq!(classify("seg.ts"), LineKind::Uri("seg.ts"));
    }

    #[test]
    fn the_header_must_be_the_first_non_blank_line() {
        let lines = |text: &str| split_lines(text);
        assert_eq!(header_index(&lines("#EXTM3U\n")), Some(0));
        assert_eq!(header_index(&lines("\n\n#EXTM3U\n")), Some(2));
        assert_eq!(header_index(&lines("#EXT-X-VERSION:3\n#EXTM3U\n")), None);
        assert_eq!(header_index(&lines("#EXTM3Ux\n")), None);
        assert_eq!(header_index(&lines("")), None);
    }
}
