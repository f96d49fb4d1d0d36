//! CopyObject: the bytes of one version become a new object, possibly in another bucket.

use std::collections::BTreeMap;

use coffer_core::time::now_millis;
use coffer_core::{AccountId, ChecksumAlgorithm, ObjectKey};
use coffer_meta::{Bucket, NewObject, ObjectHeaders, StoredChecksums, WriteCondition};
use futures::StreamExt;

use super::get::{ReadConditions, segments_for};
use super::ingest::IngestLimits;
use crate::{BodyStream, Engine, EngineError, ObjectBody};

/// `x-amz-metadata-directive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataDirective {
    /// Keep the source's headers and metadata.
    #[default]
    Copy,
    /// Use the headers and metadata of the request.
    Replace,
}

/// A CopyObject as the engine sees it.
#[derive(Debug)]
pub struct CopyObjectRequest {
    /// Source bucket.
    pub source_bucket: Bucket,
    /// Source key.
    pub source_key: String,
    /// Source version, if named.
    pub source_version_id: Option<String>,
    /// `x-amz-copy-source-if-*`.
    pub source_conditions: ReadConditions,
    /// Destination bucket.
    pub bucket: Bucket,
    /// Destination key.
    pub key: ObjectKey,
    /// Writer.
    pub owner: AccountId,
    /// COPY or REPLACE.
    pub directive: MetadataDirective,
    /// Headers for REPLACE.
    pub headers: ObjectHeaders,
    /// Checksum algorithm for the new object (defaults to the source's).
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Conditional write on the destination.
    pub condition: WriteCondition,
}

/// What a successful CopyObject returns.
#[derive(Debug, Clone)]
pub struct CopyObjectResult {
    /// ETag of the new object.
    pub etag: String,
    /// Its modification time, ms since the epoch.
    pub last_modified: i64,
    /// Its version id.
    pub version_id: String,
    /// The source version copied.
    pub source_version_id: String,
    /// Checksums of the new object.
    pub checksums: BTreeMap<ChecksumAlgorithm, String>,
}

impl Engine {
    /// Copies an object.
    pub async fn copy_object(
        &self,
        request: CopyObjectRequest,
    ) -> Result<CopyObjectResult, EngineError> {
        let source = self
            .find_version(
                &request.source_bucket,
                &request.source_key,
                request.source_version_id.as_deref(),
            )
            .await?;
        request.source_conditions.check(&source, true)?;
        let same_object = request.source_bucket.id == request.bucket.id
            && request.source_key == request.key.as_str()
            && request.source_version_id.is_none();
        if same_object && request.directive == MetadataDirective::Copy {
            return Err(EngineError::InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself \
                 without changing the object's metadata, storage class, website redirect \
                 location or encryption attributes."
                    .into(),
            ));
        }
        let body = self.version_body(&source, 0, source.size)?;
        let algorithm = request
            .checksum_algorithm
            .or(source.headers.checksum_algorithm)
            .or_else(|| source.checksums.values.keys().next().copied());
        let limits = IngestLimits {
            max_size: self.config.max_object_size,
            content_length: Some(source.size),
            allow_inline: true,
        };
        let ingested = self
            .ingest(
                engine_stream(body),
                &limits,
                algorithm.into_iter().collect(),
            )
            .await?;
        let mut headers = match request.directive {
            MetadataDirective::Copy => source.headers.clone(),
            MetadataDirective::Replace => request.headers,
        };
        headers.checksum_algorithm = algorithm;
        let etag = hex::encode(ingested.digest.md5);
        let last_modified = now_millis();
        let object = NewObject {
            bucket_id: request.bucket.id,
            key: request.key.as_str().to_owned(),
            size: ingested.digest.size,
            etag: etag.clone(),
            last_modified,
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
            Ok(outcome) => Ok(CopyObjectResult {
                etag,
                last_modified,
                version_id: outcome.version_id,
                source_version_id: source.version_id,
                checksums: ingested.digest.checksums,
            }),
            Err(e) => {
                self.discard_after(&e, &ingested.data).await;
                Err(e.into())
            }
        }
    }

    /// The bytes `[start, start + len)` of a version.
    pub(crate) fn version_body(
        &self,
        version: &coffer_meta::ObjectVersion,
        start: u64,
        len: u64,
    ) -> Result<ObjectBody, EngineError> {
        let segments = segments_for(version, start, len)?;
        Ok(ObjectBody::new(self.blobs.clone(), segments))
    }
}

/// An object body as an ingest input.
pub(crate) fn engine_stream(body: ObjectBody) -> BodyStream {
    Box::pin(body.map(|chunk| chunk.map_err(|e| e.to_string())))
}
