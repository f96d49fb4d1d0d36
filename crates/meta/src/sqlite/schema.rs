//! Schema and migrations. The same tables exist on every backend; keys compare byte-wise
//! (SQLite's BINARY collation) so listings come out in S3's UTF-8 byte order.

use rusqlite::Connection;

use crate::MetaError;

/// Migrations in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL DEFAULT 'active',
    quota_bytes   INTEGER,
    bucket_limit  INTEGER NOT NULL DEFAULT 100,
    created_at    INTEGER NOT NULL
);

-- Usage is spread over shards so concurrent writers of one account do not all update one row.
CREATE TABLE account_usage (
    account_id TEXT NOT NULL,
    shard      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL DEFAULT 0,
    objects    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, shard)
) WITHOUT ROWID;

-- IAM names are unique per account regardless of case; the stored name keeps its case.
CREATE TABLE users (
    account_id TEXT NOT NULL,
    user_name  TEXT NOT NULL COLLATE NOCASE,
    user_id    TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL DEFAULT '/',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_name)
);

CREATE TABLE groups (
    account_id TEXT NOT NULL,
    group_name TEXT NOT NULL COLLATE NOCASE,
    group_id   TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL DEFAULT '/',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, group_name)
);

CREATE TABLE group_members (
    account_id TEXT NOT NULL,
    group_name TEXT NOT NULL COLLATE NOCASE,
    user_name  TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (account_id, group_name, user_name)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (account_id, user_name);

-- Customer-managed policies; AWS-managed ones are built into the binary.
CREATE TABLE policies (
    account_id  TEXT NOT NULL,
    policy_name TEXT NOT NULL COLLATE NOCASE,
    policy_id   TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL DEFAULT '/',
    description TEXT,
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, policy_name)
);

CREATE TABLE policy_attachments (
    account_id  TEXT NOT NULL,
    entity_kind TEXT NOT NULL,                 -- 'user' or 'group'
    entity_name TEXT NOT NULL COLLATE NOCASE,
    policy_arn  TEXT NOT NULL,
    PRIMARY KEY (account_id, entity_kind, entity_name, policy_arn)
) WITHOUT ROWID;
CREATE INDEX policy_attachments_arn ON policy_attachments (account_id, policy_arn);

CREATE TABLE access_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- the management API's credential id
    access_key_id  TEXT NOT NULL UNIQUE,
    account_id     TEXT NOT NULL,
    user_name      TEXT,              -- NULL: the account's root
    secret_key     TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    bucket_binding TEXT,              -- JSON array of bucket names; NULL: every bucket
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
);
CREATE INDEX access_keys_account ON access_keys (account_id, user_name);

CREATE TABLE buckets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    versioning   TEXT,                -- NULL: never enabled; 'Enabled'; 'Suspended'
    object_lock  INTEGER NOT NULL DEFAULT 0,
    policy       TEXT,
    cors         TEXT,
    lifecycle    TEXT,
    tagging      TEXT,
    encryption   TEXT,
    notification TEXT
);
CREATE INDEX buckets_account ON buckets (account_id, name);

-- One row per object version or delete marker. The row id grows with every write and orders
-- the versions of a key newest first. Inline bytes are the last column so that reading the
-- others never touches their overflow pages.
CREATE TABLE objects (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket_id        INTEGER NOT NULL,
    key              TEXT NOT NULL,
    version_id       TEXT NOT NULL,
    is_latest        INTEGER NOT NULL,
    is_delete_marker INTEGER NOT NULL DEFAULT 0,
    size             INTEGER NOT NULL,
    etag             TEXT NOT NULL,
    last_modified    INTEGER NOT NULL,
    storage_class    TEXT NOT NULL DEFAULT 'STANDARD',
    owner_account    TEXT NOT NULL,
    headers          TEXT NOT NULL DEFAULT '{}',
    checksums        TEXT NOT NULL DEFAULT '{}',
    parts_count      INTEGER,
    tagging          TEXT,
    retention        TEXT,
    legal_hold       INTEGER,
    encryption       TEXT,
    blob_id          TEXT,
    upload_id        TEXT,
    inline_data      BLOB
);
CREATE UNIQUE INDEX objects_version ON objects (bucket_id, key, version_id);
CREATE INDEX objects_history ON objects (bucket_id, key, id DESC);
-- The listing index: current, non-deleted objects only, so a page costs O(page).
CREATE INDEX objects_live ON objects (bucket_id, key) WHERE is_latest = 1 AND is_delete_marker = 0;
CREATE INDEX objects_blob ON objects (blob_id) WHERE blob_id IS NOT NULL;

CREATE TABLE uploads (
    upload_id     TEXT PRIMARY KEY,
    bucket_id     INTEGER NOT NULL,
    key           TEXT NOT NULL,
    initiated     INTEGER NOT NULL,
    owner_account TEXT NOT NULL,
    headers       TEXT NOT NULL DEFAULT '{}',
    storage_class TEXT NOT NULL DEFAULT 'STANDARD'
);
CREATE INDEX uploads_key ON uploads (bucket_id, key, upload_id);

-- Parts of uploads in progress, and after completion the manifest of the object they became
-- (then no upload row exists and an object row names the upload id).
CREATE TABLE parts (
    upload_id     TEXT NOT NULL,
    part_number   INTEGER NOT NULL,
    blob_id       TEXT NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    checksums     TEXT NOT NULL DEFAULT '{}',
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
CREATE INDEX parts_blob ON parts (blob_id);

-- Blobs whose metadata was removed; a worker deletes the files, then the rows.
CREATE TABLE blob_garbage (
    blob_id   TEXT PRIMARY KEY,
    queued_at INTEGER NOT NULL
) WITHOUT ROWID;
",
    r"
-- Bytes and objects of each bucket's versions (delete markers and upload parts excluded),
-- sharded like account usage and kept in the same transactions.
CREATE TABLE bucket_usage (
    bucket_id INTEGER NOT NULL,
    shard     INTEGER NOT NULL,
    bytes     INTEGER NOT NULL DEFAULT 0,
    objects   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket_id, shard)
) WITHOUT ROWID;
INSERT INTO bucket_usage (bucket_id, shard, bytes, objects)
    SELECT bucket_id, 0, sum(size), count(*) FROM objects WHERE is_delete_marker = 0
    GROUP BY bucket_id;
",
];

/// Applies the migrations the database has not seen yet.
pub fn migrate(conn: &Connection) -> Result<(), MetaError> {
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied =
        usize::try_from(applied).map_err(|_| MetaError::Corrupt("user_version".into()))?;
    if applied > MIGRATIONS.len() {
        return Err(MetaError::Corrupt(format!(
            "database schema version {applied} is newer than this binary ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}
