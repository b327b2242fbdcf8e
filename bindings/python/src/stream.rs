//! The native `StreamedResponse` (`Client.send_streamed`): the core `ResponseStream` read as it
//! arrives, as bytes (`read`, `readinto`, `iter_bytes`) or server-sent events (`events`).
//!
//! Every read blocks with the GIL released; on Python's main thread it runs through
//! `run_interruptible`, so Ctrl-C raises `KeyboardInterrupt` between 50 ms slices. The body
//! lives in a mutex shared with the read in progress: a read abandoned by Ctrl-C (or by an
//! asyncio task's cancellation) keeps it until that read returns, and then drops it (closing
//! the connection) because the stream was marked closed meanwhile.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mcp_auth::client::ResponseStream;
use mcp_auth::sse::{Event, EventReader};
use mcp_auth::{CancelToken, Error};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView, PySlice};

use crate::challenge::PyCapturedChallenge;
use crate::convert::{py_opt_repr, py_str_repr, value_to_py};
use crate::errors::{run_interruptible, to_pyerr};

/// The default chunk size of `iter_bytes` and of `read()` to the end.
const CHUNK: usize = 64 * 1024;

/// The most one `read(n)` / `readinto` returns.
const MAX_READ: usize = 4 * 1024 * 1024;

/// How the body is being read: bytes, or (once `events()` was called) events.
enum Body {
    Bytes(ResponseStream),
    Events(EventReader<ResponseStream>),
}

/// The body, shared between the Python object and the read in progress.
struct Shared {
    body: Mutex<Option<Body>>,
    closed: AtomicBool,
    /// `events()` was called: byte reads are refused (without closing the stream).
    as_events: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Option<Body>> {
        self.body.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Mark the stream closed and drop the body unless a read holds it (that read drops it
    /// when it returns: see `read_with`).
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut body) = self.body.try_lock() {
            body.take();
        }
    }
}

fn closed_error() -> Error {
    Error::invalid_argument("stream", "the response stream is closed")
}

/// The response to `Client.send_streamed`.
#[pyclass(frozen, module = "mcp_auth._native", name = "StreamedResponse")]
pub(crate) struct PyStreamedResponse {
    status: u16,
    headers: http::HeaderMap,
    challenge: Option<mcp_auth::challenge::CapturedChallenge>,
    authorizations: u32,
    event_stream: bool,
    shared: Arc<Shared>,
    /// The call's cancel token: cancelling it (or Ctrl-C) ends the reads too.
    cancel: CancelToken,
}

impl PyStreamedResponse {
    pub(crate) fn from_core(mut stream: ResponseStream, cancel: CancelToken) -> Self {
        let event_stream = stream.is_event_stream();
        PyStreamedResponse {
            status: stream.status,
            headers: std::mem::take(&mut stream.headers),
            challenge: stream.challenge.take(),
            authorizations: stream.authorizations,
            event_stream,
            shared: Arc::new(Shared {
                body: Mutex::new(Some(Body::Bytes(stream))),
                closed: AtomicBool::new(false),
                as_events: AtomicBool::new(false),
            }),
            cancel,
        }
    }

    /// Run `f` on the body with the GIL released (interruptible on the main thread). An
    /// error, a cancellation or an interrupt closes the stream.
    fn read_with<T, F>(&self, py: Python<'_>, f: F) -> PyResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Body) -> mcp_auth::Result<T> + Send + 'static,
    {
        read_with(py, &self.shared, &self.cancel, false, f)
    }
}

fn read_with<T, F>(
    py: Python<'_>,
    shared: &Arc<Shared>,
    cancel: &CancelToken,
    events: bool,
    f: F,
) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Body) -> mcp_auth::Result<T> + Send + 'static,
{
    if shared.closed.load(Ordering::SeqCst) {
        return Err(to_pyerr(py, &closed_error()));
    }
    if shared.as_events.load(Ordering::SeqCst) && !events {
        return Err(to_pyerr(
            py,
            &Error::invalid_argument(
                "stream",
                "the body is being read as events (events() was called)",
            ),
        ));
    }
    if cancel.is_cancelled() {
        shared.close();
        return Err(to_pyerr(py, &Error::Cancelled));
    }
    let worker = Arc::clone(shared);
    let token = cancel.clone();
    let result = run_interruptible(py, cancel, move || {
        let result = {
            let mut guard = worker.lock();
            let result = match guard.as_mut() {
                Some(body) if !worker.closed.load(Ordering::SeqCst) => f(body),
                _ => Err(closed_error()),
            };
            if result.is_err() || token.is_cancelled() || worker.closed.load(Ordering::SeqCst) {
                guard.take();
            }
            result
        };
        // Closed while this read held the body: whoever comes last drops it.
        if worker.closed.load(Ordering::SeqCst) {
            worker.close();
        }
        result
    });
    match result {
        Ok(v) if cancel.is_cancelled() => {
            drop(v);
            shared.close();
            Err(to_pyerr(py, &Error::Cancelled))
        }
        Ok(v) => Ok(v),
        Err(e) => {
            shared.close();
            Err(e)
        }
    }
}

/// Read up to `n` bytes (fewer when fewer have arrived; none at the end of the body).
fn read_some(body: &mut Body, n: usize) -> mcp_auth::Result<Vec<u8>> {
    let Body::Bytes(stream) = body else {
        return Err(Error::invalid_argument(
            "stream",
            "the body is being read as events (events() was called)",
        ));
    };
    // One read returns what has arrived: a buffer larger than this would only be zeroed.
    let mut buf = vec![0u8; n.min(MAX_READ)];
    let got = loop {
        match stream.read(&mut buf) {
            Ok(got) => break got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ResponseStream::error_of(e)),
        }
    };
    buf.truncate(got);
    Ok(buf)
}

fn read_to_end(body: &mut Body) -> mcp_auth::Result<Vec<u8>> {
    let Body::Bytes(stream) = body else {
        return read_some(body, 0);
    };
    let mut all = Vec::new();
    stream
        .read_to_end(&mut all)
        .map_err(ResponseStream::error_of)?;
    Ok(all)
}

fn next_event(body: &mut Body) -> mcp_auth::Result<Option<Event>> {
    let Body::Events(reader) = body else {
        return Err(Error::Internal {
            message: "events() did not switch the body to events".to_owned(),
        });
    };
    reader.next_event().map_err(ResponseStream::error_of)
}

fn chunk_size(n: isize) -> PyResult<usize> {
    usize::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("chunk_size must be positive"))
}

fn header_value(v: &http::HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

#[pymethods]
impl PyStreamedResponse {
    /// The HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }
    /// The headers, names lowercased, in order (repeated names repeated).
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        mcp_auth_bridge::header_pairs(&self.headers)
    }
    /// The first value of header `name` (case-insensitive).
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name.to_ascii_lowercase().as_str())
            .map(header_value)
    }
    /// Every value of header `name` (case-insensitive), in order.
    fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name.to_ascii_lowercase().as_str())
            .iter()
            .map(header_value)
            .collect()
    }
    /// The last 401/403 challenge seen while sending, if any.
    #[getter]
    fn challenge(&self) -> Option<PyCapturedChallenge> {
        self.challenge
            .clone()
            .map(|inner| PyCapturedChallenge { inner })
    }
    /// How many tokens were acquired for this request.
    #[getter]
    fn authorizations(&self) -> u32 {
        self.authorizations
    }
    /// Whether the body is a `text/event-stream` (read it with `events()`).
    fn is_event_stream(&self) -> bool {
        self.event_stream
    }
    /// Whether `close()` was called, an iteration reached the end, or a read failed, was
    /// cancelled or interrupted.
    #[getter]
    fn closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }
    fn readable(&self) -> bool {
        true
    }

    /// Up to `n` bytes of the body as they arrive (fewer when fewer have arrived, `b""` at
    /// the end); the rest of the body when `n` is negative.
    #[pyo3(signature = (n = -1))]
    fn read<'py>(&self, py: Python<'py>, n: isize) -> PyResult<Bound<'py, PyBytes>> {
        let data = match usize::try_from(n) {
            Ok(0) => Vec::new(),
            Ok(n) => self.read_with(py, move |b| read_some(b, n))?,
            Err(_) => self.read_with(py, read_to_end)?,
        };
        Ok(PyBytes::new(py, &data))
    }

    /// Read into a writable buffer (`bytearray`, `memoryview`, ...): the number of bytes
    /// read, 0 at the end of the body.
    fn readinto(&self, py: Python<'_>, buffer: &Bound<'_, PyAny>) -> PyResult<usize> {
        // The buffer protocol is not in the stable ABI of Python 3.10: go through memoryview.
        let view = PyMemoryView::from(buffer)?.call_method1("cast", ("B",))?;
        if view.getattr("readonly")?.extract::<bool>()? {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "readinto() needs a writable buffer",
            ));
        }
        let n = view.len()?;
        if n == 0 {
            return Ok(0);
        }
        // Read into memory of our own: an abandoned read must not write into the caller's.
        let data = self.read_with(py, move |b| read_some(b, n))?;
        let len = isize::try_from(data.len()).unwrap_or(isize::MAX);
        view.set_item(PySlice::new(py, 0, len, 1), PyBytes::new(py, &data))?;
        Ok(data.len())
    }

    /// The body in chunks of at most `chunk_size` bytes, each as soon as it has arrived.
    #[pyo3(signature = (chunk_size = 65536))]
    fn iter_bytes(&self, chunk_size: isize) -> PyResult<PyByteChunks> {
        Ok(PyByteChunks {
            shared: Arc::clone(&self.shared),
            cancel: self.cancel.clone(),
            size: self::chunk_size(chunk_size)?,
        })
    }

    fn __iter__(&self) -> PyResult<PyByteChunks> {
        self.iter_bytes(CHUNK as isize)
    }

    /// The body's server-sent events, each as soon as it is complete. From then on the body
    /// is read as events only.
    fn events(&self, py: Python<'_>) -> PyResult<PyEvents> {
        let shared = Arc::clone(&self.shared);
        shared.as_events.store(true, Ordering::SeqCst);
        let open = py.detach(move || {
            let mut guard = shared.lock();
            *guard = match guard.take() {
                Some(Body::Bytes(stream)) => Some(Body::Events(stream.events())),
                other => other,
            };
            guard.is_some() && !shared.closed.load(Ordering::SeqCst)
        });
        if !open {
            return Err(to_pyerr(py, &closed_error()));
        }
        Ok(PyEvents {
            shared: Arc::clone(&self.shared),
            cancel: self.cancel.clone(),
        })
    }

    /// End the stream: the connection is closed (at once, or when a read in progress on
    /// another thread returns). Idempotent.
    fn close(&self) {
        self.shared.close();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) {
        self.close();
    }

    fn __repr__(&self) -> String {
        format!(
            "StreamedResponse(status={}, content_type={}, authorizations={}, closed={})",
            self.status,
            py_opt_repr(
                self.headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
            ),
            self.authorizations,
            if self.closed() { "True" } else { "False" }
        )
    }
}

/// The iterator of `StreamedResponse.iter_bytes`.
#[pyclass(module = "mcp_auth._native", name = "ByteChunks")]
pub(crate) struct PyByteChunks {
    shared: Arc<Shared>,
    cancel: CancelToken,
    size: usize,
}

#[pymethods]
impl PyByteChunks {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        if self.shared.closed.load(Ordering::SeqCst) {
            // Iteration after the end, an error or close() stops.
            return Ok(None);
        }
        let size = self.size;
        let data = read_with(py, &self.shared, &self.cancel, false, move |b| {
            read_some(b, size)
        })?;
        if data.is_empty() {
            self.shared.close();
            return Ok(None);
        }
        Ok(Some(PyBytes::new(py, &data)))
    }
}

/// The iterator of `StreamedResponse.events`.
#[pyclass(module = "mcp_auth._native", name = "EventIterator")]
pub(crate) struct PyEvents {
    shared: Arc<Shared>,
    cancel: CancelToken,
}

#[pymethods]
impl PyEvents {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyServerSentEvent>> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let event = read_with(py, &self.shared, &self.cancel, true, next_event)?;
        if event.is_none() {
            self.shared.close();
        }
        Ok(event.map(|inner| PyServerSentEvent { inner }))
    }
}

/// One server-sent event (WHATWG HTML §9.2.6).
#[pyclass(frozen, module = "mcp_auth._native", name = "ServerSentEvent")]
pub(crate) struct PyServerSentEvent {
    inner: Event,
}

#[pymethods]
impl PyServerSentEvent {
    /// The event type (`"message"` when the event named none).
    #[getter]
    fn event(&self) -> &str {
        &self.inner.event
    }
    /// The `data:` lines joined with `"\n"`.
    #[getter]
    fn data(&self) -> &str {
        &self.inner.data
    }
    /// The last event ID when the event was dispatched (for `Last-Event-ID`).
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }
    /// The reconnection time the stream last set (`retry:`), in seconds.
    #[getter]
    fn retry(&self) -> Option<f64> {
        self.inner.retry.map(|d| d.as_secs_f64())
    }
    /// The data parsed as JSON (an MCP event carries one JSON-RPC message).
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v: serde_json::Value = serde_json::from_str(&self.inner.data)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("invalid JSON: {e}")))?;
        value_to_py(py, &v)
    }
    fn __repr__(&self) -> String {
        format!(
            "ServerSentEvent(event={}, data={}, id={})",
            py_str_repr(&self.inner.event),
            py_str_repr(&self.inner.data),
            py_opt_repr(self.inner.id.as_deref())
        )
    }
}
