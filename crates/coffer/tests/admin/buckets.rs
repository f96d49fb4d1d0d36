//! Buckets, objects and multipart uploads through the management API.

use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;

use crate::harness::{ACCESS_KEY, SECRET_KEY, TestServer};

#[tokio::test]
async fn buckets_objects_and_uploads() {
    let server = TestServer::start();
    let op = server.operator();
    let root = op.get("/api/v1/accounts").await.expect(200)["accounts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let created = op
        .post(
            "/api/v1/buckets",
            json!({"name": "photos", "account_id": root}),
        )
        .await
        .expect(201);
    assert_eq!(created["region"], "us-east-1");
    assert_eq!(created["owner"], "root");
    assert_eq!(created["object_count"], 0);
    op.post(
        "/api/v1/buckets",
        json!({"name": "photos", "account_id": root}),
    )
    .await
    .expect_error(409, "BucketAlreadyExists");
    for (body, field) in [
        (json!({"name": "Bad_Name", "account_id": root}), "name"),
        (
            json!({"name": "other", "account_id": root, "region": "mars-1"}),
            "region",
        ),
        (json!({"name": "other"}), "account_id"),
    ] {
        let error = op
            .post("/api/v1/buckets", body)
            .await
            .expect_error(400, "ValidationError");
        assert_eq!(error["field"], field);
    }

    // Objects written over S3 show up with their details.
    let s3 = server.s3_client(ACCESS_KEY, SECRET_KEY);
    for (key, body) in [
        ("2024/a.jpg", "aaaa"),
        ("2024/b c.jpg", "bb"),
        ("top.txt", "t"),
    ] {
        s3.put_object()
            .bucket("photos")
            .key(key)
            .content_type("image/jpeg")
            .metadata("camera", "x100")
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
    let bucket = op.get("/api/v1/buckets/photos?limit=2").await.expect(200);
    assert_eq!(bucket["object_count"], 3);
    assert_eq!(bucket["total_size"], 7);
    assert_eq!(bucket["total_size_human"], "7 B");
    assert_eq!(bucket["objects"].as_array().unwrap().len(), 2);
    assert!(bucket["next_cursor"].is_string());

    let mut keys = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let page = op
            .get(&format!("/api/v1/buckets/photos/objects?limit=1{cursor}"))
            .await
            .expect(200);
        keys.extend(
            page["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["key"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(keys, ["2024/a.jpg", "2024/b c.jpg", "top.txt"]);
    let folded = op
        .get("/api/v1/buckets/photos/objects?delimiter=/")
        .await
        .expect(200);
    assert_eq!(folded["common_prefixes"], json!(["2024/"]));
    assert_eq!(folded["objects"][0]["key"], "top.txt");
    let prefixed = op
        .get("/api/v1/buckets/photos/objects?prefix=2024/&marker=2024/a.jpg")
        .await
        .expect(200);
    assert_eq!(prefixed["objects"][0]["key"], "2024/b c.jpg");
    op.get("/api/v1/buckets/photos/objects?cursor=!!")
        .await
        .expect_error(400, "ValidationError");

    let object = op
        .get("/api/v1/buckets/photos/objects/2024/b%20c.jpg")
        .await
        .expect(200);
    assert_eq!(object["size"], 2);
    assert_eq!(object["content_type"], "image/jpeg");
    assert_eq!(object["metadata"]["camera"], "x100");
    assert_eq!(object["is_multipart"], false);
    assert_eq!(object["part_count"], 0);
    let same = op
        .get("/api/v1/buckets/photos/objects/2024%2Fb%20c.jpg")
        .await
        .expect(200);
    assert_eq!(same["etag"], object["etag"]);
    op.get("/api/v1/buckets/photos/objects/missing")
        .await
        .expect_error(404, "NoSuchKey");
    op.get("/api/v1/buckets/nope/objects")
        .await
        .expect_error(404, "NoSuchBucket");

    // A multipart upload in progress: listed with its parts, then aborted.
    let upload = s3
        .create_multipart_upload()
        .bucket("photos")
        .key("big.bin")
        .content_type("application/zip")
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap().to_owned();
    s3.upload_part()
        .bucket("photos")
        .key("big.bin")
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from(vec![7_u8; 1000]))
        .send()
        .await
        .unwrap();
    let uploads = op.get("/api/v1/buckets/photos/uploads").await.expect(200);
    assert_eq!(uploads["uploads"][0]["upload_id"], upload_id.as_str());
    assert_eq!(uploads["uploads"][0]["object_key"], "big.bin");
    assert_eq!(uploads["uploads"][0]["part_count"], 1);
    assert_eq!(uploads["uploads"][0]["total_size"], 1000);
    assert_eq!(uploads["uploads"][0]["content_type"], "application/zip");
    assert_eq!(
        op.get("/api/v1/stats").await.expect(200)["active_multipart_uploads"],
        1
    );
    op.delete(&format!("/api/v1/buckets/photos/uploads/{upload_id}"))
        .await
        .expect(200);
    op.delete(&format!("/api/v1/buckets/photos/uploads/{upload_id}"))
        .await
        .expect_error(404, "NoSuchUpload");
    assert_eq!(
        op.get("/api/v1/buckets/photos/uploads").await.expect(200)["uploads"],
        json!([])
    );

    // Deletes: one, many, then the bucket (refused while not empty, unless forced).
    op.delete("/api/v1/buckets/photos/objects/top.txt")
        .await
        .expect(200);
    op.delete("/api/v1/buckets/photos/objects/top.txt")
        .await
        .expect_error(404, "NoSuchKey");
    let result = op
        .post(
            "/api/v1/buckets/photos/delete-objects",
            json!({"keys": ["2024/a.jpg", "ghost"]}),
        )
        .await
        .expect(200);
    assert_eq!(result["deleted"], json!(["2024/a.jpg"]));
    assert_eq!(result["errors"][0]["key"], "ghost");
    assert_eq!(result["errors"][0]["code"], "NoSuchKey");
    let error = op
        .post("/api/v1/buckets/photos/delete-objects", json!({"keys": []}))
        .await
        .expect_error(400, "ValidationError");
    assert_eq!(error["field"], "keys");

    op.delete("/api/v1/buckets/photos")
        .await
        .expect_error(409, "BucketNotEmpty");
    op.delete("/api/v1/buckets/photos?force=yes")
        .await
        .expect_error(400, "ValidationError");
    op.delete("/api/v1/buckets/photos?force=true")
        .await
        .expect(200);
    op.get("/api/v1/buckets/photos")
        .await
        .expect_error(404, "NoSuchBucket");
    assert!(s3.head_bucket().bucket("photos").send().await.is_err());
    op.delete("/api/v1/buckets/photos")
        .await
        .expect_error(404, "NoSuchBucket");
}
