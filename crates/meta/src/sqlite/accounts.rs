//! Accounts, usage counters and access keys.

use coffer_core::AccountId;
use rusqlite::{Connection, OptionalExtension, params};

pub use super::usage::{add_bucket_usage, add_usage};

use crate::{Account, AccountStatus, AccountUpdate, MetaError, Usage};

pub fn bucket_usage(c: &Connection, bucket_id: i64) -> Result<Usage, MetaError> {
    let (bytes, objects) = c
        .prepare_cached(
            "SELECT coalesce(sum(bytes), 0), coalesce(sum(objects), 0) FROM bucket_usage
             WHERE bucket_id = ?1",
        )?
        .query_row([bucket_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Usage { bytes, objects })
}

pub fn create_account(c: &Connection, a: &Account) -> Result<(), MetaError> {
    let inserted = c.execute(
        "INSERT INTO accounts (id, name, status, quota_bytes, bucket_limit, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        params![
            a.id.as_str(),
            a.name,
            a.status.as_str(),
            a.quota_bytes.map(|q| q as i64),
            a.bucket_limit,
            a.created_at
        ],
    )?;
    if inserted == 0 {
        return Err(MetaError::AlreadyExists(format!("account {}", a.id)));
    }
    Ok(())
}

pub fn get_account(c: &Connection, id: &AccountId) -> Result<Account, MetaError> {
    let row = c
        .prepare_cached(
            "SELECT name, status, quota_bytes, bucket_limit, created_at FROM accounts WHERE id = ?1",
        )?
        .query_row([id.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .optional()?;
    let (name, status, quota, bucket_limit, created_at) = row.ok_or(MetaError::NoSuchAccount)?;
    Ok(Account {
        id: id.clone(),
        name,
        status: AccountStatus::parse(&status)
            .ok_or_else(|| MetaError::Corrupt(format!("account status {status}")))?,
        quota_bytes: quota.map(|q| q as u64),
        bucket_limit,
        created_at,
    })
}

pub fn count_accounts(c: &Connection) -> Result<u64, MetaError> {
    let n: i64 = c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?;
    Ok(n as u64)
}

pub fn usage(c: &Connection, id: &AccountId) -> Result<Usage, MetaError> {
    let (bytes, objects) = c
        .prepare_cached(
            "SELECT coalesce(sum(bytes), 0), coalesce(sum(objects), 0) FROM account_usage
             WHERE account_id = ?1",
        )?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Usage { bytes, objects })
}

pub fn usage_by_account(c: &Connection) -> Result<Vec<(AccountId, Usage)>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT account_id, sum(bytes), sum(objects) FROM account_usage GROUP BY account_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    rows.map(|row| {
        let (id, bytes, objects) = row?;
        let id = id
            .parse()
            .map_err(|_| MetaError::Corrupt(format!("account id {id}")))?;
        Ok((id, Usage { bytes, objects }))
    })
    .collect()
}

/// Adds to an account's usage inside the caller's transaction.
pub fn update_account(
    c: &Connection,
    id: &AccountId,
    u: &AccountUpdate,
) -> Result<Account, MetaError> {
    let mut account = get_account(c, id)?;
    if let Some(status) = u.status {
        account.status = status;
    }
    if let Some(quota) = u.quota_bytes {
        account.quota_bytes = quota;
    }
    if let Some(limit) = u.bucket_limit {
        account.bucket_limit = limit;
    }
    c.execute(
        "UPDATE accounts SET status = ?2, quota_bytes = ?3, bucket_limit = ?4 WHERE id = ?1",
        params![
            id.as_str(),
            account.status.as_str(),
            account.quota_bytes.map(|q| q as i64),
            account.bucket_limit
        ],
    )?;
    Ok(account)
}

pub fn list_accounts(c: &Connection, after: &str, limit: usize) -> Result<Vec<Account>, MetaError> {
    let ids: Vec<String> = c
        .prepare_cached("SELECT id FROM accounts WHERE id > ?1 ORDER BY id LIMIT ?2")?
        .query_map(params![after, limit as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.iter()
        .map(|id| {
            let id: AccountId = id
                .parse()
                .map_err(|_| MetaError::Corrupt(format!("account id {id}")))?;
            get_account(c, &id)
        })
        .collect()
}
