//! Shared by the collector's integration tests: a real `collector serve` process on
//! 127.0.0.1 with a free port, a small media tree, and raw HTTP for requests that
//! clients would normalise (`..` in paths).

#![allow(dead_code)]

pub mod beacons;
pub mod postgres;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `collector serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// Holds the beacon database when the test gave no `--db`.
    _data: Option<tempfile::TempDir>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `127.0.0.1:PORT`
    pub addr: String,
}

impl Server {
    /// Starts `collector serve --media MEDIA --addr 127.0.0.1:0 EXTRA…` and waits until it
    /// listens. Without `--db` in `EXTRA`, beacons go to a temporary SQLite file.
    pub fn start(media: &Path, extra: &[&str]) -> Server {
        let data = (!extra.contains(&"--db")).then(|| tempfile::tempdir().unwrap());
        let db = data
            .as_ref()
            .map(|d| format!("sqlite://{}", d.path().join("collector.db").display()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_collector"))
            .arg("serve")
            .arg("--media")
            .arg(media)
            .args(["--addr", "127.0.0.1:0", "--log", "warn"])
            .args(db.iter().flat_map(|db| ["--db", db.as_str()]))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("collector binary runs");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("collector prints its address");
        let base = line
            .trim()
            .strip_prefix("collector listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        let addr = base.trim_start_matches("http://").to_string();
        Server {
            child,
            _data: data,
            base,
            addr,
        }
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("collector exits")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read off the socket as it came.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET target` exactly as written (no normalisation) and reads the response.
pub fn raw_get(addr: &str, target: &str) -> RawResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read response");
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    RawResponse {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

/// A small media tree: `ladder/master.m3u8`, `ladder/v0/index.m3u8`, an init segment and
/// three segments of known bytes, plus `secret.txt` beside (not inside) the root.
pub struct MediaTree {
    pub dir: tempfile::TempDir,
}

impl MediaTree {
    pub fn new() -> MediaTree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("media");
        let v0 = root.join("ladder/v0");
        std::fs::create_dir_all(&v0).unwrap();
        std::fs::write(
            root.join("ladder/master.m3u8"),
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS=\"avc1.64001f\"\nv0/index.m3u8\n",
        )
        .unwrap();
        let mut media = String::from(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n",
        );
        for i in 0..3 {
            media.push_str(&format!("#EXTINF:2.000,\nseg_{i:03}.m4s\n"));
            std::fs::write(
                v0.join(format!("seg_{i:03}.m4s")),
                segment_bytes(i, 200_000),
            )
            .unwrap();
        }
        media.push_str("#EXT-X-ENDLIST\n");
        std::fs::write(v0.join("index.m3u8"), media).unwrap();
        std::fs::write(v0.join("init.mp4"), segment_bytes(9, 700)).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "outside the root").unwrap();
        MediaTree { dir }
    }

    /// The directory to pass as `--media`.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("media")
    }
}

/// Deterministic, incompressible-looking bytes for segment `i`.
pub fn segment_bytes(i: u64, len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ i;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Everything one request got back on its socket, however the server ended it.
#[derive(Debug)]
pub struct RawExchange {
    /// The bytes received, head included.
    pub bytes: Vec<u8>,
    /// When the first byte arrived, from just before the request was written.
    pub first_byte: Option<Duration>,
    /// When the connection ended (EOF or error).
    pub finished: Duration,
    /// The read error that ended it, if it did not end with EOF.
    pub error: Option<std::io::ErrorKind>,
}

impl RawExchange {
    /// The response head and body, if a complete head arrived.
    pub fn response(&self) -> Option<RawResponse> {
        let split = self.bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&self.bytes[..split]).to_string();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(RawResponse {
            status,
            headers,
            body: self.bytes[split + 4..].to_vec(),
        })
    }
}

/// Sends `METHOD target` exactly as written and reads until the server closes, tolerating
/// a connection that ends badly (the point of fault injection).
pub fn raw_exchange(addr: &str, method: &str, target: &str) -> RawExchange {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = std::time::Instant::now();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    let mut first_byte = None;
    let mut buffer = [0u8; 16 * 1024];
    let error = loop {
        match stream.read(&mut buffer) {
            Ok(0) => break None,
            Ok(n) => {
                first_byte.get_or_insert_with(|| started.elapsed());
                bytes.extend_from_slice(&buffer[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Some(e.kind()),
        }
    };
    RawExchange {
        bytes,
        first_byte,
        finished: started.elapsed(),
        error,
    }
}
