//! AWS's documented example policies, and evaluation rules within one policy.

use serde_json::json;

use super::tests::{ACCOUNT, bucket, identity, statement, user};
use super::*;
use crate::principal::Principal;

/// AWS example: grant read-only permission to anonymous users on a prefix.
#[test]
fn example_public_read_on_a_prefix() {
    let policy = bucket(&statement(json!([{
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": ["arn:aws:s3:::examplebucket/public/*"]
    }])))
    .unwrap();
    let read = |resource: &str| RequestContext::new("s3:GetObject", resource, Principal::Anonymous);
    assert_eq!(
        policy.evaluate(&read("arn:aws:s3:::examplebucket/public/a.png")),
        Decision::Allow
    );
    assert_eq!(
        policy.evaluate(&read("arn:aws:s3:::examplebucket/private/a.png")),
        Decision::NotApplicable
    );
    let write = RequestContext::new(
        "s3:PutObject",
        "arn:aws:s3:::examplebucket/public/a.png",
        Principal::Anonymous,
    );
    assert_eq!(policy.evaluate(&write), Decision::NotApplicable);
    assert!(policy.is_public());
}

/// AWS example: deny every request that does not use TLS.
#[test]
fn example_deny_insecure_transport() {
    let policy = bucket(&statement(json!({
        "Sid": "AllowSSLRequestsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    })))
    .unwrap();
    let request = RequestContext::new(
        "s3:GetObject",
        "arn:aws:s3:::examplebucket/k",
        user("alice"),
    );
    assert_eq!(
        policy.evaluate(&request.clone().with_secure_transport(false)),
        Decision::Deny
    );
    assert_eq!(
        policy.evaluate(&request.with_secure_transport(true)),
        Decision::NotApplicable
    );
}

/// AWS example: allow from an IPv4 range and an IPv6 range, excluding one IPv4 subnet.
#[test]
fn example_source_ip_restriction() {
    let policy = bucket(&statement(json!({
        "Sid": "IPAllow",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"],
        "Condition": {
            "IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:DB8:1234:5678::/64"]},
            "NotIpAddress": {"aws:SourceIp": "192.0.2.188/32"}
        }
    })))
    .unwrap();
    let from = |ip: &str| {
        RequestContext::new(
            "s3:GetObject",
            "arn:aws:s3:::examplebucket/k",
            Principal::Anonymous,
        )
        .with_source_ip(ip.parse().unwrap())
    };
    assert_eq!(policy.evaluate(&from("192.0.2.10")), Decision::Allow);
    assert_eq!(
        policy.evaluate(&from("192.0.2.188")),
        Decision::NotApplicable
    );
    assert_eq!(
        policy.evaluate(&from("203.0.113.1")),
        Decision::NotApplicable
    );
    assert_eq!(
        policy.evaluate(&from("2001:db8:1234:5678::99")),
        Decision::Allow
    );
    assert_eq!(
        policy.evaluate(&from("2001:db8:1234:5679::1")),
        Decision::NotApplicable
    );
    assert!(!policy.is_public());
}

/// AWS example: each user gets a home folder, found through `${aws:username}`.
#[test]
fn example_home_directories() {
    let policy = identity(&json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowRootAndHomeListingOfCompanyBucket",
                "Action": ["s3:ListBucket"],
                "Effect": "Allow",
                "Resource": ["arn:aws:s3:::examplebucket"],
                "Condition": {"StringEquals": {"s3:prefix": ["", "home/"], "s3:delimiter": ["/"]}}
            },
            {
                "Sid": "AllowListingOfUserFolder",
                "Action": ["s3:ListBucket"],
                "Effect": "Allow",
                "Resource": ["arn:aws:s3:::examplebucket"],
                "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "home/${aws:username}"]}}
            },
            {
                "Sid": "AllowAllS3ActionsInUserFolder",
                "Effect": "Allow",
                "Action": ["s3:*"],
                "Resource": ["arn:aws:s3:::examplebucket/home/${aws:username}/*"]
            }
        ]
    }))
    .unwrap();
    let list = |who: &str, prefix: &str, delimiter: Option<&str>| {
        let mut context =
            RequestContext::new("s3:ListBucket", "arn:aws:s3:::examplebucket", user(who))
                .with("s3:prefix", prefix);
        if let Some(delimiter) = delimiter {
            context = context.with("s3:delimiter", delimiter);
        }
        policy.evaluate(&context)
    };
    assert_eq!(list("alice", "", Some("/")), Decision::Allow);
    assert_eq!(list("alice", "home/", Some("/")), Decision::Allow);
    assert_eq!(list("alice", "home/", None), Decision::NotApplicable);
    assert_eq!(list("alice", "home/alice/docs/", None), Decision::Allow);
    assert_eq!(list("alice", "home/alice", None), Decision::Allow);
    assert_eq!(list("alice", "home/bob/", None), Decision::NotApplicable);
    let object = |who: &str, action: &str, key: &str| {
        let resource = format!("arn:aws:s3:::examplebucket/{key}");
        policy.evaluate(&RequestContext::new(action, resource, user(who)))
    };
    assert_eq!(
        object("alice", "s3:PutObject", "home/alice/a.txt"),
        Decision::Allow
    );
    assert_eq!(
        object("alice", "s3:GetObject", "home/bob/a.txt"),
        Decision::NotApplicable
    );
    assert_eq!(
        object("bob", "s3:DeleteObject", "home/bob/a.txt"),
        Decision::Allow
    );
    // The root has no user name: the variable does not resolve and the statement matches nothing.
    let root = Principal::AccountRoot {
        account_id: ACCOUNT.into(),
    };
    let context = RequestContext::new("s3:GetObject", "arn:aws:s3:::examplebucket/home//a", root);
    assert_eq!(policy.evaluate(&context), Decision::NotApplicable);
}

/// Policy variables are literal text in a `2008-10-17` (or version-less) policy.
#[test]
fn variables_need_the_2012_version() {
    let document = |version: Option<&str>| {
        let mut doc = json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/*"}});
        if let Some(version) = version {
            doc["Version"] = json!(version);
        }
        identity(&doc).unwrap()
    };
    let request = RequestContext::new("s3:GetObject", "arn:aws:s3:::b/alice/x", user("alice"));
    let literal = RequestContext::new(
        "s3:GetObject",
        "arn:aws:s3:::b/${aws:username}/x",
        user("alice"),
    );
    assert_eq!(
        document(Some("2012-10-17")).evaluate(&request),
        Decision::Allow
    );
    assert_eq!(
        document(Some("2008-10-17")).evaluate(&request),
        Decision::NotApplicable
    );
    assert_eq!(document(None).evaluate(&request), Decision::NotApplicable);
    assert_eq!(document(None).evaluate(&literal), Decision::Allow);
}

#[test]
fn not_action_and_not_resource() {
    let policy = identity(&statement(json!([
        {"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::mine", "arn:aws:s3:::mine/*"]}
    ])))
    .unwrap();
    let decide = |action: &str, resource: &str| {
        policy.evaluate(&RequestContext::new(action, resource, user("a")))
    };
    assert_eq!(
        decide("s3:GetObject", "arn:aws:s3:::mine/k"),
        Decision::Allow
    );
    assert_eq!(
        decide("s3:DeleteObject", "arn:aws:s3:::mine/k"),
        Decision::NotApplicable
    );
    assert_eq!(
        decide("s3:GetObject", "arn:aws:s3:::theirs/k"),
        Decision::Deny
    );
    assert_eq!(
        decide("iam:ListUsers", "arn:aws:iam::123456789012345:user/x"),
        Decision::Allow
    );
}

#[test]
fn actions_match_case_insensitively_and_resources_case_sensitively() {
    let policy = identity(&statement(
        json!({"Effect": "Allow", "Action": "S3:GETOBJECT",
        "Resource": "arn:aws:s3:::Bucket/*"}),
    ))
    .unwrap();
    let decide = |action: &str, resource: &str| {
        policy.evaluate(&RequestContext::new(action, resource, user("a")))
    };
    assert_eq!(
        decide("s3:GetObject", "arn:aws:s3:::Bucket/k"),
        Decision::Allow
    );
    assert_eq!(
        decide("s3:getobject", "arn:aws:s3:::Bucket/k"),
        Decision::Allow
    );
    assert_eq!(
        decide("s3:GetObject", "arn:aws:s3:::bucket/k"),
        Decision::NotApplicable
    );
}

#[test]
fn deny_beats_allow_within_a_policy() {
    let policy = identity(&statement(json!([
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
    ])))
    .unwrap();
    let decide =
        |action: &str| policy.evaluate(&RequestContext::new(action, "arn:aws:s3:::b", user("a")));
    assert_eq!(decide("s3:ListBucket"), Decision::Allow);
    assert_eq!(decide("s3:DeleteBucket"), Decision::Deny);
}
