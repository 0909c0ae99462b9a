//! `hls-inspect` run on temporary files: one JSON line per file, good or bad, exit status 0;
//! a usage error without files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A directory of its own under the system temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hls-inspect-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hls-inspect"))
        .args(files)
        .output()
        .unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn good_and_bad_files_each_get_a_line_and_the_exit_status_is_zero() {
    let scratch = Scratch::new("mixed");
    let master = scratch.file(
        "master.m3u8",
        b"#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"en.m3u8\"\n\
          #EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS=\"avc1.4d401f,mp4a.40.2\",RESOLUTION=960x540,AUDIO=\"a\"\n\
          v540.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000,CODECS=\"avc1.42c01e,mp4a.40.2\"\nv270.m3u8\n",
    );
    let media = scratch.file(
        "media.m3u8",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-MAP:URI=\"init.mp4\"\n\
          #EXTINF:4,\n#EXT-X-BYTERANGE:100@0\nall.mp4\n#EXT-X-GAP\n#EXTINF:4,\n#EXT-X-BYTERANGE:100\nall.mp4\n\
          #EXT-X-DISCONTINUITY\n#EXTINF:2.5,\nlast.mp4\n",
    );
    let malformed = scratch.file(
        "bad.m3u8",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXT-X-BYTERANGE:12@\nb.ts\n",
    );
    let not_utf8 = scratch.file("binary.m3u8", b"#EXTM3U\n\xff\xfe\n");
    let missing = scratch.0.join("missing.m3u8");

    let output = run(&[&master, &media, &malformed, &not_utf8, &missing]);
    assert!(output.status.success(), "{output:?}");
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 5);

    assert_eq!(lines[0]["file"], master.display().to_string());
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[0]["kind"], "master");
    assert_eq!(lines[0]["variants"], 2);
    assert_eq!(lines[0]["renditions"], 1);
    assert_eq!(lines[0]["max_bandwidth"], 900_000);

    assert_eq!(lines[1]["ok"], true);
    assert_eq!(lines[1]["kind"], "media");
    assert_eq!(lines[1]["segments"], 3);
    assert_eq!(lines[1]["live"], true);
    assert_eq!(lines[1]["duration"], 10.5);
    assert_eq!(lines[1]["media_sequence"], 3);
    assert_eq!(lines[1]["byte_ranges"], 2);
    assert_eq!(lines[1]["gaps"], 1);
    assert_eq!(lines[1]["discontinuities"], 1);
    assert_eq!(lines[1]["has_init"], true);

    assert_eq!(lines[2]["ok"], false);
    assert_eq!(lines[2]["line"], 5);
    let error = lines[2]["error"].as_str().unwrap();
    assert!(
        error.contains("line 5") && error.contains("EXT-X-BYTERANGE"),
        "{error}"
    );

    assert_eq!(lines[3]["ok"], false);
    assert!(lines[3]["error"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(lines[4]["ok"], false);
    assert!(lines[4]["error"].as_str().unwrap().contains("cannot read"));
}

#[test]
fn without_files_it_is_a_usage_error() {
    let output = run(&[]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
}
