//! The client's configuration and its builder: [`ClientConfig`], [`ClientBuilder`], and the
//! settings they hold ([`Grant`], [`PreRegisteredClient`], [`EnterpriseIdentity`],
//! [`DpopMode`]). [`ClientBuilder::build`] validates the configuration and starts the session.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Client, DEFAULT_PROTOCOL_VERSION};
use crate::authorization::{
    BrowserLaunch, DEFAULT_REDIRECT_URI, HeadlessRedirect, LoopbackBrowser, RedirectHandler,
    UrlHandler,
};
use crate::cache::MetadataCache;
use crate::checks;
use crate::error::{Error, Result};
use crate::http::{HttpClient, HttpConfig, UreqHttpClient};
use crate::metadata::OAuthClientMetadata;
use crate::policy::{CrossOrigin, Policy, PolicyFilter};
use crate::registration;
use crate::secret::{Assertion, ClientSecret};
use crate::session::{Clock, Session};
use crate::storage::{MemoryStorage, TokenStorage};
use crate::token::{self, ClientAuth, SigningKey, TokenEndpointAuthMethod};
use crate::trace::{TraceObserver, Tracer};

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
    /// The device authorization grant (RFC 8628, [`crate::device`]): a headless login where
    /// the user authorizes on another device; needs the authorization server's
    /// `device_authorization_endpoint`.
    DeviceCode,
}

impl Grant {
    pub(crate) fn needs_pre_registration(self) -> bool {
        !matches!(self, Grant::AuthorizationCode | Grant::DeviceCode)
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

    pub(crate) fn auth(&self) -> ClientAuth {
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
    /// How long the store's refresh lease lasts at most (stores that have one: file, Redis; see
    /// docs/fleet.md). Longer than a refresh can take (the HTTP timeout): a holder whose lease
    /// runs out mid-refresh lets another process refresh with the same refresh token. Also how
    /// long a process waits for another's lease before failing with a storage error.
    pub refresh_lease_ttl: Duration,
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
    /// Per-server overrides for authorization servers that deviate (docs/providers.md).
    pub overrides: crate::overrides::ServerOverrides,
    /// The provider profile: detected from the authorization server's host by default.
    pub provider: crate::providers::ProviderChoice,
    /// Addresses server-supplied URLs may reach although the address policy refuses their
    /// class ([`crate::policy`]): host names (`sso.corp.example`, `*.corp.example`), addresses
    /// and CIDR blocks (`10.1.2.3`, `10.0.0.0/8`, `fd00::/8`). Default: none (only public
    /// addresses, and the MCP server's own class).
    pub allowed_addresses: Vec<String>,
    /// What [`Client::send`] does with a request for another origin than the protected
    /// resource's: refuse it (default) or send it without the token.
    pub cross_origin: CrossOrigin,
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    config: ClientConfig,
    http: Option<Arc<dyn HttpClient>>,
    storage: Option<Arc<dyn TokenStorage>>,
    redirect: Option<Arc<dyn RedirectHandler>>,
    on_authorization_url: Option<UrlHandler>,
    observer: Option<Arc<dyn TraceObserver>>,
    metadata_cache: Option<Arc<MetadataCache>>,
    clock: Option<Clock>,
}

impl ClientBuilder {
    pub(crate) fn new(server_url: &str) -> Self {
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
                refresh_lease_ttl: Duration::from_secs(60),
                max_authorizations: 3,
                preferred_issuer: None,
                allow_insecure_server_url: false,
                dpop: DpopMode::Auto,
                assertion: None,
                enterprise: None,
                http: HttpConfig::default(),
                concurrent_discovery: false,
                cache_metadata: false,
                overrides: crate::overrides::ServerOverrides::default(),
                provider: crate::providers::ProviderChoice::Detect,
                allowed_addresses: Vec::new(),
                cross_origin: CrossOrigin::Refuse,
            },
            http: None,
            metadata_cache: None,
            clock: None,
            storage: None,
            redirect: None,
            on_authorization_url: None,
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

    /// Per-server overrides ([`crate::overrides`]); they win over the provider profile's.
    pub fn overrides(mut self, overrides: crate::overrides::ServerOverrides) -> Self {
        self.config.overrides = overrides;
        self
    }

    /// The provider profile ([`crate::providers`]; default: detected from the authorization
    /// server's host).
    pub fn provider(mut self, choice: crate::providers::ProviderChoice) -> Self {
        self.config.provider = choice;
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

    /// Use this redirect handler. Default, for the authorization code grant: the RFC 8252
    /// loopback browser ([`LoopbackBrowser`]) on the configured loopback redirect URI's host,
    /// port and path (bound when an authorization starts), else on an ephemeral port at
    /// `/callback` on 127.0.0.1 (bound when the client is built: the port is part of the
    /// redirect URI registered), opening the system browser and waiting up to
    /// [`DEFAULT_LOOPBACK_TIMEOUT`]; when no browser can be started, the login fails at once
    /// saying so (give a [`LoopbackBrowser`] with a URL handler to show the URL yourself).
    pub fn redirect_handler(mut self, handler: Arc<dyn RedirectHandler>) -> Self {
        self.redirect = Some(handler);
        self
    }

    /// Hand the authorization URL of the default loopback handler to `handler` (with whether
    /// a browser was started on it), so that the host shows it: see
    /// [`LoopbackBrowser::on_url`]. No effect with a handler of your own.
    pub fn on_authorization_url(mut self, handler: UrlHandler) -> Self {
        self.on_authorization_url = Some(handler);
        self
    }

    /// Complete authorizations headless ([`HeadlessRedirect`]): GET the authorization URL
    /// and take the code from its redirect, for auto-approving servers, automation and tests.
    /// A server that shows a login page fails with an error saying so.
    pub fn headless(self) -> Self {
        self.redirect_handler(Arc::new(HeadlessRedirect::new()))
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

    /// Let server-supplied URLs reach `entry` (a host name, `*.domain`, an address or a CIDR
    /// block) although the address policy refuses its class (see
    /// [`ClientConfig::allowed_addresses`]).
    pub fn allow_address(mut self, entry: impl Into<String>) -> Self {
        self.config.allowed_addresses.push(entry.into());
        self
    }

    /// What [`Client::send`] does with a request for another origin (see
    /// [`ClientConfig::cross_origin`]).
    pub fn cross_origin(mut self, mode: CrossOrigin) -> Self {
        self.config.cross_origin = mode;
        self
    }

    /// Receive a [`TraceEvent`](crate::trace::TraceEvent) per step.
    pub fn observer(mut self, observer: Arc<dyn TraceObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Read the time from `now_unix` (seconds since the Unix epoch) instead of the system
    /// clock: token expiry (`expires_at`, when to refresh) follows it. For hosts with their own
    /// time source and for tests that let tokens expire without waiting.
    pub fn clock(mut self, now_unix: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(now_unix));
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
        let configured = config
            .client_metadata
            .redirect_uris
            .as_ref()
            .and_then(|v| v.first().cloned());
        let redirect: Arc<dyn RedirectHandler> = match self.redirect {
            Some(handler) => handler,
            None if config.grant == Grant::AuthorizationCode => {
                let browser = default_loopback(configured.as_deref())?;
                Arc::new(match self.on_authorization_url {
                    Some(show) => browser.on_url(show),
                    None => browser,
                })
            }
            // The other grants send nobody to an authorization endpoint: the handler only
            // shows a device code (to the log), if the grant has one.
            None => Arc::new(HeadlessRedirect::new()),
        };
        // The redirect URI: the handler's (e.g. a bound loopback port) wins, then the
        // configured one, then the default.
        let handler_uri = redirect.redirect_uri();
        let redirect_uri = handler_uri
            .or(configured)
            .unwrap_or_else(|| DEFAULT_REDIRECT_URI.to_owned());
        match &mut config.client_metadata.redirect_uris {
            Some(v) if v.first() == Some(&redirect_uri) => {}
            Some(v) => v.insert(0, redirect_uri.clone()),
            None => config.client_metadata.redirect_uris = Some(vec![redirect_uri.clone()]),
        }
        // The grant's grant and response types, unless the metadata name ones that include
        // the grant's own type (explicit members win when they fit the grant).
        let own = match config.grant {
            Grant::ClientCredentials => "client_credentials",
            Grant::JwtBearer | Grant::EnterpriseManaged => token::JWT_BEARER_GRANT_TYPE,
            Grant::DeviceCode => crate::device::DEVICE_CODE_GRANT_TYPE,
            Grant::AuthorizationCode => "authorization_code",
        };
        let default_types = !config.client_metadata.grant_types.iter().any(|g| g == own);
        match config.grant {
            _ if !default_types => {}
            Grant::ClientCredentials => {
                config.client_metadata.grant_types = vec!["client_credentials".to_owned()];
            }
            Grant::JwtBearer | Grant::EnterpriseManaged => {
                config.client_metadata.grant_types = vec![token::JWT_BEARER_GRANT_TYPE.to_owned()];
            }
            Grant::DeviceCode => {
                config.client_metadata.grant_types = vec![
                    crate::device::DEVICE_CODE_GRANT_TYPE.to_owned(),
                    "refresh_token".to_owned(),
                ];
                config.client_metadata.response_types = Vec::new();
            }
            Grant::AuthorizationCode => {}
        }
        config.client_metadata.validate()?;
        let resource_key = checks::resource_url_from_server_url(&config.server_url)?;
        // The identity provider's endpoint is the host's choice, like the server URL.
        let host_given: Vec<&str> = config
            .enterprise
            .iter()
            .map(|e| e.idp_token_endpoint.as_str())
            .collect();
        let policy = Arc::new(Policy::new(
            &config.server_url,
            &host_given,
            &config.allowed_addresses,
            self.http.is_none(),
        )?);
        let http: Arc<dyn HttpClient> = match self.http {
            Some(h) => h,
            None => Arc::new(UreqHttpClient::with_address_filter(
                config.http.clone(),
                Arc::new(PolicyFilter(policy.clone())),
            )?),
        };
        let metadata_cache = if config.cache_metadata {
            Some(self.metadata_cache.unwrap_or_else(MetadataCache::shared))
        } else {
            None
        };
        Ok(Client::from_session(Session::new(
            config,
            redirect_uri,
            resource_key,
            http,
            self.storage
                .unwrap_or_else(|| Arc::new(MemoryStorage::new())),
            redirect,
            Tracer::new(self.observer),
            metadata_cache,
            self.clock.unwrap_or_else(|| Arc::new(token::now_unix)),
            policy,
        )))
    }
}

/// How long the default [`LoopbackBrowser`] waits for the authorization redirect.
pub const DEFAULT_LOOPBACK_TIMEOUT: Duration = Duration::from_secs(300);

/// The default redirect handler of the authorization code grant (RFC 8252 §7.3): a loopback
/// listener on the configured redirect URI when it is a loopback `http` one (its port, or an
/// ephemeral one when it names none, and its path), else on an ephemeral port at `/callback`,
/// and the system browser.
fn default_loopback(configured: Option<&str>) -> Result<LoopbackBrowser> {
    let timeout = DEFAULT_LOOPBACK_TIMEOUT;
    let Some(uri) = configured else {
        return LoopbackBrowser::bind(0, timeout, BrowserLaunch::Open);
    };
    let parsed = url::Url::parse(uri).ok();
    let loopback = parsed.as_ref().filter(|u| {
        u.scheme() == "http"
            && matches!(u.host_str(), Some("127.0.0.1" | "localhost"))
            && u.query().is_none()
            && u.fragment().is_none()
    });
    let Some(u) = loopback else {
        return Err(Error::invalid_argument(
            "redirect handler",
            format!(
                "the redirect URI {uri} is not a loopback http URI, so the default handler (a loopback listener and the system browser) cannot receive on it: give a redirect handler that does"
            ),
        ));
    };
    let host = u.host_str().unwrap_or("127.0.0.1");
    match u.port() {
        // A fixed port is bound when an authorization starts (clients with a stored token
        // hold none), an ephemeral one now (its number is part of the redirect URI).
        Some(port) => LoopbackBrowser::deferred(host, port, u.path(), timeout, BrowserLaunch::Open),
        None => LoopbackBrowser::bind_at(host, 0, u.path(), timeout, BrowserLaunch::Open),
    }
}
