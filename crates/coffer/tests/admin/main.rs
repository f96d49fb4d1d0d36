//! Integration tests of the operator surface: the management REST API, presigned URLs,
//! metrics and health on the admin listener, TLS, and `coffer admin`, all against the real
//! `coffer` binary.

mod harness;

mod accounts;
mod buckets;
mod cli;
mod credentials;
mod observability;
mod presign;
mod tls;
