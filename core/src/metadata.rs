//! The metadata, client and token models: what the servers send and what the client stores.
//!
//! | type | spec |
//! |---|---|
//! | [`OAuthToken`] | RFC 6749 §5.1 (plus RFC 9449 `DPoP` token type) |
//! | [`OAuthMetadata`] | RFC 8414 §2 (plus RFC 9207, RFC 9449, CIMD, SEP-990 members) |
//! | [`ProtectedResourceMetadata`] | RFC 9728 §2 |
//! | [`OAuthClientMetadata`] | RFC 7591 §2 (plus SEP-837 `application_type`) |
//! | [`OAuthClientInformationFull`] | RFC 7591 §3.2.1 (plus the SEP-2352 `issuer` binding) |
//!
//! Every model:
//!
//! - parses with `from_json` (error kind [`InvalidResponse`](crate::ErrorKind::InvalidResponse),
//!   naming the member that failed) and with serde `Deserialize`, which run the same validation;
//! - keeps members it does not model in `extra`, so a stored record round-trips;
//! - serializes without `null` members (the reference's `model_dump(exclude_none=True)` shape),
//!   followed by the `extra` members;
//! - is lax where the Python reference (pydantic) is lax: an integer may arrive as `"3600"` or
//!   `3600.0` (but not `3600.5`), a boolean as `"true"`;
//! - validates and normalises URL members like pydantic's `AnyHttpUrl` with
//!   `url_preserve_empty_path=True` (see [`normalize_http_url`]).
//!
//! Where real servers send something the reference rejects, these models accept it; each such
//! case is a row of the table in docs/differences.md.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::{Error, Result};

/// The default `grant_types` of a client registration (RFC 7591 §2, as the MCP SDKs register):
/// `authorization_code` and `refresh_token`.
pub const DEFAULT_GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

/// The JWT bearer grant type (RFC 7523 §2.1), used by SEP-990 identity assertions.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The `token_endpoint_auth_method` values a client may *request* at registration
/// (RFC 7591 §2; the reference's `TokenEndpointAuthMethod`).
pub const CLIENT_AUTH_METHODS: [&str; 4] = [
    "none",
    "client_secret_post",
    "client_secret_basic",
    "private_key_jwt",
];

/// The `application_type` values a client may request (OpenID Connect Dynamic Client
/// Registration §2, adopted for MCP by SEP-837).
pub const APPLICATION_TYPES: [&str; 2] = ["web", "native"];

// ---------------------------------------------------------------------------------------------
// URL normalisation
// ---------------------------------------------------------------------------------------------

/// Validate an `http`/`https` URL and normalise it the way the reference's pydantic
/// `AnyHttpUrl` (with `url_preserve_empty_path=True`) does.
///
/// - the scheme must be `http` or `https` (case-insensitive) and a host is required;
/// - the host is lowercased and IDNA-encoded (`bücher.de` → `xn--bcher-kva.de`);
/// - a default port is dropped (`:443` for https, `:80` for http);
/// - dot segments are resolved, spaces and other non-URL characters percent-encoded;
/// - an **empty path stays empty**: `https://a.com` stays `https://a.com` and
///   `https://a.com?x=1` stays `https://a.com?x=1`, while `https://a.com/` keeps its slash;
/// - userinfo, query and fragment are kept.
///
/// # Errors
/// A human-readable reason when the input is not an absolute http(s) URL.
///
/// # Examples
/// ```
/// use mcp_auth::metadata::normalize_http_url;
/// assert_eq!(normalize_http_url("https://AS.example.com:443").unwrap(), "https://as.example.com");
/// assert_eq!(normalize_http_url("https://a.com/./b/../c").unwrap(), "https://a.com/c");
/// assert!(normalize_http_url("ftp://a.com").is_err());
/// ```
pub fn normalize_http_url(s: &str) -> std::result::Result<String, String> {
    normalize_url(s, true)
}

/// Like [`normalize_http_url`] but for pydantic `AnyUrl` members (`redirect_uris`): any
/// scheme is accepted (e.g. `myapp:/callback`, RFC 8252 §7.1), as long as the value is an
/// absolute URL.
///
/// # Errors
/// A human-readable reason when the input is not an absolute URL.
pub fn normalize_any_url(s: &str) -> std::result::Result<String, String> {
    normalize_url(s, false)
}

fn normalize_url(s: &str, http_only: bool) -> std::result::Result<String, String> {
    // Metadata documents are full of URLs that are already canonical; recognising them
    // without a full WHATWG parse makes metadata parsing several times faster. Anything the
    // fast check is unsure about takes the full parse (a property test holds both paths equal).
    if is_canonical_http_url(s) {
        return Ok(s.to_owned());
    }
    let url = url::Url::parse(s).map_err(|e| format!("invalid URL {s:?}: {e}"))?;
    if http_only && !matches!(url.scheme(), "http" | "https") {
        return Err(format!("URL scheme should be 'http' or 'https': {s:?}"));
    }
    let mut out = String::from(url.clone());
    if url.path() == "/" && url.has_host() && input_has_empty_path(s) {
        // The `url` crate (WHATWG) always gives special schemes a "/" path; pydantic with
        // `url_preserve_empty_path=True` keeps the input's empty path.
        let at = url[..url::Position::BeforePath].len();
        out.remove(at);
    }
    Ok(out)
}

/// Whether `s` is an `http`/`https` URL that the full normalisation would return unchanged:
/// lowercase scheme and host name (or dotted-quad IPv4), no userinfo, a non-default port
/// without leading zeros, and a path/query/fragment of printable ASCII that WHATWG URL
/// parsing leaves as is (no dot segments, no characters it percent-encodes, no backslash,
/// valid percent-escapes only).
pub fn is_canonical_http_url(s: &str) -> bool {
    let (rest, default_port) = if let Some(r) = s.strip_prefix("https://") {
        (r, "443")
    } else if let Some(r) = s.strip_prefix("http://") {
        (r, "80")
    } else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.is_empty()
        || host.starts_with(['.', '-'])
        || host.ends_with('.')
        || host.contains("..")
        || !host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return false;
    }
    // A host made only of digits and dots is an IPv4 address to WHATWG (`1.2` means
    // `1.0.0.2`): accept only the canonical dotted quad.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let parts: Vec<&str> = host.split('.').collect();
        let canonical_quad = parts.len() == 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 3
                    && (p.len() == 1 || !p.starts_with('0'))
                    && p.parse::<u16>().is_ok_and(|n| n <= 255)
            });
        if !canonical_quad {
            return false;
        }
    } else if host.rsplit('.').next().is_some_and(|label| {
        // WHATWG also reads a host whose last label is numeric (`a.1`, `a.0x1`) as IPv4.
        label.bytes().all(|b| b.is_ascii_digit())
            || (label.starts_with("0x") && label[2..].bytes().all(|b| b.is_ascii_hexdigit()))
    }) {
        return false;
    }
    if let Some(p) = port {
        if p.is_empty()
            || p == default_port
            || (p.len() > 1 && p.starts_with('0'))
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u16>().is_err()
        {
            return false;
        }
    }
    if !tail.is_empty() && !tail.starts_with(['/', '?', '#']) {
        return false;
    }
    let bytes = tail.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ok = match b {
            b'%' => {
                bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            }
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' | b'\'' => false,
            0x21..=0x7e => true,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    // Dot segments (also percent-encoded ones) are resolved by a full parse.
    let path = tail.split(['?', '#']).next().unwrap_or("");
    let lower = path.to_ascii_lowercase();
    !(path.split('/').any(|seg| seg == "." || seg == "..") || lower.contains("%2e"))
}

/// Whether the authority of an absolute URL string is directly followed by `?`, `#` or the end.
fn input_has_empty_path(s: &str) -> bool {
    let s = s.trim_matches(|c: char| c <= ' ');
    let Some(colon) = s.find(':') else {
        return false;
    };
    let mut rest = s[colon + 1..]
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    // Skip the slashes (or backslashes, which WHATWG treats alike) before the authority.
    let mut next = rest.next();
    while matches!(next, Some('/' | '\\')) {
        next = rest.next();
    }
    // Skip the authority.
    while let Some(c) = next {
        if matches!(c, '/' | '\\' | '?' | '#') {
            break;
        }
        next = rest.next();
    }
    !matches!(next, Some('/' | '\\'))
}

// ---------------------------------------------------------------------------------------------
// Lax member readers (the pydantic lax-mode rules the reference relies on)
// ---------------------------------------------------------------------------------------------

type Reason = String;

/// A JSON object being taken apart member by member; what is left at the end is `extra`.
pub(crate) struct Members(Map<String, Value>);

enum Slot {
    Absent,
    Null,
    Present(Value),
}

impl Members {
    fn slot(&mut self, key: &str) -> Slot {
        match self.0.remove(key) {
            None => Slot::Absent,
            Some(Value::Null) => Slot::Null,
            Some(v) => Slot::Present(v),
        }
    }

    /// An optional member: absent and `null` both give `None`.
    fn opt<T>(
        &mut self,
        key: &str,
        conv: impl FnOnce(Value) -> std::result::Result<T, Reason>,
    ) -> std::result::Result<Option<T>, Reason> {
        match self.slot(key) {
            Slot::Absent | Slot::Null => Ok(None),
            Slot::Present(v) => conv(v).map(Some).map_err(|r| format!("{key}: {r}")),
        }
    }

    /// A required member: absent and `null` are errors.
    fn req<T>(
        &mut self,
        key: &str,
        conv: impl FnOnce(Value) -> std::result::Result<T, Reason>,
    ) -> std::result::Result<T, Reason> {
        match self.slot(key) {
            Slot::Absent => Err(format!("{key}: field required")),
            Slot::Null => Err(format!("{key}: must not be null")),
            Slot::Present(v) => conv(v).map_err(|r| format!("{key}: {r}")),
        }
    }

    /// An optional URL member; an empty string counts as absent.
    fn opt_url(
        &mut self,
        key: &str,
        normalize: fn(&str) -> std::result::Result<String, String>,
    ) -> std::result::Result<Option<String>, Reason> {
        self.opt(key, |v| match v {
            Value::String(s) if s.is_empty() => Ok(None),
            v => url_value(v, normalize).map(Some),
        })
        .map(Option::flatten)
    }

    fn into_extra(self) -> Map<String, Value> {
        self.0
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A credential string (RFC 6749 Appendix A: `access_token`, `refresh_token`, `client_id`,
/// `client_secret` are `*VSCHAR`, printable ASCII 0x20-0x7E). Anything else (CR/LF in
/// particular) could never be sent in a header or form safely, so it is refused at parse time
/// instead of replacing working stored credentials. The value itself is never echoed.
fn credential(v: Value) -> std::result::Result<String, Reason> {
    let s = string(v)?;
    if s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        Ok(s)
    } else {
        Err("contains characters outside printable ASCII (RFC 6749 Appendix A)".to_owned())
    }
}

fn string(v: Value) -> std::result::Result<String, Reason> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(format!("expected a string, got {}", type_name(&other))),
    }
}

fn string_list(v: Value) -> std::result::Result<Vec<String>, Reason> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| string(item).map_err(|r| format!("[{i}]: {r}")))
            .collect(),
        other => Err(format!(
            "expected an array of strings, got {}",
            type_name(&other)
        )),
    }
}

fn url_value(
    v: Value,
    normalize: fn(&str) -> std::result::Result<String, String>,
) -> std::result::Result<String, Reason> {
    normalize(&string(v)?)
}

fn url_list(
    v: Value,
    normalize: fn(&str) -> std::result::Result<String, String>,
) -> std::result::Result<Vec<String>, Reason> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| url_value(item, normalize).map_err(|r| format!("[{i}]: {r}")))
            .collect(),
        other => Err(format!(
            "expected an array of URLs, got {}",
            type_name(&other)
        )),
    }
}

/// pydantic lax `int`: a JSON integer, a float without a fractional part, or a decimal string.
fn lax_int(v: Value) -> std::result::Result<i128, Reason> {
    const RANGE: &str = "integer out of range";
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Ok(i128::from(u))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if !f.is_finite() {
                    Err(RANGE.to_owned())
                } else if f.fract() != 0.0 {
                    Err("expected an integer, got a number with a fractional part".to_owned())
                } else if f.abs() > i64::MAX as f64 {
                    Err(RANGE.to_owned())
                } else {
                    Ok(f as i128)
                }
            }
        }
        Value::String(s) => parse_int_str(&s)
            .ok_or_else(|| "expected an integer, got a string that is not one".to_owned()),
        other => Err(format!("expected an integer, got {}", type_name(&other))),
    }
}

/// `[+-]digits[.0*]`, surrounding whitespace allowed.
fn parse_int_str(s: &str) -> Option<i128> {
    let s = s.trim();
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = match digits.split_once('.') {
        Some((int, frac)) if frac.bytes().all(|b| b == b'0') => int,
        Some(_) => return None,
        None => digits,
    };
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i128 = digits.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// A lax integer as a non-negative `u64`; a negative value is clamped to 0.
fn lax_u64_clamped(v: Value) -> std::result::Result<u64, Reason> {
    let i = lax_int(v)?;
    if i < 0 {
        Ok(0)
    } else {
        u64::try_from(i).map_err(|_| "integer out of range".to_owned())
    }
}

fn lax_i64(v: Value) -> std::result::Result<i64, Reason> {
    i64::try_from(lax_int(v)?).map_err(|_| "integer out of range".to_owned())
}

/// pydantic lax `bool`: `true`/`false`, `0`/`1`, and the strings `true`/`false`, `yes`/`no`,
/// `on`/`off`, `t`/`f`, `y`/`n`, `1`/`0` (case-insensitive).
fn lax_bool(v: Value) -> std::result::Result<bool, Reason> {
    const BAD: &str = "expected a boolean";
    match v {
        Value::Bool(b) => Ok(b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            _ => Err(BAD.to_owned()),
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
            _ => Err(BAD.to_owned()),
        },
        other => Err(format!("{BAD}, got {}", type_name(&other))),
    }
}

fn any_value(v: Value) -> std::result::Result<Value, Reason> {
    Ok(v)
}

/// Parse bytes as a JSON object (the error text is serde_json's, e.g.
/// `expected value at line 1 column 1`).
pub(crate) fn parse_object(bytes: &[u8]) -> std::result::Result<Map<String, Value>, Reason> {
    match serde_json::from_slice::<Value>(bytes).map_err(|e| e.to_string())? {
        Value::Object(map) => Ok(map),
        other => Err(format!("expected a JSON object, got {}", type_name(&other))),
    }
}

macro_rules! json_model {
    ($t:ident, $what:literal) => {
        impl $t {
            /// Parse and validate a JSON document.
            ///
            /// # Errors
            #[doc = concat!("[`Error::InvalidResponse`] (what: `\"", $what, "\"`) naming the member")]
            /// that failed, or saying why the body is not a JSON object.
            pub fn from_json(bytes: &[u8]) -> Result<Self> {
                parse_object(bytes)
                    .and_then(Self::from_map)
                    .map_err(|reason| Error::invalid_response($what, reason, None))
            }

            /// Validate an already-parsed JSON value.
            ///
            /// # Errors
            /// As [`from_json`](Self::from_json).
            pub fn from_value(value: Value) -> Result<Self> {
                match value {
                    Value::Object(map) => Self::from_map(map),
                    other => Err(format!("expected a JSON object, got {}", type_name(&other))),
                }
                .map_err(|reason| Error::invalid_response($what, reason, None))
            }

            /// Serialize to compact JSON: `null` members left out, `extra` members last.
            pub fn to_json(&self) -> String {
                serde_json::to_string(self).expect("a map with string keys always serializes")
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let map = Map::<String, Value>::deserialize(d)?;
                $t::from_map(map).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// `Debug` for the `extra` members of a secret-bearing model: names only, never values (a token
/// response may carry an `id_token`, a registration a `registration_access_token`).
struct ExtraKeys<'a>(&'a Map<String, Value>);

impl fmt::Debug for ExtraKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, format_args!("[redacted]"))))
            .finish()
    }
}

fn default_grant_types() -> Vec<String> {
    DEFAULT_GRANT_TYPES
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

fn default_response_types() -> Vec<String> {
    vec!["code".to_owned()]
}

// ---------------------------------------------------------------------------------------------
// OAuthToken
// ---------------------------------------------------------------------------------------------

/// A successful token response (RFC 6749 §5.1), as received and as stored.
///
/// - `token_type` is normalised case-insensitively (RFC 6749 §5.1: "The value is case
///   insensitive"): `bearer` → `"Bearer"` (RFC 6750), `dpop` → `"DPoP"` (RFC 9449 §5); any
///   other type is rejected. An omitted `token_type` means `"Bearer"`.
/// - `expires_in` is lax (`"3600"`, `3600.0`); a negative value is clamped to 0 (expired).
/// - `expires_at` is not part of the wire format: it is the absolute expiry (Unix seconds) that
///   [`with_expiry_from`](Self::with_expiry_from) computes, persisted so that a restarted client
///   knows whether its stored token is still valid.
///
/// `Debug` never prints the tokens nor the values of `extra` members (e.g. an `id_token`).
#[derive(Clone, PartialEq, Serialize)]
pub struct OAuthToken {
    /// `access_token` (RFC 6749 §5.1), required; may be empty.
    pub access_token: AccessToken,
    /// `token_type`: `"Bearer"` or `"DPoP"`.
    pub token_type: String,
    /// `expires_in`: lifetime in seconds from issuance (RFC 6749 §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// `scope`: the granted scope, space-delimited (RFC 6749 §3.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `refresh_token` (RFC 6749 §1.5, §6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// Absolute expiry in Unix seconds: mcp-auth's addition, persisted with the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Members not modelled above (e.g. `id_token`), kept so they round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

json_model!(OAuthToken, "token response");

impl OAuthToken {
    /// A `Bearer` token with no lifetime, scope or refresh token.
    pub fn new(access_token: impl Into<AccessToken>) -> Self {
        OAuthToken {
            access_token: access_token.into(),
            token_type: "Bearer".to_owned(),
            expires_in: None,
            scope: None,
            refresh_token: None,
            expires_at: None,
            extra: Map::new(),
        }
    }

    fn from_map(map: Map<String, Value>) -> std::result::Result<Self, Reason> {
        let mut m = Members(map);
        let access_token = AccessToken::new(m.req("access_token", credential)?);
        let token_type = match m.slot("token_type") {
            Slot::Absent => "Bearer".to_owned(),
            Slot::Null => return Err("token_type: must not be null".to_owned()),
            Slot::Present(v) => {
                normalize_token_type(&string(v).map_err(|r| format!("token_type: {r}"))?)?
            }
        };
        Ok(OAuthToken {
            access_token,
            token_type,
            expires_in: m.opt("expires_in", lax_u64_clamped)?,
            scope: m.opt("scope", string)?,
            refresh_token: m.opt("refresh_token", credential)?.map(RefreshToken::new),
            expires_at: m.opt("expires_at", lax_u64_clamped)?,
            extra: m.into_extra(),
        })
    }

    /// Set `expires_at = now_unix + expires_in` when `expires_in` is present (RFC 6749 §5.1:
    /// the lifetime counts from the response); otherwise `expires_at` is left as it is.
    #[must_use]
    pub fn with_expiry_from(mut self, now_unix: u64) -> Self {
        if let Some(lifetime) = self.expires_in {
            self.expires_at = Some(now_unix.saturating_add(lifetime));
        }
        self
    }

    /// Whether the token has expired at `now_unix`, treating it as expired `skew_secs` early.
    ///
    /// A token without `expires_at` never counts as expired (the server decides, with a 401).
    /// With `skew_secs = 0` this is the reference's rule: valid while `now <= expiry`.
    pub fn is_expired(&self, now_unix: u64, skew_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|at| now_unix.saturating_add(skew_secs) > at)
    }

    /// Whether this is a DPoP-bound token (RFC 9449 §5), which must be sent with a DPoP proof.
    pub fn is_dpop(&self) -> bool {
        self.token_type == "DPoP"
    }
}

fn normalize_token_type(t: &str) -> std::result::Result<String, Reason> {
    if t.eq_ignore_ascii_case("bearer") {
        Ok("Bearer".to_owned())
    } else if t.eq_ignore_ascii_case("dpop") {
        Ok("DPoP".to_owned())
    } else {
        Err(format!(
            "token_type: unsupported token type {t:?} (expected \"Bearer\" or \"DPoP\")"
        ))
    }
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("extra", &ExtraKeys(&self.extra))
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// OAuthMetadata (RFC 8414)
// ---------------------------------------------------------------------------------------------

/// Authorization server metadata (RFC 8414 §2; also what OpenID Connect Discovery serves).
///
/// `issuer` and the endpoint URLs are normalised (see [`normalize_http_url`]): the RFC 8414 §3.3
/// issuer check ([`crate::checks::validate_metadata_issuer`]) compares the normalised value, as
/// the reference does.
///
/// Tolerances beyond the reference (see docs/differences.md): an empty-string optional URL member
/// (e.g. `"registration_endpoint": ""`) counts as absent, and `"response_types_supported": null`
/// gives the default `["code"]`, instead of rejecting the whole document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OAuthMetadata {
    /// `issuer` (RFC 8414 §2), required.
    pub issuer: String,
    /// `authorization_endpoint`, required.
    pub authorization_endpoint: String,
    /// `token_endpoint`, required.
    pub token_endpoint: String,
    /// `registration_endpoint` (RFC 7591 dynamic registration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// `scopes_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// `response_types_supported`; default `["code"]`.
    pub response_types_supported: Vec<String>,
    /// `response_modes_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_modes_supported: Option<Vec<String>>,
    /// `grant_types_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_methods_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// `service_documentation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_documentation: Option<String>,
    /// `ui_locales_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_locales_supported: Option<Vec<String>>,
    /// `op_policy_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_policy_uri: Option<String>,
    /// `op_tos_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_tos_uri: Option<String>,
    /// `revocation_endpoint` (RFC 7009).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// `revocation_endpoint_auth_methods_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `revocation_endpoint_auth_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// `introspection_endpoint` (RFC 7662).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// `introspection_endpoint_auth_methods_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `introspection_endpoint_auth_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// `code_challenge_methods_supported` (RFC 7636 / RFC 8414 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// `client_id_metadata_document_supported` (CIMD); lax boolean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3); lax boolean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// `authorization_grant_profiles_supported` (SEP-990).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_grant_profiles_supported: Option<Vec<String>>,
    /// `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Members not modelled above (e.g. `jwks_uri`, `userinfo_endpoint`), kept so they round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

json_model!(OAuthMetadata, "authorization server metadata");

impl OAuthMetadata {
    /// Metadata with the three required members (taken verbatim) and every default.
    pub fn new(
        issuer: impl Into<String>,
        authorization_endpoint: impl Into<String>,
        token_endpoint: impl Into<String>,
    ) -> Self {
        OAuthMetadata {
            issuer: issuer.into(),
            authorization_endpoint: authorization_endpoint.into(),
            token_endpoint: token_endpoint.into(),
            registration_endpoint: None,
            scopes_supported: None,
            response_types_supported: default_response_types(),
            response_modes_supported: None,
            grant_types_supported: None,
            token_endpoint_auth_methods_supported: None,
            token_endpoint_auth_signing_alg_values_supported: None,
            service_documentation: None,
            ui_locales_supported: None,
            op_policy_uri: None,
            op_tos_uri: None,
            revocation_endpoint: None,
            revocation_endpoint_auth_methods_supported: None,
            revocation_endpoint_auth_signing_alg_values_supported: None,
            introspection_endpoint: None,
            introspection_endpoint_auth_methods_supported: None,
            introspection_endpoint_auth_signing_alg_values_supported: None,
            code_challenge_methods_supported: None,
            client_id_metadata_document_supported: None,
            authorization_response_iss_parameter_supported: None,
            authorization_grant_profiles_supported: None,
            dpop_signing_alg_values_supported: None,
            extra: Map::new(),
        }
    }

    fn from_map(map: Map<String, Value>) -> std::result::Result<Self, Reason> {
        let mut m = Members(map);
        let url = |v| url_value(v, normalize_http_url);
        Ok(OAuthMetadata {
            issuer: m.req("issuer", url)?,
            authorization_endpoint: m.req("authorization_endpoint", url)?,
            token_endpoint: m.req("token_endpoint", url)?,
            registration_endpoint: m.opt_url("registration_endpoint", normalize_http_url)?,
            scopes_supported: m.opt("scopes_supported", string_list)?,
            response_types_supported: m
                .opt("response_types_supported", string_list)?
                .unwrap_or_else(default_response_types),
            response_modes_supported: m.opt("response_modes_supported", string_list)?,
            grant_types_supported: m.opt("grant_types_supported", string_list)?,
            token_endpoint_auth_methods_supported: m
                .opt("token_endpoint_auth_methods_supported", string_list)?,
            token_endpoint_auth_signing_alg_values_supported: m.opt(
                "token_endpoint_auth_signing_alg_values_supported",
                string_list,
            )?,
            service_documentation: m.opt_url("service_documentation", normalize_http_url)?,
            ui_locales_supported: m.opt("ui_locales_supported", string_list)?,
            op_policy_uri: m.opt_url("op_policy_uri", normalize_http_url)?,
            op_tos_uri: m.opt_url("op_tos_uri", normalize_http_url)?,
            revocation_endpoint: m.opt_url("revocation_endpoint", normalize_http_url)?,
            revocation_endpoint_auth_methods_supported: m
                .opt("revocation_endpoint_auth_methods_supported", string_list)?,
            revocation_endpoint_auth_signing_alg_values_supported: m.opt(
                "revocation_endpoint_auth_signing_alg_values_supported",
                string_list,
            )?,
            introspection_endpoint: m.opt_url("introspection_endpoint", normalize_http_url)?,
            introspection_endpoint_auth_methods_supported: m
                .opt("introspection_endpoint_auth_methods_supported", string_list)?,
            introspection_endpoint_auth_signing_alg_values_supported: m.opt(
                "introspection_endpoint_auth_signing_alg_values_supported",
                string_list,
            )?,
            code_challenge_methods_supported: m
                .opt("code_challenge_methods_supported", string_list)?,
            client_id_metadata_document_supported: m
                .opt("client_id_metadata_document_supported", lax_bool)?,
            authorization_response_iss_parameter_supported: m
                .opt("authorization_response_iss_parameter_supported", lax_bool)?,
            authorization_grant_profiles_supported: m
                .opt("authorization_grant_profiles_supported", string_list)?,
            dpop_signing_alg_values_supported: m
                .opt("dpop_signing_alg_values_supported", string_list)?,
            extra: m.into_extra(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// ProtectedResourceMetadata (RFC 9728)
// ---------------------------------------------------------------------------------------------

/// OAuth 2.0 protected resource metadata (RFC 9728 §2).
///
/// `resource` and `authorization_servers` are required; `authorization_servers` must name at
/// least one server (the MCP authorization spec requires one). `bearer_methods_supported`
/// defaults to `["header"]` when absent and stays `None` when sent as `null`, as in the
/// reference. An empty-string optional URL member counts as absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtectedResourceMetadata {
    /// `resource`: the protected resource's identifier (RFC 9728 §2), required.
    pub resource: String,
    /// `authorization_servers`: issuer identifiers (RFC 8414) of the servers it trusts.
    pub authorization_servers: Vec<String>,
    /// `jwks_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `scopes_supported` (used by scope selection, SEP-835).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// `bearer_methods_supported` (RFC 6750 methods); default `["header"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_methods_supported: Option<Vec<String>>,
    /// `resource_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_signing_alg_values_supported: Option<Vec<String>>,
    /// `resource_name`: human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// `resource_documentation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    /// `resource_policy_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy_uri: Option<String>,
    /// `resource_tos_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_tos_uri: Option<String>,
    /// `tls_client_certificate_bound_access_tokens` (RFC 8705); lax boolean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    /// `authorization_details_types_supported` (RFC 9396).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details_types_supported: Option<Vec<String>>,
    /// `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// `dpop_bound_access_tokens_required` (RFC 9449 §5.2); lax boolean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens_required: Option<bool>,
    /// Members not modelled above, kept so they round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

json_model!(ProtectedResourceMetadata, "protected resource metadata");

impl ProtectedResourceMetadata {
    /// Metadata naming a resource and its authorization servers (taken verbatim), with every
    /// default.
    pub fn new(resource: impl Into<String>, authorization_servers: Vec<String>) -> Self {
        ProtectedResourceMetadata {
            resource: resource.into(),
            authorization_servers,
            jwks_uri: None,
            scopes_supported: None,
            bearer_methods_supported: Some(vec!["header".to_owned()]),
            resource_signing_alg_values_supported: None,
            resource_name: None,
            resource_documentation: None,
            resource_policy_uri: None,
            resource_tos_uri: None,
            tls_client_certificate_bound_access_tokens: None,
            authorization_details_types_supported: None,
            dpop_signing_alg_values_supported: None,
            dpop_bound_access_tokens_required: None,
            extra: Map::new(),
        }
    }

    fn from_map(map: Map<String, Value>) -> std::result::Result<Self, Reason> {
        let mut m = Members(map);
        let resource = m.req("resource", |v| url_value(v, normalize_http_url))?;
        let authorization_servers =
            m.req("authorization_servers", |v| url_list(v, normalize_http_url))?;
        if authorization_servers.is_empty() {
            return Err("authorization_servers: must name at least one server".to_owned());
        }
        Ok(ProtectedResourceMetadata {
            resource,
            authorization_servers,
            jwks_uri: m.opt_url("jwks_uri", normalize_http_url)?,
            scopes_supported: m.opt("scopes_supported", string_list)?,
            bearer_methods_supported: match m.slot("bearer_methods_supported") {
                Slot::Absent => Some(vec!["header".to_owned()]),
                Slot::Null => None,
                Slot::Present(v) => {
                    Some(string_list(v).map_err(|r| format!("bearer_methods_supported: {r}"))?)
                }
            },
            resource_signing_alg_values_supported: m
                .opt("resource_signing_alg_values_supported", string_list)?,
            resource_name: m.opt("resource_name", string)?,
            resource_documentation: m.opt_url("resource_documentation", normalize_http_url)?,
            resource_policy_uri: m.opt_url("resource_policy_uri", normalize_http_url)?,
            resource_tos_uri: m.opt_url("resource_tos_uri", normalize_http_url)?,
            tls_client_certificate_bound_access_tokens: m
                .opt("tls_client_certificate_bound_access_tokens", lax_bool)?,
            authorization_details_types_supported: m
                .opt("authorization_details_types_supported", string_list)?,
            dpop_signing_alg_values_supported: m
                .opt("dpop_signing_alg_values_supported", string_list)?,
            dpop_bound_access_tokens_required: m
                .opt("dpop_bound_access_tokens_required", lax_bool)?,
            extra: m.into_extra(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// OAuthClientMetadata (RFC 7591 §2)
// ---------------------------------------------------------------------------------------------

/// The client metadata sent to a registration endpoint (RFC 7591 §2) and the source of the
/// authorization request's `redirect_uri`.
///
/// Rules (the reference's `OAuthClientMetadata`):
/// - `redirect_uris` must be present in JSON (it may be `null`, e.g. for machine-to-machine
///   clients) and, when set, non-empty; each entry is an absolute URL of any scheme;
/// - `token_endpoint_auth_method`, when set, is one of [`CLIENT_AUTH_METHODS`]; when unset it is
///   left out of the registration so the server chooses;
/// - `grant_types` defaults to [`DEFAULT_GRANT_TYPES`], `response_types` to `["code"]`;
/// - `application_type` defaults to `"native"` and must be `"web"` or `"native"` (SEP-837);
/// - the informational URLs (`client_uri`, `logo_uri`, `tos_uri`, `policy_uri`, `jwks_uri`) are
///   http(s) URLs; an empty string counts as absent.
///
/// `extra` members are sent with the registration (RFC 7591 §2 allows extensions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OAuthClientMetadata {
    /// `redirect_uris` (RFC 7591 §2; RFC 8252 §7 for native apps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// `token_endpoint_auth_method` (RFC 7591 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `grant_types` (RFC 7591 §2).
    pub grant_types: Vec<String>,
    /// `response_types` (RFC 7591 §2).
    pub response_types: Vec<String>,
    /// `scope`: space-delimited (RFC 7591 §2, RFC 6749 §3.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `client_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `client_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// `logo_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// `tos_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    /// `policy_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    /// `jwks_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `contacts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    /// `jwks`: the client's public JWK Set, by value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// `software_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// `software_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// `application_type` (SEP-837; OpenID Connect Dynamic Client Registration §2): default
    /// `"native"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    /// Extension members, sent with the registration.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

json_model!(OAuthClientMetadata, "client metadata");

impl OAuthClientMetadata {
    /// Client metadata with the reference's defaults: the given `redirect_uris`, `grant_types`
    /// [`DEFAULT_GRANT_TYPES`], `response_types` `["code"]`, `application_type` `"native"`, no
    /// `token_endpoint_auth_method` (the server chooses) and no scope (scope selection sets it).
    ///
    /// The URIs are taken verbatim; [`validate`](Self::validate) checks them.
    pub fn new(redirect_uris: Vec<String>) -> Self {
        OAuthClientMetadata {
            redirect_uris: Some(redirect_uris),
            token_endpoint_auth_method: None,
            grant_types: default_grant_types(),
            response_types: default_response_types(),
            scope: None,
            client_name: None,
            client_uri: None,
            logo_uri: None,
            tos_uri: None,
            policy_uri: None,
            jwks_uri: None,
            contacts: None,
            jwks: None,
            software_id: None,
            software_version: None,
            application_type: Some("native".to_owned()),
            extra: Map::new(),
        }
    }

    fn from_map(map: Map<String, Value>) -> std::result::Result<Self, Reason> {
        let mut m = Members(map);
        let redirect_uris = match m.slot("redirect_uris") {
            Slot::Absent => return Err("redirect_uris: field required".to_owned()),
            Slot::Null => None,
            Slot::Present(v) => {
                Some(url_list(v, normalize_any_url).map_err(|r| format!("redirect_uris: {r}"))?)
            }
        };
        let meta = OAuthClientMetadata {
            redirect_uris,
            token_endpoint_auth_method: m.opt("token_endpoint_auth_method", string)?,
            grant_types: m
                .opt("grant_types", string_list)?
                .unwrap_or_else(default_grant_types),
            response_types: m
                .opt("response_types", string_list)?
                .unwrap_or_else(default_response_types),
            scope: m.opt("scope", string)?,
            client_name: m.opt("client_name", string)?,
            client_uri: m.opt_url("client_uri", normalize_http_url)?,
            logo_uri: m.opt_url("logo_uri", normalize_http_url)?,
            tos_uri: m.opt_url("tos_uri", normalize_http_url)?,
            policy_uri: m.opt_url("policy_uri", normalize_http_url)?,
            jwks_uri: m.opt_url("jwks_uri", normalize_http_url)?,
            contacts: m.opt("contacts", string_list)?,
            jwks: m.opt("jwks", any_value)?,
            software_id: m.opt("software_id", string)?,
            software_version: m.opt("software_version", string)?,
            application_type: match m.slot("application_type") {
                Slot::Absent => Some("native".to_owned()),
                Slot::Null => None,
                Slot::Present(v) => Some(string(v).map_err(|r| format!("application_type: {r}"))?),
            },
            extra: m.into_extra(),
        };
        meta.check()?;
        Ok(meta)
    }

    fn check(&self) -> std::result::Result<(), Reason> {
        if let Some(uris) = &self.redirect_uris {
            if uris.is_empty() {
                return Err("redirect_uris: must contain at least one URI".to_owned());
            }
            for (i, uri) in uris.iter().enumerate() {
                normalize_any_url(uri).map_err(|r| format!("redirect_uris[{i}]: {r}"))?;
            }
        }
        if let Some(method) = &self.token_endpoint_auth_method {
            if !CLIENT_AUTH_METHODS.contains(&method.as_str()) {
                return Err(format!(
                    "token_endpoint_auth_method: {method:?} is not one of {CLIENT_AUTH_METHODS:?}"
                ));
            }
        }
        if let Some(app) = &self.application_type {
            if !APPLICATION_TYPES.contains(&app.as_str()) {
                return Err(format!(
                    "application_type: {app:?} is not one of {APPLICATION_TYPES:?}"
                ));
            }
        }
        for (key, value) in [
            ("client_uri", &self.client_uri),
            ("logo_uri", &self.logo_uri),
            ("tos_uri", &self.tos_uri),
            ("policy_uri", &self.policy_uri),
            ("jwks_uri", &self.jwks_uri),
        ] {
            if let Some(url) = value {
                normalize_http_url(url).map_err(|r| format!("{key}: {r}"))?;
            }
        }
        Ok(())
    }

    /// Check the metadata against the rules listed on [`OAuthClientMetadata`] (RFC 7591 §2,
    /// SEP-837).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (what: `"client metadata"`) naming the offending member.
    pub fn validate(&self) -> Result<()> {
        self.check()
            .map_err(|reason| Error::invalid_argument("client metadata", reason))
    }

    /// The RFC 7591 §3.1 registration request body: every member that is set (the reference's
    /// `model_dump(by_alias=True, mode="json", exclude_none=True)`), plus the `extra` members.
    pub fn registration_body(&self) -> Value {
        serde_json::to_value(self).expect("a map with string keys always serializes")
    }
}

// ---------------------------------------------------------------------------------------------
// OAuthClientInformationFull (RFC 7591 §3.2.1)
// ---------------------------------------------------------------------------------------------

/// The registered client: a registration response (RFC 7591 §3.2.1), a pre-registered client,
/// or a CIMD client id; what the client stores and authenticates with.
///
/// Parsing follows the reference: **every top-level member that is `null` or `""` is dropped
/// first**, so defaults apply (`"client_id": ""` counts as missing, `"grant_types": null` gives
/// the default). `token_endpoint_auth_method` and `application_type` accept any string here;
/// [`crate::registration::check_registration_usable`] decides whether the client can use it.
///
/// `issuer` is the SEP-2352 binding: the authorization server the credentials were issued by,
/// recorded by the client (a registration response's own `issuer` member is never trusted, see
/// [`crate::registration::handle_registration_response`]).
///
/// `Debug` never prints `client_secret` nor the values of `extra` members (e.g. an RFC 7592
/// `registration_access_token`).
#[derive(Clone, PartialEq, Serialize)]
pub struct OAuthClientInformationFull {
    /// `client_id` (RFC 7591 §3.2.1), required and non-empty.
    pub client_id: String,
    /// `client_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecret>,
    /// `client_id_issued_at` (Unix seconds); lax integer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_issued_at: Option<i64>,
    /// `client_secret_expires_at` (Unix seconds, 0 = never); lax integer. Not enforced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// SEP-2352: the issuer of the authorization server these credentials belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `redirect_uris`: absolute URLs of any scheme; may be empty here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// `token_endpoint_auth_method` as registered (any string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `grant_types`; default [`DEFAULT_GRANT_TYPES`].
    pub grant_types: Vec<String>,
    /// `response_types`; default `["code"]`.
    pub response_types: Vec<String>,
    /// `scope` as registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `client_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `client_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// `logo_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// `tos_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    /// `policy_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    /// `jwks_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `contacts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    /// `jwks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// `software_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// `software_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// `application_type` as registered (any string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_type: Option<String>,
    /// Members not modelled above (e.g. RFC 7592 `registration_client_uri`), kept so they
    /// round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

json_model!(OAuthClientInformationFull, "client information");

impl OAuthClientInformationFull {
    /// A client with this id and every default (no secret, no issuer binding).
    pub fn new(client_id: impl Into<String>) -> Self {
        OAuthClientInformationFull {
            client_id: client_id.into(),
            client_secret: None,
            client_id_issued_at: None,
            client_secret_expires_at: None,
            issuer: None,
            redirect_uris: None,
            token_endpoint_auth_method: None,
            grant_types: default_grant_types(),
            response_types: default_response_types(),
            scope: None,
            client_name: None,
            client_uri: None,
            logo_uri: None,
            tos_uri: None,
            policy_uri: None,
            jwks_uri: None,
            contacts: None,
            jwks: None,
            software_id: None,
            software_version: None,
            application_type: None,
            extra: Map::new(),
        }
    }

    pub(crate) fn from_map(mut map: Map<String, Value>) -> std::result::Result<Self, Reason> {
        map.retain(|_, v| !(v.is_null() || v.as_str() == Some("")));
        let mut m = Members(map);
        Ok(OAuthClientInformationFull {
            client_id: m.req("client_id", credential)?,
            client_secret: m.opt("client_secret", credential)?.map(ClientSecret::new),
            client_id_issued_at: m.opt("client_id_issued_at", lax_i64)?,
            client_secret_expires_at: m.opt("client_secret_expires_at", lax_i64)?,
            issuer: m.opt("issuer", string)?,
            redirect_uris: m.opt("redirect_uris", |v| url_list(v, normalize_any_url))?,
            token_endpoint_auth_method: m.opt("token_endpoint_auth_method", string)?,
            grant_types: m
                .opt("grant_types", string_list)?
                .unwrap_or_else(default_grant_types),
            response_types: m
                .opt("response_types", string_list)?
                .unwrap_or_else(default_response_types),
            scope: m.opt("scope", string)?,
            client_name: m.opt("client_name", string)?,
            client_uri: m.opt_url("client_uri", normalize_http_url)?,
            logo_uri: m.opt_url("logo_uri", normalize_http_url)?,
            tos_uri: m.opt_url("tos_uri", normalize_http_url)?,
            policy_uri: m.opt_url("policy_uri", normalize_http_url)?,
            jwks_uri: m.opt_url("jwks_uri", normalize_http_url)?,
            contacts: m.opt("contacts", string_list)?,
            jwks: m.opt("jwks", any_value)?,
            software_id: m.opt("software_id", string)?,
            software_version: m.opt("software_version", string)?,
            application_type: m.opt("application_type", string)?,
            extra: m.into_extra(),
        })
    }
}

impl fmt::Debug for OAuthClientInformationFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClientInformationFull")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_id_issued_at", &self.client_id_issued_at)
            .field("client_secret_expires_at", &self.client_secret_expires_at)
            .field("issuer", &self.issuer)
            .field("redirect_uris", &self.redirect_uris)
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .field("grant_types", &self.grant_types)
            .field("response_types", &self.response_types)
            .field("scope", &self.scope)
            .field("client_name", &self.client_name)
            .field("client_uri", &self.client_uri)
            .field("logo_uri", &self.logo_uri)
            .field("tos_uri", &self.tos_uri)
            .field("policy_uri", &self.policy_uri)
            .field("jwks_uri", &self.jwks_uri)
            .field("contacts", &self.contacts)
            .field("jwks", &self.jwks)
            .field("software_id", &self.software_id)
            .field("software_version", &self.software_version)
            .field("application_type", &self.application_type)
            .field("extra", &ExtraKeys(&self.extra))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_path_detection() {
        assert!(input_has_empty_path("https://a.com"));
        assert!(input_has_empty_path("https://a.com?x=/y"));
        assert!(input_has_empty_path("https://a.com#f"));
        assert!(input_has_empty_path("https:a.com"));
        assert!(!input_has_empty_path("https://a.com/"));
        assert!(!input_has_empty_path("https://a.com\\x"));
        assert!(!input_has_empty_path("https://a.com/x"));
    }

    #[test]
    fn lax_ints() {
        assert_eq!(parse_int_str(" 42 "), Some(42));
        assert_eq!(parse_int_str("-5"), Some(-5));
        assert_eq!(parse_int_str("3600.00"), Some(3600));
        assert_eq!(parse_int_str("3600.5"), None);
        assert_eq!(parse_int_str("abc"), None);
        assert_eq!(parse_int_str(""), None);
        assert_eq!(parse_int_str("-"), None);
        assert_eq!(parse_int_str("99999999999999999999999"), None);
    }
}
