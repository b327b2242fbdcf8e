//! [`RedisStorage`]: tokens, client registrations and the refresh lease in Redis, shared by
//! every process and machine that reaches the same server (a fleet of gateway replicas).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::metadata::{OAuthClientInformationFull, OAuthToken};
use crate::storage::TokenStorage;

/// Deletes the lease only if `owner` still holds it (a holder whose lease expired and was taken
/// over must not release the new holder's lease).
const RELEASE_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
"#;

/// A Redis store (the `redis` crate, blocking API).
///
/// Keys, under a namespace `NS` (default `mcp-auth`):
/// - `NS:tokens:<resource>`: the tokens of a protected resource, as JSON;
/// - `NS:clients:<issuer>`: the client registration for an authorization server, as JSON;
/// - `NS:lease:<resource>`: the refresh lease, `SET … NX PX <ttl>` with a random owner token,
///   released by a compare-and-delete script, so only the holder releases it and a holder that
///   died stops blocking the others once `ttl` has passed.
///
/// Values are plain JSON: protect the server as you would the credential file (a password or
/// ACL user in the URL, a private network; `rediss://` is not compiled in).
///
/// One connection is opened lazily and reused; a failed command drops it and the next call
/// reconnects. Every command has a deadline ([`RedisStorage::with_timeout`], default 5 s); an
/// unreachable or failing server is an [`Error::Storage`] naming the server (never its
/// password).
pub struct RedisStorage {
    client: redis::Client,
    /// `redis://host:port/db`, without credentials, for messages.
    display: String,
    namespace: String,
    timeout: Duration,
    connection: Mutex<Option<redis::Connection>>,
    release: redis::Script,
}

impl std::fmt::Debug for RedisStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStorage")
            .field("server", &self.display)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisStorage {
    /// The namespace used when none is given.
    pub const DEFAULT_NAMESPACE: &'static str = "mcp-auth";

    /// A store on the server at `url` (`redis://[user:password@]host[:port][/db]` or
    /// `redis+unix:///path`), keys under `namespace` (`None`: [`Self::DEFAULT_NAMESPACE`]).
    /// Only the URL is checked here; the connection is opened on first use.
    pub fn new(url: &str, namespace: Option<&str>) -> Result<Self> {
        let display = redacted(url);
        let client = redis::Client::open(url).map_err(|e| Error::Storage {
            message: format!("invalid Redis URL {display}: {e}"),
        })?;
        let namespace = namespace
            .filter(|n| !n.is_empty())
            .unwrap_or(Self::DEFAULT_NAMESPACE)
            .to_owned();
        Ok(RedisStorage {
            client,
            display,
            namespace,
            timeout: Duration::from_secs(5),
            connection: Mutex::new(None),
            release: redis::Script::new(RELEASE_SCRIPT),
        })
    }

    /// The deadline of connecting and of each command (default 5 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The namespace (key prefix).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.namespace)
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Storage {
            message: format!("Redis store {}: {what}: {e}", self.display),
        }
    }

    /// Run `f` on the shared connection, connecting first if needed. A failure drops the
    /// connection so that the next call reconnects.
    fn with<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let mut guard = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let con = self
                .client
                .get_connection_with_timeout(self.timeout)
                .map_err(|e| self.error("cannot connect", e))?;
            let timeouts = con
                .set_read_timeout(Some(self.timeout))
                .and_then(|()| con.set_write_timeout(Some(self.timeout)));
            timeouts.map_err(|e| self.error("cannot set timeouts", e))?;
            *guard = Some(con);
        }
        let con = guard.as_mut().expect("connected above");
        match f(con) {
            Ok(v) => Ok(v),
            Err(e) => {
                *guard = None;
                Err(self.error(what, e))
            }
        }
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let raw: Option<String> = self.with("cannot read", |c| {
            redis::cmd("GET").arg(key).query::<Option<String>>(c)
        })?;
        raw.map(|s| {
            serde_json::from_str(&s).map_err(|e| self.error(&format!("cannot parse {key}"), e))
        })
        .transpose()
    }

    fn set_json<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let json = serde_json::to_string(value).map_err(|e| self.error("cannot serialize", e))?;
        self.with("cannot write", |c| {
            redis::cmd("SET").arg(key).arg(json).query::<()>(c)
        })
    }
}

impl TokenStorage for RedisStorage {
    fn get_tokens(&self, resource: &str) -> Result<Option<OAuthToken>> {
        self.get_json(&self.key("tokens", resource))
    }
    fn set_tokens(&self, resource: &str, tokens: &OAuthToken) -> Result<()> {
        self.set_json(&self.key("tokens", resource), tokens)
    }
    fn remove_tokens(&self, resource: &str) -> Result<()> {
        let key = self.key("tokens", resource);
        self.with("cannot delete", |c| {
            redis::cmd("DEL").arg(&key).query::<()>(c)
        })
    }
    fn get_client_info(&self, issuer: &str) -> Result<Option<OAuthClientInformationFull>> {
        self.get_json(&self.key("clients", issuer))
    }
    fn set_client_info(&self, issuer: &str, info: &OAuthClientInformationFull) -> Result<()> {
        self.set_json(&self.key("clients", issuer), info)
    }
    fn remove_client_info(&self, issuer: &str) -> Result<()> {
        let key = self.key("clients", issuer);
        self.with("cannot delete", |c| {
            redis::cmd("DEL").arg(&key).query::<()>(c)
        })
    }

    /// `SET NS:lease:<key> <owner> NX PX <ttl>`, retried with a bounded backoff until it
    /// succeeds or `2 × ttl` has passed (a holder's lease expires within `ttl`, so only
    /// sustained contention or a failing server gets there).
    fn acquire_lease(&self, key: &str, owner: &str, ttl: Duration) -> Result<bool> {
        let lease = self.key("lease", key);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let set: Option<String> = self.with("cannot take the refresh lease", |c| {
                redis::cmd("SET")
                    .arg(&lease)
                    .arg(owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .query(c)
            })?;
            if set.is_some() {
                return Ok(true);
            }
            let waited = started.elapsed();
            if waited >= ttl * 2 {
                return Err(self.error(
                    "refresh lease",
                    format!("still held by others after {} ms", waited.as_millis()),
                ));
            }
            std::thread::sleep(super::lease_backoff(pause));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    fn release_lease(&self, key: &str, owner: &str) -> Result<()> {
        let lease = self.key("lease", key);
        self.with("cannot release the refresh lease", |c| {
            self.release
                .key(&lease)
                .arg(owner)
                .invoke::<i64>(c)
                .map(drop)
        })
    }
}

/// The URL without user name and password.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}
