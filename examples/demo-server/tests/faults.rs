//! Injected faults, at config time and at runtime.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::*;
use mcp_auth_demo_server::{DemoConfig, DemoServer, FaultAction, RouteFault};
use serde_json::json;

#[test]
fn status_fault_with_times_then_normal() {
    let mut cfg = DemoConfig::default();
    cfg.faults.routes.push(
        RouteFault::new(
            "/.well-known/oauth-protected-resource/mcp",
            FaultAction::status(503, "busy"),
        )
        .times(2),
    );
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);
    for _ in 0..2 {
        let r = c.get("/.well-known/oauth-protected-resource/mcp");
        assert_eq!(r.status, 503);
        assert_eq!(r.text(), "busy");
    }
    assert_eq!(
        c.get("/.well-known/oauth-protected-resource/mcp").status,
        200
    );
    assert_eq!(server.count("/.well-known/oauth-protected-resource/mcp"), 3);
    assert!(server.config().faults.routes.is_empty());
}

#[test]
fn method_filter_json_html_invalid_json_and_redirect() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    server.add_fault(RouteFault::new("/token", FaultAction::html_error(502)).method("post"));
    let r = c.post_form("/token", &[("grant_type", "client_credentials")], None);
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("<html>"));
    assert_eq!(c.get("/token").status, 405, "GET is not faulted");

    server.clear_faults();
    server.add_fault(RouteFault::new(
        "/.well-known/oauth-authorization-server",
        FaultAction::invalid_json(),
    ));
    let r = c.get("/.well-known/oauth-authorization-server");
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());

    server.clear_faults();
    server.add_fault(RouteFault::new(
        "/register",
        FaultAction::json(400, &json!({"error": "invalid_client_metadata"})),
    ));
    let r = c.post_json("/register", &json!({}), None);
    assert_eq!(r.json()["error"], "invalid_client_metadata");

    server.clear_faults();
    server.add_fault(RouteFault::new(
        "/.well-known/oauth-protected-resource/mcp",
        FaultAction::redirect("https://elsewhere.example/prm"),
    ));
    let r = c.get("/.well-known/oauth-protected-resource/mcp");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("https://elsewhere.example/prm"));
    // All of that on one connection.
    assert_eq!(server.connections_accepted(), 1);
}

#[test]
fn oversized_bodies() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    server.add_fault(RouteFault::new(
        "/big",
        FaultAction::Oversized {
            status: 200,
            bytes: 3_000_000,
            chunked: false,
        },
    ));
    server.add_fault(RouteFault::new(
        "/big-chunked",
        FaultAction::Oversized {
            status: 200,
            bytes: 200_001,
            chunked: true,
        },
    ));
    let r = c.get("/big");
    assert_eq!(r.header("content-length"), Some("3000000"));
    assert_eq!(r.body.len(), 3_000_000);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["pad"].as_str().unwrap().len(), 3_000_000 - 10);
    let r = c.get("/big-chunked");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body.len(), 200_001);
    // Keep-alive survives both.
    assert_eq!(c.get("/.well-known/oauth-authorization-server").status, 200);
    assert_eq!(server.connections_accepted(), 1);
}

#[test]
fn hang_close_and_drip() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    server.add_fault(RouteFault::new("/hang", FaultAction::Hang));
    server.add_fault(RouteFault::new("/close", FaultAction::Close));
    server.add_fault(RouteFault::new(
        "/drip",
        FaultAction::Drip {
            status: 200,
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
            interval: Duration::from_millis(2),
        },
    ));

    let mut c = Conn::open(&server);
    c.set_read_timeout(Duration::from_millis(300));
    let t = Instant::now();
    c.write_request("GET", "/hang", &[], b"");
    assert!(c.read_response(false).is_err(), "no answer");
    assert!(t.elapsed() >= Duration::from_millis(250));

    let mut c = Conn::open(&server);
    c.write_request("GET", "/close", &[], b"");
    assert_eq!(c.read_response(false).unwrap_err(), "closed");

    let mut c = Conn::open(&server);
    let t = Instant::now();
    let r = c.get("/drip");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"{}");
    // ~90 bytes of head + body, 2 ms apart.
    assert!(
        t.elapsed() >= Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );

    // Dropping the server with a hanging connection still returns promptly.
    let mut c = Conn::open(&server);
    c.write_request("GET", "/hang", &[], b"");
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    drop(server);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn document_patches() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    server.update(|cfg| {
        cfg.faults.token_response_patch = Some(json!({"token_type": "mac"}));
    });
    let tok = full_public_flow(&mut c, &server, None);
    assert_eq!(tok["token_type"], "mac");

    server.update(|cfg| {
        cfg.faults.token_response_patch = Some(json!({"access_token": null, "expires_in": 0}));
    });
    let tok = full_public_flow(&mut c, &server, None);
    assert!(tok.get("access_token").is_none());
    assert_eq!(tok["expires_in"], 0);

    server.update(|cfg| {
        cfg.faults.token_response_patch = None;
        cfg.faults.registration_response_patch = Some(json!({"client_id": null}));
        cfg.faults.as_metadata_patch = Some(json!({"issuer": "https://other.example"}));
        cfg.faults.prm_patch = Some(json!({"authorization_servers": ["https://as.example"]}));
    });
    let r = c.post_json("/register", &json!({"redirect_uris": [REDIRECT_URI]}), None);
    assert_eq!(r.status, 201);
    assert!(r.json().get("client_id").is_none());
    assert_eq!(
        c.get("/.well-known/oauth-authorization-server").json()["issuer"],
        "https://other.example"
    );
    assert_eq!(
        c.get("/.well-known/oauth-protected-resource/mcp").json()["authorization_servers"],
        json!(["https://as.example"])
    );
}

#[test]
fn issuer_and_iss_overrides() {
    let cfg = DemoConfig {
        issuer_override: Some("https://evil.example".into()),
        ..DemoConfig::default()
    };
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);
    let md = c.get("/.well-known/oauth-authorization-server").json();
    assert_eq!(md["issuer"], "https://evil.example");
    assert_eq!(server.issuer(), server.origin(), "issuer() is the real one");
    server.update(|c| {
        c.issuer_override = None;
        c.iss_override = Some("https://mixup.example".into());
    });
    let reg = register(&mut c, &server, "none");
    let p = pkce();
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", reg["client_id"].as_str().unwrap())
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("code_challenge", &p.challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let r = c.get(&format!("/authorize?{q}"));
    assert_eq!(
        r.location_param("iss").as_deref(),
        Some("https://mixup.example")
    );
}

#[test]
fn mcp_always_401_refresh_invalid_grant_and_zero_ttl() {
    let cfg = DemoConfig {
        token_ttl_secs: 0,
        ..DemoConfig::default()
    };
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);
    let tok = full_public_flow(&mut c, &server, None);
    assert_eq!(tok["expires_in"], 0);
    let access = tok["access_token"].as_str().unwrap();
    let r = c.rpc("/mcp", "tools/list", json!({}), Some(access));
    assert_eq!(r.status, 401, "a 0 s token is expired at once");

    server.update(|c| c.token_ttl_secs = 3600);
    let t = server.issue_token("x", "mcp:read mcp:write");
    assert_eq!(c.rpc("/mcp", "tools/list", json!({}), Some(&t)).status, 200);
    server.update(|c| c.faults.mcp_always_unauthorized = true);
    assert_eq!(c.rpc("/mcp", "tools/list", json!({}), Some(&t)).status, 401);
    server.update(|c| c.faults.mcp_always_unauthorized = false);

    server.update(|c| c.faults.refresh_invalid_grant = true);
    let r = c.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tok["refresh_token"].as_str().unwrap()),
            ("client_id", tok["client_id"].as_str().unwrap()),
        ],
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(server.grant_count("refresh_token"), 1);
}

#[test]
fn trap_urls_are_recorded_and_404() {
    let server = DemoServer::start(DemoConfig::conformance("metadata-var2").unwrap()).unwrap();
    let mut c = Conn::open(&server);
    let r = c.get("/.well-known/oauth-authorization-server");
    assert_eq!(r.status, 404);
    let r = c.get("/.well-known/oauth-protected-resource/mcp?x=1");
    assert_eq!(r.status, 404);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/.well-known/oauth-authorization-server");
    assert_eq!(reqs[1].query.as_deref(), Some("x=1"));
    assert_eq!(reqs[1].header("HOST"), Some("127.0.0.1"));
    server.clear_requests();
    assert!(server.requests().is_empty());
    assert_eq!(server.count("/.well-known/oauth-authorization-server"), 1);
    server.reset_counters();
    assert_eq!(server.count("/.well-known/oauth-authorization-server"), 0);
}

#[test]
fn recording_can_be_turned_off() {
    let server = DemoServer::start(DemoConfig {
        record_requests: false,
        ..DemoConfig::default()
    })
    .unwrap();
    let mut c = Conn::open(&server);
    assert_eq!(c.get("/nothing").status, 404);
    assert!(server.requests().is_empty());
    assert_eq!(server.count("/nothing"), 1);
    server.update(|c| c.record_requests = true);
    c.get("/nothing");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn keep_alive_many_requests_one_connection() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let t = server.issue_token("k", "mcp:read mcp:write");
    let mut c = Conn::open(&server);
    for i in 0..200 {
        let r = c.rpc(
            "/mcp",
            "tools/call",
            json!({"name": "echo", "arguments": {"text": format!("n{i}")}}),
            Some(&t),
        );
        assert_eq!(r.json()["result"]["content"][0]["text"], format!("n{i}"));
    }
    assert_eq!(server.connections_accepted(), 1);
    assert_eq!(server.requests().len(), 200);
    // Pipelined: two requests in one write, two answers in order.
    let mut c2 = Conn::open(&server);
    c2.write_request("GET", "/.well-known/oauth-authorization-server", &[], b"");
    c2.write_request("GET", "/nothing", &[], b"");
    assert_eq!(c2.read_response(false).unwrap().status, 200);
    assert_eq!(c2.read_response(false).unwrap().status, 404);
    // Connection: close is honoured.
    let r = c2.send("GET", "/nothing", &[("connection", "close")], b"");
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(c2.read_response(false).unwrap_err(), "closed");
    // A second connection counts.
    assert_eq!(server.connections_accepted(), 2);
}

#[test]
fn http_details() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let t = server.issue_token("k", "mcp:read");
    let body = r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#;
    let auth = format!("Bearer {t}");
    use std::io::Write;
    // Expect: 100-continue gets the interim answer before the body is sent.
    let mut raw = std::net::TcpStream::connect(server.addr()).unwrap();
    raw.write_all(
        format!(
            "POST /mcp HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut interim = [0u8; 25];
    raw.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    raw.write_all(body.as_bytes()).unwrap();
    let mut out = String::new();
    raw.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");

    // Fresh connection with a proper chunked request.
    let mut raw = std::net::TcpStream::connect(server.addr()).unwrap();
    raw.write_all(
        format!(
            "POST /mcp HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut out = String::new();
    raw.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.contains("\"id\":3"));
    assert_eq!(
        server.requests().last().unwrap().body,
        body.as_bytes(),
        "the body is recorded de-chunked"
    );

    // Garbage request line: 400 and close.
    let mut raw = std::net::TcpStream::connect(server.addr()).unwrap();
    raw.write_all(b"HELLO\r\n\r\n").unwrap();
    let mut out = String::new();
    raw.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");

    // HEAD, OPTIONS preflight, 405.
    let mut c = Conn::open(&server);
    let r = c.send("HEAD", "/.well-known/oauth-authorization-server", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = c.send("OPTIONS", "/token", &[("origin", "http://x")], b"");
    assert_eq!(r.status, 204);
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
    // GET on the MCP endpoint is a stream (authorized like a POST); other methods are not.
    assert_eq!(c.get("/mcp").status, 401);
    let r = c.send("PUT", "/mcp", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, POST"));
}

#[test]
fn drop_stops_the_server() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let addr = server.addr();
    let c = Conn::open(&server);
    drop(server);
    drop(c);
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err());
}
