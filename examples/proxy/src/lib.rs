//! `mcp-auth-proxy`: a small reverse proxy for an MCP Streamable HTTP endpoint, built on
//! [`mcp_auth_bridge`], that lets a **browser** client see the authorization challenge.
//!
//! Client (browser, origin A) ↔ this proxy (origin B) ↔ MCP server. The proxy forwards
//! `POST`/`GET`/`DELETE` on its MCP path to the upstream endpoint and, on the way back:
//!
//! - copies every `WWW-Authenticate` value verbatim for 401 and 403 (RFC 9110 §11.6.1,
//!   RFC 6750 §3), so the client can read `resource_metadata` (RFC 9728 §5.1) and `scope`, and
//!   step up on 403 `insufficient_scope`;
//! - merges `WWW-Authenticate`, `Mcp-Session-Id` and `MCP-Protocol-Version` into
//!   `Access-Control-Expose-Headers`, without which the browser hides them from scripts
//!   (Fetch standard, CORS protocol);
//! - answers the CORS preflight (`Authorization`, `Content-Type`, `Mcp-Session-Id`,
//!   `MCP-Protocol-Version`) and owns the CORS policy ([`ProxyConfig::cors`]);
//! - optionally rewrites `resource_metadata` to a URL it serves itself and relays the
//!   upstream's protected resource metadata there ([`ProxyConfig::rewrite_resource_metadata`]),
//!   for browsers that cannot reach the upstream origin;
//! - in gateway mode ([`ProxyConfig::upstream_token`]) sends through
//!   [`mcp_auth::Client::send`] with its own token and bridges the challenge of the
//!   [`mcp_auth::Error::Unauthorized`] it returns (the error path).
//!
//! [`Mode::NoExpose`] and [`Mode::Strip`] reproduce the two naive proxies of the failure (no
//! expose list; `WWW-Authenticate` dropped), as controls for the browser test.
//!
//! The upstream leg uses [`mcp_auth::http::UreqHttpClient`]: redirects are not followed and
//! bodies are buffered (capped at [`ProxyConfig::max_body_bytes`]), so an SSE response is
//! relayed once the upstream ends it; a long-lived `GET` event stream is not streamed.
//!
//! The downstream side is hyper 1 on a tokio runtime the [`Proxy`] handle owns: a bounded
//! number of connections ([`ProxyConfig::max_connections`]), a deadline for each whole request
//! ([`ProxyConfig::request_timeout`]) and RFC 9112 framing (see the `server` module's notes on
//! request smuggling).
//!
//! ```no_run
//! use mcp_auth_proxy::{Proxy, ProxyConfig};
//! let proxy = Proxy::start(ProxyConfig::new("http://127.0.0.1:9000/mcp")).unwrap();
//! println!("MCP endpoint for browsers: {}", proxy.mcp_url());
//! ```

mod server;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_auth::http::{HttpClient, HttpConfig, UreqHttpClient};
use mcp_auth::metadata::OAuthToken;
use mcp_auth::secret::AccessToken;
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::{Client, Error, ErrorKind};
use mcp_auth_bridge::{
    self as bridge, BridgeOptions, CorsPolicy, DownstreamResponse, HeaderPair, RelayedChallenge,
};

/// The RFC 9728 §3.1 well-known prefix; the proxy serves relayed metadata at this prefix plus
/// its MCP path, where a client that did not get the header would look for it too.
const PRM_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// What the proxy does with the authorization headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Bridge them with [`mcp_auth_bridge`] (the default and the point of this crate).
    #[default]
    Bridge,
    /// Control: a CORS-naive proxy. Every header is copied (`WWW-Authenticate` too) but the
    /// response has no `Access-Control-Expose-Headers`, so a cross-origin script reads `null`.
    NoExpose,
    /// Control: a transport-naive proxy. `WWW-Authenticate` is not copied at all (and nothing is
    /// exposed).
    Strip,
}

impl Mode {
    /// `bridge`, `no-expose` or `strip`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "bridge" => Some(Mode::Bridge),
            "no-expose" => Some(Mode::NoExpose),
            "strip" => Some(Mode::Strip),
            _ => None,
        }
    }

    /// The name [`Mode::parse`] accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Bridge => "bridge",
            Mode::NoExpose => "no-expose",
            Mode::Strip => "strip",
        }
    }
}

/// The proxy's configuration. Start from [`ProxyConfig::new`].
#[derive(Clone)]
pub struct ProxyConfig {
    /// The upstream MCP endpoint, an absolute `http`/`https` URL, e.g.
    /// `https://mcp.example.com/mcp`. A downstream query string is appended to it.
    pub upstream: String,
    /// Where to listen. Default `127.0.0.1:0` (a free port).
    pub listen: SocketAddr,
    /// The proxy's MCP path. Default `/mcp`.
    pub path: String,
    /// Bridge, or one of the naive controls. Default [`Mode::Bridge`].
    pub mode: Mode,
    /// Who may call the proxy from a browser. Default: any origin, no credentials.
    pub cors: CorsPolicy,
    /// Rewrite `resource_metadata` (RFC 9728 §5.1) to the proxy's own
    /// `{public_url}/.well-known/oauth-protected-resource{path}` and relay the upstream's
    /// metadata there. Default `false` (verbatim).
    pub rewrite_resource_metadata: bool,
    /// The origin browsers reach the proxy at (e.g. `https://gateway.example`), used to build
    /// the rewritten URL. Default `http://` + the bound address.
    pub public_url: Option<String>,
    /// The upstream metadata URL to relay. Default: the `resource_metadata` of the last
    /// upstream challenge, else the RFC 9728 §3.1 well-known URLs of [`upstream`](Self::upstream).
    /// The learned URL is trusted as much as the configured upstream that sent it (it must be
    /// `https` or loopback, and redirects are not followed); set this to pin it instead.
    pub prm_upstream: Option<String>,
    /// Replace the relayed metadata's `resource` with this URL (see
    /// [`bridge::relay_protected_resource_metadata`] for when that is right). Default `None`.
    pub prm_resource: Option<String>,
    /// Gateway mode: send upstream through [`mcp_auth::Client::send`] with this bearer token
    /// (the browser's `Authorization` is replaced) and never run a flow; a 401 or 403
    /// `insufficient_scope` then comes back as [`Error::Unauthorized`] and is bridged from
    /// the error. Default `None`: forward the browser's request as is.
    pub upstream_token: Option<AccessToken>,
    /// End-to-end timeout of one upstream request. Default 30 s.
    pub timeout: Duration,
    /// The largest request or upstream response body. Default 16 MiB.
    pub max_body_bytes: usize,
    /// The most downstream connections served at once (and so requests in flight: HTTP/1
    /// serves one at a time per connection); further connections wait in the listen backlog.
    /// Default 64.
    pub max_connections: usize,
    /// The deadline for a whole downstream request, not for each read: its head must arrive
    /// within this of the connection becoming idle (idle keep-alive connections close after
    /// it), its body within this of the head. Default 30 s.
    pub request_timeout: Duration,
    /// Log one line per request to stderr.
    pub verbose: bool,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("upstream", &self.upstream)
            .field("listen", &self.listen)
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("cors", &self.cors)
            .field("rewrite_resource_metadata", &self.rewrite_resource_metadata)
            .field("public_url", &self.public_url)
            .field("prm_upstream", &self.prm_upstream)
            .field("prm_resource", &self.prm_resource)
            // AccessToken's Debug is redacted.
            .field("upstream_token", &self.upstream_token)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_connections", &self.max_connections)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl ProxyConfig {
    /// Defaults for the upstream MCP endpoint `upstream`.
    pub fn new(upstream: impl Into<String>) -> Self {
        ProxyConfig {
            upstream: upstream.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            path: "/mcp".to_owned(),
            mode: Mode::Bridge,
            cors: CorsPolicy::any(),
            rewrite_resource_metadata: false,
            public_url: None,
            prm_upstream: None,
            prm_resource: None,
            upstream_token: None,
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            max_connections: 64,
            request_timeout: Duration::from_secs(30),
            verbose: false,
        }
    }
}

/// How requests reach the upstream.
enum Upstream {
    /// Forward the browser's request (its own `Authorization`).
    Plain(Arc<dyn HttpClient>),
    /// Send through the mcp-auth client holding the gateway's token.
    Gateway(Client),
}

struct Shared {
    config: ProxyConfig,
    upstream: Upstream,
    http: Arc<dyn HttpClient>,
    /// `{public_url}`, no trailing slash.
    public_url: String,
    /// Where the relayed metadata is served.
    prm_path: String,
    /// The `resource_metadata` of the last upstream challenge.
    learned_prm: Mutex<Option<String>>,
}

/// A running proxy. Dropping it stops it: the listener closes, idle connections close at
/// once, in-flight responses get a second to finish, then the runtime is shut down.
pub struct Proxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    running: Option<server::Running>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("mode", &self.shared.config.mode)
            .finish_non_exhaustive()
    }
}

fn invalid(what: &str, why: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {why}"))
}

impl Proxy {
    /// Bind [`ProxyConfig::listen`] and start serving.
    ///
    /// # Errors
    /// `InvalidInput` for an unusable configuration (upstream not an absolute http(s) URL, a
    /// path not starting with `/`, an invalid public URL, a gateway client that cannot be
    /// built); the bind error otherwise.
    pub fn start(config: ProxyConfig) -> io::Result<Proxy> {
        let upstream_url =
            url::Url::parse(&config.upstream).map_err(|e| invalid("upstream URL", e))?;
        if !matches!(upstream_url.scheme(), "http" | "https") || upstream_url.host().is_none() {
            return Err(invalid("upstream URL", "must be an absolute http(s) URL"));
        }
        if !config.path.starts_with('/') {
            return Err(invalid("path", "must start with /"));
        }
        let listener = TcpListener::bind(config.listen)?;
        let addr = listener.local_addr()?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        let prm_path = if config.path == "/" {
            PRM_WELL_KNOWN.to_owned()
        } else {
            format!("{PRM_WELL_KNOWN}{}", config.path)
        };
        if config.rewrite_resource_metadata {
            BridgeOptions {
                resource_metadata_url: Some(format!("{public_url}{prm_path}")),
                cors: None,
            }
            .validate()
            .map_err(|e| invalid("public URL", e))?;
        }
        let http: Arc<dyn HttpClient> = Arc::new(UreqHttpClient::new(HttpConfig {
            timeout: config.timeout,
            max_body_bytes: config.max_body_bytes,
            follow_redirects: false,
            ..HttpConfig::default()
        }));
        let upstream = match &config.upstream_token {
            None => Upstream::Plain(Arc::clone(&http)),
            Some(token) => Upstream::Gateway(gateway_client(&config, token, Arc::clone(&http))?),
        };
        let shared = Arc::new(Shared {
            config,
            upstream,
            http,
            public_url,
            prm_path,
            learned_prm: Mutex::new(None),
        });
        let running = server::Running::start(listener, Arc::clone(&shared))?;
        Ok(Proxy {
            shared,
            addr,
            running: Some(running),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's origin as browsers see it ([`ProxyConfig::public_url`] or
    /// `http://` + the bound address).
    pub fn origin(&self) -> &str {
        &self.shared.public_url
    }

    /// The proxy's MCP endpoint URL.
    pub fn mcp_url(&self) -> String {
        format!("{}{}", self.shared.public_url, self.shared.config.path)
    }

    /// The URL of the relayed protected resource metadata, when
    /// [`ProxyConfig::rewrite_resource_metadata`] is on.
    pub fn prm_url(&self) -> Option<String> {
        self.shared
            .config
            .rewrite_resource_metadata
            .then(|| format!("{}{}", self.shared.public_url, self.shared.prm_path))
    }

    /// Stop now (the same as dropping it).
    pub fn stop(self) {}
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The gateway's client: the configured token in memory, no authorization flow of its own
/// (`max_authorizations = 0`), the proxy's HTTP client.
fn gateway_client(
    config: &ProxyConfig,
    token: &AccessToken,
    http: Arc<dyn HttpClient>,
) -> io::Result<Client> {
    let storage = Arc::new(MemoryStorage::new());
    let client = Client::builder(&config.upstream)
        // No login ever runs here (no authorization flow): no loopback listener either.
        .headless()
        .http_client(http)
        .storage(storage.clone())
        .config(|c| c.max_authorizations = 0)
        .build()
        .map_err(|e| invalid("gateway client", e))?;
    storage
        .set_tokens(client.resource_key(), &OAuthToken::new(token.clone()))
        .map_err(|e| invalid("gateway token", e))?;
    Ok(client)
}

/// A downstream request as the handler sees it.
struct Request {
    method: String,
    /// The path of the request target, without the query.
    path: String,
    /// The query, without `?`.
    query: Option<String>,
    /// The header fields in order, names lowercase, values with surrounding OWS removed.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// The first value of `name` (RFC 9110 §5.1: compared case-insensitively).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response to write.
struct Reply {
    status: u16,
    headers: Vec<HeaderPair>,
    body: Vec<u8>,
}

impl Reply {
    /// A JSON error body in the RFC 6749 §5.2 shape.
    fn json(status: u16, error: &str, description: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: serde_json::json!({"error": error, "error_description": description})
                .to_string()
                .into_bytes(),
        }
    }

    /// With the CORS headers of the policy for `origin`, so the page can read the status.
    fn cors(mut self, shared: &Shared, origin: Option<&str>) -> Reply {
        self.headers
            .extend(shared.config.cors.response_headers(origin));
        self
    }
}

fn handle(shared: &Shared, req: &Request) -> Reply {
    let origin = req.header("origin");
    let config = &shared.config;
    let method = req.method.as_str();
    let is_mcp = req.path == config.path;
    let is_prm = config.rewrite_resource_metadata && req.path == shared.prm_path;
    if !is_mcp && !is_prm {
        return Reply::json(404, "not_found", "no such path on this proxy").cors(shared, origin);
    }
    if method == "OPTIONS" {
        let pre = bridge::preflight(&req.headers, &config.cors);
        return Reply {
            status: pre.status,
            headers: pre.headers,
            body: Vec::new(),
        };
    }
    if !config.cors.allows(origin) {
        // MCP Streamable HTTP: an invalid Origin gets 403 (DNS rebinding protection).
        return Reply::json(403, "forbidden_origin", "this origin may not use the proxy");
    }
    if is_prm {
        return match method {
            "GET" | "HEAD" => relay_prm(shared).cors(shared, origin),
            _ => method_not_allowed("GET, HEAD, OPTIONS").cors(shared, origin),
        };
    }
    match method {
        "POST" | "GET" | "DELETE" => forward(shared, req, origin),
        _ => method_not_allowed(bridge::ALLOWED_METHODS).cors(shared, origin),
    }
}

fn method_not_allowed(allow: &str) -> Reply {
    let mut r = Reply::json(405, "method_not_allowed", "method not allowed here");
    r.headers.push(("Allow".to_owned(), allow.to_owned()));
    r
}

/// The upstream URL for a downstream request: the configured endpoint plus the request's
/// query.
fn upstream_url(shared: &Shared, req: &Request) -> String {
    let base = &shared.config.upstream;
    match &req.query {
        Some(q) if !q.is_empty() => {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}{q}")
        }
        _ => base.clone(),
    }
}

fn forward(shared: &Shared, req: &Request, origin: Option<&str>) -> Reply {
    let mut headers = bridge::upstream_request_headers(&req.headers);
    // Cookies belong to the proxy's origin, not the upstream's; the upstream client negotiates
    // its own content coding (ureq decodes gzip and drops Content-Encoding).
    headers.retain(|(n, _)| {
        !n.eq_ignore_ascii_case("cookie") && !n.eq_ignore_ascii_case("accept-encoding")
    });
    let mut builder = http::Request::builder()
        .method(req.method.as_str())
        .uri(upstream_url(shared, req));
    for (n, v) in &headers {
        builder = builder.header(n.as_str(), v.as_str());
    }
    let request = match builder.body(req.body.clone()) {
        Ok(r) => r,
        Err(e) => {
            return Reply::json(400, "bad_request", &e.to_string()).cors(shared, origin);
        }
    };
    match &shared.upstream {
        Upstream::Plain(http) => match http.execute(request) {
            Ok(response) => {
                let status = response.status().as_u16();
                let pairs = bridge::header_pairs(response.headers());
                learn_prm(shared, status, &pairs);
                let (status, headers) = downstream(shared, status, &pairs, origin);
                Reply {
                    status,
                    headers,
                    body: response.into_body(),
                }
            }
            Err(e) => upstream_failure(&e).cors(shared, origin),
        },
        Upstream::Gateway(client) => match client.send(request) {
            Ok(response) => {
                let pairs = bridge::header_pairs(&response.headers);
                learn_prm(shared, response.status, &pairs);
                let (status, headers) = downstream(shared, response.status, &pairs, origin);
                Reply {
                    status,
                    headers,
                    body: response.body,
                }
            }
            // The error path: the server still refuses; relay its challenge.
            Err(e) => match RelayedChallenge::from_error(&e) {
                Some(challenge) => {
                    if let Some(url) = &challenge.resource_metadata {
                        remember_prm(shared, url);
                    }
                    let pairs: Vec<(&str, &str)> = challenge
                        .www_authenticate
                        .iter()
                        .map(|v| (bridge::WWW_AUTHENTICATE, v.as_str()))
                        .chain([("Content-Type", "application/json")])
                        .collect();
                    let (status, headers) = downstream(shared, challenge.status, &pairs, origin);
                    Reply {
                        status,
                        headers,
                        body: challenge.error_body(),
                    }
                }
                None => upstream_failure(&e).cors(shared, origin),
            },
        },
    }
}

/// The downstream status and headers for an upstream status and headers, per [`Mode`].
fn downstream<K: AsRef<str>, V: AsRef<str>>(
    shared: &Shared,
    status: u16,
    upstream: &[(K, V)],
    origin: Option<&str>,
) -> (u16, Vec<HeaderPair>) {
    let config = &shared.config;
    let options = BridgeOptions {
        resource_metadata_url: (config.mode == Mode::Bridge && config.rewrite_resource_metadata)
            .then(|| format!("{}{}", shared.public_url, shared.prm_path)),
        cors: Some(config.cors.clone()),
    };
    let bridged = match bridge::bridge_response(status, upstream, origin, &options) {
        Ok(d) => d,
        // Only invalid options fail, and they were validated at start.
        Err(_) => DownstreamResponse {
            status,
            ..DownstreamResponse::default()
        },
    };
    let mut headers = bridged.headers;
    match config.mode {
        Mode::Bridge => {}
        Mode::NoExpose => headers.retain(|(n, _)| !is_expose(n)),
        Mode::Strip => headers
            .retain(|(n, _)| !is_expose(n) && !n.eq_ignore_ascii_case(bridge::WWW_AUTHENTICATE)),
    }
    (bridged.status, headers)
}

fn is_expose(name: &str) -> bool {
    name.eq_ignore_ascii_case(bridge::ACCESS_CONTROL_EXPOSE_HEADERS)
}

/// Remember the upstream's `resource_metadata` for the relay.
fn learn_prm(shared: &Shared, status: u16, pairs: &[HeaderPair]) {
    if !shared.config.rewrite_resource_metadata {
        return;
    }
    if let Some(url) =
        RelayedChallenge::from_headers(status, pairs).and_then(|c| c.resource_metadata)
    {
        remember_prm(shared, &url);
    }
}

fn remember_prm(shared: &Shared, url: &str) {
    if shared.config.rewrite_resource_metadata {
        *lock(&shared.learned_prm) = Some(url.to_owned());
    }
}

/// Serve the upstream's protected resource metadata (RFC 9728 §3.2) from the proxy.
fn relay_prm(shared: &Shared) -> Reply {
    let config = &shared.config;
    let mut candidates: Vec<String> = Vec::new();
    if let Some(u) = &config.prm_upstream {
        candidates.push(u.clone());
    } else {
        if let Some(u) = lock(&shared.learned_prm).clone() {
            candidates.push(u);
        }
        candidates.extend(
            mcp_auth::discovery::build_protected_resource_metadata_discovery_urls(
                None,
                &config.upstream,
            ),
        );
        candidates.dedup();
    }
    let mut last: Option<Error> = None;
    for url in &candidates {
        match bridge::fetch_protected_resource_metadata(
            shared.http.as_ref(),
            url,
            config.prm_resource.as_deref(),
        ) {
            Ok(body) => {
                return Reply {
                    status: 200,
                    headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
                    body,
                };
            }
            Err(e) => last = Some(e),
        }
    }
    let why = last.map_or_else(|| "no upstream metadata URL".to_owned(), |e| e.to_string());
    Reply::json(
        502,
        "bad_gateway",
        &format!("protected resource metadata: {why}"),
    )
}

/// 504 for a timeout, 502 for anything else that left no upstream response.
fn upstream_failure(e: &Error) -> Reply {
    let status = if e.kind() == ErrorKind::Timeout {
        504
    } else {
        502
    };
    Reply::json(status, "bad_gateway", &e.to_string())
}
