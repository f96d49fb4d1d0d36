//! The metadata store interface the engine programs against.

use async_trait::async_trait;
use coffer_core::AccountId;

use crate::{
    AccessKey, AccessKeyUpdate, Account, AccountUpdate, Bucket, Completion, DeleteOutcome, Group,
    ManagedPolicy, MetaError, NewObject, ObjectSummary, ObjectVersion, Part, Principal, Upload,
    Usage, User, WriteCondition, WriteOutcome,
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

/// Scans of one bucket's current objects on one read connection, for a walk that needs many
/// (a delimiter listing seeks once past every common prefix). Synchronous: it runs inside
/// [`MetaStore::with_object_scanner`], off the async workers.
pub trait ObjectScanner {
    /// Like [`MetaStore::scan_objects`].
    fn scan(
        &mut self,
        lower: &ScanBound,
        upper: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ObjectSummary>, MetaError>;
}

/// The work given to [`MetaStore::with_object_scanner`].
pub type ScanWork = Box<dyn FnOnce(&mut dyn ObjectScanner) + Send>;

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
    /// Current usage of every account that stores anything (one query, for metrics).
    async fn usage_by_account(&self) -> Result<Vec<(AccountId, Usage)>, MetaError>;
    /// Changes an account's state, quota or bucket limit; returns the account as updated.
    async fn update_account(
        &self,
        id: &AccountId,
        update: AccountUpdate,
    ) -> Result<Account, MetaError>;
    /// Accounts with ids after `after`, in id order.
    async fn list_accounts(&self, after: &str, limit: usize) -> Result<Vec<Account>, MetaError>;
    /// Stores a new access key; returns it with its numeric id.
    async fn create_access_key(&self, key: AccessKey) -> Result<AccessKey, MetaError>;
    /// Looks an access key up by its access key id.
    async fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKey>, MetaError>;
    /// Looks an access key up by its numeric id.
    async fn get_access_key_by_id(&self, id: i64) -> Result<Option<AccessKey>, MetaError>;
    /// Keys of one account (or all accounts), optionally only one user's.
    async fn list_access_keys(
        &self,
        account: Option<&AccountId>,
        user_name: Option<&str>,
    ) -> Result<Vec<AccessKey>, MetaError>;
    /// Changes a key's status, bucket binding or user.
    async fn update_access_key(
        &self,
        access_key_id: &str,
        update: AccessKeyUpdate,
    ) -> Result<AccessKey, MetaError>;
    /// Deletes a key.
    async fn delete_access_key(&self, access_key_id: &str) -> Result<(), MetaError>;
    /// Records that a key signed a request at `at` (ms).
    async fn touch_access_key(&self, access_key_id: &str, at: i64) -> Result<(), MetaError>;

    // ---- IAM identities ----

    /// Creates a user.
    async fn create_user(&self, user: User) -> Result<(), MetaError>;
    /// Looks a user up (names compare case-insensitively).
    async fn get_user(&self, account: &AccountId, name: &str) -> Result<Option<User>, MetaError>;
    /// Users whose path starts with `path_prefix`, names after `after`.
    async fn list_users(
        &self,
        account: &AccountId,
        path_prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<User>, MetaError>;
    /// Deletes a user without keys, groups or policies (else `DeleteConflict`).
    async fn delete_user(&self, account: &AccountId, name: &str) -> Result<(), MetaError>;
    /// Creates a group.
    async fn create_group(&self, group: Group) -> Result<(), MetaError>;
    /// Looks a group up.
    async fn get_group(&self, account: &AccountId, name: &str) -> Result<Option<Group>, MetaError>;
    /// Groups whose path starts with `path_prefix`, names after `after`.
    async fn list_groups(
        &self,
        account: &AccountId,
        path_prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<Group>, MetaError>;
    /// Deletes a group without members or policies (else `DeleteConflict`).
    async fn delete_group(&self, account: &AccountId, name: &str) -> Result<(), MetaError>;
    /// Adds a user to a group (idempotent).
    async fn add_user_to_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
    ) -> Result<(), MetaError>;
    /// Removes a user from a group.
    async fn remove_user_from_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
    ) -> Result<(), MetaError>;
    /// Members of a group.
    async fn group_members(&self, account: &AccountId, group: &str)
    -> Result<Vec<User>, MetaError>;
    /// Groups a user belongs to.
    async fn groups_of_user(
        &self,
        account: &AccountId,
        user: &str,
    ) -> Result<Vec<Group>, MetaError>;
    /// Creates a customer-managed policy.
    async fn create_policy(&self, policy: ManagedPolicy) -> Result<(), MetaError>;
    /// Looks a customer-managed policy up by name.
    async fn get_policy(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<ManagedPolicy>, MetaError>;
    /// Customer-managed policies whose path starts with `path_prefix`, names after `after`.
    async fn list_policies(
        &self,
        account: &AccountId,
        path_prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<ManagedPolicy>, MetaError>;
    /// Deletes an unattached policy (else `DeleteConflict`).
    async fn delete_policy(&self, account: &AccountId, name: &str) -> Result<(), MetaError>;
    /// How many users and groups a policy is attached to.
    async fn attachment_count(&self, account: &AccountId, arn: &str) -> Result<u64, MetaError>;
    /// Attaches a policy (by ARN) to a user or group (idempotent).
    async fn attach_policy(
        &self,
        account: &AccountId,
        kind: Principal,
        entity: &str,
        arn: &str,
    ) -> Result<(), MetaError>;
    /// Detaches a policy.
    async fn detach_policy(
        &self,
        account: &AccountId,
        kind: Principal,
        entity: &str,
        arn: &str,
    ) -> Result<(), MetaError>;
    /// ARNs of the policies attached to a user or group.
    async fn attached_policies(
        &self,
        account: &AccountId,
        kind: Principal,
        entity: &str,
    ) -> Result<Vec<String>, MetaError>;
    /// ARNs of every policy that applies to a user (its own and its groups').
    async fn effective_policy_arns(
        &self,
        account: &AccountId,
        user: &str,
    ) -> Result<Vec<String>, MetaError>;

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
    /// Bytes and objects of a bucket's versions (delete markers and parts excluded).
    async fn bucket_usage(&self, bucket_id: i64) -> Result<Usage, MetaError>;
    /// Every bucket of every account, by name, after `after`.
    async fn list_all_buckets(&self, after: &str, limit: usize) -> Result<Vec<Bucket>, MetaError>;
    /// Multipart uploads in progress (of one account, or all).
    async fn count_uploads(&self, account: Option<&AccountId>) -> Result<u64, MetaError>;
    /// The bucket's policy document, if any.
    async fn bucket_policy(&self, bucket_id: i64) -> Result<Option<String>, MetaError>;
    /// Sets (or with `None` removes) the bucket's policy document.
    async fn set_bucket_policy(
        &self,
        bucket_id: i64,
        policy: Option<String>,
    ) -> Result<(), MetaError>;

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
    /// Runs `work` with a scanner of the bucket's current objects, all on one read connection
    /// and one blocking task (instead of one hop per scan). `work` returns its result through
    /// what it captured.
    async fn with_object_scanner(&self, bucket_id: i64, work: ScanWork) -> Result<(), MetaError>;
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

    /// Blobs whose metadata is gone, queued before `queued_before` (ms), to delete from disk.
    async fn garbage_blobs(
        &self,
        limit: usize,
        queued_before: i64,
    ) -> Result<Vec<String>, MetaError>;
    /// Forgets blobs that were deleted from disk.
    async fn forget_garbage(&self, blob_ids: Vec<String>) -> Result<(), MetaError>;
    /// Of `blob_ids`, those that no metadata refers to (orphans of interrupted writes).
    async fn unreferenced_blobs(&self, blob_ids: Vec<String>) -> Result<Vec<String>, MetaError>;

    /// Checks that the database answers (readiness probe).
    async fn ping(&self) -> Result<(), MetaError>;
}
