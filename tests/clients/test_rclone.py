"""rclone against coffer: mkdir, copy (with multipart), check, ls, delete, purge.

The remote ``coffer:`` is configured entirely through environment variables
(see ``CofferServer.cli_env``).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from conftest import unique_bucket

MiB = 1024 * 1024

pytestmark = pytest.mark.skipif(
    shutil.which("rclone") is None,
    reason="rclone is not installed (on Debian: apt-get install rclone)",
)

# Files of the local tree, relative path -> size. big.bin is above the upload
# cutoff we set below, so rclone uploads it as a multipart upload.
TREE = {
    "top.txt": 1234,
    "empty.txt": 0,
    "big.bin": 20 * MiB + 333,
    "nested/a.txt": 70_000,
    "nested/deeper/b.bin": 300_000,
    "nested/deeper/c.txt": 17,
    "other dir/with space.txt": 4096,
}

# Force multipart well below rclone's 200 MiB default cutoff; 5 MiB is the
# smallest part size S3 allows.
MULTIPART_ENV = {
    "RCLONE_CONFIG_COFFER_UPLOAD_CUTOFF": "5Mi",
    "RCLONE_CONFIG_COFFER_CHUNK_SIZE": "5Mi",
}


@pytest.fixture(scope="module")
def bucket(coffer):
    name = unique_bucket("rclone")
    coffer.rclone("mkdir", f"coffer:{name}")
    return name


@pytest.fixture(scope="module")
def local_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("rclone-src")
    for rel, size in TREE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
    return root


def test_mkdir_creates_bucket(coffer, bucket):
    out = coffer.rclone("lsd", "coffer:")
    assert bucket in out.stdout.split()


def test_copy_and_check(coffer, bucket, local_tree):
    dest = f"coffer:{bucket}/data"
    coffer.rclone("copy", str(local_tree), dest, extra_env=MULTIPART_ENV)

    # rclone check compares sizes and hashes (MD5: the ETag for single-part
    # objects, rclone's own metadata for multipart ones); exit 0 = identical.
    coffer.rclone("check", str(local_tree), dest)
    # And a byte-for-byte comparison, downloading everything.
    coffer.rclone("check", "--download", str(local_tree), dest)

    # big.bin really went up as a multipart upload.
    head = coffer.client().head_object(Bucket=bucket, Key="data/big.bin")
    assert head["ContentLength"] == TREE["big.bin"]
    assert re.fullmatch(r'"[0-9a-f]{32}-\d+"', head["ETag"]), head["ETag"]

    # Copying again transfers nothing (everything is up to date).
    again = coffer.rclone("copy", "-v", str(local_tree), dest, extra_env=MULTIPART_ENV)
    assert "Copied (new)" not in again.stderr and "Copied (replaced" not in again.stderr, again.stderr


def test_ls_lists_every_file_with_size(coffer, bucket):
    out = coffer.rclone("ls", f"coffer:{bucket}/data")
    listed = {}
    for line in out.stdout.splitlines():
        size, name = line.strip().split(" ", 1)
        listed[name] = int(size)
    assert listed == TREE


def test_delete_then_purge(coffer, bucket, local_tree):
    # delete removes files (here only *.txt) but leaves the bucket.
    coffer.rclone("delete", f"coffer:{bucket}/data", "--include", "*.txt")
    out = coffer.rclone("ls", f"coffer:{bucket}")
    remaining = sorted(line.strip().split(" ", 1)[1] for line in out.stdout.splitlines())
    assert remaining == ["data/big.bin", "data/nested/deeper/b.bin"]

    # purge removes everything, bucket included.
    coffer.rclone("purge", f"coffer:{bucket}")
    assert bucket not in coffer.rclone("lsd", "coffer:").stdout.split()
    gone = coffer.rclone("ls", f"coffer:{bucket}", check=False)
    assert gone.returncode != 0, "listing a purged bucket should fail"
