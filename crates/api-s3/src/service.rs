//! The S3 service: Coffer's implementation of the `s3s::S3` trait, and its assembly with
//! authentication, access control and virtual-host parsing.
//!
//! Each operation is a thin method here that calls the handler in the module for its family
//! (`bucket`, `object`, `multipart`, `list`). Operations not listed answer 501 NotImplemented
//! (the trait's default).

use std::sync::Arc;

use coffer_engine::Engine;
use coffer_meta::Bucket;
#[allow(clippy::wildcard_imports)] // s3s DTO names mirror the S3 API one to one.
use s3s::dto::*;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

use crate::access::{AccessControl, CofferAccess};
use crate::auth::CofferAuth;
use crate::context::{Caller, TargetBucket};

/// Protocol settings of the S3 listener.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// The region this deployment answers for (requests signed for another are refused).
    pub region: String,
    /// Base domains for virtual-host-style requests (`bucket.<domain>`).
    pub domains: Vec<String>,
    /// Accept SigV2-signed requests (legacy clients); refused by default.
    pub accept_sigv2: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_owned(),
            domains: Vec::new(),
            accept_sigv2: false,
        }
    }
}

/// Coffer's S3 operations over the engine.
#[derive(Clone)]
pub struct CofferS3 {
    pub(crate) engine: Engine,
    pub(crate) settings: S3Settings,
    pub(crate) access: AccessControl,
}

impl std::fmt::Debug for CofferS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CofferS3")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl CofferS3 {
    /// The caller of a request (the access layer always sets it).
    pub(crate) fn caller<T>(req: &S3Request<T>) -> S3Result<Caller> {
        req.extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| s3_error!(AccessDenied, "Access Denied"))
    }

    /// The caller's account; anonymous callers are refused.
    pub(crate) fn caller_account(caller: &Caller) -> S3Result<coffer_core::AccountId> {
        caller
            .account_id
            .clone()
            .ok_or_else(|| s3_error!(AccessDenied, "Access Denied"))
    }

    /// The bucket a request addresses, authorized by the access layer.
    pub(crate) fn target_bucket<T>(req: &S3Request<T>) -> S3Result<Bucket> {
        req.extensions
            .get::<TargetBucket>()
            .map(|t| t.0.clone())
            .ok_or_else(|| s3_error!(NoSuchBucket, "The specified bucket does not exist"))
    }

    /// Looks up a bucket other than the target (a copy source, already authorized).
    pub(crate) async fn other_bucket(&self, name: &str) -> S3Result<Bucket> {
        self.engine
            .bucket(name)
            .await
            .map_err(crate::error::from_engine)
    }
}

/// Largest XML request body (a CompleteMultipartUpload of 10,000 parts is about 1 MiB).
const MAX_XML_BODY: usize = 4 * 1024 * 1024;

/// Builds the s3s service: operations, secrets, access decisions and host parsing.
pub fn build_service(engine: Engine, settings: S3Settings) -> Result<S3Service, String> {
    let access = AccessControl::new(engine.clone(), crate::auth::KeyCache::default());
    build_service_with_access(engine, settings, access)
}

/// [`build_service`] with access decisions shared with whatever else changes identities
/// (the IAM API invalidates their caches).
pub fn build_service_with_access(
    engine: Engine,
    settings: S3Settings,
    access: AccessControl,
) -> Result<S3Service, String> {
    let keys = access.keys().clone();
    let domains = settings.domains.clone();
    let mut builder = S3ServiceBuilder::new(CofferS3 {
        engine: engine.clone(),
        settings,
        access: access.clone(),
    });
    builder.set_auth(CofferAuth::new(engine, keys));
    builder.set_access(CofferAccess::new(access));
    if !domains.is_empty() {
        builder.set_host(crate::host::Domains::new(&domains));
    }
    let mut config = s3s::config::S3Config::default();
    config.xml_max_body_size = MAX_XML_BODY;
    builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(
        config,
    ))));
    Ok(builder.build())
}

macro_rules! delegate {
    ($($op:ident: $input:ty => $output:ty;)*) => {
        #[async_trait::async_trait]
        impl S3 for CofferS3 {
            $(
                async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.$op(req).await
                }
            )*
        }
    };
}

delegate! {
    create_bucket: CreateBucketInput => CreateBucketOutput;
    delete_bucket: DeleteBucketInput => DeleteBucketOutput;
    head_bucket: HeadBucketInput => HeadBucketOutput;
    list_buckets: ListBucketsInput => ListBucketsOutput;
    get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
    put_object: PutObjectInput => PutObjectOutput;
    get_object: GetObjectInput => GetObjectOutput;
    head_object: HeadObjectInput => HeadObjectOutput;
    delete_object: DeleteObjectInput => DeleteObjectOutput;
    delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
    copy_object: CopyObjectInput => CopyObjectOutput;
    list_objects: ListObjectsInput => ListObjectsOutput;
    list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
    list_object_versions: ListObjectVersionsInput => ListObjectVersionsOutput;
    create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
    upload_part: UploadPartInput => UploadPartOutput;
    upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput;
    list_parts: ListPartsInput => ListPartsOutput;
    complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput;
    abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;
    list_multipart_uploads: ListMultipartUploadsInput => ListMultipartUploadsOutput;
    put_bucket_policy: PutBucketPolicyInput => PutBucketPolicyOutput;
    get_bucket_policy: GetBucketPolicyInput => GetBucketPolicyOutput;
    delete_bucket_policy: DeleteBucketPolicyInput => DeleteBucketPolicyOutput;
    get_bucket_policy_status: GetBucketPolicyStatusInput => GetBucketPolicyStatusOutput;
    get_bucket_acl: GetBucketAclInput => GetBucketAclOutput;
    get_object_acl: GetObjectAclInput => GetObjectAclOutput;
    put_bucket_acl: PutBucketAclInput => PutBucketAclOutput;
    put_object_acl: PutObjectAclInput => PutObjectAclOutput;
}
