//! Property tests for PKCE (RFC 7636 §4.1, §4.2).

use base64::Engine as _;
use mcp_auth::pkce::{PkceParameters, code_challenge_s256};
use proptest::prelude::*;

const UNRESERVED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

proptest! {
    /// RFC 7636 §4.1: every 43–128-character unreserved string is accepted, and its challenge
    /// is base64url-no-pad of its SHA-256 (§4.2): 43 characters decoding to 32 bytes.
    #[test]
    fn rfc7636_4_1_valid_verifiers_accepted(v in "[A-Za-z0-9._~-]{43,128}") {
        let p = PkceParameters::from_verifier(&v).unwrap();
        prop_assert_eq!(p.code_verifier.secret(), v.as_str());
        prop_assert_eq!(p.code_challenge.len(), 43);
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&p.code_challenge).unwrap();
        prop_assert_eq!(raw.len(), 32);
        prop_assert_eq!(code_challenge_s256(&v), p.code_challenge);
    }

    /// RFC 7636 §4.1: a wrong length or any character outside the unreserved set is rejected.
    #[test]
    fn rfc7636_4_1_invalid_verifiers_rejected(v in "\\PC{0,140}") {
        let valid = (43..=128).contains(&v.len()) && v.chars().all(|c| UNRESERVED.contains(c));
        prop_assert_eq!(PkceParameters::from_verifier(&v).is_ok(), valid);
    }

    /// Generated verifiers always satisfy §4.1 (length and charset), whatever the RNG drew.
    #[test]
    fn rfc7636_4_1_generated_verifiers_valid(_i in 0u8..64) {
        let p = PkceParameters::generate();
        let v = p.code_verifier.secret();
        prop_assert!((43..=128).contains(&v.len()));
        prop_assert!(v.chars().all(|c| UNRESERVED.contains(c)));
        prop_assert!(PkceParameters::from_verifier(v).is_ok());
    }
}
