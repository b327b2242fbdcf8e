//! [`OAuthToken`]: the token response (RFC 6749 §5.1), as received and as stored.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::dpop::DpopKey;
use serde_json::{Map, Value};

use super::*;

/// A successful token response (RFC 6749 §5.1), as received and as stored.
///
/// - `token_type` is normalised case-insensitively (RFC 6749 §5.1: "The value is case
///   insensitive"): `bearer` → `"Bearer"` (RFC 6750), `dpop` → `"DPoP"` (RFC 9449 §5); any
///   other type is rejected. An omitted `token_type` means `"Bearer"`.
/// - `expires_in` is lax (`"3600"`, `3600.0`); a negative value is clamped to 0 (expired).
/// - `expires_at` is not part of the wire format: it is the absolute expiry (Unix seconds) that
///   [`with_expiry_from`](Self::with_expiry_from) computes, persisted so that a restarted client
///   knows whether its stored token is still valid.
///
/// `Debug` never prints the tokens nor the values of `extra` members (e.g. an `id_token`).
#[derive(Clone, PartialEq, Serialize)]
pub struct OAuthToken {
    /// `access_token` (RFC 6749 §5.1), required; may be empty.
    pub access_token: AccessToken,
    /// `token_type`: `"Bearer"` or `"DPoP"`.
    pub token_type: String,
    /// `expires_in`: lifetime in seconds from issuance (RFC 6749 §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// `scope`: the granted scope, space-delimited (RFC 6749 §3.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `refresh_token` (RFC 6749 §1.5, §6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// Absolute expiry in Unix seconds: mcp-auth's addition, persisted with the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The issuer of the authorization server that issued the token: mcp-auth's addition,
    /// persisted with the token so that a refresh goes only to that server (RFC 9700 §4.14,
    /// SEP-2352). `None` in records stored by older versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `client_id` the token was issued to: mcp-auth's addition, persisted with the token
    /// (a refresh token is bound to its client, RFC 6749 §6). `None` in older records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The DPoP key a `DPoP` token is bound to (RFC 9449): mcp-auth's addition, persisted with
    /// the token as a private JWK (`kty`, `crv`, `x`, `y`, `d`) so that a restarted process, or
    /// another one sharing the store, presents the same key (a public client's refresh token is
    /// bound to it, §5). A secret like the refresh token; `Debug` shows its thumbprint only.
    /// `None` for Bearer tokens and in records stored by older versions.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_dpop_key"
    )]
    pub dpop_key: Option<Arc<DpopKey>>,
    /// Members not modelled above (e.g. `id_token`), kept so they round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The members [`OAuthToken`] models (parsed without allocating their names).
const TOKEN_MEMBERS: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "scope",
    "refresh_token",
    "expires_at",
    "issuer",
    "client_id",
    "dpop_key",
];

json_model!(OAuthToken, "token response", known: TOKEN_MEMBERS);

impl OAuthToken {
    /// A `Bearer` token with no lifetime, scope or refresh token.
    pub fn new(access_token: impl Into<AccessToken>) -> Self {
        OAuthToken {
            access_token: access_token.into(),
            token_type: "Bearer".to_owned(),
            expires_in: None,
            scope: None,
            refresh_token: None,
            expires_at: None,
            issuer: None,
            client_id: None,
            dpop_key: None,
            extra: Map::new(),
        }
    }

    fn from_members(mut m: Members) -> std::result::Result<Self, Reason> {
        let access_token = AccessToken::new(m.req("access_token", credential)?);
        let token_type = match m.slot("token_type") {
            Slot::Absent => "Bearer".to_owned(),
            Slot::Null => return Err("token_type: must not be null".to_owned()),
            Slot::Present(v) => {
                normalize_token_type(&string(v).map_err(|r| format!("token_type: {r}"))?)?
            }
        };
        Ok(OAuthToken {
            access_token,
            token_type,
            expires_in: m.opt("expires_in", lax_u64_clamped)?,
            scope: m.opt("scope", string)?,
            refresh_token: m.opt("refresh_token", credential)?.map(RefreshToken::new),
            expires_at: m.opt("expires_at", lax_u64_clamped)?,
            issuer: m.opt("issuer", string)?,
            client_id: m.opt("client_id", string)?,
            dpop_key: m.opt("dpop_key", dpop_key)?,
            extra: m.into_extra(),
        })
    }

    /// Set `expires_at = now_unix + expires_in` when `expires_in` is present (RFC 6749 §5.1:
    /// the lifetime counts from the response); otherwise `expires_at` is left as it is.
    #[must_use]
    pub fn with_expiry_from(mut self, now_unix: u64) -> Self {
        if let Some(lifetime) = self.expires_in {
            self.expires_at = Some(now_unix.saturating_add(lifetime));
        }
        self
    }

    /// Whether the token has expired at `now_unix`, treating it as expired `skew_secs` early.
    ///
    /// A token without `expires_at` never counts as expired (the server decides, with a 401).
    /// With `skew_secs = 0` this is the reference's rule: valid while `now <= expiry`.
    pub fn is_expired(&self, now_unix: u64, skew_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|at| now_unix.saturating_add(skew_secs) > at)
    }

    /// Whether this is a DPoP-bound token (RFC 9449 §5), which must be sent with a DPoP proof.
    pub fn is_dpop(&self) -> bool {
        self.token_type == "DPoP"
    }
}

fn serialize_dpop_key<S: serde::Serializer>(
    key: &Option<Arc<DpopKey>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match key {
        Some(k) => k.serialize_private(s),
        None => s.serialize_none(),
    }
}

/// A persisted DPoP key (a private JWK); the reason never echoes its members.
fn dpop_key(v: Value) -> std::result::Result<Arc<DpopKey>, Reason> {
    let mut v = v;
    let key = DpopKey::from_private_jwk(&v).map_err(|e| match e {
        crate::Error::InvalidArgument { reason, .. } => reason,
        _ => "not a usable DPoP key".to_owned(),
    });
    if let Some(Value::String(d)) = v.get_mut("d") {
        zeroize::Zeroize::zeroize(d);
    }
    key.map(Arc::new)
}

fn normalize_token_type(t: &str) -> std::result::Result<String, Reason> {
    if t.eq_ignore_ascii_case("bearer") {
        Ok("Bearer".to_owned())
    } else if t.eq_ignore_ascii_case("dpop") {
        Ok("DPoP".to_owned())
    } else {
        Err(format!(
            "token_type: unsupported token type {t:?} (expected \"Bearer\" or \"DPoP\")"
        ))
    }
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("dpop_key", &self.dpop_key)
            .field("extra", &ExtraKeys(&self.extra))
            .finish()
    }
}
