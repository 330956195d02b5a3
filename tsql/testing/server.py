"""`serve()`: a real `tsql serve` process on a free loopback port, for tests that want
the whole path (HTTP, signing, another process) rather than the in-process mock."""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import fields

import tsql
from tsql.server.faults import Faults

START_SECONDS = 30.0
_LISTENING = re.compile(r"listening on (\S+)")


class TsqlServer:
    """A running `tsql serve`: `endpoint_url` for boto3 clients, `log` its recent output."""

    def __init__(self, process: subprocess.Popen, endpoint_url: str, log: collections.deque):
        self.process = process
        self.endpoint_url = endpoint_url
        self._log = log

    @property
    def log(self) -> str:
        return "".join(self._log)

    def client(self, service: str, **kwargs):
        """A boto3 client for this server (test credentials, us-east-1 unless given)."""
        import boto3

        kwargs.setdefault("region_name", "us-east-1")
        kwargs.setdefault("aws_access_key_id", "tsqltesting")
        kwargs.setdefault("aws_secret_access_key", "tsqltesting")
        return boto3.client(service, endpoint_url=self.endpoint_url, **kwargs)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "TsqlServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(data: str | None = None, *, now=None, faults: Faults | None = None, **fault_options) -> TsqlServer:
    """Start `tsql serve` on 127.0.0.1 and a free port; returns once it listens. `data`:
    a database directory (default: in memory); `now`: freeze its clock; `faults`: a
    `Faults` (or its fields as keywords). Stop it with `.stop()` or a `with` block."""
    if faults is not None and fault_options:
        raise tsql.ValidationError("Give either faults=Faults(...) or fault options, not both.")
    faults = faults if faults is not None else (Faults(**fault_options) if fault_options else None)
    args = [sys.executable, "-c", "import sys; from tsql.cli import main; sys.exit(main())", "serve",
            "--port", "0", "--host", "127.0.0.1", "--audit-log", os.devnull]
    args += ["--data", data] if data else ["--memory"]
    if now is not None:
        args += ["--now", str(now)]
    if faults is not None:
        args += _fault_flags(faults)
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    log: collections.deque = collections.deque(maxlen=200)
    found = threading.Event()
    url: list[str] = []

    def drain():  # read all output, so the server never blocks on a full pipe
        for line in process.stderr:
            log.append(line)
            m = _LISTENING.search(line)
            if m and not found.is_set():
                url.append(m.group(1))
                found.set()
        found.set()

    threading.Thread(target=drain, daemon=True, name="tsql-serve-output").start()
    deadline = time.monotonic() + START_SECONDS
    while not found.wait(0.05):
        if time.monotonic() > deadline:
            process.kill()
            raise tsql.InternalServerError(f"tsql serve did not start in {START_SECONDS:.0f} s:\n{''.join(log)}")
    if not url:
        process.wait()
        raise tsql.InternalServerError(f"tsql serve exited with {process.returncode}:\n{''.join(log)}")
    return TsqlServer(process, url[0], log)


def _fault_flags(faults: Faults) -> list[str]:
    flags = []
    for f in fields(Faults):
        value = getattr(faults, f.name)
        if f.name == "operations":
            if value is not None:
                raise tsql.ValidationError("Faults.operations is not available for a served database.")
            continue
        if value in (None, (), 0, 0.0) and f.name != "seed":
            continue
        name = "fault-seed" if f.name == "seed" else f.name.replace("_", "-")
        if value is None:
            continue
        flags += [f"--{name}", ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return flags
