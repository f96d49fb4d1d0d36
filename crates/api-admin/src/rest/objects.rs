//! Objects of a bucket: list (prefix, delimiter, pagination), details, delete one, delete many.

use std::collections::BTreeMap;

use base64::Engine as _;
use coffer_engine::list::{Cursor, Entry, ListQuery};
use coffer_meta::{Bucket, ObjectVersion, ScanBound};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::buckets::visible_bucket;
use super::error::ApiError;
use super::request::{ApiResponse, human_size, json, json_body, timestamp};
use super::{Ctx, Inner, done};

/// Longest object key.
const MAX_KEY_BYTES: usize = 1024;
/// Most keys one delete-many request may name.
const MAX_DELETE_KEYS: usize = 1000;

/// An object in a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectInfo {
    /// Object key.
    #[schema(example = "photos/vacation.jpg")]
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// `size` for people.
    #[schema(example = "1000.0 KB")]
    pub size_human: String,
    /// Content-Type, when the writer gave one.
    #[schema(example = "image/jpeg")]
    pub content_type: Option<String>,
    /// ETag without quotes (`-N` suffix for multipart objects).
    #[schema(example = "9bb58f26192e4ba00f01e2e7b136bbd8")]
    pub etag: String,
    /// Whether the object was assembled from a multipart upload.
    pub is_multipart: bool,
    /// When this version was written (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub created_at: String,
}

/// A page of objects.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectList {
    /// Objects in key order.
    pub objects: Vec<ObjectInfo>,
    /// With a delimiter: the common prefixes folded on this page.
    pub common_prefixes: Vec<String>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Everything about one object.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectDetail {
    /// The listing fields.
    #[serde(flatten)]
    pub object: ObjectInfo,
    /// Number of parts (0 for single-part objects).
    pub part_count: u32,
    /// User metadata (`x-amz-meta-*`, names lower-cased, without the prefix).
    pub metadata: BTreeMap<String, String>,
    /// Last change (RFC 3339, UTC); objects are immutable, so the same as `created_at`.
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub updated_at: String,
    /// Version id (`null` in unversioned buckets).
    pub version_id: String,
    /// Storage class.
    #[schema(example = "STANDARD")]
    pub storage_class: String,
    /// Cache-Control.
    pub cache_control: Option<String>,
    /// Content-Disposition.
    pub content_disposition: Option<String>,
    /// Content-Encoding.
    pub content_encoding: Option<String>,
    /// Stored checksums by algorithm (`CRC32C`: base64 value).
    pub checksums: BTreeMap<String, String>,
}

/// Query of the objects listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListObjectsQuery {
    /// Only keys starting with this.
    #[param(max_length = 1024)]
    pub prefix: Option<String>,
    /// Fold keys at this delimiter after the prefix into `common_prefixes`.
    #[param(max_length = 16)]
    pub delimiter: Option<String>,
    /// Page size, 1..=1000 [default: 100].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Start after this key (S3's `marker`); ignored when `cursor` is given.
    #[param(max_length = 1024)]
    pub marker: Option<String>,
}

/// Body of delete-many.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteObjects {
    /// Keys to delete (1..=1000).
    #[schema(min_items = 1, max_items = 1000)]
    pub keys: Vec<String>,
}

/// A key delete-many could not delete.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteFailure {
    /// The key.
    pub key: String,
    /// Why (`NoSuchKey`, ...).
    pub code: String,
    /// Explanation.
    pub message: String,
}

/// Result of delete-many.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedObjects {
    /// Keys deleted.
    pub deleted: Vec<String>,
    /// Keys not deleted, with the reason.
    pub errors: Vec<DeleteFailure>,
}

fn encode_cursor(bound: &ScanBound) -> Option<String> {
    let text = match bound {
        ScanBound::Unbounded => return None,
        ScanBound::Included(k) => format!("i{k}"),
        ScanBound::Excluded(k) => format!("e{k}"),
    };
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text))
}

fn decode_cursor(cursor: &str) -> Result<ScanBound, ApiError> {
    let invalid = || ApiError::field("cursor", "is not a cursor this API returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match text.split_at_checked(1) {
        Some(("i", key)) => Ok(ScanBound::Included(key.to_owned())),
        Some(("e", key)) => Ok(ScanBound::Excluded(key.to_owned())),
        _ => Err(invalid()),
    }
}

fn info(version: &ObjectVersion) -> ObjectInfo {
    ObjectInfo {
        key: version.key.clone(),
        size: version.size,
        size_human: human_size(version.size),
        content_type: version.headers.content_type.clone(),
        etag: version.etag.clone(),
        is_multipart: version.parts_count.is_some(),
        created_at: timestamp(version.last_modified),
    }
}

/// One page of a bucket's current objects: objects, next cursor, common prefixes.
pub async fn object_page(
    api: &Inner,
    bucket: &Bucket,
    prefix: &str,
    delimiter: Option<&str>,
    start: Option<ScanBound>,
    limit: usize,
) -> Result<(Vec<ObjectInfo>, Option<String>, Vec<String>), ApiError> {
    let page = api
        .engine
        .list_objects(
            bucket,
            ListQuery {
                prefix: prefix.to_owned(),
                delimiter: delimiter.map(str::to_owned),
                cursor: Cursor {
                    bound: start.unwrap_or(ScanBound::Unbounded),
                    within: None,
                },
                max_keys: limit,
            },
        )
        .await?;
    let mut objects = Vec::new();
    let mut prefixes = Vec::new();
    for entry in page.entries {
        match entry {
            Entry::Item(summary) => objects.push(ObjectInfo {
                size_human: human_size(summary.size),
                content_type: summary.content_type,
                is_multipart: summary.parts_count.is_some(),
                created_at: timestamp(summary.last_modified),
                key: summary.key,
                size: summary.size,
                etag: summary.etag,
            }),
            Entry::Prefix(p) => prefixes.push(p),
        }
    }
    let next = page
        .next
        .filter(|_| page.is_truncated)
        .and_then(|c| encode_cursor(&c.bound));
    Ok((objects, next, prefixes))
}

/// Lists a bucket's objects.
#[utoipa::path(
    get, path = "/api/v1/buckets/{bucket}/objects", tag = "objects", operation_id = "list_objects",
    params(("bucket" = String, Path, description = "Bucket name"), ListObjectsQuery),
    responses(
        (status = 200, description = "A page of objects", body = ObjectList),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_objects(api: &Inner, cx: &Ctx, bucket: &str) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let prefix = cx
        .query
        .bounded_str("prefix", MAX_KEY_BYTES)?
        .unwrap_or_default();
    let delimiter = cx
        .query
        .bounded_str("delimiter", 16)?
        .filter(|d| !d.is_empty());
    let start = match (
        cx.query.cursor()?,
        cx.query.bounded_str("marker", MAX_KEY_BYTES)?,
    ) {
        (Some(cursor), _) => Some(decode_cursor(cursor)?),
        (None, Some(marker)) if !marker.is_empty() => Some(ScanBound::Excluded(marker.to_owned())),
        _ => None,
    };
    let bucket = visible_bucket(api, cx, bucket).await?;
    let (objects, next_cursor, common_prefixes) =
        object_page(api, &bucket, prefix, delimiter, start, limit).await?;
    Ok(json(
        StatusCode::OK,
        &ObjectList {
            objects,
            common_prefixes,
            next_cursor,
        },
    ))
}

async fn current_object(
    api: &Inner,
    bucket: &Bucket,
    key: &str,
) -> Result<ObjectVersion, ApiError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(ApiError::field("key", "is longer than 1024 bytes"));
    }
    match api.engine.meta().get_object(bucket.id, key, None).await? {
        Some(version) if !version.is_delete_marker => Ok(version),
        _ => Err(ApiError::not_found(
            "NoSuchKey",
            "The specified key does not exist",
        )),
    }
}

/// Details of one object.
#[utoipa::path(
    get, path = "/api/v1/buckets/{bucket}/objects/{key}", tag = "objects", operation_id = "get_object",
    params(
        ("bucket" = String, Path, description = "Bucket name"),
        ("key" = String, Path, description = "Object key (`/` may be sent as is or as %2F)"),
    ),
    responses(
        (status = 200, description = "The object", body = ObjectDetail),
        (status = 400, description = "Invalid key", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket or key", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_object(
    api: &Inner,
    cx: &Ctx,
    bucket: &str,
    key: &str,
) -> Result<ApiResponse, ApiError> {
    let bucket = visible_bucket(api, cx, bucket).await?;
    let version = current_object(api, &bucket, key).await?;
    let object = info(&version);
    Ok(json(
        StatusCode::OK,
        &ObjectDetail {
            updated_at: object.created_at.clone(),
            object,
            part_count: version.parts_count.unwrap_or(0),
            metadata: version.headers.user_metadata.clone(),
            version_id: version.version_id.clone(),
            storage_class: version.storage_class.clone(),
            cache_control: version.headers.cache_control.clone(),
            content_disposition: version.headers.content_disposition.clone(),
            content_encoding: version.headers.content_encoding.clone(),
            checksums: version
                .checksums
                .values
                .iter()
                .map(|(algorithm, value)| (algorithm.to_string(), value.clone()))
                .collect(),
        },
    ))
}

/// Deletes one object (a delete marker in a versioned bucket).
#[utoipa::path(
    delete, path = "/api/v1/buckets/{bucket}/objects/{key}", tag = "objects", operation_id = "delete_object",
    params(
        ("bucket" = String, Path, description = "Bucket name"),
        ("key" = String, Path, description = "Object key"),
    ),
    responses(
        (status = 200, description = "Deleted", body = super::MessageBody),
        (status = 400, description = "Invalid key", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket or key", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_object(
    api: &Inner,
    cx: &Ctx,
    bucket: &str,
    key: &str,
) -> Result<ApiResponse, ApiError> {
    let bucket = visible_bucket(api, cx, bucket).await?;
    current_object(api, &bucket, key).await?;
    api.engine
        .delete_object(&bucket, key, None, &bucket.account_id)
        .await?;
    Ok(done())
}

/// Deletes several objects.
#[utoipa::path(
    post, path = "/api/v1/buckets/{bucket}/delete-objects", tag = "objects", operation_id = "delete_objects",
    params(("bucket" = String, Path, description = "Bucket name")),
    request_body = DeleteObjects,
    responses(
        (status = 200, description = "What was deleted and what was not", body = DeletedObjects),
        (status = 400, description = "Invalid body", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_objects(api: &Inner, cx: &Ctx, bucket: &str) -> Result<ApiResponse, ApiError> {
    let body: DeleteObjects = json_body(&cx.body)?;
    if body.keys.is_empty() || body.keys.len() > MAX_DELETE_KEYS {
        return Err(ApiError::field("keys", "must name between 1 and 1000 keys"));
    }
    if let Some(bad) = body
        .keys
        .iter()
        .position(|k| k.is_empty() || k.len() > MAX_KEY_BYTES)
    {
        return Err(ApiError::field(
            &format!("keys[{bad}]"),
            "must be 1 to 1024 bytes long",
        ));
    }
    let bucket = visible_bucket(api, cx, bucket).await?;
    let mut result = DeletedObjects {
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for key in body.keys {
        let outcome = match current_object(api, &bucket, &key).await {
            Ok(_) => api
                .engine
                .delete_object(&bucket, &key, None, &bucket.account_id)
                .await
                .map(|_| ())
                .map_err(ApiError::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => result.deleted.push(key),
            Err(e) => {
                if let ApiError::Internal(detail) = &e {
                    tracing::error!(error = %detail, "delete-many: one key failed");
                }
                result.errors.push(DeleteFailure {
                    key,
                    code: e.code().to_owned(),
                    message: e.body(&cx.request_id).message,
                });
            }
        }
    }
    Ok(json(StatusCode::OK, &result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for bound in [
            ScanBound::Included("a/b".into()),
            ScanBound::Excluded("ü/ñ x".into()),
        ] {
            let encoded = encode_cursor(&bound).unwrap();
            assert_eq!(decode_cursor(&encoded).unwrap(), bound);
        }
        assert!(decode_cursor("!!").is_err());
        assert!(decode_cursor("").is_err());
        assert!(decode_cursor("eA").is_err());
    }
}
