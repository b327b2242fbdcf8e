//! The trust boundary: which addresses a server may make the client reach (the address
//! policy), and which origin gets the access token (the origin binding).
//!
//! # The address policy
//! Every URL a server supplies — the `resource_metadata` of a challenge, the protected resource
//! metadata's `authorization_servers` (and so the metadata URLs built from them), every endpoint
//! of the authorization server metadata (authorization, token, registration, revocation, device,
//! JWKS) — is vetted before any byte is sent to it:
//! - **userinfo** (`https://user:pass@host/`) is refused (it would become an `Authorization:
//!   Basic` header);
//! - the **address** must be public: loopback (`127.0.0.0/8`, `::1`), link-local
//!   (`169.254.0.0/16`, `fe80::/10`), private (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`,
//!   `fc00::/7`, `fec0::/10`), shared address space (CGNAT, `100.64.0.0/10`), unspecified
//!   (`0.0.0.0/8`, `::`), multicast, broadcast and reserved (`240.0.0.0/4`, `192.0.0.0/24`,
//!   `198.18.0.0/15`, `100::/64`) addresses are refused, also when written as IPv4-mapped,
//!   IPv4-compatible, NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4 (`2002::/16`) or Teredo
//!   (`2001::/32`) IPv6 addresses;
//! - **unless** the MCP server itself is on that class of address (local development: a
//!   loopback MCP server may use a loopback authorization server; a server on a private network
//!   one on the same kind of network). The MCP server's class is taken from the addresses its
//!   host resolved to the first time the client resolved it (or its IP literal, or `localhost`),
//!   and only when all of them are in one class: a name answering a public and a loopback
//!   address unlocks nothing. It is fixed for the client's life, so a later DNS answer cannot
//!   widen it. With an [`HttpClient`] of the host's own only the URL counts (an IP literal or
//!   `localhost`);
//! - **or** the host allows it explicitly: [`ClientConfig::allowed_addresses`] lists host names
//!   (`sso.corp.example`, `*.corp.example`) and addresses or CIDR blocks (`10.1.2.3`,
//!   `10.0.0.0/8`, `fd00::/8`).
//!
//! The check runs on the address actually connected to: the default HTTP client resolves a name
//! once, hands the answer to the policy ([`crate::http::AddressFilter`]) and connects only to
//! the addresses it kept, so there is no window between check and connection for a DNS
//! rebinding. IP literals and `localhost` are checked before the request is even given to the
//! HTTP client (also with an [`HttpClient`] of the host's own, which can only be checked that
//! way). Through a proxy the proxy resolves names: then only literals and `localhost` are
//! checked, and the proxy's own egress rules apply.
//!
//! URLs the host gives (the MCP server URL and every URL on its origin, the identity provider's
//! token endpoint of enterprise-managed authorization) are not subject to it.
//!
//! # The origin binding
//! [`Client::send`](crate::Client::send) attaches the token only to requests for the protected
//! resource's origin (scheme, host and port of the MCP server URL, default ports normalised).
//! A request for another origin is refused with [`Error::ForeignOrigin`], or sent once without
//! the token (and without running any flow on its 401) when
//! [`ClientConfig::cross_origin`] is [`CrossOrigin::WithoutToken`].
//!
//! [`ClientConfig::allowed_addresses`]: crate::ClientConfig::allowed_addresses
//! [`ClientConfig::cross_origin`]: crate::ClientConfig::cross_origin

use std::cell::RefCell;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::http::{AddressFilter, HttpClient, StreamedResponse, redact_url};

/// The class of an IP address, for the address policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// Globally routable (documentation ranges such as `203.0.113.0/24` included).
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `169.254.0.0/16` (cloud metadata services live here), `fe80::/10`.
    LinkLocal,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7`, `fec0::/10`.
    Private,
    /// `100.64.0.0/10` (RFC 6598, carrier-grade NAT).
    SharedAddressSpace,
    /// `0.0.0.0/8`, `::` (connecting there reaches the local host on many systems).
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `240.0.0.0/4`, `192.0.0.0/24`, `198.18.0.0/15`, `100::/64`.
    Reserved,
}

impl AddressClass {
    /// The class of `ip`; an IPv6 address that embeds an IPv4 address (mapped, compatible,
    /// NAT64, 6to4, Teredo) has the IPv4 address's class when that one is not public.
    pub fn of(ip: IpAddr) -> AddressClass {
        match ip {
            IpAddr::V4(v4) => v4_class(v4),
            IpAddr::V6(v6) => v6_class(v6),
        }
    }

    /// A stable snake_case name, e.g. `"link_local"`.
    pub fn name(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::LinkLocal => "link_local",
            AddressClass::Private => "private",
            AddressClass::SharedAddressSpace => "shared_address_space",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
        }
    }

    fn described(self) -> &'static str {
        match self {
            AddressClass::Public => "a public address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::Private => "a private-network address",
            AddressClass::SharedAddressSpace => "a shared (carrier-grade NAT) address",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Broadcast => "a broadcast address",
            AddressClass::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn v4_class(ip: Ipv4Addr) -> AddressClass {
    let o = ip.octets();
    if o[0] == 0 {
        AddressClass::Unspecified
    } else if o[0] == 127 {
        AddressClass::Loopback
    } else if in_v4(ip, [169, 254, 0, 0], 16) {
        AddressClass::LinkLocal
    } else if o[0] == 10 || in_v4(ip, [172, 16, 0, 0], 12) || in_v4(ip, [192, 168, 0, 0], 16) {
        AddressClass::Private
    } else if in_v4(ip, [100, 64, 0, 0], 10) {
        AddressClass::SharedAddressSpace
    } else if ip.is_broadcast() {
        AddressClass::Broadcast
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else if o[0] >= 240 || in_v4(ip, [192, 0, 0, 0], 24) || in_v4(ip, [198, 18, 0, 0], 15) {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn v6_class(ip: Ipv6Addr) -> AddressClass {
    let s = ip.segments();
    let bits = u128::from(ip);
    let embedded = |v4: u32| {
        let c = v4_class(Ipv4Addr::from(v4));
        (c != AddressClass::Public).then_some(c)
    };
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
    if bits >> 32 == 0xffff || bits >> 32 == 0 {
        return v4_class(Ipv4Addr::from(bits as u32));
    }
    // NAT64: 64:ff9b::/96 (well-known) and 64:ff9b:1::/48 (local use) reach the IPv4 host.
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
    {
        return embedded(bits as u32).unwrap_or(AddressClass::Public);
    }
    // 6to4: 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD.
    if s[0] == 0x2002 {
        let v4 = (u32::from(s[1]) << 16) | u32::from(s[2]);
        return embedded(v4).unwrap_or(AddressClass::Public);
    }
    // Teredo: 2001:0::/32, the client's IPv4 address is the last 32 bits inverted.
    if s[0] == 0x2001 && s[1] == 0 {
        return embedded(!(bits as u32)).unwrap_or(AddressClass::Public);
    }
    match s[0] {
        x if x & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        x if x & 0xffc0 == 0xfec0 => AddressClass::Private,
        x if x & 0xfe00 == 0xfc00 => AddressClass::Private,
        x if x & 0xff00 == 0xff00 => AddressClass::Multicast,
        0x0100 if s[1..4] == [0, 0, 0] => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

/// One entry of [`ClientConfig::allowed_addresses`](crate::ClientConfig::allowed_addresses): a
/// host name (`sso.corp.example`, or `*.corp.example` for its subdomains), an address
/// (`10.1.2.3`, `[fd00::1]`) or a CIDR block (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedAddress {
    /// A host name, lower case, without a final dot.
    Host(String),
    /// Every subdomain of this name (written `*.name`).
    Subdomains(String),
    /// An address block.
    Net {
        /// The block's address.
        addr: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
}

impl FromStr for AllowedAddress {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid_argument("allowed_addresses", format!("{s:?} {why}"));
        let t = s.trim();
        let unbracketed = |x: &str| {
            x.strip_prefix('[')
                .and_then(|y| y.strip_suffix(']'))
                .unwrap_or(x)
                .to_owned()
        };
        if let Some((a, p)) = t.split_once('/') {
            let addr: IpAddr = unbracketed(a)
                .parse()
                .map_err(|_| bad("is not an address block (expected e.g. 10.0.0.0/8)"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = p
                .parse()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| bad("has an invalid prefix length"))?;
            return Ok(AllowedAddress::Net { addr, prefix });
        }
        if let Ok(addr) = unbracketed(t).parse::<IpAddr>() {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(AllowedAddress::Net { addr, prefix });
        }
        let host = t.strip_suffix('.').unwrap_or(t).to_ascii_lowercase();
        let (wild, name) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest.to_owned()),
            None => (false, host),
        };
        let valid = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(bad(
                "is not a host name, an address or an address block (e.g. sso.corp.example, *.corp.example, 10.0.0.0/8)",
            ));
        }
        Ok(if wild {
            AllowedAddress::Subdomains(name)
        } else {
            AllowedAddress::Host(name)
        })
    }
}

impl AllowedAddress {
    fn allows_host(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        match self {
            AllowedAddress::Host(h) => host.eq_ignore_ascii_case(h),
            AllowedAddress::Subdomains(d) => {
                host.len() > d.len() + 1
                    && host.as_bytes()[host.len() - d.len() - 1] == b'.'
                    && host[host.len() - d.len()..].eq_ignore_ascii_case(d)
            }
            AllowedAddress::Net { .. } => false,
        }
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        let AllowedAddress::Net { addr, prefix } = self else {
            return false;
        };
        // An IPv4-mapped IPv6 address matches IPv4 blocks.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (ip, addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => in_v4(a, b.octets(), u32::from(*prefix)),
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(a) & mask == u128::from(*b) & mask
            }
            _ => false,
        }
    }
}

/// What [`Client::send`](crate::Client::send) does with a request for another origin than the
/// protected resource's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrossOrigin {
    /// Refuse it with [`Error::ForeignOrigin`] (default): nothing is sent.
    #[default]
    Refuse,
    /// Send it once without the token, and return its response as is (a 401 from there runs no
    /// flow).
    WithoutToken,
}

impl CrossOrigin {
    /// `"refuse"` or `"without_token"`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another value.
    pub fn parse(s: &str) -> Result<CrossOrigin> {
        match s {
            "refuse" => Ok(CrossOrigin::Refuse),
            "without_token" => Ok(CrossOrigin::WithoutToken),
            other => Err(Error::invalid_argument(
                "cross_origin",
                format!("'{other}' (expected refuse or without_token)"),
            )),
        }
    }
}

/// The policy of one client.
pub(crate) struct Policy {
    /// Distinguishes policies in the thread-local marker.
    id: usize,
    server_origin: url::Origin,
    /// Origins the host gave (the server's, the identity provider's): not policed.
    exempt: Vec<url::Origin>,
    server_host: String,
    server_class: OnceLock<Option<AddressClass>>,
    allowed: Vec<AllowedAddress>,
    /// Whether the client's HTTP client is the default one (with [`PolicyFilter`]): then names
    /// are resolved to vet URLs the client does not fetch itself.
    resolve_names: bool,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("server_origin", &self.server_origin.ascii_serialization())
            .field("server_class", &self.server_class.get())
            .field("allowed", &self.allowed)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// The policed requests in progress on this thread: (policy id, target host).
    static POLICED: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
}

/// Removes the thread-local marker when the request ends (also on unwinding).
struct Marked;

impl Drop for Marked {
    fn drop(&mut self) {
        POLICED.with(|p| p.borrow_mut().pop());
    }
}

fn origin(url: &str) -> Option<url::Origin> {
    let u = url::Url::parse(url).ok()?;
    let o = u.origin();
    o.is_tuple().then_some(o)
}

fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host.len() > 10 && host.as_bytes()[host.len() - 10..].eq_ignore_ascii_case(b".localhost")
}

impl Policy {
    /// The policy for `server_url`, exempting `host_given` URLs' origins too.
    pub(crate) fn new(
        server_url: &str,
        host_given: &[&str],
        allowed: &[String],
        resolve_names: bool,
    ) -> Result<Policy> {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let server_origin = origin(server_url).ok_or_else(|| {
            Error::invalid_argument("server URL", "must be an absolute http(s) URL")
        })?;
        let server_host = url::Url::parse(server_url)
            .ok()
            .and_then(|u| u.host_str().map(|h| bare_host(h).to_owned()))
            .unwrap_or_default();
        let mut exempt = vec![server_origin.clone()];
        exempt.extend(host_given.iter().filter_map(|u| origin(u)));
        let allowed = allowed
            .iter()
            .map(|a| a.parse())
            .collect::<Result<Vec<AllowedAddress>>>()?;
        let server_class = OnceLock::new();
        if let Ok(ip) = server_host.parse::<IpAddr>() {
            let _ = server_class.set(Some(AddressClass::of(ip)));
        } else if is_localhost(&server_host) {
            let _ = server_class.set(Some(AddressClass::Loopback));
        }
        Ok(Policy {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            server_origin,
            exempt,
            server_host,
            server_class,
            allowed,
            resolve_names,
        })
    }

    /// See the `resolve_names` field.
    pub(crate) fn resolves_names(&self) -> bool {
        self.resolve_names
    }

    /// Whether `uri` is on the protected resource's origin.
    pub(crate) fn is_resource_origin(&self, uri: &http::Uri) -> bool {
        origin(&uri.to_string()).is_some_and(|o| o == self.server_origin)
    }

    /// The protected resource's origin, `scheme://host[:port]`.
    pub(crate) fn resource_origin(&self) -> String {
        self.server_origin.ascii_serialization()
    }

    fn is_exempt(&self, uri: &http::Uri) -> bool {
        origin(&uri.to_string()).is_some_and(|o| self.exempt.contains(&o))
    }

    /// The class the MCP server's addresses share, `None` when public or mixed.
    fn server_class(&self) -> Option<AddressClass> {
        *self.server_class.get_or_init(|| {
            // A host-supplied HTTP client resolves names its own way: only the URL counts.
            if !self.resolve_names {
                return None;
            }
            // Not resolved through the client yet (a refresh before any request to the
            // server): resolve now.
            let addrs: Vec<SocketAddr> = (self.server_host.as_str(), 0)
                .to_socket_addrs()
                .map(Iterator::collect)
                .unwrap_or_default();
            common_class(&addrs)
        })
    }

    /// Why `ip` (which `host` resolved to, or is) may not be reached; `None` when it may.
    fn refusal(&self, host: &str, ip: IpAddr) -> Option<String> {
        let class = AddressClass::of(ip);
        if class == AddressClass::Public
            || self
                .allowed
                .iter()
                .any(|a| a.allows_host(host) || a.allows_ip(ip))
        {
            return None;
        }
        let server = self.server_class();
        // Connecting to an unspecified address reaches the local host: a server written as
        // 0.0.0.0 counts as loopback too.
        if server == Some(class)
            || (server == Some(AddressClass::Unspecified) && class == AddressClass::Loopback)
        {
            return None;
        }
        let shown = if host.parse::<IpAddr>().is_ok() {
            ip.to_string()
        } else {
            format!("{host} resolves to {ip}, which")
        };
        Some(format!(
            "{shown} is {} and the MCP server is not (a server-supplied URL may reach such an address only when the MCP server is on one, or when allowed_addresses lists it)",
            class.described()
        ))
    }

    /// The checks that need no name resolution: userinfo, IP literals, `localhost`.
    fn precheck(&self, uri: &http::Uri) -> Result<()> {
        let refused = |reason: String| Error::AddressRefused {
            url: redact_url(&uri.to_string()),
            reason,
        };
        let Some(authority) = uri.authority() else {
            return Ok(());
        };
        if authority.as_str().contains('@') {
            return Err(refused(
                "a server-supplied URL must not carry userinfo (user:password@)".to_owned(),
            ));
        }
        let host = bare_host(authority.host());
        let ip = if let Ok(ip) = host.parse::<IpAddr>() {
            ip
        } else if let Some(ip) = whatwg_ip(uri) {
            // `127.1`, `2130706433`, `0x7f.0.0.1`: what a resolver (inet_aton) and a browser
            // read as an IPv4 address.
            ip
        } else if is_localhost(host) {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            return Ok(());
        };
        match self.refusal(host, ip) {
            Some(reason) => Err(refused(reason)),
            None => Ok(()),
        }
    }

    /// Vet a server-supplied URL that the client does not fetch itself (the authorization
    /// endpoint, opened in a browser): userinfo, literals, and — when `resolve` — the
    /// addresses its host resolves to now.
    pub(crate) fn vet_url(&self, what: &'static str, url: &str, resolve: bool) -> Result<()> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| Error::invalid_argument(what, format!("{}: {e}", redact_url(url))))?;
        if self.is_exempt(&uri) {
            return Ok(());
        }
        self.precheck(&uri)?;
        let Some(host) = uri.host().map(bare_host) else {
            return Ok(());
        };
        if !resolve || host.parse::<IpAddr>().is_ok() || is_localhost(host) {
            return Ok(());
        }
        let port = uri.port_u16().unwrap_or(443);
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map(Iterator::collect)
            .unwrap_or_default();
        for a in addrs {
            if let Some(reason) = self.refusal(host, a.ip()) {
                return Err(Error::AddressRefused {
                    url: redact_url(url),
                    reason,
                });
            }
        }
        Ok(())
    }
}

/// The IP address a WHATWG URL parser reads in `uri`'s host (numeric IPv4 spellings included).
fn whatwg_ip(uri: &http::Uri) -> Option<IpAddr> {
    match url::Url::parse(&uri.to_string()).ok()?.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// The class all of `addrs` share, when it is not public.
fn common_class(addrs: &[SocketAddr]) -> Option<AddressClass> {
    let first = AddressClass::of(addrs.first()?.ip());
    (first != AddressClass::Public && addrs.iter().all(|a| AddressClass::of(a.ip()) == first))
        .then_some(first)
}

/// The [`AddressFilter`] of a client's default HTTP client: enforces the policy on the
/// addresses of policed requests, and learns the MCP server's class from its first resolution.
#[derive(Debug)]
pub(crate) struct PolicyFilter(pub(crate) Arc<Policy>);

impl AddressFilter for PolicyFilter {
    fn filter(&self, host: &str, addrs: &mut Vec<SocketAddr>) -> std::result::Result<(), String> {
        let policy = &*self.0;
        let target = POLICED.with(|p| {
            p.borrow()
                .last()
                .filter(|(id, _)| *id == policy.id)
                .map(|(_, h)| h.clone())
        });
        match target {
            // A policed request, resolving its own host (not a proxy's).
            Some(t) if t.eq_ignore_ascii_case(host) => {
                let mut first_refusal = None;
                addrs.retain(|a| match policy.refusal(host, a.ip()) {
                    None => true,
                    Some(r) => {
                        first_refusal.get_or_insert(r);
                        false
                    }
                });
                match (addrs.is_empty(), first_refusal) {
                    (true, Some(r)) => Err(r),
                    _ => Ok(()),
                }
            }
            Some(_) => Ok(()),
            None => {
                if host.eq_ignore_ascii_case(&policy.server_host) {
                    let _ = policy.server_class.set(common_class(addrs));
                }
                Ok(())
            }
        }
    }
}

/// The HTTP client the flow uses: requests for host-given origins pass through, every other
/// one is prechecked and marked so that [`PolicyFilter`] vets its resolved addresses.
pub(crate) struct PolicedHttp {
    pub(crate) inner: Arc<dyn HttpClient>,
    pub(crate) policy: Arc<Policy>,
}

impl PolicedHttp {
    fn guard(&self, uri: &http::Uri) -> Result<Option<Marked>> {
        if self.policy.is_exempt(uri) {
            return Ok(None);
        }
        self.policy.precheck(uri)?;
        let host = uri.host().map(bare_host).unwrap_or_default().to_owned();
        POLICED.with(|p| p.borrow_mut().push((self.policy.id, host)));
        Ok(Some(Marked))
    }
}

impl HttpClient for PolicedHttp {
    fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        let _marked = self.guard(request.uri())?;
        self.inner.execute(request)
    }

    fn execute_streamed(&self, request: http::Request<Vec<u8>>) -> Result<StreamedResponse> {
        let _marked = self.guard(request.uri())?;
        self.inner.execute_streamed(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> AddressClass {
        AddressClass::of(s.parse().unwrap())
    }

    #[test]
    fn addresses_are_classified() {
        use AddressClass::*;
        for (a, c) in [
            ("8.8.8.8", Public),
            ("203.0.113.10", Public),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("169.254.169.254", LinkLocal),
            ("10.0.0.5", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.32.0.1", Public),
            ("192.168.1.1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.128.0.1", Public),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("224.0.0.1", Multicast),
            ("255.255.255.255", Broadcast),
            ("240.0.0.1", Reserved),
            ("192.0.0.170", Reserved),
            ("198.18.0.1", Reserved),
            ("::", Unspecified),
            ("::1", Loopback),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:10.1.1.1", Private),
            ("::ffff:8.8.8.8", Public),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("64:ff9b:1::a00:1", Private),
            ("2002:7f00:1::", Loopback),
            ("2002:0808:0808::", Public),
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", Loopback),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("ff02::1", Multicast),
            ("100::1", Reserved),
            ("2606:4700::1111", Public),
        ] {
            assert_eq!(class(a), c, "{a}");
        }
    }

    #[test]
    fn allowlist_entries_parse_and_match() {
        let e: AllowedAddress = "10.0.0.0/8".parse().unwrap();
        assert!(e.allows_ip("10.9.8.7".parse().unwrap()));
        assert!(e.allows_ip("::ffff:10.9.8.7".parse().unwrap()));
        assert!(!e.allows_ip("11.0.0.1".parse().unwrap()));
        let e: AllowedAddress = "[fd00::1]".parse().unwrap();
        assert!(e.allows_ip("fd00::1".parse().unwrap()));
        assert!(!e.allows_ip("fd00::2".parse().unwrap()));
        let e: AllowedAddress = "fd00::/8".parse().unwrap();
        assert!(e.allows_ip("fdff::2".parse().unwrap()));
        let e: AllowedAddress = "SSO.Corp.Example.".parse().unwrap();
        assert!(e.allows_host("sso.corp.example"));
        assert!(!e.allows_host("x.sso.corp.example"));
        let e: AllowedAddress = "*.corp.example".parse().unwrap();
        assert!(e.allows_host("sso.CORP.example"));
        assert!(!e.allows_host("corp.example"));
        assert!(!e.allows_host("evilcorp.example"));
        let e: AllowedAddress = "0.0.0.0/0".parse().unwrap();
        assert!(e.allows_ip("127.0.0.1".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "a b",
            "",
            "*.",
            "x/8",
            "http://h",
        ] {
            assert!(bad.parse::<AllowedAddress>().is_err(), "{bad}");
        }
    }

    fn policy(server: &str, allowed: &[&str]) -> Policy {
        let allowed: Vec<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
        Policy::new(server, &["https://idp.example.com/token"], &allowed, false).unwrap()
    }

    fn pre(p: &Policy, url: &str) -> Result<()> {
        let uri: http::Uri = url.parse().unwrap();
        if p.is_exempt(&uri) {
            return Ok(());
        }
        p.precheck(&uri)
    }

    #[test]
    fn literals_follow_the_server_class_and_the_allowlist() {
        let public = policy("https://203.0.113.10/mcp", &[]);
        for url in [
            "http://127.0.0.1:9/admin?all=1",
            "https://169.254.169.254/latest",
            "https://10.0.0.5/",
            "https://[::ffff:127.0.0.1]:9/",
            "https://[fe80::1]/",
            "http://localhost:9/",
            "http://app.localhost/",
            "https://0.0.0.0/",
            "http://127.1:9/",
            "http://2130706433:9/",
            "http://0x7f.0.0.1:9/",
            "https://0251.0376.0251.0376/",
        ] {
            let e = pre(&public, url).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::AddressRefused, "{url}");
            assert!(!e.to_string().contains("all=1"), "{e}");
        }
        pre(&public, "https://198.51.100.7/x").unwrap();
        pre(&public, "https://as.example.com/x").unwrap();
        // Host-given origins are not policed.
        pre(
            &public,
            "https://203.0.113.10/.well-known/oauth-protected-resource",
        )
        .unwrap();
        pre(&public, "https://idp.example.com/other").unwrap();
        let e = pre(&public, "https://u:p@as.example.com/x").unwrap_err();
        assert!(
            e.to_string().contains("userinfo") && !e.to_string().contains("u:p"),
            "{e}"
        );

        let local = policy("http://127.0.0.1:8000/mcp", &[]);
        pre(&local, "http://127.0.0.1:9000/token").unwrap();
        pre(&local, "http://localhost:9000/token").unwrap();
        pre(&local, "http://[::1]:9000/token").unwrap();
        assert!(pre(&local, "https://10.0.0.5/").is_err());
        assert!(pre(&local, "https://169.254.169.254/").is_err());

        let any = policy("http://0.0.0.0:8000/mcp", &[]);
        pre(&any, "http://127.0.0.1:9000/token").unwrap();

        let allowed = policy("https://203.0.113.10/mcp", &["10.0.0.0/8", "localhost"]);
        pre(&allowed, "https://10.0.0.5/").unwrap();
        pre(&allowed, "http://localhost:9/").unwrap();
        assert!(pre(&allowed, "https://192.168.0.1/").is_err());
    }

    #[test]
    fn the_filter_vets_only_policed_requests_and_learns_the_server_class() {
        let p = Arc::new(Policy::new("https://mcp.corp.example/mcp", &[], &[], true).unwrap());
        let f = PolicyFilter(p.clone());
        let private: SocketAddr = "10.1.2.3:443".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:443".parse().unwrap();
        let public: SocketAddr = "203.0.113.5:443".parse().unwrap();
        // Unpoliced: the MCP server's own resolution fixes its class.
        let mut a = vec![private];
        f.filter("mcp.corp.example", &mut a).unwrap();
        assert_eq!(p.server_class(), Some(AddressClass::Private));
        // A later answer does not widen it.
        let mut a = vec![lo];
        f.filter("mcp.corp.example", &mut a).unwrap();
        assert_eq!(p.server_class(), Some(AddressClass::Private));
        POLICED.with(|m| m.borrow_mut().push((p.id, "sso.corp.example".into())));
        let mut a = vec![private, lo, public];
        f.filter("sso.corp.example", &mut a).unwrap();
        assert_eq!(a, vec![private, public]);
        let mut a = vec![lo];
        let e = f.filter("sso.corp.example", &mut a).unwrap_err();
        assert!(e.contains("sso.corp.example resolves to 127.0.0.1"), "{e}");
        // A proxy's resolution is not the target's.
        let mut a = vec![lo];
        f.filter("proxy.corp.example", &mut a).unwrap();
        POLICED.with(|m| m.borrow_mut().pop());
    }

    #[test]
    fn a_server_answering_mixed_classes_unlocks_nothing() {
        let addrs: Vec<SocketAddr> = vec![
            "203.0.113.10:443".parse().unwrap(),
            "127.0.0.1:443".parse().unwrap(),
        ];
        assert_eq!(common_class(&addrs), None);
        assert_eq!(common_class(&addrs[1..]), Some(AddressClass::Loopback));
        assert_eq!(common_class(&[]), None);
    }

    #[test]
    fn cross_origin_parses() {
        assert_eq!(CrossOrigin::parse("refuse").unwrap(), CrossOrigin::Refuse);
        assert_eq!(
            CrossOrigin::parse("without_token").unwrap(),
            CrossOrigin::WithoutToken
        );
        assert!(CrossOrigin::parse("allow").is_err());
    }
}
