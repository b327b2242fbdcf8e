//! Client registration (RFC 7591, CIMD, SEP-2352): client ID metadata documents, dynamic
//! registration requests, issuer binding of stored credentials.
//!
//! None of these functions does I/O. All are thread-safe.

use std::ffi::c_char;

use mcp_auth::metadata::{OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata};
use mcp_auth::registration;

use crate::boundary::{Out, ffi_boundary, opt_str, req_str};
use crate::json::{model, opt_model, string_list};
use crate::status::mcpauth_status;

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
