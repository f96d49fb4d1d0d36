//! The IAM query API.
