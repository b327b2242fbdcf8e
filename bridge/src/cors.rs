//! CORS for the MCP endpoint when the proxy, not the upstream, owns it (Fetch standard, "CORS
//! protocol"): who may call, the headers of an actual response, the preflight answer.

use serde::{Deserialize, Serialize};

use crate::headers::is_valid_value;
use crate::{ALLOWED_METHODS, ALLOWED_REQUEST_HEADERS, DownstreamResponse, HeaderPair};

/// Who may call the proxy from a browser, when the proxy (not the upstream) owns CORS.
///
/// JSON form (every member optional): `{"allowed_origins": ["https://app.example"],
/// "allow_credentials": false, "max_age_secs": 600}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsPolicy {
    /// Origins allowed to read responses, serialized as the browser sends them in `Origin`
    /// (`scheme://host[:port]`, Fetch standard "ASCII serialization of an origin"); `"*"`
    /// allows any origin. Compared ASCII case-insensitively. Default `["*"]`.
    pub allowed_origins: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` (for `fetch(…, {credentials:
    /// "include"})`). The Fetch standard forbids the `*` wildcard then, so the request's origin
    /// is echoed instead. Default `false`: bearer tokens travel in `Authorization`, which needs
    /// no credentials mode.
    pub allow_credentials: bool,
    /// `Access-Control-Max-Age` of preflight answers, in seconds; `None` sends none. Default
    /// 600.
    pub max_age_secs: Option<u32>,
}

impl Default for CorsPolicy {
    fn default() -> Self {
        CorsPolicy {
            allowed_origins: vec!["*".to_owned()],
            allow_credentials: false,
            max_age_secs: Some(600),
        }
    }
}

impl CorsPolicy {
    /// Any origin (`*`), no credentials, max-age 600 s: the default.
    pub fn any() -> Self {
        CorsPolicy::default()
    }

    /// Only these origins (e.g. `["http://127.0.0.1:8080"]`).
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CorsPolicy {
            allowed_origins: origins.into_iter().map(Into::into).collect(),
            ..CorsPolicy::default()
        }
    }

    fn allows_any(&self) -> bool {
        self.allowed_origins.iter().any(|o| o.trim() == "*")
    }

    /// Whether a request with this `Origin` may be answered. A request without `Origin` is not
    /// a browser cross-origin request and is allowed; a present origin that the policy does
    /// not list is not (the MCP Streamable HTTP transport asks servers to answer 403 to an
    /// invalid `Origin`, against DNS rebinding).
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(o) => self.allow_origin(Some(o)).is_some(),
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request with this `Origin`, or `None`
    /// when the origin is not allowed (then no CORS header is sent and the browser blocks the
    /// response). `*` when any origin is allowed without credentials, otherwise the request's
    /// origin echoed (which then needs `Vary: Origin`, RFC 9110 §12.5.5).
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<String> {
        if self.allows_any() && !self.allow_credentials {
            return Some("*".to_owned());
        }
        let origin = origin?.trim();
        if origin.is_empty() || !is_valid_value(origin) {
            return None;
        }
        let listed = self.allows_any()
            || self
                .allowed_origins
                .iter()
                .any(|o| o.trim().eq_ignore_ascii_case(origin));
        listed.then(|| origin.to_owned())
    }

    /// The CORS headers of an actual (non-preflight) response: `Access-Control-Allow-Origin`,
    /// `Access-Control-Allow-Credentials` when enabled, and `Vary: Origin` when the origin is
    /// echoed. Empty when the origin is not allowed.
    pub fn response_headers(&self, origin: Option<&str>) -> Vec<HeaderPair> {
        let Some(allow) = self.allow_origin(origin) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(3);
        let echoed = allow != "*";
        out.push(("Access-Control-Allow-Origin".to_owned(), allow));
        if self.allow_credentials {
            out.push((
                "Access-Control-Allow-Credentials".to_owned(),
                "true".to_owned(),
            ));
        }
        if echoed {
            out.push(("Vary".to_owned(), "Origin".to_owned()));
        }
        out
    }
}

/// The answer to a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`, Fetch standard "CORS-preflight request") for the MCP
/// endpoint, given the request's header pairs.
///
/// - Allowed origin: `204` with `Access-Control-Allow-Origin` ([`CorsPolicy::allow_origin`]),
///   `Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS` ([`ALLOWED_METHODS`]),
///   `Access-Control-Allow-Headers` listing [`ALLOWED_REQUEST_HEADERS`] (`Authorization`,
///   `Content-Type`, `Mcp-Session-Id`, `MCP-Protocol-Version`, `Last-Event-ID`; named, since
///   the `*` wildcard never covers `Authorization`), `Access-Control-Max-Age`, and, when the
///   origin is echoed, `Access-Control-Allow-Credentials` if enabled and `Vary: Origin`.
/// - Origin present but not allowed: `403` without CORS headers (the browser fails the
///   preflight; the MCP transport asks for 403 on an invalid `Origin`).
/// - No `Origin` (not a preflight): `204` with `Allow` (RFC 9110 §9.3.7, §10.2.1).
pub fn preflight<K: AsRef<str>, V: AsRef<str>>(
    request_headers: &[(K, V)],
    policy: &CorsPolicy,
) -> DownstreamResponse {
    let origin = request_headers
        .iter()
        .find(|(n, _)| n.as_ref().eq_ignore_ascii_case("origin"))
        .map(|(_, v)| v.as_ref());
    let mut headers: Vec<HeaderPair> = Vec::with_capacity(6);
    let Some(origin) = origin else {
        headers.push(("Allow".to_owned(), ALLOWED_METHODS.to_owned()));
        return DownstreamResponse {
            status: 204,
            headers,
            challenge: None,
        };
    };
    let cors = policy.response_headers(Some(origin));
    if cors.is_empty() {
        headers.push(("Vary".to_owned(), "Origin".to_owned()));
        return DownstreamResponse {
            status: 403,
            headers,
            challenge: None,
        };
    }
    headers.extend(cors);
    headers.push((
        "Access-Control-Allow-Methods".to_owned(),
        ALLOWED_METHODS.to_owned(),
    ));
    headers.push((
        "Access-Control-Allow-Headers".to_owned(),
        ALLOWED_REQUEST_HEADERS.join(", "),
    ));
    if let Some(age) = policy.max_age_secs {
        headers.push(("Access-Control-Max-Age".to_owned(), age.to_string()));
    }
    DownstreamResponse {
        status: 204,
        headers,
        challenge: None,
    }
}

/// The CORS response fields a proxy that owns CORS replaces (the expose list is merged
/// separately). Lowercase input.
pub(crate) fn is_cors_response_field(lower: &str) -> bool {
    lower.starts_with("access-control-allow-") || lower == "access-control-max-age"
}
