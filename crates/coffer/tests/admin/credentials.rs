//! Credentials: create, get with buckets, update, delete, list, and what S3 makes of them.

use serde_json::json;

use crate::harness::TestServer;

#[tokio::test]
async fn credentials_lifecycle_is_visible_to_s3_clients() {
    let server = TestServer::start();
    let op = server.operator();
    let account = op.account("acme").await;
    for name in ["alpha", "beta"] {
        op.post(
            "/api/v1/buckets",
            json!({"name": name, "account_id": account}),
        )
        .await
        .expect(201);
    }

    let created = op
        .post(
            "/api/v1/credentials",
            json!({
                "account_id": account,
                "access_key": "AKIAADMINTESTKEY0001",
                "secret_key": "admin-test-secret-0123456789",
                "buckets": ["alpha"],
            }),
        )
        .await
        .expect(201);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["access_key"], "AKIAADMINTESTKEY0001");
    assert_eq!(created["secret_key"], "admin-test-secret-0123456789");
    assert_eq!(created["is_active"], true);
    assert_eq!(created["bucket_binding"], json!(["alpha"]));

    // The key works on S3, within its binding only.
    let s3 = server.s3_client("AKIAADMINTESTKEY0001", "admin-test-secret-0123456789");
    s3.put_object()
        .bucket("alpha")
        .key("one.txt")
        .body(b"12345".to_vec().into())
        .send()
        .await
        .expect("bound key writes to its bucket");
    assert!(
        s3.put_object()
            .bucket("beta")
            .key("one.txt")
            .body(b"x".to_vec().into())
            .send()
            .await
            .is_err(),
        "a bound key stays out of other buckets"
    );

    let detail = op
        .get(&format!("/api/v1/credentials/{id}"))
        .await
        .expect(200);
    assert_eq!(detail["bucket_count"], 1);
    assert_eq!(detail["buckets"][0]["name"], "alpha");
    assert_eq!(detail["buckets"][0]["object_count"], 1);
    assert_eq!(detail["buckets"][0]["total_size"], 5);
    assert!(
        detail.get("secret_key").is_none(),
        "the secret is shown only once"
    );

    // Generated keys, duplicates and validation.
    let (_, generated, secret) = op.credential(&account, json!({})).await;
    assert!(generated.starts_with("AKIA") && generated.len() == 20);
    assert_eq!(secret.len(), 40);
    op.post(
        "/api/v1/credentials",
        json!({"account_id": account, "access_key": "AKIAADMINTESTKEY0001"}),
    )
    .await
    .expect_error(409, "CredentialExists");
    for (body, field) in [
        (
            json!({"account_id": account, "access_key": "short"}),
            "access_key",
        ),
        (
            json!({"account_id": account, "secret_key": "tiny"}),
            "secret_key",
        ),
        (json!({"account_id": account, "buckets": []}), "buckets"),
        (
            json!({"account_id": account, "buckets": ["Bad_Name"]}),
            "buckets[0]",
        ),
        (
            json!({"account_id": account, "user_name": "nobody"}),
            "user_name",
        ),
        (json!({}), "account_id"),
        (json!({"account_id": "12"}), "account_id"),
    ] {
        let error = op
            .post("/api/v1/credentials", body)
            .await
            .expect_error(400, "ValidationError");
        assert_eq!(error["field"], field);
    }
    op.post(
        "/api/v1/credentials",
        json!({"account_id": "000000000000009"}),
    )
    .await
    .expect_error(404, "NoSuchAccount");

    // Update: unbind, then deactivate; S3 refuses an inactive key.
    let updated = op
        .patch(
            &format!("/api/v1/credentials/{id}"),
            json!({"buckets": null}),
        )
        .await
        .expect(200);
    assert_eq!(
        updated["credential"]["bucket_binding"],
        serde_json::Value::Null
    );
    assert_eq!(updated["message"], "Operation completed successfully");
    let detail = op
        .get(&format!("/api/v1/credentials/{id}"))
        .await
        .expect(200);
    assert_eq!(detail["bucket_count"], 2);
    let updated = op
        .send(
            "PUT",
            &format!("/api/v1/credentials/{id}"),
            Some(json!({"is_active": false})),
        )
        .await
        .expect(200);
    assert_eq!(updated["credential"]["is_active"], false);
    let err = s3.list_buckets().send().await.expect_err("inactive key");
    assert_eq!(
        err.raw_response().map(|r| r.status().as_u16()),
        Some(403),
        "{err:?}"
    );

    // List with pagination and filters.
    let page = op
        .get(&format!("/api/v1/credentials?account_id={account}&limit=1"))
        .await
        .expect(200);
    assert_eq!(page["credentials"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = op
        .get(&format!(
            "/api/v1/credentials?account_id={account}&cursor={next}"
        ))
        .await
        .expect(200);
    assert_eq!(rest["credentials"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    let all = op.get("/api/v1/credentials").await.expect(200);
    assert_eq!(
        all["credentials"].as_array().unwrap().len(),
        3,
        "root key too"
    );

    op.delete(&format!("/api/v1/credentials/{id}"))
        .await
        .expect(200);
    op.get(&format!("/api/v1/credentials/{id}"))
        .await
        .expect_error(404, "NoSuchCredential");
    op.delete(&format!("/api/v1/credentials/{id}"))
        .await
        .expect_error(404, "NoSuchCredential");
    op.get("/api/v1/credentials/0")
        .await
        .expect_error(400, "ValidationError");
    op.get("/api/v1/credentials/abc")
        .await
        .expect_error(400, "ValidationError");
}
