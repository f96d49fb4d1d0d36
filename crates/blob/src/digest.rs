//! One pass over the bytes: MD5 for the ETag plus any requested `x-amz-checksum-*` algorithms.

use std::collections::BTreeMap;

use base64::Engine as _;
use coffer_core::ChecksumAlgorithm;
use md5_many::Digest as _;

/// What one pass over a body computed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyDigest {
    /// Number of bytes seen.
    pub size: u64,
    /// MD5 of the bytes (the ETag of a single-part object).
    pub md5: [u8; 16],
    /// Requested checksums, base64 of the big-endian digest as S3 prints them.
    pub checksums: BTreeMap<ChecksumAlgorithm, String>,
}

enum Hasher {
    Crc(crc_fast::Digest, usize),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

/// Hashes a body as it streams by.
pub struct Digester {
    size: u64,
    md5: md5_many::Md5,
    others: Vec<(ChecksumAlgorithm, Hasher)>,
}

impl Digester {
    /// A digester computing MD5 and each algorithm of `algorithms`.
    pub fn new(algorithms: impl IntoIterator<Item = ChecksumAlgorithm>) -> Self {
        let mut others: Vec<(ChecksumAlgorithm, Hasher)> = Vec::new();
        for algorithm in algorithms {
            if others.iter().any(|(a, _)| *a == algorithm) {
                continue;
            }
            let hasher = match algorithm {
                ChecksumAlgorithm::Crc32 => Hasher::Crc(
                    crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
                    4,
                ),
                ChecksumAlgorithm::Crc32c => {
                    Hasher::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi), 4)
                }
                ChecksumAlgorithm::Crc64Nvme => {
                    Hasher::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme), 8)
                }
                ChecksumAlgorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
                ChecksumAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            };
            others.push((algorithm, hasher));
        }
        Self {
            size: 0,
            md5: md5_many::Md5::new(),
            others,
        }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        self.md5.update(data);
        for (_, hasher) in &mut self.others {
            match hasher {
                Hasher::Crc(d, _) => d.update(data),
                Hasher::Sha1(d) => d.update(data),
                Hasher::Sha256(d) => d.update(data),
            }
        }
    }

    /// The digests of everything fed so far.
    pub fn finish(self) -> BodyDigest {
        let mut checksums = BTreeMap::new();
        for (algorithm, hasher) in self.others {
            let raw: Vec<u8> = match hasher {
                Hasher::Crc(d, width) => {
                    let value = d.finalize().to_be_bytes();
                    value[8 - width..].to_vec()
                }
                Hasher::Sha1(d) => d.finalize().to_vec(),
                Hasher::Sha256(d) => d.finalize().to_vec(),
            };
            checksums.insert(
                algorithm,
                base64::engine::general_purpose::STANDARD.encode(raw),
            );
        }
        BodyDigest {
            size: self.size,
            md5: self.md5.finalize().into(),
            checksums,
        }
    }
}

/// Computes the checksum of `data` with one algorithm, as raw big-endian bytes.
pub fn checksum_raw(algorithm: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut digester = Digester::new([algorithm]);
    digester.update(data);
    let digest = digester.finish();
    digest
        .checksums
        .get(&algorithm)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let mut d = Digester::new(ChecksumAlgorithm::ALL);
        d.update(b"hello ");
        d.update(b"world");
        let out = d.finish();
        assert_eq!(out.size, 11);
        assert_eq!(hex(&out.md5), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        // Reference values computed with independent tools (zlib crc32, crc32c, sha sums).
        assert_eq!(out.checksums[&ChecksumAlgorithm::Crc32], "DUoRhQ==");
        assert_eq!(out.checksums[&ChecksumAlgorithm::Crc32c], "yZRlqg==");
        assert_eq!(
            out.checksums[&ChecksumAlgorithm::Sha1],
            "Kq5sNclPz7QV2+lfQIuc6R7oRu0="
        );
        assert_eq!(
            out.checksums[&ChecksumAlgorithm::Sha256],
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
        );
    }

    /// The server's MD5 (`md5-many`, which picks a code path by CPU) against an independent
    /// implementation (`md-5`), over the lengths around MD5's block and padding edges and
    /// random lengths fed in random chunk sizes.
    #[test]
    fn md5_matches_an_independent_implementation() {
        use md5::Digest as _;
        let data: Vec<u8> = (0..(3u32 << 20))
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        let mut lengths: Vec<usize> = (0..=200).collect();
        lengths.extend([4095, 4096, 4097, 65_535, 65_536, 65_537, 1 << 20, 3 << 20]);
        for _ in 0..200 {
            lengths.push(next(data.len() + 1));
        }
        for len in lengths {
            let start = next(64).min(data.len() - len);
            let message = &data[start..start + len];
            let mut ours = Digester::new([]);
            let mut offset = 0;
            while offset < message.len() {
                let n = (1 + next(300_000)).min(message.len() - offset);
                ours.update(&message[offset..offset + n]);
                offset += n;
            }
            let expected: [u8; 16] = md5::Md5::digest(message).into();
            assert_eq!(ours.finish().md5, expected, "length {len}");
        }
    }

    fn hex(bytes: &[u8]) -> String {
        use std::fmt::Write as _;
        bytes.iter().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }
}
