//! Start-up, the two listeners (S3 and admin) and graceful shutdown.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coffer_api_admin::iam::IamApi;
use coffer_api_admin::rest::{AdminApi, AdminSettings, ApiKeyStore, ChangeHook};
use coffer_api_s3::access::AccessControl;
use coffer_api_s3::auth::KeyCache;
use coffer_api_s3::context::{ClientAddr, SecureTransport};
use coffer_api_s3::http::{IdleTimeoutBody, S3HttpService};
use coffer_api_s3::{S3Settings, build_service_with_access};
use coffer_blob::FsBlobStore;
use coffer_core::KeyLimits;
use coffer_engine::{Engine, EngineConfig};
use coffer_meta::SqliteMeta;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;

use crate::admin::AdminHandler;
use crate::config::Config;
use crate::listener::{self, ConnInfo, Handler, ListenerConfig};
use crate::metrics::{ListenerKind, Metrics};
use crate::query_api::IamQueryApi;
use crate::tls::Tls;

/// How long freed bytes stay on disk so reads that started before a delete can finish.
const GARBAGE_GRACE: Duration = Duration::from_mins(15);

/// Installs the `tracing` subscriber (text or JSON lines on standard error).
///
/// Lines gather in memory and a writer thread writes them in batches (see `logwriter`): nothing
/// is dropped, and the returned guard writes what is left when dropped.
pub fn init_logging(config: &Config) -> Result<crate::logwriter::FlushGuard, String> {
    // s3s logs every failed request at error level (and requests at debug, with their
    // Authorization header); Coffer writes its own access log instead.
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{},s3s=off", config.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,s3s=off"));
    let (writer, guard) = crate::logwriter::BatchedWriter::new(Box::new(std::io::stderr()))
        .map_err(|e| format!("cannot start the log writer: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    if config.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    Ok(guard)
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
    crate::bootstrap::ensure_first_account(engine.meta().as_ref(), &config.data_dir).await?;
    let api_keys = ApiKeyStore::open(&config.data_dir.join("api_keys.json"))
        .map_err(|e| format!("cannot open the API keys: {e}"))?;
    crate::bootstrap::ensure_operator_key(&api_keys).await?;
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

    let tls = config.tls.clone().map(Tls::new).transpose()?;
    if let Some(tls) = &tls {
        tokio::spawn(tls.clone().watch());
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let s3_listener = TcpListener::bind(config.address)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.address))?;
    let s3_local = s3_listener.local_addr().map_err(|e| e.to_string())?;
    let admin_listener = TcpListener::bind(config.admin_address)
        .await
        .map_err(|e| format!("cannot listen on {} (admin): {e}", config.admin_address))?;
    let admin_local = admin_listener.local_addr().map_err(|e| e.to_string())?;

    let metrics = Arc::new(Metrics::default());
    let host_id = format!(
        "coffer-{}",
        coffer_core::id::new_request_id().to_lowercase()
    );
    // Access decisions are shared with the IAM and management APIs, which make the S3
    // listener forget cached keys, identities and accounts whenever they change them.
    let access = AccessControl::new(engine.clone(), KeyCache::default());
    let on_change: ChangeHook = {
        let access = access.clone();
        Arc::new(move || access.invalidate_identities())
    };
    let s3 = build_service_with_access(
        engine.clone(),
        S3Settings {
            region: config.region.clone(),
            domains: config.domains.clone(),
            accept_sigv2: config.accept_sigv2,
        },
        access,
    )?;
    let iam = IamApi::new(engine.clone(), on_change.clone());
    let s3_handler = S3Handler {
        service: S3HttpService::new(s3, config.region.clone(), config.accept_sigv2, host_id)
            .with_query_api(Arc::new(IamQueryApi(iam)))
            .with_observer(metrics.clone()),
        body_idle: Duration::from_secs(config.body_idle_timeout_secs),
    };
    if config.public_url.is_none() && !s3_local.ip().is_loopback() {
        // Presigned URLs sign the host: clients must use the very host they are given.
        tracing::warn!(
            address = %s3_local,
            "presigned URLs will name this address; set --public-url to the host clients use"
        );
    }
    let s3_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{}", reachable(s3_local)));
    let admin_handler = AdminHandler {
        api: AdminApi::with_change_hook(
            engine.clone(),
            api_keys,
            AdminSettings {
                region: config.region.clone(),
                s3_url,
            },
            Some(on_change),
        ),
        engine,
        metrics: metrics.clone(),
    };

    tracing::info!(address = %admin_local, "admin listener ready");
    tracing::info!(address = %s3_local, data_dir = %config.data_dir.display(), tls = tls.is_some(), "S3 listener ready");
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        // The S3 line comes last: a supervisor reading it knows both listeners are up.
        let _ = writeln!(out, "Admin endpoint: {scheme}://{admin_local}");
        let _ = writeln!(out, "S3 endpoint: {scheme}://{s3_local}");
        let _ = out.flush();
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let listener_config = |kind| ListenerConfig {
        kind,
        tls: tls.clone(),
        require_https: config.require_https,
        max_connections: config.max_connections,
        header_timeout: Duration::from_secs(config.header_timeout_secs),
    };
    let s3_task = tokio::spawn(listener::serve(
        s3_listener,
        listener_config(ListenerKind::S3),
        s3_handler,
        metrics.clone(),
        stopped.clone(),
    ));
    let admin_task = tokio::spawn(listener::serve(
        admin_listener,
        listener_config(ListenerKind::Admin),
        admin_handler,
        metrics,
        stopped,
    ));
    shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    let _ = stop.send(true);
    // Both listeners stop accepting at once and drain side by side.
    let (s3_done, admin_done) = tokio::join!(s3_task, admin_task);
    for done in [s3_done, admin_done] {
        if let Err(e) = done {
            tracing::error!(error = %e, "listener task failed");
        }
    }
    Ok(())
}

/// An address clients can reach: the unspecified address (`0.0.0.0`, `::`) becomes loopback.
fn reachable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, address.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, address.port()).into(),
        _ => address,
    }
}

/// Serves the S3 listener: the S3 protocol with Coffer's request-level rules.
#[derive(Clone)]
struct S3Handler {
    service: S3HttpService,
    body_idle: Duration,
}

impl Handler for S3Handler {
    type Body = s3s::Body;

    fn call(
        &self,
        req: Request<Incoming>,
        conn: ConnInfo,
    ) -> Pin<Box<dyn Future<Output = Response<s3s::Body>> + Send>> {
        let service = self.service.clone();
        let body_idle = self.body_idle;
        Box::pin(async move {
            let mut req =
                req.map(|body| s3s::Body::http_body_unsync(IdleTimeoutBody::new(body, body_idle)));
            req.extensions_mut().insert(ClientAddr(conn.peer));
            req.extensions_mut().insert(SecureTransport(conn.secure));
            match service.handle(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    }

    fn https_required(&self) -> Response<Full<Bytes>> {
        let request_id = coffer_core::id::new_request_id();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRequest</Code>\
             <Message>HTTPS required: this server accepts only TLS connections</Message>\
             <RequestId>{request_id}</RequestId></Error>"
        );
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = http::StatusCode::BAD_REQUEST;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/xml"),
        );
        response
    }
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
        // SIGHUP reloads certificates (when TLS is on); it never ends the process.
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut ctrl_c = std::pin::pin!(ctrl_c);
        loop {
            tokio::select! {
                _ = ctrl_c.as_mut() => return,
                _ = term.recv() => return,
                Some(()) = async {
                    match hangup.as_mut() {
                        Some(h) => h.recv().await,
                        None => std::future::pending().await,
                    }
                } => tracing::info!("SIGHUP received"),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
