//! The transport over raw loopback TCP: message framing where a request is ambiguous
//! (RFC 9112 §6.1, §6.3: request smuggling) and the CORS headers, each exactly once
//! (Fetch standard: a browser refuses `Access-Control-Allow-Origin: *, *`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Conn, REDIRECT_URI};
use mcp_auth_demo_server::{DemoConfig, DemoServer};
use serde_json::json;

/// Writes `request` on a fresh connection and reads until the server closes it.
fn exchange(server: &DemoServer, request: &[u8]) -> String {
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    // A timeout here would mean the server kept the connection open: the assertions below
    // then see what arrived so far.
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

const PING: &str = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;

/// A POST to /mcp carrying both `Content-Length: 4` and a chunked body, followed by a second
/// request. A server that framed by `Content-Length` would take four bytes of the chunked
/// body and then read the rest, ending in `GET /smuggled`, as further requests.
fn ambiguous(token: &str, te_first: bool) -> Vec<u8> {
    let (first, second) = ("transfer-encoding: chunked\r\n", "content-length: 4\r\n");
    let (first, second) = if te_first {
        (first, second)
    } else {
        (second, first)
    };
    format!(
        "POST /mcp HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\naccept: application/json\r\n{first}{second}\r\n\
         {:x}\r\n{PING}\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n",
        PING.len()
    )
    .into_bytes()
}

#[test]
fn transfer_encoding_and_content_length_together_are_framed_by_the_chunks_and_close() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let token = server.issue_token("te-cl", "mcp:read");
    for te_first in [true, false] {
        server.clear_requests();
        let out = exchange(&server, &ambiguous(&token, te_first));
        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and the server closes the
        // connection after responding: exactly one response, to the ping.
        assert_eq!(out.matches("HTTP/1.1 ").count(), 1, "{out}");
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains(r#""id":7"#), "{out}");
        assert!(
            out.to_ascii_lowercase().contains("connection: close\r\n"),
            "{out}"
        );
        // From the server's side: one request, its body the de-chunked ping, nothing smuggled.
        let seen = server.requests();
        assert_eq!(seen.len(), 1, "{:?}", server.request_lines());
        assert_eq!(seen[0].body, PING.as_bytes());
        assert_eq!(seen[0].header("content-length"), None);
    }
    assert_eq!(server.count("/smuggled"), 0);
    assert_eq!(server.count("/mcp"), 2);
}

#[test]
fn unframeable_requests_are_refused_before_they_reach_a_handler() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    for bad in [
        // Two different lengths (RFC 9112 §6.3 item 5).
        &b"POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd"[..],
        // A transfer coding other than a final chunked (§6.3 item 4).
        b"POST /mcp HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\nabcd",
        // Transfer-Encoding in HTTP/1.0 (§6.1).
        b"POST /mcp HTTP/1.0\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n",
        // A bad chunk size.
        b"POST /mcp HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n",
        // obs-fold.
        b"GET /mcp HTTP/1.1\r\nhost: x\r\nx: a\r\n folded\r\n\r\n",
    ] {
        let out = exchange(&server, bad);
        let text = String::from_utf8_lossy(bad);
        assert!(out.starts_with("HTTP/1.1 400"), "{text}: {out}");
        assert_eq!(out.matches("HTTP/1.1 ").count(), 1, "{text}: {out}");
    }
    // None of them reached the handlers.
    assert_eq!(server.count("/mcp"), 0, "{:?}", server.request_lines());
}

/// The number of lines named `name` in a response.
fn lines(r: &common::Resp, name: &str) -> usize {
    r.headers.iter().filter(|(n, _)| n == name).count()
}

#[test]
fn every_cors_header_appears_exactly_once() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    let origin = ("origin", "http://page.example");

    // Preflights, for each endpoint a browser calls with a non-simple request.
    for path in ["/register", "/token", "/mcp"] {
        let r = c.send(
            "OPTIONS",
            path,
            &[
                origin,
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type, authorization",
                ),
            ],
            b"",
        );
        assert_eq!(r.status, 204, "{path}");
        for name in [
            "access-control-allow-origin",
            "access-control-allow-methods",
            "access-control-allow-headers",
            "access-control-max-age",
        ] {
            assert_eq!(lines(&r, name), 1, "{path} {name}: {:?}", r.headers);
        }
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    }

    // Actual responses: metadata, registration, an OAuth error, a challenge.
    let prm = c.send(
        "GET",
        "/.well-known/oauth-protected-resource/mcp",
        &[origin],
        b"",
    );
    let asm = c.send(
        "GET",
        "/.well-known/oauth-authorization-server",
        &[origin],
        b"",
    );
    let body =
        json!({"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}).to_string();
    let reg = c.send(
        "POST",
        "/register",
        &[origin, ("content-type", "application/json")],
        body.as_bytes(),
    );
    let tok = c.send(
        "POST",
        "/token",
        &[
            origin,
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        b"grant_type=authorization_code&code=nope&client_id=nobody",
    );
    let mcp = c.send(
        "POST",
        "/mcp",
        &[origin, ("content-type", "application/json")],
        PING.as_bytes(),
    );
    for (what, r, status) in [
        ("prm", &prm, 200),
        ("as metadata", &asm, 200),
        ("register", &reg, 201),
        ("token", &tok, 401),
        ("mcp", &mcp, 401),
    ] {
        assert_eq!(r.status, status, "{what}: {}", r.text());
        for name in [
            "access-control-allow-origin",
            "access-control-expose-headers",
        ] {
            assert_eq!(lines(r, name), 1, "{what} {name}: {:?}", r.headers);
        }
    }
    assert!(
        mcp.header("access-control-expose-headers")
            .unwrap()
            .contains("www-authenticate")
    );

    // Without CORS, none of them.
    server.update(|c| c.cors = false);
    let r = c.send(
        "GET",
        "/.well-known/oauth-authorization-server",
        &[origin],
        b"",
    );
    assert!(
        r.headers
            .iter()
            .all(|(n, _)| !n.starts_with("access-control-"))
    );
}
