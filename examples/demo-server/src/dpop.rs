//! DPoP (RFC 9449), enough for the demo: a proof is a compact JWS with `typ: dpop+jwt` and
//! an ES256 `jwk` in its header; its signature is verified with that key, and its `htm`,
//! `htu` and (at the resource server) `ath` claims are checked. Tokens issued to a request
//! that carried a valid proof are DPoP-bound (`token_type: DPoP`) to the key's thumbprint and
//! must then be presented with the `DPoP` scheme and a proof from the same key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{SHA256, digest};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::Value;

fn b64(part: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| "DPoP proof is not base64url".to_owned())
}

/// The verified proof: the JWK thumbprint (RFC 7638) of its key.
pub(crate) struct Proof {
    pub(crate) jkt: String,
}

/// Verify `proof` for `method` and `url` (compared without query and fragment); with
/// `access_token`, its `ath` too.
pub(crate) fn verify(
    proof: &str,
    method: &str,
    url: &str,
    access_token: Option<&str>,
) -> Result<Proof, String> {
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("DPoP proof is not a compact JWS".to_owned());
    };
    let header: Value =
        serde_json::from_slice(&b64(h)?).map_err(|_| "DPoP header is not JSON".to_owned())?;
    let claims: Value =
        serde_json::from_slice(&b64(p)?).map_err(|_| "DPoP claims are not JSON".to_owned())?;
    if header["typ"] != "dpop+jwt" || header["alg"] != "ES256" {
        return Err("DPoP proof must be typ dpop+jwt, alg ES256".to_owned());
    }
    let jwk = &header["jwk"];
    let (Some(x), Some(y)) = (jwk["x"].as_str(), jwk["y"].as_str()) else {
        return Err("DPoP proof has no EC jwk".to_owned());
    };
    let mut point = vec![4u8];
    point.extend(b64(x)?);
    point.extend(b64(y)?);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(format!("{h}.{p}").as_bytes(), &b64(s)?)
        .map_err(|_| "DPoP proof signature does not verify".to_owned())?;
    let strip = |u: &str| u.split(['?', '#']).next().unwrap_or("").to_owned();
    if claims["htm"] != method || claims["htu"].as_str().map(strip) != Some(strip(url)) {
        return Err("DPoP proof is for another request (htm/htu)".to_owned());
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err("DPoP proof has no jti".to_owned());
    }
    if let Some(token) = access_token {
        let ath = URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()));
        if claims["ath"] != ath.as_str() {
            return Err("DPoP proof ath does not match the access token".to_owned());
        }
    }
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    Ok(Proof {
        jkt: URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes())),
    })
}
