//! The video the lab streams: a ladder of bitrates and the size of every chunk.
//!
//! Read from a directory of `video_size_<level>` files (one byte count per line, level 0
//! the lowest), the layout of Pensieve's `sim/video_size_*`.

use std::path::{Path, PathBuf};

/// Pensieve's ladder for its reference video, in kbit/s.
pub const PENSIEVE_BITRATES_KBPS: [f64; 6] = [300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0];
/// Pensieve's chunk duration.
pub const PENSIEVE_CHUNK_S: f64 = 4.0;
/// Chunks per session in Pensieve's simulator.
pub const PENSIEVE_CHUNKS: usize = 48;

/// A video: ladder, chunk duration and chunk sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Video {
    /// Nominal bitrate of each level in kbit/s, ascending.
    pub bitrates_kbps: Vec<f64>,
    /// `sizes[level][chunk]` in bytes.
    pub sizes: Vec<Vec<u64>>,
    /// Media duration of each chunk.
    pub chunk_s: f64,
    /// Chunks played per session (at most the chunks available).
    pub chunks: usize,
}

/// What was wrong with a video directory.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected a chunk size in bytes, found {text:?}")]
    BadSize {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error(
        "{dir}: expected video_size_0 .. video_size_{last} for a {levels}-level ladder, {missing} is missing"
    )]
    MissingLevel {
        dir: PathBuf,
        last: usize,
        levels: usize,
        missing: String,
    },
    #[error("{path}: has {found} chunks, the session needs {needed}")]
    TooFewChunks {
        path: PathBuf,
        found: usize,
        needed: usize,
    },
}

impl Video {
    /// Loads `video_size_0..` from `dir` for the given ladder and session length.
    pub fn load(
        dir: &Path,
        bitrates_kbps: &[f64],
        chunk_s: f64,
        chunks: usize,
    ) -> Result<Video, VideoError> {
        let mut sizes = Vec::with_capacity(bitrates_kbps.len());
        for level in 0..bitrates_kbps.len() {
            let path = dir.join(format!("video_size_{level}"));
            if !path.is_file() {
                return Err(VideoError::MissingLevel {
                    dir: dir.to_owned(),
                    last: bitrates_kbps.len() - 1,
                    levels: bitrates_kbps.len(),
                    missing: format!("video_size_{level}"),
                });
            }
            let text = std::fs::read_to_string(&path).map_err(|source| VideoError::Read {
                path: path.clone(),
                source,
            })?;
            let mut level_sizes = Vec::new();
            for (index, line) in text.lines().enumerate() {
                let Some(first) = line.split_whitespace().next() else {
                    continue;
                };
                let size = first
                    .parse::<u64>()
                    .ok()
                    .filter(|size| *size > 0)
                    .ok_or_else(|| VideoError::BadSize {
                        path: path.clone(),
                        line: index + 1,
                        text: first.to_owned(),
                    })?;
                level_sizes.push(size);
            }
            if level_sizes.len() < chunks {
                return Err(VideoError::TooFewChunks {
                    path,
                    found: level_sizes.len(),
                    needed: chunks,
                });
            }
            sizes.push(level_sizes);
        }
        Ok(Video {
            bitrates_kbps: bitrates_kbps.to_vec(),
            sizes,
            chunk_s,
            chunks,
        })
    }

    /// Loads Pensieve's reference video (six levels, 48 chunks of 4 s).
    pub fn load_pensieve(dir: &Path) -> Result<Video, VideoError> {
        Video::load(
            dir,
            &PENSIEVE_BITRATES_KBPS,
            PENSIEVE_CHUNK_S,
            PENSIEVE_CHUNKS,
        )
    }

    /// Number of levels.
    pub fn levels(&self) -> usize {
        self.bitrates_kbps.len()
    }

    /// Bitrate of a level in Mbit/s.
    pub fn mbps(&self, level: usize) -> f64 {
        self.bitrates_kbps[level] / 1000.0
    }

    /// A synthetic video whose chunk sizes are exactly bitrate × duration (for tests).
    pub fn constant_bitrate(bitrates_kbps: &[f64], chunk_s: f64, chunks: usize) -> Video {
        let sizes = bitrates_kbps
            .iter()
            .map(|kbps| vec![(kbps * 1000.0 / 8.0 * chunk_s).round() as u64; chunks])
            .collect();
        Video {
            bitrates_kbps: bitrates_kbps.to_vec(),
            sizes,
            chunk_s,
            chunks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_levels_and_reports_bad_files() {
        let dir = std::env::temp_dir().join(format!("lab-video-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("video_size_0"), "100\n200\n300\n").unwrap();
        std::fs::write(dir.join("video_size_1"), "1000\n2000 extra\n3000\n").unwrap();
        let video = Video::load(&dir, &[100.0, 1000.0], 4.0, 3).unwrap();
        assert_eq!(video.sizes[1], vec![1000, 2000, 3000]);
        assert!(matches!(
            Video::load(&dir, &[100.0, 1000.0], 4.0, 4),
            Err(VideoError::TooFewChunks { found: 3, .. })
        ));
        let missing = Video::load(&dir, &[1.0, 2.0, 3.0], 4.0, 3).unwrap_err();
        assert!(missing.to_string().contains("video_size_2"));
        std::fs::write(dir.join("video_size_1"), "1000\nbig\n").unwrap();
        let bad = Video::load(&dir, &[100.0, 1000.0], 4.0, 1).unwrap_err();
        assert!(bad.to_string().contains("video_size_1:2"), "{bad}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
