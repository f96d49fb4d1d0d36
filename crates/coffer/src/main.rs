//! The `coffer` binary: configuration, start-up, listeners and graceful shutdown.

mod bootstrap;
mod config;
mod server;

use clap::{Parser, Subcommand};

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Server(args) => {
            let config = match config::Config::load(args) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("coffer: {e}");
                    return std::process::ExitCode::from(2);
                }
            };
            server::init_logging(&config);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
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
