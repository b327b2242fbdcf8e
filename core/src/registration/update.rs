//! Step-up beyond the registered scope (issue 13 item 3): an authorization server that
//! enforces a dynamic registration's `scope` (oidc-provider does) refuses an authorization for
//! a scope the client did not register with (`invalid_scope`). The registration is widened to
//! the union of the registered and the wanted scope, once per step-up, said in the trace:
//!
//! - when the registration response gave `registration_client_uri` and
//!   `registration_access_token` (RFC 7592), before the step-up authorization: `PUT` of the
//!   client metadata with the union (the client keeps its identity);
//! - otherwise only when the server refuses the step-up with `invalid_scope`: a new
//!   registration (RFC 7591) with the union, then the authorization again. A server that does
//!   not enforce the registered scope keeps the registration.

use crate::checks::origin_of;
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use crate::metadata::OAuthClientInformationFull;
use crate::scope;
use crate::token::ClientAuth;
use crate::trace::Step;

use super::identity::Identity;

/// Members of a stored registration that are not client metadata (RFC 7592 §2.2: the update
/// request must not carry them), or are ours (the SEP-2352 `issuer` binding).
const NOT_METADATA: [&str; 5] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
    "issuer",
];

/// Whether every scope token of `wanted` is in `registered`.
fn covers(registered: &str, wanted: &str) -> bool {
    wanted
        .split_whitespace()
        .all(|w| registered.split_whitespace().any(|r| r == w))
}

/// A member of the registration's extra members, as a string.
fn extra<'a>(info: &'a OAuthClientInformationFull, name: &str) -> Option<&'a str> {
    info.extra
        .get(name)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

impl Identity<'_> {
    /// The credentials for a step-up grant asking for `scope`: those of
    /// [`for_grant`](Self::for_grant), with the dynamic registration widened first when it was
    /// registered with a `scope` that does not cover `scope`.
    pub(crate) fn for_step_up(&self, d: &Discovery, scope: Option<&str>) -> Result<ClientAuth> {
        let auth = self.for_grant(d, scope)?;
        let Some(wanted) = scope.filter(|s| !s.trim().is_empty()) else {
            return Ok(auth);
        };
        if self.config.pre_registered.is_some()
            || self.config.client_metadata_url.as_deref() == Some(auth.client_id.as_str())
        {
            return Ok(auth);
        }
        let info = match self.storage.get_client_info(&d.issuer)? {
            Some(info) if info.client_id == auth.client_id => info,
            _ => return Ok(auth),
        };
        let Some(registered) = info.scope.as_deref() else {
            // Registered without a scope: the AS applies no per-client scope we know of.
            return Ok(auth);
        };
        if covers(registered, wanted) {
            return Ok(auth);
        }
        let union = scope::union_scopes(Some(registered), Some(wanted)).unwrap_or_default();
        let (Some(uri), Some(token)) = (
            extra(&info, "registration_client_uri"),
            extra(&info, "registration_access_token"),
        ) else {
            // Without RFC 7592 the client identity would change on every step-up, also at
            // servers that do not enforce the registered scope: registered again only when the
            // server refuses the scope ([`retry_client`](Self::retry_client)).
            return Ok(auth);
        };
        match self.update_registration(d, &info, uri, token, &union) {
            Ok(auth) => Ok(auth),
            Err(e) => {
                self.tracer.step(Step::Registration).fallback(format!(
                    "the update of client {} was refused ({e}); registering again with scope \"{union}\"",
                    info.client_id
                ));
                self.register(d, Some(&union), true)
            }
        }
    }

    /// The client to retry a refused grant with, once, if any: a new registration when the
    /// server refused `client` as unknown ([`forget_if_unknown`](Self::forget_if_unknown)), or,
    /// on a step-up the server refused with `invalid_scope`, a new registration with the union
    /// of the registered and the wanted scope when the registration does not cover it.
    pub(crate) fn retry_client(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        scope: Option<&str>,
        step_up: bool,
        error: &Error,
    ) -> Result<Option<ClientAuth>> {
        if self.forget_if_unknown(d, client, error) {
            return self.for_grant(d, scope).map(Some);
        }
        let refused_scope = error
            .oauth_error()
            .is_some_and(|o| o.error == "invalid_scope");
        let (true, true, Some(wanted)) = (step_up, refused_scope, scope) else {
            return Ok(None);
        };
        if self.config.pre_registered.is_some()
            || self.config.client_metadata_url.as_deref() == Some(client.client_id.as_str())
        {
            return Ok(None);
        }
        let registered = match self.storage.get_client_info(&d.issuer)? {
            Some(info) if info.client_id == client.client_id => info.scope,
            _ => None,
        };
        let Some(registered) = registered.filter(|r| !covers(r, wanted)) else {
            return Ok(None);
        };
        let union = scope::union_scopes(Some(&registered), Some(wanted)).unwrap_or_default();
        self.tracer.step(Step::Registration).fallback(format!(
            "{} refused scope \"{wanted}\" for client {}, registered with \"{registered}\" (invalid_scope): registering again with scope \"{union}\"",
            d.issuer, client.client_id
        ));
        self.register(d, Some(&union), true).map(Some)
    }

    /// RFC 7592 §2.2: `PUT` the registration's metadata with `scope` replaced to `uri`, with
    /// the `registration_access_token` as a bearer token; store what the server answered.
    fn update_registration(
        &self,
        d: &Discovery,
        info: &OAuthClientInformationFull,
        uri: &str,
        token: &str,
        scope: &str,
    ) -> Result<ClientAuth> {
        // The token goes only to the authorization server that issued it.
        let origin = origin_of(uri)?;
        let expected = d.registration_endpoint.as_deref().unwrap_or(&d.issuer);
        if origin != origin_of(expected)? {
            return Err(Error::Registration {
                message: format!(
                    "registration_client_uri {} is not on the registration endpoint's origin",
                    crate::token::public_url(uri)
                ),
                status: None,
                oauth: None,
            });
        }
        crate::checks::require_secure_url("registration_client_uri", uri)?;
        let mut body = serde_json::to_value(info)
            .map_err(|e| Error::invalid_argument("client information", e.to_string()))?;
        if let Some(map) = body.as_object_mut() {
            for name in NOT_METADATA {
                map.remove(name);
            }
            map.insert("scope".to_owned(), scope.into());
        }
        let body = serde_json::to_vec(&body).expect("a JSON value always serializes");
        let request = http::Request::put(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(body)
            .map_err(|e| Error::invalid_argument("registration_client_uri", e.to_string()))?;
        let mut step = self.tracer.step(Step::Registration).http("PUT", uri);
        let response = self.http.execute(request)?;
        step.status(response.status().as_u16());
        let updated = super::handle_registration_response(&response).and_then(|mut new| {
            if new.client_id != info.client_id {
                return Err(Error::Registration {
                    message: format!(
                        "Invalid registration update response: client_id {} instead of {}",
                        new.client_id, info.client_id
                    ),
                    status: Some(response.status().as_u16()),
                    oauth: None,
                });
            }
            // RFC 7592 §3: members the response leaves out keep their registered values.
            super::effective_auth_method(&mut new, info.token_endpoint_auth_method.as_deref());
            if new.client_secret.is_none() {
                new.client_secret = info.client_secret.clone();
            }
            if new.scope.is_none() {
                new.scope = Some(scope.to_owned());
            }
            for name in ["registration_client_uri", "registration_access_token"] {
                if extra(&new, name).is_none() {
                    if let Some(v) = info.extra.get(name) {
                        new.extra.insert(name.to_owned(), v.clone());
                    }
                }
            }
            new.issuer = info.issuer.clone();
            super::check_registration_usable(&new)?;
            Ok(new)
        });
        let new = match updated {
            Ok(new) => new,
            Err(e) => {
                step.failed(e.to_string());
                return Err(e);
            }
        };
        let auth = ClientAuth::from_client_info(&new)?;
        step.ok(format!(
            "registration of client {} updated (RFC 7592) to scope \"{scope}\"",
            new.client_id
        ));
        self.keep(d, &new, &auth);
        Ok(auth)
    }
}
