//! Multipart uploads: create, upload parts (also by copy), list, complete, abort.
//!
//! A completed upload is not copied: the object becomes a manifest of its part blobs.

use std::collections::BTreeMap;

use base64::Engine as _;
use coffer_core::id::new_upload_id;
use coffer_core::time::now_millis;
use coffer_core::{AccountId, ChecksumAlgorithm, ObjectKey};
use coffer_meta::{
    Bucket, Completion, ObjectHeaders, Part, StoredChecksums, Upload, WriteCondition,
};
use md5_many::Digest as _;

use crate::object::ChecksumRequest;
use crate::object::{ByteRange, ReadConditions};
use crate::object::{ingest_limits_for_part, verify};
use crate::{BodyStream, Engine, EngineError};

/// Highest part number S3 allows.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// One entry of a CompleteMultipartUpload body.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    /// Part number.
    pub part_number: u32,
    /// ETag as the client sent it (quotes allowed).
    pub etag: String,
    /// Checksums the client lists for the part.
    pub checksums: BTreeMap<ChecksumAlgorithm, String>,
}

/// What UploadPart / UploadPartCopy return.
#[derive(Debug, Clone)]
pub struct PartResult {
    /// ETag of the part (no quotes).
    pub etag: String,
    /// Checksums of the part.
    pub checksums: BTreeMap<ChecksumAlgorithm, String>,
    /// Modification time of the part, ms.
    pub last_modified: i64,
    /// For UploadPartCopy: the source version copied.
    pub source_version_id: Option<String>,
}

/// What CompleteMultipartUpload returns.
#[derive(Debug, Clone)]
pub struct CompleteResult {
    /// `md5-of-part-md5s-N`.
    pub etag: String,
    /// Version id of the new object.
    pub version_id: String,
    /// Object checksums (composite).
    pub checksums: StoredChecksums,
}

/// The source of an UploadPartCopy.
#[derive(Debug, Clone)]
pub struct PartCopySource {
    /// Source bucket.
    pub bucket: Bucket,
    /// Source key.
    pub key: String,
    /// Source version.
    pub version_id: Option<String>,
    /// `x-amz-copy-source-range` (always `first-last`).
    pub range: Option<(u64, u64)>,
    /// `x-amz-copy-source-if-*`.
    pub conditions: ReadConditions,
}

impl Engine {
    /// Starts an upload.
    pub async fn create_upload(
        &self,
        bucket: &Bucket,
        key: &ObjectKey,
        owner: &AccountId,
        headers: ObjectHeaders,
    ) -> Result<Upload, EngineError> {
        let upload = Upload {
            upload_id: new_upload_id(),
            bucket_id: bucket.id,
            key: key.as_str().to_owned(),
            initiated: now_millis(),
            owner: owner.clone(),
            headers,
            storage_class: "STANDARD".to_owned(),
        };
        self.meta.create_upload(upload.clone()).await?;
        Ok(upload)
    }

    /// The upload `upload_id` of `bucket`/`key`, or `NoSuchUpload`.
    pub async fn upload(
        &self,
        bucket: &Bucket,
        key: &str,
        upload_id: &str,
    ) -> Result<Upload, EngineError> {
        match self.meta.get_upload(upload_id).await? {
            Some(u) if u.bucket_id == bucket.id && u.key == key => Ok(u),
            _ => Err(EngineError::NoSuchUpload),
        }
    }

    fn check_part_number(part_number: u32) -> Result<(), EngineError> {
        if (1..=MAX_PART_NUMBER).contains(&part_number) {
            Ok(())
        } else {
            Err(EngineError::InvalidArgument(
                "Part number must be an integer between 1 and 10000, inclusive".into(),
            ))
        }
    }

    /// Stores one part from `body`.
    #[allow(clippy::too_many_arguments)] // Each argument is one field of the S3 request.
    pub async fn upload_part(
        &self,
        upload: &Upload,
        part_number: u32,
        content_length: Option<u64>,
        content_md5: Option<&str>,
        mut checksums: ChecksumRequest,
        body: BodyStream,
    ) -> Result<PartResult, EngineError> {
        Self::check_part_number(part_number)?;
        if checksums.algorithm.is_none() {
            checksums.algorithm = upload.headers.checksum_algorithm;
        }
        let limits = ingest_limits_for_part(self.config.max_part_size, content_length);
        let ingested = self.ingest(body, &limits, checksums.algorithms()).await?;
        if let Err(e) = verify(&ingested.digest, content_md5, &mut checksums) {
            self.discard(&ingested.data).await;
            return Err(e);
        }
        self.commit_part(upload, part_number, ingested, None).await
    }

    /// Stores one part copied from (a range of) an existing object.
    pub async fn upload_part_copy(
        &self,
        upload: &Upload,
        part_number: u32,
        source: PartCopySource,
    ) -> Result<PartResult, EngineError> {
        Self::check_part_number(part_number)?;
        let version = self
            .find_version(&source.bucket, &source.key, source.version_id.as_deref())
            .await?;
        source.conditions.check(&version, true)?;
        let (start, len) = match source.range {
            Some((first, last)) => {
                if last < first || last >= version.size {
                    return Err(EngineError::InvalidRequest(
                        "The x-amz-copy-source-range value must be of the form bytes=first-last \
                         where first and last are the zero-based offsets of the first and last \
                         bytes to copy"
                            .into(),
                    ));
                }
                let (first, last) = ByteRange::FromTo {
                    first,
                    last: Some(last),
                }
                .resolve(version.size)?;
                (first, last - first + 1)
            }
            None => (0, version.size),
        };
        let body = self.version_body(&version, start, len)?;
        let limits = ingest_limits_for_part(self.config.max_part_size, Some(len));
        let algorithms: Vec<ChecksumAlgorithm> =
            upload.headers.checksum_algorithm.into_iter().collect();
        let ingested = self
            .ingest(crate::object::engine_stream(body), &limits, algorithms)
            .await?;
        self.commit_part(upload, part_number, ingested, Some(version.version_id))
            .await
    }

    async fn commit_part(
        &self,
        upload: &Upload,
        part_number: u32,
        ingested: crate::object::Ingested,
        source_version_id: Option<String>,
    ) -> Result<PartResult, EngineError> {
        let coffer_meta::ObjectData::Blob(blob_id) = &ingested.data else {
            return Err(EngineError::Internal("a part was stored inline".into()));
        };
        let etag = hex::encode(ingested.digest.md5);
        let last_modified = now_millis();
        let part = Part {
            part_number,
            blob_id: blob_id.clone(),
            size: ingested.digest.size,
            etag: etag.clone(),
            checksums: ingested.digest.checksums.clone(),
            last_modified,
        };
        if let Err(e) = self.meta.put_part(&upload.upload_id, part).await {
            self.discard_after(&e, &ingested.data).await;
            return Err(e.into());
        }
        Ok(PartResult {
            etag,
            checksums: ingested.digest.checksums,
            last_modified,
            source_version_id,
        })
    }

    /// Parts of an upload after `marker`, at most `max_parts`.
    pub async fn list_parts(
        &self,
        upload: &Upload,
        marker: u32,
        max_parts: usize,
    ) -> Result<Vec<Part>, EngineError> {
        Ok(self
            .meta
            .list_parts(&upload.upload_id, marker, max_parts)
            .await?)
    }

    /// Completes an upload with the listed parts.
    pub async fn complete_upload(
        &self,
        upload: &Upload,
        parts: &[CompletedPart],
        condition: WriteCondition,
    ) -> Result<CompleteResult, EngineError> {
        if parts.is_empty() {
            return Err(EngineError::InvalidRequest(
                "You must specify at least one part".into(),
            ));
        }
        if parts
            .windows(2)
            .any(|w| w[0].part_number >= w[1].part_number)
        {
            return Err(EngineError::InvalidPartOrder);
        }
        let stored: BTreeMap<u32, Part> = self
            .meta
            .list_parts(&upload.upload_id, 0, MAX_PART_NUMBER as usize)
            .await?
            .into_iter()
            .map(|p| (p.part_number, p))
            .collect();
        let mut md5_of_md5s = md5_many::Md5::new();
        let mut size = 0u64;
        let algorithm = upload.headers.checksum_algorithm;
        let mut composite = algorithm.map(|a| (a, Vec::<u8>::new()));
        for (index, requested) in parts.iter().enumerate() {
            let part = stored
                .get(&requested.part_number)
                .ok_or(EngineError::InvalidPart)?;
            if requested.etag.trim().trim_matches('"') != part.etag {
                return Err(EngineError::InvalidPart);
            }
            if index + 1 < parts.len() && part.size < self.config.min_part_size {
                return Err(EngineError::EntityTooSmall);
            }
            let raw = hex::decode(&part.etag)
                .map_err(|_| EngineError::Internal("stored part etag is not hex".into()))?;
            md5_of_md5s.update(&raw);
            size += part.size;
            if let Some((algorithm, concat)) = &mut composite {
                let value = part.checksums.get(algorithm).ok_or_else(|| {
                    EngineError::InvalidRequest(format!(
                        "The upload was created using a {} checksum. The complete request \
                         referenced parts that were not uploaded with one.",
                        algorithm.as_str().to_ascii_lowercase()
                    ))
                })?;
                if let Some(sent) = requested.checksums.get(algorithm)
                    && sent != value
                {
                    return Err(EngineError::InvalidPart);
                }
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .map_err(|_| EngineError::Internal("stored checksum is not base64".into()))?;
                concat.extend_from_slice(&raw);
            }
        }
        let etag = format!("{}-{}", hex::encode(md5_of_md5s.finalize()), parts.len());
        let mut checksums = StoredChecksums {
            values: BTreeMap::new(),
            composite: true,
        };
        if let Some((algorithm, concat)) = composite {
            let raw = coffer_blob::digest::checksum_raw(algorithm, &concat);
            checksums.values.insert(
                algorithm,
                format!(
                    "{}-{}",
                    base64::engine::general_purpose::STANDARD.encode(raw),
                    parts.len()
                ),
            );
        }
        let completion = Completion {
            parts: parts
                .iter()
                .filter_map(|p| {
                    stored
                        .get(&p.part_number)
                        .map(|s| (p.part_number, s.blob_id.clone()))
                })
                .collect(),
            etag: etag.clone(),
            size,
            checksums: checksums.clone(),
            last_modified: now_millis(),
            condition,
        };
        let outcome = self
            .meta
            .complete_upload(&upload.upload_id, completion)
            .await?;
        Ok(CompleteResult {
            etag,
            version_id: outcome.version_id,
            checksums,
        })
    }

    /// Aborts an upload; its parts' bytes are freed.
    pub async fn abort_upload(&self, upload: &Upload) -> Result<(), EngineError> {
        self.meta.abort_upload(&upload.upload_id).await?;
        Ok(())
    }
}
