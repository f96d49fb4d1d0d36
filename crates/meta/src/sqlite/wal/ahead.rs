//! Writing the WAL file ahead of its end, so that commits overwrite blocks the file already
//! has, and the gate that keeps this apart from SQLite's own writes to it.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, PoisonError};

use rusqlite::Connection;

/// Bytes before the first frame of a WAL file.
const WAL_HEADER: u64 = 32;
/// Bytes before the page in each WAL frame.
const FRAME_HEADER: u64 = 24;
/// Zeros written ahead into the WAL file at once (while the writer waits).
const RESERVE_CHUNK: usize = 1 << 20;
static ZEROS: [u8; RESERVE_CHUNK] = [0; RESERVE_CHUNK];

/// Keeps SQLite's writes to the WAL file and Coffer's writing ahead of its end apart: the
/// writer runs each group through [`WalGate::write`]; [`WalGate::exclusive`] waits for the
/// group in progress and holds the next one until it returns. This store's writer writes
/// frames only in its groups; any other connection is kept out by SQLite's write lock (see
/// [`WalFile::reserve`]).
#[derive(Default)]
pub(in crate::sqlite) struct WalGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    /// A group is being written.
    writing: bool,
    /// The WAL file is being written ahead: no group may start.
    held: bool,
}

impl WalGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // The state is two flags each set and cleared in one place: still right after a panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_while<'a>(
        &'a self,
        state: std::sync::MutexGuard<'a, GateState>,
        cond: impl FnMut(&mut GateState) -> bool,
    ) -> std::sync::MutexGuard<'a, GateState> {
        self.changed
            .wait_while(state, cond)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one group of the writer: after any writing ahead in progress.
    pub(in crate::sqlite) fn write<T>(&self, group: impl FnOnce() -> T) -> T {
        let mut state = self.wait_while(self.lock(), |s| s.held);
        state.writing = true;
        drop(state);
        let done = GateRelease(self, |s: &mut GateState| s.writing = false);
        let out = group();
        drop(done);
        out
    }

    /// Runs `f` while no group is written.
    fn exclusive<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut state = self.wait_while(self.lock(), |s| s.held);
        state.held = true;
        let state = self.wait_while(state, |s| s.writing);
        drop(state);
        let done = GateRelease(self, |s: &mut GateState| s.held = false);
        let out = f();
        drop(done);
        out
    }
}

/// Clears a gate's flag (also when the closure it guards panics) and wakes whoever waits.
struct GateRelease<'a, F: Fn(&mut GateState)>(&'a WalGate, F);

impl<F: Fn(&mut GateState)> Drop for GateRelease<'_, F> {
    fn drop(&mut self) {
        (self.1)(&mut self.0.lock());
        self.0.changed.notify_all();
    }
}

/// The WAL file, as the checkpointer writes it ahead.
///
/// A commit that appends past the end of the file makes the filesystem allocate blocks and
/// change the file's length, and its fdatasync then also writes the inode, a second
/// synchronous write: on this machine's ext4, a 45 KiB commit synced in 152–175 µs (p50)
/// into a growing file and in 87–88 µs into blocks the file already had. SQLite overwrites
/// its WAL from the beginning after a restart, so a loaded store reuses its WAL file; written
/// ahead, so does a fresh or idle one. Zeros past the last frame are harmless: recovery stops
/// at the first frame whose checksum fails.
pub(super) struct WalFile {
    pub(super) path: PathBuf,
    frame: u64,
    gate: std::sync::Arc<WalGate>,
}

impl WalFile {
    /// The WAL of the database at `db`, whose pages are `page_size` bytes.
    pub(super) fn new(db: &Path, page_size: u64, gate: std::sync::Arc<WalGate>) -> Self {
        let mut path = db.as_os_str().to_owned();
        path.push("-wal");
        Self {
            path: path.into(),
            frame: page_size + FRAME_HEADER,
            gate,
        }
    }

    /// Bytes for `frames` frames and the header.
    pub(super) fn bytes(&self, frames: i64) -> u64 {
        WAL_HEADER + u64::try_from(frames).unwrap_or(0) * self.frame
    }

    /// The file's length in whole frames.
    pub(super) fn frames(&self) -> std::io::Result<i64> {
        let len = std::fs::metadata(&self.path)?.len();
        Ok(i64::try_from(len.saturating_sub(WAL_HEADER) / self.frame).unwrap_or(i64::MAX))
    }

    /// Writes zeros past the end of the file until it has room for `frames` frames, a chunk
    /// at a time; each chunk is synced after, off the writer's path (a commit that comes
    /// first flushes it itself: once per chunk, not per commit). Only ever past the end: the
    /// file's length is read while no one can write frames, this store's writer held by the
    /// gate, any other connection to the database (another process's, such as a test's) by
    /// SQLite's write lock, taken on `conn` for the chunk and released without a write.
    pub(super) fn reserve(&self, conn: &Connection, frames: i64) -> std::io::Result<()> {
        let want = self.bytes(frames);
        // Long enough already (the usual case under a steady load): the writer is not held.
        // SQLite only lengthens the file; only the checkpointer's own thread shortens it.
        if frames <= 0 || std::fs::metadata(&self.path).is_ok_and(|m| m.len() >= want) {
            return Ok(());
        }
        let file = match std::fs::OpenOptions::new().write(true).open(&self.path) {
            Ok(f) => f,
            // SQLite creates it with the first transaction.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        loop {
            let wrote = self.gate.exclusive(|| {
                conn.execute_batch("BEGIN IMMEDIATE")
                    .map_err(std::io::Error::other)?;
                let wrote = write_chunk(&file, want);
                conn.execute_batch("ROLLBACK")
                    .map_err(std::io::Error::other)?;
                wrote
            })?;
            if !wrote {
                return Ok(());
            }
            file.sync_data()?;
        }
    }
}

/// Writes up to [`RESERVE_CHUNK`] zeros at the end of `file` if it is shorter than `want`;
/// whether it wrote.
fn write_chunk(file: &std::fs::File, want: u64) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    if len >= want {
        return Ok(false);
    }
    let n = usize::try_from(want - len).map_or(RESERVE_CHUNK, |n| n.min(RESERVE_CHUNK));
    std::os::unix::fs::FileExt::write_all_at(file, &ZEROS[..n], len)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// Writing ahead waits for the writer's group in progress, and runs once it ends.
    #[test]
    fn writing_ahead_waits_for_the_writer() {
        let gate = Arc::new(WalGate::default());
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let writer = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                gate.write(|| {
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                });
            })
        };
        entered.recv().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let ahead = {
            let (gate, ran) = (gate.clone(), ran.clone());
            std::thread::spawn(move || gate.exclusive(|| ran.store(true, Ordering::SeqCst)))
        };
        // Until the other thread has asked for the gate (it then waits for the writer).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !gate.lock().held {
            assert!(std::time::Instant::now() < deadline, "never asked");
            std::thread::yield_now();
        }
        assert!(!ran.load(Ordering::SeqCst), "ran during the group");
        release.send(()).unwrap();
        writer.join().unwrap();
        ahead.join().unwrap();
        assert!(ran.load(Ordering::SeqCst));
        // Released: the next group runs.
        assert_eq!(gate.write(|| 7), 7);
    }
}
