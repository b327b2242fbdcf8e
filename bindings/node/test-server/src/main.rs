//! `mcp-auth-node-test-server`: the loopback demo server (`mcp-auth-demo-server`'s library)
//! with a control channel, so that the Node package's tests can read the server's own counters
//! and inject faults and latency while a flow runs.
//!
//! Prints `listening on http://127.0.0.1:PORT/mcp`, then reads one command per line on stdin and
//! answers each with one line of JSON on stdout; exits at end of input.
//!
//! | command | effect / answer |
//! |---|---|
//! | `info` | `{"mcp_url","issuer","prm_url","token_endpoint"}` |
//! | `count PATH` | `{"count":N}`: requests to `PATH` since the last `reset` |
//! | `grants GRANT_TYPE` | `{"count":N}`: token requests with that `grant_type` |
//! | `revocations` | `{"requests","refresh_tokens","access_tokens"}`: what `/revoke` (RFC 7009) did |
//! | `streams` | `{"started","completed","abandoned","bytes_sent","events_sent"}`: the streamed responses (`big`, `ticker`) |
//! | `reset` | zero the counters |
//! | `expire` | every access token issued so far is expired (refresh tokens stay valid) |
//! | `revoke` | every access and refresh token issued so far is revoked |
//! | `drip PATH TIMES INTERVAL_MS STATUS CONTENT_TYPE BODY` | answer `PATH` with `BODY` (the rest of the line), one byte every `INTERVAL_MS` |
//! | `fault PATH TIMES STATUS BODY` | answer `PATH` with `STATUS` and the JSON `BODY` |
//! | `authorize_error ERROR` | the authorization endpoint redirects with `error=ERROR` (`none` to stop) |
//! | `always_unauthorized true\|false` | the MCP endpoint answers 401 to every token |
//! | `reuse_detection true\|false` | a refresh token presented twice revokes its grant (RFC 9700 §4.14.2) |
//! | `refreshes` | `{"refreshes","reuse_detections","revocations"}`: the refresh grants and what reuse detection did |
//! | `clear` | remove every fault |
//!
//! A malformed command answers `{"error":"…"}`.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use mcp_auth_demo_server::{DemoConfig, DemoServer, FaultAction, RouteFault};
use serde_json::{Value, json};

fn main() -> ExitCode {
    let config = DemoConfig {
        record_requests: false,
        ..DemoConfig::default()
    };
    let server = match DemoServer::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mcp-auth-node-test-server: cannot listen: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "listening on {}", server.mcp_url())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(1);
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = command(&server, line.trim()).unwrap_or_else(|e| json!({ "error": e }));
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
    ExitCode::SUCCESS
}

fn ok() -> Value {
    json!({ "ok": true })
}

fn number<T: std::str::FromStr>(word: Option<&str>, what: &str) -> Result<T, String> {
    word.and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("{what}: a number is expected"))
}

fn command(server: &DemoServer, line: &str) -> Result<Value, String> {
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let mut words = rest.splitn(2, ' ');
    match verb {
        "info" => Ok(json!({
            "mcp_url": server.mcp_url(),
            "issuer": server.issuer(),
            "prm_url": server.prm_url(),
            "token_endpoint": server.token_endpoint(),
        })),
        "count" => Ok(json!({ "count": server.count(rest) })),
        "grants" => Ok(json!({ "count": server.grant_count(rest) })),
        "revocations" => {
            let r = server.revocation_counters();
            Ok(json!({
                "requests": r.requests,
                "refresh_tokens": r.refresh_tokens,
                "access_tokens": r.access_tokens,
            }))
        }
        "streams" => {
            let c = server.stream_counters();
            Ok(json!({
                "started": c.started,
                "completed": c.completed,
                "abandoned": c.abandoned,
                "bytes_sent": c.bytes_sent,
                "events_sent": c.events_sent,
            }))
        }
        "reset" => {
            server.reset_counters();
            Ok(ok())
        }
        "expire" => {
            server.expire_all_tokens();
            Ok(ok())
        }
        "revoke" => {
            server.revoke_all_tokens();
            Ok(ok())
        }
        "drip" => {
            let mut w = rest.splitn(6, ' ');
            let path = w.next().ok_or("drip: PATH")?;
            let times: usize = number(w.next(), "drip TIMES")?;
            let interval: u64 = number(w.next(), "drip INTERVAL_MS")?;
            let status: u16 = number(w.next(), "drip STATUS")?;
            let content_type = w.next().ok_or("drip: CONTENT_TYPE")?;
            let body = w.next().unwrap_or("");
            server.add_fault(
                RouteFault::new(
                    path,
                    FaultAction::Drip {
                        status,
                        content_type: content_type.to_owned(),
                        body: body.as_bytes().to_vec(),
                        interval: Duration::from_millis(interval),
                    },
                )
                .times(times),
            );
            Ok(ok())
        }
        "fault" => {
            let mut w = rest.splitn(4, ' ');
            let path = w.next().ok_or("fault: PATH")?;
            let times: usize = number(w.next(), "fault TIMES")?;
            let status: u16 = number(w.next(), "fault STATUS")?;
            let body: Value = serde_json::from_str(w.next().unwrap_or("{}"))
                .map_err(|e| format!("fault: BODY is not JSON: {e}"))?;
            server.add_fault(RouteFault::new(path, FaultAction::json(status, &body)).times(times));
            Ok(ok())
        }
        "authorize_error" => {
            let error = words.next().filter(|e| *e != "none").map(str::to_owned);
            server.update(|c| c.faults.authorize_error = error);
            Ok(ok())
        }
        "always_unauthorized" => {
            let on = words.next() == Some("true");
            server.update(|c| c.faults.mcp_always_unauthorized = on);
            Ok(ok())
        }
        "clear" => {
            server.clear_faults();
            Ok(ok())
        }
        "reuse_detection" => {
            let on = words.next() == Some("true");
            server.update(|c| c.refresh_reuse_detection = on);
            Ok(ok())
        }
        "refreshes" => {
            let r = server.refresh_counters();
            Ok(json!({
                "refreshes": r.refreshes,
                "reuse_detections": r.reuse_detections,
                "revocations": r.revocations,
            }))
        }
        other => Err(format!("unknown command {other:?}")),
    }
}
