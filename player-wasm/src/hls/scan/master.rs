//! The scan of a master playlist: each `EXT-X-STREAM-INF` paired with its URI line,
//! `EXT-X-I-FRAME-STREAM-INF` and `EXT-X-MEDIA` checked, session and steering tags checked
//! and then left out (the model does not use them).

use super::{Body, LineScan, OnceTags, playlist_wide_tag};
use crate::hls::attributes::{Attributes, TagAt};
use crate::hls::error::PlaylistError;
use crate::hls::values;

/// A master playlist after the scan.
#[derive(Debug)]
pub(crate) struct ScannedMaster {
    /// The text for `m3u8-rs`.
    pub m3u8_text: String,
    /// Each `EXT-X-STREAM-INF`, in order.
    pub variants: Vec<VariantLines>,
    /// The line of each `EXT-X-I-FRAME-STREAM-INF`, in order.
    pub iframe_variant_lines: Vec<usize>,
    /// The line of each `EXT-X-MEDIA`, in order.
    pub rendition_lines: Vec<usize>,
}

/// Where a variant is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VariantLines {
    pub tag_line: usize,
    pub uri_line: usize,
}

/// Scans a master playlist.
pub(super) fn scan_master(body: &Body<'_>) -> Result<ScannedMaster, PlaylistError> {
    let mut scan = MasterScan::default();
    let m3u8_text = body.rewrite(&mut scan)?;
    if let Some(tag_line) = scan.stream_inf_waiting_for_uri {
        return Err(PlaylistError::StreamInfWithoutUri { line: tag_line });
    }
    Ok(ScannedMaster {
        m3u8_text,
        variants: scan.variants,
        iframe_variant_lines: scan.iframe_variant_lines,
        rendition_lines: scan.rendition_lines,
    })
}

#[derive(Debug, Default)]
struct MasterScan {
    once: OnceTags,
    variants: Vec<VariantLines>,
    iframe_variant_lines: Vec<usize>,
    rendition_lines: Vec<usize>,
    stream_inf_waiting_for_uri: Option<usize>,
}

/// The `EXT-X-STREAM-INF` attributes passed on to `m3u8-rs` (the model's fields).
const STREAM_INF_ATTRIBUTES: &[&str] = &[
    "BANDWIDTH",
    "AVERAGE-BANDWIDTH",
    "CODECS",
    "RESOLUTION",
    "FRAME-RATE",
    "AUDIO",
    "VIDEO",
    "SUBTITLES",
    "CLOSED-CAPTIONS",
];

/// The `EXT-X-I-FRAME-STREAM-INF` attributes passed on to `m3u8-rs`.
const IFRAME_STREAM_INF_ATTRIBUTES: &[&str] = &[
    "BANDWIDTH",
    "AVERAGE-BANDWIDTH",
    "CODECS",
    "RESOLUTION",
    "VIDEO",
    "URI",
];

impl LineScan for MasterScan {
    /// A URI line: the media playlist of the waiting `EXT-X-STREAM-INF`.
    fn uri_line(&mut self, line: usize, uri: &str) -> Result<String, PlaylistError> {
        let tag_line = self
            .stream_inf_waiting_for_uri
            .take()
            .ok_or(PlaylistError::UriWithoutStreamInf { line })?;
        self.variants.push(VariantLines {
            tag_line,
            uri_line: line,
        });
        Ok(uri.to_owned())
    }

    /// A tag line: checks it and returns its line for `m3u8-rs` (`None`: blank).
    fn tag_line(
        &mut self,
        tag: TagAt<'_>,
        value: Option<&str>,
    ) -> Result<Option<String>, PlaylistError> {
        match tag.name {
            "EXT-X-STREAM-INF" => self.stream_inf(tag, value).map(Some),
            "EXT-X-I-FRAME-STREAM-INF" => self.iframe_stream_inf(tag, value).map(Some),
            "EXT-X-MEDIA" => self.media(tag, value).map(Some),
            "EXT-X-SESSION-DATA" => session_data(tag, value).map(|()| None),
            "EXT-X-SESSION-KEY" => session_key(tag, value).map(|()| None),
            "EXT-X-CONTENT-STEERING" => {
                let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
                attributes.required_quoted("SERVER-URI")?;
                Ok(None)
            }
            _ => playlist_wide_tag(tag, value, &mut self.once),
        }
    }
}

impl MasterScan {
    fn stream_inf(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<String, PlaylistError> {
        if let Some(tag_line) = self.stream_inf_waiting_for_uri {
            return Err(PlaylistError::StreamInfWithoutUri { line: tag_line });
        }
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        check_variant_attributes(&attributes)?;
        for group in ["AUDIO", "SUBTITLES"] {
            attributes.quoted(group)?;
        }
        self.stream_inf_waiting_for_uri = Some(tag.line);
        Ok(attributes.canonical_line(STREAM_INF_ATTRIBUTES))
    }

    fn iframe_stream_inf(
        &mut self,
        tag: TagAt<'_>,
        value: Option<&str>,
    ) -> Result<String, PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        check_variant_attributes(&attributes)?;
        attributes.required_quoted("URI")?;
        self.iframe_variant_lines.push(tag.line);
        Ok(attributes.canonical_line(IFRAME_STREAM_INF_ATTRIBUTES))
    }

    fn media(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<String, PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let kind = attributes
            .one_of("TYPE", &["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"])?
            .ok_or_else(|| tag.missing("TYPE"))?;
        attributes.required_quoted("GROUP-ID")?;
        attributes.required_quoted("NAME")?;
        for name in ["LANGUAGE", "ASSOC-LANGUAGE", "CHARACTERISTICS", "CHANNELS"] {
            attributes.quoted(name)?;
        }
        for flag in ["DEFAULT", "AUTOSELECT", "FORCED"] {
            attributes.yes_no(flag)?;
        }
        let uri = attributes.quoted("URI")?;
        let mut kept = vec![
            "TYPE",
            "GROUP-ID",
            "NAME",
            "LANGUAGE",
            "ASSOC-LANGUAGE",
            "CHARACTERISTICS",
            "CHANNELS",
            "DEFAULT",
            "AUTOSELECT",
        ];
        match kind {
            "CLOSED-CAPTIONS" => {
                check_instream_id(&attributes)?;
                if uri.is_some_and(|uri| !uri.is_empty()) {
                    return Err(tag.syntax("URI must not be present when TYPE is CLOSED-CAPTIONS"));
                }
                kept.push("INSTREAM-ID");
            }
            "SUBTITLES" => {
                attributes.required_quoted("URI")?;
                kept.extend(["URI", "FORCED"]);
            }
            _ => kept.push("URI"),
        }
        self.rendition_lines.push(tag.line);
        Ok(attributes.canonical_line(&kept))
    }
}

/// The attributes `EXT-X-STREAM-INF` and `EXT-X-I-FRAME-STREAM-INF` share.
fn check_variant_attributes(attributes: &Attributes<'_>) -> Result<(), PlaylistError> {
    attributes.required_parsed("BANDWIDTH", values::decimal_integer)?;
    attributes.parsed("AVERAGE-BANDWIDTH", values::decimal_integer)?;
    attributes.quoted("CODECS")?;
    attributes.parsed("RESOLUTION", values::resolution)?;
    attributes.parsed("FRAME-RATE", values::decimal_float)?;
    attributes.quoted("VIDEO")?;
    Ok(())
}

/// `INSTREAM-ID` of closed captions: `CC1`–`CC4` or `SERVICE1`–`SERVICE63`.
fn check_instream_id(attributes: &Attributes<'_>) -> Result<(), PlaylistError> {
    let id = attributes.required_quoted("INSTREAM-ID")?;
    let valid = match (id.strip_prefix("CC"), id.strip_prefix("SERVICE")) {
        (Some(channel), _) => matches!(channel, "1" | "2" | "3" | "4"),
        (_, Some(service)) => values::decimal_integer(service)
            .is_ok_and(|n| (1..=63).contains(&n) && !service.starts_with('0')),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(attributes.tag().invalid(
            "INSTREAM-ID",
            id,
            "expected CC1 to CC4 or SERVICE1 to SERVICE63",
        ))
    }
}

/// `EXT-X-SESSION-DATA`: `DATA-ID` and exactly one of `VALUE` and `URI`.
fn session_data(tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
    let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
    attributes.required_quoted("DATA-ID")?;
    let has_value = attributes.quoted("VALUE")?.is_some();
    let has_uri = attributes.quoted("URI")?.is_some();
    match (has_value, has_uri) {
        (true, false) | (false, true) => Ok(()),
        (true, true) => Err(tag.syntax("VALUE and URI must not both be present")),
        (false, false) => Err(tag.missing("VALUE")),
    }
}

/// `EXT-X-SESSION-KEY`: like `EXT-X-KEY`, and its method cannot be `NONE`.
fn session_key(tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
    let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
    let method = attributes.required_unquoted("METHOD")?;
    if method == "NONE" {
        return Err(tag.invalid("METHOD", method, "a session key cannot be NONE"));
    }
    attributes.required_quoted("URI")?;
    attributes.parsed("IV", values::hexadecimal_sequence)?;
    Ok(())
}
