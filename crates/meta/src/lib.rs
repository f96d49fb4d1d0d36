//! Coffer's metadata layer: the [`MetaStore`] trait and its SQLite backend.
//!
//! Everything that says an object exists lives here, and every change to it is one transaction
//! (including the usage counters and the queue of blobs to free). This crate never touches blob
//! files and never sees HTTP; it stores what the engine decided.

pub mod identity;
pub mod model;
pub mod secret;
pub mod sqlite;
pub mod store;

pub use identity::*;
pub use model::*;
pub use sqlite::SqliteMeta;
pub use store::{MetaStore, ObjectScanner, ScanBound, ScanWork};

/// A failure of the metadata layer, named for the domain condition it reports.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The bucket does not exist.
    #[error("no such bucket")]
    NoSuchBucket,
    /// A bucket of that name exists and belongs to the given account.
    #[error("bucket already exists")]
    BucketExists {
        /// The owner of the existing bucket.
        owner: coffer_core::AccountId,
    },
    /// The bucket still holds objects, versions or uploads.
    #[error("bucket not empty")]
    BucketNotEmpty,
    /// The account reached its bucket limit.
    #[error("too many buckets")]
    TooManyBuckets,
    /// The object (or version) does not exist.
    #[error("no such key")]
    NoSuchKey,
    /// The version does not exist.
    #[error("no such version")]
    NoSuchVersion,
    /// A part named in a completion is missing or was replaced meanwhile.
    #[error("invalid part")]
    InvalidPart,
    /// The multipart upload does not exist (never did, completed or aborted).
    #[error("no such upload")]
    NoSuchUpload,
    /// A conditional write found the current object in another state.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The account does not exist.
    #[error("no such account")]
    NoSuchAccount,
    /// The access key does not exist.
    #[error("no such access key")]
    NoSuchAccessKey,
    /// The IAM user, group or policy does not exist.
    #[error("no such entity: {0}")]
    NoSuchEntity(String),
    /// The entity still has dependents (keys, members, attachments).
    #[error("delete conflict: {0}")]
    DeleteConflict(String),
    /// A row with that identity already exists.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// Stored data could not be decoded (a bug or corruption, never user input).
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
}

impl From<rusqlite::Error> for MetaError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(e.to_string())
    }
}

impl From<serde_json::Error> for MetaError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
