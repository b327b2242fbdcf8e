//! Client options as plain data (JSON): the one description of a client that the C ABI and
//! the Python package both accept, so fields can be added without changing either surface.
//!
//! ```json
//! {
//!   "server_url": "https://mcp.example.com/mcp",
//!   "client_name": "my host",
//!   "scope": "files:read",
//!   "client_metadata_url": "https://host.example/client.json",
//!   "client_metadata": {"token_endpoint_auth_method": "client_secret_post",
//!                       "scope": "files:read files:write", "client_uri": "https://host.example",
//!                       "logo_uri": "https://host.example/logo.png", "contacts": ["ops@host.example"],
//!                       "software_id": "my-host", "software_version": "1.2.0"},
//!   "client_id": "pre-registered-id", "client_secret": "…",
//!   "token_endpoint_auth_method": "client_secret_basic",
//!   "private_key_pem": "-----BEGIN PRIVATE KEY-----…", "signing_algorithm": "ES256",
//!   "grant": "authorization_code",
//!   "timeout_ms": 30000,
//!   "tls": {"ca_file": "/etc/corp/root-ca.pem", "use_system_roots": true,
//!           "client_cert_file": "/etc/corp/me.pem", "client_key_file": "/etc/corp/me-key.pem"},
//!   "proxy": "http://proxy.corp.example:3128",
//!   "storage": {"type": "file", "path": "/home/me/.config/mcp-auth/credentials.json"},
//!   "redirect": {"type": "loopback", "port": 0, "timeout_secs": 300, "open_browser": true},
//!   "allowed_addresses": ["10.0.0.0/8", "sso.corp.example"],
//!   "cross_origin": "refuse",
//!   "provider": "auto",
//!   "overrides": {"resource": false, "authorization_params": {"audience": "{resource}"}}
//! }
//! ```
//!
//! A fleet shares a Redis server instead of a file:
//! `"storage": {"type": "redis", "url": "redis://127.0.0.1:6379/0", "namespace": "mcp-auth"}`.
//!
//! Unknown members are rejected (a misspelt option must not be silently ignored), and so is an
//! option given where it has no effect: `token_endpoint_auth_method`, `client_secret`,
//! `private_key_pem` or `client_issuer` without `client_id` (they describe a pre-registered
//! client; for dynamic registration the method is `client_metadata.token_endpoint_auth_method`),
//! `signing_algorithm` without `private_key_pem`, `client_metadata` with `client_id` (nothing
//! is registered), `idp_client_secret` without the identity provider, and a member given twice
//! (`client_name` or `redirect_uris` both at the top level and in `client_metadata`).
//!
//! `client_metadata` is a full RFC 7591 client metadata object (`token_endpoint_auth_method`,
//! `scope`, `grant_types`, `response_types`, `client_name`, `client_uri`, `logo_uri`,
//! `contacts`, `tos_uri`, `policy_uri`, `jwks_uri`, `jwks`, `software_id`,
//! `software_version`, `application_type`, `redirect_uris`, extensions) laid over what the
//! client registers by default: a member given wins over the computed value (`scope` over the
//! selected scope, `grant_types`/`response_types` over the grant's, the method over the
//! negotiated one), the others keep their defaults. One exception: a redirect handler that
//! dictates a redirect URI (a bound loopback port) puts it first in `redirect_uris`, since the
//! authorization request must use a registered one.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::Client;
use crate::authorization::{BrowserLaunch, HeadlessRedirect, LoopbackBrowser};
use crate::client::{ClientBuilder, DpopMode, EnterpriseIdentity, Grant, PreRegisteredClient};
use crate::error::{Error, Result};
use crate::http::{ClientCertificate, PemSource, TlsSettings};
use crate::policy::CrossOrigin;
use crate::secret::{Assertion, ClientSecret};
use crate::storage::{FileStorage, MemoryStorage};
use crate::token::{JwtAlgorithm, SigningKey, TokenEndpointAuthMethod};

/// The host's display for what the user must see during a login
/// ([`ClientOptions::builder_with_display`]).
#[derive(Clone, Default)]
pub struct HostDisplay {
    /// Receives the authorization URL of a `loopback` or `paste` redirect, and whether a
    /// browser was opened on it.
    pub on_url: Option<crate::authorization::UrlHandler>,
    /// Receives an RFC 8628 device authorization (verification URI, user code) of a
    /// `device` redirect.
    pub on_device_code: Option<crate::device::ShowCode>,
}

impl std::fmt::Debug for HostDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostDisplay")
            .field("on_url", &self.on_url.is_some())
            .field("on_device_code", &self.on_device_code.is_some())
            .finish()
    }
}

/// Where tokens and registrations are kept.
#[derive(Clone, Default, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum StorageOptions {
    /// In memory (default).
    #[default]
    Memory,
    /// A JSON file ([`FileStorage`]); `path` defaults to [`FileStorage::default_path`].
    File {
        /// The file.
        #[serde(default)]
        path: Option<String>,
    },
    /// A Redis server (`RedisStorage`, the `redis` feature): `{"type": "redis", "url":
    /// "redis://host:6379/0", "namespace": "mcp-auth"}`. Shared by every process and machine
    /// that reaches it, with a refresh lease (docs/fleet.md).
    Redis {
        /// `redis://[user:password@]host[:port][/db]`.
        url: String,
        /// Key prefix (default `mcp-auth`).
        #[serde(default)]
        namespace: Option<String>,
    },
}

impl std::fmt::Debug for StorageOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory => f.write_str("Memory"),
            Self::File { path } => f.debug_struct("File").field("path", path).finish(),
            // The URL may carry a password.
            Self::Redis { namespace, .. } => f
                .debug_struct("Redis")
                .field("namespace", namespace)
                .finish_non_exhaustive(),
        }
    }
}

/// How the authorization redirect is completed. Absent: `loopback` with its defaults for the
/// authorization code grant (the system browser, RFC 8252), nothing for the other grants.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RedirectOptions {
    /// [`HeadlessRedirect`]: only for auto-approving servers, automation and tests.
    Headless,
    /// [`LoopbackBrowser`] (the default of the authorization code grant).
    Loopback {
        /// Port on 127.0.0.1 (0: ephemeral).
        #[serde(default)]
        port: u16,
        /// How long to wait for the redirect.
        #[serde(default = "default_loopback_timeout")]
        timeout_secs: u64,
        /// Open the system browser (else only print the URL).
        #[serde(default = "default_true")]
        open_browser: bool,
        /// The redirect URI's host: `127.0.0.1` (default) or `localhost` (docs/providers.md).
        #[serde(default)]
        host: Option<String>,
        /// The redirect URI's path (default `/callback`).
        #[serde(default)]
        path: Option<String>,
    },
    /// [`PasteBack`](crate::headless::PasteBack): print the URL, read the redirected URL
    /// from stdin (SSH sessions, containers).
    Paste {
        /// The redirect URI registered and sent (default
        /// `http://127.0.0.1:{port}/callback`).
        #[serde(default)]
        redirect_uri: Option<String>,
        /// The port of the default redirect URI (default 8976).
        #[serde(default)]
        port: Option<u16>,
        /// How long to wait for the paste.
        #[serde(default = "default_loopback_timeout")]
        timeout_secs: u64,
    },
    /// The RFC 8628 device authorization grant ([`crate::device`]): the code is printed to
    /// stderr (and in the trace); implies `"grant": "device_code"`.
    Device {
        /// Also open the system browser on the verification URI.
        #[serde(default)]
        open_browser: bool,
    },
    /// The host supplies the handler itself (a callback); the options only reserve the slot.
    Callback {
        /// The redirect URI the host receives on.
        #[serde(default)]
        redirect_uri: Option<String>,
    },
}

/// TLS trust and the client certificate ([`crate::http::TlsSettings`]).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// A PEM file of CA certificates to trust in addition to the system store.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// PEM text of CA certificates to trust in addition to the system store.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Trust the system store (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`); default true.
    /// With false, only `ca_file`/`ca_pem` are trusted (or the bundled Mozilla roots when
    /// neither is given).
    #[serde(default)]
    pub use_system_roots: Option<bool>,
    /// The client certificate chain (PEM file) for mutual TLS.
    #[serde(default)]
    pub client_cert_file: Option<String>,
    /// The client certificate chain as PEM text.
    #[serde(default)]
    pub client_cert_pem: Option<String>,
    /// The client certificate's private key (PEM file).
    #[serde(default)]
    pub client_key_file: Option<String>,
    /// The client certificate's private key as PEM text.
    #[serde(default)]
    pub client_key_pem: Option<String>,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca_file", &self.ca_file)
            .field("use_system_roots", &self.use_system_roots)
            .field("client_cert_file", &self.client_cert_file)
            .field("client_key_file", &self.client_key_file)
            .field(
                "client_key_pem",
                &self.client_key_pem.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

impl TlsOptions {
    /// The core's settings.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a client certificate comes without its key (or the
    /// reverse), or one is given both as a file and as PEM.
    pub fn settings(&self) -> Result<TlsSettings> {
        let pick =
            |file: &Option<String>, pem: &Option<String>, what: &'static str| match (file, pem) {
                (Some(_), Some(_)) => Err(Error::invalid_argument(
                    what,
                    "give either the _file or the _pem member, not both",
                )),
                (Some(f), None) => Ok(Some(PemSource::File(f.into()))),
                (None, Some(p)) => Ok(Some(PemSource::Pem(p.clone()))),
                (None, None) => Ok(None),
            };
        let chain = pick(
            &self.client_cert_file,
            &self.client_cert_pem,
            "tls.client_cert",
        )?;
        let key = pick(
            &self.client_key_file,
            &self.client_key_pem,
            "tls.client_key",
        )?;
        let client_certificate = match (chain, key) {
            (Some(chain), Some(key)) => Some(ClientCertificate { chain, key }),
            (None, None) => None,
            _ => {
                return Err(Error::invalid_argument(
                    "tls",
                    "a client certificate and its key go together (client_cert_* and client_key_*)",
                ));
            }
        };
        Ok(TlsSettings {
            use_system_roots: self.use_system_roots.unwrap_or(true),
            ca_files: self.ca_file.iter().map(Into::into).collect(),
            ca_pem: self.ca_pem.iter().cloned().collect(),
            client_certificate,
        })
    }
}

fn default_loopback_timeout() -> u64 {
    300
}

fn default_true() -> bool {
    true
}

/// Every client option, all optional except `server_url`. `Debug` redacts the secrets.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientOptions {
    /// The MCP server URL.
    pub server_url: String,
    /// `client_name` for registration.
    #[serde(default)]
    pub client_name: Option<String>,
    /// Redirect URIs for registration (the handler's wins when it dictates one).
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    /// A scope to request when the server names none.
    #[serde(default)]
    pub scope: Option<String>,
    /// RFC 7591 client metadata for dynamic registration, laid over the computed defaults
    /// (see the module documentation).
    #[serde(default)]
    pub client_metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// A CIMD URL.
    #[serde(default)]
    pub client_metadata_url: Option<String>,
    /// Pre-registered `client_id`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Pre-registered secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Pre-registered method (default: `client_secret_basic` with a secret, `private_key_jwt`
    /// with a key, else `none`); only with `client_id` (dynamic registration:
    /// `client_metadata.token_endpoint_auth_method`).
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// PEM key for `private_key_jwt`.
    #[serde(default)]
    pub private_key_pem: Option<String>,
    /// `ES256` or `RS256` (default: from the key).
    #[serde(default)]
    pub signing_algorithm: Option<String>,
    /// Issuer the pre-registered credentials belong to.
    #[serde(default)]
    pub client_issuer: Option<String>,
    /// `authorization_code` (default), `client_credentials`, `jwt_bearer` (RFC 7523) or
    /// `enterprise_managed` (SEP-990).
    #[serde(default)]
    pub grant: Option<String>,
    /// The JWT for the `jwt_bearer` grant.
    #[serde(default)]
    pub assertion: Option<String>,
    /// `enterprise_managed`: the identity provider's token endpoint.
    #[serde(default)]
    pub idp_token_endpoint: Option<String>,
    /// `enterprise_managed`: the client's id at the identity provider.
    #[serde(default)]
    pub idp_client_id: Option<String>,
    /// `enterprise_managed`: the client's secret at the identity provider.
    #[serde(default)]
    pub idp_client_secret: Option<String>,
    /// `enterprise_managed`: the user's ID token.
    #[serde(default)]
    pub id_token: Option<String>,
    /// DPoP (RFC 9449): `auto` (default: when the resource server asks), `always`, `never`.
    #[serde(default)]
    pub dpop: Option<String>,
    /// HTTP timeout in milliseconds (default 30000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Response body cap in bytes (default 1 MiB).
    #[serde(default)]
    pub max_body_bytes: Option<usize>,
    /// `User-Agent`.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// TLS trust and client certificate.
    #[serde(default)]
    pub tls: Option<TlsOptions>,
    /// An explicit proxy URL (instead of `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`).
    #[serde(default)]
    pub proxy: Option<String>,
    /// Use the environment's proxy (`HTTPS_PROXY`, `NO_PROXY`, ...); default true.
    #[serde(default)]
    pub proxy_from_env: Option<bool>,
    /// Connect timeout (resolution, TCP, TLS handshake) in milliseconds (default 10000).
    #[serde(default)]
    pub connect_timeout_ms: Option<u64>,
    /// Streamed MCP responses: the idle timeout in milliseconds (default 300000; 0: none).
    #[serde(default)]
    pub stream_idle_timeout_ms: Option<u64>,
    /// Streamed MCP responses: a body cap in bytes (default: none).
    #[serde(default)]
    pub stream_max_body_bytes: Option<u64>,
    /// Idle keep-alive connections kept in total (default 256).
    #[serde(default)]
    pub max_idle_connections: Option<usize>,
    /// Idle keep-alive connections kept per host (default 256).
    #[serde(default)]
    pub max_idle_connections_per_host: Option<usize>,
    /// `MCP-Protocol-Version` for metadata requests.
    #[serde(default)]
    pub protocol_version: Option<String>,
    /// Refuse an AS without S256 (default true).
    #[serde(default)]
    pub require_pkce_s256: Option<bool>,
    /// Refresh this many seconds before expiry (default 60).
    #[serde(default)]
    pub refresh_skew_secs: Option<u64>,
    /// Token acquisitions per request (default 3).
    #[serde(default)]
    pub max_authorizations: Option<u32>,
    /// Preferred issuer among the PRM's authorization servers.
    #[serde(default)]
    pub preferred_issuer: Option<String>,
    /// Allow an http, non-loopback MCP server URL.
    #[serde(default)]
    pub allow_insecure_server_url: Option<bool>,
    /// Addresses server-supplied URLs may reach although the address policy refuses their
    /// class: host names, `*.domain`, addresses, CIDR blocks ([`crate::policy`]).
    #[serde(default)]
    pub allowed_addresses: Option<Vec<String>>,
    /// `send` to another origin than the MCP server's: `refuse` (default) or `without_token`.
    #[serde(default)]
    pub cross_origin: Option<String>,
    /// Storage.
    #[serde(default)]
    pub storage: StorageOptions,
    /// Redirect handling (absent: see [`RedirectOptions`]).
    #[serde(default)]
    pub redirect: Option<RedirectOptions>,
    /// The provider profile: `auto` (default: detected from the authorization server's
    /// host), `none`, or a name (`entra`, `auth0`, `google`, `github`, `slack`, `cognito`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Per-server overrides ([`crate::overrides::ServerOverrides`]).
    #[serde(default)]
    pub overrides: Option<crate::overrides::ServerOverrides>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("ClientOptions")
            .field("server_url", &self.server_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("private_key_pem", &redacted(&self.private_key_pem))
            .field("assertion", &redacted(&self.assertion))
            .field("idp_client_secret", &redacted(&self.idp_client_secret))
            .field("id_token", &redacted(&self.id_token))
            .field("grant", &self.grant)
            .field("tls", &self.tls)
            .field("proxy", &self.proxy.as_deref().map(crate::http::redact_url))
            .field("storage", &self.storage)
            .field("redirect", &self.redirect)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// Parse options from JSON.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the bad member.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument("client options", e.to_string()))
    }

    /// A builder configured from these options. Storage, redirect handler and observer may
    /// still be replaced on the builder (hosts with callbacks do).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for inconsistent options (e.g. a key that does not load);
    /// [`Error::Transport`] if the loopback port cannot be bound.
    pub fn builder(&self) -> Result<ClientBuilder> {
        self.builder_with_display(HostDisplay::default())
    }

    /// [`ClientOptions::builder`], with `on_url` receiving the authorization URL of a
    /// `loopback` or `paste` redirect (see [`LoopbackBrowser::on_url`]): how a host shows it.
    ///
    /// # Errors
    /// As [`ClientOptions::builder`].
    pub fn builder_with_url_handler(
        &self,
        on_url: Option<crate::authorization::UrlHandler>,
    ) -> Result<ClientBuilder> {
        self.builder_with_display(HostDisplay {
            on_url,
            on_device_code: None,
        })
    }

    /// [`ClientOptions::builder`], with the host's display ([`HostDisplay`]) for what the user
    /// must see: the authorization URL, a device code. Without one, what the user must see
    /// goes to the log (`log` facade, `warn` level); the library prints nothing itself.
    ///
    /// # Errors
    /// As [`ClientOptions::builder`].
    pub fn builder_with_display(&self, display: HostDisplay) -> Result<ClientBuilder> {
        let HostDisplay {
            on_url,
            on_device_code,
        } = display;
        self.check_effective()?;
        let mut b = Client::builder(&self.server_url);
        if let Some(n) = &self.client_name {
            b = b.client_name(n.clone());
        }
        if let Some(s) = &self.scope {
            b = b.scope(s.clone());
        }
        if let Some(u) = &self.client_metadata_url {
            b = b.client_metadata_url(u.clone());
        }
        if let Some(pre) = self.pre_registered()? {
            b = b.pre_registered(pre);
        }
        let grant = match self.grant.as_deref() {
            None | Some("authorization_code") => Grant::AuthorizationCode,
            Some("client_credentials") => Grant::ClientCredentials,
            Some("jwt_bearer") => Grant::JwtBearer,
            Some("enterprise_managed") => Grant::EnterpriseManaged,
            Some("device_code") => Grant::DeviceCode,
            Some(other) => {
                return Err(Error::invalid_argument(
                    "grant",
                    format!(
                        "'{other}' (expected authorization_code, client_credentials, jwt_bearer, enterprise_managed or device_code)"
                    ),
                ));
            }
        };
        let grant = match (&self.redirect, self.grant.as_deref()) {
            (Some(RedirectOptions::Device { .. }), None) => Grant::DeviceCode,
            _ => grant,
        };
        let provider = crate::providers::ProviderChoice::parse(
            self.provider.as_deref().unwrap_or("auto"),
        )
        .ok_or_else(|| {
            Error::invalid_argument(
                "provider",
                format!(
                    "'{}' (expected auto, none, entra, auth0, google, github, slack or cognito)",
                    self.provider.as_deref().unwrap_or_default()
                ),
            )
        })?;
        b = b.provider(provider);
        if let Some(o) = &self.overrides {
            b = b.overrides(o.clone());
        }
        b = b.grant(grant);
        let dpop = match self.dpop.as_deref() {
            None | Some("auto") => DpopMode::Auto,
            Some("always") => DpopMode::Always,
            Some("never") => DpopMode::Never,
            Some(other) => {
                return Err(Error::invalid_argument(
                    "dpop",
                    format!("'{other}' (expected auto, always or never)"),
                ));
            }
        };
        let enterprise = match (
            &self.idp_token_endpoint,
            &self.idp_client_id,
            &self.id_token,
        ) {
            (Some(endpoint), Some(client_id), Some(id_token)) => Some(EnterpriseIdentity {
                idp_token_endpoint: endpoint.clone(),
                idp_client_id: client_id.clone(),
                idp_client_secret: self.idp_client_secret.clone().map(ClientSecret::new),
                id_token: Assertion::new(id_token.clone()),
            }),
            (None, None, None) => None,
            _ => {
                return Err(Error::invalid_argument(
                    "client options",
                    "idp_token_endpoint, idp_client_id and id_token go together",
                ));
            }
        };
        let tls = match &self.tls {
            Some(t) => Some(t.settings()?),
            None => None,
        };
        let cross_origin = match self.cross_origin.as_deref() {
            Some(c) => CrossOrigin::parse(c)?,
            None => CrossOrigin::Refuse,
        };
        let assertion = self.assertion.clone().map(Assertion::new);
        let redirect_uris = self.redirect_uris.clone();
        if let Some(members) = &self.client_metadata {
            // Checked here, so a bad member is an error of the options, not of `build`.
            let mut probe = crate::metadata::OAuthClientMetadata::new(Vec::new());
            probe.redirect_uris = None;
            probe.merged(members)?;
        }
        let client_metadata = self.client_metadata.clone();
        let opts = self.clone();
        b = b.config(move |c| {
            if let Some(u) = redirect_uris {
                c.client_metadata.redirect_uris = Some(u);
            }
            if let Some(members) = client_metadata {
                if let Ok(md) = c.client_metadata.merged(&members) {
                    c.client_metadata = md;
                }
            }
            if let Some(ms) = opts.timeout_ms {
                c.http.timeout = Duration::from_millis(ms);
            }
            if let Some(n) = opts.max_body_bytes {
                c.http.max_body_bytes = n;
            }
            if let Some(ua) = opts.user_agent {
                c.http.user_agent = ua;
            }
            if let Some(t) = tls {
                c.http.tls = t;
            }
            if let Some(p) = opts.proxy {
                c.http.proxy = Some(p);
            }
            if let Some(p) = opts.proxy_from_env {
                c.http.proxy_from_env = p;
            }
            if let Some(ms) = opts.connect_timeout_ms {
                c.http.connect_timeout = Duration::from_millis(ms);
            }
            if let Some(ms) = opts.stream_idle_timeout_ms {
                c.http.stream_idle_timeout = (ms > 0).then(|| Duration::from_millis(ms));
            }
            if let Some(n) = opts.stream_max_body_bytes {
                c.http.stream_max_body_bytes = Some(n);
            }
            if let Some(n) = opts.max_idle_connections {
                c.http.max_idle_connections = n;
            }
            if let Some(n) = opts.max_idle_connections_per_host {
                c.http.max_idle_connections_per_host = n;
            }
            if let Some(v) = opts.protocol_version {
                c.protocol_version = v;
            }
            if let Some(v) = opts.require_pkce_s256 {
                c.require_pkce_s256 = v;
            }
            if let Some(s) = opts.refresh_skew_secs {
                c.refresh_skew = Duration::from_secs(s);
            }
            if let Some(m) = opts.max_authorizations {
                c.max_authorizations = m;
            }
            if let Some(i) = opts.preferred_issuer {
                c.preferred_issuer = Some(i);
            }
            if let Some(a) = opts.allow_insecure_server_url {
                c.allow_insecure_server_url = a;
            }
            if let Some(a) = opts.allowed_addresses {
                c.allowed_addresses = a;
            }
            c.cross_origin = cross_origin;
            c.dpop = dpop;
            c.enterprise = enterprise;
            c.assertion = assertion;
        });
        b = match &self.storage {
            StorageOptions::Memory => b.storage(Arc::new(MemoryStorage::new())),
            StorageOptions::File { path } => {
                let path = match path {
                    Some(p) => p.into(),
                    None => FileStorage::default_path().ok_or_else(|| {
                        Error::invalid_argument(
                            "storage",
                            "no path given and no home directory to default to",
                        )
                    })?,
                };
                b.storage(Arc::new(FileStorage::new(path)))
            }
            #[cfg(feature = "redis")]
            StorageOptions::Redis { url, namespace } => b.storage(Arc::new(
                crate::storage::RedisStorage::new(url, namespace.as_deref())?,
            )),
            #[cfg(not(feature = "redis"))]
            StorageOptions::Redis { .. } => {
                return Err(Error::invalid_argument(
                    "storage",
                    "this build has no Redis support (the `redis` feature)",
                ));
            }
        };
        let default_loopback;
        let redirect = match &self.redirect {
            Some(r) => r,
            None => {
                let profile_host = matches!(
                    provider,
                    crate::providers::ProviderChoice::Named(p) if p.redirect_host().is_some()
                );
                if grant != Grant::AuthorizationCode || !profile_host {
                    // The builder's default: the loopback browser for the authorization code
                    // grant (on the configured redirect URI, if a loopback one), shown by the
                    // host too.
                    if let Some(show) = on_url {
                        b = b.on_authorization_url(show);
                    }
                    return Ok(b);
                }
                // A chosen profile insists on a redirect host: the loopback defaults with it.
                default_loopback = RedirectOptions::Loopback {
                    port: 0,
                    timeout_secs: default_loopback_timeout(),
                    open_browser: true,
                    host: None,
                    path: None,
                };
                &default_loopback
            }
        };
        b = match redirect {
            RedirectOptions::Headless => b.redirect_handler(Arc::new(HeadlessRedirect::new())),
            RedirectOptions::Loopback {
                port,
                timeout_secs,
                open_browser,
                host,
                path,
            } => {
                // An explicitly chosen profile may insist on a redirect host.
                let profile_host = match provider {
                    crate::providers::ProviderChoice::Named(p) => p.redirect_host(),
                    _ => None,
                };
                let mut browser = LoopbackBrowser::bind_at(
                    host.as_deref().or(profile_host).unwrap_or("127.0.0.1"),
                    *port,
                    path.as_deref().unwrap_or("/callback"),
                    Duration::from_secs(*timeout_secs),
                    if *open_browser {
                        BrowserLaunch::Open
                    } else {
                        BrowserLaunch::PrintOnly
                    },
                )?;
                if let Some(show) = on_url {
                    browser = browser.on_url(show);
                }
                b.redirect_handler(Arc::new(browser))
            }
            RedirectOptions::Paste {
                redirect_uri,
                port,
                timeout_secs,
            } => {
                // The instructions go to the log; the URL also to the host's handler.
                let shown_by_host = on_url.is_some();
                let show: crate::headless::Show = Arc::new(move |text: &str| {
                    if shown_by_host {
                        log::info!("{text}");
                    } else {
                        log::warn!("{text}");
                    }
                });
                let mut paste = crate::headless::PasteBack::stdin(
                    redirect_uri.clone().unwrap_or_else(|| {
                        format!("http://127.0.0.1:{}/callback", port.unwrap_or(8976))
                    }),
                    Duration::from_secs(*timeout_secs),
                    show,
                );
                if let Some(show) = on_url {
                    paste = paste.on_url(show);
                }
                b.redirect_handler(Arc::new(paste))
            }
            RedirectOptions::Device { open_browser } => b.redirect_handler(Arc::new(
                crate::device::DeviceDisplay::new(*open_browser, on_device_code),
            )),
            RedirectOptions::Callback { redirect_uri } => match redirect_uri {
                Some(u) => b.redirect_handler(Arc::new(HeadlessRedirect::with_redirect_uri(u))),
                None => b,
            },
        };
        Ok(b)
    }

    /// An option given where it has no effect is an error, never silently ignored.
    fn check_effective(&self) -> Result<()> {
        let useless = |what: &'static str, why: &str| Err(Error::invalid_argument(what, why));
        if self.client_id.is_none() {
            if self.token_endpoint_auth_method.is_some() {
                return useless(
                    "token_endpoint_auth_method",
                    "it is the method of a pre-registered client and has no effect without client_id; for dynamic registration set client_metadata.token_endpoint_auth_method",
                );
            }
            if self.client_issuer.is_some() {
                return useless(
                    "client_issuer",
                    "it is the issuer of a pre-registered client and has no effect without client_id",
                );
            }
        }
        if self.signing_algorithm.is_some() && self.private_key_pem.is_none() {
            return useless(
                "signing_algorithm",
                "it has no effect without private_key_pem",
            );
        }
        if self.client_id.is_some() && self.client_metadata.is_some() {
            return useless(
                "client_metadata",
                "it is sent with dynamic registration, and a pre-registered client_id registers nothing",
            );
        }
        let member = |name: &str| {
            self.client_metadata
                .as_ref()
                .is_some_and(|m| m.contains_key(name))
        };
        if self.client_name.is_some() && member("client_name") {
            return useless(
                "client_name",
                "given both at the top level and in client_metadata; keep one",
            );
        }
        if self.redirect_uris.is_some() && member("redirect_uris") {
            return useless(
                "redirect_uris",
                "given both at the top level and in client_metadata; keep one",
            );
        }
        if self.idp_client_secret.is_some() && self.idp_client_id.is_none() {
            return useless(
                "idp_client_secret",
                "it has no effect without idp_token_endpoint, idp_client_id and id_token",
            );
        }
        Ok(())
    }

    fn pre_registered(&self) -> Result<Option<PreRegisteredClient>> {
        let Some(client_id) = &self.client_id else {
            if self.client_secret.is_some() || self.private_key_pem.is_some() {
                return Err(Error::invalid_argument(
                    "client options",
                    "client_secret/private_key_pem given without client_id",
                ));
            }
            return Ok(None);
        };
        let alg = match self.signing_algorithm.as_deref() {
            None => None,
            Some(a) => Some(JwtAlgorithm::parse(a).ok_or_else(|| {
                Error::invalid_argument(
                    "signing_algorithm",
                    format!("'{a}' (expected ES256 or RS256)"),
                )
            })?),
        };
        let signing_key = match &self.private_key_pem {
            Some(pem) => Some(Arc::new(SigningKey::from_pem(pem, alg)?)),
            None => None,
        };
        let method = match self.token_endpoint_auth_method.as_deref() {
            Some(m) => TokenEndpointAuthMethod::parse(m).ok_or_else(|| {
                Error::invalid_argument(
                    "token_endpoint_auth_method",
                    format!("unsupported method '{m}'"),
                )
            })?,
            None if signing_key.is_some() => TokenEndpointAuthMethod::PrivateKeyJwt,
            None if self.client_secret.is_some() => TokenEndpointAuthMethod::ClientSecretBasic,
            None => TokenEndpointAuthMethod::None,
        };
        match method {
            TokenEndpointAuthMethod::ClientSecretBasic
            | TokenEndpointAuthMethod::ClientSecretPost
                if self.client_secret.is_none() =>
            {
                return Err(Error::invalid_argument(
                    "client options",
                    format!("{method} needs client_secret"),
                ));
            }
            TokenEndpointAuthMethod::PrivateKeyJwt if signing_key.is_none() => {
                return Err(Error::invalid_argument(
                    "client options",
                    "private_key_jwt needs private_key_pem",
                ));
            }
            _ => {}
        }
        Ok(Some(PreRegisteredClient {
            client_id: client_id.clone(),
            client_secret: self.client_secret.clone().map(ClientSecret::new),
            method,
            signing_key,
            issuer: self.client_issuer.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_options_build_a_client() {
        let o = ClientOptions::from_json(r#"{"server_url":"http://127.0.0.1:1/mcp"}"#).unwrap();
        let c = o.builder().unwrap().build().unwrap();
        assert_eq!(c.config().server_url, "http://127.0.0.1:1/mcp");
    }

    #[test]
    fn unknown_members_are_rejected() {
        let e = ClientOptions::from_json(r#"{"server_url":"x","scpoe":"a"}"#).unwrap_err();
        assert!(e.to_string().contains("scpoe"), "{e}");
    }

    #[test]
    fn tls_and_transport_options_reach_the_http_config() {
        let o = ClientOptions::from_json(
            r#"{"server_url":"http://127.0.0.1:1/mcp","tls":{"ca_file":"/ca.pem","use_system_roots":false,
                "client_cert_pem":"C","client_key_file":"/k.pem"},"proxy":"http://p:3128",
                "proxy_from_env":false,"connect_timeout_ms":1500,"stream_idle_timeout_ms":0,
                "stream_max_body_bytes":7,"max_idle_connections":9,"max_idle_connections_per_host":8}"#,
        )
        .unwrap();
        let mut http = crate::http::HttpConfig::default();
        let tls = o.tls.as_ref().unwrap().settings().unwrap();
        assert_eq!(tls.ca_files, vec![std::path::PathBuf::from("/ca.pem")]);
        assert!(!tls.use_system_roots);
        assert_eq!(
            tls.client_certificate,
            Some(ClientCertificate {
                chain: PemSource::Pem("C".into()),
                key: PemSource::File("/k.pem".into()),
            })
        );
        // The CA file does not exist: building the client reports it, naming the setting.
        let e = o.builder().unwrap().build().unwrap_err();
        assert!(e.to_string().contains("tls.ca_file"), "{e}");
        let o2 = ClientOptions { tls: None, ..o };
        let c = o2.builder().unwrap().build().unwrap();
        http.proxy = Some("http://p:3128".into());
        http.proxy_from_env = false;
        http.connect_timeout = Duration::from_millis(1500);
        http.stream_idle_timeout = None;
        http.stream_max_body_bytes = Some(7);
        http.max_idle_connections = 9;
        http.max_idle_connections_per_host = 8;
        assert_eq!(c.config().http, http);
    }

    #[test]
    fn address_policy_options_reach_the_config() {
        let o = ClientOptions::from_json(
            r#"{"server_url":"http://127.0.0.1:1/mcp","allowed_addresses":["10.0.0.0/8","sso.corp.example"],
                "cross_origin":"without_token"}"#,
        )
        .unwrap();
        let c = o.builder().unwrap().build().unwrap();
        assert_eq!(
            c.config().allowed_addresses,
            ["10.0.0.0/8", "sso.corp.example"]
        );
        assert_eq!(c.config().cross_origin, CrossOrigin::WithoutToken);
        for bad in [
            r#"{"server_url":"http://127.0.0.1:1/mcp","cross_origin":"allow"}"#,
            r#"{"server_url":"http://127.0.0.1:1/mcp","allowed_addresses":["10.0.0.0/99"]}"#,
        ] {
            let e = match ClientOptions::from_json(bad).unwrap().builder() {
                Err(e) => e,
                Ok(b) => b.build().unwrap_err(),
            };
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{e}");
        }
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let o = ClientOptions::from_json(
            r#"{"server_url":"http://127.0.0.1:1/mcp","tls":{"client_cert_file":"/c.pem"}}"#,
        )
        .unwrap();
        assert!(o.builder().is_err());
        let e =
            ClientOptions::from_json(r#"{"server_url":"x","tls":{"ca_fil":"/c"}}"#).unwrap_err();
        assert!(e.to_string().contains("ca_fil"), "{e}");
    }

    #[test]
    fn inconsistent_credentials_are_rejected() {
        let o = ClientOptions::from_json(
            r#"{"server_url":"http://127.0.0.1:1/mcp","client_id":"a","token_endpoint_auth_method":"client_secret_post"}"#,
        )
        .unwrap();
        assert!(o.builder().is_err());
        let o = ClientOptions::from_json(
            r#"{"server_url":"http://127.0.0.1:1/mcp","grant":"password"}"#,
        )
        .unwrap();
        assert!(o.builder().is_err());
    }
}
