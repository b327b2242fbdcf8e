//! Responses of `mcpauth_client_send` / `mcpauth_client_post_json`: status, headers, body,
//! the captured challenge, and the bridged downstream response.

use std::ffi::c_char;

use mcp_auth::client::Response;

use crate::boundary::{
    Out, ffi_boundary, ffi_void, free_handle, handle, into_handle, opt_str, req_str,
};
use crate::error::FfiError;
use crate::status::mcpauth_status;

/// The final response of `mcpauth_client_send` / `mcpauth_client_post_json`: status, headers,
/// body, and the last 401/403 challenge seen while sending. Immutable: the getters may be
/// called from any thread, concurrently. Free it with `mcpauth_response_free`.
pub struct mcpauth_response {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    /// The body followed by one NUL byte (not part of the body).
    pub(crate) body: Vec<u8>,
    pub(crate) challenge_json: Option<String>,
    pub(crate) authorizations: u32,
}

/// Free a response. NULL is a no-op; must not be called twice on the same pointer. Pointers
/// from `mcpauth_response_body` become invalid.
///
/// # Safety
/// `response` is NULL or a response from this library not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_free(response: *mut mcpauth_response) {
    // SAFETY: the caller's contract (# Safety).
    ffi_void(|| unsafe { free_handle(response) })
}

/// The HTTP status of the final response.
///
/// - `response`: the response.
/// - `out`: on success, the status (e.g. 200).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_status(
    response: *const mcpauth_response,
    out: *mut u16,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe { (handle(response, "response")?, Out::new(out, "out")?) };
        out.write(r.status);
        Ok(())
    })
}

/// The body of the final response, borrowed from the response.
///
/// - `response`: the response.
/// - `out_data`: on success, a pointer to the body bytes; valid until `mcpauth_response_free`.
///   Never NULL. The bytes are followed by a NUL byte that is not counted in the length, so a
///   text body without NUL bytes can be used as a C string directly.
/// - `out_len`: on success, the body length in bytes.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_body(
    response: *const mcpauth_response,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, data, len) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_data, "out_data")?,
                Out::new(out_len, "out_len")?,
            )
        };
        data.write(r.body.as_ptr());
        len.write(r.body.len().saturating_sub(1));
        Ok(())
    })
}

/// The value of a response header (names compare case-insensitively); several values are
/// joined with `", "` (RFC 9110 §5.3). Bytes that are not UTF-8 become U+FFFD.
///
/// - `response`: the response.
/// - `name`: the header name, e.g. `"content-type"`.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when the
///   header is absent.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`name` is not a header name).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_header(
    response: *const mcpauth_response,
    name: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, name, out) = unsafe {
            (
                handle(response, "response")?,
                req_str(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        out.write_opt_str(header_joined(&r.headers, name)?.as_deref())
    })
}

/// Every response header as a JSON array of `[name, value]` pairs, in order, names lowercased,
/// repeated headers kept: `[["content-type","application/json"],["www-authenticate","Bearer …"]]`.
///
/// - `response`: the response.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_headers_json(
    response: *const mcpauth_response,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_json, "out_json")?,
            )
        };
        out.write_json(&header_pairs(&r.headers))
    })
}

/// The last 401/403 challenge seen while sending (also when the final response is a success
/// after re-authorization, so that a proxy can forward it), as JSON:
/// `{"status":401,"www_authenticate":["…"],"challenges":[…],"bearer":{…}|null}`.
///
/// - `response`: the response.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), or NULL when no
///   challenge was seen.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_challenge_json(
    response: *const mcpauth_response,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_json, "out_json")?,
            )
        };
        out.write_opt_str(r.challenge_json.as_deref())
    })
}

/// How many tokens were acquired (authorizations or refreshes) while sending this request.
///
/// - `response`: the response.
/// - `out`: on success, the count.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_authorizations(
    response: *const mcpauth_response,
    out: *mut u32,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe { (handle(response, "response")?, Out::new(out, "out")?) };
        out.write(r.authorizations);
        Ok(())
    })
}

/// The JSON-RPC message in the body of the final response, as compact JSON: the body itself
/// when it is JSON, or the first `data:` event that holds JSON when the response is
/// `text/event-stream` (MCP Streamable HTTP answers a POST either way).
///
/// - `response`: the response.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), or NULL when the
///   body holds no JSON message.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_json_message(
    response: *const mcpauth_response,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let core = Response {
            status: r.status,
            headers: r.headers.clone(),
            body: r.body[..r.body.len().saturating_sub(1)].to_vec(),
            challenge: None,
            authorizations: r.authorizations,
        };
        match core.json_message() {
            Some(v) => out.write_json(&v),
            None => out.write_opt_str(None),
        }
    })
}

/// What a proxy sends downstream for this response (`mcpauth_bridge_response` applied to its
/// status and headers): every `WWW-Authenticate` value verbatim, hop-by-hop fields dropped,
/// `Access-Control-Expose-Headers` merged with `WWW-Authenticate, Mcp-Session-Id,
/// MCP-Protocol-Version`, and for a 401/403 the challenge. See `mcpauth_bridge_response` for
/// the options and the JSON result.
///
/// - `response`: the response.
/// - `origin`: the downstream request's `Origin` header; may be NULL.
/// - `options_json`: bridge options (see `mcpauth_bridge_response`); may be NULL.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (invalid options).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_bridge(
    response: *const mcpauth_response,
    origin: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, origin, options, out) = unsafe {
            (
                handle(response, "response")?,
                opt_str(origin, "origin")?,
                opt_str(options_json, "options_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let options = crate::bridge::options(options)?;
        let pairs = mcp_auth_bridge::header_pairs(&r.headers);
        let down = mcp_auth_bridge::bridge_response(r.status, &pairs, origin, &options)?;
        out.write_str(&down.to_json())
    })
}

/// A new response handle for a core response (the body gets a trailing NUL for C).
/// The values of header `name` joined with `", "` (RFC 9110 §5.3), `None` when absent: what
/// `mcpauth_response_header` and `mcpauth_stream_header` return.
pub(crate) fn header_joined(
    headers: &http::HeaderMap,
    name: &str,
) -> Result<Option<String>, FfiError> {
    let name = http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| FfiError::invalid("name", "not a header name"))?;
    let values: Vec<String> = headers
        .get_all(&name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    Ok((!values.is_empty()).then(|| values.join(", ")))
}

/// Every header as `[name, value]` pairs, in order, repeated ones kept: what the
/// `*_headers_json` functions return.
pub(crate) fn header_pairs(headers: &http::HeaderMap) -> Vec<(&str, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub(crate) fn response_handle(response: Response) -> *mut mcpauth_response {
    let mut body = response.body;
    body.push(0);
    into_handle(mcpauth_response {
        status: response.status,
        headers: response.headers,
        body,
        challenge_json: response
            .challenge
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok()),
        authorizations: response.authorizations,
    })
}
