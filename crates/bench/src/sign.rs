//! SigV4 header signing with the `aws-sigv4` crate. Bodies are sent as `UNSIGNED-PAYLOAD` so the
//! load generator spends no CPU hashing what it uploads.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4::SigningParams;

use crate::error::OpError;

/// Signs requests for one access key in one region, for the service `s3`.
#[derive(Debug, Clone)]
pub struct Signer {
    credentials: Credentials,
    region: String,
}

impl Signer {
    /// A signer for the key pair in `region`.
    pub fn new(access_key: &str, secret_key: &str, region: &str) -> Self {
        Self {
            credentials: Credentials::new(access_key, secret_key, None, None, "coffer-bench"),
            region: region.to_owned(),
        }
    }

    /// Adds `x-amz-date`, `x-amz-content-sha256: UNSIGNED-PAYLOAD` and `authorization` to the
    /// request. The request's URI must be absolute and its headers final.
    pub fn sign<B>(&self, request: &mut http::Request<B>) -> Result<(), OpError> {
        let identity = self.credentials.clone().into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| OpError::Transport(format!("signing parameters: {e}")))?
            .into();
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            uri,
            headers.into_iter(),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| OpError::Transport(format!("unsignable request: {e}")))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| OpError::Transport(format!("signing: {e}")))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_unsigned_payload_and_authorization() {
        let signer = Signer::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "us-east-1");
        let mut request = http::Request::builder()
            .method("PUT")
            .uri("http://127.0.0.1:9000/bucket/key")
            .header("host", "127.0.0.1:9000")
            .body(())
            .expect("request");
        signer.sign(&mut request).expect("signed");
        let headers = request.headers();
        assert_eq!(headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        let authorization = headers["authorization"].to_str().expect("ascii");
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
        assert!(authorization.contains("/us-east-1/s3/aws4_request"));
    }
}
