//! DPoP (RFC 9449) on the demo server, with [`crate::DemoConfig::dpop`] on: proofs are verified at
//! the token endpoint (§4.3) and at the MCP endpoint (§7.1, with `ath`); tokens issued with a
//! proof are `DPoP`-bound to its key (the `jkt`), and so are the refresh tokens of public clients
//! (§5: a refresh must prove possession of the same key). Counted in [`crate::DpopCounters`].

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::jwt::{CLOCK_SKEW_SECS, JwtKey};

/// What the server saw of DPoP since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DpopCounters {
    /// Tokens issued bound to a key (`token_type` `DPoP`).
    pub bound_tokens_issued: usize,
    /// Refreshes of a key-bound refresh token whose proof used that same key.
    pub bound_refreshes: usize,
    /// Refreshes of a key-bound refresh token refused because the proof was missing or used
    /// another key (the refresh token is not consumed).
    pub key_mismatches: usize,
    /// Proofs refused (bad signature, `htm`/`htu`/`ath` mismatch, replayed `jti`, ...) at the
    /// token endpoint or the MCP endpoint.
    pub invalid_proofs: usize,
    /// Requests to the MCP endpoint answered 401 `use_dpop_nonce` because their proof did not
    /// carry the current server nonce ([`crate::DemoConfig::dpop_nonce`]).
    pub nonce_demands: usize,
}

/// How many accepted MCP requests one resource-server nonce serves before it changes
/// ([`crate::DemoConfig::dpop_nonce`]).
pub const DPOP_NONCE_USES: usize = 3;

/// The resource server's current DPoP nonce and how many requests it has served.
#[derive(Debug, Default)]
pub(crate) struct NonceState {
    pub current: Option<String>,
    pub uses: usize,
}

impl NonceState {
    /// The nonce to demand now (a new one when none is current).
    pub fn current(&mut self) -> String {
        self.current
            .get_or_insert_with(|| crate::state::random_token("nonce"))
            .clone()
    }

    /// Count an accepted request; the nonce changes after [`DPOP_NONCE_USES`].
    pub fn used(&mut self) {
        self.uses += 1;
        if self.uses >= DPOP_NONCE_USES {
            self.current = None;
            self.uses = 0;
        }
    }
}

/// The RFC 7638 thumbprint of a P-256 public JWK.
fn thumbprint(jwk: &Value) -> Option<String> {
    let get = |n: &str| jwk.get(n).and_then(Value::as_str);
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        get("crv")?,
        get("kty")?,
        get("x")?,
        get("y")?
    );
    Some(URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    )))
}

/// Verify the DPoP proof `proof` for `method` on `url` (compared without query), with `ath`
/// when `access_token` is given; `jti`s are remembered in `seen` (a replayed proof is refused).
/// Returns the key's thumbprint (`jkt`) and the proof's `nonce` claim, if any.
pub(crate) fn verify_proof(
    proof: &str,
    method: &str,
    url: &str,
    access_token: Option<&str>,
    now: i64,
    seen: &mut HashSet<String>,
) -> Result<(String, Option<String>), String> {
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the DPoP proof is not a compact JWS".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let header: Value = decode(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the DPoP proof header is not base64url JSON")?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err("the DPoP proof typ must be dpop+jwt".into());
    }
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err("the DPoP proof alg must be ES256".into());
    }
    let jwk = header.get("jwk").ok_or("the DPoP proof has no jwk")?;
    if jwk.get("d").is_some() {
        return Err("the DPoP proof jwk contains a private key".into());
    }
    let key = match JwtKey::from_jwk(jwk) {
        Some(k @ JwtKey::Es256 { .. }) => k,
        _ => return Err("the DPoP proof jwk is not a P-256 key".into()),
    };
    let sig = decode(s).ok_or("the DPoP proof signature is not base64url")?;
    if !key.verify(format!("{h}.{p}").as_bytes(), &sig) {
        return Err("the DPoP proof signature is invalid".into());
    }
    let claims: Value = decode(p)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the DPoP proof payload is not base64url JSON")?;
    let claim = |n: &str| claims.get(n).and_then(Value::as_str);
    if claim("htm") != Some(method) {
        return Err(format!("the DPoP proof htm must be {method}"));
    }
    let base = url.split(['?', '#']).next().unwrap_or(url);
    if claim("htu") != Some(base) {
        return Err(format!("the DPoP proof htu must be {base}"));
    }
    match claims.get("iat").and_then(Value::as_i64) {
        Some(iat) if (iat - now).abs() <= 5 * CLOCK_SKEW_SECS => {}
        _ => return Err("the DPoP proof iat is missing or too far from now".into()),
    }
    if let Some(at) = access_token {
        let ath =
            URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, at.as_bytes()));
        if claim("ath") != Some(ath.as_str()) {
            return Err("the DPoP proof ath does not match the access token".into());
        }
    }
    let jti = claim("jti").ok_or("the DPoP proof has no jti")?;
    if !seen.insert(jti.to_owned()) {
        return Err("the DPoP proof jti was already used".into());
    }
    let nonce = claim("nonce").map(str::to_owned);
    thumbprint(jwk)
        .map(|jkt| (jkt, nonce))
        .ok_or_else(|| "the DPoP proof jwk is incomplete".into())
}
