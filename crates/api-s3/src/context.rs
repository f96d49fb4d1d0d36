//! What the access layer learned about a request, handed to the operation handlers.

use std::net::SocketAddr;
use std::sync::Arc;

use coffer_core::AccountId;
use coffer_iam::{IdentityPolicy, Principal, RequestContext};
use coffer_meta::Bucket;

/// The request's id, minted by the HTTP layer, echoed in `x-amz-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The client's address, set by the listener.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Whether the request arrived over TLS, set by the listener.
#[derive(Debug, Clone, Copy)]
pub struct SecureTransport(pub bool);

/// Who is calling, as decided by the access layer.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal policies see.
    pub principal: Principal,
    /// The caller's account; `None` when anonymous.
    pub account_id: Option<AccountId>,
    /// The access key used, if any.
    pub access_key_id: Option<String>,
    /// Buckets the key is bound to, if any.
    pub bucket_binding: Option<Vec<String>>,
    /// The caller's identity policies (users only).
    pub identity_policies: Arc<Vec<IdentityPolicy>>,
    /// The request's condition keys; checks clone it with their own action and resource.
    pub context: RequestContext,
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
