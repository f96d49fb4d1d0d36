//! Properties of the combined decision over generated policies and requests:
//! an explicit Deny always wins, adding an Allow never takes access away, and removing a Deny
//! never takes access away.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::principal::UserIdentity;

const OWNER: &str = "111111111111111";
const OTHER: &str = "222222222222222";
const BUCKET: &str = "b1";

const ACTIONS: &[&str] = &[
    "*",
    "s3:*",
    "s3:GetObject",
    "s3:Get*",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:GetBucketPolicy",
    "s3:DeleteObject",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b1",
    "arn:aws:s3:::b1/*",
    "arn:aws:s3:::b1/public/*",
    "arn:aws:s3:::b1/home/${aws:username}/*",
];
const REQUEST_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:GetBucketPolicy",
];
const REQUEST_RESOURCES: &[&str] = &[
    "arn:aws:s3:::b1",
    "arn:aws:s3:::b1/public/x",
    "arn:aws:s3:::b1/home/alice/x",
    "arn:aws:s3:::b1/secret",
];
const SOURCE_IPS: &[&str] = &["10.1.2.3", "192.0.2.1", "2001:db8::1"];

fn conditions() -> Vec<Value> {
    vec![
        json!({}),
        json!({"Bool": {"aws:SecureTransport": "true"}}),
        json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        json!({"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}),
        json!({"StringEquals": {"aws:username": "alice"}}),
        json!({"StringNotLike": {"s3:prefix": "home/*"}}),
        json!({"Null": {"aws:username": "true"}}),
        json!({"StringLikeIfExists": {"s3:prefix": "public/*"}}),
    ]
}

fn principals() -> Vec<Value> {
    vec![
        json!({"Principal": "*"}),
        json!({"Principal": {"AWS": OWNER}}),
        json!({"Principal": {"AWS": format!("arn:aws:iam::{OTHER}:root")}}),
        json!({"Principal": {"AWS": format!("arn:aws:iam::{OWNER}:user/alice")}}),
        json!({"Principal": {"AWS": format!("arn:aws:iam::{OTHER}:user/bob")}}),
        json!({"NotPrincipal": {"AWS": format!("arn:aws:iam::{OWNER}:user/alice")}}),
    ]
}

/// A generated statement: indexes into the tables above.
#[derive(Debug, Clone)]
struct StatementSpec {
    allow: bool,
    not_action: bool,
    action: usize,
    resource: usize,
    condition: usize,
    principal: usize,
}

impl StatementSpec {
    fn to_json(&self, with_principal: bool) -> Value {
        let mut statement = json!({
            "Effect": if self.allow { "Allow" } else { "Deny" },
            "Resource": RESOURCES[self.resource],
            "Condition": conditions()[self.condition],
        });
        let action_key = if self.not_action {
            "NotAction"
        } else {
            "Action"
        };
        statement[action_key] = json!(ACTIONS[self.action]);
        if with_principal && let Value::Object(principal) = &principals()[self.principal] {
            for (key, value) in principal {
                statement[key] = value.clone();
            }
        }
        statement
    }
}

fn statement_spec() -> impl Strategy<Value = StatementSpec> {
    // Weighted towards allows, unconditional statements and broad principals, so that many
    // generated requests are allowed and the monotonicity properties have something to test.
    let condition = prop_oneof![2 => Just(0), 1 => 0..conditions().len()];
    let principal = prop_oneof![1 => Just(0), 2 => 0..principals().len()];
    (
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.15),
        0..ACTIONS.len(),
        0..RESOURCES.len(),
        condition,
        principal,
    )
        .prop_map(
            |(allow, not_action, action, resource, condition, principal)| StatementSpec {
                allow,
                not_action,
                action,
                resource,
                condition,
                principal,
            },
        )
}

#[derive(Debug, Clone)]
struct Scenario {
    identity: Vec<Vec<StatementSpec>>,
    bucket: Option<Vec<StatementSpec>>,
    principal: usize,
    action: usize,
    resource: usize,
    secure: bool,
    source_ip: usize,
    prefix: Option<&'static str>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(prop::collection::vec(statement_spec(), 1..4), 0..3),
        prop::option::weighted(0.8, prop::collection::vec(statement_spec(), 1..4)),
        0..5usize,
        0..REQUEST_ACTIONS.len(),
        0..REQUEST_RESOURCES.len(),
        any::<bool>(),
        0..SOURCE_IPS.len(),
        prop::option::of(prop::sample::select(vec!["", "public/", "home/alice/"])),
    )
        .prop_map(
            |(identity, bucket, principal, action, resource, secure, source_ip, prefix)| Scenario {
                identity,
                bucket,
                principal,
                action,
                resource,
                secure,
                source_ip,
                prefix,
            },
        )
}

fn principal(index: usize) -> Principal {
    let user = |account_id: &str, name: &str| {
        Principal::User(UserIdentity {
            account_id: account_id.into(),
            user_name: name.into(),
            user_id: format!("AIDA{name}"),
            path: "/".into(),
        })
    };
    match index {
        0 => Principal::AccountRoot {
            account_id: OWNER.into(),
        },
        1 => user(OWNER, "alice"),
        2 => Principal::AccountRoot {
            account_id: OTHER.into(),
        },
        3 => user(OTHER, "bob"),
        _ => Principal::Anonymous,
    }
}

impl Scenario {
    fn context(&self) -> RequestContext {
        let mut context = RequestContext::new(
            REQUEST_ACTIONS[self.action],
            REQUEST_RESOURCES[self.resource],
            principal(self.principal),
        )
        .with_secure_transport(self.secure)
        .with_source_ip(SOURCE_IPS[self.source_ip].parse().expect("test IPs parse"));
        if let Some(prefix) = self.prefix {
            context = context.with("s3:prefix", prefix);
        }
        context
    }

    fn decide(&self) -> AccessDecision {
        self.decide_both(Some(OWNER)).0
    }

    /// The full decision and the context-free one, for a bucket owned by `owner` (`None`: a
    /// request on no bucket).
    fn decide_both(&self, owner: Option<&str>) -> (AccessDecision, Option<AccessDecision>) {
        let document = |statements: &[StatementSpec], with_principal: bool| {
            let statements: Vec<Value> = statements
                .iter()
                .map(|s| s.to_json(with_principal))
                .collect();
            json!({"Version": "2012-10-17", "Statement": statements}).to_string()
        };
        let identity_policies: Vec<IdentityPolicy> = self
            .identity
            .iter()
            .map(|statements| {
                IdentityPolicy::parse(&document(statements, false)).expect("identity policy parses")
            })
            .collect();
        let bucket_policy = self.bucket.as_ref().map(|statements| {
            BucketPolicy::parse(&document(statements, true), BUCKET).expect("bucket policy parses")
        });
        let policies = ApplicablePolicies {
            identity_policies: &identity_policies,
            bucket_policy: bucket_policy.as_ref(),
            bucket_owner_account_id: owner,
        };
        let context = self.context();
        (
            authorize(&context, &policies),
            decide_without_context(context.principal(), &policies),
        )
    }

    fn is_owner_managing_policy(&self) -> bool {
        self.principal == 0 && REQUEST_ACTIONS[self.action] == "s3:GetBucketPolicy"
    }
}

/// A Deny statement that matches every request (index 0 = `*` action, `*` resource, no
/// condition, principal `*`).
fn matching_deny() -> StatementSpec {
    StatementSpec {
        allow: false,
        not_action: false,
        action: 0,
        resource: 0,
        condition: 0,
        principal: 0,
    }
}

proptest! {
    // The monotonicity properties only say something about allowed requests: they skip the
    // others, so allow plenty of rejections to reach the full case count.
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_global_rejects: 50_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_context_free_decision_agrees_with_the_full_one(s in scenario(), on_bucket in any::<bool>()) {
        let (full, shortcut) = s.decide_both(on_bucket.then_some(OWNER));
        if let Some(shortcut) = shortcut {
            prop_assert!(shortcut.allowed && full.allowed, "{:?}: {:?} vs {:?}", s, shortcut, full);
        }
        // Only the root of the bucket's account (of any account, on no bucket) without
        // policies to evaluate is decided without its context.
        let root_of_owner = s.principal == 0 || (s.principal == 2 && !on_bucket);
        let evaluates = !s.identity.is_empty() || s.bucket.is_some() || !root_of_owner;
        prop_assert_eq!(shortcut.is_none(), evaluates, "{:?}", s);
    }

    #[test]
    fn explicit_deny_in_an_identity_policy_always_wins(mut s in scenario(), slot in 0..3usize) {
        if s.identity.is_empty() || slot == 0 {
            s.identity.push(vec![matching_deny()]);
        } else {
            let index = slot % s.identity.len();
            s.identity[index].insert(0, matching_deny());
        }
        let decision = s.decide();
        if s.is_owner_managing_policy() {
            prop_assert_eq!(decision.reason, DecisionReason::BucketOwnerPolicyManagement);
        } else {
            prop_assert!(!decision.allowed, "{:?}", decision);
            prop_assert_eq!(decision.reason, DecisionReason::ExplicitDenyInIdentityPolicy);
        }
    }

    #[test]
    fn explicit_deny_in_the_bucket_policy_always_wins(mut s in scenario(), position in 0..4usize) {
        let mut statements = s.bucket.take().unwrap_or_default();
        let position = position.min(statements.len());
        statements.insert(position, matching_deny());
        s.bucket = Some(statements);
        let decision = s.decide();
        if s.is_owner_managing_policy() {
            prop_assert!(decision.allowed);
        } else {
            prop_assert!(!decision.allowed, "{:?}", decision);
        }
    }

    #[test]
    fn adding_an_allow_never_takes_access_away(s in scenario(), extra in statement_spec(), broad in any::<bool>()) {
        let before = s.decide();
        prop_assume!(before.allowed);
        // Half the added statements cover every action and resource, so that they apply.
        let allow = if broad {
            StatementSpec { allow: true, action: 0, resource: 0, condition: 0, ..extra }
        } else {
            StatementSpec { allow: true, ..extra }
        };
        // Add it everywhere it can go: as a new identity policy, into an existing one, and into
        // the bucket policy under every principal form.
        let mut variants = Vec::new();
        let mut as_new_policy = s.clone();
        as_new_policy.identity.push(vec![allow.clone()]);
        variants.push(as_new_policy);
        if !s.identity.is_empty() {
            let mut into_existing = s.clone();
            into_existing.identity[0].push(allow.clone());
            variants.push(into_existing);
        }
        for principal in 0..principals().len() {
            let mut into_bucket = s.clone();
            into_bucket.bucket.get_or_insert_with(Vec::new).push(StatementSpec { principal, ..allow.clone() });
            variants.push(into_bucket);
        }
        for after in variants {
            let decision = after.decide();
            prop_assert!(decision.allowed, "{:?} then {:?} after adding {:?}", before, decision, allow);
        }
    }

    #[test]
    fn removing_a_deny_never_takes_access_away(s in scenario(), pick in any::<prop::sample::Index>()) {
        let before = s.decide();
        prop_assume!(before.allowed);
        let mut denies: Vec<(Option<usize>, usize)> = Vec::new();
        for (p, statements) in s.identity.iter().enumerate() {
            denies.extend(statements.iter().enumerate().filter(|(_, st)| !st.allow).map(|(i, _)| (Some(p), i)));
        }
        if let Some(statements) = &s.bucket {
            denies.extend(statements.iter().enumerate().filter(|(_, st)| !st.allow).map(|(i, _)| (None, i)));
        }
        prop_assume!(!denies.is_empty());
        let (policy, index) = denies[pick.index(denies.len())];
        let mut after = s.clone();
        match policy {
            Some(p) => {
                after.identity[p].remove(index);
                if after.identity[p].is_empty() {
                    after.identity.remove(p);
                }
            }
            None => {
                let statements = after.bucket.as_mut().expect("bucket policy present");
                statements.remove(index);
                if statements.is_empty() {
                    after.bucket = None;
                }
            }
        }
        let decision = after.decide();
        prop_assert!(decision.allowed, "{:?} then {:?}", before, decision);
    }
}
