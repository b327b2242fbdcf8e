//! The `Access-Control-Expose-Headers` merge (Fetch standard, CORS protocol) and the copying of
//! `WWW-Authenticate` (RFC 9110 §11.6.1) by `bridge_response`: existing expose lists,
//! duplicates, case, several lines, several challenges.

use mcp_auth_bridge::{
    BridgeOptions, EXPOSED_HEADERS, bridge_response, merge_expose_headers, merge_field_names,
};

const ALL: &str = "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version";

#[test]
fn nothing_existing_gives_the_three_names() {
    assert_eq!(merge_expose_headers(Vec::<&str>::new()), ALL);
    assert_eq!(merge_expose_headers([""]), ALL);
    assert_eq!(merge_expose_headers([" , ,, "]), ALL);
}

#[test]
fn existing_names_come_first_in_order_and_spelling() {
    assert_eq!(
        merge_expose_headers(["X-Request-Id, Location"]),
        format!("X-Request-Id, Location, {ALL}")
    );
}

#[test]
fn already_exposed_names_are_not_repeated_whatever_their_case() {
    // RFC 9110 §5.1: field names are case-insensitive.
    assert_eq!(
        merge_expose_headers(["www-authenticate, MCP-SESSION-ID"]),
        "www-authenticate, MCP-SESSION-ID, MCP-Protocol-Version"
    );
    assert_eq!(
        merge_expose_headers(["Www-Authenticate,mcp-session-id,mcp-protocol-version"]),
        "Www-Authenticate, mcp-session-id, mcp-protocol-version"
    );
}

#[test]
fn duplicates_in_the_existing_list_collapse_to_the_first() {
    assert_eq!(
        merge_expose_headers(["X-A, x-a, X-B", "X-A", "x-b"]),
        format!("X-A, X-B, {ALL}")
    );
}

#[test]
fn several_field_lines_are_one_list() {
    // RFC 9110 §5.3: several lines of a list field are one comma-joined list.
    assert_eq!(
        merge_expose_headers(["X-One", "X-Two, WWW-Authenticate", "  X-Three  "]),
        "X-One, X-Two, WWW-Authenticate, X-Three, Mcp-Session-Id, MCP-Protocol-Version"
    );
}

#[test]
fn whitespace_and_empty_elements_are_tolerated() {
    // RFC 9110 §5.6.1.2: empty elements and OWS around them.
    assert_eq!(
        merge_expose_headers([",\tX-A ,  , X-B,"]),
        format!("X-A, X-B, {ALL}")
    );
}

#[test]
fn non_token_elements_are_dropped() {
    // A value that does not parse as #field-name makes the browser ignore the whole field.
    assert_eq!(
        merge_expose_headers(["X-Good, bad header, \"quoted\", x:y, X-Also-Good"]),
        format!("X-Good, X-Also-Good, {ALL}")
    );
}

#[test]
fn the_wildcard_is_kept_and_the_names_still_added() {
    // `*` exposes all headers only to requests without credentials.
    assert_eq!(merge_expose_headers(["*"]), format!("*, {ALL}"));
    assert_eq!(merge_expose_headers(["*, *"]), format!("*, {ALL}"));
}

#[test]
fn merge_field_names_takes_any_list() {
    assert_eq!(
        merge_field_names(["Accept-Encoding"], &["Origin"]),
        "Accept-Encoding, Origin"
    );
    assert_eq!(merge_field_names(["origin"], &["Origin"]), "origin");
    assert_eq!(merge_field_names(Vec::<String>::new(), &[]), "");
    assert_eq!(
        merge_field_names(Vec::<String>::new(), &EXPOSED_HEADERS),
        ALL
    );
}

#[test]
fn the_merge_is_idempotent() {
    for input in ["", "X-A", "x-a, WWW-Authenticate", "*", "a,b,,c, A"] {
        let once = merge_expose_headers([input]);
        assert_eq!(merge_expose_headers([once.as_str()]), once, "{input:?}");
    }
}

// ---- in bridge_response ----

fn bridged(status: u16, upstream: &[(&str, &str)]) -> mcp_auth_bridge::DownstreamResponse {
    bridge_response(status, upstream, None, &BridgeOptions::default()).unwrap()
}

#[test]
fn the_upstream_expose_fields_become_one_merged_field() {
    let down = bridged(
        401,
        &[
            ("Access-Control-Expose-Headers", "X-Trace"),
            ("www-authenticate", "Bearer"),
            ("access-control-expose-headers", "x-trace, Mcp-Session-Id"),
        ],
    );
    assert_eq!(
        down.header_values("access-control-expose-headers"),
        ["X-Trace, Mcp-Session-Id, WWW-Authenticate, MCP-Protocol-Version"]
    );
}

#[test]
fn the_expose_field_is_added_on_every_status() {
    for status in [200, 202, 204, 400, 401, 403, 404, 500] {
        let down = bridged(status, &[("content-type", "application/json")]);
        assert_eq!(
            down.header_values("Access-Control-Expose-Headers"),
            [ALL],
            "{status}"
        );
        assert_eq!(down.status, status);
        assert_eq!(down.challenge.is_some(), status == 401 || status == 403);
    }
}

#[test]
fn several_challenges_on_one_line_are_copied_verbatim() {
    let line = r#"DPoP algs="ES256 PS256", error="invalid_token",Bearer  realm="mcp" , scope="a b",  resource_metadata="https://rs.example/.well-known/oauth-protected-resource/mcp""#;
    let down = bridged(401, &[("WWW-Authenticate", line)]);
    assert_eq!(down.header_values("www-authenticate"), [line]);
    let c = down.challenge.unwrap();
    // The Bearer challenge answers (RFC 6750 §3), not the first one.
    assert_eq!(c.scheme.as_deref(), Some("Bearer"));
    assert_eq!(c.error, None);
    assert_eq!(c.scope.as_deref(), Some("a b"));
    assert_eq!(
        c.resource_metadata.as_deref(),
        Some("https://rs.example/.well-known/oauth-protected-resource/mcp")
    );
    assert_eq!(c.www_authenticate, [line]);
}

#[test]
fn several_challenge_lines_are_each_copied_in_order() {
    let lines = [
        r#"Basic realm="legacy""#,
        r#"Bearer error="insufficient_scope", scope="mcp:write""#,
        r#"error_description="needs write""#,
    ];
    let upstream: Vec<(&str, &str)> = vec![
        ("www-authenticate", lines[0]),
        ("content-type", "application/json"),
        ("WWW-Authenticate", lines[1]),
        ("Www-Authenticate", lines[2]),
    ];
    let down = bridged(403, &upstream);
    assert_eq!(down.header_values("WWW-AUTHENTICATE"), lines);
    // Names as the upstream spelled them, positions kept.
    assert_eq!(down.headers[0].0, "www-authenticate");
    assert_eq!(down.headers[2].0, "WWW-Authenticate");
    let c = down.challenge.unwrap();
    assert_eq!(c.status, 403);
    assert_eq!(c.error.as_deref(), Some("insufficient_scope"));
    // RFC 9110 §5.3: the third line continues the Bearer challenge.
    assert_eq!(c.error_description.as_deref(), Some("needs write"));
    assert_eq!(c.www_authenticate, lines);
}
