//! The files under the media root: resolving a request path safely (nothing outside the
//! root is ever reachable: no `..`, no absolute paths, no symlinks that lead out), and a
//! bounded in-memory cache of file contents validated against the file's size and
//! modification time on every request.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;

use super::content_type::{FileKind, classify};
use super::error::OriginError;

/// Where a file's bytes are.
#[derive(Debug, Clone)]
pub enum Content {
    /// In memory (cached).
    Memory(Bytes),
    /// On disk, too big for the cache: streamed.
    Disk(PathBuf),
}

/// One file, ready to serve.
#[derive(Debug)]
pub struct MediaFile {
    /// The path as requested, relative to the media root, `/`-separated.
    pub rel_path: String,
    pub content: Content,
    pub len: u64,
    pub modified: SystemTime,
    /// Strong validator: size and modification time.
    pub etag: String,
    pub content_type: &'static str,
    pub kind: FileKind,
}

/// Cache limits.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    /// Total bytes of file contents kept in memory.
    pub total_bytes: u64,
    /// Files larger than this are streamed from disk and never cached.
    pub max_file_bytes: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            total_bytes: 48 << 20,
            max_file_bytes: 8 << 20,
        }
    }
}

struct CacheEntry {
    file: Arc<MediaFile>,
    last_used: u64,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<String, CacheEntry>,
    bytes: u64,
    clock: u64,
}

/// The media root and its cache.
pub struct MediaStore {
    root: PathBuf,
    limits: CacheLimits,
    cache: Mutex<Cache>,
}

impl MediaStore {
    /// Opens the media root; it must be an existing directory.
    pub fn new(root: &Path, limits: CacheLimits) -> std::io::Result<Self> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(Self {
            root,
            limits,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// The canonical media root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `rel_path` (already percent-decoded) to a file inside the root.
    pub fn resolve(&self, rel_path: &str) -> Result<PathBuf, OriginError> {
        let relative = checked_relative(rel_path)?;
        let joined = self.root.join(relative);
        let canonical = match joined.canonicalize() {
            Ok(path) => path,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OriginError::NotFound(rel_path.to_string()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                return Err(OriginError::NotFound(rel_path.to_string()));
            }
            Err(e) => return Err(OriginError::Io(rel_path.to_string(), e)),
        };
        if !canonical.starts_with(&self.root) {
            return Err(OriginError::Forbidden(format!(
                "{rel_path}: leads outside the media root"
            )));
        }
        Ok(canonical)
    }

    /// The file at `rel_path`, from the cache when it is still current.
    ///
    /// The cache is looked up by the requested path before the path is canonicalised:
    /// an entry was checked to lie inside the root when it was made, and it is only
    /// served while the file there still has the same size and modification time, so the
    /// common case costs one `stat` instead of a `readlink` per path component.
    pub async fn open(&self, rel_path: &str) -> Result<Arc<MediaFile>, OriginError> {
        let joined = self.root.join(checked_relative(rel_path)?);
        let metadata = std::fs::metadata(&joined).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => {
                OriginError::NotFound(rel_path.to_string())
            }
            _ => OriginError::Io(rel_path.into(), e),
        })?;
        if !metadata.is_file() {
            return Err(OriginError::NotFound(rel_path.to_string()));
        }
        let len = metadata.len();
        let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some(file) = self.cached(rel_path, len, modified) {
            return Ok(file);
        }
        let path = self.resolve(rel_path)?;
        let (content_type, kind) = classify(rel_path);
        let content = if len <= self.limits.max_file_bytes {
            let read_path = path.clone();
            let bytes = tokio::task::spawn_blocking(move || std::fs::read(read_path))
                .await
                .map_err(|e| OriginError::Io(rel_path.into(), std::io::Error::other(e)))?
                .map_err(|e| OriginError::Io(rel_path.into(), e))?;
            if bytes.len() as u64 != len {
                // Changed while we read it: serve what we read, but do not cache it.
                return Ok(Arc::new(MediaFile {
                    rel_path: rel_path.to_string(),
                    len: bytes.len() as u64,
                    content: Content::Memory(Bytes::from(bytes)),
                    modified,
                    etag: etag(0, modified),
                    content_type,
                    kind,
                }));
            }
            Content::Memory(Bytes::from(bytes))
        } else {
            Content::Disk(path)
        };
        let file = Arc::new(MediaFile {
            rel_path: rel_path.to_string(),
            content,
            len,
            modified,
            etag: etag(len, modified),
            content_type,
            kind,
        });
        if matches!(file.content, Content::Memory(_)) {
            self.insert(rel_path, file.clone());
        }
        Ok(file)
    }

    fn cached(&self, path: &str, len: u64, modified: SystemTime) -> Option<Arc<MediaFile>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.clock += 1;
        let now = cache.clock;
        let entry = cache.entries.get_mut(path)?;
        if entry.file.len != len || entry.file.modified != modified {
            return None;
        }
        entry.last_used = now;
        Some(entry.file.clone())
    }

    fn insert(&self, path: &str, file: Arc<MediaFile>) {
        if file.len > self.limits.total_bytes {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.clock += 1;
        let now = cache.clock;
        if let Some(old) = cache.entries.remove(path) {
            cache.bytes -= old.file.len;
        }
        while cache.bytes + file.len > self.limits.total_bytes {
            let Some(oldest) = cache
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(p, _)| p.clone())
            else {
                break;
            };
            if let Some(evicted) = cache.entries.remove(&oldest) {
                cache.bytes -= evicted.file.len;
            }
        }
        cache.bytes += file.len;
        cache.entries.insert(
            path.to_string(),
            CacheEntry {
                file,
                last_used: now,
            },
        );
    }

    /// Bytes of file contents held in memory now.
    pub fn cached_bytes(&self) -> u64 {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }
}

fn etag(len: u64, modified: SystemTime) -> String {
    let nanos = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{len:x}-{nanos:x}\"")
}

/// Checks a request path is a plain relative path: no `..`, no `.`, no empty or
/// absolute components, no backslashes or NUL bytes.
fn checked_relative(rel_path: &str) -> Result<&Path, OriginError> {
    let forbidden = |why: &str| Err(OriginError::Forbidden(format!("{rel_path:?}: {why}")));
    if rel_path.is_empty() {
        return Err(OriginError::NotFound(String::new()));
    }
    if rel_path.contains('\0') || rel_path.contains('\\') {
        return forbidden("contains a NUL byte or a backslash");
    }
    if rel_path.starts_with('/') {
        return forbidden("is absolute");
    }
    if rel_path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return forbidden("has an empty, `.` or `..` component");
    }
    let path = Path::new(rel_path);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return forbidden("is not a plain relative path");
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_only() {
        assert!(checked_relative("a/b/seg_001.m4s").is_ok());
        assert!(
            checked_relative("..a/b..c/.d").is_ok(),
            "dots inside names are names"
        );
        for bad in [
            "../etc/passwd",
            "a/../../x",
            "a/./b",
            "/etc/passwd",
            "a//b",
            "a/",
            "a\\..\\b",
            "a\0b",
            "..",
        ] {
            assert!(
                matches!(checked_relative(bad), Err(OriginError::Forbidden(_))),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn cache_is_bounded_and_follows_changes() {
        let dir = std::env::temp_dir().join(format!("store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..4 {
            std::fs::write(dir.join(format!("f{i}.m4s")), vec![i as u8; 1000]).unwrap();
        }
        let store = MediaStore::new(
            &dir,
            CacheLimits {
                total_bytes: 2500,
                max_file_bytes: 1500,
            },
        )
        .unwrap();
        for i in 0..4 {
            let file = store.open(&format!("f{i}.m4s")).await.unwrap();
            assert_eq!(file.len, 1000);
            assert!(store.cached_bytes() <= 2500);
        }
        // A rewrite with another size is seen at once.
        std::fs::write(dir.join("f3.m4s"), vec![9u8; 10]).unwrap();
        let file = store.open("f3.m4s").await.unwrap();
        assert_eq!(file.len, 10);
        // Too big for the cache: streamed from disk.
        std::fs::write(dir.join("big.m4s"), vec![1u8; 2000]).unwrap();
        assert!(matches!(
            store.open("big.m4s").await.unwrap().content,
            Content::Disk(_)
        ));
        assert!(matches!(
            store.open("missing.m4s").await,
            Err(OriginError::NotFound(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
