//! Security checks (RFC 8414 §3.3, RFC 9207, RFC 8707, RFC 9728 §3.3, OAuth 2.1 §1.5): issuer,
//! `iss`, resource and URL checks.
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::checks;
use mcp_auth::metadata::{OAuthMetadata, ProtectedResourceMetadata};

use crate::boundary::{Out, ffi_boundary, opt_str, req_str};
use crate::json::{model, opt_model};
use crate::status::mcpauth_status;

/// RFC 9207 §2.4: check the `iss` parameter of an authorization response against the
/// authorization server metadata. A present `iss` must equal `issuer` exactly (with no
/// metadata, any `iss` is rejected); an absent one is rejected only when the metadata
/// advertises `authorization_response_iss_parameter_supported`.
///
/// - `iss`: the `iss` of the redirect; may be NULL (absent).
/// - `metadata_json`: authorization server metadata (RFC 8414) as JSON; may be NULL.
///
/// Statuses: `MCPAUTH_STATUS_OK` (the check passed), `MCPAUTH_STATUS_SECURITY_CHECK`
/// (`mcpauth_last_error_check` is `"response_iss"` or `"missing_iss"`),
/// `MCPAUTH_STATUS_INVALID_UTF8`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (`metadata_json` is not
/// valid metadata).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_validate_authorization_response_iss(
    iss: *const c_char,
    metadata_json: *const c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (iss, md) = unsafe {
            (
                opt_str(iss, "iss")?,
                opt_str(metadata_json, "metadata_json")?,
            )
        };
        let md = opt_model(md, "metadata_json", OAuthMetadata::from_json)?;
        checks::validate_authorization_response_iss(iss, md.as_ref())?;
        Ok(())
    })
}

/// RFC 8414 §3.3: the metadata's `issuer` must be identical to the issuer the metadata was
/// requested for.
///
/// - `metadata_json`: authorization server metadata (RFC 8414) as JSON.
/// - `expected_issuer`: the issuer the metadata was fetched for.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_SECURITY_CHECK` (`"metadata_issuer"`),
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`metadata_json` is not valid metadata).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_validate_metadata_issuer(
    metadata_json: *const c_char,
    expected_issuer: *const c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (md, expected) = unsafe {
            (
                req_str(metadata_json, "metadata_json")?,
                req_str(expected_issuer, "expected_issuer")?,
            )
        };
        let md = model(md, "metadata_json", OAuthMetadata::from_json)?;
        checks::validate_metadata_issuer(&md, expected)?;
        Ok(())
    })
}

/// Whether two issuer identifiers name the same authorization server (SEP-2352): exact
/// equality, or a root issuer with and without its trailing slash.
///
/// - `a`, `b`: issuer identifiers.
/// - `out`: on success, the answer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_issuers_match(
    a: *const c_char,
    b: *const c_char,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (a, b, out) = unsafe { (req_str(a, "a")?, req_str(b, "b")?, Out::new(out, "out")?) };
        out.write(checks::issuers_match(a, b));
        Ok(())
    })
}

/// The canonical resource URI of an MCP server URL (RFC 8707 §2, the Python SDK's
/// `resource_url_from_server_url`): scheme and authority lowercased, fragment removed.
///
/// - `server_url`: the MCP server URL.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (not an absolute http(s)
/// URL), `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_resource_url_from_server_url(
    server_url: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (url, out) = unsafe { (req_str(server_url, "server_url")?, Out::new(out, "out")?) };
        out.write_str(&checks::resource_url_from_server_url(url)?)
    })
}

/// Whether the `requested` resource is covered by the `configured` one (RFC 9728 §3.3, RFC
/// 8707; the Python SDK's `check_resource_allowed`): same scheme and authority, and the
/// requested path equal to or below the configured path on a segment boundary.
///
/// - `requested`, `configured`: resource URLs.
/// - `out`: on success, the answer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_check_resource_allowed(
    requested: *const c_char,
    configured: *const c_char,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, c, out) = unsafe {
            (
                req_str(requested, "requested")?,
                req_str(configured, "configured")?,
                Out::new(out, "out")?,
            )
        };
        out.write(checks::check_resource_allowed(r, c));
        Ok(())
    })
}

/// Whether to send the RFC 8707 `resource` parameter: always when protected resource metadata
/// is held, otherwise only for a known MCP protocol version from 2025-06-18 on.
///
/// - `protocol_version`: the MCP protocol version; may be NULL.
/// - `prm_held`: whether protected resource metadata was found.
/// - `out`: on success, the answer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_should_include_resource_param(
    protocol_version: *const c_char,
    prm_held: bool,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (v, out) = unsafe {
            (
                opt_str(protocol_version, "protocol_version")?,
                Out::new(out, "out")?,
            )
        };
        out.write(checks::should_include_resource_param(v, prm_held));
        Ok(())
    })
}

/// RFC 9728 §3.3: the protected resource metadata's `resource` must cover the canonical server
/// URL.
///
/// - `server_url`: the MCP server URL.
/// - `prm_resource`: the `resource` member of its protected resource metadata.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_SECURITY_CHECK` (`"resource"`),
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`server_url` not an http(s) URL),
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_validate_resource_match(
    server_url: *const c_char,
    prm_resource: *const c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, r) = unsafe {
            (
                req_str(server_url, "server_url")?,
                req_str(prm_resource, "prm_resource")?,
            )
        };
        checks::validate_resource_match(s, r)?;
        Ok(())
    })
}

/// The value of the RFC 8707 `resource` parameter (the Python SDK's `get_resource_url`): the
/// metadata's `resource` when it covers the canonical server URL, else the canonical server
/// URL.
///
/// - `server_url`: the MCP server URL.
/// - `prm_json`: protected resource metadata (RFC 9728) as JSON; may be NULL.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT`,
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_resource_param_for(
    server_url: *const c_char,
    prm_json: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, prm, out) = unsafe {
            (
                req_str(server_url, "server_url")?,
                opt_str(prm_json, "prm_json")?,
                Out::new(out, "out")?,
            )
        };
        let prm = opt_model(prm, "prm_json", ProtectedResourceMetadata::from_json)?;
        out.write_str(&checks::resource_param_for(s, prm.as_ref())?)
    })
}

/// Whether the URL's host is loopback: `localhost`, `127.0.0.0/8` or `[::1]` (RFC 8252 §7.3).
/// An unparsable URL gives `false`.
///
/// - `url`: the URL.
/// - `out`: on success, the answer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_is_loopback_url(
    url: *const c_char,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (url, out) = unsafe { (req_str(url, "url")?, Out::new(out, "out")?) };
        out.write(checks::is_loopback_url(url));
        Ok(())
    })
}

/// OAuth 2.1 §1.5: accept `https`, and `http` only for a loopback host.
///
/// - `url`: an endpoint URL.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INSECURE_URL`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (not a URL), `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_require_secure_url(url: *const c_char) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let url = unsafe { req_str(url, "url")? };
        checks::require_secure_url("endpoint", url)?;
        Ok(())
    })
}
