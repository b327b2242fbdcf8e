//! The authorization request and its redirect (RFC 6749 §4.1.1-4.1.2, RFC 7636, RFC 8707,
//! RFC 9207), and the three ways to complete it:
//!
//! - [`HeadlessRedirect`]: GET the authorization URL without following redirects and read the
//!   code from `Location` (automation, auto-approving servers, conformance testing);
//! - [`LoopbackBrowser`]: RFC 8252 §7.3 native-app flow: listen on 127.0.0.1, open the system
//!   browser, wait for the redirect;
//! - [`CallbackRedirect`]: a caller-supplied function.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, OAuthErrorResponse, Result};
use crate::http::HttpClient;
use crate::pkce::{CODE_CHALLENGE_METHOD, PkceParameters};
use crate::secret::{AuthorizationCode, State};
use crate::token::public_url;

/// The redirect URI used when neither the configuration nor the redirect handler names one.
/// Headless flows never contact it.
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:3000/callback";

/// An authorization request (RFC 6749 §4.1.1) with PKCE (RFC 7636 §4.3), `resource`
/// (RFC 8707 §2) and `scope`.
#[derive(Debug)]
pub struct AuthorizationRequest {
    /// The authorization endpoint.
    pub endpoint: String,
    /// The `client_id`.
    pub client_id: String,
    /// The `redirect_uri`.
    pub redirect_uri: String,
    /// The `state`.
    pub state: State,
    /// The PKCE parameters (the verifier stays here; only the challenge is sent).
    pub pkce: PkceParameters,
    /// The RFC 8707 `resource`, if sent.
    pub resource: Option<String>,
    /// The `scope`, if any.
    pub scope: Option<String>,
}

impl AuthorizationRequest {
    /// The URL to send the user agent to.
    ///
    /// Parameters are appended to any query the endpoint already has (the reference builds
    /// `endpoint + "?" + params`, which yields a second `?`). The order matches the reference:
    /// `response_type, client_id, redirect_uri, state, code_challenge, code_challenge_method,
    /// resource, scope`. Unlike the reference, no `prompt=consent` is appended for
    /// `offline_access`: the flow adds `prompt` by [`crate::overrides::PromptPolicy`] (OIDC
    /// Core §11 applies to OpenID Connect requests; docs/providers.md).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the endpoint is not an absolute URL.
    pub fn url(&self) -> Result<String> {
        let mut url = url::Url::parse(&self.endpoint)
            .map_err(|e| Error::invalid_argument("authorization endpoint", e.to_string()))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("state", self.state.secret())
                .append_pair("code_challenge", &self.pkce.code_challenge)
                .append_pair("code_challenge_method", CODE_CHALLENGE_METHOD);
            if let Some(r) = &self.resource {
                q.append_pair("resource", r);
            }
            if let Some(s) = &self.scope {
                q.append_pair("scope", s);
            }
        }
        Ok(url.into())
    }
}

/// What the redirect carried back (RFC 6749 §4.1.2, RFC 9207 §2). Reference name.
pub struct AuthorizationCodeResult {
    /// The authorization code.
    pub code: AuthorizationCode,
    /// The `state`, as returned.
    pub state: Option<String>,
    /// The RFC 9207 `iss`, if returned.
    pub iss: Option<String>,
}

impl fmt::Debug for AuthorizationCodeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeResult")
            .field("code", &self.code)
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("iss", &self.iss)
            .finish()
    }
}

/// Parse the redirect URL (or just its query) that the authorization server sent the user
/// agent to.
///
/// RFC 6749 §3.1: response parameters MUST NOT appear more than once, so a repeated `code`,
/// `state`, `iss` or `error` is rejected (a second `code` is a classic injection attempt).
/// An `error` parameter (RFC 6749 §4.1.2.1) becomes [`Error::Authorization`] carrying it.
///
/// # Errors
/// [`Error::Authorization`] for an error response, a missing or empty code, or a repeated
/// parameter.
pub fn parse_redirect(url_or_query: &str) -> Result<AuthorizationCodeResult> {
    let query = match url_or_query.find('?') {
        Some(i) => &url_or_query[i + 1..],
        None => url_or_query,
    };
    let query = query.split('#').next().unwrap_or("");
    let mut code = None;
    let mut state = None;
    let mut iss = None;
    let mut error = None;
    let mut error_description = None;
    let mut error_uri = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "iss" => &mut iss,
            "error" => &mut error,
            "error_description" => &mut error_description,
            "error_uri" => &mut error_uri,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Error::Authorization {
                message: format!(
                    "Authorization response repeats the '{k}' parameter (RFC 6749 §3.1)"
                ),
                oauth: None,
            });
        }
        *slot = Some(v.into_owned());
    }
    if let Some(error) = error {
        let oauth = OAuthErrorResponse {
            error,
            error_description,
            error_uri,
            state,
        };
        return Err(Error::Authorization {
            message: format!("Authorization denied: {oauth}"),
            oauth: Some(Box::new(oauth)),
        });
    }
    let code = code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::Authorization {
            message: "Authorization response carries no code".to_owned(),
            oauth: None,
        })?;
    Ok(AuthorizationCodeResult {
        code: AuthorizationCode::new(code),
        state,
        iss,
    })
}

/// What a redirect handler is given besides the URL.
pub struct RedirectContext<'a> {
    /// The HTTP client of the flow (for [`HeadlessRedirect`]).
    pub http: &'a dyn HttpClient,
    /// The `redirect_uri` of the request.
    pub redirect_uri: &'a str,
}

/// Completes an authorization request: sends the user (agent) to `authorization_url` and
/// returns what came back on the redirect URI.
pub trait RedirectHandler: Send + Sync {
    /// The redirect URI this handler receives on, if it dictates one (e.g. the loopback
    /// listener's `http://127.0.0.1:PORT/callback`). Used for registration and the request.
    fn redirect_uri(&self) -> Option<String> {
        None
    }

    /// Run the authorization and return the code, `state` and `iss` from the redirect.
    fn authorize(
        &self,
        authorization_url: &str,
        context: &RedirectContext<'_>,
    ) -> Result<AuthorizationCodeResult>;

    /// Show the user the code of an RFC 8628 device authorization
    /// ([`crate::device`]); by default it goes to the log at `warn` level (the trace carries
    /// it too): the library prints nothing itself.
    ///
    /// # Errors
    /// Whatever the handler's display fails with.
    fn show_device_code(&self, info: &crate::device::DeviceAuthorization) -> Result<()> {
        log::warn!(
            "to authorize, open {} and enter the code {}",
            info.verification_uri,
            info.user_code
        );
        Ok(())
    }
}

/// GET the authorization URL without following redirects and read `code`/`state`/`iss` from
/// the `Location` of the 3xx answer. For auto-approving servers, automation and tests: only
/// when asked ([`ClientBuilder::headless`](crate::client::ClientBuilder::headless),
/// `{"redirect": {"type": "headless"}}`); a server that shows a login page instead fails with an
/// error saying so.
#[derive(Debug, Default, Clone)]
pub struct HeadlessRedirect {
    redirect_uri: Option<String>,
}

impl HeadlessRedirect {
    /// A headless handler using the configured redirect URI (default
    /// [`DEFAULT_REDIRECT_URI`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A headless handler that dictates the redirect URI.
    pub fn with_redirect_uri(uri: impl Into<String>) -> Self {
        HeadlessRedirect {
            redirect_uri: Some(uri.into()),
        }
    }
}

impl RedirectHandler for HeadlessRedirect {
    fn redirect_uri(&self) -> Option<String> {
        self.redirect_uri.clone()
    }

    fn authorize(
        &self,
        authorization_url: &str,
        context: &RedirectContext<'_>,
    ) -> Result<AuthorizationCodeResult> {
        let request = http::Request::get(authorization_url)
            .header("Accept", "text/html,application/json")
            .body(Vec::new())
            .map_err(|e| Error::invalid_argument("authorization URL", e.to_string()))?;
        let response = context.http.execute(request)?;
        let status = response.status().as_u16();
        if !response.status().is_redirection() {
            let oauth = OAuthErrorResponse::from_json(response.body());
            let html = response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"));
            let message = if status == 200 && html {
                // A login or consent page: a person has to complete it.
                format!(
                    "Authorization endpoint {} showed a page (a login or consent page) instead of redirecting: the headless redirect handler completes only auto-approving servers; use the loopback browser handler (the default), paste-back, or the device grant",
                    public_url(authorization_url)
                )
            } else {
                format!(
                    "Authorization endpoint {} answered {status} instead of redirecting; headless authorization needs an auto-approving server{}",
                    public_url(authorization_url),
                    oauth.as_ref().map(|o| format!(": {o}")).unwrap_or_default()
                )
            };
            return Err(Error::Authorization {
                message,
                oauth: oauth.map(Box::new),
            });
        }
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Authorization {
                message: format!("Authorization endpoint redirect ({status}) has no Location"),
                oauth: None,
            })?;
        // The redirect must go to our redirect URI: anything else means the server wants a
        // login page, which a headless client cannot complete.
        let target = location.split(['?', '#']).next().unwrap_or("");
        if target != context.redirect_uri {
            return Err(Error::Authorization {
                message: format!(
                    "Authorization endpoint redirected to {} instead of the redirect URI {}; the server requires user interaction",
                    public_url(location),
                    context.redirect_uri
                ),
                oauth: None,
            });
        }
        parse_redirect(location)
    }
}

/// A caller-supplied redirect handler: given the authorization URL, return the redirect URL
/// (or its query) that the authorization server sent the user agent to.
pub struct CallbackRedirect<F> {
    redirect_uri: Option<String>,
    callback: F,
}

impl<F> CallbackRedirect<F>
where
    F: Fn(&str) -> Result<String> + Send + Sync,
{
    /// Wrap `callback`; `redirect_uri` is the URI the caller receives on, if it dictates one.
    pub fn new(redirect_uri: Option<String>, callback: F) -> Self {
        CallbackRedirect {
            redirect_uri,
            callback,
        }
    }
}

impl<F> RedirectHandler for CallbackRedirect<F>
where
    F: Fn(&str) -> Result<String> + Send + Sync,
{
    fn redirect_uri(&self) -> Option<String> {
        self.redirect_uri.clone()
    }

    fn authorize(
        &self,
        authorization_url: &str,
        _context: &RedirectContext<'_>,
    ) -> Result<AuthorizationCodeResult> {
        let mut redirected = (self.callback)(authorization_url)?;
        let result = parse_redirect(&redirected);
        // The URL carries the authorization code: do not leave a copy behind.
        zeroize::Zeroize::zeroize(&mut redirected);
        result
    }
}

/// How [`LoopbackBrowser`] shows the authorization URL to the user. The library never prints
/// it: in every mode the URL goes to the host's [`LoopbackBrowser::on_url`] handler, if any
/// (the `mcp-auth` CLI prints it there), and to an `info` log record of target
/// `mcp_auth::authorization` with `state` redacted.
#[derive(Clone)]
pub enum BrowserLaunch {
    /// Open the system browser (`$BROWSER`, `xdg-open`, LaunchServices, the Windows default
    /// browser; never a shell).
    Open,
    /// Do not start a browser: only hand the URL to the [`LoopbackBrowser::on_url`] handler
    /// (headless machines, SSH sessions: the host shows it).
    PrintOnly,
    /// Hand the URL to the host (a GUI opening a web view, a test playing the browser). It
    /// must return promptly; the redirect is awaited on the loopback listener.
    Custom(std::sync::Arc<dyn Fn(&str) + Send + Sync>),
}

impl fmt::Debug for BrowserLaunch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BrowserLaunch::Open => "Open",
            BrowserLaunch::PrintOnly => "PrintOnly",
            BrowserLaunch::Custom(_) => "Custom",
        })
    }
}

/// RFC 8252 §7.3 loopback redirect: a listener on `127.0.0.1` (bound when created, so the
/// redirect URI is known before registration), the system browser, a timeout, and a small
/// "you may close this window" page.
pub struct LoopbackBrowser {
    /// Bound when created, or, for a fixed port ([`LoopbackBrowser::deferred`]), when the
    /// first authorization starts.
    listener: Mutex<Option<TcpListener>>,
    port: u16,
    redirect_uri: String,
    path: String,
    timeout: Duration,
    launch: BrowserLaunch,
    on_url: Option<UrlHandler>,
}

/// Receives the authorization URL a [`LoopbackBrowser`] is waiting on, and whether a browser
/// was started on it: the host shows it to the user (a terminal line, a dialog). Must return
/// promptly; the redirect is awaited on the loopback listener.
pub type UrlHandler = std::sync::Arc<dyn Fn(&str, bool) + Send + Sync>;

/// `url` for logs: the `state` parameter replaced by `[redacted]` (the PKCE challenge, the
/// client ID and the redirect URI are public).
pub fn redact_state(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return public_url(url);
    };
    if !parsed.query_pairs().any(|(k, _)| k == "state") {
        return url.to_owned();
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" { "[redacted]".into() } else { v };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.into()
}

impl fmt::Debug for LoopbackBrowser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackBrowser")
            .field("redirect_uri", &self.redirect_uri)
            .field("timeout", &self.timeout)
            .field("launch", &self.launch)
            .field("on_url", &self.on_url.is_some())
            .finish()
    }
}

impl LoopbackBrowser {
    /// Listen on `127.0.0.1:port` (`0` for an ephemeral port) at path `/callback`.
    ///
    /// # Errors
    /// [`Error::Transport`] if the port cannot be bound.
    pub fn bind(port: u16, timeout: Duration, launch: BrowserLaunch) -> Result<Self> {
        Self::bind_at("127.0.0.1", port, "/callback", timeout, launch)
    }

    /// Listen on `127.0.0.1:port` with the redirect URI `http://{host}:{port}{path}`: `host`
    /// is `127.0.0.1` or `localhost` (for authorization servers that compare redirect URIs
    /// exactly and have `localhost` registered; browsers reach it on 127.0.0.1), `path` the
    /// registered path.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another host or a path not starting with `/`;
    /// [`Error::Transport`] if the port cannot be bound.
    pub fn bind_at(
        host: &str,
        port: u16,
        path: &str,
        timeout: Duration,
        launch: BrowserLaunch,
    ) -> Result<Self> {
        Self::check_redirect_host_and_path(host, path)?;
        let listener = Self::listen(port)?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Internal {
                message: e.to_string(),
            })?
            .port();
        let mut browser = Self::deferred(host, port, path, timeout, launch)?;
        browser.listener = Mutex::new(Some(listener));
        Ok(browser)
    }

    /// Like [`bind_at`](Self::bind_at) on a fixed `port`, but bound when the first
    /// authorization starts rather than now: a client that never needs one (its token is
    /// stored) holds no port, and two such clients do not compete for it.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another host, port `0`, or a path not starting with `/`.
    pub fn deferred(
        host: &str,
        port: u16,
        path: &str,
        timeout: Duration,
        launch: BrowserLaunch,
    ) -> Result<Self> {
        Self::check_redirect_host_and_path(host, path)?;
        if port == 0 {
            return Err(Error::invalid_argument(
                "redirect port",
                "0: an ephemeral port is known only once bound (use bind_at)",
            ));
        }
        Ok(LoopbackBrowser {
            listener: Mutex::new(None),
            port,
            redirect_uri: format!("http://{host}:{port}{path}"),
            path: path.to_owned(),
            timeout,
            launch,
            on_url: None,
        })
    }

    fn check_redirect_host_and_path(host: &str, path: &str) -> Result<()> {
        if !matches!(host, "127.0.0.1" | "localhost") {
            return Err(Error::invalid_argument(
                "redirect host",
                format!("{host:?} (expected 127.0.0.1 or localhost)"),
            ));
        }
        if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
            return Err(Error::invalid_argument(
                "redirect path",
                format!("{path:?} (expected an absolute path such as /callback)"),
            ));
        }
        Ok(())
    }

    /// A non-blocking listener on `127.0.0.1:port`.
    fn listen(port: u16) -> Result<TcpListener> {
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| Error::Transport {
            url: format!("http://127.0.0.1:{port}"),
            reason: format!("cannot listen for the authorization redirect: {e}"),
            source: Some(Box::new(e)),
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::Internal {
                message: e.to_string(),
            })?;
        Ok(listener)
    }

    /// Hand the authorization URL to `handler` (with whether a browser was started on it)
    /// in the [`BrowserLaunch::Open`] and [`BrowserLaunch::PrintOnly`] modes, so that the
    /// host shows it to the user: the library itself never prints it.
    pub fn on_url(mut self, handler: UrlHandler) -> Self {
        self.on_url = Some(handler);
        self
    }

    /// Open the user's default browser on `url`, never through a shell: the `webbrowser`
    /// crate runs `$BROWSER` or `xdg-open` (and the desktops' equivalents) with the URL as one
    /// argument on Linux and the BSDs, LaunchServices on macOS, and the default browser's
    /// executable found in the registry on Windows (no `cmd /C start`, whose parsing lets `&`
    /// and `|` in a server-chosen URL run commands and cuts every URL at its first `&`).
    /// Chosen over the `open` crate because it opens a *browser* (not whatever handler a
    /// scheme or file type is associated with) and, with its `hardened` feature, refuses
    /// anything but `http`/`https` URLs. The URL is passed as serialized by the `url` crate,
    /// which is how [`AuthorizationRequest::url`] builds it, so it arrives unmodified.
    ///
    /// On Linux and the BSDs, with no display (`DISPLAY`, `WAYLAND_DISPLAY`) and no `$BROWSER`
    /// (an SSH session, a container, CI), no browser is started: the launchers there may report
    /// success for a browser that cannot show anything, and the login would wait for its
    /// timeout; without a URL handler it fails at once instead, naming paste-back and the
    /// device grant.
    fn open_browser(url: &str) -> bool {
        #[cfg(all(unix, not(target_os = "macos")))]
        if ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .all(|v| std::env::var_os(v).is_none_or(|s| s.is_empty()))
        {
            log::info!("no display and no $BROWSER: no browser started");
            return false;
        }
        let mut options = webbrowser::BrowserOptions::new();
        options.with_suppress_output(true);
        webbrowser::open_browser_with_options(webbrowser::Browser::Default, url, &options).is_ok()
    }

    /// Serve one connection: `Some(query)` when it was the redirect, `None` for anything else
    /// (favicon, probes), which gets a 404.
    fn serve(&self, stream: TcpStream) -> Option<String> {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        // Drain the headers.
        let mut h = String::new();
        while reader.read_line(&mut h).map(|n| n > 2).unwrap_or(false) {
            h.clear();
        }
        let mut parts = line.split_ascii_whitespace();
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut out = &stream;
        if method == "GET" && path == self.path {
            let ok = !query.contains("error=");
            let body = if ok {
                "<!doctype html><meta charset=utf-8><title>Authorized</title><p>Authorization complete. You may close this window.</p>"
            } else {
                "<!doctype html><meta charset=utf-8><title>Not authorized</title><p>Authorization was not granted. You may close this window.</p>"
            };
            let _ = out.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
            Some(query.to_owned())
        } else {
            let _ = out.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            None
        }
    }
}

impl RedirectHandler for LoopbackBrowser {
    fn redirect_uri(&self) -> Option<String> {
        Some(self.redirect_uri.clone())
    }

    fn authorize(
        &self,
        authorization_url: &str,
        _context: &RedirectContext<'_>,
    ) -> Result<AuthorizationCodeResult> {
        let mut bound = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        let listener = match &mut *bound {
            Some(l) => l,
            none => none.insert(Self::listen(self.port)?),
        };
        log::info!(
            "waiting on {} for the authorization redirect from {}",
            self.redirect_uri,
            redact_state(authorization_url)
        );
        match &self.launch {
            BrowserLaunch::Custom(f) => f(authorization_url),
            launch => {
                let opened =
                    matches!(launch, BrowserLaunch::Open) && Self::open_browser(authorization_url);
                if matches!(launch, BrowserLaunch::Open) && !opened {
                    log::warn!("could not start a browser for the authorization URL");
                }
                match &self.on_url {
                    Some(show) => show(authorization_url, opened),
                    // Waiting would only end at the timeout: nobody can complete the login.
                    None if !opened => {
                        return Err(Error::Authorization {
                            message: format!(
                                "{} and no URL handler shows the authorization URL, so nobody can complete the login at {}: give the loopback handler a URL handler (the host shows the URL), or use paste-back or the device grant on a machine without a browser, or a headless redirect for an auto-approving server",
                                if matches!(launch, BrowserLaunch::Open) {
                                    "No browser could be started (none found, or no display and no $BROWSER)"
                                } else {
                                    "No browser is to be started"
                                },
                                public_url(authorization_url)
                            ),
                            oauth: None,
                        });
                    }
                    None => {}
                }
            }
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    if let Some(query) = self.serve(stream) {
                        return parse_redirect(&query);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    crate::cancel::checkpoint()?;
                    if Instant::now() >= deadline {
                        return Err(Error::Authorization {
                            message: format!(
                                "No authorization redirect arrived on {} within {:?} (if the authorization server showed an error page about the redirect URI, it compares redirect URIs exactly: set the redirect host, port and path to the ones the client is registered with)",
                                self.redirect_uri, self.timeout
                            ),
                            oauth: None,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(e) => {
                    return Err(Error::Transport {
                        url: self.redirect_uri.clone(),
                        reason: e.to_string(),
                        source: Some(Box::new(e)),
                    });
                }
            }
        }
    }
}

/// An error redirect (RFC 6749 §4.1.2.1) is acted on (a forgotten registration dropped, a
/// refused scope widened) only when it belongs to this request: its `state` must be the
/// request's (§10.12), like a success's. Another `state` is a failed state check: anyone who
/// can reach the redirect URI (a local process on the loopback listener, a link in a mail)
/// could otherwise make the client forget its registration. An error without `state` stays
/// the authorization error it reports, stripped of its OAuth error so that nothing acts on it.
fn error_response_of_request(e: Error, expected: &crate::secret::State) -> Error {
    let Error::Authorization {
        message,
        oauth: Some(oauth),
    } = e
    else {
        return e;
    };
    match oauth.state.as_deref() {
        None => Error::Authorization {
            message: format!(
                "{message} (the error response carries no state, so it is not acted on: RFC 6749 §4.1.2.1)"
            ),
            oauth: None,
        },
        Some(returned) => match crate::pkce::verify_state(expected, Some(returned)) {
            Ok(()) => Error::Authorization {
                message,
                oauth: Some(oauth),
            },
            Err(_) => Error::security(
                crate::error::Check::State,
                format!(
                    "state parameter mismatch: the authorization error response ({}) does not belong to this request, and is ignored (RFC 6749 §10.12)",
                    oauth.error
                ),
            ),
        },
    }
}

/// The authorization step of the code grant (RFC 6749 §4.1.1-4.1.2): build the request with
/// PKCE (RFC 7636), `state`, `resource` and `scope`, run it through the redirect handler, and
/// check `state` and the RFC 9207 `iss`. Returns the code with the request (which holds the
/// PKCE verifier for the exchange).
pub(crate) fn authorize_code(
    handler: &dyn RedirectHandler,
    context: &RedirectContext<'_>,
    tracer: &crate::trace::Tracer,
    d: &crate::discovery::Discovery,
    client_id: &str,
    scope: Option<&str>,
) -> Result<(AuthorizationCodeResult, AuthorizationRequest)> {
    let request = AuthorizationRequest {
        endpoint: d.authorization_endpoint.clone(),
        client_id: client_id.to_owned(),
        redirect_uri: context.redirect_uri.to_owned(),
        state: crate::pkce::generate_state(),
        pkce: PkceParameters::generate(),
        resource: d.resource.clone(),
        scope: scope.map(str::to_owned),
    };
    // The per-server extras (`audience`, `access_type`) and the `prompt` policy.
    let url =
        d.overrides
            .decorate_authorization_url(&request.url()?, scope, d.resource.as_deref())?;
    let step = tracer
        .step(crate::trace::Step::Authorization)
        .http("GET", &d.authorization_endpoint);
    let checked = handler
        .authorize(&url, context)
        .map_err(|e| error_response_of_request(e, &request.state))
        .and_then(|result| {
            crate::pkce::verify_state(&request.state, result.state.as_deref())?;
            let template_iss = match (&result.iss, &d.metadata) {
                (Some(iss), Some(m)) => d.overrides.iss_matches_template(iss, &m.issuer),
                _ => false,
            };
            if !template_iss {
                crate::checks::validate_authorization_response_iss(
                    result.iss.as_deref(),
                    d.metadata.as_ref(),
                )?;
            }
            Ok(result)
        });
    step.finish(&checked, |result| {
        format!(
            "code received, state verified{}",
            if result.iss.is_some() {
                ", iss verified"
            } else {
                ""
            }
        )
    });
    Ok((checked?, request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_3_1_repeated_code_is_rejected() {
        let e = parse_redirect("http://localhost/cb?code=a&code=b&state=s").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Authorization);
        assert!(e.to_string().contains("'code'"));
    }

    #[test]
    fn rfc6749_4_1_2_1_error_response_carries_the_oauth_error() {
        let e =
            parse_redirect("?error=access_denied&error_description=no+way&state=s").unwrap_err();
        let o = e.oauth_error().unwrap();
        assert_eq!(o.error, "access_denied");
        assert_eq!(o.error_description.as_deref(), Some("no way"));
    }

    #[test]
    fn rfc9207_iss_and_state_are_returned() {
        let r =
            parse_redirect("http://localhost/cb?code=c1&state=s1&iss=https%3A%2F%2Fas").unwrap();
        assert_eq!(r.code.secret(), "c1");
        assert_eq!(r.state.as_deref(), Some("s1"));
        assert_eq!(r.iss.as_deref(), Some("https://as"));
        assert!(!format!("{r:?}").contains("c1"));
    }

    #[test]
    fn redact_state_hides_state_only() {
        let url = "https://as.example/authorize?response_type=code&state=s3cr3t&code_challenge=abc";
        let r = redact_state(url);
        assert!(!r.contains("s3cr3t"), "{r}");
        assert!(
            r.contains("code_challenge=abc") && r.contains("state=%5Bredacted%5D"),
            "{r}"
        );
        assert_eq!(
            redact_state("https://as.example/a?x=1"),
            "https://as.example/a?x=1"
        );
    }

    #[test]
    fn empty_code_is_rejected() {
        assert!(parse_redirect("?code=&state=x").is_err());
        assert!(parse_redirect("").is_err());
    }

    #[test]
    fn authorization_url_keeps_an_existing_query() {
        let req = AuthorizationRequest {
            endpoint: "https://as.example/authorize?tenant=a".into(),
            client_id: "c".into(),
            redirect_uri: "http://localhost:3000/callback".into(),
            state: State::new("st"),
            pkce: PkceParameters::generate(),
            resource: Some("https://rs.example/mcp".into()),
            scope: Some("read offline_access".into()),
        };
        let url = req.url().unwrap();
        assert_eq!(url.matches('?').count(), 1, "{url}");
        assert!(
            url.starts_with(
                "https://as.example/authorize?tenant=a&response_type=code&client_id=c&"
            )
        );
        assert!(url.contains("&resource=https%3A%2F%2Frs.example%2Fmcp&scope=read+offline_access"));
        assert!(!url.contains("prompt"), "{url}");
    }
}
