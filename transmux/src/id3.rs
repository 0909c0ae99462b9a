//! ID3v2 tags (id3.org, v2.3 and v2.4): their size, and the `PRIV` frame
//! `com.apple.streaming.transportStreamTimestamp` that gives packed audio its start time
//! (HLS, RFC 8216 §3.4). The tags themselves are handed on untouched as metadata.

/// The owner of the PRIV frame carrying a packed audio segment's MPEG-2 timestamp.
pub const TIMESTAMP_OWNER: &[u8] = b"com.apple.streaming.transportStreamTimestamp";

/// A 28-bit "synchsafe" integer (7 bits per byte).
fn synchsafe(bytes: &[u8]) -> Option<usize> {
    let b: [u8; 4] = bytes.try_into().ok()?;
    if b.iter().any(|byte| byte & 0x80 != 0) {
        return None;
    }
    Some(
        b.iter()
            .fold(0usize, |acc, &byte| (acc << 7) | usize::from(byte)),
    )
}

/// Bytes of the ID3v2 tag at the start of `data` (header, body and footer), if one
/// starts there; the tag may extend past the end of `data`.
pub fn tag_length(data: &[u8]) -> Option<usize> {
    let header = data.get(..10)?;
    if &header[..3] != b"ID3" || header[3] == 0xff || header[4] == 0xff {
        return None;
    }
    let body = synchsafe(&header[6..10])?;
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

/// The frames of a complete tag: `(id, body)` for each, stopping at padding or damage.
pub fn frames(tag: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let Some(length) = tag_length(tag) else {
        return out;
    };
    let Some(header) = tag.get(..10) else {
        return out;
    };
    let version = header[3];
    let flags = header[5];
    let end = (length - if flags & 0x10 != 0 { 10 } else { 0 }).min(tag.len());
    let mut pos = 10;
    if flags & 0x40 != 0 {
        // Extended header: v2.4 gives its whole size (synchsafe), v2.3 the size after
        // the size field.
        let Some(size) = tag.get(10..14) else {
            return out;
        };
        pos += match version {
            4 => synchsafe(size).unwrap_or(usize::MAX / 2),
            _ => u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize + 4,
        };
    }
    if version < 3 {
        return out; // v2.2's 3-byte frame ids: no frame this crate reads
    }
    while let Some(frame_header) = tag.get(pos..pos + 10) {
        if pos + 10 > end || frame_header[0] == 0 {
            break; // padding
        }
        let size_bytes = &frame_header[4..8];
        let size = match version {
            4 => synchsafe(size_bytes),
            _ => Some(u32::from_be_bytes([
                size_bytes[0],
                size_bytes[1],
                size_bytes[2],
                size_bytes[3],
            ]) as usize),
        };
        let Some(body) = size.and_then(|size| tag.get(pos + 10..(pos + 10).checked_add(size)?))
        else {
            break;
        };
        let id = [
            frame_header[0],
            frame_header[1],
            frame_header[2],
            frame_header[3],
        ];
        out.push((id, body));
        pos += 10 + body.len();
    }
    out
}

/// The 33-bit MPEG-2 timestamp of a tag's `PRIV` frame
/// `com.apple.streaming.transportStreamTimestamp`, if it has one.
pub fn transport_stream_timestamp(tag: &[u8]) -> Option<u64> {
    frames(tag).into_iter().find_map(|(id, body)| {
        if &id != b"PRIV" {
            return None;
        }
        let rest = body.strip_prefix(TIMESTAMP_OWNER)?.strip_prefix(&[0])?;
        let bytes: [u8; 8] = rest.get(..8)?.try_into().ok()?;
        Some(u64::from_be_bytes(bytes) & ((1 << 33) - 1))
    })
}

/// Builds tags for tests.
#[cfg(test)]
pub(crate) fn build_tag(version: u8, frames: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (id, data) in frames {
        body.extend_from_slice(*id);
        let size = data.len() as u32;
        if version == 4 {
            body.extend_from_slice(&[
                (size >> 21) as u8 & 0x7f,
                (size >> 14) as u8 & 0x7f,
                (size >> 7) as u8 & 0x7f,
                size as u8 & 0x7f,
            ]);
        } else {
            body.extend_from_slice(&size.to_be_bytes());
        }
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(data);
    }
    body.extend_from_slice(&[0; 4]); // padding
    let size = body.len() as u32;
    let mut out = b"ID3".to_vec();
    out.extend_from_slice(&[version, 0, 0]);
    out.extend_from_slice(&[
        (size >> 21) as u8 & 0x7f,
        (size >> 14) as u8 & 0x7f,
        (size >> 7) as u8 & 0x7f,
        size as u8 & 0x7f,
    ]);
    out.extend_from_slice(&body);
    out
}

/// The PRIV frame body with a transport stream timestamp, for tests.
#[cfg(test)]
pub(crate) fn timestamp_priv(ticks: u64) -> Vec<u8> {
    let mut body = TIMESTAMP_OWNER.to_vec();
    body.push(0);
    body.extend_from_slice(&ticks.to_be_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_timestamp_in_v3_and_v4() {
        for version in [3, 4] {
            let tag = build_tag(
                version,
                &[
                    (b"TXXX", b"\x03hello\x00world"),
                    (b"PRIV", &timestamp_priv(0x1_2345_6789)),
                ],
            );
            assert_eq!(tag_length(&tag), Some(tag.len()));
            assert_eq!(transport_stream_timestamp(&tag), Some(0x1_2345_6789));
            assert_eq!(frames(&tag).len(), 2);
        }
    }

    #[test]
    fn the_shaka_packed_audio_tag() {
        // The first 75 bytes of Shaka's hls-raw-aac/fileSequence0.aac.
        let mut tag = b"ID3\x04\x00\x00\x00\x00\x00\x3fPRIV\x00\x00\x00\x35\x00\x00".to_vec();
        tag.extend_from_slice(TIMESTAMP_OWNER);
        tag.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x0d, 0x99, 0xf4]);
        assert_eq!(tag.len(), 73);
        assert_eq!(tag_length(&tag), Some(73));
        assert_eq!(transport_stream_timestamp(&tag), Some(0x0d_99f4)); // 9.904 s
    }

    #[test]
    fn malformed_tags() {
        assert_eq!(
            tag_length(b"ID3\x04\x00\x00\x80\x00\x00\x00"),
            None,
            "not synchsafe"
        );
        assert_eq!(tag_length(b"ID2\x04\x00\x00\x00\x00\x00\x00"), None);
        assert_eq!(tag_length(b"ID3"), None);
        let mut tag = build_tag(4, &[(b"PRIV", &timestamp_priv(5))]);
        tag.truncate(30);
        assert_eq!(transport_stream_timestamp(&tag), None);
        let mut extended = build_tag(4, &[(b"PRIV", &timestamp_priv(5))]);
        extended[5] |= 0x40; // an extended header that is not there
        let _ = frames(&extended);
        let _ = frames(b"ID3\x02\x00\x00\x00\x00\x00\x10xxxxxxxxxxxxxxxx");
    }
}
