//! Who × policies → decision, as a table.

use serde_json::json;

use super::*;
use crate::arn::{ALL_BUCKETS_ARN, bucket_arn, object_arn};
use crate::principal::UserIdentity;

const OWNER: &str = "111111111111111";
const OTHER: &str = "222222222222222";
const BUCKET: &str = "photos";

fn user(account_id: &str, name: &str) -> Principal {
    Principal::User(UserIdentity {
        account_id: account_id.into(),
        user_name: name.into(),
        user_id: format!("AIDA{name}"),
        path: "/".into(),
    })
}

fn root(account_id: &str) -> Principal {
    Principal::AccountRoot {
        account_id: account_id.into(),
    }
}

fn identity(effect: &str, action: &str) -> IdentityPolicy {
    let document = json!({"Version": "2012-10-17", "Statement": {"Effect": effect, "Action": action, "Resource": "*"}});
    IdentityPolicy::parse(&document.to_string()).unwrap()
}

fn bucket_policy(effect: &str, principal: serde_json::Value, action: &str) -> BucketPolicy {
    let mut document = json!({"Version": "2012-10-17", "Statement": {
        "Effect": effect, "Action": action,
        "Resource": [bucket_arn(BUCKET), format!("{}/*", bucket_arn(BUCKET))]
    }});
    document["Statement"]["Principal"] = principal;
    BucketPolicy::parse(&document.to_string(), BUCKET).unwrap()
}

/// name, caller, action, identity policies, bucket policy, expected allowed, expected reason.
type Case<'a> = (
    &'a str,
    Principal,
    &'a str,
    Vec<IdentityPolicy>,
    Option<&'a BucketPolicy>,
    bool,
    DecisionReason,
);

fn decide(
    principal: Principal,
    action: &str,
    identity_policies: &[IdentityPolicy],
    bucket_policy: Option<&BucketPolicy>,
) -> AccessDecision {
    let context = RequestContext::new(action, object_arn(BUCKET, "cat.jpg"), principal);
    authorize(
        &context,
        &ApplicablePolicies {
            identity_policies,
            bucket_policy,
            bucket_owner_account_id: Some(OWNER),
        },
    )
}

#[test]
fn decision_table() {
    use DecisionReason as R;
    let alice_arn = format!("arn:aws:iam::{OWNER}:user/alice");
    let bob_arn = format!("arn:aws:iam::{OTHER}:user/bob");
    let allow_get = identity("Allow", "s3:GetObject");
    let deny_get = identity("Deny", "s3:GetObject");
    let public_get = bucket_policy("Allow", json!("*"), "s3:GetObject");
    let deny_everyone = bucket_policy("Deny", json!("*"), "s3:*");
    let owner_account_get = bucket_policy("Allow", json!({"AWS": OWNER}), "s3:GetObject");
    let alice_get = bucket_policy("Allow", json!({"AWS": alice_arn}), "s3:GetObject");
    let other_account_get = bucket_policy(
        "Allow",
        json!({"AWS": format!("arn:aws:iam::{OTHER}:root")}),
        "s3:GetObject",
    );
    let bob_get = bucket_policy("Allow", json!({"AWS": bob_arn}), "s3:GetObject");

    let cases: Vec<Case<'_>> = vec![
        (
            "owner root, nothing attached",
            root(OWNER),
            "s3:GetObject",
            vec![],
            None,
            true,
            R::AccountRoot,
        ),
        (
            "owner root, bucket policy denies",
            root(OWNER),
            "s3:GetObject",
            vec![],
            Some(&deny_everyone),
            false,
            R::ExplicitDenyInBucketPolicy,
        ),
        (
            "owner root can always fix the policy",
            root(OWNER),
            "s3:PutBucketPolicy",
            vec![],
            Some(&deny_everyone),
            true,
            R::BucketOwnerPolicyManagement,
        ),
        (
            "owner root can always delete the policy",
            root(OWNER),
            "s3:DeleteBucketPolicy",
            vec![],
            Some(&deny_everyone),
            true,
            R::BucketOwnerPolicyManagement,
        ),
        (
            "user, nothing attached",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![],
            None,
            false,
            R::ImplicitDeny,
        ),
        (
            "user, identity allows",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![allow_get.clone()],
            None,
            true,
            R::AllowedByIdentityPolicy,
        ),
        (
            "user, identity allows another action",
            user(OWNER, "alice"),
            "s3:PutObject",
            vec![allow_get.clone()],
            None,
            false,
            R::ImplicitDeny,
        ),
        (
            "user, bucket policy names the user",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![],
            Some(&alice_get),
            true,
            R::AllowedByBucketPolicy,
        ),
        (
            "user, bucket policy names everyone",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![],
            Some(&public_get),
            true,
            R::AllowedByBucketPolicy,
        ),
        (
            "user, bucket policy names only the account",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![],
            Some(&owner_account_get),
            false,
            R::ImplicitDeny,
        ),
        (
            "user, account grant plus identity allow",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![allow_get.clone()],
            Some(&owner_account_get),
            true,
            R::AllowedByIdentityPolicy,
        ),
        (
            "user, identity allows, bucket denies",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![allow_get.clone()],
            Some(&deny_everyone),
            false,
            R::ExplicitDenyInBucketPolicy,
        ),
        (
            "user, identity denies, bucket allows",
            user(OWNER, "alice"),
            "s3:GetObject",
            vec![deny_get.clone(), allow_get.clone()],
            Some(&alice_get),
            false,
            R::ExplicitDenyInIdentityPolicy,
        ),
        (
            "user cannot use the owner-root exemption",
            user(OWNER, "alice"),
            "s3:PutBucketPolicy",
            vec![identity("Allow", "s3:*")],
            Some(&deny_everyone),
            false,
            R::ExplicitDenyInBucketPolicy,
        ),
        (
            "anonymous, no policy",
            Principal::Anonymous,
            "s3:GetObject",
            vec![],
            None,
            false,
            R::ImplicitDeny,
        ),
        (
            "anonymous, public read",
            Principal::Anonymous,
            "s3:GetObject",
            vec![],
            Some(&public_get),
            true,
            R::AllowedByBucketPolicy,
        ),
        (
            "anonymous, public read, other action",
            Principal::Anonymous,
            "s3:PutObject",
            vec![],
            Some(&public_get),
            false,
            R::ImplicitDeny,
        ),
        (
            "anonymous, account grant",
            Principal::Anonymous,
            "s3:GetObject",
            vec![],
            Some(&owner_account_get),
            false,
            R::ImplicitDeny,
        ),
        (
            "other root, no bucket policy",
            root(OTHER),
            "s3:GetObject",
            vec![],
            None,
            false,
            R::CrossAccountNotAllowedByBucketPolicy,
        ),
        (
            "other root, bucket grants its account",
            root(OTHER),
            "s3:GetObject",
            vec![],
            Some(&other_account_get),
            true,
            R::AllowedCrossAccount,
        ),
        (
            "other root, public read",
            root(OTHER),
            "s3:GetObject",
            vec![],
            Some(&public_get),
            true,
            R::AllowedCrossAccount,
        ),
        (
            "other root cannot manage the policy",
            root(OTHER),
            "s3:PutBucketPolicy",
            vec![],
            None,
            false,
            R::CrossAccountNotAllowedByBucketPolicy,
        ),
        (
            "other user, identity only",
            user(OTHER, "bob"),
            "s3:GetObject",
            vec![allow_get.clone()],
            None,
            false,
            R::CrossAccountNotAllowedByBucketPolicy,
        ),
        (
            "other user, bucket grants account, no identity",
            user(OTHER, "bob"),
            "s3:GetObject",
            vec![],
            Some(&other_account_get),
            false,
            R::CrossAccountNotAllowedByIdentityPolicy,
        ),
        (
            "other user, bucket grants account and identity allows",
            user(OTHER, "bob"),
            "s3:GetObject",
            vec![allow_get.clone()],
            Some(&other_account_get),
            true,
            R::AllowedCrossAccount,
        ),
        (
            "other user, bucket grants the user and identity allows",
            user(OTHER, "bob"),
            "s3:GetObject",
            vec![allow_get.clone()],
            Some(&bob_get),
            true,
            R::AllowedCrossAccount,
        ),
        (
            "other user, bucket grants the user, no identity",
            user(OTHER, "bob"),
            "s3:GetObject",
            vec![],
            Some(&bob_get),
            false,
            R::CrossAccountNotAllowedByIdentityPolicy,
        ),
        (
            "other user, public read needs identity too",
            user(OTHER, "bob"),
            "s3:GetObject",
            vec![],
            Some(&public_get),
            false,
            R::CrossAccountNotAllowedByIdentityPolicy,
        ),
        (
            "other user, grant to another user",
            user(OTHER, "carol"),
            "s3:GetObject",
            vec![allow_get.clone()],
            Some(&bob_get),
            false,
            R::CrossAccountNotAllowedByBucketPolicy,
        ),
        (
            "other user, identity denies",
            user(OTHER, "bob"),
            "s3:GetObject",
            vec![deny_get],
            Some(&public_get),
            false,
            R::ExplicitDenyInIdentityPolicy,
        ),
    ];
    for (name, principal, action, identity_policies, bucket, allowed, reason) in cases {
        let decision = decide(principal, action, &identity_policies, bucket);
        assert_eq!(decision, AccessDecision { allowed, reason }, "{name}");
    }
}

#[test]
fn requests_on_no_bucket_are_within_the_callers_account() {
    let list_all = IdentityPolicy::parse(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "arn:aws:s3:::*"}}"#,
    )
    .unwrap();
    let decide = |principal: Principal, identity_policies: &[IdentityPolicy]| {
        let context = RequestContext::new("s3:ListAllMyBuckets", ALL_BUCKETS_ARN, principal);
        authorize(
            &context,
            &ApplicablePolicies {
                identity_policies,
                bucket_policy: None,
                bucket_owner_account_id: None,
            },
        )
    };
    assert_eq!(decide(root(OWNER), &[]).reason, DecisionReason::AccountRoot);
    assert!(decide(user(OWNER, "alice"), std::slice::from_ref(&list_all)).allowed);
    assert!(!decide(user(OWNER, "alice"), &[]).allowed);
    assert!(!decide(Principal::Anonymous, &[]).allowed);
    // A root on no bucket cannot invoke the bucket-policy exemption.
    let context = RequestContext::new("s3:PutBucketPolicy", "arn:aws:s3:::x", root(OWNER));
    let denied = IdentityPolicy::parse(
        r#"{"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}}"#,
    )
    .unwrap();
    let decision = authorize(
        &context,
        &ApplicablePolicies {
            identity_policies: &[denied],
            bucket_policy: None,
            bucket_owner_account_id: None,
        },
    );
    assert_eq!(
        decision.reason,
        DecisionReason::ExplicitDenyInIdentityPolicy
    );
}

#[test]
fn conditions_apply_across_policies() {
    let https_only = BucketPolicy::parse(
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": format!("{}/*", bucket_arn(BUCKET)),
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{}/*", bucket_arn(BUCKET))}
        ]})
        .to_string(),
        BUCKET,
    )
    .unwrap();
    let policies = ApplicablePolicies {
        identity_policies: &[],
        bucket_policy: Some(&https_only),
        bucket_owner_account_id: Some(OWNER),
    };
    let context = RequestContext::new(
        "s3:GetObject",
        object_arn(BUCKET, "k"),
        Principal::Anonymous,
    );
    assert!(authorize(&context.clone().with_secure_transport(true), &policies).allowed);
    let plain = authorize(&context.with_secure_transport(false), &policies);
    assert_eq!(plain.reason, DecisionReason::ExplicitDenyInBucketPolicy);
}

#[test]
fn decisions_serialize_for_logs() {
    let decision = AccessDecision {
        allowed: false,
        reason: DecisionReason::ImplicitDeny,
    };
    assert_eq!(
        serde_json::to_string(&decision).unwrap(),
        r#"{"allowed":false,"reason":"ImplicitDeny"}"#
    );
}
