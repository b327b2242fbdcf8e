//! Unit and property tests of scope selection (SEP-835, SEP-2207) and union (SEP-2350).

use mcp_auth::metadata::{OAuthMetadata, ProtectedResourceMetadata};
use mcp_auth::scope::{get_client_metadata_scopes, union_scopes};
use proptest::prelude::*;

fn prm(scopes: Option<&[&str]>) -> ProtectedResourceMetadata {
    let mut p = ProtectedResourceMetadata::new("https://rs/mcp", vec!["https://as".to_owned()]);
    p.scopes_supported = scopes.map(|s| s.iter().map(|s| (*s).to_owned()).collect());
    p
}

fn asm(scopes: Option<&[&str]>) -> OAuthMetadata {
    let mut a = OAuthMetadata::new("https://as", "https://as/a", "https://as/t");
    a.scopes_supported = scopes.map(|s| s.iter().map(|s| (*s).to_owned()).collect());
    a
}

fn grants(g: &[&str]) -> Vec<String> {
    g.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn sep835_priority_header_then_prm_then_asm_then_none() {
    let (p, a) = (prm(Some(&["p"])), asm(Some(&["a"])));
    assert_eq!(
        get_client_metadata_scopes(Some("h"), Some(&p), Some(&a), None).as_deref(),
        Some("h")
    );
    assert_eq!(
        get_client_metadata_scopes(None, Some(&p), Some(&a), None).as_deref(),
        Some("p")
    );
    assert_eq!(
        get_client_metadata_scopes(None, Some(&prm(None)), Some(&a), None).as_deref(),
        Some("a")
    );
    assert_eq!(get_client_metadata_scopes(None, None, None, None), None);
    assert_eq!(
        get_client_metadata_scopes(None, Some(&prm(None)), Some(&asm(None)), None),
        None
    );
    // An empty header scope still wins (the reference: "is not None").
    assert_eq!(
        get_client_metadata_scopes(Some(""), Some(&p), None, None).as_deref(),
        Some("")
    );
}

#[test]
fn sep2207_offline_access_needs_as_support_and_refresh_grant() {
    let g = grants(&["authorization_code", "refresh_token"]);
    let a = asm(Some(&["read", "offline_access"]));
    assert_eq!(
        get_client_metadata_scopes(Some("read"), None, Some(&a), Some(&g)).as_deref(),
        Some("read offline_access")
    );
    assert_eq!(
        get_client_metadata_scopes(Some("read offline_access"), None, Some(&a), Some(&g))
            .as_deref(),
        Some("read offline_access")
    );
    assert_eq!(
        get_client_metadata_scopes(Some("read"), None, Some(&asm(Some(&["read"]))), Some(&g))
            .as_deref(),
        Some("read")
    );
    assert_eq!(
        get_client_metadata_scopes(
            Some("read"),
            None,
            Some(&a),
            Some(&grants(&["authorization_code"]))
        )
        .as_deref(),
        Some("read")
    );
    assert_eq!(
        get_client_metadata_scopes(Some("read"), None, Some(&a), None).as_deref(),
        Some("read")
    );
    // RFC 6749 §3.3: never a leading space.
    assert_eq!(
        get_client_metadata_scopes(Some("  "), None, Some(&a), Some(&g)).as_deref(),
        Some("offline_access")
    );
    assert_eq!(
        get_client_metadata_scopes(None, Some(&prm(Some(&[]))), Some(&a), Some(&g)).as_deref(),
        Some("offline_access")
    );
}

#[test]
fn sep2350_union_keeps_order_and_adds_new_tokens() {
    assert_eq!(
        union_scopes(Some("a b"), Some("b c a d")).as_deref(),
        Some("a b c d")
    );
    assert_eq!(union_scopes(Some("a"), Some("b b")).as_deref(), Some("a b"));
    assert_eq!(
        union_scopes(None, Some("x  y")).as_deref(),
        Some("x  y"),
        "new is returned unchanged"
    );
    assert_eq!(union_scopes(Some("x  y"), None).as_deref(), Some("x  y"));
}

fn scope_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "c", "read", "write", "offline_access"]),
        0..6,
    )
    .prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sep2350_union_is_a_superset_without_new_duplicates(p in scope_strategy(), n in scope_strategy()) {
        prop_assume!(!p.is_empty() && !n.is_empty());
        let u = union_scopes(Some(&p), Some(&n)).unwrap();
        for t in p.split_whitespace().chain(n.split_whitespace()) {
            prop_assert!(u.split_whitespace().any(|x| x == t));
        }
        for t in n.split_whitespace() {
            if !p.split_whitespace().any(|x| x == t) {
                prop_assert_eq!(u.split_whitespace().filter(|x| *x == t).count(), 1);
            }
        }
        // RFC 6749 §3.3 syntax: tokens separated by single spaces.
        prop_assert!(u.is_empty() || !(u.starts_with(' ') || u.ends_with(' ') || u.contains("  ")));
    }

    #[test]
    fn sep2207_selection_is_well_formed(h in scope_strategy(), supported in scope_strategy()) {
        let a = asm(Some(&supported.split_whitespace().collect::<Vec<_>>()));
        let g = grants(&["refresh_token"]);
        if let Some(s) = get_client_metadata_scopes(Some(&h), None, Some(&a), Some(&g)) {
            prop_assert!(!s.starts_with(' '));
            let offline = s.split_whitespace().filter(|t| *t == "offline_access").count();
            prop_assert!(offline <= 1 || h.split_whitespace().filter(|t| *t == "offline_access").count() > 1);
        }
    }
}
