//! The proof in a real browser: headless Chromium loads a page from one loopback origin whose
//! script calls `fetch()` through the example proxy (other origins) to the demo MCP server, and
//! posts back `response.status` and `response.headers.get('WWW-Authenticate')`.
//!
//! Asserted: with bridging, the page reads the exact upstream challenge for a 401 (no token)
//! and for a 403 `insufficient_scope` (a token lacking `mcp:write`), RFC 9110 §11.6.1 and
//! RFC 6750 §3; also through the `resource_metadata` rewrite, where the page then fetches the
//! protected resource metadata from the proxy (RFC 9728 §5.1) although the upstream origin is
//! unreadable; and through the gateway's error path (`Client::send` returning
//! `Error::Unauthorized`). As controls, with bridging disabled (no
//! `Access-Control-Expose-Headers`, or `WWW-Authenticate` dropped) the page reads `null` while
//! the status still arrives; and the upstream, which sends no CORS headers, cannot be read at
//! all.
//!
//! The same page, from its own origin, then runs a whole authorization against a second demo
//! server with CORS on, as a browser-based MCP client would: the 401 challenge, discovery
//! (RFC 9728 protected resource metadata, RFC 8414 authorization server metadata), dynamic
//! client registration (RFC 7591, behind a CORS preflight), the authorization request in an
//! iframe (PKCE S256, RFC 7636) redirected back to the page's origin, the token request
//! (RFC 6749 §4.1.3) and the authorized MCP call. Each step is asserted from the demo server's
//! side too: its request log shows each request arriving from the browser (the page's
//! `Origin`, the preflights, the iframe navigation).
//!
//! Needs Chromium, so it runs only with `MCP_AUTH_BROWSER_TEST=1`: `make test-browser` (part of
//! `make test`) installs Debian's `chromium` when missing and sets it. `MCP_AUTH_CHROMIUM`
//! names another binary. Every wait is bounded and the browser's whole process group is killed
//! at the end, whatever happens.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{TestRequest, TestResponse, TestServer};

use mcp_auth::http::{HttpClient, UreqHttpClient};
use mcp_auth::secret::AccessToken;
use mcp_auth_bridge::{CorsPolicy, rewrite_resource_metadata};
use mcp_auth_demo_server::{DemoConfig, DemoServer};
use mcp_auth_proxy::{Mode, Proxy, ProxyConfig};
use serde_json::{Value, json};

/// How long the page gets to run every case and report.
const PAGE_DEADLINE: Duration = Duration::from_secs(120);
/// How long one `fetch()` may take in the page before it is aborted.
const FETCH_TIMEOUT_MS: u64 = 15_000;

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"browser-test","version":"1"}}}"#;
const TOOLS_CALL: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#;

/// The page: runs every case of the embedded configuration in order, posting each result to
/// `/result` and then `/done`.
const PAGE_SCRIPT: &str = r#"
const cfg = JSON.parse(document.getElementById('cfg').textContent);
async function timed(url, init) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), cfg.fetch_timeout_ms);
  try { return await fetch(url, Object.assign({signal: ctl.signal}, init)); }
  finally { clearTimeout(timer); }
}
async function runCase(c) {
  const out = {name: c.name, status: null, www_authenticate: null, error: null};
  try {
    const headers = {'Content-Type': 'application/json',
                     'Accept': 'application/json, text/event-stream'};
    if (c.token) headers['Authorization'] = 'Bearer ' + c.token;
    const r = c.method === 'GET'
      ? await timed(c.url, {})
      : await timed(c.url, {method: 'POST', headers, body: c.body});
    out.status = r.status;
    out.www_authenticate = r.headers.get('WWW-Authenticate');
    await r.text();
    if (c.follow_prm && out.www_authenticate) {
      const m = /resource_metadata="([^"]*)"/.exec(out.www_authenticate);
      out.prm_url = m ? m[1] : null;
      if (out.prm_url) {
        const p = await timed(out.prm_url, {});
        out.prm_status = p.status;
        out.prm = await p.json();
      }
    }
  } catch (e) {
    out.error = String(e);
  }
  return out;
}
function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
function randomString() {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}
// The authorization request in an iframe; the server redirects it to the page's /callback,
// which posts its query string back here.
function authorizeInFrame(url) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no callback')), cfg.fetch_timeout_ms);
    window.addEventListener('message', function onMessage(ev) {
      if (ev.origin !== location.origin) return;
      window.removeEventListener('message', onMessage);
      clearTimeout(timer);
      resolve(new URLSearchParams(ev.data.search));
    });
    const frame = document.createElement('iframe');
    frame.src = url;
    document.body.appendChild(frame);
  });
}
// A browser-based MCP client's whole authorization, step by step; every step's outcome is
// reported, the first failure ends it.
async function oauthFlow(o) {
  const out = {name: 'oauth', steps: {}, error: null};
  const json = {'Content-Type': 'application/json', 'Accept': 'application/json, text/event-stream'};
  try {
    // 1. The challenge.
    let r = await timed(o.mcp_url, {method: 'POST', headers: json, body: o.initialize});
    const challenge = r.headers.get('WWW-Authenticate');
    await r.text();
    out.steps.challenge = {status: r.status, www_authenticate: challenge};
    const prmUrl = /resource_metadata="([^"]*)"/.exec(challenge || '')[1];
    // 2. Protected resource metadata (RFC 9728).
    r = await timed(prmUrl, {});
    const prm = await r.json();
    out.steps.prm = {status: r.status, url: prmUrl, resource: prm.resource};
    // 3. Authorization server metadata (RFC 8414 §3.1: path insertion).
    const issuer = new URL(prm.authorization_servers[0]);
    const path = issuer.pathname === '/' ? '' : issuer.pathname;
    const asUrl = issuer.origin + '/.well-known/oauth-authorization-server' + path;
    r = await timed(asUrl, {});
    const as = await r.json();
    out.steps.as_metadata = {status: r.status, url: asUrl, issuer: as.issuer};
    // 4. Dynamic client registration (RFC 7591): JSON, so a preflight first.
    r = await timed(as.registration_endpoint, {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({client_name: 'browser-test', redirect_uris: [o.redirect_uri],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        token_endpoint_auth_method: 'none'})});
    const client = await r.json();
    out.steps.register = {status: r.status, client_id: client.client_id};
    // 5. Authorization (PKCE S256, state, resource).
    const verifier = randomString();
    const challengeS256 = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const state = randomString();
    const auth = new URL(as.authorization_endpoint);
    const q = {response_type: 'code', client_id: client.client_id, redirect_uri: o.redirect_uri,
      code_challenge: challengeS256, code_challenge_method: 'S256', state: state,
      resource: prm.resource, scope: o.scope};
    for (const k in q) auth.searchParams.set(k, q[k]);
    const cb = await authorizeInFrame(auth.toString());
    out.steps.authorize = {state_ok: cb.get('state') === state, has_code: !!cb.get('code'),
      iss: cb.get('iss'), error: cb.get('error'), client_id: client.client_id, state: state};
    // 6. The token request: a form, so a simple request (no preflight), read through CORS.
    r = await timed(as.token_endpoint, {method: 'POST',
      headers: {'Content-Type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'authorization_code', code: cb.get('code'),
        redirect_uri: o.redirect_uri, client_id: client.client_id, code_verifier: verifier,
        resource: prm.resource}).toString()});
    const token = await r.json();
    out.steps.token = {status: r.status, token_type: token.token_type,
      has_access_token: !!token.access_token, scope: token.scope};
    // 7. The authorized MCP call.
    r = await timed(o.mcp_url, {method: 'POST',
      headers: Object.assign({'Authorization': 'Bearer ' + token.access_token}, json),
      body: o.tools_call});
    const reply = await r.json();
    out.steps.mcp = {status: r.status, text: reply.result && reply.result.content[0].text};
  } catch (e) {
    out.error = String(e);
  }
  return out;
}
(async () => {
  for (const c of cfg.cases) {
    const result = await runCase(c);
    await fetch('/result', {method: 'POST', body: JSON.stringify(result)});
  }
  if (cfg.oauth) {
    const result = await oauthFlow(cfg.oauth);
    await fetch('/result', {method: 'POST', body: JSON.stringify(result)});
  }
  await fetch('/done', {method: 'POST', body: 'done'});
})();
"#;

/// The OAuth redirect target on the page's origin: hands the query string to the page.
const CALLBACK_HTML: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\
    <script>parent.postMessage({search: location.search}, location.origin);</script></body></html>";

#[derive(Default)]
struct Reports {
    results: Vec<Value>,
    done: bool,
}

/// The page's origin: serves the page and the OAuth callback, and collects the results.
struct PageServer {
    server: TestServer,
    reports: Arc<(Mutex<Reports>, Condvar)>,
}

impl PageServer {
    /// Serve the page held in `page`, read at request time, so the page can name the proxies'
    /// URLs although the proxies need the page's origin first.
    fn start(page: Arc<Mutex<String>>) -> PageServer {
        let reports: Arc<(Mutex<Reports>, Condvar)> = Arc::default();
        let r2 = Arc::clone(&reports);
        let server = TestServer::start(move |req| {
            let page = page.lock().unwrap_or_else(|e| e.into_inner()).clone();
            serve_page_request(&req, &page, &r2)
        });
        PageServer { server, reports }
    }

    fn origin(&self) -> String {
        self.server.origin()
    }

    /// Wait until the page says it is done, at most `deadline`; the results so far either way.
    fn wait(&self, deadline: Duration) -> (bool, Vec<Value>) {
        let (lock, cv) = &*self.reports;
        let end = Instant::now() + deadline;
        let mut r = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !r.done {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            r = cv
                .wait_timeout(r, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        (r.done, r.results.clone())
    }
}

fn serve_page_request(
    req: &TestRequest,
    page: &str,
    reports: &(Mutex<Reports>, Condvar),
) -> TestResponse {
    let (status, content_type, body): (u16, &str, Vec<u8>) =
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/") => (200, "text/html; charset=utf-8", page.as_bytes().to_vec()),
            ("GET", "/callback") => (
                200,
                "text/html; charset=utf-8",
                CALLBACK_HTML.as_bytes().to_vec(),
            ),
            ("POST", "/result") => {
                let value = serde_json::from_slice(&req.body)
                    .unwrap_or_else(|_| json!({"unparsable": String::from_utf8_lossy(&req.body)}));
                let (lock, cv) = reports;
                lock.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .results
                    .push(value);
                cv.notify_all();
                (204, "text/plain", Vec::new())
            }
            ("POST", "/done") => {
                let (lock, cv) = reports;
                lock.lock().unwrap_or_else(|e| e.into_inner()).done = true;
                cv.notify_all();
                (204, "text/plain", Vec::new())
            }
            _ => (404, "text/plain", b"not found".to_vec()),
        };
    TestResponse::new(
        status,
        &[
            ("Content-Type", content_type),
            ("Cache-Control", "no-store"),
        ],
        body,
    )
}

/// A running Chromium, its whole process group killed on drop.
struct Browser {
    child: Child,
    profile: PathBuf,
    log: PathBuf,
}

fn signal_group(pgid: i32, signal: i32) -> bool {
    // SAFETY: kill(2) with a negative pid signals the process group we created with
    // `process_group(0)` for this child (its pgid is its pid); it touches no memory.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

impl Browser {
    fn launch(binary: &Path, url: &str) -> Browser {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let profile =
            std::env::temp_dir().join(format!("mcp-auth-browser-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&profile).unwrap();
        let log = profile.with_extension("log");
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-quic",
                "--disable-dev-shm-usage",
                "--disable-extensions",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Browser {
            child,
            profile,
            log,
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let Ok(pgid) = i32::try_from(self.child.id()) else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        };
        signal_group(pgid, libc::SIGTERM);
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end && matches!(self.child.try_wait(), Ok(None)) {
            thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (renderers, zygotes) goes now.
        signal_group(pgid, libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end && signal_group(pgid, 0) {
            thread::sleep(Duration::from_millis(50));
        }
        let _ = std::fs::remove_dir_all(&self.profile);
        let _ = std::fs::remove_file(&self.log);
    }
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MCP_AUTH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The `WWW-Authenticate` value the upstream itself sends for this request (no browser).
fn upstream_challenge(server: &DemoServer, token: Option<&str>, body: &str) -> (u16, String) {
    let mut b = http::Request::post(server.mcp_url()).header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let r = UreqHttpClient::default()
        .execute(b.body(body.as_bytes().to_vec()).unwrap())
        .unwrap();
    let values: Vec<String> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    // What fetch's Headers.get() gives for several lines: the values joined with ", ".
    (r.status().as_u16(), values.join(", "))
}

fn page_html(config: &Value) -> String {
    // `<` escaped so that no value can close the script element.
    let cfg = config.to_string().replace('<', "\\u003c");
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>mcp-auth bridge</title></head>\
         <body><script type=\"application/json\" id=\"cfg\">{cfg}</script>\
         <script>{PAGE_SCRIPT}</script></body></html>"
    )
}

#[test]
fn a_browser_reads_the_bridged_challenge_and_not_the_unbridged_one() {
    if std::env::var("MCP_AUTH_BROWSER_TEST").as_deref() != Ok("1") {
        eprintln!("browser test skipped: run `make test-browser` (sets MCP_AUTH_BROWSER_TEST=1)");
        return;
    }
    let chromium = find_chromium()
        .expect("MCP_AUTH_BROWSER_TEST=1 but no chromium found: `make test-browser` installs it");

    // The upstream sends no CORS headers: a page can read it only through the proxy.
    let upstream = DemoServer::start(DemoConfig {
        cors: false,
        ..DemoConfig::default()
    })
    .unwrap();
    let read_only = upstream.issue_token("browser-test", "mcp:read");
    let bogus = "mcpat_never-issued";

    // The proxies' CORS policy needs the page's origin, and the page names the proxies: the
    // page server starts first and the page is filled in before the browser asks for it.
    let page_cell: Arc<Mutex<String>> = Arc::default();
    let page_server = PageServer::start(Arc::clone(&page_cell));
    let page_origin = page_server.origin();

    let start = |f: &dyn Fn(&mut ProxyConfig)| {
        let mut c = ProxyConfig::new(upstream.mcp_url());
        c.cors = CorsPolicy::origins([page_origin.clone()]);
        c.timeout = Duration::from_secs(10);
        f(&mut c);
        Proxy::start(c).unwrap()
    };
    let bridge = start(&|_| {});
    let rewrite = start(&|c| c.rewrite_resource_metadata = true);
    let no_expose = start(&|c| c.mode = Mode::NoExpose);
    let strip = start(&|c| c.mode = Mode::Strip);
    let gateway = start(&|c| c.upstream_token = Some(AccessToken::new(read_only.clone())));
    let gateway_bogus = start(&|c| c.upstream_token = Some(AccessToken::new(bogus)));
    for p in [
        &bridge,
        &rewrite,
        &no_expose,
        &strip,
        &gateway,
        &gateway_bogus,
    ] {
        assert_ne!(p.origin(), page_origin, "the page must be cross-origin");
    }

    // The authorization server and MCP server a browser-based client talks to directly: the
    // demo server with its CORS headers on.
    let cors_server = DemoServer::start(DemoConfig::default()).unwrap();
    assert!(cors_server.config().cors);

    let (s401, expected_401) = upstream_challenge(&upstream, None, INITIALIZE);
    let (s403, expected_403) = upstream_challenge(&upstream, Some(&read_only), TOOLS_CALL);
    let (sbogus, expected_bogus) = upstream_challenge(&upstream, Some(bogus), TOOLS_CALL);
    assert_eq!((s401, s403, sbogus), (401, 403, 401));
    assert!(expected_401.contains("resource_metadata=") && expected_401.contains("scope="));
    assert!(expected_403.contains("insufficient_scope"));
    let prm_url = rewrite.prm_url().unwrap();
    let expected_rewritten = rewrite_resource_metadata(&expected_401, &prm_url).into_owned();
    assert_ne!(expected_rewritten, expected_401);

    let case = |name: &str, url: String, token: Option<&str>, body: &str| json!({"name": name, "url": url, "token": token, "body": body});
    let mut rewrite_case = case("rewrite/401", rewrite.mcp_url(), None, INITIALIZE);
    rewrite_case["follow_prm"] = json!(true);
    let mut direct_prm = case("upstream-direct/prm", upstream.prm_url().unwrap(), None, "");
    direct_prm["method"] = json!("GET");
    let cases = vec![
        case("bridge/401", bridge.mcp_url(), None, INITIALIZE),
        case("bridge/403", bridge.mcp_url(), Some(&read_only), TOOLS_CALL),
        rewrite_case,
        case("gateway-error/403", gateway.mcp_url(), None, TOOLS_CALL),
        case(
            "gateway-error/401",
            gateway_bogus.mcp_url(),
            None,
            TOOLS_CALL,
        ),
        case(
            "control-no-expose/401",
            no_expose.mcp_url(),
            None,
            INITIALIZE,
        ),
        case(
            "control-no-expose/403",
            no_expose.mcp_url(),
            Some(&read_only),
            TOOLS_CALL,
        ),
        case("control-strip/401", strip.mcp_url(), None, INITIALIZE),
        case(
            "control-strip/403",
            strip.mcp_url(),
            Some(&read_only),
            TOOLS_CALL,
        ),
        case("upstream-direct/401", upstream.mcp_url(), None, INITIALIZE),
        direct_prm,
    ];
    // The cases, then the authorization flow.
    let case_count = cases.len() + 1;
    let redirect_uri = format!("{page_origin}/callback");
    *page_cell.lock().unwrap() = page_html(&json!({
        "fetch_timeout_ms": FETCH_TIMEOUT_MS,
        "cases": cases,
        "oauth": {
            "mcp_url": cors_server.mcp_url(),
            "redirect_uri": redirect_uri,
            "scope": "mcp:read mcp:write",
            "initialize": INITIALIZE,
            "tools_call": TOOLS_CALL,
        },
    }));

    let browser = Browser::launch(&chromium, &format!("{page_origin}/"));
    let (done, results) = page_server.wait(PAGE_DEADLINE);
    let log = browser.log_tail();
    drop(browser);
    assert!(
        done && results.len() == case_count,
        "the page did not finish within {PAGE_DEADLINE:?}: {} of {case_count} results\n{}\n--- chromium log ---\n{log}",
        results.len(),
        serde_json::to_string_pretty(&results).unwrap_or_default()
    );

    println!("browser results (page {page_origin}):");
    for r in &results {
        println!("  {r}");
    }
    let get = |name: &str| -> &Value {
        results
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no result for {name}"))
    };
    let readable = |name: &str, status: u16, challenge: &str| {
        let r = get(name);
        assert_eq!(r["error"], Value::Null, "{name}: {r}");
        assert_eq!(r["status"], status, "{name}: {r}");
        assert_eq!(r["www_authenticate"], challenge, "{name}: {r}");
    };
    let hidden = |name: &str, status: u16| {
        let r = get(name);
        assert_eq!(r["error"], Value::Null, "{name}: {r}");
        assert_eq!(
            r["status"], status,
            "{name}: the status must still arrive: {r}"
        );
        assert_eq!(r["www_authenticate"], Value::Null, "{name}: {r}");
    };

    // Bridged: the exact upstream challenge, 401 and 403.
    readable("bridge/401", 401, &expected_401);
    readable("bridge/403", 403, &expected_403);
    // Rewritten: only resource_metadata changed, and the page can fetch the metadata there.
    readable("rewrite/401", 401, &expected_rewritten);
    let r = get("rewrite/401");
    assert_eq!(r["prm_url"], prm_url.as_str(), "{r}");
    assert_eq!(r["prm_status"], 200, "{r}");
    assert_eq!(r["prm"]["resource"], upstream.resource(), "{r}");
    // The error path of Client::send.
    readable("gateway-error/403", 403, &expected_403);
    readable("gateway-error/401", 401, &expected_bogus);

    // Controls: bridging disabled, the page cannot read the challenge.
    hidden("control-no-expose/401", 401);
    hidden("control-no-expose/403", 403);
    hidden("control-strip/401", 401);
    hidden("control-strip/403", 403);
    // ... although the no-expose proxy did send it: CORS is what hides it.
    let (status, on_wire) = {
        let r = UreqHttpClient::default()
            .execute(
                http::Request::post(no_expose.mcp_url())
                    .header("content-type", "application/json")
                    .header("origin", page_origin.as_str())
                    .body(INITIALIZE.as_bytes().to_vec())
                    .unwrap(),
            )
            .unwrap();
        let v = r
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (r.status().as_u16(), v)
    };
    assert_eq!(
        (status, on_wire.as_deref()),
        (401, Some(expected_401.as_str()))
    );
    // And the upstream origin itself is unreadable from the page (it sends no CORS headers),
    // neither the MCP endpoint nor its metadata: hence the rewrite and the relay.
    for name in ["upstream-direct/401", "upstream-direct/prm"] {
        let r = get(name);
        assert_eq!(r["status"], Value::Null, "{name}: {r}");
        assert!(
            r["error"].as_str().is_some_and(|e| e.contains("TypeError")),
            "{name}: {r}"
        );
    }
    assert_oauth_flow(&cors_server, get("oauth"), &page_origin, &redirect_uri);
    println!("{case_count} browser cases passed");
}

/// The browser's authorization flow against `server`: what the page read, then what the server
/// saw, step by step.
fn assert_oauth_flow(server: &DemoServer, r: &Value, page_origin: &str, redirect_uri: &str) {
    assert_eq!(r["error"], Value::Null, "oauth: {r}");
    let steps = &r["steps"];
    // The page could read each response (CORS on every one, the challenge exposed).
    assert_eq!(steps["challenge"]["status"], 401, "{r}");
    let challenge = steps["challenge"]["www_authenticate"].as_str().unwrap();
    assert!(challenge.contains("resource_metadata="), "{r}");
    assert_eq!(steps["prm"]["status"], 200, "{r}");
    assert_eq!(
        steps["prm"]["url"],
        server.prm_url().unwrap().as_str(),
        "{r}"
    );
    assert_eq!(steps["prm"]["resource"], server.resource().as_str(), "{r}");
    assert_eq!(steps["as_metadata"]["status"], 200, "{r}");
    assert_eq!(
        steps["as_metadata"]["url"],
        server.as_metadata_url().unwrap().as_str(),
        "{r}"
    );
    assert_eq!(
        steps["as_metadata"]["issuer"],
        server.issuer().as_str(),
        "{r}"
    );
    assert_eq!(steps["register"]["status"], 201, "{r}");
    let client_id = steps["register"]["client_id"].as_str().unwrap().to_owned();
    assert_eq!(steps["authorize"]["state_ok"], true, "{r}");
    assert_eq!(steps["authorize"]["has_code"], true, "{r}");
    assert_eq!(steps["authorize"]["error"], Value::Null, "{r}");
    assert_eq!(steps["token"]["status"], 200, "{r}");
    assert_eq!(steps["token"]["token_type"], "Bearer", "{r}");
    assert_eq!(steps["token"]["has_access_token"], true, "{r}");
    assert_eq!(steps["mcp"]["status"], 200, "{r}");
    assert_eq!(steps["mcp"]["text"], "hi", "{r}");

    // The server's side: every step arrived, from the browser on the page's origin.
    let log = server.requests();
    let lines: Vec<String> = log.iter().map(|q| q.line()).collect();
    let find = |method: &str, path: &str| {
        log.iter()
            .filter(|q| q.method == method && q.path == path)
            .collect::<Vec<_>>()
    };
    let from_page = |q: &mcp_auth_demo_server::RecordedRequest| {
        assert_eq!(
            q.header("origin"),
            Some(page_origin),
            "{}: {:?}",
            q.line(),
            q.headers
        );
        assert!(
            q.header("user-agent").is_some_and(|u| u.contains("Chrom")),
            "{}: {:?}",
            q.line(),
            q.headers
        );
    };
    let mcp = find("POST", "/mcp");
    assert_eq!(mcp.len(), 2, "{lines:?}");
    from_page(mcp[0]);
    assert_eq!(mcp[0].header("authorization"), None);
    from_page(mcp[1]);
    assert!(
        mcp[1]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer mcpat_")),
        "{lines:?}"
    );
    let prm_path = url::Url::parse(&server.prm_url().unwrap())
        .unwrap()
        .path()
        .to_owned();
    let asm_path = url::Url::parse(&server.as_metadata_url().unwrap())
        .unwrap()
        .path()
        .to_owned();
    for path in [&prm_path, &asm_path] {
        let got = find("GET", path);
        assert_eq!(got.len(), 1, "{path}: {lines:?}");
        from_page(got[0]);
    }
    // Registration and the authorized MCP call are not simple requests: each was preflighted
    // (and the preflight's single Access-Control-Allow-Origin let it through).
    for path in ["/register", "/mcp"] {
        let pre = find("OPTIONS", path);
        assert!(!pre.is_empty(), "no preflight for {path}: {lines:?}");
        assert_eq!(pre[0].header("access-control-request-method"), Some("POST"));
        from_page(pre[0]);
    }
    let register = find("POST", "/register");
    assert_eq!(register.len(), 1, "{lines:?}");
    from_page(register[0]);
    assert_eq!(
        register[0].json().unwrap()["redirect_uris"],
        json!([redirect_uri])
    );
    assert!(server.registered_client_ids().contains(&client_id));
    // The authorization request was a navigation of a frame inside the page.
    let authorize = find("GET", "/authorize");
    assert_eq!(authorize.len(), 1, "{lines:?}");
    let a = authorize[0];
    assert_eq!(
        a.header("sec-fetch-dest"),
        Some("iframe"),
        "{:?}",
        a.headers
    );
    assert_eq!(
        a.header("sec-fetch-mode"),
        Some("navigate"),
        "{:?}",
        a.headers
    );
    assert!(
        a.header("referer")
            .is_some_and(|v| v.starts_with(page_origin)),
        "{:?}",
        a.headers
    );
    assert_eq!(
        a.query_value("client_id").as_deref(),
        Some(client_id.as_str())
    );
    assert_eq!(a.query_value("redirect_uri").as_deref(), Some(redirect_uri));
    assert_eq!(
        a.query_value("code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        a.query_value("state").as_deref(),
        steps["authorize"]["state"].as_str()
    );
    // The token request: the code for that client, with the PKCE verifier.
    let token = find("POST", "/token");
    assert_eq!(token.len(), 1, "{lines:?}");
    from_page(token[0]);
    assert_eq!(
        token[0].form_value("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(
        token[0].form_value("client_id").as_deref(),
        Some(client_id.as_str())
    );
    assert!(token[0].form_value("code_verifier").is_some());
    assert_eq!(server.grant_count("authorization_code"), 1);
}
