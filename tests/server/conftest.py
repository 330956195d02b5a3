"""Fixtures: a real `tsql serve` process on a free loopback port, and boto3 clients for it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"


class ServerProcess:
    """`python -m tsql.cli serve --port 0 ...`, ready once it says where it listens."""

    def __init__(self, *args: str, audit_log: str | None = None, env: dict | None = None):
        self.audit_log = audit_log
        cmd = [sys.executable, "-m", "tsql.cli", "serve", "--port", "0", *args]
        if audit_log:
            cmd += ["--audit-log", audit_log]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.url = None
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60) or self.url is None:
            self.proc.kill()
            raise RuntimeError("tsql serve did not start:\n" + "".join(self.lines))

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            m = re.search(r"listening on (\w+://\S+)", line)
            if m and self.url is None:
                self.url = m.group(1)
                self._ready.set()
        self._ready.set()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def output(self) -> str:
        return "".join(self.lines)

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url.replace("https://", "http://") + "/metrics", timeout=10) as r:
            return r.read().decode()

    def audit(self) -> list[dict]:
        with open(self.audit_log, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


def client(service: str, url: str, key: str = "AKIDTEST", secret: str = "not-a-real-secret", verify=None, **config):
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION)
    return session.client(service, endpoint_url=url, verify=verify, config=Config(**config) if config else None)


def post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    """A raw POST (no SDK): (HTTP status, JSON body)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def metric_value(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else r"(?:\{\})?") + r" (\S+)$"
    for line in text.splitlines():
        m = re.match(pattern, line)
        if m:
            return float(m.group(1))
    return 0.0


def now_ms() -> int:
    return int(time.time() * 1000)


def record(host: str, value, ms: int, measure: str = "cpu", **extra) -> dict:
    r = {"Dimensions": [{"Name": "host", "Value": host}], "MeasureName": measure,
         "MeasureValue": str(value), "MeasureValueType": "DOUBLE", "Time": str(ms)}
    r.update(extra)
    return r


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One open server (no credentials) per test module, with its data on disk."""
    tmp = tmp_path_factory.mktemp("serve")
    proc = ServerProcess("--data", str(tmp / "data"), audit_log=str(tmp / "audit.log"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def write(server):
    return client("timestream-write", server.url)


@pytest.fixture(scope="module")
def query(server):
    return client("timestream-query", server.url)


