//! Size and time limits, redirects, discovery and metadata checks.

use super::*;

// Size and time limits
// ---------------------------------------------------------------------------------------------

#[test]
fn oversized_token_response_with_content_length_is_too_large() {
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::Oversized {
            status: 200,
            bytes: 2 << 20,
            chunked: false,
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::ResponseTooLarge);
}

#[test]
fn oversized_chunked_metadata_is_too_large() {
    let s = Seeded::start(with_fault(
        ASM_PATH,
        FaultAction::Oversized {
            status: 200,
            bytes: 2 << 20,
            chunked: true,
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::ResponseTooLarge);
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn the_body_cap_is_configurable() {
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::Oversized {
            status: 200,
            bytes: 8 << 10,
            chunked: true,
        },
    ));
    let c = s
        .builder()
        .config(|c| c.http.max_body_bytes = 4096)
        .build()
        .unwrap();
    let e = s.fail_with(&c);
    s.assert_common(&e, ErrorKind::ResponseTooLarge);
}

pub(super) fn assert_quick(started: Instant, limit: Duration) {
    let took = started.elapsed();
    assert!(took < limit, "took {took:?}");
}

#[test]
fn a_token_endpoint_that_never_answers_times_out() {
    let s = Seeded::start(with_fault("/token", FaultAction::Hang));
    let c = s
        .builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = s.fail_with(&c);
    assert_quick(started, Duration::from_secs(8));
    s.assert_common(&e, ErrorKind::Timeout);
}

#[test]
fn a_dripping_metadata_server_times_out() {
    let s = Seeded::start(with_fault(
        ASM_PATH,
        FaultAction::Drip {
            status: 200,
            content_type: "application/json".into(),
            body: vec![b' '; 400],
            interval: Duration::from_millis(20),
        },
    ));
    let c = s
        .builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = s.fail_with(&c);
    assert_quick(started, Duration::from_secs(8));
    s.assert_common(&e, ErrorKind::Timeout);
}

/// MCP traffic is not OAuth traffic: the whole-request timeout does not apply to an MCP
/// response that keeps arriving (a long tool result, an event stream), only the idle timeout
/// between reads does.
#[test]
fn a_slow_mcp_response_is_read_past_the_oauth_timeout() {
    let s = Seeded::start(with_fault(
        "/mcp",
        FaultAction::Drip {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.repeat(3),
            interval: Duration::from_millis(20),
        },
    ));
    // 108 bytes, one per 20 ms: about 2 s, past the 500 ms OAuth timeout.
    let c = s
        .builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let response = c
        .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 108);
}

#[test]
fn an_mcp_endpoint_that_stops_answering_times_out_after_the_idle_timeout() {
    let s = Seeded::start(with_fault("/mcp", FaultAction::Hang));
    let c = s
        .builder()
        .http_config(mcp_auth::http::HttpConfig {
            stream_idle_timeout: Some(Duration::from_millis(800)),
            ..mcp_auth::http::HttpConfig::default()
        })
        .build()
        .unwrap();
    let started = Instant::now();
    let e = s.fail_with(&c);
    assert_quick(started, Duration::from_secs(60));
    s.assert_common(&e, ErrorKind::Timeout);
}

#[test]
fn a_token_endpoint_that_closes_the_connection_is_a_transport_error() {
    let s = Seeded::start(with_fault("/token", FaultAction::Close));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Transport);
}

// ---------------------------------------------------------------------------------------------
// Redirects (RFC 9700 §4.11: never follow a redirect with credentials)
// ---------------------------------------------------------------------------------------------

/// A listener that counts connections: where a redirect points.
struct Elsewhere {
    listener: TcpListener,
}

impl Elsewhere {
    fn new() -> Elsewhere {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Elsewhere { listener }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.listener.local_addr().unwrap())
    }
    fn connections(&self) -> usize {
        let mut n = 0;
        while self.listener.accept().is_ok() {
            n += 1;
        }
        n
    }
}

#[test]
fn a_token_endpoint_redirect_is_not_followed() {
    let elsewhere = Elsewhere::new();
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::Redirect {
            status: 307,
            location: elsewhere.url("/steal?code=abc"),
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    assert_eq!(e.http_status(), Some(307));
    assert!(e.to_string().contains("not followed"), "{e}");
    assert!(!e.to_string().contains("code=abc"), "{e}");
    assert_eq!(elsewhere.connections(), 0, "the redirect was followed");
}

#[test]
fn a_registration_endpoint_redirect_is_not_followed() {
    let elsewhere = Elsewhere::new();
    let s = Seeded::start_registering(with_fault(
        "/register",
        FaultAction::Redirect {
            status: 308,
            location: elsewhere.url("/register"),
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
    assert_eq!(elsewhere.connections(), 0, "the redirect was followed");
    assert_eq!(s.requests_to("/authorize"), 0);
}

// ---------------------------------------------------------------------------------------------
// Discovery and metadata checks (RFC 9728 §3.3, RFC 8414 §3.3, OAuth 2.1 §1.5, MCP PKCE)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_prm_naming_an_insecure_authorization_server_is_refused() {
    let s = Seeded::start(DemoConfig {
        prm_authorization_servers: Some(s(&["http://as.example.com"])),
        ..DemoConfig::default()
    });
    let e = s.fail();
    s.assert_common(&e, ErrorKind::InsecureUrl);
    assert!(
        s.h.lines()
            .iter()
            .all(|l| !l.contains("/register") && !l.contains("/token"))
    );
}

#[test]
fn metadata_naming_an_insecure_token_endpoint_is_refused() {
    let mut config = DemoConfig::default();
    config.faults.as_metadata_patch =
        Some(json!({"token_endpoint": "http://as.example.com/token"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::InsecureUrl);
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn a_challenge_pointing_at_insecure_metadata_is_not_fetched() {
    // The challenge's resource_metadata names a non-HTTPS foreign host: skipped, the
    // well-known URLs are used instead and the flow succeeds.
    let s = Seeded::start(DemoConfig {
        resource_metadata_override: Some("http://attacker.example/prm".into()),
        ..DemoConfig::default()
    });
    initialize(&s.client()).unwrap();
    assert!(s.h.lines().contains(&format!("GET {PRM_PATH}")));
}

#[test]
fn a_prm_for_another_resource_is_refused() {
    let mut config = DemoConfig::default();
    config.faults.prm_patch = Some(json!({"resource": "https://evil.example.com/mcp"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::Resource));
    assert_eq!(s.requests_to(ASM_PATH), 0, "nothing after the PRM");
}

#[test]
fn metadata_with_another_issuer_is_refused() {
    let mut config = DemoConfig::default();
    config.faults.as_metadata_patch = Some(json!({"issuer": "https://attacker.example"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::MetadataIssuer));
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn an_authorization_server_without_s256_is_refused() {
    for methods in [None, Some(s(&["plain"])), Some(vec![])] {
        let s = Seeded::start(DemoConfig {
            code_challenge_methods_supported: methods.clone(),
            ..DemoConfig::default()
        });
        let e = s.fail();
        s.assert_common(&e, ErrorKind::Unsupported);
        assert_eq!(s.requests_to("/authorize"), 0, "{methods:?}");
    }
}

#[test]
fn invalid_json_metadata_ends_discovery() {
    let s = Seeded::start(with_fault(ASM_PATH, FaultAction::invalid_json()));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Discovery);
}

#[test]
fn an_html_page_instead_of_metadata_ends_discovery() {
    let s = Seeded::start(with_fault(ASM_PATH, FaultAction::html_error(200)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Discovery);
}

#[test]
fn a_prm_500_html_page_ends_discovery_with_the_status() {
    let s = Seeded::start(with_fault(PRM_PATH, FaultAction::html_error(500)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Discovery);
    assert_eq!(e.http_status(), Some(500));
}

// ---------------------------------------------------------------------------------------------
