//! The native `Client`: the core `mcp_auth::Client` with Python storage, redirect handler and
//! trace observer. Every network call releases the GIL; callbacks reattach to run.

use std::sync::Arc;

use mcp_auth::authorization::CallbackRedirect;
use mcp_auth::client::{Discovery, ProbeResult, Response};
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::secret::AccessToken;
use mcp_auth::storage::TokenStorage;
use mcp_auth::trace::{TraceEvent, TraceObserver};
use mcp_auth::{Client, ClientOptions, Error};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::challenge::PyCapturedChallenge;
use crate::convert::{py_opt_repr, py_str_repr, value_to_py};
use crate::errors::{describe, run_interruptible, set_pending, to_pyerr};
use crate::functions::bytes_of;
use crate::models::{
    PyOAuthClientInformationFull, PyOAuthClientMetadata, PyOAuthMetadata, PyOAuthToken,
    PyProtectedResourceMetadata,
};
use crate::stream::PyStreamedResponse;

// ---------------------------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------------------------

/// A Python object with the keyed storage methods (`mcp_auth._storage.adapt_storage` gives one
/// for any supported storage shape).
struct PyStorage {
    obj: Py<PyAny>,
}

impl PyStorage {
    fn call<T>(
        &self,
        method: &str,
        args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyTuple>>,
        convert: impl for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<T>,
    ) -> mcp_auth::Result<T> {
        Python::attach(|py| {
            let result = args(py)
                .and_then(|a| self.obj.bind(py).call_method1(method, a))
                .and_then(|r| convert(&r));
            result.map_err(|e| {
                let message = format!("storage.{method} raised {}", describe(py, &e));
                set_pending(e);
                Error::Storage { message }
            })
        })
    }
}

fn optional<T>(
    r: &Bound<'_, PyAny>,
    f: fn(&Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    if r.is_none() {
        Ok(None)
    } else {
        f(r).map(Some)
    }
}

impl TokenStorage for PyStorage {
    fn get_tokens(&self, resource: &str) -> mcp_auth::Result<Option<OAuthToken>> {
        let resource = resource.to_owned();
        self.call(
            "get_tokens",
            |py| pyo3::types::PyTuple::new(py, [resource]),
            |r| optional(r, PyOAuthToken::extract_core),
        )
    }

    fn set_tokens(&self, resource: &str, tokens: &OAuthToken) -> mcp_auth::Result<()> {
        let resource = resource.to_owned();
        let token = PyOAuthToken {
            inner: tokens.clone(),
        };
        self.call(
            "set_tokens",
            |py| {
                pyo3::types::PyTuple::new(
                    py,
                    [
                        resource.into_pyobject(py)?.into_any(),
                        Bound::new(py, token)?.into_any(),
                    ],
                )
            },
            |_| Ok(()),
        )
    }

    fn remove_tokens(&self, resource: &str) -> mcp_auth::Result<()> {
        let resource = resource.to_owned();
        self.call(
            "remove_tokens",
            |py| pyo3::types::PyTuple::new(py, [resource]),
            |_| Ok(()),
        )
    }

    fn get_client_info(
        &self,
        issuer: &str,
    ) -> mcp_auth::Result<Option<OAuthClientInformationFull>> {
        let issuer = issuer.to_owned();
        self.call(
            "get_client_info",
            |py| pyo3::types::PyTuple::new(py, [issuer]),
            |r| optional(r, PyOAuthClientInformationFull::extract_core),
        )
    }

    fn set_client_info(
        &self,
        issuer: &str,
        info: &OAuthClientInformationFull,
    ) -> mcp_auth::Result<()> {
        let issuer = issuer.to_owned();
        let info = PyOAuthClientInformationFull {
            inner: info.clone(),
        };
        self.call(
            "set_client_info",
            |py| {
                pyo3::types::PyTuple::new(
                    py,
                    [
                        issuer.into_pyobject(py)?.into_any(),
                        Bound::new(py, info)?.into_any(),
                    ],
                )
            },
            |_| Ok(()),
        )
    }

    /// The host object's `acquire_lease(key, owner, ttl_seconds)`, through the adapter, which
    /// answers `False` when the object has none (no cross-process lease).
    fn acquire_lease(
        &self,
        key: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> mcp_auth::Result<bool> {
        let (key, owner) = (key.to_owned(), owner.to_owned());
        self.call(
            "acquire_lease",
            |py| {
                pyo3::types::PyTuple::new(
                    py,
                    [
                        key.into_pyobject(py)?.into_any(),
                        owner.into_pyobject(py)?.into_any(),
                        ttl.as_secs_f64().into_pyobject(py)?.into_any(),
                    ],
                )
            },
            |r| r.extract::<bool>(),
        )
    }

    fn release_lease(&self, key: &str, owner: &str) -> mcp_auth::Result<()> {
        let (key, owner) = (key.to_owned(), owner.to_owned());
        self.call(
            "release_lease",
            |py| pyo3::types::PyTuple::new(py, [key, owner]),
            |_| Ok(()),
        )
    }

    fn remove_client_info(&self, issuer: &str) -> mcp_auth::Result<()> {
        let issuer = issuer.to_owned();
        // The adapter answers false for an object without a remove method: a storage error,
        // not a callback exception (the core may only note it, see `forget_if_unknown`).
        let removed = self.call(
            "remove_client_info",
            |py| pyo3::types::PyTuple::new(py, [issuer]),
            |r| Ok(r.extract::<bool>().unwrap_or(true)),
        )?;
        if removed {
            Ok(())
        } else {
            Err(Error::Storage {
                message: "the storage object cannot forget a client registration: add remove_client_info()"
                    .to_owned(),
            })
        }
    }
}

/// Calls a Python `callback(authorization_url) -> redirect URL or query`.
/// Emit a `DeprecationWarning` attributed to the Python caller (an old name kept as an alias
/// of the one Rust and C use).
fn warn_deprecated(py: Python<'_>, message: &std::ffi::CStr) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
    PyErr::warn(py, category.as_any(), message, 1)
}

fn redirect_callback(
    callback: Py<PyAny>,
) -> impl Fn(&str) -> mcp_auth::Result<String> + Send + Sync {
    move |url: &str| {
        Python::attach(|py| {
            callback
                .bind(py)
                .call1((url,))
                .and_then(|r| r.extract::<String>())
                .map_err(|e| {
                    let message = format!("redirect handler raised {}", describe(py, &e));
                    set_pending(e);
                    Error::Authorization {
                        message,
                        oauth: None,
                    }
                })
        })
    }
}

/// Calls a Python `observer(TraceEvent)`; an exception is raised after the core call returns.
struct PyObserver {
    callback: Py<PyAny>,
}

impl TraceObserver for PyObserver {
    fn on_event(&self, event: &TraceEvent) {
        Python::attach(|py| {
            let result = Bound::new(
                py,
                PyTraceEvent {
                    inner: event.clone(),
                },
            )
            .and_then(|e| self.callback.bind(py).call1((e,)));
            if let Err(e) = result {
                set_pending(e);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Result classes
// ---------------------------------------------------------------------------------------------

/// The final response of `Client.send`.
#[pyclass(frozen, module = "mcp_auth", name = "Response")]
pub(crate) struct PyResponse {
    inner: Response,
}

impl PyResponse {
    fn from_core(inner: Response) -> Self {
        PyResponse { inner }
    }

    /// The headers as `(name, value)` pairs (names lowercase, values decoded lossily).
    pub(crate) fn header_pairs(&self) -> Vec<(String, String)> {
        mcp_auth_bridge::header_pairs(&self.inner.headers)
    }
}

#[pymethods]
impl PyResponse {
    /// The HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    /// The headers, names lowercased, in order (repeated names repeated).
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.header_pairs()
    }
    /// The body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.body)
    }
    /// The body decoded as UTF-8 (invalid bytes replaced).
    #[getter]
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.inner.body).into_owned()
    }
    /// The last 401/403 challenge seen while sending, if any.
    #[getter]
    fn challenge(&self) -> Option<PyCapturedChallenge> {
        self.inner
            .challenge
            .clone()
            .map(|inner| PyCapturedChallenge { inner })
    }
    /// How many tokens were acquired for this request.
    #[getter]
    fn authorizations(&self) -> u32 {
        self.inner.authorizations
    }
    /// The first value of header `name` (case-insensitive).
    fn header(&self, name: &str) -> Option<String> {
        self.inner
            .headers
            .get(name.to_ascii_lowercase().as_str())
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }
    /// Every value of header `name` (case-insensitive), in order.
    fn header_values(&self, name: &str) -> Vec<String> {
        self.inner
            .headers
            .get_all(name.to_ascii_lowercase().as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }
    /// The body parsed as JSON.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v: serde_json::Value = serde_json::from_slice(&self.inner.body)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("invalid JSON: {e}")))?;
        value_to_py(py, &v)
    }
    /// The JSON-RPC message in the body: the JSON body itself, or the first `data:` event of
    /// a `text/event-stream` body (MCP streamable HTTP answers POSTs either way); `None` when
    /// there is none.
    fn json_message<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .json_message()
            .map(|v| value_to_py(py, &v))
            .transpose()
    }
    /// Deprecated alias of `json_message` (the name Rust and C use); emits
    /// `DeprecationWarning`.
    fn message<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        warn_deprecated(
            py,
            c"Response.message() is deprecated; use Response.json_message()",
        )?;
        self.json_message(py)
    }
    fn __repr__(&self) -> String {
        format!(
            "Response(status={}, body=<{} bytes>, authorizations={})",
            self.inner.status,
            self.inner.body.len(),
            self.inner.authorizations
        )
    }
}

/// The result of `Client.probe`: the status of an unauthenticated request and its challenge.
#[pyclass(frozen, module = "mcp_auth", name = "ProbeResult")]
pub(crate) struct PyProbeResult {
    inner: ProbeResult,
}

#[pymethods]
impl PyProbeResult {
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    #[getter]
    fn challenge(&self) -> Option<PyCapturedChallenge> {
        self.inner
            .challenge
            .clone()
            .map(|inner| PyCapturedChallenge { inner })
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &serde_json::to_value(&self.inner).unwrap_or_default())
    }
    fn __repr__(&self) -> String {
        format!(
            "ProbeResult(status={}, challenge={})",
            self.inner.status,
            match &self.inner.challenge {
                Some(c) => format!(
                    "[{}]",
                    c.www_authenticate
                        .iter()
                        .map(|v| py_str_repr(v))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "None".to_owned(),
            }
        )
    }
}

/// What discovery found: the protected resource metadata, the authorization server and its
/// metadata, and the endpoints in use.
#[pyclass(frozen, module = "mcp_auth", name = "Discovery")]
pub(crate) struct PyDiscovery {
    inner: Arc<Discovery>,
}

#[pymethods]
impl PyDiscovery {
    #[getter]
    fn protected_resource(&self) -> Option<PyProtectedResourceMetadata> {
        self.inner
            .protected_resource
            .clone()
            .map(|inner| PyProtectedResourceMetadata { inner })
    }
    #[getter]
    fn protected_resource_url(&self) -> Option<String> {
        self.inner.protected_resource_url.clone()
    }
    #[getter]
    fn authorization_server(&self) -> Option<String> {
        self.inner.authorization_server.clone()
    }
    #[getter]
    fn metadata(&self) -> Option<PyOAuthMetadata> {
        self.inner
            .metadata
            .clone()
            .map(|inner| PyOAuthMetadata { inner })
    }
    #[getter]
    fn metadata_url(&self) -> Option<String> {
        self.inner.metadata_url.clone()
    }
    #[getter]
    fn issuer(&self) -> String {
        self.inner.issuer.clone()
    }
    #[getter]
    fn authorization_endpoint(&self) -> String {
        self.inner.authorization_endpoint.clone()
    }
    #[getter]
    fn token_endpoint(&self) -> String {
        self.inner.token_endpoint.clone()
    }
    #[getter]
    fn registration_endpoint(&self) -> Option<String> {
        self.inner.registration_endpoint.clone()
    }
    #[getter]
    fn resource(&self) -> Option<String> {
        self.inner.resource.clone()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &serde_json::to_value(&*self.inner).unwrap_or_default())
    }
    fn __repr__(&self) -> String {
        format!(
            "Discovery(issuer={}, authorization_endpoint={}, token_endpoint={})",
            py_str_repr(&self.inner.issuer),
            py_str_repr(&self.inner.authorization_endpoint),
            py_str_repr(&self.inner.token_endpoint)
        )
    }
}

/// One step of the authorization flow (no secrets; URLs without query).
#[pyclass(frozen, module = "mcp_auth", name = "TraceEvent")]
pub(crate) struct PyTraceEvent {
    inner: TraceEvent,
}

#[pymethods]
impl PyTraceEvent {
    /// The step, e.g. `"protected_resource_metadata"`.
    #[getter]
    fn step(&self) -> &'static str {
        self.inner.step.name()
    }
    #[getter]
    fn method(&self) -> Option<String> {
        self.inner.method.clone()
    }
    #[getter]
    fn url(&self) -> Option<String> {
        self.inner.url.clone()
    }
    #[getter]
    fn status(&self) -> Option<u16> {
        self.inner.status
    }
    /// Seconds spent in the step.
    #[getter]
    fn duration(&self) -> f64 {
        self.inner.duration.as_secs_f64()
    }
    /// `"ok"`, `"fallback"` or `"failed"`.
    #[getter]
    fn outcome(&self) -> String {
        serde_json::to_value(self.inner.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
    #[getter]
    fn detail(&self) -> String {
        self.inner.detail.clone()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &serde_json::to_value(&self.inner).unwrap_or_default())
    }
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    fn __repr__(&self) -> String {
        format!(
            "TraceEvent(step={}, method={}, url={}, status={}, outcome={}, detail={})",
            py_str_repr(self.step()),
            py_opt_repr(self.inner.method.as_deref()),
            py_opt_repr(self.inner.url.as_deref()),
            self.inner
                .status
                .map_or_else(|| "None".to_owned(), |s| s.to_string()),
            py_str_repr(&self.outcome()),
            py_str_repr(&self.inner.detail)
        )
    }
}

/// A handle that cancels one call (`mcp_auth::CancelToken::scope`): pass it as `cancel=` to a
/// `Client` method, and call `cancel()` from anywhere (another thread, an asyncio task's
/// cancellation). One-shot: once cancelled, every call given it raises `CancelledError`.
#[pyclass(frozen, module = "mcp_auth._native", name = "CancelToken")]
#[derive(Default)]
pub(crate) struct PyCancelToken {
    inner: mcp_auth::CancelToken,
}

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        Self::default()
    }
    /// Cancel the calls given this token (thread-safe, returns at once).
    fn cancel(&self) {
        self.inner.cancel();
    }
    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
    fn __repr__(&self) -> String {
        format!("CancelToken(cancelled={})", self.cancelled())
    }
}

/// What `Client.logout` did at the authorization server (RFC 7009). The tokens are forgotten
/// locally in every case.
#[pyclass(frozen, module = "mcp_auth._native", name = "Revocation")]
pub(crate) struct PyRevocation {
    inner: mcp_auth::Revocation,
}

#[pymethods]
impl PyRevocation {
    /// `"revoked"`, `"no_tokens"`, `"unsupported"` or `"failed"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.name()
    }
    /// Why the revocation failed (no secrets), for `"failed"`.
    #[getter]
    fn reason(&self) -> Option<String> {
        match &self.inner {
            mcp_auth::Revocation::Failed { reason } => Some(reason.clone()),
            _ => None,
        }
    }
    /// Whether the authorization server confirmed the revocation.
    #[getter]
    fn confirmed(&self) -> bool {
        self.inner.confirmed()
    }
    fn __bool__(&self) -> bool {
        self.confirmed()
    }
    fn __repr__(&self) -> String {
        match self.reason() {
            Some(r) => format!(
                "Revocation(status={}, reason={})",
                py_str_repr(self.status()),
                py_str_repr(&r)
            ),
            None => format!("Revocation(status={})", py_str_repr(self.status())),
        }
    }
}

/// Calls a Python `on_authorization_url(url, browser_opened)`; an exception is raised after
/// the core call returns.
fn url_callback(callback: Py<PyAny>) -> mcp_auth::authorization::UrlHandler {
    Arc::new(move |url: &str, opened: bool| {
        Python::attach(|py| {
            if let Err(e) = callback.bind(py).call1((url, opened)) {
                set_pending(e);
            }
        });
    })
}

/// Calls a Python `on_device_code(info)` with a dict (`verification_uri`,
/// `verification_uri_complete` or None, `user_code`, `expires_in`); an exception is raised
/// after the core call returns.
fn device_code_callback(callback: Py<PyAny>) -> mcp_auth::device::ShowCode {
    Arc::new(move |info: &mcp_auth::device::DeviceAuthorization| {
        Python::attach(|py| {
            let call = || -> PyResult<()> {
                let d = pyo3::types::PyDict::new(py);
                d.set_item("verification_uri", &info.verification_uri)?;
                d.set_item(
                    "verification_uri_complete",
                    info.verification_uri_complete.as_deref(),
                )?;
                d.set_item("user_code", &info.user_code)?;
                d.set_item("expires_in", info.expires_in)?;
                callback.bind(py).call1((d,))?;
                Ok(())
            };
            if let Err(e) = call() {
                set_pending(e);
            }
        });
    })
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// An `http::Request` from the arguments of `send`.
fn build_request(
    py: Python<'_>,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&Bound<'_, PyAny>>,
) -> PyResult<http::Request<Vec<u8>>> {
    let body = match body {
        Some(b) if !b.is_none() => bytes_of(b)?,
        _ => Vec::new(),
    };
    let mut b = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(body)
        .map_err(|e| to_pyerr(py, &Error::invalid_argument("request", e.to_string())))
}

/// The MCP authorization client over one MCP server (thread-safe; share it).
#[pyclass(frozen, module = "mcp_auth._native", name = "Client")]
pub(crate) struct PyClient {
    inner: Client,
}

impl PyClient {
    /// Run `f` on this client as one call with a cancel token of its own (the given one, or a
    /// new one that Ctrl-C cancels): see `run_interruptible`.
    fn call<T, F>(
        &self,
        py: Python<'_>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
        f: F,
    ) -> PyResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Client) -> mcp_auth::Result<T> + Send + 'static,
    {
        let token = cancel.map(|c| c.inner.clone()).unwrap_or_default();
        let scope = token.clone();
        let client = self.inner.clone();
        run_interruptible(py, &token, move || scope.scope(|| f(&client)))
    }
}

#[pymethods]
impl PyClient {
    /// Build a client from the core's JSON options; the callbacks replace the storage,
    /// redirect handler and observer the options name.
    #[new]
    #[pyo3(signature = (options_json, *, storage = None, redirect_handler = None, redirect_uri = None, observer = None, client_metadata = None, on_authorization_url = None, on_device_code = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        options_json: &str,
        storage: Option<Py<PyAny>>,
        redirect_handler: Option<Py<PyAny>>,
        redirect_uri: Option<String>,
        observer: Option<Py<PyAny>>,
        client_metadata: Option<&Bound<'_, PyAny>>,
        on_authorization_url: Option<Py<PyAny>>,
        on_device_code: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let err = |e: Error| to_pyerr(py, &e);
        let options = ClientOptions::from_json(options_json).map_err(err)?;
        let mut builder = options
            .builder_with_display(mcp_auth::options::HostDisplay {
                on_url: on_authorization_url.map(url_callback),
                on_device_code: on_device_code.map(device_code_callback),
            })
            .map_err(err)?;
        if let Some(md) = client_metadata.filter(|m| !m.is_none()) {
            builder = builder.client_metadata(PyOAuthClientMetadata::extract_core(md)?);
        }
        // A Python storage object replaces the one the options name; the options' own storage
        // is already on the builder otherwise.
        if let Some(obj) = storage {
            builder = builder.storage(Arc::new(PyStorage { obj }));
        }
        if let Some(r) = redirect_handler {
            builder = builder.redirect_handler(Arc::new(CallbackRedirect::new(
                redirect_uri,
                redirect_callback(r),
            )));
        }
        if let Some(o) = observer {
            builder = builder.observer(Arc::new(PyObserver { callback: o }));
        }
        let inner = builder.build().map_err(err)?;
        Ok(PyClient { inner })
    }

    /// The MCP server URL.
    #[getter]
    fn server_url(&self) -> String {
        self.inner.config().server_url.clone()
    }

    /// The storage key of this server's tokens (its canonical resource URL).
    #[getter]
    fn resource_key(&self) -> String {
        self.inner.resource_key().to_owned()
    }

    /// The redirect URI in use.
    #[getter]
    fn redirect_uri(&self) -> String {
        self.inner.redirect_uri().to_owned()
    }

    /// How many tokens one request may acquire before the client gives up.
    #[getter]
    fn max_authorizations(&self) -> u32 {
        self.inner.config().max_authorizations
    }

    /// Send a request with the bearer token, running the authorization flow on 401 and on a
    /// 403 `insufficient_scope` step-up, then retrying.
    #[pyo3(signature = (method, url, headers = Vec::new(), body = None, *, cancel = None))]
    fn send(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<&Bound<'_, PyAny>>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<PyResponse> {
        let request = build_request(py, method, url, &headers, body)?;
        self.call(py, cancel, move |c| c.send(request))
            .map(PyResponse::from_core)
    }

    /// `send`, returning once the final response's head has arrived, with the body to be read
    /// as it comes (MCP limits: no cap unless configured, the idle timeout between reads).
    #[pyo3(signature = (method, url, headers = Vec::new(), body = None, *, cancel = None))]
    fn send_streamed(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<&Bound<'_, PyAny>>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<PyStreamedResponse> {
        let request = build_request(py, method, url, &headers, body)?;
        // The stream keeps the call's token: cancelling it (or Ctrl-C) ends the reads too.
        let token = cancel.map(|c| c.inner.clone()).unwrap_or_default();
        let (scope, client) = (token.clone(), self.inner.clone());
        run_interruptible(py, &token, move || {
            scope.scope(|| client.send_streamed(request))
        })
        .map(|stream| PyStreamedResponse::from_core(stream, token))
    }

    /// POST a JSON-RPC message to the MCP endpoint through `send`.
    #[pyo3(signature = (body, *, cancel = None))]
    fn post_json(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<PyResponse> {
        let body = bytes_of(body)?;
        self.call(py, cancel, move |c| c.post_json(body))
            .map(PyResponse::from_core)
    }

    /// One unauthenticated `initialize` POST: the status and the challenge.
    #[pyo3(signature = (*, cancel = None))]
    fn probe(
        &self,
        py: Python<'_>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<PyProbeResult> {
        self.call(py, cancel, |c| c.probe())
            .map(|inner| PyProbeResult { inner })
    }

    /// Run discovery (PRM, then AS metadata).
    #[pyo3(signature = (*, cancel = None))]
    fn discover(
        &self,
        py: Python<'_>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<PyDiscovery> {
        self.call(py, cancel, |c| c.discover())
            .map(|inner| PyDiscovery { inner })
    }

    /// A valid access token, refreshing or authorizing if needed.
    #[pyo3(signature = (*, cancel = None))]
    fn access_token(
        &self,
        py: Python<'_>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<String> {
        self.call(py, cancel, |c| {
            c.access_token().map(|t| t.secret().to_owned())
        })
    }

    /// The token to attach to a request the host sends itself (loaded from storage, refreshed
    /// when about to expire, one refresh for all threads), or `None`; never authorizes.
    #[pyo3(signature = (*, cancel = None))]
    fn current_token(
        &self,
        py: Python<'_>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<Option<String>> {
        self.call(py, cancel, |c| {
            c.current_token().map(|t| t.map(|t| t.secret().to_owned()))
        })
    }

    /// Hand the client a 401/403 that `rejected_token` (or no token) received: the client
    /// refreshes, authorizes or steps up as `send` would (single flight across threads), and
    /// returns the token to retry with, or `None` when the answer is final (a 403 without
    /// `insufficient_scope`).
    #[pyo3(signature = (status, www_authenticate, rejected_token = None, *, cancel = None))]
    fn authorize_after(
        &self,
        py: Python<'_>,
        status: u16,
        www_authenticate: Vec<String>,
        rejected_token: Option<String>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<Option<String>> {
        let rejected = rejected_token.map(AccessToken::new);
        self.call(py, cancel, move |c| {
            c.authorize_after(status, &www_authenticate, rejected.as_ref())
                .map(|t| t.map(|t| t.secret().to_owned()))
        })
    }

    /// The headers that authorize `method url` with `token` as `send` would: `Authorization:
    /// Bearer`, or `Authorization: DPoP` plus a fresh `DPoP` proof for a DPoP-bound token.
    fn authorization_headers(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        token: String,
    ) -> PyResult<Vec<(String, String)>> {
        let token = AccessToken::new(token);
        self.inner
            .authorization_headers(method, url, &token)
            .map_err(|e| to_pyerr(py, &e))
    }

    /// Whether a refusal demands a DPoP nonce (RFC 9449 §9: 401, `DPoP error="use_dpop_nonce"`,
    /// the nonce from `DPoP-Nonce`): `True` when it does, a DPoP-bound token is held and the
    /// nonce is new; then send the same request again with fresh `authorization_headers`.
    #[pyo3(signature = (status, www_authenticate, dpop_nonce))]
    fn accept_dpop_nonce(
        &self,
        status: u16,
        www_authenticate: Vec<String>,
        dpop_nonce: Option<String>,
    ) -> bool {
        self.inner
            .accept_dpop_nonce(status, &www_authenticate, dpop_nonce.as_deref())
    }

    /// Cancel every call in progress on this client (from another thread, a signal handler, a
    /// task's cancellation): each raises `CancelledError` promptly. Later calls run normally.
    fn cancel(&self) {
        self.inner.cancel();
    }

    /// Deprecated alias of `authorize_after` (the name Rust and C use); emits
    /// `DeprecationWarning`.
    #[pyo3(signature = (status, www_authenticate, rejected_token = None))]
    fn reauthorize(
        &self,
        py: Python<'_>,
        status: u16,
        www_authenticate: Vec<String>,
        rejected_token: Option<String>,
    ) -> PyResult<Option<String>> {
        warn_deprecated(
            py,
            c"Client.reauthorize() is deprecated; use Client.authorize_after()",
        )?;
        self.authorize_after(py, status, www_authenticate, rejected_token, None)
    }

    /// The current token's scope, if a token is held.
    fn granted_scope(&self) -> Option<String> {
        self.inner.granted_scope()
    }

    /// Revoke this server's tokens at the authorization server (RFC 7009) and forget them
    /// (memory and storage) whatever the outcome; registrations are kept.
    #[pyo3(signature = (*, cancel = None))]
    fn logout(
        &self,
        py: Python<'_>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<PyRevocation> {
        self.call(py, cancel, |c| c.logout())
            .map(|inner| PyRevocation { inner })
    }

    /// Forget the client registration for this server's authorization server (memory and
    /// storage); returns the issuer.
    #[pyo3(signature = (*, cancel = None))]
    fn forget_client(
        &self,
        py: Python<'_>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<String> {
        self.call(py, cancel, |c| c.forget_client())
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(server_url={})",
            py_str_repr(&self.inner.config().server_url)
        )
    }
}
