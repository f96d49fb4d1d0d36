//! The admin listener: the management API (`/api/...`), Prometheus metrics (`/metrics`) and
//! health probes (`/health/live`, `/health/ready`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use coffer_api_admin::rest::AdminApi;
use coffer_engine::Engine;
use http::{Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::listener::{ConnInfo, Handler};
use crate::metrics::{AccountSample, Metrics};

/// Serves the admin listener.
#[derive(Clone)]
pub struct AdminHandler {
    /// The management API.
    pub api: AdminApi,
    /// The engine (readiness, usage for metrics).
    pub engine: Engine,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &serde_json::json!({
            "code": code,
            "message": message,
            "request_id": coffer_core::id::new_request_id(),
        }),
    )
}

impl AdminHandler {
    async fn respond(self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let get = req.method() == Method::GET;
        match path.as_str() {
            "/api" | "/api/" => error(StatusCode::NOT_FOUND, "NotFound", "see /api/openapi.json"),
            p if p.starts_with("/api/") => {
                let response = self.api.handle(req).await;
                self.metrics.admin_request(response.status().as_u16());
                response
            }
            "/metrics" if get => self.metrics_response().await,
            "/health/live" if get => {
                json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
            }
            "/health/ready" if get => match self.engine.check_ready().await {
                Ok(()) => json_response(StatusCode::OK, &serde_json::json!({"status": "ready"})),
                Err(e) => {
                    tracing::warn!(error = %e, "readiness check failed");
                    json_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &serde_json::json!({
                            "status": "unavailable",
                            "message": "the metadata database or the data directory does not answer",
                        }),
                    )
                }
            },
            "/metrics" | "/health/live" | "/health/ready" => error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "only GET is allowed here",
            ),
            _ => error(StatusCode::NOT_FOUND, "NotFound", "no such endpoint"),
        }
    }

    async fn metrics_response(&self) -> Response<Full<Bytes>> {
        let accounts = match account_samples(&self.engine).await {
            Ok(a) => a,
            Err(e) => {
                // Request metrics are still worth serving when the database does not answer.
                tracing::warn!(error = %e, "metrics: account usage unavailable");
                Vec::new()
            }
        };
        let text = self
            .metrics
            .render(&accounts, self.api.presigned().active_count(None));
        let mut response = Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    }
}

/// Every account's usage, from the metadata usage counters (a query per 1,000 accounts plus
/// one for all usage, whatever the number of accounts).
async fn account_samples(engine: &Engine) -> Result<Vec<AccountSample>, coffer_meta::MetaError> {
    let meta = engine.meta();
    let usage: std::collections::HashMap<_, _> =
        meta.usage_by_account().await?.into_iter().collect();
    let mut samples = Vec::new();
    let mut after = String::new();
    loop {
        let page = meta.list_accounts(&after, 1000).await?;
        for account in &page {
            let usage = usage.get(&account.id).copied().unwrap_or_default();
            samples.push(AccountSample {
                id: account.id.to_string(),
                status: account.status.as_str(),
                bytes: usage.bytes,
                objects: usage.objects,
                quota_bytes: account.quota_bytes,
            });
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = last.id.to_string(),
            _ => break,
        }
    }
    Ok(samples)
}

impl Handler for AdminHandler {
    type Body = Full<Bytes>;

    fn call(
        &self,
        req: Request<Incoming>,
        _conn: ConnInfo,
    ) -> Pin<Box<dyn Future<Output = Response<Self::Body>> + Send>> {
        Box::pin(self.clone().respond(req))
    }

    fn https_required(&self) -> Response<Full<Bytes>> {
        error(
            StatusCode::BAD_REQUEST,
            "HttpsRequired",
            "HTTPS required: this listener accepts only TLS connections",
        )
    }
}
