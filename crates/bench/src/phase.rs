//! The load loop: N workers issue requests until the phase's op count or duration runs out.
//! Every request is bounded by a timeout, so a phase always ends.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::OpError;
use crate::process::Process;
use crate::stats::{Meter, PhaseReport, Samples};

/// What a successful request moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpOutcome {
    /// Object bytes sent or received.
    pub bytes: u64,
    /// Of those, bytes compared with the pattern.
    pub verified: u64,
}

impl OpOutcome {
    /// Bytes sent (uploads are not read back here).
    pub fn transferred(bytes: u64) -> Self {
        Self { bytes, verified: 0 }
    }
}

/// Which worker issues a request, and the request's number in the phase (0, 1, 2, … with no
/// gaps: every number handed out is executed).
#[derive(Debug, Clone, Copy)]
pub struct OpContext {
    /// Worker index, `0..concurrency`.
    pub worker: usize,
    /// Request number within the phase.
    pub index: u64,
}

/// How a phase runs and when it stops.
#[derive(Debug, Clone)]
pub struct PhaseSpec {
    /// Scenario name for the report.
    pub scenario: String,
    /// Request kinds; one report per kind (plus a total when several).
    pub kinds: Vec<String>,
    /// Workers, each with one request in flight.
    pub concurrency: usize,
    /// Stop after this many requests.
    pub max_ops: u64,
    /// Start no request after this long.
    pub duration: Duration,
    /// Give up on one request after this long.
    pub op_timeout: Duration,
    /// The server process to sample, if known.
    pub server: Option<Process>,
}

#[cfg(test)]
impl PhaseSpec {
    /// A phase of one request kind.
    pub fn single(scenario: &str, kind: &str, concurrency: usize) -> Self {
        Self {
            scenario: scenario.to_owned(),
            kinds: vec![kind.to_owned()],
            concurrency,
            max_ops: 1,
            duration: Duration::from_secs(1),
            op_timeout: Duration::from_mins(1),
            server: None,
        }
    }
}

/// The figures of a phase and how many requests it issued.
#[derive(Debug)]
pub struct PhaseOutcome {
    /// One report per kind, then the total when there are several kinds.
    pub reports: Vec<PhaseReport>,
    /// Requests issued: numbers `0..ops` were all executed.
    pub ops: u64,
}

/// Runs a phase. `op` picks the request kind (an index into `spec.kinds`) and returns the
/// request's future.
pub async fn run<F, Fut>(spec: &PhaseSpec, op: F) -> PhaseOutcome
where
    F: Fn(OpContext) -> (usize, Fut) + Send + Sync + 'static,
    Fut: Future<Output = Result<OpOutcome, OpError>> + Send + 'static,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicU64::new(0));
    let kinds = spec.kinds.len().max(1);
    let meter = Meter::start(spec.server);
    let deadline = Instant::now() + spec.duration;
    let mut workers = Vec::with_capacity(spec.concurrency);
    for worker in 0..spec.concurrency.max(1) {
        let op = Arc::clone(&op);
        let counter = Arc::clone(&counter);
        let (max_ops, op_timeout) = (spec.max_ops, spec.op_timeout);
        workers.push(tokio::spawn(async move {
            let mut samples: Vec<Samples> = (0..kinds).map(|_| Samples::default()).collect();
            while Instant::now() < deadline {
                let index = counter.fetch_add(1, Ordering::Relaxed);
                if index >= max_ops {
                    break;
                }
                let (kind, request) = op(OpContext { worker, index });
                let started = Instant::now();
                let result = tokio::time::timeout(op_timeout, request)
                    .await
                    .unwrap_or(Err(OpError::Timeout(op_timeout)));
                samples[kind.min(kinds - 1)].record(started.elapsed(), &result);
            }
            samples
        }));
    }
    let mut per_kind: Vec<Samples> = (0..kinds).map(|_| Samples::default()).collect();
    for worker in workers {
        match worker.await {
            Ok(samples) => {
                for (total, part) in per_kind.iter_mut().zip(samples) {
                    total.merge(part);
                }
            }
            Err(e) => per_kind[0].record_error(&OpError::Transport(format!("worker died: {e}"))),
        }
    }
    let ops = counter.load(Ordering::Relaxed).min(spec.max_ops);
    PhaseOutcome {
        reports: meter.finish_kinds(&spec.scenario, &spec.kinds, spec.concurrency, per_kind),
        ops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stops_at_the_op_count_and_numbers_every_request() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let mut spec = PhaseSpec::single("t", "op", 4);
        spec.max_ops = 50;
        spec.duration = Duration::from_secs(30);
        let outcome = run(&spec, move |context| {
            let record = Arc::clone(&record);
            (0, async move {
                record.lock().expect("lock").push(context.index);
                Ok(OpOutcome::transferred(1))
            })
        })
        .await;
        assert_eq!(outcome.ops, 50);
        assert_eq!(outcome.reports[0].ops, 50);
        let mut indices = seen.lock().expect("lock").clone();
        indices.sort_unstable();
        assert_eq!(indices, (0..50).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn stops_at_the_deadline_and_times_out_slow_requests() {
        let mut spec = PhaseSpec::single("t", "op", 2);
        spec.max_ops = 1_000_000;
        spec.duration = Duration::from_millis(50);
        spec.op_timeout = Duration::from_millis(20);
        let outcome = run(&spec, |_| {
            (0, async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(OpOutcome::default())
            })
        })
        .await;
        let report = &outcome.reports[0];
        assert!(report.ops >= 2 && report.ops <= 10, "{}", report.ops);
        assert_eq!(report.errors, report.ops);
    }
}
