//! The end-to-end flow vectors of the Python reference (`flows` in
//! `tests/vectors/python-sdk-2.3.0.json`: 34 scenarios and 7 extension scenarios recorded from
//! `mcp` 2.3.0's `OAuthClientProvider` and its machine-to-machine subclasses), replayed against
//! [`mcp_auth::Client`].
//!
//! Each scenario gets an in-process network reconstructed from its description and recorded
//! data: a route table (method + URL → status, headers, body; unlisted routes answer 404, as in
//! the reference harness), a redirect handler that echoes `state` with code `the-code` (or the
//! scenario's forged state / `iss`), and a client configured like the reference run
//! (`client_name` `bench`, redirect URI `http://localhost:3030/callback`). The test then sends
//! `POST server_url` and compares, against the expectation in the vector's own format:
//!
//! - the exact request sequence (method + URL);
//! - per request: `Authorization` (exactly, absent included), `mcp-protocol-version` where
//!   recorded, the registration JSON body, the token form (as a set: form field order carries
//!   no meaning), with `<code_verifier>` checked structurally (it must hash to the
//!   `code_challenge` that was sent);
//! - the authorization URL: endpoint, parameter names in order, values (`<state>` must be the
//!   state the flow then accepted, `<S256(code_verifier)>` a 43-character S256 challenge);
//! - the final status, or the error: its class via [`mcp_auth::ErrorKind::reference_name`] and its exact
//!   message;
//! - the tokens and client registration left in storage.
//!
//! A scenario is a [`Verdict::Match`] (the reference's recording is the expectation, unchanged),
//! a [`Verdict::MessageDiffers`] (same requests and error class, our message), or a
//! [`Verdict::Divergence`]: the expectation is the reference's recording patched to what
//! mcp-auth deliberately does instead, and docs/differences.md must carry a row `flows#<name>` saying
//! why. Scenarios this library does not implement are listed in [`NOT_YET_IMPLEMENTED`].
//! Every scenario name in the vector file must be covered by one of these.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mcp_auth::authorization::CallbackRedirect;
use mcp_auth::http::HttpClient;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::secret::Assertion;
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::token::{SigningKey, TokenEndpointAuthMethod};
use mcp_auth::{Client, ClientBuilder, Grant, PreRegisteredClient};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The scenario table
// ---------------------------------------------------------------------------------------------

/// Reference scenarios mcp-auth does not implement yet, with the reason: asserted nowhere,
/// listed here so that nothing is skipped silently. Empty: the SEP-990 identity-assertion
/// scenarios run with [`Grant::JwtBearer`].
const NOT_YET_IMPLEMENTED: &[(&str, &str)] = &[];

/// `#[test]` per scenario, plus [`TESTED`], the list the coverage test checks.
macro_rules! scenarios {
    ($($(#[$m:meta])* $name:ident,)*) => {
        const TESTED: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            $(#[$m])*
            fn $name() {
                check(stringify!($name));
            }
        )*
    };
}

scenarios! {
    happy_path_www_auth_prm_oauth_root_dcr_post,
    prm_root_only_asm_oidc_root_only,
    as_with_path_asm_only_at_oidc_path_appended,
    legacy_no_prm_asm_at_server_root,
    legacy_no_prm_no_asm_default_endpoints,
    legacy_no_prm_protocol_header_2025_06_18_adds_resource,
    prm_resource_mismatch_aborts,
    prm_resource_parent_accepted_and_used_as_resource,
    server_url_explicit_default_port_vs_prm,
    asm_issuer_mismatch_aborts,
    asm_issuer_root_slash_on_prm_path,
    prm_5xx_everywhere_aborts,
    asm_5xx_stops_discovery_uses_server_origin_defaults,
    cimd_used_when_as_supports,
    cimd_configured_but_not_supported_uses_dcr,
    offline_access_appended_and_prompt_consent,
    www_auth_scope_wins_over_prm,
    dcr_client_secret_basic,
    dcr_secret_method_without_secret_rejected,
    dcr_private_key_jwt_rejected,
    dcr_no_auth_method_with_secret_sends_no_secret,
    token_error_400,
    state_mismatch,
    iss_mismatch,
    iss_required_but_missing,
    step_up_403_insufficient_scope_with_stored_state,
    plain_403_returned,
    issuer_bound_credentials_discarded_on_as_change,
    refresh_when_expired,
    refresh_fails_then_full_flow,
    restart_with_stored_expired_token_does_not_refresh,
    second_401_after_flow_is_returned,
    prm_same_origin_redirect_followed,
    asm_null_response_types_supported_rejected,
    client_credentials_basic_issuer_configured,
    client_credentials_post_with_protocol_header,
    client_credentials_issuer_mismatch,
    client_credentials_no_issuer_no_metadata_falls_back_to_server_origin_token,
    private_key_jwt,
    identity_assertion_post,
    identity_assertion_403_step_up_basic,
}

#[test]
fn every_reference_scenario_is_covered() {
    let v = vectors();
    let flows = &v["flows"];
    let mut names: Vec<String> = Vec::new();
    for section in ["scenarios", "extension_scenarios"] {
        for s in flows[section].as_array().unwrap() {
            names.push(s["name"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        flows["scenarios"].as_array().unwrap().len(),
        34,
        "34 scenarios"
    );
    assert_eq!(
        flows["extension_scenarios"].as_array().unwrap().len(),
        7,
        "7 extension scenarios"
    );
    for name in &names {
        let tested = TESTED.contains(&name.as_str());
        let nyi = NOT_YET_IMPLEMENTED.iter().any(|(n, _)| n == name);
        assert!(
            tested ^ nyi,
            "{name}: must be either tested or listed as not yet implemented (tested: {tested}, not implemented: {nyi})"
        );
    }
    for name in TESTED
        .iter()
        .chain(NOT_YET_IMPLEMENTED.iter().map(|(n, _)| n))
    {
        assert!(
            names.iter().any(|n| n == name),
            "{name} is not a reference scenario"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

const API: &str = "https://api.example.com";
const SERVER: &str = "https://api.example.com/mcp";
const AS: &str = "https://auth.example.com";
const PRM_PATH: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";
const PRM_ROOT: &str = "https://api.example.com/.well-known/oauth-protected-resource";
const ASM_OAUTH: &str = "https://auth.example.com/.well-known/oauth-authorization-server";
const ASM_OIDC: &str = "https://auth.example.com/.well-known/openid-configuration";
const API_ASM: &str = "https://api.example.com/.well-known/oauth-authorization-server";
const REDIRECT: &str = "http://localhost:3030/callback";
/// The `mcp-protocol-version` the reference sends on every metadata request.
const REF_PV: &str = "2026-07-28";
const CIMD_URL: &str = "https://client.example.com/metadata.json";

// ---------------------------------------------------------------------------------------------
// The scripted network
// ---------------------------------------------------------------------------------------------

/// A request as the network saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    url: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn status(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A route table; the last route registered for a method and URL wins; anything else is 404.
#[derive(Clone, Default)]
struct Net {
    routes: Vec<(String, String, Handler)>,
}

impl Net {
    fn route(
        mut self,
        method: &str,
        url: &str,
        h: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Self {
        self.routes.push((method.into(), url.into(), Arc::new(h)));
        self
    }

    fn get_json(self, url: &str, body: Value) -> Self {
        self.route("GET", url, move |_| json_reply(200, body.clone()))
    }

    fn post_json(self, url: &str, code: u16, body: Value) -> Self {
        self.route("POST", url, move |_| json_reply(code, body.clone()))
    }

    fn get_status(self, url: &str, code: u16) -> Self {
        self.route("GET", url, move |_| status(code))
    }

    /// Remove a route (it answers 404 again).
    fn without(mut self, method: &str, url: &str) -> Self {
        self.routes.retain(|(m, u, _)| !(m == method && u == url));
        self
    }

    fn answer(&self, seen: &Seen) -> Reply {
        self.routes
            .iter()
            .rev()
            .find(|(m, u, _)| *m == seen.method && *u == seen.url)
            .map_or_else(|| status(404), |(_, _, h)| h(seen))
    }
}

/// URLs as the wire (and the reference's httpx) has them: a default port is dropped.
fn normalize_url(url: &str) -> String {
    url::Url::parse(url).unwrap().to_string()
}

fn http_client(net: Net, log: Arc<Mutex<Vec<Seen>>>) -> Arc<dyn HttpClient> {
    Arc::new(
        move |req: http::Request<Vec<u8>>| -> mcp_auth::Result<http::Response<Vec<u8>>> {
            let (parts, body) = req.into_parts();
            let seen = Seen {
                method: parts.method.to_string(),
                url: normalize_url(&parts.uri.to_string()),
                headers: parts.headers,
                body,
            };
            let reply = net.answer(&seen);
            log.lock().unwrap().push(seen);
            let mut b = http::Response::builder().status(reply.status);
            for (k, v) in &reply.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            Ok(b.body(reply.body).unwrap())
        },
    )
}

// --- Building blocks of the reconstructed servers.

fn prm(resource: &str, servers: &[&str], scopes: Option<&[&str]>) -> Value {
    let mut v = json!({"resource": resource, "authorization_servers": servers});
    if let Some(s) = scopes {
        v["scopes_supported"] = json!(s);
    }
    v
}

const FILES: &[&str] = &["files:read", "files:write"];

/// RFC 8414 metadata for `issuer` with its endpoints under `base`.
fn asm(issuer: &str, base: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/register"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
    })
}

fn dcr_client(id: &str, secret: Option<&str>, method: Option<&str>) -> Value {
    let mut v = json!({
        "client_id": id,
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
    });
    if let Some(s) = secret {
        v["client_secret"] = json!(s);
    }
    if let Some(m) = method {
        v["token_endpoint_auth_method"] = json!(m);
    }
    v
}

/// The default DCR answer: `cid-123` / `sec-456`, `client_secret_post`.
fn dcr_post() -> Value {
    dcr_client("cid-123", Some("sec-456"), Some("client_secret_post"))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The MCP endpoint: 200 for the tokens in `accept`, else `deny` with `challenge` (if any).
fn mcp(
    accept: &'static [&'static str],
    deny: u16,
    challenge: Option<String>,
) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen| {
        let auth = seen.header("authorization");
        if accept.iter().any(|t| auth.as_deref() == Some(&bearer(t))) {
            return json_reply(200, json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
        }
        let mut r = status(deny);
        if let Some(c) = &challenge {
            r.headers.push(("WWW-Authenticate".into(), c.clone()));
        }
        r
    }
}

/// The token endpoint: the code grant gives `at-1`/`rt-1` (no `scope`: both clients back-fill
/// the requested one); a refresh answers `refresh`.
fn token_endpoint(
    refresh: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen| match seen.form_value("grant_type").as_deref() {
        Some("authorization_code") if seen.form_value("code").as_deref() == Some("the-code") => {
            json_reply(
                200,
                json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1"}),
            )
        }
        Some("refresh_token") => refresh(&seen.form_value("refresh_token").unwrap_or_default()),
        _ => json_reply(400, json!({"error": "invalid_grant"})),
    }
}

fn invalid_grant(_: &str) -> Reply {
    json_reply(400, json!({"error": "invalid_grant"}))
}

/// Refresh with rotation: `rt-N` gives `at-(N+1)` / `rt-(N+1)`.
fn rotating_refresh(rt: &str) -> Reply {
    let n: u32 = rt.strip_prefix("rt-").unwrap().parse().unwrap();
    json_reply(
        200,
        json!({
            "access_token": format!("at-{}", n + 1),
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": format!("rt-{}", n + 1),
        }),
    )
}

/// The topology most scenarios share: the MCP server at `SERVER` answers 401 with a bare
/// `Bearer` challenge (with no `resource_metadata`: `prm_5xx_everywhere_aborts` shows the
/// reference probed only the two well-known URLs) and accepts `at-1`; PRM at the path-aware
/// well-known names `auth.example.com` and scopes `files:read files:write`; RFC 8414 metadata
/// at the root well-known of `auth.example.com`; DCR gives `cid-123`/`sec-456`
/// (`client_secret_post`); the token endpoint grants `at-1`.
fn standard() -> Net {
    Net::default()
        .route("POST", SERVER, mcp(&["at-1"], 401, Some("Bearer".into())))
        .get_json(PRM_PATH, prm(SERVER, &[AS], Some(FILES)))
        .get_json(ASM_OAUTH, asm(AS, AS))
        .post_json(&format!("{AS}/register"), 201, dcr_post())
        .route(
            "POST",
            &format!("{AS}/token"),
            token_endpoint(invalid_grant),
        )
}

/// The machine-to-machine topology of the extension scenarios: PRM without scopes, the MCP
/// server accepts `m2m`.
fn m2m() -> Net {
    Net::default()
        .route("POST", SERVER, mcp(&["m2m"], 401, Some("Bearer".into())))
        .get_json(PRM_PATH, prm(SERVER, &[AS], None))
        .get_json(ASM_OAUTH, asm(AS, AS))
        .route("POST", &format!("{AS}/token"), m2m_token)
}

fn m2m_token(seen: &Seen) -> Reply {
    let grant = seen.form_value("grant_type");
    if matches!(
        grant.as_deref(),
        Some("client_credentials" | "urn:ietf:params:oauth:grant-type:jwt-bearer")
    ) {
        json_reply(
            200,
            json!({"access_token": "m2m", "token_type": "Bearer", "expires_in": 3600}),
        )
    } else {
        json_reply(400, json!({"error": "unsupported_grant_type"}))
    }
}

// ---------------------------------------------------------------------------------------------
// Storage that records what the flow wrote
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Store {
    inner: MemoryStorage,
    client_writes: Mutex<Vec<String>>,
}

impl TokenStorage for Store {
    fn get_tokens(&self, resource: &str) -> mcp_auth::Result<Option<OAuthToken>> {
        self.inner.get_tokens(resource)
    }
    fn set_tokens(&self, resource: &str, tokens: &OAuthToken) -> mcp_auth::Result<()> {
        self.inner.set_tokens(resource, tokens)
    }
    fn remove_tokens(&self, resource: &str) -> mcp_auth::Result<()> {
        self.inner.remove_tokens(resource)
    }
    fn get_client_info(
        &self,
        issuer: &str,
    ) -> mcp_auth::Result<Option<OAuthClientInformationFull>> {
        self.inner.get_client_info(issuer)
    }
    fn set_client_info(
        &self,
        issuer: &str,
        info: &OAuthClientInformationFull,
    ) -> mcp_auth::Result<()> {
        self.client_writes.lock().unwrap().push(issuer.to_owned());
        self.inner.set_client_info(issuer, info)
    }
}

fn client_info(v: Value) -> OAuthClientInformationFull {
    OAuthClientInformationFull::from_json(v.to_string().as_bytes()).unwrap()
}

fn token(v: Value) -> OAuthToken {
    OAuthToken::from_json(v.to_string().as_bytes()).unwrap()
}

/// A token a previous run stored, expired by the clock (mcp-auth persists `expires_at`).
fn expired_token(access: &str, refresh: &str, scope: &str, lifetime: u64) -> OAuthToken {
    let mut t = token(json!({
        "access_token": access, "token_type": "Bearer", "expires_in": lifetime,
        "refresh_token": refresh, "scope": scope,
    }));
    t.expires_at = Some(mcp_auth::token::now_unix() - 10);
    t
}

// ---------------------------------------------------------------------------------------------
// A case: how to run a scenario and what to expect
// ---------------------------------------------------------------------------------------------

enum Verdict {
    /// The reference's recording is the expectation, unchanged.
    Match,
    /// Same requests, same error class; the message is ours.
    MessageDiffers(&'static str),
    /// The expectation is the reference's recording patched to mcp-auth's deliberate behaviour;
    /// docs/differences.md has a row `flows#<name>`.
    Divergence(Box<dyn FnOnce(&mut Value)>),
}

type Tweak = Box<dyn FnOnce(ClientBuilder) -> ClientBuilder>;
type Seed = Box<dyn FnOnce(&Client, &MemoryStorage)>;

struct Case {
    net: Net,
    protocol_version: &'static str,
    tweak: Option<Tweak>,
    seed: Option<Seed>,
    /// The `state` the callback returns instead of the one sent.
    forged_state: Option<&'static str>,
    /// The RFC 9207 `iss` the callback returns.
    callback_iss: Option<&'static str>,
    /// Extra headers on the MCP request.
    request_headers: Vec<(&'static str, &'static str)>,
    /// Where the expected client registration is stored when it records no issuer.
    client_key: &'static str,
    /// The P-256 key of a `private_key_jwt` client (PKCS#8 DER).
    jwt_key: Option<Vec<u8>>,
    verdict: Verdict,
}

impl Case {
    fn new(net: Net) -> Self {
        Case {
            net,
            protocol_version: REF_PV,
            tweak: None,
            seed: None,
            forged_state: None,
            callback_iss: None,
            request_headers: Vec::new(),
            client_key: AS,
            jwt_key: None,
            verdict: Verdict::Match,
        }
    }

    fn tweak(mut self, f: impl FnOnce(ClientBuilder) -> ClientBuilder + 'static) -> Self {
        self.tweak = Some(Box::new(f));
        self
    }

    fn seed(mut self, f: impl FnOnce(&Client, &MemoryStorage) + 'static) -> Self {
        self.seed = Some(Box::new(f));
        self
    }

    fn pv(mut self, v: &'static str) -> Self {
        self.protocol_version = v;
        self
    }

    fn diverges(mut self, patch: impl FnOnce(&mut Value) + 'static) -> Self {
        self.verdict = Verdict::Divergence(Box::new(patch));
        self
    }

    fn message(mut self, m: &'static str) -> Self {
        self.verdict = Verdict::MessageDiffers(m);
        self
    }
}

// --- Patch helpers (on a scenario in the vector format).

fn reqs(v: &mut Value) -> &mut Vec<Value> {
    v["requests"].as_array_mut().unwrap()
}

/// The flow ends with `error` after the first `n` requests, storing nothing.
fn fail_after(v: &mut Value, n: usize, error: &str) {
    reqs(v).truncate(n);
    let o = v.as_object_mut().unwrap();
    o.remove("final_status");
    o.remove("authorize");
    o.insert("error".into(), json!(error));
    o.insert("stored_tokens".into(), Value::Null);
    o.insert("stored_client".into(), Value::Null);
}

fn set_pv(v: &mut Value, pv: &str) {
    for r in reqs(v) {
        if r.get("mcp-protocol-version").is_some() {
            r["mcp-protocol-version"] = json!(pv);
        }
    }
}

fn get(url: &str) -> Value {
    json!({"method": "GET", "url": url, "mcp-protocol-version": REF_PV})
}

/// The token request of `v` (the first POST to a `/token` URL).
fn token_request(v: &mut Value) -> &mut Value {
    reqs(v)
        .iter_mut()
        .find(|r| r["url"].as_str().unwrap().ends_with("/token"))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

fn case(name: &str) -> Case {
    match name {
        "happy_path_www_auth_prm_oauth_root_dcr_post" => Case::new(standard().route(
            "POST",
            SERVER,
            mcp(
                &["at-1"],
                401,
                Some(format!(r#"Bearer resource_metadata="{PRM_PATH}""#)),
            ),
        )),

        "prm_root_only_asm_oidc_root_only" => Case::new(
            standard()
                .without("GET", PRM_PATH)
                .get_json(PRM_ROOT, prm(SERVER, &[AS], Some(FILES)))
                .without("GET", ASM_OAUTH)
                .get_json(ASM_OIDC, asm(AS, AS)),
        ),

        "as_with_path_asm_only_at_oidc_path_appended" => {
            let issuer = "https://auth.example.com/tenant1";
            Case::new(
                standard()
                    .get_json(PRM_PATH, prm(SERVER, &[issuer], Some(FILES)))
                    .without("GET", ASM_OAUTH)
                    .get_json(
                        "https://auth.example.com/tenant1/.well-known/openid-configuration",
                        asm(issuer, AS),
                    ),
            )
        }

        // No PRM: the MCP 2025-03-26 path. The reference decides whether to send `resource`
        // from the MCP request's own `mcp-protocol-version` (none here) and always sends its
        // latest version on metadata requests; mcp-auth has one configured protocol version
        // for both, so the client speaks 2025-03-26 here.
        "legacy_no_prm_asm_at_server_root" => Case::new(
            legacy()
                .get_json(API_ASM, asm(API, API))
                .post_json(&format!("{API}/register"), 201, dcr_post()),
        )
            .pv("2025-03-26")
            .diverges(|v| set_pv(v, "2025-03-26")),

        "legacy_no_prm_no_asm_default_endpoints" => Case::new(legacy())
            .pv("2025-03-26")
            .diverges(|v| {
                set_pv(v, "2025-03-26");
                v["stored_client"]["issuer"] = json!(API);
            }),

        "legacy_no_prm_protocol_header_2025_06_18_adds_resource" => {
            let mut c = Case::new(legacy()).pv("2025-06-18").diverges(|v| {
                set_pv(v, "2025-06-18");
                v["stored_client"]["issuer"] = json!(API);
            });
            c.request_headers = vec![("mcp-protocol-version", "2025-06-18")];
            c
        }

        "prm_resource_mismatch_aborts" => Case::new(standard().get_json(
            PRM_PATH,
            prm("https://api.example.com/other", &[AS], Some(FILES)),
        )),

        "prm_resource_parent_accepted_and_used_as_resource" => Case::new(
            standard().get_json(PRM_PATH, prm("https://api.example.com/", &[AS], Some(FILES))),
        ),

        // The MCP URL is requested as https://api.example.com/mcp on the wire either way.
        "server_url_explicit_default_port_vs_prm" => Case::new(standard()),

        "asm_issuer_mismatch_aborts" => {
            Case::new(standard().get_json(ASM_OAUTH, asm("https://evil.example.com", AS)))
        }

        "asm_issuer_root_slash_on_prm_path" => {
            Case::new(standard().get_json(ASM_OAUTH, asm("https://auth.example.com/", AS)))
        }

        "prm_5xx_everywhere_aborts" => Case::new(standard().get_status(PRM_PATH, 503)),

        // The reference then registers at, authorizes at and sends the code to the resource
        // server's origin; those routes exist here too.
        "asm_5xx_stops_discovery_uses_server_origin_defaults" => Case::new(
            standard()
                .get_status(ASM_OAUTH, 500)
                .post_json(
                    &format!("{API}/register"),
                    201,
                    dcr_client("fallback", None, Some("none")),
                )
                .route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
        )
        .diverges(|v| {
            fail_after(
                v,
                3,
                "OAuthFlowError: Authorization server metadata request failed: HTTP 500 from https://auth.example.com",
            )
        }),

        "cimd_used_when_as_supports" => {
            let mut m = asm(AS, AS);
            m["client_id_metadata_document_supported"] = json!(true);
            Case::new(standard().get_json(ASM_OAUTH, m))
                .tweak(|b| b.client_metadata_url(CIMD_URL))
                // A CIMD client id needs no registration record: nothing is stored.
                .diverges(|v| v["stored_client"] = Value::Null)
        }

        "cimd_configured_but_not_supported_uses_dcr" => {
            Case::new(standard()).tweak(|b| b.client_metadata_url(CIMD_URL))
        }

        "offline_access_appended_and_prompt_consent" => {
            let mut m = asm(AS, AS);
            m["scopes_supported"] = json!(["files:read", "files:write", "offline_access"]);
            // No prompt=consent for an OAuth (non-OpenID) request: OIDC Core §11 governs
            // OpenID Connect requests (docs/providers.md, docs/differences.md).
            Case::new(standard().get_json(ASM_OAUTH, m)).diverges(|v| {
                let a = &mut v["authorize"];
                a["params"].as_object_mut().unwrap().remove("prompt");
                a["param_order"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|p| p != "prompt");
            })
        }

        "www_auth_scope_wins_over_prm" => Case::new(standard().route(
            "POST",
            SERVER,
            mcp(
                &["at-1"],
                401,
                Some(format!(
                    r#"Bearer resource_metadata="{PRM_PATH}", scope="mcp:tools""#
                )),
            ),
        )),

        "dcr_client_secret_basic" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("id@x", Some("s:e/c r"), Some("client_secret_basic")),
        )),

        "dcr_secret_method_without_secret_rejected" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("cid-123", None, Some("client_secret_basic")),
        )),

        "dcr_private_key_jwt_rejected" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("cid-123", None, Some("private_key_jwt")),
        )),

        // RFC 7591 §2: an omitted token_endpoint_auth_method means client_secret_basic.
        "dcr_no_auth_method_with_secret_sends_no_secret" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("x", Some("y"), None),
        ))
        .diverges(|v| token_request(v)["authorization"] = json!("Basic eDp5")),

        "token_error_400" => Case::new(standard().post_json(
            &format!("{AS}/token"),
            400,
            json!({"error": "invalid_grant"}),
        ))
        .message("OAuthTokenError: Token request failed (400): invalid_grant"),

        // The reference's message carries the expected state (a CSRF secret) into an exception
        // it logs; ours does not.
        "state_mismatch" => {
            let mut c = Case::new(standard()).diverges(|v| {
                v["error"] = json!(
                    "OAuthFlowError: state parameter mismatch: the authorization response does not belong to this request (RFC 6749 §10.12)"
                )
            });
            c.forged_state = Some("forged");
            c
        }

        "iss_mismatch" => {
            let mut c = Case::new(standard());
            c.callback_iss = Some("https://evil.example.com");
            c
        }

        "iss_required_but_missing" => {
            let mut m = asm(AS, AS);
            m["authorization_response_iss_parameter_supported"] = json!(true);
            Case::new(standard().get_json(ASM_OAUTH, m))
        }

        "step_up_403_insufficient_scope_with_stored_state" => Case::new(standard().route(
            "POST",
            SERVER,
            mcp(
                &["at-1"],
                403,
                Some(r#"Bearer error="insufficient_scope", scope="files:write""#.into()),
            ),
        ))
        .seed(|c, s| {
            s.set_tokens(
                c.resource_key(),
                &token(json!({"access_token": "old", "token_type": "Bearer", "scope": "files:read"})),
            )
            .unwrap();
            let mut info = client_info(dcr_post());
            info.issuer = Some(AS.into());
            s.set_client_info(AS, &info).unwrap();
        }),

        "plain_403_returned" => Case::new(standard().route("POST", SERVER, |_| status(403))).seed(
            |c, s| {
                s.set_tokens(
                    c.resource_key(),
                    &token(json!({"access_token": "old", "token_type": "Bearer"})),
                )
                .unwrap()
            },
        ),

        // The old registration is where mcp-auth keys it (its issuer) and also under the new
        // issuer (as the reference's single-slot storage returns it), so the SEP-2352 binding
        // check itself is exercised.
        "issuer_bound_credentials_discarded_on_as_change" => Case::new(standard()).seed(|c, s| {
            s.set_tokens(
                c.resource_key(),
                &token(json!({"access_token": "old", "token_type": "Bearer"})),
            )
            .unwrap();
            let old = "https://old-as.example.com";
            let mut info = client_info(dcr_client("old-cid", Some("old-sec"), Some("client_secret_post")));
            info.issuer = Some(old.into());
            s.set_client_info(old, &info).unwrap();
            s.set_client_info(AS, &info).unwrap();
        }),

        // mcp-auth refreshes at the discovered token endpoint (with RFC 8707 `resource`), not
        // at `{resource server origin}/token`, so it discovers first.
        "refresh_when_expired" => Case::new(
            standard()
                .route("POST", SERVER, mcp(&["at-2"], 401, Some("Bearer".into())))
                .route(
                    "POST",
                    &format!("{AS}/token"),
                    token_endpoint(|rt| {
                        assert_eq!(rt, "rt-0");
                        json_reply(
                            200,
                            json!({"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600}),
                        )
                    }),
                )
                .route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
        )
        .seed(|c, s| {
            s.set_tokens(c.resource_key(), &expired_token("at-0", "rt-0", "files:read", 3600))
                .unwrap();
            s.set_client_info(AS, &client_info(dcr_post())).unwrap();
        })
        .diverges(|v| {
            let refresh = json!({
                "method": "POST", "url": format!("{AS}/token"),
                "form": {"grant_type": "refresh_token", "refresh_token": "rt-0",
                         "resource": SERVER, "client_id": "cid-123", "client_secret": "sec-456"},
            });
            let retry = reqs(v)[1].clone();
            *reqs(v) = vec![get(PRM_PATH), get(ASM_OAUTH), refresh, retry];
        }),

        "refresh_fails_then_full_flow" => Case::new(
            standard().route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
        )
        .seed(|c, s| {
            s.set_tokens(c.resource_key(), &expired_token("at-0", "rt-0", "files:read", 3600))
                .unwrap();
            s.set_client_info(AS, &client_info(dcr_client("cid-123", None, Some("none"))))
                .unwrap();
        })
        .diverges(|v| {
            let refresh = json!({
                "method": "POST", "url": format!("{AS}/token"),
                "form": {"grant_type": "refresh_token", "refresh_token": "rt-0",
                         "resource": SERVER, "client_id": "cid-123"},
            });
            let mut r = vec![get(PRM_PATH), get(ASM_OAUTH), refresh];
            r.extend(reqs(v)[1..].iter().cloned());
            *reqs(v) = r;
        }),

        // mcp-auth persists the expiry, so after a restart the expired token is refreshed
        // before it is sent, instead of a 401 and a new interactive authorization.
        "restart_with_stored_expired_token_does_not_refresh" => Case::new(standard().route(
            "POST",
            &format!("{AS}/token"),
            token_endpoint(|rt| {
                assert_eq!(rt, "rt-0");
                json_reply(
                    200,
                    json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1"}),
                )
            }),
        ))
        .seed(|c, s| {
            s.set_tokens(
                c.resource_key(),
                &expired_token("stale", "rt-0", "files:read files:write", 1),
            )
            .unwrap();
            let mut info = client_info(dcr_client("cid-123", None, Some("none")));
            info.issuer = Some(AS.into());
            s.set_client_info(AS, &info).unwrap();
        })
        .diverges(|v| {
            let refresh = json!({
                "method": "POST", "url": format!("{AS}/token"),
                "form": {"grant_type": "refresh_token", "refresh_token": "rt-0",
                         "resource": SERVER, "client_id": "cid-123"},
            });
            let retry = reqs(v)[4].clone();
            *reqs(v) = vec![get(PRM_PATH), get(ASM_OAUTH), refresh, retry];
            v.as_object_mut().unwrap().remove("authorize");
        }),

        // A rejected fresh token is refreshed and retried until `max_authorizations` (3) token
        // acquisitions, then the request fails with `Unauthorized`.
        "second_401_after_flow_is_returned" => Case::new(
            standard()
                .route("POST", SERVER, mcp(&[], 401, Some("Bearer".into())))
                .route("POST", &format!("{AS}/token"), token_endpoint(rotating_refresh)),
        )
        .diverges(|v| {
            let refresh = |n: u32| {
                json!({
                    "method": "POST", "url": format!("{AS}/token"),
                    "form": {"grant_type": "refresh_token", "refresh_token": format!("rt-{n}"),
                             "resource": SERVER, "client_id": "cid-123", "client_secret": "sec-456"},
                })
            };
            let retry = |n: u32| json!({"method": "POST", "url": SERVER, "authorization": format!("Bearer at-{n}")});
            reqs(v).extend([refresh(1), retry(2), refresh(2), retry(3)]);
            let o = v.as_object_mut().unwrap();
            o.remove("final_status");
            o.insert(
                "error".into(),
                json!("OAuthFlowError: https://api.example.com/mcp still answers 401 after 3 authorization(s)"),
            );
            o["stored_tokens"]["access_token"] = json!("at-3");
            o["stored_tokens"]["refresh_token"] = json!("rt-3");
        }),

        // OAuth requests never follow redirects: the 307 counts as "not served", the root
        // well-known has nothing, so no PRM: the 2025-03-26 legacy path, whose defaults this
        // server does not serve.
        "prm_same_origin_redirect_followed" => Case::new(
            standard()
                .route("GET", PRM_PATH, |_| Reply {
                    status: 307,
                    headers: vec![("Location".into(), format!("{API}/prm.json"))],
                    body: Vec::new(),
                })
                .get_json(&format!("{API}/prm.json"), prm(SERVER, &[AS], Some(FILES))),
        )
        .diverges(|v| {
            let register = json!({
                "method": "POST", "url": format!("{API}/register"),
                "json": {"response_types": ["code"], "client_name": "bench",
                         "redirect_uris": [REDIRECT],
                         "grant_types": ["authorization_code", "refresh_token"],
                         "application_type": "native"},
            });
            let first = reqs(v)[..2].to_vec();
            fail_after(v, 0, "OAuthRegistrationError: Registration failed: 404 ");
            reqs(v).extend(first);
            reqs(v).extend([get(PRM_ROOT), get(API_ASM), register]);
        }),

        // `response_types_supported: null` is tolerated (README `OAuthMetadata_parse#16`): the
        // metadata is used, so the flow stays with auth.example.com.
        "asm_null_response_types_supported_rejected" => {
            let mut m = asm(AS, AS);
            m["response_types_supported"] = Value::Null;
            let fb = dcr_client("fb", None, Some("none"));
            Case::new(
                standard()
                    .get_json(ASM_OAUTH, m)
                    .post_json(&format!("{AS}/register"), 201, fb.clone())
                    .post_json(&format!("{API}/register"), 201, fb)
                    .route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
            )
            .diverges(|v| {
                reqs(v).remove(3); // no OIDC request
                reqs(v)[3]["url"] = json!(format!("{AS}/register"));
                reqs(v)[4]["url"] = json!(format!("{AS}/token"));
                v["authorize"]["endpoint"] = json!(format!("{AS}/authorize"));
                v["stored_client"]["issuer"] = json!(AS);
            })
        }

        // --- Extension scenarios (machine to machine).
        //
        // The reference provider was built with scope="a b" (reference §5 quirk 11) and sends
        // no scope; mcp-auth requests its configured scope when neither the challenge nor the
        // metadata names one. With client_secret_basic, mcp-auth also names the client in the
        // body (RFC 6749 §3.2.1), as both clients do for the code grant.
        "client_credentials_basic_issuer_configured" => Case::new(m2m())
            .tweak(|b| {
                let mut pre = PreRegisteredClient::with_secret(
                    "cid",
                    "c sec",
                    TokenEndpointAuthMethod::ClientSecretBasic,
                );
                pre.issuer = Some(AS.into());
                b.grant(Grant::ClientCredentials)
                    .pre_registered(pre)
                    .scope("a b")
                    .config(|c| c.preferred_issuer = Some(AS.into()))
            })
            .diverges(|v| {
                let form = &mut token_request(v)["form"];
                form["client_id"] = json!("cid");
                form["scope"] = json!("a b");
            }),

        "client_credentials_post_with_protocol_header" => {
            let mut c = Case::new(m2m()).tweak(|b| {
                b.grant(Grant::ClientCredentials)
                    .pre_registered(PreRegisteredClient::with_secret(
                        "cid",
                        "csec",
                        TokenEndpointAuthMethod::ClientSecretPost,
                    ))
            });
            c.request_headers = vec![("mcp-protocol-version", "2025-06-18")];
            c
        }

        "client_credentials_issuer_mismatch" => Case::new(m2m())
            .tweak(|b| {
                let mut pre = PreRegisteredClient::with_secret(
                    "cid",
                    "csec",
                    TokenEndpointAuthMethod::ClientSecretBasic,
                );
                pre.issuer = Some("https://other.example.com".into());
                b.grant(Grant::ClientCredentials)
                    .pre_registered(pre)
                    .config(|c| c.preferred_issuer = Some("https://other.example.com".into()))
            })
            .message(
                "OAuthFlowError: Pre-registered client cid belongs to issuer https://other.example.com, not https://auth.example.com",
            ),

        "client_credentials_no_issuer_no_metadata_falls_back_to_server_origin_token" => Case::new(
            Net::default()
                .route("POST", SERVER, mcp(&["m2m"], 401, Some("Bearer".into())))
                .route("POST", &format!("{API}/token"), m2m_token),
        )
        .pv("2025-03-26")
        .tweak(|b| {
            b.grant(Grant::ClientCredentials)
                .pre_registered(PreRegisteredClient::with_secret(
                    "cid",
                    "csec",
                    TokenEndpointAuthMethod::ClientSecretBasic,
                ))
        })
        .diverges(|v| token_request(v)["form"]["client_id"] = json!("cid")),

        "private_key_jwt" => {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .unwrap()
            .as_ref()
            .to_vec();
            let pem = format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                STANDARD.encode(&pkcs8)
            );
            let mut c = Case::new(m2m()).tweak(move |b| {
                let key = SigningKey::from_pem(&pem, None).unwrap();
                b.grant(Grant::ClientCredentials)
                    .pre_registered(PreRegisteredClient::with_private_key("cid", key))
            });
            c.jwt_key = Some(pkcs8);
            c
        }

        // SEP-990 leg 2: the reference's IdentityAssertionOAuthProvider takes the authorization
        // server from its configuration and never reads PRM; its stub assertion provider
        // returned `idjag:<audience>:<resource>`, which is the configured assertion here.
        // mcp-auth discovers the authorization server through PRM, as for every grant.
        "identity_assertion_post" => Case::new(m2m())
            .tweak(|b| jwt_bearer(b, TokenEndpointAuthMethod::ClientSecretPost))
            .diverges(|v| {
                reqs(v).insert(1, json!({"method": "GET", "url": PRM_PATH}));
            }),

        "identity_assertion_403_step_up_basic" => Case::new(m2m().route(
            "POST",
            SERVER,
            mcp(
                &["m2m"],
                403,
                Some(r#"Bearer error="insufficient_scope", scope="mcp:admin""#.into()),
            ),
        ))
        .tweak(|b| jwt_bearer(b, TokenEndpointAuthMethod::ClientSecretBasic))
        .diverges(|v| {
            reqs(v).insert(1, json!({"method": "GET", "url": PRM_PATH}));
        }),

        other => panic!("no case for {other}"),
    }
}

/// The identity-assertion client: `cid` / `csec` at `auth.example.com`, scope `mcp`, the ID-JAG
/// `idjag:<audience>:<resource>`.
fn jwt_bearer(b: ClientBuilder, method: TokenEndpointAuthMethod) -> ClientBuilder {
    let mut pre = PreRegisteredClient::with_secret("cid", "csec", method);
    pre.issuer = Some(AS.into());
    b.grant(Grant::JwtBearer)
        .pre_registered(pre)
        .scope("mcp")
        .config(|c| {
            c.preferred_issuer = Some(AS.into());
            c.assertion = Some(Assertion::new(format!("idjag:{AS}:{SERVER}")));
        })
}

/// No PRM anywhere; the MCP server at `/v1/mcp`; DCR and token at the server origin.
fn legacy() -> Net {
    let server = "https://api.example.com/v1/mcp";
    Net::default()
        .route("POST", server, mcp(&["at-1"], 401, Some("Bearer".into())))
        .post_json(
            &format!("{API}/register"),
            201,
            dcr_client("legacy", None, Some("none")),
        )
        .route(
            "POST",
            &format!("{API}/token"),
            token_endpoint(invalid_grant),
        )
}

// ---------------------------------------------------------------------------------------------
// Running and comparing
// ---------------------------------------------------------------------------------------------

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/python-sdk-2.3.0.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn scenario(name: &str) -> Value {
    let v = vectors();
    for section in ["scenarios", "extension_scenarios"] {
        if let Some(s) = v["flows"][section]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
        {
            return s.clone();
        }
    }
    panic!("{name} is not a reference scenario")
}

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/differences.md"
    ))
    .unwrap()
}

struct Observed {
    result: mcp_auth::Result<mcp_auth::client::Response>,
    seen: Vec<Seen>,
    authorize_urls: Vec<String>,
    /// The states the callback answered with (echoed or forged).
    states_sent: Vec<String>,
    store: Arc<Store>,
    client: Client,
}

fn check(name: &str) {
    let reference = scenario(name);
    let case = case(name);
    let mut expected = reference.clone();
    let divergence = matches!(case.verdict, Verdict::Divergence(_));
    match case.verdict {
        Verdict::Match => {}
        Verdict::MessageDiffers(m) => {
            let theirs = reference["error"].as_str().expect("an error scenario");
            let class = theirs.split(':').next().unwrap();
            assert!(m.starts_with(&format!("{class}: ")), "{name}: same class");
            assert_ne!(m, theirs, "{name}: the message does differ");
            expected["error"] = json!(m);
        }
        Verdict::Divergence(patch) => {
            patch(&mut expected);
            assert_ne!(
                expected, reference,
                "{name}: the patch changes the expectation"
            );
        }
    }
    let server_url = reference["server_url"]
        .as_str()
        .unwrap_or(SERVER)
        .to_owned();

    let log = Arc::new(Mutex::new(Vec::new()));
    let authorize_urls = Arc::new(Mutex::new(Vec::new()));
    let states_sent = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::new(Store::default());
    let callback = {
        let urls = authorize_urls.clone();
        let states = states_sent.clone();
        let forged = case.forged_state;
        let iss = case.callback_iss;
        move |url: &str| -> mcp_auth::Result<String> {
            urls.lock().unwrap().push(url.to_owned());
            let u = url::Url::parse(url).unwrap();
            let sent = u
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let state = forged.map_or(sent, str::to_owned);
            states.lock().unwrap().push(state.clone());
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("code", "the-code")
                .append_pair("state", &state);
            if let Some(iss) = iss {
                q.append_pair("iss", iss);
            }
            Ok(format!("{REDIRECT}?{}", q.finish()))
        }
    };
    let pv = case.protocol_version;
    let mut builder = Client::builder(&server_url)
        .client_name("bench")
        .http_client(http_client(case.net, log.clone()))
        .storage(store.clone())
        .redirect_handler(Arc::new(CallbackRedirect::new(
            Some(REDIRECT.to_owned()),
            callback,
        )))
        .config(move |c| c.protocol_version = pv.to_owned());
    if let Some(t) = case.tweak {
        builder = t(builder);
    }
    let client = builder.build().unwrap();
    if let Some(seed) = case.seed {
        seed(&client, &store.inner);
    }
    let mut request = http::Request::post(server_url.as_str())
        .header("Content-Type", "application/json")
        .header("Accept", mcp_auth::client::MCP_ACCEPT);
    for (k, v) in &case.request_headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#.to_vec())
        .unwrap();
    let result = client.send(request);
    let observed = Observed {
        result,
        seen: log.lock().unwrap().clone(),
        authorize_urls: authorize_urls.lock().unwrap().clone(),
        states_sent: states_sent.lock().unwrap().clone(),
        store,
        client,
    };
    compare(
        name,
        &expected,
        &observed,
        case.client_key,
        case.jwt_key.as_deref(),
    );
    if divergence {
        assert!(
            readme().contains(&format!("flows#{name}")),
            "{name}: a divergence needs a row with id flows#{name} in docs/differences.md"
        );
    }
}

fn compare(name: &str, expected: &Value, o: &Observed, client_key: &str, jwt_key: Option<&[u8]>) {
    let lines: Vec<String> = o.seen.iter().map(Seen::line).collect();
    let want: Vec<String> = expected["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["url"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        lines,
        want,
        "{name}: request sequence (result: {:?})",
        o.result.as_ref().map(|r| r.status)
    );

    // The authorization request.
    let challenge = match expected.get("authorize") {
        Some(a) => {
            assert_eq!(o.authorize_urls.len(), 1, "{name}: one authorization");
            Some(check_authorize(name, a, &o.authorize_urls[0], expected, o))
        }
        None => {
            assert!(o.authorize_urls.is_empty(), "{name}: no authorization");
            None
        }
    };

    for (i, (r, seen)) in expected["requests"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&o.seen)
        .enumerate()
    {
        let at = format!("{name}: request #{i} {}", seen.line());
        assert_eq!(
            seen.header("authorization").as_deref(),
            r.get("authorization").and_then(Value::as_str),
            "{at}: Authorization"
        );
        if let Some(pv) = r.get("mcp-protocol-version") {
            assert_eq!(
                seen.header("mcp-protocol-version").as_deref(),
                pv.as_str(),
                "{at}: mcp-protocol-version"
            );
        }
        if let Some(body) = r.get("json") {
            let got: Value = serde_json::from_slice(&seen.body).unwrap();
            assert_eq!(&got, body, "{at}: registration body");
        }
        if let Some(form) = r.get("form") {
            check_form(&at, form, seen, challenge.as_deref(), jwt_key);
        }
    }

    // The outcome.
    match (expected.get("final_status"), expected.get("error")) {
        (Some(s), None) => {
            let r = o.result.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(u64::from(r.status), s.as_u64().unwrap(), "{name}: status");
        }
        (None, Some(e)) => {
            let e_str = e.as_str().unwrap();
            let (class, message) = e_str.split_once(": ").unwrap();
            let err = match &o.result {
                Ok(r) => panic!("{name}: expected {e_str}, got status {}", r.status),
                Err(err) => err,
            };
            assert_eq!(err.kind().reference_name(), Some(class), "{name}: {err}");
            // The reference's message word for word; mcp-auth may follow it with the
            // per-server override that would accept the case (docs/providers.md).
            let ours = err.to_string();
            let ours = match ours.split_once(" (to accept exactly this mismatch, add ") {
                Some((head, hint)) if hint.contains("overrides.trusted_issuers") => head,
                _ => &ours,
            };
            assert_eq!(ours, message, "{name}: message");
        }
        _ => panic!("{name}: a scenario has a status or an error"),
    }

    // Storage.
    if let Some(t) = expected.get("stored_tokens") {
        let stored = o.store.inner.get_tokens(o.client.resource_key()).unwrap();
        match (t.is_null(), stored) {
            (true, None) => {}
            (true, Some(s)) => panic!("{name}: no tokens expected, found {s:?}"),
            (false, None) => panic!("{name}: tokens expected"),
            (false, Some(s)) => {
                let mut got = serde_json::to_value(&s).unwrap();
                let expires_at = got.as_object_mut().unwrap().remove("expires_at");
                // mcp-auth persists the issuer and client a token belongs to (a refresh goes
                // only there); the reference stores neither.
                // (hostile_issuer_and_idp.rs tests them).
                got.as_object_mut().unwrap().remove("issuer");
                got.as_object_mut().unwrap().remove("client_id");
                assert_eq!(&got, t, "{name}: stored tokens");
                // The expiry is persisted with the token.
                if let Some(lifetime) = t.get("expires_in").and_then(Value::as_u64) {
                    let at = expires_at
                        .and_then(|v| v.as_u64())
                        .expect("expires_at stored");
                    let now = mcp_auth::token::now_unix();
                    assert!(at.abs_diff(now + lifetime) <= 5, "{name}: expires_at");
                }
            }
        }
    }
    if let Some(c) = expected.get("stored_client") {
        if c.is_null() {
            assert!(
                o.store.client_writes.lock().unwrap().is_empty(),
                "{name}: no client registration stored"
            );
        } else {
            let key = c
                .get("issuer")
                .and_then(Value::as_str)
                .unwrap_or(client_key);
            let stored = o
                .store
                .inner
                .get_client_info(key)
                .unwrap()
                .unwrap_or_else(|| panic!("{name}: a client stored under {key}"));
            assert_eq!(
                &serde_json::to_value(&stored).unwrap(),
                c,
                "{name}: stored client"
            );
        }
    }
}

/// Check the authorization URL; returns the `code_challenge` sent.
fn check_authorize(name: &str, a: &Value, url: &str, scenario: &Value, o: &Observed) -> String {
    let u = url::Url::parse(url).unwrap();
    let endpoint = format!("{}://{}{}", u.scheme(), u.host_str().unwrap(), u.path());
    assert_eq!(
        endpoint,
        a["endpoint"].as_str().unwrap(),
        "{name}: endpoint"
    );
    let params: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    let order: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    let want_order: Vec<&str> = a["param_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(order, want_order, "{name}: authorization parameter order");
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
    for (k, want) in a["params"].as_object().unwrap() {
        let got = get(k).unwrap();
        match want.as_str().unwrap() {
            "<state>" => {
                // 256 bits, base64url, as the reference's token_urlsafe(32).
                assert_eq!(
                    got.len() as u64,
                    scenario["state_len"].as_u64().unwrap(),
                    "{name}: state length"
                );
                if scenario.get("error").is_none() {
                    assert_eq!(
                        o.states_sent,
                        std::slice::from_ref(&got),
                        "{name}: state echoed"
                    );
                }
            }
            "<S256(code_verifier)>" => {
                assert_eq!(got.len(), 43, "{name}: S256 challenge length");
                assert!(
                    URL_SAFE_NO_PAD.decode(&got).is_ok_and(|d| d.len() == 32),
                    "{name}: S256 challenge is base64url(SHA-256)"
                );
            }
            w => assert_eq!(got, w, "{name}: authorization parameter {k}"),
        }
    }
    get("code_challenge").unwrap()
}

fn check_form(
    at: &str,
    want: &Value,
    seen: &Seen,
    challenge: Option<&str>,
    jwt_key: Option<&[u8]>,
) {
    let form = seen.form();
    let got: BTreeMap<String, String> = form.iter().cloned().collect();
    assert_eq!(got.len(), form.len(), "{at}: no repeated form field");
    let want: BTreeMap<String, String> = want
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{at}: form fields"
    );
    for (k, w) in &want {
        let g = &got[k];
        if w == "<code_verifier>" {
            // RFC 7636 §4.1: 43-128 unreserved characters; it must hash to the challenge sent.
            assert!((43..=128).contains(&g.len()), "{at}: verifier length");
            assert!(
                g.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
                "{at}: verifier alphabet"
            );
            assert_eq!(
                Some(mcp_auth::pkce::code_challenge_s256(g).as_str()),
                challenge,
                "{at}: S256(code_verifier) == code_challenge"
            );
        } else if let Some(audience) = w.strip_prefix("assertion-for:") {
            // The reference harness's assertion provider was a stub returning
            // `assertion-for:<audience>`; ours signs a real RFC 7523 assertion.
            check_jwt(at, g, audience, jwt_key.expect("a signing key"));
        } else {
            assert_eq!(g, w, "{at}: form field {k}");
        }
    }
}

/// An RFC 7523 §3 client assertion: ES256 over the header and claims, `iss` = `sub` = the
/// client id, `aud` = the authorization server's issuer.
fn check_jwt(at: &str, jwt: &str, audience: &str, pkcs8: &[u8]) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{at}: compact JWS");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256", "{at}: alg");
    assert_eq!(claims["aud"], audience, "{at}: aud");
    assert_eq!(claims["iss"], "cid", "{at}: iss");
    assert_eq!(claims["sub"], "cid", "{at}: sub");
    assert!(
        claims["exp"].as_u64().unwrap() > mcp_auth::token::now_unix(),
        "{at}: exp"
    );
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{at}: jti"
    );
    let pair = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .unwrap();
    signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        pair.public_key().as_ref(),
    )
    .verify(
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
    )
    .unwrap_or_else(|_| panic!("{at}: signature verifies"));
}
