//! The pure utilities of mcp-auth, under the names of the MCP Python SDK where it has them.
//!
//! None of them does I/O. All are thread-safe. Structured inputs and outputs are JSON strings
//! (so members can be added without changing the ABI); lists are JSON arrays.

use std::ffi::c_char;

use mcp_auth::metadata::{
    OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata, OAuthToken,
    ProtectedResourceMetadata,
};
use mcp_auth::secret::State;
use mcp_auth::{authorization, challenge, checks, discovery, pkce, registration, scope, token};
use zeroize::Zeroizing;

use crate::boundary::{FfiResult, Out, ffi_boundary, opt_str, req_str};
use crate::error::FfiError;
use crate::status::mcpauth_status;

/// Parse a caller-supplied JSON model; its errors are the caller's: `INVALID_ARGUMENT`.
fn model<T>(json: &str, arg: &str, parse: fn(&[u8]) -> mcp_auth::Result<T>) -> FfiResult<T> {
    parse(json.as_bytes()).map_err(|e| FfiError::invalid(arg, e))
}

fn opt_model<T>(
    json: Option<&str>,
    arg: &str,
    parse: fn(&[u8]) -> mcp_auth::Result<T>,
) -> FfiResult<Option<T>> {
    json.map(|j| model(j, arg, parse)).transpose()
}

fn string_list(json: &str, arg: &str) -> FfiResult<Vec<String>> {
    serde_json::from_str(json)
        .map_err(|e| FfiError::invalid(arg, format!("expected a JSON array of strings: {e}")))
}

// ---------------------------------------------------------------------------------------------
// WWW-Authenticate (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Discovery URLs (RFC 9728 §3.1, RFC 8414 §3.1, OIDC Discovery §4, SEP-985)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Scopes (SEP-835, SEP-2207, SEP-2350)
// ---------------------------------------------------------------------------------------------

/// Choose the scope to request (SEP-835, the Python SDK's `get_client_metadata_scopes`): the
/// challenge's `scope`, else the protected resource metadata's `scopes_supported`, else the
/// authorization server metadata's, else none; `offline_access` is appended when the
/// authorization server supports it and the client's grant types include `refresh_token`
/// (SEP-2207).
///
/// - `www_authenticate_scope`: the challenge's `scope`; may be NULL.
/// - `prm_json`: protected resource metadata (RFC 9728) as JSON; may be NULL.
/// - `asm_json`: authorization server metadata (RFC 8414) as JSON; may be NULL.
/// - `client_grant_types_json`: a JSON array of strings, e.g.
///   `["authorization_code","refresh_token"]`; may be NULL.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when no scope
///   is to be requested.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (a JSON argument that is not
/// valid metadata).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_get_client_metadata_scopes(
    www_authenticate_scope: *const c_char,
    prm_json: *const c_char,
    asm_json: *const c_char,
    client_grant_types_json: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (www, prm, asm, grants, out) = unsafe {
            (
                opt_str(www_authenticate_scope, "www_authenticate_scope")?,
                opt_str(prm_json, "prm_json")?,
                opt_str(asm_json, "asm_json")?,
                opt_str(client_grant_types_json, "client_grant_types_json")?,
                Out::new(out, "out")?,
            )
        };
        let prm = opt_model(prm, "prm_json", ProtectedResourceMetadata::from_json)?;
        let asm = opt_model(asm, "asm_json", OAuthMetadata::from_json)?;
        let grants = grants
            .map(|g| string_list(g, "client_grant_types_json"))
            .transpose()?;
        out.write_opt_str(
            scope::get_client_metadata_scopes(www, prm.as_ref(), asm.as_ref(), grants.as_deref())
                .as_deref(),
        )
    })
}

/// The union of two scopes (SEP-2350 step-up): the tokens of `previous` in order, then the
/// tokens of `new_scope` not already present, joined by single spaces. An absent or empty side
/// gives the other unchanged.
///
/// - `previous`, `new_scope`: space-delimited scopes; each may be NULL.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when both are
///   NULL.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_union_scopes(
    previous: *const c_char,
    new_scope: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (previous, new, out) = unsafe {
            (
                opt_str(previous, "previous")?,
                opt_str(new_scope, "new_scope")?,
                Out::new(out, "out")?,
            )
        };
        out.write_opt_str(scope::union_scopes(previous, new).as_deref())
    })
}

// ---------------------------------------------------------------------------------------------
// Security checks (RFC 8414 §3.3, RFC 9207, RFC 8707, RFC 9728 §3.3, OAuth 2.1 §1.5)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Registration (RFC 7591, CIMD, SEP-2352)
// ---------------------------------------------------------------------------------------------

/// Whether `url` may be used as a Client ID Metadata Document URL: https, a host, a path other
/// than `/`, no userinfo, no fragment, no dot segments.
///
/// - `url`: the candidate URL.
/// - `out`: on success, the answer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_is_valid_client_metadata_url(
    url: *const c_char,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (url, out) = unsafe { (req_str(url, "url")?, Out::new(out, "out")?) };
        out.write(registration::is_valid_client_metadata_url(url));
        Ok(())
    })
}

/// Whether to use a CIMD URL as the client id instead of registering: a URL is configured and
/// the authorization server metadata says `client_id_metadata_document_supported: true`.
///
/// - `asm_json`: authorization server metadata (RFC 8414) as JSON; may be NULL.
/// - `client_metadata_url`: the configured CIMD URL; may be NULL.
/// - `out`: on success, the answer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`out`),
/// `MCPAUTH_STATUS_INVALID_UTF8`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (`asm_json` is not valid
/// metadata).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_should_use_client_metadata_url(
    asm_json: *const c_char,
    client_metadata_url: *const c_char,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (asm, url, out) = unsafe {
            (
                opt_str(asm_json, "asm_json")?,
                opt_str(client_metadata_url, "client_metadata_url")?,
                Out::new(out, "out")?,
            )
        };
        let asm = opt_model(asm, "asm_json", OAuthMetadata::from_json)?;
        out.write(registration::should_use_client_metadata_url(
            asm.as_ref(),
            url,
        ));
        Ok(())
    })
}

/// The client information of a CIMD client (RFC 7591 §3.2.1 shape, as JSON): `client_id` is
/// the document URL, `token_endpoint_auth_method` is `none`.
///
/// - `url`: the CIMD URL.
/// - `redirect_uris_json`: a JSON array of strings; may be NULL.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`redirect_uris_json` is not an array of strings).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_create_client_info_from_metadata_url(
    url: *const c_char,
    redirect_uris_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (url, uris, out) = unsafe {
            (
                req_str(url, "url")?,
                opt_str(redirect_uris_json, "redirect_uris_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let uris = uris
            .map(|u| string_list(u, "redirect_uris_json"))
            .transpose()?;
        out.write_str(&registration::create_client_info_from_metadata_url(url, uris).to_json())
    })
}

/// SEP-2352: whether stored client credentials may be used with the authorization server
/// `issuer` (a CIMD client id always; credentials without a recorded issuer always; otherwise
/// the recorded issuer must match).
///
/// - `client_info_json`: the stored client information (RFC 7591 §3.2.1) as JSON.
/// - `issuer`: the authorization server's issuer.
/// - `client_metadata_url`: the configured CIMD URL; may be NULL.
/// - `out`: on success, the answer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`client_info_json` is not valid client information).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_credentials_match_issuer(
    client_info_json: *const c_char,
    issuer: *const c_char,
    client_metadata_url: *const c_char,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (info, issuer, url, out) = unsafe {
            (
                req_str(client_info_json, "client_info_json")?,
                req_str(issuer, "issuer")?,
                opt_str(client_metadata_url, "client_metadata_url")?,
                Out::new(out, "out")?,
            )
        };
        let info = model(
            info,
            "client_info_json",
            OAuthClientInformationFull::from_json,
        )?;
        out.write(registration::credentials_match_issuer(&info, issuer, url));
        Ok(())
    })
}

/// Whether the client can authenticate as registered (RFC 7591 §3.2.1): the
/// `token_endpoint_auth_method` must be absent, `none`, `client_secret_post` or
/// `client_secret_basic`, and a `client_secret_*` method needs a `client_secret`.
///
/// - `client_info_json`: the registration response (RFC 7591 §3.2.1) as JSON.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_REGISTRATION` (not usable),
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (not valid client information),
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_check_registration_usable(
    client_info_json: *const c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let info = unsafe { req_str(client_info_json, "client_info_json")? };
        let info = model(
            info,
            "client_info_json",
            OAuthClientInformationFull::from_json,
        )?;
        registration::check_registration_usable(&info)?;
        Ok(())
    })
}

/// Build an RFC 7591 §3.1 registration request (the Python SDK's
/// `create_client_registration_request`): the metadata's `registration_endpoint`, else
/// `{auth_base_url}/register`. The result is JSON for the caller to send:
///
/// `{"method":"POST","url":"https://as/register","headers":[["Content-Type","application/json"],…],"body":{…client metadata…}}`
///
/// - `asm_json`: authorization server metadata (RFC 8414) as JSON; may be NULL.
/// - `client_metadata_json`: the client metadata (RFC 7591 §2) as JSON.
/// - `auth_base_url`: the authorization base URL (used without `registration_endpoint`).
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT`,
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_create_client_registration_request(
    asm_json: *const c_char,
    client_metadata_json: *const c_char,
    auth_base_url: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (asm, md, base, out) = unsafe {
            (
                opt_str(asm_json, "asm_json")?,
                req_str(client_metadata_json, "client_metadata_json")?,
                req_str(auth_base_url, "auth_base_url")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let asm = opt_model(asm, "asm_json", OAuthMetadata::from_json)?;
        let md = model(md, "client_metadata_json", OAuthClientMetadata::from_json)?;
        let request = registration::create_client_registration_request(asm.as_ref(), &md, base)?;
        out.write_json(&serde_json::json!({
            "method": request.method.as_str(),
            "url": request.url,
            "headers": request.headers,
            "body": request.body,
        }))
    })
}

// ---------------------------------------------------------------------------------------------
// PKCE and state (RFC 7636, RFC 6749 §10.12)
// ---------------------------------------------------------------------------------------------

/// Generate PKCE parameters (RFC 7636 §4.1–§4.2): a 64-character verifier from the operating
/// system's CSPRNG and its `S256` challenge.
///
/// - `out_verifier`: on success, the verifier, a secret (free with `mcpauth_string_free`,
///   which zeroizes it).
/// - `out_challenge`: on success, the 43-character challenge (free with
///   `mcpauth_string_free`).
///
/// Both are written on success, neither on failure.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_pkce_generate(
    out_verifier: *mut *mut c_char,
    out_challenge: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (ov, oc) = unsafe {
            (
                Out::new(out_verifier, "out_verifier")?,
                Out::new(out_challenge, "out_challenge")?,
            )
        };
        let p = pkce::PkceParameters::generate();
        let verifier = crate::boundary::alloc_cstring(p.code_verifier.secret().as_bytes())?;
        let challenge = match crate::boundary::alloc_cstring(p.code_challenge.as_bytes()) {
            Ok(c) => c,
            Err(e) => {
                // SAFETY: `verifier` was just allocated by `alloc_cstring` and not handed out.
                unsafe { crate::boundary::mcpauth_string_free(verifier) };
                return Err(e);
            }
        };
        ov.write(verifier);
        oc.write(challenge);
        Ok(())
    })
}

/// Validate a caller-chosen PKCE verifier (43–128 characters of `[A-Za-z0-9-._~]`, RFC 7636
/// §4.1) and compute its `S256` challenge.
///
/// - `verifier`: the verifier (a secret; never echoed in messages).
/// - `out_challenge`: on success, the challenge (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT`,
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_pkce_from_verifier(
    verifier: *const c_char,
    out_challenge: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (v, out) = unsafe {
            (
                req_str(verifier, "verifier")?,
                Out::new(out_challenge, "out_challenge")?,
            )
        };
        let p = pkce::PkceParameters::from_verifier(v)?;
        out.write_str(&p.code_challenge)
    })
}

/// The `S256` code challenge of `verifier`: `BASE64URL(SHA256(verifier))` without padding
/// (RFC 7636 §4.2). The verifier is not validated (see `mcpauth_pkce_from_verifier`).
///
/// - `verifier`: the verifier.
/// - `out`: on success, a new 43-character string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_code_challenge_s256(
    verifier: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (v, out) = unsafe { (req_str(verifier, "verifier")?, Out::new(out, "out")?) };
        out.write_str(&pkce::code_challenge_s256(v))
    })
}

/// A fresh `state` value (RFC 6749 §10.12): 256 bits from the operating system's CSPRNG,
/// base64url without padding.
///
/// - `out`: on success, a new string, a secret (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_generate_state(out: *mut *mut c_char) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let out = unsafe { Out::new(out, "out")? };
        out.write_str(pkce::generate_state().secret())
    })
}

/// Check the `state` returned in the authorization response against the one sent
/// (RFC 6749 §10.12), in constant time. An empty `expected` always fails.
///
/// - `expected`: the `state` sent.
/// - `returned`: the `state` of the redirect; may be NULL (absent, which fails).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_SECURITY_CHECK` (`"state"`),
/// `MCPAUTH_STATUS_NULL_ARGUMENT` (`expected`), `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_verify_state(
    expected: *const c_char,
    returned: *const c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (e, r) = unsafe {
            (
                req_str(expected, "expected")?,
                opt_str(returned, "returned")?,
            )
        };
        pkce::verify_state(&State::new(e), r)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Authorization response, client authentication
// ---------------------------------------------------------------------------------------------

/// Parse the redirect URL (or its query) that the authorization server sent the user agent
/// to (RFC 6749 §4.1.2, RFC 9207): `{"code":"…","state":"…","iss":"…"}` (`state` and `iss`
/// may be null). A repeated parameter is rejected (RFC 6749 §3.1); an `error` parameter
/// becomes `MCPAUTH_STATUS_AUTHORIZATION` with the OAuth error in
/// `mcpauth_last_error_oauth_error`.
///
/// - `url_or_query`: the redirect URL or its query string.
/// - `out_json`: on success, a new string holding the code, a secret (free with
///   `mcpauth_string_free`, which zeroizes it).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_AUTHORIZATION`,
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_parse_redirect(
    url_or_query: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (u, out) = unsafe {
            (
                req_str(url_or_query, "url_or_query")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let r = authorization::parse_redirect(u)?;
        #[derive(serde::Serialize)]
        struct Redirect<'a> {
            code: &'a str,
            state: Option<&'a str>,
            iss: Option<&'a str>,
        }
        let json = serde_json::to_string(&Redirect {
            code: r.code.secret(),
            state: r.state.as_deref(),
            iss: r.iss.as_deref(),
        })
        .map_err(|e| FfiError::internal(e.to_string()))?;
        out.write_str(&Zeroizing::new(json))
    })
}

/// The `Authorization: Basic …` header value for `client_secret_basic` (RFC 6749 §2.3.1):
/// id and secret form-urlencoded, joined by `:`, base64.
///
/// - `client_id`, `client_secret`: the credentials.
/// - `out`: on success, a new string holding the secret in encoded form (free with
///   `mcpauth_string_free`, which zeroizes it).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_secret_basic_header(
    client_id: *const c_char,
    client_secret: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (id, secret, out) = unsafe {
            (
                req_str(client_id, "client_id")?,
                req_str(client_secret, "client_secret")?,
                Out::new(out, "out")?,
            )
        };
        let header = Zeroizing::new(token::client_secret_basic_header(id, secret));
        out.write_str(&header)
    })
}

// ---------------------------------------------------------------------------------------------
// Models: parse, validate and normalise
// ---------------------------------------------------------------------------------------------

/// Parse a model and write its normalised JSON.
///
/// # Safety
/// `json` and `out_json` are NULL or valid (the calling export's contract).
unsafe fn parse_model_to<T>(
    json: *const c_char,
    out_json: *mut *mut c_char,
    parse: fn(&[u8]) -> mcp_auth::Result<T>,
    to_json: fn(&T) -> String,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: this function's contract.
        let (json, out) = unsafe { (req_str(json, "json")?, Out::new(out_json, "out_json")?) };
        let m = model(json, "json", parse)?;
        let text = Zeroizing::new(to_json(&m));
        out.write_str(&text)
    })
}

/// Parse and validate protected resource metadata (RFC 9728 §2).
///
/// - `json`: the document.
/// - `out_json`: on success, a new string with the normalised document (defaults filled in,
///   URLs normalised, unknown members kept); free with `mcpauth_string_free`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (the message names the
/// offending member), `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_parse_protected_resource_metadata(
    json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    // SAFETY: the caller's contract (# Safety).
    unsafe {
        parse_model_to(
            json,
            out_json,
            ProtectedResourceMetadata::from_json,
            ProtectedResourceMetadata::to_json,
        )
    }
}

/// Parse and validate authorization server metadata (RFC 8414 §2).
///
/// - `json`: the document.
/// - `out_json`: on success, a new string with the normalised document (defaults filled in,
///   URLs normalised, unknown members kept); free with `mcpauth_string_free`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (the message names the
/// offending member), `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_parse_oauth_metadata(
    json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    // SAFETY: the caller's contract (# Safety).
    unsafe {
        parse_model_to(
            json,
            out_json,
            OAuthMetadata::from_json,
            OAuthMetadata::to_json,
        )
    }
}

/// Parse and validate client metadata (RFC 7591 §2).
///
/// - `json`: the document.
/// - `out_json`: on success, a new string with the normalised document (defaults filled in,
///   URLs normalised, unknown members kept); free with `mcpauth_string_free`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (the message names the
/// offending member), `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_parse_client_metadata(
    json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    // SAFETY: the caller's contract (# Safety).
    unsafe {
        parse_model_to(
            json,
            out_json,
            OAuthClientMetadata::from_json,
            OAuthClientMetadata::to_json,
        )
    }
}

/// Parse and validate client information (RFC 7591 §3.2.1). The result may hold a client
/// secret: `mcpauth_string_free` zeroizes it.
///
/// - `json`: the document.
/// - `out_json`: on success, a new string with the normalised document (defaults filled in,
///   URLs normalised, unknown members kept); free with `mcpauth_string_free`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (the message names the
/// offending member), `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_parse_client_information(
    json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    // SAFETY: the caller's contract (# Safety).
    unsafe {
        parse_model_to(
            json,
            out_json,
            OAuthClientInformationFull::from_json,
            OAuthClientInformationFull::to_json,
        )
    }
}

/// Parse and validate a token response (RFC 6749 §5.1). The result holds tokens:
/// `mcpauth_string_free` zeroizes them.
///
/// - `json`: the document.
/// - `out_json`: on success, a new string with the normalised document (defaults filled in,
///   URLs normalised, unknown members kept); free with `mcpauth_string_free`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (the message names the
/// offending member), `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_parse_token(
    json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    // SAFETY: the caller's contract (# Safety).
    unsafe { parse_model_to(json, out_json, OAuthToken::from_json, OAuthToken::to_json) }
}

// ---------------------------------------------------------------------------------------------
// JSON access for C
// ---------------------------------------------------------------------------------------------

/// Read one value out of a JSON document, so that C code can use the JSON this library
/// returns without a JSON parser.
///
/// - `json`: the document.
/// - `pointer`: an RFC 6901 JSON Pointer, e.g. `"/bearer/scope"` or `"/0"`; `""` is the whole
///   document.
/// - `out`: on success, a new string (free with `mcpauth_string_free`): a string value
///   unquoted, any other value (number, boolean, object, array) as compact JSON; NULL when
///   the pointer names no value or the value is JSON `null`.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (`json` is not JSON, or
/// `pointer` is neither empty nor starts with `/`), `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_json_get(
    json: *const c_char,
    pointer: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (json, pointer, out) = unsafe {
            (
                req_str(json, "json")?,
                req_str(pointer, "pointer")?,
                Out::new(out, "out")?,
            )
        };
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(FfiError::invalid(
                "pointer",
                "a JSON Pointer is empty or starts with '/' (RFC 6901)",
            ));
        }
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| FfiError::invalid("json", format!("not JSON: {e}")))?;
        match value.pointer(pointer) {
            None | Some(serde_json::Value::Null) => out.write_opt_str(None),
            Some(serde_json::Value::String(s)) => out.write_str(s),
            Some(other) => out.write_json(other),
        }
    })
}
