//! Playlists served under another prefix than `/media/` (`/shaped/{trace}/{session}/`,
//! `/faults/{spec}/`, `/live/`): relative URIs keep the prefix by URL resolution;
//! root-relative `/media/…` URIs (URI lines and `URI="…"` attributes) are rewritten here,
//! and the rewritten text gets its own validator. Absolute URLs are left alone. Also a
//! tolerant attribute-list reader.
//!
//! Nothing here fails on text: text that is not what it expects is left as it is.

use std::ops::Range;

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::OriginError;
use super::content_type::FileKind;
use super::faults::draw::fingerprint;
use super::respond::{self, CachePolicy, Reply, Representation};
use super::store::{Content, MediaFile};

/// The route prefix of plain media.
pub const MEDIA_PREFIX: &str = "/media/";

/// True for an HLS playlist (`.m3u8`, `.m3u`), the only text these routes rewrite.
pub fn is_hls_playlist(file: &MediaFile) -> bool {
    file.kind == FileKind::Playlist
        && file
            .content_type
            .starts_with("application/vnd.apple.mpegurl")
}

/// The bytes of `file`, read from disk when they are not cached (callers check `file.len`
/// first when size matters).
pub async fn file_bytes(file: &MediaFile) -> Result<Bytes, OriginError> {
    match &file.content {
        Content::Memory(bytes) => Ok(bytes.clone()),
        Content::Disk(path) => tokio::fs::read(path)
            .await
            .map(Bytes::from)
            .map_err(|e| OriginError::Io(file.rel_path.clone(), e)),
    }
}

/// Characters escaped in a route's path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'[')
    .add(b']');

/// `/{segments…}/`, each segment percent-escaped so it stays one segment.
pub fn route_prefix(segments: &[&str]) -> String {
    let mut prefix = String::from("/");
    for segment in segments {
        prefix.extend(utf8_percent_encode(segment, SEGMENT));
        prefix.push('/');
    }
    prefix
}

/// The reply `/media/` gives for `file`, except that an HLS playlist's `/media/`
/// references are moved under `prefix` (the rewritten text gets an ETag of its own).
pub async fn reply_under_prefix(
    file: &MediaFile,
    method: &Method,
    headers: &HeaderMap,
    prefix: &str,
    policy: CachePolicy,
) -> Result<Reply, OriginError> {
    if is_hls_playlist(file) {
        let bytes = file_bytes(file).await?;
        let rewritten = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| reprefix(text, MEDIA_PREFIX, prefix));
        if let Some(text) = rewritten {
            let etag = format!(
                "\"{}-{:x}\"",
                file.etag.trim_matches('"'),
                fingerprint(&[prefix.as_bytes()])
            );
            let representation = Representation {
                etag: &etag,
                modified: file.modified,
                content_type: file.content_type,
                len: text.len() as u64,
                content: Content::Memory(Bytes::from(text)),
            };
            return Ok(respond::reply(method, headers, representation, policy));
        }
    }
    Ok(respond::reply(method, headers, file.into(), policy))
}

/// Spans of the `NAME=value` pairs of an attribute list: (name, value as written, quotes
/// included). Pairs without `=` are skipped; an unterminated quote runs to the end.
pub fn attribute_spans(list: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let bytes = list.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let name_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b',' {
            i += 1;
        }
        let name_end = i;
        if i >= bytes.len() || bytes[i] == b',' {
            i += 1;
            continue;
        }
        i += 1;
        let value_start = i;
        if i < bytes.len() && bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
        }
        while i < bytes.len() && bytes[i] != b',' {
            i += 1;
        }
        spans.push((name_start..name_end, value_start..i));
        i += 1;
    }
    spans
}

/// The value of attribute `name` in an attribute list, quotes removed.
pub fn attribute<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    attribute_spans(list)
        .into_iter()
        .find(|(n, _)| list[n.clone()].trim() == name)
        .map(|(_, v)| {
            let value = list[v].trim();
            let value = value.strip_prefix('"').unwrap_or(value);
            value.strip_suffix('"').unwrap_or(value)
        })
}

/// Rewrites root-relative URIs that start with `from` (URI lines and `URI="…"` attributes
/// of tags) to start with `to` instead. `None` when nothing had to change.
pub fn reprefix(text: &str, from: &str, to: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    for piece in text.split_inclusive('\n') {
        let body_len = piece.trim_end_matches(['\r', '\n']).len();
        let (line, ending) = piece.split_at(body_len);
        match reprefix_line(line, from, to) {
            Some(new) => {
                out.push_str(&new);
                changed = true;
            }
            None => out.push_str(line),
        }
        out.push_str(ending);
    }
    changed.then_some(out)
}

/// One line through [`reprefix`].
pub fn reprefix_line(line: &str, from: &str, to: &str) -> Option<String> {
    let content = line.trim_start();
    let indent = &line[..line.len() - content.len()];
    if content.is_empty() {
        return None;
    }
    if !content.starts_with('#') {
        let rest = content.strip_prefix(from)?;
        return Some(format!("{indent}{to}{rest}"));
    }
    if !content.starts_with("#EXT") || content.starts_with("#EXTINF") {
        return None;
    }
    let colon = content.find(':')?;
    let (head, list) = (&content[..=colon], &content[colon + 1..]);
    let quoted_from = format!("\"{from}");
    let mut new_list = String::with_capacity(list.len() + 32);
    let mut copied = 0;
    for (name, value) in attribute_spans(list) {
        if list[name].trim() == "URI" && list[value.clone()].starts_with(&quoted_from) {
            new_list.push_str(&list[copied..value.start]);
            new_list.push('"');
            new_list.push_str(to);
            copied = value.start + quoted_from.len();
        }
    }
    if copied == 0 {
        return None;
    }
    new_list.push_str(&list[copied..]);
    Some(format!("{indent}{head}{new_list}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_escape_their_segments() {
        assert_eq!(
            route_prefix(&["shaped", "const.txt", "s1"]),
            "/shaped/const.txt/s1/"
        );
        assert_eq!(
            route_prefix(&["shaped", "a b?#/%", "s"]),
            "/shaped/a%20b%3F%23%2F%25/s/"
        );
        assert_eq!(
            route_prefix(&["faults", "status=500,p=0.2"]),
            "/faults/status=500,p=0.2/"
        );
    }

    #[test]
    fn attributes_are_found_with_quotes_and_commas() {
        let list = r#"METHOD=AES-128,URI="k,1.key",IV=0x01,KEYFORMAT="identity""#;
        assert_eq!(attribute(list, "METHOD"), Some("AES-128"));
        assert_eq!(attribute(list, "URI"), Some("k,1.key"));
        assert_eq!(attribute(list, "IV"), Some("0x01"));
        assert_eq!(attribute(list, "KEYFORMAT"), Some("identity"));
        assert_eq!(attribute(list, "MISSING"), None);
        for hostile in ["", ",", "=", "\"", "A=\"", "A=\"x", ",,B=1,", "é=ü,URI=\"é"] {
            let _ = attribute(hostile, "URI");
        }
        assert_eq!(attribute("A=\"x", "A"), Some("x"));
        assert_eq!(attribute(",,B=1,", "B"), Some("1"));
    }

    #[test]
    fn root_relative_media_uris_move_to_the_new_prefix() {
        let text = "#EXTM3U\r\n#EXT-X-MAP:URI=\"/media/a/init.mp4\",BYTERANGE=\"10@0\"\r\n\
                    #EXTINF:2,URI=\"/media/title\"\r\n/media/a/s1.m4s\r\n  /media/a/s2.m4s\n\
                    s3.m4s\n/other/s4.m4s\n#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"/media/x\",URI=\"/media/b.m3u8\"";
        let out = reprefix(text, "/media/", "/faults/p=1/").unwrap();
        assert_eq!(
            out,
            "#EXTM3U\r\n#EXT-X-MAP:URI=\"/faults/p=1/a/init.mp4\",BYTERANGE=\"10@0\"\r\n\
             #EXTINF:2,URI=\"/media/title\"\r\n/faults/p=1/a/s1.m4s\r\n  /faults/p=1/a/s2.m4s\n\
             s3.m4s\n/other/s4.m4s\n#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"/media/x\",URI=\"/faults/p=1/b.m3u8\""
        );
        assert_eq!(reprefix("#EXTM3U\nseg.ts\n", "/media/", "/live/"), None);
        assert_eq!(reprefix("", "/media/", "/live/"), None);
    }
}
