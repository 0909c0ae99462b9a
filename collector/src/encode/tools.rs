//! Finding `ffmpeg` and `ffprobe` on `PATH`, and running them so that a failure reports
//! the program, its exit status and the last lines it wrote to stderr.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// Lines of a program's stderr kept for error messages.
pub const TAIL_LINES: usize = 12;

/// What went wrong finding or running an external program.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The program is not on `PATH`.
    #[error(
        "`{program}` was not found on PATH; install ffmpeg (it provides ffmpeg and ffprobe, \
         e.g. `apt-get install ffmpeg`) or add it to PATH"
    )]
    NotFound {
        /// `ffmpeg` or `ffprobe`.
        program: &'static str,
    },
    /// The program could not be started.
    #[error("could not start `{program}` ({path}): {source}")]
    Spawn {
        /// Program name.
        program: &'static str,
        /// Where it was found.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Reading or writing its pipes failed.
    #[error("talking to `{program}`: {source}")]
    Pipe {
        /// Program name.
        program: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The program exited unsuccessfully.
    #[error("`{program}` failed ({status}) {doing}; its last lines:\n{tail}")]
    Failed {
        /// Program name.
        program: &'static str,
        /// What it was asked to do.
        doing: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its last stderr lines.
        tail: String,
    },
}

/// Where `ffmpeg` and `ffprobe` live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// Path of `ffmpeg`.
    pub ffmpeg: PathBuf,
    /// Path of `ffprobe`.
    pub ffprobe: PathBuf,
}

impl Tools {
    /// Finds both programs on `PATH`.
    pub fn locate() -> Result<Self, ToolError> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        Ok(Self {
            ffmpeg: find_in(&path, "ffmpeg")?,
            ffprobe: find_in(&path, "ffprobe")?,
        })
    }
}

/// The first executable file named `program` in the directories of `path`.
pub fn find_in(path: &OsStr, program: &'static str) -> Result<PathBuf, ToolError> {
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or(ToolError::NotFound { program })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

/// The last [`TAIL_LINES`] lines of a program's stderr, plus a count of everything seen.
#[derive(Debug, Default, Clone)]
pub struct StderrTail {
    lines: VecDeque<String>,
    /// Every line read, kept whole (stderr at `-loglevel warning` is short).
    pub all: Vec<String>,
}

impl StderrTail {
    /// Reads `stream` to its end, keeping every line.
    pub fn collect(stream: impl Read) -> std::io::Result<Self> {
        let mut tail = Self::default();
        for line in BufReader::new(stream).split(b'\n') {
            let line = String::from_utf8_lossy(&line?).trim_end().to_owned();
            if line.is_empty() {
                continue;
            }
            tail.push(line);
        }
        Ok(tail)
    }

    fn push(&mut self, line: String) {
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line.clone());
        // Bound memory even if a program is unexpectedly chatty.
        if self.all.len() < 10_000 {
            self.all.push(line);
        }
    }

    /// The kept lines, indented, or a note that there were none.
    pub fn render(&self) -> String {
        if self.lines.is_empty() {
            return "  (nothing on stderr)".to_owned();
        }
        self.lines
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether any line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.all.iter().any(|l| l.contains(needle))
    }
}

/// Runs `command` (stdin closed) to completion, returning its stdout and stderr, or
/// [`ToolError::Failed`] with the stderr tail.
pub fn run_captured(
    program: &'static str,
    mut command: Command,
    doing: &str,
) -> Result<(Vec<u8>, StderrTail), ToolError> {
    let (mut child, stderr) = spawn_piped(program, &mut command)?;
    let mut stdout = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|mut s| s.read_to_end(&mut stdout))
        .transpose();
    let status = child
        .wait()
        .map_err(|source| ToolError::Pipe { program, source })?;
    read.map_err(|source| ToolError::Pipe { program, source })?;
    let tail = join_tail(program, stderr)?;
    if !status.success() {
        return Err(ToolError::Failed {
            program,
            doing: doing.to_owned(),
            status,
            tail: tail.render(),
        });
    }
    Ok((stdout, tail))
}

/// A thread collecting a child's stderr.
pub type StderrThread = std::thread::JoinHandle<std::io::Result<StderrTail>>;

/// Starts `command` with stdin closed, stdout piped for the caller, and stderr collected
/// by a thread (join it with [`join_tail`]).
pub fn spawn_piped(
    program: &'static str,
    command: &mut Command,
) -> Result<(std::process::Child, Option<StderrThread>), ToolError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ToolError::Spawn {
            program,
            path: PathBuf::from(command.get_program()),
            source,
        })?;
    let stderr = child
        .stderr
        .take()
        .map(|s| std::thread::spawn(move || StderrTail::collect(s)));
    Ok((child, stderr))
}

/// Waits for a stderr-collecting thread.
pub fn join_tail(
    program: &'static str,
    handle: Option<StderrThread>,
) -> Result<StderrTail, ToolError> {
    match handle {
        None => Ok(StderrTail::default()),
        Some(h) => match h.join() {
            Ok(result) => result.map_err(|source| ToolError::Pipe { program, source }),
            Err(_) => Err(ToolError::Pipe {
                program,
                source: std::io::Error::other("stderr reader thread panicked"),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_is_named() {
        let empty =
            std::env::temp_dir().join(format!("collector-empty-path-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let err = find_in(empty.as_os_str(), "ffmpeg").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`ffmpeg` was not found on PATH"),
            "{err}"
        );
        let err = find_in(OsStr::new(""), "ffprobe").unwrap_err();
        assert!(err.to_string().contains("`ffprobe`"), "{err}");
        std::fs::remove_dir(&empty).unwrap();
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let text: String = (0..30).map(|i| format!("line {i}\n")).collect();
        let tail = StderrTail::collect(text.as_bytes()).unwrap();
        let rendered = tail.render();
        assert!(rendered.starts_with("  line 18\n"), "{rendered}");
        assert!(rendered.ends_with("  line 29"), "{rendered}");
        assert_eq!(tail.all.len(), 30);
        assert!(tail.contains("line 3"));
        assert_eq!(StderrTail::default().render(), "  (nothing on stderr)");
    }
}
