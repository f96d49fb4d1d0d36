//! Conversions between s3s DTOs and engine types.

use std::collections::BTreeMap;

use coffer_core::{AccountId, ChecksumAlgorithm};
use coffer_engine::BodyStream;
use coffer_engine::object::{ChecksumRequest, EtagCondition, ReadConditions};
use coffer_meta::ObjectHeaders;
use futures::StreamExt;
use s3s::dto::{self, ETag, ETagCondition, StreamingBlob, Timestamp, TimestampFormat};
use s3s::{S3Error, S3ErrorCode, S3Result, TrailingHeaders};

use crate::error::s3;

/// Milliseconds since the epoch as an s3s timestamp.
pub fn timestamp(ms: i64) -> Timestamp {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .into()
}

/// Seconds since the epoch of an s3s timestamp.
pub fn seconds(ts: &Timestamp) -> i64 {
    time::OffsetDateTime::from(ts.clone()).unix_timestamp()
}

/// An ETag value as a strong ETag.
pub fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

/// The owner element of listings.
pub fn owner(account: &AccountId) -> dto::Owner {
    dto::Owner {
        display_name: Some(account.to_string()),
        id: Some(account.to_string()),
    }
}

fn etag_condition(c: Option<ETagCondition>) -> Option<EtagCondition> {
    c.map(|c| match c {
        ETagCondition::Any => EtagCondition::Any,
        ETagCondition::ETag(e) => EtagCondition::Etag(e.value().to_owned()),
    })
}

/// `If-*` headers as engine conditions.
pub fn read_conditions(
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> ReadConditions {
    ReadConditions {
        if_match: etag_condition(if_match),
        if_none_match: etag_condition(if_none_match),
        if_modified_since: if_modified_since.map(seconds),
        if_unmodified_since: if_unmodified_since.map(seconds),
    }
}

/// An HTTP date for the `Expires` header.
pub fn http_date(ts: &Timestamp) -> Option<String> {
    let mut buf = Vec::new();
    ts.format(TimestampFormat::HttpDate, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

/// Parses a stored HTTP date back.
pub fn parse_http_date(s: &str) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, s).ok()
}

/// Content headers and user metadata of a write request.
#[allow(clippy::too_many_arguments)] // One argument per S3 header.
pub fn object_headers(
    content_type: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<&Timestamp>,
    metadata: Option<dto::Metadata>,
) -> ObjectHeaders {
    // `aws-chunked` describes the transfer, not the object (s3s leaves it in place).
    let content_encoding = content_encoding.and_then(|enc| {
        let kept: Vec<&str> = enc
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
            .collect();
        (!kept.is_empty()).then(|| kept.join(","))
    });
    ObjectHeaders {
        // S3 stores objects sent without a type as binary/octet-stream.
        content_type: content_type.or_else(|| Some("binary/octet-stream".to_owned())),
        cache_control,
        content_disposition,
        content_encoding,
        content_language,
        expires: expires.and_then(http_date),
        user_metadata: metadata
            .map(|m| {
                m.into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect()
            })
            .unwrap_or_default(),
        checksum_algorithm: None,
    }
}

/// The user metadata map of a response.
pub fn metadata(headers: &ObjectHeaders) -> Option<dto::Metadata> {
    (!headers.user_metadata.is_empty()).then(|| {
        headers
            .user_metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
}

/// The engine's algorithm for an s3s one.
pub fn algorithm(a: &dto::ChecksumAlgorithm) -> S3Result<ChecksumAlgorithm> {
    a.as_str().parse().map_err(|_| {
        s3(
            S3ErrorCode::InvalidRequest,
            format!("Checksum algorithm {} is not supported.", a.as_str()),
        )
    })
}

/// Header checksum values of a write request.
pub struct ChecksumHeaders {
    /// `x-amz-checksum-algorithm` (or inferred from `x-amz-trailer`).
    pub algorithm: Option<dto::ChecksumAlgorithm>,
    /// `x-amz-checksum-crc32`.
    pub crc32: Option<String>,
    /// `x-amz-checksum-crc32c`.
    pub crc32c: Option<String>,
    /// `x-amz-checksum-crc64nvme`.
    pub crc64nvme: Option<String>,
    /// `x-amz-checksum-sha1`.
    pub sha1: Option<String>,
    /// `x-amz-checksum-sha256`.
    pub sha256: Option<String>,
}

/// What to compute and verify, including values that arrive in the trailer.
pub fn checksum_request(
    headers: ChecksumHeaders,
    trailing: Option<TrailingHeaders>,
) -> S3Result<ChecksumRequest> {
    let mut expected = BTreeMap::new();
    for (a, v) in [
        (ChecksumAlgorithm::Crc32, headers.crc32),
        (ChecksumAlgorithm::Crc32c, headers.crc32c),
        (ChecksumAlgorithm::Crc64Nvme, headers.crc64nvme),
        (ChecksumAlgorithm::Sha1, headers.sha1),
        (ChecksumAlgorithm::Sha256, headers.sha256),
    ] {
        if let Some(v) = v {
            expected.insert(a, v);
        }
    }
    if expected.len() > 1 {
        return Err(s3(
            S3ErrorCode::InvalidRequest,
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    let algorithm = headers.algorithm.as_ref().map(algorithm).transpose()?;
    let trailer = trailing.map(|t| {
        Box::new(move || {
            let mut values = BTreeMap::new();
            if let Some(map) = t.take() {
                for a in ChecksumAlgorithm::ALL {
                    let name = format!("x-amz-checksum-{}", a.as_str().to_ascii_lowercase());
                    if let Some(v) = map.get(name.as_str()).and_then(|v| v.to_str().ok()) {
                        values.insert(a, v.to_owned());
                    }
                }
            }
            values
        }) as coffer_engine::object::TrailerSource
    });
    Ok(ChecksumRequest {
        algorithm,
        expected,
        trailer,
    })
}

/// Checksum values of a response, field by field.
#[derive(Default)]
pub struct ChecksumFields {
    /// CRC32.
    pub crc32: Option<String>,
    /// CRC32C.
    pub crc32c: Option<String>,
    /// CRC64NVME.
    pub crc64nvme: Option<String>,
    /// SHA1.
    pub sha1: Option<String>,
    /// SHA256.
    pub sha256: Option<String>,
}

impl ChecksumFields {
    /// Splits stored checksums into response fields.
    pub fn from_map(values: &BTreeMap<ChecksumAlgorithm, String>) -> Self {
        let get = |a| values.get(&a).cloned();
        Self {
            crc32: get(ChecksumAlgorithm::Crc32),
            crc32c: get(ChecksumAlgorithm::Crc32c),
            crc64nvme: get(ChecksumAlgorithm::Crc64Nvme),
            sha1: get(ChecksumAlgorithm::Sha1),
            sha256: get(ChecksumAlgorithm::Sha256),
        }
    }
}

/// A request body as an engine stream.
pub fn body_stream(body: Option<StreamingBlob>) -> BodyStream {
    match body {
        Some(blob) => Box::pin(blob.map(|chunk| chunk.map_err(|e| e.to_string()))),
        None => Box::pin(futures::stream::empty()),
    }
}

/// An engine object body as a response body.
pub fn response_body(body: coffer_engine::ObjectBody) -> StreamingBlob {
    StreamingBlob::wrap(body.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string()))))
}

/// A non-negative length from an optional signed DTO field.
pub fn length(value: Option<i64>) -> S3Result<Option<u64>> {
    value
        .map(|v| {
            u64::try_from(v)
                .map_err(|_| S3Error::with_message(S3ErrorCode::InvalidArgument, "Negative length"))
        })
        .transpose()
}

/// The S3 name of an algorithm, as an owned string for DTO constructors.
pub fn algorithm_name(a: ChecksumAlgorithm) -> String {
    a.as_str().to_owned()
}
