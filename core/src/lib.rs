//! # mcp-auth
//!
//! MCP client authorization (OAuth 2.1 as the Model Context Protocol specifies it), done once
//! and done right: a blocking Rust core that the C ABI (`libmcpauth`) and the Python package
//! (`mcp_auth`) translate.
//!
//! One module per step of the specification (docs/architecture.md describes how they fit):
//!
//! | module | step | spec |
//! |---|---|---|
//! | [`challenge`] | parse `WWW-Authenticate` | RFC 9110 §11.6.1, RFC 6750 §3 |
//! | [`discovery`] | metadata discovery URLs and the fetch-with-fallback chains | RFC 9728, RFC 8414, OIDC Discovery, SEP-985 |
//! | [`metadata`] | the metadata, client and token models | RFC 9728 §2, RFC 8414 §2, RFC 7591, RFC 6749 §5.1 |
//! | [`scope`] | scope selection and step-up union | SEP-835, SEP-2207, SEP-2350 |
//! | [`checks`] | issuer, `iss` and resource checks | RFC 8414 §3.3, RFC 9207, RFC 8707, RFC 9728 §3.3 |
//! | [`policy`] | which addresses a server may make the client reach; which origin gets the token | RFC 9700 §4.1, MCP security best practices |
//! | [`registration`] | DCR, CIMD, issuer binding; the one choice of client credentials | RFC 7591, CIMD, SEP-2352 |
//! | [`pkce`] | PKCE S256 and `state` | RFC 7636, RFC 6749 §10.12 |
//! | [`mod@http`] | the HTTP seam and the ureq client: trust, pool, resolver, streamed bodies | RFC 9110 |
//! | [`sse`] | server-sent events, parsed incrementally | WHATWG HTML §9.2 |
//! | [`authorization`] | authorization request, redirect handlers | RFC 6749 §4.1, RFC 8252, RFC 9207 |
//! | [`token`] | grants, client authentication, token responses; the one token-endpoint path | RFC 6749 §4-6, RFC 7523, RFC 8693 |
//! | [`dpop`] | DPoP proofs and nonces | RFC 9449 |
//! | [`storage`] | token and client storage (memory, file) | SEP-2352 |
//! | [`cache`] | discovery metadata cache honouring `Cache-Control` | RFC 9111 §5.2.2 |
//! | `session` (private) | the state machine: token state, single-flight refresh, step-up, the retry bound | MCP authorization |
//! | [`client`] | the public façade: builder, options, `send`, `probe`, `discover`, responses | MCP authorization |
//! | [`trace`] | step events for observers | |
//! | [`overrides`], [`providers`] | per-server overrides and provider profiles for deviating authorization servers | RFC 8707, OIDC Core §11, RFC 8414 §3.3 |
//! | [`headless`], [`device`] | paste-back of the redirect; the device authorization grant | RFC 8628 |
//! | [`options`] | client options as JSON (for the C ABI and Python) | |
//! | [`secret`] | redacting, zeroizing secret newtypes | |
//! | [`error`] | [`Error`] and [`ErrorKind`] | |
//!
//! The proxy bridge (`WWW-Authenticate` and CORS for proxies and gateways) is server-side code: the
//! separate `mcp-auth-bridge` crate, built on this one.
//!
//! ## Security
//! Secrets never reach `Debug` output or error messages and are zeroized when dropped; issuer
//! and resource comparisons are exact-string where the RFCs say so.

#![warn(missing_docs)]

pub mod authorization;
pub mod cache;
pub mod cancel;
pub mod challenge;
pub mod checks;
pub mod client;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod headless;
pub mod http;
pub mod metadata;
pub mod options;
pub mod overrides;
pub mod pkce;
pub mod policy;
pub mod providers;
pub mod registration;
pub mod scope;
pub mod secret;
mod session;
pub mod sse;
pub mod storage;
pub mod token;
pub mod trace;

pub use cancel::CancelToken;
/// The 401/403 challenge a [`Client`] captured, as proxies and hosts forward it (the
/// `mcp-auth-bridge` crate builds downstream responses from it).
pub use challenge::CapturedChallenge;
pub use client::{
    Client, ClientBuilder, ClientConfig, DpopMode, EnterpriseIdentity, Grant, PreRegisteredClient,
    ResponseStream,
};
pub use error::{Check, Error, ErrorKind, OAuthErrorResponse, Result};
pub use options::ClientOptions;
pub use policy::CrossOrigin;
pub use token::revocation::Revocation;
