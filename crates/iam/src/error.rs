//! The one error type of this crate: why a policy document was refused.
//!
//! Every variant is a reason to answer S3 `MalformedPolicy` (bucket policies) or IAM
//! `MalformedPolicyDocument` (identity policies); the `Display` text is written to be shown to
//! the customer as the error message, naming the offending element or value.

/// A policy document that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not JSON.
    #[error("Policies must be valid JSON: {0}")]
    InvalidJson(String),

    /// The document is JSON but its top level is not an object.
    #[error("Policies must be valid JSON and the first byte must be '{{'")]
    NotAnObject,

    /// The document is larger than the limit for its kind.
    #[error("Policy exceeds the maximum allowed document size of {limit} characters")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// A field the policy grammar does not know (fields are case-sensitive).
    #[error("Unknown field {field}")]
    UnknownField {
        /// The field as written.
        field: String,
    },

    /// `Version` is neither `2012-10-17` nor `2008-10-17`.
    #[error("The policy Version {0:?} is not supported: use \"2012-10-17\"")]
    InvalidVersion(String),

    /// An element has the wrong JSON type (for example a number where a string is expected).
    #[error("{element} must be {expected}")]
    WrongType {
        /// The element, such as `Action` or `Condition`.
        element: String,
        /// What the grammar expects there.
        expected: &'static str,
    },

    /// A required element is absent.
    #[error("Missing required field {0}")]
    MissingField(&'static str),

    /// An element is present but empty (an empty list or object where values are needed).
    #[error("{0} must not be empty")]
    EmptyElement(String),

    /// Two elements that exclude each other appear in one statement.
    #[error("A statement cannot contain both {0} and {1}")]
    ConflictingElements(&'static str, &'static str),

    /// `Effect` is neither `Allow` nor `Deny`.
    #[error("Invalid effect: {0:?} (use \"Allow\" or \"Deny\")")]
    InvalidEffect(String),

    /// Two statements share a `Sid`.
    #[error("Statement IDs (SID) in a single policy must be unique: {0:?}")]
    DuplicateSid(String),

    /// An identity policy names a principal; only resource policies may.
    #[error("Policy document should not specify a principal")]
    PrincipalNotAllowed,

    /// A principal value is not one Coffer knows (`*`, an account id, an account root ARN, a
    /// user ARN, or a canonical user id).
    #[error("Invalid principal in policy: {0:?}")]
    InvalidPrincipal(String),

    /// An action is malformed, of a service Coffer does not serve, or matches no known action.
    #[error("Policy has invalid action: {0:?}")]
    InvalidAction(String),

    /// A resource is not `*` or an ARN of a kind this policy may name.
    #[error("Policy has invalid resource: {0:?}")]
    InvalidResource(String),

    /// A bucket policy names a resource that cannot be this bucket or an object in it.
    #[error("Policy has invalid resource: {resource:?} is not in bucket {bucket:?}")]
    ResourceOutsideBucket {
        /// The resource as written.
        resource: String,
        /// The bucket the policy is attached to.
        bucket: String,
    },

    /// A condition operator that does not exist, or a combination the grammar forbids.
    #[error("Invalid Condition type: {0}")]
    InvalidConditionOperator(String),

    /// A condition key is empty or not a string key.
    #[error("Invalid condition key: {0:?}")]
    InvalidConditionKey(String),

    /// A condition value that the operator cannot read (a bad number, date, CIDR or boolean).
    #[error("Invalid value {value:?} for condition {operator} on key {key}: {reason}")]
    InvalidConditionValue {
        /// The operator as written.
        operator: String,
        /// The condition key as written.
        key: String,
        /// The value as written.
        value: String,
        /// What the operator expects.
        reason: &'static str,
    },
}
