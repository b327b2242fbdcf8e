//! `Challenge`, `BearerChallenge` and `CapturedChallenge` (RFC 9110 §11.6.1, RFC 6750 §3).

use mcp_auth::challenge::{BearerChallenge, Challenge};
use mcp_auth::client::CapturedChallenge;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::py_str_repr;

/// One challenge of a `WWW-Authenticate` header: an auth-scheme and its token68 or
/// auth-params (names lowercased, values unquoted).
#[pyclass(frozen, eq, module = "mcp_auth", name = "Challenge")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyChallenge {
    pub(crate) inner: Challenge,
}

#[pymethods]
impl PyChallenge {
    #[new]
    #[pyo3(signature = (scheme, params = Vec::new(), token68 = None))]
    fn new(scheme: String, params: Vec<(String, String)>, token68: Option<String>) -> Self {
        PyChallenge {
            inner: Challenge {
                scheme,
                token68,
                params: params
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
            },
        }
    }

    /// The auth-scheme as sent (compare with `is_scheme`).
    #[getter]
    fn scheme(&self) -> &str {
        &self.inner.scheme
    }

    /// The token68 form of the challenge, if any.
    #[getter]
    fn token68(&self) -> Option<&str> {
        self.inner.token68.as_deref()
    }

    /// The auth-params in order, names lowercased.
    #[getter]
    fn params(&self) -> Vec<(String, String)> {
        self.inner.params.clone()
    }

    /// The first parameter named `name` (case-insensitive).
    fn param(&self, name: &str) -> Option<&str> {
        self.inner.param(name)
    }

    /// Whether the scheme is `scheme`, ignoring case.
    fn is_scheme(&self, scheme: &str) -> bool {
        self.inner.is_scheme(scheme)
    }

    /// Whether this is a Bearer challenge.
    fn is_bearer(&self) -> bool {
        self.inner.is_bearer()
    }

    /// The Bearer view of this challenge, or `None` for another scheme.
    fn bearer(&self) -> Option<PyBearerChallenge> {
        BearerChallenge::from_challenge(&self.inner).map(|inner| PyBearerChallenge { inner })
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("scheme", &self.inner.scheme)?;
        d.set_item("token68", &self.inner.token68)?;
        d.set_item("params", self.inner.params.clone())?;
        Ok(d)
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        let mut s = format!("Challenge(scheme={}", py_str_repr(&self.inner.scheme));
        if let Some(t) = &self.inner.token68 {
            s.push_str(&format!(", token68={}", py_str_repr(t)));
        }
        if !self.inner.params.is_empty() {
            let params: Vec<String> = self
                .inner
                .params
                .iter()
                .map(|(k, v)| format!("({}, {})", py_str_repr(k), py_str_repr(v)))
                .collect();
            s.push_str(&format!(", params=[{}]", params.join(", ")));
        }
        s.push(')');
        s
    }
}

/// The parameters of a Bearer challenge an OAuth client acts on (RFC 6750 §3, RFC 9728 §5.1).
#[pyclass(frozen, eq, module = "mcp_auth", name = "BearerChallenge")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyBearerChallenge {
    pub(crate) inner: BearerChallenge,
}

#[pymethods]
impl PyBearerChallenge {
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }
    #[getter]
    fn error_description(&self) -> Option<&str> {
        self.inner.error_description.as_deref()
    }
    #[getter]
    fn error_uri(&self) -> Option<&str> {
        self.inner.error_uri.as_deref()
    }
    #[getter]
    fn scope(&self) -> Option<&str> {
        self.inner.scope.as_deref()
    }
    #[getter]
    fn resource_metadata(&self) -> Option<&str> {
        self.inner.resource_metadata.as_deref()
    }
    #[getter]
    fn realm(&self) -> Option<&str> {
        self.inner.realm.as_deref()
    }

    /// The scope tokens of `scope`.
    fn scopes(&self) -> Vec<String> {
        self.inner.scopes().map(str::to_owned).collect()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("error", &self.inner.error)?;
        d.set_item("error_description", &self.inner.error_description)?;
        d.set_item("error_uri", &self.inner.error_uri)?;
        d.set_item("scope", &self.inner.scope)?;
        d.set_item("resource_metadata", &self.inner.resource_metadata)?;
        d.set_item("realm", &self.inner.realm)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let b = &self.inner;
        let fields = [
            ("error", &b.error),
            ("error_description", &b.error_description),
            ("error_uri", &b.error_uri),
            ("scope", &b.scope),
            ("resource_metadata", &b.resource_metadata),
            ("realm", &b.realm),
        ];
        let shown: Vec<String> = fields
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", py_str_repr(v))))
            .collect();
        format!("BearerChallenge({})", shown.join(", "))
    }
}

/// A 401/403 answer's challenge: the status, every `WWW-Authenticate` value verbatim, the
/// parsed challenges and the Bearer one.
#[pyclass(frozen, module = "mcp_auth", name = "CapturedChallenge")]
#[derive(Clone)]
pub(crate) struct PyCapturedChallenge {
    pub(crate) inner: CapturedChallenge,
}

impl PyCapturedChallenge {
    pub(crate) fn from_values(status: u16, values: Vec<String>) -> Self {
        PyCapturedChallenge {
            inner: CapturedChallenge::from_values(status, &values),
        }
    }
}

#[pymethods]
impl PyCapturedChallenge {
    #[new]
    #[pyo3(signature = (status, www_authenticate))]
    fn new(status: u16, www_authenticate: Vec<String>) -> Self {
        Self::from_values(status, www_authenticate)
    }

    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    #[getter]
    fn www_authenticate(&self) -> Vec<String> {
        self.inner.www_authenticate.clone()
    }
    #[getter]
    fn challenges(&self) -> Vec<PyChallenge> {
        self.inner
            .challenges
            .iter()
            .map(|c| PyChallenge { inner: c.clone() })
            .collect()
    }
    #[getter]
    fn bearer(&self) -> Option<PyBearerChallenge> {
        self.inner
            .bearer
            .clone()
            .map(|inner| PyBearerChallenge { inner })
    }
    /// The Bearer challenge's `error`.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error()
    }
    /// The Bearer challenge's `scope`.
    #[getter]
    fn scope(&self) -> Option<&str> {
        self.inner.scope()
    }
    /// The Bearer challenge's `resource_metadata`.
    #[getter]
    fn resource_metadata(&self) -> Option<&str> {
        self.inner.resource_metadata()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("status", self.inner.status)?;
        d.set_item("www_authenticate", self.inner.www_authenticate.clone())?;
        let challenges: Vec<Bound<'py, PyDict>> = self
            .challenges()
            .iter()
            .map(|c| c.to_dict(py))
            .collect::<PyResult<_>>()?;
        d.set_item("challenges", challenges)?;
        d.set_item(
            "bearer",
            match self.bearer() {
                Some(b) => Some(b.to_dict(py)?),
                None => None,
            },
        )?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let values: Vec<String> = self
            .inner
            .www_authenticate
            .iter()
            .map(|v| py_str_repr(v))
            .collect();
        format!(
            "CapturedChallenge(status={}, www_authenticate=[{}])",
            self.inner.status,
            values.join(", ")
        )
    }
}
