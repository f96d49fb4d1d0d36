"""The operator surface from outside: schemathesis against the management API's OpenAPI
document, and the aws CLI over TLS with ``--ca-bundle`` (plain HTTP refused when HTTPS is
required).

Each test starts its own ``coffer server`` (ephemeral S3 and admin ports, a temporary data
dir, a known operator API key) and stops it by PID.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, COFFER_BIN, REGION, SECRET_KEY, run_cmd

OPERATOR_KEY = "coffer-pytest-operator-key-0123456789abcdef"
START_TIMEOUT = 30.0
# Bounds the fuzzing: examples per operation and the whole run.
MAX_EXAMPLES = 25
SCHEMATHESIS_TIMEOUT = 600


class AdminServer:
    """A coffer server whose S3 and admin endpoints are known."""

    def __init__(self, work_dir: Path, extra_args: list[str] | None = None):
        self.work_dir = work_dir
        self.log_path = work_dir / "server.log"
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.s3 = ""
        self.admin = ""

    def start(self) -> None:
        if not COFFER_BIN.is_file():
            pytest.fail(f"coffer binary not found at {COFFER_BIN}", pytrace=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COFFER_")}
        env.update(
            COFFER_ROOT_ACCESS_KEY=ACCESS_KEY,
            COFFER_ROOT_SECRET_KEY=SECRET_KEY,
            COFFER_OPERATOR_API_KEY=OPERATOR_KEY,
            COFFER_LOG="warn",
        )
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(COFFER_BIN), "server", "--data-dir", str(self.work_dir / "data"),
             "--address", "127.0.0.1:0", *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env,
        )
        log.close()
        lines: queue.Queue = queue.Queue()
        proc = self.proc

        def pump() -> None:
            for raw in proc.stdout:
                lines.put(raw.decode(errors="replace"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.s3:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                pytest.fail(f"server did not start\n{self.log_tail()}", pytrace=False)
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"server exited at start\n{self.log_tail()}", pytrace=False)
            if line.startswith("Admin endpoint: "):
                self.admin = line.split(": ", 1)[1].strip()
            if line.startswith("S3 endpoint: "):
                self.s3 = line.split(": ", 1)[1].strip()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])
        except OSError:
            return "(no server log)"


@pytest.fixture
def admin_server(tmp_path):
    server = AdminServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _api(server: AdminServer, method: str, path: str, body: dict | None = None) -> dict:
    """One management request as the operator; the JSON answer."""
    request = urllib.request.Request(
        f"{server.admin}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {OPERATOR_KEY}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _schemathesis_command() -> list[str]:
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("schemathesis is not installed (tests/clients/requirements.txt)")
        pytest.skip("schemathesis is not installed: pip install -r tests/clients/requirements.txt")
    return [sys.executable, "-m", "schemathesis.cli"]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(admin_server):
    command = _schemathesis_command()
    # Seed a bucket with an object, so that bucket-scoped operations reach more than 404s.
    accounts = _api(admin_server, "GET", "/api/v1/accounts")["accounts"]
    _api(admin_server, "POST", "/api/v1/buckets",
         {"name": "fuzzed-bucket", "account_id": accounts[0]["id"]})

    result = subprocess.run(
        [*command, "run", f"{admin_server.admin}/api/openapi.json",
         "--url", admin_server.admin,
         "-H", f"Authorization: Bearer {OPERATOR_KEY}",
         "--checks", "not_a_server_error,status_code_conformance,"
                     "content_type_conformance,response_schema_conformance",
         "--max-examples", str(MAX_EXAMPLES),
         "--seed", "20240601",
         "--request-timeout", "30"],
        capture_output=True, text=True, timeout=SCHEMATHESIS_TIMEOUT, stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output[-8000:]}\n---- server log ----\n{admin_server.log_tail()}"
    assert " passed" in output, output[-4000:]


def _openssl(*args: str, cwd: Path) -> None:
    run_cmd(["openssl", *args], env={**os.environ, "RANDFILE": str(cwd / ".rnd")})


def _issue_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 that it signed: (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (directory / n for n in
                                  ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
             "-out", str(ca), "-days", "2", "-subj", "/CN=Coffer test CA", cwd=directory)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", "/CN=127.0.0.1", cwd=directory)
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
             cwd=directory)
    return ca, cert, key


def test_aws_cli_with_ca_bundle_over_tls_and_plain_http_refused(tmp_path, require_tool):
    require_tool("openssl")
    require_tool("aws")
    ca, cert, key = _issue_certificate(tmp_path)
    server = AdminServer(tmp_path, ["--tls-cert", str(cert), "--tls-key", str(key),
                                    "--require-https", "true"])
    server.start()
    try:
        assert server.s3.startswith("https://")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        config = tmp_path / "aws-config"
        config.write_text(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=str(config),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                   AWS_EC2_METADATA_DISABLED="true")
        aws = ["aws", "--endpoint-url", server.s3, "--ca-bundle", str(ca)]
        run_cmd([*aws, "s3", "mb", "s3://tls-bucket"], env=env)
        payload = tmp_path / "payload.txt"
        payload.write_text("over tls\n")
        run_cmd([*aws, "s3", "cp", str(payload), "s3://tls-bucket/p.txt"], env=env)
        listed = run_cmd([*aws, "s3", "ls", "s3://tls-bucket/"], env=env)
        assert "p.txt" in listed.stdout
        # Without the CA the client refuses the server.
        untrusted = run_cmd(["aws", "--endpoint-url", server.s3, "s3", "ls"], env=env, check=False)
        assert untrusted.returncode != 0

        plain = server.s3.replace("https://", "http://")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{plain}/tls-bucket/p.txt", timeout=10)
        assert refused.value.code == 400
        assert b"HTTPS required" in refused.value.read()
    finally:
        server.stop()
