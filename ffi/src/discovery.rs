//! Discovery URLs (RFC 9728 §3.1, RFC 8414 §3.1, OIDC Discovery §4, SEP-985): the URLs a
//! client tries, in order.
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::discovery;

use crate::boundary::{Out, ffi_boundary, opt_str, req_str};
use crate::status::mcpauth_status;

/// The ordered candidate URLs of the protected resource metadata of the MCP server
/// `server_url` (RFC 9728 §3.1, SEP-985), as a JSON array of strings: the challenge's
/// `resource_metadata` URL first (verbatim), then the path-based and the root well-known URLs.
/// A `server_url` that is not an absolute http(s) URL contributes nothing.
///
/// - `www_auth_url`: the `resource_metadata` of the challenge; may be NULL (or empty) when
///   there is none.
/// - `server_url`: the MCP server URL.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), e.g.
///   `["https://h/.well-known/oauth-protected-resource/mcp","https://h/.well-known/oauth-protected-resource"]`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`server_url` or `out_json`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_build_protected_resource_metadata_discovery_urls(
    www_auth_url: *const c_char,
    server_url: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (header, server, out) = unsafe {
            (
                opt_str(www_auth_url, "www_auth_url")?,
                req_str(server_url, "server_url")?,
                Out::new(out_json, "out_json")?,
            )
        };
        out.write_json(&discovery::build_protected_resource_metadata_discovery_urls(header, server))
    })
}

/// The ordered candidate URLs of the metadata of the authorization server `auth_server_url`
/// (RFC 8414 §3.1, OIDC Discovery §4), as a JSON array of strings. With an issuer path: RFC
/// 8414 path-insert, OIDC path-insert, OIDC path-append; with a root issuer: RFC 8414 then
/// OIDC at the root; with no authorization server (NULL or empty): the MCP 2025-03-26 legacy
/// fallback at the origin of `server_url`.
///
/// - `auth_server_url`: the issuer; may be NULL.
/// - `server_url`: the MCP server URL (used only for the legacy fallback).
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`server_url` or `out_json`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_build_oauth_authorization_server_metadata_discovery_urls(
    auth_server_url: *const c_char,
    server_url: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (issuer, server, out) = unsafe {
            (
                opt_str(auth_server_url, "auth_server_url")?,
                req_str(server_url, "server_url")?,
                Out::new(out_json, "out_json")?,
            )
        };
        out.write_json(
            &discovery::build_oauth_authorization_server_metadata_discovery_urls(issuer, server),
        )
    })
}

/// `{scheme}://{authority}` of an absolute http(s) URL (the base of the well-known URLs; the
/// authority is kept verbatim).
///
/// - `url`: the URL.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when `url` is
///   not an absolute http(s) URL.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_mcp_origin(
    url: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (url, out) = unsafe { (req_str(url, "url")?, Out::new(out, "out")?) };
        out.write_opt_str(discovery::mcp_origin(url).as_deref())
    })
}
