//! Object versions: read, write (with conditions), delete, key-ordered scans, blob garbage.

use coffer_core::AccountId;
use coffer_core::time::now_millis;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::accounts::{add_bucket_usage, add_usage};
use super::lower_clause;
use crate::store::ScanBound;
use crate::{
    DeleteOutcome, MetaError, NewObject, ObjectData, ObjectSummary, ObjectVersion, StoredChecksums,
    Versioning, WriteCondition, WriteOutcome,
};

const DATA_COLUMNS: &str = "id, bucket_id, key, version_id, is_latest, is_delete_marker, size, \
    etag, last_modified, storage_class, owner_account, headers, checksums, parts_count, blob_id, \
    upload_id, inline_data";

const SUMMARY_COLUMNS: &str = "id, key, version_id, is_latest, is_delete_marker, size, etag, \
    last_modified, storage_class, owner_account, checksums, \
    json_extract(headers, '$.content_type'), parts_count";

fn parse_account(s: &str) -> Result<AccountId, MetaError> {
    s.parse()
        .map_err(|_| MetaError::Corrupt(format!("account id {s}")))
}

struct RawVersion {
    id: i64,
    bucket_id: i64,
    key: String,
    version_id: String,
    is_latest: bool,
    is_delete_marker: bool,
    size: i64,
    etag: String,
    last_modified: i64,
    storage_class: String,
    owner: String,
    headers: String,
    checksums: String,
    parts_count: Option<u32>,
    blob_id: Option<String>,
    upload_id: Option<String>,
    inline_data: Option<Vec<u8>>,
}

fn raw_version(r: &Row<'_>) -> rusqlite::Result<RawVersion> {
    Ok(RawVersion {
        id: r.get(0)?,
        bucket_id: r.get(1)?,
        key: r.get(2)?,
        version_id: r.get(3)?,
        is_latest: r.get(4)?,
        is_delete_marker: r.get(5)?,
        size: r.get(6)?,
        etag: r.get(7)?,
        last_modified: r.get(8)?,
        storage_class: r.get(9)?,
        owner: r.get(10)?,
        headers: r.get(11)?,
        checksums: r.get(12)?,
        parts_count: r.get(13)?,
        blob_id: r.get(14)?,
        upload_id: r.get(15)?,
        inline_data: r.get(16)?,
    })
}

impl RawVersion {
    fn decode(self) -> Result<ObjectVersion, MetaError> {
        let data = if self.is_delete_marker {
            ObjectData::None
        } else if let Some(bytes) = self.inline_data {
            ObjectData::Inline(bytes)
        } else if let Some(blob_id) = self.blob_id {
            ObjectData::Blob(blob_id)
        } else if let Some(upload_id) = self.upload_id {
            ObjectData::Manifest {
                upload_id,
                parts: Vec::new(),
            }
        } else {
            return Err(MetaError::Corrupt(format!(
                "object {} has no data location",
                self.id
            )));
        };
        Ok(ObjectVersion {
            id: self.id,
            bucket_id: self.bucket_id,
            key: self.key,
            version_id: self.version_id,
            is_latest: self.is_latest,
            is_delete_marker: self.is_delete_marker,
            size: self.size as u64,
            etag: self.etag,
            last_modified: self.last_modified,
            storage_class: self.storage_class,
            owner: parse_account(&self.owner)?,
            headers: serde_json::from_str(&self.headers)?,
            checksums: serde_json::from_str(&self.checksums)?,
            parts_count: self.parts_count,
            data,
        })
    }
}

/// The version and, for a multipart object, its parts, read in one transaction so an
/// overwrite committed in between cannot pair a version with no parts.
pub fn get_object(
    c: &Connection,
    bucket_id: i64,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<ObjectVersion>, MetaError> {
    let raw = match version_id {
        None => c
            .prepare_cached(&format!(
                "SELECT {DATA_COLUMNS} FROM objects
                 WHERE bucket_id = ?1 AND key = ?2 AND is_latest = 1"
            ))?
            .query_row(params![bucket_id, key], raw_version)
            .optional()?,
        Some(v) => c
            .prepare_cached(&format!(
                "SELECT {DATA_COLUMNS} FROM objects
                 WHERE bucket_id = ?1 AND key = ?2 AND version_id = ?3"
            ))?
            .query_row(params![bucket_id, key, v], raw_version)
            .optional()?,
    };
    let mut version = raw.map(RawVersion::decode).transpose()?;
    if let Some(ObjectVersion {
        data: ObjectData::Manifest { upload_id, parts },
        ..
    }) = &mut version
    {
        *parts = super::multipart::list_parts(c, upload_id, 0, usize::MAX >> 1)?;
    }
    Ok(version)
}

fn bucket_versioning(c: &Connection, bucket_id: i64) -> Result<Versioning, MetaError> {
    let state: Option<Option<String>> = c
        .prepare_cached("SELECT versioning FROM buckets WHERE id = ?1")?
        .query_row([bucket_id], |r| r.get(0))
        .optional()?;
    match state {
        None => Err(MetaError::NoSuchBucket),
        Some(None) => Ok(Versioning::Unversioned),
        Some(Some(s)) if s == "Enabled" => Ok(Versioning::Enabled),
        Some(Some(_)) => Ok(Versioning::Suspended),
    }
}

/// A fresh version id: time-ordered, unique, URL-safe.
fn new_version_id() -> String {
    format!(
        "{:016x}{}",
        now_millis(),
        coffer_core::id::new_upload_id()
            .get(..16)
            .unwrap_or_default()
    )
}

/// Owner, size, delete-marker flag, blob id, manifest upload id and bucket of a version row.
type VersionStorage = (String, i64, bool, Option<String>, Option<String>, i64);

/// The storage columns of a version row, as [`removed`] reads them, and its row id last.
macro_rules! storage_columns {
    () => {
        "owner_account, size, is_delete_marker, blob_id, upload_id, bucket_id, id"
    };
}

/// Reads `storage_columns!()`: the storage of a row about to be removed, and its id.
fn removed(r: &Row<'_>) -> rusqlite::Result<(VersionStorage, i64)> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ),
        r.get(6)?,
    ))
}

/// Deletes the row found by `select` (which reads `storage_columns!()`) and queues the bytes it
/// held.
///
/// Not `DELETE … RETURNING`: SQLite loads every column of a row for RETURNING, inline bytes
/// included, and those live on an overflow page (a 4 KiB object's row keeps ~500 bytes on its
/// B-tree page): a page read per delete that the plain `DELETE` by row id does not make (it
/// frees the overflow page unread).
fn remove_row(
    c: &Connection,
    select: &str,
    params: impl rusqlite::Params,
) -> Result<(), MetaError> {
    let row = c
        .prepare_cached(select)?
        .query_row(params, removed)
        .optional()?;
    let Some((storage, id)) = row else {
        return Ok(());
    };
    c.prepare_cached("DELETE FROM objects WHERE id = ?1")?
        .execute([id])?;
    release_storage(c, storage)
}

/// Removes one version row and queues the bytes it held.
fn remove_version_row(c: &Connection, id: i64) -> Result<(), MetaError> {
    remove_row(
        c,
        concat!("SELECT ", storage_columns!(), " FROM objects WHERE id = ?1"),
        [id],
    )
}

/// Removes the current row of `key` (an unversioned bucket's only row), if any, and queues the
/// bytes it held.
fn remove_current_row(c: &Connection, bucket_id: i64, key: &str) -> Result<(), MetaError> {
    remove_row(
        c,
        concat!(
            "SELECT ",
            storage_columns!(),
            " FROM objects WHERE bucket_id = ?1 AND key = ?2 AND is_latest = 1"
        ),
        params![bucket_id, key],
    )
}

/// Queues the blob or parts of a removed row and takes its size off the usage counters.
fn release_storage(c: &Connection, row: VersionStorage) -> Result<(), MetaError> {
    let (owner, size, is_delete_marker, blob_id, upload_id, bucket_id) = row;
    if let Some(blob_id) = blob_id {
        queue_garbage(c, &blob_id)?;
    }
    if let Some(upload_id) = upload_id {
        release_parts(c, &upload_id)?;
    }
    if !is_delete_marker {
        add_usage(c, &owner, -size, -1)?;
        add_bucket_usage(c, bucket_id, -size, -1)?;
    }
    Ok(())
}

/// Deletes every part row of `upload_id` and queues their blobs; returns their total size.
pub fn release_parts(c: &Connection, upload_id: &str) -> Result<i64, MetaError> {
    let mut total = 0;
    {
        let mut stmt = c.prepare_cached("SELECT blob_id, size FROM parts WHERE upload_id = ?1")?;
        let rows = stmt.query_map([upload_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (blob_id, size) = row?;
            queue_garbage(c, &blob_id)?;
            total += size;
        }
    }
    c.prepare_cached("DELETE FROM parts WHERE upload_id = ?1")?
        .execute([upload_id])?;
    Ok(total)
}

pub fn queue_garbage(c: &Connection, blob_id: &str) -> Result<(), MetaError> {
    c.prepare_cached(
        "INSERT INTO blob_garbage (blob_id, queued_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![blob_id, now_millis()])?;
    Ok(())
}

/// The current row of a key: (row id, version id, etag, is delete marker).
fn current_row(
    c: &Connection,
    bucket_id: i64,
    key: &str,
) -> Result<Option<(i64, String, String, bool)>, MetaError> {
    Ok(c.prepare_cached(
        "SELECT id, version_id, etag, is_delete_marker FROM objects
             WHERE bucket_id = ?1 AND key = ?2 AND is_latest = 1",
    )?
    .query_row(params![bucket_id, key], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .optional()?)
}

pub fn check_condition(
    c: &Connection,
    bucket_id: i64,
    key: &str,
    condition: &WriteCondition,
) -> Result<(), MetaError> {
    if *condition == WriteCondition::None {
        return Ok(());
    }
    let current = current_row(c, bucket_id, key)?.filter(|(_, _, _, dm)| !dm);
    match (condition, current) {
        (WriteCondition::IfNoneMatchAny, Some(_)) => Err(MetaError::PreconditionFailed),
        (WriteCondition::IfMatch(_), None) => Err(MetaError::NoSuchKey),
        (WriteCondition::IfMatch(etag), Some((_, _, current_etag, _)))
            if etag != "*" && *etag != current_etag =>
        {
            Err(MetaError::PreconditionFailed)
        }
        _ => Ok(()),
    }
}

/// Makes room for a new current version of `key` and returns the version id it gets.
/// Unversioned and suspended buckets replace the `null` version; enabled buckets keep it.
pub fn retire_current(c: &Connection, bucket_id: i64, key: &str) -> Result<String, MetaError> {
    let versioning = bucket_versioning(c, bucket_id)?;
    c.prepare_cached(
        "UPDATE objects SET is_latest = 0 WHERE bucket_id = ?1 AND key = ?2 AND is_latest = 1",
    )?
    .execute(params![bucket_id, key])?;
    if versioning == Versioning::Enabled {
        return Ok(new_version_id());
    }
    let null_row: Option<i64> = c
        .prepare_cached(
            "SELECT id FROM objects WHERE bucket_id = ?1 AND key = ?2 AND version_id = 'null'",
        )?
        .query_row(params![bucket_id, key], |r| r.get(0))
        .optional()?;
    if let Some(id) = null_row {
        remove_version_row(c, id)?;
    }
    Ok("null".to_owned())
}

/// Inserts a version row as the current one.
pub fn insert_version(
    c: &Connection,
    object: &NewObject,
    version_id: &str,
    is_delete_marker: bool,
) -> Result<(), MetaError> {
    let (inline, blob_id, upload_id) = match &object.data {
        ObjectData::Inline(bytes) => (Some(bytes.as_slice()), None, None),
        ObjectData::Blob(id) => (None, Some(id.as_str()), None),
        ObjectData::Manifest { upload_id, .. } => (None, None, Some(upload_id.as_str())),
        ObjectData::None => (None, None, None),
    };
    c.prepare_cached(
        "INSERT INTO objects (bucket_id, key, version_id, is_latest, is_delete_marker, size, etag,
            last_modified, storage_class, owner_account, headers, checksums, parts_count, blob_id,
            upload_id, inline_data)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        object.bucket_id,
        object.key,
        version_id,
        is_delete_marker,
        object.size as i64,
        object.etag,
        object.last_modified,
        object.storage_class,
        object.owner.as_str(),
        serde_json::to_string(&object.headers)?,
        serde_json::to_string(&object.checksums)?,
        object.parts_count,
        blob_id,
        upload_id,
        inline,
    ])?;
    if !is_delete_marker {
        add_usage(c, object.owner.as_str(), object.size as i64, 1)?;
        add_bucket_usage(c, object.bucket_id, object.size as i64, 1)?;
    }
    Ok(())
}

pub fn put_object(
    c: &Connection,
    object: &NewObject,
    condition: &WriteCondition,
) -> Result<WriteOutcome, MetaError> {
    check_condition(c, object.bucket_id, &object.key, condition)?;
    let version_id = retire_current(c, object.bucket_id, &object.key)?;
    insert_version(c, object, &version_id, false)?;
    Ok(WriteOutcome { version_id })
}

/// Promotes the newest remaining version of `key` to current.
fn promote_newest(c: &Connection, bucket_id: i64, key: &str) -> Result<(), MetaError> {
    c.prepare_cached(
        "UPDATE objects SET is_latest = 1 WHERE id =
           (SELECT max(id) FROM objects WHERE bucket_id = ?1 AND key = ?2)",
    )?
    .execute(params![bucket_id, key])?;
    Ok(())
}

pub fn delete_object(
    c: &Connection,
    bucket_id: i64,
    key: &str,
    version_id: Option<&str>,
    owner: &AccountId,
) -> Result<DeleteOutcome, MetaError> {
    if let Some(version_id) = version_id {
        let row: Option<(i64, bool, bool)> = c
            .prepare_cached(
                "SELECT id, is_latest, is_delete_marker FROM objects
                 WHERE bucket_id = ?1 AND key = ?2 AND version_id = ?3",
            )?
            .query_row(params![bucket_id, key, version_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((id, was_latest, delete_marker)) = row else {
            // Deleting a version that does not exist succeeds, as in S3.
            bucket_versioning(c, bucket_id)?;
            return Ok(DeleteOutcome {
                version_id: Some(version_id.to_owned()),
                delete_marker: false,
            });
        };
        remove_version_row(c, id)?;
        if was_latest {
            promote_newest(c, bucket_id, key)?;
        }
        return Ok(DeleteOutcome {
            version_id: Some(version_id.to_owned()),
            delete_marker,
        });
    }
    let versioning = bucket_versioning(c, bucket_id)?;
    if versioning == Versioning::Unversioned {
        remove_current_row(c, bucket_id, key)?;
        return Ok(DeleteOutcome::default());
    }
    let marker_version = retire_current(c, bucket_id, key)?;
    let marker = NewObject {
        bucket_id,
        key: key.to_owned(),
        size: 0,
        etag: String::new(),
        last_modified: now_millis(),
        storage_class: "STANDARD".to_owned(),
        headers: crate::ObjectHeaders::default(),
        checksums: StoredChecksums::default(),
        parts_count: None,
        owner: owner.clone(),
        data: ObjectData::None,
    };
    insert_version(c, &marker, &marker_version, true)?;
    Ok(DeleteOutcome {
        version_id: Some(marker_version),
        delete_marker: true,
    })
}

fn summary(r: &Row<'_>) -> rusqlite::Result<(ObjectSummary, String, String)> {
    Ok((
        ObjectSummary {
            id: r.get(0)?,
            key: r.get(1)?,
            version_id: r.get(2)?,
            is_latest: r.get(3)?,
            is_delete_marker: r.get(4)?,
            size: r.get::<_, i64>(5)? as u64,
            etag: r.get(6)?,
            last_modified: r.get(7)?,
            storage_class: r.get(8)?,
            owner: AccountId::from_number(0).unwrap_or_else(|_| AccountId::random()),
            checksum_algorithms: Vec::new(),
            content_type: r.get(11)?,
            parts_count: r.get(12)?,
        },
        r.get(9)?,
        r.get(10)?,
    ))
}

fn finish_summary(
    (mut s, owner, checksums): (ObjectSummary, String, String),
) -> Result<ObjectSummary, MetaError> {
    s.owner = parse_account(&owner)?;
    let checksums: StoredChecksums = serde_json::from_str(&checksums)?;
    s.checksum_algorithms = checksums.values.into_keys().collect();
    Ok(s)
}

pub fn scan_objects(
    c: &Connection,
    bucket_id: i64,
    lower: &ScanBound,
    upper: Option<&str>,
    limit: usize,
) -> Result<Vec<ObjectSummary>, MetaError> {
    let (lower_sql, lower_value) = lower_clause(lower);
    let upper_sql = if upper.is_some() {
        "key < ?3"
    } else {
        "?3 IS NULL"
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM objects INDEXED BY objects_live
         WHERE bucket_id = ?1 AND is_latest = 1 AND is_delete_marker = 0
           AND {lower_sql} AND {upper_sql}
         ORDER BY key LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![bucket_id, lower_value, upper, limit as i64],
        summary,
    )?;
    rows.map(|r| finish_summary(r?)).collect()
}

pub fn scan_versions(
    c: &Connection,
    bucket_id: i64,
    lower: &ScanBound,
    after_version: Option<(String, i64)>,
    upper: Option<&str>,
    limit: usize,
) -> Result<Vec<ObjectSummary>, MetaError> {
    let mut out = Vec::new();
    let mut lower = lower.clone();
    // First the older versions of the key the previous page stopped in.
    if let Some((key, row_id)) = after_version {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM objects
             WHERE bucket_id = ?1 AND key = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(params![bucket_id, key, row_id, limit as i64], summary)?;
        for row in rows {
            out.push(finish_summary(row?)?);
        }
        lower = ScanBound::Excluded(key);
    }
    if out.len() >= limit {
        return Ok(out);
    }
    let (lower_sql, lower_value) = lower_clause(&lower);
    let upper_sql = if upper.is_some() {
        "key < ?3"
    } else {
        "?3 IS NULL"
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM objects INDEXED BY objects_history
         WHERE bucket_id = ?1 AND {lower_sql} AND {upper_sql}
         ORDER BY key, id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![bucket_id, lower_value, upper, (limit - out.len()) as i64],
        summary,
    )?;
    for row in rows {
        out.push(finish_summary(row?)?);
    }
    Ok(out)
}

pub fn garbage_blobs(
    c: &Connection,
    limit: usize,
    queued_before: i64,
) -> Result<Vec<String>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT blob_id FROM blob_garbage WHERE queued_at < ?2 ORDER BY queued_at LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit as i64, queued_before], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn forget_garbage(c: &Connection, blob_ids: &[String]) -> Result<(), MetaError> {
    let mut stmt = c.prepare_cached("DELETE FROM blob_garbage WHERE blob_id = ?1")?;
    for id in blob_ids {
        stmt.execute([id])?;
    }
    Ok(())
}

pub fn unreferenced_blobs(c: &Connection, blob_ids: &[String]) -> Result<Vec<String>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM objects WHERE blob_id = ?1)
             OR EXISTS (SELECT 1 FROM parts WHERE blob_id = ?1)
             OR EXISTS (SELECT 1 FROM blob_garbage WHERE blob_id = ?1)",
    )?;
    let mut out = Vec::new();
    for id in blob_ids {
        let referenced: bool = stmt.query_row([id], |r| r.get(0))?;
        if !referenced {
            out.push(id.clone());
        }
    }
    Ok(out)
}
