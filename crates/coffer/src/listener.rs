//! Accepting connections for one listener: the connection cap, TLS or plain (told apart by the
//! first byte when TLS is configured), the "HTTPS required" refusal, connection metrics, and a
//! graceful shutdown that drains in-flight requests.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use crate::metrics::{ListenerKind, Metrics};
use crate::tls::Tls;

/// Largest request head (request line and headers) accepted, in bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// How long shutdown waits for in-flight requests.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// First byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// Errors of response bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a handler learns about the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub secure: bool,
}

/// Answers the requests of one listener.
pub trait Handler: Clone + Send + Sync + 'static {
    /// The response body.
    type Body: hyper::body::Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static;
    /// Answers one request.
    fn call(
        &self,
        req: Request<Incoming>,
        conn: ConnInfo,
    ) -> Pin<Box<dyn Future<Output = Response<Self::Body>> + Send>>;
    /// The answer to every request of a plain connection when HTTPS is required.
    fn https_required(&self) -> Response<Full<Bytes>>;
}

/// How one listener serves.
#[derive(Clone)]
pub struct ListenerConfig {
    /// Which listener (for metrics and logs).
    pub kind: ListenerKind,
    /// TLS, when configured.
    pub tls: Option<Tls>,
    /// Refuse plain connections when TLS is configured.
    pub require_https: bool,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Time allowed for the TLS handshake and the request head.
    pub header_timeout: Duration,
}

fn connection_builder(header_timeout: Duration) -> ConnBuilder<TokioExecutor> {
    let mut builder = ConnBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEADER_BYTES);
    // Idle HTTP/2 connections are pinged and closed when they stop answering, so they do not
    // hold a connection slot for ever.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    builder
}

/// Accepts connections until `shutdown` fires, then waits (at most [`DRAIN_TIMEOUT`]) for
/// the requests in flight to finish.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    config: ListenerConfig,
    handler: H,
    metrics: Arc<Metrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let builder = connection_builder(config.header_timeout);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let stop = async move {
        // Fires on the signal, or if the sender is gone.
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let mut stop = std::pin::pin!(stop);
    loop {
        // At the cap, stop accepting until a connection ends (clients queue in the backlog).
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = stop.as_mut() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = stop.as_mut() => break,
        };
        // Small responses must not wait for delayed ACKs.
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            config: config.clone(),
            handler: handler.clone(),
            watcher: graceful.watcher(),
            peer,
        };
        let guard = metrics.connection_opened(config.kind);
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(guard);
            drop(permit);
        });
    }
    let listener_name = format!("{:?}", config.kind);
    tracing::info!(listener = %listener_name, "draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!(listener = %listener_name, "all connections closed"),
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!(listener = %listener_name, "drain timed out"),
    }
}

/// One accepted connection.
struct Connection<H> {
    builder: ConnBuilder<TokioExecutor>,
    config: ListenerConfig,
    handler: H,
    watcher: Watcher,
    peer: SocketAddr,
}

impl<H: Handler> Connection<H> {
    async fn run(self, stream: TcpStream) {
        let Some(tls) = self.config.tls.clone() else {
            self.serve(stream, false).await;
            return;
        };
        let mut first = [0_u8; 1];
        let is_tls =
            match tokio::time::timeout(self.config.header_timeout, stream.peek(&mut first)).await {
                Ok(Ok(1)) => first[0] == TLS_HANDSHAKE,
                // Closed, failed or silent: nothing to serve.
                _ => return,
            };
        if is_tls {
            match tokio::time::timeout(self.config.header_timeout, tls.acceptor.accept(stream))
                .await
            {
                Ok(Ok(tls_stream)) => self.serve(tls_stream, true).await,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed");
                }
                Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
            }
        } else if self.config.require_https {
            self.refuse(stream).await;
        } else {
            self.serve(stream, false).await;
        }
    }

    async fn serve<I>(self, io: I, secure: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let conn = ConnInfo {
            peer: self.peer,
            secure,
        };
        let handler = self.handler;
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let response = handler.call(req, conn);
            async move { Ok::<_, Infallible>(response.await) }
        });
        let connection = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(io), service)
            .into_owned();
        if let Err(e) = self.watcher.watch(connection).await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }

    /// Answers every request of a plain connection with the handler's "HTTPS required" error,
    /// then closes it.
    async fn refuse(self, stream: TcpStream) {
        let handler = self.handler;
        let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
            let mut response = handler.https_required();
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = self
            .builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let _ = self.watcher.watch(connection).await;
    }
}
