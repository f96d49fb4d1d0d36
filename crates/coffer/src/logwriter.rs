//! Log lines gathered in memory and written to standard error in batches by one thread.
//!
//! The access log has a line per request. Writing each line (one `write` system call), or
//! handing each to a writer thread over a channel (one thread wake-up per line), showed in the
//! small-object profiles. Here a line is appended to a shared buffer under a short lock, and
//! the writer thread writes whatever has gathered every [`FLUSH_INTERVAL`]. Nothing is dropped:
//! past [`HIGH_WATER`] bytes the logging thread writes the batch itself (so a blocked standard
//! error slows requests down instead of growing memory), and the guard writes the rest when the
//! server stops.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait in memory before it is written.
const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// Bytes gathered beyond which the thread that logs writes the batch itself. Above what the
/// heaviest load logs in one [`FLUSH_INTERVAL`] (~30k small requests/s, ~380 KB), so that the
/// writer thread, not a request's, writes: at 256 KiB the S3 workers wrote ~30 batches a
/// second themselves during small DELETEs (1.4 % of their samples).
const HIGH_WATER: usize = 1024 * 1024;

struct Output {
    sink: Box<dyn Write + Send>,
    /// The buffer written last time, swapped with the pending one (no allocation per batch).
    spare: Vec<u8>,
}

struct Shared {
    pending: Mutex<Vec<u8>>,
    output: Mutex<Output>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a log lock leaves only bytes behind: keep logging.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Writes what has gathered. The output lock is taken first, so batches keep their order.
    fn flush(&self) -> std::io::Result<()> {
        let mut output = lock(&self.output);
        let output = &mut *output;
        std::mem::swap(&mut *lock(&self.pending), &mut output.spare);
        if output.spare.is_empty() {
            return Ok(());
        }
        let result = output
            .sink
            .write_all(&output.spare)
            .and_then(|()| output.sink.flush());
        output.spare.clear();
        result
    }
}

/// The `MakeWriter` given to the `tracing` subscriber.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Stops the writer thread and writes what is left when dropped.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl BatchedWriter {
    /// Starts the writer thread over `sink`.
    pub fn new(sink: Box<dyn Write + Send>) -> std::io::Result<(Self, FlushGuard)> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Vec::with_capacity(64 * 1024)),
            output: Mutex::new(Output {
                sink,
                spare: Vec::with_capacity(64 * 1024),
            }),
            stop: AtomicBool::new(false),
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("coffer-log".into())
            .spawn(move || {
                while !for_thread.stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(FLUSH_INTERVAL);
                    // Nowhere to report a failed log write but the log itself.
                    let _ = for_thread.flush();
                }
            })?;
        Ok((
            Self {
                shared: Arc::clone(&shared),
            },
            FlushGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
        let _ = self.shared.flush();
    }
}

/// One event's writer: appends to the shared buffer.
pub struct LineSink<'a> {
    shared: &'a Shared,
}

impl Write for LineSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut pending = lock(&self.shared.pending);
            pending.extend_from_slice(buf);
            pending.len() >= HIGH_WATER
        };
        if full {
            self.shared.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedWriter {
    type Writer = LineSink<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineSink {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Collected(Arc<Mutex<Vec<u8>>>);

    impl Write for Collected {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Lines from several threads, past the high-water mark, all arrive whole and in each
    /// thread's order once the guard is dropped.
    #[test]
    fn every_line_arrives_whole_and_in_order() {
        use tracing_subscriber::fmt::MakeWriter as _;
        let collected = Collected::default();
        let (writer, guard) = BatchedWriter::new(Box::new(collected.clone())).expect("start");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let line = format!("thread {t} line {i:05} {}\n", "x".repeat(i % 50));
                        writer
                            .make_writer()
                            .write_all(line.as_bytes())
                            .expect("write");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        drop(guard);
        let text = String::from_utf8(lock(&collected.0).clone()).expect("utf-8");
        let mut next = [0usize; 4];
        for line in text.lines() {
            let mut parts = line.split(' ');
            assert_eq!(parts.next(), Some("thread"), "{line}");
            let t: usize = parts.next().and_then(|s| s.parse().ok()).expect(line);
            assert_eq!(parts.next(), Some("line"));
            let i: usize = parts.next().and_then(|s| s.parse().ok()).expect(line);
            assert_eq!(i, next[t], "thread {t} out of order");
            assert_eq!(parts.next().map(str::len), Some(i % 50), "{line}");
            next[t] += 1;
        }
        assert_eq!(next, [20_000; 4]);
    }
}
