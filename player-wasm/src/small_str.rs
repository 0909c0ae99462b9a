//! [`find`]: substring search for the short needles the player looks for (`{$` in
//! playlists, browser tokens in a user agent, `codecs=` in a MIME type), and
//! [`from_utf8_lossy`].
//!
//! `str::find` with a string pattern brings the two-way searcher (a few kilobytes) into
//! the browser package; a byte-window scan is a few dozen bytes and fast enough for
//! needles of a few bytes in lines of a few hundred. `String::from_utf8_lossy` brings its
//! own UTF-8 chunk iterator; `str::from_utf8`, which the package has anyway, does the same.

/// Byte offset of the first occurrence of `needle` in `haystack` (`Some(0)` for an empty
/// needle). A match of valid UTF-8 in valid UTF-8 starts on a character boundary, so the
/// offset can slice `haystack`.
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// `bytes` as text, each maximal invalid sequence replaced by U+FFFD: the same as
/// `String::from_utf8_lossy(bytes).into_owned()`.
pub fn from_utf8_lossy(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match core::str::from_utf8(bytes) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(error) => {
                let (valid, rest) = bytes.split_at(error.valid_up_to());
                out.push_str(core::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                bytes = &rest[error.error_len().unwrap_or(rest.len())..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_str_find() {
        let haystacks = [
            "",
            "a",
            "{$",
            "x{$name}y{$",
            "video/mp4; codecs=\"avc1\"",
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36 Edg/120",
            "é{$ü}€{",
            "aaab",
        ];
        let needles = [
            "", "{$", "codecs=", "Edg/", "Chrome/", "ü}", "€", "aab", "b", "zz",
        ];
        for haystack in haystacks {
            for needle in needles {
                assert_eq!(
                    find(haystack, needle),
                    haystack.find(needle),
                    "{haystack:?} {needle:?}"
                );
                assert_eq!(contains(haystack, needle), haystack.contains(needle));
            }
        }
    }

    #[test]
    fn lossy_decoding_agrees_with_std() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Bytes drawn mostly from UTF-8's interesting values: ASCII, continuation bytes,
        // lead bytes of every length, and bytes never valid.
        const PICKS: &[u8] = &[
            b'a', b'%', 0x00, 0x7f, 0x80, 0xbf, 0x9f, 0xa0, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed,
            0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x8f, 0x90,
        ];
        for _ in 0..20_000 {
            let len = (next() % 9) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| PICKS[(next() % PICKS.len() as u64) as usize])
                .collect();
            assert_eq!(
                from_utf8_lossy(&bytes),
                String::from_utf8_lossy(&bytes),
                "{bytes:x?}"
            );
        }
        for text in ["", "abc", "é€😀", "\u{fffd}"] {
            assert_eq!(from_utf8_lossy(text.as_bytes()), text);
        }
    }
}
