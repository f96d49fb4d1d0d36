//! Object operations: put, get/head, delete, copy.

mod copy;
mod delete;
mod get;
mod ingest;
mod put;

pub(crate) use copy::engine_stream;
pub use copy::{CopyObjectRequest, CopyObjectResult, MetadataDirective};
pub use get::{ByteRange, EtagCondition, GetObjectRequest, ObjectRead, ReadConditions};
pub use ingest::{ChecksumRequest, TrailerSource};
pub(crate) use ingest::{Ingested, ingest_limits_for_part, verify};
pub use put::{PutObjectRequest, PutObjectResult};
