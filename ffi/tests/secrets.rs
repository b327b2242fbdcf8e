//! No secret reaches what a C host sees besides the values it asked for: during flows with
//! faults (the demo server's `Faults`), no access token, refresh token, client secret,
//! authorization code, PKCE verifier, `state` or assertion appears in any `mcpauth_last_error_*`
//! string, in `mcpauth_bridge_last_error`'s output, or in any trace event delivered to the C
//! observer.
//!
//! The secrets are collected afterwards from everything that carried them: every request the
//! demo server received (token and registration forms, `Authorization` headers, authorization
//! request queries), every value the library stored through the host's storage callbacks, and
//! every redirect the host's redirect handler followed; plus canaries planted in faulty server
//! answers.

// Test code: every unsafe block calls the C ABI with arguments built right beside it, as its
// documentation requires; a SAFETY comment on each would only repeat that.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::collections::BTreeSet;
use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr;
use std::sync::Mutex;

use base64::Engine;
use mcp_auth_demo_server::{DemoConfig, DemoServer, FaultAction, RouteFault};
use mcpauth::*;
use serde_json::{Value, json};

mod agent;
use agent::location_of;

fn cstr(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

fn take(p: *mut c_char) -> Option<String> {
    let s = cstr(p);
    unsafe { mcpauth_string_free(p) };
    s
}

/// What the host saw: everything the library handed to its callbacks and getters.
#[derive(Default)]
struct Host {
    stored: Mutex<Vec<String>>,
    store: Mutex<std::collections::HashMap<(String, String), String>>,
    events: Mutex<Vec<String>>,
    redirects: Mutex<Vec<String>>,
    /// Strings from the last-error getters and the bridge: must hold no secret.
    observed: Mutex<Vec<(String, String)>>,
}

fn host<'a>(userdata: *mut c_void) -> &'a Host {
    unsafe { &*(userdata as *const Host) }
}

unsafe extern "C" fn get(
    userdata: *mut c_void,
    kind: *const c_char,
    key: *const c_char,
    reply: *mut mcpauth_reply,
) -> i32 {
    let h = host(userdata);
    if let Some(v) = h
        .store
        .lock()
        .unwrap()
        .get(&(cstr(kind).unwrap(), cstr(key).unwrap()))
    {
        let v = CString::new(v.as_str()).unwrap();
        unsafe { mcpauth_reply_set_value(reply, v.as_ptr()) };
    }
    0
}

unsafe extern "C" fn set(
    userdata: *mut c_void,
    kind: *const c_char,
    key: *const c_char,
    value: *const c_char,
    _: *mut mcpauth_reply,
) -> i32 {
    let h = host(userdata);
    let value = cstr(value).unwrap();
    h.stored.lock().unwrap().push(value.clone());
    h.store
        .lock()
        .unwrap()
        .insert((cstr(kind).unwrap(), cstr(key).unwrap()), value);
    0
}

unsafe extern "C" fn remove(
    userdata: *mut c_void,
    kind: *const c_char,
    key: *const c_char,
    _: *mut mcpauth_reply,
) -> i32 {
    host(userdata)
        .store
        .lock()
        .unwrap()
        .remove(&(cstr(kind).unwrap(), cstr(key).unwrap()));
    0
}

unsafe extern "C" fn trace(userdata: *mut c_void, event: *const c_char) {
    host(userdata)
        .events
        .lock()
        .unwrap()
        .push(cstr(event).unwrap());
}

unsafe extern "C" fn redirect(
    userdata: *mut c_void,
    url: *const c_char,
    reply: *mut mcpauth_reply,
) -> i32 {
    let h = host(userdata);
    match location_of(&cstr(url).unwrap()) {
        Some(location) => {
            h.redirects.lock().unwrap().push(location.clone());
            let l = CString::new(location).unwrap();
            unsafe { mcpauth_reply_set_value(reply, l.as_ptr()) };
            0
        }
        None => 1,
    }
}

struct Client(*mut mcpauth_client);

// SAFETY: `mcpauth_client` is documented thread-safe for `const` use.
unsafe impl Send for Client {}
// SAFETY: as above.
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { mcpauth_client_free(self.0) }
    }
}

fn client(server: &DemoServer, h: &Host, extra: &Value) -> Client {
    let mut options = json!({"server_url": server.mcp_url(), "timeout_ms": 2000,
        "redirect": {"type": "callback", "redirect_uri": "http://localhost:3000/callback"}});
    for (k, v) in extra.as_object().unwrap() {
        options[k] = v.clone();
    }
    let options = CString::new(options.to_string()).unwrap();
    let ud = h as *const Host as *mut c_void;
    let mut config = ptr::null_mut();
    let mut c = ptr::null_mut();
    unsafe {
        assert_eq!(
            mcpauth_client_config_new(options.as_ptr(), &mut config),
            mcpauth_status::Ok
        );
        mcpauth_client_config_set_storage(config, Some(get), Some(set), Some(remove), ud);
        mcpauth_client_config_set_redirect_handler(config, Some(redirect), ud);
        mcpauth_client_config_set_trace(config, Some(trace), ud);
        let s = mcpauth_client_new(config, &mut c);
        mcpauth_client_config_free(config);
        assert_eq!(
            s,
            mcpauth_status::Ok,
            "{:?}",
            cstr(mcpauth_last_error_message())
        );
    }
    Client(c)
}

/// Record every last-error string (and the bridge of the last error) after a call.
fn observe(h: &Host, label: &str, s: mcpauth_status) -> mcpauth_status {
    if s == mcpauth_status::Ok {
        return s;
    }
    let mut seen = h.observed.lock().unwrap();
    for (what, v) in [
        ("message", cstr(mcpauth_last_error_message())),
        ("oauth_error", cstr(mcpauth_last_error_oauth_error())),
        (
            "oauth_error_description",
            cstr(mcpauth_last_error_oauth_error_description()),
        ),
        (
            "oauth_error_uri",
            cstr(mcpauth_last_error_oauth_error_uri()),
        ),
        ("check", cstr(mcpauth_last_error_check())),
        ("challenge_json", cstr(mcpauth_last_error_challenge_json())),
        ("json", cstr(mcpauth_last_error_json())),
    ] {
        if let Some(v) = v {
            seen.push((format!("{label}: {what}"), v));
        }
    }
    let mut out = ptr::null_mut();
    unsafe { mcpauth_bridge_last_error(ptr::null(), ptr::null(), &mut out) };
    if let Some(v) = take(out) {
        seen.push((format!("{label}: bridge_last_error"), v));
    }
    s
}

const CALL: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test-tool","arguments":{}}}"#;

fn call(c: &Client, h: &Host, label: &str) -> mcpauth_status {
    let body = CString::new(CALL).unwrap();
    let mut r = ptr::null_mut();
    let s = unsafe { mcpauth_client_post_json(c.0, body.as_ptr(), &mut r) };
    unsafe { mcpauth_response_free(r) };
    observe(h, label, s)
}

fn current_token(c: &Client, h: &Host, label: &str) -> Option<String> {
    let mut out = ptr::null_mut();
    let s = unsafe { mcpauth_client_current_token(c.0, &mut out) };
    observe(h, label, s);
    take(out)
}

fn authorize_after(c: &Client, h: &Host, label: &str, status: u16, rejected: &str) {
    let www = CString::new(r#"["Bearer error=\"invalid_token\""]"#).unwrap();
    let rejected = CString::new(rejected).unwrap();
    let mut out = ptr::null_mut();
    let s = unsafe {
        mcpauth_client_authorize_after(c.0, status, www.as_ptr(), rejected.as_ptr(), &mut out)
    };
    observe(h, label, s);
    take(out);
}

fn basic_credentials(header: &str) -> Vec<String> {
    let Some(b64) = header.strip_prefix("Basic ") else {
        return Vec::new();
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return Vec::new();
    };
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let mut out = vec![raw.clone()];
    if let Some((_, secret)) = raw.split_once(':') {
        out.push(secret.to_owned());
        out.extend(
            form_urlencoded::parse(format!("s={secret}").as_bytes()).map(|(_, v)| v.into_owned()),
        );
    }
    out
}

/// Every secret that went over the wire or through the host's callbacks.
fn secrets(server: &DemoServer, h: &Host, canaries: &[&str]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = canaries.iter().map(|s| (*s).to_owned()).collect();
    for r in server.requests() {
        for (k, v) in r.form() {
            if [
                "code",
                "code_verifier",
                "refresh_token",
                "client_secret",
                "client_assertion",
                "assertion",
                "subject_token",
                "state",
            ]
            .contains(&k.as_str())
            {
                out.insert(v);
            }
        }
        if let Some(a) = r.header("authorization") {
            out.insert(a.to_owned());
            if let Some(t) = a.strip_prefix("Bearer ") {
                out.insert(t.to_owned());
            }
            out.extend(basic_credentials(a));
        }
        if r.path.ends_with("/authorize") {
            if let Some(s) = r.query_value("state") {
                out.insert(s);
            }
        }
    }
    for v in h.stored.lock().unwrap().iter() {
        let v: Value = serde_json::from_str(v).unwrap();
        for k in ["access_token", "refresh_token", "client_secret"] {
            if let Some(s) = v[k].as_str() {
                out.insert(s.to_owned());
            }
        }
    }
    for l in h.redirects.lock().unwrap().iter() {
        let query = l.split_once('?').map_or("", |(_, q)| q);
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if k == "code" || k == "state" {
                out.insert(v.into_owned());
            }
        }
    }
    out.retain(|s| s.len() >= 8);
    out
}

struct Outcome {
    secrets: usize,
    strings: usize,
}

/// Check what the host saw against the secrets of the scenario.
fn check(name: &str, server: &DemoServer, h: &Host, canaries: &[&str]) -> Outcome {
    let secrets = secrets(server, h, canaries);
    let mut strings: Vec<(String, String)> = h.observed.lock().unwrap().clone();
    strings.extend(
        h.events
            .lock()
            .unwrap()
            .iter()
            .map(|e| ("trace event".to_owned(), e.clone())),
    );
    for (what, text) in &strings {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{name}: a secret ({}…) leaked into {what}: {text}",
                &secret[..4]
            );
        }
    }
    Outcome {
        secrets: secrets.len(),
        strings: strings.len(),
    }
}

fn run(
    name: &str,
    config: DemoConfig,
    extra: Value,
    canaries: &[&str],
    body: impl FnOnce(&DemoServer, &Client, &Host),
) -> Outcome {
    let server = DemoServer::start(config).unwrap();
    let h = Host::default();
    let c = client(&server, &h, &extra);
    body(&server, &c, &h);
    drop(c);
    check(name, &server, &h, canaries)
}

fn with_faults(f: impl FnOnce(&mut DemoConfig)) -> DemoConfig {
    let mut c = DemoConfig::default();
    f(&mut c);
    c
}

#[test]
#[allow(clippy::too_many_lines)]
fn no_secret_reaches_the_last_error_or_the_trace() {
    let mut outcomes = Vec::new();
    let mut expect = |name: &str, o: Outcome| {
        assert!(o.secrets > 0, "{name}: no secret collected");
        outcomes.push((name.to_owned(), o));
    };

    // The happy path, a refresh after the server expired the token, and the host-driven API.
    expect(
        "refresh",
        run(
            "refresh",
            DemoConfig::default(),
            json!({}),
            &[],
            |server, c, h| {
                assert_eq!(call(c, h, "first"), mcpauth_status::Ok);
                let token = current_token(c, h, "current").unwrap();
                server.expire_all_tokens();
                assert_eq!(call(c, h, "after expiry"), mcpauth_status::Ok);
                authorize_after(c, h, "authorize_after", 401, &token);
            },
        ),
    );
    // The refresh token is refused: a full authorization again.
    expect(
        "refresh_invalid_grant",
        run(
            "refresh_invalid_grant",
            with_faults(|c| c.faults.refresh_invalid_grant = true),
            json!({}),
            &[],
            |server, c, h| {
                assert_eq!(call(c, h, "first"), mcpauth_status::Ok);
                server.expire_all_tokens();
                assert_eq!(call(c, h, "after expiry"), mcpauth_status::Ok);
            },
        ),
    );
    // The code exchange is refused (the code and the verifier were sent).
    expect(
        "token 400",
        run(
            "token 400",
            with_faults(|c| {
                c.faults.routes.push(RouteFault::new(
                    "/token",
                    FaultAction::json(
                        400,
                        &json!({"error":"invalid_grant","error_description":"bad code"}),
                    ),
                ))
            }),
            json!({}),
            &[],
            |_, c, h| {
                assert_eq!(call(c, h, "exchange"), mcpauth_status::Token);
                authorize_after(c, h, "authorize_after", 401, "rejected-token-canary-1");
            },
        ),
    );
    // Unusable token responses, carrying canary tokens the library must not repeat.
    expect(
        "token_type mac",
        run(
            "token_type mac",
            with_faults(|c| {
                c.faults.token_response_patch = Some(json!({"token_type":"mac",
                    "access_token":"canary-access-token-mac",
                    "refresh_token":"canary-refresh-token-mac"}))
            }),
            json!({}),
            &["canary-access-token-mac", "canary-refresh-token-mac"],
            |_, c, h| assert_ne!(call(c, h, "exchange"), mcpauth_status::Ok),
        ),
    );
    expect(
        "token not JSON",
        run(
            "token not JSON",
            with_faults(|c| {
                c.faults.routes.push(RouteFault::new(
                    "/token",
                    FaultAction::Respond {
                        status: 200,
                        headers: vec![("content-type".into(), "application/json".into())],
                        body: br#"{"access_token":"canary-access-token-json","refresh_token":"canary-refresh-token-json", oops"#.to_vec(),
                    },
                ))
            }),
            json!({}),
            &["canary-access-token-json", "canary-refresh-token-json"],
            |_, c, h| assert_eq!(call(c, h, "exchange"), mcpauth_status::Token),
        ),
    );
    expect(
        "token without access_token",
        run(
            "token without access_token",
            with_faults(|c| {
                c.faults.token_response_patch =
                    Some(json!({"access_token":null,"refresh_token":"canary-refresh-token-null"}))
            }),
            json!({}),
            &["canary-refresh-token-null"],
            |_, c, h| assert_ne!(call(c, h, "exchange"), mcpauth_status::Ok),
        ),
    );
    // A registration answer the library rejects, with a secret in it.
    expect(
        "registration without client_id",
        run(
            "registration without client_id",
            with_faults(|c| {
                c.faults.registration_response_patch =
                    Some(json!({"client_id":null,"client_secret":"canary-client-secret-reg"}))
            }),
            json!({}),
            &["canary-client-secret-reg"],
            |_, c, h| assert_eq!(call(c, h, "register"), mcpauth_status::Registration),
        ),
    );
    // The resource server keeps refusing every token: UNAUTHORIZED with the challenge.
    expect(
        "always unauthorized",
        run(
            "always unauthorized",
            with_faults(|c| c.faults.mcp_always_unauthorized = true),
            json!({}),
            &[],
            |_, c, h| assert_eq!(call(c, h, "send"), mcpauth_status::Unauthorized),
        ),
    );
    // Step-up refused until the limit (403 insufficient_scope).
    expect(
        "scope-retry-limit",
        run(
            "scope-retry-limit",
            DemoConfig::topology("scope-retry-limit").unwrap(),
            json!({}),
            &[],
            |_, c, h| assert_eq!(call(c, h, "send"), mcpauth_status::Unauthorized),
        ),
    );
    // The user denies; the authorization response's iss is wrong.
    expect(
        "access_denied",
        run(
            "access_denied",
            with_faults(|c| c.faults.authorize_error = Some("access_denied".to_owned())),
            json!({}),
            &[],
            |_, c, h| assert_eq!(call(c, h, "authorize"), mcpauth_status::Authorization),
        ),
    );
    expect(
        "iss mismatch",
        run(
            "iss mismatch",
            with_faults(|c| c.iss_override = Some("http://127.0.0.1:1".to_owned())),
            json!({}),
            &[],
            |_, c, h| assert_eq!(call(c, h, "authorize"), mcpauth_status::SecurityCheck),
        ),
    );
    // The token endpoint hangs, or answers an HTML error page.
    expect(
        "token hangs",
        run(
            "token hangs",
            with_faults(|c| {
                c.faults
                    .routes
                    .push(RouteFault::new("/token", FaultAction::Hang))
            }),
            json!({"timeout_ms": 500}),
            &[],
            |_, c, h| assert_eq!(call(c, h, "exchange"), mcpauth_status::Timeout),
        ),
    );
    expect(
        "token HTML 500",
        run(
            "token HTML 500",
            with_faults(|c| {
                c.faults
                    .routes
                    .push(RouteFault::new("/token", FaultAction::html_error(500)))
            }),
            json!({}),
            &[],
            |_, c, h| assert_ne!(call(c, h, "exchange"), mcpauth_status::Ok),
        ),
    );
    // Pre-registered confidential client with client credentials; its secret is refused.
    expect(
        "client_credentials refused",
        run(
            "client_credentials refused",
            DemoConfig::topology("client-credentials-basic").unwrap(),
            json!({"grant":"client_credentials","client_id":"conformance-test-client",
                   "client_secret":"canary-wrong-client-secret"}),
            &["canary-wrong-client-secret"],
            |_, c, h| assert_ne!(call(c, h, "client_credentials"), mcpauth_status::Ok),
        ),
    );

    for (name, o) in &outcomes {
        eprintln!(
            "{name}: {} secrets checked against {} strings",
            o.secrets, o.strings
        );
    }
}
