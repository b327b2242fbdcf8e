//! Client authentication at the token endpoint (RFC 6749 §2.3.1).
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::token;
use zeroize::Zeroizing;

use crate::boundary::{Out, ffi_boundary, req_str};
use crate::status::mcpauth_status;

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
