//! One error type for the whole library, and the [`ErrorKind`] that the C status codes and the
//! Python exception classes are derived from.
//!
//! Every variant is structured: the OAuth `error`/`error_description`/`error_uri` triple
//! (RFC 6749 §5.2), the HTTP status, and which check failed are fields, never only text.
//! No message ever contains a secret: secrets live in [`crate::secret`] newtypes whose
//! `Display`/`Debug` never print them, and errors only ever carry public values (URLs,
//! issuer strings, OAuth error codes, statuses).

use std::fmt;

/// The broad category of an [`Error`]: the single mapping that the C ABI's `mcpauth_status`
/// and the Python exception classes are generated from.
///
/// The numeric values are stable (they become C status codes) and are never renumbered;
/// new kinds get new numbers. In each hundred, `x00`-`x49` belong to the core's kinds and
/// `x50`-`x99` are reserved for the C ABI's own statuses (NULL argument, invalid UTF-8,
/// panic), so the two never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u16)]
pub enum ErrorKind {
    /// An argument given by the caller is not acceptable (malformed URL, empty value, bad
    /// configuration). Nothing was sent.
    InvalidArgument = 100,
    /// The HTTP exchange failed below the HTTP layer: DNS, connect, TLS, I/O.
    Transport = 200,
    /// The request did not complete within the configured timeout.
    Timeout = 201,
    /// The response body exceeded the configured cap.
    ResponseTooLarge = 202,
    /// The TLS peer's certificate was not accepted (unknown issuer, expired, wrong name), or
    /// the server refused ours.
    Certificate = 203,
    /// A server answered with something that is not what the protocol allows: invalid JSON,
    /// a missing required member, an unexpected status, a redirect on an OAuth request.
    InvalidResponse = 300,
    /// Metadata discovery failed (RFC 9728 protected resource metadata or RFC 8414
    /// authorization server metadata).
    Discovery = 301,
    /// Dynamic client registration (RFC 7591) failed, or its result is unusable.
    /// The reference calls this `OAuthRegistrationError`.
    Registration = 302,
    /// The authorization step failed: the redirect handler failed, the user or the AS denied
    /// the request, or the redirect carried no code. The reference calls this `OAuthFlowError`.
    Authorization = 303,
    /// The token endpoint refused a grant or returned an unusable token.
    /// The reference calls this `OAuthTokenError`.
    Token = 304,
    /// The resource server still refuses the request after the allowed number of
    /// authorizations, or answered 403 without a step-up challenge.
    Unauthorized = 305,
    /// A security check failed: issuer mismatch (RFC 8414 §3.3), `iss` mismatch (RFC 9207),
    /// protected-resource mismatch (RFC 9728 §3.3), state mismatch (RFC 6749 §10.12).
    SecurityCheck = 400,
    /// An endpoint URL is not HTTPS and not loopback (OAuth 2.1 §1.5).
    InsecureUrl = 401,
    /// The authorization server lacks a capability the client requires (e.g. PKCE S256), or a
    /// method the client does not implement was requested.
    Unsupported = 402,
    /// A server-supplied URL points at an address the address policy refuses (loopback,
    /// link-local, private, ... while the MCP server is not on one, see [`crate::policy`]), or
    /// carries userinfo. Nothing was sent to it.
    AddressRefused = 403,
    /// [`crate::Client::send`] was given a request for another origin than the protected
    /// resource's: the token is bound to that origin (see [`crate::policy`]). Nothing was sent.
    ForeignOrigin = 404,
    /// The token/client store failed to load or save.
    Storage = 500,
    /// The call was cancelled through the client's cancel handle
    /// ([`crate::Client::cancel`]) before it completed.
    Cancelled = 600,
    /// A bug: an invariant was violated (a panic caught at a language boundary maps here too).
    Internal = 900,
}

impl ErrorKind {
    /// Every kind, in numeric order: the bindings use it to generate their tables.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::InvalidArgument,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::ResponseTooLarge,
        ErrorKind::Certificate,
        ErrorKind::InvalidResponse,
        ErrorKind::Discovery,
        ErrorKind::Registration,
        ErrorKind::Authorization,
        ErrorKind::Token,
        ErrorKind::Unauthorized,
        ErrorKind::SecurityCheck,
        ErrorKind::InsecureUrl,
        ErrorKind::Unsupported,
        ErrorKind::AddressRefused,
        ErrorKind::ForeignOrigin,
        ErrorKind::Storage,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];

    /// The stable numeric code (the C status value).
    pub fn code(self) -> u16 {
        self as u16
    }

    /// A stable snake_case name, e.g. `"security_check"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ResponseTooLarge => "response_too_large",
            ErrorKind::Certificate => "certificate",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Discovery => "discovery",
            ErrorKind::Registration => "registration",
            ErrorKind::Authorization => "authorization",
            ErrorKind::Token => "token",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::SecurityCheck => "security_check",
            ErrorKind::InsecureUrl => "insecure_url",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::AddressRefused => "address_refused",
            ErrorKind::ForeignOrigin => "foreign_origin",
            ErrorKind::Storage => "storage",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Internal => "internal",
        }
    }

    /// The exception class name the Python reference (`mcp.client.auth`) would raise for this
    /// kind, where it has one: `OAuthFlowError`, `OAuthTokenError`, `OAuthRegistrationError`.
    pub fn reference_name(self) -> Option<&'static str> {
        match self {
            ErrorKind::Registration => Some("OAuthRegistrationError"),
            ErrorKind::Token => Some("OAuthTokenError"),
            ErrorKind::Discovery
            | ErrorKind::Authorization
            | ErrorKind::SecurityCheck
            | ErrorKind::Unauthorized
            | ErrorKind::Unsupported => Some("OAuthFlowError"),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An OAuth error response (RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3): the `error` code and its
/// optional description and URI, as sent by the server.
#[derive(Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct OAuthErrorResponse {
    /// The `error` code, e.g. `invalid_grant`, `insufficient_scope`.
    pub error: String,
    /// `error_description`: human-readable text from the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// `error_uri`: a page describing the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
    /// The `state` an authorization error response (RFC 6749 §4.1.2.1) carried, which the
    /// flow compares with its request's before acting on the error: never serialized, and
    /// redacted in `Debug`.
    #[serde(skip)]
    pub state: Option<String>,
}

impl fmt::Debug for OAuthErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthErrorResponse")
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("error_uri", &self.error_uri)
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl OAuthErrorResponse {
    /// Parse an RFC 6749 §5.2 error body; `None` when the body is not such an object.
    pub fn from_json(body: &[u8]) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Raw {
            error: Option<serde_json::Value>,
            error_description: Option<serde_json::Value>,
            error_uri: Option<serde_json::Value>,
        }
        let raw: Raw = serde_json::from_slice(body).ok()?;
        let as_str = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        Some(OAuthErrorResponse {
            error: as_str(raw.error)?,
            error_description: as_str(raw.error_description),
            error_uri: as_str(raw.error_uri),
            state: None,
        })
    }
}

impl fmt::Display for OAuthErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)?;
        if let Some(d) = &self.error_description {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

/// Which security check failed, for [`Error::SecurityCheck`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// RFC 8414 §3.3: the metadata `issuer` is not the issuer the metadata was requested for.
    MetadataIssuer,
    /// RFC 9207 §2.4: the authorization response `iss` does not match the AS issuer.
    ResponseIss,
    /// RFC 9207 §2.4: the AS advertises `authorization_response_iss_parameter_supported` but
    /// the response carries no `iss`.
    MissingIss,
    /// RFC 9728 §3.3 / RFC 8707: the protected resource metadata names another resource.
    Resource,
    /// RFC 6749 §10.12: the `state` returned does not match the one sent.
    State,
    /// SEP-2352: stored client credentials belong to another authorization server.
    CredentialIssuer,
}

impl Check {
    /// A stable snake_case name, e.g. `"metadata_issuer"`.
    pub fn name(self) -> &'static str {
        match self {
            Check::MetadataIssuer => "metadata_issuer",
            Check::ResponseIss => "response_iss",
            Check::MissingIss => "missing_iss",
            Check::Resource => "resource",
            Check::State => "state",
            Check::CredentialIssuer => "credential_issuer",
        }
    }
}

/// The one error type of mcp-auth.
///
/// Use [`Error::kind`] to branch on the category; the variants carry the details.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A caller-supplied value is not acceptable.
    #[error("invalid {what}: {reason}")]
    InvalidArgument {
        /// What was invalid (e.g. `"server URL"`).
        what: &'static str,
        /// Why.
        reason: String,
    },

    /// Transport failure below HTTP (connect, DNS, TLS, I/O).
    #[error("HTTP request to {url} failed: {reason}")]
    Transport {
        /// The URL requested (query removed).
        url: String,
        /// The underlying error, as text.
        reason: String,
        /// The underlying error itself, when there is one ([`std::error::Error::source`]
        /// returns it).
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The request exceeded the configured timeout.
    #[error("HTTP request to {url} timed out")]
    Timeout {
        /// The URL requested (query removed).
        url: String,
    },

    /// The response body exceeded the configured cap.
    #[error("response from {url} exceeds the {limit}-byte body limit")]
    ResponseTooLarge {
        /// The URL requested (query removed).
        url: String,
        /// The cap in bytes.
        limit: usize,
    },

    /// The TLS certificate check failed: the server's certificate is not trusted or not
    /// valid for the host, or the server refused the client's certificate.
    #[error("TLS certificate check for {url} failed: {reason}; {hint}", hint = crate::http::tls::TRUST_HINT)]
    Certificate {
        /// The URL requested (query removed).
        url: String,
        /// What rustls reported, e.g. `invalid peer certificate: UnknownIssuer`.
        reason: String,
    },

    /// A server response that the protocol does not allow.
    #[error("invalid {what}: {reason}")]
    InvalidResponse {
        /// What was being parsed (e.g. `"token response"`).
        what: &'static str,
        /// Why it was rejected.
        reason: String,
        /// The HTTP status, when the response came over HTTP.
        status: Option<u16>,
    },

    /// Metadata discovery failed.
    #[error("{message}")]
    Discovery {
        /// What failed, e.g. `Protected resource metadata request failed: HTTP 503`.
        message: String,
        /// The HTTP status that made discovery stop, if any.
        status: Option<u16>,
    },

    /// Client registration failed (reference: `OAuthRegistrationError`).
    #[error("{message}")]
    Registration {
        /// The reason.
        message: String,
        /// The HTTP status of the registration response, if any.
        status: Option<u16>,
        /// The RFC 7591 §3.2.2 error body, if the server sent one.
        oauth: Option<Box<OAuthErrorResponse>>,
    },

    /// The authorization step failed (reference: `OAuthFlowError`).
    #[error("{message}")]
    Authorization {
        /// The reason.
        message: String,
        /// The RFC 6749 §4.1.2.1 error from the redirect, if the AS sent one.
        oauth: Option<Box<OAuthErrorResponse>>,
    },

    /// The token endpoint refused a grant or returned an unusable token
    /// (reference: `OAuthTokenError`).
    #[error("{message}")]
    Token {
        /// The reason.
        message: String,
        /// The HTTP status of the token response, if any.
        status: Option<u16>,
        /// The RFC 6749 §5.2 error body, if the server sent one.
        oauth: Option<Box<OAuthErrorResponse>>,
    },

    /// The resource server refused the request after the allowed authorizations.
    #[error("{message}")]
    Unauthorized {
        /// The reason.
        message: String,
        /// The final HTTP status (401 or 403).
        status: u16,
        /// The `WWW-Authenticate` header values the server sent with it, verbatim.
        www_authenticate: Vec<String>,
        /// The Bearer challenge's `error`/`error_description`/`error_uri`, if present.
        oauth: Option<Box<OAuthErrorResponse>>,
    },

    /// A security check failed; nothing further was sent.
    #[error("{message}")]
    SecurityCheck {
        /// Which check.
        check: Check,
        /// The reason, naming the values compared (never secrets, except that a `state`
        /// mismatch names no values at all).
        message: String,
    },

    /// A non-HTTPS, non-loopback endpoint.
    #[error(
        "refusing insecure {what} URL {url}: OAuth endpoints must use https (http is allowed only for loopback hosts)"
    )]
    InsecureUrl {
        /// Which endpoint.
        what: &'static str,
        /// The URL.
        url: String,
    },

    /// A server-supplied URL the address policy refuses ([`crate::policy`]).
    #[error("refusing {url}: {reason}")]
    AddressRefused {
        /// The URL (query and userinfo removed).
        url: String,
        /// The rule: which address class, or userinfo.
        reason: String,
    },

    /// A request for another origin than the protected resource's ([`crate::policy`]).
    #[error(
        "refusing to send the access token to {url}: it is not on the protected resource's origin {origin} (set cross_origin to without_token to send such requests without it)"
    )]
    ForeignOrigin {
        /// The URL requested (query and userinfo removed).
        url: String,
        /// The protected resource's origin.
        origin: String,
    },

    /// A capability is missing on the server or not implemented by the client.
    #[error("{message}")]
    Unsupported {
        /// The reason.
        message: String,
    },

    /// The credential store failed.
    #[error("token storage failed: {message}")]
    Storage {
        /// The reason.
        message: String,
    },

    /// The call was cancelled ([`crate::Client::cancel`]).
    #[error("cancelled")]
    Cancelled,

    /// An invariant was violated (a bug).
    #[error("internal error: {message}")]
    Internal {
        /// The reason.
        message: String,
    },
}

impl Error {
    /// The category, the single source for C status codes and Python exception classes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Error::Certificate { .. } => ErrorKind::Certificate,
            Error::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Error::Discovery { .. } => ErrorKind::Discovery,
            Error::Registration { .. } => ErrorKind::Registration,
            Error::Authorization { .. } => ErrorKind::Authorization,
            Error::Token { .. } => ErrorKind::Token,
            Error::Unauthorized { .. } => ErrorKind::Unauthorized,
            Error::SecurityCheck { .. } => ErrorKind::SecurityCheck,
            Error::InsecureUrl { .. } => ErrorKind::InsecureUrl,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::AddressRefused { .. } => ErrorKind::AddressRefused,
            Error::ForeignOrigin { .. } => ErrorKind::ForeignOrigin,
            Error::Storage { .. } => ErrorKind::Storage,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// The OAuth error triple carried by this error, if any.
    pub fn oauth_error(&self) -> Option<&OAuthErrorResponse> {
        match self {
            Error::Registration { oauth, .. }
            | Error::Authorization { oauth, .. }
            | Error::Token { oauth, .. }
            | Error::Unauthorized { oauth, .. } => oauth.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status carried by this error, if any.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::InvalidResponse { status, .. }
            | Error::Discovery { status, .. }
            | Error::Registration { status, .. }
            | Error::Token { status, .. } => *status,
            Error::Unauthorized { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` values captured with a final 401/403, if any.
    pub fn www_authenticate(&self) -> &[String] {
        match self {
            Error::Unauthorized {
                www_authenticate, ..
            } => www_authenticate,
            _ => &[],
        }
    }

    /// Which security check failed, for [`ErrorKind::SecurityCheck`].
    pub fn check(&self) -> Option<Check> {
        match self {
            Error::SecurityCheck { check, .. } => Some(*check),
            _ => None,
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid_argument(what: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            what,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidResponse`].
    pub fn invalid_response(
        what: &'static str,
        reason: impl Into<String>,
        status: Option<u16>,
    ) -> Self {
        Error::InvalidResponse {
            what,
            reason: reason.into(),
            status,
        }
    }

    /// Shorthand for [`Error::SecurityCheck`].
    pub fn security(check: Check, message: impl Into<String>) -> Self {
        Error::SecurityCheck {
            check,
            message: message.into(),
        }
    }
}

/// `Result<T, mcp_auth::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_stay_out_of_the_range_reserved_for_the_c_abi() {
        for k in ErrorKind::ALL {
            assert!(k.code() % 100 < 50, "{k:?} = {}", k.code());
        }
    }

    #[test]
    fn kind_codes_are_unique_and_sorted() {
        let codes: Vec<u16> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn reference_names_cover_the_python_exceptions() {
        assert_eq!(
            ErrorKind::Registration.reference_name(),
            Some("OAuthRegistrationError")
        );
        assert_eq!(ErrorKind::Token.reference_name(), Some("OAuthTokenError"));
        assert_eq!(
            ErrorKind::SecurityCheck.reference_name(),
            Some("OAuthFlowError")
        );
        assert_eq!(ErrorKind::Transport.reference_name(), None);
    }

    #[test]
    fn rfc6749_5_2_error_body_parses() {
        let e = OAuthErrorResponse::from_json(
            br#"{"error":"invalid_grant","error_description":"expired","x":1}"#,
        )
        .unwrap();
        assert_eq!(e.error, "invalid_grant");
        assert_eq!(e.error_description.as_deref(), Some("expired"));
        assert!(OAuthErrorResponse::from_json(b"<html>").is_none());
        assert!(OAuthErrorResponse::from_json(br#"{"error":5}"#).is_none());
    }
}
