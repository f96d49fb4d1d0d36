//! The records the metadata store keeps.

use std::collections::BTreeMap;

use coffer_core::{AccountId, ChecksumAlgorithm};
use serde::{Deserialize, Serialize};

/// The lifecycle state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// Normal operation.
    Active,
    /// Every request is refused with AccountSuspended.
    Suspended,
    /// Bytes are moving between volumes: reads work, writes get MigrationInProgress.
    Migrating,
}

impl AccountStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Migrating => "migrating",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            "migrating" => Some(Self::Migrating),
            _ => None,
        }
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 15-digit id.
    pub id: AccountId,
    /// Display name, unique.
    pub name: String,
    /// Lifecycle state.
    pub status: AccountStatus,
    /// Storage quota in bytes; `None` is unlimited.
    pub quota_bytes: Option<u64>,
    /// Maximum number of buckets.
    pub bucket_limit: u32,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

/// Bytes and objects an account stores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes of object versions and uploaded parts.
    pub bytes: i64,
    /// Number of object versions (delete markers excluded).
    pub objects: i64,
}

/// An S3 access key. Its `Debug` output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// Numeric id (the management API's credential id); 0 before the key is stored.
    pub id: i64,
    /// The public id (AKIA...).
    pub access_key_id: String,
    /// Secret used to verify signatures.
    pub secret_key: String,
    /// The account the key acts for.
    pub account_id: AccountId,
    /// The IAM user owning the key; `None` for the account root.
    pub user_name: Option<String>,
    /// Whether the key may be used.
    pub active: bool,
    /// When set, the only buckets the key may touch.
    pub bucket_binding: Option<Vec<String>>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last time the key signed a request (coarse), ms since the epoch.
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("access_key_id", &self.access_key_id)
            .field("secret_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("user_name", &self.user_name)
            .field("active", &self.active)
            .field("bucket_binding", &self.bucket_binding)
            .finish_non_exhaustive()
    }
}

/// The versioning state of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled: every object has version id `null`.
    Unversioned,
    /// New writes create new versions.
    Enabled,
    /// New writes replace the `null` version; older versions are kept.
    Suspended,
}

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Internal id; object rows refer to it.
    pub id: i64,
    /// Globally unique name.
    pub name: String,
    /// Owner.
    pub account_id: AccountId,
    /// Region the bucket was created in.
    pub region: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Versioning state.
    pub versioning: Versioning,
}

/// Headers stored with an object or an upload and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHeaders {
    /// Content-Type.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_type: Option<String>,
    /// Cache-Control.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cache_control: Option<String>,
    /// Content-Disposition.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_disposition: Option<String>,
    /// Content-Encoding.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_encoding: Option<String>,
    /// Content-Language.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub content_language: Option<String>,
    /// Expires, as the client sent it (an HTTP date).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires: Option<String>,
    /// `x-amz-meta-*` without the prefix, names lower-cased.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub user_metadata: BTreeMap<String, String>,
    /// The checksum algorithm the client chose (multipart uploads declare it up front).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
}

/// Where an object's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectData {
    /// Small object: the bytes are in the metadata row.
    Inline(Vec<u8>),
    /// One blob holds the whole object.
    Blob(String),
    /// A completed multipart upload: the object is its parts, in order.
    Manifest {
        /// The upload whose part rows make up the object.
        upload_id: String,
        /// The parts in order, read in the same transaction as the version (empty when
        /// writing: the store links the upload's part rows).
        parts: Vec<Part>,
    },
    /// A delete marker has no bytes.
    None,
}

/// Checksums of an object: algorithm → base64 value, plus whether it is of the whole object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChecksums {
    /// Values by algorithm.
    #[serde(default)]
    pub values: BTreeMap<ChecksumAlgorithm, String>,
    /// `true` for COMPOSITE checksums of a multipart object (value ends in `-N`).
    #[serde(default)]
    pub composite: bool,
}

/// One version of an object (or a delete marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    /// Row id; increases with every write, orders versions newest first.
    pub id: i64,
    /// The bucket.
    pub bucket_id: i64,
    /// The key.
    pub key: String,
    /// `null` for objects written while versioning was off or suspended.
    pub version_id: String,
    /// Whether this is the current version.
    pub is_latest: bool,
    /// Whether this is a delete marker.
    pub is_delete_marker: bool,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// ms since the epoch.
    pub last_modified: i64,
    /// Storage class (always STANDARD today).
    pub storage_class: String,
    /// Content headers and user metadata.
    pub headers: ObjectHeaders,
    /// Stored checksums.
    pub checksums: StoredChecksums,
    /// Number of parts when the object came from a multipart upload.
    pub parts_count: Option<u32>,
    /// The account that wrote the version.
    pub owner: AccountId,
    /// Where the bytes are.
    pub data: ObjectData,
}

/// A listing entry (no bytes, no headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    /// Row id (orders versions of one key).
    pub id: i64,
    /// The key.
    pub key: String,
    /// Version id.
    pub version_id: String,
    /// Current version or not.
    pub is_latest: bool,
    /// Delete marker or not.
    pub is_delete_marker: bool,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// ms since the epoch.
    pub last_modified: i64,
    /// Storage class.
    pub storage_class: String,
    /// Writer.
    pub owner: AccountId,
    /// Checksum algorithms stored.
    pub checksum_algorithms: Vec<ChecksumAlgorithm>,
    /// Content-Type, for listings that show it.
    pub content_type: Option<String>,
    /// Number of parts when the version came from a multipart upload.
    pub parts_count: Option<u32>,
}

/// A version to write.
#[derive(Debug, Clone)]
pub struct NewObject {
    /// The bucket.
    pub bucket_id: i64,
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// ms since the epoch.
    pub last_modified: i64,
    /// Storage class.
    pub storage_class: String,
    /// Headers.
    pub headers: ObjectHeaders,
    /// Checksums.
    pub checksums: StoredChecksums,
    /// Parts count for multipart objects.
    pub parts_count: Option<u32>,
    /// The writer.
    pub owner: AccountId,
    /// The bytes.
    pub data: ObjectData,
}

/// A condition checked against the current version inside the write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// Write unconditionally.
    None,
    /// `If-None-Match: *`: only when no current object exists.
    IfNoneMatchAny,
    /// `If-Match: etag`: only when the current object has this ETag (`*`: exists).
    IfMatch(String),
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The version id given to the new version (`null` when unversioned).
    pub version_id: String,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeleteOutcome {
    /// Version id of the removed version or of the created delete marker.
    pub version_id: Option<String>,
    /// Whether a delete marker was created or removed.
    pub delete_marker: bool,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The id handed to the client.
    pub upload_id: String,
    /// The bucket.
    pub bucket_id: i64,
    /// The key the object will have.
    pub key: String,
    /// ms since the epoch.
    pub initiated: i64,
    /// The initiator's account.
    pub owner: AccountId,
    /// Headers the object will have.
    pub headers: ObjectHeaders,
    /// Storage class.
    pub storage_class: String,
}

/// An uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1..=10000.
    pub part_number: u32,
    /// The bytes.
    pub blob_id: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// Part checksums (algorithm → base64).
    pub checksums: BTreeMap<ChecksumAlgorithm, String>,
    /// ms since the epoch.
    pub last_modified: i64,
}

/// How to complete an upload: which parts, and the object's resulting identity.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The chosen parts in order, each with the blob the engine checked it against; the
    /// store refuses the completion (`InvalidPart`) if a part changed since.
    pub parts: Vec<(u32, String)>,
    /// ETag of the object (`md5-of-md5s-N`).
    pub etag: String,
    /// Total size.
    pub size: u64,
    /// Object checksums.
    pub checksums: StoredChecksums,
    /// Completion time.
    pub last_modified: i64,
    /// Conditional-write check against the current object.
    pub condition: WriteCondition,
}
