//! What the access layer learned about a request, handed to the operation handlers.

use coffer_core::AccountId;
use coffer_meta::Bucket;

/// The request's id, minted by the HTTP layer, echoed in `x-amz-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The caller's account.
    pub account_id: AccountId,
    /// The access key used.
    pub access_key_id: String,
    /// The IAM user, `None` for the account root.
    pub user_name: Option<String>,
    /// Buckets the key is bound to, if any.
    pub bucket_binding: Option<Vec<String>>,
}

impl Caller {
    /// Whether the key may touch `bucket`.
    pub fn may_use_bucket(&self, bucket: &str) -> bool {
        self.bucket_binding
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == bucket))
    }
}

/// The bucket the request addresses, already looked up and authorized.
#[derive(Debug, Clone)]
pub struct TargetBucket(pub Bucket);
