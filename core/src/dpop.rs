//! DPoP: sender-constrained tokens (RFC 9449).
//!
//! A [`DpopKey`] is an ephemeral P-256 key generated per client. Every token request carries
//! a proof (`DPoP` header, RFC 9449 §5); a DPoP-bound access token is then presented with
//! the `DPoP` authorization scheme and a fresh proof that also hashes the token (`ath`, §7).
//! Servers may demand a nonce (`use_dpop_nonce` with a `DPoP-Nonce` header, §8 for the
//! authorization server, §9 for the resource server); the client retries once with it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};

use crate::error::{Error, Result};

/// The `error` code a server uses to demand a DPoP nonce (RFC 9449 §8, §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// The header carrying a server-supplied nonce.
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";

/// An ephemeral ES256 key that signs DPoP proofs. `Debug` never prints key material.
pub struct DpopKey {
    key: EcdsaKeyPair,
    /// The public JWK, serialized once.
    jwk: serde_json::Value,
    thumbprint: String,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("jkt", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// Generate a fresh P-256 key from the system CSPRNG.
    ///
    /// # Errors
    /// [`Error::Internal`] if the system random source fails.
    pub fn generate() -> Result<Self> {
        let rng = SystemRandom::new();
        let internal = |what: &str| Error::Internal {
            message: format!("DPoP key generation failed: {what}"),
        };
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| internal("generate"))?;
        let key = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .map_err(|_| internal("load"))?;
        // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
        let public = key.public_key().as_ref();
        if public.len() != 65 {
            return Err(internal("unexpected public key encoding"));
        }
        let x = URL_SAFE_NO_PAD.encode(&public[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&public[33..65]);
        // RFC 7638 §3.2: the thumbprint input has the required members in lexicographic
        // order and no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let thumbprint = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        ));
        let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y});
        Ok(DpopKey {
            key,
            jwk,
            thumbprint,
        })
    }

    /// The RFC 7638 JWK SHA-256 thumbprint (`jkt`) of the public key.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// A DPoP proof JWT (RFC 9449 §4.2) for `method` on `url` (query and fragment are removed
    /// for `htu`), with the server's `nonce` when it demanded one, and `ath` (the base64url
    /// SHA-256 of the access token) when presenting a token to a resource server (§7.1).
    ///
    /// # Errors
    /// [`Error::Internal`] if signing fails.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String> {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let mut claims = serde_json::json!({
            "jti": crate::token::random_token(16),
            "htm": method,
            "htu": htu,
            "iat": crate::token::now_unix(),
        });
        if let Some(n) = nonce {
            claims["nonce"] = serde_json::Value::String(n.to_owned());
        }
        if let Some(t) = access_token {
            let hash = ring::digest::digest(&ring::digest::SHA256, t.as_bytes());
            claims["ath"] = serde_json::Value::String(URL_SAFE_NO_PAD.encode(hash));
        }
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let mut out = String::with_capacity(600);
        URL_SAFE_NO_PAD.encode_string(header.to_string().as_bytes(), &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(claims.to_string().as_bytes(), &mut out);
        let sig = self
            .key
            .sign(&SystemRandom::new(), out.as_bytes())
            .map_err(|_| Error::Internal {
                message: "DPoP proof signing failed".to_owned(),
            })?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig.as_ref(), &mut out);
        Ok(out)
    }
}

/// The nonce a response demands (RFC 9449 §8/§9): its `DPoP-Nonce` header, when the response
/// is a `use_dpop_nonce` error (a 400 JSON error from the authorization server, or a 401
/// `DPoP` challenge from the resource server).
pub fn demanded_nonce(response: &http::Response<Vec<u8>>) -> Option<String> {
    let nonce = response
        .headers()
        .get(DPOP_NONCE_HEADER)
        .and_then(|v| v.to_str().ok())?
        .to_owned();
    let status = response.status().as_u16();
    let from_body = || {
        crate::error::OAuthErrorResponse::from_json(response.body())
            .is_some_and(|e| e.error == USE_DPOP_NONCE)
    };
    let from_challenge = || {
        crate::challenge::parse_www_authenticate_headers(response.headers())
            .iter()
            .any(|c| c.param("error") == Some(USE_DPOP_NONCE))
    };
    ((status == 400 || status == 401) && (from_body() || from_challenge())).then_some(nonce)
}

/// A client's DPoP state (RFC 9449): its one key, created when a flow first needs one (every
/// token it obtains is bound to the same key), and the last nonces the authorization server
/// (§8) and the resource server (§9) supplied.
#[derive(Default)]
pub(crate) struct DpopState(std::sync::Mutex<DpopInner>);

#[derive(Default)]
struct DpopInner {
    key: Option<std::sync::Arc<DpopKey>>,
    nonce_as: Option<String>,
    nonce_rs: Option<String>,
}

impl DpopState {
    fn lock(&self) -> std::sync::MutexGuard<'_, DpopInner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key, created on first use.
    pub(crate) fn key(&self) -> Result<std::sync::Arc<DpopKey>> {
        let mut s = self.lock();
        if let Some(k) = &s.key {
            return Ok(k.clone());
        }
        let k = std::sync::Arc::new(DpopKey::generate()?);
        s.key = Some(k.clone());
        Ok(k)
    }

    /// Whether a key exists (a DPoP-bound token from another process is bound to a key this
    /// one never had: keys are never stored).
    pub(crate) fn has_key(&self) -> bool {
        self.lock().key.is_some()
    }

    /// The authorization server's last nonce.
    pub(crate) fn as_nonce(&self) -> Option<String> {
        self.lock().nonce_as.clone()
    }

    /// Remember the authorization server's nonce.
    pub(crate) fn set_as_nonce(&self, nonce: &str) {
        self.lock().nonce_as = Some(nonce.to_owned());
    }

    /// The resource server's last nonce.
    pub(crate) fn rs_nonce(&self) -> Option<String> {
        self.lock().nonce_rs.clone()
    }

    /// Remember the resource server's nonce; `false` when it is the one already in use (a
    /// retry with it would not help).
    pub(crate) fn set_rs_nonce_if_new(&self, nonce: String) -> bool {
        let mut s = self.lock();
        if s.nonce_rs.as_deref() == Some(nonce.as_str()) {
            return false;
        }
        s.nonce_rs = Some(nonce);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9449_4_2_proof_has_the_required_header_and_claims() {
        let k = DpopKey::generate().unwrap();
        let p = k
            .proof(
                "POST",
                "https://rs.example/mcp?x=1#f",
                Some("n1"),
                Some("tok"),
            )
            .unwrap();
        let parts: Vec<&str> = p.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert!(
            header["jwk"].get("d").is_none(),
            "no private part in the proof"
        );
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://rs.example/mcp");
        assert_eq!(claims["nonce"], "n1");
        let ath = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, b"tok"));
        assert_eq!(claims["ath"], ath);
        // The signature verifies with the embedded key.
        let pk = k.key.public_key().as_ref().to_vec();
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, pk)
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            )
            .unwrap();
        assert_eq!(k.thumbprint().len(), 43);
    }

    #[test]
    fn rfc9449_8_nonce_demand_is_recognised() {
        let r = http::Response::builder()
            .status(400)
            .header("DPoP-Nonce", "abc")
            .body(br#"{"error":"use_dpop_nonce"}"#.to_vec())
            .unwrap();
        assert_eq!(demanded_nonce(&r).as_deref(), Some("abc"));
        let r = http::Response::builder()
            .status(401)
            .header("DPoP-Nonce", "n2")
            .header("WWW-Authenticate", r#"DPoP error="use_dpop_nonce""#)
            .body(Vec::new())
            .unwrap();
        assert_eq!(demanded_nonce(&r).as_deref(), Some("n2"));
        let r = http::Response::builder()
            .status(400)
            .header("DPoP-Nonce", "n3")
            .body(br#"{"error":"invalid_grant"}"#.to_vec())
            .unwrap();
        assert_eq!(demanded_nonce(&r), None);
    }
}
