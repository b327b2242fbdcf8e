//! The trust boundary through the C ABI: `mcpauth_client_send` binds the token to the MCP
//! server's origin (`MCPAUTH_STATUS_FOREIGN_ORIGIN`, or no token with the `cross_origin`
//! option), and a server-supplied URL the address policy refuses is
//! `MCPAUTH_STATUS_ADDRESS_REFUSED` with nothing sent to it.

// Test code: every unsafe block calls the C ABI with arguments built right beside it, as its
// documentation requires; a SAFETY comment on each would only repeat that.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::{CStr, CString};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mcp_auth_demo_server::{DemoConfig, DemoServer};
use mcpauth::*;

fn message() -> String {
    let p = mcpauth_last_error_message();
    if p.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

struct Client(*mut mcpauth_client);

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { mcpauth_client_free(self.0) }
    }
}

fn build(options: &str) -> Client {
    let options = CString::new(options).unwrap();
    let (mut config, mut client) = (ptr::null_mut(), ptr::null_mut());
    unsafe {
        assert_eq!(
            mcpauth_client_config_new(options.as_ptr(), &mut config),
            mcpauth_status::Ok,
            "{}",
            message()
        );
        let s = mcpauth_client_new(config, &mut client);
        mcpauth_client_config_free(config);
        assert_eq!(s, mcpauth_status::Ok, "{}", message());
    }
    Client(client)
}

/// `mcpauth_client_send`; the response handle is freed at once, its status returned.
fn send(
    client: &Client,
    method: &str,
    url: Option<&str>,
    body: &[u8],
) -> Result<u16, mcpauth_status> {
    let method = CString::new(method).unwrap();
    let url = url.map(|u| CString::new(u).unwrap());
    let headers = CString::new(
        r#"{"content-type":"application/json","accept":"application/json, text/event-stream"}"#,
    )
    .unwrap();
    let mut r = ptr::null_mut();
    let s = unsafe {
        mcpauth_client_send(
            client.0,
            method.as_ptr(),
            url.as_ref().map_or(ptr::null(), |u| u.as_ptr()),
            headers.as_ptr(),
            body.as_ptr(),
            body.len(),
            &mut r,
        )
    };
    if s != mcpauth_status::Ok {
        assert!(r.is_null(), "out-parameter written on failure");
        return Err(s);
    }
    let mut status = 0;
    unsafe {
        assert_eq!(mcpauth_response_status(r, &mut status), mcpauth_status::Ok);
        mcpauth_response_free(r);
    }
    Ok(status)
}

const INITIALIZE: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"0"}}}"#;

/// A listener answering 404 to every request, recording the request heads.
fn responder() -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let heads: Arc<Mutex<Vec<String>>> = Arc::default();
    let (h, l) = (hits.clone(), heads.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            h.fetch_add(1, Ordering::SeqCst);
            l.lock().unwrap().push(head);
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (origin, hits, heads)
}

#[test]
fn send_to_another_origin_is_refused_or_goes_without_the_token() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let (other, hits, heads) = responder();
    let refusing = build(&format!(
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}}}}"#,
        server.mcp_url()
    ));
    assert_eq!(
        send(&refusing, "POST", None, INITIALIZE),
        Ok(200),
        "{}",
        message()
    );
    let e = send(
        &refusing,
        "POST",
        Some(&format!("{other}/steal")),
        INITIALIZE,
    )
    .unwrap_err();
    assert_eq!(e, mcpauth_status::ForeignOrigin);
    assert!(message().contains(&server.origin()), "{}", message());
    assert_eq!(
        unsafe { CStr::from_ptr(mcpauth_status_name(e as i32)) }
            .to_str()
            .unwrap(),
        "FOREIGN_ORIGIN"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    let lenient = build(&format!(
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}},"cross_origin":"without_token"}}"#,
        server.mcp_url()
    ));
    assert_eq!(
        send(&lenient, "POST", None, INITIALIZE),
        Ok(200),
        "{}",
        message()
    );
    assert_eq!(
        send(&lenient, "GET", Some(&format!("{other}/public")), b""),
        Ok(404)
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let head = heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(!head.contains("authorization"), "{head}");
}

#[test]
fn a_refused_server_supplied_url_is_address_refused_and_never_reached() {
    let victim = TcpListener::bind("127.0.0.1:0").unwrap();
    let config = DemoConfig {
        resource_metadata_override: Some(format!(
            "http://someone:pw-never-shown@{}/prm",
            victim.local_addr().unwrap()
        )),
        ..DemoConfig::default()
    };
    let server = DemoServer::start(config).unwrap();
    let client = build(&format!(
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}},"timeout_ms":10000}}"#,
        server.mcp_url()
    ));
    let e = send(&client, "POST", None, INITIALIZE).unwrap_err();
    assert_eq!(e, mcpauth_status::AddressRefused, "{}", message());
    assert!(message().contains("userinfo"), "{}", message());
    assert!(!message().contains("pw-never-shown"), "{}", message());
    victim.set_nonblocking(true).unwrap();
    assert!(victim.accept().is_err(), "the victim was reached");
}

#[test]
fn allowed_addresses_is_an_option_and_a_bad_entry_is_named() {
    let options = CString::new(
        r#"{"server_url":"http://127.0.0.1:1/mcp","allowed_addresses":["10.0.0.0/99"]}"#,
    )
    .unwrap();
    let (mut config, mut client) = (ptr::null_mut(), ptr::null_mut());
    let s = unsafe {
        let s = mcpauth_client_config_new(options.as_ptr(), &mut config);
        if s == mcpauth_status::Ok {
            let s = mcpauth_client_new(config, &mut client);
            mcpauth_client_config_free(config);
            s
        } else {
            s
        }
    };
    assert_eq!(s, mcpauth_status::InvalidArgument);
    assert!(message().contains("10.0.0.0/99"), "{}", message());
    assert!(client.is_null());
}
