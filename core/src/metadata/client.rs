//! The client models: [`OAuthClientMetadata`] (RFC 7591 §2) and
//! [`OAuthClientInformationFull`] (RFC 7591 §3.2.1).

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use super::*;

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
        let mut m = Members::from_map(map);
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

    /// These metadata with `members` (a client metadata object, RFC 7591 §2) laid over them:
    /// each member given replaces the value here, the others are kept; the result is checked
    /// like a parsed object. Members that are not client metadata (`client_id`,
    /// `client_secret`, `registration_access_token`, …: what a registration *response* carries)
    /// are refused, naming the member.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (what: `"client_metadata"`) naming the offending member.
    pub fn merged(&self, members: &Map<String, Value>) -> Result<Self> {
        for name in members.keys() {
            if NOT_CLIENT_METADATA.contains(&name.as_str()) {
                return Err(Error::invalid_argument(
                    "client_metadata",
                    format!(
                        "{name} is not client metadata (RFC 7591 §2) but what a registration answers; a pre-registered client is configured with client_id and client_secret at the top level"
                    ),
                ));
            }
        }
        let Value::Object(mut map) = self.registration_body() else {
            unreachable!("client metadata serializes to an object")
        };
        map.entry("redirect_uris").or_insert(Value::Null);
        if self.application_type.is_none() {
            map.insert("application_type".to_owned(), Value::Null);
        }
        for (name, value) in members {
            map.insert(name.clone(), value.clone());
        }
        Self::from_map(map).map_err(|reason| Error::invalid_argument("client_metadata", reason))
    }

    /// The RFC 7591 §3.1 registration request body: every member that is set (the reference's
    /// `model_dump(by_alias=True, mode="json", exclude_none=True)`), plus the `extra` members.
    pub fn registration_body(&self) -> Value {
        serde_json::to_value(self).expect("a map with string keys always serializes")
    }
}

/// Members of a registration response (RFC 7591 §3.2.1, RFC 7592 §3) that are not client
/// metadata: refused by [`OAuthClientMetadata::merged`].
const NOT_CLIENT_METADATA: [&str; 7] = [
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
    "issuer",
];

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
        let mut m = Members::from_map(map);
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
