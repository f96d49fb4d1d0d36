//! A run's figures as fractions of this machine's ceilings: how close the server comes to what
//! the disk, the memory and one core's hashing allow.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ceilings::CeilingsReport;
use crate::error::BenchError;
use crate::run::RunReport;
use crate::stats::PhaseReport;

/// One figure against its ceiling.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ratio {
    /// What was measured (`large PUT 1GiB`).
    pub figure: String,
    /// The measured value.
    pub measured: f64,
    /// The ceiling it is compared with.
    pub ceiling: f64,
    /// Unit of both (`MiB/s`, `ops/s`, `s/GiB`).
    pub unit: String,
    /// Which ceiling and why.
    pub basis: String,
    /// `measured / ceiling`.
    pub fraction: f64,
}

/// Reads the last JSON line of `kind` from a file (a whole captured output is fine).
pub fn load<T: DeserializeOwned>(path: &Path, kind: &str) -> Result<T, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let marker = format!("\"kind\":\"{kind}\"");
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{') && l.contains(&marker))
        .ok_or_else(|| BenchError::Figures {
            path: path.display().to_string(),
            reason: format!("no JSON line of kind {kind:?}"),
        })?;
    serde_json::from_str(line).map_err(|e| BenchError::Figures {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Every run JSON line of the files, merged per label (phases in order, errors summed, the
/// highest peak memory), labels in first-seen order.
pub fn load_runs(paths: &[std::path::PathBuf]) -> Result<Vec<RunReport>, BenchError> {
    let mut runs: Vec<RunReport> = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let lines = text
            .lines()
            .filter(|l| l.trim_start().starts_with('{') && l.contains("\"kind\":\"run\""));
        for line in lines {
            let run: RunReport = serde_json::from_str(line).map_err(|e| BenchError::Figures {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            match runs.iter_mut().find(|r| r.label == run.label) {
                Some(merged) => {
                    merged.phases.extend(run.phases);
                    merged.errors += run.errors;
                    merged.wrong_bytes += run.wrong_bytes;
                    merged
                        .scenario_peak_rss_kib
                        .extend(run.scenario_peak_rss_kib);
                    merged.server_peak_rss_kib =
                        merged.server_peak_rss_kib.max(run.server_peak_rss_kib);
                    merged.first_error = merged.first_error.take().or(run.first_error);
                }
                None => runs.push(run),
            }
        }
    }
    if runs.is_empty() {
        return Err(BenchError::Figures {
            path: format!("{paths:?}"),
            reason: "no JSON line of kind \"run\"".to_owned(),
        });
    }
    Ok(runs)
}

fn find<'a>(run: &'a RunReport, scenario: &str, phase_start: &str) -> Option<&'a PhaseReport> {
    run.phases
        .iter()
        .find(|p| p.scenario == scenario && p.phase.starts_with(phase_start) && p.ops > 0)
}

fn ratio(figure: String, measured: f64, ceiling: f64, unit: &str, basis: String) -> Ratio {
    Ratio {
        figure,
        measured,
        ceiling,
        unit: unit.to_owned(),
        basis,
        fraction: if ceiling > 0.0 {
            measured / ceiling
        } else {
            0.0
        },
    }
}

/// Compares the run's headline figures with the ceilings.
pub fn ratios(run: &RunReport, ceilings: &CeilingsReport) -> Vec<Ratio> {
    let mut out = Vec::new();
    let disk = ceilings.disk_write_fsync_mib_s;
    let md5 = ceilings.md5_mib_s;
    // A write stream is hashed (MD5) and written with fsync: the slower of the two bounds it;
    // concurrent streams can hash on several cores.
    let write_ceiling = |streams: usize| {
        let cores = streams.min(ceilings.cores).max(1) as f64;
        let hashing = md5 * cores;
        (
            disk.min(hashing),
            format!(
                "min(disk write+fsync {disk:.0}, MD5 {md5:.0} x {cores:.0} core{})",
                if cores > 1.0 { "s" } else { "" }
            ),
        )
    };
    let put_rows = [
        ("large", "PUT"),
        ("multipart", "PUT parts"),
        ("medium", "PUT 1MiB"),
    ];
    for (scenario, phase) in put_rows {
        if let Some(p) = find(run, scenario, phase) {
            let (ceiling, basis) = write_ceiling(p.concurrency);
            out.push(ratio(
                format!("{scenario} {}", p.phase),
                p.mib_per_sec,
                ceiling,
                "MiB/s",
                basis,
            ));
        }
    }
    // Coffer reads objects of 16 MiB and more from the device (O_DIRECT) and keeps smaller
    // ones in the page cache: each GET's first row is its basis there, the second the other.
    let gets = [
        ("large", "GET", true),
        ("multipart", "GET", true),
        ("medium", "GET", false),
    ];
    for (scenario, phase, from_device) in gets {
        let Some(p) = find(run, scenario, phase) else {
            continue;
        };
        let cached = (
            format!("{scenario} {}", p.phase),
            ceilings.memcpy_mib_s,
            "memory copy (the object was just written: page cache)",
        );
        let direct = ceilings.disk_read_direct_mib_s.map(|direct| {
            (
                format!("{scenario} {} (from the device)", p.phase),
                direct,
                "disk read, O_DIRECT",
            )
        });
        let rows = if from_device {
            let cached = (format!("{} (if cached)", cached.0), cached.1, cached.2);
            vec![direct, Some(cached)]
        } else {
            vec![Some(cached), direct]
        };
        for (figure, ceiling, basis) in rows.into_iter().flatten() {
            out.push(ratio(
                figure,
                p.mib_per_sec,
                ceiling,
                "MiB/s",
                basis.to_owned(),
            ));
        }
    }
    if let Some(p) = find(run, "small", "PUT") {
        // Coffer's commits overwrite a WAL written ahead; older ceilings lack that loop.
        let (basis, what) = if ceilings.fsync_overwrite_per_sec > 0.0 {
            (ceilings.fsync_overwrite_per_sec, "overwrite")
        } else {
            (ceilings.fsyncs_per_sec, "append")
        };
        out.push(ratio(
            format!("small {}", p.phase),
            p.ops_per_sec,
            basis,
            "ops/s",
            format!("4 KiB {what} + fdatasync per second, one thread"),
        ));
    }
    if let Some((p, cpu)) =
        find(run, "large", "PUT").and_then(|p| Some((p, p.server_cpu_secs_per_gib?)))
    {
        let md5_secs_per_gib = 1024.0 / md5;
        out.push(ratio(
            format!("large {}: MD5 share of server CPU", p.phase),
            md5_secs_per_gib,
            cpu,
            "s/GiB",
            format!("MD5 alone costs {md5_secs_per_gib:.2} s/GiB; server spent {cpu:.2} s/GiB"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_bounded_by_the_slower_of_disk_and_md5() {
        let ceilings = CeilingsReport {
            cores: 2,
            disk_write_fsync_mib_s: 800.0,
            md5_mib_s: 500.0,
            memcpy_mib_s: 8000.0,
            disk_read_direct_mib_s: Some(1000.0),
            fsyncs_per_sec: 1000.0,
            ..CeilingsReport::default()
        };
        let phase = |scenario: &str, phase: &str, concurrency: usize| PhaseReport {
            scenario: scenario.into(),
            phase: phase.into(),
            concurrency,
            ops: 1,
            mib_per_sec: 250.0,
            ops_per_sec: 500.0,
            ..PhaseReport::default()
        };
        let run = RunReport {
            phases: vec![
                phase("large", "PUT 1GiB", 1),
                phase("large", "GET 1GiB", 1),
                phase("multipart", "PUT parts of 16MiB", 4),
                phase("medium", "GET 1MiB", 8),
                phase("small", "PUT 4KiB", 32),
            ],
            ..RunReport::default()
        };
        let rows = ratios(&run, &ceilings);
        let get = |name: &str| {
            rows.iter()
                .find(|r| r.figure == name)
                .map(|r| r.fraction)
                .expect(name)
        };
        assert!((get("large PUT 1GiB") - 0.5).abs() < 1e-9);
        assert!((get("multipart PUT parts of 16MiB") - 250.0 / 800.0).abs() < 1e-9);
        // Large objects are read from the device, medium ones from the page cache: each is
        // measured first against its own basis.
        assert!((get("large GET 1GiB (from the device)") - 250.0 / 1000.0).abs() < 1e-9);
        assert!((get("large GET 1GiB (if cached)") - 250.0 / 8000.0).abs() < 1e-9);
        assert!((get("medium GET 1MiB") - 250.0 / 8000.0).abs() < 1e-9);
        let order: Vec<&str> = rows.iter().map(|r| r.figure.as_str()).collect();
        let pos = |name: &str| order.iter().position(|f| *f == name).expect(name);
        assert!(pos("large GET 1GiB (from the device)") < pos("large GET 1GiB (if cached)"));
        assert!(pos("medium GET 1MiB") < pos("medium GET 1MiB (from the device)"));
        assert!((get("small PUT 4KiB") - 0.5).abs() < 1e-9);
        // Measured, the overwrite loop is the basis of small PUTs (Coffer's WAL commits).
        let overwrite = CeilingsReport {
            fsync_overwrite_per_sec: 2000.0,
            ..ceilings
        };
        let rows = ratios(&run, &overwrite);
        let small = rows
            .iter()
            .find(|r| r.figure == "small PUT 4KiB")
            .expect("small PUT");
        assert!((small.fraction - 0.25).abs() < 1e-9);
        assert!(small.basis.contains("overwrite"), "{}", small.basis);
    }

    #[test]
    fn loads_the_last_json_line_of_a_kind() {
        let dir = std::env::temp_dir().join(format!("coffer-bench-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("out.txt");
        std::fs::write(
            &path,
            "table\n{\"kind\":\"ceilings\",\"md5_mib_s\":1.0}\n{\"kind\":\"ceilings\",\"md5_mib_s\":2.0}\n",
        )
        .expect("write");
        let loaded: CeilingsReport = load(&path, "ceilings").expect("load");
        assert!((loaded.md5_mib_s - 2.0).abs() < 1e-9);
        assert!(load::<RunReport>(&path, "run").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
