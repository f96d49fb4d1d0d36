//! A small S3 client for load generation: HTTP/1.1 over hyper with a connection pool and
//! TCP_NODELAY, SigV4 header auth, path-style URLs, streamed bodies checked against the pattern.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, ETAG, HOST};
use http::{HeaderValue, Method, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::{BenchError, OpError};
use crate::pattern::{Pattern, PatternBody, Verifier};
use crate::phase::OpOutcome;
use crate::sign::Signer;
use crate::xml;

/// Largest listing or multipart answer read into memory.
const MAX_DOCUMENT_BYTES: usize = 16 << 20;
/// How much of an error body is kept for the report.
const ERROR_BODY_BYTES: usize = 1024;

/// What a request sends: nothing, a small buffer, or a streamed pattern range.
#[derive(Debug)]
pub enum RequestBody {
    /// No body.
    Empty,
    /// A small in-memory body (XML documents).
    Full(Option<Bytes>),
    /// Object bytes generated as they are sent.
    Pattern(PatternBody),
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Empty => Poll::Ready(None),
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Self::Pattern(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Full(data) => data.is_none(),
            Self::Pattern(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Empty => SizeHint::with_exact(0),
            Self::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Self::Pattern(body) => body.size_hint(),
        }
    }
}

/// One page of a ListObjectsV2 answer.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// Object keys of the page, in the order returned.
    pub keys: Vec<String>,
    /// Common prefixes of the page, in the order returned.
    pub prefixes: Vec<String>,
    /// The continuation token of the next page, when the listing is truncated.
    pub next_token: Option<String>,
}

/// The parameters of one ListObjectsV2 request.
#[derive(Debug, Clone, Default)]
pub struct ListRequest<'a> {
    /// Only keys starting with this.
    pub prefix: &'a str,
    /// Fold keys at this delimiter into common prefixes.
    pub delimiter: Option<&'a str>,
    /// Continue after the previous page.
    pub continuation_token: Option<&'a str>,
    /// Page size.
    pub max_keys: u32,
}

/// One part of a multipart upload: which upload, which part, which bytes of the object.
#[derive(Debug, Clone, Copy)]
pub struct PartUpload<'a> {
    /// The upload.
    pub upload_id: &'a str,
    /// Part number, from 1.
    pub part_number: u32,
    /// Offset of the part in the object.
    pub offset: u64,
    /// Length of the part.
    pub length: u64,
}

/// An S3 client bound to one endpoint and one key pair.
#[derive(Debug, Clone)]
pub struct S3Client {
    http: Client<HttpConnector, RequestBody>,
    base: String,
    host: HeaderValue,
    signer: Signer,
}

impl S3Client {
    /// A client for `endpoint` (`http://host:port`), signing with the key pair in `region`.
    pub fn new(
        endpoint: &str,
        access_key: &str,
        secret_key: &str,
        region: &str,
    ) -> Result<Self, BenchError> {
        let bad = |reason: &str| BenchError::Endpoint {
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = endpoint.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("only http:// endpoints are supported"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| bad("bad host"))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        Ok(Self {
            http,
            base: format!("http://{authority}"),
            host,
            signer: Signer::new(access_key, secret_key, region),
        })
    }

    /// Sends a signed request; a non-2xx answer becomes `OpError::Status` with its body.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: RequestBody,
    ) -> Result<Response<Incoming>, OpError> {
        let length = body.size_hint().exact().unwrap_or(0);
        let sends_body = matches!(method, Method::PUT | Method::POST);
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path_and_query))
            .body(body)
            .map_err(|e| OpError::Transport(format!("building the request: {e}")))?;
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        if sends_body {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        self.signer.sign(&mut request)?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| OpError::Transport(error_chain(&e)))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            let status = response.status().as_u16();
            let body = read_prefix(response.into_body(), ERROR_BODY_BYTES).await;
            Err(OpError::Status { status, body })
        }
    }

    /// Creates a bucket (region us-east-1, so no location constraint).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), OpError> {
        let response = self
            .send(Method::PUT, &format!("/{bucket}"), RequestBody::Empty)
            .await?;
        read_document(response).await.map(drop)
    }

    /// Uploads `length` bytes of `pattern` as `bucket/key`.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        pattern: Pattern,
        length: u64,
    ) -> Result<OpOutcome, OpError> {
        let body = RequestBody::Pattern(pattern.body(0, length));
        let response = self
            .send(Method::PUT, &object_path(bucket, key), body)
            .await?;
        read_document(response).await?;
        Ok(OpOutcome::transferred(length))
    }

    /// Downloads `bucket/key` and checks every byte against `pattern` and the length.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        pattern: Pattern,
        length: u64,
    ) -> Result<OpOutcome, OpError> {
        let response = self
            .send(Method::GET, &object_path(bucket, key), RequestBody::Empty)
            .await?;
        let mut body = response.into_body();
        let mut verifier = Verifier::new(pattern, length);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| OpError::Transport(error_chain(&e)))?;
            if let Ok(data) = frame.into_data() {
                verifier
                    .feed(&data)
                    .map_err(|e| OpError::WrongBytes(format!("{bucket}/{key}: {e}")))?;
            }
        }
        let verified = verifier
            .finish()
            .map_err(|e| OpError::WrongBytes(format!("{bucket}/{key}: {e}")))?;
        Ok(OpOutcome {
            bytes: verified,
            verified,
        })
    }

    /// HEADs `bucket/key` and checks its Content-Length.
    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        length: u64,
    ) -> Result<OpOutcome, OpError> {
        let response = self
            .send(Method::HEAD, &object_path(bucket, key), RequestBody::Empty)
            .await?;
        let reported = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if reported == Some(length) {
            Ok(OpOutcome::default())
        } else {
            Err(OpError::WrongBytes(format!(
                "{bucket}/{key}: HEAD Content-Length {reported:?}, expected {length}"
            )))
        }
    }

    /// Deletes `bucket/key`.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<OpOutcome, OpError> {
        let response = self
            .send(
                Method::DELETE,
                &object_path(bucket, key),
                RequestBody::Empty,
            )
            .await?;
        read_document(response).await?;
        Ok(OpOutcome::default())
    }

    /// One ListObjectsV2 page.
    pub async fn list_objects_v2(
        &self,
        bucket: &str,
        list: &ListRequest<'_>,
    ) -> Result<ListPage, OpError> {
        let mut query = format!(
            "list-type=2&max-keys={}&prefix={}",
            list.max_keys,
            encode(list.prefix, false)
        );
        if let Some(delimiter) = list.delimiter {
            let _ = write!(query, "&delimiter={}", encode(delimiter, false));
        }
        if let Some(token) = list.continuation_token {
            let _ = write!(query, "&continuation-token={}", encode(token, false));
        }
        let response = self
            .send(
                Method::GET,
                &format!("/{bucket}?{query}"),
                RequestBody::Empty,
            )
            .await?;
        let document = read_document(response).await?;
        let keys = xml::elements(&document, "Contents")
            .into_iter()
            .filter_map(|c| xml::first(c, "Key"))
            .collect();
        let prefixes = xml::elements(&document, "CommonPrefixes")
            .into_iter()
            .filter_map(|c| xml::first(c, "Prefix"))
            .collect();
        let truncated = xml::first(&document, "IsTruncated").as_deref() == Some("true");
        let next_token = xml::first(&document, "NextContinuationToken");
        if truncated && next_token.is_none() {
            return Err(OpError::BadResponse(
                "truncated listing without NextContinuationToken".into(),
            ));
        }
        Ok(ListPage {
            keys,
            prefixes,
            next_token: next_token.filter(|_| truncated),
        })
    }

    /// Starts a multipart upload and returns its upload id.
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<String, OpError> {
        let path = format!("{}?uploads", object_path(bucket, key));
        let response = self.send(Method::POST, &path, RequestBody::Empty).await?;
        let document = read_document(response).await?;
        xml::first(&document, "UploadId")
            .ok_or_else(|| OpError::BadResponse(format!("no UploadId in {document:.200}")))
    }

    /// Uploads one part (bytes of `pattern`); returns the part's ETag.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        part: &PartUpload<'_>,
        pattern: Pattern,
    ) -> Result<String, OpError> {
        let part_number = part.part_number;
        let path = format!(
            "{}?partNumber={part_number}&uploadId={}",
            object_path(bucket, key),
            encode(part.upload_id, false)
        );
        let body = RequestBody::Pattern(pattern.body(part.offset, part.length));
        let response = self.send(Method::PUT, &path, body).await?;
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| OpError::BadResponse(format!("part {part_number}: no ETag")))?;
        read_document(response).await?;
        Ok(etag)
    }

    /// Completes a multipart upload from `(part number, ETag)` pairs in order.
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<(), OpError> {
        let mut document = String::from("<CompleteMultipartUpload>");
        for (part_number, etag) in parts {
            let _ = write!(
                document,
                "<Part><PartNumber>{part_number}</PartNumber><ETag>{etag}</ETag></Part>"
            );
        }
        document.push_str("</CompleteMultipartUpload>");
        let path = format!(
            "{}?uploadId={}",
            object_path(bucket, key),
            encode(upload_id, false)
        );
        let body = RequestBody::Full(Some(Bytes::from(document)));
        let response = self.send(Method::POST, &path, body).await?;
        let answer = read_document(response).await?;
        // S3 may report a failed completion inside a 200.
        if answer.contains("<CompleteMultipartUploadResult") {
            Ok(())
        } else {
            Err(OpError::Status {
                status: 200,
                body: answer.chars().take(ERROR_BODY_BYTES).collect(),
            })
        }
    }
}

/// `/{bucket}/{key}` with the key percent-encoded (slashes kept).
fn object_path(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", encode(key, true))
}

/// Percent-encodes all but RFC 3986 unreserved characters (and `/` when `keep_slash`).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Reads a whole (bounded) answer document as text.
async fn read_document(response: Response<Incoming>) -> Result<String, OpError> {
    let collected = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map_err(|e| OpError::Transport(format!("reading the answer: {e}")))?;
    String::from_utf8(collected.to_bytes().to_vec())
        .map_err(|_| OpError::BadResponse("answer is not UTF-8".into()))
}

/// The first `limit` bytes of a body as text (for error reports); the rest is dropped.
async fn read_prefix(mut body: Incoming, limit: usize) -> String {
    let mut kept = BytesMut::new();
    while kept.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    kept.extend_from_slice(&data[..data.len().min(limit - kept.len())]);
                }
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// An error and its sources on one line (hyper's top-level messages are terse).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_keys_and_query_values() {
        assert_eq!(object_path("b", "a0/b 1/c+"), "/b/a0/b%201/c%2B");
        assert_eq!(encode("a/b=", false), "a%2Fb%3D");
    }
}
