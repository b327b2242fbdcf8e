//! Scope selection (SEP-835, with the SEP-2207 `offline_access` rule) and the step-up union
//! (SEP-2350).
//!
//! Scopes are space-delimited lists of scope tokens (RFC 6749 §3.3).

use crate::metadata::{OAuthMetadata, ProtectedResourceMetadata};

/// The scope that asks for a refresh token (OpenID Connect Core §11), appended by SEP-2207.
pub const OFFLINE_ACCESS: &str = "offline_access";

enum Selection<'a> {
    Header(&'a str),
    List(&'a [String]),
}

impl Selection<'_> {
    fn has_token(&self, token: &str) -> bool {
        match self {
            Selection::Header(s) => s.split_whitespace().any(|t| t == token),
            Selection::List(l) => l
                .iter()
                .flat_map(|s| s.split_whitespace())
                .any(|t| t == token),
        }
    }
}

/// Choose the scope to request (SEP-835 scope selection, the reference's
/// `get_client_metadata_scopes`):
///
/// 1. the `scope` of the `WWW-Authenticate` challenge, when present (even if empty);
/// 2. else the protected resource metadata's `scopes_supported`, joined with spaces (an empty
///    list gives `""`);
/// 3. else the authorization server metadata's `scopes_supported` (an SDK fallback);
/// 4. else `None`: request no scope.
///
/// SEP-2207: `offline_access` is appended when a scope was selected, the authorization server
/// lists `offline_access` in `scopes_supported`, the client's grant types include
/// `refresh_token`, and the selection does not already contain it.
///
/// Divergence (docs/differences.md `get_client_metadata_scopes#12`, `#13`): appending to a selection with no
/// scope tokens gives `"offline_access"`, not the reference's `" offline_access"`, whose leading
/// space RFC 6749 §3.3's `scope` syntax does not allow.
///
/// One allocation (the result).
pub fn get_client_metadata_scopes(
    www_authenticate_scope: Option<&str>,
    prm: Option<&ProtectedResourceMetadata>,
    asm: Option<&OAuthMetadata>,
    client_grant_types: Option<&[String]>,
) -> Option<String> {
    let refresh_grant = client_grant_types.is_some_and(|g| g.iter().any(|g| g == "refresh_token"));
    select_scopes(www_authenticate_scope, prm, asm, refresh_grant)
}

/// [`get_client_metadata_scopes`] with the client's grant types already reduced to whether
/// they include `refresh_token` (for callers that hold the grant types in another form, such as
/// a Python list, and need not copy them).
pub fn select_scopes(
    www_authenticate_scope: Option<&str>,
    prm: Option<&ProtectedResourceMetadata>,
    asm: Option<&OAuthMetadata>,
    refresh_grant: bool,
) -> Option<String> {
    let asm_scopes = asm.and_then(|a| a.scopes_supported.as_deref());
    let selection = if let Some(s) = www_authenticate_scope {
        Selection::Header(s)
    } else if let Some(l) = prm.and_then(|p| p.scopes_supported.as_deref()) {
        Selection::List(l)
    } else {
        Selection::List(asm_scopes?)
    };
    let offline = asm_scopes.is_some_and(|l| l.iter().any(|s| s == OFFLINE_ACCESS))
        && refresh_grant
        && !selection.has_token(OFFLINE_ACCESS);
    let extra = if offline { OFFLINE_ACCESS.len() + 1 } else { 0 };
    let mut out = match selection {
        Selection::Header(s) => {
            let mut out = String::with_capacity(s.len() + extra);
            out.push_str(s);
            out
        }
        Selection::List(l) => {
            let len = l.iter().map(|s| s.len() + 1).sum::<usize>();
            let mut out = String::with_capacity(len + extra);
            for (i, s) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(s);
            }
            out
        }
    };
    if offline {
        if out.split_whitespace().next().is_some() {
            out.push(' ');
        } else {
            out.clear();
        }
        out.push_str(OFFLINE_ACCESS);
    }
    Some(out)
}

/// The union of two scopes (SEP-2350 step-up): the tokens of `previous` in order, followed by
/// the tokens of `new` not already present, joined by single spaces.
///
/// An absent or empty `previous` gives `new` unchanged, an absent or empty `new` gives
/// `previous` unchanged (so `union_scopes(Some(""), Some(""))` is `Some("")`); repeated tokens
/// inside `previous` are kept, as in the reference.
pub fn union_scopes(previous: Option<&str>, new: Option<&str>) -> Option<String> {
    let previous = match previous {
        None | Some("") => return new.map(str::to_owned),
        Some(p) => p,
    };
    let new = match new {
        None | Some("") => return Some(previous.to_owned()),
        Some(n) => n,
    };
    let mut out = String::with_capacity(previous.len() + new.len() + 1);
    for token in previous.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    }
    for token in new.split_whitespace() {
        if !out.split(' ').any(|t| t == token) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(token);
        }
    }
    Some(out)
}
