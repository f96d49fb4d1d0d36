"""Shared fixtures for the end-to-end client compatibility tests.

These tests drive a real ``coffer server`` process with real S3 clients
(aws CLI v1, boto3, rclone). The server binary is taken from ``$COFFER_BIN``
(default: ``<repo>/target/debug/coffer``); it must already be built.

The server is started on an ephemeral port (``--address 127.0.0.1:0``) and
prints exactly one line, ``S3 endpoint: http://127.0.0.1:PORT``, on stdout once
it is listening. Reading that line is the only start-up synchronisation we use,
and it is bounded by ``START_TIMEOUT`` seconds.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COFFER_BIN = Path(os.environ.get("COFFER_BIN", REPO_ROOT / "target" / "debug" / "coffer"))

# Fixed test credentials, applied on the first start of an empty data dir.
ACCESS_KEY = "COFFERTESTACCESSKEY1"
SECRET_KEY = "coffer-test-secret-key-0123456789"
REGION = "us-east-1"

START_TIMEOUT = 30.0  # seconds for the server to print its endpoint line
STOP_TIMEOUT = 15.0  # seconds for a graceful (SIGTERM) shutdown
CMD_TIMEOUT = 120.0  # default bound on one client subprocess (aws, rclone, curl)

_ENDPOINT_RE = re.compile(r"^S3 endpoint: (http://127\.0\.0\.1:\d+)\s*$")


class ServerError(RuntimeError):
    """The server could not be started or stopped as expected."""


class CofferServer:
    """One coffer server process over a data directory that outlives restarts.

    ``start``/``stop`` (SIGTERM, graceful)/``kill`` (SIGKILL, a crash)/``restart``
    all act on the PID of the process this object started, never by name.
    Every start gets a new ephemeral port, so ``endpoint`` changes on restart;
    the credentials and the data dir do not.
    """

    def __init__(self, work_dir: Path):
        self.work_dir = Path(work_dir)
        self.data_dir = self.work_dir / "data"
        # Server stderr (its logs) of every run is appended here, so a failing
        # test can show what the server said.
        self.log_path = self.work_dir / "server.log"
        self.access_key = ACCESS_KEY
        self.secret_key = SECRET_KEY
        self.region = REGION
        self.endpoint: str | None = None
        self.proc: subprocess.Popen | None = None
        self._stdout_thread: threading.Thread | None = None
        self.work_dir.mkdir(parents=True, exist_ok=True)

    # ----------------------------------------------------------------- lifecycle

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.is_running():
            raise ServerError("server already running")
        if not COFFER_BIN.is_file():
            pytest.fail(
                f"coffer binary not found at {COFFER_BIN}: build it (cargo build) "
                "or point COFFER_BIN at it",
                pytrace=False,
            )
        # Start from a clean environment as far as coffer is concerned: a
        # developer's COFFER_* variables must not change what we test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("COFFER_")}
        env["COFFER_ROOT_ACCESS_KEY"] = self.access_key
        env["COFFER_ROOT_SECRET_KEY"] = self.secret_key
        env["COFFER_LOG"] = "info"
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== coffer server start (data dir {self.data_dir}) =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    str(COFFER_BIN), "server",
                    "--data-dir", str(self.data_dir),
                    "--address", "127.0.0.1:0",
                    "--region", self.region,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        lines: queue.Queue = queue.Queue()
        proc = self.proc

        def pump_stdout() -> None:
            # Reads stdout for the whole life of the process so the pipe never
            # fills up; None marks EOF (the process exited or closed stdout).
            for raw in proc.stdout:
                lines.put(raw.decode(errors="replace"))
            lines.put(None)

        self._stdout_thread = threading.Thread(target=pump_stdout, daemon=True)
        self._stdout_thread.start()

        deadline = time.monotonic() + START_TIMEOUT
        seen: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._force_kill()
                raise ServerError(
                    f"server did not print its endpoint within {START_TIMEOUT:.0f}s; "
                    f"stdout so far: {seen!r}\n{self.log_tail()}"
                )
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue  # the deadline check above reports it
            if line is None:
                code = self.proc.wait(timeout=5)
                raise ServerError(
                    f"server exited (code {code}) before printing its endpoint; "
                    f"stdout: {seen!r}\n{self.log_tail()}"
                )
            seen.append(line)
            m = _ENDPOINT_RE.match(line)
            if m:
                self.endpoint = m.group(1)
                return

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """Graceful shutdown with SIGTERM. Returns the exit code.

        Raises ServerError if the server does not exit in time (it is then
        SIGKILLed so that nothing is left behind).
        """
        if not self.is_running():
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._force_kill()
            raise ServerError(
                f"server (pid {self.pid}) did not exit within {timeout:.0f}s of SIGTERM\n"
                f"{self.log_tail()}"
            )
        self._join_stdout()
        return code

    def kill(self) -> None:
        """Crash the server: SIGKILL, then reap it."""
        self._force_kill()

    def restart(self, graceful: bool = True) -> None:
        """Stop (SIGTERM, or SIGKILL if not graceful) and start again on the
        same data dir with the same credentials and a new port."""
        if graceful:
            self.stop()
        else:
            self.kill()
        self.start()

    def _force_kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._join_stdout()

    def _join_stdout(self) -> None:
        if self._stdout_thread is not None:
            self._stdout_thread.join(timeout=5)

    def log_tail(self, max_lines: int = 40) -> str:
        """The last lines of the server's stderr, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        tail = text.splitlines()[-max_lines:]
        return "---- server stderr (tail) ----\n" + "\n".join(tail)

    # ------------------------------------------------------------------ clients

    def client(self, **config_kwargs):
        """A boto3 S3 client for the current endpoint (path-style addressing).

        Keyword arguments are passed to ``botocore.config.Config``; ``s3``
        options are merged with ``addressing_style='path'``.
        """
        import boto3
        from botocore.config import Config

        s3_opts = {"addressing_style": "path"}
        s3_opts.update(config_kwargs.pop("s3", {}))
        config_kwargs.setdefault("connect_timeout", 10)
        config_kwargs.setdefault("read_timeout", 60)
        session = boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )
        return session.client(
            "s3", endpoint_url=self.endpoint, config=Config(s3=s3_opts, **config_kwargs)
        )

    def cli_env(self, sigv4: bool = True) -> dict:
        """Environment for the aws CLI and rclone, isolated from ~/.aws and any
        rclone config of the developer.

        ``sigv4=False`` leaves the aws CLI's S3 signature version at its
        default, which for aws CLI v1's ``s3 presign`` is SigV2.
        """
        cfg_dir = self.work_dir / "client-config"
        cfg_dir.mkdir(exist_ok=True)
        aws_config = cfg_dir / ("aws-config-v4" if sigv4 else "aws-config-default")
        s3_section = "s3 =\n    addressing_style = path\n"
        if sigv4:
            s3_section += "    signature_version = s3v4\n"
        aws_config.write_text(f"[default]\nregion = {self.region}\n{s3_section}")
        empty_credentials = cfg_dir / "aws-credentials"
        empty_credentials.write_text("")
        empty_rclone_conf = cfg_dir / "rclone.conf"
        empty_rclone_conf.write_text("")

        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "RCLONE_", "BOTO_"))
        }
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            AWS_DEFAULT_REGION=self.region,
            AWS_CONFIG_FILE=str(aws_config),
            AWS_SHARED_CREDENTIALS_FILE=str(empty_credentials),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_PAGER="",
            # rclone: an empty config file plus a remote named "coffer" defined
            # entirely through environment variables.
            RCLONE_CONFIG=str(empty_rclone_conf),
            RCLONE_CONFIG_COFFER_TYPE="s3",
            RCLONE_CONFIG_COFFER_PROVIDER="Other",
            RCLONE_CONFIG_COFFER_ENDPOINT=self.endpoint or "",
            RCLONE_CONFIG_COFFER_ACCESS_KEY_ID=self.access_key,
            RCLONE_CONFIG_COFFER_SECRET_ACCESS_KEY=self.secret_key,
            RCLONE_CONFIG_COFFER_REGION=self.region,
            RCLONE_CONFIG_COFFER_FORCE_PATH_STYLE="true",
        )
        return env

    def aws(self, *args: str, sigv4: bool = True, check: bool = True,
            timeout: float = CMD_TIMEOUT) -> subprocess.CompletedProcess:
        """Run ``aws <args> --endpoint-url <endpoint>``."""
        cmd = ["aws", *args, "--endpoint-url", self.endpoint]
        return run_cmd(cmd, env=self.cli_env(sigv4=sigv4), check=check,
                       timeout=timeout, server=self)

    def rclone(self, *args: str, check: bool = True, extra_env: dict | None = None,
               timeout: float = CMD_TIMEOUT) -> subprocess.CompletedProcess:
        """Run ``rclone <args>`` against the ``coffer:`` remote."""
        env = self.cli_env()
        env.update(extra_env or {})
        return run_cmd(["rclone", *args], env=env, check=check, timeout=timeout, server=self)


def run_cmd(cmd: list[str], env: dict | None = None, check: bool = True,
            timeout: float = CMD_TIMEOUT, server: CofferServer | None = None,
            text: bool = True) -> subprocess.CompletedProcess:
    """Run a command with bounded time and captured output.

    With ``check`` a non-zero exit fails the test with the command, its output
    and (if given) the tail of the server's log.
    """
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=text, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"command timed out after {timeout:.0f}s: {' '.join(cmd)}\n"
            f"stdout: {exc.stdout!r}\nstderr: {exc.stderr!r}\n"
            f"{server.log_tail() if server else ''}",
            pytrace=False,
        )
    if check and proc.returncode != 0:
        pytest.fail(
            f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"---- stdout ----\n{_clip(proc.stdout)}\n---- stderr ----\n{_clip(proc.stderr)}\n"
            f"{server.log_tail() if server else ''}",
            pytrace=False,
        )
    return proc


def _clip(s, limit: int = 4000) -> str:
    if isinstance(s, bytes):
        s = s.decode(errors="replace")
    s = s or ""
    return s if len(s) <= limit else s[:limit] + f"... ({len(s) - limit} more chars)"


def unique_bucket(prefix: str) -> str:
    """A valid, unique bucket name (lowercase, <= 63 chars)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _serve(tmp_path_factory, name: str):
    server = CofferServer(tmp_path_factory.mktemp(name))
    server.start()
    try:
        yield server
    finally:
        # Graceful stop by PID; a server that hangs on SIGTERM fails teardown.
        if server.is_running():
            code = server.stop()
            assert code == 0, f"server exited with {code} on SIGTERM\n{server.log_tail()}"


@pytest.fixture(scope="module")
def coffer(tmp_path_factory):
    """A coffer server shared by the tests of one module."""
    yield from _serve(tmp_path_factory, "coffer")


@pytest.fixture
def fresh_coffer(tmp_path_factory):
    """A coffer server of its own, for tests that crash or restart it."""
    yield from _serve(tmp_path_factory, "coffer-fresh")


@pytest.fixture
def require_tool():
    """``require_tool("rclone")`` skips the test if the tool is not on PATH."""

    def _require(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            pytest.skip(f"{name} is not installed (on Debian: apt-get install {name})")
        return path

    return _require
