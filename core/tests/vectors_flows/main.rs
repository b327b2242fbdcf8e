//! The end-to-end flow vectors of the Python reference (`flows` in
//! `tests/vectors/python-sdk-2.3.0.json`: 34 scenarios and 7 extension scenarios recorded from
//! `mcp` 2.3.0's `OAuthClientProvider` and its machine-to-machine subclasses), replayed against
//! [`mcp_auth::Client`].
//!
//! Each scenario gets an in-process network reconstructed from its description and recorded
//! data: a route table (method + URL → status, headers, body; unlisted routes answer 404, as in
//! the reference harness), a redirect handler that echoes `state` with code `the-code` (or the
//! scenario's forged state / `iss`), and a client configured like the reference run
//! (`client_name` `bench`, redirect URI `http://localhost:3030/callback`). The test then sends
//! `POST server_url` and compares, against the expectation in the vector's own format:
//!
//! - the exact request sequence (method + URL);
//! - per request: `Authorization` (exactly, absent included), `mcp-protocol-version` where
//!   recorded, the registration JSON body, the token form (as a set: form field order carries
//!   no meaning), with `<code_verifier>` checked structurally (it must hash to the
//!   `code_challenge` that was sent);
//! - the authorization URL: endpoint, parameter names in order, values (`<state>` must be the
//!   state the flow then accepted, `<S256(code_verifier)>` a 43-character S256 challenge);
//! - the final status, or the error: its class via [`mcp_auth::ErrorKind::reference_name`] and its exact
//!   message;
//! - the tokens and client registration left in storage.
//!
//! A scenario is a [`Verdict::Match`] (the reference's recording is the expectation, unchanged),
//! a [`Verdict::MessageDiffers`] (same requests and error class, our message), or a
//! [`Verdict::Divergence`]: the expectation is the reference's recording patched to what
//! mcp-auth deliberately does instead, and docs/differences.md must carry a row `flows#<name>` saying
//! why. Scenarios this library does not implement are listed in [`NOT_YET_IMPLEMENTED`].
//! Every scenario name in the vector file must be covered by one of these.
//!
//! The test target is split by topic: this file has the scenario table, the coverage test and
//! the runner; `net.rs` the reconstructed network and servers; `cases.rs` the per-scenario
//! [`case`] table; `compare.rs` the comparison of a run with its expectation.

mod cases;
mod compare;
mod net;

use std::sync::{Arc, Mutex};

use mcp_auth::Client;
use mcp_auth::authorization::CallbackRedirect;
use serde_json::{Value, json};

use cases::{Verdict, case};
use compare::compare;
use net::{REDIRECT, SERVER, Seen, Store, http_client};

// ---------------------------------------------------------------------------------------------
// The scenario table
// ---------------------------------------------------------------------------------------------

/// Reference scenarios mcp-auth does not implement yet, with the reason: asserted nowhere,
/// listed here so that nothing is skipped silently. Empty: the SEP-990 identity-assertion
/// scenarios run with [`mcp_auth::Grant::JwtBearer`].
const NOT_YET_IMPLEMENTED: &[(&str, &str)] = &[];

/// `#[test]` per scenario, plus [`TESTED`], the list the coverage test checks.
macro_rules! scenarios {
    ($($(#[$m:meta])* $name:ident,)*) => {
        const TESTED: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            $(#[$m])*
            fn $name() {
                check(stringify!($name));
            }
        )*
    };
}

scenarios! {
    happy_path_www_auth_prm_oauth_root_dcr_post,
    prm_root_only_asm_oidc_root_only,
    as_with_path_asm_only_at_oidc_path_appended,
    legacy_no_prm_asm_at_server_root,
    legacy_no_prm_no_asm_default_endpoints,
    legacy_no_prm_protocol_header_2025_06_18_adds_resource,
    prm_resource_mismatch_aborts,
    prm_resource_parent_accepted_and_used_as_resource,
    server_url_explicit_default_port_vs_prm,
    asm_issuer_mismatch_aborts,
    asm_issuer_root_slash_on_prm_path,
    prm_5xx_everywhere_aborts,
    asm_5xx_stops_discovery_uses_server_origin_defaults,
    cimd_used_when_as_supports,
    cimd_configured_but_not_supported_uses_dcr,
    offline_access_appended_and_prompt_consent,
    www_auth_scope_wins_over_prm,
    dcr_client_secret_basic,
    dcr_secret_method_without_secret_rejected,
    dcr_private_key_jwt_rejected,
    dcr_no_auth_method_with_secret_sends_no_secret,
    token_error_400,
    state_mismatch,
    iss_mismatch,
    iss_required_but_missing,
    step_up_403_insufficient_scope_with_stored_state,
    plain_403_returned,
    issuer_bound_credentials_discarded_on_as_change,
    refresh_when_expired,
    refresh_fails_then_full_flow,
    restart_with_stored_expired_token_does_not_refresh,
    second_401_after_flow_is_returned,
    prm_same_origin_redirect_followed,
    asm_null_response_types_supported_rejected,
    client_credentials_basic_issuer_configured,
    client_credentials_post_with_protocol_header,
    client_credentials_issuer_mismatch,
    client_credentials_no_issuer_no_metadata_falls_back_to_server_origin_token,
    private_key_jwt,
    identity_assertion_post,
    identity_assertion_403_step_up_basic,
}

#[test]
fn every_reference_scenario_is_covered() {
    let v = vectors();
    let flows = &v["flows"];
    let mut names: Vec<String> = Vec::new();
    for section in ["scenarios", "extension_scenarios"] {
        for s in flows[section].as_array().unwrap() {
            names.push(s["name"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        flows["scenarios"].as_array().unwrap().len(),
        34,
        "34 scenarios"
    );
    assert_eq!(
        flows["extension_scenarios"].as_array().unwrap().len(),
        7,
        "7 extension scenarios"
    );
    for name in &names {
        let tested = TESTED.contains(&name.as_str());
        let nyi = NOT_YET_IMPLEMENTED.iter().any(|(n, _)| n == name);
        assert!(
            tested ^ nyi,
            "{name}: must be either tested or listed as not yet implemented (tested: {tested}, not implemented: {nyi})"
        );
    }
    for name in TESTED
        .iter()
        .chain(NOT_YET_IMPLEMENTED.iter().map(|(n, _)| n))
    {
        assert!(
            names.iter().any(|n| n == name),
            "{name} is not a reference scenario"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Running and comparing
// ---------------------------------------------------------------------------------------------

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/python-sdk-2.3.0.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn scenario(name: &str) -> Value {
    let v = vectors();
    for section in ["scenarios", "extension_scenarios"] {
        if let Some(s) = v["flows"][section]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
        {
            return s.clone();
        }
    }
    panic!("{name} is not a reference scenario")
}

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/differences.md"
    ))
    .unwrap()
}

struct Observed {
    result: mcp_auth::Result<mcp_auth::client::Response>,
    seen: Vec<Seen>,
    authorize_urls: Vec<String>,
    /// The states the callback answered with (echoed or forged).
    states_sent: Vec<String>,
    store: Arc<Store>,
    client: Client,
}

fn check(name: &str) {
    let reference = scenario(name);
    let case = case(name);
    let mut expected = reference.clone();
    let divergence = matches!(case.verdict, Verdict::Divergence(_));
    match case.verdict {
        Verdict::Match => {}
        Verdict::MessageDiffers(m) => {
            let theirs = reference["error"].as_str().expect("an error scenario");
            let class = theirs.split(':').next().unwrap();
            assert!(m.starts_with(&format!("{class}: ")), "{name}: same class");
            assert_ne!(m, theirs, "{name}: the message does differ");
            expected["error"] = json!(m);
        }
        Verdict::Divergence(patch) => {
            patch(&mut expected);
            assert_ne!(
                expected, reference,
                "{name}: the patch changes the expectation"
            );
        }
    }
    let server_url = reference["server_url"]
        .as_str()
        .unwrap_or(SERVER)
        .to_owned();

    let log = Arc::new(Mutex::new(Vec::new()));
    let authorize_urls = Arc::new(Mutex::new(Vec::new()));
    let states_sent = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::new(Store::default());
    let callback = {
        let urls = authorize_urls.clone();
        let states = states_sent.clone();
        let forged = case.forged_state;
        let iss = case.callback_iss;
        move |url: &str| -> mcp_auth::Result<String> {
            urls.lock().unwrap().push(url.to_owned());
            let u = url::Url::parse(url).unwrap();
            let sent = u
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let state = forged.map_or(sent, str::to_owned);
            states.lock().unwrap().push(state.clone());
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("code", "the-code")
                .append_pair("state", &state);
            if let Some(iss) = iss {
                q.append_pair("iss", iss);
            }
            Ok(format!("{REDIRECT}?{}", q.finish()))
        }
    };
    let pv = case.protocol_version;
    let mut builder = Client::builder(&server_url)
        .client_name("bench")
        .http_client(http_client(case.net, log.clone()))
        .storage(store.clone())
        .redirect_handler(Arc::new(CallbackRedirect::new(
            Some(REDIRECT.to_owned()),
            callback,
        )))
        .config(move |c| c.protocol_version = pv.to_owned());
    if let Some(t) = case.tweak {
        builder = t(builder);
    }
    let client = builder.build().unwrap();
    if let Some(seed) = case.seed {
        seed(&client, &store.inner);
    }
    let mut request = http::Request::post(server_url.as_str())
        .header("Content-Type", "application/json")
        .header("Accept", mcp_auth::client::MCP_ACCEPT);
    for (k, v) in &case.request_headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#.to_vec())
        .unwrap();
    let result = client.send(request);
    let observed = Observed {
        result,
        seen: log.lock().unwrap().clone(),
        authorize_urls: authorize_urls.lock().unwrap().clone(),
        states_sent: states_sent.lock().unwrap().clone(),
        store,
        client,
    };
    compare(
        name,
        &expected,
        &observed,
        case.client_key,
        case.jwt_key.as_deref(),
    );
    if divergence {
        assert!(
            readme().contains(&format!("flows#{name}")),
            "{name}: a divergence needs a row with id flows#{name} in docs/differences.md"
        );
    }
}
