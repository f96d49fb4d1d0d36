//! Keeping the WAL short: passive checkpoints on their own thread, a restart of the WAL by the
//! writer when a steady write load would otherwise grow it without bound, and a truncation
//! once the store is idle. And keeping it cheap to sync: the WAL file is written ahead with
//! zeros, so that a commit overwrites blocks the file already has.

mod ahead;

use std::path::Path;

use rusqlite::Connection;

use ahead::WalFile;
pub(super) use ahead::WalGate;

use super::{WRITER_BUSY_TIMEOUT, open_connection};
use crate::MetaError;

/// How often the WAL is copied back into the database.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// When the WAL is restarted or truncated, in frames (one page each).
struct WalLimits {
    /// Length past which the WAL is restarted from its beginning.
    restart: i64,
    /// Frames still to copy below which the checkpointer asks the writer to restart the WAL:
    /// the writer copies them itself before it restarts, while its queue waits.
    tail: i64,
    /// Length that an idle store keeps; a longer WAL file is truncated. At least `headroom`
    /// (the truncated file is written ahead to `headroom` again).
    idle: i64,
    /// Rounds without a write after which the store is idle.
    idle_rounds: u32,
    /// Frames of room kept written ahead of the WAL's end (see [`WalFile::reserve`]), plus
    /// twice what the WAL grew by since the last round.
    headroom: i64,
    /// Length up to which the file is written ahead.
    ahead_max: i64,
}

/// The limits in use.
///
/// `restart`: 256 MiB at 4 KiB pages. SQLite restarts the WAL by itself when a write begins
/// after a checkpoint copied all of it, which a steady write load never allows (the writer
/// appends while the checkpoint copies): 4 s of small PUTs grew it to 700 MB, unbounded. A
/// restart holds the writer's queue 0.5–8 ms (it copies the last frames and syncs them) and
/// is preceded by a sync of the database on the checkpointer thread; about one per 1.5 s of
/// the heaviest small-PUT load (p99.9 unchanged at ~7 ms, the maximum latency ~85 ms instead
/// of ~30). `idle`: 64 MiB. `idle_rounds`: 30 s, so that a store with pauses between bursts
/// keeps its WAL file written (a truncated one is slower to commit into until it is written
/// ahead again). `headroom`: 4 MiB, what a fresh or quiet store writes ahead; under load the
/// growth term dominates (the heaviest, small DELETEs, appends ~70 MB per round).
/// `ahead_max`: 128 MiB past a restart, which the WAL overruns while the checkpointer
/// catches up (308–354 MB measured).
const WAL_LIMITS: WalLimits = WalLimits {
    restart: 64 * 1024,
    tail: 256,
    idle: 16 * 1024,
    idle_rounds: 60,
    headroom: 1024,
    ahead_max: 96 * 1024,
};

/// SQLite's checkpoint modes that Coffer uses.
#[derive(Clone, Copy)]
enum Checkpoint {
    /// Copies what it can without blocking anyone.
    Passive,
    /// Copies everything (writers wait), then restarts the WAL when no reader needs it.
    Restart,
    /// As `Restart`, and truncates the WAL file to nothing.
    Truncate,
}

/// Runs one checkpoint; returns the WAL's length and how much of it is in the database, in
/// frames, or `None` when it could not complete (busy).
fn checkpoint(conn: &Connection, mode: Checkpoint) -> rusqlite::Result<Option<(i64, i64)>> {
    let sql = match mode {
        Checkpoint::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        Checkpoint::Restart => "PRAGMA wal_checkpoint(RESTART)",
        Checkpoint::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok((busy == 0).then_some((log, done)))
}

/// Copies the WAL into the database with passive checkpoints (which never block writers);
/// once it has reached `limits.restart` frames and at most `limits.tail` are left to copy,
/// syncs the database and asks the writer to restart it (`restart`).
///
/// A WAL file left longer than `limits.idle` by a burst is truncated once the store has
/// been idle for `limits.idle_rounds`: truncating a few hundred MB takes long enough to stall
/// the writer, which then has nothing to do. Last, the file is written ahead (see
/// [`WalFile::reserve`]): after the restart decision, which must rest on a fresh checkpoint.
fn checkpoint_round(
    conn: &Connection,
    db: &std::fs::File,
    wal: &WalFile,
    restart: &std::sync::atomic::AtomicBool,
    rounds: &mut Rounds,
    limits: &WalLimits,
) -> rusqlite::Result<()> {
    let Some((mut log, done)) = checkpoint(conn, Checkpoint::Passive)? else {
        return Ok(());
    };
    let growth = (log - rounds.last_log).max(0);
    let idle = log == done && log == rounds.last_log;
    rounds.last_log = log;
    rounds.idle = if idle { rounds.idle + 1 } else { 0 };
    if rounds.idle >= limits.idle_rounds && wal.frames().unwrap_or(0) > limits.idle {
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let truncated = checkpoint(conn, Checkpoint::Truncate);
        conn.busy_timeout(WRITER_BUSY_TIMEOUT)?;
        if truncated?.is_some() {
            rounds.last_log = 0;
            log = 0;
        }
    }
    if !idle && log >= limits.restart {
        catch_up(conn, db, restart, (log, done), limits)?;
    }
    let ahead = (log + limits.headroom + 2 * growth).min(limits.ahead_max);
    match wal.reserve(conn, ahead) {
        Ok(()) => rounds.reserve_failed = false,
        // Once per spell (a full disk would otherwise warn every round); commits still
        // lengthen the WAL themselves.
        Err(e) if !std::mem::replace(&mut rounds.reserve_failed, true) => {
            tracing::warn!(error = %e, "writing the WAL file ahead failed");
        }
        Err(_) => {}
    }
    Ok(())
}

/// Copies the WAL until at most `limits.tail` frames are left (a few passes at most: the
/// writer keeps appending), then syncs the database and raises `restart`. `(log, done)`:
/// the WAL's length and how much of it is copied, from the checkpoint just run.
fn catch_up(
    conn: &Connection,
    db: &std::fs::File,
    restart: &std::sync::atomic::AtomicBool,
    (mut log, mut done): (i64, i64),
    limits: &WalLimits,
) -> rusqlite::Result<()> {
    for _ in 0..8 {
        if log - done <= limits.tail {
            // SQLite syncs the database only after a checkpoint that copied the whole WAL, the
            // writer's restart: everything passive checkpoints copied since the last one would
            // be flushed while the writer's queue waits (8–95 ms measured; 0.5–8 ms with this
            // sync first). Syncing after every round instead raised the small-PUT p99.9 from
            // ~7 to ~30 ms (the device busy with it every 500 ms).
            if let Err(e) = db.sync_data() {
                tracing::warn!(error = %e, "database sync before a WAL restart failed");
                return Ok(());
            }
            restart.store(true, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        }
        match checkpoint(conn, Checkpoint::Passive)? {
            Some(now) => (log, done) = now,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// What the checkpointer remembers between rounds.
#[derive(Default)]
struct Rounds {
    /// The WAL's length in frames at the last round.
    last_log: i64,
    /// Rounds in a row without a write.
    idle: u32,
    /// The last round could not write the WAL file ahead.
    reserve_failed: bool,
}

/// On the writer, between groups: copies what is left of the WAL and restarts it from its
/// beginning when no reader still needs its frames (no waiting: otherwise the next round tries
/// again).
pub(super) fn restart_wal(conn: &Connection) {
    let result = conn
        .busy_timeout(std::time::Duration::ZERO)
        .and_then(|()| checkpoint(conn, Checkpoint::Restart));
    if let Err(e) = result.and(conn.busy_timeout(WRITER_BUSY_TIMEOUT)) {
        tracing::warn!(error = %e, "WAL restart failed");
    }
}

/// Runs [`checkpoint_round`] every [`CHECKPOINT_INTERVAL`] until the store is dropped.
pub(super) fn spawn_checkpointer(
    path: &Path,
    alive: std::sync::Weak<()>,
    restart: std::sync::Arc<std::sync::atomic::AtomicBool>,
    gate: std::sync::Arc<WalGate>,
) -> Result<(), MetaError> {
    let conn = open_connection(path, false)?;
    let page_size: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let wal = WalFile::new(path, page_size, gate);
    // Its own descriptor of the database file, only to sync it (see `checkpoint_round`).
    let db = std::fs::File::open(path).map_err(|e| MetaError::Database(e.to_string()))?;
    std::thread::Builder::new()
        .name("coffer-meta-checkpoint".into())
        .spawn(move || {
            let mut rounds = Rounds::default();
            // The first round at once: a fresh WAL is written ahead before the load comes.
            while alive.strong_count() > 0 {
                if let Err(e) =
                    checkpoint_round(&conn, &db, &wal, &restart, &mut rounds, &WAL_LIMITS)
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
                std::thread::sleep(CHECKPOINT_INTERVAL);
            }
        })
        .map_err(|e| MetaError::Database(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use std::path::PathBuf;

    use super::*;

    /// Commits `n` transactions of one 4 KiB row each on `w` (a frame or more each).
    fn write_rows(w: &Connection, n: usize) {
        for _ in 0..n {
            w.execute("INSERT INTO t (x) VALUES (zeroblob(4096))", [])
                .unwrap();
        }
    }

    /// The WAL's length in frames, as a passive checkpoint reports it (which copies it all:
    /// the next commit then starts the WAL over by itself).
    fn wal_frames(c: &Connection) -> i64 {
        checkpoint(c, Checkpoint::Passive).unwrap().unwrap().0
    }

    /// A store's connections and WAL file as the checkpointer sees them, on a table `t`.
    struct Store {
        _dir: tempfile::TempDir,
        path: PathBuf,
        w: Connection,
        c: Connection,
        db: std::fs::File,
        wal: WalFile,
        flag: AtomicBool,
        rounds: Rounds,
    }

    impl Store {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("meta.sqlite");
            let w = open_connection(&path, false).unwrap();
            w.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
            w.execute("CREATE TABLE t (x BLOB)", []).unwrap();
            let c = open_connection(&path, false).unwrap();
            let db = std::fs::File::open(&path).unwrap();
            let wal = WalFile::new(&path, 4096, std::sync::Arc::default());
            Self {
                _dir: dir,
                path,
                w,
                c,
                db,
                wal,
                flag: AtomicBool::new(false),
                rounds: Rounds::default(),
            }
        }

        fn round(&mut self, limits: &WalLimits) {
            let (c, db, wal, flag) = (&self.c, &self.db, &self.wal, &self.flag);
            checkpoint_round(c, db, wal, flag, &mut self.rounds, limits).unwrap();
        }

        fn wal_len(&self) -> u64 {
            std::fs::metadata(&self.wal.path).unwrap().len()
        }

        fn rows(c: &Connection) -> i64 {
            c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap()
        }
    }

    /// Past `restart` frames the checkpointer copies the WAL, syncs and raises the flag; the
    /// writer's restart makes the next commit start the WAL over; once idle for
    /// `idle_rounds`, a WAL longer than `idle` is truncated to nothing.
    #[test]
    fn wal_is_restarted_and_truncated() {
        let mut s = Store::new();
        let limits = WalLimits {
            restart: 200,
            tail: 8,
            idle: 16,
            idle_rounds: 2,
            headroom: 4,
            // Nothing written ahead: the file's length is the WAL's.
            ahead_max: 0,
        };
        write_rows(&s.w, 5);
        let mut rows = 5;
        assert!(s.wal.frames().unwrap() < limits.restart);
        s.round(&limits);
        assert!(!s.flag.load(Ordering::Relaxed), "below the restart length");
        // Not copied meanwhile, the WAL grows (the first commit starts it over).
        while s.wal.frames().unwrap() < limits.restart + 10 && rows < 2_000 {
            write_rows(&s.w, 10);
            rows += 10;
        }
        let before = s.wal.frames().unwrap();
        assert!(before >= limits.restart, "{before} frames");
        // A reader on the current snapshot keeps SQLite from starting the WAL over at the next
        // commit, so that commits land after the checkpoint as they do under a steady load.
        let r = open_connection(&s.path, true).unwrap();
        r.execute_batch("BEGIN").unwrap();
        let _ = Store::rows(&r);
        s.round(&limits);
        assert!(s.flag.load(Ordering::Relaxed), "restart asked for");
        write_rows(&s.w, 2);
        r.execute_batch("COMMIT").unwrap();
        restart_wal(&s.w);
        write_rows(&s.w, 1);
        rows += 3;
        let after = wal_frames(&s.c);
        assert!(after < 8, "WAL started over: {after} frames after {before}");

        write_rows(&s.w, 30);
        rows += 30;
        s.rounds = Rounds::default();
        s.round(&limits);
        s.round(&limits);
        assert!(s.wal_len() > 0, "idle for one round only");
        s.round(&limits);
        assert_eq!(s.wal_len(), 0, "WAL truncated");
        assert_eq!(Store::rows(&s.w), rows, "every row kept");
    }

    /// The checkpointer writes the WAL file ahead: `headroom` frames past the WAL's end plus
    /// twice its growth since the last round, up to `ahead_max`; commits then land in that
    /// room without lengthening the file, and a copy of the files taken then (as a crash would
    /// leave them) recovers every committed row past the zeros, also after the idle store's
    /// WAL was truncated and written ahead again.
    #[test]
    fn wal_is_written_ahead() {
        let mut s = Store::new();
        let limits = WalLimits {
            restart: 100_000,
            tail: 8,
            idle: 16,
            idle_rounds: 2,
            headroom: 64,
            ahead_max: 1_000,
        };
        // A reader on an old snapshot keeps the checkpoints from copying what follows and
        // SQLite from starting the WAL over: every later commit is appended, and found again
        // only in the WAL.
        write_rows(&s.w, 3);
        let r = open_connection(&s.path, true).unwrap();
        r.execute_batch("BEGIN").unwrap();
        assert_eq!(Store::rows(&r), 3);
        s.round(&limits);
        let first = s.rounds.last_log;
        assert!(first > 0);
        let reserved = s.wal.frames().unwrap();
        assert!(
            reserved >= 3 * first + limits.headroom,
            "{reserved} frames for a WAL of {first}"
        );
        let len = s.wal_len();
        write_rows(&s.w, 10);
        assert_eq!(
            s.wal_len(),
            len,
            "the commits landed in the room written ahead"
        );

        write_rows(&s.w, 200);
        s.round(&limits);
        let log = s.rounds.last_log;
        let growth = log - first;
        assert!(growth > 200, "{growth} frames since the first round");
        let frames = s.wal.frames().unwrap();
        assert!(
            frames >= (log + limits.headroom + 2 * growth).min(limits.ahead_max),
            "{frames} frames after a growth of {growth} to {log}"
        );
        assert!(frames <= limits.ahead_max.max(log), "{frames} frames");
        let file = std::fs::read(&s.wal.path).unwrap();
        let end = usize::try_from(s.wal.bytes(log)).unwrap();
        assert!(
            file[end..].iter().all(|b| *b == 0),
            "zeros after the frames"
        );
        write_rows(&s.w, 10);
        assert_eq!(recovered_rows(&s), 223, "every committed row recovered");

        // Idle: truncated, written ahead again from the start, committed into.
        r.execute_batch("COMMIT").unwrap();
        for _ in 0..3 {
            s.round(&limits);
        }
        assert_eq!(
            s.wal_len(),
            s.wal.bytes(limits.headroom),
            "truncated, written ahead"
        );
        let file = std::fs::read(&s.wal.path).unwrap();
        assert!(file.iter().all(|b| *b == 0), "nothing but zeros");
        write_rows(&s.w, 5);
        assert_eq!(s.wal_len(), s.wal.bytes(limits.headroom));
        assert_eq!(recovered_rows(&s), 228, "every committed row recovered");
    }

    /// The rows of a copy of the database and its WAL (not the shared-memory index), taken
    /// now: what recovery finds after a crash.
    fn recovered_rows(s: &Store) -> i64 {
        let copy = tempfile::tempdir().unwrap();
        let copied = copy.path().join("meta.sqlite");
        std::fs::copy(&s.path, &copied).unwrap();
        std::fs::copy(&s.wal.path, copy.path().join("meta.sqlite-wal")).unwrap();
        Store::rows(&open_connection(&copied, false).unwrap())
    }
}
