//! The client through the C ABI, against the loopback demo server: host callbacks (storage,
//! redirect, trace), responses, structured errors, and one client shared by threads.

// Test code: every unsafe block calls the C ABI with arguments built right beside it, as its
// documentation requires; a SAFETY comment on each would only repeat that.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_void};
use std::io::{Read, Write};
use std::ptr;
use std::sync::Mutex;

use mcp_auth_demo_server::{DemoConfig, DemoServer, FaultAction, RouteFault};
use mcpauth::*;
use serde_json::Value;

fn cstr(p: *const c_char) -> Option<String> {
    // SAFETY: the library's strings are valid NUL-terminated strings (or NULL).
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

/// Take a library string out-parameter.
fn take(p: *mut c_char) -> Option<String> {
    let s = cstr(p);
    // SAFETY: a string returned by the library (or NULL).
    unsafe { mcpauth_string_free(p) };
    s
}

fn message() -> String {
    cstr(mcpauth_last_error_message()).unwrap_or_default()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Host callbacks
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Host {
    store: Mutex<HashMap<(String, String), String>>,
    ops: Mutex<Vec<String>>,
    events: Mutex<Vec<serde_json::Value>>,
    redirect_error: Option<CString>,
}

fn host<'a>(userdata: *mut c_void) -> &'a Host {
    // SAFETY: every test passes a `&Host` that outlives its clients.
    unsafe { &*(userdata as *const Host) }
}

unsafe extern "C" fn get(
    userdata: *mut c_void,
    kind: *const c_char,
    key: *const c_char,
    reply: *mut mcpauth_reply,
) -> i32 {
    let h = host(userdata);
    let (kind, key) = (cstr(kind).unwrap(), cstr(key).unwrap());
    h.ops.lock().unwrap().push(format!("get {kind}"));
    if let Some(v) = h.store.lock().unwrap().get(&(kind, key)) {
        let v = CString::new(v.as_str()).unwrap();
        // SAFETY: the reply of this running callback.
        assert_eq!(
            unsafe { mcpauth_reply_set_value(reply, v.as_ptr()) },
            mcpauth_status::Ok
        );
    }
    0
}

unsafe extern "C" fn set(
    userdata: *mut c_void,
    kind: *const c_char,
    key: *const c_char,
    value: *const c_char,
    _reply: *mut mcpauth_reply,
) -> i32 {
    let h = host(userdata);
    let (kind, key, value) = (
        cstr(kind).unwrap(),
        cstr(key).unwrap(),
        cstr(value).unwrap(),
    );
    h.ops.lock().unwrap().push(format!("set {kind}"));
    h.store.lock().unwrap().insert((kind, key), value);
    0
}

unsafe extern "C" fn remove(
    userdata: *mut c_void,
    kind: *const c_char,
    key: *const c_char,
    _reply: *mut mcpauth_reply,
) -> i32 {
    let h = host(userdata);
    let (kind, key) = (cstr(kind).unwrap(), cstr(key).unwrap());
    h.ops.lock().unwrap().push(format!("remove {kind}"));
    h.store.lock().unwrap().remove(&(kind, key));
    0
}

unsafe extern "C" fn trace(userdata: *mut c_void, event: *const c_char) {
    host(userdata)
        .events
        .lock()
        .unwrap()
        .push(json(&cstr(event).unwrap()));
}

/// GET `url` (http, loopback) without following redirects and return its `Location`.
fn location_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/')?);
    let mut s = std::net::TcpStream::connect(authority).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).ok()?;
    response
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
}

/// A redirect handler playing the user agent: follow the authorization URL to its redirect.
unsafe extern "C" fn redirect(
    userdata: *mut c_void,
    url: *const c_char,
    reply: *mut mcpauth_reply,
) -> i32 {
    let h = host(userdata);
    h.ops.lock().unwrap().push("redirect".to_owned());
    if let Some(e) = &h.redirect_error {
        // SAFETY: the reply of this running callback.
        unsafe { mcpauth_reply_set_error(reply, e.as_ptr()) };
        return 7;
    }
    match location_of(&cstr(url).unwrap()) {
        Some(location) => {
            let l = CString::new(location).unwrap();
            // SAFETY: the reply of this running callback.
            unsafe { mcpauth_reply_set_value(reply, l.as_ptr()) };
            0
        }
        None => 1,
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

struct Client(*mut mcpauth_client);

// SAFETY: `mcpauth_client` is documented thread-safe for `const` use.
unsafe impl Send for Client {}
// SAFETY: as above.
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: owned handle.
        unsafe { mcpauth_client_free(self.0) }
    }
}

fn build(
    options: &str,
    h: Option<&Host>,
    callbacks: (bool, bool, bool),
) -> Result<Client, (mcpauth_status, String)> {
    let options = CString::new(options).unwrap();
    let mut config = ptr::null_mut();
    // SAFETY: valid arguments throughout.
    unsafe {
        let s = mcpauth_client_config_new(options.as_ptr(), &mut config);
        if s != mcpauth_status::Ok {
            return Err((s, message()));
        }
        let ud = h.map_or(ptr::null_mut(), |h| h as *const Host as *mut c_void);
        let (storage, redirect_cb, trace_cb) = callbacks;
        if storage {
            assert_eq!(
                mcpauth_client_config_set_storage(config, Some(get), Some(set), Some(remove), ud),
                mcpauth_status::Ok
            );
        }
        if redirect_cb {
            assert_eq!(
                mcpauth_client_config_set_redirect_handler(config, Some(redirect), ud),
                mcpauth_status::Ok
            );
        }
        if trace_cb {
            assert_eq!(
                mcpauth_client_config_set_trace(config, Some(trace), ud),
                mcpauth_status::Ok
            );
        }
        let mut client = ptr::null_mut();
        let s = mcpauth_client_new(config, &mut client);
        let m = message();
        mcpauth_client_config_free(config);
        if s != mcpauth_status::Ok {
            return Err((s, m));
        }
        Ok(Client(client))
    }
}

fn options(server: &DemoServer) -> String {
    format!(
        r#"{{"server_url":"{}","timeout_ms":10000}}"#,
        server.mcp_url()
    )
}

struct Response(*mut mcpauth_response);

impl Drop for Response {
    fn drop(&mut self) {
        // SAFETY: owned handle.
        unsafe { mcpauth_response_free(self.0) }
    }
}

impl Response {
    fn status(&self) -> u16 {
        let mut s = 0;
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_response_status(self.0, &mut s) },
            mcpauth_status::Ok
        );
        s
    }
    fn body(&self) -> String {
        let (mut p, mut n) = (ptr::null(), 0usize);
        // SAFETY: valid arguments; the body lives as long as the response.
        unsafe {
            assert_eq!(
                mcpauth_response_body(self.0, &mut p, &mut n),
                mcpauth_status::Ok
            );
            assert_eq!(*p.add(n), 0, "the body is NUL-terminated");
            String::from_utf8(std::slice::from_raw_parts(p, n).to_vec()).unwrap()
        }
    }
    fn authorizations(&self) -> u32 {
        let mut a = 0;
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_response_authorizations(self.0, &mut a) },
            mcpauth_status::Ok
        );
        a
    }
    fn header(&self, name: &str) -> Option<String> {
        let name = CString::new(name).unwrap();
        let mut out = ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_response_header(self.0, name.as_ptr(), &mut out) },
            mcpauth_status::Ok
        );
        take(out)
    }
    fn challenge(&self) -> Option<String> {
        let mut out = ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_response_challenge_json(self.0, &mut out) },
            mcpauth_status::Ok
        );
        take(out)
    }
}

fn call(client: &Client, method: &str, params: &str) -> Result<Response, mcpauth_status> {
    let body = CString::new(format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#
    ))
    .unwrap();
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_post_json(client.0, body.as_ptr(), &mut r) };
    if s == mcpauth_status::Ok {
        assert!(mcpauth_last_error_message().is_null());
        Ok(Response(r))
    } else {
        assert!(r.is_null(), "out-parameter written on failure");
        Err(s)
    }
}

const ECHO: &str = r#"{"name":"echo","arguments":{"text":"hi from the C ABI"}}"#;

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn host_callbacks_drive_the_whole_flow() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let h = Host::default();
    let client = build(&options(&server), Some(&h), (true, true, true)).unwrap();

    let r = call(&client, "tools/call", ECHO).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.authorizations(), 1);
    assert!(r.body().contains("hi from the C ABI"));
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("application/json")
    );
    let challenge = json(&r.challenge().expect("the 401 challenge is kept"));
    assert_eq!(challenge["status"], 401);
    assert_eq!(challenge["bearer"]["error"], "invalid_token");
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_response_headers_json(r.0, &mut out) },
        mcpauth_status::Ok
    );
    let headers = json(&take(out).unwrap());
    assert!(
        headers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p[0] == "content-type")
    );
    drop(r);

    // The trace saw every step, in order, and no secret.
    let steps: Vec<String> = h
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        steps,
        [
            "mcp_request",
            "protected_resource_metadata",
            "authorization_server_metadata",
            "scope_selection",
            "registration",
            "authorization",
            "token_exchange",
            "mcp_request"
        ]
    );
    // The host's storage got the registration (bound to the issuer) and the tokens.
    {
        let store = h.store.lock().unwrap();
        let info = store
            .get(&("client_info".to_owned(), server.issuer()))
            .expect("client info stored under the issuer");
        assert_eq!(json(info)["issuer"], server.issuer());
        let mut key = ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_client_resource_key(client.0, &mut key) },
            mcpauth_status::Ok
        );
        let tokens = store
            .get(&("tokens".to_owned(), take(key).unwrap()))
            .expect("tokens stored under the resource");
        let tokens = json(tokens);
        assert!(
            tokens["access_token"]
                .as_str()
                .unwrap()
                .starts_with("mcpat_")
        );
        assert!(tokens["expires_at"].is_u64());
        for e in h.events.lock().unwrap().iter() {
            assert!(
                !e.to_string()
                    .contains(tokens["access_token"].as_str().unwrap()),
                "a token leaked into the trace"
            );
        }
    }
    assert!(h.ops.lock().unwrap().contains(&"redirect".to_owned()));

    // A second client on the same host storage needs no authorization.
    let again = build(&options(&server), Some(&h), (true, true, false)).unwrap();
    let r = call(&again, "tools/call", ECHO).unwrap();
    assert_eq!((r.status(), r.authorizations()), (200, 0));

    // Token access and logout.
    let mut token = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_access_token(again.0, &mut token) },
        mcpauth_status::Ok
    );
    assert!(take(token).unwrap().starts_with("mcpat_"));
    let mut scope = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_granted_scope(again.0, &mut scope) },
        mcpauth_status::Ok
    );
    assert_eq!(take(scope).as_deref(), Some("mcp:read mcp:write"));
    // SAFETY: valid argument.
    assert_eq!(
        unsafe { mcpauth_client_logout(again.0) },
        mcpauth_status::Ok
    );
    assert!(h.ops.lock().unwrap().contains(&"remove tokens".to_owned()));
    assert!(!h.store.lock().unwrap().keys().any(|(k, _)| k == "tokens"));
}

#[test]
fn send_takes_method_url_headers_and_body() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let (method, headers) = (
        CString::new("POST").unwrap(),
        CString::new(
            r#"{"content-type":"application/json","accept":"application/json, text/event-stream"}"#,
        )
        .unwrap(),
    );
    let body = br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments; NULL url means the server URL.
    let s = unsafe {
        mcpauth_client_send(
            client.0,
            method.as_ptr(),
            ptr::null(),
            headers.as_ptr(),
            body.as_ptr(),
            body.len(),
            &mut r,
        )
    };
    assert_eq!(s, mcpauth_status::Ok, "{}", message());
    let r = Response(r);
    assert_eq!(r.status(), 200);
    assert!(r.body().contains("mcp:read"), "{}", r.body());

    // A non-success response is still a response.
    let url = CString::new(format!("{}/nowhere", server.origin())).unwrap();
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments; an empty body may be NULL.
    let s = unsafe {
        mcpauth_client_send(
            client.0,
            method.as_ptr(),
            url.as_ptr(),
            ptr::null(),
            ptr::null(),
            0,
            &mut r,
        )
    };
    assert_eq!(s, mcpauth_status::Ok, "{}", message());
    let r = Response(r);
    assert_eq!(r.status(), 404);
    assert_eq!(r.body(), r.body().trim_end_matches('\0'));

    // Bad headers are the caller's error.
    let bad = CString::new(r#"{"bad header":"x"}"#).unwrap();
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe {
        mcpauth_client_send(
            client.0,
            method.as_ptr(),
            ptr::null(),
            bad.as_ptr(),
            ptr::null(),
            0,
            &mut r,
        )
    };
    assert_eq!(s, mcpauth_status::InvalidArgument);
    assert!(message().contains("bad header"), "{}", message());
}

#[test]
fn token_endpoint_errors_carry_the_oauth_error() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    server.add_fault(RouteFault::new(
        "/token",
        FaultAction::json(
            400,
            &serde_json::json!({"error":"invalid_grant","error_description":"code expired","error_uri":"https://as/e"}),
        ),
    ));
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let s = call(&client, "tools/call", ECHO).err().unwrap();
    assert_eq!(s, mcpauth_status::Token, "{}", message());
    assert_eq!(mcpauth_last_error_status(), mcpauth_status::Token);
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error()).as_deref(),
        Some("invalid_grant")
    );
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error_description()).as_deref(),
        Some("code expired")
    );
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error_uri()).as_deref(),
        Some("https://as/e")
    );
    assert_eq!(mcpauth_last_error_http_status(), 400);
    let all = json(&cstr(mcpauth_last_error_json()).unwrap());
    assert_eq!(all["status"], 304);
    assert_eq!(all["status_name"], "TOKEN");
    assert_eq!(all["kind"], "token");
    assert_eq!(all["oauth_error"]["error"], "invalid_grant");
    assert_eq!(all["http_status"], 400);
}

#[test]
fn a_server_that_keeps_refusing_gives_unauthorized_with_its_challenge() {
    let server = DemoServer::start(DemoConfig::topology("scope-retry-limit").unwrap()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let s = call(&client, "tools/call", ECHO).err().unwrap();
    assert_eq!(s, mcpauth_status::Unauthorized, "{}", message());
    assert_eq!(mcpauth_last_error_http_status(), 403);
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error()).as_deref(),
        Some("insufficient_scope")
    );
    let challenge = json(&cstr(mcpauth_last_error_challenge_json()).unwrap());
    assert_eq!(challenge["status"], 403);
    assert_eq!(challenge["bearer"]["error"], "insufficient_scope");
    assert!(
        challenge["www_authenticate"][0]
            .as_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[test]
fn a_resource_mismatch_is_a_security_check() {
    let server = DemoServer::start(DemoConfig::topology("resource-mismatch").unwrap()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_discover(client.0, &mut out) };
    assert_eq!(s, mcpauth_status::SecurityCheck, "{}", message());
    assert!(out.is_null());
    assert_eq!(
        cstr(mcpauth_last_error_check()).as_deref(),
        Some("resource")
    );
    assert_eq!(
        server.count("/register"),
        0,
        "nothing sent after a failed check"
    );
}

#[test]
fn discovery_and_probe_return_json() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_probe(client.0, &mut out) },
        mcpauth_status::Ok
    );
    let probe = json(&take(out).unwrap());
    assert_eq!(probe["status"], 401);
    assert_eq!(probe["challenge"]["bearer"]["scope"], "mcp:read mcp:write");
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_discover(client.0, &mut out) },
        mcpauth_status::Ok
    );
    let d = json(&take(out).unwrap());
    assert_eq!(d["issuer"], server.issuer());
    assert_eq!(d["token_endpoint"], server.token_endpoint());
    assert_eq!(d["protected_resource"]["resource"], server.resource());
}

#[test]
fn redirect_handler_failures_are_authorization_errors() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let h = Host {
        redirect_error: Some(CString::new("the user closed the window").unwrap()),
        ..Host::default()
    };
    let client = build(&options(&server), Some(&h), (false, true, false)).unwrap();
    let s = call(&client, "tools/call", ECHO).err().unwrap();
    assert_eq!(s, mcpauth_status::Authorization);
    assert!(
        message().contains("redirect handler callback failed (7): the user closed the window"),
        "{}",
        message()
    );
}

#[test]
fn one_client_is_shared_by_threads() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let authorizations: u32 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let r = call(&client, "tools/call", ECHO).expect("call");
                    assert_eq!(r.status(), 200);
                    // The last error is per thread: a success here leaves none.
                    assert!(mcpauth_last_error_message().is_null());
                    r.authorizations()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(authorizations, 1, "one authorization serves every thread");
    assert_eq!(server.count("/token"), 1);
}

#[test]
fn configuration_errors_name_the_problem() {
    let e = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","scpoe":"x"}"#,
        None,
        (false, false, false),
    )
    .err()
    .unwrap();
    assert_eq!(e.0, mcpauth_status::InvalidArgument);
    assert!(e.1.contains("scpoe"), "{}", e.1);

    let e = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","redirect":{"type":"callback"}}"#,
        None,
        (false, false, false),
    )
    .err()
    .unwrap();
    assert_eq!(e.0, mcpauth_status::InvalidArgument);
    assert!(
        e.1.contains("mcpauth_client_config_set_redirect_handler"),
        "{}",
        e.1
    );

    let e = build(
        r#"{"server_url":"http://mcp.example.com/mcp"}"#,
        None,
        (false, false, false),
    )
    .err()
    .unwrap();
    assert_eq!(e.0, mcpauth_status::InsecureUrl, "{}", e.1);

    // The built-in loopback redirect binds its port when the client is built.
    let c = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","redirect":{"type":"loopback","port":0,"open_browser":false}}"#,
        None,
        (false, false, false),
    )
    .unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_redirect_uri(c.0, &mut out) },
        mcpauth_status::Ok
    );
    let uri = take(out).unwrap();
    assert!(
        uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"),
        "{uri}"
    );

    // A callback redirect option names the redirect URI the host receives on.
    let h = Host::default();
    let c = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","redirect":{"type":"callback","redirect_uri":"myapp://cb"}}"#,
        Some(&h),
        (false, true, false),
    )
    .unwrap();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_redirect_uri(c.0, &mut out) },
        mcpauth_status::Ok
    );
    assert_eq!(take(out).as_deref(), Some("myapp://cb"));
}

#[test]
fn file_storage_is_selectable_from_json() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("mcpauth-ffi-{}", std::process::id()));
    let path = dir.join("credentials.json");
    let options = format!(
        r#"{{"server_url":"{}","storage":{{"type":"file","path":"{}"}}}}"#,
        server.mcp_url(),
        path.display()
    );
    let first = build(&options, None, (false, false, false)).unwrap();
    assert_eq!(
        call(&first, "tools/call", ECHO).unwrap().authorizations(),
        1
    );
    drop(first);
    let second = build(&options, None, (false, false, false)).unwrap();
    assert_eq!(
        call(&second, "tools/call", ECHO).unwrap().authorizations(),
        0
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Hosts that send requests themselves
// ---------------------------------------------------------------------------------------------

fn current_token(client: &Client) -> Option<String> {
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_current_token(client.0, &mut out) };
    assert_eq!(s, mcpauth_status::Ok, "{}", message());
    take(out)
}

fn authorize_after(
    client: &Client,
    status: u16,
    www: &str,
    rejected: Option<&str>,
) -> Result<Option<String>, mcpauth_status> {
    let www = CString::new(www).unwrap();
    let rejected = rejected.map(|r| CString::new(r).unwrap());
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe {
        mcpauth_client_authorize_after(
            client.0,
            status,
            www.as_ptr(),
            rejected.as_ref().map_or(ptr::null(), |r| r.as_ptr()),
            &mut out,
        )
    };
    if s == mcpauth_status::Ok {
        Ok(take(out))
    } else {
        assert!(out.is_null());
        Err(s)
    }
}

#[test]
fn hosts_that_send_themselves_use_current_token_and_authorize_after() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    assert_eq!(current_token(&client), None, "no token yet");

    // The host's own request got this 401.
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_probe(client.0, &mut out) },
        mcpauth_status::Ok
    );
    let probe = json(&take(out).unwrap());
    let www = probe["challenge"]["www_authenticate"].to_string();
    let t1 = authorize_after(&client, 401, &www, None).unwrap().unwrap();
    assert_eq!(current_token(&client).as_deref(), Some(t1.as_str()));
    assert_eq!(server.count("/token"), 1);

    // A 403 that is not insufficient_scope is final; other statuses are the caller's error.
    assert_eq!(
        authorize_after(
            &client,
            403,
            r#"["Bearer error=\"invalid_token\""]"#,
            Some(&t1)
        ),
        Ok(None)
    );
    assert_eq!(
        authorize_after(&client, 500, "[]", None),
        Err(mcpauth_status::InvalidArgument)
    );
    assert_eq!(
        authorize_after(&client, 401, "not json", None),
        Err(mcpauth_status::InvalidArgument)
    );

    // Eight threads whose requests were all refused with t1: one token acquisition for all.
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    authorize_after(&client, 401, &www, Some(&t1))
                        .unwrap()
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let t2 = tokens[0].clone();
    assert_ne!(t2, t1);
    assert!(
        tokens.iter().all(|t| *t == t2),
        "every thread got the same token"
    );
    assert_eq!(server.count("/token"), 2, "single flight");
    // A stale rejection gets the newer token, without a request.
    assert_eq!(
        authorize_after(&client, 401, &www, Some(&t1)),
        Ok(Some(t2.clone()))
    );
    assert_eq!(server.count("/token"), 2);

    // The server accepts it on a request the host sends itself.
    let headers = CString::new(format!(
        r#"{{"Authorization":"Bearer {t2}","Content-Type":"application/json"}}"#
    ))
    .unwrap();
    assert!(headers.to_str().unwrap().contains("mcpat_"));
}

#[test]
fn json_message_reads_json_and_sse_bodies() {
    for sse in [false, true] {
        let server = DemoServer::start(DemoConfig {
            sse,
            ..DemoConfig::default()
        })
        .unwrap();
        let client = build(&options(&server), None, (false, false, false)).unwrap();
        let r = call(&client, "tools/call", ECHO).unwrap();
        assert_eq!(
            r.header("content-type")
                .unwrap()
                .starts_with("text/event-stream"),
            sse
        );
        let mut out = ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_response_json_message(r.0, &mut out) },
            mcpauth_status::Ok
        );
        let m = json(&take(out).unwrap());
        assert_eq!(m["result"]["content"][0]["text"], "hi from the C ABI");

        // The downstream view of this 200, for a proxy.
        let options =
            CString::new(r#"{"cors":{"allowed_origins":["https://app.example"]}}"#).unwrap();
        let origin = CString::new("https://app.example").unwrap();
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_response_bridge(r.0, origin.as_ptr(), options.as_ptr(), &mut out) },
            mcpauth_status::Ok
        );
        let down = json(&take(out).unwrap());
        assert_eq!(down["status"], 200);
        assert!(down["challenge"].is_null());
        let headers = down["headers"].as_array().unwrap();
        let expose: Vec<&Value> = headers
            .iter()
            .filter(|p| p[0] == "Access-Control-Expose-Headers")
            .collect();
        assert_eq!(expose.len(), 1, "{down}");
        let expose = expose[0][1].as_str().unwrap().to_ascii_lowercase();
        for name in ["www-authenticate", "mcp-session-id", "mcp-protocol-version"] {
            assert!(expose.contains(name), "{expose}");
        }
        assert!(
            headers
                .iter()
                .any(|p| p[0] == "Access-Control-Allow-Origin" && p[1] == "https://app.example")
        );
    }
    // A body without JSON gives NULL.
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    server.add_fault(RouteFault::new("/nowhere", FaultAction::html_error(500)));
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let (method, url) = (
        CString::new("GET").unwrap(),
        CString::new(format!("{}/nowhere", server.origin())).unwrap(),
    );
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe {
        mcpauth_client_send(
            client.0,
            method.as_ptr(),
            url.as_ptr(),
            ptr::null(),
            ptr::null(),
            0,
            &mut r,
        )
    };
    assert_eq!(s, mcpauth_status::Ok);
    let r = Response(r);
    let mut out = ptr::dangling_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_response_json_message(r.0, &mut out) },
        mcpauth_status::Ok
    );
    assert!(out.is_null());
}

#[test]
fn an_unauthorized_send_is_bridged_from_the_last_error() {
    let server = DemoServer::start(DemoConfig::topology("scope-retry-limit").unwrap()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    assert_eq!(
        call(&client, "tools/call", ECHO).err(),
        Some(mcpauth_status::Unauthorized)
    );
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments (NULL origin and options are allowed).
    assert_eq!(
        unsafe { mcpauth_bridge_last_error(ptr::null(), ptr::null(), &mut out) },
        mcpauth_status::Ok
    );
    let down = json(&take(out).unwrap());
    assert_eq!(down["status"], 403);
    assert_eq!(down["challenge"]["error"], "insufficient_scope");
    assert_eq!(down["challenge"]["scope"], "mcp:admin");
    assert!(
        down["headers"][0][1]
            .as_str()
            .unwrap()
            .starts_with("Bearer error=\"insufficient_scope\"")
    );
    // Other failures carry no challenge.
    let missing = CString::new("{").unwrap();
    let mut cfg = ptr::null_mut();
    // SAFETY: valid arguments; the JSON is malformed on purpose.
    assert_eq!(
        unsafe { mcpauth_client_config_new(missing.as_ptr(), &mut cfg) },
        mcpauth_status::InvalidArgument
    );
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_bridge_last_error(ptr::null(), ptr::null(), &mut out) },
        mcpauth_status::Ok
    );
    assert!(out.is_null());
}

#[test]
fn logout_report_revokes_and_forget_client_removes_the_registration_through_the_host_storage() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let h = Host::default();
    let client = build(&options(&server), Some(&h), (true, true, false)).unwrap();
    assert_eq!(call(&client, "tools/call", ECHO).unwrap().status(), 200);

    let mut report = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_logout_report(client.0, &mut report) },
        mcpauth_status::Ok
    );
    assert_eq!(
        json(&take(report).unwrap()),
        json(r#"{"status":"revoked"}"#)
    );
    let counters = server.revocation_counters();
    assert_eq!((counters.refresh_tokens, counters.access_tokens), (1, 1));
    assert!(!h.store.lock().unwrap().keys().any(|(k, _)| k == "tokens"));

    let mut issuer = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_forget_client(client.0, &mut issuer) },
        mcpauth_status::Ok
    );
    assert_eq!(take(issuer).unwrap(), server.issuer());
    assert!(
        h.ops
            .lock()
            .unwrap()
            .contains(&"remove client_info".to_owned()),
        "{:?}",
        h.ops.lock().unwrap()
    );
    assert!(
        !h.store
            .lock()
            .unwrap()
            .keys()
            .any(|(k, _)| k == "client_info")
    );
    // Nothing left to revoke.
    let mut report = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_logout_report(client.0, &mut report) },
        mcpauth_status::Ok
    );
    assert_eq!(
        json(&take(report).unwrap()),
        json(r#"{"status":"no_tokens"}"#)
    );
}

unsafe extern "C" fn show_url(userdata: *mut c_void, url: *const c_char, opened: bool) {
    let (tx, _) = host_url(userdata);
    let _ = tx.lock().unwrap().send((cstr(url).unwrap(), opened));
}

type UrlChannel = (Mutex<std::sync::mpsc::Sender<(String, bool)>>, ());

fn host_url<'a>(userdata: *mut c_void) -> &'a UrlChannel {
    // SAFETY: the test passes a `&UrlChannel` that outlives its client.
    unsafe { &*(userdata as *const UrlChannel) }
}

#[test]
fn a_loopback_redirect_hands_the_authorization_url_to_the_host() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let channel: UrlChannel = (Mutex::new(tx), ());
    let options = CString::new(format!(
        r#"{{"server_url":"{}","redirect":{{"type":"loopback","open_browser":false,"timeout_secs":60}}}}"#,
        server.mcp_url()
    ))
    .unwrap();
    let mut config = ptr::null_mut();
    let mut client = ptr::null_mut();
    // SAFETY: valid arguments; `channel` outlives the client.
    unsafe {
        assert_eq!(
            mcpauth_client_config_new(options.as_ptr(), &mut config),
            mcpauth_status::Ok
        );
        assert_eq!(
            mcpauth_client_config_set_url_handler(
                config,
                Some(show_url),
                &channel as *const UrlChannel as *mut c_void
            ),
            mcpauth_status::Ok
        );
        assert_eq!(mcpauth_client_new(config, &mut client), mcpauth_status::Ok);
        mcpauth_client_config_free(config);
    }
    let client = Client(client);
    // The host plays the browser: it follows the URL it was handed (the demo AS approves and
    // redirects to the loopback listener).
    let browser = std::thread::spawn(move || {
        let (url, opened) = rx.recv().unwrap();
        assert!(!opened, "open_browser is false");
        let location = location_of(&url).expect("the AS redirects");
        // The loopback listener answers 200 with a page (no Location).
        assert_eq!(location_of(&location), None);
        url
    });
    assert_eq!(call(&client, "tools/call", ECHO).unwrap().status(), 200);
    let url = browser.join().unwrap();
    assert!(
        url.contains("state=") && url.contains("code_challenge="),
        "{url}"
    );
}

// ---------------------------------------------------------------------------------------------
// Provider overrides (docs/providers.md): the options JSON is the C surface
// ---------------------------------------------------------------------------------------------

#[test]
fn provider_overrides_reach_the_wire_from_the_options_json() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let options = format!(
        r#"{{"server_url":"{}","timeout_ms":10000,"provider":"none",
            "overrides":{{"resource":false,"authorization_params":{{"audience":"{{resource}}"}},
                          "token_params":{{"foo":"bar"}}}}}}"#,
        server.mcp_url()
    );
    let client = build(&options, None, (false, false, false)).unwrap();
    assert_eq!(call(&client, "tools/call", ECHO).unwrap().status(), 200);
    let auth = server.requests_to("/authorize").remove(0);
    assert_eq!(auth.query_value("resource"), None);
    assert_eq!(auth.query_value("audience"), Some(server.mcp_url()));
    let token = server.requests_to("/token").remove(0);
    assert_eq!(token.form_value("foo").as_deref(), Some("bar"));
    assert_eq!(token.form_value("resource"), None);

    let bad = format!(
        r#"{{"server_url":"{}","provider":"okta"}}"#,
        server.mcp_url()
    );
    let (status, m) = build(&bad, None, (false, false, false)).err().unwrap();
    assert_eq!(status, mcpauth_status::InvalidArgument);
    assert!(m.contains("entra"), "{m}");
}
