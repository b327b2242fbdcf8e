//! The authorization response, the token endpoint, registration, header values, refresh and retries.

use super::limits::assert_quick;
use super::*;

// The authorization response (RFC 6749 §4.1.2, §10.12; RFC 9207; RFC 9700 §4.4, §4.7)
// ---------------------------------------------------------------------------------------------

fn redirect_to(s: &Seeded, query: &str) -> RouteFault {
    let c = s.client();
    RouteFault::new(
        "/authorize",
        FaultAction::redirect(&format!("{}?{query}", c.redirect_uri())),
    )
}

fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[test]
fn a_forged_state_is_refused_before_the_token_request() {
    let s = Seeded::start(DemoConfig::default());
    let iss = enc(&s.h.server.issuer());
    s.h.server.add_fault(redirect_to(
        &s,
        &format!("code=forged-code-1234&state=forged-state-1234&iss={iss}"),
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::State));
    assert!(!e.to_string().contains("forged-state"), "{e}");
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn a_missing_state_is_refused() {
    let s = Seeded::start(DemoConfig::default());
    let iss = enc(&s.h.server.issuer());
    s.h.server
        .add_fault(redirect_to(&s, &format!("code=forged-code-1234&iss={iss}")));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::State));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn a_location_with_two_codes_is_refused() {
    let s = Seeded::start(DemoConfig::default());
    s.h.server.add_fault(redirect_to(
        &s,
        "code=first-code-1234&code=second-code-1234&state=x",
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Authorization);
    assert!(!e.to_string().contains("-code-1234"), "{e}");
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn an_iss_mismatch_is_refused_before_the_token_request() {
    let s = Seeded::start(DemoConfig {
        iss_override: Some("https://attacker.example".into()),
        ..DemoConfig::default()
    });
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::ResponseIss));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn a_missing_iss_that_the_server_advertises_is_refused() {
    let s = Seeded::start(DemoConfig {
        iss_in_authorization_response: false,
        ..DemoConfig::default()
    });
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::MissingIss));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn an_unexpected_iss_without_metadata_is_refused() {
    // 2025-03-26 fallback: no PRM, no AS metadata, so no issuer the `iss` could match.
    let mut config = DemoConfig::topology("2025-03-26-oauth-endpoint-fallback").unwrap();
    config.iss_in_authorization_response = true;
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::ResponseIss));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn an_authorization_endpoint_500_is_an_authorization_error() {
    let s = Seeded::start(with_fault("/authorize", FaultAction::html_error(500)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Authorization);
    assert_eq!(s.code_exchanges(), 0);
}

// ---------------------------------------------------------------------------------------------
// The token endpoint (RFC 6749 §5)
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_json_from_the_token_endpoint_is_a_token_error() {
    let s = Seeded::start(with_fault("/token", FaultAction::invalid_json()));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
}

#[test]
fn an_html_error_page_from_the_token_endpoint_is_a_token_error() {
    let s = Seeded::start(with_fault("/token", FaultAction::html_error(400)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    assert_eq!(e.http_status(), Some(400));
}

#[test]
fn a_token_endpoint_500_is_a_token_error_with_the_oauth_error() {
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::json(
            500,
            &json!({"error": "server_error", "error_description": "down"}),
        ),
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    assert_eq!(e.http_status(), Some(500));
    assert_eq!(e.oauth_error().unwrap().error, "server_error");
}

#[test]
fn an_unknown_token_type_is_a_token_error() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch =
        Some(json!({"token_type": "mac", "access_token": "patched-access-token-mac"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    s.assert_no_secret(&e, &["patched-access-token-mac"]);
    // Nothing was sent with the unusable token.
    assert!(s.h.requests_to("/mcp").iter().all(|r| {
        r.header("authorization")
            .is_none_or(|a| !a.contains("patched"))
    }));
}

#[test]
fn a_token_response_without_access_token_is_a_token_error() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch = Some(json!({"access_token": null}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
}

/// A token endpoint whose HTML error page echoes the request body (as misconfigured proxies
/// and debug pages do): the authorization code and the PKCE verifier must not be quoted back
/// into the error message or the trace.
#[test]
fn a_token_endpoint_echoing_the_request_leaks_nothing() {
    let s = Seeded::start(DemoConfig::default());
    let inner = Arc::new(mcp_auth::http::UreqHttpClient::default());
    let echo = move |req: http::Request<Vec<u8>>| {
        if req.uri().path() == "/token" {
            let mut body = b"<html><body>Bad request: ".to_vec();
            body.extend_from_slice(req.body());
            return Ok(http::Response::builder()
                .status(400)
                .header("content-type", "text/html")
                .body(body)
                .unwrap());
        }
        mcp_auth::http::HttpClient::execute(&*inner, req)
    };
    let c = s.builder().http_client(Arc::new(echo)).build().unwrap();
    let e = s.fail_with(&c);
    assert_eq!(e.kind(), ErrorKind::Token);
    // The code came back in the redirect; the verifier is only known to the client, so look
    // for the form field names the echo would carry.
    let text = format!("{e} {e:?}");
    assert!(!text.contains("code_verifier="), "{text}");
    assert!(!text.contains("code="), "{text}");
    s.assert_storage_untouched();
}

// ---------------------------------------------------------------------------------------------
// Registration (RFC 7591)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_registration_response_without_client_id_is_a_registration_error() {
    let mut config = DemoConfig::default();
    config.faults.registration_response_patch = Some(json!({"client_id": null}));
    let s = Seeded::start_registering(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn invalid_json_from_the_registration_endpoint_is_a_registration_error() {
    let s = Seeded::start_registering(with_fault("/register", FaultAction::invalid_json()));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
}

#[test]
fn a_registration_endpoint_500_is_a_registration_error() {
    let s = Seeded::start_registering(with_fault("/register", FaultAction::html_error(500)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
    assert_eq!(e.http_status(), Some(500));
}

// ---------------------------------------------------------------------------------------------
// CR/LF and obs-text (RFC 9110 §5.5): values from JSON that end up in headers
// ---------------------------------------------------------------------------------------------

const INJECTED: &str = "good\r\nX-Injected: yes";

fn no_injected_header(s: &Seeded) {
    for r in s.h.server.requests() {
        assert!(
            r.header("x-injected").is_none(),
            "split header reached the server: {r:?}"
        );
        for (_, v) in &r.headers {
            assert!(!v.contains('\r') && !v.contains('\n'), "{r:?}");
        }
    }
}

/// An access token with CR/LF never reaches a header: the request is not sent.
#[test]
fn an_access_token_with_crlf_is_never_put_in_a_header() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch = Some(json!({"access_token": INJECTED}));
    let s = Seeded::start(config);
    let e = s.fail();
    assert!(
        matches!(e.kind(), ErrorKind::Token | ErrorKind::InvalidResponse),
        "{e}"
    );
    s.assert_no_secret(&e, &[]);
    no_injected_header(&s);
    assert_eq!(
        s.requests_to("/mcp"),
        1,
        "only the first (seeded-token) request was sent"
    );
}

/// RFC 6749 Appendix A.12: an access token is `1*VSCHAR`. One with CR/LF can never be sent, so
/// the token response must be refused (a `Token` error) before it replaces the stored tokens:
/// today it is stored, and every later request (and every restart) fails with
/// `InvalidResponse` until the user logs out.
#[test]
fn an_access_token_with_crlf_is_refused_and_not_stored() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch = Some(json!({"access_token": INJECTED}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
}

/// RFC 6749 Appendix A.1: a client_id is `*VSCHAR`; one with CR/LF must not be stored.
#[test]
fn a_client_id_with_crlf_is_refused_and_not_stored() {
    let mut config = DemoConfig::default();
    config.faults.registration_response_patch = Some(json!({"client_id": INJECTED}));
    let s = Seeded::start_registering(config);
    let e = s.fail();
    no_injected_header(&s);
    s.assert_common(&e, ErrorKind::Registration);
}

/// Whatever happens with such a client_id today, no split header is ever sent.
#[test]
fn a_client_id_with_crlf_never_splits_a_header() {
    let mut config = DemoConfig::default();
    config.faults.registration_response_patch = Some(json!({"client_id": INJECTED}));
    let s = Seeded::start_registering(config);
    let e = s.fail();
    s.assert_no_secret(&e, &[]);
    no_injected_header(&s);
    s.assert_seeded_entries_kept();
}

#[test]
fn a_challenge_with_obs_text_is_read() {
    let s = Seeded::start(DemoConfig::default());
    let prm = s.h.server.prm_url().unwrap();
    s.h.server.add_fault(
        RouteFault::new(
            "/mcp",
            FaultAction::Respond {
                status: 401,
                headers: vec![(
                    "www-authenticate".into(),
                    format!("Bearer error=\"invalid_token\", error_description=\"caf\u{e9} \u{ff}\", resource_metadata=\"{prm}\""),
                )],
                body: Vec::new(),
            },
        )
        .times(1),
    );
    let c = s.client();
    let r = c
        .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
        .unwrap();
    assert_eq!(r.status, 200);
    let ch = r.challenge.unwrap();
    assert_eq!(ch.resource_metadata(), Some(prm.as_str()));
    assert_eq!(
        ch.bearer.unwrap().error_description.as_deref(),
        Some("caf\u{e9} \u{ff}")
    );
}

// ---------------------------------------------------------------------------------------------
// Refresh and retries
// ---------------------------------------------------------------------------------------------

/// A stored refresh token that another process already rotated (RFC 9700 §4.14.2): the
/// refresh is refused with invalid_grant, the client falls back to a new authorization, and
/// when that is denied the error is `Authorization` and the stored credentials are intact.
#[test]
fn an_already_rotated_refresh_token_falls_back_and_keeps_storage() {
    let s = Seeded::start(DemoConfig::default());
    let (access, refresh) =
        s.h.server
            .issue_token_pair("seeded-client", "mcp:read mcp:write");
    // Rotate it once, as another process would.
    let auth = mcp_auth::token::ClientAuth::from_client_info(&s.client).unwrap();
    let mut req = mcp_auth::token::TokenRequest::refresh(
        &s.h.server.token_endpoint(),
        &refresh.clone().into(),
        None,
    );
    auth.apply(&mut req, &s.h.server.issuer()).unwrap();
    let http = mcp_auth::http::UreqHttpClient::default();
    let rotated = mcp_auth::http::HttpClient::execute(&http, req.to_http().unwrap()).unwrap();
    assert_eq!(rotated.status(), 200);
    // Store the stale pair, already expired by the clock (as after a restart).
    let mut stale = OAuthToken::new(access.clone());
    stale.refresh_token = Some(refresh.clone().into());
    stale.expires_in = Some(3600);
    stale.expires_at = Some(mcp_auth::token::now_unix() - 10);
    s.storage.set_tokens(&s.resource, &stale).unwrap();
    let before = std::fs::read(&s.path).unwrap();
    s.h.server
        .update(|c| c.faults.authorize_error = Some("access_denied".into()));
    s.h.server.clear_requests();

    let e = s.fail();
    assert_eq!(e.kind(), ErrorKind::Authorization, "{e}");
    assert_eq!(e.oauth_error().unwrap().error, "access_denied");
    s.assert_no_secret(&e, &[&access, &refresh]);
    let refreshes = s.h.requests_to("/token");
    assert_eq!(refreshes.len(), 1, "one refresh attempt: {:?}", s.h.lines());
    assert_eq!(
        refreshes[0].form_value("refresh_token").as_deref(),
        Some(refresh.as_str())
    );
    assert_eq!(
        std::fs::read(&s.path).unwrap(),
        before,
        "stored credentials untouched"
    );
}

/// A server that answers 401 to every token: a bounded number of token acquisitions, then
/// `Unauthorized` with the last challenge; the stored registration is reused, never lost.
#[test]
fn a_server_answering_401_forever_gets_a_bounded_number_of_attempts() {
    let s = Seeded::start(DemoConfig::default());
    s.h.server
        .update(|c| c.faults.mcp_always_unauthorized = true);
    let started = Instant::now();
    let e = s.fail();
    assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
    assert_eq!(e.http_status(), Some(401));
    assert!(!e.www_authenticate().is_empty());
    s.assert_no_secret(&e, &[]);
    let max = mcp_auth::Client::builder("https://x.example/mcp")
        .headless()
        .build()
        .unwrap()
        .config()
        .max_authorizations as usize;
    assert!(s.requests_to("/authorize") <= max, "{:?}", s.h.lines());
    // Each acquisition is at most a refresh attempt plus a code exchange.
    assert!(s.requests_to("/token") <= 2 * max, "{:?}", s.h.lines());
    assert!(s.requests_to("/mcp") <= 2 * max + 2, "{:?}", s.h.lines());
    assert_eq!(
        s.requests_to("/register"),
        0,
        "the stored registration is reused"
    );
    assert_quick(started, Duration::from_secs(10));
    // The tokens obtained were stored (they are valid for the AS); the registration is intact.
    s.assert_seeded_entries_kept();
}

#[test]
fn a_server_answering_insufficient_scope_forever_is_bounded() {
    let s = Seeded::start(DemoConfig::topology("scope-retry-limit").unwrap());
    let c = s.client();
    let e = match call_tool(&c, "echo") {
        Ok(v) => panic!("succeeded: {v}"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
    assert_eq!(e.http_status(), Some(403));
    assert!(s.requests_to("/authorize") <= 3, "{:?}", s.h.lines());
    s.assert_no_secret(&e, &[]);
}

#[test]
fn an_mcp_500_is_returned_without_any_authorization() {
    let s = Seeded::start(with_fault("/mcp", FaultAction::html_error(500)));
    let r = s
        .client()
        .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(r.authorizations, 0);
    assert_eq!(s.h.lines(), common::s(&["POST /mcp"]));
    s.assert_storage_untouched();
}

// ---------------------------------------------------------------------------------------------
// A raw server for what the demo server cannot send
// ---------------------------------------------------------------------------------------------

/// A loopback server that answers every request with the same raw bytes, for `count`
/// connections, then stops.
fn raw_server(response: Vec<u8>, count: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        for _ in 0..count {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 8192];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(&response);
        }
    });
    (url, t)
}

/// A 401 whose challenge carries raw non-UTF-8 bytes (obs-text) and a bare CR inside a quoted
/// string: parsed leniently, never a panic, and discovery still proceeds from the well-known
/// URLs (which this server does not serve: `Discovery` or `Transport`, never a crash).
#[test]
fn a_challenge_with_raw_control_and_high_bytes_is_handled() {
    let mut response = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer error=\"invalid_token\", error_description=\"\xff\xfe\x80 bad\", scope=\"a\x01b\"\r\nConnection: close\r\n\r\n".to_vec();
    response.extend_from_slice(b"");
    let (url, t) = raw_server(response, 8);
    let c = Client::builder(&url)
        .headless()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let probe = c.probe();
    if let Ok(p) = &probe {
        assert_eq!(p.status, 401);
    }
    let e = initialize(&c).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Discovery | ErrorKind::Transport | ErrorKind::InvalidResponse
        ),
        "{e}"
    );
    drop(t);
}
