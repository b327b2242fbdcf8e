//! Bridge the authorization challenge through proxies and gateways: what a proxy between a
//! (browser) MCP client and an MCP server must put on its downstream response so that the
//! client can still read the `WWW-Authenticate` challenge (RFC 9110 §11.6.1, RFC 6750 §3,
//! RFC 9728 §5.1).
//!
//! # The failure this prevents
//!
//! Client ↔ Proxy ↔ Server: the server answers 401 (or 403 `insufficient_scope`) with
//! `WWW-Authenticate: Bearer resource_metadata="…", scope="…"`. Two things lose it on the way:
//!
//! 1. the proxy does not copy the field from its upstream response to its downstream one;
//! 2. the browser hides every response header that is not CORS-safelisted from a cross-origin
//!    script unless the response lists it in `Access-Control-Expose-Headers` (Fetch standard,
//!    "CORS protocol", <https://fetch.spec.whatwg.org/#http-access-control-expose-headers>).
//!    `WWW-Authenticate`, `Mcp-Session-Id` and `MCP-Protocol-Version` are not safelisted.
//!
//! The client then cannot read `resource_metadata` (RFC 9728 §5.1) or `scope` (RFC 6750 §3),
//! guesses discovery URLs, and cannot step up on 403.
//!
//! # What this module computes
//!
//! | function | for |
//! |---|---|
//! | [`bridge_response`] | an upstream response (status + header pairs): the downstream status and complete header list |
//! | [`bridge_captured`], [`bridge_error`] | the challenge captured by [`Client::send`](crate::Client::send) (in a [`Response`](crate::client::Response) or an [`Error::Unauthorized`]) |
//! | [`RelayedChallenge`] | the challenge as JSON, for hosts relaying it over a non-HTTP channel |
//! | [`merge_expose_headers`] | the `Access-Control-Expose-Headers` merge on its own |
//! | [`preflight`] | the CORS preflight answer for the MCP endpoint |
//! | [`upstream_request_headers`] | the request headers to forward upstream |
//! | [`relay_protected_resource_metadata`], [`fetch_protected_resource_metadata`] | serving the PRM from the proxy when `resource_metadata` is rewritten |
//! | [`bridge_response_json`], [`preflight_json`], [`challenge_json`], [`bridge_error_json`], [`upstream_request_headers_json`] | the same with JSON in and out, for the C ABI and Python |
//!
//! Headers are plain `(name, value)` pairs so that any HTTP stack (and the C ABI) can use them;
//! [`header_pairs`] converts an [`http::HeaderMap`]. A pair whose name is not a token or whose
//! value holds a control character (RFC 9110 §5.1, §5.5) is dropped rather than forwarded, so
//! the output can be written to the wire as is without response splitting.
//!
//! ```
//! use mcp_auth::bridge::{BridgeOptions, bridge_response};
//!
//! let upstream = [
//!     ("content-type", "application/json"),
//!     ("www-authenticate", r#"Bearer error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#),
//!     ("access-control-expose-headers", "X-Request-Id, mcp-session-id"),
//! ];
//! let down = bridge_response(401, &upstream, None, &BridgeOptions::default()).unwrap();
//! assert_eq!(down.status, 401);
//! assert_eq!(down.header_values("www-authenticate"), [upstream[1].1]);
//! assert_eq!(
//!     down.header_values("access-control-expose-headers"),
//!     ["X-Request-Id, mcp-session-id, WWW-Authenticate, MCP-Protocol-Version"]
//! );
//! let challenge = down.challenge.unwrap();
//! assert_eq!(challenge.error.as_deref(), Some("invalid_token"));
//! ```

use std::borrow::Cow;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::challenge::{self, Challenge};
use crate::client::CapturedChallenge;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::metadata::ProtectedResourceMetadata;

/// One header field as a `(name, value)` pair (RFC 9110 §5). Several fields with the same name
/// are several pairs, in order.
pub type HeaderPair = (String, String);

/// `WWW-Authenticate` (RFC 9110 §11.6.1).
pub const WWW_AUTHENTICATE: &str = "WWW-Authenticate";

/// `Access-Control-Expose-Headers` (Fetch standard, CORS protocol).
pub const ACCESS_CONTROL_EXPOSE_HEADERS: &str = "Access-Control-Expose-Headers";

/// The response headers a browser client of an MCP server must be able to read, merged into
/// `Access-Control-Expose-Headers` by [`merge_expose_headers`]: the challenge (RFC 9110
/// §11.6.1), the Streamable HTTP session id and the negotiated protocol version (MCP
/// transports). None of them is a CORS-safelisted response header (Fetch standard).
pub const EXPOSED_HEADERS: [&str; 3] =
    ["WWW-Authenticate", "Mcp-Session-Id", "MCP-Protocol-Version"];

/// The request headers the [`preflight`] answer allows (`Access-Control-Allow-Headers`):
/// `Authorization` for the bearer token (RFC 6750 §2.1), `Content-Type` (a JSON body is not a
/// CORS-safelisted content type), `Mcp-Session-Id` and `MCP-Protocol-Version` (MCP transports),
/// and `Last-Event-ID`, which the MCP Streamable HTTP transport uses to resume an SSE stream.
pub const ALLOWED_REQUEST_HEADERS: [&str; 5] = [
    "Authorization",
    "Content-Type",
    "Mcp-Session-Id",
    "MCP-Protocol-Version",
    "Last-Event-ID",
];

/// The methods of the MCP Streamable HTTP endpoint (POST messages, GET the SSE stream, DELETE
/// the session) plus `OPTIONS`: the [`preflight`] `Access-Control-Allow-Methods` and `Allow`.
pub const ALLOWED_METHODS: &str = "GET, POST, DELETE, OPTIONS";

/// Hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1), `Trailer` (the body is
/// re-framed, so its trailers are gone), `Content-Length` (the proxy frames the body it sends,
/// RFC 9112 §6), and `Proxy-Authenticate` / `Proxy-Authentication-Info`, which concern only
/// the next hop (RFC 9110 §11.7.1, §11.7.3). Lowercase.
const NOT_FORWARDED_RESPONSE: [&str; 10] = [
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

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

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

/// How [`bridge_response`] and friends build the downstream response.
///
/// JSON form (every member optional): `{"resource_metadata_url":
/// "https://proxy.example/.well-known/oauth-protected-resource/mcp", "cors": {…}}` (see
/// [`CorsPolicy`]). `{}` is the default: copy everything verbatim, merge the expose list, leave
/// the upstream's other CORS headers alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BridgeOptions {
    /// Replace the value of every `resource_metadata` auth-param (RFC 9728 §5.1) with this
    /// absolute `http`/`https` URL, one the proxy serves itself (see
    /// [`relay_protected_resource_metadata`]): for browsers that cannot reach the upstream
    /// origin. Everything else in the challenge stays byte-for-byte as sent. `None` (the
    /// default) forwards every `WWW-Authenticate` value verbatim.
    pub resource_metadata_url: Option<String>,
    /// When set, the proxy owns CORS: the upstream's `Access-Control-Allow-*` and
    /// `Access-Control-Max-Age` headers are dropped and the policy's are added for the
    /// request's `Origin`. When `None`, the upstream's CORS headers pass through (only the
    /// expose list is merged), for hosts that add their own.
    pub cors: Option<CorsPolicy>,
}

impl BridgeOptions {
    /// Parse the JSON form (`null` or an empty string give the default).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for malformed JSON, an unknown member, or an invalid
    /// `resource_metadata_url` (see [`BridgeOptions::validate`]).
    pub fn from_json(json: &str) -> Result<Self> {
        let json = json.trim();
        if json.is_empty() || json == "null" {
            return Ok(BridgeOptions::default());
        }
        let options: BridgeOptions = from_json_object(json, "bridge options")?;
        options.validate()?;
        Ok(options)
    }

    /// Check that `resource_metadata_url` is an absolute `http`/`https` URL made of visible
    /// ASCII only: it is written into a header value (RFC 9110 §5.5), so it must not carry
    /// control characters, and non-ASCII would be obs-text.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `resource_metadata_url`.
    pub fn validate(&self) -> Result<()> {
        if let Some(u) = &self.resource_metadata_url {
            validate_rewrite_url(u)?;
        }
        Ok(())
    }
}

fn validate_rewrite_url(u: &str) -> Result<()> {
    let bad = |reason: &str| Error::invalid_argument("resource_metadata_url", reason.to_owned());
    if u.is_empty() || !u.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(bad(
            "must be non-empty visible ASCII (no spaces or control characters)",
        ));
    }
    let parsed = url::Url::parse(u).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad("must be an absolute http(s) URL"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

/// The challenge of a 401/403 in structured form, for hosts that relay it over a channel that
/// is not HTTP (a WebSocket, a postMessage bridge, an IPC pipe).
///
/// The fields come from the first `Bearer` challenge (RFC 6750 §3) when there is one,
/// otherwise from the first challenge of any scheme; a missing parameter is `null`. JSON:
/// `{"status":403,"scheme":"Bearer","error":"insufficient_scope","error_description":"…",
/// "scope":"mcp:write","resource_metadata":"https://…","www_authenticate":["Bearer …"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RelayedChallenge {
    /// The HTTP status: 401 (RFC 9110 §15.5.2) or 403 (RFC 6750 §3.1 `insufficient_scope`).
    pub status: u16,
    /// The auth-scheme as the server spelled it (RFC 9110 §11.1), e.g. `Bearer`.
    pub scheme: Option<String>,
    /// `error` (RFC 6750 §3.1), e.g. `invalid_token`, `insufficient_scope`.
    pub error: Option<String>,
    /// `error_description` (RFC 6750 §3).
    pub error_description: Option<String>,
    /// `scope` (RFC 6750 §3): what to request, and for a 403 what to step up to.
    pub scope: Option<String>,
    /// `resource_metadata` (RFC 9728 §5.1), after any rewrite.
    pub resource_metadata: Option<String>,
    /// Every `WWW-Authenticate` field value as sent downstream (RFC 9110 §11.6.1), in order.
    pub www_authenticate: Vec<String>,
}

impl RelayedChallenge {
    /// The structured challenge of a response with this status and these
    /// `WWW-Authenticate` values (RFC 9110 §11.6.1, several lines parsed as one list per
    /// §5.3). `None` unless the status is 401 or 403.
    pub fn from_values<S: AsRef<str>>(status: u16, www_authenticate: &[S]) -> Option<Self> {
        if !is_challenge_status(status) {
            return None;
        }
        let values: Vec<String> = www_authenticate
            .iter()
            .map(|v| v.as_ref().to_owned())
            .collect();
        let challenges =
            challenge::parse_www_authenticate_values(values.iter().map(String::as_str));
        let chosen: Option<&Challenge> = challenges
            .iter()
            .find(|c| c.is_bearer())
            .or_else(|| challenges.first());
        let param = |name: &str| chosen.and_then(|c| c.param(name)).map(str::to_owned);
        Some(RelayedChallenge {
            status,
            scheme: chosen.map(|c| c.scheme.clone()),
            error: param("error"),
            error_description: param("error_description"),
            scope: param("scope"),
            resource_metadata: param("resource_metadata"),
            www_authenticate: values,
        })
    }

    /// The structured challenge of a response given as header pairs (the `WWW-Authenticate`
    /// pairs are read, names compared case-insensitively). `None` unless 401 or 403.
    pub fn from_headers<K: AsRef<str>, V: AsRef<str>>(
        status: u16,
        headers: &[(K, V)],
    ) -> Option<Self> {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(WWW_AUTHENTICATE))
            .map(|(_, v)| v.as_ref())
            .collect();
        Self::from_values(status, &values)
    }

    /// The challenge captured by [`Client::send`](crate::Client::send) or
    /// [`Client::probe`](crate::Client::probe). `None` unless 401 or 403.
    pub fn from_captured(captured: &CapturedChallenge) -> Option<Self> {
        Self::from_values(captured.status, &captured.www_authenticate)
    }

    /// The challenge carried by an [`Error::Unauthorized`] (the server still refused after the
    /// allowed authorizations); `None` for every other error.
    pub fn from_error(error: &Error) -> Option<Self> {
        match error {
            Error::Unauthorized {
                status,
                www_authenticate,
                ..
            } => Self::from_values(*status, www_authenticate),
            _ => None,
        }
    }

    /// Compact JSON, members always present (`null` when absent).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned())
    }

    /// A JSON error body for a synthesized 401/403 (the shape MCP servers send alongside the
    /// challenge, RFC 6749 §5.2 members): `{"error": …, "error_description": …}`, with
    /// `error` defaulting to `invalid_token` for 401 and `insufficient_scope` for 403
    /// (RFC 6750 §3.1) when the challenge names none.
    pub fn error_body(&self) -> Vec<u8> {
        let error = self.error.clone().unwrap_or_else(|| {
            if self.status == 403 {
                "insufficient_scope".to_owned()
            } else {
                "invalid_token".to_owned()
            }
        });
        let mut body = serde_json::Map::new();
        body.insert("error".to_owned(), error.into());
        if let Some(d) = &self.error_description {
            body.insert("error_description".to_owned(), d.clone().into());
        }
        serde_json::Value::Object(body).to_string().into_bytes()
    }
}

/// What the proxy sends downstream: the status, the complete header list (framing headers
/// excepted: the proxy's HTTP server writes `Content-Length` or chunked coding for the body it
/// sends, RFC 9112 §6), and for 401/403 the structured challenge.
///
/// JSON: `{"status":401,"headers":[["WWW-Authenticate","Bearer …"],…],"challenge":{…}|null}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DownstreamResponse {
    /// The status to send: the upstream's, unchanged.
    pub status: u16,
    /// The header fields to send, in order; several fields of one name are several pairs.
    pub headers: Vec<HeaderPair>,
    /// The structured challenge, for 401 and 403 ([`RelayedChallenge`]); `None` otherwise.
    pub challenge: Option<RelayedChallenge>,
}

impl DownstreamResponse {
    /// Every value of the header `name` (compared case-insensitively), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Compact JSON (see the type docs).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// The bridge
// ---------------------------------------------------------------------------------------------

/// Whether `status` carries an authorization challenge the client must see: 401 (RFC 9110
/// §15.5.2, `WWW-Authenticate` required) or 403 (RFC 6750 §3.1 `insufficient_scope`, the MCP
/// step-up signal).
pub fn is_challenge_status(status: u16) -> bool {
    status == 401 || status == 403
}

/// The downstream response for an upstream response with this `status` and these headers.
///
/// - The status is unchanged.
/// - Every upstream field is copied, in order, names as sent, except hop-by-hop fields and
///   those named in `Connection` (RFC 9110 §7.6.1), `Trailer`, `Content-Length`,
///   `Proxy-Authenticate` and `Proxy-Authentication-Info` (RFC 9110 §11.7.1, §11.7.3), and
///   invalid pairs (see the [module docs](self)).
/// - Every `WWW-Authenticate` value (RFC 9110 §11.6.1) is copied verbatim, one pair per field
///   line as received, so several challenges and several lines survive; with
///   [`BridgeOptions::resource_metadata_url`] only the `resource_metadata` values
///   (RFC 9728 §5.1) change, the rest of each line byte-for-byte.
/// - One `Access-Control-Expose-Headers` field replaces the upstream's: the upstream's names
///   merged with [`EXPOSED_HEADERS`] ([`merge_expose_headers`]). It is sent on every status,
///   since a 200 `initialize` carries `Mcp-Session-Id`.
/// - With [`BridgeOptions::cors`], the upstream's `Access-Control-Allow-*` and
///   `Access-Control-Max-Age` fields are replaced by the policy's for `origin` (the request's
///   `Origin` header) ([`CorsPolicy::response_headers`]), and the upstream's `Vary` fields
///   become one, with `Origin` added when the origin is echoed (RFC 9110 §12.5.5).
/// - For 401/403, [`DownstreamResponse::challenge`] is the structured challenge.
///
/// # Errors
/// [`Error::InvalidArgument`] only when the options are invalid ([`BridgeOptions::validate`]).
pub fn bridge_response<K: AsRef<str>, V: AsRef<str>>(
    status: u16,
    upstream: &[(K, V)],
    origin: Option<&str>,
    options: &BridgeOptions,
) -> Result<DownstreamResponse> {
    options.validate()?;
    let connection_listed = connection_tokens(upstream);
    let mut headers: Vec<HeaderPair> = Vec::with_capacity(upstream.len() + 4);
    let mut expose_values: Vec<&str> = Vec::new();
    let mut challenges: Vec<String> = Vec::new();
    let mut vary_values: Vec<&str> = Vec::new();
    for (name, value) in upstream {
        let (name, value) = (name.as_ref(), value.as_ref());
        if !is_valid_field(name, value) {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if NOT_FORWARDED_RESPONSE.contains(&lower.as_str()) || connection_listed.contains(&lower) {
            continue;
        }
        if lower == "access-control-expose-headers" {
            expose_values.push(value);
            continue;
        }
        if options.cors.is_some() && is_cors_response_field(&lower) {
            continue;
        }
        if options.cors.is_some() && lower == "vary" {
            // Merged below with the `Origin` an echoed origin needs, into one field.
            vary_values.push(value);
            continue;
        }
        if lower == "www-authenticate" {
            let value = rewrite(value, options);
            challenges.push(value.clone());
            headers.push((name.to_owned(), value));
            continue;
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    headers.push((
        ACCESS_CONTROL_EXPOSE_HEADERS.to_owned(),
        merge_expose_headers(expose_values),
    ));
    if let Some(cors) = &options.cors {
        let mut needs_origin = false;
        for (name, value) in cors.response_headers(origin) {
            if name.eq_ignore_ascii_case("vary") {
                needs_origin = true;
            } else {
                headers.push((name, value));
            }
        }
        // `Vary: *` already covers Origin (RFC 9110 §12.5.5).
        let star = vary_values
            .iter()
            .flat_map(|v| v.split(','))
            .any(|n| n.trim() == "*");
        let add: &[&str] = if needs_origin && !star {
            &["Origin"]
        } else {
            &[]
        };
        let vary = merge_field_names(&vary_values, add);
        if !vary.is_empty() {
            headers.push(("Vary".to_owned(), vary));
        }
    }
    Ok(DownstreamResponse {
        status,
        headers,
        challenge: RelayedChallenge::from_values(status, &challenges),
    })
}

/// The downstream response for a challenge captured by [`Client::send`](crate::Client::send)
/// (the last 401/403 it saw) when the proxy has no upstream response to copy: the captured
/// status, every captured `WWW-Authenticate` value (rewritten as in [`bridge_response`]), the
/// merged `Access-Control-Expose-Headers`, and the CORS headers of
/// [`BridgeOptions::cors`]. The body is the proxy's choice, e.g.
/// [`RelayedChallenge::error_body`] with `Content-Type: application/json`.
///
/// # Errors
/// [`Error::InvalidArgument`] only when the options are invalid.
pub fn bridge_captured(
    captured: &CapturedChallenge,
    origin: Option<&str>,
    options: &BridgeOptions,
) -> Result<DownstreamResponse> {
    let pairs: Vec<(&str, &str)> = captured
        .www_authenticate
        .iter()
        .map(|v| (WWW_AUTHENTICATE, v.as_str()))
        .collect();
    bridge_response(captured.status, &pairs, origin, options)
}

/// The downstream response for an error returned by [`Client::send`](crate::Client::send):
/// for [`Error::Unauthorized`] (the server still answered 401/403 after the allowed
/// authorizations), its status and `WWW-Authenticate` values bridged as in
/// [`bridge_captured`]; `None` for every other error (the proxy answers those as it sees fit,
/// typically 502).
///
/// # Errors
/// [`Error::InvalidArgument`] only when the options are invalid.
pub fn bridge_error(
    error: &Error,
    origin: Option<&str>,
    options: &BridgeOptions,
) -> Result<Option<DownstreamResponse>> {
    let Error::Unauthorized {
        status,
        www_authenticate,
        ..
    } = error
    else {
        return Ok(None);
    };
    let pairs: Vec<(&str, &str)> = www_authenticate
        .iter()
        .map(|v| (WWW_AUTHENTICATE, v.as_str()))
        .collect();
    bridge_response(*status, &pairs, origin, options).map(Some)
}

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
/// use mcp_auth::bridge::merge_expose_headers;
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

// ---------------------------------------------------------------------------------------------
// Protected resource metadata relay
// ---------------------------------------------------------------------------------------------

/// The body a proxy serves at its own `resource_metadata` URL, from the upstream's protected
/// resource metadata document (RFC 9728 §2, §3.2).
///
/// The document is validated ([`ProtectedResourceMetadata::from_json`]: a JSON object with a
/// `resource` and valid members) so that the proxy never relays something a client would
/// reject anyway, then written back as compact JSON with every member kept. With `resource`,
/// the `resource` member is replaced: RFC 9728 §3.3 makes a client reject metadata whose
/// `resource` is not the URL it sent its request to, which for a browser is the proxy's. Only
/// rewrite it when the upstream accepts tokens issued for that resource (RFC 8707 audience),
/// for instance when the proxy is the resource server as far as the authorization server
/// knows; otherwise relay it unchanged.
///
/// # Errors
/// [`Error::InvalidResponse`] (what: `"protected resource metadata"`) when the body is not
/// valid metadata; [`Error::InvalidArgument`] when `resource` is not an absolute URL.
pub fn relay_protected_resource_metadata(body: &[u8], resource: Option<&str>) -> Result<Vec<u8>> {
    ProtectedResourceMetadata::from_json(body)?;
    let mut doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| Error::invalid_response("protected resource metadata", e.to_string(), None))?;
    if let Some(r) = resource {
        url::Url::parse(r).map_err(|e| Error::invalid_argument("resource", e.to_string()))?;
        doc.insert("resource".to_owned(), r.into());
    }
    serde_json::to_vec(&doc).map_err(|e| Error::Internal {
        message: format!("serializing metadata: {e}"),
    })
}

/// Fetch the upstream's protected resource metadata at `url` (a `GET` with
/// `Accept: application/json`, RFC 9728 §3.1) through `http` and return the body to relay
/// ([`relay_protected_resource_metadata`]).
///
/// `url` must be `https` or a loopback `http` URL (OAuth 2.1 §1.5), the rule mcp-auth applies
/// to every metadata URL. Use an [`HttpClient`] that does not follow redirects, such as the
/// default [`UreqHttpClient`](crate::http::UreqHttpClient): the proxy must not become a
/// fetcher of whatever a redirect names.
///
/// # Errors
/// [`Error::InsecureUrl`]; transport errors of `http`; [`Error::InvalidResponse`] with the
/// status when the answer is not `200` or not valid metadata.
pub fn fetch_protected_resource_metadata(
    http: &dyn HttpClient,
    url: &str,
    resource: Option<&str>,
) -> Result<Vec<u8>> {
    crate::checks::require_secure_url("protected resource metadata", url)?;
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| Error::invalid_argument("protected resource metadata URL", e.to_string()))?;
    let response = http.execute(request)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Error::invalid_response(
            "protected resource metadata",
            format!("HTTP {status} from {}", crate::http::redact_url(url)),
            Some(status),
        ));
    }
    relay_protected_resource_metadata(response.body(), resource)
}

// ---------------------------------------------------------------------------------------------
// JSON entry points (C ABI, Python)
// ---------------------------------------------------------------------------------------------

/// Parse header pairs from JSON: an array of `[name, value]` arrays, e.g.
/// `[["WWW-Authenticate","Bearer …"],["Content-Type","application/json"]]`. Order and
/// repetitions are kept.
///
/// # Errors
/// [`Error::InvalidArgument`] for anything else.
pub fn header_pairs_from_json(json: &str) -> Result<Vec<HeaderPair>> {
    serde_json::from_str(json).map_err(|e| {
        Error::invalid_argument(
            "headers",
            format!("expected a JSON array of [name, value] string pairs: {e}"),
        )
    })
}

/// [`bridge_response`] with JSON in and out: `headers_json` as in
/// [`header_pairs_from_json`], `options_json` as in [`BridgeOptions::from_json`] (`None`, `""`
/// or `null` for the default); returns [`DownstreamResponse::to_json`].
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed JSON or invalid options.
pub fn bridge_response_json(
    status: u16,
    headers_json: &str,
    origin: Option<&str>,
    options_json: Option<&str>,
) -> Result<String> {
    let headers = header_pairs_from_json(headers_json)?;
    let options = BridgeOptions::from_json(options_json.unwrap_or(""))?;
    Ok(bridge_response(status, &headers, origin, &options)?.to_json())
}

/// [`bridge_error`] with JSON options in and JSON out: the [`DownstreamResponse`] JSON, or
/// `null` when the error carries no challenge.
///
/// # Errors
/// [`Error::InvalidArgument`] for invalid options.
pub fn bridge_error_json(
    error: &Error,
    origin: Option<&str>,
    options_json: Option<&str>,
) -> Result<String> {
    let options = BridgeOptions::from_json(options_json.unwrap_or(""))?;
    Ok(bridge_error(error, origin, &options)?.map_or_else(|| "null".to_owned(), |d| d.to_json()))
}

/// [`preflight`] with JSON in and out: `cors_json` is a [`CorsPolicy`] (`None`, `""` or
/// `null` for the default, any origin).
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed JSON.
pub fn preflight_json(request_headers_json: &str, cors_json: Option<&str>) -> Result<String> {
    let headers = header_pairs_from_json(request_headers_json)?;
    let cors_json = cors_json.map(str::trim).unwrap_or("");
    let policy = if cors_json.is_empty() || cors_json == "null" {
        CorsPolicy::default()
    } else {
        from_json_object(cors_json, "CORS policy")?
    };
    Ok(preflight(&headers, &policy).to_json())
}

/// [`upstream_request_headers`] with JSON in and out (arrays of `[name, value]` pairs).
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed header JSON.
pub fn upstream_request_headers_json(request_headers_json: &str) -> Result<String> {
    let headers = header_pairs_from_json(request_headers_json)?;
    serde_json::to_string(&upstream_request_headers(&headers)).map_err(|e| Error::Internal {
        message: format!("serializing headers: {e}"),
    })
}

/// [`RelayedChallenge::from_headers`] with JSON in and out: the challenge JSON, or `null`
/// unless the status is 401 or 403.
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed header JSON.
pub fn challenge_json(status: u16, headers_json: &str) -> Result<String> {
    let headers = header_pairs_from_json(headers_json)?;
    Ok(RelayedChallenge::from_headers(status, &headers)
        .map_or_else(|| "null".to_owned(), |c| c.to_json()))
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

/// Deserialize `T` from a JSON object, and only an object (serde would also accept an array
/// for a struct, which no caller means).
fn from_json_object<T: serde::de::DeserializeOwned>(json: &str, what: &'static str) -> Result<T> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::invalid_argument(what, e.to_string()))?;
    if !value.is_object() {
        return Err(Error::invalid_argument(what, "expected a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| Error::invalid_argument(what, e.to_string()))
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
fn is_valid_value(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A pair that may be written to the wire: the name a token (RFC 9110 §5.1), the value valid.
fn is_valid_field(name: &str, value: &str) -> bool {
    is_token(name) && is_valid_value(value)
}

/// The lowercase field names listed in the `Connection` fields (RFC 9110 §7.6.1).
fn connection_tokens<K: AsRef<str>, V: AsRef<str>>(headers: &[(K, V)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.as_ref().split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The CORS response fields a proxy that owns CORS replaces (the expose list is merged
/// separately). Lowercase input.
fn is_cors_response_field(lower: &str) -> bool {
    lower.starts_with("access-control-allow-") || lower == "access-control-max-age"
}

/// One `WWW-Authenticate` field value after the optional `resource_metadata` rewrite.
fn rewrite(value: &str, options: &BridgeOptions) -> String {
    match &options.resource_metadata_url {
        Some(url) => rewrite_resource_metadata(value, url).into_owned(),
        None => value.to_owned(),
    }
}

/// Replace the value of every well-formed `resource_metadata` auth-param of one
/// `WWW-Authenticate` field value with `url` as a quoted-string (RFC 9110 §5.6.4), leaving
/// every other byte as it was. A parameter the parser would not read (malformed, or inside a
/// quoted string) is left alone, so parsing the result gives the same challenges with only
/// that value changed.
///
/// ```
/// use mcp_auth::bridge::rewrite_resource_metadata;
/// assert_eq!(
///     rewrite_resource_metadata(
///         r#"Bearer error="invalid_token", resource_metadata=https://up/prm, scope="a b""#,
///         "https://proxy/prm"
///     ),
///     r#"Bearer error="invalid_token", resource_metadata="https://proxy/prm", scope="a b""#
/// );
/// ```
pub fn rewrite_resource_metadata<'a>(value: &'a str, url: &str) -> Cow<'a, str> {
    // The challenge parser's own lexer finds the parameters, so a rewrite changes exactly
    // the `resource_metadata` values a client would read.
    let spans: Vec<Range<usize>> = crate::challenge::param_value_spans(value)
        .into_iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("resource_metadata"))
        .map(|(_, v)| v)
        .collect();
    if spans.is_empty() {
        return Cow::Borrowed(value);
    }
    let mut quoted = String::with_capacity(url.len() + 2);
    quoted.push('"');
    for c in url.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    let mut out = String::with_capacity(value.len() + spans.len() * quoted.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&value[at..span.start]);
        out.push_str(&quoted);
        at = span.end;
    }
    out.push_str(&value[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(s: &str) -> Vec<(&str, &str)> {
        crate::challenge::param_value_spans(s)
            .into_iter()
            .map(|(n, v)| (n, &s[v]))
            .collect()
    }

    #[test]
    fn param_spans_follow_the_lexer() {
        assert_eq!(
            spans(r#"Basic abc==, Bearer a=b , c="d\"e""#),
            [("a", "b"), ("c", r#""d\"e""#)]
        );
        // token68 directly after the scheme is not a parameter.
        assert_eq!(spans("Bearer resource_metadata="), []);
        assert_eq!(
            spans("Bearer resource_metadata=x"),
            [("resource_metadata", "x")]
        );
        // Inside a quoted string: never a parameter.
        assert_eq!(
            spans(r#"Bearer error_description="resource_metadata=x""#),
            [("error_description", r#""resource_metadata=x""#)]
        );
        // Malformed: unterminated, glued, empty.
        assert_eq!(spans(r#"Bearer a="x"#), []);
        assert_eq!(spans(r#"Bearer a=x"y", b=c"#), [("b", "c")]);
        assert_eq!(spans("Bearer a= , b=c"), [("b", "c")]);
        // Junk after a value keeps the value.
        assert_eq!(spans("Bearer a=x junk, b=c"), [("a", "x"), ("b", "c")]);
    }

    #[test]
    fn rewrite_without_resource_metadata_borrows() {
        assert!(matches!(
            rewrite_resource_metadata("Bearer realm=x", "https://p/"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn invalid_fields_are_not_forwarded() {
        assert!(!is_valid_field("bad name", "v"));
        assert!(!is_valid_field("x", "a\r\nSet-Cookie: y"));
        assert!(!is_valid_field("", "v"));
        assert!(is_valid_field("x", "tab\tand é"));
    }
}
