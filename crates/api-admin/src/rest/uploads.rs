//! Multipart uploads in progress: list per bucket, abort.

use coffer_engine::list::{Cursor, Entry, ListQuery};
use coffer_meta::ScanBound;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::buckets::{OwnerNames, visible_bucket};
use super::error::ApiError;
use super::request::{ApiResponse, human_size, json, timestamp};
use super::{Ctx, Inner, done};

/// Most parts an upload may have (all are read to add up its size).
const MAX_PARTS: usize = 10_000;

/// An upload in progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadInfo {
    /// Upload id.
    #[schema(example = "0185c2d1a3f07b9e4c1d2a3b4c5d6e7f")]
    pub upload_id: String,
    /// Key the object will have.
    #[schema(example = "large-file.zip")]
    pub object_key: String,
    /// Name of the account that started it.
    #[schema(example = "acme")]
    pub initiated_by: String,
    /// Content-Type the object will have.
    #[schema(example = "application/zip")]
    pub content_type: Option<String>,
    /// When it started (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub initiated_at: String,
    /// Parts uploaded so far.
    pub part_count: u64,
    /// Bytes uploaded so far.
    pub total_size: u64,
    /// `total_size` for people.
    #[schema(example = "25.0 MB")]
    pub total_size_human: String,
}

/// A page of uploads.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadList {
    /// Uploads in key order.
    pub uploads: Vec<UploadInfo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query of the uploads listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUploadsQuery {
    /// Only keys starting with this.
    #[param(max_length = 1024)]
    pub prefix: Option<String>,
    /// Page size, 1..=1000 [default: 100].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// `key` and `upload id` of the last upload of a page, as a cursor.
fn encode_cursor(key: &str, upload_id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{upload_id}/{key}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    use base64::Engine as _;
    let invalid = || ApiError::field("cursor", "is not a cursor this API returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (upload_id, key) = text.split_once('/').ok_or_else(invalid)?;
    Ok((key.to_owned(), upload_id.to_owned()))
}

/// Lists a bucket's uploads in progress.
#[utoipa::path(
    get, path = "/api/v1/buckets/{bucket}/uploads", tag = "uploads", operation_id = "list_uploads",
    params(("bucket" = String, Path, description = "Bucket name"), ListUploadsQuery),
    responses(
        (status = 200, description = "A page of uploads", body = UploadList),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_uploads(api: &Inner, cx: &Ctx, bucket: &str) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let prefix = cx.query.bounded_str("prefix", 1024)?.unwrap_or_default();
    let cursor = match cx.query.cursor()? {
        Some(c) => {
            let (key, upload_id) = decode_cursor(c)?;
            Cursor {
                // The shape of the engine's own next-page cursor after an upload.
                bound: ScanBound::Excluded(key.clone()),
                within: Some((key, upload_id)),
            }
        }
        None => Cursor::start(),
    };
    let bucket = visible_bucket(api, cx, bucket).await?;
    let page = api
        .engine
        .list_uploads(
            &bucket,
            ListQuery {
                prefix: prefix.to_owned(),
                delimiter: None,
                cursor,
                max_keys: limit,
            },
        )
        .await?;
    let mut owners = OwnerNames::default();
    let mut uploads = Vec::new();
    let mut last = None;
    for entry in page.entries {
        let Entry::Item(upload) = entry else { continue };
        let parts = api.engine.list_parts(&upload, 0, MAX_PARTS).await?;
        let total_size: u64 = parts.iter().map(|p| p.size).sum();
        last = Some(encode_cursor(&upload.key, &upload.upload_id));
        uploads.push(UploadInfo {
            upload_id: upload.upload_id.clone(),
            object_key: upload.key.clone(),
            initiated_by: owners.name(api, &upload.owner).await?,
            content_type: upload.headers.content_type.clone(),
            initiated_at: timestamp(upload.initiated),
            part_count: parts.len() as u64,
            total_size,
            total_size_human: human_size(total_size),
        });
    }
    let next_cursor = if page.is_truncated { last } else { None };
    Ok(json(
        StatusCode::OK,
        &UploadList {
            uploads,
            next_cursor,
        },
    ))
}

/// Aborts an upload; its parts are freed.
#[utoipa::path(
    delete, path = "/api/v1/buckets/{bucket}/uploads/{upload_id}", tag = "uploads", operation_id = "abort_upload",
    params(
        ("bucket" = String, Path, description = "Bucket name"),
        ("upload_id" = String, Path, description = "Upload id"),
    ),
    responses(
        (status = 200, description = "Aborted", body = super::MessageBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket or upload", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn abort_upload(
    api: &Inner,
    cx: &Ctx,
    bucket: &str,
    upload_id: &str,
) -> Result<ApiResponse, ApiError> {
    let bucket = visible_bucket(api, cx, bucket).await?;
    let upload = match api.engine.meta().get_upload(upload_id).await? {
        Some(u) if u.bucket_id == bucket.id => u,
        _ => {
            return Err(ApiError::not_found(
                "NoSuchUpload",
                "The specified upload does not exist",
            ));
        }
    };
    api.engine.abort_upload(&upload).await?;
    Ok(done())
}
