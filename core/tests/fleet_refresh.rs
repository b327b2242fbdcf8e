//! A fleet sharing one credential: many processes (and, through Redis, "machines") refresh a
//! rotating token once per expiry, never replaying a consumed refresh token. Counted from the
//! authorization server's side: the demo server in reuse-detection mode (RFC 9700 §4.14.2),
//! where a replayed refresh token revokes the whole grant.
//!
//! The child processes are this test binary itself, re-executed with `MCP_AUTH_FLEET_ROLE` set
//! and `--exact child_entry` (a no-op in the normal run). Tests that need `redis-server` start
//! one on a free loopback port in a temporary directory; without it they fail under `CI=true`
//! and are skipped (with a message) elsewhere.
#![cfg(unix)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use mcp_auth::storage::{FileStorage, RedisStorage, TokenStorage};
use mcp_auth::token::TokenEndpointAuthMethod;
use mcp_auth::{Client, ErrorKind, PreRegisteredClient};
use mcp_auth_demo_server::{
    AuthMethod, DemoConfig, FaultAction, PreregisteredClient, RefreshCounters, RouteFault,
};
use serde_json::json;

const ROLE: &str = "MCP_AUTH_FLEET_ROLE";
const CLIENT_ID: &str = "fleet-app";
/// Distinct access tokens every worker process must have used (so at least this many minus one
/// refreshes, i.e. expiries, happen while all of them run).
const GENERATIONS: usize = 5;
/// A generous bound for a worker; expiry itself is driven by the server's 1 s token lifetime.
const WORKER_DEADLINE: Duration = Duration::from_secs(120);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"))
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-fleet-{tag}-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What follows `marker` on a line of output.
fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| line[i + marker.len()..].trim())
}

// ---------------------------------------------------------------------------------------------
// The store a process uses: `file:<path>` or `redis:<url>#<namespace>`
// ---------------------------------------------------------------------------------------------

fn open_store(spec: &str) -> Arc<dyn TokenStorage> {
    if let Some(path) = spec.strip_prefix("file:") {
        Arc::new(FileStorage::new(path))
    } else if let Some(rest) = spec.strip_prefix("redis:") {
        let (url, ns) = rest.split_once('#').expect("redis:<url>#<namespace>");
        Arc::new(RedisStorage::new(url, Some(ns)).expect("valid Redis URL"))
    } else {
        panic!("unknown store {spec}")
    }
}

fn client_for(
    mcp_url: &str,
    secret: &str,
    store: Arc<dyn TokenStorage>,
    lease: Duration,
) -> Client {
    Client::builder(mcp_url)
        .headless()
        .storage(store)
        .pre_registered(PreRegisteredClient::with_secret(
            CLIENT_ID,
            secret.to_owned(),
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .timeout(Duration::from_secs(60))
        .config(|c| c.refresh_lease_ttl = lease)
        .build()
        .unwrap()
}

const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;

// ---------------------------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------------------------

/// The entry point of every child process (a no-op in the normal test run).
#[test]
fn child_entry() {
    match std::env::var(ROLE).as_deref() {
        Ok("worker") => worker(),
        Ok("holder") => holder(),
        _ => {}
    }
}

fn child_client() -> Client {
    client_for(
        &env("MCP_URL"),
        &env("CLIENT_SECRET"),
        open_store(&env("STORE")),
        Duration::from_millis(env("LEASE_MS").parse().unwrap()),
    )
}

/// `THREADS` threads share one client and call `tools/list` until this process has seen
/// `GENERATIONS` distinct access tokens in the store (or the deadline passes). Prints the call and failure
/// counts and the number of distinct tokens seen.
fn worker() {
    let client = Arc::new(child_client());
    // Observed through the store, which never refreshes (`current_token` might).
    let store = open_store(&env("STORE"));
    let threads: usize = env("THREADS").parse().unwrap();
    let seen = Arc::new(Mutex::new(HashSet::<String>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let deadline = Instant::now() + WORKER_DEADLINE;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (client, seen, failures) = (client.clone(), seen.clone(), failures.clone());
            let store = store.clone();
            std::thread::spawn(move || {
                let mut calls = 0usize;
                while seen.lock().unwrap().len() < GENERATIONS && Instant::now() < deadline {
                    match client.post_json(TOOLS_LIST) {
                        Ok(r) if r.status == 200 => {}
                        Ok(r) => failures
                            .lock()
                            .unwrap()
                            .push(format!("status {}", r.status)),
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                    calls += 1;
                    // The stored token now: what the call used, or its successor.
                    if let Ok(Some(t)) = store.get_tokens(client.resource_key()) {
                        seen.lock()
                            .unwrap()
                            .insert(t.access_token.secret().to_owned());
                    }
                    // Pacing only (keeps a loaded 2-core machine responsive); expiry is driven
                    // by the server's token lifetime.
                    std::thread::sleep(Duration::from_millis(40));
                }
                calls
            })
        })
        .collect();
    let calls: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let failures = failures.lock().unwrap();
    for f in failures.iter().take(5) {
        println!("failure: {f}");
    }
    println!(
        "calls {calls} failures {} distinct {}",
        failures.len(),
        seen.lock().unwrap().len()
    );
}

/// Calls `tools/list` until a call hangs (the test makes the token endpoint hold the refresh
/// response); the parent kills it with SIGKILL while it holds the refresh lease.
fn holder() {
    let client = child_client();
    loop {
        let r = client.post_json(TOOLS_LIST).expect("call");
        assert_eq!(r.status, 200);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(role: &str, vars: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.spawn().expect("re-exec the test binary")
}

// ---------------------------------------------------------------------------------------------
// A real redis-server on a free loopback port
// ---------------------------------------------------------------------------------------------

struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts `redis-server` (no persistence, loopback only). `None` (the test is skipped with
    /// a message) when it is not installed, except under `CI=true`, where that fails.
    fn start() -> Option<RedisServer> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "redis-server is not installed (apt-get install -y redis-server; `make test` does)"
            );
            eprintln!("SKIPPED: redis-server is not installed (apt-get install -y redis-server)");
            return None;
        }
        let dir = tempdir("redis");
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "yes",
                ])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) {
                if child.try_wait().unwrap().is_some() {
                    break; // port taken meanwhile: try another
                }
                if redis_ping(port) {
                    return Some(RedisServer { child, port, dir });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `EXISTS key` through the wire protocol.
    fn exists(&self, key: &str) -> bool {
        redis_command(self.port, &["EXISTS", key]).starts_with(":1")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_command(port: u16, args: &[&str]) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut cmd = format!("*{}\r\n", args.len());
    for a in args {
        cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    if s.write_all(cmd.as_bytes()).is_err() {
        return String::new();
    }
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn redis_ping(port: u16) -> bool {
    redis_command(port, &["PING"]).starts_with("+PONG")
}

// ---------------------------------------------------------------------------------------------
// The fleet
// ---------------------------------------------------------------------------------------------

struct Fleet {
    h: Harness,
    secret: String,
}

impl Fleet {
    /// A demo server with 1 s access tokens, rotation and reuse detection, and a confidential
    /// client every process shares.
    fn start() -> Fleet {
        let h = Harness::start(DemoConfig {
            token_ttl_secs: 1,
            refresh_reuse_detection: true,
            ..DemoConfig::default()
        });
        let secret = format!("fleet-secret-{}", mcp_auth::pkce::generate_state().secret());
        h.server.register_client(PreregisteredClient::new(
            CLIENT_ID,
            Some(&secret),
            AuthMethod::ClientSecretBasic,
        ));
        Fleet { h, secret }
    }

    /// One authorization, stored in `store` (the only one the fleet may need).
    fn authorize(&self, store: Arc<dyn TokenStorage>) {
        let c = client_for(
            &self.h.server.mcp_url(),
            &self.secret,
            store,
            Duration::from_secs(30),
        );
        rpc(&c, 1, "tools/list", json!({})).unwrap();
        assert_eq!(self.h.server.grant_count("authorization_code"), 1);
    }

    fn vars(&self, store: &str, lease: Duration) -> Vec<(&'static str, String)> {
        vec![
            ("STORE", store.to_owned()),
            ("MCP_URL", self.h.server.mcp_url()),
            ("CLIENT_SECRET", self.secret.clone()),
            ("LEASE_MS", lease.as_millis().to_string()),
        ]
    }

    fn resource(&self) -> String {
        mcp_auth::checks::resource_url_from_server_url(&self.h.server.mcp_url()).unwrap()
    }

    /// Distinct bearer tokens presented to the MCP endpoint.
    fn tokens_presented(&self) -> HashSet<String> {
        self.h
            .server
            .requests_to("/mcp")
            .iter()
            .filter_map(|r| r.header("authorization").map(str::to_owned))
            .collect()
    }
}

/// Runs every group's workers at once and checks their reports: no failed call, and each saw
/// [`GENERATIONS`] tokens. Returns the total number of calls.
fn run_workers(groups: &[Vec<(&'static str, String)>], processes: usize, threads: usize) -> usize {
    let mut children = Vec::new();
    for vars in groups {
        for _ in 0..processes {
            let mut v = vars.clone();
            v.push(("THREADS", threads.to_string()));
            children.push(spawn("worker", &v));
        }
    }
    let mut total = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "worker failed: {text}");
        let report = text
            .lines()
            .find_map(|l| after(l, "calls "))
            .unwrap_or_else(|| panic!("no report: {text}"));
        let fields: Vec<usize> = report
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let [calls, failures, distinct] = fields[..] else {
            panic!("bad report {report}");
        };
        assert_eq!(failures, 0, "failed calls: {text}");
        assert!(
            distinct >= GENERATIONS,
            "a worker saw {distinct} tokens before its deadline: {text}"
        );
        total += calls;
    }
    total
}

/// The server's side: every refresh request consumed the live refresh token (none was a
/// replay), no grant was revoked, nobody authorized again, and every refresh produced a token
/// that was used (one refresh per expiry, not one per process).
fn assert_one_refresh_per_expiry(f: &Fleet) {
    let server = &f.h.server;
    let counters = server.refresh_counters();
    eprintln!(
        "server: {counters:?}, refresh requests {}, authorizations {}, tokens presented {}",
        server.grant_count("refresh_token"),
        server.grant_count("authorization_code"),
        f.tokens_presented().len()
    );
    assert_eq!(
        counters,
        RefreshCounters {
            refreshes: counters.refreshes,
            reuse_detections: 0,
            revocations: 0,
        },
        "a refresh token was replayed"
    );
    assert_eq!(
        server.grant_count("refresh_token"),
        counters.refreshes,
        "every refresh request was the one refresh of its expiry"
    );
    assert!(
        counters.refreshes >= GENERATIONS - 1,
        "{} refreshes",
        counters.refreshes
    );
    assert_eq!(
        server.grant_count("authorization_code"),
        1,
        "no re-authorization"
    );
    assert_eq!(
        f.tokens_presented().len(),
        counters.refreshes + 1,
        "each refresh replaced a token that had been in use (the first from the authorization)"
    );
}

#[test]
fn processes_sharing_a_file_refresh_once_per_expiry() {
    let f = Fleet::start();
    let dir = tempdir("file");
    let path = dir.join("credentials.json");
    f.authorize(Arc::new(FileStorage::new(&path)));
    let store = format!("file:{}", path.display());
    let calls = run_workers(&[f.vars(&store, Duration::from_secs(30))], 8, 8);
    assert!(calls > 64, "{calls} calls");
    assert_one_refresh_per_expiry(&f);
    // The file holds the newest pair, and its refresh token is live.
    let stored = FileStorage::new(&path)
        .get_tokens(&f.resource())
        .unwrap()
        .expect("stored");
    assert!(
        f.tokens_presented()
            .contains(&format!("Bearer {}", stored.access_token.secret()))
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_machines_sharing_only_redis_refresh_once_per_expiry() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let f = Fleet::start();
    let ns = format!("fleet-{}", std::process::id());
    f.authorize(Arc::new(
        RedisStorage::new(&redis.url(), Some(&ns)).unwrap(),
    ));
    let store = format!("redis:{}#{ns}", redis.url());
    // Two "machines": each group has its own home directory, so the only thing they share is
    // the Redis server.
    let groups: Vec<_> = ["a", "b"]
        .iter()
        .map(|m| {
            let home = tempdir(&format!("machine-{m}"));
            let mut v = f.vars(&store, Duration::from_secs(30));
            v.push(("MCP_AUTH_HOME", home.display().to_string()));
            v.push(("HOME", home.display().to_string()));
            v
        })
        .collect();
    let calls = run_workers(&groups, 4, 8);
    assert!(calls > 64, "{calls} calls");
    assert_one_refresh_per_expiry(&f);
    for v in &groups {
        let home = &v.iter().find(|(k, _)| *k == "HOME").unwrap().1;
        let _ = std::fs::remove_dir_all(home);
    }
}

// ---------------------------------------------------------------------------------------------
// A lease holder killed mid-refresh
// ---------------------------------------------------------------------------------------------

/// Starts a holder, waits until its refresh request is held by the server (it holds the lease
/// then), kills it with SIGKILL; then a new process must take over and refresh with the same
/// (never consumed) refresh token: one refresh, no reuse, no re-authorization.
fn killed_holder(f: &Fleet, store: &str, lease: Duration, after_kill: impl FnOnce()) {
    let token_requests = f.h.server.count("/token");
    f.h.server.add_fault(
        RouteFault::new("/token", FaultAction::Hang)
            .method("POST")
            .times(1),
    );
    let mut holder = spawn("holder", &f.vars(store, lease));
    let started = Instant::now();
    while f.h.server.count("/token") == token_requests {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the holder never refreshed"
        );
        assert!(holder.try_wait().unwrap().is_none(), "the holder exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    holder.kill().unwrap(); // SIGKILL, mid-refresh, lease held
    holder.wait().unwrap();
    after_kill();

    let mut taker = spawn("worker", &{
        let mut v = f.vars(store, lease);
        v.push(("THREADS", "2".to_owned()));
        v
    });
    let out = {
        let stdout = taker.stdout.take().unwrap();
        let text: Vec<String> = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect();
        assert!(taker.wait().unwrap().success(), "taker failed: {text:?}");
        text.join("\n")
    };
    assert!(out.contains("failures 0"), "{out}");
    let counters = f.h.server.refresh_counters();
    assert_eq!(counters.reuse_detections, 0, "{counters:?}");
    assert_eq!(counters.revocations, 0, "{counters:?}");
    assert!(counters.refreshes >= GENERATIONS - 1, "{counters:?}");
    assert_eq!(f.h.server.grant_count("refresh_token"), counters.refreshes);
    assert_eq!(f.h.server.grant_count("authorization_code"), 1);
}

#[test]
fn a_file_lease_holder_killed_mid_refresh_is_taken_over() {
    let f = Fleet::start();
    let dir = tempdir("kill-file");
    let path = dir.join("credentials.json");
    f.authorize(Arc::new(FileStorage::new(&path)));
    // The OS lock dies with the process: the next one takes over without waiting.
    killed_holder(
        &f,
        &format!("file:{}", path.display()),
        Duration::from_secs(30),
        || {},
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_redis_lease_holder_killed_mid_refresh_is_taken_over_after_the_deadline() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let f = Fleet::start();
    let ns = format!("kill-{}", std::process::id());
    f.authorize(Arc::new(
        RedisStorage::new(&redis.url(), Some(&ns)).unwrap(),
    ));
    let lease_key = format!("{ns}:lease:{}", f.resource());
    // A lease long enough to outlive the kill on a loaded machine, short enough to wait for.
    killed_holder(
        &f,
        &format!("redis:{}#{ns}", redis.url()),
        Duration::from_secs(4),
        || {
            assert!(
                redis.exists(&lease_key),
                "the dead holder's lease is still there"
            )
        },
    );
    assert!(!redis.exists(&lease_key), "the taker released its lease");
}

// ---------------------------------------------------------------------------------------------
// Redis unreachable
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unreachable_redis_is_a_clear_storage_error_and_never_shows_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // closed again: nothing listens there
    let store = RedisStorage::new(&format!("redis://:hunter2@127.0.0.1:{port}/0"), None)
        .unwrap()
        .with_timeout(Duration::from_secs(5));
    let e = store.get_tokens("https://r.example/mcp").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!format!("{store:?}").contains("hunter2"));
    let e = store
        .acquire_lease("https://r.example/mcp", "me", Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);

    let bad = RedisStorage::new("not a url", None).unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Storage);
}

#[test]
fn when_redis_goes_away_the_valid_token_in_memory_keeps_working() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let h = Harness::start(DemoConfig::default()); // 1 h tokens
    let url = redis.url();
    let store = || -> Arc<dyn TokenStorage> {
        Arc::new(
            RedisStorage::new(&url, Some("gone"))
                .unwrap()
                .with_timeout(Duration::from_secs(5)),
        )
    };
    let c = h.builder().storage(store()).build().unwrap();
    rpc(&c, 1, "tools/list", json!({})).unwrap();
    let tokens = h.server.count("/token");
    redis.stop();
    for i in 0..3 {
        rpc(&c, 2 + i, "tools/list", json!({})).unwrap();
    }
    assert_eq!(h.server.count("/token"), tokens, "no new token was needed");
    // A new process cannot load its token: a storage error, not a new authorization.
    let fresh = h.builder().storage(store()).build().unwrap();
    let e = rpc(&fresh, 9, "tools/list", json!({})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    assert_eq!(h.server.grant_count("authorization_code"), 1);
}

// ---------------------------------------------------------------------------------------------
// The options JSON (what C and Python use)
// ---------------------------------------------------------------------------------------------

#[test]
fn options_json_selects_the_redis_store() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let h = Harness::start(DemoConfig::default());
    let url = redis.url().replace("redis://", "redis://:opt-password@");
    let json = json!({
        "server_url": h.server.mcp_url(),
        "storage": {"type": "redis", "url": url, "namespace": "from-json"},
        "redirect": {"type": "headless"},
    })
    .to_string();
    let opts = mcp_auth::options::ClientOptions::from_json(&json).unwrap();
    assert!(!format!("{opts:?}").contains("opt-password"));
    // The server has no password: the URL's is refused, as a storage error without it.
    let c = opts.builder().unwrap().build().unwrap();
    let e = rpc(&c, 1, "tools/list", json!({})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    assert!(!e.to_string().contains("opt-password"), "{e}");

    let json = json!({
        "server_url": h.server.mcp_url(),
        "storage": {"type": "redis", "url": redis.url(), "namespace": "from-json"},
        "redirect": {"type": "headless"},
    })
    .to_string();
    let c = mcp_auth::options::ClientOptions::from_json(&json)
        .unwrap()
        .builder()
        .unwrap()
        .build()
        .unwrap();
    rpc(&c, 1, "tools/list", json!({})).unwrap();
    let key = format!(
        "from-json:tokens:{}",
        mcp_auth::checks::resource_url_from_server_url(&h.server.mcp_url()).unwrap()
    );
    assert!(
        redis.exists(&key),
        "the token is in Redis under the namespace"
    );
    let unknown = json!({
        "server_url": h.server.mcp_url(),
        "storage": {"type": "redis", "url": redis.url(), "prefix": "x"},
    });
    assert!(mcp_auth::options::ClientOptions::from_json(&unknown.to_string()).is_err());
}
