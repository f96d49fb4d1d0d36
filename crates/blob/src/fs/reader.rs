//! Reading a blob range: chunks read by short blocking tasks, the next one read while the
//! current one is sent; large ranges with `O_DIRECT`, two reads in flight.

use std::fs::{self, File};
use std::future::Future as _;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::{DIRECT_ALIGN, FLUSH_WINDOW, missing_or_io, short_blob};
use crate::BlobError;

/// Size of the chunks a reader hands out.
const READ_CHUNK: usize = 512 * 1024;

/// Size of the chunks of a large range, read with `O_DIRECT`.
const STREAM_READ_CHUNK: usize = 1024 * 1024;

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

type ReadTask = tokio::task::JoinHandle<Result<(File, Bytes), BlobError>>;

/// The bytes of a blob range, in chunks, each read by a short blocking task.
pub struct BlobReader {
    path: Result<PathBuf, String>,
    blob_id: String,
    offset: u64,
    remaining: u64,
    /// A large range: read with `O_DIRECT`, outside the page cache (see [`super::drop_pages`]), two
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
    pub(super) fn new(path: Result<PathBuf, String>, blob_id: &str, offset: u64, len: u64) -> Self {
        Self {
            path,
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
    /// bypassing the page cache: see [`super::drop_pages`] for why large transfers stay out of it.
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
