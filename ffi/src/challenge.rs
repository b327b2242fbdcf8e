//! `WWW-Authenticate` (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1): the challenge parser
//! and the Python SDK's `extract_*` helpers.
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::challenge;

use crate::boundary::{Out, ffi_boundary, opt_str, req_str};
use crate::status::mcpauth_status;

/// The value of parameter `field_name` in a `WWW-Authenticate` header value: the Python SDK's
/// `extract_field_from_www_auth`, taking the header text instead of a response.
///
/// The first `Bearer` challenge answers when there is one, otherwise the first challenge that
/// carries the parameter. Names compare case-insensitively and literally; quoted values are
/// unquoted and unescaped; `scope=""` gives the empty string. Several header lines may be
/// joined with `", "`.
///
/// - `www_authenticate`: the header value; may be NULL (no header: `*out` is set to NULL).
/// - `field_name`: the parameter name, e.g. `"scope"`.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when the
///   parameter is absent.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`field_name` or `out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_extract_field_from_www_auth(
    www_authenticate: *const c_char,
    field_name: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (header, field, out) = unsafe {
            (
                opt_str(www_authenticate, "www_authenticate")?,
                req_str(field_name, "field_name")?,
                Out::new(out, "out")?,
            )
        };
        out.write_opt_str(challenge::extract_field_from_www_auth(header, field).as_deref())
    })
}

/// The `scope` of a `WWW-Authenticate` header value (RFC 6750 §3): the Python SDK's
/// `extract_scope_from_www_auth`. Same rules as `mcpauth_extract_field_from_www_auth`.
///
/// - `www_authenticate`: the header value; may be NULL.
/// - `out`: on success, a new string (free with `mcpauth_string_free`) or NULL when absent.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_extract_scope_from_www_auth(
    www_authenticate: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (header, out) = unsafe {
            (
                opt_str(www_authenticate, "www_authenticate")?,
                Out::new(out, "out")?,
            )
        };
        out.write_opt_str(challenge::extract_scope_from_www_auth(header).as_deref())
    })
}

/// The `resource_metadata` URL of a `WWW-Authenticate` header value (RFC 9728 §5.1): the
/// Python SDK's `extract_resource_metadata_from_www_auth`. Like the SDK, absent unless
/// `http_status` is 401 or 403.
///
/// - `www_authenticate`: the header value; may be NULL.
/// - `http_status`: the status of the response that carried the header.
/// - `out`: on success, a new string (free with `mcpauth_string_free`) or NULL when absent.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_extract_resource_metadata_from_www_auth(
    www_authenticate: *const c_char,
    http_status: u16,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (header, out) = unsafe {
            (
                opt_str(www_authenticate, "www_authenticate")?,
                Out::new(out, "out")?,
            )
        };
        out.write_opt_str(
            challenge::extract_resource_metadata_from_www_auth(header, http_status).as_deref(),
        )
    })
}

/// Parse a `WWW-Authenticate` header value into its challenges (RFC 9110 §11.6.1) and the
/// Bearer view of the first Bearer challenge (RFC 6750 §3, RFC 9728 §5.1), as JSON:
///
/// `{"challenges":[{"scheme":"Bearer","token68":null,"params":[["error","invalid_token"],["scope","a b"]]}],"bearer":{"error":"invalid_token","error_description":null,"error_uri":null,"scope":"a b","resource_metadata":null,"realm":null}}`
///
/// Parameter names are lowercased, values unquoted; `"bearer"` is null without a Bearer
/// challenge. Never fails on malformed input: bad elements are skipped.
///
/// - `www_authenticate`: the header value (an empty string gives no challenges).
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_parse_www_authenticate(
    www_authenticate: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (header, out) = unsafe {
            (
                req_str(www_authenticate, "www_authenticate")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let challenges = challenge::parse_www_authenticate(header);
        let bearer = challenge::bearer_challenge(&challenges);
        out.write_json(&serde_json::json!({"challenges": challenges, "bearer": bearer}))
    })
}
