//! Hostile and changing servers around the credentials themselves:
//!
//! - the protected resource starts naming another authorization server: the old refresh token
//!   and the client secret must never reach it (counted from the servers' side);
//! - an identity provider that echoes the request into its error (SEP-990): neither the ID
//!   token nor the IdP client secret may appear in the error or the trace;
//! - tokens that expire without a refresh token (client credentials, an authorization server
//!   that issues none) are replaced, once per expiry, with no failed call;
//! - a transport error keeps its cause.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use mcp_auth::metadata::OAuthToken;
use mcp_auth::secret::{Assertion, ClientSecret};
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::token::TokenEndpointAuthMethod;
use mcp_auth::trace::{Outcome, Step, TraceEvent};
use mcp_auth::{Check, EnterpriseIdentity, ErrorKind, Grant, PreRegisteredClient};
use mcp_auth_demo_server::{AuthMethod, DemoConfig, DemoServer, PreregisteredClient};
use serde_json::json;

const SECRET: &str = "app-secret-6f1d2c";

fn trace_text(h: &Harness) -> String {
    h.trace
        .lock()
        .unwrap()
        .iter()
        .map(TraceEvent::to_json)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything a server received: bodies and header values.
fn everything_received(server: &DemoServer) -> String {
    server
        .requests()
        .iter()
        .map(|r| {
            let headers: Vec<String> = r.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
            format!(
                "{} {}?{}\n{}\n{}",
                r.method,
                r.path,
                r.query.clone().unwrap_or_default(),
                headers.join("\n"),
                String::from_utf8_lossy(&r.body)
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn basic(id: &str, secret: &str) -> String {
    mcp_auth::token::client_secret_basic_header(id, secret)
}

/// The authorization server named by the PRM changes between two requests of a client whose
/// token (issued by the first server) has expired. `strip_binding` stores the token as older
/// versions did, without the issuer and client it belongs to.
fn issuer_switch(strip_binding: bool) {
    let h = Harness::start(DemoConfig::default());
    let as2 = DemoServer::start(DemoConfig::default()).unwrap();
    for s in [&h.server, &as2] {
        s.register_client(PreregisteredClient::new(
            "app",
            Some(SECRET),
            AuthMethod::ClientSecretBasic,
        ));
    }
    let storage = Arc::new(MemoryStorage::new());
    let mut pre =
        PreRegisteredClient::with_secret("app", SECRET, TokenEndpointAuthMethod::ClientSecretBasic);
    pre.issuer = Some(h.server.issuer());
    let first = h
        .builder()
        .storage(storage.clone())
        .pre_registered(pre.clone())
        .build()
        .unwrap();
    initialize(&first).unwrap();
    assert_eq!(h.server.grant_count("authorization_code"), 1);
    let mut token = storage.get_tokens(first.resource_key()).unwrap().unwrap();
    let refresh_token = token.refresh_token.as_ref().unwrap().secret().to_owned();
    if strip_binding {
        token.issuer = None;
        token.client_id = None;
    } else {
        assert_eq!(token.issuer.as_deref(), Some(h.server.issuer().as_str()));
        assert_eq!(token.client_id.as_deref(), Some("app"));
    }
    // The token expires (by the client's clock) and the resource moves to another server.
    token.expires_at = Some(mcp_auth::token::now_unix() - 10);
    storage.set_tokens(first.resource_key(), &token).unwrap();
    h.server
        .update(|c| c.prm_authorization_servers = Some(vec![as2.issuer()]));
    h.server.clear_requests();

    // A restarted client: its credentials are bound to the first server, so the second one
    // gets nothing, and the new authorization stops at the issuer check.
    let second = h
        .builder()
        .storage(storage.clone())
        .pre_registered(pre)
        .build()
        .unwrap();
    let err = initialize(&second).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecurityCheck, "{err}");
    assert_eq!(err.check(), Some(Check::CredentialIssuer), "{err}");

    let at_as2 = everything_received(&as2);
    assert!(
        !at_as2.contains(&refresh_token),
        "the old refresh token reached the new server:\n{at_as2}"
    );
    assert!(
        !at_as2.contains(SECRET),
        "the secret reached the new server"
    );
    assert!(
        !at_as2.contains(basic("app", SECRET).trim_start_matches("Basic ")),
        "the Basic credentials reached the new server"
    );
    assert_eq!(as2.count("/token"), 0, "{:?}", as2.request_lines());
    assert_eq!(h.server.grant_count("refresh_token"), 0);
    // The trace says why no refresh was sent.
    let trace = h.trace.lock().unwrap().clone();
    let skipped = trace
        .iter()
        .find(|e| e.step == Step::Refresh)
        .expect("a refresh event");
    assert_eq!(skipped.outcome, Outcome::Fallback, "{skipped:?}");
    assert!(skipped.method.is_none(), "nothing was sent: {skipped:?}");
    assert!(skipped.detail.contains(&as2.issuer()), "{}", skipped.detail);
}

#[test]
fn a_refresh_never_goes_to_an_authorization_server_that_did_not_issue_the_token() {
    issuer_switch(false);
}

#[test]
fn a_token_stored_without_its_issuer_is_not_refreshed_at_another_server() {
    issuer_switch(true);
}

/// With a registration per issuer (RFC 7591), the client authorizes anew at the new server
/// and the new server sees neither the old refresh token nor the old client's secret.
#[test]
fn after_an_issuer_switch_the_client_registers_and_authorizes_anew() {
    let h = Harness::start(DemoConfig::default());
    let as2 = DemoServer::start(DemoConfig::default()).unwrap();
    let storage = Arc::new(MemoryStorage::new());
    let first = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&first).unwrap();
    let mut token = storage.get_tokens(first.resource_key()).unwrap().unwrap();
    let refresh_token = token.refresh_token.as_ref().unwrap().secret().to_owned();
    let old_client = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    let old_secret = old_client
        .client_secret
        .as_ref()
        .unwrap()
        .secret()
        .to_owned();
    token.expires_at = Some(mcp_auth::token::now_unix() - 10);
    storage.set_tokens(first.resource_key(), &token).unwrap();
    h.server
        .update(|c| c.prm_authorization_servers = Some(vec![as2.issuer()]));

    let second = h.builder().storage(storage.clone()).build().unwrap();
    // The resource server only accepts its own server's tokens: the flow ends unauthorized,
    // after a new registration and authorization at the new server.
    let _ = initialize(&second);
    assert_eq!(as2.count("/register"), 1, "{:?}", as2.request_lines());
    assert!(as2.grant_count("authorization_code") >= 1);
    // (Refreshes at the new server use the refresh tokens it issued itself.)
    let at_as2 = everything_received(&as2);
    assert!(!at_as2.contains(&refresh_token));
    assert!(!at_as2.contains(&old_secret));
    assert!(!at_as2.contains(&old_client.client_id));
}

#[test]
fn a_stored_token_record_without_issuer_and_client_still_loads() {
    let t = OAuthToken::from_json(
        br#"{"access_token":"a","token_type":"Bearer","refresh_token":"r","expires_at":5}"#,
    )
    .unwrap();
    assert_eq!(t.issuer, None);
    assert_eq!(t.client_id, None);
    let mut bound = t.clone();
    bound.issuer = Some("https://as.example.com".into());
    bound.client_id = Some("app".into());
    let back = OAuthToken::from_json(bound.to_json().as_bytes()).unwrap();
    assert_eq!(back, bound);
}

// ---------------------------------------------------------------------------------------------
// SEP-990: an identity provider that echoes the request
// ---------------------------------------------------------------------------------------------

/// A token endpoint that answers every request with a 400 whose `error_description` echoes
/// the request body, raw and form-decoded. Returns its URL and the bodies it received.
fn echoing_idp() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let raw = String::from_utf8_lossy(&body).into_owned();
            let decoded: Vec<String> = form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            log.lock().unwrap().push(format!("{head}{raw}"));
            let answer = json!({
                "error": "invalid_request",
                "error_description": format!("cannot process {raw} ({})", decoded.join(", ")),
                "error_uri": format!("https://idp.example.com/help?{raw}"),
            })
            .to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, seen)
}

#[test]
fn an_idp_echoing_the_request_gets_no_secret_into_the_error_or_the_trace() {
    let h = Harness::start(DemoConfig::default());
    h.server.register_client(PreregisteredClient::new(
        "app",
        Some(SECRET),
        AuthMethod::ClientSecretBasic,
    ));
    let (idp_url, seen) = echoing_idp();
    let id_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXZhbHVl";
    let idp_secret = "idp secret/with+reserved=chars&9f3a";
    let c = h
        .builder()
        .grant(Grant::EnterpriseManaged)
        .pre_registered(PreRegisteredClient::with_secret(
            "app",
            SECRET,
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .config(|cfg| {
            cfg.enterprise = Some(EnterpriseIdentity {
                idp_token_endpoint: idp_url.clone(),
                idp_client_id: "idp-client".to_owned(),
                idp_client_secret: Some(ClientSecret::new(idp_secret.to_owned())),
                id_token: Assertion::new(id_token),
            })
        })
        .build()
        .unwrap();
    let err = initialize(&c).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Token, "{err}");
    // The IdP did receive both secrets (so an echo could carry them)...
    let received = seen.lock().unwrap().join("\n");
    let encoded = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    assert!(received.contains(&encoded(id_token)), "{received}");
    assert!(received.contains(&encoded(idp_secret)), "{received}");
    // ...and neither reaches the error nor the trace, raw or encoded.
    let shown = format!("{err}\n{err:?}\n{}", trace_text(&h));
    for secret in [id_token, idp_secret] {
        for needle in [secret.to_owned(), encoded(secret)] {
            assert!(!shown.contains(&needle), "{needle} leaked:\n{shown}");
        }
    }
    assert!(
        shown.contains("[redacted]"),
        "the echo is kept, redacted: {shown}"
    );
    let idp_event = h
        .trace
        .lock()
        .unwrap()
        .iter()
        .find(|e| e.step == Step::TokenExchangeAtIdp)
        .cloned()
        .expect("an IdP event");
    assert_eq!(idp_event.outcome, Outcome::Failed);
    assert_eq!(idp_event.status, Some(400));
    // Nothing went to the authorization server's token endpoint.
    assert_eq!(h.server.count("/token"), 0);
}

// ---------------------------------------------------------------------------------------------
// Expiry without a refresh token
// ---------------------------------------------------------------------------------------------

/// A clock the test moves forward; starts at the system clock.
fn test_clock() -> (Arc<AtomicU64>, impl Fn() -> u64 + Send + Sync + 'static) {
    let offset = Arc::new(AtomicU64::new(0));
    let o = offset.clone();
    (offset, move || {
        mcp_auth::token::now_unix() + o.load(Ordering::SeqCst)
    })
}

const TTL: u64 = 600;

/// Let the current tokens expire: on the client's clock and at the server.
fn expire(server: &DemoServer, offset: &AtomicU64) {
    offset.fetch_add(TTL + 1, Ordering::SeqCst);
    server.expire_all_tokens();
}

#[test]
fn client_credentials_get_one_new_token_per_expiry() {
    let h = Harness::start(DemoConfig {
        token_ttl_secs: TTL,
        ..DemoConfig::default()
    });
    h.server.register_client(PreregisteredClient::new(
        "svc",
        Some(SECRET),
        AuthMethod::ClientSecretBasic,
    ));
    let (offset, clock) = test_clock();
    let c = h
        .builder()
        .grant(Grant::ClientCredentials)
        .pre_registered(PreRegisteredClient::with_secret(
            "svc",
            SECRET,
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .clock(clock)
        .build()
        .unwrap();
    initialize(&c).unwrap();
    assert_eq!(h.server.grant_count("client_credentials"), 1);
    for round in 2..=3 {
        expire(&h.server, &offset);
        // Every call succeeds; each expiry costs exactly one new token.
        initialize(&c).unwrap();
        call_tool(&c, "echo").unwrap();
        assert_eq!(h.server.grant_count("client_credentials"), round);
        assert_eq!(h.server.grant_count("refresh_token"), 0);
    }
}

#[test]
fn an_authorization_without_refresh_token_is_renewed_after_expiry() {
    let h = Harness::start(DemoConfig {
        token_ttl_secs: TTL,
        issue_refresh_tokens: false,
        ..DemoConfig::default()
    });
    let (offset, clock) = test_clock();
    let c = h.builder().clock(clock).build().unwrap();
    initialize(&c).unwrap();
    assert_eq!(h.server.grant_count("authorization_code"), 1);
    for round in 2..=3 {
        expire(&h.server, &offset);
        initialize(&c).unwrap();
        call_tool(&c, "echo").unwrap();
        assert_eq!(h.server.grant_count("authorization_code"), round);
    }
    // One registration for all of them (SEP-2352 reuse).
    assert_eq!(h.server.count("/register"), 1);
}

/// A restarted `client_credentials` host whose stored token expired: it gets one new token.
#[test]
fn an_expired_stored_client_credentials_token_is_replaced() {
    let h = Harness::start(DemoConfig::default());
    h.server.register_client(PreregisteredClient::new(
        "svc",
        Some(SECRET),
        AuthMethod::ClientSecretBasic,
    ));
    let mut token = OAuthToken::new(h.server.issue_token("svc", "mcp:read"));
    token.expires_in = Some(TTL);
    token.expires_at = Some(mcp_auth::token::now_unix() - 10);
    let storage = Arc::new(MemoryStorage::new());
    let c = h
        .builder()
        .grant(Grant::ClientCredentials)
        .storage(storage.clone())
        .pre_registered(PreRegisteredClient::with_secret(
            "svc",
            SECRET,
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .build()
        .unwrap();
    storage.set_tokens(c.resource_key(), &token).unwrap();
    h.server.expire_all_tokens();
    initialize(&c).unwrap();
    call_tool(&c, "echo").unwrap();
    assert_eq!(h.server.grant_count("client_credentials"), 1);
}

// ---------------------------------------------------------------------------------------------
// Transport errors keep their cause
// ---------------------------------------------------------------------------------------------

#[test]
fn a_transport_error_keeps_its_source() {
    // A port nobody listens on: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = mcp_auth::Client::builder(&format!("http://127.0.0.1:{port}/mcp"))
        .headless()
        .build()
        .unwrap();
    let err = c.probe().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    let source = std::error::Error::source(&err).expect("the underlying error");
    assert!(!source.to_string().is_empty());
}
