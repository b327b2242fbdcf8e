//! [`ProtectedResourceMetadata`]: protected resource metadata (RFC 9728 §2).

use serde::Serialize;
use serde_json::{Map, Value};

use super::*;

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
        let mut m = Members::from_map(map);
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
