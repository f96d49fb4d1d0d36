//! Authentication: the secret of an access key, for s3s's signature verification, through a
//! cache with bounded staleness.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coffer_engine::Engine;
use coffer_meta::AccessKey;
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};

use crate::error::from_engine;

/// How long a looked-up key is trusted before it is read again.
const KEY_TTL: Duration = Duration::from_secs(5);
/// Cached keys at most (the cache is cleared when full).
const KEY_CACHE_MAX: usize = 10_000;

/// When a key was read, and what was found.
type CachedKey = (Instant, AccessKey);

/// Access keys by id, with bounded staleness.
#[derive(Clone, Default)]
pub struct KeyCache {
    entries: Arc<Mutex<HashMap<String, CachedKey>>>,
}

impl KeyCache {
    /// Forgets every cached key.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// The key `access_key_id` (from cache when fresh), or `None` when it does not exist.
    pub async fn get(&self, engine: &Engine, access_key_id: &str) -> S3Result<Option<AccessKey>> {
        if let Ok(entries) = self.entries.lock()
            && let Some((at, key)) = entries.get(access_key_id)
            && at.elapsed() < KEY_TTL
        {
            return Ok(Some(key.clone()));
        }
        let key = engine
            .meta()
            .get_access_key(access_key_id)
            .await
            .map_err(|e| from_engine(e.into()))?;
        // Only keys that exist are cached, so requests naming random key ids cannot evict them.
        if let Some(found) = &key
            && let Ok(mut entries) = self.entries.lock()
        {
            if entries.len() >= KEY_CACHE_MAX {
                entries.clear();
            }
            entries.insert(access_key_id.to_owned(), (Instant::now(), found.clone()));
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
