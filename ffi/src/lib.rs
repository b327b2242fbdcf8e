//! # libmcpauth: the C ABI of mcp-auth
//!
//! MCP client authorization (OAuth 2.1 as the Model Context Protocol specifies it) for any
//! C/C++ MCP host and any runtime that can load a shared library. This crate only translates:
//! every decision is made by the `mcp-auth` core.
//!
//! The header `include/mcpauth.h` is generated from this crate by cbindgen (pinned) and
//! committed; `cargo test -p mcp-auth-ffi` fails when it is stale (`UPDATE_HEADER=1` rewrites
//! it). The rustdoc of every export is its documentation in the header.
//!
//! ## Conventions (every function)
//!
//! - **Status.** Every fallible function returns `mcpauth_status` (`int32_t`): 0 is success;
//!   the other values are stable, grouped in ranges (see `mcpauth_status`).
//! - **Out-parameters** come last and are written only on success; on failure they are left
//!   untouched. There is no partial success.
//! - **Last error.** A failing function records a message and structured details on the
//!   calling thread: `mcpauth_last_error_message`, `_status`, `_oauth_error`,
//!   `_oauth_error_description`, `_oauth_error_uri`, `_http_status`, `_check`,
//!   `_challenge_json`, `_json`. Every status-returning function clears it on entry.
//! - **Strings in** are borrowed, NUL-terminated UTF-8 (`const char *`), read only during the
//!   call; invalid UTF-8 gives `MCPAUTH_STATUS_INVALID_UTF8`.
//! - **Strings out** (`char **`) are allocated by the library and freed only with
//!   `mcpauth_string_free`, which zeroizes them first (tokens pass through them). Strings
//!   returned as `const char *` are library-owned: never free them.
//! - **NULL.** Every pointer is checked: a NULL that is not documented as allowed gives
//!   `MCPAUTH_STATUS_NULL_ARGUMENT`. Every `_free` function accepts NULL.
//! - **Handles** are opaque (`mcpauth_client_config`, `mcpauth_client`, `mcpauth_response`,
//!   `mcpauth_stream`, `mcpauth_reply`), created by `_new` (or the call that returns them) and
//!   released by `_free`. Freeing twice is undefined.
//! - **Panics** never cross the boundary: a caught panic gives `MCPAUTH_STATUS_PANIC`.
//! - **Threads.** Each type states its thread safety. A `const T *` parameter may be shared
//!   between threads; a `T *` parameter needs exclusive access. Callbacks take `void *userdata`
//!   first, may be called from any thread, and receive data borrowed only for the call.

#![warn(missing_docs)]
// The exported names are C names.
#![allow(non_camel_case_types)]

// Declaration order is header order (cbindgen follows it), hence one group per line.
mod boundary;

// The client: callbacks, configuration, the client handle, responses.
mod callbacks;

mod config;

mod client;

// After the client: its cancel handle, then the global log callback.
mod cancel;

mod logging;

mod response;

// Streamed responses, after the buffered ones.
mod stream;

mod error;

mod status;

// One module per core module exposed: no I/O, structured values as JSON (so that members can be
// added without changing the ABI), names of the MCP Python SDK where it has them.
mod challenge;

mod discovery;

mod scope;

mod checks;

mod registration;

mod pkce;

mod authorization;

mod token;

mod metadata;

mod json;

// Last: the proxy bridge (the mcp-auth-bridge crate).
mod bridge;

use std::ffi::c_char;

pub use authorization::*;
pub use boundary::mcpauth_string_free;
pub use bridge::*;
pub use callbacks::*;
pub use cancel::*;
pub use challenge::*;
pub use checks::*;
pub use client::*;
pub use config::*;
pub use discovery::*;
pub use error::*;
pub use json::*;
pub use logging::*;
pub use metadata::*;
pub use pkce::*;
pub use registration::*;
pub use response::*;
pub use scope::*;
pub use status::*;
pub use stream::*;
pub use token::*;

/// The ABI version of this library: incremented on every incompatible change of the C ABI
/// (the shared library's SONAME is `libmcpauth.so.<MCPAUTH_ABI_VERSION>`). Compare
/// `mcpauth_abi_version()` with this macro at start-up to detect a mismatched library.
pub const MCPAUTH_ABI_VERSION: u32 = 1;

/// The library version as a static string, e.g. `"0.1.0"` (equal to `MCPAUTH_VERSION` of the
/// header it was built with). Never NULL; do not free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    boundary::ffi_value(VERSION.as_ptr().cast(), || VERSION.as_ptr().cast())
}

/// The ABI version of the loaded library (`MCPAUTH_ABI_VERSION` of the header it was built
/// with). A program compiled against a header whose `MCPAUTH_ABI_VERSION` differs must not use
/// the library. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn mcpauth_abi_version() -> u32 {
    boundary::ffi_value(MCPAUTH_ABI_VERSION, || MCPAUTH_ABI_VERSION)
}
