//! TLS for both listeners: the certificate and key files, loaded into one rustls configuration
//! whose certificate is swapped in place when the files change (checked every few seconds)
//! or on SIGHUP, so certificates renew without a restart.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// How often the certificate files are checked for changes.
const WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// Serves whichever certificate was loaded last.
#[derive(Debug)]
pub struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.clone())
    }
}

/// Reads the certificate chain and key, and checks that they belong together.
fn load(files: &TlsFiles) -> Result<CertifiedKey, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("cannot read {}: {e}", files.cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("invalid certificate in {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        format!(
            "cannot read a private key from {}: {e}",
            files.key.display()
        )
    })?;
    let signing_key = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| format!("unsupported private key in {}: {e}", files.key.display()))?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified.keys_match().map_err(|e| {
        format!(
            "{} does not match {}: {e}",
            files.key.display(),
            files.cert.display()
        )
    })?;
    Ok(certified)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The TLS side of the listeners.
#[derive(Clone)]
pub struct Tls {
    /// Accepts TLS connections with the current certificate.
    pub acceptor: TlsAcceptor,
    cert: Arc<ReloadingCert>,
    files: TlsFiles,
}

impl Tls {
    /// Loads the files (a bad certificate or key stops start-up).
    pub fn new(files: TlsFiles) -> Result<Self, String> {
        let cert = Arc::new(ReloadingCert {
            current: RwLock::new(Arc::new(load(&files)?)),
        });
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(cert.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert,
            files,
        })
    }

    /// Loads the files again; on failure the previous certificate stays in service.
    pub fn reload(&self) -> Result<(), String> {
        let fresh = load(&self.files)?;
        if let Ok(mut current) = self.cert.current.write() {
            *current = Arc::new(fresh);
        }
        Ok(())
    }

    /// Reloads on SIGHUP and whenever a file's modification time changes, until the process
    /// ends.
    pub async fn watch(self) {
        let stamp = |files: &TlsFiles| (modified(&files.cert), modified(&files.key));
        let mut seen = stamp(&self.files);
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            let by_signal = {
                let hup = async {
                    match hangup.as_mut() {
                        Some(h) => h.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = hup => true,
                    () = tokio::time::sleep(WATCH_INTERVAL) => false,
                }
            };
            #[cfg(not(unix))]
            let by_signal = {
                tokio::time::sleep(WATCH_INTERVAL).await;
                false
            };
            let now = stamp(&self.files);
            if !by_signal && now == seen {
                continue;
            }
            seen = now;
            match self.reload() {
                Ok(()) => tracing::info!(
                    cert = %self.files.cert.display(),
                    trigger = if by_signal { "SIGHUP" } else { "file change" },
                    "TLS certificate reloaded"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "TLS certificate reload failed; keeping the previous one");
                }
            }
        }
    }
}
