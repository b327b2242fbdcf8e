//! Provider profiles: named sets of [`ServerOverrides`] for the authorization servers that
//! deviate from the MCP authorization specification in known ways, chosen explicitly
//! (`"provider": "entra"`) or detected from the authorization server's host. Each profile
//! answers a documented provider behaviour; docs/providers.md gives the sources.
//!
//! Explicit overrides always win over the profile's. Detection only looks at the host of the
//! authorization server the discovery chain selected (never at anything the MCP server says
//! about itself), and only changes parameters; it never relaxes a security check other than
//! the one the profile exists for (Entra's `{tenantid}` issuer, checked against the tenant).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::overrides::{PromptPolicy, ResourceParam, ServerOverrides};

/// A provider profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Provider {
    /// Microsoft Entra ID (v2.0 endpoints).
    Entra,
    /// Auth0.
    Auth0,
    /// Google.
    Google,
    /// GitHub (OAuth apps and GitHub apps).
    Github,
    /// Slack.
    Slack,
    /// Amazon Cognito user pools.
    Cognito,
}

/// Which profile a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderChoice {
    /// Detected from the authorization server's host (default).
    #[default]
    Detect,
    /// None, even when the host is a known provider's.
    Off,
    /// This one.
    Named(Provider),
}

impl ProviderChoice {
    /// `"auto"`, `"none"`, or a profile name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(ProviderChoice::Detect),
            "none" => Some(ProviderChoice::Off),
            other => Provider::parse(other).map(ProviderChoice::Named),
        }
    }

    /// The profile for an authorization server at `as_url`.
    pub fn resolve(self, as_url: &str) -> Option<Provider> {
        match self {
            ProviderChoice::Detect => Provider::detect(as_url),
            ProviderChoice::Off => None,
            ProviderChoice::Named(p) => Some(p),
        }
    }
}

impl Provider {
    /// Every profile.
    pub const ALL: [Provider; 6] = [
        Provider::Entra,
        Provider::Auth0,
        Provider::Google,
        Provider::Github,
        Provider::Slack,
        Provider::Cognito,
    ];

    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Entra => "entra",
            Provider::Auth0 => "auth0",
            Provider::Google => "google",
            Provider::Github => "github",
            Provider::Slack => "slack",
            Provider::Cognito => "cognito",
        }
    }

    /// The profile named `name`.
    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The profile of an authorization server, from its URL's host.
    pub fn detect(as_url: &str) -> Option<Provider> {
        let host = url::Url::parse(as_url)
            .ok()?
            .host_str()?
            .to_ascii_lowercase();
        let is = |h: &str| host == h || host.ends_with(&format!(".{h}"));
        if is("login.microsoftonline.com") || is("login.microsoft.com") {
            Some(Provider::Entra)
        } else if is("auth0.com") {
            Some(Provider::Auth0)
        } else if host == "accounts.google.com" || host == "oauth2.googleapis.com" {
            Some(Provider::Google)
        } else if host == "github.com" {
            Some(Provider::Github)
        } else if host == "slack.com" {
            Some(Provider::Slack)
        } else if is("amazoncognito.com")
            || (host.starts_with("cognito-idp.") && host.ends_with(".amazonaws.com"))
        {
            Some(Provider::Cognito)
        } else {
            None
        }
    }

    /// The redirect host the provider accepts for loopback redirects, if it insists on one
    /// (applied only when the profile is chosen explicitly: the listener is bound before
    /// discovery).
    pub fn redirect_host(self) -> Option<&'static str> {
        match self {
            // Loopback redirect URIs are registered as http://localhost (Slack, Cognito allow
            // http only for localhost); GitHub matches 127.0.0.1 with any port.
            Provider::Slack | Provider::Cognito => Some("localhost"),
            Provider::Github => Some("127.0.0.1"),
            _ => None,
        }
    }

    /// The overrides the profile sets.
    pub fn overrides(self) -> ServerOverrides {
        let params = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        match self {
            // AADSTS9010010 / AADSTS901002: the v2.0 endpoints reject `resource` (the scope
            // names the resource, `api://…/.default`); admin-only consent tenants fail every
            // prompt=consent with AADSTS90095; the /common and /organizations metadata name
            // the issuer https://login.microsoftonline.com/{tenantid}/v2.0.
            Provider::Entra => ServerOverrides {
                resource: ResourceParam::Omit,
                prompt: PromptPolicy::Omit,
                tenant_issuer: true,
                ..ServerOverrides::default()
            },
            // Auth0 ignores `resource` and issues tokens for an API only with `audience`
            // (otherwise opaque tokens, or a JWE, that the resource server cannot verify).
            Provider::Auth0 => ServerOverrides {
                authorization_params: params(&[("audience", "{resource}")]),
                ..ServerOverrides::default()
            },
            // Google refuses offline_access (invalid_scope) and issues a refresh token only
            // with access_type=offline, and again only with prompt=consent.
            Provider::Google => ServerOverrides {
                drop_scopes: vec![crate::scope::OFFLINE_ACCESS.to_owned()],
                authorization_params: params(&[("access_type", "offline")]),
                prompt: PromptPolicy::Value("consent".to_owned()),
                ..ServerOverrides::default()
            },
            // GitHub, Slack and Cognito compare redirect URIs exactly (their loopback rules:
            // `redirect_host`); none of them takes `resource`.
            Provider::Github | Provider::Slack | Provider::Cognito => ServerOverrides {
                resource: ResourceParam::Omit,
                ..ServerOverrides::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_host() {
        let d = |u| Provider::detect(u);
        assert_eq!(
            d("https://login.microsoftonline.com/common/v2.0"),
            Some(Provider::Entra)
        );
        assert_eq!(d("https://tenant.eu.auth0.com/"), Some(Provider::Auth0));
        assert_eq!(d("https://accounts.google.com"), Some(Provider::Google));
        assert_eq!(
            d("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x"),
            Some(Provider::Cognito)
        );
        assert_eq!(d("https://notauth0.com/"), None);
        assert_eq!(d("https://login.microsoftonline.com.evil.example/"), None);
        assert_eq!(d("http://127.0.0.1:9/"), None);
    }

    #[test]
    fn names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.name()), Some(p));
        }
        assert_eq!(ProviderChoice::parse("none"), Some(ProviderChoice::Off));
        assert_eq!(ProviderChoice::parse("okta"), None);
    }
}
