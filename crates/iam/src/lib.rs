//! Coffer's access policy language: parsing AWS policy documents (identity policies and
//! bucket policies) and evaluating requests against them.
//!
//! Pure logic: no I/O, no storage, no HTTP. Callers build a request context and get a decision.
//!
//! - [`IdentityPolicy::parse`] / [`BucketPolicy::parse`] read and validate policy JSON
//!   ([`PolicyError`] explains a refusal, for `MalformedPolicy` / `MalformedPolicyDocument`).
//! - [`s3_action::required_permissions`] says which actions on which resources an S3 operation
//!   needs; [`RequestContext`] describes one such check, with its condition keys.
//! - [`authorize`] combines the caller's identity policies and the bucket policy into an
//!   [`AccessDecision`].
//! - [`managed`] holds the AWS-named managed policies; [`BucketPolicy::is_public`] answers
//!   `GetBucketPolicyStatus`.

mod action;
pub mod arn;
mod authorize;
mod condition;
mod context;
mod error;
pub mod managed;
mod policy;
mod principal;
mod public;
pub mod s3_action;
mod variable;
mod wildcard;

pub use action::{S3_ACTIONS, is_known_s3_action};
pub use authorize::{
    AccessDecision, ApplicablePolicies, DecisionReason, authorize, decide_without_context,
};
pub use context::RequestContext;
pub use error::PolicyError;
pub use policy::{
    BUCKET_POLICY_MAX_BYTES, BucketPolicy, Decision, Effect, IDENTITY_POLICY_MAX_CHARS,
    IdentityPolicy, Policy, Statement, Version,
};
pub use principal::{Principal, UserIdentity};
pub use wildcard::wildcard_match;
