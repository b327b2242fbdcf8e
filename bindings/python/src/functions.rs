//! The pure helpers, under the names of the Python SDK's `mcp.client.auth.utils` (2.3.0),
//! taking plain values: header text instead of a response, models or dicts for metadata.

use mcp_auth::{challenge, checks, discovery, pkce, registration, scope, token};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::challenge::{PyBearerChallenge, PyChallenge};
use crate::convert::value_to_py;
use crate::errors::to_pyerr;
use crate::models::{
    PyOAuthClientInformationFull, PyOAuthClientMetadata, PyOAuthMetadata, PyOAuthToken,
    PyProtectedResourceMetadata,
};

/// Header text from `str`, or several header lines (a list) joined with `", "` as HTTP clients
/// do; `None` stays `None`.
fn header_text(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Some(s.to_str()?.to_owned()));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<pyo3::types::PyTuple>() {
        let lines: Vec<String> = v.extract()?;
        return Ok(Some(lines.join(", ")));
    }
    Err(PyTypeError::new_err(
        "a WWW-Authenticate value must be str, a list of str, or None",
    ))
}

fn opt_model<T>(
    obj: Option<&Bound<'_, PyAny>>,
    f: fn(&Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    match obj {
        Some(o) if !o.is_none() => f(o).map(Some),
        _ => Ok(None),
    }
}

/// `extract_field_from_www_auth`: the value of parameter `field_name` of the
/// `WWW-Authenticate` value (the first Bearer challenge's, else the first challenge carrying it).
#[pyfunction]
#[pyo3(signature = (www_authenticate, field_name))]
pub(crate) fn extract_field_from_www_auth(
    www_authenticate: Option<&Bound<'_, PyAny>>,
    field_name: &str,
) -> PyResult<Option<String>> {
    let h = header_text(www_authenticate)?;
    Ok(challenge::extract_field_from_www_auth(
        h.as_deref(),
        field_name,
    ))
}

/// `extract_scope_from_www_auth`: the `scope` of the `WWW-Authenticate` value.
#[pyfunction]
#[pyo3(signature = (www_authenticate))]
pub(crate) fn extract_scope_from_www_auth(
    www_authenticate: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<String>> {
    let h = header_text(www_authenticate)?;
    Ok(challenge::extract_scope_from_www_auth(h.as_deref()))
}

/// `extract_resource_metadata_from_www_auth`: the `resource_metadata` URL, only for a 401 or
/// 403 `status`.
#[pyfunction]
#[pyo3(signature = (www_authenticate, status = 401))]
pub(crate) fn extract_resource_metadata_from_www_auth(
    www_authenticate: Option<&Bound<'_, PyAny>>,
    status: u16,
) -> PyResult<Option<String>> {
    let h = header_text(www_authenticate)?;
    Ok(challenge::extract_resource_metadata_from_www_auth(
        h.as_deref(),
        status,
    ))
}

/// Parse a `WWW-Authenticate` value (or a list of header lines) into its challenges.
#[pyfunction]
#[pyo3(signature = (www_authenticate))]
pub(crate) fn parse_www_authenticate(
    www_authenticate: &Bound<'_, PyAny>,
) -> PyResult<Vec<PyChallenge>> {
    let challenges = if let Ok(s) = www_authenticate.cast::<PyString>() {
        challenge::parse_www_authenticate(s.to_str()?)
    } else if www_authenticate.is_none() {
        Vec::new()
    } else {
        let lines: Vec<String> = www_authenticate.extract()?;
        challenge::parse_www_authenticate_values(lines.iter().map(String::as_str))
    };
    Ok(challenges
        .into_iter()
        .map(|inner| PyChallenge { inner })
        .collect())
}

/// The first Bearer challenge of a `WWW-Authenticate` value, or `None`.
#[pyfunction]
#[pyo3(signature = (www_authenticate))]
pub(crate) fn bearer_challenge(
    www_authenticate: &Bound<'_, PyAny>,
) -> PyResult<Option<PyBearerChallenge>> {
    let parsed = parse_www_authenticate(www_authenticate)?;
    let inner: Vec<_> = parsed.into_iter().map(|c| c.inner).collect();
    Ok(challenge::bearer_challenge(&inner).map(|inner| PyBearerChallenge { inner }))
}

/// RFC 9728 §3.1 / SEP-985 candidate URLs of the protected resource metadata.
#[pyfunction]
#[pyo3(signature = (www_auth_url, server_url))]
pub(crate) fn build_protected_resource_metadata_discovery_urls(
    www_auth_url: Option<&str>,
    server_url: &str,
) -> Vec<String> {
    discovery::build_protected_resource_metadata_discovery_urls(www_auth_url, server_url)
}

/// RFC 8414 §3.1 / OIDC Discovery candidate URLs of the authorization server metadata.
#[pyfunction]
#[pyo3(signature = (auth_server_url, server_url))]
pub(crate) fn build_oauth_authorization_server_metadata_discovery_urls(
    auth_server_url: Option<&str>,
    server_url: &str,
) -> Vec<String> {
    discovery::build_oauth_authorization_server_metadata_discovery_urls(auth_server_url, server_url)
}

/// SEP-835 scope selection with the SEP-2207 `offline_access` rule.
#[pyfunction]
#[pyo3(signature = (www_authenticate_scope, prm = None, asm = None, client_grant_types = None))]
pub(crate) fn get_client_metadata_scopes(
    www_authenticate_scope: Option<&str>,
    prm: Option<&Bound<'_, PyAny>>,
    asm: Option<&Bound<'_, PyAny>>,
    client_grant_types: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<String>> {
    let refresh_grant = match client_grant_types {
        Some(g) => has_refresh_grant(g)?,
        None => false,
    };
    // The package's own model objects are read in place (no copy): this function is called
    // per request by hosts that keep parsed metadata; dicts and other models are converted.
    let prm_native = prm.and_then(|o| o.cast::<PyProtectedResourceMetadata>().ok());
    let asm_native = asm.and_then(|o| o.cast::<PyOAuthMetadata>().ok());
    let prm_owned = match prm_native {
        Some(_) => None,
        None => opt_model(prm, PyProtectedResourceMetadata::extract_core)?,
    };
    let asm_owned = match asm_native {
        Some(_) => None,
        None => opt_model(asm, PyOAuthMetadata::extract_core)?,
    };
    let prm_ref = prm_native.map(|b| &b.get().inner).or(prm_owned.as_ref());
    let asm_ref = asm_native.map(|b| &b.get().inner).or(asm_owned.as_ref());
    Ok(scope::select_scopes(
        www_authenticate_scope,
        prm_ref,
        asm_ref,
        refresh_grant,
    ))
}

/// Whether a sequence of grant type strings includes `refresh_token`, read in place (copying
/// the list into a `Vec<String>` was half the cost of a scope selection). A `str` or an item
/// that is not a `str` is a `TypeError`, as the conversion to a list of strings was.
fn has_refresh_grant(grant_types: &Bound<'_, PyAny>) -> PyResult<bool> {
    if grant_types.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "client_grant_types must be a sequence of str, not a str",
        ));
    }
    let mut found = false;
    let mut check = |item: Bound<'_, PyAny>| -> PyResult<()> {
        let s = item
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("client_grant_types must contain only str"))?;
        found |= s.to_str()? == "refresh_token";
        Ok(())
    };
    if let Ok(list) = grant_types.cast::<PyList>() {
        for item in list.iter() {
            check(item)?;
        }
    } else {
        for item in grant_types.try_iter()? {
            check(item?)?;
        }
    }
    Ok(found)
}

/// SEP-2350: the tokens of `previous`, then those of `new` not already present.
#[pyfunction]
#[pyo3(signature = (previous, new))]
pub(crate) fn union_scopes(previous: Option<&str>, new: Option<&str>) -> Option<String> {
    scope::union_scopes(previous, new)
}

/// RFC 9207 §2.4: check an authorization response's `iss`; raises `SecurityCheckError`
/// (an `OAuthFlowError`).
#[pyfunction]
#[pyo3(signature = (iss, oauth_metadata))]
pub(crate) fn validate_authorization_response_iss(
    py: Python<'_>,
    iss: Option<&str>,
    oauth_metadata: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let asm = opt_model(oauth_metadata, PyOAuthMetadata::extract_core)?;
    checks::validate_authorization_response_iss(iss, asm.as_ref()).map_err(|e| to_pyerr(py, &e))
}

/// RFC 8414 §3.3: the metadata's issuer must be `expected_issuer`; raises `SecurityCheckError`.
#[pyfunction]
#[pyo3(signature = (oauth_metadata, expected_issuer))]
pub(crate) fn validate_metadata_issuer(
    py: Python<'_>,
    oauth_metadata: &Bound<'_, PyAny>,
    expected_issuer: &str,
) -> PyResult<()> {
    let asm = PyOAuthMetadata::extract_core(oauth_metadata)?;
    checks::validate_metadata_issuer(&asm, expected_issuer).map_err(|e| to_pyerr(py, &e))
}

/// SEP-2352: exact issuer equality, tolerating a root issuer's trailing slash.
#[pyfunction]
pub(crate) fn issuers_match(a: &str, b: &str) -> bool {
    checks::issuers_match(a, b)
}

/// Whether `url` can be a Client ID Metadata Document URL.
#[pyfunction]
#[pyo3(signature = (url))]
pub(crate) fn is_valid_client_metadata_url(url: Option<&str>) -> bool {
    registration::is_valid_client_metadata_url(url.unwrap_or(""))
}

/// Whether to use the CIMD URL instead of registering.
#[pyfunction]
#[pyo3(signature = (oauth_metadata, client_metadata_url))]
pub(crate) fn should_use_client_metadata_url(
    oauth_metadata: Option<&Bound<'_, PyAny>>,
    client_metadata_url: Option<&str>,
) -> PyResult<bool> {
    let asm = opt_model(oauth_metadata, PyOAuthMetadata::extract_core)?;
    Ok(registration::should_use_client_metadata_url(
        asm.as_ref(),
        client_metadata_url,
    ))
}

/// SEP-2352: whether stored client credentials may be used with `issuer`.
#[pyfunction]
#[pyo3(signature = (client_info, issuer, client_metadata_url = None))]
pub(crate) fn credentials_match_issuer(
    client_info: &Bound<'_, PyAny>,
    issuer: &str,
    client_metadata_url: Option<&str>,
) -> PyResult<bool> {
    let ci = PyOAuthClientInformationFull::extract_core(client_info)?;
    Ok(registration::credentials_match_issuer(
        &ci,
        issuer,
        client_metadata_url,
    ))
}

/// The client information of a CIMD client.
#[pyfunction]
#[pyo3(signature = (client_metadata_url, redirect_uris = None))]
pub(crate) fn create_client_info_from_metadata_url(
    client_metadata_url: &str,
    redirect_uris: Option<Vec<String>>,
) -> PyOAuthClientInformationFull {
    PyOAuthClientInformationFull {
        inner: registration::create_client_info_from_metadata_url(
            client_metadata_url,
            redirect_uris,
        ),
    }
}

/// Raise `OAuthRegistrationError` unless the client can authenticate as registered.
#[pyfunction]
#[pyo3(signature = (client_info))]
pub(crate) fn check_registration_usable(
    py: Python<'_>,
    client_info: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let ci = PyOAuthClientInformationFull::extract_core(client_info)?;
    registration::check_registration_usable(&ci).map_err(|e| to_pyerr(py, &e))
}

fn response(
    status: u16,
    body: &[u8],
    headers: Option<Vec<(String, String)>>,
) -> PyResult<http::Response<Vec<u8>>> {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers.unwrap_or_default() {
        b = b.header(k, v);
    }
    b.body(body.to_vec())
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// Interpret a registration response (RFC 7591 §3.2): 200/201 with a client information
/// object, else `OAuthRegistrationError`.
#[pyfunction]
#[pyo3(signature = (status, body, headers = None))]
pub(crate) fn handle_registration_response(
    py: Python<'_>,
    status: u16,
    body: &[u8],
    headers: Option<Vec<(String, String)>>,
) -> PyResult<PyOAuthClientInformationFull> {
    let r = response(status, body, headers)?;
    registration::handle_registration_response(&r)
        .map(|inner| PyOAuthClientInformationFull { inner })
        .map_err(|e| to_pyerr(py, &e))
}

/// Interpret a token response (RFC 6749 §5.1/§5.2), back-filling an omitted scope with
/// `requested_scope`; `OAuthTokenError` otherwise.
#[pyfunction]
#[pyo3(signature = (status, body, requested_scope = None, headers = None))]
pub(crate) fn handle_token_response_scopes(
    py: Python<'_>,
    status: u16,
    body: &[u8],
    requested_scope: Option<&str>,
    headers: Option<Vec<(String, String)>>,
) -> PyResult<PyOAuthToken> {
    let r = response(status, body, headers)?;
    token::handle_token_response_scopes(&r, requested_scope)
        .map(|inner| PyOAuthToken { inner })
        .map_err(|e| to_pyerr(py, &e))
}

/// The RFC 7591 §3.1 registration request: `{"method", "url", "headers", "body"}`.
#[pyfunction]
#[pyo3(signature = (oauth_metadata, client_metadata, auth_base_url))]
pub(crate) fn create_client_registration_request<'py>(
    py: Python<'py>,
    oauth_metadata: Option<&Bound<'py, PyAny>>,
    client_metadata: &Bound<'py, PyAny>,
    auth_base_url: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let asm = opt_model(oauth_metadata, PyOAuthMetadata::extract_core)?;
    let md = PyOAuthClientMetadata::extract_core(client_metadata)?;
    let req = registration::create_client_registration_request(asm.as_ref(), &md, auth_base_url)
        .map_err(|e| to_pyerr(py, &e))?;
    let d = PyDict::new(py);
    d.set_item("method", req.method.as_str())?;
    d.set_item("url", &req.url)?;
    d.set_item("headers", req.headers.clone())?;
    d.set_item("body", value_to_py(py, &req.body)?)?;
    Ok(d)
}

/// The canonical resource URI of an MCP server URL (RFC 8707 §2).
#[pyfunction]
pub(crate) fn resource_url_from_server_url(py: Python<'_>, url: &str) -> PyResult<String> {
    checks::resource_url_from_server_url(url).map_err(|e| to_pyerr(py, &e))
}

/// Whether `requested_resource` lies under `configured_resource` (RFC 9728 §3.3).
#[pyfunction]
#[pyo3(signature = (requested_resource, configured_resource))]
pub(crate) fn check_resource_allowed(requested_resource: &str, configured_resource: &str) -> bool {
    checks::check_resource_allowed(requested_resource, configured_resource)
}

/// Whether to send the RFC 8707 `resource` parameter.
#[pyfunction]
#[pyo3(signature = (protocol_version, prm_held = false))]
pub(crate) fn should_include_resource_param(
    protocol_version: Option<&str>,
    prm_held: bool,
) -> bool {
    checks::should_include_resource_param(protocol_version, prm_held)
}

/// RFC 9728 §3.3: raise `SecurityCheckError` unless the metadata's `resource` covers the server.
#[pyfunction]
#[pyo3(signature = (server_url, prm_resource))]
pub(crate) fn validate_resource_match(
    py: Python<'_>,
    server_url: &str,
    prm_resource: &str,
) -> PyResult<()> {
    checks::validate_resource_match(server_url, prm_resource).map_err(|e| to_pyerr(py, &e))
}

/// The RFC 8707 `resource` value for `server_url` given the protected resource metadata.
#[pyfunction]
#[pyo3(signature = (server_url, prm = None))]
pub(crate) fn resource_param_for(
    py: Python<'_>,
    server_url: &str,
    prm: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let prm = opt_model(prm, PyProtectedResourceMetadata::extract_core)?;
    checks::resource_param_for(server_url, prm.as_ref()).map_err(|e| to_pyerr(py, &e))
}

/// Name/value pairs (a form, headers).
type Pairs = Vec<(String, String)>;

/// The reference's `prepare_token_auth`: the token request form and headers after the
/// registered client's authentication method is applied; `OAuthTokenError` for an unknown one.
#[pyfunction]
#[pyo3(signature = (client_info, data, headers = None))]
pub(crate) fn prepare_token_auth(
    py: Python<'_>,
    client_info: &Bound<'_, PyAny>,
    data: Vec<(String, String)>,
    headers: Option<Vec<(String, String)>>,
) -> PyResult<(Pairs, Pairs)> {
    let ci = PyOAuthClientInformationFull::extract_core(client_info)?;
    let mut form = data;
    let mut headers = headers.unwrap_or_default();
    token::prepare_token_auth(&ci, &mut form, &mut headers).map_err(|e| to_pyerr(py, &e))?;
    Ok((form, headers))
}

/// `Authorization: Basic …` for `client_secret_basic` (RFC 6749 §2.3.1).
#[pyfunction]
pub(crate) fn client_secret_basic_header(client_id: &str, client_secret: &str) -> String {
    token::client_secret_basic_header(client_id, client_secret)
}

/// The `S256` code challenge of a PKCE verifier.
#[pyfunction]
pub(crate) fn code_challenge_s256(code_verifier: &str) -> String {
    pkce::code_challenge_s256(code_verifier)
}

/// A fresh `state` value (RFC 6749 §10.12).
#[pyfunction]
pub(crate) fn generate_state() -> String {
    pkce::generate_state().secret().to_owned()
}

/// PKCE parameters (RFC 7636): a verifier and its `S256` challenge. `repr` hides the verifier.
#[pyclass(frozen, module = "mcp_auth", name = "PKCEParameters")]
pub(crate) struct PyPkceParameters {
    verifier: String,
    challenge: String,
}

#[pymethods]
impl PyPkceParameters {
    /// Fresh parameters from the OS CSPRNG.
    #[staticmethod]
    fn generate() -> Self {
        let p = pkce::PkceParameters::generate();
        PyPkceParameters {
            verifier: p.code_verifier.secret().to_owned(),
            challenge: p.code_challenge.clone(),
        }
    }

    /// Parameters for a caller-chosen verifier (43-128 unreserved characters).
    #[staticmethod]
    fn from_verifier(py: Python<'_>, code_verifier: &str) -> PyResult<Self> {
        let p = pkce::PkceParameters::from_verifier(code_verifier).map_err(|e| to_pyerr(py, &e))?;
        Ok(PyPkceParameters {
            verifier: p.code_verifier.secret().to_owned(),
            challenge: p.code_challenge.clone(),
        })
    }

    #[getter]
    fn code_verifier(&self) -> &str {
        &self.verifier
    }

    #[getter]
    fn code_challenge(&self) -> &str {
        &self.challenge
    }

    #[getter]
    fn code_challenge_method(&self) -> &'static str {
        pkce::CODE_CHALLENGE_METHOD
    }

    fn __repr__(&self) -> String {
        format!(
            "PKCEParameters(code_verifier='***', code_challenge='{}')",
            self.challenge
        )
    }
}

/// The bytes of `obj` when it is `bytes` or `str` (UTF-8).
pub(crate) fn bytes_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.as_bytes().to_vec());
    }
    obj.extract::<Vec<u8>>()
}
