//! Buckets: list (every account's for operators), create, get with a page of objects, delete
//! (refused when not empty unless `force=true`).

use std::collections::HashMap;

use coffer_core::{AccountId, BucketName};
use coffer_meta::{Bucket, ScanBound};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::objects::{ObjectInfo, object_page};
use super::request::{ApiResponse, human_size, json, json_body, page_after, timestamp};
use super::{Ctx, Inner, done};

/// Rows read per scan when adding up a bucket.
const TOTALS_BATCH: usize = 1000;

/// A bucket with its totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BucketInfo {
    /// Bucket name.
    #[schema(example = "my-bucket")]
    pub name: String,
    /// Region.
    #[schema(example = "us-east-1")]
    pub region: String,
    /// Name of the owning account.
    #[schema(example = "acme")]
    pub owner: String,
    /// 15-digit id of the owning account.
    #[schema(example = "482913746501263")]
    pub account_id: String,
    /// Creation time (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub created_at: String,
    /// Current objects.
    pub object_count: u64,
    /// Bytes of current objects.
    pub total_size: u64,
    /// `total_size` for people.
    #[schema(example = "1.0 GB")]
    pub total_size_human: String,
}

/// A page of buckets.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketList {
    /// Buckets in name order.
    pub buckets: Vec<BucketInfo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A bucket with a page of its objects.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketDetail {
    /// The bucket.
    #[serde(flatten)]
    pub bucket: BucketInfo,
    /// Versioning state: `Unversioned`, `Enabled` or `Suspended`.
    pub versioning: String,
    /// The first objects (in key order), `limit` at most.
    pub objects: Vec<ObjectInfo>,
    /// Pass as `cursor` to the objects listing for the next page; `null` when no more.
    pub next_cursor: Option<String>,
}

/// Body of bucket creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBucket {
    /// Bucket name (S3 naming rules).
    #[schema(example = "my-new-bucket")]
    pub name: String,
    /// The owning account; account keys may omit it (their own), operator keys must give it.
    #[schema(example = "482913746501263")]
    pub account_id: Option<String>,
    /// Region; only the server's own region is accepted [default: the server's region].
    #[schema(example = "us-east-1")]
    pub region: Option<String>,
}

/// Query of the bucket listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListBucketsQuery {
    /// Page size, 1..=1000 [default: 100].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Only this account's buckets (operators; account keys always see their own only).
    pub account_id: Option<String>,
}

/// Query of bucket deletion.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteBucketQuery {
    /// Delete every object, version and upload first.
    pub force: Option<bool>,
}

/// Looks a bucket up and checks the caller may reach it: 404 when absent, 403 when another
/// account's.
pub async fn visible_bucket(api: &Inner, cx: &Ctx, name: &str) -> Result<Bucket, ApiError> {
    let bucket = api.engine.meta().get_bucket(name).await?.ok_or_else(|| {
        ApiError::not_found("NoSuchBucket", "The specified bucket does not exist")
    })?;
    cx.principal.require_account(&bucket.account_id)?;
    Ok(bucket)
}

/// Every bucket (of one account when `account` is given), in name order.
pub async fn all_buckets(
    api: &Inner,
    account: Option<&AccountId>,
) -> Result<Vec<Bucket>, ApiError> {
    let meta = api.engine.meta();
    let mut buckets = Vec::new();
    match account {
        Some(account) => buckets = meta.list_buckets(account).await?,
        None => {
            let mut after = String::new();
            loop {
                let page = meta.list_all_buckets(&after, 1000).await?;
                let full = page.len() == 1000;
                if let Some(last) = page.last() {
                    after.clone_from(&last.name);
                }
                buckets.extend(page);
                if !full {
                    break;
                }
            }
        }
    }
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(buckets)
}

/// Every account, in id order.
pub async fn all_accounts(api: &Inner) -> Result<Vec<coffer_meta::Account>, ApiError> {
    let meta = api.engine.meta();
    let mut accounts = Vec::new();
    let mut after = String::new();
    loop {
        let page = meta.list_accounts(&after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id.to_string();
        let full = page.len() == 1000;
        accounts.extend(page);
        if !full {
            break;
        }
    }
    Ok(accounts)
}

/// Objects and their bytes in a bucket, from the counters kept with every commit.
pub async fn bucket_totals(api: &Inner, bucket: &Bucket) -> Result<(u64, u64), ApiError> {
    let usage = api.engine.meta().bucket_usage(bucket.id).await?;
    Ok((usage.objects.max(0) as u64, usage.bytes.max(0) as u64))
}

/// Account names by id, read once per request.
#[derive(Default)]
pub struct OwnerNames(HashMap<AccountId, String>);

impl OwnerNames {
    /// The name of `account` (its id when it has vanished).
    pub async fn name(&mut self, api: &Inner, account: &AccountId) -> Result<String, ApiError> {
        if let Some(name) = self.0.get(account) {
            return Ok(name.clone());
        }
        let name = match api.engine.meta().get_account(account).await {
            Ok(a) => a.name,
            Err(coffer_meta::MetaError::NoSuchAccount) => account.to_string(),
            Err(e) => return Err(e.into()),
        };
        self.0.insert(account.clone(), name.clone());
        Ok(name)
    }
}

/// The listing entry of a bucket.
pub async fn bucket_info(
    api: &Inner,
    owners: &mut OwnerNames,
    bucket: &Bucket,
) -> Result<BucketInfo, ApiError> {
    let (object_count, total_size) = bucket_totals(api, bucket).await?;
    Ok(BucketInfo {
        name: bucket.name.clone(),
        region: bucket.region.clone(),
        owner: owners.name(api, &bucket.account_id).await?,
        account_id: bucket.account_id.to_string(),
        created_at: timestamp(bucket.created_at),
        object_count,
        total_size,
        total_size_human: human_size(total_size),
    })
}

/// Lists buckets.
#[utoipa::path(
    get, path = "/api/v1/buckets", tag = "buckets", operation_id = "list_buckets",
    params(ListBucketsQuery),
    responses(
        (status = 200, description = "A page of buckets", body = BucketList),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's buckets", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_buckets(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let cursor = cx.query.cursor()?.map(str::to_owned);
    let account = cx
        .principal
        .account_filter(cx.query.str("account_id"), "account_id")?;
    let buckets = all_buckets(api, account.as_ref()).await?;
    let (page, next_cursor) = page_after(
        buckets,
        cursor.as_ref(),
        limit,
        |b| b.name.clone(),
        |b| b.name.clone(),
    );
    let mut owners = OwnerNames::default();
    let mut infos = Vec::with_capacity(page.len());
    for bucket in &page {
        infos.push(bucket_info(api, &mut owners, bucket).await?);
    }
    Ok(json(
        StatusCode::OK,
        &BucketList {
            buckets: infos,
            next_cursor,
        },
    ))
}

/// Creates a bucket.
#[utoipa::path(
    post, path = "/api/v1/buckets", tag = "buckets", operation_id = "create_bucket",
    request_body = CreateBucket,
    responses(
        (status = 201, description = "Created", body = BucketInfo),
        (status = 400, description = "Invalid name, account or region", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account", body = super::ErrorBody),
        (status = 404, description = "No such account", body = super::ErrorBody),
        (status = 409, description = "Name taken, or the account's bucket limit reached", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create_bucket(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let body: CreateBucket = json_body(&cx.body)?;
    let name = BucketName::new(&body.name).map_err(|e| ApiError::field("name", e.to_string()))?;
    let account = cx
        .principal
        .target_account(body.account_id.as_deref(), "account_id")?;
    let region = body.region.unwrap_or_else(|| api.settings.region.clone());
    if region != api.settings.region {
        return Err(ApiError::field(
            "region",
            format!("this server serves only {}", api.settings.region),
        ));
    }
    match api.engine.meta().get_account(&account).await {
        Err(coffer_meta::MetaError::NoSuchAccount) => {
            return Err(ApiError::not_found(
                "NoSuchAccount",
                "The account does not exist",
            ));
        }
        other => {
            other?;
        }
    }
    let bucket = api.engine.create_bucket(&name, &account, &region).await?;
    let info = bucket_info(api, &mut OwnerNames::default(), &bucket).await?;
    Ok(json(StatusCode::CREATED, &info))
}

/// A bucket with the first page of its objects.
#[utoipa::path(
    get, path = "/api/v1/buckets/{bucket}", tag = "buckets", operation_id = "get_bucket",
    params(
        ("bucket" = String, Path, description = "Bucket name"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Objects to include [default: 100]"),
    ),
    responses(
        (status = 200, description = "The bucket", body = BucketDetail),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_bucket(api: &Inner, cx: &Ctx, name: &str) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let bucket = visible_bucket(api, cx, name).await?;
    let info = bucket_info(api, &mut OwnerNames::default(), &bucket).await?;
    let (objects, next_cursor, _) = object_page(api, &bucket, "", None, None, limit).await?;
    Ok(json(
        StatusCode::OK,
        &BucketDetail {
            bucket: info,
            versioning: format!("{:?}", bucket.versioning),
            objects,
            next_cursor,
        },
    ))
}

/// Deletes a bucket; with `force=true` its objects, versions and uploads first.
#[utoipa::path(
    delete, path = "/api/v1/buckets/{bucket}", tag = "buckets", operation_id = "delete_bucket",
    params(("bucket" = String, Path, description = "Bucket name"), DeleteBucketQuery),
    responses(
        (status = 200, description = "Deleted", body = super::MessageBody),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket", body = super::ErrorBody),
        (status = 404, description = "No such bucket", body = super::ErrorBody),
        (status = 409, description = "Not empty (and no force)", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_bucket(api: &Inner, cx: &Ctx, name: &str) -> Result<ApiResponse, ApiError> {
    let force = cx.query.bool("force", false)?;
    let bucket = visible_bucket(api, cx, name).await?;
    if force {
        empty_bucket(api, &bucket).await?;
    }
    api.engine.delete_bucket(&bucket).await?;
    Ok(done())
}

/// Removes every version, delete marker and upload of a bucket.
async fn empty_bucket(api: &Inner, bucket: &Bucket) -> Result<(), ApiError> {
    let meta = api.engine.meta();
    let mut previous_first: Option<i64> = None;
    loop {
        let versions = meta
            .scan_versions(bucket.id, ScanBound::Unbounded, None, None, TOTALS_BATCH)
            .await?;
        let Some(first) = versions.first() else { break };
        // Each pass deletes what it read; seeing the same first row again means no progress.
        if previous_first == Some(first.id) {
            return Err(ApiError::Internal(format!(
                "emptying bucket {} made no progress",
                bucket.name
            )));
        }
        previous_first = Some(first.id);
        for version in versions {
            match meta
                .delete_object(
                    bucket.id,
                    &version.key,
                    Some(&version.version_id),
                    &bucket.account_id,
                )
                .await
            {
                Ok(_)
                | Err(coffer_meta::MetaError::NoSuchKey | coffer_meta::MetaError::NoSuchVersion) => {
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let mut previous_upload: Option<String> = None;
    loop {
        let uploads = meta
            .scan_uploads(bucket.id, ScanBound::Unbounded, None, None, TOTALS_BATCH)
            .await?;
        let Some(first) = uploads.first() else { break };
        if previous_upload.as_deref() == Some(first.upload_id.as_str()) {
            return Err(ApiError::Internal(format!(
                "aborting the uploads of bucket {} made no progress",
                bucket.name
            )));
        }
        previous_upload = Some(first.upload_id.clone());
        for upload in uploads {
            match api.engine.abort_upload(&upload).await {
                Ok(()) | Err(coffer_engine::EngineError::NoSuchUpload) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
