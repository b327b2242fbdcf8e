//! The benchmark harness cannot rot unnoticed: `make bench` is never part of `make test`, so
//! each mode `bench/run.py` drives is run here once, briefly, against the harness's own demo
//! server, and what it reports is checked against what the server counted (9 requests per
//! cold flow, the authorized requests served). No timing is asserted.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bench-flow");

/// `bench-flow server`: stopped (stdin closed, then waited for) when dropped.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
    stats: String,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(BIN)
            .arg("server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start bench-flow server");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("READY line");
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.first(), Some(&"READY"), "server said {line:?}");
        Server {
            url: parts[1].to_owned(),
            stats: parts[2].to_owned(),
            child,
            stdin,
        }
    }

    /// Runs one mode with `--url`/`--stats` and returns its last output line as JSON; the
    /// mode's exit status must be success (a panic in the harness fails here).
    fn run(&self, args: &[&str]) -> Value {
        let out = Command::new(BIN)
            .args(args)
            .args(["--url", &self.url, "--stats", &self.stats])
            .output()
            .expect("run bench-flow");
        assert!(
            out.status.success(),
            "bench-flow {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
        let last = stdout.lines().last().expect("an output line");
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{last:?}: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.wait();
    }
}

/// A cold flow as the benchmark counts it: 8 client requests and the user agent's one,
/// counted at the server.
fn assert_cold_flows(report: &Value, what: &str) {
    assert_eq!(report["requests_per_flow"], 9.0, "{what}: {report}");
    assert_eq!(
        report["user_agent_requests_per_flow"], 1.0,
        "{what}: {report}"
    );
    assert_eq!(report["wall_ms"]["n"], 2, "{what}: {report}");
}

#[test]
fn every_flow_mode_completes_with_nine_requests_per_flow() {
    let server = Server::start();
    assert_cold_flows(&server.run(&["floor", "--n", "2"]), "floor");
    for mode in ["warm", "fresh"] {
        assert_cold_flows(
            &server.run(&["flows", "--n", "2", "--mode", mode]),
            &format!("rust {mode}"),
        );
        assert_cold_flows(
            &server.run(&["flows", "--n", "2", "--mode", mode, "--concurrent"]),
            &format!("rust {mode} concurrent"),
        );
    }
    assert_cold_flows(
        &server.run(&["flows", "--n", "2", "--mode", "fresh", "--api", "c"]),
        "C ABI",
    );
}

#[test]
fn threads_mode_has_every_request_served() {
    let server = Server::start();
    let report = server.run(&["threads", "--threads", "4", "--requests", "5"]);
    assert_eq!(report["requests"], 20, "{report}");
    assert_eq!(
        report["server_requests"], 20,
        "counted at the server: {report}"
    );
}
