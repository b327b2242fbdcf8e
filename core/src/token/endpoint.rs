//! The one path to a token endpoint. Every grant goes through [`TokenEndpoint::post`]: the
//! authorization code exchange (RFC 6749 §4.1.3), refresh (§6), client credentials (§4.4),
//! the JWT bearer grant (RFC 7523 §2.1), and the SEP-990 token exchange at the identity
//! provider (RFC 8693), and token revocation (RFC 7009) at the revocation endpoint. One place applies client authentication, adds the DPoP proof and
//! retries once with the nonce the server demands (RFC 9449 §5, §8), redacts request secrets
//! that a server echoes into its error, and reports the step.

use zeroize::Zeroizing;

use super::{ClientAuth, TokenEndpointAuthMethod, TokenRequest};
use crate::client::EnterpriseIdentity;
use crate::discovery::Discovery;
use crate::dpop::{self, DpopState};
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::metadata::OAuthToken;
use crate::secret::{Assertion, AuthorizationCode, PkceCodeVerifier};
use crate::trace::{Step, Tracer};

/// Form fields of token requests that carry secrets.
const SECRET_FORM_FIELDS: &[&str] = &[
    "token",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "client_assertion",
    "assertion",
    "subject_token",
    "device_code",
];

/// The token endpoint step of one client: what it needs, borrowed from the session.
pub(crate) struct TokenEndpoint<'a> {
    pub(crate) http: &'a dyn HttpClient,
    pub(crate) tracer: &'a Tracer,
    pub(crate) dpop: &'a DpopState,
    /// The session's clock (seconds since the Unix epoch), for `expires_at`.
    pub(crate) clock: &'a (dyn Fn() -> u64 + Send + Sync),
}

impl TokenEndpoint<'_> {
    /// RFC 6749 §4.1.3 with the PKCE verifier (RFC 7636 §4.5) and `resource` (RFC 8707).
    pub(crate) fn authorization_code(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        code: &AuthorizationCode,
        redirect_uri: &str,
        verifier: &PkceCodeVerifier,
        scope: Option<&str>,
    ) -> Result<OAuthToken> {
        let request = TokenRequest::authorization_code(
            &d.token_endpoint,
            code,
            redirect_uri,
            verifier,
            d.resource.as_deref(),
        );
        self.grant(Step::TokenExchange, request, client, d, scope, d.dpop)
    }

    /// RFC 6749 §6, keeping the refresh token and scope the response omits.
    pub(crate) fn refresh(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        current: &OAuthToken,
    ) -> Result<OAuthToken> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(Error::Token {
                message: "no refresh token".to_owned(),
                status: None,
                oauth: None,
            });
        };
        let request =
            TokenRequest::refresh(&d.token_endpoint, refresh_token, d.resource.as_deref());
        // RFC 9449 §5: a DPoP-bound refresh needs a proof from the same key.
        let dpop = d.dpop || current.is_dpop();
        let new = self.grant(
            Step::Refresh,
            request,
            client,
            d,
            current.scope.as_deref(),
            dpop,
        )?;
        Ok(super::carry_over_refresh(new, current))
    }

    /// RFC 8628 §3.4: one poll of the device access token request.
    pub(crate) fn device_code(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        device_code: &crate::secret::DeviceCode,
        scope: Option<&str>,
    ) -> Result<OAuthToken> {
        let mut request = TokenRequest {
            url: d.token_endpoint.clone(),
            form: Vec::new(),
            headers: Vec::new(),
        };
        request.set("grant_type", crate::device::DEVICE_CODE_GRANT_TYPE);
        request.set("device_code", device_code.secret());
        if let Some(r) = &d.resource {
            request.set("resource", r);
        }
        self.grant(Step::TokenExchange, request, client, d, scope, d.dpop)
    }

    /// RFC 6749 §4.4.
    pub(crate) fn client_credentials(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        scope: Option<&str>,
    ) -> Result<OAuthToken> {
        let request =
            TokenRequest::client_credentials(&d.token_endpoint, scope, d.resource.as_deref());
        self.grant(Step::ClientCredentials, request, client, d, scope, d.dpop)
    }

    /// RFC 7523 §2.1: the assertion is the grant.
    pub(crate) fn jwt_bearer(
        &self,
        d: &Discovery,
        client: &ClientAuth,
        scope: Option<&str>,
        assertion: &Assertion,
    ) -> Result<OAuthToken> {
        let request =
            TokenRequest::jwt_bearer(&d.token_endpoint, assertion, scope, d.resource.as_deref());
        self.grant(Step::JwtBearer, request, client, d, scope, d.dpop)
    }

    /// SEP-990 leg 1: RFC 8693 token exchange at the identity provider, ID token → ID-JAG for
    /// `d`'s authorization server (`audience` = its issuer) and resource. The IdP client
    /// authenticates with `client_secret_post` when it has a secret.
    pub(crate) fn id_jag(
        &self,
        idp: &EnterpriseIdentity,
        d: &Discovery,
        scope: Option<&str>,
    ) -> Result<Assertion> {
        let request = TokenRequest::id_jag_exchange(
            &idp.idp_token_endpoint,
            &idp.id_token,
            &d.issuer,
            d.resource.as_deref(),
            scope,
        );
        let idp_client = ClientAuth {
            client_id: idp.idp_client_id.clone(),
            method: if idp.idp_client_secret.is_some() {
                TokenEndpointAuthMethod::ClientSecretPost
            } else {
                TokenEndpointAuthMethod::None
            },
            client_secret: idp.idp_client_secret.clone(),
            signing_key: None,
        };
        self.post(
            Step::TokenExchangeAtIdp,
            request,
            &idp_client,
            &idp.idp_token_endpoint,
            false,
            super::handle_token_exchange_response,
            |_| format!("ID-JAG issued for {}", d.issuer),
        )
    }

    /// RFC 7009 §2.1: revoke `token` (a `refresh_token` or `access_token`, per `hint`) at
    /// `d`'s revocation endpoint, authenticated as `client` exactly as at the token
    /// endpoint. `Ok(())` when the server confirmed (200, §2.2).
    pub(crate) fn revoke(
        &self,
        endpoint: &str,
        d: &Discovery,
        client: &ClientAuth,
        token: &str,
        hint: &str,
    ) -> Result<()> {
        let request = TokenRequest::revocation(endpoint, token, hint);
        self.post(
            Step::Revocation,
            request,
            client,
            &d.issuer,
            false,
            super::revocation::handle_revocation_response,
            |_| format!("{hint} revoked"),
        )
    }

    /// A grant at `d`'s token endpoint returning an access token (RFC 6749 §5.1).
    fn grant(
        &self,
        step: Step,
        mut request: TokenRequest,
        client: &ClientAuth,
        d: &Discovery,
        scope: Option<&str>,
        dpop: bool,
    ) -> Result<OAuthToken> {
        // The per-server extra parameters (docs/providers.md).
        d.overrides
            .apply_token_params(&mut request, d.resource.as_deref());
        let token = self.post(
            step,
            request,
            client,
            &d.issuer,
            dpop,
            |r| super::handle_token_response(r, scope).map(|t| t.with_expiry_from((self.clock)())),
            |t| {
                format!(
                    "{} token, expires in {}, scope {}",
                    t.token_type,
                    t.expires_in
                        .map(|s| format!("{s}s"))
                        .unwrap_or_else(|| "(unspecified)".to_owned()),
                    t.scope.as_deref().unwrap_or("(none)")
                )
            },
        )?;
        crate::overrides::check_token_tenant(d, step == Step::Refresh, &token, self.tracer)?;
        Ok(token)
    }

    /// POST `request` authenticated as `client` (`audience` is the `aud` of a JWT client
    /// assertion), with a DPoP proof when `dpop`; parse the answer with `parse`. Request
    /// secrets the server echoes into its error are redacted before the error reaches the
    /// caller or the trace.
    #[allow(clippy::too_many_arguments)]
    fn post<T>(
        &self,
        step: Step,
        mut request: TokenRequest,
        client: &ClientAuth,
        audience: &str,
        dpop: bool,
        parse: impl FnOnce(&http::Response<Vec<u8>>) -> Result<T>,
        describe: impl FnOnce(&T) -> String,
    ) -> Result<T> {
        client.apply(&mut request, audience)?;
        let secrets = request_secrets(&request);
        let mut timer = self.tracer.step(step).http("POST", &request.url);
        let response = if dpop {
            self.send_with_dpop_nonce_retry(&request)?
        } else {
            self.http.execute(request.to_http()?)?
        };
        drop(request);
        timer.status(response.status().as_u16());
        let result = parse(&response).map_err(|e| redact_echoed(e, &secrets));
        // RFC 8628 §3.5: a device grant still waiting for the user is not a failure.
        let pending = match &result {
            Err(e) => e
                .oauth_error()
                .map(|o| o.error.as_str())
                .filter(|c| matches!(*c, "authorization_pending" | "slow_down")),
            Ok(_) => None,
        };
        match pending {
            Some(code) => timer.fallback(format!(
                "{code}: the user has not authorized yet; polling again"
            )),
            None => timer.finish(&result, describe),
        }
        result
    }

    /// POST a token request with a DPoP proof (RFC 9449 §5), retrying once with the nonce the
    /// authorization server demands (§8) and remembering it for the next request.
    fn send_with_dpop_nonce_retry(
        &self,
        request: &TokenRequest,
    ) -> Result<http::Response<Vec<u8>>> {
        let key = self.dpop.key()?;
        let mut response = None;
        for _ in 0..2 {
            let nonce = self.dpop.as_nonce();
            let proof = key.proof("POST", &request.url, nonce.as_deref(), None)?;
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
                self.dpop.set_as_nonce(n);
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
}

/// The secrets a request carries (secret form fields, the `Authorization` credentials): a
/// server that echoes the request into its error body must not get them into our error
/// messages or traces.
fn request_secrets(request: &TokenRequest) -> Vec<Zeroizing<String>> {
    request
        .form
        .iter()
        .filter(|(k, _)| SECRET_FORM_FIELDS.contains(&k.as_str()))
        .map(|(_, v)| Zeroizing::new(v.clone()))
        .chain(
            request
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .filter_map(|(_, v)| v.split_once(' ').map(|(_, c)| Zeroizing::new(c.to_owned()))),
        )
        .filter(|v| v.len() >= 4)
        .collect()
}

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
