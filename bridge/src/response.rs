//! The downstream response: what a proxy sends for an upstream response, a captured challenge or
//! an [`Error::Unauthorized`].

use mcp_auth::{CapturedChallenge, Error, Result};
use serde::{Deserialize, Serialize};

use crate::challenge::rewrite;
use crate::cors::is_cors_response_field;
use crate::headers::{
    NOT_FORWARDED_RESPONSE, connection_tokens, is_valid_field, merge_field_names,
};
use crate::{
    ACCESS_CONTROL_EXPOSE_HEADERS, BridgeOptions, HeaderPair, RelayedChallenge, WWW_AUTHENTICATE,
    merge_expose_headers,
};

/// What the proxy sends downstream: the status, the complete header list (framing headers
/// excepted: the proxy's HTTP server writes `Content-Length` or chunked coding for the body it
/// sends, RFC 9112 §6), and for 401/403 the structured challenge.
///
/// JSON: `{"status":401,"headers":[["WWW-Authenticate","Bearer …"],…],"challenge":{…}|null}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DownstreamResponse {
    /// The status to send: the upstream's, unchanged.
    pub status: u16,
    /// The header fields to send, in order; several fields of one name are several pairs.
    pub headers: Vec<HeaderPair>,
    /// The structured challenge, for 401 and 403 ([`RelayedChallenge`]); `None` otherwise.
    pub challenge: Option<RelayedChallenge>,
}

impl DownstreamResponse {
    /// Every value of the header `name` (compared case-insensitively), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Compact JSON (see the type docs).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned())
    }
}

/// Whether `status` carries an authorization challenge the client must see: 401 (RFC 9110
/// §15.5.2, `WWW-Authenticate` required) or 403 (RFC 6750 §3.1 `insufficient_scope`, the MCP
/// step-up signal).
pub fn is_challenge_status(status: u16) -> bool {
    status == 401 || status == 403
}

/// The downstream response for an upstream response with this `status` and these headers.
///
/// - The status is unchanged.
/// - Every upstream field is copied, in order, names as sent, except hop-by-hop fields and
///   those named in `Connection` (RFC 9110 §7.6.1), `Trailer`, `Content-Length`,
///   `Proxy-Authenticate` and `Proxy-Authentication-Info` (RFC 9110 §11.7.1, §11.7.3), and
///   invalid pairs (see the [crate docs](crate)).
/// - Every `WWW-Authenticate` value (RFC 9110 §11.6.1) is copied verbatim, one pair per field
///   line as received, so several challenges and several lines survive; with
///   [`BridgeOptions::resource_metadata_url`] only the `resource_metadata` values
///   (RFC 9728 §5.1) change, the rest of each line byte-for-byte.
/// - One `Access-Control-Expose-Headers` field replaces the upstream's: the upstream's names
///   merged with [`EXPOSED_HEADERS`](crate::EXPOSED_HEADERS) ([`merge_expose_headers`]). It is sent on every status,
///   since a 200 `initialize` carries `Mcp-Session-Id`.
/// - With [`BridgeOptions::cors`], the upstream's `Access-Control-Allow-*` and
///   `Access-Control-Max-Age` fields are replaced by the policy's for `origin` (the request's
///   `Origin` header) ([`CorsPolicy::response_headers`](crate::CorsPolicy::response_headers)), and the upstream's `Vary` fields
///   become one, with `Origin` added when the origin is echoed (RFC 9110 §12.5.5).
/// - For 401/403, [`DownstreamResponse::challenge`] is the structured challenge.
///
/// # Errors
/// [`Error::InvalidArgument`] only when the options are invalid ([`BridgeOptions::validate`]).
pub fn bridge_response<K: AsRef<str>, V: AsRef<str>>(
    status: u16,
    upstream: &[(K, V)],
    origin: Option<&str>,
    options: &BridgeOptions,
) -> Result<DownstreamResponse> {
    options.validate()?;
    let connection_listed = connection_tokens(upstream);
    let mut headers: Vec<HeaderPair> = Vec::with_capacity(upstream.len() + 4);
    let mut expose_values: Vec<&str> = Vec::new();
    let mut challenges: Vec<String> = Vec::new();
    let mut vary_values: Vec<&str> = Vec::new();
    for (name, value) in upstream {
        let (name, value) = (name.as_ref(), value.as_ref());
        if !is_valid_field(name, value) {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if NOT_FORWARDED_RESPONSE.contains(&lower.as_str()) || connection_listed.contains(&lower) {
            continue;
        }
        if lower == "access-control-expose-headers" {
            expose_values.push(value);
            continue;
        }
        if options.cors.is_some() && is_cors_response_field(&lower) {
            continue;
        }
        if options.cors.is_some() && lower == "vary" {
            // Merged below with the `Origin` an echoed origin needs, into one field.
            vary_values.push(value);
            continue;
        }
        if lower == "www-authenticate" {
            let value = rewrite(value, options);
            challenges.push(value.clone());
            headers.push((name.to_owned(), value));
            continue;
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    headers.push((
        ACCESS_CONTROL_EXPOSE_HEADERS.to_owned(),
        merge_expose_headers(expose_values),
    ));
    if let Some(cors) = &options.cors {
        let mut needs_origin = false;
        for (name, value) in cors.response_headers(origin) {
            if name.eq_ignore_ascii_case("vary") {
                needs_origin = true;
            } else {
                headers.push((name, value));
            }
        }
        // `Vary: *` already covers Origin (RFC 9110 §12.5.5).
        let star = vary_values
            .iter()
            .flat_map(|v| v.split(','))
            .any(|n| n.trim() == "*");
        let add: &[&str] = if needs_origin && !star {
            &["Origin"]
        } else {
            &[]
        };
        let vary = merge_field_names(&vary_values, add);
        if !vary.is_empty() {
            headers.push(("Vary".to_owned(), vary));
        }
    }
    Ok(DownstreamResponse {
        status,
        headers,
        challenge: RelayedChallenge::from_values(status, &challenges),
    })
}

/// The downstream response for a challenge captured by [`Client::send`](mcp_auth::Client::send)
/// (the last 401/403 it saw) when the proxy has no upstream response to copy: the captured
/// status, every captured `WWW-Authenticate` value (rewritten as in [`bridge_response`]), the
/// merged `Access-Control-Expose-Headers`, and the CORS headers of
/// [`BridgeOptions::cors`]. The body is the proxy's choice, e.g.
/// [`RelayedChallenge::error_body`] with `Content-Type: application/json`.
///
/// # Errors
/// [`Error::InvalidArgument`] only when the options are invalid.
pub fn bridge_captured(
    captured: &CapturedChallenge,
    origin: Option<&str>,
    options: &BridgeOptions,
) -> Result<DownstreamResponse> {
    let pairs: Vec<(&str, &str)> = captured
        .www_authenticate
        .iter()
        .map(|v| (WWW_AUTHENTICATE, v.as_str()))
        .collect();
    bridge_response(captured.status, &pairs, origin, options)
}

/// The downstream response for an error returned by [`Client::send`](mcp_auth::Client::send):
/// for [`Error::Unauthorized`] (the server still answered 401/403 after the allowed
/// authorizations), its status and `WWW-Authenticate` values bridged as in
/// [`bridge_captured`]; `None` for every other error (the proxy answers those as it sees fit,
/// typically 502).
///
/// # Errors
/// [`Error::InvalidArgument`] only when the options are invalid.
pub fn bridge_error(
    error: &Error,
    origin: Option<&str>,
    options: &BridgeOptions,
) -> Result<Option<DownstreamResponse>> {
    let Error::Unauthorized {
        status,
        www_authenticate,
        ..
    } = error
    else {
        return Ok(None);
    };
    let pairs: Vec<(&str, &str)> = www_authenticate
        .iter()
        .map(|v| (WWW_AUTHENTICATE, v.as_str()))
        .collect();
    bridge_response(*status, &pairs, origin, options).map(Some)
}
