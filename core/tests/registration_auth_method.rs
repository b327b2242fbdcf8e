//! Token-endpoint auth-method negotiation in dynamic registration (issue 13 item 2): the
//! registration asks for a method the AS advertises, and a response that names none means the
//! method asked for, never the RFC 7591 default the AS does not support. The real-server cell
//! is `auth-method` in interop/run.py (the TypeScript SDK's demo authorization server).

mod common;

use mcp_auth::metadata::{OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata};
use mcp_auth::registration::{
    create_client_registration_request, effective_auth_method, keep_advertised_grant_types,
    negotiate_auth_method,
};
use mcp_auth_demo_server::DemoConfig;
use serde_json::{Value, json};

fn asm(methods: Option<Value>) -> OAuthMetadata {
    let mut doc = json!({
        "issuer": "http://127.0.0.1:3001",
        "authorization_endpoint": "http://127.0.0.1:3001/authorize",
        "token_endpoint": "http://127.0.0.1:3001/token",
        "registration_endpoint": "http://127.0.0.1:3001/register",
    });
    if let Some(m) = methods {
        doc["token_endpoint_auth_methods_supported"] = m;
    }
    OAuthMetadata::from_json(doc.to_string().as_bytes()).expect("metadata parses")
}

#[test]
fn the_ts_sdk_as_gets_client_secret_post() {
    // The TypeScript SDK's demo AS: ["client_secret_post", "none"].
    let m = asm(Some(json!(["client_secret_post", "none"])));
    assert_eq!(negotiate_auth_method(Some(&m)), Some("client_secret_post"));
}

#[test]
fn none_when_it_is_the_only_usable_method() {
    let m = asm(Some(json!(["private_key_jwt", "none"])));
    assert_eq!(negotiate_auth_method(Some(&m)), Some("none"));
}

#[test]
fn the_server_chooses_when_the_default_is_supported_or_nothing_is_advertised() {
    let m = asm(Some(json!(["client_secret_basic", "client_secret_post"])));
    assert_eq!(negotiate_auth_method(Some(&m)), None);
    assert_eq!(negotiate_auth_method(Some(&asm(None))), None);
    assert_eq!(negotiate_auth_method(None), None);
    // Nothing we can use: the server chooses, and an unusable answer is refused later.
    let m = asm(Some(json!(["private_key_jwt"])));
    assert_eq!(negotiate_auth_method(Some(&m)), None);
}

#[test]
fn the_request_carries_the_negotiated_method() {
    let m = asm(Some(json!(["client_secret_post", "none"])));
    let mut md = OAuthClientMetadata::new(vec!["http://127.0.0.1:8080/callback".to_owned()]);
    md.token_endpoint_auth_method = negotiate_auth_method(Some(&m)).map(str::to_owned);
    let req = create_client_registration_request(Some(&m), &md, "http://127.0.0.1:3001")
        .expect("request builds");
    assert_eq!(req.body["token_endpoint_auth_method"], "client_secret_post");
}

#[test]
fn a_silent_response_means_the_method_asked_for() {
    let mut info = OAuthClientInformationFull::new("c1");
    effective_auth_method(&mut info, Some("client_secret_post"));
    assert_eq!(
        info.token_endpoint_auth_method.as_deref(),
        Some("client_secret_post")
    );
    // A response that names a method keeps it (RFC 7591 §3.2.1: the server may change it).
    let mut info = OAuthClientInformationFull::new("c2");
    info.token_endpoint_auth_method = Some("none".to_owned());
    effective_auth_method(&mut info, Some("client_secret_post"));
    assert_eq!(info.token_endpoint_auth_method.as_deref(), Some("none"));
    // Nothing asked, nothing said: the RFC 7591 default applies downstream.
    let mut info = OAuthClientInformationFull::new("c3");
    effective_auth_method(&mut info, None);
    assert_eq!(info.token_endpoint_auth_method, None);
}

#[test]
fn refresh_token_is_asked_for_only_when_the_as_offers_it() {
    let md = || OAuthClientMetadata::new(vec!["http://127.0.0.1:8080/callback".to_owned()]);
    let mut without = asm(None);
    without.grant_types_supported = Some(vec!["authorization_code".to_owned()]);
    let mut m = md();
    keep_advertised_grant_types(&mut m, Some(&without));
    assert_eq!(m.grant_types, vec!["authorization_code"]);
    // Offered, or nothing advertised: both grants asked for, as before.
    let mut with = asm(None);
    with.grant_types_supported = Some(vec!["authorization_code".into(), "refresh_token".into()]);
    for metadata in [Some(&with), Some(&asm(None)), None] {
        let mut m = md();
        keep_advertised_grant_types(&mut m, metadata);
        assert_eq!(m.grant_types, vec!["authorization_code", "refresh_token"]);
    }
}

/// The registration the demo server receives (counted on its side) from an AS advertising only
/// `authorization_code` (authlib refuses a request naming more: the `authlib-no-refresh-token`
/// interop cell).
#[test]
fn the_registration_keeps_to_the_advertised_grant_types() {
    let h = common::Harness::start(DemoConfig::default());
    h.server.update(|c| {
        c.faults.as_metadata_patch = Some(json!({"grant_types_supported": ["authorization_code"]}));
    });
    common::initialize(&h.client()).unwrap();
    let body: Value = serde_json::from_slice(&h.only("/register").body).unwrap();
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
}
