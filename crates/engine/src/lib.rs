//! Coffer's storage engine: what buckets, objects, versions, multipart uploads and listings
//! mean, on top of the metadata store and the blob store.
//!
//! The engine streams bytes into blobs while hashing them, then commits metadata in one
//! transaction: that commit is the moment an object exists. It frees bytes only after the
//! metadata that referenced them is gone. It never sees HTTP: the protocol adapters translate
//! requests into these calls and [`EngineError`]s into protocol errors.

pub mod body;
pub mod bucket;
pub mod config;
pub mod error;
pub mod gc;
pub mod identity;
pub mod list;
pub mod multipart;
pub mod object;

use std::sync::Arc;

use coffer_blob::FsBlobStore;
use coffer_meta::MetaStore;

pub use body::{BodyStream, ObjectBody};
pub use config::EngineConfig;
pub use error::EngineError;

/// The storage engine. Cheap to clone; every clone shares the same stores.
#[derive(Clone)]
pub struct Engine {
    meta: Arc<dyn MetaStore>,
    blobs: FsBlobStore,
    config: Arc<EngineConfig>,
    /// Buckets by name, read on every request. Writes re-read the bucket inside their
    /// transaction, so a stale entry can never put an object into a deleted bucket.
    buckets: Arc<coffer_core::cache::TtlCache<String, coffer_meta::Bucket>>,
}

/// How long a looked-up bucket is trusted; this node forgets it at once when it creates or
/// deletes the bucket.
const BUCKET_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Cached buckets at most.
const BUCKET_CACHE_MAX: usize = 10_000;

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over the given stores.
    pub fn new(meta: Arc<dyn MetaStore>, blobs: FsBlobStore, config: EngineConfig) -> Self {
        Self {
            meta,
            blobs,
            config: Arc::new(config),
            buckets: Arc::new(coffer_core::cache::TtlCache::new(
                BUCKET_TTL,
                BUCKET_CACHE_MAX,
            )),
        }
    }

    /// The metadata store (accounts and keys are read through it by the access layer).
    pub fn meta(&self) -> &Arc<dyn MetaStore> {
        &self.meta
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Checks that both stores answer (readiness).
    pub async fn check_ready(&self) -> Result<(), EngineError> {
        self.meta.ping().await?;
        let blobs = self.blobs.clone();
        tokio::task::spawn_blocking(move || blobs.check_writable())
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))??;
        Ok(())
    }
}
