//! The local-filesystem blob store.
//!
//! Reads and writes happen in short blocking tasks, one per chunk or batch, so filesystem calls
//! and hashing never run on async workers, and a slow client holds no thread while it dawdles.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use coffer_core::ChecksumAlgorithm;
use coffer_core::id::{is_blob_id, new_blob_id};

use crate::{BlobError, BodyDigest, Digester};

/// Size of the chunks a reader hands out.
const READ_CHUNK: usize = 512 * 1024;

/// Size of the chunks of a large range, read with `O_DIRECT`.
const STREAM_READ_CHUNK: usize = 1024 * 1024;

/// File offset, length and memory alignment of `O_DIRECT` reads (the largest logical block
/// size in use; 512-byte devices accept it too).
const DIRECT_ALIGN: usize = 4096;

/// Opens a blob for `O_DIRECT` reads, or for ordinary ones where the filesystem refuses them.
fn open_direct(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => File::open(path),
        other => other,
    }
}

/// Reads into `target` (aligned in memory) from `start` (aligned in the file) until `need`
/// bytes or the end of the file; returns how many were read.
fn read_aligned(file: &File, target: &mut [u8], start: u64, need: usize) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < need {
        let n = std::os::unix::fs::FileExt::read_at(
            file,
            &mut target[filled..],
            start + filled as u64,
        )?;
        filled += n;
        // Only the end of the file gives a short read (and the next one would be misaligned).
        if n == 0 || n % DIRECT_ALIGN != 0 {
            break;
        }
    }
    Ok(filled)
}

fn short_blob() -> BlobError {
    BlobError::Io(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "blob shorter than its metadata",
    ))
}

/// Blobs under one data directory: `blobs/xx/yy/<id>` plus `tmp/` for writes in progress.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    fsync: bool,
}

impl FsBlobStore {
    /// Opens (creating if needed) the blob directories under `data_dir`.
    ///
    /// `fsync` false is only for benchmarks that measure everything but the disk.
    pub fn open(data_dir: &Path, fsync: bool) -> Result<Self, BlobError> {
        let root = data_dir.to_path_buf();
        fs::create_dir_all(root.join("blobs"))?;
        fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root, fsync })
    }

    fn blob_path(&self, blob_id: &str) -> Result<PathBuf, BlobError> {
        if !is_blob_id(blob_id) {
            return Err(BlobError::InvalidId);
        }
        Ok(self
            .root
            .join("blobs")
            .join(&blob_id[0..2])
            .join(&blob_id[2..4])
            .join(blob_id))
    }

    /// Starts writing a new blob; bytes are hashed with MD5 and `algorithms` as they pass.
    pub fn writer(&self, algorithms: Vec<ChecksumAlgorithm>) -> BlobWriter {
        let blob_id = new_blob_id();
        BlobWriter {
            tmp_path: self.root.join("tmp").join(format!("{blob_id}.tmp")),
            final_path: self.blob_path(&blob_id),
            blobs_root: self.root.join("blobs"),
            fsync: self.fsync,
            state: Some(WriterState {
                file: None,
                direct: None,
                direct_refused: false,
                carry: Vec::new(),
                written: 0,
            }),
            digester: Some(Digester::new(algorithms)),
            hashing: None,
            flush: None,
            flushed_at: 0,
            large: false,
            pending: Vec::new(),
            pending_len: 0,
            dispatched: 0,
            inflight: None,
            finished: false,
            blob_id,
        }
    }

    /// Streams `len` bytes of `blob_id` from `offset`. The file is opened by the first read;
    /// a missing blob shows as the stream's first item.
    pub fn reader(&self, blob_id: &str, offset: u64, len: u64) -> BlobReader {
        BlobReader {
            path: self.blob_path(blob_id).map_err(|_| blob_id.to_owned()),
            blob_id: blob_id.to_owned(),
            offset,
            remaining: len,
            stream: len >= FLUSH_WINDOW,
            file: None,
            inflight: None,
            ahead: None,
            next_offset: offset,
            undispatched: len,
        }
    }

    /// Removes a blob. A blob already gone is not an error (deletes are retried after crashes).
    pub async fn delete(&self, blob_id: &str) -> Result<(), BlobError> {
        let path = self.blob_path(blob_id)?;
        tokio::task::spawn_blocking(move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::Io(e)),
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
    }

    /// Ids of stored blobs last modified before `now - min_age` (candidates for orphan GC).
    pub async fn list_older_than(&self, min_age: Duration) -> Result<Vec<String>, BlobError> {
        let root = self.root.join("blobs");
        tokio::task::spawn_blocking(move || {
            let cutoff = SystemTime::now()
                .checked_sub(min_age)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let mut ids = Vec::new();
            for level1 in read_dir_paths(&root)? {
                for level2 in read_dir_paths(&level1)? {
                    for entry in fs::read_dir(&level2)? {
                        let entry = entry?;
                        let name = entry.file_name().to_string_lossy().into_owned();
                        if !is_blob_id(&name) {
                            continue;
                        }
                        let modified = entry.metadata()?.modified()?;
                        if modified < cutoff {
                            ids.push(name);
                        }
                    }
                }
            }
            Ok(ids)
        })
        .await
        .map_err(|e| BlobError::Io(std::io::Error::other(e)))?
    }

    /// Removes temporary files of writes that can no longer finish (called at start-up).
    pub fn clear_tmp(&self) -> Result<usize, BlobError> {
        let mut removed = 0;
        for entry in fs::read_dir(self.root.join("tmp"))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Checks that the data directory is writable (readiness probe).
    pub fn check_writable(&self) -> Result<(), BlobError> {
        let probe = self
            .root
            .join("tmp")
            .join(format!("{}.probe", new_blob_id()));
        fs::write(&probe, b"ok")?;
        fs::remove_file(&probe)?;
        Ok(())
    }
}

fn read_dir_paths(dir: &Path) -> Result<Vec<PathBuf>, BlobError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.push(entry.path());
        }
    }
    Ok(out)
}

fn missing_or_io(e: std::io::Error, blob_id: &str) -> BlobError {
    if e.kind() == std::io::ErrorKind::NotFound {
        BlobError::Missing(blob_id.to_owned())
    } else {
        BlobError::Io(e)
    }
}

/// Creates `dir` and any missing parents below `root`, fsyncing each parent whose entries
/// changed so a committed blob's directory survives a power loss.
fn create_dirs_durably(root: &Path, dir: &Path, fsync: bool) -> Result<(), BlobError> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().ok_or(BlobError::InvalidId)?;
    if parent != root {
        create_dirs_durably(root, parent, fsync)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            if fsync {
                File::open(parent)?.sync_all()?;
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(BlobError::Io(e)),
    }
}

/// Bytes gathered before one write to the file.
const WRITE_BATCH: usize = 256 * 1024;

/// Bytes gathered before one write once a blob has passed [`LARGE_BLOB`]: each batch costs a
/// hop to a blocking thread for hashing and another for writing, and at 256 KiB those hops kept
/// the hashing thread (the bound of a single large upload) idle a quarter of the time. Large
/// PUT went from 503–512 to 557–582 MiB/s; 64 concurrent uploads peak at ~210 MiB instead of
/// ~95 MiB (up to three batches per upload: one gathering, one hashing, one being written).
const LARGE_WRITE_BATCH: usize = 1024 * 1024;

/// Bytes after which a blob's batches grow to [`LARGE_WRITE_BATCH`]. Smaller objects keep
/// small batches so their hashing and writing overlap the rest of the body arriving.
const LARGE_BLOB: u64 = 4 * 1024 * 1024;

/// Once this many bytes have been written since the last background flush, another one starts
/// (when none is running): a large blob then reaches the device while it is still being
/// received, and the fsync in `finish` only waits for the tail instead of the whole object.
const FLUSH_WINDOW: u64 = 16 * 1024 * 1024;

/// Drops `len` bytes of `file` from `offset` out of the page cache (they must be clean: already
/// made durable, or only read), so their pages are freed at once and reused by the next window
/// of the same transfer.
///
/// Large blobs are written past [`LARGE_BLOB`] and read in ranges of 16 MiB and more with
/// `O_DIRECT`, outside the page cache; where the filesystem refuses `O_DIRECT`, uploads of
/// [`FLUSH_WINDOW`] and more stream through the page cache this way instead of claiming fresh
/// memory for every byte. A multi-GiB transfer would evict hotter data anyway, and on virtual
/// machines whose memory the host maps on first touch (and takes back when the guest frees
/// it) filling the page cache with cold pages made every copy into it several times dearer: a
/// 1 GiB upload after a few GB of other writes went from 3 to 6 CPU-s. Smaller blobs, the hot
/// ones, stay cached. Only a hint: failure is ignored.
fn drop_pages(file: &File, offset: u64, len: u64) {
    if let Some(len) = std::num::NonZeroU64::new(len) {
        let _ = rustix::fs::fadvise(file, offset, Some(len), rustix::fs::Advice::DontNeed);
    }
}

/// Bytes of a large blob gathered in memory (aligned) before one `O_DIRECT` write: a
/// [`LARGE_WRITE_BATCH`] and the overshoot of its last chunk, so a batch is one write.
const DIRECT_STAGE: usize = LARGE_WRITE_BATCH + 128 * 1024;

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
type HashTask = tokio::task::JoinHandle<Digester>;

/// A blob being written. Feed it with [`BlobWriter::write`], then [`BlobWriter::finish`];
/// dropping it without finishing removes the temporary file.
///
/// Each batch of bytes is hashed by one short blocking task and written by another, so a slow
/// client never holds a thread of the blocking pool between batches, and hashing batch N+1 runs
/// while batch N is written (MD5 is most of a PUT's CPU and runs on one core).
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
    /// The id the blob will have once finished.
    pub fn blob_id(&self) -> &str {
        &self.blob_id
    }

    /// Tells the writer how many bytes are coming (a request's Content-Length): a blob known
    /// to be large is written in large batches with `O_DIRECT` from its first byte instead of
    /// from [`LARGE_BLOB`] on. Only a hint: any size may still arrive.
    #[must_use]
    pub fn expect_size(mut self, size: u64) -> Self {
        self.large = size >= LARGE_BLOB;
        self
    }

    /// Takes the next chunk; once a batch has gathered it goes to a blocking task, and the
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
            let result = task.await;
            self.hashing = None;
            self.digester = Some(result.map_err(|e| BlobError::Io(std::io::Error::other(e)))?);
        }
        Ok(())
    }

    /// Sends the pending bytes to be hashed and written, each by a blocking task (creating the
    /// file on the first batch). Each waits for its own previous batch only: the hash of this
    /// batch runs while the previous one is still being written.
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
        self.hashing = Some(tokio::task::spawn_blocking(move || {
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

type ReadTask = tokio::task::JoinHandle<Result<(File, Bytes), BlobError>>;

/// The bytes of a blob range, in chunks, each read by a short blocking task.
pub struct BlobReader {
    path: Result<PathBuf, String>,
    blob_id: String,
    offset: u64,
    remaining: u64,
    /// A large range: read with `O_DIRECT`, outside the page cache (see [`drop_pages`]), two
    /// chunks in flight.
    stream: bool,
    file: Option<File>,
    inflight: Option<ReadTask>,
    /// The read after `inflight` (large ranges only).
    ahead: Option<ReadTask>,
    /// Where the next read to start begins, and how much of the range no read has asked for.
    next_offset: u64,
    undispatched: u64,
}

impl BlobReader {
    /// The next chunk, or `None` at the end of the range.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, BlobError>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Starts reading the next chunk on a blocking task.
    fn start_read(&mut self, file: Option<File>) {
        let want = usize::try_from(self.remaining.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
        let path = self.path.clone();
        let (blob_id, offset) = (self.blob_id.clone(), self.offset);
        // Allocated here, on the async worker that will also free it once sent: with a
        // per-thread allocator, buffers allocated on the many blocking threads stayed cached in
        // each of their heaps (over 100 MiB of RSS after a burst of reads).
        let mut buf = Vec::with_capacity(want);
        self.inflight = Some(tokio::task::spawn_blocking(move || {
            let mut file = match file {
                Some(f) => f,
                None => {
                    let path = path.map_err(|_| BlobError::InvalidId)?;
                    let mut f = File::open(path).map_err(|e| missing_or_io(e, &blob_id))?;
                    f.seek(SeekFrom::Start(offset))?;
                    f
                }
            };
            (&mut file).take(want as u64).read_to_end(&mut buf)?;
            if buf.len() < want {
                return Err(short_blob());
            }
            Ok((file, Bytes::from(buf)))
        }));
    }

    /// Starts reading the next chunk of a large range straight from the device (`O_DIRECT`),
    /// bypassing the page cache: see [`drop_pages`] for why large transfers stay out of it.
    /// Reads are aligned to [`DIRECT_ALIGN`] in the file and in memory; the chunk handed out is
    /// the requested slice of the aligned buffer. Where the filesystem refuses `O_DIRECT`, the
    /// same aligned reads go through the page cache.
    fn start_direct_read(&mut self, file: Option<File>) -> ReadTask {
        let want = usize::try_from(self.undispatched.min(STREAM_READ_CHUNK as u64))
            .unwrap_or(STREAM_READ_CHUNK);
        let path = self.path.clone();
        let (blob_id, offset) = (self.blob_id.clone(), self.next_offset);
        self.next_offset += want as u64;
        self.undispatched -= want as u64;
        let start = offset - offset % DIRECT_ALIGN as u64;
        let lead = (offset - start) as usize;
        let span = (lead + want).next_multiple_of(DIRECT_ALIGN);
        // Allocated on the async worker that frees it (see `start_read`); zeroed and aligned by
        // the blocking task.
        let mut buf: Vec<u8> = Vec::with_capacity(span + DIRECT_ALIGN);
        tokio::task::spawn_blocking(move || {
            let path = path.map_err(|_| BlobError::InvalidId)?;
            let mut file = match file {
                Some(f) => f,
                None => open_direct(&path).map_err(|e| missing_or_io(e, &blob_id))?,
            };
            buf.resize(span + DIRECT_ALIGN, 0);
            let pad = (DIRECT_ALIGN - buf.as_ptr().addr() % DIRECT_ALIGN) % DIRECT_ALIGN;
            let target = &mut buf[pad..pad + span];
            let filled = match read_aligned(&file, target, start, lead + want) {
                // A device with larger blocks than DIRECT_ALIGN: the page cache it is.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    file = File::open(&path).map_err(|e| missing_or_io(e, &blob_id))?;
                    read_aligned(&file, target, start, lead + want)?
                }
                other => other?,
            };
            if filled < lead + want {
                return Err(short_blob());
            }
            let bytes = Bytes::from(buf).slice(pad + lead..pad + lead + want);
            Ok((file, bytes))
        })
    }

    /// [`Self::poll_chunk`] for a large range: chunks are handed out in order while up to two
    /// reads run (each on its own descriptor of the file, at its own offset), so the device
    /// always has the next read queued while one is sent.
    fn poll_direct(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, BlobError>>> {
        use std::task::Poll;
        if self.inflight.is_none() {
            if self.undispatched == 0 {
                return Poll::Ready(None);
            }
            let file = self.file.take();
            self.inflight = Some(self.start_direct_read(file));
        }
        let Some(task) = self.inflight.as_mut() else {
            return Poll::Ready(None);
        };
        let result = match std::pin::Pin::new(task).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.inflight = self.ahead.take();
        let failed = |reader: &mut Self, e: BlobError| {
            reader.remaining = 0;
            reader.undispatched = 0;
            reader.inflight = None;
            Poll::Ready(Some(Err(e)))
        };
        match result {
            Ok(Ok((file, bytes))) => {
                self.remaining -= bytes.len() as u64;
                self.offset += bytes.len() as u64;
                while self.undispatched > 0 && self.ahead.is_none() {
                    let clone = match file.try_clone() {
                        Ok(clone) => clone,
                        Err(e) => return failed(self, BlobError::Io(e)),
                    };
                    let task = self.start_direct_read(Some(clone));
                    if self.inflight.is_none() {
                        self.inflight = Some(task);
                    } else {
                        self.ahead = Some(task);
                    }
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Ok(Err(e)) => failed(self, e),
            Err(e) => failed(self, BlobError::Io(std::io::Error::other(e))),
        }
    }

    /// Polls for the next chunk. While the caller sends one chunk, the next is being read.
    pub fn poll_chunk(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, BlobError>>> {
        use std::task::Poll;
        if self.stream {
            return self.poll_direct(cx);
        }
        if self.inflight.is_none() {
            if self.remaining == 0 {
                return Poll::Ready(None);
            }
            let file = self.file.take();
            self.start_read(file);
        }
        let Some(task) = self.inflight.as_mut() else {
            return Poll::Ready(None);
        };
        let result = match std::pin::Pin::new(task).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.inflight = None;
        match result {
            Ok(Ok((file, bytes))) => {
                self.remaining -= bytes.len() as u64;
                self.offset += bytes.len() as u64;
                if self.remaining > 0 {
                    // Read ahead: the next chunk is read while this one is sent.
                    self.start_read(Some(file));
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Ok(Err(e)) => {
                self.remaining = 0;
                Poll::Ready(Some(Err(e)))
            }
            Err(e) => {
                self.remaining = 0;
                Poll::Ready(Some(Err(BlobError::Io(std::io::Error::other(e)))))
            }
        }
    }
}

use std::future::Future as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_read_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path(), true).unwrap();
        let mut w = store.writer(vec![ChecksumAlgorithm::Crc32c]);
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.write(Bytes::from_static(b"world")).await.unwrap();
        let (id, digest) = w.finish().await.unwrap();
        assert_eq!(digest.size, 11);
        let mut r = store.reader(&id, 6, 5);
        let mut got = Vec::new();
        while let Some(chunk) = r.next_chunk().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(got, b"world");
        assert_eq!(
            store.list_older_than(Duration::ZERO).await.unwrap(),
            vec![id.clone()]
        );
        store.delete(&id).await.unwrap();
        assert!(matches!(
            store.reader(&id, 0, 1).next_chunk().await,
            Some(Err(BlobError::Missing(_)))
        ));
    }

    /// A blob larger than several flush windows, fed in uneven chunks, comes back byte for byte
    /// with the MD5 of what was sent (background flushes interleave with the writes).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_write_with_background_flushes() {
        use md5::Digest as _;
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path(), true).unwrap();
        let total = 3 * FLUSH_WINDOW as usize + 12_345;
        let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let mut w = store.writer(vec![]);
        for chunk in data.chunks(300_007) {
            w.write(Bytes::copy_from_slice(chunk)).await.unwrap();
        }
        let (id, digest) = w.finish().await.unwrap();
        assert_eq!(digest.size, total as u64);
        assert_eq!(digest.md5, <[u8; 16]>::from(md5::Md5::digest(&data)));
        // Whole, and large ranges (read with O_DIRECT) starting and ending off the alignment,
        // up to the last byte.
        let f = FLUSH_WINDOW as usize;
        for (offset, len) in [
            (0, total),
            (4095, f + 7),
            (total - f - 1, f + 1),
            (1, total - 1),
        ] {
            let got = read_all(&store, &id, offset, len).await.unwrap();
            assert!(
                got == data[offset..offset + len],
                "range {offset}+{len} differs"
            );
        }
        // A range past the end of the blob is an error, never short or padded data.
        let err = read_all(&store, &id, total - f, f + 1).await.unwrap_err();
        assert!(matches!(err, BlobError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof));
    }

    /// Blobs that switch to `O_DIRECT` writes part-way, in chunk sizes that leave the switch and
    /// the end off the alignment (or on it), come back whole; also on tmpfs when the machine
    /// has one (`O_DIRECT` refused on older kernels: the page cache takes over).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn direct_writes_keep_every_byte() {
        use md5::Digest as _;
        let shm = Path::new("/dev/shm");
        let mut dirs = vec![tempfile::tempdir().unwrap()];
        if shm.is_dir() {
            dirs.push(tempfile::tempdir_in(shm).unwrap());
        }
        let large = LARGE_BLOB as usize;
        for dir in &dirs {
            let store = FsBlobStore::open(dir.path(), true).unwrap();
            for (total, chunk) in [
                (large + DIRECT_STAGE * 2, 65_536),
                (large + 3 * DIRECT_ALIGN + 1, 4_097),
                (large + LARGE_WRITE_BATCH * 3 + 17, 1_000_003),
                (large * 3 - 1, DIRECT_STAGE + 5),
                (large + 1, 7),
                (large * 2 + 5, 300_000),
                (3 * DIRECT_ALIGN + 5, 3),
            ] {
                let data: Vec<u8> = (0..total).map(|i| (i * 7 % 253) as u8).collect();
                let mut w = store.writer(vec![]);
                if chunk % 2 == 1 {
                    // A size hint (odd chunk sizes): direct from the first byte.
                    w = w.expect_size(total as u64);
                }
                for part in data.chunks(chunk) {
                    w.write(Bytes::copy_from_slice(part)).await.unwrap();
                }
                let (id, digest) = w.finish().await.unwrap();
                assert_eq!(digest.size, total as u64);
                assert_eq!(digest.md5, <[u8; 16]>::from(md5::Md5::digest(&data)));
                let got = read_all(&store, &id, 0, total).await.unwrap();
                assert!(got == data, "{total} bytes in chunks of {chunk} differ");
                let on_disk = fs::read(store.blob_path(&id).unwrap()).unwrap();
                assert!(on_disk == data, "file of {total} bytes differs");
            }
        }
    }

    async fn read_all(
        store: &FsBlobStore,
        id: &str,
        offset: usize,
        len: usize,
    ) -> Result<Vec<u8>, BlobError> {
        let mut r = store.reader(id, offset as u64, len as u64);
        let mut got = Vec::with_capacity(len);
        while let Some(chunk) = r.next_chunk().await {
            got.extend_from_slice(&chunk?);
        }
        Ok(got)
    }

    #[tokio::test]
    async fn abandoned_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path(), false).unwrap();
        let mut w = store.writer(vec![]);
        w.write(Bytes::from_static(b"partial")).await.unwrap();
        drop(w);
        // Whenever the writer thread gets to it, the abandoned bytes never become a blob.
        assert!(
            store
                .list_older_than(Duration::ZERO)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
