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

use serde::{Deserialize, Deserializer};
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
///
/// Built from a map ([`Members::from_map`]), or straight from JSON ([`Members::parse`]): then
/// the members a model knows are kept beside the map, their names never allocated, and only
/// the others go into the map.
pub(crate) struct Members {
    known: Vec<(&'static str, Value)>,
    rest: Map<String, Value>,
}

enum Slot {
    Absent,
    Null,
    Present(Value),
}

impl Members {
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Members {
            known: Vec::new(),
            rest: map,
        }
    }

    /// Parse a JSON object whose model knows the members `known`; `None` when `bytes` is not a
    /// JSON object (the caller's [`parse_object`] then says why, with the usual message).
    pub(crate) fn parse(bytes: &[u8], known: &'static [&'static str]) -> Option<Self> {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let members = MembersSeed(known).deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(members)
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        match self.known.iter().position(|(k, _)| *k == key) {
            Some(i) => Some(self.known.swap_remove(i).1),
            None => self.rest.remove(key),
        }
    }

    fn slot(&mut self, key: &str) -> Slot {
        match self.take(key) {
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
        let mut rest = self.rest;
        // Known members the model did not take (none today) stay in `extra`.
        for (k, v) in self.known {
            rest.insert(k.to_owned(), v);
        }
        rest
    }
}

/// Deserializes a JSON object into [`Members`] (see [`Members::parse`]).
struct MembersSeed(&'static [&'static str]);

/// A member name, borrowed from the input when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for MembersSeed {
    type Value = Members;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Members, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MembersSeed {
    type Value = Members;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut a: A,
    ) -> std::result::Result<Members, A::Error> {
        let mut m = Members {
            known: Vec::with_capacity(self.0.len()),
            rest: Map::new(),
        };
        while let Some(Key(key)) = a.next_key()? {
            let value: Value = a.next_value()?;
            match self.0.iter().find(|k| **k == key) {
                // A repeated member: the last one counts, as in a parsed map.
                Some(k) => match m.known.iter_mut().find(|(n, _)| n == k) {
                    Some(slot) => slot.1 = value,
                    None => m.known.push((k, value)),
                },
                None => {
                    m.rest.insert(key.into_owned(), value);
                }
            }
        }
        Ok(m)
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
    // A model whose `from_json` parses straight into `Members` (the names in `$known` are
    // not allocated): the hot documents.
    ($t:ident, $what:literal, known: $known:expr) => {
        json_model!(@common $t, $what, |bytes: &[u8]| match Members::parse(bytes, $known) {
            Some(m) => Self::from_members(m),
            None => parse_object(bytes).and_then(Self::from_map),
        });
        impl $t {
            fn from_map(map: Map<String, Value>) -> std::result::Result<Self, Reason> {
                Self::from_members(Members::from_map(map))
            }
        }
    };
    ($t:ident, $what:literal) => {
        json_model!(@common $t, $what, |bytes: &[u8]| parse_object(bytes).and_then(Self::from_map));
    };
    (@common $t:ident, $what:literal, $parse:expr) => {
        impl $t {
            /// Parse and validate a JSON document.
            ///
            /// # Errors
            #[doc = concat!("[`Error::InvalidResponse`] (what: `\"", $what, "\"`) naming the member")]
            /// that failed, or saying why the body is not a JSON object.
            pub fn from_json(bytes: &[u8]) -> Result<Self> {
                let parse = $parse;
                parse(bytes).map_err(|reason| Error::invalid_response($what, reason, None))
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

mod client;
mod resource;
mod server;
mod token;

pub use client::{OAuthClientInformationFull, OAuthClientMetadata};
pub use resource::ProtectedResourceMetadata;
pub use server::OAuthMetadata;
pub use token::OAuthToken;

#[cfg(test)]
mod tests {
    use super::*;

    /// `OAuthToken::from_json` parses straight into members; it must agree with the map path
    /// (`from_value`) on every document, valid or not: repeated members (the last counts),
    /// escaped names, unmodelled members, wrong types, non-objects, trailing bytes.
    #[test]
    fn the_direct_parse_agrees_with_the_map_path() {
        use crate::metadata::OAuthToken;
        let docs: &[&str] = &[
            r#"{"access_token":"a","token_type":"bearer","expires_in":"60","scope":"x y"}"#,
            r#"{"access_token":"a","access_token":"b","refresh_token":"r","id_token":"i"}"#,
            r#"{"acc\u0065ss_token":"esc","token_type":"DPoP","extra":{"n":[1,2]}}"#,
            r#"{"access_token":"a","expires_in":-5,"issuer":null,"client_id":"c"}"#,
            r#"{"access_token":"a","token_type":"mac"}"#,
            r#"{"access_token":1}"#,
            r#"{"token_type":"Bearer"}"#,
            r#"{"access_token":"a\nb"}"#,
            r#"["access_token"]"#,
            r#""text""#,
            r#"{"access_token":"a"} trailing"#,
            r#"{"access_token":"a""#,
        ];
        for doc in docs {
            let direct = OAuthToken::from_json(doc.as_bytes());
            let via_map = serde_json::from_str::<Value>(doc)
                .map_err(|e| e.to_string())
                .and_then(|v| OAuthToken::from_value(v).map_err(|e| e.to_string()));
            match (&direct, &via_map) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{doc}");
                    assert_eq!(a.to_json(), b.to_json(), "{doc}");
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{doc}: direct {direct:?}, map path {via_map:?}"),
            }
        }
    }

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
