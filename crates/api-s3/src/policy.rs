//! Bucket policies and ACLs.
//!
//! Access is granted with bucket policies. ACLs exist for clients that read them: they show the
//! owner's FULL_CONTROL (plus READ for everyone when the bucket policy makes the bucket
//! public), and only the canned ACLs that grant nothing more are accepted.

use coffer_iam::BucketPolicy;
#[allow(clippy::wildcard_imports)] // s3s DTO names mirror the S3 API one to one.
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use crate::convert::owner;
use crate::error::{EngineResultExt, custom, s3};
use crate::service::CofferS3;

/// The group URI AWS uses for "everyone".
const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

fn acls_not_supported() -> s3s::S3Error {
    custom(
        "AccessControlListNotSupported",
        http::StatusCode::BAD_REQUEST,
        "The bucket does not allow ACLs: grant access with a bucket policy.",
    )
}

/// Accepts only canned ACLs that grant nothing beyond the owner, and no explicit grants.
fn check_acl_request(
    canned: Option<&str>,
    has_grants: bool,
    policy: Option<&AccessControlPolicy>,
    owner_id: &str,
) -> S3Result<()> {
    if has_grants {
        return Err(acls_not_supported());
    }
    if let Some(policy) = policy {
        let only_owner = policy
            .grants
            .as_deref()
            .unwrap_or_default()
            .iter()
            .all(|g| {
                g.grantee.as_ref().is_some_and(|grantee| {
                    grantee.type_.as_str() == Type::CANONICAL_USER
                        && grantee.id.as_deref() == Some(owner_id)
                })
            });
        if !only_owner {
            return Err(acls_not_supported());
        }
    }
    crate::bucket::check_canned_acl(canned).map_err(|_| acls_not_supported())
}

impl CofferS3 {
    pub(crate) async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let document = req.input.policy;
        if let Err(e) = BucketPolicy::parse(&document, &bucket.name) {
            return Err(s3(S3ErrorCode::MalformedPolicy, e.to_string()));
        }
        self.engine
            .meta()
            .set_bucket_policy(bucket.id, Some(document))
            .await
            .map_err(|e| crate::error::from_engine(e.into()))?;
        self.access.invalidate_bucket_policy(bucket.id);
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    pub(crate) async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let policy = self
            .engine
            .meta()
            .bucket_policy(bucket.id)
            .await
            .map_err(|e| crate::error::from_engine(e.into()))?
            .ok_or_else(|| {
                s3(
                    S3ErrorCode::NoSuchBucketPolicy,
                    "The bucket policy does not exist",
                )
            })?;
        Ok(S3Response::new(GetBucketPolicyOutput {
            policy: Some(policy),
        }))
    }

    pub(crate) async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let bucket = Self::target_bucket(&req)?;
        self.engine
            .meta()
            .set_bucket_policy(bucket.id, None)
            .await
            .map_err(|e| crate::error::from_engine(e.into()))?;
        self.access.invalidate_bucket_policy(bucket.id);
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    pub(crate) async fn get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let policy = self.access.bucket_policy(&bucket).await?;
        Ok(S3Response::new(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(policy.is_some_and(|p| p.is_public())),
            }),
        }))
    }

    /// The grants ACL reads show: the owner's FULL_CONTROL, and READ for everyone when public.
    async fn grants(&self, bucket: &coffer_meta::Bucket) -> S3Result<(Owner, Vec<Grant>)> {
        let owner = owner(&bucket.account_id);
        let mut grants = vec![Grant {
            grantee: Some(Grantee {
                display_name: owner.display_name.clone(),
                email_address: None,
                id: owner.id.clone(),
                type_: Type::from_static(Type::CANONICAL_USER),
                uri: None,
            }),
            permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
        }];
        if self
            .access
            .bucket_policy(bucket)
            .await?
            .is_some_and(|p| p.is_public())
        {
            grants.push(Grant {
                grantee: Some(Grantee {
                    display_name: None,
                    email_address: None,
                    id: None,
                    type_: Type::from_static(Type::GROUP),
                    uri: Some(ALL_USERS.to_owned()),
                }),
                permission: Some(Permission::from_static(Permission::READ)),
            });
        }
        Ok((owner, grants))
    }

    pub(crate) async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let (owner, grants) = self.grants(&bucket).await?;
        Ok(S3Response::new(GetBucketAclOutput {
            grants: Some(grants),
            owner: Some(owner),
        }))
    }

    pub(crate) async fn get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        let bucket = Self::target_bucket(&req)?;
        self.engine
            .find_version(&bucket, &req.input.key, req.input.version_id.as_deref())
            .await
            .s3()?;
        let (owner, grants) = self.grants(&bucket).await?;
        Ok(S3Response::new(GetObjectAclOutput {
            grants: Some(grants),
            owner: Some(owner),
            request_charged: None,
        }))
    }

    #[allow(clippy::unused_async)] // Every operation handler has the same async shape.
    pub(crate) async fn put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let has_grants = input.grant_full_control.is_some()
            || input.grant_read.is_some()
            || input.grant_read_acp.is_some()
            || input.grant_write.is_some()
            || input.grant_write_acp.is_some();
        check_acl_request(
            input.acl.as_ref().map(BucketCannedACL::as_str),
            has_grants,
            input.access_control_policy.as_ref(),
            bucket.account_id.as_str(),
        )?;
        Ok(S3Response::new(PutBucketAclOutput {}))
    }

    pub(crate) async fn put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        self.engine
            .find_version(&bucket, &input.key, input.version_id.as_deref())
            .await
            .s3()?;
        let has_grants = input.grant_full_control.is_some()
            || input.grant_read.is_some()
            || input.grant_read_acp.is_some()
            || input.grant_write_acp.is_some();
        check_acl_request(
            input.acl.as_ref().map(ObjectCannedACL::as_str),
            has_grants,
            input.access_control_policy.as_ref(),
            bucket.account_id.as_str(),
        )?;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }
}
