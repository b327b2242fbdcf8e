//! `FileStorage`: the core's credential file (`mcp_auth::storage::FileStorage`), for hosts that
//! inspect or edit it (the CLI's `status` and `logout --forget-client`). It can also be given to
//! `Client(storage=...)` like any keyed storage object.

use std::path::PathBuf;
use std::time::Duration;

use mcp_auth::storage::{FileStorage, TokenStorage};
use pyo3::prelude::*;

use crate::errors::run;
use crate::models::{PyOAuthClientInformationFull, PyOAuthToken};

/// The credential file shared by processes (tokens per resource, registrations per issuer).
#[pyclass(frozen, module = "mcp_auth", name = "FileStorage")]
pub(crate) struct PyFileStorage {
    inner: std::sync::Arc<FileStorage>,
}

#[pymethods]
impl PyFileStorage {
    /// A store at `path` (a `str` or path-like; a leading `~` is expanded as
    /// `os.path.expanduser` does; default: `FileStorage.default_path()`). `lock_timeout`
    /// (seconds) bounds the wait for another process's lock (default 10).
    #[new]
    #[pyo3(signature = (path = None, *, lock_timeout = None))]
    fn new(
        py: Python<'_>,
        path: Option<&Bound<'_, PyAny>>,
        lock_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let path = match path {
            Some(p) => {
                let os_path = py.import("os.path")?;
                let p = py.import("os")?.call_method1("fspath", (p,))?;
                os_path
                    .call_method1("expanduser", (p,))?
                    .extract::<PathBuf>()?
            }
            None => FileStorage::default_path().ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(
                    "no default credential file: set MCP_AUTH_HOME, XDG_CONFIG_HOME or HOME",
                )
            })?,
        };
        let mut store = FileStorage::new(path);
        if let Some(secs) = lock_timeout {
            let t = Duration::try_from_secs_f64(secs).map_err(|_| {
                pyo3::exceptions::PyValueError::new_err("lock_timeout must be a finite number >= 0")
            })?;
            store = store.with_lock_timeout(t);
        }
        Ok(PyFileStorage {
            inner: std::sync::Arc::new(store),
        })
    }

    /// `$MCP_AUTH_HOME/credentials.json`, else `$XDG_CONFIG_HOME/mcp-auth/credentials.json`,
    /// else `~/.config/mcp-auth/credentials.json` (`None` without any of these variables).
    #[staticmethod]
    fn default_path() -> Option<PathBuf> {
        FileStorage::default_path()
    }

    /// The file's path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    /// The tokens stored for a protected resource (its canonical URL), if any.
    fn get_tokens(&self, py: Python<'_>, resource: String) -> PyResult<Option<PyOAuthToken>> {
        let s = self.inner.clone();
        run(py, move || s.get_tokens(&resource)).map(|t| t.map(|inner| PyOAuthToken { inner }))
    }

    /// Store the tokens for a protected resource.
    fn set_tokens(
        &self,
        py: Python<'_>,
        resource: String,
        tokens: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let tokens = PyOAuthToken::extract_core(tokens)?;
        let s = self.inner.clone();
        run(py, move || s.set_tokens(&resource, &tokens))
    }

    /// Forget the tokens of a protected resource.
    fn remove_tokens(&self, py: Python<'_>, resource: String) -> PyResult<()> {
        let s = self.inner.clone();
        run(py, move || s.remove_tokens(&resource))
    }

    /// The client registration stored for an authorization server issuer, if any.
    fn get_client_info(
        &self,
        py: Python<'_>,
        issuer: String,
    ) -> PyResult<Option<PyOAuthClientInformationFull>> {
        let s = self.inner.clone();
        run(py, move || s.get_client_info(&issuer))
            .map(|c| c.map(|inner| PyOAuthClientInformationFull { inner }))
    }

    /// Store the client registration for an authorization server issuer.
    fn set_client_info(
        &self,
        py: Python<'_>,
        issuer: String,
        info: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let info = PyOAuthClientInformationFull::extract_core(info)?;
        let s = self.inner.clone();
        run(py, move || s.set_client_info(&issuer, &info))
    }

    /// Forget the client registration of an issuer (the next authorization registers anew).
    fn remove_client_info(&self, py: Python<'_>, issuer: String) -> PyResult<()> {
        let s = self.inner.clone();
        run(py, move || s.remove_client_info(&issuer))
    }

    fn __repr__(&self) -> String {
        format!("FileStorage({:?})", self.inner.path().display().to_string())
    }
}
