//! Property tests of the `WWW-Authenticate` parser (RFC 9110 §11.6.1):
//!
//! - arbitrary bytes (decoded lossily, as `parse_www_authenticate_headers` does) and mutated
//!   well-formed headers never panic and always terminate (the lexer also `debug_assert`s
//!   progress on every skipped element), with output bounded by the input;
//! - generated well-formed challenges, serialized with every syntactic freedom the grammar
//!   gives (quoting a token or not, quoted-pair escapes, BWS, 1*SP, empty list elements, name
//!   case, several field lines), parse back to exactly what was generated.

use mcp_auth::challenge::{
    Challenge, bearer_challenge, extract_field_from_www_auth,
    extract_resource_metadata_from_www_auth, parse_www_authenticate,
    parse_www_authenticate_headers, parse_www_authenticate_values,
};
use proptest::prelude::*;

/// `token` (RFC 9110 §5.6.2).
const TOKEN: &str = "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,10}";
/// `token68` (RFC 9110 §11.2).
const TOKEN68: &str = "[A-Za-z0-9._~+/-]{1,12}={0,2}";

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[derive(Debug, Clone)]
enum Body {
    Token68(String),
    Params(Vec<(String, String, Style)>),
}

/// How one auth-param is written.
#[derive(Debug, Clone)]
struct Style {
    quote_anyway: bool,
    bws_before: usize,
    bws_after: usize,
    ows_before_comma: usize,
    empty_elements: usize,
    new_line_before: bool,
}

#[derive(Debug, Clone)]
struct Gen {
    scheme: String,
    spaces_after_scheme: usize,
    body: Body,
    new_line_before: bool,
    empty_elements: usize,
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        TOKEN.prop_map(String::from),
        Just(String::new()),
        "[ a-z\"\\\\,=;]{0,12}".prop_map(String::from),
        any::<String>(),
        "\\PC{0,16}".prop_map(String::from),
    ]
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<bool>(),
        0..3usize,
        0..3usize,
        0..3usize,
        0..3usize,
        any::<bool>(),
    )
        .prop_map(
            |(
                quote_anyway,
                bws_before,
                bws_after,
                ows_before_comma,
                empty_elements,
                new_line_before,
            )| {
                Style {
                    quote_anyway,
                    bws_before,
                    bws_after,
                    ows_before_comma,
                    empty_elements,
                    new_line_before,
                }
            },
        )
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        1 => TOKEN68.prop_map(|t| Body::Token68(t.to_string())),
        4 => proptest::collection::vec((TOKEN.prop_map(String::from), value(), style()), 0..5)
            .prop_map(Body::Params),
    ]
}

fn challenge() -> impl Strategy<Value = Gen> {
    (TOKEN, 1..4usize, body(), any::<bool>(), 0..3usize).prop_map(
        |(scheme, spaces_after_scheme, body, new_line_before, empty_elements)| Gen {
            scheme: scheme.to_string(),
            spaces_after_scheme,
            body,
            new_line_before,
            empty_elements,
        },
    )
}

fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// What the parser must return: names lowercased, values as generated.
fn expected(gens: &[Gen]) -> Vec<Challenge> {
    gens.iter()
        .map(|g| match &g.body {
            Body::Token68(t) => Challenge {
                scheme: g.scheme.clone(),
                token68: Some(t.clone()),
                params: vec![],
            },
            Body::Params(ps) => Challenge {
                scheme: g.scheme.clone(),
                token68: None,
                params: ps
                    .iter()
                    .map(|(n, v, _)| (n.to_ascii_lowercase(), v.clone()))
                    .collect(),
            },
        })
        .collect()
}

/// Serialize into field lines. A line break may come before any list element except a
/// token68 (which must follow its scheme); lines are equivalent to `,` (RFC 9110 §5.3).
fn serialize(gens: &[Gen]) -> Vec<String> {
    let mut lines = vec![String::new()];
    let sep = |lines: &mut Vec<String>, new_line: bool, empties: usize, ows: usize| {
        let cur = lines.last_mut().expect("one line");
        if cur.is_empty() {
            // Leading empty elements are allowed too.
            for _ in 0..empties {
                cur.push_str(", ");
            }
            return;
        }
        if new_line {
            lines.push(String::new());
            return;
        }
        cur.push_str(&" ".repeat(ows));
        for _ in 0..=empties {
            cur.push(',');
            cur.push_str(&" ".repeat(ows));
        }
    };
    for g in gens {
        sep(&mut lines, g.new_line_before, g.empty_elements, 1);
        let cur = lines.last_mut().expect("one line");
        cur.push_str(&g.scheme);
        match &g.body {
            Body::Token68(t) => {
                cur.push_str(&" ".repeat(g.spaces_after_scheme));
                cur.push_str(t);
            }
            Body::Params(ps) => {
                for (i, (name, value, st)) in ps.iter().enumerate() {
                    if i == 0 {
                        let cur = lines.last_mut().expect("one line");
                        cur.push_str(&" ".repeat(g.spaces_after_scheme));
                    } else {
                        sep(
                            &mut lines,
                            st.new_line_before,
                            st.empty_elements,
                            st.ows_before_comma,
                        );
                    }
                    let cur = lines.last_mut().expect("one line");
                    cur.push_str(name);
                    cur.push_str(&"\t".repeat(st.bws_before));
                    cur.push('=');
                    cur.push_str(&" ".repeat(st.bws_after));
                    if st.quote_anyway || !is_token(value) {
                        cur.push_str(&quote(value));
                    } else {
                        cur.push_str(value);
                    }
                }
            }
        }
    }
    lines
}

fn bounded(out: &[Challenge], input_len: usize) {
    assert!(out.len() <= input_len);
    let params: usize = out.iter().map(|c| c.params.len()).sum();
    assert!(params <= input_len);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&bytes);
        let out = parse_www_authenticate(&s);
        bounded(&out, s.len());
        let _ = bearer_challenge(&out);
        for field in ["scope", "resource_metadata", "error", "realm", ""] {
            let _ = extract_field_from_www_auth(Some(&s), field);
        }
        let _ = extract_resource_metadata_from_www_auth(Some(&s), 401);
        // Split at arbitrary char boundaries into several lines.
        let cut = s.char_indices().map(|(i, _)| i).nth(bytes.len() / 3).unwrap_or(0);
        let (a, b) = s.split_at(cut);
        bounded(&parse_www_authenticate_values([a, b]), s.len());
        // Through a HeaderMap when `http` accepts the bytes as a value.
        if let Ok(v) = http::HeaderValue::from_bytes(&bytes) {
            let mut h = http::HeaderMap::new();
            h.append(http::header::WWW_AUTHENTICATE, v.clone());
            h.append(http::header::WWW_AUTHENTICATE, v);
            bounded(&parse_www_authenticate_headers(&h), 2 * bytes.len());
        }
    }

    #[test]
    fn arbitrary_strings_from_grammar_alphabet_never_panic(s in "[ \t,=\"\\\\a-zA-Z0-9/+é]{0,200}") {
        let out = parse_www_authenticate(&s);
        bounded(&out, s.len());
        let _ = extract_field_from_www_auth(Some(&s), "a");
    }

    #[test]
    fn generated_challenges_round_trip(gens in proptest::collection::vec(challenge(), 0..5)) {
        let lines = serialize(&gens);
        let want = expected(&gens);
        let got = parse_www_authenticate_values(lines.iter().map(String::as_str));
        prop_assert_eq!(&got, &want, "lines: {:?}", lines);
        // One line joined with ", " is the same (RFC 9110 §5.3).
        prop_assert_eq!(&parse_www_authenticate(&lines.join(", ")), &want);
        // Through a HeaderMap, when every line is a valid header value.
        let values: Result<Vec<_>, _> =
            lines.iter().map(|l| http::HeaderValue::from_str(l)).collect();
        if let Ok(values) = values {
            let mut h = http::HeaderMap::new();
            for v in values {
                h.append(http::header::WWW_AUTHENTICATE, v);
            }
            prop_assert_eq!(&parse_www_authenticate_headers(&h), &want);
        }
        // `Display` writes a canonical form that parses back too.
        let canonical: Vec<String> = want.iter().map(ToString::to_string).collect();
        prop_assert_eq!(&parse_www_authenticate(&canonical.join(", ")), &want);
        // The reference-compatible lookup agrees with the challenge model.
        for c in want.iter().filter(|c| c.is_bearer()).take(1) {
            for (name, _) in &c.params {
                let joined = lines.join(", ");
                let got = extract_field_from_www_auth(Some(&joined), name);
                prop_assert_eq!(got.as_deref(), c.param(name));
            }
        }
    }

    #[test]
    fn mutated_headers_never_panic(
        gens in proptest::collection::vec(challenge(), 1..4),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), "[\"\\\\,= \t]|\\PC"), 1..6),
    ) {
        let mut s = serialize(&gens).join(", ");
        for (at, insert) in edits {
            let boundaries: Vec<usize> =
                s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
            s.insert_str(*at.get(&boundaries), &insert);
        }
        let out = parse_www_authenticate(&s);
        bounded(&out, s.len());
        let _ = extract_field_from_www_auth(Some(&s), "scope");
    }
}
