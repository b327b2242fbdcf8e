//! How to run each scenario and what to expect: [`Case`] (the network, the client tweaks,
//! the seeded storage, the [`Verdict`]), the helpers that patch a reference recording, and
//! [`case`], the per-scenario table.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mcp_auth::secret::Assertion;
use mcp_auth::storage::{MemoryStorage, TokenStorage};
use mcp_auth::token::{SigningKey, TokenEndpointAuthMethod};
use mcp_auth::{Client, ClientBuilder, Grant, PreRegisteredClient};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair};
use serde_json::{Value, json};

use super::net::*;

// ---------------------------------------------------------------------------------------------
// A case: how to run a scenario and what to expect
// ---------------------------------------------------------------------------------------------

pub(super) enum Verdict {
    /// The reference's recording is the expectation, unchanged.
    Match,
    /// Same requests, same error class; the message is ours.
    MessageDiffers(&'static str),
    /// The expectation is the reference's recording patched to mcp-auth's deliberate behaviour;
    /// docs/differences.md has a row `flows#<name>`.
    Divergence(Box<dyn FnOnce(&mut Value)>),
}

type Tweak = Box<dyn FnOnce(ClientBuilder) -> ClientBuilder>;
type Seed = Box<dyn FnOnce(&Client, &MemoryStorage)>;

pub(super) struct Case {
    pub(super) net: Net,
    pub(super) protocol_version: &'static str,
    pub(super) tweak: Option<Tweak>,
    pub(super) seed: Option<Seed>,
    /// The `state` the callback returns instead of the one sent.
    pub(super) forged_state: Option<&'static str>,
    /// The RFC 9207 `iss` the callback returns.
    pub(super) callback_iss: Option<&'static str>,
    /// Extra headers on the MCP request.
    pub(super) request_headers: Vec<(&'static str, &'static str)>,
    /// Where the expected client registration is stored when it records no issuer.
    pub(super) client_key: &'static str,
    /// The P-256 key of a `private_key_jwt` client (PKCS#8 DER).
    pub(super) jwt_key: Option<Vec<u8>>,
    pub(super) verdict: Verdict,
}

impl Case {
    fn new(net: Net) -> Self {
        Case {
            net,
            protocol_version: REF_PV,
            tweak: None,
            seed: None,
            forged_state: None,
            callback_iss: None,
            request_headers: Vec::new(),
            client_key: AS,
            jwt_key: None,
            verdict: Verdict::Match,
        }
    }

    fn tweak(mut self, f: impl FnOnce(ClientBuilder) -> ClientBuilder + 'static) -> Self {
        self.tweak = Some(Box::new(f));
        self
    }

    fn seed(mut self, f: impl FnOnce(&Client, &MemoryStorage) + 'static) -> Self {
        self.seed = Some(Box::new(f));
        self
    }

    fn pv(mut self, v: &'static str) -> Self {
        self.protocol_version = v;
        self
    }

    fn diverges(mut self, patch: impl FnOnce(&mut Value) + 'static) -> Self {
        self.verdict = Verdict::Divergence(Box::new(patch));
        self
    }

    fn message(mut self, m: &'static str) -> Self {
        self.verdict = Verdict::MessageDiffers(m);
        self
    }
}

// --- Patch helpers (on a scenario in the vector format).

fn reqs(v: &mut Value) -> &mut Vec<Value> {
    v["requests"].as_array_mut().unwrap()
}

/// The flow ends with `error` after the first `n` requests, storing nothing.
fn fail_after(v: &mut Value, n: usize, error: &str) {
    reqs(v).truncate(n);
    let o = v.as_object_mut().unwrap();
    o.remove("final_status");
    o.remove("authorize");
    o.insert("error".into(), json!(error));
    o.insert("stored_tokens".into(), Value::Null);
    o.insert("stored_client".into(), Value::Null);
}

fn set_pv(v: &mut Value, pv: &str) {
    for r in reqs(v) {
        if r.get("mcp-protocol-version").is_some() {
            r["mcp-protocol-version"] = json!(pv);
        }
    }
}

fn get(url: &str) -> Value {
    json!({"method": "GET", "url": url, "mcp-protocol-version": REF_PV})
}

/// The token request of `v` (the first POST to a `/token` URL).
fn token_request(v: &mut Value) -> &mut Value {
    reqs(v)
        .iter_mut()
        .find(|r| r["url"].as_str().unwrap().ends_with("/token"))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

pub(super) fn case(name: &str) -> Case {
    match name {
        "happy_path_www_auth_prm_oauth_root_dcr_post" => Case::new(standard().route(
            "POST",
            SERVER,
            mcp(
                &["at-1"],
                401,
                Some(format!(r#"Bearer resource_metadata="{PRM_PATH}""#)),
            ),
        )),

        "prm_root_only_asm_oidc_root_only" => Case::new(
            standard()
                .without("GET", PRM_PATH)
                .get_json(PRM_ROOT, prm(SERVER, &[AS], Some(FILES)))
                .without("GET", ASM_OAUTH)
                .get_json(ASM_OIDC, asm(AS, AS)),
        ),

        "as_with_path_asm_only_at_oidc_path_appended" => {
            let issuer = "https://auth.example.com/tenant1";
            Case::new(
                standard()
                    .get_json(PRM_PATH, prm(SERVER, &[issuer], Some(FILES)))
                    .without("GET", ASM_OAUTH)
                    .get_json(
                        "https://auth.example.com/tenant1/.well-known/openid-configuration",
                        asm(issuer, AS),
                    ),
            )
        }

        // No PRM: the MCP 2025-03-26 path. The reference decides whether to send `resource`
        // from the MCP request's own `mcp-protocol-version` (none here) and always sends its
        // latest version on metadata requests; mcp-auth has one configured protocol version
        // for both, so the client speaks 2025-03-26 here.
        "legacy_no_prm_asm_at_server_root" => Case::new(
            legacy()
                .get_json(API_ASM, asm(API, API))
                .post_json(&format!("{API}/register"), 201, dcr_post()),
        )
            .pv("2025-03-26")
            .diverges(|v| set_pv(v, "2025-03-26")),

        "legacy_no_prm_no_asm_default_endpoints" => Case::new(legacy())
            .pv("2025-03-26")
            .diverges(|v| {
                set_pv(v, "2025-03-26");
                v["stored_client"]["issuer"] = json!(API);
            }),

        "legacy_no_prm_protocol_header_2025_06_18_adds_resource" => {
            let mut c = Case::new(legacy()).pv("2025-06-18").diverges(|v| {
                set_pv(v, "2025-06-18");
                v["stored_client"]["issuer"] = json!(API);
            });
            c.request_headers = vec![("mcp-protocol-version", "2025-06-18")];
            c
        }

        "prm_resource_mismatch_aborts" => Case::new(standard().get_json(
            PRM_PATH,
            prm("https://api.example.com/other", &[AS], Some(FILES)),
        )),

        "prm_resource_parent_accepted_and_used_as_resource" => Case::new(
            standard().get_json(PRM_PATH, prm("https://api.example.com/", &[AS], Some(FILES))),
        ),

        // The MCP URL is requested as https://api.example.com/mcp on the wire either way.
        "server_url_explicit_default_port_vs_prm" => Case::new(standard()),

        "asm_issuer_mismatch_aborts" => {
            Case::new(standard().get_json(ASM_OAUTH, asm("https://evil.example.com", AS)))
        }

        "asm_issuer_root_slash_on_prm_path" => {
            Case::new(standard().get_json(ASM_OAUTH, asm("https://auth.example.com/", AS)))
        }

        "prm_5xx_everywhere_aborts" => Case::new(standard().get_status(PRM_PATH, 503)),

        // The reference then registers at, authorizes at and sends the code to the resource
        // server's origin; those routes exist here too.
        "asm_5xx_stops_discovery_uses_server_origin_defaults" => Case::new(
            standard()
                .get_status(ASM_OAUTH, 500)
                .post_json(
                    &format!("{API}/register"),
                    201,
                    dcr_client("fallback", None, Some("none")),
                )
                .route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
        )
        .diverges(|v| {
            fail_after(
                v,
                3,
                "OAuthFlowError: Authorization server metadata request failed: HTTP 500 from https://auth.example.com",
            )
        }),

        "cimd_used_when_as_supports" => {
            let mut m = asm(AS, AS);
            m["client_id_metadata_document_supported"] = json!(true);
            Case::new(standard().get_json(ASM_OAUTH, m))
                .tweak(|b| b.client_metadata_url(CIMD_URL))
                // A CIMD client id needs no registration record: nothing is stored.
                .diverges(|v| v["stored_client"] = Value::Null)
        }

        "cimd_configured_but_not_supported_uses_dcr" => {
            Case::new(standard()).tweak(|b| b.client_metadata_url(CIMD_URL))
        }

        "offline_access_appended_and_prompt_consent" => {
            let mut m = asm(AS, AS);
            m["scopes_supported"] = json!(["files:read", "files:write", "offline_access"]);
            // No prompt=consent for an OAuth (non-OpenID) request: OIDC Core §11 governs
            // OpenID Connect requests (docs/providers.md, docs/differences.md).
            Case::new(standard().get_json(ASM_OAUTH, m)).diverges(|v| {
                let a = &mut v["authorize"];
                a["params"].as_object_mut().unwrap().remove("prompt");
                a["param_order"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|p| p != "prompt");
            })
        }

        "www_auth_scope_wins_over_prm" => Case::new(standard().route(
            "POST",
            SERVER,
            mcp(
                &["at-1"],
                401,
                Some(format!(
                    r#"Bearer resource_metadata="{PRM_PATH}", scope="mcp:tools""#
                )),
            ),
        )),

        "dcr_client_secret_basic" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("id@x", Some("s:e/c r"), Some("client_secret_basic")),
        )),

        "dcr_secret_method_without_secret_rejected" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("cid-123", None, Some("client_secret_basic")),
        )),

        "dcr_private_key_jwt_rejected" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("cid-123", None, Some("private_key_jwt")),
        )),

        // RFC 7591 §2: an omitted token_endpoint_auth_method means client_secret_basic.
        "dcr_no_auth_method_with_secret_sends_no_secret" => Case::new(standard().post_json(
            &format!("{AS}/register"),
            201,
            dcr_client("x", Some("y"), None),
        ))
        .diverges(|v| token_request(v)["authorization"] = json!("Basic eDp5")),

        "token_error_400" => Case::new(standard().post_json(
            &format!("{AS}/token"),
            400,
            json!({"error": "invalid_grant"}),
        ))
        .message("OAuthTokenError: Token request failed (400): invalid_grant"),

        // The reference's message carries the expected state (a CSRF secret) into an exception
        // it logs; ours does not.
        "state_mismatch" => {
            let mut c = Case::new(standard()).diverges(|v| {
                v["error"] = json!(
                    "OAuthFlowError: state parameter mismatch: the authorization response does not belong to this request (RFC 6749 §10.12)"
                )
            });
            c.forged_state = Some("forged");
            c
        }

        "iss_mismatch" => {
            let mut c = Case::new(standard());
            c.callback_iss = Some("https://evil.example.com");
            c
        }

        "iss_required_but_missing" => {
            let mut m = asm(AS, AS);
            m["authorization_response_iss_parameter_supported"] = json!(true);
            Case::new(standard().get_json(ASM_OAUTH, m))
        }

        "step_up_403_insufficient_scope_with_stored_state" => Case::new(standard().route(
            "POST",
            SERVER,
            mcp(
                &["at-1"],
                403,
                Some(r#"Bearer error="insufficient_scope", scope="files:write""#.into()),
            ),
        ))
        .seed(|c, s| {
            s.set_tokens(
                c.resource_key(),
                &token(json!({"access_token": "old", "token_type": "Bearer", "scope": "files:read"})),
            )
            .unwrap();
            let mut info = client_info(dcr_post());
            info.issuer = Some(AS.into());
            s.set_client_info(AS, &info).unwrap();
        }),

        "plain_403_returned" => Case::new(standard().route("POST", SERVER, |_| status(403))).seed(
            |c, s| {
                s.set_tokens(
                    c.resource_key(),
                    &token(json!({"access_token": "old", "token_type": "Bearer"})),
                )
                .unwrap()
            },
        ),

        // The old registration is where mcp-auth keys it (its issuer) and also under the new
        // issuer (as the reference's single-slot storage returns it), so the SEP-2352 binding
        // check itself is exercised.
        "issuer_bound_credentials_discarded_on_as_change" => Case::new(standard()).seed(|c, s| {
            s.set_tokens(
                c.resource_key(),
                &token(json!({"access_token": "old", "token_type": "Bearer"})),
            )
            .unwrap();
            let old = "https://old-as.example.com";
            let mut info = client_info(dcr_client("old-cid", Some("old-sec"), Some("client_secret_post")));
            info.issuer = Some(old.into());
            s.set_client_info(old, &info).unwrap();
            s.set_client_info(AS, &info).unwrap();
        }),

        // mcp-auth refreshes at the discovered token endpoint (with RFC 8707 `resource`), not
        // at `{resource server origin}/token`, so it discovers first.
        "refresh_when_expired" => Case::new(
            standard()
                .route("POST", SERVER, mcp(&["at-2"], 401, Some("Bearer".into())))
                .route(
                    "POST",
                    &format!("{AS}/token"),
                    token_endpoint(|rt| {
                        assert_eq!(rt, "rt-0");
                        json_reply(
                            200,
                            json!({"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600}),
                        )
                    }),
                )
                .route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
        )
        .seed(|c, s| {
            s.set_tokens(c.resource_key(), &expired_token("at-0", "rt-0", "files:read", 3600))
                .unwrap();
            s.set_client_info(AS, &client_info(dcr_post())).unwrap();
        })
        .diverges(|v| {
            let refresh = json!({
                "method": "POST", "url": format!("{AS}/token"),
                "form": {"grant_type": "refresh_token", "refresh_token": "rt-0",
                         "resource": SERVER, "client_id": "cid-123", "client_secret": "sec-456"},
            });
            let retry = reqs(v)[1].clone();
            *reqs(v) = vec![get(PRM_PATH), get(ASM_OAUTH), refresh, retry];
        }),

        "refresh_fails_then_full_flow" => Case::new(
            standard().route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
        )
        .seed(|c, s| {
            s.set_tokens(c.resource_key(), &expired_token("at-0", "rt-0", "files:read", 3600))
                .unwrap();
            s.set_client_info(AS, &client_info(dcr_client("cid-123", None, Some("none"))))
                .unwrap();
        })
        .diverges(|v| {
            let refresh = json!({
                "method": "POST", "url": format!("{AS}/token"),
                "form": {"grant_type": "refresh_token", "refresh_token": "rt-0",
                         "resource": SERVER, "client_id": "cid-123"},
            });
            let mut r = vec![get(PRM_PATH), get(ASM_OAUTH), refresh];
            r.extend(reqs(v)[1..].iter().cloned());
            *reqs(v) = r;
        }),

        // mcp-auth persists the expiry, so after a restart the expired token is refreshed
        // before it is sent, instead of a 401 and a new interactive authorization.
        "restart_with_stored_expired_token_does_not_refresh" => Case::new(standard().route(
            "POST",
            &format!("{AS}/token"),
            token_endpoint(|rt| {
                assert_eq!(rt, "rt-0");
                json_reply(
                    200,
                    json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1"}),
                )
            }),
        ))
        .seed(|c, s| {
            s.set_tokens(
                c.resource_key(),
                &expired_token("stale", "rt-0", "files:read files:write", 1),
            )
            .unwrap();
            let mut info = client_info(dcr_client("cid-123", None, Some("none")));
            info.issuer = Some(AS.into());
            s.set_client_info(AS, &info).unwrap();
        })
        .diverges(|v| {
            let refresh = json!({
                "method": "POST", "url": format!("{AS}/token"),
                "form": {"grant_type": "refresh_token", "refresh_token": "rt-0",
                         "resource": SERVER, "client_id": "cid-123"},
            });
            let retry = reqs(v)[4].clone();
            *reqs(v) = vec![get(PRM_PATH), get(ASM_OAUTH), refresh, retry];
            v.as_object_mut().unwrap().remove("authorize");
        }),

        // A rejected fresh token is refreshed and retried until `max_authorizations` (3) token
        // acquisitions, then the request fails with `Unauthorized`.
        "second_401_after_flow_is_returned" => Case::new(
            standard()
                .route("POST", SERVER, mcp(&[], 401, Some("Bearer".into())))
                .route("POST", &format!("{AS}/token"), token_endpoint(rotating_refresh)),
        )
        .diverges(|v| {
            let refresh = |n: u32| {
                json!({
                    "method": "POST", "url": format!("{AS}/token"),
                    "form": {"grant_type": "refresh_token", "refresh_token": format!("rt-{n}"),
                             "resource": SERVER, "client_id": "cid-123", "client_secret": "sec-456"},
                })
            };
            let retry = |n: u32| json!({"method": "POST", "url": SERVER, "authorization": format!("Bearer at-{n}")});
            reqs(v).extend([refresh(1), retry(2), refresh(2), retry(3)]);
            let o = v.as_object_mut().unwrap();
            o.remove("final_status");
            o.insert(
                "error".into(),
                json!("OAuthFlowError: https://api.example.com/mcp still answers 401 after 3 authorization(s)"),
            );
            o["stored_tokens"]["access_token"] = json!("at-3");
            o["stored_tokens"]["refresh_token"] = json!("rt-3");
        }),

        // OAuth requests never follow redirects: the 307 counts as "not served", the root
        // well-known has nothing, so no PRM: the 2025-03-26 legacy path, whose defaults this
        // server does not serve.
        "prm_same_origin_redirect_followed" => Case::new(
            standard()
                .route("GET", PRM_PATH, |_| Reply {
                    status: 307,
                    headers: vec![("Location".into(), format!("{API}/prm.json"))],
                    body: Vec::new(),
                })
                .get_json(&format!("{API}/prm.json"), prm(SERVER, &[AS], Some(FILES))),
        )
        .diverges(|v| {
            let register = json!({
                "method": "POST", "url": format!("{API}/register"),
                "json": {"response_types": ["code"], "client_name": "bench",
                         "redirect_uris": [REDIRECT],
                         "grant_types": ["authorization_code", "refresh_token"],
                         "application_type": "native"},
            });
            let first = reqs(v)[..2].to_vec();
            fail_after(v, 0, "OAuthRegistrationError: Registration failed: 404 ");
            reqs(v).extend(first);
            reqs(v).extend([get(PRM_ROOT), get(API_ASM), register]);
        }),

        // `response_types_supported: null` is tolerated (README `OAuthMetadata_parse#16`): the
        // metadata is used, so the flow stays with auth.example.com.
        "asm_null_response_types_supported_rejected" => {
            let mut m = asm(AS, AS);
            m["response_types_supported"] = Value::Null;
            let fb = dcr_client("fb", None, Some("none"));
            Case::new(
                standard()
                    .get_json(ASM_OAUTH, m)
                    .post_json(&format!("{AS}/register"), 201, fb.clone())
                    .post_json(&format!("{API}/register"), 201, fb)
                    .route("POST", &format!("{API}/token"), token_endpoint(invalid_grant)),
            )
            .diverges(|v| {
                reqs(v).remove(3); // no OIDC request
                reqs(v)[3]["url"] = json!(format!("{AS}/register"));
                reqs(v)[4]["url"] = json!(format!("{AS}/token"));
                v["authorize"]["endpoint"] = json!(format!("{AS}/authorize"));
                v["stored_client"]["issuer"] = json!(AS);
            })
        }

        // --- Extension scenarios (machine to machine).
        //
        // The reference provider was built with scope="a b" (reference §5 quirk 11) and sends
        // no scope; mcp-auth requests its configured scope when neither the challenge nor the
        // metadata names one. With client_secret_basic, mcp-auth also names the client in the
        // body (RFC 6749 §3.2.1), as both clients do for the code grant.
        "client_credentials_basic_issuer_configured" => Case::new(m2m())
            .tweak(|b| {
                let mut pre = PreRegisteredClient::with_secret(
                    "cid",
                    "c sec",
                    TokenEndpointAuthMethod::ClientSecretBasic,
                );
                pre.issuer = Some(AS.into());
                b.grant(Grant::ClientCredentials)
                    .pre_registered(pre)
                    .scope("a b")
                    .config(|c| c.preferred_issuer = Some(AS.into()))
            })
            .diverges(|v| {
                let form = &mut token_request(v)["form"];
                form["client_id"] = json!("cid");
                form["scope"] = json!("a b");
            }),

        "client_credentials_post_with_protocol_header" => {
            let mut c = Case::new(m2m()).tweak(|b| {
                b.grant(Grant::ClientCredentials)
                    .pre_registered(PreRegisteredClient::with_secret(
                        "cid",
                        "csec",
                        TokenEndpointAuthMethod::ClientSecretPost,
                    ))
            });
            c.request_headers = vec![("mcp-protocol-version", "2025-06-18")];
            c
        }

        "client_credentials_issuer_mismatch" => Case::new(m2m())
            .tweak(|b| {
                let mut pre = PreRegisteredClient::with_secret(
                    "cid",
                    "csec",
                    TokenEndpointAuthMethod::ClientSecretBasic,
                );
                pre.issuer = Some("https://other.example.com".into());
                b.grant(Grant::ClientCredentials)
                    .pre_registered(pre)
                    .config(|c| c.preferred_issuer = Some("https://other.example.com".into()))
            })
            .message(
                "OAuthFlowError: Pre-registered client cid belongs to issuer https://other.example.com, not https://auth.example.com",
            ),

        "client_credentials_no_issuer_no_metadata_falls_back_to_server_origin_token" => Case::new(
            Net::default()
                .route("POST", SERVER, mcp(&["m2m"], 401, Some("Bearer".into())))
                .route("POST", &format!("{API}/token"), m2m_token),
        )
        .pv("2025-03-26")
        .tweak(|b| {
            b.grant(Grant::ClientCredentials)
                .pre_registered(PreRegisteredClient::with_secret(
                    "cid",
                    "csec",
                    TokenEndpointAuthMethod::ClientSecretBasic,
                ))
        })
        .diverges(|v| token_request(v)["form"]["client_id"] = json!("cid")),

        "private_key_jwt" => {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .unwrap()
            .as_ref()
            .to_vec();
            let pem = format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                STANDARD.encode(&pkcs8)
            );
            let mut c = Case::new(m2m()).tweak(move |b| {
                let key = SigningKey::from_pem(&pem, None).unwrap();
                b.grant(Grant::ClientCredentials)
                    .pre_registered(PreRegisteredClient::with_private_key("cid", key))
            });
            c.jwt_key = Some(pkcs8);
            c
        }

        // SEP-990 leg 2: the reference's IdentityAssertionOAuthProvider takes the authorization
        // server from its configuration and never reads PRM; its stub assertion provider
        // returned `idjag:<audience>:<resource>`, which is the configured assertion here.
        // mcp-auth discovers the authorization server through PRM, as for every grant.
        "identity_assertion_post" => Case::new(m2m())
            .tweak(|b| jwt_bearer(b, TokenEndpointAuthMethod::ClientSecretPost))
            .diverges(|v| {
                reqs(v).insert(1, json!({"method": "GET", "url": PRM_PATH}));
            }),

        "identity_assertion_403_step_up_basic" => Case::new(m2m().route(
            "POST",
            SERVER,
            mcp(
                &["m2m"],
                403,
                Some(r#"Bearer error="insufficient_scope", scope="mcp:admin""#.into()),
            ),
        ))
        .tweak(|b| jwt_bearer(b, TokenEndpointAuthMethod::ClientSecretBasic))
        .diverges(|v| {
            reqs(v).insert(1, json!({"method": "GET", "url": PRM_PATH}));
        }),

        other => panic!("no case for {other}"),
    }
}

/// The identity-assertion client: `cid` / `csec` at `auth.example.com`, scope `mcp`, the ID-JAG
/// `idjag:<audience>:<resource>`.
fn jwt_bearer(b: ClientBuilder, method: TokenEndpointAuthMethod) -> ClientBuilder {
    let mut pre = PreRegisteredClient::with_secret("cid", "csec", method);
    pre.issuer = Some(AS.into());
    b.grant(Grant::JwtBearer)
        .pre_registered(pre)
        .scope("mcp")
        .config(|c| {
            c.preferred_issuer = Some(AS.into());
            c.assertion = Some(Assertion::new(format!("idjag:{AS}:{SERVER}")));
        })
}
