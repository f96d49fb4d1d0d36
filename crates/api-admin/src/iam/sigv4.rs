//! SigV4 verification for query-API requests (service `iam`), which the S3 protocol crate does
//! not accept. Header-signed requests only (the IAM clients sign headers): the canonical
//! request is rebuilt from what arrived and compared in constant time.

use std::fmt::Write as _;

use hmac::{KeyInit as _, Mac as _};
use http::{HeaderMap, Method, Uri};
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

/// Largest clock difference accepted, as for S3.
const MAX_SKEW_SECS: i64 = 15 * 60;

/// The parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Access key id.
    pub access_key: String,
    /// `YYYYMMDD` of the scope.
    pub date: String,
    /// Region of the scope.
    pub region: String,
    /// Service of the scope.
    pub service: String,
    /// Lower-cased signed header names, in order.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No or unparsable Authorization header.
    #[error("{0}")]
    Malformed(String),
    /// The request time is too far from the server's.
    #[error("Signature expired: the request time is too far from the server time")]
    Skewed,
    /// The signature does not match.
    #[error("The request signature we calculated does not match the signature you provided.")]
    Mismatch,
}

/// Parses the Authorization header; `None` when the request is not SigV4-signed.
pub fn parse_authorization(headers: &HeaderMap) -> Option<Result<Authorization, SignatureError>> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim();
    let malformed = |what: &str| SignatureError::Malformed(format!("Authorization header: {what}"));
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let Some((name, val)) = part.trim().split_once('=') else {
            return Some(Err(malformed("expected name=value parts")));
        };
        match name {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed = Some(val),
            "Signature" => signature = Some(val),
            _ => {}
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Some(Err(malformed(
            "Credential, SignedHeaders and Signature are required",
        )));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Some(Err(malformed("the Credential is mal-formed")));
    }
    Some(Ok(Authorization {
        access_key: scope[0].to_owned(),
        date: scope[1].to_owned(),
        region: scope[2].to_owned(),
        service: scope[3].to_owned(),
        signed_headers: signed.split(';').map(str::to_ascii_lowercase).collect(),
        signature: signature.to_ascii_lowercase(),
    }))
}

fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn canonical_query(uri: &Uri) -> String {
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (uri_encode(&k, true), uri_encode(&v, true)))
            .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this never falls back.
    let Ok(mut mac) = <hmac::Hmac<sha2::Sha256>>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Parses `YYYYMMDDTHHMMSSZ` into seconds since the epoch.
fn parse_amz_date(s: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Verifies the signature of a request with `secret`.
pub fn verify(
    auth: &Authorization,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
    now: i64,
) -> Result<(), SignatureError> {
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| SignatureError::Malformed("x-amz-date is required".into()))?;
    let at = parse_amz_date(amz_date)
        .ok_or_else(|| SignatureError::Malformed("x-amz-date is not YYYYMMDDTHHMMSSZ".into()))?;
    if (now - at).abs() > MAX_SKEW_SECS {
        return Err(SignatureError::Skewed);
    }
    if !amz_date.starts_with(&auth.date) {
        return Err(SignatureError::Mismatch);
    }
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(SignatureError::Mismatch);
        }
        let _ = writeln!(canonical_headers, "{name}:{}", values.join(","));
    }
    let payload_hash = match headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(declared) if declared != "UNSIGNED-PAYLOAD" => {
            let actual = hex::encode(sha2::Sha256::digest(body));
            if !declared.eq_ignore_ascii_case(&actual) {
                return Err(SignatureError::Mismatch);
            }
            actual
        }
        Some(_) => "UNSIGNED-PAYLOAD".to_owned(),
        None => hex::encode(sha2::Sha256::digest(body)),
    };
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.as_str(),
        uri_encode(uri.path(), false),
        canonical_query(uri),
        canonical_headers,
        auth.signed_headers.join(";"),
        payload_hash
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(sha2::Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    for part in [auth.region.as_str(), auth.service.as_str(), "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of AWS's SigV4 documentation ("GET ?Action=ListUsers", IAM, 2015-08-30).
    #[test]
    fn verifies_the_documented_example() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                .parse()
                .unwrap(),
        );
        let auth = parse_authorization(&headers).unwrap().unwrap();
        assert_eq!(auth.service, "iam");
        let uri: Uri = "/?Action=ListUsers&Version=2010-05-08".parse().unwrap();
        let now = parse_amz_date("20150830T123600Z").unwrap();
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        assert_eq!(
            verify(&auth, &Method::GET, &uri, &headers, b"", secret, now),
            Ok(())
        );
        assert_eq!(
            verify(&auth, &Method::GET, &uri, &headers, b"", "wrong", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&auth, &Method::GET, &uri, &headers, b"", secret, now + 3600),
            Err(SignatureError::Skewed)
        );
    }
}
