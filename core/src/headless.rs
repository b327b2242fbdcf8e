//! Headless login: [`PasteBack`], the redirect handler for machines without a browser (SSH
//! sessions, containers). It shows the authorization URL, the user opens it in a browser
//! elsewhere, approves, and pastes back the URL the browser was redirected to (the page at the
//! loopback address fails to load on the other machine; its address is what counts). The flow
//! then checks `state` and the RFC 9207 `iss` exactly as for any redirect.
//!
//! The RFC 8628 device authorization grant, the other headless login, is [`crate::device`].

use std::fmt;
use std::io::BufRead;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::authorization::{
    AuthorizationCodeResult, RedirectContext, RedirectHandler, parse_redirect,
};
use crate::error::{Error, Result};

/// Where [`PasteBack`] reads pasted lines from.
type Input = Box<dyn BufRead + Send>;

/// Shows the authorization URL and instructions to the user.
pub type Show = Arc<dyn Fn(&str) + Send + Sync>;

/// The paste-back redirect handler (see the [module docs](self)).
pub struct PasteBack {
    redirect_uri: String,
    timeout: Duration,
    show: Show,
    on_url: Option<crate::authorization::UrlHandler>,
    input: Mutex<Option<Input>>,
    lines: Mutex<Option<Receiver<String>>>,
}

impl fmt::Debug for PasteBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasteBack")
            .field("redirect_uri", &self.redirect_uri)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PasteBack {
    /// Paste-back from standard input: the redirected URL is read from stdin; the URL and
    /// instructions go to `show` (the host's display; the library prints nothing itself).
    /// `redirect_uri` is the URI registered and sent (a loopback URI such as
    /// `http://127.0.0.1:8976/callback`; nothing listens on it).
    pub fn stdin(redirect_uri: impl Into<String>, timeout: Duration, show: Show) -> Self {
        Self::new(
            redirect_uri,
            timeout,
            Box::new(std::io::BufReader::new(std::io::stdin())),
            show,
        )
    }

    /// Paste-back with the host's own input and display (a GUI, a test).
    pub fn new(
        redirect_uri: impl Into<String>,
        timeout: Duration,
        input: Input,
        show: Show,
    ) -> Self {
        PasteBack {
            redirect_uri: redirect_uri.into(),
            timeout,
            show,
            on_url: None,
            input: Mutex::new(Some(input)),
            lines: Mutex::new(None),
        }
    }

    /// Also hand the authorization URL to the host's URL handler (the one a loopback browser
    /// redirect uses, see [`LoopbackBrowser::on_url`](crate::authorization::LoopbackBrowser::on_url)),
    /// with `false` for "no browser was opened", before waiting for the paste.
    pub fn on_url(mut self, handler: crate::authorization::UrlHandler) -> Self {
        self.on_url = Some(handler);
        self
    }

    /// Whether a pasted line is the redirect: the redirect URI with a query, or just the
    /// query (`code=…&state=…` or `error=…`).
    fn is_redirect(&self, line: &str) -> bool {
        let base = line.split(['?', '#']).next().unwrap_or("");
        let query = line.split_once('?').map_or(line, |(_, q)| q);
        let has = |k: &str| form_urlencoded::parse(query.as_bytes()).any(|(n, _)| n == k);
        let right_place = !line.contains("://") || base == self.redirect_uri;
        right_place && (has("code") || has("error"))
    }
}

impl RedirectHandler for PasteBack {
    fn redirect_uri(&self) -> Option<String> {
        Some(self.redirect_uri.clone())
    }

    fn authorize(
        &self,
        authorization_url: &str,
        _context: &RedirectContext<'_>,
    ) -> Result<AuthorizationCodeResult> {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.is_none() {
            // One reader thread for the handler's lifetime: a blocking read cannot be
            // interrupted, so the wait below polls the channel (and the cancel token).
            let input = self.input.lock().unwrap_or_else(|p| p.into_inner()).take();
            let Some(input) = input else {
                return Err(Error::Internal {
                    message: "paste-back input already consumed".to_owned(),
                });
            };
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in input.lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            *lines = Some(rx);
        }
        let rx = lines.as_ref().ok_or_else(|| Error::Internal {
            message: "paste-back reader missing".to_owned(),
        })?;
        if let Some(on_url) = &self.on_url {
            on_url(authorization_url, false);
        }
        (self.show)(&format!(
            "Open this URL in a browser to authorize:\n\n  {authorization_url}\n\nAfter approving, paste the URL your browser was redirected to (it starts with {}; the page may fail to load) and press Enter:",
            self.redirect_uri
        ));
        let deadline = Instant::now() + self.timeout;
        loop {
            crate::cancel::checkpoint()?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Authorization {
                    message: format!("No redirect URL was pasted within {:?}", self.timeout),
                    oauth: None,
                });
            }
            match rx.recv_timeout(left.min(Duration::from_millis(25))) {
                Ok(mut line) => {
                    let text = line.trim();
                    if text.is_empty() {
                        continue;
                    }
                    if !self.is_redirect(text) {
                        (self.show)(&format!(
                            "That is not the redirect URL (it starts with {}?code=…); paste the whole address from the browser's address bar:",
                            self.redirect_uri
                        ));
                        zeroize::Zeroize::zeroize(&mut line);
                        continue;
                    }
                    let result = parse_redirect(text);
                    // The line carries the authorization code: do not leave a copy behind.
                    zeroize::Zeroize::zeroize(&mut line);
                    return result;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Authorization {
                        message: "The input closed before a redirect URL was pasted".to_owned(),
                        oauth: None,
                    });
                }
            }
        }
    }
}
