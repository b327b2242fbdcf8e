//! JSON in and out, for the C ABI and Python: the same operations on JSON text.

use mcp_auth::{Error, Result};

use crate::{
    BridgeOptions, CorsPolicy, HeaderPair, RelayedChallenge, bridge_error, bridge_response,
    preflight, upstream_request_headers,
};

/// Parse header pairs from JSON: an array of `[name, value]` arrays, e.g.
/// `[["WWW-Authenticate","Bearer …"],["Content-Type","application/json"]]`. Order and
/// repetitions are kept.
///
/// # Errors
/// [`Error::InvalidArgument`] for anything else.
pub fn header_pairs_from_json(json: &str) -> Result<Vec<HeaderPair>> {
    serde_json::from_str(json).map_err(|e| {
        Error::invalid_argument(
            "headers",
            format!("expected a JSON array of [name, value] string pairs: {e}"),
        )
    })
}

/// [`bridge_response`] with JSON in and out: `headers_json` as in
/// [`header_pairs_from_json`], `options_json` as in [`BridgeOptions::from_json`] (`None`, `""`
/// or `null` for the default); returns [`DownstreamResponse::to_json`](crate::DownstreamResponse::to_json).
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed JSON or invalid options.
pub fn bridge_response_json(
    status: u16,
    headers_json: &str,
    origin: Option<&str>,
    options_json: Option<&str>,
) -> Result<String> {
    let headers = header_pairs_from_json(headers_json)?;
    let options = BridgeOptions::from_json(options_json.unwrap_or(""))?;
    Ok(bridge_response(status, &headers, origin, &options)?.to_json())
}

/// [`bridge_error`] with JSON options in and JSON out: the [`DownstreamResponse`](crate::DownstreamResponse) JSON, or
/// `null` when the error carries no challenge.
///
/// # Errors
/// [`Error::InvalidArgument`] for invalid options.
pub fn bridge_error_json(
    error: &Error,
    origin: Option<&str>,
    options_json: Option<&str>,
) -> Result<String> {
    let options = BridgeOptions::from_json(options_json.unwrap_or(""))?;
    Ok(bridge_error(error, origin, &options)?.map_or_else(|| "null".to_owned(), |d| d.to_json()))
}

/// [`preflight`] with JSON in and out: `cors_json` is a [`CorsPolicy`] (`None`, `""` or
/// `null` for the default, any origin).
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed JSON.
pub fn preflight_json(request_headers_json: &str, cors_json: Option<&str>) -> Result<String> {
    let headers = header_pairs_from_json(request_headers_json)?;
    let cors_json = cors_json.map(str::trim).unwrap_or("");
    let policy = if cors_json.is_empty() || cors_json == "null" {
        CorsPolicy::default()
    } else {
        from_json_object(cors_json, "CORS policy")?
    };
    Ok(preflight(&headers, &policy).to_json())
}

/// [`upstream_request_headers`] with JSON in and out (arrays of `[name, value]` pairs).
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed header JSON.
pub fn upstream_request_headers_json(request_headers_json: &str) -> Result<String> {
    let headers = header_pairs_from_json(request_headers_json)?;
    serde_json::to_string(&upstream_request_headers(&headers)).map_err(|e| Error::Internal {
        message: format!("serializing headers: {e}"),
    })
}

/// [`RelayedChallenge::from_headers`] with JSON in and out: the challenge JSON, or `null`
/// unless the status is 401 or 403.
///
/// # Errors
/// [`Error::InvalidArgument`] for malformed header JSON.
pub fn challenge_json(status: u16, headers_json: &str) -> Result<String> {
    let headers = header_pairs_from_json(headers_json)?;
    Ok(RelayedChallenge::from_headers(status, &headers)
        .map_or_else(|| "null".to_owned(), |c| c.to_json()))
}

/// Deserialize `T` from a JSON object, and only an object (serde would also accept an array
/// for a struct, which no caller means).
pub(crate) fn from_json_object<T: serde::de::DeserializeOwned>(
    json: &str,
    what: &'static str,
) -> Result<T> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::invalid_argument(what, e.to_string()))?;
    if !value.is_object() {
        return Err(Error::invalid_argument(what, "expected a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| Error::invalid_argument(what, e.to_string()))
}
