//! The management REST API.
