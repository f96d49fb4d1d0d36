//! The engine's failures, named for the S3 condition they report.

use coffer_blob::BlobError;
use coffer_core::{AccountId, ChecksumAlgorithm, NameError};
use coffer_meta::MetaError;

/// A failure of an engine operation.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Invalid bucket name.
    #[error("{0}")]
    InvalidBucketName(String),
    /// Key longer than allowed.
    #[error("Your key is too long")]
    KeyTooLong,
    /// Empty or otherwise unusable key.
    #[error("{0}")]
    InvalidKey(String),
    /// The bucket does not exist.
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
    /// Bucket exists and the caller owns it.
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou,
    /// Bucket exists and belongs to someone else.
    #[error(
        "The requested bucket name is not available. Please select a different name and try again."
    )]
    BucketAlreadyExists {
        /// The owner (never shown to the caller).
        owner: AccountId,
    },
    /// Bucket still has content.
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty,
    /// Account bucket limit reached.
    #[error("You have attempted to create more buckets than allowed")]
    TooManyBuckets,
    /// No such key.
    #[error("The specified key does not exist.")]
    NoSuchKey,
    /// No such version.
    #[error("The specified version does not exist.")]
    NoSuchVersion,
    /// No such upload.
    #[error(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload,
    /// A precondition header did not hold.
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    /// If-None-Match / If-Modified-Since: the client's copy is current.
    #[error("Not Modified")]
    NotModified,
    /// Range outside the object.
    #[error("The requested range is not satisfiable")]
    InvalidRange,
    /// partNumber outside the object's parts.
    #[error("The requested partnumber is not satisfiable")]
    InvalidPartNumber,
    /// Content-MD5 not base64 of 16 bytes.
    #[error("The Content-MD5 you specified is not valid.")]
    InvalidDigest,
    /// Content-MD5 or a checksum did not match the bytes.
    #[error("{0}")]
    BadDigest(String),
    /// A checksum value that is not base64 of the right length.
    #[error("{0}")]
    InvalidChecksum(String),
    /// Body shorter or longer than Content-Length.
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header.")]
    IncompleteBody,
    /// Object or part too large.
    #[error("Your proposed upload exceeds the maximum allowed size")]
    EntityTooLarge,
    /// A non-last part under the minimum size.
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall,
    /// A completion names a part that is missing or whose ETag differs.
    #[error(
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
    )]
    InvalidPart,
    /// Completion parts not in ascending order.
    #[error(
        "The list of parts was not in ascending order. The parts list must be specified in order by part number."
    )]
    InvalidPartOrder,
    /// The method is not allowed against this resource (e.g. a delete marker).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A request that S3 rejects as invalid, with the reason.
    #[error("{0}")]
    InvalidRequest(String),
    /// An argument S3 rejects, with the reason.
    #[error("{0}")]
    InvalidArgument(String),
    /// The body stream failed (client gone, bad chunk signature, ...).
    #[error("request body: {0}")]
    Body(String),
    /// A checksum algorithm the request asked for is not one we support.
    #[error("unsupported checksum algorithm {0}")]
    UnsupportedChecksum(ChecksumAlgorithm),
    /// Anything else: a bug or an infrastructure failure (logged, answered 500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<NameError> for EngineError {
    fn from(e: NameError) -> Self {
        match e {
            NameError::InvalidBucketName(_) => Self::InvalidBucketName(e.to_string()),
            NameError::KeyTooLong => Self::KeyTooLong,
            NameError::EmptyKey => Self::InvalidKey(e.to_string()),
        }
    }
}

impl From<MetaError> for EngineError {
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::NoSuchBucket => Self::NoSuchBucket,
            MetaError::BucketExists { owner } => Self::BucketAlreadyExists { owner },
            MetaError::BucketNotEmpty => Self::BucketNotEmpty,
            MetaError::TooManyBuckets => Self::TooManyBuckets,
            MetaError::NoSuchKey => Self::NoSuchKey,
            MetaError::NoSuchVersion => Self::NoSuchVersion,
            MetaError::NoSuchUpload => Self::NoSuchUpload,
            MetaError::InvalidPart => Self::InvalidPart,
            MetaError::PreconditionFailed => Self::PreconditionFailed,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<BlobError> for EngineError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Body(message) => Self::Body(message),
            other => Self::Internal(other.to_string()),
        }
    }
}
