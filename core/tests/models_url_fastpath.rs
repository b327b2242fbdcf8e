//! The canonical-URL fast path of metadata parsing must agree with the full WHATWG parse:
//! whenever `is_canonical_http_url` accepts a string, normalising it fully gives the same
//! string back.

use mcp_auth::metadata::{is_canonical_http_url, normalize_http_url};
use proptest::prelude::*;

/// The full normalisation, without the fast path (mirrors metadata.rs).
fn slow(s: &str) -> Option<String> {
    let url = url::Url::parse(s).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut out = String::from(url.clone());
    let after_scheme = &s[s.find("://")? + 3..];
    let empty_path = after_scheme
        .find(['/', '?', '#'])
        .is_none_or(|i| after_scheme.as_bytes()[i] != b'/');
    if url.path() == "/" && empty_path {
        let at = url[..url::Position::BeforePath].len();
        out.remove(at);
    }
    Some(out)
}

fn check(s: &str) {
    if is_canonical_http_url(s) {
        assert_eq!(slow(s).as_deref(), Some(s), "fast path accepted {s:?}");
        assert_eq!(normalize_http_url(s).as_deref(), Ok(s));
    }
}

#[test]
fn known_canonical_and_non_canonical_urls() {
    for s in [
        "https://auth.example.com",
        "https://auth.example.com/oauth2/authorize",
        "http://127.0.0.1:8080/mcp?x=1#f",
        "https://a.example/p%20q",
    ] {
        assert!(is_canonical_http_url(s), "{s}");
        check(s);
    }
    for s in [
        "https://AUTH.example.com",
        "https://a.example:443/x",
        "https://a.example/./x",
        "https://a.example/a/../b",
        "https://a.example/%2e%2e/b",
        "https://u@a.example/",
        "https://[::1]/",
        "https://1.2/",
        "https://a.1/",
        "https://a.example/sp ace",
        "https://a.example/back\\slash",
        "ftp://a.example/",
        "https://a.example:0443/",
    ] {
        assert!(!is_canonical_http_url(s), "{s}");
        // Those that parse still normalise through the slow path.
        if let Some(n) = slow(s) {
            assert_eq!(normalize_http_url(s).unwrap(), n, "{s}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]
    #[test]
    fn fast_path_agrees_with_the_full_parse(
        scheme in prop::sample::select(vec!["http://", "https://"]),
        host in "[a-z0-9.\\-]{1,12}",
        port in prop::option::of("[0-9]{1,6}"),
        tail in "[/?#a-zA-Z0-9._~%!$&'()*+,;=:@\\-\\[\\]\\\\ ^`{|}\"<>]{0,16}",
    ) {
        let s = match &port {
            Some(p) => format!("{scheme}{host}:{p}{tail}"),
            None => format!("{scheme}{host}{tail}"),
        };
        check(&s);
    }
}
