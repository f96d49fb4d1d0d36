//! Several runs (Coffer and peers) side by side: one row per phase, one column group per server.

use std::fmt::Write as _;

use crate::run::RunReport;
use crate::stats::PhaseReport;

/// The phases of every run, in first-seen order, without duplicates.
fn phase_names(runs: &[RunReport]) -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = Vec::new();
    for run in runs {
        for phase in &run.phases {
            let name = (phase.scenario.clone(), phase.phase.clone());
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

fn cell(phase: Option<&PhaseReport>) -> String {
    match phase {
        None => format!("{:>30}", "-"),
        // Objects of 64 KiB and more are judged by bandwidth, smaller ones by request rate.
        Some(p) if p.ops > 0 && p.bytes / p.ops >= 64 << 10 => format!(
            "{:>8.1} MiB/s {:>7.1} {:>4}{}",
            p.mib_per_sec,
            p.p99_ms,
            p.errors,
            if p.errors > 0 { "!" } else { " " }
        ),
        Some(p) => format!(
            "{:>8.1} op/s  {:>7.1} {:>4}{}",
            p.ops_per_sec,
            p.p99_ms,
            p.errors,
            if p.errors > 0 { "!" } else { " " }
        ),
    }
}

/// The comparison table: per phase and server, rate (MiB/s for objects of 64 KiB and more,
/// else ops/s), p99
/// latency in ms and errors; then server CPU per op and peak memory.
pub fn compare_table(runs: &[RunReport]) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:<10} {:<30}", "scenario", "phase");
    for run in runs {
        let _ = write!(
            out,
            " | {:<30}",
            format!("{} (rate, p99 ms, err)", run.label)
        );
    }
    let _ = writeln!(out);
    for (scenario, phase) in phase_names(runs) {
        let _ = write!(out, "{scenario:<10} {phase:<30}");
        for run in runs {
            let found = run
                .phases
                .iter()
                .find(|p| p.scenario == scenario && p.phase == phase);
            let _ = write!(out, " | {}", cell(found));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    let _ = writeln!(
        out,
        "server CPU ms per op ({}; phases with a CPU figure):",
        labels.join(" | ")
    );
    for (scenario, phase) in phase_names(runs) {
        let figures: Vec<String> = runs
            .iter()
            .map(|run| {
                run.phases
                    .iter()
                    .find(|p| p.scenario == scenario && p.phase == phase)
                    .and_then(|p| p.server_cpu_ms_per_op)
                    .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.3}"))
            })
            .collect();
        if figures.iter().any(|f| f != "-") {
            let _ = writeln!(out, "  {scenario:<10} {phase:<30} {}", figures.join(" | "));
        }
    }
    for run in runs {
        let peak = run.server_peak_rss_kib.map_or_else(
            || "-".to_owned(),
            |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
        );
        let _ = writeln!(
            out,
            "{}: peak RSS {peak}, errors {} (wrong bytes {})",
            run.label, run.errors, run.wrong_bytes
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_up_phases_of_several_servers() {
        let phase = |name: &str, rate: f64| PhaseReport {
            scenario: "small".into(),
            phase: name.into(),
            ops: 10,
            ops_per_sec: rate,
            ..PhaseReport::default()
        };
        let a = RunReport {
            label: "coffer".into(),
            phases: vec![phase("PUT 4KiB", 100.0), phase("GET 4KiB", 200.0)],
            ..RunReport::default()
        };
        let b = RunReport {
            label: "peer".into(),
            phases: vec![phase("GET 4KiB", 50.0)],
            ..RunReport::default()
        };
        let table = compare_table(&[a, b]);
        let put = table.lines().find(|l| l.contains("PUT 4KiB")).expect("row");
        assert!(put.contains("100.0 op/s") && put.trim_end().ends_with('-'));
        let get = table.lines().find(|l| l.contains("GET 4KiB")).expect("row");
        assert!(get.contains("200.0 op/s") && get.contains("50.0 op/s"));
    }
}
