//! The client handle and its calls: send, post_json, probe, discover, tokens, step-up,
//! logout. Responses are in `response.rs`.

use std::ffi::c_char;
use std::sync::Arc;

use mcp_auth::Client;
use mcp_auth::authorization::CallbackRedirect;
use mcp_auth::options::{HostDisplay, RedirectOptions};
use mcp_auth::secret::AccessToken;

use crate::boundary::{
    FfiResult, Out, bytes, ffi_boundary, ffi_void, free_handle, handle, into_handle, opt_str,
    req_str,
};
use crate::config::mcpauth_client_config;
use crate::error::FfiError;
use crate::response::{mcpauth_response, response_handle};
use crate::status::mcpauth_status;

/// An MCP authorization client for one MCP server: sends requests with a bearer token and runs
/// the MCP authorization flow (discovery, registration, PKCE authorization, token exchange,
/// refresh, step-up) whenever the server asks for it.
///
/// Thread-safe: every function taking a `const mcpauth_client *` may be called from several
/// threads at once on the same client (one token acquisition serves all of them). Free it with
/// `mcpauth_client_free` once no other thread uses it.
pub struct mcpauth_client {
    pub(crate) client: Client,
}

/// Build a client from a configuration (which is not consumed, and may be freed afterwards).
///
/// With a `{"type":"loopback"}` redirect option, this binds the loopback port.
///
/// - `config`: the configuration.
/// - `out`: on success, a new client (free with `mcpauth_client_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INVALID_ARGUMENT` (a malformed server URL,
/// inconsistent credentials, a key that does not load, a `"callback"` redirect option without
/// a redirect handler), `MCPAUTH_STATUS_INSECURE_URL` (an http server URL that is not
/// loopback, unless `allow_insecure_server_url`), `MCPAUTH_STATUS_TRANSPORT` (the loopback
/// port cannot be bound), `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_new(
    config: *const mcpauth_client_config,
    out: *mut *mut mcpauth_client,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (config, out) = unsafe { (handle(config, "config")?, Out::new(out, "out")?) };
        let mut builder = config.options.builder_with_display(HostDisplay {
            on_url: config.url.clone().map(|u| u.handler()),
            on_device_code: config.device_code.clone().map(|d| d.handler()),
        })?;
        if let Some(s) = &config.storage {
            builder = builder.storage(Arc::new(s.clone()));
        }
        match (&config.redirect, &config.options.redirect) {
            (Some(r), options) => {
                let uri = match options {
                    Some(RedirectOptions::Callback { redirect_uri }) => redirect_uri.clone(),
                    _ => None,
                };
                let r = r.clone();
                builder = builder
                    .redirect_handler(Arc::new(CallbackRedirect::new(uri, move |url: &str| {
                        r.call(url)
                    })));
            }
            (None, Some(RedirectOptions::Callback { .. })) => {
                return Err(FfiError::invalid(
                    "config",
                    "the redirect option {\"type\":\"callback\"} needs a handler: call mcpauth_client_config_set_redirect_handler",
                ));
            }
            (None, _) => {}
        }
        if let Some(t) = &config.trace {
            builder = builder.observer(Arc::new(t.clone()));
        }
        let client = builder.build()?;
        out.write(into_handle(mcpauth_client { client }));
        Ok(())
    })
}

/// Free a client. NULL is a no-op. Must not be called twice on the same pointer, nor while
/// another thread uses the client. Responses obtained from it stay valid.
///
/// # Safety
/// `client` is NULL or a client from `mcpauth_client_new` not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_free(client: *mut mcpauth_client) {
    // SAFETY: the caller's contract (# Safety).
    ffi_void(|| unsafe { free_handle(client) })
}

/// The headers of a request, from a JSON object of names to string values.
fn parse_headers(json: &str) -> FfiResult<Vec<(http::HeaderName, http::HeaderValue)>> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| FfiError::invalid("headers_json", format!("expected a JSON object: {e}")))?;
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        let serde_json::Value::String(value) = value else {
            return Err(FfiError::invalid(
                "headers_json",
                format!("the value of header '{name}' is not a string"),
            ));
        };
        let n = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            FfiError::invalid("headers_json", format!("'{name}' is not a header name"))
        })?;
        let v = http::HeaderValue::from_str(&value).map_err(|_| {
            FfiError::invalid(
                "headers_json",
                format!("the value of header '{name}' is not a valid header value"),
            )
        })?;
        out.push((n, v));
    }
    Ok(out)
}

/// The request of `mcpauth_client_send` / `mcpauth_client_send_streamed` from its arguments.
pub(crate) fn build_request(
    c: &mcpauth_client,
    method: &str,
    url: Option<&str>,
    headers_json: Option<&str>,
    body: &[u8],
) -> FfiResult<http::Request<Vec<u8>>> {
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|_| FfiError::invalid("method", "not an HTTP method"))?;
    let url = url.unwrap_or(&c.client.config().server_url);
    let uri: http::Uri = url
        .parse()
        .map_err(|e| FfiError::invalid("url", format!("{e}")))?;
    let mut request = http::Request::builder().method(method).uri(uri);
    if let Some(h) = headers_json {
        for (n, v) in parse_headers(h)? {
            request = request.header(n, v);
        }
    }
    request
        .body(body.to_vec())
        .map_err(|e| FfiError::invalid("request", e))
}

/// Send an HTTP request with the client's bearer token, running the authorization flow on a
/// 401, and on a 403 `insufficient_scope` step-up challenge (SEP-2350), then retrying. Blocks
/// until done.
///
/// A response that is not a success is still a response (`MCPAUTH_STATUS_OK`): a 403 without
/// step-up, a 404, a 500 are returned with their status and body. `MCPAUTH_STATUS_UNAUTHORIZED`
/// means the server still refused after the allowed authorizations; its challenge is in
/// `mcpauth_last_error_challenge_json`.
///
/// - `client`: the client.
/// - `method`: the HTTP method, e.g. `"POST"`.
/// - `url`: the URL; may be NULL for the configured server URL.
/// - `headers_json`: extra headers as a JSON object of names to string values, e.g.
///   `{"Content-Type":"application/json","Accept":"application/json, text/event-stream"}`;
///   may be NULL. An `Authorization` header is replaced by the client's.
/// - `body`, `body_len`: the request body; `body` may be NULL when `body_len` is 0.
/// - `out`: on success, a new response (free with `mcpauth_response_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, and any flow status: `MCPAUTH_STATUS_TRANSPORT`,
/// `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`,
/// `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`; `MCPAUTH_STATUS_ADDRESS_REFUSED` when a URL the server supplied
/// is refused by the address policy, and `MCPAUTH_STATUS_FOREIGN_ORIGIN` when `url` is on
/// another origin than the MCP server's (the token is bound to that origin; nothing is sent;
/// the `cross_origin` option `"without_token"` sends such a request without the token).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn mcpauth_client_send(
    client: *const mcpauth_client,
    method: *const c_char,
    url: *const c_char,
    headers_json: *const c_char,
    body: *const u8,
    body_len: usize,
    out: *mut *mut mcpauth_response,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, method, url, headers, body, out) = unsafe {
            (
                handle(client, "client")?,
                req_str(method, "method")?,
                opt_str(url, "url")?,
                opt_str(headers_json, "headers_json")?,
                bytes(body, body_len, "body")?,
                Out::new(out, "out")?,
            )
        };
        let request = build_request(c, method, url, headers, body)?;
        let response = c.client.send(request)?;
        out.write(response_handle(response));
        Ok(())
    })
}

/// POST a JSON-RPC message to the MCP endpoint (`Content-Type: application/json`,
/// `Accept: application/json, text/event-stream`) through `mcpauth_client_send`.
///
/// - `client`: the client.
/// - `json_body`: the JSON-RPC message; borrowed for the call.
/// - `out`: on success, a new response (free with `mcpauth_response_free`).
///
/// Statuses: as `mcpauth_client_send`: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_UTF8`, `MCPAUTH_STATUS_INVALID_ARGUMENT`,
/// `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`,
/// `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_post_json(
    client: *const mcpauth_client,
    json_body: *const c_char,
    out: *mut *mut mcpauth_response,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, body, out) = unsafe {
            (
                handle(client, "client")?,
                req_str(json_body, "json_body")?,
                Out::new(out, "out")?,
            )
        };
        let response = c.client.post_json(body.as_bytes().to_vec())?;
        out.write(response_handle(response));
        Ok(())
    })
}

/// One unauthenticated request to the MCP endpoint (an `initialize` POST), returning its status
/// and parsed challenge as JSON: a diagnostic.
///
/// `{"status":401,"challenge":{"status":401,"www_authenticate":["Bearer resource_metadata=\"…\""],"challenges":[…],"bearer":{…}}}`
/// (`challenge` is null unless the status is 401 or 403).
///
/// - `client`: the client.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`,
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_probe(
    client: *const mcpauth_client,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_json, "out_json")?) };
        out.write_json(&c.client.probe()?)
    })
}

/// Run discovery: an unauthenticated probe for the challenge, then the protected resource
/// metadata chain (RFC 9728, SEP-985) and the authorization server metadata chain (RFC 8414,
/// OIDC Discovery), with the issuer and resource checks. Every step is reported to the trace
/// observer. Returns what was found as JSON:
///
/// `{"protected_resource":{…}|null,"protected_resource_url":"…"|null,"authorization_server":"…"|null,"metadata":{…}|null,"metadata_url":"…"|null,"issuer":"…","authorization_endpoint":"…","token_endpoint":"…","registration_endpoint":"…"|null,"resource":"…"|null}`
///
/// - `client`: the client.
/// - `out_json`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`,
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`, `MCPAUTH_STATUS_INVALID_RESPONSE`,
/// `MCPAUTH_STATUS_DISCOVERY`, `MCPAUTH_STATUS_SECURITY_CHECK`, `MCPAUTH_STATUS_INSECURE_URL`,
/// `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_discover(
    client: *const mcpauth_client,
    out_json: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_json, "out_json")?) };
        let d = c.client.discover()?;
        out.write_json(&*d)
    })
}

/// A valid access token for the server, refreshing or running the authorization flow first if
/// needed (for hosts that send MCP requests themselves).
///
/// - `client`: the client.
/// - `out_token`: on success, the access token, a secret (free with `mcpauth_string_free`,
///   which zeroizes it).
///
/// Statuses: as `mcpauth_client_send`: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`,
/// `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`, `MCPAUTH_STATUS_INVALID_RESPONSE`,
/// `MCPAUTH_STATUS_DISCOVERY`, `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`,
/// `MCPAUTH_STATUS_TOKEN`, `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_access_token(
    client: *const mcpauth_client,
    out_token: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_token, "out_token")?) };
        let token = c.client.access_token()?;
        out.write_str(token.secret())
    })
}

/// The access token a host should attach to a request it sends itself (hosts that run their
/// own HTTP stack: an `Authorization: Bearer` hook, a proxy): loaded from storage and refreshed
/// when it is due (one refresh serves every thread), never a new authorization. NULL when no
/// usable token is held: send without one, and hand the 401 to
/// `mcpauth_client_authorize_after`.
///
/// A DPoP-bound token (RFC 9449) also needs a proof per request, which this function does not
/// make: hosts of servers that bind tokens should let the library send
/// (`mcpauth_client_send`).
///
/// - `client`: the client.
/// - `out_token`: on success, the access token, a secret (free with `mcpauth_string_free`,
///   which zeroizes it), or NULL when no usable token is held.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, and those of a refresh:
/// `MCPAUTH_STATUS_TRANSPORT`, `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_SECURITY_CHECK`, `MCPAUTH_STATUS_INSECURE_URL`,
/// `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`, `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_current_token(
    client: *const mcpauth_client,
    out_token: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out_token, "out_token")?) };
        let token = c.client.current_token()?;
        out.write_opt_str(token.as_ref().map(|t| t.secret()))
    })
}

/// What `mcpauth_client_send` does when the server refuses a request, for hosts that send
/// requests themselves: given the refused response's status (401 or 403), its
/// `WWW-Authenticate` values and the token it refused, refresh or run the authorization flow
/// (on a 403 `insufficient_scope`, step up to the union of the granted and the challenged
/// scopes, SEP-2350), and return the token to retry with. One acquisition serves every thread:
/// when another thread already replaced `rejected_token`, the newer token is returned without a
/// new authorization. The host bounds its own retries.
///
/// - `client`: the client.
/// - `status`: the status of the refused response: 401 or 403 (anything else is
///   `MCPAUTH_STATUS_INVALID_ARGUMENT`).
/// - `www_authenticate_json`: every `WWW-Authenticate` field value of that response, as a JSON
///   array of strings, e.g. `["Bearer error=\"invalid_token\", resource_metadata=\"…\""]`; may
///   be NULL (no challenge).
/// - `rejected_token`: the access token the server refused (from
///   `mcpauth_client_current_token`), or NULL when the request carried none.
/// - `out_token`: on success, the token to retry with, a secret (free with
///   `mcpauth_string_free`), or NULL when there is nothing to retry: a 403 that is not an
///   `insufficient_scope` challenge is final.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_INVALID_UTF8`,
/// `MCPAUTH_STATUS_INVALID_ARGUMENT`, and any flow status: `MCPAUTH_STATUS_TRANSPORT`,
/// `MCPAUTH_STATUS_TIMEOUT`, `MCPAUTH_STATUS_RESPONSE_TOO_LARGE`,
/// `MCPAUTH_STATUS_INVALID_RESPONSE`, `MCPAUTH_STATUS_DISCOVERY`,
/// `MCPAUTH_STATUS_REGISTRATION`, `MCPAUTH_STATUS_AUTHORIZATION`, `MCPAUTH_STATUS_TOKEN`,
/// `MCPAUTH_STATUS_UNAUTHORIZED`, `MCPAUTH_STATUS_SECURITY_CHECK`,
/// `MCPAUTH_STATUS_INSECURE_URL`, `MCPAUTH_STATUS_UNSUPPORTED`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_INTERNAL`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_authorize_after(
    client: *const mcpauth_client,
    status: u16,
    www_authenticate_json: *const c_char,
    rejected_token: *const c_char,
    out_token: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, www, rejected, out) = unsafe {
            (
                handle(client, "client")?,
                opt_str(www_authenticate_json, "www_authenticate_json")?,
                opt_str(rejected_token, "rejected_token")?,
                Out::new(out_token, "out_token")?,
            )
        };
        let www: Vec<String> = match www {
            Some(json) => serde_json::from_str(json).map_err(|e| {
                FfiError::invalid(
                    "www_authenticate_json",
                    format!("expected a JSON array of strings: {e}"),
                )
            })?,
            None => Vec::new(),
        };
        let rejected = rejected.map(AccessToken::new);
        let token = c.client.authorize_after(status, &www, rejected.as_ref())?;
        out.write_opt_str(token.as_ref().map(|t| t.secret()))
    })
}

/// The scope granted with the current token (space-delimited), without any network request.
///
/// - `client`: the client.
/// - `out`: on success, a new string (free with `mcpauth_string_free`), or NULL when no token
///   is held or it has no scope.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_granted_scope(
    client: *const mcpauth_client,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out, "out")?) };
        out.write_opt_str(c.client.granted_scope().as_deref())
    })
}

/// Log out of this server: revoke the refresh and access tokens at the authorization server's
/// `revocation_endpoint` (RFC 7009), then forget them in memory and in storage whatever the
/// revocation's outcome (client registrations are kept: see `mcpauth_client_forget_client`).
/// `mcpauth_client_logout_report` says whether the server confirmed.
///
/// - `client`: the client.
///
/// Statuses: `MCPAUTH_STATUS_OK` (also when the revocation failed: the tokens are forgotten),
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_STORAGE`, `MCPAUTH_STATUS_CANCELLED` (the
/// tokens are forgotten all the same).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_logout(client: *const mcpauth_client) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let c = unsafe { handle(client, "client")? };
        c.client.logout()?;
        Ok(())
    })
}

/// `mcpauth_client_logout`, reporting the revocation's outcome as JSON:
/// `{"status":"revoked"}` (the server confirmed), `{"status":"no_tokens"}`,
/// `{"status":"unsupported"}` (no `revocation_endpoint`), or
/// `{"status":"failed","reason":"..."}`. The tokens are forgotten in every case.
///
/// - `client`: the client.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK` (also when the revocation failed: the tokens are forgotten),
/// `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_STORAGE`, `MCPAUTH_STATUS_CANCELLED` (the
/// tokens are forgotten all the same).
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_logout_report(
    client: *const mcpauth_client,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out, "out")?) };
        let revocation = c.client.logout()?;
        let json = serde_json::to_string(&revocation).map_err(|e| {
            FfiError::from(mcp_auth::Error::Internal {
                message: e.to_string(),
            })
        })?;
        out.write_str(&json)
    })
}

/// Forget the client registration stored for this server's authorization server (in memory and
/// in storage, through the storage's `remove` callback with kind `client_info`): the next
/// authorization registers anew. Tokens are kept (log out first). Discovers the authorization
/// server if needed.
///
/// - `client`: the client.
/// - `issuer_out`: on success, a new string: the issuer whose registration was forgotten
///   (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`, `MCPAUTH_STATUS_STORAGE`,
/// `MCPAUTH_STATUS_CANCELLED`, or a discovery error.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_forget_client(
    client: *const mcpauth_client,
    issuer_out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe {
            (
                handle(client, "client")?,
                Out::new(issuer_out, "issuer_out")?,
            )
        };
        out.write_str(&c.client.forget_client()?)
    })
}

/// The redirect URI the client registers and sends (e.g. the loopback listener's
/// `http://127.0.0.1:PORT/callback`).
///
/// - `client`: the client.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_redirect_uri(
    client: *const mcpauth_client,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out, "out")?) };
        out.write_str(c.client.redirect_uri())
    })
}

/// The storage key of this server's tokens: its canonical resource URL (RFC 8707).
///
/// - `client`: the client.
/// - `out`: on success, a new string (free with `mcpauth_string_free`).
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_NULL_ARGUMENT`.
///
/// Thread-safe.
///
/// # Safety
/// Every pointer is NULL or valid as described above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_client_resource_key(
    client: *const mcpauth_client,
    out: *mut *mut c_char,
) -> mcpauth_status {
    ffi_boundary(|| {
        // SAFETY: the caller's contract (# Safety).
        let (c, out) = unsafe { (handle(client, "client")?, Out::new(out, "out")?) };
        out.write_str(c.client.resource_key())
    })
}
