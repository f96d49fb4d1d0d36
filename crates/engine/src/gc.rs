//! Freeing bytes: blobs whose metadata is gone, and orphans of interrupted writes.

use std::time::Duration;

use crate::{Engine, EngineError};

/// Blobs deleted per garbage batch.
const BATCH: usize = 500;

impl Engine {
    /// Wakes the garbage worker (after a commit that queued blobs).
    pub(crate) fn wake_gc(&self) {
        self.gc_wake.notify_one();
    }

    /// Deletes every queued garbage blob; returns how many were freed.
    pub async fn collect_garbage(&self) -> Result<usize, EngineError> {
        let mut freed = 0;
        loop {
            let ids = self.meta.garbage_blobs(BATCH).await?;
            if ids.is_empty() {
                return Ok(freed);
            }
            for id in &ids {
                self.blobs.delete(id).await?;
            }
            freed += ids.len();
            self.meta.forget_garbage(ids).await?;
        }
    }

    /// Deletes blobs older than `min_age` that no metadata refers to: what a crash between
    /// writing a blob and committing its metadata leaves behind.
    pub async fn collect_orphans(&self, min_age: Duration) -> Result<usize, EngineError> {
        let candidates = self.blobs.list_older_than(min_age).await?;
        let mut freed = 0;
        for chunk in candidates.chunks(BATCH) {
            let orphans = self.meta.unreferenced_blobs(chunk.to_vec()).await?;
            for id in &orphans {
                self.blobs.delete(id).await?;
            }
            freed += orphans.len();
        }
        Ok(freed)
    }

    /// Removes temporary files of writes a previous process did not finish.
    pub fn clear_tmp(&self) -> Result<usize, EngineError> {
        Ok(self.blobs.clear_tmp()?)
    }

    /// Runs the garbage worker until the process ends: frees queued blobs when woken (and at
    /// least every `interval`), and sweeps orphans older than `orphan_age` every
    /// `orphan_interval`.
    pub async fn run_gc(self, interval: Duration, orphan_interval: Duration, orphan_age: Duration) {
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            tokio::select! {
                () = self.gc_wake.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
            if let Err(e) = self.collect_garbage().await {
                tracing::warn!(error = %e, "garbage collection failed; will retry");
            }
            if last_sweep.elapsed() >= orphan_interval {
                last_sweep = tokio::time::Instant::now();
                match self.collect_orphans(orphan_age).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(freed = n, "removed orphaned blobs"),
                    Err(e) => tracing::warn!(error = %e, "orphan sweep failed; will retry"),
                }
            }
        }
    }
}
