//! The whole OAuth + MCP flow walked by hand over raw HTTP.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use mcp_auth_demo_server::{
    AuthMethod, DemoConfig, DemoServer, Es256KeyPair, JWT_BEARER_ASSERTION_TYPE, JwtKey,
    PreregisteredClient,
};
use serde_json::{Value, json};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn happy_flow_by_hand() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let origin = server.origin();
    let mut c = Conn::open(&server);

    // 1. Unauthenticated MCP request: 401 + challenge.
    let r = c.rpc(
        "/mcp",
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
        None,
    );
    assert_eq!(r.status, 401);
    let www = r.header("www-authenticate").unwrap().to_owned();
    assert!(www.starts_with("Bearer "));
    assert_eq!(
        challenge_param(&www, "error").as_deref(),
        Some("invalid_token")
    );
    assert!(challenge_param(&www, "error_description").is_some());
    let prm_url = challenge_param(&www, "resource_metadata").unwrap();
    assert_eq!(
        prm_url,
        format!("{origin}/.well-known/oauth-protected-resource/mcp")
    );
    assert_eq!(
        challenge_param(&www, "scope").as_deref(),
        Some("mcp:read mcp:write")
    );
    assert_eq!(r.json()["error"], "invalid_token");

    // 2. PRM.
    let prm = c.get(&path_of(&prm_url));
    assert_eq!(prm.status, 200);
    let prm = prm.json();
    assert_eq!(prm["resource"], server.mcp_url());
    assert_eq!(prm["authorization_servers"], json!([origin]));
    assert_eq!(prm["scopes_supported"], json!(["mcp:read", "mcp:write"]));

    // 3. AS metadata (RFC 8414, root issuer).
    let md = c.get("/.well-known/oauth-authorization-server");
    assert_eq!(md.status, 200);
    let md = md.json();
    assert_eq!(md["issuer"], origin);
    assert_eq!(md["authorization_endpoint"], format!("{origin}/authorize"));
    assert_eq!(md["token_endpoint"], format!("{origin}/token"));
    assert_eq!(md["registration_endpoint"], format!("{origin}/register"));
    assert_eq!(md["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(md["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        md["token_endpoint_auth_methods_supported"],
        json!([
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );

    // 4. DCR.
    let reg = c.post_json(
        "/register",
        &json!({
            "client_name": "hand",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none"
        }),
        None,
    );
    assert_eq!(reg.status, 201);
    let reg = reg.json();
    let client_id = reg["client_id"].as_str().unwrap().to_owned();
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert!(reg.get("client_secret").is_none());
    assert_eq!(reg["redirect_uris"], json!([REDIRECT_URI]));
    assert_eq!(reg["client_name"], "hand");

    // 5. Authorize: 302 with code, state, iss.
    let p = pkce();
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "mcp:read mcp:write")
        .append_pair("state", "xyz")
        .append_pair("code_challenge", &p.challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", &server.mcp_url())
        .finish();
    let a = c.get(&format!("/authorize?{q}"));
    assert_eq!(a.status, 302);
    let loc = a.header("location").unwrap();
    assert!(loc.starts_with(REDIRECT_URI), "{loc}");
    assert_eq!(a.location_param("state").as_deref(), Some("xyz"));
    assert_eq!(a.location_param("iss").as_deref(), Some(origin.as_str()));
    let code = a.location_param("code").unwrap();

    // 6. Token, wrong verifier first: invalid_grant, and the code is burnt.
    let wrong = pkce();
    let t = exchange_public(&mut c, &server, &client_id, &code, &wrong.verifier);
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["error"], "invalid_grant");
    let t = exchange_public(&mut c, &server, &client_id, &code, &p.verifier);
    assert_eq!(t.status, 400, "a code is single-use, even after a failure");

    // A fresh code with the right verifier.
    let code = authorize(&mut c, &server, &client_id, Some("mcp:read mcp:write"), &p);
    let t = exchange_public(&mut c, &server, &client_id, &code, &p.verifier);
    assert_eq!(t.status, 200, "{}", t.text());
    assert_eq!(t.header("cache-control"), Some("no-store"));
    let tok = t.json();
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 3600);
    assert_eq!(tok["scope"], "mcp:read mcp:write");
    assert!(tok["refresh_token"].is_string());
    let access = tok["access_token"].as_str().unwrap();
    // Replaying the code fails.
    let t = exchange_public(&mut c, &server, &client_id, &code, &p.verifier);
    assert_eq!(t.json()["error"], "invalid_grant");

    // 7. MCP with the token.
    let r = c.rpc(
        "/mcp",
        "initialize",
        json!({"protocolVersion": "2025-11-25"}),
        Some(access),
    );
    assert_eq!(r.status, 200);
    let init = r.json();
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert!(init["result"]["capabilities"]["tools"].is_object());
    assert_eq!(init["result"]["serverInfo"]["name"], "mcp-auth-demo-server");
    let n = c.post_json(
        "/mcp",
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        Some(access),
    );
    assert_eq!(n.status, 202);
    assert!(n.body.is_empty());
    let tools = c.rpc("/mcp", "tools/list", json!({}), Some(access)).json();
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"echo") && names.contains(&"whoami"));
    let call = c
        .rpc(
            "/mcp",
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "hello"}}),
            Some(access),
        )
        .json();
    assert_eq!(
        call["result"]["content"],
        json!([{"type": "text", "text": "hello"}])
    );
    let who = c
        .rpc(
            "/mcp",
            "tools/call",
            json!({"name": "whoami"}),
            Some(access),
        )
        .json();
    assert_eq!(who["result"]["structuredContent"]["client_id"], client_id);
    assert_eq!(
        who["result"]["structuredContent"]["scope"],
        "mcp:read mcp:write"
    );

    // The exact request sequence, all on one keep-alive connection.
    let lines = server.request_lines();
    assert_eq!(
        &lines[..6],
        &[
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server",
            "POST /register",
            "GET /authorize",
            "POST /token",
        ]
    );
    assert_eq!(server.connections_accepted(), 1);
    assert!(server.requests().iter().all(|r| r.connection == 1));
    let auth_req = &server.requests_to("/authorize")[0];
    assert_eq!(auth_req.query_value("state").as_deref(), Some("xyz"));
    let tok_req = &server.requests_to("/token")[0];
    assert_eq!(
        tok_req.form_value("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(
        tok_req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(server.count("/token"), 4);
    assert_eq!(server.grant_count("authorization_code"), 4);
}

#[test]
fn refresh_rotation() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    let tok = full_public_flow(&mut c, &server, None);
    assert_eq!(tok["scope"], "mcp:read mcp:write", "default scope granted");
    let client_id = tok["client_id"].as_str().unwrap();
    let rt1 = tok["refresh_token"].as_str().unwrap();
    let refresh = |c: &mut Conn, rt: &str, scope: Option<&str>| {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", client_id),
        ];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        c.post_form("/token", &form, None)
    };
    let r = refresh(&mut c, rt1, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let t2 = r.json();
    let rt2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    assert_ne!(tok["access_token"], t2["access_token"]);
    // Reusing the rotated token fails.
    let r = refresh(&mut c, rt1, None);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    // Widening fails, narrowing works.
    let r = refresh(&mut c, rt2, Some("mcp:admin"));
    assert_eq!(r.json()["error"], "invalid_scope");
    let r = refresh(&mut c, rt2, Some("mcp:read"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["scope"], "mcp:read");
    assert_eq!(server.grant_count("refresh_token"), 4);
    // Another client cannot use it.
    let other = register(&mut c, &server, "none");
    let rt3 = r.json()["refresh_token"].as_str().unwrap().to_owned();
    let r = c.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt3),
            ("client_id", other["client_id"].as_str().unwrap()),
        ],
        None,
    );
    assert_eq!(r.json()["error"], "invalid_grant");
}

#[test]
fn refresh_reuse_detection_revokes_the_grant() {
    let server = DemoServer::start(DemoConfig {
        refresh_reuse_detection: true,
        ..DemoConfig::default()
    })
    .unwrap();
    let mut c = Conn::open(&server);
    let tok = full_public_flow(&mut c, &server, None);
    let client_id = tok["client_id"].as_str().unwrap().to_owned();
    // A second, independent grant of the same client must survive the first one's revocation.
    let other = full_public_flow(&mut c, &server, None);
    let refresh = |c: &mut Conn, rt: &str| {
        c.post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("client_id", &client_id),
            ],
            None,
        )
    };
    let rt1 = tok["refresh_token"].as_str().unwrap();
    let r = refresh(&mut c, rt1);
    assert_eq!(r.status, 200, "{}", r.text());
    let t2 = r.json();
    let rt2 = t2["refresh_token"].as_str().unwrap().to_owned();
    let at2 = t2["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        c.rpc("/mcp", "tools/list", json!({}), Some(&at2)).status,
        200
    );
    assert_eq!(
        server.refresh_counters(),
        mcp_auth_demo_server::RefreshCounters {
            refreshes: 1,
            reuse_detections: 0,
            revocations: 0
        }
    );

    // The consumed token comes back: the whole grant dies, including the newest pair.
    let r = refresh(&mut c, rt1);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(refresh(&mut c, &rt2).json()["error"], "invalid_grant");
    assert_eq!(
        c.rpc("/mcp", "tools/list", json!({}), Some(&at2)).status,
        401
    );
    // A second reuse is detected again but revokes nothing new.
    assert_eq!(refresh(&mut c, rt1).json()["error"], "invalid_grant");
    let counters = server.refresh_counters();
    assert_eq!(counters.refreshes, 1);
    assert_eq!(counters.reuse_detections, 2);
    assert_eq!(counters.revocations, 1);

    // The other grant is untouched.
    let other_rt = other["refresh_token"].as_str().unwrap();
    let other_id = other["client_id"].as_str().unwrap();
    let r = c.post_form(
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", other_rt),
            ("client_id", other_id),
        ],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(server.refresh_counters().refreshes, 2);
}

#[test]
fn insufficient_scope_403_and_expiry_401() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    let tok = full_public_flow(&mut c, &server, Some("mcp:read"));
    let access = tok["access_token"].as_str().unwrap();
    let r = c.rpc("/mcp", "tools/list", json!({}), Some(access));
    assert_eq!(r.status, 200);
    let r = c.rpc(
        "/mcp",
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "x"}}),
        Some(access),
    );
    assert_eq!(r.status, 403);
    let www = r.header("www-authenticate").unwrap();
    assert_eq!(
        challenge_param(www, "error").as_deref(),
        Some("insufficient_scope")
    );
    assert_eq!(challenge_param(www, "scope").as_deref(), Some("mcp:write"));
    assert_eq!(challenge_param(www, "resource_metadata"), server.prm_url());

    // Unknown token, then an expired one.
    let r = c.rpc("/mcp", "tools/list", json!({}), Some("forged"));
    assert_eq!(r.status, 401);
    server.expire_all_tokens();
    let r = c.rpc("/mcp", "tools/list", json!({}), Some(access));
    assert_eq!(r.status, 401);
    assert_eq!(
        challenge_param(r.header("www-authenticate").unwrap(), "error").as_deref(),
        Some("invalid_token")
    );
    // issue_token mints a fresh valid one.
    let t = server.issue_token("direct", "mcp:write");
    let r = c.rpc("/mcp", "tools/call", json!({"name": "whoami"}), Some(&t));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["result"]["structuredContent"]["client_id"],
        "direct"
    );
}

#[test]
fn client_secret_basic_and_post() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);

    // basic
    let reg = register(&mut c, &server, "client_secret_basic");
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_basic");
    let id = reg["client_id"].as_str().unwrap();
    let secret = reg["client_secret"].as_str().unwrap();
    let p = pkce();
    let form = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", REDIRECT_URI.to_owned()),
            ("code_verifier", p.verifier.clone()),
        ]
    };
    let as_refs = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };
    let send = |c: &mut Conn, f: Vec<(&str, String)>, basic: Option<(&str, &str)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.post_form("/token", &pairs, basic)
    };
    let code = authorize(&mut c, &server, id, None, &p);
    let r = send(&mut c, as_refs(&form(&code)), Some((id, "wrong")));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    let code = authorize(&mut c, &server, id, None, &p);
    // The right secret but in the body: the registered method is basic.
    let mut f = form(&code);
    f.push(("client_id", id.to_owned()));
    f.push(("client_secret", secret.to_owned()));
    let r = send(&mut c, f, None);
    assert_eq!(r.status, 401, "{}", r.text());
    let code = authorize(&mut c, &server, id, None, &p);
    let r = send(&mut c, form(&code), Some((id, secret)));
    assert_eq!(r.status, 200, "{}", r.text());

    // post
    let reg = register(&mut c, &server, "client_secret_post");
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_post");
    let id = reg["client_id"].as_str().unwrap();
    let secret = reg["client_secret"].as_str().unwrap();
    let code = authorize(&mut c, &server, id, None, &p);
    let mut f = form(&code);
    f.push(("client_id", id.to_owned()));
    f.push(("client_secret", "nope".to_owned()));
    let r = send(&mut c, f, None);
    assert_eq!(r.status, 401);
    let code = authorize(&mut c, &server, id, None, &p);
    let r = send(&mut c, form(&code), Some((id, secret)));
    assert_eq!(r.status, 401, "basic is not the registered method");
    let code = authorize(&mut c, &server, id, None, &p);
    let mut f = form(&code);
    f.push(("client_id", id.to_owned()));
    f.push(("client_secret", secret.to_owned()));
    let r = send(&mut c, f, None);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn basic_credentials_are_form_urlencoded() {
    let mut cfg = DemoConfig::default();
    cfg.preregistered_clients.push(PreregisteredClient::new(
        "id with:colon",
        Some("s3cr3t+/= %"),
        AuthMethod::ClientSecretBasic,
    ));
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);
    let r = c.post_form(
        "/token",
        &[("grant_type", "client_credentials"), ("scope", "mcp:read")],
        Some(("id with:colon", "s3cr3t+/= %")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let tok = r.json();
    assert_eq!(tok["scope"], "mcp:read");
    assert!(tok.get("refresh_token").is_none());
    // Raw (not form-encoded) credentials do not match.
    let raw = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("id with:colon:s3cr3t+/= %")
    );
    let r = c.send(
        "POST",
        "/token",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &raw),
        ],
        b"grant_type=client_credentials",
    );
    assert_eq!(r.status, 401);
}

fn es256_assertion(pair: &Es256KeyPair, client_id: &str, aud: &str, exp: i64, jti: &str) -> String {
    pair.sign(&json!({"iss": client_id, "sub": client_id, "aud": aud, "exp": exp, "iat": now(), "jti": jti}))
}

#[test]
fn private_key_jwt_es256_with_ring_generated_key() {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let public = JwtKey::Es256 {
        public_key: key.public_key().as_ref().to_vec(),
    };

    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    // DCR with the public key as an inline JWK Set.
    let reg = c.post_json(
        "/register",
        &json!({
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [public.to_jwk()]}
        }),
        None,
    );
    assert_eq!(reg.status, 201, "{}", reg.text());
    let reg = reg.json();
    assert_eq!(reg["token_endpoint_auth_method"], "private_key_jwt");
    assert!(reg.get("client_secret").is_none());
    let id = reg["client_id"].as_str().unwrap().to_owned();

    let sign = |claims: Value| {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{h}.{p}");
        let sig = key.sign(&rng, input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    };
    let p = pkce();
    let try_token = |c: &mut Conn, assertion: &str| {
        let code = authorize(c, &server, &id, Some("mcp:read"), &p);
        c.post_form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &p.verifier),
                ("client_assertion_type", JWT_BEARER_ASSERTION_TYPE),
                ("client_assertion", assertion),
            ],
            None,
        )
    };
    let issuer = server.issuer();
    let good = sign(json!({"iss": id, "sub": id, "aud": issuer, "exp": now() + 60, "jti": "a"}));
    let r = try_token(&mut c, &good);
    assert_eq!(r.status, 200, "{}", r.text());
    // Replay of the same jti.
    let r = try_token(&mut c, &good);
    assert_eq!(r.status, 401);
    // aud = token endpoint is fine too.
    let r = try_token(
        &mut c,
        &sign(
            json!({"iss": id, "sub": id, "aud": [server.token_endpoint()], "exp": now() + 60, "jti": "b"}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Wrong aud, expired, wrong sub, tampered.
    for bad in [
        sign(
            json!({"iss": id, "sub": id, "aud": "https://elsewhere", "exp": now() + 60, "jti": "c"}),
        ),
        sign(json!({"iss": id, "sub": id, "aud": issuer, "exp": now() - 120, "jti": "d"})),
        sign(json!({"iss": id, "sub": "someone", "aud": issuer, "exp": now() + 60, "jti": "e"})),
        {
            let other = Es256KeyPair::generate();
            es256_assertion(&other, &id, &issuer, now() + 60, "f")
        },
    ] {
        let r = try_token(&mut c, &bad);
        assert_eq!(r.status, 401, "{}", r.text());
        assert_eq!(r.json()["error"], "invalid_client");
    }
}

#[test]
fn client_credentials_jwt_topology() {
    let cfg = DemoConfig::conformance("auth/client-credentials-jwt").unwrap();
    let ctx = cfg.context.clone().unwrap();
    assert!(
        ctx["private_key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);
    // Rebuild the key from the PEM in the context.
    let pem = ctx["private_key_pem"].as_str().unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let pair = Es256KeyPair {
        pkcs8_der: der,
        pkcs8_pem: pem.to_owned(),
        public_key: JwtKey::Es256 { public_key: vec![] },
    };
    let id = "conformance-test-client";
    let assertion = es256_assertion(
        &pair,
        id,
        &format!("{}/", server.issuer()),
        now() + 60,
        "j1",
    );
    let r = c.post_form(
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER_ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let access = r.json()["access_token"].as_str().unwrap().to_owned();
    let r = c.rpc(
        "/mcp",
        "tools/call",
        json!({"name": "test-tool"}),
        Some(&access),
    );
    assert_eq!(rpc_body(&r)["result"]["content"][0]["text"], "test");
    // authorization_code is not a supported grant in this topology.
    let r = c.post_form(
        "/token",
        &[("grant_type", "authorization_code"), ("code", "x")],
        None,
    );
    assert_eq!(r.json()["error"], "unsupported_grant_type");
}

/// RS256: a 2048-bit test key (generated for this test only with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 | openssl pkcs8 -topk8 -nocrypt
/// -outform DER | base64`). It protects nothing.
const RSA_TEST_KEY_PKCS8_B64: &str = include_str!("rsa-test-key.pkcs8.b64");

#[test]
fn private_key_jwt_rs256() {
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
    let der = base64::engine::general_purpose::STANDARD
        .decode(RSA_TEST_KEY_PKCS8_B64.trim().replace('\n', ""))
        .unwrap();
    let key = RsaKeyPair::from_pkcs8(&der).unwrap();
    let comps: RsaPublicKeyComponents<Vec<u8>> = key.public().into();
    let public = JwtKey::Rs256 {
        n: comps.n,
        e: comps.e,
    };
    assert_eq!(JwtKey::from_jwk(&public.to_jwk()), Some(public.clone()));

    let mut cfg = DemoConfig::default();
    let mut client = PreregisteredClient::with_jwt_key("rsa-client", public);
    client.redirect_uris = vec![REDIRECT_URI.to_owned()];
    cfg.preregistered_clients.push(client);
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);

    let rng = ring::rand::SystemRandom::new();
    let sign = |alg: &str, claims: Value| {
        let h = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{h}.{p}");
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    };
    let claims = json!({"iss": "rsa-client", "sub": "rsa-client", "aud": server.issuer(), "exp": now() + 60});
    let cc = |c: &mut Conn, a: &str| {
        c.post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "rsa-client"),
                ("client_assertion_type", JWT_BEARER_ASSERTION_TYPE),
                ("client_assertion", a),
            ],
            None,
        )
    };
    let r = cc(&mut c, &sign("RS256", claims.clone()));
    assert_eq!(r.status, 200, "{}", r.text());
    // alg confusion: the header says ES256 for an RSA key.
    let r = cc(&mut c, &sign("ES256", claims));
    assert_eq!(r.status, 401);
}

#[test]
fn authorization_endpoint_validation() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    let reg = register(&mut c, &server, "none");
    let id = reg["client_id"].as_str().unwrap();
    let p = pkce();
    let q = |pairs: &[(&str, &str)]| {
        format!(
            "/authorize?{}",
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        )
    };
    let base = [
        ("response_type", "code"),
        ("client_id", id),
        ("redirect_uri", REDIRECT_URI),
        ("code_challenge", p.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // No state sent: none echoed; iss present.
    let r = c.get(&q(&base));
    assert_eq!(r.status, 302);
    assert!(r.location_param("state").is_none());
    assert!(r.location_param("iss").is_some());
    // Unknown client / unregistered redirect: 400, no redirect.
    let mut b = base.to_vec();
    b[1] = ("client_id", "nobody");
    assert_eq!(c.get(&q(&b)).status, 400);
    let mut b = base.to_vec();
    b[2] = ("redirect_uri", "https://attacker.example/cb");
    assert_eq!(c.get(&q(&b)).status, 400);
    // A loopback redirect on another port is fine (RFC 8252).
    let mut b = base.to_vec();
    b[2] = ("redirect_uri", "http://127.0.0.1:7777/callback");
    assert_eq!(c.get(&q(&b)).status, 302);
    // Missing PKCE, plain method, wrong response_type: error redirects.
    for (i, bad) in [
        (3, ("code_challenge", "")),
        (4, ("code_challenge_method", "plain")),
        (0, ("response_type", "token")),
    ] {
        let mut b = base.to_vec();
        if bad.1.is_empty() {
            b.remove(i);
        } else {
            b[i] = bad;
        }
        b.push(("state", "s"));
        let r = c.get(&q(&b));
        assert_eq!(r.status, 302);
        assert!(
            r.location_param("error").is_some(),
            "{:?}",
            r.header("location")
        );
        assert_eq!(r.location_param("state").as_deref(), Some("s"));
        assert!(r.location_param("code").is_none());
    }
    // Duplicate parameter.
    let mut b = base.to_vec();
    b.push(("client_id", id));
    assert_eq!(c.get(&q(&b)).status, 400);
    // Configured denial and iss off.
    server.update(|cfg| {
        cfg.faults.authorize_error = Some("access_denied".into());
        cfg.iss_in_authorization_response = false;
    });
    let r = c.get(&q(&base));
    assert_eq!(r.location_param("error").as_deref(), Some("access_denied"));
    assert!(r.location_param("iss").is_none());
}

#[test]
fn resource_must_match_between_authorize_and_token() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let mut c = Conn::open(&server);
    let reg = register(&mut c, &server, "none");
    let id = reg["client_id"].as_str().unwrap();
    let p = pkce();
    let code = authorize(&mut c, &server, id, None, &p);
    let r = c.post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &p.verifier),
            ("client_id", id),
            ("resource", "https://other.example/mcp"),
        ],
        None,
    );
    assert_eq!(r.json()["error"], "invalid_target");
    // redirect_uri mismatch.
    let code = authorize(&mut c, &server, id, None, &p);
    let r = c.post_form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:5555/other"),
            ("code_verifier", &p.verifier),
            ("client_id", id),
        ],
        None,
    );
    assert_eq!(r.json()["error"], "invalid_grant");
}

#[test]
fn cimd_client_id_is_accepted_when_enabled() {
    let cfg = DemoConfig {
        cimd_supported: true,
        ..DemoConfig::default()
    };
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);
    let md = c.get("/.well-known/oauth-authorization-server").json();
    assert_eq!(md["client_id_metadata_document_supported"], true);
    let p = pkce();
    let cid = mcp_auth_demo_server::CONFORMANCE_CIMD_CLIENT_ID;
    let code = authorize(&mut c, &server, cid, None, &p);
    let r = exchange_public(&mut c, &server, cid, &code, &p.verifier);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        server.requests_to("/authorize")[0]
            .query_value("client_id")
            .as_deref(),
        Some(cid)
    );
    server.update(|c| c.cimd_supported = false);
    let q = format!(
        "/authorize?response_type=code&client_id={}&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(cid.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>(),
        p.challenge
    );
    assert_eq!(c.get(&q).status, 400);
}

#[test]
fn sse_and_open_initialize() {
    let cfg = DemoConfig::conformance("scope-step-up").unwrap();
    let server = DemoServer::start(cfg).unwrap();
    let mut c = Conn::open(&server);
    // initialize passes without a token, and the answer is SSE.
    let r = c.rpc("/mcp", "initialize", json!({}), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(rpc_body(&r)["result"]["protocolVersion"], "2025-11-25");
    // tools/list: 401 scope=mcp:basic.
    let r = c.rpc("/mcp", "tools/list", json!({}), None);
    assert_eq!(r.status, 401);
    let www = r.header("www-authenticate").unwrap();
    assert_eq!(challenge_param(www, "scope").as_deref(), Some("mcp:basic"));
    // Basic token: list ok, call 403 with the escalated scope.
    let t = server.issue_token("c", "mcp:basic");
    assert_eq!(c.rpc("/mcp", "tools/list", json!({}), Some(&t)).status, 200);
    let r = c.rpc("/mcp", "tools/call", json!({"name": "test-tool"}), Some(&t));
    assert_eq!(r.status, 403);
    assert_eq!(
        challenge_param(r.header("www-authenticate").unwrap(), "scope").as_deref(),
        Some("mcp:basic mcp:write")
    );
    let t = server.issue_token("c", "mcp:basic mcp:write");
    let r = c.rpc("/mcp", "tools/call", json!({"name": "test-tool"}), Some(&t));
    assert_eq!(rpc_body(&r)["result"]["content"][0]["text"], "test");
    // Without text/event-stream in Accept: plain JSON.
    let r = c.send(
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("authorization", &format!("Bearer {t}")),
        ],
        br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#,
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["id"], 7);
    // Unknown method and bad JSON.
    let r = c.rpc("/mcp", "nope", json!({}), Some(&t));
    assert_eq!(rpc_body(&r)["error"]["code"], -32601);
    let r = c.send(
        "POST",
        "/mcp",
        &[("authorization", &format!("Bearer {t}"))],
        b"{not json",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32700);
}
