//! The one place engine failures become S3 errors.

use coffer_engine::EngineError;
use http::StatusCode;
use s3s::{S3Error, S3ErrorCode};

/// An S3 error with a code s3s does not know (provider codes), and its status.
pub fn custom(code: &str, status: StatusCode, message: impl Into<String>) -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::Custom(code.to_owned().into()), message.into());
    e.set_status_code(status);
    e
}

/// An S3 error with a known code and a message.
pub fn s3(code: S3ErrorCode, message: impl Into<String>) -> S3Error {
    S3Error::with_message(code, message.into())
}

/// Maps an engine failure to the S3 error a client expects.
pub fn from_engine(e: EngineError) -> S3Error {
    let message = e.to_string();
    match e {
        EngineError::InvalidBucketName(_) => s3(S3ErrorCode::InvalidBucketName, message),
        EngineError::KeyTooLong => s3(S3ErrorCode::KeyTooLongError, message),
        EngineError::InvalidKey(_) | EngineError::InvalidArgument(_) => {
            s3(S3ErrorCode::InvalidArgument, message)
        }
        EngineError::NoSuchBucket => s3(S3ErrorCode::NoSuchBucket, message),
        EngineError::BucketAlreadyOwnedByYou => s3(S3ErrorCode::BucketAlreadyOwnedByYou, message),
        EngineError::BucketAlreadyExists { .. } => s3(S3ErrorCode::BucketAlreadyExists, message),
        EngineError::BucketNotEmpty => s3(S3ErrorCode::BucketNotEmpty, message),
        EngineError::TooManyBuckets => s3(S3ErrorCode::TooManyBuckets, message),
        EngineError::NoSuchKey => s3(S3ErrorCode::NoSuchKey, message),
        EngineError::NoSuchVersion => s3(S3ErrorCode::NoSuchVersion, message),
        EngineError::NoSuchUpload => s3(S3ErrorCode::NoSuchUpload, message),
        EngineError::PreconditionFailed => s3(S3ErrorCode::PreconditionFailed, message),
        EngineError::NotModified => S3Error::new(S3ErrorCode::NotModified),
        EngineError::InvalidRange => s3(S3ErrorCode::InvalidRange, message),
        EngineError::InvalidPartNumber => custom(
            "InvalidPartNumber",
            StatusCode::RANGE_NOT_SATISFIABLE,
            message,
        ),
        EngineError::InvalidDigest => s3(S3ErrorCode::InvalidDigest, message),
        EngineError::BadDigest(_) => s3(S3ErrorCode::BadDigest, message),
        EngineError::InvalidChecksum(_) | EngineError::InvalidRequest(_) => {
            s3(S3ErrorCode::InvalidRequest, message)
        }
        EngineError::IncompleteBody => s3(S3ErrorCode::IncompleteBody, message),
        EngineError::EntityTooLarge => s3(S3ErrorCode::EntityTooLarge, message),
        EngineError::EntityTooSmall => s3(S3ErrorCode::EntityTooSmall, message),
        EngineError::InvalidPart => s3(S3ErrorCode::InvalidPart, message),
        EngineError::InvalidPartOrder => s3(S3ErrorCode::InvalidPartOrder, message),
        EngineError::MethodNotAllowed(_) => s3(S3ErrorCode::MethodNotAllowed, message),
        EngineError::Body(detail) => body_error(&detail),
        EngineError::UnsupportedChecksum(a) => s3(
            S3ErrorCode::InvalidRequest,
            format!("Checksum algorithm {a} was not computed for this request."),
        ),
        EngineError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            s3(
                S3ErrorCode::InternalError,
                "We encountered an internal error. Please try again.",
            )
        }
    }
}

/// `?`-friendly conversion for handler code.
pub trait EngineResultExt<T> {
    /// Maps the error with [`from_engine`].
    fn s3(self) -> Result<T, S3Error>;
}

impl<T> EngineResultExt<T> for Result<T, EngineError> {
    fn s3(self) -> Result<T, S3Error> {
        self.map_err(from_engine)
    }
}

/// Classifies a failed request body. s3s reports chunk-signature and payload-hash failures
/// only through its error text, so this is the one place that reads it.
fn body_error(detail: &str) -> S3Error {
    tracing::info!(%detail, "request body failed");
    if detail.contains("SignatureMismatch") {
        s3(
            S3ErrorCode::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided.",
        )
    } else if detail.contains("Sha256Mismatch") {
        custom(
            "XAmzContentSHA256Mismatch",
            StatusCode::BAD_REQUEST,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    } else if detail.contains("stalled") {
        s3(
            S3ErrorCode::RequestTimeout,
            "Your socket connection to the server was not read from or written to within the \
             timeout period.",
        )
    } else {
        s3(
            S3ErrorCode::IncompleteBody,
            "The request body terminated unexpectedly or could not be read.",
        )
    }
}
