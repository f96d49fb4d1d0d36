//! `GET /stats`: the deployment at a glance (an account key sees its own account's).

use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::{all_accounts, all_buckets};
use super::error::ApiError;
use super::request::{ApiResponse, human_size, json};
use super::{Ctx, Inner};

/// Deployment statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// Accounts (1 for an account key).
    pub accounts: u64,
    /// S3 credentials (access keys).
    pub credentials: u64,
    /// Buckets.
    pub buckets: u64,
    /// Object versions stored.
    pub objects: u64,
    /// Bytes stored (objects, versions and uploaded parts).
    pub total_storage: u64,
    /// `total_storage` for people.
    #[schema(example = "1.0 GB")]
    pub total_storage_human: String,
    /// Multipart uploads in progress.
    pub active_multipart_uploads: u64,
    /// Presigned URLs handed out by this process and not yet expired.
    pub active_presigned_urls: u64,
}

/// Returns the statistics.
#[utoipa::path(
    get, path = "/api/v1/stats", tag = "stats", operation_id = "get_stats",
    responses(
        (status = 200, description = "Statistics", body = Stats),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_stats(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let meta = api.engine.meta();
    let own = cx.principal.own_account();
    let accounts = match own {
        Some(id) => vec![meta.get_account(id).await?],
        None => all_accounts(api).await?,
    };
    let (mut objects, mut bytes) = (0_u64, 0_u64);
    for account in &accounts {
        let usage = meta.account_usage(&account.id).await?;
        objects += usage.objects.max(0) as u64;
        bytes += usage.bytes.max(0) as u64;
    }
    let credentials = meta.list_access_keys(own, None).await?.len() as u64;
    let buckets = all_buckets(api, own).await?;
    let uploads = meta.count_uploads(own).await?;
    let presigned = api
        .presigned
        .active_count(own.map(coffer_core::AccountId::as_str));
    Ok(json(
        StatusCode::OK,
        &Stats {
            accounts: accounts.len() as u64,
            credentials,
            buckets: buckets.len() as u64,
            objects,
            total_storage: bytes,
            total_storage_human: human_size(bytes),
            active_multipart_uploads: uploads,
            active_presigned_urls: presigned,
        },
    ))
}
