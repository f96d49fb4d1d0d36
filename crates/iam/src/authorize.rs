//! The access decision for one request: identity policies and the bucket policy combined as AWS
//! combines them.
//!
//! 1. The root of the bucket owner's account may always read, replace and delete the bucket
//!    policy (so that no policy can lock the owner out).
//! 2. An explicit `Deny` in any applicable policy refuses.
//! 3. Anonymous callers get what the bucket policy grants to everyone, nothing else.
//! 4. Same account (the caller's account owns the bucket, or the request names no bucket): the
//!    root is allowed; a user is allowed by an identity policy or by a bucket policy statement
//!    naming the user (or everyone). A statement naming only the account delegates to the
//!    account's own policies and grants nothing to its users by itself.
//! 5. Another account's bucket: the bucket policy must allow the caller (naming its account is
//!    enough), and a user's identity policies must allow as well.

use serde::Serialize;

use crate::context::RequestContext;
use crate::policy::{self, BucketPolicy, IdentityPolicy, PrincipalMatch};
use crate::principal::Principal;

/// The bucket-policy actions the bucket owner's root can never be denied.
const LOCKOUT_PROOF_ACTIONS: &[&str] = &[
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
];

/// The policies that bear on one request, already resolved by the caller.
#[derive(Debug, Clone, Copy)]
pub struct ApplicablePolicies<'a> {
    /// The caller's identity policies: a user's attached and inline policies and those of its
    /// groups. Empty for account roots and anonymous callers.
    pub identity_policies: &'a [IdentityPolicy],
    /// The policy of the bucket the request is on, if it has one.
    pub bucket_policy: Option<&'a BucketPolicy>,
    /// The account that owns that bucket; `None` when the request is on no existing bucket
    /// (`ListBuckets`, `CreateBucket`), which makes it a request within the caller's account.
    pub bucket_owner_account_id: Option<&'a str>,
}

/// Why a request was allowed or refused, for logs and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DecisionReason {
    /// An identity policy explicitly denies.
    ExplicitDenyInIdentityPolicy,
    /// The bucket policy explicitly denies.
    ExplicitDenyInBucketPolicy,
    /// The caller is the root of the account that owns the resource.
    AccountRoot,
    /// The bucket owner's root managing the bucket policy, which cannot be denied.
    BucketOwnerPolicyManagement,
    /// An identity policy allows (same account).
    AllowedByIdentityPolicy,
    /// The bucket policy allows the caller.
    AllowedByBucketPolicy,
    /// Another account's bucket: its policy allows the caller and, for a user, so do the
    /// user's identity policies.
    AllowedCrossAccount,
    /// Nothing allows the request (same account, or anonymous).
    ImplicitDeny,
    /// Another account's bucket whose policy does not allow the caller.
    CrossAccountNotAllowedByBucketPolicy,
    /// Another account's bucket whose policy allows, but the user's identity policies do not.
    CrossAccountNotAllowedByIdentityPolicy,
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccessDecision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Why.
    pub reason: DecisionReason,
}

impl AccessDecision {
    fn allow(reason: DecisionReason) -> Self {
        Self {
            allowed: true,
            reason,
        }
    }

    fn deny(reason: DecisionReason) -> Self {
        Self {
            allowed: false,
            reason,
        }
    }
}

/// Decides whether the request described by `context` is allowed under `policies`.
pub fn authorize(context: &RequestContext, policies: &ApplicablePolicies<'_>) -> AccessDecision {
    use DecisionReason as Reason;
    let principal = context.principal();
    let owner = policies.bucket_owner_account_id;
    let same_account = same_account(principal, owner);

    if matches!(principal, Principal::AccountRoot { .. })
        && same_account
        && owner.is_some()
        && LOCKOUT_PROOF_ACTIONS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(context.action()))
    {
        return AccessDecision::allow(Reason::BucketOwnerPolicyManagement);
    }

    let mut identity_denied = false;
    let mut identity_allowed = false;
    for identity_policy in policies.identity_policies {
        let outcome = policy::evaluate(identity_policy.policy(), context);
        identity_denied |= outcome.denied;
        identity_allowed |= outcome.allowed > PrincipalMatch::None;
    }
    if identity_denied {
        return AccessDecision::deny(Reason::ExplicitDenyInIdentityPolicy);
    }
    let bucket = policies
        .bucket_policy
        .map(|bucket_policy| policy::evaluate(bucket_policy.policy(), context));
    if bucket.is_some_and(|outcome| outcome.denied) {
        return AccessDecision::deny(Reason::ExplicitDenyInBucketPolicy);
    }
    let bucket_allowed = bucket.map_or(PrincipalMatch::None, |outcome| outcome.allowed);

    match principal {
        Principal::Anonymous if bucket_allowed == PrincipalMatch::Direct => {
            AccessDecision::allow(Reason::AllowedByBucketPolicy)
        }
        Principal::Anonymous => AccessDecision::deny(Reason::ImplicitDeny),
        Principal::AccountRoot { .. } if same_account => AccessDecision::allow(Reason::AccountRoot),
        Principal::AccountRoot { .. } if bucket_allowed > PrincipalMatch::None => {
            AccessDecision::allow(Reason::AllowedCrossAccount)
        }
        Principal::AccountRoot { .. } => {
            AccessDecision::deny(Reason::CrossAccountNotAllowedByBucketPolicy)
        }
        Principal::User(_) if same_account => {
            if identity_allowed {
                AccessDecision::allow(Reason::AllowedByIdentityPolicy)
            } else if bucket_allowed == PrincipalMatch::Direct {
                AccessDecision::allow(Reason::AllowedByBucketPolicy)
            } else {
                AccessDecision::deny(Reason::ImplicitDeny)
            }
        }
        Principal::User(_) => match (bucket_allowed > PrincipalMatch::None, identity_allowed) {
            (true, true) => AccessDecision::allow(Reason::AllowedCrossAccount),
            (false, _) => AccessDecision::deny(Reason::CrossAccountNotAllowedByBucketPolicy),
            (true, false) => AccessDecision::deny(Reason::CrossAccountNotAllowedByIdentityPolicy),
        },
    }
}

/// Whether `principal` acts within the account that owns the bucket (or names no bucket).
fn same_account(principal: &Principal, owner: Option<&str>) -> bool {
    match (principal.account_id(), owner) {
        (Some(caller), Some(owner)) => caller == owner,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The decision when no condition key can change it: the root of the account that owns the
/// bucket (or of the caller's own account, when the request names no bucket) with no bucket
/// policy is allowed whatever the request, as [`authorize`] decides it. `None` when the
/// policies must be evaluated against the request's context.
///
/// Callers use it to skip building a [`RequestContext`] for the most common request.
pub fn decide_without_context(
    principal: &Principal,
    policies: &ApplicablePolicies<'_>,
) -> Option<AccessDecision> {
    (matches!(principal, Principal::AccountRoot { .. })
        && policies.bucket_policy.is_none()
        && policies.identity_policies.is_empty()
        && same_account(principal, policies.bucket_owner_account_id))
    .then_some(AccessDecision::allow(DecisionReason::AccountRoot))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
