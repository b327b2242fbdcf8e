//! `mcp-auth-tls-front --upstream 127.0.0.1:PORT --dir DIR [--require-client-cert]`
//!
//! Generates a private CA, writes `DIR/ca.pem`, `DIR/client.pem` and `DIR/client-key.pem`,
//! serves HTTPS on an ephemeral 127.0.0.1 port relaying to the plaintext upstream, and prints
//! its origin (`https://127.0.0.1:PORT`) as the first line of standard output. It runs until
//! its standard input closes (or it is killed), so a test harness that spawns it with a pipe
//! ends it by exiting.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use mcp_auth_tls_front::{Pki, TlsFront};

fn main() -> ExitCode {
    let mut upstream: Option<SocketAddr> = None;
    let mut dir: Option<PathBuf> = None;
    let mut require_client_cert = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--upstream" => upstream = args.next().and_then(|v| v.parse().ok()),
            "--dir" => dir = args.next().map(PathBuf::from),
            "--require-client-cert" => require_client_cert = true,
            _ => {
                eprintln!(
                    "usage: mcp-auth-tls-front --upstream HOST:PORT --dir DIR [--require-client-cert]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let (Some(upstream), Some(dir)) = (upstream, dir) else {
        eprintln!(
            "usage: mcp-auth-tls-front --upstream HOST:PORT --dir DIR [--require-client-cert]"
        );
        return ExitCode::from(2);
    };
    match run(upstream, &dir, require_client_cert) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp-auth-tls-front: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(upstream: SocketAddr, dir: &std::path::Path, require_client_cert: bool) -> io::Result<()> {
    let pki = Pki::generate()?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem)?;
    std::fs::write(dir.join("client.pem"), &pki.client_cert_pem)?;
    std::fs::write(dir.join("client-key.pem"), &pki.client_key_pem)?;
    let front = TlsFront::start(&pki, upstream, require_client_cert)?;
    let mut out = io::stdout().lock();
    writeln!(out, "{}", front.origin())?;
    out.flush()?;
    drop(out);
    // Serve until standard input reaches end of file.
    let mut line = String::new();
    let stdin = io::stdin();
    let mut lock = stdin.lock();
    while lock.read_line(&mut line)? > 0 {
        line.clear();
    }
    Ok(())
}
