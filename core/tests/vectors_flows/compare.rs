//! Comparing an observed run with the expectation: the request sequence, the per-request
//! headers and bodies, the authorization URL, the token form (with the PKCE verifier and
//! the `private_key_jwt` client assertion checked structurally), the outcome and storage.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_auth::storage::TokenStorage;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _};
use serde_json::Value;

use super::Observed;
use super::net::Seen;

pub(super) fn compare(
    name: &str,
    expected: &Value,
    o: &Observed,
    client_key: &str,
    jwt_key: Option<&[u8]>,
) {
    let lines: Vec<String> = o.seen.iter().map(Seen::line).collect();
    let want: Vec<String> = expected["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["url"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        lines,
        want,
        "{name}: request sequence (result: {:?})",
        o.result.as_ref().map(|r| r.status)
    );

    // The authorization request.
    let challenge = match expected.get("authorize") {
        Some(a) => {
            assert_eq!(o.authorize_urls.len(), 1, "{name}: one authorization");
            Some(check_authorize(name, a, &o.authorize_urls[0], expected, o))
        }
        None => {
            assert!(o.authorize_urls.is_empty(), "{name}: no authorization");
            None
        }
    };

    for (i, (r, seen)) in expected["requests"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&o.seen)
        .enumerate()
    {
        let at = format!("{name}: request #{i} {}", seen.line());
        assert_eq!(
            seen.header("authorization").as_deref(),
            r.get("authorization").and_then(Value::as_str),
            "{at}: Authorization"
        );
        if let Some(pv) = r.get("mcp-protocol-version") {
            assert_eq!(
                seen.header("mcp-protocol-version").as_deref(),
                pv.as_str(),
                "{at}: mcp-protocol-version"
            );
        }
        if let Some(body) = r.get("json") {
            let got: Value = serde_json::from_slice(&seen.body).unwrap();
            assert_eq!(&got, body, "{at}: registration body");
        }
        if let Some(form) = r.get("form") {
            check_form(&at, form, seen, challenge.as_deref(), jwt_key);
        }
    }

    // The outcome.
    match (expected.get("final_status"), expected.get("error")) {
        (Some(s), None) => {
            let r = o.result.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(u64::from(r.status), s.as_u64().unwrap(), "{name}: status");
        }
        (None, Some(e)) => {
            let e_str = e.as_str().unwrap();
            let (class, message) = e_str.split_once(": ").unwrap();
            let err = match &o.result {
                Ok(r) => panic!("{name}: expected {e_str}, got status {}", r.status),
                Err(err) => err,
            };
            assert_eq!(err.kind().reference_name(), Some(class), "{name}: {err}");
            // The reference's message word for word; mcp-auth may follow it with one
            // parenthesized hint naming the per-server override that would answer the case
            // (docs/providers.md): an issuer mismatch to allow, or the authorization server to
            // name when the legacy default endpoints failed.
            let ours = err.to_string();
            let ours = ours
                .match_indices(" (")
                .map(|(i, _)| (&ours[..i], &ours[i..]))
                .find(|(_, hint)| hint.ends_with(')') && hint.contains("overrides."))
                .map_or(ours.as_str(), |(head, _)| head);
            assert_eq!(ours, message, "{name}: message");
        }
        _ => panic!("{name}: a scenario has a status or an error"),
    }

    // Storage.
    if let Some(t) = expected.get("stored_tokens") {
        let stored = o.store.inner.get_tokens(o.client.resource_key()).unwrap();
        match (t.is_null(), stored) {
            (true, None) => {}
            (true, Some(s)) => panic!("{name}: no tokens expected, found {s:?}"),
            (false, None) => panic!("{name}: tokens expected"),
            (false, Some(s)) => {
                let mut got = serde_json::to_value(&s).unwrap();
                let expires_at = got.as_object_mut().unwrap().remove("expires_at");
                // mcp-auth persists the issuer and client a token belongs to (a refresh goes
                // only there); the reference stores neither.
                // (hostile_issuer_and_idp.rs tests them).
                got.as_object_mut().unwrap().remove("issuer");
                got.as_object_mut().unwrap().remove("client_id");
                assert_eq!(&got, t, "{name}: stored tokens");
                // The expiry is persisted with the token.
                if let Some(lifetime) = t.get("expires_in").and_then(Value::as_u64) {
                    let at = expires_at
                        .and_then(|v| v.as_u64())
                        .expect("expires_at stored");
                    let now = mcp_auth::token::now_unix();
                    assert!(at.abs_diff(now + lifetime) <= 5, "{name}: expires_at");
                }
            }
        }
    }
    if let Some(c) = expected.get("stored_client") {
        if c.is_null() {
            assert!(
                o.store.client_writes.lock().unwrap().is_empty(),
                "{name}: no client registration stored"
            );
        } else {
            let key = c
                .get("issuer")
                .and_then(Value::as_str)
                .unwrap_or(client_key);
            let stored = o
                .store
                .inner
                .get_client_info(key)
                .unwrap()
                .unwrap_or_else(|| panic!("{name}: a client stored under {key}"));
            assert_eq!(
                &serde_json::to_value(&stored).unwrap(),
                c,
                "{name}: stored client"
            );
        }
    }
}

/// Check the authorization URL; returns the `code_challenge` sent.
fn check_authorize(name: &str, a: &Value, url: &str, scenario: &Value, o: &Observed) -> String {
    let u = url::Url::parse(url).unwrap();
    let endpoint = format!("{}://{}{}", u.scheme(), u.host_str().unwrap(), u.path());
    assert_eq!(
        endpoint,
        a["endpoint"].as_str().unwrap(),
        "{name}: endpoint"
    );
    let params: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    let order: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    let want_order: Vec<&str> = a["param_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(order, want_order, "{name}: authorization parameter order");
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
    for (k, want) in a["params"].as_object().unwrap() {
        let got = get(k).unwrap();
        match want.as_str().unwrap() {
            "<state>" => {
                // 256 bits, base64url, as the reference's token_urlsafe(32).
                assert_eq!(
                    got.len() as u64,
                    scenario["state_len"].as_u64().unwrap(),
                    "{name}: state length"
                );
                if scenario.get("error").is_none() {
                    assert_eq!(
                        o.states_sent,
                        std::slice::from_ref(&got),
                        "{name}: state echoed"
                    );
                }
            }
            "<S256(code_verifier)>" => {
                assert_eq!(got.len(), 43, "{name}: S256 challenge length");
                assert!(
                    URL_SAFE_NO_PAD.decode(&got).is_ok_and(|d| d.len() == 32),
                    "{name}: S256 challenge is base64url(SHA-256)"
                );
            }
            w => assert_eq!(got, w, "{name}: authorization parameter {k}"),
        }
    }
    get("code_challenge").unwrap()
}

fn check_form(
    at: &str,
    want: &Value,
    seen: &Seen,
    challenge: Option<&str>,
    jwt_key: Option<&[u8]>,
) {
    let form = seen.form();
    let got: BTreeMap<String, String> = form.iter().cloned().collect();
    assert_eq!(got.len(), form.len(), "{at}: no repeated form field");
    let want: BTreeMap<String, String> = want
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{at}: form fields"
    );
    for (k, w) in &want {
        let g = &got[k];
        if w == "<code_verifier>" {
            // RFC 7636 §4.1: 43-128 unreserved characters; it must hash to the challenge sent.
            assert!((43..=128).contains(&g.len()), "{at}: verifier length");
            assert!(
                g.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
                "{at}: verifier alphabet"
            );
            assert_eq!(
                Some(mcp_auth::pkce::code_challenge_s256(g).as_str()),
                challenge,
                "{at}: S256(code_verifier) == code_challenge"
            );
        } else if let Some(audience) = w.strip_prefix("assertion-for:") {
            // The reference harness's assertion provider was a stub returning
            // `assertion-for:<audience>`; ours signs a real RFC 7523 assertion.
            check_jwt(at, g, audience, jwt_key.expect("a signing key"));
        } else {
            assert_eq!(g, w, "{at}: form field {k}");
        }
    }
}

/// An RFC 7523 §3 client assertion: ES256 over the header and claims, `iss` = `sub` = the
/// client id, `aud` = the authorization server's issuer.
fn check_jwt(at: &str, jwt: &str, audience: &str, pkcs8: &[u8]) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{at}: compact JWS");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256", "{at}: alg");
    assert_eq!(claims["aud"], audience, "{at}: aud");
    assert_eq!(claims["iss"], "cid", "{at}: iss");
    assert_eq!(claims["sub"], "cid", "{at}: sub");
    assert!(
        claims["exp"].as_u64().unwrap() > mcp_auth::token::now_unix(),
        "{at}: exp"
    );
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{at}: jti"
    );
    let pair = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .unwrap();
    signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        pair.public_key().as_ref(),
    )
    .verify(
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
    )
    .unwrap_or_else(|_| panic!("{at}: signature verifies"));
}
