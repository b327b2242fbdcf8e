//! # mcp-auth-bridge
//!
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
//! # What this crate computes
//!
//! | function | for |
//! |---|---|
//! | [`bridge_response`] | an upstream response (status + header pairs): the downstream status and complete header list |
//! | [`bridge_captured`], [`bridge_error`] | the challenge captured by [`Client::send`](mcp_auth::Client::send) (in a [`Response`](mcp_auth::client::Response) or an [`Error::Unauthorized`](mcp_auth::Error::Unauthorized)) |
//! | [`RelayedChallenge`] | the challenge as JSON, for hosts relaying it over a non-HTTP channel |
//! | [`merge_expose_headers`] | the `Access-Control-Expose-Headers` merge on its own |
//! | [`preflight`] | the CORS preflight answer for the MCP endpoint |
//! | [`upstream_request_headers`] | the request headers to forward upstream |
//! | [`relay_protected_resource_metadata`], [`fetch_protected_resource_metadata`] | serving the PRM from the proxy when `resource_metadata` is rewritten |
//! | [`bridge_response_json`], [`preflight_json`], [`challenge_json`], [`bridge_error_json`], [`upstream_request_headers_json`] | the same with JSON in and out, for the C ABI and Python |
//!
//! This is server-side code (for proxies and gateways in front of MCP servers), so it lives in
//! its own crate on top of the `mcp-auth` client core: the client path does not depend on it.
//! The C ABI (`mcpauth_bridge_*` in `libmcpauth`) and the Python package (`mcp_auth.bridge`)
//! expose it; see docs/bridge.md.
//!
//! Headers are plain `(name, value)` pairs so that any HTTP stack (and the C ABI) can use them;
//! [`header_pairs`] converts an [`http::HeaderMap`]. A pair whose name is not a token or whose
//! value holds a control character (RFC 9110 §5.1, §5.5) is dropped rather than forwarded, so
//! the output can be written to the wire as is without response splitting.
//!
//! ```
//! use mcp_auth_bridge::{BridgeOptions, bridge_response};
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

#![warn(missing_docs)]

mod challenge;
mod cors;
mod headers;
mod json;
mod metadata;
mod options;
mod response;

pub use challenge::{RelayedChallenge, rewrite_resource_metadata};
pub use cors::{CorsPolicy, preflight};
pub use headers::{
    header_pairs, merge_expose_headers, merge_field_names, upstream_request_headers,
};
pub use json::{
    bridge_error_json, bridge_response_json, challenge_json, header_pairs_from_json,
    preflight_json, upstream_request_headers_json,
};
pub use metadata::{fetch_protected_resource_metadata, relay_protected_resource_metadata};
pub use options::BridgeOptions;
pub use response::{
    DownstreamResponse, bridge_captured, bridge_error, bridge_response, is_challenge_status,
};

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
