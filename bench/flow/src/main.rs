//! `bench-flow`: the loopback flow, warm-path and footprint benchmarks of mcp-auth, driven by
//! `bench/run.py` (`make bench`). The benchmarks are never part of `make test`; its smoke test
//! (`tests/smoke.rs`) runs each flow mode once so the harness cannot break unnoticed.
//!
//! ```text
//! bench-flow server                       demo server (reference-benchmark topology) + stats
//!                                         endpoint; prints `READY <mcp_url> <stats_url>`,
//!                                         exits on stdin EOF
//! bench-flow flows --url U --stats S --n N --mode warm|fresh [--concurrent] [--cache]
//!                                         N cold flows (fresh Client + memory storage each),
//!                                         one JSON line: wall per flow, requests, connections
//! bench-flow once --url U --stats S --store PATH
//!                                         one flow with a file store (run it twice: the
//!                                         second process is the warm path); prints requests
//!                                         and peak RSS
//! bench-flow warm --n N                   in-process: authorized request overhead over a
//!                                         plain request; 64 threads refreshing one client
//! bench-flow floor --url U --stats S --n N
//!                                         the floor: the same 9 requests per flow over one
//!                                         fresh raw TCP connection, hand-written HTTP/1.1
//! bench-flow flows ... --api c            the flow through the C ABI (mcpauth_client_new
//!                                         from options JSON + mcpauth_client_post_json)
//! bench-flow threads --url U --stats S --threads T --requests R
//!                                         T threads share one authorized client: throughput,
//!                                         p50/p99, new connections counted at the server
//! bench-flow stores [--redis URL] ...     memory, file and Redis stores: authorized-request
//!                                         throughput, store calls, refresh latency under
//!                                         contention (see stores.rs)
//! ```
//!
//! Peak RSS is the process's own high-water mark (`VmHWM` in /proc/self/status), not
//! `getrusage`'s `ru_maxrss`, which after `fork` + `exec` also covers the parent (the Python
//! harness) and so reported the harness's size for every mode.
mod stores;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use mcp_auth::Client;
use mcp_auth::cache::MetadataCache;
use mcp_auth::http::{HttpClient, HttpConfig, UreqHttpClient};
use mcp_auth::storage::FileStorage;
use mcp_auth_demo_server::{DemoConfig, DemoServer};
use serde_json::json;

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        if a == name {
            return it.next();
        }
    }
    None
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn summary(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(|a, b| a.total_cmp(b));
    json!({
        "median": percentile(&v, 0.5),
        "p10": percentile(&v, 0.1),
        "p90": percentile(&v, 0.9),
        "p99": percentile(&v, 0.99),
        "min": percentile(&v, 0.0),
        "max": percentile(&v, 1.0),
        "n": v.len(),
    })
}

/// This process's peak resident set (`VmHWM`, KiB): the high-water mark of its own address
/// space, which `exec` resets (unlike `ru_maxrss`).
fn peak_rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(-1)
}

// ---- server ---------------------------------------------------------------------------------

fn server() {
    let server = Arc::new(DemoServer::start(DemoConfig::reference_benchmark()).expect("server"));
    let listener = TcpListener::bind("127.0.0.1:0").expect("stats listener");
    let stats_url = format!("http://{}", listener.local_addr().unwrap());
    println!("READY {} {stats_url}", server.mcp_url());
    std::io::stdout().flush().unwrap();
    let s = server.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Drain the head.
            let mut h = String::new();
            while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let body = if line.starts_with("POST /reset") {
                s.clear_requests();
                "{}".to_owned()
            } else {
                let lines = s.request_lines();
                json!({
                    "requests": lines.len(),
                    "connections": s.connections_accepted(),
                    "authorize": lines.iter().filter(|l| l.contains("/authorize")).count(),
                    "well_known": lines.iter().filter(|l| l.contains("/.well-known/")).count(),
                    "lines": if lines.len() <= 40 { json!(lines) } else { json!(null) },
                })
                .to_string()
            };
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    // Exit when the harness closes stdin.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn stats(url: &str) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let mut r = agent.get(&format!("{url}/stats")).call().expect("stats");
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

/// `--cache` runs: the demo server answers its AS metadata with `Cache-Control: no-store`
/// (which the cache honours); this replaces the header of every `200` metadata answer by
/// `max-age=300`, as a server that allows caching would send.
struct Cacheable(UreqHttpClient);

impl HttpClient for Cacheable {
    fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> mcp_auth::Result<http::Response<Vec<u8>>> {
        let well_known = request.uri().path().contains("/.well-known/");
        let mut response = self.0.execute(request)?;
        if well_known && response.status() == 200 {
            response.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("max-age=300"),
            );
        }
        Ok(response)
    }
}

fn new_http() -> Arc<dyn HttpClient> {
    Arc::new(UreqHttpClient::new(HttpConfig::default()))
}

fn build_client(
    url: &str,
    http: Option<Arc<dyn HttpClient>>,
    concurrent: bool,
    cache: Option<Arc<MetadataCache>>,
) -> Client {
    let mut b = Client::builder(url)
        .headless()
        .client_name("bench")
        .concurrent_discovery(concurrent);
    if let Some(h) = http {
        b = b.http_client(h);
    }
    if let Some(c) = cache {
        b = b.metadata_cache(c);
    }
    b.build().expect("client")
}

// ---- flows ----------------------------------------------------------------------------------

fn flows() {
    let url = arg("--url").expect("--url");
    let stats_url = arg("--stats").expect("--stats");
    let n: usize = arg("--n").map_or(100, |v| v.parse().unwrap());
    let mode = arg("--mode").unwrap_or_else(|| "warm".to_owned());
    let concurrent = flag("--concurrent");
    let cache = flag("--cache").then(|| Arc::new(MetadataCache::new()));
    let c_api = arg("--api").as_deref() == Some("c");
    let shared: Arc<dyn HttpClient> = if cache.is_some() {
        Arc::new(Cacheable(UreqHttpClient::new(HttpConfig::default())))
    } else {
        new_http()
    };
    let mut walls = Vec::with_capacity(n);
    let mut base = json!(null);
    for i in 0..n + 3 {
        if i == 3 {
            base = stats(&stats_url);
        }
        let http = (mode == "warm").then(|| shared.clone());
        let t0 = Instant::now();
        if c_api {
            assert_eq!(c_flow(&url), 200);
        } else {
            let client = build_client(&url, http, concurrent, cache.clone());
            let r = client.post_json(BODY).expect("flow");
            drop(client);
            assert_eq!(r.status, 200);
        }
        let dt = t0.elapsed();
        if i >= 3 {
            walls.push(dt.as_secs_f64() * 1e3);
        }
    }
    let end = stats(&stats_url);
    let per = |k: &str| (end[k].as_u64().unwrap() - base[k].as_u64().unwrap()) as f64 / n as f64;
    println!(
        "{}",
        json!({
            "client": if c_api { "mcp_auth (C ABI)" } else { "mcp_auth (Rust core, Client)" },
            "mode": if c_api { "fresh" } else { mode.as_str() },
            "concurrent_discovery": concurrent,
            "metadata_cache": cache.is_some(),
            "wall_ms": summary(walls),
            "requests_per_flow": per("requests"),
            "user_agent_requests_per_flow": per("authorize"),
            "discovery_requests_per_flow": per("well_known"),
            "connections_per_flow": per("connections"),
            "peak_rss_kib": peak_rss_kib(),
        })
    );
}

fn once() {
    let url = arg("--url").expect("--url");
    let stats_url = arg("--stats").expect("--stats");
    let store = arg("--store").expect("--store");
    let base = stats(&stats_url);
    let t0 = Instant::now();
    let client = Client::builder(&url)
        .headless()
        .client_name("bench")
        .storage(Arc::new(FileStorage::new(store)))
        .build()
        .expect("client");
    let r = client.post_json(BODY).expect("flow");
    let dt = t0.elapsed();
    assert_eq!(r.status, 200);
    let end = stats(&stats_url);
    let d = |k: &str| end[k].as_u64().unwrap() - base[k].as_u64().unwrap();
    println!(
        "{}",
        json!({
            "wall_ms": dt.as_secs_f64() * 1e3,
            "requests": d("requests"),
            "connections": d("connections"),
            "authorizations": r.authorizations,
            "peak_rss_kib": peak_rss_kib(),
            "lines": end["lines"],
        })
    );
}

/// One flow through the C ABI, as a C host writes it: options JSON → config → client →
/// `mcpauth_client_post_json` → status, then everything freed.
fn c_flow(url: &str) -> u16 {
    use std::ffi::CString;
    use std::ptr;
    let options = CString::new(
        json!({"server_url": url, "client_name": "bench", "redirect": {"type": "headless"}})
            .to_string(),
    )
    .unwrap();
    let body = CString::new(BODY).unwrap();
    let mut config = ptr::null_mut();
    let mut client = ptr::null_mut();
    let mut response = ptr::null_mut();
    // SAFETY: valid C strings and out-pointers; every object is freed once below.
    unsafe {
        assert_eq!(
            mcpauth::mcpauth_client_config_new(options.as_ptr(), &mut config),
            mcpauth::mcpauth_status::Ok
        );
        assert_eq!(
            mcpauth::mcpauth_client_new(config, &mut client),
            mcpauth::mcpauth_status::Ok
        );
        mcpauth::mcpauth_client_config_free(config);
        let st = mcpauth::mcpauth_client_post_json(client, body.as_ptr(), &mut response);
        assert_eq!(st, mcpauth::mcpauth_status::Ok);
        let mut code = 0u16;
        assert_eq!(
            mcpauth::mcpauth_response_status(response, &mut code),
            mcpauth::mcpauth_status::Ok
        );
        mcpauth::mcpauth_response_free(response);
        mcpauth::mcpauth_client_free(client);
        code
    }
}

// ---- the floor: the same 9 requests, hand-written, one raw connection ----------------------

/// A minimal keep-alive HTTP/1.1 exchange on one socket: no OAuth logic, no URL parsing
/// beyond what the flow needs.
struct Raw {
    reader: BufReader<std::net::TcpStream>,
    writer: std::net::TcpStream,
    host: String,
}

impl Raw {
    fn connect(addr: &str) -> Raw {
        let s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).unwrap();
        Raw {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
            host: addr.to_owned(),
        }
    }

    /// Send one request; return status, headers (lower-case names) and body.
    fn call(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut out = req.into_bytes();
        out.extend_from_slice(body);
        self.writer.write_all(&out).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut hs = Vec::new();
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            let (k, v) = (k.to_ascii_lowercase(), v.trim().to_owned());
            if k == "content-length" {
                len = v.parse().unwrap();
            }
            hs.push((k, v));
        }
        let mut body = vec![0u8; len];
        self.reader.read_exact(&mut body).unwrap();
        (status, hs, body)
    }
}

fn json_str(body: &[u8], member: &str) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    match &v[member] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a[0].as_str().unwrap().to_owned(),
        other => panic!("{member}: {other}"),
    }
}

/// Path (and query) of an absolute URL on the server's origin.
fn path_of(url: &str) -> &str {
    let rest = &url[url.find("://").unwrap() + 3..];
    &rest[rest.find('/').unwrap_or(rest.len())..]
}

fn floor_flow(url: &str, verifier: &str, challenge: &str) -> u16 {
    let origin_end =
        url[url.find("://").unwrap() + 3..].find('/').unwrap() + url.find("://").unwrap() + 3;
    let origin = &url[..origin_end];
    let addr = &origin[origin.find("://").unwrap() + 3..];
    let mcp_path = &url[origin_end..];
    let mut c = Raw::connect(addr);
    let accept = ("Accept", "application/json, text/event-stream");
    let ctype = ("Content-Type", "application/json");
    let (st, _, _) = c.call("POST", mcp_path, &[accept, ctype], BODY.as_bytes());
    assert_eq!(st, 401);
    let (st, _, _) = c.call(
        "GET",
        &format!("/.well-known/oauth-protected-resource{mcp_path}"),
        &[],
        b"",
    );
    assert_eq!(st, 404);
    let (st, _, prm) = c.call("GET", "/.well-known/oauth-protected-resource", &[], b"");
    assert_eq!(st, 200);
    let resource = json_str(&prm, "resource");
    let issuer = json_str(&prm, "authorization_servers");
    let (st, _, _) = c.call("GET", "/.well-known/oauth-authorization-server", &[], b"");
    assert_eq!(st, 404);
    let (st, _, asm) = c.call("GET", "/.well-known/openid-configuration", &[], b"");
    assert_eq!(st, 200);
    assert!(json_str(&asm, "issuer") == issuer);
    let redirect = "http://127.0.0.1:3030/callback";
    let reg = json!({"redirect_uris": [redirect], "client_name": "bench",
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]})
    .to_string();
    let (st, _, reg) = c.call(
        "POST",
        path_of(&json_str(&asm, "registration_endpoint")),
        &[ctype],
        reg.as_bytes(),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&reg));
    let client_id = json_str(&reg, "client_id");
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let authorize = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256&state=s1&scope=mcp&resource={}",
        path_of(&json_str(&asm, "authorization_endpoint")),
        enc(&client_id),
        enc(redirect),
        enc(&resource)
    );
    let (st, hs, _) = c.call("GET", &authorize, &[], b"");
    assert_eq!(st, 302);
    let location = &hs.iter().find(|(k, _)| k == "location").unwrap().1;
    let code = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={verifier}&resource={}",
        enc(&code),
        enc(redirect),
        enc(&client_id),
        enc(&resource)
    );
    let (st, _, token) = c.call(
        "POST",
        path_of(&json_str(&asm, "token_endpoint")),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&token));
    let bearer = format!("Bearer {}", json_str(&token, "access_token"));
    let (st, _, _) = c.call(
        "POST",
        mcp_path,
        &[accept, ctype, ("Authorization", &bearer)],
        BODY.as_bytes(),
    );
    st
}

fn floor() {
    let url = arg("--url").expect("--url");
    let stats_url = arg("--stats").expect("--stats");
    let n: usize = arg("--n").map_or(100, |v| v.parse().unwrap());
    // PKCE is computed once, outside the timing: the floor does no OAuth work.
    let pkce = mcp_auth::pkce::PkceParameters::generate();
    let (v, ch) = (
        pkce.code_verifier.secret().to_owned(),
        pkce.code_challenge.clone(),
    );
    let mut walls = Vec::with_capacity(n);
    let mut base = json!(null);
    for i in 0..n + 3 {
        if i == 3 {
            base = stats(&stats_url);
        }
        let t0 = Instant::now();
        assert_eq!(floor_flow(&url, &v, &ch), 200);
        if i >= 3 {
            walls.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    let end = stats(&stats_url);
    let per = |k: &str| (end[k].as_u64().unwrap() - base[k].as_u64().unwrap()) as f64 / n as f64;
    println!(
        "{}",
        json!({
            "client": "floor (raw socket, hand-written HTTP/1.1)",
            "mode": "fresh",
            "wall_ms": summary(walls),
            "requests_per_flow": per("requests"),
            "user_agent_requests_per_flow": per("authorize"),
            "discovery_requests_per_flow": per("well_known"),
            "connections_per_flow": per("connections"),
            "peak_rss_kib": peak_rss_kib(),
        })
    );
}

// ---- concurrency: T threads share one client ------------------------------------------------

fn threads() {
    let url = arg("--url").expect("--url");
    let stats_url = arg("--stats").expect("--stats");
    let t: usize = arg("--threads").map_or(8, |v| v.parse().unwrap());
    let r: usize = arg("--requests").map_or(200, |v| v.parse().unwrap());
    let client = build_client(&url, None, false, None);
    assert_eq!(client.post_json(BODY).unwrap().status, 200);
    let run = |per_thread: usize| {
        let barrier = Arc::new(Barrier::new(t));
        let handles: Vec<_> = (0..t)
            .map(|_| {
                let c = client.clone();
                let b = barrier.clone();
                std::thread::spawn(move || {
                    b.wait();
                    let mut lat = Vec::with_capacity(per_thread);
                    for _ in 0..per_thread {
                        let t0 = Instant::now();
                        assert_eq!(c.post_json(BODY).unwrap().status, 200);
                        lat.push(t0.elapsed().as_secs_f64() * 1e3);
                    }
                    lat
                })
            })
            .collect();
        let t0 = Instant::now();
        let lat: Vec<f64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        (lat, t0.elapsed())
    };
    // Warm-up runs of the same size until one opens no new connection (at most 3): the pool
    // grows to the concurrency the runs reach; the measured run then shows whether
    // connections churn (new connections while measuring).
    let mut warmup_connections = Vec::new();
    for _ in 0..3 {
        let before = stats(&stats_url)["connections"].as_u64().unwrap();
        run(r);
        let opened = stats(&stats_url)["connections"].as_u64().unwrap() - before;
        warmup_connections.push(opened);
        if opened == 0 {
            break;
        }
    }
    let base = stats(&stats_url);
    let (lat, wall) = run(r);
    let end = stats(&stats_url);
    let d = |k: &str| end[k].as_u64().unwrap() - base[k].as_u64().unwrap();
    let total = lat.len();
    println!(
        "{}",
        json!({
            "threads": t,
            "requests": total,
            "throughput_rps": total as f64 / wall.as_secs_f64(),
            "latency_ms": summary(lat),
            "new_connections": d("connections"),
            "warmup_new_connections": warmup_connections,
            "server_requests": d("requests"),
            "peak_rss_kib": peak_rss_kib(),
        })
    );
}

// ---- warm paths (in-process server) ---------------------------------------------------------

fn warm() {
    let n: usize = arg("--n").map_or(2000, |v| v.parse().unwrap());
    let server = DemoServer::start(DemoConfig::reference_benchmark()).expect("server");
    let url = server.mcp_url();
    let http = new_http();
    let client = build_client(&url, Some(http.clone()), false, None);
    assert_eq!(client.post_json(BODY).unwrap().status, 200);
    let token = client.current_token().unwrap().expect("token");
    let bearer = format!("Bearer {}", token.secret());

    // Authorized request through the client vs the same request with the header set by hand
    // on the same HttpClient (interleaved).
    let plain = || {
        let req = http::Request::post(url.as_str())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("authorization", bearer.as_str())
            .body(BODY.as_bytes().to_vec())
            .unwrap();
        assert_eq!(http.execute(req).unwrap().status(), 200);
    };
    let authed = || assert_eq!(client.post_json(BODY).unwrap().status, 200);
    for _ in 0..200 {
        plain();
        authed();
    }
    let (mut pv, mut av) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t = Instant::now();
        plain();
        pv.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        authed();
        av.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let (ps, as_) = (summary(pv), summary(av));
    let overhead = as_["median"].as_f64().unwrap() - ps["median"].as_f64().unwrap();

    // 64 threads share one client whose token has expired (client-side): one refresh.
    let mut cfg = DemoConfig::reference_benchmark();
    cfg.token_ttl_secs = 2;
    let s2 = DemoServer::start(cfg).expect("server");
    let c2 = build_client(&s2.mcp_url(), None, false, None);
    assert_eq!(c2.post_json(BODY).unwrap().status, 200);
    // expires_in 2 s (whole Unix seconds): after 2.1 s it is expired however the second
    // boundaries fall, both for the client's own check and for the server.
    std::thread::sleep(Duration::from_millis(2100));
    let before = s2.grant_count("refresh_token");
    let barrier = Arc::new(Barrier::new(64));
    let handles: Vec<_> = (0..64)
        .map(|_| {
            let c = c2.clone();
            let b = barrier.clone();
            std::thread::spawn(move || {
                b.wait();
                let t = Instant::now();
                let r = c.post_json(BODY).unwrap();
                assert_eq!(r.status, 200);
                t.elapsed().as_secs_f64() * 1e3
            })
        })
        .collect();
    let lat: Vec<f64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let refreshes = s2.grant_count("refresh_token") - before;
    println!(
        "{}",
        json!({
            "plain_request_us": ps,
            "authorized_request_us": as_,
            "overhead_us_median": overhead,
            "refresh_threads": 64,
            "refresh_requests": refreshes,
            "refresh_latency_ms": summary(lat),
        })
    );
}

// ---- C ABI per-call cost ---------------------------------------------------------------------

/// Median ns per call of `f` over 7 repeats of about 0.2 s each (after calibration).
fn time_ns(mut f: impl FnMut()) -> f64 {
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let dt = t.elapsed();
        if dt > Duration::from_millis(20) {
            n = (n as f64 * 0.2 / dt.as_secs_f64()).max(1.0) as u64;
            break;
        }
        n *= 2;
    }
    let mut v: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_secs_f64() * 1e9 / n as f64
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[3]
}

fn ffi() {
    use mcp_auth::{challenge, discovery, scope};
    use std::ffi::{CStr, CString, c_char};
    use std::hint::black_box;
    use std::ptr;
    let header = "Bearer error=\"insufficient_scope\", scope=\"files:read files:write\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"";
    let server = "https://mcp.example.com/mcp";
    let (ch, cs, cfield) = (
        CString::new(header).unwrap(),
        CString::new(server).unwrap(),
        CString::new("scope").unwrap(),
    );
    let (ca, cb) = (
        CString::new("files:read offline_access").unwrap(),
        CString::new("files:write files:read").unwrap(),
    );
    let free = |p: *mut c_char| {
        // SAFETY: a string the library returned.
        unsafe { mcpauth::mcpauth_string_free(p) }
    };
    let mut rows = Vec::new();
    let mut row = |name: &str, core: f64, c: f64| {
        rows.push(json!({"operation": name, "core_ns": core, "c_abi_ns": c, "added_ns": c - core}));
    };
    let core = time_ns(|| {
        black_box(challenge::extract_field_from_www_auth(
            Some(black_box(header)),
            "scope",
        ));
    });
    let c = time_ns(|| {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: valid C strings and out pointer.
        let st = unsafe {
            mcpauth::mcpauth_extract_field_from_www_auth(
                black_box(ch.as_ptr()),
                cfield.as_ptr(),
                &mut out,
            )
        };
        black_box(st);
        free(out);
    });
    row("extract_field_from_www_auth(scope)", core, c);
    let core = time_ns(|| {
        black_box(discovery::build_protected_resource_metadata_discovery_urls(
            None,
            black_box(server),
        ));
    });
    let c = time_ns(|| {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: valid C strings and out pointer.
        let st = unsafe {
            mcpauth::mcpauth_build_protected_resource_metadata_discovery_urls(
                ptr::null(),
                black_box(cs.as_ptr()),
                &mut out,
            )
        };
        black_box(st);
        free(out);
    });
    row(
        "build_protected_resource_metadata_discovery_urls (2, JSON out)",
        core,
        c,
    );
    let core = time_ns(|| {
        black_box(scope::union_scopes(
            Some(black_box("files:read offline_access")),
            Some("files:write files:read"),
        ));
    });
    let c = time_ns(|| {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: valid C strings and out pointer.
        let st =
            unsafe { mcpauth::mcpauth_union_scopes(black_box(ca.as_ptr()), cb.as_ptr(), &mut out) };
        black_box(st);
        free(out);
    });
    row("union_scopes", core, c);
    let c = time_ns(|| {
        // SAFETY: no arguments.
        black_box(unsafe { CStr::from_ptr(mcpauth::mcpauth_version()) });
    });
    row("mcpauth_version (no work: the boundary alone)", 0.0, c);
    println!("{}", json!({ "ffi": rows }));
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("server") => server(),
        Some("flows") => flows(),
        Some("once") => once(),
        Some("warm") => warm(),
        Some("ffi") => ffi(),
        Some("floor") => floor(),
        Some("threads") => threads(),
        Some("stores") => stores::stores(),
        _ => {
            eprintln!("usage: bench-flow server|flows|once|warm [options] (see the source)");
            std::process::exit(2);
        }
    }
}
