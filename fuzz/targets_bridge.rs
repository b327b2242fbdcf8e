//! The proxy bridge's parts of the `challenge` and `host_json` fuzz targets (the bridge is its
//! own crate, `mcp-auth-bridge`, so the core's target bodies in `targets.rs` do not use it).
//! The cargo-fuzz binaries `challenge` and `host_json` run these after the core bodies, on the
//! same inputs; `bridge/tests/fuzz_corpus_replay.rs` replays the committed `challenge` and
//! `host_json` corpora through them under plain `cargo test`.

#![allow(dead_code)]

use mcp_auth::ErrorKind;
use mcp_auth::challenge::{Challenge, parse_www_authenticate};

/// A bridge body and the corpus (`fuzz/corpus/<name>/`) it shares with a core target.
pub type Target = (&'static str, fn(&[u8]));

/// Every bridge body, by the corpus it reads.
pub const TARGETS: &[Target] = &[("challenge", challenge), ("host_json", host_json)];

/// Split `data` at the first NUL into (first, rest), both lossy UTF-8 (as `targets.rs` does).
fn split2(data: &[u8]) -> (String, String) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            String::from_utf8_lossy(&data[i + 1..]).into_owned(),
        ),
        None => (String::from_utf8_lossy(data).into_owned(), String::new()),
    }
}

/// `WWW-Authenticate` lines through the bridge: the relayed challenge, and the
/// `resource_metadata` rewrite, whose output must still parse, to the same challenges with only
/// `resource_metadata` changed.
pub fn challenge(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let pairs: Vec<(String, String)> = lines
        .iter()
        .map(|l| ("WWW-Authenticate".to_owned(), (*l).to_owned()))
        .collect();
    let _ = mcp_auth_bridge::RelayedChallenge::from_headers(401, &pairs);
    for l in &lines {
        let rewritten = mcp_auth_bridge::rewrite_resource_metadata(l, "https://proxy.example/prm");
        let _: Vec<Challenge> = parse_www_authenticate(&rewritten);
    }
}

/// The bridge's JSON entry points: garbage from hosts must give `InvalidArgument`, never a
/// panic.
pub fn host_json(data: &[u8]) {
    let (a, b) = split2(data);
    let status = u16::from(data.first().copied().unwrap_or(0)) + 100;
    let bad = |r: &mcp_auth::Result<String>| {
        if let Err(e) = r {
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        }
    };
    let opts = (!b.is_empty()).then_some(b.as_str());
    bad(&mcp_auth_bridge::bridge_response_json(
        status,
        &a,
        Some("https://app.example"),
        opts,
    ));
    bad(&mcp_auth_bridge::preflight_json(&a, opts));
    bad(&mcp_auth_bridge::upstream_request_headers_json(&a));
    bad(&mcp_auth_bridge::challenge_json(401, &a));
    let _ = mcp_auth_bridge::BridgeOptions::from_json(&b);
    let _ = mcp_auth_bridge::relay_protected_resource_metadata(
        a.as_bytes(),
        Some("https://proxy.example/mcp"),
    );
}
