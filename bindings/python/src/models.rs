//! The metadata, client and token models of `mcp_auth::metadata` as frozen Python classes:
//! typed attributes, `from_json`/`from_dict`/`to_dict`/`to_json` (and the pydantic spellings
//! `model_validate`/`model_validate_json`/`model_dump`/`model_dump_json`), a `repr` that never
//! shows a secret. Parsing and validation are the core's.

use mcp_auth::metadata::{
    OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata, OAuthToken,
    ProtectedResourceMetadata,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{Map, Value};

use crate::convert::{document, map_to_py, py_str_repr, py_to_value, value_to_py};
use crate::errors::to_pyerr;

/// How a secret is shown by `repr`.
const REDACTED: &str = "'***'";

/// Member names whose values are secrets whatever the model (an extra member of a model that
/// does not define it, e.g. a client registration given as client metadata), at any depth.
const SECRET_MEMBERS: [&str; 10] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "registration_access_token",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "subject_token",
];

fn is_secret_member(name: &str) -> bool {
    SECRET_MEMBERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

fn repr_value(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str_repr(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(repr_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| {
                    let shown = if is_secret_member(k) {
                        REDACTED.to_owned()
                    } else {
                        repr_value(v)
                    };
                    format!("{}: {shown}", py_str_repr(k))
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `Name(field=value, …)` over the serialized model; `secrets` and, when `redact_extra`, the
/// values of unmodelled members are shown as `'***'`.
fn model_repr(
    name: &str,
    value: &Value,
    secrets: &[&str],
    extra: &Map<String, Value>,
    redact_extra: bool,
) -> String {
    let Value::Object(map) = value else {
        return format!("{name}()");
    };
    let fields: Vec<String> = map
        .iter()
        .map(|(k, v)| {
            let shown = if secrets.contains(&k.as_str())
                || is_secret_member(k)
                || (redact_extra && extra.contains_key(k))
            {
                REDACTED.to_owned()
            } else {
                repr_value(v)
            };
            format!("{k}={shown}")
        })
        .collect();
    format!("{name}({})", fields.join(", "))
}

/// The JSON object described by `data` (a `str`/`bytes` document, a dict, or a model) with
/// `kwargs` merged over it.
fn input(data: Option<&Bound<'_, PyAny>>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Value> {
    let mut value = match data {
        Some(d) => document(d)?,
        None => Value::Object(Map::new()),
    };
    if let Some(kw) = kwargs {
        if let (Value::Object(map), Value::Object(more)) = (&mut value, py_to_value(kw.as_any())?) {
            map.extend(more);
        }
    }
    Ok(value)
}

macro_rules! model {
    (
        $(#[$doc:meta])*
        $py:ident, $core:ty, $name:literal,
        secrets: [$($secret:literal),*], redact_extra: $redact:literal,
        fields: [$($field:ident),* $(,)?]
        $(, methods: { $($methods:tt)* })?
    ) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "mcp_auth", name = $name)]
        #[derive(Clone)]
        pub(crate) struct $py {
            pub(crate) inner: $core,
        }

        impl $py {
            pub(crate) fn value(&self) -> Value {
                serde_json::to_value(&self.inner).unwrap_or(Value::Null)
            }

            pub(crate) fn parse(py: Python<'_>, value: Value) -> PyResult<Self> {
                <$core>::from_value(value)
                    .map(|inner| $py { inner })
                    .map_err(|e| to_pyerr(py, &e))
            }

            fn parse_json(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
                // Parsed in place from the str's UTF-8 or the bytes' buffer: no copy.
                let parsed = if let Ok(s) = data.cast::<PyString>() {
                    <$core>::from_json(s.to_str()?.as_bytes())
                } else if let Ok(b) = data.cast::<pyo3::types::PyBytes>() {
                    <$core>::from_json(b.as_bytes())
                } else {
                    return Err(pyo3::exceptions::PyTypeError::new_err("from_json takes str or bytes"));
                };
                parsed.map(|inner| $py { inner }).map_err(|e| to_pyerr(py, &e))
            }

            /// The core value of `obj`: this class (copied), or anything `parse` accepts.
            pub(crate) fn extract_core(obj: &Bound<'_, PyAny>) -> PyResult<$core> {
                if let Ok(m) = obj.cast::<$py>() {
                    return Ok(m.get().inner.clone());
                }
                Ok(Self::parse(obj.py(), document(obj)?)?.inner)
            }
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (data = None, /, **kwargs))]
            fn new(
                py: Python<'_>,
                data: Option<&Bound<'_, PyAny>>,
                kwargs: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<Self> {
                Self::parse(py, input(data, kwargs)?)
            }

            /// Parse and validate a JSON document (`str` or `bytes`).
            #[staticmethod]
            fn from_json(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
                Self::parse_json(py, data)
            }

            /// Validate a dict (or another model).
            #[staticmethod]
            fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
                Self::parse(py, document(data)?)
            }

            /// pydantic spelling of `from_dict`.
            #[staticmethod]
            fn model_validate(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
                Self::parse(py, document(data)?)
            }

            /// pydantic spelling of `from_json`.
            #[staticmethod]
            fn model_validate_json(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
                Self::parse_json(py, data)
            }

            /// The members as a dict (absent members left out, unmodelled members included).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                value_to_py(py, &self.value())
            }

            /// Compact JSON.
            fn to_json(&self) -> String {
                self.inner.to_json()
            }

            /// pydantic spelling of `to_dict` (arguments are accepted and ignored).
            #[pyo3(signature = (*_args, **_kwargs))]
            fn model_dump<'py>(
                &self,
                py: Python<'py>,
                _args: &Bound<'py, pyo3::types::PyTuple>,
                _kwargs: Option<&Bound<'py, PyDict>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                value_to_py(py, &self.value())
            }

            /// pydantic spelling of `to_json` (arguments are accepted and ignored).
            #[pyo3(signature = (*_args, **_kwargs))]
            fn model_dump_json(
                &self,
                _args: &Bound<'_, pyo3::types::PyTuple>,
                _kwargs: Option<&Bound<'_, PyDict>>,
            ) -> String {
                self.inner.to_json()
            }

            /// Members not modelled by this class, as received.
            #[getter]
            fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                map_to_py(py, &self.inner.extra)
            }

            $(
                #[getter]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    let v = serde_json::to_value(&self.inner.$field).unwrap_or(Value::Null);
                    value_to_py(py, &v)
                }
            )*

            fn __repr__(&self) -> String {
                model_repr($name, &self.value(), &[$($secret),*], &self.inner.extra, $redact)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<$py>()
                    .map(|o| self.value() == o.get().value())
                    .unwrap_or(false)
            }

            $($($methods)*)?

            fn __copy__(&self) -> Self {
                self.clone()
            }

            fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
                self.clone()
            }

            fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
                let from_json = py.get_type::<$py>().getattr("from_json")?;
                Ok((from_json, (self.inner.to_json(),)))
            }
        }
    };
}

model!(
    /// A token response (RFC 6749 §5.1), as received and stored; `expires_at` is the absolute
    /// expiry (Unix seconds). `repr` never shows the tokens.
    PyOAuthToken, OAuthToken, "OAuthToken",
    secrets: ["access_token", "refresh_token"], redact_extra: true,
    fields: [access_token, token_type, expires_in, scope, refresh_token, expires_at],
    methods: {
    /// Whether the token has expired at `now` (Unix seconds, default: the clock), treating it
    /// as expired `skew` seconds early. A token without `expires_at` never counts as expired.
    #[pyo3(signature = (now = None, skew = 0))]
    fn is_expired(&self, now: Option<u64>, skew: u64) -> bool {
        self.inner
            .is_expired(now.unwrap_or_else(mcp_auth::token::now_unix), skew)
    }

    /// Whether this is a DPoP-bound token (RFC 9449).
    fn is_dpop(&self) -> bool {
        self.inner.is_dpop()
    }

    /// A copy with `expires_at = now + expires_in` (default `now`: the clock).
    #[pyo3(signature = (now = None))]
    fn with_expiry_from(&self, now: Option<u64>) -> Self {
        PyOAuthToken {
            inner: self
                .inner
                .clone()
                .with_expiry_from(now.unwrap_or_else(mcp_auth::token::now_unix)),
        }
    }
    }
);

model!(
    /// Authorization server metadata (RFC 8414 §2).
    PyOAuthMetadata, OAuthMetadata, "OAuthMetadata",
    secrets: [], redact_extra: false,
    fields: [
        issuer, authorization_endpoint, token_endpoint, registration_endpoint, scopes_supported,
        response_types_supported, response_modes_supported, grant_types_supported,
        token_endpoint_auth_methods_supported, token_endpoint_auth_signing_alg_values_supported,
        service_documentation, ui_locales_supported, op_policy_uri, op_tos_uri,
        revocation_endpoint, revocation_endpoint_auth_methods_supported,
        revocation_endpoint_auth_signing_alg_values_supported, introspection_endpoint,
        introspection_endpoint_auth_methods_supported,
        introspection_endpoint_auth_signing_alg_values_supported,
        code_challenge_methods_supported, client_id_metadata_document_supported,
        authorization_response_iss_parameter_supported, authorization_grant_profiles_supported,
        dpop_signing_alg_values_supported,
    ]
);

model!(
    /// OAuth 2.0 protected resource metadata (RFC 9728 §2).
    PyProtectedResourceMetadata, ProtectedResourceMetadata, "ProtectedResourceMetadata",
    secrets: [], redact_extra: false,
    fields: [
        resource, authorization_servers, jwks_uri, scopes_supported, bearer_methods_supported,
        resource_signing_alg_values_supported, resource_name, resource_documentation,
        resource_policy_uri, resource_tos_uri, tls_client_certificate_bound_access_tokens,
        authorization_details_types_supported, dpop_signing_alg_values_supported,
        dpop_bound_access_tokens_required,
    ]
);

model!(
    /// Client metadata sent with dynamic registration (RFC 7591 §2).
    PyOAuthClientMetadata, OAuthClientMetadata, "OAuthClientMetadata",
    secrets: [], redact_extra: false,
    fields: [
        redirect_uris, token_endpoint_auth_method, grant_types, response_types, scope,
        client_name, client_uri, logo_uri, tos_uri, policy_uri, jwks_uri, contacts, jwks,
        software_id, software_version, application_type,
    ],
    methods: {
    /// The RFC 7591 §3.1 registration request body.
    fn registration_body<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.inner.registration_body())
    }
    }
);

model!(
    /// A registered client (RFC 7591 §3.2.1) with the SEP-2352 `issuer` binding. `repr` never
    /// shows the secret.
    PyOAuthClientInformationFull, OAuthClientInformationFull, "OAuthClientInformationFull",
    secrets: ["client_secret"], redact_extra: true,
    fields: [
        client_id, client_secret, client_id_issued_at, client_secret_expires_at, issuer,
        redirect_uris, token_endpoint_auth_method, grant_types, response_types, scope,
        client_name, client_uri, logo_uri, tos_uri, policy_uri, jwks_uri, contacts, jwks,
        software_id, software_version, application_type,
    ]
);
