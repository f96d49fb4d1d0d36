//! Authentication: the secret of an access key, for s3s's signature verification, through a
//! cache with bounded staleness.

use std::sync::Arc;
use std::time::Duration;

use coffer_core::cache::TtlCache;
use coffer_engine::Engine;
use coffer_meta::AccessKey;
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};

use crate::error::from_engine;

/// How long a looked-up key is trusted before it is read again.
const KEY_TTL: Duration = Duration::from_secs(5);
/// Cached keys at most (the cache is cleared when full).
const KEY_CACHE_MAX: usize = 10_000;

/// Access keys by id, with bounded staleness.
#[derive(Clone)]
pub struct KeyCache {
    entries: Arc<TtlCache<String, AccessKey>>,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            entries: Arc::new(TtlCache::new(KEY_TTL, KEY_CACHE_MAX)),
        }
    }
}

impl KeyCache {
    /// Forgets every cached key.
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// The key `access_key_id` (from cache when fresh), or `None` when it does not exist.
    pub async fn get(&self, engine: &Engine, access_key_id: &str) -> S3Result<Option<AccessKey>> {
        if let Some(key) = self.entries.get(access_key_id) {
            return Ok(Some(key));
        }
        let key = engine
            .meta()
            .get_access_key(access_key_id)
            .await
            .map_err(|e| from_engine(e.into()))?;
        // Only keys that exist are cached, so requests naming random key ids cannot evict them.
        if let Some(found) = &key {
            self.entries.insert(access_key_id.to_owned(), found.clone());
        }
        Ok(key)
    }
}

/// Supplies secrets to s3s's signature verification.
pub struct CofferAuth {
    engine: Engine,
    keys: KeyCache,
}

impl CofferAuth {
    /// Secrets from `engine`'s metadata, through `keys`.
    pub fn new(engine: Engine, keys: KeyCache) -> Self {
        Self { engine, keys }
    }
}

#[async_trait::async_trait]
impl S3Auth for CofferAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.keys.get(&self.engine, access_key).await? {
            Some(key) if key.active => Ok(SecretKey::from(key.secret_key)),
            _ => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
        }
    }
}
