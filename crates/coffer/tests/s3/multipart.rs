//! Multipart uploads: the whole flow, part copies, listings and every completion error.

use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};
use md5::Digest as _;

use crate::harness::{TestServer, bucket_name, error_of, payload};

const MIB: usize = 1024 * 1024;

fn completed(parts: &[(i32, String)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(n, etag)| CompletedPart::builder().part_number(*n).e_tag(etag).build())
                .collect(),
        ))
        .build()
}

#[tokio::test]
async fn upload_list_complete_and_read_parts() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("mp");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let created = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key("big")
        .content_type("video/mp4")
        .metadata("m", "1")
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_owned();

    let chunks = [
        payload(5 * MIB, 1),
        payload(5 * MIB + 3, 2),
        payload(1234, 3),
    ];
    let mut parts = Vec::new();
    let mut md5s = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let n = i as i32 + 1;
        let out = s3
            .upload_part()
            .bucket(&bucket)
            .key("big")
            .upload_id(&upload_id)
            .part_number(n)
            .body(chunk.clone().into())
            .send()
            .await
            .unwrap();
        let digest = md5::Md5::digest(chunk);
        assert_eq!(
            out.e_tag(),
            Some(format!("\"{}\"", hex::encode(digest)).as_str())
        );
        md5s.extend_from_slice(&digest);
        parts.push((n, out.e_tag().unwrap().to_owned()));
    }
    // Re-uploading a part replaces it.
    let again = s3
        .upload_part()
        .bucket(&bucket)
        .key("big")
        .upload_id(&upload_id)
        .part_number(3)
        .body(chunks[2].clone().into())
        .send()
        .await
        .unwrap();
    assert_eq!(again.e_tag(), Some(parts[2].1.as_str()));

    let listed = s3
        .list_parts()
        .bucket(&bucket)
        .key("big")
        .upload_id(&upload_id)
        .max_parts(2)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 2);
    assert_eq!(listed.is_truncated(), Some(true));
    assert_eq!(listed.next_part_number_marker(), Some("2"));
    let rest = s3
        .list_parts()
        .bucket(&bucket)
        .key("big")
        .upload_id(&upload_id)
        .part_number_marker("2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        rest.parts()
            .iter()
            .map(|p| (p.part_number(), p.size()))
            .collect::<Vec<_>>(),
        [(Some(3), Some(1234))]
    );
    assert_eq!(rest.is_truncated(), Some(false));

    let uploads = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        uploads
            .uploads()
            .iter()
            .filter_map(|u| u.upload_id())
            .collect::<Vec<_>>(),
        [upload_id.as_str()]
    );

    let done = s3
        .complete_multipart_upload()
        .bucket(&bucket)
        .key("big")
        .upload_id(&upload_id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap();
    let expected_etag = format!("\"{}-3\"", hex::encode(md5::Md5::digest(&md5s)));
    assert_eq!(done.e_tag(), Some(expected_etag.as_str()));

    let all: Vec<u8> = chunks.concat();
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("video/mp4"));
    assert_eq!(
        got.metadata().unwrap().get("m").map(String::as_str),
        Some("1")
    );
    assert_eq!(got.e_tag(), Some(expected_etag.as_str()));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &all[..]
    );

    // A range across the part boundary.
    let from = 5 * MIB - 10;
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("big")
        .range(format!("bytes={from}-{}", from + 19))
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &all[from..from + 20]
    );

    // partNumber reads one part.
    let part2 = s3
        .get_object()
        .bucket(&bucket)
        .key("big")
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(part2.parts_count(), Some(3));
    assert_eq!(
        part2.content_range(),
        Some(format!("bytes {}-{}/{}", 5 * MIB, 10 * MIB + 2, all.len()).as_str())
    );
    assert_eq!(
        part2.body.collect().await.unwrap().into_bytes().as_ref(),
        &chunks[1][..]
    );
    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("big")
        .part_number(4)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).1, 416);

    let uploads = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "completed uploads are gone");
    let err = s3
        .upload_part()
        .bucket(&bucket)
        .key("big")
        .upload_id(&upload_id)
        .part_number(1)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NoSuchUpload".into(), 404));
}

#[tokio::test]
async fn completion_errors() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("mperr");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let upload_id = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let small = s3
        .upload_part()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .part_number(1)
        .body(payload(1000, 1).into())
        .send()
        .await
        .unwrap();
    let last = s3
        .upload_part()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .part_number(2)
        .body(payload(1000, 2).into())
        .send()
        .await
        .unwrap();
    let e1 = small.e_tag().unwrap().to_owned();
    let e2 = last.e_tag().unwrap().to_owned();

    let complete = |parts: Vec<(i32, String)>| {
        s3.complete_multipart_upload()
            .bucket(&bucket)
            .key("k")
            .upload_id(&upload_id)
            .multipart_upload(completed(&parts))
            .send()
    };
    let err = complete(vec![(1, e1.clone()), (2, e2.clone())])
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("EntityTooSmall".into(), 400));
    let err = complete(vec![(2, e2.clone()), (1, e1.clone())])
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("InvalidPartOrder".into(), 400));
    let err = complete(vec![(1, "\"00000000000000000000000000000000\"".into())])
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("InvalidPart".into(), 400));
    let err = complete(vec![(7, e1.clone())]).await.unwrap_err();
    assert_eq!(error_of(&err), ("InvalidPart".into(), 400));
    let err = s3
        .complete_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("MalformedXML".into(), 400));
    let err = s3
        .upload_part()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .part_number(10_001)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("InvalidArgument".into(), 400));

    // An empty part is a valid last part.
    let empty = s3
        .upload_part()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .part_number(3)
        .body(Vec::new().into())
        .send()
        .await
        .unwrap();
    assert_eq!(empty.e_tag(), Some("\"d41d8cd98f00b204e9800998ecf8427e\""));
    // A single small part is a valid (last) part.
    complete(vec![(2, e2)]).await.unwrap();
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &payload(1000, 2)[..]
    );
}

#[tokio::test]
async fn abort_then_no_such_upload() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("abort");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let upload_id = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    s3.upload_part()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .part_number(1)
        .body(payload(100, 1).into())
        .send()
        .await
        .unwrap();
    s3.abort_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    let err = s3
        .abort_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NoSuchUpload".into(), 404));
    let err = s3
        .list_parts()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NoSuchUpload".into(), 404));
    let err = s3
        .list_parts()
        .bucket(&bucket)
        .key("other")
        .upload_id("0123")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NoSuchUpload".into(), 404));
    // With the upload gone the bucket is empty again.
    s3.delete_bucket().bucket(&bucket).send().await.unwrap();
}

#[tokio::test]
async fn upload_part_copy_with_ranges() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("upc");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let source = payload(6 * MIB + 500, 5);
    s3.put_object()
        .bucket(&bucket)
        .key("src")
        .body(source.clone().into())
        .send()
        .await
        .unwrap();
    let upload_id = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key("dst")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let p1 = s3
        .upload_part_copy()
        .bucket(&bucket)
        .key("dst")
        .upload_id(&upload_id)
        .part_number(1)
        .copy_source(format!("{bucket}/src"))
        .copy_source_range(format!("bytes=0-{}", 5 * MIB - 1))
        .send()
        .await
        .unwrap();
    let p2 = s3
        .upload_part_copy()
        .bucket(&bucket)
        .key("dst")
        .upload_id(&upload_id)
        .part_number(2)
        .copy_source(format!("{bucket}/src"))
        .copy_source_range(format!("bytes={}-{}", 5 * MIB, source.len() - 1))
        .send()
        .await
        .unwrap();
    let err = s3
        .upload_part_copy()
        .bucket(&bucket)
        .key("dst")
        .upload_id(&upload_id)
        .part_number(3)
        .copy_source(format!("{bucket}/src"))
        .copy_source_range(format!("bytes=0-{}", source.len()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err).1, 400);
    let parts = vec![
        (
            1,
            p1.copy_part_result().unwrap().e_tag().unwrap().to_owned(),
        ),
        (
            2,
            p2.copy_part_result().unwrap().e_tag().unwrap().to_owned(),
        ),
    ];
    s3.complete_multipart_upload()
        .bucket(&bucket)
        .key("dst")
        .upload_id(&upload_id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &source[..]
    );
}

#[tokio::test]
async fn multipart_checksums_are_composite() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("mpck");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let upload_id = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let mut parts = Vec::new();
    for n in 1..=2 {
        let out = s3
            .upload_part()
            .bucket(&bucket)
            .key("k")
            .upload_id(&upload_id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .body(payload(5 * MIB, n as u64).into())
            .send()
            .await
            .unwrap();
        assert!(out.checksum_crc32_c().is_some());
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .checksum_crc32_c(out.checksum_crc32_c().unwrap())
                .build(),
        );
    }
    let done = s3
        .complete_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let value = done.checksum_crc32_c().unwrap().to_owned();
    assert!(value.ends_with("-2"), "{value}");
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32_c(), Some(value.as_str()));
}
