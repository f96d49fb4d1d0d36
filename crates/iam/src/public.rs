//! Whether a bucket policy is "public" as S3 defines it (`GetBucketPolicyStatus` `IsPublic`,
//! and what Block Public Access refuses).
//!
//! S3 starts from "public" and looks for trust: an `Allow` statement is non-public when it names
//! fixed principals, when it is restricted by a fixed value of a condition key that identifies
//! a trusted party (source IP range, source account/ARN/VPC, principal account/ARN, user id,
//! KMS key), or when it grants none of the "bad actions" that expose data (`s3:Get*`,
//! `s3:List*`, `s3:Put*`, `s3:Delete*`, `s3:AbortMultipartUpload`, `s3:RestoreObject`).
//! A policy is public when any `Allow` statement is public.

use crate::action::S3_ACTIONS;
use crate::condition::{Condition, Family, Values};
use crate::policy::{Effect, Policy, PrincipalElement, Statement};
use crate::variable::Template;

/// Condition keys whose fixed value restricts a statement to a trusted party (lower case).
const TRUSTED_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
];

/// Shortest IPv4 / IPv6 prefixes accepted as a restriction: wider ranges cover too much of the
/// internet to name anyone in particular.
const MIN_IPV4_PREFIX: u8 = 8;
const MIN_IPV6_PREFIX: u8 = 32;

/// Whether `policy` grants anything to everyone without a restricting condition.
pub(crate) fn is_public(policy: &Policy) -> bool {
    policy.statements().iter().any(is_public_statement)
}

fn is_public_statement(statement: &Statement) -> bool {
    statement.effect() == Effect::Allow
        && statement
            .principal()
            .is_some_and(PrincipalElement::is_everyone)
        && grants_bad_action(statement)
        && !statement
            .conditions()
            .iter()
            .any(restricts_to_trusted_party)
}

fn is_bad_action(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["get", "list", "put", "delete"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
        || lower == "abortmultipartupload"
        || lower == "restoreobject"
}

fn grants_bad_action(statement: &Statement) -> bool {
    let actions = statement.actions();
    S3_ACTIONS
        .iter()
        .filter(|name| is_bad_action(name))
        .any(|name| actions.covers(&format!("s3:{name}")))
}

/// Whether the condition pins a trusted key to fixed values, so that it holds only for
/// requests from a party the bucket owner named.
fn restricts_to_trusted_party(condition: &Condition) -> bool {
    let operator = condition.operator;
    // A negation, `IfExists` or a set qualifier lets through requests without the key.
    if operator.negated || operator.if_exists || operator.qualifier.is_some() {
        return false;
    }
    match (&condition.values, operator.family) {
        (Values::Cidrs(ranges), Family::IpAddress) if condition.key == "aws:sourceip" => {
            ranges.iter().all(|range| {
                range.prefix_len()
                    >= if range.is_ipv4() {
                        MIN_IPV4_PREFIX
                    } else {
                        MIN_IPV6_PREFIX
                    }
            })
        }
        (Values::Templates(values), Family::String { .. } | Family::Arn)
            if TRUSTED_KEYS.contains(&condition.key.as_str()) =>
        {
            values.iter().all(is_fixed)
        }
        _ => false,
    }
}

/// A fixed value names one thing: no wildcard, no variable.
fn is_fixed(value: &Template) -> bool {
    !value.has_variables() && !value.to_static_pattern().has_wildcards()
}

#[cfg(test)]
mod tests {
    use crate::policy::BucketPolicy;

    fn public(statement: &str) -> bool {
        let document = format!(r#"{{"Version": "2012-10-17", "Statement": [{statement}]}}"#);
        BucketPolicy::parse(&document, "b").unwrap().is_public()
    }

    #[test]
    fn everyone_reading_is_public() {
        assert!(public(
            r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#
        ));
        assert!(public(
            r#"{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}"#
        ));
        assert!(public(
            r#"{"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}"#
        ));
        assert!(public(
            r#"{"Effect": "Allow", "NotPrincipal": {"AWS": "111111111111111"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#
        ));
    }

    #[test]
    fn named_principals_and_denies_are_not_public() {
        assert!(!public(
            r#"{"Effect": "Allow", "Principal": {"AWS": "111111111111111"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}"#
        ));
        assert!(!public(
            r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}"#
        ));
        // Granting only actions that expose no data.
        assert!(!public(
            r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:ObjectOwnerOverrideToBucketOwner", "Resource": "arn:aws:s3:::b/*"}"#
        ));
    }

    #[test]
    fn fixed_conditions_make_it_non_public() {
        let with = |condition: &str| {
            public(&format!(
                r#"{{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {condition}}}"#
            ))
        };
        assert!(!with(r#"{"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}"#));
        assert!(!with(
            r#"{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/48"]}}"#
        ));
        assert!(!with(
            r#"{"StringEquals": {"aws:SourceAccount": "111111111111111"}}"#
        ));
        assert!(!with(
            r#"{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111111:user/a"}}"#
        ));
        assert!(!with(
            r#"{"StringEquals": {"aws:PrincipalAccount": "111111111111111"}, "Bool": {"aws:SecureTransport": "true"}}"#
        ));
        // Not restricting: too wide, negated, wildcards, IfExists, keys anyone controls.
        assert!(with(r#"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#));
        assert!(with(r#"{"IpAddress": {"aws:SourceIp": "::/0"}}"#));
        assert!(with(
            r#"{"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}"#
        ));
        assert!(with(r#"{"StringLike": {"aws:SourceAccount": "1111*"}}"#));
        assert!(with(
            r#"{"StringEqualsIfExists": {"aws:SourceAccount": "111111111111111"}}"#
        ));
        assert!(with(r#"{"StringEquals": {"aws:userid": "${aws:userid}"}}"#));
        assert!(with(r#"{"Bool": {"aws:SecureTransport": "true"}}"#));
        assert!(with(
            r#"{"StringLike": {"aws:Referer": "https://example.com/*"}}"#
        ));
    }
}
