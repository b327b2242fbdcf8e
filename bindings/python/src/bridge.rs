//! `mcp_auth.bridge`: the proxy bridge (the `mcp-auth-bridge` crate) for Python proxies and
//! gateways. Headers are lists of `(name, value)` tuples (any iterable of pairs, a dict, or an
//! object with `multi_items()` such as `httpx.Headers` is accepted); options are
//! `BridgeOptions`/`CorsPolicy` objects, dicts, JSON text or keyword arguments.

use mcp_auth::Error;
use mcp_auth::http::{HttpConfig, UreqHttpClient};
use mcp_auth_bridge::{
    self as bridge, BridgeOptions, CorsPolicy, DownstreamResponse, RelayedChallenge,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyString, PyTuple};

use crate::challenge::PyCapturedChallenge;
use crate::convert::{py_opt_repr, py_str_repr, py_to_value, value_to_py};
use crate::errors::{run, to_pyerr};
use crate::functions::bytes_of;

type Pairs = Vec<(String, String)>;

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

/// A header name or value given as `str` or `bytes` (decoded as UTF-8, invalid bytes replaced,
/// as the core does with the bytes of an `http::HeaderMap`).
fn header_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(String::from_utf8_lossy(b.as_bytes()).into_owned());
    }
    Err(PyTypeError::new_err(format!(
        "a header name or value must be str or bytes, not {}",
        obj.get_type().name()?
    )))
}

/// Header pairs from `None`, an object with `multi_items()` (`httpx.Headers`, keeps repeated
/// names), a mapping (`items()`), or an iterable of `(name, value)` pairs.
pub(crate) fn header_pairs(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Pairs> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "headers must be a list of (name, value) pairs or a mapping, not a string",
        ));
    }
    let items = if obj.hasattr("multi_items")? {
        obj.call_method0("multi_items")?
    } else if obj.is_instance_of::<PyDict>() || obj.hasattr("items")? {
        obj.call_method0("items")?
    } else {
        obj.clone()
    };
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let item = item?;
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract().map_err(|_| {
            PyTypeError::new_err("each header must be a (name, value) pair of str or bytes")
        })?;
        out.push((header_text(&name)?, header_text(&value)?));
    }
    Ok(out)
}

fn invalid(py: Python<'_>, what: &'static str, e: impl std::fmt::Display) -> PyErr {
    to_pyerr(py, &Error::invalid_argument(what, e.to_string()))
}

/// A JSON object (dict or JSON text) as `T`, unknown members rejected.
fn from_document<T: serde::de::DeserializeOwned>(
    obj: &Bound<'_, PyAny>,
    what: &'static str,
) -> PyResult<T> {
    let py = obj.py();
    let value = if let Ok(s) = obj.cast::<PyString>() {
        serde_json::from_str(s.to_str()?).map_err(|e| invalid(py, what, e))?
    } else if obj.is_instance_of::<PyDict>() {
        py_to_value(obj)?
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be given as the object, a dict or JSON text, not {}",
            obj.get_type().name()?
        )));
    };
    if !value.is_object() {
        return Err(invalid(py, what, "expected a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| invalid(py, what, e))
}

/// A CORS policy from `None` / `False` (none), `True` (the default: any origin), a
/// `CorsPolicy`, a dict or JSON text.
fn cors_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<CorsPolicy>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(b.is_true().then(CorsPolicy::default));
    }
    if let Ok(p) = obj.cast::<PyCorsPolicy>() {
        return Ok(Some(p.get().inner.clone()));
    }
    from_document(obj, "CORS policy").map(Some)
}

/// Bridge options from `options` (a `BridgeOptions`, dict, JSON text or `None`) with the
/// keyword arguments applied over it, validated.
fn options_of(
    py: Python<'_>,
    options: Option<&Bound<'_, PyAny>>,
    resource_metadata_url: Option<String>,
    cors: Option<&Bound<'_, PyAny>>,
) -> PyResult<BridgeOptions> {
    let mut o = match options.filter(|o| !o.is_none()) {
        None => BridgeOptions::default(),
        Some(obj) => match obj.cast::<PyBridgeOptions>() {
            Ok(b) => b.get().inner.clone(),
            Err(_) => from_document(obj, "bridge options")?,
        },
    };
    if resource_metadata_url.is_some() {
        o.resource_metadata_url = resource_metadata_url;
    }
    if let Some(c) = cors.filter(|c| !c.is_none()) {
        o.cors = cors_of(Some(c))?;
    }
    o.validate().map_err(|e| to_pyerr(py, &e))?;
    Ok(o)
}

/// The core error an `McpAuthError` stands for, as far as the bridge is concerned: an
/// `UnauthorizedError` (kind `unauthorized`) with its status and `WWW-Authenticate` values
/// becomes `Error::Unauthorized`; anything else carries no challenge.
fn core_error(error: &Bound<'_, PyAny>) -> PyResult<Error> {
    if !error.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        return Err(PyTypeError::new_err(format!(
            "expected an exception (an McpAuthError raised by Client.send), not {}",
            error.get_type().name()?
        )));
    }
    let attr = |name: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        if error.hasattr(name)? {
            let v = error.getattr(name)?;
            Ok((!v.is_none()).then_some(v))
        } else {
            Ok(None)
        }
    };
    let message = error.str()?.to_str()?.to_owned();
    let kind: Option<String> = attr("kind")?.map(|k| k.extract()).transpose()?;
    let status: Option<u16> = attr("status")?.map(|s| s.extract()).transpose()?;
    let www: Vec<String> = attr("www_authenticate")?
        .map(|w| w.extract())
        .transpose()?
        .unwrap_or_default();
    Ok(match (kind.as_deref(), status) {
        (Some("unauthorized"), Some(status)) => Error::Unauthorized {
            message,
            status,
            www_authenticate: www,
            oauth: None,
        },
        _ => Error::Internal { message },
    })
}

// ---------------------------------------------------------------------------------------------
// Classes
// ---------------------------------------------------------------------------------------------

/// Who may call the proxy from a browser, when the proxy owns CORS.
#[pyclass(frozen, eq, module = "mcp_auth.bridge", name = "CorsPolicy")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyCorsPolicy {
    inner: CorsPolicy,
}

#[pymethods]
impl PyCorsPolicy {
    #[new]
    #[pyo3(
        signature = (allowed_origins = None, *, allow_credentials = false, max_age_secs = Some(600)),
        text_signature = "(allowed_origins=None, *, allow_credentials=False, max_age_secs=600)"
    )]
    fn new(
        allowed_origins: Option<Vec<String>>,
        allow_credentials: bool,
        max_age_secs: Option<u32>,
    ) -> Self {
        PyCorsPolicy {
            inner: CorsPolicy {
                allowed_origins: allowed_origins.unwrap_or_else(|| vec!["*".to_owned()]),
                allow_credentials,
                max_age_secs,
            },
        }
    }
    #[getter]
    fn allowed_origins(&self) -> Vec<String> {
        self.inner.allowed_origins.clone()
    }
    #[getter]
    fn allow_credentials(&self) -> bool {
        self.inner.allow_credentials
    }
    #[getter]
    fn max_age_secs(&self) -> Option<u32> {
        self.inner.max_age_secs
    }
    /// Whether a request with this `Origin` may be answered (no origin: yes).
    #[pyo3(signature = (origin = None))]
    fn allows(&self, origin: Option<&str>) -> bool {
        self.inner.allows(origin)
    }
    /// The `Access-Control-Allow-Origin` value for this `Origin`, or `None` when not allowed.
    #[pyo3(signature = (origin = None))]
    fn allow_origin(&self, origin: Option<&str>) -> Option<String> {
        self.inner.allow_origin(origin)
    }
    /// The CORS headers of an actual (non-preflight) response for this `Origin`.
    #[pyo3(signature = (origin = None))]
    fn response_headers(&self, origin: Option<&str>) -> Pairs {
        self.inner.response_headers(origin)
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &serde_json::to_value(&self.inner).unwrap_or_default())
    }
    fn __repr__(&self) -> String {
        format!(
            "CorsPolicy(allowed_origins=[{}], allow_credentials={}, max_age_secs={})",
            self.inner
                .allowed_origins
                .iter()
                .map(|o| py_str_repr(o))
                .collect::<Vec<_>>()
                .join(", "),
            if self.inner.allow_credentials {
                "True"
            } else {
                "False"
            },
            self.inner
                .max_age_secs
                .map_or_else(|| "None".to_owned(), |s| s.to_string())
        )
    }
}

/// How the bridge builds the downstream response: the `resource_metadata` rewrite and the
/// CORS policy the proxy owns (both optional).
#[pyclass(frozen, eq, module = "mcp_auth.bridge", name = "BridgeOptions")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyBridgeOptions {
    inner: BridgeOptions,
}

#[pymethods]
impl PyBridgeOptions {
    #[new]
    #[pyo3(signature = (*, resource_metadata_url = None, cors = None))]
    fn new(
        py: Python<'_>,
        resource_metadata_url: Option<String>,
        cors: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        options_of(py, None, resource_metadata_url, cors).map(|inner| PyBridgeOptions { inner })
    }
    /// Parse the core's JSON form (`""` and `"null"` give the default).
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        BridgeOptions::from_json(json)
            .map(|inner| PyBridgeOptions { inner })
            .map_err(|e| to_pyerr(py, &e))
    }
    #[getter]
    fn resource_metadata_url(&self) -> Option<String> {
        self.inner.resource_metadata_url.clone()
    }
    #[getter]
    fn cors(&self) -> Option<PyCorsPolicy> {
        self.inner.cors.clone().map(|inner| PyCorsPolicy { inner })
    }
    fn to_json(&self) -> String {
        serde_json::to_string(&self.inner).unwrap_or_default()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &serde_json::to_value(&self.inner).unwrap_or_default())
    }
    fn __repr__(&self) -> String {
        format!(
            "BridgeOptions(resource_metadata_url={}, cors={})",
            py_opt_repr(self.inner.resource_metadata_url.as_deref()),
            self.inner.cors.clone().map_or_else(
                || "None".to_owned(),
                |inner| PyCorsPolicy { inner }.__repr__()
            )
        )
    }
}

/// The challenge of a 401/403 in structured form (first `Bearer` challenge, else the first of
/// any scheme), for relaying it over a channel that is not HTTP.
#[pyclass(frozen, eq, module = "mcp_auth.bridge", name = "RelayedChallenge")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyRelayedChallenge {
    inner: RelayedChallenge,
}

#[pymethods]
impl PyRelayedChallenge {
    /// The challenge of a response with this status and these `WWW-Authenticate` values;
    /// `None` unless the status is 401 or 403.
    #[staticmethod]
    fn from_values(status: u16, www_authenticate: Vec<String>) -> Option<Self> {
        RelayedChallenge::from_values(status, &www_authenticate).map(|inner| Self { inner })
    }
    /// The challenge of a response given as header pairs; `None` unless 401 or 403.
    #[staticmethod]
    fn from_headers(status: u16, headers: &Bound<'_, PyAny>) -> PyResult<Option<Self>> {
        let pairs = header_pairs(Some(headers))?;
        Ok(RelayedChallenge::from_headers(status, &pairs).map(|inner| Self { inner }))
    }
    /// The challenge captured by `Client.send` / `Client.probe`.
    #[staticmethod]
    fn from_captured(captured: PyRef<'_, PyCapturedChallenge>) -> Option<Self> {
        RelayedChallenge::from_captured(&captured.inner).map(|inner| Self { inner })
    }
    /// The challenge carried by an `UnauthorizedError` raised by `Client.send`; `None` for
    /// every other error.
    #[staticmethod]
    fn from_error(error: &Bound<'_, PyAny>) -> PyResult<Option<Self>> {
        let e = core_error(error)?;
        Ok(RelayedChallenge::from_error(&e).map(|inner| Self { inner }))
    }
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    #[getter]
    fn scheme(&self) -> Option<String> {
        self.inner.scheme.clone()
    }
    #[getter]
    fn error(&self) -> Option<String> {
        self.inner.error.clone()
    }
    #[getter]
    fn error_description(&self) -> Option<String> {
        self.inner.error_description.clone()
    }
    #[getter]
    fn scope(&self) -> Option<String> {
        self.inner.scope.clone()
    }
    #[getter]
    fn resource_metadata(&self) -> Option<String> {
        self.inner.resource_metadata.clone()
    }
    #[getter]
    fn www_authenticate(&self) -> Vec<String> {
        self.inner.www_authenticate.clone()
    }
    /// A JSON error body for a synthesized 401/403: `{"error": …, "error_description": …}`.
    fn error_body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.error_body())
    }
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &serde_json::to_value(&self.inner).unwrap_or_default())
    }
    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "RelayedChallenge(status={}, scheme={}, error={}, scope={}, resource_metadata={})",
            c.status,
            py_opt_repr(c.scheme.as_deref()),
            py_opt_repr(c.error.as_deref()),
            py_opt_repr(c.scope.as_deref()),
            py_opt_repr(c.resource_metadata.as_deref())
        )
    }
}

/// What the proxy sends downstream: the status, every header to send (framing headers
/// excepted), and for 401/403 the structured challenge.
#[pyclass(frozen, eq, module = "mcp_auth.bridge", name = "DownstreamResponse")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyDownstreamResponse {
    inner: DownstreamResponse,
}

#[pymethods]
impl PyDownstreamResponse {
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    /// The header fields to send, in order; several fields of one name are several pairs.
    #[getter]
    fn headers(&self) -> Pairs {
        self.inner.headers.clone()
    }
    #[getter]
    fn challenge(&self) -> Option<PyRelayedChallenge> {
        self.inner
            .challenge
            .clone()
            .map(|inner| PyRelayedChallenge { inner })
    }
    /// Every value of header `name` (case-insensitive), in order.
    fn header_values(&self, name: &str) -> Vec<String> {
        self.inner
            .header_values(name)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// `{"status": …, "headers": [(name, value), …], "challenge": {…} | None}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = value_to_py(py, &serde_json::to_value(&self.inner).unwrap_or_default())?;
        d.set_item("headers", self.headers())?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!(
            "DownstreamResponse(status={}, headers=[{}], challenge={})",
            self.inner.status,
            self.inner
                .headers
                .iter()
                .map(|(n, v)| format!("({}, {})", py_str_repr(n), py_str_repr(v)))
                .collect::<Vec<_>>()
                .join(", "),
            self.inner.challenge.clone().map_or_else(
                || "None".to_owned(),
                |inner| PyRelayedChallenge { inner }.__repr__()
            )
        )
    }
}

fn downstream(d: DownstreamResponse) -> PyDownstreamResponse {
    PyDownstreamResponse { inner: d }
}

// ---------------------------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------------------------

/// The downstream response for an upstream response with this status and these headers.
#[pyfunction]
#[pyo3(signature = (status, headers, origin = None, options = None, *, resource_metadata_url = None, cors = None))]
pub(crate) fn bridge_response(
    py: Python<'_>,
    status: u16,
    headers: &Bound<'_, PyAny>,
    origin: Option<&str>,
    options: Option<&Bound<'_, PyAny>>,
    resource_metadata_url: Option<String>,
    cors: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyDownstreamResponse> {
    let pairs = header_pairs(Some(headers))?;
    let o = options_of(py, options, resource_metadata_url, cors)?;
    bridge::bridge_response(status, &pairs, origin, &o)
        .map(downstream)
        .map_err(|e| to_pyerr(py, &e))
}

/// The downstream response for a challenge captured by `Client.send` (a `CapturedChallenge`,
/// e.g. `Response.challenge` or `McpAuthError.challenge`).
#[pyfunction]
#[pyo3(signature = (captured, origin = None, options = None, *, resource_metadata_url = None, cors = None))]
pub(crate) fn bridge_captured(
    py: Python<'_>,
    captured: PyRef<'_, PyCapturedChallenge>,
    origin: Option<&str>,
    options: Option<&Bound<'_, PyAny>>,
    resource_metadata_url: Option<String>,
    cors: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyDownstreamResponse> {
    let o = options_of(py, options, resource_metadata_url, cors)?;
    bridge::bridge_captured(&captured.inner, origin, &o)
        .map(downstream)
        .map_err(|e| to_pyerr(py, &e))
}

/// The downstream response for an exception raised by `Client.send`: for an
/// `UnauthorizedError` (still 401/403 after the allowed authorizations) its status and
/// challenges, bridged; `None` for every other error (answer those as you see fit, e.g. 502).
#[pyfunction]
#[pyo3(signature = (error, origin = None, options = None, *, resource_metadata_url = None, cors = None))]
pub(crate) fn bridge_error(
    py: Python<'_>,
    error: &Bound<'_, PyAny>,
    origin: Option<&str>,
    options: Option<&Bound<'_, PyAny>>,
    resource_metadata_url: Option<String>,
    cors: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<PyDownstreamResponse>> {
    let e = core_error(error)?;
    let o = options_of(py, options, resource_metadata_url, cors)?;
    bridge::bridge_error(&e, origin, &o)
        .map(|d| d.map(downstream))
        .map_err(|e| to_pyerr(py, &e))
}

/// Field values as a list: one `str` is one field value.
fn field_values(obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if obj.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(vec![s.to_str()?.to_owned()]);
    }
    obj.try_iter()?
        .map(|v| v.and_then(|v| header_text(&v)))
        .collect()
}

/// Merge `Access-Control-Expose-Headers` field values (one `str` or several) with the names
/// a browser MCP client must read (`WWW-Authenticate`, `Mcp-Session-Id`,
/// `MCP-Protocol-Version`) into one field value.
#[pyfunction]
#[pyo3(signature = (existing = None))]
pub(crate) fn merge_expose_headers(existing: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    let values = match existing {
        Some(e) => field_values(e)?,
        None => Vec::new(),
    };
    Ok(bridge::merge_expose_headers(values))
}

/// Merge comma-separated field-name lists (one `str` or several) with the names in `add`:
/// existing names first as spelled, then the missing ones, case-insensitively unique.
#[pyfunction]
pub(crate) fn merge_field_names(existing: &Bound<'_, PyAny>, add: Vec<String>) -> PyResult<String> {
    let values = field_values(existing)?;
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    Ok(bridge::merge_field_names(values, &add))
}

/// The answer to a CORS preflight for the MCP endpoint, given the request's headers
/// (`cors`: the policy, default any origin).
#[pyfunction]
#[pyo3(signature = (request_headers, cors = None))]
pub(crate) fn preflight(
    request_headers: &Bound<'_, PyAny>,
    cors: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyDownstreamResponse> {
    let pairs = header_pairs(Some(request_headers))?;
    let policy = cors_of(cors)?.unwrap_or_default();
    Ok(downstream(bridge::preflight(&pairs, &policy)))
}

/// The request headers to forward upstream (hop-by-hop, `Host`, `Content-Length`,
/// `Proxy-Authorization`, `Origin` and `Access-Control-Request-*` removed).
#[pyfunction]
pub(crate) fn upstream_request_headers(headers: &Bound<'_, PyAny>) -> PyResult<Pairs> {
    let pairs = header_pairs(Some(headers))?;
    Ok(bridge::upstream_request_headers(&pairs))
}

/// Replace the value of every `resource_metadata` auth-param of one `WWW-Authenticate` value
/// with `url`, every other byte unchanged.
#[pyfunction]
pub(crate) fn rewrite_resource_metadata(value: &str, url: &str) -> String {
    bridge::rewrite_resource_metadata(value, url).into_owned()
}

/// The body a proxy serves at its own `resource_metadata` URL, from the upstream's protected
/// resource metadata (validated; `resource` replaced when given).
#[pyfunction]
#[pyo3(signature = (body, resource = None))]
pub(crate) fn relay_protected_resource_metadata<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    resource: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let body = bytes_of(body)?;
    bridge::relay_protected_resource_metadata(&body, resource)
        .map(|b| PyBytes::new(py, &b))
        .map_err(|e| to_pyerr(py, &e))
}

/// Fetch the upstream's protected resource metadata (a `GET`, no redirects followed, `https`
/// or loopback `http` only) and return the body to relay. Releases the GIL.
#[pyfunction]
#[pyo3(signature = (url, resource = None, *, timeout = None))]
pub(crate) fn fetch_protected_resource_metadata<'py>(
    py: Python<'py>,
    url: String,
    resource: Option<String>,
    timeout: Option<f64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut config = HttpConfig::default();
    if let Some(t) = timeout {
        config.timeout =
            std::time::Duration::try_from_secs_f64(t).map_err(|e| invalid(py, "timeout", e))?;
    }
    let body = run(py, move || {
        let http = UreqHttpClient::new(config);
        bridge::fetch_protected_resource_metadata(&http, &url, resource.as_deref())
    })?;
    Ok(PyBytes::new(py, &body))
}

/// Whether `status` carries a challenge the client must see (401 or 403).
#[pyfunction]
pub(crate) fn is_challenge_status(status: u16) -> bool {
    bridge::is_challenge_status(status)
}

// JSON in, JSON out: the core's `*_json` entry points, as the C ABI has them.

/// `bridge_response` with JSON in and out.
#[pyfunction]
#[pyo3(signature = (status, headers_json, origin = None, options_json = None))]
pub(crate) fn bridge_response_json(
    py: Python<'_>,
    status: u16,
    headers_json: &str,
    origin: Option<&str>,
    options_json: Option<&str>,
) -> PyResult<String> {
    bridge::bridge_response_json(status, headers_json, origin, options_json)
        .map_err(|e| to_pyerr(py, &e))
}

/// `bridge_error` with JSON options in and JSON out (`"null"` when there is no challenge).
#[pyfunction]
#[pyo3(signature = (error, origin = None, options_json = None))]
pub(crate) fn bridge_error_json(
    py: Python<'_>,
    error: &Bound<'_, PyAny>,
    origin: Option<&str>,
    options_json: Option<&str>,
) -> PyResult<String> {
    let e = core_error(error)?;
    bridge::bridge_error_json(&e, origin, options_json).map_err(|e| to_pyerr(py, &e))
}

/// `preflight` with JSON in and out.
#[pyfunction]
#[pyo3(signature = (request_headers_json, cors_json = None))]
pub(crate) fn preflight_json(
    py: Python<'_>,
    request_headers_json: &str,
    cors_json: Option<&str>,
) -> PyResult<String> {
    bridge::preflight_json(request_headers_json, cors_json).map_err(|e| to_pyerr(py, &e))
}

/// `upstream_request_headers` with JSON in and out.
#[pyfunction]
pub(crate) fn upstream_request_headers_json(
    py: Python<'_>,
    request_headers_json: &str,
) -> PyResult<String> {
    bridge::upstream_request_headers_json(request_headers_json).map_err(|e| to_pyerr(py, &e))
}

/// The `RelayedChallenge` JSON of a response given as JSON header pairs (`"null"` unless
/// 401/403).
#[pyfunction]
pub(crate) fn challenge_json(py: Python<'_>, status: u16, headers_json: &str) -> PyResult<String> {
    bridge::challenge_json(status, headers_json).map_err(|e| to_pyerr(py, &e))
}

/// The module constants.
pub(crate) fn add_constants(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add(
        "EXPOSED_HEADERS",
        PyTuple::new(py, bridge::EXPOSED_HEADERS)?,
    )?;
    m.add(
        "ALLOWED_REQUEST_HEADERS",
        PyTuple::new(py, bridge::ALLOWED_REQUEST_HEADERS)?,
    )?;
    m.add("ALLOWED_METHODS", bridge::ALLOWED_METHODS)?;
    Ok(())
}
