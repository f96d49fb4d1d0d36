//! IAM users, groups, memberships, customer-managed policies and attachments.

use coffer_core::AccountId;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Group, ManagedPolicy, MetaError, Principal, User};

fn account_of(s: &str) -> Result<AccountId, MetaError> {
    s.parse()
        .map_err(|_| MetaError::Corrupt(format!("account id {s}")))
}

fn exists(c: &Connection, sql: &str, account: &AccountId, name: &str) -> Result<bool, MetaError> {
    Ok(c.prepare_cached(sql)?
        .query_row(params![account.as_str(), name], |r| r.get(0))?)
}

// ---- users ----

fn user_row(r: &Row<'_>) -> rusqlite::Result<(String, User)> {
    Ok((
        r.get(0)?,
        User {
            account_id: AccountId::from_number(0).unwrap_or_else(|_| AccountId::random()),
            user_name: r.get(1)?,
            user_id: r.get(2)?,
            path: r.get(3)?,
            created_at: r.get(4)?,
        },
    ))
}

fn finish_user((account, mut user): (String, User)) -> Result<User, MetaError> {
    user.account_id = account_of(&account)?;
    Ok(user)
}

pub fn create_user(c: &Connection, u: &User) -> Result<(), MetaError> {
    let inserted = c.execute(
        "INSERT INTO users (account_id, user_name, user_id, path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        params![
            u.account_id.as_str(),
            u.user_name,
            u.user_id,
            u.path,
            u.created_at
        ],
    )?;
    if inserted == 0 {
        return Err(MetaError::AlreadyExists(format!("user {}", u.user_name)));
    }
    Ok(())
}

pub fn get_user(
    c: &Connection,
    account: &AccountId,
    name: &str,
) -> Result<Option<User>, MetaError> {
    c.prepare_cached(
        "SELECT account_id, user_name, user_id, path, created_at FROM users
         WHERE account_id = ?1 AND user_name = ?2",
    )?
    .query_row(params![account.as_str(), name], user_row)
    .optional()?
    .map(finish_user)
    .transpose()
}

pub fn list_users(
    c: &Connection,
    account: &AccountId,
    path_prefix: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<User>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT account_id, user_name, user_id, path, created_at FROM users
         WHERE account_id = ?1 AND substr(path, 1, length(?2)) = ?2 AND user_name > ?3
         ORDER BY user_name LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![account.as_str(), path_prefix, after, limit as i64],
        user_row,
    )?;
    rows.map(|r| finish_user(r?)).collect()
}

pub fn delete_user(c: &Connection, account: &AccountId, name: &str) -> Result<(), MetaError> {
    if get_user(c, account, name)?.is_none() {
        return Err(MetaError::NoSuchEntity(format!("user {name}")));
    }
    let keys = exists(
        c,
        "SELECT EXISTS (SELECT 1 FROM access_keys WHERE account_id = ?1
                        AND user_name = ?2 COLLATE NOCASE)",
        account,
        name,
    )?;
    let groups = exists(
        c,
        "SELECT EXISTS (SELECT 1 FROM group_members WHERE account_id = ?1 AND user_name = ?2)",
        account,
        name,
    )?;
    let policies = exists(
        c,
        "SELECT EXISTS (SELECT 1 FROM policy_attachments WHERE account_id = ?1
                        AND entity_kind = 'user' AND entity_name = ?2)",
        account,
        name,
    )?;
    if keys || groups || policies {
        return Err(MetaError::DeleteConflict(
            "Cannot delete entity, must delete access keys, remove from groups and detach \
             policies first."
                .into(),
        ));
    }
    c.execute(
        "DELETE FROM users WHERE account_id = ?1 AND user_name = ?2",
        params![account.as_str(), name],
    )?;
    Ok(())
}

// ---- groups ----

fn group_row(r: &Row<'_>) -> rusqlite::Result<(String, Group)> {
    Ok((
        r.get(0)?,
        Group {
            account_id: AccountId::from_number(0).unwrap_or_else(|_| AccountId::random()),
            group_name: r.get(1)?,
            group_id: r.get(2)?,
            path: r.get(3)?,
            created_at: r.get(4)?,
        },
    ))
}

fn finish_group((account, mut group): (String, Group)) -> Result<Group, MetaError> {
    group.account_id = account_of(&account)?;
    Ok(group)
}

pub fn create_group(c: &Connection, g: &Group) -> Result<(), MetaError> {
    let inserted = c.execute(
        "INSERT INTO groups (account_id, group_name, group_id, path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        params![
            g.account_id.as_str(),
            g.group_name,
            g.group_id,
            g.path,
            g.created_at
        ],
    )?;
    if inserted == 0 {
        return Err(MetaError::AlreadyExists(format!("group {}", g.group_name)));
    }
    Ok(())
}

pub fn get_group(
    c: &Connection,
    account: &AccountId,
    name: &str,
) -> Result<Option<Group>, MetaError> {
    c.prepare_cached(
        "SELECT account_id, group_name, group_id, path, created_at FROM groups
         WHERE account_id = ?1 AND group_name = ?2",
    )?
    .query_row(params![account.as_str(), name], group_row)
    .optional()?
    .map(finish_group)
    .transpose()
}

pub fn list_groups(
    c: &Connection,
    account: &AccountId,
    path_prefix: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<Group>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT account_id, group_name, group_id, path, created_at FROM groups
         WHERE account_id = ?1 AND substr(path, 1, length(?2)) = ?2 AND group_name > ?3
         ORDER BY group_name LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![account.as_str(), path_prefix, after, limit as i64],
        group_row,
    )?;
    rows.map(|r| finish_group(r?)).collect()
}

pub fn delete_group(c: &Connection, account: &AccountId, name: &str) -> Result<(), MetaError> {
    if get_group(c, account, name)?.is_none() {
        return Err(MetaError::NoSuchEntity(format!("group {name}")));
    }
    let members = exists(
        c,
        "SELECT EXISTS (SELECT 1 FROM group_members WHERE account_id = ?1 AND group_name = ?2)",
        account,
        name,
    )?;
    let policies = exists(
        c,
        "SELECT EXISTS (SELECT 1 FROM policy_attachments WHERE account_id = ?1
                        AND entity_kind = 'group' AND entity_name = ?2)",
        account,
        name,
    )?;
    if members || policies {
        return Err(MetaError::DeleteConflict(
            "Cannot delete entity, must remove users from group and detach policies first.".into(),
        ));
    }
    c.execute(
        "DELETE FROM groups WHERE account_id = ?1 AND group_name = ?2",
        params![account.as_str(), name],
    )?;
    Ok(())
}

pub fn add_user_to_group(
    c: &Connection,
    account: &AccountId,
    group: &str,
    user: &str,
) -> Result<(), MetaError> {
    let group = get_group(c, account, group)?
        .ok_or_else(|| MetaError::NoSuchEntity(format!("group {group}")))?;
    let user = get_user(c, account, user)?
        .ok_or_else(|| MetaError::NoSuchEntity(format!("user {user}")))?;
    c.execute(
        "INSERT INTO group_members (account_id, group_name, user_name) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![account.as_str(), group.group_name, user.user_name],
    )?;
    Ok(())
}

pub fn remove_user_from_group(
    c: &Connection,
    account: &AccountId,
    group: &str,
    user: &str,
) -> Result<(), MetaError> {
    let removed = c.execute(
        "DELETE FROM group_members WHERE account_id = ?1 AND group_name = ?2 AND user_name = ?3",
        params![account.as_str(), group, user],
    )?;
    if removed == 0 {
        return Err(MetaError::NoSuchEntity(format!(
            "user {user} in group {group}"
        )));
    }
    Ok(())
}

pub fn group_members(
    c: &Connection,
    account: &AccountId,
    group: &str,
) -> Result<Vec<User>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT u.account_id, u.user_name, u.user_id, u.path, u.created_at
         FROM group_members m JOIN users u
           ON u.account_id = m.account_id AND u.user_name = m.user_name
         WHERE m.account_id = ?1 AND m.group_name = ?2 ORDER BY u.user_name",
    )?;
    let rows = stmt.query_map(params![account.as_str(), group], user_row)?;
    rows.map(|r| finish_user(r?)).collect()
}

pub fn groups_of_user(
    c: &Connection,
    account: &AccountId,
    user: &str,
) -> Result<Vec<Group>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT g.account_id, g.group_name, g.group_id, g.path, g.created_at
         FROM group_members m JOIN groups g
           ON g.account_id = m.account_id AND g.group_name = m.group_name
         WHERE m.account_id = ?1 AND m.user_name = ?2 ORDER BY g.group_name",
    )?;
    let rows = stmt.query_map(params![account.as_str(), user], group_row)?;
    rows.map(|r| finish_group(r?)).collect()
}

// ---- policies ----

const POLICY_COLUMNS: &str =
    "account_id, policy_name, policy_id, path, description, document, created_at, updated_at";

fn policy_row(r: &Row<'_>) -> rusqlite::Result<(String, ManagedPolicy)> {
    Ok((
        r.get(0)?,
        ManagedPolicy {
            account_id: AccountId::from_number(0).unwrap_or_else(|_| AccountId::random()),
            policy_name: r.get(1)?,
            policy_id: r.get(2)?,
            path: r.get(3)?,
            description: r.get(4)?,
            document: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
    ))
}

fn finish_policy(
    (account, mut policy): (String, ManagedPolicy),
) -> Result<ManagedPolicy, MetaError> {
    policy.account_id = account_of(&account)?;
    Ok(policy)
}

pub fn create_policy(c: &Connection, p: &ManagedPolicy) -> Result<(), MetaError> {
    let inserted = c.execute(
        &format!(
            "INSERT INTO policies ({POLICY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT DO NOTHING"
        ),
        params![
            p.account_id.as_str(),
            p.policy_name,
            p.policy_id,
            p.path,
            p.description,
            p.document,
            p.created_at,
            p.updated_at
        ],
    )?;
    if inserted == 0 {
        return Err(MetaError::AlreadyExists(format!(
            "policy {}",
            p.policy_name
        )));
    }
    Ok(())
}

pub fn get_policy(
    c: &Connection,
    account: &AccountId,
    name: &str,
) -> Result<Option<ManagedPolicy>, MetaError> {
    c.prepare_cached(&format!(
        "SELECT {POLICY_COLUMNS} FROM policies WHERE account_id = ?1 AND policy_name = ?2"
    ))?
    .query_row(params![account.as_str(), name], policy_row)
    .optional()?
    .map(finish_policy)
    .transpose()
}

pub fn list_policies(
    c: &Connection,
    account: &AccountId,
    path_prefix: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<ManagedPolicy>, MetaError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {POLICY_COLUMNS} FROM policies
         WHERE account_id = ?1 AND substr(path, 1, length(?2)) = ?2 AND policy_name > ?3
         ORDER BY policy_name LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![account.as_str(), path_prefix, after, limit as i64],
        policy_row,
    )?;
    rows.map(|r| finish_policy(r?)).collect()
}

pub fn delete_policy(c: &Connection, account: &AccountId, name: &str) -> Result<(), MetaError> {
    let policy = get_policy(c, account, name)?
        .ok_or_else(|| MetaError::NoSuchEntity(format!("policy {name}")))?;
    if attachment_count(c, account, &policy.arn())? > 0 {
        return Err(MetaError::DeleteConflict(
            "Cannot delete a policy attached to entities.".into(),
        ));
    }
    c.execute(
        "DELETE FROM policies WHERE account_id = ?1 AND policy_name = ?2",
        params![account.as_str(), name],
    )?;
    Ok(())
}

pub fn attachment_count(c: &Connection, account: &AccountId, arn: &str) -> Result<u64, MetaError> {
    let n: i64 = c
        .prepare_cached(
            "SELECT count(*) FROM policy_attachments WHERE account_id = ?1 AND policy_arn = ?2",
        )?
        .query_row(params![account.as_str(), arn], |r| r.get(0))?;
    Ok(n as u64)
}

pub fn attach_policy(
    c: &Connection,
    account: &AccountId,
    kind: Principal,
    entity: &str,
    arn: &str,
) -> Result<(), MetaError> {
    let found = match kind {
        Principal::User => get_user(c, account, entity)?.map(|u| u.user_name),
        Principal::Group => get_group(c, account, entity)?.map(|g| g.group_name),
    };
    let name =
        found.ok_or_else(|| MetaError::NoSuchEntity(format!("{} {entity}", kind.as_str())))?;
    c.execute(
        "INSERT INTO policy_attachments (account_id, entity_kind, entity_name, policy_arn)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        params![account.as_str(), kind.as_str(), name, arn],
    )?;
    Ok(())
}

pub fn detach_policy(
    c: &Connection,
    account: &AccountId,
    kind: Principal,
    entity: &str,
    arn: &str,
) -> Result<(), MetaError> {
    let removed = c.execute(
        "DELETE FROM policy_attachments
         WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3 AND policy_arn = ?4",
        params![account.as_str(), kind.as_str(), entity, arn],
    )?;
    if removed == 0 {
        return Err(MetaError::NoSuchEntity(format!(
            "policy {arn} is not attached to {} {entity}",
            kind.as_str()
        )));
    }
    Ok(())
}

pub fn attached_policies(
    c: &Connection,
    account: &AccountId,
    kind: Principal,
    entity: &str,
) -> Result<Vec<String>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT policy_arn FROM policy_attachments
         WHERE account_id = ?1 AND entity_kind = ?2 AND entity_name = ?3 ORDER BY policy_arn",
    )?;
    let rows = stmt.query_map(params![account.as_str(), kind.as_str(), entity], |r| {
        r.get(0)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every policy ARN that applies to a user: attached to it or to one of its groups.
pub fn effective_policy_arns(
    c: &Connection,
    account: &AccountId,
    user: &str,
) -> Result<Vec<String>, MetaError> {
    let mut stmt = c.prepare_cached(
        "SELECT policy_arn FROM policy_attachments
         WHERE account_id = ?1 AND entity_kind = 'user' AND entity_name = ?2
         UNION
         SELECT a.policy_arn FROM policy_attachments a JOIN group_members m
           ON a.account_id = m.account_id AND a.entity_kind = 'group'
          AND a.entity_name = m.group_name
         WHERE m.account_id = ?1 AND m.user_name = ?2",
    )?;
    let rows = stmt.query_map(params![account.as_str(), user], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
