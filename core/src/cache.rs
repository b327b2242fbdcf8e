//! A metadata cache honouring `Cache-Control` (RFC 9111 §5.2.2), for discovery.
//!
//! What is cached is the *resolution of a discovery chain*: for one ordered list of candidate
//! URLs (the protected resource metadata chain of RFC 9728 §3 / SEP-985, or the authorization
//! server metadata chain of RFC 8414 §3.1 / OIDC Discovery §4), the URL that answered `200`
//! and its body. A warm lookup therefore skips the whole chain, including the candidates that
//! answered `404` before the winner: a warm discovery sends zero requests. The cached body
//! goes through the same parsing and the same issuer / resource checks as a fetched one.
//!
//! Freshness comes from the winning response only:
//! - `no-store` or `no-cache` (we never revalidate), or `max-age=0`: not stored;
//! - `max-age=N` (minus `Age`): stored for N seconds, capped by [`MetadataCache::max_ttl`];
//! - no `max-age`: stored only when a [`MetadataCache::with_default_ttl`] is configured.
//!
//! `s-maxage` is ignored (this is a private cache) and so is `Expires` (metadata servers that
//! want caching send `max-age`). The cache is off by default in [`crate::Client`]: enable it
//! with [`crate::ClientBuilder::metadata_cache`] or [`crate::ClientConfig::cache_metadata`].
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The largest lifetime any entry gets by default: one day.
pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
struct Entry {
    url: String,
    body: Arc<Vec<u8>>,
    expires: Instant,
}

/// A thread-safe cache of discovery chain resolutions. Share one between clients with
/// `Arc`; [`MetadataCache::shared`] is the process-wide one.
#[derive(Debug)]
pub struct MetadataCache {
    entries: Mutex<HashMap<String, Entry>>,
    default_ttl: Option<Duration>,
    max_ttl: Duration,
}

impl Default for MetadataCache {
    fn default() -> Self {
        Self::new()
    }
}

/// A cached answer: where the document was found and its body.
#[derive(Debug, Clone)]
pub struct CachedDocument {
    /// The URL that answered `200`.
    pub url: String,
    /// The response body.
    pub body: Arc<Vec<u8>>,
}

impl MetadataCache {
    /// An empty cache: explicit `max-age` only, at most [`DEFAULT_MAX_TTL`].
    pub fn new() -> Self {
        MetadataCache {
            entries: Mutex::new(HashMap::new()),
            default_ttl: None,
            max_ttl: DEFAULT_MAX_TTL,
        }
    }

    /// Also cache responses without `max-age` (but never `no-store` / `no-cache`) for `ttl`.
    pub fn with_default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// Cap every lifetime at `ttl`.
    pub fn with_max_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// The largest lifetime of an entry.
    pub fn max_ttl(&self) -> Duration {
        self.max_ttl
    }

    /// The process-wide cache used by clients built with
    /// [`crate::ClientConfig::cache_metadata`] and no cache of their own.
    pub fn shared() -> Arc<MetadataCache> {
        static SHARED: OnceLock<Arc<MetadataCache>> = OnceLock::new();
        SHARED
            .get_or_init(|| Arc::new(MetadataCache::new()))
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fresh entry for `key`, if any (a stale one is removed).
    pub fn get(&self, key: &str) -> Option<CachedDocument> {
        let mut map = self.lock();
        match map.get(key) {
            Some(e) if e.expires > Instant::now() => Some(CachedDocument {
                url: e.url.clone(),
                body: e.body.clone(),
            }),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Store `body`, found at `url` for the chain `key`, when the response `headers` allow
    /// it. Returns the lifetime it was stored for.
    pub fn put(
        &self,
        key: &str,
        url: &str,
        body: &[u8],
        headers: &http::HeaderMap,
    ) -> Option<Duration> {
        let ttl = freshness_lifetime(headers, self.default_ttl)?.min(self.max_ttl);
        if ttl.is_zero() {
            self.remove(key);
            return None;
        }
        self.lock().insert(
            key.to_owned(),
            Entry {
                url: url.to_owned(),
                body: Arc::new(body.to_vec()),
                expires: Instant::now() + ttl,
            },
        );
        Some(ttl)
    }

    /// Forget the entry for `key`.
    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Forget everything.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The number of entries (fresh or not yet evicted).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The cache key of a discovery chain: its candidate URLs in order, plus the
/// `MCP-Protocol-Version` the requests carry.
pub fn chain_key(kind: &str, protocol_version: &str, candidates: &[String]) -> String {
    let mut key = String::with_capacity(64 + candidates.iter().map(String::len).sum::<usize>());
    key.push_str(kind);
    key.push(' ');
    key.push_str(protocol_version);
    for c in candidates {
        key.push(' ');
        key.push_str(c);
    }
    key
}

/// How long a response may be reused (RFC 9111 §4.2.1, private cache): `None` when it must
/// not be stored (`no-store`, `no-cache`) or names no lifetime and `default_ttl` is `None`.
/// `max-age=0` gives `Some(0)`.
pub fn freshness_lifetime(
    headers: &http::HeaderMap,
    default_ttl: Option<Duration>,
) -> Option<Duration> {
    let mut max_age: Option<u64> = None;
    for value in headers.get_all(http::header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else {
            return None;
        };
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, arg) = match directive.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return None;
            }
            if name.eq_ignore_ascii_case("max-age") {
                // RFC 9111 §1.2.2: an invalid delta-seconds is treated as stale.
                let secs = arg.and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
                // Several max-age directives: the most conservative one.
                max_age = Some(max_age.map_or(secs, |m| m.min(secs)));
            }
        }
    }
    let age = headers
        .get(http::header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    match max_age {
        Some(secs) => Some(Duration::from_secs(secs.saturating_sub(age))),
        None => default_ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> http::HeaderMap {
        let mut m = http::HeaderMap::new();
        m.insert(http::header::CACHE_CONTROL, v.parse().unwrap());
        m
    }

    #[test]
    fn lifetimes() {
        assert_eq!(
            freshness_lifetime(&h("max-age=60"), None),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            freshness_lifetime(&h("public, max-age=0"), None),
            Some(Duration::ZERO)
        );
        assert_eq!(freshness_lifetime(&h("max-age=60, no-store"), None), None);
        assert_eq!(
            freshness_lifetime(&h("no-cache"), Some(Duration::from_secs(5))),
            None
        );
        assert_eq!(freshness_lifetime(&http::HeaderMap::new(), None), None);
        assert_eq!(
            freshness_lifetime(&http::HeaderMap::new(), Some(Duration::from_secs(5))),
            Some(Duration::from_secs(5))
        );
        let mut m = h("max-age=60");
        m.insert(http::header::AGE, "50".parse().unwrap());
        assert_eq!(freshness_lifetime(&m, None), Some(Duration::from_secs(10)));
    }

    #[test]
    fn put_get() {
        let c = MetadataCache::new().with_max_ttl(Duration::from_secs(30));
        assert_eq!(
            c.put("k", "u", b"{}", &h("max-age=3600")),
            Some(Duration::from_secs(30))
        );
        assert_eq!(c.get("k").unwrap().url, "u");
        assert_eq!(c.put("k", "u", b"{}", &h("max-age=0")), None);
        assert!(c.get("k").is_none());
    }
}
