//! The client configuration: JSON options plus the C callbacks.

use std::ffi::{c_char, c_void};

use mcp_auth::ClientOptions;

use crate::boundary::{Out, ffi_boundary, ffi_void, free_handle, handle_mut, into_handle, req_str};
use crate::callbacks::{
    CDeviceCode, CRedirect, CStorage, CTrace, CUrl, UserData, mcpauth_device_code_fn,
    mcpauth_redirect_fn, mcpauth_storage_get_fn, mcpauth_storage_lock_fn,
    mcpauth_storage_remove_fn, mcpauth_storage_set_fn, mcpauth_storage_unlock_fn, mcpauth_trace_fn,
    mcpauth_url_fn,
};
use crate::error::FfiError;
use crate::status::mcpauth_status;

/// A client configuration: JSON options plus optional callbacks. Create it with
/// `mcpauth_client_config_new`, adjust it with the `mcpauth_client_config_set_*` functions,
/// build any number of clients from it with `mcpauth_client_new` (the configuration is copied,
/// not consumed), and free it with `mcpauth_client_config_free`.
///
/// Not thread-safe for mutation: the setters need exclusive access; `mcpauth_client_new` may
/// be called concurrently with other `mcpauth_client_new` calls on the same configuration.
pub struct mcpauth_client_config {
    pub(crate) options: ClientOptions,
    pub(crate) storage: Option<CStorage>,
    pub(crate) redirect: Option<CRedirect>,
    pub(crate) trace: Option<CTrace>,
    pub(crate) url: Option<CUrl>,
    pub(crate) device_code: Option<CDeviceCode>,
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
            url: None,
            device_code: None,
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
            lease: None,
            userdata: UserData(userdata),
        });
        Ok(())
    })
}

/// Add the refresh lease to the host's storage (see `mcpauth_storage_lock_fn`): processes that
/// share the store then refresh a token once per expiry, and the others adopt the new pair
/// (docs/fleet.md). Called with the `userdata` of `mcpauth_client_config_set_storage`, under the
/// same rules.
///
/// Without it (the default), the host's storage has no cross-process lease: the threads of one
/// client refresh once, and a process adopts a newer stored token before refreshing, but two
/// processes whose tokens expire at the same instant may both refresh (an authorization server
/// that detects refresh token reuse then revokes the grant).
///
/// - `config`: the configuration, with storage callbacks already set (setting them again
///   removes the lease callbacks).
/// - `lock`, `unlock`: both, or both NULL to remove the lease.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT` (`config`, or only one of
/// `lock`/`unlock`), `MCPAUTH_STATUS_INVALID_ARGUMENT` (no storage callbacks set).
///
/// Not thread-safe: needs exclusive access to `config`.
///
/// # Safety
/// `config` is NULL or a live configuration; the callbacks follow the contract of
/// `mcpauth_storage_lock_fn` and `mcpauth_storage_unlock_fn`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_config_set_storage_lease(
    config: *mut mcpauth_client_config,
    lock: mcpauth_storage_lock_fn,
    unlock: mcpauth_storage_unlock_fn,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let config = unsafe { handle_mut(config, "config")? };
        let lease = match (lock, unlock) {
            (Some(l), Some(u)) => Some((l, u)),
            (None, None) => None,
            (None, Some(_)) => return Err(FfiError::null("lock")),
            (Some(_), None) => return Err(FfiError::null("unlock")),
        };
        let storage = config.storage.as_mut().ok_or_else(|| {
            FfiError::invalid(
                "config",
                "no storage callbacks: call mcpauth_client_config_set_storage first",
            )
        })?;
        storage.lease = lease;
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

/// Receive the authorization URL of a `{"type":"loopback"}` redirect, to show it to the user
/// (see `mcpauth_url_fn`): the library never prints it (it logs it at info level with `state`
/// redacted, see `mcpauth_set_log_callback`).
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
pub unsafe extern "C" fn mcpauth_client_config_set_url_handler(
    config: *mut mcpauth_client_config,
    handler: mcpauth_url_fn,
    userdata: *mut c_void,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let config = unsafe { handle_mut(config, "config")? };
        let callback = handler.ok_or_else(|| FfiError::null("handler"))?;
        config.url = Some(CUrl {
            callback,
            userdata: UserData(userdata),
        });
        Ok(())
    })
}

/// Receive the code of a `{"type":"device"}` redirect (RFC 8628 device authorization), to show
/// it to the user (see `mcpauth_device_code_fn`): the library never prints it (without a
/// handler it logs it at warn level, see `mcpauth_set_log_callback`).
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
pub unsafe extern "C" fn mcpauth_client_config_set_device_code_handler(
    config: *mut mcpauth_client_config,
    handler: mcpauth_device_code_fn,
    userdata: *mut c_void,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let config = unsafe { handle_mut(config, "config")? };
        let callback = handler.ok_or_else(|| FfiError::null("handler"))?;
        config.device_code = Some(CDeviceCode {
            callback,
            userdata: UserData(userdata),
        });
        Ok(())
    })
}
