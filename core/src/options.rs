//! Client options as plain data (JSON): the one description of a client that the C ABI and
//! the Python package both accept, so fields can be added without changing either surface.
//!
//! ```json
//! {
//!   "server_url": "https://mcp.example.com/mcp",
//!   "client_name": "my host",
//!   "scope": "files:read",
//!   "client_metadata_url": "https://host.example/client.json",
//!   "client_id": "pre-registered-id", "client_secret": "…",
//!   "token_endpoint_auth_method": "client_secret_basic",
//!   "private_key_pem": "-----BEGIN PRIVATE KEY-----…", "signing_algorithm": "ES256",
//!   "grant": "authorization_code",
//!   "timeout_ms": 30000,
//!   "storage": {"type": "file", "path": "/home/me/.config/mcp-auth/credentials.json"},
//!   "redirect": {"type": "loopback", "port": 0, "timeout_secs": 300, "open_browser": true}
//! }
//! ```
//!
//! A fleet shares a Redis server instead of a file:
//! `"storage": {"type": "redis", "url": "redis://127.0.0.1:6379/0", "namespace": "mcp-auth"}`.
//!
//! Unknown members are rejected (a misspelt option must not be silently ignored).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::Client;
use crate::authorization::{BrowserLaunch, HeadlessRedirect, LoopbackBrowser};
use crate::client::{ClientBuilder, DpopMode, EnterpriseIdentity, Grant, PreRegisteredClient};
use crate::error::{Error, Result};
use crate::secret::{Assertion, ClientSecret};
use crate::storage::{FileStorage, MemoryStorage};
use crate::token::{JwtAlgorithm, SigningKey, TokenEndpointAuthMethod};

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

/// How the authorization redirect is completed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RedirectOptions {
    /// [`HeadlessRedirect`] (default).
    #[default]
    Headless,
    /// [`LoopbackBrowser`].
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
    },
    /// The host supplies the handler itself (a callback); the options only reserve the slot.
    Callback {
        /// The redirect URI the host receives on.
        #[serde(default)]
        redirect_uri: Option<String>,
    },
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
    /// with a key, else `none`).
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
    /// Storage.
    #[serde(default)]
    pub storage: StorageOptions,
    /// Redirect handling.
    #[serde(default)]
    pub redirect: RedirectOptions,
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
            Some(other) => {
                return Err(Error::invalid_argument(
                    "grant",
                    format!(
                        "'{other}' (expected authorization_code, client_credentials, jwt_bearer or enterprise_managed)"
                    ),
                ));
            }
        };
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
        let assertion = self.assertion.clone().map(Assertion::new);
        let redirect_uris = self.redirect_uris.clone();
        let opts = self.clone();
        b = b.config(move |c| {
            if let Some(u) = redirect_uris {
                c.client_metadata.redirect_uris = Some(u);
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
        b = match &self.redirect {
            RedirectOptions::Headless => b.redirect_handler(Arc::new(HeadlessRedirect::new())),
            RedirectOptions::Loopback {
                port,
                timeout_secs,
                open_browser,
            } => b.redirect_handler(Arc::new(LoopbackBrowser::bind(
                *port,
                Duration::from_secs(*timeout_secs),
                if *open_browser {
                    BrowserLaunch::Open
                } else {
                    BrowserLaunch::PrintOnly
                },
            )?)),
            RedirectOptions::Callback { redirect_uri } => match redirect_uri {
                Some(u) => b.redirect_handler(Arc::new(HeadlessRedirect::with_redirect_uri(u))),
                None => b,
            },
        };
        Ok(b)
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
