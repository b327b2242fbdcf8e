//! Property tests of the bridge: no input panics it, what it writes is always a valid field
//! (RFC 9110 §5.5, so no response splitting), the expose list always names the three MCP
//! headers once, and the `resource_metadata` rewrite (RFC 9728 §5.1) changes nothing but
//! those values as the challenge parser (RFC 9110 §11.6.1) reads them.

use mcp_auth::challenge::{Challenge, parse_www_authenticate};
use mcp_auth_bridge::{
    BridgeOptions, CorsPolicy, EXPOSED_HEADERS, bridge_response, merge_expose_headers, preflight,
    rewrite_resource_metadata, upstream_request_headers,
};
use proptest::prelude::*;

const URL: &str = "https://proxy.example/prm";

/// Header-ish text built from the pieces that matter to the lexer.
fn challengeish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Bearer".to_owned()),
        Just("DPoP".to_owned()),
        Just("Basic".to_owned()),
        Just("resource_metadata".to_owned()),
        Just("Resource_Metadata".to_owned()),
        Just("scope".to_owned()),
        Just("error".to_owned()),
        Just("=".to_owned()),
        Just("==".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("http://up/x".to_owned()),
        Just("\"http://up/q\"".to_owned()),
        Just("abc".to_owned()),
        Just("é".to_owned()),
        "[ -~]{0,3}".prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// The challenges of `s` with every `resource_metadata` value replaced by `url`.
fn expected(s: &str, url: &str) -> Vec<Challenge> {
    let mut c = parse_www_authenticate(s);
    for ch in &mut c {
        for (name, value) in &mut ch.params {
            if name == "resource_metadata" {
                *value = url.to_owned();
            }
        }
    }
    c
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        Just("WWW-Authenticate".to_owned()),
        Just("www-authenticate".to_owned()),
        Just("Access-Control-Expose-Headers".to_owned()),
        Just("Access-Control-Allow-Origin".to_owned()),
        Just("Connection".to_owned()),
        Just("Content-Length".to_owned()),
        Just("Mcp-Session-Id".to_owned()),
        "[A-Za-z-]{1,8}".prop_map(String::from),
        any::<String>(),
    ];
    let value = prop_oneof![
        challengeish(),
        any::<String>(),
        "[ -~\r\n\0]{0,20}".prop_map(String::from)
    ];
    prop::collection::vec((name, value), 0..8)
}

fn is_valid_field(n: &str, v: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn rewrite_changes_only_resource_metadata_values(s in challengeish()) {
        let out = rewrite_resource_metadata(&s, URL);
        prop_assert_eq!(parse_www_authenticate(&out), expected(&s, URL));
        // Idempotent: a second rewrite finds the same parameters.
        prop_assert_eq!(rewrite_resource_metadata(&out, URL), out.clone());
    }

    #[test]
    fn rewrite_of_arbitrary_text_never_panics(s in any::<String>()) {
        let out = rewrite_resource_metadata(&s, URL);
        prop_assert_eq!(parse_www_authenticate(&out), expected(&s, URL));
    }

    #[test]
    fn bridged_headers_are_always_valid_and_expose_once(
        status in prop_oneof![Just(200u16), Just(401u16), Just(403u16), 100u16..600],
        upstream in pairs(),
        origin in prop::option::of(any::<String>()),
        rewrite in any::<bool>(),
        cors in any::<bool>(),
    ) {
        let options = BridgeOptions {
            resource_metadata_url: rewrite.then(|| URL.to_owned()),
            cors: cors.then(CorsPolicy::any),
        };
        let down = bridge_response(status, &upstream, origin.as_deref(), &options).unwrap();
        prop_assert_eq!(down.status, status);
        for (n, v) in &down.headers {
            prop_assert!(is_valid_field(n, v), "{:?}: {:?}", n, v);
        }
        let expose = down.header_values("access-control-expose-headers");
        prop_assert_eq!(expose.len(), 1);
        for required in EXPOSED_HEADERS {
            let count = expose[0].split(", ").filter(|n| n.eq_ignore_ascii_case(required)).count();
            prop_assert_eq!(count, 1, "{} in {}", required, expose[0]);
        }
        // Without a rewrite every valid WWW-Authenticate value is copied verbatim, in order.
        if !rewrite {
            let sent: Vec<&str> = upstream
                .iter()
                .filter(|(n, v)| n.eq_ignore_ascii_case("www-authenticate") && is_valid_field(n, v))
                .map(|(_, v)| v.as_str())
                .collect();
            prop_assert_eq!(down.header_values("www-authenticate"), sent);
        }
        prop_assert_eq!(down.challenge.is_some(), status == 401 || status == 403);
        // The JSON form always parses back.
        let back: mcp_auth_bridge::DownstreamResponse = serde_json::from_str(&down.to_json()).unwrap();
        prop_assert_eq!(back, down);
    }

    #[test]
    fn merge_names_each_required_header_once(existing in prop::collection::vec(any::<String>(), 0..4)) {
        let merged = merge_expose_headers(&existing);
        let names: Vec<&str> = merged.split(", ").collect();
        for n in &names {
            prop_assert!(is_valid_field(n, ""), "{:?}", n);
        }
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                prop_assert!(!a.eq_ignore_ascii_case(b), "{} twice in {}", a, merged);
            }
        }
        for required in EXPOSED_HEADERS {
            prop_assert!(names.iter().any(|n| n.eq_ignore_ascii_case(required)));
        }
        prop_assert_eq!(merge_expose_headers([merged.as_str()]), merged.clone());
    }

    #[test]
    fn preflight_and_request_side_never_emit_invalid_fields(headers in pairs(), origins in prop::collection::vec(any::<String>(), 0..3)) {
        let policy = CorsPolicy { allowed_origins: origins, allow_credentials: true, max_age_secs: None };
        let down = preflight(&headers, &policy);
        prop_assert!(down.status == 204 || down.status == 403);
        for (n, v) in down.headers.iter().chain(upstream_request_headers(&headers).iter()) {
            prop_assert!(is_valid_field(n, v), "{:?}: {:?}", n, v);
        }
    }
}
