//! The embedded SQLite backend.
//!
//! One writer thread owns the write connection and commits in groups: it takes every write
//! waiting in its queue, runs each inside its own savepoint, and commits them with one durable
//! WAL sync, so concurrent writers share an fsync instead of queueing for one each. Reads run on
//! a small pool of read-only connections on blocking threads; WAL lets them proceed during
//! writes and they see every commit that was acknowledged.

mod accounts;
mod buckets;
mod identity;
mod keys;
mod multipart;
mod objects;
mod schema;
mod usage;
mod wal;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;

use async_trait::async_trait;
use coffer_core::AccountId;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::store::{MetaStore, ScanBound};
use crate::{
    AccessKey, AccessKeyUpdate, Account, AccountUpdate, Bucket, Completion, DeleteOutcome, Group,
    ManagedPolicy, MetaError, NewObject, ObjectSummary, ObjectVersion, Part, Principal, Upload,
    Usage, User, WriteCondition, WriteOutcome,
};

/// Upper bound on writes committed together.
const MAX_GROUP: usize = 256;
/// Page cache of a read connection, KiB, as `PRAGMA cache_size` takes it (negative: KiB).
const READER_CACHE_KIB: i64 = -256;
/// How long a connection waits for a lock another holds.
const WRITER_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Read connections kept open when idle.
const MAX_IDLE_READERS: usize = 16;

type Notify = Box<dyn FnOnce(Result<(), MetaError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Notify) + Send>;

/// Metadata in one SQLite database file.
pub struct SqliteMeta {
    /// Dropped with the store: tells the checkpoint thread to stop.
    _alive: std::sync::Arc<()>,
    path: PathBuf,
    cipher: crate::secret::SecretCipher,
    writer: Mutex<mpsc::Sender<Job>>,
    readers: std::sync::Arc<Mutex<Vec<Connection>>>,
}

impl std::fmt::Debug for SqliteMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteMeta")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, MetaError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(WRITER_BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is durable (the WAL is synced) before it is acknowledged.
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    if read_only {
        // Reads are a few index lookups each and the OS caches the file: a small page cache
        // per read connection keeps the pool's memory small (16 connections x the 2 MiB
        // default stayed allocated after a burst).
        conn.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
    }
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteMeta {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, MetaError> {
        let conn = open_connection(path, false)?;
        schema::migrate(&conn)?;
        // Checkpoints run on their own thread, not after a commit on the writer thread where
        // they would hold every queued write.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let alive = std::sync::Arc::new(());
        let restart = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gate = std::sync::Arc::new(wal::WalGate::default());
        wal::spawn_checkpointer(
            path,
            std::sync::Arc::downgrade(&alive),
            restart.clone(),
            gate.clone(),
        )?;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let cipher = crate::secret::SecretCipher::load_or_create(dir)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("coffer-meta-writer".into())
            .spawn(move || writer_loop(&conn, &rx, &restart, &gate))
            .map_err(|e| MetaError::Database(e.to_string()))?;
        Ok(Self {
            _alive: alive,
            path: path.to_path_buf(),
            cipher,
            writer: Mutex::new(tx),
            readers: std::sync::Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Runs `f` on a read connection, off the async workers.
    async fn read<T, F>(&self, f: F) -> Result<T, MetaError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, MetaError> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().map_err(|_| poisoned())?.pop();
            let conn = match pooled {
                Some(c) => c,
                None => open_connection(&path, true)?,
            };
            let result = f(&conn);
            let mut idle = readers.lock().map_err(|_| poisoned())?;
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| MetaError::Database(format!("reader task: {e}")))?
    }

    /// Runs `f` in its own savepoint within the next group commit; returns once committed.
    async fn write<T, F>(&self, f: F) -> Result<T, MetaError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, MetaError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, MetaError>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let notify: Notify = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, notify)
        });
        self.writer
            .lock()
            .map_err(|_| poisoned())?
            .send(job)
            .map_err(|_| MetaError::Database("metadata writer stopped".into()))?;
        rx.await
            .map_err(|_| MetaError::Database("metadata writer dropped a write".into()))?
    }
}

fn poisoned() -> MetaError {
    MetaError::Database("lock poisoned".into())
}

/// Runs a statement without results through the statement cache (the writer runs a few of
/// them per write; parsing them each time showed in profiles).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn writer_loop(
    conn: &Connection,
    rx: &mpsc::Receiver<Job>,
    restart: &std::sync::atomic::AtomicBool,
    gate: &wal::WalGate,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        gate.write(|| {
            commit_group(conn, jobs);
            if restart.swap(false, std::sync::atomic::Ordering::Relaxed) {
                wal::restart_wal(conn);
            }
        });
    }
}

/// Runs `jobs` each in its own savepoint and commits them together; then tells each waiter.
fn commit_group(conn: &Connection, jobs: Vec<Job>) {
    let mut notifies: Vec<Notify> = Vec::with_capacity(jobs.len());
    if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
        // Nothing ran: dropping the jobs tells every waiter its write failed.
        tracing::error!(error = %e, writes = jobs.len(), "metadata transaction could not begin");
        return;
    }
    usage::begin_group();
    // Set when a savepoint could not be closed: the group's state is then unknown and the
    // whole group is rolled back.
    let mut broken = None;
    for job in jobs {
        if let Err(e) = run_cached(conn, "SAVEPOINT job") {
            // Not run: dropping the job tells its waiter the write failed.
            tracing::error!(error = %e, "savepoint failed");
            continue;
        }
        // A panicking job must not take the writer thread (and every later write) with it.
        let Ok((ok, notify)) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn)))
        else {
            broken = Some(MetaError::Database("a metadata write panicked".into()));
            break;
        };
        let end = if ok {
            run_cached(conn, "RELEASE job")
        } else {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        usage::end_job(ok && end.is_ok());
        notifies.push(notify);
        if let Err(e) = end {
            broken = Some(MetaError::Database(format!("savepoint: {e}")));
            break;
        }
    }
    let commit = match broken {
        Some(e) => Err(e),
        None => usage::finish_group(conn).and_then(|()| {
            run_cached(conn, "COMMIT").map_err(|e| MetaError::Database(format!("commit: {e}")))
        }),
    };
    usage::abandon_group();
    if let Err(e) = &commit {
        tracing::error!(error = %e, writes = notifies.len(), "metadata group rolled back");
        let _ = conn.execute_batch("ROLLBACK");
    }
    for notify in notifies {
        notify(match &commit {
            Ok(()) => Ok(()),
            Err(e) => Err(MetaError::Database(e.to_string())),
        });
    }
}

/// `key >= bound` / `key > bound` as SQL plus the bound value.
fn lower_clause(bound: &ScanBound) -> (&'static str, String) {
    match bound {
        ScanBound::Unbounded => ("1", String::new()),
        ScanBound::Included(k) => ("key >= ?2", k.clone()),
        ScanBound::Excluded(k) => ("key > ?2", k.clone()),
    }
}

#[async_trait]
impl MetaStore for SqliteMeta {
    async fn create_account(&self, account: Account) -> Result<(), MetaError> {
        self.write(move |c| accounts::create_account(c, &account))
            .await
    }

    async fn get_account(&self, id: &AccountId) -> Result<Account, MetaError> {
        let id = id.clone();
        self.read(move |c| accounts::get_account(c, &id)).await
    }

    async fn count_accounts(&self) -> Result<u64, MetaError> {
        self.read(accounts::count_accounts).await
    }

    async fn account_usage(&self, id: &AccountId) -> Result<Usage, MetaError> {
        let id = id.clone();
        self.read(move |c| accounts::usage(c, &id)).await
    }

    async fn update_account(
        &self,
        id: &AccountId,
        update: AccountUpdate,
    ) -> Result<Account, MetaError> {
        let id = id.clone();
        self.write(move |c| accounts::update_account(c, &id, &update))
            .await
    }

    async fn list_accounts(&self, after: &str, limit: usize) -> Result<Vec<Account>, MetaError> {
        let after = after.to_owned();
        self.read(move |c| accounts::list_accounts(c, &after, limit))
            .await
    }

    async fn usage_by_account(&self) -> Result<Vec<(AccountId, Usage)>, MetaError> {
        self.read(accounts::usage_by_account).await
    }

    async fn create_access_key(&self, key: AccessKey) -> Result<AccessKey, MetaError> {
        let cipher = self.cipher.clone();
        self.write(move |c| keys::create_access_key(c, &key, &cipher))
            .await
    }

    async fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKey>, MetaError> {
        let id = access_key_id.to_owned();
        let cipher = self.cipher.clone();
        self.read(move |c| keys::get_access_key(c, &id, &cipher))
            .await
    }

    async fn get_access_key_by_id(&self, id: i64) -> Result<Option<AccessKey>, MetaError> {
        let cipher = self.cipher.clone();
        self.read(move |c| keys::get_access_key_by_id(c, id, &cipher))
            .await
    }

    async fn list_access_keys(
        &self,
        account: Option<&AccountId>,
        user_name: Option<&str>,
    ) -> Result<Vec<AccessKey>, MetaError> {
        let account = account.cloned();
        let user_name = user_name.map(str::to_owned);
        let cipher = self.cipher.clone();
        self.read(move |c| {
            keys::list_access_keys(c, account.as_ref(), user_name.as_deref(), &cipher)
        })
        .await
    }

    async fn update_access_key(
        &self,
        access_key_id: &str,
        update: AccessKeyUpdate,
    ) -> Result<AccessKey, MetaError> {
        let id = access_key_id.to_owned();
        let cipher = self.cipher.clone();
        self.write(move |c| keys::update_access_key(c, &id, &update, &cipher))
            .await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<(), MetaError> {
        let id = access_key_id.to_owned();
        self.write(move |c| keys::delete_access_key(c, &id)).await
    }

    async fn touch_access_key(&self, access_key_id: &str, at: i64) -> Result<(), MetaError> {
        let id = access_key_id.to_owned();
        self.write(move |c| keys::touch_access_key(c, &id, at))
            .await
    }

    async fn create_user(&self, user: User) -> Result<(), MetaError> {
        self.write(move |c| identity::create_user(c, &user)).await
    }

    async fn get_user(&self, account: &AccountId, name: &str) -> Result<Option<User>, MetaError> {
        let (account, name) = (account.clone(), name.to_owned());
        self.read(move |c| identity::get_user(c, &account, &name))
            .await
    }

    async fn list_users(
        &self,
        account: &AccountId,
        path_prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<User>, MetaError> {
        let (account, prefix, after) = (account.clone(), path_prefix.to_owned(), after.to_owned());
        self.read(move |c| identity::list_users(c, &account, &prefix, &after, limit))
            .await
    }

    async fn delete_user(&self, account: &AccountId, name: &str) -> Result<(), MetaError> {
        let (account, name) = (account.clone(), name.to_owned());
        self.write(move |c| identity::delete_user(c, &account, &name))
            .await
    }

    async fn create_group(&self, group: Group) -> Result<(), MetaError> {
        self.write(move |c| identity::create_group(c, &group)).await
    }

    async fn get_group(&self, account: &AccountId, name: &str) -> Result<Option<Group>, MetaError> {
        let (account, name) = (account.clone(), name.to_owned());
        self.read(move |c| identity::get_group(c, &account, &name))
            .await
    }

    async fn list_groups(
        &self,
        account: &AccountId,
        path_prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<Group>, MetaError> {
        let (account, prefix, after) = (account.clone(), path_prefix.to_owned(), after.to_owned());
        self.read(move |c| identity::list_groups(c, &account, &prefix, &after, limit))
            .await
    }

    async fn delete_group(&self, account: &AccountId, name: &str) -> Result<(), MetaError> {
        let (account, name) = (account.clone(), name.to_owned());
        self.write(move |c| identity::delete_group(c, &account, &name))
            .await
    }

    async fn add_user_to_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
    ) -> Result<(), MetaError> {
        let (account, group, user) = (account.clone(), group.to_owned(), user.to_owned());
        self.write(move |c| identity::add_user_to_group(c, &account, &group, &user))
            .await
    }

    async fn remove_user_from_group(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
    ) -> Result<(), MetaError> {
        let (account, group, user) = (account.clone(), group.to_owned(), user.to_owned());
        self.write(move |c| identity::remove_user_from_group(c, &account, &group, &user))
            .await
    }

    async fn group_members(
        &self,
        account: &AccountId,
        group: &str,
    ) -> Result<Vec<User>, MetaError> {
        let (account, group) = (account.clone(), group.to_owned());
        self.read(move |c| identity::group_members(c, &account, &group))
            .await
    }

    async fn groups_of_user(
        &self,
        account: &AccountId,
        user: &str,
    ) -> Result<Vec<Group>, MetaError> {
        let (account, user) = (account.clone(), user.to_owned());
        self.read(move |c| identity::groups_of_user(c, &account, &user))
            .await
    }

    async fn create_policy(&self, policy: ManagedPolicy) -> Result<(), MetaError> {
        self.write(move |c| identity::create_policy(c, &policy))
            .await
    }

    async fn get_policy(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<ManagedPolicy>, MetaError> {
        let (account, name) = (account.clone(), name.to_owned());
        self.read(move |c| identity::get_policy(c, &account, &name))
            .await
    }

    async fn list_policies(
        &self,
        account: &AccountId,
        path_prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<ManagedPolicy>, MetaError> {
        let (account, prefix, after) = (account.clone(), path_prefix.to_owned(), after.to_owned());
        self.read(move |c| identity::list_policies(c, &account, &prefix, &after, limit))
            .await
    }

    async fn delete_policy(&self, account: &AccountId, name: &str) -> Result<(), MetaError> {
        let (account, name) = (account.clone(), name.to_owned());
        self.write(move |c| identity::delete_policy(c, &account, &name))
            .await
    }

    async fn attachment_count(&self, account: &AccountId, arn: &str) -> Result<u64, MetaError> {
        let (account, arn) = (account.clone(), arn.to_owned());
        self.read(move |c| identity::attachment_count(c, &account, &arn))
            .await
    }

    async fn attach_policy(
        &self,
        account: &AccountId,
        kind: Principal,
        entity: &str,
        arn: &str,
    ) -> Result<(), MetaError> {
        let (account, entity, arn) = (account.clone(), entity.to_owned(), arn.to_owned());
        self.write(move |c| identity::attach_policy(c, &account, kind, &entity, &arn))
            .await
    }

    async fn detach_policy(
        &self,
        account: &AccountId,
        kind: Principal,
        entity: &str,
        arn: &str,
    ) -> Result<(), MetaError> {
        let (account, entity, arn) = (account.clone(), entity.to_owned(), arn.to_owned());
        self.write(move |c| identity::detach_policy(c, &account, kind, &entity, &arn))
            .await
    }

    async fn attached_policies(
        &self,
        account: &AccountId,
        kind: Principal,
        entity: &str,
    ) -> Result<Vec<String>, MetaError> {
        let (account, entity) = (account.clone(), entity.to_owned());
        self.read(move |c| identity::attached_policies(c, &account, kind, &entity))
            .await
    }

    async fn effective_policy_arns(
        &self,
        account: &AccountId,
        user: &str,
    ) -> Result<Vec<String>, MetaError> {
        let (account, user) = (account.clone(), user.to_owned());
        self.read(move |c| identity::effective_policy_arns(c, &account, &user))
            .await
    }

    async fn create_bucket(
        &self,
        name: &str,
        account: &AccountId,
        region: &str,
    ) -> Result<Bucket, MetaError> {
        let (name, account, region) = (name.to_owned(), account.clone(), region.to_owned());
        self.write(move |c| buckets::create_bucket(c, &name, &account, &region))
            .await
    }

    async fn get_bucket(&self, name: &str) -> Result<Option<Bucket>, MetaError> {
        let name = name.to_owned();
        self.read(move |c| buckets::get_bucket(c, &name)).await
    }

    async fn list_buckets(&self, account: &AccountId) -> Result<Vec<Bucket>, MetaError> {
        let account = account.clone();
        self.read(move |c| buckets::list_buckets(c, &account)).await
    }

    async fn delete_bucket(&self, bucket_id: i64) -> Result<(), MetaError> {
        self.write(move |c| buckets::delete_bucket(c, bucket_id))
            .await
    }

    async fn bucket_usage(&self, bucket_id: i64) -> Result<Usage, MetaError> {
        self.read(move |c| accounts::bucket_usage(c, bucket_id))
            .await
    }

    async fn list_all_buckets(&self, after: &str, limit: usize) -> Result<Vec<Bucket>, MetaError> {
        let after = after.to_owned();
        self.read(move |c| buckets::list_all_buckets(c, &after, limit))
            .await
    }

    async fn count_uploads(&self, account: Option<&AccountId>) -> Result<u64, MetaError> {
        let account = account.cloned();
        self.read(move |c| buckets::count_uploads(c, account.as_ref()))
            .await
    }

    async fn bucket_policy(&self, bucket_id: i64) -> Result<Option<String>, MetaError> {
        self.read(move |c| buckets::bucket_policy(c, bucket_id))
            .await
    }

    async fn set_bucket_policy(
        &self,
        bucket_id: i64,
        policy: Option<String>,
    ) -> Result<(), MetaError> {
        self.write(move |c| buckets::set_bucket_policy(c, bucket_id, policy.as_deref()))
            .await
    }

    async fn get_object(
        &self,
        bucket_id: i64,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectVersion>, MetaError> {
        let key = key.to_owned();
        let version_id = version_id.map(str::to_owned);
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            let version = objects::get_object(&tx, bucket_id, &key, version_id.as_deref())?;
            tx.commit()?;
            Ok(version)
        })
        .await
    }

    async fn put_object(
        &self,
        object: NewObject,
        condition: WriteCondition,
    ) -> Result<WriteOutcome, MetaError> {
        self.write(move |c| objects::put_object(c, &object, &condition))
            .await
    }

    async fn delete_object(
        &self,
        bucket_id: i64,
        key: &str,
        version_id: Option<&str>,
        owner: &AccountId,
    ) -> Result<DeleteOutcome, MetaError> {
        let key = key.to_owned();
        let version_id = version_id.map(str::to_owned);
        let owner = owner.clone();
        self.write(move |c| {
            objects::delete_object(c, bucket_id, &key, version_id.as_deref(), &owner)
        })
        .await
    }

    async fn scan_objects(
        &self,
        bucket_id: i64,
        lower: ScanBound,
        upper: Option<String>,
        limit: usize,
    ) -> Result<Vec<ObjectSummary>, MetaError> {
        self.read(move |c| objects::scan_objects(c, bucket_id, &lower, upper.as_deref(), limit))
            .await
    }

    async fn with_object_scanner(
        &self,
        bucket_id: i64,
        work: crate::ScanWork,
    ) -> Result<(), MetaError> {
        struct Scanner<'c> {
            conn: &'c Connection,
            bucket_id: i64,
        }
        impl crate::ObjectScanner for Scanner<'_> {
            fn scan(
                &mut self,
                lower: &ScanBound,
                upper: Option<&str>,
                limit: usize,
            ) -> Result<Vec<ObjectSummary>, MetaError> {
                objects::scan_objects(self.conn, self.bucket_id, lower, upper, limit)
            }
        }
        self.read(move |conn| {
            work(&mut Scanner { conn, bucket_id });
            Ok(())
        })
        .await
    }

    async fn scan_versions(
        &self,
        bucket_id: i64,
        lower: ScanBound,
        after_version: Option<(String, i64)>,
        upper: Option<String>,
        limit: usize,
    ) -> Result<Vec<ObjectSummary>, MetaError> {
        self.read(move |c| {
            objects::scan_versions(c, bucket_id, &lower, after_version, upper.as_deref(), limit)
        })
        .await
    }

    async fn create_upload(&self, upload: Upload) -> Result<(), MetaError> {
        self.write(move |c| multipart::create_upload(c, &upload))
            .await
    }

    async fn get_upload(&self, upload_id: &str) -> Result<Option<Upload>, MetaError> {
        let upload_id = upload_id.to_owned();
        self.read(move |c| multipart::get_upload(c, &upload_id))
            .await
    }

    async fn put_part(&self, upload_id: &str, part: Part) -> Result<(), MetaError> {
        let upload_id = upload_id.to_owned();
        self.write(move |c| multipart::put_part(c, &upload_id, &part))
            .await
    }

    async fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> Result<Vec<Part>, MetaError> {
        let upload_id = upload_id.to_owned();
        self.read(move |c| multipart::list_parts(c, &upload_id, after, limit))
            .await
    }

    async fn complete_upload(
        &self,
        upload_id: &str,
        completion: Completion,
    ) -> Result<WriteOutcome, MetaError> {
        let upload_id = upload_id.to_owned();
        self.write(move |c| multipart::complete_upload(c, &upload_id, &completion))
            .await
    }

    async fn abort_upload(&self, upload_id: &str) -> Result<(), MetaError> {
        let upload_id = upload_id.to_owned();
        self.write(move |c| multipart::abort_upload(c, &upload_id))
            .await
    }

    async fn scan_uploads(
        &self,
        bucket_id: i64,
        lower: ScanBound,
        after_upload: Option<(String, String)>,
        upper: Option<String>,
        limit: usize,
    ) -> Result<Vec<Upload>, MetaError> {
        self.read(move |c| {
            multipart::scan_uploads(c, bucket_id, &lower, after_upload, upper.as_deref(), limit)
        })
        .await
    }

    async fn garbage_blobs(
        &self,
        limit: usize,
        queued_before: i64,
    ) -> Result<Vec<String>, MetaError> {
        self.read(move |c| objects::garbage_blobs(c, limit, queued_before))
            .await
    }

    async fn forget_garbage(&self, blob_ids: Vec<String>) -> Result<(), MetaError> {
        self.write(move |c| objects::forget_garbage(c, &blob_ids))
            .await
    }

    async fn unreferenced_blobs(&self, blob_ids: Vec<String>) -> Result<Vec<String>, MetaError> {
        self.read(move |c| objects::unreferenced_blobs(c, &blob_ids))
            .await
    }

    async fn ping(&self) -> Result<(), MetaError> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests;
