//! Management API keys, kept hashed in one JSON file of the data directory
//! (`api_keys.json`, replaced atomically on every change).
//!
//! A generated key is `coffer_<id>_<secret>` with 256 random bits of secret; the file keeps its
//! id, a random salt and SHA-256(salt ‖ key). A fast hash is enough here, unlike for passwords:
//! nobody can guess a 256-bit secret however fast each guess is, and a slow hash (argon2) would
//! cost every API request tens of milliseconds and megabytes of memory. Keys supplied by the
//! operator (`COFFER_OPERATOR_API_KEY`) must be at least [`MIN_CUSTOM_KEY_LEN`] characters.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use coffer_core::AccountId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shortest API key accepted from the operator.
pub const MIN_CUSTOM_KEY_LEN: usize = 32;

/// One stored key (never the key itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Public id (`ak` + 16 hex characters), shown in listings.
    pub id: String,
    /// A label.
    pub name: String,
    /// The account the key is scoped to; `None` for operator keys.
    pub account_id: Option<String>,
    /// Hex salt.
    salt: String,
    /// Hex SHA-256 of salt and key.
    hash: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

impl ApiKeyRecord {
    /// Whether this is an operator key.
    pub fn is_operator(&self) -> bool {
        self.account_id.is_none()
    }

    fn matches(&self, presented: &str) -> bool {
        let Ok(salt) = hex::decode(&self.salt) else {
            return false;
        };
        let Ok(stored) = hex::decode(&self.hash) else {
            return false;
        };
        digest(&salt, presented).ct_eq(&stored).into()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    keys: Vec<ApiKeyRecord>,
}

/// A failure of the key store.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The file could not be read, parsed or written.
    #[error("{0}")]
    Io(String),
    /// An operator-supplied key is too short.
    #[error("an API key must be at least {MIN_CUSTOM_KEY_LEN} characters")]
    TooShort,
}

/// The key store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiKeyStore {
    path: PathBuf,
    keys: Arc<tokio::sync::RwLock<Vec<ApiKeyRecord>>>,
}

fn digest(salt: &[u8], key: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(key.as_bytes());
    hasher.finalize().to_vec()
}

/// A new key: `coffer_<id>_<secret>`, and its id.
fn generate_key() -> (String, String) {
    let id = format!("ak{}", hex::encode(rand::random::<[u8; 8]>()));
    let secret =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    (format!("coffer_{id}_{secret}"), id)
}

impl ApiKeyStore {
    /// Opens (or, when absent, starts empty) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, KeyStoreError> {
        let keys = match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice::<KeyFile>(&bytes)
                    .map_err(|e| KeyStoreError::Io(format!("{}: {e}", path.display())))?
                    .keys
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(KeyStoreError::Io(format!("{}: {e}", path.display()))),
        };
        Ok(Self {
            path: path.to_owned(),
            keys: Arc::new(tokio::sync::RwLock::new(keys)),
        })
    }

    /// The record of the key presented in a request, if it is one of ours.
    pub async fn verify(&self, presented: &str) -> Option<ApiKeyRecord> {
        let keys = self.keys.read().await;
        // Generated keys name their record; operator-supplied ones are compared with each
        // record (a handful at most).
        let id = presented
            .strip_prefix("coffer_")
            .and_then(|rest| rest.split('_').next());
        if let Some(id) = id
            && let Some(record) = keys.iter().find(|k| k.id == id)
            && record.matches(presented)
        {
            return Some(record.clone());
        }
        keys.iter().find(|k| k.matches(presented)).cloned()
    }

    /// Every key, in creation order.
    pub async fn list(&self) -> Vec<ApiKeyRecord> {
        self.keys.read().await.clone()
    }

    /// Whether any operator key exists.
    pub async fn has_operator_key(&self) -> bool {
        self.keys.read().await.iter().any(ApiKeyRecord::is_operator)
    }

    /// Creates a key (a generated one, or `supplied`) for `account` (`None`: an operator key);
    /// returns the key, shown once, and its record.
    pub async fn create(
        &self,
        name: &str,
        account: Option<&AccountId>,
        supplied: Option<&str>,
    ) -> Result<(String, ApiKeyRecord), KeyStoreError> {
        let (key, id) = match supplied {
            Some(key) if key.len() < MIN_CUSTOM_KEY_LEN => return Err(KeyStoreError::TooShort),
            Some(key) => (
                key.to_owned(),
                format!("ak{}", hex::encode(rand::random::<[u8; 8]>())),
            ),
            None => generate_key(),
        };
        let salt = rand::random::<[u8; 16]>();
        let record = ApiKeyRecord {
            id,
            name: name.to_owned(),
            account_id: account.map(ToString::to_string),
            salt: hex::encode(salt),
            hash: hex::encode(digest(&salt, &key)),
            created_at: coffer_core::time::now_millis(),
        };
        let mut keys = self.keys.write().await;
        let mut next = keys.clone();
        next.push(record.clone());
        self.persist(next.clone()).await?;
        *keys = next;
        Ok((key, record))
    }

    /// Deletes a key; `false` when there is no such key.
    pub async fn delete(&self, id: &str) -> Result<bool, KeyStoreError> {
        let mut keys = self.keys.write().await;
        let next: Vec<ApiKeyRecord> = keys.iter().filter(|k| k.id != id).cloned().collect();
        if next.len() == keys.len() {
            return Ok(false);
        }
        self.persist(next.clone()).await?;
        *keys = next;
        Ok(true)
    }

    /// Writes the whole file next to the old one, syncs it, then renames it over.
    async fn persist(&self, keys: Vec<ApiKeyRecord>) -> Result<(), KeyStoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &KeyFile { version: 1, keys }))
            .await
            .map_err(|e| KeyStoreError::Io(e.to_string()))?
    }
}

fn write_atomically(path: &Path, file: &KeyFile) -> Result<(), KeyStoreError> {
    use std::io::Write as _;
    let io = |e: std::io::Error| KeyStoreError::Io(format!("{}: {e}", path.display()));
    let bytes = serde_json::to_vec_pretty(file).map_err(|e| KeyStoreError::Io(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).write(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut out = options.open(&tmp).map_err(io)?;
        out.write_all(&bytes).map_err(io)?;
        out.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_verify_survive_reopen_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api_keys.json");
        let store = ApiKeyStore::open(&path).unwrap();
        let (key, record) = store.create("ops", None, None).await.unwrap();
        assert!(key.starts_with(&format!("coffer_{}_", record.id)));
        assert_eq!(store.verify(&key).await, Some(record.clone()));
        assert_eq!(store.verify(&format!("{key}x")).await, None);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&key), "the key itself is never stored");

        let custom = "an-operator-chosen-key-of-enough-length";
        assert!(matches!(
            store.create("short", None, Some("short")).await,
            Err(KeyStoreError::TooShort)
        ));
        let account = AccountId::from_number(7).unwrap();
        let (_, scoped) = store
            .create("c", Some(&account), Some(custom))
            .await
            .unwrap();
        let reopened = ApiKeyStore::open(&path).unwrap();
        assert_eq!(reopened.verify(custom).await, Some(scoped.clone()));
        assert_eq!(reopened.verify(&key).await, Some(record.clone()));
        assert!(reopened.delete(&record.id).await.unwrap());
        assert!(!reopened.delete(&record.id).await.unwrap());
        assert_eq!(reopened.verify(&key).await, None);
        assert!(!reopened.has_operator_key().await);
    }
}
