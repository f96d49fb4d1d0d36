//! The HTTP client of `coffer admin`: JSON requests to the management API with the API key,
//! over plain HTTP or TLS (the system's roots plus an optional CA file).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The API answered with an error.
    #[error("{code}: {message} (HTTP {status}, request id {request_id})")]
    Api {
        /// HTTP status.
        status: u16,
        /// Error code.
        code: String,
        /// Explanation.
        message: String,
        /// Request id.
        request_id: String,
    },
    /// The request could not be made or the answer not read.
    #[error("{0}")]
    Transport(String),
    /// The command line is not usable.
    #[error("{0}")]
    Usage(String),
}

/// A management API client.
pub struct ApiClient {
    endpoint: String,
    api_key: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

fn tls_config(ca_cert: Option<&Path>) -> Result<rustls::ClientConfig, CliError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system root rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_cert {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?
            .collect::<Result<_, _>>()
            .map_err(|e| {
                CliError::Usage(format!("invalid certificate in {}: {e}", path.display()))
            })?;
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| CliError::Usage(format!("unusable CA in {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CliError::Transport(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl ApiClient {
    /// A client for `endpoint` (`http://127.0.0.1:9001`) authenticating with `api_key`.
    pub fn new(endpoint: &str, api_key: &str, ca_cert: Option<&Path>) -> Result<Self, CliError> {
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(CliError::Usage(format!(
                "the endpoint must start with http:// or https://, not {endpoint}"
            )));
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(ca_cert)?)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Sends `method path` with an optional JSON body; returns the JSON answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, CliError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.api_key),
            )
            .header(http::header::ACCEPT, "application/json");
        let payload = match body {
            Some(value) => {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
                Bytes::from(value.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|e| CliError::Usage(format!("invalid request: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| CliError::Transport(format!("cannot reach {}: {e}", self.endpoint)))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| CliError::Transport(format!("reading the answer: {e}")))?
            .to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
            CliError::Transport(format!(
                "the answer (HTTP {status}) is not JSON: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ))
        })?;
        if status.is_success() {
            return Ok(value);
        }
        let text = |field: &str| value[field].as_str().unwrap_or_default().to_owned();
        Err(CliError::Api {
            status: status.as_u16(),
            code: if value["code"].is_string() {
                text("code")
            } else {
                StatusCode::as_str(&status).to_owned()
            },
            message: text("message"),
            request_id: text("request_id"),
        })
    }
}
