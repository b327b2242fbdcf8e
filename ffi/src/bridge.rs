//! Bridging the authorization challenge through proxies and gateways (the `mcp-auth-bridge` crate): what
//! a proxy between a (browser) MCP client and an MCP server must put on its downstream
//! response so that the client can still read `WWW-Authenticate` (RFC 9110 §11.6.1, RFC 6750
//! §3, RFC 9728 §5.1).
//!
//! Headers travel as JSON arrays of `[name, value]` pairs, in order, repeated names kept:
//! `[["WWW-Authenticate","Bearer error=\"invalid_token\""],["Content-Type","application/json"]]`.
//! Options and results are JSON objects. None of these functions does I/O except
//! `mcpauth_bridge_fetch_protected_resource_metadata`. All are thread-safe.

use std::ffi::c_char;
use std::time::Duration;

use mcp_auth::http::{HttpConfig, UreqHttpClient};
use mcp_auth_bridge::{self as bridge, BridgeOptions};

use crate::boundary::{FfiResult, Out, bytes, ffi_boundary, ffi_value, opt_str, req_str};
use crate::error::{FfiError, last_error_challenge};
use crate::status::mcpauth_status;

/// Bridge options from an optional JSON argument (NULL, `""` or `null` give the default).
pub(crate) fn options(json: Option<&str>) -> FfiResult<BridgeOptions> {
    BridgeOptions::from_json(json.unwrap_or("")).map_err(|e| FfiError::invalid("options_json", e))
}

fn pairs(json: &str, arg: &str) -> FfiResult<Vec<bridge::HeaderPair>> {
    bridge::header_pairs_from_json(json).map_err(|e| FfiError::invalid(arg, e))
}

/// The downstream response for an upstream response with this status and these headers: what
/// a proxy sends to its client.
///
/// - The status is unchanged.
/// - Every upstream header is copied in order, names as sent, except hop-by-hop fields and
///   those named in `Connection` (RFC 9110 §7.6.1), `Trailer`, `Content-Length` (the proxy
///   frames the body it sends), `Proxy-Authenticate`, `Proxy-Authentication-Info`, and pairs
///   that are not valid on the wire (a name that is not a token, a value with CR, LF, NUL or
///   another control character): the result can be written out as is, without response
///   splitting.
/// - Every `WWW-Authenticate` value is copied verbatim, one pair per upstream field line; with
///   the option `resource_metadata_url`, only the `resource_metadata` values are replaced.
/// - One `Access-Control-Expose-Headers` header replaces the upstream's: its names merged with
///   `WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version` (on every status).
/// - With the option `cors`, the upstream's `Access-Control-Allow-*` and
///   `Access-Control-Max-Age` are replaced by the policy's for `origin`, and `Vary` gets
///   `Origin` when the origin is echoed.
///
/// Options (`options_json`, every member optional; NULL, `""` or `null` for the default, which
/// copies everything and merges the expose list):
/// `{"resource_metadata_url":"https://proxy.example/.well-known/oauth-protected-resource/mcp","cors":{"allowed_origins":["https://app.example"],"allow_credentials":false,"max_age_secs":600}}`.
///
/// Result:
/// `{"status":401,"headers":[["WWW-Authenticate","Bearer …"],["Access-Control-Expose-Headers","WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"]],"challenge":{"status":401,"scheme":"Bearer","error":"invalid_token","error_description":null,"scope":"…","resource_metadata":"…","www_authenticate":["Bearer …"]}}`
/// (`challenge` is null unless the status is 401 or 403).
///
/// - `status`: the upstream status.
/// - `headers_json`: the upstream headers, `[["name","value"],…]`.
/// - `origin`: the downstream request's `Origin` header; may be NULL.
/// - `options_json`: the options; may be NULL.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (malformed header JSON, invalid options).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_response(
    status: u16,
    headers_json: *const c_char,
    origin: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (headers, origin, opts, out) = unsafe {
            (
                req_str(headers_json, "headers_json")?,
                opt_str(origin, "origin")?,
                opt_str(options_json, "options_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let headers = pairs(headers, "headers_json")?;
        let opts = options(opts)?;
        let down = bridge::bridge_response(status, &headers, origin, &opts)?;
        out.write_str(&down.to_json())
    })
}

/// The downstream response for the calling thread's last error, when the server still refused
/// after the allowed authorizations (`MCPAUTH_STATUS_UNAUTHORIZED` from `mcpauth_client_send`,
/// `mcpauth_client_post_json`, `mcpauth_client_authorize_after`…): its 401/403 status, every
/// `WWW-Authenticate` value it carried, the merged `Access-Control-Expose-Headers` and the
/// CORS headers of the options, with the structured challenge. Same JSON as
/// `mcpauth_bridge_response`. The body is the proxy's choice, e.g.
/// `{"error":"invalid_token"}` with `Content-Type: application/json`.
///
/// Call it right after the failed call, on the same thread: it reads the last error as it is
/// on entry, and then, like every status-returning function, clears it.
///
/// - `origin`: the downstream request's `Origin` header; may be NULL.
/// - `options_json`: the options (see `mcpauth_bridge_response`); may be NULL.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), or NULL when the
///   last error carries no challenge (no error, or another kind of failure: a proxy answers
///   those as it sees fit, typically 502).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (invalid options).
///
/// Thread-safe (the last error is per thread).
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_last_error(
    origin: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    // Read before the boundary clears the last error.
    let captured = ffi_value(None, last_error_challenge);
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (origin, opts, out) = unsafe {
            (
                opt_str(origin, "origin")?,
                opt_str(options_json, "options_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let opts = options(opts)?;
        match captured {
            Some(c) => out.write_str(&bridge::bridge_captured(&c, origin, &opts)?.to_json()),
            None => out.write_opt_str(None),
        }
    })
}

/// The structured challenge of a 401/403 response given its headers, for hosts that relay it
/// over a channel that is not HTTP (a WebSocket, a postMessage bridge, an IPC pipe). The fields
/// come from the first `Bearer` challenge, else the first challenge of any scheme:
///
/// `{"status":403,"scheme":"Bearer","error":"insufficient_scope","error_description":null,"scope":"mcp:write","resource_metadata":"https://…","www_authenticate":["Bearer …"]}`
///
/// - `status`: the response status.
/// - `headers_json`: the response headers, `[["name","value"],…]` (only `WWW-Authenticate` is
///   read, names compared case-insensitively).
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), or NULL unless
///   `status` is 401 or 403.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (malformed header JSON).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_challenge(
    status: u16,
    headers_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (headers, out) = unsafe {
            (
                req_str(headers_json, "headers_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let headers = pairs(headers, "headers_json")?;
        match bridge::RelayedChallenge::from_headers(status, &headers) {
            Some(c) => out.write_str(&c.to_json()),
            None => out.write_opt_str(None),
        }
    })
}

/// Merge an `Access-Control-Expose-Headers` value with `WWW-Authenticate, Mcp-Session-Id,
/// MCP-Protocol-Version`: the existing names first, in order and as spelled, then the missing
/// ones; names compare case-insensitively and appear once; empty elements and elements that
/// are not tokens are dropped (a browser ignores the whole header when one does not parse); a
/// `*` is kept.
///
/// - `existing`: the existing value (several header lines joined with `", "`); may be NULL.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), e.g.
///   `"X-Request-Id, WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_merge_expose_headers(
    existing: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (existing, out) = unsafe { (opt_str(existing, "existing")?, Out::new(out, "out")?) };
        out.write_str(&bridge::merge_expose_headers(existing))
    })
}

/// The answer to a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`) for the MCP endpoint, given the request's headers. An
/// allowed origin gets `204` with `Access-Control-Allow-Origin`, `-Methods` (`GET, POST,
/// DELETE, OPTIONS`), `-Headers` (`Authorization, Content-Type, Mcp-Session-Id,
/// MCP-Protocol-Version, Last-Event-ID`) and `-Max-Age`; an origin the policy does not list
/// gets `403` without CORS headers; a request without `Origin` gets `204` with `Allow`. Same
/// JSON as `mcpauth_bridge_response` (`challenge` is null).
///
/// - `request_headers_json`: the preflight's headers, `[["name","value"],…]`.
/// - `cors_json`: the policy, `{"allowed_origins":["https://app.example"],"allow_credentials":false,"max_age_secs":600}`
///   (every member optional); NULL, `""` or `null` for the default (any origin, no
///   credentials, 600 s).
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (malformed JSON).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_preflight(
    request_headers_json: *const c_char,
    cors_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (headers, cors, out) = unsafe {
            (
                req_str(request_headers_json, "request_headers_json")?,
                opt_str(cors_json, "cors_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        pairs(headers, "request_headers_json")?;
        let json =
            bridge::preflight_json(headers, cors).map_err(|e| FfiError::invalid("cors_json", e))?;
        out.write_str(&json)
    })
}

/// The request headers a proxy forwards upstream for a downstream request: every valid pair in
/// order (`Authorization`, `Content-Type`, `Accept`, `Mcp-Session-Id`, `MCP-Protocol-Version`,
/// `Last-Event-ID` pass unchanged), minus hop-by-hop fields and those named in `Connection`,
/// `Host`, `Content-Length`, `Proxy-Authorization`, `Origin` and `Access-Control-Request-*`.
///
/// - `request_headers_json`: the downstream request's headers, `[["name","value"],…]`.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`): the headers to
///   send, in the same form. It may hold the bearer token: `mcpauth_string_free` zeroizes it.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (malformed header JSON).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_upstream_request_headers(
    request_headers_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (headers, out) = unsafe {
            (
                req_str(request_headers_json, "request_headers_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let headers = pairs(headers, "request_headers_json")?;
        out.write_json(&bridge::upstream_request_headers(&headers))
    })
}

/// Replace the value of every well-formed `resource_metadata` parameter (RFC 9728 §5.1) of one
/// `WWW-Authenticate` value with `url`, as a quoted string, leaving every other byte as it was
/// (for a proxy that serves the metadata itself; see
/// `mcpauth_bridge_relay_protected_resource_metadata`).
///
/// - `www_authenticate`: one `WWW-Authenticate` field value.
/// - `url`: the new URL: an absolute http(s) URL of visible ASCII characters.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`url` is not such a URL).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_rewrite_resource_metadata(
    www_authenticate: *const c_char,
    url: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (value, url, out) = unsafe {
            (
                req_str(www_authenticate, "www_authenticate")?,
                req_str(url, "url")?,
                Out::new(out, "out")?,
            )
        };
        BridgeOptions {
            resource_metadata_url: Some(url.to_owned()),
            cors: None,
        }
        .validate()
        .map_err(|e| FfiError::invalid("url", e))?;
        out.write_str(&bridge::rewrite_resource_metadata(value, url))
    })
}

/// The body a proxy serves at its own `resource_metadata` URL, from the upstream's protected
/// resource metadata document (RFC 9728): validated, then written back as compact JSON with
/// every member kept; with `resource`, the `resource` member is replaced (only when the upstream
/// accepts tokens issued for that resource: RFC 9728 §3.3 makes clients reject metadata whose
/// `resource` is not the URL they called).
///
/// - `body`, `body_len`: the upstream document; `body` may be NULL when `body_len` is 0.
/// - `resource`: the replacement `resource`, an absolute URL; may be NULL (kept).
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE` (the body is not valid metadata),
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`resource` is not an absolute URL),
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_relay_protected_resource_metadata(
    body: *const u8,
    body_len: usize,
    resource: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (body, resource, out) = unsafe {
            (
                bytes(body, body_len, "body")?,
                opt_str(resource, "resource")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let relayed = bridge::relay_protected_resource_metadata(body, resource)?;
        let text = String::from_utf8(relayed)
            .map_err(|_| FfiError::internal("relayed metadata is not UTF-8"))?;
        out.write_str(&text)
    })
}

/// Fetch the upstream's protected resource metadata at `url` (a `GET` with
/// `Accept: application/json`, no redirect followed) and return the body to relay, as
/// `mcpauth_bridge_relay_protected_resource_metadata` does. `url` must be `https` or a loopback
/// `http` URL. Blocks until done.
///
/// - `url`: the upstream's metadata URL.
/// - `resource`: the replacement `resource`; may be NULL (kept).
/// - `timeout_ms`: the request timeout in milliseconds; 0 for the library's default (30 s).
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_INSECURE_URL`,
/// `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE` (not 200, or not valid metadata; the status is in
/// `mcpauth_last_error_http_status`), `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_bridge_fetch_protected_resource_metadata(
    url: *const c_char,
    resource: *const c_char,
    timeout_ms: u32,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (url, resource, out) = unsafe {
            (
                req_str(url, "url")?,
                opt_str(resource, "resource")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let mut config = HttpConfig::default();
        if timeout_ms > 0 {
            config.timeout = Duration::from_millis(u64::from(timeout_ms));
        }
        let http = UreqHttpClient::new(config);
        let relayed = bridge::fetch_protected_resource_metadata(&http, url, resource)?;
        let text = String::from_utf8(relayed)
            .map_err(|_| FfiError::internal("relayed metadata is not UTF-8"))?;
        out.write_str(&text)
    })
}
