//! `bench-flow`: the loopback flow, warm-path and footprint benchmarks of mcp-auth, driven by
//! `bench/run.py` (`make bench`). Never part of `make test`.
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
//! ```
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

fn peak_rss_kib() -> i64 {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u.ru_maxrss
    }
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
        let client = build_client(&url, http, concurrent, cache.clone());
        let r = client.post_json(BODY).expect("flow");
        drop(client);
        let dt = t0.elapsed();
        assert_eq!(r.status, 200);
        if i >= 3 {
            walls.push(dt.as_secs_f64() * 1e3);
        }
    }
    let end = stats(&stats_url);
    let per = |k: &str| (end[k].as_u64().unwrap() - base[k].as_u64().unwrap()) as f64 / n as f64;
    println!(
        "{}",
        json!({
            "client": "mcp_auth (Rust core, Client)",
            "mode": mode,
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
        _ => {
            eprintln!("usage: bench-flow server|flows|once|warm [options] (see the source)");
            std::process::exit(2);
        }
    }
}
