//! `client_metadata` in the options JSON through the C ABI (issue 13 item 5): the members reach
//! the registration the demo server receives, and an option without effect is refused by
//! `mcpauth_client_config_new` with `MCPAUTH_STATUS_INVALID_ARGUMENT` naming the way.

#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::{CStr, CString};
use std::ptr;

use mcp_auth_demo_server::{DemoConfig, DemoServer};
use mcpauth::*;

fn message() -> String {
    let p = mcpauth_last_error_message();
    if p.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// `mcpauth_client_config_new` + `mcpauth_client_new`.
fn client(options: &str) -> Result<*mut mcpauth_client, (mcpauth_status, String)> {
    let options = CString::new(options).unwrap();
    let mut config = ptr::null_mut();
    unsafe {
        let s = mcpauth_client_config_new(options.as_ptr(), &mut config);
        if s != mcpauth_status::Ok {
            return Err((s, message()));
        }
        let mut client = ptr::null_mut();
        let s = mcpauth_client_new(config, &mut client);
        let m = message();
        mcpauth_client_config_free(config);
        if s != mcpauth_status::Ok {
            return Err((s, m));
        }
        Ok(client)
    }
}

#[test]
fn client_metadata_reaches_the_registration() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let options = serde_json::json!({
        "server_url": server.mcp_url(),
        "timeout_ms": 10000,
        "redirect": {"type": "headless"},
        "client_metadata": {
            "client_name": "C host",
            "token_endpoint_auth_method": "client_secret_post",
            "software_id": "c-host",
            "contacts": ["ops@c.example"]
        }
    });
    let c = client(&options.to_string()).unwrap();
    let body = CString::new(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"c"}}}"#,
    )
    .unwrap();
    let mut r = ptr::null_mut();
    let s = unsafe { mcpauth_client_post_json(c, body.as_ptr(), &mut r) };
    assert_eq!(s, mcpauth_status::Ok, "{}", message());
    unsafe {
        mcpauth_response_free(r);
        mcpauth_client_free(c);
    }
    let registrations = server.requests_to("/register");
    assert_eq!(registrations.len(), 1);
    let reg = registrations[0].json().unwrap();
    assert_eq!(reg["client_name"], "C host");
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(reg["software_id"], "c-host");
    assert_eq!(reg["contacts"], serde_json::json!(["ops@c.example"]));
    let token = server.requests_to("/token");
    assert!(token[0].form_value("client_secret").is_some());
}

#[test]
fn an_option_without_effect_is_an_invalid_argument() {
    let (status, m) = client(
        r#"{"server_url":"http://127.0.0.1:1/mcp","token_endpoint_auth_method":"client_secret_post"}"#,
    )
    .unwrap_err();
    assert_eq!(status, mcpauth_status::InvalidArgument);
    assert!(
        m.contains("client_metadata.token_endpoint_auth_method"),
        "{m}"
    );
}
