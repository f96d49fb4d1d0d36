//! Multipart upload operations.

use std::collections::BTreeMap;

use coffer_core::ChecksumAlgorithm as Algorithm;
use coffer_engine::multipart::{CompletedPart as EnginePart, PartCopySource};
#[allow(clippy::wildcard_imports)] // s3s DTO names mirror the S3 API one to one.
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use crate::bucket::check_canned_acl;
use crate::convert::{
    ChecksumFields, ChecksumHeaders, algorithm, algorithm_name, body_stream, checksum_request,
    etag, length, object_headers, owner, read_conditions, timestamp,
};
use crate::error::{EngineResultExt, s3};
use crate::object::{not_implemented, object_key, refuse_unsupported, write_condition};
use crate::service::CofferS3;

fn part_number(n: i32) -> S3Result<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=coffer_engine::multipart::MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            s3(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })
}

/// Parses `x-amz-copy-source-range: bytes=first-last`.
fn copy_range(value: Option<&str>) -> S3Result<Option<(u64, u64)>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let invalid = || {
        s3(
            S3ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where \
             first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let range = value.trim().strip_prefix("bytes=").ok_or_else(invalid)?;
    let (first, last) = range.split_once('-').ok_or_else(invalid)?;
    let first: u64 = first.parse().map_err(|_| invalid())?;
    let last: u64 = last.parse().map_err(|_| invalid())?;
    if last < first {
        return Err(invalid());
    }
    Ok(Some((first, last)))
}

impl CofferS3 {
    pub(crate) async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        refuse_unsupported!(input)?;
        check_canned_acl(input.acl.as_ref().map(ObjectCannedACL::as_str))?;
        if input
            .checksum_type
            .as_ref()
            .is_some_and(|t| t.as_str() == ChecksumType::FULL_OBJECT)
        {
            return Err(not_implemented("FULL_OBJECT multipart checksums"));
        }
        let key = object_key(&self.engine, &input.key)?;
        let mut headers = object_headers(
            input.content_type,
            input.cache_control,
            input.content_disposition,
            input.content_encoding,
            input.content_language,
            input.expires.as_ref(),
            input.metadata,
        );
        headers.checksum_algorithm = input
            .checksum_algorithm
            .as_ref()
            .map(algorithm)
            .transpose()?;
        let upload = self
            .engine
            .create_upload(&bucket, &key, &bucket.account_id, headers)
            .await
            .s3()?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(bucket.name),
            key: Some(upload.key),
            upload_id: Some(upload.upload_id),
            checksum_algorithm: input.checksum_algorithm,
            checksum_type: upload
                .headers
                .checksum_algorithm
                .map(|_| ChecksumType::from_static(ChecksumType::COMPOSITE)),
            ..Default::default()
        }))
    }

    pub(crate) async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let trailing = req.trailing_headers;
        let input = req.input;
        if input.sse_customer_algorithm.is_some() {
            return Err(not_implemented("Server-side encryption"));
        }
        let number = part_number(input.part_number)?;
        let upload = self
            .engine
            .upload(&bucket, &input.key, &input.upload_id)
            .await
            .s3()?;
        let checksums = checksum_request(
            ChecksumHeaders {
                algorithm: input.checksum_algorithm,
                crc32: input.checksum_crc32,
                crc32c: input.checksum_crc32c,
                crc64nvme: input.checksum_crc64nvme,
                sha1: input.checksum_sha1,
                sha256: input.checksum_sha256,
            },
            trailing,
        )?;
        let result = self
            .engine
            .upload_part(
                &upload,
                number,
                length(input.content_length)?,
                input.content_md5.as_deref(),
                checksums,
                body_stream(input.body),
            )
            .await
            .s3()?;
        let c = ChecksumFields::from_map(&result.checksums);
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag(&result.etag)),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            ..Default::default()
        }))
    }

    pub(crate) async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        if input.sse_customer_algorithm.is_some()
            || input.copy_source_sse_customer_algorithm.is_some()
        {
            return Err(not_implemented("Server-side encryption"));
        }
        let number = part_number(input.part_number)?;
        let upload = self
            .engine
            .upload(&bucket, &input.key, &input.upload_id)
            .await
            .s3()?;
        let CopySource::Bucket {
            bucket: source_bucket,
            key: source_key,
            version_id,
        } = input.copy_source
        else {
            return Err(not_implemented("Copying from access points and outposts"));
        };
        let source = PartCopySource {
            bucket: self.other_bucket(&source_bucket).await?,
            key: source_key.to_string(),
            version_id: version_id.map(|v| v.to_string()),
            range: copy_range(input.copy_source_range.as_deref())?,
            conditions: read_conditions(
                input.copy_source_if_match,
                input.copy_source_if_none_match,
                input.copy_source_if_modified_since.as_ref(),
                input.copy_source_if_unmodified_since.as_ref(),
            ),
        };
        let result = self
            .engine
            .upload_part_copy(&upload, number, source)
            .await
            .s3()?;
        let c = ChecksumFields::from_map(&result.checksums);
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(etag(&result.etag)),
                last_modified: Some(timestamp(result.last_modified)),
                checksum_crc32: c.crc32,
                checksum_crc32c: c.crc32c,
                checksum_crc64nvme: c.crc64nvme,
                checksum_sha1: c.sha1,
                checksum_sha256: c.sha256,
            }),
            copy_source_version_id: result.source_version_id.filter(|v| v != "null"),
            ..Default::default()
        }))
    }

    pub(crate) async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let upload = self
            .engine
            .upload(&bucket, &input.key, &input.upload_id)
            .await
            .s3()?;
        let max_parts = match input.max_parts {
            None => 1000,
            Some(n) if n < 0 => {
                return Err(s3(
                    S3ErrorCode::InvalidArgument,
                    "Argument max-parts must be an integer between 0 and 2147483647",
                ));
            }
            Some(n) => (n as usize).min(1000),
        };
        let marker = match input.part_number_marker {
            None => 0,
            Some(n) => u32::try_from(n).map_err(|_| {
                s3(
                    S3ErrorCode::InvalidArgument,
                    "Argument part-number-marker must be an integer between 0 and 2147483647",
                )
            })?,
        };
        let mut parts = self
            .engine
            .list_parts(&upload, marker, max_parts + 1)
            .await
            .s3()?;
        let is_truncated = parts.len() > max_parts;
        parts.truncate(max_parts);
        let next_marker = parts.last().map(|p| p.part_number as i32);
        let initiator = owner(&upload.owner);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(bucket.name),
            key: Some(upload.key),
            upload_id: Some(upload.upload_id),
            max_parts: Some(max_parts as i32),
            part_number_marker: Some(marker as i32),
            next_part_number_marker: next_marker,
            is_truncated: Some(is_truncated),
            initiator: Some(Initiator {
                display_name: initiator.display_name.clone(),
                id: initiator.id.clone(),
            }),
            owner: Some(initiator),
            storage_class: Some(StorageClass::from(upload.storage_class)),
            checksum_algorithm: upload
                .headers
                .checksum_algorithm
                .map(|a| ChecksumAlgorithm::from(algorithm_name(a))),
            parts: Some(
                parts
                    .into_iter()
                    .map(|p| {
                        let c = ChecksumFields::from_map(&p.checksums);
                        Part {
                            part_number: Some(p.part_number as i32),
                            e_tag: Some(etag(&p.etag)),
                            size: Some(p.size as i64),
                            last_modified: Some(timestamp(p.last_modified)),
                            checksum_crc32: c.crc32,
                            checksum_crc32c: c.crc32c,
                            checksum_crc64nvme: c.crc64nvme,
                            checksum_sha1: c.sha1,
                            checksum_sha256: c.sha256,
                        }
                    })
                    .collect(),
            ),
            ..Default::default()
        }))
    }

    pub(crate) async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        if input.sse_customer_algorithm.is_some() {
            return Err(not_implemented("Server-side encryption"));
        }
        let upload = self
            .engine
            .upload(&bucket, &input.key, &input.upload_id)
            .await
            .s3()?;
        let parts = input
            .multipart_upload
            .and_then(|m| m.parts)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                s3(
                    S3ErrorCode::MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our \
                     published schema",
                )
            })?;
        let mut requested = Vec::with_capacity(parts.len());
        for p in parts {
            let number = p
                .part_number
                .ok_or_else(|| s3(S3ErrorCode::MalformedXML, "Each part needs a PartNumber"))?;
            let mut checksums = BTreeMap::new();
            for (a, v) in [
                (Algorithm::Crc32, p.checksum_crc32),
                (Algorithm::Crc32c, p.checksum_crc32c),
                (Algorithm::Crc64Nvme, p.checksum_crc64nvme),
                (Algorithm::Sha1, p.checksum_sha1),
                (Algorithm::Sha256, p.checksum_sha256),
            ] {
                if let Some(v) = v {
                    checksums.insert(a, v);
                }
            }
            requested.push(EnginePart {
                part_number: part_number(number)
                    .map_err(|_| s3(S3ErrorCode::InvalidPart, "Invalid part number"))?,
                etag: p
                    .e_tag
                    .map(|e| e.value().to_owned())
                    .ok_or_else(|| s3(S3ErrorCode::MalformedXML, "Each part needs an ETag"))?,
                checksums,
            });
        }
        let condition = write_condition(input.if_match, input.if_none_match)?;
        let result = self
            .engine
            .complete_upload(&upload, &requested, condition)
            .await
            .s3()?;
        let c = ChecksumFields::from_map(&result.checksums.values);
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(bucket.name.clone()),
            key: Some(upload.key.clone()),
            location: Some(format!("/{}/{}", bucket.name, upload.key)),
            e_tag: Some(etag(&result.etag)),
            version_id: (result.version_id != "null").then_some(result.version_id),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            checksum_type: (!result.checksums.values.is_empty())
                .then(|| ChecksumType::from_static(ChecksumType::COMPOSITE)),
            ..Default::default()
        }))
    }

    pub(crate) async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        if input.if_match_initiated_time.is_some() {
            return Err(not_implemented("Conditional aborts"));
        }
        let upload = self
            .engine
            .upload(&bucket, &input.key, &input.upload_id)
            .await
            .s3()?;
        self.engine.abort_upload(&upload).await.s3()?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}
