//! PKCE (RFC 7636) and `state` (RFC 6749 §10.12).
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::pkce;
use mcp_auth::secret::State;

use crate::boundary::{Out, ffi_boundary, opt_str, req_str};
use crate::status::mcpauth_status;

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
