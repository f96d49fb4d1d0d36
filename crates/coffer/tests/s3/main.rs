//! Integration tests: the real `coffer` binary driven by the `aws-sdk-s3` crate (and raw HTTP
//! where the SDK would hide what a client sees).

mod harness;

mod buckets;
mod iam;
mod listing;
mod multipart;
mod objects;
mod protocol;
mod streaming;
mod tenancy;
