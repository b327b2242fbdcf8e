//! A loopback MCP resource server and OAuth 2.1 authorization server in one process: the test
//! instrument behind `make demo`, the client's flow tests, the benchmarks and the examples.
//!
//! HTTP/1.1 is hyper's (on a small tokio runtime the [`DemoServer`] handle owns, so the API
//! stays blocking); the server records every request and injects every fault exactly, down
//! to closing, hanging or dripping a connection byte by byte.
//!
//! ```
//! use mcp_auth_demo_server::{DemoConfig, DemoServer};
//!
//! let server = DemoServer::start(DemoConfig::default()).unwrap();
//! assert!(server.mcp_url().ends_with("/mcp"));
//! let token = server.issue_token("my-client", "mcp:read mcp:write");
//! assert!(token.starts_with("mcpat_"));
//! assert!(server.requests().is_empty());
//! ```
//!
//! What it serves (paths for [`DemoConfig::default`]):
//!
//! | path | what |
//! |---|---|
//! | `POST /mcp` | MCP JSON-RPC (`initialize`, `ping`, `tools/list`, `tools/call` with `echo`, `whoami`, `test-tool`); 401/403 Bearer challenges |
//! | `GET /.well-known/oauth-protected-resource/mcp` | RFC 9728 PRM ([`PrmLocation`]) |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata ([`AsMetadataLocation`]) |
//! | `POST /register` | RFC 7591 DCR |
//! | `GET /authorize` | auto-approving authorization endpoint, answers `302` to the `redirect_uri` |
//! | `POST /token` | `authorization_code` (PKCE), `refresh_token` (rotation), `client_credentials` |
//!
//! Every other path answers 404, and is recorded like everything else: that is how a test sees
//! that a client probed a URL it should not have.

mod config;
mod dpop;
mod handlers;
mod http;
mod jwt;
mod manage;
mod record;
mod server;
mod state;
mod stream;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

pub use config::{
    AsMetadataLocation, AuthMethod, CONFORMANCE_CIMD_CLIENT_ID, CONFORMANCE_SCENARIOS, DemoConfig,
    EXTRA_TOPOLOGIES, FaultAction, Faults, PreregisteredClient, PrmLocation, ResourceId,
    RouteFault,
};
pub use dpop::{DPOP_NONCE_USES, DpopCounters};
pub use handlers::SUPPORTED_PROTOCOL_VERSIONS;
pub use jwt::{CLOCK_SKEW_SECS, Es256KeyPair, JWT_BEARER_ASSERTION_TYPE, JwtKey, pem};
pub use record::RecordedRequest;
pub use stream::StreamCounters;

use handlers::Urls;
use http::Request;
use state::State;

/// State shared by the connections and the [`DemoServer`] handle.
pub(crate) struct Shared {
    pub(crate) config: RwLock<DemoConfig>,
    pub(crate) state: Mutex<State>,
    pub(crate) port: u16,
    log: Mutex<Vec<RecordedRequest>>,
    connections: AtomicUsize,
}

/// What the authorization server saw of refresh tokens, counted on the server's side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshCounters {
    /// `refresh_token` grants that succeeded (each consumed one refresh token and issued a new
    /// pair).
    pub refreshes: usize,
    /// Refresh requests that presented an already consumed refresh token while
    /// [`DemoConfig::refresh_reuse_detection`] was on.
    pub reuse_detections: usize,
    /// Grants revoked because of such a reuse.
    pub revocations: usize,
}

/// What the revocation endpoint (RFC 7009) did, counted on the server's side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevocationCounters {
    /// Revocation requests whose client authenticated.
    pub requests: usize,
    /// Refresh tokens revoked.
    pub refresh_tokens: usize,
    /// Access tokens revoked (directly, or with their grant's refresh token).
    pub access_tokens: usize,
}

/// A running server. Dropping it stops it: the listener is closed, idle connections close at
/// once, in-flight responses get a second to finish, and then the runtime (every connection and
/// thread) is shut down.
pub struct DemoServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    running: Option<server::Running>,
}

impl std::fmt::Debug for DemoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DemoServer {
    /// Binds `127.0.0.1:0` and starts serving `config`.
    pub fn start(config: DemoConfig) -> io::Result<DemoServer> {
        Self::start_on(config, 0)
    }

    /// Binds `127.0.0.1:port` (0 = any free port) and starts serving `config`.
    pub fn start_on(config: DemoConfig, port: u16) -> io::Result<DemoServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config: RwLock::new(config),
            state: Mutex::new(State::default()),
            port: addr.port(),
            log: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let running = server::Running::start(listener, Arc::clone(&shared), "demo-server")?;
        Ok(DemoServer {
            shared,
            addr,
            running: Some(running),
        })
    }

    fn urls(&self) -> (Urls, std::sync::RwLockReadGuard<'_, DemoConfig>) {
        let cfg = self.config_guard();
        (Urls::new(&cfg, self.shared.port), cfg)
    }

    fn config_guard(&self) -> std::sync::RwLockReadGuard<'_, DemoConfig> {
        self.shared.config.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The bound socket address (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (the host is [`DemoConfig::host_name`]).
    pub fn origin(&self) -> String {
        self.urls().0.origin
    }

    /// The MCP endpoint URL, origin + [`DemoConfig::mcp_path`].
    pub fn mcp_url(&self) -> String {
        let (urls, cfg) = self.urls();
        urls.mcp_url(&cfg)
    }

    /// The real issuer: origin + [`DemoConfig::issuer_path`] (not affected by
    /// [`DemoConfig::issuer_override`]).
    pub fn issuer(&self) -> String {
        self.urls().0.issuer
    }

    /// The PRM URL, if the topology has one.
    pub fn prm_url(&self) -> Option<String> {
        let (urls, cfg) = self.urls();
        urls.prm_url(&cfg)
    }

    /// The `resource` the PRM advertises.
    pub fn resource(&self) -> String {
        let (urls, cfg) = self.urls();
        urls.prm_resource(&cfg)
    }

    /// The AS metadata URL, if the topology has one.
    pub fn as_metadata_url(&self) -> Option<String> {
        let (urls, cfg) = self.urls();
        cfg.as_metadata_path()
            .map(|p| format!("{}{p}", urls.origin))
    }

    /// The authorization endpoint URL.
    pub fn authorization_endpoint(&self) -> String {
        let (urls, cfg) = self.urls();
        urls.endpoint(&cfg, "authorize")
    }

    /// The token endpoint URL.
    pub fn token_endpoint(&self) -> String {
        let (urls, cfg) = self.urls();
        urls.endpoint(&cfg, "token")
    }

    /// The registration endpoint URL, if DCR is on.
    pub fn registration_endpoint(&self) -> Option<String> {
        let (urls, cfg) = self.urls();
        cfg.registration_enabled
            .then(|| urls.endpoint(&cfg, "register"))
    }

    /// The topology's client material ([`DemoConfig::context`]), e.g. pre-registered credentials.
    pub fn context(&self) -> Option<serde_json::Value> {
        self.config_guard().context.clone()
    }

    /// A snapshot of the current configuration.
    pub fn config(&self) -> DemoConfig {
        self.config_guard().clone()
    }

    /// Every request received since the start (or the last [`clear_requests`](Self::clear_requests)),
    /// in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The recorded requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// `"METHOD /path"` of every recorded request, in order.
    pub fn request_lines(&self) -> Vec<String> {
        self.requests().iter().map(RecordedRequest::line).collect()
    }

    /// Empties the request log (counters are kept).
    pub fn clear_requests(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// TCP connections accepted since the start.
    pub fn connections_accepted(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Requests received for `path` since the start (not reset by `clear_requests`).
    pub fn count(&self, path: &str) -> usize {
        self.state().path_hits.get(path).copied().unwrap_or(0)
    }

    /// Token requests with this `grant_type` since the start, e.g. `"refresh_token"`.
    pub fn grant_count(&self, grant_type: &str) -> usize {
        self.state()
            .grant_hits
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// Successful refreshes, refresh token reuses seen and grants revoked since the start (see
    /// [`DemoConfig::refresh_reuse_detection`]).
    pub fn refresh_counters(&self) -> RefreshCounters {
        let s = self.state().refresh_stats;
        RefreshCounters {
            refreshes: s.refreshes,
            reuse_detections: s.reuse_detections,
            revocations: s.revocations,
        }
    }

    /// What the server saw of DPoP since the start (see [`DemoConfig::dpop`]).
    pub fn dpop_counters(&self) -> DpopCounters {
        self.state().dpop_stats
    }

    /// MCP requests authorized with a DPoP-bound token and a valid proof (RFC 9449) since the
    /// start.
    pub fn dpop_requests(&self) -> usize {
        self.state().refresh_stats.dpop_requests
    }

    /// What the revocation endpoint (`/revoke`, RFC 7009) did since the start.
    pub fn revocation_counters(&self) -> RevocationCounters {
        let s = self.state().refresh_stats;
        RevocationCounters {
            requests: s.revocation_requests,
            refresh_tokens: s.refresh_tokens_revoked,
            access_tokens: s.access_tokens_revoked,
        }
    }

    /// What streamed responses (the `big` and `ticker` tools, `GET` streams) did since the
    /// start, counted as the server hands bytes to the connection.
    pub fn stream_counters(&self) -> StreamCounters {
        self.state().stream_stats
    }

    /// The revocation endpoint URL, if revocation is on.
    pub fn revocation_endpoint(&self) -> Option<String> {
        let (urls, cfg) = self.urls();
        cfg.revocation_enabled
            .then(|| urls.endpoint(&cfg, "revoke"))
    }

    /// Resets [`count`](Self::count), [`grant_count`](Self::grant_count) and
    /// [`refresh_counters`](Self::refresh_counters).
    pub fn reset_counters(&self) {
        let mut st = self.state();
        st.path_hits.clear();
        st.grant_hits.clear();
        st.refresh_stats = Default::default();
        st.dpop_stats = Default::default();
        st.stream_stats = Default::default();
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the configuration (topology, policy, faults) at runtime; later requests see it.
    pub fn update(&self, f: impl FnOnce(&mut DemoConfig)) {
        f(&mut self
            .shared
            .config
            .write()
            .unwrap_or_else(|e| e.into_inner()));
    }

    /// Adds a route fault at runtime (shorthand for `update(|c| c.faults.routes.push(fault))`).
    pub fn add_fault(&self, fault: RouteFault) {
        self.update(|c| c.faults.routes.push(fault));
    }

    /// Removes every injected fault ([`Faults::default`]).
    pub fn clear_faults(&self) {
        self.update(|c| c.faults = Faults::default());
    }

    /// Makes every access token issued so far expired (refresh tokens stay valid).
    pub fn expire_all_tokens(&self) {
        let past = Instant::now();
        for t in self.state().access.values_mut() {
            t.expires_at = past;
        }
    }

    /// Revokes every access and refresh token issued so far.
    pub fn revoke_all_tokens(&self) {
        let mut st = self.state();
        st.access.clear();
        st.refresh.clear();
    }

    /// Mints a valid access token directly (no HTTP), for the PRM resource, with the configured
    /// lifetime.
    pub fn issue_token(&self, client_id: &str, scope: &str) -> String {
        let resource = self.resource();
        let ttl = self.config_guard().token_ttl_secs;
        self.state()
            .mint(client_id, scope, Some(&resource), ttl, false, None)
            .0
    }

    /// Mints an access token and a refresh token directly (no HTTP).
    pub fn issue_token_pair(&self, client_id: &str, scope: &str) -> (String, String) {
        let resource = self.resource();
        let ttl = self.config_guard().token_ttl_secs;
        let (a, r) = self
            .state()
            .mint(client_id, scope, Some(&resource), ttl, true, None);
        (a, r.unwrap_or_default())
    }

    /// Registers a client directly (as if pre-registered), e.g. a confidential client for
    /// `client_credentials` tests.
    pub fn register_client(&self, client: PreregisteredClient) {
        self.update(|c| c.preregistered_clients.push(client));
    }

    /// The client_ids registered through DCR so far.
    pub fn registered_client_ids(&self) -> Vec<String> {
        self.state().clients.keys().cloned().collect()
    }

    /// Stops the server now (the same as dropping it).
    pub fn stop(self) {}
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
    }
}

/// Counts and (if enabled) records a request, before any routing or fault.
pub(crate) fn record(shared: &Shared, id: usize, req: &Request) {
    let enabled = shared
        .config
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .record_requests;
    *shared
        .state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .path_hits
        .entry(req.path.clone())
        .or_default() += 1;
    if !enabled {
        return;
    }
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(RecordedRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            connection: id,
        });
}
