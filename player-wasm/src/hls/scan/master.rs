//! The scan of a master playlist into the model: each `EXT-X-STREAM-INF` paired with its
//! URI line, `EXT-X-I-FRAME-STREAM-INF` and `EXT-X-MEDIA` read, URIs resolved (errors name
//! their line), `CODECS` split; session and steering tags checked and then left out (the
//! model does not use them).

use crate::url::Url;

use super::{Body, LineScan, PlaylistWide, playlist_wide_tag};
use crate::hls::attributes::{AttributeValue, Attributes, TagAt};
use crate::hls::error::PlaylistError;
use crate::hls::model::{MasterPlaylist, Rendition, RenditionKind, Resolution, Variant};
use crate::hls::parse::resolve_uri;
use crate::hls::values;

/// Scans a master playlist into the model; URIs are resolved against `url`.
pub(super) fn scan_master(body: &Body<'_>, url: &Url) -> Result<MasterPlaylist, PlaylistError> {
    let mut scan = MasterScan {
        url,
        wide: PlaylistWide::default(),
        variants: Vec::new(),
        iframe_variants: Vec::new(),
        renditions: Vec::new(),
        waiting_for_uri: None,
    };
    body.walk(&mut scan)?;
    if let Some((tag_line, _)) = scan.waiting_for_uri {
        return Err(PlaylistError::StreamInfWithoutUri { line: tag_line });
    }
    Ok(MasterPlaylist {
        url: url.clone(),
        variants: scan.variants,
        iframe_variants: scan.iframe_variants,
        renditions: scan.renditions,
        start: scan.wide.start,
        independent_segments: scan.wide.independent_segments,
    })
}

struct MasterScan<'u> {
    url: &'u Url,
    wide: PlaylistWide,
    variants: Vec<Variant>,
    iframe_variants: Vec<Variant>,
    renditions: Vec<Rendition>,
    /// An `EXT-X-STREAM-INF` (its line and what it said) waiting for its URI line.
    waiting_for_uri: Option<(usize, VariantAttributes)>,
}

/// A variant's attributes before its URI is known.
#[derive(Debug)]
struct VariantAttributes {
    bandwidth: u64,
    average_bandwidth: Option<u64>,
    codecs: Vec<String>,
    resolution: Option<Resolution>,
    frame_rate: Option<f64>,
    audio_group: Option<String>,
    video_group: Option<String>,
    subtitles_group: Option<String>,
    closed_captions_group: Option<String>,
}

impl VariantAttributes {
    fn with_uri(self, uri: Url) -> Variant {
        Variant {
            uri,
            bandwidth: self.bandwidth,
            average_bandwidth: self.average_bandwidth,
            codecs: self.codecs,
            resolution: self.resolution,
            frame_rate: self.frame_rate,
            audio_group: self.audio_group,
            video_group: self.video_group,
            subtitles_group: self.subtitles_group,
            closed_captions_group: self.closed_captions_group,
        }
    }
}

impl LineScan for MasterScan<'_> {
    /// A URI line: the media playlist of the waiting `EXT-X-STREAM-INF`.
    fn uri_line(&mut self, line: usize, uri: &str) -> Result<(), PlaylistError> {
        let (_, attributes) = self
            .waiting_for_uri
            .take()
            .ok_or(PlaylistError::UriWithoutStreamInf { line })?;
        let uri = resolve_uri(self.url, uri, line)?;
        self.variants.push(attributes.with_uri(uri));
        Ok(())
    }

    fn tag_line(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        match tag.name {
            "EXT-X-STREAM-INF" => self.stream_inf(tag, value),
            "EXT-X-I-FRAME-STREAM-INF" => self.iframe_stream_inf(tag, value),
            "EXT-X-MEDIA" => self.media(tag, value),
            "EXT-X-SESSION-DATA" => session_data(tag, value),
            "EXT-X-SESSION-KEY" => session_key(tag, value),
            "EXT-X-CONTENT-STEERING" => {
                let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
                attributes.required_quoted("SERVER-URI")?;
                Ok(())
            }
            _ => playlist_wide_tag(tag, value, &mut self.wide),
        }
    }
}

impl MasterScan<'_> {
    fn stream_inf(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        if let Some((tag_line, _)) = self.waiting_for_uri {
            return Err(PlaylistError::StreamInfWithoutUri { line: tag_line });
        }
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let mut variant = variant_attributes(&attributes)?;
        variant.frame_rate = attributes.parsed("FRAME-RATE", values::decimal_float)?;
        variant.audio_group = non_empty(attributes.quoted("AUDIO")?);
        variant.subtitles_group = non_empty(attributes.quoted("SUBTITLES")?);
        variant.closed_captions_group = closed_captions_group(&attributes);
        self.waiting_for_uri = Some((tag.line, variant));
        Ok(())
    }

    fn iframe_stream_inf(
        &mut self,
        tag: TagAt<'_>,
        value: Option<&str>,
    ) -> Result<(), PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let variant = variant_attributes(&attributes)?;
        attributes.parsed("FRAME-RATE", values::decimal_float)?;
        let uri = resolve_uri(self.url, attributes.required_quoted("URI")?, tag.line)?;
        self.iframe_variants.push(variant.with_uri(uri));
        Ok(())
    }

    fn media(&mut self, tag: TagAt<'_>, value: Option<&str>) -> Result<(), PlaylistError> {
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        let kind = match attributes
            .one_of("TYPE", &["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"])?
            .ok_or_else(|| tag.missing("TYPE"))?
        {
            "AUDIO" => RenditionKind::Audio,
            "VIDEO" => RenditionKind::Video,
            "SUBTITLES" => RenditionKind::Subtitles,
            _ => RenditionKind::ClosedCaptions,
        };
        let group_id = attributes.required_quoted("GROUP-ID")?.to_owned();
        let name = attributes.required_quoted("NAME")?.to_owned();
        let uri = non_empty(attributes.quoted("URI")?);
        let mut instream_id = None;
        let mut forced = attributes.yes_no("FORCED")?;
        match kind {
            RenditionKind::ClosedCaptions => {
                instream_id = Some(check_instream_id(&attributes)?.to_owned());
                if uri.is_some() {
                    return Err(tag.syntax("URI must not be present when TYPE is CLOSED-CAPTIONS"));
                }
            }
            RenditionKind::Subtitles => {
                attributes.required_quoted("URI")?;
            }
            _ => {}
        }
        if kind != RenditionKind::Subtitles {
            // FORCED only means something for subtitles.
            forced = false;
        }
        let uri = uri
            .map(|uri| resolve_uri(self.url, &uri, tag.line))
            .transpose()?;
        self.renditions.push(Rendition {
            kind,
            group_id,
            name,
            uri,
            language: non_empty(attributes.quoted("LANGUAGE")?),
            assoc_language: non_empty(attributes.quoted("ASSOC-LANGUAGE")?),
            default: attributes.yes_no("DEFAULT")?,
            autoselect: attributes.yes_no("AUTOSELECT")?,
            forced,
            instream_id,
            channels: non_empty(attributes.quoted("CHANNELS")?),
            characteristics: non_empty(attributes.quoted("CHARACTERISTICS")?),
        });
        Ok(())
    }
}

/// A quoted attribute's value, with an empty string read as absent.
fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|text| !text.is_empty()).map(str::to_owned)
}

/// `CLOSED-CAPTIONS`: a quoted group id, or `NONE` (no captions) unquoted. Another unquoted
/// value is taken as a group id.
fn closed_captions_group(attributes: &Attributes<'_>) -> Option<String> {
    match attributes.get("CLOSED-CAPTIONS")? {
        AttributeValue::Unquoted("NONE") => None,
        AttributeValue::Quoted(id) | AttributeValue::Unquoted(id) => non_empty(Some(id)),
    }
}

/// `"avc1.64001f, mp4a.40.2"` → `["avc1.64001f", "mp4a.40.2"]`.
pub(crate) fn split_codecs(codecs: &str) -> Vec<String> {
    codecs
        .split(',')
        .map(str::trim)
        .filter(|codec| !codec.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The attributes `EXT-X-STREAM-INF` and `EXT-X-I-FRAME-STREAM-INF` share.
fn variant_attributes(attributes: &Attributes<'_>) -> Result<VariantAttributes, PlaylistError> {
    Ok(VariantAttributes {
        bandwidth: attributes.required_parsed("BANDWIDTH", values::decimal_integer)?,
        average_bandwidth: attributes.parsed("AVERAGE-BANDWIDTH", values::decimal_integer)?,
        codecs: attributes
            .quoted("CODECS")?
            .map(split_codecs)
            .unwrap_or_default(),
        resolution: attributes
            .parsed("RESOLUTION", values::resolution)?
            .map(|(width, height)| Resolution { width, height }),
        frame_rate: None,
        audio_group: None,
        video_group: non_empty(attributes.quoted("VIDEO")?),
        subtitles_group: None,
        closed_captions_group: None,
    })
}

/// `INSTREAM-ID` of closed captions: `CC1`–`CC4` or `SERVICE1`–`SERVICE63`.
fn check_instream_id<'a>(attributes: &Attributes<'a>) -> Result<&'a str, PlaylistError> {
    let id = attributes.required_quoted("INSTREAM-ID")?;
    let valid = match (id.strip_prefix("CC"), id.strip_prefix("SERVICE")) {
        (Some(channel), _) => matches!(channel, "1" | "2" | "3" | "4"),
        (_, Some(service)) => values::decimal_integer(service)
            .is_ok_and(|n| (1..=63).contains(&n) && !service.starts_with('0')),
        _ => false,
    };
    if valid {
        Ok(id)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_are_split_and_trimmed() {
        assert_eq!(
            split_codecs("avc1.64001f, mp4a.40.2"),
            ["avc1.64001f", "mp4a.40.2"]
        );
        assert_eq!(split_codecs(" hvc1.2.4.L123.B0 ,,"), ["hvc1.2.4.L123.B0"]);
        assert!(split_codecs("").is_empty());
    }
}
