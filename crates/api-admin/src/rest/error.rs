//! The management API's failures: one enum of domain conditions, each with its HTTP status and
//! its stable `code`, answered as `{"code","message","request_id"}`.

use coffer_engine::EngineError;
use coffer_meta::MetaError;
use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code (`NoSuchBucket`, `ValidationError`, ...).
    #[schema(example = "NoSuchBucket")]
    pub code: String,
    /// Human-readable explanation; validation errors start with the field's name.
    #[schema(example = "The specified bucket does not exist")]
    pub message: String,
    /// The id of the request (also in the `x-request-id` header).
    #[schema(example = "4F2A9C1D7B3E8A60")]
    pub request_id: String,
    /// For validation errors, the request field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

/// A failed management request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No or an unknown API key.
    #[error("{0}")]
    Unauthorized(String),
    /// The key may not act on this resource.
    #[error("{0}")]
    Forbidden(String),
    /// A request field is missing or invalid.
    #[error("{field}: {message}")]
    Validation {
        /// The field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The body is not JSON of the expected shape.
    #[error("{0}")]
    MalformedBody(String),
    /// The body is larger than allowed.
    #[error("the request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    /// No route for this path.
    #[error("no such endpoint: {0}")]
    NoSuchRoute(String),
    /// The route exists, not with this method.
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// A named resource does not exist (`code` names it: `NoSuchBucket`, ...).
    #[error("{message}")]
    NotFound {
        /// `NoSuchBucket`, `NoSuchKey`, `NoSuchAccount`, ...
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The request conflicts with the resource's state (`code` says how).
    #[error("{message}")]
    Conflict {
        /// `BucketNotEmpty`, `BucketAlreadyExists`, `InvalidAccountState`, ...
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// A bug or an infrastructure failure; the detail is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A validation error on `field`.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A missing resource.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }

    /// A state conflict.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    /// The caller may not see or touch what it asked for.
    pub fn forbidden() -> Self {
        Self::Forbidden("this API key may not access that resource".to_owned())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Validation { .. } | Self::MalformedBody(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NoSuchRoute(_) | Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "Unauthorized",
            Self::Forbidden(_) => "AccessDenied",
            Self::Validation { .. } => "ValidationError",
            Self::MalformedBody(_) => "MalformedBody",
            Self::BodyTooLarge(_) => "PayloadTooLarge",
            Self::NoSuchRoute(_) => "NotFound",
            Self::MethodNotAllowed(_) => "MethodNotAllowed",
            Self::NotFound { code, .. } | Self::Conflict { code, .. } => code,
            Self::Internal(_) => "InternalError",
        }
    }

    /// The body answered for this error.
    pub fn body(&self, request_id: &str) -> ErrorBody {
        let message = match self {
            Self::Internal(_) => "We encountered an internal error. Please try again.".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            code: self.code().to_owned(),
            message,
            request_id: request_id.to_owned(),
            field: match self {
                Self::Validation { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }
}

impl From<MetaError> for ApiError {
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::NoSuchAccount => {
                Self::not_found("NoSuchAccount", "The account does not exist")
            }
            MetaError::NoSuchAccessKey => {
                Self::not_found("NoSuchCredential", "The credential does not exist")
            }
            MetaError::NoSuchEntity(what) => Self::not_found("NoSuchEntity", what),
            other => Self::from(EngineError::from(other)),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NoSuchBucket => {
                Self::not_found("NoSuchBucket", "The specified bucket does not exist")
            }
            EngineError::NoSuchKey => {
                Self::not_found("NoSuchKey", "The specified key does not exist")
            }
            EngineError::NoSuchVersion => {
                Self::not_found("NoSuchVersion", "The specified version does not exist")
            }
            EngineError::NoSuchUpload => {
                Self::not_found("NoSuchUpload", "The specified upload does not exist")
            }
            EngineError::BucketAlreadyOwnedByYou | EngineError::BucketAlreadyExists { .. } => {
                Self::conflict(
                    "BucketAlreadyExists",
                    "a bucket with this name already exists",
                )
            }
            EngineError::BucketNotEmpty => Self::conflict(
                "BucketNotEmpty",
                "the bucket is not empty (delete with force=true to remove its objects too)",
            ),
            EngineError::TooManyBuckets => {
                Self::conflict("TooManyBuckets", "the account has reached its bucket limit")
            }
            EngineError::InvalidBucketName(message) => Self::field("name", message),
            EngineError::KeyTooLong => Self::field("key", "the key is too long"),
            EngineError::InvalidKey(message) => Self::field("key", message),
            EngineError::MethodNotAllowed(message) => Self::conflict("InvalidObjectState", message),
            other => Self::Internal(other.to_string()),
        }
    }
}
