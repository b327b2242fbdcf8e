//! `UreqHttpClient` against real loopback servers (`std::net::TcpListener` on 127.0.0.1, one
//! thread per connection, each response written with a single `write_all`).
//!
//! Timing is never asserted beyond "it returned an error of kind Timeout".

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mcp_auth::ErrorKind;
use mcp_auth::http::{HttpClient, HttpConfig, UreqHttpClient};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// The request line and headers, header names lower-cased.
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn path(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or("")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            (n == name).then(|| v.trim())
        })
    }
}

struct Server {
    addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A keep-alive HTTP/1.1 server answering each request with `respond(request)`, the complete
/// response bytes.
fn serve(respond: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let respond = Arc::new(respond);
    let (a, s) = (accepts.clone(), seen.clone());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            a.fetch_add(1, Ordering::SeqCst);
            let (s, respond) = (s.clone(), respond.clone());
            thread::spawn(move || handle(stream, &s, &*respond));
        }
    });
    Server {
        addr,
        accepts,
        seen,
    }
}

fn handle(mut stream: TcpStream, seen: &Mutex<Vec<Seen>>, respond: &dyn Fn(&Seen) -> Vec<u8>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end - 4]).into_owned();
        let head: String = head
            .lines()
            .enumerate()
            .map(|(i, l)| match (i, l.split_once(':')) {
                (0, _) | (_, None) => l.to_owned(),
                (_, Some((n, v))) => format!("{}:{v}", n.to_ascii_lowercase()),
            })
            .collect::<Vec<_>>()
            .join("\n");
        buf.drain(..head_end);
        let mut req = Seen {
            head,
            body: Vec::new(),
        };
        let len: usize = req
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < len {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        req.body = buf.drain(..len).collect();
        seen.lock().unwrap().push(req.clone());
        let response = respond(&req);
        if stream.write_all(&response).is_err() {
            return;
        }
        if String::from_utf8_lossy(&response)
            .to_ascii_lowercase()
            .contains("connection: close")
        {
            return;
        }
    }
}

/// A complete response with a Content-Length.
fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 {status}\r\n");
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).unwrap()
}

fn client_with_cap(max_body_bytes: usize) -> UreqHttpClient {
    UreqHttpClient::new(HttpConfig {
        max_body_bytes,
        timeout: Duration::from_secs(10),
        ..HttpConfig::default()
    })
}

/// RFC 6749 §5.2: an error response is a 400 with a JSON body, which must be readable.
#[test]
fn status_400_json_body_is_returned_not_an_error() {
    let body = br#"{"error":"invalid_grant","error_description":"code expired"}"#;
    let server = serve(move |_| {
        response(
            "400 Bad Request",
            &[
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
            ],
            body,
        )
    });
    let resp = UreqHttpClient::default()
        .execute(get(&server.url("/token")))
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.body(), body);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let oauth = mcp_auth::OAuthErrorResponse::from_json(resp.body()).unwrap();
    assert_eq!(oauth.error, "invalid_grant");
}

#[test]
fn status_401_and_500_are_responses() {
    let server = serve(|req| match req.path() {
        "/401" => response(
            "401 Unauthorized",
            &[(
                "WWW-Authenticate",
                r#"Bearer resource_metadata="http://x/m""#,
            )],
            b"",
        ),
        _ => response("500 Internal Server Error", &[], b"boom"),
    });
    let client = UreqHttpClient::default();
    let r = client.execute(get(&server.url("/401"))).unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        r#"Bearer resource_metadata="http://x/m""#
    );
    let r = client.execute(get(&server.url("/500"))).unwrap();
    assert_eq!(
        (r.status().as_u16(), r.body().as_slice()),
        (500, &b"boom"[..])
    );
}

/// Redirects are not followed: the 302 comes back with its Location, and the target is never
/// requested.
#[test]
fn redirect_is_returned_not_followed() {
    let server = serve(|req| match req.path() {
        "/start" => response("302 Found", &[("Location", "/target")], b""),
        _ => response("200 OK", &[], b"followed"),
    });
    for method in [http::Method::GET, http::Method::POST] {
        let req = http::Request::builder()
            .method(method)
            .uri(server.url("/start"))
            .body(b"a=b".to_vec())
            .unwrap();
        let resp = UreqHttpClient::default().execute(req).unwrap();
        assert_eq!(resp.status(), 302);
        assert_eq!(resp.headers()["location"], "/target");
    }
    assert!(server.seen().iter().all(|s| s.path() == "/start"));
}

/// `follow_redirects: true` does follow (the opt-in works).
#[test]
fn redirect_followed_when_configured() {
    let server = serve(|req| match req.path() {
        "/start" => response("302 Found", &[("Location", "/target")], b""),
        _ => response("200 OK", &[], b"followed"),
    });
    let client = UreqHttpClient::new(HttpConfig {
        follow_redirects: true,
        ..HttpConfig::default()
    });
    let resp = client.execute(get(&server.url("/start"))).unwrap();
    assert_eq!(
        (resp.status().as_u16(), resp.body().as_slice()),
        (200, &b"followed"[..])
    );
}

#[test]
fn body_over_the_cap_declared_by_content_length_is_too_large() {
    let server = serve(|_| response("200 OK", &[], &[b'x'; 1001]));
    let e = client_with_cap(1000)
        .execute(get(&server.url("/big?code=SECRET")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
    match &e {
        mcp_auth::Error::ResponseTooLarge { url, limit } => {
            assert_eq!(*limit, 1000);
            assert_eq!(url, &server.url("/big"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn chunked_body_over_the_cap_is_too_large() {
    let server = serve(|_| {
        let chunk = [b'y'; 600];
        let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..2 {
            r.extend_from_slice(b"258\r\n");
            r.extend_from_slice(&chunk);
            r.extend_from_slice(b"\r\n");
        }
        r.extend_from_slice(b"0\r\n\r\n");
        r
    });
    let e = client_with_cap(1000)
        .execute(get(&server.url("/")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
}

#[test]
fn close_delimited_body_over_the_cap_is_too_large() {
    let server = serve(|_| {
        let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        r.extend_from_slice(&[b'z'; 5000]);
        r
    });
    let e = client_with_cap(1000)
        .execute(get(&server.url("/")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
}

/// Fence post: a body of exactly the cap is accepted, with a Content-Length and chunked.
#[test]
fn body_exactly_at_the_cap_is_accepted() {
    let server = serve(|req| match req.path() {
        "/cl" => response("200 OK", &[], &[b'x'; 1000]),
        _ => {
            let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n".to_vec();
            r.extend_from_slice(&[b'x'; 1000]);
            r.extend_from_slice(b"\r\n0\r\n\r\n");
            r
        }
    });
    let client = client_with_cap(1000);
    assert_eq!(
        client
            .execute(get(&server.url("/cl")))
            .unwrap()
            .body()
            .len(),
        1000
    );
    assert_eq!(
        client
            .execute(get(&server.url("/chunked")))
            .unwrap()
            .body()
            .len(),
        1000
    );
}

/// 133 gzip bytes that decode to 100 000 bytes of `a`.
fn gzip_bomb() -> Vec<u8> {
    let mut b = vec![
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xed, 0xc1, 0x31, 0x01, 0x00,
        0x00, 0x00, 0xc2, 0xa0, 0xac, 0xeb, 0x5f, 0xc2, 0x1a, 0x1e, 0x40, 0x01,
    ];
    b.extend_from_slice(&[0u8; 96]);
    b.extend_from_slice(&[0xaf, 0x06, 0x87, 0xfa, 0xe2, 0x1b, 0xa0, 0x86, 0x01, 0x00]);
    b
}

/// The cap also applies after gzip decoding: a small compressed body cannot expand past it.
#[test]
fn gzip_body_over_the_cap_after_decoding_is_too_large() {
    let server = serve(|_| response("200 OK", &[("Content-Encoding", "gzip")], &gzip_bomb()));
    let e = client_with_cap(10_000)
        .execute(get(&server.url("/")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
}

#[test]
fn gzip_body_within_the_cap_is_decoded() {
    let small: &[u8] = &[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0xca, 0xcf, 0x56,
        0xb2, 0x2a, 0x29, 0x2a, 0x4d, 0xad, 0x05, 0x00, 0x90, 0x5f, 0xd4, 0xa7, 0x0b, 0x00, 0x00,
        0x00,
    ];
    let server = serve(move |_| response("200 OK", &[("Content-Encoding", "gzip")], small));
    let resp = client_with_cap(1000)
        .execute(get(&server.url("/")))
        .unwrap();
    assert_eq!(resp.body(), br#"{"ok":true}"#);
}

/// A server that accepts but never answers: the request ends with `Timeout`.
#[test]
fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s); // keep it open, say nothing
        }
    });
    let client = UreqHttpClient::new(HttpConfig {
        timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    });
    let e = client
        .execute(get(&format!("http://{addr}/slow?state=SECRET")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert!(!e.to_string().contains("SECRET"), "{e}");
}

/// Connection reuse: two sequential requests on one client use one TCP connection.
#[test]
fn keep_alive_reuses_one_connection() {
    let server = serve(|req| response("200 OK", &[], req.path().as_bytes()));
    let client = UreqHttpClient::default();
    assert_eq!(
        client.execute(get(&server.url("/one"))).unwrap().body(),
        b"/one"
    );
    assert_eq!(
        client.execute(get(&server.url("/two"))).unwrap().body(),
        b"/two"
    );
    // A clone shares the pool.
    let clone = client.clone();
    assert_eq!(
        clone.execute(get(&server.url("/three"))).unwrap().body(),
        b"/three"
    );
    assert_eq!(server.accepts.load(Ordering::SeqCst), 1);
    assert_eq!(server.seen().len(), 3);
}

/// Nothing listens: `Transport`, with the query (which may hold a code) removed from the URL.
#[test]
fn closed_port_is_a_transport_error_with_redacted_url() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = UreqHttpClient::default()
        .execute(get(&format!("http://127.0.0.1:{port}/cb?code=SECRET#frag")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
    match &e {
        mcp_auth::Error::Transport { url, .. } => {
            assert_eq!(url, &format!("http://127.0.0.1:{port}/cb"))
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{e} {e:?}").contains("SECRET"));
}

#[test]
fn user_agent_is_sent() {
    let server = serve(|_| response("200 OK", &[], b""));
    UreqHttpClient::default()
        .execute(get(&server.url("/")))
        .unwrap();
    let custom = UreqHttpClient::new(HttpConfig {
        user_agent: "my-app/1.2".into(),
        ..HttpConfig::default()
    });
    custom.execute(get(&server.url("/"))).unwrap();
    let seen = server.seen();
    assert_eq!(
        seen[0].header("user-agent"),
        Some(concat!("mcp-auth/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(seen[1].header("user-agent"), Some("my-app/1.2"));
}

/// A POST carries its body and headers; a GET with an empty body carries no Content-Length.
#[test]
fn request_method_headers_and_body_are_sent() {
    let server = serve(|req| response("200 OK", &[], &req.body));
    let client = UreqHttpClient::default();
    let form = b"grant_type=authorization_code&code=abc".to_vec();
    let req = http::Request::post(server.url("/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(form.clone())
        .unwrap();
    assert_eq!(client.execute(req).unwrap().body(), &form);
    client.execute(get(&server.url("/meta"))).unwrap();

    let seen = server.seen();
    assert!(seen[0].head.starts_with("POST /token HTTP/1.1"));
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].header("accept"), Some("application/json"));
    assert_eq!(seen[0].body, form);
    assert!(seen[1].head.starts_with("GET /meta HTTP/1.1"));
    assert_eq!(seen[1].header("content-length"), None);
}

/// The client is shareable across threads (the trait requires `Send + Sync`).
#[test]
fn concurrent_requests_through_an_arc() {
    let server = Arc::new(serve(|req| response("200 OK", &[], req.path().as_bytes())));
    let client: Arc<dyn HttpClient> = Arc::new(UreqHttpClient::default());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (client, url) = (client.clone(), server.url(&format!("/{i}")));
            thread::spawn(move || client.execute(get(&url)).unwrap().into_body())
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), format!("/{i}").into_bytes());
    }
}
