//! Listings: objects (v1 and v2), object versions and multipart uploads.
//!
//! Every listing is a walk over a key-ordered index. With a delimiter, a key that folds into a
//! common prefix makes the walk seek past every key under that prefix (to the prefix's
//! successor), so a page costs O(page) index probes however many keys the prefix hides.

use std::future::Future;

use coffer_meta::{Bucket, ObjectSummary, ScanBound, Upload};

use crate::{Engine, EngineError};

/// Most entries one page may hold.
pub const MAX_PAGE: usize = 1000;

/// Rows fetched by the first scan after a fold.
const FIRST_BATCH: usize = 8;

/// One listing entry: an item or a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<T> {
    /// An object, version or upload.
    Item(T),
    /// A common prefix (ends with the delimiter).
    Prefix(String),
}

/// Where a listing starts or resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<Tie> {
    /// Key bound.
    pub bound: ScanBound,
    /// Within one key, resume after this item (versions and uploads).
    pub within: Option<(String, Tie)>,
}

impl<Tie> Cursor<Tie> {
    /// The start of the bucket.
    pub fn start() -> Self {
        Self {
            bound: ScanBound::Unbounded,
            within: None,
        }
    }
}

/// A page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T, Tie> {
    /// Items and prefixes in key order.
    pub entries: Vec<Entry<T>>,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// Where the next page starts, when truncated.
    pub next: Option<Cursor<Tie>>,
}

/// What a listing asks for.
#[derive(Debug, Clone)]
pub struct ListQuery<Tie> {
    /// Only keys starting with this.
    pub prefix: String,
    /// Fold keys at the first delimiter after the prefix.
    pub delimiter: Option<String>,
    /// Where to start.
    pub cursor: Cursor<Tie>,
    /// At most this many entries (items plus prefixes).
    pub max_keys: usize,
}

/// Something with a key and a tie-breaker among items of one key.
pub trait Listed {
    /// Orders items that share a key.
    type Tie: Clone;
    /// The item's key.
    fn key(&self) -> &str;
    /// The item's tie-breaker.
    fn tie(&self) -> Self::Tie;
}

impl Listed for ObjectSummary {
    type Tie = i64;
    fn key(&self) -> &str {
        &self.key
    }
    fn tie(&self) -> i64 {
        self.id
    }
}

impl Listed for Upload {
    type Tie = String;
    fn key(&self) -> &str {
        &self.key
    }
    fn tie(&self) -> String {
        self.upload_id.clone()
    }
}

/// The smallest string greater than every string starting with `prefix`, if one exists.
pub fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if next == 0xD800 {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The later of two lower bounds.
fn max_bound(a: ScanBound, b: ScanBound) -> ScanBound {
    let key = |x: &ScanBound| match x {
        ScanBound::Unbounded => None,
        ScanBound::Included(k) | ScanBound::Excluded(k) => Some(k.clone()),
    };
    match (key(&a), key(&b)) {
        (None, _) => b,
        (_, None) => a,
        (Some(ka), Some(kb)) if ka > kb => a,
        (Some(ka), Some(kb)) if kb > ka => b,
        _ => {
            if matches!(a, ScanBound::Excluded(_)) {
                a
            } else {
                b
            }
        }
    }
}

/// Walks a key-ordered scan into a page, folding common prefixes.
///
/// `scan(cursor, limit)` returns up to `limit` items at or after `cursor`, below the prefix's
/// successor, in key order.
pub async fn fold<T, Tie, F, Fut>(
    query: ListQuery<Tie>,
    mut scan: F,
) -> Result<Page<T, Tie>, EngineError>
where
    T: Listed<Tie = Tie>,
    Tie: Clone,
    F: FnMut(Cursor<Tie>, usize) -> Fut,
    Fut: Future<Output = Result<Vec<T>, EngineError>>,
{
    let max_keys = query.max_keys.min(MAX_PAGE);
    let prefix = query.prefix;
    let delimiter = query.delimiter.filter(|d| !d.is_empty());
    let mut cursor = Cursor {
        bound: max_bound(query.cursor.bound, ScanBound::Included(prefix.clone())),
        // A marker inside one key only counts when that key is within the prefix.
        within: query
            .cursor
            .within
            .filter(|(key, _)| key.starts_with(prefix.as_str())),
    };
    let mut entries = Vec::new();
    // With no successor for a folded prefix, rows under it are skipped one by one.
    let mut skip_under: Option<String> = None;
    if max_keys == 0 {
        return Ok(Page {
            entries,
            is_truncated: false,
            next: None,
        });
    }
    // With a delimiter, rows read past a fold are wasted, so batches start small after each
    // fold and double while keys keep coming unfolded.
    let mut batch = if delimiter.is_some() {
        FIRST_BATCH
    } else {
        MAX_PAGE + 1
    };
    'walk: loop {
        let want = (max_keys - entries.len() + 1).min(batch);
        batch = (batch * 2).min(MAX_PAGE + 1);
        let rows = scan(cursor.clone(), want).await?;
        let exhausted = rows.len() < want;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let key = row.key().to_owned();
            if let Some(skip) = &skip_under
                && key.starts_with(skip.as_str())
            {
                cursor = Cursor {
                    bound: ScanBound::Excluded(key),
                    within: None,
                };
                continue;
            }
            let folded = delimiter.as_deref().and_then(|d| {
                key.get(prefix.len()..)
                    .and_then(|rest| rest.find(d))
                    .map(|pos| key[..prefix.len() + pos + d.len()].to_owned())
            });
            if entries.len() == max_keys {
                return Ok(Page {
                    entries,
                    is_truncated: true,
                    next: Some(cursor),
                });
            }
            match folded {
                Some(common) => {
                    entries.push(Entry::Prefix(common.clone()));
                    match prefix_successor(&common) {
                        Some(next) => {
                            cursor = Cursor {
                                bound: ScanBound::Included(next),
                                within: None,
                            };
                            skip_under = None;
                            batch = FIRST_BATCH;
                            continue 'walk;
                        }
                        None => {
                            cursor = Cursor {
                                bound: ScanBound::Excluded(key),
                                within: None,
                            };
                            skip_under = Some(common);
                        }
                    }
                }
                None => {
                    let tie = row.tie();
                    entries.push(Entry::Item(row));
                    cursor = Cursor {
                        bound: ScanBound::Excluded(key.clone()),
                        within: Some((key, tie)),
                    };
                }
            }
        }
        if exhausted {
            break;
        }
    }
    Ok(Page {
        entries,
        is_truncated: false,
        next: None,
    })
}

impl Engine {
    /// Current objects of a bucket. The whole walk runs on one read connection in one blocking
    /// task: a delimiter listing seeks once per common prefix, and a hop to a blocking thread
    /// for each seek made listing ten folders cost ten hops.
    pub async fn list_objects(
        &self,
        bucket: &Bucket,
        query: ListQuery<i64>,
    ) -> Result<Page<ObjectSummary, i64>, EngineError> {
        let upper = prefix_successor(&query.prefix).filter(|_| !query.prefix.is_empty());
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.meta
            .with_object_scanner(
                bucket.id,
                Box::new(move |scanner| {
                    // Every scan is synchronous, so the walk's future never waits: polling it
                    // to completion here blocks on nothing but the scans themselves.
                    let page = futures::executor::block_on(fold(query, |cursor, limit| {
                        std::future::ready(
                            scanner
                                .scan(&cursor.bound, upper.as_deref(), limit)
                                .map_err(EngineError::from),
                        )
                    }));
                    let _ = tx.send(page);
                }),
            )
            .await?;
        rx.await
            .map_err(|_| EngineError::Internal("listing walk ended without a page".into()))?
    }

    pub async fn list_versions(
        &self,
        bucket: &Bucket,
        query: ListQuery<i64>,
    ) -> Result<Page<ObjectSummary, i64>, EngineError> {
        let upper = prefix_successor(&query.prefix).filter(|_| !query.prefix.is_empty());
        let meta = self.meta.clone();
        let bucket_id = bucket.id;
        fold(query, move |cursor, limit| {
            let meta = meta.clone();
            let upper = upper.clone();
            async move {
                Ok(meta
                    .scan_versions(bucket_id, cursor.bound, cursor.within, upper, limit)
                    .await?)
            }
        })
        .await
    }

    /// The row id of a version, to resume a versions listing after it.
    pub async fn version_row(
        &self,
        bucket: &Bucket,
        key: &str,
        version_id: &str,
    ) -> Result<Option<i64>, EngineError> {
        Ok(self
            .meta
            .get_object(bucket.id, key, Some(version_id))
            .await?
            .map(|v| v.id))
    }

    /// Multipart uploads in progress in a bucket.
    pub async fn list_uploads(
        &self,
        bucket: &Bucket,
        query: ListQuery<String>,
    ) -> Result<Page<Upload, String>, EngineError> {
        let upper = prefix_successor(&query.prefix).filter(|_| !query.prefix.is_empty());
        let meta = self.meta.clone();
        let bucket_id = bucket.id;
        fold(query, move |cursor, limit| {
            let meta = meta.clone();
            let upper = upper.clone();
            async move {
                Ok(meta
                    .scan_uploads(bucket_id, cursor.bound, cursor.within, upper, limit)
                    .await?)
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct K(String);
    impl Listed for K {
        type Tie = ();
        fn key(&self) -> &str {
            &self.0
        }
        fn tie(&self) {}
    }

    fn in_bound(key: &str, bound: &ScanBound) -> bool {
        match bound {
            ScanBound::Unbounded => true,
            ScanBound::Included(b) => key >= b.as_str(),
            ScanBound::Excluded(b) => key > b.as_str(),
        }
    }

    /// Lists `keys` page by page, counting scan calls and rows read.
    fn list_all(
        keys: &[&str],
        prefix: &str,
        delimiter: Option<&str>,
        page: usize,
    ) -> (Vec<Entry<K>>, usize, usize) {
        let mut sorted: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        sorted.sort();
        let upper = prefix_successor(prefix).filter(|_| !prefix.is_empty());
        let mut out = Vec::new();
        let mut cursor = Cursor::start();
        let (mut calls, mut rows_read) = (0, 0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        loop {
            let query = ListQuery {
                prefix: prefix.to_owned(),
                delimiter: delimiter.map(str::to_owned),
                cursor: cursor.clone(),
                max_keys: page,
            };
            let result = runtime
                .block_on(fold(query, |c: Cursor<()>, limit| {
                    calls += 1;
                    let rows: Vec<K> = sorted
                        .iter()
                        .filter(|k| in_bound(k, &c.bound))
                        .filter(|k| upper.as_ref().is_none_or(|u| k.as_str() < u.as_str()))
                        .take(limit)
                        .map(|k| K(k.clone()))
                        .collect();
                    rows_read += rows.len();
                    async move { Ok(rows) }
                }))
                .unwrap();
            out.extend(result.entries);
            match result.next {
                Some(next) if result.is_truncated => cursor = next,
                _ => break,
            }
        }
        (out, calls, rows_read)
    }

    fn names(entries: &[Entry<K>]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Item(k) => k.0.clone(),
                Entry::Prefix(p) => format!("P:{p}"),
            })
            .collect()
    }

    #[test]
    fn successor_bounds_every_key_under_a_prefix() {
        assert_eq!(prefix_successor("a/").as_deref(), Some("a0"));
        assert_eq!(prefix_successor("").as_deref(), None);
        assert_eq!(prefix_successor("\u{10FFFF}"), None);
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
    }

    #[test]
    fn pages_return_every_key_once_in_order() {
        let keys = ["a", "b/1", "b/2", "c", "d/x/1", "d/y", "e"];
        for page in [1, 2, 3, 1000] {
            let (entries, _, _) = list_all(&keys, "", None, page);
            assert_eq!(names(&entries), keys.to_vec(), "page size {page}");
        }
    }

    #[test]
    fn delimiter_folds_prefixes() {
        let keys = ["a", "b/1", "b/2", "c", "d/x/1", "d/y", "e"];
        for page in [1, 2, 1000] {
            let (entries, _, _) = list_all(&keys, "", Some("/"), page);
            assert_eq!(
                names(&entries),
                ["a", "P:b/", "c", "P:d/", "e"],
                "page {page}"
            );
            let (entries, _, _) = list_all(&keys, "d/", Some("/"), page);
            assert_eq!(names(&entries), ["P:d/x/", "d/y"], "page {page}");
        }
    }

    #[test]
    fn folded_prefixes_are_skipped_not_scanned() {
        let many: Vec<String> = (0..5000).map(|i| format!("big/{i:05}")).collect();
        let mut keys: Vec<&str> = many.iter().map(String::as_str).collect();
        keys.push("z");
        let (entries, calls, rows_read) = list_all(&keys, "", Some("/"), 1000);
        assert_eq!(names(&entries), ["P:big/", "z"]);
        assert!(calls <= 3, "{calls} scans");
        assert!(
            rows_read <= 2 * FIRST_BATCH,
            "{rows_read} rows read for two entries"
        );
    }
}
