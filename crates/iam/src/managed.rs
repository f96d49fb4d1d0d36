//! AWS-managed policies Coffer provides under their AWS names, scoped to the services Coffer
//! serves (S3 and IAM). Customers attach them by ARN, as on AWS.

/// A policy that ships with Coffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// The AWS name, such as `AmazonS3ReadOnlyAccess`.
    pub name: &'static str,
    /// `arn:aws:iam::aws:policy/<name>`.
    pub arn: &'static str,
    /// What it grants, in a sentence.
    pub description: &'static str,
    /// The policy document (an identity policy).
    pub document: &'static str,
}

/// Full access to everything.
pub const ADMINISTRATOR_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "AdministratorAccess",
    arn: "arn:aws:iam::aws:policy/AdministratorAccess",
    description: "Provides full access to all services and resources.",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"#,
};

/// Full access to S3.
pub const AMAZON_S3_FULL_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "AmazonS3FullAccess",
    arn: "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    description: "Provides full access to all buckets.",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": "*"
    }
  ]
}"#,
};

/// Read-only access to S3.
pub const AMAZON_S3_READ_ONLY_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "AmazonS3ReadOnlyAccess",
    arn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    description: "Provides read-only access to all buckets.",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "s3:Get*",
        "s3:List*"
      ],
      "Resource": "*"
    }
  ]
}"#,
};

/// Read-only access to every service Coffer serves.
pub const READ_ONLY_ACCESS: ManagedPolicy = ManagedPolicy {
    name: "ReadOnlyAccess",
    arn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    description: "Provides read-only access to S3 and IAM.",
    document: r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "s3:Get*",
        "s3:List*",
        "iam:Get*",
        "iam:List*",
        "iam:GenerateCredentialReport",
        "iam:GenerateServiceLastAccessedDetails",
        "iam:SimulatePrincipalPolicy",
        "iam:SimulateCustomPolicy"
      ],
      "Resource": "*"
    }
  ]
}"#,
};

/// Every managed policy, by name.
pub const MANAGED_POLICIES: &[ManagedPolicy] = &[
    ADMINISTRATOR_ACCESS,
    AMAZON_S3_FULL_ACCESS,
    AMAZON_S3_READ_ONLY_ACCESS,
    READ_ONLY_ACCESS,
];

/// The managed policy with this name or ARN.
pub fn managed_policy(name_or_arn: &str) -> Option<&'static ManagedPolicy> {
    MANAGED_POLICIES
        .iter()
        .find(|policy| policy.name == name_or_arn || policy.arn == name_or_arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Decision, IdentityPolicy};
    use crate::{Principal, RequestContext, UserIdentity};

    fn decide(policy: &ManagedPolicy, action: &str, resource: &str) -> Decision {
        let user = Principal::User(UserIdentity {
            account_id: "123456789012345".into(),
            user_name: "u".into(),
            user_id: "AIDAU".into(),
            path: "/".into(),
        });
        let parsed = IdentityPolicy::parse(policy.document).unwrap();
        parsed.evaluate(&RequestContext::new(action, resource, user))
    }

    #[test]
    fn every_managed_policy_parses() {
        for policy in MANAGED_POLICIES {
            IdentityPolicy::parse(policy.document)
                .unwrap_or_else(|e| panic!("{}: {e}", policy.name));
            assert_eq!(
                policy.arn,
                format!("arn:aws:iam::aws:policy/{}", policy.name)
            );
            assert_eq!(managed_policy(policy.name), Some(policy));
            assert_eq!(managed_policy(policy.arn), Some(policy));
        }
        assert_eq!(managed_policy("PowerUserAccess"), None);
    }

    #[test]
    fn grants() {
        let object = "arn:aws:s3:::b/k";
        assert_eq!(
            decide(&ADMINISTRATOR_ACCESS, "iam:CreateUser", "*"),
            Decision::Allow
        );
        assert_eq!(
            decide(&AMAZON_S3_FULL_ACCESS, "s3:DeleteObject", object),
            Decision::Allow
        );
        assert_eq!(
            decide(&AMAZON_S3_FULL_ACCESS, "iam:CreateUser", "*"),
            Decision::NotApplicable
        );
        assert_eq!(
            decide(&AMAZON_S3_READ_ONLY_ACCESS, "s3:GetObject", object),
            Decision::Allow
        );
        assert_eq!(
            decide(
                &AMAZON_S3_READ_ONLY_ACCESS,
                "s3:ListBucket",
                "arn:aws:s3:::b"
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(&AMAZON_S3_READ_ONLY_ACCESS, "s3:PutObject", object),
            Decision::NotApplicable
        );
        assert_eq!(
            decide(&READ_ONLY_ACCESS, "iam:ListUsers", "*"),
            Decision::Allow
        );
        assert_eq!(
            decide(&READ_ONLY_ACCESS, "iam:CreateUser", "*"),
            Decision::NotApplicable
        );
        assert_eq!(
            decide(&READ_ONLY_ACCESS, "s3:GetObject", object),
            Decision::Allow
        );
    }
}
