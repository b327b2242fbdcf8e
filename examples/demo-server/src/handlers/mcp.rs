//! The resource server: the MCP endpoint, its Bearer/DPoP challenges and the JSON-RPC methods.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{SUPPORTED_PROTOCOL_VERSIONS, Urls, lock_state, split_scope};
use crate::Shared;
use crate::config::DemoConfig;
use crate::dpop;
use crate::http::{Request, Response};
use crate::state::{AccessToken, unix_now};
use crate::stream::{MAX_BIG_BYTES, MAX_TICKS, Produce};

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

/// Why a request's DPoP binding is refused.
enum Refused {
    /// 401 `invalid_token` with this description.
    Token(String),
    /// 401 `use_dpop_nonce` (RFC 9449 §9): the proof lacks the current nonce, given here.
    Nonce(String),
}

impl From<String> for Refused {
    fn from(why: String) -> Self {
        Refused::Token(why)
    }
}

impl From<&str> for Refused {
    fn from(why: &str) -> Self {
        Refused::Token(why.to_owned())
    }
}

/// RFC 9449 §9: the resource server demands `nonce` in the proof.
fn nonce_demand(nonce: &str) -> Response {
    Response::json(
        401,
        &json!({"error": "use_dpop_nonce", "error_description": "Resource server requires nonce in DPoP proof"}),
    )
    .header(
        "www-authenticate",
        r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256""#,
    )
    .header("dpop-nonce", nonce)
}

/// RFC 9449 §7.1: a DPoP-bound token comes with the `DPoP` scheme and a proof of its key
/// (`ath` = the token's hash); a Bearer token must not claim the `DPoP` scheme. With
/// [`DemoConfig::dpop_nonce`] the proof must also carry the current server nonce (§9).
fn check_dpop_binding(
    shared: &Shared,
    urls: &Urls,
    cfg: &DemoConfig,
    req: &Request,
    token: &str,
    dpop_scheme: bool,
    info: &AccessToken,
) -> Result<(), Refused> {
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
        Ok((jkt, nonce)) if jkt == *bound => {
            if cfg.dpop_nonce {
                let current = st.dpop_nonce.current();
                if nonce.as_deref() != Some(current.as_str()) {
                    st.dpop_stats.nonce_demands += 1;
                    return Err(Refused::Nonce(current));
                }
                st.dpop_nonce.used();
            }
            st.refresh_stats.dpop_requests += 1;
            Ok(())
        }
        Ok(_) => {
            st.dpop_stats.invalid_proofs += 1;
            Err("The DPoP proof uses another key than the token's".into())
        }
        Err(e) => {
            st.dpop_stats.invalid_proofs += 1;
            Err(e.into())
        }
    }
}

pub(super) fn mcp(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
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
        match check_dpop_binding(shared, urls, cfg, req, token, dpop_scheme, &info) {
            Ok(()) => {}
            Err(Refused::Token(why)) => return unauthorized(cfg, urls, &why),
            Err(Refused::Nonce(nonce)) => return nonce_demand(&nonce),
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
    if req.method == "GET" {
        return get_stream(req, accepts_sse);
    }
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
    if let Some(resp) = streamed_tool(&msg, accepts_sse) {
        return resp;
    }
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

/// `GET` on the MCP endpoint: a stream of server-initiated `notifications/message` events,
/// `count` of them (query `count`, default 3) one per `interval_ms` (default 100), then the end.
fn get_stream(req: &Request, accepts_sse: bool) -> Response {
    if !accepts_sse {
        return Response::json(
            406,
            &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000,
                "message": "Not Acceptable: a GET stream needs Accept: text/event-stream"}}),
        );
    }
    let query = req.query.as_deref().unwrap_or("");
    let number = |name: &str, default: u64| {
        form_urlencoded_pairs(query)
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let count = number("count", 3).min(MAX_TICKS);
    let interval = Duration::from_millis(number("interval_ms", 100).min(60_000));
    event_stream().produce(Produce::messages(count, interval))
}

fn form_urlencoded_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        Some((k.to_owned(), v.to_owned()))
    })
}

fn event_stream() -> Response {
    Response::new(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
}

/// The tools whose results are produced over time: `big` (`{"bytes": N}`: a text result of N
/// bytes, as `application/json` with a `Content-Length`) and `ticker` (`{"count": N,
/// "interval_ms": M}`: N `notifications/progress` events M ms apart, then the result, as
/// `text/event-stream`). `None` for every other message.
fn streamed_tool(msg: &Value, accepts_sse: bool) -> Option<Response> {
    if msg.get("method").and_then(Value::as_str) != Some("tools/call") {
        return None;
    }
    let id = msg.get("id")?;
    let params = msg.get("params")?;
    let args = params.get("arguments").cloned().unwrap_or(json!({}));
    let number = |name: &str| args.get(name).and_then(Value::as_u64);
    match params.get("name").and_then(Value::as_str)? {
        "big" => {
            let Some(bytes) = number("bytes").filter(|b| *b <= MAX_BIG_BYTES) else {
                let m = format!("big needs an integer argument `bytes` up to {MAX_BIG_BYTES}");
                return Some(Response::json(200, &rpc_error(id, -32602, &m)));
            };
            Some(
                Response::new(200)
                    .header("content-type", "application/json")
                    .produce(Produce::big(id, bytes)),
            )
        }
        "ticker" => {
            if !accepts_sse {
                let m = "ticker answers as text/event-stream: send Accept: text/event-stream";
                return Some(Response::json(200, &rpc_error(id, -32602, m)));
            }
            let count = number("count").unwrap_or(5).min(MAX_TICKS);
            let interval = Duration::from_millis(number("interval_ms").unwrap_or(100).min(60_000));
            let token = params
                .pointer("/_meta/progressToken")
                .cloned()
                .unwrap_or_else(|| id.clone());
            Some(event_stream().produce(Produce::ticker(id, count, interval, token)))
        }
        _ => None,
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
            "name": "big",
            "description": "Returns a text result of `bytes` bytes, written as it is produced.",
            "inputSchema": {
                "type": "object",
                "properties": {"bytes": {"type": "integer", "minimum": 0}},
                "required": ["bytes"]
            }
        },
        {
            "name": "ticker",
            "description": "Streams `count` progress notifications `interval_ms` apart (text/event-stream), then its result.",
            "inputSchema": {
                "type": "object",
                "properties": {"count": {"type": "integer"}, "interval_ms": {"type": "integer"}}
            }
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
