//! The Python reference's discovery URL vectors (`prm_discovery_urls`, `asm_discovery_urls` in
//! `tests/vectors/python-sdk-2.3.0.json`): every case must match exactly, except the cases
//! listed in `DIVERGENCES`, which are documented in docs/differences.md and
//! asserted against our behaviour instead.

use mcp_auth::discovery::{
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
};
use serde_json::Value;

fn vectors(section: &str) -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/python-sdk-2.3.0.json"
    );
    let text = std::fs::read_to_string(path).expect("vector file");
    let all: Value = serde_json::from_str(&text).expect("vector JSON");
    all[section].as_array().expect(section).clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

/// Cases where the reference is wrong and we deliberately differ: `(id, our expected list)`.
const DIVERGENCES: &[(&str, &[&str])] = &[
    // The reference emits relative junk ("/.well-known/oauth-protected-resourceapi.example.com/mcp")
    // for a server URL without scheme and host; RFC 9728 §3.1 needs a host to insert the
    // well-known suffix after, so we derive no candidates (only a header URL would remain).
    ("prm_discovery_urls#12", &[]),
];

fn check(
    section: &str,
    case_count: usize,
    build: impl Fn(Option<&str>, &str) -> Vec<String>,
    first: &str,
) {
    let cases = vectors(section);
    assert_eq!(cases.len(), case_count, "{section}: vector count changed");
    let mut diverged = 0;
    for (i, case) in cases.iter().enumerate() {
        let id = format!("{section}#{i}");
        let got = build(case[first].as_str(), case["server_url"].as_str().unwrap());
        let reference = strings(&case["expected"]);
        match DIVERGENCES.iter().find(|(d, _)| *d == id) {
            Some((_, ours)) => {
                diverged += 1;
                assert_ne!(got, reference, "{id} is listed as a divergence but matches");
                assert_eq!(got, *ours, "{id} (divergence)");
            }
            None => assert_eq!(got, reference, "{id}: {case}"),
        }
    }
    let listed = DIVERGENCES
        .iter()
        .filter(|(d, _)| d.starts_with(&format!("{section}#")))
        .count();
    assert_eq!(
        diverged, listed,
        "{section}: a listed divergence id does not exist"
    );
}

#[test]
fn prm_discovery_urls_match_the_reference() {
    check(
        "prm_discovery_urls",
        13,
        build_protected_resource_metadata_discovery_urls,
        "www_auth_url",
    );
}

#[test]
fn asm_discovery_urls_match_the_reference() {
    check(
        "asm_discovery_urls",
        11,
        build_oauth_authorization_server_metadata_discovery_urls,
        "auth_server_url",
    );
}

/// `prm_discovery_urls#12` with a header URL: the header URL is still tried.
#[test]
fn prm_discovery_urls_12_keeps_the_header_url() {
    assert_eq!(
        build_protected_resource_metadata_discovery_urls(
            Some("https://rs.example.com/.well-known/oauth-protected-resource"),
            "api.example.com/mcp"
        ),
        ["https://rs.example.com/.well-known/oauth-protected-resource"]
    );
}
