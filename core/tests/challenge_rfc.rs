//! `WWW-Authenticate` parsing, one test per rule of RFC 9110 §11 / §5.6, RFC 6750 §3 and
//! RFC 9728 §5.1, plus the peers' test matrix and the reference regex's bugs.

use mcp_auth::challenge::{
    BearerChallenge, Challenge, bearer_challenge, extract_field_from_www_auth,
    extract_resource_metadata_from_www_auth, extract_scope_from_www_auth, parse_www_authenticate,
    parse_www_authenticate_headers, parse_www_authenticate_values,
};

fn ch(scheme: &str, params: &[(&str, &str)]) -> Challenge {
    Challenge {
        scheme: scheme.into(),
        token68: None,
        params: params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn t68(scheme: &str, token68: &str) -> Challenge {
    Challenge {
        scheme: scheme.into(),
        token68: Some(token68.into()),
        params: vec![],
    }
}

fn scope(h: &str) -> Option<String> {
    extract_scope_from_www_auth(Some(h))
}

// --- RFC 9110 §11.6.1: several challenges, several field lines ---------------------------------

#[test]
fn rfc9110_11_6_1_several_challenges_in_one_value() {
    let c = parse_www_authenticate(
        r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
    );
    assert_eq!(
        c,
        [
            ch(
                "Newauth",
                &[
                    ("realm", "apps"),
                    ("type", "1"),
                    ("title", r#"Login to "apps""#)
                ]
            ),
            ch("Basic", &[("realm", "simple")]),
        ]
    );
}

#[test]
fn rfc9110_11_6_1_challenge_without_params_then_another() {
    assert_eq!(
        parse_www_authenticate(r#"Basic, Bearer realm="x""#),
        [ch("Basic", &[]), ch("Bearer", &[("realm", "x")])]
    );
    assert_eq!(parse_www_authenticate("Bearer"), [ch("Bearer", &[])]);
    assert_eq!(parse_www_authenticate("Bearer   "), [ch("Bearer", &[])]);
}

#[test]
fn rfc9110_5_3_several_field_lines() {
    let lines = [r#"Basic realm="a""#, r#"Bearer scope="s1""#];
    assert_eq!(
        parse_www_authenticate_values(lines),
        [
            ch("Basic", &[("realm", "a")]),
            ch("Bearer", &[("scope", "s1")])
        ]
    );
    // Same as the comma-joined line.
    assert_eq!(
        parse_www_authenticate_values(lines),
        parse_www_authenticate(&lines.join(", "))
    );
}

#[test]
fn rfc9110_5_3_line_of_params_continues_previous_challenge() {
    // Joining lines with "," is semantically equivalent, so params continue the challenge.
    assert_eq!(
        parse_www_authenticate_values([r#"Bearer realm="a""#, r#"scope="s""#]),
        [ch("Bearer", &[("realm", "a"), ("scope", "s")])]
    );
    // But a broken line cannot swallow the next: the unterminated quote ends with its line.
    assert_eq!(
        parse_www_authenticate_values([r#"Bearer scope="abc"#, r#"DPoP algs="ES256""#]),
        [ch("Bearer", &[]), ch("DPoP", &[("algs", "ES256")])]
    );
    // A token68 challenge takes no params, across lines too.
    assert_eq!(
        parse_www_authenticate_values(["Basic abc=", r#"realm="x""#]),
        [t68("Basic", "abc=")]
    );
}

#[test]
fn rfc9110_11_6_1_header_map_reads_every_value() {
    let mut h = http::HeaderMap::new();
    h.append(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Negotiate abc123"),
    );
    h.append(
        "www-authenticate",
        http::HeaderValue::from_static(r#"Bearer resource_metadata="u", scope="a b""#),
    );
    h.append("other", http::HeaderValue::from_static("Bearer x=y"));
    let c = parse_www_authenticate_headers(&h);
    assert_eq!(
        c,
        [
            t68("Negotiate", "abc123"),
            ch("Bearer", &[("resource_metadata", "u"), ("scope", "a b")])
        ]
    );
    assert!(parse_www_authenticate_headers(&http::HeaderMap::new()).is_empty());
}

#[test]
fn rfc9110_5_5_header_map_non_utf8_bytes_are_decoded_lossily() {
    let mut h = http::HeaderMap::new();
    // obs-text that is valid UTF-8 is kept; invalid bytes become U+FFFD.
    h.append(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_bytes("Bearer realm=\"caf\u{e9}\"".as_bytes()).unwrap(),
    );
    h.append(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_bytes(b"DPoP realm=\"\xff\xfe\"").unwrap(),
    );
    let c = parse_www_authenticate_headers(&h);
    assert_eq!(c[0].param("realm"), Some("caf\u{e9}"));
    assert_eq!(c[1].param("realm"), Some("\u{fffd}\u{fffd}"));
}

// --- RFC 9110 §11.1 / §11.2: case-insensitivity ------------------------------------------------

#[test]
fn rfc9110_11_1_scheme_is_case_insensitive_and_kept_as_sent() {
    let c = parse_www_authenticate(r#"bEaReR scope="x""#);
    assert_eq!(c[0].scheme, "bEaReR");
    assert!(c[0].is_bearer());
    assert!(c[0].is_scheme("BEARER"));
    assert_eq!(scope(r#"BEARER scope="x""#).as_deref(), Some("x"));
    assert_eq!(
        bearer_challenge(&parse_www_authenticate(r#"bearer realm="r""#))
            .unwrap()
            .realm
            .as_deref(),
        Some("r")
    );
}

#[test]
fn rfc9110_11_2_param_names_case_insensitive_stored_lowercase() {
    let c = parse_www_authenticate(r#"Bearer Scope="x", RESOURCE_METADATA="u""#);
    assert_eq!(
        c,
        [ch("Bearer", &[("scope", "x"), ("resource_metadata", "u")])]
    );
    assert_eq!(c[0].param("SCOPE"), Some("x"));
    assert_eq!(scope(r#"Bearer SCOPE=x"#).as_deref(), Some("x"));
    assert_eq!(
        extract_field_from_www_auth(Some(r#"Bearer scope="x""#), "ScOpE").as_deref(),
        Some("x")
    );
}

#[test]
fn rfc9110_11_2_duplicate_params_kept_first_wins() {
    let c = parse_www_authenticate(r#"Bearer scope="a", SCOPE="b""#);
    assert_eq!(c[0].params.len(), 2);
    assert_eq!(c[0].param("scope"), Some("a"));
    assert_eq!(
        scope(r#"Bearer scope="a", scope="b""#).as_deref(),
        Some("a")
    );
    assert_eq!(bearer_challenge(&c).unwrap().scope.as_deref(), Some("a"));
}

// --- RFC 9110 §5.6.4: quoted-string ------------------------------------------------------------

#[test]
fn rfc9110_5_6_4_quoted_pair_unescaped() {
    assert_eq!(
        scope(r#"Bearer scope="a \"b\" c""#).as_deref(),
        Some(r#"a "b" c"#)
    );
    assert_eq!(
        scope(r#"Bearer scope="back\\slash""#).as_deref(),
        Some(r"back\slash")
    );
    assert_eq!(scope(r#"Bearer scope="\a\b""#).as_deref(), Some("ab"));
    // An escaped backslash right before the closing quote (Go's splitter gets this wrong).
    let c = parse_www_authenticate(r#"Bearer realm="a\\", scope="s""#);
    assert_eq!(c, [ch("Bearer", &[("realm", r"a\"), ("scope", "s")])]);
}

#[test]
fn rfc9110_5_6_4_quoted_comma_and_equals_are_data() {
    assert_eq!(scope(r#"Bearer scope="a,b""#).as_deref(), Some("a,b"));
    let c = parse_www_authenticate(r#"Bearer error_description="x=1, Basic y", scope=s"#);
    assert_eq!(
        c,
        [ch(
            "Bearer",
            &[("error_description", "x=1, Basic y"), ("scope", "s")]
        )]
    );
}

#[test]
fn rfc9110_5_6_4_empty_quoted_string_is_empty_value() {
    assert_eq!(scope(r#"Bearer scope="""#).as_deref(), Some(""));
    let c = parse_www_authenticate(r#"Bearer error="insufficient_scope", scope="""#);
    assert_eq!(bearer_challenge(&c).unwrap().scope.as_deref(), Some(""));
}

#[test]
fn rfc9110_5_6_4_whitespace_only_value_kept_as_is() {
    assert_eq!(scope(r#"Bearer scope="  ""#).as_deref(), Some("  "));
    assert_eq!(scope("Bearer scope=\"a\tb\"").as_deref(), Some("a\tb"));
}

#[test]
fn rfc9110_5_6_4_obs_text_utf8_in_quoted_string() {
    let c =
        parse_www_authenticate("Bearer realm=\"Zürich – 東京 🔐\", error_description=\"é\\\"\"");
    assert_eq!(c[0].param("realm"), Some("Zürich – 東京 🔐"));
    assert_eq!(c[0].param("error_description"), Some("é\""));
    // A quoted-pair may escape a multi-byte character.
    assert_eq!(scope("Bearer scope=\"\\é\"").as_deref(), Some("é"));
}

// --- RFC 9110 §11.2: token68 -------------------------------------------------------------------

#[test]
fn rfc9110_11_2_token68() {
    assert_eq!(
        parse_www_authenticate("Basic dXNlcjpwYXNz=="),
        [t68("Basic", "dXNlcjpwYXNz==")]
    );
    assert_eq!(
        parse_www_authenticate("Negotiate a+b/c-d._~=, Bearer x=y"),
        [t68("Negotiate", "a+b/c-d._~="), ch("Bearer", &[("x", "y")])]
    );
    // `abc` alone is a token68, not a challenge, right after the scheme.
    assert_eq!(
        parse_www_authenticate("Negotiate abc123 "),
        [t68("Negotiate", "abc123")]
    );
    // `scope=` with no value is a token68 (an auth-param needs a value).
    let c = parse_www_authenticate("Bearer scope=");
    assert_eq!(c, [t68("Bearer", "scope=")]);
    assert_eq!(c[0].param("scope"), None);
}

#[test]
fn rfc9110_11_2_token68_challenge_takes_no_params() {
    assert_eq!(
        parse_www_authenticate(r#"Basic abc=, realm="x", Bearer scope=s"#),
        [t68("Basic", "abc="), ch("Bearer", &[("scope", "s")])]
    );
}

#[test]
fn rfc9110_11_2_token68_peer_matrix_negotiate_then_bearer() {
    // Go's parser fails the whole header here.
    let c = parse_www_authenticate(r#"Negotiate abc123, Bearer resource_metadata="u""#);
    assert_eq!(
        bearer_challenge(&c).unwrap().resource_metadata.as_deref(),
        Some("u")
    );
    assert_eq!(
        extract_resource_metadata_from_www_auth(
            Some(r#"Negotiate abc123, Bearer resource_metadata="u""#),
            401
        )
        .as_deref(),
        Some("u")
    );
}

// --- RFC 9110 §11.2: BWS, §5.6.1.2: empty list elements, §11.3: 1*SP ----------------------------

#[test]
fn rfc9110_11_2_bws_around_equals() {
    assert_eq!(scope(r#"Bearer scope = "x""#).as_deref(), Some("x"));
    assert_eq!(scope("Bearer scope\t=\tx").as_deref(), Some("x"));
    assert_eq!(
        parse_www_authenticate(r#"Bearer realm ="a" , scope= b ,error =c"#),
        [ch(
            "Bearer",
            &[("realm", "a"), ("scope", "b"), ("error", "c")]
        )]
    );
}

#[test]
fn rfc9110_5_6_1_2_empty_list_elements_ignored() {
    assert_eq!(
        parse_www_authenticate(r#" , ,Bearer realm="a", , ,scope="b",, , Basic ,"#),
        [
            ch("Bearer", &[("realm", "a"), ("scope", "b")]),
            ch("Basic", &[])
        ]
    );
    assert!(parse_www_authenticate("").is_empty());
    assert!(parse_www_authenticate(" , ,, ").is_empty());
}

#[test]
fn rfc9110_11_3_several_spaces_after_scheme() {
    // Peer matrix: TS returns {} for a double space.
    assert_eq!(
        extract_resource_metadata_from_www_auth(Some(r#"Bearer  resource_metadata="u""#), 401)
            .as_deref(),
        Some("u")
    );
    assert_eq!(
        parse_www_authenticate("Bearer \t realm=a"),
        [ch("Bearer", &[("realm", "a")])]
    );
}

// --- RFC 6750 §3 / RFC 9728 §5.1: the Bearer challenge ------------------------------------------

#[test]
fn rfc6750_3_bearer_challenge_view() {
    let c = parse_www_authenticate(
        r#"Bearer realm="example", error="invalid_token", error_description="The access token expired", error_uri="https://e/x", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
    );
    let b = bearer_challenge(&c).unwrap();
    assert_eq!(
        b,
        BearerChallenge {
            error: Some("invalid_token".into()),
            error_description: Some("The access token expired".into()),
            error_uri: Some("https://e/x".into()),
            scope: Some("files:read files:write".into()),
            resource_metadata: Some(
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".into()
            ),
            realm: Some("example".into()),
        }
    );
    assert_eq!(
        b.scopes().collect::<Vec<_>>(),
        ["files:read", "files:write"]
    );
    let e = b.oauth_error().unwrap();
    assert_eq!(e.error, "invalid_token");
    assert_eq!(e.error_uri.as_deref(), Some("https://e/x"));
}

#[test]
fn rfc6750_3_realm_only_and_no_error() {
    let b = bearer_challenge(&parse_www_authenticate(r#"Bearer realm="mcp""#)).unwrap();
    assert_eq!(b.realm.as_deref(), Some("mcp"));
    assert_eq!(b.oauth_error(), None);
    assert_eq!(b.scopes().count(), 0);
    // RFC 6750 §3: scope-tokens are separated by one or more spaces.
    let b = bearer_challenge(&parse_www_authenticate(r#"Bearer scope=" a  b ""#)).unwrap();
    assert_eq!(b.scopes().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn rfc6750_3_bearer_not_first() {
    let h = r#"Basic realm="x", Bearer resource_metadata="u", scope="s""#;
    let c = parse_www_authenticate(h);
    assert_eq!(bearer_challenge(&c).unwrap().scope.as_deref(), Some("s"));
    assert_eq!(scope(h).as_deref(), Some("s"));
    assert!(bearer_challenge(&parse_www_authenticate(r#"Basic realm="x""#)).is_none());
    assert!(BearerChallenge::from_challenge(&c[0]).is_none());
}

#[test]
fn rfc9449_dpop_and_bearer_the_bearer_params_win() {
    let h = r#"DPoP algs="ES256 PS256", scope="a", error="use_dpop_nonce", Bearer scope="b""#;
    let c = parse_www_authenticate(h);
    assert_eq!(c.len(), 2);
    assert!(c[0].is_scheme("dpop"));
    assert_eq!(c[0].param("algs"), Some("ES256 PS256"));
    assert_eq!(scope(h).as_deref(), Some("b"));
    // The Bearer challenge exists but has no `error`: the DPoP one is not borrowed.
    assert_eq!(extract_field_from_www_auth(Some(h), "error"), None);
    // With no Bearer challenge, the first challenge carrying the field answers.
    assert_eq!(
        extract_field_from_www_auth(
            Some(r#"DPoP realm="r", Foo error="e1", Bar error=e2"#),
            "error"
        )
        .as_deref(),
        Some("e1")
    );
}

#[test]
fn rfc9728_5_1_resource_metadata_status_gate() {
    let h = Some(r#"Bearer resource_metadata="https://a/b""#);
    for status in [401, 403] {
        assert_eq!(
            extract_resource_metadata_from_www_auth(h, status).as_deref(),
            Some("https://a/b")
        );
    }
    for status in [200, 400, 404, 500] {
        assert_eq!(extract_resource_metadata_from_www_auth(h, status), None);
    }
    assert_eq!(extract_resource_metadata_from_www_auth(None, 401), None);
    // Unquoted URL (the reference and real servers send it; `:` and `/` are not tchars).
    assert_eq!(
        extract_resource_metadata_from_www_auth(
            Some("Bearer resource_metadata=https://x/.well-known/oauth-protected-resource?a=b"),
            401
        )
        .as_deref(),
        Some("https://x/.well-known/oauth-protected-resource?a=b")
    );
}

#[test]
fn extract_none_and_empty_header() {
    assert_eq!(extract_scope_from_www_auth(None), None);
    assert_eq!(extract_scope_from_www_auth(Some("")), None);
    assert_eq!(extract_scope_from_www_auth(Some("   ")), None);
    assert_eq!(
        extract_field_from_www_auth(Some(r#"Bearer scope="x""#), ""),
        None
    );
}

// --- The reference regex's bugs must not exist (python-sdk-2.3.0.md §2, peers.md §1b) -----------

#[test]
fn regex_bug_name_suffix_inside_other_name() {
    assert_eq!(scope(r#"Bearer xscope="a""#), None);
    assert_eq!(
        scope(r#"Bearer required_scope="evil", scope="good""#).as_deref(),
        Some("good")
    );
    assert_eq!(
        extract_field_from_www_auth(
            Some(r#"Bearer myerror="z", error="invalid_token""#),
            "error"
        )
        .as_deref(),
        Some("invalid_token")
    );
}

#[test]
fn regex_bug_name_inside_another_quoted_value() {
    assert_eq!(
        scope(r#"Bearer error_description="bad scope=foo", scope="x""#).as_deref(),
        Some("x")
    );
    assert_eq!(
        scope(r#"Bearer resource_metadata="https://x/?scope=foo", scope="real""#).as_deref(),
        Some("real")
    );
    assert_eq!(
        extract_field_from_www_auth(
            Some(r#"Bearer error_uri="https://e/?error=x", error="invalid_token""#),
            "error"
        )
        .as_deref(),
        Some("invalid_token")
    );
    // The field only inside a quoted value: absent.
    assert_eq!(scope(r#"Bearer error_description="bad scope=admin""#), None);
}

#[test]
fn regex_bug_escaped_quotes() {
    assert_eq!(
        scope(r#"Bearer scope="a \"b\" c""#).as_deref(),
        Some(r#"a "b" c"#)
    );
    assert_eq!(
        scope(r#"Bearer realm="a\"b", scope="s1""#).as_deref(),
        Some("s1")
    );
    assert_eq!(
        extract_field_from_www_auth(Some(r#"Bearer realm="a\"b", scope="s1""#), "realm").as_deref(),
        Some(r#"a"b"#)
    );
}

#[test]
fn regex_bug_empty_quoted_string() {
    assert_eq!(scope(r#"Bearer scope="""#).as_deref(), Some(""));
}

#[test]
fn regex_bug_bearer_not_first() {
    assert_eq!(
        scope(r#"DPoP scope="a", Bearer scope="b""#).as_deref(),
        Some("b")
    );
    assert_eq!(
        scope(r#"Basic realm="x", Bearer resource_metadata="u""#),
        None,
        "the Bearer challenge has no scope"
    );
}

#[test]
fn regex_bug_field_name_is_literal() {
    assert_eq!(
        extract_field_from_www_auth(Some(r#"Bearer axb="v""#), "a.b"),
        None
    );
    assert_eq!(
        extract_field_from_www_auth(Some(r#"Bearer a.b="v""#), "a.b").as_deref(),
        Some("v")
    );
}

// --- Malformed input: recover, skip to the next comma / challenge -------------------------------

#[test]
fn malformed_param_without_scheme_is_dropped() {
    assert!(parse_www_authenticate(r#"scope="x""#).is_empty());
    assert_eq!(scope(r#"scope="x""#), None);
    assert_eq!(
        parse_www_authenticate(r#"scope="x", Bearer scope="y""#),
        [ch("Bearer", &[("scope", "y")])]
    );
}

#[test]
fn malformed_unterminated_quote_drops_the_param() {
    assert_eq!(scope(r#"Bearer scope="abc"#), None);
    assert_eq!(
        parse_www_authenticate(r#"Bearer realm="a", scope="abc"#),
        [ch("Bearer", &[("realm", "a")])]
    );
    assert_eq!(scope(r#"Bearer scope="abc\"#), None);
}

#[test]
fn malformed_missing_comma_keeps_first_value() {
    assert_eq!(
        parse_www_authenticate(r#"Bearer scope="x" scope="y", error=e"#),
        [ch("Bearer", &[("scope", "x"), ("error", "e")])]
    );
}

#[test]
fn malformed_value_glued_to_quote_is_dropped() {
    assert_eq!(
        parse_www_authenticate(r#"Bearer scope=ab"c,d", error=e"#),
        [ch("Bearer", &[("error", "e")])]
    );
}

#[test]
fn malformed_junk_elements_skipped() {
    assert_eq!(
        parse_www_authenticate(
            r#"Bearer realm="a", "junk, with comma", /x, ==, =v, error=e, Basic"#
        ),
        [
            ch("Bearer", &[("realm", "a"), ("error", "e")]),
            ch("Basic", &[])
        ]
    );
    // Recovery skips a quoted string as a unit, quoted-pairs included.
    assert_eq!(
        parse_www_authenticate(r#"Bearer realm="a", "x\", y=1, \\", scope=s"#),
        [ch("Bearer", &[("realm", "a"), ("scope", "s")])]
    );
    // A quoted string where token68/auth-param must be.
    assert_eq!(
        parse_www_authenticate(r#"Bearer "x", scope=s"#),
        [ch("Bearer", &[("scope", "s")])]
    );
    // Two bare words after the scheme are neither token68 nor auth-param.
    assert_eq!(
        parse_www_authenticate(r#"Bearer foo bar, scope=s"#),
        [ch("Bearer", &[("scope", "s")])]
    );
    // A scheme glued to junk.
    assert_eq!(
        parse_www_authenticate(r#"Bear/er realm=x, Bearer scope=s"#),
        [ch("Bearer", &[("scope", "s")])]
    );
}

#[test]
fn malformed_unquoted_value_details() {
    // Unquoted values stop at whitespace or comma, like the reference (`;` is kept).
    assert_eq!(
        scope("Bearer scope=abc;def, x=y").as_deref(),
        Some("abc;def")
    );
    assert_eq!(scope("Bearer scope='single'").as_deref(), Some("'single'"));
    assert_eq!(scope("Bearer scope=,x"), None);
    // A control character glued to a value makes it malformed.
    assert_eq!(scope("Bearer scope=ab\u{1}c"), None);
}

#[test]
fn never_panics_on_odd_inputs() {
    for h in [
        "\"",
        "\\",
        "=",
        ",",
        "\"\\",
        "a=\"\\",
        "Bearer \"",
        "Bearer =",
        "Bearer a=\"",
        "Bearer a=\"\\\"",
        "\u{0}",
        "Bearer \u{0}=\u{0}",
        "é",
        "Bearer é=é",
        "Bearer a=é\"",
        "Bearer a==\"",
        "Bearer\t",
        ",,,\"",
        "B a=b c=d e=f",
        "Bearer\u{7f}x",
    ] {
        let _ = parse_www_authenticate(h);
        let _ = scope(h);
    }
}

// --- Display round trip and serde --------------------------------------------------------------

#[test]
fn display_quotes_and_escapes() {
    let c = ch(
        "Bearer",
        &[
            ("realm", "a \"b\" \\c"),
            ("scope", ""),
            ("error", "invalid_token"),
        ],
    );
    let s = c.to_string();
    assert_eq!(
        s,
        r#"Bearer realm="a \"b\" \\c", scope="", error=invalid_token"#
    );
    assert_eq!(parse_www_authenticate(&s), [c]);
    assert_eq!(t68("Basic", "abc==").to_string(), "Basic abc==");
    assert_eq!(ch("Basic", &[]).to_string(), "Basic");
}

#[test]
fn serde_serialize_shape() {
    let c = parse_www_authenticate(r#"Bearer scope="a", error=e"#);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        serde_json::json!([{"scheme": "Bearer", "token68": null, "params": [["scope", "a"], ["error", "e"]]}])
    );
    let b = bearer_challenge(&c).unwrap();
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        serde_json::json!({"error": "e", "error_description": null, "error_uri": null,
            "scope": "a", "resource_metadata": null, "realm": null})
    );
}

// --- peers.md §1b test matrix, all rows -----------------------------------------------------------

#[test]
fn peer_matrix_all_rows_correct() {
    let rm = |h: &str| extract_resource_metadata_from_www_auth(Some(h), 401);
    assert_eq!(
        rm(r#"Bearer resource_metadata="u", scope="a b""#).as_deref(),
        Some("u")
    );
    assert_eq!(
        scope(r#"Bearer resource_metadata="u", scope="a b""#).as_deref(),
        Some("a b")
    );
    assert_eq!(
        rm(r#"Basic realm="x", Bearer resource_metadata="u""#).as_deref(),
        Some("u")
    );
    assert_eq!(
        rm(r#"Negotiate abc123, Bearer resource_metadata="u""#).as_deref(),
        Some("u")
    );
    assert_eq!(
        scope(r#"Bearer required_scope="evil", scope="good""#).as_deref(),
        Some("good")
    );
    assert_eq!(
        scope(r#"Bearer error_description="bad scope=admin", scope="read""#).as_deref(),
        Some("read")
    );
    assert_eq!(
        scope(r#"Bearer realm="a\"b", scope="s1""#).as_deref(),
        Some("s1")
    );
    let h = r#"Bearer Scope="x", RESOURCE_METADATA="u""#;
    assert_eq!(
        (scope(h).as_deref(), rm(h).as_deref()),
        (Some("x"), Some("u"))
    );
    assert_eq!(
        scope(r#"Bearer error="insufficient_scope", scope="""#).as_deref(),
        Some("")
    );
    assert_eq!(rm(r#"Bearer  resource_metadata="u""#).as_deref(), Some("u"));
}
