//! The security checks: issuer identity, the authorization response `iss`, the protected
//! resource, the `resource` parameter, and HTTPS-or-loopback endpoints.
//!
//! | check | spec |
//! |---|---|
//! | [`validate_metadata_issuer`] | RFC 8414 §3.3 |
//! | [`validate_authorization_response_iss`] | RFC 9207 §2.4 |
//! | [`issuers_match`] | SEP-2352 (root-slash tolerance) |
//! | [`validate_resource_match`], [`check_resource_allowed`] | RFC 9728 §3.3, RFC 8707 §2 |
//! | [`resource_url_from_server_url`], [`resource_param_for`], [`should_include_resource_param`] | RFC 8707 §2, MCP 2025-06-18 |
//! | [`require_secure_url`], [`is_loopback_url`] | OAuth 2.1 §1.5, RFC 8252 §7.3 |
//!
//! Issuer comparisons are exact string comparisons (RFC 8414 §3.3, RFC 9207 §2.4); the only
//! normalisation is the one the metadata models apply when parsing, exactly as the reference.
//! Messages are the reference's, word for word.

use crate::metadata::{OAuthMetadata, ProtectedResourceMetadata};
use crate::{Check, Error, Result};

/// The MCP protocol versions this library knows, oldest first.
pub const KNOWN_PROTOCOL_VERSIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// The first MCP protocol version that requires the RFC 8707 `resource` parameter.
pub const RESOURCE_PARAM_MIN_VERSION: &str = "2025-06-18";

// ---------------------------------------------------------------------------------------------
// A faithful port of Python's `urllib.parse.urlsplit`/`urlunsplit` (CPython 3.11), which the
// reference's resource helpers are defined in terms of.
// ---------------------------------------------------------------------------------------------

/// The five components of Python's `urlsplit`; `scheme` is lowercased, the rest verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitUrl {
    pub(crate) scheme: String,
    pub(crate) netloc: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) fragment: String,
}

/// Python's `urlsplit`; `None` where it raises (`Invalid IPv6 URL`).
pub(crate) fn urlsplit(url: &str) -> Option<SplitUrl> {
    let url: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut rest = url.as_str();
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let candidate = &rest[..i];
        if i > 0
            && candidate.as_bytes()[0].is_ascii_alphabetic()
            && candidate
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            scheme = candidate.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
        if netloc.contains('[') != netloc.contains(']') {
            return None;
        }
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some(SplitUrl {
        scheme,
        netloc: netloc.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        fragment: fragment.to_owned(),
    })
}

/// Python's `urlunsplit` for URLs whose scheme uses a netloc (http, https).
pub(crate) fn urlunsplit(
    scheme: &str,
    netloc: &str,
    path: &str,
    query: &str,
    fragment: &str,
) -> String {
    let mut out = String::with_capacity(
        scheme.len() + netloc.len() + path.len() + query.len() + fragment.len() + 6,
    );
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push(':');
    }
    if !netloc.is_empty() || (!scheme.is_empty() && !path.starts_with("//")) {
        out.push_str("//");
        out.push_str(netloc);
        if !path.is_empty() && !path.starts_with('/') {
            out.push('/');
        }
    }
    out.push_str(path);
    if !query.is_empty() {
        out.push('?');
        out.push_str(query);
    }
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Issuer checks
// ---------------------------------------------------------------------------------------------

/// RFC 9207 §2.4: check the `iss` parameter of an authorization response.
///
/// - An `iss` that is present must equal the authorization server's `issuer` **exactly** (no
///   normalisation: `https://as.example.com/` ≠ `https://as.example.com`); with no metadata,
///   any `iss` is rejected.
/// - An absent `iss` is rejected only when the metadata advertises
///   `authorization_response_iss_parameter_supported: true`.
///
/// # Errors
/// [`Error::SecurityCheck`] with [`Check::ResponseIss`]
/// (`Authorization response iss mismatch: {iss} != {issuer}`, `None` when there is no metadata)
/// or [`Check::MissingIss`]
/// (`Authorization response missing iss parameter advertised by the authorization server`).
pub fn validate_authorization_response_iss(
    iss: Option<&str>,
    metadata: Option<&OAuthMetadata>,
) -> Result<()> {
    let expected = metadata.map(|m| m.issuer.as_str());
    match iss {
        Some(iss) if Some(iss) != expected => Err(Error::security(
            Check::ResponseIss,
            format!(
                "Authorization response iss mismatch: {iss} != {}",
                expected.unwrap_or("None")
            ),
        )),
        Some(_) => Ok(()),
        None if metadata
            .and_then(|m| m.authorization_response_iss_parameter_supported)
            .unwrap_or(false) =>
        {
            Err(Error::security(
                Check::MissingIss,
                "Authorization response missing iss parameter advertised by the authorization server",
            ))
        }
        None => Ok(()),
    }
}

/// RFC 8414 §3.3: the metadata's `issuer` must be identical to the issuer the metadata was
/// requested for.
///
/// The comparison is exact on the parsed (pydantic-style normalised, see
/// [`crate::metadata::normalize_http_url`]) `issuer`: `https://AS.example.com:443` in the
/// document equals an expected `https://as.example.com`, but a trailing slash differs.
///
/// # Errors
/// [`Error::SecurityCheck`] with [`Check::MetadataIssuer`]:
/// `Authorization server metadata issuer mismatch: {got} != {expected}`.
pub fn validate_metadata_issuer(metadata: &OAuthMetadata, expected_issuer: &str) -> Result<()> {
    if metadata.issuer == expected_issuer {
        Ok(())
    } else {
        Err(Error::security(
            Check::MetadataIssuer,
            format!(
                "Authorization server metadata issuer mismatch: {} != {expected_issuer}",
                metadata.issuer
            ),
        ))
    }
}

/// Whether two issuer identifiers name the same authorization server (SEP-2352 binding, the
/// machine-to-machine `issuer=` check): exact string equality, or a root issuer with and
/// without its trailing slash (`https://as.example.com` ≡ `https://as.example.com/`).
///
/// Case-sensitive, no port normalisation, and no tolerance for paths
/// (`…/tenant` ≠ `…/tenant/`).
pub fn issuers_match(a: &str, b: &str) -> bool {
    fn root_slash_pair(short: &str, long: &str) -> bool {
        long.len() == short.len() + 1
            && long.ends_with('/')
            && long.starts_with(short)
            && short.find("://").is_some_and(|i| {
                let authority = &short[i + 3..];
                !authority.is_empty() && !authority.contains(['/', '?', '#'])
            })
    }
    a == b || root_slash_pair(a, b) || root_slash_pair(b, a)
}

// ---------------------------------------------------------------------------------------------
// Resource (RFC 8707, RFC 9728)
// ---------------------------------------------------------------------------------------------

/// The canonical resource URI of an MCP server URL (RFC 8707 §2, MCP "Canonical Server URI"):
/// scheme and authority lowercased, fragment removed; the query, the path and its trailing
/// slash, and an explicit default port are all kept as given (the reference's
/// `resource_url_from_server_url`).
///
/// # Errors
/// [`Error::InvalidArgument`] when `url` is not an absolute http(s) URL with an authority.
pub fn resource_url_from_server_url(url: &str) -> Result<String> {
    let bad = |reason: &str| Error::invalid_argument("server URL", format!("{url:?} {reason}"));
    let s = urlsplit(url).ok_or_else(|| bad("is not a valid URL"))?;
    if !matches!(s.scheme.as_str(), "http" | "https") || s.netloc.is_empty() {
        return Err(bad("is not an absolute http(s) URL"));
    }
    Ok(urlunsplit(
        &s.scheme,
        &s.netloc.to_lowercase(),
        &s.path,
        &s.query,
        "",
    ))
}

/// Whether the `requested` resource is covered by the `configured` one (RFC 9728 §3.3 /
/// RFC 8707): same scheme and authority (case-insensitive, compared as strings, so `:443` ≠ no
/// port), and the requested path equals the configured path or lies below it on a segment
/// boundary (`/api/v1` is under `/api`, `/api123` is not). Queries are ignored; paths are
/// case-sensitive.
pub fn check_resource_allowed(requested: &str, configured: &str) -> bool {
    let (Some(r), Some(c)) = (urlsplit(requested), urlsplit(configured)) else {
        return false;
    };
    if r.scheme != c.scheme || !r.netloc.eq_ignore_ascii_case(&c.netloc) {
        return false;
    }
    let r_path = r.path.strip_suffix('/').unwrap_or(&r.path);
    let c_path = c.path.strip_suffix('/').unwrap_or(&c.path);
    // "r_path/" starts with "c_path/".
    r_path
        .strip_prefix(c_path)
        .is_some_and(|tail| tail.is_empty() || tail.starts_with('/'))
}

/// Whether to send the RFC 8707 `resource` parameter: always when protected resource
/// metadata is held (RFC 9728), otherwise only when the request's MCP protocol version is a
/// known version from [`RESOURCE_PARAM_MIN_VERSION`] on (unknown versions give `false`).
pub fn should_include_resource_param(protocol_version: Option<&str>, prm_held: bool) -> bool {
    prm_held
        || protocol_version.is_some_and(|v| {
            KNOWN_PROTOCOL_VERSIONS.contains(&v) && v >= RESOURCE_PARAM_MIN_VERSION
        })
}

/// RFC 9728 §3.3: the protected resource metadata must be about this server: the canonical
/// server URL ([`resource_url_from_server_url`]) must be covered by the metadata's `resource`
/// ([`check_resource_allowed`]).
///
/// `prm_resource` is [`ProtectedResourceMetadata::resource`] as parsed. As in the reference, an
/// explicit default port in `server_url` (`https://host:443/mcp`) does not match a `resource`
/// without it.
///
/// # Errors
/// [`Error::SecurityCheck`] with [`Check::Resource`]:
/// `Protected resource {prm_resource} does not match expected {canonical}`;
/// [`Error::InvalidArgument`] when `server_url` is not an http(s) URL.
pub fn validate_resource_match(server_url: &str, prm_resource: &str) -> Result<()> {
    let canonical = resource_url_from_server_url(server_url)?;
    if check_resource_allowed(&canonical, prm_resource) {
        Ok(())
    } else {
        Err(Error::security(
            Check::Resource,
            format!("Protected resource {prm_resource} does not match expected {canonical}"),
        ))
    }
}

/// The value of the RFC 8707 `resource` parameter (the reference's `get_resource_url`): the
/// metadata's `resource` when it covers the canonical server URL (it may be a parent, such as
/// `https://api.example.com/`), else the canonical server URL.
///
/// # Errors
/// [`Error::InvalidArgument`] when `server_url` is not an http(s) URL.
pub fn resource_param_for(
    server_url: &str,
    prm: Option<&ProtectedResourceMetadata>,
) -> Result<String> {
    let canonical = resource_url_from_server_url(server_url)?;
    Ok(match prm {
        Some(prm) if check_resource_allowed(&canonical, &prm.resource) => prm.resource.clone(),
        _ => canonical,
    })
}

// ---------------------------------------------------------------------------------------------
// Transport security (OAuth 2.1 §1.5)
// ---------------------------------------------------------------------------------------------

/// Whether the URL's host is a loopback host: `localhost`, an IPv4 address in `127.0.0.0/8`,
/// or `[::1]` (RFC 8252 §7.3, RFC 6761 §6.3). Any scheme; `false` for an unparsable URL.
pub fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| is_loopback_host(&u))
}

fn is_loopback_host(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// OAuth 2.1 §1.5: OAuth endpoints must use TLS. Accept `https`, and `http` only for a
/// loopback host ([`is_loopback_url`]), as the MCP authorization spec allows for local
/// development and native-app redirects (RFC 8252 §7.3).
///
/// # Errors
/// [`Error::InsecureUrl`] naming `what` (e.g. `"token endpoint"`) for any other URL;
/// [`Error::InvalidArgument`] when `url` does not parse.
pub fn require_secure_url(what: &'static str, url: &str) -> Result<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid_argument(what, format!("{url:?} is not a valid URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(&parsed) => Ok(()),
        _ => Err(Error::InsecureUrl {
            what,
            url: url.to_owned(),
        }),
    }
}

/// `scheme://host[:port]` with the host lowercased and the default port dropped.
pub(crate) fn origin_of(url: &str) -> Result<String> {
    let u =
        url::Url::parse(url).map_err(|e| Error::invalid_argument("URL", format!("{url}: {e}")))?;
    match u.origin() {
        url::Origin::Tuple(..) => Ok(u.origin().ascii_serialization()),
        url::Origin::Opaque(_) => Err(Error::invalid_argument(
            "URL",
            format!("{url} has no origin"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlsplit_matches_python() {
        let s = urlsplit("HTTPS://Ex.com:443/a/b?q=1#f").unwrap();
        assert_eq!(
            (
                s.scheme.as_str(),
                s.netloc.as_str(),
                s.path.as_str(),
                s.query.as_str(),
                s.fragment.as_str()
            ),
            ("https", "Ex.com:443", "/a/b", "q=1", "f")
        );
        let s = urlsplit("https:///path").unwrap();
        assert_eq!((s.netloc.as_str(), s.path.as_str()), ("", "/path"));
        let s = urlsplit("https://example.com?x=/y").unwrap();
        assert_eq!((s.path.as_str(), s.query.as_str()), ("", "x=/y"));
        assert!(urlsplit("http://[::1/foo/").is_none());
        let s = urlsplit("api.example.com/mcp").unwrap();
        assert_eq!(
            (s.scheme.as_str(), s.path.as_str()),
            ("", "api.example.com/mcp")
        );
    }

    #[test]
    fn urlunsplit_matches_python() {
        assert_eq!(urlunsplit("https", "a", "", "", ""), "https://a");
        assert_eq!(urlunsplit("https", "a", "/p", "q", ""), "https://a/p?q");
        assert_eq!(urlunsplit("https", "", "/p", "", ""), "https:///p");
    }
}
