//! Actions: the table of S3 action names, and the action patterns of `Action` / `NotAction`.
//!
//! Action matching is case-insensitive (`s3:getobject` is `s3:GetObject`), wildcards included.
//! A policy may name `*`, `s3:` actions (each must be a known S3 action, or a pattern that
//! matches at least one) and `iam:` actions (Coffer serves the IAM query API too).

use crate::error::PolicyError;
use crate::wildcard::Pattern;

/// Every S3 action name a policy may use, as AWS spells them (without the `s3:` prefix).
///
/// Coffer serves a subset of the operations behind them; the rest are accepted so that policies
/// written for AWS parse unchanged.
pub const S3_ACTIONS: &[&str] = &[
    "AbortMultipartUpload",
    "BypassGovernanceRetention",
    "CreateAccessPoint",
    "CreateBucket",
    "CreateJob",
    "DeleteAccessPoint",
    "DeleteAccessPointPolicy",
    "DeleteBucket",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketWebsite",
    "DeleteJobTagging",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjectVersion",
    "DeleteObjectVersionTagging",
    "DeleteStorageLensConfiguration",
    "DescribeJob",
    "GetAccelerateConfiguration",
    "GetAccessPoint",
    "GetAccessPointPolicy",
    "GetAccessPointPolicyStatus",
    "GetAccountPublicAccessBlock",
    "GetAnalyticsConfiguration",
    "GetBucketAcl",
    "GetBucketCORS",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketNotification",
    "GetBucketObjectLockConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration",
    "GetJobTagging",
    "GetLifecycleConfiguration",
    "GetMetricsConfiguration",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "GetObjectVersion",
    "GetObjectVersionAcl",
    "GetObjectVersionAttributes",
    "GetObjectVersionForReplication",
    "GetObjectVersionTagging",
    "GetObjectVersionTorrent",
    "GetReplicationConfiguration",
    "GetStorageLensConfiguration",
    "GetStorageLensDashboard",
    "ListAccessPoints",
    "ListAllMyBuckets",
    "ListBucket",
    "ListBucketMultipartUploads",
    "ListBucketVersions",
    "ListJobs",
    "ListMultipartUploadParts",
    "ListStorageLensConfigurations",
    "ObjectOwnerOverrideToBucketOwner",
    "PutAccelerateConfiguration",
    "PutAccessPointPolicy",
    "PutAccountPublicAccessBlock",
    "PutAnalyticsConfiguration",
    "PutBucketAcl",
    "PutBucketCORS",
    "PutBucketLogging",
    "PutBucketNotification",
    "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutEncryptionConfiguration",
    "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration",
    "PutJobTagging",
    "PutLifecycleConfiguration",
    "PutMetricsConfiguration",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "PutObjectVersionAcl",
    "PutObjectVersionTagging",
    "PutReplicationConfiguration",
    "PutStorageLensConfiguration",
    "ReplicateDelete",
    "ReplicateObject",
    "ReplicateTags",
    "RestoreObject",
    "UpdateJobPriority",
    "UpdateJobStatus",
];

/// Whether `name` (without the `s3:` prefix) is an S3 action, ignoring case.
pub fn is_known_s3_action(name: &str) -> bool {
    S3_ACTIONS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
}

/// The service an action pattern belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// `*`: every action of every service.
    Any,
    /// `s3:...`
    S3,
    /// `iam:...`
    Iam,
}

/// One entry of `Action` or `NotAction`, compiled (lower-cased) for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionPattern {
    raw: String,
    service: Service,
    pattern: Pattern,
}

impl ActionPattern {
    /// Validates and compiles one action as written in a policy.
    pub(crate) fn parse(raw: &str) -> Result<Self, PolicyError> {
        let invalid = || PolicyError::InvalidAction(raw.to_owned());
        let lower = raw.to_lowercase();
        if lower == "*" {
            return Ok(Self {
                raw: raw.to_owned(),
                service: Service::Any,
                pattern: Pattern::new("*"),
            });
        }
        let (service, name) = lower.split_once(':').ok_or_else(invalid)?;
        let name_is_valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?');
        if !name_is_valid {
            return Err(invalid());
        }
        let service = match service {
            "s3" => Service::S3,
            "iam" => Service::Iam,
            _ => return Err(invalid()),
        };
        if service == Service::S3 {
            let name_pattern = Pattern::new(name);
            let matches_any = S3_ACTIONS
                .iter()
                .any(|known| name_pattern.matches(&known.to_ascii_lowercase()));
            if !matches_any {
                return Err(invalid());
            }
        }
        Ok(Self {
            raw: raw.to_owned(),
            service,
            pattern: Pattern::new(&lower),
        })
    }

    /// The action as written.
    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }

    /// The service the pattern is for.
    pub(crate) fn service(&self) -> Service {
        self.service
    }

    /// Whether `action` (such as `s3:GetObject`) matches, ignoring case.
    pub(crate) fn matches(&self, action: &str) -> bool {
        self.pattern.matches(&action.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_actions_coffer_uses() {
        for name in [
            "GetObject",
            "ListBucket",
            "ListAllMyBuckets",
            "GetBucketCors",
            "PutBucketObjectLockConfiguration",
            "RestoreObject",
            "GetObjectAttributes",
        ] {
            assert!(is_known_s3_action(name), "{name}");
        }
        assert!(!is_known_s3_action("GetObjects"));
    }

    #[test]
    fn matching_ignores_case_and_reads_wildcards() {
        let get = ActionPattern::parse("s3:Get*").unwrap();
        assert!(get.matches("s3:GetObject"));
        assert!(get.matches("S3:GETOBJECTACL"));
        assert!(!get.matches("s3:PutObject"));
        let exact = ActionPattern::parse("S3:getobject").unwrap();
        assert!(exact.matches("s3:GetObject"));
        assert!(!exact.matches("s3:GetObjectAcl"));
        let one = ActionPattern::parse("s3:?etObject").unwrap();
        assert!(one.matches("s3:GetObject"));
        assert!(ActionPattern::parse("*").unwrap().matches("iam:CreateUser"));
        assert!(
            ActionPattern::parse("iam:*")
                .unwrap()
                .matches("iam:CreateUser")
        );
        assert!(
            !ActionPattern::parse("iam:*")
                .unwrap()
                .matches("s3:GetObject")
        );
        assert_eq!(ActionPattern::parse("s3:*").unwrap().service(), Service::S3);
    }

    #[test]
    fn invalid_actions_are_refused() {
        for bad in [
            "",
            "GetObject",
            "s3:",
            "s3:GetObjects",
            "s3:Frobnicate*",
            "ec2:RunInstances",
            "s3:Get Object",
            "s3:Get-Object",
            "*:*",
            "s3*",
        ] {
            assert_eq!(
                ActionPattern::parse(bad),
                Err(PolicyError::InvalidAction(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(ActionPattern::parse("iam:CreateUser").is_ok());
        assert!(ActionPattern::parse("s3:*Object").is_ok());
    }
}
