//! TLS trust for [`UreqHttpClient`](super::UreqHttpClient): which certificate authorities are
//! trusted, and the client certificate for mutual TLS.
//!
//! By default the platform's trust is used: the system certificate store, as
//! [`rustls-native-certs`](https://docs.rs/rustls-native-certs) finds it (the OpenSSL paths on
//! Linux and BSD, the keychain on macOS, the certificate store on Windows), honouring
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`. The Mozilla roots bundled with the library are used only
//! where there is no store (or it holds no usable certificate). CA bundles given explicitly
//! ([`TlsSettings::ca_files`], [`TlsSettings::ca_pem`]) are trusted in addition.
//!
//! Why not `rustls-platform-verifier`: ureq can use it, but then cannot add a private CA beside
//! it, and a private CA (an enterprise root, a TLS-inspecting proxy) is what hosts need most.
//! The system store is read once per process, on the first `https` request, and shared.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts};

use crate::error::{Error, Result};

/// PEM text or a file holding it.
#[derive(Clone, PartialEq, Eq)]
pub enum PemSource {
    /// A file with PEM content.
    File(PathBuf),
    /// PEM text.
    Pem(String),
}

impl fmt::Debug for PemSource {
    /// Inline PEM is never printed (it may be a private key); a path is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemSource::File(p) => f.debug_tuple("File").field(p).finish(),
            PemSource::Pem(p) => write!(f, "Pem({} bytes)", p.len()),
        }
    }
}

impl PemSource {
    fn read(&self, what: &'static str) -> Result<Vec<u8>> {
        match self {
            PemSource::Pem(p) => Ok(p.as_bytes().to_vec()),
            PemSource::File(path) => std::fs::read(path).map_err(|e| {
                Error::invalid_argument(what, format!("cannot read {}: {e}", path.display()))
            }),
        }
    }
}

/// A client certificate (and the chain up to, not including, the root) with its private key,
/// presented when a server asks for one (mutual TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The certificate chain, leaf first (PEM `CERTIFICATE` blocks).
    pub chain: PemSource,
    /// The private key (PEM `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`).
    pub key: PemSource,
}

/// Which certificate authorities are trusted, and the client certificate to present.
///
/// ```
/// use mcp_auth::http::{HttpConfig, TlsSettings};
/// let config = HttpConfig {
///     tls: TlsSettings {
///         ca_files: vec!["/etc/corp/root-ca.pem".into()],
///         ..TlsSettings::default()
///     },
///     ..HttpConfig::default()
/// };
/// assert!(config.tls.use_system_roots);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Trust the platform's store (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`), or the bundled
    /// Mozilla roots where there is no store. Default `true`. With `false`, only the CAs given
    /// below are trusted, or the bundled Mozilla roots when none is given.
    pub use_system_roots: bool,
    /// PEM files of CA certificates to trust in addition.
    pub ca_files: Vec<PathBuf>,
    /// PEM text of CA certificates to trust in addition.
    pub ca_pem: Vec<String>,
    /// The client certificate for servers that require one.
    pub client_certificate: Option<ClientCertificate>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            use_system_roots: true,
            ca_files: Vec::new(),
            ca_pem: Vec::new(),
            client_certificate: None,
        }
    }
}

/// The hint every certificate failure carries: the settings that change what is trusted.
pub const TRUST_HINT: &str = "to trust a private CA, give its PEM bundle (Rust: HttpConfig::tls / TlsSettings::ca_files; \
options JSON: tls.ca_file or tls.ca_pem; CLI: --ca-file) or add it to the system store \
(SSL_CERT_FILE / SSL_CERT_DIR are honoured); a server that requires a client certificate \
needs tls.client_cert_file and tls.client_key_file (TlsSettings::client_certificate)";

/// The explicit part of [`TlsSettings`], parsed: loaded when the client is built, so that a bad
/// file or PEM fails then rather than on the first request.
#[derive(Clone)]
pub(crate) struct LoadedTls {
    use_system_roots: bool,
    extra: Vec<Certificate<'static>>,
    client: Option<ClientCert>,
}

impl fmt::Debug for LoadedTls {
    /// Counts only: never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedTls")
            .field("use_system_roots", &self.use_system_roots)
            .field("extra_roots", &self.extra.len())
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}

impl LoadedTls {
    /// Read and parse the files and PEM of `settings`.
    pub(crate) fn load(settings: &TlsSettings) -> Result<LoadedTls> {
        let mut extra = Vec::new();
        for path in &settings.ca_files {
            let pem = PemSource::File(path.clone()).read("tls.ca_file")?;
            extra.extend(certificates(
                &pem,
                "tls.ca_file",
                &path.display().to_string(),
            )?);
        }
        for pem in &settings.ca_pem {
            extra.extend(certificates(pem.as_bytes(), "tls.ca_pem", "the PEM text")?);
        }
        let client = match &settings.client_certificate {
            None => None,
            Some(c) => {
                let chain_pem = c.chain.read("tls.client_cert")?;
                let chain = certificates(&chain_pem, "tls.client_cert", "the certificate")?;
                let key_pem = c.key.read("tls.client_key")?;
                let key = PrivateKey::from_pem(&key_pem).map_err(|_| {
                    Error::invalid_argument(
                        "tls.client_key",
                        "no PKCS#8, PKCS#1 or SEC1 private key in the PEM",
                    )
                })?;
                Some(ClientCert::new_with_certs(&chain, key))
            }
        };
        Ok(LoadedTls {
            use_system_roots: settings.use_system_roots,
            extra,
            client,
        })
    }

    /// The roots to trust: the system store (or bundled roots) plus the explicit CAs.
    pub(crate) fn root_certs(&self) -> RootCerts {
        let mut roots: Vec<Certificate<'static>> = Vec::new();
        if self.use_system_roots {
            roots.extend(system_roots().iter().cloned());
        } else if self.extra.is_empty() {
            return RootCerts::WebPki;
        }
        roots.extend(self.extra.iter().cloned());
        RootCerts::Specific(Arc::new(roots))
    }

    pub(crate) fn client_cert(&self) -> Option<ClientCert> {
        self.client.clone()
    }
}

/// Every `CERTIFICATE` block in `pem`; at least one.
fn certificates(pem: &[u8], what: &'static str, source: &str) -> Result<Vec<Certificate<'static>>> {
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => out.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::invalid_argument(
                    what,
                    format!("{source} is not valid PEM: {e}"),
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::invalid_argument(
            what,
            format!("{source} holds no PEM CERTIFICATE block"),
        ));
    }
    Ok(out)
}

/// The platform's trusted roots, read once per process: the system store (`SSL_CERT_FILE` and
/// `SSL_CERT_DIR` win when set), or the bundled Mozilla roots when that yields nothing.
fn system_roots() -> &'static [Certificate<'static>] {
    static ROOTS: OnceLock<Vec<Certificate<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let roots: Vec<Certificate<'static>> = found
            .certs
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        if roots.is_empty() {
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                .collect()
        } else {
            roots
        }
    })
}

/// Whether a rustls error is about certificates (the peer's, or ours refused by the peer).
pub(crate) fn is_certificate_error(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::InvalidCertRevocationList(_) => true,
        rustls::Error::AlertReceived(a) => matches!(
            a,
            A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::CertificateRequired
                | A::AccessDenied
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_pem_is_never_printed() {
        let s = PemSource::Pem("-----BEGIN PRIVATE KEY-----\nSECRET\n".into());
        assert!(!format!("{s:?}").contains("SECRET"));
        let c = ClientCertificate {
            chain: PemSource::File("/c.pem".into()),
            key: s,
        };
        let d = format!("{c:?}");
        assert!(d.contains("/c.pem") && !d.contains("SECRET"), "{d}");
    }

    #[test]
    fn bad_bundles_are_invalid_arguments_naming_the_setting() {
        let e = LoadedTls::load(&TlsSettings {
            ca_pem: vec!["not pem".into()],
            ..TlsSettings::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("tls.ca_pem"), "{e}");
        let e = LoadedTls::load(&TlsSettings {
            ca_files: vec!["/nonexistent/ca.pem".into()],
            ..TlsSettings::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn without_system_roots_and_bundles_the_bundled_roots_are_used() {
        let t = LoadedTls::load(&TlsSettings {
            use_system_roots: false,
            ..TlsSettings::default()
        })
        .unwrap();
        assert!(matches!(t.root_certs(), RootCerts::WebPki));
    }
}
