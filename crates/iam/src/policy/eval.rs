//! Evaluation of one policy: which statements apply to a request, and what they say.
//!
//! A statement applies when its action, resource and principal elements cover the request and
//! all its conditions hold. Any applying `Deny` decides; otherwise any applying `Allow` does.

use super::{Decision, Effect, Policy, PrincipalMatch};
use crate::condition;
use crate::context::RequestContext;

/// What one policy says about one request, with the detail that combining policies needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// A statement explicitly denies the request.
    pub(crate) denied: bool,
    /// The strongest principal match among the applying `Allow` statements (`None` if no
    /// statement allows). Statements without a principal element match `Direct`.
    pub(crate) allowed: PrincipalMatch,
}

impl Outcome {
    /// The plain verdict.
    pub(crate) fn decision(self) -> Decision {
        if self.denied {
            Decision::Deny
        } else if self.allowed > PrincipalMatch::None {
            Decision::Allow
        } else {
            Decision::NotApplicable
        }
    }
}

/// Evaluates `policy` against `context`.
pub(crate) fn evaluate(policy: &Policy, context: &RequestContext) -> Outcome {
    let mut allowed = PrincipalMatch::None;
    for statement in &policy.statements {
        // For an Allow, only a stronger match than the one we hold could change the outcome.
        if statement.effect == Effect::Allow && allowed == PrincipalMatch::Direct {
            continue;
        }
        if !statement.actions.covers(context.action()) || !statement.resources.covers(context) {
            continue;
        }
        let principal_match = statement
            .principal
            .as_ref()
            .map_or(PrincipalMatch::Direct, |principal| {
                principal.applies_to(context)
            });
        if principal_match == PrincipalMatch::None
            || !condition::all_hold(&statement.conditions, context)
        {
            continue;
        }
        match statement.effect {
            Effect::Deny => {
                return Outcome {
                    denied: true,
                    allowed,
                };
            }
            Effect::Allow => allowed = allowed.max(principal_match),
        }
    }
    Outcome {
        denied: false,
        allowed,
    }
}
