//! A conformance-suite client over the Rust core (the C and Python clients in `examples/` are
//! the same program over the other two surfaces).
//!
//! Contract (`@modelcontextprotocol/conformance`): the server URL is the last argument;
//! `MCP_CONFORMANCE_SCENARIO` and `MCP_CONFORMANCE_CONTEXT` come from the environment. The
//! client maps the context to client options and runs `initialize`,
//! `notifications/initialized`, `tools/list` and `tools/call test-tool`. It holds no OAuth
//! logic: discovery, registration, PKCE, scopes, step-up, client authentication and retries
//! all happen inside the library.

use std::time::Duration;

use mcp_auth::{ClientOptions, Error};
use serde_json::{Value, json};

/// The CIMD URL the suite expects (basic-cimd); the library uses it only when the AS
/// advertises `client_id_metadata_document_supported`.
const CIMD_URL: &str = "https://conformance-test.local/client-metadata.json";

fn options(server_url: &str, scenario: &str, context: &Value) -> Value {
    let mut o = json!({
        "server_url": server_url,
        "client_name": "mcp-auth conformance client",
        "client_metadata_url": CIMD_URL,
        "timeout_ms": 10000,
        // The suite's authorization server approves without a login page.
        "redirect": {"type": "headless"},
    });
    if let Some(id) = context.get("client_id").and_then(Value::as_str) {
        o["client_id"] = json!(id);
        if let Some(secret) = context.get("client_secret").and_then(Value::as_str) {
            o["client_secret"] = json!(secret);
        }
        if let Some(pem) = context.get("private_key_pem").and_then(Value::as_str) {
            o["private_key_pem"] = json!(pem);
        }
        if let Some(alg) = context.get("signing_algorithm").and_then(Value::as_str) {
            o["signing_algorithm"] = json!(alg);
        }
    }
    if scenario.contains("client-credentials") {
        o["grant"] = json!("client_credentials");
    }
    // Workload identity: the context carries the JWT the workload presents (RFC 7523).
    if let Some(jwt) = context.get("valid_jwt").and_then(Value::as_str) {
        o["grant"] = json!("jwt_bearer");
        o["assertion"] = json!(jwt);
    }
    // Enterprise-managed authorization (SEP-990): the IdP side.
    if let Some(id_token) = context.get("idp_id_token").and_then(Value::as_str) {
        o["grant"] = json!("enterprise_managed");
        o["id_token"] = json!(id_token);
        o["idp_token_endpoint"] = context["idp_token_endpoint"].clone();
        o["idp_client_id"] = context["idp_client_id"].clone();
        if let Some(s) = context.get("idp_client_secret") {
            o["idp_client_secret"] = s.clone();
        }
    }
    if let Ok(v) = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION") {
        o["protocol_version"] = json!(v);
    }
    o
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let server_url = std::env::args()
        .next_back()
        .ok_or("usage: conformance_client URL")?;
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    let protocol_version =
        std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION").unwrap_or_else(|_| "2025-11-25".into());
    let opts = ClientOptions::from_json(&options(&server_url, &scenario, &context).to_string())?;
    let client = opts
        .builder()?
        .observer(std::sync::Arc::new(|e: &mcp_auth::trace::TraceEvent| {
            eprintln!("trace: {}", e.to_json())
        }))
        .build()?;

    let mut session: Option<String> = None;
    let mut send =
        |method: &str, params: Option<Value>, id: Option<u64>| -> Result<Option<Value>, Error> {
            let mut body = json!({"jsonrpc": "2.0", "method": method});
            let mut params = params;
            if protocol_version.as_str() >= "2026-07-28" {
                // 2026-07-28 wire: every message carries its protocol version and the client
                // capabilities in `_meta`.
                let p = params.get_or_insert_with(|| json!({}));
                p["_meta"] = json!({
                    "io.modelcontextprotocol/protocolVersion": protocol_version,
                    "io.modelcontextprotocol/clientCapabilities": {},
                });
            }
            if let Some(p) = params {
                body["params"] = p;
            }
            if let Some(i) = id {
                body["id"] = json!(i);
            }
            let mut req = http::Request::post(server_url.as_str())
                .header("Content-Type", "application/json")
                .header("Accept", mcp_auth::client::MCP_ACCEPT)
                .header("MCP-Protocol-Version", protocol_version.as_str())
                .header("Mcp-Method", method);
            if let Some(s) = &session {
                req = req.header("Mcp-Session-Id", s.as_str());
            }
            let req = req
                .body(body.to_string().into_bytes())
                .map_err(|e| Error::invalid_argument("request", e.to_string()))?;
            let response = client.send(req)?;
            if let Some(s) = response
                .headers
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
            {
                session = Some(s.to_owned());
            }
            eprintln!("{method} -> {}", response.status);
            if !(200..300).contains(&response.status) {
                return Err(Error::invalid_response(
                    "MCP response",
                    format!("{method} answered {}", response.status),
                    Some(response.status),
                ));
            }
            Ok(response.json_message())
        };
    // 2026-07-28 is stateless: no initialize handshake (every request carries `_meta`).
    if protocol_version.as_str() < "2026-07-28" {
        send(
            "initialize",
            Some(
                json!({"protocolVersion": protocol_version, "capabilities": {}, "clientInfo": {"name": "mcp-auth-conformance", "version": env!("CARGO_PKG_VERSION")}}),
            ),
            Some(1),
        )?;
        send("notifications/initialized", None, None)?;
    }
    send("tools/list", Some(json!({})), Some(2))?;
    send(
        "tools/call",
        Some(json!({"name": "test-tool", "arguments": {}})),
        Some(3),
    )?;
    Ok(())
}

fn main() {
    // Our own deadline, well under the suite's 30 s per scenario.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(25));
        eprintln!("conformance client: deadline reached");
        std::process::exit(3);
    });
    if let Err(e) = run() {
        eprintln!("conformance client: {e}");
        std::process::exit(1);
    }
}
