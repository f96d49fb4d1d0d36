//! The hashing threads: one per core, taking batches to hash in the order they were sent.
//!
//! Hashing is most of a PUT's CPU (MD5 runs on one core at ~950 MiB/s here). Each upload hashes
//! its batches one after the other on another thread while its task receives the next batch. On
//! the blocking pool, every upload had a thread of its own hashing at once: with four uploads
//! on two cores, four hashing threads and the request workers all wanted the cores, the
//! scheduler time-sliced them, and every short wait of the write path (an `O_DIRECT` write, an
//! fsync, a metadata commit) woke behind them: fsync 0.5 -> 1.3 ms, the part's metadata commit
//! 0.5 -> 1.3-1.9 ms. As many threads as cores, fed in arrival order, keep the cores as busy
//! and leave the waits short: four 16 MiB-part uploads went from 763-866 (815 on average) to
//! 847-934 MiB/s (884), a single 1 GiB upload from 610-619 to 664-683; 1 MiB objects at
//! concurrency 8 are unchanged (docs/PERFORMANCE.md, sixth round).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};

type Job = Box<dyn FnOnce() + Send>;

struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

impl Queue {
    fn next(&self) -> Job {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(job) = jobs.pop_front() {
                return job;
            }
            jobs = self
                .ready
                .wait(jobs)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The queue, once its threads run; `None` when not one thread could be started.
fn queue() -> Option<&'static Queue> {
    static QUEUE: OnceLock<Option<&'static Queue>> = OnceLock::new();
    *QUEUE.get_or_init(|| {
        let queue: &'static Queue = Box::leak(Box::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }));
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let mut started = 0;
        for i in 0..threads {
            let spawned = std::thread::Builder::new()
                .name(format!("coffer-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = queue.next();
                        // A panicking job drops its sender (its waiter sees the failure); the
                        // thread goes on with the next one.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::warn!(error = %e, "could not start a hashing thread"),
            }
        }
        (started > 0).then_some(queue)
    })
}

/// The result of a job sent to the hashing threads.
pub(crate) enum Hashing<T> {
    Queued(tokio::sync::oneshot::Receiver<T>),
    /// No hashing thread could be started: the job runs on the blocking pool.
    Blocking(tokio::task::JoinHandle<T>),
}

impl<T> Hashing<T> {
    /// Waits for the job's result; an error if the job panicked.
    pub(crate) async fn join(&mut self) -> std::io::Result<T> {
        match self {
            Self::Queued(rx) => rx
                .await
                .map_err(|_| std::io::Error::other("a hashing job failed")),
            Self::Blocking(task) => task.await.map_err(std::io::Error::other),
        }
    }
}

/// Runs `job` on the hashing threads. Jobs start in the order they were sent but may end in
/// any order (one per thread at a time): a caller that needs its jobs in order waits for one
/// before sending the next, as `BlobWriter` does.
pub(crate) fn spawn<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Hashing<T> {
    let Some(queue) = queue() else {
        return Hashing::Blocking(tokio::task::spawn_blocking(job));
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    queue
        .jobs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push_back(Box::new(move || {
            // Nobody waits any more (the upload failed or went away): skip the work.
            if !tx.is_closed() {
                let _ = tx.send(job());
            }
        }));
    queue.ready.notify_one();
    Hashing::Queued(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_return_their_results_and_a_panic_fails_only_its_own() {
        let mut failing = spawn(|| -> u32 { panic!("a job that fails") });
        let mut jobs: Vec<_> = (0..64u32).map(|i| spawn(move || i * i)).collect();
        assert!(failing.join().await.is_err());
        for (i, job) in jobs.iter_mut().enumerate() {
            assert_eq!(job.join().await.unwrap(), (i * i) as u32);
        }
        // The threads survived the panic.
        assert_eq!(spawn(|| 7).join().await.unwrap(), 7);
    }
}
