//! The OpenAPI 3.1 document of the management API, generated from the handlers' `#[utoipa::path]`
//! attributes and the request and response types, served at `/api/openapi.json`.

use std::sync::OnceLock;

use http::StatusCode;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::request::{ApiResponse, with_type};
use super::{accounts, api_keys, buckets, credentials, objects, presign, stats, uploads};

/// Declares the bearer API key scheme the operations name.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An operator or account API key: `Authorization: Bearer coffer_...`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document's root.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coffer management API",
        description = "Accounts, credentials, buckets, objects, multipart uploads and presigned \
                       URLs of a Coffer deployment. Authenticate with `Authorization: Bearer <API \
                       key>`: operator keys reach every account, account keys their own. Errors \
                       are `{\"code\", \"message\", \"request_id\"}`; list endpoints take `limit` \
                       and `cursor` and return `next_cursor`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        stats::get_stats,
        credentials::list_credentials,
        credentials::create_credential,
        credentials::get_credential,
        credentials::update_credential,
        credentials::delete_credential,
        buckets::list_buckets,
        buckets::create_bucket,
        buckets::get_bucket,
        buckets::delete_bucket,
        objects::list_objects,
        objects::get_object,
        objects::delete_object,
        objects::delete_objects,
        uploads::list_uploads,
        uploads::abort_upload,
        presign::create_presigned,
        presign::list_presigned,
        accounts::list_accounts,
        accounts::create_account,
        accounts::get_account,
        accounts::update_account,
        accounts::change_state,
        accounts::mark_migration,
        api_keys::list_api_keys,
        api_keys::create_api_key,
        api_keys::delete_api_key,
    ),
    modifiers(&BearerKey),
    tags(
        (name = "stats", description = "Deployment statistics"),
        (name = "credentials", description = "S3 access keys"),
        (name = "buckets", description = "Buckets"),
        (name = "objects", description = "Objects in a bucket"),
        (name = "uploads", description = "Multipart uploads in progress"),
        (name = "presigned-urls", description = "Presigned S3 URLs"),
        (name = "accounts", description = "Tenants (operator keys)"),
        (name = "api-keys", description = "Management API keys"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
pub fn document_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}

/// `GET /api/openapi.json`.
pub fn document_response() -> ApiResponse {
    with_type(
        StatusCode::OK,
        document_json().as_bytes().to_vec(),
        "application/json",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_openapi_3_1_and_names_every_route() {
        let doc: serde_json::Value = serde_json::from_str(document_json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/api/v1/stats",
            "/api/v1/credentials",
            "/api/v1/credentials/{id}",
            "/api/v1/buckets/{bucket}/objects/{key}",
            "/api/v1/presigned-urls",
            "/api/v1/accounts/{id}/migration/{step}",
            "/api/v1/api-keys/{id}",
        ] {
            assert!(paths.contains_key(path), "{path} missing");
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    }
}
