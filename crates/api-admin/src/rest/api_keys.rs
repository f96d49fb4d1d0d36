//! Management API keys: operator keys (every account) and account keys (one account). The key
//! itself is shown once, in the answer to its creation; only its hash is kept.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::key_store::{ApiKeyRecord, KeyStoreError};
use super::request::{ApiResponse, json, json_body, page_after, timestamp};
use super::{Ctx, Inner};

/// An API key as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyInfo {
    /// Key id (the key starts with `coffer_<id>_`).
    #[schema(example = "ak3f9c2e1d0b7a6954")]
    pub id: String,
    /// Label.
    pub name: String,
    /// The account an account key is scoped to; `null` for operator keys.
    pub account_id: Option<String>,
    /// `operator` or `account`.
    #[schema(example = "operator")]
    pub scope: String,
    /// Creation time (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub created_at: String,
}

/// A key just created, with the key (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key's record.
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    /// The API key: send it as `Authorization: Bearer <key>`.
    pub key: String,
}

/// A page of API keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Keys in creation order.
    pub api_keys: Vec<ApiKeyInfo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Body of API key creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKey {
    /// Label (at most 128 characters).
    #[schema(example = "billing-exporter")]
    pub name: Option<String>,
    /// Scope the key to this account; absent: an operator key (operators only). Account keys
    /// may create keys for their own account only.
    #[schema(example = "482913746501263")]
    pub account_id: Option<String>,
}

/// Query of the API key listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListApiKeysQuery {
    /// Page size, 1..=1000 [default: 100].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

fn info(record: &ApiKeyRecord) -> ApiKeyInfo {
    ApiKeyInfo {
        id: record.id.clone(),
        name: record.name.clone(),
        account_id: record.account_id.clone(),
        scope: if record.is_operator() {
            "operator"
        } else {
            "account"
        }
        .to_owned(),
        created_at: timestamp(record.created_at),
    }
}

#[allow(clippy::needless_pass_by_value)] // Used as `map_err(store_error)`.
fn store_error(e: KeyStoreError) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Lists API keys (account keys see their account's only).
#[utoipa::path(
    get, path = "/api/v1/api-keys", tag = "api-keys", operation_id = "list_api_keys",
    params(ListApiKeysQuery),
    responses(
        (status = 200, description = "A page of API keys", body = ApiKeyList),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_api_keys(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let cursor = cx.query.cursor()?;
    let own = cx.principal.own_account().map(ToString::to_string);
    let records: Vec<(usize, ApiKeyRecord)> = api
        .keys
        .list()
        .await
        .into_iter()
        .filter(|r| own.is_none() || r.account_id == own)
        .enumerate()
        .collect();
    let after = cursor.and_then(|c| records.iter().find(|(_, r)| r.id == c).map(|(i, _)| *i));
    if cursor.is_some() && after.is_none() {
        return Err(ApiError::field(
            "cursor",
            "is not a cursor this API returned",
        ));
    }
    let (page, next_cursor) = page_after(
        records,
        after.as_ref(),
        limit,
        |(i, _)| *i,
        |(_, r)| r.id.clone(),
    );
    Ok(json(
        StatusCode::OK,
        &ApiKeyList {
            api_keys: page.iter().map(|(_, r)| info(r)).collect(),
            next_cursor,
        },
    ))
}

/// API keys one account (or the operators together) may hold.
const MAX_KEYS_PER_OWNER: usize = 100;

/// Creates an API key.
#[utoipa::path(
    post, path = "/api/v1/api-keys", tag = "api-keys", operation_id = "create_api_key",
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; the key is shown only here", body = CreatedApiKey),
        (status = 400, description = "Invalid field", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account, or an operator key asked by an account key", body = super::ErrorBody),
        (status = 404, description = "No such account", body = super::ErrorBody),
        (status = 409, description = "Too many API keys for this account", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create_api_key(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let body: CreateApiKey = json_body(&cx.body)?;
    let name = body.name.unwrap_or_default();
    if name.chars().count() > 128 {
        return Err(ApiError::field("name", "must be at most 128 characters"));
    }
    let account = match (body.account_id.as_deref(), cx.principal.own_account()) {
        (None, None) => None,
        (requested, _) => Some(cx.principal.target_account(requested, "account_id")?),
    };
    if let Some(account) = &account {
        match api.engine.meta().get_account(account).await {
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
    }
    // Each key is one more hash to try for unknown keys and one more line in a file rewritten
    // on every change: bounded per account (and for operators).
    let owner = account.as_ref().map(ToString::to_string);
    let existing = api
        .keys
        .list()
        .await
        .into_iter()
        .filter(|k| k.account_id == owner)
        .count();
    if existing >= MAX_KEYS_PER_OWNER {
        return Err(ApiError::conflict(
            "LimitExceeded",
            format!("at most {MAX_KEYS_PER_OWNER} API keys per account"),
        ));
    }
    let (key, record) = api
        .keys
        .create(&name, account.as_ref(), None)
        .await
        .map_err(store_error)?;
    Ok(json(
        StatusCode::CREATED,
        &CreatedApiKey {
            info: info(&record),
            key,
        },
    ))
}

/// Deletes an API key (not the last operator key).
#[utoipa::path(
    delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", operation_id = "delete_api_key",
    params(("id" = String, Path, description = "API key id")),
    responses(
        (status = 200, description = "Deleted", body = super::MessageBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's key", body = super::ErrorBody),
        (status = 404, description = "No such key", body = super::ErrorBody),
        (status = 409, description = "The last operator key", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_api_key(api: &Inner, cx: &Ctx, id: &str) -> Result<ApiResponse, ApiError> {
    let records = api.keys.list().await;
    let record = records
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found("NoSuchApiKey", "The API key does not exist"))?;
    match (&record.account_id, cx.principal.own_account()) {
        (_, None) => {}
        (Some(account), Some(own)) if account == own.as_str() => {}
        _ => return Err(ApiError::forbidden()),
    }
    if record.is_operator() && records.iter().filter(|r| r.is_operator()).count() == 1 {
        return Err(ApiError::conflict(
            "LastOperatorKey",
            "the last operator key cannot be deleted",
        ));
    }
    if !api.keys.delete(id).await.map_err(store_error)? {
        return Err(ApiError::not_found(
            "NoSuchApiKey",
            "The API key does not exist",
        ));
    }
    Ok(super::done())
}
