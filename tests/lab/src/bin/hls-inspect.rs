//! `hls-inspect FILE...`: parses each playlist with the player's HLS model and prints one
//! JSON line per file, either a summary of what the model holds or the error (naming the
//! line and tag at fault). Relative URIs resolve against the file's `file://` URL.
//!
//! Every file is reported, readable or not; the exit status is 0 once all were handled
//! (non-zero only for usage errors).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Parser;
use player_wasm::hls::{MasterPlaylist, MediaPlaylist, Playlist, RenditionKind, parse_playlist};
use player_wasm::url::Url;
use serde_json::{Value, json};

/// Parse HLS playlists and print one JSON line per file.
#[derive(Debug, Parser)]
#[command(name = "hls-inspect", version)]
struct Args {
    /// Playlist files (master or media).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn main() {
    let args = Args::parse();
    for file in &args.files {
        println!("{}", inspect(file));
    }
}

/// The JSON line for one file.
fn inspect(file: &Path) -> Value {
    let name = file.display().to_string();
    match load(file) {
        Ok((text, url)) => match parse_playlist(&text, &url) {
            Ok(playlist) => summary(&name, &playlist),
            Err(error) => json!({
                "file": name,
                "ok": false,
                "error": error.to_string(),
                "line": error.line(),
            }),
        },
        Err(error) => json!({ "file": name, "ok": false, "error": error }),
    }
}

/// The file's text and `file://` URL.
fn load(file: &Path) -> Result<(String, Url), String> {
    let bytes = std::fs::read(file).map_err(|error| format!("cannot read the file: {error}"))?;
    let text = String::from_utf8(bytes).map_err(|error| {
        format!(
            "not UTF-8 text: invalid byte sequence at byte {}",
            error.utf8_error().valid_up_to()
        )
    })?;
    let absolute =
        std::fs::canonicalize(file).map_err(|error| format!("cannot resolve the path: {error}"))?;
    let url = Url::from_file_path(&absolute).map_err(|error| {
        format!(
            "cannot make a file:// URL of {}: {error}",
            absolute.display()
        )
    })?;
    Ok((text, url))
}

fn summary(name: &str, playlist: &Playlist) -> Value {
    match playlist {
        Playlist::Master(master) => master_summary(name, master),
        Playlist::Media(media) => media_summary(name, media),
    }
}

fn master_summary(name: &str, master: &MasterPlaylist) -> Value {
    let codecs: BTreeSet<&str> = master
        .variants
        .iter()
        .chain(&master.iframe_variants)
        .flat_map(|variant| variant.codecs.iter().map(String::as_str))
        .collect();
    let resolutions: BTreeSet<String> = master
        .variants
        .iter()
        .filter_map(|variant| variant.resolution)
        .map(|r| format!("{}x{}", r.width, r.height))
        .collect();
    let bandwidths: Vec<u64> = master.variants.iter().map(|v| v.bandwidth).collect();
    let count = |kind: RenditionKind| master.renditions.iter().filter(|r| r.kind == kind).count();
    json!({
        "file": name,
        "ok": true,
        "kind": "master",
        "variants": master.variants.len(),
        "segments": 0,
        "live": false,
        "iframe_variants": master.iframe_variants.len(),
        "renditions": master.renditions.len(),
        "audio_renditions": count(RenditionKind::Audio),
        "video_renditions": count(RenditionKind::Video),
        "subtitle_renditions": count(RenditionKind::Subtitles),
        "closed_caption_renditions": count(RenditionKind::ClosedCaptions),
        "min_bandwidth": bandwidths.iter().min(),
        "max_bandwidth": bandwidths.iter().max(),
        "codecs": codecs,
        "resolutions": resolutions,
        "independent_segments": master.independent_segments,
        "start_offset": master.start.map(|start| start.time_offset),
    })
}

fn media_summary(name: &str, media: &MediaPlaylist) -> Value {
    let count = |keep: fn(&player_wasm::hls::Segment) -> bool| {
        media
            .segments
            .iter()
            .filter(|segment| keep(segment))
            .count()
    };
    let init_uris: BTreeSet<&str> = media
        .segments
        .iter()
        .filter_map(|segment| segment.init.as_ref())
        .map(|init| init.uri.as_str())
        .collect();
    json!({
        "file": name,
        "ok": true,
        "kind": "media",
        "variants": 0,
        "segments": media.segments.len(),
        "live": media.is_live(),
        "duration": media.duration(),
        "target_duration": media.target_duration,
        "media_sequence": media.media_sequence,
        "discontinuity_sequence": media.discontinuity_sequence,
        "playlist_type": media.playlist_type,
        "iframes_only": media.iframes_only,
        "byte_ranges": count(|segment| segment.byte_range.is_some()),
        "gaps": count(|segment| segment.gap),
        "discontinuities": count(|segment| segment.discontinuity),
        "encrypted": count(|segment| segment.key.is_some()),
        "with_program_date_time": count(|segment| segment.program_date_time_ms.is_some()),
        "has_init": !init_uris.is_empty(),
        "init_segments": init_uris.len(),
        "longest_segment": media.segments.iter().map(|s| s.duration).fold(0.0, f64::max),
        "start_offset": media.start.map(|start| start.time_offset),
    })
}
