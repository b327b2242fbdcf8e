//! The Rust column of the interop suite (`interop/run.py`): an MCP host on the core crate.
//!
//! `mcp-auth-interop-client OPTIONS_JSON CALLS PAUSE_SECS TOOL_JSON`: builds a client from the
//! options JSON (the same [`mcp_auth::ClientOptions`] the C ABI and Python accept), runs
//! `initialize`, then `CALLS` times `tools/call` with TOOL_JSON's `name` and `arguments` (an
//! array of such objects: call i uses element i, the last one repeated), pausing `PAUSE_SECS` between calls so the access
//! token expires in between (the servers issue short-lived tokens). Each result goes to stdout
//! as one line; trace events go to stderr. The suite checks the servers' logs, not this output.

use std::sync::Arc;
use std::time::Duration;

use mcp_auth::{ClientOptions, Error};
use serde_json::{Value, json};

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, options, calls, pause, tool] = args.as_slice() else {
        return Err(
            "usage: mcp-auth-interop-client OPTIONS_JSON CALLS PAUSE_SECS TOOL_JSON".into(),
        );
    };
    let tool: Value = serde_json::from_str(tool)?;
    let calls: u32 = calls.parse()?;
    let pause: f64 = pause.parse()?;
    let opts = ClientOptions::from_json(options)?;
    let server_url = opts.server_url.clone();
    let client = opts
        .builder()?
        .observer(Arc::new(|e: &mcp_auth::trace::TraceEvent| {
            eprintln!("trace: {}", e.to_json())
        }))
        .build()?;
    let mut session: Option<String> = None;
    let mut send = |method: &str, params: Value, id: Option<u64>| -> Result<Value, Error> {
        if method == "initialize" {
            session = None; // a new session
        }
        let mut body = json!({"jsonrpc": "2.0", "method": method, "params": params});
        if let Some(i) = id {
            body["id"] = json!(i);
        }
        let mut req = http::Request::post(server_url.as_str())
            .header("Content-Type", "application/json")
            .header("Accept", mcp_auth::client::MCP_ACCEPT)
            .header("MCP-Protocol-Version", "2025-11-25");
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
        if !(200..300).contains(&response.status) {
            return Err(Error::invalid_response(
                "MCP response",
                format!("{method} answered {}", response.status),
                Some(response.status),
            ));
        }
        Ok(response.json_message().unwrap_or(Value::Null))
    };
    let init = json!({"protocolVersion": "2025-11-25", "capabilities": {},
                      "clientInfo": {"name": "mcp-auth-interop", "version": "0"}});
    send("initialize", init.clone(), Some(1))?;
    send("notifications/initialized", json!({}), None)?;
    for i in 0..calls {
        if i > 0 {
            std::thread::sleep(Duration::from_secs_f64(pause));
        }
        let params = match &tool {
            Value::Array(tools) => tools
                .get(i as usize)
                .or(tools.last())
                .cloned()
                .unwrap_or(Value::Null),
            one => one.clone(),
        };
        let r = match send("tools/call", params.clone(), Some(10 + u64::from(i))) {
            // MCP 2025-11-25 (streamable HTTP): a 404 for the session means it is gone; start a
            // new one (the Python SDK binds a session to the client that created it, so a new
            // client registration ends it).
            Err(e) if e.http_status() == Some(404) => {
                eprintln!("interop client: session gone (404): initializing again");
                send("initialize", init.clone(), Some(2))?;
                send("notifications/initialized", json!({}), None)?;
                send("tools/call", params, Some(20 + u64::from(i)))?
            }
            other => other?,
        };
        println!("call {i}: {}", r["result"]);
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("interop client: {e}");
        println!("error: {e}");
        std::process::exit(1);
    }
}
