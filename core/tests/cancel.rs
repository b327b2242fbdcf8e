//! Cancellation (`Client::cancel`): a flow waiting for the browser redirect, or between HTTP
//! steps, returns `ErrorKind::Cancelled` promptly, and the next call works normally.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::*;
use mcp_auth::ErrorKind;
use mcp_auth::authorization::{BrowserLaunch, LoopbackBrowser};
use mcp_auth_demo_server::DemoConfig;

/// Plays the browser: follows the authorization URL (auto-approved) and delivers the redirect
/// to the loopback listener.
fn browser(authorization_url: &str) {
    let agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let resp = agent.get(authorization_url).call().unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let _ = agent.get(&location).call();
}

#[test]
fn cancel_during_the_browser_wait_returns_cancelled_and_the_next_call_works() {
    let h = Harness::start(DemoConfig::default());
    let (opened_tx, opened_rx) = mpsc::channel::<()>();
    let opened_tx = std::sync::Mutex::new(opened_tx);
    let play = Arc::new(AtomicBool::new(false));
    let launch = {
        let play = play.clone();
        BrowserLaunch::Custom(Arc::new(move |url: &str| {
            if play.load(Ordering::SeqCst) {
                let url = url.to_owned();
                std::thread::spawn(move || browser(&url));
            } else {
                // The user never comes back: only a cancel ends this wait (300 s).
                let _ = opened_tx.lock().unwrap().send(());
            }
        }))
    };
    let handler = LoopbackBrowser::bind(0, Duration::from_secs(300), launch).unwrap();
    let c = h
        .builder()
        .redirect_handler(Arc::new(handler))
        .build()
        .unwrap();
    let canceller = {
        let token = c.cancel_token();
        std::thread::spawn(move || {
            opened_rx.recv().unwrap();
            let at = Instant::now();
            token.cancel();
            at
        })
    };
    let e = initialize(&c).unwrap_err();
    let returned = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    let took = returned.duration_since(cancelled_at);
    eprintln!("cancel during the browser wait returned after {took:?}");
    // Generous bound (loaded machines, valgrind): the wait itself is 300 s.
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(h.requests_to("/token").is_empty(), "no code was exchanged");

    // The next call on the same client runs normally.
    play.store(true, Ordering::SeqCst);
    initialize(&c).unwrap();
    assert_eq!(h.requests_to("/token").len(), 1);
}

#[test]
fn cancel_between_http_steps_stops_the_flow_before_the_next_request() {
    let h = Harness::start(DemoConfig::default());
    let client: Arc<std::sync::OnceLock<mcp_auth::Client>> = Arc::new(Default::default());
    let seen = Arc::new(AtomicUsize::new(0));
    // An HTTP seam that cancels the client after the first request of the flow completed.
    let http = {
        let client = client.clone();
        let seen = seen.clone();
        let inner = mcp_auth::http::UreqHttpClient::new(mcp_auth::http::HttpConfig::default());
        move |req: http::Request<Vec<u8>>| {
            let r = mcp_auth::http::HttpClient::execute(&inner, req);
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                client.get().unwrap().cancel();
            }
            r
        }
    };
    let c = h.builder().http_client(Arc::new(http)).build().unwrap();
    client.set(c.clone()).unwrap();
    let e = initialize(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "no request after the cancel"
    );
    assert_eq!(h.requests_to("/mcp").len(), 1);
    // Later calls are not cancelled.
    initialize(&c).unwrap();
    assert_eq!(h.requests_to("/token").len(), 1);
}
