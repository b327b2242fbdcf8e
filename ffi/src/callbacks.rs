//! The C callbacks a client configuration holds (storage, redirect handler, trace observer),
//! their result object `mcpauth_reply`, and the adapters that turn them into the core's
//! `TokenStorage`, redirect handler and `TraceObserver`.

use std::ffi::{CStr, CString, c_char, c_void};
use std::time::Duration;

use mcp_auth::Error;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::TokenStorage;
use mcp_auth::trace::{TraceEvent, TraceObserver};
use zeroize::{Zeroize, Zeroizing};

use crate::boundary::{ffi_boundary, handle_mut, req_str};
use crate::error::lossy_cstring;
use crate::status::mcpauth_status;

/// Where a callback puts its result: an opaque object that the library passes to the storage
/// and redirect callbacks.
///
/// Borrowed: valid only during the callback it was passed to, on that callback's thread. Fill
/// it with `mcpauth_reply_set_value` (the library copies the string, so the callback keeps
/// ownership of its own memory) and, on failure, `mcpauth_reply_set_error`.
#[derive(Default)]
pub struct mcpauth_reply {
    value: Option<Zeroizing<String>>,
    error: Option<String>,
}

/// Set the value of a callback's reply (a stored JSON document for a storage `get`, the
/// redirect URL for a redirect handler). The string is copied; calling again replaces it.
///
/// - `reply`: the reply passed to the callback.
/// - `value`: the value; borrowed for the call.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Not thread-safe: call it only from the callback that received `reply`.
///
/// # Safety
/// `reply` is NULL or the reply of a running callback; `value` is NULL or a NUL-terminated
/// string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_reply_set_value(
    reply: *mut mcpauth_reply,
    value: *const c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (reply, value) = unsafe { (handle_mut(reply, "reply")?, req_str(value, "value")?) };
        reply.value = Some(Zeroizing::new(value.to_owned()));
        Ok(())
    })
}

/// Set an error message on a callback's reply, to explain a non-zero return. It becomes part
/// of the message of the failed operation (`mcpauth_last_error_message`), so it must not
/// contain secrets.
///
/// - `reply`: the reply passed to the callback.
/// - `message`: the message; borrowed for the call.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Not thread-safe: call it only from the callback that received `reply`.
///
/// # Safety
/// `reply` is NULL or the reply of a running callback; `message` is NULL or a NUL-terminated
/// string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_reply_set_error(
    reply: *mut mcpauth_reply,
    message: *const c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (reply, message) =
            unsafe { (handle_mut(reply, "reply")?, req_str(message, "message")?) };
        reply.error = Some(message.to_owned());
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Callback types
// ---------------------------------------------------------------------------------------------

/// The storage kind of tokens: the key is the canonical URL of the protected resource, the
/// value an RFC 6749 §5.1 token response as JSON (plus mcp-auth's `expires_at`).
pub const MCPAUTH_STORAGE_KIND_TOKENS: &str = "tokens";
/// The storage kind of client registrations: the key is the authorization server's issuer, the
/// value RFC 7591 §3.2.1 client information as JSON (plus mcp-auth's `issuer` binding).
pub const MCPAUTH_STORAGE_KIND_CLIENT_INFO: &str = "client_info";

/// Storage callback: look up the value stored under (`kind`, `key`).
///
/// `kind` is `MCPAUTH_STORAGE_KIND_TOKENS` or `MCPAUTH_STORAGE_KIND_CLIENT_INFO` (other kinds
/// may be added: answer "not found" for a kind you do not know); `key` is the resource URL or
/// the issuer. Return 0 after calling `mcpauth_reply_set_value(reply, json)` when found, or 0
/// without setting a value when not found; return non-zero on failure (optionally after
/// `mcpauth_reply_set_error`), which fails the operation with `MCPAUTH_STATUS_STORAGE`.
///
/// Values contain tokens and client secrets: keep them safe.
pub type mcpauth_storage_get_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        kind: *const c_char,
        key: *const c_char,
        reply: *mut mcpauth_reply,
    ) -> i32,
>;

/// Storage callback: store `value_json` under (`kind`, `key`), replacing any previous value.
/// Return 0 on success, non-zero on failure (a failure must leave the previous value intact).
/// `value_json` is borrowed for the call and zeroized afterwards: copy it.
pub type mcpauth_storage_set_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        kind: *const c_char,
        key: *const c_char,
        value_json: *const c_char,
        reply: *mut mcpauth_reply,
    ) -> i32,
>;

/// Storage callback: remove the value stored under (`kind`, `key`), if any. Return 0 on
/// success (also when there was nothing to remove), non-zero on failure.
pub type mcpauth_storage_remove_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        kind: *const c_char,
        key: *const c_char,
        reply: *mut mcpauth_reply,
    ) -> i32,
>;

/// Storage callback (optional, see `mcpauth_client_config_set_storage_lease`): take the
/// cross-process refresh lease on `key` (the resource URL, as for the tokens) for `owner` (a
/// random string unique to this acquisition), waiting while another owner holds it.
///
/// Return 0 once the lease is held. Return non-zero (optionally after
/// `mcpauth_reply_set_error`) when it cannot be taken: the store is unreachable, or others held
/// it for about `ttl_ms` milliseconds; the call then fails with `MCPAUTH_STATUS_STORAGE` rather
/// than risk presenting a refresh token twice. The lease must end by itself: at most `ttl_ms`
/// after it was taken (a deadline kept by the store) or when the holder's process dies (an OS
/// lock such as `flock`), so that a crashed holder cannot block the others for ever.
pub type mcpauth_storage_lock_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        key: *const c_char,
        owner: *const c_char,
        ttl_ms: u64,
        reply: *mut mcpauth_reply,
    ) -> i32,
>;

/// Storage callback (optional, see `mcpauth_client_config_set_storage_lease`): release the
/// lease `owner` took on `key`, only if `owner` still holds it (a holder whose lease expired
/// must not release its successor's). Return 0 on success (also when `owner` no longer holds
/// it), non-zero on failure (the library records it in the trace; the lease then ends at its
/// deadline).
pub type mcpauth_storage_unlock_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        key: *const c_char,
        owner: *const c_char,
        reply: *mut mcpauth_reply,
    ) -> i32,
>;

/// Redirect handler: send the user (agent) to `authorization_url` and return where the
/// authorization server redirected it: call `mcpauth_reply_set_value(reply, redirect_url)` with
/// the redirect URL (or just its query string) and return 0. Return non-zero to fail the
/// authorization (`MCPAUTH_STATUS_AUTHORIZATION`), e.g. when the user cancelled.
///
/// `authorization_url` carries the `state` and PKCE challenge; it is borrowed for the call.
pub type mcpauth_redirect_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        authorization_url: *const c_char,
        reply: *mut mcpauth_reply,
    ) -> i32,
>;

/// Trace observer: receives one step of the flow as a JSON object, e.g.
/// `{"step":"token_exchange","method":"POST","url":"http://127.0.0.1:4000/token","status":200,"duration":1234,"outcome":"ok","detail":"Bearer token, expires in 3600s, scope mcp:read"}`
/// (`duration` in microseconds; `outcome` is `ok`, `fallback` or `failed`; URLs have no query
/// and no userinfo; events never carry secrets). `event_json` is borrowed for the call.
/// Called synchronously on the thread running the flow: keep it quick.
pub type mcpauth_trace_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event_json: *const c_char)>;

/// Authorization URL handler of a `{"type":"loopback"}` redirect: show `authorization_url` to
/// the user (a terminal line, a dialog); `browser_opened` says whether the library started a
/// browser on it (`"open_browser": true` and a browser could be started). The library never
/// prints the URL itself. `authorization_url` carries the `state`; it is borrowed for the call.
/// Must return promptly: the redirect is awaited on the loopback listener.
pub type mcpauth_url_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        authorization_url: *const c_char,
        browser_opened: bool,
    ),
>;

/// Device code handler of a `{"type":"device"}` redirect (RFC 8628): show the user where to go
/// and the code to enter. `verification_uri_complete` (the URI with the code in it, to open or
/// show as a QR code) is NULL when the server gives none; `expires_in` is in seconds. The
/// library never prints the code itself (without a handler it logs it at warn level, see
/// `mcpauth_set_log_callback`). The strings are borrowed for the call. Must return promptly:
/// the token endpoint is polled after it returns.
pub type mcpauth_device_code_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        verification_uri: *const c_char,
        verification_uri_complete: *const c_char,
        user_code: *const c_char,
        expires_in: u64,
    ),
>;

/// The host's `void *userdata`, handed back to its callbacks.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the C contract (documented on every setter) is that callbacks and their userdata may
// be used from any thread, concurrently; the library never dereferences the pointer itself.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

pub(crate) type GetFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut mcpauth_reply) -> i32;
pub(crate) type SetFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const c_char,
    *const c_char,
    *mut mcpauth_reply,
) -> i32;
pub(crate) type RemoveFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut mcpauth_reply) -> i32;
pub(crate) type LockFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, u64, *mut mcpauth_reply) -> i32;
pub(crate) type UnlockFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut mcpauth_reply) -> i32;
pub(crate) type RedirectFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *mut mcpauth_reply) -> i32;
pub(crate) type TraceFn = unsafe extern "C" fn(*mut c_void, *const c_char);
pub(crate) type UrlFn = unsafe extern "C" fn(*mut c_void, *const c_char, bool);
pub(crate) type DeviceCodeFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *const c_char, u64);

fn callback_failed(what: &str, rc: i32, reply: &mcpauth_reply) -> String {
    match &reply.error {
        Some(m) => format!("{what} callback failed ({rc}): {m}"),
        None => format!("{what} callback failed ({rc})"),
    }
}

/// A NUL-terminated copy of a secret that is zeroized when dropped.
struct SecretCString(Vec<u8>);

impl SecretCString {
    fn new(s: &str) -> Option<Self> {
        if s.as_bytes().contains(&0) {
            return None;
        }
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        Some(SecretCString(v))
    }

    fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }
}

impl Drop for SecretCString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Token storage implemented by three C callbacks, and optionally the refresh lease by two more.
#[derive(Clone)]
pub(crate) struct CStorage {
    pub(crate) get: GetFn,
    pub(crate) set: SetFn,
    pub(crate) remove: RemoveFn,
    pub(crate) lease: Option<(LockFn, UnlockFn)>,
    pub(crate) userdata: UserData,
}

fn storage_error(message: String) -> Error {
    Error::Storage { message }
}

fn c_key(key: &str) -> mcp_auth::Result<CString> {
    CString::new(key).map_err(|_| storage_error("storage key contains a NUL byte".to_owned()))
}

impl CStorage {
    fn get(&self, kind: &CStr, key: &str) -> mcp_auth::Result<Option<Zeroizing<String>>> {
        let key = c_key(key)?;
        let mut reply = mcpauth_reply::default();
        // SAFETY: the host registered `get` with `userdata` for calls from any thread; every
        // pointer passed is valid for the duration of the call.
        let rc = unsafe { (self.get)(self.userdata.0, kind.as_ptr(), key.as_ptr(), &mut reply) };
        if rc != 0 {
            return Err(storage_error(callback_failed("storage get", rc, &reply)));
        }
        Ok(reply.value.take())
    }

    fn set(&self, kind: &CStr, key: &str, value: &str) -> mcp_auth::Result<()> {
        let key = c_key(key)?;
        let value = SecretCString::new(value)
            .ok_or_else(|| storage_error("stored value contains a NUL byte".to_owned()))?;
        let mut reply = mcpauth_reply::default();
        // SAFETY: as in `get`.
        let rc = unsafe {
            (self.set)(
                self.userdata.0,
                kind.as_ptr(),
                key.as_ptr(),
                value.as_ptr(),
                &mut reply,
            )
        };
        if rc != 0 {
            return Err(storage_error(callback_failed("storage set", rc, &reply)));
        }
        Ok(())
    }

    fn remove(&self, kind: &CStr, key: &str) -> mcp_auth::Result<()> {
        let key = c_key(key)?;
        let mut reply = mcpauth_reply::default();
        // SAFETY: as in `get`.
        let rc = unsafe { (self.remove)(self.userdata.0, kind.as_ptr(), key.as_ptr(), &mut reply) };
        if rc != 0 {
            return Err(storage_error(callback_failed("storage remove", rc, &reply)));
        }
        Ok(())
    }
}

/// [`MCPAUTH_STORAGE_KIND_TOKENS`] as a C string (a test checks they agree).
const TOKENS: &CStr = c"tokens";
/// [`MCPAUTH_STORAGE_KIND_CLIENT_INFO`] as a C string.
const CLIENT_INFO: &CStr = c"client_info";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_kind_constants_agree() {
        assert_eq!(TOKENS.to_str().unwrap(), MCPAUTH_STORAGE_KIND_TOKENS);
        assert_eq!(
            CLIENT_INFO.to_str().unwrap(),
            MCPAUTH_STORAGE_KIND_CLIENT_INFO
        );
    }
}

impl TokenStorage for CStorage {
    fn get_tokens(&self, resource: &str) -> mcp_auth::Result<Option<OAuthToken>> {
        self.get(TOKENS, resource)?
            .map(|json| {
                OAuthToken::from_json(json.as_bytes()).map_err(|e| {
                    storage_error(format!("stored tokens for {resource} are invalid: {e}"))
                })
            })
            .transpose()
    }

    fn set_tokens(&self, resource: &str, tokens: &OAuthToken) -> mcp_auth::Result<()> {
        let json = Zeroizing::new(tokens.to_json());
        self.set(TOKENS, resource, &json)
    }

    fn remove_tokens(&self, resource: &str) -> mcp_auth::Result<()> {
        self.remove(TOKENS, resource)
    }

    fn get_client_info(
        &self,
        issuer: &str,
    ) -> mcp_auth::Result<Option<OAuthClientInformationFull>> {
        self.get(CLIENT_INFO, issuer)?
            .map(|json| {
                OAuthClientInformationFull::from_json(json.as_bytes()).map_err(|e| {
                    storage_error(format!(
                        "stored client information for {issuer} is invalid: {e}"
                    ))
                })
            })
            .transpose()
    }

    fn set_client_info(
        &self,
        issuer: &str,
        info: &OAuthClientInformationFull,
    ) -> mcp_auth::Result<()> {
        let json = Zeroizing::new(info.to_json());
        self.set(CLIENT_INFO, issuer, &json)
    }

    /// The host's `lock` callback; without one, no cross-process lease (`Ok(false)`).
    fn acquire_lease(&self, key: &str, owner: &str, ttl: Duration) -> mcp_auth::Result<bool> {
        let Some((lock, _)) = self.lease else {
            return Ok(false);
        };
        let (key, owner) = (c_key(key)?, c_key(owner)?);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let mut reply = mcpauth_reply::default();
        // SAFETY: as in `get`.
        let rc = unsafe {
            lock(
                self.userdata.0,
                key.as_ptr(),
                owner.as_ptr(),
                ttl_ms,
                &mut reply,
            )
        };
        if rc != 0 {
            return Err(storage_error(callback_failed("storage lock", rc, &reply)));
        }
        Ok(true)
    }

    fn release_lease(&self, key: &str, owner: &str) -> mcp_auth::Result<()> {
        let Some((_, unlock)) = self.lease else {
            return Ok(());
        };
        let (key, owner) = (c_key(key)?, c_key(owner)?);
        let mut reply = mcpauth_reply::default();
        // SAFETY: as in `get`.
        let rc = unsafe { unlock(self.userdata.0, key.as_ptr(), owner.as_ptr(), &mut reply) };
        if rc != 0 {
            return Err(storage_error(callback_failed("storage unlock", rc, &reply)));
        }
        Ok(())
    }

    fn remove_client_info(&self, issuer: &str) -> mcp_auth::Result<()> {
        self.remove(CLIENT_INFO, issuer)
    }
}

/// A redirect handler implemented by a C callback.
#[derive(Clone)]
pub(crate) struct CRedirect {
    pub(crate) callback: RedirectFn,
    pub(crate) userdata: UserData,
}

impl CRedirect {
    pub(crate) fn call(&self, authorization_url: &str) -> mcp_auth::Result<String> {
        let url = SecretCString::new(authorization_url).ok_or_else(|| Error::Authorization {
            message: "authorization URL contains a NUL byte".to_owned(),
            oauth: None,
        })?;
        let mut reply = mcpauth_reply::default();
        // SAFETY: the host registered `callback` with `userdata` for calls from any thread;
        // every pointer passed is valid for the duration of the call.
        let rc = unsafe { (self.callback)(self.userdata.0, url.as_ptr(), &mut reply) };
        if rc != 0 {
            return Err(Error::Authorization {
                message: callback_failed("redirect handler", rc, &reply),
                oauth: None,
            });
        }
        match reply.value.take() {
            Some(v) => Ok(String::from(v.as_str())),
            None => Err(Error::Authorization {
                message: "redirect handler returned 0 without setting the redirect URL (mcpauth_reply_set_value)".to_owned(),
                oauth: None,
            }),
        }
    }
}

/// An authorization URL handler implemented by a C callback.
#[derive(Clone)]
pub(crate) struct CUrl {
    pub(crate) callback: UrlFn,
    pub(crate) userdata: UserData,
}

impl CUrl {
    pub(crate) fn handler(self) -> mcp_auth::authorization::UrlHandler {
        std::sync::Arc::new(move |url: &str, opened: bool| self.call(url, opened))
    }

    fn call(&self, url: &str, opened: bool) {
        if let Some(url) = SecretCString::new(url) {
            // SAFETY: the host registered `callback` with `userdata` for calls from any
            // thread; the URL is valid for the duration of the call.
            unsafe { (self.callback)(self.userdata.0, url.as_ptr(), opened) };
        }
    }
}

/// A trace observer implemented by a C callback.
#[derive(Clone)]
pub(crate) struct CTrace {
    pub(crate) callback: TraceFn,
    pub(crate) userdata: UserData,
}

impl TraceObserver for CTrace {
    fn on_event(&self, event: &TraceEvent) {
        let json = lossy_cstring(&event.to_json());
        // SAFETY: the host registered `callback` with `userdata` for calls from any thread;
        // `json` is valid for the duration of the call.
        unsafe { (self.callback)(self.userdata.0, json.as_ptr()) }
    }
}

/// A device code display implemented by a C callback.
#[derive(Clone)]
pub(crate) struct CDeviceCode {
    pub(crate) callback: DeviceCodeFn,
    pub(crate) userdata: UserData,
}

impl CDeviceCode {
    pub(crate) fn handler(self) -> mcp_auth::device::ShowCode {
        std::sync::Arc::new(move |info: &mcp_auth::device::DeviceAuthorization| self.call(info))
    }

    fn call(&self, info: &mcp_auth::device::DeviceAuthorization) {
        let uri = lossy_cstring(&info.verification_uri);
        let complete = info
            .verification_uri_complete
            .as_deref()
            .and_then(SecretCString::new);
        let Some(code) = SecretCString::new(&info.user_code) else {
            return;
        };
        let complete_ptr = complete.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        // SAFETY: the host registered `callback` with `userdata` for calls from any thread;
        // the strings are valid for the duration of the call.
        unsafe {
            (self.callback)(
                self.userdata.0,
                uri.as_ptr(),
                complete_ptr,
                code.as_ptr(),
                info.expires_in,
            )
        };
    }
}
