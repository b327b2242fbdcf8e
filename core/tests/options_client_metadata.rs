//! `client_metadata` in the options JSON (issue 13 item 5): a full RFC 7591 client metadata
//! object laid over what the client registers by default, checked from what the demo server
//! received at registration; and options given where they have no effect are errors.

mod common;

use common::*;
use mcp_auth::{ClientOptions, ErrorKind};
use mcp_auth_demo_server::DemoConfig;
use serde_json::{Value, json};

fn options(h: &Harness, extra: Value) -> ClientOptions {
    let mut o = json!({
        "server_url": h.server.mcp_url(),
        "timeout_ms": 10000,
        "redirect": {"type": "headless"},
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    ClientOptions::from_json(&o.to_string()).unwrap()
}

#[test]
fn client_metadata_members_reach_the_registration_and_win_over_defaults() {
    let h = Harness::start(DemoConfig::default());
    let o = options(
        &h,
        json!({"client_metadata": {
            "client_name": "metadata host",
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "mcp:read",
            "client_uri": "https://host.example",
            "logo_uri": "https://host.example/logo.png",
            "tos_uri": "https://host.example/tos",
            "policy_uri": "https://host.example/policy",
            "contacts": ["ops@host.example"],
            "software_id": "interop-host",
            "software_version": "1.2.3",
            "x_extension": {"kept": true}
        }}),
    );
    let c = o.builder().unwrap().build().unwrap();
    initialize(&c).unwrap_or_else(|e| panic!("{e}\n{:?}", h.lines()));

    let reg = h.only("/register").json().unwrap();
    assert_eq!(reg["client_name"], "metadata host");
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_post");
    // The explicit scope wins over the selected one (the PRM's `mcp:read mcp:write`).
    assert_eq!(reg["scope"], "mcp:read");
    assert_eq!(reg["client_uri"], "https://host.example");
    assert_eq!(reg["logo_uri"], "https://host.example/logo.png");
    assert_eq!(reg["tos_uri"], "https://host.example/tos");
    assert_eq!(reg["policy_uri"], "https://host.example/policy");
    assert_eq!(reg["contacts"], json!(["ops@host.example"]));
    assert_eq!(reg["software_id"], "interop-host");
    assert_eq!(reg["software_version"], "1.2.3");
    assert_eq!(reg["x_extension"], json!({"kept": true}));
    // Members not given keep the computed defaults.
    assert_eq!(
        reg["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(reg["response_types"], json!(["code"]));
    assert_eq!(reg["application_type"], "native");
    assert_eq!(
        reg["redirect_uris"],
        json!([mcp_auth::authorization::DEFAULT_REDIRECT_URI])
    );
    // The registered method is the one used at the token endpoint: the secret in the form.
    let token = h.only("/token");
    assert!(
        token.form_value("client_secret").is_some(),
        "{:?}",
        h.lines()
    );
    assert!(token.header("authorization").is_none());
}

#[test]
fn explicit_grant_types_are_kept_and_the_handler_redirect_uri_comes_first() {
    let h = Harness::start(DemoConfig::default());
    let o = options(
        &h,
        json!({
            "client_metadata": {
                "grant_types": ["authorization_code"],
                "redirect_uris": ["http://127.0.0.1:9/other"]
            },
            "redirect": {"type": "callback", "redirect_uri": "http://127.0.0.1:1/cb"}
        }),
    );
    let c = o.builder().unwrap().build().unwrap();
    let md = &c.config().client_metadata;
    assert_eq!(md.grant_types, ["authorization_code"]);
    assert_eq!(
        md.redirect_uris.as_deref().unwrap(),
        ["http://127.0.0.1:1/cb", "http://127.0.0.1:9/other"]
    );
}

fn usage_error(extra: Value) -> mcp_auth::Error {
    let mut o = json!({"server_url": "http://127.0.0.1:1/mcp"});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    let opts = ClientOptions::from_json(&o.to_string()).unwrap();
    match opts.builder() {
        Err(e) => e,
        Ok(_) => panic!("{o} was accepted"),
    }
}

#[test]
fn options_without_effect_are_usage_errors_naming_the_way() {
    let e = usage_error(json!({"token_endpoint_auth_method": "client_secret_post"}));
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.to_string()
            .contains("client_metadata.token_endpoint_auth_method"),
        "{e}"
    );
    for (extra, named) in [
        (
            json!({"client_issuer": "https://as.example"}),
            "client_issuer",
        ),
        (json!({"signing_algorithm": "ES256"}), "signing_algorithm"),
        (
            json!({"client_id": "pre", "client_metadata": {"scope": "a"}}),
            "client_metadata",
        ),
        (
            json!({"client_name": "a", "client_metadata": {"client_name": "b"}}),
            "client_name",
        ),
        (
            json!({"redirect_uris": ["http://127.0.0.1:2/cb"], "client_metadata": {"redirect_uris": ["http://127.0.0.1:3/cb"]}}),
            "redirect_uris",
        ),
        (json!({"idp_client_secret": "s"}), "idp_client_secret"),
        (
            json!({"client_metadata": {"client_id": "x"}}),
            "client_id is not client metadata",
        ),
        (
            json!({"client_metadata": {"token_endpoint_auth_method": "magic"}}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"client_metadata": {"logo_uri": "ftp://x/logo"}}),
            "logo_uri",
        ),
    ] {
        let e = usage_error(extra.clone());
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{extra}: {e}");
        assert!(e.to_string().contains(named), "{extra}: {e}");
    }
}
