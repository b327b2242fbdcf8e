//! MCP traffic is not OAuth traffic: `Client::send_streamed` reads a 50 MiB tool result and a
//! 60-second `text/event-stream` as they arrive, after the authorization flow ran on the
//! first 401, with the OAuth timeout (30 s) and cap (1 MiB) not applied. Progress is checked
//! on the demo server's side (`DemoServer::stream_counters`: the server hands the body to the
//! connection a chunk at a time, so "the client had its first bytes before the server
//! finished" is proven by the server's count, not by a clock). Bounded memory is measured on a
//! child process that runs one test alone (its own `VmHWM`).

mod common;

use std::io::Read;
use std::time::Duration;

use common::Harness;
use mcp_auth::client::{MCP_ACCEPT, ResponseStream};
use mcp_auth::http::HttpConfig;
use mcp_auth::{Client, ErrorKind};
use mcp_auth_demo_server::DemoConfig;
use serde_json::{Value, json};

const MIB: u64 = 1024 * 1024;
const PATTERN: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

/// The SSE test's length in seconds (the issue's 60 s; `MCPAUTH_TEST_SSE_SECS` shortens it for
/// a local run).
fn sse_seconds() -> u64 {
    std::env::var("MCPAUTH_TEST_SSE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

fn call(client: &Client, name: &str, arguments: Value) -> http::Request<Vec<u8>> {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}});
    http::Request::post(client.config().server_url.as_str())
        .header("content-type", "application/json")
        .header("accept", MCP_ACCEPT)
        .body(body.to_string().into_bytes())
        .unwrap()
}

/// Reads a `big` result of `bytes` bytes through a 64 KiB buffer, checking the JSON framing and
/// every byte of the pattern; calls `after_first_mib` once the first MiB has been read.
fn read_big(mut stream: ResponseStream, bytes: u64, mut after_first_mib: impl FnMut()) {
    let prefix = br#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":""#;
    let suffix = br#""}]}}"#;
    let total = prefix.len() as u64 + bytes + suffix.len() as u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    let mut head = Vec::new();
    let mut tail = Vec::new();
    let mut called = false;
    loop {
        let n = stream
            .read(&mut buf)
            .map_err(ResponseStream::error_of)
            .unwrap();
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            if offset < prefix.len() as u64 {
                head.push(b);
            } else if offset < prefix.len() as u64 + bytes {
                let i = (offset - prefix.len() as u64) as usize;
                assert_eq!(b, PATTERN[i % PATTERN.len()], "byte {offset} of the body");
            } else {
                tail.push(b);
            }
            offset += 1;
        }
        if !called && offset >= MIB {
            called = true;
            after_first_mib();
        }
    }
    assert_eq!(offset, total, "the whole body arrived");
    assert_eq!(head, prefix);
    assert_eq!(tail, suffix);
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[test]
fn a_50_mib_tool_result_is_read_as_it_arrives_after_the_flow() {
    let h = Harness::start(DemoConfig::default());
    let client = h.client();
    let bytes = 50 * MIB;
    // No token yet: the first answer is a 401, the flow runs, then the stream starts.
    let stream = client
        .send_streamed(call(&client, "big", json!({"bytes": bytes})))
        .unwrap();
    assert_eq!(stream.status, 200);
    assert_eq!(stream.authorizations, 1, "the flow ran on the first 401");
    assert!(stream.challenge.is_some(), "the 401 challenge is kept");
    assert!(!stream.is_event_stream());
    let server = &h.server;
    read_big(stream, bytes, || {
        let c = server.stream_counters();
        assert_eq!(c.started, 1);
        assert_eq!(
            c.completed, 0,
            "the client read its first MiB before the server had produced the whole body: {c:?}"
        );
        assert!(c.bytes_sent < bytes, "{c:?}");
    });
    let c = h.server.stream_counters();
    assert_eq!((c.started, c.completed, c.abandoned), (1, 1, 0), "{c:?}");
    assert!(c.bytes_sent > bytes);
}

/// Run in a child process by [`reading_50_mib_keeps_memory_bounded`]: only this test runs
/// there, so the process's peak RSS is this read's.
#[test]
fn child_reads_50_mib() {
    if std::env::var_os("MCPAUTH_STREAM_CHILD").is_none() {
        return;
    }
    let h = Harness::start(DemoConfig::default());
    let client = h.client();
    common::initialize(&client).unwrap();
    let before = vm_rss_kib();
    let stream = client
        .send_streamed(call(&client, "big", json!({"bytes": 50 * MIB})))
        .unwrap();
    read_big(stream, 50 * MIB, || {});
    println!(
        "MCPAUTH_STREAM_RSS_BEFORE={before} MCPAUTH_STREAM_HWM={}",
        vm_hwm_kib()
    );
}

#[test]
fn reading_50_mib_keeps_memory_bounded() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_reads_50_mib",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MCPAUTH_STREAM_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |name: &str| -> u64 {
        stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in the child's output: {stdout}"))
    };
    let before = field("MCPAUTH_STREAM_RSS_BEFORE=");
    let peak = field("MCPAUTH_STREAM_HWM=");
    // Buffering the body would add 50 MiB; reading it through a 64 KiB buffer adds little
    // (the peak also covers the server thread's chunks and the flow before the read).
    assert!(
        peak.saturating_sub(before) < 16 * 1024,
        "peak RSS grew by {} KiB while reading 50 MiB (before {before} KiB, peak {peak} KiB)",
        peak.saturating_sub(before)
    );
}

#[test]
fn send_reads_a_result_past_the_oauth_cap_and_a_stream_cap_applies_when_set() {
    let h = Harness::start(DemoConfig::default());
    let client = h.client();
    let response = client
        .send(call(&client, "big", json!({"bytes": 3 * MIB})))
        .unwrap();
    assert_eq!(response.status, 200);
    let message = response.json_message().unwrap();
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        text.len() as u64,
        3 * MIB,
        "more than the OAuth cap (1 MiB)"
    );

    let capped = h
        .builder()
        .http_config(HttpConfig {
            stream_max_body_bytes: Some(2 * MIB),
            ..HttpConfig::default()
        })
        .build()
        .unwrap();
    let err = capped
        .send(call(&capped, "big", json!({"bytes": 3 * MIB})))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    let ok = capped
        .send(call(&capped, "big", json!({"bytes": MIB})))
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[test]
fn an_event_stream_longer_than_the_oauth_timeout_is_read_event_by_event() {
    let h = Harness::start(DemoConfig {
        sse: true,
        ..DemoConfig::default()
    });
    // The OAuth timeout is 30 s by default; the stream runs for `sse_seconds()`.
    let client = h
        .builder()
        .http_config(HttpConfig::default())
        .build()
        .unwrap();
    let seconds = sse_seconds();
    let count = seconds + 1; // one at once, then one per second
    let stream = client
        .send_streamed(call(
            &client,
            "ticker",
            json!({"count": count, "interval_ms": 1000}),
        ))
        .unwrap();
    assert_eq!(stream.status, 200);
    assert!(stream.is_event_stream());
    let mut progress = Vec::new();
    let mut result = None;
    for event in stream.events() {
        let event = event.map_err(ResponseStream::error_of).unwrap();
        let message: Value = serde_json::from_str(&event.data).unwrap();
        if message["method"] == "notifications/progress" {
            let k = message["params"]["progress"].as_u64().unwrap();
            if progress.is_empty() {
                let c = h.server.stream_counters();
                assert!(
                    c.events_sent < count + 1 && c.completed == 0,
                    "the first event arrived while the server was still producing: {c:?}"
                );
            }
            progress.push(k);
        } else {
            result = Some(message);
        }
    }
    assert_eq!(progress, (1..=count).collect::<Vec<_>>());
    let result = result.expect("the result event");
    assert_eq!(result["id"], 7);
    assert_eq!(
        result["result"]["content"][0]["text"],
        format!("ticked {count}")
    );
    let c = h.server.stream_counters();
    assert_eq!((c.completed, c.events_sent), (1, count + 1), "{c:?}");
}

#[test]
fn a_get_stream_and_an_abandoned_stream() {
    let h = Harness::start(DemoConfig::default());
    let client = h.client();
    common::initialize(&client).unwrap();
    let get = http::Request::get(format!("{}?count=3&interval_ms=10", h.server.mcp_url()))
        .header("accept", "text/event-stream")
        .body(Vec::new())
        .unwrap();
    let stream = client.send_streamed(get).unwrap();
    assert_eq!(stream.status, 200);
    let events: Vec<_> = stream.events().map(|e| e.unwrap()).collect();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].id.as_deref(), Some("3"));

    // Dropping a stream closes its connection: the server sees the client go away.
    let stream = client
        .send_streamed(call(&client, "big", json!({"bytes": 200 * MIB})))
        .unwrap();
    drop(stream);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let c = h.server.stream_counters();
        if c.abandoned == 1 {
            assert!(c.bytes_sent < 200 * MIB, "{c:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never saw the dropped stream go away: {c:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
