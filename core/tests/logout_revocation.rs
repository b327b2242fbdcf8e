//! `logout` revokes at the authorization server (RFC 7009), then forgets the tokens even when
//! the revocation fails; `forget_client` forgets the registration. Counted from the demo
//! server's side: the revoked refresh token no longer works there.

mod common;

use std::sync::Arc;

use common::*;
use mcp_auth::metadata::OAuthToken;
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::{ErrorKind, Revocation};
use mcp_auth_demo_server::{DemoConfig, FaultAction, RouteFault};

fn logged_in(h: &Harness) -> (mcp_auth::Client, Arc<MemoryStorage>, OAuthToken) {
    let storage = Arc::new(MemoryStorage::new());
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("flow failed: {e}\n{:?}", h.lines()));
    let token = storage.get_tokens(c.resource_key()).unwrap().unwrap();
    assert!(token.refresh_token.is_some());
    (c, storage, token)
}

/// A refresh at the demo token endpoint with `refresh_token`, authenticated as the registered
/// client (as the registration says). Returns the status and the OAuth error code.
fn refresh_answer(h: &Harness, storage: &MemoryStorage, refresh_token: &str) -> (u16, String) {
    use base64::Engine as _;
    let client = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut req = agent.post(&h.server.token_endpoint());
    if let Some(secret) = &client.client_secret {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            client.client_id,
            secret.secret()
        ));
        req = req.header("Authorization", &format!("Basic {basic}"));
    }
    let mut r = req
        .send_form([
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client.client_id.as_str()),
        ])
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    (
        r.status().as_u16(),
        body["error"].as_str().unwrap_or("").to_owned(),
    )
}

#[test]
fn rfc7009_logout_revokes_both_tokens_and_the_refresh_token_stops_working() {
    let h = Harness::start(DemoConfig::default());
    let (c, storage, token) = logged_in(&h);
    let outcome = c.logout().unwrap();
    assert_eq!(outcome, Revocation::Revoked);
    // Two requests, each with its hint, authenticated as the registered client.
    let reqs = h.requests_to("/revoke");
    assert_eq!(reqs.len(), 2, "{:?}", h.lines());
    assert_eq!(
        reqs[0].form_value("token_type_hint").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(
        reqs[1].form_value("token_type_hint").as_deref(),
        Some("access_token")
    );
    let counters = h.server.revocation_counters();
    assert_eq!(counters.requests, 2);
    assert_eq!(counters.refresh_tokens, 1);
    assert_eq!(
        counters.access_tokens, 1,
        "the grant's access token went too"
    );
    assert!(storage.get_tokens(c.resource_key()).unwrap().is_none());
    // The revoked refresh token is refused by the AS.
    let rt = token.refresh_token.as_ref().unwrap().secret().to_owned();
    assert_eq!(
        refresh_answer(&h, &storage, &rt),
        (400, "invalid_grant".to_owned())
    );
    // The registration is kept: the next login does not register again.
    h.server.reset_counters();
    initialize(&c).unwrap();
    assert_eq!(
        h.requests_to("/register").len(),
        1,
        "only the first login registered"
    );
}

#[test]
fn a_failed_revocation_still_forgets_the_tokens_and_says_so() {
    let h = Harness::start(DemoConfig::default());
    let (c, storage, token) = logged_in(&h);
    h.server
        .add_fault(RouteFault::new("/revoke", FaultAction::status(503, "down")).times(10));
    let outcome = c.logout().unwrap();
    match &outcome {
        Revocation::Failed { reason } => {
            assert!(reason.contains("503"), "{reason}");
            let rt = token.refresh_token.as_ref().unwrap().secret();
            assert!(!reason.contains(rt), "no secret in the reason");
        }
        other => panic!("{other:?}"),
    }
    assert!(!outcome.confirmed());
    assert!(storage.get_tokens(c.resource_key()).unwrap().is_none());
    assert_eq!(h.server.revocation_counters().refresh_tokens, 0);
}

#[test]
fn without_a_revocation_endpoint_logout_forgets_and_reports_unsupported() {
    let h = Harness::start(DemoConfig {
        revocation_enabled: false,
        ..DemoConfig::default()
    });
    let (c, storage, _) = logged_in(&h);
    assert_eq!(c.logout().unwrap(), Revocation::Unsupported);
    assert!(storage.get_tokens(c.resource_key()).unwrap().is_none());
    assert_eq!(c.logout().unwrap(), Revocation::NoTokens);
    assert!(h.requests_to("/revoke").is_empty());
}

#[test]
fn forget_client_forgets_the_registration_and_the_next_login_registers_anew() {
    let h = Harness::start(DemoConfig::default());
    let (c, storage, _) = logged_in(&h);
    let issuer = c.forget_client().unwrap();
    assert_eq!(issuer, h.server.issuer());
    assert!(storage.get_client_info(&issuer).unwrap().is_none());
    // Tokens are kept by forget_client; logout then (the registration is gone: the revocation
    // has no credentials to authenticate with and says so), and log in again.
    assert!(storage.get_tokens(c.resource_key()).unwrap().is_some());
    let outcome = c.logout().unwrap();
    assert!(matches!(outcome, Revocation::Failed { .. }), "{outcome:?}");
    initialize(&c).unwrap();
    assert_eq!(h.requests_to("/register").len(), 2, "{:?}", h.lines());
}

#[test]
fn a_cancelled_logout_still_forgets_the_tokens() {
    let h = Harness::start(DemoConfig::default());
    let (c, storage, _) = logged_in(&h);
    let call = mcp_auth::CancelToken::new();
    call.cancel();
    let e = call.scope(|| c.logout()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(storage.get_tokens(c.resource_key()).unwrap().is_none());
}
