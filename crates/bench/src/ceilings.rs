//! This machine's limits, measured the way the server meets them: sequential write with fsync,
//! sequential read (from the device with O_DIRECT, and from the page cache), fsyncs per second,
//! memory copy, and single-core MD5 / SHA-256 / CRC32C with the crates the server uses.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use md5_many::Digest as _;
use serde::{Deserialize, Serialize};

use crate::error::BenchError;
use crate::pattern::chunk_buffer;
use crate::stats::percentile;

const MIB: usize = 1 << 20;
/// Op bound of the fsync loop.
const FSYNC_MAX_OPS: usize = 50_000;

/// How long the timed loops run.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Each CPU measurement (memory copy, each hash).
    pub cpu: Duration,
    /// The fsync loop.
    pub fsync: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            cpu: Duration::from_secs(1),
            fsync: Duration::from_secs(2),
        }
    }
}

/// The figures of `coffer-bench ceilings`, serialized as its JSON line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CeilingsReport {
    /// Always `ceilings`.
    pub kind: String,
    /// Directory measured.
    pub dir: String,
    /// CPU cores available to this process.
    pub cores: usize,
    /// Size of the file written and read, MiB.
    pub file_mib: u64,
    /// Sequential write of the file in 1 MiB writes, fsync included, MiB/s.
    pub disk_write_fsync_mib_s: f64,
    /// Sequential read with O_DIRECT (from the device), MiB/s; `None` if the filesystem refuses
    /// O_DIRECT.
    pub disk_read_direct_mib_s: Option<f64>,
    /// Sequential buffered read right after the write (served from the page cache), MiB/s.
    pub cached_read_mib_s: f64,
    /// 4 KiB append + fdatasync per second.
    pub fsyncs_per_sec: f64,
    /// Median append + fdatasync latency, µs.
    pub fsync_p50_us: f64,
    /// 99th percentile append + fdatasync latency, µs.
    pub fsync_p99_us: f64,
    /// 4 KiB overwrite (of blocks the file already has) + fdatasync per second: what a
    /// commit into a WAL file written ahead meets (no block allocation, no inode write).
    pub fsync_overwrite_per_sec: f64,
    /// Median overwrite + fdatasync latency, µs.
    pub fsync_overwrite_p50_us: f64,
    /// 99th percentile overwrite + fdatasync latency, µs.
    pub fsync_overwrite_p99_us: f64,
    /// Memory copy bandwidth (64 MiB buffers), MiB/s.
    pub memcpy_mib_s: f64,
    /// Single-core MD5 (`md-5`), MiB/s.
    pub md5_mib_s: f64,
    /// Single-core SHA-256 (`sha2`), MiB/s.
    pub sha256_mib_s: f64,
    /// Single-core CRC32C (`crc-fast`), MiB/s.
    pub crc32c_mib_s: f64,
    /// What the figures mean where that is not obvious.
    pub notes: Vec<String>,
}

/// Removes the measurement files however the measurement ends.
struct Scratch(Vec<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Measures everything; `size_mib` is the size of the sequential file.
pub fn measure(dir: &Path, size_mib: u64, budget: Budget) -> Result<CeilingsReport, BenchError> {
    let io_error = |path: &Path| {
        let path = path.display().to_string();
        move |source| BenchError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let file_path = dir.join(format!("coffer-bench-ceiling-{}.dat", std::process::id()));
    let fsync_path = dir.join(format!("coffer-bench-fsync-{}.dat", std::process::id()));
    let _scratch = Scratch(vec![file_path.clone(), fsync_path.clone()]);
    let mut notes = Vec::new();

    let disk_write_fsync_mib_s =
        write_sequential(&file_path, size_mib).map_err(io_error(&file_path))?;
    let cached_read_mib_s = read_buffered(&file_path).map_err(io_error(&file_path))?;
    let disk_read_direct_mib_s = match read_direct(&file_path) {
        Ok(rate) => Some(rate),
        Err(e) => {
            notes.push(format!(
                "O_DIRECT read refused ({e}): only the page-cache read was measured"
            ));
            None
        }
    };
    notes.push(
        "cached read: read right after the write, served from the page cache; \
         direct read: O_DIRECT, from the device"
            .to_owned(),
    );
    let (fsyncs_per_sec, fsync_p50_us, fsync_p99_us) =
        fsync_loop(&fsync_path, budget.fsync, false).map_err(io_error(&fsync_path))?;
    let (fsync_overwrite_per_sec, fsync_overwrite_p50_us, fsync_overwrite_p99_us) =
        fsync_loop(&fsync_path, budget.fsync, true).map_err(io_error(&fsync_path))?;

    let buffer = chunk_buffer();
    let md5_mib_s = hash_rate(&buffer, budget.cpu, |data, state: &mut md5_many::Md5| {
        state.update(data);
    });
    let sha256_mib_s = hash_rate(&buffer, budget.cpu, |data, state: &mut sha2::Sha256| {
        sha2::Digest::update(state, data);
    });
    let crc32c_mib_s = {
        let mut digest = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi);
        let rate = rate_of(buffer.len(), budget.cpu, || digest.update(&buffer));
        std::hint::black_box(digest.finalize());
        rate
    };
    Ok(CeilingsReport {
        kind: "ceilings".to_owned(),
        dir: dir.display().to_string(),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        file_mib: size_mib,
        disk_write_fsync_mib_s,
        disk_read_direct_mib_s,
        cached_read_mib_s,
        fsyncs_per_sec,
        fsync_p50_us,
        fsync_p99_us,
        fsync_overwrite_per_sec,
        fsync_overwrite_p50_us,
        fsync_overwrite_p99_us,
        memcpy_mib_s: memcpy_rate(budget.cpu),
        md5_mib_s,
        sha256_mib_s,
        crc32c_mib_s,
        notes,
    })
}

/// Writes `size_mib` MiB in 1 MiB writes, then fsyncs; MiB/s over the whole.
fn write_sequential(path: &Path, size_mib: u64) -> std::io::Result<f64> {
    let mut chunk = chunk_buffer().to_vec();
    let started = Instant::now();
    let mut file = File::create(path)?;
    for index in 0..size_mib {
        // A different first word per chunk, so no layer can deduplicate the writes.
        chunk[..8].copy_from_slice(&index.to_le_bytes());
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    Ok(size_mib as f64 / started.elapsed().as_secs_f64())
}

/// Reads the file through the page cache; MiB/s.
fn read_buffered(path: &Path) -> std::io::Result<f64> {
    let mut buffer = vec![0u8; MIB];
    let started = Instant::now();
    let mut file = File::open(path)?;
    let mut total = 0usize;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        total += read;
    }
    Ok(total as f64 / MIB as f64 / started.elapsed().as_secs_f64())
}

/// Reads the file with O_DIRECT (bypassing the page cache) in aligned 4 MiB reads; MiB/s.
fn read_direct(path: &Path) -> std::io::Result<f64> {
    const BLOCK: usize = 4 * MIB;
    const ALIGN: usize = 4096;
    let mut storage = vec![0u8; BLOCK + ALIGN];
    let skip = storage.as_ptr().align_offset(ALIGN);
    let buffer = &mut storage[skip..skip + BLOCK];
    let started = Instant::now();
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)?;
    let mut total = 0usize;
    loop {
        let read = file.read(buffer)?;
        if read == 0 {
            break;
        }
        total += read;
    }
    Ok(total as f64 / MIB as f64 / started.elapsed().as_secs_f64())
}

/// Writes 4 KiB and fdatasyncs for `time`; (per second, p50 µs, p99 µs). Appends, or with
/// `overwrite` writes over the blocks of a file written (and synced) first, in turn.
fn fsync_loop(path: &Path, time: Duration, overwrite: bool) -> std::io::Result<(f64, f64, f64)> {
    use std::os::unix::fs::FileExt as _;
    const RING_BLOCKS: u64 = 1024;
    let block = &chunk_buffer()[..4096];
    let mut file = File::create(path)?;
    if overwrite {
        for _ in 0..RING_BLOCKS {
            file.write_all(block)?;
        }
        file.sync_all()?;
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    while started.elapsed() < time && latencies.len() < FSYNC_MAX_OPS {
        let op_started = Instant::now();
        if overwrite {
            let offset = (latencies.len() as u64 % RING_BLOCKS) * block.len() as u64;
            file.write_all_at(block, offset)?;
        } else {
            file.write_all(block)?;
        }
        file.sync_data()?;
        latencies.push(op_started.elapsed().as_micros() as u64);
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok((
        rate,
        percentile(&latencies, 0.5) as f64,
        percentile(&latencies, 0.99) as f64,
    ))
}

/// Copies a 64 MiB buffer into another for `time`; MiB/s.
fn memcpy_rate(time: Duration) -> f64 {
    let source = vec![0x5au8; 64 * MIB];
    let mut target = vec![0u8; 64 * MIB];
    let rate = rate_of(source.len(), time, || target.copy_from_slice(&source));
    std::hint::black_box(&target);
    rate
}

/// Feeds the buffer to a fresh hasher for `time`; MiB/s.
fn hash_rate<H: Default>(
    buffer: &[u8],
    time: Duration,
    mut update: impl FnMut(&[u8], &mut H),
) -> f64 {
    let mut state = H::default();
    let rate = rate_of(buffer.len(), time, || update(buffer, &mut state));
    std::hint::black_box(&state);
    rate
}

/// Repeats `work` (which processes `bytes` bytes) for `time`; MiB/s.
fn rate_of(bytes: usize, time: Duration, mut work: impl FnMut()) -> f64 {
    work(); // warm caches and lazy initialisation
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < time && rounds < 1_000_000 {
        work();
        rounds += 1;
    }
    (rounds as f64 * bytes as f64) / MIB as f64 / started.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_small_file() {
        let dir = std::env::temp_dir().join(format!("coffer-bench-test-{}", std::process::id()));
        let budget = Budget {
            cpu: Duration::from_millis(50),
            fsync: Duration::from_millis(100),
        };
        let report = measure(&dir, 4, budget).expect("ceilings");
        assert!(report.disk_write_fsync_mib_s > 0.0);
        assert!(report.cached_read_mib_s > 0.0);
        assert!(report.fsyncs_per_sec > 0.0 && report.fsync_overwrite_per_sec > 0.0);
        assert!(report.md5_mib_s > 0.0 && report.crc32c_mib_s > 0.0);
        assert_eq!(
            std::fs::read_dir(&dir).expect("dir").count(),
            0,
            "scratch removed"
        );
        let _ = std::fs::remove_dir(&dir);
    }
}
