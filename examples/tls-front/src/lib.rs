//! A test instrument for mcp-auth's TLS trust: a private certificate authority generated at run
//! time ([`Pki`]) and a TLS-terminating forwarder ([`TlsFront`]) that puts HTTPS in front of a
//! plaintext loopback server (the demo server), optionally requiring a client certificate
//! (mutual TLS).
//!
//! It counts from the server's side what the tests assert: connections accepted, handshakes
//! completed and handshakes refused.
//!
//! ```no_run
//! use mcp_auth_tls_front::{Pki, TlsFront};
//! let pki = Pki::generate().unwrap();
//! let front = TlsFront::start(&pki, "127.0.0.1:8080".parse().unwrap(), false).unwrap();
//! println!("{} (trust {})", front.origin(), pki.ca_pem);
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

/// A private CA and the certificates it issued, all PEM: a server certificate for `localhost`,
/// `127.0.0.1` and `::1`, and a client certificate for mutual TLS.
#[derive(Clone)]
pub struct Pki {
    /// The CA certificate: what a client must trust.
    pub ca_pem: String,
    /// The server's certificate (leaf only).
    pub server_cert_pem: String,
    /// The server's private key (PKCS#8).
    pub server_key_pem: String,
    /// A client certificate the same CA issued.
    pub client_cert_pem: String,
    /// Its private key (PKCS#8).
    pub client_key_pem: String,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

fn rcgen_err(e: rcgen::Error) -> io::Error {
    io::Error::other(e.to_string())
}

impl Pki {
    /// Generate a fresh CA (ECDSA P-256) and its two leaf certificates.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn generate() -> io::Result<Pki> {
        Self::generate_for(&["localhost", "127.0.0.1", "::1"])
    }

    /// As [`Pki::generate`], with a server certificate for `names` (host names and IP
    /// addresses) instead.
    ///
    /// # Errors
    /// When key generation or signing fails.
    pub fn generate_for(names: &[&str]) -> io::Result<Pki> {
        let ca_key = KeyPair::generate().map_err(rcgen_err)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(rcgen_err)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "mcp-auth test CA (generated)");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).map_err(rcgen_err)?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(rcgen_err)?;
        let mut server =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .map_err(rcgen_err)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).map_err(rcgen_err)?;

        let client_key = KeyPair::generate().map_err(rcgen_err)?;
        let mut client = CertificateParams::new(Vec::<String>::new()).map_err(rcgen_err)?;
        client
            .distinguished_name
            .push(DnType::CommonName, "mcp-auth test client");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer).map_err(rcgen_err)?;

        Ok(Pki {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        })
    }

    /// The rustls server configuration: this PKI's server certificate, and when
    /// `require_client_cert`, a client certificate issued by this CA is required.
    ///
    /// # Errors
    /// When the PEM does not load (it always does for a generated PKI).
    pub fn server_config(&self, require_client_cert: bool) -> io::Result<Arc<ServerConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = vec![
            CertificateDer::from_pem_slice(self.server_cert_pem.as_bytes())
                .map_err(io::Error::other)?,
        ];
        let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes())
            .map_err(io::Error::other)?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?;
        let config = if require_client_cert {
            let mut roots = RootCertStore::empty();
            roots
                .add(
                    CertificateDer::from_pem_slice(self.ca_pem.as_bytes())
                        .map_err(io::Error::other)?,
                )
                .map_err(io::Error::other)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(io::Error::other)?;
            builder
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key)
        } else {
            builder.with_no_client_auth().with_single_cert(chain, key)
        }
        .map_err(io::Error::other)?;
        Ok(Arc::new(config))
    }
}

/// What the front saw, counted on its side of the connection.
#[derive(Debug, Default)]
pub struct Counters {
    /// TCP connections accepted.
    pub accepted: AtomicUsize,
    /// TLS handshakes completed.
    pub handshakes: AtomicUsize,
    /// TLS handshakes that failed (the client refused the certificate, or sent none when one
    /// was required).
    pub failed_handshakes: AtomicUsize,
}

/// A TLS-terminating forwarder on `127.0.0.1` (ephemeral port) to a plaintext upstream: every
/// accepted connection is decrypted and relayed byte for byte to a new upstream connection.
/// It runs until the process exits.
#[derive(Debug)]
pub struct TlsFront {
    addr: SocketAddr,
    counters: Arc<Counters>,
}

impl TlsFront {
    /// Start the front for `upstream` with `pki`'s server certificate.
    ///
    /// # Errors
    /// When the listener cannot be bound or the configuration does not load.
    pub fn start(pki: &Pki, upstream: SocketAddr, require_client_cert: bool) -> io::Result<Self> {
        Self::start_with(pki.server_config(require_client_cert)?, upstream)
    }

    /// Start the front with an explicit rustls configuration.
    ///
    /// # Errors
    /// When the listener cannot be bound.
    pub fn start_with(config: Arc<ServerConfig>, upstream: SocketAddr) -> io::Result<Self> {
        Self::start_at(
            "127.0.0.1:0".parse().map_err(io::Error::other)?,
            config,
            upstream,
        )
    }

    /// Start the front on `bind` (e.g. an address given to `lo` in a private network
    /// namespace) with an explicit rustls configuration.
    ///
    /// # Errors
    /// When the listener cannot be bound.
    pub fn start_at(
        bind: SocketAddr,
        config: Arc<ServerConfig>,
        upstream: SocketAddr,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                c.accepted.fetch_add(1, Ordering::SeqCst);
                let (config, c) = (config.clone(), c.clone());
                thread::spawn(move || {
                    let mut handshaken = false;
                    let _ = relay(tcp, config, upstream, &c, &mut handshaken);
                    if !handshaken {
                        // Refused by either side, or the client went away mid-handshake.
                        c.failed_handshakes.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        Ok(TlsFront { addr, counters })
    }

    /// The front's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The front's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// What the front has seen so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

fn lock(conn: &Mutex<ServerConnection>) -> std::sync::MutexGuard<'_, ServerConnection> {
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Relay one connection: this thread reads TLS records from the client and writes plaintext
/// upstream; a second thread reads upstream and writes TLS records to the client. The
/// connection state is shared under a mutex that is never held across a blocking read.
fn relay(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    upstream: SocketAddr,
    counters: &Counters,
    handshaken: &mut bool,
) -> io::Result<()> {
    let conn = Arc::new(Mutex::new(
        ServerConnection::new(config).map_err(io::Error::other)?,
    ));
    let mut tcp_r = tcp.try_clone()?;
    let mut tcp_w = tcp.try_clone()?;
    let mut up: Option<TcpStream> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match tcp_r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut plain = Vec::new();
        {
            let mut c = lock(&conn);
            let mut slice = &buf[..n];
            while !slice.is_empty() {
                c.read_tls(&mut slice)?;
                if let Err(e) = c.process_new_packets() {
                    // Send the alert, then give up on this connection.
                    while c.wants_write() {
                        if c.write_tls(&mut tcp_w).is_err() {
                            break;
                        }
                    }
                    // Half-close and drain: a client still writing its request then reads
                    // the alert instead of failing on a reset connection.
                    let _ = tcp.shutdown(Shutdown::Write);
                    let _ = tcp_r.set_read_timeout(Some(std::time::Duration::from_secs(30)));
                    while matches!(tcp_r.read(&mut buf), Ok(n) if n > 0) {}
                    return Err(io::Error::other(e));
                }
                match c.reader().read_to_end(&mut plain) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            while c.wants_write() {
                c.write_tls(&mut tcp_w)?;
            }
            if !*handshaken && !c.is_handshaking() {
                *handshaken = true;
                counters.handshakes.fetch_add(1, Ordering::SeqCst);
            }
        }
        if !plain.is_empty() {
            if up.is_none() {
                let stream = TcpStream::connect(upstream)?;
                let reader = stream.try_clone()?;
                let (conn, tcp_w) = (conn.clone(), tcp.try_clone()?);
                thread::spawn(move || downstream(reader, conn, tcp_w));
                up = Some(stream);
            }
            if let Some(u) = up.as_mut() {
                u.write_all(&plain)?;
            }
        }
    }
    if let Some(u) = up {
        let _ = u.shutdown(Shutdown::Write);
    }
    Ok(())
}

/// Upstream → client: plaintext in, TLS records out; close_notify at the end.
fn downstream(mut up: TcpStream, conn: Arc<Mutex<ServerConnection>>, mut tcp: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match up.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut c = lock(&conn);
        if c.writer().write_all(&buf[..n]).is_err() {
            break;
        }
        while c.wants_write() {
            if c.write_tls(&mut tcp).is_err() {
                return;
            }
        }
    }
    let mut c = lock(&conn);
    c.send_close_notify();
    while c.wants_write() {
        if c.write_tls(&mut tcp).is_err() {
            break;
        }
    }
    let _ = tcp.shutdown(Shutdown::Write);
}
