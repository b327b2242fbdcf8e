//! The trust boundary against hostile servers: the address policy (a server cannot aim the
//! client at loopback, link-local, private or CGNAT services), userinfo in server-supplied URLs,
//! and the origin binding of the token in `send` (core/src/policy.rs, SECURITY.md).
//!
//! Every refusal ends in one specific `ErrorKind` and then checks, in the style of
//! `hostile_servers.rs`: no secret in the error's `Display`/`Debug` nor in any trace event, the
//! credential file byte-for-byte unchanged, and **zero connections at the victim** (a real
//! listener on the address the server named, counted from its side).
//!
//! The MCP server must be on a public address for the policy to bite, so the tests in
//! `mod netns` run inside a private network namespace: `in_a_private_network_namespace`
//! re-executes this test binary under `unshare -n -m`, gives TEST-NET, private, link-local and
//! CGNAT addresses to `lo` there, and bind-mounts a hosts file (so names resolve to those
//! addresses through the system resolver). No packet can leave the machine. It needs root and
//! `unshare`/`ip`; without them it fails under `CI=true` and is skipped (with the reason
//! printed) elsewhere.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use mcp_auth::authorization::CallbackRedirect;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{FileStorage, TokenStorage};
use mcp_auth::trace::TraceEvent;
use mcp_auth::{Client, ClientBuilder, CrossOrigin, Error, ErrorKind};
use mcp_auth_demo_server::DemoConfig;

// ---------------------------------------------------------------------------------------------
// Victims
// ---------------------------------------------------------------------------------------------

/// A listener that never answers: connections to it wait in its accept queue and are counted
/// afterwards, so a connection made before the client gave up is always seen.
struct Victim {
    listener: TcpListener,
}

impl Victim {
    fn bind(ip: &str) -> Victim {
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
        Victim { listener }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    /// Connections made to it so far.
    fn connections(&self) -> usize {
        self.listener.set_nonblocking(true).unwrap();
        let mut n = 0;
        while self.listener.accept().is_ok() {
            n += 1;
        }
        n
    }
}

/// A listener that answers every request with `404` and records the request heads.
struct Responder {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Responder {
    fn start(ip: &str) -> Responder {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (h, l) = (hits.clone(), heads.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let Some((head, _)) = read_request(&mut conn) else {
                    continue;
                };
                h.fetch_add(1, Ordering::SeqCst);
                l.lock().unwrap().push(head);
                let _ = conn.write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Responder { addr, hits, heads }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// One HTTP/1.1 request: the head (lower-cased header names kept as sent) and the body.
fn read_request(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

// ---------------------------------------------------------------------------------------------
// Secrets, storage, trace
// ---------------------------------------------------------------------------------------------

fn random() -> String {
    mcp_auth::pkce::generate_state().secret().to_owned()
}

type Trace = Arc<Mutex<Vec<TraceEvent>>>;

/// A credential file seeded with a token (and a registration) for `server_url`.
struct Store {
    dir: PathBuf,
    path: PathBuf,
    storage: Arc<FileStorage>,
    before: Option<Vec<u8>>,
    secrets: Vec<String>,
}

impl Store {
    fn seeded(server_url: &str, client_issuer: Option<&str>) -> Store {
        let dir = std::env::temp_dir().join(format!(
            "mcp-auth-address-policy-{}-{}",
            std::process::id(),
            random()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.json");
        let storage = Arc::new(FileStorage::new(&path));
        let access = format!("seeded-access-{}", random());
        let refresh = format!("seeded-refresh-{}", random());
        let secret = format!("seeded-client-secret-{}", random());
        let mut token = OAuthToken::new(access.clone());
        token.refresh_token = Some(refresh.clone().into());
        let resource = mcp_auth::checks::resource_url_from_server_url(server_url).unwrap();
        storage.set_tokens(&resource, &token).unwrap();
        if let Some(issuer) = client_issuer {
            let mut client = OAuthClientInformationFull::new("seeded-client");
            client.client_secret = Some(secret.clone().into());
            client.token_endpoint_auth_method = Some("client_secret_basic".to_owned());
            client.issuer = Some(issuer.to_owned());
            storage.set_client_info(issuer, &client).unwrap();
        }
        let before = Some(std::fs::read(&path).unwrap());
        Store {
            dir,
            path,
            storage,
            before,
            secrets: vec![access, refresh, secret],
        }
    }

    fn empty() -> Store {
        let dir = std::env::temp_dir().join(format!(
            "mcp-auth-address-policy-{}-{}",
            std::process::id(),
            random()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.json");
        Store {
            storage: Arc::new(FileStorage::new(&path)),
            dir,
            path,
            before: None,
            secrets: Vec::new(),
        }
    }

    fn assert_untouched(&self) {
        let now = std::fs::read(&self.path).ok();
        assert!(
            now == self.before,
            "credential file changed:\n{}",
            String::from_utf8_lossy(now.as_deref().unwrap_or_default())
        );
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The kind, no secret (nor `extra`) in the error or the trace, the file unchanged.
fn assert_refused(e: &Error, kind: ErrorKind, store: &Store, trace: &Trace, extra: &[&str]) {
    assert_eq!(e.kind(), kind, "{e}");
    let events = trace
        .lock()
        .unwrap()
        .iter()
        .map(TraceEvent::to_json)
        .collect::<Vec<_>>()
        .join("\n");
    let text = format!("{e}\n{e:?}\n{events}");
    for s in store
        .secrets
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
    {
        assert!(!text.contains(s), "secret {s:?} leaked:\n{text}");
    }
    store.assert_untouched();
}

fn recorder() -> Trace {
    Arc::new(Mutex::new(Vec::new()))
}

fn observed(b: ClientBuilder, trace: &Trace) -> ClientBuilder {
    let t = trace.clone();
    b.observer(Arc::new(move |e: &TraceEvent| {
        t.lock().unwrap().push(e.clone())
    }))
}

// ---------------------------------------------------------------------------------------------
// On loopback (no namespace needed)
// ---------------------------------------------------------------------------------------------

#[test]
fn userinfo_in_a_server_supplied_url_is_refused_and_never_becomes_a_header() {
    let victim = Victim::bind("127.0.0.1");
    let password = format!("pw-{}", random());
    let config = DemoConfig {
        resource_metadata_override: Some(format!(
            "http://attacker:{password}@127.0.0.1:{}/prm",
            victim.port()
        )),
        ..DemoConfig::default()
    };
    let h = Harness::start(config);
    let store = Store::seeded(&h.server.mcp_url(), Some(&h.server.issuer()));
    let client = h.builder().storage(store.storage.clone()).build().unwrap();
    let e = initialize(&client).unwrap_err();
    assert_refused(
        &e,
        ErrorKind::AddressRefused,
        &store,
        &h.trace,
        &[&password, "attacker"],
    );
    assert!(e.to_string().contains("userinfo"), "{e}");
    assert_eq!(victim.connections(), 0);
}

#[test]
fn a_loopback_server_keeps_its_loopback_authorization_server() {
    // The demo server is the MCP server, the protected resource metadata and the
    // authorization server, all on 127.0.0.1: local development keeps working.
    let h = Harness::start(DemoConfig::default());
    let client = h.client();
    initialize(&client).expect("the loopback flow completes");
    assert!(h.server.grant_count("authorization_code") >= 1);
}

#[test]
fn send_refuses_another_origin_by_default_and_the_other_origin_sees_nothing() {
    let h = Harness::start(DemoConfig::default());
    let client = h.client();
    initialize(&client).unwrap();
    let token = client.current_token().unwrap().expect("a token");
    let other = Responder::start("127.0.0.1");
    let store = Store::empty();
    for url in [
        format!("http://{}/steal?x=1", other.addr),
        // Same host, another port; another scheme.
        h.server.mcp_url().replace("http://", "https://"),
        format!("http://localhost:{}/mcp", h.server.port()),
    ] {
        let request = http::Request::post(url.as_str())
            .body(b"{}".to_vec())
            .unwrap();
        let e = client.send(request).unwrap_err();
        assert_refused(
            &e,
            ErrorKind::ForeignOrigin,
            &store,
            &h.trace,
            &[token.secret(), "x=1"],
        );
        assert!(e.to_string().contains(&h.server.origin()), "{e}");
    }
    assert_eq!(other.hits(), 0);
}

#[test]
fn send_without_token_to_another_origin_when_the_host_asks() {
    let h = Harness::start(DemoConfig::default());
    let client = h
        .builder()
        .cross_origin(CrossOrigin::WithoutToken)
        .build()
        .unwrap();
    initialize(&client).unwrap();
    let token = client.current_token().unwrap().expect("a token");
    let other = Responder::start("127.0.0.1");
    let request = http::Request::get(format!("http://{}/public", other.addr))
        .body(Vec::new())
        .unwrap();
    let response = client.send(request).unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(response.authorizations, 0);
    assert_eq!(other.hits(), 1);
    let head = other.heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(!head.contains("authorization"), "{head}");
    assert!(
        !head.contains(&token.secret().to_ascii_lowercase()),
        "{head}"
    );
    // The MCP server itself still gets the token.
    let before = h.server.requests_to("/mcp").len();
    initialize(&client).unwrap();
    let r = &h.server.requests_to("/mcp")[before];
    assert!(
        r.header("authorization")
            .is_some_and(|a| a.contains(token.secret()))
    );
}

#[test]
fn a_host_supplied_http_client_still_gets_literals_and_userinfo_checked() {
    // No resolver of ours: the checks that need none still run before the request is handed
    // to the host's client.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let http = move |req: http::Request<Vec<u8>>| -> mcp_auth::Result<http::Response<Vec<u8>>> {
        let url = req.uri().to_string();
        s.lock().unwrap().push(url.clone());
        if url.starts_with("https://mcp.example.com/mcp") {
            return Ok(http::Response::builder()
                .status(401)
                .header(
                    "www-authenticate",
                    r#"Bearer resource_metadata="https://169.254.169.254/latest/meta-data/iam""#,
                )
                .body(Vec::new())
                .unwrap());
        }
        Ok(http::Response::builder()
            .status(404)
            .body(Vec::new())
            .unwrap())
    };
    let trace = recorder();
    let client = observed(
        Client::builder("https://mcp.example.com/mcp").headless(),
        &trace,
    )
    .http_client(Arc::new(http))
    .build()
    .unwrap();
    let e = initialize(&client).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddressRefused, "{e}");
    assert!(e.to_string().contains("169.254.169.254"), "{e}");
    assert!(e.to_string().contains("link-local"), "{e}");
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|u| !u.contains("169.254")), "{seen:?}");
}

// ---------------------------------------------------------------------------------------------
// The namespace launcher
// ---------------------------------------------------------------------------------------------

/// Addresses given to `lo` inside the namespace.
const PUBLIC: &str = "203.0.113.10";
const PRIVATE: &str = "10.0.0.5";
const PRIVATE_2: &str = "10.0.0.6";
const LINK_LOCAL: &str = "169.254.169.254";
const CGNAT: &str = "100.64.0.7";

/// Names the namespace's hosts file resolves.
const HOSTS: &str = "10.0.0.5 internal.test\n127.0.0.1 victim.test\n203.0.113.10 mixed.test\n127.0.0.1 mixed.test\n";

/// How many tests `mod netns` holds: the launcher checks they all ran.
const NETNS_TESTS: usize = 16;

fn in_namespace() -> bool {
    std::env::var("MCP_AUTH_NETNS").as_deref() == Ok("1")
}

fn why_no_namespace() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root (unshare -n needs it)".to_owned());
    }
    for tool in ["unshare", "ip", "mount"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

#[test]
fn in_a_private_network_namespace() {
    if let Some(why) = why_no_namespace() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the address-policy tests need a private network namespace: {why}");
        }
        eprintln!("SKIPPED: address-policy namespace tests: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "mcp-auth-netns-{}-{}",
        std::process::id(),
        random()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, HOSTS).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut script = String::from("set -e; mount --bind \"$1\" /etc/hosts; ip link set lo up; ");
    for a in [PUBLIC, PRIVATE, PRIVATE_2, LINK_LOCAL, CGNAT] {
        script.push_str(&format!("ip addr add {a}/32 dev lo; "));
    }
    script.push_str("shift; exec \"$@\"");
    let out = std::process::Command::new("unshare")
        .args(["-n", "-m", "sh", "-c", &script, "sh"])
        .arg(&hosts)
        .arg(&exe)
        .args(["--ignored", "--test-threads=2", "netns::"])
        .env("MCP_AUTH_NETNS", "1")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let expected = format!("test result: ok. {NETNS_TESTS} passed");
    assert!(
        stdout.contains(&expected),
        "expected {expected:?}:\n{stdout}\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Inside the namespace
// ---------------------------------------------------------------------------------------------

mod netns {
    use super::*;
    use mcp_auth_tls_front::{Pki, TlsFront};

    type Routes = Arc<Mutex<HashMap<String, (u16, Vec<(String, String)>, String)>>>;

    /// A hostile MCP server, protected resource and authorization server on
    /// `https://{ip}` (port 443), a plaintext loopback upstream behind a TLS front.
    pub(super) struct Hostile {
        pub(super) origin: String,
        routes: Routes,
        pub(super) lines: Arc<Mutex<Vec<String>>>,
        pub(super) pki: Pki,
        _front: TlsFront,
    }

    impl Hostile {
        pub(super) fn start(ip: &str) -> Hostile {
            assert!(in_namespace(), "run through in_a_private_network_namespace");
            let pki = Pki::generate_for(&[ip, "mixed.test"]).unwrap();
            let routes: Routes = Arc::default();
            let lines: Arc<Mutex<Vec<String>>> = Arc::default();
            let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
            let up = upstream.local_addr().unwrap();
            let (r, l) = (routes.clone(), lines.clone());
            std::thread::spawn(move || {
                for conn in upstream.incoming() {
                    let Ok(mut conn) = conn else { continue };
                    let Some((head, _)) = read_request(&mut conn) else {
                        continue;
                    };
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                    let path = path.split('?').next().unwrap_or_default().to_owned();
                    l.lock().unwrap().push(line);
                    let (status, headers, body) = r
                        .lock()
                        .unwrap()
                        .get(&path)
                        .cloned()
                        .unwrap_or((404, Vec::new(), String::new()));
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&body);
                    let _ = conn.write_all(out.as_bytes());
                }
            });
            let front = TlsFront::start_at(
                format!("{ip}:0").parse().unwrap(),
                pki.server_config(false).unwrap(),
                up,
            )
            .unwrap();
            Hostile {
                origin: format!("https://{ip}:{}", front.port()),
                routes,
                lines,
                pki,
                _front: front,
            }
        }

        pub(super) fn mcp_url(&self) -> String {
            format!("{}/mcp", self.origin)
        }

        pub(super) fn route(&self, path: &str, status: u16, headers: &[(&str, &str)], body: &str) {
            self.routes.lock().unwrap().insert(
                path.to_owned(),
                (
                    status,
                    headers
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                    body.to_owned(),
                ),
            );
        }

        /// `/mcp` answers 401 naming `resource_metadata`.
        pub(super) fn challenge(&self, resource_metadata: &str) {
            let www = format!(r#"Bearer resource_metadata="{resource_metadata}""#);
            self.route("/mcp", 401, &[("www-authenticate", &www)], "");
        }

        /// The PRM (at `/prm`, which the challenge names) listing `authorization_servers`.
        pub(super) fn prm(&self, authorization_servers: &[&str]) {
            self.challenge(&format!("{}/prm", self.origin));
            let body = serde_json::json!({
                "resource": self.mcp_url(),
                "authorization_servers": authorization_servers,
            });
            self.route("/prm", 200, &[], &body.to_string());
        }

        /// This origin as the authorization server, with endpoints overridden by `patch`.
        pub(super) fn as_metadata(&self, patch: serde_json::Value) {
            self.prm(&[&self.origin]);
            let mut m = serde_json::json!({
                "issuer": self.origin,
                "authorization_endpoint": format!("{}/authorize", self.origin),
                "token_endpoint": format!("{}/token", self.origin),
                "registration_endpoint": format!("{}/register", self.origin),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            });
            for (k, v) in patch.as_object().unwrap() {
                m[k] = v.clone();
            }
            self.route(
                "/.well-known/oauth-authorization-server",
                200,
                &[],
                &m.to_string(),
            );
        }

        pub(super) fn builder(&self, url: &str, trace: &Trace) -> ClientBuilder {
            let mut http = mcp_auth::http::HttpConfig {
                timeout: Duration::from_secs(20),
                proxy_from_env: false,
                ..Default::default()
            };
            http.tls.ca_pem.push(self.pki.ca_pem.clone());
            observed(Client::builder(url).headless(), trace).http_config(http)
        }

        pub(super) fn saw(&self, path: &str) -> usize {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.split(' ').nth(1).is_some_and(|p| p.starts_with(path)))
                .count()
        }
    }

    /// The common case: a public hostile server, a seeded credential file, one `initialize`;
    /// returns the error it ends in.
    fn refused(
        setup: impl FnOnce(&Hostile),
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> (Error, Store, Trace, Hostile) {
        let server = Hostile::start(PUBLIC);
        setup(&server);
        let store = Store::seeded(&server.mcp_url(), Some(&server.origin));
        let trace = recorder();
        let client = configure(server.builder(&server.mcp_url(), &trace))
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let e = initialize(&client).unwrap_err();
        (e, store, trace, server)
    }

    fn assert_address_refused(
        e: &Error,
        store: &Store,
        trace: &Trace,
        victim: &Victim,
        class: &str,
    ) {
        assert_refused(e, ErrorKind::AddressRefused, store, trace, &[]);
        assert!(e.to_string().contains(class), "{e}");
        assert_eq!(victim.connections(), 0, "the victim was reached: {e}");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn resource_metadata_on_loopback_is_never_fetched() {
        let victim = Victim::bind("127.0.0.1");
        let url = format!("http://127.0.0.1:{}/admin/api/delete?all=1", victim.port());
        let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
        assert!(!e.to_string().contains("all=1"), "{e}");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn resource_metadata_on_the_cloud_metadata_address_is_never_connected_to() {
        let victim = Victim::bind(LINK_LOCAL);
        let url = format!("https://{LINK_LOCAL}:{}/latest/meta-data/", victim.port());
        let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
        assert_address_refused(&e, &store, &trace, &victim, "link-local");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn resource_metadata_on_a_private_address_is_never_connected_to() {
        let victim = Victim::bind(PRIVATE);
        let url = format!("https://{PRIVATE}:{}/", victim.port());
        let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
        assert_address_refused(&e, &store, &trace, &victim, "private");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn resource_metadata_on_a_cgnat_address_is_never_connected_to() {
        let victim = Victim::bind(CGNAT);
        let url = format!("https://{CGNAT}:{}/", victim.port());
        let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
        assert_address_refused(&e, &store, &trace, &victim, "carrier-grade NAT");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn an_ipv4_mapped_loopback_address_is_loopback() {
        let victim = Victim::bind("127.0.0.1");
        let url = format!("https://[::ffff:127.0.0.1]:{}/", victim.port());
        let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn numeric_ipv4_spellings_of_loopback_are_loopback() {
        let victim = Victim::bind("127.0.0.1");
        for host in ["127.1", "2130706433", "0x7f.0.0.1"] {
            let url = format!("http://{host}:{}/prm", victim.port());
            let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
            assert_address_refused(&e, &store, &trace, &victim, "loopback");
        }
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn a_name_resolving_to_a_private_address_is_refused_after_resolution() {
        let victim = Victim::bind(PRIVATE);
        let url = format!("https://internal.test:{}/prm", victim.port());
        let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
        assert_address_refused(
            &e,
            &store,
            &trace,
            &victim,
            "internal.test resolves to 10.0.0.5",
        );
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn localhost_is_loopback() {
        let victim = Victim::bind("127.0.0.1");
        let url = format!("http://localhost:{}/prm", victim.port());
        let (e, store, trace, _) = refused(|s| s.challenge(&url), |b| b);
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn an_authorization_server_on_loopback_is_never_asked_for_metadata() {
        let victim = Victim::bind("127.0.0.1");
        let issuer = format!("http://127.0.0.1:{}", victim.port());
        let (e, store, trace, server) = refused(|s| s.prm(&[&issuer]), |b| b);
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
        assert_eq!(server.saw("/prm"), 1);
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn a_registration_endpoint_on_another_loopback_port_gets_no_post() {
        let victim = Victim::bind("127.0.0.1");
        let register = format!("http://127.0.0.1:{}/register", victim.port());
        let server = Hostile::start(PUBLIC);
        server.as_metadata(serde_json::json!({ "registration_endpoint": register }));
        // No registration stored: the flow registers (RFC 7591).
        let store = Store::seeded(&server.mcp_url(), None);
        let trace = recorder();
        let client = server
            .builder(&server.mcp_url(), &trace)
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let e = initialize(&client).unwrap_err();
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
        assert!(server.saw("/.well-known/oauth-authorization-server") >= 1);
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn a_token_endpoint_named_on_a_private_network_gets_no_refresh_token() {
        let victim = Victim::bind(PRIVATE);
        let token = format!("https://internal.test:{}/token", victim.port());
        let (e, store, trace, _) = refused(
            |s| s.as_metadata(serde_json::json!({ "token_endpoint": token })),
            |b| b,
        );
        assert_address_refused(&e, &store, &trace, &victim, "private");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn an_authorization_endpoint_on_loopback_is_refused_before_any_browser_opens() {
        let victim = Victim::bind("127.0.0.1");
        let authorize = format!("https://victim.test:{}/authorize", victim.port());
        let server = Hostile::start(PUBLIC);
        server.as_metadata(serde_json::json!({ "authorization_endpoint": authorize }));
        let store = Store::empty();
        let trace = recorder();
        let opened = Arc::new(AtomicUsize::new(0));
        let o = opened.clone();
        let handler = CallbackRedirect::new(None, move |_url: &str| {
            o.fetch_add(1, Ordering::SeqCst);
            Err(Error::Cancelled)
        });
        let client = server
            .builder(&server.mcp_url(), &trace)
            .pre_registered(mcp_auth::PreRegisteredClient::public("public-client"))
            .redirect_handler(Arc::new(handler))
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let e = initialize(&client).unwrap_err();
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
        assert_eq!(opened.load(Ordering::SeqCst), 0, "the redirect handler ran");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn a_server_name_answering_public_and_loopback_unlocks_nothing() {
        // mixed.test resolves to 203.0.113.10 and 127.0.0.1: the client reaches the public
        // one, and loopback stays refused for what that server names.
        let victim = Victim::bind("127.0.0.1");
        let server = Hostile::start(PUBLIC);
        let issuer = format!("http://127.0.0.1:{}", victim.port());
        let port = server.origin.rsplit(':').next().unwrap().to_owned();
        let url = format!("https://mixed.test:{port}/mcp");
        let www = format!(r#"Bearer resource_metadata="https://mixed.test:{port}/prm""#);
        server.route("/mcp", 401, &[("www-authenticate", &www)], "");
        let prm = serde_json::json!({"resource": url, "authorization_servers": [issuer]});
        server.route("/prm", 200, &[], &prm.to_string());
        let store = Store::seeded(&url, None);
        let trace = recorder();
        let client = server
            .builder(&url, &trace)
            .config(|c| c.http.connect_timeout = Duration::from_secs(5))
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let e = initialize(&client).unwrap_err();
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
        assert_eq!(server.saw("/prm"), 1);
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn the_allowlist_lets_a_named_address_through() {
        let responder = Responder::start("127.0.0.1");
        let issuer = format!("http://{}", responder.addr);
        let server = Hostile::start(PUBLIC);
        server.prm(&[&issuer]);
        let store = Store::seeded(&server.mcp_url(), None);
        let trace = recorder();
        let client = server
            .builder(&server.mcp_url(), &trace)
            .allow_address("127.0.0.0/8")
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let e = initialize(&client).unwrap_err();
        // The allowed AS was asked for its metadata (and answered 404: discovery fails).
        assert_eq!(e.kind(), ErrorKind::Discovery, "{e}");
        assert!(responder.hits() >= 1);
        let heads = responder.heads.lock().unwrap();
        assert!(heads[0].contains("/.well-known/"), "{heads:?}");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn a_private_server_may_use_a_private_authorization_server_but_not_loopback() {
        let server = Hostile::start(PRIVATE);
        let auth = Hostile::start(PRIVATE_2);
        server.prm(&[&auth.origin]);
        let store = Store::seeded(&server.mcp_url(), None);
        let trace = recorder();
        let ca = auth.pki.ca_pem.clone();
        let client = server
            .builder(&server.mcp_url(), &trace)
            .config(move |c| c.http.tls.ca_pem.push(ca))
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let e = initialize(&client).unwrap_err();
        // Reached: it serves no metadata, so discovery fails there, not before.
        assert_eq!(e.kind(), ErrorKind::Discovery, "{e}");
        assert!(auth.saw("/.well-known/") >= 1);
        let victim = Victim::bind("127.0.0.1");
        server.prm(&[&format!("http://127.0.0.1:{}", victim.port())]);
        let client = server
            .builder(&server.mcp_url(), &trace)
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let e = initialize(&client).unwrap_err();
        assert_address_refused(&e, &store, &trace, &victim, "loopback");
    }

    #[test]
    #[ignore = "inside the namespace only (in_a_private_network_namespace)"]
    fn send_to_another_origin_carries_no_token() {
        // The origin binding with a public server: a seeded token is never sent elsewhere.
        let server = Hostile::start(PUBLIC);
        let other = Responder::start(PRIVATE);
        let store = Store::seeded(&server.mcp_url(), None);
        let trace = recorder();
        let client = server
            .builder(&server.mcp_url(), &trace)
            .storage(store.storage.clone())
            .build()
            .unwrap();
        let request = http::Request::post(format!("http://{}/mcp", other.addr))
            .body(b"{}".to_vec())
            .unwrap();
        let e = client.send(request).unwrap_err();
        assert_refused(&e, ErrorKind::ForeignOrigin, &store, &trace, &[]);
        assert_eq!(other.hits(), 0);
    }
}
