//! The management REST API: JSON under `/api/v1`, authenticated with API keys
//! (`Authorization: Bearer <key>`), described by an OpenAPI 3.1 document at
//! `/api/openapi.json` that is generated from these handlers and types.
//!
//! Operator keys reach every account; account keys reach their own account and get 403 for
//! anything else. Every failure is `{"code","message","request_id"}` with its HTTP status.
//! Handlers call the engine and the metadata store; none touches SQL or files, except the key
//! store, which owns its own file.

pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod buckets;
pub mod credentials;
pub mod error;
pub mod key_store;
pub mod objects;
pub mod openapi;
pub mod presign;
pub mod request;
pub mod stats;
pub mod uploads;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use coffer_engine::Engine;
use http::{HeaderValue, Method, StatusCode};

pub use auth::Principal;
pub use error::{ApiError, ErrorBody};
pub use key_store::{ApiKeyRecord, ApiKeyStore, KeyStoreError};
pub use presign::PresignRegistry;
use request::{ApiResponse, Query};

/// Called after a change to access keys or accounts, so the S3 listener's caches forget them.
pub type ChangeHook = Arc<dyn Fn() + Send + Sync>;

/// What the management API needs to know about the deployment.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// The region the S3 listener answers for (buckets are created there, URLs signed for it).
    pub region: String,
    /// Base URL of the S3 listener as clients reach it (`http://127.0.0.1:9000`), for
    /// presigned URLs.
    pub s3_url: String,
}

/// The per-request context handlers receive.
#[derive(Debug)]
pub struct Ctx {
    /// The authenticated caller.
    pub principal: Principal,
    /// The request id.
    pub request_id: String,
    /// Query parameters.
    pub query: Query,
    /// The body (empty for GET and DELETE).
    pub body: Bytes,
}

/// The management API. Cheap to clone.
#[derive(Clone)]
pub struct AdminApi {
    inner: Arc<Inner>,
}

/// State shared by the handlers.
pub struct Inner {
    /// The storage engine.
    pub engine: Engine,
    /// API keys.
    pub keys: ApiKeyStore,
    /// Presigned URLs handed out.
    pub presigned: PresignRegistry,
    /// Deployment settings.
    pub settings: AdminSettings,
    on_change: Option<ChangeHook>,
}

impl Inner {
    /// Tells the S3 listener that keys or accounts changed.
    pub fn changed(&self) {
        if let Some(hook) = &self.on_change {
            hook();
        }
    }
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl AdminApi {
    /// The API over `engine`, authenticating with `keys`.
    pub fn new(engine: Engine, keys: ApiKeyStore, settings: AdminSettings) -> Self {
        Self::with_change_hook(engine, keys, settings, None)
    }

    /// [`AdminApi::new`], calling `on_change` after every change to keys or accounts.
    pub fn with_change_hook(
        engine: Engine,
        keys: ApiKeyStore,
        settings: AdminSettings,
        on_change: Option<ChangeHook>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                engine,
                keys,
                presigned: PresignRegistry::default(),
                settings,
                on_change,
            }),
        }
    }

    /// The presigned URLs handed out (for metrics).
    pub fn presigned(&self) -> &PresignRegistry {
        &self.inner.presigned
    }

    /// Answers one request whose path starts with `/api/`.
    pub async fn handle<B>(&self, req: http::Request<B>) -> ApiResponse
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let request_id = coffer_core::id::new_request_id();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let (result, key_id) = self.serve(req, &request_id).await;
        let mut response = match result {
            Ok(response) => response,
            Err(e) => {
                if let ApiError::Internal(detail) = &e {
                    tracing::error!(request_id = %request_id, error = %detail, "management request failed");
                }
                request::json(e.status(), &e.body(&request_id))
            }
        };
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", v.clone());
            // The same header name as the S3 listener, for tools that read one of them.
            response.headers_mut().insert("x-amz-request-id", v);
        }
        tracing::info!(
            target: "coffer::admin_access",
            request_id = %request_id,
            method = %method,
            path = %path,
            api_key = key_id.as_deref().unwrap_or("-"),
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request"
        );
        response
    }

    async fn serve<B>(
        &self,
        req: http::Request<B>,
        request_id: &str,
    ) -> (Result<ApiResponse, ApiError>, Option<String>)
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = req.uri().path().to_owned();
        if path == "/api/openapi.json" {
            return (
                if req.method() == Method::GET {
                    Ok(openapi::document_response())
                } else {
                    Err(ApiError::MethodNotAllowed(req.method().to_string()))
                },
                None,
            );
        }
        let Some(rest) = path.strip_prefix("/api/v1/") else {
            return (Err(ApiError::NoSuchRoute(path)), None);
        };
        let segments = match decode_segments(rest) {
            Ok(s) => s,
            Err(e) => return (Err(e), None),
        };
        let principal = match auth::authenticate(
            &self.inner.keys,
            req.headers().get(http::header::AUTHORIZATION),
        )
        .await
        {
            Ok(p) => p,
            Err(e) => return (Err(e), None),
        };
        let key_id = Some(principal.key_id().to_owned());
        let method = req.method().clone();
        // An account's own keys follow its state, as its S3 and IAM requests do: a suspended
        // account changes nothing, a migrating one writes nothing.
        if let Some(account) = principal.own_account()
            && !matches!(method, Method::GET | Method::HEAD)
        {
            match self.inner.engine.meta().get_account(account).await {
                Ok(a) if a.status == coffer_meta::AccountStatus::Suspended => {
                    return (
                        Err(ApiError::Conflict {
                            code: "AccountSuspended",
                            message: "the account is suspended".to_owned(),
                        }),
                        key_id,
                    );
                }
                Ok(a) if a.status == coffer_meta::AccountStatus::Migrating => {
                    return (
                        Err(ApiError::Conflict {
                            code: "MigrationInProgress",
                            message:
                                "the account is being migrated; changes wait until it completes"
                                    .to_owned(),
                        }),
                        key_id,
                    );
                }
                Ok(_) => {}
                Err(e) => return (Err(e.into()), key_id),
            }
        }
        let query = Query::parse(req.uri().query());
        let body = if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            match request::read_body(req.into_body()).await {
                Ok(b) => b,
                Err(e) => return (Err(e), key_id),
            }
        } else {
            Bytes::new()
        };
        let cx = Ctx {
            principal,
            request_id: request_id.to_owned(),
            query,
            body,
        };
        (self.route(&method, &segments, &cx).await, key_id)
    }

    async fn route(
        &self,
        method: &Method,
        segments: &[String],
        cx: &Ctx,
    ) -> Result<ApiResponse, ApiError> {
        let api = &*self.inner;
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let not_allowed = || Err(ApiError::MethodNotAllowed(method.to_string()));
        match segs.as_slice() {
            ["stats"] => match *method {
                Method::GET => stats::get_stats(api, cx).await,
                _ => not_allowed(),
            },
            ["credentials"] => match *method {
                Method::GET => credentials::list_credentials(api, cx).await,
                Method::POST => credentials::create_credential(api, cx).await,
                _ => not_allowed(),
            },
            ["credentials", id] => match *method {
                Method::GET => credentials::get_credential(api, cx, id).await,
                Method::PUT | Method::PATCH => credentials::update_credential(api, cx, id).await,
                Method::DELETE => credentials::delete_credential(api, cx, id).await,
                _ => not_allowed(),
            },
            ["buckets"] => match *method {
                Method::GET => buckets::list_buckets(api, cx).await,
                Method::POST => buckets::create_bucket(api, cx).await,
                _ => not_allowed(),
            },
            ["buckets", bucket] => match *method {
                Method::GET => buckets::get_bucket(api, cx, bucket).await,
                Method::DELETE => buckets::delete_bucket(api, cx, bucket).await,
                _ => not_allowed(),
            },
            ["buckets", bucket, "objects"] => match *method {
                Method::GET => objects::list_objects(api, cx, bucket).await,
                _ => not_allowed(),
            },
            ["buckets", bucket, "objects", key @ ..] if !key.is_empty() => {
                let key = key.join("/");
                match *method {
                    Method::GET => objects::get_object(api, cx, bucket, &key).await,
                    Method::DELETE => objects::delete_object(api, cx, bucket, &key).await,
                    _ => not_allowed(),
                }
            }
            ["buckets", bucket, "delete-objects"] => match *method {
                Method::POST => objects::delete_objects(api, cx, bucket).await,
                _ => not_allowed(),
            },
            ["buckets", bucket, "uploads"] => match *method {
                Method::GET => uploads::list_uploads(api, cx, bucket).await,
                _ => not_allowed(),
            },
            ["buckets", bucket, "uploads", upload_id] => match *method {
                Method::DELETE => uploads::abort_upload(api, cx, bucket, upload_id).await,
                _ => not_allowed(),
            },
            ["presigned-urls"] => match *method {
                Method::GET => presign::list_presigned(api, cx).await,
                Method::POST => presign::create_presigned(api, cx).await,
                _ => not_allowed(),
            },
            ["accounts"] => match *method {
                Method::GET => accounts::list_accounts(api, cx).await,
                Method::POST => accounts::create_account(api, cx).await,
                _ => not_allowed(),
            },
            ["accounts", id] => match *method {
                Method::GET => accounts::get_account(api, cx, id).await,
                Method::PUT | Method::PATCH => accounts::update_account(api, cx, id).await,
                _ => not_allowed(),
            },
            ["accounts", id, action @ ("suspend" | "resume")] => match *method {
                Method::POST => accounts::change_state(api, cx, id, action).await,
                _ => not_allowed(),
            },
            ["accounts", id, "migration", step @ ("start" | "done")] => match *method {
                Method::POST => accounts::mark_migration(api, cx, id, step).await,
                _ => not_allowed(),
            },
            ["api-keys"] => match *method {
                Method::GET => api_keys::list_api_keys(api, cx).await,
                Method::POST => api_keys::create_api_key(api, cx).await,
                _ => not_allowed(),
            },
            ["api-keys", id] => match *method {
                Method::DELETE => api_keys::delete_api_key(api, cx, id).await,
                _ => not_allowed(),
            },
            _ => Err(ApiError::NoSuchRoute(format!("/api/v1/{}", segs.join("/")))),
        }
    }
}

/// Splits a path on `/` and percent-decodes each segment (so `a%2Fb` and `a/b` both name the
/// object key `a/b`).
fn decode_segments(path: &str) -> Result<Vec<String>, ApiError> {
    path.split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map(std::borrow::Cow::into_owned)
                .map_err(|_| ApiError::field("path", "is not valid UTF-8 once percent-decoded"))
        })
        .collect()
}

/// `{"message": "..."}`: the answer of operations that return nothing else.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MessageBody {
    /// What happened.
    #[schema(example = "Operation completed successfully")]
    pub message: String,
}

/// The success answer without content.
pub fn done() -> ApiResponse {
    request::json(
        StatusCode::OK,
        &MessageBody {
            message: "Operation completed successfully".to_owned(),
        },
    )
}
