//! GetObject and HeadObject: version lookup, conditional headers, ranges, part numbers.

use bytes::Bytes;
use coffer_meta::{Bucket, ObjectData, ObjectVersion};

use crate::body::Segment;
use crate::{Engine, EngineError, ObjectBody};

/// A `Range: bytes=` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last` (inclusive) or `first-` when `last` is `None`.
    FromTo {
        /// First byte.
        first: u64,
        /// Last byte, inclusive.
        last: Option<u64>,
    },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The inclusive byte span within an object of `size` bytes, or `InvalidRange`.
    pub fn resolve(self, size: u64) -> Result<(u64, u64), EngineError> {
        match self {
            Self::FromTo { first, last } => {
                if first >= size {
                    return Err(EngineError::InvalidRange);
                }
                let last = last.map_or(size - 1, |l| l.min(size - 1));
                if last < first {
                    return Err(EngineError::InvalidRange);
                }
                Ok((first, last))
            }
            Self::Suffix(n) => {
                if n == 0 || size == 0 {
                    return Err(EngineError::InvalidRange);
                }
                Ok((size - n.min(size), size - 1))
            }
        }
    }
}

/// An ETag condition: `*` or one ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagCondition {
    /// `*`
    Any,
    /// One ETag, without quotes.
    Etag(String),
}

impl EtagCondition {
    fn matches(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Etag(e) => e == etag,
        }
    }
}

/// Conditional request headers (`If-*` or `x-amz-copy-source-if-*`).
#[derive(Debug, Clone, Default)]
pub struct ReadConditions {
    /// If-Match.
    pub if_match: Option<EtagCondition>,
    /// If-None-Match.
    pub if_none_match: Option<EtagCondition>,
    /// If-Modified-Since, seconds since the epoch.
    pub if_modified_since: Option<i64>,
    /// If-Unmodified-Since, seconds since the epoch.
    pub if_unmodified_since: Option<i64>,
}

impl ReadConditions {
    /// Evaluates the conditions as S3 does for GET/HEAD: a failed If-Match or
    /// If-Unmodified-Since is 412; a matching If-None-Match or an unmodified
    /// If-Modified-Since is 304. `copy` turns every failure into 412, as CopyObject does.
    pub fn check(&self, version: &ObjectVersion, copy: bool) -> Result<(), EngineError> {
        let modified_secs = version.last_modified.div_euclid(1000);
        if let Some(cond) = &self.if_match {
            if !cond.matches(&version.etag) {
                return Err(EngineError::PreconditionFailed);
            }
        } else if let Some(since) = self.if_unmodified_since
            && modified_secs > since
        {
            return Err(EngineError::PreconditionFailed);
        }
        let not_modified = if copy {
            EngineError::PreconditionFailed
        } else {
            EngineError::NotModified
        };
        if let Some(cond) = &self.if_none_match {
            if cond.matches(&version.etag) {
                return Err(not_modified);
            }
        } else if let Some(since) = self.if_modified_since
            && modified_secs <= since
        {
            return Err(not_modified);
        }
        Ok(())
    }
}

/// A GetObject / HeadObject as the engine sees it.
#[derive(Debug, Clone, Default)]
pub struct GetObjectRequest {
    /// Key.
    pub key: String,
    /// A specific version (`null` addresses the unversioned object).
    pub version_id: Option<String>,
    /// Range, if any.
    pub range: Option<ByteRange>,
    /// partNumber, if any.
    pub part_number: Option<u32>,
    /// Conditional headers.
    pub conditions: ReadConditions,
}

/// The result of a read: the version's metadata, what span of it is returned, and the bytes.
pub struct ObjectRead {
    /// The version read.
    pub version: ObjectVersion,
    /// The inclusive span returned when a range or part was asked for.
    pub span: Option<(u64, u64)>,
    /// Number of bytes in the body.
    pub content_length: u64,
    /// The bytes (empty for HEAD).
    pub body: ObjectBody,
}

impl Engine {
    /// Finds the version a request addresses; delete markers read as absent.
    pub async fn find_version(
        &self,
        bucket: &Bucket,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectVersion, EngineError> {
        let found = self.meta.get_object(bucket.id, key, version_id).await?;
        match (found, version_id) {
            (Some(v), _) if !v.is_delete_marker => Ok(v),
            (Some(_), Some(_)) => Err(EngineError::MethodNotAllowed(
                "The specified method is not allowed against a delete marker.".into(),
            )),
            (None, Some(v)) if v != "null" => Err(EngineError::NoSuchVersion),
            _ => Err(EngineError::NoSuchKey),
        }
    }

    /// Reads an object (or a range or part of it). With `with_body` false nothing is opened.
    pub async fn get_object(
        &self,
        bucket: &Bucket,
        request: &GetObjectRequest,
        with_body: bool,
    ) -> Result<ObjectRead, EngineError> {
        let version = self
            .find_version(bucket, &request.key, request.version_id.as_deref())
            .await?;
        request.conditions.check(&version, false)?;
        let parts = match &version.data {
            ObjectData::Manifest { parts, .. } => Some(parts.as_slice()),
            _ => None,
        };
        let span = match (request.part_number, parts) {
            (Some(n), Some(parts)) => {
                let index = (n as usize)
                    .checked_sub(1)
                    .filter(|i| *i < parts.len())
                    .ok_or(EngineError::InvalidPartNumber)?;
                let start: u64 = parts[..index].iter().map(|p| p.size).sum();
                let size = parts[index].size;
                if size == 0 {
                    None
                } else {
                    Some((start, start + size - 1))
                }
            }
            (Some(1), None) if version.size > 0 => Some((0, version.size - 1)),
            (Some(1), None) => None,
            (Some(_), None) => return Err(EngineError::InvalidPartNumber),
            (None, _) => match request.range {
                Some(range) => Some(range.resolve(version.size)?),
                None => None,
            },
        };
        let (start, len) = match span {
            Some((first, last)) => (first, last - first + 1),
            None => (0, version.size),
        };
        let segments = if with_body {
            segments_for(&version, start, len)?
        } else {
            Vec::new()
        };
        Ok(ObjectRead {
            span,
            content_length: len,
            body: ObjectBody::new(self.blobs.clone(), segments),
            version,
        })
    }
}

/// Maps `[start, start + len)` of a version onto the memory and blob segments holding it.
pub(crate) fn segments_for(
    version: &ObjectVersion,
    start: u64,
    len: u64,
) -> Result<Vec<Segment>, EngineError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    match &version.data {
        ObjectData::Inline(bytes) => {
            let from = usize::try_from(start).map_err(|e| EngineError::Internal(e.to_string()))?;
            let to =
                usize::try_from(start + len).map_err(|e| EngineError::Internal(e.to_string()))?;
            let slice = bytes.get(from..to).ok_or_else(|| {
                EngineError::Internal("inline object shorter than its size".into())
            })?;
            Ok(vec![Segment::Memory(Bytes::copy_from_slice(slice))])
        }
        ObjectData::Blob(blob_id) => Ok(vec![Segment::Blob {
            blob_id: blob_id.clone(),
            offset: start,
            len,
        }]),
        ObjectData::Manifest { parts, .. } => {
            let end = start + len;
            let mut segments = Vec::new();
            let mut part_start = 0u64;
            for part in parts {
                let part_end = part_start + part.size;
                if part_end > start && part_start < end {
                    let from = start.max(part_start);
                    let to = end.min(part_end);
                    segments.push(Segment::Blob {
                        blob_id: part.blob_id.clone(),
                        offset: from - part_start,
                        len: to - from,
                    });
                }
                part_start = part_end;
                if part_start >= end {
                    break;
                }
            }
            Ok(segments)
        }
        ObjectData::None => Err(EngineError::NoSuchKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_s3() {
        let r = |first, last| ByteRange::FromTo { first, last };
        assert_eq!(r(0, Some(9)).resolve(100).unwrap(), (0, 9));
        assert_eq!(r(90, Some(200)).resolve(100).unwrap(), (90, 99));
        assert_eq!(r(10, None).resolve(100).unwrap(), (10, 99));
        assert_eq!(ByteRange::Suffix(10).resolve(100).unwrap(), (90, 99));
        assert_eq!(ByteRange::Suffix(500).resolve(100).unwrap(), (0, 99));
        assert!(matches!(
            r(100, None).resolve(100),
            Err(EngineError::InvalidRange)
        ));
        assert!(matches!(
            ByteRange::Suffix(0).resolve(100),
            Err(EngineError::InvalidRange)
        ));
        assert!(matches!(
            r(0, None).resolve(0),
            Err(EngineError::InvalidRange)
        ));
    }
}
