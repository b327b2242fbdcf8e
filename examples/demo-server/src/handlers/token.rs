//! The token endpoint (every grant) and the revocation endpoint (RFC 7009).

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::{Urls, grant_scope, lock_state, param, patched, split_scope, unique_params};
use crate::Shared;
use crate::config::{AuthMethod, DemoConfig};
use crate::dpop;
use crate::http::{Request, Response};
use crate::jwt::{self, JWT_BEARER_ASSERTION_TYPE};
use crate::state::{Client, unix_now};

struct OAuthError {
    status: u16,
    code: &'static str,
    description: String,
    basic_challenge: bool,
}

fn oauth_error(code: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: if code == "invalid_client" { 401 } else { 400 },
        code,
        description: description.into(),
        basic_challenge: false,
    }
}

impl OAuthError {
    fn into_response(self) -> Response {
        let mut r = Response::json(
            self.status,
            &json!({"error": self.code, "error_description": self.description}),
        )
        .header("cache-control", "no-store")
        .header("pragma", "no-cache");
        if self.basic_challenge {
            r = r.header("www-authenticate", "Basic realm=\"mcp-auth-demo\"");
        }
        r
    }
}

/// `application/x-www-form-urlencoded` decoding of one Basic credential part (RFC 6749 §2.3.1).
fn form_decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn token_params(req: &Request) -> Result<Vec<(String, String)>, OAuthError> {
    let is_json = req
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    let pairs: Vec<(String, String)> = if is_json {
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&req.body) else {
            return Err(oauth_error(
                "invalid_request",
                "the body is not a JSON object",
            ));
        };
        obj.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect()
    } else {
        form_urlencoded::parse(&req.body).into_owned().collect()
    };
    unique_params(pairs).map_err(|e| oauth_error("invalid_request", e))
}

/// Authenticates the client per its registered method.
fn authenticate(
    shared: &Shared,
    cfg: &DemoConfig,
    urls: &Urls,
    req: &Request,
    params: &[(String, String)],
) -> Result<Client, OAuthError> {
    let basic = req.header("authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
    });
    let basic_fail = |d: String| OAuthError {
        basic_challenge: true,
        ..oauth_error("invalid_client", d)
    };
    let basic = match basic {
        Some(b) => {
            let decoded = STANDARD
                .decode(b)
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .ok_or_else(|| basic_fail("the Basic credentials are not base64".into()))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| basic_fail("the Basic credentials have no ':'".into()))?;
            Some((form_decode(id), form_decode(secret)))
        }
        None => None,
    };
    let assertion = param(params, "client_assertion");
    let post_secret = param(params, "client_secret");
    let form_id = param(params, "client_id");
    let used = [basic.is_some(), assertion.is_some(), post_secret.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if used > 1 {
        return Err(oauth_error(
            "invalid_request",
            "more than one client authentication method was used",
        ));
    }
    let (presented, client_id) = if let Some((id, _)) = &basic {
        (AuthMethod::ClientSecretBasic, id.clone())
    } else if let Some(a) = assertion {
        if param(params, "client_assertion_type") != Some(JWT_BEARER_ASSERTION_TYPE) {
            return Err(oauth_error(
                "invalid_client",
                format!("client_assertion_type must be {JWT_BEARER_ASSERTION_TYPE}"),
            ));
        }
        let id = form_id
            .map(str::to_owned)
            .or_else(|| jwt::unverified_issuer(a))
            .ok_or_else(|| oauth_error("invalid_client", "client_assertion has no iss"))?;
        (AuthMethod::PrivateKeyJwt, id)
    } else if post_secret.is_some() {
        let id = form_id.ok_or_else(|| {
            oauth_error("invalid_client", "client_id is required with client_secret")
        })?;
        (AuthMethod::ClientSecretPost, id.to_owned())
    } else {
        let id = form_id.ok_or_else(|| {
            oauth_error(
                "invalid_client",
                "no client authentication and no client_id",
            )
        })?;
        (AuthMethod::None, id.to_owned())
    };
    if let Some(f) = form_id {
        if f != client_id {
            return Err(oauth_error(
                "invalid_client",
                "client_id does not match the authenticated client",
            ));
        }
    }
    let fail = |d: String| {
        if presented == AuthMethod::ClientSecretBasic {
            basic_fail(d)
        } else {
            oauth_error("invalid_client", d)
        }
    };
    let client = lock_state(shared)
        .client(cfg, &client_id)
        .ok_or_else(|| fail(format!("unknown client {client_id}")))?;
    if client.method != presented {
        return Err(fail(format!(
            "client {client_id} must authenticate with {}, not {}",
            client.method.as_str(),
            presented.as_str()
        )));
    }
    match presented {
        AuthMethod::None => {}
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
            let given = basic
                .as_ref()
                .map(|(_, s)| s.as_str())
                .or(post_secret)
                .unwrap_or("");
            if client.secret.as_deref() != Some(given) {
                return Err(fail("invalid client secret".into()));
            }
        }
        AuthMethod::PrivateKeyJwt => {
            let key = client
                .jwt_key
                .as_ref()
                .ok_or_else(|| fail("the client has no registered key".into()))?;
            let issuer = urls.issuer.clone();
            let audiences = vec![
                format!("{issuer}/"),
                urls.advertised_issuer(cfg),
                urls.endpoint(cfg, "token"),
                issuer,
            ];
            let verified = jwt::verify_assertion(
                assertion.unwrap_or_default(),
                key,
                &client_id,
                &audiences,
                unix_now(),
            )
            .map_err(fail)?;
            if let Some(jti) = verified.jti {
                if !lock_state(shared)
                    .jtis
                    .insert(format!("{client_id}\n{jti}"))
                {
                    return Err(fail("client_assertion jti was already used".into()));
                }
            }
        }
    }
    Ok(client)
}

pub(super) fn token(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    match token_inner(shared, cfg, urls, req) {
        Ok(doc) => Response::json(200, &patched(doc, cfg.faults.token_response_patch.as_ref()))
            .header("cache-control", "no-store")
            .header("pragma", "no-cache"),
        Err(e) => e.into_response(),
    }
}

/// RFC 7009 §2: authenticate the client like the token endpoint, then revoke `token` if it
/// is one of this client's. A refresh token takes its whole grant with it (§2.1: the access
/// tokens of the grant SHOULD be invalidated too). An unknown token is a success (§2.2).
pub(super) fn revoke(shared: &Shared, cfg: &DemoConfig, urls: &Urls, req: &Request) -> Response {
    let result = (|| {
        let params = token_params(req)?;
        let client = authenticate(shared, cfg, urls, req, &params)?;
        let token = param(&params, "token")
            .ok_or_else(|| oauth_error("invalid_request", "token is required"))?;
        let hint = param(&params, "token_type_hint");
        if hint.is_some_and(|h| h != "access_token" && h != "refresh_token") {
            return Err(oauth_error(
                "unsupported_token_type",
                "token_type_hint must be access_token or refresh_token",
            ));
        }
        let mut st = lock_state(shared);
        st.refresh_stats.revocation_requests += 1;
        if let Some(grant) = st
            .refresh
            .get(token)
            .map(|r| (r.client_id.clone(), r.grant))
        {
            if grant.0 != client.client_id {
                return Err(oauth_error(
                    "invalid_request",
                    "the token was not issued to this client",
                ));
            }
            let before = st.access.len();
            st.revoke_grant(grant.1);
            let dropped = before - st.access.len();
            st.refresh_stats.refresh_tokens_revoked += 1;
            st.refresh_stats.access_tokens_revoked += dropped;
        } else if let Some(owner) = st.access.get(token).map(|a| a.client_id.clone()) {
            if owner != client.client_id {
                return Err(oauth_error(
                    "invalid_request",
                    "the token was not issued to this client",
                ));
            }
            st.access.remove(token);
            st.refresh_stats.access_tokens_revoked += 1;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Response::new(200).header("cache-control", "no-store"),
        Err(e) => e.into_response(),
    }
}

fn verifier_ok(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn token_inner(
    shared: &Shared,
    cfg: &DemoConfig,
    urls: &Urls,
    req: &Request,
) -> Result<Value, OAuthError> {
    let params = token_params(req)?;
    let grant = param(&params, "grant_type")
        .ok_or_else(|| oauth_error("invalid_request", "grant_type is required"))?
        .to_owned();
    *lock_state(shared)
        .grant_hits
        .entry(grant.clone())
        .or_default() += 1;
    if !matches!(
        grant.as_str(),
        "authorization_code" | "refresh_token" | "client_credentials"
    ) || (!cfg.grant_types_supported.is_empty() && !cfg.grant_types_supported.contains(&grant))
    {
        return Err(oauth_error(
            "unsupported_grant_type",
            format!("grant_type {grant} is not supported"),
        ));
    }
    let client = authenticate(shared, cfg, urls, req, &params)?;
    let resource = param(&params, "resource");
    let ttl = cfg.token_ttl_secs;
    // RFC 9449 §4.3, §5: a valid proof binds the issued tokens to its key.
    let proof_jkt = match req.header("dpop") {
        Some(proof) => {
            let url = urls.endpoint(cfg, "token");
            let mut st = lock_state(shared);
            let st = &mut *st;
            let checked =
                dpop::verify_proof(proof, "POST", &url, None, unix_now(), &mut st.dpop_jtis);
            match checked {
                Ok((jkt, _)) => Some(jkt),
                Err(e) => {
                    st.dpop_stats.invalid_proofs += 1;
                    return Err(oauth_error("invalid_dpop_proof", e));
                }
            }
        }
        None => None,
    };

    let (scope, resource, with_refresh, grant_id) = match grant.as_str() {
        "authorization_code" => {
            let code = param(&params, "code")
                .ok_or_else(|| oauth_error("invalid_request", "code is required"))?;
            let mut st = lock_state(shared);
            let Some(grant) = st.codes.remove(code) else {
                let why = if st.used_codes.contains(code) {
                    "the authorization code was already used"
                } else {
                    "unknown authorization code"
                };
                return Err(oauth_error("invalid_grant", why));
            };
            st.used_codes.insert(code.to_owned());
            drop(st);
            if Instant::now() >= grant.expires_at {
                return Err(oauth_error(
                    "invalid_grant",
                    "the authorization code expired",
                ));
            }
            if grant.client_id != client.client_id {
                return Err(oauth_error(
                    "invalid_grant",
                    "the code was issued to another client",
                ));
            }
            if param(&params, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return Err(oauth_error(
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                ));
            }
            if let Some(challenge) = &grant.code_challenge {
                let verifier = param(&params, "code_verifier")
                    .ok_or_else(|| oauth_error("invalid_grant", "code_verifier is required"))?;
                if !verifier_ok(verifier) {
                    return Err(oauth_error(
                        "invalid_grant",
                        "code_verifier must be 43-128 unreserved characters",
                    ));
                }
                let computed = if grant.code_challenge_method == "S256" {
                    URL_SAFE_NO_PAD.encode(ring::digest::digest(
                        &ring::digest::SHA256,
                        verifier.as_bytes(),
                    ))
                } else {
                    verifier.to_owned()
                };
                if computed != *challenge {
                    return Err(oauth_error(
                        "invalid_grant",
                        "code_verifier does not match code_challenge",
                    ));
                }
            }
            if let (Some(a), Some(b)) = (resource, grant.resource.as_deref()) {
                if a != b {
                    return Err(oauth_error(
                        "invalid_target",
                        "resource differs from the authorization request's",
                    ));
                }
            }
            let resource = resource.map(str::to_owned).or(grant.resource);
            (grant.scope, resource, cfg.issue_refresh_tokens, None)
        }
        "refresh_token" => {
            if cfg.faults.refresh_invalid_grant {
                return Err(oauth_error(
                    "invalid_grant",
                    "the refresh token is invalid (injected fault)",
                ));
            }
            let rt = param(&params, "refresh_token")
                .ok_or_else(|| oauth_error("invalid_request", "refresh_token is required"))?;
            let mut st = lock_state(shared);
            let Some(old) = st.refresh.get(rt).cloned() else {
                let why = match st.rotated.get(rt).copied() {
                    Some(grant) if cfg.refresh_reuse_detection => {
                        st.refresh_stats.reuse_detections += 1;
                        if st.revoke_grant(grant) {
                            st.refresh_stats.revocations += 1;
                        }
                        "the refresh token was already used: the grant is revoked"
                    }
                    Some(_) => "the refresh token was already used (rotated)",
                    None => "unknown refresh token",
                };
                return Err(oauth_error("invalid_grant", why));
            };
            if old.client_id != client.client_id {
                return Err(oauth_error(
                    "invalid_grant",
                    "the refresh token was issued to another client",
                ));
            }
            if let Some(bound) = &old.jkt {
                // RFC 9449 §5: the refresh token of a public client is bound to the key of the
                // proof it was issued with; it is not consumed by a refused attempt.
                if proof_jkt.as_ref() != Some(bound) {
                    st.dpop_stats.key_mismatches += 1;
                    return Err(oauth_error(
                        "invalid_grant",
                        "the refresh token is bound to another DPoP key",
                    ));
                }
                st.dpop_stats.bound_refreshes += 1;
            }
            let scope = match param(&params, "scope") {
                Some(s) => {
                    let have = split_scope(&old.scope);
                    if !split_scope(s).iter().all(|x| have.contains(x)) {
                        return Err(oauth_error(
                            "invalid_scope",
                            "a refresh cannot widen the scope",
                        ));
                    }
                    split_scope(s).join(" ")
                }
                None => old.scope.clone(),
            };
            if let (Some(a), Some(b)) = (resource, old.resource.as_deref()) {
                if a != b {
                    return Err(oauth_error(
                        "invalid_target",
                        "resource differs from the original grant's",
                    ));
                }
            }
            st.refresh.remove(rt);
            st.rotated.insert(rt.to_owned(), old.grant);
            st.refresh_stats.refreshes += 1;
            let resource = resource.map(str::to_owned).or(old.resource);
            (scope, resource, true, Some(old.grant))
        }
        _ => {
            // client_credentials
            if client.method == AuthMethod::None {
                return Err(oauth_error(
                    "unauthorized_client",
                    "client_credentials needs a confidential client",
                ));
            }
            (
                grant_scope(cfg, param(&params, "scope")),
                resource.map(str::to_owned),
                false,
                None,
            )
        }
    };

    let mut st = lock_state(shared);
    let (access, refresh) = st.mint(
        &client.client_id,
        &scope,
        resource.as_deref(),
        ttl,
        with_refresh,
        grant_id,
    );
    if let Some(jkt) = &proof_jkt {
        st.dpop_stats.bound_tokens_issued += 1;
        if let Some(t) = st.access.get_mut(&access) {
            t.jkt = Some(jkt.clone());
        }
        // Public clients only (§5); a confidential client authenticates its refreshes.
        if client.method == AuthMethod::None {
            if let Some(r) = refresh.as_ref().and_then(|r| st.refresh.get_mut(r)) {
                r.jkt = Some(jkt.clone());
            }
        }
    }
    drop(st);
    let mut doc = json!({
        "access_token": access,
        "token_type": if proof_jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": ttl,
    });
    if let Some(rt) = refresh {
        doc["refresh_token"] = json!(rt);
    }
    if !scope.is_empty() {
        doc["scope"] = json!(scope);
    }
    Ok(doc)
}
