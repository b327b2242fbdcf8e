//! The MCP authorization client: give it a server URL and it sends authorized requests,
//! running the whole MCP authorization flow (2025-11-25, with SEP-985, SEP-835, SEP-2207,
//! SEP-2350 and SEP-2352) when the server asks for it.
//!
//! ```text
//! send → token (refresh first if about to expire: one refresh for all threads)
//!      → 401/403? → challenge → PRM → AS metadata → checks → client identity
//!      → scope → authorize (PKCE, state, resource) → iss/state checks → token → retry
//! ```
//!
//! The equivalent of the Python SDK's `OAuthClientProvider`, blocking, with these
//! differences: requests are not serialized behind one lock (only token acquisition is),
//! token expiry is persisted so a restart refreshes instead of re-authorizing, endpoints must
//! be HTTPS (or loopback), PKCE S256 support is required, and a failed refresh never deletes
//! stored credentials.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use zeroize::Zeroizing;

use crate::authorization::{
    AuthorizationRequest, DEFAULT_REDIRECT_URI, HeadlessRedirect, RedirectContext, RedirectHandler,
};
use crate::cache::{self, MetadataCache};
use crate::challenge::{self, BearerChallenge, Challenge};
use crate::checks;
use crate::discovery;
use crate::dpop::{self, DpopKey};
use crate::error::{Error, ErrorKind, OAuthErrorResponse, Result};
use crate::http::{HttpClient, HttpConfig, UreqHttpClient};
use crate::metadata::{OAuthClientMetadata, OAuthMetadata, OAuthToken, ProtectedResourceMetadata};
use crate::pkce::{self, PkceParameters};
use crate::registration;
use crate::scope;
use crate::secret::{AccessToken, Assertion, ClientSecret};
use crate::storage::{MemoryStorage, TokenStorage};
use crate::token::{
    self, ClientAuth, SigningKey, TokenEndpointAuthMethod, TokenRequest, public_url,
};
use crate::trace::{Outcome, Step, TraceEvent, TraceObserver};

/// The MCP protocol version this client speaks, sent as `MCP-Protocol-Version` on metadata
/// requests (as the reference does).
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-11-25";

/// `Accept` for MCP streamable HTTP POSTs (MCP transports §2.1: both are required).
pub const MCP_ACCEPT: &str = "application/json, text/event-stream";

/// Which OAuth grant obtains tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grant {
    /// Authorization code with PKCE (RFC 6749 §4.1, RFC 7636): a user (or an auto-approving
    /// server) authorizes through the redirect handler.
    #[default]
    AuthorizationCode,
    /// Client credentials (RFC 6749 §4.4): machine-to-machine, needs pre-registered
    /// credentials.
    ClientCredentials,
    /// A JWT assertion as the grant (RFC 7523 §2.1), e.g. a workload identity token: needs
    /// [`ClientConfig::assertion`] and a pre-registered `client_id`.
    JwtBearer,
    /// Enterprise-managed authorization (SEP-990): the identity provider exchanges the user's
    /// ID token for an ID-JAG (RFC 8693), which the authorization server accepts as a JWT
    /// bearer grant (RFC 7523). Needs [`ClientConfig::enterprise`] and pre-registered
    /// credentials at the authorization server.
    EnterpriseManaged,
}

impl Grant {
    fn needs_pre_registration(self) -> bool {
        !matches!(self, Grant::AuthorizationCode)
    }
}

/// The identity provider side of enterprise-managed authorization (SEP-990).
#[derive(Clone)]
pub struct EnterpriseIdentity {
    /// The identity provider's token endpoint (RFC 8693 token exchange).
    pub idp_token_endpoint: String,
    /// The client's `client_id` at the identity provider.
    pub idp_client_id: String,
    /// The client's secret at the identity provider (sent with `client_secret_post`), if any.
    pub idp_client_secret: Option<ClientSecret>,
    /// The user's ID token from the identity provider (the `subject_token`).
    pub id_token: Assertion,
}

impl fmt::Debug for EnterpriseIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterpriseIdentity")
            .field("idp_token_endpoint", &self.idp_token_endpoint)
            .field("idp_client_id", &self.idp_client_id)
            .field("idp_client_secret", &self.idp_client_secret)
            .field("id_token", &self.id_token)
            .finish()
    }
}

/// When the client uses DPoP (RFC 9449) sender-constrained tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// When the resource server asks for them: a `DPoP` challenge scheme, or
    /// `dpop_bound_access_tokens_required` in its metadata (RFC 9728 §2).
    #[default]
    Auto,
    /// Always (the authorization server must support DPoP).
    Always,
    /// Never.
    Never,
}

/// Credentials registered out of band (MCP authorization §"Client registration":
/// pre-registration has priority over CIMD and DCR).
#[derive(Clone)]
pub struct PreRegisteredClient {
    /// The `client_id`.
    pub client_id: String,
    /// The secret, for `client_secret_basic`/`client_secret_post`.
    pub client_secret: Option<ClientSecret>,
    /// How to authenticate at the token endpoint.
    pub method: TokenEndpointAuthMethod,
    /// The key, for `private_key_jwt`.
    pub signing_key: Option<Arc<SigningKey>>,
    /// The issuer these credentials belong to; when set, they are only used with it.
    pub issuer: Option<String>,
}

impl fmt::Debug for PreRegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreRegisteredClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("method", &self.method)
            .field("signing_key", &self.signing_key)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl PreRegisteredClient {
    /// A client with a secret, authenticating with `method`.
    pub fn with_secret(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        method: TokenEndpointAuthMethod,
    ) -> Self {
        PreRegisteredClient {
            client_id: client_id.into(),
            client_secret: Some(ClientSecret::new(client_secret.into())),
            method,
            signing_key: None,
            issuer: None,
        }
    }

    /// A public client (`none`).
    pub fn public(client_id: impl Into<String>) -> Self {
        PreRegisteredClient {
            client_id: client_id.into(),
            client_secret: None,
            method: TokenEndpointAuthMethod::None,
            signing_key: None,
            issuer: None,
        }
    }

    /// A client authenticating with `private_key_jwt` (RFC 7523).
    pub fn with_private_key(client_id: impl Into<String>, key: SigningKey) -> Self {
        PreRegisteredClient {
            client_id: client_id.into(),
            client_secret: None,
            method: TokenEndpointAuthMethod::PrivateKeyJwt,
            signing_key: Some(Arc::new(key)),
            issuer: None,
        }
    }

    fn auth(&self) -> ClientAuth {
        ClientAuth {
            client_id: self.client_id.clone(),
            method: self.method,
            client_secret: self.client_secret.clone(),
            signing_key: self.signing_key.clone(),
        }
    }
}

/// The client's configuration. Build it with [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The MCP server URL (the protected resource).
    pub server_url: String,
    /// The metadata sent with dynamic registration (RFC 7591 §2).
    pub client_metadata: OAuthClientMetadata,
    /// A Client ID Metadata Document URL, used when the AS advertises
    /// `client_id_metadata_document_supported`.
    pub client_metadata_url: Option<String>,
    /// Pre-registered credentials (highest priority).
    pub pre_registered: Option<PreRegisteredClient>,
    /// The grant.
    pub grant: Grant,
    /// A scope to request when neither the challenge nor the metadata name one; always part
    /// of a step-up union.
    pub scope: Option<String>,
    /// The `MCP-Protocol-Version` sent on metadata requests; also decides whether `resource`
    /// is sent when no protected resource metadata exists (2025-06-18 and later).
    pub protocol_version: String,
    /// Refuse an authorization server whose metadata does not list `S256` in
    /// `code_challenge_methods_supported` (MCP 2025-11-25 requires clients to refuse).
    pub require_pkce_s256: bool,
    /// Refresh this long before the token expires.
    pub refresh_skew: Duration,
    /// At most this many token acquisitions (authorizations or refreshes) per request.
    pub max_authorizations: u32,
    /// Prefer this issuer among the PRM's `authorization_servers`.
    pub preferred_issuer: Option<String>,
    /// Allow a non-HTTPS, non-loopback MCP server URL (OAuth endpoints stay HTTPS-only).
    pub allow_insecure_server_url: bool,
    /// When to obtain DPoP-bound tokens (RFC 9449).
    pub dpop: DpopMode,
    /// The JWT presented by [`Grant::JwtBearer`].
    pub assertion: Option<Assertion>,
    /// The identity provider of [`Grant::EnterpriseManaged`].
    pub enterprise: Option<EnterpriseIdentity>,
    /// HTTP settings for the default client.
    pub http: HttpConfig,
    /// Probe the fallback candidates of a discovery chain concurrently (one thread each),
    /// while still taking the result in the specification's priority order: the PRM
    /// path-suffixed → root pair (RFC 9728 §3.1, SEP-985) and the RFC 8414 → OIDC candidates
    /// (RFC 8414 §3.1, OIDC Discovery §4) then cost one round trip instead of k. The URL sets
    /// are unchanged (no URL outside the spec's candidate list is ever requested); a
    /// `resource_metadata` URL from the challenge is always fetched alone, first, and the
    /// other PRM candidates only if it fails. Default `false`: on HTTP/1.1 every concurrent
    /// probe needs its own connection, so a fresh client opens k connections to the origin
    /// instead of one, and later candidates are requested even when an earlier one answers.
    /// It pays when round trips are long (remote servers) and the pool is warm.
    pub concurrent_discovery: bool,
    /// Cache discovery results honouring `Cache-Control: max-age` (see [`crate::cache`]), in
    /// the process-wide [`MetadataCache::shared`] unless
    /// [`ClientBuilder::metadata_cache`] gives one. A warm discovery then sends no request.
    /// Default `false`: with it, a metadata change (an authorization server migration, new
    /// endpoints) is seen only when the cached lifetime ends.
    pub cache_metadata: bool,
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    config: ClientConfig,
    http: Option<Arc<dyn HttpClient>>,
    storage: Option<Arc<dyn TokenStorage>>,
    redirect: Option<Arc<dyn RedirectHandler>>,
    observer: Option<Arc<dyn TraceObserver>>,
    metadata_cache: Option<Arc<MetadataCache>>,
}

impl ClientBuilder {
    fn new(server_url: &str) -> Self {
        let mut client_metadata = OAuthClientMetadata::new(Vec::new());
        client_metadata.redirect_uris = None;
        client_metadata.client_name = Some("mcp-auth".to_owned());
        ClientBuilder {
            config: ClientConfig {
                server_url: server_url.to_owned(),
                client_metadata,
                client_metadata_url: None,
                pre_registered: None,
                grant: Grant::AuthorizationCode,
                scope: None,
                protocol_version: DEFAULT_PROTOCOL_VERSION.to_owned(),
                require_pkce_s256: true,
                refresh_skew: Duration::from_secs(60),
                max_authorizations: 3,
                preferred_issuer: None,
                allow_insecure_server_url: false,
                dpop: DpopMode::Auto,
                assertion: None,
                enterprise: None,
                http: HttpConfig::default(),
                concurrent_discovery: false,
                cache_metadata: false,
            },
            http: None,
            metadata_cache: None,
            storage: None,
            redirect: None,
            observer: None,
        }
    }

    /// Replace the whole configuration (the server URL is kept from the builder).
    pub fn config(mut self, f: impl FnOnce(&mut ClientConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// The client name sent with registration.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.config.client_metadata.client_name = Some(name.into());
        self
    }

    /// The registration metadata.
    pub fn client_metadata(mut self, metadata: OAuthClientMetadata) -> Self {
        self.config.client_metadata = metadata;
        self
    }

    /// A Client ID Metadata Document URL (must be https with a path).
    pub fn client_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.config.client_metadata_url = Some(url.into());
        self
    }

    /// Pre-registered credentials.
    pub fn pre_registered(mut self, client: PreRegisteredClient) -> Self {
        self.config.pre_registered = Some(client);
        self
    }

    /// The grant (default: authorization code).
    pub fn grant(mut self, grant: Grant) -> Self {
        self.config.grant = grant;
        self
    }

    /// A scope to request when the server names none.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.config.scope = Some(scope.into());
        self
    }

    /// The HTTP timeout of the default client.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.http.timeout = timeout;
        self
    }

    /// The settings of the default HTTP client: trust (CA bundles, client certificate),
    /// proxy, pool, timeouts (see [`HttpConfig`]).
    pub fn http_config(mut self, http: HttpConfig) -> Self {
        self.config.http = http;
        self
    }

    /// Use this HTTP client instead of the default ureq one.
    pub fn http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.http = Some(http);
        self
    }

    /// Use this credential store (default: in memory).
    pub fn storage(mut self, storage: Arc<dyn TokenStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Use this redirect handler (default: [`HeadlessRedirect`]).
    pub fn redirect_handler(mut self, handler: Arc<dyn RedirectHandler>) -> Self {
        self.redirect = Some(handler);
        self
    }

    /// Probe discovery fallback candidates concurrently (see
    /// [`ClientConfig::concurrent_discovery`]).
    pub fn concurrent_discovery(mut self, on: bool) -> Self {
        self.config.concurrent_discovery = on;
        self
    }

    /// Cache discovery in `cache` (share one `Arc` between clients), honouring
    /// `Cache-Control` (see [`ClientConfig::cache_metadata`]); turns the cache on.
    pub fn metadata_cache(mut self, cache: Arc<MetadataCache>) -> Self {
        self.config.cache_metadata = true;
        self.metadata_cache = Some(cache);
        self
    }

    /// Receive a [`TraceEvent`] per step.
    pub fn observer(mut self, observer: Arc<dyn TraceObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Build the client.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a malformed server URL, an invalid client metadata URL
    /// or registration metadata; [`Error::InsecureUrl`] for an http server URL that is not
    /// loopback (unless allowed).
    pub fn build(self) -> Result<Client> {
        let mut config = self.config;
        let parsed = url::Url::parse(&config.server_url)
            .map_err(|e| Error::invalid_argument("server URL", e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::invalid_argument(
                "server URL",
                "must be an absolute http(s) URL",
            ));
        }
        if !config.allow_insecure_server_url {
            checks::require_secure_url("MCP server", &config.server_url)?;
        }
        if let Some(u) = &config.client_metadata_url {
            if !registration::is_valid_client_metadata_url(u) {
                return Err(Error::invalid_argument(
                    "client metadata URL",
                    "must be an https URL with a path (CIMD)",
                ));
            }
        }
        if config.grant.needs_pre_registration() && config.pre_registered.is_none() {
            return Err(Error::invalid_argument(
                "configuration",
                format!(
                    "the {:?} grant needs pre-registered credentials",
                    config.grant
                ),
            ));
        }
        if config.grant == Grant::JwtBearer && config.assertion.is_none() {
            return Err(Error::invalid_argument(
                "configuration",
                "the JWT bearer grant needs an assertion",
            ));
        }
        if config.grant == Grant::EnterpriseManaged {
            let Some(e) = &config.enterprise else {
                return Err(Error::invalid_argument(
                    "configuration",
                    "enterprise-managed authorization needs the identity provider settings",
                ));
            };
            checks::require_secure_url("identity provider token endpoint", &e.idp_token_endpoint)?;
        }
        let redirect: Arc<dyn RedirectHandler> = self
            .redirect
            .unwrap_or_else(|| Arc::new(HeadlessRedirect::new()));
        // The redirect URI: the handler's (e.g. a bound loopback port) wins, then the
        // configured one, then the default.
        let handler_uri = redirect.redirect_uri();
        let configured = config
            .client_metadata
            .redirect_uris
            .as_ref()
            .and_then(|v| v.first().cloned());
        let redirect_uri = handler_uri
            .or(configured)
            .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned());
        match &mut config.client_metadata.redirect_uris {
            Some(v) if v.first() == Some(&redirect_uri) => {}
            Some(v) => v.insert(0, redirect_uri.clone()),
            None => config.client_metadata.redirect_uris = Some(vec![redirect_uri.clone()]),
        }
        match config.grant {
            Grant::ClientCredentials => {
                config.client_metadata.grant_types = vec!["client_credentials".to_owned()];
            }
            Grant::JwtBearer | Grant::EnterpriseManaged => {
                config.client_metadata.grant_types = vec![token::JWT_BEARER_GRANT_TYPE.to_owned()];
            }
            Grant::AuthorizationCode => {}
        }
        config.client_metadata.validate()?;
        let resource_key = checks::resource_url_from_server_url(&config.server_url)?;
        let http: Arc<dyn HttpClient> = match self.http {
            Some(h) => h,
            None => Arc::new(UreqHttpClient::try_new(config.http.clone())?),
        };
        let metadata_cache = if config.cache_metadata {
            Some(self.metadata_cache.unwrap_or_else(MetadataCache::shared))
        } else {
            None
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                redirect_uri,
                resource_key,
                http,
                storage: self
                    .storage
                    .unwrap_or_else(|| Arc::new(MemoryStorage::new())),
                redirect,
                observer: self.observer,
                metadata_cache,
                session: Mutex::new(Session::default()),
                flow: Mutex::new(()),
            }),
        })
    }
}

/// What the client learnt from discovery.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// The protected resource metadata, if the server publishes it (absent on 2025-03-26
    /// servers).
    pub protected_resource: Option<ProtectedResourceMetadata>,
    /// Where it was found.
    pub protected_resource_url: Option<String>,
    /// The authorization server the PRM named (`None` on the legacy path).
    pub authorization_server: Option<String>,
    /// The authorization server metadata, if found.
    pub metadata: Option<OAuthMetadata>,
    /// Where it was found.
    pub metadata_url: Option<String>,
    /// The issuer that credentials are bound to (SEP-2352).
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The registration endpoint, if dynamic registration is possible.
    pub registration_endpoint: Option<String>,
    /// The RFC 8707 `resource` value sent, if any.
    pub resource: Option<String>,
    /// Whether tokens are obtained DPoP-bound (RFC 9449): the resource server challenged with
    /// the `DPoP` scheme or its metadata requires bound tokens (or [`DpopMode::Always`]).
    pub dpop: bool,
}

/// The 401/403 challenge captured from the resource server, for hosts and proxies that must
/// forward it.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedChallenge {
    /// The status (401 or 403).
    pub status: u16,
    /// Every `WWW-Authenticate` value, verbatim.
    pub www_authenticate: Vec<String>,
    /// The parsed challenges.
    pub challenges: Vec<Challenge>,
    /// The Bearer challenge, if any.
    pub bearer: Option<BearerChallenge>,
}

impl CapturedChallenge {
    /// Capture the challenge of a response.
    pub fn from_response(status: u16, headers: &http::HeaderMap) -> Self {
        let www_authenticate: Vec<String> = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let challenges = challenge::parse_www_authenticate_headers(headers);
        let bearer = challenge::bearer_challenge(&challenges);
        CapturedChallenge {
            status,
            www_authenticate,
            challenges,
            bearer,
        }
    }

    /// Capture a challenge from raw `WWW-Authenticate` values (e.g. received by a host's
    /// own HTTP stack).
    pub fn from_values(status: u16, www_authenticate: &[String]) -> Self {
        let challenges =
            challenge::parse_www_authenticate_values(www_authenticate.iter().map(String::as_str));
        let bearer = challenge::bearer_challenge(&challenges);
        CapturedChallenge {
            status,
            www_authenticate: www_authenticate.to_vec(),
            challenges,
            bearer,
        }
    }

    fn bearer_field(&self, f: impl Fn(&BearerChallenge) -> Option<&String>) -> Option<&str> {
        self.bearer.as_ref().and_then(f).map(String::as_str)
    }

    /// The `error` of the Bearer challenge.
    pub fn error(&self) -> Option<&str> {
        self.bearer_field(|b| b.error.as_ref())
    }

    /// The `scope` of the Bearer challenge.
    pub fn scope(&self) -> Option<&str> {
        self.bearer_field(|b| b.scope.as_ref())
    }

    /// The `resource_metadata` of the Bearer challenge (RFC 9728 §5.1).
    pub fn resource_metadata(&self) -> Option<&str> {
        self.bearer_field(|b| b.resource_metadata.as_ref())
    }

    fn oauth(&self) -> Option<OAuthErrorResponse> {
        let b = self.bearer.as_ref()?;
        Some(OAuthErrorResponse {
            error: b.error.clone()?,
            error_description: b.error_description.clone(),
            error_uri: b.error_uri.clone(),
        })
    }

    fn is_step_up(&self) -> bool {
        self.status == 403 && self.error() == Some("insufficient_scope")
    }
}

impl Error {
    /// The 401/403 challenge an [`Error::Unauthorized`] carries, parsed.
    pub fn challenge(&self) -> Option<CapturedChallenge> {
        match self {
            Error::Unauthorized {
                status,
                www_authenticate,
                ..
            } => Some(CapturedChallenge::from_values(*status, www_authenticate)),
            _ => None,
        }
    }
}

/// The response to [`Client::send`].
#[derive(Debug)]
pub struct Response {
    /// The final status.
    pub status: u16,
    /// The final headers.
    pub headers: http::HeaderMap,
    /// The final body.
    pub body: Vec<u8>,
    /// The last 401/403 challenge seen while sending (also when the final response is a
    /// success after re-authorization), so that hosts and proxies can forward it.
    pub challenge: Option<CapturedChallenge>,
    /// How many tokens were acquired (authorizations or refreshes) for this request.
    pub authorizations: u32,
}

impl Response {
    /// The JSON-RPC message in the body: the JSON body itself, or the first `data:` event of
    /// a `text/event-stream` body (MCP streamable HTTP answers POSTs either way).
    pub fn json_message(&self) -> Option<serde_json::Value> {
        let is_sse = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("text/event-stream"));
        if !is_sse {
            return serde_json::from_slice(&self.body).ok();
        }
        // SSE (WHATWG HTML §9.2.6): events are separated by blank lines; an event's data is
        // its `data:` lines joined with newlines.
        let text = String::from_utf8_lossy(&self.body);
        let mut data = String::new();
        for line in text.lines().chain(std::iter::once("")) {
            if line.is_empty() {
                if !data.is_empty() {
                    if let Ok(v) = serde_json::from_str(&data) {
                        return Some(v);
                    }
                    data.clear();
                }
            } else if let Some(d) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
        None
    }
}

/// The result of [`Client::probe`].
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    /// The status of the unauthenticated request.
    pub status: u16,
    /// The challenge, for 401/403.
    pub challenge: Option<CapturedChallenge>,
}

#[derive(Default)]
struct Session {
    loaded: bool,
    token: Option<Arc<OAuthToken>>,
    /// Incremented whenever `token` is replaced: lets a thread that waited for the flow lock
    /// see that another thread already obtained a new token (single-flight).
    generation: u64,
    discovery: Option<Arc<Discovery>>,
    /// Client credentials in use, with the issuer they belong to.
    client: Option<(String, ClientAuth)>,
    /// The DPoP key (RFC 9449), created when a flow first needs one.
    dpop_key: Option<Arc<DpopKey>>,
    /// The last nonce the authorization server supplied (RFC 9449 §8).
    dpop_nonce_as: Option<String>,
    /// The last nonce the resource server supplied (RFC 9449 §9).
    dpop_nonce_rs: Option<String>,
    /// A token this client found unusable (its refresh was refused); storage may still hold
    /// it, and it must not be adopted back from there.
    stale: Option<AccessToken>,
}

struct Inner {
    config: ClientConfig,
    redirect_uri: String,
    resource_key: String,
    http: Arc<dyn HttpClient>,
    storage: Arc<dyn TokenStorage>,
    redirect: Arc<dyn RedirectHandler>,
    observer: Option<Arc<dyn TraceObserver>>,
    metadata_cache: Option<Arc<MetadataCache>>,
    session: Mutex<Session>,
    /// Held while acquiring a token (authorization or refresh), never while sending MCP
    /// requests.
    flow: Mutex<()>,
}

/// The MCP authorization client. Cheap to clone (shared state); `Send + Sync`: share one
/// client between threads.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server_url", &self.inner.config.server_url)
            .field("grant", &self.inner.config.grant)
            .finish_non_exhaustive()
    }
}

enum Acquired {
    /// Another thread replaced the token while we waited.
    ByOther,
    /// We obtained a token.
    Obtained,
}

impl Client {
    /// Start building a client for the MCP server at `server_url`.
    pub fn builder(server_url: &str) -> ClientBuilder {
        ClientBuilder::new(server_url)
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The redirect URI in use.
    pub fn redirect_uri(&self) -> &str {
        &self.inner.redirect_uri
    }

    /// The storage key of this server's tokens (its canonical resource URL).
    pub fn resource_key(&self) -> &str {
        &self.inner.resource_key
    }

    /// Send `request` with the bearer token, running the authorization flow on 401 and on a
    /// 403 `insufficient_scope` step-up challenge (SEP-2350), then retrying.
    ///
    /// At most [`ClientConfig::max_authorizations`] tokens are acquired per request. A 403
    /// without `insufficient_scope` is returned as a response (its challenge captured).
    ///
    /// # Errors
    /// [`Error::Unauthorized`] when the server still refuses after the allowed
    /// authorizations (the last challenge is in the error); any flow error otherwise.
    pub fn send(&self, request: http::Request<Vec<u8>>) -> Result<Response> {
        let inner = &*self.inner;
        let (parts, body) = request.into_parts();
        let mut authorizations = 0u32;
        let mut last_challenge: Option<CapturedChallenge> = None;
        // Bounded even if other threads keep replacing the token.
        let max_rounds = inner.config.max_authorizations.saturating_mul(2) + 2;
        for _ in 0..max_rounds {
            let (token, generation) = inner.usable_token()?;
            let mut req = http::Request::from_parts(parts.clone(), body.clone());
            if let Some(t) = &token {
                inner.authorize_request(&mut req, t)?;
            }
            let url = req.uri().to_string();
            let method = req.method().to_string();
            let started = Instant::now();
            let response = inner.http.execute(req)?;
            let status = response.status().as_u16();
            inner.emit(
                Step::McpRequest,
                Some(&method),
                Some(&url),
                Some(status),
                started,
                if status == 401 || status == 403 {
                    Outcome::Fallback
                } else {
                    Outcome::Ok
                },
                if token.is_some() {
                    "with bearer token"
                } else {
                    "without token"
                },
            );
            // RFC 9449 §9: the resource server demands a nonce in the proof; retry with it
            // (no new token needed).
            if token.as_ref().is_some_and(|t| t.is_dpop()) {
                if let Some(nonce) = dpop::demanded_nonce(&response) {
                    let mut s = inner.lock_session();
                    if s.dpop_nonce_rs.as_deref() != Some(nonce.as_str()) {
                        s.dpop_nonce_rs = Some(nonce);
                        continue;
                    }
                }
            }
            if status != 401 && status != 403 {
                let (p, b) = response.into_parts();
                return Ok(Response {
                    status,
                    headers: p.headers,
                    body: b,
                    challenge: last_challenge,
                    authorizations,
                });
            }
            let captured = CapturedChallenge::from_response(status, response.headers());
            if status == 403 && !captured.is_step_up() {
                let (p, b) = response.into_parts();
                return Ok(Response {
                    status,
                    headers: p.headers,
                    body: b,
                    challenge: Some(captured),
                    authorizations,
                });
            }
            if authorizations >= inner.config.max_authorizations {
                return Err(Error::Unauthorized {
                    message: format!(
                        "{} still answers {status} after {authorizations} authorization(s){}",
                        public_url(&url),
                        captured
                            .oauth()
                            .map(|o| format!(": {o}"))
                            .unwrap_or_default()
                    ),
                    status,
                    oauth: captured.oauth().map(Box::new),
                    www_authenticate: captured.www_authenticate.clone(),
                });
            }
            match inner.acquire(generation, token.as_deref(), &captured)? {
                Acquired::Obtained => authorizations += 1,
                Acquired::ByOther => {}
            }
            last_challenge = Some(captured);
        }
        Err(Error::Unauthorized {
            message: "gave up: the token kept being replaced by concurrent requests".to_owned(),
            status: last_challenge.as_ref().map_or(401, |c| c.status),
            oauth: last_challenge
                .as_ref()
                .and_then(CapturedChallenge::oauth)
                .map(Box::new),
            www_authenticate: last_challenge
                .map(|c| c.www_authenticate)
                .unwrap_or_default(),
        })
    }

    /// POST a JSON-RPC message to the MCP endpoint (`Content-Type: application/json`,
    /// `Accept: application/json, text/event-stream`) through [`Client::send`].
    pub fn post_json(&self, body: impl Into<Vec<u8>>) -> Result<Response> {
        let request = http::Request::post(self.inner.config.server_url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, MCP_ACCEPT)
            .body(body.into())
            .map_err(|e| Error::invalid_argument("request", e.to_string()))?;
        self.send(request)
    }

    /// One unauthenticated request to the MCP endpoint (an `initialize` POST), returning the
    /// status and the parsed challenge: a diagnostic.
    pub fn probe(&self) -> Result<ProbeResult> {
        self.inner.probe()
    }

    /// Run discovery (PRM, then AS metadata) and return what was found. Uses the challenge of
    /// an unauthenticated probe for the `resource_metadata` URL.
    pub fn discover(&self) -> Result<Arc<Discovery>> {
        let probe = self.inner.probe()?;
        let d = Arc::new(self.inner.discover(probe.challenge.as_ref())?);
        self.inner.lock_session().discovery = Some(d.clone());
        Ok(d)
    }

    /// A valid access token, refreshing or authorizing if needed.
    pub fn access_token(&self) -> Result<AccessToken> {
        let inner = &*self.inner;
        for _ in 0..3 {
            let (token, generation) = inner.usable_token()?;
            if let Some(t) = token {
                return Ok(t.access_token.clone());
            }
            let probe = inner.probe()?;
            let captured = probe.challenge.unwrap_or(CapturedChallenge {
                status: probe.status,
                www_authenticate: Vec::new(),
                challenges: Vec::new(),
                bearer: None,
            });
            inner.acquire(generation, None, &captured)?;
        }
        Err(Error::Internal {
            message: "no token after authorization".to_owned(),
        })
    }

    /// The access token a host should attach to a request it sends itself: loaded from
    /// storage and refreshed when due (one refresh for all threads), never a new
    /// authorization. `None` when no usable token is held.
    ///
    /// Hosts that send their own MCP requests (an `httpx` auth hook, a proxy) use this with
    /// [`Client::authorize_after`]; hosts that let mcp-auth send use [`Client::send`].
    pub fn current_token(&self) -> Result<Option<AccessToken>> {
        let (token, _) = self.inner.usable_token()?;
        Ok(token.map(|t| t.access_token.clone()))
    }

    /// What [`Client::send`] does when the server refuses a request, for hosts that send
    /// requests themselves: given the status (401 or 403), the `WWW-Authenticate` values and
    /// the token that was rejected, refresh or authorize (step-up with the SEP-2350 union on
    /// 403 `insufficient_scope`; single-flight across threads) and return the token to retry
    /// with. `Ok(None)` for a 403 that is not a step-up challenge (nothing to do).
    ///
    /// If another thread already replaced the rejected token, that newer token is returned
    /// without a new authorization. The host bounds its own retries.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another status; any flow error.
    pub fn authorize_after(
        &self,
        status: u16,
        www_authenticate: &[String],
        rejected: Option<&AccessToken>,
    ) -> Result<Option<AccessToken>> {
        if status != 401 && status != 403 {
            return Err(Error::invalid_argument(
                "status",
                format!("{status} is not a 401 or 403 challenge"),
            ));
        }
        let inner = &*self.inner;
        let captured = CapturedChallenge::from_values(status, www_authenticate);
        if status == 403 && !captured.is_step_up() {
            return Ok(None);
        }
        let (current, generation) = inner.usable_token()?;
        if let (Some(t), Some(r)) = (&current, rejected) {
            if t.access_token != *r {
                return Ok(Some(t.access_token.clone()));
            }
        }
        inner.acquire(generation, current.as_deref(), &captured)?;
        let s = inner.lock_session();
        Ok(s.token.as_ref().map(|t| t.access_token.clone()))
    }

    /// The current token's scope, if a token is held.
    pub fn granted_scope(&self) -> Option<String> {
        self.inner
            .lock_session()
            .token
            .as_ref()
            .and_then(|t| t.scope.clone())
    }

    /// Forget the tokens of this server, in memory and in storage. Client registrations are
    /// kept.
    pub fn logout(&self) -> Result<()> {
        let inner = &*self.inner;
        let _flow = inner.lock_flow();
        {
            let mut s = inner.lock_session();
            s.token = None;
            s.loaded = true;
            s.generation += 1;
        }
        inner.storage.remove_tokens(&inner.resource_key)
    }
}

impl Inner {
    fn lock_session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_flow(&self) -> MutexGuard<'_, ()> {
        self.flow.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        step: Step,
        method: Option<&str>,
        url: Option<&str>,
        status: Option<u16>,
        started: Instant,
        outcome: Outcome,
        detail: impl Into<String>,
    ) {
        if let Some(o) = &self.observer {
            o.on_event(&TraceEvent {
                step,
                method: method.map(str::to_owned),
                url: url.map(public_url),
                status,
                duration: started.elapsed(),
                outcome,
                detail: detail.into(),
            });
        }
    }

    fn now(&self) -> u64 {
        token::now_unix()
    }

    /// The token to send, refreshing it first when it is about to expire. Returns the token
    /// generation it belongs to.
    fn usable_token(&self) -> Result<(Option<Arc<OAuthToken>>, u64)> {
        let (token, generation) = {
            let mut s = self.lock_session();
            if !s.loaded {
                s.loaded = true;
                if let Some(t) = self.storage.get_tokens(&self.resource_key)? {
                    s.token = Some(Arc::new(t));
                    s.generation += 1;
                }
            }
            (s.token.clone(), s.generation)
        };
        let Some(t) = token else {
            return Ok((None, generation));
        };
        if t.is_dpop() && self.lock_session().dpop_key.is_none() {
            // Bound to a key from another process (keys are never stored): unusable.
            return Ok((None, generation));
        }
        // Refresh `refresh_skew` early, but never earlier than half the token's lifetime: a
        // server issuing 60 s tokens with a 60 s skew would otherwise cause a refresh on every
        // request.
        let mut skew = self.config.refresh_skew.as_secs();
        if let Some(lifetime) = t.expires_in {
            skew = skew.min(lifetime / 2);
        }
        if !t.is_expired(self.now(), skew) {
            return Ok((Some(t), generation));
        }
        if t.refresh_token.is_none() {
            // Expired and not refreshable: send without it and let the 401 drive the flow.
            return Ok((None, generation));
        }
        // Single flight: one thread refreshes, the others wait on the flow lock and then see
        // the new generation.
        let _flow = self.lock_flow();
        {
            let s = self.lock_session();
            if s.generation != generation {
                return Ok((s.token.clone(), s.generation));
            }
        }
        // Another process sharing the store may have refreshed already: use its (rotated)
        // tokens rather than replaying our refresh token (RFC 9700 §4.14.2 reuse detection).
        if let Some(adopted) = self.adopt_stored_token(Some(&t))? {
            if !adopted.is_expired(self.now(), skew) {
                let s = self.lock_session();
                return Ok((s.token.clone(), s.generation));
            }
        }
        let t = self.lock_session().token.clone().unwrap_or(t);
        match self.refresh(&t) {
            Ok(()) => {}
            Err(e) if is_refresh_rejection(&e) => {
                // The refresh token no longer works: drop the token from memory only (storage
                // keeps it until a new one replaces it) and let the 401 drive the flow.
                let mut s = self.lock_session();
                s.stale = Some(t.access_token.clone());
                s.token = None;
                s.generation += 1;
            }
            Err(e) => return Err(e),
        }
        let s = self.lock_session();
        Ok((s.token.clone(), s.generation))
    }

    /// Attach the token: `Authorization: Bearer` (RFC 6750 §2.1), or for a DPoP-bound token
    /// `Authorization: DPoP` plus a fresh proof with `ath` and the resource server's nonce
    /// (RFC 9449 §7.1).
    fn authorize_request(&self, req: &mut http::Request<Vec<u8>>, t: &OAuthToken) -> Result<()> {
        let bad = || Error::invalid_response("access token", "not a valid header value", None);
        let secret = t.access_token.secret();
        if t.is_dpop() {
            let key = self.dpop_key()?;
            let nonce = self.lock_session().dpop_nonce_rs.clone();
            let proof = key.proof(
                req.method().as_str(),
                &req.uri().to_string(),
                nonce.as_deref(),
                Some(secret),
            )?;
            req.headers_mut().insert(
                http::header::AUTHORIZATION,
                http::HeaderValue::try_from(format!("DPoP {secret}")).map_err(|_| bad())?,
            );
            req.headers_mut().insert(
                "DPoP",
                http::HeaderValue::try_from(proof).map_err(|_| bad())?,
            );
        } else {
            req.headers_mut().insert(
                http::header::AUTHORIZATION,
                http::HeaderValue::try_from(format!("Bearer {secret}")).map_err(|_| bad())?,
            );
        }
        Ok(())
    }

    fn probe(&self) -> Result<ProbeResult> {
        let body = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-auth-probe","version":"0"}}}"#;
        let request = http::Request::post(self.config.server_url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, MCP_ACCEPT)
            .body(body.to_vec())
            .map_err(|e| Error::invalid_argument("server URL", e.to_string()))?;
        let started = Instant::now();
        let response = self.http.execute(request)?;
        let status = response.status().as_u16();
        let challenge = (status == 401 || status == 403)
            .then(|| CapturedChallenge::from_response(status, response.headers()));
        self.emit(
            Step::Probe,
            Some("POST"),
            Some(&self.config.server_url),
            Some(status),
            started,
            Outcome::Ok,
            match &challenge {
                Some(c) if !c.www_authenticate.is_empty() => {
                    format!("challenge: {}", c.www_authenticate.join(", "))
                }
                Some(_) => "no WWW-Authenticate header".to_owned(),
                None => "no authorization required".to_owned(),
            },
        );
        Ok(ProbeResult { status, challenge })
    }

    fn get_metadata(&self, url: &str) -> Result<http::Response<Vec<u8>>> {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .header(
                "MCP-Protocol-Version",
                self.config.protocol_version.as_str(),
            )
            .body(Vec::new())
            .map_err(|e| Error::invalid_argument("metadata URL", e.to_string()))?;
        self.http.execute(request)
    }

    /// RFC 9728 §3 + SEP-985: the PRM chain, then RFC 8414 §3 / OIDC Discovery: the AS chain.
    fn discover(&self, challenge: Option<&CapturedChallenge>) -> Result<Discovery> {
        let server_url = self.config.server_url.as_str();
        let header_url = challenge.and_then(CapturedChallenge::resource_metadata);

        // --- Protected resource metadata (RFC 9728 §3.1, SEP-985 order).
        let mut prm: Option<(ProtectedResourceMetadata, String)> = None;
        let mut server_error: Option<u16> = None;
        let mut transport_error: Option<Error> = None;
        let prm_candidates =
            discovery::build_protected_resource_metadata_discovery_urls(header_url, server_url);
        let prm_key = self.metadata_cache.as_ref().map(|_| {
            cache::chain_key(
                &format!("prm {server_url}"),
                &self.config.protocol_version,
                &prm_candidates,
            )
        });
        let (prm_candidates, mut prefetched, prm_cached) =
            self.cached_chain(prm_key.as_deref(), prm_candidates);
        // A `resource_metadata` URL from the challenge is fetched alone; only the SEP-985
        // fallbacks after it may be probed together.
        let concurrent_from = usize::from(header_url.is_some_and(|u| !u.is_empty()));
        for (i, url) in prm_candidates.iter().enumerate() {
            let url = url.clone();
            if i == concurrent_from && self.config.concurrent_discovery && !prm_cached {
                self.prefetch(
                    "protected resource metadata",
                    &prm_candidates[i..],
                    &mut prefetched[i..],
                );
            }
            let started = Instant::now();
            if let Err(e) = checks::require_secure_url("protected resource metadata", &url) {
                self.emit(
                    Step::ProtectedResourceMetadata,
                    Some("GET"),
                    Some(&url),
                    None,
                    started,
                    Outcome::Fallback,
                    e.to_string(),
                );
                continue;
            }
            let fetched = match prefetched[i].take() {
                Some(r) => r,
                None => self.get_metadata(&url),
            };
            let response = match fetched {
                Ok(r) => r,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::ResponseTooLarge
                    ) =>
                {
                    self.emit(
                        Step::ProtectedResourceMetadata,
                        Some("GET"),
                        Some(&url),
                        None,
                        started,
                        Outcome::Fallback,
                        e.to_string(),
                    );
                    transport_error = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let status = response.status().as_u16();
            if status == 200 {
                match ProtectedResourceMetadata::from_json(response.body()) {
                    Ok(m) => {
                        // RFC 9728 §3.3: the metadata must be for this resource; a mismatch
                        // stops the flow before any authorization request.
                        if let Err(e) = checks::validate_resource_match(server_url, &m.resource) {
                            self.emit(
                                Step::ProtectedResourceMetadata,
                                Some("GET"),
                                Some(&url),
                                Some(status),
                                started,
                                Outcome::Failed,
                                e.to_string(),
                            );
                            return Err(e);
                        }
                        self.emit(
                            Step::ProtectedResourceMetadata,
                            Some("GET"),
                            Some(&url),
                            Some(status),
                            started,
                            Outcome::Ok,
                            format!(
                                "resource {}, authorization servers {}",
                                m.resource,
                                m.authorization_servers.join(" ")
                            ),
                        );
                        if let (Some(c), Some(k), false) =
                            (&self.metadata_cache, &prm_key, prm_cached)
                        {
                            c.put(k, &url, response.body(), response.headers());
                        }
                        prm = Some((m, url));
                        break;
                    }
                    Err(e) => {
                        self.emit(
                            Step::ProtectedResourceMetadata,
                            Some("GET"),
                            Some(&url),
                            Some(status),
                            started,
                            Outcome::Fallback,
                            e.to_string(),
                        );
                    }
                }
            } else {
                if discovery::is_prm_server_error(status) {
                    server_error = Some(status);
                }
                self.emit(
                    Step::ProtectedResourceMetadata,
                    Some("GET"),
                    Some(&url),
                    Some(status),
                    started,
                    Outcome::Fallback,
                    "not served, trying the next candidate",
                );
            }
        }
        if prm.is_none() {
            if let Some(status) = server_error {
                return Err(Error::Discovery {
                    message: format!("Protected resource metadata request failed: HTTP {status}"),
                    status: Some(status),
                });
            }
            if let Some(e) = transport_error {
                return Err(e);
            }
        }

        // --- Authorization server selection.
        let authorization_server = match &prm {
            Some((m, _)) => Some(self.select_authorization_server(&m.authorization_servers)?),
            None => None,
        };
        let legacy_origin = origin_of(server_url)?;
        let expected_issuer = authorization_server
            .clone()
            .unwrap_or_else(|| legacy_origin.clone());

        // --- Authorization server metadata (RFC 8414 §3.1, OIDC Discovery §4).
        let mut metadata: Option<(OAuthMetadata, String)> = None;
        // The status that stopped metadata discovery (201, 204, 5xx), for the error message.
        let mut stopped_by: Option<u16> = None;
        let as_candidates = discovery::build_oauth_authorization_server_metadata_discovery_urls(
            authorization_server.as_deref(),
            server_url,
        );
        for url in &as_candidates {
            checks::require_secure_url("authorization server metadata", url)?;
        }
        let as_key = self.metadata_cache.as_ref().map(|_| {
            cache::chain_key(
                &format!(
                    "asm {server_url} {}",
                    authorization_server.as_deref().unwrap_or("-")
                ),
                &self.config.protocol_version,
                &as_candidates,
            )
        });
        let (as_candidates, mut prefetched, as_cached) =
            self.cached_chain(as_key.as_deref(), as_candidates);
        if self.config.concurrent_discovery && !as_cached {
            self.prefetch(
                "authorization server metadata",
                &as_candidates,
                &mut prefetched,
            );
        }
        for (i, url) in as_candidates.iter().enumerate() {
            let url = url.clone();
            let started = Instant::now();
            let response = match prefetched[i].take() {
                Some(r) => r?,
                None => self.get_metadata(&url)?,
            };
            let status = response.status().as_u16();
            match status {
                200 => match OAuthMetadata::from_json(response.body()) {
                    Ok(m) => {
                        // RFC 8414 §3.3: the issuer must be the one the metadata was requested
                        // for. On the 2025-03-26 legacy path no issuer was named: the metadata
                        // URL comes from the MCP server's origin, and servers of that era publish
                        // issuers such as `https://host/oauth`. There the issuer must be on the
                        // server's own origin (it cannot point credentials elsewhere).
                        let check = if authorization_server.is_some() {
                            checks::validate_metadata_issuer(&m, &expected_issuer)
                        } else if checks::issuers_match(&m.issuer, &expected_issuer)
                            || origin_of(&m.issuer).ok().as_deref() == Some(legacy_origin.as_str())
                        {
                            Ok(())
                        } else {
                            checks::validate_metadata_issuer(&m, &expected_issuer)
                        };
                        if let Err(e) = check {
                            self.emit(
                                Step::AuthorizationServerMetadata,
                                Some("GET"),
                                Some(&url),
                                Some(status),
                                started,
                                Outcome::Failed,
                                e.to_string(),
                            );
                            return Err(e);
                        }
                        self.emit(
                            Step::AuthorizationServerMetadata,
                            Some("GET"),
                            Some(&url),
                            Some(status),
                            started,
                            Outcome::Ok,
                            format!("issuer {}", m.issuer),
                        );
                        if let (Some(c), Some(k), false) =
                            (&self.metadata_cache, &as_key, as_cached)
                        {
                            c.put(k, &url, response.body(), response.headers());
                        }
                        metadata = Some((m, url));
                        break;
                    }
                    Err(e) => self.emit(
                        Step::AuthorizationServerMetadata,
                        Some("GET"),
                        Some(&url),
                        Some(status),
                        started,
                        Outcome::Fallback,
                        e.to_string(),
                    ),
                },
                300..=499 => self.emit(
                    Step::AuthorizationServerMetadata,
                    Some("GET"),
                    Some(&url),
                    Some(status),
                    started,
                    Outcome::Fallback,
                    "not served, trying the next candidate",
                ),
                _ => {
                    self.emit(
                        Step::AuthorizationServerMetadata,
                        Some("GET"),
                        Some(&url),
                        Some(status),
                        started,
                        Outcome::Fallback,
                        "server error, stopping metadata discovery",
                    );
                    stopped_by = Some(status);
                    break;
                }
            }
        }

        let (authorization_endpoint, token_endpoint, registration_endpoint) = match &metadata {
            Some((m, _)) => (
                m.authorization_endpoint.clone(),
                m.token_endpoint.clone(),
                m.registration_endpoint.clone(),
            ),
            None if authorization_server.is_none() => (
                // MCP 2025-03-26 §2.3.3: default endpoints on the server origin.
                format!("{legacy_origin}/authorize"),
                format!("{legacy_origin}/token"),
                Some(format!("{legacy_origin}/register")),
            ),
            None => {
                return Err(Error::Discovery {
                    message: match stopped_by {
                        Some(st) => format!(
                            "Authorization server metadata request failed: HTTP {st} from {}",
                            authorization_server.as_deref().unwrap_or_default()
                        ),
                        None => format!(
                            "Authorization server {} publishes no RFC 8414 or OpenID Connect metadata",
                            authorization_server.as_deref().unwrap_or_default()
                        ),
                    },
                    status: stopped_by,
                });
            }
        };
        checks::require_secure_url("authorization endpoint", &authorization_endpoint)?;
        checks::require_secure_url("token endpoint", &token_endpoint)?;
        if let Some(r) = &registration_endpoint {
            checks::require_secure_url("registration endpoint", r)?;
        }
        if self.config.grant == Grant::AuthorizationCode && self.config.require_pkce_s256 {
            if let Some((m, _)) = &metadata {
                let s256 = m
                    .code_challenge_methods_supported
                    .as_ref()
                    .is_some_and(|v| v.iter().any(|x| x == "S256"));
                if !s256 {
                    return Err(Error::Unsupported {
                        message: format!(
                            "Authorization server {} does not list S256 in code_challenge_methods_supported; MCP clients must refuse to proceed without PKCE",
                            m.issuer
                        ),
                    });
                }
            }
        }
        let resource = match &prm {
            Some((m, _)) => Some(checks::resource_param_for(server_url, Some(m))?),
            None if checks::should_include_resource_param(
                Some(&self.config.protocol_version),
                false,
            ) =>
            {
                Some(self.resource_key.clone())
            }
            None => None,
        };
        let dpop = match self.config.dpop {
            DpopMode::Always => true,
            DpopMode::Never => false,
            DpopMode::Auto => {
                challenge.is_some_and(|c| c.challenges.iter().any(|ch| ch.is_scheme("DPoP")))
                    || prm
                        .as_ref()
                        .is_some_and(|(m, _)| m.dpop_bound_access_tokens_required == Some(true))
            }
        };
        let issuer = match &metadata {
            Some((m, _)) => m.issuer.clone(),
            None => expected_issuer,
        };
        let (protected_resource, protected_resource_url) = match prm {
            Some((m, u)) => (Some(m), Some(u)),
            None => (None, None),
        };
        let (metadata, metadata_url) = match metadata {
            Some((m, u)) => (Some(m), Some(u)),
            None => (None, None),
        };
        Ok(Discovery {
            protected_resource,
            protected_resource_url,
            authorization_server,
            metadata,
            metadata_url,
            issuer,
            authorization_endpoint,
            token_endpoint,
            registration_endpoint,
            resource,
            dpop,
        })
    }

    /// The candidates to walk and their already-fetched responses: on a cache hit, the one
    /// cached winner with its body as a `200`; otherwise the chain, nothing fetched yet.
    #[allow(clippy::type_complexity)]
    fn cached_chain(
        &self,
        key: Option<&str>,
        candidates: Vec<String>,
    ) -> (
        Vec<String>,
        Vec<Option<Result<http::Response<Vec<u8>>>>>,
        bool,
    ) {
        let hit = match (&self.metadata_cache, key) {
            (Some(c), Some(k)) => c.get(k),
            _ => None,
        };
        match hit {
            Some(doc) => {
                let response = http::Response::builder()
                    .status(200)
                    .body(doc.body.to_vec())
                    .map_err(|e| Error::invalid_response("cached metadata", e.to_string(), None));
                (vec![doc.url], vec![Some(response)], true)
            }
            None => {
                let n = candidates.len();
                (candidates, (0..n).map(|_| None).collect(), false)
            }
        }
    }

    /// Fetch the (secure) `urls` concurrently, one thread each, into `out` (same order).
    /// Nothing happens for fewer than two candidates.
    fn prefetch(
        &self,
        what: &'static str,
        urls: &[String],
        out: &mut [Option<Result<http::Response<Vec<u8>>>>],
    ) {
        let eligible: Vec<usize> = (0..urls.len())
            .filter(|&i| checks::require_secure_url(what, &urls[i]).is_ok())
            .collect();
        if eligible.len() < 2 {
            return;
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = eligible[1..]
                .iter()
                .map(|&i| {
                    let url = urls[i].as_str();
                    (i, s.spawn(move || self.get_metadata(url)))
                })
                .collect();
            out[eligible[0]] = Some(self.get_metadata(&urls[eligible[0]]));
            for (i, h) in handles {
                out[i] = Some(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
        });
    }

    fn select_authorization_server(&self, servers: &[String]) -> Result<String> {
        if let Some(pref) = &self.config.preferred_issuer {
            if let Some(s) = servers.iter().find(|s| checks::issuers_match(s, pref)) {
                return Ok(s.clone());
            }
        }
        servers.first().cloned().ok_or_else(|| Error::Discovery {
            message: "Protected resource metadata lists no authorization server".to_owned(),
            status: None,
        })
    }

    /// If storage holds a different token than `current` (another process refreshed or
    /// re-authorized), adopt it: replace the in-memory token, bump the generation, and return
    /// it. Called with the flow lock held.
    fn adopt_stored_token(&self, current: Option<&OAuthToken>) -> Result<Option<Arc<OAuthToken>>> {
        let Some(stored) = self.storage.get_tokens(&self.resource_key)? else {
            return Ok(None);
        };
        if current.is_some_and(|c| stored.access_token == c.access_token) {
            return Ok(None);
        }
        let mut s = self.lock_session();
        if s.stale.as_ref() == Some(&stored.access_token) {
            return Ok(None);
        }
        let stored = Arc::new(stored);
        s.token = Some(stored.clone());
        s.generation += 1;
        Ok(Some(stored))
    }

    /// Acquire a new token after a 401/403: a refresh when the rejected token is refreshable
    /// (401 only), else the full flow. Single flight with the generation check.
    fn acquire(
        &self,
        generation: u64,
        rejected: Option<&OAuthToken>,
        challenge: &CapturedChallenge,
    ) -> Result<Acquired> {
        let _flow = self.lock_flow();
        if self.lock_session().generation != generation {
            return Ok(Acquired::ByOther);
        }
        let step_up = challenge.is_step_up();
        if !step_up && self.adopt_stored_token(rejected)?.is_some() {
            // Another process sharing the store holds newer tokens: try those first.
            return Ok(Acquired::ByOther);
        }
        if let (false, Some(t)) = (step_up, rejected) {
            if t.refresh_token.is_some() {
                // A fresh process has no discovery yet: discover with this challenge, then
                // refresh instead of running a (possibly interactive) authorization.
                let cached = self.lock_session().discovery.is_some();
                if !cached {
                    let d = Arc::new(self.discover(Some(challenge))?);
                    self.lock_session().discovery = Some(d);
                }
                match self.refresh(t) {
                    Ok(()) => return Ok(Acquired::Obtained),
                    Err(e) if is_refresh_rejection(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.authorize(challenge, rejected)?;
        Ok(Acquired::Obtained)
    }

    /// The discovery to use: the cached one for a step-up (the AS does not change), a fresh
    /// one on a 401 (the challenge may name new metadata).
    fn discovery_for(&self, challenge: &CapturedChallenge) -> Result<Arc<Discovery>> {
        if challenge.is_step_up() {
            let cached = self.lock_session().discovery.clone();
            if let Some(d) = cached {
                return Ok(d);
            }
        }
        let d = Arc::new(self.discover(Some(challenge))?);
        self.lock_session().discovery = Some(d.clone());
        Ok(d)
    }

    /// The full flow: discovery, client identity, scope, grant, storage.
    fn authorize(
        &self,
        challenge: &CapturedChallenge,
        previous: Option<&OAuthToken>,
    ) -> Result<()> {
        let discovery = self.discovery_for(challenge)?;
        let started = Instant::now();
        // SEP-835 selection; SEP-2207 offline_access; SEP-2350 union on step-up.
        let selected = scope::get_client_metadata_scopes(
            challenge.scope(),
            discovery.protected_resource.as_ref(),
            discovery.metadata.as_ref(),
            Some(&self.config.client_metadata.grant_types),
        );
        let scope = if challenge.is_step_up() {
            let granted = previous.and_then(|t| t.scope.clone());
            let base = scope::union_scopes(self.config.scope.as_deref(), granted.as_deref());
            scope::union_scopes(base.as_deref(), selected.as_deref())
        } else {
            selected.or_else(|| self.config.scope.clone())
        };
        let scope = scope.filter(|s| !s.trim().is_empty());
        self.emit(
            Step::ScopeSelection,
            None,
            None,
            None,
            started,
            Outcome::Ok,
            match &scope {
                Some(s) => format!("scope \"{s}\""),
                None => "no scope (omitted)".to_owned(),
            },
        );
        let client = self.client_identity(&discovery, scope.as_deref())?;
        let token = match self.config.grant {
            Grant::AuthorizationCode => {
                self.authorization_code(&discovery, &client, scope.as_deref())?
            }
            Grant::ClientCredentials => {
                self.client_credentials(&discovery, &client, scope.as_deref())?
            }
            Grant::JwtBearer => {
                let assertion = self.config.assertion.clone().ok_or_else(|| {
                    Error::invalid_argument("configuration", "no assertion configured")
                })?;
                self.jwt_bearer(&discovery, &client, scope.as_deref(), &assertion)?
            }
            Grant::EnterpriseManaged => {
                let id_jag = self.exchange_for_id_jag(&discovery, scope.as_deref())?;
                self.jwt_bearer(&discovery, &client, scope.as_deref(), &id_jag)?
            }
        };
        self.store_token(token);
        Ok(())
    }

    fn store_token(&self, token: OAuthToken) {
        let started = Instant::now();
        if let Err(e) = self.storage.set_tokens(&self.resource_key, &token) {
            // The token works; keep it in memory. The previous stored value is intact
            // (storage writes are atomic).
            self.emit(
                Step::TokenExchange,
                None,
                None,
                None,
                started,
                Outcome::Failed,
                format!("token obtained but not stored: {e}"),
            );
        }
        let mut s = self.lock_session();
        s.token = Some(Arc::new(token));
        s.generation += 1;
    }

    /// Pre-registered > CIMD > stored registration for this issuer > DCR.
    fn client_identity(&self, d: &Discovery, scope: Option<&str>) -> Result<ClientAuth> {
        let started = Instant::now();
        let emit = |detail: String| {
            self.emit(
                Step::ClientIdentity,
                None,
                None,
                None,
                started,
                Outcome::Ok,
                detail,
            )
        };
        if let Some(pre) = &self.config.pre_registered {
            if let Some(iss) = &pre.issuer {
                if !checks::issuers_match(iss, &d.issuer) {
                    return Err(Error::security(
                        crate::error::Check::CredentialIssuer,
                        format!(
                            "Pre-registered client {} belongs to issuer {iss}, not {}",
                            pre.client_id, d.issuer
                        ),
                    ));
                }
            }
            emit(format!(
                "pre-registered client {} ({})",
                pre.client_id, pre.method
            ));
            return Ok(pre.auth());
        }
        let cimd = self.config.client_metadata_url.as_deref();
        if registration::should_use_client_metadata_url(d.metadata.as_ref(), cimd) {
            let url = cimd.unwrap_or_default().to_owned();
            emit(format!("client ID metadata document {url}"));
            return Ok(ClientAuth {
                client_id: url,
                method: TokenEndpointAuthMethod::None,
                client_secret: None,
                signing_key: None,
            });
        }
        // SEP-2352: reuse a registration only with the issuer it was made with.
        {
            let s = self.lock_session();
            if let Some((iss, auth)) = &s.client {
                if checks::issuers_match(iss, &d.issuer) {
                    emit(format!("registered client {} (in memory)", auth.client_id));
                    return Ok(auth.clone());
                }
            }
        }
        if let Some(info) = self.storage.get_client_info(&d.issuer)? {
            if registration::credentials_match_issuer(&info, &d.issuer, cimd) {
                let auth = ClientAuth::from_client_info(&info)?;
                emit(format!("registered client {} (stored)", auth.client_id));
                self.lock_session().client = Some((d.issuer.clone(), auth.clone()));
                return Ok(auth);
            }
        }
        self.register(d, scope)
    }

    /// RFC 7591 dynamic client registration.
    fn register(&self, d: &Discovery, scope: Option<&str>) -> Result<ClientAuth> {
        let started = Instant::now();
        let Some(endpoint) = &d.registration_endpoint else {
            return Err(Error::Registration {
                message: format!(
                    "Authorization server {} does not support dynamic client registration (no registration_endpoint); configure pre-registered credentials or a client metadata URL",
                    d.issuer
                ),
                status: None,
                oauth: None,
            });
        };
        let mut md = self.config.client_metadata.clone();
        md.scope = scope.map(str::to_owned);
        let request = registration::create_client_registration_request(
            d.metadata.as_ref(),
            &md,
            &origin_of(endpoint)?,
        )?;
        let url = request.url.clone();
        let response = self.http.execute(request.to_http())?;
        let status = response.status().as_u16();
        let info = match registration::handle_registration_response(&response).and_then(|info| {
            registration::check_registration_usable_with(
                &info,
                &["none", "client_secret_basic", "client_secret_post"],
            )?;
            Ok(info)
        }) {
            Ok(i) => i,
            Err(e) => {
                self.emit(
                    Step::Registration,
                    Some("POST"),
                    Some(&url),
                    Some(status),
                    started,
                    Outcome::Failed,
                    e.to_string(),
                );
                return Err(e);
            }
        };
        let mut info = info;
        // Bind the registration to the issuer it was made with (SEP-2352). On the legacy
        // path without metadata, only when the registration endpoint is on the issuer origin.
        let hit_issuer = d.metadata.is_some() || origin_of(&url).ok() == origin_of(&d.issuer).ok();
        if hit_issuer {
            info.issuer = Some(d.issuer.clone());
        }
        let auth = ClientAuth::from_client_info(&info)?;
        self.emit(
            Step::Registration,
            Some("POST"),
            Some(&url),
            Some(status),
            started,
            Outcome::Ok,
            format!("client {} ({})", auth.client_id, auth.method),
        );
        if let Err(e) = self.storage.set_client_info(&d.issuer, &info) {
            self.emit(
                Step::Registration,
                None,
                None,
                None,
                started,
                Outcome::Failed,
                format!("registration not stored: {e}"),
            );
        }
        self.lock_session().client = Some((d.issuer.clone(), auth.clone()));
        Ok(auth)
    }

    fn token_request(
        &self,
        step: Step,
        mut request: TokenRequest,
        client: &ClientAuth,
        audience: &str,
        scope: Option<&str>,
        dpop: bool,
    ) -> Result<OAuthToken> {
        client.apply(&mut request, audience)?;
        // The secrets this request carries: a server that echoes the request into its error
        // body must not get them into our error messages or traces.
        let secrets: Vec<Zeroizing<String>> = request
            .form
            .iter()
            .filter(|(k, _)| SECRET_FORM_FIELDS.contains(&k.as_str()))
            .map(|(_, v)| Zeroizing::new(v.clone()))
            .chain(
                request
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .filter_map(|(_, v)| {
                        v.split_once(' ').map(|(_, c)| Zeroizing::new(c.to_owned()))
                    }),
            )
            .filter(|v| v.len() >= 4)
            .collect();
        let started = Instant::now();
        let url = request.url.clone();
        let response = if dpop {
            self.send_with_dpop_nonce_retry(&request, &url)?
        } else {
            self.http.execute(request.to_http()?)?
        };
        drop(request);
        let status = response.status().as_u16();
        match token::handle_token_response(&response, scope).map_err(|e| redact_echoed(e, &secrets))
        {
            Ok(t) => {
                self.emit(
                    step,
                    Some("POST"),
                    Some(&url),
                    Some(status),
                    started,
                    Outcome::Ok,
                    format!(
                        "{} token, expires in {}, scope {}",
                        t.token_type,
                        t.expires_in
                            .map(|s| format!("{s}s"))
                            .unwrap_or_else(|| "(unspecified)".to_owned()),
                        t.scope.as_deref().unwrap_or("(none)")
                    ),
                );
                Ok(t)
            }
            Err(e) => {
                self.emit(
                    step,
                    Some("POST"),
                    Some(&url),
                    Some(status),
                    started,
                    Outcome::Failed,
                    e.to_string(),
                );
                Err(e)
            }
        }
    }

    /// The DPoP key of this client, created on first use (RFC 9449: one key per client, so
    /// every token it obtains is bound to the same key).
    fn dpop_key(&self) -> Result<Arc<DpopKey>> {
        let mut s = self.lock_session();
        if let Some(k) = &s.dpop_key {
            return Ok(k.clone());
        }
        let k = Arc::new(DpopKey::generate()?);
        s.dpop_key = Some(k.clone());
        Ok(k)
    }

    /// POST a token request with a DPoP proof (RFC 9449 §5), retrying once with the nonce the
    /// authorization server demands (§8) and remembering it for the next request.
    fn send_with_dpop_nonce_retry(
        &self,
        request: &TokenRequest,
        url: &str,
    ) -> Result<http::Response<Vec<u8>>> {
        let key = self.dpop_key()?;
        let mut response = None;
        for _ in 0..2 {
            let nonce = self.lock_session().dpop_nonce_as.clone();
            let proof = key.proof("POST", url, nonce.as_deref(), None)?;
            let mut http_request = request.to_http()?;
            http_request.headers_mut().insert(
                "DPoP",
                http::HeaderValue::try_from(proof).map_err(|_| Error::Internal {
                    message: "DPoP proof is not a header value".to_owned(),
                })?,
            );
            let r = self.http.execute(http_request)?;
            if let Some(n) = r
                .headers()
                .get(dpop::DPOP_NONCE_HEADER)
                .and_then(|v| v.to_str().ok())
            {
                self.lock_session().dpop_nonce_as = Some(n.to_owned());
            }
            let retry = dpop::demanded_nonce(&r).is_some_and(|n| Some(n) != nonce);
            response = Some(r);
            if !retry {
                break;
            }
        }
        response.ok_or_else(|| Error::Internal {
            message: "no token response".to_owned(),
        })
    }

    /// RFC 6749 §4.1 with PKCE, `state`, `resource` and the RFC 9207 `iss` check.
    fn authorization_code(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        scope: Option<&str>,
    ) -> Result<OAuthToken> {
        let request = AuthorizationRequest {
            endpoint: d.authorization_endpoint.clone(),
            client_id: client.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            state: pkce::generate_state(),
            pkce: PkceParameters::generate(),
            resource: d.resource.clone(),
            scope: scope.map(str::to_owned),
        };
        let url = request.url()?;
        let started = Instant::now();
        let context = RedirectContext {
            http: &*self.http,
            redirect_uri: &self.redirect_uri,
        };
        let checked = self.redirect.authorize(&url, &context).and_then(|result| {
            pkce::verify_state(&request.state, result.state.as_deref())?;
            checks::validate_authorization_response_iss(
                result.iss.as_deref(),
                d.metadata.as_ref(),
            )?;
            Ok(result)
        });
        let result = match checked {
            Ok(r) => r,
            Err(e) => {
                self.emit(
                    Step::Authorization,
                    Some("GET"),
                    Some(&d.authorization_endpoint),
                    None,
                    started,
                    Outcome::Failed,
                    e.to_string(),
                );
                return Err(e);
            }
        };
        self.emit(
            Step::Authorization,
            Some("GET"),
            Some(&d.authorization_endpoint),
            None,
            started,
            Outcome::Ok,
            format!(
                "code received, state verified{}",
                if result.iss.is_some() {
                    ", iss verified"
                } else {
                    ""
                }
            ),
        );
        let token_request = TokenRequest::authorization_code(
            &d.token_endpoint,
            &result.code,
            &self.redirect_uri,
            &request.pkce.code_verifier,
            d.resource.as_deref(),
        );
        self.token_request(
            Step::TokenExchange,
            token_request,
            client,
            &d.issuer,
            scope,
            d.dpop,
        )
    }

    /// RFC 7523 §2.1: the assertion is the grant.
    fn jwt_bearer(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        scope: Option<&str>,
        assertion: &Assertion,
    ) -> Result<OAuthToken> {
        let request =
            TokenRequest::jwt_bearer(&d.token_endpoint, assertion, scope, d.resource.as_deref());
        self.token_request(Step::JwtBearer, request, client, &d.issuer, scope, d.dpop)
    }

    /// SEP-990 leg 1: RFC 8693 token exchange at the identity provider, ID token → ID-JAG for
    /// this authorization server (`audience` = its issuer) and resource.
    fn exchange_for_id_jag(&self, d: &Discovery, scope: Option<&str>) -> Result<Assertion> {
        let e = self.config.enterprise.as_ref().ok_or_else(|| {
            Error::invalid_argument("configuration", "no identity provider configured")
        })?;
        let mut request = TokenRequest::id_jag_exchange(
            &e.idp_token_endpoint,
            &e.id_token,
            &d.issuer,
            d.resource.as_deref(),
            scope,
        );
        let idp_client = ClientAuth {
            client_id: e.idp_client_id.clone(),
            method: if e.idp_client_secret.is_some() {
                TokenEndpointAuthMethod::ClientSecretPost
            } else {
                TokenEndpointAuthMethod::None
            },
            client_secret: e.idp_client_secret.clone(),
            signing_key: None,
        };
        idp_client.apply(&mut request, &e.idp_token_endpoint)?;
        let started = Instant::now();
        let response = self.http.execute(request.to_http()?)?;
        let status = response.status().as_u16();
        let result = token::handle_token_exchange_response(&response);
        self.emit(
            Step::TokenExchangeAtIdp,
            Some("POST"),
            Some(&e.idp_token_endpoint),
            Some(status),
            started,
            if result.is_ok() {
                Outcome::Ok
            } else {
                Outcome::Failed
            },
            match &result {
                Ok(_) => format!("ID-JAG issued for {}", d.issuer),
                Err(err) => err.to_string(),
            },
        );
        result
    }

    /// RFC 6749 §4.4.
    fn client_credentials(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        scope: Option<&str>,
    ) -> Result<OAuthToken> {
        let request =
            TokenRequest::client_credentials(&d.token_endpoint, scope, d.resource.as_deref());
        self.token_request(
            Step::ClientCredentials,
            request,
            client,
            &d.issuer,
            scope,
            d.dpop,
        )
    }

    /// RFC 6749 §6, with rotation. Called with the flow lock held.
    fn refresh(&self, current: &OAuthToken) -> Result<()> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::Token {
                message: "no refresh token".to_owned(),
                status: None,
                oauth: None,
            });
        };
        let cached = self.lock_session().discovery.clone();
        let discovery = match cached {
            Some(d) => d,
            None => {
                let d = Arc::new(self.discover(None)?);
                self.lock_session().discovery = Some(d.clone());
                d
            }
        };
        let client = match self.config.pre_registered.as_ref() {
            Some(p) => p.auth(),
            None => {
                let known = self.lock_session().client.clone();
                match known {
                    Some((iss, auth)) if checks::issuers_match(&iss, &discovery.issuer) => auth,
                    _ => match self.storage.get_client_info(&discovery.issuer)? {
                        Some(info)
                            if registration::credentials_match_issuer(
                                &info,
                                &discovery.issuer,
                                self.config.client_metadata_url.as_deref(),
                            ) =>
                        {
                            let auth = ClientAuth::from_client_info(&info)?;
                            self.lock_session().client =
                                Some((discovery.issuer.clone(), auth.clone()));
                            auth
                        }
                        _ => match &self.config.client_metadata_url {
                            Some(u)
                                if registration::should_use_client_metadata_url(
                                    discovery.metadata.as_ref(),
                                    Some(u),
                                ) =>
                            {
                                ClientAuth {
                                    client_id: u.clone(),
                                    method: TokenEndpointAuthMethod::None,
                                    client_secret: None,
                                    signing_key: None,
                                }
                            }
                            _ => {
                                return Err(Error::Token {
                                    message:
                                        "cannot refresh: no client registration for this issuer"
                                            .to_owned(),
                                    status: None,
                                    oauth: Some(Box::new(OAuthErrorResponse {
                                        error: "invalid_client".to_owned(),
                                        ..Default::default()
                                    })),
                                });
                            }
                        },
                    },
                }
            }
        };
        let request = TokenRequest::refresh(
            &discovery.token_endpoint,
            refresh_token,
            discovery.resource.as_deref(),
        );
        let new = self.token_request(
            Step::Refresh,
            request,
            &client,
            &discovery.issuer,
            current.scope.as_deref(),
            // RFC 9449 §5: a DPoP-bound refresh needs a proof from the same key.
            discovery.dpop || current.is_dpop(),
        )?;
        let new = token::carry_over_refresh(new, current);
        self.store_token(new);
        Ok(())
    }
}

/// Form fields of token requests that carry secrets.
const SECRET_FORM_FIELDS: &[&str] = &[
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "client_assertion",
    "assertion",
    "subject_token",
];

/// Replace every occurrence of a request secret (raw or form-encoded) in a token error's
/// message and description with `[redacted]`.
fn redact_echoed(e: Error, secrets: &[Zeroizing<String>]) -> Error {
    let scrub = |text: &mut String| {
        for secret in secrets {
            let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            for needle in [secret.as_str(), encoded.as_str()] {
                if text.contains(needle) {
                    *text = text.replace(needle, "[redacted]");
                }
            }
        }
    };
    match e {
        Error::Token {
            mut message,
            status,
            mut oauth,
        } => {
            scrub(&mut message);
            if let Some(o) = oauth.as_mut() {
                if let Some(d) = o.error_description.as_mut() {
                    scrub(d);
                }
                if let Some(u) = o.error_uri.as_mut() {
                    scrub(u);
                }
            }
            Error::Token {
                message,
                status,
                oauth,
            }
        }
        other => other,
    }
}

/// A refresh the server refused (RFC 6749 §5.2 error, e.g. `invalid_grant`), as opposed to a
/// transport or server failure: the flow falls back to a new authorization.
fn is_refresh_rejection(e: &Error) -> bool {
    match e {
        Error::Token { status, oauth, .. } => {
            oauth.is_some() || status.is_some_and(|s| (400..500).contains(&s))
        }
        _ => false,
    }
}

/// `scheme://host[:port]` with the host lowercased and the default port dropped.
fn origin_of(url: &str) -> Result<String> {
    let u =
        url::Url::parse(url).map_err(|e| Error::invalid_argument("URL", format!("{url}: {e}")))?;
    match u.origin() {
        url::Origin::Tuple(..) => Ok(u.origin().ascii_serialization()),
        url::Origin::Opaque(_) => Err(Error::invalid_argument(
            "URL",
            format!("{url} has no origin"),
        )),
    }
}
