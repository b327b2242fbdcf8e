//! `mcpauth_status`: the fixed-width result of every fallible function, and its names.

use std::ffi::c_char;

use mcp_auth::ErrorKind;

use crate::boundary::ffi_value;

/// The result of every fallible `mcpauth_` function: `MCPAUTH_STATUS_OK` (0) or an error.
///
/// The type is a fixed-width `int32_t`. The numbers are stable: they are never renumbered, and
/// a retired number is never reused. They are grouped in ranges, so a caller can branch on
/// `status / 100` when it does not care about the exact code:
///
/// | range | meaning |
/// |---|---|
/// | 0 | success |
/// | 100–199 | the caller passed a bad argument; nothing was sent |
/// | 200–299 | transport: connect, DNS, TLS, I/O, timeout, body too large |
/// | 300–399 | the protocol failed: a server answer, discovery, registration, authorization, token, or the resource still refusing |
/// | 400–499 | a security check failed; nothing further was sent |
/// | 500–599 | the token storage failed |
/// | 600–699 | the call was cancelled (`mcpauth_client_cancel`) |
/// | 900–999 | internal: a bug (a caught panic is 950) |
///
/// Inside each range, the codes `x00`–`x49` are mcp-auth's error kinds (the same numbers as
/// the Rust core's `ErrorKind::code()`), and `x50`–`x99` are the C ABI's own codes (NULL
/// pointers, invalid UTF-8, a caught panic).
///
/// Details of the last failure on the calling thread are available from
/// `mcpauth_last_error_message` and the other `mcpauth_last_error_*` getters. A number
/// unknown to this header (from a newer library) should be treated by its range.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum mcpauth_status {
    /// Success. Out-parameters have been written.
    Ok = 0,
    /// An argument is not acceptable: a malformed URL or JSON document, an empty value, an
    /// inconsistent configuration. Nothing was sent.
    InvalidArgument = 100,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 150,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 151,
    /// The HTTP exchange failed below HTTP: DNS, connect, TLS, I/O.
    Transport = 200,
    /// The request did not complete within the configured timeout (`timeout_ms`).
    Timeout = 201,
    /// A response body exceeded the configured cap (`max_body_bytes`).
    ResponseTooLarge = 202,
    /// The TLS certificate check failed: the server's certificate is not trusted (e.g. a
    /// private CA: trust it with the `tls.ca_file` / `tls.ca_pem` options, or `SSL_CERT_FILE`)
    /// or not valid for the host, or the server refused the client certificate
    /// (`tls.client_cert_file` / `tls.client_key_file`).
    Certificate = 203,
    /// A server answered with something the protocol does not allow (invalid JSON, a missing
    /// member, an unexpected status, a redirect on an OAuth request).
    InvalidResponse = 300,
    /// Metadata discovery failed (RFC 9728 protected resource metadata, RFC 8414
    /// authorization server metadata).
    Discovery = 301,
    /// Dynamic client registration (RFC 7591) failed or its result is unusable.
    Registration = 302,
    /// The authorization step failed: the redirect handler failed, the user or the
    /// authorization server denied the request, or the redirect carried no code.
    Authorization = 303,
    /// The token endpoint refused a grant or returned an unusable token.
    Token = 304,
    /// The resource server still refuses the request after the allowed number of
    /// authorizations. The challenge is in `mcpauth_last_error_challenge_json`.
    Unauthorized = 305,
    /// A security check failed: issuer mismatch (RFC 8414 §3.3), `iss` mismatch (RFC 9207),
    /// resource mismatch (RFC 9728 §3.3), `state` mismatch (RFC 6749 §10.12). Which one is in
    /// `mcpauth_last_error_check`.
    SecurityCheck = 400,
    /// An endpoint URL is neither HTTPS nor loopback (OAuth 2.1 §1.5).
    InsecureUrl = 401,
    /// The authorization server lacks a capability the client requires (e.g. PKCE S256).
    Unsupported = 402,
    /// A server-supplied URL points at an address the address policy refuses (loopback,
    /// link-local, private, ... while the MCP server is not on one), or carries userinfo.
    /// Nothing was sent to it. Allow such addresses with the `allowed_addresses` option.
    AddressRefused = 403,
    /// `mcpauth_client_send` was given a URL on another origin than the MCP server's: the
    /// token is bound to that origin. Nothing was sent. The `cross_origin` option
    /// `"without_token"` sends such requests without the token instead.
    ForeignOrigin = 404,
    /// The token storage failed to load or save (including a storage callback that failed).
    Storage = 500,
    /// The call was cancelled by `mcpauth_client_cancel` (from another thread) before it
    /// completed. The client stays usable: later calls run normally.
    Cancelled = 600,
    /// A bug: an invariant was violated.
    Internal = 900,
    /// A bug: a panic was caught at the C boundary. The library stays usable; the message is
    /// in `mcpauth_last_error_message`.
    Panic = 950,
}

impl mcpauth_status {
    /// Every status, in numeric order.
    pub const ALL: &'static [mcpauth_status] = &[
        mcpauth_status::Ok,
        mcpauth_status::InvalidArgument,
        mcpauth_status::NullArgument,
        mcpauth_status::InvalidUtf8,
        mcpauth_status::Transport,
        mcpauth_status::Timeout,
        mcpauth_status::ResponseTooLarge,
        mcpauth_status::Certificate,
        mcpauth_status::InvalidResponse,
        mcpauth_status::Discovery,
        mcpauth_status::Registration,
        mcpauth_status::Authorization,
        mcpauth_status::Token,
        mcpauth_status::Unauthorized,
        mcpauth_status::SecurityCheck,
        mcpauth_status::InsecureUrl,
        mcpauth_status::Unsupported,
        mcpauth_status::AddressRefused,
        mcpauth_status::ForeignOrigin,
        mcpauth_status::Storage,
        mcpauth_status::Cancelled,
        mcpauth_status::Internal,
        mcpauth_status::Panic,
    ];

    /// The status of an mcp-auth error kind: the same number.
    pub fn from_kind(kind: ErrorKind) -> mcpauth_status {
        let code = i32::from(kind.code());
        match Self::from_code(code) {
            Some(s) => s,
            // A kind newer than this ABI: fall back to the base code of its range.
            None => Self::from_code(code / 100 * 100).unwrap_or(mcpauth_status::Internal),
        }
    }

    /// The status with this number, if it exists. Never transmutes.
    pub fn from_code(code: i32) -> Option<mcpauth_status> {
        Self::ALL.iter().copied().find(|s| *s as i32 == code)
    }

    /// The stable C name without the prefix, e.g. `"NULL_ARGUMENT"`.
    pub fn name(self) -> &'static str {
        match self {
            mcpauth_status::Ok => "OK",
            mcpauth_status::InvalidArgument => "INVALID_ARGUMENT",
            mcpauth_status::NullArgument => "NULL_ARGUMENT",
            mcpauth_status::InvalidUtf8 => "INVALID_UTF8",
            mcpauth_status::Transport => "TRANSPORT",
            mcpauth_status::Timeout => "TIMEOUT",
            mcpauth_status::ResponseTooLarge => "RESPONSE_TOO_LARGE",
            mcpauth_status::Certificate => "CERTIFICATE",
            mcpauth_status::InvalidResponse => "INVALID_RESPONSE",
            mcpauth_status::Discovery => "DISCOVERY",
            mcpauth_status::Registration => "REGISTRATION",
            mcpauth_status::Authorization => "AUTHORIZATION",
            mcpauth_status::Token => "TOKEN",
            mcpauth_status::Unauthorized => "UNAUTHORIZED",
            mcpauth_status::SecurityCheck => "SECURITY_CHECK",
            mcpauth_status::InsecureUrl => "INSECURE_URL",
            mcpauth_status::Unsupported => "UNSUPPORTED",
            mcpauth_status::AddressRefused => "ADDRESS_REFUSED",
            mcpauth_status::ForeignOrigin => "FOREIGN_ORIGIN",
            mcpauth_status::Storage => "STORAGE",
            mcpauth_status::Cancelled => "CANCELLED",
            mcpauth_status::Internal => "INTERNAL",
            mcpauth_status::Panic => "PANIC",
        }
    }

    /// A short English description, as a static C string.
    fn description(self) -> &'static std::ffi::CStr {
        match self {
            mcpauth_status::Ok => c"ok",
            mcpauth_status::InvalidArgument => c"invalid argument",
            mcpauth_status::NullArgument => c"NULL pointer argument",
            mcpauth_status::InvalidUtf8 => c"string argument is not valid UTF-8",
            mcpauth_status::Transport => c"HTTP transport failure",
            mcpauth_status::Timeout => c"HTTP request timed out",
            mcpauth_status::ResponseTooLarge => c"response body too large",
            mcpauth_status::Certificate => c"TLS certificate not accepted",
            mcpauth_status::InvalidResponse => c"invalid server response",
            mcpauth_status::Discovery => c"metadata discovery failed",
            mcpauth_status::Registration => c"client registration failed",
            mcpauth_status::Authorization => c"authorization failed",
            mcpauth_status::Token => c"token request failed",
            mcpauth_status::Unauthorized => c"still unauthorized after authorization",
            mcpauth_status::SecurityCheck => c"security check failed",
            mcpauth_status::InsecureUrl => c"insecure (non-HTTPS, non-loopback) URL",
            mcpauth_status::Unsupported => c"unsupported by the authorization server",
            mcpauth_status::AddressRefused => c"server-supplied URL refused by the address policy",
            mcpauth_status::ForeignOrigin => c"request for another origin than the MCP server's",
            mcpauth_status::Storage => c"token storage failed",
            mcpauth_status::Cancelled => c"cancelled",
            mcpauth_status::Internal => c"internal error",
            mcpauth_status::Panic => c"internal panic",
        }
    }
}

/// A short, static English description of `status`, e.g. `"NULL pointer argument"`.
///
/// Takes any integer: a number that is not a known status gives `"unknown status"`. Never
/// returns NULL. The string is static: do not free it. Thread-safe. Does not change the last
/// error.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_status_str(status: i32) -> *const c_char {
    ffi_value(
        c"unknown status".as_ptr(),
        || match mcpauth_status::from_code(status) {
            Some(s) => s.description().as_ptr(),
            None => c"unknown status".as_ptr(),
        },
    )
}

/// The stable symbolic name of `status` without the `MCPAUTH_STATUS_` prefix, e.g.
/// `"NULL_ARGUMENT"` (handy for logs and for bindings that want to map statuses to names).
///
/// Takes any integer: an unknown number gives `"UNKNOWN"`. Never returns NULL. The string is
/// static: do not free it. Thread-safe. Does not change the last error.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_status_name(status: i32) -> *const c_char {
    ffi_value(c"UNKNOWN".as_ptr(), || {
        match mcpauth_status::from_code(status) {
            Some(s) => status_name_cstr(s).as_ptr(),
            None => c"UNKNOWN".as_ptr(),
        }
    })
}

fn status_name_cstr(s: mcpauth_status) -> &'static std::ffi::CStr {
    match s {
        mcpauth_status::Ok => c"OK",
        mcpauth_status::InvalidArgument => c"INVALID_ARGUMENT",
        mcpauth_status::NullArgument => c"NULL_ARGUMENT",
        mcpauth_status::InvalidUtf8 => c"INVALID_UTF8",
        mcpauth_status::Transport => c"TRANSPORT",
        mcpauth_status::Timeout => c"TIMEOUT",
        mcpauth_status::ResponseTooLarge => c"RESPONSE_TOO_LARGE",
        mcpauth_status::Certificate => c"CERTIFICATE",
        mcpauth_status::InvalidResponse => c"INVALID_RESPONSE",
        mcpauth_status::Discovery => c"DISCOVERY",
        mcpauth_status::Registration => c"REGISTRATION",
        mcpauth_status::Authorization => c"AUTHORIZATION",
        mcpauth_status::Token => c"TOKEN",
        mcpauth_status::Unauthorized => c"UNAUTHORIZED",
        mcpauth_status::SecurityCheck => c"SECURITY_CHECK",
        mcpauth_status::InsecureUrl => c"INSECURE_URL",
        mcpauth_status::Unsupported => c"UNSUPPORTED",
        mcpauth_status::AddressRefused => c"ADDRESS_REFUSED",
        mcpauth_status::ForeignOrigin => c"FOREIGN_ORIGIN",
        mcpauth_status::Storage => c"STORAGE",
        mcpauth_status::Cancelled => c"CANCELLED",
        mcpauth_status::Internal => c"INTERNAL",
        mcpauth_status::Panic => c"PANIC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_the_same_number() {
        for &kind in ErrorKind::ALL {
            let s = mcpauth_status::from_kind(kind);
            assert_eq!(s as i32, i32::from(kind.code()), "{kind:?}");
            assert_eq!(s.name().to_ascii_lowercase(), kind.name(), "{kind:?}");
        }
    }

    #[test]
    fn ffi_codes_stay_out_of_the_core_half_of_each_range() {
        for &s in mcpauth_status::ALL {
            let core = ErrorKind::ALL
                .iter()
                .any(|k| i32::from(k.code()) == s as i32);
            let code = s as i32;
            if code == 0 {
                continue;
            }
            assert_eq!(core, code % 100 < 50, "{s:?}");
        }
    }

    #[test]
    fn codes_are_unique_sorted_and_named() {
        let codes: Vec<i32> = mcpauth_status::ALL.iter().map(|s| *s as i32).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        for &s in mcpauth_status::ALL {
            assert_eq!(status_name_cstr(s).to_str().unwrap(), s.name());
        }
        assert_eq!(mcpauth_status::from_code(7), None);
    }
}
