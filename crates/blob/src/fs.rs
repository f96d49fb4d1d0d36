//! The local-filesystem blob store.
//!
//! Writes and reads run on blocking threads fed through bounded channels, so filesystem calls
//! and hashing never run on async workers and a slow client never makes a blob buffer grow.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use coffer_core::ChecksumAlgorithm;
use coffer_core::id::{is_blob_id, new_blob_id};
use tokio::sync::{mpsc, oneshot};

use crate::{BlobError, BodyDigest, Digester};

/// Size of the chunks a reader hands out.
const READ_CHUNK: usize = 256 * 1024;

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
        let tmp_path = self.root.join("tmp").join(format!("{blob_id}.tmp"));
        let final_path = self.blob_path(&blob_id);
        let fsync = self.fsync;
        let (chunks_tx, chunks_rx) = mpsc::channel::<Bytes>(4);
        let (done_tx, done_rx) = oneshot::channel();
        let task = tokio::task::spawn_blocking(move || {
            write_blob(&tmp_path, final_path, fsync, algorithms, chunks_rx, done_rx)
        });
        BlobWriter {
            blob_id,
            chunks: Some(chunks_tx),
            done: Some(done_tx),
            task,
        }
    }

    /// Streams `len` bytes of `blob_id` from `offset`. The file is opened on the reader thread;
    /// a missing blob shows as the stream's first item.
    pub fn reader(&self, blob_id: &str, offset: u64, len: u64) -> BlobReader {
        let (tx, rx) = mpsc::channel::<Result<Bytes, BlobError>>(2);
        let path = self.blob_path(blob_id);
        let blob_id = blob_id.to_owned();
        tokio::task::spawn_blocking(move || {
            let result = (|| -> Result<(), BlobError> {
                let mut file = File::open(path?).map_err(|e| missing_or_io(e, &blob_id))?;
                file.seek(SeekFrom::Start(offset))?;
                let mut remaining = len;
                while remaining > 0 {
                    let want =
                        usize::try_from(remaining.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
                    let mut buf = vec![0u8; want];
                    file.read_exact(&mut buf).map_err(|e| {
                        if e.kind() == std::io::ErrorKind::UnexpectedEof {
                            BlobError::Io(std::io::Error::new(
                                e.kind(),
                                "blob shorter than its metadata",
                            ))
                        } else {
                            BlobError::Io(e)
                        }
                    })?;
                    remaining -= want as u64;
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        // The client went away; stop reading.
                        return Ok(());
                    }
                }
                Ok(())
            })();
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(e));
            }
        });
        BlobReader { rx }
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

fn write_blob(
    tmp_path: &Path,
    final_path: Result<PathBuf, BlobError>,
    fsync: bool,
    algorithms: Vec<ChecksumAlgorithm>,
    mut chunks: mpsc::Receiver<Bytes>,
    done: oneshot::Receiver<bool>,
) -> Result<BodyDigest, BlobError> {
    let final_path = final_path?;
    let mut file = File::create(tmp_path)?;
    let mut digester = Digester::new(algorithms);
    let outcome = (|| -> Result<BodyDigest, BlobError> {
        while let Some(chunk) = chunks.blocking_recv() {
            digester.update(&chunk);
            file.write_all(&chunk)?;
        }
        // The sender is dropped both on success and on abandonment; `done` says which.
        if !done.blocking_recv().unwrap_or(false) {
            return Err(BlobError::Body("write abandoned".into()));
        }
        if fsync {
            file.sync_all()?;
        }
        let parent = final_path.parent().ok_or(BlobError::InvalidId)?;
        fs::create_dir_all(parent)?;
        fs::rename(tmp_path, &final_path)?;
        if fsync {
            File::open(parent)?.sync_all()?;
        }
        Ok(digester.finish())
    })();
    if outcome.is_err() {
        let _ = fs::remove_file(tmp_path);
    }
    outcome
}

/// A blob being written. Feed it with [`BlobWriter::write`], then [`BlobWriter::finish`];
/// dropping it without finishing removes the temporary file.
pub struct BlobWriter {
    blob_id: String,
    chunks: Option<mpsc::Sender<Bytes>>,
    done: Option<oneshot::Sender<bool>>,
    task: tokio::task::JoinHandle<Result<BodyDigest, BlobError>>,
}

impl BlobWriter {
    /// The id the blob will have once finished.
    pub fn blob_id(&self) -> &str {
        &self.blob_id
    }

    /// Hands the next chunk to the writer thread; waits when it is behind.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        let Some(tx) = &self.chunks else {
            return Err(BlobError::Body("writer already finished".into()));
        };
        if tx.send(chunk).await.is_err() {
            // The writer thread stopped early: take its error.
            self.chunks = None;
            return Err(self.take_error().await);
        }
        Ok(())
    }

    async fn take_error(&mut self) -> BlobError {
        if let Some(done) = self.done.take() {
            let _ = done.send(false);
        }
        match (&mut self.task).await {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => BlobError::Body("writer stopped".into()),
            Err(e) => BlobError::Io(std::io::Error::other(e)),
        }
    }

    /// Makes the blob durable (fsync, rename, fsync of the directory) and returns its digests.
    pub async fn finish(mut self) -> Result<(String, BodyDigest), BlobError> {
        self.chunks = None;
        if let Some(done) = self.done.take() {
            let _ = done.send(true);
        }
        let digest = (&mut self.task)
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))??;
        Ok((std::mem::take(&mut self.blob_id), digest))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // Not finished: tell the thread to discard what it wrote.
        self.chunks = None;
        if let Some(done) = self.done.take() {
            let _ = done.send(false);
        }
    }
}

/// The bytes of a blob range, in chunks.
pub struct BlobReader {
    rx: mpsc::Receiver<Result<Bytes, BlobError>>,
}

impl BlobReader {
    /// The next chunk, or `None` at the end of the range.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, BlobError>> {
        self.rx.recv().await
    }

    /// Polls for the next chunk.
    pub fn poll_chunk(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, BlobError>>> {
        self.rx.poll_recv(cx)
    }
}

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
