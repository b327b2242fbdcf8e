//! Name resolution for [`UreqHttpClient`](super::UreqHttpClient) without a thread per request.
//!
//! ureq's default resolver spawns a thread for every lookup whenever a timeout is set, even for
//! an IP literal and even when the connection then comes from the pool. This one:
//! - answers IP literals and `localhost` (RFC 6761 §6.3: always loopback) directly;
//! - resolves other names on a small, bounded set of shared worker threads (at most
//!   [`RESOLVER_THREADS`] per process, started on first use), waiting at most the connect
//!   timeout for the answer;
//! - hands the addresses to an optional [`AddressFilter`] before any connection is made: the
//!   one place where an address policy (which addresses a server may make the client reach)
//!   applies to what a name really resolved to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;

use ureq::config::Config;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// ureq keeps at most this many addresses per lookup.
const MAX_ADDRS: usize = 16;

/// How many threads resolve names, process-wide.
pub const RESOLVER_THREADS: usize = 4;

/// Decides which resolved addresses may be connected to.
///
/// Called once per new connection with the host as the URL names it (IPv6 without brackets,
/// lower case as given) and every address it resolved to, in order. Remove the addresses
/// that must not be reached; return `Err(reason)` to refuse the request (it fails with
/// [`Error::AddressRefused`](crate::Error::AddressRefused) naming the reason, before any
/// connection). When all addresses are removed the request is refused too.
///
/// Through a proxy, the addresses are the proxy's (the target is resolved by the proxy).
pub trait AddressFilter: Send + Sync + fmt::Debug + 'static {
    /// Filter `addrs`, the addresses `host` resolved to.
    ///
    /// # Errors
    /// The reason the request is refused.
    fn filter(&self, host: &str, addrs: &mut Vec<SocketAddr>) -> Result<(), String>;
}

/// The error an [`AddressFilter`] refusal travels in through ureq.
#[derive(Debug)]
pub(crate) struct AddressRefused(pub(crate) String);

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "address refused: {}", self.0)
    }
}

impl std::error::Error for AddressRefused {}

/// The resolver given to every agent.
#[derive(Debug, Clone, Default)]
pub(crate) struct McpResolver {
    pub(crate) filter: Option<Arc<dyn AddressFilter>>,
}

impl Resolver for McpResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let port = match (uri.port_u16(), uri.scheme_str()) {
            (Some(p), _) => p,
            (None, Some("http")) => 80,
            (None, Some("https")) => 443,
            (None, Some(s)) if s.starts_with("socks") => 1080,
            _ => {
                return Err(ureq::Error::BadUri(format!(
                    "no port for {}",
                    uri.scheme_str().unwrap_or("?")
                )));
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| ureq::Error::BadUri("no host".into()))?;
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let found: Vec<SocketAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
            vec![SocketAddr::new(ip, port)]
        } else if is_localhost(bare) {
            vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            ]
        } else if timeout.after.is_not_happening() {
            (bare, port).to_socket_addrs()?.collect()
        } else {
            resolve_on_pool(bare, port, &timeout)?
        };
        let mut addrs: Vec<SocketAddr> =
            config.ip_family().keep_wanted(found.into_iter()).collect();
        if let Some(filter) = &self.filter {
            filter
                .filter(bare, &mut addrs)
                .map_err(|r| ureq::Error::Io(std::io::Error::other(AddressRefused(r))))?;
            if addrs.is_empty() {
                return Err(ureq::Error::Io(std::io::Error::other(AddressRefused(
                    format!("no permitted address for {bare}"),
                ))));
            }
        }
        let mut out = self.empty();
        for a in addrs.into_iter().take(MAX_ADDRS) {
            out.push(a);
        }
        if out.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
    }
}

/// `localhost` and `*.localhost` (RFC 6761 §6.3), with or without the final dot.
fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host.len() > 10 && host.as_bytes()[host.len() - 10..].eq_ignore_ascii_case(b".localhost")
}

type Answer = std::io::Result<Vec<SocketAddr>>;
type Job = (String, u16, SyncSender<Answer>);

/// The shared queue of the resolver threads, started on first use.
fn pool() -> &'static Mutex<Sender<Job>> {
    static POOL: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..RESOLVER_THREADS {
            let rx: Arc<Mutex<Receiver<Job>>> = rx.clone();
            let _ = thread::Builder::new()
                .name(format!("mcp-auth-resolver-{i}"))
                .spawn(move || {
                    loop {
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok((host, port, reply)) = job else { return };
                        let answer = (host.as_str(), port)
                            .to_socket_addrs()
                            .map(Iterator::collect);
                        // The caller may have given up (timeout): nothing to do then.
                        let _ = reply.try_send(answer);
                    }
                });
        }
        Mutex::new(tx)
    })
}

/// Resolve on the pool, waiting at most `timeout`.
fn resolve_on_pool(
    host: &str,
    port: u16,
    timeout: &NextTimeout,
) -> Result<Vec<SocketAddr>, ureq::Error> {
    let (reply, answer) = mpsc::sync_channel(1);
    pool()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send((host.to_owned(), port, reply))
        .map_err(|_| ureq::Error::HostNotFound)?;
    match answer.recv_timeout(*timeout.after) {
        Ok(found) => Ok(found?),
        Err(RecvTimeoutError::Timeout) => Err(ureq::Error::Timeout(timeout.reason)),
        Err(RecvTimeoutError::Disconnected) => Err(ureq::Error::HostNotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(r: &McpResolver, url: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: http::Uri = url.parse().unwrap();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from_secs(5),
            reason: ureq::Timeout::Connect,
            ..NextTimeout::default()
        };
        r.resolve(&uri, &Config::default(), timeout)
            .map(|a| a.iter().copied().collect())
    }

    #[test]
    fn literals_and_localhost_are_answered_directly() {
        let r = McpResolver::default();
        assert_eq!(
            resolve(&r, "http://127.0.0.1:8080/x").unwrap(),
            vec!["127.0.0.1:8080".parse().unwrap()]
        );
        assert_eq!(
            resolve(&r, "https://[::1]/").unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
        assert_eq!(
            resolve(&r, "http://LocalHost.:81/").unwrap(),
            vec!["127.0.0.1:81".parse().unwrap(), "[::1]:81".parse().unwrap()]
        );
        assert_eq!(resolve(&r, "http://a.localhost/").unwrap().len(), 2);
    }

    #[derive(Debug)]
    struct OnlyV4;
    impl AddressFilter for OnlyV4 {
        fn filter(&self, host: &str, addrs: &mut Vec<SocketAddr>) -> Result<(), String> {
            if host == "forbidden.localhost" {
                return Err("forbidden".into());
            }
            addrs.retain(SocketAddr::is_ipv4);
            Ok(())
        }
    }

    #[test]
    fn the_filter_sees_and_trims_the_resolved_addresses() {
        let r = McpResolver {
            filter: Some(Arc::new(OnlyV4)),
        };
        assert_eq!(
            resolve(&r, "http://localhost:1/").unwrap(),
            vec!["127.0.0.1:1".parse().unwrap()]
        );
        let e = resolve(&r, "http://[::1]:1/").unwrap_err();
        assert!(e.to_string().contains("no permitted address"), "{e}");
        let e = resolve(&r, "http://forbidden.localhost:1/").unwrap_err();
        assert!(e.to_string().contains("forbidden"), "{e}");
    }
}
