//! The fuzz target of the C ABI's string entry points, shared by the cargo-fuzz binary
//! (`fuzz/fuzz_targets/c_abi_strings.rs`) and the corpus replay test of the ffi crate
//! (`ffi/tests/fuzz_corpus_replay.rs`).
//!
//! The input is split at NUL bytes into C strings (raw bytes: invalid UTF-8 included) and fed
//! to the exports that take strings. Every call must return a status; on OK the out-string is
//! freed with `mcpauth_string_free`, on failure it must be untouched and a last-error message
//! must exist. A panic or a memory error is a crash.

use std::ffi::{CString, c_char};
use std::ptr;

use mcpauth::*;

/// Up to `n` C strings cut from `data` at NUL bytes (missing ones are empty).
fn cstrings(data: &[u8], n: usize) -> Vec<CString> {
    let mut parts: Vec<CString> = data
        .split(|&b| b == 0)
        .take(n)
        .map(|p| CString::new(p).unwrap_or_default())
        .collect();
    while parts.len() < n {
        parts.push(CString::default());
    }
    parts
}

fn check(status: mcpauth_status, out: *mut c_char) {
    if status == mcpauth_status::Ok {
        // SAFETY: on success the library wrote a string it owns; freed once, here.
        unsafe { mcpauth_string_free(out) };
    } else {
        assert!(
            out.is_null(),
            "an out-parameter was written on failure ({status:?})"
        );
        assert!(
            !mcpauth_last_error_message().is_null(),
            "failure {status:?} without a last-error message"
        );
    }
}

/// One pass over the string exports.
pub fn c_abi_strings(data: &[u8]) {
    let s = cstrings(data, 4);
    let (a, b, c, d) = (s[0].as_ptr(), s[1].as_ptr(), s[2].as_ptr(), s[3].as_ptr());
    macro_rules! call {
        ($f:ident($($arg:expr),*)) => {{
            let mut out: *mut c_char = ptr::null_mut();
            // SAFETY: every pointer is a valid NUL-terminated string or the out-parameter.
            let status = unsafe { $f($($arg,)* &mut out) };
            check(status, out);
        }};
    }
    call!(mcpauth_extract_field_from_www_auth(a, b));
    call!(mcpauth_parse_www_authenticate(a));
    call!(mcpauth_build_protected_resource_metadata_discovery_urls(
        a, b
    ));
    call!(mcpauth_build_oauth_authorization_server_metadata_discovery_urls(a, b));
    call!(mcpauth_union_scopes(a, b));
    call!(mcpauth_parse_redirect(a));
    call!(mcpauth_parse_oauth_metadata(a));
    call!(mcpauth_parse_protected_resource_metadata(a));
    call!(mcpauth_parse_token(a));
    call!(mcpauth_parse_client_information(a));
    call!(mcpauth_bridge_response(401, a, b, c));
    call!(mcpauth_json_get(a, b));
    let _ = d;
}
