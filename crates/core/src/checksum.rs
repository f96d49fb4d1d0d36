//! The additional checksum algorithms S3 defines (`x-amz-checksum-*`).

use std::fmt;
use std::str::FromStr;

/// One of the additional checksum algorithms a client may ask S3 to verify and store.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC), base64 of 4 big-endian bytes.
    Crc32,
    /// CRC-32C (Castagnoli), base64 of 4 big-endian bytes.
    Crc32c,
    /// CRC-64/NVME, base64 of 8 big-endian bytes.
    Crc64Nvme,
    /// SHA-1, base64 of 20 bytes.
    Sha1,
    /// SHA-256, base64 of 32 bytes.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in a fixed order.
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// The name S3 uses in `x-amz-checksum-algorithm` and XML (`CRC32`, `SHA256`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// Whether the algorithm is a CRC (these allow FULL_OBJECT multipart checksums).
    pub fn is_crc(self) -> bool {
        matches!(self, Self::Crc32 | Self::Crc32c | Self::Crc64Nvme)
    }
}

/// The name is not an algorithm S3 defines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown checksum algorithm")]
pub struct UnknownChecksumAlgorithm;

impl FromStr for ChecksumAlgorithm {
    type Err = UnknownChecksumAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or(UnknownChecksumAlgorithm)
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
