//! Which header fields a proxy forwards, and the field grammar that decides it (RFC 9110 §5,
//! §7.6.1): hop-by-hop fields, invalid pairs, comma-separated name lists.

use crate::{EXPOSED_HEADERS, HeaderPair};

/// Hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1), `Trailer` (the body is
/// re-framed, so its trailers are gone), `Content-Length` (the proxy frames the body it sends,
/// RFC 9112 §6), and `Proxy-Authenticate` / `Proxy-Authentication-Info`, which concern only
/// the next hop (RFC 9110 §11.7.1, §11.7.3). Lowercase.
pub(crate) const NOT_FORWARDED_RESPONSE: [&str; 10] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "transfer-encoding",
    "upgrade",
    "trailer",
    "content-length",
    "proxy-authenticate",
    "proxy-authentication-info",
];

/// Request-side counterpart of [`NOT_FORWARDED_RESPONSE`]: hop-by-hop fields (RFC 9110
/// §7.6.1), `Host` (the upstream client writes the upstream's, RFC 9110 §7.2),
/// `Content-Length`, the proxy's own credentials (`Proxy-Authorization`, RFC 9110 §11.7.2),
/// and the CORS request headers (`Origin`, `Access-Control-Request-*`): the proxy is the party
/// that checks the browser's origin; upstream it is a non-browser client. Lowercase.
const NOT_FORWARDED_REQUEST: [&str; 14] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "transfer-encoding",
    "upgrade",
    "trailer",
    "content-length",
    "host",
    "proxy-authorization",
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
];

/// Merge `Access-Control-Expose-Headers` field values with [`EXPOSED_HEADERS`] into one field
/// value.
///
/// The field is a comma-separated list of field names (Fetch standard, `#field-name`), possibly
/// split over several lines (RFC 9110 §5.3). The result keeps the existing names first, in
/// order and as spelled, then adds the required ones that are missing; names compare ASCII
/// case-insensitively (RFC 9110 §5.1) and appear once. Empty list elements are dropped
/// (RFC 9110 §5.6.1.2), and so are elements that are not tokens: the Fetch standard ignores the
/// whole field when its value does not parse, which would hide `WWW-Authenticate` again. A `*`
/// is kept (it exposes everything to requests without credentials) and the names are still
/// added, because for credentialed requests `*` is just a name.
///
/// ```
/// use mcp_auth_bridge::merge_expose_headers;
/// assert_eq!(
///     merge_expose_headers(["x-trace, www-authenticate", " ,X-Trace,", "bad header"]),
///     "x-trace, www-authenticate, Mcp-Session-Id, MCP-Protocol-Version"
/// );
/// assert_eq!(
///     merge_expose_headers(Vec::<String>::new()),
///     "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"
/// );
/// ```
pub fn merge_expose_headers<I, S>(existing: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    merge_field_names(existing, &EXPOSED_HEADERS)
}

/// [`merge_expose_headers`] with another list of names to add (for a header such as `Vary` or
/// `Access-Control-Allow-Headers`, or an expose list with more names). Same rules: existing
/// names first as spelled, then the missing `add` names, case-insensitively unique, non-token
/// elements dropped.
pub fn merge_field_names<I, S>(existing: I, add: &[&str]) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut names: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        let name = name.trim_matches([' ', '\t']);
        if is_token(name) && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.to_owned());
        }
    };
    for value in existing {
        for element in value.as_ref().split(',') {
            push(element);
        }
    }
    for name in add {
        push(name);
    }
    names.join(", ")
}

/// The request headers to send upstream for a downstream request: every valid pair in order
/// (so `Authorization`, `Content-Type`, `Accept`, `Mcp-Session-Id`, `MCP-Protocol-Version`,
/// `Last-Event-ID` pass unchanged), minus hop-by-hop fields and those named in `Connection`
/// (RFC 9110 §7.6.1), `Host` and `Content-Length` (the upstream client writes its own),
/// `Proxy-Authorization` (RFC 9110 §11.7.2), and the CORS request headers `Origin` and
/// `Access-Control-Request-*` (the proxy enforces the browser's origin; upstream it is a
/// server-side client).
pub fn upstream_request_headers<K: AsRef<str>, V: AsRef<str>>(
    downstream: &[(K, V)],
) -> Vec<HeaderPair> {
    let connection_listed = connection_tokens(downstream);
    downstream
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_ref()))
        .filter(|(n, v)| is_valid_field(n, v))
        .filter(|(n, _)| {
            let lower = n.to_ascii_lowercase();
            !NOT_FORWARDED_REQUEST.contains(&lower.as_str()) && !connection_listed.contains(&lower)
        })
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// Every field of `headers` as a pair, in order, names lowercase as [`http`] stores them and
/// values decoded as UTF-8 with invalid bytes replaced (U+FFFD), as the challenge parser does.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<HeaderPair> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// `tchar` (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `token = 1*tchar` (RFC 9110 §5.6.2).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// A field value with no control character but HTAB (RFC 9110 §5.5: CR, LF and NUL are
/// forbidden; other CTLs are invalid too). obs-text (non-ASCII) is accepted.
pub(crate) fn is_valid_value(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A pair that may be written to the wire: the name a token (RFC 9110 §5.1), the value valid.
pub(crate) fn is_valid_field(name: &str, value: &str) -> bool {
    is_token(name) && is_valid_value(value)
}

/// The lowercase field names listed in the `Connection` fields (RFC 9110 §7.6.1).
pub(crate) fn connection_tokens<K: AsRef<str>, V: AsRef<str>>(headers: &[(K, V)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.as_ref().split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_fields_are_not_forwarded() {
        assert!(!is_valid_field("bad name", "v"));
        assert!(!is_valid_field("x", "a\r\nSet-Cookie: y"));
        assert!(!is_valid_field("", "v"));
        assert!(is_valid_field("x", "tab\tand é"));
    }
}
