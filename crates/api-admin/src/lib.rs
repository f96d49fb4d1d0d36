//! Coffer's administrative surfaces, beside the S3 protocol:
//!
//! - [`iam`]: the IAM query API (`Action=CreateUser&...`, SigV4 with service `iam`), served on
//!   the S3 listener, answering in IAM's XML.
//! - [`rest`]: the management REST API for operators and account admins (JSON, API keys),
//!   served on the admin listener.
//!
//! Both call the engine and the metadata store; neither touches SQL or files directly.

pub mod iam;
pub mod rest;
