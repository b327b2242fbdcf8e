//! A tiny raw HTTP/1.1 client over `std::net::TcpStream`, and OAuth helpers, for the tests.
#![allow(dead_code, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mcp_auth_demo_server::DemoServer;
use serde_json::{Value, json};

pub const REDIRECT_URI: &str = "http://127.0.0.1:5555/callback";

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Query parameters of the `Location` header.
    pub fn location_params(&self) -> Vec<(String, String)> {
        let loc = self.header("location").expect("a Location header");
        let url = url::Url::parse(loc).expect("absolute Location");
        url.query_pairs().into_owned().collect()
    }

    pub fn location_param(&self, name: &str) -> Option<String> {
        self.location_params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// One keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn open(server: &DemoServer) -> Conn {
        let stream = TcpStream::connect(server.addr()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    pub fn set_read_timeout(&self, d: Duration) {
        self.writer.set_read_timeout(Some(d)).unwrap();
    }

    /// Sends a request (path may carry a query) and reads the response.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        self.write_request(method, path, headers, body);
        self.read_response(method == "HEAD").expect("a response")
    }

    pub fn write_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) {
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.writer.write_all(&bytes).expect("write");
    }

    /// Reads one response; `Err` if the connection closed or timed out first.
    pub fn read_response(&mut self, head_only: bool) -> Result<Resp, String> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed".into());
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').ok_or("bad header")?;
            headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v): &(String, String)| v.clone())
        };
        let mut body = Vec::new();
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        } else if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                line.clear();
                self.reader
                    .read_line(&mut line)
                    .map_err(|e| e.to_string())?;
                let size = usize::from_str_radix(line.trim(), 16).map_err(|e| e.to_string())?;
                if size == 0 {
                    line.clear();
                    self.reader
                        .read_line(&mut line)
                        .map_err(|e| e.to_string())?;
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader
                    .read_exact(&mut body[start..])
                    .map_err(|e| e.to_string())?;
                line.clear();
                self.reader
                    .read_line(&mut line)
                    .map_err(|e| e.to_string())?;
            }
        } else if let Some(len) = get("content-length") {
            let len: usize = len.parse().map_err(|_| "bad content-length")?;
            body.resize(len, 0);
            self.reader
                .read_exact(&mut body)
                .map_err(|e| e.to_string())?;
        } else {
            self.reader
                .read_to_end(&mut body)
                .map_err(|e| e.to_string())?;
        }
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, &[], b"")
    }

    pub fn post_json(&mut self, path: &str, body: &Value, bearer: Option<&str>) -> Resp {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        self.send("POST", path, &headers, body.to_string().as_bytes())
    }

    pub fn post_form(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let auth = basic.map(|(id, secret)| basic_header(id, secret));
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        self.send("POST", path, &headers, body.as_bytes())
    }

    /// An MCP JSON-RPC call.
    pub fn rpc(&mut self, path: &str, method: &str, params: Value, token: Option<&str>) -> Resp {
        self.post_json(
            path,
            &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
            token,
        )
    }
}

/// RFC 6749 §2.3.1: form-urlencode id and secret, then Basic.
pub fn basic_header(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// The path (and query) of an absolute URL.
pub fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).expect("absolute URL");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = format!("v{}", "x".repeat(20)) + &random_string();
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    Pkce {
        verifier,
        challenge,
    }
}

fn random_string() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut b).unwrap();
    URL_SAFE_NO_PAD.encode(b)
}

/// Parses `WWW-Authenticate: Bearer k="v", ...` into pairs.
pub fn challenge_params(header: &str) -> Vec<(String, String)> {
    let rest = header.strip_prefix("Bearer ").unwrap_or(header);
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(c) = chars.peek().copied() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_owned(), value));
    }
    out
}

pub fn challenge_param(header: &str, name: &str) -> Option<String> {
    challenge_params(header)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Registers a public client (`none`) with `REDIRECT_URI`.
pub fn register(conn: &mut Conn, server: &DemoServer, method: &str) -> Value {
    let path = path_of(&server.registration_endpoint().expect("DCR on"));
    let r = conn.post_json(
        &path,
        &json!({
            "client_name": "test",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": method,
        }),
        None,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

/// GET /authorize for `client_id`; returns the code.
pub fn authorize(
    conn: &mut Conn,
    server: &DemoServer,
    client_id: &str,
    scope: Option<&str>,
    pkce: &Pkce,
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "st-1")
        .append_pair("resource", &server.resource());
    if let Some(s) = scope {
        q.append_pair("scope", s);
    }
    let path = format!(
        "{}?{}",
        path_of(&server.authorization_endpoint()),
        q.finish()
    );
    let r = conn.get(&path);
    assert_eq!(r.status, 302, "{}", r.text());
    assert_eq!(r.location_param("state").as_deref(), Some("st-1"));
    r.location_param("code")
        .unwrap_or_else(|| panic!("no code in {:?}", r.header("location")))
}

/// Exchanges a code with a public client.
pub fn exchange_public(
    conn: &mut Conn,
    server: &DemoServer,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> Resp {
    let resource = server.resource();
    conn.post_form(
        &path_of(&server.token_endpoint()),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
            ("client_id", client_id),
            ("resource", &resource),
        ],
        None,
    )
}

/// DCR (none) + authorize + token: an access token for `scope`.
pub fn full_public_flow(conn: &mut Conn, server: &DemoServer, scope: Option<&str>) -> Value {
    let client = register(conn, server, "none");
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let p = pkce();
    let code = authorize(conn, server, &client_id, scope, &p);
    let r = exchange_public(conn, server, &client_id, &code, &p.verifier);
    assert_eq!(r.status, 200, "{}", r.text());
    let mut tok = r.json();
    tok["client_id"] = json!(client_id);
    tok
}

/// Reads an MCP response body that may be JSON or one SSE event.
pub fn rpc_body(r: &Resp) -> Value {
    if r.header("content-type")
        .is_some_and(|c| c.starts_with("text/event-stream"))
    {
        let text = r.text();
        let data = text
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("an SSE data line");
        serde_json::from_str(data).unwrap()
    } else {
        r.json()
    }
}
