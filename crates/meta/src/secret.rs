//! Access-key secrets at rest: sealed with AES-256-GCM under the server's master key.
//!
//! The master key comes from `COFFER_MASTER_KEY` (base64 of 32 bytes) or from `master.key`
//! beside the database, created (mode 0600) on first use. A sealed secret is stored as
//! `v1:<base64 nonce+ciphertext>`; a value without that prefix is read as plaintext, so rows
//! written before sealing existed keep working.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;

use crate::MetaError;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Seals and opens secrets with the master key.
#[derive(Clone)]
pub struct SecretCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher(<master key>)")
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl SecretCipher {
    /// A cipher over a 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// The master key from `COFFER_MASTER_KEY`, else from (or into) `dir/master.key`.
    pub fn load_or_create(dir: &Path) -> Result<Self, MetaError> {
        let decode = |text: &str| -> Result<[u8; 32], MetaError> {
            b64()
                .decode(text.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    MetaError::Corrupt("the master key is not base64 of 32 bytes".into())
                })
        };
        if let Ok(text) = std::env::var("COFFER_MASTER_KEY") {
            return Ok(Self::new(&decode(&text)?));
        }
        let path = dir.join("master.key");
        let io = |e: std::io::Error| MetaError::Database(format!("{}: {e}", path.display()));
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Self::new(&decode(&text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                let tmp = dir.join("master.key.tmp");
                write_private(&tmp, b64().encode(key).as_bytes()).map_err(io)?;
                // Whoever renames first wins; everyone then reads the same key.
                std::fs::hard_link(&tmp, &path)
                    .or_else(|e| {
                        if e.kind() == std::io::ErrorKind::AlreadyExists {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    })
                    .map_err(io)?;
                let _ = std::fs::remove_file(&tmp);
                let text = std::fs::read_to_string(&path).map_err(io)?;
                Ok(Self::new(&decode(&text)?))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Seals a secret for storage.
    pub fn seal(&self, secret: &str) -> Result<String, MetaError> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce_bytes), secret.as_bytes())
            .map_err(|_| MetaError::Corrupt("cannot seal a secret".into()))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", b64().encode(out)))
    }

    /// Opens a stored secret (plaintext rows are returned as they are).
    pub fn open(&self, stored: &str) -> Result<String, MetaError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let corrupt =
            || MetaError::Corrupt("a sealed secret does not open with the master key".into());
        let bytes = b64().decode(encoded).map_err(|_| corrupt())?;
        if bytes.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupt())?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| corrupt())?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let dir = tempfile::tempdir().unwrap();
        let cipher = SecretCipher::load_or_create(dir.path()).unwrap();
        let sealed = cipher.seal("wJalrXUtnFEMI/K7MDENG").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("wJalr"));
        assert_eq!(cipher.open(&sealed).unwrap(), "wJalrXUtnFEMI/K7MDENG");
        assert_eq!(cipher.open("legacy-plain").unwrap(), "legacy-plain");
        let again = SecretCipher::load_or_create(dir.path()).unwrap();
        assert_eq!(
            again.open(&sealed).unwrap(),
            "wJalrXUtnFEMI/K7MDENG",
            "the key persists"
        );
        let other = SecretCipher::new(&[7u8; 32]);
        assert!(other.open(&sealed).is_err());
    }
}
