//! PKCE and `state` against RFC 7636 and the reference's `pkce_state` vectors.

use mcp_auth::pkce::{
    CODE_CHALLENGE_METHOD, GENERATED_VERIFIER_LEN, PkceParameters, code_challenge_s256,
    generate_state, verify_state,
};
use mcp_auth::secret::State;
use mcp_auth::{Check, ErrorKind};
use serde_json::Value;

fn pkce_state() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/python-sdk-2.3.0.json"
    );
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all["pkce_state"].clone()
}

/// RFC 7636 Appendix B: the published verifier and its S256 challenge.
#[test]
fn rfc7636_appendix_b() {
    let p = PkceParameters::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    assert_eq!(
        p.code_challenge,
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert_eq!(
        p.code_verifier.secret(),
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    );
}

/// `pkce_state.rfc7636_appendix_b`: the pair the reference produced. Its verifier is not the
/// RFC's (it is a widely copied misquotation), but the challenge is the reference's S256 of it,
/// so the vector still pins the S256 computation.
#[test]
fn pkce_state_rfc7636_appendix_b_vector() {
    let v = &pkce_state()["rfc7636_appendix_b"];
    let verifier = v["verifier"].as_str().unwrap();
    let challenge = v["challenge"].as_str().unwrap();
    assert_eq!(code_challenge_s256(verifier), challenge);
    assert_eq!(
        PkceParameters::from_verifier(verifier)
            .unwrap()
            .code_challenge,
        challenge
    );
}

/// RFC 7636 §4.3 / OAuth 2.1 §4.1.1: the method is always S256.
#[test]
fn rfc7636_4_3_method_is_s256() {
    assert_eq!(CODE_CHALLENGE_METHOD, "S256");
    assert!(
        pkce_state()["code_challenge_method"]
            .as_str()
            .unwrap()
            .starts_with("S256")
    );
}

/// RFC 7636 §4.1: 43–128 characters.
#[test]
fn rfc7636_4_1_verifier_length_bounds() {
    assert!(PkceParameters::from_verifier(&"a".repeat(42)).is_err());
    assert!(PkceParameters::from_verifier(&"a".repeat(43)).is_ok());
    assert!(PkceParameters::from_verifier(&"a".repeat(128)).is_ok());
    assert!(PkceParameters::from_verifier(&"a".repeat(129)).is_err());
    assert!(PkceParameters::from_verifier("").is_err());
}

/// RFC 7636 §4.1: only unreserved characters; errors never quote the verifier.
#[test]
fn rfc7636_4_1_verifier_charset() {
    let ok = format!("{}-._~", "Az09".repeat(10));
    assert!(PkceParameters::from_verifier(&ok).is_ok());
    for bad in ['+', '/', '=', ' ', '%', 'é', '\0'] {
        let v = format!("SECRETVALUE{}{bad}", "x".repeat(40));
        let e = PkceParameters::from_verifier(&v).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
        assert!(!e.to_string().contains("SECRETVALUE"), "{e}");
    }
    let e = PkceParameters::from_verifier("SECRETVALUE").unwrap_err();
    assert!(!e.to_string().contains("SECRETVALUE"), "{e}");
}

/// RFC 7636 §4.1, §7.1: generated verifiers are in range, unreserved, and unique.
#[test]
fn rfc7636_7_1_generated_verifiers() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2000 {
        let p = PkceParameters::generate();
        let v = p.code_verifier.secret();
        assert_eq!(v.len(), GENERATED_VERIFIER_LEN);
        assert!((43..=128).contains(&v.len()));
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
            "{v}"
        );
        assert_eq!(p.code_challenge, code_challenge_s256(v));
        assert_eq!(p.code_challenge.len(), 43);
        assert!(seen.insert(v.to_owned()), "duplicate verifier");
    }
}

/// Every one of the 66 unreserved characters appears (selection covers the whole alphabet),
/// and none dominates (a coarse check that selection is not grossly biased).
#[test]
fn rfc7636_4_1_generated_verifiers_use_the_whole_alphabet() {
    let mut counts = [0u32; 256];
    let n = 3000;
    for _ in 0..n {
        for b in PkceParameters::generate().code_verifier.secret().bytes() {
            counts[b as usize] += 1;
        }
    }
    let used: Vec<u32> = counts.iter().copied().filter(|&c| c > 0).collect();
    assert_eq!(used.len(), 66);
    // Expected per character: 3000 * 64 / 66 ≈ 2909; allow ±15 %.
    let expected = (n * 64 / 66) as f64;
    for c in used {
        assert!(
            (c as f64 - expected).abs() < expected * 0.15,
            "{c} vs {expected}"
        );
    }
}

/// `Debug` never shows the verifier.
#[test]
fn pkce_parameters_debug_is_redacted() {
    let p = PkceParameters::generate();
    let dbg = format!("{p:?}");
    assert!(!dbg.contains(p.code_verifier.secret()), "{dbg}");
    assert!(dbg.contains("[redacted]"));
    assert!(dbg.contains(&p.code_challenge));
}

/// RFC 6749 §10.12: `state` is 256 random bits, base64url (like `secrets.token_urlsafe(32)`).
#[test]
fn rfc6749_10_12_state_generation() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2000 {
        let s = generate_state();
        assert_eq!(s.secret().len(), 43);
        assert!(
            s.secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(seen.insert(s.secret().to_owned()));
    }
}

/// RFC 6749 §10.12: the returned `state` must equal the one sent; missing or different fails
/// with `SecurityCheck { check: State }` and the message names neither value.
#[test]
fn rfc6749_10_12_state_verification() {
    let s = generate_state();
    assert!(verify_state(&s, Some(s.secret())).is_ok());

    let other = generate_state();
    for returned in [
        None,
        Some(other.secret()),
        Some(""),
        Some(&s.secret()[..42]),
    ] {
        let e = verify_state(&s, returned).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SecurityCheck);
        assert_eq!(e.check(), Some(Check::State));
        let msg = format!("{e} {e:?}");
        assert!(!msg.contains(s.secret()), "{msg}");
        assert!(!msg.contains(other.secret()), "{msg}");
    }
    // An empty expected state protects nothing: refuse even an empty returned state.
    let e = verify_state(&State::new(""), Some("")).unwrap_err();
    assert_eq!(e.check(), Some(Check::State));
}
