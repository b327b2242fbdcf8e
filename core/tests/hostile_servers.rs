//! Hostile servers: the demo server's fault modes (and, where it has none, a few lines of
//! `TcpListener`) against a client whose `FileStorage` is seeded with a working token and a
//! client registration.
//!
//! Every test ends in one specific `ErrorKind` and then checks three things:
//! - no secret (the seeded tokens and client secret, every code, verifier, `state`, token and
//!   credential that crossed the wire) appears in the error's `Display` or `Debug`, nor in any
//!   trace event;
//! - the credential file is byte-for-byte what it was before the fault (nothing lost,
//!   nothing half-written), unless the test says why not;
//! - nothing was sent past the point where the client had to stop (RFC 9700 §2.1, §4.1-4.5;
//!   MCP authorization "Security considerations").
//!
//! Tests marked `#[ignore = "bug: …"]` describe a defect whose fix belongs in `core/src`.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{FileStorage, TokenStorage};
use mcp_auth::{Check, Client, Error, ErrorKind};
use mcp_auth_demo_server::{AuthMethod, DemoConfig, FaultAction, PreregisteredClient, RouteFault};
use serde_json::json;

const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";
const ASM_PATH: &str = "/.well-known/oauth-authorization-server";

/// A client on a demo server, with a credential file seeded before the first request.
struct Seeded {
    h: Harness,
    dir: PathBuf,
    path: PathBuf,
    storage: Arc<FileStorage>,
    resource: String,
    /// The issuer the seeded registration is bound to.
    client_issuer: String,
    token: OAuthToken,
    client: OAuthClientInformationFull,
    file_before: Vec<u8>,
    /// Secrets that must never show up in a message.
    secrets: Vec<String>,
}

fn random() -> String {
    mcp_auth::pkce::generate_state().secret().to_owned()
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-hostile-{}-{}",
        std::process::id(),
        random()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl Seeded {
    /// Seed a token the server does not know (so the first request gets a 401 and runs the
    /// flow) and a registration for this server's issuer that the server does know (so the
    /// flow reuses it, SEP-2352).
    fn start(config: DemoConfig) -> Seeded {
        Self::start_with(config, None)
    }

    /// As [`Seeded::start`], but with the registration bound to another issuer, so that this
    /// server's flow registers dynamically (RFC 7591).
    fn start_registering(config: DemoConfig) -> Seeded {
        Self::start_with(config, Some("https://other-as.example.com".to_owned()))
    }

    fn start_with(config: DemoConfig, client_issuer: Option<String>) -> Seeded {
        let h = Harness::start(config);
        let dir = tempdir();
        let path = dir.join("credentials.json");
        let storage = Arc::new(FileStorage::new(&path));
        let secret = format!("seeded-client-secret-{}", random());
        h.server.register_client(PreregisteredClient::new(
            "seeded-client",
            Some(&secret),
            AuthMethod::ClientSecretBasic,
        ));
        let client_issuer = client_issuer.unwrap_or_else(|| h.server.issuer());
        let mut client = OAuthClientInformationFull::new("seeded-client");
        client.client_secret = Some(secret.clone().into());
        client.token_endpoint_auth_method = Some("client_secret_basic".to_owned());
        client.issuer = Some(client_issuer.clone());
        client.redirect_uris = Some(vec![
            mcp_auth::authorization::DEFAULT_REDIRECT_URI.to_owned(),
        ]);
        let access = format!("seeded-access-{}", random());
        let refresh = format!("seeded-refresh-{}", random());
        let mut token = OAuthToken::new(access.clone());
        token.refresh_token = Some(refresh.clone().into());
        token.scope = Some("mcp:read mcp:write".to_owned());
        let resource = mcp_auth::checks::resource_url_from_server_url(&h.server.mcp_url()).unwrap();
        storage.set_tokens(&resource, &token).unwrap();
        storage.set_client_info(&client_issuer, &client).unwrap();
        let file_before = std::fs::read(&path).unwrap();
        Seeded {
            h,
            dir,
            path,
            storage,
            resource,
            client_issuer,
            token,
            client,
            file_before,
            secrets: vec![access, refresh, secret],
        }
    }

    fn builder(&self) -> mcp_auth::ClientBuilder {
        self.h.builder().storage(self.storage.clone())
    }

    fn client(&self) -> Client {
        self.builder().build().unwrap()
    }

    /// `initialize` through a fresh client; the error it must end in.
    fn fail(&self) -> Error {
        self.fail_with(&self.client())
    }

    fn fail_with(&self, c: &Client) -> Error {
        match initialize(c) {
            Ok(v) => panic!("the flow succeeded: {v}\n{:?}", self.h.lines()),
            Err(e) => e,
        }
    }

    /// Every secret that crossed the wire, from the server's request log.
    fn wire_secrets(&self) -> Vec<String> {
        let mut out = self.secrets.clone();
        for r in self.h.server.requests() {
            for (k, v) in r.form() {
                if matches!(
                    k.as_str(),
                    "code"
                        | "code_verifier"
                        | "client_secret"
                        | "refresh_token"
                        | "client_assertion"
                ) {
                    out.push(v);
                }
            }
            for (k, v) in r.query_pairs() {
                if matches!(k.as_str(), "state" | "code") {
                    out.push(v);
                }
            }
            if let Some(a) = r.header("authorization") {
                if let Some((_, cred)) = a.split_once(' ') {
                    out.push(cred.to_owned());
                }
            }
        }
        out.retain(|s| s.len() >= 8);
        out
    }

    /// No secret in the error (`Display`, `Debug`) nor in any trace event.
    fn assert_no_secret(&self, e: &Error, extra: &[&str]) {
        let trace = self
            .h
            .trace
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.to_json())
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("{e}\n{e:?}\n{trace}");
        let mut secrets = self.wire_secrets();
        secrets.extend(extra.iter().map(|s| (*s).to_owned()));
        for s in &secrets {
            let encoded: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
            assert!(
                !text.contains(s.as_str()) && !text.contains(&encoded),
                "secret {s:?} leaked:\n{text}"
            );
        }
    }

    /// The credential file is exactly as seeded, and reads back as the seeded values.
    fn assert_storage_untouched(&self) {
        let now = std::fs::read(&self.path).unwrap();
        assert!(
            now == self.file_before,
            "credential file changed:\n{}",
            String::from_utf8_lossy(&now)
        );
        let fresh = FileStorage::new(&self.path);
        assert!(fresh.get_tokens(&self.resource).unwrap() == Some(self.token.clone()));
        assert!(fresh.get_client_info(&self.client_issuer).unwrap() == Some(self.client.clone()));
    }

    /// The seeded values are still there (other entries may have been added).
    fn assert_seeded_entries_kept(&self) {
        let text = std::fs::read(&self.path).unwrap();
        serde_json::from_slice::<serde_json::Value>(&text).expect("valid JSON");
        let fresh = FileStorage::new(&self.path);
        assert!(fresh.get_client_info(&self.client_issuer).unwrap() == Some(self.client.clone()));
    }

    fn requests_to(&self, path: &str) -> usize {
        self.h.requests_to(path).len()
    }

    /// Authorization-code exchanges only (a rejected stored token is first refreshed, which
    /// is also a POST to the token endpoint).
    fn code_exchanges(&self) -> usize {
        self.h
            .requests_to("/token")
            .iter()
            .filter(|r| r.form_value("grant_type").as_deref() == Some("authorization_code"))
            .count()
    }

    fn assert_common(&self, e: &Error, kind: ErrorKind) {
        assert_eq!(e.kind(), kind, "{e}\n{:?}", self.h.lines());
        self.assert_no_secret(e, &[]);
        self.assert_storage_untouched();
    }
}

impl Drop for Seeded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn with_fault(path: &str, action: FaultAction) -> DemoConfig {
    let mut c = DemoConfig::default();
    c.faults.routes.push(RouteFault::new(path, action));
    c
}

// ---------------------------------------------------------------------------------------------
// Size and time limits
// ---------------------------------------------------------------------------------------------

#[test]
fn oversized_token_response_with_content_length_is_too_large() {
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::Oversized {
            status: 200,
            bytes: 2 << 20,
            chunked: false,
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::ResponseTooLarge);
}

#[test]
fn oversized_chunked_metadata_is_too_large() {
    let s = Seeded::start(with_fault(
        ASM_PATH,
        FaultAction::Oversized {
            status: 200,
            bytes: 2 << 20,
            chunked: true,
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::ResponseTooLarge);
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn the_body_cap_is_configurable() {
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::Oversized {
            status: 200,
            bytes: 8 << 10,
            chunked: true,
        },
    ));
    let c = s
        .builder()
        .config(|c| c.http.max_body_bytes = 4096)
        .build()
        .unwrap();
    let e = s.fail_with(&c);
    s.assert_common(&e, ErrorKind::ResponseTooLarge);
}

fn assert_quick(started: Instant, limit: Duration) {
    let took = started.elapsed();
    assert!(took < limit, "took {took:?}");
}

#[test]
fn a_token_endpoint_that_never_answers_times_out() {
    let s = Seeded::start(with_fault("/token", FaultAction::Hang));
    let c = s
        .builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = s.fail_with(&c);
    assert_quick(started, Duration::from_secs(8));
    s.assert_common(&e, ErrorKind::Timeout);
}

#[test]
fn a_dripping_metadata_server_times_out() {
    let s = Seeded::start(with_fault(
        ASM_PATH,
        FaultAction::Drip {
            status: 200,
            content_type: "application/json".into(),
            body: vec![b' '; 400],
            interval: Duration::from_millis(20),
        },
    ));
    let c = s
        .builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = s.fail_with(&c);
    assert_quick(started, Duration::from_secs(8));
    s.assert_common(&e, ErrorKind::Timeout);
}

#[test]
fn a_dripping_mcp_endpoint_times_out() {
    let s = Seeded::start(with_fault(
        "/mcp",
        FaultAction::Drip {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.repeat(20),
            interval: Duration::from_millis(20),
        },
    ));
    let c = s
        .builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = s.fail_with(&c);
    assert_quick(started, Duration::from_secs(8));
    s.assert_common(&e, ErrorKind::Timeout);
}

#[test]
fn a_token_endpoint_that_closes_the_connection_is_a_transport_error() {
    let s = Seeded::start(with_fault("/token", FaultAction::Close));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Transport);
}

// ---------------------------------------------------------------------------------------------
// Redirects (RFC 9700 §4.11: never follow a redirect with credentials)
// ---------------------------------------------------------------------------------------------

/// A listener that counts connections: where a redirect points.
struct Elsewhere {
    listener: TcpListener,
}

impl Elsewhere {
    fn new() -> Elsewhere {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Elsewhere { listener }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.listener.local_addr().unwrap())
    }
    fn connections(&self) -> usize {
        let mut n = 0;
        while self.listener.accept().is_ok() {
            n += 1;
        }
        n
    }
}

#[test]
fn a_token_endpoint_redirect_is_not_followed() {
    let elsewhere = Elsewhere::new();
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::Redirect {
            status: 307,
            location: elsewhere.url("/steal?code=abc"),
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    assert_eq!(e.http_status(), Some(307));
    assert!(e.to_string().contains("not followed"), "{e}");
    assert!(!e.to_string().contains("code=abc"), "{e}");
    assert_eq!(elsewhere.connections(), 0, "the redirect was followed");
}

#[test]
fn a_registration_endpoint_redirect_is_not_followed() {
    let elsewhere = Elsewhere::new();
    let s = Seeded::start_registering(with_fault(
        "/register",
        FaultAction::Redirect {
            status: 308,
            location: elsewhere.url("/register"),
        },
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
    assert_eq!(elsewhere.connections(), 0, "the redirect was followed");
    assert_eq!(s.requests_to("/authorize"), 0);
}

// ---------------------------------------------------------------------------------------------
// Discovery and metadata checks (RFC 9728 §3.3, RFC 8414 §3.3, OAuth 2.1 §1.5, MCP PKCE)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_prm_naming_an_insecure_authorization_server_is_refused() {
    let s = Seeded::start(DemoConfig {
        prm_authorization_servers: Some(s(&["http://as.example.com"])),
        ..DemoConfig::default()
    });
    let e = s.fail();
    s.assert_common(&e, ErrorKind::InsecureUrl);
    assert!(
        s.h.lines()
            .iter()
            .all(|l| !l.contains("/register") && !l.contains("/token"))
    );
}

#[test]
fn metadata_naming_an_insecure_token_endpoint_is_refused() {
    let mut config = DemoConfig::default();
    config.faults.as_metadata_patch =
        Some(json!({"token_endpoint": "http://as.example.com/token"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::InsecureUrl);
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn a_challenge_pointing_at_insecure_metadata_is_not_fetched() {
    // The challenge's resource_metadata names a non-HTTPS foreign host: skipped, the
    // well-known URLs are used instead and the flow succeeds.
    let s = Seeded::start(DemoConfig {
        resource_metadata_override: Some("http://attacker.example/prm".into()),
        ..DemoConfig::default()
    });
    initialize(&s.client()).unwrap();
    assert!(s.h.lines().contains(&format!("GET {PRM_PATH}")));
}

#[test]
fn a_prm_for_another_resource_is_refused() {
    let mut config = DemoConfig::default();
    config.faults.prm_patch = Some(json!({"resource": "https://evil.example.com/mcp"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::Resource));
    assert_eq!(s.requests_to(ASM_PATH), 0, "nothing after the PRM");
}

#[test]
fn metadata_with_another_issuer_is_refused() {
    let mut config = DemoConfig::default();
    config.faults.as_metadata_patch = Some(json!({"issuer": "https://attacker.example"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::MetadataIssuer));
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn an_authorization_server_without_s256_is_refused() {
    for methods in [None, Some(s(&["plain"])), Some(vec![])] {
        let s = Seeded::start(DemoConfig {
            code_challenge_methods_supported: methods.clone(),
            ..DemoConfig::default()
        });
        let e = s.fail();
        s.assert_common(&e, ErrorKind::Unsupported);
        assert_eq!(s.requests_to("/authorize"), 0, "{methods:?}");
    }
}

#[test]
fn invalid_json_metadata_ends_discovery() {
    let s = Seeded::start(with_fault(ASM_PATH, FaultAction::invalid_json()));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Discovery);
}

#[test]
fn an_html_page_instead_of_metadata_ends_discovery() {
    let s = Seeded::start(with_fault(ASM_PATH, FaultAction::html_error(200)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Discovery);
}

#[test]
fn a_prm_500_html_page_ends_discovery_with_the_status() {
    let s = Seeded::start(with_fault(PRM_PATH, FaultAction::html_error(500)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Discovery);
    assert_eq!(e.http_status(), Some(500));
}

// ---------------------------------------------------------------------------------------------
// The authorization response (RFC 6749 §4.1.2, §10.12; RFC 9207; RFC 9700 §4.4, §4.7)
// ---------------------------------------------------------------------------------------------

fn redirect_to(s: &Seeded, query: &str) -> RouteFault {
    let c = s.client();
    RouteFault::new(
        "/authorize",
        FaultAction::redirect(&format!("{}?{query}", c.redirect_uri())),
    )
}

fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[test]
fn a_forged_state_is_refused_before_the_token_request() {
    let s = Seeded::start(DemoConfig::default());
    let iss = enc(&s.h.server.issuer());
    s.h.server.add_fault(redirect_to(
        &s,
        &format!("code=forged-code-1234&state=forged-state-1234&iss={iss}"),
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::State));
    assert!(!e.to_string().contains("forged-state"), "{e}");
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn a_missing_state_is_refused() {
    let s = Seeded::start(DemoConfig::default());
    let iss = enc(&s.h.server.issuer());
    s.h.server
        .add_fault(redirect_to(&s, &format!("code=forged-code-1234&iss={iss}")));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::State));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn a_location_with_two_codes_is_refused() {
    let s = Seeded::start(DemoConfig::default());
    s.h.server.add_fault(redirect_to(
        &s,
        "code=first-code-1234&code=second-code-1234&state=x",
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Authorization);
    assert!(!e.to_string().contains("-code-1234"), "{e}");
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn an_iss_mismatch_is_refused_before_the_token_request() {
    let s = Seeded::start(DemoConfig {
        iss_override: Some("https://attacker.example".into()),
        ..DemoConfig::default()
    });
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::ResponseIss));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn a_missing_iss_that_the_server_advertises_is_refused() {
    let s = Seeded::start(DemoConfig {
        iss_in_authorization_response: false,
        ..DemoConfig::default()
    });
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::MissingIss));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn an_unexpected_iss_without_metadata_is_refused() {
    // 2025-03-26 fallback: no PRM, no AS metadata, so no issuer the `iss` could match.
    let mut config = DemoConfig::topology("2025-03-26-oauth-endpoint-fallback").unwrap();
    config.iss_in_authorization_response = true;
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::SecurityCheck);
    assert_eq!(e.check(), Some(Check::ResponseIss));
    assert_eq!(s.code_exchanges(), 0);
}

#[test]
fn an_authorization_endpoint_500_is_an_authorization_error() {
    let s = Seeded::start(with_fault("/authorize", FaultAction::html_error(500)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Authorization);
    assert_eq!(s.code_exchanges(), 0);
}

// ---------------------------------------------------------------------------------------------
// The token endpoint (RFC 6749 §5)
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_json_from_the_token_endpoint_is_a_token_error() {
    let s = Seeded::start(with_fault("/token", FaultAction::invalid_json()));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
}

#[test]
fn an_html_error_page_from_the_token_endpoint_is_a_token_error() {
    let s = Seeded::start(with_fault("/token", FaultAction::html_error(400)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    assert_eq!(e.http_status(), Some(400));
}

#[test]
fn a_token_endpoint_500_is_a_token_error_with_the_oauth_error() {
    let s = Seeded::start(with_fault(
        "/token",
        FaultAction::json(
            500,
            &json!({"error": "server_error", "error_description": "down"}),
        ),
    ));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    assert_eq!(e.http_status(), Some(500));
    assert_eq!(e.oauth_error().unwrap().error, "server_error");
}

#[test]
fn an_unknown_token_type_is_a_token_error() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch =
        Some(json!({"token_type": "mac", "access_token": "patched-access-token-mac"}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
    s.assert_no_secret(&e, &["patched-access-token-mac"]);
    // Nothing was sent with the unusable token.
    assert!(s.h.requests_to("/mcp").iter().all(|r| {
        r.header("authorization")
            .is_none_or(|a| !a.contains("patched"))
    }));
}

#[test]
fn a_token_response_without_access_token_is_a_token_error() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch = Some(json!({"access_token": null}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
}

/// A token endpoint whose HTML error page echoes the request body (as misconfigured proxies
/// and debug pages do): the authorization code and the PKCE verifier must not be quoted back
/// into the error message or the trace.
#[test]
fn a_token_endpoint_echoing_the_request_leaks_nothing() {
    let s = Seeded::start(DemoConfig::default());
    let inner = Arc::new(mcp_auth::http::UreqHttpClient::default());
    let echo = move |req: http::Request<Vec<u8>>| {
        if req.uri().path() == "/token" {
            let mut body = b"<html><body>Bad request: ".to_vec();
            body.extend_from_slice(req.body());
            return Ok(http::Response::builder()
                .status(400)
                .header("content-type", "text/html")
                .body(body)
                .unwrap());
        }
        mcp_auth::http::HttpClient::execute(&*inner, req)
    };
    let c = s.builder().http_client(Arc::new(echo)).build().unwrap();
    let e = s.fail_with(&c);
    assert_eq!(e.kind(), ErrorKind::Token);
    // The code came back in the redirect; the verifier is only known to the client, so look
    // for the form field names the echo would carry.
    let text = format!("{e} {e:?}");
    assert!(!text.contains("code_verifier="), "{text}");
    assert!(!text.contains("code="), "{text}");
    s.assert_storage_untouched();
}

// ---------------------------------------------------------------------------------------------
// Registration (RFC 7591)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_registration_response_without_client_id_is_a_registration_error() {
    let mut config = DemoConfig::default();
    config.faults.registration_response_patch = Some(json!({"client_id": null}));
    let s = Seeded::start_registering(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
    assert_eq!(s.requests_to("/authorize"), 0);
}

#[test]
fn invalid_json_from_the_registration_endpoint_is_a_registration_error() {
    let s = Seeded::start_registering(with_fault("/register", FaultAction::invalid_json()));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
}

#[test]
fn a_registration_endpoint_500_is_a_registration_error() {
    let s = Seeded::start_registering(with_fault("/register", FaultAction::html_error(500)));
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Registration);
    assert_eq!(e.http_status(), Some(500));
}

// ---------------------------------------------------------------------------------------------
// CR/LF and obs-text (RFC 9110 §5.5): values from JSON that end up in headers
// ---------------------------------------------------------------------------------------------

const INJECTED: &str = "good\r\nX-Injected: yes";

fn no_injected_header(s: &Seeded) {
    for r in s.h.server.requests() {
        assert!(
            r.header("x-injected").is_none(),
            "split header reached the server: {r:?}"
        );
        for (_, v) in &r.headers {
            assert!(!v.contains('\r') && !v.contains('\n'), "{r:?}");
        }
    }
}

/// An access token with CR/LF never reaches a header: the request is not sent.
#[test]
fn an_access_token_with_crlf_is_never_put_in_a_header() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch = Some(json!({"access_token": INJECTED}));
    let s = Seeded::start(config);
    let e = s.fail();
    assert!(
        matches!(e.kind(), ErrorKind::Token | ErrorKind::InvalidResponse),
        "{e}"
    );
    s.assert_no_secret(&e, &[]);
    no_injected_header(&s);
    assert_eq!(
        s.requests_to("/mcp"),
        1,
        "only the first (seeded-token) request was sent"
    );
}

/// RFC 6749 Appendix A.12: an access token is `1*VSCHAR`. One with CR/LF can never be sent, so
/// the token response must be refused (a `Token` error) before it replaces the stored tokens:
/// today it is stored, and every later request (and every restart) fails with
/// `InvalidResponse` until the user logs out.
#[test]
fn an_access_token_with_crlf_is_refused_and_not_stored() {
    let mut config = DemoConfig::default();
    config.faults.token_response_patch = Some(json!({"access_token": INJECTED}));
    let s = Seeded::start(config);
    let e = s.fail();
    s.assert_common(&e, ErrorKind::Token);
}

/// RFC 6749 Appendix A.1: a client_id is `*VSCHAR`; one with CR/LF must not be stored.
#[test]
fn a_client_id_with_crlf_is_refused_and_not_stored() {
    let mut config = DemoConfig::default();
    config.faults.registration_response_patch = Some(json!({"client_id": INJECTED}));
    let s = Seeded::start_registering(config);
    let e = s.fail();
    no_injected_header(&s);
    s.assert_common(&e, ErrorKind::Registration);
}

/// Whatever happens with such a client_id today, no split header is ever sent.
#[test]
fn a_client_id_with_crlf_never_splits_a_header() {
    let mut config = DemoConfig::default();
    config.faults.registration_response_patch = Some(json!({"client_id": INJECTED}));
    let s = Seeded::start_registering(config);
    let e = s.fail();
    s.assert_no_secret(&e, &[]);
    no_injected_header(&s);
    s.assert_seeded_entries_kept();
}

#[test]
fn a_challenge_with_obs_text_is_read() {
    let s = Seeded::start(DemoConfig::default());
    let prm = s.h.server.prm_url().unwrap();
    s.h.server.add_fault(
        RouteFault::new(
            "/mcp",
            FaultAction::Respond {
                status: 401,
                headers: vec![(
                    "www-authenticate".into(),
                    format!("Bearer error=\"invalid_token\", error_description=\"caf\u{e9} \u{ff}\", resource_metadata=\"{prm}\""),
                )],
                body: Vec::new(),
            },
        )
        .times(1),
    );
    let c = s.client();
    let r = c
        .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
        .unwrap();
    assert_eq!(r.status, 200);
    let ch = r.challenge.unwrap();
    assert_eq!(ch.resource_metadata(), Some(prm.as_str()));
    assert_eq!(
        ch.bearer.unwrap().error_description.as_deref(),
        Some("caf\u{e9} \u{ff}")
    );
}

// ---------------------------------------------------------------------------------------------
// Refresh and retries
// ---------------------------------------------------------------------------------------------

/// A stored refresh token that another process already rotated (RFC 9700 §4.14.2): the
/// refresh is refused with invalid_grant, the client falls back to a new authorization, and
/// when that is denied the error is `Authorization` and the stored credentials are intact.
#[test]
fn an_already_rotated_refresh_token_falls_back_and_keeps_storage() {
    let s = Seeded::start(DemoConfig::default());
    let (access, refresh) =
        s.h.server
            .issue_token_pair("seeded-client", "mcp:read mcp:write");
    // Rotate it once, as another process would.
    let auth = mcp_auth::token::ClientAuth::from_client_info(&s.client).unwrap();
    let mut req = mcp_auth::token::TokenRequest::refresh(
        &s.h.server.token_endpoint(),
        &refresh.clone().into(),
        None,
    );
    auth.apply(&mut req, &s.h.server.issuer()).unwrap();
    let http = mcp_auth::http::UreqHttpClient::default();
    let rotated = mcp_auth::http::HttpClient::execute(&http, req.to_http().unwrap()).unwrap();
    assert_eq!(rotated.status(), 200);
    // Store the stale pair, already expired by the clock (as after a restart).
    let mut stale = OAuthToken::new(access.clone());
    stale.refresh_token = Some(refresh.clone().into());
    stale.expires_in = Some(3600);
    stale.expires_at = Some(mcp_auth::token::now_unix() - 10);
    s.storage.set_tokens(&s.resource, &stale).unwrap();
    let before = std::fs::read(&s.path).unwrap();
    s.h.server
        .update(|c| c.faults.authorize_error = Some("access_denied".into()));
    s.h.server.clear_requests();

    let e = s.fail();
    assert_eq!(e.kind(), ErrorKind::Authorization, "{e}");
    assert_eq!(e.oauth_error().unwrap().error, "access_denied");
    s.assert_no_secret(&e, &[&access, &refresh]);
    let refreshes = s.h.requests_to("/token");
    assert_eq!(refreshes.len(), 1, "one refresh attempt: {:?}", s.h.lines());
    assert_eq!(
        refreshes[0].form_value("refresh_token").as_deref(),
        Some(refresh.as_str())
    );
    assert_eq!(
        std::fs::read(&s.path).unwrap(),
        before,
        "stored credentials untouched"
    );
}

/// A server that answers 401 to every token: a bounded number of token acquisitions, then
/// `Unauthorized` with the last challenge; the stored registration is reused, never lost.
#[test]
fn a_server_answering_401_forever_gets_a_bounded_number_of_attempts() {
    let s = Seeded::start(DemoConfig::default());
    s.h.server
        .update(|c| c.faults.mcp_always_unauthorized = true);
    let started = Instant::now();
    let e = s.fail();
    assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
    assert_eq!(e.http_status(), Some(401));
    assert!(!e.www_authenticate().is_empty());
    s.assert_no_secret(&e, &[]);
    let max = mcp_auth::Client::builder("https://x.example/mcp")
        .build()
        .unwrap()
        .config()
        .max_authorizations as usize;
    assert!(s.requests_to("/authorize") <= max, "{:?}", s.h.lines());
    // Each acquisition is at most a refresh attempt plus a code exchange.
    assert!(s.requests_to("/token") <= 2 * max, "{:?}", s.h.lines());
    assert!(s.requests_to("/mcp") <= 2 * max + 2, "{:?}", s.h.lines());
    assert_eq!(
        s.requests_to("/register"),
        0,
        "the stored registration is reused"
    );
    assert_quick(started, Duration::from_secs(10));
    // The tokens obtained were stored (they are valid for the AS); the registration is intact.
    s.assert_seeded_entries_kept();
}

#[test]
fn a_server_answering_insufficient_scope_forever_is_bounded() {
    let s = Seeded::start(DemoConfig::topology("scope-retry-limit").unwrap());
    let c = s.client();
    let e = match call_tool(&c, "echo") {
        Ok(v) => panic!("succeeded: {v}"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
    assert_eq!(e.http_status(), Some(403));
    assert!(s.requests_to("/authorize") <= 3, "{:?}", s.h.lines());
    s.assert_no_secret(&e, &[]);
}

#[test]
fn an_mcp_500_is_returned_without_any_authorization() {
    let s = Seeded::start(with_fault("/mcp", FaultAction::html_error(500)));
    let r = s
        .client()
        .post_json(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(r.authorizations, 0);
    assert_eq!(s.h.lines(), common::s(&["POST /mcp"]));
    s.assert_storage_untouched();
}

// ---------------------------------------------------------------------------------------------
// A raw server for what the demo server cannot send
// ---------------------------------------------------------------------------------------------

/// A loopback server that answers every request with the same raw bytes, for `count`
/// connections, then stops.
fn raw_server(response: Vec<u8>, count: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        for _ in 0..count {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 8192];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(&response);
        }
    });
    (url, t)
}

/// A 401 whose challenge carries raw non-UTF-8 bytes (obs-text) and a bare CR inside a quoted
/// string: parsed leniently, never a panic, and discovery still proceeds from the well-known
/// URLs (which this server does not serve: `Discovery` or `Transport`, never a crash).
#[test]
fn a_challenge_with_raw_control_and_high_bytes_is_handled() {
    let mut response = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer error=\"invalid_token\", error_description=\"\xff\xfe\x80 bad\", scope=\"a\x01b\"\r\nConnection: close\r\n\r\n".to_vec();
    response.extend_from_slice(b"");
    let (url, t) = raw_server(response, 8);
    let c = Client::builder(&url)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let probe = c.probe();
    if let Ok(p) = &probe {
        assert_eq!(p.status, 401);
    }
    let e = initialize(&c).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Discovery | ErrorKind::Transport | ErrorKind::InvalidResponse
        ),
        "{e}"
    );
    drop(t);
}
