//! Scratch: where `default` loses to the optimum (rebuffer and buffer by chunk index,
//! per-trace gaps). `cargo run --release -q -p lab --example abr_diag -- "config"`.

use lab::pensieve::{ClientRules, replay, run};
use lab::score::SessionOutcome;
use lab::trace::Trace;
use lab::video::Video;
use player_wasm::abr::{DefaultAbr, RobustMpc};
use std::collections::HashMap;
use std::path::Path;

#[path = "abr_tune.rs"]
#[allow(dead_code)]
mod tune;

fn main() {
    let video = Video::load_pensieve(Path::new("/work/shared/traces/pensieve-video")).unwrap();
    let spec = std::env::args().nth(1).unwrap_or_default();
    let config = tune::parse(&spec);
    let buckets = [(1, 4), (4, 10), (10, 20), (20, 35), (35, 48)];
    for set in tune::SETS {
        let traces = Trace::load_dir(&Path::new("/work/shared/traces").join(set)).unwrap();
        let opt: HashMap<String, Vec<usize>> =
            std::fs::read_to_string(format!("/tmp/abr_opt/{set}.tsv"))
                .unwrap()
                .lines()
                .map(|l| {
                    let (n, lv) = l.split_once('\t').unwrap();
                    (
                        n.to_string(),
                        lv.split(' ').map(|x| x.parse().unwrap()).collect(),
                    )
                })
                .collect();
        let rules = ClientRules::default();
        let mut rows: Vec<(&str, Vec<SessionOutcome>)> =
            vec![("mpc", vec![]), ("default", vec![]), ("opt", vec![])];
        for trace in &traces {
            rows[0]
                .1
                .push(run(trace, &video, &mut RobustMpc::default(), &rules));
            rows[1].1.push(run(
                trace,
                &video,
                &mut DefaultAbr::with_config(config),
                &rules,
            ));
            rows[2]
                .1
                .push(replay(trace, &video, &opt[&trace.name], &rules));
        }
        if std::env::var("EXCESS").is_ok() {
            let reb = |s: &SessionOutcome| s.scored().iter().map(|c| c.rebuffer_s).sum::<f64>();
            let mut v: Vec<(f64, f64, f64, &str)> = traces
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    (
                        reb(&rows[1].1[i]) - reb(&rows[2].1[i]),
                        reb(&rows[0].1[i]),
                        reb(&rows[2].1[i]),
                        t.name.as_str(),
                    )
                })
                .collect();
            v.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
            let total: f64 = v.iter().map(|x| x.0).sum();
            println!(
                "== {set} total excess {:.1} s over {} traces",
                total,
                v.len()
            );
            for x in v.iter().take(8) {
                println!(
                    "  excess {:6.2} mpc {:6.2} opt {:6.2} {}",
                    x.0, x.1, x.2, x.3
                );
            }
            continue;
        }
        if std::env::var("STALLS").is_ok() {
            // Rebuffer of default split by the surprise ratio (throughput of the stalled
            // download over the previous one) and by buffer before.
            let mut by_ratio = [0.0f64; 5];
            let mut by_buf = [0.0f64; 5];
            for (i, trace) in traces.iter().enumerate() {
                let s = &rows[1].1[i];
                let _ = trace;
                for c in 2..48 {
                    let o = &s.chunks[c];
                    if o.rebuffer_s <= 0.0 {
                        continue;
                    }
                    let prev = &s.chunks[c - 1];
                    let buf_before = prev.buffer_after_s;
                    let dl_now = buf_before + o.rebuffer_s; // download time of chunk c
                    let size_now = video.sizes[o.level][c] as f64;
                    let prev_buf = s.chunks[c - 2].buffer_after_s;
                    let dl_prev =
                        (prev_buf - prev.buffer_after_s + video.chunk_s + prev.rebuffer_s)
                            .max(0.01);
                    let size_prev = video.sizes[prev.level][c - 1] as f64;
                    let ratio = (size_now / dl_now) / (size_prev / dl_prev);
                    let rb = if ratio < 0.1 {
                        0
                    } else if ratio < 0.3 {
                        1
                    } else if ratio < 0.6 {
                        2
                    } else if ratio < 0.9 {
                        3
                    } else {
                        4
                    };
                    by_ratio[rb] += o.rebuffer_s;
                    let bb = if buf_before < 4.0 {
                        0
                    } else if buf_before < 8.0 {
                        1
                    } else if buf_before < 16.0 {
                        2
                    } else if buf_before < 30.0 {
                        3
                    } else {
                        4
                    };
                    by_buf[bb] += o.rebuffer_s;
                }
            }
            let n = traces.len() as f64;
            println!(
                "{set:18} stall by ratio <.1 <.3 <.6 <.9 >.9: {:?}",
                by_ratio.map(|x| (x / n * 100.0).round() / 100.0)
            );
            println!(
                "{set:18} stall by buffer <4 <8 <16 <30 >30: {:?}",
                by_buf.map(|x| (x / n * 100.0).round() / 100.0)
            );
            continue;
        }
        if std::env::var("ENDGAME").is_ok() {
            println!("== {set}");
            let seq = |s: &SessionOutcome| {
                s.chunks[30..]
                    .iter()
                    .map(|c| char::from(b'0' + c.level as u8))
                    .collect::<String>()
            };
            let bufs = |s: &SessionOutcome| {
                s.chunks[30..]
                    .iter()
                    .step_by(3)
                    .map(|c| format!("{:2.0}", c.buffer_after_s))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            for i in 0..traces.len().min(30) {
                println!(
                    "def {} [{}] | opt {} [{}]",
                    seq(&rows[1].1[i]),
                    bufs(&rows[1].1[i]),
                    seq(&rows[2].1[i]),
                    bufs(&rows[2].1[i])
                );
            }
            continue;
        }
        if std::env::var("LEVELS").is_ok() {
            println!("== {set}");
            for (i, t) in traces.iter().enumerate().take(40) {
                let seq = |s: &SessionOutcome| {
                    s.chunks
                        .iter()
                        .map(|c| char::from(b'0' + c.level as u8))
                        .collect::<String>()
                };
                println!(
                    "{:>8.2} {:>8.2} def {} {:.40}",
                    rows[1].1[i].qoe_sum() - rows[0].1[i].qoe_sum(),
                    rows[2].1[i].qoe_sum() - rows[1].1[i].qoe_sum(),
                    seq(&rows[1].1[i]),
                    t.name
                );
                println!("{:>17} opt {}", "", seq(&rows[2].1[i]));
                println!("{:>17} mpc {}", "", seq(&rows[0].1[i]));
            }
            continue;
        }
        if let Ok(name) = std::env::var("TRACE") {
            if let Some(i) = traces.iter().position(|t| t.name == name) {
                for c in 0..48 {
                    let mut line = format!("{c:2}");
                    for (label, sessions) in &rows {
                        let o = &sessions[i].chunks[c];
                        line += &format!(
                            " | {label:.3} L{} reb {:5.2} buf {:5.1}",
                            o.level, o.rebuffer_s, o.buffer_after_s
                        );
                    }
                    println!("{line}");
                }
            }
            continue;
        }
        println!("== {set}");
        for (name, sessions) in &rows {
            let n = sessions.len() as f64;
            let mut line = format!("{name:8}");
            for &(a, b) in &buckets {
                let reb: f64 = sessions
                    .iter()
                    .map(|s| s.chunks[a..b].iter().map(|c| c.rebuffer_s).sum::<f64>())
                    .sum::<f64>()
                    / n;
                let buf: f64 = sessions
                    .iter()
                    .map(|s| {
                        s.chunks[a..b].iter().map(|c| c.buffer_after_s).sum::<f64>()
                            / (b - a) as f64
                    })
                    .sum::<f64>()
                    / n;
                let sw: f64 = sessions
                    .iter()
                    .map(|s| {
                        s.chunks[a..b]
                            .iter()
                            .map(|c| (c.mbps - c.previous_mbps).abs())
                            .sum::<f64>()
                    })
                    .sum::<f64>()
                    / n;
                let br: f64 = sessions
                    .iter()
                    .map(|s| s.chunks[a..b].iter().map(|c| c.mbps).sum::<f64>() / (b - a) as f64)
                    .sum::<f64>()
                    / n;
                line +=
                    &format!(" | {a:2}-{b:2} reb {reb:5.2} buf {buf:5.1} sw {sw:4.2} br {br:4.2}");
            }
            println!("{line}");
        }
        // Worst traces for default relative to mpc.
        let mut diffs: Vec<(f64, f64, &str)> = traces
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    rows[1].1[i].qoe_sum() - rows[0].1[i].qoe_sum(),
                    rows[2].1[i].qoe_sum() - rows[1].1[i].qoe_sum(),
                    t.name.as_str(),
                )
            })
            .collect();
        diffs.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        for d in diffs.iter().take(4) {
            println!(
                "  worst vs mpc {:+7.2} (opt-default {:6.2}) {}",
                d.0, d.1, d.2
            );
        }
        diffs.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
        for d in diffs.iter().take(4) {
            println!(
                "  worst vs opt {:+7.2} (opt-default {:6.2}) {}",
                d.0, d.1, d.2
            );
        }
    }
}
