//! `private_key_jwt` (RFC 7523 §2.2) client assertion verification, ES256 and RS256.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    RsaPublicKeyComponents,
};
use serde_json::{Value, json};

/// The `client_assertion_type` of RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock tolerance for `exp` / `nbf` / `iat`, as the conformance mock allows.
pub const CLOCK_SKEW_SECS: i64 = 30;

/// A public key that verifies client assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtKey {
    /// ECDSA P-256 with SHA-256 (`ES256`): the uncompressed SEC1 point (`0x04 || x || y`, 65 bytes),
    /// as `ring`'s `EcdsaKeyPair::public_key()` returns it.
    Es256 {
        /// The SEC1 uncompressed point.
        public_key: Vec<u8>,
    },
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`), 2048..8192-bit modulus.
    Rs256 {
        /// Modulus, big-endian, no leading zeros.
        n: Vec<u8>,
        /// Public exponent, big-endian, no leading zeros.
        e: Vec<u8>,
    },
}

impl JwtKey {
    /// The JWS `alg` this key verifies.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Es256 { .. } => "ES256",
            Self::Rs256 { .. } => "RS256",
        }
    }

    /// Reads a public JWK (`kty` `EC` with `crv` `P-256`, or `kty` `RSA`). A JWK Set
    /// (`{"keys":[…]}`) gives its first usable key.
    pub fn from_jwk(jwk: &Value) -> Option<Self> {
        if let Some(keys) = jwk.get("keys").and_then(Value::as_array) {
            return keys.iter().find_map(Self::from_jwk);
        }
        let b64 = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
        };
        match jwk.get("kty")?.as_str()? {
            "EC" if jwk.get("crv")?.as_str()? == "P-256" => {
                let (x, y) = (b64("x")?, b64("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Some(Self::Es256 { public_key: point })
            }
            "RSA" => {
                let strip = |v: Vec<u8>| {
                    let i = v.iter().position(|b| *b != 0).unwrap_or(v.len());
                    v[i..].to_vec()
                };
                Some(Self::Rs256 {
                    n: strip(b64("n")?),
                    e: strip(b64("e")?),
                })
            }
            _ => None,
        }
    }

    /// The public JWK of this key.
    pub fn to_jwk(&self) -> Value {
        match self {
            Self::Es256 { public_key } => json!({
                "kty": "EC",
                "crv": "P-256",
                "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(public_key.get(1..33).unwrap_or_default()),
                "y": URL_SAFE_NO_PAD.encode(public_key.get(33..65).unwrap_or_default()),
            }),
            Self::Rs256 { n, e } => json!({
                "kty": "RSA",
                "alg": "RS256",
                "n": URL_SAFE_NO_PAD.encode(n),
                "e": URL_SAFE_NO_PAD.encode(e),
            }),
        }
    }

    pub(crate) fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Es256 { public_key } => {
                signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
                    .verify(message, sig)
                    .is_ok()
            }
            Self::Rs256 { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
        }
    }
}

/// A freshly generated P-256 key pair, for topologies and tests that need `private_key_jwt`.
#[derive(Clone, Debug)]
pub struct Es256KeyPair {
    /// The private key as PKCS#8 DER (what `ring::signature::EcdsaKeyPair::from_pkcs8` reads).
    pub pkcs8_der: Vec<u8>,
    /// The same as a `-----BEGIN PRIVATE KEY-----` PEM.
    pub pkcs8_pem: String,
    /// The public half.
    pub public_key: JwtKey,
}

impl Es256KeyPair {
    /// Generates a key pair with the system RNG.
    ///
    /// # Panics
    /// If the system RNG fails.
    pub fn generate() -> Self {
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("system RNG")
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
            .expect("freshly generated PKCS#8 parses");
        let public_key = JwtKey::Es256 {
            public_key: pair.public_key().as_ref().to_vec(),
        };
        Self {
            pkcs8_pem: pem("PRIVATE KEY", &der),
            pkcs8_der: der,
            public_key,
        }
    }

    /// Signs an ES256 JWT over `claims` (header `{"alg":"ES256","typ":"JWT"}`).
    ///
    /// # Panics
    /// If the key or the RNG fails (not for a key made by [`Es256KeyPair::generate`]).
    pub fn sign(&self, claims: &Value) -> String {
        let rng = SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.pkcs8_der, &rng)
                .expect("valid PKCS#8");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let sig = pair.sign(&rng, input.as_bytes()).expect("signing");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

/// PEM-encodes DER with a label, lines of 64 characters.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// What a verified assertion said.
#[derive(Debug)]
pub(crate) struct Assertion {
    pub jti: Option<String>,
}

/// Reads the `iss` claim of an unverified JWT (to find the client's key).
pub(crate) fn unverified_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// Verifies an RFC 7523 client assertion: signature with `key` (the `alg` must match the key),
/// `iss` = `sub` = `client_id`, `aud` (string or array) containing one of `audiences`, `exp` in
/// the future, `nbf`/`iat` not in the future (all with [`CLOCK_SKEW_SECS`]).
pub(crate) fn verify_assertion(
    jwt: &str,
    key: &JwtKey,
    client_id: &str,
    audiences: &[String],
    now: i64,
) -> Result<Assertion, String> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("client_assertion is not a compact JWS".into());
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| format!("client_assertion {what} is not base64url"))
    };
    let header: Value = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|_| "client_assertion header is not JSON".to_owned())?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != key.alg() {
        return Err(format!(
            "client_assertion alg {alg:?} does not match the registered key ({})",
            key.alg()
        ));
    }
    let sig = decode(s, "signature")?;
    if !key.verify(format!("{h}.{p}").as_bytes(), &sig) {
        return Err("client_assertion signature is invalid".into());
    }
    let claims: Value = serde_json::from_slice(&decode(p, "payload")?)
        .map_err(|_| "client_assertion payload is not JSON".to_owned())?;
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if claim("iss") != Some(client_id) {
        return Err("client_assertion iss must be the client_id".into());
    }
    if claim("sub") != Some(client_id) {
        return Err("client_assertion sub must be the client_id".into());
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(format!(
            "client_assertion aud must be one of {}",
            audiences.join(", ")
        ));
    }
    match claims.get("exp").and_then(Value::as_f64) {
        Some(exp) if (exp as i64) + CLOCK_SKEW_SECS > now => {}
        Some(_) => return Err("client_assertion has expired".into()),
        None => return Err("client_assertion has no exp".into()),
    }
    for name in ["nbf", "iat"] {
        if let Some(t) = claims.get(name).and_then(Value::as_f64) {
            if (t as i64) > now + CLOCK_SKEW_SECS {
                return Err(format!("client_assertion {name} is in the future"));
            }
        }
    }
    Ok(Assertion {
        jti: claim("jti").map(str::to_owned),
    })
}
