//! `abr-lab`: ABR algorithms played by the real engine over recorded network traces, in
//! Pensieve's simulator, scored with QoE_lin, and compared with the offline optimum.

use anyhow::{Context, Result, bail};
use clap::Parser;
use lab::evaluate::{Driver, OptimalSummary, gap_closed, run_algorithm, run_optimal};
use lab::pensieve::ClientRules;
use lab::score::AlgoSummary;
use lab::trace::Trace;
use lab::video::Video;
use player_wasm::abr::AbrKind;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Plays ABR algorithms through the engine over network traces and scores them.
#[derive(Debug, Parser)]
#[command(name = "abr-lab", version)]
struct Cli {
    /// Directory of traces (`time_s throughput_Mbps` per line); repeat for several sets.
    #[arg(long, required = true)]
    traces: Vec<PathBuf>,
    /// Directory with `video_size_0..` (one chunk size in bytes per line, level 0 lowest).
    #[arg(long, default_value = "../shared/traces/pensieve-video")]
    video: PathBuf,
    /// The video's ladder in kbit/s, lowest first (default: Pensieve's six levels).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "300,750,1200,1850,2850,4300"
    )]
    bitrates: Vec<f64>,
    /// Chunks played per session.
    #[arg(long, default_value_t = 48)]
    chunks: usize,
    /// Media duration of one chunk, in seconds.
    #[arg(long, default_value_t = 4.0)]
    chunk_seconds: f64,
    /// Buffer above which the client stops fetching, in seconds (Pensieve's rules: 60).
    #[arg(long, default_value_t = 60.0)]
    buffer_cap: f64,
    /// Algorithm to run (default, throughput, bola, bb, robust-mpc); repeat for several.
    /// Without it, every algorithm runs.
    #[arg(long = "algo")]
    algos: Vec<String>,
    /// Also compute the offline optimum (exact, with an upper bound as proof).
    #[arg(long)]
    optimal: bool,
    /// Print one JSON object per trace set instead of a table.
    #[arg(long)]
    json: bool,
    /// Run the ABR through the engine (default) or call it from Pensieve's loop directly.
    #[arg(long, default_value = "engine", value_parser = ["engine", "direct"])]
    driver: String,
    /// Worker threads (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
}

#[derive(Debug, Serialize)]
struct SetReport {
    set: String,
    traces: usize,
    segments_scored: usize,
    results: Vec<serde_json::Value>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let algos: Vec<AbrKind> = if cli.algos.is_empty() {
        AbrKind::ALL.to_vec()
    } else {
        cli.algos
            .iter()
            .map(|name| name.parse::<AbrKind>())
            .collect::<Result<_, _>>()?
    };
    let driver = if cli.driver == "direct" {
        Driver::Direct
    } else {
        Driver::Engine
    };
    let jobs = cli
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    if cli.bitrates.is_empty()
        || cli
            .bitrates
            .iter()
            .any(|kbps| !kbps.is_finite() || *kbps <= 0.0)
        || cli.bitrates.windows(2).any(|pair| pair[1] <= pair[0])
    {
        bail!(
            "--bitrates must be positive kbit/s values in ascending order, got {:?}",
            cli.bitrates
        );
    }
    if cli.chunks < 2 {
        bail!("--chunks must be at least 2 (the first chunk is not scored)");
    }
    if !(cli.chunk_seconds.is_finite() && cli.chunk_seconds > 0.0) {
        bail!("--chunk-seconds must be a positive number of seconds");
    }
    let video = Video::load(&cli.video, &cli.bitrates, cli.chunk_seconds, cli.chunks)
        .with_context(|| {
            format!(
                "loading the video (chunk sizes) from {}; pass --video DIR",
                cli.video.display()
            )
        })?;
    if !(cli.buffer_cap.is_finite() && cli.buffer_cap >= cli.chunk_seconds) {
        bail!("--buffer-cap must be a number of seconds no shorter than one chunk");
    }
    let rules = ClientRules {
        buffer_cap_s: cli.buffer_cap,
        ..ClientRules::default()
    };
    for dir in &cli.traces {
        let started = Instant::now();
        let traces = Trace::load_dir(dir)?;
        let mut summaries: Vec<AlgoSummary> = Vec::new();
        for algo in &algos {
            let sessions = run_algorithm(&traces, &video, *algo, driver, &rules, jobs)?;
            summaries.push(AlgoSummary::from_sessions(algo.name(), &sessions));
        }
        let optimal: Option<OptimalSummary> = cli
            .optimal
            .then(|| run_optimal(&traces, &video, &rules, jobs));
        let set = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        let segments_scored = video.chunks - 1;
        if cli.json {
            let mut results: Vec<serde_json::Value> = summaries
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            if let Some(optimal) = &optimal {
                results.push(serde_json::to_value(optimal)?);
            }
            let report = SetReport {
                set,
                traces: traces.len(),
                segments_scored,
                results,
            };
            println!("{}", serde_json::to_string(&report)?);
        } else {
            print_table(
                &set,
                traces.len(),
                segments_scored,
                &summaries,
                optimal.as_ref(),
            );
            println!("  ({:.2?})\n", started.elapsed());
        }
    }
    Ok(())
}

fn print_table(
    set: &str,
    traces: usize,
    scored: usize,
    summaries: &[AlgoSummary],
    optimal: Option<&OptimalSummary>,
) {
    println!("{set}: {traces} traces, {scored} segments scored per trace");
    println!(
        "  {:<12} {:>9} {:>13} {:>17} {:>16} {:>11}",
        "algo", "QoE/seg", "bitrate Mbps", "rebuffer s/trace", "switch Mbps/seg", "gap closed"
    );
    let robust = summaries
        .iter()
        .find(|summary| summary.algo == "robust-mpc")
        .map(|summary| summary.qoe_per_segment);
    let best = optimal.map(|optimal| optimal.figures.qoe_per_segment);
    let mut rows: Vec<&AlgoSummary> = summaries.iter().collect();
    if let Some(optimal) = optimal {
        rows.push(&optimal.figures);
    }
    for summary in rows {
        let closed = match (robust, best) {
            (Some(robust), Some(best)) => gap_closed(summary.qoe_per_segment, robust, best)
                .map_or_else(String::new, |closed| format!("{:.1}%", closed * 100.0)),
            _ => String::new(),
        };
        println!(
            "  {:<12} {:>9.4} {:>13.3} {:>17.3} {:>16.4} {:>11}",
            summary.algo,
            summary.qoe_per_segment,
            summary.bitrate_mbps,
            summary.rebuffer_s_per_trace,
            summary.switch_mbps_per_segment,
            closed
        );
    }
    if let Some(optimal) = optimal {
        println!(
            "  optimal is exact to within {:.2e} QoE per trace: upper bound {:.4}/seg",
            optimal.max_trace_gap, optimal.upper_bound_qoe_per_segment
        );
    }
}
