//! Object operations: put/get/head/delete/copy, conditions, ranges, checksums, limits.

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, Delete, MetadataDirective, ObjectIdentifier, StorageClass,
};
use base64::Engine as _;
use md5::Digest as _;

use crate::harness::{TestServer, bucket_name, error_of, payload};

async fn new_bucket(s3: &aws_sdk_s3::Client, tag: &str) -> String {
    let name = bucket_name(tag);
    s3.create_bucket().bucket(&name).send().await.unwrap();
    name
}

async fn get_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test]
async fn put_get_head_round_trip_with_headers_and_metadata() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "rt").await;
    for (key, len) in [
        ("small.txt", 11usize),
        ("inline/edge", 64 * 1024),
        ("blob/large.bin", 3 * 1024 * 1024 + 17),
    ] {
        let data = payload(len, len as u64);
        let put = s3
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(data.clone()))
            .content_type("text/x-coffer")
            .cache_control("max-age=60")
            .content_disposition("attachment; filename=\"a.txt\"")
            .content_encoding("identity")
            .content_language("en")
            .expires(DateTime::from_secs(1_900_000_000))
            .metadata("colour", "blue")
            .metadata("Mixed-Case", "Value With Spaces")
            .send()
            .await
            .unwrap();
        let expected_etag = format!("\"{}\"", hex::encode(md5::Md5::digest(&data)));
        assert_eq!(put.e_tag(), Some(expected_etag.as_str()));
        assert_eq!(
            put.version_id(),
            None,
            "unversioned buckets return no version id"
        );

        let got = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(got.content_length(), Some(len as i64));
        assert_eq!(got.e_tag(), Some(expected_etag.as_str()));
        assert_eq!(got.content_type(), Some("text/x-coffer"));
        assert_eq!(got.cache_control(), Some("max-age=60"));
        assert_eq!(
            got.content_disposition(),
            Some("attachment; filename=\"a.txt\"")
        );
        assert_eq!(got.content_encoding(), Some("identity"));
        assert_eq!(got.content_language(), Some("en"));
        assert_eq!(got.expires_string(), Some("Sun, 17 Mar 2030 17:46:40 GMT"));
        let meta = got.metadata().unwrap();
        assert_eq!(meta.get("colour").map(String::as_str), Some("blue"));
        assert_eq!(
            meta.get("mixed-case").map(String::as_str),
            Some("Value With Spaces")
        );
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().as_ref(),
            &data[..]
        );

        let head = s3
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_length(), Some(len as i64));
        assert_eq!(head.e_tag(), Some(expected_etag.as_str()));
        assert!(head.last_modified().is_some());
    }
}

#[tokio::test]
async fn overwrite_replaces_and_delete_is_idempotent() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "ow").await;
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .body(payload(200_000, 1).into())
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .body(b"second".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &bucket, "k").await, b"second");

    s3.delete_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    let missing = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&missing), ("NoSuchKey".into(), 404));
    let missing = s3
        .head_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&missing).1, 404);
    // Deleting a key that does not exist succeeds (204).
    s3.delete_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    s3.delete_object()
        .bucket(&bucket)
        .key("never-existed")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn content_md5_and_storage_class_are_checked() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "md5").await;
    let body = b"checked body".to_vec();
    let good = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body));
    s3.put_object()
        .bucket(&bucket)
        .key("ok")
        .content_md5(good)
        .body(body.clone().into())
        .send()
        .await
        .unwrap();

    let wrong = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b"other"));
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("bad")
        .content_md5(wrong)
        .body(body.clone().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("BadDigest".into(), 400));
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("bad")
        .content_md5("not-base64!")
        .body(body.clone().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("InvalidDigest".into(), 400));
    let missing = s3
        .head_object()
        .bucket(&bucket)
        .key("bad")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&missing).1,
        404,
        "a rejected upload leaves nothing behind"
    );

    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("cold")
        .storage_class(StorageClass::Glacier)
        .body(body.clone().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("InvalidStorageClass".into(), 400));
    s3.put_object()
        .bucket(&bucket)
        .key("std")
        .storage_class(StorageClass::Standard)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn conditional_writes() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "cw").await;
    let first = s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .if_none_match("*")
        .body(b"one".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .if_none_match("*")
        .body(b"two".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("PreconditionFailed".into(), 412));
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .body(b"two".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("PreconditionFailed".into(), 412));
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .if_match(first.e_tag().unwrap())
        .body(b"three".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &bucket, "k").await, b"three");
}

#[tokio::test]
async fn ranges_and_read_conditions() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "rg").await;
    let data = payload(1000, 7);
    for key in ["inline", "blob"] {
        let body = if key == "blob" {
            payload(200_000, 7)
        } else {
            data.clone()
        };
        let put = s3
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
        let etag = put.e_tag().unwrap().to_owned();
        let size = body.len();
        for (range, from, to) in [
            ("bytes=0-9".to_owned(), 0, 9),
            ("bytes=10-".to_owned(), 10, size - 1),
            ("bytes=-5".to_owned(), size - 5, size - 1),
            (format!("bytes=990-{}", size + 50), 990, size - 1),
        ] {
            let got = s3
                .get_object()
                .bucket(&bucket)
                .key(key)
                .range(&range)
                .send()
                .await
                .unwrap();
            assert_eq!(
                got.content_range(),
                Some(format!("bytes {from}-{to}/{size}").as_str()),
                "{range}"
            );
            assert_eq!(got.content_length(), Some((to - from + 1) as i64));
            let bytes = got.body.collect().await.unwrap().into_bytes();
            assert_eq!(bytes.as_ref(), &body[from..=to], "{key} {range}");
        }
        let err = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .range(format!("bytes={size}-"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err), ("InvalidRange".into(), 416));

        let err = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .if_none_match(&etag)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err).1, 304);
        let err = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .if_match("\"deadbeef\"")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err), ("PreconditionFailed".into(), 412));
        let future = DateTime::from_secs(4_000_000_000);
        let past = DateTime::from_secs(1_000_000_000);
        let err = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .if_modified_since(future)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err).1, 304);
        let err = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .if_unmodified_since(past)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err), ("PreconditionFailed".into(), 412));
        let err = s3
            .head_object()
            .bucket(&bucket)
            .key(key)
            .if_none_match(&etag)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err).1, 304);
        // Conditions that hold.
        s3.get_object()
            .bucket(&bucket)
            .key(key)
            .if_match(&etag)
            .if_modified_since(past)
            .send()
            .await
            .unwrap();
        // If-Match holding overrides a failing If-Unmodified-Since (RFC 7232 order).
        s3.get_object()
            .bucket(&bucket)
            .key(key)
            .if_match(&etag)
            .if_unmodified_since(past)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn response_header_overrides() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "ov").await;
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .content_type("text/plain")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .response_content_type("application/json")
        .response_content_disposition("inline")
        .response_cache_control("no-cache")
        .response_content_language("fr")
        .response_content_encoding("identity")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    assert_eq!(got.content_disposition(), Some("inline"));
    assert_eq!(got.cache_control(), Some("no-cache"));
    assert_eq!(got.content_language(), Some("fr"));
    assert_eq!(got.content_encoding(), Some("identity"));
}

#[tokio::test]
async fn checksums_are_verified_stored_and_returned() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "ck").await;
    let data = payload(300_000, 3);
    for algorithm in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ] {
        let key = format!("obj-{}", algorithm.as_str());
        // The SDK computes the checksum and sends it (as a trailer over aws-chunked).
        let put = s3
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .body(data.clone().into())
            .send()
            .await
            .unwrap();
        let got = s3
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let (put_value, got_value) = match algorithm {
            ChecksumAlgorithm::Crc32 => (put.checksum_crc32(), got.checksum_crc32()),
            ChecksumAlgorithm::Crc32C => (put.checksum_crc32_c(), got.checksum_crc32_c()),
            ChecksumAlgorithm::Crc64Nvme => (put.checksum_crc64_nvme(), got.checksum_crc64_nvme()),
            ChecksumAlgorithm::Sha1 => (put.checksum_sha1(), got.checksum_sha1()),
            _ => (put.checksum_sha256(), got.checksum_sha256()),
        };
        assert!(put_value.is_some(), "{algorithm:?} returned on PUT");
        assert_eq!(put_value, got_value, "{algorithm:?}");
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().as_ref(),
            &data[..]
        );
    }
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2_of(&data));
    let got = s3
        .head_object()
        .bucket(&bucket)
        .key("obj-SHA256")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.checksum_sha256(),
        Some(sha.as_str()),
        "SHA-256 matches an independent digest"
    );

    // A declared value that does not match the bytes is refused.
    let wrong = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("bad")
        .checksum_sha256(wrong)
        .body(data.clone().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("BadDigest".into(), 400));
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("bad")
        .checksum_crc32("AAAAAA==")
        .body(data.into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("BadDigest".into(), 400));
}

fn sha2_of(data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).to_vec()
}

#[tokio::test]
async fn key_length_is_bounded() {
    let server = TestServer::start_with(&["--max-key-segment-bytes", "255"]);
    let s3 = server.client();
    let bucket = new_bucket(&s3, "kl").await;
    let longest = format!(
        "{}/{}/{}/{}/{}",
        "a".repeat(204),
        "b".repeat(204),
        "c".repeat(204),
        "d".repeat(204),
        "e".repeat(204)
    );
    assert_eq!(longest.len(), 1024);
    s3.put_object()
        .bucket(&bucket)
        .key(&longest)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key(format!("{longest}x"))
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("KeyTooLongError".into(), 400));
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key(format!("dir/{}", "s".repeat(256)))
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("KeyTooLongError".into(), 400));
    s3.put_object()
        .bucket(&bucket)
        .key("ünïcødé/ключ/キー 😀")
        .body(b"u".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &bucket, "ünïcødé/ключ/キー 😀").await, b"u");
}

#[tokio::test]
async fn delete_objects_quiet_and_verbose() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "do").await;
    for i in 0..5 {
        s3.put_object()
            .bucket(&bucket)
            .key(format!("k{i}"))
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let ids = |keys: &[&str]| {
        Delete::builder().set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
                .collect(),
        ))
    };
    let verbose = s3
        .delete_objects()
        .bucket(&bucket)
        .delete(ids(&["k0", "k1", "missing"]).build().unwrap())
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<_> = verbose.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort_unstable();
    assert_eq!(deleted, ["k0", "k1", "missing"]);
    assert!(verbose.errors().is_empty());
    let quiet = s3
        .delete_objects()
        .bucket(&bucket)
        .delete(ids(&["k2", "k3"]).quiet(true).build().unwrap())
        .send()
        .await
        .unwrap();
    assert!(quiet.deleted().is_empty());
    let left = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let left: Vec<_> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(left, ["k4"]);

    let too_many: Vec<String> = (0..1001).map(|i| format!("x{i}")).collect();
    let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let err = s3
        .delete_objects()
        .bucket(&bucket)
        .delete(ids(&refs).build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("MalformedXML".into(), 400));
}

#[tokio::test]
async fn copy_object_copy_and_replace() {
    let server = TestServer::start();
    let s3 = server.client();
    let src = new_bucket(&s3, "src").await;
    let dst = new_bucket(&s3, "dst").await;
    let data = payload(150_000, 9);
    let put = s3
        .put_object()
        .bucket(&src)
        .key("orig")
        .content_type("image/png")
        .metadata("a", "1")
        .body(data.clone().into())
        .send()
        .await
        .unwrap();

    let copied = s3
        .copy_object()
        .bucket(&dst)
        .key("copy")
        .copy_source(format!("{src}/orig"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        copied.copy_object_result().and_then(|r| r.e_tag()),
        put.e_tag()
    );
    let got = s3
        .get_object()
        .bucket(&dst)
        .key("copy")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("image/png"));
    assert_eq!(
        got.metadata().unwrap().get("a").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &data[..]
    );

    s3.copy_object()
        .bucket(&dst)
        .key("replaced")
        .copy_source(format!("{src}/orig"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/plain")
        .metadata("b", "2")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(&dst)
        .key("replaced")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/plain"));
    let meta = head.metadata().unwrap();
    assert_eq!(
        (meta.get("a"), meta.get("b").map(String::as_str)),
        (None, Some("2"))
    );

    let err = s3
        .copy_object()
        .bucket(&src)
        .key("orig")
        .copy_source(format!("{src}/orig"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("InvalidRequest".into(), 400));
    s3.copy_object()
        .bucket(&src)
        .key("orig")
        .copy_source(format!("{src}/orig"))
        .metadata_directive(MetadataDirective::Replace)
        .metadata("c", "3")
        .send()
        .await
        .unwrap();

    let err = s3
        .copy_object()
        .bucket(&dst)
        .key("x")
        .copy_source(format!("{src}/orig"))
        .copy_source_if_match("\"nope\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("PreconditionFailed".into(), 412));
    let err = s3
        .copy_object()
        .bucket(&dst)
        .key("x")
        .copy_source(format!("{src}/orig"))
        .copy_source_if_none_match(put.e_tag().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("PreconditionFailed".into(), 412));
    let err = s3
        .copy_object()
        .bucket(&dst)
        .key("x")
        .copy_source(format!("{src}/missing"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NoSuchKey".into(), 404));
    s3.copy_object()
        .bucket(&dst)
        .key("x")
        .copy_source(format!("{src}/orig"))
        .copy_source_if_match(put.e_tag().unwrap())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn version_id_null_addresses_the_unversioned_object() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "vn").await;
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .body(b"v".to_vec().into())
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"v"
    );
    s3.head_object()
        .bucket(&bucket)
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();

    let versions = s3
        .list_object_versions()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let v = &versions.versions()[0];
    assert_eq!(
        (v.key(), v.version_id(), v.is_latest()),
        (Some("k"), Some("null"), Some(true))
    );
    assert_eq!(versions.versions().len(), 1);
    assert!(versions.delete_markers().is_empty());

    s3.delete_object()
        .bucket(&bucket)
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();
    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NoSuchKey".into(), 404));
    s3.delete_bucket().bucket(&bucket).send().await.unwrap();
}

#[tokio::test]
async fn unsupported_write_headers_are_refused_not_ignored() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = new_bucket(&s3, "ns").await;
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NotImplemented".into(), 501));
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .tagging("a=b")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NotImplemented".into(), 501));
    let err = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NotImplemented".into(), 501));
}
