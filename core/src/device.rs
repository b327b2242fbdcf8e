//! The OAuth 2.0 device authorization grant (RFC 8628), for hosts without a browser when the
//! authorization server offers a `device_authorization_endpoint` (RFC 8628 §4).
//!
//! 1. The device authorization request (§3.1): `client_id` (client authentication as at the
//!    token endpoint), `scope`, the RFC 8707 `resource` and the per-server extra parameters.
//! 2. The user is shown the `verification_uri` and `user_code` (§3.3) through the redirect
//!    handler ([`RedirectHandler::show_device_code`]) and the trace.
//! 3. Polling (§3.4, §3.5) through the one token-endpoint path, every `interval` seconds
//!    (default 5); `authorization_pending` keeps polling, `slow_down` adds 5 seconds to the
//!    interval, anything else ends the grant; the wait ends at `expires_in` and is cancellable
//!    ([`crate::cancel`]).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::authorization::{AuthorizationCodeResult, RedirectContext, RedirectHandler};
use crate::discovery::Discovery;
use crate::error::{Error, OAuthErrorResponse, Result};
use crate::http::HttpClient;
use crate::metadata::OAuthToken;
use crate::secret::DeviceCode;
use crate::token::endpoint::TokenEndpoint;
use crate::token::{ClientAuth, TokenRequest};
use crate::trace::{Step, Tracer};

/// The device code grant type (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What the user needs to authorize the device (RFC 8628 §3.2, without the device code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// Where the user goes.
    pub verification_uri: String,
    /// The same with the code in it, if the server gives one (to open directly or show as a
    /// QR code).
    pub verification_uri_complete: Option<String>,
    /// The code the user enters.
    pub user_code: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
}

#[derive(Deserialize)]
struct Response {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

/// The device authorization endpoint `d` advertises, if any.
pub fn endpoint(d: &Discovery) -> Option<&str> {
    d.metadata
        .as_ref()?
        .extra
        .get("device_authorization_endpoint")?
        .as_str()
}

/// The device authorization endpoint, or the error that says what to use instead (checked
/// before registering a client for the grant).
///
/// # Errors
/// [`Error::Unsupported`] when `d` advertises none.
pub(crate) fn require_endpoint(d: &Discovery) -> Result<&str> {
    endpoint(d).ok_or_else(|| Error::Unsupported {
        message: format!(
            "Authorization server {} offers no device authorization endpoint (RFC 8628); log in with a browser, or paste the redirect back (redirect type \"paste\", `mcp-auth login --no-browser`)",
            d.issuer
        ),
    })
}

/// The whole grant: request, show, poll. Returns the token.
#[allow(clippy::too_many_arguments)]
pub(crate) fn authorize(
    http: &dyn HttpClient,
    tracer: &Tracer,
    tokens: &TokenEndpoint<'_>,
    handler: &dyn RedirectHandler,
    d: &Discovery,
    client: &ClientAuth,
    scope: Option<&str>,
) -> Result<OAuthToken> {
    let url = require_endpoint(d)?;
    crate::checks::require_secure_url("device authorization endpoint", url)?;
    let mut request = TokenRequest {
        url: url.to_owned(),
        form: Vec::new(),
        headers: Vec::new(),
    };
    if let Some(s) = scope {
        request.set("scope", s);
    }
    if let Some(r) = &d.resource {
        request.set("resource", r);
    }
    for (k, v) in d
        .overrides
        .extra_authorization_params(d.resource.as_deref())
    {
        request.set(&k, &v);
    }
    client.apply(&mut request, &d.issuer)?;
    let mut step = tracer.step(Step::DeviceAuthorization).http("POST", url);
    let response = http.execute(request.to_http()?);
    drop(request);
    let parsed = response.and_then(|r| {
        step.status(r.status().as_u16());
        parse(&r)
    });
    let (device_code, interval, info) = match parsed {
        Ok(v) => v,
        Err(e) => {
            step.failed(e.to_string());
            return Err(e);
        }
    };
    step.ok(format!(
        "visit {} and enter the code {} (expires in {} s)",
        info.verification_uri, info.user_code, info.expires_in
    ));
    handler.show_device_code(&info)?;
    poll(
        tokens,
        d,
        client,
        scope,
        &device_code,
        interval,
        info.expires_in,
    )
}

fn parse(r: &http::Response<Vec<u8>>) -> Result<(DeviceCode, u64, DeviceAuthorization)> {
    let status = r.status().as_u16();
    if status != 200 {
        let oauth = OAuthErrorResponse::from_json(r.body());
        return Err(Error::Authorization {
            message: format!(
                "Device authorization request failed ({status}){}",
                oauth.as_ref().map(|o| format!(": {o}")).unwrap_or_default()
            ),
            oauth: oauth.map(Box::new),
        });
    }
    let v: Response = serde_json::from_slice(r.body()).map_err(|e| {
        Error::invalid_response("device authorization response", e.to_string(), Some(status))
    })?;
    crate::checks::require_secure_url("verification URI", &v.verification_uri)?;
    Ok((
        DeviceCode::new(v.device_code),
        v.interval.unwrap_or(5).max(1),
        DeviceAuthorization {
            verification_uri: v.verification_uri,
            verification_uri_complete: v.verification_uri_complete,
            user_code: v.user_code,
            expires_in: v.expires_in,
        },
    ))
}

/// RFC 8628 §3.4-3.5: poll until a token, a refusal, or the codes expire.
fn poll(
    tokens: &TokenEndpoint<'_>,
    d: &Discovery,
    client: &ClientAuth,
    scope: Option<&str>,
    device_code: &DeviceCode,
    mut interval: u64,
    expires_in: u64,
) -> Result<OAuthToken> {
    let deadline = Instant::now() + Duration::from_secs(expires_in.max(1));
    loop {
        wait(Duration::from_secs(interval), deadline)?;
        match tokens.device_code(d, client, device_code, scope) {
            Ok(token) => return Ok(token),
            Err(e) => match e.oauth_error().map(|o| o.error.as_str()) {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += 5,
                _ => return Err(e),
            },
        }
    }
}

/// Sleep `d` in short steps, returning early with an error on cancel or at `deadline`.
fn wait(d: Duration, deadline: Instant) -> Result<()> {
    let until = Instant::now() + d;
    loop {
        crate::cancel::checkpoint()?;
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::Authorization {
                message:
                    "The device code expired before the user authorized (RFC 8628 expired_token)"
                        .to_owned(),
                oauth: None,
            });
        }
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(Duration::from_millis(25)));
    }
}

/// Shows a device code to the user (a host's own display).
pub type ShowCode = Arc<dyn Fn(&DeviceAuthorization) + Send + Sync>;

/// The redirect handler of a device-grant client: it hands the code to the host (or, without a
/// host display, to the log at `warn` level: the library prints nothing itself), opens the
/// browser when asked, and cannot complete an authorization-code redirect.
#[derive(Clone)]
pub struct DeviceDisplay {
    open_browser: bool,
    show: Option<ShowCode>,
}

impl fmt::Debug for DeviceDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceDisplay")
            .field("open_browser", &self.open_browser)
            .finish_non_exhaustive()
    }
}

impl DeviceDisplay {
    /// Hand the code to `show` (the host's display), or to the log when `None`; with
    /// `open_browser`, also open the system browser on the verification URI (with the code in
    /// it when the server gives one).
    pub fn new(open_browser: bool, show: Option<ShowCode>) -> Self {
        DeviceDisplay { open_browser, show }
    }

    /// Hand the code to the host, opening no browser.
    pub fn custom(show: ShowCode) -> Self {
        Self::new(false, Some(show))
    }
}

impl RedirectHandler for DeviceDisplay {
    fn authorize(
        &self,
        _authorization_url: &str,
        _context: &RedirectContext<'_>,
    ) -> Result<AuthorizationCodeResult> {
        Err(Error::invalid_argument(
            "redirect handler",
            "the device handler shows a device code; it cannot complete an authorization-code redirect (use the device_code grant)",
        ))
    }

    fn show_device_code(&self, info: &DeviceAuthorization) -> Result<()> {
        match &self.show {
            Some(show) => show(info),
            None => log::warn!(
                "to authorize, open {} and enter the code {} (no host display is set for the device code)",
                info.verification_uri,
                info.user_code
            ),
        }
        if self.open_browser {
            let url = info
                .verification_uri_complete
                .as_deref()
                .unwrap_or(&info.verification_uri);
            let mut options = webbrowser::BrowserOptions::new();
            options.with_suppress_output(true);
            if webbrowser::open_browser_with_options(webbrowser::Browser::Default, url, &options)
                .is_err()
            {
                log::warn!("could not start a browser for the verification URI");
            }
        }
        Ok(())
    }
}
