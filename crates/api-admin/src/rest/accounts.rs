//! Accounts (operator keys only, except that an account key may read its own account):
//! create, list, get with usage, change quota and bucket limit, suspend, resume, and mark a
//! migration started or done.

use coffer_core::AccountId;
use coffer_core::time::now_millis;
use coffer_meta::{Account, AccountStatus, AccountUpdate, MetaError};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::buckets::all_accounts;
use super::error::ApiError;
use super::request::{ApiResponse, human_size, json, json_body, page_after, timestamp};
use super::{Ctx, Inner};

/// Default bucket limit of a new account.
const DEFAULT_BUCKET_LIMIT: u32 = 100;
/// Highest bucket limit accepted.
const MAX_BUCKET_LIMIT: u32 = 1_000_000;

/// The lifecycle state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountState {
    /// Normal operation.
    Active,
    /// Every S3 request is refused (AccountSuspended).
    Suspended,
    /// Reads work; writes answer 503 MigrationInProgress.
    Migrating,
}

impl From<AccountStatus> for AccountState {
    fn from(s: AccountStatus) -> Self {
        match s {
            AccountStatus::Active => Self::Active,
            AccountStatus::Suspended => Self::Suspended,
            AccountStatus::Migrating => Self::Migrating,
        }
    }
}

/// Bytes and objects an account stores.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountUsage {
    /// Bytes of objects, versions and uploaded parts.
    pub bytes: u64,
    /// `bytes` for people.
    #[schema(example = "1.0 GB")]
    pub bytes_human: String,
    /// Object versions.
    pub objects: u64,
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountInfo {
    /// 15-digit id.
    #[schema(example = "482913746501263")]
    pub id: String,
    /// Unique name.
    #[schema(example = "acme")]
    pub name: String,
    /// State.
    pub status: AccountState,
    /// Storage quota in bytes; `null` is unlimited.
    pub quota_bytes: Option<u64>,
    /// Most buckets the account may have.
    pub bucket_limit: u32,
    /// Buckets it has.
    pub bucket_count: u64,
    /// What it stores.
    pub usage: AccountUsage,
    /// Creation time (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub created_at: String,
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    /// Accounts in id order.
    pub accounts: Vec<AccountInfo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Body of account creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAccount {
    /// Unique name: 1..=64 letters, digits, `.`, `_`, `-`.
    #[schema(example = "acme")]
    pub name: String,
    /// Storage quota in bytes [default: unlimited].
    pub quota_bytes: Option<u64>,
    /// Most buckets [default: 100].
    #[schema(maximum = 1_000_000)]
    pub bucket_limit: Option<u32>,
}

/// Body of an account update; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateAccount {
    /// New quota in bytes; `null` removes the quota.
    #[serde(default, deserialize_with = "super::request::present")]
    #[schema(value_type = Option<u64>)]
    pub quota_bytes: Option<Option<u64>>,
    /// New bucket limit.
    #[schema(maximum = 1_000_000)]
    pub bucket_limit: Option<u32>,
}

/// Query of the account listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAccountsQuery {
    /// Page size, 1..=1000 [default: 100].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

fn parse_id(id: &str) -> Result<AccountId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::field("id", "must be a 15-digit account id"))
}

async fn account(api: &Inner, id: &AccountId) -> Result<Account, ApiError> {
    api.engine
        .meta()
        .get_account(id)
        .await
        .map_err(|e| match e {
            MetaError::NoSuchAccount => {
                ApiError::not_found("NoSuchAccount", "The account does not exist")
            }
            other => other.into(),
        })
}

/// The API form of an account, with its usage and bucket count.
pub async fn account_info(api: &Inner, account: Account) -> Result<AccountInfo, ApiError> {
    let meta = api.engine.meta();
    let usage = meta.account_usage(&account.id).await?;
    let bucket_count = meta.list_buckets(&account.id).await?.len() as u64;
    let bytes = usage.bytes.max(0) as u64;
    Ok(AccountInfo {
        id: account.id.to_string(),
        name: account.name,
        status: account.status.into(),
        quota_bytes: account.quota_bytes,
        bucket_limit: account.bucket_limit,
        bucket_count,
        usage: AccountUsage {
            bytes,
            bytes_human: human_size(bytes),
            objects: usage.objects.max(0) as u64,
        },
        created_at: timestamp(account.created_at),
    })
}

fn check_bucket_limit(limit: Option<u32>) -> Result<(), ApiError> {
    match limit {
        Some(n) if n > MAX_BUCKET_LIMIT => {
            Err(ApiError::field("bucket_limit", "must be at most 1000000"))
        }
        _ => Ok(()),
    }
}

/// Lists accounts.
#[utoipa::path(
    get, path = "/api/v1/accounts", tag = "accounts", operation_id = "list_accounts",
    params(ListAccountsQuery),
    responses(
        (status = 200, description = "A page of accounts", body = AccountList),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Not an operator key", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_accounts(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let cursor = cx.query.cursor()?.map(str::to_owned);
    cx.principal.require_operator()?;
    let after = cursor.unwrap_or_default();
    let page = api.engine.meta().list_accounts(&after, limit + 1).await?;
    let (page, next_cursor) = page_after(
        page,
        None::<&String>,
        limit,
        |a| a.id.to_string(),
        |a| a.id.to_string(),
    );
    let mut accounts = Vec::with_capacity(page.len());
    for account in page {
        accounts.push(account_info(api, account).await?);
    }
    Ok(json(
        StatusCode::OK,
        &AccountList {
            accounts,
            next_cursor,
        },
    ))
}

/// Creates an account.
#[utoipa::path(
    post, path = "/api/v1/accounts", tag = "accounts", operation_id = "create_account",
    request_body = CreateAccount,
    responses(
        (status = 201, description = "Created", body = AccountInfo),
        (status = 400, description = "Invalid field", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Not an operator key", body = super::ErrorBody),
        (status = 409, description = "The name is taken", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create_account(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    cx.principal.require_operator()?;
    let body: CreateAccount = json_body(&cx.body)?;
    let name = body.name;
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(ApiError::field(
            "name",
            "must be 1 to 64 letters, digits, '.', '_' or '-'",
        ));
    }
    check_bucket_limit(body.bucket_limit)?;
    let taken = || ApiError::conflict("AccountExists", "an account with this name exists");
    if all_accounts(api).await?.iter().any(|a| a.name == name) {
        return Err(taken());
    }
    let account = Account {
        id: AccountId::random(),
        name,
        status: AccountStatus::Active,
        quota_bytes: body.quota_bytes,
        bucket_limit: body.bucket_limit.unwrap_or(DEFAULT_BUCKET_LIMIT),
        created_at: now_millis(),
    };
    api.engine
        .meta()
        .create_account(account.clone())
        .await
        .map_err(|e| match e {
            MetaError::AlreadyExists(_) => taken(),
            other => other.into(),
        })?;
    Ok(json(
        StatusCode::CREATED,
        &account_info(api, account).await?,
    ))
}

/// One account with its usage.
#[utoipa::path(
    get, path = "/api/v1/accounts/{id}", tag = "accounts", operation_id = "get_account",
    params(("id" = String, Path, description = "15-digit account id")),
    responses(
        (status = 200, description = "The account", body = AccountInfo),
        (status = 400, description = "Invalid id", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account", body = super::ErrorBody),
        (status = 404, description = "No such account", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_account(api: &Inner, cx: &Ctx, id: &str) -> Result<ApiResponse, ApiError> {
    let id = parse_id(id)?;
    cx.principal.require_account(&id)?;
    let account = account(api, &id).await?;
    Ok(json(StatusCode::OK, &account_info(api, account).await?))
}

/// Changes an account's quota or bucket limit (PUT and PATCH alike).
#[utoipa::path(
    patch, path = "/api/v1/accounts/{id}", tag = "accounts", operation_id = "update_account",
    params(("id" = String, Path, description = "15-digit account id")),
    request_body = UpdateAccount,
    responses(
        (status = 200, description = "The account as updated", body = AccountInfo),
        (status = 400, description = "Invalid field", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Not an operator key", body = super::ErrorBody),
        (status = 404, description = "No such account", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn update_account(api: &Inner, cx: &Ctx, id: &str) -> Result<ApiResponse, ApiError> {
    cx.principal.require_operator()?;
    let body: UpdateAccount = json_body(&cx.body)?;
    let id = parse_id(id)?;
    check_bucket_limit(body.bucket_limit)?;
    account(api, &id).await?;
    let updated = api
        .engine
        .meta()
        .update_account(
            &id,
            AccountUpdate {
                status: None,
                quota_bytes: body.quota_bytes,
                bucket_limit: body.bucket_limit,
            },
        )
        .await?;
    api.changed();
    Ok(json(StatusCode::OK, &account_info(api, updated).await?))
}

/// The state an action leads to from `current`, or why it may not.
fn transition(action: &str, current: AccountStatus) -> Result<AccountStatus, ApiError> {
    use AccountStatus::{Active, Migrating, Suspended};
    let refuse = |message: &str| Err(ApiError::conflict("InvalidAccountState", message));
    match (action, current) {
        ("suspend", _) => Ok(Suspended),
        ("resume", Suspended | Active) | ("migration-done", Migrating) => Ok(Active),
        ("resume", Migrating) => refuse("the account is migrating; mark the migration done"),
        ("migration-start", Active | Migrating) => Ok(Migrating),
        ("migration-start", Suspended) => refuse("a suspended account cannot start a migration"),
        ("migration-done", _) => refuse("the account is not migrating"),
        _ => Err(ApiError::NoSuchRoute(action.to_owned())),
    }
}

/// Suspends, resumes, or marks a migration started or done.
#[utoipa::path(
    post, path = "/api/v1/accounts/{id}/{action}", tag = "accounts", operation_id = "change_account_state",
    params(
        ("id" = String, Path, description = "15-digit account id"),
        ("action" = String, Path, description = "`suspend` or `resume`", pattern = "^(suspend|resume)$"),
    ),
    responses(
        (status = 200, description = "The account in its new state", body = AccountInfo),
        (status = 400, description = "Invalid id", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Not an operator key", body = super::ErrorBody),
        (status = 404, description = "No such account", body = super::ErrorBody),
        (status = 409, description = "Not possible in the account's state", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn change_state(
    api: &Inner,
    cx: &Ctx,
    id: &str,
    action: &str,
) -> Result<ApiResponse, ApiError> {
    cx.principal.require_operator()?;
    let id = parse_id(id)?;
    let current = account(api, &id).await?;
    let status = transition(action, current.status)?;
    let updated = api
        .engine
        .meta()
        .update_account(
            &id,
            AccountUpdate {
                status: Some(status),
                quota_bytes: None,
                bucket_limit: None,
            },
        )
        .await?;
    api.changed();
    Ok(json(StatusCode::OK, &account_info(api, updated).await?))
}

/// Marks an account's migration started or done.
#[utoipa::path(
    post, path = "/api/v1/accounts/{id}/migration/{step}", tag = "accounts", operation_id = "mark_account_migration",
    params(
        ("id" = String, Path, description = "15-digit account id"),
        ("step" = String, Path, description = "`start` (writes get MigrationInProgress) or `done`", pattern = "^(start|done)$"),
    ),
    responses(
        (status = 200, description = "The account in its new state", body = AccountInfo),
        (status = 400, description = "Invalid id", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Not an operator key", body = super::ErrorBody),
        (status = 404, description = "No such account", body = super::ErrorBody),
        (status = 409, description = "Not possible in the account's state", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn mark_migration(
    api: &Inner,
    cx: &Ctx,
    id: &str,
    step: &str,
) -> Result<ApiResponse, ApiError> {
    let action = if step == "start" {
        "migration-start"
    } else {
        "migration-done"
    };
    change_state(api, cx, id, action).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine() {
        use AccountStatus::{Active, Migrating, Suspended};
        assert_eq!(transition("suspend", Migrating).unwrap(), Suspended);
        assert_eq!(transition("resume", Suspended).unwrap(), Active);
        assert!(transition("resume", Migrating).is_err());
        assert_eq!(transition("migration-start", Active).unwrap(), Migrating);
        assert!(transition("migration-start", Suspended).is_err());
        assert_eq!(transition("migration-done", Migrating).unwrap(), Active);
        assert!(transition("migration-done", Active).is_err());
    }
}
