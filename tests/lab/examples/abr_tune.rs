//! Scratch: evaluates `default` configurations on the four dev sets.
//!
//! `cargo run --release -q -p lab --example abr_tune -- "" "window=7|14,pn=1"` prints,
//! per configuration (keys: see `parse`; `a=1|2` expands to every value), QoE per
//! segment, the share of the robust-mpc → optimal gap closed and bitrate / stall s per
//! trace / switch per segment on each set. An empty spec is the shipped default.
//! `VIDEO=cbr` uses a constant-bitrate 200–6400 kbit/s ladder with 2 s segments instead
//! and prints the difference with robust-mpc measured in the same run. `SHIFTS=4` also
//! starts every trace at ¼, ½ and ¾ of its length (4× the sessions; the references are
//! computed once, ~2 minutes, and cached in the temporary directory). `REFS_DETAIL=1` prints
//! robust-mpc's and the optimum's breakdowns.

use lab::pensieve::{ClientRules, run};
use lab::score::AlgoSummary;
use lab::trace::Trace;
use lab::video::Video;
use player_wasm::abr::default::DefaultConfig;
use player_wasm::abr::{Abr, DefaultAbr, RobustMpc};
use std::path::Path;

pub const SETS: [&str; 4] = [
    "pensieve-train",
    "fcc-test-windows",
    "oboe",
    "puffer-220218",
];
pub const MPC: [f64; 4] = [0.5807, 1.2116, 2.2437, 0.7234];
pub const OPT: [f64; 4] = [0.8326, 1.5752, 2.4717, 1.0787];

pub fn parse(spec: &str) -> DefaultConfig {
    let mut c = DefaultConfig::default();
    for kv in spec.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').expect("key=value");
        let f: f64 = v.parse().expect("number");
        match k {
            "window" => c.window = f as usize,
            "rec" => c.recency = f,
            "fs" => c.final_stretch = f > 0.0,
            "bins" => c.regimes = f as usize,
            "pn" => c.prior_samples = f,
            "ps" => c.prior_spread = f,
            "bw" => c.kernel_width = f,
            "p" => c.persistence = f,
            "fp" => c.persistence_prior = f,
            "fine" => c.fine_steps = f as usize,
            "horizon" => c.horizon_s = f,
            "every" => c.double_every = f as usize,
            "points" => c.grid_points = f as usize,
            "iid" => c.regime_steps = f as usize,
            _ => panic!("unknown key {k}"),
        }
    }
    c
}

/// The trace started `fraction` of the way through (same periodic pattern).
pub fn rotate(trace: &Trace, fraction: f64) -> Trace {
    if fraction <= 0.0 {
        return trace.clone();
    }
    let n = trace.times_s.len();
    let t0 = trace.times_s[0];
    let end = trace.times_s[n - 1];
    let target = t0 + (end - t0) * fraction;
    let i0 = (1..n - 1)
        .find(|&i| trace.times_s[i] >= target)
        .unwrap_or(0);
    if i0 == 0 {
        return trace.clone();
    }
    let mut times = vec![0.0];
    let mut mbps = vec![trace.mbps[i0]];
    for i in i0 + 1..n {
        times.push(trace.times_s[i] - trace.times_s[i0]);
        mbps.push(trace.mbps[i]);
    }
    let offset = end - trace.times_s[i0];
    for i in 1..=i0 {
        times.push(offset + trace.times_s[i] - t0);
        mbps.push(trace.mbps[i]);
    }
    Trace {
        name: format!("{}@{fraction:.2}", trace.name),
        times_s: times,
        mbps,
    }
}

fn summary(traces: &[Trace], video: &Video, make: &dyn Fn() -> Box<dyn Abr>) -> AlgoSummary {
    let sessions: Vec<_> = traces
        .iter()
        .map(|trace| run(trace, video, make().as_mut(), &ClientRules::default()))
        .collect();
    AlgoSummary::from_sessions("x", &sessions)
}

/// The development data: `$SHARED_DIR`, else `../shared` from the repository root.
fn shared_dir() -> std::path::PathBuf {
    std::env::var_os("SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn main() {
    let cbr = std::env::var("VIDEO").is_ok_and(|v| v == "cbr");
    let video = if cbr {
        Video::constant_bitrate(&[200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0], 2.0, 96)
    } else {
        Video::load_pensieve(&shared_dir().join("traces/pensieve-video")).unwrap()
    };
    let shifts: usize = std::env::var("SHIFTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let sets: Vec<Vec<Trace>> = SETS
        .iter()
        .map(|set| {
            let base = Trace::load_dir(&shared_dir().join("traces").join(set)).unwrap();
            let mut all = Vec::new();
            for j in 0..shifts {
                all.extend(base.iter().map(|t| rotate(t, j as f64 / shifts as f64)));
            }
            all
        })
        .collect();
    let (mpc_ref, opt_ref): (Vec<f64>, Vec<f64>) = if shifts > 1 && !cbr {
        let cache = std::env::temp_dir().join("abr_tune");
        std::fs::create_dir_all(&cache).unwrap();
        let path = cache.join(format!("refs_s{shifts}.txt"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            text.lines()
                .map(|l| {
                    let (a, b) = l.split_once(' ').unwrap();
                    (a.parse::<f64>().unwrap(), b.parse::<f64>().unwrap())
                })
                .unzip()
        } else {
            let refs: Vec<(f64, f64)> = std::thread::scope(|s| {
                let handles: Vec<_> = sets
                    .iter()
                    .map(|traces| {
                        let video = &video;
                        s.spawn(move || {
                            let m = summary(traces, video, &|| Box::new(RobustMpc::default()))
                                .qoe_per_segment;
                            let o = traces
                                .iter()
                                .map(|t| {
                                    lab::optimal::bounds(t, video, &ClientRules::default())
                                        .achieved
                                        .qoe_sum
                                        / 47.0
                                })
                                .sum::<f64>()
                                / traces.len() as f64;
                            (m, o)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            std::fs::write(
                &path,
                refs.iter()
                    .map(|(m, o)| format!("{m} {o}\n"))
                    .collect::<String>(),
            )
            .unwrap();
            refs.into_iter().unzip()
        }
    } else {
        (MPC.to_vec(), OPT.to_vec())
    };
    let mut specs: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        // "a=1|2,b=3" expands to the cartesian product.
        let mut expanded = vec![String::new()];
        for kv in arg.split(',').filter(|s| !s.is_empty()) {
            let (k, vs) = kv.split_once('=').expect("key=value");
            let mut next = Vec::new();
            for prefix in &expanded {
                for v in vs.split('|') {
                    let sep = if prefix.is_empty() { "" } else { "," };
                    next.push(format!("{prefix}{sep}{k}={v}"));
                }
            }
            expanded = next;
        }
        specs.extend(expanded);
    }
    let mpc: Vec<f64> = if cbr {
        std::thread::scope(|s| {
            let handles: Vec<_> = sets
                .iter()
                .map(|traces| {
                    let video = &video;
                    s.spawn(move || {
                        summary(traces, video, &|| Box::new(RobustMpc::default())).qoe_per_segment
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    } else {
        MPC.to_vec()
    };
    if std::env::var("REFS_DETAIL").is_ok() {
        std::thread::scope(|s| {
            for (i, traces) in sets.iter().enumerate() {
                let video = &video;
                s.spawn(move || {
                    let m = summary(traces, video, &|| Box::new(RobustMpc::default()));
                    let sessions: Vec<_> = traces
                        .iter()
                        .map(|t| {
                            let b = lab::optimal::bounds(t, video, &ClientRules::default());
                            lab::pensieve::replay(
                                t,
                                video,
                                &b.achieved.levels,
                                &ClientRules::default(),
                            )
                        })
                        .collect();
                    let o = AlgoSummary::from_sessions("opt", &sessions);
                    println!(
                        "{} mpc {:.4} {:.3}/{:.2}/{:.3} opt {:.4} {:.3}/{:.2}/{:.3}",
                        SETS[i],
                        m.qoe_per_segment,
                        m.bitrate_mbps,
                        m.rebuffer_s_per_trace,
                        m.switch_mbps_per_segment,
                        o.qoe_per_segment,
                        o.bitrate_mbps,
                        o.rebuffer_s_per_trace,
                        o.switch_mbps_per_segment
                    );
                });
            }
        });
    }
    for spec in &specs {
        let config = parse(spec);
        let t = std::time::Instant::now();
        let results: Vec<AlgoSummary> = std::thread::scope(|s| {
            let handles: Vec<_> = sets
                .iter()
                .map(|traces| {
                    let video = &video;
                    s.spawn(move || {
                        summary(traces, video, &|| Box::new(DefaultAbr::with_config(config)))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut line = format!("{spec:40}");
        let mut min_gap = f64::INFINITY;
        for (i, r) in results.iter().enumerate() {
            let q = r.qoe_per_segment;
            if cbr {
                let d = q - mpc[i];
                min_gap = min_gap.min(d);
                line += &format!(" | {q:.4} (mpc {:.4}) {d:+.4}", mpc[i]);
            } else {
                let gap = (q - mpc_ref[i]) / (opt_ref[i] - mpc_ref[i]) * 100.0;
                min_gap = min_gap.min(gap);
                line += &format!(
                    " | {q:.4} {gap:5.1}% {:.3}/{:.2}/{:.3}",
                    r.bitrate_mbps, r.rebuffer_s_per_trace, r.switch_mbps_per_segment
                );
            }
        }
        line += &format!(" | min {min_gap:.4} ({:.1?})", t.elapsed());
        println!("{line}");
    }
}
