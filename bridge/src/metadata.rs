//! Serving the upstream's protected resource metadata (RFC 9728) from the proxy, for when
//! `resource_metadata` is rewritten to a URL the proxy serves.

use mcp_auth::checks::require_secure_url;
use mcp_auth::http::{HttpClient, redact_url};
use mcp_auth::metadata::ProtectedResourceMetadata;
use mcp_auth::{Error, Result};

/// The body a proxy serves at its own `resource_metadata` URL, from the upstream's protected
/// resource metadata document (RFC 9728 §2, §3.2).
///
/// The document is validated ([`ProtectedResourceMetadata::from_json`]: a JSON object with a
/// `resource` and valid members) so that the proxy never relays something a client would
/// reject anyway, then written back as compact JSON with every member kept. With `resource`,
/// the `resource` member is replaced: RFC 9728 §3.3 makes a client reject metadata whose
/// `resource` is not the URL it sent its request to, which for a browser is the proxy's. Only
/// rewrite it when the upstream accepts tokens issued for that resource (RFC 8707 audience),
/// for instance when the proxy is the resource server as far as the authorization server
/// knows; otherwise relay it unchanged.
///
/// # Errors
/// [`Error::InvalidResponse`] (what: `"protected resource metadata"`) when the body is not
/// valid metadata; [`Error::InvalidArgument`] when `resource` is not an absolute URL.
pub fn relay_protected_resource_metadata(body: &[u8], resource: Option<&str>) -> Result<Vec<u8>> {
    ProtectedResourceMetadata::from_json(body)?;
    let mut doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| Error::invalid_response("protected resource metadata", e.to_string(), None))?;
    if let Some(r) = resource {
        url::Url::parse(r).map_err(|e| Error::invalid_argument("resource", e.to_string()))?;
        doc.insert("resource".to_owned(), r.into());
    }
    serde_json::to_vec(&doc).map_err(|e| Error::Internal {
        message: format!("serializing metadata: {e}"),
    })
}

/// Fetch the upstream's protected resource metadata at `url` (a `GET` with
/// `Accept: application/json`, RFC 9728 §3.1) through `http` and return the body to relay
/// ([`relay_protected_resource_metadata`]).
///
/// `url` must be `https` or a loopback `http` URL (OAuth 2.1 §1.5), the rule mcp-auth applies
/// to every metadata URL. Use an [`HttpClient`] that does not follow redirects, such as the
/// default [`UreqHttpClient`](mcp_auth::http::UreqHttpClient): the proxy must not become a
/// fetcher of whatever a redirect names.
///
/// # Errors
/// [`Error::InsecureUrl`]; transport errors of `http`; [`Error::InvalidResponse`] with the
/// status when the answer is not `200` or not valid metadata.
pub fn fetch_protected_resource_metadata(
    http: &dyn HttpClient,
    url: &str,
    resource: Option<&str>,
) -> Result<Vec<u8>> {
    require_secure_url("protected resource metadata", url)?;
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| Error::invalid_argument("protected resource metadata URL", e.to_string()))?;
    let response = http.execute(request)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Error::invalid_response(
            "protected resource metadata",
            format!("HTTP {status} from {}", redact_url(url)),
            Some(status),
        ));
    }
    relay_protected_resource_metadata(response.body(), resource)
}
