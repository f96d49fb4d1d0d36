//! DeleteObject.

use coffer_core::AccountId;
use coffer_meta::{Bucket, DeleteOutcome};

use crate::{Engine, EngineError};

impl Engine {
    /// Deletes the current object (a delete marker in a versioned bucket) or one version.
    /// Deleting a key that does not exist succeeds, as in S3.
    pub async fn delete_object(
        &self,
        bucket: &Bucket,
        key: &str,
        version_id: Option<&str>,
        owner: &AccountId,
    ) -> Result<DeleteOutcome, EngineError> {
        let outcome = self
            .meta
            .delete_object(bucket.id, key, version_id, owner)
            .await?;
        Ok(outcome)
    }
}
