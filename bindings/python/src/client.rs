//! The native `Client`: the core `mcp_auth::Client` with Python storage, redirect handler and
//! trace observer. Every network call releases the GIL; callbacks reattach to run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mcp_auth::authorization::CallbackRedirect;
use mcp_auth::client::{Discovery, ProbeResult, Response};
use mcp_auth::http::{HttpClient, UreqHttpClient};
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::options::StorageOptions;
use mcp_auth::storage::{FileStorage, MemoryStorage, TokenStorage};
use mcp_auth::trace::{TraceEvent, TraceObserver};
use mcp_auth::{Client, ClientOptions, Error};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::challenge::PyCapturedChallenge;
use crate::convert::{py_opt_repr, py_str_repr, value_to_py};
use crate::errors::{describe, run, set_pending, to_pyerr};
use crate::functions::bytes_of;
use crate::models::{
    PyOAuthClientInformationFull, PyOAuthClientMetadata, PyOAuthMetadata, PyOAuthToken,
    PyProtectedResourceMetadata,
};

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
}

/// Calls a Python `callback(authorization_url) -> redirect URL or query`.
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

thread_local! {
    /// Set while this thread runs a synthetic exchange (see [`Intercept`]): its MCP request
    /// events describe replies that never went over the network and are not reported.
    static IN_SYNTHETIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Calls a Python `observer(TraceEvent)`; an exception is raised after the core call returns.
struct PyObserver {
    callback: Py<PyAny>,
}

impl TraceObserver for PyObserver {
    fn on_event(&self, event: &TraceEvent) {
        if event.step == mcp_auth::trace::Step::McpRequest && IN_SYNTHETIC.with(|f| f.get()) {
            return;
        }
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
// Synthetic exchanges: "authorize after this challenge" through `Client::send`
// ---------------------------------------------------------------------------------------------

/// The header that marks a request as answered here, never sent.
const SYNTHETIC: &str = "x-mcp-auth-python-synthetic";

enum Mode {
    /// Answer `status` + `WWW-Authenticate` to the request carrying the rejected
    /// `Authorization` value (or none), 200 to any other.
    Challenge {
        status: u16,
        www_authenticate: Vec<String>,
        rejected: Option<String>,
    },
    /// Answer 200 to anything: reads the token the client would send.
    Pass,
}

struct Slot {
    mode: Mode,
    /// The `Authorization` value of the request answered 200.
    seen: Option<Option<String>>,
}

/// The HTTP client of a binding `Client`: the core's ureq client, except for requests marked
/// [`SYNTHETIC`], which replay a response the caller's own HTTP stack received. This lets a
/// host that sends MCP requests itself (an httpx `Auth`) hand the core a 401/403 and get the
/// core's own decision (refresh, re-authorize, step-up union, give up), with no core change.
struct Intercept {
    inner: UreqHttpClient,
    slots: Mutex<HashMap<u64, Slot>>,
    next: AtomicU64,
}

impl Intercept {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, mode: Mode) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, Slot { mode, seen: None });
        id
    }

    fn finish(&self, id: u64) -> Option<Option<String>> {
        self.lock().remove(&id).and_then(|s| s.seen)
    }
}

impl HttpClient for Intercept {
    fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> mcp_auth::Result<http::Response<Vec<u8>>> {
        let id = request
            .headers()
            .get(SYNTHETIC)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse::<u64>().ok());
        let Some(id) = id else {
            return self.inner.execute(request);
        };
        let auth = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut slots = self.lock();
        let Some(slot) = slots.get_mut(&id) else {
            drop(slots);
            return self.inner.execute(request);
        };
        let internal = |e: http::Error| Error::Internal {
            message: e.to_string(),
        };
        match &slot.mode {
            Mode::Challenge {
                status,
                www_authenticate,
                rejected,
            } if auth == *rejected => {
                let mut b = http::Response::builder().status(*status);
                for v in www_authenticate {
                    if let Ok(value) = http::HeaderValue::from_bytes(v.as_bytes()) {
                        b = b.header(http::header::WWW_AUTHENTICATE, value);
                    }
                }
                b.body(Vec::new()).map_err(internal)
            }
            _ => {
                slot.seen = Some(auth);
                http::Response::builder()
                    .status(200)
                    .body(Vec::new())
                    .map_err(internal)
            }
        }
    }
}

fn bearer_value(authorization: Option<String>) -> Option<String> {
    authorization.map(|a| match a.split_once(' ') {
        Some((_, token)) => token.to_owned(),
        None => a,
    })
}

// ---------------------------------------------------------------------------------------------
// Result classes
// ---------------------------------------------------------------------------------------------

/// The final response of `Client.send`.
#[pyclass(frozen, module = "mcp_auth", name = "Response")]
pub(crate) struct PyResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    challenge: Option<PyCapturedChallenge>,
    authorizations: u32,
}

impl PyResponse {
    fn from_core(r: Response) -> Self {
        PyResponse {
            status: r.status,
            headers: r
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: r.body,
            challenge: r.challenge.map(|inner| PyCapturedChallenge { inner }),
            authorizations: r.authorizations,
        }
    }
}

#[pymethods]
impl PyResponse {
    /// The HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }
    /// The headers, names lowercased, in order (repeated names repeated).
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.headers.clone()
    }
    /// The body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.body)
    }
    /// The body decoded as UTF-8 (invalid bytes replaced).
    #[getter]
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The last 401/403 challenge seen while sending, if any.
    #[getter]
    fn challenge(&self) -> Option<PyCapturedChallenge> {
        self.challenge.clone()
    }
    /// How many tokens were acquired for this request.
    #[getter]
    fn authorizations(&self) -> u32 {
        self.authorizations
    }
    /// The first value of header `name` (case-insensitive).
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
    /// The body parsed as JSON.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v: serde_json::Value = serde_json::from_slice(&self.body)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("invalid JSON: {e}")))?;
        value_to_py(py, &v)
    }
    fn __repr__(&self) -> String {
        format!(
            "Response(status={}, body=<{} bytes>, authorizations={})",
            self.status,
            self.body.len(),
            self.authorizations
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

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// The MCP authorization client over one MCP server (thread-safe; share it).
#[pyclass(frozen, module = "mcp_auth._native", name = "Client")]
pub(crate) struct PyClient {
    inner: Client,
    intercept: Arc<Intercept>,
    storage: Arc<dyn TokenStorage>,
    /// Whether the core holds a discovery result (see [`PyClient::prime`]).
    discovered: AtomicBool,
}

#[pymethods]
impl PyClient {
    /// Build a client from the core's JSON options; the callbacks replace the storage,
    /// redirect handler and observer the options name.
    #[new]
    #[pyo3(signature = (options_json, *, storage = None, redirect_handler = None, redirect_uri = None, observer = None, client_metadata = None))]
    fn new(
        py: Python<'_>,
        options_json: &str,
        storage: Option<Py<PyAny>>,
        redirect_handler: Option<Py<PyAny>>,
        redirect_uri: Option<String>,
        observer: Option<Py<PyAny>>,
        client_metadata: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let err = |e: Error| to_pyerr(py, &e);
        let options = ClientOptions::from_json(options_json).map_err(err)?;
        let mut builder = options.builder().map_err(err)?;
        if let Some(md) = client_metadata.filter(|m| !m.is_none()) {
            builder = builder.client_metadata(PyOAuthClientMetadata::extract_core(md)?);
        }
        let mut http_config = None;
        builder = builder.config(|c| http_config = Some(c.http.clone()));
        let intercept = Arc::new(Intercept {
            inner: UreqHttpClient::new(http_config.unwrap_or_default()),
            slots: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        });
        builder = builder.http_client(intercept.clone());
        let storage: Arc<dyn TokenStorage> = match storage {
            Some(obj) => Arc::new(PyStorage { obj }),
            None => match &options.storage {
                StorageOptions::Memory => Arc::new(MemoryStorage::new()),
                StorageOptions::File { path } => {
                    let path = path
                        .clone()
                        .map(std::path::PathBuf::from)
                        .or_else(FileStorage::default_path)
                        .ok_or_else(|| {
                            err(Error::invalid_argument(
                                "storage",
                                "no path given and no home directory to default to",
                            ))
                        })?;
                    Arc::new(FileStorage::new(path))
                }
            },
        };
        builder = builder.storage(storage.clone());
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
        Ok(PyClient {
            inner,
            intercept,
            storage,
            discovered: AtomicBool::new(false),
        })
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

    /// Send a request with the bearer token, running the authorization flow on 401 and on a
    /// 403 `insufficient_scope` step-up, then retrying.
    #[pyo3(signature = (method, url, headers = Vec::new(), body = None))]
    fn send(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyResponse> {
        let body = match body {
            Some(b) if !b.is_none() => bytes_of(b)?,
            _ => Vec::new(),
        };
        let mut b = http::Request::builder().method(method).uri(url);
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case(SYNTHETIC) {
                continue;
            }
            b = b.header(k.as_str(), v.as_str());
        }
        let request = b
            .body(body)
            .map_err(|e| to_pyerr(py, &Error::invalid_argument("request", e.to_string())))?;
        self.prime(py)?;
        let client = self.inner.clone();
        run(py, move || client.send(request)).map(PyResponse::from_core)
    }

    /// POST a JSON-RPC message to the MCP endpoint through `send`.
    fn post_json(&self, py: Python<'_>, body: &Bound<'_, PyAny>) -> PyResult<PyResponse> {
        let body = bytes_of(body)?;
        self.prime(py)?;
        let client = self.inner.clone();
        run(py, move || client.post_json(body)).map(PyResponse::from_core)
    }

    /// One unauthenticated `initialize` POST: the status and the challenge.
    fn probe(&self, py: Python<'_>) -> PyResult<PyProbeResult> {
        let client = self.inner.clone();
        run(py, move || client.probe()).map(|inner| PyProbeResult { inner })
    }

    /// Run discovery (PRM, then AS metadata).
    fn discover(&self, py: Python<'_>) -> PyResult<PyDiscovery> {
        let client = self.inner.clone();
        let d = run(py, move || client.discover()).map(|inner| PyDiscovery { inner })?;
        self.discovered.store(true, Ordering::Relaxed);
        Ok(d)
    }

    /// A valid access token, refreshing or authorizing if needed.
    fn access_token(&self, py: Python<'_>) -> PyResult<String> {
        self.prime(py)?;
        let client = self.inner.clone();
        run(py, move || {
            client.access_token().map(|t| t.secret().to_owned())
        })
    }

    /// The token the client would send now (loaded from storage, refreshed when about to
    /// expire), or `None`; never authorizes.
    fn current_token(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.prime(py)?;
        let id = self.intercept.register(Mode::Pass);
        let result = self.synthetic(py, id);
        let seen = self.intercept.finish(id);
        result?;
        Ok(bearer_value(seen.flatten()))
    }

    /// Hand the client a 401/403 that `rejected_token` (or no token) received: the client
    /// refreshes, authorizes or steps up as the core decides, and returns the token to retry
    /// with, or `None` when the answer is final (a 403 without `insufficient_scope`).
    #[pyo3(signature = (status, www_authenticate, rejected_token = None))]
    fn reauthorize(
        &self,
        py: Python<'_>,
        status: u16,
        www_authenticate: Vec<String>,
        rejected_token: Option<String>,
    ) -> PyResult<Option<String>> {
        self.prime(py)?;
        let id = self.intercept.register(Mode::Challenge {
            status,
            www_authenticate,
            rejected: rejected_token.map(|t| format!("Bearer {t}")),
        });
        let result = self.synthetic(py, id);
        let seen = self.intercept.finish(id);
        let status = result?;
        if status != 200 {
            return Ok(None);
        }
        // A token was obtained or kept after a challenge: discovery has run.
        self.discovered.store(true, Ordering::Relaxed);
        Ok(bearer_value(seen.flatten()))
    }

    /// The current token's scope, if a token is held.
    fn granted_scope(&self) -> Option<String> {
        self.inner.granted_scope()
    }

    /// Forget this server's tokens (memory and storage); registrations are kept.
    fn logout(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.inner.clone();
        run(py, move || client.logout())
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(server_url={})",
            py_str_repr(&self.inner.config().server_url)
        )
    }
}

impl PyClient {
    /// Work around a core deadlock: `Inner::refresh` holds the session lock across
    /// `self.discover(None)` when no discovery is cached (the `match` scrutinee's guard lives
    /// for the whole `match`), so refreshing a token loaded from storage (e.g. after a restart)
    /// hangs. Until the core is fixed, run discovery first whenever the stored token is due for
    /// a refresh and the core has not discovered yet.
    fn prime(&self, py: Python<'_>) -> PyResult<()> {
        if self.discovered.load(Ordering::Relaxed) {
            return Ok(());
        }
        let storage = self.storage.clone();
        let key = self.inner.resource_key().to_owned();
        let skew = self.inner.config().refresh_skew.as_secs();
        let due = run(py, move || {
            Ok(storage.get_tokens(&key)?.is_some_and(|t| {
                t.refresh_token.is_some() && t.is_expired(mcp_auth::token::now_unix(), skew)
            }))
        })?;
        if due {
            let client = self.inner.clone();
            run(py, move || client.discover())?;
            self.discovered.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// `send` a marked request answered by [`Intercept`]; the final status.
    fn synthetic(&self, py: Python<'_>, id: u64) -> PyResult<u16> {
        let request = http::Request::post(self.inner.config().server_url.as_str())
            .header(SYNTHETIC, id.to_string())
            .body(Vec::new())
            .map_err(|e| to_pyerr(py, &Error::invalid_argument("server URL", e.to_string())))?;
        let client = self.inner.clone();
        run(py, move || {
            IN_SYNTHETIC.with(|f| f.set(true));
            let result = client.send(request);
            IN_SYNTHETIC.with(|f| f.set(false));
            result
        })
        .map(|r| r.status)
    }
}
