//! Parsing: good documents of both kinds, and each kind of malformed document.

use serde_json::json;

use super::*;
use crate::principal::{Principal, UserIdentity};

pub(super) const ACCOUNT: &str = "123456789012345";

pub(super) fn user(name: &str) -> Principal {
    Principal::User(UserIdentity {
        account_id: ACCOUNT.into(),
        user_name: name.into(),
        user_id: format!("AIDA{}", name.to_uppercase()),
        path: "/".into(),
    })
}

pub(super) fn identity(document: &serde_json::Value) -> Result<IdentityPolicy, PolicyError> {
    IdentityPolicy::parse(&document.to_string())
}

pub(super) fn bucket(document: &serde_json::Value) -> Result<BucketPolicy, PolicyError> {
    BucketPolicy::parse(&document.to_string(), "examplebucket")
}

pub(super) fn statement(fields: serde_json::Value) -> serde_json::Value {
    let mut document = json!({"Version": "2012-10-17"});
    document["Statement"] = fields;
    document
}

/// A document's parse result and a test of the error it should give.
type MalformedCase = (
    Result<IdentityPolicy, PolicyError>,
    fn(&PolicyError) -> bool,
);

#[test]
fn parses_single_statement_objects_and_lists() {
    let single = identity(&json!({
        "Version": "2012-10-17",
        "Id": "p1",
        "Statement": {"Sid": "One", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    }))
    .unwrap();
    let policy = single.policy();
    assert_eq!(policy.version(), Some(Version::V2012_10_17));
    assert_eq!(policy.id(), Some("p1"));
    assert_eq!(policy.statements().len(), 1);
    assert_eq!(policy.statements()[0].sid(), Some("One"));
    assert_eq!(policy.statements()[0].effect(), Effect::Allow);

    let list = identity(&json!({
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": ["arn:aws:s3:::a", "arn:aws:s3:::a/*"]},
            {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:iam::123456789012345:user/x"}
        ]
    }))
    .unwrap();
    assert_eq!(list.policy().version(), None);
    assert_eq!(list.policy().statements()[1].effect(), Effect::Deny);
    let old = identity(
        &json!({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
    );
    assert_eq!(old.unwrap().policy().version(), Some(Version::V2008_10_17));
}

#[test]
fn parses_bucket_policies_with_every_principal_form() {
    let policy = bucket(&statement(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::examplebucket/*"},
        {"Effect": "Allow", "Principal": {"AWS": ["123456789012345", "arn:aws:iam::111122223333:root",
            "arn:aws:iam::123456789012345:user/ops/alice"]}, "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::examplebucket"},
        {"Effect": "Deny", "NotPrincipal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
            "Action": "s3:*", "Resource": ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"]},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}
    ])));
    assert_eq!(policy.unwrap().policy().statements().len(), 4);
}

#[test]
fn refuses_malformed_documents() {
    let allow_all = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
    let cases: Vec<MalformedCase> = vec![
        (IdentityPolicy::parse("{"), |e| {
            matches!(e, PolicyError::InvalidJson(_))
        }),
        (IdentityPolicy::parse("[]"), |e| {
            matches!(e, PolicyError::NotAnObject)
        }),
        (identity(&json!({"Version": "2012-10-17"})), |e| {
            matches!(e, PolicyError::MissingField("Statement"))
        }),
        (identity(&json!({"Statement": []})), |e| {
            matches!(e, PolicyError::EmptyElement(_))
        }),
        (identity(&json!({"Statement": "x"})), |e| {
            matches!(e, PolicyError::WrongType { .. })
        }),
        (identity(&json!({"Statement": ["x"]})), |e| {
            matches!(e, PolicyError::WrongType { .. })
        }),
        (
            identity(&json!({"Version": "2020-01-01", "Statement": allow_all})),
            |e| matches!(e, PolicyError::InvalidVersion(_)),
        ),
        (
            identity(&json!({"Version": 2012, "Statement": allow_all})),
            |e| matches!(e, PolicyError::WrongType { .. }),
        ),
        (
            identity(&json!({"version": "2012-10-17", "Statement": allow_all})),
            |e| matches!(e, PolicyError::UnknownField { field } if field == "version"),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Extra": 1}),
            )),
            |e| matches!(e, PolicyError::UnknownField { field } if field == "Extra"),
        ),
        (
            identity(&statement(json!({"Action": "s3:*", "Resource": "*"}))),
            |e| matches!(e, PolicyError::MissingField("Effect")),
        ),
        (
            identity(&statement(
                json!({"Effect": "allow", "Action": "s3:*", "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::InvalidEffect(_)),
        ),
        (
            identity(&statement(json!({"Effect": "Allow", "Resource": "*"}))),
            |e| matches!(e, PolicyError::MissingField("Action")),
        ),
        (
            identity(&statement(json!({"Effect": "Allow", "Action": "s3:*"}))),
            |e| matches!(e, PolicyError::MissingField("Resource")),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::ConflictingElements("Action", "NotAction")),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": [], "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::EmptyElement(_)),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": 3, "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::WrongType { .. }),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::InvalidAction(_)),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::InvalidAction(_)),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket/*"}),
            )),
            |e| matches!(e, PolicyError::InvalidResource(_)),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:ec2:::x"}),
            )),
            |e| matches!(e, PolicyError::InvalidResource(_)),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::PrincipalNotAllowed),
        ),
        (
            identity(&statement(
                json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEqualz": {"s3:prefix": "a"}}}),
            )),
            |e| matches!(e, PolicyError::InvalidConditionOperator(_)),
        ),
        (
            identity(&statement(
                json!([{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]),
            )),
            |e| matches!(e, PolicyError::DuplicateSid(_)),
        ),
        (
            identity(&statement(
                json!({"Sid": 1, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            )),
            |e| matches!(e, PolicyError::WrongType { .. }),
        ),
    ];
    for (index, (result, expected)) in cases.into_iter().enumerate() {
        let error = result.expect_err(&format!("case {index} should fail"));
        assert!(expected(&error), "case {index}: unexpected {error:?}");
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn refuses_malformed_bucket_policies() {
    let missing_principal = bucket(&statement(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    ));
    assert_eq!(
        missing_principal.unwrap_err(),
        PolicyError::MissingField("Principal")
    );
    let both = bucket(&statement(
        json!({"Effect": "Allow", "Principal": "*", "NotPrincipal": "*",
        "Action": "s3:*", "Resource": "*"}),
    ));
    assert_eq!(
        both.unwrap_err(),
        PolicyError::ConflictingElements("Principal", "NotPrincipal")
    );
    let bad_principal = bucket(&statement(
        json!({"Effect": "Allow", "Principal": {"AWS": "bob"},
        "Action": "s3:*", "Resource": "*"}),
    ));
    assert_eq!(
        bad_principal.unwrap_err(),
        PolicyError::InvalidPrincipal("bob".into())
    );
    let iam_action = bucket(&statement(
        json!({"Effect": "Allow", "Principal": "*", "Action": "iam:CreateUser",
        "Resource": "*"}),
    ));
    assert!(matches!(
        iam_action.unwrap_err(),
        PolicyError::InvalidAction(_)
    ));
    let iam_resource = bucket(&statement(
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
        "Resource": "arn:aws:iam::123456789012345:user/x"}),
    ));
    assert!(matches!(
        iam_resource.unwrap_err(),
        PolicyError::InvalidResource(_)
    ));
    let other_bucket = bucket(&statement(
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
        "Resource": "arn:aws:s3:::otherbucket/*"}),
    ));
    assert!(matches!(
        other_bucket.unwrap_err(),
        PolicyError::ResourceOutsideBucket { .. }
    ));
    let prefix_bucket = bucket(&statement(
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
        "Resource": "arn:aws:s3:::examplebucketx"}),
    ));
    assert!(matches!(
        prefix_bucket.unwrap_err(),
        PolicyError::ResourceOutsideBucket { .. }
    ));
    for fine in [
        "arn:aws:s3:::example*",
        "arn:aws:s3:::*/*",
        "arn:aws:s3:::examplebucket/${aws:username}/*",
    ] {
        let ok = bucket(&statement(
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": fine}),
        ));
        assert!(ok.is_ok(), "{fine}");
    }
    let big = format!(
        r#"{{"Statement": [], "Id": "{}"}}"#,
        "x".repeat(BUCKET_POLICY_MAX_BYTES)
    );
    assert_eq!(
        BucketPolicy::parse(&big, "b").unwrap_err(),
        PolicyError::TooLarge {
            limit: BUCKET_POLICY_MAX_BYTES
        }
    );
    let big = format!(
        r#"{{"Statement": [], "Id": "{}"}}"#,
        "x".repeat(IDENTITY_POLICY_MAX_CHARS)
    );
    assert!(matches!(
        IdentityPolicy::parse(&big),
        Err(PolicyError::TooLarge { .. })
    ));
}
