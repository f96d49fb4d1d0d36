//! Freeing bytes: blobs whose metadata is gone, and orphans of interrupted writes.

use std::time::Duration;

use crate::{Engine, EngineError};

/// Blobs deleted per garbage batch.
const BATCH: usize = 500;

impl Engine {
    /// Deletes the garbage blobs queued at least `grace` ago; returns how many were freed.
    ///
    /// The grace period lets reads that started before a delete or overwrite finish with the
    /// bytes they began with. A blob that cannot be deleted is logged and skipped, so one bad
    /// file never stops collection.
    pub async fn collect_garbage(&self, grace: Duration) -> Result<usize, EngineError> {
        let queued_before =
            coffer_core::time::now_millis() - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let mut freed = 0;
        let mut skipped = std::collections::HashSet::new();
        loop {
            let ids = self
                .meta
                .garbage_blobs(BATCH + skipped.len(), queued_before)
                .await?;
            let ids: Vec<String> = ids.into_iter().filter(|id| !skipped.contains(id)).collect();
            if ids.is_empty() {
                return Ok(freed);
            }
            let mut deleted = Vec::with_capacity(ids.len());
            for id in ids {
                match self.blobs.delete(&id).await {
                    Ok(()) => deleted.push(id),
                    Err(e) => {
                        tracing::warn!(blob = %id, error = %e, "cannot free a garbage blob");
                        skipped.insert(id);
                    }
                }
            }
            freed += deleted.len();
            if !deleted.is_empty() {
                self.meta.forget_garbage(deleted).await?;
            }
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
                match self.blobs.delete(id).await {
                    Ok(()) => freed += 1,
                    Err(e) => tracing::warn!(blob = %id, error = %e, "cannot remove an orphan"),
                }
            }
        }
        Ok(freed)
    }

    /// Removes temporary files of writes a previous process did not finish.
    pub fn clear_tmp(&self) -> Result<usize, EngineError> {
        Ok(self.blobs.clear_tmp()?)
    }

    /// Runs the garbage worker until the process ends: every `interval` frees blobs queued
    /// more than `grace` ago, and every `orphan_interval` sweeps orphans older than
    /// `orphan_age`.
    pub async fn run_gc(
        self,
        interval: Duration,
        grace: Duration,
        orphan_interval: Duration,
        orphan_age: Duration,
    ) {
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(interval).await;
            if let Err(e) = self.collect_garbage(grace).await {
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
