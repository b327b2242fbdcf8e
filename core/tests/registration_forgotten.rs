//! A registration the authorization server has forgotten (issue 13 item 4): the stored
//! registration's refresh is refused with `invalid_client`; the client forgets that
//! registration, registers again once, and completes the flow. Counted from the server's side.
//! The real-server cell is `forgotten-registration` in interop/run.py (oidc-provider restarts).

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{FileStorage, MemoryStorage, TokenStorage};
use mcp_auth::trace::TraceEvent;
use mcp_auth_demo_server::{DemoConfig, FaultAction, RouteFault};

#[test]
fn a_forgotten_registration_is_dropped_and_registered_again_once() {
    let h = Harness::start(DemoConfig::default());
    let storage = Arc::new(MemoryStorage::new());
    // A registration this issuer never made (as after a restart of an in-memory AS), with a
    // token and refresh token issued to it.
    let mut client = OAuthClientInformationFull::new("forgotten-client");
    client.client_secret = Some("forgotten-secret-0123456789".to_owned().into());
    client.token_endpoint_auth_method = Some("client_secret_basic".to_owned());
    client.issuer = Some(h.server.issuer());
    client.redirect_uris = Some(vec![
        mcp_auth::authorization::DEFAULT_REDIRECT_URI.to_owned(),
    ]);
    storage
        .set_client_info(&h.server.issuer(), &client)
        .unwrap();
    let mut token = OAuthToken::new("unknown-access-token");
    token.refresh_token = Some("unknown-refresh-token".to_owned().into());
    let resource = mcp_auth::checks::resource_url_from_server_url(&h.server.mcp_url()).unwrap();
    storage.set_tokens(&resource, &token).unwrap();

    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = events.clone();
    let c = h
        .builder()
        .storage(storage.clone())
        .observer(Arc::new(move |e: &TraceEvent| {
            seen.lock().unwrap().push(e.detail.clone())
        }))
        .build()
        .unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("flow failed: {e}\n{:?}", h.lines()));

    // The server refused the refresh as an unknown client, then saw exactly one registration
    // and a code exchange by the new client.
    let refreshes: Vec<_> = h
        .requests_to("/token")
        .into_iter()
        .filter(|r| r.form_value("grant_type").as_deref() == Some("refresh_token"))
        .collect();
    assert_eq!(refreshes.len(), 1, "{:?}", h.lines());
    assert_eq!(h.requests_to("/register").len(), 1, "{:?}", h.lines());
    let stored = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    assert_ne!(stored.client_id, "forgotten-client");
    assert!(h.server.registered_client_ids().contains(&stored.client_id));
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|d| d.contains("forgotten-client") && d.contains("registering again")),
        "{events:?}"
    );
}

/// A registration this issuer never made, bound to it (as after a restart of an in-memory AS).
fn unknown_registration(storage: &dyn TokenStorage, issuer: &str) {
    let mut client = OAuthClientInformationFull::new("forgotten-client");
    client.client_secret = Some("forgotten-secret-0123456789".to_owned().into());
    client.token_endpoint_auth_method = Some("client_secret_basic".to_owned());
    client.issuer = Some(issuer.to_owned());
    client.redirect_uris = Some(vec![
        mcp_auth::authorization::DEFAULT_REDIRECT_URI.to_owned(),
    ]);
    storage.set_client_info(issuer, &client).unwrap();
}

fn trace_details(h: &Harness) -> Vec<String> {
    h.trace
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.detail.clone())
        .collect()
}

/// The `mcp-auth token` then `mcp-auth login` pattern: the first process only refreshes (the
/// refresh is refused as an unknown client), the second authorizes. The first must drop the
/// registration from the store, so the second registers again instead of sending the browser
/// to the AS with a `client_id` it does not know.
#[test]
fn a_refused_refresh_removes_the_registration_from_the_store_for_the_next_process() {
    let dir = std::env::temp_dir().join(format!(
        "mcp-auth-forgotten-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials.json");
    let h = Harness::start(DemoConfig::default());
    let first = Arc::new(FileStorage::new(&path));
    unknown_registration(&*first, &h.server.issuer());
    let mut token = OAuthToken::new("unknown-access-token");
    token.refresh_token = Some("unknown-refresh-token".to_owned().into());
    token.expires_at = Some(1);
    let resource = mcp_auth::checks::resource_url_from_server_url(&h.server.mcp_url()).unwrap();
    first.set_tokens(&resource, &token).unwrap();

    let c1 = h.builder().storage(first.clone()).build().unwrap();
    let current = c1.current_token().unwrap();
    assert!(
        current.is_none(),
        "no usable token after the refused refresh"
    );
    assert_eq!(h.requests_to("/token").len(), 1, "{:?}", h.lines());
    assert!(h.requests_to("/register").is_empty(), "{:?}", h.lines());
    assert!(
        first.get_client_info(&h.server.issuer()).unwrap().is_none(),
        "the refused registration is removed from the store"
    );
    assert!(
        trace_details(&h)
            .iter()
            .any(|d| d.contains("forgotten-client") && d.contains("removed from the store")),
        "{:?}",
        trace_details(&h)
    );

    // The next process, on the same file: registers once and completes the flow.
    let second = Arc::new(FileStorage::new(&path));
    let c2 = h.builder().storage(second.clone()).build().unwrap();
    initialize(&c2).unwrap_or_else(|e| panic!("flow failed: {e}\n{:?}", h.lines()));
    assert_eq!(h.requests_to("/register").len(), 1, "{:?}", h.lines());
    let stored = second.get_client_info(&h.server.issuer()).unwrap().unwrap();
    assert!(h.server.registered_client_ids().contains(&stored.client_id));
    let _ = std::fs::remove_dir_all(dir);
}

/// `error=invalid_client` in the authorization redirect for a stored dynamic registration:
/// forgotten (memory and store), registered again once, authorized with the new one.
#[test]
fn an_invalid_client_redirect_registers_again_once() {
    let h = Harness::start(DemoConfig::default());
    let storage = Arc::new(MemoryStorage::new());
    unknown_registration(&*storage, &h.server.issuer());
    // The AS sends the user agent back with the error (the first time only).
    let location = format!(
        "{}?error=invalid_client&error_description=unknown+client&state={{state}}",
        mcp_auth::authorization::DEFAULT_REDIRECT_URI
    );
    h.server.update(|cfg| {
        cfg.faults
            .routes
            .push(RouteFault::new("/authorize", FaultAction::redirect(&location)).times(1))
    });
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("flow failed: {e}\n{:?}", h.lines()));

    assert_eq!(h.requests_to("/authorize").len(), 2, "{:?}", h.lines());
    assert_eq!(h.requests_to("/register").len(), 1, "{:?}", h.lines());
    let stored = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    assert_ne!(stored.client_id, "forgotten-client");
    assert!(h.server.registered_client_ids().contains(&stored.client_id));
    let details = trace_details(&h);
    assert!(
        details.iter().any(|d| d.contains("forgotten-client")
            && d.contains("invalid_client at the authorization redirect")
            && d.contains("registering again")),
        "{details:?}"
    );
}

/// An AS that keeps answering `unauthorized_client` in the redirect: one new registration, one
/// more authorization, then the error (bounded).
#[test]
fn an_unauthorized_client_redirect_registers_again_only_once() {
    let h = Harness::start(DemoConfig::default());
    let storage = Arc::new(MemoryStorage::new());
    unknown_registration(&*storage, &h.server.issuer());
    let location = format!(
        "{}?error=unauthorized_client&state={{state}}",
        mcp_auth::authorization::DEFAULT_REDIRECT_URI
    );
    h.server.update(|cfg| {
        cfg.faults.routes.push(RouteFault::new(
            "/authorize",
            FaultAction::redirect(&location),
        ))
    });
    let c = h.builder().storage(storage.clone()).build().unwrap();
    let e = initialize(&c).unwrap_err();
    assert!(e.to_string().contains("unauthorized_client"), "{e}");
    assert_eq!(h.requests_to("/register").len(), 1, "{:?}", h.lines());
    assert_eq!(h.requests_to("/authorize").len(), 2, "{:?}", h.lines());
    assert!(h.requests_to("/token").is_empty(), "{:?}", h.lines());
}

/// An `invalid_client` error redirect that does not belong to the request (another `state`,
/// as anyone who can reach the redirect URI could send; or none at all) is not acted on: the
/// flow fails, the registration stays in the store, nothing is registered.
#[test]
fn an_error_redirect_of_another_request_does_not_forget_the_registration() {
    for (query, kind) in [
        (
            "error=invalid_client&state=forged-state-value",
            mcp_auth::ErrorKind::SecurityCheck,
        ),
        ("error=invalid_client", mcp_auth::ErrorKind::Authorization),
    ] {
        let h = Harness::start(DemoConfig::default());
        let storage = Arc::new(MemoryStorage::new());
        unknown_registration(&*storage, &h.server.issuer());
        let location = format!("{}?{query}", mcp_auth::authorization::DEFAULT_REDIRECT_URI);
        h.server.update(|cfg| {
            cfg.faults.routes.push(RouteFault::new(
                "/authorize",
                FaultAction::redirect(&location),
            ))
        });
        let c = h.builder().storage(storage.clone()).build().unwrap();
        let e = initialize(&c).unwrap_err();
        assert_eq!(e.kind(), kind, "{query}: {e}");
        assert!(e.to_string().contains("invalid_client"), "{e}");
        assert!(!e.to_string().contains("forged-state-value"), "{e}");
        assert_eq!(h.requests_to("/authorize").len(), 1, "{:?}", h.lines());
        assert!(h.requests_to("/register").is_empty(), "{:?}", h.lines());
        let stored = storage
            .get_client_info(&h.server.issuer())
            .unwrap()
            .unwrap();
        assert_eq!(stored.client_id, "forgotten-client", "{query}");
        assert!(
            !trace_details(&h)
                .iter()
                .any(|d| d.contains("registration forgotten")),
            "{query}"
        );
    }
}

/// `invalid_client` at the code exchange (the AS forgot the client between the redirect and
/// the exchange): forgotten, registered again, authorized again, once.
#[test]
fn an_invalid_client_code_exchange_registers_again_once() {
    let h = Harness::start(DemoConfig::default());
    let refused =
        serde_json::json!({"error": "invalid_client", "error_description": "unknown client"});
    h.server.update(|cfg| {
        cfg.faults.routes.push(
            RouteFault::new("/token", FaultAction::json(401, &refused))
                .method("POST")
                .times(1),
        )
    });
    let storage = Arc::new(MemoryStorage::new());
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("flow failed: {e}\n{:?}", h.lines()));
    assert_eq!(h.requests_to("/register").len(), 2, "{:?}", h.lines());
    assert_eq!(h.requests_to("/authorize").len(), 2, "{:?}", h.lines());
    assert_eq!(h.requests_to("/token").len(), 2, "{:?}", h.lines());
    let details = trace_details(&h);
    assert!(
        details
            .iter()
            .any(|d| d.contains("invalid_client at the token endpoint")),
        "{details:?}"
    );
}
