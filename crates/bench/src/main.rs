//! `coffer-bench`: measures an S3 server (Coffer or a peer) with a real signed HTTP/1.1 client,
//! checks every byte it reads back, and compares the figures with this machine's ceilings.
//!
//! It owns load generation and measurement only; it never reaches into a server's internals
//! (the server's CPU and memory are read from `/proc`). It fails (exit 1) on any error or wrong
//! byte, never on timing.

mod ceilings;
mod client;
mod compare;
mod error;
mod pattern;
mod phase;
mod process;
mod report;
mod run;
mod scenarios;
mod sign;
mod stats;
mod table;
mod xml;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::ceilings::{Budget, CeilingsReport};
use crate::error::BenchError;
use crate::run::{RunReport, RunSetup};
use crate::scenarios::{RunOptions, Scenario};

/// Benchmarks an S3 endpoint and this machine's limits.
#[derive(Debug, Parser)]
#[command(name = "coffer-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios against an S3 endpoint.
    Run(Box<RunArgs>),
    /// Measure this machine's ceilings (disk, fsync, memory copy, hashing).
    Ceilings(CeilingsArgs),
    /// Print a run's figures as ratios of the ceilings.
    Report(ReportArgs),
    /// Print several runs (Coffer and peers) side by side.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// S3 endpoint, e.g. http://127.0.0.1:9000 (path-style requests).
    #[arg(long)]
    endpoint: String,
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key: String,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: String,
    /// SigV4 region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The server's pid: its CPU time and peak memory are read from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Scenarios to run, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "small,medium,large,multipart,listing,mixed"
    )]
    scenarios: Vec<Scenario>,
    /// Time bound of each load phase, seconds.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Op-count bound of each load phase.
    #[arg(long, default_value_t = 1_000_000)]
    max_ops: u64,
    /// Object size of `large` and total size of `multipart` (bytes, or with KiB/MiB/GiB).
    #[arg(long, default_value = "1GiB", value_parser = parse_size)]
    large_size: u64,
    /// Part size of `multipart`.
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    part_size: u64,
    /// Objects of the `small` data set: PUT writes at most this many (a fill phase writes
    /// what the PUT phase's time bound left), then GET, HEAD and DELETE work on them, so every
    /// server deletes the same keys from a bucket of the same size.
    #[arg(long, default_value_t = 100_000)]
    small_keys: u64,
    /// Keys of the `listing` bucket.
    #[arg(long, default_value_t = 100_000)]
    listing_keys: u64,
    /// Keys pre-filled for `mixed`.
    #[arg(long, default_value_t = 1000)]
    mixed_keys: u64,
    /// Concurrent uploads of `concurrent-large` (each of --large-size).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Bound of one request (and of the large transfers), seconds.
    #[arg(long, default_value_t = 600)]
    op_timeout_secs: u64,
    /// Time bound of the fill phases (listing, mixed pre-fill), seconds.
    #[arg(long, default_value_t = 900)]
    fill_timeout_secs: u64,
    /// Name of the server in the report.
    #[arg(long, default_value = "coffer")]
    label: String,
    /// Print only the JSON line (no table).
    #[arg(long)]
    json: bool,
    /// A `ceilings` output file: also print the ratios.
    #[arg(long)]
    ceilings_json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CeilingsArgs {
    /// Directory on the filesystem to measure (the server's data directory's).
    #[arg(long)]
    dir: PathBuf,
    /// Size of the sequential file, MiB.
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// Print only the JSON line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Output (or JSON line) of `coffer-bench run`.
    #[arg(long)]
    run: PathBuf,
    /// Output (or JSON line) of `coffer-bench ceilings`.
    #[arg(long)]
    ceilings: PathBuf,
    /// Print only the JSON line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// Outputs of `coffer-bench run` (runs with the same --label are merged).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
}

/// Parses `4096`, `4KiB`, `64MiB`, `1GiB` (also `K`/`M`/`G`, powers of two).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        other => return Err(format!("unknown size unit {other:?}")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run_command(*args),
        Command::Ceilings(args) => ceilings_command(&args),
        Command::Report(args) => report_command(&args),
        Command::Compare(args) => compare_command(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("coffer-bench: {error}");
            ExitCode::from(2)
        }
    }
}

fn run_command(args: RunArgs) -> Result<ExitCode, BenchError> {
    let ceilings: Option<CeilingsReport> = match &args.ceilings_json {
        Some(path) => Some(report::load(path, "ceilings")?),
        None => None,
    };
    let setup = RunSetup {
        label: args.label,
        endpoint: args.endpoint,
        access_key: args.access_key,
        secret_key: args.secret_key,
        region: args.region,
        server_pid: args.server_pid,
        scenarios: args.scenarios,
        options: RunOptions {
            duration: Duration::from_secs(args.duration_secs),
            max_ops: args.max_ops,
            large_size: args.large_size,
            part_size: args.part_size,
            small_keys: args.small_keys,
            listing_keys: args.listing_keys,
            mixed_keys: args.mixed_keys,
            clients: args.clients,
            op_timeout: Duration::from_secs(args.op_timeout_secs),
            fill_timeout: Duration::from_secs(args.fill_timeout_secs),
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    let mut report = runtime.block_on(run::run(setup))?;
    if let Some(ceilings) = &ceilings {
        report.ratios = report::ratios(&report, ceilings);
    }
    if !args.json {
        print!("{}", table::run_table(&report));
        if !report.ratios.is_empty() {
            println!();
            print!("{}", table::ratios_table(&report.ratios));
        }
    }
    print_json(&report);
    Ok(if report.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn ceilings_command(args: &CeilingsArgs) -> Result<ExitCode, BenchError> {
    let report = ceilings::measure(&args.dir, args.size_mib, Budget::default())?;
    if !args.json {
        print!("{}", table::ceilings_table(&report));
    }
    print_json(&report);
    Ok(ExitCode::SUCCESS)
}

fn report_command(args: &ReportArgs) -> Result<ExitCode, BenchError> {
    let run: RunReport = report::load(&args.run, "run")?;
    let ceilings: CeilingsReport = report::load(&args.ceilings, "ceilings")?;
    let ratios = report::ratios(&run, &ceilings);
    if !args.json {
        print!("{}", table::ceilings_table(&ceilings));
        println!();
        print!("{}", table::run_table(&run));
        println!();
        print!("{}", table::ratios_table(&ratios));
    }
    println!(
        "{}",
        serde_json::json!({ "kind": "ratios", "label": run.label, "ratios": ratios })
    );
    Ok(ExitCode::SUCCESS)
}

fn compare_command(args: &CompareArgs) -> Result<ExitCode, BenchError> {
    let runs = report::load_runs(&args.runs)?;
    print!("{}", compare::compare_table(&runs));
    Ok(ExitCode::SUCCESS)
}

/// Prints the one JSON line (always the last line of the output).
fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("coffer-bench: cannot serialize the figures: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("1TiB").is_err());
        assert!(parse_size("MiB").is_err());
    }
}
