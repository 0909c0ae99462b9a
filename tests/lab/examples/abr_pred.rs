//! Scratch: how predictable is the next segment's throughput from the recent ones?

use lab::link::{LINK_RTT_S, Link};
use lab::trace::Trace;
use lab::video::Video;
use std::path::Path;

fn q(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p) as usize]
}

fn main() {
    let video = Video::load_pensieve(Path::new("/work/shared/traces/pensieve-video")).unwrap();
    for set in [
        "pensieve-train",
        "fcc-test-windows",
        "oboe",
        "puffer-220218",
    ] {
        let traces = Trace::load_dir(&Path::new("/work/shared/traces").join(set)).unwrap();
        let mut r1 = vec![];
        let mut r5 = vec![];
        let mut r1l = vec![];
        for trace in &traces {
            // Fetch level 2 segments back to back (buffer ignored): the throughput process.
            let mut link = Link::new(trace);
            let mut xs = vec![];
            for chunk in 0..80 {
                let bytes = (video.sizes[2][chunk % 48] * 3 / 4) as f64;
                let t = link.download(bytes);
                xs.push(bytes * 8.0 / t);
                let _ = LINK_RTT_S;
            }
            if std::env::var("DUMP").is_ok() {
                let line: Vec<String> = xs.iter().map(|x| format!("{:.0}", x)).collect();
                println!("SEQ {set} {}", line.join(" "));
            }
            for t in 10..55 {
                let hm = 10.0 / xs[t - 10..t].iter().map(|x| 1.0 / x).sum::<f64>();
                r1.push((xs[t] / hm).ln());
                r1l.push((xs[t] / xs[t - 1]).ln());
                let next5 = 5.0 / xs[t..t + 5].iter().map(|x| 1.0 / x).sum::<f64>();
                r5.push((next5 / hm).ln());
            }
        }
        let ps = [0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9];
        let f = |v: &mut Vec<f64>| {
            ps.iter()
                .map(|&p| format!("{:5.2}", q(v, p).exp()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("{set:18} next/hm10 {}", f(&mut r1));
        println!("{set:18} next/last {}", f(&mut r1l));
        println!("{set:18} hm5next/hm10 {}", f(&mut r5));
    }
}
