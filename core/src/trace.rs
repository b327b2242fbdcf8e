//! Step-by-step trace of the authorization flow, for debuggers and logs.
//!
//! The client emits one [`TraceEvent`] per step (each HTTP exchange, each decision). URLs in
//! events have their query and userinfo removed and no event carries a secret, so an observer
//! may log everything it receives.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::token::public_url;

/// A step of the MCP authorization flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// The MCP request itself (with or without a token).
    McpRequest,
    /// An unauthenticated probe of the MCP endpoint.
    Probe,
    /// A protected resource metadata fetch (RFC 9728 §3).
    ProtectedResourceMetadata,
    /// An authorization server metadata fetch (RFC 8414 §3, OIDC Discovery).
    AuthorizationServerMetadata,
    /// Scope selection (SEP-835/SEP-2207/SEP-2350).
    ScopeSelection,
    /// Client identity: pre-registered, CIMD, stored registration, or dynamic registration.
    ClientIdentity,
    /// Dynamic client registration (RFC 7591).
    Registration,
    /// The authorization request and redirect (RFC 6749 §4.1.1-4.1.2).
    Authorization,
    /// The authorization code exchange (RFC 6749 §4.1.3).
    TokenExchange,
    /// A refresh (RFC 6749 §6).
    Refresh,
    /// The client credentials grant (RFC 6749 §4.4).
    ClientCredentials,
    /// A JWT bearer grant (RFC 7523 §2.1).
    JwtBearer,
    /// A token exchange at the identity provider (RFC 8693, SEP-990).
    TokenExchangeAtIdp,
    /// A token revocation at logout (RFC 7009).
    Revocation,
    /// The device authorization request (RFC 8628 §3.1).
    DeviceAuthorization,
}

impl Step {
    /// A stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Step::McpRequest => "mcp_request",
            Step::Probe => "probe",
            Step::ProtectedResourceMetadata => "protected_resource_metadata",
            Step::AuthorizationServerMetadata => "authorization_server_metadata",
            Step::ScopeSelection => "scope_selection",
            Step::ClientIdentity => "client_identity",
            Step::Registration => "registration",
            Step::Authorization => "authorization",
            Step::TokenExchange => "token_exchange",
            Step::Refresh => "refresh",
            Step::ClientCredentials => "client_credentials",
            Step::JwtBearer => "jwt_bearer",
            Step::TokenExchangeAtIdp => "token_exchange_at_idp",
            Step::Revocation => "revocation",
            Step::DeviceAuthorization => "device_authorization",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The step succeeded and its result is used.
    Ok,
    /// The step produced nothing usable and the flow moves to the next candidate.
    Fallback,
    /// The step failed and the flow stops with an error.
    Failed,
}

/// One step of the flow.
#[derive(Debug, Clone, Serialize)]
pub struct TraceEvent {
    /// Which step.
    pub step: Step,
    /// The HTTP method, for HTTP steps.
    pub method: Option<String>,
    /// The URL (query and userinfo removed), for HTTP steps.
    pub url: Option<String>,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Time spent in the step.
    #[serde(serialize_with = "duration_micros")]
    pub duration: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// What happened, in a few words (no secrets).
    pub detail: String,
}

fn duration_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl TraceEvent {
    /// The event as one JSON object (`duration` in microseconds).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Receives trace events. Called synchronously on the thread running the flow; keep it quick.
pub trait TraceObserver: Send + Sync {
    /// One step happened.
    fn on_event(&self, event: &TraceEvent);
}

impl<F: Fn(&TraceEvent) + Send + Sync> TraceObserver for F {
    fn on_event(&self, event: &TraceEvent) {
        self(event)
    }
}

/// Where a client's trace events go: its observer, if any. Steps report through a
/// [`StepTimer`] from [`Tracer::step`].
#[derive(Clone, Default)]
pub(crate) struct Tracer(Option<Arc<dyn TraceObserver>>);

impl Tracer {
    pub(crate) fn new(observer: Option<Arc<dyn TraceObserver>>) -> Self {
        Tracer(observer)
    }

    /// Start a step: the returned guard measures it and emits its one event when finished
    /// ([`StepTimer::ok`], [`StepTimer::fallback`], [`StepTimer::failed`], [`StepTimer::finish`]).
    /// Whether anyone listens: the observer, or the `log` facade at `debug` (every step is
    /// also logged, with the same redacted content as the event).
    fn wanted(&self) -> bool {
        self.0.is_some() || log::log_enabled!(log::Level::Debug)
    }

    pub(crate) fn step(&self, step: Step) -> StepTimer<'_> {
        StepTimer {
            tracer: self,
            step,
            started: Instant::now(),
            method: None,
            url: None,
            status: None,
        }
    }
}

/// One step in progress: created when the step starts, consumed by the call that reports how it
/// ended. URLs are reduced to [`public_url`] (no query, no userinfo) when emitted.
#[must_use = "a step reports nothing until it is finished"]
pub(crate) struct StepTimer<'a> {
    tracer: &'a Tracer,
    step: Step,
    started: Instant,
    method: Option<String>,
    url: Option<String>,
    status: Option<u16>,
}

impl StepTimer<'_> {
    /// The HTTP exchange this step makes.
    pub(crate) fn http(mut self, method: &str, url: &str) -> Self {
        if self.tracer.wanted() {
            self.method = Some(method.to_owned());
            self.url = Some(url.to_owned());
        }
        self
    }

    /// The HTTP status the exchange got.
    pub(crate) fn status(&mut self, status: u16) {
        self.status = Some(status);
    }

    /// The step succeeded.
    pub(crate) fn ok(self, detail: impl Into<String>) {
        self.emit(Outcome::Ok, detail.into());
    }

    /// The step gave nothing usable; the flow moves on.
    pub(crate) fn fallback(self, detail: impl Into<String>) {
        self.emit(Outcome::Fallback, detail.into());
    }

    /// The step failed; the flow stops.
    pub(crate) fn failed(self, detail: impl Into<String>) {
        self.emit(Outcome::Failed, detail.into());
    }

    /// `ok` with `describe(value)`, or `failed` with the error's message.
    pub(crate) fn finish<T, E: std::fmt::Display>(
        self,
        result: &std::result::Result<T, E>,
        describe: impl FnOnce(&T) -> String,
    ) {
        if !self.tracer.wanted() {
            return;
        }
        match result {
            Ok(v) => self.ok(describe(v)),
            Err(e) => self.failed(e.to_string()),
        }
    }

    fn emit(self, outcome: Outcome, detail: String) {
        if !self.tracer.wanted() {
            return;
        }
        let event = TraceEvent {
            step: self.step,
            method: self.method,
            url: self.url.as_deref().map(public_url),
            status: self.status,
            duration: self.started.elapsed(),
            outcome,
            detail,
        };
        // The trace event is the log record: it carries no secret (URLs are reduced to
        // `public_url`, details never hold tokens, codes or client secrets).
        let level = match outcome {
            Outcome::Failed => log::Level::Info,
            Outcome::Ok | Outcome::Fallback => log::Level::Debug,
        };
        log::log!(
            level,
            "{} {:?}{}{}{}: {}",
            event.step.name(),
            event.outcome,
            event
                .method
                .as_deref()
                .map(|m| format!(" {m}"))
                .unwrap_or_default(),
            event
                .url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default(),
            event.status.map(|s| format!(" -> {s}")).unwrap_or_default(),
            event.detail
        );
        if let Some(o) = &self.tracer.0 {
            o.on_event(&event);
        }
    }
}
