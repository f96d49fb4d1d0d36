//! Policy documents: the typed form of AWS policy JSON, the two kinds Coffer stores (identity
//! policies attached to users and groups, bucket policies attached to buckets), and the
//! evaluation of one policy against a request.

mod eval;
mod parse;
mod principal;

use crate::action::ActionPattern;
use crate::condition::Condition;
use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::variable::Template;

pub(crate) use eval::evaluate;
pub(crate) use principal::{PrincipalElement, PrincipalMatch};

/// Largest bucket policy S3 accepts, in bytes.
pub const BUCKET_POLICY_MAX_BYTES: usize = 20 * 1024;

/// Largest managed identity policy IAM accepts, in characters other than whitespace.
pub const IDENTITY_POLICY_MAX_CHARS: usize = 6144;

/// The policy language version (`Version`). Policy variables are read only in `2012-10-17`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`, the current language.
    V2012_10_17,
    /// `2008-10-17`, the original language (also assumed when `Version` is absent).
    V2008_10_17,
}

/// Whether a statement grants or refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    /// Grants the matched requests.
    Allow,
    /// Refuses the matched requests, whatever else allows them.
    Deny,
}

/// The verdict of one policy on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Decision {
    /// A statement allows the request and none denies it.
    Allow,
    /// A statement explicitly denies the request.
    Deny,
    /// No statement applies.
    NotApplicable,
}

/// A parsed policy document of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    version: Option<Version>,
    id: Option<String>,
    statements: Vec<Statement>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principal: Option<PrincipalElement>,
    actions: ActionElement,
    resources: ResourceElement,
    conditions: Vec<Condition>,
}

/// `Action` (`negated` false) or `NotAction` (true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionElement {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<ActionPattern>,
}

/// `Resource` (`negated` false) or `NotResource` (true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceElement {
    pub(crate) negated: bool,
    pub(crate) templates: Vec<Template>,
}

impl ActionElement {
    /// Whether the statement covers `action`.
    pub(crate) fn covers(&self, action: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(action)) != self.negated
    }
}

impl ResourceElement {
    /// Whether the statement covers the request's resource. A resource whose variables cannot
    /// be resolved matches nothing.
    pub(crate) fn covers(&self, context: &RequestContext) -> bool {
        let resource = context.resource();
        let matched = self.templates.iter().any(|template| {
            template.raw() == "*"
                || template
                    .to_pattern(context)
                    .is_some_and(|p| p.matches(resource))
        });
        matched != self.negated
    }
}

impl Policy {
    /// `Version`, if the document states one.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// `Id`, if the document states one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Evaluates this policy alone: `Deny` if a statement denies, else `Allow` if one allows,
    /// else `NotApplicable`. Statements with a principal apply only to principals they name.
    pub fn evaluate(&self, context: &RequestContext) -> Decision {
        evaluate(self, context).decision()
    }
}

impl Statement {
    /// `Sid`, if set.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    pub(crate) fn principal(&self) -> Option<&PrincipalElement> {
        self.principal.as_ref()
    }

    pub(crate) fn actions(&self) -> &ActionElement {
        &self.actions
    }

    pub(crate) fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
}

/// A policy attached to an IAM user or group: no `Principal`, applies to whoever holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPolicy(Policy);

impl IdentityPolicy {
    /// Parses and validates an identity policy document (IAM `MalformedPolicyDocument` on error).
    pub fn parse(document: &str) -> Result<Self, PolicyError> {
        let size = document.chars().filter(|c| !c.is_whitespace()).count();
        if size > IDENTITY_POLICY_MAX_CHARS {
            return Err(PolicyError::TooLarge {
                limit: IDENTITY_POLICY_MAX_CHARS,
            });
        }
        parse::parse_policy(document, parse::Kind::Identity).map(Self)
    }

    /// The document.
    pub fn policy(&self) -> &Policy {
        &self.0
    }

    /// Evaluates this policy alone for the request.
    pub fn evaluate(&self, context: &RequestContext) -> Decision {
        self.0.evaluate(context)
    }
}

/// A policy attached to a bucket: every statement names its `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPolicy(Policy);

impl BucketPolicy {
    /// Parses and validates the policy of bucket `bucket_name` (S3 `MalformedPolicy` on error):
    /// every resource must be `*` or an S3 ARN that can name this bucket or objects in it.
    pub fn parse(document: &str, bucket_name: &str) -> Result<Self, PolicyError> {
        if document.len() > BUCKET_POLICY_MAX_BYTES {
            return Err(PolicyError::TooLarge {
                limit: BUCKET_POLICY_MAX_BYTES,
            });
        }
        let policy = parse::parse_policy(document, parse::Kind::Bucket)?;
        parse::check_bucket_scope(&policy, bucket_name)?;
        Ok(Self(policy))
    }

    /// The document.
    pub fn policy(&self) -> &Policy {
        &self.0
    }

    /// Evaluates this policy alone for the request.
    pub fn evaluate(&self, context: &RequestContext) -> Decision {
        self.0.evaluate(context)
    }

    /// Whether the policy is public in S3's sense: some `Allow` statement grants access to
    /// data to everyone, unrestricted by a fixed principal or a fixed trusted condition value.
    pub fn is_public(&self) -> bool {
        crate::public::is_public(&self.0)
    }
}

#[cfg(test)]
mod examples;
#[cfg(test)]
mod tests;
