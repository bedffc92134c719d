//! A fresh private (0700) temporary directory for one peer's files (a socket, a FIFO,
//! iceoryx2's root), removed with everything in it when dropped.

use std::path::{Path, PathBuf};

/// A directory `TMP/synclab-PREFIX-PID-N-NANOS`, created with mode 0700 (failing if it exists:
/// it is ours alone), removed recursively on drop.
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Creates the directory.
    pub fn new(prefix: &str) -> Result<Self, String> {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        // Relaxed: the counter only needs to be unique within this process.
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "synclab-{prefix}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(PrivateDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
