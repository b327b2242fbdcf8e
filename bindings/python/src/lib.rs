//! `mcp_auth._native`: the Python bindings of mcp-auth. They only translate: arguments in, a
//! core call (with the GIL released for anything that may block), results and errors out.
//! The public API is the pure-Python package `mcp_auth`, which re-exports these.

mod bridge;
mod challenge;
mod client;
mod convert;
mod errors;
mod functions;
mod models;
mod storage;
mod stream;

use pyo3::prelude::*;

/// The native module.
#[pymodule(gil_used = false)]
mod _native {
    #[pymodule_export]
    use crate::bridge::{
        PyBridgeOptions, PyCorsPolicy, PyDownstreamResponse, PyRelayedChallenge, bridge_captured,
        bridge_error, bridge_error_json, bridge_response, bridge_response_json, challenge_json,
        fetch_protected_resource_metadata, is_challenge_status, merge_expose_headers,
        merge_field_names, preflight, preflight_json, relay_protected_resource_metadata,
        rewrite_resource_metadata, upstream_request_headers, upstream_request_headers_json,
    };
    #[pymodule_export]
    use crate::challenge::{PyBearerChallenge, PyCapturedChallenge, PyChallenge};
    #[pymodule_export]
    use crate::client::{
        PyCancelToken, PyClient, PyDiscovery, PyProbeResult, PyResponse, PyRevocation, PyTraceEvent,
    };
    #[pymodule_export]
    use crate::functions::{
        PyPkceParameters, bearer_challenge,
        build_oauth_authorization_server_metadata_discovery_urls,
        build_protected_resource_metadata_discovery_urls, check_registration_usable,
        check_resource_allowed, client_secret_basic_header, code_challenge_s256,
        create_client_info_from_metadata_url, create_client_registration_request,
        credentials_match_issuer, extract_field_from_www_auth,
        extract_resource_metadata_from_www_auth, extract_scope_from_www_auth, generate_state,
        get_client_metadata_scopes, handle_registration_response, handle_token_response_scopes,
        is_valid_client_metadata_url, issuers_match, parse_www_authenticate, prepare_token_auth,
        resource_param_for, resource_url_from_server_url, should_include_resource_param,
        should_use_client_metadata_url, union_scopes, validate_authorization_response_iss,
        validate_metadata_issuer, validate_resource_match,
    };
    #[pymodule_export]
    use crate::models::{
        PyOAuthClientInformationFull, PyOAuthClientMetadata, PyOAuthMetadata, PyOAuthToken,
        PyProtectedResourceMetadata,
    };
    #[pymodule_export]
    use crate::storage::PyFileStorage;
    #[pymodule_export]
    use crate::stream::{PyServerSentEvent, PyStreamedResponse};

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        crate::errors::record_main_thread(m.py())?;
        m.add("ERROR_KINDS", crate::errors::error_kinds())?;
        crate::bridge::add_constants(m)?;
        // The core's `log` records go to `logging.getLogger("mcp_auth")` and its children
        // (`mcp_auth.trace`, ...), from every thread; the HTTP library's only from WARNING. The
        // loggers are cached, their levels are read per record (so `setLevel` works at any
        // time). Another `log` logger already installed in this module's copy of `log` is kept.
        let _ = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::Loggers)?
            .filter(log::LevelFilter::Warn)
            .filter_target("mcp_auth".to_owned(), log::LevelFilter::Debug)
            .install();
        Ok(())
    }
}
