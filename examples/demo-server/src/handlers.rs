//! Routing and every endpoint: MCP, PRM, AS metadata, DCR, authorize, token.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::config::{AuthMethod, DemoConfig, FaultAction, ResourceId};
use crate::dpop;
use crate::http::{Request, Response};
use crate::jwt::{self, JWT_BEARER_ASSERTION_TYPE};
use crate::state::{AccessToken, CODE_TTL, Client, CodeGrant, State, random_token, unix_now};

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
            "POST" => mcp(shared, cfg, urls, req),
            _ => method_not_allowed("POST"),
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
    let (r, d) = (st.refresh_stats, st.dpop_stats);
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
// Resource server
// ---------------------------------------------------------------------------------------------

fn quote(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

fn challenge(
    cfg: &DemoConfig,
    urls: &Urls,
    error: &str,
    description: &str,
    scope: Option<&str>,
) -> String {
    let mut out = format!(
        "Bearer error=\"{error}\", error_description=\"{}\"",
        quote(description)
    );
    if cfg.challenge_resource_metadata {
        let url = cfg
            .resource_metadata_override
            .clone()
            .or_else(|| urls.prm_url(cfg));
        if let Some(url) = url {
            out.push_str(&format!(", resource_metadata=\"{}\"", quote(&url)));
        }
    }
    if let Some(scope) = scope {
        out.push_str(&format!(", scope=\"{}\"", quote(scope)));
    }
    out
}

fn unauthorized(cfg: &DemoConfig, urls: &Urls, description: &str) -> Response {
    let header = challenge(
        cfg,
        urls,
        "invalid_token",
        description,
        cfg.challenge_scope.as_deref(),
    );
    Response::json(
        401,
        &json!({"error": "invalid_token", "error_description": description}),
    )
    .header("www-authenticate", &header)
}

/// The token of `Authorization: Bearer …` or `Authorization: DPoP …` (`true` for DPoP).
fn authorization_token(req: &Request) -> Option<(bool, &str)> {
    let value = req.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    (dpop || scheme.eq_ignore_ascii_case("bearer"))
        .then(|| (dpop, token.trim()))
        .filter(|(_, t)| !t.is_empty())
}

/// RFC 9449 §7.1: a DPoP-bound token comes with the `DPoP` scheme and a proof of its key
/// (`ath` = the token's hash); a Bearer token must not claim the `DPoP` scheme.
fn check_dpop_binding(
    shared: &Shared,
    urls: &Urls,
    cfg: &DemoConfig,
    req: &Request,
    token: &str,
    dpop_scheme: bool,
    info: &AccessToken,
) -> Result<(), String> {
    let Some(bound) = &info.jkt else {
        return if dpop_scheme {
            Err("The access token is not DPoP-bound".into())
        } else {
            Ok(())
        };
    };
    if !dpop_scheme {
        return Err("The access token is DPoP-bound: use the DPoP scheme".into());
    }
    let proof = req.header("dpop").ok_or("Missing DPoP proof")?;
    let mut st = lock_state(shared);
    let st = &mut *st;
    let url = urls.mcp_url(cfg);
    let checked = dpop::verify_proof(
        proof,
        &req.method,
        &url,
        Some(token),
        unix_now(),
        &mut st.dpop_jtis,
    );
    match checked {
        Ok(jkt) if jkt == *bound => {
            st.refresh_stats.dpop_requests += 1;
            Ok(())
        }
        Ok(_) => {
            st.dpop_stats.invalid_proofs += 1;
            Err("The DPoP proof uses another key than the token's".into())
        }
        Err(e) => {
            st.dpop_stats.invalid_proofs += 1;
            Err(e)
        }
    }
}

fn mcp(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    if cfg.faults.mcp_always_unauthorized {
        return unauthorized(cfg, urls, "The access token was rejected");
    }
    let parsed: Result<Value, _> = serde_json::from_slice(&req.body);
    let rpc_method = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("method"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let public = cfg.open_initialize
        && (rpc_method == "initialize" || rpc_method.starts_with("notifications/"));

    let mut caller: Option<AccessToken> = None;
    if !public {
        let Some((dpop_scheme, token)) = authorization_token(req) else {
            return unauthorized(cfg, urls, "Missing Authorization header");
        };
        let info = lock_state(shared).access.get(token).cloned();
        let Some(info) = info else {
            return unauthorized(cfg, urls, "The access token is not one this server issued");
        };
        if let Err(why) = check_dpop_binding(shared, urls, cfg, req, token, dpop_scheme, &info) {
            return unauthorized(cfg, urls, &why);
        }
        if Instant::now() >= info.expires_at {
            return unauthorized(cfg, urls, "The access token has expired");
        }
        if cfg.check_token_resource {
            if let Some(r) = &info.resource {
                if *r != urls.prm_resource(cfg) && *r != urls.mcp_url(cfg) {
                    return unauthorized(
                        cfg,
                        urls,
                        "The access token was issued for another resource",
                    );
                }
            }
        }
        if let Some(required) = cfg.scopes_required_for(&rpc_method) {
            let have = split_scope(&info.scope);
            if !split_scope(required).iter().all(|s| have.contains(s)) {
                let description = format!("The method {rpc_method} requires scope {required}");
                let header = challenge(
                    cfg,
                    urls,
                    "insufficient_scope",
                    &description,
                    Some(required),
                );
                return Response::json(
                    403,
                    &json!({
                        "error": "insufficient_scope",
                        "error_description": description,
                        "scope": required,
                    }),
                )
                .header("www-authenticate", &header);
            }
        }
        caller = Some(info);
    }

    let accept = req.header("accept").unwrap_or("").to_ascii_lowercase();
    let accepts_sse = accept.contains("text/event-stream");
    if cfg.require_accept_both && !(accepts_sse && accept.contains("application/json")) {
        return Response::json(
            406,
            &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000,
                "message": "Not Acceptable: Client must accept both application/json and text/event-stream"}}),
        );
    }
    let msg = match parsed {
        Ok(v) => v,
        Err(_) => {
            return Response::json(
                400,
                &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}),
            );
        }
    };
    let Some(reply) = jsonrpc(&msg, caller.as_ref()) else {
        return Response::new(202);
    };
    if cfg.sse && accepts_sse {
        Response::new(200)
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
            .body(format!("event: message\ndata: {reply}\n\n").into_bytes())
    } else {
        Response::json(200, &reply)
    }
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn tools() -> Value {
    json!([
        {
            "name": "echo",
            "description": "Returns its `text` argument.",
            "inputSchema": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"]
            }
        },
        {
            "name": "whoami",
            "description": "Returns the calling token's client_id and scope.",
            "inputSchema": {"type": "object"}
        },
        {
            "name": "test-tool",
            "description": "The conformance suite's tool: returns \"test\".",
            "inputSchema": {"type": "object"}
        }
    ])
}

fn text_result(text: &str) -> Value {
    json!({"content": [{"type": "text", "text": text}]})
}

/// Answers one JSON-RPC message; `None` for notifications and responses (HTTP 202).
fn jsonrpc(msg: &Value, caller: Option<&AccessToken>) -> Option<Value> {
    let Some(obj) = msg.as_object() else {
        return Some(rpc_error(&Value::Null, -32600, "Invalid Request"));
    };
    let id = obj.get("id").cloned();
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        // A response from the client, or garbage without an id.
        return id.map(|id| rpc_error(&id, -32600, "Invalid Request"));
    };
    let id = id?; // notification
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some(rpc_error(
            &id,
            -32600,
            "Invalid Request: jsonrpc must be \"2.0\"",
        ));
    }
    let params = obj.get("params").cloned().unwrap_or(Value::Null);
    let result = match method {
        "initialize" => {
            let requested = params.get("protocolVersion").and_then(Value::as_str);
            let version = requested
                .filter(|v| SUPPORTED_PROTOCOL_VERSIONS.contains(v))
                .unwrap_or(SUPPORTED_PROTOCOL_VERSIONS[0]);
            json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "mcp-auth-demo-server", "version": env!("CARGO_PKG_VERSION")},
                "instructions": "Loopback demo server for mcp-auth."
            })
        }
        "ping" => json!({}),
        "tools/list" => json!({"tools": tools()}),
        "tools/call" => {
            let name = params.get("name").and_then(Value::as_str).unwrap_or("");
            let args = params.get("arguments").cloned().unwrap_or(json!({}));
            match name {
                "echo" => match args.get("text").and_then(Value::as_str) {
                    Some(t) => text_result(t),
                    None => {
                        return Some(rpc_error(
                            &id,
                            -32602,
                            "echo needs a string argument `text`",
                        ));
                    }
                },
                "whoami" => {
                    let who = json!({
                        "client_id": caller.map(|c| c.client_id.as_str()),
                        "scope": caller.map(|c| c.scope.as_str()),
                    });
                    let mut r = text_result(&who.to_string());
                    r["structuredContent"] = who;
                    r
                }
                "test-tool" => text_result("test"),
                other => {
                    return Some(rpc_error(&id, -32602, &format!("Tool {other} not found")));
                }
            }
        }
        _ => return Some(rpc_error(&id, -32601, "Method not found")),
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
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

// ---------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------

struct OAuthError {
    status: u16,
    code: &'static str,
    description: String,
    basic_challenge: bool,
}

fn oauth_error(code: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: if code == "invalid_client" { 401 } else { 400 },
        code,
        description: description.into(),
        basic_challenge: false,
    }
}

impl OAuthError {
    fn into_response(self) -> Response {
        let mut r = Response::json(
            self.status,
            &json!({"error": self.code, "error_description": self.description}),
        )
        .header("cache-control", "no-store")
        .header("pragma", "no-cache");
        if self.basic_challenge {
            r = r.header("www-authenticate", "Basic realm=\"mcp-auth-demo\"");
        }
        r
    }
}

/// `application/x-www-form-urlencoded` decoding of one Basic credential part (RFC 6749 §2.3.1).
fn form_decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn token_params(req: &Request) -> Result<Vec<(String, String)>, OAuthError> {
    let is_json = req
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    let pairs: Vec<(String, String)> = if is_json {
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&req.body) else {
            return Err(oauth_error(
                "invalid_request",
                "the body is not a JSON object",
            ));
        };
        obj.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect()
    } else {
        form_urlencoded::parse(&req.body).into_owned().collect()
    };
    unique_params(pairs).map_err(|e| oauth_error("invalid_request", e))
}

/// Authenticates the client per its registered method.
fn authenticate(
    shared: &Shared,
    cfg: &DemoConfig,
    urls: &Urls,
    req: &Request,
    params: &[(String, String)],
) -> Result<Client, OAuthError> {
    let basic = req.header("authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
    });
    let basic_fail = |d: String| OAuthError {
        basic_challenge: true,
        ..oauth_error("invalid_client", d)
    };
    let basic = match basic {
        Some(b) => {
            let decoded = STANDARD
                .decode(b)
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .ok_or_else(|| basic_fail("the Basic credentials are not base64".into()))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| basic_fail("the Basic credentials have no ':'".into()))?;
            Some((form_decode(id), form_decode(secret)))
        }
        None => None,
    };
    let assertion = param(params, "client_assertion");
    let post_secret = param(params, "client_secret");
    let form_id = param(params, "client_id");
    let used = [basic.is_some(), assertion.is_some(), post_secret.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if used > 1 {
        return Err(oauth_error(
            "invalid_request",
            "more than one client authentication method was used",
        ));
    }
    let (presented, client_id) = if let Some((id, _)) = &basic {
        (AuthMethod::ClientSecretBasic, id.clone())
    } else if let Some(a) = assertion {
        if param(params, "client_assertion_type") != Some(JWT_BEARER_ASSERTION_TYPE) {
            return Err(oauth_error(
                "invalid_client",
                format!("client_assertion_type must be {JWT_BEARER_ASSERTION_TYPE}"),
            ));
        }
        let id = form_id
            .map(str::to_owned)
            .or_else(|| jwt::unverified_issuer(a))
            .ok_or_else(|| oauth_error("invalid_client", "client_assertion has no iss"))?;
        (AuthMethod::PrivateKeyJwt, id)
    } else if post_secret.is_some() {
        let id = form_id.ok_or_else(|| {
            oauth_error("invalid_client", "client_id is required with client_secret")
        })?;
        (AuthMethod::ClientSecretPost, id.to_owned())
    } else {
        let id = form_id.ok_or_else(|| {
            oauth_error(
                "invalid_client",
                "no client authentication and no client_id",
            )
        })?;
        (AuthMethod::None, id.to_owned())
    };
    if let Some(f) = form_id {
        if f != client_id {
            return Err(oauth_error(
                "invalid_client",
                "client_id does not match the authenticated client",
            ));
        }
    }
    let fail = |d: String| {
        if presented == AuthMethod::ClientSecretBasic {
            basic_fail(d)
        } else {
            oauth_error("invalid_client", d)
        }
    };
    let client = lock_state(shared)
        .client(cfg, &client_id)
        .ok_or_else(|| fail(format!("unknown client {client_id}")))?;
    if client.method != presented {
        return Err(fail(format!(
            "client {client_id} must authenticate with {}, not {}",
            client.method.as_str(),
            presented.as_str()
        )));
    }
    match presented {
        AuthMethod::None => {}
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
            let given = basic
                .as_ref()
                .map(|(_, s)| s.as_str())
                .or(post_secret)
                .unwrap_or("");
            if client.secret.as_deref() != Some(given) {
                return Err(fail("invalid client secret".into()));
            }
        }
        AuthMethod::PrivateKeyJwt => {
            let key = client
                .jwt_key
                .as_ref()
                .ok_or_else(|| fail("the client has no registered key".into()))?;
            let issuer = urls.issuer.clone();
            let audiences = vec![
                format!("{issuer}/"),
                urls.advertised_issuer(cfg),
                urls.endpoint(cfg, "token"),
                issuer,
            ];
            let verified = jwt::verify_assertion(
                assertion.unwrap_or_default(),
                key,
                &client_id,
                &audiences,
                unix_now(),
            )
            .map_err(fail)?;
            if let Some(jti) = verified.jti {
                if !lock_state(shared)
                    .jtis
                    .insert(format!("{client_id}\n{jti}"))
                {
                    return Err(fail("client_assertion jti was already used".into()));
                }
            }
        }
    }
    Ok(client)
}

fn token(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    match token_inner(shared, cfg, urls, req) {
        Ok(doc) => Response::json(200, &patched(doc, cfg.faults.token_response_patch.as_ref()))
            .header("cache-control", "no-store")
            .header("pragma", "no-cache"),
        Err(e) => e.into_response(),
    }
}

/// RFC 7009 §2: authenticate the client like the token endpoint, then revoke `token` if it
/// is one of this client's. A refresh token takes its whole grant with it (§2.1: the access
/// tokens of the grant SHOULD be invalidated too). An unknown token is a success (§2.2).
fn revoke(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    let result = (|| {
        let params = token_params(req)?;
        let client = authenticate(shared, cfg, urls, req, &params)?;
        let token = param(&params, "token")
            .ok_or_else(|| oauth_error("invalid_request", "token is required"))?;
        let hint = param(&params, "token_type_hint");
        if hint.is_some_and(|h| h != "access_token" && h != "refresh_token") {
            return Err(oauth_error(
                "unsupported_token_type",
                "token_type_hint must be access_token or refresh_token",
            ));
        }
        let mut st = lock_state(shared);
        st.refresh_stats.revocation_requests += 1;
        if let Some(grant) = st
            .refresh
            .get(token)
            .map(|r| (r.client_id.clone(), r.grant))
        {
            if grant.0 != client.client_id {
                return Err(oauth_error(
                    "invalid_request",
                    "the token was not issued to this client",
                ));
            }
            let before = st.access.len();
            st.revoke_grant(grant.1);
            let dropped = before - st.access.len();
            st.refresh_stats.refresh_tokens_revoked += 1;
            st.refresh_stats.access_tokens_revoked += dropped;
        } else if let Some(owner) = st.access.get(token).map(|a| a.client_id.clone()) {
            if owner != client.client_id {
                return Err(oauth_error(
                    "invalid_request",
                    "the token was not issued to this client",
                ));
            }
            st.access.remove(token);
            st.refresh_stats.access_tokens_revoked += 1;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Response::new(200).header("cache-control", "no-store"),
        Err(e) => e.into_response(),
    }
}

fn verifier_ok(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn token_inner(
    shared: &Shared,
    cfg: &DemoConfig,
    urls: &Urls,
    req: &Request,
) -> Result<Value, OAuthError> {
    let params = token_params(req)?;
    let grant = param(&params, "grant_type")
        .ok_or_else(|| oauth_error("invalid_request", "grant_type is required"))?
        .to_owned();
    *lock_state(shared)
        .grant_hits
        .entry(grant.clone())
        .or_default() += 1;
    if !matches!(
        grant.as_str(),
        "authorization_code" | "refresh_token" | "client_credentials"
    ) || (!cfg.grant_types_supported.is_empty() && !cfg.grant_types_supported.contains(&grant))
    {
        return Err(oauth_error(
            "unsupported_grant_type",
            format!("grant_type {grant} is not supported"),
        ));
    }
    let client = authenticate(shared, cfg, urls, req, &params)?;
    let resource = param(&params, "resource");
    let ttl = cfg.token_ttl_secs;
    // RFC 9449 §4.3, §5: a valid proof binds the issued tokens to its key.
    let proof_jkt = match req.header("dpop") {
        Some(proof) => {
            let url = urls.endpoint(cfg, "token");
            let mut st = lock_state(shared);
            let st = &mut *st;
            let checked =
                dpop::verify_proof(proof, "POST", &url, None, unix_now(), &mut st.dpop_jtis);
            match checked {
                Ok(jkt) => Some(jkt),
                Err(e) => {
                    st.dpop_stats.invalid_proofs += 1;
                    return Err(oauth_error("invalid_dpop_proof", e));
                }
            }
        }
        None => None,
    };

    let (scope, resource, with_refresh, grant_id) = match grant.as_str() {
        "authorization_code" => {
            let code = param(&params, "code")
                .ok_or_else(|| oauth_error("invalid_request", "code is required"))?;
            let mut st = lock_state(shared);
            let Some(grant) = st.codes.remove(code) else {
                let why = if st.used_codes.contains(code) {
                    "the authorization code was already used"
                } else {
                    "unknown authorization code"
                };
                return Err(oauth_error("invalid_grant", why));
            };
            st.used_codes.insert(code.to_owned());
            drop(st);
            if Instant::now() >= grant.expires_at {
                return Err(oauth_error(
                    "invalid_grant",
                    "the authorization code expired",
                ));
            }
            if grant.client_id != client.client_id {
                return Err(oauth_error(
                    "invalid_grant",
                    "the code was issued to another client",
                ));
            }
            if param(&params, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return Err(oauth_error(
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                ));
            }
            if let Some(challenge) = &grant.code_challenge {
                let verifier = param(&params, "code_verifier")
                    .ok_or_else(|| oauth_error("invalid_grant", "code_verifier is required"))?;
                if !verifier_ok(verifier) {
                    return Err(oauth_error(
                        "invalid_grant",
                        "code_verifier must be 43-128 unreserved characters",
                    ));
                }
                let computed = if grant.code_challenge_method == "S256" {
                    URL_SAFE_NO_PAD.encode(ring::digest::digest(
                        &ring::digest::SHA256,
                        verifier.as_bytes(),
                    ))
                } else {
                    verifier.to_owned()
                };
                if computed != *challenge {
                    return Err(oauth_error(
                        "invalid_grant",
                        "code_verifier does not match code_challenge",
                    ));
                }
            }
            if let (Some(a), Some(b)) = (resource, grant.resource.as_deref()) {
                if a != b {
                    return Err(oauth_error(
                        "invalid_target",
                        "resource differs from the authorization request's",
                    ));
                }
            }
            let resource = resource.map(str::to_owned).or(grant.resource);
            (grant.scope, resource, cfg.issue_refresh_tokens, None)
        }
        "refresh_token" => {
            if cfg.faults.refresh_invalid_grant {
                return Err(oauth_error(
                    "invalid_grant",
                    "the refresh token is invalid (injected fault)",
                ));
            }
            let rt = param(&params, "refresh_token")
                .ok_or_else(|| oauth_error("invalid_request", "refresh_token is required"))?;
            let mut st = lock_state(shared);
            let Some(old) = st.refresh.get(rt).cloned() else {
                let why = match st.rotated.get(rt).copied() {
                    Some(grant) if cfg.refresh_reuse_detection => {
                        st.refresh_stats.reuse_detections += 1;
                        if st.revoke_grant(grant) {
                            st.refresh_stats.revocations += 1;
                        }
                        "the refresh token was already used: the grant is revoked"
                    }
                    Some(_) => "the refresh token was already used (rotated)",
                    None => "unknown refresh token",
                };
                return Err(oauth_error("invalid_grant", why));
            };
            if old.client_id != client.client_id {
                return Err(oauth_error(
                    "invalid_grant",
                    "the refresh token was issued to another client",
                ));
            }
            if let Some(bound) = &old.jkt {
                // RFC 9449 §5: the refresh token of a public client is bound to the key of the
                // proof it was issued with; it is not consumed by a refused attempt.
                if proof_jkt.as_ref() != Some(bound) {
                    st.dpop_stats.key_mismatches += 1;
                    return Err(oauth_error(
                        "invalid_grant",
                        "the refresh token is bound to another DPoP key",
                    ));
                }
                st.dpop_stats.bound_refreshes += 1;
            }
            let scope = match param(&params, "scope") {
                Some(s) => {
                    let have = split_scope(&old.scope);
                    if !split_scope(s).iter().all(|x| have.contains(x)) {
                        return Err(oauth_error(
                            "invalid_scope",
                            "a refresh cannot widen the scope",
                        ));
                    }
                    split_scope(s).join(" ")
                }
                None => old.scope.clone(),
            };
            if let (Some(a), Some(b)) = (resource, old.resource.as_deref()) {
                if a != b {
                    return Err(oauth_error(
                        "invalid_target",
                        "resource differs from the original grant's",
                    ));
                }
            }
            st.refresh.remove(rt);
            st.rotated.insert(rt.to_owned(), old.grant);
            st.refresh_stats.refreshes += 1;
            let resource = resource.map(str::to_owned).or(old.resource);
            (scope, resource, true, Some(old.grant))
        }
        _ => {
            // client_credentials
            if client.method == AuthMethod::None {
                return Err(oauth_error(
                    "unauthorized_client",
                    "client_credentials needs a confidential client",
                ));
            }
            (
                grant_scope(cfg, param(&params, "scope")),
                resource.map(str::to_owned),
                false,
                None,
            )
        }
    };

    let mut st = lock_state(shared);
    let (access, refresh) = st.mint(
        &client.client_id,
        &scope,
        resource.as_deref(),
        ttl,
        with_refresh,
        grant_id,
    );
    if let Some(jkt) = &proof_jkt {
        st.dpop_stats.bound_tokens_issued += 1;
        if let Some(t) = st.access.get_mut(&access) {
            t.jkt = Some(jkt.clone());
        }
        // Public clients only (§5); a confidential client authenticates its refreshes.
        if client.method == AuthMethod::None {
            if let Some(r) = refresh.as_ref().and_then(|r| st.refresh.get_mut(r)) {
                r.jkt = Some(jkt.clone());
            }
        }
    }
    drop(st);
    let mut doc = json!({
        "access_token": access,
        "token_type": if proof_jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": ttl,
    });
    if let Some(rt) = refresh {
        doc["refresh_token"] = json!(rt);
    }
    if !scope.is_empty() {
        doc["scope"] = json!(scope);
    }
    Ok(doc)
}
