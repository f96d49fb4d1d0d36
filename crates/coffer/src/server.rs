//! Start-up, the S3 listener and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use coffer_api_s3::context::{ClientAddr, SecureTransport};
use coffer_api_s3::http::{IdleTimeoutBody, S3HttpService};
use coffer_api_s3::{S3Settings, build_service};
use coffer_blob::FsBlobStore;
use coffer_core::KeyLimits;
use coffer_engine::{Engine, EngineConfig};
use coffer_meta::SqliteMeta;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use tokio::net::TcpListener;

use crate::config::Config;

/// Largest request head (request line and headers) accepted, in bytes.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// How long freed bytes stay on disk so reads that started before a delete can finish.
const GARBAGE_GRACE: Duration = Duration::from_mins(15);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Installs the `tracing` subscriber (text or JSON lines on standard error).
pub fn init_logging(config: &Config) {
    // s3s logs every failed request at error level (and requests at debug, with their
    // Authorization header); Coffer writes its own access log instead.
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{},s3s=off", config.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,s3s=off"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if config.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", config.data_dir.display()))?;
    // One process owns an embedded data directory: its start-up sweeps assume no other writer.
    let _lock = lock_data_dir(&config.data_dir)?;
    let meta = SqliteMeta::open(&config.data_dir.join("meta.sqlite"))
        .map_err(|e| format!("cannot open metadata: {e}"))?;
    let blobs = FsBlobStore::open(&config.data_dir, true)
        .map_err(|e| format!("cannot open blob store: {e}"))?;
    let engine = Engine::new(
        Arc::new(meta),
        blobs,
        EngineConfig {
            inline_threshold: config.inline_threshold,
            key_limits: KeyLimits {
                max_key_bytes: 1024,
                max_segment_bytes: config.max_key_segment_bytes,
            },
            ..EngineConfig::default()
        },
    );
    let cleared = engine.clear_tmp().map_err(|e| e.to_string())?;
    if cleared > 0 {
        tracing::info!(
            files = cleared,
            "removed unfinished writes of a previous run"
        );
    }
    crate::bootstrap::ensure_first_account(engine.meta().as_ref()).await?;
    // The directory lock guarantees no write or read is in flight: every unreferenced blob is
    // an orphan and queued garbage can go at once.
    match engine.collect_orphans(Duration::ZERO).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(freed = n, "removed orphaned blobs"),
        Err(e) => tracing::warn!(error = %e, "orphan sweep failed"),
    }
    if let Err(e) = engine.collect_garbage(Duration::ZERO).await {
        tracing::warn!(error = %e, "garbage collection failed");
    }
    tokio::spawn(engine.clone().run_gc(
        Duration::from_secs(30),
        GARBAGE_GRACE,
        Duration::from_hours(1),
        Duration::from_hours(1),
    ));

    let host_id = format!(
        "coffer-{}",
        coffer_core::id::new_request_id().to_lowercase()
    );
    let s3 = build_service(
        engine,
        S3Settings {
            region: config.region.clone(),
            domains: config.domains.clone(),
            accept_sigv2: config.accept_sigv2,
        },
    )?;
    let service = S3HttpService::new(s3, config.region.clone(), config.accept_sigv2, host_id);

    let listener = TcpListener::bind(config.address)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.address))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(address = %local, data_dir = %config.data_dir.display(), "S3 listener ready");
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "S3 endpoint: http://{local}");
        let _ = out.flush();
    }

    let mut builder = ConnBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.header_timeout_secs))
        .max_buf_size(MAX_HEADER_BYTES);
    builder
        .http2()
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let body_idle = Duration::from_secs(config.body_idle_timeout_secs);
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let connections = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    loop {
        // At the cap, stop accepting until a connection ends (clients queue in the backlog).
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = shutdown.as_mut() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = shutdown.as_mut() => break,
        };
        // Small responses must not wait for delayed ACKs.
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let hyper_service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let service = service.clone();
                async move {
                    let mut req = req.map(|body| {
                        s3s::Body::http_body_unsync(IdleTimeoutBody::new(body, body_idle))
                    });
                    req.extensions_mut().insert(ClientAddr(peer));
                    req.extensions_mut().insert(SecureTransport(false));
                    service.handle(req).await
                }
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), hyper_service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    tracing::info!("shutting down: draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timed out"),
    }
    Ok(())
}

/// Takes an exclusive lock on `data_dir/LOCK` for the life of the process.
fn lock_data_dir(data_dir: &std::path::Path) -> Result<std::fs::File, String> {
    let path = data_dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{} is in use by another coffer process",
            data_dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
