//! Human-readable tables of the figures (the JSON line carries the same numbers).

use std::fmt::Write as _;

use crate::ceilings::CeilingsReport;
use crate::report::Ratio;
use crate::run::RunReport;

fn optional(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The run as a table, one row per phase, then memory and the first errors.
pub fn run_table(run: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} at {} (phases bounded by {} s / {} ops)",
        run.label, run.endpoint, run.duration_secs, run.max_ops
    );
    let _ = writeln!(
        out,
        "{:<10} {:<30} {:>4} {:>8} {:>4} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "scenario",
        "phase",
        "conc",
        "ops",
        "err",
        "ops/s",
        "MiB/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "srv ms/op",
        "srv s/GiB"
    );
    for p in &run.phases {
        let _ = writeln!(
            out,
            "{:<10} {:<30} {:>4} {:>8} {:>4} {:>9.1} {:>8.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>8}",
            p.scenario,
            p.phase,
            p.concurrency,
            p.ops,
            p.errors,
            p.ops_per_sec,
            p.mib_per_sec,
            p.p50_ms,
            p.p99_ms,
            p.p999_ms,
            p.max_ms,
            optional(p.server_cpu_ms_per_op, 3),
            optional(p.server_cpu_secs_per_gib, 2),
        );
    }
    for p in run.phases.iter().filter(|p| p.items.is_some()) {
        let _ = writeln!(
            out,
            "  {:<30} {} items over {} requests in {:.1} ms (p50 {:.2} ms per request)",
            p.phase,
            p.items.unwrap_or(0),
            p.ops,
            p.seconds * 1000.0,
            p.p50_ms
        );
    }
    if let Some(peak) = run.server_peak_rss_kib {
        let per_scenario: Vec<String> = run
            .scenario_peak_rss_kib
            .iter()
            .map(|(s, kib)| format!("{s} {}", mib(*kib)))
            .collect();
        let _ = writeln!(
            out,
            "server peak RSS: {} ({})",
            mib(peak),
            per_scenario.join(", ")
        );
    }
    if let Some(kib) = run.client_peak_rss_kib {
        let _ = writeln!(out, "bench peak RSS: {}", mib(kib));
    }
    let _ = writeln!(
        out,
        "errors: {} (wrong bytes or listings: {})",
        run.errors, run.wrong_bytes
    );
    for p in &run.phases {
        if let Some(error) = &p.first_error {
            let _ = writeln!(
                out,
                "  first error of {} / {}: {error}",
                p.scenario, p.phase
            );
        }
    }
    out
}

/// The ceilings as a table.
pub fn ceilings_table(c: &CeilingsReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ceilings of {} ({} cores)", c.dir, c.cores);
    let rows = [
        (
            format!("sequential write {} MiB + fsync", c.file_mib),
            format!("{:.0} MiB/s", c.disk_write_fsync_mib_s),
        ),
        (
            "sequential read, O_DIRECT (device)".to_owned(),
            c.disk_read_direct_mib_s
                .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0} MiB/s")),
        ),
        (
            "sequential read, page cache".to_owned(),
            format!("{:.0} MiB/s", c.cached_read_mib_s),
        ),
        (
            "4 KiB append + fdatasync".to_owned(),
            format!(
                "{:.0} /s (p50 {:.0} us, p99 {:.0} us)",
                c.fsyncs_per_sec, c.fsync_p50_us, c.fsync_p99_us
            ),
        ),
        (
            "4 KiB overwrite + fdatasync".to_owned(),
            format!(
                "{:.0} /s (p50 {:.0} us, p99 {:.0} us)",
                c.fsync_overwrite_per_sec, c.fsync_overwrite_p50_us, c.fsync_overwrite_p99_us
            ),
        ),
        (
            "memory copy".to_owned(),
            format!("{:.0} MiB/s", c.memcpy_mib_s),
        ),
        (
            "MD5, 1 core (md5-many)".to_owned(),
            format!("{:.0} MiB/s", c.md5_mib_s),
        ),
        (
            "SHA-256, 1 core (sha2)".to_owned(),
            format!("{:.0} MiB/s", c.sha256_mib_s),
        ),
        (
            "CRC32C, 1 core (crc-fast)".to_owned(),
            format!("{:.0} MiB/s", c.crc32c_mib_s),
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "  {name:<36} {value}");
    }
    for note in &c.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}

/// The ratios as a table.
pub fn ratios_table(ratios: &[Ratio]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<42} {:>10} {:>10} {:>6} {:>6}  basis",
        "figure", "measured", "ceiling", "unit", "ratio"
    );
    for r in ratios {
        let _ = writeln!(
            out,
            "{:<42} {:>10.1} {:>10.1} {:>6} {:>5.0}%  {}",
            r.figure,
            r.measured,
            r.ceiling,
            r.unit,
            r.fraction * 100.0,
            r.basis
        );
    }
    out
}
