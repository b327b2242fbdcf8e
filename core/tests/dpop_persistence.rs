//! DPoP keys persisted with the tokens (RFC 9449 §5): a process obtains DPoP-bound tokens and
//! exits; a new process with the same credential file refreshes them with the persisted key.
//! Counted from the demo server's side, which binds a public client's refresh token to the key
//! of the proof it was issued with and refuses a refresh proved with another key.
//!
//! The child processes are this test binary itself, re-executed with `MCP_AUTH_DPOP_ROLE` set
//! and `--exact child_entry` (a no-op in the normal run).
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mcp_auth::dpop::DpopKey;
use mcp_auth::metadata::OAuthToken;
use mcp_auth::storage::{FileStorage, TokenStorage};
use mcp_auth::{Client, PreRegisteredClient};
use mcp_auth_demo_server::{AuthMethod, DemoConfig, DpopCounters, PreregisteredClient};
use serde_json::json;

const ROLE: &str = "MCP_AUTH_DPOP_ROLE";
/// A public client (no secret): RFC 9449 §5 binds its refresh tokens to the DPoP key.
const CLIENT_ID: &str = "dpop-public-app";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"))
}

/// The entry point of the child processes (a no-op in the normal test run): one `tools/list`
/// with a client on the credential file `STORE`, then print what the store holds.
#[test]
fn child_entry() {
    if std::env::var(ROLE).as_deref() != Ok("call") {
        return;
    }
    let store: Arc<dyn TokenStorage> = Arc::new(FileStorage::new(env("STORE")));
    let client = Client::builder(&env("MCP_URL"))
        .headless()
        .storage(store.clone())
        .pre_registered(PreRegisteredClient::public(CLIENT_ID))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let r = rpc(&client, 1, "tools/list", json!({}));
    let t = store.get_tokens(client.resource_key()).unwrap().unwrap();
    println!(
        "result {} type {} jkt {}",
        if r.is_ok() { "ok" } else { "failed" },
        t.token_type,
        t.dpop_key.as_ref().map_or("-", |k| k.thumbprint())
    );
}

/// Runs one child process on `store`; returns its output line.
fn call(h: &Harness, store: &Path) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, "call")
        .env("STORE", store)
        .env("MCP_URL", h.server.mcp_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .expect("re-exec the test binary");
    assert!(out.status.success(), "child failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.find("result ").map(|i| l[i..].to_owned()))
        .unwrap_or_else(|| panic!("no result line in {text}"))
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-dpop-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The stored token, changed by `f` (the test plays the time that passed while no process ran).
fn edit_stored(store: &FileStorage, resource: &str, f: impl FnOnce(&mut OAuthToken)) {
    let mut t = store.get_tokens(resource).unwrap().expect("a stored token");
    f(&mut t);
    store.set_tokens(resource, &t).unwrap();
}

fn expire(t: &mut OAuthToken) {
    t.expires_at = Some(1);
}

fn dpop_server() -> Harness {
    let h = Harness::start(DemoConfig {
        dpop: true,
        refresh_reuse_detection: true,
        ..DemoConfig::default()
    });
    h.server
        .register_client(PreregisteredClient::new(CLIENT_ID, None, AuthMethod::None));
    h
}

#[test]
fn a_new_process_refreshes_dpop_bound_tokens_with_the_persisted_key() {
    let h = dpop_server();
    let dir = tempdir();
    let path = dir.join("credentials.json");
    let store = FileStorage::new(&path);
    let resource = mcp_auth::checks::resource_url_from_server_url(&h.server.mcp_url()).unwrap();

    // Process 1 authorizes: DPoP-bound tokens, stored with their key.
    let first = call(&h, &path);
    assert!(first.starts_with("result ok type DPoP jkt "), "{first}");
    assert_eq!(h.server.grant_count("authorization_code"), 1);
    let stored = store.get_tokens(&resource).unwrap().unwrap();
    let key = stored
        .dpop_key
        .clone()
        .expect("the key is stored with the tokens");
    assert!(first.ends_with(key.thumbprint()), "{first}");
    // The key is in the file (0600, as the rest), as a private JWK.
    let raw = std::fs::read_to_string(&path).unwrap();
    let file: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let jwk = &file["tokens"][&resource]["dpop_key"];
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["d"].as_str().map(str::len), Some(43), "{jwk}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never in Debug.
    let debug = format!("{stored:?}");
    assert!(!debug.contains(jwk["d"].as_str().unwrap()), "{debug}");
    assert!(debug.contains(key.thumbprint()), "{debug}");

    // Process 2 starts after the access token expired: it refreshes, proving the same key.
    edit_stored(&store, &resource, expire);
    let second = call(&h, &path);
    assert_eq!(
        second,
        format!("result ok type DPoP jkt {}", key.thumbprint())
    );
    assert_eq!(
        h.server.grant_count("authorization_code"),
        1,
        "no new login"
    );
    assert_eq!(h.server.refresh_counters().refreshes, 1);
    assert_eq!(h.server.refresh_counters().reuse_detections, 0);
    assert_eq!(
        h.server.dpop_counters(),
        DpopCounters {
            bound_tokens_issued: 2,
            bound_refreshes: 1,
            key_mismatches: 0,
            invalid_proofs: 0,
            nonce_demands: 0,
        }
    );

    // Control: the same record with another key (what a process that did not have the key
    // would prove): the server refuses the refresh without consuming the refresh token, and
    // the client has to authorize again.
    edit_stored(&store, &resource, |t| {
        expire(t);
        t.dpop_key = Some(Arc::new(DpopKey::generate().unwrap()));
    });
    let third = call(&h, &path);
    assert!(third.starts_with("result ok type DPoP"), "{third}");
    let c = h.server.dpop_counters();
    assert_eq!(c.key_mismatches, 1, "{c:?}");
    assert_eq!(c.bound_refreshes, 1, "{c:?}");
    assert_eq!(h.server.refresh_counters().refreshes, 1);
    assert_eq!(h.server.grant_count("authorization_code"), 2, "a new login");

    // A record stored by an older version (no key): still read, and a new authorization
    // replaces it (a DPoP token without its key cannot be used).
    edit_stored(&store, &resource, |t| t.dpop_key = None);
    let old = std::fs::read_to_string(&path).unwrap();
    assert!(!old.contains("dpop_key"), "{old}");
    let fourth = call(&h, &path);
    assert!(fourth.starts_with("result ok type DPoP jkt "), "{fourth}");
    assert_eq!(h.server.grant_count("authorization_code"), 3);
    assert_eq!(h.server.refresh_counters().reuse_detections, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_key_survives_every_store_format() {
    // Memory, file and the JSON a host store keeps (C callbacks, Python objects): the same key.
    let key = Arc::new(DpopKey::generate().unwrap());
    let mut t = OAuthToken::new("at");
    t.token_type = "DPoP".into();
    t.dpop_key = Some(key.clone());
    let back = OAuthToken::from_json(t.to_json().as_bytes()).unwrap();
    assert_eq!(back.dpop_key.as_deref(), Some(&*key));
    assert_eq!(back, t);
    let dir = tempdir();
    let file = FileStorage::new(dir.join("c.json"));
    file.set_tokens("r", &t).unwrap();
    assert_eq!(
        FileStorage::new(dir.join("c.json"))
            .get_tokens("r")
            .unwrap()
            .unwrap()
            .dpop_key
            .as_deref(),
        Some(&*key)
    );
    // A record with a broken key is a parse error naming the member, never echoing it.
    let mut v: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
    v["dpop_key"]["d"] = json!("AAAA");
    let e = OAuthToken::from_value(v).unwrap_err().to_string();
    assert!(e.contains("dpop_key"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
