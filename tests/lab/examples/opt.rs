use lab::optimal::bounds;
use lab::pensieve::ClientRules;
use lab::trace::Trace;
use lab::video::Video;
use std::path::Path;

fn main() {
    let video = Video::load_pensieve(Path::new("/work/shared/traces/pensieve-video")).unwrap();
    let sets: Vec<String> = std::env::args().skip(1).collect();
    for set in sets {
        let traces = Trace::load_dir(&Path::new("/work/shared/traces").join(&set)).unwrap();
        let t = std::time::Instant::now();
        let mut lo = 0.0; let mut hi = 0.0; let mut peak = 0;
        let mut worst_gap = 0.0f64;
        for trace in &traces {
            let tt = std::time::Instant::now();
            let b = bounds(trace, &video, &ClientRules::default());
            lo += b.achieved.qoe_sum / 47.0; hi += b.upper_bound / 47.0;
            peak = peak.max(b.achieved.peak_states);
            worst_gap = worst_gap.max(b.upper_bound - b.achieved.qoe_sum);
            if tt.elapsed().as_secs_f64() > 1.0 { eprintln!("slow {} {:.2?} peak {}", trace.name, tt.elapsed(), b.achieved.peak_states); }
        }
        let n = traces.len() as f64;
        println!("{set:18} optimal {:.4} upper {:.4} peak {} worst-gap-sum {:.6} ({:.2?})", lo/n, hi/n, peak, worst_gap, t.elapsed());
    }
}
