//! Writing a blob: batches hashed on the hashing threads and written by short blocking tasks,
//! large blobs with `O_DIRECT`, a background `fdatasync` every [`FLUSH_WINDOW`], then fsync,
//! rename and directory fsync.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::{DIRECT_ALIGN, FLUSH_WINDOW, create_dirs_durably, drop_pages};
use crate::{BlobError, BodyDigest, Digester};

/// Bytes gathered before one write to the file.
const WRITE_BATCH: usize = 256 * 1024;

/// Bytes gathered before one write once a blob has passed [`LARGE_BLOB`]: each batch costs a
/// hand-off to a hashing thread and a hop to a blocking thread for writing, and at 256 KiB
/// those hops kept the hashing thread (the bound of a single large upload) idle a quarter of
/// the time (measured when hashing still ran on blocking tasks). Large PUT went from 503–512
/// to 557–582 MiB/s; 64 concurrent uploads peak at ~210 MiB instead of
/// ~95 MiB (up to three batches per upload: one gathering, one hashing, one being written).
pub(super) const LARGE_WRITE_BATCH: usize = 1024 * 1024;

/// Bytes after which a blob's batches grow to [`LARGE_WRITE_BATCH`]. Smaller objects keep
/// small batches so their hashing and writing overlap the rest of the body arriving.
pub(super) const LARGE_BLOB: u64 = 4 * 1024 * 1024;

/// Bytes of a large blob gathered in memory (aligned) before one `O_DIRECT` write: a
/// [`LARGE_WRITE_BATCH`] and the overshoot of its last chunk, so a batch is one write.
pub(super) const DIRECT_STAGE: usize = LARGE_WRITE_BATCH + 128 * 1024;

thread_local! {
    /// The aligned staging buffer of `O_DIRECT` writes, one per blocking thread (not per
    /// upload): memory stays bounded by the pool size however many uploads run at once.
    static DIRECT_STAGING: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Opens the temporary file of a blob a second time, for `O_DIRECT` writes; `None` where the
/// filesystem refuses them.
fn open_direct_write(path: &Path) -> std::io::Result<Option<File>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(None),
        other => other.map(Some),
    }
}

struct WriterState {
    file: Option<File>,
    /// The file opened with `O_DIRECT`, once the blob has passed [`LARGE_BLOB`].
    direct: Option<File>,
    /// The filesystem (or device) refused `O_DIRECT`: every byte goes through `file`.
    direct_refused: bool,
    /// Received bytes past the last aligned `O_DIRECT` write (fewer than [`DIRECT_ALIGN`]);
    /// they go with the next batch, or through `file` at the end.
    carry: Vec<u8>,
    /// Bytes written to the file so far (the carry not included).
    written: u64,
}

impl WriterState {
    /// Writes through the page cache at the end of what is written.
    fn write_buffered(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let file = self.file.as_ref().ok_or(std::io::ErrorKind::NotFound)?;
        std::os::unix::fs::FileExt::write_all_at(file, bytes, self.written)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Writes one batch of a large blob with `O_DIRECT`, outside the page cache (see
    /// [`drop_pages`] for why): the bytes are gathered into an aligned staging buffer and
    /// written in whole blocks; the unaligned rest waits in `carry`. Falls back to the page
    /// cache for good where the filesystem refuses.
    fn write_direct(&mut self, path: &Path, batch: &[Bytes]) -> std::io::Result<()> {
        if self.direct.is_none() && !self.direct_refused {
            self.direct = open_direct_write(path)?;
            self.direct_refused = self.direct.is_none();
        }
        if self.direct.is_none() {
            for chunk in batch {
                self.write_buffered(chunk)?;
            }
            return Ok(());
        }
        let mut rest: &[u8] = &[];
        let mut chunks = batch.iter();
        // The switch from buffered writes: reach an aligned offset through the page cache.
        let head = (DIRECT_ALIGN - (self.written % DIRECT_ALIGN as u64) as usize) % DIRECT_ALIGN;
        if head > 0 {
            let mut need = head;
            for chunk in chunks.by_ref() {
                let n = need.min(chunk.len());
                self.write_buffered(&chunk[..n])?;
                need -= n;
                if need == 0 {
                    rest = &chunk[n..];
                    break;
                }
            }
        }
        DIRECT_STAGING.with_borrow_mut(|buf| {
            if buf.len() < DIRECT_STAGE + DIRECT_ALIGN {
                buf.resize(DIRECT_STAGE + DIRECT_ALIGN, 0);
            }
            let pad = (DIRECT_ALIGN - buf.as_ptr().addr() % DIRECT_ALIGN) % DIRECT_ALIGN;
            let stage = &mut buf[pad..pad + DIRECT_STAGE];
            let mut fill = self.carry.len();
            stage[..fill].copy_from_slice(&self.carry);
            self.carry.clear();
            for mut bytes in std::iter::once(rest).chain(chunks.map(|c| &c[..])) {
                while !bytes.is_empty() {
                    let n = bytes.len().min(DIRECT_STAGE - fill);
                    stage[fill..fill + n].copy_from_slice(&bytes[..n]);
                    fill += n;
                    bytes = &bytes[n..];
                    if fill == DIRECT_STAGE {
                        self.write_staged(&stage[..fill])?;
                        fill = 0;
                    }
                }
            }
            let aligned = fill - fill % DIRECT_ALIGN;
            self.write_staged(&stage[..aligned])?;
            self.carry.extend_from_slice(&stage[aligned..fill]);
            Ok(())
        })
    }

    /// One aligned `O_DIRECT` write at the end of the file (through the page cache if the
    /// device turns out to need a larger alignment).
    fn write_staged(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let Some(direct) = self.direct.as_ref() else {
            return self.write_buffered(bytes);
        };
        match std::os::unix::fs::FileExt::write_all_at(direct, bytes, self.written) {
            Ok(()) => {
                self.written += bytes.len() as u64;
                Ok(())
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                self.direct = None;
                self.direct_refused = true;
                self.write_buffered(bytes)
            }
            Err(e) => Err(e),
        }
    }
}

type WriteTask = tokio::task::JoinHandle<Result<WriterState, BlobError>>;
type HashTask = crate::hashing::Hashing<Digester>;

/// A blob being written. Feed it with [`BlobWriter::write`], then [`BlobWriter::finish`];
/// dropping it without finishing removes the temporary file.
///
/// Each batch of bytes is hashed on the hashing threads (`crate::hashing`) and written by a
/// short blocking task, so a slow client never holds a thread between batches, and hashing
/// batch N+1 runs while batch N is written (MD5 is most of a PUT's CPU and runs on one core).
pub struct BlobWriter {
    blob_id: String,
    tmp_path: PathBuf,
    final_path: Result<PathBuf, BlobError>,
    blobs_root: PathBuf,
    fsync: bool,
    state: Option<WriterState>,
    /// The digests so far, while no batch is being hashed.
    digester: Option<Digester>,
    pending: Vec<Bytes>,
    pending_len: usize,
    /// Bytes handed to [`Self::dispatch`] so far.
    dispatched: u64,
    inflight: Option<WriteTask>,
    hashing: Option<HashTask>,
    /// A background `fdatasync` of the file, started every [`FLUSH_WINDOW`] bytes.
    flush: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// `written` when the last background flush started.
    flushed_at: u64,
    /// Known to reach [`LARGE_BLOB`]: large batches and `O_DIRECT` from the first byte.
    large: bool,
    finished: bool,
}

impl BlobWriter {
    pub(super) fn new(
        tmp_path: PathBuf,
        final_path: Result<PathBuf, BlobError>,
        blobs_root: PathBuf,
        fsync: bool,
        digester: Digester,
        blob_id: String,
    ) -> Self {
        Self {
            blob_id,
            tmp_path,
            final_path,
            blobs_root,
            fsync,
            state: Some(WriterState {
                file: None,
                direct: None,
                direct_refused: false,
                carry: Vec::new(),
                written: 0,
            }),
            digester: Some(digester),
            pending: Vec::new(),
            pending_len: 0,
            dispatched: 0,
            inflight: None,
            hashing: None,
            flush: None,
            flushed_at: 0,
            large: false,
            finished: false,
        }
    }

    /// The id the blob will have once finished.
    pub fn blob_id(&self) -> &str {
        &self.blob_id
    }

    /// Tells the writer how many bytes are coming (a request's Content-Length): a blob known
    /// to be large is written in large batches with `O_DIRECT` from its first byte instead of
    /// from 4 MiB on. Only a hint: any size may still arrive.
    #[must_use]
    pub fn expect_size(mut self, size: u64) -> Self {
        self.large = size >= LARGE_BLOB;
        self
    }

    /// Takes the next chunk; once a batch has gathered it goes to be hashed and written, and the
    /// writer returns at once so the next batch is received while this one is hashed and
    /// written (one batch in flight at most, so memory stays bounded).
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        self.pending_len += chunk.len();
        self.pending.push(chunk);
        let batch = if self.large || self.dispatched >= LARGE_BLOB {
            LARGE_WRITE_BATCH
        } else {
            WRITE_BATCH
        };
        if self.pending_len >= batch {
            self.dispatch().await?;
        }
        Ok(())
    }

    /// Waits for the batch in flight, if any, and takes the writer state back.
    async fn settle(&mut self) -> Result<(), BlobError> {
        if let Some(task) = self.inflight.as_mut() {
            let result = task.await;
            self.inflight = None;
            self.state = Some(result.map_err(|e| BlobError::Io(std::io::Error::other(e)))??);
        }
        Ok(())
    }

    /// Waits for the batch being hashed, if any, and takes the digester back.
    async fn settle_hash(&mut self) -> Result<(), BlobError> {
        if let Some(task) = self.hashing.as_mut() {
            let result = task.join().await;
            self.hashing = None;
            self.digester = Some(result?);
        }
        Ok(())
    }

    /// Sends the pending bytes to be hashed (on the hashing threads) and written (by a blocking
    /// task, creating the file on the first batch). Each waits for its own previous batch only:
    /// the hash of this batch runs while the previous one is still being written. Waiting for
    /// the previous hash before sending this one is what keeps an upload's hash updates in
    /// order: the hashing threads may run jobs of different uploads in any order.
    async fn dispatch(&mut self) -> Result<(), BlobError> {
        if self.pending.is_empty() {
            self.settle().await?;
            if self.state.as_ref().is_some_and(|s| s.file.is_some()) {
                return Ok(());
            }
        }
        let batch = std::mem::take(&mut self.pending);
        let batch_len = self.pending_len as u64;
        self.dispatched += batch_len;
        self.pending_len = 0;
        self.settle_hash().await?;
        let mut digester = self
            .digester
            .take()
            .ok_or_else(|| BlobError::Body("writer already failed".into()))?;
        let to_hash = batch.clone();
        self.hashing = Some(crate::hashing::spawn(move || {
            for chunk in &to_hash {
                digester.update(chunk);
            }
            digester
        }));
        self.settle().await?;
        let mut state = self
            .state
            .take()
            .ok_or_else(|| BlobError::Body("writer already failed".into()))?;
        self.maybe_flush(&state)?;
        let tmp_path = self.tmp_path.clone();
        let direct = self.large || self.dispatched - batch_len >= LARGE_BLOB;
        self.inflight = Some(tokio::task::spawn_blocking(move || {
            if state.file.is_none() {
                state.file = Some(File::create(&tmp_path)?);
            }
            if direct {
                state.write_direct(&tmp_path, &batch)?;
            } else {
                for chunk in &batch {
                    state.write_buffered(chunk)?;
                }
            }
            Ok(state)
        }));
        Ok(())
    }

    /// Starts a background `fdatasync` once [`FLUSH_WINDOW`] more bytes have been written and
    /// the previous one has ended, so the device writes while the body is still arriving.
    fn maybe_flush(&mut self, state: &WriterState) -> Result<(), BlobError> {
        let Some(file) = state.file.as_ref() else {
            return Ok(());
        };
        if !self.fsync || state.written - self.flushed_at < FLUSH_WINDOW {
            return Ok(());
        }
        if self.flush.as_ref().is_some_and(|f| !f.is_finished()) {
            return Ok(());
        }
        if let Some(done) = self.flush.take() {
            // Finished: collecting it cannot block. A failed flush fails the write.
            futures::FutureExt::now_or_never(done)
                .unwrap_or(Ok(Ok(())))
                .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        }
        let file = file.try_clone()?;
        let synced = state.written;
        self.flushed_at = synced;
        self.flush = Some(tokio::task::spawn_blocking(move || {
            file.sync_data()?;
            drop_pages(&file, 0, synced);
            Ok(())
        }));
        Ok(())
    }

    /// Makes the blob durable (fsync, rename, fsync of the directory) and returns its digests.
    pub async fn finish(mut self) -> Result<(String, BodyDigest), BlobError> {
        self.dispatch().await?;
        self.settle().await?;
        self.settle_hash().await?;
        let digester = self
            .digester
            .take()
            .ok_or_else(|| BlobError::Body("writer already failed".into()))?;
        if let Some(flush) = self.flush.take() {
            flush
                .await
                .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        }
        let state = self
            .state
            .take()
            .ok_or_else(|| BlobError::Body("writer already failed".into()))?;
        let final_path = std::mem::replace(&mut self.final_path, Err(BlobError::InvalidId))?;
        let (tmp_path, root, fsync) = (self.tmp_path.clone(), self.blobs_root.clone(), self.fsync);
        let digest = tokio::task::spawn_blocking(move || -> Result<BodyDigest, BlobError> {
            let mut state = state;
            let carry = std::mem::take(&mut state.carry);
            state.write_buffered(&carry)?;
            let file = state.file.ok_or(BlobError::InvalidId)?;
            if fsync {
                file.sync_all()?;
                if state.written >= FLUSH_WINDOW {
                    drop_pages(&file, 0, state.written);
                }
            }
            drop(file);
            let parent = final_path.parent().ok_or(BlobError::InvalidId)?;
            create_dirs_durably(&root, parent, fsync)?;
            fs::rename(&tmp_path, &final_path)?;
            if fsync {
                File::open(parent)?.sync_all()?;
            }
            Ok(digester.finish())
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        self.finished = true;
        Ok((std::mem::take(&mut self.blob_id), digest))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Not finished: once any write in flight has ended, discard the temporary file.
        let inflight = self.inflight.take();
        let tmp_path = self.tmp_path.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Some(task) = inflight {
                    let _ = task.await;
                }
                let _ = tokio::fs::remove_file(&tmp_path).await;
            });
        } else {
            let _ = fs::remove_file(&tmp_path);
        }
    }
}
