//! What the user must see during a login goes to the host, never to the terminal by the
//! library itself: an RFC 8628 device code reaches `HostDisplay::on_device_code`; without a
//! display it goes to the log only (checked on a child process's stderr); a paste-back
//! redirect hands its URL to `HostDisplay::on_url`.
//!
//! The demo server plays a device-flow authorization server through its route faults: AS
//! metadata naming `/device`, a device authorization answer, and a token endpoint that answers
//! `access_denied` (the user refused), which ends the poll at once.

mod common;

use std::sync::{Arc, Mutex};

use common::Harness;
use mcp_auth::ClientOptions;
use mcp_auth::device::DeviceAuthorization;
use mcp_auth::options::HostDisplay;
use mcp_auth_demo_server::{DemoConfig, FaultAction, RouteFault};
use serde_json::json;

const USER_CODE: &str = "WDJB-MJHT";

fn device_server() -> Harness {
    let h = Harness::start(DemoConfig::default());
    let origin = h.server.mcp_url().trim_end_matches("/mcp").to_owned();
    let device = json!({
        "device_code": "dc-1",
        "user_code": USER_CODE,
        "verification_uri": format!("{origin}/verify"),
        "verification_uri_complete": format!("{origin}/verify?user_code={USER_CODE}"),
        "expires_in": 600,
        "interval": 1,
    });
    h.server.update(|c| {
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
    h
}

fn device_options(h: &Harness) -> ClientOptions {
    ClientOptions::from_json(
        &json!({
            "server_url": h.server.mcp_url(),
            "grant": "device_code",
            "redirect": {"type": "device", "open_browser": false},
        })
        .to_string(),
    )
    .unwrap()
}

#[test]
fn the_device_code_goes_to_the_hosts_display() {
    let h = device_server();
    let shown: Arc<Mutex<Vec<DeviceAuthorization>>> = Arc::default();
    let seen = shown.clone();
    let client = device_options(&h)
        .builder_with_display(HostDisplay {
            on_url: None,
            on_device_code: Some(Arc::new(move |info: &DeviceAuthorization| {
                seen.lock().unwrap().push(info.clone());
            })),
        })
        .unwrap()
        .build()
        .unwrap();
    let e = common::initialize(&client).unwrap_err();
    assert!(e.to_string().contains("access_denied"), "{e}");
    let shown = shown.lock().unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].user_code, USER_CODE);
    assert!(shown[0].verification_uri.ends_with("/verify"));
    assert!(
        shown[0]
            .verification_uri_complete
            .as_deref()
            .is_some_and(|u| u.ends_with(USER_CODE))
    );
    assert_eq!(h.requests_to("/device").len(), 1);
    assert_eq!(h.requests_to("/token").len(), 1, "the denial ends the poll");
}

/// Run alone in a child process by [`without_a_display_nothing_is_printed`].
#[test]
fn child_device_login_without_display() {
    if std::env::var_os("MCPAUTH_DISPLAY_CHILD").is_none() {
        return;
    }
    let h = device_server();
    let client = device_options(&h).builder().unwrap().build().unwrap();
    let e = common::initialize(&client).unwrap_err();
    assert!(e.to_string().contains("access_denied"), "{e}");
    assert_eq!(h.requests_to("/device").len(), 1, "the code was obtained");
    println!("MCPAUTH_DISPLAY_CHILD_DONE");
}

#[test]
fn without_a_display_nothing_is_printed() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_device_login_without_display",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MCPAUTH_DISPLAY_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stdout}{stderr}");
    assert!(stdout.contains("MCPAUTH_DISPLAY_CHILD_DONE"), "{stdout}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains(USER_CODE) && !text.contains("/verify"),
            "the library printed the device code on {name}: {text}"
        );
    }
}

#[test]
fn a_paste_back_redirect_hands_its_url_to_the_host() {
    let h = Harness::start(DemoConfig::default());
    let urls: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let seen = urls.clone();
    let options = ClientOptions::from_json(
        &json!({
            "server_url": h.server.mcp_url(),
            // Nothing is pasted on a test's stdin: the wait ends at the timeout.
            "redirect": {"type": "paste", "timeout_secs": 1},
        })
        .to_string(),
    )
    .unwrap();
    let client = options
        .builder_with_display(HostDisplay {
            on_url: Some(Arc::new(move |url: &str, opened: bool| {
                seen.lock().unwrap().push((url.to_owned(), opened));
            })),
            on_device_code: None,
        })
        .unwrap()
        .build()
        .unwrap();
    let e = common::initialize(&client).unwrap_err();
    assert_eq!(e.kind(), mcp_auth::ErrorKind::Authorization, "{e}");
    let urls = urls.lock().unwrap();
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(urls[0].0.contains("/authorize?"), "{urls:?}");
    assert!(urls[0].0.contains("code_challenge="), "{urls:?}");
    assert!(!urls[0].1, "no browser was opened");
    assert!(h.requests_to("/token").is_empty());
}
