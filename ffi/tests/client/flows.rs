//! The client API through host callbacks and the options JSON.

use super::*;

// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn host_callbacks_drive_the_whole_flow() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let h = Host::default();
    let client = build(&options(&server), Some(&h), (true, true, true)).unwrap();

    let r = call(&client, "tools/call", ECHO).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.authorizations(), 1);
    assert!(r.body().contains("hi from the C ABI"));
    assert_eq!(
        r.header("Content-Type").as_deref(),
        Some("application/json")
    );
    let challenge = json(&r.challenge().expect("the 401 challenge is kept"));
    assert_eq!(challenge["status"], 401);
    assert_eq!(challenge["bearer"]["error"], "invalid_token");
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_response_headers_json(r.0, &mut out) },
        mcpauth_status::Ok
    );
    let headers = json(&take(out).unwrap());
    assert!(
        headers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p[0] == "content-type")
    );
    drop(r);

    // The trace saw every step, in order, and no secret.
    let steps: Vec<String> = h
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        steps,
        [
            "mcp_request",
            "protected_resource_metadata",
            "authorization_server_metadata",
            "scope_selection",
            "registration",
            "authorization",
            "token_exchange",
            "mcp_request"
        ]
    );
    // The host's storage got the registration (bound to the issuer) and the tokens.
    {
        let store = h.store.lock().unwrap();
        let info = store
            .get(&("client_info".to_owned(), server.issuer()))
            .expect("client info stored under the issuer");
        assert_eq!(json(info)["issuer"], server.issuer());
        let mut key = ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(
            unsafe { mcpauth_client_resource_key(client.0, &mut key) },
            mcpauth_status::Ok
        );
        let tokens = store
            .get(&("tokens".to_owned(), take(key).unwrap()))
            .expect("tokens stored under the resource");
        let tokens = json(tokens);
        assert!(
            tokens["access_token"]
                .as_str()
                .unwrap()
                .starts_with("mcpat_")
        );
        assert!(tokens["expires_at"].is_u64());
        for e in h.events.lock().unwrap().iter() {
            assert!(
                !e.to_string()
                    .contains(tokens["access_token"].as_str().unwrap()),
                "a token leaked into the trace"
            );
        }
    }
    assert!(h.ops.lock().unwrap().contains(&"redirect".to_owned()));

    // A second client on the same host storage needs no authorization.
    let again = build(&options(&server), Some(&h), (true, true, false)).unwrap();
    let r = call(&again, "tools/call", ECHO).unwrap();
    assert_eq!((r.status(), r.authorizations()), (200, 0));

    // Token access and logout.
    let mut token = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_access_token(again.0, &mut token) },
        mcpauth_status::Ok
    );
    assert!(take(token).unwrap().starts_with("mcpat_"));
    let mut scope = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_granted_scope(again.0, &mut scope) },
        mcpauth_status::Ok
    );
    assert_eq!(take(scope).as_deref(), Some("mcp:read mcp:write"));
    // SAFETY: valid argument.
    assert_eq!(
        unsafe { mcpauth_client_logout(again.0) },
        mcpauth_status::Ok
    );
    assert!(h.ops.lock().unwrap().contains(&"remove tokens".to_owned()));
    assert!(!h.store.lock().unwrap().keys().any(|(k, _)| k == "tokens"));
}

#[test]
fn send_takes_method_url_headers_and_body() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let (method, headers) = (
        CString::new("POST").unwrap(),
        CString::new(
            r#"{"content-type":"application/json","accept":"application/json, text/event-stream"}"#,
        )
        .unwrap(),
    );
    let body = br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments; NULL url means the server URL.
    let s = unsafe {
        mcpauth_client_send(
            client.0,
            method.as_ptr(),
            ptr::null(),
            headers.as_ptr(),
            body.as_ptr(),
            body.len(),
            &mut r,
        )
    };
    assert_eq!(s, mcpauth_status::Ok, "{}", message());
    let r = Response(r);
    assert_eq!(r.status(), 200);
    assert!(r.body().contains("mcp:read"), "{}", r.body());

    // A non-success response is still a response.
    let url = CString::new(format!("{}/nowhere", server.origin())).unwrap();
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments; an empty body may be NULL.
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
    assert_eq!(s, mcpauth_status::Ok, "{}", message());
    let r = Response(r);
    assert_eq!(r.status(), 404);
    assert_eq!(r.body(), r.body().trim_end_matches('\0'));

    // Bad headers are the caller's error.
    let bad = CString::new(r#"{"bad header":"x"}"#).unwrap();
    let mut r = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe {
        mcpauth_client_send(
            client.0,
            method.as_ptr(),
            ptr::null(),
            bad.as_ptr(),
            ptr::null(),
            0,
            &mut r,
        )
    };
    assert_eq!(s, mcpauth_status::InvalidArgument);
    assert!(message().contains("bad header"), "{}", message());
}

#[test]
fn token_endpoint_errors_carry_the_oauth_error() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    server.add_fault(RouteFault::new(
        "/token",
        FaultAction::json(
            400,
            &serde_json::json!({"error":"invalid_grant","error_description":"code expired","error_uri":"https://as/e"}),
        ),
    ));
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let s = call(&client, "tools/call", ECHO).err().unwrap();
    assert_eq!(s, mcpauth_status::Token, "{}", message());
    assert_eq!(mcpauth_last_error_status(), mcpauth_status::Token);
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error()).as_deref(),
        Some("invalid_grant")
    );
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error_description()).as_deref(),
        Some("code expired")
    );
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error_uri()).as_deref(),
        Some("https://as/e")
    );
    assert_eq!(mcpauth_last_error_http_status(), 400);
    let all = json(&cstr(mcpauth_last_error_json()).unwrap());
    assert_eq!(all["status"], 304);
    assert_eq!(all["status_name"], "TOKEN");
    assert_eq!(all["kind"], "token");
    assert_eq!(all["oauth_error"]["error"], "invalid_grant");
    assert_eq!(all["http_status"], 400);
}

#[test]
fn a_server_that_keeps_refusing_gives_unauthorized_with_its_challenge() {
    let server = DemoServer::start(DemoConfig::topology("scope-retry-limit").unwrap()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let s = call(&client, "tools/call", ECHO).err().unwrap();
    assert_eq!(s, mcpauth_status::Unauthorized, "{}", message());
    assert_eq!(mcpauth_last_error_http_status(), 403);
    assert_eq!(
        cstr(mcpauth_last_error_oauth_error()).as_deref(),
        Some("insufficient_scope")
    );
    let challenge = json(&cstr(mcpauth_last_error_challenge_json()).unwrap());
    assert_eq!(challenge["status"], 403);
    assert_eq!(challenge["bearer"]["error"], "insufficient_scope");
    assert!(
        challenge["www_authenticate"][0]
            .as_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[test]
fn a_resource_mismatch_is_a_security_check() {
    let server = DemoServer::start(DemoConfig::topology("resource-mismatch").unwrap()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_discover(client.0, &mut out) };
    assert_eq!(s, mcpauth_status::SecurityCheck, "{}", message());
    assert!(out.is_null());
    assert_eq!(
        cstr(mcpauth_last_error_check()).as_deref(),
        Some("resource")
    );
    assert_eq!(
        server.count("/register"),
        0,
        "nothing sent after a failed check"
    );
}

#[test]
fn discovery_and_probe_return_json() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_probe(client.0, &mut out) },
        mcpauth_status::Ok
    );
    let probe = json(&take(out).unwrap());
    assert_eq!(probe["status"], 401);
    assert_eq!(probe["challenge"]["bearer"]["scope"], "mcp:read mcp:write");
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_discover(client.0, &mut out) },
        mcpauth_status::Ok
    );
    let d = json(&take(out).unwrap());
    assert_eq!(d["issuer"], server.issuer());
    assert_eq!(d["token_endpoint"], server.token_endpoint());
    assert_eq!(d["protected_resource"]["resource"], server.resource());
}

#[test]
fn redirect_handler_failures_are_authorization_errors() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let h = Host {
        redirect_error: Some(CString::new("the user closed the window").unwrap()),
        ..Host::default()
    };
    let client = build(&options(&server), Some(&h), (false, true, false)).unwrap();
    let s = call(&client, "tools/call", ECHO).err().unwrap();
    assert_eq!(s, mcpauth_status::Authorization);
    assert!(
        message().contains("redirect handler callback failed (7): the user closed the window"),
        "{}",
        message()
    );
}

#[test]
fn one_client_is_shared_by_threads() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let client = build(&options(&server), None, (false, false, false)).unwrap();
    let authorizations: u32 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let r = call(&client, "tools/call", ECHO).expect("call");
                    assert_eq!(r.status(), 200);
                    // The last error is per thread: a success here leaves none.
                    assert!(mcpauth_last_error_message().is_null());
                    r.authorizations()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(authorizations, 1, "one authorization serves every thread");
    assert_eq!(server.count("/token"), 1);
}

#[test]
fn configuration_errors_name_the_problem() {
    let e = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","scpoe":"x"}"#,
        None,
        (false, false, false),
    )
    .err()
    .unwrap();
    assert_eq!(e.0, mcpauth_status::InvalidArgument);
    assert!(e.1.contains("scpoe"), "{}", e.1);

    let e = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","redirect":{"type":"callback"}}"#,
        None,
        (false, false, false),
    )
    .err()
    .unwrap();
    assert_eq!(e.0, mcpauth_status::InvalidArgument);
    assert!(
        e.1.contains("mcpauth_client_config_set_redirect_handler"),
        "{}",
        e.1
    );

    let e = build(
        r#"{"server_url":"http://mcp.example.com/mcp"}"#,
        None,
        (false, false, false),
    )
    .err()
    .unwrap();
    assert_eq!(e.0, mcpauth_status::InsecureUrl, "{}", e.1);

    // The built-in loopback redirect binds its port when the client is built.
    let c = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","redirect":{"type":"loopback","port":0,"open_browser":false}}"#,
        None,
        (false, false, false),
    )
    .unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_redirect_uri(c.0, &mut out) },
        mcpauth_status::Ok
    );
    let uri = take(out).unwrap();
    assert!(
        uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"),
        "{uri}"
    );

    // A callback redirect option names the redirect URI the host receives on.
    let h = Host::default();
    let c = build(
        r#"{"server_url":"http://127.0.0.1:1/mcp","redirect":{"type":"callback","redirect_uri":"myapp://cb"}}"#,
        Some(&h),
        (false, true, false),
    )
    .unwrap();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_client_redirect_uri(c.0, &mut out) },
        mcpauth_status::Ok
    );
    assert_eq!(take(out).as_deref(), Some("myapp://cb"));
}

#[test]
fn file_storage_is_selectable_from_json() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("mcpauth-ffi-{}", std::process::id()));
    let path = dir.join("credentials.json");
    let options = format!(
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}},"storage":{{"type":"file","path":"{}"}}}}"#,
        server.mcp_url(),
        path.display()
    );
    let first = build(&options, None, (false, false, false)).unwrap();
    assert_eq!(
        call(&first, "tools/call", ECHO).unwrap().authorizations(),
        1
    );
    drop(first);
    let second = build(&options, None, (false, false, false)).unwrap();
    assert_eq!(
        call(&second, "tools/call", ECHO).unwrap().authorizations(),
        0
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
