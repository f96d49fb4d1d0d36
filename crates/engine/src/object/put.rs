//! PutObject.

use std::collections::BTreeMap;

use coffer_core::time::now_millis;
use coffer_core::{AccountId, ChecksumAlgorithm, ObjectKey};
use coffer_meta::{Bucket, NewObject, ObjectHeaders, StoredChecksums, WriteCondition};

use super::ingest::{ChecksumRequest, IngestLimits, verify};
use crate::{BodyStream, Engine, EngineError};

/// A PutObject as the engine sees it.
#[derive(Debug)]
pub struct PutObjectRequest {
    /// Target bucket.
    pub bucket: Bucket,
    /// Target key.
    pub key: ObjectKey,
    /// Writer.
    pub owner: AccountId,
    /// Content headers and user metadata to store.
    pub headers: ObjectHeaders,
    /// Content-Length, when the client sent one.
    pub content_length: Option<u64>,
    /// Content-MD5 (base64), when sent.
    pub content_md5: Option<String>,
    /// Checksums to compute and verify.
    pub checksums: ChecksumRequest,
    /// Conditional write.
    pub condition: WriteCondition,
}

/// What a successful PutObject returns.
#[derive(Debug, Clone)]
pub struct PutObjectResult {
    /// ETag without quotes.
    pub etag: String,
    /// Version id (`null` when unversioned).
    pub version_id: String,
    /// Stored checksums.
    pub checksums: BTreeMap<ChecksumAlgorithm, String>,
    /// Size in bytes.
    pub size: u64,
}

impl Engine {
    /// Stores a new object (or version) from `body`.
    pub async fn put_object(
        &self,
        mut request: PutObjectRequest,
        body: BodyStream,
    ) -> Result<PutObjectResult, EngineError> {
        let algorithms = request.checksums.algorithms();
        let limits = IngestLimits {
            max_size: self.config.max_object_size,
            content_length: request.content_length,
            allow_inline: true,
        };
        let ingested = self.ingest(body, &limits, algorithms).await?;
        if let Err(e) = verify(
            &ingested.digest,
            request.content_md5.as_deref(),
            &mut request.checksums,
        ) {
            self.discard(&ingested.data).await;
            return Err(e);
        }
        let etag = hex::encode(ingested.digest.md5);
        let mut headers = request.headers;
        headers.checksum_algorithm = request.checksums.algorithm;
        let object = NewObject {
            bucket_id: request.bucket.id,
            key: request.key.as_str().to_owned(),
            size: ingested.digest.size,
            etag: etag.clone(),
            last_modified: now_millis(),
            storage_class: "STANDARD".to_owned(),
            headers,
            checksums: StoredChecksums {
                values: ingested.digest.checksums.clone(),
                composite: false,
            },
            parts_count: None,
            owner: request.owner,
            data: ingested.data.clone(),
        };
        match self.meta.put_object(object, request.condition).await {
            Ok(outcome) => Ok(PutObjectResult {
                etag,
                version_id: outcome.version_id,
                checksums: ingested.digest.checksums,
                size: ingested.digest.size,
            }),
            Err(e) => {
                self.discard_after(&e, &ingested.data).await;
                Err(e.into())
            }
        }
    }
}
