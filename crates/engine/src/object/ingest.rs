//! Taking a body in: stream it to a blob (or keep it inline when small) while hashing, then
//! verify what the client declared (Content-MD5, `x-amz-checksum-*`, trailers).

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use coffer_blob::{BodyDigest, Digester};
use coffer_core::ChecksumAlgorithm;
use coffer_meta::ObjectData;
use futures::StreamExt;

use crate::{BodyStream, Engine, EngineError};

/// Trailing checksum values, available once the body has been read to its end.
pub type TrailerSource = Box<dyn FnOnce() -> BTreeMap<ChecksumAlgorithm, String> + Send + Sync>;

/// The checksums a request asks the server to compute, verify and store.
#[derive(Default)]
pub struct ChecksumRequest {
    /// `x-amz-checksum-algorithm` (or the algorithm named by `x-amz-trailer`).
    pub algorithm: Option<ChecksumAlgorithm>,
    /// Values sent in headers, to verify.
    pub expected: BTreeMap<ChecksumAlgorithm, String>,
    /// Values that arrive in the trailer, to verify after the body.
    pub trailer: Option<TrailerSource>,
}

impl std::fmt::Debug for ChecksumRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChecksumRequest")
            .field("algorithm", &self.algorithm)
            .field("expected", &self.expected)
            .field("trailer", &self.trailer.is_some())
            .finish()
    }
}

impl ChecksumRequest {
    /// Algorithms to compute while the bytes pass.
    pub(crate) fn algorithms(&self) -> Vec<ChecksumAlgorithm> {
        let mut algorithms: Vec<ChecksumAlgorithm> = self.expected.keys().copied().collect();
        algorithms.extend(self.algorithm);
        algorithms.sort();
        algorithms.dedup();
        algorithms
    }
}

/// Size limits of one ingest.
pub(crate) struct IngestLimits {
    pub max_size: u64,
    pub content_length: Option<u64>,
    pub allow_inline: bool,
}

/// A body that has been stored (inline bytes or a durable blob) and hashed.
pub(crate) struct Ingested {
    pub data: ObjectData,
    pub digest: BodyDigest,
}

impl Engine {
    /// Reads `body` to its end into an inline buffer or a new blob, hashing it once.
    pub(crate) async fn ingest(
        &self,
        mut body: BodyStream,
        limits: &IngestLimits,
        algorithms: Vec<ChecksumAlgorithm>,
    ) -> Result<Ingested, EngineError> {
        if limits
            .content_length
            .is_some_and(|len| len > limits.max_size)
        {
            return Err(EngineError::EntityTooLarge);
        }
        let inline_limit = if limits.allow_inline {
            self.config.inline_threshold
        } else {
            0
        };
        let mut buffer = BytesMut::new();
        let mut writer = None;
        // Parts are always blobs, even empty ones.
        if !limits.allow_inline
            || limits
                .content_length
                .is_some_and(|len| len > inline_limit as u64)
        {
            let mut w = self.blobs.writer(algorithms.clone());
            if let Some(len) = limits.content_length {
                w = w.expect_size(len);
            }
            writer = Some(w);
        }
        let mut total: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(EngineError::Body)?;
            total += chunk.len() as u64;
            if total > limits.max_size {
                return Err(EngineError::EntityTooLarge);
            }
            if limits.content_length.is_some_and(|len| total > len) {
                return Err(EngineError::IncompleteBody);
            }
            match &mut writer {
                Some(w) => w.write(chunk).await?,
                None if buffer.len() + chunk.len() <= inline_limit => {
                    buffer.extend_from_slice(&chunk);
                }
                None => {
                    let mut w = self.blobs.writer(algorithms.clone());
                    if !buffer.is_empty() {
                        w.write(buffer.split().freeze()).await?;
                    }
                    w.write(chunk).await?;
                    writer = Some(w);
                }
            }
        }
        if limits.content_length.is_some_and(|len| total != len) {
            return Err(EngineError::IncompleteBody);
        }
        match writer {
            Some(w) => {
                let (blob_id, digest) = w.finish().await?;
                Ok(Ingested {
                    data: ObjectData::Blob(blob_id),
                    digest,
                })
            }
            None => {
                let bytes: Bytes = buffer.freeze();
                let mut digester = Digester::new(algorithms);
                digester.update(&bytes);
                Ok(Ingested {
                    data: ObjectData::Inline(bytes.to_vec()),
                    digest: digester.finish(),
                })
            }
        }
    }

    /// Frees the bytes of an ingest whose commit definitely did not happen. After an
    /// ambiguous failure (the database itself failed) the bytes are left to the orphan sweep,
    /// which frees them only if no metadata refers to them.
    pub(crate) async fn discard_after(&self, error: &coffer_meta::MetaError, data: &ObjectData) {
        if !matches!(error, coffer_meta::MetaError::Database(_)) {
            self.discard(data).await;
        }
    }

    /// Frees the bytes of an ingest that will not be committed.
    pub(crate) async fn discard(&self, data: &ObjectData) {
        if let ObjectData::Blob(blob_id) = data
            && let Err(e) = self.blobs.delete(blob_id).await
        {
            tracing::warn!(error = %e, "could not remove an uncommitted blob; orphan GC will");
        }
    }
}

/// Decodes a base64 checksum value and checks its length for the algorithm.
fn decode_checksum(algorithm: ChecksumAlgorithm, value: &str) -> Result<Vec<u8>, EngineError> {
    let expected_len = match algorithm {
        ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
        ChecksumAlgorithm::Crc64Nvme => 8,
        ChecksumAlgorithm::Sha1 => 20,
        ChecksumAlgorithm::Sha256 => 32,
    };
    match base64::engine::general_purpose::STANDARD.decode(value.trim()) {
        Ok(raw) if raw.len() == expected_len => Ok(raw),
        _ => Err(EngineError::InvalidRequest(format!(
            "Value for x-amz-checksum-{} header is invalid.",
            algorithm.as_str().to_ascii_lowercase()
        ))),
    }
}

/// Checks Content-MD5 and the declared checksums against what was computed.
pub(crate) fn verify(
    digest: &BodyDigest,
    content_md5: Option<&str>,
    checksums: &mut ChecksumRequest,
) -> Result<(), EngineError> {
    if let Some(md5) = content_md5 {
        let declared = base64::engine::general_purpose::STANDARD
            .decode(md5.trim())
            .ok()
            .filter(|raw| raw.len() == 16)
            .ok_or(EngineError::InvalidDigest)?;
        if declared != digest.md5 {
            return Err(EngineError::BadDigest(
                "The Content-MD5 you specified did not match what we received.".into(),
            ));
        }
    }
    let mut expected = std::mem::take(&mut checksums.expected);
    if let Some(trailer) = checksums.trailer.take() {
        expected.extend(trailer());
    }
    for (algorithm, value) in &expected {
        let declared = decode_checksum(*algorithm, value)?;
        let computed = digest
            .checksums
            .get(algorithm)
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .ok_or(EngineError::UnsupportedChecksum(*algorithm))?;
        if declared != computed {
            return Err(EngineError::BadDigest(format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.as_str()
            )));
        }
    }
    Ok(())
}

/// Limits for a part: never inline, at most `max_part_size`.
pub(crate) fn ingest_limits_for_part(
    max_part_size: u64,
    content_length: Option<u64>,
) -> IngestLimits {
    IngestLimits {
        max_size: max_part_size,
        content_length,
        allow_inline: false,
    }
}
