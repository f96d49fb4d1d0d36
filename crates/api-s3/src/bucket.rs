//! Bucket operations: create, delete, head, list, location.

use coffer_core::BucketName;
#[allow(clippy::wildcard_imports)] // s3s DTO names mirror the S3 API one to one.
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use crate::convert::{owner, timestamp};
use crate::error::{EngineResultExt, s3};
use crate::service::CofferS3;

/// Canned ACLs that grant nothing beyond the owner (accepted; anything else needs policies).
pub(crate) fn check_canned_acl(acl: Option<&str>) -> S3Result<()> {
    match acl {
        None | Some("private" | "bucket-owner-full-control") => Ok(()),
        Some(other) => Err(s3(
            s3s::S3ErrorCode::NotImplemented,
            format!(
                "The canned ACL '{other}' is not supported: access is granted with bucket \
                 policies."
            ),
        )),
    }
}

impl CofferS3 {
    pub(crate) async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let caller = Self::caller(&req)?;
        let input = req.input;
        let name = BucketName::new(&input.bucket)
            .map_err(|e| s3(s3s::S3ErrorCode::InvalidBucketName, e.to_string()))?;
        check_canned_acl(input.acl.as_ref().map(BucketCannedACL::as_str))?;
        if input.grant_full_control.is_some()
            || input.grant_read.is_some()
            || input.grant_read_acp.is_some()
            || input.grant_write.is_some()
            || input.grant_write_acp.is_some()
        {
            return Err(s3(
                s3s::S3ErrorCode::NotImplemented,
                "ACL grants are not supported: access is granted with bucket policies.",
            ));
        }
        if input.object_lock_enabled_for_bucket == Some(true) {
            return Err(s3(
                s3s::S3ErrorCode::NotImplemented,
                "Object Lock is not supported yet.",
            ));
        }
        let constraint = input
            .create_bucket_configuration
            .and_then(|c| c.location_constraint)
            .map(|c| c.as_str().to_owned())
            .filter(|c| !c.is_empty());
        if let Some(constraint) = constraint
            && constraint != self.settings.region
        {
            return Err(s3(
                s3s::S3ErrorCode::IllegalLocationConstraintException,
                format!(
                    "The {constraint} location constraint is incompatible for the region \
                     specific endpoint this request was sent to."
                ),
            ));
        }
        self.engine
            .create_bucket(
                &name,
                &Self::caller_account(&caller)?,
                &self.settings.region,
            )
            .await
            .s3()?;
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
        }))
    }

    pub(crate) async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = Self::target_bucket(&req)?;
        self.engine.delete_bucket(&bucket).await.s3()?;
        Ok(S3Response::new(DeleteBucketOutput {}))
    }

    #[allow(clippy::unused_async)] // Every operation handler has the same async shape.
    pub(crate) async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let bucket = Self::target_bucket(&req)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(bucket.region),
            ..Default::default()
        }))
    }

    pub(crate) async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let caller = Self::caller(&req)?;
        let account = Self::caller_account(&caller)?;
        let prefix = req.input.prefix.unwrap_or_default();
        if let Some(region) = &req.input.bucket_region
            && *region != self.settings.region
        {
            return Ok(S3Response::new(ListBucketsOutput {
                buckets: Some(Vec::new()),
                owner: Some(owner(&account)),
                ..Default::default()
            }));
        }
        let buckets = self
            .engine
            .list_buckets(&account)
            .await
            .s3()?
            .into_iter()
            .filter(|b| b.name.starts_with(&prefix) && caller.may_use_bucket(&b.name))
            .map(|b| Bucket {
                bucket_region: Some(b.region),
                creation_date: Some(timestamp(b.created_at)),
                name: Some(b.name),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(owner(&account)),
            prefix: (!prefix.is_empty()).then_some(prefix),
            continuation_token: None,
        }))
    }

    #[allow(clippy::unused_async)] // Every operation handler has the same async shape.
    pub(crate) async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let bucket = Self::target_bucket(&req)?;
        // AWS reports us-east-1 as an empty LocationConstraint.
        let location_constraint = (bucket.region != "us-east-1")
            .then(|| BucketLocationConstraint::from(bucket.region.clone()));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint,
        }))
    }
}
