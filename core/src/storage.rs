//! Credential storage: tokens keyed by protected resource, client registrations keyed by
//! authorization-server issuer (SEP-2352: credentials are bound to the issuer that issued
//! them).
//!
//! Implementations: [`MemoryStorage`] (the default), [`FileStorage`] (one JSON file, mode 0600,
//! written atomically by rename under an advisory lock with a deadline so that processes can
//! share it) and, with the `redis` feature, [`RedisStorage`] (shared by machines).
//!
//! **The refresh lease** ([`TokenStorage::acquire_lease`] / [`TokenStorage::release_lease`]):
//! processes that share a store refresh a token once per expiry, not once per process. The
//! session takes the lease for the resource, re-reads the stored token, adopts it when another
//! holder already refreshed, and otherwise refreshes, stores and releases. A store that does not
//! implement the lease (the default methods) gets the in-process single flight only: threads of
//! one client refresh once, processes may each refresh. See docs/fleet.md.

mod file_lease;
#[cfg(feature = "redis")]
mod redis_store;

use file_lease::{FileLeases, LeaseError};
#[cfg(feature = "redis")]
pub use redis_store::RedisStorage;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metadata::{OAuthClientInformationFull, OAuthToken};

/// Where the client keeps its tokens and client registrations.
///
/// Implementations must be safe to call from several threads. A failed `set_*` must leave the
/// previously stored value intact (the client relies on this to never lose working
/// credentials).
pub trait TokenStorage: Send + Sync {
    /// The tokens stored for a protected resource (its canonical URL), if any.
    fn get_tokens(&self, resource: &str) -> Result<Option<OAuthToken>>;
    /// Store the tokens for a protected resource, replacing the previous ones.
    fn set_tokens(&self, resource: &str, tokens: &OAuthToken) -> Result<()>;
    /// Forget the tokens of a protected resource (logout).
    fn remove_tokens(&self, resource: &str) -> Result<()>;
    /// The client registration stored for an authorization server issuer, if any.
    fn get_client_info(&self, issuer: &str) -> Result<Option<OAuthClientInformationFull>>;
    /// Store the client registration for an authorization server issuer.
    fn set_client_info(&self, issuer: &str, info: &OAuthClientInformationFull) -> Result<()>;
    /// Forget the client registration stored for an authorization server issuer (the next
    /// authorization registers anew). Only on a host's explicit request
    /// ([`crate::Client::forget_client`]): the client never forgets a registration by itself,
    /// except one the server refused as unknown. The default refuses with
    /// [`Error::Storage`].
    fn remove_client_info(&self, issuer: &str) -> Result<()> {
        Err(Error::Storage {
            message: format!(
                "this storage cannot forget the client registration for {issuer} (it does not implement remove_client_info)"
            ),
        })
    }

    /// Take the cross-process refresh lease for `key` (a protected resource's key, as in
    /// [`get_tokens`](Self::get_tokens)) on behalf of `owner` (a random token unique to this
    /// acquisition), waiting while another owner holds it.
    ///
    /// Returns `Ok(true)` once held, `Ok(false)` when this store has no cross-process lease (the
    /// default: the session then relies on its in-process single flight alone), and an
    /// [`Error::Storage`] when it cannot be taken (the store is unreachable, or others held it
    /// for about `ttl` or more). A lease must end by itself: at most `ttl` after it was taken
    /// (a deadline in the store), or when the holder's process dies (an OS lock), so that a
    /// crashed or hung holder cannot block the others for ever.
    fn acquire_lease(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool> {
        let _ = (key, owner, ttl);
        Ok(false)
    }

    /// Release the lease `owner` took on `key`. Must not release a lease now held by another
    /// owner (after this one's deadline passed and another took it over). The default does
    /// nothing.
    fn release_lease(&self, key: &str, owner: &str) -> Result<()> {
        let _ = (key, owner);
        Ok(())
    }
}

/// How long a lease waiter sleeps before its next attempt: a random pause of up to `cap` ("full
/// jitter"), at least 1 ms. Waiters that started together would otherwise retry in lockstep, and
/// after each release only one of them gets the lease per round of retries (with a 100 ms cap,
/// 32 waiters took seconds to get through a lease held for a millisecond each).
fn lease_backoff(cap: Duration) -> Duration {
    let mut b = [0u8; 4];
    let r = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let f = if r.is_ok() {
        f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
    } else {
        0.5
    };
    cap.mul_f64(f).max(Duration::from_millis(1))
}

/// The serialized content of a store.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct StoreData {
    #[serde(default = "format_version")]
    version: u32,
    #[serde(default)]
    tokens: BTreeMap<String, OAuthToken>,
    #[serde(default)]
    clients: BTreeMap<String, OAuthClientInformationFull>,
}

fn format_version() -> u32 {
    1
}

/// In-process storage; lost when the process exits. The default.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    data: Mutex<StoreData>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut StoreData) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update of a map insert,
        // which cannot leave the maps inconsistent: keep using it.
        let mut guard = self.data.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

impl TokenStorage for MemoryStorage {
    fn get_tokens(&self, resource: &str) -> Result<Option<OAuthToken>> {
        Ok(self.with(|d| d.tokens.get(resource).cloned()))
    }
    fn set_tokens(&self, resource: &str, tokens: &OAuthToken) -> Result<()> {
        self.with(|d| d.tokens.insert(resource.to_owned(), tokens.clone()));
        Ok(())
    }
    fn remove_tokens(&self, resource: &str) -> Result<()> {
        self.with(|d| d.tokens.remove(resource));
        Ok(())
    }
    fn get_client_info(&self, issuer: &str) -> Result<Option<OAuthClientInformationFull>> {
        Ok(self.with(|d| d.clients.get(issuer).cloned()))
    }
    fn set_client_info(&self, issuer: &str, info: &OAuthClientInformationFull) -> Result<()> {
        self.with(|d| d.clients.insert(issuer.to_owned(), info.clone()));
        Ok(())
    }
    fn remove_client_info(&self, issuer: &str) -> Result<()> {
        self.with(|d| d.clients.remove(issuer));
        Ok(())
    }
}

/// A JSON file shared by processes.
///
/// Every write takes an exclusive advisory lock on `<file>.lock` (`flock(2)` on Unix,
/// `LockFileEx` on Windows, through `fs4`), re-reads the file, applies the change, writes a new
/// temporary file next to it and renames that over the file. A crash at any point leaves either
/// the old or the new complete file, never a torn one; a concurrent writer in another process
/// never overwrites an entry it did not change.
///
/// Against other local users and planted files:
/// - the temporary file is created exclusively (`O_CREAT|O_EXCL`, so a planted symlink is never
///   followed) under an unpredictable name (`<file>.tmp-<random>`, the `tempfile` crate), mode
///   0600, in the file's own directory, `fsync`ed, then renamed over the file (names
///   `<file>.tmp-*` belong to the store: a write removes those a dead writer left behind);
/// - the lock file is opened without following a symlink (Unix), mode 0600;
/// - a directory created for the file is mode 0700 (Unix);
/// - a credential file readable or writable by group or others is narrowed to 0600 on first use
///   (read or write), silently (the store writes no logs); one that cannot be narrowed is read
///   anyway and is replaced by a 0600 file on the next write.
///
/// The lock has a deadline ([`FileStorage::DEFAULT_LOCK_TIMEOUT`], see
/// [`FileStorage::with_lock_timeout`]): a process that hangs while holding it makes the others
/// fail with [`Error::Storage`] ("… is locked by another process …") instead of waiting for ever.
/// The lock file is kept (never deleted), so it can serve other cross-process critical sections
/// on the same store.
///
/// The path is used as given: `~` is not expanded (the shells, the CLI and the language
/// bindings expand it).
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    lock_path: PathBuf,
    lock_timeout: Duration,
    // Serializes writers inside this process (the advisory lock is per open file description
    // on some platforms, so threads must not rely on it alone).
    local: Mutex<()>,
    // Whether the permissions of an existing file were checked (once per value).
    checked_mode: AtomicBool,
    // The refresh leases held through this value.
    leases: FileLeases,
}

impl FileStorage {
    /// How long a write waits for another process to release the lock, unless set with
    /// [`FileStorage::with_lock_timeout`].
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

    /// A store at `path`. The file need not exist; parent directories are created on first
    /// write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        FileStorage {
            path,
            lock_path: PathBuf::from(lock),
            lock_timeout: Self::DEFAULT_LOCK_TIMEOUT,
            local: Mutex::new(()),
            checked_mode: AtomicBool::new(false),
            leases: FileLeases::default(),
        }
    }

    /// How long a write waits for the cross-process lock before failing with
    /// [`Error::Storage`] (default [`FileStorage::DEFAULT_LOCK_TIMEOUT`]). The lock is polled
    /// with a bounded backoff, so the wait ends within a few hundred milliseconds of the
    /// deadline.
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The default location: `$MCP_AUTH_HOME/credentials.json`, else
    /// `$XDG_CONFIG_HOME/mcp-auth/credentials.json`, else `~/.config/mcp-auth/credentials.json`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(h) = std::env::var_os("MCP_AUTH_HOME") {
            return Some(PathBuf::from(h).join("credentials.json"));
        }
        if let Some(x) = std::env::var_os("XDG_CONFIG_HOME") {
            return Some(PathBuf::from(x).join("mcp-auth").join("credentials.json"));
        }
        std::env::var_os("HOME").map(|h| {
            PathBuf::from(h)
                .join(".config")
                .join("mcp-auth")
                .join("credentials.json")
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file's path (`<file>.lock`).
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// Forget the client registration stored for an authorization server issuer (the next
    /// authorization registers anew). Not part of [`TokenStorage`]: the client never forgets a
    /// registration by itself; this is for hosts (a `logout --forget-client`).
    ///
    /// # Errors
    /// [`Error::Storage`] if the file cannot be read, locked or written.
    pub fn remove_client_info(&self, issuer: &str) -> Result<()> {
        self.update(|d| {
            d.clients.remove(issuer);
        })
    }

    fn storage_error(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Storage {
            message: format!("{what} {}: {e}", self.path.display()),
        }
    }

    /// On first use, narrow an existing credential file that group or others may access to
    /// 0600 (best effort: a file owned by someone else stays as it is, and is replaced by a
    /// 0600 file on the next write).
    fn check_mode_once(&self) {
        if self.checked_mode.swap(true, Ordering::Relaxed) {
            return;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = fs::metadata(&self.path) {
                if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                    let _ = fs::set_permissions(&self.path, fs::Permissions::from_mode(0o600));
                }
            }
        }
    }

    fn read(&self) -> Result<StoreData> {
        self.check_mode_once();
        match fs::read(&self.path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(StoreData::default()),
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| self.storage_error("cannot parse credential file", e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoreData::default()),
            Err(e) => Err(self.storage_error("cannot read credential file", e)),
        }
    }

    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        }
    }

    fn update(&self, change: impl FnOnce(&mut StoreData)) -> Result<()> {
        let _local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let dir = self.dir();
        create_private_dir(dir)
            .map_err(|e| self.storage_error("cannot create directory for", e))?;
        let _lock = FileLock::acquire(&self.lock_path, self.lock_timeout).map_err(|e| match e {
            LockError::TimedOut(waited) => Error::Storage {
                message: format!(
                    "credential store {} is locked by another process for {} s (lock file {}); \
                     if no other mcp-auth process is running, a hung one holds it",
                    self.path.display(),
                    waited.as_secs(),
                    self.lock_path.display()
                ),
            },
            LockError::Io(e) => self.storage_error("cannot lock credential file", e),
        })?;
        let mut data = self.read()?;
        change(&mut data);
        data.version = format_version();
        let json = serde_json::to_vec_pretty(&data)
            .map_err(|e| self.storage_error("cannot serialize credentials for", e))?;
        self.remove_stale_temp_files(dir);
        self.write_atomically(dir, &json)
            .map_err(|e| self.storage_error("cannot write credential file", e))?;
        // Persist the rename itself (POSIX: a directory fsync makes the new entry durable).
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// The name prefix of temporary files: `<file name>.tmp-`.
    fn temp_prefix(&self) -> std::ffi::OsString {
        let mut prefix = self.path.file_name().unwrap_or_default().to_os_string();
        prefix.push(".tmp-");
        prefix
    }

    /// Write a new 0600 file with an unpredictable name in `dir`, `fsync` it, and rename it
    /// over the credential file. A failure removes the temporary file.
    fn write_atomically(&self, dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
        // `tempfile` opens with O_CREAT|O_EXCL (never follows a planted symlink, never reuses
        // an existing file), mode 0600 on Unix, retrying on a name collision.
        let mut tmp = tempfile::Builder::new()
            .prefix(&self.temp_prefix())
            .rand_bytes(16)
            .tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Remove the temporary files of writers that died between writing and renaming. Called
    /// with the lock held: every writer creates its temporary file while holding the lock, so
    /// none of these belongs to a live writer. `remove_file` removes a symlink, never its
    /// target.
    fn remove_stale_temp_files(&self, dir: &Path) {
        let prefix = self.temp_prefix();
        let prefix = prefix.as_encoded_bytes();
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().as_encoded_bytes().starts_with(prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// `create_dir_all`, with mode 0700 for the directories it creates (Unix).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

enum LockError {
    TimedOut(Duration),
    Io(std::io::Error),
}

/// An exclusive advisory lock on the lock file, held for the life of the value (`fs4`:
/// `flock(2)` on Unix, `LockFileEx` on Windows; released when the file is closed, so also
/// when the process dies).
struct FileLock {
    #[allow(dead_code)] // held for its lock, released on drop/close
    file: fs::File,
}

impl FileLock {
    fn acquire(path: &Path, timeout: Duration) -> std::result::Result<FileLock, LockError> {
        let mut opts = fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = opts.open(path).map_err(LockError::Io)?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(FileLock { file }),
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => return Err(LockError::Io(e)),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(LockError::TimedOut(waited));
            }
            // Bounded exponential backoff, never past the deadline.
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

impl TokenStorage for FileStorage {
    fn get_tokens(&self, resource: &str) -> Result<Option<OAuthToken>> {
        Ok(self.read()?.tokens.remove(resource))
    }
    fn set_tokens(&self, resource: &str, tokens: &OAuthToken) -> Result<()> {
        self.update(|d| {
            d.tokens.insert(resource.to_owned(), tokens.clone());
        })
    }
    fn remove_tokens(&self, resource: &str) -> Result<()> {
        self.update(|d| {
            d.tokens.remove(resource);
        })
    }
    fn get_client_info(&self, issuer: &str) -> Result<Option<OAuthClientInformationFull>> {
        Ok(self.read()?.clients.remove(issuer))
    }
    fn set_client_info(&self, issuer: &str, info: &OAuthClientInformationFull) -> Result<()> {
        self.update(|d| {
            d.clients.insert(issuer.to_owned(), info.clone());
        })
    }
    fn remove_client_info(&self, issuer: &str) -> Result<()> {
        FileStorage::remove_client_info(self, issuer)
    }

    /// An exclusive OS lock on `<file>.lease-<digest of key>`, waited for at most `ttl`. The
    /// kernel drops it when the holder dies (even by SIGKILL): the next process takes over at
    /// once. A live holder cannot be overtaken (an OS lock has no deadline); its refresh is
    /// bounded by the HTTP timeout, and waiters give up with a storage error after `ttl`.
    fn acquire_lease(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool> {
        create_private_dir(self.dir())
            .map_err(|e| self.storage_error("cannot create directory for", e))?;
        let path = file_lease::lease_path(&self.path, key);
        match self.leases.acquire(&path, key, owner, ttl) {
            Ok(()) => Ok(true),
            Err(LeaseError::TimedOut(waited)) => Err(Error::Storage {
                message: format!(
                    "the refresh lease of credential store {} is held by another process for \
                     {} s (lease file {})",
                    self.path.display(),
                    waited.as_secs(),
                    path.display()
                ),
            }),
            Err(LeaseError::Io(e)) => {
                Err(self.storage_error("cannot take the refresh lease of", e))
            }
        }
    }

    fn release_lease(&self, key: &str, owner: &str) -> Result<()> {
        self.leases.release(key, owner);
        Ok(())
    }
}
