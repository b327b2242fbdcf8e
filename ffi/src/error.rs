//! The thread-local last error and its getters (the wasmer model, with structured fields).

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::ptr;

use mcp_auth::client::CapturedChallenge;
use mcp_auth::{Error, OAuthErrorResponse};

use crate::boundary::ffi_value;
use crate::status::mcpauth_status;

/// An error on its way to C: the status, the message, and the structured details the getters
/// expose (boxed, so that `Result<_, FfiError>` stays small on the happy path).
#[derive(Debug)]
pub(crate) struct FfiError {
    pub(crate) status: mcpauth_status,
    pub(crate) message: String,
    pub(crate) details: Option<Box<Details>>,
}

/// The structured part of an error from the core.
#[derive(Debug, Default)]
pub(crate) struct Details {
    pub(crate) kind: Option<&'static str>,
    pub(crate) oauth: Option<OAuthErrorResponse>,
    pub(crate) http_status: Option<u16>,
    pub(crate) check: Option<&'static str>,
    pub(crate) challenge: Option<CapturedChallenge>,
}

impl FfiError {
    pub(crate) fn new(status: mcpauth_status, message: impl Into<String>) -> Self {
        FfiError {
            status,
            message: message.into(),
            details: None,
        }
    }

    /// `NULL_ARGUMENT` naming the parameter.
    pub(crate) fn null(arg: &str) -> Self {
        Self::new(
            mcpauth_status::NullArgument,
            format!("argument '{arg}' must not be NULL"),
        )
    }

    /// `INVALID_ARGUMENT` naming the parameter.
    pub(crate) fn invalid(arg: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            mcpauth_status::InvalidArgument,
            format!("invalid argument '{arg}': {reason}"),
        )
    }

    /// `INTERNAL`.
    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        Self::new(mcpauth_status::Internal, reason)
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        let kind = e.kind();
        let challenge = e.challenge();
        FfiError {
            status: mcpauth_status::from_kind(kind),
            message: e.to_string(),
            details: Some(Box::new(Details {
                kind: Some(kind.name()),
                oauth: e.oauth_error().cloned(),
                http_status: e.http_status(),
                check: e.check().map(|c| c.name()),
                challenge,
            })),
        }
    }
}

/// The stored form: C strings that the getters hand out until the next fallible call.
struct LastError {
    status: mcpauth_status,
    message: CString,
    oauth_error: Option<CString>,
    oauth_error_description: Option<CString>,
    oauth_error_uri: Option<CString>,
    http_status: u16,
    check: Option<CString>,
    challenge_json: Option<CString>,
    json: CString,
    /// The captured challenge itself, for `mcpauth_bridge_last_error`.
    challenge: Option<CapturedChallenge>,
}

/// A C string from text that may contain NUL bytes (they become `\0`).
pub(crate) fn lossy_cstring(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "\\0")).unwrap_or_default(),
    }
}

impl LastError {
    fn from_ffi(e: FfiError) -> Self {
        let d = e.details.map(|d| *d).unwrap_or_default();
        let challenge_json = d
            .challenge
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok());
        let json = serde_json::json!({
            "status": e.status as i32,
            "status_name": e.status.name(),
            "kind": d.kind,
            "message": e.message,
            "oauth_error": d.oauth,
            "http_status": d.http_status,
            "check": d.check,
            "challenge": d.challenge,
        })
        .to_string();
        let oauth = d.oauth.as_ref();
        LastError {
            status: e.status,
            message: lossy_cstring(&e.message),
            oauth_error: oauth.map(|o| lossy_cstring(&o.error)),
            oauth_error_description: oauth
                .and_then(|o| o.error_description.as_deref())
                .map(lossy_cstring),
            oauth_error_uri: oauth
                .and_then(|o| o.error_uri.as_deref())
                .map(lossy_cstring),
            http_status: d.http_status.unwrap_or(0),
            check: d.check.map(lossy_cstring),
            challenge_json: challenge_json.as_deref().map(lossy_cstring),
            json: lossy_cstring(&json),
            challenge: d.challenge,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

pub(crate) fn clear_last_error() {
    // `try_with`: during thread teardown the slot may be gone; there is nothing to clear then.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = None;
        }
    });
}

pub(crate) fn set_last_error(e: FfiError) {
    let stored = LastError::from_ffi(e);
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(stored);
        }
    });
}

/// The challenge captured with the calling thread's last error, if any (read before a
/// status-returning function clears the last error).
pub(crate) fn last_error_challenge() -> Option<CapturedChallenge> {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(slot) => slot.as_ref().and_then(|e| e.challenge.clone()),
            Err(_) => None,
        })
        .ok()
        .flatten()
}

fn with_last<T: Copy>(f: impl FnOnce(&LastError) -> T, default: T) -> T {
    ffi_value(default, || {
        LAST_ERROR
            .try_with(|slot| match slot.try_borrow() {
                Ok(slot) => slot.as_ref().map(f),
                Err(_) => None,
            })
            .ok()
            .flatten()
            .unwrap_or(default)
    })
}

fn opt_ptr(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

/// The message of the last failure on the calling thread, or NULL if the last fallible call
/// on this thread succeeded (or none was made).
///
/// Every function that returns `mcpauth_status` clears the last error when it starts and sets
/// it when it fails; the `mcpauth_last_error_*` getters, `mcpauth_status_str`,
/// `mcpauth_status_name`, the version functions and the `_free` functions leave it alone.
///
/// The string is owned by the library: do not free it. It stays valid until the next call of a
/// status-returning `mcpauth_` function on the same thread; copy it if you need it longer.
/// Messages never contain secrets (tokens, codes, client secrets, verifiers, `state`).
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_message() -> *const c_char {
    with_last(|e| e.message.as_ptr(), ptr::null())
}

/// The status of the last failure on the calling thread, or `MCPAUTH_STATUS_OK` when there is
/// none. Same lifetime rules as `mcpauth_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_status() -> mcpauth_status {
    with_last(|e| e.status, mcpauth_status::Ok)
}

/// The OAuth `error` code of the last failure (RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3), e.g.
/// `"invalid_grant"` or `"insufficient_scope"`, or NULL when the failure carried none.
/// Library-owned; same lifetime as `mcpauth_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_oauth_error() -> *const c_char {
    with_last(|e| opt_ptr(&e.oauth_error), ptr::null())
}

/// The OAuth `error_description` of the last failure, or NULL. Library-owned; same lifetime
/// as `mcpauth_last_error_message`. Server-supplied text: treat it as untrusted.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_oauth_error_description() -> *const c_char {
    with_last(|e| opt_ptr(&e.oauth_error_description), ptr::null())
}

/// The OAuth `error_uri` of the last failure, or NULL. Library-owned; same lifetime as
/// `mcpauth_last_error_message`. Server-supplied: treat it as untrusted.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_oauth_error_uri() -> *const c_char {
    with_last(|e| opt_ptr(&e.oauth_error_uri), ptr::null())
}

/// The HTTP status carried by the last failure (e.g. the token endpoint's 400, the resource
/// server's final 401/403), or 0 when there is none.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_http_status() -> u16 {
    with_last(|e| e.http_status, 0)
}

/// Which security check failed, for `MCPAUTH_STATUS_SECURITY_CHECK`: one of
/// `"metadata_issuer"`, `"response_iss"`, `"missing_iss"`, `"resource"`, `"state"`,
/// `"credential_issuer"`; NULL for other failures. Library-owned; same lifetime as
/// `mcpauth_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_check() -> *const c_char {
    with_last(|e| opt_ptr(&e.check), ptr::null())
}

/// The challenge captured with the last failure, as JSON, or NULL. Set for
/// `MCPAUTH_STATUS_UNAUTHORIZED` (the resource server's final 401/403), so that a host or proxy
/// can forward it:
///
/// `{"status":401,"www_authenticate":["Bearer …"],"challenges":[{"scheme":"Bearer","token68":null,"params":[["error","invalid_token"]]}],"bearer":{"error":"invalid_token",…}}`
///
/// Library-owned; same lifetime as `mcpauth_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_challenge_json() -> *const c_char {
    with_last(|e| opt_ptr(&e.challenge_json), ptr::null())
}

/// Everything about the last failure as one JSON object, or NULL when there is none:
///
/// `{"status":304,"status_name":"TOKEN","kind":"token","message":"…","oauth_error":{"error":"invalid_grant","error_description":"…"},"http_status":400,"check":null,"challenge":null}`
///
/// Meant for bindings (Python `ctypes`, Node) that prefer one call. Library-owned; same
/// lifetime as `mcpauth_last_error_message`.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_last_error_json() -> *const c_char {
    with_last(|e| e.json.as_ptr(), ptr::null())
}
