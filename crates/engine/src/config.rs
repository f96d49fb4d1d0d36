//! Engine settings.

use coffer_core::KeyLimits;

/// What the engine needs to know from the server configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Objects up to this size are stored in the metadata row.
    pub inline_threshold: usize,
    /// Largest single PUT (S3: 5 GiB).
    pub max_object_size: u64,
    /// Largest part (S3: 5 GiB).
    pub max_part_size: u64,
    /// Smallest part other than the last (S3: 5 MiB).
    pub min_part_size: u64,
    /// Key validation limits.
    pub key_limits: KeyLimits,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            inline_threshold: 64 * 1024,
            max_object_size: 5 * 1024 * 1024 * 1024,
            max_part_size: 5 * 1024 * 1024 * 1024,
            min_part_size: 5 * 1024 * 1024,
            key_limits: KeyLimits::default(),
        }
    }
}
