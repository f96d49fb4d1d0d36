//! Access decisions for S3 requests.
//!
//! For every request: the key's bucket binding, then the state of the accounts involved
//! (suspended: nothing; migrating: no writes; over quota: no writes that add bytes), then the
//! policies: the caller's identity policies and the bucket policy, combined by `coffer-iam` as
//! AWS combines them. Anonymous callers get only what a bucket policy grants to everyone.
//! Bucket policies, identity policies and accounts are cached with bounded staleness; changes
//! made through this node invalidate them at once.

use std::sync::Arc;
use std::time::Duration;

use coffer_core::AccountId;
use coffer_core::cache::TtlCache;
use coffer_engine::{Engine, EngineError};
use coffer_iam::s3_action::{CopySource, PermissionCheck, S3Target, required_permissions};
use coffer_iam::{ApplicablePolicies, BucketPolicy, IdentityPolicy, Principal, UserIdentity};
use coffer_meta::{AccessKey, Account, AccountStatus, Bucket};
use http::StatusCode;
use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;
use s3s::{S3Error, S3Result, s3_error};

use crate::auth::KeyCache;
use crate::context::{
    Caller, ClientAddr, ContextInputs, LazyContext, SecureTransport, TargetBucket,
};
use crate::error::{custom, from_engine};

/// How long cached policies and accounts are trusted before they are read again.
const POLICY_TTL: Duration = Duration::from_secs(5);
/// How often a key's last-used time is written, at most.
const KEY_USE_GRANULARITY_MS: i64 = 60_000;
/// Cached entries at most per cache (cleared when full).
const CACHE_MAX: usize = 10_000;

type IdentityEntry = (UserIdentity, Arc<Vec<IdentityPolicy>>);

/// Access decisions, shared by the access hook and the handlers that check more than one
/// permission (DeleteObjects checks each key).
#[derive(Clone)]
pub struct AccessControl {
    engine: Engine,
    keys: KeyCache,
    bucket_policies: Arc<TtlCache<i64, Option<Arc<BucketPolicy>>>>,
    identities: Arc<TtlCache<(AccountId, String), IdentityEntry>>,
    accounts: Arc<TtlCache<AccountId, Account>>,
}

fn access_denied() -> S3Error {
    s3_error!(AccessDenied, "Access Denied")
}

/// Operations that add bytes (refused over quota).
fn adds_bytes(op: &str) -> bool {
    matches!(
        op,
        "PutObject"
            | "PostObject"
            | "CopyObject"
            | "UploadPart"
            | "UploadPartCopy"
            | "CompleteMultipartUpload"
            | "CreateMultipartUpload"
    )
}

/// Operations that change state (refused while migrating).
fn is_write(op: &str) -> bool {
    adds_bytes(op)
        || op.starts_with("Put")
        || op.starts_with("Delete")
        || op.starts_with("Create")
        || op == "AbortMultipartUpload"
}

impl AccessControl {
    /// Decisions over `engine`'s metadata, keys through `keys`.
    pub fn new(engine: Engine, keys: KeyCache) -> Self {
        Self {
            engine,
            keys,
            bucket_policies: Arc::new(TtlCache::new(POLICY_TTL, CACHE_MAX)),
            identities: Arc::new(TtlCache::new(POLICY_TTL, CACHE_MAX)),
            accounts: Arc::new(TtlCache::new(POLICY_TTL, CACHE_MAX)),
        }
    }

    /// The key cache signature verification shares.
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Forgets a bucket's cached policy (after it was replaced or deleted here).
    pub fn invalidate_bucket_policy(&self, bucket_id: i64) {
        self.bucket_policies.remove(&bucket_id);
    }

    /// The parsed policy of a bucket, if it has one.
    pub async fn bucket_policy(&self, bucket: &Bucket) -> S3Result<Option<Arc<BucketPolicy>>> {
        if let Some(policy) = self.bucket_policies.get(&bucket.id) {
            return Ok(policy);
        }
        let document = self
            .engine
            .meta()
            .bucket_policy(bucket.id)
            .await
            .map_err(|e| from_engine(e.into()))?;
        let policy = match document {
            None => None,
            Some(doc) => match BucketPolicy::parse(&doc, &bucket.name) {
                Ok(p) => Some(Arc::new(p)),
                Err(e) => {
                    // A stored policy was valid when stored; if it no longer parses, grant
                    // nothing through it rather than fail every request.
                    tracing::error!(bucket = %bucket.name, error = %e, "stored bucket policy does not parse");
                    None
                }
            },
        };
        self.bucket_policies.insert(bucket.id, policy.clone());
        Ok(policy)
    }

    /// The user behind a key and the policies that apply to it.
    async fn user_identity(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> S3Result<(UserIdentity, Arc<Vec<IdentityPolicy>>)> {
        let cache_key = (account.clone(), user_name.to_ascii_lowercase());
        if let Some(entry) = self.identities.get(&cache_key) {
            return Ok(entry);
        }
        let (identity, policies) = self
            .engine
            .resolve_user(account, user_name)
            .await
            .map_err(from_engine)?
            .ok_or_else(|| s3_error!(InvalidAccessKeyId))?;
        let policies = Arc::new(policies);
        self.identities
            .insert(cache_key, (identity.clone(), policies.clone()));
        Ok((identity, policies))
    }

    /// Forgets every cached identity, key and account (after IAM or account changes made
    /// here).
    pub fn invalidate_identities(&self) {
        self.identities.clear();
        self.accounts.clear();
        self.keys.clear();
    }

    /// Looks a bucket up; `None` when it does not exist.
    async fn find_bucket(&self, name: &str) -> S3Result<Option<Bucket>> {
        match self.engine.bucket(name).await {
            Ok(b) => Ok(Some(b)),
            Err(EngineError::NoSuchBucket) => Ok(None),
            Err(e) => Err(from_engine(e)),
        }
    }

    async fn account(&self, id: &AccountId) -> S3Result<Account> {
        if let Some(account) = self.accounts.get(id) {
            return Ok(account);
        }
        let account = self
            .engine
            .meta()
            .get_account(id)
            .await
            .map_err(|e| from_engine(e.into()))?;
        self.accounts.insert(id.clone(), account.clone());
        Ok(account)
    }

    /// Refuses what an account's state forbids for `op`.
    async fn check_account_state(&self, account: &Account, op: &str) -> S3Result<()> {
        match account.status {
            AccountStatus::Suspended => {
                return Err(custom(
                    "AccountSuspended",
                    StatusCode::FORBIDDEN,
                    "The account is suspended.",
                ));
            }
            AccountStatus::Migrating if is_write(op) => {
                return Err(custom(
                    "MigrationInProgress",
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The account is being migrated; writes are refused until it completes.",
                ));
            }
            _ => {}
        }
        if let Some(quota) = account.quota_bytes
            && adds_bytes(op)
        {
            let usage = self
                .engine
                .meta()
                .account_usage(&account.id)
                .await
                .map_err(|e| from_engine(e.into()))?;
            if usage.bytes >= 0 && usage.bytes as u64 >= quota {
                return Err(custom(
                    "QuotaExceeded",
                    StatusCode::FORBIDDEN,
                    "The account's storage quota is exceeded; delete data to write again.",
                ));
            }
        }
        Ok(())
    }

    /// Checks one permission for `caller`; the bucket it names decides owner and policy.
    pub async fn authorize(&self, caller: &Caller, check: &PermissionCheck) -> S3Result<()> {
        // Creating a bucket is decided within the caller's account, whoever holds the name
        // (the handler then answers BucketAlreadyExists).
        let creating = check.action == "s3:CreateBucket";
        let bucket = match &check.bucket {
            Some(name) => {
                if !caller.may_use_bucket(name) {
                    return Err(access_denied());
                }
                if creating {
                    None
                } else {
                    self.find_bucket(name).await?
                }
            }
            None => None,
        };
        // A request on a bucket that does not exist is answered by the handler (NoSuchBucket).
        if check.bucket.is_some() && bucket.is_none() && !creating {
            return Ok(());
        }
        let policy = match &bucket {
            Some(b) => self.bucket_policy(b).await?,
            None => None,
        };
        let owner = bucket.as_ref().map(|b| b.account_id.to_string());
        let policies = ApplicablePolicies {
            identity_policies: &caller.identity_policies,
            bucket_policy: policy.as_deref(),
            bucket_owner_account_id: owner.as_deref(),
        };
        let decision = match coffer_iam::decide_without_context(&caller.principal, &policies) {
            Some(decision) => decision,
            None => coffer_iam::authorize(
                &caller
                    .context
                    .get()
                    .for_target(check.action, check.resource.clone()),
                &policies,
            ),
        };
        tracing::debug!(action = check.action, resource = %check.resource, ?decision, "access decision");
        if decision.allowed {
            Ok(())
        } else {
            Err(access_denied())
        }
    }

    /// Records that a key signed a request, at most once a minute per key (off the request
    /// path: a failed write only loses a timestamp).
    fn note_key_use(&self, key: &AccessKey) {
        let now = coffer_core::time::now_millis();
        if key
            .last_used_at
            .is_some_and(|at| now - at < KEY_USE_GRANULARITY_MS)
        {
            return;
        }
        let engine = self.engine.clone();
        let id = key.access_key_id.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.meta().touch_access_key(&id, now).await {
                tracing::debug!(error = %e, "could not record key use");
            }
        });
    }

    /// Builds the caller of a request from its credentials (or none).
    async fn caller(&self, cx: &mut S3AccessContext<'_>, op: &str) -> S3Result<Caller> {
        let (principal, account_id, key, policies) = match cx.credentials() {
            None => (Principal::Anonymous, None, None, Arc::new(Vec::new())),
            Some(credentials) => {
                let key: AccessKey = self
                    .keys
                    .get(&self.engine, &credentials.access_key)
                    .await?
                    .filter(|k| k.active)
                    .ok_or_else(|| s3_error!(InvalidAccessKeyId))?;
                let account = self.account(&key.account_id).await?;
                self.check_account_state(&account, op).await?;
                self.note_key_use(&key);
                let (principal, policies) = match &key.user_name {
                    None => (
                        Principal::AccountRoot {
                            account_id: account.id.to_string(),
                        },
                        Arc::new(Vec::new()),
                    ),
                    Some(name) => {
                        let (user, policies) = self.user_identity(&account.id, name).await?;
                        (Principal::User(user), policies)
                    }
                };
                (principal, Some(account.id), Some(key), policies)
            }
        };
        let context = LazyContext::new(principal.clone(), context_inputs(cx));
        Ok(Caller {
            principal,
            account_id,
            access_key_id: key.as_ref().map(|k| k.access_key_id.clone()),
            bucket_binding: key.and_then(|k| k.bucket_binding),
            identity_policies: policies,
            context,
        })
    }
}

/// What the request's condition keys will be built from, if a check needs them.
fn context_inputs(cx: &mut S3AccessContext<'_>) -> ContextInputs {
    let secure = cx
        .extensions_mut()
        .get::<SecureTransport>()
        .is_some_and(|s| s.0);
    let source_ip = cx.extensions_mut().get::<ClientAddr>().map(|a| a.0.ip());
    let signed = cx.credentials().is_some();
    let headers = cx.headers();
    ContextInputs {
        now: time::OffsetDateTime::now_utc(),
        secure,
        source_ip,
        uri: cx.uri().clone(),
        acl: headers.get("x-amz-acl").cloned(),
        referer: headers.get(http::header::REFERER).cloned(),
        content_sha256: headers.get("x-amz-content-sha256").cloned(),
        signed,
    }
}

/// The `x-amz-copy-source` of a copy: (bucket, key, version).
fn copy_source(cx: &S3AccessContext<'_>) -> Option<(String, String, Option<String>)> {
    let raw = cx.headers().get("x-amz-copy-source")?.to_str().ok()?;
    let (path, version) = match raw.split_once("?versionId=") {
        Some((p, v)) => (p, Some(crate::http::percent_decode(v))),
        None => (raw, None),
    };
    let path = crate::http::percent_decode_path(path);
    let path = path.strip_prefix('/').unwrap_or(&path).to_owned();
    let (bucket, key) = path.split_once('/')?;
    Some((bucket.to_owned(), key.to_owned(), version))
}

/// The operation's name as a `'static` label (metrics keep a bounded set of labels).
fn operation_name(op: &str) -> &'static str {
    coffer_iam::s3_action::known_operations()
        .find(|known| *known == op)
        .unwrap_or("other")
}

/// The S3 access hook: decides every request before its body is read.
pub struct CofferAccess {
    control: AccessControl,
}

impl CofferAccess {
    /// The hook over `control`.
    pub fn new(control: AccessControl) -> Self {
        Self { control }
    }
}

#[async_trait::async_trait]
impl S3Access for CofferAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name().to_owned();
        if let Some(slot) = cx.extensions_mut().get::<crate::http::OperationSlot>() {
            slot.set(operation_name(&op));
        }
        let caller = self.control.caller(cx, &op).await?;
        let (bucket_name, key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
        };
        let query = cx.uri().query().unwrap_or_default().to_owned();
        let version_id = crate::http::form_pairs(&query)
            .into_iter()
            .find(|(k, _)| k == "versionId")
            .map(|(_, v)| v);
        let source = if op == "CopyObject" || op == "UploadPartCopy" {
            copy_source(cx)
        } else {
            None
        };
        let target = S3Target {
            bucket: bucket_name.as_deref(),
            key: key.as_deref(),
            version_id: version_id.as_deref(),
            copy_source: source.as_ref().map(|(b, k, v)| CopySource {
                bucket: b,
                key: k,
                version_id: v.as_deref(),
            }),
        };
        match required_permissions(&op, &target) {
            Some(checks) => {
                for check in &checks {
                    self.control.authorize(&caller, check).await?;
                }
            }
            // Operations the table does not know are not implemented: let the handler say so
            // to authenticated callers; anonymous ones learn nothing.
            None if caller.account_id.is_some() => {}
            None => return Err(access_denied()),
        }
        if let Some(name) = &bucket_name {
            if !caller.may_use_bucket(name) {
                return Err(access_denied());
            }
            if op == "CreateBucket" {
                // Nothing of an existing bucket of that name is exposed.
            } else if let Some(bucket) = self.control.find_bucket(name).await? {
                // The owner's state gates requests from other accounts and anonymous callers.
                if caller.account_id.as_ref() != Some(&bucket.account_id) {
                    let owner = self.control.account(&bucket.account_id).await?;
                    self.control.check_account_state(&owner, &op).await?;
                }
                cx.extensions_mut().insert(TargetBucket(bucket));
            }
        }
        cx.extensions_mut().insert(caller);
        Ok(())
    }
}
