//! Registration hygiene: a stored dynamic registration is used only with the redirect URI it
//! was registered with. Slack, Cognito, GitHub and oidc-provider compare redirect URIs exactly
//! (RFC 6749 §3.1.2.3 with registered URIs, OAuth 2.1 §2.3.1: exact string matching), so a
//! registration made when the loopback listener had another host or path (or port, outside the
//! RFC 8252 §7.3 loopback-IP rule) cannot complete an authorization: the identity step registers
//! again instead (and the new registration replaces the stored one).

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
            registered.iter().any(|r| same_redirect_uri(r, uri))
        }
        _ => true,
    }
}

/// Whether the registered redirect URI admits the one in use: equal strings, or, for a loopback
/// IP literal (`127.0.0.1`, `[::1]`), equal but for the port, which RFC 8252 §7.3 says the
/// authorization server MUST allow to vary (an ephemeral port per login). `localhost` gets no
/// such allowance: RFC 8252 §8.3 does not give it the loopback rule, and the providers that
/// insist on `localhost` (Slack, Cognito) compare it with its port.
fn same_redirect_uri(registered: &str, in_use: &str) -> bool {
    if registered == in_use {
        return true;
    }
    let (Ok(mut a), Ok(mut b)) = (url::Url::parse(registered), url::Url::parse(in_use)) else {
        return false;
    };
    let loopback_ip = |u: &url::Url| match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    if a.scheme() != "http" || !loopback_ip(&a) || !loopback_ip(&b) {
        return false;
    }
    let _ = a.set_port(None);
    let _ = b.set_port(None);
    a == b
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

#[cfg(test)]
mod tests {
    use super::same_redirect_uri as same;

    #[test]
    fn rfc8252_7_3_loopback_ip_ports_vary_other_redirects_compare_exactly() {
        assert!(same(
            "http://127.0.0.1:1/callback",
            "http://127.0.0.1:2/callback"
        ));
        assert!(same("http://[::1]:1/cb", "http://[::1]/cb"));
        assert!(!same(
            "http://127.0.0.1:1/callback",
            "http://127.0.0.1:1/cb"
        ));
        assert!(!same(
            "http://localhost:1/callback",
            "http://localhost:2/callback"
        ));
        assert!(!same(
            "http://127.0.0.1:1/callback",
            "http://localhost:1/callback"
        ));
        assert!(!same(
            "https://app.example/cb",
            "https://app.example:8443/cb"
        ));
        assert!(same("myapp://cb", "myapp://cb"));
    }
}
