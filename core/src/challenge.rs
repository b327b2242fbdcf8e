//! Parse `WWW-Authenticate` (RFC 9110 §11.6.1) into [`Challenge`]s, read the Bearer challenge
//! (RFC 6750 §3, RFC 9728 §5.1), and offer the MCP Python SDK's `extract_*_from_www_auth`
//! helpers with the same names and inputs.
//!
//! # Grammar
//!
//! ```text
//! WWW-Authenticate = #challenge                                   ; RFC 9110 §11.6.1
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ] ; §11.3
//! auth-param       = token BWS "=" BWS ( token / quoted-string )  ; §11.2
//! token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! A list element is a new challenge when it starts with `token SP` that is not followed by
//! `=` (or is a lone token); otherwise it is an auth-param of the challenge before it. Several
//! header lines are parsed as if joined with `,` (RFC 9110 §5.3), except that a line boundary
//! always ends a quoted string, so one broken line cannot swallow the next.
//!
//! What the parser does:
//!
//! - Auth-schemes (§11.1) and parameter names (§11.2) are case-insensitive. [`Challenge::scheme`]
//!   keeps the spelling the server sent (compare with [`Challenge::is_scheme`]); parameter names
//!   are stored **lowercased**, and every lookup compares case-insensitively.
//! - quoted-string (§5.6.4) with quoted-pair: `\"` and `\\` are unescaped; any UTF-8 (obs-text)
//!   is kept as is. `scope=""` is the empty string, not a missing value.
//! - token68 (`Basic dXNlcg==`, `Negotiate abc`), BWS around `=`, empty list elements (`, ,`,
//!   §5.6.1.2), several challenges per line and several lines.
//! - Duplicate parameters are invalid (§11.2) but kept, in order; [`Challenge::param`] returns
//!   the first.
//! - Tolerance: an unquoted value is read up to whitespace or `,` like the reference does, so
//!   an unquoted URL (`resource_metadata=https://…`) is accepted although `:` and `/` are not
//!   token characters. A malformed element (unterminated quoted string, a value glued to a
//!   `"`, a parameter with no challenge before it, junk after a value) is skipped up to the next
//!   top-level comma; the rest of the header still parses. It never fails, never panics, and
//!   runs in one pass over the bytes with no regex and no allocation beyond the output.
//!
//! # Divergences from the Python SDK's regex
//!
//! The reference (`mcp.client.auth.utils.extract_field_from_www_auth`) runs
//! `{field}=(?:"([^"]+)"|([^\s,]+))` over the whole header. The functions here parse instead,
//! so (each is a row of the table in docs/differences.md):
//!
//! - names match whole parameter names only: `xscope="a"` is not `scope`; a field name is
//!   compared literally, never as a regex (`a.b` does not match `axb`);
//! - text inside a quoted value is never a parameter (`error_description="bad scope=foo"`);
//! - quoted-pair escapes are honoured: `scope="a \"b\" c"` is `a "b" c`;
//! - `scope=""` is `Some("")`, not the two-character `""`;
//! - names are case-insensitive (`Scope=`) and BWS is allowed (`scope = "x"`);
//! - an unterminated quoted string gives no value rather than `"abc`;
//! - parameters belong to their challenge: when there is a Bearer challenge only its
//!   parameters answer (`DPoP scope="a", Bearer scope="b"` gives `b`, and
//!   `DPoP error="x", Bearer realm="r"` gives no `error`); with no Bearer challenge the first
//!   challenge carrying the field answers; a parameter with no auth-scheme before it is ignored.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::error::{Error, OAuthErrorResponse};

/// One challenge of a `WWW-Authenticate` field (RFC 9110 §11.6.1, §11.3): an auth-scheme and
/// either a token68 or a list of auth-params.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Challenge {
    /// The auth-scheme as the server spelled it (e.g. `Bearer`, `DPoP`). Schemes are
    /// case-insensitive (RFC 9110 §11.1): compare with [`Challenge::is_scheme`].
    pub scheme: String,
    /// The token68 form of the challenge data (RFC 9110 §11.2), e.g. `dXNlcg==`. When it is
    /// present, [`Challenge::params`] is empty.
    pub token68: Option<String>,
    /// The auth-params in the order sent, names **lowercased** (they are case-insensitive,
    /// RFC 9110 §11.2) and values unquoted and unescaped. Duplicates are kept.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of the first parameter named `name`, compared case-insensitively
    /// (RFC 9110 §11.2). A duplicate is invalid there, so the first occurrence wins.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the auth-scheme is `scheme`, ignoring ASCII case (RFC 9110 §11.1).
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// Whether this is a `Bearer` challenge (RFC 6750 §3), ignoring case.
    pub fn is_bearer(&self) -> bool {
        self.is_scheme("bearer")
    }
}

/// Writes the challenge back in RFC 9110 §11.6.1 syntax: `scheme token68` or
/// `scheme name=value, …`. A value is written as a token when it is one, otherwise as a
/// quoted-string with `"` and `\` escaped (§5.6.4), so parsing the output gives the same
/// challenge back whenever the scheme and names are tokens. When both are set, only the
/// token68 is written: the grammar allows one or the other.
impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(t) = &self.token68 {
            return write!(f, " {t}");
        }
        for (i, (name, value)) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            f.write_str(name)?;
            f.write_str("=")?;
            if !value.is_empty() && value.bytes().all(is_tchar) {
                f.write_str(value)?;
            } else {
                f.write_str("\"")?;
                let mut rest = value.as_str();
                while let Some(at) = rest.find(['"', '\\']) {
                    f.write_str(&rest[..at])?;
                    f.write_str("\\")?;
                    // `"` and `\` are one byte, so `at + 1` is a char boundary.
                    f.write_str(&rest[at..at + 1])?;
                    rest = &rest[at + 1..];
                }
                f.write_str(rest)?;
                f.write_str("\"")?;
            }
        }
        Ok(())
    }
}

/// The parameters of a Bearer challenge that an OAuth client acts on: RFC 6750 §3 (`realm`,
/// `scope`, `error`, `error_description`, `error_uri`) and RFC 9728 §5.1 (`resource_metadata`).
///
/// Built by [`bearer_challenge`] or [`BearerChallenge::from_challenge`]; every field is the
/// first occurrence of that parameter, `None` when absent, and `Some("")` for an empty
/// quoted-string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct BearerChallenge {
    /// `error` (RFC 6750 §3.1), e.g. `invalid_token`, `insufficient_scope`.
    pub error: Option<String>,
    /// `error_description` (RFC 6750 §3): human-readable text.
    pub error_description: Option<String>,
    /// `error_uri` (RFC 6750 §3): a page explaining the error.
    pub error_uri: Option<String>,
    /// `scope` (RFC 6750 §3): the space-delimited scopes the resource requires; MCP uses it
    /// for step-up authorization.
    pub scope: Option<String>,
    /// `resource_metadata` (RFC 9728 §5.1): the URL of the protected resource metadata.
    pub resource_metadata: Option<String>,
    /// `realm` (RFC 6750 §3, RFC 9110 §11.5).
    pub realm: Option<String>,
}

impl BearerChallenge {
    /// The Bearer view of `challenge`, or `None` when its scheme is not `Bearer`.
    pub fn from_challenge(challenge: &Challenge) -> Option<Self> {
        if !challenge.is_bearer() {
            return None;
        }
        let get = |name: &str| challenge.param(name).map(str::to_owned);
        Some(BearerChallenge {
            error: get("error"),
            error_description: get("error_description"),
            error_uri: get("error_uri"),
            scope: get("scope"),
            resource_metadata: get("resource_metadata"),
            realm: get("realm"),
        })
    }

    /// The scope tokens of `scope`, split on spaces (RFC 6750 §3: `1*SP`-separated
    /// scope-tokens); empty when there is no `scope`.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    /// The `error`/`error_description`/`error_uri` triple as an [`OAuthErrorResponse`]
    /// (RFC 6750 §3), or `None` when the challenge carries no `error`.
    pub fn oauth_error(&self) -> Option<OAuthErrorResponse> {
        Some(OAuthErrorResponse {
            error: self.error.clone()?,
            error_description: self.error_description.clone(),
            error_uri: self.error_uri.clone(),
            state: None,
        })
    }
}

/// Parse one `WWW-Authenticate` field value into its challenges, in order (RFC 9110 §11.6.1).
///
/// Never fails: malformed elements are skipped (see the [module docs](self)).
///
/// ```
/// use mcp_auth::challenge::parse_www_authenticate;
/// let c = parse_www_authenticate(r#"Basic realm="a", Bearer Scope="files:read", error=x"#);
/// assert_eq!(c.len(), 2);
/// assert!(c[1].is_bearer());
/// assert_eq!(c[1].param("scope"), Some("files:read"));
/// assert_eq!(c[1].params[0].0, "scope"); // names are stored lowercased
/// ```
pub fn parse_www_authenticate(value: &str) -> Vec<Challenge> {
    let mut out = Vec::new();
    collect(value, Open::None, &mut out);
    out
}

/// Parse several `WWW-Authenticate` field lines of one response, in order.
///
/// RFC 9110 §5.3 makes several lines equivalent to one line joined with commas, so a line
/// that starts with auth-params continues the last challenge of the line before; but a line
/// boundary always ends a quoted string or a malformed element.
pub fn parse_www_authenticate_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Vec<Challenge> {
    let mut out = Vec::new();
    let mut open = Open::None;
    for value in values {
        open = collect(value, open, &mut out);
    }
    out
}

/// Parse every `WWW-Authenticate` value of `headers` (RFC 9110 §11.6.1, §5.3).
///
/// `http` accepts obs-text bytes in header values; they are decoded as UTF-8 with invalid
/// sequences replaced by U+FFFD, so a server sending UTF-8 in a quoted string is read
/// correctly and arbitrary bytes cannot make this fail.
pub fn parse_www_authenticate_headers(headers: &http::HeaderMap) -> Vec<Challenge> {
    let mut out = Vec::new();
    let mut open = Open::None;
    for value in headers.get_all(http::header::WWW_AUTHENTICATE) {
        let text = String::from_utf8_lossy(value.as_bytes());
        open = collect(&text, open, &mut out);
    }
    out
}

/// The first `Bearer` challenge (RFC 6750 §3) of `challenges`, as a [`BearerChallenge`].
pub fn bearer_challenge(challenges: &[Challenge]) -> Option<BearerChallenge> {
    challenges.iter().find_map(BearerChallenge::from_challenge)
}

/// The value of parameter `field_name` in a `WWW-Authenticate` value: the reference's
/// `extract_field_from_www_auth`, taking the header text instead of a response.
///
/// Which challenge: the first `Bearer` challenge if there is one (its parameter, or `None` if
/// it lacks it; RFC 6750 §3 parameters belong to their challenge), otherwise the first
/// challenge of any scheme carrying the parameter. `None` or an empty header gives `None`.
/// Names compare case-insensitively (RFC 9110 §11.2) and literally. An empty quoted value
/// gives `Some("")` and whitespace-only values are returned unchanged. Several header lines
/// may be passed joined with `", "`, as the reference's HTTP client does.
///
/// The divergences from the reference's regex are listed in the [module docs](self).
pub fn extract_field_from_www_auth(
    www_authenticate: Option<&str>,
    field_name: &str,
) -> Option<String> {
    // One pass, no allocation until the answer: stream the lexer's items.
    let mut bearer = Bearer::NotSeen;
    let mut fallback: Option<Cow<'_, str>> = None;
    for item in Lexer::new(www_authenticate?, Open::None) {
        match item {
            Item::Scheme(scheme) => {
                bearer = match bearer {
                    // The first Bearer challenge ended without the field: that is the answer.
                    Bearer::Inside => return None,
                    _ if scheme.eq_ignore_ascii_case("bearer") => Bearer::Inside,
                    other => other,
                };
            }
            Item::Token68(_) => {}
            Item::Param(name, value, _) if name.eq_ignore_ascii_case(field_name) => match bearer {
                Bearer::Inside => return Some(value.into_owned()),
                Bearer::NotSeen if fallback.is_none() => fallback = Some(value),
                _ => {}
            },
            Item::Param(..) => {}
        }
    }
    match bearer {
        Bearer::Inside => None,
        Bearer::NotSeen => fallback.map(Cow::into_owned),
    }
}

/// `scope` of the `WWW-Authenticate` value (RFC 6750 §3): the reference's
/// `extract_scope_from_www_auth`. Same rules as [`extract_field_from_www_auth`].
pub fn extract_scope_from_www_auth(www_authenticate: Option<&str>) -> Option<String> {
    extract_field_from_www_auth(www_authenticate, "scope")
}

/// `resource_metadata` of the `WWW-Authenticate` value (RFC 9728 §5.1): the reference's
/// `extract_resource_metadata_from_www_auth`.
///
/// Like the reference, `None` unless `status` is 401 or 403: those are the responses that
/// carry an authorization challenge (RFC 9110 §15.5.2, RFC 6750 §3.1), and a challenge on any
/// other status is not acted on.
pub fn extract_resource_metadata_from_www_auth(
    www_authenticate: Option<&str>,
    status: u16,
) -> Option<String> {
    if status != 401 && status != 403 {
        return None;
    }
    extract_field_from_www_auth(www_authenticate, "resource_metadata")
}

// ---------------------------------------------------------------------------------------------
// The lexer: one pass over the bytes, yielding borrowed items.

/// Where [`extract_field_from_www_auth`] is relative to the first Bearer challenge.
#[derive(Clone, Copy)]
enum Bearer {
    NotSeen,
    Inside,
}

/// Whether the last challenge accepts auth-params; carried across header lines.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Open {
    /// No challenge yet: an auth-param here has no scheme and is dropped.
    None,
    /// The last challenge takes auth-params.
    Params,
    /// The last challenge has a token68, which excludes auth-params (RFC 9110 §11.2).
    Token68,
}

/// A lexical item of a `WWW-Authenticate` value. Names are not lowercased here; values are
/// unquoted and borrowed unless they contained a quoted-pair.
#[derive(Debug)]
enum Item<'a> {
    Scheme(&'a str),
    Token68(&'a str),
    /// A parameter: its name, its (unquoted) value, and the byte range of the raw value in
    /// the input (quotes included).
    Param(&'a str, Cow<'a, str>, Range<usize>),
}

const fn byte_table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// `tchar` (RFC 9110 §5.6.2).
static TCHAR: [bool; 256] = byte_table(b"!#$%&'*+-.^_`|~");
/// The characters of `token68` before its `=` padding (RFC 9110 §11.2).
static TOKEN68: [bool; 256] = byte_table(b"-._~+/");

#[inline]
fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

/// A byte of an unquoted value: anything visible except `,` and `"` (and obs-text). Wider
/// than `token` on purpose: the reference and real servers send unquoted URLs.
#[inline]
fn is_bare_value_byte(b: u8) -> bool {
    b > b' ' && b != 0x7f && b != b',' && b != b'"'
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
    open: Open,
    /// The next element directly follows `auth-scheme 1*SP`: token68 is allowed there, a new
    /// challenge is not.
    body: bool,
    /// Also report parameters that belong to no challenge (the parser drops them; a proxy
    /// rewriting a parameter in place may still see them).
    every_param: bool,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str, open: Open) -> Self {
        Lexer {
            s,
            pos: 0,
            open,
            body: false,
            every_param: false,
        }
    }

    #[inline]
    fn skip_ows(&self, mut i: usize) -> usize {
        let b = self.s.as_bytes();
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        i
    }

    /// Recovery: the position of the next comma outside a quoted string, or the end.
    fn skip_element(&self, mut i: usize) -> usize {
        let b = self.s.as_bytes();
        while i < b.len() {
            match b[i] {
                b',' => return i,
                b'"' => {
                    i += 1;
                    while i < b.len() {
                        match b[i] {
                            b'"' => break,
                            b'\\' => i += 2,
                            _ => i += 1,
                        }
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        b.len()
    }

    /// A token68 starting at `i` that is the whole element (followed by OWS and then a comma
    /// or the end): its end.
    fn token68(&self, i: usize) -> Option<usize> {
        let b = self.s.as_bytes();
        let mut j = i;
        while j < b.len() && TOKEN68[b[j] as usize] {
            j += 1;
        }
        if j == i {
            return None;
        }
        while j < b.len() && b[j] == b'=' {
            j += 1;
        }
        let k = self.skip_ows(j);
        (k == b.len() || b[k] == b',').then_some(j)
    }

    /// A quoted-string (RFC 9110 §5.6.4) whose opening quote is at `i`: the unescaped value
    /// and the position after the closing quote; `None` when unterminated.
    fn quoted(&self, i: usize) -> Option<(Cow<'a, str>, usize)> {
        let s = self.s;
        let b = s.as_bytes();
        let mut owned: Option<String> = None;
        let mut seg = i + 1;
        let mut j = seg;
        loop {
            // Only `"` and `\` matter; every other byte (HTAB, SP, VCHAR, obs-text) is data.
            j += b.get(j..)?.iter().position(|&c| c == b'"' || c == b'\\')?;
            // Slicing is safe: `seg` and `j` are next to ASCII bytes, hence char boundaries.
            if b[j] == b'"' {
                let tail = &s[seg..j];
                let value = match owned {
                    Some(mut o) => {
                        o.push_str(tail);
                        Cow::Owned(o)
                    }
                    None => Cow::Borrowed(tail),
                };
                return Some((value, j + 1));
            }
            // quoted-pair: drop the backslash, keep the next character whatever it is.
            if j + 1 >= b.len() {
                return None;
            }
            owned.get_or_insert_with(String::new).push_str(&s[seg..j]);
            seg = j + 1;
            j += 2;
        }
    }

    /// The value after `=` (at `i`, before BWS) and where the next element starts; `None` when
    /// there is no usable value.
    fn value(&self, i: usize) -> Option<(Cow<'a, str>, Range<usize>, usize)> {
        let b = self.s.as_bytes();
        let i = self.skip_ows(i);
        let (value, end) = match b.get(i)? {
            b'"' => self.quoted(i)?,
            // `x==`: not a value (it is the padding of a misplaced token68).
            b'=' => return None,
            _ => {
                let mut j = i;
                while j < b.len() && is_bare_value_byte(b[j]) {
                    j += 1;
                }
                if j == i || (j < b.len() && !matches!(b[j], b' ' | b'\t' | b',')) {
                    // Empty, or glued to a `"` or a control character: malformed.
                    return None;
                }
                (Cow::Borrowed(&self.s[i..j]), j)
            }
        };
        let k = self.skip_ows(end);
        if k < b.len() && b[k] != b',' {
            // A complete value followed by junk (e.g. a missing comma): keep the value,
            // drop the rest of the element.
            return Some((value, i..end, self.skip_element(k)));
        }
        Some((value, i..end, k))
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        let b = self.s.as_bytes();
        // Every iteration moves `pos` forward by at least one byte, so this terminates.
        loop {
            let body = std::mem::replace(&mut self.body, false);
            let start = if body {
                // After `scheme 1*SP`, at a byte that is not OWS, `,` or the end.
                let start = self.pos;
                if let Some(end) = self.token68(start) {
                    self.pos = end;
                    self.open = Open::Token68;
                    return Some(Item::Token68(&self.s[start..end]));
                }
                start
            } else {
                // OWS and empty list elements (RFC 9110 §5.6.1.2).
                let mut i = self.pos;
                while i < b.len() && matches!(b[i], b' ' | b'\t' | b',') {
                    i += 1;
                }
                if i >= b.len() {
                    self.pos = i;
                    return None;
                }
                i
            };

            let mut name_end = start;
            while name_end < b.len() && is_tchar(b[name_end]) {
                name_end += 1;
            }
            let name = &self.s[start..name_end];
            let i = self.skip_ows(name_end);

            if name_end == start {
                // Not a token: junk up to the next comma.
                self.pos = self.skip_element(start);
            } else if i < b.len() && b[i] == b'=' {
                // auth-param = token BWS "=" BWS ( token / quoted-string )
                match self.value(i + 1) {
                    Some((value, raw, next)) => {
                        self.pos = next;
                        if self.open == Open::Params || self.every_param {
                            return Some(Item::Param(name, value, raw));
                        }
                        // No challenge to attach it to (or a token68 one): dropped.
                    }
                    None => self.pos = self.skip_element(i + 1),
                }
            } else if !body && (i == b.len() || b[i] == b',') {
                // A challenge with no data: `Basic, Bearer …`.
                self.pos = i;
                self.open = Open::Params;
                return Some(Item::Scheme(name));
            } else if !body && i > name_end {
                // `auth-scheme 1*SP`: the challenge data follows.
                self.pos = i;
                self.open = Open::Params;
                self.body = true;
                return Some(Item::Scheme(name));
            } else {
                // A token glued to junk, or a bare word where only token68/auth-param may be.
                self.pos = self.skip_element(name_end);
            }
            // Skipped something: the termination argument.
            debug_assert!(self.pos > start, "lexer made no progress at {start}");
        }
    }
}

/// Every auth-param of one field value as `(name, raw value byte range)`, the range including
/// the quotes of a quoted-string: exactly the parameters the parser reads (same lexer), plus
/// any that belong to no challenge. For rewriting one parameter in place while leaving every
/// other byte as sent (the `mcp-auth-bridge` crate rewrites `resource_metadata` with it).
///
/// A parameter inside a quoted string, after a malformed element, or with an empty or
/// unterminated value is not reported.
///
/// ```
/// use mcp_auth::challenge::param_value_spans;
/// let v = r#"Bearer error="invalid_token", resource_metadata=https://x/prm"#;
/// let spans = param_value_spans(v);
/// assert_eq!(spans[0].0, "error");
/// assert_eq!(&v[spans[0].1.clone()], r#""invalid_token""#);
/// assert_eq!(&v[spans[1].1.clone()], "https://x/prm");
/// ```
pub fn param_value_spans(value: &str) -> Vec<(&str, Range<usize>)> {
    let mut lexer = Lexer::new(value, Open::None);
    lexer.every_param = true;
    lexer
        .filter_map(|item| match item {
            Item::Param(name, _, raw) => Some((name, raw)),
            _ => None,
        })
        .collect()
}

/// Run the lexer over `value`, appending to `out`; returns the state for the next line.
fn collect(value: &str, open: Open, out: &mut Vec<Challenge>) -> Open {
    let mut lexer = Lexer::new(value, open);
    for item in lexer.by_ref() {
        match item {
            Item::Scheme(scheme) => out.push(Challenge {
                scheme: scheme.to_owned(),
                token68: None,
                params: Vec::new(),
            }),
            Item::Token68(t) => {
                if let Some(c) = out.last_mut() {
                    c.token68 = Some(t.to_owned());
                }
            }
            Item::Param(name, value, _) => {
                if let Some(c) = out.last_mut() {
                    c.params
                        .push((name.to_ascii_lowercase(), value.into_owned()));
                }
            }
        }
    }
    lexer.open
}

// ---------------------------------------------------------------------------------------------
// The captured challenge
// ---------------------------------------------------------------------------------------------

/// The 401/403 challenge captured from the resource server, for hosts and proxies that must
/// forward it.
#[derive(Debug, Clone, Serialize)]
pub struct CapturedChallenge {
    /// The status (401 or 403).
    pub status: u16,
    /// Every `WWW-Authenticate` value, verbatim.
    pub www_authenticate: Vec<String>,
    /// The parsed challenges.
    pub challenges: Vec<Challenge>,
    /// The Bearer challenge, if any.
    pub bearer: Option<BearerChallenge>,
}

impl CapturedChallenge {
    /// Capture the challenge of a response.
    pub fn from_response(status: u16, headers: &http::HeaderMap) -> Self {
        let www_authenticate: Vec<String> = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let challenges = parse_www_authenticate_headers(headers);
        let bearer = bearer_challenge(&challenges);
        CapturedChallenge {
            status,
            www_authenticate,
            challenges,
            bearer,
        }
    }

    /// Capture a challenge from raw `WWW-Authenticate` values (e.g. received by a host's
    /// own HTTP stack).
    pub fn from_values(status: u16, www_authenticate: &[String]) -> Self {
        let challenges = parse_www_authenticate_values(www_authenticate.iter().map(String::as_str));
        let bearer = bearer_challenge(&challenges);
        CapturedChallenge {
            status,
            www_authenticate: www_authenticate.to_vec(),
            challenges,
            bearer,
        }
    }

    fn bearer_field(&self, f: impl Fn(&BearerChallenge) -> Option<&String>) -> Option<&str> {
        self.bearer.as_ref().and_then(f).map(String::as_str)
    }

    /// The `error` of the Bearer challenge.
    pub fn error(&self) -> Option<&str> {
        self.bearer_field(|b| b.error.as_ref())
    }

    /// The `scope` of the Bearer challenge.
    pub fn scope(&self) -> Option<&str> {
        self.bearer_field(|b| b.scope.as_ref())
    }

    /// The `resource_metadata` of the Bearer challenge (RFC 9728 §5.1).
    pub fn resource_metadata(&self) -> Option<&str> {
        self.bearer_field(|b| b.resource_metadata.as_ref())
    }

    pub(crate) fn oauth(&self) -> Option<OAuthErrorResponse> {
        let b = self.bearer.as_ref()?;
        Some(OAuthErrorResponse {
            error: b.error.clone()?,
            error_description: b.error_description.clone(),
            error_uri: b.error_uri.clone(),
            state: None,
        })
    }

    /// Whether this is a SEP-2350 step-up challenge: 403 `insufficient_scope`.
    pub(crate) fn is_step_up(&self) -> bool {
        self.status == 403 && self.error() == Some("insufficient_scope")
    }
}

impl Error {
    /// The 401/403 challenge an [`Error::Unauthorized`] carries, parsed.
    pub fn challenge(&self) -> Option<CapturedChallenge> {
        match self {
            Error::Unauthorized {
                status,
                www_authenticate,
                ..
            } => Some(CapturedChallenge::from_values(*status, www_authenticate)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(s: &str) -> Vec<String> {
        Lexer::new(s, Open::None)
            .map(|i| match i {
                Item::Scheme(s) => format!("S:{s}"),
                Item::Token68(t) => format!("T:{t}"),
                Item::Param(n, v, _) => format!("P:{n}={v}"),
            })
            .collect()
    }

    #[test]
    fn lexer_items() {
        assert_eq!(
            items(r#"Basic abc==, Bearer a=b , c="d\"e""#),
            ["S:Basic", "T:abc==", "S:Bearer", "P:a=b", r#"P:c=d"e"#]
        );
        assert_eq!(items("x=y, Bearer"), ["S:Bearer"]);
    }

    #[test]
    fn quoted_borrows_without_escapes() {
        let lx = Lexer::new(r#""abc" "a\"b""#, Open::None);
        assert!(matches!(lx.quoted(0), Some((Cow::Borrowed("abc"), 5))));
        assert!(matches!(lx.quoted(6), Some((Cow::Owned(ref s), 12)) if s == "a\"b"));
        assert!(Lexer::new(r#""abc\"#, Open::None).quoted(0).is_none());
    }
}
