//! Coffer's S3 protocol adapter, built on the `s3s` crate.
//!
//! `s3s` parses requests, verifies SigV4 and serializes responses; this crate supplies the
//! secrets ([`auth::CofferAuth`]), decides access ([`auth::CofferAccess`]), implements the S3
//! operations by calling the engine ([`CofferS3`]), and wraps the whole service
//! ([`http::S3HttpService`]) for what `s3s` leaves to us: request ids, SigV2 and region
//! refusal, complete error documents. It never touches SQL or files.

pub mod access;
pub mod auth;
mod bucket;
pub mod context;
mod convert;
pub mod error;
pub mod host;
pub mod http;
mod list;
mod multipart;
mod object;
mod policy;
mod service;

pub use service::{CofferS3, S3Settings, build_service, build_service_with_access};
