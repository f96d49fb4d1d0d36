//! Multipart uploads and their parts.

use std::collections::BTreeMap;

use coffer_core::ChecksumAlgorithm;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::accounts::add_usage;
use super::lower_clause;
use super::objects::{check_condition, insert_version, queue_garbage, release_parts};
use crate::store::ScanBound;
use crate::{Completion, MetaError, NewObject, ObjectData, Part, Upload, WriteOutcome};

const UPLOAD_COLUMNS: &str =
    "upload_id, bucket_id, key, initiated, owner_account, headers, storage_class";

fn upload_row(r: &Row<'_>) -> rusqlite::Result<(Upload, String, String)> {
    Ok((
        Upload {
            upload_id: r.get(0)?,
            bucket_id: r.get(1)?,
            key: r.get(2)?,
            initiated: r.get(3)?,
            owner: coffer_core::AccountId::from_number(0)
                .unwrap_or_else(|_| coffer_core::AccountId::random()),
            headers: crate::ObjectHeaders::default(),
            storage_class: r.get(6)?,
        },
        r.get(4)?,
        r.get(5)?,
    ))
}

fn finish_upload((mut u, owner, headers): (Upload, String, String)) -> Result<Upload, MetaError> {
    u.owner = owner
        .parse()
        .map_err(|_| MetaError::Corrupt(format!("upload owner {owner}")))?;
    u.headers = serde_json::from_str(&headers)?;
    Ok(u)
}

pub fn create_upload(c: &Connection, u: &Upload) -> Result<(), MetaError> {
    let bucket_exists: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM buckets WHERE id = ?1)",
        [u.bucket_id],
        |r| r.get(0),
    )?;
    if !bucket_exists {
        return Err(MetaError::NoSuchBucket);
    }
    c.execute(
        &format!("INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            u.upload_id,
            u.bucket_id,
            u.key,
            u.initiated,
            u.owner.as_str(),
            serde_json::to_string(&u.headers)?,
            u.storage_class
        ],
    )?;
    Ok(())
}

pub fn get_upload(c: &Connection, upload_id: &str) -> Result<Option<Upload>, MetaError> {
    c.prepare_cached(&format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?1"
    ))?
    .query_row([upload_id], upload_row)
    .optional()?
    .map(finish_upload)
    .transpose()
}

pub fn put_part(c: &Connection, upload_id: &str, part: &Part) -> Result<(), MetaError> {
    let owner: Option<String> = c
        .prepare_cached("SELECT owner_account FROM uploads WHERE upload_id = ?1")?
        .query_row([upload_id], |r| r.get(0))
        .optional()?;
    // An upload completed or aborted meanwhile: the caller frees the part's bytes.
    let Some(owner) = owner else {
        return Err(MetaError::NoSuchUpload);
    };
    let replaced: Option<(String, i64)> = c
        .prepare_cached(
            "SELECT blob_id, size FROM parts WHERE upload_id = ?1 AND part_number = ?2",
        )?
        .query_row(params![upload_id, part.part_number], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let mut delta = part.size as i64;
    if let Some((old_blob, old_size)) = replaced {
        queue_garbage(c, &old_blob)?;
        delta -= old_size;
    }
    c.prepare_cached(
        "INSERT INTO parts (upload_id, part_number, blob_id, size, etag, checksums, last_modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET blob_id = excluded.blob_id,
           size = excluded.size, etag = excluded.etag, checksums = excluded.checksums,
           last_modified = excluded.last_modified",
    )?
    .execute(params![
        upload_id,
        part.part_number,
        part.blob_id,
        part.size as i64,
        part.etag,
        serde_json::to_string(&part.checksums)?,
        part.last_modified
    ])?;
    add_usage(c, &owner, delta, 0)?;
    Ok(())
}

fn part_row(r: &Row<'_>) -> rusqlite::Result<(Part, String)> {
    Ok((
        Part {
            part_number: r.get(0)?,
            blob_id: r.get(1)?,
            size: r.get::<_, i64>(2)? as u64,
            etag: r.get(3)?,
            checksums: BTreeMap::new(),
            last_modified: r.get(5)?,
        },
        r.get(4)?,
    ))
}

fn finish_part((mut p, checksums): (Part, String)) -> Result<Part, MetaError> {
    let parsed: BTreeMap<ChecksumAlgorithm, String> = serde_json::from_str(&checksums)?;
    p.checksums = parsed;
    Ok(p)
}

pub fn list_parts(
    c: &Connection,
    upload_id: &str,
    after: u32,
    limit: usize,
) -> Result<Vec<Part>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT part_number, blob_id, size, etag, checksums, last_modified FROM parts
         WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![upload_id, after, limit as i64], part_row)?;
    rows.map(|r| finish_part(r?)).collect()
}

pub fn complete_upload(
    c: &Connection,
    upload_id: &str,
    completion: &Completion,
) -> Result<WriteOutcome, MetaError> {
    let upload = get_upload(c, upload_id)?.ok_or(MetaError::NoSuchUpload)?;
    check_condition(c, upload.bucket_id, &upload.key, &completion.condition)?;
    // The chosen parts must still be the ones the engine checked; the others are dropped and
    // their bytes freed.
    let chosen: std::collections::HashMap<u32, &str> = completion
        .parts
        .iter()
        .map(|(number, blob)| (*number, blob.as_str()))
        .collect();
    let mut unused_bytes = 0i64;
    let mut matched = 0usize;
    {
        let mut stmt =
            c.prepare_cached("SELECT part_number, blob_id, size FROM parts WHERE upload_id = ?1")?;
        let rows = stmt.query_map([upload_id], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut unused = Vec::new();
        for row in rows {
            let (number, blob_id, size) = row?;
            match chosen.get(&number) {
                Some(expected) if *expected == blob_id => matched += 1,
                Some(_) => return Err(MetaError::InvalidPart),
                None => {
                    unused.push((number, blob_id));
                    unused_bytes += size;
                }
            }
        }
        if matched != chosen.len() {
            return Err(MetaError::InvalidPart);
        }
        for (number, blob_id) in unused {
            queue_garbage(c, &blob_id)?;
            c.prepare_cached("DELETE FROM parts WHERE upload_id = ?1 AND part_number = ?2")?
                .execute(params![upload_id, number])?;
        }
    }
    c.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
        .execute([upload_id])?;
    // The parts' bytes were counted as they arrived; the object counts them again below.
    add_usage(
        c,
        upload.owner.as_str(),
        -(completion.size as i64) - unused_bytes,
        0,
    )?;
    let object = NewObject {
        bucket_id: upload.bucket_id,
        key: upload.key.clone(),
        size: completion.size,
        etag: completion.etag.clone(),
        last_modified: completion.last_modified,
        storage_class: upload.storage_class.clone(),
        headers: upload.headers.clone(),
        checksums: completion.checksums.clone(),
        parts_count: Some(completion.parts.len() as u32),
        owner: upload.owner.clone(),
        data: ObjectData::Manifest {
            upload_id: upload_id.to_owned(),
            parts: Vec::new(),
        },
    };
    let version_id = super::objects::retire_current(c, upload.bucket_id, &upload.key)?;
    insert_version(c, &object, &version_id, false)?;
    Ok(WriteOutcome { version_id })
}

pub fn abort_upload(c: &Connection, upload_id: &str) -> Result<(), MetaError> {
    let upload = get_upload(c, upload_id)?.ok_or(MetaError::NoSuchUpload)?;
    c.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
        .execute([upload_id])?;
    let freed = release_parts(c, upload_id)?;
    add_usage(c, upload.owner.as_str(), -freed, 0)?;
    Ok(())
}

pub fn scan_uploads(
    c: &Connection,
    bucket_id: i64,
    lower: &ScanBound,
    after_upload: Option<(String, String)>,
    upper: Option<&str>,
    limit: usize,
) -> Result<Vec<Upload>, MetaError> {
    let mut out = Vec::new();
    let mut lower = lower.clone();
    if let Some((key, upload_id)) = after_upload {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads
             WHERE bucket_id = ?1 AND key = ?2 AND upload_id > ?3 ORDER BY upload_id LIMIT ?4"
        ))?;
        let rows = stmt.query_map(params![bucket_id, key, upload_id, limit as i64], upload_row)?;
        for row in rows {
            out.push(finish_upload(row?)?);
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
        "SELECT {UPLOAD_COLUMNS} FROM uploads
         WHERE bucket_id = ?1 AND {lower_sql} AND {upper_sql}
         ORDER BY key, upload_id LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![bucket_id, lower_value, upper, (limit - out.len()) as i64],
        upload_row,
    )?;
    for row in rows {
        out.push(finish_upload(row?)?);
    }
    Ok(out)
}
