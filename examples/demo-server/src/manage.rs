//! RFC 7592 client configuration (`PUT /register/{client_id}`) and the registered-scope rule
//! ([`DemoConfig::registration_management`], [`DemoConfig::enforce_registered_scope`]).

use serde_json::{Map, Value, json};

use crate::Shared;
use crate::config::DemoConfig;
use crate::handlers::Urls;
use crate::http::{Request, Response};
use crate::state::{Client, random_token};

/// The RFC 7592 members of a registration response for `client_id`, when management is on:
/// `registration_client_uri` and a new `registration_access_token` (also returned, to keep).
pub(crate) fn management_members(
    cfg: &DemoConfig,
    urls: &Urls,
    doc: &mut Value,
    client_id: &str,
) -> Option<String> {
    if !cfg.registration_management {
        return None;
    }
    let token = random_token("rat_");
    let prefix = cfg.effective_endpoint_prefix();
    doc["registration_client_uri"] = json!(format!("{}{prefix}/register/{client_id}", urls.origin));
    doc["registration_access_token"] = json!(token);
    Some(token)
}

/// Whether `requested` (space-separated) asks for a scope outside `client`'s registered scope
/// (only for dynamic clients that registered one, and only when the rule is on).
pub(crate) fn outside_registered_scope(
    cfg: &DemoConfig,
    client: &Client,
    requested: Option<&str>,
) -> Option<String> {
    if !cfg.enforce_registered_scope || !client.dynamic {
        return None;
    }
    let registered = client.scope.as_deref()?;
    let outside: Vec<&str> = requested
        .unwrap_or("")
        .split_whitespace()
        .filter(|s| !registered.split_whitespace().any(|r| r == *s))
        .collect();
    (!outside.is_empty()).then(|| {
        format!(
            "scope {} is not registered for this client (registered: {registered})",
            outside.join(" ")
        )
    })
}

fn error(status: u16, code: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({"error": code, "error_description": description}),
    )
}

/// `PUT /register/{client_id}` (RFC 7592 §2.2): the bearer `registration_access_token`
/// authorizes it; the body is the full new metadata with the same `client_id` (and the
/// `client_secret`, if sent, must be the current one). `redirect_uris` and `scope` are
/// replaced; the answer is the registered metadata, with the same secret and token.
pub(crate) fn update(shared: &Shared, client_id: &str, req: &Request) -> Response {
    let bearer = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let mut state = crate::handlers::lock_state(shared);
    let Some(client) = state.clients.get_mut(client_id) else {
        return error(401, "invalid_token", "unknown client");
    };
    if bearer.is_none() || bearer != client.registration_access_token {
        return error(401, "invalid_token", "registration_access_token required");
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
        return error(
            400,
            "invalid_client_metadata",
            "the body must be a JSON object",
        );
    };
    if body.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return error(
            400,
            "invalid_request",
            "client_id must match the registration",
        );
    }
    if let Some(secret) = body.get("client_secret").and_then(Value::as_str) {
        if client.secret.as_deref() != Some(secret) {
            return error(400, "invalid_request", "client_secret does not match");
        }
    }
    for forbidden in ["registration_access_token", "registration_client_uri"] {
        if body.contains_key(forbidden) {
            return error(
                400,
                "invalid_request",
                &format!("{forbidden} must not be sent"),
            );
        }
    }
    let uris: Option<Vec<String>> = body
        .get("redirect_uris")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        });
    if let Some(uris) = uris {
        client.redirect_uris = uris;
    }
    client.scope = body.get("scope").and_then(Value::as_str).map(str::to_owned);
    let mut doc: Map<String, Value> = client.metadata.clone();
    for (k, v) in body {
        doc.insert(k, v);
    }
    doc.insert(
        "token_endpoint_auth_method".into(),
        json!(client.method.as_str()),
    );
    if let Some(s) = &client.secret {
        doc.insert("client_secret".into(), json!(s));
    }
    client.metadata = doc.clone();
    let mut answer = Value::Object(doc);
    if let (Some(uri), Some(token)) = (
        client
            .metadata
            .get("registration_client_uri")
            .and_then(Value::as_str),
        &client.registration_access_token,
    ) {
        answer["registration_client_uri"] = json!(uri);
        answer["registration_access_token"] = json!(token);
    }
    Response::json(200, &answer).header("cache-control", "no-store")
}
