//! Listing operations: ListObjects (v1, v2), ListObjectVersions, ListMultipartUploads.

use base64::Engine as _;
use coffer_engine::list::{Cursor, Entry, ListQuery, MAX_PAGE, prefix_successor};
use coffer_meta::ScanBound;
#[allow(clippy::wildcard_imports)] // s3s DTO names mirror the S3 API one to one.
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use crate::convert::{algorithm_name, etag, owner, timestamp};
use crate::error::{EngineResultExt, s3};
use crate::service::CofferS3;

/// Whether keys in the response are URL-encoded (`encoding-type=url`).
fn url_encoding(encoding: Option<&EncodingType>) -> S3Result<bool> {
    match encoding.map(EncodingType::as_str) {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case(EncodingType::URL) => Ok(true),
        Some(_) => Err(s3(
            S3ErrorCode::InvalidArgument,
            "Invalid Encoding Method specified in Request",
        )),
    }
}

/// Percent-encodes everything but unreserved characters and `/`, as S3 does for
/// `encoding-type=url`.
fn url_encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

struct Encoder(bool);

impl Encoder {
    fn apply(&self, s: String) -> String {
        if self.0 { url_encode(&s) } else { s }
    }

    fn opt(&self, s: Option<String>) -> Option<String> {
        s.map(|s| self.apply(s))
    }
}

fn max_keys(value: Option<i32>) -> S3Result<usize> {
    match value {
        None => Ok(MAX_PAGE),
        Some(n) if n < 0 => Err(s3(
            S3ErrorCode::InvalidArgument,
            "Argument max-keys must be an integer between 0 and 2147483647",
        )),
        Some(n) => Ok((n as usize).min(MAX_PAGE)),
    }
}

/// A marker (v1 `marker`, `start-after`, `key-marker`) as a lower bound. A marker that is
/// itself a common prefix resumes after everything under it, so no prefix is listed twice.
fn marker_bound(marker: &str, prefix: &str, delimiter: Option<&str>) -> ScanBound {
    if marker.is_empty() {
        return ScanBound::Unbounded;
    }
    if let Some(d) = delimiter.filter(|d| !d.is_empty())
        && let Some(rest) = marker.strip_prefix(prefix)
        && rest.ends_with(d)
        && rest.find(d) == Some(rest.len() - d.len())
        && let Some(next) = prefix_successor(marker)
    {
        return ScanBound::Included(next);
    }
    ScanBound::Excluded(marker.to_owned())
}

fn encode_token(bound: &ScanBound) -> String {
    let raw = match bound {
        ScanBound::Unbounded => String::new(),
        ScanBound::Included(k) => format!("I{k}"),
        ScanBound::Excluded(k) => format!("E{k}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_token(token: &str) -> S3Result<ScanBound> {
    let invalid = || {
        s3(
            S3ErrorCode::InvalidArgument,
            "The continuation token provided is incorrect",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    match raw.split_at_checked(1) {
        Some(("I", k)) => Ok(ScanBound::Included(k.to_owned())),
        Some(("E", k)) => Ok(ScanBound::Excluded(k.to_owned())),
        _ => Err(invalid()),
    }
}

fn object_entry(s: &coffer_meta::ObjectSummary, enc: &Encoder, with_owner: bool) -> Object {
    Object {
        key: Some(enc.apply(s.key.clone())),
        last_modified: Some(timestamp(s.last_modified)),
        e_tag: Some(etag(&s.etag)),
        size: Some(s.size as i64),
        storage_class: Some(ObjectStorageClass::from(s.storage_class.clone())),
        owner: with_owner.then(|| owner(&s.owner)),
        checksum_algorithm: (!s.checksum_algorithms.is_empty()).then(|| {
            s.checksum_algorithms
                .iter()
                .map(|a| ChecksumAlgorithm::from(algorithm_name(*a)))
                .collect()
        }),
        checksum_type: None,
        restore_status: None,
    }
}

impl CofferS3 {
    pub(crate) async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let enc = Encoder(url_encoding(input.encoding_type.as_ref())?);
        let prefix = input.prefix.unwrap_or_default();
        let delimiter = input.delimiter.filter(|d| !d.is_empty());
        let marker = input.marker.unwrap_or_default();
        let max_keys_value = max_keys(input.max_keys)?;
        let page = self
            .engine
            .list_objects(
                &bucket,
                ListQuery {
                    prefix: prefix.clone(),
                    delimiter: delimiter.clone(),
                    cursor: Cursor {
                        bound: marker_bound(&marker, &prefix, delimiter.as_deref()),
                        within: None,
                    },
                    max_keys: max_keys_value,
                },
            )
            .await
            .s3()?;
        let last = page.entries.last().map(|e| match e {
            Entry::Item(o) => o.key.clone(),
            Entry::Prefix(p) => p.clone(),
        });
        let (contents, common_prefixes) =
            split(page.entries, |o| object_entry(&o, &enc, true), &enc);
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(bucket.name),
            prefix: Some(enc.apply(prefix)),
            marker: Some(enc.apply(marker)),
            max_keys: Some(max_keys_value as i32),
            is_truncated: Some(page.is_truncated),
            next_marker: if page.is_truncated && delimiter.is_some() {
                enc.opt(last)
            } else {
                None
            },
            delimiter: enc.opt(delimiter),
            encoding_type: input.encoding_type,
            contents: Some(contents),
            common_prefixes: Some(common_prefixes),
            request_charged: None,
        }))
    }

    pub(crate) async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let enc = Encoder(url_encoding(input.encoding_type.as_ref())?);
        let prefix = input.prefix.unwrap_or_default();
        let delimiter = input.delimiter.filter(|d| !d.is_empty());
        let max_keys_value = max_keys(input.max_keys)?;
        let bound = match (&input.continuation_token, &input.start_after) {
            (Some(token), _) => decode_token(token)?,
            (None, Some(after)) => marker_bound(after, &prefix, delimiter.as_deref()),
            (None, None) => ScanBound::Unbounded,
        };
        let page = self
            .engine
            .list_objects(
                &bucket,
                ListQuery {
                    prefix: prefix.clone(),
                    delimiter: delimiter.clone(),
                    cursor: Cursor {
                        bound,
                        within: None,
                    },
                    max_keys: max_keys_value,
                },
            )
            .await
            .s3()?;
        let with_owner = input.fetch_owner.unwrap_or(false);
        let key_count = page.entries.len() as i32;
        let next_token = page
            .next
            .as_ref()
            .filter(|_| page.is_truncated)
            .map(|c| encode_token(&c.bound));
        let (contents, common_prefixes) =
            split(page.entries, |o| object_entry(&o, &enc, with_owner), &enc);
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(bucket.name),
            prefix: Some(enc.apply(prefix)),
            max_keys: Some(max_keys_value as i32),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            is_truncated: Some(page.is_truncated),
            next_continuation_token: next_token,
            contents: Some(contents),
            common_prefixes: Some(common_prefixes),
            delimiter: enc.opt(delimiter),
            encoding_type: input.encoding_type,
            start_after: enc.opt(input.start_after),
            request_charged: None,
        }))
    }

    pub(crate) async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let enc = Encoder(url_encoding(input.encoding_type.as_ref())?);
        let prefix = input.prefix.unwrap_or_default();
        let delimiter = input.delimiter.filter(|d| !d.is_empty());
        let max_keys_value = max_keys(input.max_keys)?;
        let key_marker = input.key_marker.unwrap_or_default();
        let mut cursor = Cursor {
            bound: marker_bound(&key_marker, &prefix, delimiter.as_deref()),
            within: None,
        };
        if let Some(version_marker) = input.version_id_marker.as_deref().filter(|v| !v.is_empty())
            && !key_marker.is_empty()
            && let Some(row) = self
                .engine
                .version_row(&bucket, &key_marker, version_marker)
                .await
                .s3()?
        {
            cursor.within = Some((key_marker.clone(), row));
        }
        let page = self
            .engine
            .list_versions(
                &bucket,
                ListQuery {
                    prefix: prefix.clone(),
                    delimiter: delimiter.clone(),
                    cursor,
                    max_keys: max_keys_value,
                },
            )
            .await
            .s3()?;
        let (next_key_marker, next_version_id_marker) = match page.entries.last() {
            Some(Entry::Item(v)) if page.is_truncated => {
                (Some(v.key.clone()), Some(v.version_id.clone()))
            }
            Some(Entry::Prefix(p)) if page.is_truncated => (Some(p.clone()), None),
            _ => (None, None),
        };
        let mut versions = Vec::new();
        let mut delete_markers = Vec::new();
        let mut common_prefixes = Vec::new();
        for entry in page.entries {
            match entry {
                Entry::Prefix(p) => common_prefixes.push(CommonPrefix {
                    prefix: Some(enc.apply(p)),
                }),
                Entry::Item(v) if v.is_delete_marker => delete_markers.push(DeleteMarkerEntry {
                    is_latest: Some(v.is_latest),
                    key: Some(enc.apply(v.key)),
                    last_modified: Some(timestamp(v.last_modified)),
                    owner: Some(owner(&v.owner)),
                    version_id: Some(v.version_id),
                }),
                Entry::Item(v) => versions.push(ObjectVersion {
                    e_tag: Some(etag(&v.etag)),
                    is_latest: Some(v.is_latest),
                    last_modified: Some(timestamp(v.last_modified)),
                    owner: Some(owner(&v.owner)),
                    size: Some(v.size as i64),
                    storage_class: Some(ObjectVersionStorageClass::from(v.storage_class.clone())),
                    checksum_algorithm: (!v.checksum_algorithms.is_empty()).then(|| {
                        v.checksum_algorithms
                            .iter()
                            .map(|a| ChecksumAlgorithm::from(algorithm_name(*a)))
                            .collect()
                    }),
                    key: Some(enc.apply(v.key)),
                    version_id: Some(v.version_id),
                    ..Default::default()
                }),
            }
        }
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(bucket.name),
            prefix: Some(enc.apply(prefix)),
            key_marker: Some(enc.apply(key_marker)),
            version_id_marker: input.version_id_marker,
            max_keys: Some(max_keys_value as i32),
            is_truncated: Some(page.is_truncated),
            next_key_marker: enc.opt(next_key_marker),
            next_version_id_marker,
            delimiter: enc.opt(delimiter),
            encoding_type: input.encoding_type,
            versions: Some(versions),
            delete_markers: Some(delete_markers),
            common_prefixes: Some(common_prefixes),
            request_charged: None,
        }))
    }

    pub(crate) async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let bucket = Self::target_bucket(&req)?;
        let input = req.input;
        let enc = Encoder(url_encoding(input.encoding_type.as_ref())?);
        let prefix = input.prefix.unwrap_or_default();
        let delimiter = input.delimiter.filter(|d| !d.is_empty());
        let max_uploads = max_keys(input.max_uploads)?;
        let key_marker = input.key_marker.unwrap_or_default();
        let mut cursor = Cursor {
            bound: marker_bound(&key_marker, &prefix, delimiter.as_deref()),
            within: None,
        };
        if let Some(upload_marker) = input.upload_id_marker.as_deref().filter(|v| !v.is_empty())
            && !key_marker.is_empty()
        {
            cursor.within = Some((key_marker.clone(), upload_marker.to_owned()));
        }
        let page = self
            .engine
            .list_uploads(
                &bucket,
                ListQuery {
                    prefix: prefix.clone(),
                    delimiter: delimiter.clone(),
                    cursor,
                    max_keys: max_uploads,
                },
            )
            .await
            .s3()?;
        let (next_key_marker, next_upload_id_marker) = match page.entries.last() {
            Some(Entry::Item(u)) if page.is_truncated => {
                (Some(u.key.clone()), Some(u.upload_id.clone()))
            }
            Some(Entry::Prefix(p)) if page.is_truncated => (Some(p.clone()), None),
            _ => (None, None),
        };
        let mut uploads = Vec::new();
        let mut common_prefixes = Vec::new();
        for entry in page.entries {
            match entry {
                Entry::Prefix(p) => common_prefixes.push(CommonPrefix {
                    prefix: Some(enc.apply(p)),
                }),
                Entry::Item(u) => uploads.push(MultipartUpload {
                    checksum_algorithm: u
                        .headers
                        .checksum_algorithm
                        .map(|a| ChecksumAlgorithm::from(algorithm_name(a))),
                    initiated: Some(timestamp(u.initiated)),
                    initiator: Some(Initiator {
                        display_name: Some(u.owner.to_string()),
                        id: Some(u.owner.to_string()),
                    }),
                    owner: Some(owner(&u.owner)),
                    storage_class: Some(StorageClass::from(u.storage_class.clone())),
                    key: Some(enc.apply(u.key)),
                    upload_id: Some(u.upload_id),
                    checksum_type: None,
                }),
            }
        }
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(bucket.name),
            prefix: Some(enc.apply(prefix)),
            key_marker: Some(enc.apply(key_marker)),
            upload_id_marker: input.upload_id_marker,
            max_uploads: Some(max_uploads as i32),
            is_truncated: Some(page.is_truncated),
            next_key_marker: enc.opt(next_key_marker),
            next_upload_id_marker,
            delimiter: enc.opt(delimiter),
            encoding_type: input.encoding_type,
            uploads: Some(uploads),
            common_prefixes: Some(common_prefixes),
            request_charged: None,
        }))
    }
}

/// Splits page entries into contents and common prefixes.
fn split<T>(
    entries: Vec<Entry<T>>,
    item: impl Fn(T) -> Object,
    enc: &Encoder,
) -> (Vec<Object>, Vec<CommonPrefix>) {
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for entry in entries {
        match entry {
            Entry::Item(o) => contents.push(item(o)),
            Entry::Prefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(enc.apply(p)),
            }),
        }
    }
    (contents, prefixes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for bound in [
            ScanBound::Included("a/b0".into()),
            ScanBound::Excluded("ключ/x y".into()),
        ] {
            assert_eq!(decode_token(&encode_token(&bound)).unwrap(), bound);
        }
        assert!(decode_token("!!!").is_err());
        assert!(decode_token(&encode_token(&ScanBound::Unbounded)).is_err());
    }

    #[test]
    fn markers_that_are_prefixes_skip_their_keys() {
        assert_eq!(
            marker_bound("photos/", "", Some("/")),
            ScanBound::Included("photos0".into())
        );
        assert_eq!(
            marker_bound("photos/a", "", Some("/")),
            ScanBound::Excluded("photos/a".into())
        );
        assert_eq!(
            marker_bound("photos/", "", None),
            ScanBound::Excluded("photos/".into())
        );
    }

    #[test]
    fn url_encoding_matches_s3() {
        assert_eq!(url_encode("a b/c+d%é"), "a%20b/c%2Bd%25%C3%A9");
    }
}
