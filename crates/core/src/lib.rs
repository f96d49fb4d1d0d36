//! Coffer's shared vocabulary: validated bucket names, object keys and account ids, the
//! identifiers the server mints, checksum algorithm kinds and time helpers.
//!
//! This crate does no I/O and has no knowledge of HTTP or storage. Every other layer takes these
//! types instead of raw strings, so a value that reached the engine has already been validated.

pub mod account;
pub mod cache;
pub mod checksum;
pub mod id;
pub mod name;
pub mod time;

pub use account::AccountId;
pub use checksum::ChecksumAlgorithm;
pub use name::{BucketName, KeyLimits, NameError, ObjectKey};
