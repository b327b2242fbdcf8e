//! DPoP: sender-constrained tokens (RFC 9449).
//!
//! A [`DpopKey`] is a P-256 key generated per client and persisted with the tokens bound to it
//! (the token's `dpop_key`, a private JWK), so that a restarted process, or another process
//! sharing the store, presents the same key: a public client's refresh token is bound to it
//! (RFC 9449 §5). Every token request carries
//! a proof (`DPoP` header, RFC 9449 §5); a DPoP-bound access token is then presented with
//! the `DPoP` authorization scheme and a fresh proof that also hashes the token (`ath`, §7).
//! Servers may demand a nonce (`use_dpop_nonce` with a `DPoP-Nonce` header, §8 for the
//! authorization server, §9 for the resource server); the client retries once with it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The `error` code a server uses to demand a DPoP nonce (RFC 9449 §8, §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// The header carrying a server-supplied nonce.
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";

/// An ES256 key that signs DPoP proofs. `Debug` never prints key material (only the public
/// thumbprint); the private scalar kept for persistence is zeroized on drop (`ring`'s own copy
/// inside the key pair is not under our control).
pub struct DpopKey {
    key: EcdsaKeyPair,
    /// The private scalar `d` (32 bytes, big-endian), to persist the key with its tokens.
    private: Zeroizing<Vec<u8>>,
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

impl PartialEq for DpopKey {
    /// Keys are equal when their public keys are (the thumbprints agree).
    fn eq(&self, other: &Self) -> bool {
        self.thumbprint == other.thumbprint
    }
}

impl Eq for DpopKey {}

/// The private scalar in `ring`'s P-256 PKCS#8 document: the `privateKey OCTET STRING` of the
/// RFC 5915 `ECPrivateKey` (`02 01 01 04 20 <32 bytes>`).
fn pkcs8_private_scalar(pkcs8: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    const PREFIX: [u8; 5] = [0x02, 0x01, 0x01, 0x04, 0x20];
    let at = pkcs8.windows(PREFIX.len()).position(|w| w == PREFIX)? + PREFIX.len();
    pkcs8.get(at..at + 32).map(|d| Zeroizing::new(d.to_vec()))
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
        let private = pkcs8_private_scalar(pkcs8.as_ref())
            .ok_or_else(|| internal("unexpected PKCS#8 layout"))?;
        // The scalar must be the one the key pair holds (it is what gets persisted).
        EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &private,
            key.public_key().as_ref(),
            &rng,
        )
        .map_err(|_| internal("unexpected PKCS#8 layout"))?;
        Self::from_key_pair(key, private).ok_or_else(|| internal("unexpected public key encoding"))
    }

    /// A key persisted by [`DpopKey::private_jwk`]: a private P-256 JWK (RFC 7518 §6.2:
    /// `kty` `EC`, `crv` `P-256`, `x`, `y`, `d`). The values are never echoed in errors.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the JWK is not such a key, or `d` does not match `x`/`y`.
    pub fn from_private_jwk(jwk: &serde_json::Value) -> Result<Self> {
        let bad = |why: &str| Error::invalid_argument("DPoP key", why.to_owned());
        let member = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
        if member("kty") != Some("EC") || member("crv") != Some("P-256") {
            return Err(bad("not a P-256 JWK (kty EC, crv P-256)"));
        }
        let decode = |name: &str| -> Result<Zeroizing<Vec<u8>>> {
            let v = member(name).ok_or_else(|| bad(&format!("no {name} member")))?;
            let bytes = Zeroizing::new(
                URL_SAFE_NO_PAD
                    .decode(v)
                    .map_err(|_| bad(&format!("{name} is not base64url")))?,
            );
            if bytes.len() != 32 {
                return Err(bad(&format!("{name} is not 32 bytes")));
            }
            Ok(bytes)
        };
        let (x, y, d) = (decode("x")?, decode("y")?, decode("d")?);
        let mut public = Vec::with_capacity(65);
        public.push(4);
        public.extend_from_slice(&x);
        public.extend_from_slice(&y);
        let key = EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &d,
            &public,
            &SystemRandom::new(),
        )
        .map_err(|_| bad("d, x and y are not one P-256 key pair"))?;
        Self::from_key_pair(key, d).ok_or_else(|| bad("unexpected public key encoding"))
    }

    /// The key as a private JWK (`kty`, `crv`, `x`, `y`, `d`): what is persisted with the tokens
    /// bound to it (as the token's `dpop_key`). A secret: store it as the tokens are stored.
    pub fn private_jwk(&self) -> Zeroizing<String> {
        let x = self.jwk["x"].as_str().unwrap_or_default();
        let y = self.jwk["y"].as_str().unwrap_or_default();
        let d = Zeroizing::new(URL_SAFE_NO_PAD.encode(&*self.private));
        Zeroizing::new(format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","d":"{}"}}"#,
            &*d
        ))
    }

    /// Serialize as [`private_jwk`](Self::private_jwk) does.
    pub(crate) fn serialize_private<S: serde::Serializer>(
        &self,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let d = Zeroizing::new(URL_SAFE_NO_PAD.encode(&*self.private));
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("kty", "EC")?;
        m.serialize_entry("crv", "P-256")?;
        m.serialize_entry("x", &self.jwk["x"])?;
        m.serialize_entry("y", &self.jwk["y"])?;
        m.serialize_entry("d", d.as_str())?;
        m.end()
    }

    fn from_key_pair(key: EcdsaKeyPair, private: Zeroizing<Vec<u8>>) -> Option<Self> {
        // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
        let public = key.public_key().as_ref();
        if public.len() != 65 {
            return None;
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
        Some(DpopKey {
            key,
            private,
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

/// A nonce as RFC 9449 §8.1 writes it: `1*NQCHAR` (visible ASCII but `"` and `\`).
pub(crate) fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// The nonce a response demands (RFC 9449 §8/§9): its `DPoP-Nonce` header, when the response
/// is a `use_dpop_nonce` error (a 400 JSON error from the authorization server, or a 401
/// `DPoP` challenge from the resource server).
pub fn demanded_nonce(response: &http::Response<Vec<u8>>) -> Option<String> {
    let nonce = response
        .headers()
        .get(DPOP_NONCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|n| valid_nonce(n))?
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

    /// The key, if one exists.
    pub(crate) fn current(&self) -> Option<std::sync::Arc<DpopKey>> {
        self.lock().key.clone()
    }

    /// Use `key` from now on: the key persisted with a token this client adopted (its refresh
    /// must prove the same key, RFC 9449 §5).
    pub(crate) fn set_key(&self, key: std::sync::Arc<DpopKey>) {
        self.lock().key = Some(key);
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
    fn a_key_round_trips_through_its_private_jwk() {
        let k = DpopKey::generate().unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&k.private_jwk()).unwrap();
        assert_eq!(jwk["d"].as_str().unwrap().len(), 43);
        let back = DpopKey::from_private_jwk(&jwk).unwrap();
        assert_eq!(back, k);
        assert_eq!(back.thumbprint(), k.thumbprint());
        // The restored key signs proofs that verify with the original public key.
        let p = back
            .proof("POST", "https://as.example/token", None, None)
            .unwrap();
        let parts: Vec<&str> = p.split('.').collect();
        signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            k.key.public_key().as_ref().to_vec(),
        )
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        )
        .unwrap();
        // Debug shows the thumbprint only.
        let debug = format!("{back:?}");
        assert!(!debug.contains(jwk["d"].as_str().unwrap()), "{debug}");
        // A d that does not belong to x/y is refused, without echoing it.
        let other = DpopKey::generate().unwrap();
        let mut mixed = jwk.clone();
        let other_jwk: serde_json::Value = serde_json::from_str(&other.private_jwk()).unwrap();
        mixed["d"] = other_jwk["d"].clone();
        let e = DpopKey::from_private_jwk(&mixed).unwrap_err().to_string();
        assert!(!e.contains(other_jwk["d"].as_str().unwrap()), "{e}");
        assert!(DpopKey::from_private_jwk(&serde_json::json!({"kty": "RSA"})).is_err());
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
