//! The C examples (`examples/c`) and C tests (`ffi/tests/c`) are compiled with
//! `-std=c11 -Wall -Wextra -Wpedantic -Werror` against `libmcpauth.a`, run against the loopback
//! demo server, and their output is checked. The header is also compiled on its own as C11 and
//! as C++17.
//!
//! `MCPAUTH_TEST_MODE` selects how the programs run:
//! - unset: plainly (part of `cargo test`);
//! - `valgrind`: under `valgrind --error-exitcode=1 --leak-check=full` (no leak, no error);
//! - `asan`: compiled with `-fsanitize=address,undefined` (LeakSanitizer included);
//! - `tsan`: compiled with `-fsanitize=thread` (the C programs; `libmcpauth.a` is linked in
//!   uninstrumented, its pthread calls intercepted).
//!
//! `make test-ffi` runs the last three. `MCPAUTH_LIB_DIR` names a directory holding
//! `libmcpauth.a` (default: build it with cargo into this test's target directory).
//!
//! The C++ example (`examples/cpp`, over `include/mcpauth.hpp`) is compiled with
//! `-std=c++17 -Wall -Wextra -Wpedantic -Werror` and run the same ways.
//!
//! No check here depends on the machine's speed: under valgrind on a loaded machine a program
//! runs many times slower, so the programs get generous request timeouts and the conformance
//! client's own 25 s deadline (meant for the conformance suite's clock) is lifted to
//! [`CONFORMANCE_DEADLINE_SECS`]; only a hang still ends.

mod cprog;

use std::process::{Command, Output};

use cprog::*;
use mcp_auth_demo_server::{DemoConfig, DemoServer};

#[test]
fn header_compiles_alone_as_c11_and_cxx17() {
    let include = root().join("include");
    let dir = root().join("ffi/tests/c");
    let tmp = out_dir();
    std::fs::create_dir_all(&tmp).unwrap();
    for (compiler, std, file) in [
        ("cc", "-std=c11", "header_c11.c"),
        ("c++", "-std=c++17", "header_cxx17.cc"),
    ] {
        let out = Command::new(compiler)
            .args([std, "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-c", "-o"])
            .arg(tmp.join(format!("{file}.o")))
            .arg("-I")
            .arg(&include)
            .arg(dir.join(file))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
        assert!(
            out.status.success(),
            "{file} with {compiler} {std}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn abi_checks_pass() {
    let out = run("abi", &[]);
    assert_eq!(assert_ok(&out, "abi").trim(), "abi: ok");
}

#[test]
fn quickstart_runs() {
    let text = assert_ok(&run("quickstart", &[]), "quickstart");
    for expected in [
        &format!(
            "libmcpauth {v} (header {v}, ABI 1)",
            v = env!("CARGO_PKG_VERSION")
        ) as &str,
        "  scheme                 Bearer",
        "  error                  invalid_token",
        "  scope                  files:read files:write",
        "    1. https://meta.example.com/mcp/prm",
        "    2. https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        "    3. https://mcp.example.com/.well-known/oauth-protected-resource",
        "    1. https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "    3. https://auth.example.com/tenant1/.well-known/openid-configuration",
        "  requested scope        files:read files:write offline_access",
        "  step-up union          files:read files:write offline_access files:admin",
        "  resource_url           INVALID_ARGUMENT (100): invalid server URL",
        "  iss check              SECURITY_CHECK (400), check response_iss",
        "  NULL out-parameter     NULL_ARGUMENT (150): argument 'out' must not be NULL",
        "quickstart: ok",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

/// The steps a cold-start flow against the default topology prints, in order.
const COLD_START_STEPS: [&str; 8] = [
    "[next] mcp_request",
    "[ok  ] protected_resource_metadata",
    "[ok  ] authorization_server_metadata",
    "[ok  ] scope_selection",
    "[ok  ] registration",
    "[ok  ] authorization",
    "[ok  ] token_exchange",
    "[ok  ] mcp_request",
];

fn assert_in_order(text: &str, items: &[&str]) {
    let mut from = 0;
    for item in items {
        match text[from..].find(item) {
            Some(i) => from += i + item.len(),
            None => panic!("missing {item:?} (in order) in:\n{text}"),
        }
    }
}

fn check_demo_output(text: &str, authorizations_first: u32) {
    if authorizations_first > 0 {
        assert_in_order(text, &COLD_START_STEPS);
    } else {
        assert!(!text.contains("registration"), "{text}");
        assert!(!text.contains("token_exchange"), "{text}");
    }
    assert_in_order(
        text,
        &[
            "-> initialize",
            &format!("(authorizations during this request: {authorizations_first})"),
            "-> tools/list",
            "(authorizations during this request: 0)",
            "-> tools/call",
            "{\"content\":[{\"text\":\"hello from mcp-auth\",\"type\":\"text\"}]}",
            "tools/call result: hello from mcp-auth",
            "granted scope: mcp:read mcp:write",
        ],
    );
    assert!(text.trim_end().ends_with("demo: ok"), "{text}");
    // Tokens and codes never reach the trace.
    assert!(
        !text.contains("mcpat_"),
        "a token leaked into the output:\n{text}"
    );
}

#[test]
fn demo_runs_the_whole_flow() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let text = assert_ok(&run("demo", &[&server.mcp_url()]), "demo");
    check_demo_output(&text, 1);
    assert!(text.contains("(answered the challenge: WWW-Authenticate: Bearer"));
}

/// `mcpauth_client_cancel` from another thread ends a login waiting for the browser (300 s)
/// with `MCPAUTH_STATUS_CANCELLED`, and the client stays usable.
#[test]
fn cancel_ends_a_login_in_progress() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let text = assert_ok(&run("cancel", &[&server.mcp_url()]), "cancel");
    assert!(text.contains("cancel: ok"), "{text}");
    eprintln!("{}", text.trim());
    // The flow never reached the token endpoint; the probe afterwards did reach the server.
    let lines = server.request_lines();
    assert!(!lines.iter().any(|l| l.contains("/token")), "{lines:?}");
}

#[test]
fn demo_with_host_storage_callbacks() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let text = assert_ok(
        &run("demo", &[&server.mcp_url(), "--storage", "callback"]),
        "demo --storage callback",
    );
    check_demo_output(&text, 1);
    assert!(
        text.contains("host storage: 3 gets, 2 sets, 0 removes"),
        "{text}"
    );
}

#[test]
fn demo_with_file_storage_reuses_tokens_across_runs() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let file = out_dir().join(format!("credentials-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let arg = format!("file:{}", file.display());
    let first = assert_ok(
        &run("demo", &[&server.mcp_url(), "--storage", &arg]),
        "demo (first run)",
    );
    check_demo_output(&first, 1);
    let second = assert_ok(
        &run("demo", &[&server.mcp_url(), "--storage", &arg]),
        "demo (second run)",
    );
    check_demo_output(&second, 0);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn demo_rejects_bad_usage() {
    let out = run("demo", &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn probe_prints_the_challenge_and_the_discovery_chain() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let url = server.mcp_url();
    let text = assert_ok(&run("probe", &[&url]), "probe");
    let origin = server.origin();
    assert_in_order(
        &text,
        &[
            "1. unauthenticated request",
            "status 401: authorization required",
            "bearer error               invalid_token",
            &format!(
                "bearer resource_metadata   {origin}/.well-known/oauth-protected-resource/mcp"
            ),
            "2. discovery",
            "protected_resource_metadata    ok",
            "authorization_server_metadata  ok",
            "3. result",
            &format!("issuer                     {origin}"),
            &format!("token_endpoint             {origin}/token"),
            &format!("registration_endpoint      {origin}/register"),
            "probe: ok",
        ],
    );
    // Discovery does not register nor authorize.
    assert_eq!(server.count("/register"), 0);
    assert_eq!(server.count("/token"), 0);
}

#[test]
fn probe_follows_the_legacy_fallback() {
    let server = DemoServer::start(DemoConfig::topology("legacy").unwrap()).unwrap();
    let text = assert_ok(&run("probe", &[&server.mcp_url()]), "probe (legacy)");
    assert_in_order(
        &text,
        &[
            "protected_resource_metadata    fallback",
            "authorization_server_metadata  ok",
            "3. result",
            "probe: ok",
        ],
    );
}

#[test]
fn probe_reports_an_unreachable_server() {
    // A port nobody listens on: bind one, then close it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run("probe", &[&format!("http://127.0.0.1:{port}/mcp")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("probe failed: TRANSPORT (200)"), "{text}");
}

#[test]
fn probe_rejects_bad_usage() {
    assert_eq!(run("probe", &[]).status.code(), Some(2));
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The conformance client's deadline in these tests: its default (25 s, for the conformance
/// suite's 30 s per scenario) is wall-clock time, which valgrind on a loaded machine can use up
/// before the flow ends (`_exit(3)` in the middle of a request, then reported by valgrind as
/// leaks). A generous bound still ends a hang; `conformance_client_stops_at_its_deadline` checks
/// the deadline itself.
const CONFORMANCE_DEADLINE_SECS: &str = "900";

/// Run the conformance client with [`CONFORMANCE_DEADLINE_SECS`].
fn run_conformance(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut env = env.to_vec();
    env.push((
        "MCPAUTH_CONFORMANCE_DEADLINE_SECS",
        CONFORMANCE_DEADLINE_SECS,
    ));
    run_env("conformance_client", args, &env)
}

#[test]
fn conformance_client_speaks_mcp_through_the_library() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let url = server.mcp_url();
    // The suite appends the URL to its command: anything before it is ignored.
    let out = run_conformance(
        &["--ignored", &url],
        &[("MCP_CONFORMANCE_SCENARIO", "auth/metadata-default")],
    );
    let (text, log) = (assert_ok(&out, "conformance_client"), stderr(&out));
    assert_eq!(text.trim(), "conformance client: ok");
    assert_in_order(
        &log,
        &[
            "trace: {\"step\":\"mcp_request\"",
            "\"step\":\"token_exchange\"",
            "initialize -> 200",
            "notifications/initialized -> 202",
            "tools/list -> 200",
            "tools/call -> 200",
            "tools/call result: {\"id\":3,\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":\"test\",\"type\":\"text\"}]}}",
        ],
    );
    let initialize = &server.requests_to("/mcp")[1];
    assert_eq!(initialize.header("mcp-method"), Some("initialize"));
    assert_eq!(
        initialize.header("mcp-protocol-version"),
        Some("2025-11-25")
    );
    assert!(
        initialize
            .header("accept")
            .is_some_and(|a| a.contains("text/event-stream"))
    );
}

#[test]
fn conformance_client_maps_the_context_and_the_stateless_wire() {
    // Pre-registered credentials from the context, the client-credentials grant from the
    // scenario name, and the 2026-07-28 wire (no initialize; `_meta` in every request), with
    // SSE answers.
    let mut config = DemoConfig::topology("client-credentials-basic").unwrap();
    config.sse = true;
    let server = DemoServer::start(config).unwrap();
    let context = server.context().unwrap().to_string();
    let out = run_conformance(
        &[&server.mcp_url()],
        &[
            ("MCP_CONFORMANCE_SCENARIO", "auth/client-credentials-basic"),
            ("MCP_CONFORMANCE_CONTEXT", &context),
            ("MCP_CONFORMANCE_PROTOCOL_VERSION", "2026-07-28"),
        ],
    );
    let log = stderr(&out);
    assert_ok(&out, &format!("conformance_client (stateless):\n{log}"));
    assert!(!log.contains("initialize"), "{log}");
    assert!(log.contains("tools/call result: {"), "{log}");
    assert_eq!(server.grant_count("client_credentials"), 1);
    let mcp = server.requests_to("/mcp");
    let call = mcp.last().unwrap();
    assert_eq!(call.header("mcp-method"), Some("tools/call"));
    assert_eq!(call.header("mcp-protocol-version"), Some("2026-07-28"));
    let body = call.json().unwrap();
    assert_eq!(body["params"]["name"], "test-tool");
    assert_eq!(
        body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    assert!(body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"].is_object());
    // The secret never reaches the output.
    let secret = server.context().unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!log.contains(&secret) && !stdout(&out).contains(&secret));
}

#[test]
fn conformance_client_fails_with_status_1() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run_conformance(&[&format!("http://127.0.0.1:{port}/mcp")], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("conformance client: initialize: TRANSPORT (200)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(run_conformance(&[], &[]).status.code(), Some(2));
    let bad = run_env(
        "conformance_client",
        &["http://127.0.0.1:1/mcp"],
        &[("MCPAUTH_CONFORMANCE_DEADLINE_SECS", "soon")],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

/// The deadline ends a flow that would never end: the MCP endpoint accepts the request and
/// never answers. Exit status 3, whatever the machine's speed (a 1 s deadline against a hang).
#[test]
fn conformance_client_stops_at_its_deadline() {
    use mcp_auth_demo_server::{FaultAction, RouteFault};
    let mut config = DemoConfig::default();
    config
        .faults
        .routes
        .push(RouteFault::new("/mcp", FaultAction::Hang));
    let server = DemoServer::start(config).unwrap();
    // Not judged by valgrind or the sanitizers: `_exit` in the middle of a request leaves its
    // allocations behind by design.
    let out = run_raw(
        "conformance_client",
        &[&server.mcp_url()],
        &[("MCPAUTH_CONFORMANCE_DEADLINE_SECS", "1")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("conformance client: deadline reached"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bridge_forwards_a_401_and_a_403() {
    let server = DemoServer::start(DemoConfig::topology("scope-retry-limit").unwrap()).unwrap();
    let text = assert_ok(&run("bridge", &[&server.mcp_url()]), "bridge");
    assert_in_order(
        &text,
        &[
            "1. 401",
            "send                  UNAUTHORIZED (305), upstream status 401",
            "downstream status     401",
            "header                WWW-Authenticate: Bearer error=\"invalid_token\"",
            "resource_metadata=\"https://gateway.example/.well-known/oauth-protected-resource/mcp\"",
            "header                Access-Control-Expose-Headers: WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version",
            "header                Access-Control-Allow-Origin: https://app.example",
            "challenge error       invalid_token",
            "2. 403",
            "send                  UNAUTHORIZED (305), upstream status 403",
            "downstream status     403",
            "header                WWW-Authenticate: Bearer error=\"insufficient_scope\"",
            "challenge error       insufficient_scope",
            "challenge scope       mcp:admin",
            "3. CORS preflight",
            "downstream status     204",
            "forward upstream      [[\"Authorization\",\"Bearer from-the-browser\"],[\"Mcp-Session-Id\",\"s1\"]]",
            "relayed resource      https://gateway.example/mcp",
            "bridge: ok",
        ],
    );
}

/// Many threads share one client through the C ABI, from an expired token in the host's
/// storage: exactly one refresh at the token endpoint, and every request carries the new token.
#[test]
fn threads_share_one_client_and_refresh_once() {
    use mcp_auth_demo_server::{AuthMethod, PreregisteredClient};
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    server.register_client(PreregisteredClient::new(
        "threads-client",
        Some("threads-secret-0123456789"),
        AuthMethod::ClientSecretBasic,
    ));
    let (access, refresh) = server.issue_token_pair("threads-client", "mcp:read mcp:write");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let tokens = serde_json::json!({
        "access_token": access, "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": refresh, "scope": "mcp:read mcp:write", "expires_at": now - 60,
    });
    let client_info = serde_json::json!({
        "client_id": "threads-client", "client_secret": "threads-secret-0123456789",
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": ["http://localhost:3000/callback"], "issuer": server.issuer(),
    });
    let threads = if mode() == Mode::Valgrind { "8" } else { "32" };
    let out = run_env(
        "threads",
        &[&server.mcp_url(), threads],
        &[
            ("MCPAUTH_TEST_TOKENS", &tokens.to_string()),
            ("MCPAUTH_TEST_CLIENT_INFO", &client_info.to_string()),
            ("MCPAUTH_TEST_ISSUER", &server.issuer()),
        ],
    );
    let text = assert_ok(&out, "threads");
    assert!(text.contains("threads: ok"), "{text}");
    assert_eq!(server.grant_count("refresh_token"), 1, "{text}");
    assert_eq!(server.count("/token"), 1);
    assert_eq!(server.count("/register") + server.count("/authorize"), 0);
    // Every MCP request carried the refreshed token: none the expired one, none without.
    let mcp = server.requests_to("/mcp");
    assert_eq!(
        mcp.len(),
        threads.parse::<usize>().unwrap(),
        "no request was retried"
    );
    let first = mcp[0].header("authorization").unwrap().to_owned();
    assert_ne!(first, format!("Bearer {access}"));
    assert!(
        mcp.iter()
            .all(|r| r.header("authorization") == Some(first.as_str()))
    );

    if mode() == Mode::Tsan {
        // The suppressions (ffi/tests/tsan.supp) hide no race in C code: a deliberate one in
        // the trace callback is reported.
        server.reset_counters();
        let out = run_raw(
            "threads",
            &[&server.mcp_url(), "8"],
            &[
                ("MCPAUTH_TEST_TOKENS", &tokens.to_string()),
                ("MCPAUTH_TEST_CLIENT_INFO", &client_info.to_string()),
                ("MCPAUTH_TEST_ISSUER", &server.issuer()),
                ("MCPAUTH_TEST_RACE", "1"),
            ],
        );
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            log.contains("WARNING: ThreadSanitizer: data race") && log.contains("on_trace"),
            "the deliberate race was not reported:\n{log}"
        );
    }
}

#[test]
fn shared_library_exports_exactly_the_header_functions() {
    let header = std::fs::read_to_string(root().join("include/mcpauth.h")).unwrap();
    let declared: std::collections::BTreeSet<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("typedef") && l.contains('('))
        .filter_map(|l| {
            let name = l[..l.find('(')?].rsplit([' ', '*']).next()?;
            name.starts_with("mcpauth_").then(|| name.to_owned())
        })
        .collect();
    assert!(declared.len() > 70, "{declared:?}");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib_dir().join("libmcpauth.so"))
        .output()
        .expect("cannot run nm");
    assert!(out.status.success());
    let exported: std::collections::BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        exported, declared,
        "libmcpauth.so must export exactly the functions of include/mcpauth.h"
    );
}

/// TLS trust from C: a private CA generated now, a TLS front before the demo server. The CA
/// given in the options JSON (`tls.ca_file`) is trusted; without it the probe fails with
/// `MCPAUTH_STATUS_CERTIFICATE` and a message naming the settings.
#[test]
fn tls_probe_trusts_the_ca_in_the_options_and_reports_certificate_errors() {
    use mcp_auth_tls_front::{Pki, TlsFront};
    let pki = Pki::generate().unwrap();
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let front = TlsFront::start(&pki, server.addr(), true).unwrap();
    let dir = out_dir().join(format!("tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("client.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    std::fs::write(&cert, &pki.client_cert_pem).unwrap();
    std::fs::write(&key, &pki.client_key_pem).unwrap();
    let url = format!("{}/mcp", front.origin());

    let untrusted = serde_json::json!({"server_url": url}).to_string();
    let out = run("tls_probe", &[&untrusted]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.starts_with("error CERTIFICATE: ") && text.contains("tls.ca_file"),
        "{text}"
    );

    let trusted = serde_json::json!({"server_url": url, "tls": {
        "ca_file": ca, "client_cert_file": cert, "client_key_file": key}})
    .to_string();
    let out = run("tls_probe", &[&trusted]);
    assert_eq!(stdout(&out), "status 401\n", "{}", stderr(&out));
    assert_eq!(server.count("/mcp"), 1);
}

#[test]
fn cpp_wrapper_compiles_alone_as_cxx17_and_cxx20() {
    let include = root().join("include");
    let tmp = out_dir();
    std::fs::create_dir_all(&tmp).unwrap();
    for std in ["-std=c++17", "-std=c++20"] {
        let out = Command::new("c++")
            .args([std, "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wshadow"])
            .args(["-Wconversion", "-Wold-style-cast", "-x", "c++", "-c", "-o"])
            .arg(tmp.join(format!("mcpauth_hpp{std}.o")))
            .arg("-I")
            .arg(&include)
            .arg(include.join("mcpauth.hpp"))
            .output()
            .unwrap_or_else(|e| panic!("cannot run c++: {e}"));
        assert!(
            out.status.success(),
            "mcpauth.hpp with {std}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The C++ example: the whole flow through `mcpauth::Client` (storage and trace callbacks in
/// C++) and a streamed tool result through `mcpauth::Stream`, counted from the server's side,
/// and failures as `mcpauth::Error` with their status.
#[test]
fn cpp_quickstart_runs_the_flow() {
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let text = assert_ok(
        &run("quickstart_cpp", &[&server.mcp_url()]),
        "quickstart_cpp",
    );
    assert_in_order(
        &text,
        &[
            &format!(
                "libmcpauth {v} (C++ wrapper, header {v})",
                v = env!("CARGO_PKG_VERSION")
            ),
            "-> initialize",
            "[next] mcp_request",
            "[ok  ] protected_resource_metadata",
            "[ok  ] registration",
            "[ok  ] authorization",
            "[ok  ] token_exchange",
            "[ok  ] mcp_request",
            "<- 200 (authorizations during this request: 1)",
            "-> tools/list",
            "<- 200 (authorizations during this request: 0)",
            "-> tools/call",
            "tools/call result: hello from C++",
            "-> tools/call ticker (streamed)",
            "<- 200 event stream",
            "ticker: 3 progress events, then: ticked 3",
            "granted scope: mcp:read mcp:write",
            "storage: tokens stored, client_info stored",
            "after logout: token none",
            "bad options: INVALID_ARGUMENT (100)",
            "unknown option: INVALID_ARGUMENT",
            "quickstart: ok",
        ],
    );
    assert!(!text.contains("mcpat_"), "a token leaked:\n{text}");
    assert_eq!(server.count("/register"), 1);
    assert_eq!(server.grant_count("authorization_code"), 1);
    assert_eq!(
        server.count("/mcp"),
        5,
        "one 401, then four authorized requests (the last one streamed)"
    );
    let streams = server.stream_counters();
    assert_eq!((streams.started, streams.completed), (1, 1), "{streams:?}");
    assert_eq!(
        streams.events_sent, 4,
        "three progress events and the result"
    );
}

/// The C++ snippet of docs/c-cpp.md, compiled as printed (`-Wall -Wextra -Wpedantic -Werror`)
/// and run against the demo server in place of its example URL.
#[test]
fn docs_cpp_snippet_compiles_and_runs() {
    let doc = std::fs::read_to_string(root().join("docs/c-cpp.md")).unwrap();
    let start = doc
        .find("```cpp\n")
        .expect("a ```cpp block in docs/c-cpp.md")
        + 7;
    let snippet = &doc[start..start + doc[start..].find("```").unwrap()];
    let example_url = "http://127.0.0.1:4000/mcp";
    assert!(snippet.contains(example_url), "{snippet}");
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    let dir = out_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("docs_snippet.cpp");
    std::fs::write(&source, snippet.replace(example_url, &server.mcp_url())).unwrap();
    let bin = dir.join("docs_snippet");
    let out = Command::new("c++")
        .args([
            "-std=c++17",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-o",
        ])
        .arg(&bin)
        .arg("-I")
        .arg(root().join("include"))
        .arg(&source)
        .arg(lib_dir().join("libmcpauth.a"))
        .args(["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s"])
        .output()
        .expect("cannot run c++");
    assert!(
        out.status.success(),
        "the docs snippet does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The snippet keeps the default redirect handler: the system browser on a loopback
    // listener. The "browser" here is a script doing what a user's does once logged in: GET
    // the authorization URL and follow the redirect to the listener.
    let browser = dir.join("docs_snippet_browser");
    std::fs::write(
        &browser,
        "#!/bin/sh\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=60).read()' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = Command::new(&bin)
        .env("BROWSER", &browser)
        .output()
        .unwrap();
    let text = assert_ok(&out, "docs snippet");
    assert!(text.starts_with("200 {"), "{text}");
    assert!(text.contains("\"tools\""), "{text}");
    assert_eq!(server.grant_count("authorization_code"), 1);
    let authorize = server.requests_to("/authorize");
    let sent = authorize[0].query_value("redirect_uri").unwrap();
    assert!(
        sent.starts_with("http://127.0.0.1:") && sent.ends_with("/callback"),
        "{sent}"
    );
}
