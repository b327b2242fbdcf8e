//! `mcpauth_client_config_set_device_code_handler`: an RFC 8628 device code reaches the host's
//! callback (the library prints nothing itself), with the verification URIs and the expiry;
//! a NULL handler or configuration is refused. The demo server plays a device-flow
//! authorization server through its route faults (AS metadata naming `/device`, a device
//! authorization answer, and `access_denied` at the token endpoint, which ends the poll).

// Test code: every unsafe block calls the C ABI with arguments built right beside it, as its
// documentation requires; a SAFETY comment on each would only repeat that.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr;
use std::sync::Mutex;

use mcp_auth_demo_server::{DemoConfig, DemoServer, FaultAction, RouteFault};
use mcpauth::*;
use serde_json::json;

const USER_CODE: &str = "WDJB-MJHT";

/// What the callback received: verification URI, complete URI, user code, expiry.
type Shown = (String, Option<String>, String, u64);

#[derive(Default)]
struct Seen(Mutex<Vec<Shown>>);

unsafe extern "C" fn on_code(
    userdata: *mut c_void,
    uri: *const c_char,
    complete: *const c_char,
    code: *const c_char,
    expires_in: u64,
) {
    let seen = unsafe { &*(userdata as *const Seen) };
    let s = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
    let complete = (!complete.is_null()).then(|| s(complete));
    seen.0
        .lock()
        .unwrap()
        .push((s(uri), complete, s(code), expires_in));
}

fn device_server(complete: bool) -> DemoServer {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let origin = server.mcp_url().trim_end_matches("/mcp").to_owned();
    let mut device = json!({
        "device_code": "dc-1",
        "user_code": USER_CODE,
        "verification_uri": format!("{origin}/verify"),
        "expires_in": 600,
        "interval": 1,
    });
    if complete {
        device["verification_uri_complete"] = json!(format!("{origin}/verify?c={USER_CODE}"));
    }
    server.update(|c| {
        c.faults.as_metadata_patch =
            Some(json!({"device_authorization_endpoint": format!("{origin}/device")}));
        c.faults
            .routes
            .push(RouteFault::new("/device", FaultAction::json(200, &device)).method("POST"));
        c.faults.routes.push(
            RouteFault::new(
                "/token",
                FaultAction::json(400, &json!({"error": "access_denied"})),
            )
            .method("POST"),
        );
    });
    server
}

fn login(server: &DemoServer, seen: &Seen) -> mcpauth_status {
    let options = CString::new(
        json!({
            "server_url": server.mcp_url(),
            "grant": "device_code",
            "redirect": {"type": "device", "open_browser": false},
        })
        .to_string(),
    )
    .unwrap();
    let (mut config, mut client, mut token) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    unsafe {
        assert_eq!(
            mcpauth_client_config_new(options.as_ptr(), &mut config),
            mcpauth_status::Ok
        );
        assert_eq!(
            mcpauth_client_config_set_device_code_handler(
                config,
                Some(on_code),
                seen as *const Seen as *mut c_void
            ),
            mcpauth_status::Ok
        );
        assert_eq!(mcpauth_client_new(config, &mut client), mcpauth_status::Ok);
        mcpauth_client_config_free(config);
        let s = mcpauth_client_access_token(client, &mut token);
        assert!(token.is_null());
        mcpauth_client_free(client);
        s
    }
}

#[test]
fn the_device_code_reaches_the_host_callback() {
    for complete in [true, false] {
        let server = device_server(complete);
        let seen = Seen::default();
        let status = login(&server, &seen);
        assert_ne!(status, mcpauth_status::Ok);
        let seen = seen.0.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let (uri, full, code, expires_in) = &seen[0];
        assert!(uri.ends_with("/verify"), "{uri}");
        assert_eq!(code, USER_CODE);
        assert_eq!(*expires_in, 600);
        assert_eq!(
            full.as_deref().map(|u| u.ends_with(USER_CODE)),
            complete.then_some(true),
            "verification_uri_complete is NULL when the server gives none"
        );
        assert_eq!(server.requests_to("/device").len(), 1);
    }
}

#[test]
fn null_handler_and_config_are_refused() {
    let options = CString::new(r#"{"server_url":"https://mcp.example.com/mcp"}"#).unwrap();
    let mut config = ptr::null_mut();
    unsafe {
        assert_eq!(
            mcpauth_client_config_new(options.as_ptr(), &mut config),
            mcpauth_status::Ok
        );
        assert_eq!(
            mcpauth_client_config_set_device_code_handler(config, None, ptr::null_mut()),
            mcpauth_status::NullArgument
        );
        assert_eq!(
            mcpauth_client_config_set_device_code_handler(
                ptr::null_mut(),
                Some(on_code),
                ptr::null_mut()
            ),
            mcpauth_status::NullArgument
        );
        mcpauth_client_config_free(config);
    }
}
