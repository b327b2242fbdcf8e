//! Streamed responses through the C ABI (`mcpauth_client_send_streamed`, `mcpauth_stream_*`),
//! against the demo server: the event JSON, the end of a body, a stream that outlives its
//! client, and read errors mapped to statuses with their last-error message (the stream cap
//! while reading, the idle timeout). The large result and the long event stream are
//! `c_stream.rs` (a C program); bad input is in `bad_input/stream.rs`.

// Test code: every unsafe block calls the C ABI with arguments built right beside it.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use mcp_auth_demo_server::{DemoConfig, DemoServer};
use mcpauth::*;
use serde_json::Value;

const HEADERS: &str =
    r#"{"Content-Type":"application/json","Accept":"application/json, text/event-stream"}"#;

fn last_message() -> String {
    let p = mcpauth_last_error_message();
    assert!(!p.is_null(), "a failure leaves a message");
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn client(server: &DemoServer, extra: &str) -> *mut mcpauth_client {
    let options = CString::new(format!(
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}}{extra}}}"#,
        server.mcp_url()
    ))
    .unwrap();
    let (mut config, mut client) = (ptr::null_mut(), ptr::null_mut());
    assert_eq!(
        unsafe { mcpauth_client_config_new(options.as_ptr(), &mut config) },
        mcpauth_status::Ok
    );
    let s = unsafe { mcpauth_client_new(config, &mut client) };
    unsafe { mcpauth_client_config_free(config) };
    assert_eq!(s, mcpauth_status::Ok, "{}", last_message());
    client
}

fn open(
    client: *const mcpauth_client,
    method: &str,
    url: Option<&str>,
    headers: &str,
    body: &str,
) -> *mut mcpauth_stream {
    let (m, h) = (
        CString::new(method).unwrap(),
        CString::new(headers).unwrap(),
    );
    let url = url.map(|u| CString::new(u).unwrap());
    let mut stream = ptr::null_mut();
    let s = unsafe {
        mcpauth_client_send_streamed(
            client,
            m.as_ptr(),
            url.as_ref().map_or(ptr::null(), |u| u.as_ptr()),
            h.as_ptr(),
            body.as_ptr(),
            body.len(),
            &mut stream,
        )
    };
    assert_eq!(s, mcpauth_status::Ok, "{}", last_message());
    stream
}

fn tool(name: &str, arguments: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{{"name":"{name}","arguments":{arguments}}}}}"#
    )
}

/// The next event as JSON (`None` at the end), or the failing status.
fn next_event(stream: *mut mcpauth_stream) -> Result<Option<Value>, mcpauth_status> {
    let mut out: *mut c_char = ptr::null_mut();
    let s = unsafe { mcpauth_stream_next_event(stream, &mut out) };
    if s != mcpauth_status::Ok {
        return Err(s);
    }
    if out.is_null() {
        return Ok(None);
    }
    let json = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
    unsafe { mcpauth_string_free(out) };
    Ok(Some(serde_json::from_str(&json).unwrap()))
}

#[test]
fn a_get_stream_gives_events_as_json_then_null_at_its_end() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = client(&server, "");
    let url = format!("{}?count=3&interval_ms=1", server.mcp_url());
    // No token yet: the GET's 401 runs the flow before the head.
    let stream = open(
        client,
        "GET",
        Some(&url),
        r#"{"Accept":"text/event-stream"}"#,
        "",
    );
    unsafe { mcpauth_client_free(client) };
    // The stream outlives its client.
    let (mut status, mut events, mut authorizations) = (0u16, false, 0u32);
    unsafe {
        assert_eq!(
            mcpauth_stream_status(stream, &mut status),
            mcpauth_status::Ok
        );
        mcpauth_stream_is_event_stream(stream, &mut events);
        mcpauth_stream_authorizations(stream, &mut authorizations);
    }
    assert_eq!((status, events, authorizations), (200, true, 1));
    for k in 1..=3 {
        let e = next_event(stream).unwrap().expect("an event");
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["data", "event", "id", "retry_ms"], "{e}");
        assert_eq!(e["event"], "message");
        assert_eq!(e["id"], k.to_string());
        assert!(e["retry_ms"].is_null());
        let data: Value = serde_json::from_str(e["data"].as_str().unwrap()).unwrap();
        assert_eq!(data["method"], "notifications/message", "{data}");
    }
    assert_eq!(next_event(stream), Ok(None));
    assert_eq!(next_event(stream), Ok(None), "the end stays the end");
    unsafe { mcpauth_stream_free(stream) };
    let c = server.stream_counters();
    assert_eq!((c.started, c.completed, c.events_sent), (1, 1, 3), "{c:?}");
}

#[test]
fn bytes_end_with_zero_and_stay_ended() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = client(&server, "");
    let stream = open(
        client,
        "POST",
        None,
        HEADERS,
        &tool("big", r#"{"bytes":10}"#),
    );
    let mut body = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let mut n = usize::MAX;
        let s = unsafe { mcpauth_stream_read(stream, buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(s, mcpauth_status::Ok);
        assert!(n <= buf.len());
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let mut n = usize::MAX;
    let s = unsafe { mcpauth_stream_read(stream, buf.as_mut_ptr(), buf.len(), &mut n) };
    assert_eq!((s, n), (mcpauth_status::Ok, 0));
    let message: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(message["result"]["content"][0]["text"], "abcdefghij");
    unsafe {
        mcpauth_stream_free(stream);
        mcpauth_client_free(client);
    }
}

#[test]
fn the_stream_cap_while_reading_is_response_too_large() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = client(&server, r#","stream_max_body_bytes":1000"#);
    // An event stream has no length: the cap is met while reading.
    let stream = open(
        client,
        "POST",
        None,
        HEADERS,
        &tool("ticker", r#"{"count":50,"interval_ms":1}"#),
    );
    let status = loop {
        match next_event(stream) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended within the cap"),
            Err(s) => break s,
        }
    };
    assert_eq!(status, mcpauth_status::ResponseTooLarge);
    assert_eq!(mcpauth_last_error_status(), status);
    assert!(last_message().contains("1000"), "{}", last_message());
    unsafe {
        mcpauth_stream_free(stream);
        mcpauth_client_free(client);
    }
}

#[test]
fn a_silent_stream_ends_at_the_idle_timeout() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = client(&server, r#","stream_idle_timeout_ms":1000"#);
    // The first event at once, the second a minute later: the idle timeout (1 s) passes first.
    let stream = open(
        client,
        "POST",
        None,
        HEADERS,
        &tool("ticker", r#"{"count":2,"interval_ms":60000}"#),
    );
    assert!(next_event(stream).unwrap().is_some());
    assert_eq!(next_event(stream), Err(mcpauth_status::Timeout));
    assert_eq!(mcpauth_last_error_status(), mcpauth_status::Timeout);
    assert!(!last_message().is_empty());
    unsafe {
        mcpauth_stream_free(stream);
        mcpauth_client_free(client);
    }
}
