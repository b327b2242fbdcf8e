//! Which client credentials a grant uses: the one place that decides. Every grant (the
//! authorization code exchange, a refresh, client credentials, a JWT bearer grant, the SEP-990
//! grant at the authorization server) asks [`Identity`], which applies the MCP priority
//! (pre-registered > CIMD > a registration made with this issuer > dynamic registration) and
//! the SEP-2352 binding of credentials to the issuer they belong to.

use std::sync::{Mutex, MutexGuard};

use crate::checks::{self, origin_of};
use crate::client::ClientConfig;
use crate::discovery::Discovery;
use crate::error::{Check, Error, Result};
use crate::http::HttpClient;
use crate::metadata::{OAuthClientInformationFull, OAuthToken};
use crate::storage::TokenStorage;
use crate::token::{ClientAuth, TokenEndpointAuthMethod};
use crate::trace::{Step, Tracer};

/// The registration in use, with the issuer it belongs to (kept across flows of one client),
/// and the `client_id`s an authorization server refused as unknown (`invalid_client`): a
/// stored registration with one of those is not used again.
#[derive(Default)]
pub(crate) struct KnownClient(Mutex<Option<(String, ClientAuth)>>, Mutex<Vec<String>>);

impl KnownClient {
    fn lock(&self) -> MutexGuard<'_, Option<(String, ClientAuth)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn rejected(&self) -> MutexGuard<'_, Vec<String>> {
        self.1.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The credentials remembered for `issuer`.
    fn for_issuer(&self, issuer: &str) -> Option<ClientAuth> {
        match &*self.lock() {
            Some((iss, auth)) if checks::issuers_match(iss, issuer) => Some(auth.clone()),
            _ => None,
        }
    }

    /// Forget the registration in use (a host's explicit `forget_client`).
    pub(crate) fn forget(&self) {
        *self.lock() = None;
    }

    fn remember(&self, issuer: &str, auth: &ClientAuth) {
        *self.lock() = Some((issuer.to_owned(), auth.clone()));
    }
}

/// The identity step of one client: what it needs, borrowed from the session.
pub(crate) struct Identity<'a> {
    pub(crate) config: &'a ClientConfig,
    pub(crate) storage: &'a dyn TokenStorage,
    pub(crate) http: &'a dyn HttpClient,
    pub(crate) tracer: &'a Tracer,
    pub(crate) known: &'a KnownClient,
}

/// Where existing credentials came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    PreRegistered,
    ClientMetadataDocument,
    InMemory,
    Stored,
}

impl Identity<'_> {
    /// The credentials for a new grant at `d`'s issuer: pre-registered > CIMD > a stored
    /// registration for this issuer > dynamic registration (RFC 7591).
    pub(crate) fn for_grant(&self, d: &Discovery, scope: Option<&str>) -> Result<ClientAuth> {
        let step = self.tracer.step(Step::ClientIdentity);
        if let Some(reason) = pre_registered_elsewhere(self.config, d) {
            let pre = self.config.pre_registered.as_ref();
            return Err(Error::security(
                Check::CredentialIssuer,
                format!(
                    "Pre-registered client {} {reason}",
                    pre.map(|p| p.client_id.as_str()).unwrap_or_default()
                ),
            ));
        }
        let Some((auth, source)) = self.existing(d, true)? else {
            return self.register(d, scope, false);
        };
        step.ok(match source {
            Source::PreRegistered => {
                format!("pre-registered client {} ({})", auth.client_id, auth.method)
            }
            Source::ClientMetadataDocument => {
                format!("client ID metadata document {}", auth.client_id)
            }
            Source::InMemory => format!("registered client {} (in memory)", auth.client_id),
            Source::Stored => format!("registered client {} (stored)", auth.client_id),
        });
        Ok(auth)
    }

    /// The credentials to refresh `token` at `d`'s token endpoint, or why it must not be
    /// refreshed there (the flow then authorizes anew). A refresh token goes only to the
    /// issuer that issued it, authenticated as the client it was issued to; the credentials
    /// come from the same sources as [`for_grant`](Self::for_grant), never from a new
    /// registration. A token stored without its issuer (older versions) is refreshed only
    /// with credentials known to belong to `d`'s issuer: pre-registered ones (bound to it, or
    /// to no issuer) or a registration made with it.
    pub(crate) fn for_refresh(
        &self,
        d: &Discovery,
        token: &OAuthToken,
    ) -> Result<std::result::Result<ClientAuth, String>> {
        if let Some(iss) = &token.issuer {
            if !checks::issuers_match(iss, &d.issuer) {
                return Ok(Err(format!(
                    "the token was issued by {iss}, and the resource now names {}",
                    d.issuer
                )));
            }
        }
        if let Some(reason) = pre_registered_elsewhere(self.config, d) {
            return Ok(Err(format!("the pre-registered client {reason}")));
        }
        let Some((auth, source)) = self.existing(d, false)? else {
            return Ok(Err(format!("no client registration for {}", d.issuer)));
        };
        if token.issuer.is_none() && source == Source::ClientMetadataDocument {
            return Ok(Err(
                "the token does not record its issuer, and a client ID metadata document binds it to none"
                    .to_owned(),
            ));
        }
        match &token.client_id {
            Some(id) if *id != auth.client_id => Ok(Err(format!(
                "the token was issued to client {id}, not {}",
                auth.client_id
            ))),
            _ => Ok(Ok(auth)),
        }
    }

    /// Credentials that exist for `d`'s issuer without registering: pre-registered > CIMD >
    /// the registration in memory > a stored one (SEP-2352: only with the issuer it was made
    /// with).
    /// `for_redirect`: the credentials start a new authorization with the redirect URI in use
    /// (registration hygiene applies); a refresh needs no redirect.
    fn existing(&self, d: &Discovery, for_redirect: bool) -> Result<Option<(ClientAuth, Source)>> {
        if let Some(pre) = &self.config.pre_registered {
            return Ok(Some((pre.auth(), Source::PreRegistered)));
        }
        let cimd = self.config.client_metadata_url.as_deref();
        if super::should_use_client_metadata_url(d.metadata.as_ref(), cimd) {
            let url = cimd.unwrap_or_default().to_owned();
            return Ok(Some((public_client(url), Source::ClientMetadataDocument)));
        }
        if let Some(auth) = self.known.for_issuer(&d.issuer) {
            return Ok(Some((auth, Source::InMemory)));
        }
        Ok(self
            .stored(d, for_redirect)?
            .map(|auth| (auth, Source::Stored)))
    }

    /// The authorization server answered `error` for `client`: when it says the client is
    /// unknown and `client` is a dynamic registration (neither pre-registered nor a CIMD URL),
    /// the server has forgotten it. Unknown means `invalid_client` at the token endpoint
    /// (RFC 6749 §5.2: "client authentication failed (e.g., unknown client)"), and
    /// `invalid_client` or `unauthorized_client` in the authorization redirect (§4.1.2.1).
    /// Forget it here and in the store (when the store still holds that registration, not a
    /// newer one another process made), so the next grant, in this process or the next,
    /// registers again. A registration refused this way is never used again, so this happens
    /// at most once per registration. Returns whether the registration was forgotten.
    pub(crate) fn forget_if_unknown(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        error: &Error,
    ) -> bool {
        let Some(code) = error.oauth_error().map(|o| o.error.as_str()) else {
            return false;
        };
        let redirect = matches!(error, Error::Authorization { .. });
        let unknown = code == "invalid_client" || (redirect && code == "unauthorized_client");
        if !unknown || self.config.pre_registered.is_some() {
            return false;
        }
        if self.config.client_metadata_url.as_deref() == Some(client.client_id.as_str()) {
            return false;
        }
        if self.known.rejected().contains(&client.client_id) {
            return false;
        }
        {
            let mut known = self.known.lock();
            if known
                .as_ref()
                .is_some_and(|(_, a)| a.client_id == client.client_id)
            {
                *known = None;
            }
        }
        self.known.rejected().push(client.client_id.clone());
        let stored = match self.storage.get_client_info(&d.issuer) {
            Ok(Some(info)) if info.client_id == client.client_id => {
                self.storage.remove_client_info(&d.issuer).map_or_else(
                    |e| format!("; not removed from the store: {e}"),
                    |()| " (and removed from the store)".to_owned(),
                )
            }
            Ok(_) => String::new(),
            Err(e) => format!("; the store could not be read: {e}"),
        };
        let place = if redirect {
            "the authorization redirect"
        } else {
            "the token endpoint"
        };
        self.tracer.step(Step::Registration).fallback(format!(
            "{} refused client {} as unknown ({code} at {place}): registration forgotten{stored}; registering again",
            d.issuer, client.client_id
        ));
        true
    }

    /// A stored registration made with `d`'s issuer (SEP-2352), remembered once read; not
    /// one the server refused as unknown ([`forget_if_unknown`](Self::forget_if_unknown)).
    fn stored(&self, d: &Discovery, for_redirect: bool) -> Result<Option<ClientAuth>> {
        let cimd = self.config.client_metadata_url.as_deref();
        match self.storage.get_client_info(&d.issuer)? {
            Some(info) if self.known.rejected().contains(&info.client_id) => Ok(None),
            Some(info)
                if for_redirect && !super::hygiene::redirect_uri_registered(self.config, &info) =>
            {
                // Registration hygiene: an authorization server that compares redirect URIs
                // exactly would refuse this registration with the redirect URI in use.
                self.tracer
                    .step(Step::ClientIdentity)
                    .fallback(super::hygiene::stale_redirect_note(self.config, &info));
                Ok(None)
            }
            Some(info) if super::credentials_match_issuer(&info, &d.issuer, cimd) => {
                let auth = ClientAuth::from_client_info(&info)?;
                self.known.remember(&d.issuer, &auth);
                Ok(Some(auth))
            }
            _ => Ok(None),
        }
    }

    /// RFC 7591 dynamic client registration, with `scope` (the selected one, unless the client
    /// metadata name a scope; `widen`: always `scope`, a union that covers the named one).
    pub(super) fn register(
        &self,
        d: &Discovery,
        scope: Option<&str>,
        widen: bool,
    ) -> Result<ClientAuth> {
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
        // The selected scope, unless the client metadata name one (explicit wins).
        if widen || md.scope.is_none() {
            md.scope = scope.map(str::to_owned);
        }
        // Ask for a method the AS supports (never rely on a default it does not support).
        if md.token_endpoint_auth_method.is_none() {
            md.token_endpoint_auth_method =
                super::negotiate_auth_method(d.metadata.as_ref()).map(str::to_owned);
        }
        super::keep_advertised_grant_types(&mut md, d.metadata.as_ref());
        let request = super::create_client_registration_request(
            d.metadata.as_ref(),
            &md,
            &origin_of(endpoint)?,
        )?;
        let url = request.url.clone();
        let mut step = self.tracer.step(Step::Registration).http("POST", &url);
        let response = self.http.execute(request.to_http())?;
        step.status(response.status().as_u16());
        let info = match super::handle_registration_response(&response).and_then(|mut info| {
            super::effective_auth_method(&mut info, md.token_endpoint_auth_method.as_deref());
            super::check_registration_usable_with(
                &info,
                &["none", "client_secret_basic", "client_secret_post"],
            )?;
            Ok(info)
        }) {
            Ok(i) => i,
            Err(e) => {
                step.failed(e.to_string());
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
        step.ok(format!("client {} ({})", auth.client_id, auth.method));
        self.keep(d, &info, &auth);
        Ok(auth)
    }

    /// Store a new or updated registration and use it from now on.
    pub(super) fn keep(&self, d: &Discovery, info: &OAuthClientInformationFull, auth: &ClientAuth) {
        if let Err(e) = self.storage.set_client_info(&d.issuer, info) {
            self.tracer
                .step(Step::Registration)
                .failed(format!("registration not stored: {e}"));
        }
        self.known.remember(&d.issuer, auth);
    }
}

/// Why pre-registered credentials bound to another issuer cannot be used with `d`'s
/// (SEP-2352), if they are.
fn pre_registered_elsewhere(config: &ClientConfig, d: &Discovery) -> Option<String> {
    let iss = config.pre_registered.as_ref()?.issuer.as_ref()?;
    (!checks::issuers_match(iss, &d.issuer))
        .then(|| format!("belongs to issuer {iss}, not {}", d.issuer))
}

/// A public client (`none`): the CIMD URL as `client_id`.
fn public_client(client_id: String) -> ClientAuth {
    ClientAuth {
        client_id,
        method: TokenEndpointAuthMethod::None,
        client_secret: None,
        signing_key: None,
    }
}
