//! Scopes (SEP-835, SEP-2207, SEP-2350): which scope to request, and the step-up union.
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::metadata::{OAuthMetadata, ProtectedResourceMetadata};
use mcp_auth::scope;

use crate::boundary::{Out, ffi_boundary, opt_str};
use crate::json::{opt_model, string_list};
use crate::status::mcpauth_status;

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
