//! A loopback MCP resource server and OAuth 2.1 authorization server in one process: the test
//! instrument behind `make demo`, the client's flow tests, the benchmarks and the examples.
//!
//! It is a hand-written HTTP/1.1 server on `std::net` (a thread per connection, keep-alive,
//! `TCP_NODELAY`, each ordinary response written with a single `write_all`), so that every
//! request can be recorded and every fault injected exactly.
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
mod handlers;
mod http;
mod jwt;
mod record;
mod state;

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use config::{
    AsMetadataLocation, AuthMethod, CONFORMANCE_CIMD_CLIENT_ID, CONFORMANCE_SCENARIOS, DemoConfig,
    EXTRA_TOPOLOGIES, FaultAction, Faults, PreregisteredClient, PrmLocation, ResourceId,
    RouteFault,
};
pub use handlers::SUPPORTED_PROTOCOL_VERSIONS;
pub use jwt::{CLOCK_SKEW_SECS, Es256KeyPair, JWT_BEARER_ASSERTION_TYPE, JwtKey, pem};
pub use record::RecordedRequest;

use handlers::{Outcome, Urls};
use http::{ReadError, Request, Response};
use state::State;

/// How long an idle keep-alive connection is kept open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// State shared by the accept thread, the connection threads and the [`DemoServer`] handle.
pub(crate) struct Shared {
    pub(crate) config: RwLock<DemoConfig>,
    pub(crate) state: Mutex<State>,
    pub(crate) port: u16,
    log: Mutex<Vec<RecordedRequest>>,
    connections: AtomicUsize,
    shutdown: AtomicBool,
    live: Mutex<HashMap<usize, TcpStream>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

/// A running server. Dropping it stops it: the listener is closed, every open connection is shut
/// down, and every thread is joined.
pub struct DemoServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
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
            shutdown: AtomicBool::new(false),
            live: Mutex::new(HashMap::new()),
            handles: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("demo-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(DemoServer {
            shared,
            addr,
            accept: Some(accept),
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

    /// Resets [`count`](Self::count) and [`grant_count`](Self::grant_count).
    pub fn reset_counters(&self) {
        let mut st = self.state();
        st.path_hits.clear();
        st.grant_hits.clear();
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
            .mint(client_id, scope, Some(&resource), ttl, false)
            .0
    }

    /// Mints an access token and a refresh token directly (no HTTP).
    pub fn issue_token_pair(&self, client_id: &str, scope: &str) -> (String, String) {
        let resource = self.resource();
        let ttl = self.config_guard().token_ttl_secs;
        let (a, r) = self
            .state()
            .mint(client_id, scope, Some(&resource), ttl, true);
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
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        for (_, s) in self
            .shared
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
        {
            let _ = s.shutdown(Shutdown::Both);
        }
        let handles = std::mem::take(
            &mut *self
                .shared
                .handles
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for h in handles {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // EMFILE and friends: back off a little rather than spin.
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(clone) = stream.try_clone() {
            shared
                .live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, clone);
        }
        let conn_shared = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(format!("demo-conn-{id}"))
            .spawn(move || {
                serve_connection(&conn_shared, id, stream);
                conn_shared
                    .live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            });
        if let Ok(handle) = spawned {
            let mut handles = shared.handles.lock().unwrap_or_else(|e| e.into_inner());
            handles.retain(|h| !h.is_finished());
            handles.push(handle);
        }
    }
}

fn serve_connection(shared: &Shared, id: usize, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let req = match http::read_request(&mut reader) {
            Ok(Some(r)) => r,
            Ok(None) | Err(ReadError::Closed) => return,
            Err(ReadError::Bad(status, why)) => {
                let resp = Response::json(
                    status,
                    &serde_json::json!({"error": "bad_request", "error_description": why}),
                );
                let _ = http::write_response(&mut writer, &resp, false, false);
                return;
            }
        };
        record(shared, id, &req);
        let keep_alive = req.keep_alive();
        let head_only = req.method == "HEAD";
        match handlers::handle(shared, &req) {
            Outcome::Respond(resp) => {
                if http::write_response(&mut writer, &resp, keep_alive, head_only).is_err()
                    || !keep_alive
                {
                    return;
                }
            }
            Outcome::Fault(action) => {
                if !run_fault(shared, &mut reader, &mut writer, action, keep_alive) {
                    return;
                }
            }
        }
    }
}

fn record(shared: &Shared, id: usize, req: &Request) {
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

/// Performs a fault; returns whether the connection can serve another request.
fn run_fault(
    shared: &Shared,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    action: FaultAction,
    keep_alive: bool,
) -> bool {
    let stopping = || shared.shutdown.load(Ordering::SeqCst);
    match action {
        FaultAction::Respond {
            status,
            headers,
            body,
        } => {
            let resp = Response {
                status,
                headers,
                body,
            };
            http::write_response(writer, &resp, keep_alive, false).is_ok() && keep_alive
        }
        FaultAction::Redirect { status, location } => {
            let resp = Response::new(status)
                .header("location", &location)
                .header("content-type", "text/plain")
                .body(format!("Redirecting to {location}").into_bytes());
            http::write_response(writer, &resp, keep_alive, false).is_ok() && keep_alive
        }
        FaultAction::Close => {
            let _ = writer.shutdown(Shutdown::Both);
            false
        }
        FaultAction::Hang => {
            let _ = reader
                .get_ref()
                .set_read_timeout(Some(Duration::from_millis(50)));
            let mut sink = [0u8; 4096];
            while !stopping() {
                match reader.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            false
        }
        FaultAction::Drip {
            status,
            content_type,
            body,
            interval,
        } => {
            let resp = Response::new(status)
                .header("content-type", &content_type)
                .body(body);
            let bytes = http::serialize(&resp, false, false);
            for b in bytes {
                if stopping() || writer.write_all(&[b]).is_err() {
                    return false;
                }
                // Sleep in slices so that a stopping server is not held up.
                let until = Instant::now() + interval;
                while let Some(left) = until
                    .checked_duration_since(Instant::now())
                    .filter(|d| !d.is_zero())
                {
                    if stopping() {
                        return false;
                    }
                    thread::sleep(left.min(Duration::from_millis(20)));
                }
            }
            false
        }
        FaultAction::Oversized {
            status,
            bytes,
            chunked,
        } => {
            let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
            if chunked {
                headers.push(("transfer-encoding".to_owned(), "chunked".to_owned()));
            } else {
                headers.push(("content-length".to_owned(), bytes.to_string()));
            }
            if writer
                .write_all(&http::head(status, &headers, keep_alive))
                .is_err()
            {
                return false;
            }
            // {"pad":"xxx…"} of exactly `bytes` bytes (just x's below 10 bytes).
            let (prefix, suffix): (&[u8], &[u8]) = if bytes >= 10 {
                (b"{\"pad\":\"", b"\"}")
            } else {
                (b"", b"")
            };
            let fill = bytes - prefix.len() - suffix.len();
            let block = vec![b'x'; 64 * 1024];
            let send = |w: &mut TcpStream, data: &[u8]| -> bool {
                if data.is_empty() {
                    return true;
                }
                if chunked {
                    let mut piece = format!("{:x}\r\n", data.len()).into_bytes();
                    piece.extend_from_slice(data);
                    piece.extend_from_slice(b"\r\n");
                    w.write_all(&piece).is_ok()
                } else {
                    w.write_all(data).is_ok()
                }
            };
            if !send(writer, prefix) {
                return false;
            }
            let mut left = fill;
            while left > 0 {
                if stopping() {
                    return false;
                }
                let n = left.min(block.len());
                if !send(writer, &block[..n]) {
                    return false;
                }
                left -= n;
            }
            if !send(writer, suffix) || (chunked && writer.write_all(b"0\r\n\r\n").is_err()) {
                return false;
            }
            keep_alive
        }
    }
}
