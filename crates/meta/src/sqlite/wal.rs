//! Keeping the WAL short: passive checkpoints on their own thread, a restart of the WAL by the
//! writer when a steady write load would otherwise grow it without bound, and a truncation
//! once the store is idle.

use std::path::Path;

use rusqlite::Connection;

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
    /// Length that an idle store keeps; a longer WAL file is truncated.
    idle: i64,
}

/// The limits in use.
///
/// `restart`: 256 MiB at 4 KiB pages. SQLite restarts the WAL by itself when a write begins
/// after a checkpoint copied all of it, which a steady write load never allows (the writer
/// appends while the checkpoint copies): 4 s of small PUTs grew it to 700 MB, unbounded. A
/// restart holds the writer's queue 0.5–8 ms (it copies the last frames and syncs them) and
/// is preceded by a sync of the database on the checkpointer thread; about one per 1.5 s of
/// the heaviest small-PUT load (p99.9 unchanged at ~7 ms, the maximum latency ~85 ms instead
/// of ~30). `idle`: 64 MiB.
const WAL_LIMITS: WalLimits = WalLimits {
    restart: 64 * 1024,
    tail: 256,
    idle: 16 * 1024,
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
/// been idle for a round (`last_log`: the WAL's length at the previous round): truncating a
/// few hundred MB takes long enough to stall the writer, which then has nothing to do.
fn checkpoint_round(
    conn: &Connection,
    db: &std::fs::File,
    restart: &std::sync::atomic::AtomicBool,
    last_log: &mut i64,
    limits: &WalLimits,
) -> rusqlite::Result<()> {
    let Some((mut log, mut done)) = checkpoint(conn, Checkpoint::Passive)? else {
        return Ok(());
    };
    let idle = log == done && log == std::mem::replace(last_log, log);
    if idle && log > limits.idle {
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let truncated = checkpoint(conn, Checkpoint::Truncate);
        conn.busy_timeout(WRITER_BUSY_TIMEOUT)?;
        if truncated?.is_some() {
            *last_log = 0;
        }
        return Ok(());
    }
    if log < limits.restart {
        return Ok(());
    }
    // Catch up first (a few passes at most: the writer keeps appending).
    for _ in 0..8 {
        if log - done <= limits.tail {
            // SQLite syncs the database only after a checkpoint that copied the whole WAL, the
            // writer's restart: everything passive checkpoints copied since the last one would
            // be flushed while the writer's queue waits (8–95 ms measured; 0.5–8 ms with this
            // sync first). Syncing after every round instead raised the small-PUT p99.9 from
            // ~7 to ~30 ms (the device busy with it every 500 ms).
            if let Err(e) = db.sync_data() {
                tracing::warn!(error = %e, "database sync before a WAL restart failed");
                break;
            }
            restart.store(true, std::sync::atomic::Ordering::Relaxed);
            break;
        }
        match checkpoint(conn, Checkpoint::Passive)? {
            Some(now) => (log, done) = now,
            None => break,
        }
    }
    Ok(())
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
) -> Result<(), MetaError> {
    let conn = open_connection(path, false)?;
    // Its own descriptor of the database file, only to sync it (see `checkpoint_round`).
    let db = std::fs::File::open(path).map_err(|e| MetaError::Database(e.to_string()))?;
    std::thread::Builder::new()
        .name("coffer-meta-checkpoint".into())
        .spawn(move || {
            let mut last_log = 0;
            while alive.strong_count() > 0 {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                if let Err(e) = checkpoint_round(&conn, &db, &restart, &mut last_log, &WAL_LIMITS) {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        })
        .map_err(|e| MetaError::Database(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

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

    /// Frames the WAL file has room for (header of 32 bytes, frames of 24 + 4096).
    fn wal_file_frames(path: &Path) -> i64 {
        let len = std::fs::metadata(path).map_or(0, |m| m.len());
        i64::try_from(len.saturating_sub(32) / 4120).unwrap()
    }

    /// Past `restart` frames the checkpointer copies the WAL, syncs and raises the flag; the
    /// writer's restart makes the next commit start the WAL over; once idle, a WAL longer
    /// than `idle` is truncated to nothing.
    #[test]
    fn wal_is_restarted_and_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.sqlite");
        let w = open_connection(&path, false).unwrap();
        w.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        w.execute("CREATE TABLE t (x BLOB)", []).unwrap();
        let c = open_connection(&path, false).unwrap();
        let db = std::fs::File::open(&path).unwrap();
        let limits = WalLimits {
            restart: 200,
            tail: 8,
            idle: 16,
        };
        let flag = AtomicBool::new(false);
        let mut last_log = 0;

        let wal = dir.path().join("meta.sqlite-wal");
        write_rows(&w, 5);
        let mut rows = 5;
        assert!(wal_file_frames(&wal) < limits.restart);
        checkpoint_round(&c, &db, &flag, &mut last_log, &limits).unwrap();
        assert!(!flag.load(Ordering::Relaxed), "below the restart length");
        // Not copied meanwhile, the WAL grows (the first commit starts it over).
        while wal_file_frames(&wal) < limits.restart + 10 && rows < 2_000 {
            write_rows(&w, 10);
            rows += 10;
        }
        let before = wal_file_frames(&wal);
        assert!(before >= limits.restart, "{before} frames");
        // A reader on the current snapshot keeps SQLite from starting the WAL over at the next
        // commit, so that commits land after the checkpoint as they do under a steady load.
        let r = open_connection(&path, true).unwrap();
        r.execute_batch("BEGIN").unwrap();
        let _: i64 = r
            .query_row("SELECT count(*) FROM t", [], |x| x.get(0))
            .unwrap();
        checkpoint_round(&c, &db, &flag, &mut last_log, &limits).unwrap();
        assert!(flag.load(Ordering::Relaxed), "restart asked for");
        write_rows(&w, 2);
        r.execute_batch("COMMIT").unwrap();
        restart_wal(&w);
        write_rows(&w, 1);
        rows += 3;
        let after = wal_frames(&c);
        assert!(after < 8, "WAL started over: {after} frames after {before}");

        write_rows(&w, 30);
        rows += 30;
        let mut last_log = 0;
        checkpoint_round(&c, &db, &flag, &mut last_log, &limits).unwrap();
        assert!(std::fs::metadata(&wal).unwrap().len() > 0);
        // No write since the last round: idle, and longer than `idle`.
        checkpoint_round(&c, &db, &flag, &mut last_log, &limits).unwrap();
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0, "WAL truncated");
        let count: i64 = w
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, rows, "every row kept");
    }
}
