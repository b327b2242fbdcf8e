//! `bridge_response` and friends: hop-by-hop fields (RFC 9110 §7.6.1), the
//! `resource_metadata` rewrite (RFC 9728 §5.1), the proxy-owned CORS policy and preflight
//! (Fetch standard), the structured challenge, the JSON entry points, and the error path of
//! `Client::send` against the loopback demo server.

use std::sync::Arc;

use mcp_auth::CapturedChallenge;
use mcp_auth::metadata::OAuthToken;
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::{Client, Error, ErrorKind};
use mcp_auth_bridge::{
    self as bridge, BridgeOptions, CorsPolicy, DownstreamResponse, RelayedChallenge,
    bridge_captured, bridge_error, bridge_response, preflight, relay_protected_resource_metadata,
    rewrite_resource_metadata, upstream_request_headers,
};
use mcp_auth_demo_server::{DemoConfig, DemoServer};

const PROXY_PRM: &str = "https://proxy.example/.well-known/oauth-protected-resource/mcp";

fn rewrite_options() -> BridgeOptions {
    BridgeOptions {
        resource_metadata_url: Some(PROXY_PRM.to_owned()),
        cors: None,
    }
}

fn names(down: &DownstreamResponse) -> Vec<String> {
    down.headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect()
}

// ---- copying ----

#[test]
fn hop_by_hop_and_framing_fields_are_not_copied() {
    let upstream = [
        ("Connection", "keep-alive, X-Hop"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "12"),
        ("X-Hop", "secret"),
        ("Upgrade", "h2c"),
        ("TE", "trailers"),
        ("Trailer", "X-Sum"),
        ("Proxy-Authenticate", "Basic realm=\"corp-proxy\""),
        ("Proxy-Connection", "keep-alive"),
        ("Content-Type", "application/json"),
        ("Mcp-Session-Id", "s-1"),
        ("X-End-To-End", "kept"),
    ];
    let down = bridge_response(200, &upstream, None, &BridgeOptions::default()).unwrap();
    assert_eq!(
        names(&down),
        [
            "content-type",
            "mcp-session-id",
            "x-end-to-end",
            "access-control-expose-headers"
        ]
    );
    assert_eq!(down.header_values("mcp-session-id"), ["s-1"]);
}

#[test]
fn invalid_pairs_are_dropped_not_written() {
    let upstream = [
        (
            "WWW-Authenticate",
            "Bearer error=\"x\"\r\nSet-Cookie: stolen=1",
        ),
        ("Bad Name", "v"),
        ("", "v"),
        ("X-Nul", "a\0b"),
        ("WWW-Authenticate", "Bearer realm=\"ok\""),
    ];
    let down = bridge_response(401, &upstream, None, &BridgeOptions::default()).unwrap();
    assert_eq!(
        down.header_values("www-authenticate"),
        ["Bearer realm=\"ok\""]
    );
    assert_eq!(names(&down).len(), 2);
    for (n, v) in &down.headers {
        assert!(!v.contains(['\r', '\n', '\0']), "{n}: {v:?}");
    }
}

#[test]
fn upstream_cors_fields_pass_through_when_the_proxy_does_not_own_cors() {
    let upstream = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "location"),
    ];
    let down =
        bridge_response(401, &upstream, Some("http://a"), &BridgeOptions::default()).unwrap();
    assert_eq!(down.header_values("access-control-allow-origin"), ["*"]);
    assert_eq!(
        down.header_values("access-control-expose-headers"),
        ["location, WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"]
    );
}

#[test]
fn a_proxy_owned_cors_policy_replaces_the_upstream_one() {
    let upstream = [
        (
            "Access-Control-Allow-Origin",
            "https://upstream-app.example",
        ),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "POST"),
        ("Access-Control-Max-Age", "1"),
        ("Vary", "Accept-Encoding"),
        ("WWW-Authenticate", "Bearer"),
    ];
    let options = BridgeOptions {
        resource_metadata_url: None,
        cors: Some(CorsPolicy::origins(["http://127.0.0.1:8000"])),
    };
    let down = bridge_response(401, &upstream, Some("http://127.0.0.1:8000"), &options).unwrap();
    assert_eq!(
        down.header_values("access-control-allow-origin"),
        ["http://127.0.0.1:8000"]
    );
    assert!(
        down.header_values("access-control-allow-credentials")
            .is_empty()
    );
    assert!(
        down.header_values("access-control-allow-methods")
            .is_empty()
    );
    assert!(down.header_values("access-control-max-age").is_empty());
    assert_eq!(down.header_values("vary"), ["Accept-Encoding, Origin"]);
    assert_eq!(down.header_values("www-authenticate"), ["Bearer"]);

    // A foreign origin gets no CORS headers at all: the browser hides the whole response.
    let down = bridge_response(401, &upstream, Some("http://evil.example"), &options).unwrap();
    assert!(down.header_values("access-control-allow-origin").is_empty());
    // The wildcard policy answers `*` and needs no Vary.
    let any = BridgeOptions {
        resource_metadata_url: None,
        cors: Some(CorsPolicy::any()),
    };
    let down = bridge_response(401, &upstream, Some("http://x"), &any).unwrap();
    assert_eq!(down.header_values("access-control-allow-origin"), ["*"]);
    assert_eq!(down.header_values("vary"), ["Accept-Encoding"]);
}

#[test]
fn vary_fields_merge_into_one_with_origin_once() {
    let options = BridgeOptions {
        resource_metadata_url: None,
        cors: Some(CorsPolicy::origins(["http://a"])),
    };
    let vary = |upstream: &[(&str, &str)]| -> Vec<String> {
        bridge_response(200, upstream, Some("http://a"), &options)
            .unwrap()
            .header_values("vary")
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(vary(&[]), ["Origin"]);
    assert_eq!(
        vary(&[("Vary", "origin, Accept"), ("vary", "Accept-Encoding")]),
        ["origin, Accept, Accept-Encoding"]
    );
    assert_eq!(vary(&[("Vary", "*")]), ["*"]);
    // Without a proxy-owned policy, Vary passes through untouched.
    let plain = bridge_response(
        200,
        &[("Vary", "Accept"), ("Vary", "Accept")],
        Some("http://a"),
        &BridgeOptions::default(),
    )
    .unwrap();
    assert_eq!(plain.header_values("vary"), ["Accept", "Accept"]);
}

#[test]
fn credentials_echo_the_origin_instead_of_the_wildcard() {
    let policy = CorsPolicy {
        allow_credentials: true,
        ..CorsPolicy::any()
    };
    assert_eq!(
        policy.response_headers(Some("http://a.example")),
        [
            (
                "Access-Control-Allow-Origin".to_owned(),
                "http://a.example".to_owned()
            ),
            (
                "Access-Control-Allow-Credentials".to_owned(),
                "true".to_owned()
            ),
            ("Vary".to_owned(), "Origin".to_owned()),
        ]
    );
    assert!(policy.response_headers(None).is_empty());
    assert!(!policy.allows(Some("bad\r\norigin")));
    assert!(policy.allows(None));
}

// ---- rewrite ----

#[test]
fn rewrite_changes_only_the_resource_metadata_values() {
    let line = r#"Bearer error="invalid_token", resource_metadata="http://10.0.0.5:9000/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write""#;
    let down =
        bridge_response(401, &[("WWW-Authenticate", line)], None, &rewrite_options()).unwrap();
    let expected = format!(
        r#"Bearer error="invalid_token", resource_metadata="{PROXY_PRM}", scope="mcp:read mcp:write""#
    );
    assert_eq!(down.header_values("www-authenticate"), [expected.as_str()]);
    let c = down.challenge.unwrap();
    assert_eq!(c.resource_metadata.as_deref(), Some(PROXY_PRM));
    assert_eq!(c.scope.as_deref(), Some("mcp:read mcp:write"));
    assert_eq!(c.www_authenticate, [expected]);
}

#[test]
fn rewrite_covers_every_challenge_and_unquoted_values() {
    let line =
        "DPoP resource_metadata=http://up/a, Bearer RESOURCE_METADATA = http://up/b ,error=x";
    let out = rewrite_resource_metadata(line, PROXY_PRM);
    assert_eq!(
        out,
        format!(
            r#"DPoP resource_metadata="{PROXY_PRM}", Bearer RESOURCE_METADATA = "{PROXY_PRM}" ,error=x"#
        )
    );
}

#[test]
fn rewrite_leaves_text_inside_quoted_strings_and_malformed_params_alone() {
    for line in [
        r#"Bearer error_description="see resource_metadata=http://up/x""#,
        r#"Bearer resource_metadata="unterminated"#,
        "Bearer resource_metadata=",
        "Basic dXNlcjpwYXNz",
    ] {
        assert_eq!(rewrite_resource_metadata(line, PROXY_PRM), line);
    }
}

#[test]
fn rewrite_urls_are_validated() {
    for bad in [
        "",
        "/relative",
        "ftp://x/prm",
        "https://proxy/prm\r\nSet-Cookie: a=b",
        "https://proxy/a b",
        "https://proxy/é",
    ] {
        let options = BridgeOptions {
            resource_metadata_url: Some(bad.to_owned()),
            cors: None,
        };
        let err =
            bridge_response(401, &[("WWW-Authenticate", "Bearer")], None, &options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
}

// ---- preflight ----

fn pf(headers: &[(&str, &str)], policy: &CorsPolicy) -> DownstreamResponse {
    preflight(headers, policy)
}

#[test]
fn preflight_allows_the_mcp_request_headers() {
    let down = pf(
        &[
            ("Origin", "http://127.0.0.1:5000"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization,content-type,mcp-protocol-version",
            ),
        ],
        &CorsPolicy::any(),
    );
    assert_eq!(down.status, 204);
    assert_eq!(down.header_values("access-control-allow-origin"), ["*"]);
    assert_eq!(
        down.header_values("access-control-allow-methods"),
        ["GET, POST, DELETE, OPTIONS"]
    );
    let allowed = down.header_values("access-control-allow-headers")[0].to_ascii_lowercase();
    for h in [
        "authorization",
        "content-type",
        "mcp-session-id",
        "mcp-protocol-version",
    ] {
        assert!(allowed.split(", ").any(|a| a == h), "{h} in {allowed}");
    }
    assert_eq!(down.header_values("access-control-max-age"), ["600"]);
    assert!(down.challenge.is_none());
}

#[test]
fn preflight_from_an_unlisted_origin_is_refused() {
    let policy = CorsPolicy::origins(["http://127.0.0.1:5000"]);
    let down = pf(&[("origin", "http://127.0.0.1:6000")], &policy);
    assert_eq!(down.status, 403);
    assert!(down.header_values("access-control-allow-origin").is_empty());
    let ok = pf(&[("ORIGIN", "HTTP://127.0.0.1:5000")], &policy);
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header_values("vary"), ["Origin"]);
}

#[test]
fn options_without_origin_is_not_a_preflight() {
    let down = pf(&[("Accept", "*/*")], &CorsPolicy::any());
    assert_eq!(down.status, 204);
    assert_eq!(down.header_values("allow"), ["GET, POST, DELETE, OPTIONS"]);
    assert!(down.header_values("access-control-allow-origin").is_empty());
}

// ---- request side ----

#[test]
fn request_headers_forwarded_upstream() {
    let down = [
        ("Host", "proxy:8080"),
        ("Connection", "keep-alive, X-Local"),
        ("X-Local", "1"),
        ("Content-Length", "42"),
        ("Origin", "http://page"),
        ("Access-Control-Request-Method", "POST"),
        ("Proxy-Authorization", "Basic eA=="),
        ("Authorization", "Bearer t"),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("Mcp-Session-Id", "s-1"),
        ("MCP-Protocol-Version", "2025-06-18"),
        ("Last-Event-ID", "7"),
    ];
    let up = upstream_request_headers(&down);
    let names: Vec<&str> = up.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Authorization",
            "Content-Type",
            "Accept",
            "Mcp-Session-Id",
            "MCP-Protocol-Version",
            "Last-Event-ID"
        ]
    );
}

// ---- structured challenge ----

#[test]
fn relayed_challenge_json_has_every_member() {
    let c = RelayedChallenge::from_values(
        403,
        &[r#"Bearer error="insufficient_scope", scope="mcp:write", error_description="more""#],
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "status": 403,
            "scheme": "Bearer",
            "error": "insufficient_scope",
            "error_description": "more",
            "scope": "mcp:write",
            "resource_metadata": null,
            "www_authenticate": [r#"Bearer error="insufficient_scope", scope="mcp:write", error_description="more""#],
        })
    );
    assert_eq!(
        c.error_body(),
        br#"{"error":"insufficient_scope","error_description":"more"}"#
    );
}

#[test]
fn relayed_challenge_only_for_401_and_403() {
    assert!(RelayedChallenge::from_values(200, &["Bearer"]).is_none());
    assert!(RelayedChallenge::from_values(407, &["Basic"]).is_none());
    let bare = RelayedChallenge::from_values::<&str>(401, &[]).unwrap();
    assert_eq!(bare.scheme, None);
    assert_eq!(bare.error_body(), br#"{"error":"invalid_token"}"#);
    // No Bearer challenge: the first challenge answers.
    let basic = RelayedChallenge::from_values(401, &[r#"Basic realm="r""#]).unwrap();
    assert_eq!(basic.scheme.as_deref(), Some("Basic"));
}

#[test]
fn captured_challenges_bridge_like_responses() {
    let mut headers = http::HeaderMap::new();
    headers.append(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static(
            r#"Bearer error="invalid_token", resource_metadata="http://up/prm""#,
        ),
    );
    let captured = CapturedChallenge::from_response(401, &headers);
    let down = bridge_captured(&captured, None, &rewrite_options()).unwrap();
    assert_eq!(down.status, 401);
    assert_eq!(
        down.header_values("WWW-Authenticate"),
        [format!(
            r#"Bearer error="invalid_token", resource_metadata="{PROXY_PRM}""#
        )]
    );
    assert_eq!(
        RelayedChallenge::from_captured(&captured)
            .unwrap()
            .resource_metadata
            .as_deref(),
        Some("http://up/prm")
    );
    assert_eq!(bridge::header_pairs(&headers).len(), 1);
}

// ---- JSON entry points ----

#[test]
fn json_entry_points_round_trip() {
    let out = bridge::bridge_response_json(
        401,
        r#"[["WWW-Authenticate","Bearer error=\"invalid_token\""],["Content-Length","2"]]"#,
        Some("http://page"),
        Some(r#"{"cors":{"allowed_origins":["http://page"]}}"#),
    )
    .unwrap();
    let down: DownstreamResponse = serde_json::from_str(&out).unwrap();
    assert_eq!(down.status, 401);
    assert_eq!(
        down.headers,
        [
            (
                "WWW-Authenticate".to_owned(),
                "Bearer error=\"invalid_token\"".to_owned()
            ),
            (
                "Access-Control-Expose-Headers".to_owned(),
                "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version".to_owned()
            ),
            (
                "Access-Control-Allow-Origin".to_owned(),
                "http://page".to_owned()
            ),
            ("Vary".to_owned(), "Origin".to_owned()),
        ]
    );
    assert_eq!(
        down.challenge.unwrap().error.as_deref(),
        Some("invalid_token")
    );

    for options in [None, Some(""), Some("null"), Some("{}")] {
        assert!(bridge::bridge_response_json(200, "[]", None, options).is_ok());
    }
    for bad_headers in ["{}", "[[1,2]]", "[[\"a\"]]", "not json"] {
        let e = bridge::bridge_response_json(200, bad_headers, None, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
    for bad_options in [r#"{"unknown":1}"#, r#"{"resource_metadata_url":"x"}"#, "[]"] {
        let e = bridge::bridge_response_json(200, "[]", None, Some(bad_options)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad_options}");
    }

    let pre = bridge::preflight_json(r#"[["Origin","http://x"]]"#, None).unwrap();
    assert!(pre.contains("\"status\":204"));
    assert!(bridge::preflight_json("[]", Some(r#"{"nope":true}"#)).is_err());
    assert_eq!(bridge::challenge_json(200, "[]").unwrap(), "null");
    assert!(
        bridge::challenge_json(403, r#"[["www-authenticate","Bearer scope=x"]]"#)
            .unwrap()
            .contains("\"scope\":\"x\"")
    );
    assert_eq!(
        bridge::upstream_request_headers_json(r#"[["Host","h"],["Authorization","Bearer t"]]"#)
            .unwrap(),
        r#"[["Authorization","Bearer t"]]"#
    );
    assert!(bridge::upstream_request_headers_json("{}").is_err());
    let other = Error::invalid_argument("x", "y");
    assert_eq!(
        bridge::bridge_error_json(&other, None, None).unwrap(),
        "null"
    );
}

// ---- PRM relay ----

#[test]
fn prm_relay_validates_and_optionally_rewrites_the_resource() {
    let body =
        br#"{"resource":"http://up/mcp","authorization_servers":["http://as"],"x-extra":{"k":1}}"#;
    let same = relay_protected_resource_metadata(body, None).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&same).unwrap();
    assert_eq!(v["resource"], "http://up/mcp");
    assert_eq!(v["x-extra"]["k"], 1);
    let moved = relay_protected_resource_metadata(body, Some("https://proxy/mcp")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&moved).unwrap();
    assert_eq!(v["resource"], "https://proxy/mcp");
    assert_eq!(v["authorization_servers"][0], "http://as");

    for bad in [&b"<html>"[..], b"[]", b"{}", b"{\"resource\":5}"] {
        let e = relay_protected_resource_metadata(bad, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    }
    let e = relay_protected_resource_metadata(body, Some("not a url")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn prm_is_fetched_from_the_demo_server() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let http = mcp_auth::http::UreqHttpClient::default();
    let prm = server.prm_url().unwrap();
    let body = bridge::fetch_protected_resource_metadata(&http, &prm, None).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["resource"], server.resource());
    let missing = format!("{}/nothing-here", server.origin());
    let e = bridge::fetch_protected_resource_metadata(&http, &missing, None).unwrap_err();
    assert_eq!(e.http_status(), Some(404));
    let e = bridge::fetch_protected_resource_metadata(&http, "http://example.com/prm", None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InsecureUrl);
}

// ---- the error path of Client::send ----

/// A client that holds `token` and never runs an authorization flow itself (a gateway with a
/// service credential): every 401, and a 403 `insufficient_scope`, ends in
/// `Error::Unauthorized` carrying the server's challenge.
fn gateway_client(server: &DemoServer, token: &str) -> Client {
    let storage = Arc::new(MemoryStorage::new());
    let client = Client::builder(&server.mcp_url())
        .headless()
        .storage(storage.clone())
        .config(|c| c.max_authorizations = 0)
        .build()
        .unwrap();
    storage
        .set_tokens(client.resource_key(), &OAuthToken::new(token.to_owned()))
        .unwrap();
    client
}

#[test]
fn errors_from_send_bridge_the_servers_challenge() {
    let server = DemoServer::start(DemoConfig {
        cors: false,
        ..DemoConfig::default()
    })
    .unwrap();

    // 403 insufficient_scope: a read-only token calling a tool.
    let read_only = server.issue_token("gateway", "mcp:read");
    let client = gateway_client(&server, &read_only);
    let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}"#;
    let err = client.post_json(call.to_vec()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let down = bridge_error(&err, None, &BridgeOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(down.status, 403);
    assert_eq!(
        down.header_values("www-authenticate"),
        err.www_authenticate()
    );
    let c = down.challenge.unwrap();
    assert_eq!(c.error.as_deref(), Some("insufficient_scope"));
    assert_eq!(c.scope.as_deref(), Some("mcp:write"));
    assert_eq!(c.resource_metadata, server.prm_url());

    // 401: a token the server never issued.
    let client = gateway_client(&server, "mcpat_not-a-real-token");
    let err = client.post_json(call.to_vec()).unwrap_err();
    let down = bridge_error(&err, None, &rewrite_options())
        .unwrap()
        .unwrap();
    assert_eq!(down.status, 401);
    let c = down.challenge.unwrap();
    assert_eq!(c.error.as_deref(), Some("invalid_token"));
    assert_eq!(c.resource_metadata.as_deref(), Some(PROXY_PRM));
    assert_eq!(
        RelayedChallenge::from_error(&err)
            .unwrap()
            .resource_metadata,
        server.prm_url()
    );
}
