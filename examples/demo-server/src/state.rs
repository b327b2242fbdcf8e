//! The authorization server's mutable tables: clients, codes, tokens, counters.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

use crate::config::{AuthMethod, DemoConfig};
use crate::jwt::JwtKey;

/// A client the AS can authenticate.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub jwt_key: Option<JwtKey>,
    /// Registered through DCR (so `redirect_uri` is validated).
    pub dynamic: bool,
    /// The registered `scope` (DCR), if any.
    pub scope: Option<String>,
    /// RFC 7592: the token that authorizes `PUT /register/{client_id}`.
    pub registration_access_token: Option<String>,
    /// The registered metadata as last answered (RFC 7592 `PUT` replaces it).
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// An issued, not yet redeemed authorization code.
#[derive(Clone, Debug)]
pub(crate) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: String,
    pub resource: Option<String>,
    pub scope: String,
    pub expires_at: Instant,
}

/// An issued access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub client_id: String,
    pub scope: String,
    pub resource: Option<String>,
    pub expires_at: Instant,
    /// The grant (one authorization and every token refreshed from it) this token belongs to.
    pub grant: u64,
    /// The thumbprint of the DPoP key the token is bound to (RFC 9449 §6), if any.
    pub jkt: Option<String>,
}

/// A live refresh token.
#[derive(Clone, Debug)]
pub(crate) struct RefreshGrant {
    pub client_id: String,
    pub scope: String,
    pub resource: Option<String>,
    /// The grant this refresh token belongs to (kept across rotations).
    pub grant: u64,
    /// The thumbprint of the DPoP key a refresh must prove (RFC 9449 §5: public clients).
    pub jkt: Option<String>,
}

/// What happened to refresh tokens since the start (see [`crate::RefreshCounters`]).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RefreshStats {
    pub refreshes: usize,
    /// MCP requests authorized with a DPoP-bound token and a valid proof.
    pub dpop_requests: usize,
    /// RFC 7009 revocation requests that authenticated.
    pub revocation_requests: usize,
    /// Refresh tokens revoked through the revocation endpoint.
    pub refresh_tokens_revoked: usize,
    /// Access tokens revoked through the revocation endpoint (directly, or with their grant's
    /// refresh token).
    pub access_tokens_revoked: usize,
    pub reuse_detections: usize,
    pub revocations: usize,
}

#[derive(Default)]
pub(crate) struct State {
    pub clients: HashMap<String, Client>,
    pub codes: HashMap<String, CodeGrant>,
    pub used_codes: HashSet<String>,
    pub access: HashMap<String, AccessToken>,
    pub refresh: HashMap<String, RefreshGrant>,
    /// Consumed (rotated) refresh tokens and the grant each belonged to.
    pub rotated: HashMap<String, u64>,
    /// Grants revoked by reuse detection.
    pub revoked_grants: HashSet<u64>,
    pub next_grant: u64,
    pub refresh_stats: RefreshStats,
    /// DPoP proof `jti`s seen (a replayed proof is refused).
    pub dpop_jtis: HashSet<String>,
    pub dpop_stats: crate::DpopCounters,
    /// The resource server's DPoP nonce ([`crate::DemoConfig::dpop_nonce`]).
    pub dpop_nonce: crate::dpop::NonceState,
    pub stream_stats: crate::StreamCounters,
    pub jtis: HashSet<String>,
    pub path_hits: HashMap<String, usize>,
    pub grant_hits: HashMap<String, usize>,
}

/// Code lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub(crate) const CODE_TTL: Duration = Duration::from_secs(600);

/// A random URL-safe string of 24 bytes of entropy, with a prefix.
pub(crate) fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("system RNG available");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl State {
    /// Finds a client: registered, pre-registered, or (with CIMD on) an https URL client_id.
    pub fn client(&self, cfg: &DemoConfig, client_id: &str) -> Option<Client> {
        if let Some(c) = self.clients.get(client_id) {
            return Some(c.clone());
        }
        if let Some(p) = cfg
            .preregistered_clients
            .iter()
            .find(|p| p.client_id == client_id)
        {
            return Some(Client {
                client_id: p.client_id.clone(),
                secret: p.client_secret.clone(),
                method: p.auth_method,
                redirect_uris: p.redirect_uris.clone(),
                jwt_key: p.jwt_key.clone(),
                dynamic: !p.redirect_uris.is_empty(),
                scope: None,
                registration_access_token: None,
                metadata: serde_json::Map::new(),
            });
        }
        if cfg.cimd_supported && is_cimd_client_id(client_id) {
            return Some(Client {
                client_id: client_id.to_owned(),
                secret: None,
                method: AuthMethod::None,
                redirect_uris: Vec::new(),
                jwt_key: None,
                dynamic: false,
                scope: None,
                registration_access_token: None,
                metadata: serde_json::Map::new(),
            });
        }
        None
    }

    /// Mints an access token (and a refresh token when asked), in `grant` (a refresh keeps its
    /// grant) or in a new grant (`None`: an authorization).
    pub fn mint(
        &mut self,
        client_id: &str,
        scope: &str,
        resource: Option<&str>,
        ttl_secs: u64,
        with_refresh: bool,
        grant: Option<u64>,
    ) -> (String, Option<String>) {
        let grant = grant.unwrap_or_else(|| {
            self.next_grant += 1;
            self.next_grant
        });
        let access = random_token("mcpat_");
        self.access.insert(
            access.clone(),
            AccessToken {
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                resource: resource.map(str::to_owned),
                expires_at: Instant::now() + Duration::from_secs(ttl_secs),
                grant,
                jkt: None,
            },
        );
        let refresh = with_refresh.then(|| {
            let rt = random_token("mcprt_");
            self.refresh.insert(
                rt.clone(),
                RefreshGrant {
                    client_id: client_id.to_owned(),
                    scope: scope.to_owned(),
                    resource: resource.map(str::to_owned),
                    grant,
                    jkt: None,
                },
            );
            rt
        });
        (access, refresh)
    }
}

impl State {
    /// Revokes every access and refresh token of `grant` (RFC 9700 §4.14.2: a reused refresh
    /// token means the grant may be stolen). Returns whether the grant was still live.
    pub fn revoke_grant(&mut self, grant: u64) -> bool {
        self.access.retain(|_, t| t.grant != grant);
        self.refresh.retain(|_, t| t.grant != grant);
        self.revoked_grants.insert(grant)
    }
}

/// A CIMD client_id: an https URL with a path (draft-ietf-oauth-client-id-metadata-document).
pub(crate) fn is_cimd_client_id(client_id: &str) -> bool {
    url::Url::parse(client_id)
        .map(|u| u.scheme() == "https" && u.host_str().is_some() && u.path() != "/")
        .unwrap_or(false)
}
