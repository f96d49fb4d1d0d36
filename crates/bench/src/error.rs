//! What can go wrong: one request (`OpError`, counted in a phase) or the tool itself (`BenchError`).

use std::time::Duration;

use thiserror::Error;

/// Why one S3 request did not succeed. Every variant counts as an error of its phase.
#[derive(Debug, Clone, Error)]
pub enum OpError {
    /// The server answered with a non-2xx status (or an error document in a 200).
    #[error("HTTP {status}: {body}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The bytes (or listed keys) differ from what was written.
    #[error("wrong bytes: {0}")]
    WrongBytes(String),
    /// A 2xx answer that lacks something the protocol promises (an ETag, an upload id, …).
    #[error("bad response: {0}")]
    BadResponse(String),
    /// Connecting, sending or receiving failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The request did not finish within the per-request bound.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl OpError {
    /// Whether this failure is a byte mismatch rather than a failed request.
    pub fn is_wrong_bytes(&self) -> bool {
        matches!(self, Self::WrongBytes(_))
    }
}

/// A failure of the tool itself (bad arguments, unreadable files), as opposed to the server's.
#[derive(Debug, Error)]
pub enum BenchError {
    /// The endpoint URL cannot be used.
    #[error("bad endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The URL given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file or directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A figures file holds no JSON line of the expected kind.
    #[error("{path}: {reason}")]
    Figures {
        /// The file read.
        path: String,
        /// What is missing or malformed.
        reason: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}
