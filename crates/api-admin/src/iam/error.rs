//! IAM errors, as IAM's query API reports them.

use http::StatusCode;

/// An IAM error: code, HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IamError {
    /// The IAM error code (`NoSuchEntity`, ...).
    pub code: &'static str,
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message.
    pub message: String,
}

impl IamError {
    fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
        }
    }

    /// A parameter fails validation.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationError", StatusCode::BAD_REQUEST, message)
    }

    /// An input is invalid.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("InvalidInput", StatusCode::BAD_REQUEST, message)
    }

    /// A policy document does not parse or validate.
    pub fn malformed_policy(message: impl Into<String>) -> Self {
        Self::new("MalformedPolicyDocument", StatusCode::BAD_REQUEST, message)
    }

    /// The entity does not exist.
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new("NoSuchEntity", StatusCode::NOT_FOUND, message)
    }

    /// The entity already exists.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new("EntityAlreadyExists", StatusCode::CONFLICT, message)
    }

    /// A quota of IAM (keys per user, ...) is reached.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceeded", StatusCode::CONFLICT, message)
    }

    /// The entity still has dependents.
    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new("DeleteConflict", StatusCode::CONFLICT, message)
    }

    /// The caller may not perform the action.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", StatusCode::FORBIDDEN, message)
    }

    /// The action is not one the API knows.
    pub fn invalid_action(action: &str) -> Self {
        Self::new(
            "InvalidAction",
            StatusCode::BAD_REQUEST,
            format!("Could not find operation {action} for version 2010-05-08"),
        )
    }

    /// The signature does not verify.
    pub fn signature(message: impl Into<String>) -> Self {
        Self::new("SignatureDoesNotMatch", StatusCode::FORBIDDEN, message)
    }

    /// The access key is unknown or inactive.
    pub fn invalid_token() -> Self {
        Self::new(
            "InvalidClientTokenId",
            StatusCode::FORBIDDEN,
            "The security token included in the request is invalid.",
        )
    }

    /// The account may not use the API in its state.
    pub fn account_suspended() -> Self {
        Self::new(
            "AccountSuspended",
            StatusCode::FORBIDDEN,
            "The account is suspended.",
        )
    }

    /// A failure of the server.
    pub fn internal(detail: &impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "iam internal error");
        Self::new(
            "ServiceFailure",
            StatusCode::INTERNAL_SERVER_ERROR,
            "The request processing has failed because of an unknown error.",
        )
    }

    /// Whether the client (`Sender`) or the server (`Receiver`) is at fault.
    pub fn fault(&self) -> &'static str {
        if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        }
    }
}

impl From<coffer_meta::MetaError> for IamError {
    fn from(e: coffer_meta::MetaError) -> Self {
        use coffer_meta::MetaError;
        match e {
            MetaError::NoSuchEntity(what) => {
                Self::no_such_entity(format!("The {what} cannot be found."))
            }
            MetaError::NoSuchAccessKey => Self::no_such_entity("The Access Key cannot be found."),
            MetaError::AlreadyExists(what) => {
                Self::already_exists(format!("The {what} already exists."))
            }
            MetaError::DeleteConflict(message) => Self::delete_conflict(message),
            other => Self::internal(&other),
        }
    }
}
