//! The client: configuration (JSON options plus C callbacks), the client handle, and
//! responses.

use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::Arc;

use mcp_auth::authorization::CallbackRedirect;
use mcp_auth::client::Response;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::options::RedirectOptions;
use mcp_auth::secret::AccessToken;
use mcp_auth::storage::TokenStorage;
use mcp_auth::trace::{TraceEvent, TraceObserver};
use mcp_auth::{Client, ClientOptions, Error};
use zeroize::{Zeroize, Zeroizing};

use crate::boundary::{
    FfiResult, Out, bytes, ffi_boundary, ffi_void, free_handle, handle, handle_mut, into_handle,
    opt_str, req_str,
};
use crate::error::{FfiError, lossy_cstring};
use crate::status::mcpauth_status;

// ---------------------------------------------------------------------------------------------
// Callback results
// ---------------------------------------------------------------------------------------------

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

/// The host's `void *userdata`, handed back to its callbacks.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);

// SAFETY: the C contract (documented on every setter) is that callbacks and their userdata may
// be used from any thread, concurrently; the library never dereferences the pointer itself.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

type GetFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut mcpauth_reply) -> i32;
type SetFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const c_char,
    *const c_char,
    *mut mcpauth_reply,
) -> i32;
type RemoveFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut mcpauth_reply) -> i32;
type RedirectFn = unsafe extern "C" fn(*mut c_void, *const c_char, *mut mcpauth_reply) -> i32;
type TraceFn = unsafe extern "C" fn(*mut c_void, *const c_char);

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

/// Token storage implemented by three C callbacks.
#[derive(Clone)]
struct CStorage {
    get: GetFn,
    set: SetFn,
    remove: RemoveFn,
    userdata: UserData,
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
}

/// A redirect handler implemented by a C callback.
#[derive(Clone)]
struct CRedirect {
    callback: RedirectFn,
    userdata: UserData,
}

impl CRedirect {
    fn call(&self, authorization_url: &str) -> mcp_auth::Result<String> {
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

/// A trace observer implemented by a C callback.
#[derive(Clone)]
struct CTrace {
    callback: TraceFn,
    userdata: UserData,
}

impl TraceObserver for CTrace {
    fn on_event(&self, event: &TraceEvent) {
        let json = lossy_cstring(&event.to_json());
        // SAFETY: the host registered `callback` with `userdata` for calls from any thread;
        // `json` is valid for the duration of the call.
        unsafe { (self.callback)(self.userdata.0, json.as_ptr()) }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// A client configuration: JSON options plus optional callbacks. Create it with
/// `mcpauth_client_config_new`, adjust it with the `mcpauth_client_config_set_*` functions,
/// build any number of clients from it with `mcpauth_client_new` (the configuration is copied,
/// not consumed), and free it with `mcpauth_client_config_free`.
///
/// Not thread-safe for mutation: the setters need exclusive access; `mcpauth_client_new` may
/// be called concurrently with other `mcpauth_client_new` calls on the same configuration.
pub struct mcpauth_client_config {
    options: ClientOptions,
    storage: Option<CStorage>,
    redirect: Option<CRedirect>,
    trace: Option<CTrace>,
}

/// Create a client configuration from JSON options.
///
/// The options are the ones of `mcp_auth::ClientOptions` (unknown members are rejected, so a
/// misspelt option is never silently ignored); only `server_url` is required:
///
/// ```json
/// {
///   "server_url": "https://mcp.example.com/mcp",
///   "client_name": "my host", "scope": "files:read",
///   "client_metadata_url": "https://host.example/client.json",
///   "client_id": "pre-registered", "client_secret": "…",
///   "token_endpoint_auth_method": "client_secret_basic",
///   "private_key_pem": "-----BEGIN PRIVATE KEY-----…", "signing_algorithm": "ES256",
///   "client_issuer": "https://as.example.com",
///   "grant": "authorization_code",
///   "redirect_uris": ["http://localhost:3000/callback"],
///   "timeout_ms": 30000, "max_body_bytes": 1048576, "user_agent": "my-host/1.0",
///   "protocol_version": "2025-11-25", "require_pkce_s256": true,
///   "refresh_skew_secs": 60, "max_authorizations": 3,
///   "preferred_issuer": "https://as.example.com", "allow_insecure_server_url": false,
///   "storage": {"type": "memory"},
///   "redirect": {"type": "headless"}
/// }
/// ```
///
/// The built-in implementations are selected here: `"storage"` is `{"type":"memory"}`
/// (default) or `{"type":"file","path":"/path/credentials.json"}` (path optional: default
/// `$MCP_AUTH_HOME/credentials.json`, else `$XDG_CONFIG_HOME/mcp-auth/credentials.json`, else
/// `~/.config/mcp-auth/credentials.json`); `"redirect"` is `{"type":"headless"}` (default: GET
/// the authorization URL and read the code from the redirect, for auto-approving servers),
/// `{"type":"loopback","port":0,"timeout_secs":300,"open_browser":true}` (RFC 8252 loopback
/// redirect with the system browser) or `{"type":"callback","redirect_uri":"…"}` (the host's
/// handler, set with `mcpauth_client_config_set_redirect_handler`).
///
/// - `options_json`: the options; borrowed for the call.
/// - `out`: on success, a new configuration (free with `mcpauth_client_config_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (not JSON, an unknown
/// member, a wrong type; the message names it), `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_UTF8`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_config_new(
    options_json: *const c_char,
    out: *mut *mut mcpauth_client_config,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (json, out) = unsafe {
            (
                req_str(options_json, "options_json")?,
                Out::new(out, "out")?,
            )
        };
        let options = ClientOptions::from_json(json)?;
        out.write(into_handle(mcpauth_client_config {
            options,
            storage: None,
            redirect: None,
            trace: None,
        }));
        Ok(())
    })
}

/// Free a configuration. NULL is a no-op. Clients built from it are not affected. Must not be
/// called twice on the same pointer, nor while another thread uses the configuration.
///
/// # Safety
/// `config` is NULL or a configuration from `mcpauth_client_config_new` not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_config_free(config: *mut mcpauth_client_config) {
    // SAFETY: the caller's contract (# Safety).
    ffi_void(|| unsafe { free_handle(config) })
}

/// Use the host's token storage instead of the `"storage"` option: three callbacks over a
/// key-value store whose values are JSON documents (see `mcpauth_storage_get_fn`).
///
/// The callbacks may be called from any thread that uses a client built from this
/// configuration, concurrently, and must not call functions on that same client (the client
/// holds a lock while it calls them). They must not unwind (no C++ exceptions, no `longjmp`
/// out of them). `userdata` is passed to them unchanged; it may be NULL, and must stay valid
/// until this configuration and every client built from it have been freed.
///
/// - `config`: the configuration.
/// - `get`, `set`, `remove`: the callbacks; none may be NULL.
/// - `userdata`: the host's pointer.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Not thread-safe: needs exclusive access to `config`.
///
/// # Safety
/// `config` is NULL or a live configuration; the callbacks follow the contract above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_config_set_storage(
    config: *mut mcpauth_client_config,
    get: mcpauth_storage_get_fn,
    set: mcpauth_storage_set_fn,
    remove: mcpauth_storage_remove_fn,
    userdata: *mut c_void,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let config = unsafe { handle_mut(config, "config")? };
        let get = get.ok_or_else(|| FfiError::null("get"))?;
        let set = set.ok_or_else(|| FfiError::null("set"))?;
        let remove = remove.ok_or_else(|| FfiError::null("remove"))?;
        config.storage = Some(CStorage {
            get,
            set,
            remove,
            userdata: UserData(userdata),
        });
        Ok(())
    })
}

/// Use the host's redirect handler instead of the `"redirect"` option (see
/// `mcpauth_redirect_fn`). The redirect URI registered and sent is the `redirect_uri` of a
/// `{"type":"callback","redirect_uri":"…"}` redirect option, else the first of
/// `redirect_uris`, else `http://localhost:3000/callback`.
///
/// Same rules as `mcpauth_client_config_set_storage` for threads, unwinding and `userdata`.
///
/// - `config`: the configuration.
/// - `handler`: the callback; not NULL.
/// - `userdata`: the host's pointer (may be NULL).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Not thread-safe: needs exclusive access to `config`.
///
/// # Safety
/// `config` is NULL or a live configuration; the callback follows the contract above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_config_set_redirect_handler(
    config: *mut mcpauth_client_config,
    handler: mcpauth_redirect_fn,
    userdata: *mut c_void,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let config = unsafe { handle_mut(config, "config")? };
        let callback = handler.ok_or_else(|| FfiError::null("handler"))?;
        config.redirect = Some(CRedirect {
            callback,
            userdata: UserData(userdata),
        });
        Ok(())
    })
}

/// Receive every step of the flow as JSON (see `mcpauth_trace_fn`): a step-by-step debugger
/// view of discovery, registration, authorization and token exchange.
///
/// Same rules as `mcpauth_client_config_set_storage` for threads, unwinding and `userdata`.
///
/// - `config`: the configuration.
/// - `observer`: the callback; not NULL.
/// - `userdata`: the host's pointer (may be NULL).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Not thread-safe: needs exclusive access to `config`.
///
/// # Safety
/// `config` is NULL or a live configuration; the callback follows the contract above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_config_set_trace(
    config: *mut mcpauth_client_config,
    observer: mcpauth_trace_fn,
    userdata: *mut c_void,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let config = unsafe { handle_mut(config, "config")? };
        let callback = observer.ok_or_else(|| FfiError::null("observer"))?;
        config.trace = Some(CTrace {
            callback,
            userdata: UserData(userdata),
        });
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// An MCP authorization client for one MCP server: sends requests with a bearer token and runs
/// the MCP authorization flow (discovery, registration, PKCE authorization, token exchange,
/// refresh, step-up) whenever the server asks for it.
///
/// Thread-safe: every function taking a `const mcpauth_client *` may be called from several
/// threads at once on the same client (one token acquisition serves all of them). Free it with
/// `mcpauth_client_free` once no other thread uses it.
pub struct mcpauth_client {
    client: Client,
}

/// Build a client from a configuration (which is not consumed, and may be freed afterwards).
///
/// With a `{"type":"loopback"}` redirect option, this binds the loopback port.
///
/// - `config`: the configuration.
/// - `out`: on success, a new client (free with `mcpauth_client_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (a malformed server URL,
/// inconsistent credentials, a key that does not load, a `"callback"` redirect option without
/// a redirect handler), `MCPAUTH_STATUS_INSECURE_URL` (an http server URL that is not
/// loopback, unless `allow_insecure_server_url`), `MCPAUTH_STATUS_TRANSPORT` (the loopback
/// port cannot be bound), `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_new(
    config: *const mcpauth_client_config,
    out: *mut *mut mcpauth_client,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (config, out) = unsafe { (handle(config, "config")?, Out::new(out, "out")?) };
        let mut builder = config.options.builder()?;
        if let Some(s) = &config.storage {
            builder = builder.storage(Arc::new(s.clone()));
        }
        match (&config.redirect, &config.options.redirect) {
            (Some(r), options) => {
                let uri = match options {
                    RedirectOptions::Callback { redirect_uri } => redirect_uri.clone(),
                    _ => None,
                };
                let r = r.clone();
                builder = builder
                    .redirect_handler(Arc::new(CallbackRedirect::new(uri, move |url: &str| {
                        r.call(url)
                    })));
            }
            (None, RedirectOptions::Callback { .. }) => {
                return Err(FfiError::invalid(
                    "config",
                    "the redirect option {\"type\":\"callback\"} needs a handler: call mcpauth_client_config_set_redirect_handler",
                ));
            }
            (None, _) => {}
        }
        if let Some(t) = &config.trace {
            builder = builder.observer(Arc::new(t.clone()));
        }
        let client = builder.build()?;
        out.write(into_handle(mcpauth_client { client }));
        Ok(())
    })
}

/// Free a client. NULL is a no-op. Must not be called twice on the same pointer, nor while
/// another thread uses the client. Responses obtained from it stay valid.
///
/// # Safety
/// `client` is NULL or a client from `mcpauth_client_new` not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_free(client: *mut mcpauth_client) {
    // SAFETY: the caller's contract (# Safety).
    ffi_void(|| unsafe { free_handle(client) })
}

/// The headers of a request, from a JSON object of names to string values.
fn parse_headers(json: &str) -> FfiResult<Vec<(http::HeaderName, http::HeaderValue)>> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| FfiError::invalid("headers_json", format!("expected a JSON object: {e}")))?;
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        let serde_json::Value::String(value) = value else {
            return Err(FfiError::invalid(
                "headers_json",
                format!("the value of header '{name}' is not a string"),
            ));
        };
        let n = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            FfiError::invalid("headers_json", format!("'{name}' is not a header name"))
        })?;
        let v = http::HeaderValue::from_str(&value).map_err(|_| {
            FfiError::invalid(
                "headers_json",
                format!("the value of header '{name}' is not a valid header value"),
            )
        })?;
        out.push((n, v));
    }
    Ok(out)
}

fn response_handle(response: Response) -> *mut mcpauth_response {
    let mut body = response.body;
    body.push(0);
    into_handle(mcpauth_response {
        status: response.status,
        headers: response.headers,
        body,
        challenge_json: response
            .challenge
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok()),
        authorizations: response.authorizations,
    })
}

/// Send an HTTP request with the client's bearer token, running the authorization flow on a
/// 401, and on a 403 `insufficient_scope` step-up challenge (SEP-2350), then retrying. Blocks
/// until done.
///
/// A response that is not a success is still a response (`MCPAUTH_STATUS_OK`): a 403 without
/// step-up, a 404, a 500 are returned with their status and body. `MCPAUTH_STATUS_UNAUTHORIZED`
/// means the server still refused after the allowed authorizations; its challenge is in
/// `mcpauth_last_error_challenge_json`.
///
/// - `client`: the client.
/// - `method`: the HTTP method, e.g. `"POST"`.
/// - `url`: the URL; may be NULL for the configured server URL.
/// - `headers_json`: extra headers as a JSON object of names to string values, e.g.
///   `{"Content-Type":"application/json","Accept":"application/json, text/event-stream"}`;
///   may be NULL. An `Authorization` header is replaced by the client's.
/// - `body`, `body_len`: the request body; `body` may be NULL when `body_len` is 0.
/// - `out`: on success, a new response (free with `mcpauth_response_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, and any flow status: `MCPAUTH_STATUS_TRANSPORT`,
/// `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`,
/// `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn mcpauth_client_send(
    client: *const mcpauth_client,
    method: *const c_char,
    url: *const c_char,
    headers_json: *const c_char,
    body: *const u8,
    body_len: usize,
    out: *mut *mut mcpauth_response,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, method, url, headers, body, out) = unsafe {
            (
                handle(client, "client")?,
                req_str(method, "method")?,
                opt_str(url, "url")?,
                opt_str(headers_json, "headers_json")?,
                bytes(body, body_len, "body")?,
                Out::new(out, "out")?,
            )
        };
        let method = http::Method::from_bytes(method.as_bytes())
            .map_err(|_| FfiError::invalid("method", "not an HTTP method"))?;
        let url = url.unwrap_or(&c.client.config().server_url);
        let uri: http::Uri = url
            .parse()
            .map_err(|e| FfiError::invalid("url", format!("{e}")))?;
        let mut request = http::Request::builder().method(method).uri(uri);
        if let Some(h) = headers {
            for (n, v) in parse_headers(h)? {
                request = request.header(n, v);
            }
        }
        let request = request
            .body(body.to_vec())
            .map_err(|e| FfiError::invalid("request", e))?;
        let response = c.client.send(request)?;
        out.write(response_handle(response));
        Ok(())
    })
}

/// POST a JSON-RPC message to the MCP endpoint (`Content-Type: application/json`,
/// `Accept: application/json, text/event-stream`) through `mcpauth_client_send`.
///
/// - `client`: the client.
/// - `json_body`: the JSON-RPC message; borrowed for the call.
/// - `out`: on success, a new response (free with `mcpauth_response_free`).
///
/// Statuses: as `mcpauth_client_send`: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_UTF8`, `MCPAUTH_STATUS_INVALID_ARGUMENT`,
/// `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`,
/// `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_post_json(
    client: *const mcpauth_client,
    json_body: *const c_char,
    out: *mut *mut mcpauth_response,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, body, out) = unsafe {
            (
                handle(client, "client")?,
                req_str(json_body, "json_body")?,
                Out::new(out, "out")?,
            )
        };
        let response = c.client.post_json(body.as_bytes().to_vec())?;
        out.write(response_handle(response));
        Ok(())
    })
}

/// One unauthenticated request to the MCP endpoint (an `initialize` POST), returning its status
/// and parsed challenge as JSON: a diagnostic.
///
/// `{"status":401,"challenge":{"status":401,"www_authenticate":["Bearer resource_metadata=\"…\""],"challenges":[…],"bearer":{…}}}`
/// (`challenge` is null unless the status is 401 or 403).
///
/// - `client`: the client.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`,
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_probe(
    client: *const mcpauth_client,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_json, "out_json")?) };
        out.write_json(&c.client.probe()?)
    })
}

/// Run discovery: an unauthenticated probe for the challenge, then the protected resource
/// metadata chain (RFC 9728, SEP-985) and the authorization server metadata chain (RFC 8414,
/// OIDC Discovery), with the issuer and resource checks. Every step is reported to the trace
/// observer. Returns what was found as JSON:
///
/// `{"protected_resource":{…}|null,"protected_resource_url":"…"|null,"authorization_server":"…"|null,"metadata":{…}|null,"metadata_url":"…"|null,"issuer":"…","authorization_endpoint":"…","token_endpoint":"…","registration_endpoint":"…"|null,"resource":"…"|null}`
///
/// - `client`: the client.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`,
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`, `MCPAUTH_STATUS_INVALID_RESPONSE`,
/// `MCPAUTH_STATUS_DISCOVERY`, `MCPAUTH_STATUS_SECURITY_CHECK`, `MCPAUTH_STATUS_INSECURE_URL`,
/// `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_discover(
    client: *const mcpauth_client,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_json, "out_json")?) };
        let d = c.client.discover()?;
        out.write_json(&*d)
    })
}

/// A valid access token for the server, refreshing or running the authorization flow first if
/// needed (for hosts that send MCP requests themselves).
///
/// - `client`: the client.
/// - `out_token`: on success, the access token, a secret (free with `mcpauth_string_free`,
///   which zeroizes it).
///
/// Statuses: as `mcpauth_client_send`: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`,
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`, `MCPAUTH_STATUS_INVALID_RESPONSE`,
/// `MCPAUTH_STATUS_DISCOVERY`, `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`,
/// `MCPAUTH_STATUS_TOKEN`, `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_access_token(
    client: *const mcpauth_client,
    out_token: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_token, "out_token")?) };
        let token = c.client.access_token()?;
        out.write_str(token.secret())
    })
}

/// The access token a host should attach to a request it sends itself (hosts that run their
/// own HTTP stack: an `Authorization: Bearer` hook, a proxy): loaded from storage and refreshed
/// when it is due (one refresh serves every thread), never a new authorization. NULL when no
/// usable token is held: send without one, and hand the 401 to
/// `mcpauth_client_authorize_after`.
///
/// A DPoP-bound token (RFC 9449) also needs a proof per request, which this function does not
/// make: hosts of servers that bind tokens should let the library send
/// (`mcpauth_client_send`).
///
/// - `client`: the client.
/// - `out_token`: on success, the access token, a secret (free with `mcpauth_string_free`,
///   which zeroizes it), or NULL when no usable token is held.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, and those of a refresh:
/// `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_SECURITY_CHECK`, `MCPAUTH_STATUS_INSECURE_URL`,
/// `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_current_token(
    client: *const mcpauth_client,
    out_token: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_token, "out_token")?) };
        let token = c.client.current_token()?;
        out.write_opt_str(token.as_ref().map(|t| t.secret()))
    })
}

/// What `mcpauth_client_send` does when the server refuses a request, for hosts that send
/// requests themselves: given the refused response's status (401 or 403), its
/// `WWW-Authenticate` values and the token it refused, refresh or run the authorization flow
/// (on a 403 `insufficient_scope`, step up to the union of the granted and the challenged
/// scopes, SEP-2350), and return the token to retry with. One acquisition serves every thread:
/// when another thread already replaced `rejected_token`, the newer token is returned without a
/// new authorization. The host bounds its own retries.
///
/// - `client`: the client.
/// - `status`: the status of the refused response: 401 or 403 (anything else is
///   `MCPAUTH_STATUS_INVALID_ARGUMENT`).
/// - `www_authenticate_json`: every `WWW-Authenticate` field value of that response, as a JSON
///   array of strings, e.g. `["Bearer error=\"invalid_token\", resource_metadata=\"…\""]`; may
///   be NULL (no challenge).
/// - `rejected_token`: the access token the server refused (from
///   `mcpauth_client_current_token`), or NULL when the request carried none.
/// - `out_token`: on success, the token to retry with, a secret (free with
///   `mcpauth_string_free`), or NULL when there is nothing to retry: a 403 that is not an
///   `insufficient_scope` challenge is final.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, and any flow status: `MCPAUTH_STATUS_TRANSPORT`,
/// `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`,
/// `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_authorize_after(
    client: *const mcpauth_client,
    status: u16,
    www_authenticate_json: *const c_char,
    rejected_token: *const c_char,
    out_token: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, www, rejected, out) = unsafe {
            (
                handle(client, "client")?,
                opt_str(www_authenticate_json, "www_authenticate_json")?,
                opt_str(rejected_token, "rejected_token")?,
                Out::new(out_token, "out_token")?,
            )
        };
        let www: Vec<String> = match www {
            Some(json) => serde_json::from_str(json).map_err(|e| {
                FfiError::invalid(
                    "www_authenticate_json",
                    format!("expected a JSON array of strings: {e}"),
                )
            })?,
            None => Vec::new(),
        };
        let rejected = rejected.map(AccessToken::new);
        let token = c.client.authorize_after(status, &www, rejected.as_ref())?;
        out.write_opt_str(token.as_ref().map(|t| t.secret()))
    })
}

/// The scope granted with the current token (space-delimited), without any network request.
///
/// - `client`: the client.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when no token
///   is held or it has no scope.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_granted_scope(
    client: *const mcpauth_client,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out, "out")?) };
        out.write_opt_str(c.client.granted_scope().as_deref())
    })
}

/// Forget the tokens of this server, in memory and in storage (client registrations are kept).
///
/// - `client`: the client.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_STORAGE`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_logout(client: *const mcpauth_client) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let c = unsafe { handle(client, "client")? };
        c.client.logout()?;
        Ok(())
    })
}

/// The redirect URI the client registers and sends (e.g. the loopback listener's
/// `http://127.0.0.1:PORT/callback`).
///
/// - `client`: the client.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_redirect_uri(
    client: *const mcpauth_client,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out, "out")?) };
        out.write_str(c.client.redirect_uri())
    })
}

/// The storage key of this server's tokens: its canonical resource URL (RFC 8707).
///
/// - `client`: the client.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_resource_key(
    client: *const mcpauth_client,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out, "out")?) };
        out.write_str(c.client.resource_key())
    })
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

/// The final response of `mcpauth_client_send` / `mcpauth_client_post_json`: status, headers,
/// body, and the last 401/403 challenge seen while sending. Immutable: the getters may be
/// called from any thread, concurrently. Free it with `mcpauth_response_free`.
pub struct mcpauth_response {
    status: u16,
    headers: http::HeaderMap,
    /// The body followed by one NUL byte (not part of the body).
    body: Vec<u8>,
    challenge_json: Option<String>,
    authorizations: u32,
}

/// Free a response. NULL is a no-op; must not be called twice on the same pointer. Pointers
/// from `mcpauth_response_body` become invalid.
///
/// # Safety
/// `response` is NULL or a response from this library not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_free(response: *mut mcpauth_response) {
    // SAFETY: the caller's contract (# Safety).
    ffi_void(|| unsafe { free_handle(response) })
}

/// The HTTP status of the final response.
///
/// - `response`: the response.
/// - `out`: on success, the status (e.g. 200).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_status(
    response: *const mcpauth_response,
    out: *mut u16,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe { (handle(response, "response")?, Out::new(out, "out")?) };
        out.write(r.status);
        Ok(())
    })
}

/// The body of the final response, borrowed from the response.
///
/// - `response`: the response.
/// - `out_data`: on success, a pointer to the body bytes; valid until `mcpauth_response_free`.
///   Never NULL. The bytes are followed by a NUL byte that is not counted in the length, so a
///   text body without NUL bytes can be used as a C string directly.
/// - `out_len`: on success, the body length in bytes.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_body(
    response: *const mcpauth_response,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, data, len) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_data, "out_data")?,
                Out::new(out_len, "out_len")?,
            )
        };
        data.write(r.body.as_ptr());
        len.write(r.body.len().saturating_sub(1));
        Ok(())
    })
}

/// The value of a response header (names compare case-insensitively); several values are
/// joined with `", "` (RFC 9110 §5.3). Bytes that are not UTF-8 become U+FFFD.
///
/// - `response`: the response.
/// - `name`: the header name, e.g. `"content-type"`.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when the
///   header is absent.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`name` is not a header name).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_header(
    response: *const mcpauth_response,
    name: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, name, out) = unsafe {
            (
                handle(response, "response")?,
                req_str(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| FfiError::invalid("name", "not a header name"))?;
        let values: Vec<String> = r
            .headers
            .get_all(&name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if values.is_empty() {
            out.write_opt_str(None)
        } else {
            out.write_str(&values.join(", "))
        }
    })
}

/// Every response header as a JSON array of `[name, value]` pairs, in order, names lowercased,
/// repeated headers kept: `[["content-type","application/json"],["www-authenticate","Bearer …"]]`.
///
/// - `response`: the response.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_headers_json(
    response: *const mcpauth_response,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let pairs: Vec<(&str, String)> = r
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        out.write_json(&pairs)
    })
}

/// The last 401/403 challenge seen while sending (also when the final response is a success
/// after re-authorization, so that a proxy can forward it), as JSON:
/// `{"status":401,"www_authenticate":["…"],"challenges":[…],"bearer":{…}|null}`.
///
/// - `response`: the response.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), or NULL when no
///   challenge was seen.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_challenge_json(
    response: *const mcpauth_response,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_json, "out_json")?,
            )
        };
        out.write_opt_str(r.challenge_json.as_deref())
    })
}

/// How many tokens were acquired (authorizations or refreshes) while sending this request.
///
/// - `response`: the response.
/// - `out`: on success, the count.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_authorizations(
    response: *const mcpauth_response,
    out: *mut u32,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe { (handle(response, "response")?, Out::new(out, "out")?) };
        out.write(r.authorizations);
        Ok(())
    })
}

/// The JSON-RPC message in the body of the final response, as compact JSON: the body itself
/// when it is JSON, or the first `data:` event that holds JSON when the response is
/// `text/event-stream` (MCP Streamable HTTP answers a POST either way).
///
/// - `response`: the response.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), or NULL when the
///   body holds no JSON message.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_json_message(
    response: *const mcpauth_response,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, out) = unsafe {
            (
                handle(response, "response")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let core = Response {
            status: r.status,
            headers: r.headers.clone(),
            body: r.body[..r.body.len().saturating_sub(1)].to_vec(),
            challenge: None,
            authorizations: r.authorizations,
        };
        match core.json_message() {
            Some(v) => out.write_json(&v),
            None => out.write_opt_str(None),
        }
    })
}

/// What a proxy sends downstream for this response (`mcpauth_bridge_response` applied to its
/// status and headers): every `WWW-Authenticate` value verbatim, hop-by-hop fields dropped,
/// `Access-Control-Expose-Headers` merged with `WWW-Authenticate, Mcp-Session-Id,
/// MCP-Protocol-Version`, and for a 401/403 the challenge. See `mcpauth_bridge_response` for
/// the options and the JSON result.
///
/// - `response`: the response.
/// - `origin`: the downstream request's `Origin` header; may be NULL.
/// - `options_json`: bridge options (see `mcpauth_bridge_response`); may be NULL.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (invalid options).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_response_bridge(
    response: *const mcpauth_response,
    origin: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (r, origin, options, out) = unsafe {
            (
                handle(response, "response")?,
                opt_str(origin, "origin")?,
                opt_str(options_json, "options_json")?,
                Out::new(out_json, "out_json")?,
            )
        };
        let options = crate::bridge::options(options)?;
        let pairs = mcp_auth_bridge::header_pairs(&r.headers);
        let down = mcp_auth_bridge::bridge_response(r.status, &pairs, origin, &options)?;
        out.write_str(&down.to_json())
    })
}
