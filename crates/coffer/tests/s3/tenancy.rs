//! Tenancy: who may do what on whose bucket. A table-driven matrix over two accounts, IAM users
//! with different policies, a bound key, an inactive key and anonymous callers, against private
//! and public buckets; then account states, bucket limits and bucket policy operations.

use aws_sdk_s3::Client;
use coffer_meta::{AccessKeyUpdate, MetaStore};

use crate::harness::tenancy::{Key, access_key, account, user};
use crate::harness::{ACCESS_KEY, TestServer, client_for, error_of};

const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::a-public/*"}]}"#;
const PREFIX_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::a-private/team/*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::a-private","Condition":{"StringLike":{"s3:prefix":"team/*"}}}]}"#;
const DENY_DELETE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}"#;

/// The operations of the matrix, in column order.
const OPS: [&str; 6] = ["HeadBucket", "List", "Get", "Head", "Put", "Delete"];

/// One row: who, which bucket, and the outcome of each operation ('+' allowed, 'D' AccessDenied,
/// 'K' InvalidAccessKeyId).
const MATRIX: &[(&str, &str, &str)] = &[
    ("rootA", "a-private", "++++++"),
    ("rootA", "a-public", "++++++"),
    ("rootA", "b-private", "DDDDDD"),
    ("rootB", "a-private", "DDDDDD"),
    ("rootB", "a-public", "DD++DD"),
    ("rootB", "b-private", "++++++"),
    ("anonymous", "a-private", "DDDDDD"),
    ("anonymous", "a-public", "DD++DD"),
    ("anonymous", "b-private", "DDDDDD"),
    ("readerA", "a-private", "++++DD"),
    ("readerA", "a-public", "++++DD"),
    ("readerA", "b-private", "DDDDDD"),
    ("fullA", "a-private", "++++++"),
    ("fullA", "a-public", "++++++"),
    ("fullA", "b-private", "DDDDDD"),
    ("nobodyA", "a-private", "DDDDDD"),
    ("nobodyA", "a-public", "DD++DD"),
    ("nobodyA", "b-private", "DDDDDD"),
    ("noDeleteA", "a-private", "+++++D"),
    ("noDeleteA", "a-public", "+++++D"),
    ("noDeleteA", "b-private", "DDDDDD"),
    ("boundA", "a-private", "++++++"),
    ("boundA", "a-public", "DDDDDD"),
    ("boundA", "b-private", "DDDDDD"),
    ("inactiveA", "a-private", "KKKKKK"),
    ("inactiveA", "a-public", "KKKKKK"),
    ("inactiveA", "b-private", "KKKKKK"),
];

struct World {
    server: TestServer,
    clients: Vec<(&'static str, Client)>,
}

async fn world() -> World {
    let server = TestServer::start();
    let meta = server.meta();
    let root_a = server.client();
    let a = root_a
        .list_buckets()
        .send()
        .await
        .unwrap()
        .owner()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let a: coffer_core::AccountId = a.parse().unwrap();
    let (b, key_b) = account(&meta, 2).await;
    user(&meta, &a, "reader", &["AmazonS3ReadOnlyAccess"]).await;
    user(&meta, &a, "full", &["AmazonS3FullAccess"]).await;
    user(&meta, &a, "nobody", &[]).await;
    user(&meta, &a, "no-delete", &[DENY_DELETE]).await;
    user(&meta, &a, "team", &[PREFIX_ONLY]).await;
    let reader = access_key(&meta, &a, Some("reader"), None, "reader").await;
    let full = access_key(&meta, &a, Some("full"), None, "full").await;
    let nobody = access_key(&meta, &a, Some("nobody"), None, "nobody").await;
    let no_delete = access_key(&meta, &a, Some("no-delete"), None, "nodelete").await;
    let team = access_key(&meta, &a, Some("team"), None, "team").await;
    let bound = access_key(&meta, &a, None, Some(vec!["a-private".into()]), "bound").await;
    let inactive = access_key(&meta, &a, None, None, "inactive").await;
    meta.update_access_key(
        &inactive.id,
        AccessKeyUpdate {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let _ = b;

    let endpoint = server.endpoint.clone();
    let client = |k: &Key| client_for(&endpoint, &k.id, &k.secret, |c| c);
    let root_b = client(&key_b);
    for bucket in ["a-private", "a-public"] {
        root_a.create_bucket().bucket(bucket).send().await.unwrap();
    }
    root_b
        .create_bucket()
        .bucket("b-private")
        .send()
        .await
        .unwrap();
    root_a
        .put_bucket_policy()
        .bucket("a-public")
        .policy(PUBLIC_READ)
        .send()
        .await
        .unwrap();
    for (c, bucket) in [
        (&root_a, "a-private"),
        (&root_a, "a-public"),
        (&root_b, "b-private"),
    ] {
        c.put_object()
            .bucket(bucket)
            .key("obj")
            .body(b"data".to_vec().into())
            .send()
            .await
            .unwrap();
        c.put_object()
            .bucket(bucket)
            .key("team/doc")
            .body(b"team".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let clients = vec![
        ("rootA", root_a),
        ("rootB", root_b),
        ("readerA", client(&reader)),
        ("fullA", client(&full)),
        ("nobodyA", client(&nobody)),
        ("noDeleteA", client(&no_delete)),
        ("teamA", client(&team)),
        ("boundA", client(&bound)),
        ("inactiveA", client(&inactive)),
    ];
    World { server, clients }
}

/// Runs one operation; returns "+" or the error code (status for HEAD, which has no body).
async fn run(world: &World, who: &str, bucket: &str, op: &str, n: usize) -> String {
    if who == "anonymous" {
        let (method, path) = match op {
            "HeadBucket" => ("HEAD", format!("/{bucket}")),
            "List" => ("GET", format!("/{bucket}?list-type=2")),
            "Get" => ("GET", format!("/{bucket}/obj")),
            "Head" => ("HEAD", format!("/{bucket}/obj")),
            "Put" => ("PUT", format!("/{bucket}/anon-{n}")),
            _ => ("DELETE", format!("/{bucket}/anon-{n}")),
        };
        let raw = world
            .server
            .raw(method, &path, &[], b"x".to_vec(), None)
            .await;
        return match (raw.status, raw.xml("Code")) {
            (200..=299, _) => "+".into(),
            (403, None) => "AccessDenied".into(),
            (_, Some(code)) => code,
            (status, None) => status.to_string(),
        };
    }
    let s3 = &world
        .clients
        .iter()
        .find(|(name, _)| *name == who)
        .unwrap()
        .1;
    let key = format!("{who}-{n}");
    let result = match op {
        "HeadBucket" => s3
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_of(&e)),
        "List" => s3
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_of(&e)),
        "Get" => s3
            .get_object()
            .bucket(bucket)
            .key("obj")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_of(&e)),
        "Head" => s3
            .head_object()
            .bucket(bucket)
            .key("obj")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_of(&e)),
        "Put" => s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_of(&e)),
        _ => s3
            .delete_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error_of(&e)),
    };
    match result {
        Ok(()) => "+".into(),
        // HEAD errors carry no body: a 403 is reported by status.
        Err((code, 403)) if code.starts_with('<') || code == "Forbidden" => "AccessDenied".into(),
        Err((code, _)) => code,
    }
}

#[tokio::test]
async fn access_matrix() {
    let world = world().await;
    let mut failures = Vec::new();
    let mut cases = 0;
    for (who, bucket, expected) in MATRIX {
        for (i, (op, want)) in OPS.iter().zip(expected.chars()).enumerate() {
            cases += 1;
            let want = match want {
                '+' => "+",
                'D' => "AccessDenied",
                _ => "InvalidAccessKeyId",
            };
            let got = run(&world, who, bucket, op, cases * 10 + i).await;
            // A HEAD with a bad key has no body either: its 403 reads as AccessDenied.
            let got = if want == "InvalidAccessKeyId"
                && got == "AccessDenied"
                && op.starts_with("Head")
            {
                want.to_owned()
            } else {
                got
            };
            if got != want {
                failures.push(format!(
                    "{who} {op} on {bucket}: expected {want}, got {got}"
                ));
            }
        }
    }
    assert!(cases >= 150, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn condition_keys_scope_a_user_to_a_prefix() {
    let world = world().await;
    let team = &world.clients.iter().find(|(n, _)| *n == "teamA").unwrap().1;
    let ok = team
        .list_objects_v2()
        .bucket("a-private")
        .prefix("team/")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.contents().len(), 1);
    let err = team
        .list_objects_v2()
        .bucket("a-private")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        ("AccessDenied".into(), 403),
        "listing outside the prefix"
    );
    team.get_object()
        .bucket("a-private")
        .key("team/doc")
        .send()
        .await
        .unwrap();
    team.put_object()
        .bucket("a-private")
        .key("team/new")
        .body(b"n".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = team
        .get_object()
        .bucket("a-private")
        .key("obj")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("AccessDenied".into(), 403));
    let err = team
        .copy_object()
        .bucket("a-private")
        .key("team/copy")
        .copy_source("a-private/obj")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        ("AccessDenied".into(), 403),
        "copy needs read on the source"
    );
    team.copy_object()
        .bucket("a-private")
        .key("team/copy")
        .copy_source("a-private/team/doc")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_buckets_shows_only_the_callers_buckets() {
    let world = world().await;
    let names = |out: aws_sdk_s3::operation::list_buckets::ListBucketsOutput| {
        out.buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let a = &world.clients[0].1;
    let b = &world.clients[1].1;
    let bound = &world
        .clients
        .iter()
        .find(|(n, _)| *n == "boundA")
        .unwrap()
        .1;
    assert_eq!(
        names(a.list_buckets().send().await.unwrap()),
        ["a-private", "a-public"]
    );
    assert_eq!(names(b.list_buckets().send().await.unwrap()), ["b-private"]);
    assert_eq!(
        names(bound.list_buckets().send().await.unwrap()),
        ["a-private"]
    );
    let nobody = &world
        .clients
        .iter()
        .find(|(n, _)| *n == "nobodyA")
        .unwrap()
        .1;
    let err = nobody.list_buckets().send().await.unwrap_err();
    assert_eq!(error_of(&err), ("AccessDenied".into(), 403));
    let err = b
        .create_bucket()
        .bucket("a-private")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("BucketAlreadyExists".into(), 409));
}

#[tokio::test]
async fn account_states_gate_requests() {
    let server = TestServer::start();
    let meta = server.meta();
    let (b, key_b) = account(&meta, 3).await;
    let s3 = client_for(&server.endpoint, &key_b.id, &key_b.secret, |c| c);
    s3.create_bucket().bucket("b-data").send().await.unwrap();
    s3.put_object()
        .bucket("b-data")
        .key("k")
        .body(vec![0u8; 1000].into())
        .send()
        .await
        .unwrap();

    // Over quota: writes that add bytes are refused; reads, listing and deletes work.
    // Through the management API, as an operator would: the server applies it at once.
    let account_path = format!("/accounts/{b}");
    server
        .manage(
            "PATCH",
            &account_path,
            Some(serde_json::json!({"quota_bytes": 1000})),
        )
        .await;
    let err = s3
        .put_object()
        .bucket("b-data")
        .key("more")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("QuotaExceeded".into(), 403));
    let err = s3
        .create_multipart_upload()
        .bucket("b-data")
        .key("mp")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("QuotaExceeded".into(), 403));
    s3.get_object()
        .bucket("b-data")
        .key("k")
        .send()
        .await
        .unwrap();
    s3.list_objects_v2().bucket("b-data").send().await.unwrap();
    s3.delete_object()
        .bucket("b-data")
        .key("k")
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("b-data")
        .key("again")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let usage = meta.account_usage(&b).await.unwrap();
    assert_eq!(
        (usage.bytes, usage.objects),
        (1, 1),
        "usage is exact after put, delete, put"
    );

    // Migrating: reads work, writes answer 503.
    server
        .manage(
            "PATCH",
            &account_path,
            Some(serde_json::json!({"quota_bytes": null})),
        )
        .await;
    server
        .manage("POST", &format!("{account_path}/migration/start"), None)
        .await;
    let err = s3
        .put_object()
        .bucket("b-data")
        .key("m")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("MigrationInProgress".into(), 503));
    let err = s3
        .delete_object()
        .bucket("b-data")
        .key("again")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("MigrationInProgress".into(), 503));
    s3.get_object()
        .bucket("b-data")
        .key("again")
        .send()
        .await
        .unwrap();

    // Suspended: everything is refused, including reads.
    server
        .manage("POST", &format!("{account_path}/suspend"), None)
        .await;
    let err = s3
        .get_object()
        .bucket("b-data")
        .key("again")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("AccountSuspended".into(), 403));
    let err = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(error_of(&err), ("AccountSuspended".into(), 403));
    // Another account's requests are unaffected.
    server.client().list_buckets().send().await.unwrap();

    // Bucket limit.
    server
        .manage("POST", &format!("{account_path}/resume"), None)
        .await;
    server
        .manage(
            "PATCH",
            &account_path,
            Some(serde_json::json!({"bucket_limit": 1})),
        )
        .await;
    let err = s3
        .create_bucket()
        .bucket("b-second")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("TooManyBuckets".into(), 400));
}

#[tokio::test]
async fn bucket_policy_operations() {
    let world = world().await;
    let root_a = &world.clients[0].1;
    let err = root_a
        .get_bucket_policy()
        .bucket("a-private")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("NoSuchBucketPolicy".into(), 404));
    let got = root_a
        .get_bucket_policy()
        .bucket("a-public")
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(PUBLIC_READ));
    let status = root_a
        .get_bucket_policy_status()
        .bucket("a-public")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status
            .policy_status()
            .and_then(aws_sdk_s3::types::PolicyStatus::is_public),
        Some(true)
    );
    let status = root_a
        .get_bucket_policy_status()
        .bucket("a-private")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status
            .policy_status()
            .and_then(aws_sdk_s3::types::PolicyStatus::is_public),
        Some(false)
    );

    for bad in [
        "not json",
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:NoSuchAction","Resource":"arn:aws:s3:::a-private/*"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b-private/*"}]}"#,
    ] {
        let err = root_a
            .put_bucket_policy()
            .bucket("a-private")
            .policy(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_of(&err), ("MalformedPolicy".into(), 400), "{bad}");
    }
    // Another account cannot read or change the policy.
    let root_b = &world.clients[1].1;
    let err = root_b
        .get_bucket_policy()
        .bucket("a-public")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_of(&err), ("AccessDenied".into(), 403));

    // ACLs show the owner, and everyone's READ while public.
    let acl = root_a
        .get_bucket_acl()
        .bucket("a-public")
        .send()
        .await
        .unwrap();
    let uris: Vec<_> = acl
        .grants()
        .iter()
        .filter_map(|g| g.grantee().and_then(|g| g.uri()))
        .collect();
    assert_eq!(uris, ["http://acs.amazonaws.com/groups/global/AllUsers"]);
    root_a
        .put_bucket_acl()
        .bucket("a-private")
        .acl(aws_sdk_s3::types::BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    let err = root_a
        .put_bucket_acl()
        .bucket("a-private")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_of(&err),
        ("AccessControlListNotSupported".into(), 400)
    );

    // aws:SourceIp sees the client's address.
    for (range, status) in [("10.0.0.0/8", 403), ("127.0.0.0/8", 200)] {
        let policy = PUBLIC_READ.replace(
            r#""Resource":"arn:aws:s3:::a-public/*""#,
            &format!(r#""Resource":"arn:aws:s3:::a-public/*","Condition":{{"IpAddress":{{"aws:SourceIp":"{range}"}}}}"#),
        );
        root_a
            .put_bucket_policy()
            .bucket("a-public")
            .policy(policy)
            .send()
            .await
            .unwrap();
        let raw = world
            .server
            .raw("GET", "/a-public/obj", &[], Vec::new(), None)
            .await;
        assert_eq!(raw.status, status, "public read from {range}");
    }

    // Deleting the policy makes the bucket private again, at once.
    root_a
        .delete_bucket_policy()
        .bucket("a-public")
        .send()
        .await
        .unwrap();
    let raw = world
        .server
        .raw("GET", "/a-public/obj", &[], Vec::new(), None)
        .await;
    assert_eq!(raw.status, 403);
    let _ = ACCESS_KEY;
}
