//! `bench-flow stores`: the credential stores side by side (memory, file, Redis), against an
//! in-process demo server:
//!
//! - **authorized requests**: `--threads` threads share one authorized client (the store is not
//!   on this path: the token is in memory), and a fresh client per request (each loads the token
//!   from the store, as a new process does): throughput and p50/p99;
//! - **store operations**: `get_tokens` and `set_tokens`, median per call;
//! - **refresh under contention**: `N` clients (each with its own store handle, as `N` processes
//!   have) hold the same token when it expires (their clock jumps past its expiry) and send one
//!   request each, released by one barrier. The lease lets one refresh; the others wait, adopt
//!   the new pair from the store and send. Reported: the latency of those requests (p50, max: the
//!   last client served) and the refresh requests per expiry counted by the server (reuse
//!   detection on). The baseline is `N` threads sharing one client (the in-process single
//!   flight).
//!
//! ```text
//! bench-flow stores [--redis URL] [--threads T] [--requests R] [--contenders 8,32] [--expiries E]
//! ```
//! One JSON line. Without `--redis` the Redis rows are left out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcp_auth::storage::{FileStorage, MemoryStorage, RedisStorage, TokenStorage};
use mcp_auth::token::TokenEndpointAuthMethod;
use mcp_auth::{Client, PreRegisteredClient};
use mcp_auth_demo_server::{AuthMethod, DemoConfig, DemoServer, PreregisteredClient};
use serde_json::json;

use crate::{BODY, arg, summary};

const CLIENT_ID: &str = "bench-stores";
const SECRET: &str = "bench-stores-secret-0123456789";

/// A store kind and how to open a new handle on the shared backing store.
struct Kind {
    name: &'static str,
    open: Box<dyn Fn() -> Arc<dyn TokenStorage> + Send + Sync>,
}

fn kinds(tag: &str) -> Vec<Kind> {
    let dir = std::env::temp_dir().join(format!("bench-stores-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials.json");
    let memory: Arc<dyn TokenStorage> = Arc::new(MemoryStorage::new());
    let mut out = vec![
        Kind {
            name: "memory",
            open: Box::new(move || memory.clone()),
        },
        Kind {
            name: "file",
            open: Box::new(move || Arc::new(FileStorage::new(&path))),
        },
    ];
    if let Some(url) = arg("--redis") {
        let ns = format!("bench-{}-{tag}", std::process::id());
        out.push(Kind {
            name: "redis",
            open: Box::new(move || Arc::new(RedisStorage::new(&url, Some(&ns)).unwrap())),
        });
    }
    out
}

fn server(reuse_detection: bool) -> DemoServer {
    let s = DemoServer::start(DemoConfig {
        refresh_reuse_detection: reuse_detection,
        record_requests: false,
        ..DemoConfig::default()
    })
    .unwrap();
    s.register_client(PreregisteredClient::new(
        CLIENT_ID,
        Some(SECRET),
        AuthMethod::ClientSecretBasic,
    ));
    s
}

fn client(url: &str, store: Arc<dyn TokenStorage>, clock: Option<Arc<AtomicU64>>) -> Client {
    let mut b = Client::builder(url)
        .headless()
        .storage(store)
        .pre_registered(PreRegisteredClient::with_secret(
            CLIENT_ID,
            SECRET.to_owned(),
            TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .timeout(Duration::from_secs(60));
    if let Some(offset) = clock {
        b = b.clock(move || {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs();
            now + offset.load(Ordering::SeqCst)
        });
    }
    b.build().unwrap()
}

fn ok(c: &Client) {
    assert_eq!(c.post_json(BODY).unwrap().status, 200);
}

/// Run `work(i)` on `n` threads released by one barrier; the per-call latencies (ms) and the
/// wall time.
fn hammer(n: usize, work: impl Fn(usize) -> Vec<f64> + Send + Sync) -> (Vec<f64>, Duration) {
    let barrier = Barrier::new(n);
    let t0 = std::sync::Mutex::new(None);
    let lat = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, work, t0) = (&barrier, &work, &t0);
                s.spawn(move || {
                    if barrier.wait().is_leader() {
                        *t0.lock().unwrap() = Some(Instant::now());
                    }
                    work(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<Vec<f64>>()
    });
    let wall = t0.lock().unwrap().map_or(Duration::ZERO, |t| t.elapsed());
    (lat, wall)
}

fn timed(f: impl FnOnce()) -> f64 {
    let t0 = Instant::now();
    f();
    t0.elapsed().as_secs_f64() * 1e3
}

fn throughput(threads: usize, requests: usize) -> serde_json::Value {
    let mut rows = serde_json::Map::new();
    for kind in kinds("tp") {
        let srv = server(false);
        let url = srv.mcp_url();
        let shared = client(&url, (kind.open)(), None);
        ok(&shared); // the one authorization
        let per = (requests / threads).max(1);
        // Warm-up (connection pool), then the measured run.
        hammer(threads, |_| {
            (0..per.min(50)).map(|_| timed(|| ok(&shared))).collect()
        });
        let (lat, wall) = hammer(threads, |_| {
            (0..per).map(|_| timed(|| ok(&shared))).collect()
        });
        let warm_rps = lat.len() as f64 / wall.as_secs_f64();
        let warm = summary(lat);
        // A fresh client per request: each loads the token from the store.
        let fresh_per = (per / 4).max(1);
        let (lat, wall) = hammer(threads, |_| {
            (0..fresh_per)
                .map(|_| timed(|| ok(&client(&url, (kind.open)(), None))))
                .collect()
        });
        let fresh_rps = lat.len() as f64 / wall.as_secs_f64();
        let fresh = summary(lat);
        // Store operations, single-threaded.
        let store = (kind.open)();
        let key = shared.resource_key().to_owned();
        let token = store.get_tokens(&key).unwrap().expect("stored");
        let n = 500;
        let mut get: Vec<f64> = (0..n)
            .map(|_| timed(|| drop(store.get_tokens(&key).unwrap())) * 1e3)
            .collect();
        let mut set: Vec<f64> = (0..n / 5)
            .map(|_| timed(|| store.set_tokens(&key, &token).unwrap()) * 1e3)
            .collect();
        get.sort_by(f64::total_cmp);
        set.sort_by(f64::total_cmp);
        assert_eq!(
            srv.grant_count("authorization_code"),
            1,
            "one authorization"
        );
        rows.insert(
            kind.name.to_owned(),
            json!({
                "shared_client": {"throughput_rps": warm_rps, "latency_ms": warm},
                "fresh_client_per_request": {"throughput_rps": fresh_rps, "latency_ms": fresh},
                "get_tokens_us": get[get.len() / 2],
                "set_tokens_us": set[set.len() / 2],
            }),
        );
    }
    json!({"threads": threads, "requests": requests, "stores": rows})
}

/// `n` clients (own store handles) or `n` threads of one client (`shared`) on one expiry, for
/// `expiries` rounds.
fn contention(kind: &Kind, n: usize, expiries: usize, shared: bool) -> serde_json::Value {
    let srv = server(true);
    let url = srv.mcp_url();
    let offset = Arc::new(AtomicU64::new(0));
    let clients: Vec<Client> = if shared {
        vec![client(&url, (kind.open)(), Some(offset.clone()))]
    } else {
        (0..n)
            .map(|_| client(&url, (kind.open)(), Some(offset.clone())))
            .collect()
    };
    // The first authorizes; the others load the stored token (and discover, on their 401-free
    // first request nothing is discovered: a valid token is sent as is).
    for c in &clients {
        ok(c);
    }
    let mut lat = Vec::new();
    let mut last = Vec::new();
    let before = srv.refresh_counters();
    let refresh_requests = srv.grant_count("refresh_token");
    for _ in 0..expiries {
        // Every client's token is now past its expiry (tokens live 3600 s).
        offset.fetch_add(4000, Ordering::SeqCst);
        let (l, _) = hammer(n, |i| {
            let c = &clients[if shared { 0 } else { i }];
            vec![timed(|| ok(c))]
        });
        last.push(l.iter().copied().fold(0.0, f64::max));
        lat.extend(l);
    }
    let after = srv.refresh_counters();
    assert_eq!(after.reuse_detections, before.reuse_detections, "no reuse");
    let sent = srv.grant_count("refresh_token") - refresh_requests;
    json!({
        "store": kind.name,
        "contenders": n,
        "one_client": shared,
        "expiries": expiries,
        "refresh_requests_per_expiry": sent as f64 / expiries as f64,
        "latency_ms": summary(lat),
        "last_served_ms": summary(last),
        "reuse_detections": after.reuse_detections - before.reuse_detections,
    })
}

pub(crate) fn stores() {
    let threads: usize = arg("--threads").map_or(8, |v| v.parse().unwrap());
    let requests: usize = arg("--requests").map_or(4000, |v| v.parse().unwrap());
    let expiries: usize = arg("--expiries").map_or(10, |v| v.parse().unwrap());
    let contenders: Vec<usize> = arg("--contenders")
        .unwrap_or_else(|| "8,32".to_owned())
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let tp = throughput(threads, requests);
    let mut rows = Vec::new();
    for &n in &contenders {
        for (i, kind) in kinds(&format!("c{n}")).iter().enumerate() {
            if i == 0 {
                // Memory: one client, n threads (the in-process single flight).
                rows.push(contention(kind, n, expiries, true));
            } else {
                rows.push(contention(kind, n, expiries, false));
            }
        }
    }
    println!(
        "{}",
        json!({"throughput": tp, "contention": rows, "peak_rss_kib": crate::peak_rss_kib()})
    );
}
