//! Per-server overrides: what a host changes for one MCP server whose authorization server
//! deviates from the specifications (docs/providers.md).
//!
//! Everything here is off by default and applies to one client (one MCP server); none of it is
//! a global switch. [`ServerOverrides`] is set on the builder
//! ([`ClientBuilder::overrides`](crate::ClientBuilder::overrides)), in the options JSON
//! (`"overrides": {…}`) and by the CLI's flags; a provider profile
//! ([`crate::providers::Provider`]) supplies defaults that explicit overrides replace.
//!
//! | override | what it changes | where it hooks in |
//! |---|---|---|
//! | `resource` | omit or replace the RFC 8707 `resource` | discovery (`Discovery::resource`) |
//! | `authorization_params` | extra authorization request parameters (`audience`, `access_type`) | the authorization request and the RFC 8628 device request |
//! | `token_params` | extra token request parameters | every grant at the token endpoint |
//! | `prompt` | the OIDC `prompt` ([`PromptPolicy`]) | the authorization request |
//! | `scope`, `drop_scopes` | the scope requested instead of the selection; tokens removed from it | scope selection |
//! | `authorization_server` | the issuer (or its metadata URL) for a server without RFC 9728 metadata | discovery |
//! | `trusted_issuers` | one named RFC 8414 §3.3 issuer mismatch accepted (issuer A for metadata URL B), audited in the trace | the metadata issuer check |
//! | `tenant_issuer` | a `{tenantid}` issuer template checked against the tenant (Entra ID) | the metadata issuer check, the token |
//!
//! `{resource}` in a parameter value is replaced by the RFC 8707 resource of the server (the
//! canonical MCP server URL, or the protected resource metadata's `resource`), so a profile can
//! say `audience={resource}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Check, Error, Result};
use crate::metadata::{OAuthMetadata, OAuthToken};

/// The `{tenantid}` placeholder of Microsoft Entra ID's multi-tenant issuer.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// What to do with the RFC 8707 `resource` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ResourceParam {
    /// As the specifications say: sent (the protected resource, or the canonical server URL).
    #[default]
    Auto,
    /// Never sent (an authorization server that rejects it: Entra ID v2, Auth0).
    Omit,
    /// This value instead.
    Value(String),
}

impl Serialize for ResourceParam {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ResourceParam::Auto => s.serialize_none(),
            ResourceParam::Omit => s.serialize_bool(false),
            ResourceParam::Value(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for ResourceParam {
    /// `null`/`true`: as specified; `false`: omitted; a string: that value.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Value(String),
        }
        Ok(match Option::<Raw>::deserialize(d)? {
            None | Some(Raw::Flag(true)) => ResourceParam::Auto,
            Some(Raw::Flag(false)) => ResourceParam::Omit,
            Some(Raw::Value(v)) => ResourceParam::Value(v),
        })
    }
}

/// The OpenID Connect `prompt` parameter of the authorization request.
///
/// OIDC Core §11 says an OpenID Connect authentication request asking for `offline_access`
/// MUST carry `prompt=consent` (unless other conditions permit offline access), and an OP must
/// otherwise ignore the `offline_access` request. That rule is about OpenID Connect requests,
/// those whose scope contains `openid`; MCP authorization is OAuth 2.1, where `offline_access`
/// is just a scope (SEP-2207). Forcing `prompt=consent` on every request that asks for
/// `offline_access` makes every connection ask for consent again and fails outright where only
/// administrators may consent (Entra ID: AADSTS90095). So [`PromptPolicy::Auto`] sends
/// `prompt=consent` only for an OpenID Connect request (`openid` and `offline_access` both in
/// the scope), and nothing otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PromptPolicy {
    /// `prompt=consent` only when the scope has both `openid` and `offline_access` (OIDC
    /// Core §11); else no `prompt`.
    #[default]
    Auto,
    /// Never send `prompt`.
    Omit,
    /// Always send this value (`consent`, `login`, `select_account consent`, `none`).
    Value(String),
}

impl Serialize for PromptPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            PromptPolicy::Auto => s.serialize_str("auto"),
            PromptPolicy::Omit => s.serialize_str("omit"),
            PromptPolicy::Value(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for PromptPolicy {
    /// `"auto"` (or `null`), `"omit"`, or the value to send.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<String>::deserialize(d)?.as_deref() {
            None | Some("auto") => PromptPolicy::Auto,
            Some("omit") => PromptPolicy::Omit,
            Some(v) => PromptPolicy::Value(v.to_owned()),
        })
    }
}

impl PromptPolicy {
    /// The `prompt` value to send with `scope`, if any.
    pub fn value_for(&self, scope: Option<&str>) -> Option<String> {
        match self {
            PromptPolicy::Omit => None,
            PromptPolicy::Value(v) => Some(v.clone()),
            PromptPolicy::Auto => {
                let has =
                    |t: &str| scope.is_some_and(|s| s.split_ascii_whitespace().any(|x| x == t));
                (has("openid") && has(crate::scope::OFFLINE_ACCESS)).then(|| "consent".to_owned())
            }
        }
    }
}

/// One accepted RFC 8414 §3.3 issuer mismatch: the metadata fetched from `metadata_url` may
/// name `issuer` instead of the issuer it was requested for. Nothing else is accepted: another
/// issuer at that URL, or this issuer at another URL, still fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The issuer the metadata names (and that then signs the tokens, `iss`).
    pub issuer: String,
    /// The exact metadata URL it is accepted at.
    pub metadata_url: String,
}

/// Per-server overrides (see the [module docs](self)). The default changes nothing.
///
/// Everything here is configuration, not a secret: it appears in [`crate::discovery::Discovery`]
/// (`mcp-auth probe --json`) and in `Debug`. Client credentials go in the client options, never
/// in `token_params`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerOverrides {
    /// The RFC 8707 `resource`: `false` omits it, a string replaces it.
    pub resource: ResourceParam,
    /// Extra authorization request parameters (never replacing the protocol's own:
    /// `response_type`, `client_id`, `redirect_uri`, `state`, `code_challenge*`, `scope`,
    /// `resource`).
    pub authorization_params: BTreeMap<String, String>,
    /// Extra token request parameters, added to every grant at the authorization server's
    /// token endpoint (never replacing a parameter the grant sets).
    pub token_params: BTreeMap<String, String>,
    /// The OIDC `prompt`.
    pub prompt: PromptPolicy,
    /// The scope to request instead of the selection (SEP-835); a step-up still adds the
    /// challenged scope.
    pub scope: Option<String>,
    /// Scope tokens never requested (Google refuses `offline_access` with `invalid_scope`).
    pub drop_scopes: Vec<String>,
    /// The authorization server's issuer, or its metadata URL (a URL with `/.well-known/`),
    /// for an MCP server that publishes no protected resource metadata (RFC 9728).
    pub authorization_server: Option<String>,
    /// Accepted issuer mismatches, each for one metadata URL.
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// Accept a metadata issuer with a `{tenantid}` segment (Entra ID's `/common`,
    /// `/organizations` metadata) and check it against the tenant: the tenant in the metadata
    /// URL, else the `tid` of the token issued.
    pub tenant_issuer: bool,
}

/// Authorization request parameters the overrides may not replace.
const PROTOCOL_AUTHORIZATION_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
    "resource",
    "prompt",
];

impl ServerOverrides {
    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        *self == ServerOverrides::default()
    }

    /// `self` on top of `base` (a profile): every override `self` sets wins; parameter maps
    /// are merged (`self`'s values win), allowlists are joined.
    pub fn over(&self, base: &ServerOverrides) -> ServerOverrides {
        let mut out = base.clone();
        if self.resource != ResourceParam::Auto {
            out.resource = self.resource.clone();
        }
        out.authorization_params
            .extend(self.authorization_params.clone());
        out.token_params.extend(self.token_params.clone());
        if self.prompt != PromptPolicy::Auto {
            out.prompt = self.prompt.clone();
        }
        if self.scope.is_some() {
            out.scope = self.scope.clone();
        }
        for s in &self.drop_scopes {
            if !out.drop_scopes.contains(s) {
                out.drop_scopes.push(s.clone());
            }
        }
        if self.authorization_server.is_some() {
            out.authorization_server = self.authorization_server.clone();
        }
        out.trusted_issuers
            .extend(self.trusted_issuers.iter().cloned());
        out.tenant_issuer |= self.tenant_issuer;
        out
    }

    /// `{resource}` in the extra parameter values replaced by `resource`: the server's RFC 8707
    /// resource (the protected resource metadata's `resource`, or the canonical server URL),
    /// whether or not the `resource` parameter itself is sent.
    pub fn with_resource(mut self, resource: &str) -> Self {
        for v in self
            .authorization_params
            .values_mut()
            .chain(self.token_params.values_mut())
        {
            if v.contains("{resource}") {
                *v = v.replace("{resource}", resource);
            }
        }
        self
    }

    /// The `resource` to send, given the one the specifications call for.
    pub fn resource(&self, specified: Option<String>) -> Option<String> {
        match &self.resource {
            ResourceParam::Auto => specified,
            ResourceParam::Omit => None,
            ResourceParam::Value(v) => Some(v.clone()),
        }
    }

    /// The scope to request: the override instead of `selected`, without `drop_scopes`.
    pub fn scope(&self, selected: Option<String>) -> Option<String> {
        let scope = self.scope.clone().or(selected)?;
        if self.drop_scopes.is_empty() {
            return Some(scope);
        }
        let kept: Vec<&str> = scope
            .split_ascii_whitespace()
            .filter(|t| !self.drop_scopes.iter().any(|d| d == t))
            .collect();
        Some(kept.join(" "))
    }

    /// Append the extra parameters and the `prompt` to an authorization (or device
    /// authorization) request URL built for `scope` and `resource`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `url` does not parse.
    pub fn decorate_authorization_url(
        &self,
        url: &str,
        scope: Option<&str>,
        resource: Option<&str>,
    ) -> Result<String> {
        let mut u = url::Url::parse(url)
            .map_err(|e| Error::invalid_argument("authorization URL", e.to_string()))?;
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in self.extra_authorization_params(resource) {
                q.append_pair(&k, &v);
            }
            if let Some(p) = self.prompt.value_for(scope) {
                q.append_pair("prompt", &p);
            }
        }
        Ok(u.into())
    }

    /// The extra authorization parameters, `{resource}` substituted; protocol parameters are
    /// skipped.
    pub fn extra_authorization_params(&self, resource: Option<&str>) -> Vec<(String, String)> {
        self.authorization_params
            .iter()
            .filter(|(k, _)| !PROTOCOL_AUTHORIZATION_PARAMS.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.clone(), substitute(v, resource)?)))
            .collect()
    }

    /// Add the extra token parameters to a token request form (never replacing a field).
    pub(crate) fn apply_token_params(
        &self,
        form: &mut crate::token::TokenRequest,
        resource: Option<&str>,
    ) {
        for (k, v) in &self.token_params {
            if form.get(k).is_none() {
                if let Some(v) = substitute(v, resource) {
                    form.set(k, &v);
                }
            }
        }
    }

    /// RFC 8414 §3.3 with the overrides: `Ok(None)` when the metadata's issuer is the expected
    /// one, `Ok(Some(audit))` when a mismatch is accepted (by the allowlist entry naming this
    /// issuer and this metadata URL, or by the tenant template), with the sentence for the
    /// trace; the RFC 8414 error otherwise, with the override that would accept it.
    ///
    /// # Errors
    /// [`Error::SecurityCheck`] ([`Check::MetadataIssuer`]).
    pub fn check_metadata_issuer(
        &self,
        metadata: &OAuthMetadata,
        expected: &str,
        metadata_url: &str,
    ) -> Result<Option<String>> {
        let Err(e) = crate::checks::validate_metadata_issuer(metadata, expected) else {
            return Ok(None);
        };
        let got = metadata.issuer.as_str();
        if let Some(t) = self
            .trusted_issuers
            .iter()
            .find(|t| t.issuer == got && t.metadata_url == metadata_url)
        {
            return Ok(Some(format!(
                "issuer {got} accepted for metadata URL {} instead of {expected} by the trusted-issuer allowlist (RFC 8414 §3.3 mismatch)",
                t.metadata_url
            )));
        }
        if self.tenant_issuer && is_template(got) {
            return match tenant_of(got, expected) {
                Some(tenant) if is_multi_tenant_alias(&tenant) => Ok(Some(format!(
                    "tenant issuer template {got} for {expected}: checked against the tid of the token issued"
                ))),
                Some(tenant) => Ok(Some(format!(
                    "tenant issuer template {got} checked against the tenant {tenant} of the metadata URL"
                ))),
                None => Err(e),
            };
        }
        let hint = if is_template(got) {
            " (a {tenantid} issuer template: use provider \"entra\" or overrides.tenant_issuer)"
                .to_owned()
        } else {
            format!(
                " (to accept exactly this mismatch, add {{\"issuer\": \"{got}\", \"metadata_url\": \"{metadata_url}\"}} to overrides.trusted_issuers)"
            )
        };
        Err(append(e, &hint))
    }

    /// RFC 9207 `iss` against a tenant template issuer: an `iss` that is the template with a
    /// tenant in it is accepted (the tenant is then checked on the token).
    pub(crate) fn iss_matches_template(&self, iss: &str, issuer: &str) -> bool {
        self.tenant_issuer
            && is_template(issuer)
            && tenant_of(issuer, iss).is_some_and(|t| !is_multi_tenant_alias(&t))
    }

    /// After a grant at an authorization server whose issuer is a `{tenantid}` template: the
    /// token must say which tenant issued it (`tid`), and its `iss` must be the template with
    /// that tenant (v2.0 tokens) or the v1.0 `https://sts.windows.net/{tid}/`. Returns the
    /// concrete issuer. The claims are read from the ID token, else the access token (a JWT);
    /// their signature is the resource server's to check, this check binds the issuer.
    ///
    /// # Errors
    /// [`Error::SecurityCheck`] ([`Check::MetadataIssuer`]) when no tenant can be read or the
    /// `iss` does not fit the template.
    pub fn check_tenant_token(issuer_template: &str, token: &OAuthToken) -> Result<String> {
        let claims = token
            .extra
            .get("id_token")
            .and_then(|v| v.as_str())
            .and_then(jwt_claims)
            .or_else(|| jwt_claims(token.access_token.secret()));
        let fail = |why: String| {
            Err(Error::security(
                Check::MetadataIssuer,
                format!("Tenant issuer template {issuer_template}: {why}"),
            ))
        };
        let Some(claims) = claims else {
            return fail(
                "the token carries no readable claims to take the tenant (tid) from; request the openid scope, or configure the tenant's own issuer URL".to_owned(),
            );
        };
        let Some(tid) = claims.get("tid").and_then(|v| v.as_str()) else {
            return fail("the token names no tenant (tid)".to_owned());
        };
        if tid.is_empty() || !tid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return fail(format!("the token's tenant {tid:?} is not a tenant id"));
        }
        let Some((head, tail)) = split_template(issuer_template) else {
            return fail("not a tenant issuer template".to_owned());
        };
        let concrete = format!("{head}{tid}{tail}");
        let v1 = format!("https://sts.windows.net/{tid}/");
        match claims.get("iss").and_then(|v| v.as_str()) {
            Some(iss) if iss == concrete || iss == v1 => Ok(concrete),
            Some(iss) => fail(format!(
                "the token's iss {iss} is not the template's issuer {concrete} for its tenant {tid}"
            )),
            None => fail("the token names no issuer (iss)".to_owned()),
        }
    }
}

/// The tenant check after a grant at an authorization server whose metadata issuer is a
/// `{tenantid}` template (accepted only with `tenant_issuer`): the token's tenant must give the
/// issuer the flow is bound to (the metadata URL's tenant, or any tenant for `/common`), and
/// the result is recorded in the trace. A refresh is not checked again (same issuer, same
/// client, same refresh token).
pub(crate) fn check_token_tenant(
    d: &crate::discovery::Discovery,
    refresh: bool,
    token: &OAuthToken,
    tracer: &crate::trace::Tracer,
) -> Result<()> {
    let Some(template) = d
        .metadata
        .as_ref()
        .map(|m| m.issuer.as_str())
        .filter(|i| is_template(i))
    else {
        return Ok(());
    };
    if refresh || !d.overrides.tenant_issuer {
        return Ok(());
    }
    let step = tracer.step(crate::trace::Step::TokenExchange);
    let checked = ServerOverrides::check_tenant_token(template, token).and_then(|concrete| {
        if is_template(&d.issuer) || d.issuer == concrete {
            Ok(concrete)
        } else {
            Err(Error::security(
                Check::MetadataIssuer,
                format!(
                    "Tenant issuer template {template}: the token was issued by {concrete}, not by the tenant of the metadata URL ({})",
                    d.issuer
                ),
            ))
        }
    });
    step.finish(&checked, |concrete| {
        format!("tenant issuer template {template} checked: the token's tenant gives {concrete}")
    });
    checked.map(|_| ())
}

/// `value` with `{resource}` replaced; `None` when it needs a resource and there is none.
fn substitute(value: &str, resource: Option<&str>) -> Option<String> {
    if value.contains("{resource}") {
        Some(value.replace("{resource}", resource?))
    } else {
        Some(value.to_owned())
    }
}

/// The tenant segment of `concrete` where `template` has `{tenantid}`, when the rest is equal.
fn tenant_of(template: &str, concrete: &str) -> Option<String> {
    let (head, tail) = split_template(template)?;
    let middle = concrete.strip_prefix(head)?.strip_suffix(tail)?;
    (!middle.is_empty() && !middle.contains(['/', '?', '#'])).then(|| middle.to_owned())
}

/// The text around the `{tenantid}` placeholder of an issuer template, written as is or
/// percent-encoded (`%7Btenantid%7D`, as URL normalisation leaves it).
fn split_template(issuer: &str) -> Option<(&str, &str)> {
    if let Some(parts) = issuer.split_once(TENANT_PLACEHOLDER) {
        return Some(parts);
    }
    let lower = issuer.to_ascii_lowercase();
    let i = lower.find("%7btenantid%7d")?;
    Some((&issuer[..i], &issuer[i + "%7btenantid%7d".len()..]))
}

/// Whether `issuer` is a `{tenantid}` template.
pub fn is_template(issuer: &str) -> bool {
    split_template(issuer).is_some()
}

/// Entra's multi-tenant path aliases: the tenant is known only from the token.
fn is_multi_tenant_alias(tenant: &str) -> bool {
    matches!(tenant, "common" | "organizations" | "consumers")
}

/// The payload of a JWT, without checking its signature.
fn jwt_claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine as _;
    let mut parts = jwt.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

/// The metadata URL an `authorization_server` override names, with the issuer it implies
/// (RFC 8414 §3.1, OIDC Discovery §4), or `None` when it is an issuer.
pub fn metadata_url_issuer(value: &str) -> Option<(String, String)> {
    let i = value.find("/.well-known/")?;
    let (base, rest) = value.split_at(i);
    for suffix in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        if let Some(path) = rest.strip_prefix(suffix) {
            // Path-insert (`/.well-known/x/tenant`) or path-append (`/tenant/.well-known/x`).
            let path = path.split(['?', '#']).next().unwrap_or("");
            return Some((value.to_owned(), format!("{base}{path}")));
        }
    }
    None
}

/// `e` with `hint` appended to its message (the fix that the overrides offer).
pub(crate) fn append(e: Error, hint: &str) -> Error {
    match e {
        Error::SecurityCheck { check, message } => Error::SecurityCheck {
            check,
            message: format!("{message}{hint}"),
        },
        Error::Authorization { message, oauth } => Error::Authorization {
            message: format!("{message}{hint}"),
            oauth,
        },
        Error::Token {
            message,
            status,
            oauth,
        } => Error::Token {
            message: format!("{message}{hint}"),
            status,
            oauth,
        },
        Error::Registration {
            message,
            status,
            oauth,
        } => Error::Registration {
            message: format!("{message}{hint}"),
            status,
            oauth,
        },
        other => other,
    }
}

/// What a flow that failed on the MCP 2025-03-26 default endpoints is told: the server
/// published no protected resource metadata, so the endpoints were guessed on its origin.
const LEGACY_HINT: &str = " (the MCP server publishes no RFC 9728 protected resource metadata, so the 2025-03-26 default endpoints on its origin were used: if its authorization server is elsewhere, name it with overrides.authorization_server)";

/// `e` with the override or profile that answers it, unless its message already names one:
/// the authorization server's refusal ([`hint_for`]), or else a registration, authorization
/// or token request that failed on the legacy default endpoints of `discovery`.
pub(crate) fn with_hint(e: Error, discovery: Option<&crate::discovery::Discovery>) -> Error {
    if e.to_string().contains("overrides.") {
        return e;
    }
    let on_legacy = discovery.is_some_and(crate::discovery::Discovery::on_legacy_defaults)
        && matches!(
            e,
            Error::Registration { .. } | Error::Authorization { .. } | Error::Token { .. }
        );
    match hint_for(&e).or(on_legacy.then_some(LEGACY_HINT)) {
        Some(hint) => append(e, hint),
        None => e,
    }
}

/// The override or profile that answers an authorization server's refusal, as a sentence to
/// append to the error: known provider error codes and RFC 6749 errors about `resource`,
/// `audience`, `offline_access`, consent and redirect URIs.
pub fn hint_for(e: &Error) -> Option<&'static str> {
    let oauth = e.oauth_error();
    let code = oauth.map(|o| o.error.as_str()).unwrap_or("");
    let text = format!(
        "{} {}",
        oauth
            .and_then(|o| o.error_description.as_deref())
            .unwrap_or(""),
        e
    )
    .to_ascii_lowercase();
    if code == "invalid_target"
        || text.contains("aadsts9010010")
        || text.contains("aadsts901002")
        || text.contains("resource parameter")
    {
        return Some(
            " (the authorization server refuses the RFC 8707 resource parameter: set overrides.resource to false, or use provider \"entra\")",
        );
    }
    if text.contains("audience") {
        return Some(
            " (the authorization server wants an audience: set overrides.authorization_params.audience, or use provider \"auth0\")",
        );
    }
    if text.contains("offline_access") {
        return Some(
            " (the authorization server refuses offline_access: add it to overrides.drop_scopes, or use provider \"google\")",
        );
    }
    if code == "consent_required" || text.contains("aadsts90095") || text.contains("aadsts65001") {
        return Some(
            " (consent is refused: set overrides.prompt to \"omit\" so that no prompt=consent is sent, and ask an administrator to grant consent)",
        );
    }
    if text.contains("redirect_uri") || text.contains("redirect uri") {
        return Some(
            " (the redirect URI is compared exactly: set the redirect host, port and path to the ones the client is registered with)",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_core_11_prompt_only_for_openid_offline_requests() {
        let p = PromptPolicy::Auto;
        assert_eq!(p.value_for(Some("mcp offline_access")), None);
        assert_eq!(
            p.value_for(Some("openid offline_access")).as_deref(),
            Some("consent")
        );
        assert_eq!(
            PromptPolicy::Omit.value_for(Some("openid offline_access")),
            None
        );
    }

    #[test]
    fn tenant_segment() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert_eq!(
            tenant_of(t, "https://login.microsoftonline.com/common/v2.0").as_deref(),
            Some("common")
        );
        assert_eq!(tenant_of(t, "https://evil.example/common/v2.0"), None);
        assert_eq!(
            tenant_of(t, "https://login.microsoftonline.com/a/b/v2.0"),
            None
        );
    }

    #[test]
    fn metadata_urls_imply_their_issuer() {
        assert_eq!(
            metadata_url_issuer("https://as.example/.well-known/oauth-authorization-server/t1")
                .unwrap()
                .1,
            "https://as.example/t1"
        );
        assert_eq!(
            metadata_url_issuer("https://as.example/t1/.well-known/openid-configuration")
                .unwrap()
                .1,
            "https://as.example/t1"
        );
        assert!(metadata_url_issuer("https://as.example/t1").is_none());
    }
}
