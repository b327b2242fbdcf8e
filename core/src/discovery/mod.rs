//! Metadata discovery URLs: the ordered candidate lists a client fetches to find the protected
//! resource metadata (RFC 9728) and the authorization server metadata (RFC 8414, OpenID Connect
//! Discovery 1.0), in the order MCP prescribes (SEP-985 and the MCP authorization
//! specification, including the 2025-03-26 legacy fallback).
//!
//! The builders are pure string functions: they scan the URL's authority themselves instead of
//! calling [`url::Url::parse`], because `Url` would normalise what the reference keeps verbatim
//! (host case, an explicit default port such as `:443`, userinfo) and because a candidate list
//! costs a few hundred nanoseconds this way.
//!
//! # Which inputs are URLs
//! A server or issuer URL is used only if it is *absolute*: an `http` or `https` scheme
//! (any case; written back in lower case), `//`, and an authority with a non-empty host whose
//! IPv6 or IPvFuture literal, if bracketed, is well formed (RFC 3986 §3.2.2). Anything else
//! (`api.example.com/mcp`, `https:///x`, `https://[::1/x`) yields no derived candidates.
//! The Python reference instead emits relative junk such as
//! `/.well-known/oauth-protected-resourceapi.example.com/mcp` or raises; see docs/differences.md,
//! row `prm_discovery_urls#12`.
//!
//! As in the reference (which uses Python's `urlsplit`), leading C0 control characters and
//! spaces are ignored and tabs, CR and LF are removed before the URL is read (WHATWG URL
//! standard); nothing else is normalised: host case, port, userinfo and percent-encoding are
//! kept exactly as given, and the query and fragment are dropped.
//!
//! # Security
//! The `WWW-Authenticate` `resource_metadata` URL is put first verbatim, as SEP-985 requires; it
//! may name any host. Deciding whether to fetch it (same-origin policy, HTTPS) is the caller's
//! job, not this module's.

use std::borrow::Cow;

mod chain;

pub(crate) use chain::Discoverer;
pub use chain::Discovery;

/// RFC 9728 §3: the well-known URI suffix of protected resource metadata.
const PRM_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
/// RFC 8414 §3: the well-known URI suffix of authorization server metadata.
const OAUTH_AS_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// OpenID Connect Discovery 1.0 §4: the OpenID provider configuration suffix.
const OIDC_WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// Build the ordered list of URLs at which to look for the protected resource metadata of the
/// MCP server `server_url` (RFC 9728 §3.1, SEP-985).
///
/// The order is:
/// 1. `www_auth_url`, the `resource_metadata` parameter of the `WWW-Authenticate` challenge
///    (RFC 9728 §5.1), verbatim, when it is present and non-empty;
/// 2. the path-based well-known URL (RFC 9728 §3.1: the suffix goes between the host and the
///    path), `{scheme}://{authority}/.well-known/oauth-protected-resource{path}`, when the path
///    is neither empty nor `/`; a trailing slash is kept (`/v1/mcp/` stays `/v1/mcp/`);
/// 3. the root well-known URL, `{scheme}://{authority}/.well-known/oauth-protected-resource`.
///
/// The authority (userinfo, host case, IPv6 literal, port) and the path's percent-encoding
/// are preserved; the query and fragment are dropped (RFC 9728 §3.1 builds the URL from the
/// host and path only). Dot segments (`.`, `..`) are removed from the path before the suffix
/// is inserted (RFC 3986 §5.2.4), so they can never climb into the suffix (the reference's
/// `urljoin` resolves them afterwards). A `;` stays part of the path (RFC 3986 §3.3; the
/// reference drops a last-segment `;params`). See docs/differences.md.
///
/// Like the reference, the list is not de-duplicated: a header URL equal to a well-known URL
/// appears twice.
///
/// A `server_url` that is not an absolute `http`/`https` URL (see the [module
/// docs](self#which-inputs-are-urls)) contributes nothing, so the list is then only the header
/// URL, or empty.
///
/// ```
/// use mcp_auth::discovery::build_protected_resource_metadata_discovery_urls as prm_urls;
/// assert_eq!(
///     prm_urls(None, "https://api.example.com/v1/mcp?x=1"),
///     [
///         "https://api.example.com/.well-known/oauth-protected-resource/v1/mcp",
///         "https://api.example.com/.well-known/oauth-protected-resource",
///     ]
/// );
/// ```
pub fn build_protected_resource_metadata_discovery_urls(
    www_auth_url: Option<&str>,
    server_url: &str,
) -> Vec<String> {
    let mut urls = Vec::with_capacity(3);
    if let Some(header) = www_auth_url.filter(|u| !u.is_empty()) {
        urls.push(header.to_owned());
    }
    let cleaned = clean(server_url);
    let Some(parts) = split_absolute(&cleaned) else {
        return urls;
    };
    let path = normalize_path(parts.path);
    if !path.is_empty() && path != "/" {
        urls.push(parts.join(&[PRM_WELL_KNOWN, &path]));
    }
    urls.push(parts.join(&[PRM_WELL_KNOWN]));
    urls
}

/// Build the ordered list of URLs at which to look for the metadata of the authorization
/// server `auth_server_url` (RFC 8414 §3.1, OpenID Connect Discovery 1.0 §4, RFC 8414 §5).
///
/// - **Issuer with a path** `p` (neither empty nor `/`; terminating slashes removed, as
///   RFC 8414 §3.1 and OIDC Discovery §4 require):
///   1. RFC 8414 path-insert: `{origin}/.well-known/oauth-authorization-server{p}`
///   2. OIDC path-insert (RFC 8414 §5): `{origin}/.well-known/openid-configuration{p}`
///   3. OIDC path-append (OIDC Discovery §4): `{origin}{p}/.well-known/openid-configuration`
///
///   The root URLs are not tried, as in the MCP specification.
/// - **Root issuer** (path empty or `/`): `{origin}/.well-known/oauth-authorization-server`,
///   then `{origin}/.well-known/openid-configuration`.
/// - **No authorization server** (`auth_server_url` is `None` or empty): the MCP 2025-03-26
///   legacy fallback, the single URL `{server origin}/.well-known/oauth-authorization-server`
///   built from `server_url`. OIDC is not tried on this path.
///
/// Here `{origin}` is `{scheme}://{authority}` of the URL, kept verbatim (see
/// [`mcp_origin`]). The query and fragment are dropped. An issuer whose path is only slashes
/// (`https://as//`) gives the root RFC 8414 URL and the root OIDC URL twice, exactly as the
/// reference does. Appending is plain string concatenation: an issuer path starting with `//`
/// never changes the host (the reference's `urljoin` reads `//host/...` as a new authority).
///
/// A URL that is not an absolute `http`/`https` URL (see the [module
/// docs](self#which-inputs-are-urls)) gives an empty list.
///
/// ```
/// use mcp_auth::discovery::build_oauth_authorization_server_metadata_discovery_urls as as_urls;
/// assert_eq!(
///     as_urls(Some("https://auth.example.com/tenant1/"), "https://api.example.com/mcp"),
///     [
///         "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
///         "https://auth.example.com/.well-known/openid-configuration/tenant1",
///         "https://auth.example.com/tenant1/.well-known/openid-configuration",
///     ]
/// );
/// ```
pub fn build_oauth_authorization_server_metadata_discovery_urls(
    auth_server_url: Option<&str>,
    server_url: &str,
) -> Vec<String> {
    let Some(issuer) = auth_server_url.filter(|u| !u.is_empty()) else {
        // MCP 2025-03-26: without protected resource metadata the MCP server's origin is the
        // authorization server, and only RFC 8414 at the root is tried.
        let cleaned = clean(server_url);
        return match split_absolute(&cleaned) {
            Some(parts) => vec![parts.join(&[OAUTH_AS_WELL_KNOWN])],
            None => Vec::new(),
        };
    };
    let cleaned = clean(issuer);
    let Some(parts) = split_absolute(&cleaned) else {
        return Vec::new();
    };
    let path = normalize_path(parts.path);
    if path.is_empty() || path == "/" {
        return vec![
            parts.join(&[OAUTH_AS_WELL_KNOWN]),
            parts.join(&[OIDC_WELL_KNOWN]),
        ];
    }
    // RFC 8414 §3.1 / OIDC Discovery §4: "any terminating / MUST be removed".
    let p = path.trim_end_matches('/');
    vec![
        parts.join(&[OAUTH_AS_WELL_KNOWN, p]),
        parts.join(&[OIDC_WELL_KNOWN, p]),
        parts.join(&[p, OIDC_WELL_KNOWN]),
    ]
}

/// `{scheme}://{authority}` of an absolute `http`/`https` URL: the base the reference derives
/// with `f"{scheme}://{netloc}"` (its `get_authorization_base_url`), used for the well-known
/// URLs and the legacy endpoint fallbacks.
///
/// The scheme is lower-cased (RFC 3986 §3.1, scheme is case-insensitive); the authority is
/// kept verbatim, including userinfo, host case and an explicit default port, so this is
/// *not* an RFC 6454 origin. `None` when `url` is not an absolute `http`/`https` URL (see the
/// [module docs](self#which-inputs-are-urls)).
///
/// ```
/// use mcp_auth::discovery::mcp_origin;
/// assert_eq!(mcp_origin("HTTPS://[::1]:8080/mcp?x").as_deref(), Some("https://[::1]:8080"));
/// assert_eq!(mcp_origin("api.example.com/mcp"), None);
/// ```
pub fn mcp_origin(url: &str) -> Option<String> {
    let cleaned = clean(url);
    split_absolute(&cleaned).map(|parts| parts.join(&[]))
}

/// The pieces of an absolute URL that discovery needs.
struct Parts<'a> {
    /// `"http"` or `"https"`, lower case.
    scheme: &'static str,
    /// Everything between `//` and the path, verbatim.
    authority: &'a str,
    /// The path, without query or fragment; empty or starting with `/`.
    path: &'a str,
}

impl Parts<'_> {
    /// `{scheme}://{authority}` followed by `pieces`, allocated once at its exact size.
    fn join(&self, pieces: &[&str]) -> String {
        let len = self.scheme.len()
            + 3
            + self.authority.len()
            + pieces.iter().map(|p| p.len()).sum::<usize>();
        let mut s = String::with_capacity(len);
        s.push_str(self.scheme);
        s.push_str("://");
        s.push_str(self.authority);
        for p in pieces {
            s.push_str(p);
        }
        s
    }
}

/// What Python's `urlsplit` (and the WHATWG URL parser) do before reading a URL: drop leading
/// C0 controls and spaces, remove every tab, CR and LF. Borrowed unless something is removed.
fn clean(url: &str) -> Cow<'_, str> {
    let url = url.trim_start_matches(|c: char| c <= ' ');
    if url.bytes().any(|b| matches!(b, b'\t' | b'\r' | b'\n')) {
        Cow::Owned(
            url.chars()
                .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
                .collect(),
        )
    } else {
        Cow::Borrowed(url)
    }
}

/// Split an absolute `http`/`https` URL (RFC 3986 §3) into scheme, authority and path, or
/// `None` if it is not one.
fn split_absolute(url: &str) -> Option<Parts<'_>> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        "https"
    } else if scheme.eq_ignore_ascii_case("http") {
        "http"
    } else {
        return None;
    };
    let rest = url[colon + 1..].strip_prefix("//")?;
    // RFC 3986 §3.2: the authority ends at the first "/", "?" or "#".
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if !authority_has_host(authority) {
        return None;
    }
    // RFC 3986 §3.3: the path ends at the first "?" or "#".
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    Some(Parts {
        scheme,
        authority,
        path,
    })
}

/// Whether `authority` (RFC 3986 §3.2) names a host: non-empty after any userinfo, and, if it
/// is an IP literal, a well-formed one (§3.2.2). The port is not checked, as in the reference.
fn authority_has_host(authority: &str) -> bool {
    let open = authority.find('[');
    let close = authority.find(']');
    match (open, close) {
        (None, None) => {}
        (Some(o), Some(c)) if o < c => {
            if !ip_literal_is_valid(&authority[o + 1..c]) {
                return false;
            }
        }
        // An unbalanced bracket: Python raises "Invalid IPv6 URL".
        _ => return false,
    }
    // The host follows the last "@" (userinfo may contain ":" but never "@" unencoded).
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port
    } else {
        host_port.split_once(':').map_or(host_port, |(h, _)| h)
    };
    !host.is_empty()
}

/// RFC 3986 §3.2.2 `IP-literal` contents: an IPv6 address (with an optional RFC 6874 zone ID),
/// or `IPvFuture` (`v` 1*HEXDIG "." 1*(...)).
fn ip_literal_is_valid(inner: &str) -> bool {
    if let Some(future) = inner.strip_prefix(['v', 'V']) {
        return match future.split_once('.') {
            Some((hex, rest)) => {
                !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) && !rest.is_empty()
            }
            None => false,
        };
    }
    let addr = inner.split_once('%').map_or(inner, |(a, _)| a);
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}

/// RFC 3986 §5.2.4 `remove_dot_segments`, only when the path has a `.` or `..` segment (almost
/// never): borrowed otherwise.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.split('/').any(|s| s == "." || s == "..") {
        return Cow::Borrowed(path);
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    // `path` starts with "/", so segments[0] is "" and is the root; the last segment decides
    // whether the result ends with "/".
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate().skip(1) {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let mut s = String::with_capacity(path.len());
    for seg in &out {
        s.push('/');
        s.push_str(seg);
    }
    if s.is_empty() {
        s.push('/');
    }
    Cow::Owned(s)
}

/// What to do with one authorization-server-metadata candidate's response (the reference's
/// `handle_auth_metadata_response`): `(keep_trying, metadata)`.
///
/// RFC 8414 §3.2 and the MCP discovery order: a 200 with valid metadata is used; a 200 that
/// does not parse, and any 3xx/4xx (including 429), move on to the next candidate; anything
/// else (201, 204, 5xx) stops metadata discovery.
pub fn handle_auth_metadata_response(
    status: u16,
    body: &[u8],
) -> (bool, Option<crate::metadata::OAuthMetadata>) {
    match status {
        200 => (true, crate::metadata::OAuthMetadata::from_json(body).ok()),
        300..=499 => (true, None),
        _ => (false, None),
    }
}

/// The protected resource metadata in one PRM candidate's response (the reference's
/// `handle_protected_resource_response`): `Some` only for a 200 with valid RFC 9728 §2
/// metadata. Whether a failed candidate counts as a server error (≥ 500 or 429, which makes
/// discovery fail instead of taking the 2025-03-26 path) is [`is_prm_server_error`].
pub fn handle_protected_resource_response(
    status: u16,
    body: &[u8],
) -> Option<crate::metadata::ProtectedResourceMetadata> {
    if status == 200 {
        crate::metadata::ProtectedResourceMetadata::from_json(body).ok()
    } else {
        None
    }
}

/// A PRM candidate status that means "the server is failing", not "not served": ≥ 500 or 429.
/// When no candidate yields metadata and one of them failed this way, discovery fails rather
/// than assuming a 2025-03-26 server without PRM.
pub fn is_prm_server_error(status: u16) -> bool {
    status >= 500 || status == 429
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3986_5_2_4_remove_dot_segments() {
        assert_eq!(normalize_path("/a/b/c/./../../g"), "/a/g");
        assert_eq!(normalize_path("/a/.."), "/");
        assert_eq!(normalize_path("/a/."), "/a/");
        assert_eq!(normalize_path("/.."), "/");
        assert_eq!(normalize_path("/../../x"), "/x");
        assert_eq!(normalize_path("/a/../b/"), "/b/");
        assert_eq!(normalize_path("//a/../b"), "//b");
        assert!(matches!(normalize_path("/a/.b/c."), Cow::Borrowed(_)));
    }

    #[test]
    fn rfc3986_3_2_2_ip_literals() {
        assert!(ip_literal_is_valid("::1"));
        assert!(ip_literal_is_valid("fe80::1%25eth0"));
        assert!(ip_literal_is_valid("v1.x"));
        assert!(!ip_literal_is_valid("v1."));
        assert!(!ip_literal_is_valid("vx.y"));
        assert!(!ip_literal_is_valid("127.0.0.1"));
        assert!(!ip_literal_is_valid("::1::2"));
        assert!(!ip_literal_is_valid(""));
    }

    #[test]
    fn rfc3986_3_2_authority_host() {
        assert!(authority_has_host("h"));
        assert!(authority_has_host("u:p@h:1"));
        assert!(authority_has_host("[::1]:8080"));
        assert!(authority_has_host("u@[::1]"));
        assert!(!authority_has_host(""));
        assert!(!authority_has_host(":443"));
        assert!(!authority_has_host("u@"));
        assert!(!authority_has_host("[::1"));
        assert!(!authority_has_host("::1]"));
        assert!(!authority_has_host("[zz]"));
    }

    #[test]
    fn whatwg_cleaning_matches_urlsplit() {
        assert_eq!(clean(" \u{1}https://h/x"), "https://h/x");
        assert_eq!(clean("https://h/\tx\n"), "https://h/x");
        assert_eq!(clean("https://h/x "), "https://h/x ");
        assert!(matches!(clean("https://h/x"), Cow::Borrowed(_)));
    }
}
