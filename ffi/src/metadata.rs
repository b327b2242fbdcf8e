//! The metadata, client and token models (RFC 9728 §2, RFC 8414 §2, RFC 7591 §2-3, RFC 6749
//! §5.1): parse, validate and normalise.
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::metadata::{
    OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata, OAuthToken,
    ProtectedResourceMetadata,
};
use zeroize::Zeroizing;

use crate::boundary::{Out, ffi_boundary, req_str};
use crate::json::model;
use crate::status::mcpauth_status;

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
