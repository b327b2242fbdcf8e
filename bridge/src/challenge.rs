//! The challenge itself: [`RelayedChallenge`] (structured, for non-HTTP channels) and the
//! in-place `resource_metadata` rewrite (RFC 9728 §5.1).

use std::borrow::Cow;
use std::ops::Range;

use mcp_auth::challenge::{self, Challenge};
use mcp_auth::{CapturedChallenge, Error};
use serde::{Deserialize, Serialize};

use crate::response::is_challenge_status;
use crate::{BridgeOptions, WWW_AUTHENTICATE};

/// The challenge of a 401/403 in structured form, for hosts that relay it over a channel that
/// is not HTTP (a WebSocket, a postMessage bridge, an IPC pipe).
///
/// The fields come from the first `Bearer` challenge (RFC 6750 §3) when there is one,
/// otherwise from the first challenge of any scheme; a missing parameter is `null`. JSON:
/// `{"status":403,"scheme":"Bearer","error":"insufficient_scope","error_description":"…",
/// "scope":"mcp:write","resource_metadata":"https://…","www_authenticate":["Bearer …"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RelayedChallenge {
    /// The HTTP status: 401 (RFC 9110 §15.5.2) or 403 (RFC 6750 §3.1 `insufficient_scope`).
    pub status: u16,
    /// The auth-scheme as the server spelled it (RFC 9110 §11.1), e.g. `Bearer`.
    pub scheme: Option<String>,
    /// `error` (RFC 6750 §3.1), e.g. `invalid_token`, `insufficient_scope`.
    pub error: Option<String>,
    /// `error_description` (RFC 6750 §3).
    pub error_description: Option<String>,
    /// `scope` (RFC 6750 §3): what to request, and for a 403 what to step up to.
    pub scope: Option<String>,
    /// `resource_metadata` (RFC 9728 §5.1), after any rewrite.
    pub resource_metadata: Option<String>,
    /// Every `WWW-Authenticate` field value as sent downstream (RFC 9110 §11.6.1), in order.
    pub www_authenticate: Vec<String>,
}

impl RelayedChallenge {
    /// The structured challenge of a response with this status and these
    /// `WWW-Authenticate` values (RFC 9110 §11.6.1, several lines parsed as one list per
    /// §5.3). `None` unless the status is 401 or 403.
    pub fn from_values<S: AsRef<str>>(status: u16, www_authenticate: &[S]) -> Option<Self> {
        if !is_challenge_status(status) {
            return None;
        }
        let values: Vec<String> = www_authenticate
            .iter()
            .map(|v| v.as_ref().to_owned())
            .collect();
        let challenges =
            challenge::parse_www_authenticate_values(values.iter().map(String::as_str));
        let chosen: Option<&Challenge> = challenges
            .iter()
            .find(|c| c.is_bearer())
            .or_else(|| challenges.first());
        let param = |name: &str| chosen.and_then(|c| c.param(name)).map(str::to_owned);
        Some(RelayedChallenge {
            status,
            scheme: chosen.map(|c| c.scheme.clone()),
            error: param("error"),
            error_description: param("error_description"),
            scope: param("scope"),
            resource_metadata: param("resource_metadata"),
            www_authenticate: values,
        })
    }

    /// The structured challenge of a response given as header pairs (the `WWW-Authenticate`
    /// pairs are read, names compared case-insensitively). `None` unless 401 or 403.
    pub fn from_headers<K: AsRef<str>, V: AsRef<str>>(
        status: u16,
        headers: &[(K, V)],
    ) -> Option<Self> {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(WWW_AUTHENTICATE))
            .map(|(_, v)| v.as_ref())
            .collect();
        Self::from_values(status, &values)
    }

    /// The challenge captured by [`Client::send`](mcp_auth::Client::send) or
    /// [`Client::probe`](mcp_auth::Client::probe). `None` unless 401 or 403.
    pub fn from_captured(captured: &CapturedChallenge) -> Option<Self> {
        Self::from_values(captured.status, &captured.www_authenticate)
    }

    /// The challenge carried by an [`Error::Unauthorized`] (the server still refused after the
    /// allowed authorizations); `None` for every other error.
    pub fn from_error(error: &Error) -> Option<Self> {
        match error {
            Error::Unauthorized {
                status,
                www_authenticate,
                ..
            } => Self::from_values(*status, www_authenticate),
            _ => None,
        }
    }

    /// Compact JSON, members always present (`null` when absent).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned())
    }

    /// A JSON error body for a synthesized 401/403 (the shape MCP servers send alongside the
    /// challenge, RFC 6749 §5.2 members): `{"error": …, "error_description": …}`, with
    /// `error` defaulting to `invalid_token` for 401 and `insufficient_scope` for 403
    /// (RFC 6750 §3.1) when the challenge names none.
    pub fn error_body(&self) -> Vec<u8> {
        let error = self.error.clone().unwrap_or_else(|| {
            if self.status == 403 {
                "insufficient_scope".to_owned()
            } else {
                "invalid_token".to_owned()
            }
        });
        let mut body = serde_json::Map::new();
        body.insert("error".to_owned(), error.into());
        if let Some(d) = &self.error_description {
            body.insert("error_description".to_owned(), d.clone().into());
        }
        serde_json::Value::Object(body).to_string().into_bytes()
    }
}

/// One `WWW-Authenticate` field value after the optional `resource_metadata` rewrite.
pub(crate) fn rewrite(value: &str, options: &BridgeOptions) -> String {
    match &options.resource_metadata_url {
        Some(url) => rewrite_resource_metadata(value, url).into_owned(),
        None => value.to_owned(),
    }
}

/// Replace the value of every well-formed `resource_metadata` auth-param of one
/// `WWW-Authenticate` field value with `url` as a quoted-string (RFC 9110 §5.6.4), leaving
/// every other byte as it was. A parameter the parser would not read (malformed, or inside a
/// quoted string) is left alone, so parsing the result gives the same challenges with only
/// that value changed.
///
/// ```
/// use mcp_auth_bridge::rewrite_resource_metadata;
/// assert_eq!(
///     rewrite_resource_metadata(
///         r#"Bearer error="invalid_token", resource_metadata=https://up/prm, scope="a b""#,
///         "https://proxy/prm"
///     ),
///     r#"Bearer error="invalid_token", resource_metadata="https://proxy/prm", scope="a b""#
/// );
/// ```
pub fn rewrite_resource_metadata<'a>(value: &'a str, url: &str) -> Cow<'a, str> {
    // The challenge parser's own lexer finds the parameters, so a rewrite changes exactly
    // the `resource_metadata` values a client would read.
    let spans: Vec<Range<usize>> = challenge::param_value_spans(value)
        .into_iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("resource_metadata"))
        .map(|(_, v)| v)
        .collect();
    if spans.is_empty() {
        return Cow::Borrowed(value);
    }
    let mut quoted = String::with_capacity(url.len() + 2);
    quoted.push('"');
    for c in url.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    let mut out = String::with_capacity(value.len() + spans.len() * quoted.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&value[at..span.start]);
        out.push_str(&quoted);
        at = span.end;
    }
    out.push_str(&value[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(s: &str) -> Vec<(&str, &str)> {
        challenge::param_value_spans(s)
            .into_iter()
            .map(|(n, v)| (n, &s[v]))
            .collect()
    }

    /// The rewrite relies on `param_value_spans` finding exactly what the parser reads.
    #[test]
    fn param_spans_follow_the_lexer() {
        assert_eq!(
            spans(r#"Basic abc==, Bearer a=b , c="d\"e""#),
            [("a", "b"), ("c", r#""d\"e""#)]
        );
        // token68 directly after the scheme is not a parameter.
        assert_eq!(spans("Bearer resource_metadata="), []);
        assert_eq!(
            spans("Bearer resource_metadata=x"),
            [("resource_metadata", "x")]
        );
        // Inside a quoted string: never a parameter.
        assert_eq!(
            spans(r#"Bearer error_description="resource_metadata=x""#),
            [("error_description", r#""resource_metadata=x""#)]
        );
        // Malformed: unterminated, glued, empty.
        assert_eq!(spans(r#"Bearer a="x"#), []);
        assert_eq!(spans(r#"Bearer a=x"y", b=c"#), [("b", "c")]);
        assert_eq!(spans("Bearer a= , b=c"), [("b", "c")]);
        // Junk after a value keeps the value.
        assert_eq!(spans("Bearer a=x junk, b=c"), [("a", "x"), ("b", "c")]);
    }

    #[test]
    fn rewrite_without_resource_metadata_borrows() {
        assert!(matches!(
            rewrite_resource_metadata("Bearer realm=x", "https://p/"),
            Cow::Borrowed(_)
        ));
    }
}
