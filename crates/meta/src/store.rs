//! The metadata store interface the engine programs against.

use async_trait::async_trait;
use coffer_core::AccountId;

use crate::{
    AccessKey, Account, Bucket, Completion, DeleteOutcome, MetaError, NewObject, ObjectSummary,
    ObjectVersion, Part, Upload, Usage, WriteCondition, WriteOutcome,
};

/// A lower bound of a key-ordered scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanBound {
    /// From the start of the range.
    Unbounded,
    /// Keys `>=` this one.
    Included(String),
    /// Keys `>` this one.
    Excluded(String),
}

/// Everything Coffer persists besides blob bytes. Implementations make each method one
/// transaction: a method that returns `Ok` has committed durably.
#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    // ---- accounts and keys ----

    /// Creates an account.
    async fn create_account(&self, account: Account) -> Result<(), MetaError>;
    /// Looks an account up.
    async fn get_account(&self, id: &AccountId) -> Result<Account, MetaError>;
    /// Number of accounts.
    async fn count_accounts(&self) -> Result<u64, MetaError>;
    /// Current usage of an account.
    async fn account_usage(&self, id: &AccountId) -> Result<Usage, MetaError>;
    /// Stores a new access key.
    async fn create_access_key(&self, key: AccessKey) -> Result<(), MetaError>;
    /// Looks an access key up by its id.
    async fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKey>, MetaError>;

    // ---- buckets ----

    /// Creates a bucket; enforces global name uniqueness and the account's bucket limit.
    async fn create_bucket(
        &self,
        name: &str,
        account: &AccountId,
        region: &str,
    ) -> Result<Bucket, MetaError>;
    /// Looks a bucket up by name.
    async fn get_bucket(&self, name: &str) -> Result<Option<Bucket>, MetaError>;
    /// The account's buckets, by name.
    async fn list_buckets(&self, account: &AccountId) -> Result<Vec<Bucket>, MetaError>;
    /// Deletes an empty bucket (no versions, no uploads).
    async fn delete_bucket(&self, bucket_id: i64) -> Result<(), MetaError>;

    // ---- objects ----

    /// The current version of `key` (`version_id` `None`), or a given version.
    async fn get_object(
        &self,
        bucket_id: i64,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectVersion>, MetaError>;
    /// Makes a new version current, checking `condition` in the same transaction. Bytes the
    /// replaced version held are queued for freeing.
    async fn put_object(
        &self,
        object: NewObject,
        condition: WriteCondition,
    ) -> Result<WriteOutcome, MetaError>;
    /// Deletes the current object (a delete marker when versioning) or one version.
    async fn delete_object(
        &self,
        bucket_id: i64,
        key: &str,
        version_id: Option<&str>,
        owner: &AccountId,
    ) -> Result<DeleteOutcome, MetaError>;
    /// Current, non-deleted objects in key order within `[lower, upper)`, at most `limit`.
    async fn scan_objects(
        &self,
        bucket_id: i64,
        lower: ScanBound,
        upper: Option<String>,
        limit: usize,
    ) -> Result<Vec<ObjectSummary>, MetaError>;
    /// All versions and delete markers in (key ascending, newest first) order, starting after
    /// `(key, row id)` when given, within `[lower, upper)`.
    async fn scan_versions(
        &self,
        bucket_id: i64,
        lower: ScanBound,
        after_version: Option<(String, i64)>,
        upper: Option<String>,
        limit: usize,
    ) -> Result<Vec<ObjectSummary>, MetaError>;

    // ---- multipart ----

    /// Records a new upload.
    async fn create_upload(&self, upload: Upload) -> Result<(), MetaError>;
    /// Looks an upload up.
    async fn get_upload(&self, upload_id: &str) -> Result<Option<Upload>, MetaError>;
    /// Stores a part (replacing one of the same number, whose bytes are queued for freeing).
    async fn put_part(&self, upload_id: &str, part: Part) -> Result<(), MetaError>;
    /// Parts with numbers above `after`, at most `limit`.
    async fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> Result<Vec<Part>, MetaError>;
    /// Turns the upload into the current object, atomically.
    async fn complete_upload(
        &self,
        upload_id: &str,
        completion: Completion,
    ) -> Result<WriteOutcome, MetaError>;
    /// Removes the upload and queues its parts' bytes for freeing.
    async fn abort_upload(&self, upload_id: &str) -> Result<(), MetaError>;
    /// Uploads of a bucket in (key, initiated, upload id) order after `(key, upload id)`,
    /// within `[lower, upper)`.
    async fn scan_uploads(
        &self,
        bucket_id: i64,
        lower: ScanBound,
        after_upload: Option<(String, String)>,
        upper: Option<String>,
        limit: usize,
    ) -> Result<Vec<Upload>, MetaError>;

    // ---- blob garbage ----

    /// Blobs whose metadata is gone, to be deleted from disk.
    async fn garbage_blobs(&self, limit: usize) -> Result<Vec<String>, MetaError>;
    /// Forgets blobs that were deleted from disk.
    async fn forget_garbage(&self, blob_ids: Vec<String>) -> Result<(), MetaError>;
    /// Of `blob_ids`, those that no metadata refers to (orphans of interrupted writes).
    async fn unreferenced_blobs(&self, blob_ids: Vec<String>) -> Result<Vec<String>, MetaError>;

    /// Checks that the database answers (readiness probe).
    async fn ping(&self) -> Result<(), MetaError>;
}
