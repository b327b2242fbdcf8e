//! The token endpoint: grant requests (authorization code, refresh, client credentials),
//! client authentication (`none`, `client_secret_basic`, `client_secret_post`,
//! `private_key_jwt`) and token-response handling.
//!
//! Specs: RFC 6749 §2.3 (client authentication), §4.1.3 (code exchange), §4.4 (client
//! credentials), §5 (responses), §6 (refresh); RFC 7523 §2.2 and RFC 7521 §4.2 (JWT client
//! assertions); RFC 7636 §4.5 (`code_verifier`); RFC 8707 §2 (`resource`).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroize;

use crate::error::{Error, OAuthErrorResponse, Result};
use crate::metadata::OAuthToken;
use crate::secret::{AuthorizationCode, PkceCodeVerifier, RefreshToken};

mod auth;
pub(crate) mod endpoint;
pub mod revocation;

pub(crate) use auth::random_token;
pub use auth::{
    CLIENT_ASSERTION_TYPE_JWT_BEARER, ClientAuth, JwtAlgorithm, SigningKey,
    TokenEndpointAuthMethod, client_secret_basic_header, prepare_token_auth,
};

/// The JWT bearer authorization grant type (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The token exchange grant type (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The Identity Assertion JWT Authorization Grant token type (SEP-990).
pub const TOKEN_TYPE_ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";
/// The OpenID Connect ID token type (RFC 8693 §3).
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";

/// Seconds since the Unix epoch, from the system clock.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The issued token of an RFC 8693 §2.2.1 token exchange response (its `access_token`
/// member; `token_type` is `N_A` for assertions, so this is not an [`OAuthToken`]).
///
/// # Errors
/// [`Error::Token`] for an error status or a response without a string `access_token`.
pub fn handle_token_exchange_response(
    response: &http::Response<Vec<u8>>,
) -> Result<crate::secret::Assertion> {
    let status = response.status().as_u16();
    if status != 200 {
        let oauth = OAuthErrorResponse::from_json(response.body());
        let detail = match &oauth {
            Some(o) => o.to_string(),
            None => redirect_note(response).unwrap_or_else(|| body_summary(response)),
        };
        return Err(Error::Token {
            message: format!("Token exchange failed ({status}): {detail}"),
            status: Some(status),
            oauth: oauth.map(Box::new),
        });
    }
    let v: serde_json::Value =
        serde_json::from_slice(response.body()).map_err(|e| Error::Token {
            message: format!("Invalid token exchange response: {e}"),
            status: Some(status),
            oauth: None,
        })?;
    match v.get("access_token").and_then(|t| t.as_str()) {
        Some(t) if !t.is_empty() => Ok(crate::secret::Assertion::new(t)),
        _ => Err(Error::Token {
            message: "Invalid token exchange response: no access_token".to_owned(),
            status: Some(status),
            oauth: None,
        }),
    }
}

fn set_form(form: &mut Vec<(String, String)>, key: &str, value: &str) {
    if let Some(slot) = form.iter_mut().find(|(k, _)| k == key) {
        slot.1.zeroize();
        slot.1 = value.to_owned();
    } else {
        form.push((key.to_owned(), value.to_owned()));
    }
}

/// A token endpoint request: URL, form body fields and extra headers.
///
/// The form holds secrets (codes, verifiers, refresh tokens, client secrets); they are
/// zeroized when the request is dropped, and `Debug` prints only the field names.
pub struct TokenRequest {
    /// The token endpoint.
    pub url: String,
    /// The `application/x-www-form-urlencoded` fields, in order.
    pub form: Vec<(String, String)>,
    /// Extra headers (e.g. `Authorization: Basic`).
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.form.iter().map(|(k, _)| k.as_str()).collect();
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("TokenRequest")
            .field("url", &self.url)
            .field("form_fields", &keys)
            .field("headers", &headers)
            .finish()
    }
}

impl Drop for TokenRequest {
    fn drop(&mut self) {
        for (_, v) in &mut self.form {
            v.zeroize();
        }
        for (_, v) in &mut self.headers {
            v.zeroize();
        }
    }
}

impl TokenRequest {
    fn new(url: &str, grant_type: &str) -> Self {
        TokenRequest {
            url: url.to_owned(),
            form: vec![("grant_type".to_owned(), grant_type.to_owned())],
            headers: Vec::new(),
        }
    }

    /// Set (or replace) a form field.
    pub fn set(&mut self, key: &str, value: &str) {
        set_form(&mut self.form, key, value);
    }

    /// The value of a form field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// RFC 6749 §4.1.3 + RFC 7636 §4.5 + RFC 8707 §2: the authorization-code exchange.
    pub fn authorization_code(
        token_endpoint: &str,
        code: &AuthorizationCode,
        redirect_uri: &str,
        code_verifier: &PkceCodeVerifier,
        resource: Option<&str>,
    ) -> Self {
        let mut r = TokenRequest::new(token_endpoint, "authorization_code");
        r.set("code", code.secret());
        r.set("redirect_uri", redirect_uri);
        r.set("code_verifier", code_verifier.secret());
        if let Some(res) = resource {
            r.set("resource", res);
        }
        r
    }

    /// RFC 7009 §2.1: revoke `token` at `revocation_endpoint`, with the `token_type_hint`
    /// (`refresh_token` or `access_token`). No `grant_type`.
    pub fn revocation(revocation_endpoint: &str, token: &str, token_type_hint: &str) -> Self {
        let mut r = TokenRequest {
            url: revocation_endpoint.to_owned(),
            form: Vec::new(),
            headers: Vec::new(),
        };
        r.set("token", token);
        r.set("token_type_hint", token_type_hint);
        r
    }

    /// RFC 6749 §6 + RFC 8707 §2: a refresh.
    pub fn refresh(
        token_endpoint: &str,
        refresh_token: &RefreshToken,
        resource: Option<&str>,
    ) -> Self {
        let mut r = TokenRequest::new(token_endpoint, "refresh_token");
        r.set("refresh_token", refresh_token.secret());
        if let Some(res) = resource {
            r.set("resource", res);
        }
        r
    }

    /// RFC 6749 §4.4 + RFC 8707 §2: the client-credentials grant.
    pub fn client_credentials(
        token_endpoint: &str,
        scope: Option<&str>,
        resource: Option<&str>,
    ) -> Self {
        let mut r = TokenRequest::new(token_endpoint, "client_credentials");
        if let Some(s) = scope {
            r.set("scope", s);
        }
        if let Some(res) = resource {
            r.set("resource", res);
        }
        r
    }

    /// RFC 7523 §2.1 + RFC 8707 §2: a JWT assertion used as an authorization grant.
    pub fn jwt_bearer(
        token_endpoint: &str,
        assertion: &crate::secret::Assertion,
        scope: Option<&str>,
        resource: Option<&str>,
    ) -> Self {
        let mut r = TokenRequest::new(token_endpoint, JWT_BEARER_GRANT_TYPE);
        r.set("assertion", assertion.secret());
        if let Some(s) = scope {
            r.set("scope", s);
        }
        if let Some(res) = resource {
            r.set("resource", res);
        }
        r
    }

    /// RFC 8693 §2.1 token exchange for an Identity Assertion JWT Authorization Grant
    /// (SEP-990 / draft-ietf-oauth-identity-assertion-authz-grant): the identity provider
    /// exchanges the user's ID token for an ID-JAG addressed to `audience` (the authorization
    /// server issuer) for `resource`.
    pub fn id_jag_exchange(
        idp_token_endpoint: &str,
        id_token: &crate::secret::Assertion,
        audience: &str,
        resource: Option<&str>,
        scope: Option<&str>,
    ) -> Self {
        let mut r = TokenRequest::new(idp_token_endpoint, TOKEN_EXCHANGE_GRANT_TYPE);
        r.set("requested_token_type", TOKEN_TYPE_ID_JAG);
        r.set("audience", audience);
        if let Some(res) = resource {
            r.set("resource", res);
        }
        if let Some(s) = scope {
            r.set("scope", s);
        }
        r.set("subject_token", id_token.secret());
        r.set("subject_token_type", TOKEN_TYPE_ID_TOKEN);
        r
    }

    /// The HTTP request: `POST`, form-encoded body, `Accept: application/json`.
    pub fn to_http(&self) -> Result<http::Request<Vec<u8>>> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.form.iter())
            .finish()
            .into_bytes();
        let mut b = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.url.as_str())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.body(body)
            .map_err(|e| Error::invalid_argument("token endpoint", e.to_string()))
    }
}

/// Parse a token endpoint response (RFC 6749 §5.1/§5.2).
///
/// Success is 200 (and 201, which some servers send for the code exchange and the reference
/// accepts). An omitted `scope` is back-filled with `requested_scope` (RFC 6749 §5.1: the
/// granted scope equals the requested one when omitted). `expires_at` is set from the clock.
///
/// # Errors
/// [`Error::Token`] with the RFC 6749 §5.2 error for a non-success status, or when the body is
/// not a valid token response (no `access_token`, unsupported `token_type`).
pub fn handle_token_response(
    response: &http::Response<Vec<u8>>,
    requested_scope: Option<&str>,
) -> Result<OAuthToken> {
    let status = response.status().as_u16();
    if status != 200 && status != 201 {
        let oauth = OAuthErrorResponse::from_json(response.body());
        // A non-JSON body is summarised, never quoted: a server that echoes the request
        // (error pages often do) would put the code, verifier or refresh token in our message.
        let detail = match &oauth {
            Some(o) => o.to_string(),
            None => redirect_note(response).unwrap_or_else(|| body_summary(response)),
        };
        return Err(Error::Token {
            message: format!("Token request failed ({status}): {detail}"),
            status: Some(status),
            oauth: oauth.map(Box::new),
        });
    }
    let mut token = OAuthToken::from_json(response.body()).map_err(|e| Error::Token {
        message: format!("Invalid token response: {e}"),
        status: Some(status),
        oauth: None,
    })?;
    if token.scope.is_none() {
        token.scope = requested_scope.map(str::to_owned);
    }
    Ok(token.with_expiry_from(now_unix()))
}

/// The reference's `handle_token_response_scopes`: parse a token response, back-filling the
/// requested scope. Same as [`handle_token_response`].
pub fn handle_token_response_scopes(
    response: &http::Response<Vec<u8>>,
    requested_scope: Option<&str>,
) -> Result<OAuthToken> {
    handle_token_response(response, requested_scope)
}

/// A refreshed token keeps the previous refresh token and scope when the response omits them
/// (RFC 6749 §6: the server MAY issue a new refresh token; if it does not, the old one stays
/// valid; the scope is unchanged unless stated).
pub fn carry_over_refresh(mut new: OAuthToken, previous: &OAuthToken) -> OAuthToken {
    if new.refresh_token.is_none() {
        new.refresh_token = previous.refresh_token.clone();
    }
    if new.scope.is_none() {
        new.scope = previous.scope.clone();
    }
    new
}

/// `(redirected to X; not followed)` for a 3xx with `Location`, userinfo and query removed.
pub(crate) fn redirect_note(response: &http::Response<Vec<u8>>) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    let loc = response
        .headers()
        .get(http::header::LOCATION)?
        .to_str()
        .ok()?;
    Some(format!("(redirected to {}; not followed)", public_url(loc)))
}

/// A URL with userinfo, query and fragment removed: safe for messages and traces (queries can
/// carry codes and tokens).
pub fn public_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        // Not a URL the parser accepts: the conservative redaction (cuts at the last `@` of
        // the authority, so no part of a password survives).
        Err(_) => crate::http::redact_url(url),
    }
}

/// `"<content type> body of <n> bytes"`: what an error message says about a body it must not
/// quote.
pub(crate) fn body_summary(response: &http::Response<Vec<u8>>) -> String {
    let ct = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
        .unwrap_or_else(|| "untyped".to_owned());
    format!(
        "{ct} body of {} bytes (not an OAuth error response)",
        response.body().len()
    )
}

/// The first 200 characters of a body, for error messages (servers' error pages), with
/// control characters escaped so that server text cannot forge log lines.
pub(crate) fn body_snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let mut out = String::with_capacity(trimmed.len().min(256));
    for c in trimmed.chars().take(200) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if trimmed.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::auth::decode_pem;
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use ring::rand::SystemRandom;
    use ring::signature::{self, EcdsaKeyPair};

    /// A fresh P-256 PKCS#8 key as PEM.
    fn ec_pem() -> String {
        let doc = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(doc.as_ref())
        )
    }

    #[test]
    fn rfc6749_2_3_1_basic_header_form_encodes_id_and_secret() {
        // Reference vector: test@client / test:secret.
        assert_eq!(
            client_secret_basic_header("test@client", "test:secret"),
            "Basic dGVzdCU0MGNsaWVudDp0ZXN0JTNBc2VjcmV0"
        );
        assert_eq!(
            client_secret_basic_header("c", "s p+a/c%e"),
            "Basic YzpzJTIwcCUyQmElMkZjJTI1ZQ=="
        );
    }

    #[test]
    fn rfc7523_es256_assertion_has_three_parts_and_verifies() {
        let pem = ec_pem();
        let key = SigningKey::from_pem(&pem, None).unwrap();
        assert_eq!(key.algorithm(), JwtAlgorithm::ES256);
        let jwt = key
            .client_assertion("client-1", "https://as.example")
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], "https://as.example");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        // Verify with the public key.
        let (_, der) = decode_pem(&pem).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &SystemRandom::new(),
        )
        .unwrap();
        use ring::signature::KeyPair;
        let pk = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            kp.public_key().as_ref(),
        );
        let signed = format!("{}.{}", parts[0], parts[1]);
        pk.verify(
            signed.as_bytes(),
            &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn bad_pem_is_a_clear_error_not_a_panic() {
        for pem in [
            "",
            "garbage",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN FOO-----\nAAAA\n-----END FOO-----",
        ] {
            let e = SigningKey::from_pem(pem, None).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{pem}");
        }
        let e = SigningKey::from_pem(&ec_pem(), Some(JwtAlgorithm::RS256)).unwrap_err();
        assert!(e.to_string().contains("RS256"));
    }

    #[test]
    fn signing_key_debug_is_redacted() {
        let key = SigningKey::from_pem(&ec_pem(), None).unwrap();
        let d = format!("{key:?}");
        assert!(d.contains("[redacted]"));
        assert!(!d.contains("MIGH"));
    }

    #[test]
    fn token_request_debug_hides_values() {
        let r = TokenRequest::authorization_code(
            "https://as/token",
            &AuthorizationCode::new("CODE-SECRET"),
            "http://localhost/cb",
            &PkceCodeVerifier::new("VERIFIER-SECRET"),
            Some("https://rs/mcp"),
        );
        let d = format!("{r:?}");
        assert!(!d.contains("SECRET"), "{d}");
        assert!(d.contains("code_verifier"));
    }

    #[test]
    fn public_url_strips_query_and_userinfo() {
        assert_eq!(
            public_url("https://u:p@as.example/cb?code=abc#x"),
            "https://as.example/cb"
        );
        assert_eq!(public_url("not a url?code=1"), "not a url");
    }
}
