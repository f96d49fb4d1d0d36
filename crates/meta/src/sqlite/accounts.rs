//! Accounts, usage counters and access keys.

use coffer_core::AccountId;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{AccessKey, Account, AccountStatus, MetaError, Usage};

/// Number of usage shards per account.
const USAGE_SHARDS: i64 = 8;

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

/// Adds to an account's usage inside the caller's transaction.
pub fn add_usage(c: &Connection, id: &str, bytes: i64, objects: i64) -> Result<(), MetaError> {
    if bytes == 0 && objects == 0 {
        return Ok(());
    }
    let shard = rand::random_range(0..USAGE_SHARDS);
    c.prepare_cached(
        "INSERT INTO account_usage (account_id, shard, bytes, objects) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account_id, shard) DO UPDATE
         SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects",
    )?
    .execute(params![id, shard, bytes, objects])?;
    Ok(())
}

pub fn create_access_key(c: &Connection, k: &AccessKey) -> Result<(), MetaError> {
    let binding = k
        .bucket_binding
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let inserted = c.execute(
        "INSERT INTO access_keys
           (access_key_id, account_id, user_name, secret_key, active, bucket_binding, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        params![
            k.access_key_id,
            k.account_id.as_str(),
            k.user_name,
            k.secret_key,
            k.active,
            binding,
            k.created_at
        ],
    )?;
    if inserted == 0 {
        return Err(MetaError::AlreadyExists(format!(
            "access key {}",
            k.access_key_id
        )));
    }
    Ok(())
}

pub fn get_access_key(c: &Connection, id: &str) -> Result<Option<AccessKey>, MetaError> {
    let row = c
        .prepare_cached(
            "SELECT account_id, user_name, secret_key, active, bucket_binding, created_at
             FROM access_keys WHERE access_key_id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .optional()?;
    let Some((account, user_name, secret_key, active, binding, created_at)) = row else {
        return Ok(None);
    };
    Ok(Some(AccessKey {
        access_key_id: id.to_owned(),
        secret_key,
        account_id: account
            .parse()
            .map_err(|_| MetaError::Corrupt(format!("account id {account}")))?,
        user_name,
        active,
        bucket_binding: binding.map(|b| serde_json::from_str(&b)).transpose()?,
        created_at,
    }))
}
