//! aws-chunked signed streaming uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, with and without
//! a signed trailer), built by hand so every chunk signature is under the test's control.

use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};
use sha2::Digest as _;

use crate::harness::{SECRET_KEY, Signing, TestServer, bucket_name, payload};

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("hmac key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// CRC-32 (ISO-HDLC), bit by bit: small and independent of the server's implementation.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

struct Chunker {
    key: Vec<u8>,
    amz_date: String,
    scope: String,
    previous: String,
}

impl Chunker {
    fn new(amz_date: &str, seed: &str) -> Self {
        let day = &amz_date[..8];
        let mut key = hmac(format!("AWS4{SECRET_KEY}").as_bytes(), day.as_bytes());
        for part in ["us-east-1", "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        Self {
            key,
            amz_date: amz_date.to_owned(),
            scope: format!("{day}/us-east-1/s3/aws4_request"),
            previous: seed.to_owned(),
        }
    }

    fn chunk(&mut self, data: &[u8]) -> Vec<u8> {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            sha256_hex(data)
        );
        let signature = hex::encode(hmac(&self.key, to_sign.as_bytes()));
        self.previous.clone_from(&signature);
        let mut out = format!("{:x};chunk-signature={signature}\r\n", data.len()).into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The final empty chunk followed by a signed trailer.
    fn trailer(&mut self, name: &str, value: &str) -> Vec<u8> {
        let mut out = self.chunk(b"");
        out.truncate(out.len() - 2); // the trailer follows the last chunk header directly
        let canonical = format!("{name}:{value}\n");
        let to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            sha256_hex(canonical.as_bytes())
        );
        let signature = hex::encode(hmac(&self.key, to_sign.as_bytes()));
        out.extend_from_slice(
            format!("{name}:{value}\r\nx-amz-trailer-signature:{signature}\r\n\r\n").as_bytes(),
        );
        out
    }
}

/// Signs the request head for a streaming upload of `data` and builds its body with
/// `build(chunker, data)`.
async fn streaming_put(
    server: &TestServer,
    path: &str,
    data: &[u8],
    trailer: Option<&str>,
    build: impl FnOnce(&mut Chunker, &[u8]) -> Vec<u8>,
) -> crate::harness::Raw {
    let mode = if trailer.is_some() {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    } else {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    };
    let decoded = data.len().to_string();
    let mut headers = vec![
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded.as_str()),
    ];
    if let Some(name) = trailer {
        headers.push(("x-amz-trailer", name));
    }
    let (path, mut signed, seed) =
        server.sign("PUT", path, &headers, &[], Some(mode), &Signing::default());
    let amz_date = signed
        .iter()
        .find(|(k, _)| k == "x-amz-date")
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut chunker = Chunker::new(&amz_date, &seed);
    let body = build(&mut chunker, data);
    signed.push(("content-length".into(), body.len().to_string()));
    server.send("PUT", &path, &signed, body).await
}

#[tokio::test]
async fn signed_streaming_uploads_are_verified() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("stream");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let data = payload(200_000, 11);
    let chunks = |c: &mut Chunker, d: &[u8]| {
        let mut body = Vec::new();
        for piece in d.chunks(65_536) {
            body.extend(c.chunk(piece));
        }
        body.extend(c.chunk(b""));
        body
    };

    let ok = streaming_put(&server, &format!("/{bucket}/plain"), &data, None, chunks).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("plain")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.content_encoding(),
        None,
        "aws-chunked is not stored as the object's encoding"
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &data[..]
    );

    let crc = base64::engine::general_purpose::STANDARD.encode(crc32(&data).to_be_bytes());
    let with_trailer = |value: String| {
        move |c: &mut Chunker, d: &[u8]| {
            let mut body = Vec::new();
            for piece in d.chunks(65_536) {
                body.extend(c.chunk(piece));
            }
            body.extend(c.trailer("x-amz-checksum-crc32", &value));
            body
        }
    };
    let ok = streaming_put(
        &server,
        &format!("/{bucket}/trailer"),
        &data,
        Some("x-amz-checksum-crc32"),
        with_trailer(crc.clone()),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("trailer")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), Some(crc.as_str()));

    let wrong = base64::engine::general_purpose::STANDARD.encode(crc32(b"other").to_be_bytes());
    let bad = streaming_put(
        &server,
        &format!("/{bucket}/bad-trailer"),
        &data,
        Some("x-amz-checksum-crc32"),
        with_trailer(wrong),
    )
    .await;
    assert_eq!(
        (bad.status, bad.xml("Code").as_deref()),
        (400, Some("BadDigest")),
        "{}",
        bad.body
    );

    let tampered = streaming_put(
        &server,
        &format!("/{bucket}/tampered"),
        &data,
        None,
        |c, d| {
            let mut body = c.chunk(&d[..1000]);
            let mut second = c.chunk(&d[1000..]);
            let last = second.len() - 3;
            second[last] ^= 0x01; // flip a data bit after signing
            body.extend(second);
            body.extend(c.chunk(b""));
            body
        },
    )
    .await;
    assert_eq!(
        (tampered.status, tampered.xml("Code").as_deref()),
        (403, Some("SignatureDoesNotMatch")),
        "{}",
        tampered.body
    );

    let truncated = streaming_put(
        &server,
        &format!("/{bucket}/truncated"),
        &data,
        None,
        |c, d| c.chunk(&d[..1000]),
    )
    .await;
    assert_eq!(truncated.status, 400, "{}", truncated.body);

    for key in ["bad-trailer", "tampered", "truncated"] {
        let err = s3
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            crate::harness::error_of(&err).1,
            404,
            "{key} must not exist"
        );
    }
}
