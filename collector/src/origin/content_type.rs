//! What each file under the media root is: its `Content-Type` and how long caches may
//! keep it.

/// The role a file plays in a stream, which decides its caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An HLS playlist: changes for live streams, so caches revalidate it.
    Playlist,
    /// Media (segments, init segments, keys): never changes once written.
    Media,
    /// Anything else (pages, scripts, JSON).
    Other,
}

/// `Content-Type` and kind of a file, from its extension (case-insensitive).
pub fn classify(path: &str) -> (&'static str, FileKind) {
    let extension = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "m3u8" | "m3u" => ("application/vnd.apple.mpegurl", FileKind::Playlist),
        "m4s" => ("video/iso.segment", FileKind::Media),
        "mp4" | "m4v" | "cmfv" => ("video/mp4", FileKind::Media),
        "m4a" | "cmfa" => ("audio/mp4", FileKind::Media),
        "ts" => ("video/mp2t", FileKind::Media),
        "aac" => ("audio/aac", FileKind::Media),
        "mp3" => ("audio/mpeg", FileKind::Media),
        "ac3" => ("audio/ac3", FileKind::Media),
        "ec3" => ("audio/eac3", FileKind::Media),
        "vtt" | "webvtt" => ("text/vtt; charset=utf-8", FileKind::Media),
        "key" => ("application/octet-stream", FileKind::Media),
        "mpd" => ("application/dash+xml", FileKind::Playlist),
        "json" => ("application/json", FileKind::Other),
        "html" | "htm" => ("text/html; charset=utf-8", FileKind::Other),
        "js" | "mjs" => ("text/javascript; charset=utf-8", FileKind::Other),
        "wasm" => ("application/wasm", FileKind::Other),
        "css" => ("text/css; charset=utf-8", FileKind::Other),
        "svg" => ("image/svg+xml", FileKind::Other),
        "png" => ("image/png", FileKind::Other),
        "jpg" | "jpeg" => ("image/jpeg", FileKind::Other),
        "txt" | "csv" => ("text/plain; charset=utf-8", FileKind::Other),
        _ => ("application/octet-stream", FileKind::Other),
    }
}

/// True for types worth compressing (text); media is already compressed.
pub fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("application/vnd.apple.mpegurl")
        || content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/dash+xml")
        || content_type.starts_with("image/svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hls_types() {
        assert_eq!(classify("a/index.m3u8").0, "application/vnd.apple.mpegurl");
        assert_eq!(
            classify("a/seg_001.M4S"),
            ("video/iso.segment", FileKind::Media)
        );
        assert_eq!(classify("a/init.mp4").0, "video/mp4");
        assert_eq!(classify("a/seg.ts").0, "video/mp2t");
        assert_eq!(classify("noextension").0, "application/octet-stream");
        assert_eq!(classify(".hidden.m3u8").1, FileKind::Playlist);
        assert!(is_compressible("application/vnd.apple.mpegurl"));
        assert!(!is_compressible("video/iso.segment"));
    }
}
