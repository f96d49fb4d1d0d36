//! Listings: 10,000 keys under nested prefixes through v1 and v2 pagination, delimiters,
//! markers, URL encoding, multipart upload listings.

use std::collections::BTreeSet;

use aws_sdk_s3::types::EncodingType;

use crate::harness::{TestServer, bucket_name};

/// `d{0..9}/s{0..9}/k{0..99}`: 10,000 keys in a 3-level tree.
fn tree_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for d in 0..10 {
        for s in 0..10 {
            for k in 0..100 {
                keys.push(format!("d{d}/s{s}/k{k:03}"));
            }
        }
    }
    keys.sort();
    keys
}

async fn fill(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[String]) {
    // Bounded concurrency: 16 writers, each key once.
    let mut pending = futures::stream::FuturesUnordered::new();
    for key in keys {
        let put = s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(key.as_bytes().to_vec().into())
            .send();
        pending.push(put);
        if pending.len() >= 16 {
            futures::StreamExt::next(&mut pending)
                .await
                .unwrap()
                .unwrap();
        }
    }
    while let Some(result) = futures::StreamExt::next(&mut pending).await {
        result.unwrap();
    }
}

#[tokio::test]
async fn ten_thousand_keys_paginate_exactly_once_in_order() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("tenk");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let keys = tree_keys();
    fill(&s3, &bucket, &keys).await;

    // v2 with continuation tokens, 1000 per page.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&bucket)
            .max_keys(1000)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert_eq!(page.key_count(), Some(page.contents().len() as i32));
        seen.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
        if page.is_truncated() != Some(true) {
            break;
        }
        token = page.next_continuation_token().map(str::to_owned);
        assert!(pages < 20, "pagination terminates");
    }
    assert_eq!(seen, keys, "v2 lists every key exactly once, in order");
    assert_eq!(pages, 10);

    // v1 with markers (no delimiter: the marker is the last key), odd page size.
    let mut seen = Vec::new();
    let mut marker = String::new();
    for _ in 0..100 {
        let page = s3
            .list_objects()
            .bucket(&bucket)
            .max_keys(777)
            .marker(&marker)
            .send()
            .await
            .unwrap();
        seen.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
        if page.is_truncated() != Some(true) {
            break;
        }
        marker = page.contents().last().unwrap().key().unwrap().to_owned();
    }
    assert_eq!(seen, keys, "v1 lists every key exactly once, in order");

    // Delimiter at the top: ten prefixes, no objects.
    let top = s3
        .list_objects_v2()
        .bucket(&bucket)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(
        prefixes,
        (0..10).map(|d| format!("d{d}/")).collect::<Vec<_>>()
    );
    assert!(top.contents().is_empty());

    // Delimiter pages of 3 prefixes, v1 NextMarker and v2 tokens, deep inside the tree.
    let mut got = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..10 {
        let page = s3
            .list_objects()
            .bucket(&bucket)
            .prefix("d7/")
            .delimiter("/")
            .max_keys(3)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        got.extend(
            page.common_prefixes()
                .iter()
                .map(|p| p.prefix().unwrap().to_owned()),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        marker = page.next_marker().map(str::to_owned);
        assert!(marker.is_some(), "v1 gives NextMarker with a delimiter");
    }
    assert_eq!(
        got,
        (0..10).map(|s| format!("d7/s{s}/")).collect::<Vec<_>>()
    );

    let mut got = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let page = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix("d3/s4/")
            .delimiter("/")
            .max_keys(40)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        got.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
        assert!(page.common_prefixes().is_empty());
        if page.is_truncated() != Some(true) {
            break;
        }
        token = page.next_continuation_token().map(str::to_owned);
    }
    let expected: Vec<_> = keys
        .iter()
        .filter(|k| k.starts_with("d3/s4/"))
        .cloned()
        .collect();
    assert_eq!(got, expected);

    // start-after, mixing objects and prefixes.
    let page = s3
        .list_objects_v2()
        .bucket(&bucket)
        .start_after("d9/s8/k099")
        .send()
        .await
        .unwrap();
    let rest: Vec<_> = page.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(rest.len(), 100);
    assert_eq!(rest[0], "d9/s9/k000");
}

#[tokio::test]
async fn delimiters_mix_objects_and_prefixes() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("mix");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let keys: Vec<String> = [
        "a",
        "b/1",
        "b/2",
        "c",
        "d/x/1",
        "d/y",
        "e",
        "photos/2024/",
        "photos/2024/x.jpg",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .collect();
    fill(&s3, &bucket, &keys).await;
    for page_size in [1, 2, 1000] {
        let mut entries = Vec::new();
        let mut token = None;
        for _ in 0..20 {
            let page = s3
                .list_objects_v2()
                .bucket(&bucket)
                .delimiter("/")
                .max_keys(page_size)
                .set_continuation_token(token)
                .send()
                .await
                .unwrap();
            let mut batch: Vec<String> = page
                .contents()
                .iter()
                .map(|o| o.key().unwrap().to_owned())
                .collect();
            batch.extend(
                page.common_prefixes()
                    .iter()
                    .map(|p| format!("P:{}", p.prefix().unwrap())),
            );
            assert!(batch.len() <= page_size as usize);
            entries.extend(batch);
            if page.is_truncated() != Some(true) {
                break;
            }
            token = page.next_continuation_token().map(str::to_owned);
        }
        let set: BTreeSet<_> = entries.iter().cloned().collect();
        assert_eq!(
            set.len(),
            entries.len(),
            "no duplicates at page size {page_size}"
        );
        let expected: BTreeSet<String> = ["a", "P:b/", "c", "P:d/", "e", "P:photos/"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(set, expected, "page size {page_size}");
    }
    let inner = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("photos/2024/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = inner.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["photos/2024/", "photos/2024/x.jpg"]);
    let none = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("zzz")
        .send()
        .await
        .unwrap();
    assert_eq!(none.key_count(), Some(0));
    let zero = s3
        .list_objects_v2()
        .bucket(&bucket)
        .max_keys(0)
        .send()
        .await
        .unwrap();
    assert_eq!(zero.key_count(), Some(0));
}

#[tokio::test]
async fn url_encoding_type() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("enc");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let key = "dir with space/ünï+code.txt";
    s3.put_object()
        .bucket(&bucket)
        .key(key)
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    // The Rust SDK hands url-encoded values through as they arrive.
    let encoded = "dir%20with%20space/%C3%BCn%C3%AF%2Bcode.txt";
    let page = s3
        .list_objects_v2()
        .bucket(&bucket)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(page.contents()[0].key(), Some(encoded));
    let page = s3
        .list_objects()
        .bucket(&bucket)
        .encoding_type(EncodingType::Url)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.common_prefixes()[0].prefix(),
        Some("dir%20with%20space/")
    );
    let page = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(
        page.contents()[0].key(),
        Some(key),
        "without encoding-type keys are raw"
    );
    let plain = server
        .raw_get(&format!("/{bucket}?list-type=2&encoding-type=url"))
        .await;
    assert!(
        plain
            .1
            .contains("<Key>dir%20with%20space/%C3%BCn%C3%AF%2Bcode.txt</Key>"),
        "{}",
        plain.1
    );
}

#[tokio::test]
async fn multipart_upload_listing_pages() {
    let server = TestServer::start();
    let s3 = server.client();
    let bucket = bucket_name("mpl");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let mut ids = Vec::new();
    for key in ["a/1", "a/2", "b", "b", "c/d/e"] {
        let id = s3
            .create_multipart_upload()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap()
            .upload_id()
            .unwrap()
            .to_owned();
        ids.push((key.to_owned(), id));
    }
    let mut seen = Vec::new();
    let (mut key_marker, mut id_marker) = (None, None);
    for _ in 0..10 {
        let page = s3
            .list_multipart_uploads()
            .bucket(&bucket)
            .max_uploads(2)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await
            .unwrap();
        seen.extend(page.uploads().iter().map(|u| {
            (
                u.key().unwrap().to_owned(),
                u.upload_id().unwrap().to_owned(),
            )
        }));
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        id_marker = page.next_upload_id_marker().map(str::to_owned);
    }
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected);
    let folded = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = folded
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/", "c/"]);
    assert_eq!(
        folded
            .uploads()
            .iter()
            .filter_map(|u| u.key())
            .collect::<Vec<_>>(),
        ["b", "b"]
    );
}
