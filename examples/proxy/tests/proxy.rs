//! The example proxy over real loopback HTTP, without a browser: forwarding (POST/GET/DELETE,
//! query, body, `Mcp-Session-Id` both ways, hop-by-hop fields), the bridged 401/403 challenge
//! (RFC 9110 §11.6.1, RFC 6750 §3) and expose list (Fetch CORS), the naive control modes,
//! the preflight, the `resource_metadata` rewrite and PRM relay (RFC 9728 §5.1, §3), and the
//! gateway's error path through `Client::send`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestResponse, TestServer};

use mcp_auth::http::{HttpClient, UreqHttpClient};
use mcp_auth::secret::AccessToken;
use mcp_auth_bridge::{CorsPolicy, rewrite_resource_metadata};
use mcp_auth_demo_server::{DemoConfig, DemoServer};
use mcp_auth_proxy::{Mode, Proxy, ProxyConfig};

const PAGE: &str = "http://127.0.0.1:5555";
const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const TOOLS_CALL: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#;

fn upstream_server() -> DemoServer {
    // The upstream sends no CORS headers of its own: the proxy decides exposure.
    DemoServer::start(DemoConfig {
        cors: false,
        ..DemoConfig::default()
    })
    .unwrap()
}

fn proxy(upstream: &str, f: impl FnOnce(&mut ProxyConfig)) -> Proxy {
    let mut config = ProxyConfig::new(upstream);
    config.cors = CorsPolicy::origins([PAGE]);
    config.timeout = Duration::from_secs(10);
    f(&mut config);
    Proxy::start(config).unwrap()
}

fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> http::Response<Vec<u8>> {
    let mut b = http::Request::builder().method(method).uri(url);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    UreqHttpClient::default()
        .execute(b.body(body.as_bytes().to_vec()).unwrap())
        .unwrap()
}

fn post(url: &str, token: Option<&str>, body: &str) -> http::Response<Vec<u8>> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![
        ("Origin", PAGE),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    send("POST", url, &headers, body)
}

fn values(r: &http::Response<Vec<u8>>, name: &str) -> Vec<String> {
    r.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn exposed(r: &http::Response<Vec<u8>>) -> Vec<String> {
    values(r, "access-control-expose-headers")
        .iter()
        .flat_map(|v| v.split(',').map(|n| n.trim().to_ascii_lowercase()))
        .collect()
}

#[test]
fn bridge_relays_the_401_challenge_verbatim_and_exposes_it() {
    let up = upstream_server();
    let p = proxy(&up.mcp_url(), |_| {});
    let direct = post(&up.mcp_url(), None, INITIALIZE);
    let via = post(&p.mcp_url(), None, INITIALIZE);
    assert_eq!(direct.status(), 401);
    assert_eq!(via.status(), 401);
    let challenge = values(&direct, "www-authenticate");
    assert_eq!(challenge.len(), 1);
    assert!(challenge[0].contains("resource_metadata="));
    assert_eq!(values(&via, "www-authenticate"), challenge);
    for h in ["www-authenticate", "mcp-session-id", "mcp-protocol-version"] {
        assert!(exposed(&via).contains(&h.to_owned()), "{h}");
    }
    assert_eq!(values(&via, "access-control-allow-origin"), [PAGE]);
    assert_eq!(via.body(), direct.body());
}

#[test]
fn bridge_relays_the_403_insufficient_scope_challenge() {
    let up = upstream_server();
    let p = proxy(&up.mcp_url(), |_| {});
    let token = up.issue_token("proxy-test", "mcp:read");
    let direct = post(&up.mcp_url(), Some(&token), TOOLS_CALL);
    let via = post(&p.mcp_url(), Some(&token), TOOLS_CALL);
    assert_eq!(via.status(), 403);
    let challenge = values(&direct, "www-authenticate");
    assert!(challenge[0].contains("insufficient_scope"));
    assert_eq!(values(&via, "www-authenticate"), challenge);
    assert!(exposed(&via).contains(&"www-authenticate".to_owned()));

    // With the scope it needs, the call goes through and the body comes back.
    let full = up.issue_token("proxy-test", "mcp:read mcp:write");
    let ok = post(&p.mcp_url(), Some(&full), TOOLS_CALL);
    assert_eq!(ok.status(), 200);
    let v: serde_json::Value = serde_json::from_slice(ok.body()).unwrap();
    assert_eq!(v["id"], 2);
    assert!(v["result"].is_object(), "{v}");
}

#[test]
fn naive_modes_forward_the_status_but_not_a_readable_challenge() {
    let up = upstream_server();
    let no_expose = proxy(&up.mcp_url(), |c| c.mode = Mode::NoExpose);
    let strip = proxy(&up.mcp_url(), |c| c.mode = Mode::Strip);
    let direct = post(&up.mcp_url(), None, INITIALIZE);

    let r = post(&no_expose.mcp_url(), None, INITIALIZE);
    assert_eq!(r.status(), 401);
    // On the wire, but not exposed: a cross-origin script reads null.
    assert_eq!(
        values(&r, "www-authenticate"),
        values(&direct, "www-authenticate")
    );
    assert!(values(&r, "access-control-expose-headers").is_empty());
    assert_eq!(values(&r, "access-control-allow-origin"), [PAGE]);

    let r = post(&strip.mcp_url(), None, INITIALIZE);
    assert_eq!(r.status(), 401);
    assert!(values(&r, "www-authenticate").is_empty());
    assert!(values(&r, "access-control-expose-headers").is_empty());
}

#[test]
fn the_upstreams_own_cors_headers_never_decide_exposure() {
    // An upstream that exposes WWW-Authenticate itself: the naive proxy still hides it.
    let up = DemoServer::start(DemoConfig::default()).unwrap();
    let direct = post(&up.mcp_url(), None, INITIALIZE);
    assert!(!values(&direct, "access-control-expose-headers").is_empty());
    let no_expose = proxy(&up.mcp_url(), |c| c.mode = Mode::NoExpose);
    let r = post(&no_expose.mcp_url(), None, INITIALIZE);
    assert!(values(&r, "access-control-expose-headers").is_empty());
    assert_eq!(values(&r, "access-control-allow-origin"), [PAGE]);
}

#[test]
fn preflight_and_origin_policy() {
    let up = upstream_server();
    let p = proxy(&up.mcp_url(), |_| {});
    let pre = send(
        "OPTIONS",
        &p.mcp_url(),
        &[
            ("Origin", PAGE),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type, mcp-session-id, mcp-protocol-version",
            ),
        ],
        "",
    );
    assert_eq!(pre.status(), 204);
    assert_eq!(values(&pre, "access-control-allow-origin"), [PAGE]);
    let allowed = values(&pre, "access-control-allow-headers")[0].to_ascii_lowercase();
    for h in [
        "authorization",
        "content-type",
        "mcp-session-id",
        "mcp-protocol-version",
    ] {
        assert!(allowed.contains(h), "{h}");
    }
    // The preflight never reaches the upstream.
    assert!(up.requests().is_empty());

    let evil = send(
        "POST",
        &p.mcp_url(),
        &[
            ("Origin", "http://evil.example"),
            ("Content-Type", "application/json"),
        ],
        INITIALIZE,
    );
    assert_eq!(evil.status(), 403);
    assert!(values(&evil, "access-control-allow-origin").is_empty());
    assert!(up.requests().is_empty());
    let pre = send(
        "OPTIONS",
        &p.mcp_url(),
        &[
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    );
    assert_eq!(pre.status(), 403);

    let other = send("GET", &format!("{}/elsewhere", p.origin()), &[], "");
    assert_eq!(other.status(), 404);
    let put = send("PUT", &p.mcp_url(), &[("Origin", PAGE)], "");
    assert_eq!(put.status(), 405);
}

#[test]
fn rewrite_points_resource_metadata_at_the_proxy_which_relays_it() {
    let up = upstream_server();
    let p = proxy(&up.mcp_url(), |c| c.rewrite_resource_metadata = true);
    let prm_url = p.prm_url().unwrap();
    assert!(prm_url.starts_with(p.origin()));
    assert!(prm_url.ends_with("/.well-known/oauth-protected-resource/mcp"));

    let direct = post(&up.mcp_url(), None, INITIALIZE);
    let via = post(&p.mcp_url(), None, INITIALIZE);
    let upstream_challenge = &values(&direct, "www-authenticate")[0];
    assert_eq!(
        values(&via, "www-authenticate"),
        [rewrite_resource_metadata(upstream_challenge, &prm_url).into_owned()]
    );
    assert!(
        values(&via, "www-authenticate")[0].contains(&format!("resource_metadata=\"{prm_url}\""))
    );

    let relayed = send("GET", &prm_url, &[("Origin", PAGE)], "");
    assert_eq!(relayed.status(), 200);
    assert_eq!(values(&relayed, "access-control-allow-origin"), [PAGE]);
    let doc: serde_json::Value = serde_json::from_slice(relayed.body()).unwrap();
    assert_eq!(doc["resource"], up.resource());
    assert_eq!(doc["authorization_servers"][0], up.issuer());
}

#[test]
fn relay_finds_the_metadata_without_a_challenge_and_can_rewrite_its_resource() {
    let up = upstream_server();
    let p = proxy(&up.mcp_url(), |c| {
        c.rewrite_resource_metadata = true;
        c.prm_resource = Some("http://gateway.example/mcp".to_owned());
    });
    // No request went through yet: the relay uses the RFC 9728 §3.1 well-known URL.
    let relayed = send("GET", &p.prm_url().unwrap(), &[], "");
    assert_eq!(relayed.status(), 200);
    let doc: serde_json::Value = serde_json::from_slice(relayed.body()).unwrap();
    assert_eq!(doc["resource"], "http://gateway.example/mcp");

    let broken = proxy(&up.mcp_url(), |c| {
        c.rewrite_resource_metadata = true;
        c.prm_upstream = Some(format!("{}/missing", up.origin()));
    });
    let r = send("GET", &broken.prm_url().unwrap(), &[], "");
    assert_eq!(r.status(), 502);
}

#[test]
fn gateway_mode_bridges_the_error_of_send() {
    let up = upstream_server();
    let read_only = up.issue_token("gateway", "mcp:read");
    let p = proxy(&up.mcp_url(), |c| {
        c.upstream_token = Some(AccessToken::new(read_only.clone()));
    });
    // The browser sends no token at all: the gateway's is used.
    let via = post(&p.mcp_url(), None, TOOLS_CALL);
    let direct = post(&up.mcp_url(), Some(&read_only), TOOLS_CALL);
    assert_eq!(via.status(), 403);
    assert_eq!(
        values(&via, "www-authenticate"),
        values(&direct, "www-authenticate")
    );
    assert!(exposed(&via).contains(&"www-authenticate".to_owned()));
    let body: serde_json::Value = serde_json::from_slice(via.body()).unwrap();
    assert_eq!(body["error"], "insufficient_scope");

    // A method the token covers goes through send's success path.
    let ok = post(
        &p.mcp_url(),
        None,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
    );
    assert_eq!(ok.status(), 200);

    let bogus = proxy(&up.mcp_url(), |c| {
        c.upstream_token = Some(AccessToken::new("mcpat_bogus"));
    });
    let via = post(&bogus.mcp_url(), None, TOOLS_CALL);
    let direct = post(&up.mcp_url(), Some("mcpat_bogus"), TOOLS_CALL);
    assert_eq!(via.status(), 401);
    assert_eq!(
        values(&via, "www-authenticate"),
        values(&direct, "www-authenticate")
    );
}

#[test]
fn an_unreachable_upstream_is_a_502_the_page_can_read() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = proxy(&format!("http://127.0.0.1:{port}/mcp"), |_| {});
    let r = post(&p.mcp_url(), None, INITIALIZE);
    assert_eq!(r.status(), 502);
    assert_eq!(values(&r, "access-control-allow-origin"), [PAGE]);
}

/// A fake upstream that echoes what it received and sets a session.
struct Echo {
    server: TestServer,
    /// Requests the upstream received, counted on its side.
    hits: Arc<AtomicUsize>,
}

impl Echo {
    fn start() -> Echo {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let server = TestServer::start(move |req| {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = serde_json::json!({
                "method": req.method,
                "path": req.path,
                "query": req.query,
                "headers": req.headers,
                "body": String::from_utf8_lossy(&req.body),
            })
            .to_string();
            TestResponse::new(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Mcp-Session-Id", "session-42"),
                    ("MCP-Protocol-Version", "2025-06-18"),
                    ("X-Upstream-Hop", "drop me"),
                    ("Connection", "X-Upstream-Hop"),
                ],
                body,
            )
        });
        Echo { server, hits }
    }

    fn url(&self) -> String {
        format!("{}/upstream/mcp", self.server.origin())
    }
}

fn echoed(r: &http::Response<Vec<u8>>) -> serde_json::Value {
    serde_json::from_slice(r.body()).unwrap()
}

fn echoed_header(v: &serde_json::Value, name: &str) -> Option<String> {
    v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|p| p[1].as_str().unwrap().to_owned())
}

#[test]
fn requests_are_forwarded_with_session_and_without_hop_by_hop_fields() {
    let echo = Echo::start();
    let p = proxy(&echo.url(), |_| {});
    for method in ["POST", "GET", "DELETE"] {
        let r = send(
            method,
            &format!("{}?x=1", p.mcp_url()),
            &[
                ("Origin", PAGE),
                ("Authorization", "Bearer t0k"),
                ("Mcp-Session-Id", "session-41"),
                ("MCP-Protocol-Version", "2025-06-18"),
                ("Cookie", "proxy-origin=secret"),
                ("Connection", "X-Local"),
                ("X-Local", "hop"),
                ("X-Custom", "kept"),
            ],
            if method == "POST" { INITIALIZE } else { "" },
        );
        assert_eq!(r.status(), 200, "{method}");
        let v = echoed(&r);
        assert_eq!(v["method"], method);
        assert_eq!(v["path"], "/upstream/mcp");
        assert_eq!(v["query"], "x=1");
        assert_eq!(
            echoed_header(&v, "authorization").as_deref(),
            Some("Bearer t0k")
        );
        assert_eq!(
            echoed_header(&v, "mcp-session-id").as_deref(),
            Some("session-41")
        );
        assert_eq!(
            echoed_header(&v, "mcp-protocol-version").as_deref(),
            Some("2025-06-18")
        );
        assert_eq!(echoed_header(&v, "x-custom").as_deref(), Some("kept"));
        for gone in ["origin", "cookie", "x-local"] {
            assert_eq!(echoed_header(&v, gone), None, "{gone} forwarded");
        }
        if method == "POST" {
            assert_eq!(v["body"], INITIALIZE);
        }
        // Downstream: the session id comes back and is exposed; hop-by-hop fields do not.
        assert_eq!(values(&r, "mcp-session-id"), ["session-42"]);
        assert_eq!(values(&r, "mcp-protocol-version"), ["2025-06-18"]);
        assert!(exposed(&r).contains(&"mcp-session-id".to_owned()));
        assert!(exposed(&r).contains(&"mcp-protocol-version".to_owned()));
        assert!(values(&r, "x-upstream-hop").is_empty());
    }
}

fn raw(p: &Proxy, request: &[u8]) -> String {
    let mut s = TcpStream::connect(p.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn chunked_bodies_keep_alive_and_smuggling_attempts() {
    let echo = Echo::start();
    let p = proxy(&echo.url(), |_| {});
    let out = raw(
        &p,
        b"POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.contains(r#""body":"hello world""#), "{out}");

    // Two requests on one connection.
    let out = raw(
        &p,
        b"GET /mcp HTTP/1.1\r\nHost: x\r\n\r\nGET /mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");

    for bad in [
        &b"POST /mcp HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"[..],
        b"POST /mcp HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET http://evil/ HTTP/1.1\r\n\r\n",
        b"GET /mcp HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
    ] {
        let out = raw(&p, bad);
        assert!(
            out.starts_with("HTTP/1.1 400") || out.starts_with("HTTP/1.1 501"),
            "{}: {out}",
            String::from_utf8_lossy(bad)
        );
    }
    // None of the refused requests reached the upstream: only the three above did.
    assert_eq!(echo.hits.load(Ordering::SeqCst), 3);
}

/// RFC 9112 §6.3: a request with both `Transfer-Encoding: chunked` and `Content-Length` is
/// framed by the chunks alone, and the connection is closed after the response, so nothing
/// after the chunked body can be read as a second (smuggled) request. Counted at the upstream.
#[test]
fn transfer_encoding_with_content_length_cannot_smuggle_a_request() {
    let echo = Echo::start();
    let p = proxy(&echo.url(), |_| {});
    for (first, second) in [
        ("Transfer-Encoding: chunked", "Content-Length: 4"),
        ("Content-Length: 4", "Transfer-Encoding: chunked"),
    ] {
        let before = echo.hits.load(Ordering::SeqCst);
        let request = format!(
            "POST /mcp HTTP/1.1\r\nHost: x\r\n{first}\r\n{second}\r\n\r\n\
             5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n\
             DELETE /mcp?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        let out = raw(&p, request.as_bytes());
        assert_eq!(out.matches("HTTP/1.1 ").count(), 1, "{out}");
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains(r#""body":"hello world""#), "{out}");
        assert!(
            out.to_ascii_lowercase().contains("connection: close\r\n"),
            "{out}"
        );
        assert!(!out.contains("smuggled"), "{out}");
        assert_eq!(echo.hits.load(Ordering::SeqCst), before + 1, "{out}");
    }
}

/// With `max_connections = 1`, a second connection is not served while the first is open,
/// and is served as soon as it closes. Counted at the upstream.
#[test]
fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let echo = Echo::start();
    let p = proxy(&echo.url(), |c| c.max_connections = 1);
    let request = b"GET /mcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    // The first connection takes the only slot (and proves it is being served).
    let mut first = TcpStream::connect(p.addr()).unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    first
        .write_all(b"GET /mcp HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 12];
    first.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    assert_eq!(echo.hits.load(Ordering::SeqCst), 1);

    // The second one waits in the backlog: no answer while the first stays open.
    let mut second = TcpStream::connect(p.addr()).unwrap();
    second.write_all(request).unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut one = [0u8; 1];
    let waited = second.read(&mut one);
    assert!(
        waited.as_ref().is_err_and(|e| matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        "the second connection was served while the first held the only slot: {waited:?}"
    );
    assert_eq!(echo.hits.load(Ordering::SeqCst), 1);

    // Closing the first frees the slot.
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut out = String::new();
    let _ = second.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert_eq!(echo.hits.load(Ordering::SeqCst), 2);
}

/// The request deadline covers the whole request, not each read: a client that keeps sending
/// one header byte at a time (each read succeeding) is cut off all the same.
#[test]
fn a_trickling_request_is_cut_off_by_the_request_deadline() {
    let echo = Echo::start();
    let p = proxy(&echo.url(), |c| c.request_timeout = Duration::from_secs(1));
    let mut s = TcpStream::connect(p.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /mcp HTTP/1.1\r\nHost: x\r\n").unwrap();
    // A header far longer than the deadline allows at this pace (~60 s), never finished.
    let mut cut_off = false;
    for _ in 0..600 {
        if s.write_all(b"X-Slow: a\r\n").is_err() {
            cut_off = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 64];
        let peeked = s.peek(&mut b);
        s.set_nonblocking(false).unwrap();
        // Anything but "nothing yet" (EOF, a reset, an error response) is the cut-off.
        if !peeked.is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock) {
            cut_off = true;
            break;
        }
    }
    assert!(
        cut_off,
        "a trickling request kept its connection for a minute"
    );
    assert_eq!(echo.hits.load(Ordering::SeqCst), 0);
}
