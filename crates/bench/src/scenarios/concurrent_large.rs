//! `concurrent-large`: `--clients` objects of `--large-size` streamed up at once (issue #5's
//! memory target: 64 clients each uploading a large object), then a sample of them read back
//! with every byte checked, then all of them deleted so the run leaves no data behind.
//!
//! The server's resident memory and thread count are sampled every 100 ms during the uploads
//! (printed on stderr); the scenario's peak RSS (VmHWM) is in the run's report. Run it at two
//! object sizes: if uploads stream, the peak does not depend on the size.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::pattern::Pattern;
use crate::process::Process;
use crate::stats::PhaseReport;

use super::{Context, Scenario, size_label};

const SCENARIO: Scenario = Scenario::ConcurrentLarge;
/// Objects read back and checked after the uploads.
const SAMPLES: u64 = 4;
/// Concurrency of the deletes.
const DELETE_CONCURRENCY: usize = 16;
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
const OBJECT_SALT: u64 = 0xc0_1a26e;

fn key(index: u64) -> String {
    format!("concurrent-large{index:04}")
}

/// The objects read back: spread over `0..count`, at most [`SAMPLES`].
fn sample_index(sample: u64, count: u64) -> u64 {
    let samples = SAMPLES.min(count).max(1);
    if samples == 1 {
        0
    } else {
        sample * (count - 1) / (samples - 1)
    }
}

/// Peaks of the server's VmRSS and thread count, sampled until stopped.
#[derive(Debug, Default, Clone, Copy)]
struct Peaks {
    rss_kib: u64,
    threads: u64,
    samples: u64,
}

fn start_sampler(server: Option<Process>) -> (Arc<AtomicBool>, tokio::task::JoinHandle<Peaks>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let handle = tokio::spawn(async move {
        let mut peaks = Peaks::default();
        let Some(server) = server else {
            return peaks;
        };
        while !flag.load(Ordering::Relaxed) {
            if let Some(rss) = server.rss_kib() {
                peaks.rss_kib = peaks.rss_kib.max(rss);
                peaks.samples += 1;
            }
            if let Some(threads) = server.threads() {
                peaks.threads = peaks.threads.max(threads);
            }
            tokio::time::sleep(SAMPLE_EVERY).await;
        }
        peaks
    });
    (stop, handle)
}

/// Runs the scenario.
pub async fn run(context: &Context) -> Vec<PhaseReport> {
    let target = match context.create_bucket(SCENARIO).await {
        Ok(target) => target,
        Err(report) => return vec![*report],
    };
    let size = context.options.large_size;
    let clients = context.options.clients.max(1);
    let count = clients as u64;
    let label = size_label(size);
    let bound = context.options.op_timeout;
    if let Some(server) = context.server {
        eprintln!(
            "  server before the uploads: VmRSS {} KiB, {} threads",
            server.rss_kib().unwrap_or(0),
            server.threads().unwrap_or(0)
        );
    }
    let (stop, sampler) = start_sampler(context.server);
    let put = crate::phase::run(
        &context.fixed_spec(
            SCENARIO,
            &format!("PUT {label} x{clients}"),
            clients,
            count,
            bound,
        ),
        target.op(move |t, c| async move {
            t.client
                .put_object(
                    &t.bucket,
                    &key(c.index),
                    Pattern::new(OBJECT_SALT + c.index),
                    size,
                )
                .await
        }),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let peaks = sampler.await.unwrap_or_default();
    if context.server.is_some() {
        eprintln!(
            "  server during the uploads: peak VmRSS {} KiB ({:.1} MiB), peak {} threads \
             ({} samples every {} ms)",
            peaks.rss_kib,
            peaks.rss_kib as f64 / 1024.0,
            peaks.threads,
            peaks.samples,
            SAMPLE_EVERY.as_millis()
        );
    }
    let written = put.ops;
    let mut reports = put.reports;
    if written > 0 {
        let samples = SAMPLES.min(written);
        let get = crate::phase::run(
            &context.fixed_spec(
                SCENARIO,
                &format!("GET {label} (sample)"),
                1,
                samples,
                bound,
            ),
            target.op(move |t, c| async move {
                let index = sample_index(c.index, written);
                t.client
                    .get_object(
                        &t.bucket,
                        &key(index),
                        Pattern::new(OBJECT_SALT + index),
                        size,
                    )
                    .await
            }),
        )
        .await;
        reports.extend(get.reports);
        let delete = crate::phase::run(
            &context.fixed_spec(
                SCENARIO,
                "DELETE",
                DELETE_CONCURRENCY.min(clients),
                written,
                bound,
            ),
            target.op(|t, c| async move { t.client.delete_object(&t.bucket, &key(c.index)).await }),
        )
        .await;
        reports.extend(delete.reports);
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_spread_over_the_objects() {
        let picked: Vec<u64> = (0..SAMPLES).map(|s| sample_index(s, 64)).collect();
        assert_eq!(picked, vec![0, 21, 42, 63]);
        assert_eq!(sample_index(0, 1), 0);
        let two: Vec<u64> = (0..2).map(|s| sample_index(s, 2)).collect();
        assert_eq!(two, vec![0, 1]);
    }
}
