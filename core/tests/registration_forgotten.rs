//! A registration the authorization server has forgotten (issue 13 item 4): the stored
//! registration's refresh is refused with `invalid_client`; the client forgets that
//! registration, registers again once, and completes the flow. Counted from the server's side.
//! The real-server cell is `forgotten-registration` in interop/run.py (oidc-provider restarts).

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::trace::TraceEvent;
use mcp_auth_demo_server::DemoConfig;

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
