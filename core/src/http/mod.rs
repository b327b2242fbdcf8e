//! The HTTP seam: every request mcp-auth makes goes through an [`HttpClient`], and
//! [`UreqHttpClient`] is the real, blocking implementation.
//!
//! The trait works on plain [`http::Request<Vec<u8>>`] and [`http::Response<Vec<u8>>`] so that
//! tests (and embedders with their own HTTP stack) can pass a closure; see the blanket
//! implementation for `Fn`.
//!
//! # Security
//! - **Redirects are not followed** by default ([`HttpConfig::follow_redirects`]): a `3xx` is
//!   returned as-is, `Location` included. Following redirects on OAuth requests invites SSRF
//!   and leaks request bodies (credentials, codes) to another host; the OAuth layer decides
//!   what a redirect means.
//! - **Status codes are never errors**: an RFC 6749 §5.2 error body on a 400 or 401 must be
//!   readable.
//! - **Bodies are capped** ([`HttpConfig::max_body_bytes`]), both on the wire and after
//!   `gzip` decoding, so a small compressed body cannot expand without bound.
//! - **URLs in errors are redacted** ([`redact_url`]): query strings can carry authorization
//!   codes and userinfo can carry passwords.
//! - HTTPS is enforced by the OAuth layer (`http` only for loopback hosts, OAuth 2.1 §1.5),
//!   not here, so that loopback servers work.
//! - **Trust** is the platform's ([`tls`]): the system store, `SSL_CERT_FILE` / `SSL_CERT_DIR`,
//!   plus any CA bundle given in [`HttpConfig::tls`]; a certificate failure is
//!   [`Error::Certificate`], whose message names those settings.
//!
//! # MCP traffic is not OAuth traffic
//! [`HttpClient::execute`] is for OAuth and metadata requests: the body is capped
//! ([`HttpConfig::max_body_bytes`]) and the whole exchange has one deadline
//! ([`HttpConfig::timeout`]). [`HttpClient::execute_streamed`] is for MCP traffic: the body is
//! read as it arrives (a large tool result, a `text/event-stream`, see [`crate::sse`]), with no
//! cap unless [`HttpConfig::stream_max_body_bytes`] sets one, a connect timeout and an idle
//! timeout between reads instead of a deadline.
//!
//! # Connections
//! One [`UreqHttpClient`] keeps a pool of idle keep-alive connections sized for many threads
//! ([`HttpConfig::max_idle_connections_per_host`]); names are resolved without a thread per
//! request ([`resolve`]), and an [`AddressFilter`] can vet every resolved address.

use std::io::Read as _;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ureq::unversioned::transport::DefaultConnector;

use crate::error::{Error, Result};

pub mod resolve;
mod stream;
pub mod tls;

pub use resolve::AddressFilter;
pub use stream::StreamedResponse;
pub use tls::{ClientCertificate, PemSource, TlsSettings};

/// The default per-request timeout: 30 seconds, end to end (DNS, connect, TLS, request,
/// response and body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default response body cap: 1 MiB, far above any metadata or token response.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default `User-Agent` (RFC 9110 §10.1.5): `mcp-auth/<crate version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("mcp-auth/", env!("CARGO_PKG_VERSION"));

/// The default connect timeout (name resolution, TCP and TLS handshakes): 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default idle timeout of a streamed body: 5 minutes without a byte ends the stream.
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The default size of the idle-connection pool, in total and per host: enough for 256
/// threads sharing one client without closing and reopening connections.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 256;

/// How many redirects [`UreqHttpClient`] follows when [`HttpConfig::follow_redirects`] is set.
const MAX_REDIRECTS_WHEN_FOLLOWING: u32 = 10;

/// Sends one HTTP request and returns the response, whatever its status.
///
/// Implementations must:
/// - return every response that arrives as `Ok`, including 4xx, 5xx and 3xx (the OAuth layer
///   needs error bodies and must see redirects);
/// - return [`Error::Transport`], [`Error::Timeout`] or [`Error::ResponseTooLarge`] when no
///   complete response could be obtained, with the URL redacted by [`redact_url`];
/// - be usable from several threads at once.
///
/// Any `Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> + Send + Sync` is an
/// `HttpClient`, which is how tests mock the network:
///
/// ```
/// use mcp_auth::http::HttpClient;
///
/// let client = |req: http::Request<Vec<u8>>| {
///     assert_eq!(req.uri(), "https://as.example.com/.well-known/oauth-authorization-server");
///     Ok(http::Response::builder().status(404).body(Vec::new()).unwrap())
/// };
/// let req = http::Request::get("https://as.example.com/.well-known/oauth-authorization-server")
///     .body(Vec::new())
///     .unwrap();
/// assert_eq!(client.execute(req).unwrap().status(), 404);
/// ```
pub trait HttpClient: Send + Sync {
    /// Send `request` and return the complete response.
    ///
    /// # Errors
    /// Only when no complete response was obtained: [`Error::Transport`], [`Error::Timeout`],
    /// [`Error::ResponseTooLarge`] (an HTTP status is never an error).
    fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>>;

    /// Send `request` and return the response as soon as its head has arrived, with the body
    /// to be read as it comes: MCP traffic (large tool results, `text/event-stream`).
    ///
    /// [`UreqHttpClient`] applies no body cap (unless [`HttpConfig::stream_max_body_bytes`]),
    /// a connect timeout and an idle timeout between reads, not the whole-request
    /// [`HttpConfig::timeout`]. Errors while reading the body are `std::io::Error`s whose
    /// [`get_ref`](std::io::Error::get_ref) is the [`Error`] (timeout, too large, transport).
    ///
    /// The default implementation calls [`execute`](HttpClient::execute) and returns the
    /// buffered body, so closures and other simple clients stream trivially.
    ///
    /// # Errors
    /// As [`execute`](HttpClient::execute), for the request and the response head.
    fn execute_streamed(&self, request: http::Request<Vec<u8>>) -> Result<StreamedResponse> {
        let (parts, body) = self.execute(request)?.into_parts();
        Ok(http::Response::from_parts(
            parts,
            Box::new(std::io::Cursor::new(body)),
        ))
    }
}

impl<F> HttpClient for F
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> + Send + Sync,
{
    fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        self(request)
    }
}

impl<T: HttpClient + ?Sized> HttpClient for Arc<T> {
    fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        (**self).execute(request)
    }
    fn execute_streamed(&self, request: http::Request<Vec<u8>>) -> Result<StreamedResponse> {
        (**self).execute_streamed(request)
    }
}

impl HttpClient for Box<dyn HttpClient> {
    fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        (**self).execute(request)
    }
    fn execute_streamed(&self, request: http::Request<Vec<u8>>) -> Result<StreamedResponse> {
        (**self).execute_streamed(request)
    }
}

/// Settings of [`UreqHttpClient`].
///
/// ```
/// use mcp_auth::http::HttpConfig;
/// let config = HttpConfig {
///     timeout: std::time::Duration::from_secs(10),
///     ..HttpConfig::default()
/// };
/// assert_eq!(config.max_body_bytes, 1024 * 1024);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// End-to-end budget of one request, from DNS lookup to the last body byte (and across
    /// redirects when they are followed). Default [`DEFAULT_TIMEOUT`], 30 s.
    pub timeout: Duration,
    /// The largest response body accepted, in bytes, counted both on the wire and after
    /// content decoding; a larger body is [`Error::ResponseTooLarge`]. Default
    /// [`DEFAULT_MAX_BODY_BYTES`], 1 MiB.
    pub max_body_bytes: usize,
    /// The `User-Agent` header sent when the request has none; empty sends none. Default
    /// [`DEFAULT_USER_AGENT`], `mcp-auth/<version>`. It must be a valid header value
    /// (RFC 9110 §5.5), otherwise every request fails with [`Error::Transport`].
    pub user_agent: String,
    /// Whether to follow redirects (up to 10). Default `false`, and the OAuth layer expects
    /// `false`: a `3xx` is then returned as a response with its `Location`.
    pub follow_redirects: bool,
    /// Whether to use the proxy named by `ALL_PROXY` / `HTTPS_PROXY` / `HTTP_PROXY` (and to
    /// honour `NO_PROXY`), read once when the client is built. Loopback hosts (`localhost`,
    /// `*.localhost`, `127.0.0.0/8`, `::1`) never go through a proxy, whatever `NO_PROXY`
    /// says: a loopback redirect or metadata server must be reached directly. Default `true`.
    pub proxy_from_env: bool,
    /// An explicit proxy (`http://[user:password@]host:port`, `https://…`, `socks5://…`),
    /// used instead of the environment's. Loopback hosts still bypass it. Default `None`.
    pub proxy: Option<String>,
    /// Which certificate authorities are trusted and the client certificate for mutual TLS.
    /// Default: the platform's store (see [`tls`]).
    pub tls: TlsSettings,
    /// Budget for name resolution, TCP connect and the TLS handshake of a new connection.
    /// For OAuth requests it applies within [`timeout`](Self::timeout). Default
    /// [`DEFAULT_CONNECT_TIMEOUT`], 10 s.
    pub connect_timeout: Duration,
    /// Streamed requests ([`HttpClient::execute_streamed`]): the longest wait for the response
    /// head or for the next bytes of the body; `None` waits forever. Default
    /// [`DEFAULT_STREAM_IDLE_TIMEOUT`], 5 minutes.
    pub stream_idle_timeout: Option<Duration>,
    /// Streamed requests: the largest body, in bytes after content decoding; `None` (the
    /// default) is no cap.
    pub stream_max_body_bytes: Option<u64>,
    /// Idle keep-alive connections kept in total. Default [`DEFAULT_MAX_IDLE_CONNECTIONS`].
    pub max_idle_connections: usize,
    /// Idle keep-alive connections kept per host: as many as threads that send to one server
    /// at once, or connections are closed and reopened under load. Default
    /// [`DEFAULT_MAX_IDLE_CONNECTIONS`].
    pub max_idle_connections_per_host: usize,
}

impl std::fmt::Debug for HttpConfig {
    /// The proxy URL is shown without its userinfo (it may carry a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("user_agent", &self.user_agent)
            .field("follow_redirects", &self.follow_redirects)
            .field("proxy_from_env", &self.proxy_from_env)
            .field("proxy", &self.proxy.as_deref().map(redact_url))
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("stream_max_body_bytes", &self.stream_max_body_bytes)
            .field("max_idle_connections", &self.max_idle_connections)
            .field(
                "max_idle_connections_per_host",
                &self.max_idle_connections_per_host,
            )
            .finish()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            follow_redirects: false,
            proxy_from_env: true,
            proxy: None,
            tls: TlsSettings::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            stream_idle_timeout: Some(DEFAULT_STREAM_IDLE_TIMEOUT),
            stream_max_body_bytes: None,
            max_idle_connections: DEFAULT_MAX_IDLE_CONNECTIONS,
            max_idle_connections_per_host: DEFAULT_MAX_IDLE_CONNECTIONS,
        }
    }
}

/// The real [`HttpClient`]: blocking HTTP/1.1 over rustls (`ureq` 3), with connection reuse.
///
/// One client holds one connection pool (keep-alive) shared by all threads; clone it (a clone
/// shares the pool) or wrap it in an [`Arc`] rather than building one per request. Configured
/// with [`HttpConfig`]: status codes are never errors, redirects are not followed, OAuth bodies
/// are capped, every OAuth request has an end-to-end timeout, and streamed requests have
/// connect and idle timeouts instead.
///
/// `https` connections use a separate pool whose TLS configuration (and the system trust
/// store, read once per process) is set up on the first `https` request, so a client that
/// only talks to loopback `http` servers never pays for it.
#[derive(Debug, Clone)]
pub struct UreqHttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: HttpConfig,
    /// Why the configuration is unusable (a CA file that does not load, a bad proxy URL):
    /// every request fails with it. [`UreqHttpClient::try_new`] reports it at once instead.
    broken: Option<String>,
    proxy: Option<ureq::Proxy>,
    tls: Option<tls::LoadedTls>,
    resolver: resolve::McpResolver,
    /// For `http` URLs.
    plain: Agents,
    /// For `https` URLs (and everything when redirects are followed or the proxy is not a
    /// plain HTTP one), built on first use.
    secure: OnceLock<Agents>,
}

impl std::fmt::Debug for Inner {
    /// The configuration (redacted) only: the agents and loaded keys are not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqHttpClient")
            .field("config", &self.config)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

struct Agents {
    /// No proxy: used for loopback hosts, and for every host when no proxy is configured.
    direct: ureq::Agent,
    /// The configured proxy, for non-loopback hosts, when there is one.
    proxied: Option<ureq::Agent>,
}

impl UreqHttpClient {
    /// Build a client (and its connection pool) from `config`.
    ///
    /// A configuration that cannot be used (a CA file that does not load, a malformed proxy
    /// URL) makes every request fail with [`Error::InvalidArgument`]; use
    /// [`try_new`](Self::try_new) to learn it at once.
    pub fn new(config: HttpConfig) -> Self {
        Self::build(config, None).unwrap_or_else(|(client, _)| client)
    }

    /// Build a client from `config`, checking it: CA bundles and the client certificate are
    /// read and parsed now, and an explicit proxy URL is parsed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the setting that does not load.
    pub fn try_new(config: HttpConfig) -> Result<Self> {
        Self::build(config, None).map_err(|(_, e)| e)
    }

    /// As [`try_new`](Self::try_new), with `filter` vetting the address of every new
    /// connection (see [`AddressFilter`]).
    ///
    /// # Errors
    /// As [`try_new`](Self::try_new).
    pub fn with_address_filter(config: HttpConfig, filter: Arc<dyn AddressFilter>) -> Result<Self> {
        Self::build(config, Some(filter)).map_err(|(_, e)| e)
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    #[allow(clippy::result_large_err)]
    fn build(
        config: HttpConfig,
        filter: Option<Arc<dyn AddressFilter>>,
    ) -> std::result::Result<Self, (Self, Error)> {
        let mut broken: Option<Error> = None;
        let tls = match tls::LoadedTls::load(&config.tls) {
            Ok(t) => Some(t),
            Err(e) => {
                broken = Some(e);
                None
            }
        };
        let proxy = match &config.proxy {
            Some(url) => match ureq::Proxy::new(url) {
                Ok(p) => Some(p),
                Err(e) => {
                    broken.get_or_insert(Error::invalid_argument(
                        "proxy",
                        format!("'{}' is not a proxy URL: {e}", redact_url(url)),
                    ));
                    None
                }
            },
            None if config.proxy_from_env => ureq::Proxy::try_from_env(),
            None => None,
        };
        let resolver = resolve::McpResolver { filter };
        let plain = Agents::new(&config, proxy.as_ref(), None, &resolver);
        let client = UreqHttpClient {
            inner: Arc::new(Inner {
                broken: broken.as_ref().map(ToString::to_string),
                config,
                proxy,
                tls,
                resolver,
                plain,
                secure: OnceLock::new(),
            }),
        };
        match broken {
            None => Ok(client),
            Some(e) => Err((client, e)),
        }
    }

    fn check_usable(&self) -> Result<()> {
        match &self.inner.broken {
            None => Ok(()),
            Some(reason) => Err(Error::invalid_argument(
                "HTTP configuration",
                reason.clone(),
            )),
        }
    }

    /// The agent for `uri`: `https` (or anything that may need TLS) gets the secure pool,
    /// loopback hosts bypass any proxy.
    fn agent_for(&self, uri: &http::Uri) -> &ureq::Agent {
        let inner = &*self.inner;
        let loopback = uri.host().is_some_and(is_loopback_host);
        let proxy_needs_tls = !loopback
            && inner
                .proxy
                .as_ref()
                .is_some_and(|p| p.protocol() != ureq::ProxyProtocol::Http);
        let needs_tls = uri.scheme() != Some(&http::uri::Scheme::HTTP)
            || inner.config.follow_redirects
            || proxy_needs_tls;
        let agents = if needs_tls {
            inner.secure.get_or_init(|| {
                Agents::new(
                    &inner.config,
                    inner.proxy.as_ref(),
                    inner.tls.as_ref(),
                    &inner.resolver,
                )
            })
        } else {
            &inner.plain
        };
        match &agents.proxied {
            Some(proxied) if !loopback => proxied,
            _ => &agents.direct,
        }
    }

    /// Read the body of `response`, at most `max_body_bytes` of it.
    fn read_body(
        &self,
        method: &http::Method,
        response: http::Response<ureq::Body>,
        url: &str,
    ) -> Result<http::Response<Vec<u8>>> {
        let max = self.inner.config.max_body_bytes;
        let too_large = || Error::ResponseTooLarge {
            url: url.to_owned(),
            limit: max,
        };
        let (parts, mut body) = response.into_parts();
        // A declared length above the cap fails before reading anything (not for HEAD, 204
        // and 304, whose Content-Length describes a body that is not sent).
        let declared = declared_length(method, &parts);
        if let Some(len) = declared {
            if len > max as u64 {
                return Err(too_large());
            }
        }
        let cap = (max as u64).saturating_add(1);
        // ureq's limit counts wire bytes (before gzip decoding) and fails on the read *after*
        // the limit, so it is set one above the cap; `take` then caps the decoded bytes.
        let reader = body.with_config().limit(cap).reader();
        let hint = declared
            .map_or(0, |l| l.min(max as u64) as usize)
            .min(64 * 1024);
        let mut buf = Vec::with_capacity(hint);
        reader
            .take(cap)
            .read_to_end(&mut buf)
            .map_err(|e| map_error(ureq::Error::from(e), url, max))?;
        if buf.len() > max {
            return Err(too_large());
        }
        Ok(http::Response::from_parts(parts, buf))
    }

    /// Send `request` through `agent`, configured per request by `configure`.
    fn run(
        &self,
        request: http::Request<Vec<u8>>,
        configure: impl FnOnce(
            ureq::config::ConfigBuilder<ureq::typestate::HttpCrateScope<Vec<u8>>>,
        )
            -> ureq::config::ConfigBuilder<ureq::typestate::HttpCrateScope<Vec<u8>>>,
        url: &str,
        limit: usize,
    ) -> Result<http::Response<ureq::Body>> {
        self.check_usable()?;
        let agent = self.agent_for(request.uri());
        let method = request.method().clone();
        let request = configure(agent.configure_request(request)).build();
        let (parts, body) = request.into_parts();
        // An empty body on GET/HEAD is sent as no body at all: ureq would otherwise add
        // `Content-Length: 0`, which some servers reject on a GET.
        let sent = if body.is_empty() && matches!(method, http::Method::GET | http::Method::HEAD) {
            agent.run(http::Request::from_parts(parts, ()))
        } else {
            agent.run(http::Request::from_parts(parts, body))
        };
        sent.map_err(|e| map_error(e, url, limit))
    }
}

/// The `Content-Length` of a response that has a body (not HEAD, 1xx, 204, 304).
fn declared_length(method: &http::Method, parts: &http::response::Parts) -> Option<u64> {
    let bodiless = *method == http::Method::HEAD
        || matches!(parts.status.as_u16(), 204 | 304)
        || parts.status.is_informational();
    if bodiless {
        return None;
    }
    parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

impl Agents {
    fn new(
        config: &HttpConfig,
        proxy: Option<&ureq::Proxy>,
        tls: Option<&tls::LoadedTls>,
        resolver: &resolve::McpResolver,
    ) -> Agents {
        Agents {
            direct: build_agent(config, None, tls, resolver),
            proxied: proxy.map(|p| build_agent(config, Some(p.clone()), tls, resolver)),
        }
    }
}

impl Default for UreqHttpClient {
    /// A client with [`HttpConfig::default`].
    fn default() -> Self {
        UreqHttpClient::new(HttpConfig::default())
    }
}

impl HttpClient for UreqHttpClient {
    fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        let url = redact_url(&request.uri().to_string());
        let method = request.method().clone();
        let max = self.inner.config.max_body_bytes;
        let response = self.run(request, |c| c, &url, max)?;
        self.read_body(&method, response, &url)
    }

    fn execute_streamed(&self, request: http::Request<Vec<u8>>) -> Result<StreamedResponse> {
        let url = redact_url(&request.uri().to_string());
        let method = request.method().clone();
        let config = &self.inner.config;
        let limit = config.stream_max_body_bytes;
        let idle = config.stream_idle_timeout;
        let connect = config.connect_timeout;
        let shown_limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let response = self.run(
            request,
            |c| {
                c.timeout_global(None)
                    .timeout_resolve(Some(connect))
                    .timeout_connect(Some(connect))
                    .timeout_per_read(idle)
                    .timeout_per_write(idle)
            },
            &url,
            shown_limit,
        )?;
        stream::streamed(&method, response, url, limit)
    }
}

/// `url` without its query, fragment and userinfo, for error messages and logs: query strings
/// can carry authorization codes or `state` (RFC 6749 §4.1.2) and userinfo can carry a
/// password (RFC 3986 §3.2.1 deprecates it for that reason).
///
/// ```
/// use mcp_auth::http::redact_url;
/// assert_eq!(
///     redact_url("https://user:pw@as.example.com:8443/cb?code=SECRET#frag"),
///     "https://as.example.com:8443/cb"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let url = &url[..url.find(['?', '#']).unwrap_or(url.len())];
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            let mut out = String::with_capacity(url.len());
            out.push_str(&url[..scheme_end + 3]);
            out.push_str(&rest[at + 1..]);
            return out;
        }
    }
    url.to_owned()
}

/// Whether `host` (as [`http::Uri::host`] gives it: IPv6 in brackets) is a loopback host:
/// `localhost` and `*.localhost` (RFC 6761 §6.3), `127.0.0.0/8`, `::1` and `::ffff:127.0.0.0/104`.
fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost")
        || host.len() > 10 && host.as_bytes()[host.len() - 10..].eq_ignore_ascii_case(b".localhost")
    {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// One `ureq` agent with mcp-auth's settings, the given proxy and trust (`None`: ureq's
/// default, for agents that never make a TLS connection).
fn build_agent(
    config: &HttpConfig,
    proxy: Option<ureq::Proxy>,
    tls: Option<&tls::LoadedTls>,
    resolver: &resolve::McpResolver,
) -> ureq::Agent {
    let max_redirects = if config.follow_redirects {
        MAX_REDIRECTS_WHEN_FOLLOWING
    } else {
        0
    };
    let mut builder = ureq::Agent::config_builder()
        // RFC 6749 §5.2 error bodies come with 400/401: a status is data, not an error.
        .http_status_as_error(false)
        // 0 returns the 3xx response itself (never a TooManyRedirects error).
        .max_redirects(max_redirects)
        .timeout_global(Some(config.timeout))
        .timeout_connect(Some(config.connect_timeout))
        .user_agent(config.user_agent.as_str())
        .proxy(proxy)
        .max_idle_connections(config.max_idle_connections)
        .max_idle_connections_per_host(config.max_idle_connections_per_host);
    if let Some(tls) = tls {
        builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(tls.root_certs())
                .client_cert(tls.client_cert())
                .build(),
        );
    }
    ureq::Agent::with_parts(builder.build(), DefaultConnector::new(), resolver.clone())
}

/// Map a `ureq` error to the shared [`Error`], never quoting the URL ureq may hold (it can
/// carry a query string).
fn map_error(e: ureq::Error, url: &str, limit: usize) -> Error {
    let transport = |reason: String| Error::Transport {
        url: url.to_owned(),
        reason,
        source: None,
    };
    let certificate = |reason: String| Error::Certificate {
        url: url.to_owned(),
        reason,
    };
    match e {
        // An AddressFilter refusal: no connection was made.
        ureq::Error::Io(io)
            if io
                .get_ref()
                .and_then(|e| e.downcast_ref::<resolve::AddressRefused>())
                .is_some() =>
        {
            let reason = io
                .get_ref()
                .and_then(|e| e.downcast_ref::<resolve::AddressRefused>())
                .map(|r| r.0.clone())
                .unwrap_or_default();
            Error::AddressRefused {
                url: url.to_owned(),
                reason,
            }
        }
        ureq::Error::Rustls(e) if tls::is_certificate_error(&e) => certificate(e.to_string()),
        ureq::Error::Io(io)
            if io
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>())
                .is_some_and(tls::is_certificate_error) =>
        {
            certificate(io.get_ref().map(ToString::to_string).unwrap_or_default())
        }
        ureq::Error::Timeout(_) => Error::Timeout {
            url: url.to_owned(),
        },
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Error::Timeout {
                url: url.to_owned(),
            }
        }
        ureq::Error::BodyExceedsLimit(_) => Error::ResponseTooLarge {
            url: url.to_owned(),
            limit,
        },
        ureq::Error::BadUri(_) => transport("the URL is not an absolute http(s) URL".into()),
        ureq::Error::RequireHttpsOnly(_) => transport("the URL is not https".into()),
        ureq::Error::HostNotFound => transport("host not found".into()),
        ureq::Error::Io(io) => Error::Transport {
            url: url.to_owned(),
            reason: io.to_string(),
            source: Some(Box::new(io)),
        },
        other => Error::Transport {
            url: url.to_owned(),
            reason: other.to_string(),
            source: Some(Box::new(other)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_bypass_the_proxy() {
        for h in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "app.localhost",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "localhost.example.com",
            "notlocalhost",
            "10.0.0.1",
            "[::2]",
            "128.0.0.1",
            "",
            "é.localhos",
            "xn--é-localhost",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn redact_url_drops_query_fragment_and_userinfo() {
        assert_eq!(redact_url("http://h/p?code=x"), "http://h/p");
        assert_eq!(redact_url("http://h#s"), "http://h");
        assert_eq!(redact_url("http://u:p@h:1/a@b"), "http://h:1/a@b");
        assert_eq!(redact_url("http://u@[::1]:1?x@y"), "http://[::1]:1");
        assert_eq!(redact_url("/relative?x"), "/relative");
    }

    #[test]
    fn closures_boxes_and_arcs_are_clients() {
        fn takes(_: &dyn HttpClient) {}
        let f = |_req: http::Request<Vec<u8>>| Ok(http::Response::new(b"ok".to_vec()));
        takes(&f);
        let boxed: Box<dyn HttpClient> = Box::new(f);
        takes(&boxed);
        let arc: Arc<dyn HttpClient> = Arc::new(f);
        takes(&arc);
        let req = || http::Request::get("http://h/").body(Vec::new()).unwrap();
        assert_eq!(boxed.execute(req()).unwrap().body(), b"ok");
        assert_eq!(arc.execute(req()).unwrap().body(), b"ok");
    }

    #[test]
    fn debug_never_shows_proxy_credentials() {
        let c = HttpConfig {
            proxy: Some("http://user:s3cret@proxy:3128".into()),
            ..HttpConfig::default()
        };
        let client = UreqHttpClient::new(c.clone());
        for shown in [format!("{c:?}"), format!("{client:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
        }
    }

    #[test]
    fn default_config_is_the_documented_one() {
        let c = HttpConfig::default();
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert_eq!(
            c.user_agent,
            format!("mcp-auth/{}", env!("CARGO_PKG_VERSION"))
        );
        assert!(!c.follow_redirects);
        assert!(c.proxy_from_env);
    }
}
