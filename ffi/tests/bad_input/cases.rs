//! The cases, one function of the C ABI after another (see `main.rs`).

use super::*;

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

const PRM: &str = r#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://as.example.com"],"scopes_supported":["a"]}"#;
const ASM: &str = r#"{"issuer":"https://as.example.com","authorization_endpoint":"https://as.example.com/authorize","token_endpoint":"https://as.example.com/token","scopes_supported":["a","offline_access"],"registration_endpoint":"https://as.example.com/register"}"#;
const CLIENT_INFO: &str = r#"{"client_id":"c1","client_secret":"s","token_endpoint_auth_method":"client_secret_basic","redirect_uris":["http://localhost:3000/callback"]}"#;
const CLIENT_METADATA: &str =
    r#"{"redirect_uris":["http://localhost:3000/callback"],"client_name":"t"}"#;
const TOKEN: &str = r#"{"access_token":"at","token_type":"bearer","expires_in":60}"#;

#[allow(clippy::too_many_lines)]
pub(super) fn stateless_functions(r: &Runner) {
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let (h, f, o) = (
        opt(r#"Bearer scope="a b", error="x""#),
        req("scope"),
        OutStr::new(),
    );
    case!(mcpauth_extract_field_from_www_auth(h, f, o); mcpauth_extract_field_from_www_auth(h.get(), f.get(), o.get()));
    let (h, o) = (opt(r#"Bearer scope="a b""#), OutStr::new());
    case!(mcpauth_extract_scope_from_www_auth(h, o); mcpauth_extract_scope_from_www_auth(h.get(), o.get()));
    let (h, o) = (
        opt(r#"Bearer resource_metadata="https://x/prm""#),
        OutStr::new(),
    );
    case!(mcpauth_extract_resource_metadata_from_www_auth(h, o); mcpauth_extract_resource_metadata_from_www_auth(h.get(), 401, o.get()));
    let (h, o) = (
        req(r#"Basic realm="r", Bearer error="invalid_token""#),
        OutStr::new(),
    );
    case!(mcpauth_parse_www_authenticate(h, o); mcpauth_parse_www_authenticate(h.get(), o.get()));
    let (w, s, o) = (
        opt("https://x/prm"),
        req("https://mcp.example.com/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_build_protected_resource_metadata_discovery_urls(w, s, o); mcpauth_build_protected_resource_metadata_discovery_urls(w.get(), s.get(), o.get()));
    let (a, s, o) = (
        opt("https://as.example.com/t"),
        req("https://mcp.example.com/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_build_oauth_authorization_server_metadata_discovery_urls(a, s, o); mcpauth_build_oauth_authorization_server_metadata_discovery_urls(a.get(), s.get(), o.get()));
    let (u, o) = (req("https://mcp.example.com/mcp"), OutStr::new());
    case!(mcpauth_mcp_origin(u, o); mcpauth_mcp_origin(u.get(), o.get()));
    let (w, p, a, g, o) = (
        opt("a b"),
        opt(PRM),
        opt(ASM),
        opt(r#"["authorization_code","refresh_token"]"#),
        OutStr::new(),
    );
    case!(mcpauth_get_client_metadata_scopes(w, p, a, g, o); mcpauth_get_client_metadata_scopes(w.get(), p.get(), a.get(), g.get(), o.get()));
    let (p, n, o) = (opt("a b"), opt("b c"), OutStr::new());
    case!(mcpauth_union_scopes(p, n, o); mcpauth_union_scopes(p.get(), n.get(), o.get()));
    let (i, m) = (opt("https://as.example.com"), opt(ASM));
    case!(mcpauth_validate_authorization_response_iss(i, m); mcpauth_validate_authorization_response_iss(i.get(), m.get()));
    let (m, e) = (req(ASM), req("https://as.example.com"));
    case!(mcpauth_validate_metadata_issuer(m, e); mcpauth_validate_metadata_issuer(m.get(), e.get()));
    let (a, b, o) = (
        req("https://as.example.com"),
        req("https://as.example.com/"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_issuers_match(a, b, o); mcpauth_issuers_match(a.get(), b.get(), o.get()));
    let (u, o) = (req("HTTPS://MCP.example.com/mcp#f"), OutStr::new());
    case!(mcpauth_resource_url_from_server_url(u, o); mcpauth_resource_url_from_server_url(u.get(), o.get()));
    let (q, c, o) = (
        req("https://mcp.example.com/mcp/x"),
        req("https://mcp.example.com/mcp"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_check_resource_allowed(q, c, o); mcpauth_check_resource_allowed(q.get(), c.get(), o.get()));
    let (v, o) = (opt("2025-06-18"), OutVal::<bool>::new());
    case!(mcpauth_should_include_resource_param(v, o); mcpauth_should_include_resource_param(v.get(), false, o.get()));
    let (s, p) = (
        req("https://mcp.example.com/mcp"),
        req("https://mcp.example.com/mcp"),
    );
    case!(mcpauth_validate_resource_match(s, p); mcpauth_validate_resource_match(s.get(), p.get()));
    let (s, p, o) = (req("https://mcp.example.com/mcp"), opt(PRM), OutStr::new());
    case!(mcpauth_resource_param_for(s, p, o); mcpauth_resource_param_for(s.get(), p.get(), o.get()));
    let (u, o) = (req("http://127.0.0.1:8080/cb"), OutVal::<bool>::new());
    case!(mcpauth_is_loopback_url(u, o); mcpauth_is_loopback_url(u.get(), o.get()));
    let u = req("https://as.example.com/token");
    case!(mcpauth_require_secure_url(u); mcpauth_require_secure_url(u.get()));
    let (u, o) = (
        req("https://host.example/client.json"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_is_valid_client_metadata_url(u, o); mcpauth_is_valid_client_metadata_url(u.get(), o.get()));
    let (a, u, o) = (
        opt(ASM),
        opt("https://host.example/client.json"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_should_use_client_metadata_url(a, u, o); mcpauth_should_use_client_metadata_url(a.get(), u.get(), o.get()));
    let (u, ru, o) = (
        req("https://host.example/client.json"),
        opt(r#"["http://localhost:3000/callback"]"#),
        OutStr::new(),
    );
    case!(mcpauth_create_client_info_from_metadata_url(u, ru, o); mcpauth_create_client_info_from_metadata_url(u.get(), ru.get(), o.get()));
    let (c, i, u, o) = (
        req(CLIENT_INFO),
        req("https://as.example.com"),
        opt("https://host.example/client.json"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_credentials_match_issuer(c, i, u, o); mcpauth_credentials_match_issuer(c.get(), i.get(), u.get(), o.get()));
    let c = req(CLIENT_INFO);
    case!(mcpauth_check_registration_usable(c); mcpauth_check_registration_usable(c.get()));
    let (a, m, b, o) = (
        opt(ASM),
        req(CLIENT_METADATA),
        req("https://as.example.com"),
        OutStr::new(),
    );
    case!(mcpauth_create_client_registration_request(a, m, b, o); mcpauth_create_client_registration_request(a.get(), m.get(), b.get(), o.get()));
    let (v, c) = (OutStr::new(), OutStr::new());
    case!(mcpauth_pkce_generate(v, c); mcpauth_pkce_generate(v.get(), c.get()));
    let (v, o) = (
        req("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        OutStr::new(),
    );
    case!(mcpauth_pkce_from_verifier(v, o); mcpauth_pkce_from_verifier(v.get(), o.get()));
    let (v, o) = (
        req("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        OutStr::new(),
    );
    case!(mcpauth_code_challenge_s256(v, o); mcpauth_code_challenge_s256(v.get(), o.get()));
    let o = OutStr::new();
    case!(mcpauth_generate_state(o); mcpauth_generate_state(o.get()));
    let (e, g) = (req("st"), opt("st"));
    case!(mcpauth_verify_state(e, g); mcpauth_verify_state(e.get(), g.get()));
    let (u, o) = (
        req("http://localhost:3000/callback?code=c&state=s&iss=x"),
        OutStr::new(),
    );
    case!(mcpauth_parse_redirect(u, o); mcpauth_parse_redirect(u.get(), o.get()));
    let (i, s, o) = (req("client id"), req("secret"), OutStr::new());
    case!(mcpauth_client_secret_basic_header(i, s, o); mcpauth_client_secret_basic_header(i.get(), s.get(), o.get()));
    let (j, o) = (req(PRM), OutStr::new());
    case!(mcpauth_parse_protected_resource_metadata(j, o); mcpauth_parse_protected_resource_metadata(j.get(), o.get()));
    let (j, o) = (req(ASM), OutStr::new());
    case!(mcpauth_parse_oauth_metadata(j, o); mcpauth_parse_oauth_metadata(j.get(), o.get()));
    let (j, o) = (req(CLIENT_METADATA), OutStr::new());
    case!(mcpauth_parse_client_metadata(j, o); mcpauth_parse_client_metadata(j.get(), o.get()));
    let (j, o) = (req(CLIENT_INFO), OutStr::new());
    case!(mcpauth_parse_client_information(j, o); mcpauth_parse_client_information(j.get(), o.get()));
    let (j, o) = (req(TOKEN), OutStr::new());
    case!(mcpauth_parse_token(j, o); mcpauth_parse_token(j.get(), o.get()));
    let (j, p, o) = (req(r#"{"a":{"b":["x",1]}}"#), req("/a/b/0"), OutStr::new());
    case!(mcpauth_json_get(j, p, o); mcpauth_json_get(j.get(), p.get(), o.get()));
}

const UPSTREAM_HEADERS: &str = r#"[["WWW-Authenticate","Bearer error=\"invalid_token\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""],["Connection","close"],["Access-Control-Expose-Headers","X-Trace"]]"#;
const BRIDGE_OPTIONS: &str = r#"{"resource_metadata_url":"https://proxy.example/prm","cors":{"allowed_origins":["https://app.example"]}}"#;

pub(super) fn bridge(r: &Runner, server: &DemoServer) {
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let (h, g, j, o) = (
        req(UPSTREAM_HEADERS),
        opt("https://app.example"),
        opt(BRIDGE_OPTIONS),
        OutStr::new(),
    );
    case!(mcpauth_bridge_response(h, g, j, o); mcpauth_bridge_response(401, h.get(), g.get(), j.get(), o.get()));
    // With and without a challenge in the last error: the case runs after a failure that
    // carries none; the client tests cover the one that does.
    let (g, j, o) = (
        opt("https://app.example"),
        opt(BRIDGE_OPTIONS),
        OutStr::new(),
    );
    case!(mcpauth_bridge_last_error(g, j, o); mcpauth_bridge_last_error(g.get(), j.get(), o.get()));
    let (h, o) = (req(UPSTREAM_HEADERS), OutStr::new());
    case!(mcpauth_bridge_challenge(h, o); mcpauth_bridge_challenge(403, h.get(), o.get()));
    let (e, o) = (opt("X-Trace, www-authenticate"), OutStr::new());
    case!(mcpauth_bridge_merge_expose_headers(e, o); mcpauth_bridge_merge_expose_headers(e.get(), o.get()));
    let (h, c, o) = (
        req(r#"[["Origin","https://app.example"],["Access-Control-Request-Method","POST"]]"#),
        opt(r#"{"allowed_origins":["https://app.example"],"allow_credentials":true}"#),
        OutStr::new(),
    );
    case!(mcpauth_bridge_preflight(h, c, o); mcpauth_bridge_preflight(h.get(), c.get(), o.get()));
    let (h, o) = (
        req(r#"[["Authorization","Bearer x"],["Host","proxy"],["Origin","https://app.example"]]"#),
        OutStr::new(),
    );
    case!(mcpauth_bridge_upstream_request_headers(h, o); mcpauth_bridge_upstream_request_headers(h.get(), o.get()));
    let (w, u, o) = (
        req(r#"Bearer resource_metadata="https://up/prm", scope="a""#),
        req("https://proxy.example/prm"),
        OutStr::new(),
    );
    case!(mcpauth_bridge_rewrite_resource_metadata(w, u, o); mcpauth_bridge_rewrite_resource_metadata(w.get(), u.get(), o.get()));
    let (b, rs, o) = (
        Bytes::new(PRM.as_bytes()),
        opt("https://proxy.example/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_bridge_relay_protected_resource_metadata(b, rs, o); mcpauth_bridge_relay_protected_resource_metadata(b.ptr(), b.len(), rs.get(), o.get()));
    let prm_url = server.prm_url().unwrap();
    let (u, rs, o) = (
        req(&prm_url),
        opt("https://proxy.example/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_bridge_fetch_protected_resource_metadata(u, rs, o); mcpauth_bridge_fetch_protected_resource_metadata(u.get(), rs.get(), 5000, o.get()));
}

pub(super) fn new_config(json: &str) -> *mut mcpauth_client_config {
    let json = CString::new(json).unwrap();
    let mut config = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_config_new(json.as_ptr(), &mut config) };
    assert_eq!(s, mcpauth_status::Ok, "{:?}", last_message());
    config
}

pub(super) fn new_client(config: *const mcpauth_client_config) -> *mut mcpauth_client {
    let mut client = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_new(config, &mut client) };
    assert_eq!(s, mcpauth_status::Ok, "{:?}", last_message());
    client
}

#[allow(clippy::too_many_lines)]
pub(super) fn client_api(r: &Runner, server: &DemoServer) {
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let options = format!(
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}},"timeout_ms":5000}}"#,
        server.mcp_url()
    );

    let (j, o) = (req(&options), OutHandle::new(mcpauth_client_config_free));
    case!(mcpauth_client_config_new(j, o); mcpauth_client_config_new(j.get(), o.get()));

    let config = new_config(&options);
    let (c, g, s, rm, u) = (
        Handle::new(config),
        Callback::new(noop_get as unsafe extern "C" fn(_, _, _, _) -> _),
        Callback::new(noop_set as unsafe extern "C" fn(_, _, _, _, _) -> _),
        Callback::new(noop_remove as unsafe extern "C" fn(_, _, _, _) -> _),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_storage(c, g, s, rm, u); mcpauth_client_config_set_storage(c.get(), g.get(), s.get(), rm.get(), u.get()));
    let (c, l, ul) = (
        Handle::new(config),
        Callback::new(noop_lock as unsafe extern "C" fn(_, _, _, _, _) -> _),
        Callback::new(noop_unlock as unsafe extern "C" fn(_, _, _, _) -> _),
    );
    case!(mcpauth_client_config_set_storage_lease(c, l, ul); mcpauth_client_config_set_storage_lease(c.get(), l.get(), ul.get()));
    // Both NULL removes the lease; a configuration without storage callbacks has none to add.
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_config_set_storage_lease(config, None, None) };
    assert_eq!(s, mcpauth_status::Ok);
    let bare = new_config(&options);
    // SAFETY: valid arguments.
    let s = unsafe {
        mcpauth_client_config_set_storage_lease(bare, Some(noop_lock), Some(noop_unlock))
    };
    assert_eq!(s, mcpauth_status::InvalidArgument);
    assert!(
        last_message()
            .unwrap()
            .contains("mcpauth_client_config_set_storage first")
    );
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_config_free(bare) };
    let (c, h, u) = (
        Handle::new(config),
        Callback::new(noop_redirect as unsafe extern "C" fn(_, _, _) -> _),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_redirect_handler(c, h, u); mcpauth_client_config_set_redirect_handler(c.get(), h.get(), u.get()));
    let (c, t, u) = (
        Handle::new(config),
        Callback::new(noop_trace as unsafe extern "C" fn(_, _)),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_trace(c, t, u); mcpauth_client_config_set_trace(c.get(), t.get(), u.get()));
    let (c, t, u) = (
        Handle::new(config),
        Callback::new(noop_url as unsafe extern "C" fn(_, _, _)),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_url_handler(c, t, u); mcpauth_client_config_set_url_handler(c.get(), t.get(), u.get()));
    let (c, t, u) = (
        Handle::new(config),
        Callback::new(noop_device_code as unsafe extern "C" fn(_, _, _, _, _)),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_device_code_handler(c, t, u); mcpauth_client_config_set_device_code_handler(c.get(), t.get(), u.get()));
    let (c, o) = (Handle::new(config), OutHandle::new(mcpauth_client_free));
    case!(mcpauth_client_new(c, o); mcpauth_client_new(c.cget(), o.get()));
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_config_free(config) };

    // A real client against the demo server (headless redirect, memory storage).
    let config = new_config(&options);
    let client = new_client(config);
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_config_free(config) };
    let ping = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (c, m, u, h, b, o) = (
        Handle::new(client),
        req("POST"),
        opt(&server.mcp_url()),
        opt(
            r#"{"Content-Type":"application/json","Accept":"application/json, text/event-stream"}"#,
        ),
        Bytes::new(ping),
        OutHandle::new(mcpauth_response_free),
    );
    case!(mcpauth_client_send(c, m, u, h, b, o); mcpauth_client_send(c.cget(), m.get(), u.get(), h.get(), b.ptr(), b.len(), o.get()));
    let (c, j, o) = (
        Handle::new(client),
        req(std::str::from_utf8(ping).unwrap()),
        OutHandle::new(mcpauth_response_free),
    );
    case!(mcpauth_client_post_json(c, j, o); mcpauth_client_post_json(c.cget(), j.get(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_probe(c, o); mcpauth_client_probe(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_discover(c, o); mcpauth_client_discover(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_access_token(c, o); mcpauth_client_access_token(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_current_token(c, o); mcpauth_client_current_token(c.cget(), o.get()));
    let (c, w, t, o) = (
        Handle::new(client),
        opt(r#"["Bearer error=\"invalid_token\""]"#),
        opt("not-the-current-token"),
        OutStr::new(),
    );
    case!(mcpauth_client_authorize_after(c, w, t, o); mcpauth_client_authorize_after(c.cget(), 401, w.get(), t.get(), o.get()));
    let (c, w, t, o) = (
        Handle::new(client),
        opt(r#"["Bearer error=\"insufficient_scope\", scope=\"mcp:read\""]"#),
        opt("x"),
        OutStr::new(),
    );
    case!(mcpauth_client_authorize_after(c, w, t, o); mcpauth_client_authorize_after(c.cget(), 403, w.get(), t.get(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_granted_scope(c, o); mcpauth_client_granted_scope(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_redirect_uri(c, o); mcpauth_client_redirect_uri(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_resource_key(c, o); mcpauth_client_resource_key(c.cget(), o.get()));

    // A response to read.
    let mut response = ptr::null_mut();
    let body = CString::new(ping.to_vec()).unwrap();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_post_json(client, body.as_ptr(), &mut response) };
    assert_eq!(s, mcpauth_status::Ok, "{:?}", last_message());
    let (rh, o) = (Handle::new(response), OutVal::<u16>::new());
    case!(mcpauth_response_status(rh, o); mcpauth_response_status(rh.cget(), o.get()));
    let (rh, d, l) = (
        Handle::new(response),
        OutVal::<*const u8>::new(),
        OutVal::<usize>::new(),
    );
    case!(mcpauth_response_body(rh, d, l); mcpauth_response_body(rh.cget(), d.get(), l.get()));
    let (rh, n, o) = (Handle::new(response), req("content-type"), OutStr::new());
    case!(mcpauth_response_header(rh, n, o); mcpauth_response_header(rh.cget(), n.get(), o.get()));
    let (rh, o) = (Handle::new(response), OutStr::new());
    case!(mcpauth_response_headers_json(rh, o); mcpauth_response_headers_json(rh.cget(), o.get()));
    let (rh, o) = (Handle::new(response), OutStr::new());
    case!(mcpauth_response_challenge_json(rh, o); mcpauth_response_challenge_json(rh.cget(), o.get()));
    let (rh, o) = (Handle::new(response), OutVal::<u32>::new());
    case!(mcpauth_response_authorizations(rh, o); mcpauth_response_authorizations(rh.cget(), o.get()));
    let (rh, o) = (Handle::new(response), OutStr::new());
    case!(mcpauth_response_json_message(rh, o); mcpauth_response_json_message(rh.cget(), o.get()));
    let (rh, g, j, o) = (
        Handle::new(response),
        opt("https://app.example"),
        opt(r#"{"cors":{"allowed_origins":["https://app.example"]}}"#),
        OutStr::new(),
    );
    case!(mcpauth_response_bridge(rh, g, j, o); mcpauth_response_bridge(rh.cget(), g.get(), j.get(), o.get()));
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_response_free(response) };

    let c = Handle::new(client);
    case!(mcpauth_client_cancel(c); mcpauth_client_cancel(c.cget()));
    let c = Handle::new(client);
    case!(mcpauth_client_logout(c); mcpauth_client_logout(c.cget()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_logout_report(c, o); mcpauth_client_logout_report(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_forget_client(c, o); mcpauth_client_forget_client(c.cget(), o.get()));
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_free(client) };

    // The reply functions need a live reply: run their cases inside a storage callback.
    let config = new_config(&options);
    // SAFETY: valid arguments; the runner outlives the client.
    let s = unsafe {
        mcpauth_client_config_set_storage(
            config,
            Some(reply_cases_get),
            Some(noop_set),
            Some(noop_remove),
            r as *const Runner as *mut c_void,
        )
    };
    assert_eq!(s, mcpauth_status::Ok);
    let client = new_client(config);
    let mut response = ptr::null_mut();
    // SAFETY: valid arguments. The storage get fails on purpose (returns 1).
    let s = unsafe { mcpauth_client_post_json(client, body.as_ptr(), &mut response) };
    assert_eq!(s, mcpauth_status::Storage, "{:?}", last_message());
    assert!(response.is_null());
    assert!(
        last_message()
            .unwrap()
            .contains("storage get callback failed (1)")
    );
    // SAFETY: created above, not used afterwards.
    unsafe {
        mcpauth_client_free(client);
        mcpauth_client_config_free(config);
    }
}

unsafe extern "C" fn noop_log(_: *mut c_void, _: i32, _: *const c_char, _: *const c_char) {}

pub(super) fn plain_functions(r: &Runner) {
    let (cb, u) = (
        Callback::nullable(noop_log as unsafe extern "C" fn(_, _, _, _)),
        UserData::new(),
    );
    r.case("mcpauth_set_log_callback", &[&cb, &u], &|| unsafe {
        mcpauth_set_log_callback(cb.get(), u.get(), 4)
    });
    // SAFETY: removing the callback; nothing else runs meanwhile.
    assert_eq!(
        unsafe { mcpauth_set_log_callback(None, ptr::null_mut(), 0) },
        mcpauth_status::Ok
    );
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let o = OutHandle::new(mcpauth_cancel_token_free);
    case!(mcpauth_cancel_token_new(o); mcpauth_cancel_token_new(o.get()));
    let mut token = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_cancel_token_new(&mut token) },
        mcpauth_status::Ok
    );
    let t = Handle::new(token);
    case!(mcpauth_cancel_token_cancel(t); mcpauth_cancel_token_cancel(t.cget()));
    // NULL is valid for bind (it unbinds): no NULL case.
    r.plain("mcpauth_cancel_token_bind", 1, &|| unsafe {
        assert_eq!(mcpauth_cancel_token_bind(token), mcpauth_status::Ok);
        assert_eq!(mcpauth_cancel_token_bind(ptr::null()), mcpauth_status::Ok);
    });
    // SAFETY: created above, not used afterwards; NULL is a no-op.
    r.plain("mcpauth_cancel_token_free", 1, &|| unsafe {
        mcpauth_cancel_token_free(token);
        mcpauth_cancel_token_free(ptr::null_mut());
    });
    r.plain("mcpauth_version", 0, &|| {
        assert!(!mcpauth_version().is_null());
    });
    r.plain("mcpauth_abi_version", 0, &|| {
        assert_eq!(mcpauth_abi_version(), MCPAUTH_ABI_VERSION);
    });
    for (name, f) in [
        (
            "mcpauth_status_str",
            mcpauth_status_str as extern "C" fn(i32) -> *const c_char,
        ),
        ("mcpauth_status_name", mcpauth_status_name),
    ] {
        r.plain(name, 0, &|| {
            for code in [
                i32::MIN,
                -1,
                0,
                1,
                99,
                100,
                150,
                151,
                199,
                950,
                999,
                1000,
                i32::MAX,
            ] {
                assert!(!f(code).is_null(), "{name}({code})");
            }
        });
    }
    for (name, f) in [
        (
            "mcpauth_last_error_message",
            mcpauth_last_error_message as extern "C" fn() -> *const c_char,
        ),
        (
            "mcpauth_last_error_oauth_error",
            mcpauth_last_error_oauth_error,
        ),
        (
            "mcpauth_last_error_oauth_error_description",
            mcpauth_last_error_oauth_error_description,
        ),
        (
            "mcpauth_last_error_oauth_error_uri",
            mcpauth_last_error_oauth_error_uri,
        ),
        ("mcpauth_last_error_check", mcpauth_last_error_check),
        (
            "mcpauth_last_error_challenge_json",
            mcpauth_last_error_challenge_json,
        ),
        ("mcpauth_last_error_json", mcpauth_last_error_json),
    ] {
        r.plain(name, 0, &|| {
            // With and without a last error.
            // SAFETY: a NULL out-parameter is a documented error.
            unsafe { mcpauth_generate_state(ptr::null_mut()) };
            assert!(!mcpauth_last_error_message().is_null());
            let _ = f();
            let mut out = ptr::null_mut();
            // SAFETY: valid arguments.
            unsafe {
                mcpauth_union_scopes(ptr::null(), ptr::null(), &mut out);
            }
            assert!(f().is_null(), "{name} after a success");
        });
    }
    r.plain("mcpauth_last_error_status", 0, &|| {
        let _ = mcpauth_last_error_status();
    });
    r.plain("mcpauth_last_error_http_status", 0, &|| {
        let _ = mcpauth_last_error_http_status();
    });
    // SAFETY (all frees): NULL is documented as a no-op.
    r.plain("mcpauth_string_free", 1, &|| unsafe {
        mcpauth_string_free(ptr::null_mut())
    });
    r.plain("mcpauth_client_config_free", 1, &|| unsafe {
        mcpauth_client_config_free(ptr::null_mut())
    });
    r.plain("mcpauth_client_free", 1, &|| unsafe {
        mcpauth_client_free(ptr::null_mut())
    });
    r.plain("mcpauth_response_free", 1, &|| unsafe {
        mcpauth_response_free(ptr::null_mut())
    });
}
