//! A resource server that demands a DPoP nonce (RFC 9449 §9): the demo server with
//! `dpop_nonce` answers a proof without its current nonce with 401 `DPoP
//! error="use_dpop_nonce"` and the nonce in `DPoP-Nonce`, and changes the nonce every
//! `DPOP_NONCE_USES` accepted requests. Counted from the server's side: every call is served,
//! each nonce is demanded once, no proof is refused otherwise, and nobody authorizes again.

mod common;

use common::*;
use mcp_auth::secret::AccessToken;
use mcp_auth::{Client, PreRegisteredClient};
use mcp_auth_demo_server::{AuthMethod, DPOP_NONCE_USES, DemoConfig, PreregisteredClient};
use serde_json::json;

const CLIENT_ID: &str = "dpop-nonce-app";

fn nonce_server() -> Harness {
    let h = Harness::start(DemoConfig {
        dpop: true,
        dpop_nonce: true,
        ..DemoConfig::default()
    });
    h.server
        .register_client(PreregisteredClient::new(CLIENT_ID, None, AuthMethod::None));
    h
}

fn client(h: &Harness) -> Client {
    h.builder()
        .pre_registered(PreRegisteredClient::public(CLIENT_ID))
        .build()
        .unwrap()
}

/// The nonce demands `accepted` requests meet: the first request with a token meets one, and
/// the nonce changes after every `DPOP_NONCE_USES` accepted requests.
fn demands_for(accepted: usize) -> usize {
    accepted.div_ceil(DPOP_NONCE_USES)
}

#[test]
fn send_retries_with_the_resource_servers_nonce_and_follows_its_rotation() {
    let h = nonce_server();
    let c = client(&h);
    let calls = 2 * DPOP_NONCE_USES + 1;
    for i in 0..calls {
        let r = rpc(&c, i as u64, "tools/list", json!({})).expect("served");
        assert!(r["result"]["tools"].is_array(), "{r}");
    }
    let d = h.server.dpop_counters();
    assert_eq!(d.nonce_demands, demands_for(calls), "{d:?}");
    assert_eq!(d.invalid_proofs, 0, "{d:?}");
    assert_eq!(d.bound_tokens_issued, 1, "{d:?}");
    assert_eq!(
        h.server.grant_count("authorization_code"),
        1,
        "no new login"
    );
    // Every /mcp request: the first without a token, then per call one accepted request plus
    // one per nonce demand.
    assert_eq!(h.requests_to("/mcp").len(), 1 + calls + demands_for(calls));
}

/// A host that sends its own requests (an httpx hook, a proxy): `current_token`,
/// `authorization_headers`, and on a refusal `accept_dpop_nonce` before `authorize_after`.
#[test]
fn a_host_with_its_own_http_stack_follows_the_nonce_without_authorizing_again() {
    let h = nonce_server();
    let c = client(&h);
    let url = h.server.mcp_url();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |token: Option<&AccessToken>, id: usize| {
        let mut req = agent
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(t) = token {
            for (name, value) in c.authorization_headers("POST", &url, t).unwrap() {
                req = req.header(name, value);
            }
        }
        req.send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}).to_string())
            .unwrap()
    };
    let header_values = |r: &ureq::http::Response<ureq::Body>, name: &str| -> Vec<String> {
        r.headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let calls = 2 * DPOP_NONCE_USES + 1;
    let (mut nonce_retries, mut authorizations) = (0, 0);
    for id in 0..calls {
        let mut token = c.current_token().unwrap();
        let mut r = post(token.as_ref(), id);
        for _ in 0..4 {
            if r.status() != 401 {
                break;
            }
            let www = header_values(&r, "www-authenticate");
            let nonce = header_values(&r, "dpop-nonce").pop();
            if c.accept_dpop_nonce(401, &www, nonce.as_deref()) {
                nonce_retries += 1;
                // The same nonce again is not new: it would not help a second time.
                assert!(!c.accept_dpop_nonce(401, &www, nonce.as_deref()));
            } else {
                token = c.authorize_after(401, &www, token.as_ref()).unwrap();
                authorizations += 1;
            }
            r = post(token.as_ref(), id);
        }
        assert_eq!(r.status(), 200, "call {id}");
    }
    assert_eq!(authorizations, 1, "only the first request had no token");
    assert_eq!(nonce_retries, demands_for(calls));
    let d = h.server.dpop_counters();
    assert_eq!(d.nonce_demands, demands_for(calls), "{d:?}");
    assert_eq!(d.invalid_proofs, 0, "{d:?}");
    assert_eq!(h.server.grant_count("authorization_code"), 1);
}

#[test]
fn only_a_dpop_nonce_demand_for_a_dpop_bound_token_is_accepted() {
    let demand = vec![r#"DPoP error="use_dpop_nonce", algs="ES256""#.to_owned()];
    // A Bearer token: nothing to put a nonce in.
    let h = Harness::start(DemoConfig::default());
    let bearer = h.client();
    initialize(&bearer).unwrap();
    assert!(!bearer.accept_dpop_nonce(401, &demand, Some("n-1")));

    let h = nonce_server();
    let c = client(&h);
    initialize(&c).unwrap();
    let other = vec![r#"DPoP error="invalid_token""#.to_owned()];
    let bearer_scheme = vec![r#"Bearer error="use_dpop_nonce""#.to_owned()];
    assert!(
        !c.accept_dpop_nonce(401, &demand, None),
        "no DPoP-Nonce header"
    );
    assert!(
        !c.accept_dpop_nonce(401, &other, Some("n-1")),
        "another error"
    );
    assert!(
        !c.accept_dpop_nonce(401, &bearer_scheme, Some("n-1")),
        "not the DPoP challenge"
    );
    assert!(!c.accept_dpop_nonce(403, &demand, Some("n-1")), "not a 401");
    assert!(
        !c.accept_dpop_nonce(401, &demand, Some("")),
        "an empty nonce"
    );
    assert!(
        !c.accept_dpop_nonce(401, &demand, Some("a\"b")),
        "not NQCHAR"
    );
    assert!(c.accept_dpop_nonce(401, &demand, Some("n-1")));
    assert!(
        !c.accept_dpop_nonce(401, &demand, Some("n-1")),
        "already in use"
    );
    assert!(
        c.accept_dpop_nonce(401, &demand, Some("n-2")),
        "a rotated nonce"
    );
    // The proofs now carry it.
    let token = c.current_token().unwrap().unwrap();
    let headers = c
        .authorization_headers("POST", &h.server.mcp_url(), &token)
        .unwrap();
    let proof = &headers.iter().find(|(n, _)| n == "dpop").unwrap().1;
    let payload = proof.split('.').nth(1).unwrap();
    let claims = String::from_utf8(base64_url_decode(payload)).unwrap();
    assert!(claims.contains(r#""nonce":"n-2""#), "{claims}");
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}
