//! The reconstructed network: the names of the scenario hosts, the scripted route table and
//! the `HttpClient` that answers from it, the building blocks of the reconstructed servers
//! (protected-resource and authorization-server metadata, DCR, the MCP and token endpoints,
//! the shared topologies), and the storage that records what the flow wrote.

use std::sync::{Arc, Mutex};

use mcp_auth::http::HttpClient;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

pub(super) const API: &str = "https://api.example.com";
pub(super) const SERVER: &str = "https://api.example.com/mcp";
pub(super) const AS: &str = "https://auth.example.com";
pub(super) const PRM_PATH: &str =
    "https://api.example.com/.well-known/oauth-protected-resource/mcp";
pub(super) const PRM_ROOT: &str = "https://api.example.com/.well-known/oauth-protected-resource";
pub(super) const ASM_OAUTH: &str =
    "https://auth.example.com/.well-known/oauth-authorization-server";
pub(super) const ASM_OIDC: &str = "https://auth.example.com/.well-known/openid-configuration";
pub(super) const API_ASM: &str = "https://api.example.com/.well-known/oauth-authorization-server";
pub(super) const REDIRECT: &str = "http://localhost:3030/callback";
/// The `mcp-protocol-version` the reference sends on every metadata request.
pub(super) const REF_PV: &str = "2026-07-28";
pub(super) const CIMD_URL: &str = "https://client.example.com/metadata.json";

// ---------------------------------------------------------------------------------------------
// The scripted network
// ---------------------------------------------------------------------------------------------

/// A request as the network saw it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    method: String,
    url: String,
    headers: http::HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Seen {
    pub(super) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    pub(super) fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub(super) fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

pub(super) fn status(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

pub(super) fn json_reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A route table; the last route registered for a method and URL wins; anything else is 404.
#[derive(Clone, Default)]
pub(super) struct Net {
    routes: Vec<(String, String, Handler)>,
}

impl Net {
    pub(super) fn route(
        mut self,
        method: &str,
        url: &str,
        h: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Self {
        self.routes.push((method.into(), url.into(), Arc::new(h)));
        self
    }

    pub(super) fn get_json(self, url: &str, body: Value) -> Self {
        self.route("GET", url, move |_| json_reply(200, body.clone()))
    }

    pub(super) fn post_json(self, url: &str, code: u16, body: Value) -> Self {
        self.route("POST", url, move |_| json_reply(code, body.clone()))
    }

    pub(super) fn get_status(self, url: &str, code: u16) -> Self {
        self.route("GET", url, move |_| status(code))
    }

    /// Remove a route (it answers 404 again).
    pub(super) fn without(mut self, method: &str, url: &str) -> Self {
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

pub(super) fn http_client(net: Net, log: Arc<Mutex<Vec<Seen>>>) -> Arc<dyn HttpClient> {
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

pub(super) fn prm(resource: &str, servers: &[&str], scopes: Option<&[&str]>) -> Value {
    let mut v = json!({"resource": resource, "authorization_servers": servers});
    if let Some(s) = scopes {
        v["scopes_supported"] = json!(s);
    }
    v
}

pub(super) const FILES: &[&str] = &["files:read", "files:write"];

/// RFC 8414 metadata for `issuer` with its endpoints under `base`.
pub(super) fn asm(issuer: &str, base: &str) -> Value {
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

pub(super) fn dcr_client(id: &str, secret: Option<&str>, method: Option<&str>) -> Value {
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
pub(super) fn dcr_post() -> Value {
    dcr_client("cid-123", Some("sec-456"), Some("client_secret_post"))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The MCP endpoint: 200 for the tokens in `accept`, else `deny` with `challenge` (if any).
pub(super) fn mcp(
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
pub(super) fn token_endpoint(
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

pub(super) fn invalid_grant(_: &str) -> Reply {
    json_reply(400, json!({"error": "invalid_grant"}))
}

/// Refresh with rotation: `rt-N` gives `at-(N+1)` / `rt-(N+1)`.
pub(super) fn rotating_refresh(rt: &str) -> Reply {
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
pub(super) fn standard() -> Net {
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
pub(super) fn m2m() -> Net {
    Net::default()
        .route("POST", SERVER, mcp(&["m2m"], 401, Some("Bearer".into())))
        .get_json(PRM_PATH, prm(SERVER, &[AS], None))
        .get_json(ASM_OAUTH, asm(AS, AS))
        .route("POST", &format!("{AS}/token"), m2m_token)
}

pub(super) fn m2m_token(seen: &Seen) -> Reply {
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
pub(super) struct Store {
    pub(super) inner: MemoryStorage,
    pub(super) client_writes: Mutex<Vec<String>>,
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

pub(super) fn client_info(v: Value) -> OAuthClientInformationFull {
    OAuthClientInformationFull::from_json(v.to_string().as_bytes()).unwrap()
}

pub(super) fn token(v: Value) -> OAuthToken {
    OAuthToken::from_json(v.to_string().as_bytes()).unwrap()
}

/// A token a previous run stored, expired by the clock (mcp-auth persists `expires_at`).
pub(super) fn expired_token(access: &str, refresh: &str, scope: &str, lifetime: u64) -> OAuthToken {
    let mut t = token(json!({
        "access_token": access, "token_type": "Bearer", "expires_in": lifetime,
        "refresh_token": refresh, "scope": scope,
    }));
    t.expires_at = Some(mcp_auth::token::now_unix() - 10);
    t
}

/// No PRM anywhere; the MCP server at `/v1/mcp`; DCR and token at the server origin.
pub(super) fn legacy() -> Net {
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
