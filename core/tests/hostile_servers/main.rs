//! Hostile servers: the demo server's fault modes (and, where it has none, a few lines of
//! `TcpListener`) against a client whose `FileStorage` is seeded with a working token and a
//! client registration.
//!
//! Every test ends in one specific `ErrorKind` and then checks three things:
//! - no secret (the seeded tokens and client secret, every code, verifier, `state`, token and
//!   credential that crossed the wire) appears in the error's `Display` or `Debug`, nor in any
//!   trace event;
//! - the credential file is byte-for-byte what it was before the fault (nothing lost,
//!   nothing half-written), unless the test says why not;
//! - nothing was sent past the point where the client had to stop (RFC 9700 §2.1, §4.1-4.5;
//!   MCP authorization "Security considerations").
//!
//! Tests marked `#[ignore = "bug: …"]` describe a defect whose fix belongs in `core/src`.

#[path = "../common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{FileStorage, TokenStorage};
use mcp_auth::{Check, Client, Error, ErrorKind};
use mcp_auth_demo_server::{AuthMethod, DemoConfig, FaultAction, PreregisteredClient, RouteFault};
use serde_json::json;

const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";
const ASM_PATH: &str = "/.well-known/oauth-authorization-server";

/// A client on a demo server, with a credential file seeded before the first request.
struct Seeded {
    h: Harness,
    dir: PathBuf,
    path: PathBuf,
    storage: Arc<FileStorage>,
    resource: String,
    /// The issuer the seeded registration is bound to.
    client_issuer: String,
    token: OAuthToken,
    client: OAuthClientInformationFull,
    file_before: Vec<u8>,
    /// Secrets that must never show up in a message.
    secrets: Vec<String>,
}

fn random() -> String {
    mcp_auth::pkce::generate_state().secret().to_owned()
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-hostile-{}-{}",
        std::process::id(),
        random()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl Seeded {
    /// Seed a token the server does not know (so the first request gets a 401 and runs the
    /// flow) and a registration for this server's issuer that the server does know (so the
    /// flow reuses it, SEP-2352).
    fn start(config: DemoConfig) -> Seeded {
        Self::start_with(config, None)
    }

    /// As [`Seeded::start`], but with the registration bound to another issuer, so that this
    /// server's flow registers dynamically (RFC 7591).
    fn start_registering(config: DemoConfig) -> Seeded {
        Self::start_with(config, Some("https://other-as.example.com".to_owned()))
    }

    fn start_with(config: DemoConfig, client_issuer: Option<String>) -> Seeded {
        let h = Harness::start(config);
        let dir = tempdir();
        let path = dir.join("credentials.json");
        let storage = Arc::new(FileStorage::new(&path));
        let secret = format!("seeded-client-secret-{}", random());
        h.server.register_client(PreregisteredClient::new(
            "seeded-client",
            Some(&secret),
            AuthMethod::ClientSecretBasic,
        ));
        let client_issuer = client_issuer.unwrap_or_else(|| h.server.issuer());
        let mut client = OAuthClientInformationFull::new("seeded-client");
        client.client_secret = Some(secret.clone().into());
        client.token_endpoint_auth_method = Some("client_secret_basic".to_owned());
        client.issuer = Some(client_issuer.clone());
        client.redirect_uris = Some(vec![
            mcp_auth::authorization::DEFAULT_REDIRECT_URI.to_owned(),
        ]);
        let access = format!("seeded-access-{}", random());
        let refresh = format!("seeded-refresh-{}", random());
        let mut token = OAuthToken::new(access.clone());
        token.refresh_token = Some(refresh.clone().into());
        token.scope = Some("mcp:read mcp:write".to_owned());
        let resource = mcp_auth::checks::resource_url_from_server_url(&h.server.mcp_url()).unwrap();
        storage.set_tokens(&resource, &token).unwrap();
        storage.set_client_info(&client_issuer, &client).unwrap();
        let file_before = std::fs::read(&path).unwrap();
        Seeded {
            h,
            dir,
            path,
            storage,
            resource,
            client_issuer,
            token,
            client,
            file_before,
            secrets: vec![access, refresh, secret],
        }
    }

    fn builder(&self) -> mcp_auth::ClientBuilder {
        self.h.builder().storage(self.storage.clone())
    }

    fn client(&self) -> Client {
        self.builder().build().unwrap()
    }

    /// `initialize` through a fresh client; the error it must end in.
    fn fail(&self) -> Error {
        self.fail_with(&self.client())
    }

    fn fail_with(&self, c: &Client) -> Error {
        match initialize(c) {
            Ok(v) => panic!("the flow succeeded: {v}\n{:?}", self.h.lines()),
            Err(e) => e,
        }
    }

    /// Every secret that crossed the wire, from the server's request log.
    fn wire_secrets(&self) -> Vec<String> {
        let mut out = self.secrets.clone();
        for r in self.h.server.requests() {
            for (k, v) in r.form() {
                if matches!(
                    k.as_str(),
                    "code"
                        | "code_verifier"
                        | "client_secret"
                        | "refresh_token"
                        | "client_assertion"
                ) {
                    out.push(v);
                }
            }
            for (k, v) in r.query_pairs() {
                if matches!(k.as_str(), "state" | "code") {
                    out.push(v);
                }
            }
            if let Some(a) = r.header("authorization") {
                if let Some((_, cred)) = a.split_once(' ') {
                    out.push(cred.to_owned());
                }
            }
        }
        out.retain(|s| s.len() >= 8);
        out
    }

    /// No secret in the error (`Display`, `Debug`) nor in any trace event.
    fn assert_no_secret(&self, e: &Error, extra: &[&str]) {
        let trace = self
            .h
            .trace
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.to_json())
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("{e}\n{e:?}\n{trace}");
        let mut secrets = self.wire_secrets();
        secrets.extend(extra.iter().map(|s| (*s).to_owned()));
        for s in &secrets {
            let encoded: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
            assert!(
                !text.contains(s.as_str()) && !text.contains(&encoded),
                "secret {s:?} leaked:\n{text}"
            );
        }
    }

    /// The credential file is exactly as seeded, and reads back as the seeded values.
    fn assert_storage_untouched(&self) {
        let now = std::fs::read(&self.path).unwrap();
        assert!(
            now == self.file_before,
            "credential file changed:\n{}",
            String::from_utf8_lossy(&now)
        );
        let fresh = FileStorage::new(&self.path);
        assert!(fresh.get_tokens(&self.resource).unwrap() == Some(self.token.clone()));
        assert!(fresh.get_client_info(&self.client_issuer).unwrap() == Some(self.client.clone()));
    }

    /// The seeded values are still there (other entries may have been added).
    fn assert_seeded_entries_kept(&self) {
        let text = std::fs::read(&self.path).unwrap();
        serde_json::from_slice::<serde_json::Value>(&text).expect("valid JSON");
        let fresh = FileStorage::new(&self.path);
        assert!(fresh.get_client_info(&self.client_issuer).unwrap() == Some(self.client.clone()));
    }

    fn requests_to(&self, path: &str) -> usize {
        self.h.requests_to(path).len()
    }

    /// Authorization-code exchanges only (a rejected stored token is first refreshed, which
    /// is also a POST to the token endpoint).
    fn code_exchanges(&self) -> usize {
        self.h
            .requests_to("/token")
            .iter()
            .filter(|r| r.form_value("grant_type").as_deref() == Some("authorization_code"))
            .count()
    }

    fn assert_common(&self, e: &Error, kind: ErrorKind) {
        assert_eq!(e.kind(), kind, "{e}\n{:?}", self.h.lines());
        self.assert_no_secret(e, &[]);
        self.assert_storage_untouched();
    }
}

impl Drop for Seeded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn with_fault(path: &str, action: FaultAction) -> DemoConfig {
    let mut c = DemoConfig::default();
    c.faults.routes.push(RouteFault::new(path, action));
    c
}

// ---------------------------------------------------------------------------------------------

mod flows;
mod limits;
