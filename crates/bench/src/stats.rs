//! Figures of a phase: counts, rates, latency percentiles and the server's CPU spent on it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::OpError;
use crate::phase::OpOutcome;
use crate::process::Process;

/// Name of the total of a phase with several request kinds (its kinds are reported too).
pub const TOTAL_PHASE: &str = "all";

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// What one phase measured. Serialized as part of the run's JSON line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PhaseReport {
    /// Scenario the phase belongs to (`small`, `listing`, …).
    pub scenario: String,
    /// What the phase did (`PUT 4KiB`, `list full`, …).
    pub phase: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests completed (successful or not).
    pub ops: u64,
    /// Requests that failed: non-2xx, transport, timeout or wrong bytes.
    pub errors: u64,
    /// Of the errors, those whose bytes (or listed keys) were wrong.
    pub wrong_bytes: u64,
    /// Wall time of the phase.
    pub seconds: f64,
    /// `ops / seconds`.
    pub ops_per_sec: f64,
    /// Object bytes sent or received.
    pub bytes: u64,
    /// Of those, bytes compared with the pattern and found right.
    pub bytes_verified: u64,
    /// `bytes / seconds` in MiB/s.
    pub mib_per_sec: f64,
    /// Median request latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// 99.9th percentile latency, ms.
    pub p999_ms: f64,
    /// Slowest request, ms.
    pub max_ms: f64,
    /// Keys plus common prefixes returned over all the phase's requests (listing phases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    /// Server CPU seconds (user + system) during the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu_secs: Option<f64>,
    /// Server CPU milliseconds per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu_ms_per_op: Option<f64>,
    /// Server CPU seconds per GiB of object bytes moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu_secs_per_gib: Option<f64>,
    /// The bench's own CPU seconds during the phase (it shares the machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cpu_secs: Option<f64>,
    /// The first failure of the phase, as the server or the check reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// Per-request results collected by one worker, merged at the end of a phase.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    latencies_us: Vec<u64>,
    bytes: u64,
    verified: u64,
    errors: u64,
    wrong_bytes: u64,
    items: Option<u64>,
    first_error: Option<String>,
}

impl Samples {
    /// Records one request's latency and result.
    pub fn record(&mut self, elapsed: Duration, result: &Result<OpOutcome, OpError>) {
        self.latencies_us
            .push(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
        match result {
            Ok(outcome) => {
                self.bytes += outcome.bytes;
                self.verified += outcome.verified;
            }
            Err(error) => self.record_error(error),
        }
    }

    /// Counts a failure that is not tied to one timed request (e.g. a listing check).
    pub fn record_error(&mut self, error: &OpError) {
        self.errors += 1;
        if error.is_wrong_bytes() {
            self.wrong_bytes += 1;
        }
        if self.first_error.is_none() {
            self.first_error = Some(error.to_string());
        }
    }

    /// Adds listed items (keys and prefixes).
    pub fn add_items(&mut self, count: u64) {
        *self.items.get_or_insert(0) += count;
    }

    /// Folds another worker's samples into these.
    pub fn merge(&mut self, other: Samples) {
        self.latencies_us.extend(other.latencies_us);
        self.bytes += other.bytes;
        self.verified += other.verified;
        self.errors += other.errors;
        self.wrong_bytes += other.wrong_bytes;
        if let Some(items) = other.items {
            self.add_items(items);
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Requests recorded.
    pub fn ops(&self) -> u64 {
        self.latencies_us.len() as u64
    }
}

/// Wall clock and CPU counters at the start of a phase.
#[derive(Debug)]
pub struct Meter {
    server: Option<Process>,
    started: Instant,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
}

impl Meter {
    /// Starts measuring; `server` is sampled when given.
    pub fn start(server: Option<Process>) -> Self {
        Self {
            server,
            server_cpu: server.and_then(Process::cpu_seconds),
            client_cpu: Process::Myself.cpu_seconds(),
            started: Instant::now(),
        }
    }

    /// One report per kind and, when there are several, a total named [`TOTAL_PHASE`] (only the total
    /// carries CPU figures: the kinds share the phase's time).
    pub fn finish_kinds(
        self,
        scenario: &str,
        kinds: &[String],
        concurrency: usize,
        per_kind: Vec<Samples>,
    ) -> Vec<PhaseReport> {
        if per_kind.len() <= 1 {
            let kind = kinds.first().map_or("", String::as_str);
            let samples = per_kind.into_iter().next().unwrap_or_default();
            return vec![self.finish(scenario, kind, concurrency, samples)];
        }
        let mut total = Samples::default();
        let mut reports = Vec::with_capacity(per_kind.len() + 1);
        for (kind, samples) in kinds.iter().zip(per_kind) {
            total.merge(samples.clone());
            let share = Meter {
                server: None,
                started: self.started,
                server_cpu: None,
                client_cpu: None,
            };
            reports.push(share.finish(scenario, kind, concurrency, samples));
        }
        reports.push(self.finish(scenario, TOTAL_PHASE, concurrency, total));
        reports
    }

    /// Builds the phase's figures from its samples and the counters now.
    pub fn finish(
        self,
        scenario: &str,
        phase: &str,
        concurrency: usize,
        mut samples: Samples,
    ) -> PhaseReport {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-9);
        let server_cpu_secs = match (self.server_cpu, self.server.and_then(Process::cpu_seconds)) {
            (Some(before), Some(after)) => Some(after - before),
            _ => None,
        };
        let client_cpu_secs = match (self.client_cpu, Process::Myself.cpu_seconds()) {
            (Some(before), Some(after)) => Some(after - before),
            _ => None,
        };
        samples.latencies_us.sort_unstable();
        let ops = samples.ops();
        let latency = |q: f64| percentile(&samples.latencies_us, q) as f64 / 1000.0;
        PhaseReport {
            scenario: scenario.to_owned(),
            phase: phase.to_owned(),
            concurrency,
            ops,
            errors: samples.errors,
            wrong_bytes: samples.wrong_bytes,
            seconds,
            ops_per_sec: ops as f64 / seconds,
            bytes: samples.bytes,
            bytes_verified: samples.verified,
            mib_per_sec: samples.bytes as f64 / MIB / seconds,
            p50_ms: latency(0.50),
            p99_ms: latency(0.99),
            p999_ms: latency(0.999),
            max_ms: samples.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0,
            items: samples.items,
            server_cpu_secs,
            server_cpu_ms_per_op: server_cpu_secs
                .filter(|_| ops > 0)
                .map(|cpu| cpu * 1000.0 / ops as f64),
            server_cpu_secs_per_gib: server_cpu_secs
                .filter(|_| samples.bytes > 0)
                .map(|cpu| cpu / (samples.bytes as f64 / GIB)),
            client_cpu_secs,
            first_error: samples.first_error,
        }
    }
}

/// Nearest-rank percentile of sorted values (0 when empty).
pub fn percentile(sorted: &[u64], quantile: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&values, 0.5), 500);
        assert_eq!(percentile(&values, 0.99), 990);
        assert_eq!(percentile(&values, 0.999), 999);
        assert_eq!(percentile(&[7], 0.999), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn errors_and_bytes_are_counted() {
        let mut samples = Samples::default();
        samples.record(Duration::from_millis(2), &Ok(OpOutcome::transferred(10)));
        let mut other = Samples::default();
        other.record(
            Duration::from_millis(4),
            &Err(OpError::WrongBytes("chunk 0".into())),
        );
        other.record(
            Duration::from_millis(3),
            &Err(OpError::Status {
                status: 500,
                body: "x".into(),
            }),
        );
        samples.merge(other);
        let report = Meter::start(None).finish("s", "p", 1, samples);
        assert_eq!((report.ops, report.errors, report.wrong_bytes), (3, 2, 1));
        assert_eq!(report.bytes, 10);
        assert_eq!(report.first_error.as_deref(), Some("wrong bytes: chunk 0"));
        assert!((report.p50_ms - 3.0).abs() < 1e-9);
        assert!((report.max_ms - 4.0).abs() < 1e-9);
    }
}
