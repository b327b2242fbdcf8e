//! The `mcp-auth-demo-server` binary as other programs spawn it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-auth-demo-server");

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim_end().to_owned()
}

fn get(origin_port: &str, path: &str) -> String {
    let mut s = TcpStream::connect(origin_port).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn prints_url_serves_and_exits_on_stdin_eof() {
    let ctx_file = std::env::temp_dir().join(format!("demo-ctx-{}.json", std::process::id()));
    let mut child = Command::new(BIN)
        .args([
            "--topology",
            "auth/pre-registration",
            "--exit-on-stdin-eof",
            "--context-file",
        ])
        .arg(&ctx_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let url = line.strip_prefix("listening on ").expect(&line);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
        "{url}"
    );
    let hostport = url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let md = get(&hostport, "/.well-known/oauth-authorization-server");
    assert!(md.starts_with("HTTP/1.1 200"), "{md}");
    assert!(
        !md.contains("registration_endpoint"),
        "pre-registration has no DCR"
    );
    let ctx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ctx_file).unwrap()).unwrap();
    assert_eq!(ctx["client_id"], "pre-registered-client");
    let _ = std::fs::remove_file(&ctx_file);

    drop(child.stdin.take());
    let status = wait_exit(&mut child, Duration::from_secs(5)).expect("exits on stdin EOF");
    assert!(status.success());
}

#[test]
fn without_the_flag_it_ignores_stdin_and_serves_until_killed() {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let hostport = line
        .trim_start_matches("listening on http://")
        .trim_end_matches("/mcp")
        .to_owned();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running with stdin at EOF"
    );
    assert!(
        get(&hostport, "/.well-known/oauth-protected-resource/mcp").starts_with("HTTP/1.1 200")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn bad_arguments_and_listing() {
    let out = Command::new(BIN)
        .args(["--topology", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["--token-ttl", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a lifetime must be a number");
    let out = Command::new(BIN)
        .args([
            "--token-ttl",
            "1",
            "--refresh-reuse-detection",
            "--frobnicate",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("--frobnicate"),
        "only the unknown flag is refused: {err}"
    );
    let out = Command::new(BIN).arg("--list-topologies").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l == "reference-benchmark"));
    assert!(text.lines().any(|l| l == "scope-step-up"));
    assert_eq!(text.lines().count(), 24);
}
