use lab::pensieve::{ClientRules, run};
use lab::score::AlgoSummary;
use lab::trace::Trace;
use lab::video::Video;
use player_wasm::abr::AbrKind;
use std::path::Path;

fn main() {
    let video = Video::load_pensieve(Path::new("/work/shared/traces/pensieve-video")).unwrap();
    let algos: Vec<AbrKind> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    for set in ["pensieve-train", "fcc-test-windows", "oboe", "puffer-220218"] {
        let traces = Trace::load_dir(&Path::new("/work/shared/traces").join(set)).unwrap();
        for kind in &algos {
            let t = std::time::Instant::now();
            let sessions: Vec<_> = traces
                .iter()
                .map(|trace| {
                    let mut abr = kind.build();
                    run(trace, &video, abr.as_mut(), &ClientRules::default())
                })
                .collect();
            let s = AlgoSummary::from_sessions(kind.name(), &sessions);
            println!(
                "{set:18} {:11} qoe {:.4} br {:.3} rebuf {:.3} sw {:.4}  ({:.2?})",
                s.algo, s.qoe_per_segment, s.bitrate_mbps, s.rebuffer_s_per_trace, s.switch_mbps_per_segment, t.elapsed()
            );
        }
    }
}
