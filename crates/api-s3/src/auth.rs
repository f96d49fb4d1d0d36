//! Authentication (the secret of an access key) and access decisions for S3 requests.
//!
//! Today's rules: a request must be signed by an active key; the key acts for its account;
//! a key bound to buckets touches only those; an account's state gates what it may do
//! (suspended: nothing; migrating: no writes; over quota: no writes that add bytes); a bucket
//! is reachable only by its owner. Policies and anonymous grants extend this in the IAM layer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coffer_engine::Engine;
use coffer_meta::{AccessKey, AccountStatus};
use http::StatusCode;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::path::S3Path;
use s3s::{S3Result, s3_error};

use crate::context::{Caller, TargetBucket};
use crate::error::{custom, from_engine};

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

/// Decides whether an authenticated (or anonymous) request may proceed.
pub struct CofferAccess {
    engine: Engine,
    keys: KeyCache,
}

impl CofferAccess {
    /// Decisions over `engine`'s metadata, keys through `keys`.
    pub fn new(engine: Engine, keys: KeyCache) -> Self {
        Self { engine, keys }
    }
}

/// Operations that add bytes (refused over quota).
fn adds_bytes(op: &str) -> bool {
    op.starts_with("Put")
        || op.starts_with("Post")
        || matches!(
            op,
            "CopyObject"
                | "UploadPart"
                | "UploadPartCopy"
                | "CompleteMultipartUpload"
                | "CreateMultipartUpload"
                | "CreateBucket"
        )
}

/// Operations that change state (refused while migrating).
fn is_write(op: &str) -> bool {
    adds_bytes(op) || op.starts_with("Delete") || op == "AbortMultipartUpload"
}

#[async_trait::async_trait]
impl S3Access for CofferAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(credentials) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let key = self
            .keys
            .get(&self.engine, &credentials.access_key)
            .await?
            .filter(|k| k.active)
            .ok_or_else(|| s3_error!(InvalidAccessKeyId))?;
        let account = self
            .engine
            .meta()
            .get_account(&key.account_id)
            .await
            .map_err(|e| from_engine(e.into()))?;
        let op = cx.s3_op().name();
        match account.status {
            AccountStatus::Suspended => {
                return Err(custom(
                    "AccountSuspended",
                    StatusCode::FORBIDDEN,
                    "Your account is suspended.",
                ));
            }
            AccountStatus::Migrating if is_write(op) => {
                return Err(custom(
                    "MigrationInProgress",
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Your account is being migrated; writes are refused until it completes.",
                ));
            }
            _ => {}
        }
        if let Some(quota) = account.quota_bytes
            && adds_bytes(op)
        {
            let usage = self
                .engine
                .meta()
                .account_usage(&account.id)
                .await
                .map_err(|e| from_engine(e.into()))?;
            if usage.bytes >= 0 && usage.bytes as u64 >= quota {
                return Err(custom(
                    "QuotaExceeded",
                    StatusCode::FORBIDDEN,
                    "Your account's storage quota is exceeded; delete data to write again.",
                ));
            }
        }
        let caller = Caller {
            account_id: key.account_id.clone(),
            access_key_id: key.access_key_id.clone(),
            user_name: key.user_name.clone(),
            bucket_binding: key.bucket_binding.clone(),
        };
        let bucket_name = match cx.s3_path() {
            S3Path::Root => None,
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => Some(bucket.to_string()),
        };
        if let Some(name) = bucket_name {
            if !caller.may_use_bucket(&name) {
                return Err(s3_error!(AccessDenied, "Access Denied"));
            }
            match self.engine.bucket(&name).await {
                Ok(bucket) if bucket.account_id != caller.account_id => {
                    // CreateBucket on another account's name reports the name as taken.
                    if op != "CreateBucket" {
                        return Err(s3_error!(AccessDenied, "Access Denied"));
                    }
                }
                Ok(bucket) => {
                    cx.extensions_mut().insert(TargetBucket(bucket));
                }
                Err(coffer_engine::EngineError::NoSuchBucket) => {}
                Err(e) => return Err(from_engine(e)),
            }
        }
        cx.extensions_mut().insert(caller);
        Ok(())
    }
}
