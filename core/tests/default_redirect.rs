//! The default redirect handler (issue 13 item 6): without one of its own, a client of the
//! authorization code grant completes the login in the system browser on a loopback listener
//! (RFC 8252 §7.3); headless only when asked, and a headless flow that lands on a login page
//! says so.
//!
//! The browser test re-executes this binary twice: as the host (`MCP_AUTH_DEFAULT_ROLE=host`,
//! a client with no redirect handler against the parent's demo server, with `BROWSER` set only
//! there) and as the "system browser" that script starts (`=browser`: it GETs the authorization
//! URL and follows the redirect to the listener, as a user's browser does after the login).
//! Both entries are no-ops in a normal run.
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mcp_auth::authorization::{BrowserLaunch, LoopbackBrowser, RedirectContext, RedirectHandler};
use mcp_auth::{Client, Error, ErrorKind, Grant};
use mcp_auth_demo_server::{DemoConfig, FaultAction, RouteFault};

const ROLE: &str = "MCP_AUTH_DEFAULT_ROLE";

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-default-redirect-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run `handler` on `url` directly (no HTTP client: the loopback handler needs none).
fn authorize(
    handler: &LoopbackBrowser,
    url: &str,
) -> mcp_auth::Result<mcp_auth::authorization::AuthorizationCodeResult> {
    let uri = handler.redirect_uri().unwrap();
    let http =
        |_r: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, Error> { unreachable!() };
    handler.authorize(
        url,
        &RedirectContext {
            http: &http,
            redirect_uri: &uri,
        },
    )
}

/// One HTTP/1.0 GET on loopback: the status and the `Location`, if any.
fn get(url: &str) -> (u16, Option<String>) {
    let u = url::Url::parse(url).unwrap();
    let mut s = TcpStream::connect((u.host_str().unwrap(), u.port().unwrap())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let target = &u[url::Position::BeforePath..url::Position::AfterQuery];
    write!(
        s,
        "GET {target} HTTP/1.0\r\nHost: {}\r\n\r\n",
        u.authority()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let location = answer
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or(l.strip_prefix("Location: "))
        })
        .map(str::to_owned);
    (status, location)
}

/// The "system browser": what a user's browser does once the user has logged in.
#[test]
fn browser_entry() {
    if std::env::var(ROLE).as_deref() != Ok("browser") {
        return;
    }
    let url = std::env::var("BROWSER_URL").unwrap();
    std::fs::write(std::env::var("BROWSER_MARK").unwrap(), &url).unwrap();
    let (status, location) = get(&url);
    assert_eq!(status, 302, "the demo AS redirects at once");
    let (status, _) = get(&location.unwrap());
    assert_eq!(status, 200, "the loopback listener's page");
}

/// The host: a client with no redirect handler of its own.
#[test]
fn host_entry() {
    if std::env::var(ROLE).as_deref() != Ok("host") {
        return;
    }
    let client = Client::builder(&std::env::var("MCP_URL").unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let uri = client.redirect_uri().to_owned();
    initialize(&client).unwrap();
    println!("redirect_uri {uri}");
}

#[test]
fn the_default_handler_is_the_system_browser_on_a_loopback_listener() {
    let h = Harness::start(DemoConfig::default());
    let dir = tempdir();
    let mark = dir.join("browser-was-started");
    let browser = dir.join("browser");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nBROWSER_URL=\"$1\" {ROLE}=browser exec \"$SELF\" --exact browser_entry --test-threads=1 >/dev/null\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "host_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, "host")
        .env("BROWSER", &browser)
        .env("SELF", std::env::current_exe().unwrap())
        .env("BROWSER_MARK", &mark)
        .env("MCP_URL", h.server.mcp_url())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "host failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The browser was started on the authorization URL the server then saw.
    let opened = std::fs::read_to_string(&mark).expect("the browser was started");
    let authorize = h.requests_to("/authorize");
    assert_eq!(authorize.len(), 1, "{:?}", h.lines());
    let sent = authorize[0].query_value("redirect_uri").unwrap();
    assert!(opened.contains(&format!(
        "redirect_uri={}",
        form_urlencoded::byte_serialize(sent.as_bytes()).collect::<String>()
    )));
    // RFC 8252 §7.3: a loopback IP literal, an ephemeral port, and the listener took the code
    // (the exchange happened with that redirect URI).
    let u = url::Url::parse(&sent).unwrap();
    assert_eq!(
        (u.scheme(), u.host_str(), u.path()),
        ("http", Some("127.0.0.1"), "/callback")
    );
    assert!(stdout.contains(&format!("redirect_uri {sent}")), "{stdout}");
    assert_eq!(h.server.grant_count("authorization_code"), 1);
    let exchanged = h.requests_to("/token");
    assert_eq!(
        exchanged[0].form_value("redirect_uri").as_deref(),
        Some(sent.as_str())
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A login on a machine without a display: the "system browser" handler starts none.
#[test]
fn no_display_entry() {
    if std::env::var(ROLE).as_deref() != Ok("no-display") {
        return;
    }
    let handler = LoopbackBrowser::bind(0, Duration::from_secs(300), BrowserLaunch::Open).unwrap();
    let e = authorize(&handler, "https://as.example/authorize?state=s").unwrap_err();
    println!("error {:?}: {e}", e.kind());
}

/// Without a display and without `$BROWSER` (SSH, containers, CI) no browser is started and
/// the login fails at once naming the alternatives, instead of waiting for its timeout.
#[test]
fn without_a_display_the_default_starts_no_browser_and_fails_at_once() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_display_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, "no-display")
        .env_remove("BROWSER")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("error Authorization: No browser could be started"),
        "{stdout}"
    );
    assert!(stdout.contains("no display and no $BROWSER"), "{stdout}");
}

#[test]
fn a_configured_loopback_redirect_uri_is_listened_on_only_when_a_login_starts() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("http://localhost:{port}/cb");
    let client = Client::builder("http://127.0.0.1:1/mcp")
        .config(|c| c.client_metadata.redirect_uris = Some(vec![uri.clone()]))
        .build()
        .unwrap();
    assert_eq!(client.redirect_uri(), uri);
    // Not held by the built client: another one (or anything) can bind it meanwhile.
    let second = Client::builder("http://127.0.0.1:1/mcp")
        .config(|c| c.client_metadata.redirect_uris = Some(vec![uri.clone()]))
        .build()
        .unwrap();
    assert_eq!(second.redirect_uri(), uri);
    drop(TcpListener::bind(("127.0.0.1", port)).expect("the port is free"));
}

#[test]
fn a_redirect_uri_the_default_cannot_receive_on_is_an_error_at_build() {
    let e = Client::builder("http://127.0.0.1:1/mcp")
        .config(|c| {
            c.client_metadata.redirect_uris =
                Some(vec!["https://app.example/oauth/callback".to_owned()])
        })
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(
        e.to_string().contains("https://app.example/oauth/callback"),
        "{e}"
    );
    assert!(e.to_string().contains("redirect handler"), "{e}");
    // Other grants send nobody to an authorization endpoint: no handler needed.
    Client::builder("http://127.0.0.1:1/mcp")
        .config(|c| {
            c.client_metadata.redirect_uris =
                Some(vec!["https://app.example/oauth/callback".to_owned()])
        })
        .grant(Grant::ClientCredentials)
        .pre_registered(mcp_auth::PreRegisteredClient::with_secret(
            "c",
            "s",
            mcp_auth::token::TokenEndpointAuthMethod::ClientSecretBasic,
        ))
        .build()
        .unwrap();
}

#[test]
fn no_browser_and_no_url_handler_fails_at_once_instead_of_waiting() {
    // A 300 s wait would be the failure mode: the error must come before it.
    let handler =
        LoopbackBrowser::bind(0, Duration::from_secs(300), BrowserLaunch::PrintOnly).unwrap();
    let e = authorize(&handler, "https://as.example/authorize?state=secret-state").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authorization);
    let m = e.to_string();
    assert!(
        m.contains("no URL handler shows the authorization URL"),
        "{m}"
    );
    assert!(
        m.contains("paste-back") && m.contains("device grant"),
        "{m}"
    );
    assert!(!m.contains("secret-state"), "{m}");
    // With a URL handler the host shows it, and the wait proceeds (here: to a short timeout).
    let shown = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = shown.clone();
    let handler = LoopbackBrowser::bind(0, Duration::from_millis(50), BrowserLaunch::PrintOnly)
        .unwrap()
        .on_url(Arc::new(move |url: &str, opened: bool| {
            seen.lock().unwrap().push((url.to_owned(), opened))
        }));
    let e = authorize(&handler, "https://as.example/authorize?state=s").unwrap_err();
    assert!(e.to_string().contains("No authorization redirect"), "{e}");
    assert_eq!(
        *shown.lock().unwrap(),
        [("https://as.example/authorize?state=s".to_owned(), false)]
    );
}

#[test]
fn a_headless_flow_that_lands_on_a_login_page_says_so() {
    let h = Harness::start(DemoConfig::default());
    h.server.update(|cfg| {
        cfg.faults.routes.push(RouteFault::new(
            "/authorize",
            FaultAction::Respond {
                status: 200,
                headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                body: b"<!doctype html><form method=post><input name=password></form>".to_vec(),
            },
        ))
    });
    let c = h.client();
    let e = initialize(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authorization, "{e}");
    let m = e.to_string();
    assert!(m.contains("login or consent page"), "{m}");
    assert!(m.contains("loopback browser handler (the default)"), "{m}");
    assert_eq!(h.requests_to("/authorize").len(), 1);
    assert!(h.requests_to("/token").is_empty());
}
