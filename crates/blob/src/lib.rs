//! Coffer's blob layer: where object bytes hit the disk.
//!
//! Blobs are immutable files under `blobs/xx/yy/<id>`, written to a temporary file while being
//! hashed, fsynced and renamed into place. This crate knows nothing of buckets, keys or
//! metadata: the engine decides when a blob exists (the metadata commit) and when it is freed.
//! It must never overwrite a blob in place.

pub mod digest;
pub mod fs;
mod hashing;

pub use digest::{BodyDigest, Digester};
pub use fs::{BlobReader, BlobWriter, FsBlobStore};

/// A failure of the blob layer.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The blob file does not exist (metadata points at bytes that are gone).
    #[error("blob {0} is missing")]
    Missing(String),
    /// The stored id is not a blob id; refuses to build a path from it.
    #[error("invalid blob id")]
    InvalidId,
    /// The body stream ended with an error (client went away, signature chunk invalid, ...).
    #[error("request body: {0}")]
    Body(String),
    /// The filesystem failed.
    #[error("blob i/o: {0}")]
    Io(#[from] std::io::Error),
}
