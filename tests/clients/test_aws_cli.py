"""aws CLI (v1) against coffer: buckets, multipart cp, sync, ls, presign, rm, rb.

The steps build on each other (one bucket through its whole life), so they are
one module sharing one server and run in file order.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import run_cmd, unique_bucket

pytestmark = pytest.mark.skipif(shutil.which("aws") is None, reason="aws CLI not installed (pip install awscli)")

BIG_SIZE = 64 * 1024 * 1024  # > 8 MiB, so `aws s3 cp` uses multipart (8 MiB parts)
SMALL_FILES = 200


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def bucket(coffer):
    name = unique_bucket("cli")
    out = coffer.aws("s3", "mb", f"s3://{name}")
    assert f"make_bucket: {name}" in out.stdout
    return name


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("aws-cli")


def test_mb_listed(coffer, bucket):
    out = coffer.aws("s3", "ls")
    names = [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]
    assert bucket in names


def test_cp_multipart_roundtrip(coffer, bucket, workdir):
    src = workdir / "big.bin"
    with open(src, "wb") as f:
        f.write(os.urandom(BIG_SIZE))
    coffer.aws("s3", "cp", str(src), f"s3://{bucket}/big/big.bin", "--only-show-errors")

    head = json.loads(
        coffer.aws("s3api", "head-object", "--bucket", bucket, "--key", "big/big.bin").stdout
    )
    assert head["ContentLength"] == BIG_SIZE
    # A multipart upload's ETag is "<md5 of part md5s>-<number of parts>".
    m = re.fullmatch(r'"([0-9a-f]{32})-(\d+)"', head["ETag"])
    assert m, f"ETag of a multipart upload should end with -N: {head['ETag']!r}"
    assert int(m.group(2)) >= 2, head["ETag"]

    dst = workdir / "big.downloaded"
    coffer.aws("s3", "cp", f"s3://{bucket}/big/big.bin", str(dst), "--only-show-errors")
    assert dst.stat().st_size == BIG_SIZE
    assert sha256_file(dst) == sha256_file(src)


def test_sync_and_ls_recursive(coffer, bucket, workdir):
    src = workdir / "many"
    expected = set()
    for i in range(SMALL_FILES):
        # Spread over nested directories to exercise keys with several '/'.
        rel = Path(f"d{i % 7}") / f"sub{i % 3}" / f"file-{i:04d}.txt"
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(os.urandom(1 + i * 13))
        expected.add(f"synced/{rel.as_posix()}")

    coffer.aws("s3", "sync", str(src), f"s3://{bucket}/synced/", "--only-show-errors")

    out = coffer.aws("s3", "ls", "--recursive", f"s3://{bucket}/synced/")
    # Lines are "<date> <time> <size> <key>"; our keys contain no spaces.
    listed = [line.split(None, 3)[3] for line in out.stdout.splitlines() if line.strip()]
    assert len(listed) == SMALL_FILES, f"expected {SMALL_FILES} keys, got {len(listed)}"
    assert set(listed) == expected

    # A second sync must find everything up to date (sizes and LastModified
    # from the listing agree with the local files) and upload nothing.
    again = coffer.aws("s3", "sync", str(src), f"s3://{bucket}/synced/")
    assert "upload:" not in again.stdout, again.stdout


def test_presign_sigv4_fetch_with_curl(coffer, bucket, workdir):
    src = workdir / "presign.bin"
    src.write_bytes(os.urandom(300 * 1024 + 7))
    coffer.aws("s3", "cp", str(src), f"s3://{bucket}/presigned/object.bin", "--only-show-errors")

    url = coffer.aws(
        "s3", "presign", f"s3://{bucket}/presigned/object.bin", "--expires-in", "300"
    ).stdout.strip()
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url, f"not a SigV4 URL: {url}"

    dst = workdir / "presign.downloaded"
    res = run_cmd(
        ["curl", "-sS", "-o", str(dst), "-w", "%{http_code}", url], server=coffer
    )
    assert res.stdout.strip() == "200", f"HTTP {res.stdout}: {dst.read_bytes()[:500]!r}"
    assert dst.read_bytes() == src.read_bytes()


def test_presign_sigv2_is_refused(coffer, bucket):
    # Default aws CLI v1 config: `s3 presign` signs with SigV2, which coffer
    # refuses unless --accept-sigv2 is set.
    url = coffer.aws(
        "s3", "presign", f"s3://{bucket}/presigned/object.bin", "--expires-in", "300",
        sigv4=False,
    ).stdout.strip()
    assert "AWSAccessKeyId=" in url and "Signature=" in url, f"expected a SigV2 URL: {url}"

    res = run_cmd(["curl", "-sS", "-w", "\n%{http_code}", url], server=coffer)
    body, _, status = res.stdout.rpartition("\n")
    assert status == "400", f"expected HTTP 400, got {status}: {body[:500]}"
    assert re.search(r"SigV4|AWS4-HMAC-SHA256", body), f"error should point to SigV4: {body[:500]}"


def test_rm_recursive_and_rb(coffer, bucket):
    out = coffer.aws("s3", "rm", "--recursive", f"s3://{bucket}/")
    # big.bin + 200 synced files + presigned object
    assert out.stdout.count("delete: ") == SMALL_FILES + 2, out.stdout[-2000:]

    listing = coffer.aws("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert listing.stdout.strip() == ""

    coffer.aws("s3", "rb", f"s3://{bucket}")
    names = [line.split()[-1] for line in coffer.aws("s3", "ls").stdout.splitlines() if line.strip()]
    assert bucket not in names

    # The bucket is really gone: listing it is NoSuchBucket.
    gone = coffer.aws("s3api", "list-objects-v2", "--bucket", bucket, check=False)
    assert gone.returncode != 0 and "NoSuchBucket" in gone.stderr, gone.stderr
