//! `mcp_auth::Error` → the Python exceptions of `mcp_auth._errors` (one class per
//! `ErrorKind`, looked up by `ErrorKind::name()`), and the errors raised by Python callbacks.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mcp_auth::{Error, ErrorKind};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use crate::challenge::PyCapturedChallenge;

static BY_KIND: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Bound<'_, PyDict>> {
    BY_KIND
        .get_or_try_init(py, || {
            let module = py.import("mcp_auth._errors")?;
            Ok::<_, PyErr>(module.getattr("_BY_KIND")?.cast_into::<PyDict>()?.unbind())
        })
        .map(|d| d.bind(py))
}

/// The exception class for `kind` (the base `McpAuthError` for a kind this package does not
/// know yet: `ErrorKind` is non-exhaustive).
pub(crate) fn class_for<'py>(py: Python<'py>, kind: &str) -> PyResult<Bound<'py, PyAny>> {
    let by_kind = classes(py)?;
    match by_kind.get_item(kind)? {
        Some(c) => Ok(c),
        None => py.import("mcp_auth._errors")?.getattr("McpAuthError"),
    }
}

thread_local! {
    /// The exception a Python callback (storage, redirect handler, observer) raised during the
    /// core call running on this thread. Core calls are synchronous, so callbacks run on the
    /// thread that released the GIL.
    static PENDING: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Remember the first exception a callback raised on this thread.
pub(crate) fn set_pending(err: PyErr) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            *p = Some(err);
        }
    });
}

fn take_pending() -> Option<PyErr> {
    PENDING.with(|p| p.borrow_mut().take())
}

/// A one-line description of a Python exception: `ValueError: boom`.
pub(crate) fn describe(py: Python<'_>, err: &PyErr) -> String {
    let name = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".to_owned());
    let text = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    if text.is_empty() {
        name
    } else {
        format!("{name}: {text}")
    }
}

/// Run a core call with the GIL released, catching panics, and translate the outcome: a core
/// error becomes its exception class (with the callback's exception as `__cause__`), a
/// `KeyboardInterrupt`/`SystemExit` raised in a callback is re-raised as is, and an exception
/// raised by the trace observer on a successful call is raised as `McpAuthError`.
pub(crate) fn run<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> mcp_auth::Result<T> + Send,
{
    drop(take_pending());
    let result = py.detach(|| guarded(f));
    let pending = take_pending();
    translate(py, result, pending)
}

/// [`run`] for a call that a signal may interrupt: on Python's main thread the call runs on a
/// worker thread while this thread waits in 50 ms slices with the GIL released, running the
/// signal handlers between slices. When a handler raises (Ctrl-C: `KeyboardInterrupt`), the
/// client's calls in progress are cancelled (`cancel`) and the exception is raised at once;
/// the worker ends at its next cancellation checkpoint (an HTTP request on the wire or a Python
/// redirect callback finish first). Elsewhere (signals only reach the main thread) it is
/// [`run`].
pub(crate) fn run_interruptible<T, F>(
    py: Python<'_>,
    cancel: &mcp_auth::CancelToken,
    f: F,
) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> mcp_auth::Result<T> + Send + 'static,
{
    if !on_main_thread(py) {
        return run(py, f);
    }
    drop(take_pending());
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = workers::run(Box::new(move || {
        let result = guarded(f);
        // Callbacks ran on this thread: hand their exception over with the result.
        let _ = tx.send((result, take_pending()));
    }));
    if let Err(e) = spawned {
        return Err(to_pyerr(
            py,
            &Error::Internal {
                message: format!("cannot start a thread for the call: {e}"),
            },
        ));
    }
    let mut rx = rx;
    loop {
        // The receiver is not `Sync`: move it into the GIL-free closure and back.
        let (received, back) = py.detach(move || {
            let r = rx.recv_timeout(std::time::Duration::from_millis(50));
            (r, rx)
        });
        rx = back;
        match received {
            Ok((result, pending)) => return translate(py, result, pending),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    cancel.cancel();
                    return Err(interrupt);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(to_pyerr(
                    py,
                    &Error::Internal {
                        message: "the call's thread ended without a result".to_owned(),
                    },
                ));
            }
        }
    }
}

/// The worker threads that run main-thread calls: kept between calls (spawning a thread per
/// call cost about 50 µs), one per call in progress (a call abandoned on Ctrl-C keeps its
/// worker until it reaches its next checkpoint), idle ones exiting after a minute.
mod workers {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
    use std::time::Duration;

    pub(super) type Job = Box<dyn FnOnce() + Send>;

    /// The idle workers, by id. A job is handed over with this lock held, and a worker leaves
    /// the list (and drops its receiver) with it held too, so a job is never sent to a worker
    /// that is exiting.
    static IDLE: Mutex<Vec<(u64, Sender<Job>)>> = Mutex::new(Vec::new());
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);

    fn idle() -> std::sync::MutexGuard<'static, Vec<(u64, Sender<Job>)>> {
        IDLE.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `job` on an idle worker, or on a new one.
    pub(super) fn run(job: Job) -> std::io::Result<()> {
        let mut job = job;
        {
            let mut list = idle();
            while let Some((_, worker)) = list.pop() {
                match worker.send(job) {
                    Ok(()) => return Ok(()),
                    Err(back) => job = back.0,
                }
            }
        }
        let (tx, rx) = channel::<Job>();
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        std::thread::Builder::new()
            .name("mcp-auth-call".to_owned())
            .spawn(move || {
                job();
                serve(id, tx, rx);
            })
            .map(drop)
    }

    fn serve(id: u64, tx: Sender<Job>, rx: Receiver<Job>) {
        loop {
            idle().push((id, tx.clone()));
            let job = match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    let mut list = idle();
                    list.retain(|(w, _)| *w != id);
                    // A job handed over before this worker left the list (under the lock)
                    // is still run; none can be handed over afterwards.
                    match rx.try_recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            job();
        }
    }
}

/// Whether this is Python's main thread (the one signal handlers run on).
/// The main thread's identifier (`threading.main_thread().ident`), read once at import
/// ([`record_main_thread`]).
static MAIN_THREAD: std::sync::OnceLock<std::ffi::c_ulong> = std::sync::OnceLock::new();

/// Remember which thread is the main one (module init). Later checks then run no Python code,
/// so a signal arriving during the check cannot be swallowed.
pub(crate) fn record_main_thread(py: Python<'_>) -> PyResult<()> {
    let ident: std::ffi::c_ulong = py
        .import("threading")?
        .call_method0("main_thread")?
        .getattr("ident")?
        .extract()?;
    let _ = MAIN_THREAD.set(ident);
    Ok(())
}

fn on_main_thread(_py: Python<'_>) -> bool {
    // SAFETY: a plain query of the calling thread's identifier (the stable ABI's
    // `PyThread_get_thread_ident`, which `threading.get_ident` returns), valid on any thread.
    let current = unsafe { pyo3::ffi::PyThread_get_thread_ident() };
    MAIN_THREAD.get().is_some_and(|main| *main == current)
}

/// Run `f`, turning a panic into [`Error::Internal`].
fn guarded<T>(f: impl FnOnce() -> mcp_auth::Result<T>) -> mcp_auth::Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        Err(Error::Internal {
            message: format!("panic in the Rust core: {message}"),
        })
    })
}

fn translate<T>(
    py: Python<'_>,
    result: mcp_auth::Result<T>,
    pending: Option<PyErr>,
) -> PyResult<T> {
    if let Some(p) = &pending {
        if !p.is_instance_of::<PyException>(py) {
            // KeyboardInterrupt, SystemExit, GeneratorExit: not ours to wrap.
            return Err(pending.unwrap_or_else(|| unreachable!()));
        }
    }
    match result {
        Ok(v) => match pending {
            None => Ok(v),
            Some(cause) => {
                let err = new_error(
                    py,
                    "callback",
                    &format!("a callback raised {}", describe(py, &cause)),
                )?;
                err.set_cause(py, Some(cause));
                Err(err)
            }
        },
        Err(e) => {
            let err = to_pyerr(py, &e);
            if let Some(cause) = pending {
                err.set_cause(py, Some(cause));
            }
            Err(err)
        }
    }
}

/// An exception of the class registered for `kind` with `message`.
pub(crate) fn new_error(py: Python<'_>, kind: &str, message: &str) -> PyResult<PyErr> {
    let cls = class_for(py, kind)?;
    let value = cls.call1((message,))?;
    Ok(PyErr::from_value(value))
}

/// The Python exception for a core error, carrying its structured fields as attributes:
/// `kind`, `code`, `error`, `error_description`, `error_uri`, `status`, `check`,
/// `www_authenticate` and `challenge`.
pub(crate) fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    build(py, e).unwrap_or_else(|err| err)
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let kind: ErrorKind = e.kind();
    let cls = class_for(py, kind.name())?;
    let value = cls.call1((e.to_string(),))?;
    value.setattr("kind", kind.name())?;
    value.setattr("code", kind.code())?;
    let oauth = e.oauth_error();
    value.setattr("error", oauth.map(|o| o.error.clone()))?;
    value.setattr(
        "error_description",
        oauth.and_then(|o| o.error_description.clone()),
    )?;
    value.setattr("error_uri", oauth.and_then(|o| o.error_uri.clone()))?;
    value.setattr("status", e.http_status())?;
    value.setattr("check", e.check().map(|c| c.name()))?;
    let www = e.www_authenticate();
    value.setattr("www_authenticate", PyList::new(py, www)?)?;
    let challenge = match (e.http_status(), www.is_empty()) {
        (Some(status), false) => Some(Py::new(
            py,
            PyCapturedChallenge::from_values(status, www.to_vec()),
        )?),
        _ => None,
    };
    value.setattr("challenge", challenge)?;
    Ok(PyErr::from_value(value))
}

/// The table the Python exception classes are checked against: `(name, code, reference name)`
/// for every `ErrorKind`.
pub(crate) fn error_kinds() -> Vec<(&'static str, u16, Option<&'static str>)> {
    ErrorKind::ALL
        .iter()
        .map(|k| (k.name(), k.code(), k.reference_name()))
        .collect()
}
