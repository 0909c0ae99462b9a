//! The lab end to end: the engine-driven run agrees with Pensieve's loop, the optimum is
//! exact on problems small enough to enumerate and beats every algorithm, the baselines
//! match published figures, and the CLI reports bad input clearly.

use lab::evaluate::{Driver, run_algorithm, run_optimal};
use lab::optimal::{SleepRule, bounds, evaluate};
use lab::pensieve::{self, ClientRules};
use lab::score::AlgoSummary;
use lab::trace::Trace;
use lab::video::Video;
use player_wasm::abr::AbrKind;
use std::path::{Path, PathBuf};
use std::process::Command;

fn trace(name: &str, samples: &[(f64, f64)]) -> Trace {
    let text: String = samples
        .iter()
        .map(|(t, mbps)| format!("{t}\t{mbps}\n"))
        .collect();
    let mut trace = Trace::parse(Path::new(name), &text).unwrap();
    trace.name = name.to_owned();
    trace
}

/// Synthetic traces with the features real ones have: steps, outages, noise, wrap-around,
/// a start after zero.
fn synthetic_traces() -> Vec<Trace> {
    let mut noisy = Vec::new();
    let mut seed = 0x2545_f491_u64;
    for second in 0..400 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let jitter = (seed >> 33) as f64 / (1u64 << 31) as f64;
        noisy.push((second as f64, 0.3 + 4.0 * jitter));
    }
    vec![
        trace("constant-1.2", &[(0.0, 1.2), (500.0, 1.2)]),
        trace(
            "steps",
            &[
                (0.0, 3.0),
                (40.0, 3.0),
                (41.0, 0.4),
                (90.0, 0.4),
                (91.0, 6.0),
                (400.0, 6.0),
            ],
        ),
        trace(
            "outage",
            &[
                (0.0, 2.5),
                (30.0, 2.5),
                (31.0, 0.0),
                (55.0, 0.0),
                (56.0, 2.5),
                (400.0, 2.5),
            ],
        ),
        trace(
            "short-wraps",
            &[(0.0, 0.8), (5.0, 2.0), (10.0, 0.2), (15.0, 5.0)],
        ),
        trace(
            "late-start",
            &[(0.5, 9.0), (3.9, 1.0), (7.3, 4.0), (10.7, 0.6), (14.1, 2.2)],
        ),
        trace("noisy", &noisy),
    ]
}

/// Pensieve-like ladder with chunk sizes that vary ±15 % around the bitrate.
fn video(chunks: usize) -> Video {
    let bitrates = [300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0];
    let mut video = Video::constant_bitrate(&bitrates, 4.0, chunks);
    for (level, sizes) in video.sizes.iter_mut().enumerate() {
        for (chunk, size) in sizes.iter_mut().enumerate() {
            let wobble = 1.0 + 0.15 * (((chunk * 7 + level * 3) % 11) as f64 / 5.0 - 1.0);
            *size = (*size as f64 * wobble) as u64;
        }
    }
    video
}

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.join("traces").is_dir().then_some(dir)
}

#[test]
fn the_engine_driven_run_reproduces_pensieves_loop_exactly() {
    let traces = synthetic_traces();
    let video = video(48);
    let rules = ClientRules::default();
    for algo in AbrKind::ALL {
        let engine = run_algorithm(&traces, &video, algo, Driver::Engine, &rules, 2).unwrap();
        let direct = run_algorithm(&traces, &video, algo, Driver::Direct, &rules, 2).unwrap();
        for (engine, direct) in engine.iter().zip(&direct) {
            assert_eq!(
                engine.levels(),
                direct.levels(),
                "{algo} on {}",
                engine.trace
            );
            assert!(
                (engine.qoe_sum() - direct.qoe_sum()).abs() < 1e-6,
                "{algo} on {}: {} vs {}",
                engine.trace,
                engine.qoe_sum(),
                direct.qoe_sum()
            );
        }
    }
}

#[test]
fn the_engines_own_qoe_accounting_agrees_with_the_labs_scoring() {
    use lab::session::{PensieveNetwork, VideoOrigin, pensieve_engine_config};
    use player_wasm::engine::Engine;
    use player_wasm::sim::VirtualPlayer;
    let video = video(48);
    let rules = ClientRules::default();
    for trace in synthetic_traces() {
        let config = pensieve_engine_config(AbrKind::Default, &video, &rules);
        let mut player = VirtualPlayer::new(
            Engine::new(config).unwrap(),
            VideoOrigin::new(&video),
            PensieveNetwork::new(&trace),
        );
        player.load(&VideoOrigin::master_url());
        player.run_to_end(1e7);
        let scored = lab::session::run(&trace, &video, AbrKind::Default, &rules).unwrap();
        let engine_scores = player.engine.segment_qoe();
        assert_eq!(engine_scores.len(), video.chunks);
        // Chunk 1 is start-up for the engine (not rebuffering) and unscored by the lab.
        for (engine, lab) in engine_scores.iter().zip(&scored.chunks).skip(1) {
            assert_eq!(engine.level, lab.level);
            assert!(
                (engine.qoe - lab.qoe()).abs() < 1e-6,
                "{}: {engine:?} vs {lab:?}",
                trace.name
            );
        }
        let summary = player.engine.stats().qoe;
        assert!((summary.rebuffer_s - player.media.stalled_s).abs() < 1e-6);
    }
}

#[test]
fn the_optimum_is_exact_where_every_sequence_can_be_tried() {
    // 3 levels, 7 chunks of 4 s, a 10 s buffer cap so the 500 ms sleep rule binds.
    let mut video = video(7);
    video.bitrates_kbps.truncate(3);
    video.sizes.truncate(3);
    let rules = ClientRules {
        buffer_cap_s: 10.0,
        ..ClientRules::default()
    };
    for trace in synthetic_traces() {
        let mut best = [f64::NEG_INFINITY; 2];
        for code in 0..3usize.pow(6) {
            let mut levels = vec![rules.start_level];
            let mut rest = code;
            for _ in 0..6 {
                levels.push(rest % 3);
                rest /= 3;
            }
            for (slot, sleep) in [SleepRule::Pensieve, SleepRule::Continuous]
                .into_iter()
                .enumerate()
            {
                best[slot] = best[slot].max(evaluate(&trace, &video, &levels, &rules, sleep));
            }
        }
        let found = bounds(&trace, &video, &rules);
        let replayed = pensieve::replay(&trace, &video, &found.achieved.levels, &rules).qoe_sum();
        assert!(
            (replayed - found.achieved.qoe_sum).abs() < 1e-9,
            "{}",
            trace.name
        );
        // The relaxation's optimum is exact, and bounds the real one.
        assert!(
            (found.upper_bound - best[1]).abs() < 1e-9,
            "{}: {} vs {}",
            trace.name,
            found.upper_bound,
            best[1]
        );
        assert!(best[0] <= found.upper_bound + 1e-9);
        // The achieved sequence is the real optimum.
        assert!(
            (found.achieved.qoe_sum - best[0]).abs() < 1e-9,
            "{}: {} vs {}",
            trace.name,
            found.achieved.qoe_sum,
            best[0]
        );
    }
}

#[test]
fn no_algorithm_beats_the_optimum() {
    let traces = synthetic_traces();
    let video = video(48);
    let rules = ClientRules::default();
    let optimal = run_optimal(&traces, &video, &rules, 2);
    assert!(optimal.upper_bound_qoe_per_segment + 1e-12 >= optimal.figures.qoe_per_segment);
    for algo in AbrKind::ALL {
        let sessions = run_algorithm(&traces, &video, algo, Driver::Engine, &rules, 2).unwrap();
        for session in &sessions {
            let best = bounds(
                traces
                    .iter()
                    .find(|trace| trace.name == session.trace)
                    .unwrap(),
                &video,
                &rules,
            );
            assert!(
                session.qoe_sum() <= best.upper_bound + 1e-9,
                "{algo} beat the optimum on {}: {} > {}",
                session.trace,
                session.qoe_sum(),
                best.upper_bound
            );
        }
    }
}

#[test]
fn baselines_match_the_published_figures() {
    let Some(shared) = shared_dir() else {
        eprintln!("skipped: ../shared/traces not present");
        return;
    };
    let video = Video::load_pensieve(&shared.join("traces/pensieve-video")).unwrap();
    let rules = ClientRules::default();
    // Reference figures (QoE per segment) from an independent simulator.
    let reference = [
        ("pensieve-train", 0.3337, 0.5793),
        ("fcc-test-windows", 0.9594, 1.2164),
        ("oboe", 1.9151, 2.2466),
        ("puffer-220218", 0.1551, 0.713),
    ];
    for (set, bb, robust_mpc) in reference {
        let traces = Trace::load_dir(&shared.join("traces").join(set)).unwrap();
        for (algo, expected, tolerance) in [
            (AbrKind::Bb, bb, 0.01),
            (AbrKind::RobustMpc, robust_mpc, 0.03),
        ] {
            let sessions = run_algorithm(&traces, &video, algo, Driver::Engine, &rules, 2).unwrap();
            let measured = AlgoSummary::from_sessions(algo.name(), &sessions).qoe_per_segment;
            let error = (measured - expected).abs() / expected;
            assert!(
                error <= tolerance,
                "{algo} on {set}: {measured:.4} vs {expected} ({:.2}%)",
                error * 100.0
            );
        }
    }
}

fn abr_lab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_abr-lab"))
        .args(args)
        .output()
        .unwrap()
}

fn write_video_dir(dir: &Path) {
    let video = video(48);
    for (level, sizes) in video.sizes.iter().enumerate() {
        let text: String = sizes.iter().map(|size| format!("{size}\n")).collect();
        std::fs::write(dir.join(format!("video_size_{level}")), text).unwrap();
    }
}

#[test]
fn the_cli_prints_the_documented_json() {
    let dir = std::env::temp_dir().join(format!("abr-lab-cli-{}", std::process::id()));
    let traces = dir.join("traces");
    let video_dir = dir.join("video");
    std::fs::create_dir_all(&traces).unwrap();
    std::fs::create_dir_all(&video_dir).unwrap();
    write_video_dir(&video_dir);
    std::fs::write(traces.join("a"), "0 1.5\n1 2.5\n2 0.5\n3 3\n").unwrap();
    std::fs::write(traces.join("b"), "0 4\n10 4\n").unwrap();
    let output = abr_lab(&[
        "--traces",
        traces.to_str().unwrap(),
        "--video",
        video_dir.to_str().unwrap(),
        "--algo",
        "bb",
        "--algo",
        "robust-mpc",
        "--optimal",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["traces"], 2);
    assert_eq!(report["segments_scored"], 47);
    let results = report["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["algo"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bb", "robust-mpc", "optimal"]);
    for result in results {
        for field in [
            "qoe_per_segment",
            "bitrate_mbps",
            "rebuffer_s_per_trace",
            "switch_mbps_per_segment",
        ] {
            assert!(result[field].is_f64(), "{field} in {result}");
        }
    }
    let optimal = results[2]["qoe_per_segment"].as_f64().unwrap();
    assert!(
        results
            .iter()
            .all(|r| r["qoe_per_segment"].as_f64().unwrap() <= optimal + 1e-9)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_cli_names_the_bad_file_and_line() {
    let dir = std::env::temp_dir().join(format!("abr-lab-bad-{}", std::process::id()));
    let traces = dir.join("traces");
    let video_dir = dir.join("video");
    std::fs::create_dir_all(&traces).unwrap();
    std::fs::create_dir_all(&video_dir).unwrap();
    write_video_dir(&video_dir);
    std::fs::write(traces.join("good"), "0 1\n1 1\n").unwrap();
    std::fs::write(traces.join("broken"), "0 1\n1 one\n").unwrap();
    let base = ["--video", video_dir.to_str().unwrap(), "--algo", "bb"];
    let output = abr_lab(&[&["--traces", traces.to_str().unwrap()][..], &base].concat());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken:2"), "{stderr}");
    let output = abr_lab(&["--traces", traces.to_str().unwrap(), "--algo", "sideways"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("sideways"));
    let output = abr_lab(&[
        "--traces",
        "/nonexistent/dir",
        "--video",
        video_dir.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/dir"));
    std::fs::write(video_dir.join("video_size_3"), "12\nlots\n").unwrap();
    std::fs::remove_file(traces.join("broken")).unwrap();
    let output = abr_lab(&[&["--traces", traces.to_str().unwrap()][..], &base].concat());
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("video_size_3:2"));
    std::fs::remove_dir_all(&dir).unwrap();
}
