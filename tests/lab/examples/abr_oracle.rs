//! Scratch diagnostic: how good would `default` be with a perfect throughput model?
//! The history it sees is replaced by the *next* N downloads (probed on a copy of the
//! link at the last level), so its empirical distribution is the future's. Not an
//! algorithm: an upper reference for the planning part alone.

use lab::link::{LINK_RTT_S, Link};
use lab::pensieve::{ClientRules, VideoTables, sleep_for};
use lab::score::{AlgoSummary, ChunkOutcome, SessionOutcome};
use lab::trace::Trace;
use lab::video::Video;
use player_wasm::abr::{Abr, AbrContext, BandwidthEstimator, DefaultAbr, DownloadRecord};
use std::path::Path;

#[path = "abr_tune.rs"]
#[allow(dead_code)]
mod tune;

fn run(trace: &Trace, video: &Video, abr: &mut dyn Abr, future: usize) -> SessionOutcome {
    let rules = ClientRules::default();
    let tables = VideoTables::new(video);
    let mut link = Link::new(trace);
    let estimator = BandwidthEstimator::default();
    let mut chunks = Vec::new();
    let mut buffer = 0.0;
    let mut now = 0.0;
    let mut last_level = rules.start_level;
    abr.reset();
    for chunk in 0..video.chunks {
        let level = if chunk == 0 {
            rules.start_level
        } else {
            let mut probe = link;
            let mut fake = Vec::new();
            let mut t = now;
            for ahead in 0..future.min(video.chunks - chunk) {
                let bytes = video.sizes[last_level][chunk + ahead] as f64;
                let transfer = probe.download(bytes);
                fake.push(DownloadRecord {
                    level: last_level,
                    bytes,
                    media_duration_s: 4.0,
                    requested_at: t,
                    first_byte_at: t + LINK_RTT_S,
                    finished_at: t + LINK_RTT_S + transfer,
                    abandoned: false,
                });
                t += LINK_RTT_S + transfer;
            }
            fake.reverse();
            if std::env::var("MEAN").is_ok() {
                // Only the future's harmonic-mean throughput, as one record.
                let bytes: f64 = fake.iter().map(|r| r.bytes).sum();
                let time: f64 = fake.iter().map(|r| r.finished_at - r.first_byte_at).sum();
                fake = vec![DownloadRecord {
                    level: last_level,
                    bytes,
                    media_duration_s: 4.0,
                    requested_at: 0.0,
                    first_byte_at: LINK_RTT_S,
                    finished_at: LINK_RTT_S + time,
                    abandoned: false,
                }];
            }
            let ctx = AbrContext {
                now,
                levels: &tables.levels,
                max_allowed_level: video.levels() - 1,
                last_level: Some(last_level),
                buffer_s: buffer,
                max_buffer_s: rules.buffer_cap_s,
                upcoming: tables.upcoming(chunk),
                segments_remaining: Some(video.chunks - chunk),
                history: &fake,
                estimator: &estimator,
                playback_started: true,
            };
            abr.choose(&ctx).level.min(video.levels() - 1)
        };
        let bytes = video.sizes[level][chunk] as f64;
        let transfer = link.download(bytes);
        let delay = transfer + LINK_RTT_S;
        let rebuffer = (delay - buffer).max(0.0);
        buffer = (buffer - delay).max(0.0) + video.chunk_s;
        now += delay;
        let sleep = sleep_for(buffer, &rules);
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

fn main() {
    let video = Video::load_pensieve(Path::new("/work/shared/traces/pensieve-video")).unwrap();
    let mut args = std::env::args().skip(1);
    let future: usize = args.next().unwrap().parse().unwrap();
    let config = tune::parse(&args.next().unwrap_or_default());
    for (i, set) in tune::SETS.iter().enumerate() {
        let traces = Trace::load_dir(&Path::new("/work/shared/traces").join(set)).unwrap();
        let sessions: Vec<_> = traces
            .iter()
            .map(|t| run(t, &video, &mut DefaultAbr::with_config(config), future))
            .collect();
        if std::env::var("CMP").is_ok() {
            let real: Vec<_> = traces
                .iter()
                .map(|t| {
                    lab::pensieve::run(
                        t,
                        &video,
                        &mut DefaultAbr::with_config(config),
                        &ClientRules::default(),
                    )
                })
                .collect();
            let mut d: Vec<(f64, usize)> = (0..traces.len())
                .map(|i| (sessions[i].qoe_sum() - real[i].qoe_sum(), i))
                .collect();
            d.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
            let seq = |s: &SessionOutcome| {
                s.chunks
                    .iter()
                    .map(|c| char::from(b'0' + c.level as u8))
                    .collect::<String>()
            };
            for &(diff, i) in d.iter().take(6) {
                println!(
                    "{diff:7.2} {}\n   real {} reb {:.1}\n   orcl {} reb {:.1}",
                    traces[i].name,
                    seq(&real[i]),
                    real[i].rebuffer_s(),
                    seq(&sessions[i]),
                    sessions[i].rebuffer_s()
                );
            }
            let total: f64 = d.iter().map(|x| x.0).sum();
            let top: f64 = d.iter().take(10).map(|x| x.0).sum();
            println!("total {total:.1} top10 {top:.1}");
        }
        let s = AlgoSummary::from_sessions("oracle", &sessions);
        let gap = (s.qoe_per_segment - tune::MPC[i]) / (tune::OPT[i] - tune::MPC[i]) * 100.0;
        println!(
            "{set:18} {:.4} {gap:5.1}% {:.3}/{:.2}/{:.3}",
            s.qoe_per_segment, s.bitrate_mbps, s.rebuffer_s_per_trace, s.switch_mbps_per_segment
        );
    }
}
