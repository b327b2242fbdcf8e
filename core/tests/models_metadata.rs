//! Unit tests of the models, one per RFC rule (the section is in the test name).

// `mcp_auth::Error` is 128 bytes, at clippy's `result_large_err` threshold; these helpers
// only forward parse results.
#![allow(clippy::result_large_err)]

use mcp_auth::ErrorKind;
use mcp_auth::metadata::{
    OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata, OAuthToken,
    ProtectedResourceMetadata, normalize_any_url, normalize_http_url,
};
use mcp_auth::secret::{ClientSecret, RefreshToken};
use serde_json::{Value, json};

fn token(v: Value) -> mcp_auth::Result<OAuthToken> {
    OAuthToken::from_json(v.to_string().as_bytes())
}

fn asm(extra: Value) -> mcp_auth::Result<OAuthMetadata> {
    let mut doc = json!({
        "issuer": "https://as.example.com",
        "authorization_endpoint": "https://as.example.com/authorize",
        "token_endpoint": "https://as.example.com/token",
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    OAuthMetadata::from_json(doc.to_string().as_bytes())
}

fn prm(extra: Value) -> mcp_auth::Result<ProtectedResourceMetadata> {
    let mut doc = json!({
        "resource": "https://rs.example.com/mcp",
        "authorization_servers": ["https://as.example.com"],
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    ProtectedResourceMetadata::from_json(doc.to_string().as_bytes())
}

// ---- URL normalisation (pydantic AnyHttpUrl, url_preserve_empty_path=True) -------------------

#[test]
fn normalize_http_url_keeps_an_empty_path_empty() {
    assert_eq!(
        normalize_http_url("https://a.com").unwrap(),
        "https://a.com"
    );
    assert_eq!(
        normalize_http_url("https://a.com/").unwrap(),
        "https://a.com/"
    );
    assert_eq!(
        normalize_http_url("https://a.com?x=1").unwrap(),
        "https://a.com?x=1"
    );
    assert_eq!(
        normalize_http_url("https://a.com#frag").unwrap(),
        "https://a.com#frag"
    );
    assert_eq!(
        normalize_http_url("https://a.com:8443").unwrap(),
        "https://a.com:8443"
    );
    assert_eq!(
        normalize_http_url("http://[::1]:8080").unwrap(),
        "http://[::1]:8080"
    );
}

#[test]
fn normalize_http_url_normalises_host_port_and_path() {
    assert_eq!(
        normalize_http_url("HTTPS://AS.Example.COM").unwrap(),
        "https://as.example.com"
    );
    assert_eq!(
        normalize_http_url("https://as.example.com:443/x").unwrap(),
        "https://as.example.com/x"
    );
    assert_eq!(
        normalize_http_url("http://as.example.com:80").unwrap(),
        "http://as.example.com"
    );
    assert_eq!(
        normalize_http_url("https://bücher.de/x").unwrap(),
        "https://xn--bcher-kva.de/x"
    );
    assert_eq!(
        normalize_http_url("https://a.com/a/../b/./c").unwrap(),
        "https://a.com/b/c"
    );
    assert_eq!(
        normalize_http_url("https://a.com/a b").unwrap(),
        "https://a.com/a%20b"
    );
    assert_eq!(
        normalize_http_url("https://u:p@a.com").unwrap(),
        "https://u:p@a.com"
    );
    // Case of path and query is kept.
    assert_eq!(
        normalize_http_url("https://a.com/Path?Q=V").unwrap(),
        "https://a.com/Path?Q=V"
    );
}

#[test]
fn normalize_http_url_rejects_other_schemes_and_relative_urls() {
    for bad in [
        "ftp://a.com",
        "urn:x",
        "file:///etc/passwd",
        "mailto:a@b",
        "/relative",
        "",
        "not a url",
        "https://",
    ] {
        assert!(normalize_http_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn rfc8252_7_1_redirect_uris_may_use_private_schemes() {
    assert_eq!(normalize_any_url("myapp:/cb").unwrap(), "myapp:/cb");
    assert_eq!(
        normalize_any_url("com.example.app:/oauth2redirect").unwrap(),
        "com.example.app:/oauth2redirect"
    );
    assert_eq!(
        normalize_any_url("http://127.0.0.1:3030").unwrap(),
        "http://127.0.0.1:3030"
    );
    assert!(normalize_any_url("cb").is_err());
}

// ---- OAuthToken (RFC 6749 §5.1) ------------------------------------------------------------

#[test]
fn rfc6749_5_1_token_type_is_case_insensitive() {
    for t in ["bearer", "Bearer", "BEARER", "bEaReR"] {
        assert_eq!(
            token(json!({"access_token": "a", "token_type": t}))
                .unwrap()
                .token_type,
            "Bearer"
        );
    }
    for t in ["dpop", "DPoP", "DPOP"] {
        let tok = token(json!({"access_token": "a", "token_type": t})).unwrap();
        assert_eq!(tok.token_type, "DPoP");
        assert!(tok.is_dpop());
    }
    for t in ["mac", "N_A", "", " Bearer"] {
        let e = token(json!({"access_token": "a", "token_type": t})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(e.to_string().contains("token_type"), "{e}");
    }
}

#[test]
fn rfc6749_5_1_omitted_token_type_means_bearer() {
    let tok = token(json!({"access_token": "a"})).unwrap();
    assert_eq!(tok.token_type, "Bearer");
    assert!(!tok.is_dpop());
}

#[test]
fn rfc6749_5_1_expires_in_is_lax_like_the_reference() {
    for (v, want) in [
        (json!(3600), 3600),
        (json!("3600"), 3600),
        (json!(3600.0), 3600),
        (json!(" 60 "), 60),
    ] {
        assert_eq!(
            token(json!({"access_token": "a", "expires_in": v}))
                .unwrap()
                .expires_in,
            Some(want)
        );
    }
    for v in [
        json!(3600.5),
        json!("abc"),
        json!(1e20),
        json!(true),
        json!([1]),
    ] {
        assert!(token(json!({"access_token": "a", "expires_in": v})).is_err());
    }
    assert_eq!(
        token(json!({"access_token": "a", "expires_in": null}))
            .unwrap()
            .expires_in,
        None
    );
}

#[test]
fn rfc6749_5_1_expiry_is_computed_from_the_response_time() {
    let tok = token(json!({"access_token": "a", "expires_in": 100}))
        .unwrap()
        .with_expiry_from(1_000);
    assert_eq!(tok.expires_at, Some(1_100));
    assert!(!tok.is_expired(1_000, 0));
    assert!(
        !tok.is_expired(1_100, 0),
        "valid while now <= expiry, as in the reference"
    );
    assert!(tok.is_expired(1_101, 0));
    assert!(tok.is_expired(1_070, 31), "a skew expires it early");
    assert!(!tok.is_expired(1_070, 30));
    // Saturating, never panicking.
    let far = token(json!({"access_token": "a", "expires_in": u64::MAX}))
        .unwrap()
        .with_expiry_from(10);
    assert_eq!(far.expires_at, Some(u64::MAX));
    assert!(!far.is_expired(u64::MAX - 1, u64::MAX));
}

#[test]
fn a_token_without_lifetime_never_expires_locally() {
    let tok = token(json!({"access_token": "a"}))
        .unwrap()
        .with_expiry_from(1_000);
    assert_eq!(tok.expires_at, None);
    assert!(!tok.is_expired(u64::MAX, u64::MAX));
}

#[test]
fn expires_at_is_persisted_and_reloaded() {
    let tok = token(
        json!({"access_token": "at", "expires_in": 60, "refresh_token": "rt", "scope": "a b"}),
    )
    .unwrap()
    .with_expiry_from(1_700_000_000);
    let stored = tok.to_json();
    let back = OAuthToken::from_json(stored.as_bytes()).unwrap();
    assert_eq!(back, tok);
    assert_eq!(back.expires_at, Some(1_700_000_060));
    assert_eq!(back.refresh_token, Some(RefreshToken::new("rt")));
    // serde round trip too (storage backends use serde).
    let via_serde: OAuthToken = serde_json::from_str(&stored).unwrap();
    assert_eq!(via_serde, tok);
}

#[test]
fn token_unknown_members_round_trip_and_are_never_fatal() {
    let tok =
        token(json!({"access_token": "a", "id_token": "x.y.z", "ext": {"n": [1, 2]}})).unwrap();
    assert_eq!(tok.extra["id_token"], "x.y.z");
    let v: Value = serde_json::from_str(&tok.to_json()).unwrap();
    assert_eq!(v["ext"], json!({"n": [1, 2]}));
    assert!(v.get("expires_in").is_none(), "None members are left out");
}

#[test]
fn token_debug_never_prints_secrets() {
    let tok = token(json!({
        "access_token": "AT-SECRET", "refresh_token": "RT-SECRET", "id_token": "ID-SECRET",
        "token_type": "bearer", "expires_in": 5
    }))
    .unwrap();
    let dbg = format!("{tok:?}");
    assert!(!dbg.contains("SECRET"), "{dbg}");
    assert!(
        dbg.contains("id_token"),
        "extra member names are shown: {dbg}"
    );
    assert!(!format!("{tok:#?}").contains("SECRET"));
}

#[test]
fn token_errors_never_contain_the_token() {
    let e = token(json!({"access_token": "AT-SECRET", "expires_in": "soon"})).unwrap_err();
    assert!(!e.to_string().contains("SECRET"), "{e}");
    let e = token(json!({"access_token": "AT-SECRET", "refresh_token": 5})).unwrap_err();
    assert!(!e.to_string().contains("SECRET"), "{e}");
}

#[test]
fn non_object_bodies_are_invalid_responses() {
    for body in [&b"[]"[..], b"\"x\"", b"null", b"", b"{", b"<html>"] {
        let e = OAuthToken::from_json(body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(matches!(
            e,
            mcp_auth::Error::InvalidResponse {
                what: "token response",
                ..
            }
        ));
    }
    assert!(OAuthToken::from_value(json!([1])).is_err());
    assert!(OAuthToken::from_value(json!({"access_token": "a"})).is_ok());
}

// ---- OAuthMetadata (RFC 8414 §2) -----------------------------------------------------------

#[test]
fn rfc8414_2_required_members() {
    for missing in ["issuer", "authorization_endpoint", "token_endpoint"] {
        let mut doc = json!({
            "issuer": "https://as", "authorization_endpoint": "https://as/a", "token_endpoint": "https://as/t"
        });
        doc.as_object_mut().unwrap().remove(missing);
        let e = OAuthMetadata::from_json(doc.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().contains(missing), "{e}");
    }
}

#[test]
fn rfc8414_2_defaults_and_lax_booleans() {
    let m = asm(json!({})).unwrap();
    assert_eq!(m.response_types_supported, ["code"]);
    assert_eq!(m.registration_endpoint, None);
    let m = asm(json!({
        "client_id_metadata_document_supported": "true",
        "authorization_response_iss_parameter_supported": 1,
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": ["ES256"],
    }))
    .unwrap();
    assert_eq!(m.client_id_metadata_document_supported, Some(true));
    assert_eq!(m.authorization_response_iss_parameter_supported, Some(true));
    assert_eq!(
        m.code_challenge_methods_supported.as_deref(),
        Some(&["S256".to_owned()][..])
    );
    assert_eq!(
        m.dpop_signing_alg_values_supported.as_deref(),
        Some(&["ES256".to_owned()][..])
    );
    assert!(asm(json!({"authorization_response_iss_parameter_supported": "maybe"})).is_err());
}

#[test]
fn rfc8414_2_issuer_is_normalised_like_the_reference() {
    assert_eq!(
        asm(json!({"issuer": "https://AS.example.com:443"}))
            .unwrap()
            .issuer,
        "https://as.example.com"
    );
    assert_eq!(
        asm(json!({"issuer": "https://as.example.com/"}))
            .unwrap()
            .issuer,
        "https://as.example.com/"
    );
    assert_eq!(
        asm(json!({"issuer": "http://localhost:9000/t1"}))
            .unwrap()
            .issuer,
        "http://localhost:9000/t1"
    );
}

#[test]
fn rfc8414_2_tolerates_empty_and_null_members_real_servers_send() {
    let m = asm(json!({
        "registration_endpoint": "", "revocation_endpoint": "", "service_documentation": null,
        "response_types_supported": null, "scopes_supported": null
    }))
    .unwrap();
    assert_eq!(m.registration_endpoint, None);
    assert_eq!(m.revocation_endpoint, None);
    assert_eq!(m.response_types_supported, ["code"]);
    // A malformed registration endpoint is still an error.
    assert!(asm(json!({"registration_endpoint": "not a url"})).is_err());
}

#[test]
fn rfc8414_2_unknown_members_round_trip() {
    let m = asm(json!({"jwks_uri": "https://as/jwks", "userinfo_endpoint": "https://as/ui", "x-vendor": {"a": 1}})).unwrap();
    assert_eq!(m.extra.len(), 3);
    let back = OAuthMetadata::from_json(m.to_json().as_bytes()).unwrap();
    assert_eq!(back, m);
    let via_serde: OAuthMetadata = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(via_serde, m);
}

// ---- ProtectedResourceMetadata (RFC 9728 §2) ------------------------------------------------

#[test]
fn rfc9728_2_resource_and_authorization_servers_are_required() {
    assert!(prm(json!({"authorization_servers": []})).is_err());
    assert!(prm(json!({"resource": "urn:example:rs"})).is_err());
    assert!(prm(json!({"authorization_servers": ["not a url"]})).is_err());
    let p = prm(
        json!({"authorization_servers": ["https://AS.example.com:443", "https://b.example/t/"]}),
    )
    .unwrap();
    assert_eq!(
        p.authorization_servers,
        ["https://as.example.com", "https://b.example/t/"]
    );
}

#[test]
fn rfc9728_2_bearer_methods_default_and_null() {
    assert_eq!(
        prm(json!({})).unwrap().bearer_methods_supported,
        Some(vec!["header".to_owned()])
    );
    assert_eq!(
        prm(json!({"bearer_methods_supported": null}))
            .unwrap()
            .bearer_methods_supported,
        None
    );
    assert_eq!(
        prm(json!({"bearer_methods_supported": ["header", "body"]}))
            .unwrap()
            .bearer_methods_supported,
        Some(vec!["header".to_owned(), "body".to_owned()])
    );
}

#[test]
fn rfc9449_5_2_dpop_members_parse() {
    let p = prm(json!({"dpop_bound_access_tokens_required": "yes", "dpop_signing_alg_values_supported": ["ES256"], "jwks_uri": ""})).unwrap();
    assert_eq!(p.dpop_bound_access_tokens_required, Some(true));
    assert_eq!(p.jwks_uri, None);
    let back = ProtectedResourceMetadata::from_json(p.to_json().as_bytes()).unwrap();
    assert_eq!(back, p);
}

// ---- OAuthClientMetadata (RFC 7591 §2) -----------------------------------------------------

#[test]
fn rfc7591_2_defaults_and_registration_body() {
    let m = OAuthClientMetadata::new(vec!["http://localhost:3030/callback".to_owned()]);
    m.validate().unwrap();
    assert_eq!(
        m.registration_body(),
        json!({
            "redirect_uris": ["http://localhost:3030/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "application_type": "native",
        })
    );
}

#[test]
fn rfc7591_2_optional_members_and_extensions_are_sent_when_set() {
    let mut m = OAuthClientMetadata::new(vec!["myapp:/cb".to_owned()]);
    m.client_name = Some("Demo".to_owned());
    m.scope = Some("read write".to_owned());
    m.token_endpoint_auth_method = Some("client_secret_basic".to_owned());
    m.extra.insert(
        "post_logout_redirect_uris".to_owned(),
        json!(["myapp:/bye"]),
    );
    m.validate().unwrap();
    let body = m.registration_body();
    assert_eq!(body["client_name"], "Demo");
    assert_eq!(body["scope"], "read write");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["post_logout_redirect_uris"], json!(["myapp:/bye"]));
    assert!(body.get("logo_uri").is_none());
}

#[test]
fn rfc7591_2_validate_rejects_bad_metadata() {
    let ok = || OAuthClientMetadata::new(vec!["http://localhost/cb".to_owned()]);
    let mut m = ok();
    m.redirect_uris = Some(vec![]);
    assert_eq!(m.validate().unwrap_err().kind(), ErrorKind::InvalidArgument);
    let mut m = ok();
    m.redirect_uris = Some(vec!["not a url".to_owned()]);
    assert!(m.validate().is_err());
    let mut m = ok();
    m.token_endpoint_auth_method = Some("client_secret_jwt".to_owned());
    assert!(m.validate().is_err());
    let mut m = ok();
    m.application_type = Some("confidential".to_owned());
    assert!(m.validate().is_err());
    let mut m = ok();
    m.logo_uri = Some("javascript:alert(1)".to_owned());
    assert!(m.validate().is_err());
    // M2M clients have no redirect URIs at all.
    let mut m = ok();
    m.redirect_uris = None;
    m.validate().unwrap();
    assert!(m.registration_body().get("redirect_uris").is_none());
}

#[test]
fn sep837_application_type_defaults_to_native_and_allows_web() {
    let m =
        OAuthClientMetadata::from_json(br#"{"redirect_uris":["https://app.example/cb"]}"#).unwrap();
    assert_eq!(m.application_type.as_deref(), Some("native"));
    let m = OAuthClientMetadata::from_json(
        br#"{"redirect_uris":["https://app.example/cb"],"application_type":"web"}"#,
    )
    .unwrap();
    assert_eq!(m.application_type.as_deref(), Some("web"));
}

#[test]
fn client_metadata_round_trips() {
    let m = OAuthClientMetadata::from_json(
        br#"{"redirect_uris":["http://LOCALHOST:3030"],"client_uri":"https://App.example","jwks":{"keys":[]},"x":1}"#,
    )
    .unwrap();
    assert_eq!(
        m.redirect_uris.as_deref(),
        Some(&["http://localhost:3030".to_owned()][..])
    );
    assert_eq!(m.client_uri.as_deref(), Some("https://app.example"));
    let back = OAuthClientMetadata::from_json(m.to_json().as_bytes()).unwrap();
    assert_eq!(back, m);
}

// ---- OAuthClientInformationFull (RFC 7591 §3.2.1) ------------------------------------------

#[test]
fn rfc7591_3_2_1_null_and_empty_members_are_dropped_before_validation() {
    let ci = OAuthClientInformationFull::from_json(
        br#"{"client_id":"abc","client_secret":"","grant_types":null,"redirect_uris":"","logo_uri":"","scope":null}"#,
    )
    .unwrap();
    assert_eq!(ci.client_secret, None);
    assert_eq!(ci.grant_types, ["authorization_code", "refresh_token"]);
    assert_eq!(ci.redirect_uris, None);
    assert!(OAuthClientInformationFull::from_json(br#"{"client_id":""}"#).is_err());
}

#[test]
fn rfc7591_3_2_1_stored_record_round_trips_with_secret_and_issuer() {
    let mut ci = OAuthClientInformationFull::from_json(
        br#"{"client_id":"abc","client_secret":"S","client_id_issued_at":"1700000000","client_secret_expires_at":0,"registration_client_uri":"https://as/r/abc"}"#,
    )
    .unwrap();
    ci.issuer = Some("https://as.example.com".to_owned());
    assert_eq!(ci.client_id_issued_at, Some(1_700_000_000));
    assert_eq!(ci.client_secret, Some(ClientSecret::new("S")));
    let stored = ci.to_json();
    assert!(
        stored.contains("\"client_secret\":\"S\""),
        "storage needs the secret: {stored}"
    );
    let back = OAuthClientInformationFull::from_json(stored.as_bytes()).unwrap();
    assert_eq!(back, ci);
    let via_serde: OAuthClientInformationFull = serde_json::from_str(&stored).unwrap();
    assert_eq!(via_serde, ci);
}

#[test]
fn client_information_debug_never_prints_secrets() {
    let ci = OAuthClientInformationFull::from_json(
        br#"{"client_id":"abc","client_secret":"CS-SECRET","registration_access_token":"RAT-SECRET"}"#,
    )
    .unwrap();
    let dbg = format!("{ci:?}");
    assert!(!dbg.contains("SECRET"), "{dbg}");
    assert!(dbg.contains("abc"));
    assert!(dbg.contains("registration_access_token"));
}

#[test]
fn rfc7591_3_2_1_any_auth_method_string_parses() {
    let ci = OAuthClientInformationFull::from_json(br#"{"client_id":"a","token_endpoint_auth_method":"tls_client_auth","application_type":"service"}"#).unwrap();
    assert_eq!(
        ci.token_endpoint_auth_method.as_deref(),
        Some("tls_client_auth")
    );
    assert_eq!(ci.application_type.as_deref(), Some("service"));
}
