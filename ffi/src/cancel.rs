//! Cancelling the calls in progress on a client, from another thread.

use crate::boundary::{Out, ffi_boundary, ffi_void, free_handle, handle, into_handle};
use crate::client::mcpauth_client;
use crate::status::mcpauth_status;

/// Cancel every call in progress on `client` (in any thread): each returns
/// `MCPAUTH_STATUS_CANCELLED` promptly. Calls started after this returns run normally, so the
/// client stays usable.
///
/// What is interrupted promptly (within about 25 ms): the wait for the browser's redirect on
/// the loopback listener, and a flow between two HTTP requests (discovery, registration, the
/// token endpoint, the MCP request). What is not: an HTTP request already on the wire finishes
/// or times out first (`timeout_ms` bounds it), and a redirect callback
/// (`mcpauth_client_config_set_redirect_handler`) is not interrupted: the cancel takes effect
/// when it returns, so a host whose callback waits for a user should end that wait too.
///
/// Call it from a thread other than the one blocked in the call (a UI thread, a signal
/// watcher). Do not free the client until the cancelled calls have returned.
///
/// - `client`: the client.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// `client` is NULL or a valid client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_cancel(client: *const mcpauth_client) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let c = unsafe { handle(client, "client")? };
        c.client.cancel();
        Ok(())
    })
}

/// A cancel token for single calls (`mcp_auth::CancelToken` used as a per-call scope): bind it
/// to the calling thread with `mcpauth_cancel_token_bind`, make the call, and cancel it from
/// any other thread with `mcpauth_cancel_token_cancel`: that call alone returns
/// `MCPAUTH_STATUS_CANCELLED` (other calls on the same client go on). One-shot: once
/// cancelled, every call made under it is cancelled, including calls started afterwards.
/// Free it with `mcpauth_cancel_token_free` once no call uses it.
pub struct mcpauth_cancel_token {
    token: mcp_auth::CancelToken,
}

thread_local! {
    /// The token bound to this thread by `mcpauth_cancel_token_bind`.
    static BOUND: std::cell::RefCell<Option<mcp_auth::CancelToken>> =
        const { std::cell::RefCell::new(None) };
}

/// Run an export's body under the token bound to this thread, if any.
pub(crate) fn under_bound<T>(body: impl FnOnce() -> T) -> T {
    match BOUND.with(|b| b.borrow().clone()) {
        Some(token) => token.scope(body),
        None => body(),
    }
}

/// Create a per-call cancel token.
///
/// - `out`: on success, a new token (free with `mcpauth_cancel_token_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_cancel_token_new(
    out: *mut *mut mcpauth_cancel_token,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let out = unsafe { Out::new(out, "out")? };
        out.write(into_handle(mcpauth_cancel_token {
            token: mcp_auth::CancelToken::new(),
        }));
        Ok(())
    })
}

/// Cancel the calls made under `token` (see `mcpauth_cancel_token`), from any thread; returns
/// at once. The same promptness as `mcpauth_client_cancel`.
///
/// - `token`: the token.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// `token` is NULL or a live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_cancel_token_cancel(
    token: *const mcpauth_cancel_token,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let t = unsafe { handle(token, "token")? };
        t.token.cancel();
        Ok(())
    })
}

/// Make the calls this thread makes from now on run under `token` (NULL: under none), until
/// the next bind on this thread. The library keeps its own reference: `token` may be freed
/// while bound.
///
/// - `token`: the token, or NULL to unbind.
///
/// Statuses: `MCPAUTH_STATUS_OK`.
///
/// Thread-safe (it affects the calling thread only).
///
/// # Safety
/// `token` is NULL or a live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_cancel_token_bind(
    token: *const mcpauth_cancel_token,
) -> mcpauth_status {
    ffi_boundary(|| {
        let bound = if token.is_null() {
            None
        } else {
            // SAFETY: the caller's contract (# Safety).
            Some(unsafe { handle(token, "token")? }.token.clone())
        };
        BOUND.with(|b| *b.borrow_mut() = bound);
        Ok(())
    })
}

/// Free a token (NULL is ignored). Calls bound to it keep their own reference.
///
/// Thread-safe.
///
/// # Safety
/// `token` is NULL or a token not used (nor freed) afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_cancel_token_free(token: *mut mcpauth_cancel_token) {
    // SAFETY: the caller's contract (# Safety).
    ffi_void(|| unsafe { free_handle(token) });
}
