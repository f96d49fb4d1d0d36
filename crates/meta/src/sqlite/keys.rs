//! Access keys.

use coffer_core::AccountId;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::secret::SecretCipher;
use crate::{AccessKey, AccessKeyUpdate, MetaError};

const COLUMNS: &str = "id, access_key_id, account_id, user_name, secret_key, active, \
    bucket_binding, created_at, last_used_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(AccessKey, String, Option<String>)> {
    Ok((
        AccessKey {
            id: r.get(0)?,
            access_key_id: r.get(1)?,
            account_id: AccountId::from_number(0).unwrap_or_else(|_| AccountId::random()),
            user_name: r.get(3)?,
            secret_key: r.get(4)?,
            active: r.get(5)?,
            bucket_binding: None,
            created_at: r.get(7)?,
            last_used_at: r.get(8)?,
        },
        r.get(2)?,
        r.get(6)?,
    ))
}

fn finish(
    (mut key, account, binding): (AccessKey, String, Option<String>),
    cipher: &SecretCipher,
) -> Result<AccessKey, MetaError> {
    key.secret_key = cipher.open(&key.secret_key)?;
    key.account_id = account
        .parse()
        .map_err(|_| MetaError::Corrupt(format!("account id {account}")))?;
    key.bucket_binding = binding.map(|b| serde_json::from_str(&b)).transpose()?;
    Ok(key)
}

pub fn create_access_key(
    c: &Connection,
    k: &AccessKey,
    cipher: &SecretCipher,
) -> Result<AccessKey, MetaError> {
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
            cipher.seal(&k.secret_key)?,
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
    Ok(AccessKey {
        id: c.last_insert_rowid(),
        ..k.clone()
    })
}

pub fn get_access_key(
    c: &Connection,
    access_key_id: &str,
    cipher: &SecretCipher,
) -> Result<Option<AccessKey>, MetaError> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM access_keys WHERE access_key_id = ?1"
    ))?
    .query_row([access_key_id], from_row)
    .optional()?
    .map(|row| finish(row, cipher))
    .transpose()
}

pub fn get_access_key_by_id(
    c: &Connection,
    id: i64,
    cipher: &SecretCipher,
) -> Result<Option<AccessKey>, MetaError> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM access_keys WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .map(|row| finish(row, cipher))
        .transpose()
}

/// Keys of an account (all of them, or one user's; `Some("")` is never a user name).
pub fn list_access_keys(
    c: &Connection,
    account: Option<&AccountId>,
    user_name: Option<&str>,
    cipher: &SecretCipher,
) -> Result<Vec<AccessKey>, MetaError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM access_keys
         WHERE (?1 IS NULL OR account_id = ?1)
           AND (?2 IS NULL OR user_name = ?2 COLLATE NOCASE)
         ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![account.map(AccountId::as_str), user_name], from_row)?;
    rows.map(|r| finish(r?, cipher)).collect()
}

pub fn update_access_key(
    c: &Connection,
    access_key_id: &str,
    u: &AccessKeyUpdate,
    cipher: &SecretCipher,
) -> Result<AccessKey, MetaError> {
    let mut key = get_access_key(c, access_key_id, cipher)?.ok_or(MetaError::NoSuchAccessKey)?;
    if let Some(active) = u.active {
        key.active = active;
    }
    if let Some(binding) = &u.bucket_binding {
        key.bucket_binding.clone_from(binding);
    }
    if let Some(user) = &u.user_name {
        key.user_name.clone_from(user);
    }
    let binding = key
        .bucket_binding
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    c.execute(
        "UPDATE access_keys SET active = ?2, bucket_binding = ?3, user_name = ?4
         WHERE access_key_id = ?1",
        params![access_key_id, key.active, binding, key.user_name],
    )?;
    Ok(key)
}

pub fn delete_access_key(c: &Connection, access_key_id: &str) -> Result<(), MetaError> {
    let deleted = c.execute(
        "DELETE FROM access_keys WHERE access_key_id = ?1",
        [access_key_id],
    )?;
    if deleted == 0 {
        return Err(MetaError::NoSuchAccessKey);
    }
    Ok(())
}

pub fn touch_access_key(c: &Connection, access_key_id: &str, at: i64) -> Result<(), MetaError> {
    c.prepare_cached("UPDATE access_keys SET last_used_at = ?2 WHERE access_key_id = ?1")?
        .execute(params![access_key_id, at])?;
    Ok(())
}
