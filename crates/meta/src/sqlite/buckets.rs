//! Buckets.

use coffer_core::AccountId;
use coffer_core::time::now_millis;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Bucket, MetaError, Versioning};

const COLUMNS: &str = "id, name, account_id, region, created_at, versioning";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Bucket, String)> {
    let account: String = r.get(2)?;
    let versioning: Option<String> = r.get(5)?;
    Ok((
        Bucket {
            id: r.get(0)?,
            name: r.get(1)?,
            account_id: AccountId::from_number(0).unwrap_or_else(|_| AccountId::random()),
            region: r.get(3)?,
            created_at: r.get(4)?,
            versioning: match versioning.as_deref() {
                Some("Enabled") => Versioning::Enabled,
                Some("Suspended") => Versioning::Suspended,
                _ => Versioning::Unversioned,
            },
        },
        account,
    ))
}

fn finish(pair: (Bucket, String)) -> Result<Bucket, MetaError> {
    let (mut bucket, account) = pair;
    bucket.account_id = account
        .parse()
        .map_err(|_| MetaError::Corrupt(format!("bucket owner {account}")))?;
    Ok(bucket)
}

pub fn get_bucket(c: &Connection, name: &str) -> Result<Option<Bucket>, MetaError> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM buckets WHERE name = ?1"))?
        .query_row([name], from_row)
        .optional()?
        .map(finish)
        .transpose()
}

pub fn list_buckets(c: &Connection, account: &AccountId) -> Result<Vec<Bucket>, MetaError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM buckets WHERE account_id = ?1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([account.as_str()], from_row)?;
    rows.map(|r| finish(r?)).collect()
}

pub fn create_bucket(
    c: &Connection,
    name: &str,
    account: &AccountId,
    region: &str,
) -> Result<Bucket, MetaError> {
    if let Some(existing) = get_bucket(c, name)? {
        return Err(MetaError::BucketExists {
            owner: existing.account_id,
        });
    }
    let (count, limit): (i64, Option<i64>) = c.query_row(
        "SELECT (SELECT count(*) FROM buckets WHERE account_id = ?1),
                (SELECT bucket_limit FROM accounts WHERE id = ?1)",
        [account.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let limit = limit.ok_or(MetaError::NoSuchAccount)?;
    if count >= limit {
        return Err(MetaError::TooManyBuckets);
    }
    let created_at = now_millis();
    c.execute(
        "INSERT INTO buckets (name, account_id, region, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, account.as_str(), region, created_at],
    )?;
    Ok(Bucket {
        id: c.last_insert_rowid(),
        name: name.to_owned(),
        account_id: account.clone(),
        region: region.to_owned(),
        created_at,
        versioning: Versioning::Unversioned,
    })
}

pub fn delete_bucket(c: &Connection, bucket_id: i64) -> Result<(), MetaError> {
    let busy: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket_id = ?1)
             OR EXISTS (SELECT 1 FROM uploads WHERE bucket_id = ?1)",
        [bucket_id],
        |r| r.get(0),
    )?;
    if busy {
        return Err(MetaError::BucketNotEmpty);
    }
    let deleted = c.execute("DELETE FROM buckets WHERE id = ?1", [bucket_id])?;
    super::usage::drop_bucket_usage(c, bucket_id)?;
    if deleted == 0 {
        return Err(MetaError::NoSuchBucket);
    }
    Ok(())
}

pub fn bucket_policy(c: &Connection, bucket_id: i64) -> Result<Option<String>, MetaError> {
    let policy: Option<Option<String>> = c
        .prepare_cached("SELECT policy FROM buckets WHERE id = ?1")?
        .query_row([bucket_id], |r| r.get(0))
        .optional()?;
    policy.ok_or(MetaError::NoSuchBucket)
}

pub fn set_bucket_policy(
    c: &Connection,
    bucket_id: i64,
    policy: Option<&str>,
) -> Result<(), MetaError> {
    let updated = c.execute(
        "UPDATE buckets SET policy = ?2 WHERE id = ?1",
        params![bucket_id, policy],
    )?;
    if updated == 0 {
        return Err(MetaError::NoSuchBucket);
    }
    Ok(())
}

pub fn list_all_buckets(
    c: &Connection,
    after: &str,
    limit: usize,
) -> Result<Vec<Bucket>, MetaError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM buckets WHERE name > ?1 ORDER BY name LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![after, limit as i64], from_row)?;
    rows.map(|r| finish(r?)).collect()
}

pub fn count_uploads(c: &Connection, account: Option<&AccountId>) -> Result<u64, MetaError> {
    let n: i64 = c
        .prepare_cached("SELECT count(*) FROM uploads WHERE ?1 IS NULL OR owner_account = ?1")?
        .query_row([account.map(AccountId::as_str)], |r| r.get(0))?;
    Ok(n as u64)
}
