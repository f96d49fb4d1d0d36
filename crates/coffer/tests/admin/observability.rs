//! Metrics, health probes, the OpenAPI document and graceful shutdown.

use crate::harness::{ACCESS_KEY, SECRET_KEY, TestServer, sample};
use aws_sdk_s3::primitives::ByteStream;

#[tokio::test]
async fn metrics_move_with_s3_traffic() {
    let server = TestServer::start();
    let before = server.metrics().await;
    let root = server.operator().get("/api/v1/accounts").await.expect(200)["accounts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let storage = format!("coffer_account_storage_bytes{{account_id=\"{root}\"}}");
    assert_eq!(sample(&before, &storage), 0, "{before}");

    let s3 = server.s3_client(ACCESS_KEY, SECRET_KEY);
    s3.create_bucket().bucket("metered").send().await.unwrap();
    for i in 0..3 {
        s3.put_object()
            .bucket("metered")
            .key(format!("k{i}"))
            .body(ByteStream::from(vec![1_u8; 1000]))
            .send()
            .await
            .unwrap();
    }
    s3.get_object()
        .bucket("metered")
        .key("k0")
        .send()
        .await
        .unwrap();
    assert!(
        s3.get_object()
            .bucket("metered")
            .key("nope")
            .send()
            .await
            .is_err()
    );

    let after = server.metrics().await;
    let put = "coffer_s3_requests_total{operation=\"PutObject\",status=\"200\"}";
    assert_eq!(sample(&after, put) - sample(&before, put), 3, "{after}");
    assert_eq!(
        sample(
            &after,
            "coffer_s3_requests_total{operation=\"GetObject\",status=\"404\"}"
        ),
        1
    );
    assert_eq!(
        sample(
            &after,
            "coffer_s3_request_duration_seconds_count{operation=\"PutObject\"}"
        ),
        3
    );
    assert_eq!(
        sample(
            &after,
            "coffer_s3_request_duration_seconds_bucket{operation=\"PutObject\",le=\"+Inf\"}"
        ),
        3
    );
    assert_eq!(
        sample(
            &after,
            "coffer_s3_received_bytes_total{operation=\"PutObject\"}"
        ),
        3000
    );
    assert!(
        sample(
            &after,
            "coffer_s3_sent_bytes_total{operation=\"GetObject\"}"
        ) >= 1000
    );
    assert_eq!(sample(&after, &storage), 3000);
    assert!(sample(&after, "coffer_connections_total{listener=\"s3\"}") >= 1);
    assert!(sample(&after, "coffer_open_connections{listener=\"admin\"}") >= 1);
}

#[tokio::test]
async fn health_probes_and_openapi_document() {
    let server = TestServer::start();
    let live = reqwest::get(format!("{}/health/live", server.admin))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let ready = reqwest::get(format!("{}/health/ready", server.admin))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );

    let doc: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", server.admin))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/buckets"]["get"].is_object());

    // The blob store unwritable: not ready (the database still answers, the data directory not).
    std::fs::remove_dir_all(server.data_dir().join("tmp")).unwrap();
    let ready = reqwest::get(format!("{}/health/ready", server.admin))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let live = reqwest::get(format!("{}/health/live", server.admin))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
}

#[tokio::test]
async fn sigterm_stops_both_listeners_and_exits_cleanly() {
    let mut server = TestServer::start();
    server.operator().get("/api/v1/stats").await.expect(200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = server.wait_exit(std::time::Duration::from_secs(30));
    assert_eq!(code, Some(0), "a graceful stop exits 0");
    assert!(
        reqwest::get(format!("{}/health/live", server.admin))
            .await
            .is_err()
    );
    assert!(reqwest::get(format!("{}/", server.s3)).await.is_err());
}
