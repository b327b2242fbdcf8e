//! Client behaviour beyond the conformance topologies: refresh (proactive, rotation,
//! single-flight across threads, failure fallback), persistence, step-up bookkeeping, and the
//! security checks that must stop a flow before anything is sent.

mod common;

use std::sync::{Arc, Barrier};

use common::*;
use mcp_auth::storage::{FileStorage, TokenStorage};
use mcp_auth::trace::{Outcome, Step};
use mcp_auth::{Check, ErrorKind};
use mcp_auth_demo_server::{DemoConfig, FaultAction, RouteFault};
use serde_json::json;

fn tools_list(c: &mcp_auth::Client) -> Result<serde_json::Value, mcp_auth::Error> {
    rpc(c, 2, "tools/list", json!({}))
}

#[test]
fn happy_path_then_token_is_reused_without_any_oauth_request() {
    let h = Harness::start(DemoConfig::default());
    let c = h.client();
    initialize(&c).unwrap();
    h.server.clear_requests();
    tools_list(&c).unwrap();
    call_tool(&c, "echo").unwrap();
    assert_eq!(h.lines(), s(&["POST /mcp", "POST /mcp"]));
    assert_eq!(
        h.server.connections_accepted(),
        1,
        "one keep-alive connection for the whole flow"
    );
}

/// A client whose storage holds a token pair the server accepts but that has expired by the
/// client's clock (as after a restart), for a pre-registered confidential client.
fn client_with_locally_expired_token(h: &Harness) -> mcp_auth::Client {
    use mcp_auth::metadata::OAuthToken;
    use mcp_auth::storage::MemoryStorage;
    use mcp_auth_demo_server::{AuthMethod, PreregisteredClient};
    h.server.register_client(PreregisteredClient::new(
        "app",
        Some("app-secret"),
        AuthMethod::ClientSecretBasic,
    ));
    let (access, refresh) = h.server.issue_token_pair("app", "mcp:read mcp:write");
    let mut token = OAuthToken::new(access);
    token.refresh_token = Some(refresh.into());
    token.scope = Some("mcp:read mcp:write".into());
    token.expires_in = Some(3600);
    token.expires_at = Some(mcp_auth::token::now_unix() - 10);
    let storage = Arc::new(MemoryStorage::new());
    let c = h
        .builder()
        .storage(storage.clone())
        .pre_registered(mcp_auth::PreRegisteredClient::with_secret(
            "app",
            "app-secret",
            mcp_auth::token::TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .build()
        .unwrap();
    storage.set_tokens(c.resource_key(), &token).unwrap();
    c
}

#[test]
fn rejected_token_is_refreshed_without_reauthorization() {
    let h = Harness::start(DemoConfig::default());
    let c = h.client();
    initialize(&c).unwrap();
    // The server rejects the token (401 invalid_token): the client refreshes and retries.
    h.server.expire_all_tokens();
    h.server.clear_requests();
    tools_list(&c).unwrap();
    assert_eq!(h.lines(), s(&["POST /mcp", "POST /token", "POST /mcp"]));
    let refresh = h.only("/token");
    assert_eq!(
        refresh.form_value("grant_type").as_deref(),
        Some("refresh_token")
    );
    assert!(
        refresh.form_value("resource").is_some(),
        "RFC 8707 resource on refresh"
    );
    // Rotation: the second refresh uses the rotated refresh token (the server rejects reuse).
    h.server.expire_all_tokens();
    tools_list(&c).unwrap();
    assert_eq!(h.server.grant_count("refresh_token"), 2);
    assert_eq!(h.server.grant_count("authorization_code"), 1);
}

#[test]
fn a_stored_token_expired_by_the_clock_is_refreshed_before_sending() {
    let h = Harness::start(DemoConfig::default());
    let c = client_with_locally_expired_token(&h);
    tools_list(&c).unwrap();
    // Discovery (for the token endpoint), then the refresh, then the request: never a 401.
    assert_eq!(
        h.lines(),
        s(&[
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server",
            "POST /token",
            "POST /mcp"
        ])
    );
    let refresh = h.only("/token");
    assert!(
        refresh
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    h.server.clear_requests();
    tools_list(&c).unwrap();
    assert_eq!(h.lines(), s(&["POST /mcp"]));
}

#[test]
fn sixty_four_threads_with_an_expired_token_send_exactly_one_refresh() {
    let h = Harness::start(DemoConfig::default());
    let c = client_with_locally_expired_token(&h);
    let barrier = Arc::new(Barrier::new(64));
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let c = c.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                rpc(&c, 100 + i, "tools/list", json!({})).map(|_| ())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(
        h.server.grant_count("refresh_token"),
        1,
        "single-flight refresh"
    );
    assert_eq!(h.server.grant_count("authorization_code"), 0);
    assert_eq!(h.requests_to("/mcp").len(), 64, "no request needed a retry");
}

#[test]
fn rejected_refresh_falls_back_to_authorization_and_keeps_stored_tokens_until_replaced() {
    let dir = tempdir();
    let path = dir.join("creds.json");
    let h = Harness::start(DemoConfig::default());
    let storage = Arc::new(FileStorage::new(&path));
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap();
    let resource = c.resource_key().to_owned();
    let before = storage.get_tokens(&resource).unwrap().unwrap();
    h.server
        .update(|cfg| cfg.faults.refresh_invalid_grant = true);
    h.server.expire_all_tokens();
    h.server.clear_requests();
    tools_list(&c).unwrap();
    // invalid_grant on refresh → a new authorization, which replaced the stored tokens.
    assert_eq!(h.requests_to("/authorize").len(), 1, "{:?}", h.lines());
    let after = storage.get_tokens(&resource).unwrap().unwrap();
    assert_ne!(before.access_token, after.access_token);

    // A refresh that fails for a transport reason leaves the stored tokens untouched.
    h.server.update(|cfg| {
        cfg.faults.refresh_invalid_grant = false;
        cfg.faults
            .routes
            .push(RouteFault::new("/token", FaultAction::html_error(500)));
        cfg.token_ttl_secs = 0;
    });
    h.server.expire_all_tokens();
    let e = tools_list(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Token, "{e}");
    let kept = storage.get_tokens(&resource).unwrap().unwrap();
    assert_eq!(
        kept.access_token, after.access_token,
        "credentials that still work are kept"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_second_process_reuses_stored_registration_and_tokens() {
    let dir = tempdir();
    let path = dir.join("creds.json");
    let h = Harness::start(DemoConfig::default());
    let c1 = h
        .builder()
        .storage(Arc::new(FileStorage::new(&path)))
        .build()
        .unwrap();
    initialize(&c1).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "credential file is private");
    }
    drop(c1);
    h.server.clear_requests();
    // A new client (as in a new process) with the same file: the stored token is used as is.
    let c2 = h
        .builder()
        .storage(Arc::new(FileStorage::new(&path)))
        .build()
        .unwrap();
    tools_list(&c2).unwrap();
    assert_eq!(h.lines(), s(&["POST /mcp"]));
    // With the token revoked server-side, the stored registration is reused: no new DCR.
    h.server.revoke_all_tokens();
    h.server
        .update(|cfg| cfg.faults.refresh_invalid_grant = true);
    h.server.clear_requests();
    let c3 = h
        .builder()
        .storage(Arc::new(FileStorage::new(&path)))
        .build()
        .unwrap();
    tools_list(&c3).unwrap();
    assert!(h.requests_to("/register").is_empty(), "{:?}", h.lines());
    assert_eq!(h.requests_to("/authorize").len(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn registration_is_bound_to_its_issuer_sep_2352() {
    let dir = tempdir();
    let path = dir.join("creds.json");
    let a = Harness::start(DemoConfig::default());
    let storage = Arc::new(FileStorage::new(&path));
    let c = a.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap();
    let stored = storage
        .get_client_info(&a.server.issuer())
        .unwrap()
        .unwrap();
    assert_eq!(stored.issuer.as_deref(), Some(a.server.issuer().as_str()));
    // Another AS (another origin) never sees the first AS's client_id.
    let b = Harness::start(DemoConfig::default());
    let c2 = b.builder().storage(storage.clone()).build().unwrap();
    initialize(&c2).unwrap();
    assert_eq!(
        b.requests_to("/register").len(),
        1,
        "re-registers with the new issuer"
    );
    let sent = b.only("/authorize").query_value("client_id").unwrap();
    assert_ne!(sent, stored.client_id);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn forbidden_without_insufficient_scope_is_returned_not_retried() {
    let h = Harness::start(DemoConfig::default());
    let c = h.client();
    initialize(&c).unwrap();
    h.server.add_fault(RouteFault::new(
        "/mcp",
        FaultAction::Respond {
            status: 403,
            headers: vec![(
                "www-authenticate".into(),
                r#"Bearer error="invalid_token""#.into(),
            )],
            body: b"{}".to_vec(),
        },
    ));
    h.server.clear_requests();
    let r = c
        .post_json(r#"{"jsonrpc":"2.0","id":9,"method":"tools/list"}"#)
        .unwrap();
    assert_eq!(r.status, 403);
    let ch = r
        .challenge
        .expect("the challenge is captured on the response");
    assert_eq!(ch.error(), Some("invalid_token"));
    assert_eq!(ch.www_authenticate, s(&[r#"Bearer error="invalid_token""#]));
    assert_eq!(h.lines(), s(&["POST /mcp"]));
}

#[test]
fn a_server_that_answers_401_forever_gets_a_bounded_number_of_authorizations() {
    let h = Harness::start(DemoConfig::default());
    h.server
        .update(|cfg| cfg.faults.mcp_always_unauthorized = true);
    let e = initialize(&h.client()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert_eq!(e.http_status(), Some(401));
    assert!(!e.www_authenticate().is_empty());
    let tokens = h.requests_to("/token").len();
    assert!(tokens <= 3, "{tokens} token requests");
}

#[test]
fn captured_challenge_is_exposed_after_reauthorization() {
    let h = Harness::start(DemoConfig::default());
    let c = h.client();
    let r = c
        .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.authorizations, 1);
    let ch = r.challenge.unwrap();
    assert_eq!(ch.status, 401);
    assert_eq!(ch.resource_metadata(), h.server.prm_url().as_deref());
    assert_eq!(ch.scope(), Some("mcp:read mcp:write"));
}

#[test]
fn step_up_unions_previous_and_challenged_scopes() {
    let h = Harness::start(DemoConfig {
        challenge_scope: Some("mcp:read".into()),
        prm_scopes_supported: Some(s(&["mcp:read", "mcp:write"])),
        default_scope: None,
        ..DemoConfig::default()
    });
    let c = h.client();
    initialize(&c).unwrap();
    assert_eq!(c.granted_scope().as_deref(), Some("mcp:read"));
    call_tool(&c, "echo").unwrap();
    let auths = h.requests_to("/authorize");
    assert_eq!(auths.len(), 2);
    assert_eq!(
        auths[1].query_value("scope").as_deref(),
        Some("mcp:read mcp:write")
    );
    assert_eq!(c.granted_scope().as_deref(), Some("mcp:read mcp:write"));
}

// ---- security checks that stop the flow ----

fn expect_flow_error(config: DemoConfig) -> (Harness, mcp_auth::Error) {
    let h = Harness::start(config);
    let e = initialize(&h.client()).unwrap_err();
    (h, e)
}

#[test]
fn rfc8414_3_3_metadata_issuer_mismatch_stops_before_registration() {
    let mut config = DemoConfig::default();
    config.faults.as_metadata_patch = Some(json!({"issuer": "https://attacker.example"}));
    let (h, e) = expect_flow_error(config);
    assert_eq!(e.check(), Some(Check::MetadataIssuer), "{e}");
    assert!(h.requests_to("/register").is_empty());
}

#[test]
fn rfc9207_iss_mismatch_stops_before_the_token_request() {
    let (h, e) = expect_flow_error(DemoConfig {
        iss_override: Some("https://attacker.example".into()),
        ..DemoConfig::default()
    });
    assert_eq!(e.check(), Some(Check::ResponseIss), "{e}");
    assert!(h.requests_to("/token").is_empty());
}

#[test]
fn rfc9207_missing_iss_when_advertised_is_rejected() {
    let (h, e) = expect_flow_error(DemoConfig {
        iss_in_authorization_response: false,
        ..DemoConfig::default()
    });
    assert_eq!(e.check(), Some(Check::MissingIss), "{e}");
    assert!(h.requests_to("/token").is_empty());
}

#[test]
fn missing_s256_is_refused_unless_opted_out() {
    let (h, e) = expect_flow_error(DemoConfig {
        code_challenge_methods_supported: None,
        ..DemoConfig::default()
    });
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(h.requests_to("/authorize").is_empty());
    let h = Harness::start(DemoConfig {
        code_challenge_methods_supported: None,
        ..DemoConfig::default()
    });
    let c = h
        .builder()
        .config(|c| c.require_pkce_s256 = false)
        .build()
        .unwrap();
    initialize(&c).unwrap();
    assert!(
        h.only("/authorize").query_value("code_challenge").is_some(),
        "PKCE is still sent"
    );
}

#[test]
fn insecure_authorization_server_is_refused() {
    let (h, e) = expect_flow_error(DemoConfig {
        prm_authorization_servers: Some(s(&["http://as.example.com"])),
        ..DemoConfig::default()
    });
    assert_eq!(e.kind(), ErrorKind::InsecureUrl, "{e}");
    assert!(h.requests_to("/register").is_empty());
}

#[test]
fn token_endpoint_redirect_is_not_followed() {
    let h = Harness::start(DemoConfig::default());
    h.server.add_fault(RouteFault::new(
        "/token",
        FaultAction::redirect("http://127.0.0.1:9/steal"),
    ));
    let e = initialize(&h.client()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Token, "{e}");
    assert!(e.to_string().contains("not followed"), "{e}");
}

#[test]
fn authorization_denied_carries_the_oauth_error() {
    let h = Harness::start(DemoConfig::default());
    h.server
        .update(|cfg| cfg.faults.authorize_error = Some("access_denied".into()));
    let e = initialize(&h.client()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authorization);
    assert_eq!(e.oauth_error().unwrap().error, "access_denied");
}

#[test]
fn trace_names_every_step_and_carries_no_secret() {
    let h = Harness::start(DemoConfig::default());
    let c = h.client();
    initialize(&c).unwrap();
    let token = c.access_token().unwrap();
    let events = h.trace.lock().unwrap().clone();
    let steps: Vec<Step> = events.iter().map(|e| e.step).collect();
    for step in [
        Step::McpRequest,
        Step::ProtectedResourceMetadata,
        Step::AuthorizationServerMetadata,
        Step::ScopeSelection,
        Step::Registration,
        Step::Authorization,
        Step::TokenExchange,
    ] {
        assert!(steps.contains(&step), "{step:?} in {steps:?}");
    }
    assert!(events.iter().all(|e| e.outcome != Outcome::Failed));
    let all = events
        .iter()
        .map(|e| e.to_json())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !all.contains(token.secret()),
        "no access token in the trace"
    );
    let form = h.only("/token").form();
    for (k, v) in form {
        if matches!(k.as_str(), "code" | "code_verifier" | "client_secret") {
            assert!(!all.contains(&v), "{k} leaked into the trace");
        }
    }
}

#[test]
fn probe_reports_status_and_parsed_challenge() {
    let h = Harness::start(DemoConfig::default());
    let p = h.client().probe().unwrap();
    assert_eq!(p.status, 401);
    let ch = p.challenge.unwrap();
    assert_eq!(ch.error(), Some("invalid_token"));
    assert_eq!(ch.resource_metadata(), h.server.prm_url().as_deref());
    assert_eq!(h.lines(), s(&["POST /mcp"]));
}

#[test]
fn discover_returns_the_chain() {
    let h = Harness::topology("metadata-var3");
    let d = h.client().discover().unwrap();
    assert_eq!(
        d.protected_resource_url.as_deref(),
        Some(format!("{}/custom/metadata/location.json", h.server.origin()).as_str())
    );
    assert_eq!(d.issuer, h.server.issuer());
    assert!(
        d.metadata_url
            .clone()
            .unwrap()
            .ends_with("/tenant1/.well-known/openid-configuration")
    );
    assert!(h.requests_to("/tenant1/authorize").is_empty());
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-test-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn hosts_sending_their_own_requests_use_current_token_and_authorize_after() {
    let h = Harness::start(DemoConfig::default());
    let c = h.client();
    assert!(c.current_token().unwrap().is_none());
    // The host's own request got a 401: the client runs the flow and hands back a token.
    let probe = c.probe().unwrap();
    let ch = probe.challenge.unwrap();
    let t1 = c
        .authorize_after(401, &ch.www_authenticate, None)
        .unwrap()
        .unwrap();
    assert_eq!(c.current_token().unwrap().as_ref(), Some(&t1));
    // A step-up 403 with the union, a plain 403 is nothing to do, other statuses are refused.
    let step_up = vec![r#"Bearer error="insufficient_scope", scope="mcp:admin""#.to_owned()];
    let t2 = c
        .authorize_after(403, &step_up, Some(&t1))
        .unwrap()
        .unwrap();
    assert_ne!(t1, t2);
    assert_eq!(
        h.requests_to("/authorize")
            .last()
            .unwrap()
            .query_value("scope")
            .as_deref(),
        Some("mcp:read mcp:write mcp:admin")
    );
    let plain = vec![r#"Bearer error="invalid_token""#.to_owned()];
    assert!(c.authorize_after(403, &plain, Some(&t2)).unwrap().is_none());
    assert_eq!(
        c.authorize_after(500, &[], None).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // A stale rejection (another thread already replaced t1) returns the newer token, no flow.
    let before = h.requests_to("/token").len();
    assert_eq!(c.authorize_after(401, &plain, Some(&t1)).unwrap(), Some(t2));
    assert_eq!(h.requests_to("/token").len(), before);
}
