//! Usage counters gathered over a group commit and written once per account and bucket.
//!
//! Every object write and delete changes its account's and bucket's usage. Written as they
//! happen, that was two upserts per request on the single writer thread; a group of 32 small
//! PUTs into one bucket needs two in all. Within a group, each job's changes are kept apart
//! until its savepoint is released (a job rolled back takes its changes with it) and the
//! group's sums are written just before `COMMIT`, in the same transaction, so usage is exactly
//! as durable and as current as the objects it counts. Outside the writer's groups (tests,
//! migrations) changes are written at once.

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{Connection, params};

use crate::MetaError;

/// Number of usage shards per account and per bucket (several rows, so writers on other
/// nodes of a shared database seldom update the same one).
const USAGE_SHARDS: i64 = 8;

#[derive(Default)]
struct Deltas {
    accounts: HashMap<String, (i64, i64)>,
    buckets: HashMap<i64, (i64, i64)>,
    /// Buckets deleted by the job: their pending changes are void.
    dropped_buckets: Vec<i64>,
}

impl Deltas {
    fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.buckets.is_empty() && self.dropped_buckets.is_empty()
    }
}

#[derive(Default)]
struct Group {
    committed: Deltas,
    job: Deltas,
}

thread_local! {
    /// Set on the writer thread while it runs a group.
    static GROUP: RefCell<Option<Group>> = const { RefCell::new(None) };
}

fn add(entry: &mut (i64, i64), bytes: i64, objects: i64) {
    entry.0 += bytes;
    entry.1 += objects;
}

/// Starts gathering on this thread (the writer, at `BEGIN`).
pub fn begin_group() {
    GROUP.with(|g| *g.borrow_mut() = Some(Group::default()));
}

/// Keeps the changes of the job that just ended (its savepoint was released) or drops them
/// (it was rolled back).
pub fn end_job(kept: bool) {
    GROUP.with(|g| {
        let mut g = g.borrow_mut();
        let Some(group) = g.as_mut() else {
            return;
        };
        let job = std::mem::take(&mut group.job);
        if !kept || job.is_empty() {
            return;
        }
        for bucket in &job.dropped_buckets {
            group.committed.buckets.remove(bucket);
        }
        for (account, (bytes, objects)) in job.accounts {
            add(
                group.committed.accounts.entry(account).or_default(),
                bytes,
                objects,
            );
        }
        for (bucket, (bytes, objects)) in job.buckets {
            add(
                group.committed.buckets.entry(bucket).or_default(),
                bytes,
                objects,
            );
        }
    });
}

/// Stops gathering and writes the group's sums (the writer, just before `COMMIT`).
pub fn finish_group(c: &Connection) -> Result<(), MetaError> {
    let Some(group) = GROUP.with(|g| g.borrow_mut().take()) else {
        return Ok(());
    };
    for (account, (bytes, objects)) in group.committed.accounts {
        write_shard(c, ACCOUNT_UPSERT, &account, bytes, objects)?;
    }
    for (bucket, (bytes, objects)) in group.committed.buckets {
        write_shard(c, BUCKET_UPSERT, &bucket, bytes, objects)?;
    }
    Ok(())
}

/// Forgets the group (the writer, when the group is rolled back).
pub fn abandon_group() {
    GROUP.with(|g| g.borrow_mut().take());
}

/// Runs `f` on the current job's changes, if a group is gathering; false otherwise.
fn defer(f: impl FnOnce(&mut Deltas)) -> bool {
    GROUP.with(|g| match g.borrow_mut().as_mut() {
        Some(group) => {
            f(&mut group.job);
            true
        }
        None => false,
    })
}

/// Adds to an account's usage inside the caller's transaction.
pub fn add_usage(c: &Connection, id: &str, bytes: i64, objects: i64) -> Result<(), MetaError> {
    if bytes == 0 && objects == 0 {
        return Ok(());
    }
    if defer(|d| match d.accounts.get_mut(id) {
        Some(entry) => add(entry, bytes, objects),
        None => {
            d.accounts.insert(id.to_owned(), (bytes, objects));
        }
    }) {
        return Ok(());
    }
    write_shard(c, ACCOUNT_UPSERT, &id, bytes, objects)
}

/// Adds to a bucket's usage inside the caller's transaction.
pub fn add_bucket_usage(
    c: &Connection,
    bucket_id: i64,
    bytes: i64,
    objects: i64,
) -> Result<(), MetaError> {
    if bytes == 0 && objects == 0 {
        return Ok(());
    }
    if defer(|d| add(d.buckets.entry(bucket_id).or_default(), bytes, objects)) {
        return Ok(());
    }
    write_shard(c, BUCKET_UPSERT, &bucket_id, bytes, objects)
}

/// Removes a deleted bucket's counters, and any change to them still pending in this group.
pub fn drop_bucket_usage(c: &Connection, bucket_id: i64) -> Result<(), MetaError> {
    defer(|d| {
        d.buckets.remove(&bucket_id);
        d.dropped_buckets.push(bucket_id);
    });
    c.prepare_cached("DELETE FROM bucket_usage WHERE bucket_id = ?1")?
        .execute([bucket_id])?;
    Ok(())
}

/// Upsert of one account counter shard, for [`write_shard`].
const ACCOUNT_UPSERT: &str =
    "INSERT INTO account_usage (account_id, shard, bytes, objects) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (account_id, shard) DO UPDATE
     SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects";

/// Upsert of one bucket counter shard, for [`write_shard`].
const BUCKET_UPSERT: &str =
    "INSERT INTO bucket_usage (bucket_id, shard, bytes, objects) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (bucket_id, shard) DO UPDATE
     SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects";

/// Adds to one random shard of a counter with `upsert` (owner, shard, bytes, objects).
fn write_shard(
    c: &Connection,
    upsert: &str,
    owner: &dyn rusqlite::ToSql,
    bytes: i64,
    objects: i64,
) -> Result<(), MetaError> {
    if bytes == 0 && objects == 0 {
        return Ok(());
    }
    let shard = rand::random_range(0..USAGE_SHARDS);
    c.prepare_cached(upsert)?
        .execute(params![owner, shard, bytes, objects])?;
    Ok(())
}
