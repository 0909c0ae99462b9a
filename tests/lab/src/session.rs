//! Runs the real engine over Pensieve's simulated link: the lab proper.
//!
//! The engine plays an HLS rendition of the lab's video — a master playlist with one
//! media playlist per level whose segments are byte ranges of one file per level, so the
//! engine knows every segment's exact size, as Pensieve's MPC does — inside the virtual
//! browser of `player_wasm::sim`. Playlists arrive instantly; segments cross the
//! [`PensieveNetwork`], which charges the 80 ms round trip and advances the trace only
//! while bytes flow or the client idles, exactly as `fixed_env.py` does. The engine is
//! configured as Pensieve's client: start at level 1, a 60 s buffer cap rechecked in
//! 500 ms steps, no abandonment, no back-buffer eviction.

use crate::link::{LINK_RTT_S, Link};
use crate::pensieve::ClientRules;
use crate::score::{ChunkOutcome, SessionOutcome};
use crate::trace::Trace;
use crate::video::Video;
use player_wasm::abr::AbrKind;
use player_wasm::engine::{Engine, EngineConfig, RequestKind, RetryPolicy, TrackId};
use player_wasm::hls::ByteRange;
use player_wasm::sim::{Network, Origin, Resource, TransferPlan, VirtualPlayer};

/// Base URL of the lab's synthetic stream.
pub const LAB_BASE: &str = "https://lab.invalid/video/";

/// Pensieve's link as a network for the virtual browser.
#[derive(Debug, Clone)]
pub struct PensieveNetwork<'t> {
    link: Link<'t>,
    /// Wall time at which the link last finished a transfer (or started).
    idle_since: f64,
    /// The link before the transfer in progress, to rewind on abort.
    before_transfer: Option<(Link<'t>, f64)>,
}

impl<'t> PensieveNetwork<'t> {
    /// A network at the start of `trace`.
    pub fn new(trace: &'t Trace) -> Self {
        PensieveNetwork {
            link: Link::new(trace),
            idle_since: 0.0,
            before_transfer: None,
        }
    }
}

impl Network for PensieveNetwork<'_> {
    fn transfer(&mut self, now: f64, bytes: u64, kind: &RequestKind) -> TransferPlan {
        if kind.is_playlist() {
            return TransferPlan {
                first_byte_at: now,
                progress: Vec::new(),
                finished_at: now,
            };
        }
        // The trace moves on while the client sleeps between transfers.
        if now > self.idle_since {
            self.link.idle(now - self.idle_since);
        }
        self.before_transfer = Some((self.link, now));
        let first_byte_at = now + LINK_RTT_S;
        let mut progress = Vec::new();
        let transfer = self
            .link
            .download_with_progress(bytes as f64, |elapsed, loaded| {
                progress.push((first_byte_at + elapsed, loaded as u64));
            });
        let finished_at = first_byte_at + transfer;
        progress.retain(|(at, loaded)| *at < finished_at && *loaded < bytes);
        self.idle_since = finished_at;
        TransferPlan {
            first_byte_at,
            progress,
            finished_at,
        }
    }

    fn abort(&mut self, now: f64, _plan: &TransferPlan) {
        if let Some((link, started)) = self.before_transfer.take() {
            self.link = link;
            let transferred = now - started - LINK_RTT_S;
            if transferred > 0.0 {
                self.link.idle(transferred);
            }
            self.idle_since = now;
        }
    }
}

/// Serves the lab's video as HLS: `master.m3u8`, `level<N>.m3u8`, `level<N>.mp4`.
#[derive(Debug, Clone)]
pub struct VideoOrigin {
    master: String,
    playlists: Vec<String>,
    file_sizes: Vec<u64>,
}

impl VideoOrigin {
    /// The HLS rendition of `video`.
    pub fn new(video: &Video) -> Self {
        let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:4\n");
        let mut playlists = Vec::new();
        let mut file_sizes = Vec::new();
        for level in 0..video.levels() {
            let bandwidth = (video.bitrates_kbps[level] * 1000.0).round() as u64;
            master.push_str(&format!(
                "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth}\nlevel{level}.m3u8\n"
            ));
            let mut playlist = format!(
                "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:{}\n#EXT-X-PLAYLIST-TYPE:VOD\n",
                video.chunk_s.ceil() as u64
            );
            let mut offset = 0u64;
            for chunk in 0..video.chunks {
                let size = video.sizes[level][chunk];
                playlist.push_str(&format!(
                    "#EXTINF:{:.3},\n#EXT-X-BYTERANGE:{size}@{offset}\nlevel{level}.mp4\n",
                    video.chunk_s
                ));
                offset += size;
            }
            playlist.push_str("#EXT-X-ENDLIST\n");
            playlists.push(playlist);
            file_sizes.push(offset);
        }
        VideoOrigin {
            master,
            playlists,
            file_sizes,
        }
    }

    /// The master playlist's URL.
    pub fn master_url() -> String {
        format!("{LAB_BASE}master.m3u8")
    }
}

impl Origin for VideoOrigin {
    fn get(&mut self, _now: f64, url: &str, range: Option<ByteRange>) -> Resource {
        let not_found = || {
            Resource::Fail(player_wasm::engine::FetchFailure {
                status: Some(404),
                message: format!("{url} is not part of the lab's stream"),
            })
        };
        let Some(name) = url.strip_prefix(LAB_BASE) else {
            return not_found();
        };
        if name == "master.m3u8" {
            return Resource::Text(self.master.clone());
        }
        let level_of = |suffix: &str| {
            name.strip_prefix("level")
                .and_then(|rest| rest.strip_suffix(suffix))
                .and_then(|digits| digits.parse::<usize>().ok())
        };
        if let Some(level) = level_of(".m3u8").filter(|level| *level < self.playlists.len()) {
            return Resource::Text(self.playlists[level].clone());
        }
        if let Some(level) = level_of(".mp4").filter(|level| *level < self.file_sizes.len()) {
            let size = self.file_sizes[level];
            return match range {
                Some(range) if range.end() <= size => Resource::Bytes(range.length),
                Some(_) => not_found(),
                None => Resource::Bytes(size),
            };
        }
        not_found()
    }
}

/// The engine configuration that reproduces Pensieve's client.
pub fn pensieve_engine_config(abr: AbrKind, video: &Video, rules: &ClientRules) -> EngineConfig {
    // Pensieve's client waits for a chunk however long it takes: no timeout.
    let patient = RetryPolicy {
        timeout_s: 1e9,
        ..RetryPolicy::default()
    };
    EngineConfig {
        playlist_retry: patient,
        segment_retry: patient,
        abr,
        start_level: Some(rules.start_level),
        max_buffer_s: rules.buffer_cap_s,
        buffer_full_step_s: rules.sleep_step_s,
        back_buffer_s: None,
        abandon_slow_downloads: false,
        autoplay: true,
        abr_lookahead_segments: video.chunks,
        ..EngineConfig::default()
    }
}

/// What went wrong running the engine in the lab.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("trace {trace}: the engine stopped after {appended} of {expected} segments")]
    Incomplete {
        trace: String,
        appended: usize,
        expected: usize,
    },
    #[error("trace {trace}: the engine broke a rule of the browser: {details}")]
    Violation { trace: String, details: String },
}

/// Plays `video` over `trace` with the engine running `abr`.
pub fn run(
    trace: &Trace,
    video: &Video,
    abr: AbrKind,
    rules: &ClientRules,
) -> Result<SessionOutcome, SessionError> {
    let engine = Engine::new(pensieve_engine_config(abr, video, rules))
        .expect("the lab's engine configuration is valid");
    let mut player =
        VirtualPlayer::new(engine, VideoOrigin::new(video), PensieveNetwork::new(trace));
    player.load(&VideoOrigin::master_url());
    // Generous: every chunk at the lowest rate of the worst trace still ends well before.
    player.run_to_end(1e7);
    if !player.violations.is_empty() || player.accounting_mismatches > 0 {
        return Err(SessionError::Violation {
            trace: trace.name.clone(),
            details: format!(
                "{:?} ({} accounting mismatches)",
                player.violations, player.accounting_mismatches
            ),
        });
    }
    let segments: Vec<_> = player
        .appends
        .iter()
        .filter(|append| append.track == TrackId::Main && append.duration > 0.0)
        .collect();
    if segments.len() != video.chunks {
        return Err(SessionError::Incomplete {
            trace: trace.name.clone(),
            appended: segments.len(),
            expected: video.chunks,
        });
    }
    let mut chunks = Vec::with_capacity(segments.len());
    let mut previous_level = rules.start_level;
    let mut stalled_before = 0.0;
    for append in segments {
        let level = append.level.unwrap_or(previous_level);
        chunks.push(ChunkOutcome {
            level,
            mbps: video.mbps(level),
            previous_mbps: video.mbps(previous_level),
            rebuffer_s: append.stalled_before_s - stalled_before,
            buffer_after_s: f64::NAN,
        });
        stalled_before = append.stalled_before_s;
        previous_level = level;
    }
    Ok(SessionOutcome {
        trace: trace.name.clone(),
        chunks,
    })
}
