//! Unit tests of registration (RFC 7591), CIMD and the SEP-2352 issuer binding.

use mcp_auth::metadata::{OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata};
use mcp_auth::registration::{
    check_registration_usable, check_registration_usable_with,
    create_client_info_from_metadata_url, create_client_registration_request,
    credentials_match_issuer, handle_registration_response, is_valid_client_metadata_url,
    should_use_client_metadata_url,
};
use mcp_auth::secret::ClientSecret;
use mcp_auth::{Error, ErrorKind};
use serde_json::{Value, json};

fn client() -> OAuthClientMetadata {
    let mut m = OAuthClientMetadata::new(vec!["http://127.0.0.1:3030/callback".to_owned()]);
    m.scope = Some("read".to_owned());
    m
}

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

#[test]
fn rfc7591_3_1_request_goes_to_the_registration_endpoint() {
    let mut asm = OAuthMetadata::new(
        "https://as.example.com",
        "https://as.example.com/a",
        "https://as.example.com/t",
    );
    asm.registration_endpoint = Some("https://as.example.com/oauth/register".to_owned());
    let req = create_client_registration_request(Some(&asm), &client(), "https://ignored.example")
        .unwrap();
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.url, "https://as.example.com/oauth/register");
    assert_eq!(req.body, client().registration_body());

    let http_req = req.to_http();
    assert_eq!(http_req.method(), http::Method::POST);
    assert_eq!(http_req.uri(), "https://as.example.com/oauth/register");
    assert_eq!(http_req.headers()["content-type"], "application/json");
    assert_eq!(http_req.headers()["accept"], "application/json");
    let body: Value = serde_json::from_slice(http_req.body()).unwrap();
    assert_eq!(body["scope"], "read");
    assert_eq!(body["application_type"], "native");
    assert!(
        body.get("token_endpoint_auth_method").is_none(),
        "the server chooses"
    );
}

#[test]
fn rfc7591_3_1_fallback_is_register_at_the_base_origin() {
    for (base, want) in [
        ("https://as.example.com", "https://as.example.com/register"),
        (
            "https://as.example.com/tenant/x?q=1#f",
            "https://as.example.com/register",
        ),
        ("http://localhost:9000/", "http://localhost:9000/register"),
        (
            "https://API.Example.com:443",
            "https://API.Example.com:443/register",
        ),
    ] {
        let req = create_client_registration_request(None, &client(), base).unwrap();
        assert_eq!(req.url, want, "{base}");
    }
    // Metadata without a registration endpoint falls back too.
    let asm = OAuthMetadata::new("https://as", "https://as/a", "https://as/t");
    assert_eq!(
        create_client_registration_request(Some(&asm), &client(), "https://rs.example")
            .unwrap()
            .url,
        "https://rs.example/register"
    );
    for bad in ["", "as.example.com", "ftp://as.example.com"] {
        let e = create_client_registration_request(None, &client(), bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
    }
}

#[test]
fn rfc7591_2_invalid_client_metadata_is_not_sent() {
    let mut m = client();
    m.redirect_uris = Some(vec![]);
    let e = create_client_registration_request(None, &m, "https://as").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn try_to_http_reports_hand_made_garbage() {
    let mut req = create_client_registration_request(None, &client(), "https://as").unwrap();
    req.url = "https://as/ bad".to_owned();
    assert_eq!(
        req.try_to_http().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn rfc7591_3_2_1_success_is_200_or_201() {
    for status in [200, 201] {
        let ci = handle_registration_response(&response(
            status,
            r#"{"client_id":"id","client_secret":"s"}"#,
        ))
        .unwrap();
        assert_eq!(ci.client_id, "id");
        assert_eq!(ci.client_secret, Some(ClientSecret::new("s")));
    }
    for status in [202, 204, 302, 400, 500] {
        let e = handle_registration_response(&response(status, "")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Registration);
        assert_eq!(e.http_status(), Some(status));
        assert_eq!(e.to_string(), format!("Registration failed: {status} "));
    }
}

#[test]
fn rfc7591_3_2_2_error_response_is_structured() {
    let e = handle_registration_response(&response(
        400,
        r#"{"error":"invalid_client_metadata","error_description":"bad redirect"}"#,
    ))
    .unwrap_err();
    let oauth = e.oauth_error().expect("RFC 7591 §3.2.2 error");
    assert_eq!(oauth.error, "invalid_client_metadata");
    assert_eq!(oauth.error_description.as_deref(), Some("bad redirect"));
    assert!(e.to_string().starts_with("Registration failed: 400 {"));
}

#[test]
fn redirects_are_reported_not_followed_without_userinfo_or_query() {
    let resp = http::Response::builder()
        .status(307)
        .header(
            "Location",
            "https://user:pw@elsewhere.example/register?token=x#frag",
        )
        .body(Vec::new())
        .unwrap();
    let e = handle_registration_response(&resp).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Registration failed: 307 (redirected to https://elsewhere.example/register; not followed) "
    );
    let resp = http::Response::builder()
        .status(302)
        .header("Location", "/other?x=1")
        .body(b"moved".to_vec())
        .unwrap();
    assert_eq!(
        handle_registration_response(&resp).unwrap_err().to_string(),
        "Registration failed: 302 (redirected to /other; not followed) moved"
    );
}

#[test]
fn sep2352_a_registration_issuer_member_is_never_trusted() {
    for issuer in [
        json!("https://as.example.com"),
        json!(12345),
        json!({"x": 1}),
    ] {
        let body = json!({"client_id": "id", "issuer": issuer}).to_string();
        let ci = handle_registration_response(&response(201, &body)).unwrap();
        assert_eq!(ci.issuer, None);
        assert!(!ci.extra.contains_key("issuer"));
    }
}

#[test]
fn invalid_registration_bodies() {
    for body in [
        "",
        "<html>",
        "[1]",
        "\"id\"",
        r#"{"client_id":5}"#,
        r#"{"client_secret":"s"}"#,
    ] {
        let e = handle_registration_response(&response(201, body)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Registration {
                    status: Some(201),
                    oauth: None,
                    ..
                }
            ),
            "{body}"
        );
        assert!(
            e.to_string().starts_with("Invalid registration response: "),
            "{e}"
        );
    }
    let e = handle_registration_response(&response(
        201,
        r#"{"client_secret":"TOPSECRET","client_id":7}"#,
    ))
    .unwrap_err();
    assert!(!e.to_string().contains("TOPSECRET"));
}

#[test]
fn rfc7591_3_2_1_usability_depends_on_the_supported_methods() {
    let ci = |method: Option<&str>, secret: Option<&str>| {
        let mut ci = OAuthClientInformationFull::new("id");
        ci.token_endpoint_auth_method = method.map(str::to_owned);
        ci.client_secret = secret.map(ClientSecret::new);
        ci
    };
    assert!(check_registration_usable(&ci(None, None)).is_ok());
    assert!(check_registration_usable(&ci(None, Some("s"))).is_ok());
    assert!(check_registration_usable(&ci(Some("none"), None)).is_ok());
    assert!(check_registration_usable(&ci(Some("client_secret_basic"), Some("s"))).is_ok());
    let e = check_registration_usable(&ci(Some("client_secret_post"), Some(""))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Authorization server registered the client for 'client_secret_post' but issued no client_secret"
    );
    let e = check_registration_usable(&ci(Some("private_key_jwt"), None)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Registration);
    // A client that implements private_key_jwt accepts it; the key is the client's own.
    let with_jwt = [
        "none",
        "client_secret_post",
        "client_secret_basic",
        "private_key_jwt",
    ];
    assert!(check_registration_usable_with(&ci(Some("private_key_jwt"), None), &with_jwt).is_ok());
    assert!(
        check_registration_usable_with(
            &ci(Some("client_secret_jwt"), None),
            &["client_secret_jwt"]
        )
        .is_err()
    );
    assert!(check_registration_usable_with(&ci(Some("none"), None), &[]).is_err());
}

#[test]
fn cimd_3_client_id_url_rules() {
    for ok in [
        "https://example.com/client",
        "https://example.com:8443/c.json",
        "https://example.com/c?v=1",
        "HTTPS://example.com/c",
    ] {
        assert!(is_valid_client_metadata_url(ok), "{ok}");
    }
    for bad in [
        "http://example.com/client",
        "https://example.com",
        "https://example.com/",
        "https://example.com?x=/y",
        "https:///path",
        "https://example.com/client#frag",
        "https://example.com/client#",
        "https://user@example.com/client",
        "https://example.com/a/../client",
        "https://example.com/./client",
        "https://:443/client",
        "http://[::1/foo/",
        "",
    ] {
        assert!(!is_valid_client_metadata_url(bad), "{bad}");
    }
}

#[test]
fn cimd_used_only_when_the_as_says_so() {
    let mut asm = OAuthMetadata::new("https://as", "https://as/a", "https://as/t");
    assert!(!should_use_client_metadata_url(
        Some(&asm),
        Some("https://c.example/m")
    ));
    asm.client_id_metadata_document_supported = Some(true);
    assert!(should_use_client_metadata_url(
        Some(&asm),
        Some("https://c.example/m")
    ));
    assert!(!should_use_client_metadata_url(Some(&asm), Some("")));
    assert!(!should_use_client_metadata_url(Some(&asm), None));
    assert!(!should_use_client_metadata_url(
        None,
        Some("https://c.example/m")
    ));
}

#[test]
fn cimd_client_info_is_a_public_client() {
    let ci = create_client_info_from_metadata_url(
        "https://c.example/m.json",
        Some(vec![
            "http://LOCALHOST:3000/cb".to_owned(),
            "myapp:/cb".to_owned(),
        ]),
    );
    assert_eq!(ci.client_id, "https://c.example/m.json");
    assert_eq!(ci.token_endpoint_auth_method.as_deref(), Some("none"));
    assert_eq!(ci.client_secret, None);
    assert_eq!(ci.issuer, None);
    assert_eq!(
        ci.redirect_uris.as_deref(),
        Some(
            &[
                "http://localhost:3000/cb".to_owned(),
                "myapp:/cb".to_owned()
            ][..]
        )
    );
    assert!(check_registration_usable(&ci).is_ok());
    let v: Value = serde_json::from_str(&ci.to_json()).unwrap();
    assert_eq!(
        v["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
}

#[test]
fn sep2352_credentials_are_bound_to_their_issuer() {
    let mut ci = OAuthClientInformationFull::new("dcr-id");
    assert!(
        credentials_match_issuer(&ci, "https://any", None),
        "unbound credentials are kept"
    );
    ci.issuer = Some("https://as.example.com".to_owned());
    assert!(credentials_match_issuer(
        &ci,
        "https://as.example.com/",
        None
    ));
    assert!(!credentials_match_issuer(
        &ci,
        "https://other.example.com",
        None
    ));
    assert!(!credentials_match_issuer(
        &ci,
        "https://other.example.com",
        Some("https://c.example/m")
    ));
    let mut cimd = OAuthClientInformationFull::new("https://c.example/m");
    cimd.issuer = Some("https://as.example.com".to_owned());
    assert!(credentials_match_issuer(
        &cimd,
        "https://other.example.com",
        Some("https://c.example/m")
    ));
}
