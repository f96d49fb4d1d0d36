//! Bucket operations.

use coffer_core::{AccountId, BucketName};
use coffer_meta::Bucket;

use crate::{Engine, EngineError};

impl Engine {
    /// Creates a bucket owned by `account` in `region`.
    pub async fn create_bucket(
        &self,
        name: &BucketName,
        account: &AccountId,
        region: &str,
    ) -> Result<Bucket, EngineError> {
        self.buckets.remove(name.as_str());
        match self
            .meta
            .create_bucket(name.as_str(), account, region)
            .await
        {
            Err(coffer_meta::MetaError::BucketExists { owner }) if owner == *account => {
                Err(EngineError::BucketAlreadyOwnedByYou)
            }
            other => Ok(other?),
        }
    }

    /// Looks a bucket up by name (any owner); `NoSuchBucket` when absent.
    pub async fn bucket(&self, name: &str) -> Result<Bucket, EngineError> {
        if let Some(bucket) = self.buckets.get(name) {
            return Ok(bucket);
        }
        // Only buckets that exist are cached: a miss costs a read, never a wrong NoSuchBucket.
        let bucket = self
            .meta
            .get_bucket(name)
            .await?
            .ok_or(EngineError::NoSuchBucket)?;
        self.buckets.insert(bucket.name.clone(), bucket.clone());
        Ok(bucket)
    }

    /// The account's buckets in name order.
    pub async fn list_buckets(&self, account: &AccountId) -> Result<Vec<Bucket>, EngineError> {
        Ok(self.meta.list_buckets(account).await?)
    }

    /// Deletes an empty bucket.
    pub async fn delete_bucket(&self, bucket: &Bucket) -> Result<(), EngineError> {
        let result = self.meta.delete_bucket(bucket.id).await;
        self.buckets.remove(bucket.name.as_str());
        Ok(result?)
    }
}
