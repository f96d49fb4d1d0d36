//! Bucket names and object keys, validated once at the edge.

use std::fmt;

/// Why a bucket name or object key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The bucket name breaks S3's naming rules.
    #[error("The specified bucket is not valid: {0}")]
    InvalidBucketName(&'static str),
    /// The key is longer than the limit (1024 bytes, or the per-segment limit).
    #[error("Your key is too long")]
    KeyTooLong,
    /// The key is empty.
    #[error("The object key must not be empty")]
    EmptyKey,
}

/// Bucket name prefixes S3 reserves.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
/// Bucket name suffixes S3 reserves.
const RESERVED_SUFFIXES: [&str; 4] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3"];

/// A bucket name that follows S3's general purpose bucket naming rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName(String);

impl BucketName {
    /// Validates `name` against the S3 rules: 3..=63 characters of lower-case letters, digits,
    /// dots and hyphens; starts and ends with a letter or digit; no adjacent dots, no dot next to
    /// a hyphen; not an IPv4 address; none of the reserved prefixes and suffixes.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let bytes = name.as_bytes();
        if !(3..=63).contains(&bytes.len()) {
            return Err(NameError::InvalidBucketName(
                "length must be between 3 and 63",
            ));
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        {
            return Err(NameError::InvalidBucketName(
                "only lower-case letters, digits, dots and hyphens are allowed",
            ));
        }
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
            return Err(NameError::InvalidBucketName(
                "must begin and end with a letter or digit",
            ));
        }
        if name.contains("..") || name.contains(".-") || name.contains("-.") {
            return Err(NameError::InvalidBucketName(
                "dots may not be adjacent to each other or to hyphens",
            ));
        }
        if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return Err(NameError::InvalidBucketName(
                "must not be formatted as an IP address",
            ));
        }
        if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
            || RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
        {
            return Err(NameError::InvalidBucketName(
                "uses a reserved prefix or suffix",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Limits an object key must respect; the per-segment limit is a provider setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLimits {
    /// Maximum key length in bytes (S3: 1024).
    pub max_key_bytes: usize,
    /// Maximum length in bytes of one `/`-separated segment, when set.
    pub max_segment_bytes: Option<usize>,
}

impl Default for KeyLimits {
    fn default() -> Self {
        Self {
            max_key_bytes: 1024,
            max_segment_bytes: None,
        }
    }
}

/// An object key: 1..=1024 bytes of UTF-8 (Rust strings are UTF-8 by construction).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates `key` against `limits`.
    pub fn new(key: &str, limits: KeyLimits) -> Result<Self, NameError> {
        if key.is_empty() {
            return Err(NameError::EmptyKey);
        }
        if key.len() > limits.max_key_bytes {
            return Err(NameError::KeyTooLong);
        }
        if let Some(max) = limits.max_segment_bytes
            && key.split('/').any(|segment| segment.len() > max)
        {
            return Err(NameError::KeyTooLong);
        }
        Ok(Self(key.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["abc", "my-bucket.v2", "a1b", &"a".repeat(63), "1.2.3.x"] {
            assert!(BucketName::new(ok).is_ok(), "{ok} should be valid");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-lead",
            "trail-",
            "a..b",
            "a.-b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "sp ace",
        ] {
            assert!(BucketName::new(bad).is_err(), "{bad} should be invalid");
        }
    }

    #[test]
    fn keys_are_bounded() {
        let limits = KeyLimits::default();
        assert!(ObjectKey::new("a/b/c", limits).is_ok());
        assert!(ObjectKey::new(&"k".repeat(1024), limits).is_ok());
        assert_eq!(
            ObjectKey::new(&"k".repeat(1025), limits),
            Err(NameError::KeyTooLong)
        );
        assert_eq!(ObjectKey::new("", limits), Err(NameError::EmptyKey));
        let segmented = KeyLimits {
            max_segment_bytes: Some(255),
            ..limits
        };
        assert!(ObjectKey::new(&format!("{}/x", "s".repeat(255)), segmented).is_ok());
        assert_eq!(
            ObjectKey::new(&format!("x/{}", "s".repeat(256)), segmented),
            Err(NameError::KeyTooLong)
        );
    }
}
