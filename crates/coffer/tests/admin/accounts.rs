//! Accounts, API keys and who may reach what.

use serde_json::json;

use crate::harness::{Api, TestServer};

#[tokio::test]
async fn operator_manages_accounts_through_their_lifecycle() {
    let server = TestServer::start();
    let op = server.operator();

    let created = op
        .post(
            "/api/v1/accounts",
            json!({"name": "acme", "quota_bytes": 1_000_000, "bucket_limit": 5}),
        )
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 15);
    assert!(id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(created["status"], "active");
    assert_eq!(created["quota_bytes"], 1_000_000);
    assert_eq!(created["bucket_limit"], 5);
    assert_eq!(created["usage"]["bytes"], 0);

    op.post("/api/v1/accounts", json!({"name": "acme"}))
        .await
        .expect_error(409, "AccountExists");
    let bad = op
        .post("/api/v1/accounts", json!({"name": "no spaces"}))
        .await
        .expect_error(400, "ValidationError");
    assert_eq!(bad["field"], "name");
    let missing = op
        .post("/api/v1/accounts", json!({"quota_bytes": 1}))
        .await
        .expect_error(400, "ValidationError");
    assert_eq!(missing["field"], "name");
    let wrong_type = op
        .post(
            "/api/v1/accounts",
            json!({"name": "x", "bucket_limit": "many"}),
        )
        .await
        .expect_error(400, "ValidationError");
    assert_eq!(wrong_type["field"], "bucket_limit");
    op.send("POST", "/api/v1/accounts", None)
        .await
        .expect_error(400, "MalformedBody");

    let got = op.get(&format!("/api/v1/accounts/{id}")).await.expect(200);
    assert_eq!(got["name"], "acme");
    op.get("/api/v1/accounts/123")
        .await
        .expect_error(400, "ValidationError");
    op.get("/api/v1/accounts/000000000000001")
        .await
        .expect_error(404, "NoSuchAccount");

    let updated = op
        .patch(
            &format!("/api/v1/accounts/{id}"),
            json!({"quota_bytes": null, "bucket_limit": 7}),
        )
        .await
        .expect(200);
    assert_eq!(updated["quota_bytes"], serde_json::Value::Null);
    assert_eq!(updated["bucket_limit"], 7);

    let path = |action: &str| format!("/api/v1/accounts/{id}/{action}");
    assert_eq!(
        op.post(&path("suspend"), json!({})).await.expect(200)["status"],
        "suspended"
    );
    op.post(&path("migration/start"), json!({}))
        .await
        .expect_error(409, "InvalidAccountState");
    assert_eq!(
        op.post(&path("resume"), json!({})).await.expect(200)["status"],
        "active"
    );
    assert_eq!(
        op.post(&path("migration/start"), json!({}))
            .await
            .expect(200)["status"],
        "migrating"
    );
    op.post(&path("resume"), json!({}))
        .await
        .expect_error(409, "InvalidAccountState");
    assert_eq!(
        op.post(&path("migration/done"), json!({}))
            .await
            .expect(200)["status"],
        "active"
    );
    op.post(&path("migration/done"), json!({}))
        .await
        .expect_error(409, "InvalidAccountState");

    // Pages of one cover every account (the root account plus 3 more) exactly once.
    op.account("beta").await;
    op.account("gamma").await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let page = op
            .get(&format!("/api/v1/accounts?limit=1{cursor}"))
            .await
            .expect(200);
        seen.extend(
            page["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["acme", "beta", "gamma", "root"]);
    op.get("/api/v1/accounts?limit=0")
        .await
        .expect_error(400, "ValidationError");
}

#[tokio::test]
async fn keys_authenticate_and_account_keys_stay_in_their_account() {
    let server = TestServer::start();
    let op = server.operator();
    Api::anonymous(&server.admin)
        .get("/api/v1/stats")
        .await
        .expect_error(401, "Unauthorized");
    Api::new(&server.admin, "coffer_ak0000000000000000_wrong")
        .get("/api/v1/stats")
        .await
        .expect_error(401, "Unauthorized");

    let a = op.account("tenant-a").await;
    let b = op.account("tenant-b").await;
    let a_api = Api::new(&server.admin, &op.account_key(&a).await);
    op.post(
        "/api/v1/buckets",
        json!({"name": "b-data", "account_id": b}),
    )
    .await
    .expect(201);
    let (b_cred, _, _) = op.credential(&b, json!({})).await;

    // Its own account: readable; the operator endpoints and the other account: 403.
    assert_eq!(
        a_api
            .get(&format!("/api/v1/accounts/{a}"))
            .await
            .expect(200)["id"],
        a.as_str()
    );
    for path in [
        format!("/api/v1/accounts/{b}"),
        "/api/v1/accounts".to_owned(),
        "/api/v1/buckets/b-data".to_owned(),
        "/api/v1/buckets/b-data/objects".to_owned(),
        "/api/v1/buckets/b-data/uploads".to_owned(),
        format!("/api/v1/credentials/{b_cred}"),
        format!("/api/v1/buckets?account_id={b}"),
        format!("/api/v1/credentials?account_id={b}"),
    ] {
        a_api.get(&path).await.expect_error(403, "AccessDenied");
    }
    a_api
        .post(&format!("/api/v1/accounts/{b}/suspend"), json!({}))
        .await
        .expect_error(403, "AccessDenied");
    a_api
        .post(
            "/api/v1/buckets",
            json!({"name": "sneaky", "account_id": b}),
        )
        .await
        .expect_error(403, "AccessDenied");
    a_api
        .post("/api/v1/credentials", json!({"account_id": b}))
        .await
        .expect_error(403, "AccessDenied");
    a_api
        .delete("/api/v1/buckets/b-data?force=true")
        .await
        .expect_error(403, "AccessDenied");
    a_api
        .post("/api/v1/api-keys", json!({"name": "op"}))
        .await
        .expect(201);

    // Lists show only its own account's resources.
    a_api
        .post("/api/v1/buckets", json!({"name": "a-data"}))
        .await
        .expect(201);
    let buckets = a_api.get("/api/v1/buckets").await.expect(200);
    let names: Vec<&str> = buckets["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a-data"]);
    let stats = a_api.get("/api/v1/stats").await.expect(200);
    assert_eq!(stats["buckets"], 1);
    assert_eq!(stats["accounts"], 1);
    let keys = a_api.get("/api/v1/api-keys").await.expect(200);
    assert!(
        keys["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["account_id"] == a.as_str())
    );

    // API keys: the last operator key stays; a deleted key stops working.
    let listed = op.get("/api/v1/api-keys").await.expect(200);
    let operator_ids: Vec<String> = listed["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["scope"] == "operator")
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(operator_ids.len(), 1);
    op.delete(&format!("/api/v1/api-keys/{}", operator_ids[0]))
        .await
        .expect_error(409, "LastOperatorKey");
    let second = op
        .post("/api/v1/api-keys", json!({"name": "second"}))
        .await
        .expect(201);
    let second_api = Api::new(&server.admin, second["key"].as_str().unwrap());
    second_api.get("/api/v1/accounts").await.expect(200);
    op.delete(&format!(
        "/api/v1/api-keys/{}",
        second["id"].as_str().unwrap()
    ))
    .await
    .expect(200);
    second_api
        .get("/api/v1/accounts")
        .await
        .expect_error(401, "Unauthorized");
    op.delete("/api/v1/api-keys/nope")
        .await
        .expect_error(404, "NoSuchApiKey");
    let stored = std::fs::read_to_string(server.data_dir().join("api_keys.json")).unwrap();
    assert!(
        !stored.contains(crate::harness::OPERATOR_KEY),
        "keys are stored hashed"
    );

    op.get("/api/v1/nothing-here")
        .await
        .expect_error(404, "NotFound");
    op.send("PUT", "/api/v1/stats", None)
        .await
        .expect_error(405, "MethodNotAllowed");
}
