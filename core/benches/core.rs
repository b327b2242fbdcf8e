//! Criterion benchmarks of the pure building blocks, on the same inputs as the Python
//! reference's own benchmark (`python_sdk_bench.py`: the 3-parameter Bearer challenge, the
//! 1275-byte AS metadata, the 286-byte PRM and the 1183-byte token response).
//!
//! Run: `cargo bench -p mcp-auth` (or `make bench`).
#![allow(missing_docs)]
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_auth::metadata::{OAuthMetadata, OAuthToken, ProtectedResourceMetadata};
use mcp_auth::{challenge, discovery, pkce, scope};

const WWW_AUTH: &str = include_str!("fixtures/www_authenticate.txt");
const MULTI: &str = concat!(
    r#"DPoP algs="ES256 RS256", error="invalid_token", "#,
    r#"Basic realm="legacy", "#,
    r#"Bearer realm="mcp", error="insufficient_scope", scope="files:read files:write", "#,
    r#"resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#
);
const ASM: &[u8] = include_bytes!("fixtures/asm.json");
const PRM: &[u8] = include_bytes!("fixtures/prm.json");
const TOKEN: &[u8] = include_bytes!("fixtures/token.json");
const SERVER: &str = "https://mcp.example.com/mcp";
const HDR_URL: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

fn challenge_benches(c: &mut Criterion) {
    c.bench_function("parse_www_authenticate (3-param Bearer)", |b| {
        b.iter(|| challenge::parse_www_authenticate(black_box(WWW_AUTH)))
    });
    c.bench_function("parse_www_authenticate (multi-challenge)", |b| {
        b.iter(|| challenge::parse_www_authenticate(black_box(MULTI)))
    });
    c.bench_function("extract resource_metadata+scope+error", |b| {
        b.iter(|| {
            let h = Some(black_box(WWW_AUTH));
            (
                challenge::extract_field_from_www_auth(h, "resource_metadata"),
                challenge::extract_field_from_www_auth(h, "scope"),
                challenge::extract_field_from_www_auth(h, "error"),
            )
        })
    });
    c.bench_function("extract resource_metadata (multi-challenge)", |b| {
        b.iter(|| {
            challenge::extract_field_from_www_auth(Some(black_box(MULTI)), "resource_metadata")
        })
    });
    c.bench_function("extract_field_from_www_auth(scope)", |b| {
        b.iter(|| challenge::extract_scope_from_www_auth(Some(black_box(WWW_AUTH))))
    });
}

fn discovery_benches(c: &mut Criterion) {
    c.bench_function("prm urls (header url, 3)", |b| {
        b.iter(|| {
            discovery::build_protected_resource_metadata_discovery_urls(
                Some(black_box(HDR_URL)),
                black_box(SERVER),
            )
        })
    });
    c.bench_function("prm urls (no header, 2)", |b| {
        b.iter(|| {
            discovery::build_protected_resource_metadata_discovery_urls(None, black_box(SERVER))
        })
    });
    c.bench_function("as urls (tenant path, 3)", |b| {
        b.iter(|| {
            discovery::build_oauth_authorization_server_metadata_discovery_urls(
                Some(black_box("https://auth.example.com/tenant1")),
                black_box(SERVER),
            )
        })
    });
    c.bench_function("as urls (root, 2)", |b| {
        b.iter(|| {
            discovery::build_oauth_authorization_server_metadata_discovery_urls(
                Some(black_box("https://auth.example.com")),
                black_box(SERVER),
            )
        })
    });
    c.bench_function("as urls (legacy, 1)", |b| {
        b.iter(|| {
            discovery::build_oauth_authorization_server_metadata_discovery_urls(
                None,
                black_box(SERVER),
            )
        })
    });
}

fn scope_benches(c: &mut Criterion) {
    let prm = ProtectedResourceMetadata::from_json(PRM).unwrap();
    let asm = OAuthMetadata::from_json(ASM).unwrap();
    let grants = vec!["authorization_code".to_owned(), "refresh_token".to_owned()];
    c.bench_function("get_client_metadata_scopes (PRM + offline_access)", |b| {
        b.iter(|| {
            scope::get_client_metadata_scopes(
                None,
                Some(black_box(&prm)),
                Some(black_box(&asm)),
                Some(&grants),
            )
        })
    });
    c.bench_function("get_client_metadata_scopes (challenge scope)", |b| {
        b.iter(|| {
            scope::get_client_metadata_scopes(
                Some(black_box("files:read files:write")),
                Some(&prm),
                Some(&asm),
                Some(&grants),
            )
        })
    });
    c.bench_function("union_scopes", |b| {
        b.iter(|| {
            scope::union_scopes(
                Some(black_box("files:read offline_access")),
                Some(black_box("files:write files:read")),
            )
        })
    });
}

fn metadata_benches(c: &mut Criterion) {
    c.bench_function("OAuthMetadata::from_json (1275 B)", |b| {
        b.iter(|| OAuthMetadata::from_json(black_box(ASM)).unwrap())
    });
    c.bench_function("ProtectedResourceMetadata::from_json (286 B)", |b| {
        b.iter(|| ProtectedResourceMetadata::from_json(black_box(PRM)).unwrap())
    });
    c.bench_function("OAuthToken::from_json (1183 B)", |b| {
        b.iter(|| OAuthToken::from_json(black_box(TOKEN)).unwrap())
    });
}

fn pkce_benches(c: &mut Criterion) {
    c.bench_function("PkceParameters::generate", |b| {
        b.iter(pkce::PkceParameters::generate)
    });
    c.bench_function("generate_state", |b| b.iter(pkce::generate_state));
}

criterion_group!(
    core_benches,
    challenge_benches,
    discovery_benches,
    scope_benches,
    metadata_benches,
    pkce_benches
);
criterion_main!(core_benches);
