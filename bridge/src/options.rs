//! [`BridgeOptions`]: how the downstream response is built.

use mcp_auth::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::CorsPolicy;
use crate::json::from_json_object;

/// How [`bridge_response`](crate::bridge_response) and friends build the downstream response.
///
/// JSON form (every member optional): `{"resource_metadata_url":
/// "https://proxy.example/.well-known/oauth-protected-resource/mcp", "cors": {…}}` (see
/// [`CorsPolicy`]). `{}` is the default: copy everything verbatim, merge the expose list, leave
/// the upstream's other CORS headers alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BridgeOptions {
    /// Replace the value of every `resource_metadata` auth-param (RFC 9728 §5.1) with this
    /// absolute `http`/`https` URL, one the proxy serves itself (see
    /// [`relay_protected_resource_metadata`](crate::relay_protected_resource_metadata)): for browsers that cannot reach the upstream
    /// origin. Everything else in the challenge stays byte-for-byte as sent. `None` (the
    /// default) forwards every `WWW-Authenticate` value verbatim.
    pub resource_metadata_url: Option<String>,
    /// When set, the proxy owns CORS: the upstream's `Access-Control-Allow-*` and
    /// `Access-Control-Max-Age` headers are dropped and the policy's are added for the
    /// request's `Origin`. When `None`, the upstream's CORS headers pass through (only the
    /// expose list is merged), for hosts that add their own.
    pub cors: Option<CorsPolicy>,
}

impl BridgeOptions {
    /// Parse the JSON form (`null` or an empty string give the default).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for malformed JSON, an unknown member, or an invalid
    /// `resource_metadata_url` (see [`BridgeOptions::validate`]).
    pub fn from_json(json: &str) -> Result<Self> {
        let json = json.trim();
        if json.is_empty() || json == "null" {
            return Ok(BridgeOptions::default());
        }
        let options: BridgeOptions = from_json_object(json, "bridge options")?;
        options.validate()?;
        Ok(options)
    }

    /// Check that `resource_metadata_url` is an absolute `http`/`https` URL made of visible
    /// ASCII only: it is written into a header value (RFC 9110 §5.5), so it must not carry
    /// control characters, and non-ASCII would be obs-text.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `resource_metadata_url`.
    pub fn validate(&self) -> Result<()> {
        if let Some(u) = &self.resource_metadata_url {
            validate_rewrite_url(u)?;
        }
        Ok(())
    }
}

fn validate_rewrite_url(u: &str) -> Result<()> {
    let bad = |reason: &str| Error::invalid_argument("resource_metadata_url", reason.to_owned());
    if u.is_empty() || !u.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(bad(
            "must be non-empty visible ASCII (no spaces or control characters)",
        ));
    }
    let parsed = url::Url::parse(u).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad("must be an absolute http(s) URL"));
    }
    Ok(())
}
