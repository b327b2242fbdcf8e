//! `mcp-auth-proxy`: run the bridging MCP proxy from the command line (see `--help`).

use std::process::ExitCode;
use std::time::Duration;

use mcp_auth::secret::AccessToken;
use mcp_auth_bridge::CorsPolicy;
use mcp_auth_proxy::{Mode, Proxy, ProxyConfig};

const USAGE: &str = "\
mcp-auth-proxy: forward MCP POST/GET/DELETE to an upstream MCP server and bridge its
WWW-Authenticate challenge (401 and 403) to browser clients.

USAGE:
    mcp-auth-proxy --upstream URL [OPTIONS]

OPTIONS:
    --upstream URL                 the upstream MCP endpoint, e.g. https://mcp.example.com/mcp (required)
    --listen ADDR                  where to listen [default: 127.0.0.1:8080]
    --path PATH                    the proxy's MCP path [default: /mcp]
    --allow-origin ORIGIN          a browser origin allowed to call the proxy (repeatable;
                                   `*` for any) [default: *]
    --allow-credentials            send Access-Control-Allow-Credentials: true
    --rewrite-resource-metadata    point resource_metadata at the proxy and relay the metadata
    --public-url URL               the proxy's origin as browsers see it (for the rewrite)
    --prm-upstream URL             the upstream metadata URL to relay [default: from the challenge]
    --prm-resource URL             replace `resource` in the relayed metadata
    --mode MODE                    bridge | no-expose | strip (the last two are naive controls)
                                   [default: bridge]
    --timeout SECS                 upstream request timeout [default: 30]
    --max-connections N            downstream connections served at once; more wait in the
                                   listen backlog [default: 64]
    --request-timeout SECS         deadline for a whole downstream request (head, then body;
                                   also closes idle keep-alive connections) [default: 30]
    --verbose                      log one line per request to stderr
    -h, --help                     this text

ENVIRONMENT:
    MCP_AUTH_PROXY_UPSTREAM_TOKEN  gateway mode: send upstream with this bearer token through
                                   mcp_auth::Client::send and bridge the challenge of its
                                   Unauthorized error (kept out of argv, where `ps` shows it)
";

fn parse(args: Vec<String>) -> Result<Option<ProxyConfig>, String> {
    let mut config = ProxyConfig::new(String::new());
    config.listen = ([127, 0, 0, 1], 8080).into();
    let mut origins: Vec<String> = Vec::new();
    let mut upstream: Option<String> = None;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--upstream" => upstream = Some(value("--upstream")?),
            "--listen" => {
                let v = value("--listen")?;
                config.listen = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
            }
            "--path" => config.path = value("--path")?,
            "--allow-origin" => origins.push(value("--allow-origin")?),
            "--allow-credentials" => config.cors.allow_credentials = true,
            "--rewrite-resource-metadata" => config.rewrite_resource_metadata = true,
            "--public-url" => config.public_url = Some(value("--public-url")?),
            "--prm-upstream" => config.prm_upstream = Some(value("--prm-upstream")?),
            "--prm-resource" => config.prm_resource = Some(value("--prm-resource")?),
            "--mode" => {
                let v = value("--mode")?;
                config.mode = Mode::parse(&v).ok_or_else(|| format!("unknown --mode {v}"))?;
            }
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: u64 = v.parse().map_err(|e| format!("--timeout {v}: {e}"))?;
                config.timeout = Duration::from_secs(secs.max(1));
            }
            "--max-connections" => {
                let v = value("--max-connections")?;
                let n: usize = v
                    .parse()
                    .map_err(|e| format!("--max-connections {v}: {e}"))?;
                if n == 0 {
                    return Err("--max-connections must be at least 1".into());
                }
                config.max_connections = n;
            }
            "--request-timeout" => {
                let v = value("--request-timeout")?;
                let secs: u64 = v
                    .parse()
                    .map_err(|e| format!("--request-timeout {v}: {e}"))?;
                config.request_timeout = Duration::from_secs(secs.max(1));
            }
            "--verbose" => config.verbose = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    config.upstream = upstream.ok_or("--upstream is required")?;
    if !origins.is_empty() {
        config.cors = CorsPolicy {
            allowed_origins: origins,
            ..config.cors
        };
    }
    if let Ok(token) = std::env::var("MCP_AUTH_PROXY_UPSTREAM_TOKEN") {
        if !token.is_empty() {
            config.upstream_token = Some(AccessToken::new(token));
        }
    }
    Ok(Some(config))
}

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(Some(c)) => c,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mcp-auth-proxy: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mode = config.mode;
    let upstream = config.upstream.clone();
    let proxy = match Proxy::start(config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("mcp-auth-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "mcp-auth-proxy: {} -> {upstream} (mode {})",
        proxy.mcp_url(),
        mode.as_str()
    );
    if let Some(prm) = proxy.prm_url() {
        println!("mcp-auth-proxy: protected resource metadata relayed at {prm}");
    }
    // Serve until the process is killed; the proxy's runtime does the work.
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn parses_every_option() {
        let c = parse(args(&[
            "--upstream",
            "http://127.0.0.1:9/mcp",
            "--listen",
            "127.0.0.1:0",
            "--path",
            "/m",
            "--allow-origin",
            "http://a",
            "--allow-origin",
            "http://b",
            "--allow-credentials",
            "--rewrite-resource-metadata",
            "--public-url",
            "https://gw.example",
            "--prm-upstream",
            "http://127.0.0.1:9/prm",
            "--prm-resource",
            "https://gw.example/m",
            "--mode",
            "no-expose",
            "--timeout",
            "5",
            "--max-connections",
            "3",
            "--request-timeout",
            "7",
            "--verbose",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.upstream, "http://127.0.0.1:9/mcp");
        assert_eq!(c.path, "/m");
        assert_eq!(c.cors.allowed_origins, ["http://a", "http://b"]);
        assert!(c.cors.allow_credentials);
        assert!(c.rewrite_resource_metadata);
        assert_eq!(c.mode, Mode::NoExpose);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.max_connections, 3);
        assert_eq!(c.request_timeout, Duration::from_secs(7));
        assert!(c.verbose);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(args(&[])).is_err());
        assert!(parse(args(&["--upstream"])).is_err());
        assert!(parse(args(&["--upstream", "u", "--mode", "x"])).is_err());
        assert!(parse(args(&["--upstream", "u", "--bogus"])).is_err());
        assert!(parse(args(&["--upstream", "u", "--listen", "nope"])).is_err());
        assert!(parse(args(&["--upstream", "u", "--max-connections", "0"])).is_err());
        assert!(parse(args(&["--help"])).unwrap().is_none());
    }
}
