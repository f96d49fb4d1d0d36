//! The workloads of issue #5, one module each. A scenario creates its own bucket, runs its
//! phases and returns their figures; a failure is counted in a phase, never a panic.

mod concurrent_large;
mod large;
mod listing;
mod medium;
mod mixed;
mod multipart;
mod small;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use crate::client::S3Client;
use crate::error::OpError;
use crate::phase::{OpContext, OpOutcome, PhaseSpec};
use crate::process::Process;
use crate::stats::{Meter, PhaseReport, Samples};

/// A workload of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 4 KiB PUT, then GET, HEAD, DELETE of those keys, concurrency 32.
    Small,
    /// 1 MiB PUT and GET at concurrency 8.
    Medium,
    /// One large object PUT and GET, bytes verified.
    Large,
    /// A large object in 16 MiB parts at concurrency 4, then GET verified.
    Multipart,
    /// A bucket of N keys in a 3-level prefix tree; full, top-delimiter and deep-page listings.
    Listing,
    /// 70 % GET / 25 % PUT / 5 % DELETE of 64 KiB objects at concurrency 16.
    Mixed,
    /// `--clients` large objects uploaded at once (memory must not grow with object size), a
    /// sample read back and checked, then all deleted. Not in the default list.
    ConcurrentLarge,
}

impl Scenario {
    /// The scenario's name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
            Self::Multipart => "multipart",
            Self::Listing => "listing",
            Self::Mixed => "mixed",
            Self::ConcurrentLarge => "concurrent-large",
        }
    }
}

/// Sizes and bounds shared by the scenarios.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Time bound of each load phase.
    pub duration: Duration,
    /// Op-count bound of each load phase.
    pub max_ops: u64,
    /// Object size of `large` and total size of `multipart`.
    pub large_size: u64,
    /// Part size of `multipart`.
    pub part_size: u64,
    /// Objects of the `small` data set.
    pub small_keys: u64,
    /// Keys of the `listing` bucket.
    pub listing_keys: u64,
    /// Keys pre-filled for `mixed`.
    pub mixed_keys: u64,
    /// Concurrent uploads of `concurrent-large`.
    pub clients: usize,
    /// Bound of one request.
    pub op_timeout: Duration,
    /// Time bound of the fill phases (listing and mixed pre-fill).
    pub fill_timeout: Duration,
}

impl RunOptions {
    /// Objects of the `small` data set: `--small-keys`, at most `--max-ops`.
    pub fn small_data_set(&self) -> u64 {
        self.small_keys.min(self.max_ops)
    }
}

/// What every scenario needs: the client, the server to sample, the options.
#[derive(Debug, Clone)]
pub struct Context {
    /// The S3 client.
    pub client: S3Client,
    /// The server process, when its pid was given.
    pub server: Option<Process>,
    /// Sizes and bounds.
    pub options: RunOptions,
    /// Makes this run's bucket names unique.
    pub run_id: String,
}

/// Runs one scenario and returns the figures of its phases.
pub async fn run(scenario: Scenario, context: &Context) -> Vec<PhaseReport> {
    match scenario {
        Scenario::Small => small::run(context).await,
        Scenario::Medium => medium::run(context).await,
        Scenario::Large => large::run(context).await,
        Scenario::Multipart => multipart::run(context).await,
        Scenario::Listing => listing::run(context).await,
        Scenario::Mixed => mixed::run(context).await,
        Scenario::ConcurrentLarge => concurrent_large::run(context).await,
    }
}

impl Context {
    /// A load phase bounded by the run's duration and op count.
    pub fn spec(&self, scenario: Scenario, kind: &str, concurrency: usize) -> PhaseSpec {
        PhaseSpec {
            scenario: scenario.name().to_owned(),
            kinds: vec![kind.to_owned()],
            concurrency,
            max_ops: self.options.max_ops,
            duration: self.options.duration,
            op_timeout: self.options.op_timeout,
            server: self.server,
        }
    }

    /// A phase of a fixed number of requests (a fill or a transfer), bounded by `time`.
    pub fn fixed_spec(
        &self,
        scenario: Scenario,
        kind: &str,
        concurrency: usize,
        count: u64,
        time: Duration,
    ) -> PhaseSpec {
        PhaseSpec {
            max_ops: count,
            duration: time,
            ..self.spec(scenario, kind, concurrency)
        }
    }

    /// Creates the scenario's bucket; on failure, the report of the failed request.
    pub async fn create_bucket(&self, scenario: Scenario) -> Result<Target, Box<PhaseReport>> {
        let bucket = format!("bench-{}-{}", scenario.name(), self.run_id);
        let (report, created) = self
            .timed(
                scenario,
                "create bucket",
                self.client.create_bucket(&bucket),
            )
            .await;
        match created {
            Some(()) => Ok(Target(Arc::new(TargetInner {
                client: self.client.clone(),
                bucket,
            }))),
            None => Err(Box::new(report)),
        }
    }

    /// Times one request as a phase of its own (create, complete, …).
    pub async fn timed<T>(
        &self,
        scenario: Scenario,
        phase: &str,
        request: impl Future<Output = Result<T, OpError>>,
    ) -> (PhaseReport, Option<T>) {
        let meter = Meter::start(self.server);
        let started = Instant::now();
        let result = tokio::time::timeout(self.options.op_timeout, request)
            .await
            .unwrap_or(Err(OpError::Timeout(self.options.op_timeout)));
        let mut samples = Samples::default();
        let (outcome, value) = match result {
            Ok(value) => (Ok(OpOutcome::default()), Some(value)),
            Err(error) => (Err(error), None),
        };
        samples.record(started.elapsed(), &outcome);
        (meter.finish(scenario.name(), phase, 1, samples), value)
    }
}

/// The client and the bucket a scenario works on, cheap to clone into every request.
#[derive(Debug, Clone)]
pub struct Target(Arc<TargetInner>);

/// What a `Target` shares.
#[derive(Debug)]
pub struct TargetInner {
    /// The S3 client.
    pub client: S3Client,
    /// The scenario's bucket.
    pub bucket: String,
}

impl std::ops::Deref for Target {
    type Target = TargetInner;

    fn deref(&self) -> &TargetInner {
        &self.0
    }
}

impl Target {
    /// Turns `request(target, context)` into a phase operation of kind 0.
    pub fn op<F, Fut>(
        &self,
        request: F,
    ) -> impl Fn(OpContext) -> (usize, Fut) + Send + Sync + 'static
    where
        F: Fn(Target, OpContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<OpOutcome, OpError>> + Send + 'static,
    {
        let target = self.clone();
        move |context| (0, request(target.clone(), context))
    }
}

/// A size as the phase names show it: `4KiB`, `64MiB`, `1GiB`, or bytes.
pub fn size_label(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{name}", bytes / unit);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_labels() {
        assert_eq!(size_label(4096), "4KiB");
        assert_eq!(size_label(1 << 30), "1GiB");
        assert_eq!(size_label(64 << 20), "64MiB");
        assert_eq!(size_label(1000), "1000B");
    }
}
