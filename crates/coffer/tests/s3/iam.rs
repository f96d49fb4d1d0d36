//! The IAM query API through the `aws-sdk-iam` crate: every action, its errors, and the
//! effect of what it creates on S3 access.

use aws_sdk_iam::Client as Iam;
use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_iam::types::StatusType;

use crate::harness::{ACCESS_KEY, SECRET_KEY, TestServer, client_for};

fn iam_client(server: &TestServer, key: &str, secret: &str) -> Iam {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .build();
    Iam::from_conf(config)
}

fn code<E: aws_sdk_iam::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_owned()
}

const READ_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]}]}"#;

#[tokio::test]
async fn users_keys_groups_and_policies() {
    let server = TestServer::start();
    let iam = iam_client(&server, ACCESS_KEY, SECRET_KEY);
    let s3 = server.client();
    s3.create_bucket().bucket("shared").send().await.unwrap();
    s3.put_object()
        .bucket("shared")
        .key("doc")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();

    // Users.
    let created = iam
        .create_user()
        .user_name("alice")
        .path("/eng/")
        .send()
        .await
        .unwrap();
    let alice = created.user().unwrap();
    assert_eq!(alice.user_name(), "alice");
    assert!(alice.user_id().starts_with("AIDA"));
    assert!(alice.arn().ends_with(":user/eng/alice"));
    let err = iam
        .create_user()
        .user_name("ALICE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    let err = iam
        .create_user()
        .user_name("bad name!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    assert_eq!(
        iam.get_user()
            .user_name("alice")
            .send()
            .await
            .unwrap()
            .user()
            .unwrap()
            .path(),
        "/eng/"
    );
    let err = iam.get_user().user_name("nobody").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    for name in ["bob", "carol", "dave"] {
        iam.create_user().user_name(name).send().await.unwrap();
    }
    let page = iam.list_users().max_items(2).send().await.unwrap();
    assert_eq!(page.users().len(), 2);
    assert!(page.is_truncated());
    let rest = iam
        .list_users()
        .marker(page.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.users().len(), 2);
    assert!(!rest.is_truncated());
    let eng = iam.list_users().path_prefix("/eng/").send().await.unwrap();
    assert_eq!(
        eng.users()
            .iter()
            .map(aws_sdk_iam::types::User::user_name)
            .collect::<Vec<_>>(),
        ["alice"]
    );

    // Keys: a user's key can sign S3 requests once a policy allows them.
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    assert_eq!(key.status(), &StatusType::Active);
    let alice_s3 = client_for(
        &server.endpoint,
        key.access_key_id(),
        key.secret_access_key(),
        |c| c,
    );
    let err = alice_s3
        .get_object()
        .bucket("shared")
        .key("doc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        crate::harness::error_of(&err),
        ("AccessDenied".into(), 403),
        "no policy yet"
    );

    let policy = iam
        .create_policy()
        .policy_name("read-shared")
        .policy_document(READ_BUCKET)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_owned();
    let err = iam
        .create_policy()
        .policy_name("broken")
        .policy_document("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let got = iam
        .get_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy().unwrap().default_version_id(), Some("v1"));
    let version = iam
        .get_policy_version()
        .policy_arn(&policy_arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    assert!(
        version
            .policy_version()
            .unwrap()
            .document()
            .unwrap()
            .contains("s3%3AGetObject"),
        "documents are URL-encoded"
    );

    // Through a group.
    iam.create_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("readers")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let group = iam.get_group().group_name("readers").send().await.unwrap();
    assert_eq!(
        group
            .users()
            .iter()
            .map(aws_sdk_iam::types::User::user_name)
            .collect::<Vec<_>>(),
        ["alice"]
    );
    let attached = iam
        .list_attached_group_policies()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(policy_arn.as_str())
    );
    let got = alice_s3
        .get_object()
        .bucket("shared")
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello"
    );
    let err = alice_s3
        .put_object()
        .bucket("shared")
        .key("x")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(crate::harness::error_of(&err), ("AccessDenied".into(), 403));

    // AWS-managed policies attach by ARN.
    let full = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(full)
        .send()
        .await
        .unwrap();
    alice_s3
        .put_object()
        .bucket("shared")
        .key("x")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_attached_user_policies()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.attached_policies()[0].policy_name(),
        Some("AmazonS3FullAccess")
    );
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Aws)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = policies
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    for managed in [
        "AdministratorAccess",
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
        "ReadOnlyAccess",
    ] {
        assert!(names.contains(&managed), "{managed} in {names:?}");
    }
    let err = iam
        .attach_user_policy()
        .user_name("alice")
        .policy_arn("arn:aws:iam::aws:policy/NoSuchPolicy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");

    // Deleting needs the dependents gone first.
    let err = iam
        .delete_user()
        .user_name("alice")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    let err = iam
        .delete_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    let err = iam
        .delete_group()
        .group_name("readers")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");

    // Key status.
    let keys = iam
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1);
    iam.create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let err = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    iam.update_access_key()
        .user_name("alice")
        .access_key_id(key.access_key_id())
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let err = alice_s3
        .get_object()
        .bucket("shared")
        .key("doc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        crate::harness::error_of(&err),
        ("InvalidAccessKeyId".into(), 403),
        "inactive keys stop at once"
    );

    // Tear down in order.
    for k in iam
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .unwrap()
        .access_key_metadata()
    {
        iam.delete_access_key()
            .user_name("alice")
            .access_key_id(k.access_key_id().unwrap())
            .send()
            .await
            .unwrap();
    }
    iam.detach_user_policy()
        .user_name("alice")
        .policy_arn(full)
        .send()
        .await
        .unwrap();
    let err = iam
        .detach_user_policy()
        .user_name("alice")
        .policy_arn(full)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    iam.detach_group_policy()
        .group_name("readers")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.remove_user_from_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.delete_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    iam.delete_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("alice").send().await.unwrap();
    let groups = iam.list_groups().send().await.unwrap();
    assert!(groups.groups().is_empty());
    let roles = iam.list_roles().send().await.unwrap();
    assert!(roles.roles().is_empty());
}

#[tokio::test]
async fn iam_requests_are_authenticated_and_authorized() {
    let server = TestServer::start();
    let root = iam_client(&server, ACCESS_KEY, SECRET_KEY);
    let wrong = iam_client(&server, ACCESS_KEY, "not-the-secret-0000000000");
    let err = wrong.list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    let unknown = iam_client(&server, "AKIAUNKNOWN000000000", "whatever-secret");
    let err = unknown.list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");

    // A user without IAM permissions is refused; with IAMFullAccess-like rights it may act.
    root.create_user().user_name("intern").send().await.unwrap();
    let key = root
        .create_access_key()
        .user_name("intern")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let intern = iam_client(&server, key.access_key_id(), key.secret_access_key());
    let err = intern
        .create_user()
        .user_name("mallory")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    root.attach_user_policy()
        .user_name("intern")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    intern
        .create_user()
        .user_name("trusted")
        .send()
        .await
        .unwrap();
    // The intern's own identity.
    let me = intern.get_user().send().await.unwrap();
    assert_eq!(me.user().unwrap().user_name(), "intern");
}
