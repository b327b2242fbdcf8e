//! Unit tests of the security checks, one per RFC rule (the section is in the test name).

use mcp_auth::checks::{
    check_resource_allowed, is_loopback_url, issuers_match, require_secure_url, resource_param_for,
    resource_url_from_server_url, should_include_resource_param,
    validate_authorization_response_iss, validate_metadata_issuer, validate_resource_match,
};
use mcp_auth::metadata::{OAuthMetadata, ProtectedResourceMetadata};
use mcp_auth::{Check, Error, ErrorKind};

fn asm(issuer: &str, iss_supported: Option<bool>) -> OAuthMetadata {
    let mut m = OAuthMetadata::new(
        issuer,
        format!("{issuer}/authorize"),
        format!("{issuer}/token"),
    );
    m.authorization_response_iss_parameter_supported = iss_supported;
    m
}

#[test]
fn rfc9207_2_4_iss_must_equal_the_issuer_exactly() {
    let m = asm("https://as.example.com", Some(true));
    assert!(validate_authorization_response_iss(Some("https://as.example.com"), Some(&m)).is_ok());
    for wrong in [
        "https://as.example.com/",
        "https://AS.example.com",
        "https://as.example.com:443",
        "",
        "https://evil",
    ] {
        let e = validate_authorization_response_iss(Some(wrong), Some(&m)).unwrap_err();
        assert_eq!(e.check(), Some(Check::ResponseIss), "{wrong}");
        assert_eq!(e.kind(), ErrorKind::SecurityCheck);
        assert_eq!(
            e.to_string(),
            format!("Authorization response iss mismatch: {wrong} != https://as.example.com")
        );
    }
}

#[test]
fn rfc9207_2_4_missing_iss_is_an_error_only_when_advertised() {
    let e = validate_authorization_response_iss(None, Some(&asm("https://as", Some(true))))
        .unwrap_err();
    assert_eq!(e.check(), Some(Check::MissingIss));
    assert!(
        validate_authorization_response_iss(None, Some(&asm("https://as", Some(false)))).is_ok()
    );
    assert!(validate_authorization_response_iss(None, Some(&asm("https://as", None))).is_ok());
    assert!(validate_authorization_response_iss(None, None).is_ok());
}

#[test]
fn rfc9207_2_4_any_iss_without_metadata_is_rejected() {
    let e = validate_authorization_response_iss(Some("https://as"), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Authorization response iss mismatch: https://as != None"
    );
}

#[test]
fn rfc8414_3_3_metadata_issuer_must_be_identical() {
    let m = asm("https://as.example.com/tenant", None);
    assert!(validate_metadata_issuer(&m, "https://as.example.com/tenant").is_ok());
    for other in [
        "https://as.example.com/tenant/",
        "https://as.example.com",
        "https://as.example.com/Tenant",
    ] {
        let e = validate_metadata_issuer(&m, other).unwrap_err();
        assert_eq!(e.check(), Some(Check::MetadataIssuer));
        assert_eq!(
            e.to_string(),
            format!(
                "Authorization server metadata issuer mismatch: https://as.example.com/tenant != {other}"
            )
        );
    }
}

#[test]
fn sep2352_issuers_match_tolerates_only_a_root_slash() {
    assert!(issuers_match("https://as", "https://as/"));
    assert!(issuers_match(
        "http://localhost:9000/",
        "http://localhost:9000"
    ));
    assert!(!issuers_match("https://as/t", "https://as/t/"));
    assert!(!issuers_match("https://as?x", "https://as?x/"));
    assert!(!issuers_match("https://as#f", "https://as#f/"));
    assert!(!issuers_match("http://as", "https://as/"));
    assert!(!issuers_match("", "/"));
    assert!(!issuers_match("https://", "https:///"));
    assert!(issuers_match("", ""));
}

#[test]
fn rfc8707_2_canonical_resource_uri() {
    assert_eq!(
        resource_url_from_server_url("HTTPS://API.Example.com/MCP?v=1#top").unwrap(),
        "https://api.example.com/MCP?v=1"
    );
    assert_eq!(
        resource_url_from_server_url("https://api.example.com/mcp/").unwrap(),
        "https://api.example.com/mcp/"
    );
    assert_eq!(
        resource_url_from_server_url("https://api.example.com/mcp?").unwrap(),
        "https://api.example.com/mcp"
    );
    for bad in [
        "api.example.com/mcp",
        "/mcp",
        "ftp://a/b",
        "urn:x:y",
        "https:///x",
        "http://[::1/x",
    ] {
        let e = resource_url_from_server_url(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
    }
}

#[test]
fn rfc9728_3_3_resource_coverage_is_segment_safe() {
    assert!(check_resource_allowed("https://a/api/v1", "https://a/api"));
    assert!(check_resource_allowed("https://a/api/v1", "https://a/api/"));
    assert!(check_resource_allowed("https://a/api", "https://a/"));
    assert!(check_resource_allowed("HTTPS://A/api", "https://a/api"));
    assert!(!check_resource_allowed("https://a/api123", "https://a/api"));
    assert!(!check_resource_allowed("https://a/API", "https://a/api"));
    assert!(!check_resource_allowed("http://a/api", "https://a/api"));
    assert!(!check_resource_allowed(
        "https://a:443/api",
        "https://a/api"
    ));
    assert!(!check_resource_allowed(
        "https://a.evil/api",
        "https://a/api"
    ));
    assert!(!check_resource_allowed("https://[::1/x", "https://[::1]/x"));
}

#[test]
fn rfc9728_3_3_mismatch_is_a_security_error() {
    let e = validate_resource_match(
        "https://api.example.com/mcp",
        "https://other.example.com/mcp",
    )
    .unwrap_err();
    assert_eq!(e.check(), Some(Check::Resource));
    assert_eq!(
        e.to_string(),
        "Protected resource https://other.example.com/mcp does not match expected https://api.example.com/mcp"
    );
    assert_eq!(
        validate_resource_match("not a url", "https://a")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn rfc8707_2_resource_param_prefers_a_covering_prm_resource() {
    let prm =
        ProtectedResourceMetadata::new("https://api.example.com/", vec!["https://as".to_owned()]);
    assert_eq!(
        resource_param_for("https://api.example.com/v1/mcp#x", Some(&prm)).unwrap(),
        "https://api.example.com/"
    );
    let other = ProtectedResourceMetadata::new(
        "https://elsewhere.example.com/",
        vec!["https://as".to_owned()],
    );
    assert_eq!(
        resource_param_for("https://api.example.com/v1/mcp", Some(&other)).unwrap(),
        "https://api.example.com/v1/mcp"
    );
    assert_eq!(
        resource_param_for("https://API.example.com/v1/mcp", None).unwrap(),
        "https://api.example.com/v1/mcp"
    );
}

#[test]
fn mcp_2025_06_18_resource_param_by_protocol_version() {
    assert!(should_include_resource_param(None, true));
    assert!(should_include_resource_param(Some("2024-11-05"), true));
    assert!(should_include_resource_param(Some("2025-06-18"), false));
    assert!(!should_include_resource_param(Some("2025-03-26"), false));
    assert!(
        !should_include_resource_param(Some("2025-06-19"), false),
        "unknown version"
    );
}

#[test]
fn oauth21_1_5_endpoints_must_be_https_or_loopback() {
    for ok in [
        "https://as.example.com/token",
        "http://localhost:8080/token",
        "http://LOCALHOST/token",
        "http://127.0.0.1/token",
        "http://127.8.9.10:1/token",
        "http://[::1]:3000/cb",
    ] {
        require_secure_url("token endpoint", ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for insecure in [
        "http://as.example.com/token",
        "http://localhost.evil.com/token",
        "http://127.0.0.1.nip.io/token",
        "http://10.0.0.1/token",
        "http://[::2]/token",
        "http://[::ffff:127.0.0.1]/token",
        "ftp://as.example.com/token",
    ] {
        let e = require_secure_url("token endpoint", insecure).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InsecureUrl {
                    what: "token endpoint",
                    ..
                }
            ),
            "{insecure}: {e}"
        );
        assert_eq!(e.kind(), ErrorKind::InsecureUrl);
    }
    assert_eq!(
        require_secure_url("token endpoint", "::")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn rfc8252_7_3_loopback_hosts() {
    assert!(is_loopback_url("http://localhost"));
    assert!(is_loopback_url("https://127.0.0.1:8443/x"));
    assert!(is_loopback_url("http://[::1]/"));
    assert!(!is_loopback_url("http://0.0.0.0/"));
    assert!(!is_loopback_url("http://sub.localhost.example/"));
    assert!(!is_loopback_url("garbage"));
}
