//! JSON for C: reading values out of the JSON this library returns, and parsing the JSON
//! arguments callers pass (shared by the other modules).
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use crate::boundary::{FfiResult, Out, ffi_boundary, req_str};
use crate::error::FfiError;
use crate::status::mcpauth_status;

/// Parse a caller-supplied JSON model; its errors are the caller's: `INVALID_ARGUMENT`.
pub(crate) fn model<T>(
    json: &str,
    arg: &str,
    parse: fn(&[u8]) -> mcp_auth::Result<T>,
) -> FfiResult<T> {
    parse(json.as_bytes()).map_err(|e| FfiError::invalid(arg, e))
}

/// [`model`] for an optional argument (NULL: `None`).
pub(crate) fn opt_model<T>(
    json: Option<&str>,
    arg: &str,
    parse: fn(&[u8]) -> mcp_auth::Result<T>,
) -> FfiResult<Option<T>> {
    json.map(|j| model(j, arg, parse)).transpose()
}

/// Parse a caller-supplied JSON array of strings; its errors are the caller's.
/// Parse a caller-supplied JSON array of strings; its errors are the caller's.
pub(crate) fn string_list(json: &str, arg: &str) -> FfiResult<Vec<String>> {
    serde_json::from_str(json)
        .map_err(|e| FfiError::invalid(arg, format!("expected a JSON array of strings: {e}")))
}

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
