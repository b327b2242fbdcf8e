//! The discovery step itself: walk the protected resource metadata chain (RFC 9728 §3.1,
//! SEP-985), choose the authorization server, walk its metadata chain (RFC 8414 §3.1, OpenID
//! Connect Discovery §4, the 2025-03-26 legacy defaults), and check what was found (RFC 9728
//! §3.3, RFC 8414 §3.3, PKCE S256, HTTPS endpoints). Optionally probes fallback candidates
//! concurrently and caches results (see [`ClientConfig::concurrent_discovery`] and
//! [`ClientConfig::cache_metadata`]).

use serde::Serialize;

use crate::cache::{self, MetadataCache};
use crate::challenge::CapturedChallenge;
use crate::checks::{self, origin_of};
use crate::client::{ClientConfig, DpopMode, Grant};
use crate::error::{Error, ErrorKind, Result};
use crate::http::HttpClient;
use crate::metadata::{OAuthMetadata, ProtectedResourceMetadata};
use crate::overrides::{self, ServerOverrides};
use crate::providers::Provider;
use crate::trace::{Step, Tracer};

/// What the client learnt from discovery.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// The protected resource metadata, if the server publishes it (absent on 2025-03-26
    /// servers).
    pub protected_resource: Option<ProtectedResourceMetadata>,
    /// Where it was found.
    pub protected_resource_url: Option<String>,
    /// The authorization server the PRM named (`None` on the legacy path).
    pub authorization_server: Option<String>,
    /// The authorization server metadata, if found.
    pub metadata: Option<OAuthMetadata>,
    /// Where it was found.
    pub metadata_url: Option<String>,
    /// The issuer that credentials are bound to (SEP-2352).
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The registration endpoint, if dynamic registration is possible.
    pub registration_endpoint: Option<String>,
    /// The RFC 8707 `resource` value sent, if any.
    pub resource: Option<String>,
    /// Whether tokens are obtained DPoP-bound (RFC 9449): the resource server challenged with
    /// the `DPoP` scheme or its metadata requires bound tokens (or [`DpopMode::Always`]).
    pub dpop: bool,
    /// The provider profile in effect (chosen, or detected from the authorization server's
    /// host), if any.
    pub provider: Option<Provider>,
    /// The overrides in effect: the configured ones over the profile's.
    pub overrides: ServerOverrides,
}

impl Discovery {
    /// Whether the endpoints are the MCP 2025-03-26 defaults on the server's origin: no
    /// protected resource metadata, no authorization server named, no metadata found.
    pub fn on_legacy_defaults(&self) -> bool {
        self.protected_resource.is_none()
            && self.authorization_server.is_none()
            && self.metadata.is_none()
    }
}

type Fetched = Option<Result<http::Response<Vec<u8>>>>;

/// A document found by a chain, with the URL it was found at.
type Found<T> = Option<(T, String)>;

/// The discovery step of one client: what it needs, borrowed from the session.
pub(crate) struct Discoverer<'a> {
    pub(crate) http: &'a dyn HttpClient,
    pub(crate) config: &'a ClientConfig,
    /// The canonical resource URL (the `resource` on the legacy path).
    pub(crate) resource_key: &'a str,
    pub(crate) cache: Option<&'a MetadataCache>,
    pub(crate) tracer: &'a Tracer,
}

impl Discoverer<'_> {
    /// RFC 9728 §3 + SEP-985: the PRM chain, then RFC 8414 §3 / OIDC Discovery: the AS chain.
    pub(crate) fn discover(&self, challenge: Option<&CapturedChallenge>) -> Result<Discovery> {
        let server_url = self.config.server_url.as_str();
        let prm = self.protected_resource(challenge)?;

        // --- Authorization server selection (or the one the overrides name, for a server
        // without protected resource metadata).
        let mut direct_metadata_url = None;
        let authorization_server = match &prm {
            Some((m, _)) => Some(self.select_authorization_server(&m.authorization_servers)?),
            None => match &self.config.overrides.authorization_server {
                Some(named) => match overrides::metadata_url_issuer(named) {
                    Some((url, issuer)) => {
                        direct_metadata_url = Some(url);
                        Some(issuer)
                    }
                    None => Some(named.clone()),
                },
                None => None,
            },
        };
        let legacy_origin = origin_of(server_url)?;
        let expected_issuer = authorization_server
            .clone()
            .unwrap_or_else(|| legacy_origin.clone());
        let provider = self.config.provider.resolve(&expected_issuer);
        let overrides = match provider {
            Some(p) => self.config.overrides.over(&p.overrides()),
            None => self.config.overrides.clone(),
        };
        let (metadata, stopped_by) = self.authorization_server_metadata(
            authorization_server.as_deref(),
            &expected_issuer,
            &legacy_origin,
            &overrides,
            direct_metadata_url,
        )?;

        let (authorization_endpoint, token_endpoint, registration_endpoint) = match &metadata {
            Some((m, _)) => (
                m.authorization_endpoint.clone(),
                m.token_endpoint.clone(),
                m.registration_endpoint.clone(),
            ),
            None if authorization_server.is_none() => (
                // MCP 2025-03-26 §2.3.3: default endpoints on the server origin.
                format!("{legacy_origin}/authorize"),
                format!("{legacy_origin}/token"),
                Some(format!("{legacy_origin}/register")),
            ),
            None => {
                return Err(Error::Discovery {
                    message: match stopped_by {
                        Some(st) => format!(
                            "Authorization server metadata request failed: HTTP {st} from {}",
                            authorization_server.as_deref().unwrap_or_default()
                        ),
                        None => format!(
                            "Authorization server {} publishes no RFC 8414 or OpenID Connect metadata",
                            authorization_server.as_deref().unwrap_or_default()
                        ),
                    },
                    status: stopped_by,
                });
            }
        };
        checks::require_secure_url("authorization endpoint", &authorization_endpoint)?;
        checks::require_secure_url("token endpoint", &token_endpoint)?;
        if let Some(r) = &registration_endpoint {
            checks::require_secure_url("registration endpoint", r)?;
        }
        if self.config.grant == Grant::AuthorizationCode && self.config.require_pkce_s256 {
            if let Some((m, _)) = &metadata {
                let s256 = m
                    .code_challenge_methods_supported
                    .as_ref()
                    .is_some_and(|v| v.iter().any(|x| x == "S256"));
                if !s256 {
                    return Err(Error::Unsupported {
                        message: format!(
                            "Authorization server {} does not list S256 in code_challenge_methods_supported; MCP clients must refuse to proceed without PKCE",
                            m.issuer
                        ),
                    });
                }
            }
        }
        let resource = match &prm {
            Some((m, _)) => Some(checks::resource_param_for(server_url, Some(m))?),
            None if checks::should_include_resource_param(
                Some(&self.config.protocol_version),
                false,
            ) =>
            {
                Some(self.resource_key.to_owned())
            }
            None => None,
        };
        // `{resource}` in the extra parameters names the server's resource, sent or not.
        let overrides = overrides.with_resource(resource.as_deref().unwrap_or(self.resource_key));
        let resource = overrides.resource(resource);
        let dpop = match self.config.dpop {
            DpopMode::Always => true,
            DpopMode::Never => false,
            DpopMode::Auto => {
                challenge.is_some_and(|c| c.challenges.iter().any(|ch| ch.is_scheme("DPoP")))
                    || prm
                        .as_ref()
                        .is_some_and(|(m, _)| m.dpop_bound_access_tokens_required == Some(true))
            }
        };
        let issuer = match &metadata {
            // A `{tenantid}` template accepted for a tenant's own metadata URL: that tenant.
            Some((m, _)) if overrides.iss_matches_template(&expected_issuer, &m.issuer) => {
                expected_issuer
            }
            Some((m, _)) => m.issuer.clone(),
            None => expected_issuer,
        };
        let (protected_resource, protected_resource_url) = match prm {
            Some((m, u)) => (Some(m), Some(u)),
            None => (None, None),
        };
        let (metadata, metadata_url) = match metadata {
            Some((m, u)) => (Some(m), Some(u)),
            None => (None, None),
        };
        Ok(Discovery {
            protected_resource,
            protected_resource_url,
            authorization_server,
            metadata,
            metadata_url,
            issuer,
            authorization_endpoint,
            token_endpoint,
            registration_endpoint,
            resource,
            dpop,
            provider,
            overrides,
        })
    }

    /// RFC 9728 §3.1 in the SEP-985 order: the challenge's `resource_metadata`, then the
    /// path-suffixed and root well-known URLs. `None` when no candidate serves it (a
    /// 2025-03-26 server); an error for a server error or when every candidate failed in
    /// transport.
    fn protected_resource(
        &self,
        challenge: Option<&CapturedChallenge>,
    ) -> Result<Found<ProtectedResourceMetadata>> {
        let server_url = self.config.server_url.as_str();
        let header_url = challenge.and_then(CapturedChallenge::resource_metadata);
        let mut server_error: Option<u16> = None;
        let mut transport_error: Option<Error> = None;
        let candidates =
            super::build_protected_resource_metadata_discovery_urls(header_url, server_url);
        let key = self.cache.map(|_| {
            cache::chain_key(
                &format!("prm {server_url}"),
                &self.config.protocol_version,
                &candidates,
            )
        });
        let (candidates, mut prefetched, cached) = self.cached_chain(key.as_deref(), candidates);
        // A `resource_metadata` URL from the challenge is fetched alone; only the SEP-985
        // fallbacks after it may be probed together.
        let concurrent_from = usize::from(header_url.is_some_and(|u| !u.is_empty()));
        for (i, url) in candidates.iter().enumerate() {
            if i == concurrent_from && self.config.concurrent_discovery && !cached {
                self.prefetch(
                    "protected resource metadata",
                    &candidates[i..],
                    &mut prefetched[i..],
                );
            }
            let mut step = self
                .tracer
                .step(Step::ProtectedResourceMetadata)
                .http("GET", url);
            if let Err(e) = checks::require_secure_url("protected resource metadata", url) {
                step.fallback(e.to_string());
                continue;
            }
            let fetched = match prefetched[i].take() {
                Some(r) => r,
                None => self.get_metadata(url),
            };
            let response = match fetched {
                Ok(r) => r,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::ResponseTooLarge
                    ) =>
                {
                    step.fallback(e.to_string());
                    transport_error = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let status = response.status().as_u16();
            step.status(status);
            if status != 200 {
                if super::is_prm_server_error(status) {
                    server_error = Some(status);
                }
                step.fallback("not served, trying the next candidate");
                continue;
            }
            match ProtectedResourceMetadata::from_json(response.body()) {
                Ok(m) => {
                    // RFC 9728 §3.3: the metadata must be for this resource; a mismatch stops
                    // the flow before any authorization request.
                    if let Err(e) = checks::validate_resource_match(server_url, &m.resource) {
                        step.failed(e.to_string());
                        return Err(e);
                    }
                    step.ok(format!(
                        "resource {}, authorization servers {}",
                        m.resource,
                        m.authorization_servers.join(" ")
                    ));
                    if let (Some(c), Some(k), false) = (self.cache, &key, cached) {
                        c.put(k, url, response.body(), response.headers());
                    }
                    return Ok(Some((m, url.clone())));
                }
                Err(e) => step.fallback(e.to_string()),
            }
        }
        if let Some(status) = server_error {
            return Err(Error::Discovery {
                message: format!("Protected resource metadata request failed: HTTP {status}"),
                status: Some(status),
            });
        }
        match transport_error {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// RFC 8414 §3.1 and OIDC Discovery §4 for `authorization_server` (or the MCP server's
    /// origin on the legacy path). Returns the metadata found, or the status that stopped the
    /// chain (201, 204, 5xx), for the error message.
    fn authorization_server_metadata(
        &self,
        authorization_server: Option<&str>,
        expected_issuer: &str,
        legacy_origin: &str,
        overrides: &ServerOverrides,
        direct_metadata_url: Option<String>,
    ) -> Result<(Found<OAuthMetadata>, Option<u16>)> {
        let server_url = self.config.server_url.as_str();
        let candidates = match direct_metadata_url {
            Some(url) => vec![url],
            None => super::build_oauth_authorization_server_metadata_discovery_urls(
                authorization_server,
                server_url,
            ),
        };
        for url in &candidates {
            checks::require_secure_url("authorization server metadata", url)?;
        }
        let key = self.cache.map(|_| {
            cache::chain_key(
                &format!("asm {server_url} {}", authorization_server.unwrap_or("-")),
                &self.config.protocol_version,
                &candidates,
            )
        });
        let (candidates, mut prefetched, cached) = self.cached_chain(key.as_deref(), candidates);
        if self.config.concurrent_discovery && !cached {
            self.prefetch(
                "authorization server metadata",
                &candidates,
                &mut prefetched,
            );
        }
        for (i, url) in candidates.iter().enumerate() {
            let mut step = self
                .tracer
                .step(Step::AuthorizationServerMetadata)
                .http("GET", url);
            let response = match prefetched[i].take() {
                Some(r) => r?,
                None => self.get_metadata(url)?,
            };
            let status = response.status().as_u16();
            step.status(status);
            match status {
                200 => match OAuthMetadata::from_json(response.body()) {
                    Ok(m) => {
                        // RFC 8414 §3.3: the issuer must be the one the metadata was requested
                        // for. On the 2025-03-26 legacy path no issuer was named: the metadata
                        // URL comes from the MCP server's origin, and servers of that era publish
                        // issuers such as `https://host/oauth`. There the issuer must be on the
                        // server's own origin (it cannot point credentials elsewhere).
                        let check = if authorization_server.is_some() {
                            overrides.check_metadata_issuer(&m, expected_issuer, url)
                        } else if checks::issuers_match(&m.issuer, expected_issuer)
                            || origin_of(&m.issuer).ok().as_deref() == Some(legacy_origin)
                        {
                            Ok(None)
                        } else {
                            overrides.check_metadata_issuer(&m, expected_issuer, url)
                        };
                        match check {
                            Err(e) => {
                                step.failed(e.to_string());
                                return Err(e);
                            }
                            // An accepted mismatch is audited in the trace.
                            Ok(Some(audit)) => step.ok(audit),
                            Ok(None) => step.ok(format!("issuer {}", m.issuer)),
                        }
                        if let (Some(c), Some(k), false) = (self.cache, &key, cached) {
                            c.put(k, url, response.body(), response.headers());
                        }
                        return Ok((Some((m, url.clone())), None));
                    }
                    Err(e) => step.fallback(e.to_string()),
                },
                300..=499 => step.fallback("not served, trying the next candidate"),
                _ => {
                    step.fallback("server error, stopping metadata discovery");
                    return Ok((None, Some(status)));
                }
            }
        }
        Ok((None, None))
    }

    fn get_metadata(&self, url: &str) -> Result<http::Response<Vec<u8>>> {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .header(
                "MCP-Protocol-Version",
                self.config.protocol_version.as_str(),
            )
            .body(Vec::new())
            .map_err(|e| Error::invalid_argument("metadata URL", e.to_string()))?;
        self.http.execute(request)
    }

    /// The candidates to walk and their already-fetched responses: on a cache hit, the one
    /// cached winner with its body as a `200`; otherwise the chain, nothing fetched yet.
    fn cached_chain(
        &self,
        key: Option<&str>,
        candidates: Vec<String>,
    ) -> (Vec<String>, Vec<Fetched>, bool) {
        let hit = match (self.cache, key) {
            (Some(c), Some(k)) => c.get(k),
            _ => None,
        };
        match hit {
            Some(doc) => {
                let response = http::Response::builder()
                    .status(200)
                    .body(doc.body.to_vec())
                    .map_err(|e| Error::invalid_response("cached metadata", e.to_string(), None));
                (vec![doc.url], vec![Some(response)], true)
            }
            None => {
                let n = candidates.len();
                (candidates, (0..n).map(|_| None).collect(), false)
            }
        }
    }

    /// Fetch the (secure) `urls` concurrently, one thread each, into `out` (same order).
    /// Nothing happens for fewer than two candidates.
    fn prefetch(&self, what: &'static str, urls: &[String], out: &mut [Fetched]) {
        let eligible: Vec<usize> = (0..urls.len())
            .filter(|&i| checks::require_secure_url(what, &urls[i]).is_ok())
            .collect();
        if eligible.len() < 2 {
            return;
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = eligible[1..]
                .iter()
                .map(|&i| {
                    let url = urls[i].as_str();
                    (i, s.spawn(move || self.get_metadata(url)))
                })
                .collect();
            out[eligible[0]] = Some(self.get_metadata(&urls[eligible[0]]));
            for (i, h) in handles {
                out[i] = Some(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
        });
    }

    fn select_authorization_server(&self, servers: &[String]) -> Result<String> {
        if let Some(pref) = &self.config.preferred_issuer {
            if let Some(s) = servers.iter().find(|s| checks::issuers_match(s, pref)) {
                return Ok(s.clone());
            }
        }
        servers.first().cloned().ok_or_else(|| Error::Discovery {
            message: "Protected resource metadata lists no authorization server".to_owned(),
            status: None,
        })
    }
}
