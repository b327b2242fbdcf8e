//! Shared helpers for the flow tests: a client wired to a loopback demo server, with its trace
//! recorded.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_auth::trace::TraceEvent;
use mcp_auth::{Client, ClientBuilder, Error};
use mcp_auth_demo_server::{DemoConfig, DemoServer, RecordedRequest};

pub struct Harness {
    pub server: DemoServer,
    pub trace: Arc<Mutex<Vec<TraceEvent>>>,
}

impl Harness {
    pub fn start(config: DemoConfig) -> Harness {
        Harness {
            server: DemoServer::start(config).expect("demo server starts"),
            trace: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn topology(name: &str) -> Harness {
        Self::start(DemoConfig::topology(name).unwrap_or_else(|| panic!("topology {name}")))
    }

    /// A builder for the demo server's MCP URL with the trace recorder and a short timeout.
    pub fn builder(&self) -> ClientBuilder {
        let trace = self.trace.clone();
        Client::builder(&self.server.mcp_url())
            .headless()
            .client_name("flow-test")
            .timeout(Duration::from_secs(10))
            .observer(Arc::new(move |e: &TraceEvent| {
                trace.lock().unwrap().push(e.clone())
            }))
    }

    pub fn client(&self) -> Client {
        self.builder().build().expect("client builds")
    }

    /// `"METHOD /path"` of every request the server saw.
    pub fn lines(&self) -> Vec<String> {
        self.server.request_lines()
    }

    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.server.requests_to(path)
    }

    pub fn only(&self, path: &str) -> RecordedRequest {
        let mut r = self.requests_to(path);
        assert_eq!(
            r.len(),
            1,
            "exactly one request to {path}: {:?}",
            self.lines()
        );
        r.remove(0)
    }
}

/// One JSON-RPC call; returns the parsed message.
pub fn rpc(
    client: &Client,
    id: u64,
    method: &str,
    params: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let response = client.post_json(body.to_string())?;
    assert_eq!(
        response.status,
        200,
        "{method}: {}",
        String::from_utf8_lossy(&response.body)
    );
    Ok(response
        .json_message()
        .expect("JSON-RPC message in the body"))
}

pub fn initialize(client: &Client) -> Result<serde_json::Value, Error> {
    rpc(
        client,
        1,
        "initialize",
        serde_json::json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    )
}

pub fn call_tool(client: &Client, name: &str) -> Result<serde_json::Value, Error> {
    rpc(
        client,
        3,
        "tools/call",
        serde_json::json!({"name": name, "arguments": {"text": "hi"}}),
    )
}

/// `BASE64URL(SHA256(verifier)) == challenge` (RFC 7636 §4.6).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    mcp_auth::pkce::code_challenge_s256(verifier) == challenge
}

pub fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}
