//! Secret hygiene: no access token, refresh token, client secret, authorization code, PKCE
//! verifier, `state` or private key appears in `Debug` output, error messages or trace events
//! (RFC 9700 §4.2 and §4.3 on code and token leakage; MCP authorization "Token theft").
//!
//! The Python `repr` and the C last-error strings are covered by those surfaces' own tests.

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mcp_auth::authorization::{AuthorizationCodeResult, AuthorizationRequest};
use mcp_auth::http::{HttpClient, HttpConfig, UreqHttpClient};
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::pkce::PkceParameters;
use mcp_auth::secret::{
    AccessToken, AuthorizationCode, ClientSecret, PkceCodeVerifier, RefreshToken, State,
};
use mcp_auth::storage::{FileStorage, MemoryStorage, TokenStorage};
use mcp_auth::token::{ClientAuth, SigningKey, TokenEndpointAuthMethod, TokenRequest};
use mcp_auth::{Client, ClientOptions, Grant, PreRegisteredClient};
use mcp_auth_demo_server::{DemoConfig, Es256KeyPair};
use serde_json::json;

const ACCESS: &str = "AT-5ecret-access-0001";
const REFRESH: &str = "RT-5ecret-refresh-0002";
const CLIENT_SECRET: &str = "CS-5ecret-client-0003";
const CODE: &str = "AC-5ecret-code-0004";
const VERIFIER: &str = "PV-5ecret-verifier-0005-abcdefghijklmnopqrstuvwxyz0123456789";
const STATE: &str = "ST-5ecret-state-0006";
const ID_TOKEN: &str = "IT-5ecret-id-token-0007";
const REG_TOKEN: &str = "RA-5ecret-registration-0008";
const ALL: [&str; 8] = [
    ACCESS,
    REFRESH,
    CLIENT_SECRET,
    CODE,
    VERIFIER,
    STATE,
    ID_TOKEN,
    REG_TOKEN,
];

fn assert_clean(what: &str, text: &str) {
    for s in ALL {
        assert!(!text.contains(s), "{what} leaks {s}: {text}");
    }
}

fn token() -> OAuthToken {
    let mut t = OAuthToken::new(ACCESS);
    t.refresh_token = Some(REFRESH.into());
    t.scope = Some("mcp:read".into());
    t.extra.insert("id_token".into(), json!(ID_TOKEN));
    t
}

fn client_info() -> OAuthClientInformationFull {
    let mut ci = OAuthClientInformationFull::new("client-1");
    ci.client_secret = Some(CLIENT_SECRET.into());
    ci.token_endpoint_auth_method = Some("client_secret_post".into());
    ci.extra
        .insert("registration_access_token".into(), json!(REG_TOKEN));
    ci
}

#[test]
fn secret_newtypes_print_redacted() {
    for (name, debug) in [
        ("AccessToken", format!("{:?}", AccessToken::new(ACCESS))),
        ("RefreshToken", format!("{:?}", RefreshToken::new(REFRESH))),
        (
            "ClientSecret",
            format!("{:?}", ClientSecret::new(CLIENT_SECRET)),
        ),
        (
            "AuthorizationCode",
            format!("{:?}", AuthorizationCode::new(CODE)),
        ),
        (
            "PkceCodeVerifier",
            format!("{:?}", PkceCodeVerifier::new(VERIFIER)),
        ),
        ("State", format!("{:?}", State::new(STATE))),
    ] {
        assert_eq!(debug, format!("{name}([redacted])"));
    }
}

#[test]
fn models_and_requests_never_print_secrets() {
    let t = token();
    assert_clean("OAuthToken", &format!("{t:?} {t:#?}"));
    let ci = client_info();
    assert_clean("OAuthClientInformationFull", &format!("{ci:?} {ci:#?}"));

    let auth = ClientAuth::from_client_info(&ci).unwrap();
    assert_clean("ClientAuth", &format!("{auth:?}"));
    let mut req = TokenRequest::authorization_code(
        "https://as.example.com/token",
        &CODE.into(),
        "http://localhost:3000/callback",
        &VERIFIER.into(),
        Some("https://mcp.example.com/mcp"),
    );
    auth.apply(&mut req, "https://as.example.com").unwrap();
    assert_clean("TokenRequest", &format!("{req:?} {req:#?}"));
    let refresh = TokenRequest::refresh("https://as.example.com/token", &REFRESH.into(), None);
    assert_clean("TokenRequest (refresh)", &format!("{refresh:?}"));
    // The HTTP request carries them, by design: that is what is sent.
    let http = req.to_http().unwrap();
    assert!(String::from_utf8_lossy(http.body()).contains(CODE));

    let result = AuthorizationCodeResult {
        code: CODE.into(),
        state: Some(STATE.to_owned()),
        iss: Some("https://as.example.com".into()),
    };
    assert_clean("AuthorizationCodeResult", &format!("{result:?}"));
    let request = AuthorizationRequest {
        endpoint: "https://as.example.com/authorize".into(),
        client_id: "client-1".into(),
        redirect_uri: "http://localhost:3000/callback".into(),
        state: STATE.into(),
        pkce: PkceParameters::from_verifier(VERIFIER).unwrap(),
        resource: None,
        scope: None,
    };
    assert_clean("AuthorizationRequest", &format!("{request:?}"));
    assert!(
        !request.url().unwrap().contains(VERIFIER),
        "only the challenge is sent"
    );

    let pre = PreRegisteredClient::with_secret(
        "client-1",
        CLIENT_SECRET,
        TokenEndpointAuthMethod::ClientSecretBasic,
    );
    assert_clean("PreRegisteredClient", &format!("{pre:?}"));
    let client = Client::builder("https://mcp.example.com/mcp")
        .headless()
        .pre_registered(pre)
        .build()
        .unwrap();
    assert_clean("Client", &format!("{client:?}"));
    assert_clean("ClientConfig", &format!("{:?}", client.config()));

    let memory = MemoryStorage::new();
    memory
        .set_tokens("https://mcp.example.com/mcp", &t)
        .unwrap();
    memory
        .set_client_info("https://as.example.com", &ci)
        .unwrap();
    assert_clean("MemoryStorage", &format!("{memory:?}"));
    assert_clean(
        "FileStorage",
        &format!("{:?}", FileStorage::new("/tmp/x.json")),
    );
}

#[test]
fn a_signing_key_never_prints_its_material() {
    let pair = Es256KeyPair::generate();
    let body: String = pair
        .pkcs8_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let key = SigningKey::from_pem(&pair.pkcs8_pem, None)
        .unwrap()
        .with_key_id("kid-1");
    let debug = format!("{key:?}");
    for chunk in body.as_bytes().chunks(16) {
        assert!(
            !debug.contains(std::str::from_utf8(chunk).unwrap()),
            "{debug}"
        );
    }
    let pre = PreRegisteredClient::with_private_key("c", key);
    assert!(!format!("{pre:?}").contains(&body[..32]));
    // A broken PEM is refused without being quoted back.
    let broken = pair.pkcs8_pem.replace('A', "!");
    let e = SigningKey::from_pem(&broken, None).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(&body[10..40]), "{e}");
}

/// `ClientOptions` (the JSON the C ABI and Python pass in) holds the client secret and the
/// private key as plain strings and derives `Debug`.
#[test]
fn client_options_debug_is_redacted() {
    let o = ClientOptions::from_json(
        &json!({"server_url": "https://mcp.example.com/mcp", "client_id": "c",
                "client_secret": CLIENT_SECRET, "private_key_pem": REG_TOKEN})
        .to_string(),
    )
    .unwrap();
    assert_clean("ClientOptions", &format!("{o:?}"));
}

#[test]
fn client_options_errors_do_not_quote_secrets() {
    for bad in [
        json!({"server_url": "https://mcp.example.com/mcp", "client_secret": CLIENT_SECRET, "unknown": 1}),
        json!({"server_url": "https://mcp.example.com/mcp", "client_secret": CLIENT_SECRET, "grant": "nope"}),
        json!({"server_url": "https://mcp.example.com/mcp", "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "nope"}),
        json!({"server_url": "https://mcp.example.com/mcp", "client_id": "c", "private_key_pem": format!("-----BEGIN PRIVATE KEY-----\n{REG_TOKEN}\n-----END PRIVATE KEY-----")}),
    ] {
        let result =
            ClientOptions::from_json(&bad.to_string()).and_then(|o| o.builder().map(|_| ()));
        if let Err(e) = result {
            assert_clean("ClientOptions error", &format!("{e} {e:?}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors from the HTTP layer: URLs are redacted
// ---------------------------------------------------------------------------------------------

#[test]
fn transport_and_timeout_errors_redact_query_and_userinfo() {
    // Connection refused: a port that was just free.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http = UreqHttpClient::default();
    let url = format!(
        "http://user:{CLIENT_SECRET}@127.0.0.1:{port}/cb?code={CODE}&state={STATE}#{ACCESS}"
    );
    let e = http
        .execute(http::Request::get(url.as_str()).body(Vec::new()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), mcp_auth::ErrorKind::Transport, "{e}");
    assert_clean("transport error", &format!("{e} {e:?}"));

    // Timeout: a listener that never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/token?code={CODE}",
        silent.local_addr().unwrap().port()
    );
    let http = UreqHttpClient::new(HttpConfig {
        timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    });
    let e = http
        .execute(http::Request::get(url.as_str()).body(Vec::new()).unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), mcp_auth::ErrorKind::Timeout, "{e}");
    assert_clean("timeout error", &format!("{e} {e:?}"));
}

#[test]
fn public_url_drops_userinfo_query_and_fragment() {
    let u = format!("https://user:{CLIENT_SECRET}@as.example.com/cb?code={CODE}#{STATE}");
    assert_eq!(mcp_auth::token::public_url(&u), "https://as.example.com/cb");
    assert_eq!(mcp_auth::http::redact_url(&u), "https://as.example.com/cb");
}

/// `public_url` on a URL `url::Url` rejects (here: an out-of-range port) falls back to string
/// cutting at the *first* `@`, so the tail of a password containing `@` survives.
#[test]
fn public_url_drops_all_userinfo_of_unparsable_urls() {
    let p = mcp_auth::token::public_url(&format!(
        "https://user:{CLIENT_SECRET}@{ACCESS}@host:99999/x?code=1"
    ));
    assert_clean("public_url", &p);
    assert_eq!(p, "https://host:99999/x");
}

// ---------------------------------------------------------------------------------------------
// Trace events of whole flows
// ---------------------------------------------------------------------------------------------

/// Every secret that crossed the wire in `h`, plus the tokens and secrets in `storage`.
fn flow_secrets(
    h: &Harness,
    storage: &dyn TokenStorage,
    resource: &str,
    issuer: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for r in h.server.requests() {
        for (k, v) in r.form() {
            if matches!(
                k.as_str(),
                "code" | "code_verifier" | "client_secret" | "refresh_token" | "client_assertion"
            ) {
                out.push(v);
            }
        }
        for (k, v) in r.query_pairs() {
            if k == "state" {
                out.push(v);
            }
        }
        if let Some(a) = r.header("authorization") {
            out.push(a.split_once(' ').map_or(a, |(_, c)| c).to_owned());
        }
    }
    if let Some(t) = storage.get_tokens(resource).unwrap() {
        out.push(t.access_token.secret().to_owned());
        if let Some(r) = &t.refresh_token {
            out.push(r.secret().to_owned());
        }
    }
    if let Some(ci) = storage.get_client_info(issuer).unwrap() {
        if let Some(s) = &ci.client_secret {
            out.push(s.secret().to_owned());
        }
    }
    out.retain(|s| s.len() >= 8);
    out
}

fn assert_trace_clean(h: &Harness, secrets: &[String]) {
    assert!(
        secrets.len() >= 3,
        "the flow exchanged secrets: {secrets:?}"
    );
    let trace = h
        .trace
        .lock()
        .unwrap()
        .iter()
        .map(|e| format!("{} {e:?}", e.to_json()))
        .collect::<Vec<_>>()
        .join("\n");
    for s in secrets {
        assert!(!trace.contains(s.as_str()), "trace leaks {s}:\n{trace}");
    }
}

#[test]
fn authorization_code_flow_with_registration_and_refresh_traces_no_secret() {
    let h = Harness::start(DemoConfig {
        token_endpoint_auth_methods: vec![mcp_auth_demo_server::AuthMethod::ClientSecretPost],
        ..DemoConfig::default()
    });
    let storage = Arc::new(MemoryStorage::new());
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap();
    h.server.expire_all_tokens();
    rpc(&c, 2, "tools/list", json!({})).unwrap(); // refresh with rotation
    call_tool(&c, "echo").unwrap();
    assert!(h.server.grant_count("refresh_token") >= 1);
    let secrets = flow_secrets(&h, &*storage, c.resource_key(), &h.server.issuer());
    assert!(secrets.iter().any(|s| s.len() > 20), "{secrets:?}");
    assert_trace_clean(&h, &secrets);
}

#[test]
fn client_credentials_flows_trace_no_secret() {
    for (topology, jwt) in [
        ("client-credentials-basic", false),
        ("client-credentials-jwt", true),
    ] {
        let h = Harness::topology(topology);
        let ctx = h.server.context().unwrap();
        let pre = if jwt {
            let key = SigningKey::from_pem(ctx["private_key_pem"].as_str().unwrap(), None).unwrap();
            PreRegisteredClient::with_private_key(ctx["client_id"].as_str().unwrap(), key)
        } else {
            PreRegisteredClient::with_secret(
                ctx["client_id"].as_str().unwrap(),
                ctx["client_secret"].as_str().unwrap(),
                TokenEndpointAuthMethod::ClientSecretBasic,
            )
        };
        let storage = Arc::new(MemoryStorage::new());
        let c = h
            .builder()
            .grant(Grant::ClientCredentials)
            .pre_registered(pre)
            .storage(storage.clone())
            .build()
            .unwrap();
        initialize(&c).unwrap();
        let mut secrets = flow_secrets(&h, &*storage, c.resource_key(), &h.server.issuer());
        if let Some(s) = ctx["client_secret"].as_str() {
            secrets.push(s.to_owned());
        }
        assert_trace_clean(&h, &secrets);
        if jwt {
            let pem = ctx["private_key_pem"].as_str().unwrap();
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            let mut with_key = secrets.clone();
            with_key.extend([body[..40].to_owned(), body[40..80].to_owned()]);
            assert_trace_clean(&h, &with_key);
        }
    }
}

#[test]
fn errors_after_a_completed_flow_name_no_secret() {
    // A flow that gets all the way to the token and is then refused by the MCP server.
    let h = Harness::start(DemoConfig::default());
    h.server.update(|c| c.faults.mcp_always_unauthorized = true);
    let storage = Arc::new(MemoryStorage::new());
    let c = h.builder().storage(storage.clone()).build().unwrap();
    let e = initialize(&c).unwrap_err();
    assert_eq!(e.kind(), mcp_auth::ErrorKind::Unauthorized);
    let secrets = flow_secrets(&h, &*storage, c.resource_key(), &h.server.issuer());
    let text = format!("{e} {e:?}");
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "error leaks {s}: {text}");
    }
    assert_trace_clean(&h, &secrets);
    // Nor does access_token() on such a client put it anywhere but the value returned.
    let t = c.access_token().unwrap();
    assert!(!format!("{t:?}").contains(t.secret()));
}
