//! Processes sharing a host-written credential store through the C ABI, with the refresh lease
//! as host callbacks (`ffi/tests/c/fleet_store.c`), run plainly or under a sanitizer as
//! `MCPAUTH_TEST_MODE` says (see `c_examples.rs`).

mod cprog;

use cprog::*;
use mcp_auth_demo_server::{DemoConfig, DemoServer};

/// Processes sharing a store the host writes itself (`ffi/tests/c/fleet_store.c`: a directory
/// of files), with the refresh lease as host callbacks over an `flock`: 1-second tokens, a server
/// that revokes the grant when a refresh token is presented twice. With the lease callbacks:
/// one refresh per expiry, no reuse, no failed call; without them (the control), the processes
/// that start together on an expired token present the same refresh token and the grant is
/// revoked.
#[test]
fn processes_sharing_a_host_store_with_lease_callbacks_refresh_once_per_expiry() {
    use mcp_auth_demo_server::{AuthMethod, PreregisteredClient};
    use std::io::{BufRead, BufReader, Write};

    let run_fleet = |lease: bool, processes: usize, threads: usize, generations: usize| {
        let server = DemoServer::start(DemoConfig {
            token_ttl_secs: 1,
            refresh_reuse_detection: true,
            ..DemoConfig::default()
        })
        .unwrap();
        let secret = "fleet-store-secret-0123456789";
        server.register_client(PreregisteredClient::new(
            "fleet-store",
            Some(secret),
            AuthMethod::ClientSecretBasic,
        ));
        let (access, refresh) = server.issue_token_pair("fleet-store", "mcp:read mcp:write");
        let dir = out_dir().join(format!("fleet-store-{}-{lease}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Seed the host's store: an expired token, and the registration.
        let resource = mcp_auth::checks::resource_url_from_server_url(&server.mcp_url()).unwrap();
        let tokens = serde_json::json!({
            "access_token": access, "token_type": "Bearer", "expires_in": 1,
            "refresh_token": refresh, "scope": "mcp:read mcp:write", "expires_at": 1,
        });
        let client_info = serde_json::json!({
            "client_id": "fleet-store", "client_secret": secret,
            "token_endpoint_auth_method": "client_secret_basic",
            "redirect_uris": ["http://localhost:3000/callback"], "issuer": server.issuer(),
        });
        std::fs::write(dir.join("tokens"), format!("{resource}\n{tokens}")).unwrap();
        std::fs::write(
            dir.join("client_info"),
            format!("{}\n{client_info}", server.issuer()),
        )
        .unwrap();
        let mut children: Vec<_> = (0..processes)
            .map(|_| {
                // Sanitizer builds get the same options (and TSan suppressions) as `run_env`.
                std::process::Command::new(programs().join("fleet_store"))
                    .env(
                        "TSAN_OPTIONS",
                        format!(
                            "halt_on_error=1:exitcode=66:suppressions={}",
                            root().join("ffi/tests/tsan.supp").display()
                        ),
                    )
                    .env(
                        "ASAN_OPTIONS",
                        "detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86",
                    )
                    .arg(&dir)
                    .arg(server.mcp_url())
                    .arg(threads.to_string())
                    .arg(generations.to_string())
                    .arg(if lease { "1" } else { "0" })
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("run fleet_store")
            })
            .collect();
        // Every process is ready: start them together.
        let mut readers: Vec<_> = children
            .iter_mut()
            .map(|c| {
                let mut r = BufReader::new(c.stdout.take().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                assert_eq!(line.trim(), "ready", "{line}");
                r
            })
            .collect();
        for c in &mut children {
            let _ = c.stdin.as_mut().unwrap().write_all(b"go\n");
        }
        let mut reports = Vec::new();
        for (c, r) in children.iter_mut().zip(readers.iter_mut()) {
            let mut text = String::new();
            std::io::Read::read_to_string(r, &mut text).unwrap();
            let status = c.wait().unwrap();
            assert!(status.success(), "fleet_store failed: {text}");
            reports.push(text);
        }
        let _ = std::fs::remove_dir_all(&dir);
        (server, reports)
    };
    let field = |report: &str, name: &str| -> usize {
        let line = report
            .lines()
            .find(|l| l.starts_with("fleet_store: calls"))
            .unwrap_or_else(|| panic!("no report: {report}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let i = words.iter().position(|w| *w == name).unwrap();
        words[i + 1].parse().unwrap()
    };
    let (processes, threads, generations) = if mode() == Mode::Valgrind {
        (2, 2, 3)
    } else {
        (4, 4, 4)
    };

    let (server, reports) = run_fleet(true, processes, threads, generations);
    let counters = server.refresh_counters();
    for r in &reports {
        assert_eq!(field(r, "failures"), 0, "{reports:?}");
        assert!(field(r, "distinct") >= generations, "{reports:?}");
    }
    assert_eq!(counters.reuse_detections, 0, "{counters:?} {reports:?}");
    assert_eq!(counters.revocations, 0, "{counters:?}");
    assert_eq!(server.grant_count("refresh_token"), counters.refreshes);
    assert!(counters.refreshes >= generations - 1, "{counters:?}");
    assert_eq!(server.grant_count("authorization_code"), 0, "no new login");
    // Each refresh produced a token that was then used: one refresh per expiry.
    let presented: std::collections::HashSet<String> = server
        .requests_to("/mcp")
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(presented.len(), counters.refreshes, "{counters:?}");
    eprintln!("with the lease: {counters:?}");

    // The control: the same fleet without the lease callbacks.
    let (server, reports) = run_fleet(false, processes, threads, generations);
    let counters = server.refresh_counters();
    eprintln!("without the lease: {counters:?}");
    assert!(
        counters.reuse_detections >= 1 && counters.revocations >= 1,
        "without the lease the processes should have replayed a refresh token: {counters:?} \
         {reports:?}"
    );
}
