//! Hosts that send requests themselves; provider overrides through the options JSON.

use super::*;

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
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}},"timeout_ms":10000,"provider":"none",
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
