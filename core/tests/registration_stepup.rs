//! Step-up beyond the registered scope (issue 13 item 3), against the demo server made to
//! enforce a dynamic registration's `scope` as oidc-provider does: with RFC 7592 management the
//! registration is updated (`PUT registration_client_uri`) before the step-up authorization;
//! without it, the refused step-up (`invalid_scope`) registers again with the union, once.
//! Counted from the server's side. The real-server cell is `step-up-registered-scope`
//! (interop/scenarios/stepup.py).

mod common;

use std::sync::Arc;

use common::*;
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth_demo_server::{DemoConfig, FaultAction, RouteFault};

fn enforcing(management: bool) -> Harness {
    let mut cfg = DemoConfig::topology("scope-step-up").unwrap();
    cfg.enforce_registered_scope = true;
    cfg.registration_management = management;
    Harness::start(cfg)
}

fn details(h: &Harness) -> Vec<String> {
    h.trace
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.detail.clone())
        .collect()
}

/// `PUT`s the server saw to a registration's configuration endpoint.
fn updates(h: &Harness) -> Vec<mcp_auth_demo_server::RecordedRequest> {
    h.server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with("/register/"))
        .collect()
}

#[test]
fn rfc7592_updates_the_registration_before_the_step_up() {
    let h = enforcing(true);
    let storage = Arc::new(MemoryStorage::new());
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap();
    rpc(&c, 2, "tools/list", serde_json::json!({})).unwrap();
    let r = call_tool(&c, "test-tool").unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));
    assert_eq!(r["result"]["content"][0]["text"], "test");

    let registered = h.only("/register");
    assert_eq!(
        registered.json().unwrap()["scope"].as_str(),
        Some("mcp:basic")
    );
    let put = updates(&h);
    assert_eq!(put.len(), 1, "{:?}", h.lines());
    let client = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    assert_eq!(put[0].path, format!("/register/{}", client.client_id));
    assert!(
        put[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer rat_")),
        "the registration access token authorizes the update"
    );
    let body = put[0].json().unwrap();
    assert_eq!(body["scope"].as_str(), Some("mcp:basic mcp:write"));
    assert_eq!(body["client_id"].as_str(), Some(client.client_id.as_str()));
    assert!(body.get("registration_access_token").is_none());
    assert!(body.get("issuer").is_none());
    // The same client, now registered (and stored) with the union.
    assert_eq!(client.scope.as_deref(), Some("mcp:basic mcp:write"));
    let auths = h.requests_to("/authorize");
    assert_eq!(auths.len(), 2, "{:?}", h.lines());
    assert_eq!(
        auths[1].query_value("scope").as_deref(),
        Some("mcp:basic mcp:write")
    );
    assert_eq!(
        auths[1].query_value("client_id").as_deref(),
        Some(client.client_id.as_str())
    );
    assert!(
        details(&h)
            .iter()
            .any(|d| d.contains("updated (RFC 7592)") && d.contains("mcp:basic mcp:write")),
        "{:?}",
        details(&h)
    );
}

#[test]
fn without_rfc7592_a_refused_step_up_registers_again_with_the_union_once() {
    let h = enforcing(false);
    let storage = Arc::new(MemoryStorage::new());
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap();
    rpc(&c, 2, "tools/list", serde_json::json!({})).unwrap();
    let r = call_tool(&c, "test-tool").unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));
    assert_eq!(r["result"]["content"][0]["text"], "test");

    let regs = h.requests_to("/register");
    assert_eq!(regs.len(), 2, "{:?}", h.lines());
    assert_eq!(
        regs[1].json().unwrap()["scope"].as_str(),
        Some("mcp:basic mcp:write")
    );
    // First authorization, the step-up the AS refused (invalid_scope), the one after the
    // new registration.
    let auths = h.requests_to("/authorize");
    assert_eq!(auths.len(), 3, "{:?}", h.lines());
    let client = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    assert_eq!(
        auths[2].query_value("client_id").as_deref(),
        Some(client.client_id.as_str())
    );
    assert_ne!(
        auths[1].query_value("client_id"),
        auths[2].query_value("client_id")
    );
    assert!(updates(&h).is_empty());
    assert!(
        details(&h)
            .iter()
            .any(|d| d.contains("invalid_scope") && d.contains("registering again")),
        "{:?}",
        details(&h)
    );
}

#[test]
fn a_refused_update_registers_again() {
    let h = enforcing(true);
    let storage = Arc::new(MemoryStorage::new());
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap();
    rpc(&c, 2, "tools/list", serde_json::json!({})).unwrap();
    let first = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    let refused = serde_json::json!({"error": "invalid_token"});
    let path = format!("/register/{}", first.client_id);
    h.server.update(|cfg| {
        cfg.faults
            .routes
            .push(RouteFault::new(&path, FaultAction::json(401, &refused)).method("PUT"))
    });
    call_tool(&c, "test-tool").unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));
    assert_eq!(updates(&h).len(), 1, "{:?}", h.lines());
    let regs = h.requests_to("/register");
    assert_eq!(regs.len(), 2, "{:?}", h.lines());
    assert_eq!(
        regs[1].json().unwrap()["scope"].as_str(),
        Some("mcp:basic mcp:write")
    );
    assert_eq!(h.requests_to("/authorize").len(), 2, "{:?}", h.lines());
    let now = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    assert_ne!(now.client_id, first.client_id);
}

/// A server that does not enforce the registered scope keeps the registration (the
/// conformance step-up is unchanged): no update, no new registration.
#[test]
fn a_server_that_does_not_enforce_keeps_the_registration() {
    let h = Harness::topology("scope-step-up");
    let c = h.client();
    initialize(&c).unwrap();
    rpc(&c, 2, "tools/list", serde_json::json!({})).unwrap();
    call_tool(&c, "test-tool").unwrap();
    assert_eq!(h.requests_to("/register").len(), 1);
    assert!(updates(&h).is_empty());
}
