//! Registration hygiene: a stored dynamic registration is used only with the redirect URI it
//! was registered with. Slack, Cognito, GitHub and oidc-provider compare redirect URIs exactly
//! (RFC 6749 §3.1.2.3 with registered URIs, OAuth 2.1 §2.3.1: exact string matching), so a
//! registration made when the loopback listener had another port or host cannot complete an
//! authorization: the identity step registers again instead (and the new registration
//! replaces the stored one).

use crate::client::{ClientConfig, Grant};
use crate::metadata::OAuthClientInformationFull;

/// The redirect URI the client uses (the builder puts it first).
fn in_use(config: &ClientConfig) -> Option<&str> {
    config
        .client_metadata
        .redirect_uris
        .as_ref()
        .and_then(|v| v.first())
        .map(String::as_str)
}

/// Whether `info` can be used with the redirect URI in use: always for grants without a
/// redirect, and for a registration that records no redirect URIs (older stores); otherwise
/// only when its `redirect_uris` contain the one in use, exactly.
pub(crate) fn redirect_uri_registered(
    config: &ClientConfig,
    info: &OAuthClientInformationFull,
) -> bool {
    if config.grant != Grant::AuthorizationCode {
        return true;
    }
    match (in_use(config), info.redirect_uris.as_deref()) {
        (Some(uri), Some(registered)) if !registered.is_empty() => {
            registered.iter().any(|r| r == uri)
        }
        _ => true,
    }
}

/// The trace sentence for a registration skipped by [`redirect_uri_registered`].
pub(crate) fn stale_redirect_note(
    config: &ClientConfig,
    info: &OAuthClientInformationFull,
) -> String {
    format!(
        "stored registration {} lists redirect URIs {} but not {}, which is in use: registering again",
        info.client_id,
        info.redirect_uris.as_deref().unwrap_or_default().join(" "),
        in_use(config).unwrap_or_default()
    )
}
