//! Getting a client identity: dynamic client registration (RFC 7591), Client ID Metadata
//! Documents (CIMD, draft-ietf-oauth-client-id-metadata-document), and the SEP-2352 binding of
//! stored credentials to the authorization server that issued them.
//!
//! The functions here are pure: [`create_client_registration_request`] builds the request and
//! [`handle_registration_response`] interprets the answer. The `identity` submodule is the step
//! that uses them: the one place that decides which client credentials a grant uses.

mod hygiene;
pub(crate) mod identity;
mod update;

pub(crate) use identity::{Identity, KnownClient};

use crate::checks::{issuers_match, urlsplit, urlunsplit};
use crate::metadata::{
    OAuthClientInformationFull, OAuthClientMetadata, OAuthMetadata, normalize_any_url, parse_object,
};
use crate::{Error, OAuthErrorResponse, Result};

/// The `token_endpoint_auth_method`s the reference can authenticate with, and so accepts in a
/// registration: `none`, `client_secret_post`, `client_secret_basic` (an absent method is
/// accepted too).
pub const DEFAULT_SUPPORTED_AUTH_METHODS: [&str; 3] =
    ["none", "client_secret_post", "client_secret_basic"];

/// A registration request (RFC 7591 §3.1), ready to send: `POST` of the client metadata as
/// JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrationRequest {
    /// Always `POST`.
    pub method: http::Method,
    /// The registration endpoint.
    pub url: String,
    /// `Content-Type: application/json` and `Accept: application/json`.
    pub headers: Vec<(String, String)>,
    /// The client metadata ([`OAuthClientMetadata::registration_body`]).
    pub body: serde_json::Value,
}

impl RegistrationRequest {
    /// The request as an [`http::Request`] with the JSON-encoded body.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `url` or a header was changed to something that is not
    /// valid HTTP (a request from [`create_client_registration_request`] always converts).
    pub fn try_to_http(&self) -> Result<http::Request<Vec<u8>>> {
        let body = serde_json::to_vec(&self.body).expect("a serde_json::Value always serializes");
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !has("content-type") {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        if !has("accept") {
            builder = builder.header(http::header::ACCEPT, "application/json");
        }
        builder
            .body(body)
            .map_err(|e| Error::invalid_argument("registration request", e.to_string()))
    }

    /// The request as an [`http::Request`] with the JSON-encoded body, `Content-Type:
    /// application/json` and `Accept: application/json`.
    ///
    /// # Panics
    /// Only if `url` or `headers` were changed by hand to something that is not valid HTTP;
    /// use [`try_to_http`](Self::try_to_http) for such values.
    pub fn to_http(&self) -> http::Request<Vec<u8>> {
        self.try_to_http().expect(
            "a registration request built by create_client_registration_request is valid HTTP",
        )
    }
}

/// Build the RFC 7591 §3.1 registration request.
///
/// The endpoint is the metadata's `registration_endpoint`, else `/register` at the origin of
/// `auth_base_url` (Python's `urljoin(auth_base_url, "/register")`: scheme and authority kept,
/// path, query and fragment replaced). The body is
/// [`OAuthClientMetadata::registration_body`]: `token_endpoint_auth_method` is left out unless
/// set, so the server chooses.
///
/// The endpoint's transport security is the caller's to check
/// ([`crate::checks::require_secure_url`]), as for every other endpoint.
///
/// # Errors
/// [`Error::InvalidArgument`] when the client metadata fails
/// [`OAuthClientMetadata::validate`], or when `auth_base_url` (needed only without a
/// `registration_endpoint`) is not an absolute http(s) URL.
pub fn create_client_registration_request(
    asm: Option<&OAuthMetadata>,
    client_metadata: &OAuthClientMetadata,
    auth_base_url: &str,
) -> Result<RegistrationRequest> {
    client_metadata.validate()?;
    let url = match asm.and_then(|a| a.registration_endpoint.as_deref()) {
        Some(endpoint) => endpoint.to_owned(),
        None => {
            let base = urlsplit(auth_base_url)
                .filter(|s| matches!(s.scheme.as_str(), "http" | "https") && !s.netloc.is_empty())
                .ok_or_else(|| {
                    Error::invalid_argument(
                        "authorization base URL",
                        format!("{auth_base_url:?} is not an absolute http(s) URL"),
                    )
                })?;
            urlunsplit(&base.scheme, &base.netloc, "/register", "", "")
        }
    };
    if url.parse::<http::Uri>().is_err() {
        return Err(Error::invalid_argument(
            "registration endpoint",
            format!("{url:?} is not a valid request URI"),
        ));
    }
    Ok(RegistrationRequest {
        method: http::Method::POST,
        url,
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ],
        body: client_metadata.registration_body(),
    })
}

/// The `token_endpoint_auth_method` to ask for in a dynamic registration, from the AS's
/// `token_endpoint_auth_methods_supported` (RFC 8414 §2):
///
/// - no list, or a list with `client_secret_basic` (RFC 7591 §2's default): `None`, the
///   request leaves the member out and the server chooses, as before;
/// - otherwise the first of `client_secret_post`, `none` that the list names;
/// - a list naming neither: `None` (the server chooses; a method we cannot use is refused by
///   [`check_registration_usable_with`]).
///
/// A registration response that names no method then means the one asked for (see
/// [`effective_auth_method`]), never the RFC 7591 default the server said it does not support.
pub fn negotiate_auth_method(asm: Option<&OAuthMetadata>) -> Option<&'static str> {
    let supported = asm?.token_endpoint_auth_methods_supported.as_ref()?;
    if supported.iter().any(|m| m == "client_secret_basic") {
        return None;
    }
    ["client_secret_post", "none"]
        .into_iter()
        .find(|m| supported.iter().any(|s| s == m))
}

/// Leave `refresh_token` out of a dynamic registration's `grant_types` when the AS advertises
/// `grant_types_supported` (RFC 8414 §2) without it: an AS may refuse a registration asking
/// for a grant it does not offer (RFC 7591 §2; authlib does), and that grant is only ever an
/// extra (without refresh tokens the client authorizes again when a token expires). The grant
/// the flow itself uses is always asked for; a list that does not name it is the server's to
/// refuse, with its reason.
pub fn keep_advertised_grant_types(md: &mut OAuthClientMetadata, asm: Option<&OAuthMetadata>) {
    let Some(supported) = asm.and_then(|a| a.grant_types_supported.as_ref()) else {
        return;
    };
    if !supported.iter().any(|g| g == "refresh_token") {
        md.grant_types.retain(|g| g != "refresh_token");
    }
}

/// Fill in a registration response's missing `token_endpoint_auth_method` with the method the
/// request asked for (RFC 7591 §3.2.1: the response carries the registered metadata; a server
/// that leaves the member out registered what it was sent). A response that names a method
/// keeps it.
pub fn effective_auth_method(info: &mut OAuthClientInformationFull, requested: Option<&str>) {
    if info.token_endpoint_auth_method.is_none() {
        info.token_endpoint_auth_method = requested.map(str::to_owned);
    }
}

/// ` (redirected to X; not followed)` for a 3xx with a `Location`, X without userinfo, query
/// and fragment; empty otherwise.
fn redirect_note(response: &http::Response<Vec<u8>>) -> String {
    if !response.status().is_redirection() {
        return String::new();
    }
    let Some(location) = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return String::new();
    };
    let shown = match urlsplit(location) {
        Some(s) => {
            let host = s
                .netloc
                .rsplit_once('@')
                .map_or(s.netloc.as_str(), |(_, h)| h);
            urlunsplit(&s.scheme, host, &s.path, "", "")
        }
        None => location.split(['?', '#']).next().unwrap_or("").to_owned(),
    };
    format!(" (redirected to {shown}; not followed)")
}

/// Interpret a registration response (RFC 7591 §3.2).
///
/// - Only 200 and 201 are success. Anything else gives `Registration failed: {status} {body}`
///   (the reference's message), with ` (redirected to X; not followed)` after the status for a
///   redirect, and the RFC 7591 §3.2.2 error (`invalid_redirect_uri`, …) in
///   [`Error::Registration::oauth`](crate::Error::Registration) when the body is one.
/// - The body must be a UTF-8 JSON object. Its `issuer` member, if any, is removed unread: the
///   SEP-2352 binding is recorded by the client, never taken from the server.
/// - It is then parsed as [`OAuthClientInformationFull`] (members that are `null` or `""` are
///   dropped first, as in the reference).
///
/// The result is not yet known to be usable: call [`check_registration_usable`] (or
/// [`check_registration_usable_with`]) before storing it.
///
/// # Errors
/// [`Error::Registration`] with `status`: `Registration failed: …` for a non-success status,
/// `Invalid registration response: …` for a body that does not parse.
pub fn handle_registration_response(
    response: &http::Response<Vec<u8>>,
) -> Result<OAuthClientInformationFull> {
    let status = response.status().as_u16();
    let body = response.body();
    if status != 200 && status != 201 {
        return Err(Error::Registration {
            message: format!(
                "Registration failed: {status}{} {}",
                redirect_note(response),
                crate::token::body_snippet(body)
            ),
            status: Some(status),
            oauth: OAuthErrorResponse::from_json(body).map(Box::new),
        });
    }
    let invalid = |reason: String| Error::Registration {
        message: format!("Invalid registration response: {reason}"),
        status: Some(status),
        oauth: None,
    };
    let mut map = parse_object(body).map_err(invalid)?;
    map.remove("issuer");
    OAuthClientInformationFull::from_map(map).map_err(invalid)
}

/// [`check_registration_usable_with`] the reference's methods,
/// [`DEFAULT_SUPPORTED_AUTH_METHODS`].
///
/// # Errors
/// As [`check_registration_usable_with`].
pub fn check_registration_usable(ci: &OAuthClientInformationFull) -> Result<()> {
    check_registration_usable_with(ci, &DEFAULT_SUPPORTED_AUTH_METHODS)
}

/// Whether the client can authenticate as registered (RFC 7591 §3.2.1: the server may change
/// the requested `token_endpoint_auth_method`): the method must be absent or one of
/// `supported`, and a `client_secret_*` method needs a non-empty `client_secret`.
///
/// Run it before storing a registration and before any authorization request, so an unusable
/// registration fails early instead of at the token endpoint.
///
/// # Errors
/// [`Error::Registration`]:
/// `Authorization server registered the client with unsupported token_endpoint_auth_method '{m}'`
/// or `Authorization server registered the client for '{m}' but issued no client_secret`.
pub fn check_registration_usable_with(
    ci: &OAuthClientInformationFull,
    supported: &[&str],
) -> Result<()> {
    let Some(method) = ci.token_endpoint_auth_method.as_deref() else {
        return Ok(());
    };
    let fail = |message: String| Error::Registration {
        message,
        status: None,
        oauth: None,
    };
    if !supported.contains(&method) {
        return Err(fail(format!(
            "Authorization server registered the client with unsupported token_endpoint_auth_method '{method}'"
        )));
    }
    if method.starts_with("client_secret_")
        && ci.client_secret.as_ref().is_none_or(|s| s.is_empty())
    {
        return Err(fail(format!(
            "Authorization server registered the client for '{method}' but issued no client_secret"
        )));
    }
    Ok(())
}

/// Whether `url` can be a CIMD client identifier (draft-ietf-oauth-client-id-metadata-document
/// §3): an `https` URL with a host and a path other than `/`, no fragment, no userinfo, and no
/// `.`/`..` path segments. A query is allowed.
///
/// Divergence (docs/differences.md `is_valid_client_metadata_url#12`): the reference checks only the scheme
/// and the path, so it accepts `https:///path`, which has no host.
pub fn is_valid_client_metadata_url(url: &str) -> bool {
    let Some(s) = urlsplit(url) else {
        return false;
    };
    let host = s
        .netloc
        .rsplit_once('@')
        .map_or(s.netloc.as_str(), |(_, h)| h);
    s.scheme == "https"
        && !host.is_empty()
        && !host.starts_with(':')
        && !s.netloc.contains('@')
        && !matches!(s.path.as_str(), "" | "/")
        && !s.path.split('/').any(|seg| seg == "." || seg == "..")
        && !url.contains('#')
        && url::Url::parse(url).is_ok()
}

/// Whether to use a CIMD URL as the client id instead of registering: a URL is configured
/// (non-empty) and the authorization server metadata says
/// `client_id_metadata_document_supported: true`.
pub fn should_use_client_metadata_url(
    asm: Option<&OAuthMetadata>,
    client_metadata_url: Option<&str>,
) -> bool {
    client_metadata_url.is_some_and(|u| !u.is_empty())
        && asm.is_some_and(|a| a.client_id_metadata_document_supported == Some(true))
}

/// The client information for a CIMD client: `client_id` is the document URL, the token
/// endpoint auth method `none` (a metadata document cannot carry a shared secret), no issuer
/// binding (a CIMD id is valid at every authorization server).
///
/// Redirect URIs are normalised like [`OAuthClientMetadata`]'s when they parse, else kept.
pub fn create_client_info_from_metadata_url(
    url: &str,
    redirect_uris: Option<Vec<String>>,
) -> OAuthClientInformationFull {
    let mut info = OAuthClientInformationFull::new(url);
    info.token_endpoint_auth_method = Some("none".to_owned());
    info.redirect_uris = redirect_uris.map(|uris| {
        uris.into_iter()
            .map(|u| normalize_any_url(&u).unwrap_or(u))
            .collect()
    });
    info
}

/// SEP-2352: whether stored client credentials may be used with the authorization server
/// `issuer`:
///
/// - a CIMD client id (equal to `client_metadata_url`) is portable: always `true`;
/// - credentials with no recorded issuer (pre-registered, or stored before the binding
///   existed) are kept: `true`;
/// - otherwise the recorded issuer must [`issuers_match`] `issuer`.
pub fn credentials_match_issuer(
    client_info: &OAuthClientInformationFull,
    issuer: &str,
    client_metadata_url: Option<&str>,
) -> bool {
    if client_metadata_url.is_some_and(|u| u == client_info.client_id) {
        return true;
    }
    match &client_info.issuer {
        None => true,
        Some(recorded) => issuers_match(recorded, issuer),
    }
}
