//! The MCP authorization client: give it a server URL and it sends authorized requests,
//! running the whole MCP authorization flow (2025-11-25, with SEP-985, SEP-835, SEP-2207,
//! SEP-2350 and SEP-2352) when the server asks for it.
//!
//! ```text
//! send → token (refresh first if about to expire: one refresh for all threads)
//!      → 401/403? → challenge → PRM → AS metadata → checks → client identity
//!      → scope → authorize (PKCE, state, resource) → iss/state checks → token → retry
//! ```
//!
//! The equivalent of the Python SDK's `OAuthClientProvider`, blocking, with these
//! differences: requests are not serialized behind one lock (only token acquisition is),
//! token expiry is persisted so a restart refreshes instead of re-authorizing, endpoints must
//! be HTTPS (or loopback), PKCE S256 support is required, and a failed refresh never deletes
//! stored credentials.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::secret::AccessToken;
use crate::session::Session;

mod config;
mod stream;

pub use crate::challenge::CapturedChallenge;
pub use crate::discovery::Discovery;
pub use crate::policy::CrossOrigin;
pub use config::{
    ClientBuilder, ClientConfig, DEFAULT_LOOPBACK_TIMEOUT, DpopMode, EnterpriseIdentity, Grant,
    PreRegisteredClient,
};
pub use stream::ResponseStream;

/// The MCP protocol version this client speaks, sent as `MCP-Protocol-Version` on metadata
/// requests (as the reference does).
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-11-25";

/// `Accept` for MCP streamable HTTP POSTs (MCP transports §2.1: both are required).
pub const MCP_ACCEPT: &str = "application/json, text/event-stream";

/// The response to [`Client::send`].
#[derive(Debug)]
pub struct Response {
    /// The final status.
    pub status: u16,
    /// The final headers.
    pub headers: http::HeaderMap,
    /// The final body.
    pub body: Vec<u8>,
    /// The last 401/403 challenge seen while sending (also when the final response is a
    /// success after re-authorization), so that hosts and proxies can forward it.
    pub challenge: Option<CapturedChallenge>,
    /// How many tokens were acquired (authorizations or refreshes) for this request.
    pub authorizations: u32,
}

impl Response {
    /// The JSON-RPC message in the body: the JSON body itself, or the first `data:` event of
    /// a `text/event-stream` body (MCP streamable HTTP answers POSTs either way).
    pub fn json_message(&self) -> Option<serde_json::Value> {
        let is_sse = self
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("text/event-stream"));
        if !is_sse {
            return serde_json::from_slice(&self.body).ok();
        }
        // SSE (WHATWG HTML §9.2.6): events are separated by blank lines; an event's data is
        // its `data:` lines joined with newlines.
        let text = String::from_utf8_lossy(&self.body);
        let mut data = String::new();
        for line in text.lines().chain(std::iter::once("")) {
            if line.is_empty() {
                if !data.is_empty() {
                    if let Ok(v) = serde_json::from_str(&data) {
                        return Some(v);
                    }
                    data.clear();
                }
            } else if let Some(d) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
        None
    }
}

/// The result of [`Client::probe`].
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    /// The status of the unauthenticated request.
    pub status: u16,
    /// The challenge, for 401/403.
    pub challenge: Option<CapturedChallenge>,
}

/// The MCP authorization client. Cheap to clone (shared state); `Send + Sync`: share one
/// client between threads.
#[derive(Clone)]
pub struct Client {
    session: Arc<Session>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server_url", &self.session.config.server_url)
            .field("grant", &self.session.config.grant)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn from_session(session: Session) -> Self {
        Client {
            session: Arc::new(session),
        }
    }

    /// Start building a client for the MCP server at `server_url`.
    pub fn builder(server_url: &str) -> ClientBuilder {
        ClientBuilder::new(server_url)
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.session.config
    }

    /// The redirect URI in use.
    pub fn redirect_uri(&self) -> &str {
        &self.session.redirect_uri
    }

    /// The storage key of this server's tokens (its canonical resource URL).
    pub fn resource_key(&self) -> &str {
        &self.session.resource_key
    }

    /// Send `request` with the bearer token, running the authorization flow on 401 and on a
    /// 403 `insufficient_scope` step-up challenge (SEP-2350), then retrying.
    ///
    /// At most [`ClientConfig::max_authorizations`] tokens are acquired per request. A 403
    /// without `insufficient_scope` is returned as a response (its challenge captured).
    ///
    /// # Errors
    /// [`Error::Unauthorized`] when the server still refuses after the allowed
    /// authorizations (the last challenge is in the error); any flow error otherwise.
    ///
    /// The response is read whole: MCP limits apply (no cap unless
    /// [`HttpConfig::stream_max_body_bytes`](crate::http::HttpConfig::stream_max_body_bytes),
    /// the idle timeout between reads), not the OAuth ones. To read a large result or an event
    /// stream as it arrives, use [`Client::send_streamed`].
    pub fn send(&self, request: http::Request<Vec<u8>>) -> Result<Response> {
        let _call = self.session.cancel.enter();
        self.session.send_streamed(request)?.into_response()
    }

    /// [`Client::send`], returning as soon as the final response's head has arrived, with the
    /// body to be read as it comes ([`ResponseStream`]: `Read`, or server-sent events one by
    /// one): a large tool result, a POST answered with `text/event-stream`, a `GET` stream.
    ///
    /// Authorization happens before the body is read: 401 and step-up 403 answers are
    /// handled (their bodies read, at most 1 MiB) exactly as in [`Client::send`]. The stream
    /// is not cancelled by [`Client::cancel`]; drop it to end it (the connection is closed).
    ///
    /// # Errors
    /// As [`Client::send`], up to the response head.
    pub fn send_streamed(&self, request: http::Request<Vec<u8>>) -> Result<ResponseStream> {
        let _call = self.session.cancel.enter();
        self.session.send_streamed(request)
    }

    /// POST a JSON-RPC message to the MCP endpoint (`Content-Type: application/json`,
    /// `Accept: application/json, text/event-stream`) through [`Client::send`].
    pub fn post_json(&self, body: impl Into<Vec<u8>>) -> Result<Response> {
        let request = http::Request::post(self.session.config.server_url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, MCP_ACCEPT)
            .body(body.into())
            .map_err(|e| Error::invalid_argument("request", e.to_string()))?;
        self.send(request)
    }

    /// One unauthenticated request to the MCP endpoint, returning the status and the parsed
    /// challenge: a diagnostic. Exactly what it sends: `POST <server_url>` with
    /// `Content-Type: application/json`, `Accept: application/json, text/event-stream` and the
    /// body `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":
    /// <ClientConfig::protocol_version>,"capabilities":{},"clientInfo":{"name":"mcp-auth-probe",
    /// "version":"0"}}}`. [`Client::access_token`] does not send it unless discovery from the
    /// well-known locations finds nothing.
    pub fn probe(&self) -> Result<ProbeResult> {
        let _call = self.session.cancel.enter();
        self.session.probe()
    }

    /// Run discovery (PRM, then AS metadata) and return what was found. Uses the challenge of
    /// an unauthenticated probe for the `resource_metadata` URL.
    pub fn discover(&self) -> Result<Arc<Discovery>> {
        let _call = self.session.cancel.enter();
        self.session.discover()
    }

    /// A valid access token, refreshing or authorizing if needed.
    pub fn access_token(&self) -> Result<AccessToken> {
        let _call = self.session.cancel.enter();
        self.session.access_token()
    }

    /// The access token a host should attach to a request it sends itself: loaded from
    /// storage and refreshed when due (one refresh for all threads), never a new
    /// authorization. `None` when no usable token is held.
    ///
    /// Hosts that send their own MCP requests (an `httpx` auth hook, a proxy) use this with
    /// [`Client::authorize_after`]; hosts that let mcp-auth send use [`Client::send`].
    pub fn current_token(&self) -> Result<Option<AccessToken>> {
        let _call = self.session.cancel.enter();
        let (token, _) = self.session.usable_token()?;
        Ok(token.map(|t| t.access_token.clone()))
    }

    /// The headers to authorize a request a host sends itself with `token` (from
    /// [`Client::current_token`] or [`Client::authorize_after`]), exactly as [`Client::send`]
    /// would: `Authorization: Bearer <token>`, or for a DPoP-bound token (RFC 9449)
    /// `Authorization: DPoP <token>` and a fresh `DPoP` proof for `method` and `url` with
    /// `ath` and the resource server's last nonce. Call it for every request (a proof is
    /// single-use). A token this client does not hold is sent as Bearer.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad method or URL; a DPoP key error.
    pub fn authorization_headers(
        &self,
        method: &str,
        url: &str,
        token: &AccessToken,
    ) -> Result<Vec<(String, String)>> {
        self.session.authorization_headers(method, url, token)
    }

    /// What [`Client::send`] does when the server refuses a request, for hosts that send
    /// requests themselves: given the status (401 or 403), the `WWW-Authenticate` values and
    /// the token that was rejected, refresh or authorize (step-up with the SEP-2350 union on
    /// 403 `insufficient_scope`; single-flight across threads) and return the token to retry
    /// with. `Ok(None)` for a 403 that is not a step-up challenge (nothing to do).
    ///
    /// If another thread already replaced the rejected token, that newer token is returned
    /// without a new authorization. The host bounds its own retries.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another status; any flow error.
    pub fn authorize_after(
        &self,
        status: u16,
        www_authenticate: &[String],
        rejected: Option<&AccessToken>,
    ) -> Result<Option<AccessToken>> {
        if status != 401 && status != 403 {
            return Err(Error::invalid_argument(
                "status",
                format!("{status} is not a 401 or 403 challenge"),
            ));
        }
        let captured = CapturedChallenge::from_values(status, www_authenticate);
        if status == 403 && !captured.is_step_up() {
            return Ok(None);
        }
        let _call = self.session.cancel.enter();
        self.session.authorize_after(&captured, rejected)
    }

    /// For hosts that send requests themselves with [`Client::authorization_headers`]: whether
    /// a refused response demands a DPoP nonce (RFC 9449 §9: a 401 whose `DPoP` challenge says
    /// `error="use_dpop_nonce"`, the nonce in its `DPoP-Nonce` header, given as `dpop_nonce`).
    ///
    /// `true` when it does, a DPoP-bound token is held and the nonce is new: the client now puts
    /// it in every proof, and the host sends the same request again with fresh
    /// [`Client::authorization_headers`] (the same token; no authorization). `false` otherwise
    /// (not a nonce demand, a malformed nonce, or the nonce already in use): hand the refusal to
    /// [`Client::authorize_after`] as usual. [`Client::send`] does this by itself.
    pub fn accept_dpop_nonce(
        &self,
        status: u16,
        www_authenticate: &[String],
        dpop_nonce: Option<&str>,
    ) -> bool {
        let Some(nonce) = dpop_nonce else {
            return false;
        };
        let captured = CapturedChallenge::from_values(status, www_authenticate);
        self.session.accept_rs_nonce(&captured, nonce)
    }

    /// Cancel every call in progress on this client (and its clones), from any thread: they
    /// return [`Error::Cancelled`] promptly (see [`crate::cancel`] for what is checked and
    /// what stays bounded by the HTTP timeouts). Calls started afterwards run normally.
    pub fn cancel(&self) {
        self.session.cancel.cancel();
    }

    /// The handle [`Client::cancel`] uses, to give to code that has no access to the client.
    pub fn cancel_token(&self) -> CancelToken {
        self.session.cancel.clone()
    }

    /// The current token's scope, if a token is held.
    pub fn granted_scope(&self) -> Option<String> {
        self.session.granted_scope()
    }

    /// Log out of this server: revoke the refresh and access tokens at the authorization
    /// server's `revocation_endpoint` (RFC 7009, `token_type_hint`, authenticated with the
    /// client credentials the tokens were issued to), then forget them in memory and in
    /// storage **whatever the revocation's outcome**. The result says whether the server
    /// confirmed. Client registrations are kept (see [`Client::forget_client`]).
    ///
    /// # Errors
    /// [`Error::Storage`] when the tokens cannot be removed from storage;
    /// [`Error::Cancelled`] when cancelled (the tokens are forgotten all the same).
    pub fn logout(&self) -> Result<crate::token::revocation::Revocation> {
        let _call = self.session.cancel.enter();
        self.session.logout()
    }

    /// Forget the client registration (dynamic registration) for this server's authorization
    /// server, in memory and in storage: the next authorization registers anew. Returns that
    /// server's issuer. Tokens are kept; call [`Client::logout`] first to end the session.
    /// Discovers the authorization server when not known yet.
    ///
    /// # Errors
    /// A discovery error; [`Error::Storage`] when the storage cannot forget it.
    pub fn forget_client(&self) -> Result<String> {
        let _call = self.session.cancel.enter();
        self.session.forget_client()
    }
}
