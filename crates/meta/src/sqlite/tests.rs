//! Tests of the SQLite store: group commit and identities.

use super::*;
use coffer_core::AccountId;

fn account(n: u64) -> Account {
    Account {
        id: AccountId::from_number(n).unwrap(),
        name: format!("acct-{n}"),
        status: crate::AccountStatus::Active,
        quota_bytes: None,
        bucket_limit: 100,
        created_at: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_does_not_sink_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let meta = std::sync::Arc::new(SqliteMeta::open(&dir.path().join("m.sqlite")).unwrap());
    meta.create_account(account(1)).await.unwrap();
    // 40 concurrent creates of 20 distinct names: each name succeeds exactly once, and the
    // failures (committed in the same groups) leave the successes intact.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let meta = meta.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("bucket-{}", i % 20);
            meta.create_bucket(&name, &AccountId::from_number(1).unwrap(), "us-east-1")
                .await
                .is_ok()
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += usize::from(task.await.unwrap());
    }
    assert_eq!(created, 20);
    let buckets = meta
        .list_buckets(&AccountId::from_number(1).unwrap())
        .await
        .unwrap();
    assert_eq!(buckets.len(), 20);
    let limit = meta.create_account(account(1)).await;
    assert!(matches!(limit, Err(MetaError::AlreadyExists(_))));
}

#[tokio::test]
async fn identities_and_their_delete_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMeta::open(&dir.path().join("m.sqlite")).unwrap();
    meta.create_account(account(7)).await.unwrap();
    let acct = AccountId::from_number(7).unwrap();
    let user = User {
        account_id: acct.clone(),
        user_name: "Alice".into(),
        user_id: "AIDAALICE".into(),
        path: "/eng/".into(),
        created_at: 1,
    };
    meta.create_user(user.clone()).await.unwrap();
    assert!(
        matches!(
            meta.create_user(User {
                user_id: "AIDAOTHER".into(),
                user_name: "alice".into(),
                ..user.clone()
            })
            .await,
            Err(MetaError::AlreadyExists(_))
        ),
        "names are unique regardless of case"
    );
    assert_eq!(
        meta.get_user(&acct, "ALICE")
            .await
            .unwrap()
            .unwrap()
            .user_name,
        "Alice"
    );
    assert_eq!(user.arn(), "arn:aws:iam::000000000000007:user/eng/Alice");
    assert_eq!(
        meta.list_users(&acct, "/eng/", "", 10).await.unwrap().len(),
        1
    );
    assert!(
        meta.list_users(&acct, "/ops/", "", 10)
            .await
            .unwrap()
            .is_empty()
    );

    let group = Group {
        account_id: acct.clone(),
        group_name: "readers".into(),
        group_id: "AGPAREADERS".into(),
        path: "/".into(),
        created_at: 1,
    };
    meta.create_group(group).await.unwrap();
    meta.add_user_to_group(&acct, "readers", "alice")
        .await
        .unwrap();
    let policy = ManagedPolicy {
        account_id: acct.clone(),
        policy_name: "read".into(),
        policy_id: "ANPAREAD".into(),
        path: "/".into(),
        description: None,
        document: "{}".into(),
        created_at: 1,
        updated_at: 1,
    };
    meta.create_policy(policy.clone()).await.unwrap();
    meta.attach_policy(&acct, Principal::Group, "readers", &policy.arn())
        .await
        .unwrap();
    meta.attach_policy(
        &acct,
        Principal::User,
        "Alice",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    .await
    .unwrap();
    let mut arns = meta.effective_policy_arns(&acct, "Alice").await.unwrap();
    arns.sort();
    assert_eq!(
        arns,
        [
            "arn:aws:iam::000000000000007:policy/read",
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        ]
    );

    assert!(matches!(
        meta.delete_user(&acct, "Alice").await,
        Err(MetaError::DeleteConflict(_))
    ));
    assert!(matches!(
        meta.delete_group(&acct, "readers").await,
        Err(MetaError::DeleteConflict(_))
    ));
    assert!(matches!(
        meta.delete_policy(&acct, "read").await,
        Err(MetaError::DeleteConflict(_))
    ));
    meta.detach_policy(&acct, Principal::Group, "readers", &policy.arn())
        .await
        .unwrap();
    meta.delete_policy(&acct, "read").await.unwrap();
    meta.remove_user_from_group(&acct, "readers", "Alice")
        .await
        .unwrap();
    meta.delete_group(&acct, "readers").await.unwrap();
    meta.detach_policy(
        &acct,
        Principal::User,
        "Alice",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    .await
    .unwrap();
    meta.delete_user(&acct, "Alice").await.unwrap();
    assert!(matches!(
        meta.delete_user(&acct, "Alice").await,
        Err(MetaError::NoSuchEntity(_))
    ));
}

/// Usage changes are summed over each group commit: concurrent PUTs (half refused by their
/// condition, in the same groups), overwrites and DELETEs leave exactly the survivors counted,
/// per account and per bucket; a deleted bucket's counters do not come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_is_exact_under_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let meta = std::sync::Arc::new(SqliteMeta::open(&dir.path().join("m.sqlite")).unwrap());
    meta.create_account(account(3)).await.unwrap();
    let owner = AccountId::from_number(3).unwrap();
    let bucket = meta
        .create_bucket("counted", &owner, "us-east-1")
        .await
        .unwrap();
    let object = |key: String, size: u64| NewObject {
        bucket_id: bucket.id,
        key,
        size,
        etag: format!("etag-{size}"),
        last_modified: 0,
        storage_class: "STANDARD".into(),
        headers: crate::ObjectHeaders::default(),
        checksums: crate::StoredChecksums::default(),
        parts_count: None,
        owner: owner.clone(),
        data: crate::ObjectData::Inline(vec![0; size as usize]),
    };
    // 60 keys written with sizes 1..=60; then for each, concurrently: an If-None-Match PUT that
    // must fail, an overwrite with size 100 + i, and (for even keys) a delete after it.
    for i in 1..=60u64 {
        meta.put_object(object(format!("k{i}"), i), WriteCondition::None)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for i in 1..=60u64 {
        let (meta, refused, owner) = (meta.clone(), object(format!("k{i}"), 7), owner.clone());
        let overwrite = object(format!("k{i}"), 100 + i);
        tasks.push(tokio::spawn(async move {
            let refused = meta
                .put_object(refused, WriteCondition::IfNoneMatchAny)
                .await;
            assert!(matches!(refused, Err(MetaError::PreconditionFailed)));
            meta.put_object(overwrite, WriteCondition::None)
                .await
                .unwrap();
            if i % 2 == 0 {
                meta.delete_object(bucket.id, &format!("k{i}"), None, &owner)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let odd: Vec<i64> = (1..=60).filter(|i| i % 2 == 1).map(|i| 100 + i).collect();
    let expected = Usage {
        bytes: odd.iter().sum(),
        objects: odd.len() as i64,
    };
    assert_eq!(meta.account_usage(&owner).await.unwrap(), expected);
    assert_eq!(meta.bucket_usage(bucket.id).await.unwrap(), expected);
    // Emptied and deleted: nothing is left of the bucket's counters, the account's are zero.
    for i in (1..=60).filter(|i| i % 2 == 1) {
        meta.delete_object(bucket.id, &format!("k{i}"), None, &owner)
            .await
            .unwrap();
    }
    meta.delete_bucket(bucket.id).await.unwrap();
    assert_eq!(
        meta.bucket_usage(bucket.id).await.unwrap(),
        Usage::default()
    );
    assert_eq!(meta.account_usage(&owner).await.unwrap(), Usage::default());
}
