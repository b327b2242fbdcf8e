//! `mcp-auth-demo-server`: runs the loopback demo server for other programs (C, Python, Node
//! examples, browser tests).
//!
//! ```text
//! mcp-auth-demo-server [--port N] [--topology NAME] [--host-name HOST]
//!                      [--context-file PATH] [--exit-on-stdin-eof] [--list-topologies]
//!                      [--token-ttl SECS] [--refresh-reuse-detection] [--dpop] [--dpop-nonce]
//!                      [--counters]
//! ```
//!
//! `--token-ttl` sets the access token lifetime; `--refresh-reuse-detection` makes a reused
//! (already rotated) refresh token revoke its whole grant (RFC 9700 §4.14.2); `--dpop` requires
//! DPoP-bound tokens and binds public clients' refresh tokens to their key (RFC 9449 §5);
//! `--dpop-nonce` (implies `--dpop`) makes the MCP endpoint demand a rotating server nonce in
//! every proof (RFC 9449 §9);
//! `--counters` serves `GET /_demo/counters` (refreshes, reuses, revocations, grants, DPoP).
//!
//! Prints `listening on http://127.0.0.1:PORT/mcp` on stdout (one line, flushed) once it accepts
//! connections, then serves until it is killed (SIGTERM / SIGINT). With `--exit-on-stdin-eof` it
//! also exits when its standard input reaches end of file, so a parent that holds a pipe to it
//! cannot leak it. Without the flag stdin is ignored (so `… < /dev/null &` works).

use std::io::{Read, Write};
use std::process::ExitCode;

use mcp_auth_demo_server::{CONFORMANCE_SCENARIOS, DemoConfig, DemoServer, EXTRA_TOPOLOGIES};

const USAGE: &str = "usage: mcp-auth-demo-server [--port N] [--topology NAME] [--host-name HOST] \
[--context-file PATH] [--exit-on-stdin-eof] [--list-topologies] [--token-ttl SECS] \
[--refresh-reuse-detection] [--dpop] [--dpop-nonce] [--counters]";

fn main() -> ExitCode {
    let mut port: u16 = 0;
    let mut topology = "default".to_owned();
    let mut host_name: Option<String> = None;
    let mut context_file: Option<String> = None;
    let mut exit_on_eof = false;
    let mut token_ttl: Option<u64> = None;
    let mut reuse_detection = false;
    let mut dpop = false;
    let mut dpop_nonce = false;
    let mut counters = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(name.to_owned())
        };
        let parsed: Result<(), String> = match flag.as_str() {
            "--port" => value("--port").and_then(|v| {
                port = v.parse().map_err(|_| format!("bad port {v}"))?;
                Ok(())
            }),
            "--topology" => value("--topology").map(|v| topology = v),
            "--host-name" => value("--host-name").map(|v| host_name = Some(v)),
            "--context-file" => value("--context-file").map(|v| context_file = Some(v)),
            "--token-ttl" => value("--token-ttl").and_then(|v| {
                token_ttl = Some(v.parse().map_err(|_| format!("bad lifetime {v}"))?);
                Ok(())
            }),
            "--refresh-reuse-detection" => {
                reuse_detection = true;
                Ok(())
            }
            "--dpop" => {
                dpop = true;
                Ok(())
            }
            "--dpop-nonce" => {
                dpop_nonce = true;
                Ok(())
            }
            "--counters" => {
                counters = true;
                Ok(())
            }
            "--exit-on-stdin-eof" => {
                exit_on_eof = true;
                Ok(())
            }
            "--list-topologies" => {
                for name in EXTRA_TOPOLOGIES.iter().chain(CONFORMANCE_SCENARIOS) {
                    println!("{name}");
                }
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument {other}")),
        };
        if let Err(e) = parsed {
            eprintln!("mcp-auth-demo-server: {e} needs a valid value\n{USAGE}");
            return ExitCode::from(2);
        }
    }

    let Some(mut config) = DemoConfig::topology(&topology) else {
        eprintln!(
            "mcp-auth-demo-server: unknown topology {topology:?} (see --list-topologies)\n{USAGE}"
        );
        return ExitCode::from(2);
    };
    if let Some(h) = host_name {
        config.host_name = h;
    }
    if let Some(ttl) = token_ttl {
        config.token_ttl_secs = ttl;
    }
    config.refresh_reuse_detection |= reuse_detection;
    config.dpop |= dpop || dpop_nonce;
    config.dpop_nonce |= dpop_nonce;
    config.counters_endpoint |= counters;
    // Nobody reads the log of a spawned server; keep its memory flat.
    config.record_requests = false;
    let server = match DemoServer::start_on(config, port) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mcp-auth-demo-server: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    if let (Some(path), Some(ctx)) = (&context_file, server.context()) {
        if let Err(e) = std::fs::write(path, ctx.to_string()) {
            eprintln!("mcp-auth-demo-server: cannot write {path}: {e}");
            return ExitCode::from(1);
        }
    }
    eprintln!(
        "mcp-auth-demo-server: topology {topology}, issuer {}, PRM {}",
        server.issuer(),
        server.prm_url().unwrap_or_else(|| "(none)".into())
    );
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", server.mcp_url());
        let _ = out.flush();
    }

    if exit_on_eof {
        let mut sink = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        drop(server);
        ExitCode::SUCCESS
    } else {
        loop {
            std::thread::park();
        }
    }
}
