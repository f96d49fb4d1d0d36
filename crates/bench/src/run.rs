//! `coffer-bench run`: the scenarios in order against one endpoint, with the server's CPU and
//! memory sampled around each, gathered into one report.

use serde::{Deserialize, Serialize};

use crate::client::S3Client;
use crate::error::BenchError;
use crate::process::Process;
use crate::report::Ratio;
use crate::scenarios::{self, Context, RunOptions, Scenario};
use crate::stats::{PhaseReport, TOTAL_PHASE};

/// Everything one run measured. Serialized as its JSON line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunReport {
    /// Always `run`.
    pub kind: String,
    /// Name of the server measured (`coffer`, a peer's name).
    pub label: String,
    /// The S3 endpoint.
    pub endpoint: String,
    /// Scenarios run, in order.
    pub scenarios: Vec<String>,
    /// Time bound of each load phase, seconds.
    pub duration_secs: f64,
    /// Op bound of each load phase.
    pub max_ops: u64,
    /// Object size of `large` (total of `multipart`), bytes.
    pub large_size: u64,
    /// Part size of `multipart`, bytes.
    pub part_size: u64,
    /// Objects of the `small` data set (`--small-keys`, at most `--max-ops`).
    pub small_keys: u64,
    /// Keys of the `listing` bucket.
    pub listing_keys: u64,
    /// Figures of every phase.
    pub phases: Vec<PhaseReport>,
    /// Failed requests over all phases (non-2xx, transport, timeouts, wrong bytes).
    pub errors: u64,
    /// Of those, wrong bytes or wrong listings.
    pub wrong_bytes: u64,
    /// The first failure of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// The server's pid, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_pid: Option<u32>,
    /// The server's peak resident memory over the run (VmHWM), KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_peak_rss_kib: Option<u64>,
    /// The server's peak resident memory during each scenario, KiB (the peak is reset before
    /// each scenario when the kernel allows; otherwise these are running peaks).
    #[serde(default)]
    pub scenario_peak_rss_kib: Vec<(String, u64)>,
    /// The bench's own peak resident memory, KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_peak_rss_kib: Option<u64>,
    /// Figures as fractions of this machine's ceilings, when a ceilings file was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ratios: Vec<Ratio>,
}

/// How to reach the server and what to run.
#[derive(Debug, Clone)]
pub struct RunSetup {
    /// Name of the server measured.
    pub label: String,
    /// `http://host:port`.
    pub endpoint: String,
    /// Access key id.
    pub access_key: String,
    /// Secret key.
    pub secret_key: String,
    /// SigV4 region.
    pub region: String,
    /// The server's pid, to sample its CPU and memory.
    pub server_pid: Option<u32>,
    /// Scenarios to run, in order.
    pub scenarios: Vec<Scenario>,
    /// Sizes and bounds.
    pub options: RunOptions,
}

/// Runs the scenarios and gathers their figures. Progress goes to stderr.
pub async fn run(setup: RunSetup) -> Result<RunReport, BenchError> {
    let client = S3Client::new(
        &setup.endpoint,
        &setup.access_key,
        &setup.secret_key,
        &setup.region,
    )?;
    let server = setup.server_pid.map(Process::Pid);
    let run_id = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let context = Context {
        client,
        server,
        options: setup.options.clone(),
        run_id,
    };
    let mut report = RunReport {
        kind: "run".to_owned(),
        label: setup.label.clone(),
        endpoint: setup.endpoint.clone(),
        scenarios: setup
            .scenarios
            .iter()
            .map(|s| s.name().to_owned())
            .collect(),
        duration_secs: setup.options.duration.as_secs_f64(),
        max_ops: setup.options.max_ops,
        large_size: setup.options.large_size,
        part_size: setup.options.part_size,
        small_keys: setup.options.small_data_set(),
        listing_keys: setup.options.listing_keys,
        server_pid: setup.server_pid,
        ..RunReport::default()
    };
    for scenario in &setup.scenarios {
        eprintln!("coffer-bench: {} on {} …", scenario.name(), setup.label);
        if let Some(process) = server {
            process.reset_peak_rss();
        }
        let phases = scenarios::run(*scenario, &context).await;
        for phase in &phases {
            eprintln!(
                "  {:<34} {:>9} ops {:>5} errors {:>10.1} ops/s {:>9.1} MiB/s",
                phase.phase, phase.ops, phase.errors, phase.ops_per_sec, phase.mib_per_sec
            );
        }
        if let Some(peak) = server.and_then(Process::peak_rss_kib) {
            report
                .scenario_peak_rss_kib
                .push((scenario.name().to_owned(), peak));
        }
        report.phases.extend(phases);
    }
    // A total repeats its kinds' counts.
    for phase in report.phases.iter().filter(|p| p.phase != TOTAL_PHASE) {
        report.errors += phase.errors;
        report.wrong_bytes += phase.wrong_bytes;
        if report.first_error.is_none() {
            report.first_error = phase
                .first_error
                .as_ref()
                .map(|e| format!("{} / {}: {e}", phase.scenario, phase.phase));
        }
    }
    report.server_peak_rss_kib = report
        .scenario_peak_rss_kib
        .iter()
        .map(|(_, kib)| *kib)
        .max()
        .or_else(|| server.and_then(Process::peak_rss_kib));
    report.client_peak_rss_kib = Process::Myself.peak_rss_kib();
    Ok(report)
}
