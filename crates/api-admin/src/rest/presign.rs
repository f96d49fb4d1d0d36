//! Presigned URLs: SigV4 query-string signatures made with a credential's secret, for the S3
//! listener, and the list of those still active.
//!
//! The URLs handed out are remembered in memory only (a restart forgets them; the URLs keep
//! working until they expire): the list is a convenience for operators, not what makes a URL
//! valid. Only their metadata is kept, never the URL, which is itself a credential.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use coffer_core::BucketName;
use coffer_core::time::now_millis;
use coffer_meta::AccessKey;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::buckets::visible_bucket;
use super::error::ApiError;
use super::request::{ApiResponse, json, json_body, page_after, timestamp};
use super::{Ctx, Inner};

/// Longest lifetime S3 allows a presigned URL.
pub const MAX_EXPIRES_IN: u64 = 604_800;
/// Records kept at most; the oldest are forgotten first.
const MAX_RECORDS: usize = 100_000;

/// The HTTP method a presigned URL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum PresignMethod {
    /// Download.
    #[default]
    Get,
    /// Upload.
    Put,
    /// POST to the object (e.g. `?uploads`).
    Post,
    /// Delete.
    Delete,
}

impl PresignMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// One presigned URL handed out.
#[derive(Debug, Clone)]
struct PresignRecord {
    id: u64,
    bucket_name: String,
    object_key: String,
    method: PresignMethod,
    access_key: String,
    account_id: String,
    expires_at: i64,
    created_at: i64,
}

/// The presigned URLs handed out and not yet expired, in memory.
#[derive(Debug, Clone, Default)]
pub struct PresignRegistry {
    inner: Arc<Mutex<(u64, VecDeque<PresignRecord>)>>,
}

impl PresignRegistry {
    fn add(&self, mut record: PresignRecord) -> u64 {
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        inner.0 += 1;
        record.id = inner.0;
        let records = &mut inner.1;
        let now = now_millis();
        records.retain(|r| r.expires_at > now);
        while records.len() >= MAX_RECORDS {
            records.pop_front();
        }
        records.push_back(record);
        inner.0
    }

    fn active(&self) -> Vec<PresignRecord> {
        let now = now_millis();
        self.inner
            .lock()
            .map(|inner| {
                inner
                    .1
                    .iter()
                    .filter(|r| r.expires_at > now)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Presigned URLs not yet expired (of one account, or all).
    pub fn active_count(&self, account: Option<&str>) -> u64 {
        self.active()
            .iter()
            .filter(|r| account.is_none_or(|a| r.account_id == a))
            .count() as u64
    }
}

/// Body of presigned URL generation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePresignedUrl {
    /// Bucket.
    #[schema(example = "my-bucket")]
    pub bucket_name: String,
    /// Object key.
    #[schema(example = "file.txt")]
    pub object_key: String,
    /// HTTP method the URL allows [default: GET].
    #[serde(default)]
    pub method: PresignMethod,
    /// Lifetime in seconds, 1..=604800 [default: 3600].
    #[schema(minimum = 1, maximum = 604_800, example = 3600)]
    pub expires_in: Option<u64>,
    /// Access key id of the credential to sign with.
    #[schema(example = "AKIAIOSFODNN7EXAMPLE")]
    pub access_key: String,
}

/// A presigned URL as listed (without the URL itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct PresignedUrlInfo {
    /// Registry id.
    pub id: u64,
    /// Bucket.
    pub bucket_name: String,
    /// Object key.
    pub object_key: String,
    /// Method.
    pub method: PresignMethod,
    /// The credential that signed it.
    pub access_key: String,
    /// Expiry (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T11:30:00Z")]
    pub expires_at: String,
    /// Creation (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2023-01-15T10:30:00Z")]
    pub created_at: String,
}

/// A generated URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresignedUrl {
    /// The URL (absolute, for the S3 listener).
    #[schema(
        example = "http://127.0.0.1:9000/my-bucket/file.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&..."
    )]
    pub url: String,
    /// What it is for.
    #[serde(flatten)]
    pub info: PresignedUrlInfo,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// A page of presigned URLs.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresignedUrlList {
    /// Active URLs, oldest first.
    pub urls: Vec<PresignedUrlInfo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query of the presigned URL listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPresignedQuery {
    /// Only URLs for this bucket.
    pub bucket_name: Option<String>,
    /// Page size, 1..=1000 [default: 100].
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

fn info(record: &PresignRecord) -> PresignedUrlInfo {
    PresignedUrlInfo {
        id: record.id,
        bucket_name: record.bucket_name.clone(),
        object_key: record.object_key.clone(),
        method: record.method,
        access_key: record.access_key.clone(),
        expires_at: timestamp(record.expires_at),
        created_at: timestamp(record.created_at),
    }
}

/// S3's URI encoding of a key: every byte but unreserved characters and `/`.
fn encode_key(key: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(key, KEEP).to_string()
}

/// Signs `method` on `url` with `key`'s secret, valid `expires_in` seconds from `now`.
fn presign(
    url: &str,
    method: PresignMethod,
    key: &AccessKey,
    region: &str,
    expires_in: u64,
    now: SystemTime,
) -> Result<String, ApiError> {
    let internal = |e: &dyn std::fmt::Display| ApiError::Internal(format!("presigning: {e}"));
    let identity = aws_credential_types::Credentials::new(
        &key.access_key_id,
        &key.secret_key,
        None,
        None,
        "coffer-admin",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires_in));
    // S3 signs the path as sent: encoded once, never normalized.
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| internal(&e))?
        .into();
    let signable = SignableRequest::new(
        method.as_str(),
        url,
        std::iter::empty(),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| internal(&e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| internal(&e))?
        .into_parts();
    let mut request = http::Request::builder()
        .method(method.as_str())
        .uri(url)
        .body(())
        .map_err(|e| internal(&e))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

/// Generates a presigned URL.
#[utoipa::path(
    post, path = "/api/v1/presigned-urls", tag = "presigned-urls", operation_id = "create_presigned_url",
    request_body = CreatePresignedUrl,
    responses(
        (status = 201, description = "The URL", body = PresignedUrl),
        (status = 400, description = "Invalid field", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
        (status = 403, description = "Another account's bucket or credential", body = super::ErrorBody),
        (status = 404, description = "No such bucket or credential", body = super::ErrorBody),
        (status = 409, description = "The credential is inactive", body = super::ErrorBody),
        (status = 413, description = "Body too large", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn create_presigned(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let body: CreatePresignedUrl = json_body(&cx.body)?;
    BucketName::new(&body.bucket_name)
        .map_err(|e| ApiError::field("bucket_name", e.to_string()))?;
    if body.object_key.is_empty() || body.object_key.len() > 1024 {
        return Err(ApiError::field(
            "object_key",
            "must be 1 to 1024 bytes long",
        ));
    }
    let expires_in = body.expires_in.unwrap_or(3600);
    if !(1..=MAX_EXPIRES_IN).contains(&expires_in) {
        return Err(ApiError::field(
            "expires_in",
            "must be between 1 and 604800 seconds",
        ));
    }
    let key = api
        .engine
        .meta()
        .get_access_key(&body.access_key)
        .await?
        .ok_or_else(|| ApiError::not_found("NoSuchCredential", "The credential does not exist"))?;
    cx.principal.require_account(&key.account_id)?;
    if !key.active {
        return Err(ApiError::conflict(
            "CredentialInactive",
            "the credential is inactive; activate it to presign with it",
        ));
    }
    let bucket = visible_bucket(api, cx, &body.bucket_name).await?;
    if let Some(binding) = &key.bucket_binding
        && !binding.contains(&bucket.name)
    {
        return Err(ApiError::field(
            "bucket_name",
            "the credential is bound to other buckets",
        ));
    }
    let url = format!(
        "{}/{}/{}",
        api.settings.s3_url.trim_end_matches('/'),
        bucket.name,
        encode_key(&body.object_key)
    );
    let now = SystemTime::now();
    let signed = presign(
        &url,
        body.method,
        &key,
        &api.settings.region,
        expires_in,
        now,
    )?;
    let created_at = now_millis();
    let mut record = PresignRecord {
        id: 0,
        bucket_name: bucket.name.clone(),
        object_key: body.object_key.clone(),
        method: body.method,
        access_key: key.access_key_id.clone(),
        account_id: key.account_id.to_string(),
        expires_at: created_at + (expires_in as i64) * 1000,
        created_at,
    };
    record.id = api.presigned.add(record.clone());
    Ok(json(
        StatusCode::CREATED,
        &PresignedUrl {
            url: signed,
            info: info(&record),
            expires_in,
        },
    ))
}

/// Lists presigned URLs not yet expired whose credential is still active.
#[utoipa::path(
    get, path = "/api/v1/presigned-urls", tag = "presigned-urls", operation_id = "list_presigned_urls",
    params(ListPresignedQuery),
    responses(
        (status = 200, description = "A page of active presigned URLs", body = PresignedUrlList),
        (status = 400, description = "Invalid parameter", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid API key", body = super::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_presigned(api: &Inner, cx: &Ctx) -> Result<ApiResponse, ApiError> {
    let limit = cx.query.limit()?;
    let cursor = cx
        .query
        .cursor()?
        .map(|c| {
            c.parse::<u64>()
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API returned"))
        })
        .transpose()?;
    let bucket = cx.query.bounded_str("bucket_name", 63)?;
    let own = cx.principal.own_account().map(ToString::to_string);
    let keys: HashMap<String, bool> = api
        .engine
        .meta()
        .list_access_keys(cx.principal.own_account(), None)
        .await?
        .into_iter()
        .map(|k| (k.access_key_id, k.active))
        .collect();
    let records: Vec<PresignRecord> = api
        .presigned
        .active()
        .into_iter()
        .filter(|r| own.as_ref().is_none_or(|a| r.account_id == *a))
        .filter(|r| bucket.is_none_or(|b| r.bucket_name == b))
        .filter(|r| keys.get(&r.access_key).copied().unwrap_or(false))
        .collect();
    let (page, next_cursor) = page_after(
        records,
        cursor.as_ref(),
        limit,
        |r| r.id,
        |r| r.id.to_string(),
    );
    Ok(json(
        StatusCode::OK,
        &PresignedUrlList {
            urls: page.iter().map(info).collect(),
            next_cursor,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_like_s3() {
        assert_eq!(encode_key("a/b c+d.txt"), "a/b%20c%2Bd.txt");
        assert_eq!(encode_key("ü~_-"), "%C3%BC~_-");
    }

    #[test]
    fn presigned_urls_carry_the_signature_and_expiry() {
        let key = AccessKey {
            id: 1,
            access_key_id: "AKIAEXAMPLEEXAMPLE01".into(),
            secret_key: "secret-secret-secret".into(),
            account_id: coffer_core::AccountId::from_number(1).unwrap(),
            user_name: None,
            active: true,
            bucket_binding: None,
            created_at: 0,
            last_used_at: None,
        };
        let url = presign(
            "http://127.0.0.1:9000/b/a%20b",
            PresignMethod::Get,
            &key,
            "us-east-1",
            60,
            SystemTime::now(),
        )
        .unwrap();
        assert!(url.starts_with("http://127.0.0.1:9000/b/a%20b?"), "{url}");
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIAEXAMPLEEXAMPLE01%2F",
            "X-Amz-Expires=60",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
        assert!(!url.contains("secret-secret"));
    }
}
