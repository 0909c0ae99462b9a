//! `ts2mp4`: transmuxes HLS segments (MPEG-TS or packed audio) to fragmented MP4 with
//! the `transmux` crate, so ffprobe and ffmpeg can check what the player would append.
//!
//! ```text
//! ts2mp4 --out DIR [--program N] [--place] (--playlist MEDIA.m3u8 | SEGMENT...)
//! ```
//!
//! Segments are pushed in order to one `Transmuxer` (a playlist's `EXT-X-DISCONTINUITY`
//! is passed on; `EXT-X-GAP` segments and missing files are skipped). `--place` moves a
//! segment whose media time is more than 1 s away from where the playlist puts it
//! (relative to the first segment) to the playlist's time, as the player's shell does
//! with `timestampOffset` (for streams whose timestamps jump or repeat). In `DIR`:
//! `init.mp4` (both tracks; `init-video.mp4`, `init-audio.mp4` per track), for every
//! segment N `seg-N.m4s` (its media segments) and `seg-N.mp4` (init + media: decodable
//! alone), and `all.mp4` (the first init segment, then every media segment: the whole
//! stream in one file). One JSON line per segment on stdout.

mod playlist;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use transmux::{Options, Output, Transmuxer};

struct Input {
    path: PathBuf,
    discontinuity: bool,
    /// Seconds from the playlist's start (segments given on the command line: `None`).
    start: Option<f64>,
}

struct Args {
    out: PathBuf,
    program: Option<u16>,
    place: bool,
    inputs: Vec<Input>,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: ts2mp4 --out DIR [--program N] [--place] (--playlist MEDIA.m3u8 | SEGMENT...)"
    );
    ExitCode::from(2)
}

fn parse_args() -> Result<Args, String> {
    let mut out = None;
    let mut program = None;
    let mut place = false;
    let mut inputs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--program" => {
                let value = args.next().ok_or("--program needs a number")?;
                program = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--program {value}: not a number"))?,
                );
            }
            "--place" => place = true,
            "--playlist" => {
                let path = PathBuf::from(args.next().ok_or("--playlist needs a file")?);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let segments = playlist::segments(&path, &text).ok_or_else(|| {
                    format!("{}: not a media playlist with segments", path.display())
                })?;
                let mut start = 0.0;
                for segment in segments {
                    if segment.byte_range {
                        return Err(format!("{}: byte ranges are not supported", path.display()));
                    }
                    let segment_start = start;
                    start += segment.duration;
                    if segment.gap || !segment.path.exists() {
                        eprintln!(
                            "ts2mp4: skipping {} (gap or missing)",
                            segment.path.display()
                        );
                        continue;
                    }
                    inputs.push(Input {
                        path: segment.path,
                        discontinuity: segment.discontinuity,
                        start: Some(segment_start),
                    });
                }
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => inputs.push(Input {
                path: PathBuf::from(arg),
                discontinuity: false,
                start: None,
            }),
        }
    }
    let out = out.ok_or("--out DIR is required")?;
    if inputs.is_empty() {
        return Err("no segments".into());
    }
    Ok(Args {
        out,
        program,
        place,
        inputs,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("ts2mp4: {message}");
            return usage();
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ts2mp4: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(args: &Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut transmuxer = Transmuxer::new(Options {
        program: args.program,
    });
    let mut init: Option<Vec<u8>> = None;
    let mut all = Vec::new();
    let mut failed = 0;
    // --place: the first segment's media time minus its playlist time, and the shift
    // applied now (seconds).
    let mut origin: Option<f64> = None;
    let mut shift = 0.0;
    for (index, input) in args.inputs.iter().enumerate() {
        let path = &input.path;
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let output = match transmuxer.push(&bytes, input.discontinuity) {
            Ok(output) => output,
            Err(error) => {
                println!(
                    "{{\"segment\":{},\"error\":{}}}",
                    json_string(&path.display().to_string()),
                    json_string(&error.to_string())
                );
                failed += 1;
                continue;
            }
        };
        if let Some(new) = &output.init {
            write(&args.out.join("init.mp4"), &new.combined)?;
            if let Some(video) = &new.video {
                write(&args.out.join("init-video.mp4"), video)?;
            }
            if let Some(audio) = &new.audio {
                write(&args.out.join("init-audio.mp4"), audio)?;
            }
            match &init {
                None => all.extend_from_slice(&new.combined),
                Some(_) => eprintln!(
                    "ts2mp4: {}: the track configuration changed; all.mp4 keeps the first init segment",
                    path.display()
                ),
            }
            init = Some(new.combined.clone());
        }
        let mut media = output.media();
        if let (true, Some(start), Some(media_start)) = (args.place, input.start, output.start()) {
            let origin = *origin.get_or_insert(media_start - start);
            let needed = start + origin - media_start;
            if (needed - shift).abs() > 1.0 {
                shift = needed;
            }
            let audio_rate = output.audio_info.as_ref().map_or(1, |a| a.sample_rate);
            shift_fragments(&mut media, shift, audio_rate);
        }
        all.extend_from_slice(&media);
        write(&args.out.join(format!("seg-{index:05}.m4s")), &media)?;
        if let Some(init) = &init {
            let mut alone = init.clone();
            alone.extend_from_slice(&media);
            write(&args.out.join(format!("seg-{index:05}.mp4")), &alone)?;
        }
        println!("{}", summary(path, &output));
    }
    write(&args.out.join("all.mp4"), &all)?;
    if failed > 0 {
        return Err(format!("{failed} segment(s) could not be transmuxed"));
    }
    Ok(())
}

/// Moves every fragment of `media` by `seconds` (its `tfdt`, in the track's timescale:
/// video 90 kHz, audio `audio_rate`).
fn shift_fragments(media: &mut [u8], seconds: f64, audio_rate: u32) {
    if seconds == 0.0 {
        return;
    }
    let mut pos = 0;
    while let Some(header) = media.get(pos..pos + 8) {
        let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if size < 8 {
            return;
        }
        if &header[4..8] == b"moof" {
            shift_moof(
                media.get_mut(pos + 8..pos + size).unwrap_or(&mut []),
                seconds,
                audio_rate,
            );
        }
        pos += size;
    }
}

fn shift_moof(moof: &mut [u8], seconds: f64, audio_rate: u32) {
    // moof > traf > (tfhd: track ID, tfdt: version 1 time): the writer's layout.
    let Some(traf) = find_box(moof, b"traf") else {
        return;
    };
    let traf = &mut moof[traf];
    let track = find_box(traf, b"tfhd")
        .and_then(|range| traf.get(range.start + 4..range.start + 8))
        .map(|id| u32::from_be_bytes([id[0], id[1], id[2], id[3]]));
    let rate = if track == Some(transmux::mp4::VIDEO_TRACK_ID) {
        90_000.0
    } else {
        f64::from(audio_rate)
    };
    let Some(tfdt) = find_box(traf, b"tfdt") else {
        return;
    };
    if let Some(field) = traf.get_mut(tfdt.start + 4..tfdt.start + 12) {
        let time = u64::from_be_bytes(field.try_into().unwrap_or([0; 8])) as f64;
        let moved = (time + seconds * rate).round().max(0.0) as u64;
        field.copy_from_slice(&moved.to_be_bytes());
    }
}

/// The body of the first child box of `kind` in `data`.
fn find_box(data: &[u8], kind: &[u8; 4]) -> Option<std::ops::Range<usize>> {
    let mut pos = 0;
    while let Some(header) = data.get(pos..pos + 8) {
        let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if size < 8 || pos + size > data.len() {
            return None;
        }
        if &header[4..8] == kind {
            return Some(pos + 8..pos + size);
        }
        pos += size;
    }
    None
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_range(range: Option<transmux::TimeRange>) -> String {
    range.map_or("null".into(), |r| format!("[{:.6},{:.6}]", r.start, r.end))
}

/// One JSON line about a segment's output.
fn summary(path: &Path, output: &Output) -> String {
    let warnings: Vec<String> = output
        .warnings
        .iter()
        .map(|w| json_string(&w.to_string()))
        .collect();
    let metadata: Vec<String> = output
        .metadata
        .iter()
        .map(|m| format!("{{\"pts\":{:.6},\"bytes\":{}}}", m.seconds(), m.data.len()))
        .collect();
    let optional = |text: &Option<String>| text.as_deref().map_or("null".into(), json_string);
    format!(
        "{{\"segment\":{},\"init\":{},\"codecs\":[{},{}],\"video\":{},\"audio\":{},\"video_bytes\":{},\"audio_bytes\":{},\"metadata\":[{}],\"warnings\":[{}]}}",
        json_string(&path.display().to_string()),
        output.init.is_some(),
        optional(&output.codecs.video),
        optional(&output.codecs.audio),
        json_range(output.video_range),
        json_range(output.audio_range),
        output.video.as_ref().map_or(0, Vec::len),
        output.audio.as_ref().map_or(0, Vec::len),
        metadata.join(","),
        warnings.join(","),
    )
}
