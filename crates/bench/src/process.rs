//! CPU time and memory of a process, read from `/proc` (Linux only; `None` elsewhere).

/// `/proc/PID/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 for userspace on
/// every mainstream architecture (the kernel's own HZ may differ; this does not).
const TICKS_PER_SECOND: f64 = 100.0;

/// A process whose resources are sampled: the server (by pid) or the bench itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// The process with this id.
    Pid(u32),
    /// The calling process.
    Myself,
}

impl Process {
    fn proc_path(self, file: &str) -> String {
        match self {
            Self::Pid(pid) => format!("/proc/{pid}/{file}"),
            Self::Myself => format!("/proc/self/{file}"),
        }
    }

    /// User plus system CPU seconds spent so far (all threads).
    pub fn cpu_seconds(self) -> Option<f64> {
        let stat = std::fs::read_to_string(self.proc_path("stat")).ok()?;
        cpu_seconds_from_stat(&stat)
    }

    /// Peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    /// Resident memory now (VmRSS), in KiB.
    pub fn rss_kib(self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// Threads of the process now.
    pub fn threads(self) -> Option<u64> {
        self.status_kib("Threads:")
    }

    /// Resets the peak resident memory to the current one (`/proc/PID/clear_refs` value 5), so
    /// the next peak reading covers only what follows. Best effort: the kernel may refuse.
    pub fn reset_peak_rss(self) -> bool {
        std::fs::write(self.proc_path("clear_refs"), "5").is_ok()
    }

    fn status_kib(self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(self.proc_path("status")).ok()?;
        status_field_kib(&status, field)
    }
}

/// utime + stime of a `/proc/PID/stat` line. The command name may hold spaces and parentheses,
/// so fields are counted after its last `)`.
fn cpu_seconds_from_stat(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

fn status_field_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names() {
        let stat = "42 (co ffer) (x) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1 2 3";
        assert_eq!(cpu_seconds_from_stat(stat), Some(3.0));
    }

    #[test]
    fn parses_status_fields() {
        let status = "Name:\tcoffer\nVmHWM:\t  123456 kB\nVmRSS:\t   1000 kB\nThreads:\t7\n";
        assert_eq!(status_field_kib(status, "VmHWM:"), Some(123_456));
        assert_eq!(status_field_kib(status, "VmRSS:"), Some(1000));
        assert_eq!(status_field_kib(status, "Threads:"), Some(7));
        assert_eq!(status_field_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn reads_own_process() {
        if cfg!(target_os = "linux") {
            assert!(Process::Myself.cpu_seconds().is_some());
            assert!(Process::Myself.peak_rss_kib().unwrap_or(0) > 0);
        }
    }
}
