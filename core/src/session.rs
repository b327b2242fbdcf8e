//! The session: the state machine of one client (MCP authorization). It holds the token and
//! decides when to get a new one; the steps do the work ([`crate::discovery`],
//! [`crate::registration`], [`crate::authorization`], [`crate::token`]).
//!
//! - **Token state**: the token in memory (loaded from storage on first use) and a
//!   generation number bumped whenever it is replaced.
//! - **Single flight**: one thread acquires a token (refresh or authorization) while the others
//!   wait on the flow lock, then see the new generation and use that token. Across processes,
//!   the store's refresh lease (docs/fleet.md) does the same: the holder re-reads the store and
//!   adopts a token another process already refreshed instead of replaying its refresh token.
//! - **Step-up** (SEP-2350): a 403 `insufficient_scope` runs a new authorization with the union
//!   of the granted and the challenged scopes.
//! - **The retry bound**: at most [`ClientConfig::max_authorizations`] token acquisitions per
//!   request, and a bounded number of rounds even when other threads keep replacing the token.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::authorization::{self, RedirectContext, RedirectHandler};
use crate::cache::MetadataCache;
use crate::cancel::{CancelToken, CheckedHttp, checkpoint};
use crate::challenge::CapturedChallenge;
use crate::client::{ClientConfig, Grant, MCP_ACCEPT, ProbeResult, ResponseStream};
use crate::discovery::{Discoverer, Discovery};
use crate::dpop::{self, DpopState};
use crate::error::{Error, Result};
use crate::http::{HttpClient, StreamedResponse};
use crate::metadata::OAuthToken;
use crate::policy::{CrossOrigin, PolicedHttp, Policy};
use crate::registration::{Identity, KnownClient};
use crate::scope;
use crate::secret::AccessToken;
use crate::storage::TokenStorage;
use crate::token::endpoint::TokenEndpoint;
use crate::token::revocation::{self, Revocation};
use crate::token::{ClientAuth, public_url};
use crate::trace::{Step, Tracer};

#[derive(Default)]
struct State {
    loaded: bool,
    token: Option<Arc<OAuthToken>>,
    /// Incremented whenever `token` is replaced: lets a thread that waited for the flow lock
    /// see that another thread already obtained a new token (single-flight).
    generation: u64,
    discovery: Option<Arc<Discovery>>,
    /// A token this client found unusable (its refresh was refused); storage may still hold
    /// it, and it must not be adopted back from there.
    stale: Option<AccessToken>,
}

/// A clock: seconds since the Unix epoch.
pub(crate) type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The largest error body read before deciding on a 401/403/400 answer to an MCP request.
const MAX_ERROR_BODY: u64 = 1024 * 1024;

/// Read an MCP error answer's body (at most [`MAX_ERROR_BODY`]; the rest is dropped): its
/// challenge or DPoP nonce demand decides what happens next.
fn read_error_body(response: StreamedResponse) -> Result<http::Response<Vec<u8>>> {
    use std::io::Read;
    let (parts, body) = response.into_parts();
    let mut buf = Vec::new();
    body.take(MAX_ERROR_BODY)
        .read_to_end(&mut buf)
        .map_err(ResponseStream::error_of)?;
    Ok(http::Response::from_parts(parts, buf))
}

/// How a refresh ended.
enum Refreshed {
    /// A new token is stored.
    Yes,
    /// The server refused the refresh, or it must not be sent there: authorize anew.
    Refused,
}

/// How a token acquisition ended.
enum Acquired {
    /// Another thread (or process) replaced the token while we waited.
    ByOther,
    /// We obtained a token.
    Obtained,
}

/// How a leased refresh ended.
enum LeasedRefresh {
    /// The store held a newer token (another process refreshed): adopted, nothing sent.
    Adopted,
    /// We refreshed and stored the new pair.
    Done,
    /// The server refused this token's refresh and the store holds nothing newer.
    Rejected(Arc<OAuthToken>),
}

/// One client's session: configuration, the steps' shared resources, and the token state.
pub(crate) struct Session {
    pub(crate) config: ClientConfig,
    pub(crate) redirect_uri: String,
    pub(crate) resource_key: String,
    /// For the flow: every request for an origin the host did not give is vetted by the
    /// address policy ([`crate::policy`]).
    http: Arc<dyn HttpClient>,
    /// For requests the host makes itself (`send` to another origin, without the token).
    direct: Arc<dyn HttpClient>,
    policy: Arc<Policy>,
    storage: Arc<dyn TokenStorage>,
    redirect: Arc<dyn RedirectHandler>,
    tracer: Tracer,
    metadata_cache: Option<Arc<MetadataCache>>,
    clock: Clock,
    dpop: DpopState,
    known_client: KnownClient,
    state: Mutex<State>,
    /// Held while acquiring a token (authorization or refresh), never while sending MCP
    /// requests.
    flow: Mutex<()>,
    /// Cancels the calls in progress ([`crate::cancel`]).
    pub(crate) cancel: CancelToken,
}

impl Session {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: ClientConfig,
        redirect_uri: String,
        resource_key: String,
        http: Arc<dyn HttpClient>,
        storage: Arc<dyn TokenStorage>,
        redirect: Arc<dyn RedirectHandler>,
        tracer: Tracer,
        metadata_cache: Option<Arc<MetadataCache>>,
        clock: Clock,
        policy: Arc<Policy>,
    ) -> Self {
        Session {
            config,
            redirect_uri,
            resource_key,
            // Every request of a flow is a cancellation checkpoint.
            http: Arc::new(CheckedHttp(Arc::new(PolicedHttp {
                inner: http.clone(),
                policy: policy.clone(),
            }))),
            direct: Arc::new(CheckedHttp(http)),
            policy,
            storage,
            redirect,
            tracer,
            metadata_cache,
            clock,
            dpop: DpopState::default(),
            known_client: KnownClient::default(),
            state: Mutex::new(State::default()),
            flow: Mutex::new(()),
            cancel: CancelToken::new(),
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_flow(&self) -> MutexGuard<'_, ()> {
        self.flow.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn discoverer(&self) -> Discoverer<'_> {
        Discoverer {
            http: &*self.http,
            config: &self.config,
            resource_key: &self.resource_key,
            cache: self.metadata_cache.as_deref(),
            tracer: &self.tracer,
        }
    }

    fn identity(&self) -> Identity<'_> {
        Identity {
            config: &self.config,
            storage: &*self.storage,
            http: &*self.http,
            tracer: &self.tracer,
            known: &self.known_client,
        }
    }

    fn token_endpoint(&self) -> TokenEndpoint<'_> {
        TokenEndpoint {
            http: &*self.http,
            tracer: &self.tracer,
            dpop: &self.dpop,
            clock: &*self.clock,
        }
    }

    /// Send `request` with the token, acquiring one on 401 and on a step-up 403, then retrying
    /// (see [`crate::Client::send_streamed`]). The final response's body is left unread.
    pub(crate) fn send_streamed(&self, request: http::Request<Vec<u8>>) -> Result<ResponseStream> {
        if !self.policy.is_resource_origin(request.uri()) {
            return self.send_elsewhere(request);
        }
        let (parts, body) = request.into_parts();
        let mut authorizations = 0u32;
        let mut last_challenge: Option<CapturedChallenge> = None;
        // Bounded even if other threads keep replacing the token.
        let max_rounds = self.config.max_authorizations.saturating_mul(2) + 2;
        for _ in 0..max_rounds {
            let (token, generation) = self.usable_token()?;
            let mut req = http::Request::from_parts(parts.clone(), body.clone());
            if let Some(t) = &token {
                self.authorize_request(&mut req, t)?;
            }
            let url = req.uri().to_string();
            let mut step = self
                .tracer
                .step(Step::McpRequest)
                .http(req.method().as_str(), &url);
            let response = self.http.execute_streamed(req)?;
            let status = response.status().as_u16();
            step.status(status);
            let detail = if token.is_some() {
                "with bearer token"
            } else {
                "without token"
            };
            if status == 401 || status == 403 {
                step.fallback(detail);
            } else {
                step.ok(detail);
            }
            let dpop_bound = token.as_ref().is_some_and(|t| t.is_dpop());
            // Only an error answer's body matters here (its challenge, a DPoP nonce demand);
            // anything else goes to the caller unread.
            let may_demand_nonce = dpop_bound
                && status == 400
                && response.headers().contains_key(dpop::DPOP_NONCE_HEADER);
            if status != 401 && status != 403 && !may_demand_nonce {
                return Ok(ResponseStream::new(
                    response,
                    last_challenge,
                    authorizations,
                ));
            }
            let response = read_error_body(response)?;
            // RFC 9449 §9: the resource server demands a nonce in the proof; retry with it
            // (no new token needed).
            if dpop_bound {
                if let Some(nonce) = dpop::demanded_nonce(&response) {
                    if self.dpop.set_rs_nonce_if_new(nonce) {
                        continue;
                    }
                }
            }
            if status != 401 && status != 403 {
                return Ok(ResponseStream::buffered(
                    response,
                    last_challenge,
                    authorizations,
                ));
            }
            let captured = CapturedChallenge::from_response(status, response.headers());
            if status == 403 && !captured.is_step_up() {
                return Ok(ResponseStream::buffered(
                    response,
                    Some(captured),
                    authorizations,
                ));
            }
            if authorizations >= self.config.max_authorizations {
                return Err(Error::Unauthorized {
                    message: format!(
                        "{} still answers {status} after {authorizations} authorization(s){}",
                        public_url(&url),
                        captured
                            .oauth()
                            .map(|o| format!(": {o}"))
                            .unwrap_or_default()
                    ),
                    status,
                    oauth: captured.oauth().map(Box::new),
                    www_authenticate: captured.www_authenticate.clone(),
                });
            }
            match self.acquire(generation, token.as_deref(), &captured)? {
                Acquired::Obtained => authorizations += 1,
                Acquired::ByOther => {}
            }
            last_challenge = Some(captured);
        }
        Err(Error::Unauthorized {
            message: "gave up: the token kept being replaced by concurrent requests".to_owned(),
            status: last_challenge.as_ref().map_or(401, |c| c.status),
            oauth: last_challenge
                .as_ref()
                .and_then(CapturedChallenge::oauth)
                .map(Box::new),
            www_authenticate: last_challenge
                .map(|c| c.www_authenticate)
                .unwrap_or_default(),
        })
    }

    /// The origin binding ([`crate::policy`]): a request for another origin than the protected
    /// resource's never carries the token; it is refused, or sent once as it is.
    pub(crate) fn send_elsewhere(&self, request: http::Request<Vec<u8>>) -> Result<ResponseStream> {
        let url = public_url(&request.uri().to_string());
        if self.config.cross_origin == CrossOrigin::Refuse {
            return Err(Error::ForeignOrigin {
                url,
                origin: self.policy.resource_origin(),
            });
        }
        let mut step = self
            .tracer
            .step(Step::McpRequest)
            .http(request.method().as_str(), &url);
        let response = self.direct.execute_streamed(request)?;
        step.status(response.status().as_u16());
        step.ok("another origin: sent without the token");
        Ok(ResponseStream::new(response, None, 0))
    }

    /// A valid access token, refreshing or authorizing if needed.
    pub(crate) fn access_token(&self) -> Result<AccessToken> {
        for _ in 0..3 {
            let (token, generation) = self.usable_token()?;
            if let Some(t) = token {
                return Ok(t.access_token.clone());
            }
            // No MCP request to find the challenge: discovery starts from the RFC 9728
            // well-known locations of the server URL (scope from the PRM's
            // `scopes_supported`). Only when that finds nothing (a server naming its metadata
            // in the challenge alone) does the unauthenticated probe run (see `probe`).
            let none = CapturedChallenge {
                status: 401,
                www_authenticate: Vec::new(),
                challenges: Vec::new(),
                bearer: None,
            };
            match self.acquire(generation, None, &none) {
                Err(e) if e.kind() == crate::ErrorKind::Discovery => {
                    let probe = self.probe()?;
                    let captured = probe.challenge.unwrap_or(CapturedChallenge {
                        status: probe.status,
                        ..none
                    });
                    self.acquire(generation, None, &captured)?;
                }
                other => {
                    other?;
                }
            }
        }
        Err(Error::Internal {
            message: "no token after authorization".to_owned(),
        })
    }

    /// What `send` does on a 401/403, for hosts that send requests themselves (see
    /// [`crate::Client::authorize_after`]).
    pub(crate) fn authorize_after(
        &self,
        captured: &CapturedChallenge,
        rejected: Option<&AccessToken>,
    ) -> Result<Option<AccessToken>> {
        let (current, generation) = self.usable_token()?;
        if let (Some(t), Some(r)) = (&current, rejected) {
            if t.access_token != *r {
                return Ok(Some(t.access_token.clone()));
            }
        }
        self.acquire(generation, current.as_deref(), captured)?;
        let s = self.lock_state();
        Ok(s.token.as_ref().map(|t| t.access_token.clone()))
    }

    /// A resource server's nonce demand received by a host's own HTTP stack (see
    /// [`crate::Client::accept_dpop_nonce`]): remembered when a DPoP-bound token is held and
    /// the nonce is new.
    pub(crate) fn accept_rs_nonce(&self, captured: &CapturedChallenge, nonce: &str) -> bool {
        let demanded = captured.status == 401
            && dpop::valid_nonce(nonce)
            && captured
                .challenges
                .iter()
                .any(|c| c.is_scheme("DPoP") && c.param("error") == Some(dpop::USE_DPOP_NONCE));
        let bound = self
            .lock_state()
            .token
            .as_ref()
            .is_some_and(|t| t.is_dpop());
        demanded && bound && self.dpop.set_rs_nonce_if_new(nonce.to_owned())
    }

    /// The current token's scope, if a token is held.
    pub(crate) fn granted_scope(&self) -> Option<String> {
        self.lock_state()
            .token
            .as_ref()
            .and_then(|t| t.scope.clone())
    }

    /// Forget the tokens of this server, in memory and in storage.
    pub(crate) fn logout(&self) -> Result<Revocation> {
        let _flow = self.lock_flow();
        // The stored pair is the newest across processes; the one in memory otherwise.
        let held = match self.storage.get_tokens(&self.resource_key) {
            Ok(Some(t)) => Ok(Some(Arc::new(t))),
            Ok(None) => Ok(self.lock_state().token.clone()),
            Err(e) => Err(e),
        };
        let revocation = match held {
            Ok(None) => Ok(Revocation::NoTokens),
            Ok(Some(t)) => self.revoke(&t),
            Err(e) => revocation::failed(e),
        };
        // Forgotten whatever the revocation did (a failure or a cancel must not keep them).
        {
            let mut s = self.lock_state();
            s.token = None;
            s.loaded = true;
            s.generation += 1;
        }
        self.storage.remove_tokens(&self.resource_key)?;
        revocation
    }

    /// RFC 7009 for `t` at the authorization server of this resource.
    fn revoke(&self, t: &OAuthToken) -> Result<Revocation> {
        let cached = self.lock_state().discovery.clone();
        let d = match cached {
            Some(d) => d,
            None => match self.rediscover(None) {
                Ok(d) => d,
                Err(e) => return revocation::failed(e),
            },
        };
        revocation::revoke_token(
            &self.token_endpoint(),
            &self.identity(),
            &self.tracer,
            &d,
            t,
        )
    }

    /// Forget the client registration for this resource's authorization server, in memory
    /// and in storage; returns the issuer. Tokens are kept (see [`Self::logout`]).
    pub(crate) fn forget_client(&self) -> Result<String> {
        let _flow = self.lock_flow();
        let cached = self.lock_state().discovery.clone();
        let d = match cached {
            Some(d) => d,
            None => self.rediscover(None)?,
        };
        self.known_client.forget();
        self.storage.remove_client_info(&d.issuer)?;
        Ok(d.issuer.clone())
    }

    /// Probe, then discover with the probe's challenge; the result is kept for later flows.
    pub(crate) fn discover(&self) -> Result<Arc<Discovery>> {
        let probe = self.probe()?;
        let d = Arc::new(self.discoverer().discover(probe.challenge.as_ref())?);
        self.lock_state().discovery = Some(d.clone());
        Ok(d)
    }

    /// The token to send, refreshing it first when it is about to expire. Returns the token
    /// generation it belongs to.
    pub(crate) fn usable_token(&self) -> Result<(Option<Arc<OAuthToken>>, u64)> {
        let (token, generation) = {
            let mut s = self.lock_state();
            if !s.loaded {
                s.loaded = true;
                if let Some(t) = self.storage.get_tokens(&self.resource_key)? {
                    s.token = Some(Arc::new(t));
                    s.generation += 1;
                }
            }
            (s.token.clone(), s.generation)
        };
        let Some(t) = token else {
            return Ok((None, generation));
        };
        if keyless_dpop(&t) {
            return Ok((None, generation));
        }
        if !self.is_due(&t) {
            return Ok((Some(t), generation));
        }
        if t.refresh_token.is_none() {
            // Expired and not refreshable: send without it and let the 401 drive the flow.
            return Ok((None, generation));
        }
        // Single flight: one thread refreshes, the others wait on the flow lock and then see
        // the new generation.
        let _flow = self.lock_flow();
        {
            let s = self.lock_state();
            if s.generation != generation {
                return Ok((s.token.clone(), s.generation));
            }
        }
        // Another process sharing the store may have refreshed already: under the store's
        // refresh lease, use its (rotated) tokens rather than replaying our refresh token
        // (RFC 9700 §4.14.2 reuse detection).
        let still_valid = |a: &OAuthToken| !self.is_due(a);
        if let LeasedRefresh::Rejected(t) = self.leased_refresh(&t, None, still_valid)? {
            // The refresh token no longer works and the store holds nothing newer: drop the
            // token from memory only (storage keeps it until a new one replaces it) and let
            // the 401 drive the flow.
            let mut s = self.lock_state();
            s.stale = Some(t.access_token.clone());
            s.token = None;
            s.generation += 1;
        }
        let s = self.lock_state();
        Ok((s.token.clone(), s.generation))
    }

    /// The cross-process refresh (docs/fleet.md): with the store's refresh lease held (when the
    /// store has one), re-read the stored token and adopt it if another process already replaced
    /// `current` (and `usable` accepts it); otherwise refresh and store. A refused refresh
    /// re-reads the store before giving up (another process may hold the new pair). Called with
    /// the flow lock held.
    fn leased_refresh(
        &self,
        current: &OAuthToken,
        challenge: Option<&CapturedChallenge>,
        usable: impl Fn(&OAuthToken) -> bool,
    ) -> Result<LeasedRefresh> {
        // Another process may have refreshed already (its waiters find out here without
        // queueing for the lease).
        if let Some(adopted) = self.adopt_stored_token(Some(current))? {
            if usable(&adopted) {
                return Ok(LeasedRefresh::Adopted);
            }
        }
        let owner = crate::pkce::generate_state();
        let ttl = self.config.refresh_lease_ttl;
        let leased = self
            .storage
            .acquire_lease(&self.resource_key, owner.secret(), ttl)?;
        let result = self.refresh_once(current, challenge, usable);
        if leased {
            if let Err(e) = self
                .storage
                .release_lease(&self.resource_key, owner.secret())
            {
                // The lease ends by itself at its deadline.
                self.tracer
                    .step(Step::Refresh)
                    .failed(format!("refresh lease not released: {e}"));
            }
        }
        result
    }

    /// Steps 2 and 3 of [`Self::leased_refresh`], with the lease held.
    fn refresh_once(
        &self,
        current: &OAuthToken,
        challenge: Option<&CapturedChallenge>,
        usable: impl Fn(&OAuthToken) -> bool,
    ) -> Result<LeasedRefresh> {
        if let Some(adopted) = self.adopt_stored_token(Some(current))? {
            if usable(&adopted) {
                return Ok(LeasedRefresh::Adopted);
            }
        }
        // The newest pair: ours, or the one just adopted (expired, but its refresh token is the
        // live one).
        let t = self
            .lock_state()
            .token
            .clone()
            .unwrap_or_else(|| Arc::new(current.clone()));
        let cached = self.lock_state().discovery.clone();
        let discovery = match cached {
            Some(d) => d,
            None => self.rediscover(challenge)?,
        };
        match self.refresh(&discovery, &t)? {
            Refreshed::Yes => Ok(LeasedRefresh::Done),
            Refreshed::Refused => {
                // Rotated away by another process (a store without a lease, or a holder whose
                // lease ran out)? Its new pair is in the store: use it before anything else.
                if self.adopt_stored_token(Some(&t))?.is_some() {
                    return Ok(LeasedRefresh::Adopted);
                }
                Ok(LeasedRefresh::Rejected(t))
            }
        }
    }

    /// Attach the token: `Authorization: Bearer` (RFC 6750 §2.1), or for a DPoP-bound token
    /// `Authorization: DPoP` plus a fresh proof with `ath` and the resource server's nonce
    /// (RFC 9449 §7.1).
    fn authorize_request(&self, req: &mut http::Request<Vec<u8>>, t: &OAuthToken) -> Result<()> {
        let bad = || Error::invalid_response("access token", "not a valid header value", None);
        let secret = t.access_token.secret();
        let scheme = if t.is_dpop() { "DPoP" } else { "Bearer" };
        req.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::try_from(format!("{scheme} {secret}")).map_err(|_| bad())?,
        );
        if t.is_dpop() {
            // The key the token is bound to (persisted with it), else this client's.
            let key = match &t.dpop_key {
                Some(k) => k.clone(),
                None => self.dpop.key()?,
            };
            let nonce = self.dpop.rs_nonce();
            let proof = key.proof(
                req.method().as_str(),
                &req.uri().to_string(),
                nonce.as_deref(),
                Some(secret),
            )?;
            req.headers_mut().insert(
                "DPoP",
                http::HeaderValue::try_from(proof).map_err(|_| bad())?,
            );
        }
        Ok(())
    }

    /// The headers that authorize `method url` with `token` as `send` would: the DPoP scheme
    /// and a fresh proof when `token` is the DPoP-bound token this client holds, else Bearer.
    pub(crate) fn authorization_headers(
        &self,
        method: &str,
        url: &str,
        token: &AccessToken,
    ) -> Result<Vec<(String, String)>> {
        let held = self
            .lock_state()
            .token
            .clone()
            .filter(|t| t.access_token == *token);
        let t = match held {
            Some(t) => t,
            None => Arc::new(OAuthToken::new(token.secret())),
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(url)
            .body(Vec::new())
            .map_err(|e| Error::invalid_argument("request", e.to_string()))?;
        self.authorize_request(&mut request, &t)?;
        Ok(request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect())
    }

    /// One unauthenticated `initialize` POST: the status and the challenge.
    pub(crate) fn probe(&self) -> Result<ProbeResult> {
        // The configured protocol version (`ClientConfig::protocol_version`), as the header
        // on metadata requests.
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": self.config.protocol_version,
                "capabilities": {},
                "clientInfo": {"name": "mcp-auth-probe", "version": "0"},
            },
        })
        .to_string()
        .into_bytes();
        let request = http::Request::post(self.config.server_url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, MCP_ACCEPT)
            .body(body)
            .map_err(|e| Error::invalid_argument("server URL", e.to_string()))?;
        let mut step = self
            .tracer
            .step(Step::Probe)
            .http("POST", &self.config.server_url);
        let response = self.http.execute(request)?;
        let status = response.status().as_u16();
        step.status(status);
        let challenge = (status == 401 || status == 403)
            .then(|| CapturedChallenge::from_response(status, response.headers()));
        step.ok(match &challenge {
            Some(c) if !c.www_authenticate.is_empty() => {
                format!("challenge: {}", c.www_authenticate.join(", "))
            }
            Some(_) => "no WWW-Authenticate header".to_owned(),
            None => "no authorization required".to_owned(),
        });
        Ok(ProbeResult { status, challenge })
    }

    /// Discover (with the challenge, if any) and keep the result for later flows.
    fn rediscover(&self, challenge: Option<&CapturedChallenge>) -> Result<Arc<Discovery>> {
        let d = Arc::new(self.discoverer().discover(challenge)?);
        self.lock_state().discovery = Some(d.clone());
        Ok(d)
    }

    /// If storage holds a different token than `current` (another process refreshed or
    /// re-authorized), adopt it: replace the in-memory token, bump the generation, and return
    /// it. Called with the flow lock held.
    fn adopt_stored_token(&self, current: Option<&OAuthToken>) -> Result<Option<Arc<OAuthToken>>> {
        let Some(stored) = self.storage.get_tokens(&self.resource_key)? else {
            return Ok(None);
        };
        if current.is_some_and(|c| stored.access_token == c.access_token) {
            return Ok(None);
        }
        if keyless_dpop(&stored) || (stored.refresh_token.is_none() && self.is_due(&stored)) {
            // Expired and not refreshable, or DPoP-bound without its key: adopting it would
            // only send requests without a token again (and never replace it).
            return Ok(None);
        }
        let mut s = self.lock_state();
        if s.stale.as_ref() == Some(&stored.access_token) {
            return Ok(None);
        }
        let stored = Arc::new(stored);
        s.token = Some(stored.clone());
        s.generation += 1;
        Ok(Some(stored))
    }

    /// Acquire a new token after a 401/403: a refresh when the rejected token is refreshable
    /// (401 only), else the full flow. Single flight with the generation check.
    fn acquire(
        &self,
        generation: u64,
        rejected: Option<&OAuthToken>,
        challenge: &CapturedChallenge,
    ) -> Result<Acquired> {
        let _flow = self.lock_flow();
        // A cancel while this thread waited for the flow lock.
        checkpoint()?;
        if self.lock_state().generation != generation {
            return Ok(Acquired::ByOther);
        }
        let step_up = challenge.is_step_up();
        if !step_up && self.adopt_stored_token(rejected)?.is_some() {
            // Another process sharing the store holds newer tokens: try those first.
            return Ok(Acquired::ByOther);
        }
        if let (false, Some(t)) = (step_up, rejected) {
            if t.refresh_token.is_some() {
                // Refresh (under the store's lease) instead of running a (possibly interactive)
                // authorization; a fresh process discovers with this challenge first.
                match self.leased_refresh(t, Some(challenge), |_| true)? {
                    LeasedRefresh::Adopted => return Ok(Acquired::ByOther),
                    LeasedRefresh::Done => return Ok(Acquired::Obtained),
                    LeasedRefresh::Rejected(_) => {}
                }
            }
        }
        self.authorize(challenge, rejected).map_err(|e| {
            let d = self.lock_state().discovery.clone();
            crate::overrides::with_hint(e, d.as_deref())
        })?;
        Ok(Acquired::Obtained)
    }

    /// The full flow: discovery, scope, client identity, grant, storage.
    fn authorize(
        &self,
        challenge: &CapturedChallenge,
        previous: Option<&OAuthToken>,
    ) -> Result<()> {
        // The cached discovery for a step-up (the AS does not change), a fresh one on a 401
        // (the challenge may name new metadata).
        let cached = challenge
            .is_step_up()
            .then(|| self.lock_state().discovery.clone())
            .flatten();
        let d = match cached {
            Some(d) => d,
            None => self.rediscover(Some(challenge))?,
        };
        checkpoint()?;
        let scope = self.select_scope(&d, challenge, previous);
        let scope = scope.as_deref();
        if self.config.grant == Grant::DeviceCode {
            crate::device::require_endpoint(&d)?;
        }
        let mut client = if challenge.is_step_up() {
            // Widens a registration that does not cover the scope (RFC 7592, or anew).
            self.identity().for_step_up(&d, scope)?
        } else {
            self.identity().for_grant(&d, scope)?
        };
        let mut retried = false;
        let token = loop {
            match self.grant(&d, &client, scope) {
                Ok(token) => break token,
                // The AS forgot the registration, or refused a scope it was not registered
                // with: register again, once.
                Err(e) if !retried => {
                    let step_up = challenge.is_step_up();
                    match self
                        .identity()
                        .retry_client(&d, &client, scope, step_up, &e)?
                    {
                        Some(c) => client = c,
                        None => return Err(e),
                    }
                    retried = true;
                }
                Err(e) => return Err(e),
            }
        };
        self.store_token(token, &d, &client);
        Ok(())
    }

    /// One grant for `client` at `d`'s issuer (the configured grant type).
    fn grant(&self, d: &Discovery, client: &ClientAuth, scope: Option<&str>) -> Result<OAuthToken> {
        checkpoint()?;
        let tokens = self.token_endpoint();
        Ok(match self.config.grant {
            Grant::AuthorizationCode => {
                // Vetted before any redirect handler (a browser) sees it.
                self.policy.vet_url(
                    "authorization endpoint",
                    &d.authorization_endpoint,
                    self.policy.resolves_names(),
                )?;
                let context = RedirectContext {
                    http: &*self.http,
                    redirect_uri: &self.redirect_uri,
                };
                let (result, request) = authorization::authorize_code(
                    &*self.redirect,
                    &context,
                    &self.tracer,
                    d,
                    &client.client_id,
                    scope,
                )?;
                checkpoint()?;
                tokens.authorization_code(
                    d,
                    client,
                    &result.code,
                    &self.redirect_uri,
                    &request.pkce.code_verifier,
                    scope,
                )?
            }
            Grant::DeviceCode => crate::device::authorize(
                &*self.http,
                &self.tracer,
                &tokens,
                &*self.redirect,
                d,
                client,
                scope,
            )?,
            Grant::ClientCredentials => tokens.client_credentials(d, client, scope)?,
            Grant::JwtBearer => {
                let assertion = self.config.assertion.as_ref().ok_or_else(|| {
                    Error::invalid_argument("configuration", "no assertion configured")
                })?;
                tokens.jwt_bearer(d, client, scope, assertion)?
            }
            Grant::EnterpriseManaged => {
                let idp = self.config.enterprise.as_ref().ok_or_else(|| {
                    Error::invalid_argument("configuration", "no identity provider configured")
                })?;
                let id_jag = tokens.id_jag(idp, d, scope)?;
                tokens.jwt_bearer(d, client, scope, &id_jag)?
            }
        })
    }

    /// SEP-835 selection; SEP-2207 `offline_access`; SEP-2350 union on step-up.
    fn select_scope(
        &self,
        d: &Discovery,
        challenge: &CapturedChallenge,
        previous: Option<&OAuthToken>,
    ) -> Option<String> {
        let step = self.tracer.step(Step::ScopeSelection);
        let selected = scope::get_client_metadata_scopes(
            challenge.scope(),
            d.protected_resource.as_ref(),
            d.metadata.as_ref(),
            Some(&self.config.client_metadata.grant_types),
        );
        // A per-server scope override replaces the selection (docs/providers.md).
        let overridden = d.overrides.scope.clone();
        let scope = if challenge.is_step_up() {
            let granted = previous.and_then(|t| t.scope.clone());
            let configured = overridden.or_else(|| self.config.scope.clone());
            let base = scope::union_scopes(configured.as_deref(), granted.as_deref());
            scope::union_scopes(base.as_deref(), selected.as_deref())
        } else {
            overridden
                .or(selected)
                .or_else(|| self.config.scope.clone())
        };
        let scope = d.overrides.scope(scope);
        let scope = scope.filter(|s| !s.trim().is_empty());
        step.ok(match &scope {
            Some(s) => format!("scope \"{s}\""),
            None => "no scope (omitted)".to_owned(),
        });
        scope
    }

    /// Whether `t` is due for renewal: expired, counting `refresh_skew` early but never
    /// earlier than half the token's lifetime (a server issuing 60 s tokens with a 60 s skew
    /// would otherwise cause a refresh on every request).
    fn is_due(&self, t: &OAuthToken) -> bool {
        let mut skew = self.config.refresh_skew.as_secs();
        if let Some(lifetime) = t.expires_in {
            skew = skew.min(lifetime / 2);
        }
        t.is_expired((self.clock)(), skew)
    }

    /// RFC 6749 §6, with rotation, at the token endpoint of the issuer that issued the token
    /// (the identity step says whether `d` is that issuer). Called with the flow lock held.
    fn refresh(&self, d: &Discovery, current: &OAuthToken) -> Result<Refreshed> {
        if let Some(key) = &current.dpop_key {
            // RFC 9449 §5: prove the key the refresh token was issued with (persisted with the
            // token, possibly by another process); the new pair is bound to it too.
            self.dpop.set_key(key.clone());
        }
        let client = match self.identity().for_refresh(d, current)? {
            Ok(client) => client,
            Err(reason) => {
                self.tracer
                    .step(Step::Refresh)
                    .fallback(format!("not refreshed: {reason}; authorizing anew"));
                return Ok(Refreshed::Refused);
            }
        };
        match self.token_endpoint().refresh(d, &client, current) {
            Ok(new) => {
                self.store_token(new, d, &client);
                Ok(Refreshed::Yes)
            }
            Err(e) if is_refresh_rejection(&e) => {
                // An AS that forgot the registration: the new authorization registers again.
                self.identity().forget_if_unknown(d, &client, &e);
                Ok(Refreshed::Refused)
            }
            Err(e) => Err(e),
        }
    }

    /// Keep `token` in memory and in storage, with the issuer and client it belongs to.
    fn store_token(&self, mut token: OAuthToken, d: &Discovery, client: &ClientAuth) {
        token.issuer = Some(d.issuer.clone());
        token.client_id = Some(client.client_id.clone());
        // A DPoP-bound token is persisted with its key (never one a response carried).
        token.dpop_key = if token.is_dpop() {
            self.dpop.current()
        } else {
            None
        };
        if let Err(e) = self.storage.set_tokens(&self.resource_key, &token) {
            // The token works; keep it in memory. The previous stored value is intact
            // (storage writes are atomic).
            self.tracer
                .step(Step::TokenExchange)
                .failed(format!("token obtained but not stored: {e}"));
        }
        let mut s = self.lock_state();
        s.token = Some(Arc::new(token));
        s.generation += 1;
    }
}

/// A DPoP-bound token without its key (stored by an older version, which did not persist keys):
/// no proof can be made for it, so it is unusable (a new authorization replaces it).
fn keyless_dpop(t: &OAuthToken) -> bool {
    t.is_dpop() && t.dpop_key.is_none()
}

/// A refresh the server refused (RFC 6749 §5.2 error, e.g. `invalid_grant`), as opposed to a
/// transport or server failure: the flow falls back to a new authorization.
fn is_refresh_rejection(e: &Error) -> bool {
    match e {
        Error::Token { status, oauth, .. } => {
            oauth.is_some() || status.is_some_and(|s| (400..500).contains(&s))
        }
        _ => false,
    }
}
