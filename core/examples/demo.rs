//! `make demo`: start the loopback demo server (an MCP resource server and OAuth
//! authorization server on 127.0.0.1), then run the whole MCP authorization flow from a cold
//! start with mcp-auth, printing each step, and finish with an authorized `tools/call`.
//!
//! Options: `--topology NAME` (see `mcp-auth-demo-server --list-topologies`).

use std::sync::Arc;
use std::time::Duration;

use mcp_auth::trace::{Outcome, TraceEvent};
use mcp_auth::{Client, Error};
use mcp_auth_demo_server::{DemoConfig, DemoServer};

fn print_event(e: &TraceEvent) {
    let mark = match e.outcome {
        Outcome::Ok => "ok  ",
        Outcome::Fallback => "next",
        Outcome::Failed => "FAIL",
    };
    let http = match (&e.method, &e.url) {
        (Some(m), Some(u)) => format!(" {m} {u}"),
        _ => String::new(),
    };
    let status = e.status.map(|s| format!(" -> {s}")).unwrap_or_default();
    println!(
        "  [{mark}] {:<30}{http}{status} ({:.2} ms)\n         {}",
        e.step.name(),
        e.duration.as_secs_f64() * 1e3,
        e.detail
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let topology = std::env::args()
        .skip_while(|a| a != "--topology")
        .nth(1)
        .unwrap_or_else(|| "default".to_owned());
    let config =
        DemoConfig::topology(&topology).ok_or_else(|| format!("unknown topology '{topology}'"))?;
    let server = DemoServer::start(config)?;
    println!("demo server: {} (topology {topology})", server.mcp_url());
    println!("issuer:      {}\n", server.issuer());

    let client = Client::builder(&server.mcp_url())
        .headless()
        .client_name("mcp-auth demo")
        .timeout(Duration::from_secs(10))
        .observer(Arc::new(print_event))
        .build()?;

    let call =
        |method: &str, params: serde_json::Value, id: u64| -> Result<serde_json::Value, Error> {
            let body =
                serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
            println!("-> {method}");
            let response = client.post_json(body.to_string())?;
            let value: serde_json::Value =
                serde_json::from_slice(&response.body).unwrap_or_default();
            println!(
                "<- {} {} (authorizations during this request: {})\n",
                response.status,
                serde_json::to_string(&value["result"]).unwrap_or_default(),
                response.authorizations
            );
            Ok(value)
        };

    call(
        "initialize",
        serde_json::json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "mcp-auth-demo", "version": env!("CARGO_PKG_VERSION")}}),
        1,
    )?;
    call("tools/list", serde_json::json!({}), 2)?;
    let result = call(
        "tools/call",
        serde_json::json!({"name": "echo", "arguments": {"text": "hello from mcp-auth"}}),
        3,
    )?;
    let text = result["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("");
    println!("tools/call result: {text}");
    println!(
        "granted scope: {}",
        client
            .granted_scope()
            .unwrap_or_else(|| "(none)".to_owned())
    );
    println!(
        "HTTP requests seen by the server: {}, TCP connections: {}",
        server.requests().len(),
        server.connections_accepted()
    );
    if text != "hello from mcp-auth" {
        return Err("unexpected tools/call result".into());
    }
    Ok(())
}
