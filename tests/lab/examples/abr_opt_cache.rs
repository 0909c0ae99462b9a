//! Scratch: writes the offline optimum's level sequence of every dev trace to
//! `/tmp/abr_opt/<set>.tsv` (trace name, then the levels), for per-trace comparisons.

use lab::optimal::bounds;
use lab::pensieve::ClientRules;
use lab::trace::Trace;
use lab::video::Video;
use std::path::Path;

fn main() {
    let video = Video::load_pensieve(Path::new("/work/shared/traces/pensieve-video")).unwrap();
    std::fs::create_dir_all("/tmp/abr_opt").unwrap();
    let sets = [
        "pensieve-train",
        "fcc-test-windows",
        "oboe",
        "puffer-220218",
    ];
    std::thread::scope(|s| {
        for pair in sets.chunks(2) {
            let video = &video;
            s.spawn(move || {
                for set in pair {
                    let traces =
                        Trace::load_dir(&Path::new("/work/shared/traces").join(set)).unwrap();
                    let mut out = String::new();
                    for trace in &traces {
                        let b = bounds(trace, video, &ClientRules::default());
                        let levels: Vec<String> =
                            b.achieved.levels.iter().map(|l| l.to_string()).collect();
                        out += &format!("{}\t{}\n", trace.name, levels.join(" "));
                    }
                    std::fs::write(format!("/tmp/abr_opt/{set}.tsv"), out).unwrap();
                }
            });
        }
    });
}
