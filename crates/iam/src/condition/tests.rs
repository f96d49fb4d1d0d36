//! Condition operator tests, one family at a time, following AWS's documented semantics.

use serde_json::json;

use super::*;
use crate::principal::{Principal, UserIdentity};

fn context() -> RequestContext {
    let user = Principal::User(UserIdentity {
        account_id: "123456789012345".into(),
        user_name: "alice".into(),
        user_id: "AIDAALICE".into(),
        path: "/".into(),
    });
    RequestContext::new("s3:ListBucket", "arn:aws:s3:::b", user)
}

fn holds(block: &serde_json::Value, context: &RequestContext) -> bool {
    let conditions = parse_block(block, true).expect("condition block parses");
    all_hold(&conditions, context)
}

#[test]
fn string_operators() {
    let c = context().with("s3:prefix", "Home/alice/");
    assert!(holds(
        &json!({"StringEquals": {"s3:prefix": "Home/alice/"}}),
        &c
    ));
    assert!(!holds(
        &json!({"StringEquals": {"s3:prefix": "home/alice/"}}),
        &c
    ));
    assert!(holds(
        &json!({"StringEquals": {"S3:PREFIX": ["x", "Home/alice/"]}}),
        &c
    ));
    assert!(holds(
        &json!({"StringEqualsIgnoreCase": {"s3:prefix": "HOME/ALICE/"}}),
        &c
    ));
    assert!(!holds(
        &json!({"StringNotEqualsIgnoreCase": {"s3:prefix": "home/ALICE/"}}),
        &c
    ));
    assert!(holds(
        &json!({"StringNotEquals": {"s3:prefix": ["a", "b"]}}),
        &c
    ));
    // NOR over the listed values.
    assert!(!holds(
        &json!({"StringNotEquals": {"s3:prefix": ["a", "Home/alice/"]}}),
        &c
    ));
    assert!(holds(&json!({"StringLike": {"s3:prefix": "Home/*/"}}), &c));
    assert!(holds(
        &json!({"StringLike": {"s3:prefix": "Home/al?ce/"}}),
        &c
    ));
    assert!(!holds(&json!({"StringLike": {"s3:prefix": "home/*"}}), &c));
    assert!(holds(
        &json!({"StringNotLike": {"s3:prefix": "other/*"}}),
        &c
    ));
    assert!(!holds(
        &json!({"StringNotLike": {"s3:prefix": "Home/*"}}),
        &c
    ));
    // StringEquals does not read wildcards.
    assert!(!holds(
        &json!({"StringEquals": {"s3:prefix": "Home/*"}}),
        &c
    ));
}

#[test]
fn missing_keys() {
    let c = context();
    assert!(!holds(&json!({"StringEquals": {"s3:prefix": "a"}}), &c));
    assert!(!holds(&json!({"StringLike": {"s3:prefix": "*"}}), &c));
    // Negated operators hold when the key is missing.
    assert!(holds(&json!({"StringNotEquals": {"s3:prefix": "a"}}), &c));
    assert!(holds(&json!({"StringNotLike": {"s3:prefix": "*"}}), &c));
    assert!(holds(
        &json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        &c
    ));
    assert!(holds(
        &json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
        &c
    ));
    assert!(holds(
        &json!({"NumericNotEquals": {"s3:max-keys": "10"}}),
        &c
    ));
    assert!(!holds(
        &json!({"NumericLessThan": {"s3:max-keys": "10"}}),
        &c
    ));
    assert!(!holds(
        &json!({"Bool": {"aws:SecureTransport": "false"}}),
        &c
    ));
}

#[test]
fn if_exists() {
    let without = context();
    let with = context().with("s3:prefix", "docs/");
    let block = json!({"StringLikeIfExists": {"s3:prefix": "home/*"}});
    assert!(holds(&block, &without));
    assert!(!holds(&block, &with));
    let negated = json!({"StringNotEqualsIfExists": {"s3:prefix": "docs/"}});
    assert!(holds(&negated, &without));
    assert!(!holds(&negated, &with));
    let numeric = json!({"NumericLessThanEqualsIfExists": {"s3:max-keys": 100}});
    assert!(holds(&numeric, &without));
    assert!(holds(&numeric, &without.clone().with("s3:max-keys", "100")));
    assert!(!holds(&numeric, &without.with("s3:max-keys", "101")));
}

#[test]
fn null_checks_presence() {
    let without = context();
    let with = context().with("s3:x-amz-server-side-encryption", "AES256");
    let absent = json!({"Null": {"s3:x-amz-server-side-encryption": "true"}});
    let present = json!({"Null": {"s3:x-amz-server-side-encryption": false}});
    assert!(holds(&absent, &without));
    assert!(!holds(&absent, &with));
    assert!(!holds(&present, &without));
    assert!(holds(&present, &with));
    let mut empty = context();
    empty.set("s3:RequestObjectTagKeys", Vec::<String>::new());
    assert!(holds(
        &json!({"Null": {"s3:RequestObjectTagKeys": "true"}}),
        &empty
    ));
}

#[test]
fn numeric_operators() {
    let c = context().with("s3:max-keys", "50");
    assert!(holds(&json!({"NumericEquals": {"s3:max-keys": "50"}}), &c));
    assert!(holds(&json!({"NumericEquals": {"s3:max-keys": 50.0}}), &c));
    assert!(holds(
        &json!({"NumericNotEquals": {"s3:max-keys": ["10", "20"]}}),
        &c
    ));
    assert!(holds(
        &json!({"NumericLessThan": {"s3:max-keys": "51"}}),
        &c
    ));
    assert!(!holds(
        &json!({"NumericLessThan": {"s3:max-keys": "50"}}),
        &c
    ));
    assert!(holds(
        &json!({"NumericLessThanEquals": {"s3:max-keys": "50"}}),
        &c
    ));
    assert!(holds(
        &json!({"NumericGreaterThan": {"s3:max-keys": "49.5"}}),
        &c
    ));
    assert!(holds(
        &json!({"NumericGreaterThanEquals": {"s3:max-keys": "50"}}),
        &c
    ));
    assert!(!holds(
        &json!({"NumericGreaterThan": {"s3:max-keys": "50"}}),
        &c
    ));
    let garbage = context().with("s3:max-keys", "lots");
    assert!(!holds(
        &json!({"NumericLessThan": {"s3:max-keys": "1000"}}),
        &garbage
    ));
}

#[test]
fn date_operators() {
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let c = context().with_current_time(now);
    assert!(holds(
        &json!({"DateGreaterThan": {"aws:CurrentTime": "2023-01-01T00:00:00Z"}}),
        &c
    ));
    assert!(holds(
        &json!({"DateLessThan": {"aws:CurrentTime": "2024-01-01"}}),
        &c
    ));
    assert!(!holds(
        &json!({"DateLessThan": {"aws:CurrentTime": "2023-01-01T00:00:00Z"}}),
        &c
    ));
    assert!(holds(
        &json!({"DateEquals": {"aws:CurrentTime": "2023-11-14T22:13:20Z"}}),
        &c
    ));
    assert!(holds(
        &json!({"DateEquals": {"aws:EpochTime": "2023-11-14T22:13:20Z"}}),
        &c
    ));
    assert!(holds(
        &json!({"DateLessThanEquals": {"aws:EpochTime": 1_700_000_000}}),
        &c
    ));
    assert!(holds(
        &json!({"DateGreaterThanEquals": {"aws:EpochTime": "1700000000"}}),
        &c
    ));
    assert!(holds(
        &json!({"DateNotEquals": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
        &c
    ));
}

#[test]
fn bool_and_binary() {
    let secure = context().with_secure_transport(true);
    let plain = context().with_secure_transport(false);
    let deny_plain = json!({"Bool": {"aws:SecureTransport": "false"}});
    assert!(!holds(&deny_plain, &secure));
    assert!(holds(&deny_plain, &plain));
    assert!(holds(
        &json!({"Bool": {"aws:SecureTransport": true}}),
        &secure
    ));
    assert!(holds(
        &json!({"Bool": {"aws:SecureTransport": "TRUE"}}),
        &secure.clone().with("aws:SecureTransport", "True")
    ));
    let binary = context().with("x:blob", "QmluYXJ5");
    assert!(holds(
        &json!({"BinaryEquals": {"x:blob": "QmluYXJ5"}}),
        &binary
    ));
    assert!(!holds(
        &json!({"BinaryEquals": {"x:blob": "qmluyxj5"}}),
        &binary
    ));
}

#[test]
fn ip_operators() {
    let v4 = context().with_source_ip("192.0.2.10".parse().unwrap());
    let v6 = context().with_source_ip("2001:db8:85a3::8a2e:370:7334".parse().unwrap());
    let allow = json!({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}});
    assert!(holds(&allow, &v4));
    assert!(holds(&allow, &v6));
    let deny = json!({"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}});
    assert!(!holds(&deny, &v4));
    assert!(!holds(&deny, &v6));
    let other = context().with_source_ip("2001:db9::1".parse().unwrap());
    assert!(!holds(&allow, &other));
    assert!(holds(&deny, &other));
    assert!(holds(
        &json!({"IpAddress": {"aws:SourceIp": "2001:db8:85a3::8a2e:370:7334/128"}}),
        &v6
    ));
}

#[test]
fn arn_operators() {
    let c = context().with(
        "aws:SourceArn",
        "arn:aws:iam::123456789012345:user/team/bob",
    );
    assert!(holds(
        &json!({"ArnEquals": {"aws:SourceArn": "arn:aws:iam::123456789012345:user/team/bob"}}),
        &c
    ));
    assert!(holds(
        &json!({"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:user/team/*"}}),
        &c
    ));
    assert!(holds(
        &json!({"ArnLike": {"aws:SourceArn": "arn:aws:iam::123456789012???:user/*"}}),
        &c
    ));
    assert!(!holds(
        &json!({"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:user/other/*"}}),
        &c
    ));
    // A `*` does not reach across the colon-separated components.
    assert!(!holds(
        &json!({"ArnLike": {"aws:SourceArn": "arn:aws:*:user/team/bob"}}),
        &c
    ));
    assert!(holds(
        &json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
        &c
    ));
    assert!(!holds(
        &json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:iam::*:user/team/bob"}}),
        &c
    ));
    let not_an_arn = context().with("aws:SourceArn", "bob");
    assert!(!holds(
        &json!({"ArnLike": {"aws:SourceArn": "*:*:*:*:*:*"}}),
        &not_an_arn
    ));
}

#[test]
fn set_operators() {
    let mut tagged = context();
    tagged.set("s3:RequestObjectTagKeys", ["project", "owner"]);
    let all_allowed = json!({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["project", "owner", "cost"]}});
    let any_owner = json!({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": "owner"}});
    let all_project = json!({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": "project"}});
    assert!(holds(&all_allowed, &tagged));
    assert!(holds(&any_owner, &tagged));
    assert!(!holds(&all_project, &tagged));
    // Missing (or empty) key: ForAllValues holds, ForAnyValue does not.
    let untagged = context();
    assert!(holds(&all_project, &untagged));
    assert!(!holds(&any_owner, &untagged));
    let mut empty = context();
    empty.set("s3:RequestObjectTagKeys", Vec::<String>::new());
    assert!(holds(&all_project, &empty));
    assert!(!holds(&any_owner, &empty));
    // Negated set operators: each value is tested against the NOR of the policy values.
    let none_secret =
        json!({"ForAllValues:StringNotEquals": {"s3:RequestObjectTagKeys": "secret"}});
    assert!(holds(&none_secret, &tagged));
    let any_not_owner = json!({"ForAnyValue:StringNotLike": {"s3:RequestObjectTagKeys": "own*"}});
    assert!(holds(&any_not_owner, &tagged));
    let mut only_owner = context();
    only_owner.set("s3:RequestObjectTagKeys", ["owner"]);
    assert!(!holds(&any_not_owner, &only_owner));
    assert!(!holds(
        &json!({"ForAnyValue:StringNotLike": {"s3:RequestObjectTagKeys": "x"}}),
        &untagged
    ));
    assert!(holds(
        &json!({"ForAnyValue:StringEqualsIfExists": {"s3:RequestObjectTagKeys": "x"}}),
        &untagged
    ));
}

#[test]
fn blocks_and_keys_are_anded() {
    let c = context()
        .with_secure_transport(true)
        .with("s3:prefix", "a/");
    let both =
        json!({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"s3:prefix": "a/"}});
    assert!(holds(&both, &c));
    let one_fails =
        json!({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"s3:prefix": "b/"}});
    assert!(!holds(&one_fails, &c));
    let two_keys = json!({"StringEquals": {"s3:prefix": "a/", "aws:username": "bob"}});
    assert!(!holds(&two_keys, &c));
    assert!(holds(&json!({}), &c));
}

#[test]
fn variables_in_values() {
    let c = context().with("s3:prefix", "home/alice/photos");
    assert!(holds(
        &json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
        &c
    ));
    assert!(holds(
        &json!({"StringEquals": {"aws:userid": "${aws:userid}"}}),
        &c
    ));
    let anonymous = RequestContext::new("s3:ListBucket", "arn:aws:s3:::b", Principal::Anonymous)
        .with("s3:prefix", "home/x/");
    assert!(!holds(
        &json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
        &anonymous
    ));
    // In 2008-10-17 policies the text is literal.
    let conditions = parse_block(
        &json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
        false,
    )
    .unwrap();
    assert!(!all_hold(&conditions, &c));
    assert!(all_hold(
        &conditions,
        &context().with("s3:prefix", "home/${aws:username}/x")
    ));
}

#[test]
fn operator_names() {
    assert!(Operator::parse("ForAnyValue:StringLikeIfExists").is_some());
    assert!(Operator::parse("stringequals").is_some());
    for bad in [
        "StringMatches",
        "NullIfExists",
        "ForAllValues:Null",
        "ForSomeValues:StringEquals",
        "IfExists",
        "",
    ] {
        assert_eq!(Operator::parse(bad), None, "{bad}");
    }
}

#[test]
fn malformed_blocks() {
    let err = |block: serde_json::Value| parse_block(&block, true).unwrap_err();
    assert!(matches!(
        err(json!({"StringEquality": {"k:k": "v"}})),
        PolicyError::InvalidConditionOperator(_)
    ));
    assert!(matches!(
        err(json!({"NumericEquals": {"s3:max-keys": "ten"}})),
        PolicyError::InvalidConditionValue { .. }
    ));
    assert!(matches!(
        err(json!({"DateEquals": {"aws:CurrentTime": "soon"}})),
        PolicyError::InvalidConditionValue { .. }
    ));
    assert!(matches!(
        err(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/40"}})),
        PolicyError::InvalidConditionValue { .. }
    ));
    assert!(matches!(
        err(json!({"Bool": {"aws:SecureTransport": "yes"}})),
        PolicyError::InvalidConditionValue { .. }
    ));
    assert!(matches!(
        err(json!({"StringEquals": {"k:k": []}})),
        PolicyError::EmptyElement(_)
    ));
    assert!(matches!(
        err(json!({"StringEquals": {"k:k": {"a": 1}}})),
        PolicyError::WrongType { .. }
    ));
    assert!(matches!(
        err(json!({"StringEquals": "v"})),
        PolicyError::WrongType { .. }
    ));
    assert!(matches!(
        err(json!(["StringEquals"])),
        PolicyError::WrongType { .. }
    ));
    assert!(matches!(
        err(json!({"StringEquals": {"": "v"}})),
        PolicyError::InvalidConditionKey(_)
    ));
}
