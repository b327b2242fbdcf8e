//! Credential storage: tokens keyed by protected resource, client registrations keyed by
//! authorization-server issuer (SEP-2352: credentials are bound to the issuer that issued
//! them).
//!
//! Two implementations: [`MemoryStorage`] (the default) and [`FileStorage`] (one JSON file,
//! mode 0600, written atomically by rename under an advisory lock so that two processes can
//! share it).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
}

/// A JSON file shared by processes.
///
/// Every write takes an exclusive advisory lock on `<file>.lock`, re-reads the file, applies
/// the change, writes `<file>.tmp-<pid>` with mode 0600, `fsync`s it and renames it over the
/// file. A crash at any point leaves either the old or the new complete file, never a torn one;
/// a concurrent writer in another process never overwrites an entry it did not change.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    lock_path: PathBuf,
    // Serializes writers inside this process (the advisory lock is per open file description
    // on some platforms, so threads must not rely on it alone).
    local: Mutex<()>,
}

impl FileStorage {
    /// A store at `path`. The file need not exist; parent directories are created on first
    /// write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        FileStorage {
            path,
            lock_path: PathBuf::from(lock),
            local: Mutex::new(()),
        }
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

    fn storage_error(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Storage {
            message: format!("{what} {}: {e}", self.path.display()),
        }
    }

    fn read(&self) -> Result<StoreData> {
        match fs::read(&self.path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(StoreData::default()),
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| self.storage_error("cannot parse credential file", e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoreData::default()),
            Err(e) => Err(self.storage_error("cannot read credential file", e)),
        }
    }

    fn update(&self, change: impl FnOnce(&mut StoreData)) -> Result<()> {
        let _local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .map_err(|e| self.storage_error("cannot create directory for", e))?;
        }
        let _lock = FileLock::acquire(&self.lock_path)
            .map_err(|e| self.storage_error("cannot lock credential file", e))?;
        let mut data = self.read()?;
        change(&mut data);
        data.version = format_version();
        let json = serde_json::to_vec_pretty(&data)
            .map_err(|e| self.storage_error("cannot serialize credentials for", e))?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let result = write_private(&tmp, &json).and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(self.storage_error("cannot write credential file", e));
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Persist the rename itself (POSIX: a directory fsync makes the new entry durable).
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// Write `bytes` to a new file readable only by the owner, and flush it to disk.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        // The file may have existed with wider permissions (a stale temp file).
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()
}

/// An exclusive advisory lock held for the life of the value (`flock(2)` on Unix).
struct FileLock {
    #[allow(dead_code)] // held for its lock, released on drop/close
    file: fs::File,
}

impl FileLock {
    fn acquire(path: &Path) -> std::io::Result<FileLock> {
        let mut opts = fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: `file` is an open descriptor owned by this function for the call.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(FileLock { file })
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
}
