//! The local-filesystem blob store.
//!
//! Reads and writes happen in short blocking tasks, one per chunk or batch, and hashing on the
//! hashing threads, so neither runs on async workers, and a slow client holds no thread while
//! it dawdles.
//! Writing is in [`BlobWriter`], reading in [`BlobReader`].

mod reader;
mod writer;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use coffer_core::ChecksumAlgorithm;
use coffer_core::id::{is_blob_id, new_blob_id};

pub use reader::BlobReader;
pub use writer::BlobWriter;

use crate::{BlobError, Digester};

/// File offset, length and memory alignment of `O_DIRECT` reads (the largest logical block
/// size in use; 512-byte devices accept it too).
const DIRECT_ALIGN: usize = 4096;

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
        BlobWriter::new(
            self.root.join("tmp").join(format!("{blob_id}.tmp")),
            self.blob_path(&blob_id),
            self.root.join("blobs"),
            self.fsync,
            Digester::new(algorithms),
            blob_id,
        )
    }

    /// Streams `len` bytes of `blob_id` from `offset`. The file is opened by the first read;
    /// a missing blob shows as the stream's first item.
    pub fn reader(&self, blob_id: &str, offset: u64, len: u64) -> BlobReader {
        BlobReader::new(
            self.blob_path(blob_id).map_err(|_| blob_id.to_owned()),
            blob_id,
            offset,
            len,
        )
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

/// Once this many bytes have been written since the last background flush, another one starts
/// (when none is running): a large blob then reaches the device while it is still being
/// received, and the fsync in `finish` only waits for the tail instead of the whole object.
const FLUSH_WINDOW: u64 = 16 * 1024 * 1024;

/// Drops `len` bytes of `file` from `offset` out of the page cache (they must be clean: already
/// made durable, or only read), so their pages are freed at once and reused by the next window
/// of the same transfer.
///
/// Large blobs are written past [`writer::LARGE_BLOB`] and read in ranges of 16 MiB and more with
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

#[cfg(test)]
mod tests {
    use super::writer::{DIRECT_STAGE, LARGE_BLOB, LARGE_WRITE_BATCH};
    use super::*;
    use bytes::Bytes;

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
