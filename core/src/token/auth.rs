//! Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2, RFC 7521 §4.2):
//! the methods, the signing keys for `private_key_jwt`, and [`ClientAuth`], which applies them
//! to a [`TokenRequest`](super::TokenRequest).

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};
use zeroize::Zeroize;

use super::{TokenRequest, now_unix, set_form};
use crate::error::{Error, Result};
use crate::metadata::OAuthClientInformationFull;
use crate::secret::ClientSecret;

/// `client_assertion_type` for a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the client authenticates to the token endpoint (RFC 6749 §2.3, RFC 7591 §2
/// `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenEndpointAuthMethod {
    /// A public client: only `client_id` in the body.
    None,
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A signed JWT assertion (RFC 7523 §2.2, OIDC Core §9).
    PrivateKeyJwt,
}

impl TokenEndpointAuthMethod {
    /// The registered name, e.g. `client_secret_basic`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuthMethod::None => "none",
            TokenEndpointAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenEndpointAuthMethod::ClientSecretPost => "client_secret_post",
            TokenEndpointAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Parse a registered name; `None` for methods this library does not implement
    /// (e.g. `client_secret_jwt`, `tls_client_auth`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "none" => Some(TokenEndpointAuthMethod::None),
            "client_secret_basic" => Some(TokenEndpointAuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(TokenEndpointAuthMethod::ClientSecretPost),
            "private_key_jwt" => Some(TokenEndpointAuthMethod::PrivateKeyJwt),
            _ => None,
        }
    }
}

impl fmt::Display for TokenEndpointAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JWS algorithm of a [`SigningKey`] (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
}

impl JwtAlgorithm {
    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::RS256 => "RS256",
        }
    }

    /// Parse a JWS `alg` name (case-sensitive, RFC 7515 §4.1.1).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(JwtAlgorithm::ES256),
            "RS256" => Some(JwtAlgorithm::RS256),
            _ => None,
        }
    }
}

enum KeyInner {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private key for `private_key_jwt` client authentication (RFC 7523) and other signed
/// assertions. Loaded from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) for P-256 or RSA, or PKCS#1
/// (`BEGIN RSA PRIVATE KEY`) for RSA.
///
/// `Debug` never prints key material.
pub struct SigningKey {
    alg: JwtAlgorithm,
    key: KeyInner,
    key_id: Option<String>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("key_id", &self.key_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Decode the first PEM block: its label and DER bytes.
pub(super) fn decode_pem(pem: &str) -> Result<(String, Vec<u8>)> {
    let bad = |reason: &str| Error::invalid_argument("PEM private key", reason.to_owned());
    let begin = pem
        .find("-----BEGIN ")
        .ok_or_else(|| bad("no -----BEGIN line"))?;
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| bad("unterminated BEGIN line"))?;
    let label = rest[..label_end].to_owned();
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_end
        .find(&end_marker)
        .ok_or_else(|| bad("no matching -----END line"))?;
    let mut b64: String = body_and_end[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| bad("invalid base64 body"));
    b64.zeroize();
    Ok((label, der?))
}

impl SigningKey {
    /// Load a key from PEM. `alg` may be given to insist on an algorithm; otherwise it is
    /// inferred from the key type (EC P-256 → ES256, RSA → RS256).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the PEM is malformed, the key type is unsupported, or it
    /// does not match `alg`.
    pub fn from_pem(pem: &str, alg: Option<JwtAlgorithm>) -> Result<Self> {
        let (label, mut der) = decode_pem(pem)?;
        let rng = SystemRandom::new();
        let key = match label.as_str() {
            "PRIVATE KEY" => if alg != Some(JwtAlgorithm::RS256) {
                match EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &der,
                    &rng,
                ) {
                    Ok(k) => Some(KeyInner::Ec(k)),
                    Err(_) => None,
                }
            } else {
                None
            }
            .or_else(|| {
                if alg != Some(JwtAlgorithm::ES256) {
                    RsaKeyPair::from_pkcs8(&der).ok().map(KeyInner::Rsa)
                } else {
                    None
                }
            }),
            "RSA PRIVATE KEY" if alg != Some(JwtAlgorithm::ES256) => {
                RsaKeyPair::from_der(&der).ok().map(KeyInner::Rsa)
            }
            "EC PRIVATE KEY" => {
                der.zeroize();
                return Err(Error::invalid_argument(
                    "PEM private key",
                    "SEC1 'EC PRIVATE KEY' is not supported; convert it to PKCS#8 ('openssl pkcs8 -topk8 -nocrypt')",
                ));
            }
            other => {
                der.zeroize();
                return Err(Error::invalid_argument(
                    "PEM private key",
                    format!("unsupported PEM label '{other}'"),
                ));
            }
        };
        der.zeroize();
        let key = key.ok_or_else(|| {
            Error::invalid_argument(
                "PEM private key",
                match alg {
                    Some(a) => format!("not a valid {} private key", a.as_str()),
                    None => "not a valid P-256 or RSA private key".to_owned(),
                },
            )
        })?;
        let alg = match &key {
            KeyInner::Ec(_) => JwtAlgorithm::ES256,
            KeyInner::Rsa(_) => JwtAlgorithm::RS256,
        };
        Ok(SigningKey {
            alg,
            key,
            key_id: None,
        })
    }

    /// Set the JWS `kid` header value.
    pub fn with_key_id(mut self, kid: impl Into<String>) -> Self {
        self.key_id = Some(kid.into());
        self
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.alg
    }

    /// Sign `claims` as a compact JWS (RFC 7515 §7.1) with header `{"alg","typ":"JWT"[,"kid"]}`.
    ///
    /// # Errors
    /// [`Error::Internal`] if the signature operation fails (it does not for valid keys).
    pub fn sign_jwt(&self, claims: &serde_json::Value) -> Result<String> {
        let mut header = serde_json::json!({"alg": self.alg.as_str(), "typ": "JWT"});
        if let Some(kid) = &self.key_id {
            header["kid"] = serde_json::Value::String(kid.clone());
        }
        let mut out = String::with_capacity(512);
        URL_SAFE_NO_PAD.encode_string(header.to_string().as_bytes(), &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(claims.to_string().as_bytes(), &mut out);
        let rng = SystemRandom::new();
        let fail = || Error::Internal {
            message: "JWT signing failed".to_owned(),
        };
        let sig = match &self.key {
            KeyInner::Ec(k) => k
                .sign(&rng, out.as_bytes())
                .map_err(|_| fail())?
                .as_ref()
                .to_vec(),
            KeyInner::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, out.as_bytes(), &mut sig)
                    .map_err(|_| fail())?;
                sig
            }
        };
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
        Ok(out)
    }

    /// A client assertion for `private_key_jwt` (RFC 7523 §3): `iss` = `sub` = `client_id`,
    /// `aud` = the authorization server's issuer (RFC 7523bis; the token endpoint URL is also
    /// accepted by most servers), a 5-minute lifetime, a random `jti`.
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> Result<String> {
        let now = now_unix();
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": random_token(16),
        });
        self.sign_jwt(&claims)
    }
}

/// `n` random bytes from the system CSPRNG, base64url without padding.
pub(crate) fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // SystemRandom only fails if the OS RNG is unavailable, which std also treats as fatal;
    // fall back to time-derived bytes is NOT acceptable for secrets, so surface zeros never:
    SystemRandom::new()
        .fill(&mut buf)
        .expect("operating system CSPRNG unavailable");
    let s = URL_SAFE_NO_PAD.encode(&buf);
    buf.zeroize();
    s
}

/// The credentials a client authenticates with at the token endpoint.
#[derive(Clone)]
pub struct ClientAuth {
    /// The `client_id`.
    pub client_id: String,
    /// The method.
    pub method: TokenEndpointAuthMethod,
    /// The secret, for the `client_secret_*` methods.
    pub client_secret: Option<ClientSecret>,
    /// The key, for `private_key_jwt`.
    pub signing_key: Option<Arc<SigningKey>>,
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .field("client_secret", &self.client_secret)
            .field("signing_key", &self.signing_key)
            .finish()
    }
}

impl ClientAuth {
    /// Apply client authentication to a token request (RFC 6749 §2.3.1, RFC 7523 §2.2).
    ///
    /// `audience` is the authorization server issuer, used as the `aud` of a JWT assertion.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the method needs a secret or key that is missing.
    pub fn apply(&self, request: &mut TokenRequest, audience: &str) -> Result<()> {
        match self.method {
            TokenEndpointAuthMethod::None => {
                request.set("client_id", &self.client_id);
            }
            TokenEndpointAuthMethod::ClientSecretBasic => {
                let secret = self.secret_for("client_secret_basic")?;
                request.set("client_id", &self.client_id);
                request.headers.push((
                    "Authorization".to_owned(),
                    client_secret_basic_header(&self.client_id, secret.secret()),
                ));
            }
            TokenEndpointAuthMethod::ClientSecretPost => {
                let secret = self.secret_for("client_secret_post")?;
                request.set("client_id", &self.client_id);
                request.set("client_secret", secret.secret());
            }
            TokenEndpointAuthMethod::PrivateKeyJwt => {
                let key = self.signing_key.as_ref().ok_or_else(|| {
                    Error::invalid_argument(
                        "client credentials",
                        "private_key_jwt requires a signing key",
                    )
                })?;
                let assertion = key.client_assertion(&self.client_id, audience)?;
                request.set("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER);
                request.set("client_assertion", &assertion);
            }
        }
        Ok(())
    }

    fn secret_for(&self, method: &str) -> Result<&ClientSecret> {
        self.client_secret
            .as_ref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::invalid_argument(
                    "client credentials",
                    format!("{method} requires a client secret"),
                )
            })
    }

    /// The credentials of a registered client (RFC 7591 §3.2.1). A secret registered without
    /// a method is used with `client_secret_basic`, the RFC 7591 §2 default.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a method this library does not implement.
    pub fn from_client_info(info: &OAuthClientInformationFull) -> Result<Self> {
        let secret = info.client_secret.clone().filter(|s| !s.is_empty());
        let method = match info.token_endpoint_auth_method.as_deref() {
            None => {
                if secret.is_some() {
                    TokenEndpointAuthMethod::ClientSecretBasic
                } else {
                    TokenEndpointAuthMethod::None
                }
            }
            Some(m) => TokenEndpointAuthMethod::parse(m).ok_or_else(|| Error::Unsupported {
                message: format!(
                    "Registered client uses unsupported token_endpoint_auth_method '{m}'"
                ),
            })?,
        };
        Ok(ClientAuth {
            client_id: info.client_id.clone(),
            method,
            client_secret: secret,
            signing_key: None,
        })
    }
}

/// `Authorization: Basic` for `client_secret_basic` (RFC 6749 §2.3.1): the id and secret are
/// each form-urlencoded (`%20` for a space, as the reference does, which every decoder accepts)
/// before base64.
pub fn client_secret_basic_header(client_id: &str, client_secret: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    // RFC 3986 unreserved characters stay literal, everything else is escaped (Python
    // `quote(safe="")` keeps `-._~` too).
    const SET: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let mut pair = format!(
        "{}:{}",
        utf8_percent_encode(client_id, SET),
        utf8_percent_encode(client_secret, SET)
    );
    let header = format!("Basic {}", STANDARD.encode(pair.as_bytes()));
    pair.zeroize();
    header
}

/// The reference's `prepare_token_auth` (Python SDK `OAuthContext.prepare_token_auth`):
/// mutate `form` and `headers` for the registered client's method.
///
/// `client_secret_basic` with a secret → Basic header, `client_secret` removed from the body;
/// `client_secret_post` with a secret → `client_secret` in the body; `none`, no method, or a
/// secret method without a secret → nothing; `private_key_jwt` → nothing (the assertion is
/// added by [`ClientAuth::apply`]); any other method → [`Error::Token`].
///
/// Kept for reference compatibility; the client itself uses [`ClientAuth`], which also
/// applies the RFC 7591 default (`client_secret_basic`) to a secret registered without a method.
pub fn prepare_token_auth(
    client_info: &OAuthClientInformationFull,
    form: &mut Vec<(String, String)>,
    headers: &mut Vec<(String, String)>,
) -> Result<()> {
    let secret = client_info.client_secret.as_ref().filter(|s| !s.is_empty());
    match client_info.token_endpoint_auth_method.as_deref() {
        Some("client_secret_basic") => {
            if let Some(secret) = secret {
                headers.push((
                    "Authorization".to_owned(),
                    client_secret_basic_header(&client_info.client_id, secret.secret()),
                ));
                form.retain(|(k, _)| k != "client_secret");
            }
        }
        Some("client_secret_post") => {
            if let Some(secret) = secret {
                set_form(form, "client_secret", secret.secret());
            }
        }
        None | Some("none") | Some("private_key_jwt") => {}
        Some(other) => {
            return Err(Error::Token {
                message: format!(
                    "Registered client uses unsupported token_endpoint_auth_method '{other}'"
                ),
                status: None,
                oauth: None,
            });
        }
    }
    Ok(())
}
