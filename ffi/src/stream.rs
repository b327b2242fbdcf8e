//! Streamed responses (`mcpauth_client_send_streamed`): the head at once, the body read as it
//! arrives (`mcpauth_stream_read`) or event by event (`mcpauth_stream_next_event`). MCP
//! traffic, not OAuth traffic: no body cap unless `stream_max_body_bytes` is set, the idle
//! timeout (`stream_idle_timeout_ms`) between reads instead of the whole-request timeout.

use std::ffi::c_char;
use std::io::Read;

use mcp_auth::client::ResponseStream;
use mcp_auth::sse::EventReader;

use crate::boundary::{
    Out, bytes, ffi_boundary, ffi_void, free_handle, handle, handle_mut, into_handle, opt_str,
    req_str,
};
use crate::client::{build_request, mcpauth_client};
use crate::error::FfiError;
use crate::status::mcpauth_status;

/// Where the body is in its reading.
enum Body {
    /// Read as bytes (`mcpauth_stream_read`), or not started.
    Bytes(ResponseStream),
    /// Read as events (`mcpauth_stream_next_event` was called).
    Events(EventReader<ResponseStream>),
    /// Only while moving from `Bytes` to `Events`, never seen by a call.
    Switching,
}

/// A response whose body is read as it arrives, from `mcpauth_client_send_streamed`: status
/// and headers at once, then the body with `mcpauth_stream_read` (bytes) or
/// `mcpauth_stream_next_event` (server-sent events). Memory stays bounded by the caller's
/// buffer (and one event).
///
/// Not thread-safe for reading: `mcpauth_stream_read` and `mcpauth_stream_next_event` need
/// exclusive access (one thread at a time); the `const` getters may be called from any thread
/// while no read runs. Free it with `mcpauth_stream_free` (which closes the connection if the
/// body was not read to its end). Independent of its client: it stays valid after
/// `mcpauth_client_free`.
pub struct mcpauth_stream {
    status: u16,
    headers: http::HeaderMap,
    challenge_json: Option<String>,
    authorizations: u32,
    event_stream: bool,
    body: Body,
}

/// `mcpauth_client_send`, returning as soon as the final response's head has arrived, with the
/// body to be read as it comes: a large tool result, a POST answered with
/// `text/event-stream`, a `GET` stream. Authorization happens before the head: a 401 runs the
/// flow and a 403 `insufficient_scope` challenge steps up, then the request is retried, as in
/// `mcpauth_client_send`. Blocks until the head is there.
///
/// The body has no size cap unless the `stream_max_body_bytes` option sets one, and no
/// whole-request timeout: `connect_timeout_ms` bounds the connection and
/// `stream_idle_timeout_ms` (default 5 minutes) each wait for more of the body.
///
/// - `client`: the client.
/// - `method`: the HTTP method, e.g. `"POST"`.
/// - `url`: the URL; may be NULL for the configured server URL.
/// - `headers_json`: extra headers as a JSON object of names to string values, e.g.
///   `{"Content-Type":"application/json","Accept":"application/json, text/event-stream"}`;
///   may be NULL. An `Authorization` header is replaced by the client's.
/// - `body`, `body_len`: the request body; `body` may be NULL when `body_len` is 0.
/// - `out`: on success, a new stream (free with `mcpauth_stream_free`).
///
/// Statuses: as `mcpauth_client_send` (up to the head): `MCPAUTH_STATUS_OK`,
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`,
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`, `MCPAUTH_STATUS_INVALID_RESPONSE`,
/// `MCPAUTH_STATUS_DISCOVERY`, `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`,
/// `MCPAUTH_STATUS_TOKEN`, `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`, `MCPAUTH_STATUS_ADDRESS_REFUSED`,
/// `MCPAUTH_STATUS_FOREIGN_ORIGIN`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn mcpauth_client_send_streamed(
    client: *const mcpauth_client,
    method: *const c_char,
    url: *const c_char,
    headers_json: *const c_char,
    body: *const u8,
    body_len: usize,
    out: *mut *mut mcpauth_stream,
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
        let request = build_request(c, method, url, headers, body)?;
        let stream = c.client.send_streamed(request)?;
        out.write(into_handle(mcpauth_stream {
            status: stream.status,
            headers: stream.headers.clone(),
            challenge_json: stream
                .challenge
                .as_ref()
                .and_then(|c| serde_json::to_string(c).ok()),
            authorizations: stream.authorizations,
            event_stream: stream.is_event_stream(),
            body: Body::Bytes(stream),
        }));
        Ok(())
    })
}

/// Free a stream, closing its connection if the body was not read to its end. NULL is a
/// no-op; must not be called twice on the same pointer, nor while another thread reads it.
///
/// # Safety
/// `stream` is NULL or a stream from `mcpauth_client_send_streamed` not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_free(stream: *mut mcpauth_stream) {
    // SAFETY: the caller's contract (# Safety).
    ffi_void(|| unsafe { free_handle(stream) })
}

/// The HTTP status of the final response.
///
/// - `stream`: the stream.
/// - `out`: on success, the status (e.g. 200).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe while no read runs.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_status(
    stream: *const mcpauth_stream,
    out: *mut u16,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, out) = unsafe { (handle(stream, "stream")?, Out::new(out, "out")?) };
        out.write(s.status);
        Ok(())
    })
}

/// The value of a response header, as `mcpauth_response_header`: names compare
/// case-insensitively, several values are joined with `", "`, bytes that are not UTF-8 become
/// U+FFFD.
///
/// - `stream`: the stream.
/// - `name`: the header name, e.g. `"content-type"`.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when the
///   header is absent.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`name` is not a header name).
///
/// Thread-safe while no read runs.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_header(
    stream: *const mcpauth_stream,
    name: *const c_char,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, name, out) = unsafe {
            (
                handle(stream, "stream")?,
                req_str(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        out.write_opt_str(crate::response::header_joined(&s.headers, name)?.as_deref())
    })
}

/// Every response header as a JSON array of `[name, value]` pairs, as
/// `mcpauth_response_headers_json`.
///
/// - `stream`: the stream.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe while no read runs.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_headers_json(
    stream: *const mcpauth_stream,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, out) = unsafe { (handle(stream, "stream")?, Out::new(out_json, "out_json")?) };
        out.write_json(&crate::response::header_pairs(&s.headers))
    })
}

/// The last 401/403 challenge seen while sending, as `mcpauth_response_challenge_json`.
///
/// - `stream`: the stream.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`), or NULL when no
///   challenge was seen.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe while no read runs.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_challenge_json(
    stream: *const mcpauth_stream,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, out) = unsafe { (handle(stream, "stream")?, Out::new(out_json, "out_json")?) };
        out.write_opt_str(s.challenge_json.as_deref())
    })
}

/// How many tokens were acquired (authorizations or refreshes) while sending this request.
///
/// - `stream`: the stream.
/// - `out`: on success, the count.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe while no read runs.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_authorizations(
    stream: *const mcpauth_stream,
    out: *mut u32,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, out) = unsafe { (handle(stream, "stream")?, Out::new(out, "out")?) };
        out.write(s.authorizations);
        Ok(())
    })
}

/// Whether the body is a `text/event-stream` (read it with `mcpauth_stream_next_event`).
///
/// - `stream`: the stream.
/// - `out`: on success, true for an event stream.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe while no read runs.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_is_event_stream(
    stream: *const mcpauth_stream,
    out: *mut bool,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, out) = unsafe { (handle(stream, "stream")?, Out::new(out, "out")?) };
        out.write(s.event_stream);
        Ok(())
    })
}

/// Read the next bytes of the body into `buf`, blocking until at least one byte arrived or the
/// body ended. A short count is not the end: only `*out_len == 0` is.
///
/// Once `mcpauth_stream_next_event` has been called on the stream, bytes can no longer be read
/// (`MCPAUTH_STATUS_INVALID_ARGUMENT`): the event reader holds buffered bytes.
///
/// - `stream`: the stream.
/// - `buf`, `cap`: where to put the bytes; `cap` must not be 0.
/// - `out_len`: on success, how many bytes were written to `buf`; 0 at the end of the body.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT` (`cap` is 0, or events are being read),
/// `MCPAUTH_STATUS_TIMEOUT` (nothing arrived within the idle timeout),
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE` (past `stream_max_body_bytes`),
/// `MCPAUTH_STATUS_TRANSPORT` (the connection failed),
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Not thread-safe: one thread at a time per stream.
///
/// # Safety
/// Every pointer is NULL or valid as described above; `buf` is valid for writes of `cap`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_read(
    stream: *mut mcpauth_stream,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, out) = unsafe { (handle_mut(stream, "stream")?, Out::new(out_len, "out_len")?) };
        if buf.is_null() {
            return Err(FfiError::null("buf"));
        }
        if cap == 0 {
            return Err(FfiError::invalid("cap", "must not be 0"));
        }
        if cap > isize::MAX as usize {
            return Err(FfiError::invalid("cap", "length too large"));
        }
        let Body::Bytes(body) = &mut s.body else {
            return Err(FfiError::invalid(
                "stream",
                "its events are being read (mcpauth_stream_next_event); bytes can no longer be read",
            ));
        };
        // SAFETY: non-NULL, `cap` fits `isize`, and the caller guarantees `cap` writable bytes.
        let buf = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
        let n = loop {
            match body.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ResponseStream::error_of(e).into()),
            }
        };
        out.write(n);
        Ok(())
    })
}

/// An event as the C ABI hands it out.
#[derive(serde::Serialize)]
struct EventJson<'a> {
    event: &'a str,
    data: &'a str,
    id: Option<&'a str>,
    retry_ms: Option<u64>,
}

/// The next server-sent event of a `text/event-stream` body (WHATWG HTML §9.2.6), blocking
/// until one is complete, as JSON:
/// `{"event":"message","data":"…","id":"…"|null,"retry_ms":3000|null}` (`event` is
/// `"message"` when the event named no type; `data` joins its `data:` lines with `\n`; `id`
/// is the last event ID, what a reconnection sends as `Last-Event-ID`; `retry_ms` the
/// reconnection time last set by the stream). Bytes read before with `mcpauth_stream_read`
/// are not seen again. One event is capped at 16 MiB.
///
/// - `stream`: the stream.
/// - `out_event_json`: on success, a new string (free with `mcpauth_string_free`), or NULL at
///   the end of the stream.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_TIMEOUT` (nothing arrived within the idle timeout),
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE` (past `stream_max_body_bytes`),
/// `MCPAUTH_STATUS_INVALID_RESPONSE` (an event over the cap), `MCPAUTH_STATUS_TRANSPORT`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Not thread-safe: one thread at a time per stream.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_stream_next_event(
    stream: *mut mcpauth_stream,
    out_event_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (s, out) = unsafe {
            (
                handle_mut(stream, "stream")?,
                Out::new(out_event_json, "out_event_json")?,
            )
        };
        if let Body::Bytes(_) = s.body {
            if let Body::Bytes(body) = std::mem::replace(&mut s.body, Body::Switching) {
                s.body = Body::Events(body.events());
            }
        }
        let Body::Events(events) = &mut s.body else {
            return Err(FfiError::internal("the stream's body is not readable"));
        };
        match events.next_event().map_err(ResponseStream::error_of)? {
            Some(e) => out.write_json(&EventJson {
                event: &e.event,
                data: &e.data,
                id: e.id.as_deref(),
                retry_ms: e
                    .retry
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            }),
            None => out.write_opt_str(None),
        }
    })
}
