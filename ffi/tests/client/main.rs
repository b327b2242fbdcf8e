//! The client through the C ABI, against the loopback demo server: host callbacks (storage,
//! redirect, trace), responses, structured errors, and one client shared by threads.

// Test code: every unsafe block calls the C ABI with arguments built right beside it, as its
// documentation requires; a SAFETY comment on each would only repeat that.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr;
use std::sync::Mutex;

use mcp_auth_demo_server::{DemoConfig, DemoServer, FaultAction, RouteFault};
use mcpauth::*;
use serde_json::Value;

#[path = "../agent/mod.rs"]
mod agent;
use agent::location_of;

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
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}},"timeout_ms":10000}}"#,
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

mod flows;
mod hosts;
