"""boto3 against coffer: objects, listing, multipart, copy, presign, errors, checksums.

Each test uses its own bucket on a server shared by the module.
"""

from __future__ import annotations

import base64
import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import unique_bucket

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(coffer):
    return coffer.client(signature_version="s3v4")


@pytest.fixture
def bucket(s3):
    name = unique_bucket("boto")
    s3.create_bucket(Bucket=name)
    return name


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def http_status(exc_or_response) -> int:
    resp = exc_or_response.response if isinstance(exc_or_response, ClientError) else exc_or_response
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def test_create_bucket_is_listed(s3, bucket):
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket in names
    s3.head_bucket(Bucket=bucket)


def test_put_get_head_with_metadata(s3, bucket):
    body = os.urandom(100_000)
    put = s3.put_object(
        Bucket=bucket, Key="docs/report.json", Body=body,
        ContentType="application/json", Metadata={"owner": "alice", "build-id": "42"},
    )
    md5 = hashlib.md5(body).hexdigest()
    assert put["ETag"] == f'"{md5}"'

    got = s3.get_object(Bucket=bucket, Key="docs/report.json")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/json"
    assert got["Metadata"] == {"owner": "alice", "build-id": "42"}
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == len(body)

    head = s3.head_object(Bucket=bucket, Key="docs/report.json")
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"owner": "alice", "build-id": "42"}
    assert head["ETag"] == put["ETag"]
    assert head["LastModified"] is not None


def test_empty_object_then_upload_on_same_connection(coffer, bucket):
    # boto3 sends "Expect: 100-continue" on every PutObject. For an empty body
    # the server answers at once without "100 Continue" (allowed by RFC 9110
    # 10.1.1; S3 does the same). botocore < 1.43.77 then kept that status on
    # the pooled connection and dropped every header of the next PUT's
    # response (boto/botocore#3755). One pooled connection makes the second
    # PUT reuse it.
    s3 = coffer.client(max_pool_connections=1)
    empty = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert empty["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'  # MD5 of nothing

    body = os.urandom(2 * MiB)
    put = s3.put_object(Bucket=bucket, Key="after-empty", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"', put["ResponseMetadata"]
    assert put["ResponseMetadata"].get("RequestId")

    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0 and got["Body"].read() == b""
    assert s3.get_object(Bucket=bucket, Key="after-empty")["Body"].read() == body


def test_ranged_get(s3, bucket):
    body = bytes(range(256)) * 40  # 10240 bytes, position-dependent content
    s3.put_object(Bucket=bucket, Key="ranged", Body=body)

    r = s3.get_object(Bucket=bucket, Key="ranged", Range="bytes=100-1123")
    assert http_status(r) == 206
    assert r["ContentRange"] == f"bytes 100-1123/{len(body)}"
    assert r["ContentLength"] == 1024
    assert r["Body"].read() == body[100:1124]

    # Suffix range: the last 10 bytes.
    r = s3.get_object(Bucket=bucket, Key="ranged", Range="bytes=-10")
    assert http_status(r) == 206
    assert r["Body"].read() == body[-10:]

    # Open-ended range.
    r = s3.get_object(Bucket=bucket, Key="ranged", Range=f"bytes={len(body) - 5}-")
    assert r["Body"].read() == body[-5:]

    # A range starting past the end is 416 InvalidRange.
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="ranged", Range=f"bytes={len(body) + 10}-")
    assert error_code(exc.value) == "InvalidRange"
    assert http_status(exc.value) == 416


def test_list_objects_v2_pagination(s3, bucket):
    keys = [f"page/{i:04d}" for i in range(240)]
    # A few keys that need URL-encoding in listings and sort by UTF-8 bytes.
    keys += [
        "page/sp ace", "page/plus+sign", "page/tilde~", "page/percent%41",
        "page/caf\u00e9", "page/\u65e5\u672c", "page/a&b=c", "page/x?y",
        "page/zz/nested", "page/zz-",
    ]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))

    paginator = s3.get_paginator("list_objects_v2")
    seen, pages = [], 0
    for page in paginator.paginate(Bucket=bucket, Prefix="page/", PaginationConfig={"PageSize": 100}):
        pages += 1
        assert page["KeyCount"] == len(page.get("Contents", []))
        assert len(page.get("Contents", [])) <= 100
        seen += [obj["Key"] for obj in page.get("Contents", [])]
        assert pages <= 10, "paginator does not terminate"
    assert pages == 3  # 250 keys at 100 per page
    assert len(seen) == len(set(seen)), "a key was listed twice"
    assert seen == expected, "keys missing or out of order"

    # StartAfter skips up to and including the given key.
    after = s3.list_objects_v2(Bucket=bucket, Prefix="page/", StartAfter="page/0199", MaxKeys=5)
    assert [o["Key"] for o in after["Contents"]] == [k for k in expected if k > "page/0199"][:5]
    assert after["IsTruncated"] is True


def test_delimiter_common_prefixes(s3, bucket):
    for key in ["dir/a/1", "dir/a/2", "dir/b/1", "dir/b/c/deep", "dir/top", "dir2/x", "root"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")

    r = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/a/", "dir/b/"]
    assert [o["Key"] for o in r["Contents"]] == ["dir/top"]

    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/", "dir2/"]
    assert [o["Key"] for o in r["Contents"]] == ["root"]

    # Paging one entry at a time: each prefix and key shows up exactly once.
    paginator = s3.get_paginator("list_objects_v2")
    entries = []
    for page in paginator.paginate(Bucket=bucket, Prefix="dir/", Delimiter="/",
                                   PaginationConfig={"PageSize": 1}):
        entries += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        entries += [o["Key"] for o in page.get("Contents", [])]
        assert len(entries) <= 10, "paginator does not terminate"
    assert entries == ["dir/a/", "dir/b/", "dir/top"]


def test_multipart_upload_file_and_download(s3, bucket, tmp_path):
    src = tmp_path / "upload.bin"
    src.write_bytes(os.urandom(12 * MiB + 12345))
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=3)
    s3.upload_file(str(src), bucket, "mp/upload.bin", Config=cfg)

    head = s3.head_object(Bucket=bucket, Key="mp/upload.bin")
    assert head["ContentLength"] == src.stat().st_size
    assert head["ETag"].endswith('-3"'), f"expected a 3-part multipart ETag, got {head['ETag']}"

    dst = tmp_path / "download.bin"
    s3.download_file(bucket, "mp/upload.bin", str(dst), Config=cfg)
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()


def test_copy_object(s3, bucket):
    body = os.urandom(70_000)  # above the inline threshold
    s3.put_object(Bucket=bucket, Key="orig", Body=body, ContentType="image/png", Metadata={"k": "v"})

    # Default directive COPY keeps metadata and content type.
    s3.copy_object(Bucket=bucket, Key="copy1", CopySource={"Bucket": bucket, "Key": "orig"})
    c1 = s3.get_object(Bucket=bucket, Key="copy1")
    assert c1["Body"].read() == body
    assert c1["ContentType"] == "image/png"
    assert c1["Metadata"] == {"k": "v"}

    # REPLACE takes metadata from the request.
    s3.copy_object(Bucket=bucket, Key="copy2", CopySource={"Bucket": bucket, "Key": "orig"},
                   MetadataDirective="REPLACE", ContentType="text/plain", Metadata={"new": "1"})
    c2 = s3.get_object(Bucket=bucket, Key="copy2")
    assert c2["Body"].read() == body
    assert c2["ContentType"] == "text/plain"
    assert c2["Metadata"] == {"new": "1"}

    # Cross-bucket copy.
    other = unique_bucket("boto-copy")
    s3.create_bucket(Bucket=other)
    s3.copy_object(Bucket=other, Key="x", CopySource={"Bucket": bucket, "Key": "orig"})
    assert s3.get_object(Bucket=other, Key="x")["Body"].read() == body


def test_delete_objects(s3, bucket):
    for key in ["a", "b", "c", "keep"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    r = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c"}, {"Key": "never-existed"}]},
    )
    # S3 reports a missing key as deleted, not as an error.
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "c", "never-existed"]
    assert r.get("Errors", []) == []
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert remaining == ["keep"]

    # Quiet mode returns no Deleted entries.
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}], "Quiet": True})
    assert r.get("Deleted", []) == [] and r.get("Errors", []) == []
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_presigned_urls(s3, bucket):
    body = os.urandom(5000)
    s3.put_object(Bucket=bucket, Key="pre/get me", Body=body)

    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "pre/get me"}, ExpiresIn=300
    )
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        assert resp.read() == body

    # Presigned PUT.
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "pre/put"}, ExpiresIn=300
    )
    req = urllib.request.Request(put_url, data=b"uploaded via presigned PUT", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
    assert s3.get_object(Bucket=bucket, Key="pre/put")["Body"].read() == b"uploaded via presigned PUT"

    # A tampered signature is refused with 403 SignatureDoesNotMatch.
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    sig = query["X-Amz-Signature"][0]
    query["X-Amz-Signature"] = [("0" if sig[0] != "0" else "1") + sig[1:]]
    bad = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(bad, timeout=30)
    assert exc.value.code == 403
    assert b"SignatureDoesNotMatch" in exc.value.read()


def test_error_codes(s3, bucket):
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="no/such/key")
    assert error_code(exc.value) == "NoSuchKey"
    assert http_status(exc.value) == 404

    # HEAD has no body: boto3 reports the bare status code.
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="no/such/key")
    assert http_status(exc.value) == 404

    missing = unique_bucket("missing")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=missing, Key="k")
    assert error_code(exc.value) == "NoSuchBucket"
    assert http_status(exc.value) == 404
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=missing)
    assert error_code(exc.value) == "NoSuchBucket"

    s3.put_object(Bucket=bucket, Key="occupant", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert error_code(exc.value) == "BucketNotEmpty"
    assert http_status(exc.value) == 409

    # Once empty, the bucket can be deleted; then it is NoSuchBucket.
    s3.delete_object(Bucket=bucket, Key="occupant")
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=bucket)
    assert http_status(exc.value) == 404


def test_checksum_sha256(s3, bucket):
    for size in (1000, 200_000):  # inline and blob-stored objects
        body = os.urandom(size)
        expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
        key = f"sum/{size}"
        put = s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")
        assert put.get("ChecksumSHA256") == expected

        got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert got.get("ChecksumSHA256") == expected
        assert got["Body"].read() == body

        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head.get("ChecksumSHA256") == expected


def test_checksum_mismatch_is_rejected(s3, bucket):
    # A declared SHA-256 that does not match the body must be refused and
    # nothing stored.
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad-sum", Body=b"the real body", ChecksumSHA256=wrong)
    assert error_code(exc.value) == "BadDigest"
    assert http_status(exc.value) == 400
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="bad-sum")
    assert http_status(exc.value) == 404
