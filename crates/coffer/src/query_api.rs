//! Serves the IAM query API on the S3 listener: the bridge between the S3 HTTP layer (which
//! routes requests signed for `iam`) and the IAM handlers of `coffer-api-admin`.

use coffer_api_admin::iam::IamApi;
use coffer_api_s3::http::QueryApi;

/// The IAM API as a query API of the S3 listener.
pub struct IamQueryApi(pub IamApi);

impl QueryApi for IamQueryApi {
    fn service(&self) -> &'static str {
        "iam"
    }

    fn call(
        &self,
        request: http::Request<bytes::Bytes>,
        request_id: String,
    ) -> futures::future::BoxFuture<'static, http::Response<bytes::Bytes>> {
        let api = self.0.clone();
        Box::pin(async move { api.handle(request, &request_id).await })
    }
}
