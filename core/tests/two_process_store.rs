//! Two processes sharing one `FileStorage`: concurrent writers lose nothing, the file is valid
//! JSON at every instant, a writer killed mid-loop (SIGKILL, so between any two syscalls,
//! including between the temp-file write and the rename) loses nothing that was committed, and
//! two processes refreshing rotating tokens leave a live refresh token in the file.
//!
//! The child processes are this test binary itself, re-executed with
//! `MCP_AUTH_STORE_ROLE` set and `--exact child_entry`: `child_entry` does nothing in a normal
//! run.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{FileStorage, TokenStorage};
use mcp_auth::token::TokenEndpointAuthMethod;
use mcp_auth_demo_server::{AuthMethod, DemoConfig, PreregisteredClient};
use serde_json::json;

const ROLE: &str = "MCP_AUTH_STORE_ROLE";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"))
}

fn token(access: &str) -> OAuthToken {
    let mut t = OAuthToken::new(access);
    t.refresh_token = Some(format!("{access}-refresh").into());
    t
}

fn access_of(storage: &FileStorage, key: &str) -> Option<String> {
    storage
        .get_tokens(key)
        .unwrap()
        .map(|t| t.access_token.secret().to_owned())
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-two-process-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What follows `marker` on a line of a child's output (the test harness may print its own
/// text before it on the same line).
fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| line[i + marker.len()..].trim())
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

/// The entry point of every child process (a no-op in the normal test run).
#[test]
fn child_entry() {
    match std::env::var(ROLE).as_deref() {
        Ok("writer") => writer(),
        Ok("endless_writer") => endless_writer(),
        Ok("refresher") => refresher(),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Two writers
// ---------------------------------------------------------------------------------------------

const ITERATIONS: usize = 120;
const OWN_KEYS: usize = 7;
const SHARED_KEYS: usize = 5;

/// Writes, per iteration `i`: a key of its own that is never rewritten, one of `OWN_KEYS`
/// keys of its own that are rewritten (newest value wins), one of `SHARED_KEYS` keys both
/// writers rewrite, and now and then a client registration.
fn writer() {
    let storage = FileStorage::new(env("STORE_PATH"));
    let id = env("WRITER_ID");
    for i in 0..ITERATIONS {
        storage
            .set_tokens(
                &format!("https://distinct.example/{id}/{i}"),
                &token(&format!("{id}-d-{i}")),
            )
            .unwrap();
        storage
            .set_tokens(
                &format!("https://own.example/{id}/{}", i % OWN_KEYS),
                &token(&format!("{id}-o-{i}")),
            )
            .unwrap();
        storage
            .set_tokens(
                &format!("https://shared.example/{}", i % SHARED_KEYS),
                &token(&format!("{id}-s-{i}")),
            )
            .unwrap();
        if i % 10 == 0 {
            let mut ci = OAuthClientInformationFull::new(format!("{id}-client-{i}"));
            ci.client_secret = Some(format!("{id}-secret-{i}").into());
            storage
                .set_client_info(&format!("https://as-{id}.example"), &ci)
                .unwrap();
        }
    }
    println!("writer {id} done");
}

/// Reads the file in a loop until told to stop; every read must be valid JSON.
fn watch_file(path: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut reads = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Ok(bytes) = std::fs::read(&path) {
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "torn credential file ({e}):\n{}",
                        String::from_utf8_lossy(&bytes)
                    )
                });
                reads += 1;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        reads
    })
}

#[test]
fn two_writer_processes_lose_no_key_and_keep_the_newest_values() {
    let dir = tempdir();
    let path = dir.join("credentials.json");
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_file(path.clone(), stop.clone());
    let children: Vec<Child> = ["a", "b"]
        .iter()
        .map(|id| {
            spawn(
                "writer",
                &[
                    ("STORE_PATH", path.display().to_string()),
                    ("WRITER_ID", (*id).to_owned()),
                ],
            )
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "writer failed: {out:?}");
    }
    stop.store(true, Ordering::Relaxed);
    let reads = watcher
        .join()
        .expect("the file was valid JSON at every read");
    assert!(reads > 0, "the watcher read the file");

    let storage = FileStorage::new(&path);
    for id in ["a", "b"] {
        for i in 0..ITERATIONS {
            let v = access_of(&storage, &format!("https://distinct.example/{id}/{i}"));
            assert_eq!(
                v.as_deref(),
                Some(format!("{id}-d-{i}").as_str()),
                "lost update"
            );
        }
        for k in 0..OWN_KEYS {
            let last = (0..ITERATIONS).filter(|i| i % OWN_KEYS == k).max().unwrap();
            let v = access_of(&storage, &format!("https://own.example/{id}/{k}"));
            assert_eq!(
                v.as_deref(),
                Some(format!("{id}-o-{last}").as_str()),
                "stale value"
            );
        }
        let last = (0..ITERATIONS).filter(|i| i % 10 == 0).max().unwrap();
        let ci = storage
            .get_client_info(&format!("https://as-{id}.example"))
            .unwrap()
            .unwrap();
        assert_eq!(ci.client_id, format!("{id}-client-{last}"));
    }
    for k in 0..SHARED_KEYS {
        let last = (0..ITERATIONS)
            .filter(|i| i % SHARED_KEYS == k)
            .max()
            .unwrap();
        let v = access_of(&storage, &format!("https://shared.example/{k}")).unwrap();
        assert!(
            v == format!("a-s-{last}") || v == format!("b-s-{last}"),
            "shared key {k} holds {v}, not one writer's last value"
        );
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Crashes
// ---------------------------------------------------------------------------------------------

/// Writes `seq` to one key and a new key per iteration, printing `committed N` after each
/// write returns, forever (until killed).
fn endless_writer() {
    let storage = FileStorage::new(env("STORE_PATH"));
    let mut i = 0u64;
    loop {
        storage
            .set_tokens("https://k.example/seq", &token(&format!("seq-{i}")))
            .unwrap();
        storage
            .set_tokens(&format!("https://k.example/{i}"), &token(&format!("k-{i}")))
            .unwrap();
        println!("committed {i}");
        i += 1;
    }
}

/// SIGKILL the writer after `after` commits; returns the last commit it reported.
fn kill_writer_after(path: &Path, commits: u64) -> u64 {
    let mut child = spawn(
        "endless_writer",
        &[("STORE_PATH", path.display().to_string())],
    );
    let stdout = child.stdout.take().unwrap();
    let mut last = None;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(n) = after(&line, "committed ") {
            let n: u64 = n.parse().unwrap();
            last = Some(n);
            if n >= commits {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    // Lines already written before the kill.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = after(&line, "committed ") {
            last = Some(n.parse().unwrap());
        }
    }
    child.wait().unwrap();
    last.expect("the writer committed something")
}

#[test]
fn a_writer_killed_mid_loop_loses_nothing_committed() {
    let dir = tempdir();
    let path = dir.join("credentials.json");
    let mut floor = 0;
    for (round, commits) in [3u64, 17, 40].into_iter().enumerate() {
        let last = kill_writer_after(&path, commits);
        let bytes = std::fs::read(&path).unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|e| panic!("round {round}: torn file after SIGKILL: {e}"));
        let storage = FileStorage::new(&path);
        let seq = access_of(&storage, "https://k.example/seq").unwrap();
        let seq: u64 = seq.strip_prefix("seq-").unwrap().parse().unwrap();
        // The kill may land after one more commit than was printed, never before the last one.
        assert!(
            seq == last || seq == last + 1,
            "round {round}: stored {seq}, reported {last}"
        );
        for i in 0..=last {
            assert_eq!(
                access_of(&storage, &format!("https://k.example/{i}")).as_deref(),
                Some(format!("k-{i}").as_str()),
                "round {round}: commit {i} lost"
            );
        }
        // Entries of earlier rounds (other processes) are still there.
        assert!(access_of(&storage, &format!("https://k.example/{floor}")).is_some());
        floor = last;
        // The lock died with the process: this process can write at once.
        let started = Instant::now();
        storage
            .set_tokens("https://k.example/after-kill", &token("after"))
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "lock left behind"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A crash after writing the temp file and before renaming it: the committed file is what
/// every reader sees, and the next write works and keeps everything committed.
#[test]
fn a_crash_between_write_and_rename_loses_nothing() {
    let dir = tempdir();
    let path = dir.join("credentials.json");
    let storage = FileStorage::new(&path);
    storage
        .set_tokens("https://r.example/mcp", &token("committed"))
        .unwrap();
    let committed = std::fs::read(&path).unwrap();
    // A dead writer's temp file, complete, and one torn half-way.
    let dead = dir.join("credentials.json.tmp-4194300");
    let newer = String::from_utf8(committed.clone())
        .unwrap()
        .replace("committed", "never-renamed");
    std::fs::write(&dead, &newer).unwrap();
    let torn = dir.join("credentials.json.tmp-4194301");
    std::fs::write(&torn, &committed[..committed.len() / 2]).unwrap();
    // Our own pid's temp file, stale, world-readable and garbage.
    let ours = dir.join(format!("credentials.json.tmp-{}", std::process::id()));
    std::fs::write(&ours, b"{garbage").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    let fresh = FileStorage::new(&path);
    assert_eq!(
        access_of(&fresh, "https://r.example/mcp").as_deref(),
        Some("committed")
    );
    fresh
        .set_tokens("https://r.example/other", &token("next"))
        .unwrap();
    assert_eq!(
        access_of(&fresh, "https://r.example/mcp").as_deref(),
        Some("committed")
    );
    assert_eq!(
        access_of(&fresh, "https://r.example/other").as_deref(),
        Some("next")
    );
    assert!(
        !ours.exists(),
        "our temp file was renamed over the credential file"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "a stale 0644 temp file does not widen the credential file"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A credential file that is not JSON (corrupted outside mcp-auth) is a `Storage` error on
/// every access, and is never overwritten: the user can still recover it.
#[test]
fn a_corrupt_file_is_a_storage_error_and_is_not_overwritten() {
    let dir = tempdir();
    let path = dir.join("credentials.json");
    std::fs::write(&path, b"{\"tokens\": {\"https://r\": ").unwrap();
    let storage = FileStorage::new(&path);
    let e = storage.get_tokens("https://r").unwrap_err();
    assert_eq!(e.kind(), mcp_auth::ErrorKind::Storage);
    let e = storage.set_tokens("https://r", &token("x")).unwrap_err();
    assert_eq!(e.kind(), mcp_auth::ErrorKind::Storage);
    assert!(!e.to_string().contains("x-refresh"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"{\"tokens\": {\"https://r\": "
    );
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Two processes refreshing rotating tokens
// ---------------------------------------------------------------------------------------------

/// Sends `tools/list` through a real client for `RUN_MS`, with tokens that live one second,
/// so each process refreshes (and rotates) repeatedly while the other does too.
fn refresher() {
    let client = mcp_auth::Client::builder(&env("MCP_URL"))
        .headless()
        .storage(Arc::new(FileStorage::new(env("STORE_PATH"))))
        .pre_registered(mcp_auth::PreRegisteredClient::with_secret(
            "shared-app",
            env("CLIENT_SECRET"),
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_millis(env("RUN_MS").parse().unwrap());
    let mut n = 0;
    while Instant::now() < deadline {
        let r = client
            .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#)
            .unwrap_or_else(|e| panic!("request {n} failed: {e}"));
        assert_eq!(r.status, 200);
        n += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("requests {n}");
}

#[test]
fn two_processes_refreshing_leave_a_live_refresh_token() {
    let h = Harness::start(DemoConfig {
        token_ttl_secs: 1,
        ..DemoConfig::default()
    });
    let secret = format!(
        "shared-secret-{}",
        mcp_auth::pkce::generate_state().secret()
    );
    h.server.register_client(PreregisteredClient::new(
        "shared-app",
        Some(&secret),
        AuthMethod::ClientSecretBasic,
    ));
    let dir = tempdir();
    let path = dir.join("credentials.json");
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_file(path.clone(), stop.clone());
    let vars = [
        ("STORE_PATH", path.display().to_string()),
        ("MCP_URL", h.server.mcp_url()),
        ("CLIENT_SECRET", secret.clone()),
        ("RUN_MS", "3500".to_owned()),
    ];
    let children = [spawn("refresher", &vars), spawn("refresher", &vars)];
    let requests = AtomicUsize::new(0);
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "refresher failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let n: usize = text
            .lines()
            .find_map(|l| after(l, "requests "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        requests.fetch_add(n, Ordering::Relaxed);
    }
    stop.store(true, Ordering::Relaxed);
    watcher
        .join()
        .expect("the file was valid JSON at every read");
    assert!(
        requests.load(Ordering::Relaxed) > 20,
        "both processes made requests"
    );
    assert!(
        h.server.grant_count("refresh_token") >= 2,
        "tokens were refreshed"
    );

    // The file holds the newest tokens: its refresh token was never rotated away, so a third
    // process refreshes with it instead of authorizing again.
    h.server.update(|c| c.token_ttl_secs = 3600);
    let codes = h.server.grant_count("authorization_code");
    let refreshes = h.server.grant_count("refresh_token");
    let stored = FileStorage::new(&path);
    let resource = mcp_auth::checks::resource_url_from_server_url(&h.server.mcp_url()).unwrap();
    let t = stored
        .get_tokens(&resource)
        .unwrap()
        .expect("a token is stored");
    let mut expired = t.clone();
    expired.expires_at = Some(0);
    expired.expires_in = Some(1);
    stored.set_tokens(&resource, &expired).unwrap();
    let c = h
        .builder()
        .storage(Arc::new(FileStorage::new(&path)))
        .pre_registered(mcp_auth::PreRegisteredClient::with_secret(
            "shared-app",
            secret,
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .build()
        .unwrap();
    rpc(&c, 9, "tools/list", json!({})).unwrap();
    assert_eq!(
        h.server.grant_count("authorization_code"),
        codes,
        "{:?}",
        h.lines()
    );
    assert_eq!(h.server.grant_count("refresh_token"), refreshes + 1);
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Two clients (as two processes would be) and one rotation
// ---------------------------------------------------------------------------------------------

/// Process A rotates the shared refresh token; process B, still holding the old pair in
/// memory, gets a 401. B should adopt the newer pair A stored rather than present the rotated
/// refresh token (which an RFC 9700 §4.14.2 server treats as theft and answers by revoking the
/// whole grant, logging out both processes) or start an interactive authorization.
#[test]
fn a_second_process_adopts_the_token_rotated_by_the_first() {
    let h = Harness::start(DemoConfig::default());
    h.server.register_client(PreregisteredClient::new(
        "app",
        Some("app-secret"),
        AuthMethod::ClientSecretBasic,
    ));
    let dir = tempdir();
    let path = dir.join("credentials.json");
    let client = || {
        h.builder()
            .storage(Arc::new(FileStorage::new(&path)))
            .pre_registered(mcp_auth::PreRegisteredClient::with_secret(
                "app",
                "app-secret",
                TokenEndpointAuthMethod::ClientSecretBasic,
            ))
            .build()
            .unwrap()
    };
    let (a, b) = (client(), client());
    initialize(&a).unwrap();
    initialize(&b).unwrap(); // B loads A's token from the file.
    h.server.expire_all_tokens();
    rpc(&a, 2, "tools/list", json!({})).unwrap(); // A refreshes (rotation) and stores.
    h.server.clear_requests();
    let codes = h.server.grant_count("authorization_code");
    rpc(&b, 3, "tools/list", json!({})).unwrap();
    assert_eq!(
        h.server.grant_count("authorization_code"),
        codes,
        "{:?}",
        h.lines()
    );
    assert!(h.requests_to("/authorize").is_empty(), "{:?}", h.lines());
    // No refresh with the rotated refresh token either.
    assert!(h.requests_to("/token").is_empty(), "{:?}", h.lines());
    let _ = std::fs::remove_dir_all(dir);
}

/// A new process with a stored, refreshable token that the server rejects (401) refreshes
/// rather than running a new (possibly interactive) authorization.
#[test]
fn a_fresh_client_refreshes_a_rejected_stored_token() {
    let h = Harness::start(DemoConfig::default());
    h.server.register_client(PreregisteredClient::new(
        "app",
        Some("app-secret"),
        AuthMethod::ClientSecretBasic,
    ));
    let dir = tempdir();
    let path = dir.join("credentials.json");
    let build = || {
        h.builder()
            .storage(Arc::new(FileStorage::new(&path)))
            .pre_registered(mcp_auth::PreRegisteredClient::with_secret(
                "app",
                "app-secret",
                TokenEndpointAuthMethod::ClientSecretBasic,
            ))
            .build()
            .unwrap()
    };
    initialize(&build()).unwrap();
    h.server.expire_all_tokens();
    h.server.clear_requests();
    rpc(&build(), 2, "tools/list", json!({})).unwrap();
    assert!(h.requests_to("/authorize").is_empty(), "{:?}", h.lines());
    let tokens = h.requests_to("/token");
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        tokens[0].form_value("grant_type").as_deref(),
        Some("refresh_token")
    );
    let _ = std::fs::remove_dir_all(dir);
}
