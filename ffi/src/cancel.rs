//! Cancelling the calls in progress on a client, from another thread.

use crate::boundary::{ffi_boundary, handle};
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
