//! PKCE (RFC 7636) with the `S256` method, and the `state` parameter that binds an
//! authorization response to its request (RFC 6749 §10.12).
//!
//! All randomness comes from the operating system's CSPRNG ([`ring::rand::SystemRandom`]).
//! OAuth 2.1 (§7.5.2) and the MCP authorization specification require PKCE with `S256`;
//! `plain` is never produced.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Check, Error, Result};
use crate::secret::{PkceCodeVerifier, State};

/// The `code_challenge_method` sent with every authorization request (RFC 7636 §4.3): always
/// `S256`, whatever the server advertises in `code_challenge_methods_supported`.
pub const CODE_CHALLENGE_METHOD: &str = "S256";

/// The length of a generated verifier, in characters.
///
/// RFC 7636 §4.1 allows 43–128 unreserved characters; 64 characters of a 66-letter alphabet
/// carry about 386 bits, well above the 256 bits §7.1 recommends, and the challenge is
/// always 43 characters whatever the verifier's length.
pub const GENERATED_VERIFIER_LEN: usize = 64;

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`.
const VERIFIER_MIN_LEN: usize = 43;
const VERIFIER_MAX_LEN: usize = 128;

/// RFC 3986 §2.3 `unreserved`: `ALPHA / DIGIT / "-" / "." / "_" / "~"`, 66 characters.
const UNRESERVED: &[u8; 66] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// Random bytes at or above this value are rejected so that `byte % 66` is uniform:
/// 198 = 3 × 66, the largest multiple of 66 that fits in a byte.
const REJECT_FROM: u8 = (256 / UNRESERVED.len() * UNRESERVED.len()) as u8;

/// The bytes of randomness behind a generated `state`: 32 bytes (256 bits), the same as the
/// reference's `secrets.token_urlsafe(32)`, giving 43 base64url characters.
const STATE_BYTES: usize = 32;

/// A PKCE code verifier and its `S256` code challenge (RFC 7636 §4.1–§4.2).
///
/// The verifier stays in the client and is sent only to the token endpoint
/// (RFC 7636 §4.5); the challenge goes into the authorization request with
/// `code_challenge_method=S256` ([`CODE_CHALLENGE_METHOD`]). `Debug` never prints the
/// verifier.
#[derive(Debug)]
pub struct PkceParameters {
    /// The high-entropy secret (RFC 7636 §4.1), zeroized when dropped.
    pub code_verifier: PkceCodeVerifier,
    /// `BASE64URL(SHA256(ASCII(code_verifier)))` without padding (RFC 7636 §4.2), 43
    /// characters.
    pub code_challenge: String,
}

impl PkceParameters {
    /// Generate a fresh verifier of [`GENERATED_VERIFIER_LEN`] unreserved characters from the
    /// operating system's CSPRNG (RFC 7636 §4.1, §7.1), and its `S256` challenge.
    ///
    /// Each character is drawn uniformly: random bytes are reduced modulo 66 after rejecting
    /// the values that would bias the result.
    ///
    /// # Panics
    /// Only if the operating system cannot supply random numbers, in which case no secure
    /// authorization request can be made at all.
    pub fn generate() -> Self {
        let mut verifier = String::with_capacity(GENERATED_VERIFIER_LEN);
        // 96 bytes give 64 accepted characters with probability ~99.3% (acceptance is
        // 198/256); the loop draws again in the rare remaining case.
        let mut buf = zeroize::Zeroizing::new([0u8; 96]);
        while verifier.len() < GENERATED_VERIFIER_LEN {
            fill_random(&mut buf[..]);
            for &b in buf.iter() {
                if b < REJECT_FROM {
                    verifier.push(char::from(UNRESERVED[usize::from(b) % UNRESERVED.len()]));
                    if verifier.len() == GENERATED_VERIFIER_LEN {
                        break;
                    }
                }
            }
        }
        let code_challenge = code_challenge_s256(&verifier);
        PkceParameters {
            code_verifier: PkceCodeVerifier::new(verifier),
            code_challenge,
        }
    }

    /// Use a caller-chosen verifier (for example one restored after a restart) and compute its
    /// `S256` challenge.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless the verifier is 43–128 characters from
    /// `[A-Za-z0-9-._~]` (RFC 7636 §4.1). The message never contains the verifier.
    pub fn from_verifier(verifier: &str) -> Result<Self> {
        let len = verifier.len();
        if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&len) {
            return Err(Error::invalid_argument(
                "PKCE code verifier",
                format!("must be 43 to 128 characters long (RFC 7636 §4.1), got {len}"),
            ));
        }
        if let Some(pos) = verifier.bytes().position(|b| !is_unreserved(b)) {
            return Err(Error::invalid_argument(
                "PKCE code verifier",
                format!(
                    "character at byte {pos} is not unreserved [A-Za-z0-9-._~] (RFC 7636 §4.1)"
                ),
            ));
        }
        Ok(PkceParameters {
            code_verifier: PkceCodeVerifier::new(verifier),
            code_challenge: code_challenge_s256(verifier),
        })
    }
}

/// The `S256` code challenge of `verifier`: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`
/// with no padding (RFC 7636 §4.2, Appendix A), always 43 characters.
///
/// The verifier is not validated here; [`PkceParameters::from_verifier`] does that.
///
/// ```
/// // RFC 7636 Appendix B.
/// assert_eq!(
///     mcp_auth::pkce::code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
///     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
/// );
/// ```
pub fn code_challenge_s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// A fresh `state` value (RFC 6749 §10.12): 256 bits from the operating system's CSPRNG,
/// base64url-encoded without padding (43 characters).
///
/// # Panics
/// Only if the operating system cannot supply random numbers.
pub fn generate_state() -> State {
    let mut bytes = zeroize::Zeroizing::new([0u8; STATE_BYTES]);
    fill_random(&mut bytes[..]);
    State::new(URL_SAFE_NO_PAD.encode(&bytes[..]))
}

/// Check the `state` returned in the authorization response against the one sent
/// (RFC 6749 §10.12, §4.1.2), in constant time.
///
/// # Errors
/// [`Error::SecurityCheck`] with [`Check::State`] when `returned` is missing or differs, or
/// when `expected` is empty (no request can have been bound to an empty `state`, so accepting
/// would disable the CSRF protection). The message names no value: `state` is a secret.
pub fn verify_state(expected: &State, returned: Option<&str>) -> Result<()> {
    if expected.is_empty() {
        return Err(Error::security(
            Check::State,
            "state check impossible: the expected state is empty (RFC 6749 §10.12)",
        ));
    }
    match returned {
        None => Err(Error::security(
            Check::State,
            "authorization response has no state parameter (RFC 6749 §10.12)",
        )),
        Some(r) if crate::secret::constant_time_eq(expected.secret(), r) => Ok(()),
        Some(_) => Err(Error::security(
            Check::State,
            "state parameter mismatch: the authorization response does not belong to this \
             request (RFC 6749 §10.12)",
        )),
    }
}

/// RFC 3986 §2.3 `unreserved`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Fill `buf` from the OS CSPRNG. `SystemRandom` is a zero-sized handle to `getrandom(2)` (or
/// the platform equivalent); creating one per call costs nothing.
fn fill_random(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's random number generator failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_threshold_is_the_largest_multiple_of_66() {
        assert_eq!(REJECT_FROM, 198);
        assert_eq!(UNRESERVED.len(), 66);
        assert!(UNRESERVED.iter().all(|&b| is_unreserved(b)));
        let n = (0u8..=255).filter(|&b| is_unreserved(b)).count();
        assert_eq!(n, 66);
    }
}
