//! Concurrent discovery probes (`ClientConfig::concurrent_discovery`) and the metadata cache
//! (`ClientConfig::cache_metadata`, `mcp_auth::cache`): the result keeps the spec's priority
//! order, the default never requests a URL the spec forbids, and a warm cache sends no
//! discovery request while honouring `max-age=0` / `no-store`.
//!
//! Timing is used only to force an order of arrival (a slow first candidate); no test asserts
//! a wall time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_auth::cache::MetadataCache;
use mcp_auth::http::{HttpClient, HttpConfig, UreqHttpClient};
use mcp_auth::{Client, ErrorKind};
use mcp_auth_demo_server::{DemoConfig, DemoServer};

const SERVER: &str = "https://mcp.example.com/mcp";
const PRM_PATH: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const PRM_ROOT: &str = "https://mcp.example.com/.well-known/oauth-protected-resource";

#[derive(Clone)]
struct Route {
    delay: Duration,
    status: u16,
    body: String,
    cache_control: Option<String>,
}

fn ok(body: String) -> Route {
    Route {
        delay: Duration::ZERO,
        status: 200,
        body,
        cache_control: None,
    }
}

fn slow(mut r: Route, ms: u64) -> Route {
    r.delay = Duration::from_millis(ms);
    r
}

fn status(code: u16) -> Route {
    Route {
        delay: Duration::ZERO,
        status: code,
        body: String::new(),
        cache_control: None,
    }
}

fn prm(issuer: &str) -> String {
    format!(r#"{{"resource":"{SERVER}","authorization_servers":["{issuer}"]}}"#)
}

fn asm(issuer: &str) -> String {
    format!(
        r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}/authorize","token_endpoint":"{issuer}/token","response_types_supported":["code"],"code_challenge_methods_supported":["S256"]}}"#
    )
}

/// An in-process fake of the MCP server and its authorization servers: routes by exact URL,
/// everything else 404; the MCP POST answers 401 with `challenge`. Records `start URL` and
/// `end URL` events in order.
struct Fake {
    routes: HashMap<String, Route>,
    challenge: String,
    log: Mutex<Vec<String>>,
}

impl Fake {
    fn new(challenge: &str, routes: Vec<(&str, Route)>) -> Arc<Fake> {
        Arc::new(Fake {
            routes: routes.into_iter().map(|(u, r)| (u.to_owned(), r)).collect(),
            challenge: challenge.to_owned(),
            log: Mutex::new(Vec::new()),
        })
    }

    fn events(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The GETs, in the order they started.
    fn gets(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter_map(|e| e.strip_prefix("start GET ").map(str::to_owned))
            .collect()
    }

    fn position(&self, event: &str) -> usize {
        self.events()
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("no event {event}: {:?}", self.events()))
    }
}

impl HttpClient for Fake {
    fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> mcp_auth::Result<http::Response<Vec<u8>>> {
        let url = request.uri().to_string();
        let method = request.method().as_str().to_owned();
        self.log
            .lock()
            .unwrap()
            .push(format!("start {method} {url}"));
        let response = if method == "POST" && url == SERVER {
            http::Response::builder()
                .status(401)
                .header("www-authenticate", self.challenge.as_str())
                .body(Vec::new())
                .unwrap()
        } else {
            let route = self
                .routes
                .get(&url)
                .cloned()
                .unwrap_or_else(|| status(404));
            std::thread::sleep(route.delay);
            let mut b = http::Response::builder()
                .status(route.status)
                .header("content-type", "application/json");
            if let Some(cc) = &route.cache_control {
                b = b.header("cache-control", cc.as_str());
            }
            b.body(route.body.into_bytes()).unwrap()
        };
        self.log.lock().unwrap().push(format!("end {method} {url}"));
        Ok(response)
    }
}

fn client(fake: &Arc<Fake>, concurrent: bool) -> Client {
    Client::builder(SERVER)
        .headless()
        .http_client(fake.clone())
        .concurrent_discovery(concurrent)
        .build()
        .unwrap()
}

#[test]
fn defaults_are_sequential_and_uncached() {
    let c = Client::builder(SERVER).headless().build().unwrap();
    assert!(!c.config().concurrent_discovery);
    assert!(!c.config().cache_metadata);
}

#[test]
fn concurrent_prm_probes_keep_the_path_suffixed_result_first() {
    // The path-suffixed PRM (priority 1) is slow and names AS A; the root one (priority 2)
    // answers at once and names AS B: the result must be the path-suffixed one.
    let a = "https://a.example.com";
    let b = "https://b.example.com";
    let fake = Fake::new(
        r#"Bearer realm="mcp""#,
        vec![
            (PRM_PATH, slow(ok(prm(a)), 150)),
            (PRM_ROOT, ok(prm(b))),
            (
                "https://a.example.com/.well-known/oauth-authorization-server",
                ok(asm(a)),
            ),
            (
                "https://b.example.com/.well-known/oauth-authorization-server",
                ok(asm(b)),
            ),
        ],
    );
    let d = client(&fake, true).discover().unwrap();
    assert_eq!(d.protected_resource_url.as_deref(), Some(PRM_PATH));
    assert_eq!(d.authorization_server.as_deref(), Some(a));
    assert_eq!(d.issuer, a);
    // Both candidates were in flight together: the root one started before the slow
    // path-suffixed one ended.
    assert!(
        fake.position(&format!("start GET {PRM_ROOT}"))
            < fake.position(&format!("end GET {PRM_PATH}"))
    );
    // Nothing outside the candidate lists, and nothing at AS B.
    for u in fake.gets() {
        assert!(!u.starts_with(b), "requested {u}");
    }
}

#[test]
fn concurrent_as_probes_keep_rfc8414_first_and_never_touch_the_root_for_a_path_issuer() {
    let issuer = "https://auth.example.com/tenant1";
    let oauth = "https://auth.example.com/.well-known/oauth-authorization-server/tenant1";
    let oidc_insert = "https://auth.example.com/.well-known/openid-configuration/tenant1";
    let oidc_append = "https://auth.example.com/tenant1/.well-known/openid-configuration";
    let mut slow_first = asm(issuer);
    slow_first = slow_first.replace("/authorize", "/authorize-rfc8414");
    let fake = Fake::new(
        r#"Bearer realm="mcp""#,
        vec![
            (PRM_PATH, ok(prm(issuer))),
            (oauth, slow(ok(slow_first), 150)),
            (oidc_insert, ok(asm(issuer))),
            (oidc_append, ok(asm(issuer))),
            // Traps: the root AS URLs must never be requested for an issuer with a path.
            (
                "https://auth.example.com/.well-known/oauth-authorization-server",
                ok(asm(issuer)),
            ),
            (
                "https://auth.example.com/.well-known/openid-configuration",
                ok(asm(issuer)),
            ),
        ],
    );
    let d = client(&fake, true).discover().unwrap();
    assert_eq!(d.metadata_url.as_deref(), Some(oauth));
    assert_eq!(
        d.authorization_endpoint,
        format!("{issuer}/authorize-rfc8414")
    );
    let gets = fake.gets();
    for trap in [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration",
    ] {
        assert!(
            !gets.iter().any(|u| u == trap),
            "requested the trap {trap}: {gets:?}"
        );
    }
    // All three candidates were probed together.
    assert!(
        fake.position(&format!("start GET {oidc_append}"))
            < fake.position(&format!("end GET {oauth}"))
    );
}

#[test]
fn concurrent_as_probes_still_stop_at_a_server_error_in_priority_order() {
    // RFC 8414 answers 500 (slowly) and OIDC 200: the sequential rule (a 5xx stops metadata
    // discovery) must hold even though the OIDC answer arrived first.
    let issuer = "https://auth.example.com";
    let fake = Fake::new(
        r#"Bearer realm="mcp""#,
        vec![
            (PRM_PATH, ok(prm(issuer))),
            (
                "https://auth.example.com/.well-known/oauth-authorization-server",
                slow(status(500), 100),
            ),
            (
                "https://auth.example.com/.well-known/openid-configuration",
                ok(asm(issuer)),
            ),
        ],
    );
    let sequential = client(&fake, false).discover().unwrap_err();
    let concurrent = client(&fake, true).discover().unwrap_err();
    assert_eq!(sequential.kind(), ErrorKind::Discovery);
    assert_eq!(concurrent.kind(), sequential.kind());
    assert_eq!(concurrent.to_string(), sequential.to_string());
}

#[test]
fn a_resource_metadata_url_is_fetched_alone_even_with_concurrent_probes() {
    let header = "https://mcp.example.com/custom/prm";
    let issuer = "https://auth.example.com";
    let challenge = format!(r#"Bearer resource_metadata="{header}""#);
    for concurrent in [false, true] {
        // Served: nothing else of the PRM chain is requested, before or alongside.
        let fake = Fake::new(
            &challenge,
            vec![
                (header, slow(ok(prm(issuer)), 50)),
                (PRM_PATH, ok(prm("https://trap.example.com"))),
                (PRM_ROOT, ok(prm("https://trap.example.com"))),
                (
                    "https://auth.example.com/.well-known/oauth-authorization-server",
                    ok(asm(issuer)),
                ),
            ],
        );
        let d = client(&fake, concurrent).discover().unwrap();
        assert_eq!(d.protected_resource_url.as_deref(), Some(header));
        let prm_gets: Vec<String> = fake
            .gets()
            .into_iter()
            .filter(|u| u.starts_with("https://mcp.example.com/"))
            .collect();
        assert_eq!(prm_gets, [header], "concurrent={concurrent}");

        // Not served: the SEP-985 fallbacks start only after the header URL's answer.
        let fake = Fake::new(
            &challenge,
            vec![
                (header, slow(status(404), 50)),
                (PRM_ROOT, ok(prm(issuer))),
                (
                    "https://auth.example.com/.well-known/oauth-authorization-server",
                    ok(asm(issuer)),
                ),
            ],
        );
        let d = client(&fake, concurrent).discover().unwrap();
        assert_eq!(d.protected_resource_url.as_deref(), Some(PRM_ROOT));
        let header_end = fake.position(&format!("end GET {header}"));
        assert!(header_end < fake.position(&format!("start GET {PRM_PATH}")));
        assert!(header_end < fake.position(&format!("start GET {PRM_ROOT}")));
    }
}

#[test]
fn the_default_never_requests_a_root_as_url_for_a_path_issuer() {
    let issuer = "https://auth.example.com/tenant1";
    let fake = Fake::new(
        r#"Bearer realm="mcp""#,
        vec![
            (PRM_PATH, ok(prm(issuer))),
            (
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
                ok(asm(issuer)),
            ),
            (
                "https://auth.example.com/.well-known/oauth-authorization-server",
                ok(asm(issuer)),
            ),
            (
                "https://auth.example.com/.well-known/openid-configuration",
                ok(asm(issuer)),
            ),
        ],
    );
    let d = Client::builder(SERVER)
        .headless()
        .http_client(fake.clone())
        .build()
        .unwrap()
        .discover()
        .unwrap();
    assert_eq!(
        d.metadata_url.as_deref(),
        Some("https://auth.example.com/tenant1/.well-known/openid-configuration")
    );
    assert_eq!(
        fake.gets(),
        [
            PRM_PATH,
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
            "https://auth.example.com/tenant1/.well-known/openid-configuration",
        ]
    );
}

// ---- the metadata cache ---------------------------------------------------------------------

fn cached_fake(cache_control: &str) -> Arc<Fake> {
    let issuer = "https://auth.example.com";
    let cc = |mut r: Route| {
        r.cache_control = Some(cache_control.to_owned());
        r
    };
    Fake::new(
        r#"Bearer realm="mcp""#,
        vec![
            (PRM_ROOT, cc(ok(prm(issuer)))),
            (
                "https://auth.example.com/.well-known/openid-configuration",
                cc(ok(asm(issuer))),
            ),
        ],
    )
}

fn discovery_gets(fake: &Arc<Fake>, cache: &Arc<MetadataCache>) -> usize {
    let before = fake.gets().len();
    let d = Client::builder(SERVER)
        .headless()
        .http_client(fake.clone())
        .metadata_cache(cache.clone())
        .build()
        .unwrap()
        .discover()
        .unwrap();
    assert_eq!(d.protected_resource_url.as_deref(), Some(PRM_ROOT));
    assert_eq!(
        d.metadata_url.as_deref(),
        Some("https://auth.example.com/.well-known/openid-configuration")
    );
    fake.gets().len() - before
}

#[test]
fn a_warm_cache_sends_no_discovery_request() {
    let fake = cached_fake("public, max-age=300");
    let cache = Arc::new(MetadataCache::new());
    // Cold: PRM path 404, PRM root 200, RFC 8414 404, OIDC 200.
    assert_eq!(discovery_gets(&fake, &cache), 4);
    // Warm, with a new client: nothing.
    assert_eq!(discovery_gets(&fake, &cache), 0);
    assert_eq!(cache.len(), 2);
}

#[test]
fn max_age_zero_no_store_and_no_cache_are_honoured() {
    for cc in ["max-age=0", "no-store", "no-cache", "max-age=300, no-store"] {
        let fake = cached_fake(cc);
        let cache = Arc::new(MetadataCache::new());
        assert_eq!(discovery_gets(&fake, &cache), 4, "{cc}");
        assert_eq!(discovery_gets(&fake, &cache), 4, "{cc}");
        assert!(cache.is_empty(), "{cc}");
    }
    // No Cache-Control at all: not cached unless a default lifetime is configured.
    let fake = cached_fake("public");
    let cache = Arc::new(MetadataCache::new());
    assert_eq!(discovery_gets(&fake, &cache), 4);
    assert_eq!(discovery_gets(&fake, &cache), 4);
    let cache = Arc::new(MetadataCache::new().with_default_ttl(Duration::from_secs(60)));
    assert_eq!(discovery_gets(&fake, &cache), 4);
    assert_eq!(discovery_gets(&fake, &cache), 0);
}

/// The real flow against the loopback demo server (reference-benchmark topology), with
/// `Cache-Control: max-age=300` added to its metadata answers: the second cold flow (a new
/// client, new token storage) sends no discovery request at all.
struct WithCacheControl(UreqHttpClient);

impl HttpClient for WithCacheControl {
    fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> mcp_auth::Result<http::Response<Vec<u8>>> {
        let well_known = request.uri().path().contains("/.well-known/");
        let mut response = self.0.execute(request)?;
        if well_known && response.status() == 200 {
            response
                .headers_mut()
                .insert("cache-control", "max-age=300".parse().unwrap());
        }
        Ok(response)
    }
}

#[test]
fn a_warm_second_flow_sends_zero_discovery_requests() {
    let server = DemoServer::start(DemoConfig::reference_benchmark()).unwrap();
    let http: Arc<dyn HttpClient> =
        Arc::new(WithCacheControl(UreqHttpClient::new(HttpConfig::default())));
    let cache = Arc::new(MetadataCache::new());
    let flow = || {
        let c = Client::builder(&server.mcp_url())
            .headless()
            .http_client(http.clone())
            .metadata_cache(cache.clone())
            .build()
            .unwrap();
        let r = c
            .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#)
            .unwrap();
        assert_eq!(r.status, 200);
    };
    let well_known = |s: &DemoServer| {
        s.request_lines()
            .iter()
            .filter(|l| l.contains("/.well-known/"))
            .count()
    };
    flow();
    assert_eq!(well_known(&server), 4, "{:?}", server.request_lines());
    server.clear_requests();
    flow();
    assert_eq!(well_known(&server), 0, "{:?}", server.request_lines());
    // The rest of the flow still ran: 401, DCR, authorize, token, retry.
    assert!(server.count("/token") >= 2);
}
