//! The client against every topology of the conformance suite's authorization scenarios
//! (conformance.md §2.1), each reproduced by the loopback demo server. Each test asserts the
//! exact request sequence and the parameters the suite checks: PKCE, state, resource, scope,
//! client authentication.

mod common;

use common::*;
use mcp_auth::{
    ErrorKind, Grant, PreRegisteredClient, token::SigningKey, token::TokenEndpointAuthMethod,
};

const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";
const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";
const ASM_ROOT: &str = "/.well-known/oauth-authorization-server";
const OIDC_ROOT: &str = "/.well-known/openid-configuration";

/// The authorization and token requests carry consistent PKCE, state, redirect_uri and
/// resource (RFC 7636 §4.3-4.6, RFC 8707 §2); returns (authorize query, token form).
type Pairs = Vec<(String, String)>;

fn assert_code_flow(h: &Harness, prefix: &str) -> (Pairs, Pairs) {
    let auth = h.only(&format!("{prefix}/authorize"));
    let token = h.only(&format!("{prefix}/token"));
    let q = |k: &str| auth.query_value(k);
    let f = |k: &str| token.form_value(k);
    assert_eq!(q("response_type").as_deref(), Some("code"));
    assert_eq!(q("code_challenge_method").as_deref(), Some("S256"));
    let state = q("state").expect("state sent");
    assert!(state.len() >= 43, "state has ≥256 bits");
    assert_eq!(f("grant_type").as_deref(), Some("authorization_code"));
    assert!(pkce_matches(
        &f("code_verifier").expect("verifier"),
        &q("code_challenge").expect("challenge")
    ));
    assert_eq!(q("redirect_uri"), f("redirect_uri"));
    let resource = q("resource").expect("RFC 8707 resource on the authorization request");
    assert_eq!(
        f("resource").as_deref(),
        Some(resource.as_str()),
        "same resource on the token request"
    );
    assert!(!resource.contains('#'));
    (auth.query_pairs(), token.form())
}

fn lines(v: &[&str]) -> Vec<String> {
    s(v)
}

#[test]
fn metadata_default_uses_the_header_prm_url_and_never_the_root() {
    let h = Harness::topology("metadata-default");
    let c = h.client();
    initialize(&c).unwrap();
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp",
            &format!("GET {PRM_PATH}"),
            &format!("GET {ASM_ROOT}"),
            "POST /register",
            "GET /authorize",
            "POST /token",
            "POST /mcp"
        ])
    );
    let (authq, form) = assert_code_flow(&h, "");
    assert!(
        !authq.iter().any(|(k, _)| k == "scope"),
        "no scope anywhere: omitted"
    );
    // `none`: client_id in the body, no secret, no Basic header.
    assert!(form.iter().any(|(k, _)| k == "client_id"));
    assert!(!form.iter().any(|(k, _)| k == "client_secret"));
    assert!(h.only("/token").header("authorization").is_none());
    // The metadata requests carry MCP-Protocol-Version.
    assert!(h.only(PRM_PATH).header("mcp-protocol-version").is_some());
}

#[test]
fn metadata_var1_probes_path_prm_then_falls_back_to_oidc() {
    let h = Harness::topology("metadata-var1");
    initialize(&h.client()).unwrap();
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp",
            &format!("GET {PRM_PATH}"),
            &format!("GET {ASM_ROOT}"),
            &format!("GET {OIDC_ROOT}"),
            "POST /register",
            "GET /authorize",
            "POST /token",
            "POST /mcp"
        ])
    );
    assert_code_flow(&h, "");
}

#[test]
fn metadata_var2_root_prm_and_path_issuer_never_probe_root_as_metadata() {
    let h = Harness::topology("metadata-var2");
    initialize(&h.client()).unwrap();
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp",
            &format!("GET {PRM_PATH}"),
            &format!("GET {PRM_ROOT}"),
            &format!("GET {ASM_ROOT}/tenant1"),
            "POST /tenant1/register",
            "GET /tenant1/authorize",
            "POST /tenant1/token",
            "POST /mcp"
        ])
    );
    let (authq, _) = assert_code_flow(&h, "/tenant1");
    // The PRM names the origin as the resource: that value is sent (RFC 9728 §3.3).
    let resource = authq
        .iter()
        .find(|(k, _)| k == "resource")
        .unwrap()
        .1
        .clone();
    assert_eq!(resource, h.server.origin());
}

#[test]
fn metadata_var3_custom_prm_and_oidc_path_append() {
    let h = Harness::topology("metadata-var3");
    initialize(&h.client()).unwrap();
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp",
            "GET /custom/metadata/location.json",
            &format!("GET {ASM_ROOT}/tenant1"),
            &format!("GET {OIDC_ROOT}/tenant1"),
            "GET /tenant1/.well-known/openid-configuration",
            "POST /tenant1/register",
            "GET /tenant1/authorize",
            "POST /tenant1/token",
            "POST /mcp"
        ])
    );
    assert_code_flow(&h, "/tenant1");
}

#[test]
fn basic_cimd_uses_the_metadata_url_as_client_id_without_registration() {
    let h = Harness::topology("basic-cimd");
    let cimd = mcp_auth_demo_server::CONFORMANCE_CIMD_CLIENT_ID;
    let c = h.builder().client_metadata_url(cimd).build().unwrap();
    initialize(&c).unwrap();
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp",
            &format!("GET {PRM_PATH}"),
            &format!("GET {ASM_ROOT}"),
            "GET /authorize",
            "POST /token",
            "POST /mcp"
        ])
    );
    let (authq, form) = assert_code_flow(&h, "");
    assert!(authq.contains(&("client_id".to_owned(), cimd.to_owned())));
    assert!(form.contains(&("client_id".to_owned(), cimd.to_owned())));
}

#[test]
fn scope_from_www_authenticate_is_requested() {
    let h = Harness::topology("scope-from-www-authenticate");
    initialize(&h.client()).unwrap();
    let (authq, _) = assert_code_flow(&h, "");
    assert!(authq.contains(&("scope".to_owned(), "mcp:basic".to_owned())));
    // DCR carries the selected scope too (RFC 7591 §2).
    assert_eq!(h.only("/register").json().unwrap()["scope"], "mcp:basic");
}

#[test]
fn scope_from_scopes_supported_requests_every_prm_scope() {
    let h = Harness::topology("scope-from-scopes-supported");
    initialize(&h.client()).unwrap();
    let (authq, _) = assert_code_flow(&h, "");
    assert!(authq.contains(&(
        "scope".to_owned(),
        "mcp:basic mcp:read mcp:write".to_owned()
    )));
}

#[test]
fn scope_omitted_when_undefined() {
    let h = Harness::topology("scope-omitted-when-undefined");
    initialize(&h.client()).unwrap();
    let (authq, _) = assert_code_flow(&h, "");
    assert!(!authq.iter().any(|(k, _)| k == "scope"));
    assert!(h.only("/register").json().unwrap().get("scope").is_none());
}

#[test]
fn scope_step_up_reauthorizes_with_the_union_sep_2350() {
    let h = Harness::topology("scope-step-up");
    let c = h.client();
    initialize(&c).unwrap(); // open: no auth
    rpc(&c, 2, "tools/list", serde_json::json!({})).unwrap();
    let r = call_tool(&c, "test-tool").unwrap();
    assert_eq!(r["result"]["content"][0]["text"], "test");
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp", // initialize (open)
            "POST /mcp", // tools/list → 401
            &format!("GET {PRM_PATH}"),
            &format!("GET {ASM_ROOT}"),
            "POST /register",
            "GET /authorize",
            "POST /token",
            "POST /mcp", // tools/list retried
            "POST /mcp", // tools/call → 403 insufficient_scope
            "GET /authorize",
            "POST /token",
            "POST /mcp" // tools/call retried
        ])
    );
    let auths = h.requests_to("/authorize");
    assert_eq!(auths[0].query_value("scope").as_deref(), Some("mcp:basic"));
    assert_eq!(
        auths[1].query_value("scope").as_deref(),
        Some("mcp:basic mcp:write")
    );
    // The step-up reuses the registration and the metadata (no new discovery, no new DCR).
    assert_eq!(h.requests_to("/register").len(), 1);
}

#[test]
fn scope_retry_limit_stops_after_three_authorizations() {
    let h = Harness::topology("scope-retry-limit");
    let c = h.client();
    initialize(&c).unwrap();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string();
    let e = c.post_json(body).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert_eq!(e.http_status(), Some(403));
    assert_eq!(e.oauth_error().unwrap().error, "insufficient_scope");
    assert!(e.www_authenticate()[0].contains("insufficient_scope"));
    assert_eq!(h.requests_to("/authorize").len(), 3);
}

fn token_auth_scenario(name: &str) -> Harness {
    let h = Harness::topology(name);
    initialize(&h.client()).unwrap();
    assert_code_flow(&h, "");
    h
}

#[test]
fn token_endpoint_auth_basic() {
    let h = token_auth_scenario("token-endpoint-auth-basic");
    let token = h.only("/token");
    let basic = token.header("authorization").expect("Basic header");
    assert!(basic.starts_with("Basic "));
    assert!(token.form_value("client_secret").is_none());
}

#[test]
fn token_endpoint_auth_post() {
    let h = token_auth_scenario("token-endpoint-auth-post");
    let token = h.only("/token");
    assert!(token.header("authorization").is_none());
    assert!(token.form_value("client_secret").is_some());
    assert!(token.form_value("client_id").is_some());
}

#[test]
fn token_endpoint_auth_none() {
    let h = token_auth_scenario("token-endpoint-auth-none");
    let token = h.only("/token");
    assert!(token.header("authorization").is_none());
    assert!(token.form_value("client_secret").is_none());
    assert!(token.form_value("client_id").is_some());
}

#[test]
fn pre_registration_uses_the_given_credentials_with_basic() {
    let h = Harness::topology("pre-registration");
    let ctx = h.server.context().unwrap();
    let c = h
        .builder()
        .pre_registered(PreRegisteredClient::with_secret(
            ctx["client_id"].as_str().unwrap(),
            ctx["client_secret"].as_str().unwrap(),
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .build()
        .unwrap();
    initialize(&c).unwrap();
    assert!(h.requests_to("/register").is_empty());
    assert_code_flow(&h, "");
    assert!(
        h.only("/token")
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
}

#[test]
fn pre_registration_without_credentials_fails_clearly_without_dcr_endpoint() {
    let h = Harness::topology("pre-registration");
    let e = initialize(&h.client()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Registration);
    assert!(e.to_string().contains("dynamic client registration"), "{e}");
    assert!(h.requests_to("/authorize").is_empty());
}

#[test]
fn backcompat_2025_03_26_metadata_on_the_server_origin() {
    // No PRM: the server origin is the authorization server; its metadata names the issuer
    // `<origin>/oauth` and endpoints under /oauth (as the suite's mock does).
    let h = Harness::topology("2025-03-26-oauth-metadata-backcompat");
    initialize(&h.client()).unwrap();
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp",
            &format!("GET {PRM_PATH}"),
            &format!("GET {PRM_ROOT}"),
            &format!("GET {ASM_ROOT}"),
            "POST /oauth/register",
            "GET /oauth/authorize",
            "POST /oauth/token",
            "POST /mcp"
        ])
    );
}

#[test]
fn backcompat_2025_03_26_default_endpoints_without_metadata() {
    let h = Harness::topology("2025-03-26-oauth-endpoint-fallback");
    initialize(&h.client()).unwrap();
    assert_eq!(
        h.lines(),
        lines(&[
            "POST /mcp",
            &format!("GET {PRM_PATH}"),
            &format!("GET {PRM_ROOT}"),
            &format!("GET {ASM_ROOT}"),
            "POST /register",
            "GET /authorize",
            "POST /token",
            "POST /mcp"
        ])
    );
}

#[test]
fn resource_mismatch_makes_no_authorization_request() {
    let h = Harness::topology("resource-mismatch");
    let e = initialize(&h.client()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(mcp_auth::Check::Resource));
    assert!(h.requests_to("/authorize").is_empty());
    assert!(h.requests_to("/register").is_empty());
    assert!(h.requests_to("/token").is_empty());
}

#[test]
fn offline_access_requested_when_supported_sep_2207() {
    let h = Harness::topology("offline-access-scope");
    initialize(&h.client()).unwrap();
    let auth = h.requests_to("/authorize").remove(0);
    let scope = auth.query_value("scope").unwrap();
    assert!(scope.split(' ').any(|s| s == "offline_access"), "{scope}");
    // No prompt=consent for an OAuth (non-OpenID) request: OIDC Core §11 governs OpenID
    // Connect requests only (docs/providers.md).
    assert_eq!(auth.query_value("prompt"), None);
    let reg = h.requests_to("/register");
    if let Some(r) = reg.first() {
        let grants = r.json().unwrap()["grant_types"].clone();
        assert!(
            grants
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == "refresh_token")
        );
    }
}

#[test]
fn offline_access_not_requested_when_unsupported() {
    let h = Harness::topology("offline-access-not-supported");
    initialize(&h.client()).unwrap();
    let auth = h.requests_to("/authorize").remove(0);
    assert!(
        !auth
            .query_value("scope")
            .unwrap_or_default()
            .contains("offline_access")
    );
}

#[test]
fn client_credentials_basic() {
    let h = Harness::topology("client-credentials-basic");
    let ctx = h.server.context().unwrap();
    let c = h
        .builder()
        .grant(Grant::ClientCredentials)
        .pre_registered(PreRegisteredClient::with_secret(
            ctx["client_id"].as_str().unwrap(),
            ctx["client_secret"].as_str().unwrap(),
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .build()
        .unwrap();
    initialize(&c).unwrap();
    assert!(h.requests_to("/authorize").is_empty());
    let token = h.only("/token");
    assert_eq!(
        token.form_value("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert!(token.header("authorization").unwrap().starts_with("Basic "));
    assert!(token.form_value("resource").is_some());
}

#[test]
fn client_credentials_private_key_jwt_es256() {
    let h = Harness::topology("client-credentials-jwt");
    let ctx = h.server.context().unwrap();
    let key = SigningKey::from_pem(ctx["private_key_pem"].as_str().unwrap(), None).unwrap();
    let c = h
        .builder()
        .grant(Grant::ClientCredentials)
        .pre_registered(PreRegisteredClient::with_private_key(
            ctx["client_id"].as_str().unwrap(),
            key,
        ))
        .build()
        .unwrap();
    initialize(&c).unwrap();
    let token = h.only("/token");
    assert_eq!(
        token.form_value("client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert!(token.form_value("client_assertion").is_some());
    assert!(token.form_value("client_secret").is_none());
}
