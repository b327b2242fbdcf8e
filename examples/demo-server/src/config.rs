//! Server configuration: the topology (where each document lives and what it says), the
//! authorization server's policy, and the injected faults.
//!
//! [`DemoConfig::default`] is the happy path; [`DemoConfig::topology`] and its named siblings
//! build every topology the conformance suite and the reference benchmark use.

use std::time::Duration;

use serde_json::{Value, json};

use crate::jwt::{Es256KeyPair, JwtKey};

/// Where the RFC 9728 protected resource metadata (PRM) document is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrmLocation {
    /// `/.well-known/oauth-protected-resource` + the MCP path (RFC 9728 §3.1 path insertion),
    /// e.g. `/.well-known/oauth-protected-resource/mcp`.
    PathBased,
    /// `/.well-known/oauth-protected-resource` at the origin root.
    Root,
    /// Any path on the origin, e.g. `/custom/metadata/location.json`.
    Custom(String),
    /// No PRM anywhere: every PRM URL answers 404 (the 2025-03-26 topologies).
    Absent,
}

/// The `resource` value the PRM document advertises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceId {
    /// The MCP endpoint URL, e.g. `http://127.0.0.1:P/mcp` (the default).
    McpUrl,
    /// The bare origin, e.g. `http://127.0.0.1:P` (what the conformance mock uses for a root PRM).
    Origin,
    /// A fixed string, e.g. `https://evil.example.com/mcp` for the resource-mismatch topology.
    Custom(String),
}

/// Where the authorization server metadata document is served. `P` below is the issuer's path
/// ([`DemoConfig::issuer_path`], empty for a root issuer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsMetadataLocation {
    /// RFC 8414 path insertion: `/.well-known/oauth-authorization-server` + `P`.
    Oauth,
    /// OIDC path insertion: `/.well-known/openid-configuration` + `P`.
    OidcPathInsert,
    /// OIDC path appending: `P` + `/.well-known/openid-configuration`.
    OidcPathAppend,
    /// `/.well-known/oauth-authorization-server` at the root, whatever the issuer path.
    RootOauth,
    /// `/.well-known/openid-configuration` at the root, whatever the issuer path.
    RootOidc,
    /// No metadata anywhere (the endpoints still work, see [`DemoConfig::endpoint_prefix`]).
    Absent,
}

impl AsMetadataLocation {
    /// The path the metadata is served at, for an issuer path `issuer_path` (`""` or `/tenant1`).
    pub fn path(&self, issuer_path: &str) -> Option<String> {
        let p = issuer_path.trim_end_matches('/');
        match self {
            Self::Oauth => Some(format!("/.well-known/oauth-authorization-server{p}")),
            Self::OidcPathInsert => Some(format!("/.well-known/openid-configuration{p}")),
            Self::OidcPathAppend => Some(format!("{p}/.well-known/openid-configuration")),
            Self::RootOauth => Some("/.well-known/oauth-authorization-server".to_owned()),
            Self::RootOidc => Some("/.well-known/openid-configuration".to_owned()),
            Self::Absent => None,
        }
    }

    /// Whether the document is an OpenID Connect discovery document (adds the OIDC-only fields).
    pub fn is_oidc(&self) -> bool {
        matches!(
            self,
            Self::OidcPathInsert | Self::OidcPathAppend | Self::RootOidc
        )
    }
}

/// A token endpoint client authentication method (RFC 7591 §2 `token_endpoint_auth_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `none`: a public client, `client_id` in the form body.
    None,
    /// `client_secret_basic`: HTTP Basic with form-urlencoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_secret_post`: `client_id` + `client_secret` in the form body.
    ClientSecretPost,
    /// `private_key_jwt`: an RFC 7523 `client_assertion` signed with ES256 or RS256.
    PrivateKeyJwt,
}

impl AuthMethod {
    /// The registered name, e.g. `client_secret_basic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Parses a registered name; unknown names give `None`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "none" => Self::None,
            "client_secret_basic" => Self::ClientSecretBasic,
            "client_secret_post" => Self::ClientSecretPost,
            "private_key_jwt" => Self::PrivateKeyJwt,
            _ => return None,
        })
    }

    /// Whether the method needs a `client_secret`.
    pub fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }
}

/// A client the authorization server knows without dynamic registration.
#[derive(Clone, Debug)]
pub struct PreregisteredClient {
    /// The client identifier.
    pub client_id: String,
    /// The secret, for `client_secret_basic` / `client_secret_post`.
    pub client_secret: Option<String>,
    /// The only method the token endpoint accepts from this client.
    pub auth_method: AuthMethod,
    /// The public key `private_key_jwt` assertions are verified with.
    pub jwt_key: Option<JwtKey>,
    /// Allowed redirect URIs; empty means any (not validated).
    pub redirect_uris: Vec<String>,
}

impl PreregisteredClient {
    /// A client with an optional secret, authenticating with `auth_method`, any redirect URI.
    pub fn new(client_id: &str, client_secret: Option<&str>, auth_method: AuthMethod) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.map(str::to_owned),
            auth_method,
            jwt_key: None,
            redirect_uris: Vec::new(),
        }
    }

    /// A `private_key_jwt` client whose assertions are verified with `key`.
    pub fn with_jwt_key(client_id: &str, key: JwtKey) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: None,
            auth_method: AuthMethod::PrivateKeyJwt,
            jwt_key: Some(key),
            redirect_uris: Vec::new(),
        }
    }
}

/// What a [`RouteFault`] does instead of the normal handler.
#[derive(Clone, Debug)]
pub enum FaultAction {
    /// Answer with this status, extra headers and body (`Content-Length` is added).
    Respond {
        /// HTTP status.
        status: u16,
        /// Extra headers, e.g. `("content-type", "text/html")`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Answer `status` with a JSON body of exactly `bytes` bytes (`{"pad":"xxxx…"}`, or plain `x`s
    /// below 10 bytes), streamed; with `chunked` it uses `Transfer-Encoding: chunked` instead of
    /// `Content-Length`.
    Oversized {
        /// HTTP status.
        status: u16,
        /// Body size in bytes.
        bytes: usize,
        /// Chunked transfer coding instead of a `Content-Length`.
        chunked: bool,
    },
    /// Never answer: hold the connection open (reading and discarding) until the client closes it
    /// or the server stops.
    Hang,
    /// Send a response one byte at a time, sleeping `interval` between bytes. The head is
    /// dripped too (it is part of the bytes).
    Drip {
        /// HTTP status.
        status: u16,
        /// Content type of the body.
        content_type: String,
        /// The body.
        body: Vec<u8>,
        /// Delay between two bytes.
        interval: Duration,
    },
    /// A redirect (`status` should be 301/302/303/307/308) to `location`, in which `{state}`
    /// becomes the request's `state` query parameter (URL-encoded; empty when there is none):
    /// an authorization error response that belongs to the request (RFC 6749 §4.1.2.1).
    Redirect {
        /// HTTP status.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// Close the connection without answering.
    Close,
}

impl FaultAction {
    /// A JSON response.
    pub fn json(status: u16, body: &Value) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A response with a plain-text body.
    pub fn status(status: u16, body: &str) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// `200`, `Content-Type: application/json`, and a body that is not JSON.
    pub fn invalid_json() -> Self {
        Self::Respond {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{\"issuer\": \"http://127.0.0.1\", oops not json".to_vec(),
        }
    }

    /// An HTML error page with this status (e.g. what a misconfigured proxy sends).
    pub fn html_error(status: u16) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: format!(
                "<!DOCTYPE html><html><head><title>Error {status}</title></head>\
                 <body><h1>Error {status}</h1><p>Something went wrong.</p></body></html>"
            )
            .into_bytes(),
        }
    }

    /// `302 Found` to `location`.
    pub fn redirect(location: &str) -> Self {
        Self::Redirect {
            status: 302,
            location: location.to_owned(),
        }
    }
}

/// A fault bound to a request path (exact match on the path, query ignored).
#[derive(Clone, Debug)]
pub struct RouteFault {
    /// Only requests with this method (e.g. `POST`); `None` matches any.
    pub method: Option<String>,
    /// The exact request path, e.g. `/token`.
    pub path: String,
    /// What to do.
    pub action: FaultAction,
    /// Apply this many times, then disappear; `None` = forever.
    pub times: Option<usize>,
}

impl RouteFault {
    /// A fault on every request to `path`, forever.
    pub fn new(path: &str, action: FaultAction) -> Self {
        Self {
            method: None,
            path: path.to_owned(),
            action,
            times: None,
        }
    }

    /// Restricts the fault to one method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Applies the fault `n` times only.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }
}

/// Injected misbehaviour. [`Faults::default`] injects nothing.
///
/// The `*_patch` fields are JSON merge patches (RFC 7396) applied to a generated document just
/// before it is sent: a `null` member removes the key, any other value replaces it. Examples:
/// `{"token_type": "mac"}`, `{"access_token": null}`, `{"expires_in": 0}`, `{"client_id": null}`,
/// `{"issuer": "https://other.example"}`.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Per-path faults, checked before routing, first match wins.
    pub routes: Vec<RouteFault>,
    /// The MCP endpoint answers 401 `invalid_token` to everything, even valid tokens.
    pub mcp_always_unauthorized: bool,
    /// Every `refresh_token` grant answers `invalid_grant`.
    pub refresh_invalid_grant: bool,
    /// The authorization endpoint redirects back with `error=<this>` (e.g. `access_denied`).
    pub authorize_error: Option<String>,
    /// Merge patch for successful token responses.
    pub token_response_patch: Option<Value>,
    /// Merge patch for successful registration responses.
    pub registration_response_patch: Option<Value>,
    /// Merge patch for the authorization server metadata document.
    pub as_metadata_patch: Option<Value>,
    /// Merge patch for the PRM document.
    pub prm_patch: Option<Value>,
}

/// The whole server configuration. Every field is public; change it before
/// [`DemoServer::start`](crate::DemoServer::start) or at runtime with
/// [`DemoServer::update`](crate::DemoServer::update).
#[derive(Clone, Debug)]
pub struct DemoConfig {
    // ---- naming ----
    /// Host used in every URL the server generates (`origin`, issuer, PRM). The listener always
    /// binds 127.0.0.1; set `"localhost"` to mimic the conformance mocks' URLs.
    pub host_name: String,

    // ---- resource server (MCP) ----
    /// The MCP endpoint path.
    pub mcp_path: String,
    /// Answer JSON-RPC requests as SSE (`text/event-stream`, one `event: message`) when the
    /// request's `Accept` lists `text/event-stream`.
    pub sse: bool,
    /// Answer `406` unless `Accept` lists both `application/json` and `text/event-stream`
    /// (what the TypeScript SDK server does).
    pub require_accept_both: bool,
    /// Let `initialize` and `notifications/*` through without a token (step-up topologies).
    pub open_initialize: bool,
    /// Scopes (space-separated) every authenticated method needs, unless overridden below.
    pub required_scope: Option<String>,
    /// Per-method required scopes (method, space-separated scopes); overrides `required_scope`.
    pub method_scopes: Vec<(String, String)>,
    /// `scope="…"` in the 401 challenge; `None` leaves the parameter out.
    pub challenge_scope: Option<String>,
    /// `resource_metadata="…"` in 401/403 challenges (only when the PRM exists or
    /// `resource_metadata_override` is set).
    pub challenge_resource_metadata: bool,
    /// A URL to advertise in `resource_metadata` instead of the real PRM URL.
    pub resource_metadata_override: Option<String>,
    /// Reject (401) tokens issued for a `resource` that is neither the PRM resource nor the MCP URL.
    pub check_token_resource: bool,
    /// Send permissive CORS headers and answer `OPTIONS` preflights (for browser tests).
    pub cors: bool,
    /// Keep every request in the log ([`DemoServer::requests`](crate::DemoServer::requests)).
    /// Turn it off for long benchmark runs: the log grows without bound. Counters and the
    /// connection count are kept either way.
    pub record_requests: bool,

    // ---- protected resource metadata ----
    /// Where the PRM is served.
    pub prm_location: PrmLocation,
    /// The PRM `resource`.
    pub prm_resource: ResourceId,
    /// PRM `scopes_supported`; `None` leaves it out.
    pub prm_scopes_supported: Option<Vec<String>>,
    /// PRM `authorization_servers`; `None` = `[issuer]`.
    pub prm_authorization_servers: Option<Vec<String>>,

    // ---- authorization server ----
    /// Issuer path: `""` (issuer = origin) or e.g. `/tenant1`.
    pub issuer_path: String,
    /// `issuer` value written in the metadata (and the default `iss` response parameter), to
    /// produce an issuer mismatch. `None` = the real issuer.
    pub issuer_override: Option<String>,
    /// Where the metadata is served.
    pub as_metadata_location: AsMetadataLocation,
    /// Path prefix of `/authorize`, `/token`, `/register`; `None` = the issuer path.
    pub endpoint_prefix: Option<String>,
    /// Serve `/register` and advertise `registration_endpoint`.
    pub registration_enabled: bool,
    /// RFC 7592 client configuration: registration responses carry `registration_client_uri`
    /// (`/register/{client_id}`) and a `registration_access_token`, and `PUT` there replaces
    /// the client's metadata (`redirect_uris`, `scope`, …).
    pub registration_management: bool,
    /// Authorization requests for a dynamic client asking for a scope outside the client's
    /// registered `scope` are refused with `invalid_scope` (as oidc-provider does).
    pub enforce_registered_scope: bool,
    /// Serve `/revoke` (RFC 7009) and advertise `revocation_endpoint`.
    pub revocation_enabled: bool,
    /// `token_endpoint_auth_methods_supported`, also the set DCR negotiates from. Empty = leave
    /// the field out (then RFC 8414's default `client_secret_basic` applies).
    pub token_endpoint_auth_methods: Vec<AuthMethod>,
    /// AS `scopes_supported`; `None` leaves it out.
    pub scopes_supported: Option<Vec<String>>,
    /// `grant_types_supported`; grants outside a non-empty list get `unsupported_grant_type`.
    /// Empty = leave out and accept all three grants.
    pub grant_types_supported: Vec<String>,
    /// `code_challenge_methods_supported`; `None` leaves it out. `S256` is always accepted;
    /// `plain` only when listed here.
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Authorization requests without `code_challenge` are refused (`invalid_request`).
    pub require_pkce: bool,
    /// Advertise `client_id_metadata_document_supported` and accept https URL client_ids.
    pub cimd_supported: bool,
    /// Advertise `authorization_response_iss_parameter_supported: true`.
    pub iss_parameter_supported: bool,
    /// Add `iss` to authorization responses (RFC 9207).
    pub iss_in_authorization_response: bool,
    /// The `iss` value sent in authorization responses; `None` = the (possibly overridden) issuer.
    pub iss_override: Option<String>,
    /// Clients known without registration.
    pub preregistered_clients: Vec<PreregisteredClient>,
    /// Scope granted when the client asks for none; `None` grants the empty scope.
    pub default_scope: Option<String>,
    /// When set, granted scope = requested ∩ this list (models an AS that never grants some scopes).
    pub grantable_scopes: Option<Vec<String>>,
    /// Issue refresh tokens with `authorization_code` and `refresh_token` grants.
    pub issue_refresh_tokens: bool,
    /// Access token lifetime in seconds (`expires_in`); `0` issues tokens that are already expired.
    pub token_ttl_secs: u64,
    /// Refresh token reuse detection (RFC 9700 §4.14.2): refresh tokens always rotate; with this
    /// on, presenting an already consumed refresh token is treated as theft and revokes the whole
    /// grant (every access and refresh token descended from the same authorization). Counted in
    /// [`crate::RefreshCounters`].
    pub refresh_reuse_detection: bool,
    /// DPoP (RFC 9449): advertise ES256 proofs and require DPoP-bound tokens
    /// (`dpop_bound_access_tokens_required` in the PRM); a token request with a valid proof gets
    /// a `DPoP` token bound to the proof's key, and a public client's refresh token is bound to
    /// it too (a refresh whose proof uses another key is refused). The MCP endpoint then demands
    /// `Authorization: DPoP` with a proof of the same key. Counted in [`crate::DpopCounters`].
    pub dpop: bool,
    /// With [`DemoConfig::dpop`]: the MCP endpoint demands a server nonce in every proof (RFC 9449
    /// §9). A proof without the current nonce gets 401 `WWW-Authenticate: DPoP
    /// error="use_dpop_nonce"` and the nonce in `DPoP-Nonce`; the nonce changes after
    /// [`crate::DPOP_NONCE_USES`] accepted requests, as a server rotating its nonces does.
    /// Counted in [`crate::DpopCounters::nonce_demands`].
    pub dpop_nonce: bool,
    /// Serve `GET /_demo/counters`: what [`crate::DemoServer::refresh_counters`],
    /// [`crate::DemoServer::dpop_counters`] and [`crate::DemoServer::grant_count`] report, as
    /// JSON, for tests that run the server as a separate program (`--counters`).
    pub counters_endpoint: bool,
    /// For dynamically registered clients, the authorization request's `redirect_uri` must be one
    /// of the registered ones (the port of a loopback URI is ignored, RFC 8252 §7.3).
    pub validate_redirect_uri: bool,
    /// The material a client needs for this topology, shaped like the conformance suite's
    /// `MCP_CONFORMANCE_CONTEXT` (`client_id`, `client_secret`, `private_key_pem`, ...).
    pub context: Option<Value>,

    // ---- faults ----
    /// Injected misbehaviour.
    pub faults: Faults,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for DemoConfig {
    /// The happy path: PRM path-based and advertised in the challenge (`scope="mcp:read
    /// mcp:write"` too), AS = origin with RFC 8414 metadata, DCR on, all four client auth
    /// methods, PKCE S256 required, `iss` in the authorization response, scopes
    /// `mcp:read mcp:write` (the default grant when none is asked), `tools/call` needs
    /// `mcp:write`, refresh tokens with rotation, access tokens valid 3600 s.
    fn default() -> Self {
        Self {
            host_name: "127.0.0.1".to_owned(),
            mcp_path: "/mcp".to_owned(),
            sse: false,
            require_accept_both: false,
            open_initialize: false,
            required_scope: None,
            method_scopes: vec![("tools/call".to_owned(), "mcp:write".to_owned())],
            challenge_scope: Some("mcp:read mcp:write".to_owned()),
            challenge_resource_metadata: true,
            resource_metadata_override: None,
            check_token_resource: true,
            cors: true,
            record_requests: true,
            prm_location: PrmLocation::PathBased,
            prm_resource: ResourceId::McpUrl,
            prm_scopes_supported: Some(strings(&["mcp:read", "mcp:write"])),
            prm_authorization_servers: None,
            issuer_path: String::new(),
            issuer_override: None,
            as_metadata_location: AsMetadataLocation::Oauth,
            endpoint_prefix: None,
            registration_enabled: true,
            registration_management: false,
            enforce_registered_scope: false,
            revocation_enabled: true,
            token_endpoint_auth_methods: vec![
                AuthMethod::None,
                AuthMethod::ClientSecretBasic,
                AuthMethod::ClientSecretPost,
                AuthMethod::PrivateKeyJwt,
            ],
            scopes_supported: Some(strings(&["mcp:read", "mcp:write"])),
            grant_types_supported: strings(&[
                "authorization_code",
                "refresh_token",
                "client_credentials",
            ]),
            code_challenge_methods_supported: Some(strings(&["S256"])),
            require_pkce: true,
            cimd_supported: false,
            iss_parameter_supported: true,
            iss_in_authorization_response: true,
            iss_override: None,
            preregistered_clients: Vec::new(),
            default_scope: Some("mcp:read mcp:write".to_owned()),
            grantable_scopes: None,
            issue_refresh_tokens: true,
            token_ttl_secs: 3600,
            refresh_reuse_detection: false,
            dpop: false,
            dpop_nonce: false,
            counters_endpoint: false,
            validate_redirect_uri: true,
            context: None,
            faults: Faults::default(),
        }
    }
}

/// Every conformance auth scenario name [`DemoConfig::conformance`] knows (without the `auth/`
/// prefix, which is accepted too).
pub const CONFORMANCE_SCENARIOS: &[&str] = &[
    "metadata-default",
    "metadata-var1",
    "metadata-var2",
    "metadata-var3",
    "basic-cimd",
    "scope-from-www-authenticate",
    "scope-from-scopes-supported",
    "scope-omitted-when-undefined",
    "scope-step-up",
    "scope-retry-limit",
    "token-endpoint-auth-basic",
    "token-endpoint-auth-post",
    "token-endpoint-auth-none",
    "pre-registration",
    "2025-03-26-oauth-metadata-backcompat",
    "2025-03-26-oauth-endpoint-fallback",
    "resource-mismatch",
    "offline-access-scope",
    "offline-access-not-supported",
    "client-credentials-basic",
    "client-credentials-jwt",
];

/// Every name [`DemoConfig::topology`] accepts besides the conformance scenarios.
pub const EXTRA_TOPOLOGIES: &[&str] = &["default", "reference-benchmark", "legacy"];

/// The CIMD client_id the conformance suite expects in `basic-cimd`.
pub const CONFORMANCE_CIMD_CLIENT_ID: &str = "https://conformance-test.local/client-metadata.json";

impl DemoConfig {
    /// A topology by name: `default`, `reference-benchmark`, `legacy` (= the
    /// 2025-03-26 metadata back-compat topology), or any conformance scenario
    /// ([`CONFORMANCE_SCENARIOS`], with or without `auth/`).
    pub fn topology(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::default()),
            "reference-benchmark" | "benchmark" => Some(Self::reference_benchmark()),
            "legacy" => Self::conformance("2025-03-26-oauth-metadata-backcompat"),
            other => Self::conformance(other),
        }
    }

    /// The reference benchmark topology (python-sdk report §9): PRM only at the root and not
    /// advertised in the 401 (no `scope` either), PRM `scopes_supported: ["mcp"]`, AS = origin
    /// with metadata only at `/.well-known/openid-configuration`. A client following the
    /// spec's probe order makes 8 requests per flow (+1 user-agent `/authorize`).
    pub fn reference_benchmark() -> Self {
        Self {
            challenge_scope: None,
            challenge_resource_metadata: false,
            method_scopes: Vec::new(),
            prm_location: PrmLocation::Root,
            prm_scopes_supported: Some(strings(&["mcp"])),
            as_metadata_location: AsMetadataLocation::RootOidc,
            token_endpoint_auth_methods: vec![
                AuthMethod::ClientSecretPost,
                AuthMethod::ClientSecretBasic,
                AuthMethod::None,
            ],
            scopes_supported: None,
            default_scope: Some("mcp".to_owned()),
            ..Self::default()
        }
    }

    /// The base every conformance topology starts from: what the conformance mocks do
    /// (`createServer` / `createAuthServer` defaults): PRM path-based and in the header, no scope
    /// anywhere, AS = origin with RFC 8414 metadata, DCR, only `none` advertised, grants
    /// `authorization_code refresh_token`, S256, no `iss` parameter, no refresh tokens, SSE
    /// answers, `test-tool`, no scope requirements.
    fn conformance_base() -> Self {
        Self {
            sse: true,
            method_scopes: Vec::new(),
            challenge_scope: None,
            prm_scopes_supported: None,
            token_endpoint_auth_methods: vec![AuthMethod::None],
            scopes_supported: None,
            grant_types_supported: strings(&["authorization_code", "refresh_token"]),
            iss_parameter_supported: false,
            iss_in_authorization_response: false,
            default_scope: None,
            issue_refresh_tokens: false,
            ..Self::default()
        }
    }

    /// The topology of a conformance suite auth scenario (0.1.16, conformance.md §2.1), by name,
    /// with or without the `auth/` prefix. `None` for an unknown name.
    ///
    /// The resource server and the authorization server share one origin here (the suite uses
    /// two ports), which changes no probe URL: every path is the same.
    pub fn conformance(name: &str) -> Option<Self> {
        let name = name.strip_prefix("auth/").unwrap_or(name);
        let base = Self::conformance_base();
        let cfg = match name {
            // PRM path-based, in the header; AS metadata RFC 8414 at the root; root PRM is a trap.
            "metadata-default" => base,
            // PRM path-based but not in the header; AS metadata only at OIDC root.
            "metadata-var1" => Self {
                challenge_resource_metadata: false,
                as_metadata_location: AsMetadataLocation::OidcPathInsert,
                ..base
            },
            // PRM only at the root (resource = origin), not in the header; issuer /tenant1 with
            // RFC 8414 path-inserted metadata; root AS metadata is a trap.
            "metadata-var2" => Self {
                challenge_resource_metadata: false,
                prm_location: PrmLocation::Root,
                prm_resource: ResourceId::Origin,
                issuer_path: "/tenant1".to_owned(),
                as_metadata_location: AsMetadataLocation::Oauth,
                ..base
            },
            // PRM at a custom path (in the header); issuer /tenant1, metadata only OIDC
            // path-appended.
            "metadata-var3" => Self {
                prm_location: PrmLocation::Custom("/custom/metadata/location.json".to_owned()),
                issuer_path: "/tenant1".to_owned(),
                as_metadata_location: AsMetadataLocation::OidcPathAppend,
                ..base
            },
            "basic-cimd" => Self {
                cimd_supported: true,
                ..base
            },
            "scope-from-www-authenticate" => Self {
                challenge_scope: Some("mcp:basic".to_owned()),
                required_scope: Some("mcp:basic".to_owned()),
                ..base
            },
            "scope-from-scopes-supported" => Self {
                prm_scopes_supported: Some(strings(&["mcp:basic", "mcp:read", "mcp:write"])),
                required_scope: Some("mcp:basic mcp:read mcp:write".to_owned()),
                ..base
            },
            "scope-omitted-when-undefined" => base,
            // initialize/notifications open; tools/list needs a token (401 scope=mcp:basic);
            // tools/call needs mcp:basic mcp:write (403 insufficient_scope).
            "scope-step-up" => Self {
                open_initialize: true,
                challenge_scope: Some("mcp:basic".to_owned()),
                required_scope: Some("mcp:basic".to_owned()),
                method_scopes: vec![("tools/call".to_owned(), "mcp:basic mcp:write".to_owned())],
                prm_scopes_supported: Some(strings(&["mcp:basic", "mcp:write"])),
                ..base
            },
            // 401 scope=mcp:admin, and the AS never grants mcp:admin: every token-bearing
            // request gets 403 insufficient_scope.
            "scope-retry-limit" => Self {
                open_initialize: true,
                challenge_scope: Some("mcp:admin".to_owned()),
                required_scope: Some("mcp:admin".to_owned()),
                grantable_scopes: Some(strings(&["mcp:basic"])),
                ..base
            },
            "token-endpoint-auth-basic" => Self {
                token_endpoint_auth_methods: vec![AuthMethod::ClientSecretBasic],
                ..base
            },
            "token-endpoint-auth-post" => Self {
                token_endpoint_auth_methods: vec![AuthMethod::ClientSecretPost],
                ..base
            },
            "token-endpoint-auth-none" => base,
            "pre-registration" => Self {
                registration_enabled: false,
                token_endpoint_auth_methods: vec![AuthMethod::ClientSecretBasic],
                preregistered_clients: vec![PreregisteredClient::new(
                    "pre-registered-client",
                    Some("pre-registered-secret"),
                    AuthMethod::ClientSecretBasic,
                )],
                context: Some(json!({
                    "name": "auth/pre-registration",
                    "client_id": "pre-registered-client",
                    "client_secret": "pre-registered-secret",
                })),
                ..base
            },
            // No PRM; the MCP origin is the AS, RFC 8414 metadata at the root, endpoints /oauth/*.
            // As the suite's mock: the metadata is at the origin's root well-known, but the
            // issuer is `<origin>/oauth` and the endpoints live under /oauth.
            "2025-03-26-oauth-metadata-backcompat" => Self {
                prm_location: PrmLocation::Absent,
                issuer_path: "/oauth".to_owned(),
                as_metadata_location: AsMetadataLocation::RootOauth,
                endpoint_prefix: Some("/oauth".to_owned()),
                ..base
            },
            // No PRM, no AS metadata: /authorize, /token, /register on the origin.
            "2025-03-26-oauth-endpoint-fallback" => Self {
                prm_location: PrmLocation::Absent,
                as_metadata_location: AsMetadataLocation::Absent,
                ..base
            },
            "resource-mismatch" => Self {
                prm_resource: ResourceId::Custom("https://evil.example.com/mcp".to_owned()),
                ..base
            },
            "offline-access-scope" => Self {
                prm_scopes_supported: Some(strings(&["mcp:basic"])),
                required_scope: Some("mcp:basic".to_owned()),
                scopes_supported: Some(strings(&["mcp:basic", "offline_access"])),
                cimd_supported: true,
                issue_refresh_tokens: true,
                ..base
            },
            "offline-access-not-supported" => Self {
                prm_scopes_supported: Some(strings(&["mcp:basic", "mcp:read"])),
                required_scope: Some("mcp:basic mcp:read".to_owned()),
                scopes_supported: Some(strings(&["mcp:basic", "mcp:read"])),
                ..base
            },
            "client-credentials-basic" => Self {
                grant_types_supported: strings(&["client_credentials"]),
                token_endpoint_auth_methods: vec![AuthMethod::ClientSecretBasic],
                preregistered_clients: vec![PreregisteredClient::new(
                    "conformance-test-client",
                    Some("conformance-test-secret"),
                    AuthMethod::ClientSecretBasic,
                )],
                context: Some(json!({
                    "name": "auth/client-credentials-basic",
                    "client_id": "conformance-test-client",
                    "client_secret": "conformance-test-secret",
                })),
                ..base
            },
            // A fresh P-256 key per call; the private half is in `context.private_key_pem`.
            "client-credentials-jwt" => {
                let pair = Es256KeyPair::generate();
                Self {
                    grant_types_supported: strings(&["client_credentials"]),
                    token_endpoint_auth_methods: vec![AuthMethod::PrivateKeyJwt],
                    preregistered_clients: vec![PreregisteredClient::with_jwt_key(
                        "conformance-test-client",
                        pair.public_key.clone(),
                    )],
                    context: Some(json!({
                        "name": "auth/client-credentials-jwt",
                        "client_id": "conformance-test-client",
                        "private_key_pem": pair.pkcs8_pem,
                        "signing_algorithm": "ES256",
                    })),
                    ..base
                }
            }
            _ => return None,
        };
        Some(cfg)
    }

    /// Required scopes (space-separated) for a JSON-RPC method, if any.
    pub fn scopes_required_for(&self, method: &str) -> Option<&str> {
        self.method_scopes
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, s)| s.as_str())
            .or(self.required_scope.as_deref())
            .filter(|s| !s.trim().is_empty())
    }

    /// The effective endpoint prefix (`endpoint_prefix` or the issuer path), without a trailing `/`.
    pub fn effective_endpoint_prefix(&self) -> &str {
        self.endpoint_prefix
            .as_deref()
            .unwrap_or(&self.issuer_path)
            .trim_end_matches('/')
    }

    /// The PRM path, if any.
    pub fn prm_path(&self) -> Option<String> {
        match &self.prm_location {
            PrmLocation::PathBased => Some(format!(
                "/.well-known/oauth-protected-resource{}",
                self.mcp_path
            )),
            PrmLocation::Root => Some("/.well-known/oauth-protected-resource".to_owned()),
            PrmLocation::Custom(p) => Some(p.clone()),
            PrmLocation::Absent => None,
        }
    }

    /// The AS metadata path, if any.
    pub fn as_metadata_path(&self) -> Option<String> {
        self.as_metadata_location.path(&self.issuer_path)
    }
}
