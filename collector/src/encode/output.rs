//! Writing a ladder so that nothing half-made ever sits at its final path: everything goes
//! to a sibling `DIR.partial-<pid>` that is renamed to `DIR` only when complete. A failure
//! removes the partial directory; an interrupted process leaves at most the partial one.

use std::path::{Path, PathBuf};

/// What went wrong preparing or placing the output directory.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output directory exists and `--force` was not given.
    #[error("{0} already exists; pass --force to replace it")]
    Exists(PathBuf),
    /// The output path has no directory name (e.g. `/` or `..`).
    #[error("--out {0} does not name a directory")]
    NoName(PathBuf),
    /// A filesystem operation failed.
    #[error("{doing} {path}: {source}")]
    Io {
        /// What was being done.
        doing: &'static str,
        /// On which path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn io(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OutputError {
    let path = path.to_owned();
    move |source| OutputError::Io {
        doing,
        path,
        source,
    }
}

/// A partial output directory, removed on drop unless committed or kept.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    partial: PathBuf,
    done: bool,
}

/// `DIR` with `suffix` appended to its last component.
fn sibling(target: &Path, suffix: &str) -> Result<PathBuf, OutputError> {
    let name = target
        .file_name()
        .ok_or_else(|| OutputError::NoName(target.to_owned()))?;
    let mut name = name.to_owned();
    name.push(suffix);
    Ok(target.with_file_name(name))
}

/// Fails unless `target` is free or `force` allows replacing it.
pub fn check_target(target: &Path, force: bool) -> Result<(), OutputError> {
    sibling(target, "")?;
    if !force && target.symlink_metadata().is_ok() {
        return Err(OutputError::Exists(target.to_owned()));
    }
    Ok(())
}

impl Staging {
    /// Creates `DIR.partial-<pid>` (and `DIR`'s parent if needed).
    pub fn create(target: &Path, force: bool) -> Result<Self, OutputError> {
        check_target(target, force)?;
        let partial = sibling(target, &format!(".partial-{}", std::process::id()))?;
        if let Some(parent) = partial.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        if partial.exists() {
            // Left by an earlier process with the same id, which is gone.
            std::fs::remove_dir_all(&partial).map_err(io("removing stale", &partial))?;
        }
        std::fs::create_dir(&partial).map_err(io("creating", &partial))?;
        Ok(Self {
            target: target.to_owned(),
            partial,
            done: false,
        })
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.partial
    }

    /// Renames the partial directory to the target; with `force`, an existing target is
    /// moved aside first and deleted after.
    pub fn commit(mut self, force: bool) -> Result<PathBuf, OutputError> {
        let old = if self.target.symlink_metadata().is_ok() {
            if !force {
                return Err(OutputError::Exists(self.target.clone()));
            }
            let old = sibling(&self.target, &format!(".old-{}", std::process::id()))?;
            std::fs::rename(&self.target, &old).map_err(io("moving aside", &self.target))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.partial, &self.target) {
            if let Some(old) = &old {
                // Put the previous ladder back rather than leave nothing.
                let _ = std::fs::rename(old, &self.target);
            }
            return Err(io("renaming into place", &self.target)(e));
        }
        self.done = true;
        if let Some(old) = old {
            let removed = if old.is_dir() {
                std::fs::remove_dir_all(&old)
            } else {
                std::fs::remove_file(&old)
            };
            removed.map_err(io("removing the replaced", &old))?;
        }
        Ok(self.target.clone())
    }

    /// Leaves the partial directory in place (for inspection) and returns its path.
    pub fn keep(mut self) -> PathBuf {
        self.done = true;
        self.partial.clone()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_directories_are_renamed_or_removed() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("nested/ladder");

        // Dropped without commit: nothing is left.
        let s = Staging::create(&target, false).unwrap();
        let partial = s.path().to_owned();
        assert!(partial.is_dir());
        assert!(
            partial
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ladder.partial-")
        );
        drop(s);
        assert!(!partial.exists());
        assert!(!target.exists());

        // Committed: the target holds what was written.
        let s = Staging::create(&target, false).unwrap();
        std::fs::write(s.path().join("a"), "1").unwrap();
        s.commit(false).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a")).unwrap(), "1");

        // Exists without force.
        let err = Staging::create(&target, false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");

        // Forced: replaced, old content gone, no siblings left over.
        let s = Staging::create(&target, true).unwrap();
        std::fs::write(s.path().join("b"), "2").unwrap();
        s.commit(true).unwrap();
        assert!(target.join("b").exists() && !target.join("a").exists());
        let siblings: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(siblings, ["ladder"]);

        // Kept for inspection.
        let s = Staging::create(&target, true).unwrap();
        let kept = s.keep();
        assert!(kept.is_dir());
        std::fs::remove_dir_all(kept).unwrap();

        assert!(matches!(
            check_target(Path::new("/"), false),
            Err(OutputError::NoName(_))
        ));
    }
}
