//! The refresh lease of [`super::FileStorage`]: an exclusive OS file lock (`flock(2)` /
//! `LockFileEx`, through `fs4`) on `<file>.lease-<digest of the key>`, held from acquisition to
//! release. The kernel releases it when the holder's process dies, even by SIGKILL, so a crashed
//! holder never blocks the others.
//!
//! It is a file of its own, not the store's write lock: the holder writes the refreshed tokens
//! (which takes the write lock) while it holds the lease.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The leases this store value holds, by (key, owner).
#[derive(Debug, Default)]
pub(super) struct FileLeases {
    held: Mutex<HashMap<(String, String), fs::File>>,
}

/// Why a lease was not taken.
pub(super) enum LeaseError {
    /// Another holder kept it for the whole wait.
    TimedOut(Duration),
    Io(std::io::Error),
}

/// `<store file>.lease-<first 16 hex digits of SHA-256(key)>`: one lease per resource, a name
/// that does not reveal the resource.
pub(super) fn lease_path(store: &Path, key: &str) -> PathBuf {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut name = store.as_os_str().to_owned();
    name.push(format!(".lease-{hex}"));
    PathBuf::from(name)
}

impl FileLeases {
    /// Lock `path` for (`key`, `owner`), waiting at most `wait` for another holder.
    pub(super) fn acquire(
        &self,
        path: &Path,
        key: &str,
        owner: &str,
        wait: Duration,
    ) -> std::result::Result<(), LeaseError> {
        let mut opts = fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        // A new open file description per acquisition: flock excludes other descriptions, so
        // two threads (or two clients) of this process exclude each other as processes do.
        let file = opts.open(path).map_err(LeaseError::Io)?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => break,
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => return Err(LeaseError::Io(e)),
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(LeaseError::TimedOut(waited));
            }
            std::thread::sleep(super::lease_backoff(pause).min(wait - waited));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((key.to_owned(), owner.to_owned()), file);
        Ok(())
    }

    /// Release the lease `owner` holds on `key` (closing the file unlocks it); a no-op for a
    /// lease this value does not hold.
    pub(super) fn release(&self, key: &str, owner: &str) {
        let file = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(key.to_owned(), owner.to_owned()));
        if let Some(f) = file {
            let _ = fs4::FileExt::unlock(&f);
        }
    }
}
