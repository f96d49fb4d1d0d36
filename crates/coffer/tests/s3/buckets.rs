//! Bucket operations and their errors.

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::harness::{TestServer, bucket_name, error_of};

#[tokio::test]
async fn bucket_lifecycle_and_errors() {
    let server = TestServer::start();
    let s3 = server.client();
    let name = bucket_name("life");

    s3.create_bucket().bucket(&name).send().await.unwrap();
    let listed = s3.list_buckets().send().await.unwrap();
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [name.as_str()]);
    assert!(listed.buckets()[0].creation_date().is_some());
    assert!(
        listed
            .owner()
            .and_then(|o| o.id())
            .is_some_and(|id| id.len() == 15)
    );

    let head = s3.head_bucket().bucket(&name).send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let location = s3.get_bucket_location().bucket(&name).send().await.unwrap();
    assert_eq!(
        location
            .location_constraint()
            .map(aws_sdk_s3::types::BucketLocationConstraint::as_str)
            .unwrap_or_default(),
        "",
        "us-east-1 is the empty constraint"
    );

    let again = s3.create_bucket().bucket(&name).send().await.unwrap_err();
    assert_eq!(error_of(&again), ("BucketAlreadyOwnedByYou".into(), 409));

    s3.put_object()
        .bucket(&name)
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let not_empty = s3.delete_bucket().bucket(&name).send().await.unwrap_err();
    assert_eq!(error_of(&not_empty), ("BucketNotEmpty".into(), 409));
    s3.delete_object()
        .bucket(&name)
        .key("k")
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket(&name).send().await.unwrap();

    let gone = s3.head_bucket().bucket(&name).send().await.unwrap_err();
    assert_eq!(error_of(&gone).1, 404);
    let gone = s3.delete_bucket().bucket(&name).send().await.unwrap_err();
    assert_eq!(error_of(&gone), ("NoSuchBucket".into(), 404));
    let gone = s3.list_objects_v2().bucket(&name).send().await.unwrap_err();
    assert_eq!(error_of(&gone), ("NoSuchBucket".into(), 404));
}

#[tokio::test]
async fn invalid_bucket_names_are_refused() {
    let server = TestServer::start();
    let s3 = server.client();
    for bad in [
        "ab",
        "under_score",
        "-lead",
        "a..b",
        "192.168.1.1",
        "xn--punycode",
    ] {
        let err = s3.create_bucket().bucket(bad).send().await.unwrap_err();
        assert_eq!(error_of(&err), ("InvalidBucketName".into(), 400), "{bad}");
    }
}

#[tokio::test]
async fn location_constraint_must_match_the_region() {
    let server = TestServer::start();
    let s3 = server.client();
    let err = s3
        .create_bucket()
        .bucket(bucket_name("loc"))
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        ("IllegalLocationConstraintException".into(), 400)
    );
}
