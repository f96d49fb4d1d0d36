//! The `coffer` binary: configuration, start-up, the S3 and admin listeners, TLS, metrics,
//! graceful shutdown, and the `coffer admin` client of the management API.

mod admin;
mod bootstrap;
mod cli;
mod config;
mod listener;
mod logwriter;
mod metrics;
mod query_api;
mod server;
mod tls;

use clap::{Parser, Subcommand};

/// mimalloc: the request path allocates and frees many small buffers on several threads, where
/// glibc's allocator spent about 14 % of the server's CPU (profile of the small-object bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Coffer: a multi-tenant, S3-compatible object storage server.
#[derive(Debug, Parser)]
#[command(name = "coffer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (embedded SQLite metadata and local blobs by default).
    Server(config::ServerArgs),
    /// Manage a running server through its management API (accounts, keys, buckets, ...).
    Admin(cli::AdminArgs),
}

/// Threads for blocking work (filesystem, SQLite). Each task is short (one batch, one read, one
/// fsync); more threads than this did not go faster on 64 concurrent uploads, and every thread
/// keeps an allocator heap (128 threads left ~100 MiB behind after a burst; 32 about 40).
const MAX_BLOCKING_THREADS: usize = 32;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Admin(args) => cli::run(args),
        Command::Server(args) => {
            let config = match config::Config::load(args) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("coffer: {e}");
                    return std::process::ExitCode::from(2);
                }
            };
            // Held to the end of the process: dropping it writes the log lines still gathered.
            let _log_guard = match server::init_logging(&config) {
                Ok(guard) => guard,
                Err(e) => {
                    eprintln!("coffer: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                // Blob batches and metadata reads are short blocking tasks; a bounded pool keeps
                // threads (and their stacks and allocator arenas) bounded under slow disks.
                .max_blocking_threads(MAX_BLOCKING_THREADS)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("coffer: cannot start the runtime: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            match runtime.block_on(server::run(config)) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("coffer: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}
