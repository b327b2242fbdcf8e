//! Routing, the metadata documents, dynamic registration and the authorization endpoint; the
//! MCP endpoint is in [`mcp`], the token and revocation endpoints in [`token`].

mod mcp;
mod token;

use mcp::mcp;
use token::{revoke, token};

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::config::{AuthMethod, DemoConfig, FaultAction, ResourceId};
use crate::http::{Request, Response};
use crate::jwt::{self};
use crate::state::{CODE_TTL, Client, CodeGrant, State, random_token, unix_now};

/// MCP protocol versions the resource server speaks, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];

/// What the connection loop does with a request.
pub(crate) enum Outcome {
    Respond(Response),
    Fault(FaultAction),
}

/// URLs derived from the config and the bound port.
pub(crate) struct Urls {
    pub origin: String,
    pub issuer: String,
}

impl Urls {
    pub fn new(cfg: &DemoConfig, port: u16) -> Self {
        let origin = format!("http://{}:{}", cfg.host_name, port);
        let issuer = format!("{origin}{}", cfg.issuer_path.trim_end_matches('/'));
        Self { origin, issuer }
    }

    pub fn mcp_url(&self, cfg: &DemoConfig) -> String {
        format!("{}{}", self.origin, cfg.mcp_path)
    }

    pub fn prm_url(&self, cfg: &DemoConfig) -> Option<String> {
        cfg.prm_path().map(|p| format!("{}{p}", self.origin))
    }

    pub fn prm_resource(&self, cfg: &DemoConfig) -> String {
        match &cfg.prm_resource {
            ResourceId::McpUrl => self.mcp_url(cfg),
            ResourceId::Origin => self.origin.clone(),
            ResourceId::Custom(s) => s.clone(),
        }
    }

    /// The issuer the metadata advertises (possibly overridden).
    pub fn advertised_issuer(&self, cfg: &DemoConfig) -> String {
        cfg.issuer_override
            .clone()
            .unwrap_or_else(|| self.issuer.clone())
    }

    pub fn endpoint(&self, cfg: &DemoConfig, name: &str) -> String {
        format!("{}{}/{name}", self.origin, cfg.effective_endpoint_prefix())
    }
}

/// Handles one request (already recorded).
pub(crate) fn handle(shared: &Shared, req: &Request) -> Outcome {
    if let Some(action) = take_route_fault(shared, req) {
        return Outcome::Fault(action);
    }
    let cfg = shared.config.read().unwrap_or_else(|e| e.into_inner());
    let urls = Urls::new(&cfg, shared.port);
    let mut resp = route(shared, &cfg, &urls, req);
    if cfg.cors {
        add_cors(&mut resp, req.method == "OPTIONS");
    }
    Outcome::Respond(resp)
}

/// The CORS headers, each exactly once (a browser refuses a response whose
/// `Access-Control-Allow-Origin` has several values). The preflight's own headers come from
/// [`route`]; `Access-Control-Expose-Headers` only matters on actual responses.
fn add_cors(resp: &mut Response, preflight: bool) {
    let mut set = |name: &str, value: &str| {
        resp.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        resp.headers.push((name.to_owned(), value.to_owned()));
    };
    set("access-control-allow-origin", "*");
    if !preflight {
        set(
            "access-control-expose-headers",
            "www-authenticate, mcp-session-id, location",
        );
    }
}

fn take_route_fault(shared: &Shared, req: &Request) -> Option<FaultAction> {
    let matches = |f: &crate::config::RouteFault| {
        f.path == req.path
            && f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&req.method))
            && f.times != Some(0)
    };
    {
        let cfg = shared.config.read().unwrap_or_else(|e| e.into_inner());
        match cfg.faults.routes.iter().find(|f| matches(f)) {
            None => return None,
            Some(f) if f.times.is_none() => return Some(f.action.clone()),
            Some(_) => {}
        }
    }
    let mut cfg = shared.config.write().unwrap_or_else(|e| e.into_inner());
    let idx = cfg.faults.routes.iter().position(matches)?;
    let fault = &mut cfg.faults.routes[idx];
    let action = fault.action.clone();
    if let Some(n) = fault.times.as_mut() {
        *n -= 1;
        if *n == 0 {
            cfg.faults.routes.remove(idx);
        }
    }
    Some(action)
}

pub(crate) fn lock_state(shared: &Shared) -> std::sync::MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

fn not_found(path: &str) -> Response {
    Response::json(
        404,
        &json!({"error": "not_found", "error_description": format!("no resource at {path}")}),
    )
}

fn method_not_allowed(allow: &str) -> Response {
    Response::json(
        405,
        &json!({"error": "method_not_allowed", "error_description": format!("use {allow}")}),
    )
    .header("allow", allow)
}

fn route(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    let path = req.path.as_str();
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method.as_str()
    };
    if method == "OPTIONS" && cfg.cors {
        // `Access-Control-Allow-Origin` is added by `handle`, like on every other response.
        return Response::new(204)
            .header("access-control-allow-methods", "GET, POST, OPTIONS")
            .header(
                "access-control-allow-headers",
                "authorization, content-type, accept, mcp-protocol-version, mcp-session-id",
            )
            .header("access-control-max-age", "600");
    }
    if path == cfg.mcp_path {
        return match method {
            "POST" | "GET" => mcp(shared, cfg, urls, req),
            _ => method_not_allowed("GET, POST"),
        };
    }
    if cfg.prm_path().as_deref() == Some(path) {
        return match method {
            "GET" => prm(cfg, urls),
            _ => method_not_allowed("GET"),
        };
    }
    if cfg.as_metadata_path().as_deref() == Some(path) {
        return match method {
            "GET" => as_metadata(cfg, urls),
            _ => method_not_allowed("GET"),
        };
    }
    if cfg.counters_endpoint && path == "/_demo/counters" && method == "GET" {
        return counters(shared);
    }
    let prefix = cfg.effective_endpoint_prefix();
    if let Some(name) = path.strip_prefix(prefix) {
        match name {
            "/authorize" => {
                return match method {
                    "GET" => authorize(shared, cfg, urls, req),
                    _ => method_not_allowed("GET"),
                };
            }
            "/token" => {
                return match method {
                    "POST" => token(shared, cfg, urls, req),
                    _ => method_not_allowed("POST"),
                };
            }
            "/revoke" if cfg.revocation_enabled => {
                return match method {
                    "POST" => revoke(shared, cfg, urls, req),
                    _ => method_not_allowed("POST"),
                };
            }
            "/register" if cfg.registration_enabled => {
                return match method {
                    "POST" => register(shared, cfg, urls, req),
                    _ => method_not_allowed("POST"),
                };
            }
            n if cfg.registration_enabled && cfg.registration_management => {
                if let Some(id) = n.strip_prefix("/register/") {
                    return match method {
                        "PUT" => crate::manage::update(shared, id, req),
                        _ => method_not_allowed("PUT"),
                    };
                }
            }
            _ => {}
        }
    }
    not_found(path)
}

/// `GET /_demo/counters` ([`DemoConfig::counters_endpoint`]).
fn counters(shared: &Shared) -> Response {
    let st = lock_state(shared);
    let (r, d, s) = (st.refresh_stats, st.dpop_stats, st.stream_stats);
    Response::json(
        200,
        &json!({
            "refreshes": r.refreshes,
            "reuse_detections": r.reuse_detections,
            "revocations": r.revocations,
            "grants": st.grant_hits,
            "dpop": {
                "bound_tokens_issued": d.bound_tokens_issued,
                "bound_refreshes": d.bound_refreshes,
                "key_mismatches": d.key_mismatches,
                "invalid_proofs": d.invalid_proofs,
                "nonce_demands": d.nonce_demands,
            },
            "streams": {
                "started": s.started,
                "completed": s.completed,
                "abandoned": s.abandoned,
                "bytes_sent": s.bytes_sent,
                "events_sent": s.events_sent,
            },
        }),
    )
    .header("cache-control", "no-store")
}

/// RFC 7396 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(obj) = target else {
        return;
    };
    for (k, v) in patch {
        if v.is_null() {
            obj.remove(k);
        } else {
            merge_patch(obj.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

fn patched(mut doc: Value, patch: Option<&Value>) -> Value {
    if let Some(p) = patch {
        merge_patch(&mut doc, p);
    }
    doc
}

fn split_scope(s: &str) -> Vec<&str> {
    s.split_ascii_whitespace().collect()
}

// ---------------------------------------------------------------------------------------------
// Metadata documents
// ---------------------------------------------------------------------------------------------

fn prm(cfg: &DemoConfig, urls: &Urls) -> Response {
    let mut doc = json!({
        "resource": urls.prm_resource(cfg),
        "authorization_servers": cfg.prm_authorization_servers.clone()
            .unwrap_or_else(|| vec![urls.advertised_issuer(cfg)]),
        "bearer_methods_supported": ["header"],
        "resource_name": "mcp-auth demo server",
    });
    if cfg.dpop {
        doc["dpop_signing_alg_values_supported"] = json!(["ES256"]);
        doc["dpop_bound_access_tokens_required"] = json!(true);
    }
    if let Some(scopes) = &cfg.prm_scopes_supported {
        doc["scopes_supported"] = json!(scopes);
    }
    Response::json(200, &patched(doc, cfg.faults.prm_patch.as_ref()))
}

fn as_metadata(cfg: &DemoConfig, urls: &Urls) -> Response {
    let mut doc = json!({
        "issuer": urls.advertised_issuer(cfg),
        "authorization_endpoint": urls.endpoint(cfg, "authorize"),
        "token_endpoint": urls.endpoint(cfg, "token"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
    });
    if cfg.registration_enabled {
        doc["registration_endpoint"] = json!(urls.endpoint(cfg, "register"));
    }
    if cfg.revocation_enabled {
        doc["revocation_endpoint"] = json!(urls.endpoint(cfg, "revoke"));
    }
    if !cfg.grant_types_supported.is_empty() {
        doc["grant_types_supported"] = json!(cfg.grant_types_supported);
    }
    if !cfg.token_endpoint_auth_methods.is_empty() {
        let names: Vec<&str> = cfg
            .token_endpoint_auth_methods
            .iter()
            .map(|m| m.as_str())
            .collect();
        doc["token_endpoint_auth_methods_supported"] = json!(names);
        if cfg
            .token_endpoint_auth_methods
            .contains(&AuthMethod::PrivateKeyJwt)
        {
            doc["token_endpoint_auth_signing_alg_values_supported"] = json!(["ES256", "RS256"]);
        }
    }
    if let Some(m) = &cfg.code_challenge_methods_supported {
        doc["code_challenge_methods_supported"] = json!(m);
    }
    if let Some(s) = &cfg.scopes_supported {
        doc["scopes_supported"] = json!(s);
    }
    if cfg.cimd_supported {
        doc["client_id_metadata_document_supported"] = json!(true);
    }
    if cfg.dpop {
        doc["dpop_signing_alg_values_supported"] = json!(["ES256"]);
    }
    if cfg.iss_parameter_supported {
        doc["authorization_response_iss_parameter_supported"] = json!(true);
    }
    if cfg.as_metadata_location.is_oidc() {
        doc["subject_types_supported"] = json!(["public"]);
        doc["id_token_signing_alg_values_supported"] = json!(["RS256"]);
    }
    Response::json(200, &patched(doc, cfg.faults.as_metadata_patch.as_ref()))
        .header("cache-control", "no-store")
}

// ---------------------------------------------------------------------------------------------
// Dynamic client registration (RFC 7591)
// ---------------------------------------------------------------------------------------------

fn registration_error(code: &str, description: &str) -> Response {
    Response::json(
        400,
        &json!({"error": code, "error_description": description}),
    )
}

fn register(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
        return registration_error("invalid_client_metadata", "the body must be a JSON object");
    };
    let redirect_uris: Vec<String> = match body.get("redirect_uris") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(_) => {
            return registration_error(
                "invalid_redirect_uri",
                "redirect_uris must be an array of strings",
            );
        }
    };
    for uri in &redirect_uris {
        match url::Url::parse(uri) {
            Ok(u) if u.fragment().is_none() => {}
            _ => {
                return registration_error(
                    "invalid_redirect_uri",
                    &format!("{uri} is not an absolute URI without fragment"),
                );
            }
        }
    }
    let grant_types: Vec<String> = body
        .get("grant_types")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_else(|| vec!["authorization_code".to_owned()]);
    if grant_types.iter().any(|g| g == "authorization_code") && redirect_uris.is_empty() {
        return registration_error(
            "invalid_redirect_uri",
            "redirect_uris is required for the authorization_code grant",
        );
    }
    let supported = if cfg.token_endpoint_auth_methods.is_empty() {
        vec![AuthMethod::ClientSecretBasic]
    } else {
        cfg.token_endpoint_auth_methods.clone()
    };
    let requested = body
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .map(|s| AuthMethod::parse(s).ok_or(s));
    let method = match requested {
        Some(Ok(m)) if supported.contains(&m) => m,
        None if supported.contains(&AuthMethod::ClientSecretBasic) => AuthMethod::ClientSecretBasic,
        _ => supported[0],
    };
    let jwt_key = body
        .get("jwks")
        .and_then(jwt::JwtKey::from_jwk)
        .or_else(|| body.get("jwk").and_then(jwt::JwtKey::from_jwk));
    if method == AuthMethod::PrivateKeyJwt && jwt_key.is_none() {
        return registration_error(
            "invalid_client_metadata",
            "private_key_jwt needs an inline `jwks` with an ES256 (P-256) or RS256 key",
        );
    }
    let client_id = random_token("dcr_");
    let secret = method.uses_secret().then(|| random_token("secret_"));

    let mut doc = Value::Object(body.clone());
    doc["client_id"] = json!(client_id);
    doc["client_id_issued_at"] = json!(unix_now());
    if let Some(s) = &secret {
        doc["client_secret"] = json!(s);
        doc["client_secret_expires_at"] = json!(0);
    } else if let Some(o) = doc.as_object_mut() {
        o.remove("client_secret");
        o.remove("client_secret_expires_at");
    }
    doc["token_endpoint_auth_method"] = json!(method.as_str());
    doc["redirect_uris"] = json!(redirect_uris);
    doc["grant_types"] = json!(grant_types);
    if doc.get("response_types").is_none() {
        doc["response_types"] = json!(["code"]);
    }

    let registration_access_token =
        crate::manage::management_members(cfg, urls, &mut doc, &client_id);
    let mut metadata = doc.as_object().cloned().unwrap_or_default();
    metadata.remove("registration_access_token");
    lock_state(shared).clients.insert(
        client_id.clone(),
        Client {
            client_id,
            secret,
            method,
            redirect_uris,
            jwt_key,
            dynamic: true,
            scope: body.get("scope").and_then(Value::as_str).map(str::to_owned),
            registration_access_token,
            metadata,
        },
    );
    Response::json(
        201,
        &patched(doc, cfg.faults.registration_response_patch.as_ref()),
    )
    .header("cache-control", "no-store")
}

// ---------------------------------------------------------------------------------------------
// Authorization endpoint
// ---------------------------------------------------------------------------------------------

fn redirect_matches(registered: &str, got: &str) -> bool {
    if registered == got {
        return true;
    }
    // RFC 8252 §7.3: any port for loopback redirect URIs.
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(got)) else {
        return false;
    };
    let loopback = |u: &url::Url| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    loopback(&a)
        && a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
}

fn unique_params(pairs: Vec<(String, String)>) -> Result<Vec<(String, String)>, String> {
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(format!("parameter {k} is repeated"));
        }
    }
    Ok(pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The scope the AS grants for a request.
fn grant_scope(cfg: &DemoConfig, requested: Option<&str>) -> String {
    let requested = requested.filter(|s| !s.trim().is_empty());
    let base = requested.or(cfg.default_scope.as_deref()).unwrap_or("");
    let mut out: Vec<&str> = Vec::new();
    for s in split_scope(base) {
        let grantable = cfg
            .grantable_scopes
            .as_ref()
            .is_none_or(|g| g.iter().any(|x| x == s));
        if grantable && !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(" ")
}

fn authorize(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    let raw = req
        .query
        .as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let bad = |code: &str, description: &str| {
        Response::json(
            400,
            &json!({"error": code, "error_description": description}),
        )
    };
    let params = match unique_params(raw) {
        Ok(p) => p,
        Err(e) => return bad("invalid_request", &e),
    };
    // Errors before the client and redirect URI are known are shown, never redirected.
    let Some(client_id) = param(&params, "client_id") else {
        return bad("invalid_request", "client_id is required");
    };
    let client = lock_state(shared).client(cfg, client_id);
    let Some(client) = client else {
        return bad("invalid_client", &format!("unknown client_id {client_id}"));
    };
    let Some(redirect_uri) = param(&params, "redirect_uri") else {
        return bad("invalid_request", "redirect_uri is required");
    };
    let Ok(mut location) = url::Url::parse(redirect_uri) else {
        return bad("invalid_request", "redirect_uri is not an absolute URI");
    };
    if location.fragment().is_some() {
        return bad("invalid_request", "redirect_uri must not have a fragment");
    }
    if cfg.validate_redirect_uri
        && client.dynamic
        && !client
            .redirect_uris
            .iter()
            .any(|r| redirect_matches(r, redirect_uri))
    {
        return bad(
            "invalid_request",
            "redirect_uri is not registered for this client",
        );
    }

    let state = param(&params, "state");
    let iss = cfg
        .iss_override
        .clone()
        .unwrap_or_else(|| urls.advertised_issuer(cfg));
    let mut redirect = |pairs: &[(&str, &str)]| {
        {
            let mut q = location.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
            if let Some(s) = state {
                q.append_pair("state", s);
            }
            if cfg.iss_in_authorization_response {
                q.append_pair("iss", &iss);
            }
        }
        Response::new(302)
            .header("location", location.as_str())
            .header("cache-control", "no-store")
    };
    let error = |code: &str, description: &str| (code.to_owned(), description.to_owned());

    let outcome: Result<(), (String, String)> = (|| {
        if let Some(e) = &cfg.faults.authorize_error {
            return Err(error(e, "the resource owner denied the request"));
        }
        if let Some(d) =
            crate::manage::outside_registered_scope(cfg, &client, param(&params, "scope"))
        {
            return Err(error("invalid_scope", &d));
        }
        if param(&params, "response_type") != Some("code") {
            return Err(error(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        let challenge = param(&params, "code_challenge");
        let method = param(&params, "code_challenge_method").unwrap_or("plain");
        match challenge {
            None if cfg.require_pkce => {
                return Err(error(
                    "invalid_request",
                    "code_challenge is required (PKCE)",
                ));
            }
            None => {}
            Some(c) => {
                let plain_ok = cfg
                    .code_challenge_methods_supported
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|x| x == "plain"));
                if !(method == "S256" || (method == "plain" && plain_ok)) {
                    return Err(error(
                        "invalid_request",
                        &format!("code_challenge_method {method} is not supported"),
                    ));
                }
                if method == "S256" && (c.len() != 43 || URL_SAFE_NO_PAD.decode(c).is_err()) {
                    return Err(error(
                        "invalid_request",
                        "an S256 code_challenge is 43 base64url characters",
                    ));
                }
            }
        }
        Ok(())
    })();
    if let Err((code, description)) = outcome {
        return redirect(&[("error", &code), ("error_description", &description)]);
    }

    let scope = grant_scope(cfg, param(&params, "scope"));
    let code = random_token("code_");
    lock_state(shared).codes.insert(
        code.clone(),
        CodeGrant {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: param(&params, "code_challenge").map(str::to_owned),
            code_challenge_method: param(&params, "code_challenge_method")
                .unwrap_or("plain")
                .to_owned(),
            resource: param(&params, "resource").map(str::to_owned),
            scope,
            expires_at: Instant::now() + CODE_TTL,
        },
    );
    redirect(&[("code", &code)])
}
