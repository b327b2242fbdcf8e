//! [`OAuthMetadata`]: authorization server metadata (RFC 8414 §2).

use serde::Serialize;
use serde_json::{Map, Value};

use super::*;

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
        let mut m = Members::from_map(map);
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
