//! Reference vectors for `prepare_token_auth` (client authentication at the token endpoint,
//! RFC 6749 §2.3.1) and the metadata-response handling rules (RFC 8414 §3.2, RFC 9728 §3.2).

use std::collections::BTreeMap;

use mcp_auth::discovery::{handle_auth_metadata_response, is_prm_server_error};
use mcp_auth::metadata::OAuthClientInformationFull;
use mcp_auth::token::prepare_token_auth;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/python-sdk-2.3.0.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn map(v: &[(String, String)]) -> BTreeMap<String, String> {
    v.iter().cloned().collect()
}

#[test]
fn prepare_token_auth_matches_every_reference_case() {
    let v = vectors();
    let cases = v["prepare_token_auth"]["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for (i, case) in cases.iter().enumerate() {
        let mut ci = case["client_info"].clone();
        // The reference's model drops null members before validation.
        ci.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        let info = OAuthClientInformationFull::from_json(ci.to_string().as_bytes()).unwrap();
        let mut form = pairs(&case["data_in"]);
        let mut headers = Vec::new();
        let result = prepare_token_auth(&info, &mut form, &mut headers);
        if let Some(err) = case.get("error") {
            let e = result.expect_err(&format!("case {i} must fail"));
            assert_eq!(err, "OAuthTokenError");
            assert_eq!(
                e.kind().reference_name(),
                Some("OAuthTokenError"),
                "case {i}"
            );
            assert_eq!(e.to_string(), case["message"].as_str().unwrap(), "case {i}");
            continue;
        }
        result.unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(map(&form), map(&pairs(&case["data_out"])), "case {i} form");
        assert_eq!(
            map(&headers),
            map(&pairs(&case["headers_out"])),
            "case {i} headers"
        );
    }
}

#[test]
fn auth_metadata_response_handling_matches_every_reference_case() {
    let v = vectors();
    for (i, case) in v["asm_response_status_handling"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let status = case["status"].as_u64().unwrap() as u16;
        let body = case["body"].as_str().unwrap_or("").as_bytes();
        let (keep_trying, metadata) = handle_auth_metadata_response(status, body);
        assert_eq!(
            keep_trying,
            case["keep_trying"].as_bool().unwrap(),
            "case {i} ({status})"
        );
        assert_eq!(
            metadata.is_some(),
            case["metadata_parsed"].as_bool().unwrap(),
            "case {i}"
        );
    }
}

#[test]
fn prm_server_error_rule_rfc9728_3_2() {
    // prm_response_status_handling: ≥500 or 429 counts as a failing server.
    let v = vectors();
    assert!(
        v["prm_response_status_handling"]["rule"]
            .as_str()
            .unwrap()
            .contains("429")
    );
    for s in [500, 502, 503, 429] {
        assert!(is_prm_server_error(s), "{s}");
    }
    for s in [200, 301, 400, 401, 404, 428] {
        assert!(!is_prm_server_error(s), "{s}");
    }
    assert!(mcp_auth::discovery::handle_protected_resource_response(404, b"{}").is_none());
    assert!(
        mcp_auth::discovery::handle_protected_resource_response(
            200,
            br#"{"resource":"https://rs.example/mcp","authorization_servers":["https://as.example"]}"#
        )
        .is_some()
    );
}

#[test]
fn pkce_vector_rfc7636_appendix_b() {
    let v = vectors();
    let b = &v["pkce_state"]["rfc7636_appendix_b"];
    assert_eq!(
        mcp_auth::pkce::code_challenge_s256(b["verifier"].as_str().unwrap()),
        b["challenge"].as_str().unwrap()
    );
}
