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
    /// The request's condition keys, built on first use; checks clone it with their own
    /// action and resource.
    pub context: LazyContext,
}

/// What a request's condition keys are made of, kept until a check needs them: most requests
/// (an account root on its own bucket without a bucket policy) are decided without them.
#[derive(Debug, Clone)]
pub struct ContextInputs {
    /// When the request was authenticated (`aws:CurrentTime`, `aws:EpochTime`).
    pub now: time::OffsetDateTime,
    /// Whether it arrived over TLS.
    pub secure: bool,
    /// The client's address.
    pub source_ip: Option<std::net::IpAddr>,
    /// The request URI (its query holds `prefix`, `delimiter`, `max-keys`, a presigned
    /// signature).
    pub uri: http::Uri,
    /// `x-amz-acl`.
    pub acl: Option<http::HeaderValue>,
    /// `Referer`.
    pub referer: Option<http::HeaderValue>,
    /// `x-amz-content-sha256`.
    pub content_sha256: Option<http::HeaderValue>,
    /// Whether the request was signed.
    pub signed: bool,
}

/// A request's [`RequestContext`], built from its [`ContextInputs`] the first time it is read.
#[derive(Debug, Clone)]
pub struct LazyContext {
    principal: Principal,
    inputs: ContextInputs,
    built: std::sync::OnceLock<RequestContext>,
}

impl LazyContext {
    /// The context of `principal`'s request described by `inputs`.
    pub fn new(principal: Principal, inputs: ContextInputs) -> Self {
        Self {
            principal,
            inputs,
            built: std::sync::OnceLock::new(),
        }
    }

    /// The condition keys, built now if no check needed them yet.
    pub fn get(&self) -> &RequestContext {
        self.built
            .get_or_init(|| build_context(self.principal.clone(), &self.inputs))
    }
}

/// The condition keys every check of a request shares.
fn build_context(principal: Principal, inputs: &ContextInputs) -> RequestContext {
    let mut context = RequestContext::new("", "", principal)
        .with_current_time(inputs.now)
        .with_secure_transport(inputs.secure);
    if let Some(ip) = inputs.source_ip {
        context = context.with_source_ip(ip);
    }
    let query = inputs.uri.query().unwrap_or_default();
    for (name, value) in crate::http::form_pairs(query) {
        match name.as_str() {
            "prefix" => context.push("s3:prefix", value),
            "delimiter" => context.push("s3:delimiter", value),
            "max-keys" => context.push("s3:max-keys", value),
            _ => {}
        }
    }
    let text = |value: &Option<http::HeaderValue>| {
        value
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(acl) = text(&inputs.acl) {
        context.push("s3:x-amz-acl", acl);
    }
    if let Some(referer) = text(&inputs.referer) {
        context.push("aws:Referer", referer);
    }
    if let Some(sha) = text(&inputs.content_sha256) {
        context.push("s3:x-amz-content-sha256", sha);
    }
    if inputs.signed {
        context.push("s3:signatureversion", "AWS4-HMAC-SHA256");
        let presigned = query.contains("X-Amz-Signature=");
        context.push(
            "s3:authType",
            if presigned {
                "REST-QUERY-STRING"
            } else {
                "REST-HEADER"
            },
        );
    }
    context
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
