//! The redirect handlers (loopback browser per RFC 8252 §7.3, caller callback) driving a real
//! flow, and the file store under concurrent writers.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mcp_auth::authorization::{BrowserLaunch, CallbackRedirect, LoopbackBrowser, RedirectHandler};
use mcp_auth::metadata::OAuthToken;
use mcp_auth::storage::{FileStorage, TokenStorage};
use mcp_auth::{Error, ErrorKind};
use mcp_auth_demo_server::DemoConfig;

/// Plays the browser: follows the authorization URL to the AS (which auto-approves with a
/// 302), then delivers the redirect to the loopback listener, like a user agent would.
fn browser(authorization_url: &str) -> String {
    let agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let resp = agent.get(authorization_url).call().unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    let mut stream = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).unwrap();
    let target = format!("{}?{}", url.path(), url.query().unwrap_or(""));
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    page
}

#[test]
fn rfc8252_loopback_browser_completes_a_flow() {
    let h = Harness::start(DemoConfig::default());
    let pages = Arc::new(std::sync::Mutex::new(Vec::new()));
    let launch = {
        let pages = pages.clone();
        BrowserLaunch::Custom(Arc::new(move |url: &str| {
            // The "user" opens the URL in a browser, which comes back to the listener.
            let url = url.to_owned();
            let pages = pages.clone();
            std::thread::spawn(move || pages.lock().unwrap().push(browser(&url)));
        }))
    };
    let handler = Arc::new(LoopbackBrowser::bind(0, Duration::from_secs(20), launch).unwrap());
    let redirect_uri = handler.redirect_uri().unwrap();
    assert!(
        redirect_uri.starts_with("http://127.0.0.1:"),
        "{redirect_uri}"
    );
    let c = h.builder().redirect_handler(handler).build().unwrap();
    assert_eq!(c.redirect_uri(), redirect_uri);
    initialize(&c).unwrap();
    // Registered with, and authorized for, the listener's own redirect URI.
    let reg = h.only("/register").json().unwrap();
    assert_eq!(reg["redirect_uris"][0], redirect_uri.as_str());
    assert_eq!(
        h.only("/authorize").query_value("redirect_uri").as_deref(),
        Some(redirect_uri.as_str())
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pages.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let page = pages
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("the browser got a page");
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("You may close this window"),
        "{page}"
    );
}

#[test]
fn loopback_listener_ignores_stray_requests() {
    let launch = BrowserLaunch::Custom(Arc::new(|_url: &str| {}));
    let handler = LoopbackBrowser::bind(0, Duration::from_secs(10), launch).unwrap();
    let uri = handler.redirect_uri().unwrap();
    let port = url::Url::parse(&uri).unwrap().port().unwrap();
    let path = url::Url::parse(&uri).unwrap().path().to_owned();
    let client = std::thread::spawn(move || {
        let mut stray = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stray
            .write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut resp = String::new();
        stray.read_to_string(&mut resp).unwrap();
        let mut real = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            real,
            "GET {path}?code=c&state=s HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .unwrap();
        let mut page = String::new();
        real.read_to_string(&mut page).unwrap();
        (resp, page)
    });
    let http =
        |_r: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, Error> { unreachable!() };
    let ctx = mcp_auth::authorization::RedirectContext {
        http: &http,
        redirect_uri: &uri,
    };
    let result = handler
        .authorize("https://as.example/authorize", &ctx)
        .unwrap();
    assert_eq!(result.code.secret(), "c");
    let (stray, page) = client.join().unwrap();
    assert!(stray.starts_with("HTTP/1.1 404"), "{stray}");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
}

#[test]
fn rfc8252_loopback_listener_receives_the_redirect_and_answers_the_browser() {
    // Drive the handler directly: a thread plays the AS redirecting the browser back.
    let handler = LoopbackBrowser::bind(0, Duration::from_secs(10), BrowserLaunch::PrintOnly)
        .unwrap()
        .on_url(Arc::new(|_: &str, _: bool| {})); // the thread below plays the browser
    let redirect_uri = handler.redirect_uri().unwrap();
    let uri = redirect_uri.clone();
    let browser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let url = url::Url::parse(&uri).unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", url.port().unwrap())).unwrap();
        write!(
            s,
            "GET {}?code=abc&state=xyz&iss=https%3A%2F%2Fas HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            url.path()
        )
        .unwrap();
        let mut page = String::new();
        s.read_to_string(&mut page).unwrap();
        page
    });
    let http =
        |_r: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, Error> { unreachable!() };
    let ctx = mcp_auth::authorization::RedirectContext {
        http: &http,
        redirect_uri: &redirect_uri,
    };
    let result = handler
        .authorize("https://as.example/authorize?x=1", &ctx)
        .unwrap();
    assert_eq!(result.code.secret(), "abc");
    assert_eq!(result.state.as_deref(), Some("xyz"));
    assert_eq!(result.iss.as_deref(), Some("https://as"));
    let page = browser.join().unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("You may close this window"));
}

#[test]
fn loopback_listener_times_out_with_a_clear_error() {
    let handler = LoopbackBrowser::bind(0, Duration::from_millis(200), BrowserLaunch::PrintOnly)
        .unwrap()
        .on_url(Arc::new(|_: &str, _: bool| {})); // shown, but nobody follows it
    let http =
        |_r: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, Error> { unreachable!() };
    let uri = handler.redirect_uri().unwrap();
    let ctx = mcp_auth::authorization::RedirectContext {
        http: &http,
        redirect_uri: &uri,
    };
    let e = handler
        .authorize("https://as.example/authorize", &ctx)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authorization);
    assert!(e.to_string().contains("No authorization redirect"), "{e}");
}

#[test]
fn caller_supplied_callback_completes_a_flow_through_a_browser() {
    let h = Harness::start(DemoConfig::default());
    let handler = Arc::new(CallbackRedirect::new(
        Some("http://127.0.0.1:1/cb".to_owned()),
        |url: &str| -> Result<String, Error> {
            // A host would open a webview; we play the user agent and return where the AS
            // redirected it.
            let agent = ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .build()
                .new_agent();
            let resp = agent
                .get(url)
                .call()
                .map_err(|e| Error::invalid_argument("test", e.to_string()))?;
            Ok(resp.headers()["location"].to_str().unwrap().to_owned())
        },
    ));
    let c = h.builder().redirect_handler(handler).build().unwrap();
    initialize(&c).unwrap();
    let auth = h.only("/authorize");
    assert_eq!(
        auth.query_value("redirect_uri").as_deref(),
        Some("http://127.0.0.1:1/cb")
    );
}

#[test]
fn file_store_keeps_every_write_of_concurrent_writers() {
    let dir = std::env::temp_dir().join(format!("mcp-auth-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("creds.json");
    let _ = std::fs::remove_file(&path);
    // Separate FileStorage values (separate lock file descriptions), as two processes have.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = FileStorage::new(&path);
                for i in 0..25 {
                    let mut t = OAuthToken::new(format!("token-{w}-{i}"));
                    t.expires_in = Some(60);
                    store
                        .set_tokens(&format!("https://rs{w}.example/{i}"), &t)
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = FileStorage::new(&path);
    for w in 0..4 {
        for i in 0..25 {
            let t = store
                .get_tokens(&format!("https://rs{w}.example/{i}"))
                .unwrap()
                .unwrap();
            assert_eq!(t.access_token.secret(), format!("token-{w}-{i}"));
        }
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["tokens"].as_object().unwrap().len(), 100);
    // No temp file left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().contains(".tmp-")),
        "{leftovers:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn file_store_reports_a_corrupt_file_and_does_not_overwrite_it() {
    let dir = std::env::temp_dir().join(format!("mcp-auth-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("creds.json");
    std::fs::write(&path, b"{not json").unwrap();
    let store = FileStorage::new(&path);
    let e = store.get_tokens("https://rs").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    let e = store
        .set_tokens("https://rs", &OAuthToken::new("t"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"{not json",
        "the user's file is left as it was"
    );
    let _ = std::fs::remove_dir_all(dir);
}
