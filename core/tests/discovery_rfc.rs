//! Discovery URL rules, one test per rule, named after the section that states it.

use mcp_auth::discovery::{
    build_oauth_authorization_server_metadata_discovery_urls as as_urls,
    build_protected_resource_metadata_discovery_urls as prm_urls, mcp_origin,
};

const PRM: &str = "/.well-known/oauth-protected-resource";
const OAS: &str = "/.well-known/oauth-authorization-server";
const OIDC: &str = "/.well-known/openid-configuration";

fn prm(server: &str) -> Vec<String> {
    prm_urls(None, server)
}

// ---- RFC 9728 §3.1: insert the suffix between the host and the path ----------------------

#[test]
fn rfc9728_3_1_path_inserted_after_host() {
    assert_eq!(
        prm("https://rs.example.com/resource1"),
        [
            format!("https://rs.example.com{PRM}/resource1"),
            format!("https://rs.example.com{PRM}"),
        ]
    );
}

#[test]
fn rfc9728_3_1_root_resource_has_one_candidate() {
    assert_eq!(
        prm("https://rs.example.com"),
        [format!("https://rs.example.com{PRM}")]
    );
    assert_eq!(
        prm("https://rs.example.com/"),
        [format!("https://rs.example.com{PRM}")]
    );
    assert_eq!(
        prm("https://rs.example.com?q=1"),
        [format!("https://rs.example.com{PRM}")]
    );
    assert_eq!(
        prm("https://rs.example.com#f"),
        [format!("https://rs.example.com{PRM}")]
    );
}

#[test]
fn rfc9728_3_1_port_kept() {
    assert_eq!(
        prm("http://localhost:8080/mcp"),
        [
            format!("http://localhost:8080{PRM}/mcp"),
            format!("http://localhost:8080{PRM}")
        ]
    );
    // An explicit default port is kept verbatim, like the reference (no normalisation).
    assert_eq!(prm("https://h:443")[0], format!("https://h:443{PRM}"));
}

#[test]
fn rfc3986_3_2_2_ipv6_literal_kept() {
    assert_eq!(
        prm("http://[::1]:8080/mcp"),
        [
            format!("http://[::1]:8080{PRM}/mcp"),
            format!("http://[::1]:8080{PRM}")
        ]
    );
    assert_eq!(
        prm("https://[2001:db8::7]/"),
        [format!("https://[2001:db8::7]{PRM}")]
    );
    // RFC 6874 zone identifier.
    assert_eq!(
        prm("http://[fe80::1%25eth0]:1/x")[0],
        format!("http://[fe80::1%25eth0]:1{PRM}/x")
    );
}

#[test]
fn rfc3986_3_2_1_userinfo_kept() {
    assert_eq!(prm("https://u:p@h/x")[0], format!("https://u:p@h{PRM}/x"));
    // A "@" in the path is not userinfo.
    assert_eq!(prm("https://h/a@b")[0], format!("https://h{PRM}/a@b"));
}

#[test]
fn rfc3986_2_1_percent_encoding_kept() {
    assert_eq!(
        prm("https://h/a%20b/%2Fc")[0],
        format!("https://h{PRM}/a%20b/%2Fc")
    );
    assert_eq!(
        prm("https://h/%7Euser")[0],
        format!("https://h{PRM}/%7Euser")
    );
}

#[test]
fn rfc3986_6_2_2_1_host_case_kept() {
    // Host case is kept as given (the reference does not normalise); scheme is lower-cased.
    assert_eq!(
        prm("HTTPS://API.Example.COM/MCP")[0],
        format!("https://API.Example.COM{PRM}/MCP")
    );
}

#[test]
fn sep985_trailing_slash_kept() {
    assert_eq!(
        prm("https://h/v1/mcp/")[0],
        format!("https://h{PRM}/v1/mcp/")
    );
}

#[test]
fn rfc9728_3_1_query_and_fragment_dropped() {
    assert_eq!(
        prm("https://h/mcp?session=1&x=%2F#frag"),
        [format!("https://h{PRM}/mcp"), format!("https://h{PRM}")]
    );
    // "?" inside the fragment and "#" inside the query do not confuse the split.
    assert_eq!(prm("https://h/a#b?c")[0], format!("https://h{PRM}/a"));
    assert_eq!(prm("https://h/a?b#c/d")[0], format!("https://h{PRM}/a"));
}

#[test]
fn rfc3986_3_3_semicolon_is_part_of_the_path() {
    // The reference's urlparse drops a last-segment ";params"; RFC 3986 keeps it.
    assert_eq!(
        prm("https://h/mcp;v=1")[0],
        format!("https://h{PRM}/mcp;v=1")
    );
}

#[test]
fn rfc3986_5_2_4_dot_segments_removed() {
    assert_eq!(prm("https://h/a/../b")[0], format!("https://h{PRM}/b"));
    assert_eq!(prm("https://h/a/./b/.")[0], format!("https://h{PRM}/a/b/"));
    // Climbing above the root stays at the root: the resource is the root.
    assert_eq!(prm("https://h/.."), [format!("https://h{PRM}")]);
    assert_eq!(prm("https://h/../../x")[0], format!("https://h{PRM}/x"));
}

#[test]
fn sep985_header_url_first_and_verbatim() {
    let header = "https://other.example.com/meta?x=1";
    assert_eq!(
        prm_urls(Some(header), "https://h/mcp"),
        [
            header.to_owned(),
            format!("https://h{PRM}/mcp"),
            format!("https://h{PRM}")
        ]
    );
    // Empty header value: ignored (the reference's truthiness test).
    assert_eq!(prm_urls(Some(""), "https://h"), [format!("https://h{PRM}")]);
    // No de-duplication, as in the reference.
    let dup = format!("https://h{PRM}");
    assert_eq!(prm_urls(Some(&dup), "https://h"), [dup.clone(), dup]);
}

#[test]
fn whatwg_leading_space_and_tab_newline_removed() {
    assert_eq!(prm("  https://h/m\tc\np")[0], format!("https://h{PRM}/mcp"));
}

#[test]
fn non_absolute_server_urls_give_no_candidates() {
    for garbage in [
        "",
        "api.example.com/mcp",
        "/mcp",
        "//h/mcp",
        "https:/h/mcp",
        "https:///mcp",
        "https://:443/mcp",
        "https://user@/mcp",
        "https://[::1/mcp",
        "https://::1]/mcp",
        "https://[127.0.0.1]/mcp",
        "https://[v1.]/",
        "ftp://h/mcp",
        "ws://h/mcp",
        "localhost:8080/mcp",
    ] {
        assert_eq!(prm(garbage), Vec::<String>::new(), "{garbage:?}");
        if !garbage.is_empty() {
            // (An empty issuer selects the legacy path instead.)
            assert_eq!(
                as_urls(Some(garbage), "https://h"),
                Vec::<String>::new(),
                "{garbage:?}"
            );
        }
        assert_eq!(as_urls(None, garbage), Vec::<String>::new(), "{garbage:?}");
        assert_eq!(mcp_origin(garbage), None, "{garbage:?}");
        assert_eq!(
            prm_urls(Some("https://x/m"), garbage),
            ["https://x/m"],
            "{garbage:?}"
        );
    }
    // IPvFuture is a valid IP literal (RFC 3986 §3.2.2).
    assert_eq!(
        mcp_origin("http://[v1.fe]/").as_deref(),
        Some("http://[v1.fe]")
    );
}

// ---- RFC 8414 §3.1, RFC 8414 §5, OIDC Discovery 1.0 §4 -----------------------------------

#[test]
fn rfc8414_3_1_issuer_with_path_inserts_then_oidc() {
    assert_eq!(
        as_urls(Some("https://as.example.com/issuer1"), "https://rs"),
        [
            format!("https://as.example.com{OAS}/issuer1"),
            format!("https://as.example.com{OIDC}/issuer1"),
            format!("https://as.example.com/issuer1{OIDC}"),
        ]
    );
}

#[test]
fn rfc8414_3_1_terminating_slashes_removed() {
    let want = [
        format!("https://as{OAS}/t/a"),
        format!("https://as{OIDC}/t/a"),
        format!("https://as/t/a{OIDC}"),
    ];
    assert_eq!(as_urls(Some("https://as/t/a/"), "x"), want);
    assert_eq!(as_urls(Some("https://as/t/a///"), "x"), want);
}

#[test]
fn rfc8414_3_1_root_issuer_tries_oauth_then_oidc() {
    let want = [
        format!("https://as:8443{OAS}"),
        format!("https://as:8443{OIDC}"),
    ];
    assert_eq!(as_urls(Some("https://as:8443"), "x"), want);
    assert_eq!(as_urls(Some("https://as:8443/"), "x"), want);
    assert_eq!(as_urls(Some("https://as:8443/?q#f"), "x"), want);
}

#[test]
fn rfc8414_3_1_ipv6_port_userinfo_and_encoding_kept() {
    assert_eq!(
        as_urls(Some("http://u@[::1]:9000/a%2Fb"), "x"),
        [
            format!("http://u@[::1]:9000{OAS}/a%2Fb"),
            format!("http://u@[::1]:9000{OIDC}/a%2Fb"),
            format!("http://u@[::1]:9000/a%2Fb{OIDC}"),
        ]
    );
}

#[test]
fn oidc_discovery_4_append_never_changes_host() {
    // The reference's urljoin reads "//evil.example/..." as a network-path reference and
    // fetches https://evil.example/.well-known/openid-configuration; we append to the issuer.
    assert_eq!(
        as_urls(Some("https://as.example.com//evil.example"), "x")[2],
        format!("https://as.example.com//evil.example{OIDC}")
    );
}

#[test]
fn mcp_2025_03_26_legacy_fallback_uses_the_server_origin() {
    assert_eq!(
        as_urls(None, "https://rs.example.com:8443/v1/mcp?x"),
        [format!("https://rs.example.com:8443{OAS}")]
    );
    assert_eq!(
        as_urls(Some(""), "http://[::1]:3000/mcp"),
        [format!("http://[::1]:3000{OAS}")]
    );
}

#[test]
fn mcp_origin_is_scheme_and_verbatim_authority() {
    assert_eq!(
        mcp_origin("https://API.example.com:443/mcp?x#y").as_deref(),
        Some("https://API.example.com:443")
    );
    assert_eq!(mcp_origin("Http://u:p@h").as_deref(), Some("http://u:p@h"));
    assert_eq!(
        mcp_origin("http://[::1]:8080").as_deref(),
        Some("http://[::1]:8080")
    );
}
