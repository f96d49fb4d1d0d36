//! Object operations: put, get, head, delete (one and many), copy.

use coffer_core::ObjectKey;
use coffer_engine::object::{
    ByteRange, CopyObjectRequest, GetObjectRequest, ObjectRead, PutObjectRequest,
};
use coffer_meta::{ObjectVersion, WriteCondition};
#[allow(clippy::wildcard_imports)] // s3s DTO names mirror the S3 API one to one.
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use crate::bucket::check_canned_acl;
use crate::convert::{
    ChecksumFields, ChecksumHeaders, body_stream, checksum_request, etag, length, metadata,
    object_headers, parse_http_date, read_conditions, response_body, timestamp,
};
use crate::error::{EngineResultExt, s3};
use crate::service::CofferS3;

/// Most keys one DeleteObjects may name.
const MAX_DELETE_KEYS: usize = 1000;

pub(crate) fn not_implemented(what: &str) -> s3s::S3Error {
    s3(
        S3ErrorCode::NotImplemented,
        format!("{what} is not supported yet."),
    )
}

/// Refuses write headers whose meaning Coffer does not implement yet, rather than ignore them.
pub(crate) fn refuse_unsupported_write_headers(
    storage_class: Option<&StorageClass>,
    server_side_encryption: Option<&ServerSideEncryption>,
    sse_customer_algorithm: Option<&String>,
    ssekms_key_id: Option<&String>,
    object_lock: bool,
    tagging: Option<&String>,
    website_redirect_location: Option<&String>,
) -> S3Result<()> {
    if let Some(class) = storage_class
        && class.as_str() != StorageClass::STANDARD
    {
        return Err(s3(
            S3ErrorCode::InvalidStorageClass,
            "The storage class you specified is not valid",
        ));
    }
    if server_side_encryption.is_some()
        || sse_customer_algorithm.is_some()
        || ssekms_key_id.is_some()
    {
        return Err(not_implemented("Server-side encryption"));
    }
    if object_lock {
        return Err(s3(
            S3ErrorCode::InvalidRequest,
            "Bucket is missing Object Lock Configuration",
        ));
    }
    if tagging.is_some() {
        return Err(not_implemented("Object tagging"));
    }
    if website_redirect_location.is_some() {
        return Err(not_implemented("Website redirects"));
    }
    Ok(())
}

pub(crate) fn object_key(engine: &coffer_engine::Engine, key: &str) -> S3Result<ObjectKey> {
    ObjectKey::new(key, engine.config().key_limits).map_err(|e| crate::error::from_engine(e.into()))
}

/// `If-None-Match` / `If-Match` of a write as an engine condition.
pub(crate) fn write_condition(
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
) -> S3Result<WriteCondition> {
    match (if_match, if_none_match) {
        (Some(_), Some(_)) => Err(s3(
            S3ErrorCode::NotImplemented,
            "If-Match and If-None-Match together are not supported",
        )),
        (None, Some(ETagCondition::Any)) => Ok(WriteCondition::IfNoneMatchAny),
        (None, Some(ETagCondition::ETag(_))) => Err(s3(
            S3ErrorCode::NotImplemented,
            "If-None-Match on a write supports only '*'",
        )),
        (Some(ETagCondition::Any), None) => Ok(WriteCondition::IfMatch("*".into())),
        (Some(ETagCondition::ETag(e)), None) => Ok(WriteCondition::IfMatch(e.value().to_owned())),
        (None, None) => Ok(WriteCondition::None),
    }
}

fn version_header(version_id: &str) -> Option<String> {
    (version_id != "null").then(|| version_id.to_owned())
}

fn byte_range(range: Option<Range>) -> Option<ByteRange> {
    range.map(|r| match r {
        Range::Int { first, last } => ByteRange::FromTo { first, last },
        Range::Suffix { length } => ByteRange::Suffix(length),
    })
}

fn part_number(n: Option<i32>) -> S3Result<Option<u32>> {
    n.map(|n| {
        u32::try_from(n)
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                s3(
                    S3ErrorCode::InvalidArgument,
                    "Part number must be an integer between 1 and 10000, inclusive",
                )
            })
    })
    .transpose()
}

/// The engine request of a GetObject or HeadObject (their inputs have the same fields).
macro_rules! read_request {
    ($input:expr) => {
        GetObjectRequest {
            key: $input.key,
            version_id: $input.version_id,
            range: byte_range($input.range),
            part_number: part_number($input.part_number)?,
            conditions: read_conditions(
                $input.if_match,
                $input.if_none_match,
                $input.if_modified_since.as_ref(),
                $input.if_unmodified_since.as_ref(),
            ),
        }
    };
}

/// The GetObject or HeadObject output of a read (their outputs share these headers).
macro_rules! read_output {
    ($output:ident, $read:expr, $fields:expr $(, $name:ident: $value:expr)*) => {{
        let f = $fields;
        let v = &$read.version;
        let h = &v.headers;
        $output {
            accept_ranges: Some("bytes".to_owned()),
            cache_control: h.cache_control.clone(),
            content_disposition: h.content_disposition.clone(),
            content_encoding: h.content_encoding.clone(),
            content_language: h.content_language.clone(),
            content_type: h.content_type.clone(),
            expires: h.expires.as_deref().and_then(parse_http_date),
            metadata: metadata(h),
            version_id: version_header(&v.version_id),
            content_length: Some(f.content_length),
            content_range: f.content_range,
            e_tag: Some(f.e_tag),
            last_modified: Some(f.last_modified),
            parts_count: f.parts_count,
            checksum_crc32: f.checksums.crc32,
            checksum_crc32c: f.checksums.crc32c,
            checksum_crc64nvme: f.checksums.crc64nvme,
            checksum_sha1: f.checksums.sha1,
            checksum_sha256: f.checksums.sha256,
            checksum_type: f.checksum_type,
            $($name: $value,)*
            ..Default::default()
        }
    }};
}

/// Refuses the write headers Coffer does not implement yet (the inputs of PutObject,
/// CopyObject and CreateMultipartUpload name them alike).
macro_rules! refuse_unsupported {
    ($input:expr) => {
        $crate::object::refuse_unsupported_write_headers(
            $input.storage_class.as_ref(),
            $input.server_side_encryption.as_ref(),
            $input.sse_customer_algorithm.as_ref(),
            $input.ssekms_key_id.as_ref(),
            $input.object_lock_mode.is_some()
                || $input.object_lock_retain_until_date.is_some()
                || $input.object_lock_legal_hold_status.is_some(),
            $input.tagging.as_ref(),
            $input.website_redirect_location.as_ref(),
        )
    };
}
pub(crate) use refuse_unsupported;

/// The response fields GET and HEAD share.
struct ReadFields {
    content_length: i64,
    content_range: Option<String>,
    e_tag: ETag,
    last_modified: Timestamp,
    parts_count: Option<i32>,
    checksums: ChecksumFields,
    checksum_type: Option<ChecksumType>,
}

fn read_fields(
    read: &ObjectRead,
    checksum_mode: Option<&ChecksumMode>,
    part_asked: bool,
) -> ReadFields {
    let v: &ObjectVersion = &read.version;
    let whole = read.span.is_none();
    let with_checksums =
        checksum_mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED) && whole;
    ReadFields {
        content_length: read.content_length as i64,
        content_range: read
            .span
            .map(|(first, last)| format!("bytes {first}-{last}/{}", v.size)),
        e_tag: etag(&v.etag),
        last_modified: timestamp(v.last_modified),
        parts_count: v.parts_count.filter(|_| part_asked).map(|n| n as i32),
        checksums: if with_checksums {
            ChecksumFields::from_map(&v.checksums.values)
        } else {
            ChecksumFields::default()
        },
        checksum_type: (with_checksums && !v.checksums.values.is_empty()).then(|| {
            ChecksumType::from_static(if v.checksums.composite {
                ChecksumType::COMPOSITE
            } else {
                ChecksumType::FULL_OBJECT
            })
        }),
    }
}

impl CofferS3 {
    /// DeleteObjects is authorized key by key, as if each were a DeleteObject.
    async fn authorize_delete(
        &self,
        caller: &crate::context::Caller,
        bucket: &coffer_meta::Bucket,
        key: &str,
        version_id: Option<&str>,
    ) -> S3Result<()> {
        object_key(&self.engine, key)?;
        let target = coffer_iam::s3_action::S3Target {
            bucket: Some(&bucket.name),
            key: Some(key),
            version_id,
            copy_source: None,
        };
        let checks = coffer_iam::s3_action::required_permissions("DeleteObject", &target)
            .unwrap_or_default();
        for check in &checks {
            self.access.authorize(caller, check).await?;
        }
        Ok(())
    }

    pub(crate) async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let trailing = req.trailing_headers;
        let input = req.input;
        refuse_unsupported!(input)?;
        check_canned_acl(input.acl.as_ref().map(ObjectCannedACL::as_str))?;
        if input.write_offset_bytes.is_some() {
            return Err(not_implemented("Appending with x-amz-write-offset-bytes"));
        }
        let key = object_key(&self.engine, &input.key)?;
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
        let request = PutObjectRequest {
            owner: bucket.account_id.clone(),
            bucket,
            key,
            headers: object_headers(
                input.content_type,
                input.cache_control,
                input.content_disposition,
                input.content_encoding,
                input.content_language,
                input.expires.as_ref(),
                input.metadata,
            ),
            content_length: length(input.content_length)?,
            content_md5: input.content_md5,
            checksums,
            condition: write_condition(input.if_match, input.if_none_match)?,
        };
        let result = self
            .engine
            .put_object(request, body_stream(input.body))
            .await
            .s3()?;
        let c = ChecksumFields::from_map(&result.checksums);
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(&result.etag)),
            version_id: version_header(&result.version_id),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            checksum_type: (!result.checksums.is_empty())
                .then(|| ChecksumType::from_static(ChecksumType::FULL_OBJECT)),
            ..Default::default()
        }))
    }

    async fn read(
        &self,
        bucket: &coffer_meta::Bucket,
        request: GetObjectRequest,
        sse_customer_algorithm: Option<&String>,
        with_body: bool,
    ) -> S3Result<ObjectRead> {
        if sse_customer_algorithm.is_some() {
            return Err(s3(
                S3ErrorCode::InvalidRequest,
                "The encryption parameters are not applicable to this object.",
            ));
        }
        self.engine
            .get_object(bucket, &request, with_body)
            .await
            .s3()
    }

    pub(crate) async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let request = read_request!(input);
        let part_asked = request.part_number.is_some();
        let read = self
            .read(
                &bucket,
                request,
                input.sse_customer_algorithm.as_ref(),
                true,
            )
            .await?;
        let fields = read_fields(&read, input.checksum_mode.as_ref(), part_asked);
        let output =
            read_output!(GetObjectOutput, read, fields, body: Some(response_body(read.body)));
        Ok(S3Response::new(output))
    }

    pub(crate) async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let request = read_request!(input);
        let part_asked = request.part_number.is_some();
        let read = self
            .read(
                &bucket,
                request,
                input.sse_customer_algorithm.as_ref(),
                false,
            )
            .await?;
        let fields = read_fields(&read, input.checksum_mode.as_ref(), part_asked);
        Ok(S3Response::new(read_output!(
            HeadObjectOutput,
            read,
            fields
        )))
    }

    pub(crate) async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        if input.if_match.is_some()
            || input.if_match_last_modified_time.is_some()
            || input.if_match_size.is_some()
        {
            return Err(not_implemented("Conditional deletes"));
        }
        let outcome = self
            .engine
            .delete_object(
                &bucket,
                &input.key,
                input.version_id.as_deref(),
                &bucket.account_id,
            )
            .await
            .s3()?;
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: outcome.delete_marker.then_some(true),
            version_id: outcome.version_id.as_deref().and_then(version_header),
            ..Default::default()
        }))
    }

    pub(crate) async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let caller = Self::caller(&req)?;
        let bucket = Self::target_bucket(&req)?;
        let delete = req.input.delete;
        if delete.objects.len() > MAX_DELETE_KEYS || delete.objects.is_empty() {
            return Err(s3(
                S3ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our \
                 published schema",
            ));
        }
        let quiet = delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for object in delete.objects {
            let result = match self
                .authorize_delete(&caller, &bucket, &object.key, object.version_id.as_deref())
                .await
            {
                Err(e) => Err(e),
                Ok(()) => self
                    .engine
                    .delete_object(
                        &bucket,
                        &object.key,
                        object.version_id.as_deref(),
                        &bucket.account_id,
                    )
                    .await
                    .s3(),
            };
            match result {
                Ok(outcome) => {
                    if !quiet {
                        let marker_version = outcome
                            .delete_marker
                            .then(|| outcome.version_id.clone())
                            .flatten();
                        deleted.push(DeletedObject {
                            key: Some(object.key),
                            version_id: object.version_id,
                            delete_marker: outcome.delete_marker.then_some(true),
                            delete_marker_version_id: marker_version,
                        });
                    }
                }
                Err(e) => errors.push(Error {
                    code: Some(e.code().as_str().to_owned()),
                    message: e.message().map(str::to_owned),
                    key: Some(object.key),
                    version_id: object.version_id,
                }),
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: Some(errors),
            ..Default::default()
        }))
    }

    pub(crate) async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        refuse_unsupported!(input)?;
        check_canned_acl(input.acl.as_ref().map(ObjectCannedACL::as_str))?;
        if input.copy_source_sse_customer_algorithm.is_some() {
            return Err(not_implemented("Server-side encryption"));
        }
        if input.tagging_directive.is_some() {
            return Err(not_implemented("Object tagging"));
        }
        let CopySource::Bucket {
            bucket: source_bucket,
            key: source_key,
            version_id: source_version,
        } = input.copy_source
        else {
            return Err(not_implemented("Copying from access points and outposts"));
        };
        let source_bucket = self.other_bucket(&source_bucket).await?;
        let directive = match input
            .metadata_directive
            .as_ref()
            .map(MetadataDirective::as_str)
        {
            None | Some("COPY") => coffer_engine::object::MetadataDirective::Copy,
            Some("REPLACE") => coffer_engine::object::MetadataDirective::Replace,
            Some(other) => {
                return Err(s3(
                    S3ErrorCode::InvalidArgument,
                    format!("Unknown metadata directive {other}"),
                ));
            }
        };
        let key = object_key(&self.engine, &input.key)?;
        let request = CopyObjectRequest {
            source_bucket,
            source_key: source_key.to_string(),
            source_version_id: source_version.map(|v| v.to_string()),
            source_conditions: read_conditions(
                input.copy_source_if_match,
                input.copy_source_if_none_match,
                input.copy_source_if_modified_since.as_ref(),
                input.copy_source_if_unmodified_since.as_ref(),
            ),
            owner: bucket.account_id.clone(),
            bucket,
            key,
            directive,
            headers: object_headers(
                input.content_type,
                input.cache_control,
                input.content_disposition,
                input.content_encoding,
                input.content_language,
                input.expires.as_ref(),
                input.metadata,
            ),
            checksum_algorithm: input
                .checksum_algorithm
                .as_ref()
                .map(crate::convert::algorithm)
                .transpose()?,
            condition: WriteCondition::None,
        };
        let result = self.engine.copy_object(request).await.s3()?;
        let c = ChecksumFields::from_map(&result.checksums);
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&result.etag)),
                last_modified: Some(timestamp(result.last_modified)),
                checksum_crc32: c.crc32,
                checksum_crc32c: c.crc32c,
                checksum_crc64nvme: c.crc64nvme,
                checksum_sha1: c.sha1,
                checksum_sha256: c.sha256,
                checksum_type: None,
            }),
            copy_source_version_id: version_header(&result.source_version_id),
            version_id: version_header(&result.version_id),
            ..Default::default()
        }))
    }
}
