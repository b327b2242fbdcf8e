//! Every topology constructor: the documented metadata locations, and a spec-following client
//! (conformance.md §3.5) succeeding (or correctly stopping) against each, without hitting traps.

mod common;

use common::*;
use mcp_auth_demo_server::{CONFORMANCE_SCENARIOS, DemoConfig, DemoServer, EXTRA_TOPOLOGIES};
use serde_json::{Value, json};

const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";
const PRM_MCP: &str = "/.well-known/oauth-protected-resource/mcp";
const PRM_CUSTOM: &str = "/custom/metadata/location.json";
const OAUTH_ROOT: &str = "/.well-known/oauth-authorization-server";
const OIDC_ROOT: &str = "/.well-known/openid-configuration";
const OAUTH_T1: &str = "/.well-known/oauth-authorization-server/tenant1";
const OIDC_INSERT_T1: &str = "/.well-known/openid-configuration/tenant1";
const OIDC_APPEND_T1: &str = "/tenant1/.well-known/openid-configuration";

/// (scenario, PRM path, PRM in header, issuer path, AS metadata path, endpoint prefix)
type Row = (
    &'static str,
    Option<&'static str>,
    bool,
    &'static str,
    Option<&'static str>,
    &'static str,
);

const TABLE: &[Row] = &[
    (
        "metadata-default",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "metadata-var1",
        Some(PRM_MCP),
        false,
        "",
        Some(OIDC_ROOT),
        "",
    ),
    (
        "metadata-var2",
        Some(PRM_ROOT),
        false,
        "/tenant1",
        Some(OAUTH_T1),
        "/tenant1",
    ),
    (
        "metadata-var3",
        Some(PRM_CUSTOM),
        true,
        "/tenant1",
        Some(OIDC_APPEND_T1),
        "/tenant1",
    ),
    ("basic-cimd", Some(PRM_MCP), true, "", Some(OAUTH_ROOT), ""),
    (
        "scope-from-www-authenticate",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "scope-from-scopes-supported",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "scope-omitted-when-undefined",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "scope-step-up",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "scope-retry-limit",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "token-endpoint-auth-basic",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "token-endpoint-auth-post",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "token-endpoint-auth-none",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "pre-registration",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "2025-03-26-oauth-metadata-backcompat",
        None,
        false,
        "/oauth",
        Some(OAUTH_ROOT),
        "/oauth",
    ),
    (
        "2025-03-26-oauth-endpoint-fallback",
        None,
        false,
        "",
        None,
        "",
    ),
    (
        "resource-mismatch",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "offline-access-scope",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "offline-access-not-supported",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "client-credentials-basic",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
    (
        "client-credentials-jwt",
        Some(PRM_MCP),
        true,
        "",
        Some(OAUTH_ROOT),
        "",
    ),
];

const ALL_PRM: &[&str] = &[PRM_ROOT, PRM_MCP, PRM_CUSTOM];
const ALL_ASM: &[&str] = &[
    OAUTH_ROOT,
    OIDC_ROOT,
    OAUTH_T1,
    OIDC_INSERT_T1,
    OIDC_APPEND_T1,
];

#[test]
fn every_conformance_scenario_has_a_constructor_and_a_table_row() {
    assert_eq!(CONFORMANCE_SCENARIOS.len(), 21);
    for name in CONFORMANCE_SCENARIOS {
        assert!(DemoConfig::conformance(name).is_some(), "{name}");
        assert!(
            DemoConfig::conformance(&format!("auth/{name}")).is_some(),
            "auth/{name}"
        );
        assert!(TABLE.iter().any(|row| row.0 == *name), "{name}");
    }
    for name in EXTRA_TOPOLOGIES {
        assert!(DemoConfig::topology(name).is_some(), "{name}");
    }
    assert!(DemoConfig::conformance("auth/nope").is_none());
    assert!(DemoConfig::topology("nope").is_none());
}

#[test]
fn documented_metadata_locations() {
    for &(name, prm, in_header, issuer_path, asm, prefix) in TABLE {
        let server = DemoServer::start(DemoConfig::conformance(name).unwrap()).unwrap();
        let origin = server.origin();
        let mut c = Conn::open(&server);
        assert_eq!(server.issuer(), format!("{origin}{issuer_path}"), "{name}");

        for p in ALL_PRM {
            let r = c.get(p);
            if Some(*p) == prm {
                assert_eq!(r.status, 200, "{name} {p}");
                let doc = r.json();
                assert_eq!(
                    doc["authorization_servers"],
                    json!([server.issuer()]),
                    "{name}"
                );
            } else {
                assert_eq!(r.status, 404, "{name} {p} must not exist");
            }
        }
        for p in ALL_ASM {
            let r = c.get(p);
            if Some(*p) == asm {
                assert_eq!(r.status, 200, "{name} {p}");
                let doc = r.json();
                assert_eq!(doc["issuer"], server.issuer(), "{name}");
                assert_eq!(
                    doc["token_endpoint"],
                    format!("{origin}{prefix}/token"),
                    "{name}"
                );
            } else {
                assert_eq!(r.status, 404, "{name} {p} must not exist");
            }
        }
        assert_eq!(
            server.prm_url(),
            prm.map(|p| format!("{origin}{p}")),
            "{name}"
        );
        assert_eq!(
            server.as_metadata_url(),
            asm.map(|p| format!("{origin}{p}")),
            "{name}"
        );

        // The challenge advertises the PRM exactly when documented.
        let r = c.rpc("/mcp", "tools/list", json!({}), None);
        assert_eq!(r.status, 401, "{name}");
        let www = r.header("www-authenticate").unwrap();
        assert_eq!(
            challenge_param(www, "resource_metadata"),
            if in_header {
                prm.map(|p| format!("{origin}{p}"))
            } else {
                None
            },
            "{name}"
        );

        // The endpoints live under the documented prefix, whatever the metadata says.
        let r = c.post_form(&format!("{prefix}/token"), &[("grant_type", "x")], None);
        assert_eq!(r.status, 400, "{name}");
        assert_eq!(r.json()["error"], "unsupported_grant_type", "{name}");
    }
}

#[test]
fn scenario_specific_documents() {
    let get = |name: &str, path: &str| {
        let server = DemoServer::start(DemoConfig::conformance(name).unwrap()).unwrap();
        let mut c = Conn::open(&server);
        (c.get(path).json(), server)
    };
    let (md, _) = get("basic-cimd", OAUTH_ROOT);
    assert_eq!(md["client_id_metadata_document_supported"], true);
    let (md, _) = get("pre-registration", OAUTH_ROOT);
    assert!(md.get("registration_endpoint").is_none());
    assert_eq!(
        md["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic"])
    );
    let (md, _) = get("token-endpoint-auth-post", OAUTH_ROOT);
    assert_eq!(
        md["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post"])
    );
    let (prm, _) = get("scope-from-scopes-supported", PRM_MCP);
    assert_eq!(
        prm["scopes_supported"],
        json!(["mcp:basic", "mcp:read", "mcp:write"])
    );
    let (prm, _) = get("scope-omitted-when-undefined", PRM_MCP);
    assert!(prm.get("scopes_supported").is_none());
    let (prm, _) = get("resource-mismatch", PRM_MCP);
    assert_eq!(prm["resource"], "https://evil.example.com/mcp");
    let (prm, s) = get("metadata-var2", PRM_ROOT);
    assert_eq!(prm["resource"], s.origin());
    let (md, _) = get("offline-access-scope", OAUTH_ROOT);
    assert_eq!(
        md["scopes_supported"],
        json!(["mcp:basic", "offline_access"])
    );
    let (md, _) = get("offline-access-not-supported", OAUTH_ROOT);
    assert_eq!(md["scopes_supported"], json!(["mcp:basic", "mcp:read"]));
    let (md, _) = get("client-credentials-basic", OAUTH_ROOT);
    assert_eq!(md["grant_types_supported"], json!(["client_credentials"]));
    let (md, _) = get("metadata-var1", OIDC_ROOT);
    assert_eq!(md["subject_types_supported"], json!(["public"]));
    let (md, _) = get("metadata-default", OAUTH_ROOT);
    assert!(
        md.get("authorization_response_iss_parameter_supported")
            .is_none()
    );

    // The 401 scope parameter.
    for (name, scope) in [
        ("scope-from-www-authenticate", Some("mcp:basic")),
        ("scope-from-scopes-supported", None),
        ("scope-omitted-when-undefined", None),
        ("scope-retry-limit", Some("mcp:admin")),
    ] {
        let server = DemoServer::start(DemoConfig::conformance(name).unwrap()).unwrap();
        let r = Conn::open(&server).rpc("/mcp", "tools/list", json!({}), None);
        let www = r.header("www-authenticate").unwrap();
        assert_eq!(challenge_param(www, "scope").as_deref(), scope, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// A client following conformance.md §3.5, driven over raw HTTP.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum End {
    Done,
    ResourceMismatch,
    GaveUp,
}

struct Client<'a> {
    server: &'a DemoServer,
    c: Conn,
    ctx: Option<Value>,
    prm: Option<Value>,
    asm: Option<Value>,
    endpoints: (String, String, Option<String>),
    client: Option<(String, Option<String>, String)>, // id, secret, method
    token: Option<String>,
    authorizations: usize,
}

impl<'a> Client<'a> {
    fn new(server: &'a DemoServer) -> Self {
        Client {
            server,
            c: Conn::open(server),
            ctx: server.context(),
            prm: None,
            asm: None,
            endpoints: Default::default(),
            client: None,
            token: None,
            authorizations: 0,
        }
    }

    fn discover(&mut self, www: &str) -> Result<(), End> {
        let origin = self.server.origin();
        let mut candidates = Vec::new();
        if let Some(u) = challenge_param(www, "resource_metadata") {
            candidates.push(path_of(&u));
        }
        candidates.push(PRM_MCP.to_owned());
        candidates.push(PRM_ROOT.to_owned());
        for p in candidates {
            let r = self.c.get(&p);
            if r.status == 200 {
                self.prm = Some(r.json());
                break;
            }
        }
        let issuer = match &self.prm {
            Some(prm) => {
                let resource = prm["resource"].as_str().unwrap();
                let mcp = self.server.mcp_url();
                if !(resource == mcp || mcp.starts_with(&format!("{resource}/"))) {
                    return Err(End::ResourceMismatch);
                }
                prm["authorization_servers"][0].as_str().unwrap().to_owned()
            }
            None => origin.clone(),
        };
        let path = url::Url::parse(&issuer)
            .unwrap()
            .path()
            .trim_end_matches('/')
            .to_owned();
        let asm_candidates = if path.is_empty() {
            vec![OAUTH_ROOT.to_owned(), OIDC_ROOT.to_owned()]
        } else {
            vec![
                format!("{OAUTH_ROOT}{path}"),
                format!("{OIDC_ROOT}{path}"),
                format!("{path}{OIDC_ROOT}"),
            ]
        };
        for p in asm_candidates {
            let r = self.c.get(&p);
            if r.status == 200 {
                let md = r.json();
                if self.prm.is_some() {
                    assert_eq!(md["issuer"], issuer.as_str());
                } else {
                    // 2025-03-26: no issuer was named; the metadata's issuer is on the origin.
                    assert!(md["issuer"].as_str().unwrap().starts_with(issuer.as_str()));
                }
                self.asm = Some(md);
                break;
            }
        }
        self.endpoints = match &self.asm {
            Some(md) => (
                path_of(md["authorization_endpoint"].as_str().unwrap()),
                path_of(md["token_endpoint"].as_str().unwrap()),
                md["registration_endpoint"].as_str().map(path_of),
            ),
            None => (
                "/authorize".into(),
                "/token".into(),
                Some("/register".into()),
            ),
        };
        Ok(())
    }

    fn identify(&mut self) {
        if self.client.is_some() {
            return;
        }
        if let Some(ctx) = &self.ctx {
            self.client = Some((
                ctx["client_id"].as_str().unwrap().to_owned(),
                ctx["client_secret"].as_str().map(str::to_owned),
                "client_secret_basic".to_owned(),
            ));
            return;
        }
        if self
            .asm
            .as_ref()
            .is_some_and(|m| m["client_id_metadata_document_supported"] == true)
        {
            self.client = Some((
                mcp_auth_demo_server::CONFORMANCE_CIMD_CLIENT_ID.to_owned(),
                None,
                "none".to_owned(),
            ));
            return;
        }
        let method = self
            .asm
            .as_ref()
            .and_then(|m| m["token_endpoint_auth_methods_supported"][0].as_str())
            .unwrap_or("none")
            .to_owned();
        let r = self.c.post_json(
            self.endpoints.2.as_deref().expect("DCR endpoint"),
            &json!({
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": method,
            }),
            None,
        );
        assert_eq!(r.status, 201);
        let reg = r.json();
        self.client = Some((
            reg["client_id"].as_str().unwrap().to_owned(),
            reg["client_secret"].as_str().map(str::to_owned),
            reg["token_endpoint_auth_method"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }

    fn authorize(&mut self, scope: Option<String>) -> Result<(), End> {
        if self.authorizations == 3 {
            return Err(End::GaveUp);
        }
        self.authorizations += 1;
        self.identify();
        let (id, secret, method) = self.client.clone().unwrap();
        let p = pkce();
        let resource = self
            .prm
            .as_ref()
            .map(|p| p["resource"].as_str().unwrap().to_owned());
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("response_type", "code")
            .append_pair("client_id", &id)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("code_challenge", &p.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "s");
        if let Some(s) = &scope {
            q.append_pair("scope", s);
        }
        if let Some(r) = &resource {
            q.append_pair("resource", r);
        }
        let r = self.c.get(&format!("{}?{}", self.endpoints.0, q.finish()));
        assert_eq!(r.status, 302, "{}", r.text());
        let code = r.location_param("code").unwrap();
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT_URI.to_owned()),
            ("code_verifier", p.verifier),
        ];
        if let Some(r) = resource {
            form.push(("resource", r));
        }
        let basic = match method.as_str() {
            "client_secret_basic" => Some((id.clone(), secret.clone().unwrap())),
            "client_secret_post" => {
                form.push(("client_id", id.clone()));
                form.push(("client_secret", secret.clone().unwrap()));
                None
            }
            _ => {
                form.push(("client_id", id.clone()));
                None
            }
        };
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let token_path = self.endpoints.1.clone();
        let r = self.c.post_form(
            &token_path,
            &pairs,
            basic.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        self.token = Some(r.json()["access_token"].as_str().unwrap().to_owned());
        Ok(())
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value, End> {
        let body = if method.starts_with("notifications/") {
            json!({"jsonrpc": "2.0", "method": method})
        } else {
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        };
        loop {
            let r = self.c.post_json("/mcp", &body, self.token.as_deref());
            match r.status {
                200 => return Ok(rpc_body(&r)),
                202 => return Ok(Value::Null),
                401 | 403 => {
                    let www = r.header("www-authenticate").unwrap().to_owned();
                    if self.asm.is_none() && self.prm.is_none() && self.endpoints.1.is_empty() {
                        self.discover(&www)?;
                    }
                    let scope = challenge_param(&www, "scope").or_else(|| {
                        let s = self.prm.as_ref()?.get("scopes_supported")?.as_array()?;
                        Some(
                            s.iter()
                                .map(|v| v.as_str().unwrap())
                                .collect::<Vec<_>>()
                                .join(" "),
                        )
                    });
                    self.authorize(scope)?;
                }
                s => panic!("unexpected {s}: {}", r.text()),
            }
        }
    }

    fn run(&mut self) -> Result<(), End> {
        self.call("initialize", json!({"protocolVersion": "2025-11-25"}))?;
        self.call("notifications/initialized", json!({}))?;
        self.call("tools/list", json!({}))?;
        let r = self.call("tools/call", json!({"name": "test-tool"}))?;
        assert_eq!(r["result"]["content"][0]["text"], "test");
        Ok(())
    }
}

fn run(name: &str) -> (End, DemoServer) {
    let server = DemoServer::start(DemoConfig::topology(name).unwrap()).unwrap();
    let end = {
        let mut client = Client::new(&server);
        match client.run() {
            Ok(()) => End::Done,
            Err(e) => e,
        }
    };
    (end, server)
}

#[test]
fn spec_following_client_against_every_authorization_code_topology() {
    for name in CONFORMANCE_SCENARIOS
        .iter()
        .filter(|n| !n.starts_with("client-credentials"))
    {
        let (end, server) = run(name);
        let lines = server.request_lines();
        let authorizations = server.requests_to(&format!(
            "{}/authorize",
            server.config().effective_endpoint_prefix()
        ));
        match *name {
            "resource-mismatch" => {
                assert_eq!(end, End::ResourceMismatch);
                assert!(authorizations.is_empty(), "{lines:?}");
            }
            "scope-retry-limit" => {
                assert_eq!(end, End::GaveUp);
                assert_eq!(authorizations.len(), 3);
            }
            _ => assert_eq!(end, End::Done, "{name}: {lines:?}"),
        }
        // Traps.
        if *name == "metadata-default" {
            assert!(!lines.contains(&format!("GET {PRM_ROOT}")), "{lines:?}");
        }
        if matches!(*name, "metadata-var2" | "metadata-var3") {
            assert!(!lines.contains(&format!("GET {OAUTH_ROOT}")), "{lines:?}");
            assert!(!lines.contains(&format!("GET {OIDC_ROOT}")), "{lines:?}");
        }
        let scope_of = |i: usize| authorizations.get(i).and_then(|r| r.query_value("scope"));
        match *name {
            "scope-from-www-authenticate" => assert_eq!(scope_of(0).as_deref(), Some("mcp:basic")),
            "scope-from-scopes-supported" => {
                assert_eq!(scope_of(0).as_deref(), Some("mcp:basic mcp:read mcp:write"))
            }
            "scope-omitted-when-undefined" => assert_eq!(scope_of(0), None),
            "scope-step-up" => {
                assert_eq!(scope_of(0).as_deref(), Some("mcp:basic"));
                assert_eq!(scope_of(1).as_deref(), Some("mcp:basic mcp:write"));
            }
            "pre-registration" => {
                assert_eq!(
                    server.requests_to("/token")[0].header("authorization"),
                    Some(basic_header("pre-registered-client", "pre-registered-secret").as_str())
                );
            }
            "token-endpoint-auth-post" => {
                let t = &server.requests_to("/token")[0];
                assert!(t.form_value("client_secret").is_some());
                assert!(t.header("authorization").is_none());
            }
            "2025-03-26-oauth-metadata-backcompat" => {
                assert!(lines.contains(&"POST /oauth/token".to_owned()), "{lines:?}")
            }
            "2025-03-26-oauth-endpoint-fallback" => {
                assert!(lines.contains(&"POST /register".to_owned()), "{lines:?}")
            }
            _ => {}
        }
    }
}

#[test]
fn client_credentials_basic_topology() {
    let server =
        DemoServer::start(DemoConfig::conformance("client-credentials-basic").unwrap()).unwrap();
    let ctx = server.context().unwrap();
    let (id, secret) = (
        ctx["client_id"].as_str().unwrap(),
        ctx["client_secret"].as_str().unwrap(),
    );
    let mut c = Conn::open(&server);
    let r = c.post_form(
        "/token",
        &[("grant_type", "client_credentials")],
        Some((id, "wrong")),
    );
    assert_eq!(r.status, 401);
    let r = c.post_form(
        "/token",
        &[("grant_type", "client_credentials")],
        Some((id, secret)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.json()["access_token"].as_str().unwrap().to_owned();
    let r = c.rpc("/mcp", "tools/list", json!({}), Some(&t));
    assert_eq!(r.status, 200);
    assert_eq!(server.grant_count("client_credentials"), 2);
}

#[test]
fn reference_benchmark_request_sequence() {
    let (end, server) = run("reference-benchmark");
    assert_eq!(end, End::Done);
    let lines = server.request_lines();
    assert_eq!(
        &lines[..9],
        &[
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-protected-resource",
            "GET /.well-known/oauth-authorization-server",
            "GET /.well-known/openid-configuration",
            "POST /register",
            "GET /authorize",
            "POST /token",
            "POST /mcp",
        ],
        "{lines:?}"
    );
    let r = &server.requests()[0];
    assert!(r.header("authorization").is_none());
    assert_eq!(server.connections_accepted(), 1);
    let cfg = DemoConfig::reference_benchmark();
    assert!(!cfg.challenge_resource_metadata && cfg.challenge_scope.is_none());
}

#[test]
fn default_topology_flow_takes_six_requests() {
    let (end, server) = run("default");
    assert_eq!(end, End::Done);
    let lines = server.request_lines();
    assert_eq!(
        &lines[..7],
        &[
            "POST /mcp",
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-authorization-server",
            "POST /register",
            "GET /authorize",
            "POST /token",
            "POST /mcp",
        ]
    );
}
