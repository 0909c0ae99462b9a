//! Builds the model's [`MasterPlaylist`] from what `m3u8-rs` parsed and what the line scan
//! recorded: variant and rendition URIs resolved (errors name their line), `CODECS` split,
//! closed-caption `NONE` turned into `None`.

use url::Url;

use super::error::PlaylistError;
use super::model::{MasterPlaylist, Rendition, RenditionKind, Resolution, StartOffset, Variant};
use super::parse::{resolve_uri, same_count};
use super::scan::ScannedMaster;

/// The model of a master playlist.
pub(crate) fn build_master(
    parsed: m3u8_rs::MasterPlaylist,
    scanned: &ScannedMaster,
    url: &Url,
) -> Result<MasterPlaylist, PlaylistError> {
    let (iframe_streams, streams): (Vec<_>, Vec<_>) = parsed
        .variants
        .into_iter()
        .partition(|variant| variant.is_i_frame);
    same_count(streams.len(), scanned.variants.len(), "EXT-X-STREAM-INF")?;
    same_count(
        iframe_streams.len(),
        scanned.iframe_variant_lines.len(),
        "EXT-X-I-FRAME-STREAM-INF",
    )?;
    same_count(
        parsed.alternatives.len(),
        scanned.rendition_lines.len(),
        "EXT-X-MEDIA",
    )?;
    let variants = streams
        .into_iter()
        .zip(&scanned.variants)
        .map(|(stream, lines)| variant(stream, url, lines.uri_line))
        .collect::<Result<_, _>>()?;
    let iframe_variants = iframe_streams
        .into_iter()
        .zip(&scanned.iframe_variant_lines)
        .map(|(stream, &line)| variant(stream, url, line))
        .collect::<Result<_, _>>()?;
    let renditions = parsed
        .alternatives
        .into_iter()
        .zip(&scanned.rendition_lines)
        .map(|(media, &line)| rendition(media, url, line))
        .collect::<Result<_, _>>()?;
    Ok(MasterPlaylist {
        url: url.clone(),
        variants,
        iframe_variants,
        renditions,
        start: parsed.start.map(start_offset),
        independent_segments: parsed.independent_segments,
    })
}

fn variant(
    stream: m3u8_rs::VariantStream,
    url: &Url,
    uri_line: usize,
) -> Result<Variant, PlaylistError> {
    Ok(Variant {
        uri: resolve_uri(url, &stream.uri, uri_line)?,
        bandwidth: stream.bandwidth,
        average_bandwidth: stream.average_bandwidth,
        codecs: stream
            .codecs
            .as_deref()
            .map(split_codecs)
            .unwrap_or_default(),
        resolution: stream.resolution.map(|r| Resolution {
            width: r.width,
            height: r.height,
        }),
        frame_rate: stream.frame_rate,
        audio_group: stream.audio,
        video_group: stream.video,
        subtitles_group: stream.subtitles,
        closed_captions_group: stream.closed_captions.and_then(closed_captions_group),
    })
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

fn closed_captions_group(group: m3u8_rs::ClosedCaptionGroupId) -> Option<String> {
    match group {
        m3u8_rs::ClosedCaptionGroupId::None => None,
        m3u8_rs::ClosedCaptionGroupId::GroupId(id) | m3u8_rs::ClosedCaptionGroupId::Other(id) => {
            Some(id)
        }
    }
}

fn rendition(
    media: m3u8_rs::AlternativeMedia,
    url: &Url,
    line: usize,
) -> Result<Rendition, PlaylistError> {
    let kind = match media.media_type {
        m3u8_rs::AlternativeMediaType::Audio => RenditionKind::Audio,
        m3u8_rs::AlternativeMediaType::Video => RenditionKind::Video,
        m3u8_rs::AlternativeMediaType::Subtitles => RenditionKind::Subtitles,
        m3u8_rs::AlternativeMediaType::ClosedCaptions => RenditionKind::ClosedCaptions,
        m3u8_rs::AlternativeMediaType::Other(other) => {
            return Err(PlaylistError::Rejected {
                message: format!("it read TYPE={other} on line {line}"),
            });
        }
    };
    Ok(Rendition {
        kind,
        group_id: media.group_id,
        name: media.name,
        uri: media
            .uri
            .map(|uri| resolve_uri(url, &uri, line))
            .transpose()?,
        language: media.language,
        assoc_language: media.assoc_language,
        default: media.default,
        autoselect: media.autoselect,
        forced: media.forced,
        instream_id: media.instream_id.map(|id| id.to_string()),
        channels: media.channels,
        characteristics: media.characteristics,
    })
}

/// `EXT-X-START` in the model's terms.
pub(crate) fn start_offset(start: m3u8_rs::Start) -> StartOffset {
    StartOffset {
        time_offset: start.time_offset,
        precise: start.precise.unwrap_or(false),
    }
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
