//! The HTTP face of the S3 listener: what happens around s3s for every request.
//!
//! Mints the request id (`x-amz-request-id`), refuses what s3s would accept but Coffer must
//! not (SigV2 unless enabled, credentials scoped to another region, presigned expiries outside
//! 1..=604800 s, browser POST uploads), completes every error document with Resource,
//! RequestId and HostId, and writes one access-log line per request.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use s3s::Body;
use s3s::service::S3Service;

use crate::context::RequestId;

/// Error documents larger than this are passed through untouched.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Longest presigned URL lifetime S3 allows.
const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// What the listener learns about one finished request (for metrics).
#[derive(Debug, Clone)]
pub struct RequestRecord<'a> {
    /// The S3 operation (`GetObject`, ...), or `unknown` when the request failed before one
    /// was determined (bad signature, malformed request).
    pub operation: &'a str,
    /// The response status.
    pub status: u16,
    /// Time to the response head.
    pub elapsed: std::time::Duration,
    /// Request body bytes announced by the client.
    pub bytes_in: u64,
    /// Response body bytes announced by the server.
    pub bytes_out: u64,
}

/// Receives a record of every request the S3 listener answers.
pub trait RequestObserver: Send + Sync + 'static {
    /// Called once per request, when its response head is ready.
    fn record(&self, record: &RequestRecord<'_>);
}

/// Where the access layer notes which operation a request is, for the records.
#[derive(Debug, Clone, Default)]
pub struct OperationSlot(std::sync::Arc<std::sync::Mutex<Option<&'static str>>>);

impl OperationSlot {
    /// Notes the operation.
    pub fn set(&self, operation: &'static str) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(operation);
        }
    }

    fn get(&self) -> &'static str {
        self.0.lock().ok().and_then(|s| *s).unwrap_or("unknown")
    }
}

/// A query API served on the S3 listener (IAM): requests whose credential scope names its
/// service are handed over with their body read.
pub trait QueryApi: Send + Sync + 'static {
    /// The service name of the credential scope (`iam`).
    fn service(&self) -> &'static str;
    /// Answers one request.
    fn call(
        &self,
        request: Request<Bytes>,
        request_id: String,
    ) -> futures::future::BoxFuture<'static, Response<Bytes>>;
}

/// Largest query-API request body.
const MAX_QUERY_BODY: usize = 1024 * 1024;

/// Wraps the s3s service with Coffer's request-level rules.
#[derive(Clone)]
pub struct S3HttpService {
    inner: S3Service,
    region: String,
    accept_sigv2: bool,
    host_id: String,
    observer: Option<std::sync::Arc<dyn RequestObserver>>,
    query_api: Option<std::sync::Arc<dyn QueryApi>>,
}

impl S3HttpService {
    /// Wraps `inner`; `region` is the only credential-scope region accepted.
    pub fn new(inner: S3Service, region: String, accept_sigv2: bool, host_id: String) -> Self {
        Self {
            inner,
            region,
            accept_sigv2,
            host_id,
            observer: None,
            query_api: None,
        }
    }

    /// Serves `api` for requests signed for its service.
    #[must_use]
    pub fn with_query_api(mut self, api: std::sync::Arc<dyn QueryApi>) -> Self {
        self.query_api = Some(api);
        self
    }

    /// The query API a request is signed for, if any.
    fn query_api_for(&self, headers: &http::HeaderMap) -> Option<std::sync::Arc<dyn QueryApi>> {
        let api = self.query_api.as_ref()?;
        let authorization = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let scope = authorization.split("Credential=").nth(1)?;
        let service = scope.split([',', ' ']).next()?.split('/').nth(3)?;
        (service == api.service()).then(|| api.clone())
    }

    async fn call_query_api(
        api: std::sync::Arc<dyn QueryApi>,
        req: Request<Body>,
        request_id: String,
    ) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let limited = http_body_util::Limited::new(body, MAX_QUERY_BODY);
        let Ok(collected) = limited.collect().await else {
            let mut response = Response::new(Body::from(Bytes::from_static(
                b"request body too large or unreadable",
            )));
            *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return response;
        };
        let request = Request::from_parts(parts, collected.to_bytes());
        api.call(request, request_id).await.map(Body::from)
    }

    /// Reports every request to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: std::sync::Arc<dyn RequestObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Serves one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Result<Response<Body>, Infallible>
    where
        B: Into<Body>,
    {
        let started = Instant::now();
        let request_id = coffer_core::id::new_request_id();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let bytes_in = content_length(req.headers(), "x-amz-decoded-content-length")
            .or_else(|| content_length(req.headers(), "content-length"))
            .unwrap_or(0);
        let operation = OperationSlot::default();
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(RequestId(request_id.clone()));
        parts.extensions.insert(operation.clone());
        let req = Request::from_parts(parts, body.into());
        let query_api = self.query_api_for(req.headers());
        let response = if let Some(api) = query_api {
            operation.set(api.service());
            Self::call_query_api(api, req, request_id.clone()).await
        } else {
            match self.precheck(&req) {
                Err((status, code, message)) => {
                    error_response(status, code, &message, &path, &request_id, &self.host_id)
                }
                Ok(()) => match self.inner.call(req).await {
                    Ok(response) => {
                        self.complete_error(response, &path, &request_id, &method)
                            .await
                    }
                    Err(e) => {
                        tracing::error!(error = ?e, "s3 service failed");
                        error_response(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "InternalError",
                            "We encountered an internal error. Please try again.",
                            &path,
                            &request_id,
                            &self.host_id,
                        )
                    }
                },
            }
        };
        let mut response = response;
        if method == Method::HEAD
            && response.status() == StatusCode::OK
            && response.headers().contains_key(http::header::CONTENT_RANGE)
        {
            // s3s answers every successful HEAD with 200; a ranged or partNumber HEAD is 206.
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-amz-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.host_id) {
            response.headers_mut().insert("x-amz-id-2", v);
        }
        let elapsed = started.elapsed();
        tracing::info!(
            target: "coffer::access",
            request_id = %request_id,
            method = %method,
            path = %path,
            operation = operation.get(),
            status = response.status().as_u16(),
            elapsed_ms = elapsed.as_millis() as u64,
            "request"
        );
        if let Some(observer) = &self.observer {
            observer.record(&RequestRecord {
                operation: operation.get(),
                status: response.status().as_u16(),
                elapsed,
                bytes_in,
                bytes_out: content_length(response.headers(), "content-length").unwrap_or(0),
            });
        }
        Ok(response)
    }

    /// Rules checked before s3s sees the request.
    fn precheck(&self, req: &Request<Body>) -> Result<(), (StatusCode, &'static str, String)> {
        let headers = req.headers();
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let query = req.uri().query().unwrap_or_default();
        let params: Vec<(String, String)> = form_pairs(query);
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let sigv2 = authorization.starts_with("AWS ")
            || (param("Signature").is_some() && param("AWSAccessKeyId").is_some());
        if sigv2 && !self.accept_sigv2 {
            return Err((
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use \
                 AWS4-HMAC-SHA256 (configure your client for Signature Version 4, e.g. \
                 `aws configure set default.s3.signature_version s3v4`)."
                    .to_owned(),
            ));
        }
        if let Some(scope) = authorization
            .split("Credential=")
            .nth(1)
            .map(|rest| rest.split([',', ' ']).next().unwrap_or_default())
        {
            self.check_scope(scope, false)?;
        }
        if let Some(credential) = param("X-Amz-Credential") {
            self.check_scope(credential, true)?;
        }
        if let Some(expires) = param("X-Amz-Expires") {
            match expires.parse::<u64>() {
                Ok(n) if (1..=MAX_PRESIGNED_EXPIRES).contains(&n) => {}
                Ok(0) | Err(_) => {
                    return Err((
                        StatusCode::BAD_REQUEST,
                        "AuthorizationQueryParametersError",
                        "X-Amz-Expires must be a positive integer number of seconds".to_owned(),
                    ));
                }
                Ok(_) => {
                    return Err((
                        StatusCode::BAD_REQUEST,
                        "AuthorizationQueryParametersError",
                        "X-Amz-Expires must be less than a week (in seconds) that is 604800"
                            .to_owned(),
                    ));
                }
            }
        }
        let is_form_post = req.method() == Method::POST
            && headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
        if is_form_post {
            return Err((
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                "Browser-based POST uploads are not supported yet.".to_owned(),
            ));
        }
        Ok(())
    }

    /// `AK/date/region/service/aws4_request`: the region must be ours.
    fn check_scope(
        &self,
        credential: &str,
        presigned: bool,
    ) -> Result<(), (StatusCode, &'static str, String)> {
        let fields: Vec<&str> = credential.split('/').collect();
        let (code, context) = if presigned {
            (
                "AuthorizationQueryParametersError",
                "Error parsing the X-Amz-Credential parameter;",
            )
        } else {
            (
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed;",
            )
        };
        if fields.len() != 5 {
            return Err((
                StatusCode::BAD_REQUEST,
                code,
                format!(
                    "{context} the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
                ),
            ));
        }
        let region = fields[2];
        if fields[3] == "s3" && region != self.region {
            return Err((
                StatusCode::BAD_REQUEST,
                code,
                format!(
                    "{context} the region '{region}' is wrong; expecting '{}'",
                    self.region
                ),
            ));
        }
        Ok(())
    }

    /// Adds Resource, RequestId and HostId to an error document s3s produced.
    async fn complete_error(
        &self,
        response: Response<Body>,
        path: &str,
        request_id: &str,
        method: &Method,
    ) -> Response<Body> {
        let status = response.status();
        if status.as_u16() < 400 || *method == Method::HEAD {
            return response;
        }
        let small = http_body::Body::size_hint(response.body())
            .exact()
            .is_some_and(|n| n <= MAX_ERROR_BODY as u64);
        if !small {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        let Ok(collected) = body.collect().await else {
            return Response::from_parts(parts, Body::empty());
        };
        let bytes = collected.to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        let Some(end) = text.rfind("</Error>") else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let mut extra = String::new();
        if !text.contains("<Resource>") {
            let _ = write!(extra, "<Resource>{}</Resource>", xml_escape(path));
        }
        if !text.contains("<RequestId>") {
            let _ = write!(extra, "<RequestId>{}</RequestId>", xml_escape(request_id));
        }
        let _ = write!(extra, "<HostId>{}</HostId>", xml_escape(&self.host_id));
        let completed = format!("{}{}{}", &text[..end], extra, &text[end..]);
        parts.headers.insert(
            http::header::CONTENT_LENGTH,
            HeaderValue::from(completed.len()),
        );
        Response::from_parts(parts, Body::from(Bytes::from(completed)))
    }
}

fn content_length(headers: &http::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.parse().ok()
}

/// The `name=value` pairs of a query string, percent-decoded.
pub(crate) fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Percent-decodes a query value (`+` is a space); invalid escapes stay as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    decode(s, true)
}

/// Percent-decodes a path (`+` stays a plus).
pub(crate) fn percent_decode_path(s: &str) -> String {
    decode(s, false)
}

fn decode(s: &str, plus_is_space: bool) -> String {
    fn hex_value(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            )
        {
            out.push(hi * 16 + lo);
            i += 3;
            continue;
        }
        out.push(if plus_is_space && bytes[i] == b'+' {
            b' '
        } else {
            bytes[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A complete S3 error document.
fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    resource: &str,
    request_id: &str,
    host_id: &str,
) -> Response<Body> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
         <Resource>{}</Resource><RequestId>{}</RequestId><HostId>{}</HostId></Error>",
        xml_escape(code),
        xml_escape(message),
        xml_escape(resource),
        xml_escape(request_id),
        xml_escape(host_id)
    );
    let mut response = Response::new(Body::from(Bytes::from(xml)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// A request body that fails when no data arrives for `timeout` (slow or stalled clients).
pub struct IdleTimeoutBody<B> {
    inner: B,
    timeout: std::time::Duration,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<B> IdleTimeoutBody<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, timeout: std::time::Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl<B> http_body::Body for IdleTimeoutBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        let this = &mut *self;
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = tokio::time::Instant::now() + this.timeout;
                this.deadline.as_mut().reset(next);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err("request body stalled".into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query_values() {
        assert_eq!(
            form_pairs("X-Amz-Credential=AK%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&a"),
            vec![
                (
                    "X-Amz-Credential".to_owned(),
                    "AK/20250101/us-east-1/s3/aws4_request".to_owned()
                ),
                ("a".to_owned(), String::new())
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(
            percent_decode("%1é%zz%4"),
            "%1é%zz%4",
            "never slices inside a character"
        );
        assert_eq!(percent_decode("a+b%2Bc"), "a b+c");
    }
}
