//! Pensieve's client loop over the simulated link, without the engine.
//!
//! This is `test/*.py` of Pensieve in Rust: fetch chunk after chunk, the first at the
//! start level, each next one at the level the algorithm picks from the buffer left after
//! the previous download (and after sleeping off any buffer above 60 s in 500 ms steps).
//! The lab's engine-driven run must agree with it to the bit; it also serves as a fast
//! way to evaluate an algorithm in isolation.

use crate::link::{LINK_RTT_S, Link};
use crate::score::{ChunkOutcome, SessionOutcome};
use crate::trace::Trace;
use crate::video::Video;
use player_wasm::abr::{
    Abr, AbrContext, BandwidthEstimator, DownloadRecord, LevelInfo, Upcoming, final_stretch_bps,
};

/// Rules of the simulated client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientRules {
    /// Buffer above which the client sleeps, in seconds.
    pub buffer_cap_s: f64,
    /// Sleeps are whole multiples of this, in seconds.
    pub sleep_step_s: f64,
    /// Level of the first chunk.
    pub start_level: usize,
}

impl Default for ClientRules {
    fn default() -> Self {
        ClientRules {
            buffer_cap_s: 60.0,
            sleep_step_s: 0.5,
            start_level: 1,
        }
    }
}

/// Sleep needed to bring `buffer_s` under the cap, in whole steps (Pensieve's rule).
pub fn sleep_for(buffer_s: f64, rules: &ClientRules) -> f64 {
    if buffer_s > rules.buffer_cap_s {
        // Tolerate float noise so that 60 s + 1e-12 does not cost a whole step.
        let steps = ((buffer_s - rules.buffer_cap_s) / rules.sleep_step_s - 1e-9).ceil();
        steps.max(1.0) * rules.sleep_step_s
    } else {
        0.0
    }
}

/// The ladder and flat size table the ABR context borrows.
pub struct VideoTables {
    pub levels: Vec<LevelInfo>,
    pub sizes_flat: Vec<f64>,
    pub durations: Vec<f64>,
}

impl VideoTables {
    /// Tables for `video`.
    pub fn new(video: &Video) -> Self {
        let levels = video
            .bitrates_kbps
            .iter()
            .map(|kbps| LevelInfo {
                bitrate_bps: kbps * 1000.0,
            })
            .collect();
        let mut sizes_flat = Vec::with_capacity(video.chunks * video.levels());
        for chunk in 0..video.chunks {
            for level in 0..video.levels() {
                sizes_flat.push(video.sizes[level][chunk] as f64);
            }
        }
        VideoTables {
            levels,
            sizes_flat,
            durations: vec![video.chunk_s; video.chunks],
        }
    }

    /// Upcoming segments from `chunk` on.
    pub fn upcoming(&self, chunk: usize) -> Upcoming<'_> {
        let levels = self.levels.len();
        Upcoming {
            durations_s: &self.durations[chunk..],
            sizes_bytes: &self.sizes_flat[chunk * levels..],
            levels,
            sizes_exact: true,
        }
    }
}

/// Plays `video` over `trace` with `abr` choosing every chunk after the first.
pub fn run(trace: &Trace, video: &Video, abr: &mut dyn Abr, rules: &ClientRules) -> SessionOutcome {
    let tables = VideoTables::new(video);
    let mut link = Link::new(trace);
    let mut estimator = BandwidthEstimator::default();
    let mut history: Vec<DownloadRecord> = Vec::with_capacity(video.chunks);
    let mut chunks = Vec::with_capacity(video.chunks);
    let mut buffer = 0.0;
    let mut now = 0.0;
    let mut last_level = rules.start_level;
    abr.reset();
    for chunk in 0..video.chunks {
        let mut idle_rebuffer = 0.0;
        let level = if chunk == 0 {
            rules.start_level
        } else {
            let ctx = AbrContext {
                now,
                levels: &tables.levels,
                max_allowed_level: video.levels() - 1,
                last_level: Some(last_level),
                buffer_s: buffer,
                max_buffer_s: rules.buffer_cap_s,
                upcoming: tables.upcoming(chunk),
                segments_remaining: Some(video.chunks - chunk),
                history: &history,
                estimator: &estimator,
                playback_started: true,
            };
            let decision = abr.choose(&ctx);
            if decision.delay_s > 0.0 {
                idle_rebuffer = (decision.delay_s - buffer).max(0.0);
                buffer = (buffer - decision.delay_s).max(0.0);
                link.idle(decision.delay_s);
                now += decision.delay_s;
            }
            decision.level.min(video.levels() - 1)
        };
        let bytes = video.sizes[level][chunk] as f64;
        let requested_at = now;
        let first_byte_at = now + LINK_RTT_S;
        let mut progress = Vec::new();
        let transfer = link.download_with_progress(bytes, |elapsed, loaded| {
            // Whole bytes, as the browser reports them.
            progress.push((first_byte_at + elapsed, loaded.trunc()));
        });
        // As the engine sees it: reports strictly before the end, of partial bodies.
        progress.retain(|(at, loaded)| *at < first_byte_at + transfer && *loaded < bytes);
        let delay = transfer + LINK_RTT_S;
        let rebuffer = (delay - buffer).max(0.0) + idle_rebuffer;
        buffer = (buffer - delay).max(0.0) + video.chunk_s;
        now += delay;
        history.push(DownloadRecord {
            level,
            bytes,
            media_duration_s: video.chunk_s,
            requested_at,
            first_byte_at: requested_at + LINK_RTT_S,
            finished_at: now,
            abandoned: false,
            final_bps: final_stretch_bps(first_byte_at + transfer, bytes, &progress),
        });
        estimator.sample(bytes, transfer);
        estimator.sample_ttfb(LINK_RTT_S);
        let sleep = sleep_for(buffer, rules);
        if sleep > 0.0 {
            buffer -= sleep;
            link.idle(sleep);
            now += sleep;
        }
        chunks.push(ChunkOutcome {
            level,
            mbps: video.mbps(level),
            previous_mbps: video.mbps(last_level),
            rebuffer_s: rebuffer,
            buffer_after_s: buffer,
        });
        last_level = level;
    }
    SessionOutcome {
        trace: trace.name.clone(),
        chunks,
    }
}

/// Plays a fixed level sequence (one level per chunk) through the simulator.
pub fn replay(
    trace: &Trace,
    video: &Video,
    levels: &[usize],
    rules: &ClientRules,
) -> SessionOutcome {
    #[derive(Debug)]
    struct Scripted<'l> {
        levels: &'l [usize],
        next: usize,
    }
    impl Abr for Scripted<'_> {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn choose(&mut self, _ctx: &AbrContext<'_>) -> player_wasm::abr::Decision {
            self.next += 1;
            let level = self.levels.get(self.next).copied().unwrap_or(0);
            player_wasm::abr::Decision::now(level, player_wasm::abr::SwitchReason::Manual)
        }
        fn reset(&mut self) {
            self.next = 0;
        }
    }
    let rules = ClientRules {
        start_level: levels.first().copied().unwrap_or(rules.start_level),
        ..*rules
    };
    run(trace, video, &mut Scripted { levels, next: 0 }, &rules)
}
