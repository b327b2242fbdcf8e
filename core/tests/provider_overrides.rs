//! Per-server overrides and provider profiles (docs/providers.md) against the loopback demo
//! authorization server, counted from the server's side: what the authorization and token
//! requests carried, which metadata was accepted, what was registered. The real-server proofs
//! (oidc-provider made to behave like Entra, Auth0, Google, …) are interop/providers.py.

mod common;

use std::io::{BufReader, Read};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::*;
use mcp_auth::authorization::RedirectContext;
use mcp_auth::headless::PasteBack;
use mcp_auth::metadata::OAuthClientInformationFull;
use mcp_auth::overrides::{PromptPolicy, ResourceParam, ServerOverrides, TrustedIssuer};
use mcp_auth::providers::{Provider, ProviderChoice};
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::{ClientOptions, ErrorKind};
use mcp_auth_demo_server::{AsMetadataLocation, DemoConfig, PrmLocation};
use serde_json::json;

fn with(o: ServerOverrides) -> impl FnOnce(mcp_auth::ClientBuilder) -> mcp_auth::ClientBuilder {
    move |b| b.overrides(o)
}

fn details(h: &Harness) -> Vec<String> {
    h.trace
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.detail.clone())
        .collect()
}

#[test]
fn resource_is_sent_by_default_and_omitted_or_replaced_on_request() {
    let h = Harness::start(DemoConfig::default());
    initialize(&h.client()).unwrap();
    assert_eq!(
        h.only("/authorize").query_value("resource"),
        Some(h.server.mcp_url())
    );

    let h = Harness::start(DemoConfig::default());
    let o = ServerOverrides {
        resource: ResourceParam::Omit,
        authorization_params: [("audience".to_owned(), "{resource}".to_owned())].into(),
        ..Default::default()
    };
    initialize(&with(o)(h.builder()).build().unwrap()).unwrap();
    assert_eq!(h.only("/authorize").query_value("resource"), None);
    // `{resource}` still names the server's resource when `resource` is not sent.
    assert_eq!(
        h.only("/authorize").query_value("audience"),
        Some(h.server.mcp_url())
    );
    for t in h.requests_to("/token") {
        assert_eq!(t.form_value("resource"), None);
    }

    // The options JSON says the same with `false`.
    let o = ClientOptions::from_json(
        r#"{"server_url":"http://127.0.0.1:1/mcp","overrides":{"resource":false}}"#,
    )
    .unwrap();
    assert_eq!(o.overrides.unwrap().resource, ResourceParam::Omit);
}

#[test]
fn extra_parameters_reach_the_authorization_and_token_requests() {
    let h = Harness::start(DemoConfig::default());
    let o = ServerOverrides {
        authorization_params: [
            ("audience".to_owned(), "{resource}".to_owned()),
            ("access_type".to_owned(), "offline".to_owned()),
            // Protocol parameters are never replaced.
            ("client_id".to_owned(), "evil".to_owned()),
        ]
        .into(),
        token_params: [
            ("audience".to_owned(), "api://x".to_owned()),
            ("grant_type".to_owned(), "password".to_owned()),
        ]
        .into(),
        ..Default::default()
    };
    initialize(&with(o)(h.builder()).build().unwrap()).unwrap();
    let auth = h.only("/authorize");
    assert_eq!(auth.query_value("audience"), Some(h.server.mcp_url()));
    assert_eq!(auth.query_value("access_type").as_deref(), Some("offline"));
    assert_ne!(auth.query_value("client_id").as_deref(), Some("evil"));
    let token = h.only("/token");
    assert_eq!(token.form_value("audience").as_deref(), Some("api://x"));
    assert_eq!(
        token.form_value("grant_type").as_deref(),
        Some("authorization_code")
    );
}

#[test]
fn oidc_core_11_prompt_is_not_forced_for_oauth_offline_access() {
    let h = Harness::topology("offline-access-scope");
    initialize(&h.client()).unwrap();
    let auth = h.requests_to("/authorize").remove(0);
    assert!(
        auth.query_value("scope")
            .unwrap()
            .contains("offline_access")
    );
    assert_eq!(auth.query_value("prompt"), None);

    let h = Harness::topology("offline-access-scope");
    let o = ServerOverrides {
        prompt: PromptPolicy::Value("consent".to_owned()),
        ..Default::default()
    };
    initialize(&with(o)(h.builder()).build().unwrap()).unwrap();
    let auth = h.requests_to("/authorize").remove(0);
    assert_eq!(auth.query_value("prompt").as_deref(), Some("consent"));
}

#[test]
fn scope_override_replaces_the_selection_and_drop_scopes_filters_it() {
    let h = Harness::topology("offline-access-scope");
    let o = ServerOverrides {
        scope: Some("mcp:basic offline_access custom:x".to_owned()),
        drop_scopes: vec!["offline_access".to_owned()],
        ..Default::default()
    };
    initialize(&with(o)(h.builder()).build().unwrap()).unwrap();
    let auth = h.requests_to("/authorize").remove(0);
    assert_eq!(
        auth.query_value("scope").as_deref(),
        Some("mcp:basic custom:x")
    );
}

/// A server without protected resource metadata whose authorization server lives under a
/// path: the legacy path cannot find it; naming it (issuer or metadata URL) does.
fn no_prm() -> DemoConfig {
    DemoConfig {
        prm_location: PrmLocation::Absent,
        issuer_path: "/t1".to_owned(),
        as_metadata_location: AsMetadataLocation::Oauth,
        ..DemoConfig::default()
    }
}

#[test]
fn the_authorization_server_can_be_named_for_a_server_without_prm() {
    let h = Harness::start(no_prm());
    let e = initialize(&h.client()).unwrap_err();
    assert!(h.requests_to("/t1/token").is_empty());
    // The legacy default endpoints on the server's origin were tried; the error names the fix.
    assert!(
        e.to_string().contains("overrides.authorization_server"),
        "{e}\n{:?}",
        h.lines()
    );

    for named in [
        "{o}/t1".to_owned(),
        "{o}/.well-known/oauth-authorization-server/t1".to_owned(),
    ] {
        let h = Harness::start(no_prm());
        let o = ServerOverrides {
            authorization_server: Some(named.replace("{o}", &h.server.origin())),
            ..Default::default()
        };
        let c = with(o)(h.builder()).build().unwrap();
        initialize(&c).unwrap_or_else(|e| panic!("{named}: {e}\n{:?}", h.lines()));
        assert_eq!(h.requests_to("/t1/token").len(), 1, "{:?}", h.lines());
    }
}

#[test]
fn a_trusted_issuer_accepts_exactly_the_named_mismatch_and_says_so() {
    // The PRM names the server's own origin; its metadata names another issuer.
    let start = || {
        let h = Harness::start(DemoConfig::default());
        let origin = h.server.origin();
        h.server.update(|c| {
            c.issuer_override = Some("https://issuer.example".to_owned());
            c.prm_authorization_servers = Some(vec![origin]);
        });
        h
    };
    let h = start();
    let e = initialize(&h.client()).unwrap_err();
    assert_eq!(e.check(), Some(mcp_auth::Check::MetadataIssuer));
    assert!(e.to_string().contains("overrides.trusted_issuers"), "{e}");
    assert!(h.requests_to("/authorize").is_empty());
    let metadata_url = format!(
        "{}/.well-known/oauth-authorization-server",
        h.server.origin()
    );

    // The same issuer for another metadata URL is not accepted.
    let h = start();
    let o = ServerOverrides {
        trusted_issuers: vec![TrustedIssuer {
            issuer: "https://issuer.example".to_owned(),
            metadata_url: format!("{}/.well-known/other", h.server.origin()),
        }],
        ..Default::default()
    };
    assert!(initialize(&with(o)(h.builder()).build().unwrap()).is_err());
    assert!(h.requests_to("/authorize").is_empty());

    let h = start();
    let metadata_url = metadata_url.replace(
        &metadata_url[..metadata_url.find("/.well").unwrap()],
        &h.server.origin(),
    );
    let o = ServerOverrides {
        trusted_issuers: vec![TrustedIssuer {
            issuer: "https://issuer.example".to_owned(),
            metadata_url: metadata_url.clone(),
        }],
        ..Default::default()
    };
    initialize(&with(o)(h.builder()).build().unwrap()).unwrap();
    assert_eq!(h.requests_to("/token").len(), 1);
    let audit = details(&h);
    assert!(
        audit.iter().any(|d| d.contains("trusted-issuer allowlist")
            && d.contains("https://issuer.example")
            && d.contains(&metadata_url)),
        "{audit:?}"
    );
}

fn unsigned_jwt(claims: serde_json::Value) -> String {
    let b = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!("{}.{}.sig", b(&json!({"alg": "none"})), b(&claims))
}

/// Entra's `/common` metadata: the issuer is the `{tenantid}` template.
fn entra(h_tid: &str, iss_tenant: &str) -> (Harness, String) {
    let h = Harness::start(DemoConfig {
        issuer_path: "/common/v2.0".to_owned(),
        as_metadata_location: AsMetadataLocation::OidcPathAppend,
        iss_in_authorization_response: false,
        iss_parameter_supported: false,
        ..DemoConfig::default()
    });
    let template = format!("{}/{{tenantid}}/v2.0", h.server.origin());
    let id_token = unsigned_jwt(json!({
        "tid": h_tid,
        "iss": template.replace("{tenantid}", iss_tenant),
    }));
    let as_url = format!("{}/common/v2.0", h.server.origin());
    h.server.update(|c| {
        c.issuer_override = Some(template.clone());
        c.prm_authorization_servers = Some(vec![as_url]);
        c.faults.token_response_patch = Some(json!({ "id_token": id_token }));
    });
    (h, template)
}

#[test]
fn entra_tenant_issuer_is_checked_against_the_tenant_of_the_token() {
    // Without the profile: the RFC 8414 mismatch, naming the fix.
    let (h, _) = entra("tenant-1", "tenant-1");
    let e = initialize(&h.client()).unwrap_err();
    assert_eq!(e.check(), Some(mcp_auth::Check::MetadataIssuer));
    assert!(e.to_string().contains("entra"), "{e}");

    // With it: the token's tid gives the issuer, and the trace says so.
    let (h, template) = entra("tenant-1", "tenant-1");
    let c = h
        .builder()
        .provider(ProviderChoice::Named(Provider::Entra))
        .build()
        .unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));
    let audit = details(&h);
    assert!(
        audit.iter().any(|d| d.contains("tenant issuer template")
            && d.contains(&template.replace("{tenantid}", "tenant-1"))),
        "{audit:?}"
    );
    // The profile also drops `resource` and `prompt` (AADSTS9010010, AADSTS90095).
    assert_eq!(
        h.only("/common/v2.0/authorize").query_value("resource"),
        None
    );

    // A token whose iss names another tenant than its tid is refused.
    let (h, _) = entra("tenant-1", "tenant-2");
    let c = h
        .builder()
        .provider(ProviderChoice::Named(Provider::Entra))
        .build()
        .unwrap();
    let e = initialize(&c).unwrap_err();
    assert_eq!(e.check(), Some(mcp_auth::Check::MetadataIssuer), "{e}");
    assert!(e.to_string().contains("tenant-2"), "{e}");
}

#[test]
fn a_stored_registration_without_the_redirect_uri_in_use_is_replaced() {
    let h = Harness::start(DemoConfig {
        validate_redirect_uri: true,
        ..DemoConfig::default()
    });
    let storage = Arc::new(MemoryStorage::new());
    let mut stale = OAuthClientInformationFull::new("stale-client");
    stale.issuer = Some(h.server.issuer());
    stale.redirect_uris = Some(vec!["http://127.0.0.1:1/elsewhere".to_owned()]);
    storage.set_client_info(&h.server.issuer(), &stale).unwrap();
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));
    assert_eq!(h.requests_to("/register").len(), 1);
    let stored = storage
        .get_client_info(&h.server.issuer())
        .unwrap()
        .unwrap();
    assert_ne!(stored.client_id, "stale-client");
    assert!(
        details(&h)
            .iter()
            .any(|d| d.contains("stale-client") && d.contains("registering again"))
    );

    // One that lists it is reused.
    let c = h.builder().storage(storage.clone()).build().unwrap();
    initialize(&c).unwrap();
    assert_eq!(h.requests_to("/register").len(), 1);
}

/// A `Read` fed from a channel: the "terminal" the user pastes into.
struct Typed(Receiver<String>, Vec<u8>);

impl Read for Typed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.1.is_empty() {
            match self.0.recv() {
                Ok(line) => self.1 = format!("{line}\n").into_bytes(),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.1.len());
        buf[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

#[test]
fn paste_back_takes_the_redirected_url_and_checks_state() {
    let h = Harness::start(DemoConfig::default());
    let (tx, rx): (Sender<String>, Receiver<String>) = mpsc::channel();
    let shown = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = shown.clone();
    let redirect_uri = "http://127.0.0.1:8976/callback";
    let tx = Mutex::new(tx);
    // The "user": opens the URL in a browser (here: follows it without redirects), first
    // pastes something else, then the address the browser ended on.
    let show = move |text: &str| {
        seen.lock().unwrap().push(text.to_owned());
        let Some(url) = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("http://") && l.contains("/authorize"))
        else {
            return;
        };
        let http = mcp_auth::http::UreqHttpClient::try_new(Default::default()).unwrap();
        let context = RedirectContext {
            http: &http,
            redirect_uri,
        };
        let location = follow(url, &context);
        let tx = tx.lock().unwrap();
        tx.send("https://example.com/not-it".to_owned()).unwrap();
        tx.send(location).unwrap();
    };
    let paste = PasteBack::new(
        redirect_uri,
        Duration::from_secs(60),
        Box::new(BufReader::new(Typed(rx, Vec::new()))),
        Arc::new(show),
    );
    let c = h
        .builder()
        .redirect_handler(Arc::new(paste))
        .build()
        .unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));
    let auth = h.only("/authorize");
    assert_eq!(
        auth.query_value("redirect_uri").as_deref(),
        Some(redirect_uri)
    );
    assert_eq!(h.requests_to("/token").len(), 1);
    let shown = shown.lock().unwrap();
    assert!(
        shown.iter().any(|t| t.contains("not the redirect URL")),
        "{shown:?}"
    );
}

/// The redirect the authorization server sends the browser to, as the address bar shows it.
fn follow(url: &str, context: &RedirectContext<'_>) -> String {
    let request = http::Request::get(url).body(Vec::new()).unwrap();
    let response = context.http.execute(request).unwrap();
    response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn paste_back_ends_when_the_input_closes() {
    let h = Harness::start(DemoConfig::default());
    let paste = PasteBack::new(
        "http://127.0.0.1:8976/callback",
        Duration::from_secs(60),
        Box::new(BufReader::new(std::io::empty())),
        Arc::new(|_: &str| {}),
    );
    let e = initialize(
        &h.builder()
            .redirect_handler(Arc::new(paste))
            .build()
            .unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authorization, "{e}");
    assert!(h.requests_to("/token").is_empty());
}

#[test]
fn the_device_grant_needs_the_endpoint_and_says_what_to_use_instead() {
    let h = Harness::start(DemoConfig::default());
    let c = h
        .builder()
        .grant(mcp_auth::Grant::DeviceCode)
        .build()
        .unwrap();
    let e = initialize(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("paste"), "{e}");
    assert!(h.requests_to("/token").is_empty());
    assert!(h.requests_to("/register").is_empty());
}

#[test]
fn an_authorization_server_refusing_resource_gets_an_error_that_names_the_fix() {
    let h = Harness::start(DemoConfig::default());
    h.server
        .update(|c| c.faults.authorize_error = Some("invalid_target".to_owned()));
    let e = initialize(&h.client()).unwrap_err();
    assert!(e.to_string().contains("overrides.resource"), "{e}");
    assert!(e.to_string().contains("entra"), "{e}");
}

#[test]
fn profiles_are_detected_only_from_the_authorization_server_host() {
    assert_eq!(ProviderChoice::Detect.resolve("http://127.0.0.1:1"), None);
    assert_eq!(
        ProviderChoice::Detect.resolve("https://login.microsoftonline.com/common/v2.0"),
        Some(Provider::Entra)
    );
    assert_eq!(
        ProviderChoice::Off.resolve("https://login.microsoftonline.com/common/v2.0"),
        None
    );
    // Explicit overrides win over the profile's.
    let o = ServerOverrides {
        resource: ResourceParam::Value("api://mine".to_owned()),
        ..Default::default()
    }
    .over(&Provider::Entra.overrides());
    assert_eq!(o.resource, ResourceParam::Value("api://mine".to_owned()));
    assert!(o.tenant_issuer);
    let e =
        ClientOptions::from_json(r#"{"server_url":"http://127.0.0.1:1/mcp","provider":"okta"}"#)
            .unwrap()
            .builder()
            .err()
            .unwrap();
    assert!(e.to_string().contains("entra"), "{e}");
}

#[test]
fn a_refresh_uses_the_stored_registration_whatever_the_redirect_uri() {
    // `mcp-auth login` registers with its loopback URI; `mcp-auth token` (another redirect URI)
    // refreshes with that registration: no redirect is involved in a refresh.
    let h = Harness::start(DemoConfig::default());
    let storage = Arc::new(MemoryStorage::new());
    let login = h
        .builder()
        .storage(storage.clone())
        .redirect_handler(Arc::new(
            mcp_auth::authorization::HeadlessRedirect::with_redirect_uri(
                "http://127.0.0.1:8976/callback",
            ),
        ))
        .build()
        .unwrap();
    initialize(&login).unwrap();
    assert_eq!(h.requests_to("/register").len(), 1);
    let later = mcp_auth::token::now_unix() + 7200;
    let token = h
        .builder()
        .storage(storage.clone())
        .clock(move || later)
        .build()
        .unwrap();
    initialize(&token).unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));
    assert_eq!(h.requests_to("/register").len(), 1, "{:?}", h.lines());
    let grants: Vec<_> = h
        .requests_to("/token")
        .iter()
        .map(|r| r.form_value("grant_type").unwrap_or_default())
        .collect();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
}

#[test]
fn a_cancel_ends_the_paste_back_wait() {
    let h = Harness::start(DemoConfig::default());
    // The user never pastes; the host cancels once the URL is shown.
    let (_tx, rx) = mpsc::channel::<String>();
    let cancel = Arc::new(Mutex::new(None::<mcp_auth::CancelToken>));
    let on_show = cancel.clone();
    let paste = PasteBack::new(
        "http://127.0.0.1:8976/callback",
        Duration::from_secs(300),
        Box::new(BufReader::new(Typed(rx, Vec::new()))),
        Arc::new(move |_: &str| {
            if let Some(t) = on_show.lock().unwrap().as_ref() {
                t.cancel();
            }
        }),
    );
    let c = h
        .builder()
        .redirect_handler(Arc::new(paste))
        .build()
        .unwrap();
    *cancel.lock().unwrap() = Some(c.cancel_token());
    let e = initialize(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert!(h.requests_to("/token").is_empty());
}
