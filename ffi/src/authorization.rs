//! The authorization response (RFC 6749 §4.1.2, RFC 9207): parsing the redirect.
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::authorization;
use zeroize::Zeroizing;

use crate::boundary::{Out, ffi_boundary, req_str};
use crate::error::FfiError;
use crate::status::mcpauth_status;

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
