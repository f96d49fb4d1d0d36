//! Credentials: the S3 access keys of accounts (and their IAM users), with their bucket
//! binding. The secret is shown once, in the answer to the creation.

use coffer_core::BucketName;
use coffer_core::time::now_millis;
use coffer_meta::{AccessKey, AccessKeyUpdate, MetaError};
use http::StatusCode;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::buckets::{BucketInfo, OwnerNames, bucket_info};
use super::error::ApiError;
use super::request::{ApiResponse, json, json_body, page_after, timestamp};
use super::{Ctx, Inner};

const KEY_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// Most buckets one binding may name.
const MAX_BINDING: usize = 100;

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A credential as listed (never with its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CredentialInfo {
    /// Numeric id.
    #[schema(example = 1)]
    pub id: i64,
    /// Access key id.
    #[schema(example = "AKIAIOSFODNN7EXAMPLE")]
    pub access_key: String,
    /// The account it acts for.
    #[schema(example = "482913746501263")]
    pub account_id: String,
    /// The IAM user owning the key; `null` for the account root.
    #[schema(example = "john-doe")]
    pub user_name: Option<String>,
    /// Whether the key may sign requests.
    pub is_active: bool,
    /// The only buckets the key may touch; `null` for every bucket of its account.
    pub bucket_binding: Option<Vec<String>>,
    /// Creation time (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub created_at: String,
    /// Last time it signed a request (coarse), if ever.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

/// A credential just created, with its secret (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCredential {
    /// The credential.
    #[serde(flatten)]
    pub credential: CredentialInfo,
    /// The secret access key.
    #[schema(example = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    pub secret_key: String,
}

/// A credential with the buckets it reaches.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialDetail {
    /// The credential.
    #[serde(flatten)]
    pub credential: CredentialInfo,
    /// Number of `buckets`.
    pub bucket_count: u64,
    /// Existing buckets of its account the key reaches (the bound ones, or all).
    pub buckets: Vec<BucketInfo>,
}

/// A page of credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialList {
    /// Credentials in id order.
    pub credentials: Vec<CredentialInfo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The answer of an update.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedCredential {
    /// `Operation completed successfully`.
    pub message: String,
    /// The credential as updated.
    pub credential: CredentialInfo,
}

/// Body of credential creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCredential {
    /// The account; account keys may omit it (their own), operator keys must give it.
    #[schema(example = "482913746501263")]
    pub account_id: Option<String>,
    /// An existing IAM user of the account to own the key; absent for the account root.
    #[schema(example = "john-doe")]
    pub user_name: Option<String>,
    /// Custom access key id (16..=128 letters and digits) [default: generated].
    #[schema(example = "AKIAIOSFODNN7EXAMPLE")]
    pub access_key: Option<String>,
    /// Custom secret (16..=128 printable ASCII characters) [default: generated].
    #[schema(example = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    pub secret_key: Option<String>,
    /// Bind the key to these buckets only [default: every bucket of the account].
    pub buckets: Option<Vec<String>>,
}

/// Body of a credential update; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateCredential {
    /// New owning IAM user; `null` makes it the account root's key.
    #[serde(default, deserialize_with = "super::request::present")]
    #[schema(value_type = Option<String>)]
    pub user_name: Option<Option<String>>,
    /// Enable or disable the key.
    pub is_active: Option<bool>,
    /// New bucket binding; `null` removes it.
    #[serde(default, deserialize_with = "super::request::present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub buckets: Option<Option<Vec<String>>>,
}

/// Query of the credential listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCredentialsQuery {
    /// Page size, 1..=1000 [default: 100].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Only this account's keys (operators; account keys always see their own only).
    pub account_id: Option<String>,
    /// Only this IAM user's keys.
    pub user_name: Option<String>,
}

/// The listing form of a key.
pub fn credential_info(key: &AccessKey) -> CredentialInfo {
    CredentialInfo {
        id: key.id,
        access_key: key.access_key_id.clone(),
        account_id: key.account_id.to_string(),
        user_name: key.user_name.clone(),
        is_active: key.active,
        bucket_binding: key.bucket_binding.clone(),
        created_at: timestamp(key.created_at),
        last_used_at: key.last_used_at.map(timestamp),
    }
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    match id.parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::field("id", "must be a positive integer")),
    }
}

/// A credential the caller may reach: 404 when absent, 403 when another account's.
async fn visible_key(api: &Inner, cx: &Ctx, id: &str) -> Result<AccessKey, ApiError> {
    let id = parse_id(id)?;
    let key = api
        .engine
        .meta()
        .get_access_key_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found("NoSuchCredential", "The credential does not exist"))?;
    cx.principal.require_account(&key.account_id)?;
    Ok(key)
}

fn check_binding(buckets: Vec<String>) -> Result<Vec<String>, ApiError> {
    if buckets.is_empty() || buckets.len() > MAX_BINDING {
        return Err(ApiError::field(
            "buckets",
            "must name 1 to 100 buckets (or be null for every bucket)",
        ));
    }
    let mut names = Vec::with_capacity(buckets.len());
    for (i, name) in buckets.into_iter().enumerate() {
        BucketName::new(&name)
            .map_err(|e| ApiError::field(&format!("buckets[{i}]"), e.to_string()))?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

async fn check_user(
    api: &Inner,
    account: &coffer_core::AccountId,
    user_name: &str,
) -> Result<String, ApiError> {
    match api.engine.meta().get_user(account, user_name).await? {
        Some(user) => Ok(user.user_name),
        None => Err(ApiError::field(
            "user_name",
            format!("the account has no IAM user named {user_name}"),
        )),
    }
}

/// Lists credentials.
#[utoipa::path(
    get, path = "/api/v1/credentials", tag = "credentials", operation_id = "list_credentials",
    params(ListCredentialsQuery),
    responses(
        (status = 200, description = "A page of credentials", body = CredentialList),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's credentials", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_credentials(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let cursor = cx
        .query
        .cursor()?
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API returned"))
        })
        .transpose()?;
    let account = cx
        .principal
        .account_filter(cx.query.str("account_id"), "account_id")?;
    let user_name = cx.query.bounded_str("user_name", 128)?;
    let mut keys = api
        .engine
        .meta()
        .list_access_keys(account.as_ref(), user_name)
        .await?;
    keys.sort_by_key(|k| k.id);
    let (page, next_cursor) =
        page_after(keys, cursor.as_ref(), limit, |k| k.id, |k| k.id.to_string());
    Ok(json(
        StatusCode::OK,
        &CredentialList {
            credentials: page.iter().map(credential_info).collect(),
            next_cursor,
        },
    ))
}

/// Creates a credential.
#[utoipa::path(
    post, path = "/api/v1/credentials", tag = "credentials", operation_id = "create_credential",
    request_body = CreateCredential,
    responses(
        (status = 201, description = "Created; the secret is shown only here", body = CreatedCredential),
        (status = 400, description = "Invalid field", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account", body = super::ErrorBody),
        (status = 404, description = "No such account", body = super::ErrorBody),
        (status = 409, description = "The access key id is taken", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create_credential(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let body: CreateCredential = json_body(&cx.body)?;
    let account = cx
        .principal
        .target_account(body.account_id.as_deref(), "account_id")?;
    let access_key = match body.access_key {
        Some(k)
            if (16..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            k
        }
        Some(_) => {
            return Err(ApiError::field(
                "access_key",
                "must be 16 to 128 letters and digits",
            ));
        }
        None => format!("AKIA{}", random_string(KEY_ID_ALPHABET, 16)),
    };
    let secret_key = match body.secret_key {
        Some(s) if (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) => s,
        Some(_) => {
            return Err(ApiError::field(
                "secret_key",
                "must be 16 to 128 printable ASCII characters without spaces",
            ));
        }
        None => random_string(SECRET_ALPHABET, 40),
    };
    let binding = body.buckets.map(check_binding).transpose()?;
    match api.engine.meta().get_account(&account).await {
        Err(MetaError::NoSuchAccount) => {
            return Err(ApiError::not_found(
                "NoSuchAccount",
                "The account does not exist",
            ));
        }
        other => {
            other?;
        }
    }
    let user_name = match body.user_name {
        Some(name) => Some(check_user(api, &account, &name).await?),
        None => None,
    };
    let created = api
        .engine
        .meta()
        .create_access_key(AccessKey {
            id: 0,
            access_key_id: access_key,
            secret_key: secret_key.clone(),
            account_id: account,
            user_name,
            active: true,
            bucket_binding: binding,
            created_at: now_millis(),
            last_used_at: None,
        })
        .await
        .map_err(|e| match e {
            MetaError::AlreadyExists(_) => ApiError::conflict(
                "CredentialExists",
                "a credential with this access key exists",
            ),
            other => other.into(),
        })?;
    api.changed();
    Ok(json(
        StatusCode::CREATED,
        &CreatedCredential {
            credential: credential_info(&created),
            secret_key,
        },
    ))
}

/// A credential with its buckets.
#[utoipa::path(
    get, path = "/api/v1/credentials/{id}", tag = "credentials", operation_id = "get_credential",
    params(("id" = i64, Path, minimum = 1, description = "Credential id")),
    responses(
        (status = 200, description = "The credential", body = CredentialDetail),
        (status = 400, description = "Invalid id", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's credential", body = super::ErrorBody),
        (status = 404, description = "No such credential", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_credential(api: &Inner, cx: &Ctx, id: &str) -> Result<ApiResponse, ApiError> {
    let key = visible_key(api, cx, id).await?;
    let mut buckets = api.engine.meta().list_buckets(&key.account_id).await?;
    if let Some(binding) = &key.bucket_binding {
        buckets.retain(|b| binding.contains(&b.name));
    }
    let mut owners = OwnerNames::default();
    let mut infos = Vec::with_capacity(buckets.len());
    for bucket in &buckets {
        infos.push(bucket_info(api, &mut owners, bucket).await?);
    }
    Ok(json(
        StatusCode::OK,
        &CredentialDetail {
            credential: credential_info(&key),
            bucket_count: infos.len() as u64,
            buckets: infos,
        },
    ))
}

/// Updates a credential (PUT and PATCH alike: absent fields stay).
#[utoipa::path(
    patch, path = "/api/v1/credentials/{id}", tag = "credentials", operation_id = "update_credential",
    params(("id" = i64, Path, minimum = 1, description = "Credential id")),
    request_body = UpdateCredential,
    responses(
        (status = 200, description = "Updated", body = UpdatedCredential),
        (status = 400, description = "Invalid field", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's credential", body = super::ErrorBody),
        (status = 404, description = "No such credential", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn update_credential(api: &Inner, cx: &Ctx, id: &str) -> Result<ApiResponse, ApiError> {
    let body: UpdateCredential = json_body(&cx.body)?;
    let key = visible_key(api, cx, id).await?;
    let user_name = match body.user_name {
        Some(Some(name)) => Some(Some(check_user(api, &key.account_id, &name).await?)),
        other => other,
    };
    let bucket_binding = match body.buckets {
        Some(Some(buckets)) => Some(Some(check_binding(buckets)?)),
        other => other,
    };
    let updated = api
        .engine
        .meta()
        .update_access_key(
            &key.access_key_id,
            AccessKeyUpdate {
                active: body.is_active,
                bucket_binding,
                user_name,
            },
        )
        .await
        .map_err(|e| match e {
            MetaError::NoSuchAccessKey => {
                ApiError::not_found("NoSuchCredential", "The credential does not exist")
            }
            other => other.into(),
        })?;
    api.changed();
    Ok(json(
        StatusCode::OK,
        &UpdatedCredential {
            message: "Operation completed successfully".to_owned(),
            credential: credential_info(&updated),
        },
    ))
}

/// Deletes a credential.
#[utoipa::path(
    delete, path = "/api/v1/credentials/{id}", tag = "credentials", operation_id = "delete_credential",
    params(("id" = i64, Path, minimum = 1, description = "Credential id")),
    responses(
        (status = 200, description = "Deleted", body = super::MessageBody),
        (status = 400, description = "Invalid id", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's credential", body = super::ErrorBody),
        (status = 404, description = "No such credential", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn delete_credential(api: &Inner, cx: &Ctx, id: &str) -> Result<ApiResponse, ApiError> {
    let key = visible_key(api, cx, id).await?;
    match api
        .engine
        .meta()
        .delete_access_key(&key.access_key_id)
        .await
    {
        Ok(()) | Err(MetaError::NoSuchAccessKey) => {}
        Err(e) => return Err(e.into()),
    }
    api.changed();
    Ok(super::done())
}
