//! MCP traffic is not OAuth traffic, from C: `ffi/tests/c/stream.c` reads a 50 MiB tool result
//! through `mcpauth_stream_read` (64 KiB buffer) and a 60-second `text/event-stream` through
//! `mcpauth_stream_next_event`, with a fresh client whose flow runs on the first 401.
//!
//! The demo server runs in this process. Progress is proven on the server's side: the program
//! stops at `first-mib` (after the first MiB) and at `first-event` (after the first event) until
//! this runner has read the server's stream counters and written `go`; the server had not
//! completed the stream then (and cannot while the program waits: the server runs at most a
//! chunk ahead of the socket buffers). Bounded memory: the program's peak RSS (`VmHWM`) after
//! the read minus its RSS before must stay under 16 MiB (plain runs only: valgrind and the
//! sanitizers have their own allocators).
//!
//! `MCPAUTH_TEST_MODE` as in `c_examples.rs` (plain, `valgrind`, `asan`, `tsan`; the runner is
//! `cprog`); under valgrind and the sanitizers the result is 24 MiB (more than the sockets
//! buffer) and the stream 5 s: the protocol is the same, only a hang ends.
//! `MCPAUTH_TEST_SSE_SECS` shortens the stream for a local plain run (default 60).
//! `MCPAUTH_LIB_DIR` names a directory holding `libmcpauth.a` (default: build it).

mod cprog;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::Stdio;

use cprog::{Mode, check_reports, command_for_mode, make, mode, out_dir, root};
use mcp_auth_demo_server::{DemoConfig, DemoServer, StreamCounters};

const MIB: u64 = 1024 * 1024;

/// Build `stream.c` (through `examples/c/Makefile`, as the other C tests) and return its path.
fn build() -> PathBuf {
    make(&root().join("ffi/tests/c"), "stream");
    out_dir().join("stream")
}

fn kib_after(text: &str, key: &str) -> u64 {
    text.split_whitespace()
        .skip_while(|w| *w != key)
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {text:?}"))
}

#[test]
fn c_reads_a_large_result_and_a_long_event_stream_as_they_arrive() {
    let (bytes, seconds) = match mode() {
        Mode::Plain => (
            50 * MIB,
            std::env::var("MCPAUTH_TEST_SSE_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60u64),
        ),
        // More than the sockets can buffer (loopback autotuning reaches several MiB), so that
        // the server cannot have completed when the program stops after its first MiB.
        _ => (24 * MIB, 5),
    };
    let count = seconds + 1;
    let program = build();
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let (mut cmd, vg_log) = command_for_mode(&program, "stream");
    let mut child = cmd
        .arg(server.mcp_url())
        .env("MCPAUTH_TEST_BIG_BYTES", bytes.to_string())
        .env("MCPAUTH_TEST_SSE_SECS", seconds.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run stream");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    let mut at_first_mib = None::<StreamCounters>;
    let mut at_first_event = None::<StreamCounters>;
    for line in stdout.lines() {
        let line = line.unwrap();
        let point = match line.as_str() {
            "first-mib" => &mut at_first_mib,
            "first-event" => &mut at_first_event,
            _ => {
                text.push_str(&line);
                text.push('\n');
                continue;
            }
        };
        *point = Some(server.stream_counters());
        text.push_str(&format!("{line} {:?}\n", server.stream_counters()));
        // The program may have failed meanwhile; its output says why.
        let _ = stdin.write_all(b"go\n").and_then(|()| stdin.flush());
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    check_reports("stream", &out, vg_log);
    assert!(
        out.status.success() && text.contains("stream: ok"),
        "stream failed ({:?}):\nstdout:\n{text}\nstderr:\n{stderr}",
        out.status
    );
    eprintln!("{text}");

    // The flow ran on the first 401, before the head of the first stream.
    assert!(
        text.contains("big: status 200, authorizations 1, challenge kept, event stream no"),
        "{text}"
    );
    assert_eq!(server.count("/token"), 1, "one token for both streams");

    // The first MiB was read while the server was still producing the result.
    let c = at_first_mib.expect("the program announced its first MiB");
    assert_eq!((c.started, c.completed), (1, 0), "{c:?}");
    assert!(c.bytes_sent < bytes, "{c:?}");
    // The first event was read while the server was still producing the stream.
    let c = at_first_event.expect("the program announced its first event");
    assert_eq!((c.started, c.completed), (2, 1), "{c:?}");
    assert!(c.events_sent < count + 1, "{c:?}");

    let c = server.stream_counters();
    assert_eq!((c.started, c.completed, c.abandoned), (2, 2, 0), "{c:?}");
    assert_eq!(c.events_sent, count + 1, "{c:?}");
    assert!(c.bytes_sent > bytes, "{c:?}");
    assert!(
        text.contains(&format!(
            "ticker: {count} progress events in order, then the result"
        )),
        "{text}"
    );

    if mode() == Mode::Plain {
        let growth = kib_after(&text, "hwm-after").saturating_sub(kib_after(&text, "rss-before"));
        eprintln!("C peak RSS growth while reading {bytes} bytes: {growth} KiB");
        assert!(
            growth < 16 * 1024,
            "the peak RSS grew by {growth} KiB while reading {bytes} bytes:\n{text}"
        );
    }
}
