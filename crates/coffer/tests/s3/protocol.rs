//! Protocol behaviour: SigV4 forms and their errors, presigned URLs, SigV2 refusal, regions,
//! request ids and error documents, virtual-host addressing, unsupported operations.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;

use crate::harness::{Signing, TestServer, bucket_name};

async fn bucket_with_object(server: &TestServer, body: &[u8]) -> String {
    let s3 = server.client();
    let bucket = bucket_name("proto");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("obj")
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap();
    bucket
}

#[tokio::test]
async fn presigned_urls_work_and_expire() {
    let server = TestServer::start();
    let bucket = bucket_with_object(&server, b"presigned bytes").await;
    let s3 = server.client();
    let url = s3
        .get_object()
        .bucket(&bucket)
        .key("obj")
        .presigned(PresigningConfig::expires_in(Duration::from_mins(5)).unwrap())
        .await
        .unwrap();
    let response = reqwest::get(url.uri()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"presigned bytes");

    let put_url = s3
        .put_object()
        .bucket(&bucket)
        .key("uploaded")
        .presigned(PresigningConfig::expires_in(Duration::from_mins(5)).unwrap())
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .put(put_url.uri())
        .body("via presigned PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, body) = server.raw_get(&format!("/{bucket}/uploaded")).await;
    assert_eq!((status, body.as_str()), (200, "via presigned PUT"));

    let expired = server
        .raw(
            "GET",
            &format!("/{bucket}/obj"),
            &[],
            Vec::new(),
            Some(Signing {
                time: SystemTime::now() - Duration::from_hours(2),
                presign: Some(Duration::from_hours(1)),
                ..Signing::default()
            }),
        )
        .await;
    assert_eq!(expired.status, 403);
    assert_eq!(expired.xml("Code").as_deref(), Some("AccessDenied"));
    assert_eq!(
        expired.xml("Message").as_deref(),
        Some("Request has expired")
    );

    for (expires, status) in [(604_800, 200), (604_801, 400)] {
        let raw = server
            .raw(
                "GET",
                &format!("/{bucket}/obj"),
                &[],
                Vec::new(),
                Some(Signing {
                    presign: Some(Duration::from_secs(expires)),
                    ..Signing::default()
                }),
            )
            .await;
        assert_eq!(raw.status, status, "X-Amz-Expires={expires}: {}", raw.body);
        if status == 400 {
            assert_eq!(
                raw.xml("Code").as_deref(),
                Some("AuthorizationQueryParametersError")
            );
        }
    }
}

#[tokio::test]
async fn signature_errors() {
    let server = TestServer::start();
    let bucket = bucket_with_object(&server, b"x").await;
    let path = format!("/{bucket}/obj");
    let cases: Vec<(Signing, u16, &str)> = vec![
        (
            Signing {
                region: "eu-west-1".into(),
                ..Signing::default()
            },
            400,
            "AuthorizationHeaderMalformed",
        ),
        (
            Signing {
                time: SystemTime::now() - Duration::from_mins(20),
                ..Signing::default()
            },
            403,
            "RequestTimeTooSkewed",
        ),
        (
            Signing {
                key: (
                    crate::harness::ACCESS_KEY.into(),
                    "wrong-secret-wrong-secret".into(),
                ),
                ..Signing::default()
            },
            403,
            "SignatureDoesNotMatch",
        ),
        (
            Signing {
                key: ("AKIANOSUCHKEY0000000".into(), "whatever-secret".into()),
                ..Signing::default()
            },
            403,
            "InvalidAccessKeyId",
        ),
    ];
    for (signing, status, code) in cases {
        let raw = server
            .raw("GET", &path, &[], Vec::new(), Some(signing))
            .await;
        assert_eq!(
            (raw.status, raw.xml("Code").as_deref()),
            (status, Some(code)),
            "{}",
            raw.body
        );
    }
    let raw = server
        .raw("GET", &path, &[], Vec::new(), Some(Signing::default()))
        .await;
    assert_eq!(raw.status, 200);
}

#[tokio::test]
async fn sigv2_is_refused_unless_enabled() {
    let server = TestServer::start();
    let bucket = bucket_with_object(&server, b"x").await;
    let date = "Tue, 24 Nov 2026 09:00:00 GMT";
    let header = format!("AWS {}:c2lnbmF0dXJl", crate::harness::ACCESS_KEY);
    let raw = server
        .raw(
            "GET",
            &format!("/{bucket}/obj"),
            &[("authorization", &header), ("date", date)],
            Vec::new(),
            None,
        )
        .await;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.xml("Code").as_deref(), Some("InvalidRequest"));
    assert!(
        raw.xml("Message").unwrap().contains("AWS4-HMAC-SHA256"),
        "{}",
        raw.body
    );
    let raw = server
        .raw(
            "GET",
            &format!("/{bucket}/obj?AWSAccessKeyId=AKIA&Expires=1999999999&Signature=abc"),
            &[],
            Vec::new(),
            None,
        )
        .await;
    assert_eq!(raw.status, 400);

    let legacy = TestServer::start_with(&["--accept-sigv2", "true"]);
    let bucket = bucket_with_object(&legacy, b"x").await;
    let raw = legacy
        .raw(
            "GET",
            &format!("/{bucket}/obj"),
            &[("authorization", &header), ("date", date)],
            Vec::new(),
            None,
        )
        .await;
    assert_eq!(
        raw.xml("Code").as_deref(),
        Some("SignatureDoesNotMatch"),
        "SigV2 is verified when enabled"
    );
}

#[tokio::test]
async fn request_ids_and_complete_error_documents() {
    let server = TestServer::start();
    let bucket = bucket_with_object(&server, b"x").await;
    let ok = server
        .raw(
            "GET",
            &format!("/{bucket}/obj"),
            &[],
            Vec::new(),
            Some(Signing::default()),
        )
        .await;
    let ok_id = ok
        .headers
        .get("x-amz-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(ok_id.len(), 16);
    assert!(ok.headers.contains_key("x-amz-id-2"));

    let missing = server
        .raw(
            "GET",
            &format!("/{bucket}/nope"),
            &[],
            Vec::new(),
            Some(Signing::default()),
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.xml("Code").as_deref(), Some("NoSuchKey"));
    assert!(missing.xml("Message").is_some());
    assert_eq!(missing.xml("Resource"), Some(format!("/{bucket}/nope")));
    let id = missing
        .headers
        .get("x-amz-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(missing.xml("RequestId").as_deref(), Some(id));
    assert_ne!(id, ok_id, "each request has its own id");
    assert!(missing.xml("HostId").is_some());

    let anonymous = server
        .raw("GET", &format!("/{bucket}/obj"), &[], Vec::new(), None)
        .await;
    assert_eq!(anonymous.status, 403);
    assert_eq!(anonymous.xml("Code").as_deref(), Some("AccessDenied"));
    assert!(anonymous.xml("RequestId").is_some());

    let unsupported = server
        .raw(
            "GET",
            &format!("/{bucket}?tagging"),
            &[],
            Vec::new(),
            Some(Signing::default()),
        )
        .await;
    assert_eq!(
        (unsupported.status, unsupported.xml("Code").as_deref()),
        (501, Some("NotImplemented"))
    );

    let form = server
        .raw(
            "POST",
            &format!("/{bucket}"),
            &[("content-type", "multipart/form-data; boundary=x")],
            b"--x--".to_vec(),
            None,
        )
        .await;
    assert_eq!(
        (form.status, form.xml("Code").as_deref()),
        (501, Some("NotImplemented"))
    );
}

#[tokio::test]
async fn virtual_host_style_addressing() {
    let server = TestServer::start_with(&["--domains", "s3.coffer.test"]);
    let bucket = bucket_with_object(&server, b"virtual").await;
    let host = format!("{bucket}.s3.coffer.test");
    let raw = server
        .raw(
            "GET",
            "/obj",
            &[("host", &host)],
            Vec::new(),
            Some(Signing::default()),
        )
        .await;
    assert_eq!((raw.status, raw.body.as_str()), (200, "virtual"));
    let listing = server
        .raw(
            "GET",
            "/?list-type=2",
            &[("host", &host)],
            Vec::new(),
            Some(Signing::default()),
        )
        .await;
    assert_eq!(listing.status, 200);
    assert_eq!(listing.xml("Key").as_deref(), Some("obj"));
}

#[tokio::test]
async fn a_data_directory_serves_one_process() {
    let server = TestServer::start();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_coffer"))
        .arg("server")
        .arg("--data-dir")
        .arg(server.data_dir())
        .args(["--address", "127.0.0.1:0"])
        .output()
        .expect("run a second server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("in use by another coffer process"),
        "{stderr}"
    );
    // The first server is untouched.
    let bucket = bucket_with_object(&server, b"still here").await;
    let (status, body) = server.raw_get(&format!("/{bucket}/obj")).await;
    assert_eq!((status, body.as_str()), (200, "still here"));
}
