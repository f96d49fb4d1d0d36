//! From an S3 API operation (as `s3s` names them: `GetObject`, `ListObjectsV2`, ...) to the
//! IAM permissions it needs: action, resource ARN, and the bucket whose policy and owner decide.
//!
//! Most operations need one permission. `CopyObject` and `UploadPartCopy` need two: read on the
//! source object (in the source bucket, under that bucket's policy) and write on the target.
//! `DeleteObjects` is authorized per key: call this with each entry's key and version id.

use crate::arn::{ALL_BUCKETS_ARN, bucket_arn, object_arn};

/// The bucket, key and version an operation is on, as the request names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct S3Target<'a> {
    /// The bucket; `None` for `ListBuckets`.
    pub bucket: Option<&'a str>,
    /// The object key, for object operations.
    pub key: Option<&'a str>,
    /// The `versionId` query parameter, when present.
    pub version_id: Option<&'a str>,
    /// The source of `CopyObject` / `UploadPartCopy`.
    pub copy_source: Option<CopySource<'a>>,
}

/// The object named by `x-amz-copy-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopySource<'a> {
    /// The source bucket.
    pub bucket: &'a str,
    /// The source key.
    pub key: &'a str,
    /// The source version, when the header names one.
    pub version_id: Option<&'a str>,
}

/// One permission an operation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionCheck {
    /// The IAM action, such as `s3:GetObject`.
    pub action: &'static str,
    /// The resource ARN the action is on.
    pub resource: String,
    /// The bucket whose policy and owner apply; `None` for account-level requests.
    pub bucket: Option<String>,
}

/// What an operation acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// No bucket (`ListBuckets`).
    Account,
    /// The bucket itself.
    Bucket,
    /// An object in the bucket.
    Object,
    /// Read the copy source, then write the target object.
    ObjectCopy,
}

use Scope::{Account, Bucket, Object, ObjectCopy};

/// One row of the operation table.
struct Mapping {
    operation: &'static str,
    action: &'static str,
    /// The action instead when the request names a `versionId`.
    version_action: Option<&'static str>,
    scope: Scope,
}

const fn map(operation: &'static str, action: &'static str, scope: Scope) -> Mapping {
    Mapping {
        operation,
        action,
        version_action: None,
        scope,
    }
}

const fn versioned(
    operation: &'static str,
    action: &'static str,
    version_action: &'static str,
) -> Mapping {
    Mapping {
        operation,
        action,
        version_action: Some(version_action),
        scope: Object,
    }
}

/// Every operation Coffer authorizes, with the permission it needs (AWS's mapping: for example
/// `HeadObject` needs `s3:GetObject`, the `Delete...` of a bucket sub-resource needs its `Put...`).
#[rustfmt::skip] // A table: one operation per line reads best.
const OPERATIONS: &[Mapping] = &[
    map("ListBuckets", "s3:ListAllMyBuckets", Account),
    map("CreateBucket", "s3:CreateBucket", Bucket),
    map("DeleteBucket", "s3:DeleteBucket", Bucket),
    map("HeadBucket", "s3:ListBucket", Bucket),
    map("ListObjects", "s3:ListBucket", Bucket),
    map("ListObjectsV2", "s3:ListBucket", Bucket),
    map("ListObjectVersions", "s3:ListBucketVersions", Bucket),
    map("ListMultipartUploads", "s3:ListBucketMultipartUploads", Bucket),
    map("GetBucketLocation", "s3:GetBucketLocation", Bucket),
    map("GetBucketPolicy", "s3:GetBucketPolicy", Bucket),
    map("PutBucketPolicy", "s3:PutBucketPolicy", Bucket),
    map("DeleteBucketPolicy", "s3:DeleteBucketPolicy", Bucket),
    map("GetBucketPolicyStatus", "s3:GetBucketPolicyStatus", Bucket),
    map("GetBucketAcl", "s3:GetBucketAcl", Bucket),
    map("PutBucketAcl", "s3:PutBucketAcl", Bucket),
    map("GetBucketVersioning", "s3:GetBucketVersioning", Bucket),
    map("PutBucketVersioning", "s3:PutBucketVersioning", Bucket),
    map("GetBucketTagging", "s3:GetBucketTagging", Bucket),
    map("PutBucketTagging", "s3:PutBucketTagging", Bucket),
    map("DeleteBucketTagging", "s3:PutBucketTagging", Bucket),
    map("GetBucketCors", "s3:GetBucketCORS", Bucket),
    map("PutBucketCors", "s3:PutBucketCORS", Bucket),
    map("DeleteBucketCors", "s3:PutBucketCORS", Bucket),
    map("GetBucketLifecycle", "s3:GetLifecycleConfiguration", Bucket),
    map("GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration", Bucket),
    map("PutBucketLifecycle", "s3:PutLifecycleConfiguration", Bucket),
    map("PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration", Bucket),
    map("DeleteBucketLifecycle", "s3:PutLifecycleConfiguration", Bucket),
    map("GetBucketEncryption", "s3:GetEncryptionConfiguration", Bucket),
    map("PutBucketEncryption", "s3:PutEncryptionConfiguration", Bucket),
    map("DeleteBucketEncryption", "s3:PutEncryptionConfiguration", Bucket),
    map("GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration", Bucket),
    map("PutObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration", Bucket),
    map("GetBucketWebsite", "s3:GetBucketWebsite", Bucket),
    map("PutBucketWebsite", "s3:PutBucketWebsite", Bucket),
    map("DeleteBucketWebsite", "s3:DeleteBucketWebsite", Bucket),
    map("GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", Bucket),
    map("PutBucketOwnershipControls", "s3:PutBucketOwnershipControls", Bucket),
    map("DeleteBucketOwnershipControls", "s3:PutBucketOwnershipControls", Bucket),
    map("GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", Bucket),
    map("PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", Bucket),
    map("DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock", Bucket),
    map("GetBucketNotificationConfiguration", "s3:GetBucketNotification", Bucket),
    map("PutBucketNotificationConfiguration", "s3:PutBucketNotification", Bucket),
    map("GetBucketLogging", "s3:GetBucketLogging", Bucket),
    map("PutBucketLogging", "s3:PutBucketLogging", Bucket),
    map("GetBucketRequestPayment", "s3:GetBucketRequestPayment", Bucket),
    map("PutBucketRequestPayment", "s3:PutBucketRequestPayment", Bucket),
    map("GetBucketAccelerateConfiguration", "s3:GetAccelerateConfiguration", Bucket),
    map("PutBucketAccelerateConfiguration", "s3:PutAccelerateConfiguration", Bucket),
    map("GetBucketReplication", "s3:GetReplicationConfiguration", Bucket),
    map("PutBucketReplication", "s3:PutReplicationConfiguration", Bucket),
    map("DeleteBucketReplication", "s3:PutReplicationConfiguration", Bucket),
    versioned("GetObject", "s3:GetObject", "s3:GetObjectVersion"),
    versioned("HeadObject", "s3:GetObject", "s3:GetObjectVersion"),
    map("SelectObjectContent", "s3:GetObject", Object),
    versioned("GetObjectAttributes", "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    versioned("GetObjectTorrent", "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent"),
    map("PutObject", "s3:PutObject", Object),
    map("CreateMultipartUpload", "s3:PutObject", Object),
    map("UploadPart", "s3:PutObject", Object),
    map("CompleteMultipartUpload", "s3:PutObject", Object),
    map("CopyObject", "s3:PutObject", ObjectCopy),
    map("UploadPartCopy", "s3:PutObject", ObjectCopy),
    versioned("DeleteObject", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    versioned("DeleteObjects", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    map("AbortMultipartUpload", "s3:AbortMultipartUpload", Object),
    map("ListParts", "s3:ListMultipartUploadParts", Object),
    versioned("GetObjectAcl", "s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    versioned("PutObjectAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    versioned("GetObjectTagging", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    versioned("PutObjectTagging", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    versioned("DeleteObjectTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    map("GetObjectRetention", "s3:GetObjectRetention", Object),
    map("PutObjectRetention", "s3:PutObjectRetention", Object),
    map("GetObjectLegalHold", "s3:GetObjectLegalHold", Object),
    map("PutObjectLegalHold", "s3:PutObjectLegalHold", Object),
    map("RestoreObject", "s3:RestoreObject", Object),
];

/// The operation names [`required_permissions`] knows.
pub fn known_operations() -> impl Iterator<Item = &'static str> {
    OPERATIONS.iter().map(|mapping| mapping.operation)
}

/// The permissions `operation` needs on `target`, in the order to check them. `None` when the
/// operation is not one this table knows, or the target lacks the bucket, key or copy source
/// the operation requires.
pub fn required_permissions(
    operation: &str,
    target: &S3Target<'_>,
) -> Option<Vec<PermissionCheck>> {
    let mapping = OPERATIONS
        .iter()
        .find(|mapping| mapping.operation == operation)?;
    let action = match (mapping.version_action, target.version_id) {
        (Some(version_action), Some(_)) => version_action,
        _ => mapping.action,
    };
    let check = |action, resource, bucket: Option<&str>| PermissionCheck {
        action,
        resource,
        bucket: bucket.map(str::to_owned),
    };
    Some(match mapping.scope {
        Account => vec![check(action, ALL_BUCKETS_ARN.to_owned(), None)],
        Bucket => {
            let bucket = target.bucket?;
            vec![check(action, bucket_arn(bucket), Some(bucket))]
        }
        Object => {
            let (bucket, key) = (target.bucket?, target.key?);
            vec![check(action, object_arn(bucket, key), Some(bucket))]
        }
        ObjectCopy => {
            let (bucket, key, source) = (target.bucket?, target.key?, target.copy_source?);
            let read = if source.version_id.is_some() {
                "s3:GetObjectVersion"
            } else {
                "s3:GetObject"
            };
            vec![
                check(
                    read,
                    object_arn(source.bucket, source.key),
                    Some(source.bucket),
                ),
                check(action, object_arn(bucket, key), Some(bucket)),
            ]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::is_known_s3_action;

    fn single(operation: &str, target: &S3Target<'_>) -> (&'static str, String) {
        let checks = required_permissions(operation, target).unwrap();
        assert_eq!(checks.len(), 1, "{operation}");
        (checks[0].action, checks[0].resource.clone())
    }

    const OBJECT: S3Target<'static> = S3Target {
        bucket: Some("b"),
        key: Some("k/1"),
        version_id: None,
        copy_source: None,
    };
    const VERSION: S3Target<'static> = S3Target {
        version_id: Some("v1"),
        ..OBJECT
    };
    const BUCKET: S3Target<'static> = S3Target {
        bucket: Some("b"),
        key: None,
        version_id: None,
        copy_source: None,
    };

    #[test]
    fn object_operations() {
        assert_eq!(
            single("GetObject", &OBJECT),
            ("s3:GetObject", "arn:aws:s3:::b/k/1".into())
        );
        assert_eq!(single("HeadObject", &OBJECT).0, "s3:GetObject");
        assert_eq!(single("GetObject", &VERSION).0, "s3:GetObjectVersion");
        assert_eq!(single("HeadObject", &VERSION).0, "s3:GetObjectVersion");
        assert_eq!(single("DeleteObject", &OBJECT).0, "s3:DeleteObject");
        assert_eq!(single("DeleteObject", &VERSION).0, "s3:DeleteObjectVersion");
        assert_eq!(
            single("DeleteObjects", &VERSION).0,
            "s3:DeleteObjectVersion"
        );
        for multipart in [
            "PutObject",
            "CreateMultipartUpload",
            "UploadPart",
            "CompleteMultipartUpload",
        ] {
            assert_eq!(single(multipart, &OBJECT).0, "s3:PutObject");
        }
        assert_eq!(
            single("AbortMultipartUpload", &OBJECT).0,
            "s3:AbortMultipartUpload"
        );
        assert_eq!(
            single("ListParts", &OBJECT).0,
            "s3:ListMultipartUploadParts"
        );
        assert_eq!(single("GetObjectAcl", &VERSION).0, "s3:GetObjectVersionAcl");
        assert_eq!(single("PutObjectTagging", &OBJECT).0, "s3:PutObjectTagging");
    }

    #[test]
    fn bucket_and_account_operations() {
        assert_eq!(
            single("ListObjectsV2", &BUCKET),
            ("s3:ListBucket", "arn:aws:s3:::b".into())
        );
        assert_eq!(single("ListObjects", &BUCKET).0, "s3:ListBucket");
        assert_eq!(single("HeadBucket", &BUCKET).0, "s3:ListBucket");
        assert_eq!(
            single("ListObjectVersions", &BUCKET).0,
            "s3:ListBucketVersions"
        );
        assert_eq!(
            single("ListMultipartUploads", &BUCKET).0,
            "s3:ListBucketMultipartUploads"
        );
        assert_eq!(single("DeleteBucketCors", &BUCKET).0, "s3:PutBucketCORS");
        let list = required_permissions("ListBuckets", &S3Target::default()).unwrap();
        assert_eq!(list[0].action, "s3:ListAllMyBuckets");
        assert_eq!(list[0].resource, "arn:aws:s3:::*");
        assert_eq!(list[0].bucket, None);
    }

    #[test]
    fn copies_need_read_on_the_source_and_write_on_the_target() {
        let source = CopySource {
            bucket: "src",
            key: "a",
            version_id: None,
        };
        let target = S3Target {
            copy_source: Some(source),
            ..OBJECT
        };
        let checks = required_permissions("CopyObject", &target).unwrap();
        assert_eq!(
            checks,
            vec![
                PermissionCheck {
                    action: "s3:GetObject",
                    resource: "arn:aws:s3:::src/a".into(),
                    bucket: Some("src".into())
                },
                PermissionCheck {
                    action: "s3:PutObject",
                    resource: "arn:aws:s3:::b/k/1".into(),
                    bucket: Some("b".into())
                },
            ]
        );
        let versioned = S3Target {
            copy_source: Some(CopySource {
                version_id: Some("v"),
                ..source
            }),
            ..OBJECT
        };
        assert_eq!(
            required_permissions("UploadPartCopy", &versioned).unwrap()[0].action,
            "s3:GetObjectVersion"
        );
        assert_eq!(required_permissions("CopyObject", &OBJECT), None);
    }

    #[test]
    fn unknown_operations_and_missing_targets() {
        assert_eq!(required_permissions("FrobnicateBucket", &BUCKET), None);
        assert_eq!(required_permissions("GetObject", &BUCKET), None);
        assert_eq!(
            required_permissions("ListObjectsV2", &S3Target::default()),
            None
        );
    }

    #[test]
    fn every_mapped_action_is_a_known_s3_action() {
        let source = CopySource {
            bucket: "s",
            key: "k",
            version_id: None,
        };
        let mut seen = std::collections::HashSet::new();
        for operation in known_operations() {
            assert!(seen.insert(operation), "{operation} is mapped twice");
            for version_id in [None, Some("v")] {
                let target = S3Target {
                    bucket: Some("b"),
                    key: Some("k"),
                    version_id,
                    copy_source: Some(source),
                };
                let checks = required_permissions(operation, &target)
                    .unwrap_or_else(|| panic!("{operation}"));
                for check in checks {
                    let name = check.action.strip_prefix("s3:").unwrap();
                    assert!(is_known_s3_action(name), "{operation} -> {}", check.action);
                }
            }
        }
    }
}
